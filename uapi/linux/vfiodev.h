/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfiodev's additions to the VFIO and iommufd uAPI.
 *
 * Everything vfiodev shares with upstream Linux 6.12 (<linux/vfio.h>,
 * <linux/iommufd.h>) is upstream's, unchanged.  What is defined here is
 * vfiodev's own: names start with vfiodev_/VFIODEV_, and ioctls use the
 * magic VFIODEV_TYPE (0xBD), which no upstream subsystem uses, so neither
 * present nor future upstream numbers can collide with them.  The general
 * format and errno rules are iommufd's (see "General ioctl format" in
 * <linux/iommufd.h>): the leading __u32 size lets the structure grow.
 */
#ifndef _UAPI_LINUX_VFIODEV_H
#define _UAPI_LINUX_VFIODEV_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VFIODEV_TYPE 0xBD

/* Numbers 0x00-0x3f: commands on /dev/iommu. */
enum {
	VFIODEV_CMD_IOMMU_DEVICE_INFO = 0x00,
};

/**
 * enum vfiodev_iommu_device_caps - IOMMU facts about a bound device
 * @VFIODEV_IOMMU_DEVICE_CAP_ENFORCE_CACHE_COHERENCY: the device's IOMMU can
 *	enforce cache coherency of the device's DMA, blocking no-snoop
 *	transactions (IOMMU_CAP_ENFORCE_CACHE_COHERENCY).  Without it, the
 *	device can write memory around the CPU caches, and a hypervisor must
 *	treat the guest's memory as possibly non-coherent (KVM then honours
 *	the guest's WBINVD and memory types).
 * @VFIODEV_IOMMU_DEVICE_ENFORCING: the device is attached to a page table
 *	that enforces cache coherency now.  An automatic domain does so for
 *	every device that can.
 */
enum vfiodev_iommu_device_caps {
	VFIODEV_IOMMU_DEVICE_CAP_ENFORCE_CACHE_COHERENCY = 1 << 0,
	VFIODEV_IOMMU_DEVICE_ENFORCING = 1 << 1,
};

/**
 * struct vfiodev_iommu_device_info - ioctl(VFIODEV_IOMMU_DEVICE_INFO)
 * @size: sizeof(struct vfiodev_iommu_device_info)
 * @flags: Must be 0
 * @dev_id: the device, as bound to this iommufd (out_devid of
 *	VFIO_DEVICE_BIND_IOMMUFD)
 * @__reserved: Must be 0
 * @out_capabilities: output, a mask of enum vfiodev_iommu_device_caps
 *
 * Tells user space what the IOMMU can do for one bound device, so it can
 * choose its path: a device whose IOMMU cannot enforce cache coherency is
 * still usable here, but a VMM may prefer the legacy path for it.
 */
struct vfiodev_iommu_device_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 __reserved;
	__aligned_u64 out_capabilities;
};

#define VFIODEV_IOMMU_DEVICE_INFO _IO(VFIODEV_TYPE, VFIODEV_CMD_IOMMU_DEVICE_INFO)

#endif /* _UAPI_LINUX_VFIODEV_H */
