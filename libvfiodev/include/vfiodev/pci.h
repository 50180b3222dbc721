/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfiodev: PCI devices as sysfs shows them, before anything is opened,
 * and handing them to a driver.
 */
#ifndef VFIODEV_PCI_H
#define VFIODEV_PCI_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct vfiodev_pci_info - a PCI device as sysfs shows it
 * @bdf: PCI address, "0000:00:03.0"
 * @vendor: vendor id
 * @device: device id
 * @class_code: class code (24 bits)
 * @group: IOMMU group number, -1 without one
 * @vfio: 1 when a vfio driver has it (it has a vfio-dev entry, its driver
 *	is vfio-pci, or its driver's module is built on vfio_pci_core), else 0
 * @coherent: 1 / 0 when the kernel tells whether its IOMMU enforces DMA
 *	cache coherency before opening, -1 when it does not
 * @auto_path: the path the automatic policy would take, VFIODEV_PATH_AUTO
 *	when that is learned only on attach (or the device is not vfio's)
 * @auto_reason: why
 * @driver: name of the bound driver, empty when none
 * @cdev: cdev name ("vfio0") when it has one, else empty
 */
struct vfiodev_pci_info {
	char bdf[16];
	uint32_t vendor;
	uint32_t device;
	uint32_t class_code;
	int32_t group;
	int32_t vfio;
	int32_t coherent;
	enum vfiodev_path auto_path;
	enum vfiodev_reason auto_reason;
	char driver[64];
	char cdev[16];
};

/**
 * vfiodev_pci_get_info() - read what sysfs says of one PCI device
 * @ctx: the context (its path policy decides @auto_path)
 * @name: PCI address or sysfs directory, as for vfiodev_device_open()
 * @info: filled in
 * @size: sizeof(*info) as the caller knows it
 *
 * Opens no device node.
 *
 * Return: 0; -EINVAL for a malformed @name or @size too short for @bdf;
 * -ENOENT when there is no such device; -ENODEV for a vfio cdev whose PCI
 * device sysfs does not name.
 */
int vfiodev_pci_get_info(struct vfiodev_ctx *ctx, const char *name,
			 struct vfiodev_pci_info *info, size_t size);

/**
 * typedef vfiodev_pci_fn - callback of vfiodev_pci_for_each()
 * @info: one device; valid during the call only
 * @opaque: the pointer given to vfiodev_pci_for_each()
 *
 * Return: 0 to go on; anything else stops the walk and is returned (use
 * positive values, so that they cannot be taken for the library's -errno).
 */
typedef int (*vfiodev_pci_fn)(const struct vfiodev_pci_info *info,
			      void *opaque);

/* Flag of vfiodev_pci_for_each(). */
#define VFIODEV_PCI_VFIO_ONLY	(1u << 0)	/* only devices a vfio driver has */

/**
 * vfiodev_pci_for_each() - walk the PCI devices in address order
 * @ctx: the context
 * @flags: 0 or VFIODEV_PCI_VFIO_ONLY
 * @fn: called for each device
 * @opaque: passed to @fn
 *
 * Return: 0 after the last device, or what @fn returned to stop; -EINVAL
 * for unknown flags; -errno when /sys/bus/pci cannot be read.
 */
int vfiodev_pci_for_each(struct vfiodev_ctx *ctx, unsigned int flags,
			 vfiodev_pci_fn fn, void *opaque);

/**
 * vfiodev_pci_bind() - hand a PCI device to a driver
 * @ctx: the context
 * @bdf: PCI address
 * @driver: driver name, NULL for "vfio-pci"
 *
 * Through driver_override: sets it, unbinds the current driver, asks the
 * PCI core to probe.  The override stays so that the device stays with
 * @driver; vfiodev_pci_unbind() clears it.
 *
 * Return: 0 when @driver has the device; -EINVAL for a malformed @bdf or
 * @driver; -ENOENT for no such device; -ENODEV when @driver is not loaded
 * or did not take the device (the override is cleared again and the
 * device left without a driver); -EACCES / -EPERM without the rights.
 */
int vfiodev_pci_bind(struct vfiodev_ctx *ctx, const char *bdf,
		     const char *driver);

/**
 * vfiodev_pci_unbind() - take a PCI device from its driver
 * @ctx: the context
 * @bdf: PCI address
 *
 * Unbinds the driver and clears driver_override, so that no driver takes
 * the device until one is asked to.
 *
 * Return: 0, also when it had no driver; -EINVAL for a malformed @bdf;
 * -ENOENT for no such device; -EACCES / -EPERM without the rights.
 */
int vfiodev_pci_unbind(struct vfiodev_ctx *ctx, const char *bdf);

#ifdef __cplusplus
}
#endif

#endif /* VFIODEV_PCI_H */
