// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev core: the device file, /dev/vfio/devices/vfioN.
 *
 * An open device file gives no access to the device by itself.  Access is
 * granted only once the file is bound to an iommufd context (/dev/iommu,
 * iommufd) with VFIO_DEVICE_BIND_IOMMUFD, which claims the device's
 * DMA for that context: the IOMMU blocks it until the file attaches the
 * device to an IOAS or HWPT the user controls.  Until bind, every other
 * ioctl, read, write and mmap fails with EINVAL, as upstream's device cdev
 * does.  Only one file of a device can be bound at a time.  Closing the
 * file unbinds it.
 *
 * The same file operations serve the device files that the legacy group
 * hands out (VFIO_GROUP_GET_DEVICE_FD, group.c): those have access from
 * the start, bound to the group's container and attached to its
 * compatibility IOAS, and several of them may share one opening of the
 * device, as upstream allows on that path.  An open group and a bound
 * device cdev exclude each other (the bind fails, or the group's open).
 *
 * Locking: vfiodev_device::lock serialises bind, attach, detach and
 * unbind; @access_granted is written once under it and read locklessly
 * (release/acquire pair).
 *
 * An open file holds a registration reference on the device (so that
 * unregistration waits for it) and a reference on the module of the bound
 * driver (so that the driver cannot be unloaded under it).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "../compat.h"
#include "vdiommu.h"
#include "vfiodev_priv.h"

/**
 * struct vfiodev_df - state of one open device file
 * @vdev: the device
 * @driver_owner: module of the driver bound to @vdev->dev at open time
 * @group: the group the file came from, or NULL for the cdev
 * @group_file: with @group: a reference on the group's open file, which
 *	keeps the group's container set while the device is in use
 * @access_granted: bound; the device may be used through this file
 */
struct vfiodev_df {
	struct vfiodev_device *vdev;
	struct module *driver_owner;
	struct vfiodev_group *group;
	struct file *group_file;
	bool access_granted;
};

/*
 * The first opening of @vdev: its DMA goes to @ictx (attached to the
 * context's compatibility IOAS if @compat), then the driver opens it.
 */
static int vfiodev_device_first_open(struct vfiodev_device *vdev,
				     struct vdiommu_ctx *ictx, bool compat,
				     u32 *devid)
{
	struct vdiommu_device *idev;
	u32 pt_id;
	int ret;

	lockdep_assert_held(&vdev->lock);

	idev = vdiommu_device_bind(ictx, vdev->dev, devid);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	if (compat) {
		ret = vdiommu_vfio_compat_ioas_get_id(ictx, &pt_id);
		if (!ret)
			ret = vdiommu_device_attach(idev, &pt_id);
		if (ret)
			goto err_unbind;
	}
	/* Before open_device(), which may already use them. */
	vdev->idev = idev;
	vdev->group_opened = compat;
	if (vdev->ops->open_device) {
		ret = vdev->ops->open_device(vdev);
		if (ret) {
			vdev->idev = NULL;
			goto err_unbind;
		}
	}
	return 0;

err_unbind:
	vdiommu_device_unbind(idev);
	return ret;
}

static void vfiodev_device_last_close(struct vfiodev_device *vdev)
{
	struct vdiommu_device *idev = vdev->idev;

	lockdep_assert_held(&vdev->lock);

	if (vdev->ops->close_device)
		vdev->ops->close_device(vdev);
	vdev->idev = NULL;
	vdiommu_device_unbind(idev);
}

/* A file with access lets go of it; the last one closes the device. */
static void vfiodev_device_put_open(struct vfiodev_device *vdev)
{
	mutex_lock(&vdev->lock);
	if (!--vdev->open_count)
		vfiodev_device_last_close(vdev);
	mutex_unlock(&vdev->lock);
}

static struct vfiodev_df *vfiodev_df_alloc(struct vfiodev_device *vdev)
{
	struct vfiodev_df *df;

	df = kzalloc(sizeof(*df), GFP_KERNEL_ACCOUNT);
	if (!df)
		return ERR_PTR(-ENOMEM);
	df->vdev = vdev;
	/*
	 * The caller's registration reference keeps the driver bound, so
	 * vdev->dev->driver is stable here and until release.
	 */
	df->driver_owner = vdev->dev->driver->owner;
	if (!try_module_get(df->driver_owner)) {
		kfree(df);
		return ERR_PTR(-ENODEV);
	}
	return df;
}

static void vfiodev_df_free(struct vfiodev_df *df)
{
	module_put(df->driver_owner);
	kfree(df);
}

static int vfiodev_df_open(struct inode *inode, struct file *filep)
{
	struct vfiodev_device *vdev =
		container_of(inode->i_cdev, struct vfiodev_device, cdev);
	struct vfiodev_df *df;
	int ret;

	if (!vfiodev_device_try_get_registration(vdev))
		return -ENODEV;
	df = vfiodev_df_alloc(vdev);
	if (IS_ERR(df)) {
		ret = PTR_ERR(df);
		goto err_put_registration;
	}

	/* Not nonseekable: pread/pwrite offsets select device regions. */
	filep->private_data = df;
	filep->f_mapping = vdev->inode->i_mapping;
	return 0;

err_put_registration:
	vfiodev_device_put_registration(vdev);
	return ret;
}

static int vfiodev_df_release(struct inode *inode, struct file *filep)
{
	struct vfiodev_df *df = filep->private_data;
	struct vfiodev_device *vdev = df->vdev;
	struct vfiodev_group *group = df->group;

	if (df->access_granted)
		vfiodev_device_put_open(vdev);
	if (group) {
		vfiodev_group_device_fd_closed(group);
		/* After the unbind: the group may let go of its container. */
		fput(df->group_file);
	} else if (df->access_granted) {
		vfiodev_group_unblock_cdev(vdev);
	}
	vfiodev_df_free(df);
	/* Last: this may let vfiodev_unregister_device() return. */
	vfiodev_device_put_registration(vdev);
	return 0;
}

/**
 * vfiodev_df_group_open() - a device file for VFIO_GROUP_GET_DEVICE_FD
 * @vdev: a device of @group, with a registration reference the file takes
 *	over
 * @group: the group, its container set; under its lock
 *
 * The device is opened bound to the container's context and attached to
 * its compatibility IOAS, unless it is open already through the group.
 *
 * Return: the file, not yet installed, or an ERR_PTR().
 */
struct file *vfiodev_df_group_open(struct vfiodev_device *vdev,
				   struct vfiodev_group *group)
{
	struct vfiodev_df *df;
	struct file *filep;
	u32 devid;
	int ret;

	lockdep_assert_held(&group->lock);

	df = vfiodev_df_alloc(vdev);
	if (IS_ERR(df))
		return ERR_CAST(df);
	df->group = group;

	mutex_lock(&vdev->lock);
	if (!vdev->open_count) {
		ret = vfiodev_device_first_open(vdev, group->ictx, true,
						&devid);
		if (ret) {
			mutex_unlock(&vdev->lock);
			goto err_free;
		}
	}
	vdev->open_count++;
	df->access_granted = true;
	mutex_unlock(&vdev->lock);

	filep = anon_inode_getfile("[vfio-device]", &vfiodev_df_fops, df,
				   O_RDWR);
	if (IS_ERR(filep)) {
		ret = PTR_ERR(filep);
		vfiodev_device_put_open(vdev);
		goto err_free;
	}
	/* An anonymous inode has no positioned I/O by default. */
	filep->f_mode |= FMODE_PREAD | FMODE_PWRITE;
	filep->f_mapping = vdev->inode->i_mapping;
	df->group_file = get_file(group->opened_file);
	return filep;

err_free:
	vfiodev_df_free(df);
	return ERR_PTR(ret);
}

static long vfiodev_df_ioctl_bind_iommufd(struct file *filep,
					  struct vfio_device_bind_iommufd __user *arg)
{
	unsigned long minsz =
		offsetofend(struct vfio_device_bind_iommufd, out_devid);
	struct vfiodev_df *df = filep->private_data;
	struct vfiodev_device *vdev = df->vdev;
	struct vfio_device_bind_iommufd bind;
	struct vdiommu_ctx *ictx;
	struct file *file;
	u32 devid;
	long ret;

	if (copy_from_user(&bind, arg, minsz))
		return -EFAULT;

	if (bind.argsz < minsz || bind.flags || bind.iommufd < 0)
		return -EINVAL;

	file = fget(bind.iommufd);
	if (!file)
		return -EBADF;
	/* Not while the group is open, and the group not while bound. */
	ret = vfiodev_group_block_cdev(vdev);
	if (ret)
		goto out_fput;

	mutex_lock(&vdev->lock);
	/* One file binds once; one device has one bound file. */
	if (df->access_granted || vdev->open_count) {
		ret = -EINVAL;
		goto out_unlock;
	}
	ictx = vdiommu_ctx_from_file(file);
	if (IS_ERR(ictx)) {
		ret = PTR_ERR(ictx);
		goto out_unlock;
	}
	ret = vfiodev_device_first_open(vdev, ictx, false, &devid);
	if (ret)
		goto out_unlock;
	if (copy_to_user(&arg->out_devid, &devid, sizeof(devid))) {
		vfiodev_device_last_close(vdev);
		ret = -EFAULT;
		goto out_unlock;
	}
	vdev->open_count++;
	/* Paired with smp_load_acquire() in vfiodev_df_granted(). */
	smp_store_release(&df->access_granted, true);
out_unlock:
	mutex_unlock(&vdev->lock);
	if (ret)
		vfiodev_group_unblock_cdev(vdev);
out_fput:
	fput(file);
	return ret;
}

static long vfiodev_df_ioctl_attach_pt(struct vfiodev_df *df,
				       struct vfio_device_attach_iommufd_pt __user *arg)
{
	unsigned long minsz =
		offsetofend(struct vfio_device_attach_iommufd_pt, pt_id);
	struct vfio_device_attach_iommufd_pt attach;
	struct vfiodev_device *vdev = df->vdev;
	long ret;

	if (copy_from_user(&attach, arg, minsz))
		return -EFAULT;
	if (attach.argsz < minsz || attach.flags)
		return -EINVAL;

	mutex_lock(&vdev->lock);
	ret = vdiommu_device_attach(vdev->idev, &attach.pt_id);
	if (!ret && copy_to_user(&arg->pt_id, &attach.pt_id,
				 sizeof(attach.pt_id))) {
		vdiommu_device_detach(vdev->idev);
		ret = -EFAULT;
	}
	mutex_unlock(&vdev->lock);
	return ret;
}

static long vfiodev_df_ioctl_detach_pt(struct vfiodev_df *df,
				       struct vfio_device_detach_iommufd_pt __user *arg)
{
	unsigned long minsz =
		offsetofend(struct vfio_device_detach_iommufd_pt, flags);
	struct vfio_device_detach_iommufd_pt detach;
	struct vfiodev_device *vdev = df->vdev;

	if (copy_from_user(&detach, arg, minsz))
		return -EFAULT;
	if (detach.argsz < minsz || detach.flags)
		return -EINVAL;

	mutex_lock(&vdev->lock);
	vdiommu_device_detach(vdev->idev);
	mutex_unlock(&vdev->lock);
	return 0;
}

static bool vfiodev_df_granted(struct vfiodev_df *df)
{
	/* Paired with smp_store_release() in vfiodev_df_ioctl_bind_iommufd(). */
	return smp_load_acquire(&df->access_granted);
}

/*
 * Before bind, upstream answers every other ioctl, read, write and mmap of a
 * device cdev with EINVAL.  After it, the device's driver answers what is
 * not the core's, and upstream answers EINVAL for a driver without ioctls.
 */
static long vfiodev_df_unl_ioctl(struct file *filep, unsigned int cmd,
				 unsigned long arg)
{
	struct vfiodev_df *df = filep->private_data;
	void __user *uarg = (void __user *)arg;

	if (cmd == VFIO_DEVICE_BIND_IOMMUFD)
		return vfiodev_df_ioctl_bind_iommufd(filep, uarg);
	if (!vfiodev_df_granted(df))
		return -EINVAL;

	/* The cdev's own; a file from the group passes them to the driver. */
	if (!df->group) {
		switch (cmd) {
		case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
			return vfiodev_df_ioctl_attach_pt(df, uarg);
		case VFIO_DEVICE_DETACH_IOMMUFD_PT:
			return vfiodev_df_ioctl_detach_pt(df, uarg);
		}
	}

	switch (cmd) {
	case VFIO_DEVICE_FEATURE:
		return vfiodev_ioctl_device_feature(df->vdev, uarg);
	default:
		if (!df->vdev->ops->ioctl)
			return -EINVAL;
		return df->vdev->ops->ioctl(df->vdev, cmd, arg);
	}
}

static ssize_t vfiodev_df_read(struct file *filep, char __user *buf,
			       size_t count, loff_t *ppos)
{
	struct vfiodev_df *df = filep->private_data;

	if (!vfiodev_df_granted(df) || !df->vdev->ops->read)
		return -EINVAL;
	return df->vdev->ops->read(df->vdev, buf, count, ppos);
}

static ssize_t vfiodev_df_write(struct file *filep, const char __user *buf,
				size_t count, loff_t *ppos)
{
	struct vfiodev_df *df = filep->private_data;

	if (!vfiodev_df_granted(df) || !df->vdev->ops->write)
		return -EINVAL;
	return df->vdev->ops->write(df->vdev, buf, count, ppos);
}

static int vfiodev_df_mmap(struct file *filep, struct vm_area_struct *vma)
{
	struct vfiodev_df *df = filep->private_data;

	if (!vfiodev_df_granted(df) || !df->vdev->ops->mmap)
		return -EINVAL;
	return df->vdev->ops->mmap(df->vdev, vma);
}

/**
 * vfiodev_zap_user_mappings() - remove every user mapping of a device
 * @vdev: the device (while none of its files maps it, nothing happens)
 *
 * Drivers call this before the device stops answering at the addresses
 * user space has mapped (memory decoding turned off, reset): the next
 * access faults, and the driver's fault handler decides what it gets.
 */
void vfiodev_zap_user_mappings(struct vfiodev_device *vdev)
{
	/* Every file of the device maps through its inode. */
	unmap_mapping_range(vdev->inode->i_mapping, 0, 0, true);
}
EXPORT_SYMBOL_NS_GPL(vfiodev_zap_user_mappings, VFIODEV_NS);

/**
 * vfiodev_device_iommufd() - the iommufd context a device's file is bound to
 * @vdev: the device, from its open_device callback or one of its bound
 *	file's callbacks (the binding cannot change then)
 * @devid: set to the device's ID in that context
 *
 * For a reset that touches several devices: drivers record this at open
 * and compare it to learn who owns which device.
 *
 * Return: an opaque pointer, equal for devices bound to the same context;
 * NULL if no file of @vdev is bound.
 */
const void *vfiodev_device_iommufd(struct vfiodev_device *vdev, u32 *devid)
{
	*devid = 0;
	if (!vdev->idev)
		return NULL;
	return vdiommu_device_ctx(vdev->idev, devid);
}
EXPORT_SYMBOL_NS_GPL(vfiodev_device_iommufd, VFIODEV_NS);

/**
 * vfiodev_device_iommufd_owns_group() - may @vdev's context reset @group
 * @vdev: a device with a bound file, from one of that file's callbacks
 * @group: the IOMMU group of a device @vdev's reset takes along
 *
 * The iommufd context @vdev's file is bound to owns the DMA of @group when
 * a device of @group is bound there: then no other user can have a device
 * of it, bound or not.
 *
 * Return: true if it does; false, too, when no file of @vdev is bound.
 */
bool vfiodev_device_iommufd_owns_group(struct vfiodev_device *vdev,
				       struct iommu_group *group)
{
	return vdev->idev && vdiommu_device_ctx_owns_group(vdev->idev, group);
}
EXPORT_SYMBOL_NS_GPL(vfiodev_device_iommufd_owns_group, VFIODEV_NS);

/**
 * vfiodev_df_device() - the device of a device file
 * @file: any file
 *
 * Return: the device if @file is a device file (cdev or from a group),
 * else NULL.
 */
struct vfiodev_device *vfiodev_df_device(struct file *file)
{
	struct vfiodev_df *df = file->private_data;

	if (file->f_op != &vfiodev_df_fops)
		return NULL;
	return df->vdev;
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
