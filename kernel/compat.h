/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version dependent construct of vfiodev lives here, so that
 * the .c files carry no version #ifdefs.
 */
#ifndef VFIODEV_COMPAT_H
#define VFIODEV_COMPAT_H

#include <linux/device.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/version.h>

/*
 * Symbol namespaces: up to 6.12 EXPORT_SYMBOL_NS_GPL() and
 * MODULE_IMPORT_NS() take a bare identifier, from 6.13 on a string literal.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define VFIODEV_NS		"VFIODEV"
#define VFIODEV_PCI_CORE_NS	"VFIODEV_PCI_CORE"
#define VFIODEV_KUNIT_NS	"EXPORTED_FOR_KUNIT_TESTING"
#define VFIODEV_IOMMU_NS	"VFIODEV_IOMMU"
#else
#define VFIODEV_NS		VFIODEV
#define VFIODEV_PCI_CORE_NS	VFIODEV_PCI_CORE
#define VFIODEV_KUNIT_NS	EXPORTED_FOR_KUNIT_TESTING
#define VFIODEV_IOMMU_NS	VFIODEV_IOMMU
#endif

/*
 * A paging domain sized for @dev's IOMMU, as upstream's iommufd allocates
 * it.  Up to 6.12, iommu_paging_domain_alloc() takes a driver's
 * device-less domain_alloc() where the driver has no domain_alloc_paging()
 * (Intel's): that domain's aperture is the driver's 57-bit default until
 * the first attach narrows it, so an IOVA space filled before the attach
 * would offer addresses the IOMMU cannot translate.  domain_alloc_user()
 * sizes it for the device at once.  From 6.13 on,
 * iommu_paging_domain_alloc() does the equivalent itself.
 */
static inline struct iommu_domain *
vfiodev_paging_domain_alloc(struct device *dev)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
	const struct iommu_ops *ops = dev->iommu->iommu_dev->ops;
	struct iommu_domain *domain;

	if (ops->domain_alloc_user) {
		domain = ops->domain_alloc_user(dev, 0, NULL, NULL);
		if (!IS_ERR(domain))
			domain->owner = ops;
		return domain;
	}
#endif
	return iommu_paging_domain_alloc(dev);
}

/*
 * driver_override: Debian's 6.12.117 and later have the upstream rework
 * that keeps it in struct device (device_set_driver_override()); earlier
 * 6.12 kernels keep it in struct pci_dev.  Kbuild tells which from the
 * kernel's own header (VFIODEV_HAVE_DEVICE_DRIVER_OVERRIDE).
 */
static inline int vfiodev_set_driver_override(struct pci_dev *pdev,
					      const char *name)
{
#ifdef VFIODEV_HAVE_DEVICE_DRIVER_OVERRIDE
	return device_set_driver_override(&pdev->dev, name);
#else
	return driver_set_override(&pdev->dev, &pdev->driver_override, name,
				   strlen(name));
#endif
}

#endif /* VFIODEV_COMPAT_H */
