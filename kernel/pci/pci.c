// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci: the plain PCI driver on the vfiodev PCI core library, with
 * upstream's module name, driver name and module parameters.
 *
 * It matches every PCI device, but only through driver_override or the
 * ids= parameter (dynamic ids): its id table is made with
 * PCI_DRIVER_OVERRIDE_DEVICE_VFIO, which gives the module a "vfio_pci:"
 * alias and keeps the PCI core from binding it on its own.  Variant drivers
 * use the same kind of table with real vendor/device ids, so that they are
 * the more specific match for their devices.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>

#include "../compat.h"
#include "vdpci_core.h"

static char ids[1024] __initdata;
module_param_string(ids, ids, sizeof(ids), 0);
MODULE_PARM_DESC(ids, "Initial PCI IDs to add to the vfio driver, format is \"vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]\" and multiple comma separated entries can be specified");

static bool nointxmask;
module_param(nointxmask, bool, 0644);
MODULE_PARM_DESC(nointxmask, "Disable support for PCI 2.3 style INTx masking.  If this resolves problems for specific devices, report lspci -vvvxxx to linux-pci@vger.kernel.org so the device can be fixed automatically via the broken_intx_masking flag.");

static bool disable_vga;
module_param(disable_vga, bool, 0444);
MODULE_PARM_DESC(disable_vga, "Disable VGA resource access through vfio-pci");

static bool disable_idle_d3;
module_param(disable_idle_d3, bool, 0644);
MODULE_PARM_DESC(disable_idle_d3, "Disable using the PCI D3 low power state for idle, unused devices");

static bool enable_sriov;
module_param(enable_sriov, bool, 0644);
MODULE_PARM_DESC(enable_sriov, "Enable support for SR-IOV configuration (vfiodev: refused, it has no VF token yet)");

static bool disable_denylist;
module_param(disable_denylist, bool, 0444);
MODULE_PARM_DESC(disable_denylist, "Disable use of device denylist. Disabling the denylist allows binding to devices with known errata that may lead to exploitable stability or security issues when accessed by untrusted users.");

static const struct vfiodev_device_ops vdpci_ops = {
	.name = "vfio-pci",
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

/*
 * Devices with errata that make them unsafe to hand to user space (the
 * same list as upstream's): QuickAssist and the Sapphire Rapids DSA/IAA
 * accelerators.
 */
static bool vdpci_in_denylist(struct pci_dev *pdev)
{
	if (pdev->vendor != PCI_VENDOR_ID_INTEL)
		return false;
	switch (pdev->device) {
	case PCI_DEVICE_ID_INTEL_QAT_C3XXX:
	case PCI_DEVICE_ID_INTEL_QAT_C3XXX_VF:
	case PCI_DEVICE_ID_INTEL_QAT_C62X:
	case PCI_DEVICE_ID_INTEL_QAT_C62X_VF:
	case PCI_DEVICE_ID_INTEL_QAT_DH895XCC:
	case PCI_DEVICE_ID_INTEL_QAT_DH895XCC_VF:
	case PCI_DEVICE_ID_INTEL_DSA_SPR0:
	case PCI_DEVICE_ID_INTEL_IAX_SPR0:
		return true;
	default:
		return false;
	}
}

static bool vdpci_denied(struct pci_dev *pdev)
{
	if (!vdpci_in_denylist(pdev))
		return false;
	if (disable_denylist) {
		pci_warn(pdev, "device denylist disabled - allowing device %04x:%04x\n",
			 pdev->vendor, pdev->device);
		return false;
	}
	pci_warn(pdev, "%04x:%04x is in the vfio-pci device denylist, not probing it\n",
		 pdev->vendor, pdev->device);
	return true;
}

static int vdpci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vdpci_core_device *vdev;
	int ret;

	if (vdpci_denied(pdev))
		return -EINVAL;

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

/*
 * Writing sriov_numvfs of a PF bound here.  Upstream enables the VFs with
 * enable_sriov and then requires a VF token (VFIO_DEVICE_FEATURE_PCI_VF_TOKEN)
 * before a VF can be opened, so that the VFs' users must trust the PF's; the
 * library has no VF token, so VFs of a user-space PF are refused either way.
 */
static int vdpci_sriov_configure(struct pci_dev *pdev, int nr_virtfn)
{
	if (!enable_sriov)
		return -ENOENT;
	if (!nr_virtfn)
		return 0;
	pci_warn(pdev, "SR-IOV through vfio-pci needs VF tokens, which vfiodev does not offer\n");
	return -EOPNOTSUPP;
}

static const struct pci_device_id vdpci_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, vdpci_table);

static struct pci_driver vdpci_driver = {
	.name = "vfio-pci",
	.id_table = vdpci_table,
	.probe = vdpci_probe,
	.remove = vdpci_remove,
	.sriov_configure = vdpci_sriov_configure,
	.driver = {
		.pm = &vdpci_core_pm_ops,
	},
	.driver_managed_dma = true,
};

/*
 * ids=: each comma-separated entry becomes a dynamic id, as if written to
 * new_id; the PCI core then binds every unbound device it matches.  Fields
 * are hexadecimal; subvendor and subdevice default to any, class and
 * class_mask to 0 (any class).
 */
static void __init vdpci_fill_ids(void)
{
	char *p = ids, *id;

	while ((id = strsep(&p, ","))) {
		unsigned int vendor, device, subvendor = PCI_ANY_ID;
		unsigned int subdevice = PCI_ANY_ID, class = 0, class_mask = 0;
		int fields, ret;

		if (!*id)
			continue;
		fields = sscanf(id, "%x:%x:%x:%x:%x:%x", &vendor, &device,
				&subvendor, &subdevice, &class, &class_mask);
		if (fields < 2) {
			pr_warn("invalid id string \"%s\"\n", id);
			continue;
		}
		ret = pci_add_dynid(&vdpci_driver, vendor, device, subvendor,
				    subdevice, class, class_mask, 0);
		if (ret)
			pr_warn("failed to add dynamic id [%04x:%04x[%04x:%04x]] class %#08x/%08x (%d)\n",
				vendor, device, subvendor, subdevice, class,
				class_mask, ret);
		else
			pr_info("add [%04x:%04x[%04x:%04x]] class %#08x/%08x\n",
				vendor, device, subvendor, subdevice, class,
				class_mask);
	}
}

static int __init vdpci_init(void)
{
	int ret;

	vdpci_core_set_params(nointxmask, disable_vga, disable_idle_d3);
	ret = pci_register_driver(&vdpci_driver);
	if (ret)
		return ret;
	vdpci_fill_ids();
	return 0;
}

static void __exit vdpci_exit(void)
{
	pci_unregister_driver(&vdpci_driver);
}

module_init(vdpci_init);
module_exit(vdpci_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio-pci (vfiodev): PCI devices for user space drivers");
MODULE_IMPORT_NS(VFIODEV_NS);
MODULE_IMPORT_NS(VFIODEV_PCI_CORE_NS);
