/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfiodev: devices, their regions, interrupts and reset.
 *
 * A device is opened on an address space, through the path the address
 * space's policy chooses.  Region and configuration data are the device's
 * bytes as they are (PCI is little-endian).  Region access (vfiodev_region_read/write,
 * vfiodev_config_read/write) and vfiodev_irq_wait() are thread-safe: they
 * may run at once with each other and with the DMA calls, but not with
 * vfiodev_irq_enable(), vfiodev_irq_disable() or vfiodev_device_close() of
 * that device.
 */
#ifndef VFIODEV_DEVICE_H
#define VFIODEV_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * vfiodev_device_open() - open a PCI device bound to a vfio driver
 * @as: the address space the device joins
 * @name: a PCI address ("0000:00:03.0"), its sysfs directory
 *	("/sys/bus/pci/devices/0000:00:03.0" or the /sys/devices/... path) or
 *	its cdev ("/dev/vfio/devices/vfio0", which means the new path)
 * @out: the open device
 *
 * Chooses the path (see enum vfiodev_path), opens the device through it,
 * attaches it to @as and leaves it ready for region, interrupt and DMA use.
 *
 * Return: 0; -EINVAL for a malformed @name, or a cdev on an address space
 * already on the legacy path; -ENOENT when there is no such device; -ENODEV
 * when it has no driver, or the path needed is not available; -EBUSY when
 * another driver than a vfio one has it, or it is open elsewhere; -EPERM /
 * -EACCES without the rights to open the nodes; another -errno from the
 * kernel.
 */
int vfiodev_device_open(struct vfiodev_as *as, const char *name,
			struct vfiodev_device **out);

/* Flags of vfiodev_device_open_fd(): what the descriptor is. */
#define VFIODEV_DEVICE_FD_CDEV		(1u << 0)	/* /dev/vfio/devices/vfioN */
#define VFIODEV_DEVICE_FD_GROUP		(1u << 1)	/* /dev/vfio/<group> */

/**
 * vfiodev_device_open_fd() - open a device from a descriptor
 * @as: the address space the device joins; its path must match
 * @fd: an open device cdev (not yet bound) or group; the library uses a
 *	duplicate (O_CLOEXEC), the caller keeps @fd
 * @bdf: with VFIODEV_DEVICE_FD_GROUP, the device's PCI address; else NULL
 * @flags: exactly one of VFIODEV_DEVICE_FD_CDEV, VFIODEV_DEVICE_FD_GROUP
 * @out: the open device
 *
 * For sandboxed programs handed their descriptors by a privileged helper:
 * on an address space made by vfiodev_as_create_fd() nothing else is
 * opened (sysfs is read, where it can be, only to name the device).
 *
 * Return: 0; -EINVAL for bad flags, a missing or extra @bdf, or a path that
 * does not match @as; -EBADF for a bad @fd; another -errno from the kernel.
 */
int vfiodev_device_open_fd(struct vfiodev_as *as, int fd, const char *bdf,
			   unsigned int flags, struct vfiodev_device **out);

/**
 * vfiodev_device_close() - close a device
 * @dev: the device, or NULL
 *
 * Interrupts are disabled, BAR mappings made with vfiodev_region_mmap()
 * are unmapped, the device leaves its address space (its mappings stay for
 * the other devices).  Devices, address spaces and the context may be
 * closed in any order.
 */
void vfiodev_device_close(struct vfiodev_device *dev);

/**
 * vfiodev_device_path() - which path a device took, and why
 * @dev: the device
 * @reason: if not NULL, why
 * Return: VFIODEV_PATH_CDEV or VFIODEV_PATH_LEGACY.
 */
enum vfiodev_path vfiodev_device_path(struct vfiodev_device *dev,
				      enum vfiodev_reason *reason);

/**
 * struct vfiodev_device_info - what a device is
 * @flags: VFIO_DEVICE_FLAGS_* of VFIO_DEVICE_GET_INFO
 * @num_regions: number of regions
 * @num_irqs: number of interrupt indexes
 * @coherent: 1 when its IOMMU enforces DMA cache coherency, 0 when not, -1
 *	when the kernel does not tell
 * @group: IOMMU group number, -1 when unknown (sysfs does not tell, or
 *	opened from a group fd)
 * @bdf: PCI address, empty when unknown
 * @cdev: cdev name ("vfio0"), empty on the legacy path or when unknown
 */
struct vfiodev_device_info {
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
	int32_t coherent;
	int32_t group;
	char bdf[16];
	char cdev[16];
};

/**
 * vfiodev_device_get_info() - what a device is
 * @dev: the device
 * @info: filled in
 * @size: sizeof(*info) as the caller knows it; a shorter (older) structure
 *	gets its prefix
 *
 * Return: 0; -EINVAL when @size does not reach @num_irqs.
 */
int vfiodev_device_get_info(struct vfiodev_device *dev,
			    struct vfiodev_device_info *info, size_t size);

/* Region indexes of a PCI device (VFIO_PCI_*_REGION_INDEX). */
#define VFIODEV_PCI_BAR0	0
#define VFIODEV_PCI_ROM		6
#define VFIODEV_PCI_CONFIG	7
#define VFIODEV_PCI_VGA		8

/* Region flags. */
#define VFIODEV_REGION_READ	(1u << 0)
#define VFIODEV_REGION_WRITE	(1u << 1)
#define VFIODEV_REGION_MMAP	(1u << 2)

/**
 * struct vfiodev_region_info - one region of a device
 * @flags: VFIODEV_REGION_* flags
 * @index: the region index
 * @size: its size in bytes; 0 when it does not exist
 * @offset: its offset in the device file
 */
struct vfiodev_region_info {
	uint32_t flags;
	uint32_t index;
	uint64_t size;
	uint64_t offset;
};

/**
 * vfiodev_region_get_info() - describe one region
 * @dev: the device
 * @index: region index
 * @info: filled in
 * @size: sizeof(*info) as the caller knows it
 *
 * Return: 0; -EINVAL for an index the device does not have, or @size too
 * short for @offset.
 */
int vfiodev_region_get_info(struct vfiodev_device *dev, unsigned int index,
			    struct vfiodev_region_info *info, size_t size);

/**
 * vfiodev_region_read() - read from a region through the device file
 * @dev: the device
 * @index: region index
 * @off: offset inside the region
 * @buf: destination
 * @len: bytes to read (1, 2, 4 or 8 for registers)
 *
 * Thread-safe.
 *
 * Return: 0 when all @len bytes were read; -EINVAL for an index the device
 * lacks, or a range beyond the region; -EIO on a short read; another -errno
 * from the kernel.
 */
int vfiodev_region_read(struct vfiodev_device *dev, unsigned int index,
			uint64_t off, void *buf, size_t len);

/**
 * vfiodev_region_write() - write to a region through the device file
 * @dev: the device
 * @index: region index
 * @off: offset inside the region
 * @buf: source
 * @len: bytes to write
 *
 * Thread-safe.
 *
 * Return: as vfiodev_region_read().
 */
int vfiodev_region_write(struct vfiodev_device *dev, unsigned int index,
			 uint64_t off, const void *buf, size_t len);

/**
 * vfiodev_config_read() - read PCI configuration space
 * @dev: the device
 * @off: offset
 * @buf: destination
 * @len: bytes
 *
 * Same as vfiodev_region_read() on VFIODEV_PCI_CONFIG.  Thread-safe.
 *
 * Return: as vfiodev_region_read().
 */
int vfiodev_config_read(struct vfiodev_device *dev, uint64_t off, void *buf,
			size_t len);

/**
 * vfiodev_config_write() - write PCI configuration space
 * @dev: the device
 * @off: offset
 * @buf: source
 * @len: bytes
 *
 * Same as vfiodev_region_write() on VFIODEV_PCI_CONFIG.  Thread-safe.
 *
 * Return: as vfiodev_region_read().
 */
int vfiodev_config_write(struct vfiodev_device *dev, uint64_t off,
			 const void *buf, size_t len);

/**
 * vfiodev_region_mmap() - map a region (a BAR) into the process
 * @dev: the device
 * @index: region index; the region must have VFIODEV_REGION_MMAP
 * @prot: PROT_READ and/or PROT_WRITE
 * @addr: the mapping of the whole region
 *
 * The mapping lasts until vfiodev_region_munmap() or the device's close.
 * Touching it while the device's memory decoding is off (PCI command
 * register bit 1) raises SIGBUS: turn decoding on first.
 *
 * Return: 0; -EINVAL for a bad index or @prot; -EOPNOTSUPP when the region
 * cannot be mapped (the driver traps it: use vfiodev_region_read/write);
 * -EBUSY when it is mapped already; another -errno from mmap().
 */
int vfiodev_region_mmap(struct vfiodev_device *dev, unsigned int index,
			int prot, void **addr);

/**
 * vfiodev_region_munmap() - undo vfiodev_region_mmap()
 * @dev: the device
 * @index: region index
 *
 * Return: 0; -ENOENT when the region is not mapped.
 */
int vfiodev_region_munmap(struct vfiodev_device *dev, unsigned int index);

/* Interrupt indexes of a PCI device (VFIO_PCI_*_IRQ_INDEX). */
#define VFIODEV_IRQ_INTX	0
#define VFIODEV_IRQ_MSI		1
#define VFIODEV_IRQ_MSIX	2
#define VFIODEV_IRQ_ERR		3
#define VFIODEV_IRQ_REQ		4

/* Interrupt flags (VFIO_IRQ_INFO_*). */
#define VFIODEV_IRQ_EVENTFD	(1u << 0)
#define VFIODEV_IRQ_MASKABLE	(1u << 1)
#define VFIODEV_IRQ_AUTOMASKED	(1u << 2)
#define VFIODEV_IRQ_NORESIZE	(1u << 3)

/**
 * struct vfiodev_irq_info - one interrupt index of a device
 * @flags: VFIODEV_IRQ_* flags
 * @index: the index
 * @count: number of vectors; 0 when the device has none of this kind
 */
struct vfiodev_irq_info {
	uint32_t flags;
	uint32_t index;
	uint32_t count;
};

/**
 * vfiodev_irq_get_info() - describe one interrupt index
 * @dev: the device
 * @index: interrupt index
 * @info: filled in
 * @size: sizeof(*info) as the caller knows it
 *
 * Return: 0; -EINVAL for an index the device does not have, or @size too
 * short for @count.
 */
int vfiodev_irq_get_info(struct vfiodev_device *dev, unsigned int index,
			 struct vfiodev_irq_info *info, size_t size);

/**
 * vfiodev_irq_enable() - route interrupts into eventfds
 * @dev: the device
 * @index: interrupt index
 * @count: vectors 0 .. @count - 1 are enabled
 * @fds: @count eventfds to signal, or NULL: the library makes them
 *	(EFD_CLOEXEC | EFD_NONBLOCK) and owns them
 *
 * Only one index can be enabled at a time among INTx, MSI and MSI-X, as
 * VFIO rules.  Enabling an enabled index again with the same @count gives
 * its vectors the new eventfds (on failure the old ones stay); with another
 * count the index is disabled first, and stays so if enabling then fails.  Caller-supplied fds
 * are duplicated: the caller keeps its own.
 *
 * Return: 0; -EINVAL for a bad index or count (more vectors than the
 * device has, or 0); -EBUSY when another of INTx/MSI/MSI-X is enabled;
 * -ENOMEM; another -errno from the kernel.
 */
int vfiodev_irq_enable(struct vfiodev_device *dev, unsigned int index,
		       unsigned int count, const int *fds);

/**
 * vfiodev_irq_disable() - stop an interrupt index
 * @dev: the device
 * @index: interrupt index
 *
 * Return: 0; -EINVAL for a bad index; -ENOENT when it is not enabled.
 */
int vfiodev_irq_disable(struct vfiodev_device *dev, unsigned int index);

/**
 * vfiodev_irq_fd() - the eventfd of one vector
 * @dev: the device
 * @index: interrupt index
 * @vector: vector
 *
 * The descriptor belongs to the library: poll it, read it, do not close
 * it.
 *
 * Return: the eventfd; -ENOENT when that vector is not enabled.
 */
int vfiodev_irq_fd(struct vfiodev_device *dev, unsigned int index,
		   unsigned int vector);

/**
 * vfiodev_irq_wait() - wait for an interrupt
 * @dev: the device
 * @index: interrupt index
 * @vector: vector
 * @timeout_ms: how long to wait at most; -1 waits for ever, 0 only looks
 * @count: if not NULL, how many interrupts arrived since the last wait
 *
 * Thread-safe.  Consumes the eventfd's count.
 *
 * A negative @timeout_ms waits for ever.  With caller-supplied eventfds
 * that block, a waiter can block in read() when another thread takes the
 * count first: give non-blocking eventfds to concurrent waiters.
 *
 * Return: 0; -ETIMEDOUT when none came in time; -ENOENT when that vector is
 * not enabled; -EINTR when a signal interrupted the wait.
 */
int vfiodev_irq_wait(struct vfiodev_device *dev, unsigned int index,
		     unsigned int vector, int timeout_ms, uint64_t *count);

/**
 * vfiodev_irq_mask() - mask one vector
 * @dev: the device
 * @index: interrupt index (INTx is the one that is maskable on PCI)
 * @vector: vector
 *
 * Return: 0; -EINVAL when the index cannot be masked or @vector is out of
 * range; another -errno from the kernel.
 */
int vfiodev_irq_mask(struct vfiodev_device *dev, unsigned int index,
		     unsigned int vector);

/**
 * vfiodev_irq_unmask() - unmask one vector
 * @dev: the device
 * @index: interrupt index
 * @vector: vector
 *
 * INTx is masked by the kernel when it fires (VFIODEV_IRQ_AUTOMASKED): a
 * driver unmasks it after handling the interrupt.
 *
 * Return: as vfiodev_irq_mask().
 */
int vfiodev_irq_unmask(struct vfiodev_device *dev, unsigned int index,
		       unsigned int vector);

/**
 * vfiodev_device_reset() - reset a device
 * @dev: the device
 *
 * VFIO_DEVICE_RESET: the device's registers go back to their reset values;
 * the interrupt set-up (vfiodev_irq_enable()) stays as it was.
 *
 * Return: 0; -EOPNOTSUPP when the device has no reset method; another
 * -errno from the kernel.
 */
int vfiodev_device_reset(struct vfiodev_device *dev);

/**
 * vfiodev_device_fd() - the device file
 * @dev: the device
 *
 * For ioctls the library does not wrap (VFIO_DEVICE_FEATURE, hot reset).
 * It belongs to the library: do not close it.
 *
 * Return: the descriptor.
 */
int vfiodev_device_fd(struct vfiodev_device *dev);

#ifdef __cplusplus
}
#endif

#endif /* VFIODEV_DEVICE_H */
