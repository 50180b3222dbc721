// SPDX-License-Identifier: GPL-2.0
/*
 * The VGA region of a VGA device (QEMU's std VGA, -device VGA in the
 * guest), what QEMU's x-vga=on uses to give a guest the card as its
 * primary display: region 8 is the legacy VGA space at its own addresses,
 * memory 0xa0000-0xbffff and I/O 0x3b0-0x3bb, 0x3c0-0x3df.  Text written to
 * the text buffer at 0xb8000 reads back, as does the sequencer's index
 * register at 0x3c4; offsets outside those ranges are EINVAL, an access
 * is cut at the end of its range, and a device that is not VGA has no such
 * region.  With disable_vga=1 the region is not offered.
 *
 * Opened through the group and a type1v2 container, so that the suite
 * runs on upstream's vfio-pci in the stock kernel too
 * (VFIODEV_STACK=upstream).
 */
#include <sys/ioctl.h>

#include <linux/vfio.h>

#include "pci_utils.h"
#include "kselftest_harness.h"

#define VGA_CLASS	0x030000
#define VGA_OFF(pos)	(((off_t)VFIO_PCI_VGA_REGION_INDEX << 40) + (pos))

static int region_info(int fd, uint32_t index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info) ? -errno : 0;
}

static ssize_t vga_rw(int fd, off_t pos, void *buf, size_t len, bool write)
{
	ssize_t n = write ? pwrite(fd, buf, len, VGA_OFF(pos)) :
			    pread(fd, buf, len, VGA_OFF(pos));

	return n < 0 ? -errno : n;
}

FIXTURE(vga) {
	char bdf[BDF_LEN];
	int group, container, devfd;
};

FIXTURE_SETUP(vga)
{
	char bdfs[2][BDF_LEN];

	self->group = self->container = self->devfd = -1;
	ASSERT_LE(1, pci_find(0, 0, VGA_CLASS, bdfs, 2))
		TH_LOG("the guest has no VGA device (-device VGA)");
	strcpy(self->bdf, bdfs[0]);
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(self->bdf, stack_pci_driver()));
}

FIXTURE_TEARDOWN(vga)
{
	close_by_group(&self->devfd, &self->group, &self->container);
	EXPECT_EQ(0, pci_release(self->bdf));
}

TEST_F(vga, legacy_ranges)
{
	struct vfio_region_info info;
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	uint8_t text[4] = { 'v', 0x1e, 'f', 0x1e }, back[4], idx;
	uint8_t buf[16];

	self->devfd = open_by_group(self->bdf, &self->group,
				    &self->container);
	ASSERT_LE(0, self->devfd) TH_LOG("%s", strerror(-self->devfd));
	ASSERT_EQ(0, ioctl(self->devfd, VFIO_DEVICE_GET_INFO, &dinfo));
	EXPECT_LE((uint32_t)VFIO_PCI_NUM_REGIONS, dinfo.num_regions);

	ASSERT_EQ(0, region_info(self->devfd, VFIO_PCI_VGA_REGION_INDEX,
				 &info));
	EXPECT_EQ(0xc0000ULL, info.size);
	EXPECT_EQ((uint64_t)VGA_OFF(0), info.offset);
	EXPECT_EQ((uint32_t)(VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE), info.flags);

	/* The text buffer. */
	ASSERT_EQ(4, vga_rw(self->devfd, 0xb8000, text, 4, true));
	ASSERT_EQ(4, vga_rw(self->devfd, 0xb8000, back, 4, false));
	EXPECT_EQ(0, memcmp(text, back, 4));
	/* The sequencer's index register, an I/O port. */
	idx = 0x02;
	ASSERT_EQ(1, vga_rw(self->devfd, 0x3c4, &idx, 1, true));
	idx = 0;
	ASSERT_EQ(1, vga_rw(self->devfd, 0x3c4, &idx, 1, false));
	EXPECT_EQ(0x02, idx & 0x07);

	/* Cut at the end of a range. */
	EXPECT_EQ(4, vga_rw(self->devfd, 0x3bc - 4, buf, sizeof(buf), false));
	EXPECT_EQ(8, vga_rw(self->devfd, 0xc0000 - 8, buf, sizeof(buf),
			    false));
	/* Outside the ranges. */
	EXPECT_EQ(-EINVAL, vga_rw(self->devfd, 0, buf, 1, false));
	EXPECT_EQ(-EINVAL, vga_rw(self->devfd, 0x3bc, buf, 1, false));
	EXPECT_EQ(-EINVAL, vga_rw(self->devfd, 0x3e0, buf, 1, true));
	EXPECT_EQ(-EINVAL, vga_rw(self->devfd, 0x9ffff, buf, 1, false));
	EXPECT_EQ(-EINVAL, vga_rw(self->devfd, 0xc0000, buf, 1, false));
}

/* A device that is not VGA: no VGA region. */
TEST(not_vga)
{
	struct vfio_region_info info;
	char bdfs[4][BDF_LEN];
	int group = -1, container = -1, fd;
	uint8_t b;

	ASSERT_LE(1, pci_find(EDU_VENDOR, EDU_DEVICE, 0, bdfs, 4));
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(bdfs[0], stack_pci_driver()));
	fd = open_by_group(bdfs[0], &group, &container);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, region_info(fd, VFIO_PCI_VGA_REGION_INDEX, &info));
	EXPECT_EQ(-EINVAL, vga_rw(fd, 0xb8000, &b, 1, false));
	close(fd);
	close(group);
	close(container);
	EXPECT_EQ(0, pci_release(bdfs[0]));
}

/* disable_vga=1: the VGA device has no VGA region either. */
TEST_F(vga, disable_vga)
{
	struct vfio_region_info info;
	uint8_t b;

	ASSERT_EQ(0, pci_release(self->bdf));
	ASSERT_EQ(0, vfio_pci_reload("disable_vga=1"));
	ASSERT_EQ(0, pci_bind(self->bdf, stack_pci_driver()));
	self->devfd = open_by_group(self->bdf, &self->group,
				    &self->container);
	ASSERT_LE(0, self->devfd) TH_LOG("%s", strerror(-self->devfd));
	EXPECT_EQ(-EINVAL, region_info(self->devfd,
				       VFIO_PCI_VGA_REGION_INDEX, &info));
	EXPECT_EQ(-EINVAL, vga_rw(self->devfd, 0xb8000, &b, 1, false));
	close(self->devfd);
	self->devfd = -1;
	close(self->group);
	self->group = -1;
	ASSERT_EQ(0, pci_release(self->bdf));
	ASSERT_EQ(0, vfio_pci_reload(""));
	ASSERT_EQ(0, pci_bind(self->bdf, stack_pci_driver()));
}

TEST_HARNESS_MAIN
