/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiodev PCI core library: what PCI drivers (the plain vfiodev-pci driver
 * and variant drivers) build on.
 *
 * Lock order (outermost first):
 *   the library's list of devices (hot reset; see reset.c)
 *   vfiodev_device::lock        (bind, open_device, close_device)
 *   vdpci_core_device::memory_lock  (write: memory decode off, reset;
 *                                    read: BAR access, mmap faults)
 * mmap_lock is never taken under memory_lock for write: user buffers are
 * copied outside it.
 */
#ifndef VDPCI_CORE_H
#define VDPCI_CORE_H

#include <linux/pci.h>
#include <linux/rwsem.h>

#include "vfiodev.h"

/* Region N of a device file starts at N << VDPCI_OFFSET_SHIFT (VFIO's rule). */
#define VDPCI_OFFSET_SHIFT	40
#define VDPCI_OFFSET_TO_INDEX(off)	((off) >> VDPCI_OFFSET_SHIFT)
#define VDPCI_INDEX_TO_OFFSET(index)	((u64)(index) << VDPCI_OFFSET_SHIFT)
#define VDPCI_OFFSET_MASK	(BIT_ULL(VDPCI_OFFSET_SHIFT) - 1)

/**
 * struct vdpci_core_device - a PCI device assignable to user space
 * @vdev: the core device; must stay the first member
 * @pdev: the PCI device
 * @reset_works: a function reset succeeded when the device was opened
 * @saved_state: config space as it was before user space had the device,
 *	restored when it is closed
 * @memory_lock: see the lock order above; held for write while the BARs
 *	do not answer (memory decoding off, reset), so that no access of
 *	user space reaches the device then
 * @barmap_lock: serialises making @barmap entries
 * @barmap: kernel mappings of the BARs, made on first access
 * @bar_mmap_supported: the BAR can be mmapped (memory, page-sized)
 * @msix_bar: BAR holding the MSI-X table, or -1
 * @msix_offset: offset of the MSI-X table in @msix_bar
 * @msix_size: size of the MSI-X table in bytes
 * @devices_item: on the library's list of registered devices, which hot
 *	reset consults
 *
 * Variant drivers embed this structure, at offset 0, in their own.  The
 * members after @pdev belong to the library and, except the locks, are
 * valid between vdpci_core_open_device() and vdpci_core_close_device().
 */
struct vdpci_core_device {
	struct vfiodev_device vdev;
	struct pci_dev *pdev;
	bool reset_works;
	struct pci_saved_state *saved_state;
	struct rw_semaphore memory_lock;
	struct mutex barmap_lock;	/* making @barmap entries */
	void __iomem *barmap[PCI_STD_NUM_BARS];
	bool bar_mmap_supported[PCI_STD_NUM_BARS];
	int msix_bar;
	u32 msix_offset;
	u32 msix_size;
	struct list_head devices_item;
};

int vdpci_core_init_dev(struct vfiodev_device *core_vdev);
void vdpci_core_request(struct vfiodev_device *core_vdev, unsigned int count);
int vdpci_core_open_device(struct vfiodev_device *core_vdev);
void vdpci_core_close_device(struct vfiodev_device *core_vdev);
long vdpci_core_ioctl(struct vfiodev_device *core_vdev, unsigned int cmd,
		      unsigned long arg);
ssize_t vdpci_core_read(struct vfiodev_device *core_vdev, char __user *buf,
			size_t count, loff_t *ppos);
ssize_t vdpci_core_write(struct vfiodev_device *core_vdev,
			 const char __user *buf, size_t count, loff_t *ppos);
int vdpci_core_mmap(struct vfiodev_device *core_vdev,
		    struct vm_area_struct *vma);
int vdpci_core_setup_barmap(struct vdpci_core_device *vdev, int bar);
int vdpci_core_register_device(struct vdpci_core_device *vdev);
void vdpci_core_unregister_device(struct vdpci_core_device *vdev);

#endif /* VDPCI_CORE_H */
