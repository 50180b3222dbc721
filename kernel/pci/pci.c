// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev-pci: the plain PCI driver on the vfiodev PCI core library.
 *
 * It matches every PCI device, but only through driver_override: its id
 * table is made with PCI_DRIVER_OVERRIDE_DEVICE_VFIO, which gives the module
 * a "vfio_pci:" alias and keeps the PCI core from binding it on its own.
 * Variant drivers use the same kind of table with real vendor/device ids, so
 * that they are the more specific match for their devices.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pci.h>

#include "../compat.h"
#include "vdpci_core.h"

static const struct vfiodev_device_ops vdpci_ops = {
	.name = "vfiodev-pci",
	.init = vdpci_core_init_dev,
	.request = vdpci_core_request,
	.open_device = vdpci_core_open_device,
	.close_device = vdpci_core_close_device,
	.ioctl = vdpci_core_ioctl,
	.read = vdpci_core_read,
	.write = vdpci_core_write,
	.mmap = vdpci_core_mmap,
};

static int vdpci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vdpci_core_device *vdev;
	int ret;

	vdev = vfiodev_alloc_device(struct vdpci_core_device, vdev, &pdev->dev,
				    &vdpci_ops);
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);

	dev_set_drvdata(&pdev->dev, vdev);
	ret = vdpci_core_register_device(vdev);
	if (ret)
		goto out_put_vdev;
	return 0;

out_put_vdev:
	vfiodev_put_device(&vdev->vdev);
	return ret;
}

static void vdpci_remove(struct pci_dev *pdev)
{
	struct vdpci_core_device *vdev = dev_get_drvdata(&pdev->dev);

	vdpci_core_unregister_device(vdev);
	vfiodev_put_device(&vdev->vdev);
}

static const struct pci_device_id vdpci_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, vdpci_table);

static struct pci_driver vdpci_driver = {
	.name = "vfiodev-pci",
	.id_table = vdpci_table,
	.probe = vdpci_probe,
	.remove = vdpci_remove,
	.driver_managed_dma = true,
};
module_pci_driver(vdpci_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfiodev-pci: PCI devices for user space drivers");
MODULE_IMPORT_NS(VFIODEV_NS);
MODULE_IMPORT_NS(VFIODEV_PCI_CORE_NS);
