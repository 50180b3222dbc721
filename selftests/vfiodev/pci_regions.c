// SPDX-License-Identifier: GPL-2.0
/*
 * The regions of a PCI device through its /dev/vfio/devices/vfioN, after
 * VFIO_DEVICE_BIND_IOMMUFD, on an edu, an nvme and an e1000e: device and
 * region info against what sysfs says of the same device, BAR access by
 * pread/pwrite (the edu computes a factorial through it), the MSI-X table
 * out of read/write's reach but mappable with its BAR, BAR mmap, reset,
 * and the BARs given back on close.
 *
 * VFIODEV_STACK=upstream runs the same against vfio-pci on the guest
 * kernel's iommufd, with the same answers.
 */
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "pci_utils.h"
#include "kselftest_harness.h"

#define PAGE_SZ		4096UL
#define ROM_RES		6	/* the ROM line of sysfs "resource" */
#define REGION_OFF(i)	((uint64_t)(i) << 40)

/* The edu's BAR0 (QEMU hw/misc/edu.c). */
#define EDU_ID		0x00
#define EDU_ID_VALUE	0x010000edU
#define EDU_LIVENESS	0x04
#define EDU_FACT	0x08
#define EDU_STATUS	0x20
#define EDU_STATUS_BUSY	0x1
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88

#define NVME_DEVICE_QEMU	0x1b360010U	/* vendor << 16 | device */

/* --- what sysfs says ---------------------------------------------------- */

struct sysfs_bar {
	uint64_t start, size, flags;
};

/* The "resource" file: one line per resource, BARs first, then the ROM. */
static int sysfs_bars(const char *bdf, struct sysfs_bar bars[7])
{
	char path[PATH_MAX];
	unsigned long long s, e, f;
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/resource", bdf);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	for (i = 0; i < 7; i++) {
		if (fscanf(fp, "%llx %llx %llx", &s, &e, &f) != 3) {
			fclose(fp);
			return -EIO;
		}
		bars[i].start = s;
		bars[i].size = s ? e - s + 1 : 0;
		bars[i].flags = f;
	}
	fclose(fp);
	return 0;
}

static long sysfs_config_size(const char *bdf)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/config", bdf);
	return stat(path, &st) ? -errno : (long)st.st_size;
}

/* A BAR of the device mapped through sysfs, for comparison. */
static volatile uint8_t *sysfs_bar_map(const char *bdf, int bar, size_t len)
{
	char path[PATH_MAX];
	void *p;
	int fd;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/resource%d", bdf,
		 bar);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static bool reset_method_exists(const char *bdf)
{
	char path[PATH_MAX], buf[128];

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/reset_method",
		 bdf);
	return !sysfs_read(path, buf, sizeof(buf)) && buf[0];
}

/* Whether /proc/iomem names @owner as holding some range. */
static bool iomem_claimed_by(const char *owner)
{
	char line[256];
	bool found = false;
	FILE *fp;

	fp = fopen("/proc/iomem", "re");
	if (!fp)
		return false;
	while (fgets(line, sizeof(line), fp))
		if (strstr(line, owner))
			found = true;
	fclose(fp);
	return found;
}

/* --- device file calls -------------------------------------------------- */

static int region_info(int fd, uint32_t index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ufd_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info);
}

static ssize_t rd(int fd, uint32_t index, uint64_t off, void *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len, REGION_OFF(index) + off);

	return n < 0 ? -errno : n;
}

static ssize_t wr(int fd, uint32_t index, uint64_t off, const void *buf,
		  size_t len)
{
	ssize_t n = pwrite(fd, buf, len, REGION_OFF(index) + off);

	return n < 0 ? -errno : n;
}

/* --- the fixture: one device, bound to /dev/iommu and attached ---------- */

FIXTURE(pdev) {
	char bdf[BDF_LEN];
	int devfd, iommufd;
	uint32_t ioas;
	struct sysfs_bar bars[7];
	bool is_edu;
};

FIXTURE_VARIANT(pdev) {
	unsigned int vendor, device, class;
	const char *name;
};

FIXTURE_VARIANT_ADD(pdev, edu) {
	.vendor = EDU_VENDOR, .device = EDU_DEVICE, .name = "edu",
};

FIXTURE_VARIANT_ADD(pdev, nvme) {
	.class = NVME_CLASS, .name = "nvme",
};

FIXTURE_VARIANT_ADD(pdev, e1000e) {
	.class = ETH_CLASS, .name = "e1000e",
};

FIXTURE_SETUP(pdev)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	char bdfs[4][BDF_LEN];
	int n;

	self->devfd = -1;
	self->iommufd = -1;
	n = pci_find(variant->vendor, variant->device, variant->class, bdfs,
		     4);
	ASSERT_LE(1, n) TH_LOG("the guest has no %s", variant->name);
	strcpy(self->bdf, bdfs[0]);
	self->is_edu = variant->vendor == EDU_VENDOR;
	ASSERT_EQ(0, sysfs_bars(self->bdf, self->bars));

	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(self->bdf, stack_pci_driver()));
	self->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->iommufd);
	self->devfd = vfio_dev_open_bound(self->bdf, self->iommufd, NULL);
	ASSERT_LE(0, self->devfd);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	attach.pt_id = self->ioas;
	ASSERT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
			       &attach));
}

FIXTURE_TEARDOWN(pdev)
{
	if (self->devfd >= 0)
		close(self->devfd);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->bdf[0])
		EXPECT_EQ(0, pci_give_back(self->bdf));
}

/* Whether region @i is a memory BAR of at least a page. */
static bool bar_mmappable(FIXTURE_DATA(pdev) *self, int i)
{
	return self->bars[i].size >= PAGE_SZ &&
	       (self->bars[i].flags & 0x200);	/* IORESOURCE_MEM */
}

/* --- info --------------------------------------------------------------- */

TEST_F(pdev, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	info.argsz = offsetofend(struct vfio_device_info, num_irqs) - 1;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_INFO,
				     &info));
	info.argsz = sizeof(info);
	ASSERT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(!!(info.flags & VFIO_DEVICE_FLAGS_PCI));
	EXPECT_EQ(0U, info.flags & ~(VFIO_DEVICE_FLAGS_PCI |
				     VFIO_DEVICE_FLAGS_RESET));
	EXPECT_EQ((unsigned int)VFIO_PCI_NUM_REGIONS, info.num_regions);
	EXPECT_EQ((unsigned int)VFIO_PCI_NUM_IRQS, info.num_irqs);
	/* A reset that works is offered; sysfs lists the same methods. */
	EXPECT_EQ(reset_method_exists(self->bdf),
		  !!(info.flags & VFIO_DEVICE_FLAGS_RESET));
}

TEST_F(pdev, region_info)
{
	struct vfio_region_info info;
	int i;

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX;
	     i++) {
		ASSERT_EQ(0, region_info(self->devfd, i, &info));
		EXPECT_EQ(REGION_OFF(i), info.offset);
		EXPECT_EQ(self->bars[i].size, info.size) TH_LOG("BAR%d", i);
		if (!self->bars[i].size) {
			EXPECT_EQ(0U, info.flags) TH_LOG("BAR%d", i);
			continue;
		}
		EXPECT_EQ((uint32_t)(VFIO_REGION_INFO_FLAG_READ |
				     VFIO_REGION_INFO_FLAG_WRITE),
			  info.flags & (VFIO_REGION_INFO_FLAG_READ |
					VFIO_REGION_INFO_FLAG_WRITE));
		if (bar_mmappable(self, i))
			EXPECT_TRUE(!!(info.flags & VFIO_REGION_INFO_FLAG_MMAP))
				TH_LOG("BAR%d", i);
		if (!(self->bars[i].flags & 0x200))	/* I/O space */
			EXPECT_FALSE(!!(info.flags &
					VFIO_REGION_INFO_FLAG_MMAP));
	}

	ASSERT_EQ(0, region_info(self->devfd, VFIO_PCI_CONFIG_REGION_INDEX,
				 &info));
	EXPECT_EQ(REGION_OFF(VFIO_PCI_CONFIG_REGION_INDEX), info.offset);
	EXPECT_EQ(sysfs_config_size(self->bdf), (long)info.size);
	EXPECT_EQ((uint32_t)(VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE), info.flags);

	/* A ROM is readable, never writable or mappable. */
	ASSERT_EQ(0, region_info(self->devfd, VFIO_PCI_ROM_REGION_INDEX,
				 &info));
	EXPECT_EQ(REGION_OFF(VFIO_PCI_ROM_REGION_INDEX), info.offset);
	if (!self->bars[ROM_RES].size) {
		EXPECT_EQ(0U, info.flags);
		EXPECT_EQ(0ULL, info.size);
	} else if (info.flags) {
		EXPECT_EQ((uint32_t)VFIO_REGION_INFO_FLAG_READ, info.flags);
		EXPECT_EQ(self->bars[ROM_RES].size, info.size);
	}

	/* None of these is a VGA device; nothing past the last region. */
	EXPECT_EQ(-EINVAL, region_info(self->devfd,
				       VFIO_PCI_VGA_REGION_INDEX, &info));
	EXPECT_EQ(-EINVAL, region_info(self->devfd, VFIO_PCI_NUM_REGIONS,
				       &info));
	EXPECT_EQ(-EINVAL, region_info(self->devfd, 0xffffffff, &info));

	/* argsz shorter than the structure. */
	memset(&info, 0, sizeof(info));
	info.argsz = offsetofend(struct vfio_region_info, offset) - 1;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_REGION_INFO,
				     &info));
}

/*
 * The BAR holding the MSI-X table maps whole, the table's pages too, and
 * says so with VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, as upstream 6.12: user
 * space NVMe and NIC drivers map the doorbells that share those pages.
 */
TEST_F(pdev, msix_mappable)
{
	struct {
		struct vfio_region_info info;
		uint8_t caps[256];
	} big;
	struct vfio_region_info info;
	struct vfio_info_cap_header *hdr;
	uint32_t table, bir, tab_off, tab_first, i;
	uint64_t size;
	bool sparse = false, mappable = false;
	int cap, ttl = 8;
	void *p;

	cap = pci_cfg_cap(self->bdf, PCI_CAP_ID_MSIX);
	if (!cap)
		SKIP(return, "no MSI-X");
	ASSERT_EQ(0, pci_cfg_read(self->bdf, &table, 4, cap + PCI_MSIX_TABLE));
	bir = table & PCI_MSIX_TABLE_BIR;
	tab_off = table & PCI_MSIX_TABLE_OFFSET;
	tab_first = tab_off & ~(PAGE_SZ - 1);
	size = self->bars[bir].size;
	ASSERT_TRUE(bar_mmappable(self, bir));

	/* With room for the structure only: the size the chain needs. */
	ASSERT_EQ(0, region_info(self->devfd, bir, &info));
	ASSERT_TRUE(!!(info.flags & VFIO_REGION_INFO_FLAG_CAPS));
	EXPECT_LT(sizeof(info), info.argsz);
	EXPECT_EQ(0U, info.cap_offset);
	ASSERT_GE(sizeof(big), info.argsz);

	memset(&big, 0, sizeof(big));
	big.info.argsz = sizeof(big);
	big.info.index = bir;
	ASSERT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_REGION_INFO, &big));
	ASSERT_LE(sizeof(info), big.info.cap_offset);
	for (i = big.info.cap_offset; i && ttl--; i = hdr->next) {
		ASSERT_GT(sizeof(big), i + sizeof(*hdr));
		hdr = (void *)((uint8_t *)&big + i);
		if (hdr->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE)
			mappable = true;
		if (hdr->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP)
			sparse = true;
	}
	EXPECT_TRUE(mappable);
	EXPECT_FALSE(sparse);

	/* The table's first page alone, and the whole BAR. */
	p = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->devfd, REGION_OFF(bir) + tab_first);
	EXPECT_NE(MAP_FAILED, p) TH_LOG("%s", strerror(errno));
	if (p != MAP_FAILED)
		munmap(p, PAGE_SZ);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->devfd,
		 REGION_OFF(bir));
	EXPECT_NE(MAP_FAILED, p) TH_LOG("%s", strerror(errno));
	if (p != MAP_FAILED)
		munmap(p, size);
}

/* --- read and write ----------------------------------------------------- */

TEST_F(pdev, edu_bar_rw)
{
	uint64_t size = self->bars[0].size;
	uint64_t q = 0, regs[3] = { 0x1000, 0x40000, 8 }, back[3];
	uint32_t v = 0, fact;
	uint8_t big[16];
	int i;

	if (!self->is_edu)
		SKIP(return, "edu only");
	EXPECT_EQ(EDU_ID_VALUE, dev_rd32(self->devfd, EDU_ID));
	EXPECT_EQ(0, dev_wr32(self->devfd, EDU_LIVENESS, 0x12345678));
	EXPECT_EQ(~0x12345678U, dev_rd32(self->devfd, EDU_LIVENESS));

	/* 5! computed by the device, through the device file only. */
	EXPECT_EQ(0, dev_wr32(self->devfd, EDU_FACT, 5));
	for (i = 0; i < 1000; i++) {
		v = dev_rd32(self->devfd, EDU_STATUS);
		if (!(v & EDU_STATUS_BUSY))
			break;
		msleep(1);
	}
	EXPECT_EQ(0U, v & EDU_STATUS_BUSY);
	fact = dev_rd32(self->devfd, EDU_FACT);
	EXPECT_EQ(120U, fact);

	/*
	 * The DMA source, destination and count registers take 8-byte
	 * accesses: one write of all three (no command, nothing starts)
	 * and one read back go in 8-byte pieces.
	 */
	EXPECT_EQ((ssize_t)sizeof(regs),
		  wr(self->devfd, 0, EDU_DMA_SRC, regs, sizeof(regs)));
	memset(back, 0, sizeof(back));
	EXPECT_EQ((ssize_t)sizeof(back),
		  rd(self->devfd, 0, EDU_DMA_SRC, back, sizeof(back)));
	EXPECT_EQ(0, memcmp(regs, back, sizeof(regs)));
	EXPECT_EQ(8, rd(self->devfd, 0, EDU_DMA_DST, &q, 8));
	EXPECT_EQ(0x40000ULL, q);

	/* The end of the BAR: a short count across it, EINVAL past it. */
	EXPECT_EQ(4, rd(self->devfd, 0, size - 4, big, 8));
	EXPECT_EQ(-EINVAL, rd(self->devfd, 0, size, big, 4));
	/* Empty BARs and the VGA index. */
	EXPECT_EQ(-EINVAL, rd(self->devfd, 1, 0, big, 4));
	EXPECT_EQ(-EINVAL, rd(self->devfd, VFIO_PCI_VGA_REGION_INDEX, 0, big,
			      4));
	EXPECT_EQ(-EINVAL, rd(self->devfd, VFIO_PCI_NUM_REGIONS, 0, big, 4));
}

/*
 * What the device file reads is what the device answers to an access of
 * the same width at the same place: 1, 2, 4 and 8 bytes, compared with a
 * mapping of the BAR through sysfs.  That mapping only works before the
 * device file first touches the BAR: claiming the BAR for user space
 * revokes it (CONFIG_IO_STRICT_DEVMEM), so sysfs is read first.
 */
TEST_F(pdev, bar_rw_matches_hardware)
{
	static const unsigned int widths[] = { 1, 2, 4, 8 };
	uint64_t want[4][16], v;
	volatile uint8_t *real;
	unsigned int w, off;
	int bar;

	for (bar = 0; bar < 6; bar++)
		if (bar_mmappable(self, bar))
			break;
	ASSERT_GT(6, bar);
	real = sysfs_bar_map(self->bdf, bar, PAGE_SZ);
	ASSERT_NE(NULL, real);
	/* Identification registers, which do not change by being read. */
	for (w = 0; w < ARRAY_LEN(widths); w++) {
		for (off = 0; off < 16; off += widths[w]) {
			switch (widths[w]) {
			case 1:
				v = *(volatile uint8_t *)(real + off);
				break;
			case 2:
				v = *(volatile uint16_t *)(real + off);
				break;
			case 4:
				v = *(volatile uint32_t *)(real + off);
				break;
			default:
				v = *(volatile uint64_t *)(real + off);
				break;
			}
			/*
			 * QEMU 7.2's TCG hands a narrow load from MMIO the
			 * device's whole register, high bits included.
			 */
			if (widths[w] < 8)
				v &= (1ULL << (8 * widths[w])) - 1;
			want[w][off] = v;
		}
	}
	munmap((void *)real, PAGE_SZ);

	for (w = 0; w < ARRAY_LEN(widths); w++) {
		for (off = 0; off < 16; off += widths[w]) {
			v = 0;
			ASSERT_EQ((ssize_t)widths[w],
				  rd(self->devfd, bar, off, &v, widths[w]));
			EXPECT_EQ(want[w][off], v)
				TH_LOG("BAR%d+%#x, %u bytes", bar, off,
				       widths[w]);
		}
	}
}

static int ioeventfd(int devfd, uint32_t argsz, uint32_t flags, uint64_t off,
		     uint64_t data, int32_t fd)
{
	struct vfio_device_ioeventfd io = {
		.argsz = argsz, .flags = flags, .offset = off, .data = data,
		.fd = fd,
	};

	return ioctl(devfd, VFIO_DEVICE_IOEVENTFD, &io) ? -errno : 0;
}

/* Polls the edu's liveness register until it reads @want (bounded). */
static bool liveness_is(int devfd, uint32_t want)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 100000; i++) {
		if (rd(devfd, 0, 0x04, &v, 4) == 4 && v == want)
			return true;
		usleep(100);
	}
	return false;
}

/*
 * VFIO_DEVICE_IOEVENTFD, as KVM uses it for a register the guest writes
 * often: each signal of the eventfd writes the bound data, in the kernel.
 * On the edu, the liveness register shows the write (it reads back the
 * inverse).  The same write bound twice is EEXIST, unbinding one that is
 * not bound ENODEV; not into the MSI-X table, not outside the BARs.
 */
TEST_F(pdev, ioeventfd)
{
	uint32_t sz4 = VFIO_DEVICE_IOEVENTFD_32, sz = sizeof(struct vfio_device_ioeventfd);
	uint64_t bar0 = (uint64_t)VFIO_PCI_BAR0_REGION_INDEX << 40, one = 1;
	int efd = eventfd(0, EFD_CLOEXEC);
	uint32_t v;

	ASSERT_LE(0, efd);
	/* Arguments, on every device. */
	EXPECT_EQ(-EINVAL, ioeventfd(self->devfd,
				     offsetofend(struct vfio_device_ioeventfd,
						 fd) - 1, sz4, bar0, 0, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(self->devfd, sz, 0, bar0, 0, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(self->devfd, sz, 3, bar0, 0, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(self->devfd, sz, sz4 | 0x10, bar0, 0,
				     efd));
	EXPECT_EQ(-EINVAL, ioeventfd(self->devfd, sz, sz4, bar0, 0, -2));
	EXPECT_EQ(-EINVAL, ioeventfd(self->devfd, sz, sz4,
				     (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40,
				     0, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(self->devfd, sz, sz4,
				     bar0 + self->bars[0].size - 2, 0, efd));
	EXPECT_EQ(-ENODEV, ioeventfd(self->devfd, sz, sz4, bar0, 0, -1));

	if (pci_cfg_cap(self->bdf, PCI_CAP_ID_MSIX)) {
		unsigned int cap = pci_cfg_cap(self->bdf, PCI_CAP_ID_MSIX);
		uint32_t table = pci_cfg_rd(self->bdf, cap + PCI_MSIX_TABLE, 4);
		uint64_t t = ((uint64_t)(table & PCI_MSIX_TABLE_BIR) << 40) +
			     (table & PCI_MSIX_TABLE_OFFSET);

		EXPECT_EQ(-EINVAL, ioeventfd(self->devfd, sz, sz4, t + 12, 0,
					     efd));
	}
	if (!self->is_edu) {
		close(efd);
		return;
	}

	ASSERT_EQ(0, ioeventfd(self->devfd, sz, sz4, bar0 + 0x04, 0x1234,
			       efd));
	EXPECT_EQ(-EEXIST, ioeventfd(self->devfd, sz, sz4, bar0 + 0x04,
				     0x1234, efd));
	v = 0;
	ASSERT_EQ(4, wr(self->devfd, 0, 0x04, &v, 4));
	ASSERT_EQ((ssize_t)sizeof(one), write(efd, &one, sizeof(one)));
	EXPECT_TRUE(liveness_is(self->devfd, ~0x1234U));
	/* Again, after user space wrote something else. */
	ASSERT_EQ(4, wr(self->devfd, 0, 0x04, &v, 4));
	ASSERT_EQ((ssize_t)sizeof(one), write(efd, &one, sizeof(one)));
	EXPECT_TRUE(liveness_is(self->devfd, ~0x1234U));

	/* Unbound: a signal writes nothing. */
	ASSERT_EQ(0, ioeventfd(self->devfd, sz, sz4, bar0 + 0x04, 0x1234, -1));
	ASSERT_EQ(4, wr(self->devfd, 0, 0x04, &v, 4));
	ASSERT_EQ((ssize_t)sizeof(one), write(efd, &one, sizeof(one)));
	usleep(100000);
	ASSERT_EQ(4, rd(self->devfd, 0, 0x04, &v, 4));
	EXPECT_EQ(~0U, v);
	/* One left bound goes when the device is closed. */
	ASSERT_EQ(0, ioeventfd(self->devfd, sz, sz4, bar0 + 0x04, 0x1234,
			       efd));
	close(efd);
}

/*
 * The MSI-X table is the interrupt code's: reads of it through the device
 * file give ones, writes are taken and dropped, and the rest of the BAR
 * around it stays reachable.  (What the table holds cannot be looked at
 * from here: the claim revokes sysfs mappings, and a reset on close puts
 * the table back to its defaults anyway.)
 */
TEST_F(pdev, msix_table_not_reachable)
{
	uint32_t table, bir, tab_off, tab_size, v;
	uint16_t flags;
	int cap;

	cap = pci_cfg_cap(self->bdf, PCI_CAP_ID_MSIX);
	if (!cap)
		SKIP(return, "no MSI-X");
	ASSERT_EQ(0, pci_cfg_read(self->bdf, &flags, 2, cap + PCI_MSIX_FLAGS));
	ASSERT_EQ(0, pci_cfg_read(self->bdf, &table, 4, cap + PCI_MSIX_TABLE));
	bir = table & PCI_MSIX_TABLE_BIR;
	tab_off = table & PCI_MSIX_TABLE_OFFSET;
	tab_size = ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) * 16;

	/* Entry 0's vector control: masked after reset, never all ones. */
	ASSERT_EQ(4, rd(self->devfd, bir, tab_off + 12, &v, 4));
	EXPECT_EQ(0xffffffffU, v);
	v = 0;
	EXPECT_EQ(4, wr(self->devfd, bir, tab_off + 12, &v, 4));
	ASSERT_EQ(4, rd(self->devfd, bir, tab_off + 12, &v, 4));
	EXPECT_EQ(0xffffffffU, v);
	/* A read across the table's end: ones, then the BAR again. */
	if (tab_off + tab_size + 4 <= self->bars[bir].size) {
		uint8_t buf[8];

		ASSERT_EQ(8, rd(self->devfd, bir, tab_off + tab_size - 4, buf,
				8));
		EXPECT_EQ(0xffffffffU, *(uint32_t *)buf);
	}
}

/* --- mmap --------------------------------------------------------------- */

TEST_F(pdev, edu_mmap)
{
	uint64_t size = self->bars[0].size;
	volatile uint8_t *bar;
	uint32_t v = 0;
	void *p;

	if (!self->is_edu)
		SKIP(return, "edu only");
	bar = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->devfd, REGION_OFF(0));
	ASSERT_NE(MAP_FAILED, bar);
	EXPECT_EQ(EDU_ID_VALUE, *(volatile uint32_t *)(bar + EDU_ID));
	*(volatile uint32_t *)(bar + EDU_LIVENESS) = 0xa5a5a5a5;
	EXPECT_EQ(~0xa5a5a5a5U, dev_rd32(self->devfd, EDU_LIVENESS));

	/*
	 * Part of the BAR, at an offset: its second page, where the edu
	 * answers every read with ones (the first page has the ID).
	 */
	p = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, self->devfd,
		 REGION_OFF(0) + PAGE_SZ);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(4, rd(self->devfd, 0, PAGE_SZ, &v, 4));
	EXPECT_EQ(v, *(volatile uint32_t *)p);
	EXPECT_NE(EDU_ID_VALUE, *(volatile uint32_t *)p);
	munmap(p, PAGE_SZ);

	/* Private, too long, past the end, other regions: EINVAL. */
	p = mmap(NULL, PAGE_SZ, PROT_READ, MAP_PRIVATE, self->devfd,
		 REGION_OFF(0));
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, size + PAGE_SZ, PROT_READ, MAP_SHARED, self->devfd,
		 REGION_OFF(0));
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, self->devfd,
		 REGION_OFF(0) + size);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, self->devfd,
		 REGION_OFF(1));
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, self->devfd,
		 REGION_OFF(VFIO_PCI_CONFIG_REGION_INDEX));
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, self->devfd,
		 REGION_OFF(VFIO_PCI_ROM_REGION_INDEX));
	EXPECT_EQ(MAP_FAILED, p);

	EXPECT_EQ(0, try_read32(bar + EDU_ID, &v));
	EXPECT_EQ(EDU_ID_VALUE, v);
	munmap((void *)bar, size);
}

/*
 * VFIO_DEVICE_RESET where the device can be reset: the mapping survives
 * it (it is taken away during the reset and faults back in after); where
 * it cannot, EINVAL.
 */
TEST_F(pdev, reset)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	volatile uint8_t *bar;
	uint32_t before, after;
	int b;

	ASSERT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_INFO, &info));
	if (!(info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd, VFIO_DEVICE_RESET,
					     NULL));
		return;
	}
	for (b = 0; b < 6; b++)
		if (bar_mmappable(self, b))
			break;
	ASSERT_GT(6, b);
	bar = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, self->devfd,
		   REGION_OFF(b));
	ASSERT_NE(MAP_FAILED, bar);
	ASSERT_EQ(0, try_read32(bar, &before));
	EXPECT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_RESET, NULL));
	EXPECT_EQ(0, try_read32(bar, &after));
	/* The mapping reads what the device file reads. */
	ASSERT_EQ(4, rd(self->devfd, b, 0, &before, 4));
	EXPECT_EQ(before, after);
	munmap((void *)bar, PAGE_SZ);
}

/* Closing the device file gives the BARs back: nothing stays claimed. */
TEST_F(pdev, close_releases_bars)
{
	const char *owner = "vfio";	/* upstream's name, on both stacks */
	uint32_t v;

	if (iomem_claimed_by(owner))
		SKIP(return, "something else holds a %s claim", owner);
	ASSERT_EQ(4, rd(self->devfd, 0, 0, &v, 4));
	EXPECT_TRUE(iomem_claimed_by(owner));
	close(self->devfd);
	self->devfd = -1;
	EXPECT_FALSE(iomem_claimed_by(owner));
}

TEST_HARNESS_MAIN
