/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommufd (vfiodev): the kernel API that VFIO device files use to put a device
 * under an iommufd context (/dev/iommu).
 *
 * A device file bound with VFIO_DEVICE_BIND_IOMMUFD calls
 * vdiommu_device_bind(), then vdiommu_device_attach() and
 * vdiommu_device_detach() for VFIO_DEVICE_ATTACH/DETACH_IOMMUFD_PT, and
 * vdiommu_device_unbind() when it is closed.  Calls for one device are
 * serialised by the caller.
 *
 * A VFIO group set to a container (/dev/vfio/vfio or /dev/iommu) claims
 * its IOMMU group for that context with vdiommu_vfio_group_claim(); its
 * devices are then bound like the above and attached to the context's
 * compatibility IOAS (vdiommu_vfio_compat_ioas_get_id()).
 */
#ifndef VDIOMMU_H
#define VDIOMMU_H

#include <linux/types.h>

struct device;
struct file;
struct iommu_group;
struct vdiommu_ctx;
struct vdiommu_device;

struct vdiommu_ctx *vdiommu_ctx_from_file(struct file *file);
struct vdiommu_device *vdiommu_device_bind(struct vdiommu_ctx *ictx,
					   struct device *dev, u32 *id);
void vdiommu_device_unbind(struct vdiommu_device *idev);
int vdiommu_device_attach(struct vdiommu_device *idev, u32 *pt_id);
void vdiommu_device_detach(struct vdiommu_device *idev);
bool vdiommu_device_enforced_coherent(struct vdiommu_device *idev);
const struct vdiommu_ctx *vdiommu_device_ctx(struct vdiommu_device *idev,
					     u32 *id);
bool vdiommu_device_ctx_owns_group(struct vdiommu_device *idev,
				   struct iommu_group *group);

/* The legacy VFIO container (vfio_compat.c), for VFIO groups. */
int vdiommu_vfio_compat_ioas_create(struct vdiommu_ctx *ictx);
int vdiommu_vfio_compat_ioas_get_id(struct vdiommu_ctx *ictx, u32 *id);
int vdiommu_vfio_group_claim(struct vdiommu_ctx *ictx,
			     struct iommu_group *group, bool enforce_coherency);
void vdiommu_vfio_group_release(struct vdiommu_ctx *ictx,
				struct iommu_group *group);

#endif /* VDIOMMU_H */
