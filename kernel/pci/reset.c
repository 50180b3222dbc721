// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev PCI core library: device sets, and the resets of a slot or a bus
 * that take every function behind it along.
 *
 * A device set holds the registered devices that one slot or bus reset
 * resets together: those of one slot when the slot can be reset, else
 * those of one bus; a device on a root bus, which has no such reset, is
 * alone in its set.  A set's lock serialises the open and close of its
 * devices and every reset of the whole set, so that these never see a
 * device of the set half opened.
 *
 * Such a reset is possible only when every function it affects is in the
 * set, and it is done:
 * - on the last close in the set, when a device of it was used and could
 *   not be reset on its own (no function reset: edu, many multi-function
 *   cards), so that what the user left in the device does not reach the
 *   next owner;
 * - on VFIO_DEVICE_PCI_HOT_RESET, when the caller owns every device of the
 *   set, as upstream decides it: through the device cdev, every device
 *   must have a file bound to the caller's iommufd context, or, with no
 *   file bound, its IOMMU group's DMA must belong to that context (nobody
 *   else can use it); through the legacy group, the caller passes the
 *   files of groups that hold every device.  That reset takes each
 *   device's memory_lock for write (try only: contention is -EBUSY, never
 *   a deadlock between devices), and removes its user mappings.
 *
 * Lock order: vfiodev_device::lock (open/close), then vdpci_dev_set::lock,
 * then the memory_locks; vdpci_dev_sets_lock only at registration, around
 * a set's lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "../compat.h"
#include "priv.h"

/**
 * struct vdpci_dev_set - the devices one slot or bus reset takes along
 * @lock: see the lock order above; protects @devices and, of each device,
 *	&vdpci_core_device.set_open, .needs_reset, .owner_ctx, .owner_devid
 * @devices: the registered devices (&vdpci_core_device.set_item)
 * @id: the slot, the bus, or for a root-bus device the device itself
 * @item: on vdpci_dev_sets
 */
struct vdpci_dev_set {
	struct mutex lock;	/* the set's devices, their open and close */
	struct list_head devices;
	const void *id;
	struct list_head item;
};

static LIST_HEAD(vdpci_dev_sets);
static DEFINE_MUTEX(vdpci_dev_sets_lock);

/* What the devices of @pdev's set share, as upstream's vfio-pci picks it. */
static const void *vdpci_dev_set_id(struct vdpci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	if (pci_is_root_bus(pdev->bus))
		return vdev;
	if (!pci_probe_reset_slot(pdev->slot))
		return pdev->slot;
	return pdev->bus;
}

/**
 * vdpci_dev_set_join() - put a device being registered in its set
 * @vdev: the device
 *
 * Return: 0, or -ENOMEM.
 */
int vdpci_dev_set_join(struct vdpci_core_device *vdev)
{
	const void *id = vdpci_dev_set_id(vdev);
	struct vdpci_dev_set *set;
	int ret = 0;

	mutex_lock(&vdpci_dev_sets_lock);
	list_for_each_entry(set, &vdpci_dev_sets, item)
		if (set->id == id)
			goto found;
	set = kzalloc(sizeof(*set), GFP_KERNEL);
	if (!set) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	mutex_init(&set->lock);
	INIT_LIST_HEAD(&set->devices);
	set->id = id;
	list_add_tail(&set->item, &vdpci_dev_sets);
found:
	mutex_lock(&set->lock);
	list_add_tail(&vdev->set_item, &set->devices);
	vdev->dev_set = set;
	mutex_unlock(&set->lock);
out_unlock:
	mutex_unlock(&vdpci_dev_sets_lock);
	return ret;
}

/**
 * vdpci_dev_set_leave() - undo vdpci_dev_set_join()
 * @vdev: the device, closed for good (unregistered)
 */
void vdpci_dev_set_leave(struct vdpci_core_device *vdev)
{
	struct vdpci_dev_set *set = vdev->dev_set;
	bool empty;

	mutex_lock(&vdpci_dev_sets_lock);
	mutex_lock(&set->lock);
	list_del(&vdev->set_item);
	empty = list_empty(&set->devices);
	mutex_unlock(&set->lock);
	vdev->dev_set = NULL;
	if (empty) {
		list_del(&set->item);
		mutex_destroy(&set->lock);
		kfree(set);
	}
	mutex_unlock(&vdpci_dev_sets_lock);
}

/**
 * vdpci_dev_set_lock() - take the lock of a device's set
 * @vdev: a registered device
 *
 * For open and close, which must not meet a reset of the set.
 */
void vdpci_dev_set_lock(struct vdpci_core_device *vdev)
{
	mutex_lock(&vdev->dev_set->lock);
}

/**
 * vdpci_dev_set_unlock() - undo vdpci_dev_set_lock()
 * @vdev: the device
 */
void vdpci_dev_set_unlock(struct vdpci_core_device *vdev)
{
	mutex_unlock(&vdev->dev_set->lock);
}

/*
 * At open (@open true) and close: whether the device is open, and the
 * iommufd context its file is bound to and its ID there.  Under the set's
 * lock and vfiodev_device::lock.
 */
void vdpci_devices_set_owner(struct vdpci_core_device *vdev, bool open)
{
	u32 devid = 0;
	const void *ctx = open ? vfiodev_device_iommufd(&vdev->vdev, &devid) :
			  NULL;

	lockdep_assert_held(&vdev->dev_set->lock);
	vdev->set_open = open;
	vdev->owner_ctx = ctx;
	vdev->owner_devid = devid;
}

/* The device of @pdev in @set, or NULL.  Under the set's lock. */
static struct vdpci_core_device *vdpci_find(struct vdpci_dev_set *set,
					    struct pci_dev *pdev)
{
	struct vdpci_core_device *vdev;

	lockdep_assert_held(&set->lock);
	list_for_each_entry(vdev, &set->devices, set_item)
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
 * otherwise, and for a device not in @vdev's set.  Under the set's lock.
 */
static int vdpci_owner(struct vdpci_core_device *vdev, struct pci_dev *dev)
{
	struct vdpci_core_device *other = vdpci_find(vdev->dev_set, dev);
	struct iommu_group *group;
	bool owned;

	if (!other || !vdev->owner_ctx)
		return VFIO_PCI_DEVID_NOT_OWNED;
	if (other->owner_ctx)
		return other->owner_ctx == vdev->owner_ctx ?
		       other->owner_devid : VFIO_PCI_DEVID_NOT_OWNED;

	group = iommu_group_get(&dev->dev);
	if (!group)
		return VFIO_PCI_DEVID_NOT_OWNED;
	owned = vfiodev_device_iommufd_owns_group(&vdev->vdev, group);
	iommu_group_put(group);
	return owned ? VFIO_PCI_DEVID_OWNED : VFIO_PCI_DEVID_NOT_OWNED;
}

static int vdpci_count_one(struct pci_dev *dev, void *data)
{
	(*(int *)data)++;
	return 0;
}

/*
 * Wakes every device of @set that runtime PM may have suspended, for a
 * reset of them all.  Return: 0, or the error of waking one (then none is
 * held awake).  Under the set's lock.
 */
static int vdpci_dev_set_pm_get(struct vdpci_dev_set *set)
{
	struct vdpci_core_device *cur;
	int ret;

	lockdep_assert_held(&set->lock);
	list_for_each_entry(cur, &set->devices, set_item) {
		if (!cur->idle_d3)
			continue;
		ret = pm_runtime_resume_and_get(&cur->pdev->dev);
		if (ret)
			goto unwind;
	}
	return 0;

unwind:
	list_for_each_entry_continue_reverse(cur, &set->devices, set_item)
		if (cur->idle_d3)
			pm_runtime_put(&cur->pdev->dev);
	return ret;
}

static void vdpci_dev_set_pm_put(struct vdpci_dev_set *set)
{
	struct vdpci_core_device *cur;

	lockdep_assert_held(&set->lock);
	list_for_each_entry(cur, &set->devices, set_item)
		if (cur->idle_d3)
			pm_runtime_put(&cur->pdev->dev);
}

/* For a reset of @data's set: is @dev in the set.  Under its lock. */
static int vdpci_in_set_one(struct pci_dev *dev, void *data)
{
	return vdpci_find(data, dev) ? 0 : -EINVAL;
}

/**
 * vdpci_dev_set_try_reset() - reset a set whose last device was closed
 * @vdev: the device being closed, its function reset tried (needs_reset
 *	is set when it failed or the device has none)
 *
 * When no device of the set is open any more and one of them needs a
 * reset, resets the slot or bus, if every function behind it is in the
 * set; a set that cannot be reset now stays marked, for the next last
 * close.  Under the set's lock.
 */
void vdpci_dev_set_try_reset(struct vdpci_core_device *vdev)
{
	struct vdpci_dev_set *set = vdev->dev_set;
	struct vdpci_reset_walk walk = {
		.pdev = vdev->pdev,
		.fn = vdpci_in_set_one,
		.data = set,
	};
	struct vdpci_core_device *cur;
	bool needs_reset = false;

	lockdep_assert_held(&set->lock);
	list_for_each_entry(cur, &set->devices, set_item) {
		if (cur->set_open)
			return;
		needs_reset |= cur->needs_reset;
	}
	if (!needs_reset || vdpci_walk_affected(&walk))
		return;
	if (vdpci_dev_set_pm_get(set))
		return;
	if (!pci_reset_bus(vdev->pdev)) {
		list_for_each_entry(cur, &set->devices, set_item)
			cur->needs_reset = false;
	} else {
		pci_dbg(vdev->pdev, "reset of the device set failed\n");
	}
	vdpci_dev_set_pm_put(set);
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
	mutex_lock(&vdev->dev_set->lock);
	ret = vdpci_walk_affected(&walk);
	mutex_unlock(&vdev->dev_set->lock);
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

	if (!vdpci_find(walk->vdev->dev_set, dev))
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
	other = vdpci_find(walk->vdev->dev_set, dev);
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
		/* Before the set's lock: the groups have locks of their own. */
		ret = vdpci_get_groups(&lock, files, arg->group_fds, hdr.count);
		if (ret)
			goto out_put;
		lock.ngroups = hdr.count;
	}

	affected.fn = vdpci_lock_one;
	affected.data = &lock;
	mutex_lock(&vdev->dev_set->lock);
	ret = vdpci_dev_set_pm_get(vdev->dev_set);
	if (ret)
		goto out_unlock;
	ret = vdpci_walk_affected(&affected);
	if (!ret) {
		/* Suspended ones too: the reset ends with every device in D0. */
		for (i = 0; i < lock.n; i++)
			vdpci_set_power_state(lock.locked[i], PCI_D0);
		ret = pci_reset_bus(vdev->pdev);
	}
	for (i = 0; i < lock.n; i++)
		up_write(&lock.locked[i]->memory_lock);
	vdpci_dev_set_pm_put(vdev->dev_set);
out_unlock:
	mutex_unlock(&vdev->dev_set->lock);
out_put:
	for (i = 0; files && i < hdr.count && files[i]; i++)
		fput(files[i]);
out_free:
	kfree(lock.groups);
	kfree(files);
	kfree(lock.locked);
	return ret;
}
