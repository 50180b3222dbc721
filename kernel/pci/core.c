// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev PCI core library.
 *
 * Drivers fill their struct vfiodev_device_ops with the vdpci_core_*
 * callbacks (or wrap them), allocate a structure embedding struct
 * vdpci_core_device with vfiodev_alloc_device() and register it with
 * vdpci_core_register_device().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "../compat.h"
#include "vdpci_core.h"

static struct vdpci_core_device *to_vdpci(struct vfiodev_device *core_vdev)
{
	return container_of(core_vdev, struct vdpci_core_device, vdev);
}

/**
 * vdpci_core_init_dev - &vfiodev_device_ops.init for PCI devices
 * @core_vdev: the device being allocated; its @dev is a PCI device
 *
 * Return: 0.
 */
int vdpci_core_init_dev(struct vfiodev_device *core_vdev)
{
	to_vdpci(core_vdev)->pdev = to_pci_dev(core_vdev->dev);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_init_dev, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_request - &vfiodev_device_ops.request for PCI devices
 * @core_vdev: the device being unregistered
 * @count: how many requests were made before this one
 *
 * Tells the log, once, that unbinding waits for user space to close the
 * device.  Context: process, does not sleep.
 */
void vdpci_core_request(struct vfiodev_device *core_vdev, unsigned int count)
{
	if (!count)
		pci_notice(to_vdpci(core_vdev)->pdev,
			   "device in use by user space, unbind waits until it is released\n");
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_request, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_register_device - check and register a PCI device
 * @vdev: the device, allocated with vfiodev_alloc_device()
 *
 * Only normal (type 0 header) functions behind an IOMMU can be given to user
 * space: without an IOMMU group nothing would confine the device's DMA.
 * Context: process, may sleep.
 *
 * Return: 0; -EINVAL for a bridge or a device without an IOMMU group; or the
 * error of vfiodev_register_device().
 */
int vdpci_core_register_device(struct vdpci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct iommu_group *group;

	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;

	group = iommu_group_get(&pdev->dev);
	if (!group) {
		pci_warn(pdev, "no IOMMU group, the device cannot be assigned\n");
		return -EINVAL;
	}
	iommu_group_put(group);

	return vfiodev_register_device(&vdev->vdev);
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_register_device, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_unregister_device - undo vdpci_core_register_device()
 * @vdev: a registered device
 *
 * Waits until user space has closed the device; see
 * vfiodev_unregister_device().  Context: process, may sleep.
 */
void vdpci_core_unregister_device(struct vdpci_core_device *vdev)
{
	vfiodev_unregister_device(&vdev->vdev);
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_unregister_device, VFIODEV_PCI_CORE_NS);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfiodev: PCI core library");
MODULE_IMPORT_NS(VFIODEV_NS);
