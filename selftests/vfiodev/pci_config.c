// SPDX-License-Identifier: GPL-2.0
/*
 * Config space through the device file (region 7) on an edu, an nvme and
 * an e1000e: identity as sysfs has it, BAR sizing as on hardware with the
 * device's real BARs untouched, read-only registers, the capability chain
 * user space sees, MSI and MSI-X kept virtual, the command register
 * reaching the device, and memory decoding turned off through it taking
 * BAR access away (EIO, SIGBUS) until it is back on; PCIe Device Control
 * written through, with FLR emulated.
 *
 * VFIODEV_STACK=upstream runs it against vfio-pci; where upstream decides
 * otherwise (it shows the host's BAR addresses until user space writes
 * its own, it passes more extended capabilities) the test says so.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "pci_utils.h"
#include "kselftest_harness.h"

#define CFG_OFF(off)	(((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + (off))
#define BAR_OFF(b, off)	(((uint64_t)(b) << 40) + (off))
#define PAGE_SZ		4096UL

static uint32_t cfg_rd(int fd, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	if (pread(fd, &v, len, CFG_OFF(off)) != (ssize_t)len)
		return 0xdeadbeef;
	return v;
}

static int cfg_wr(int fd, unsigned int off, unsigned int len, uint32_t v)
{
	return pwrite(fd, &v, len, CFG_OFF(off)) == (ssize_t)len ? 0 : -errno;
}

/* Capability @id in the chain the device file shows, 0 if none. */
static int cap_find(int fd, uint8_t id)
{
	unsigned int pos = cfg_rd(fd, PCI_CAPABILITY_LIST, 1), ttl = 48;

	while (pos >= 0x40 && ttl--) {
		if (cfg_rd(fd, pos, 1) == id)
			return pos;
		pos = cfg_rd(fd, pos + 1, 1);
	}
	return 0;
}

FIXTURE(cfg) {
	char bdf[BDF_LEN];
	int devfd, iommufd;
	unsigned long long size[6];
};

FIXTURE_VARIANT(cfg) {
	unsigned int vendor, device, class;
	const char *name;
};

FIXTURE_VARIANT_ADD(cfg, edu) {
	.vendor = EDU_VENDOR, .device = EDU_DEVICE, .name = "edu",
};

FIXTURE_VARIANT_ADD(cfg, nvme) {
	.class = NVME_CLASS, .name = "nvme",
};

FIXTURE_VARIANT_ADD(cfg, e1000e) {
	.class = ETH_CLASS, .name = "e1000e",
};

FIXTURE_SETUP(cfg)
{
	char bdfs[8][BDF_LEN], path[PATH_MAX];
	unsigned long long s, e, f;
	FILE *fp;
	int i;

	self->devfd = self->iommufd = -1;
	ASSERT_LE(1, pci_find(variant->vendor, variant->device,
			      variant->class, bdfs, 8));
	strcpy(self->bdf, bdfs[0]);
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/resource",
		 self->bdf);
	fp = fopen(path, "re");
	ASSERT_NE(NULL, fp);
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(3, fscanf(fp, "%llx %llx %llx", &s, &e, &f));
		self->size[i] = s ? e - s + 1 : 0;
	}
	fclose(fp);

	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(self->bdf, stack_pci_driver()));
	self->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->iommufd);
	self->devfd = vfio_dev_open_bound(self->bdf, self->iommufd, NULL);
	ASSERT_LE(0, self->devfd);
}

FIXTURE_TEARDOWN(cfg)
{
	if (self->devfd >= 0)
		close(self->devfd);
	if (self->iommufd >= 0)
		close(self->iommufd);
	EXPECT_EQ(0, pci_give_back(self->bdf));
}

TEST_F(cfg, identity_and_bounds)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	uint8_t buf[8];

	EXPECT_EQ(pci_cfg_rd(self->bdf, 0, 4), cfg_rd(self->devfd, 0, 4));
	EXPECT_EQ(pci_cfg_rd(self->bdf, PCI_CLASS_REVISION, 4),
		  cfg_rd(self->devfd, PCI_CLASS_REVISION, 4));
	EXPECT_EQ(pci_cfg_rd(self->bdf, PCI_SUBSYSTEM_VENDOR_ID, 4),
		  cfg_rd(self->devfd, PCI_SUBSYSTEM_VENDOR_ID, 4));
	/* Every width, and a read across dwords. */
	EXPECT_EQ(pci_cfg_rd(self->bdf, 1, 1), cfg_rd(self->devfd, 1, 1));
	EXPECT_EQ(pci_cfg_rd(self->bdf, 2, 2), cfg_rd(self->devfd, 2, 2));
	ASSERT_EQ(8, pread(self->devfd, buf, 8, CFG_OFF(1)));
	EXPECT_EQ(pci_cfg_rd(self->bdf, 1, 1), buf[0]);

	/* What does not fit is EFAULT, the whole access (upstream's rule). */
	ASSERT_EQ(0, ioctl(self->devfd, VFIO_DEVICE_GET_REGION_INFO, &info));
	EXPECT_EQ(4, pread(self->devfd, buf, 4, CFG_OFF(info.size - 4)));
	EXPECT_EQ(-1, pread(self->devfd, buf, 8, CFG_OFF(info.size - 4)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pread(self->devfd, buf, 4, CFG_OFF(info.size)));
	EXPECT_EQ(EFAULT, errno);
}

/*
 * BAR sizing as a guest's firmware does it: all ones written, the size
 * mask and the flags read back; an address written reads back; and none
 * of it reaches the device's real BARs.
 */
TEST_F(cfg, bar_sizing)
{
	uint32_t real[6], flags, v, mask;
	int i;

	for (i = 0; i < 6; i++)
		real[i] = pci_cfg_rd(self->bdf, PCI_BASE_ADDRESS_0 + 4 * i, 4);

	for (i = 0; i < 6; i++) {
		unsigned int off = PCI_BASE_ADDRESS_0 + 4 * i;
		bool io = real[i] & PCI_BASE_ADDRESS_SPACE_IO;
		bool is64 = !io && (real[i] & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
					PCI_BASE_ADDRESS_MEM_TYPE_64;

		if (!self->size[i])
			continue;
		flags = real[i] & (io ? ~PCI_BASE_ADDRESS_IO_MASK :
				       ~PCI_BASE_ADDRESS_MEM_MASK);
		mask = ~(uint32_t)(self->size[i] - 1) &
		       (io ? PCI_BASE_ADDRESS_IO_MASK : PCI_BASE_ADDRESS_MEM_MASK);
		if (!stack_is_upstream())
			/* No host address is shown before one is written. */
			EXPECT_EQ(flags, cfg_rd(self->devfd, off, 4))
				TH_LOG("BAR%d", i);
		ASSERT_EQ(0, cfg_wr(self->devfd, off, 4, 0xffffffff));
		v = cfg_rd(self->devfd, off, 4);
		EXPECT_EQ(mask | flags, v) TH_LOG("BAR%d sized %#x", i, v);
		ASSERT_EQ(0, cfg_wr(self->devfd, off, 4, 0x12345678));
		EXPECT_EQ((0x12345678 & mask) | flags,
			  cfg_rd(self->devfd, off, 4)) TH_LOG("BAR%d", i);
		if (is64) {
			i++;
			ASSERT_EQ(0, cfg_wr(self->devfd, off + 4, 4,
					    0xffffffff));
			EXPECT_EQ(~(uint32_t)((self->size[i - 1] - 1) >> 32),
				  cfg_rd(self->devfd, off + 4, 4));
		}
	}
	for (i = 0; i < 6; i++)
		EXPECT_EQ(real[i], pci_cfg_rd(self->bdf, PCI_BASE_ADDRESS_0 +
					   4 * i, 4)) TH_LOG("real BAR%d", i);
}

TEST_F(cfg, read_only_registers)
{
	uint32_t id = cfg_rd(self->devfd, 0, 4);
	uint8_t cap = cfg_rd(self->devfd, PCI_CAPABILITY_LIST, 1);
	uint8_t pin = cfg_rd(self->devfd, PCI_INTERRUPT_PIN, 1);
	uint32_t class = cfg_rd(self->devfd, PCI_CLASS_REVISION, 4);

	EXPECT_EQ(0, cfg_wr(self->devfd, 0, 4, 0x56781234));
	EXPECT_EQ(id, cfg_rd(self->devfd, 0, 4));
	EXPECT_EQ(0, cfg_wr(self->devfd, PCI_CLASS_REVISION, 4, 0));
	EXPECT_EQ(class, cfg_rd(self->devfd, PCI_CLASS_REVISION, 4));
	EXPECT_EQ(0, cfg_wr(self->devfd, PCI_CAPABILITY_LIST, 1, 0x80));
	EXPECT_EQ(cap, cfg_rd(self->devfd, PCI_CAPABILITY_LIST, 1));
	EXPECT_EQ(0, cfg_wr(self->devfd, PCI_INTERRUPT_PIN, 1, 3));
	EXPECT_EQ(pin, cfg_rd(self->devfd, PCI_INTERRUPT_PIN, 1));
	/* The line register is the user's. */
	EXPECT_EQ(0, cfg_wr(self->devfd, PCI_INTERRUPT_LINE, 1, 0x5a));
	EXPECT_EQ(0x5aU, cfg_rd(self->devfd, PCI_INTERRUPT_LINE, 1));
	EXPECT_EQ(id, pci_cfg_rd(self->bdf, 0, 4));
}

/* The chain user space walks: well formed, and what the device has. */
TEST_F(cfg, capability_chain)
{
	static const uint8_t known[] = {
		PCI_CAP_ID_PM, PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX, PCI_CAP_ID_EXP,
		PCI_CAP_ID_VNDR,
	};
	unsigned int pos, ttl = 48, seen = 0, i;
	bool ok;

	ASSERT_TRUE(!!(cfg_rd(self->devfd, PCI_STATUS, 2) &
		       PCI_STATUS_CAP_LIST));
	pos = cfg_rd(self->devfd, PCI_CAPABILITY_LIST, 1);
	while (pos) {
		uint8_t id = cfg_rd(self->devfd, pos, 1);

		ASSERT_LE(0x40U, pos);
		ASSERT_GT(0x100U, pos);
		ASSERT_EQ(0U, pos & 3);
		ASSERT_LT(0U, ttl--) TH_LOG("the chain loops");
		for (ok = false, i = 0; i < sizeof(known); i++)
			ok |= id == known[i];
		if (!stack_is_upstream())
			EXPECT_TRUE(ok) TH_LOG("cap %#x at %#x", id, pos);
		seen |= 1U << (id & 31);
		pos = cfg_rd(self->devfd, pos + 1, 1);
	}
	/* What the real chain has of MSI and MSI-X, the file shows. */
	EXPECT_EQ(!!pci_cfg_cap(self->bdf, PCI_CAP_ID_MSI),
		  !!(seen & (1U << PCI_CAP_ID_MSI)));
	EXPECT_EQ(!!pci_cfg_cap(self->bdf, PCI_CAP_ID_MSIX),
		  !!(seen & (1U << PCI_CAP_ID_MSIX)));
	if (!strcmp(variant->name, "edu")) {
		EXPECT_TRUE(!!(seen & (1U << PCI_CAP_ID_MSI)));
	} else {
		EXPECT_TRUE(!!(seen & (1U << PCI_CAP_ID_MSIX)));
	}
}

/* Enabling MSI or MSI-X in config space does not reach the device. */
TEST_F(cfg, msi_msix_virtual)
{
	int msi = cap_find(self->devfd, PCI_CAP_ID_MSI);
	int msix = cap_find(self->devfd, PCI_CAP_ID_MSIX);
	uint16_t f;

	ASSERT_TRUE(msi || msix);
	if (msi) {
		/*
		 * MSI is turned on by VFIO_DEVICE_SET_IRQS: the enable bit
		 * written here neither sticks nor reaches the device.
		 */
		f = cfg_rd(self->devfd, msi + PCI_MSI_FLAGS, 2);
		ASSERT_EQ(0, cfg_wr(self->devfd, msi + PCI_MSI_FLAGS, 2,
				    f | PCI_MSI_FLAGS_ENABLE));
		EXPECT_FALSE(!!(cfg_rd(self->devfd, msi + PCI_MSI_FLAGS, 2) &
				PCI_MSI_FLAGS_ENABLE));
		EXPECT_FALSE(!!(pci_cfg_rd(self->bdf, msi + PCI_MSI_FLAGS, 2) &
				PCI_MSI_FLAGS_ENABLE));
		ASSERT_EQ(0, cfg_wr(self->devfd, msi + PCI_MSI_ADDRESS_LO, 4,
				    0xfee01000));
		EXPECT_EQ(0xfee01000U, cfg_rd(self->devfd,
					      msi + PCI_MSI_ADDRESS_LO, 4));
		EXPECT_NE(0xfee01000U, pci_cfg_rd(self->bdf,
					       msi + PCI_MSI_ADDRESS_LO, 4));
		cfg_wr(self->devfd, msi + PCI_MSI_FLAGS, 2, f);
	}
	if (msix) {
		/* Read-only: MSI-X is SET_IRQS's too. */
		f = cfg_rd(self->devfd, msix + PCI_MSIX_FLAGS, 2);
		ASSERT_EQ(0, cfg_wr(self->devfd, msix + PCI_MSIX_FLAGS, 2,
				    f | PCI_MSIX_FLAGS_ENABLE));
		EXPECT_EQ(f, cfg_rd(self->devfd, msix + PCI_MSIX_FLAGS, 2));
		EXPECT_FALSE(!!(pci_cfg_rd(self->bdf, msix + PCI_MSIX_FLAGS, 2) &
				PCI_MSIX_FLAGS_ENABLE));
		/* The table's place is the device's. */
		cfg_wr(self->devfd, msix + PCI_MSIX_TABLE, 4, 0x7);
		EXPECT_EQ(pci_cfg_rd(self->bdf, msix + PCI_MSIX_TABLE, 4),
			  cfg_rd(self->devfd, msix + PCI_MSIX_TABLE, 4));
		cfg_wr(self->devfd, msix + PCI_MSIX_FLAGS, 2, f);
	}
}

/*
 * The command register: bus mastering reaches the device; memory decoding
 * off takes the BARs away (read: EIO; mapping: SIGBUS) until it is on.
 */
TEST_F(cfg, command_register)
{
	uint16_t cmd = cfg_rd(self->devfd, PCI_COMMAND, 2);
	volatile uint32_t *bar;
	uint32_t v;
	int b;

	for (b = 0; b < 6; b++)
		if (self->size[b] >= PAGE_SZ &&
		    !(pci_cfg_rd(self->bdf, PCI_BASE_ADDRESS_0 + 4 * b, 4) &
		      PCI_BASE_ADDRESS_SPACE_IO))
			break;
	ASSERT_GT(6, b);
	ASSERT_TRUE(!!(cmd & PCI_COMMAND_MEMORY));

	ASSERT_EQ(0, cfg_wr(self->devfd, PCI_COMMAND, 2,
			    cmd | PCI_COMMAND_MASTER));
	EXPECT_TRUE(!!(pci_cfg_rd(self->bdf, PCI_COMMAND, 2) &
		       PCI_COMMAND_MASTER));
	ASSERT_EQ(0, cfg_wr(self->devfd, PCI_COMMAND, 2,
			    cmd & ~PCI_COMMAND_MASTER));
	EXPECT_FALSE(!!(pci_cfg_rd(self->bdf, PCI_COMMAND, 2) &
			PCI_COMMAND_MASTER));
	ASSERT_EQ(0, cfg_wr(self->devfd, PCI_COMMAND, 2, cmd));

	bar = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, self->devfd,
		   BAR_OFF(b, 0));
	ASSERT_NE(MAP_FAILED, bar);
	ASSERT_EQ(0, try_read32(bar, &v));
	ASSERT_EQ(4, pread(self->devfd, &v, 4, BAR_OFF(b, 0)));

	ASSERT_EQ(0, cfg_wr(self->devfd, PCI_COMMAND, 2,
			    cmd & ~PCI_COMMAND_MEMORY));
	EXPECT_FALSE(!!(pci_cfg_rd(self->bdf, PCI_COMMAND, 2) &
			PCI_COMMAND_MEMORY));
	EXPECT_EQ(-EFAULT, try_read32(bar, &v));
	EXPECT_EQ(-1, pread(self->devfd, &v, 4, BAR_OFF(b, 0)));
	EXPECT_EQ(EIO, errno);

	ASSERT_EQ(0, cfg_wr(self->devfd, PCI_COMMAND, 2, cmd));
	EXPECT_TRUE(!!(pci_cfg_rd(self->bdf, PCI_COMMAND, 2) &
		       PCI_COMMAND_MEMORY));
	EXPECT_EQ(0, try_read32(bar, &v));
	EXPECT_EQ(4, pread(self->devfd, &v, 4, BAR_OFF(b, 0)));
	munmap((void *)bar, PAGE_SZ);
}

/*
 * A BAR mmap as the user buffer of the device file's own read() and
 * write() (CVE-2020-12888 and the recursive memory_lock of its first fix:
 * the copy faults the mapping in while the access is under way).  With
 * decoding on, both complete (what reaches the edu is not checked: the
 * kernel's copy of 4 bytes goes a byte at a time, and the edu ignores
 * accesses of other sizes than 4 and 8).  With it off a store to the
 * mapping raises SIGBUS, BAR access is EIO and a copy into the mapping
 * EFAULT.  Nothing hangs, and lockdep sees no recursion.  Only on the
 * edu, whose registers at 0 and 4 are safe to write.
 */
TEST_F(cfg, bar_mmap_as_io_buffer)
{
	uint16_t cmd = cfg_rd(self->devfd, PCI_COMMAND, 2);
	volatile uint8_t *bar;
	uint32_t v;

	if (variant->vendor != EDU_VENDOR)
		SKIP(return, "the edu's registers only");
	ASSERT_EQ(0, cfg_wr(self->devfd, PCI_COMMAND, 2,
			    cmd | PCI_COMMAND_MEMORY));
	bar = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->devfd, BAR_OFF(0, 0));
	ASSERT_NE(MAP_FAILED, bar);

	/* The first touch of the mapping is the copy's own fault. */
	EXPECT_EQ(4, pread(self->devfd, (void *)(bar + 4), 4, BAR_OFF(0, 0)));
	EXPECT_EQ(4, pwrite(self->devfd, (void *)bar, 4, BAR_OFF(0, 4)));
	EXPECT_EQ(4, pread(self->devfd, (void *)(bar + 4), 4, CFG_OFF(0)));
	EXPECT_EQ(0x010000edU, *(volatile uint32_t *)bar);	/* the edu's ID */

	ASSERT_EQ(0, cfg_wr(self->devfd, PCI_COMMAND, 2,
			    cmd & ~PCI_COMMAND_MEMORY));
	EXPECT_EQ(-EFAULT, try_write32(bar + 4, 1));
	EXPECT_EQ(-1, pread(self->devfd, (void *)(bar + 4), 4, BAR_OFF(0, 0)));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(-1, pwrite(self->devfd, (void *)bar, 4, BAR_OFF(0, 4)));
	EXPECT_EQ(EFAULT, errno);
	/* Config space still answers, but not into the mapping. */
	EXPECT_EQ(-1, pread(self->devfd, (void *)(bar + 4), 4, CFG_OFF(0)));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(4, pread(self->devfd, &v, 4, CFG_OFF(0)));
	EXPECT_EQ((uint32_t)(EDU_VENDOR | EDU_DEVICE << 16), v);

	ASSERT_EQ(0, cfg_wr(self->devfd, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY));
	EXPECT_EQ(0, try_write32(bar + 4, 0x55));
	EXPECT_EQ(~0x55U, *(volatile uint32_t *)(bar + 4));
	munmap((void *)bar, PAGE_SZ);
	ASSERT_EQ(0, cfg_wr(self->devfd, PCI_COMMAND, 2, cmd));
}

/*
 * Registers of the nvme's BAR0 to tell a function reset by: one that
 * VFIO_DEVICE_RESET (a function reset, with no Device Control involved)
 * takes from the value written back to 0.  Its offset and value in *@reg,
 * or -1 for none.
 */
struct nvme_reg {
	unsigned int off;
	uint32_t val;
};

static int nvme_reset_marker(int fd, struct nvme_reg *reg)
{
	static const struct nvme_reg regs[] = {
		{ 0x14, 0x00460000 },	/* CC: queue entry sizes, not enabled */
		{ 0x24, 0x001f001f },	/* AQA: admin queue sizes */
	};
	unsigned int i;
	uint32_t v;

	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		if (pwrite(fd, &regs[i].val, 4, BAR_OFF(0, regs[i].off)) != 4 ||
		    pread(fd, &v, 4, BAR_OFF(0, regs[i].off)) != 4 ||
		    v != regs[i].val || ioctl(fd, VFIO_DEVICE_RESET) ||
		    pread(fd, &v, 4, BAR_OFF(0, regs[i].off)) != 4)
			continue;
		if (!v) {
			*reg = regs[i];
			return 0;
		}
	}
	return -1;
}

/*
 * PCIe Device Control reaches the device, as upstream lets it: a plain
 * bit (one the device implements) shows in its own config space, Phantom
 * Functions never do, and Initiate FLR (kept virtual) resets the device
 * (on the nvme, which has FLR: a register that VFIO_DEVICE_RESET clears
 * is cleared by it too) and reads back as 0.
 */
/*
 * A Device Control bit the device lets software change (QEMU's devices
 * implement few): toggled through sysfs and put back; 0 if none.
 */
static uint32_t devctl_writable_bit(const char *bdf, int exp)
{
	static const uint16_t bits[] = {
		PCI_EXP_DEVCTL_CERE, PCI_EXP_DEVCTL_NFERE, PCI_EXP_DEVCTL_FERE,
		PCI_EXP_DEVCTL_URRE, PCI_EXP_DEVCTL_RELAX_EN,
		PCI_EXP_DEVCTL_EXT_TAG, PCI_EXP_DEVCTL_NOSNOOP_EN,
	};
	uint16_t ctl = pci_cfg_rd(bdf, exp + PCI_EXP_DEVCTL, 2), v;
	unsigned int i;

	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		v = ctl ^ bits[i];
		if (pci_cfg_write(bdf, &v, 2, exp + PCI_EXP_DEVCTL))
			return 0;
		v = pci_cfg_rd(bdf, exp + PCI_EXP_DEVCTL, 2);
		pci_cfg_write(bdf, &ctl, 2, exp + PCI_EXP_DEVCTL);
		if (v == (uint16_t)(ctl ^ bits[i]))
			return bits[i];
	}
	return 0;
}

TEST_F(cfg, devctl)
{
	int exp = cap_find(self->devfd, PCI_CAP_ID_EXP);
	uint32_t v = 0, ctl, hw, bit;
	struct nvme_reg reg;

	if (!exp) {
		/* QEMU's nvme and e1000e are PCI Express devices. */
		ASSERT_EQ(0U, pci_cfg_cap(self->bdf, PCI_CAP_ID_EXP))
			TH_LOG("the device has a PCIe capability we do not show");
		SKIP(return, "no PCI Express capability");
	}
	ctl = cfg_rd(self->devfd, exp + PCI_EXP_DEVCTL, 2);
	hw = pci_cfg_rd(self->bdf, exp + PCI_EXP_DEVCTL, 2);
	bit = devctl_writable_bit(self->bdf, exp);
	if (bit) {
		EXPECT_EQ(hw & bit, ctl & bit);
		ASSERT_EQ(0, cfg_wr(self->devfd, exp + PCI_EXP_DEVCTL, 2,
				    ctl ^ bit));
		EXPECT_EQ((hw ^ bit) & bit,
			  pci_cfg_rd(self->bdf, exp + PCI_EXP_DEVCTL, 2) & bit);
		EXPECT_EQ(ctl ^ bit,
			  cfg_rd(self->devfd, exp + PCI_EXP_DEVCTL, 2));
	} else {
		TH_LOG("the device implements no plain Device Control bit");
	}
	ASSERT_EQ(0, cfg_wr(self->devfd, exp + PCI_EXP_DEVCTL, 2,
			    ctl | PCI_EXP_DEVCTL_PHANTOM));
	EXPECT_EQ(hw & PCI_EXP_DEVCTL_PHANTOM,
		  pci_cfg_rd(self->bdf, exp + PCI_EXP_DEVCTL, 2) &
		  PCI_EXP_DEVCTL_PHANTOM);
	ASSERT_EQ(0, cfg_wr(self->devfd, exp + PCI_EXP_DEVCTL, 2, ctl));
	EXPECT_EQ(hw, pci_cfg_rd(self->bdf, exp + PCI_EXP_DEVCTL, 2));

	if (variant->class != NVME_CLASS)
		return;
	ASSERT_TRUE(!!(pci_cfg_rd(self->bdf, exp + PCI_EXP_DEVCAP, 4) &
		       PCI_EXP_DEVCAP_FLR));
	ASSERT_EQ(0, nvme_reset_marker(self->devfd, &reg))
		TH_LOG("no nvme register that a function reset clears");
	ASSERT_EQ(4, pwrite(self->devfd, &reg.val, 4, BAR_OFF(0, reg.off)));
	ASSERT_EQ(0, cfg_wr(self->devfd, exp + PCI_EXP_DEVCTL, 2,
			    ctl | PCI_EXP_DEVCTL_BCR_FLR));
	EXPECT_EQ(ctl, cfg_rd(self->devfd, exp + PCI_EXP_DEVCTL, 2));
	ASSERT_EQ(4, pread(self->devfd, &v, 4, BAR_OFF(0, reg.off)));
	EXPECT_EQ(0U, v) TH_LOG("register %#x after the FLR", reg.off);
}

/* Extended capabilities of PCIe devices: a chain that ends. */
/*
 * Bus Master left on by firmware (SeaBIOS leaves the nvme at 0x0107) does
 * not reach user space: it is cleared before the device is enabled and
 * reset on open, so nothing DMAs before user space has mapped its memory,
 * and the config space restored on close does not have it either.
 */
TEST_F(cfg, open_clears_bus_master)
{
	uint16_t cmd;

	close(self->devfd);
	self->devfd = -1;
	ASSERT_EQ(0, pci_release(self->bdf));
	cmd = pci_cfg_rd(self->bdf, PCI_COMMAND, 2) | PCI_COMMAND_MASTER |
	      PCI_COMMAND_MEMORY;
	ASSERT_EQ(0, pci_cfg_write(self->bdf, &cmd, 2, PCI_COMMAND));
	ASSERT_NE(0U, pci_cfg_rd(self->bdf, PCI_COMMAND, 2) &
		  PCI_COMMAND_MASTER);

	ASSERT_EQ(0, pci_bind(self->bdf, stack_pci_driver()));
	self->devfd = vfio_dev_open_bound(self->bdf, self->iommufd, NULL);
	ASSERT_LE(0, self->devfd);
	EXPECT_EQ(0U, pci_cfg_rd(self->bdf, PCI_COMMAND, 2) &
		  PCI_COMMAND_MASTER);
	EXPECT_EQ(0U, cfg_rd(self->devfd, PCI_COMMAND, 2) & PCI_COMMAND_MASTER);

	close(self->devfd);
	self->devfd = -1;
	ASSERT_EQ(0, pci_release(self->bdf));
	EXPECT_EQ(0U, pci_cfg_rd(self->bdf, PCI_COMMAND, 2) &
		  PCI_COMMAND_MASTER);
}

TEST_F(cfg, extended_chain)
{
	unsigned int pos = 0x100, ttl = 64;
	uint32_t hdr;

	if (cfg_rd(self->devfd, 0, 4) == 0xdeadbeef ||
	    pread(self->devfd, &hdr, 4, CFG_OFF(0x100)) != 4)
		SKIP(return, "no extended config space");
	while (pos) {
		hdr = cfg_rd(self->devfd, pos, 4);
		ASSERT_LT(0U, ttl--) TH_LOG("the chain loops");
		ASSERT_LE(0x100U, pos);
		ASSERT_GT(0x1000U, pos);
		if (!stack_is_upstream())
			EXPECT_TRUE(PCI_EXT_CAP_ID(hdr) == 0 ||
				    PCI_EXT_CAP_ID(hdr) == PCI_EXT_CAP_ID_ERR ||
				    PCI_EXT_CAP_ID(hdr) == PCI_EXT_CAP_ID_DSN)
				TH_LOG("ext cap %#x at %#x", PCI_EXT_CAP_ID(hdr),
				       pos);
		pos = PCI_EXT_CAP_NEXT(hdr);
	}
}

TEST_HARNESS_MAIN
