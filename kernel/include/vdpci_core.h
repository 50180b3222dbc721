/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiodev PCI core library: what PCI drivers (the plain vfiodev-pci driver
 * and variant drivers) build on.
 */
#ifndef VDPCI_CORE_H
#define VDPCI_CORE_H

#include <linux/pci.h>

#include "vfiodev.h"

/**
 * struct vdpci_core_device - a PCI device assignable to user space
 * @vdev: the core device; must stay the first member
 * @pdev: the PCI device
 *
 * Variant drivers embed this structure, at offset 0, in their own.
 */
struct vdpci_core_device {
	struct vfiodev_device vdev;
	struct pci_dev *pdev;
};

int vdpci_core_init_dev(struct vfiodev_device *core_vdev);
void vdpci_core_request(struct vfiodev_device *core_vdev, unsigned int count);
int vdpci_core_register_device(struct vdpci_core_device *vdev);
void vdpci_core_unregister_device(struct vdpci_core_device *vdev);

#endif /* VDPCI_CORE_H */
