// SPDX-License-Identifier: GPL-2.0
/*
 * Hot reset through the device cdev: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO
 * with device IDs, and VFIO_DEVICE_PCI_HOT_RESET with an empty group-fd
 * array, ownership proven by the iommufd context.  The guest has a
 * two-function edu behind a PCIe root port (bus 1): a reset of that slot
 * or bus takes both functions along, so both must be owned by the caller.
 * An edu on the root bus cannot be hot reset at all.  The functions share
 * an IOMMU group when the edu has no ACS (QEMU's has none).
 *
 * Runs against upstream's vfio-pci as well (VFIODEV_STACK=upstream).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "vfiodev_utils.h"
#include "kselftest_harness.h"

#define EDU_ID_VALUE	0x010000edU
#define EDU_LIVENESS	0x04
#define MAX_DEPS	8

struct hot_reset_info {
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device devs[MAX_DEPS];
};

static int dev_bind(int devfd, int iommufd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	int ret = ufd_ioctl(devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind);

	if (!ret && devid)
		*devid = bind.out_devid;
	return ret;
}

static int reset_info(int fd, struct hot_reset_info *info, uint32_t argsz)
{
	memset(info, 0, sizeof(*info));
	info->hdr.argsz = argsz;
	return ufd_ioctl(fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
}

static int hot_reset(int fd, uint32_t argsz, uint32_t flags, uint32_t count)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		int32_t fds[2];
	} r = {
		.hdr = { .argsz = argsz, .flags = flags, .count = count },
		.fds = { -1, -1 },
	};

	return ufd_ioctl(fd, VFIO_DEVICE_PCI_HOT_RESET, &r);
}

FIXTURE(hr) {
	char root[4][BDF_LEN], port[4][BDF_LEN];
	int nroot, nport;
	int fd[2];		/* the two functions behind the port */
	uint32_t devid[2];
	int iommufd;
};

FIXTURE_SETUP(hr)
{
	int i;

	self->fd[0] = self->fd[1] = self->iommufd = -1;
	ASSERT_EQ(0, pci_find_edus(self->root, &self->nroot, self->port,
			  &self->nport));
	ASSERT_EQ(2, self->nport) TH_LOG("the guest needs a two-function edu behind a root port");
	ASSERT_LE(1, self->nroot);
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pci_bind(self->port[i], stack_pci_driver()));
	self->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->iommufd);
	self->fd[0] = vfio_dev_open(self->port[0]);
	ASSERT_LE(0, self->fd[0]);
	ASSERT_EQ(0, dev_bind(self->fd[0], self->iommufd, &self->devid[0]));
}

FIXTURE_TEARDOWN(hr)
{
	int i;

	for (i = 0; i < 2; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	if (self->iommufd >= 0)
		close(self->iommufd);
	for (i = 0; i < self->nport && i < 2; i++)
		EXPECT_EQ(0, pci_release(self->port[i]));
}

/* Opens and binds the second function to the same context. */
static void take_second(struct __test_metadata *_metadata,
			FIXTURE_DATA(hr) *self)
{
	self->fd[1] = vfio_dev_open(self->port[1]);
	ASSERT_LE(0, self->fd[1]);
	ASSERT_EQ(0, dev_bind(self->fd[1], self->iommufd, &self->devid[1]));
}

/* Where the dependent device @bdf is in @info, or -1. */
static int find_dep(struct hot_reset_info *info, const char *bdf)
{
	unsigned int seg, bus, dev, fn;
	uint32_t i;

	if (sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4)
		return -1;
	for (i = 0; i < info->hdr.count && i < MAX_DEPS; i++)
		if (info->devs[i].segment == seg && info->devs[i].bus == bus &&
		    info->devs[i].devfn == ((dev << 3) | fn))
			return i;
	return -1;
}

TEST_F(hr, info_format)
{
	struct hot_reset_info info;

	EXPECT_EQ(-EINVAL, reset_info(self->fd[0], &info,
				      offsetofend(struct vfio_pci_hot_reset_info,
						  count) - 1));
	/* No room for the array: ENOSPC and how many there are. */
	EXPECT_EQ(-ENOSPC, reset_info(self->fd[0], &info, sizeof(info.hdr)));
	EXPECT_EQ(2U, info.hdr.count);
	EXPECT_EQ(-ENOSPC, reset_info(self->fd[0], &info, sizeof(info.hdr) +
				      sizeof(info.devs[0])));
	EXPECT_EQ(2U, info.hdr.count);
}

/* Whether two functions share an IOMMU group. */
static bool same_group(const char *a, const char *b)
{
	char pa[PATH_MAX], pb[PATH_MAX], ga[PATH_MAX], gb[PATH_MAX];
	ssize_t na, nb;

	snprintf(pa, sizeof(pa), PCI_SYSFS "/devices/%s/iommu_group", a);
	snprintf(pb, sizeof(pb), PCI_SYSFS "/devices/%s/iommu_group", b);
	na = readlink(pa, ga, sizeof(ga) - 1);
	nb = readlink(pb, gb, sizeof(gb) - 1);
	if (na < 0 || nb < 0)
		return false;
	ga[na] = gb[nb] = '\0';
	return !strcmp(ga, gb);
}

/*
 * The second function bound to the driver but not opened: device IDs are
 * reported (the cdev form); it counts as owned when it shares its IOMMU
 * group with the caller (the context owns the group's DMA), and then the
 * reset is allowed, as upstream decides.
 */
TEST_F(hr, other_function_group_owned)
{
	bool owned = same_group(self->port[0], self->port[1]);
	struct hot_reset_info info;
	int a, b;

	ASSERT_EQ(0, reset_info(self->fd[0], &info, sizeof(info)));
	ASSERT_EQ(2U, info.hdr.count);
	EXPECT_TRUE(!!(info.hdr.flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID));
	EXPECT_EQ(owned, !!(info.hdr.flags &
			    VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED));
	a = find_dep(&info, self->port[0]);
	b = find_dep(&info, self->port[1]);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_EQ(self->devid[0], info.devs[a].devid);
	EXPECT_EQ(owned ? (uint32_t)VFIO_PCI_DEVID_OWNED :
		  (uint32_t)VFIO_PCI_DEVID_NOT_OWNED, info.devs[b].devid);
	EXPECT_EQ(owned ? 0 : -EINVAL,
		  hot_reset(self->fd[0], sizeof(struct vfio_pci_hot_reset), 0,
			    0));
}

/* The second function without a driver: not owned, no reset. */
TEST_F(hr, other_function_unbound)
{
	struct hot_reset_info info;
	int b;

	ASSERT_EQ(0, pci_release(self->port[1]));
	ASSERT_EQ(0, reset_info(self->fd[0], &info, sizeof(info)));
	ASSERT_EQ(2U, info.hdr.count);
	EXPECT_FALSE(!!(info.hdr.flags &
			VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED));
	b = find_dep(&info, self->port[1]);
	ASSERT_LE(0, b);
	EXPECT_EQ((uint32_t)VFIO_PCI_DEVID_NOT_OWNED, info.devs[b].devid);
	EXPECT_EQ(-EINVAL, hot_reset(self->fd[0],
				     sizeof(struct vfio_pci_hot_reset), 0, 0));
}

TEST_F(hr, both_owned_reset)
{
	struct hot_reset_info info;
	volatile uint32_t *bar;
	int a, b;

	take_second(_metadata, self);
	ASSERT_EQ(0, reset_info(self->fd[1], &info, sizeof(info)));
	ASSERT_EQ(2U, info.hdr.count);
	EXPECT_EQ((uint32_t)(VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
			     VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED),
		  info.hdr.flags);
	a = find_dep(&info, self->port[0]);
	b = find_dep(&info, self->port[1]);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_EQ(self->devid[0], info.devs[a].devid);
	EXPECT_EQ(self->devid[1], info.devs[b].devid);

	/* Arguments first. */
	EXPECT_EQ(-EINVAL, hot_reset(self->fd[0],
				     offsetofend(struct vfio_pci_hot_reset,
						 count) - 1, 0, 0));
	EXPECT_EQ(-EINVAL, hot_reset(self->fd[0],
				     sizeof(struct vfio_pci_hot_reset), 1, 0));
	/* Group fds are the legacy path's proof, not the cdev's. */
	EXPECT_EQ(-EINVAL, hot_reset(self->fd[0],
				     sizeof(struct vfio_pci_hot_reset) + 4, 0,
				     1));

	/* A live mapping of BAR0 survives the reset. */
	bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd[0],
		   (off_t)VFIO_PCI_BAR0_REGION_INDEX << 40);
	ASSERT_NE(MAP_FAILED, bar);
	EXPECT_EQ(EDU_ID_VALUE, bar[0]);
	EXPECT_EQ(0, hot_reset(self->fd[0], sizeof(struct vfio_pci_hot_reset),
			       0, 0));
	EXPECT_EQ(EDU_ID_VALUE, bar[0]);
	bar[EDU_LIVENESS / 4] = 0x1234;
	EXPECT_EQ(~0x1234U, bar[EDU_LIVENESS / 4]);
	munmap((void *)bar, 4096);
	/* Either function may ask. */
	EXPECT_EQ(0, hot_reset(self->fd[1], sizeof(struct vfio_pci_hot_reset),
			       0, 0));
}

/* An edu on the root bus: no slot, no bus to reset. */
TEST_F(hr, root_bus_cannot)
{
	struct hot_reset_info info;
	int fd;

	ASSERT_EQ(0, pci_bind(self->root[0], stack_pci_driver()));
	fd = vfio_dev_open(self->root[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, dev_bind(fd, self->iommufd, NULL));
	EXPECT_EQ(-ENODEV, reset_info(fd, &info, sizeof(info)));
	EXPECT_EQ(-ENODEV, hot_reset(fd, sizeof(struct vfio_pci_hot_reset), 0,
				     0));
	close(fd);
	EXPECT_EQ(0, pci_release(self->root[0]));
}

TEST_HARNESS_MAIN
