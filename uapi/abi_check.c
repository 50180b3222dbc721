// SPDX-License-Identifier: GPL-2.0
/*
 * Compile-time proof that the uAPI vfiodev serves is Linux 6.12's.
 *
 * Built by "make check" (scripts/check.sh) against the headers the modules
 * and selftests use: <linux/iommufd.h> and <linux/vfio.h> from the Debian
 * 6.12 headers package, <linux/vfiodev.h> from this directory.  The numbers
 * below are 6.12's ABI, worked out from its layout rules (iommufd's
 * structures are naturally aligned, __u64 fields 8-aligned; ';' is 0x3b),
 * written down literally: a header that drifts, or a KVER= that picks a
 * kernel with another ABI, stops the build.  Also proves that vfiodev's own
 * additions cannot collide with any upstream ioctl on the same files.
 */
#include <stddef.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <linux/vfiodev.h>

#define SIZE(s, n) _Static_assert(sizeof(struct s) == (n), #s " size")
#define OFF(s, f, n) \
	_Static_assert(offsetof(struct s, f) == (n), #s "." #f " offset")
#define NR(c, n) _Static_assert((c) == (n), #c " number")

/* <linux/iommufd.h> */
SIZE(iommu_destroy, 8);
SIZE(iommu_ioas_alloc, 12);
SIZE(iommu_iova_range, 16);
SIZE(iommu_ioas_iova_ranges, 32);
SIZE(iommu_ioas_allow_iovas, 24);
SIZE(iommu_ioas_map, 40);
SIZE(iommu_ioas_copy, 40);
SIZE(iommu_ioas_unmap, 24);
SIZE(iommu_option, 24);
SIZE(iommu_hwpt_alloc, 48);
SIZE(iommu_hw_info, 40);
SIZE(iommu_hw_info_vtd, 24);
OFF(iommu_ioas_map, user_va, 16);
OFF(iommu_ioas_map, length, 24);
OFF(iommu_ioas_map, iova, 32);
OFF(iommu_ioas_copy, src_iova, 32);
OFF(iommu_ioas_iova_ranges, allowed_iovas, 16);
OFF(iommu_ioas_iova_ranges, out_iova_alignment, 24);
OFF(iommu_ioas_unmap, length, 16);
OFF(iommu_hwpt_alloc, out_hwpt_id, 16);
OFF(iommu_hwpt_alloc, data_uptr, 32);
OFF(iommu_hw_info, out_data_type, 24);
OFF(iommu_hw_info, out_capabilities, 32);
OFF(iommu_option, val64, 16);
NR(IOMMU_DESTROY, 0x3b80);
NR(IOMMU_IOAS_ALLOC, 0x3b81);
NR(IOMMU_IOAS_ALLOW_IOVAS, 0x3b82);
NR(IOMMU_IOAS_COPY, 0x3b83);
NR(IOMMU_IOAS_IOVA_RANGES, 0x3b84);
NR(IOMMU_IOAS_MAP, 0x3b85);
NR(IOMMU_IOAS_UNMAP, 0x3b86);
NR(IOMMU_OPTION, 0x3b87);
NR(IOMMU_VFIO_IOAS, 0x3b88);
NR(IOMMU_HWPT_ALLOC, 0x3b89);
NR(IOMMU_GET_HW_INFO, 0x3b8a);
NR(IOMMU_HWPT_SET_DIRTY_TRACKING, 0x3b8b);
NR(IOMMU_HWPT_GET_DIRTY_BITMAP, 0x3b8c);
NR(IOMMU_HWPT_INVALIDATE, 0x3b8d);
NR(IOMMU_FAULT_QUEUE_ALLOC, 0x3b8e);
NR(IOMMU_HW_INFO_TYPE_INTEL_VTD, 1);
NR(IOMMU_IOAS_MAP_FIXED_IOVA, 1);
NR(IOMMU_IOAS_MAP_WRITEABLE, 2);
NR(IOMMU_IOAS_MAP_READABLE, 4);
NR(IOMMU_OPTION_RLIMIT_MODE, 0);
NR(IOMMU_OPTION_HUGE_PAGES, 1);

/* <linux/vfio.h>, the device cdev part */
SIZE(vfio_device_bind_iommufd, 16);
SIZE(vfio_device_attach_iommufd_pt, 12);
SIZE(vfio_device_detach_iommufd_pt, 8);
OFF(vfio_device_bind_iommufd, out_devid, 12);
OFF(vfio_device_attach_iommufd_pt, pt_id, 8);
NR(VFIO_GET_API_VERSION, 0x3b64);
NR(VFIO_DEVICE_GET_INFO, 0x3b6b);
NR(VFIO_DEVICE_FEATURE, 0x3b75);
NR(VFIO_DEVICE_BIND_IOMMUFD, 0x3b76);
NR(VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3b77);
NR(VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3b78);

/* <linux/vfiodev.h>: ours, on a magic no upstream VFIO/iommufd ioctl uses */
_Static_assert(VFIODEV_TYPE != IOMMUFD_TYPE && VFIODEV_TYPE != VFIO_TYPE,
	       "vfiodev's ioctl magic is upstream's");
_Static_assert(((VFIODEV_IOMMU_DEVICE_INFO >> 8) & 0xff) == VFIODEV_TYPE,
	       "VFIODEV_IOMMU_DEVICE_INFO magic");
SIZE(vfiodev_iommu_device_info, 24);
OFF(vfiodev_iommu_device_info, out_capabilities, 16);
NR(VFIODEV_IOMMU_DEVICE_INFO, 0xbd00);
