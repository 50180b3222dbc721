/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version dependent construct of vfiodev lives here, so that
 * the .c files carry no version #ifdefs.
 */
#ifndef VFIODEV_COMPAT_H
#define VFIODEV_COMPAT_H

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
#define VFIODEV_IOMMUFD_INTERNAL_NS "IOMMUFD_INTERNAL"
#else
#define VFIODEV_NS		VFIODEV
#define VFIODEV_PCI_CORE_NS	VFIODEV_PCI_CORE
#define VFIODEV_KUNIT_NS	EXPORTED_FOR_KUNIT_TESTING
#define VFIODEV_IOMMU_NS	VFIODEV_IOMMU
#define VFIODEV_IOMMUFD_INTERNAL_NS IOMMUFD_INTERNAL
#endif

/*
 * Exported by the IOMMU core for iommufd (namespace IOMMUFD_INTERNAL) but
 * declared only in drivers/iommu/iommu-priv.h, which no headers package
 * ships: it switches a group to another domain without a window in which
 * DMA is blocked, which VFIO_DEVICE_ATTACH_IOMMUFD_PT promises.
 */
struct iommu_group;
struct iommu_domain;
int iommu_group_replace_domain(struct iommu_group *group,
			       struct iommu_domain *new_domain);

#endif /* VFIODEV_COMPAT_H */
