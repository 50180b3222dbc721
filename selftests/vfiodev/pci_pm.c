// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime power management of bound devices, as upstream's vfio-pci does
 * it: a device bound to vfio-pci that nobody has open is runtime-suspended
 * (D3hot on the nvme, which has power management), it is in D0 while a
 * device file is open and suspends again after the last close; loaded with
 * disable_idle_d3=1, vfio-pci keeps its idle devices active in D0.
 *
 * The device is opened through its group and a type1v2 container, the
 * path both stacks have on both kernels, so VFIODEV_STACK=upstream shows
 * upstream's behaviour on the same device.
 */
#include <sys/ioctl.h>

#include <linux/vfio.h>

#include "pci_utils.h"
#include "kselftest_harness.h"

#define PM_POLL_MS	10
/* Runtime suspend is queued work: a liveness bound, far above its cost. */
#define PM_WAIT_MS	60000

static int pm_read(const char *bdf, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/%s", bdf, file);
	return sysfs_read(path, buf, len);
}

/* Waits until power/runtime_status reads @want: 0, or -ETIMEDOUT. */
static int pm_wait_status(const char *bdf, const char *want)
{
	char st[32] = "";
	int waited;

	for (waited = 0; waited < PM_WAIT_MS; waited += PM_POLL_MS) {
		if (!pm_read(bdf, "power/runtime_status", st, sizeof(st)) &&
		    !strcmp(st, want))
			return 0;
		msleep(PM_POLL_MS);
	}
	return -ETIMEDOUT;
}

FIXTURE(pm) {
	char bdf[BDF_LEN];
	int group, container, devfd;
};

FIXTURE_SETUP(pm)
{
	char bdfs[2][BDF_LEN];

	self->group = self->container = self->devfd = -1;
	ASSERT_LE(1, pci_find(0, 0, NVME_CLASS, bdfs, 2));
	strcpy(self->bdf, bdfs[0]);
	ASSERT_NE(0U, pci_cfg_cap(self->bdf, PCI_CAP_ID_PM))
		TH_LOG("the nvme has no power management capability");
	ASSERT_EQ(0, pci_bind(self->bdf, stack_pci_driver()));
}

FIXTURE_TEARDOWN(pm)
{
	close_by_group(&self->devfd, &self->group, &self->container);
	EXPECT_EQ(0, pci_release(self->bdf));
}

TEST_F_TIMEOUT(pm, idle_device_suspends, 300)
{
	char st[32];

	/* Bound and idle: suspended, and the device itself in D3hot. */
	ASSERT_EQ(0, pm_wait_status(self->bdf, "suspended"));
	ASSERT_EQ(0, pm_read(self->bdf, "power_state", st, sizeof(st)));
	EXPECT_STREQ("D3hot", st);

	/* Open: resumed before user space gets it. */
	self->devfd = open_by_group(self->bdf, &self->group,
				    &self->container);
	ASSERT_LE(0, self->devfd) TH_LOG("%s", strerror(-self->devfd));
	ASSERT_EQ(0, pm_read(self->bdf, "power/runtime_status", st,
			     sizeof(st)));
	EXPECT_STREQ("active", st);
	ASSERT_EQ(0, pm_read(self->bdf, "power_state", st, sizeof(st)));
	EXPECT_STREQ("D0", st);
	/* And it answers: config space reads the device's own vendor. */
	EXPECT_EQ(0x1b36U, pci_cfg_rd(self->bdf, PCI_VENDOR_ID, 2));

	/* Closed: suspended again. */
	close(self->devfd);
	self->devfd = -1;
	close(self->group);
	self->group = -1;
	EXPECT_EQ(0, pm_wait_status(self->bdf, "suspended"));
}

/* @len bytes of the device's config space at @off, through its file. */
static int cfg_rw(int fd, unsigned int off, void *buf, size_t len,
		  bool write)
{
	off_t pos = ((off_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + off;
	ssize_t n = write ? pwrite(fd, buf, len, pos) : pread(fd, buf, len, pos);

	return n == (ssize_t)len ? 0 : -errno;
}

/*
 * A power state written to PM_CTRL reaches the device, as on upstream:
 * in D3hot the kernel has it there, the register reads 3 from the device,
 * BAR accesses fail with EIO; back in D0 the device answers as before.
 */
TEST_F(pm, user_sets_d3hot)
{
	unsigned int pm = pci_cfg_cap(self->bdf, PCI_CAP_ID_PM);
	off_t bar0 = (off_t)VFIO_PCI_BAR0_REGION_INDEX << 40;
	uint32_t cap_lo, v;
	uint16_t ctl;
	char st[32];

	self->devfd = open_by_group(self->bdf, &self->group,
				    &self->container);
	ASSERT_LE(0, self->devfd) TH_LOG("%s", strerror(-self->devfd));
	/* The NVMe CAP register, which a reset does not change either. */
	ASSERT_EQ((ssize_t)sizeof(cap_lo),
		  pread(self->devfd, &cap_lo, sizeof(cap_lo), bar0));
	ASSERT_EQ(0, cfg_rw(self->devfd, pm + PCI_PM_CTRL, &ctl, 2, false));
	ASSERT_EQ(0, ctl & PCI_PM_CTRL_STATE_MASK);
	/* PME is the host's: shown as off and clear. */
	EXPECT_EQ(0, ctl & (PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS));

	ctl |= 3;
	ASSERT_EQ(0, cfg_rw(self->devfd, pm + PCI_PM_CTRL, &ctl, 2, true));
	ASSERT_EQ(0, pm_read(self->bdf, "power_state", st, sizeof(st)));
	EXPECT_STREQ("D3hot", st);
	EXPECT_EQ(3U, pci_cfg_rd(self->bdf, pm + PCI_PM_CTRL, 2) &
		  PCI_PM_CTRL_STATE_MASK);
	ASSERT_EQ(0, cfg_rw(self->devfd, pm + PCI_PM_CTRL, &ctl, 2, false));
	EXPECT_EQ(3, ctl & PCI_PM_CTRL_STATE_MASK);
	EXPECT_EQ(-1, pread(self->devfd, &v, sizeof(v), bar0));
	EXPECT_EQ(EIO, errno);

	ctl &= ~PCI_PM_CTRL_STATE_MASK;
	ASSERT_EQ(0, cfg_rw(self->devfd, pm + PCI_PM_CTRL, &ctl, 2, true));
	ASSERT_EQ(0, pm_read(self->bdf, "power_state", st, sizeof(st)));
	EXPECT_STREQ("D0", st);
	ASSERT_EQ(0, cfg_rw(self->devfd, pm + PCI_PM_CTRL, &ctl, 2, false));
	EXPECT_EQ(0, ctl & PCI_PM_CTRL_STATE_MASK);
	EXPECT_NE(0U, pci_cfg_rd(self->bdf, PCI_COMMAND, 2) &
		  PCI_COMMAND_MEMORY);
	ASSERT_EQ((ssize_t)sizeof(v), pread(self->devfd, &v, sizeof(v), bar0));
	EXPECT_EQ(cap_lo, v);
}

/*
 * disable_idle_d3=1: an idle device stays active.  Checked after the
 * device was opened and closed (the close is where the driver would let
 * it go), with the same wait the suspend above took at most.
 */
TEST_F_TIMEOUT(pm, disable_idle_d3, 300)
{
	char st[32], val[8];
	int waited;

	ASSERT_EQ(0, pm_wait_status(self->bdf, "suspended"));
	ASSERT_EQ(0, pci_release(self->bdf));
	ASSERT_EQ(0, vfio_pci_reload("disable_idle_d3=1"));
	ASSERT_EQ(0, sysfs_read("/sys/module/vfio_pci/parameters/disable_idle_d3",
				val, sizeof(val)));
	EXPECT_STREQ("Y", val);
	ASSERT_EQ(0, pci_bind(self->bdf, stack_pci_driver()));

	self->devfd = open_by_group(self->bdf, &self->group,
				    &self->container);
	ASSERT_LE(0, self->devfd) TH_LOG("%s", strerror(-self->devfd));
	close(self->devfd);
	self->devfd = -1;
	close(self->group);
	self->group = -1;
	for (waited = 0; waited < 2000; waited += PM_POLL_MS) {
		ASSERT_EQ(0, pm_read(self->bdf, "power/runtime_status", st,
				     sizeof(st)));
		ASSERT_STREQ("active", st);
		msleep(PM_POLL_MS);
	}
	ASSERT_EQ(0, pm_read(self->bdf, "power_state", st, sizeof(st)));
	EXPECT_STREQ("D0", st);

	ASSERT_EQ(0, pci_release(self->bdf));
	ASSERT_EQ(0, vfio_pci_reload(""));
	ASSERT_EQ(0, pci_bind(self->bdf, stack_pci_driver()));
	EXPECT_EQ(0, pm_wait_status(self->bdf, "suspended"));
}

TEST_HARNESS_MAIN
