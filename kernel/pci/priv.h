/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiodev PCI core library: declarations shared by its files, not by the
 * drivers built on it (those are in vdpci_core.h).
 */
#ifndef VDPCI_PRIV_H
#define VDPCI_PRIV_H

#include <linux/vfio.h>

#include "vdpci_core.h"

extern bool vdpci_nointxmask;
extern bool vdpci_disable_vga;

/* The VGA region: legacy memory and I/O at their own addresses. */
#define VDPCI_VGA_REGION_SIZE	0xc0000

static inline bool vdpci_is_vga(struct pci_dev *pdev)
{
	return (pdev->class >> 8) == PCI_CLASS_DISPLAY_VGA;
}

int vdpci_vga_init(struct vdpci_core_device *vdev);
void vdpci_vga_uninit(struct vdpci_core_device *vdev);
ssize_t vdpci_vga_rw(struct vdpci_core_device *vdev, char __user *buf,
		     size_t count, loff_t *ppos, bool iswrite);

bool vdpci_memory_enabled(struct vdpci_core_device *vdev);
u16 vdpci_memory_lock_and_enable(struct vdpci_core_device *vdev);
void vdpci_memory_unlock_and_restore(struct vdpci_core_device *vdev, u16 cmd);
int vdpci_set_power_state(struct vdpci_core_device *vdev, pci_power_t state);

/* D3hot or D3cold: the device decodes nothing. */
static inline bool vdpci_state_d3(pci_power_t state)
{
	return (__force int)state >= (__force int)PCI_D3hot;
}

void vdpci_zap_and_down_write_memory_lock(struct vdpci_core_device *vdev);

void vdpci_release_barmaps(struct vdpci_core_device *vdev);
long vdpci_ioctl_ioeventfd(struct vdpci_core_device *vdev,
			   struct vfio_device_ioeventfd __user *arg);
void vdpci_ioeventfds_release(struct vdpci_core_device *vdev);
ssize_t vdpci_bar_rw(struct vdpci_core_device *vdev, char __user *buf,
		     size_t count, loff_t *ppos, bool iswrite);
ssize_t vdpci_do_io_rw(struct vdpci_core_device *vdev, bool test_mem,
		       void __iomem *io, char __user *buf, loff_t off,
		       size_t count, size_t x_start, size_t x_end,
		       bool iswrite, size_t max_width);

int vdpci_config_init(struct vdpci_core_device *vdev);
void vdpci_config_free(struct vdpci_core_device *vdev);
ssize_t vdpci_config_rw(struct vdpci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite);

int vdpci_irq_count(struct vdpci_core_device *vdev, unsigned int index);
long vdpci_ioctl_get_irq_info(struct vdpci_core_device *vdev,
			      struct vfio_irq_info __user *arg);
long vdpci_ioctl_set_irqs(struct vdpci_core_device *vdev,
			  struct vfio_irq_set __user *arg);
void vdpci_irqs_init(struct vdpci_core_device *vdev);
void vdpci_irqs_teardown(struct vdpci_core_device *vdev);
bool vdpci_irqs_request(struct vdpci_core_device *vdev);

int vdpci_dev_set_join(struct vdpci_core_device *vdev);
void vdpci_dev_set_leave(struct vdpci_core_device *vdev);
void vdpci_dev_set_lock(struct vdpci_core_device *vdev);
void vdpci_dev_set_unlock(struct vdpci_core_device *vdev);
void vdpci_dev_set_try_reset(struct vdpci_core_device *vdev);
void vdpci_devices_set_owner(struct vdpci_core_device *vdev, bool open);
long vdpci_ioctl_hot_reset_info(struct vdpci_core_device *vdev,
				struct vfio_pci_hot_reset_info __user *arg);
long vdpci_ioctl_hot_reset(struct vdpci_core_device *vdev,
			   struct vfio_pci_hot_reset __user *arg);

#endif /* VDPCI_PRIV_H */
