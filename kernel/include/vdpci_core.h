/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiodev PCI core library: what PCI drivers (the plain vfio-pci driver
 * and variant drivers) build on.
 *
 * Lock order (outermost first):
 *   vfiodev_device::lock        (bind, open_device, close_device)
 *   the device set's lock       (open_device, close_device, the resets of
 *                                the whole set; see reset.c)
 *   vdpci_core_device::igate    (SET_IRQS, interrupt teardown)
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

struct eventfd_ctx;
struct vdpci_dev_set;
struct vdpci_irq_ctx;

/* Region N of a device file starts at N << VDPCI_OFFSET_SHIFT (VFIO's rule). */
#define VDPCI_OFFSET_SHIFT	40
#define VDPCI_OFFSET_TO_INDEX(off)	((off) >> VDPCI_OFFSET_SHIFT)
#define VDPCI_INDEX_TO_OFFSET(index)	((u64)(index) << VDPCI_OFFSET_SHIFT)
#define VDPCI_OFFSET_MASK	(BIT_ULL(VDPCI_OFFSET_SHIFT) - 1)

/**
 * struct vdpci_core_device - a PCI device assignable to user space
 * @vdev: the core device; must stay the first member
 * @pdev: the PCI device
 * @idle_d3: runtime PM may suspend the device while it is not open (set
 *	at registration, from the disable_idle_d3 setting)
 * @reset_works: a function reset succeeded when the device was opened
 * @own_reset: the driver serves VFIO_DEVICE_RESET itself when the device
 *	has no function reset (vdpci_core_set_own_reset())
 * @needs_pm_restore: leaving D3hot resets the device's config space (its
 *	PMCSR has No_Soft_Reset clear); set at registration
 * @pm_save: the config space saved when user space put the device in
 *	D3hot, restored on its way back to D0 (@needs_pm_restore); under
 *	@memory_lock for write
 * @saved_state: config space as it was before user space had the device,
 *	restored when it is closed
 * @memory_lock: see the lock order above; held for write while the BARs
 *	do not answer (memory decoding off, reset), so that no access of
 *	user space reaches the device then
 * @barmap_lock: serialises making @barmap entries
 * @barmap: kernel mappings of the BARs, made on first access
 * @bar_mmap_supported: the BAR can be mmapped (memory, page-sized, not
 *	trapped)
 * @trapped_bars: BARs the driver sees every access to
 *	(vdpci_core_trap_bar())
 * @msix_bar: BAR holding the MSI-X table, or -1
 * @msix_offset: offset of the MSI-X table in @msix_bar
 * @msix_size: size of the MSI-X table in bytes
 * @has_dyn_msix: the interrupt controller can add MSI-X vectors while
 *	MSI-X is on (pci_msix_can_alloc_dyn())
 * @has_vga: a VGA device, and disable_vga not set: the VGA region is
 *	offered
 * @dev_set: the device set, the devices a slot or bus reset of this one
 *	resets along (see reset.c)
 * @set_item: in the set's list of devices
 * @set_open: the device is open; under the set's lock
 * @needs_reset: user space had the device, and no reset has been done
 *	since; under the set's lock
 * @owner_ctx: the iommufd context the open device is bound to (opaque),
 *	NULL when closed; under the set's lock
 * @owner_devid: the device's ID there; under the set's lock
 * @cfg_lock: user space's config space accesses
 * @vconfig: the virtual config space (see config.c)
 * @cfg_virt: per byte, the bits read from @vconfig
 * @cfg_write: per byte, the bits user space may write
 * @bar_mask: per BAR register, the address bits a write keeps (0: none)
 * @bar_flags: per BAR register, the flag bits it always reads
 * @rom_mask: the same for the ROM BAR
 * @igate: interrupt set-up and teardown (see intrs.c)
 * @irqlock: INTx's masked state against its handler
 * @irq_type: the VFIO_PCI_*_IRQ_INDEX that is on, VFIO_PCI_NUM_IRQS if none
 * @irq_ctx: per vector of @irq_type, its eventfd (intrs.c)
 * @num_ctx: entries in @irq_ctx
 * @pci_2_3: INTx can be masked in the device (DisINTx)
 * @ioeventfds_lock: serialises VFIO_DEVICE_IOEVENTFD
 * @ioeventfds: the device's ioeventfds (rdwr.c), under @ioeventfds_lock
 * @ioeventfds_nr: entries in @ioeventfds
 * @err_trigger: eventfd of the ERR interrupt, or NULL
 * @req_trigger: eventfd of the REQ interrupt, or NULL
 *
 * Variant drivers embed this structure, at offset 0, in their own.  The
 * members after @pdev belong to the library and, except the locks,
 * @idle_d3, @dev_set and the set's state (registration to
 * unregistration), are valid between
 * vdpci_core_open_device() and vdpci_core_close_device().
 */
struct vdpci_core_device {
	struct vfiodev_device vdev;
	struct pci_dev *pdev;
	bool idle_d3;
	bool reset_works;
	bool own_reset;
	bool needs_pm_restore;
	struct pci_saved_state *pm_save;
	struct pci_saved_state *saved_state;
	struct rw_semaphore memory_lock;
	struct mutex barmap_lock;	/* making @barmap entries */
	void __iomem *barmap[PCI_STD_NUM_BARS];
	bool bar_mmap_supported[PCI_STD_NUM_BARS];
	u8 trapped_bars;
	int msix_bar;
	u32 msix_offset;
	u32 msix_size;
	bool has_dyn_msix;
	bool has_vga;
	struct vdpci_dev_set *dev_set;
	struct list_head set_item;
	bool set_open;
	bool needs_reset;
	const void *owner_ctx;
	u32 owner_devid;
	struct mutex cfg_lock;	/* config space accesses */
	u8 *vconfig;
	u8 *cfg_virt;
	u8 *cfg_write;
	u32 bar_mask[PCI_STD_NUM_BARS];
	u32 bar_flags[PCI_STD_NUM_BARS];
	u32 rom_mask;
	struct mutex igate;	/* interrupt set-up */
	spinlock_t irqlock;	/* INTx masked state */
	unsigned int irq_type;
	struct vdpci_irq_ctx *irq_ctx;
	unsigned int num_ctx;
	bool pci_2_3;
	struct mutex ioeventfds_lock;	/* VFIO_DEVICE_IOEVENTFD */
	struct list_head ioeventfds;
	unsigned int ioeventfds_nr;
	struct eventfd_ctx *err_trigger;
	struct eventfd_ctx *req_trigger;
};

extern const struct dev_pm_ops vdpci_core_pm_ops;

void vdpci_core_set_params(bool nointxmask, bool disable_vga,
			   bool disable_idle_d3);
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
void __iomem *vdpci_core_bar_begin(struct vdpci_core_device *vdev, int bar);
void vdpci_core_bar_end(struct vdpci_core_device *vdev);
void __iomem *vdpci_core_bar_begin_enabled(struct vdpci_core_device *vdev,
					   int bar, u16 *cmd);
void vdpci_core_bar_end_restore(struct vdpci_core_device *vdev, u16 cmd);
void vdpci_core_set_own_reset(struct vdpci_core_device *vdev);
void vdpci_core_trap_bar(struct vdpci_core_device *vdev, int bar);
int vdpci_core_ioctl_feature(struct vfiodev_device *core_vdev, u32 flags,
			     void __user *arg, size_t argsz);
bool vdpci_core_function_reset(struct vdpci_core_device *vdev);
void vdpci_core_config_perm(struct vdpci_core_device *vdev, unsigned int pos,
			    unsigned int len, u8 virt, u8 write);
int vdpci_core_register_device(struct vdpci_core_device *vdev);
void vdpci_core_unregister_device(struct vdpci_core_device *vdev);

#endif /* VDPCI_CORE_H */
