// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfiodev-nvme: a small user-space NVMe driver on libvfiodev.
 *
 *   vfiodev-nvme [--path auto|cdev|legacy] [--irq] [--blocks N] [--reads N] <BDF>
 *
 * It takes an NVMe controller bound to vfio-pci, brings it up with one admin
 * queue pair and one I/O queue pair in memory it maps for DMA, writes N
 * blocks (default 8) of a pattern with a per-run seed at LBA 0 of the first
 * active namespace, reads them back into a second buffer and compares the
 * two.  Every step is printed as it is taken.  With --irq, the I/O
 * completion queue signals MSI-X vector 0 and the I/O commands wait for the
 * interrupt; otherwise, and for every admin command, the completion queues
 * are polled.  With --reads N, it then reads 4 KiB N times, one command at
 * a time, over the blocks it wrote, checks the last one, and prints the
 * rate (what `make bench` reports as the end-to-end figure).
 *
 * This is an example, not a driver to keep data on: one command in flight
 * at a time, 4 KiB controller pages, no metadata, no error recovery.  The
 * data at the start of the namespace is overwritten.
 *
 * Exit status: 0 on success, 1 on any failure, 2 on a usage error.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <vfiodev.h>

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)		((a) < (b) ? (a) : (b))

/* PCI configuration space. */
#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	(1u << 1)
#define PCI_COMMAND_MASTER	(1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_CLASS_REVISION	0x08
#define PCI_CLASS_NVME		0x010802	/* mass storage, NVM, NVMe */

/* Controller registers in BAR0. */
#define NVME_REG_CAP		0x00	/* capabilities, 64 bit */
#define NVME_REG_VS		0x08	/* version */
#define NVME_REG_CC		0x14	/* configuration */
#define NVME_REG_CSTS		0x1c	/* status */
#define NVME_REG_AQA		0x24	/* admin queue attributes */
#define NVME_REG_ASQ		0x28	/* admin SQ base, 64 bit */
#define NVME_REG_ACQ		0x30	/* admin CQ base, 64 bit */
#define NVME_REG_DBS		0x1000	/* first doorbell */

#define NVME_CAP_MQES(cap)	((unsigned int)((cap) & 0xffff))
#define NVME_CAP_CQR(cap)	((unsigned int)((cap) >> 16) & 0x1)
#define NVME_CAP_TO(cap)	((unsigned int)((cap) >> 24) & 0xff)
#define NVME_CAP_DSTRD(cap)	((unsigned int)((cap) >> 32) & 0xf)
#define NVME_CAP_CSS(cap)	((unsigned int)((cap) >> 37) & 0xff)
#define NVME_CAP_MPSMIN(cap)	((unsigned int)((cap) >> 48) & 0xf)
#define NVME_CAP_MPSMAX(cap)	((unsigned int)((cap) >> 52) & 0xf)
#define NVME_CAP_CSS_NVM	(1u << 0)

#define NVME_CC_EN		(1u << 0)
#define NVME_CC_CSS_NVM		(0u << 4)
#define NVME_CC_MPS_4K		(0u << 7)
#define NVME_CC_AMS_RR		(0u << 11)
#define NVME_CC_IOSQES(log2)	((uint32_t)(log2) << 16)
#define NVME_CC_IOCQES(log2)	((uint32_t)(log2) << 20)

#define NVME_CSTS_RDY		(1u << 0)
#define NVME_CSTS_CFS		(1u << 1)

/* Admin command opcodes. */
#define NVME_ADMIN_DELETE_SQ	0x00
#define NVME_ADMIN_CREATE_SQ	0x01
#define NVME_ADMIN_DELETE_CQ	0x04
#define NVME_ADMIN_CREATE_CQ	0x05
#define NVME_ADMIN_IDENTIFY	0x06
#define NVME_ADMIN_SET_FEATURES	0x09

/* NVM command opcodes. */
#define NVME_CMD_WRITE		0x01
#define NVME_CMD_READ		0x02

#define NVME_ID_CNS_NS		0x00
#define NVME_ID_CNS_CTRL	0x01
#define NVME_ID_CNS_NS_ACTIVE	0x02

#define NVME_FEAT_NUM_QUEUES	0x07

/* Create I/O CQ / SQ, command dword 11. */
#define NVME_QUEUE_PHYS_CONTIG	(1u << 0)
#define NVME_CQ_IRQ_ENABLED	(1u << 1)
#define NVME_CQ_IV(vector)	((uint32_t)(vector) << 16)

/* The controller's memory page: CC.MPS = 0. */
#define NVME_PAGE_SHIFT		12
#define NVME_PAGE_SIZE		(1u << NVME_PAGE_SHIFT)

#define NVME_SQES_LOG2		6	/* 64-byte submission entries */
#define NVME_CQES_LOG2		4	/* 16-byte completion entries */

/* A submission queue entry. */
struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;		/* FUSE, PSDT: 0, PRPs */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

/* A completion queue entry. */
struct nvme_cqe {
	uint32_t result;
	uint32_t rsvd;
	uint16_t sq_head;
	uint16_t sq_id;
	uint16_t cid;
	uint16_t status;	/* bit 0: phase tag */
};

_Static_assert(sizeof(struct nvme_sqe) == 1u << NVME_SQES_LOG2, "SQE size");
_Static_assert(sizeof(struct nvme_cqe) == 1u << NVME_CQES_LOG2, "CQE size");

/* The status field of a completion, without the phase tag. */
#define NVME_STATUS_SC(st)	(((st) >> 1) & 0xff)
#define NVME_STATUS_SCT(st)	(((st) >> 9) & 0x7)
#define NVME_STATUS_MORE	(1u << 14)
#define NVME_STATUS_DNR		(1u << 15)

/*
 * The DMA memory: one 2 MiB allocation, mapped once, carved into the queues,
 * an Identify buffer, one PRP list page and the two data buffers.
 */
#define MEM_SIZE		(2u << 20)
#define MEM_ASQ			0x0000
#define MEM_ACQ			0x1000
#define MEM_IOSQ		0x2000
#define MEM_IOCQ		0x3000
#define MEM_IDENTIFY		0x4000
#define MEM_PRP_LIST		0x5000
#define MEM_WBUF		0x10000
#define BUF_SIZE		((MEM_SIZE - MEM_WBUF) / 2)
#define MEM_RBUF		(MEM_WBUF + BUF_SIZE)

#define QUEUE_DEPTH		64	/* entries; one page for either SQ */
#define PRP_LIST_ENTRIES	(NVME_PAGE_SIZE / sizeof(uint64_t))
#define MAX_NLB			65536	/* NLB is a 16-bit, 0's based field */
#define MAX_BLOCKS		(BUF_SIZE / 512)	/* of the smallest size */

/*
 * Waiting for completions.  A polled queue is checked POLL_SPIN times
 * back to back, then every POLL_SLEEP_US, at most POLL_SLEEPS times: at
 * least 10 s whatever the clock says.  An interrupt-driven queue waits for
 * MSI-X vector 0 IRQ_TIMEOUT_MS at a time, for at most IRQ_WAKEUPS wakeups
 * (the admin queue shares the vector, so a wakeup may not be ours).
 */
#define POLL_SPIN		1000
#define POLL_SLEEP_US		100
#define POLL_SLEEPS		100000
#define IRQ_TIMEOUT_MS		5000
#define IRQ_WAKEUPS		4

/* CSTS.RDY is polled every millisecond, for CAP.TO (500 ms units). */
#define READY_POLL_MS		1

struct nvme_queue {
	const char *name;
	uint16_t qid;
	uint16_t depth;
	struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	uint64_t sq_iova;
	uint64_t cq_iova;
	uint32_t sq_db;		/* doorbell offsets in BAR0 */
	uint32_t cq_db;
	uint16_t sq_tail;
	uint16_t sq_head;	/* as the last completion reported it */
	uint16_t cq_head;
	uint16_t phase;		/* the phase tag of new completions */
	uint16_t next_cid;
	bool irq;		/* completions signal MSI-X vector 0 */
};

struct nvme {
	struct vfiodev_ctx *ctx;
	struct vfiodev_as *as;
	struct vfiodev_device *dev;

	/* BAR0 mapped into the process, or NULL: through the device file. */
	volatile uint8_t *bar;
	uint64_t bar_size;
	uint16_t pci_cmd;	/* the PCI command register as we set it */
	bool pci_on;

	uint64_t cap;
	uint32_t vs;
	unsigned int timeout_ms;	/* CAP.TO */
	bool enabled;		/* CC.EN written as 1 */

	void *mem;
	uint64_t iova;
	bool mapped;
	uint8_t *identify;
	uint64_t *prp_list;
	uint8_t *wbuf;
	uint8_t *rbuf;

	struct nvme_queue adminq;
	struct nvme_queue ioq;
	bool ioq_cq;		/* the I/O CQ exists on the controller */
	bool ioq_sq;
	bool irq_on;		/* MSI-X enabled through VFIO */

	uint32_t nsid;
	uint64_t ns_blocks;
	uint32_t lba_size;
	uint32_t max_xfer;	/* bytes per command */
};

struct options {
	enum vfiodev_path path;
	bool irq;
	unsigned long blocks;
	unsigned long reads;
	const char *bdf;
};

static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step(const char *fmt, ...)
{
	va_list ap;

	fputs("nvme: step: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Prints "nvme: error: <what>: <strerror>" and returns @rc. */
static int fail(int rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(int rc, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("nvme: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(-rc));
	return rc;
}

static void log_cb(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	fflush(stdout);
	fprintf(stderr, "libvfiodev: %s\n", msg);
}

static void sleep_us(unsigned long us)
{
	struct timespec ts = {
		.tv_sec = us / 1000000,
		.tv_nsec = (long)(us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t iova_of(const struct nvme *n, const void *p)
{
	return n->iova + (uint64_t)((const uint8_t *)p - (uint8_t *)n->mem);
}

/*
 * Register access: loads and stores on the BAR mapping when there is one,
 * else reads and writes of the device file.  Registers are little endian;
 * 64-bit registers are accessed as two 32-bit halves, low half first.  A
 * failed access is reported here.
 */
static int reg_read32(struct nvme *n, uint32_t off, uint32_t *val)
{
	uint32_t v;
	int rc;

	if (n->bar) {
		v = *(volatile uint32_t *)(n->bar + off);
	} else {
		rc = vfiodev_region_read(n->dev, VFIODEV_PCI_BAR0, off, &v,
					 sizeof(v));
		if (rc)
			return fail(rc, "reading BAR0 at 0x%x", off);
	}
	*val = le32toh(v);
	return 0;
}

static int reg_write32(struct nvme *n, uint32_t off, uint32_t val)
{
	uint32_t v = htole32(val);
	int rc;

	if (n->bar) {
		*(volatile uint32_t *)(n->bar + off) = v;
		return 0;
	}
	rc = vfiodev_region_write(n->dev, VFIODEV_PCI_BAR0, off, &v, sizeof(v));
	if (rc)
		return fail(rc, "writing 0x%x to BAR0 at 0x%x", val, off);
	return 0;
}

static int reg_read64(struct nvme *n, uint32_t off, uint64_t *val)
{
	uint32_t lo, hi;
	int rc;

	rc = reg_read32(n, off, &lo);
	if (!rc)
		rc = reg_read32(n, off + 4, &hi);
	if (!rc)
		*val = (uint64_t)hi << 32 | lo;
	return rc;
}

static int reg_write64(struct nvme *n, uint32_t off, uint64_t val)
{
	return reg_write32(n, off, (uint32_t)val) ?:
	       reg_write32(n, off + 4, (uint32_t)(val >> 32));
}

/*
 * Waits until CSTS.RDY equals @ready, polling every READY_POLL_MS for CAP.TO.
 * CSTS.CFS fails the wait for ready.
 */
static int wait_ready(struct nvme *n, bool ready)
{
	unsigned int i, polls = n->timeout_ms / READY_POLL_MS;
	uint32_t csts = 0;
	int rc;

	for (i = 0; i <= polls; i++) {
		rc = reg_read32(n, NVME_REG_CSTS, &csts);
		if (rc)
			return rc;
		if (csts == 0xffffffff)
			return fail(-ENODEV, "CSTS reads all ones");
		if (ready && (csts & NVME_CSTS_CFS))
			return fail(-EIO, "controller fatal status (CSTS 0x%x) while enabling",
				    csts);
		if (!!(csts & NVME_CSTS_RDY) == ready) {
			printf("nvme: CSTS.RDY = %d after %u polls (CSTS 0x%x)\n",
			       ready, i, csts);
			return 0;
		}
		sleep_us(READY_POLL_MS * 1000);
	}
	return fail(-ETIMEDOUT, "CSTS.RDY still %d after CAP.TO = %u ms (CSTS 0x%x)",
		    !ready, n->timeout_ms, csts);
}

/* Clears CC.EN and waits for CSTS.RDY = 0. */
static int nvme_disable(struct nvme *n)
{
	uint32_t cc;
	int rc;

	rc = reg_read32(n, NVME_REG_CC, &cc);
	if (rc)
		return rc;
	step("disable the controller (CC 0x%08x -> 0x%08x), wait for CSTS.RDY = 0",
	     cc, cc & ~NVME_CC_EN);
	if (cc & NVME_CC_EN) {
		rc = reg_write32(n, NVME_REG_CC, cc & ~NVME_CC_EN);
		if (rc)
			return rc;
	}
	rc = wait_ready(n, false);
	if (!rc)
		n->enabled = false;
	return rc;
}

static const char *status_str(unsigned int sct, unsigned int sc)
{
	static const struct {
		uint8_t sct, sc;
		const char *str;
	} tab[] = {
		{ 0, 0x00, "Successful Completion" },
		{ 0, 0x01, "Invalid Command Opcode" },
		{ 0, 0x02, "Invalid Field in Command" },
		{ 0, 0x03, "Command ID Conflict" },
		{ 0, 0x04, "Data Transfer Error" },
		{ 0, 0x05, "Commands Aborted due to Power Loss Notification" },
		{ 0, 0x06, "Internal Error" },
		{ 0, 0x07, "Command Abort Requested" },
		{ 0, 0x08, "Command Aborted due to SQ Deletion" },
		{ 0, 0x0b, "Invalid Namespace or Format" },
		{ 0, 0x0d, "Invalid SGL Segment Descriptor" },
		{ 0, 0x13, "Invalid PRP Offset" },
		{ 0, 0x80, "LBA Out of Range" },
		{ 0, 0x81, "Capacity Exceeded" },
		{ 0, 0x82, "Namespace Not Ready" },
		{ 1, 0x00, "Completion Queue Invalid" },
		{ 1, 0x01, "Invalid Queue Identifier" },
		{ 1, 0x02, "Invalid Queue Size" },
		{ 1, 0x08, "Invalid Interrupt Vector" },
		{ 1, 0x0c, "Invalid Queue Deletion" },
		{ 1, 0x0d, "Feature Identifier Not Saveable" },
		{ 2, 0x80, "Write Fault" },
		{ 2, 0x81, "Unrecovered Read Error" },
		{ 2, 0x86, "Access Denied" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tab); i++) {
		if (tab[i].sct == sct && tab[i].sc == sc)
			return tab[i].str;
	}
	return "unknown status";
}

static void queue_init(struct nvme *n, struct nvme_queue *q, const char *name,
		       uint16_t qid, uint16_t depth, size_t sq_off,
		       size_t cq_off, bool irq)
{
	unsigned int stride = 4u << NVME_CAP_DSTRD(n->cap);

	memset(q, 0, sizeof(*q));
	q->name = name;
	q->qid = qid;
	q->depth = depth;
	q->sq = (struct nvme_sqe *)((uint8_t *)n->mem + sq_off);
	q->cq = (volatile struct nvme_cqe *)((uint8_t *)n->mem + cq_off);
	q->sq_iova = n->iova + sq_off;
	q->cq_iova = n->iova + cq_off;
	q->sq_db = NVME_REG_DBS + (2 * qid) * stride;
	q->cq_db = NVME_REG_DBS + (2 * qid + 1) * stride;
	q->phase = 1;
	q->irq = irq;
	memset(q->sq, 0, (size_t)depth * sizeof(struct nvme_sqe));
	memset((void *)q->cq, 0, (size_t)depth * sizeof(struct nvme_cqe));
}

/* Copies the completion at the head of @q into @cqe if there is a new one. */
static bool cq_peek(struct nvme_queue *q, struct nvme_cqe *cqe)
{
	volatile struct nvme_cqe *e = &q->cq[q->cq_head];
	uint16_t status = le16toh(e->status);

	if ((status & 1) != q->phase)
		return false;
	/* The rest of the entry is read after its phase tag. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	cqe->result = le32toh(e->result);
	cqe->rsvd = 0;
	cqe->sq_head = le16toh(e->sq_head);
	cqe->sq_id = le16toh(e->sq_id);
	cqe->cid = le16toh(e->cid);
	cqe->status = status;
	return true;
}

/* Consumes the completion at the head of @q and rings its head doorbell. */
static int cq_pop(struct nvme *n, struct nvme_queue *q)
{
	if (++q->cq_head == q->depth) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	return reg_write32(n, q->cq_db, q->cq_head);
}

/* Puts @cmd at the tail of @q and rings its tail doorbell. */
static int sq_push(struct nvme *n, struct nvme_queue *q, struct nvme_sqe *cmd,
		   uint16_t *cid)
{
	uint16_t tail = (uint16_t)((q->sq_tail + 1) % q->depth);

	if (tail == q->sq_head)
		return fail(-EBUSY, "%s: submission queue full", q->name);
	/* Command identifier 0xffff means "none" in places: skip it. */
	*cid = q->next_cid;
	q->next_cid = q->next_cid == 0xfffe ? 0 : q->next_cid + 1;
	cmd->cid = htole16(*cid);
	q->sq[q->sq_tail] = *cmd;
	q->sq_tail = tail;
	/* The entry is in memory before the controller hears of it. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return reg_write32(n, q->sq_db, q->sq_tail);
}

static int poll_cq(struct nvme_queue *q, struct nvme_cqe *cqe,
		   const char *what)
{
	double start = now_s();
	unsigned int i;

	for (i = 0; i < POLL_SPIN; i++) {
		if (cq_peek(q, cqe))
			return 0;
	}
	for (i = 0; i < POLL_SLEEPS; i++) {
		sleep_us(POLL_SLEEP_US);
		if (cq_peek(q, cqe))
			return 0;
	}
	return fail(-ETIMEDOUT, "%s: no completion on the %s after %u polls (%.1f s)",
		    what, q->name, POLL_SPIN + POLL_SLEEPS, now_s() - start);
}

static int wait_irq_cq(struct nvme *n, struct nvme_queue *q,
		       struct nvme_cqe *cqe, const char *what)
{
	uint64_t count = 0, total = 0;
	unsigned int i;
	int rc;

	for (i = 0; i < IRQ_WAKEUPS; i++) {
		rc = vfiodev_irq_wait(n->dev, VFIODEV_IRQ_MSIX, 0,
				      IRQ_TIMEOUT_MS, &count);
		if (rc)
			return fail(rc, "%s: waiting %d ms for MSI-X vector 0",
				    what, IRQ_TIMEOUT_MS);
		total += count;
		if (cq_peek(q, cqe)) {
			printf("nvme: %s: completion came by MSI-X vector 0 (%" PRIu64 " interrupt%s)\n",
			       what, total, total == 1 ? "" : "s");
			return 0;
		}
	}
	return fail(-EPROTO, "%s: %" PRIu64 " MSI-X interrupts but no completion on the %s",
		    what, total, q->name);
}

/*
 * Runs one command on @q and waits for its completion: the only command in
 * flight.  A completion with an error status is printed and gives -EIO.
 */
static int nvme_exec(struct nvme *n, struct nvme_queue *q,
		     struct nvme_sqe *cmd, uint32_t *result, const char *what)
{
	struct nvme_cqe cqe = { 0 };
	unsigned int sct, sc;
	uint16_t cid = 0;
	int rc;

	if (q->irq) {
		/*
		 * Forget the interrupts of earlier completions, the admin
		 * queue's included: the next one is for this command.
		 */
		rc = vfiodev_irq_wait(n->dev, VFIODEV_IRQ_MSIX, 0, 0, NULL);
		if (rc && rc != -ETIMEDOUT)
			return fail(rc, "%s: clearing MSI-X vector 0", what);
	}
	rc = sq_push(n, q, cmd, &cid);
	if (rc)
		return rc;
	rc = q->irq ? wait_irq_cq(n, q, &cqe, what) : poll_cq(q, &cqe, what);
	if (rc)
		return rc;
	rc = cq_pop(n, q);
	if (rc)
		return rc;
	q->sq_head = cqe.sq_head;
	if (cqe.cid != cid || cqe.sq_id != q->qid)
		return fail(-EPROTO, "%s: completion for SQ %u command %u, expected SQ %u command %u",
			    what, cqe.sq_id, cqe.cid, q->qid, cid);
	sct = NVME_STATUS_SCT(cqe.status);
	sc = NVME_STATUS_SC(cqe.status);
	if (sct || sc) {
		fflush(stdout);
		fprintf(stderr, "nvme: %s failed: status SCT 0x%x SC 0x%02x (%s)%s%s\n",
			what, sct, sc, status_str(sct, sc),
			cqe.status & NVME_STATUS_DNR ? ", do not retry" : "",
			cqe.status & NVME_STATUS_MORE ? ", more in the log" : "");
		return fail(-EIO, "%s", what);
	}
	if (result)
		*result = cqe.result;
	return 0;
}

static int admin(struct nvme *n, struct nvme_sqe *cmd, uint32_t *result,
		 const char *what)
{
	return nvme_exec(n, &n->adminq, cmd, result, what);
}

static int parse_path(const char *s, enum vfiodev_path *path)
{
	if (!strcmp(s, "auto"))
		*path = VFIODEV_PATH_AUTO;
	else if (!strcmp(s, "cdev"))
		*path = VFIODEV_PATH_CDEV;
	else if (!strcmp(s, "legacy"))
		*path = VFIODEV_PATH_LEGACY;
	else
		return -EINVAL;
	return 0;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--path auto|cdev|legacy] [--irq] [--blocks N] [--reads N] <BDF>\n"
		"\n"
		"Write N blocks (default 8) at LBA 0 of the first namespace of the\n"
		"NVMe controller at <BDF>, bound to vfio-pci, read them back and\n"
		"compare.  The data on the blocks is lost.\n"
		"\n"
		"  --path P    the VFIO path: auto (default), cdev or legacy\n"
		"  --irq       I/O completions by MSI-X instead of polling\n"
		"  --blocks N  how many blocks to write and read\n"
		"  --reads N   then N reads of 4 KiB, one at a time, and their rate\n",
		prog);
}

/* Returns 0, or the exit status: 2 for a usage error, 0 after --help. */
static int parse_args(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "irq", no_argument, NULL, 'i' },
		{ "blocks", required_argument, NULL, 'b' },
		{ "reads", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	opt->path = VFIODEV_PATH_AUTO;
	opt->irq = false;
	opt->blocks = 8;
	opt->reads = 0;
	while ((c = getopt_long(argc, argv, "p:ib:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_path(optarg, &opt->path)) {
				fprintf(stderr, "%s: --path: auto, cdev or legacy, not '%s'\n",
					argv[0], optarg);
				return 2;
			}
			break;
		case 'i':
			opt->irq = true;
			break;
		case 'b':
			errno = 0;
			opt->blocks = strtoul(optarg, &end, 0);
			if (errno || end == optarg || *end || !opt->blocks ||
			    opt->blocks > MAX_BLOCKS || optarg[0] == '-') {
				fprintf(stderr, "%s: --blocks: a number from 1 to %u, not '%s'\n",
					argv[0], MAX_BLOCKS, optarg);
				return 2;
			}
			break;
		case 'r':
			errno = 0;
			opt->reads = strtoul(optarg, &end, 0);
			if (errno || end == optarg || *end || !opt->reads ||
			    opt->reads > 100000000 || optarg[0] == '-') {
				fprintf(stderr, "%s: --reads: a number from 1 to 100000000, not '%s'\n",
					argv[0], optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout, argv[0]);
			return -1;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr, argv[0]);
		return 2;
	}
	opt->bdf = argv[optind];
	return 0;
}

static int open_device(struct nvme *n, const struct options *opt)
{
	enum vfiodev_reason reason;
	enum vfiodev_path path;
	int rc;

	step("create the library context and an address space, path policy %s",
	     vfiodev_path_str(opt->path));
	rc = vfiodev_ctx_create(0, &n->ctx);
	if (rc)
		return fail(rc, "vfiodev_ctx_create");
	rc = vfiodev_ctx_set_log(n->ctx, log_cb, NULL, VFIODEV_LOG_INFO);
	if (rc)
		return fail(rc, "vfiodev_ctx_set_log");
	rc = vfiodev_ctx_set_path(n->ctx, opt->path);
	if (rc)
		return fail(rc, "vfiodev_ctx_set_path(%s)",
			    vfiodev_path_str(opt->path));
	rc = vfiodev_as_create(n->ctx, &n->as);
	if (rc)
		return fail(rc, "vfiodev_as_create");

	step("open %s", opt->bdf);
	rc = vfiodev_device_open(n->as, opt->bdf, &n->dev);
	if (rc)
		return fail(rc, "vfiodev_device_open(%s)", opt->bdf);
	path = vfiodev_device_path(n->dev, &reason);
	printf("nvme: %s: path %s: %s\n", opt->bdf, vfiodev_path_str(path),
	       vfiodev_reason_str(reason));
	return 0;
}

/* Checks that this is an NVMe controller; turns on MMIO and bus mastering. */
static int enable_pci(struct nvme *n)
{
	uint32_t class_rev;
	uint16_t cmd;
	int rc;

	rc = vfiodev_config_read(n->dev, PCI_CLASS_REVISION, &class_rev,
				 sizeof(class_rev));
	if (rc)
		return fail(rc, "reading the PCI class code");
	class_rev = le32toh(class_rev);
	if (class_rev >> 8 != PCI_CLASS_NVME)
		return fail(-ENODEV, "class code 0x%06x is not an NVMe controller's (0x%06x)",
			    class_rev >> 8, PCI_CLASS_NVME);

	rc = vfiodev_config_read(n->dev, PCI_COMMAND, &cmd, sizeof(cmd));
	if (rc)
		return fail(rc, "reading the PCI command register");
	cmd = le16toh(cmd);
	/* MSI-X or polling: the pin interrupt is never wanted. */
	n->pci_cmd = cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		     PCI_COMMAND_INTX_DISABLE;
	step("enable memory space and bus mastering (PCI command 0x%04x -> 0x%04x)",
	     cmd, n->pci_cmd);
	cmd = htole16(n->pci_cmd);
	rc = vfiodev_config_write(n->dev, PCI_COMMAND, &cmd, sizeof(cmd));
	if (rc)
		return fail(rc, "writing the PCI command register");
	n->pci_on = true;
	return 0;
}

static int map_bar(struct nvme *n)
{
	struct vfiodev_region_info ri;
	void *addr;
	int rc;

	rc = vfiodev_region_get_info(n->dev, VFIODEV_PCI_BAR0, &ri, sizeof(ri));
	if (rc)
		return fail(rc, "BAR0 region info");
	if (ri.size < NVME_REG_DBS + 8)
		return fail(-ENODEV, "BAR0 is only 0x%" PRIx64 " bytes",
			    ri.size);
	n->bar_size = ri.size;
	rc = vfiodev_region_mmap(n->dev, VFIODEV_PCI_BAR0,
				 PROT_READ | PROT_WRITE, &addr);
	if (rc == -EOPNOTSUPP) {
		step("map BAR0 (0x%" PRIx64 " bytes): not mappable, register access by read/write of the device file",
		     ri.size);
		return 0;
	}
	if (rc)
		return fail(rc, "mapping BAR0");
	n->bar = addr;
	step("map BAR0 (0x%" PRIx64 " bytes): register access by mmap", ri.size);
	return 0;
}

static int read_cap(struct nvme *n)
{
	unsigned int to;
	int rc;

	step("read CAP and VS");
	rc = reg_read64(n, NVME_REG_CAP, &n->cap);
	if (!rc)
		rc = reg_read32(n, NVME_REG_VS, &n->vs);
	if (rc)
		return rc;
	if (n->cap == UINT64_MAX)
		return fail(-ENODEV, "CAP reads all ones");
	to = NVME_CAP_TO(n->cap);
	n->timeout_ms = (to ? to : 1) * 500;
	printf("nvme: CAP 0x%016" PRIx64 ": MQES %u, CQR %u, TO %u ms, DSTRD %u, CSS 0x%02x, MPSMIN %u KiB, MPSMAX %u KiB\n",
	       n->cap, NVME_CAP_MQES(n->cap) + 1, NVME_CAP_CQR(n->cap),
	       to * 500, NVME_CAP_DSTRD(n->cap), NVME_CAP_CSS(n->cap),
	       4u << NVME_CAP_MPSMIN(n->cap), 4u << NVME_CAP_MPSMAX(n->cap));
	printf("nvme: VS 0x%08x: NVMe %u.%u.%u\n", n->vs, n->vs >> 16,
	       (n->vs >> 8) & 0xff, n->vs & 0xff);

	if (NVME_CAP_MPSMIN(n->cap) != 0)
		return fail(-EOPNOTSUPP, "the controller's pages are at least %u KiB, this example knows 4 KiB",
			    4u << NVME_CAP_MPSMIN(n->cap));
	if (!(NVME_CAP_CSS(n->cap) & NVME_CAP_CSS_NVM))
		return fail(-EOPNOTSUPP, "no NVM command set (CAP.CSS 0x%02x)",
			    NVME_CAP_CSS(n->cap));
	if (NVME_REG_DBS + 4 * (4u << NVME_CAP_DSTRD(n->cap)) > n->bar_size)
		return fail(-ENODEV, "the doorbells of queue 1 lie beyond BAR0");
	return 0;
}

static int setup_memory(struct nvme *n)
{
	enum vfiodev_mem_backing backing;
	static const char *const names[] = {
		[VFIODEV_MEM_4K] = "4 KiB pages",
		[VFIODEV_MEM_THP] = "transparent huge pages (asked for)",
		[VFIODEV_MEM_HUGETLB_2M] = "2 MiB hugetlb pages",
	};
	int rc;

	step("allocate %u KiB of DMA memory for the queues and buffers",
	     MEM_SIZE >> 10);
	rc = vfiodev_mem_alloc(MEM_SIZE, 0, &n->mem, &backing);
	if (rc)
		return fail(rc, "vfiodev_mem_alloc(%u)", MEM_SIZE);
	printf("nvme: memory at %p, backed by %s\n", n->mem,
	       (unsigned int)backing < ARRAY_SIZE(names) && names[backing] ?
	       names[backing] : "something unknown");

	step("map it for DMA at an IOVA the library picks");
	rc = vfiodev_dma_map(n->as, n->mem, MEM_SIZE, &n->iova, 0);
	if (rc)
		return fail(rc, "vfiodev_dma_map(%u bytes)", MEM_SIZE);
	n->mapped = true;
	printf("nvme: IOVA 0x%" PRIx64 " - 0x%" PRIx64 "\n", n->iova,
	       n->iova + MEM_SIZE - 1);

	n->identify = (uint8_t *)n->mem + MEM_IDENTIFY;
	n->prp_list = (uint64_t *)((uint8_t *)n->mem + MEM_PRP_LIST);
	n->wbuf = (uint8_t *)n->mem + MEM_WBUF;
	n->rbuf = (uint8_t *)n->mem + MEM_RBUF;
	return 0;
}

static int enable_controller(struct nvme *n)
{
	uint16_t depth = MIN(QUEUE_DEPTH, NVME_CAP_MQES(n->cap) + 1);
	uint32_t cc;
	int rc;

	queue_init(n, &n->adminq, "admin queue", 0, depth, MEM_ASQ, MEM_ACQ,
		   false);
	step("program the admin queues: %u entries, ASQ 0x%" PRIx64 ", ACQ 0x%" PRIx64,
	     depth, n->adminq.sq_iova, n->adminq.cq_iova);
	rc = reg_write32(n, NVME_REG_AQA,
			 (uint32_t)(depth - 1) << 16 | (depth - 1));
	if (!rc)
		rc = reg_write64(n, NVME_REG_ASQ, n->adminq.sq_iova);
	if (!rc)
		rc = reg_write64(n, NVME_REG_ACQ, n->adminq.cq_iova);
	if (rc)
		return rc;

	cc = NVME_CC_CSS_NVM | NVME_CC_MPS_4K | NVME_CC_AMS_RR |
	     NVME_CC_IOSQES(NVME_SQES_LOG2) | NVME_CC_IOCQES(NVME_CQES_LOG2);
	step("configure CC 0x%08x (NVM command set, 4 KiB pages, 64/16-byte entries), then set CC.EN",
	     cc);
	rc = reg_write32(n, NVME_REG_CC, cc);
	if (rc)
		return rc;
	n->enabled = true;
	rc = reg_write32(n, NVME_REG_CC, cc | NVME_CC_EN);
	if (rc)
		return rc;
	step("wait for CSTS.RDY = 1 (at most %u ms)", n->timeout_ms);
	return wait_ready(n, true);
}

/* A space-padded ASCII field of Identify, trimmed, for printing. */
static void id_string(char *out, const uint8_t *field, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = field[i] >= 0x20 && field[i] < 0x7f ? field[i] : '.';
	while (len && out[len - 1] == ' ')
		len--;
	out[len] = 0;
}

static int identify(struct nvme *n, uint8_t cns, uint32_t nsid,
		    const char *what)
{
	struct nvme_sqe cmd = {
		.opcode = NVME_ADMIN_IDENTIFY,
		.nsid = htole32(nsid),
		.prp1 = htole64(iova_of(n, n->identify)),
		.cdw10 = htole32(cns),
	};

	memset(n->identify, 0, NVME_PAGE_SIZE);
	return admin(n, &cmd, NULL, what);
}

static int identify_controller(struct nvme *n)
{
	const uint8_t *id = n->identify;
	char sn[21], mn[41], fr[9];
	unsigned int mdts, sqes, cqes;
	uint32_t nn;
	int rc;

	step("Identify Controller (CNS 0x01)");
	rc = identify(n, NVME_ID_CNS_CTRL, 0, "Identify Controller");
	if (rc)
		return rc;
	id_string(sn, id + 4, 20);
	id_string(mn, id + 24, 40);
	id_string(fr, id + 64, 8);
	mdts = id[77];
	sqes = id[512];
	cqes = id[513];
	memcpy(&nn, id + 516, sizeof(nn));
	nn = le32toh(nn);
	printf("nvme: model '%s', serial '%s', firmware '%s'\n", mn, sn, fr);

	/* MDTS counts in CAP.MPSMIN pages: 4 KiB here.  0: no limit. */
	n->max_xfer = MIN(BUF_SIZE, (uint32_t)(PRP_LIST_ENTRIES * NVME_PAGE_SIZE));
	if (mdts && mdts < 20)
		n->max_xfer = MIN(n->max_xfer, NVME_PAGE_SIZE << mdts);
	if (mdts)
		printf("nvme: MDTS %u: at most %u KiB per command\n", mdts,
		       NVME_PAGE_SIZE << mdts >> 10);
	else
		printf("nvme: MDTS 0: no transfer limit\n");
	printf("nvme: %u namespaces, SQES 0x%02x, CQES 0x%02x\n", nn, sqes,
	       cqes);

	if (NVME_SQES_LOG2 < (sqes & 0xf) || NVME_SQES_LOG2 > sqes >> 4 ||
	    NVME_CQES_LOG2 < (cqes & 0xf) || NVME_CQES_LOG2 > cqes >> 4)
		return fail(-EOPNOTSUPP, "the controller takes no 64-byte SQ or 16-byte CQ entries");
	return 0;
}

static int identify_namespace(struct nvme *n)
{
	const uint8_t *id = n->identify;
	unsigned int nlbaf, flbas, fmt, lbads, ms;
	uint32_t lbaf, nsid;
	uint64_t nsze;
	int rc;

	if (n->vs >= 0x00010100) {
		step("Identify active namespace list (CNS 0x02)");
		rc = identify(n, NVME_ID_CNS_NS_ACTIVE, 0,
			      "Identify active namespace list");
		if (rc)
			return rc;
		memcpy(&nsid, id, sizeof(nsid));
		nsid = le32toh(nsid);
		if (!nsid)
			return fail(-ENODEV, "no active namespace");
		printf("nvme: first active namespace: %u\n", nsid);
	} else {
		nsid = 1;
		printf("nvme: NVMe 1.0 has no namespace list: namespace 1\n");
	}

	step("Identify Namespace %u (CNS 0x00)", nsid);
	rc = identify(n, NVME_ID_CNS_NS, nsid, "Identify Namespace");
	if (rc)
		return rc;
	memcpy(&nsze, id, sizeof(nsze));
	nsze = le64toh(nsze);
	nlbaf = id[25] + 1;
	flbas = id[26];
	/*
	 * The format index is FLBAS bits 3:0, with bits 6:5 above them when
	 * there are more than 16 formats.
	 */
	fmt = flbas & 0xf;
	if (nlbaf > 16)
		fmt |= ((flbas >> 5) & 0x3) << 4;
	if (fmt >= nlbaf || fmt >= 64)
		return fail(-EPROTO, "FLBAS 0x%02x names format %u of %u",
			    flbas, fmt, nlbaf);
	memcpy(&lbaf, id + 128 + 4 * fmt, sizeof(lbaf));
	lbaf = le32toh(lbaf);
	ms = lbaf & 0xffff;
	lbads = (lbaf >> 16) & 0xff;
	if (!nsze)
		return fail(-ENODEV, "namespace %u has no blocks", nsid);
	if (lbads < 9 || lbads > NVME_PAGE_SHIFT)
		return fail(-EOPNOTSUPP, "blocks of 2^%u bytes: this example knows 512 B to 4 KiB",
			    lbads);
	n->nsid = nsid;
	n->ns_blocks = nsze;
	n->lba_size = 1u << lbads;
	printf("nvme: namespace %u: %" PRIu64 " blocks of %u bytes (%" PRIu64 " MiB), LBA format %u of %u, metadata %u bytes\n",
	       nsid, nsze, n->lba_size, (nsze << lbads) >> 20, fmt, nlbaf, ms);
	if (ms)
		return fail(-EOPNOTSUPP, "the LBA format has metadata");
	return 0;
}

static int set_queue_count(struct nvme *n)
{
	struct nvme_sqe cmd = {
		.opcode = NVME_ADMIN_SET_FEATURES,
		.cdw10 = htole32(NVME_FEAT_NUM_QUEUES),
		.cdw11 = htole32(0 << 16 | 0),	/* 0's based: 1 CQ, 1 SQ */
	};
	uint32_t result;
	int rc;

	step("Set Features, Number of Queues (0x07): 1 SQ, 1 CQ");
	rc = admin(n, &cmd, &result, "Set Features Number of Queues");
	if (rc)
		return rc;
	printf("nvme: the controller allocated %u SQs and %u CQs\n",
	       (result & 0xffff) + 1, (result >> 16) + 1);
	return 0;
}

static int enable_msix(struct nvme *n)
{
	struct vfiodev_irq_info info;
	int rc;

	rc = vfiodev_irq_get_info(n->dev, VFIODEV_IRQ_MSIX, &info,
				  sizeof(info));
	if (rc)
		return fail(rc, "MSI-X info");
	step("enable MSI-X vector 0 of %u into an eventfd", info.count);
	if (!info.count)
		return fail(-ENODEV, "the controller has no MSI-X");
	rc = vfiodev_irq_enable(n->dev, VFIODEV_IRQ_MSIX, 1, NULL);
	if (rc)
		return fail(rc, "enabling MSI-X");
	n->irq_on = true;
	return 0;
}

static int create_io_queues(struct nvme *n, bool irq)
{
	uint16_t depth = MIN(QUEUE_DEPTH, NVME_CAP_MQES(n->cap) + 1);
	struct nvme_queue *q = &n->ioq;
	struct nvme_sqe cmd;
	int rc;

	queue_init(n, q, "I/O queue", 1, depth, MEM_IOSQ, MEM_IOCQ, irq);

	step("Create I/O Completion Queue 1 (0x05): %u entries at 0x%" PRIx64 ", %s",
	     depth, q->cq_iova,
	     irq ? "interrupts on, vector 0" : "interrupts off, polled");
	cmd = (struct nvme_sqe){
		.opcode = NVME_ADMIN_CREATE_CQ,
		.prp1 = htole64(q->cq_iova),
		.cdw10 = htole32((uint32_t)(depth - 1) << 16 | q->qid),
		.cdw11 = htole32((irq ? NVME_CQ_IV(0) | NVME_CQ_IRQ_ENABLED : 0) |
				 NVME_QUEUE_PHYS_CONTIG),
	};
	rc = admin(n, &cmd, NULL, "Create I/O Completion Queue");
	if (rc)
		return rc;
	n->ioq_cq = true;

	step("Create I/O Submission Queue 1 (0x01): %u entries at 0x%" PRIx64 ", on CQ 1",
	     depth, q->sq_iova);
	cmd = (struct nvme_sqe){
		.opcode = NVME_ADMIN_CREATE_SQ,
		.prp1 = htole64(q->sq_iova),
		.cdw10 = htole32((uint32_t)(depth - 1) << 16 | q->qid),
		.cdw11 = htole32((uint32_t)q->qid << 16 |
				 NVME_QUEUE_PHYS_CONTIG),
	};
	rc = admin(n, &cmd, NULL, "Create I/O Submission Queue");
	if (rc)
		return rc;
	n->ioq_sq = true;
	return 0;
}

static int delete_io_queues(struct nvme *n)
{
	struct nvme_sqe cmd;
	int rc;

	if (n->ioq_sq) {
		step("Delete I/O Submission Queue 1 (0x00)");
		cmd = (struct nvme_sqe){
			.opcode = NVME_ADMIN_DELETE_SQ,
			.cdw10 = htole32(n->ioq.qid),
		};
		rc = admin(n, &cmd, NULL, "Delete I/O Submission Queue");
		if (rc)
			return rc;
		n->ioq_sq = false;
	}
	if (n->ioq_cq) {
		step("Delete I/O Completion Queue 1 (0x04)");
		cmd = (struct nvme_sqe){
			.opcode = NVME_ADMIN_DELETE_CQ,
			.cdw10 = htole32(n->ioq.qid),
		};
		rc = admin(n, &cmd, NULL, "Delete I/O Completion Queue");
		if (rc)
			return rc;
		n->ioq_cq = false;
	}
	return 0;
}

/*
 * Describes [@iova, @iova + @len) to the controller: PRP1 is the first
 * page, PRP2 the second page or, for more than two, the PRP list.
 */
static void set_prps(struct nvme *n, struct nvme_sqe *cmd, uint64_t iova,
		     uint32_t len)
{
	uint64_t end = iova + len;
	uint64_t page = (iova & ~(uint64_t)(NVME_PAGE_SIZE - 1)) +
			NVME_PAGE_SIZE;
	unsigned int i = 0;

	cmd->prp1 = htole64(iova);
	if (page >= end) {
		cmd->prp2 = 0;
	} else if (page + NVME_PAGE_SIZE >= end) {
		cmd->prp2 = htole64(page);
	} else {
		for (; page < end; page += NVME_PAGE_SIZE)
			n->prp_list[i++] = htole64(page);
		cmd->prp2 = htole64(iova_of(n, n->prp_list));
	}
}

/* Writes or reads @blocks blocks at @lba from or into @buf; @quiet: do not
 * print each command. */
static int nvme_rw_cmds(struct nvme *n, uint8_t opcode, uint64_t lba,
			uint32_t blocks, uint8_t *buf, bool quiet)
{
	const char *name = opcode == NVME_CMD_WRITE ? "Write" : "Read";
	uint32_t per_cmd = MIN(n->max_xfer / n->lba_size, MAX_NLB);
	char what[64];
	int rc;

	while (blocks) {
		uint32_t nlb = MIN(blocks, per_cmd);
		struct nvme_sqe cmd = {
			.opcode = opcode,
			.nsid = htole32(n->nsid),
			.cdw10 = htole32((uint32_t)lba),
			.cdw11 = htole32((uint32_t)(lba >> 32)),
			.cdw12 = htole32(nlb - 1),
		};
		uint32_t len = nlb * n->lba_size;

		set_prps(n, &cmd, iova_of(n, buf), len);
		snprintf(what, sizeof(what), "%s LBA %" PRIu64 "+%u", name,
			 lba, nlb);
		if (!quiet)
			printf("nvme: %s: %u bytes, PRP1 0x%" PRIx64 ", PRP2 0x%" PRIx64 "%s\n",
			       what, len, le64toh(cmd.prp1), le64toh(cmd.prp2),
			       len > 2 * NVME_PAGE_SIZE ? " (PRP list)" : "");
		rc = nvme_exec(n, &n->ioq, &cmd, NULL, what);
		if (rc)
			return rc;
		lba += nlb;
		blocks -= nlb;
		buf += len;
	}
	return 0;
}

static int nvme_rw(struct nvme *n, uint8_t opcode, uint64_t lba,
		   uint32_t blocks, uint8_t *buf)
{
	return nvme_rw_cmds(n, opcode, lba, blocks, buf, false);
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Each block starts with a text line naming the run's seed and the block,
 * the rest is a pseudo-random stream from both.
 */
static void fill_pattern(uint8_t *buf, uint32_t blocks, uint32_t bs,
			 uint64_t seed)
{
	uint32_t b, i;

	for (b = 0; b < blocks; b++) {
		uint8_t *p = buf + (size_t)b * bs;
		uint64_t state = seed ^ ((uint64_t)b << 32);

		memset(p, 0, 64);
		snprintf((char *)p, 64, "vfiodev-nvme seed %016" PRIx64 " block %u\n",
			 seed, b);
		for (i = 64; i < bs; i += 8) {
			uint64_t v = splitmix64(&state);

			memcpy(p + i, &v, sizeof(v));
		}
	}
}

static int verify(const struct nvme *n, uint32_t blocks)
{
	size_t len = (size_t)blocks * n->lba_size, i, first = 0, bad = 0;

	for (i = 0; i < len; i++) {
		if (n->wbuf[i] != n->rbuf[i] && !bad++)
			first = i;
	}
	if (!bad) {
		printf("nvme: data verified: %u blocks\n", blocks);
		return 0;
	}
	fflush(stdout);
	fprintf(stderr, "nvme: data mismatch: %zu of %zu bytes differ; the first at byte %zu (block %zu, offset %zu): wrote 0x%02x, read 0x%02x\n",
		bad, len, first, first / n->lba_size, first % n->lba_size,
		n->wbuf[first], n->rbuf[first]);
	return fail(-EIO, "verifying %u blocks", blocks);
}

static int io_test(struct nvme *n, unsigned long blocks)
{
	struct timespec ts;
	uint64_t seed;
	int rc;

	if (blocks > BUF_SIZE / n->lba_size)
		return fail(-EINVAL, "--blocks %lu: the buffers hold %u blocks of %u bytes",
			    blocks, BUF_SIZE / n->lba_size, n->lba_size);
	if (blocks > n->ns_blocks)
		return fail(-EINVAL, "--blocks %lu: namespace %u has %" PRIu64 " blocks",
			    blocks, n->nsid, n->ns_blocks);

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_sec << 32 ^ (uint64_t)ts.tv_nsec;
	fill_pattern(n->wbuf, blocks, n->lba_size, seed);
	memset(n->rbuf, 0xa5, blocks * n->lba_size);

	step("write %lu blocks at LBA 0 (opcode 0x01), pattern seed 0x%016" PRIx64,
	     blocks, seed);
	rc = nvme_rw(n, NVME_CMD_WRITE, 0, blocks, n->wbuf);
	if (rc)
		return rc;
	step("read %lu blocks at LBA 0 (opcode 0x02) into the second buffer",
	     blocks);
	rc = nvme_rw(n, NVME_CMD_READ, 0, blocks, n->rbuf);
	if (rc)
		return rc;
	step("compare %lu bytes", blocks * n->lba_size);
	return verify(n, blocks);
}

/*
 * @reads reads of 4 KiB (or one block, if larger), one in flight, cycling
 * over the blocks io_test() wrote: each lands in the read buffer at its
 * block's place, so the buffer must equal the written one at the end.
 */
static int read_rate(struct nvme *n, unsigned long blocks, unsigned long reads)
{
	uint32_t per = n->lba_size >= 4096 ? 1 : 4096 / n->lba_size;
	unsigned long spans = blocks / per, i;
	double t0, t;
	int rc;

	if (!spans)
		return fail(-EINVAL, "--reads: --blocks %lu is less than 4 KiB", blocks);
	step("read 4 KiB %lu times at queue depth 1 (%s)", reads,
	     n->ioq.irq ? "MSI-X" : "polled");
	memset(n->rbuf, 0xa5, spans * per * n->lba_size);
	t0 = now_s();
	for (i = 0; i < reads; i++) {
		uint64_t lba = (i % spans) * per;

		rc = nvme_rw_cmds(n, NVME_CMD_READ, lba, per,
				  n->rbuf + lba * n->lba_size, true);
		if (rc)
			return rc;
	}
	t = now_s() - t0;
	printf("nvme: %lu reads of %u bytes in %.3f s: %.0f IOPS\n",
	       reads, per * n->lba_size, t, reads / t);
	return verify(n, (uint32_t)(spans * per));
}

static int run(struct nvme *n, const struct options *opt)
{
	int rc;

	rc = open_device(n, opt);
	if (!rc)
		rc = enable_pci(n);
	if (!rc)
		rc = map_bar(n);
	if (!rc)
		rc = read_cap(n);
	if (!rc)
		rc = nvme_disable(n);
	if (!rc)
		rc = setup_memory(n);
	if (!rc)
		rc = enable_controller(n);
	if (!rc)
		rc = identify_controller(n);
	if (!rc)
		rc = identify_namespace(n);
	if (!rc)
		rc = set_queue_count(n);
	if (!rc && opt->irq)
		rc = enable_msix(n);
	if (!rc)
		rc = create_io_queues(n, opt->irq);
	if (!rc)
		rc = io_test(n, opt->blocks);
	if (!rc && opt->reads)
		rc = read_rate(n, opt->blocks, opt->reads);
	return rc;
}

/*
 * Undoes what run() did, in reverse.  After a failure the I/O queues are
 * not deleted one by one: disabling the controller deletes them.  Returns
 * the first error.
 */
static int teardown(struct nvme *n, bool ok)
{
	size_t unmapped = 0;
	uint16_t cmd;
	int rc, ret = 0;

	if (ok) {
		rc = delete_io_queues(n);
		ret = ret ?: rc;
	}
	if (n->enabled) {
		rc = nvme_disable(n);
		ret = ret ?: rc;
	}
	if (n->pci_on) {
		n->pci_cmd &= ~PCI_COMMAND_MASTER;
		step("disable bus mastering (PCI command 0x%04x)", n->pci_cmd);
		cmd = htole16(n->pci_cmd);
		rc = vfiodev_config_write(n->dev, PCI_COMMAND, &cmd,
					  sizeof(cmd));
		if (rc)
			ret = ret ?: fail(rc, "writing the PCI command register");
	}
	if (n->irq_on) {
		step("disable MSI-X");
		rc = vfiodev_irq_disable(n->dev, VFIODEV_IRQ_MSIX);
		if (rc)
			ret = ret ?: fail(rc, "disabling MSI-X");
	}
	if (n->mapped) {
		step("unmap the DMA memory at IOVA 0x%" PRIx64, n->iova);
		rc = vfiodev_dma_unmap(n->as, n->iova, MEM_SIZE, 0, &unmapped);
		if (rc)
			ret = ret ?: fail(rc, "vfiodev_dma_unmap (%zu bytes unmapped)",
					  unmapped);
		else if (unmapped != MEM_SIZE)
			ret = ret ?: fail(-EIO, "vfiodev_dma_unmap unmapped %zu bytes, not %u",
					  unmapped, MEM_SIZE);
	}
	if (n->mem) {
		step("free the DMA memory");
		rc = vfiodev_mem_free(n->mem, MEM_SIZE);
		if (rc)
			ret = ret ?: fail(rc, "vfiodev_mem_free");
	}
	if (n->dev) {
		step("close the device");
		vfiodev_device_close(n->dev);
	}
	if (n->as) {
		step("destroy the address space");
		vfiodev_as_destroy(n->as);
	}
	if (n->ctx) {
		step("destroy the context");
		vfiodev_ctx_destroy(n->ctx);
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct nvme n = { 0 };
	int rc;

	rc = parse_args(argc, argv, &opt);
	if (rc)
		return rc < 0 ? 0 : rc;
	setvbuf(stdout, NULL, _IOLBF, 0);

	rc = run(&n, &opt);
	rc = teardown(&n, !rc) ?: rc;
	if (rc) {
		printf("nvme: FAILED\n");
		return 1;
	}
	printf("nvme: success\n");
	return 0;
}
