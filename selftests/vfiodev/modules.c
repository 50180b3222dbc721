// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifetime: vfiodev modules carry upstream's names, cannot be
 * unloaded under an open device file, unload cleanly after it, and never
 * load together with upstream's VFIO, which owns the same names.
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

/* The first of our module names that is not loaded from our build. */
static const char *first_not_ours(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(vfiodev_modules); i++)
		if (!module_is_ours(vfiodev_modules[i]))
			return vfiodev_modules[i];
	return NULL;
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
	EXPECT_EQ(-EWOULDBLOCK, module_unload("vfio-pci"));
	EXPECT_EQ(-EWOULDBLOCK, module_unload("vfio-pci-core"));
	EXPECT_EQ(-EWOULDBLOCK, module_unload("vfio"));
	EXPECT_EQ(-EWOULDBLOCK, module_unload("iommufd"));
	ASSERT_EQ(0, pci_driver_of(bdf, drv, sizeof(drv)));
	EXPECT_STREQ(VFIODEV_DRIVER, drv);

	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, modules_unload(vfiodev_modules,
				    ARRAY_LEN(vfiodev_modules)));
	EXPECT_FALSE(module_loaded("vfio"));
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

/* Upstream's names, and ours is the one loaded: built out of tree. */
TEST(upstream_names)
{
	const char *bad;

	ASSERT_EQ(0, vfiodev_modules_load());
	bad = first_not_ours();
	EXPECT_TRUE(bad == NULL) TH_LOG("%s is not loaded or not ours", bad ? bad : "");
	/* DPDK's EAL decides "VFIO is there" from exactly these two. */
	EXPECT_EQ(0, access("/sys/module/vfio", F_OK));
	EXPECT_EQ(0, access("/sys/module/vfio_pci", F_OK));
	EXPECT_EQ(0, access(PCI_SYSFS "/drivers/vfio-pci", F_OK));
	EXPECT_EQ(0, access(PCI_SYSFS "/drivers/edu_vfio_pci", F_OK));
}

/*
 * With upstream's stack loaded, none of ours comes in: the module loader
 * refuses every name upstream already has (EEXIST); iommufd, where the
 * guest kernel has none of its own (Debian's), refuses itself because
 * upstream's vfio.ko serves /dev/vfio/vfio.  The drivers then cannot come
 * without our core either.
 */
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
		EXPECT_EQ(-EEXIST, module_load(vfiodev_moddir(), "iommufd"));
		EXPECT_FALSE(module_is_ours("iommufd"));
	} else {
		EXPECT_EQ(-EBUSY, module_load(vfiodev_moddir(), "iommufd"));
		EXPECT_EQ(0, kmsg_wait(kmsg, "iommufd:",
				       "upstream vfio is loaded", 2000));
		EXPECT_FALSE(module_loaded("iommufd"));
	}
	close(kmsg);
	EXPECT_EQ(-EEXIST, module_load(vfiodev_moddir(), "vfio"));
	EXPECT_EQ(-EEXIST, module_load(vfiodev_moddir(), "vfio-pci-core"));
	EXPECT_EQ(-EEXIST, module_load(vfiodev_moddir(), "vfio-pci"));
	/* Ours alone: it needs our core's symbols, which are not there. */
	EXPECT_NE(0, module_load(vfiodev_moddir(), "edu-vfio-pci"));
	EXPECT_FALSE(module_loaded("edu-vfio-pci"));
	EXPECT_FALSE(module_is_ours("vfio"));
	EXPECT_FALSE(module_is_ours("vfio-pci"));

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
 * hold: each module of upstream's that has a name of ours is refused by
 * the module loader (EEXIST), and those that build on upstream's internals
 * (vfio_iommu_type1: vfio_register_iommu_driver()...) find no such symbols
 * in our modules and are refused too (ENOENT, "Unknown symbol" in the log).
 */
TEST(upstream_after_ours)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char files[UPSTREAM_MAX][64], bdf[BDF_LEN], drv[64];
	const char *bad;
	int fd, i, n, kmsg;

	first_edu(_metadata, 0, bdf);
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(bdf, VFIODEV_DRIVER));
	fd = vfio_dev_open(bdf);
	ASSERT_LE(0, fd);

	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	n = upstream_list(files);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		const char *f = files[i];
		int ret = module_load(upstream_moddir(), f);

		if (!strcmp(f, "irqbypass")) {
			/* Nothing of ours is called so: it may come. */
			EXPECT_TRUE(!ret || ret == -EEXIST);
		} else if (!strcmp(f, "vfio_iommu_type1")) {
			EXPECT_EQ(-ENOENT, ret);
			EXPECT_EQ(0, kmsg_wait(kmsg, "vfio_iommu_type1:",
					       "Unknown symbol", 2000));
			EXPECT_FALSE(module_loaded(f));
		} else {
			EXPECT_EQ(-EEXIST, ret) TH_LOG("%s", f);
		}
	}
	close(kmsg);
	bad = first_not_ours();
	EXPECT_TRUE(bad == NULL) TH_LOG("%s is not ours", bad ? bad : "");
	if (module_loaded("irqbypass"))
		EXPECT_EQ(0, module_unload("irqbypass"));

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
