// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev core: module set-up.
 *
 * The core owns the char-device region behind /dev/vfio/devices/vfioN and
 * the "vfio-dev" device class, and those of the legacy groups, /dev/vfio/N
 * and the "vfio" class (group.c).  Both names are upstream VFIO's ABI (QEMU and
 * libvfn look for /sys/bus/pci/devices/<BDF>/vfio-dev/vfioN/dev), so the
 * core must not run beside upstream's vfio.ko: it refuses to load while that
 * module is present instead of half-working next to it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/kdev_t.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>

#include "../compat.h"
#include "vfiodev_priv.h"

dev_t vfiodev_devt;

static char *vfiodev_devnode(const struct device *dev, umode_t *mode)
{
	return kasprintf(GFP_KERNEL, "vfio/devices/%s", dev_name(dev));
}

/*
 * Whether the device's IOMMU can enforce cache coherency of its DMA
 * (block no-snoop transactions), readable before opening anything, so that
 * user space can pick the cdev/iommufd path or the legacy one for it.  The
 * name carries our prefix: upstream may add attributes to this class.
 */
static ssize_t vfiodev_enforce_cache_coherency_show(struct device *device,
						    struct device_attribute *attr,
						    char *buf)
{
	struct vfiodev_device *vdev =
		container_of(device, struct vfiodev_device, device);

	return sysfs_emit(buf, "%d\n",
			  device_iommu_capable(vdev->dev,
					       IOMMU_CAP_ENFORCE_CACHE_COHERENCY));
}
static DEVICE_ATTR_RO(vfiodev_enforce_cache_coherency);

static struct attribute *vfiodev_device_attrs[] = {
	&dev_attr_vfiodev_enforce_cache_coherency.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vfiodev_device);

const struct class vfiodev_class = {
	.name = "vfio-dev",
	.devnode = vfiodev_devnode,
	.dev_groups = vfiodev_device_groups,
};

/*
 * A pseudo file system gives every device an inode of its own, so that all
 * files of a device share one address space (the device cdev's files and
 * those from the group, whose anonymous inode is shared by every such
 * file in the system): unmapping the device's regions from user space then
 * reaches every mapping of the device and no other.
 */
#define VFIODEV_FS_MAGIC	0x76666476	/* "vfdv" */

static int vfiodev_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, VFIODEV_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type vfiodev_fs_type = {
	.name = "vfiodev",
	.owner = THIS_MODULE,
	.init_fs_context = vfiodev_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static struct vfsmount *vfiodev_fs_mnt;
static int vfiodev_fs_count;

struct inode *vfiodev_fs_inode_new(void)
{
	struct inode *inode;
	int ret;

	ret = simple_pin_fs(&vfiodev_fs_type, &vfiodev_fs_mnt,
			    &vfiodev_fs_count);
	if (ret)
		return ERR_PTR(ret);
	inode = alloc_anon_inode(vfiodev_fs_mnt->mnt_sb);
	if (IS_ERR(inode))
		simple_release_fs(&vfiodev_fs_mnt, &vfiodev_fs_count);
	return inode;
}

void vfiodev_fs_inode_put(struct inode *inode)
{
	iput(inode);
	simple_release_fs(&vfiodev_fs_mnt, &vfiodev_fs_count);
}

static int __init vfiodev_init(void)
{
	int ret;

	/*
	 * No check for upstream's vfio.ko: it has this module's name, so the
	 * module loader refuses whichever of the two comes second.
	 */
	ret = alloc_chrdev_region(&vfiodev_devt, 0, MINORMASK + 1, "vfiodev");
	if (ret)
		return ret;

	ret = class_register(&vfiodev_class);
	if (ret)
		goto err_unregister_chrdev;

	ret = vfiodev_virqfd_init();
	if (ret)
		goto err_unregister_class;
	ret = vfiodev_group_init();
	if (ret)
		goto err_virqfd_exit;
	return 0;

err_virqfd_exit:
	vfiodev_virqfd_exit();
err_unregister_class:
	class_unregister(&vfiodev_class);
err_unregister_chrdev:
	unregister_chrdev_region(vfiodev_devt, MINORMASK + 1);
	return ret;
}

static void __exit vfiodev_exit(void)
{
	vfiodev_group_exit();
	vfiodev_virqfd_exit();
	class_unregister(&vfiodev_class);
	unregister_chrdev_region(vfiodev_devt, MINORMASK + 1);
}

module_init(vfiodev_init);
module_exit(vfiodev_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio (vfiodev): device-centric VFIO core, device cdevs and groups");
MODULE_IMPORT_NS(VFIODEV_IOMMU_NS);
