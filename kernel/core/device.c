// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev core: lifetime of struct vfiodev_device.
 *
 * Three things are kept apart, as in upstream VFIO:
 *
 *  - memory: the reference count of the embedded class device.  The driver
 *    holds the first reference from vfiodev_alloc_device() until
 *    vfiodev_put_device(); the cdev holds one on its parent while it has
 *    open files.  The last put calls ops->release and frees the structure.
 *
 *  - registration: @refcount is 1 while the driver has the device
 *    registered, plus 1 for every open device file.  Unregistration removes
 *    the node (no new opens), drops the registration's count and waits for
 *    the open files to go, asking user space through ops->request.
 *
 *  - open state of a device file: see device_cdev.c.
 *
 * Locking: vfiodev_device::lock covers the iommufd binding of device files
 * (device_cdev.c); it is taken before any lock of iommufd.  The
 * order of the core's locks:
 *
 *   vfiodev_groups_lock (group.c: the group registry)
 *     -> vfiodev_group::lock
 *       -> vfiodev_device::lock
 *         -> iommufd's locks (see vdiommu_priv.h), the drivers'
 *
 * The minor IDA has its own lock; the registration count and its
 * completion are lock-free.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/visibility.h>
#include <linux/idr.h>
#include <linux/kdev_t.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "../compat.h"
#include "vfiodev_priv.h"

/* How long unregistration waits between two requests to user space. */
#define VFIODEV_REQUEST_INTERVAL	(10 * HZ)

static DEFINE_IDA(vfiodev_minor_ida);

static void vfiodev_device_release(struct device *dev)
{
	struct vfiodev_device *vdev =
		container_of(dev, struct vfiodev_device, device);

	ida_free(&vfiodev_minor_ida, vdev->index);
	if (vdev->ops->release)
		vdev->ops->release(vdev);
	vfiodev_fs_inode_put(vdev->inode);
	mutex_destroy(&vdev->lock);
	kvfree(vdev);
}

static int vfiodev_device_init(struct vfiodev_device *vdev, struct device *dev,
			       const struct vfiodev_device_ops *ops)
{
	int ret;

	ret = ida_alloc_max(&vfiodev_minor_ida, MINORMASK, GFP_KERNEL);
	if (ret < 0)
		return ret;
	vdev->index = ret;
	vdev->dev = dev;
	vdev->ops = ops;
	init_completion(&vdev->comp);
	mutex_init(&vdev->lock);
	INIT_LIST_HEAD(&vdev->group_item);
	vdev->inode = vfiodev_fs_inode_new();
	if (IS_ERR(vdev->inode)) {
		ret = PTR_ERR(vdev->inode);
		goto err_free_minor;
	}

	if (ops->init) {
		ret = ops->init(vdev);
		if (ret)
			goto err_put_inode;
	}

	/* From here on, only put_device() may free @vdev. */
	device_initialize(&vdev->device);
	vdev->device.release = vfiodev_device_release;
	vdev->device.class = &vfiodev_class;
	vdev->device.parent = dev;
	vdev->device.devt = MKDEV(MAJOR(vfiodev_devt), vdev->index);
	cdev_init(&vdev->cdev, &vfiodev_df_fops);
	vdev->cdev.owner = THIS_MODULE;
	return 0;

err_put_inode:
	vfiodev_fs_inode_put(vdev->inode);
err_free_minor:
	mutex_destroy(&vdev->lock);
	ida_free(&vfiodev_minor_ida, vdev->index);
	return ret;
}

/**
 * _vfiodev_alloc_device - allocate and initialise a device structure
 * @size: size of the driver's structure, at least sizeof(struct vfiodev_device)
 * @dev: the physical device it stands for
 * @ops: the driver's callbacks, which must outlive the device
 *
 * Use the type-safe vfiodev_alloc_device() instead of calling this directly.
 * On success ops->init has run; the caller owns one reference, dropped with
 * vfiodev_put_device().  Context: process, may sleep.
 *
 * Return: the new device, or ERR_PTR(-ENOMEM) or the error of ops->init.
 */
struct vfiodev_device *_vfiodev_alloc_device(size_t size, struct device *dev,
					     const struct vfiodev_device_ops *ops)
{
	struct vfiodev_device *vdev;
	int ret;

	if (WARN_ON(size < sizeof(struct vfiodev_device) || !dev || !ops))
		return ERR_PTR(-EINVAL);

	vdev = kvzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!vdev)
		return ERR_PTR(-ENOMEM);

	ret = vfiodev_device_init(vdev, dev, ops);
	if (ret) {
		kvfree(vdev);
		return ERR_PTR(ret);
	}
	return vdev;
}
EXPORT_SYMBOL_NS_GPL(_vfiodev_alloc_device, VFIODEV_NS);

/**
 * vfiodev_put_device - drop the driver's reference to a device
 * @vdev: the device, from vfiodev_alloc_device()
 *
 * If the device was registered, it must have been unregistered first.  The
 * memory is freed, after ops->release, once no open file refers to it any
 * more.
 */
void vfiodev_put_device(struct vfiodev_device *vdev)
{
	put_device(&vdev->device);
}
EXPORT_SYMBOL_NS_GPL(vfiodev_put_device, VFIODEV_NS);

bool vfiodev_device_try_get_registration(struct vfiodev_device *vdev)
{
	return refcount_inc_not_zero(&vdev->refcount);
}
EXPORT_SYMBOL_IF_KUNIT(vfiodev_device_try_get_registration);

void vfiodev_device_put_registration(struct vfiodev_device *vdev)
{
	if (refcount_dec_and_test(&vdev->refcount))
		complete(&vdev->comp);
}
EXPORT_SYMBOL_IF_KUNIT(vfiodev_device_put_registration);

/**
 * vfiodev_register_device - make a device available to user space
 * @vdev: an allocated, not yet registered device
 *
 * Creates /dev/vfio/devices/vfioN and its "vfio-dev" sysfs entry under the
 * physical device, and adds the device to the VFIO group of its IOMMU
 * group (/dev/vfio/N, created with the group's first device).
 * User space can open the node as soon as this returns,
 * or even before it does, so the driver must be ready for that.
 * Context: process, may sleep.
 *
 * Return: 0, -EINVAL for migration support the core cannot serve, or a
 * negative errno; on failure the device is not registered and the caller
 * still drops it with vfiodev_put_device().
 */
int vfiodev_register_device(struct vfiodev_device *vdev)
{
	int ret;

	ret = vfiodev_check_migration_ops(vdev);
	if (ret)
		return ret;
	ret = dev_set_name(&vdev->device, "vfio%u", vdev->index);
	if (ret)
		return ret;

	/* Before the node exists: an open may come at once. */
	ret = vfiodev_group_add_device(vdev);
	if (ret)
		return ret;
	refcount_set(&vdev->refcount, 1);
	ret = cdev_device_add(&vdev->cdev, &vdev->device);
	if (ret) {
		refcount_set(&vdev->refcount, 0);
		vfiodev_group_del_device(vdev);
		return ret;
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(vfiodev_register_device, VFIODEV_NS);

/**
 * vfiodev_unregister_device - take a device away from user space
 * @vdev: a registered device
 *
 * Removes the node, so that nobody can open the device any more, then
 * waits until every open file of the device is closed.  While it waits it
 * calls ops->request every VFIODEV_REQUEST_INTERVAL.  It cannot fail: a
 * signal only turns the wait uninterruptible, with a message saying who
 * waits.  Context: process, may sleep for as long as user space holds the
 * device.
 */
void vfiodev_unregister_device(struct vfiodev_device *vdev)
{
	bool interruptible = true;
	unsigned int count = 0;
	long rc;

	cdev_device_del(&vdev->cdev, &vdev->device);
	vfiodev_device_put_registration(vdev);

	/* Each successful wait consumes the one completion: stop on it. */
	rc = try_wait_for_completion(&vdev->comp);
	while (rc <= 0) {
		if (vdev->ops->request)
			vdev->ops->request(vdev, count++);

		if (!interruptible) {
			rc = wait_for_completion_timeout(&vdev->comp,
							 VFIODEV_REQUEST_INTERVAL);
			continue;
		}
		rc = wait_for_completion_interruptible_timeout(&vdev->comp,
							       VFIODEV_REQUEST_INTERVAL);
		if (rc < 0) {
			interruptible = false;
			dev_notice(vdev->dev,
				   "device still in use, task \"%s\" (%d) waits uninterruptibly until it is released\n",
				   current->comm, task_pid_nr(current));
		}
	}
	/* No file of the device is open any more. */
	vfiodev_group_del_device(vdev);
}
EXPORT_SYMBOL_NS_GPL(vfiodev_unregister_device, VFIODEV_NS);
