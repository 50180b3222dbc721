/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The edu (QEMU hw/misc/edu.c) as a DMA test device: its registers, its
 * BAR mapped through a VFIO device file, and DMA round trips and faults
 * through the IOMMU.  The same functions serve every path a device file
 * comes from (the cdev with iommufd, the legacy group with a container), so
 * that the DMA test is one test.  Include after kselftest_harness.h.
 */
#ifndef EDU_UTILS_H
#define EDU_UTILS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/vfio.h>

#include "vfiodev_utils.h"

#ifndef PAGE_SZ
#define PAGE_SZ		4096UL
#endif
#ifndef MIB
#define MIB		(1024UL * 1024)
#endif

/* The edu's BAR0 (QEMU hw/misc/edu.c). */
#define EDU_BAR_LEN	MIB
#define EDU_ID		0x00
#define EDU_ID_VALUE	0x010000edU
#define EDU_LIVENESS	0x04
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_RUN	0x1
#define EDU_DMA_TO_RAM	0x2
#define EDU_DMA_BUF	0x40000UL	/* the device's 4 KiB buffer */
#define EDU_DMA_MAX	2048UL		/* QEMU 7.2 aborts on a full 4 KiB */
#define EDU_DMA_MASK	((256 * MIB) - 1)	/* addresses keep 28 bits */

#define PCI_CMD_OFF	0x04
#define PCI_CMD_MEMORY	0x2
#define PCI_CMD_MASTER	0x4

/* Binds @bdf to this stack's driver (loading ours first). */
static inline void edu_take(struct __test_metadata *_metadata,
			    const char *bdf)
{
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(bdf, stack_pci_driver()))
		TH_LOG("%s: cannot bind to %s", bdf, stack_pci_driver());
}

static inline uint32_t rd32(volatile uint8_t *bar, unsigned int off)
{
	return *(volatile uint32_t *)(bar + off);
}

static inline void wr32(volatile uint8_t *bar, unsigned int off, uint32_t val)
{
	*(volatile uint32_t *)(bar + off) = val;
}

static inline void wr64(volatile uint8_t *bar, unsigned int off, uint64_t val)
{
	*(volatile uint64_t *)(bar + off) = val;
}

/*
 * Turns on memory decoding and bus mastering in the command register
 * (through sysfs) and maps BAR0 through the bound device file, region 0,
 * as a user space driver does; checks that it is an edu that answers.
 */
static inline volatile uint8_t *edu_bar(struct __test_metadata *_metadata,
					const char *bdf, int devfd)
{
	char path[PATH_MAX];
	volatile uint8_t *bar;
	uint16_t cmd;
	void *p;
	int fd;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/config", bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(2, pread(fd, &cmd, 2, PCI_CMD_OFF));
	cmd |= PCI_CMD_MEMORY | PCI_CMD_MASTER;
	ASSERT_EQ(2, pwrite(fd, &cmd, 2, PCI_CMD_OFF));
	close(fd);

	p = mmap(NULL, EDU_BAR_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, devfd,
		 (off_t)VFIO_PCI_BAR0_REGION_INDEX << 40);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap of BAR0: %s", strerror(errno));
	bar = p;
	ASSERT_EQ(EDU_ID_VALUE, rd32(bar, EDU_ID));
	wr32(bar, EDU_LIVENESS, 0x12345678);
	ASSERT_EQ(~0x12345678U, rd32(bar, EDU_LIVENESS));
	return bar;
}

/* Runs one transfer of the edu's DMA engine and waits for its end. */
static inline int edu_dma(volatile uint8_t *bar, uint64_t src, uint64_t dst,
		   uint64_t cnt, bool to_ram)
{
	struct timespec start, now;

	wr64(bar, EDU_DMA_SRC, src);
	wr64(bar, EDU_DMA_DST, dst);
	wr64(bar, EDU_DMA_CNT, cnt);
	wr32(bar, EDU_DMA_CMD, EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (rd32(bar, EDU_DMA_CMD) & EDU_DMA_RUN) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 20)
			return -ETIMEDOUT;
		msleep(2);
	}
	return 0;
}

/*
 * Memory at @iova -> the device's buffer at @off, or back.  Never the
 * whole buffer (QEMU 7.2's edu would abort the VM), never an IOVA the
 * device would truncate.
 */
static inline int dma_to_dev(volatile uint8_t *bar, uint64_t iova, uint64_t off,
		      uint64_t cnt)
{
	if (cnt > EDU_DMA_MAX || off + cnt >= 4096 || iova > EDU_DMA_MASK)
		return -EINVAL;
	return edu_dma(bar, iova, EDU_DMA_BUF + off, cnt, false);
}

static inline int dma_to_ram(volatile uint8_t *bar, uint64_t off, uint64_t iova,
		      uint64_t cnt)
{
	if (cnt > EDU_DMA_MAX || off + cnt >= 4096 || iova > EDU_DMA_MASK)
		return -EINVAL;
	return edu_dma(bar, EDU_DMA_BUF + off, iova, cnt, true);
}

static inline void fill(char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (char)(seed + i * 7 + (i >> 8));
}

/* Whether all of @p is @c. */
static inline bool all_are(const char *p, size_t len, char c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return false;
	return true;
}

/*
 * Memory -> device -> memory at @iova, where @buf (3 pages at least) is
 * mapped: the bytes make the round trip.
 */
static inline void edu_dma_roundtrip(struct __test_metadata *_metadata,
				     volatile uint8_t *bar, char *buf,
				     uint64_t iova, unsigned int seed)
{
	char *src = buf, *dst = buf + PAGE_SZ;
	const size_t len = EDU_DMA_MAX;

	fill(src, len, seed);
	memset(dst, 0, 2 * PAGE_SZ);
	ASSERT_EQ(0, dma_to_dev(bar, iova, 0, len));
	ASSERT_EQ(0, dma_to_ram(bar, 0, iova + PAGE_SZ, len));
	EXPECT_EQ(0, memcmp(src, dst, len));
	EXPECT_TRUE(all_are(dst + len, 2 * PAGE_SZ - len, 0));

	/* Another part of the device's buffer, another offset in memory. */
	fill(src + 3000, 1000, seed + 1);
	ASSERT_EQ(0, dma_to_dev(bar, iova + 3000, 2048, 1000));
	ASSERT_EQ(0, dma_to_ram(bar, 2048, iova + PAGE_SZ + 100, 1000));
	EXPECT_EQ(0, memcmp(src + 3000, dst + 100, 1000));
	/* The first transfer's bytes are still in the device. */
	ASSERT_EQ(0, dma_to_ram(bar, 0, iova + PAGE_SZ, 16));
	EXPECT_EQ(0, memcmp(src, dst, 16));
}

/*
 * A DMA that must fault at @iova: the DMAR reports the device and the page
 * (the caller checks that memory stayed as it was).
 *
 * The intel-iommu driver rate-limits its fault handler to the printk
 * default, 10 per 5 s, and spends three of them per fault (the status, the
 * record, the empty record that ends its loop): only three faults in a row
 * are printed.  Waiting out the interval first starts a fresh window.
 */
static inline void edu_dma_fault(struct __test_metadata *_metadata,
				 volatile uint8_t *bar, const char *bdf,
				 uint64_t iova, bool to_ram)
{
	char what[96];
	int kmsg, ret;

	msleep(5200);
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	if (to_ram) {
		ASSERT_EQ(0, dma_to_ram(bar, 0, iova, 1024));
	} else {
		ASSERT_EQ(0, dma_to_dev(bar, iova, 0, 1024));
	}
	snprintf(what, sizeof(what), "Request device [%s] fault addr %#llx [",
		 bdf + 5, (unsigned long long)(iova & ~(PAGE_SZ - 1)));
	ret = kmsg_wait(kmsg, what, to_ram ? "DMA Write" : "DMA Read", 5000);
	EXPECT_EQ(0, ret) TH_LOG("no DMAR fault \"%s\" in the kernel log",
				 what);
	close(kmsg);
}

#endif /* EDU_UTILS_H */
