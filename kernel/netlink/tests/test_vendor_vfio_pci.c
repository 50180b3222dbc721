// SPDX-License-Identifier: GPL-2.0
/*
 * A vfio variant driver for the tests of vfiodev-nl only: it claims every
 * device of vendor 0x1234 (the edu's), a less specific entry than
 * edu-vfio-pci's 1234:11e8, so that the selftest can show that the most
 * specific driver wins whichever module loads first.  Otherwise it is the
 * plain driver: the PCI library's operations, nothing of its own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pci.h>

#include "../../compat.h"
#include "vdpci_core.h"

static const struct vfiodev_device_ops vdtest_ops = {
	.name = KBUILD_MODNAME,
	.init = vdpci_core_init_dev,
	.request = vdpci_core_request,
	.open_device = vdpci_core_open_device,
	.close_device = vdpci_core_close_device,
	.ioctl = vdpci_core_ioctl,
	.device_feature = vdpci_core_ioctl_feature,
	.read = vdpci_core_read,
	.write = vdpci_core_write,
	.mmap = vdpci_core_mmap,
};

static int vdtest_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vdpci_core_device *vdev;
	int ret;

	vdev = vfiodev_alloc_device(struct vdpci_core_device, vdev, &pdev->dev,
				    &vdtest_ops);
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);
	dev_set_drvdata(&pdev->dev, vdev);
	ret = vdpci_core_register_device(vdev);
	if (ret)
		vfiodev_put_device(&vdev->vdev);
	return ret;
}

static void vdtest_remove(struct pci_dev *pdev)
{
	struct vdpci_core_device *vdev = dev_get_drvdata(&pdev->dev);

	vdpci_core_unregister_device(vdev);
	vfiodev_put_device(&vdev->vdev);
}

static const struct pci_device_id vdtest_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(0x1234, PCI_ANY_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, vdtest_table);

static struct pci_driver vdtest_driver = {
	.name = KBUILD_MODNAME,
	.id_table = vdtest_table,
	.probe = vdtest_probe,
	.remove = vdtest_remove,
	.driver_managed_dma = true,
};
module_pci_driver(vdtest_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfiodev tests: a vfio variant for every device of vendor 0x1234");
MODULE_IMPORT_NS(VFIODEV_NS);
MODULE_IMPORT_NS(VFIODEV_PCI_CORE_NS);
