/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfiodev: handing PCI devices to vfio drivers over vfiodev's generic
 * netlink family ("vfiodev", kernel module vfiodev-nl, loaded on demand
 * when the family is resolved).  The kernel loads the vfio modules the
 * device's vfio_pci: alias names and picks the driver whose ID entry
 * matches most specifically.  Needs vfiodev's kernel modules; on other
 * kernels every call fails with -ENOENT (no such family).
 *
 * Errors the kernel explains (netlink extended acks) reach the context's
 * log callback at VFIODEV_LOG_ERR.
 */
#ifndef VFIODEV_NL_API_H
#define VFIODEV_NL_API_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct vfiodev_nl_dev - a device as the netlink family describes it
 * @bdf: PCI address
 * @driver: its driver, empty when none
 * @module: the driver's module, empty when built in or none
 * @cdev: its /dev/vfio/devices node name ("vfio0"), empty when none
 * @group: IOMMU group number, -1 when none
 * @coherent: 1 when its IOMMU can enforce DMA cache coherency, else 0
 * @specificity: after a bind that chose the driver, how many of the seven
 *	ID fields of the chosen entry were not wildcards; -1 otherwise
 * @prev_driver: after a bind, the driver it had before, empty when none
 */
struct vfiodev_nl_dev {
	char bdf[16];
	char driver[64];
	char module[64];
	char cdev[16];
	int32_t group;
	int32_t coherent;
	int32_t specificity;
	char prev_driver[64];
};

/* Flags of vfiodev_nl_bind(). */
/* Take the device from the driver it has. */
#define VFIODEV_NL_ALLOW_UNBIND		(1u << 0)
/* Also hand the devices that keep its IOMMU group from being viable to
 * vfio drivers (needs VFIODEV_NL_ALLOW_UNBIND). */
#define VFIODEV_NL_GROUP		(1u << 1)

/**
 * vfiodev_nl_bind() - hand a device to the most specific vfio driver
 * @ctx: the context
 * @name: PCI address or sysfs directory of the device
 * @driver: the driver to use, NULL to let the kernel choose
 * @flags: 0 or VFIODEV_NL_* flags
 * @out: if not NULL, the device afterwards
 * @size: sizeof(*out) as the caller knows it
 *
 * Needs CAP_SYS_ADMIN and CAP_NET_ADMIN.
 *
 * Return: 0; -EINVAL for a malformed @name, unknown flags, or a @driver
 * that is not a vfio driver; -ENODEV when there is no such device or no
 * vfio driver for it; -ENOENT for an unknown @driver, or without vfiodev's
 * netlink family; -EBUSY when another driver has it (without
 * VFIODEV_NL_ALLOW_UNBIND) or its group cannot be made viable; -EPERM
 * without the rights; another -errno from the kernel.  Nothing changes on
 * failure.
 */
int vfiodev_nl_bind(struct vfiodev_ctx *ctx, const char *name,
		    const char *driver, unsigned int flags,
		    struct vfiodev_nl_dev *out, size_t size);

/* Flag of vfiodev_nl_unbind(). */
/* Give the device back to the driver it had before vfiodev_nl_bind(). */
#define VFIODEV_NL_RESTORE		(1u << 0)

/**
 * vfiodev_nl_unbind() - take a device from its vfio driver
 * @ctx: the context
 * @name: PCI address or sysfs directory of the device
 * @flags: 0 (leave it without a driver) or VFIODEV_NL_RESTORE
 * @out: if not NULL, the device afterwards
 * @size: sizeof(*out) as the caller knows it
 *
 * Return: 0; -EINVAL when its driver is not a vfio driver or bad flags;
 * -ENODEV for no such device; -ENOENT when the previous driver is gone;
 * -EPERM without the rights; another -errno.
 */
int vfiodev_nl_unbind(struct vfiodev_ctx *ctx, const char *name,
		      unsigned int flags, struct vfiodev_nl_dev *out,
		      size_t size);

/**
 * vfiodev_nl_get() - describe one PCI device
 * @ctx: the context
 * @name: PCI address or sysfs directory
 * @out: filled in
 * @size: sizeof(*out) as the caller knows it
 *
 * Needs no privilege.
 *
 * Return: 0; -EINVAL for a malformed @name or @size too short for @bdf;
 * -ENODEV for no such device; -ENOENT without the family.
 */
int vfiodev_nl_get(struct vfiodev_ctx *ctx, const char *name,
		   struct vfiodev_nl_dev *out, size_t size);

/**
 * typedef vfiodev_nl_fn - callback of vfiodev_nl_for_each()
 * @dev: one device; valid during the call only
 * @opaque: the pointer given to vfiodev_nl_for_each()
 *
 * Return: 0 to go on; a positive value stops the walk and is returned.
 */
typedef int (*vfiodev_nl_fn)(const struct vfiodev_nl_dev *dev, void *opaque);

/**
 * vfiodev_nl_for_each() - walk the devices vfio drivers have
 * @ctx: the context
 * @fn: called for each, in PCI order
 * @opaque: passed to @fn
 *
 * Return: 0, or what @fn returned to stop; -ENOENT without the family;
 * another -errno.
 */
int vfiodev_nl_for_each(struct vfiodev_ctx *ctx, vfiodev_nl_fn fn,
			void *opaque);

struct vfiodev_nl_monitor;

/* Events of vfiodev_nl_monitor_read(). */
#define VFIODEV_NL_EVENT_ADD	1	/* a vfio driver took a device */
#define VFIODEV_NL_EVENT_DEL	2	/* a vfio driver lets one go */

/**
 * vfiodev_nl_monitor_open() - listen to vfio devices coming and going
 * @ctx: the context
 * @out: the monitor
 *
 * Return: 0; -ENOENT without the family; -ENOMEM; another -errno.
 */
int vfiodev_nl_monitor_open(struct vfiodev_ctx *ctx,
			    struct vfiodev_nl_monitor **out);

/**
 * vfiodev_nl_monitor_fd() - the monitor's socket, to poll for POLLIN
 * @mon: the monitor
 * Return: the descriptor (the library's: do not close it).
 */
int vfiodev_nl_monitor_fd(struct vfiodev_nl_monitor *mon);

/**
 * vfiodev_nl_monitor_read() - wait for the next event
 * @mon: the monitor
 * @timeout_ms: at most this long; -1 for ever, 0 only looks
 * @event: VFIODEV_NL_EVENT_ADD or VFIODEV_NL_EVENT_DEL
 * @dev: the device, filled in
 * @size: sizeof(*dev) as the caller knows it
 *
 * Return: 0; -ETIMEDOUT when none came; -ENOBUFS when events were lost
 * (the socket overflowed; go on reading); another -errno.
 */
int vfiodev_nl_monitor_read(struct vfiodev_nl_monitor *mon, int timeout_ms,
			    int *event, struct vfiodev_nl_dev *dev,
			    size_t size);

/**
 * vfiodev_nl_monitor_close() - stop listening
 * @mon: the monitor, or NULL
 */
void vfiodev_nl_monitor_close(struct vfiodev_nl_monitor *mon);

#ifdef __cplusplus
}
#endif

#endif /* VFIODEV_NL_API_H */
