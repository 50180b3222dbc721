// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfiodev-edu: a user-space driver for QEMU's edu device (1234:11e8), in
 * the shape of a DPDK poll-mode driver, on libvfiodev.
 *
 *   vfiodev-edu [--path auto|cdev|legacy] [--irq] [--rounds N] <BDF>
 *
 * Liveness, the factorial unit, a DMA ring that moves buffers through the
 * IOMMU to the device and back and checks them, and the device's MSI into
 * an eventfd.  Without --irq everything is polled; with it, completions
 * come by MSI.  Each step is printed as it is done.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <vfiodev.h>

/* The edu's BAR0 (QEMU hw/misc/edu.c). */
#define EDU_ID		0x00
#define EDU_LIVENESS	0x04
#define EDU_FACT	0x08
#define EDU_STATUS	0x20
#define  EDU_STATUS_BUSY	0x01
#define  EDU_STATUS_IRQ		0x80
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define  EDU_DMA_RUN		0x1
#define  EDU_DMA_TO_RAM		0x2
#define  EDU_DMA_IRQ		0x4
#define EDU_IRQ_FACT	0x001
#define EDU_IRQ_DMA	0x100
#define EDU_BUF		0x40000	/* the device's DMA buffer */
/* A transfer of the full 4 KiB buffer aborts QEMU 7.2's edu: stay below. */
#define SLOT_LEN	2048
#define NR_SLOTS	8
#define DMA_LIMIT	(256u << 20)	/* edu keeps 28 address bits */
#define POLL_LIMIT	100000		/* 10 s in 100 us steps */

struct edu {
	struct vfiodev_device *dev;
	volatile uint8_t *bar;		/* NULL: register access by read/write */
	bool irq;
};

static int fail(const char *what, int rc)
{
	fprintf(stderr, "edu: error: %s: %s\n", what, strerror(-rc));
	return 1;
}

static void log_stderr(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	fprintf(stderr, "libvfiodev: %s\n", msg);
}

static uint32_t rd32(struct edu *e, unsigned int off)
{
	uint32_t v = ~0u;

	if (e->bar)
		return *(volatile uint32_t *)(e->bar + off);
	vfiodev_region_read(e->dev, VFIODEV_PCI_BAR0, off, &v, sizeof(v));
	return v;
}

static void wr32(struct edu *e, unsigned int off, uint32_t v)
{
	if (e->bar)
		*(volatile uint32_t *)(e->bar + off) = v;
	else
		vfiodev_region_write(e->dev, VFIODEV_PCI_BAR0, off, &v,
				     sizeof(v));
}

static void wr64(struct edu *e, unsigned int off, uint64_t v)
{
	if (e->bar)
		*(volatile uint64_t *)(e->bar + off) = v;
	else
		vfiodev_region_write(e->dev, VFIODEV_PCI_BAR0, off, &v,
				     sizeof(v));
}

static void pause_100us(void)
{
	struct timespec ts = { .tv_nsec = 100000 };

	nanosleep(&ts, NULL);
}

/* Waits for register @off to have @mask clear, polling. */
static int poll_clear(struct edu *e, unsigned int off, uint32_t mask)
{
	unsigned int i;

	for (i = 0; i < POLL_LIMIT; i++) {
		if (!(rd32(e, off) & mask))
			return 0;
		pause_100us();
	}
	return -ETIMEDOUT;
}

/* Waits for the MSI, then checks and acknowledges the cause. */
static int wait_irq(struct edu *e, uint32_t cause)
{
	uint64_t n;
	uint32_t st;
	int rc;

	rc = vfiodev_irq_wait(e->dev, VFIODEV_IRQ_MSI, 0, 10000, &n);
	if (rc)
		return rc;
	st = rd32(e, EDU_IRQ_STATUS);
	wr32(e, EDU_IRQ_ACK, st);
	return (st & cause) ? 0 : -EIO;
}

static int dma(struct edu *e, uint64_t src, uint64_t dst, bool to_ram)
{
	uint32_t cmd = EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0);

	wr64(e, EDU_DMA_SRC, src);
	wr64(e, EDU_DMA_DST, dst);
	wr64(e, EDU_DMA_CNT, SLOT_LEN);
	if (e->irq)
		cmd |= EDU_DMA_IRQ;
	wr32(e, EDU_DMA_CMD, cmd);
	if (e->irq)
		return wait_irq(e, EDU_IRQ_DMA);
	return poll_clear(e, EDU_DMA_CMD, EDU_DMA_RUN);
}

static int step_registers(struct edu *e)
{
	uint32_t id, v;
	int rc;

	id = rd32(e, EDU_ID);
	printf("edu: identification 0x%08x (edu version %u.%u)\n", id,
	       id >> 24, (id >> 16) & 0xff);
	if ((id & 0xffff) != 0x00ed)
		return fail("not an edu", -ENODEV);
	wr32(e, EDU_LIVENESS, 0x12345678);
	v = rd32(e, EDU_LIVENESS);
	printf("edu: liveness: wrote 0x12345678, read 0x%08x\n", v);
	if (v != ~0x12345678u)
		return fail("liveness", -EIO);

	wr32(e, EDU_STATUS, e->irq ? EDU_STATUS_IRQ : 0);
	wr32(e, EDU_FACT, 10);
	rc = e->irq ? wait_irq(e, EDU_IRQ_FACT) :
		      poll_clear(e, EDU_STATUS, EDU_STATUS_BUSY);
	if (rc)
		return fail("factorial", rc);
	v = rd32(e, EDU_FACT);
	printf("edu: factorial of 10 = %u (%s)\n", v,
	       e->irq ? "completion by MSI" : "polled");
	if (v != 3628800)
		return fail("factorial result", -EIO);
	wr32(e, EDU_STATUS, 0);
	return 0;
}

static int step_msi(struct edu *e)
{
	uint64_t n = 0;
	uint32_t st;
	int rc;

	wr32(e, EDU_IRQ_RAISE, 0x5a000000);
	rc = vfiodev_irq_wait(e->dev, VFIODEV_IRQ_MSI, 0, 10000, &n);
	if (rc)
		return fail("waiting for the MSI", rc);
	st = rd32(e, EDU_IRQ_STATUS);
	wr32(e, EDU_IRQ_ACK, st);
	printf("edu: raised interrupt 0x5a000000: eventfd count %llu, status 0x%08x\n",
	       (unsigned long long)n, st);
	return st == 0x5a000000 ? 0 : fail("interrupt status", -EIO);
}

static int step_dma(struct edu *e, struct vfiodev_as *as, unsigned int rounds)
{
	static const char * const backing[] = { "4 KiB pages", "THP",
						"2 MiB hugetlb pages" };
	enum vfiodev_mem_backing b;
	size_t len = 2u << 20, unmapped = 0;
	unsigned int r, s, seed = (unsigned int)time(NULL);
	uint8_t *buf, *src, *dst;
	uint64_t iova;
	int rc;

	rc = vfiodev_mem_alloc(len, 0, (void **)&buf, &b);
	if (rc)
		return fail("DMA memory", rc);
	printf("edu: DMA memory: %zu KiB of %s\n", len >> 10, backing[b]);
	rc = vfiodev_dma_map(as, buf, len, &iova, 0);
	if (rc) {
		vfiodev_mem_free(buf, len);
		return fail("mapping DMA memory", rc);
	}
	printf("edu: mapped at IOVA 0x%llx (chosen by the library)\n",
	       (unsigned long long)iova);
	if (iova + len > DMA_LIMIT) {
		rc = fail("IOVA beyond the edu's 28 bits", -ERANGE);
		goto out_unmap;
	}
	/* Ring: the first half holds the outgoing slots, the second the
	 * returning ones. */
	src = buf;
	dst = buf + NR_SLOTS * SLOT_LEN;
	for (r = 0; r < rounds; r++) {
		for (s = 0; s < NR_SLOTS; s++) {
			uint8_t *out = src + s * SLOT_LEN, *in = dst + s * SLOT_LEN;
			unsigned int i;

			for (i = 0; i < SLOT_LEN; i++)
				out[i] = (uint8_t)(seed + r * 131 + s * 17 + i);
			memset(in, 0, SLOT_LEN);
			rc = dma(e, iova + (uint64_t)(out - buf), EDU_BUF, false);
			if (rc) {
				fail("DMA to the device", rc);
				goto out_unmap;
			}
			rc = dma(e, EDU_BUF, iova + (uint64_t)(in - buf), true);
			if (rc) {
				fail("DMA to memory", rc);
				goto out_unmap;
			}
			if (memcmp(out, in, SLOT_LEN)) {
				rc = fail("the data came back changed", -EIO);
				goto out_unmap;
			}
		}
		printf("edu: DMA ring round %u: %u slots of %u bytes to the device and back, verified (%s)\n",
		       r + 1, NR_SLOTS, SLOT_LEN,
		       e->irq ? "completions by MSI" : "polled");
	}
	rc = 0;
out_unmap:
	{
		int urc = vfiodev_dma_unmap(as, iova, len, 0, &unmapped);

		if (urc || unmapped != len)
			rc = fail("unmapping", urc ? urc : -EIO);
		else
			printf("edu: unmapped %zu KiB\n", unmapped >> 10);
	}
	vfiodev_mem_free(buf, len);
	return rc ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vfiodev-edu [--path auto|cdev|legacy] [--irq] [--rounds N] <BDF>\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "irq", no_argument, NULL, 'i' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum vfiodev_path policy = VFIODEV_PATH_AUTO;
	struct vfiodev_region_info ri;
	enum vfiodev_reason reason;
	enum vfiodev_path path;
	struct vfiodev_ctx *ctx;
	struct vfiodev_as *as;
	struct edu e = { 0 };
	unsigned int rounds = 4;
	uint16_t cmd;
	void *bar;
	int c, rc, ret = 1;

	while ((c = getopt_long(argc, argv, "p:ir:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!strcmp(optarg, "auto"))
				policy = VFIODEV_PATH_AUTO;
			else if (!strcmp(optarg, "cdev"))
				policy = VFIODEV_PATH_CDEV;
			else if (!strcmp(optarg, "legacy"))
				policy = VFIODEV_PATH_LEGACY;
			else {
				usage(stderr);
				return 2;
			}
			break;
		case 'i':
			e.irq = true;
			break;
		case 'r':
			rounds = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !rounds) {
		usage(stderr);
		return 2;
	}

	rc = vfiodev_ctx_create(0, &ctx);
	if (rc)
		return fail("context", rc);
	vfiodev_ctx_set_log(ctx, log_stderr, NULL, VFIODEV_LOG_ERR);
	vfiodev_ctx_set_path(ctx, policy);
	printf("edu: context with path policy %s\n", vfiodev_path_str(policy));
	rc = vfiodev_as_create(ctx, &as);
	if (rc) {
		fail("address space", rc);
		goto out_ctx;
	}
	rc = vfiodev_device_open(as, argv[optind], &e.dev);
	if (rc) {
		fail(argv[optind], rc);
		goto out_as;
	}
	path = vfiodev_device_path(e.dev, &reason);
	printf("edu: %s opened on the %s path: %s\n", argv[optind],
	       vfiodev_path_str(path), vfiodev_reason_str(reason));

	rc = vfiodev_region_get_info(e.dev, VFIODEV_PCI_BAR0, &ri, sizeof(ri));
	if (rc) {
		fail("BAR0", rc);
		goto out_dev;
	}
	rc = vfiodev_region_mmap(e.dev, VFIODEV_PCI_BAR0, PROT_READ | PROT_WRITE,
				 &bar);
	if (!rc) {
		e.bar = bar;
		printf("edu: BAR0 (%llu KiB) mapped into the process\n",
		       (unsigned long long)ri.size >> 10);
	} else if (rc == -EOPNOTSUPP) {
		printf("edu: BAR0 (%llu KiB) is trapped by the driver: registers by read/write\n",
		       (unsigned long long)ri.size >> 10);
	} else {
		fail("mapping BAR0", rc);
		goto out_dev;
	}
	/* Memory decoding and bus mastering: without it DMA goes nowhere. */
	rc = vfiodev_config_read(e.dev, 4, &cmd, sizeof(cmd));
	if (!rc) {
		cmd |= 0x6;
		rc = vfiodev_config_write(e.dev, 4, &cmd, sizeof(cmd));
	}
	if (rc) {
		fail("PCI command register", rc);
		goto out_dev;
	}
	printf("edu: memory decoding and bus mastering on\n");
	rc = vfiodev_irq_enable(e.dev, VFIODEV_IRQ_MSI, 1, NULL);
	if (rc) {
		fail("enabling MSI", rc);
		goto out_dev;
	}
	printf("edu: MSI routed to eventfd %d\n",
	       vfiodev_irq_fd(e.dev, VFIODEV_IRQ_MSI, 0));

	if (step_registers(&e) || step_msi(&e) || step_dma(&e, as, rounds))
		goto out_dev;
	rc = vfiodev_device_reset(e.dev);
	printf("edu: reset: %s\n", rc ? strerror(-rc) : "done");
	ret = rc && rc != -EOPNOTSUPP;
out_dev:
	vfiodev_device_close(e.dev);
out_as:
	vfiodev_as_destroy(as);
out_ctx:
	vfiodev_ctx_destroy(ctx);
	printf("edu: %s\n", ret ? "FAILED" : "all steps done");
	return ret;
}
