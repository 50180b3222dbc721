// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifetime: vfiodev modules cannot be unloaded under an open device
 * file, unload cleanly after it, and refuse to load beside upstream's VFIO,
 * which owns the same uAPI names.
 *
 * Each test leaves our modules loaded and upstream's unloaded.
 */
#include <sys/ioctl.h>

#include <linux/vfio.h>

#include "vfiodev_utils.h"
#include "kselftest_harness.h"

static void first_edu(struct __test_metadata *_metadata, int nth, char *bdf)
{
	char bdfs[4][BDF_LEN];

	ASSERT_GT(pci_find(EDU_VENDOR, EDU_DEVICE, 0, bdfs, 4), nth);
	strcpy(bdf, bdfs[nth]);
}

TEST(no_unload_while_open)
{
	char bdf[BDF_LEN], drv[64];
	int fd;

	first_edu(_metadata, 0, bdf);
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(bdf, VFIODEV_DRIVER));
	fd = vfio_dev_open(bdf);
	ASSERT_LE(0, fd);

	/* In use: every one of them refuses. */
	EXPECT_EQ(-EWOULDBLOCK, module_unload("vfiodev_pci"));
	EXPECT_EQ(-EWOULDBLOCK, module_unload("vfiodev_pci_core"));
	EXPECT_EQ(-EWOULDBLOCK, module_unload("vfiodev"));
	EXPECT_EQ(-EWOULDBLOCK, module_unload("vfiodev_iommu"));
	ASSERT_EQ(0, pci_driver_of(bdf, drv, sizeof(drv)));
	EXPECT_STREQ(VFIODEV_DRIVER, drv);

	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, modules_unload(vfiodev_modules,
				    ARRAY_LEN(vfiodev_modules)));
	EXPECT_FALSE(module_loaded("vfiodev"));
	EXPECT_EQ(-1, access("/sys/class/vfio-dev", F_OK));
	ASSERT_EQ(0, pci_driver_of(bdf, drv, sizeof(drv)));
	EXPECT_STREQ("", drv);

	/* Loading again gives a working node again. */
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(bdf, VFIODEV_DRIVER));
	fd = vfio_dev_open(bdf);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, pci_release(bdf));
}

TEST(refused_beside_upstream)
{
	char bdf[BDF_LEN], path[PATH_MAX];
	int kmsg;

	first_edu(_metadata, 0, bdf);
	ASSERT_EQ(0, modules_unload(vfiodev_modules,
				    ARRAY_LEN(vfiodev_modules)));
	ASSERT_EQ(0, upstream_modules_load());

	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	if (upstream_has("iommufd")) {
		/* Upstream's iommufd holds /dev/iommu. */
		EXPECT_EQ(-EBUSY, module_load(vfiodev_moddir(),
					      "vfiodev_iommu"));
		EXPECT_EQ(0, kmsg_wait(kmsg, "vfiodev_iommu:",
				       "upstream iommufd is loaded", 2000));
		EXPECT_FALSE(module_loaded("vfiodev_iommu"));
	} else {
		/*
		 * No iommufd (Debian's kernel): vfio.ko holds the VFIO names,
		 * /dev/vfio/vfio among them, which vfiodev_iommu serves.
		 */
		EXPECT_EQ(-EBUSY, module_load(vfiodev_moddir(),
					      "vfiodev_iommu"));
		EXPECT_EQ(0, kmsg_wait(kmsg, "vfiodev_iommu:",
				       "upstream vfio is loaded", 2000));
		EXPECT_FALSE(module_loaded("vfiodev_iommu"));
		EXPECT_NE(0, module_load(vfiodev_moddir(), "vfiodev"));
	}
	close(kmsg);
	EXPECT_FALSE(module_loaded("vfiodev"));
	/* The drivers cannot come without the core. */
	EXPECT_NE(0, module_load(vfiodev_moddir(), "vfiodev_pci_core"));
	EXPECT_FALSE(module_loaded("vfiodev_pci_core"));

	/* Upstream is unharmed: it takes the edu and makes its group node. */
	ASSERT_EQ(0, pci_bind(bdf, "vfio-pci"));
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/iommu_group", bdf);
	EXPECT_EQ(0, access(path, F_OK));
	EXPECT_EQ(0, access("/dev/vfio/vfio", F_OK));
	EXPECT_EQ(0, pci_release(bdf));

	EXPECT_EQ(0, upstream_modules_unload());
	EXPECT_EQ(0, vfiodev_modules_load());
}

/*
 * Upstream loaded after ours fails cleanly and does not disturb a device we
 * hold: its iommufd.ko on the node name we hold, /dev/iommu; without it
 * (Debian's kernel), its vfio.ko on the names of KVM's contract, which
 * both export (vfio_file_is_valid()...): the module loader refuses it.
 */
TEST(upstream_after_ours)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char bdf[BDF_LEN], drv[64];
	int fd;

	first_edu(_metadata, 0, bdf);
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(bdf, VFIODEV_DRIVER));
	fd = vfio_dev_open(bdf);
	ASSERT_LE(0, fd);

	if (upstream_has("iommufd")) {
		/* Its first module to collide makes sysfs complain, once. */
		ASSERT_EQ(0, kmsg_expect_dup("/devices/virtual/misc/iommu"));
		EXPECT_EQ(-EEXIST, upstream_modules_load());
	} else {
		EXPECT_EQ(-ENOEXEC, upstream_modules_load());
	}
	EXPECT_FALSE(module_loaded("vfio"));
	EXPECT_FALSE(module_loaded("vfio_pci"));
	EXPECT_EQ(0, upstream_modules_unload());

	/* Ours is untouched: same driver, same answers, same node. */
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, pci_driver_of(bdf, drv, sizeof(drv)));
	EXPECT_STREQ(VFIODEV_DRIVER, drv);
	EXPECT_EQ(0, close(fd));
	fd = vfio_dev_open(bdf);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, pci_release(bdf));
}

TEST_HARNESS_MAIN
