/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of the vfiodev core module (not for drivers).
 */
#ifndef VFIODEV_PRIV_H
#define VFIODEV_PRIV_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include "vfiodev.h"

struct iommu_group;
struct vdiommu_ctx;

/**
 * struct vfiodev_group - /dev/vfio/N, the legacy VFIO group of an IOMMU group
 * @dev: the "vfio" class device; its reference count is the structure's
 *	lifetime (the registry holds one while devices are registered, the
 *	cdev one while the node is open)
 * @cdev: the node
 * @minor: its minor number
 * @registered: devices of the group registered with vfiodev, under
 *	vfiodev_groups_lock; the group goes when it drops to zero
 * @lock: protects everything below
 * @iommu_group: the IOMMU group (a reference); NULL once the last device
 *	is unregistered, and every ioctl fails with -ENODEV from then on
 * @device_list: the registered devices (vfiodev_device::group_item)
 * @opened_file: the open file of the node; it can be open only once
 * @container: the container file (a reference) set with
 *	VFIO_GROUP_SET_CONTAINER, or NULL
 * @ictx: the context behind @container
 * @cdev_bound_count: device cdev files of the group's devices bound to an
 *	iommufd; an open group and bound cdevs exclude each other
 * @device_fds: open device files got from this group
 */
struct vfiodev_group {
	struct device dev;
	struct cdev cdev;
	unsigned int minor;
	unsigned int registered;
	struct mutex lock;	/* the group's state */
	struct iommu_group *iommu_group;
	struct list_head device_list;
	struct file *opened_file;
	struct file *container;
	struct vdiommu_ctx *ictx;
	unsigned int cdev_bound_count;
	unsigned int device_fds;
};

/* main.c */
extern const struct class vfiodev_class;
extern dev_t vfiodev_devt;
struct inode *vfiodev_fs_inode_new(void);
void vfiodev_fs_inode_put(struct inode *inode);

/* device.c */
bool vfiodev_device_try_get_registration(struct vfiodev_device *vdev);
void vfiodev_device_put_registration(struct vfiodev_device *vdev);

/* device_cdev.c */
extern const struct file_operations vfiodev_df_fops;
struct file *vfiodev_df_group_open(struct vfiodev_device *vdev,
				   struct vfiodev_group *group);
struct vfiodev_device *vfiodev_df_device(struct file *file);

/* group.c */
int vfiodev_virqfd_init(void);
void vfiodev_virqfd_exit(void);
int vfiodev_group_init(void);
void vfiodev_group_exit(void);
int vfiodev_group_add_device(struct vfiodev_device *vdev);
void vfiodev_group_del_device(struct vfiodev_device *vdev);
int vfiodev_group_block_cdev(struct vfiodev_device *vdev);
void vfiodev_group_unblock_cdev(struct vfiodev_device *vdev);
void vfiodev_group_device_fd_closed(struct vfiodev_group *group);

/* feature.c */
int vfiodev_check_migration_ops(struct vfiodev_device *vdev);
long vfiodev_ioctl_device_feature(struct vfiodev_device *vdev,
				  struct vfio_device_feature __user *arg);

#endif /* VFIODEV_PRIV_H */
