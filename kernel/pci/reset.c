// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev PCI core library: hot reset, the reset of a slot or a bus that
 * takes every function behind it along.
 *
 * The library keeps every device registered by a vfiodev PCI driver on one
 * list.  A hot reset is allowed only when every function it affects is on
 * that list and owned by the caller, as upstream decides it: through the
 * device cdev, every affected device must have a file bound to the
 * caller's iommufd context, or, with no file bound, share its IOMMU group
 * with a device that has (the context owns the group's DMA, so nobody
 * else can use it); through the legacy group, the caller passes the files
 * of groups that hold every affected device.
 * The reset then takes each affected device's memory_lock for write (try
 * only: contention is -EBUSY, never a deadlock between devices), removes
 * its user mappings, and resets.
 *
 * Who owns a device is recorded on the list at open and close
 * (vdpci_devices_set_owner()), under vdpci_devices_lock, which a hot
 * reset holds throughout: no device it affects can be opened or closed
 * meanwhile, and it never needs another device's vfiodev_device::lock.
 *
 * Lock order: vfiodev_device::lock (open/close), then vdpci_devices_lock,
 * then the memory_locks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "../compat.h"
#include "priv.h"

static LIST_HEAD(vdpci_devices);
static DEFINE_MUTEX(vdpci_devices_lock);

void vdpci_devices_add(struct vdpci_core_device *vdev)
{
	mutex_lock(&vdpci_devices_lock);
	list_add_tail(&vdev->devices_item, &vdpci_devices);
	mutex_unlock(&vdpci_devices_lock);
}

void vdpci_devices_del(struct vdpci_core_device *vdev)
{
	mutex_lock(&vdpci_devices_lock);
	list_del(&vdev->devices_item);
	mutex_unlock(&vdpci_devices_lock);
}

/*
 * At open (@open true) and close: the iommufd context the device's file is
 * bound to, and its ID there.  Under vfiodev_device::lock.
 */
void vdpci_devices_set_owner(struct vdpci_core_device *vdev, bool open)
{
	u32 devid = 0;
	const void *ctx = open ? vfiodev_device_iommufd(&vdev->vdev, &devid) :
			  NULL;

	mutex_lock(&vdpci_devices_lock);
	vdev->owner_ctx = ctx;
	vdev->owner_devid = devid;
	mutex_unlock(&vdpci_devices_lock);
}

/* The library's device of @pdev, or NULL.  Under vdpci_devices_lock. */
static struct vdpci_core_device *vdpci_find(struct pci_dev *pdev)
{
	struct vdpci_core_device *vdev;

	lockdep_assert_held(&vdpci_devices_lock);
	list_for_each_entry(vdev, &vdpci_devices, devices_item)
		if (vdev->pdev == pdev)
			return vdev;
	return NULL;
}

/**
 * struct vdpci_reset_walk - the functions a hot reset of @pdev affects
 * @pdev: the device asking
 * @slot: a slot reset (else a bus reset)
 * @fn: called for each affected function; non-zero stops the walk
 * @data: for @fn
 * @ret: what @fn returned last
 */
struct vdpci_reset_walk {
	struct pci_dev *pdev;
	bool slot;
	int (*fn)(struct pci_dev *pdev, void *data);
	void *data;
	int ret;
};

/* Whether @dev sits in @slot, itself or below a bridge that does. */
static bool vdpci_in_slot(struct pci_dev *dev, struct pci_slot *slot)
{
	for (; dev; dev = dev->bus->self)
		if (dev->slot == slot)
			return true;
	return false;
}

static int vdpci_reset_walk_one(struct pci_dev *dev, void *data)
{
	struct vdpci_reset_walk *walk = data;

	if (!walk->slot || vdpci_in_slot(dev, walk->pdev->slot))
		walk->ret = walk->fn(dev, walk->data);
	return walk->ret;
}

/*
 * Calls @walk->fn for every function a hot reset of @walk->pdev would
 * reset.  Return: -ENODEV when neither a slot nor a bus reset is possible,
 * else what @walk->fn returned last.
 */
static int vdpci_walk_affected(struct vdpci_reset_walk *walk)
{
	struct pci_dev *pdev = walk->pdev;

	walk->ret = 0;
	if (!pci_probe_reset_slot(pdev->slot))
		walk->slot = true;
	else if (pci_probe_reset_bus(pdev->bus))
		return -ENODEV;
	pci_walk_bus(pdev->bus, vdpci_reset_walk_one, walk);
	return walk->ret;
}

/*
 * Who owns @dev for a reset asked by @vdev: its device ID in the caller's
 * context (> 0), VFIO_PCI_DEVID_OWNED when no file of it is bound but its
 * group's DMA belongs to the caller's context, VFIO_PCI_DEVID_NOT_OWNED
 * otherwise.  Under vdpci_devices_lock.
 */
static int vdpci_owner(struct vdpci_core_device *vdev, struct pci_dev *dev)
{
	struct vdpci_core_device *other, *peer;
	struct iommu_group *group;
	int ret = VFIO_PCI_DEVID_NOT_OWNED;

	lockdep_assert_held(&vdpci_devices_lock);
	other = vdpci_find(dev);
	if (!other || !vdev->owner_ctx)
		return VFIO_PCI_DEVID_NOT_OWNED;
	if (other->owner_ctx)
		return other->owner_ctx == vdev->owner_ctx ?
		       other->owner_devid : VFIO_PCI_DEVID_NOT_OWNED;

	group = iommu_group_get(&dev->dev);
	if (!group)
		return VFIO_PCI_DEVID_NOT_OWNED;
	list_for_each_entry(peer, &vdpci_devices, devices_item) {
		struct iommu_group *g;

		if (peer->owner_ctx != vdev->owner_ctx)
			continue;
		g = iommu_group_get(&peer->pdev->dev);
		if (g == group)
			ret = VFIO_PCI_DEVID_OWNED;
		iommu_group_put(g);
		if (ret == VFIO_PCI_DEVID_OWNED)
			break;
	}
	iommu_group_put(group);
	return ret;
}

static int vdpci_count_one(struct pci_dev *dev, void *data)
{
	(*(int *)data)++;
	return 0;
}

/**
 * struct vdpci_fill - filling VFIO_DEVICE_GET_PCI_HOT_RESET_INFO
 * @vdev: the device asking
 * @devices: the array to fill
 * @max: its size
 * @count: entries filled
 * @flags: VFIO_PCI_HOT_RESET_FLAG_* of the answer
 */
struct vdpci_fill {
	struct vdpci_core_device *vdev;
	struct vfio_pci_dependent_device *devices;
	int max;
	int count;
	u32 flags;
};

static int vdpci_fill_one(struct pci_dev *dev, void *data)
{
	struct vdpci_fill *fill = data;
	struct vfio_pci_dependent_device *info;
	struct iommu_group *group;

	/* Devices appeared since they were counted. */
	if (fill->count >= fill->max)
		return -EAGAIN;
	info = &fill->devices[fill->count++];
	info->segment = pci_domain_nr(dev->bus);
	info->bus = dev->bus->number;
	info->devfn = dev->devfn;

	/* The legacy form names groups: the files that prove ownership. */
	if (fill->vdev->vdev.group_opened) {
		group = iommu_group_get(&dev->dev);
		if (!group)
			return -EPERM;
		info->group_id = iommu_group_id(group);
		iommu_group_put(group);
		return 0;
	}
	info->devid = vdpci_owner(fill->vdev, dev);
	if (info->devid == VFIO_PCI_DEVID_NOT_OWNED)
		fill->flags &= ~VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
	return 0;
}

/**
 * vdpci_ioctl_hot_reset_info() - VFIO_DEVICE_GET_PCI_HOT_RESET_INFO
 * @vdev: the device, with its file bound to an iommufd context
 * @arg: user's struct vfio_pci_hot_reset_info and its array
 *
 * The cdev form: every entry has a device ID (VFIO_PCI_HOT_RESET_FLAG_DEV_ID)
 * instead of a group ID: the device's ID in the caller's context, or
 * VFIO_PCI_DEVID_NOT_OWNED; VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED when the
 * caller owns them all.  Opened through the legacy group: the IOMMU group
 * IDs, no flag.
 *
 * Return: 0; -ENOSPC with the count set when the array is too short;
 * -ENODEV when the device cannot be hot reset; -EPERM for an affected
 * device without IOMMU group (legacy form); -EINVAL, -EFAULT, -ENOMEM.
 */
long vdpci_ioctl_hot_reset_info(struct vdpci_core_device *vdev,
				struct vfio_pci_hot_reset_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_hot_reset_info hdr;
	struct vdpci_fill fill = { .vdev = vdev };
	struct vdpci_reset_walk walk = {};
	int count = 0;
	long ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	hdr.flags = 0;

	walk.pdev = vdev->pdev;
	walk.fn = vdpci_count_one;
	walk.data = &count;
	ret = vdpci_walk_affected(&walk);
	if (ret)
		return ret;
	if (WARN_ON(!count))
		return -ERANGE;
	if (count > (hdr.argsz - sizeof(hdr)) / sizeof(*fill.devices)) {
		hdr.count = count;
		ret = -ENOSPC;
		goto out_hdr;
	}

	fill.devices = kcalloc(count, sizeof(*fill.devices), GFP_KERNEL);
	if (!fill.devices)
		return -ENOMEM;
	fill.max = count;
	if (!vdev->vdev.group_opened)
		fill.flags = VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
			     VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
	walk.fn = vdpci_fill_one;
	walk.data = &fill;
	mutex_lock(&vdpci_devices_lock);
	ret = vdpci_walk_affected(&walk);
	mutex_unlock(&vdpci_devices_lock);
	if (ret)
		goto out_free;
	if (copy_to_user(arg->devices, fill.devices,
			 sizeof(*fill.devices) * fill.count)) {
		ret = -EFAULT;
		goto out_free;
	}
	hdr.count = fill.count;
	hdr.flags = fill.flags;
out_hdr:
	if (copy_to_user(arg, &hdr, minsz))
		ret = -EFAULT;
out_free:
	kfree(fill.devices);
	return ret;
}

/**
 * struct vdpci_lock_walk - taking every affected device for a hot reset
 * @vdev: the device asking
 * @locked: devices whose memory_lock is held, to release afterwards
 * @max: room in @locked
 * @n: entries in @locked
 * @groups: legacy form: the IOMMU groups of the caller's group files
 * @ngroups: entries in @groups; 0 for the cdev form
 */
struct vdpci_lock_walk {
	struct vdpci_core_device *vdev;
	struct vdpci_core_device **locked;
	int max;
	int n;
	struct iommu_group **groups;
	u32 ngroups;
};

/* Legacy form: @dev is ours and in one of the caller's groups. */
static bool vdpci_in_groups(struct vdpci_lock_walk *walk, struct pci_dev *dev)
{
	struct iommu_group *group;
	bool ret = false;
	u32 i;

	if (!vdpci_find(dev))
		return false;
	group = iommu_group_get(&dev->dev);
	if (!group)
		return false;
	for (i = 0; i < walk->ngroups && !ret; i++)
		ret = walk->groups[i] == group;
	iommu_group_put(group);
	return ret;
}

static int vdpci_lock_one(struct pci_dev *dev, void *data)
{
	struct vdpci_lock_walk *walk = data;
	struct vdpci_core_device *other;

	/* Every affected function must be ours and the caller's. */
	if (walk->ngroups ? !vdpci_in_groups(walk, dev) :
	    vdpci_owner(walk->vdev, dev) == VFIO_PCI_DEVID_NOT_OWNED)
		return -EINVAL;
	other = vdpci_find(dev);
	if (walk->n >= walk->max)
		return -EAGAIN;
	if (!down_write_trylock(&other->memory_lock))
		return -EBUSY;
	vfiodev_zap_user_mappings(&other->vdev);
	walk->locked[walk->n++] = other;
	return 0;
}

/*
 * The legacy form's group files: @n of them at @ufds, each a VFIO group
 * file; their IOMMU groups go to @lock->groups, the files (kept referenced
 * through the reset) to @files.
 */
static int vdpci_get_groups(struct vdpci_lock_walk *lock, struct file **files,
			    s32 __user *ufds, u32 n)
{
	u32 i;
	s32 fd;

	for (i = 0; i < n; i++) {
		if (get_user(fd, &ufds[i]))
			return -EFAULT;
		files[i] = fget(fd);
		if (!files[i])
			return -EBADF;
		lock->groups[i] = vfiodev_file_iommu_group(files[i]);
		if (!lock->groups[i])
			return -EINVAL;
	}
	return 0;
}

/**
 * vdpci_ioctl_hot_reset() - VFIO_DEVICE_PCI_HOT_RESET
 * @vdev: the device, open
 * @arg: user's struct vfio_pci_hot_reset
 *
 * Through the cdev: an empty group-fd array; ownership is proven by every
 * affected device being bound to the caller's context.  Through the
 * legacy group: the files of groups holding every affected device (at
 * most one per affected device).
 *
 * Return: 0; -EINVAL for flags, an array of the wrong form, a file that
 * is not a group's or a device the caller does not own; -EBADF; -ENODEV
 * when no hot reset is possible; -EBUSY when an affected device is busy;
 * or the reset's error.
 */
long vdpci_ioctl_hot_reset(struct vdpci_core_device *vdev,
			   struct vfio_pci_hot_reset __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vdpci_lock_walk lock = { .vdev = vdev };
	struct vdpci_reset_walk affected = {};
	struct vfio_pci_hot_reset hdr;
	struct file **files = NULL;
	int count = 0, i;
	long ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	/* Group files prove ownership on the legacy path, and only there. */
	if (!!hdr.count != vdev->vdev.group_opened)
		return -EINVAL;

	affected.pdev = vdev->pdev;
	affected.fn = vdpci_count_one;
	affected.data = &count;
	ret = vdpci_walk_affected(&affected);
	if (ret)
		return ret;
	if (hdr.count > count)
		return -EINVAL;
	lock.locked = kcalloc(count, sizeof(*lock.locked), GFP_KERNEL);
	if (!lock.locked)
		return -ENOMEM;
	lock.max = count;
	if (hdr.count) {
		files = kcalloc(hdr.count, sizeof(*files), GFP_KERNEL);
		lock.groups = kcalloc(hdr.count, sizeof(*lock.groups),
				      GFP_KERNEL);
		if (!files || !lock.groups) {
			ret = -ENOMEM;
			goto out_free;
		}
		/* Before vdpci_devices_lock: the groups have locks of their own. */
		ret = vdpci_get_groups(&lock, files, arg->group_fds, hdr.count);
		if (ret)
			goto out_put;
		lock.ngroups = hdr.count;
	}

	affected.fn = vdpci_lock_one;
	affected.data = &lock;
	mutex_lock(&vdpci_devices_lock);
	ret = vdpci_walk_affected(&affected);
	if (!ret)
		ret = pci_reset_bus(vdev->pdev);
	for (i = 0; i < lock.n; i++)
		up_write(&lock.locked[i]->memory_lock);
	mutex_unlock(&vdpci_devices_lock);
out_put:
	for (i = 0; files && i < hdr.count && files[i]; i++)
		fput(files[i]);
out_free:
	kfree(lock.groups);
	kfree(files);
	kfree(lock.locked);
	return ret;
}
