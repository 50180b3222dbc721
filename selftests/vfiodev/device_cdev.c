// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vfio/devices/vfioN: creation and removal with the driver binding,
 * the sysfs layout QEMU and libvfn rely on, opening, the answers before
 * VFIO_DEVICE_BIND_IOMMUFD, and unbinding while user space holds the device.
 *
 * Runs in the test guest, which has two QEMU edu devices (1234:11e8), an
 * nvme and an e1000e, none of them bound to a driver at start.
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <linux/vfio.h>

#include "vfiodev_utils.h"
#include "kselftest_harness.h"

/* The nth edu of the guest; the test fails when the guest lacks it. */
static void edu_bdf(struct __test_metadata *_metadata, int nth, char *bdf)
{
	char bdfs[4][BDF_LEN];
	int n;

	n = pci_find(EDU_VENDOR, EDU_DEVICE, 0, bdfs, 4);
	ASSERT_GT(n, nth) TH_LOG("the guest needs %d edu devices, has %d",
				 nth + 1, n);
	strcpy(bdf, bdfs[nth]);
}

FIXTURE(edu) {
	char bdf[BDF_LEN];
	char name[64];
	char node[PATH_MAX];
};

FIXTURE_SETUP(edu)
{
	edu_bdf(_metadata, 0, self->bdf);
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(self->bdf, VFIODEV_DRIVER));
	ASSERT_EQ(0, vfio_dev_name(self->bdf, self->name, sizeof(self->name)));
	snprintf(self->node, sizeof(self->node), "/dev/vfio/devices/%s",
		 self->name);
}

FIXTURE_TEARDOWN(edu)
{
	EXPECT_EQ(0, pci_release(self->bdf));
}

TEST_F(edu, node_matches_sysfs)
{
	struct stat st;
	dev_t devt;

	ASSERT_EQ(0, vfio_dev_devt(self->bdf, &devt));
	ASSERT_EQ(0, stat(self->node, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(major(devt), major(st.st_rdev));
	EXPECT_EQ(minor(devt), minor(st.st_rdev));
	/* The name is vfio<minor>, as upstream numbers it. */
	EXPECT_EQ(minor(devt), strtoul(self->name + 4, NULL, 10));
}

TEST_F(edu, node_mode_and_owner)
{
	struct stat st;

	ASSERT_EQ(0, stat(self->node, &st));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
	EXPECT_EQ(0U, st.st_gid);
}

TEST_F(edu, sysfs_links)
{
	char path[PATH_MAX], a[PATH_MAX], b[PATH_MAX], drv[64];

	/* /sys/class/vfio-dev/vfioN/device is the PCI function. */
	snprintf(path, sizeof(path), "/sys/class/vfio-dev/%s/device",
		 self->name);
	ASSERT_NE(NULL, realpath(path, a));
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s", self->bdf);
	ASSERT_NE(NULL, realpath(path, b));
	EXPECT_STREQ(b, a);

	/* ... and its subsystem is the vfio-dev class. */
	snprintf(path, sizeof(path), "/sys/class/vfio-dev/%s/subsystem",
		 self->name);
	ASSERT_NE(NULL, realpath(path, a));
	EXPECT_STREQ("/sys/class/vfio-dev", a);

	ASSERT_EQ(0, pci_driver_of(self->bdf, drv, sizeof(drv)));
	EXPECT_STREQ(VFIODEV_DRIVER, drv);
}

TEST_F(edu, open_close)
{
	int fd;

	fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
	fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
}

TEST_F(edu, two_opens)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int fd1, fd2;

	fd1 = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd1);
	fd2 = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	/* Closing the first leaves the second working. */
	EXPECT_EQ(0, close(fd1));
	EXPECT_EQ(-1, ioctl(fd2, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, close(fd2));
}

/* Before bind, upstream refuses everything with EINVAL. */
TEST_F(edu, access_before_bind)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	char buf[4];
	void *p;
	int fd;

	fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);

	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &reg));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, _IO(';', 0x7f)));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	/* Region offsets go through pread/pwrite: the file is seekable. */
	EXPECT_EQ(-1, pread(fd, buf, sizeof(buf), 0x10000000000ULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pwrite(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(0, close(fd));
}

TEST_F(edu, bind_iommufd_arguments)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = -1,
	};
	int fd, other, closed;

	fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);

	/* Negative fd. */
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_EQ(EINVAL, errno);

	other = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	bind.iommufd = other;

	/* argsz shorter than the structure. */
	bind.argsz = offsetof(struct vfio_device_bind_iommufd, out_devid) + 3;
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_EQ(EINVAL, errno);
	bind.argsz = sizeof(bind);

	/* Any flag. */
	bind.flags = 1;
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_EQ(EINVAL, errno);
	bind.flags = 0;

	/* A bad user pointer. */
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* A file that is not an iommufd. */
	bind.out_devid = 0xdeadbeef;
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_EQ(EBADFD, errno);
	EXPECT_EQ(0xdeadbeef, bind.out_devid);

	/* A number that is no open file. */
	closed = dup(other);
	ASSERT_LE(0, closed);
	close(closed);
	bind.iommufd = closed;
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_EQ(EBADF, errno);

	/* Refusals changed nothing: the device is still unbound. */
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(EINVAL, errno);

	close(other);
	EXPECT_EQ(0, close(fd));
}

TEST(unbind_removes_rebind_restores)
{
	char bdf[BDF_LEN], name[64], node[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int fd;

	edu_bdf(_metadata, 0, bdf);
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(bdf, VFIODEV_DRIVER));
	ASSERT_EQ(0, vfio_dev_name(bdf, name, sizeof(name)));
	snprintf(node, sizeof(node), "/dev/vfio/devices/%s", name);
	ASSERT_EQ(0, stat(node, &st));

	ASSERT_EQ(0, pci_unbind(bdf));
	EXPECT_EQ(-1, stat(node, &st));
	EXPECT_EQ(ENOENT, errno);
	snprintf(path, sizeof(path), "/sys/class/vfio-dev/%s", name);
	EXPECT_EQ(-1, access(path, F_OK));
	EXPECT_EQ(-ENOENT, vfio_dev_name(bdf, name, sizeof(name)));

	/* The override is still set: probing binds it again. */
	ASSERT_EQ(0, sysfs_write(PCI_SYSFS "/drivers_probe", bdf));
	fd = vfio_dev_open(bdf);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, pci_release(bdf));
}

/* Without driver_override the driver never takes a device. */
TEST(no_bind_without_override)
{
	char bdf[BDF_LEN], drv[64], name[64];

	edu_bdf(_metadata, 0, bdf);
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_release(bdf));

	EXPECT_EQ(-ENODEV, sysfs_write(PCI_SYSFS "/drivers/" VFIODEV_DRIVER
				       "/bind", bdf));
	ASSERT_EQ(0, sysfs_write(PCI_SYSFS "/drivers_probe", bdf));
	ASSERT_EQ(0, pci_driver_of(bdf, drv, sizeof(drv)));
	EXPECT_STREQ("", drv);
	EXPECT_NE(0, vfio_dev_name(bdf, name, sizeof(name)));
}

TEST(two_edus_two_nodes)
{
	char bdf0[BDF_LEN], bdf1[BDF_LEN];
	dev_t d0, d1;
	int fd;

	edu_bdf(_metadata, 0, bdf0);
	edu_bdf(_metadata, 1, bdf1);
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(bdf0, VFIODEV_DRIVER));
	ASSERT_EQ(0, pci_bind(bdf1, VFIODEV_DRIVER));
	ASSERT_EQ(0, vfio_dev_devt(bdf0, &d0));
	ASSERT_EQ(0, vfio_dev_devt(bdf1, &d1));
	EXPECT_EQ(major(d0), major(d1));
	EXPECT_NE(minor(d0), minor(d1));

	/* Removing one leaves the other usable. */
	ASSERT_EQ(0, pci_release(bdf0));
	fd = vfio_dev_open(bdf1);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, pci_release(bdf1));
}

/* The nvme and e1000e functions are assignable as well. */
TEST(nvme_and_e1000e)
{
	char bdfs[2][BDF_LEN];
	unsigned int class[] = { NVME_CLASS, ETH_CLASS };
	unsigned int i;
	int fd;

	ASSERT_EQ(0, vfiodev_modules_load());
	for (i = 0; i < ARRAY_LEN(class); i++) {
		ASSERT_EQ(1, pci_find(0, 0, class[i], bdfs, 2))
			TH_LOG("class %06x missing in the guest", class[i]);
		ASSERT_EQ(0, pci_bind(bdfs[0], VFIODEV_DRIVER));
		fd = vfio_dev_open(bdfs[0]);
		EXPECT_LE(0, fd);
		if (fd >= 0)
			close(fd);
		EXPECT_EQ(0, pci_release(bdfs[0]));
	}
}

/*
 * Unbinding while a file is open asks user space to let go (the request
 * callback, seen in the log), removes the node at once, and completes
 * when the file is closed.
 */
TEST(unbind_waits_for_open_file)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char bdf[BDF_LEN], drv[64], name[64], node[PATH_MAX];
	int fd, kmsg, status;
	struct stat st;
	pid_t pid;

	edu_bdf(_metadata, 0, bdf);
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(bdf, VFIODEV_DRIVER));
	ASSERT_EQ(0, vfio_dev_name(bdf, name, sizeof(name)));
	snprintf(node, sizeof(node), "/dev/vfio/devices/%s", name);
	fd = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The child's copy of the file would make it wait for itself. */
		close(fd);
		_exit(pci_unbind(bdf) ? 1 : 0);
	}

	EXPECT_EQ(0, kmsg_wait(kmsg, bdf, "unbind waits until it is released",
			       10000));
	/* Still waiting, the node already gone, the file still served. */
	msleep(300);
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	EXPECT_EQ(-1, stat(node, &st));
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(0, close(fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, pci_driver_of(bdf, drv, sizeof(drv)));
	EXPECT_STREQ("", drv);
	close(kmsg);
	EXPECT_EQ(0, pci_set_override(bdf, NULL));
}

TEST_HARNESS_MAIN
