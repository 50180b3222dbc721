/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiodev core: the device object that drivers embed and register.
 *
 * A driver allocates its device with vfiodev_alloc_device(), which embeds a
 * struct vfiodev_device at offset 0 of the driver's own structure, registers
 * it with vfiodev_register_device() and, on removal, calls
 * vfiodev_unregister_device() followed by vfiodev_put_device().
 */
#ifndef VFIODEV_H
#define VFIODEV_H

#include <linux/cdev.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/stddef.h>
#include <linux/vfio.h>

struct file;
struct iommu_group;
struct vdiommu_device;
struct vfiodev_device;
struct vfiodev_group;

/**
 * struct vfiodev_migration_ops - a driver's live migration (STOP_COPY)
 * @set_state: take the device to @new_state, stepping through the arcs
 *	vfiodev_mig_get_next_state() gives; return the data file of the new
 *	state (STOP_COPY: to read, RESUMING: to write), NULL for the other
 *	states, or an ERR_PTR() (the device stays usable: a reset puts it
 *	back in RUNNING)
 * @get_state: the current state
 * @get_data_size: optional; how many bytes STOP_COPY will produce
 *
 * The driver serialises these against each other and against reset.
 */
struct vfiodev_migration_ops {
	struct file *(*set_state)(struct vfiodev_device *vdev,
				  enum vfio_device_mig_state new_state);
	int (*get_state)(struct vfiodev_device *vdev,
			 enum vfio_device_mig_state *state);
	int (*get_data_size)(struct vfiodev_device *vdev,
			     unsigned long *stop_copy_length);
};

struct rb_root_cached;
struct vfiodev_dirty;

/**
 * struct vfiodev_log_ops - a device that tracks the pages its DMA dirties
 * @log_start: start tracking DMA writes to @ranges (an interval tree of
 *	@nnodes struct interval_tree_node, disjoint, each aligned to
 *	*@page_size, freed when this returns); the driver may raise
 *	*@page_size to a granularity it supports, and may refuse a start
 *	while tracking (-EINVAL)
 * @log_stop: stop tracking and forget what was tracked
 * @log_read_and_clear: for [@iova, @iova + @length), mark with
 *	vfiodev_dirty_set() what the device wrote since the last report of
 *	it, and forget it; called with no lock of the core held, under no
 *	lock a user fault takes (the core writes the user's bitmap after)
 *
 * VFIO_DEVICE_FEATURE_DMA_LOGGING_START, _STOP and _REPORT reach a device
 * with these, checked by the core as upstream checks them.  The driver
 * serialises them against each other, against reset and against close
 * (where it stops tracking).
 */
struct vfiodev_log_ops {
	int (*log_start)(struct vfiodev_device *vdev,
			 struct rb_root_cached *ranges, u32 nnodes,
			 u64 *page_size);
	int (*log_stop)(struct vfiodev_device *vdev);
	int (*log_read_and_clear)(struct vfiodev_device *vdev,
				  unsigned long iova, unsigned long length,
				  struct vfiodev_dirty *dirty);
};

/**
 * struct vfiodev_device_ops - what a driver provides for its devices
 * @name: driver name, used in messages
 * @init: optional; called by vfiodev_alloc_device() once the core part is
 *	initialised.  On failure the allocation is undone without calling
 *	@release.
 * @release: optional; called when the last reference to the device is put,
 *	to undo @init.  The core frees the memory afterwards.
 * @request: optional; called by vfiodev_unregister_device() while user space
 *	still holds the device, with @count counting the requests made so far
 *	(0 first).  The driver asks user space to let go of the device; it must
 *	not block.
 * @open_device: optional; called when a device file gains access to the
 *	device (after VFIO_DEVICE_BIND_IOMMUFD, with the device's DMA owned
 *	by that context), under &vfiodev_device.lock.  On failure the bind
 *	is undone and user space sees the error.
 * @close_device: optional; undoes @open_device when the file is closed,
 *	under &vfiodev_device.lock.
 * @ioctl: optional; the device file's ioctls that are not the core's,
 *	once access is granted.  Without it they fail with -EINVAL.
 * @read: optional; read(2)/pread(2) of the device file once access is
 *	granted; the offset selects a region.  Without it: -EINVAL.
 * @write: optional; the same for write(2)/pwrite(2).
 * @mmap: optional; mmap(2) of the device file once access is granted.
 *	Without it: -EINVAL.
 * @device_feature: optional; VFIO_DEVICE_FEATURE for the features the core
 *	does not serve itself (it serves migration), with @flags checked and
 *	@arg/@argsz the data after struct vfio_device_feature.  Without it,
 *	or for a feature it does not have: -ENOTTY.
 */
struct vfiodev_device_ops {
	char *name;
	int (*init)(struct vfiodev_device *vdev);
	void (*release)(struct vfiodev_device *vdev);
	void (*request)(struct vfiodev_device *vdev, unsigned int count);
	int (*open_device)(struct vfiodev_device *vdev);
	void (*close_device)(struct vfiodev_device *vdev);
	long (*ioctl)(struct vfiodev_device *vdev, unsigned int cmd,
		      unsigned long arg);
	ssize_t (*read)(struct vfiodev_device *vdev, char __user *buf,
			size_t count, loff_t *ppos);
	ssize_t (*write)(struct vfiodev_device *vdev, const char __user *buf,
			 size_t count, loff_t *ppos);
	int (*mmap)(struct vfiodev_device *vdev, struct vm_area_struct *vma);
	int (*device_feature)(struct vfiodev_device *vdev, u32 flags,
			      void __user *arg, size_t argsz);
};

/**
 * struct vfiodev_device - one device assignable to user space
 * @dev: the physical (parent) device, e.g. &pci_dev->dev
 * @ops: the driver's callbacks
 * @device: the "vfio-dev" class device; its reference count is the lifetime
 *	of this structure (and of the driver structure around it)
 * @cdev: /dev/vfio/devices/vfioN
 * @index: N in vfioN, also the minor number
 * @refcount: registration count: 1 for the registration itself plus one for
 *	every open file; unregistration waits for it to reach zero
 * @comp: completed when @refcount reaches zero
 * @lock: serialises binding device files to iommufd and their attach,
 *	detach and unbind (the upstream dev_set lock, for one device)
 * @open_count: device files with access, under @lock: at most one bound
 *	cdev file, or any number of files from the group
 * @group_opened: while open, whether through the legacy group (else the
 *	cdev); for drivers to read from their callbacks
 * @idev: the device as bound to an iommufd context by its bound file, or
 *	NULL; set under @lock
 * @group: the VFIO group of the device's IOMMU group (/dev/vfio/N), or
 *	NULL without an IOMMU; set while registered
 * @group_item: in the group's device list, under its lock
 * @inode: the inode of every file of the device (cdev or from the group):
 *	its mapping holds every user mapping of the device's regions
 * @mig_ops: the driver's migration support, or NULL; set before
 *	registration
 * @migration_flags: VFIO_MIGRATION_* the driver supports with @mig_ops;
 *	only VFIO_MIGRATION_STOP_COPY is served
 * @log_ops: the driver's DMA dirty tracking, or NULL; set before
 *	registration
 *
 * Only @dev, @ops and @group_opened are for drivers to read, and @mig_ops,
 * @migration_flags and @log_ops for them to set; the rest belongs to the
 * core.
 */
struct vfiodev_device {
	struct device *dev;
	const struct vfiodev_device_ops *ops;
	struct device device;
	struct cdev cdev;
	unsigned int index;
	refcount_t refcount;
	struct completion comp;
	struct mutex lock;	/* iommufd binding of the device files */
	unsigned int open_count;
	bool group_opened;
	struct vdiommu_device *idev;
	struct vfiodev_group *group;
	struct list_head group_item;
	struct inode *inode;
	const struct vfiodev_migration_ops *mig_ops;
	u32 migration_flags;
	const struct vfiodev_log_ops *log_ops;
};

struct vfiodev_device *_vfiodev_alloc_device(size_t size, struct device *dev,
					     const struct vfiodev_device_ops *ops);

/**
 * vfiodev_alloc_device - allocate a driver structure embedding a vfiodev_device
 * @dev_struct: the driver's structure type
 * @member: the name of the struct vfiodev_device member, which must be the
 *	first member of @dev_struct
 * @dev: the physical device
 * @ops: the driver's callbacks
 *
 * Because @member sits at offset 0, the pointer returned by
 * _vfiodev_alloc_device(), an ERR_PTR() included, is also the pointer to
 * @dev_struct.
 *
 * Return: a pointer to the new @dev_struct, or an ERR_PTR().  Drop it with
 * vfiodev_put_device().
 */
#define vfiodev_alloc_device(dev_struct, member, dev, ops)		     \
	((typeof(dev_struct) *)						     \
	 _vfiodev_alloc_device(sizeof(dev_struct) +			     \
			       BUILD_BUG_ON_ZERO(offsetof(dev_struct, member)), \
			       dev, ops))

void vfiodev_put_device(struct vfiodev_device *vdev);
int vfiodev_register_device(struct vfiodev_device *vdev);
void vfiodev_unregister_device(struct vfiodev_device *vdev);
void vfiodev_zap_user_mappings(struct vfiodev_device *vdev);
const void *vfiodev_device_iommufd(struct vfiodev_device *vdev, u32 *devid);
bool vfiodev_device_iommufd_owns_group(struct vfiodev_device *vdev,
				       struct iommu_group *group);
struct iommu_group *vfiodev_file_iommu_group(struct file *file);
struct vfiodev_virqfd;
int vfiodev_virqfd_enable(void *opaque,
			  bool (*handler)(void *opaque, void *data),
			  void (*thread)(void *opaque, void *data),
			  void *data, struct vfiodev_virqfd **pvirqfd, int fd);
void vfiodev_virqfd_disable(struct vfiodev_virqfd **pvirqfd);
int vfiodev_check_feature(u32 flags, size_t argsz, u32 supported_ops,
			  size_t minsz);
void vfiodev_dirty_set(struct vfiodev_dirty *dirty, unsigned long iova,
		       unsigned long length);
int vfiodev_mig_get_next_state(struct vfiodev_device *vdev,
			       enum vfio_device_mig_state cur,
			       enum vfio_device_mig_state target,
			       enum vfio_device_mig_state *next);

#endif /* VFIODEV_H */
