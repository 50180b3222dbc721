/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/vfiodev.yaml */
/* YNL-GEN uapi header */

#ifndef _UAPI_LINUX_VFIODEV_NL_H
#define _UAPI_LINUX_VFIODEV_NL_H

#define VFIODEV_FAMILY_NAME	"vfiodev"
#define VFIODEV_FAMILY_VERSION	1

/**
 * enum vfiodev_bind_flags - How far BIND may go.
 * @VFIODEV_BIND_FLAGS_ALLOW_UNBIND: Take the device from the driver it has
 *   now.
 * @VFIODEV_BIND_FLAGS_GROUP: Also hand the other devices of its IOMMU group
 *   that have a driver to vfio drivers (with allow-unbind), so that the group
 *   is viable.
 */
enum vfiodev_bind_flags {
	VFIODEV_BIND_FLAGS_ALLOW_UNBIND = 1,
	VFIODEV_BIND_FLAGS_GROUP = 2,
};

/**
 * enum vfiodev_restore - What UNBIND leaves behind.
 * @VFIODEV_RESTORE_NONE: No driver.
 * @VFIODEV_RESTORE_PREVIOUS: The driver the device had before BIND, if any.
 */
enum vfiodev_restore {
	VFIODEV_RESTORE_NONE,
	VFIODEV_RESTORE_PREVIOUS,
};

enum {
	VFIODEV_NL_A_DEV_PCI_ADDR = 1,
	VFIODEV_NL_A_DEV_SYSFS_PATH,
	VFIODEV_NL_A_DEV_DRIVER,
	VFIODEV_NL_A_DEV_FLAGS,
	VFIODEV_NL_A_DEV_RESTORE,
	VFIODEV_NL_A_DEV_CDEV,
	VFIODEV_NL_A_DEV_GROUP,
	VFIODEV_NL_A_DEV_COHERENT,
	VFIODEV_NL_A_DEV_PREV_DRIVER,
	VFIODEV_NL_A_DEV_SPECIFICITY,
	VFIODEV_NL_A_DEV_MODULE,

	__VFIODEV_NL_A_DEV_MAX,
	VFIODEV_NL_A_DEV_MAX = (__VFIODEV_NL_A_DEV_MAX - 1)
};

enum {
	VFIODEV_NL_CMD_BIND = 1,
	VFIODEV_NL_CMD_UNBIND,
	VFIODEV_NL_CMD_GET,
	VFIODEV_NL_CMD_ADD_NTF,
	VFIODEV_NL_CMD_DEL_NTF,

	__VFIODEV_NL_CMD_MAX,
	VFIODEV_NL_CMD_MAX = (__VFIODEV_NL_CMD_MAX - 1)
};

#define VFIODEV_MCGRP_MONITOR	"monitor"

#endif /* _UAPI_LINUX_VFIODEV_NL_H */
