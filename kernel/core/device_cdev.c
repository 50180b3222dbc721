// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev core: the device file, /dev/vfio/devices/vfioN.
 *
 * An open device file gives no access to the device by itself.  Access is
 * granted only once the file is bound to an iommufd context with
 * VFIO_DEVICE_BIND_IOMMUFD, which puts the device's DMA under an I/O address
 * space the user controls.  Until then every other ioctl, read, write and
 * mmap fails with EINVAL, as upstream's device cdev does.  (This build has
 * no iommufd yet, so no file gets past that point.)
 *
 * An open file holds a registration reference on the device (so that
 * unregistration waits for it) and a reference on the module of the bound
 * driver (so that the driver cannot be unloaded under it).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vfiodev_priv.h"

/**
 * struct vfiodev_df - state of one open device file
 * @vdev: the device
 * @driver_owner: module of the driver bound to @vdev->dev at open time
 */
struct vfiodev_df {
	struct vfiodev_device *vdev;
	struct module *driver_owner;
};

static int vfiodev_df_open(struct inode *inode, struct file *filep)
{
	struct vfiodev_device *vdev =
		container_of(inode->i_cdev, struct vfiodev_device, cdev);
	struct vfiodev_df *df;
	int ret;

	if (!vfiodev_device_try_get_registration(vdev))
		return -ENODEV;

	/*
	 * The registration reference keeps the driver bound, so
	 * vdev->dev->driver is stable here and until release.
	 */
	df = kzalloc(sizeof(*df), GFP_KERNEL_ACCOUNT);
	if (!df) {
		ret = -ENOMEM;
		goto err_put_registration;
	}
	df->vdev = vdev;
	df->driver_owner = vdev->dev->driver->owner;
	if (!try_module_get(df->driver_owner)) {
		ret = -ENODEV;
		goto err_free_df;
	}

	/* Not nonseekable: pread/pwrite offsets will select device regions. */
	filep->private_data = df;
	return 0;

err_free_df:
	kfree(df);
err_put_registration:
	vfiodev_device_put_registration(vdev);
	return ret;
}

static int vfiodev_df_release(struct inode *inode, struct file *filep)
{
	struct vfiodev_df *df = filep->private_data;
	struct vfiodev_device *vdev = df->vdev;

	module_put(df->driver_owner);
	kfree(df);
	/* Last: this may let vfiodev_unregister_device() return. */
	vfiodev_device_put_registration(vdev);
	return 0;
}

static long vfiodev_df_ioctl_bind_iommufd(struct vfiodev_df *df,
					  struct vfio_device_bind_iommufd __user *arg)
{
	unsigned long minsz =
		offsetofend(struct vfio_device_bind_iommufd, out_devid);
	struct vfio_device_bind_iommufd bind;
	struct file *file;

	if (copy_from_user(&bind, arg, minsz))
		return -EFAULT;

	if (bind.argsz < minsz || bind.flags || bind.iommufd < 0)
		return -EINVAL;

	/*
	 * The fd must name an iommufd context.  This build has no /dev/iommu
	 * yet, so whatever file the fd names is of the wrong kind: EBADFD,
	 * as upstream answers for a file that is not an iommufd.
	 */
	file = fget(bind.iommufd);
	if (!file)
		return -EBADF;
	fput(file);
	return -EBADFD;
}

/*
 * Before bind, upstream answers every other ioctl, read, write and mmap of a
 * device cdev with EINVAL.  Bind cannot succeed in this build (see above),
 * so that is the whole answer for now.
 */
static long vfiodev_df_unl_ioctl(struct file *filep, unsigned int cmd,
				 unsigned long arg)
{
	struct vfiodev_df *df = filep->private_data;

	if (cmd == VFIO_DEVICE_BIND_IOMMUFD)
		return vfiodev_df_ioctl_bind_iommufd(df, (void __user *)arg);
	return -EINVAL;
}

static ssize_t vfiodev_df_read(struct file *filep, char __user *buf,
			       size_t count, loff_t *ppos)
{
	return -EINVAL;
}

static ssize_t vfiodev_df_write(struct file *filep, const char __user *buf,
				size_t count, loff_t *ppos)
{
	return -EINVAL;
}

static int vfiodev_df_mmap(struct file *filep, struct vm_area_struct *vma)
{
	return -EINVAL;
}

const struct file_operations vfiodev_df_fops = {
	.owner = THIS_MODULE,
	.open = vfiodev_df_open,
	.release = vfiodev_df_release,
	.read = vfiodev_df_read,
	.write = vfiodev_df_write,
	.unlocked_ioctl = vfiodev_df_unl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = vfiodev_df_mmap,
};
