/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of the vfiodev core module (not for drivers).
 */
#ifndef VFIODEV_PRIV_H
#define VFIODEV_PRIV_H

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/types.h>

#include "vfiodev.h"

/* main.c */
extern const struct class vfiodev_class;
extern dev_t vfiodev_devt;

/* device.c */
bool vfiodev_device_try_get_registration(struct vfiodev_device *vdev);
void vfiodev_device_put_registration(struct vfiodev_device *vdev);

/* device_cdev.c */
extern const struct file_operations vfiodev_df_fops;

/* feature.c */
int vfiodev_check_migration_ops(struct vfiodev_device *vdev);
long vfiodev_ioctl_device_feature(struct vfiodev_device *vdev,
				  struct vfio_device_feature __user *arg);

#endif /* VFIODEV_PRIV_H */
