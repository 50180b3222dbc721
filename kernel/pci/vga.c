// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev PCI core library: the VGA region of a VGA device, for a VMM that
 * gives its guest the device as the primary display (QEMU's x-vga=on, the
 * GPU-passthrough case).
 *
 * Region VFIO_PCI_VGA_REGION_INDEX is the legacy VGA address space at its
 * own addresses: memory 0xa0000-0xbffff, I/O ports 0x3b0-0x3bb and
 * 0x3c0-0x3df; the rest of its 0xc0000 bytes is not there (-EINVAL).  Each
 * access takes the legacy range from the VGA arbiter (which routes it to
 * this device through the bridges' VGA Enable bits) for its duration.  The
 * command register's decoding bits are not looked at: the legacy ranges
 * are no BAR.
 *
 * At registration the device becomes a client of the arbiter, and any
 * firmware framebuffer or VGA console on it is taken off, as the device is
 * user space's now.  With disable_vga the region is not offered, and a
 * device below a bridge tells the arbiter it does not decode the legacy
 * ranges, so that other VGA devices can have them, unless a VGA device
 * below it needs them routed through.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/aperture.h>
#include <linux/io.h>
#include <linux/pci.h>
#include <linux/vgaarb.h>

#include "../compat.h"
#include "priv.h"

#define VDPCI_VGA_DECODES_ALL	(VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM | \
				 VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM)

/* What @pdev decodes, as the arbiter asks it (upstream's rule). */
static unsigned int vdpci_vga_set_decode(struct pci_dev *pdev,
					 bool single_vga)
{
	unsigned char max_busnr;
	struct pci_dev *other = NULL;

	if (single_vga || !vdpci_disable_vga || pci_is_root_bus(pdev->bus))
		return VDPCI_VGA_DECODES_ALL;

	/* Legacy ranges only for a VGA device below ours. */
	max_busnr = pci_bus_max_busnr(pdev->bus);
	while ((other = pci_get_class(PCI_CLASS_DISPLAY_VGA << 8, other))) {
		if (other == pdev ||
		    pci_domain_nr(other->bus) != pci_domain_nr(pdev->bus) ||
		    pci_is_root_bus(other->bus))
			continue;
		if (other->bus->number >= pdev->bus->number &&
		    other->bus->number <= max_busnr) {
			pci_dev_put(other);
			return VDPCI_VGA_DECODES_ALL;
		}
	}
	return VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM;
}

/**
 * vdpci_vga_init() - a VGA device being registered joins the arbiter
 * @vdev: the device
 *
 * Return: 0 (also for a device that is not VGA), or the error of taking
 * the firmware's framebuffer off it or of registering with the arbiter.
 */
int vdpci_vga_init(struct vdpci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	if (!vdpci_is_vga(pdev))
		return 0;
	ret = aperture_remove_conflicting_pci_devices(pdev,
						      vdev->vdev.ops->name);
	if (ret)
		return ret;
	ret = vga_client_register(pdev, vdpci_vga_set_decode);
	if (ret)
		return ret;
	vga_set_legacy_decoding(pdev, vdpci_vga_set_decode(pdev, false));
	return 0;
}

/**
 * vdpci_vga_uninit() - undo vdpci_vga_init()
 * @vdev: the device, closed for good
 */
void vdpci_vga_uninit(struct vdpci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	if (!vdpci_is_vga(pdev))
		return;
	vga_client_unregister(pdev);
	vga_set_legacy_decoding(pdev, VDPCI_VGA_DECODES_ALL);
}

/**
 * vdpci_vga_rw() - read or write the VGA region
 * @vdev: an open device
 * @buf: user buffer
 * @count: bytes
 * @ppos: region index and offset; advanced by what was done
 * @iswrite: direction
 *
 * An access stops at the end of the legacy range it starts in.
 *
 * Return: bytes done; -EINVAL without the VGA region or outside its
 * ranges; -ENOMEM; -EINTR (a signal while the arbiter was waited for);
 * -EFAULT.
 */
ssize_t vdpci_vga_rw(struct vdpci_core_device *vdev, char __user *buf,
		     size_t count, loff_t *ppos, bool iswrite)
{
	loff_t pos = *ppos & VDPCI_OFFSET_MASK;
	unsigned long base, len;
	unsigned int rsrc;
	void __iomem *io;
	bool is_ioport;
	ssize_t done;

	if (!vdev->has_vga)
		return -EINVAL;
	if (pos >= 0xa0000 && pos < 0xc0000) {
		base = 0xa0000;
		len = 0x20000;
		rsrc = VGA_RSRC_LEGACY_MEM;
		is_ioport = false;
	} else if (pos >= 0x3b0 && pos < 0x3bc) {
		base = 0x3b0;
		len = 0xc;
		rsrc = VGA_RSRC_LEGACY_IO;
		is_ioport = true;
	} else if (pos >= 0x3c0 && pos < 0x3e0) {
		base = 0x3c0;
		len = 0x20;
		rsrc = VGA_RSRC_LEGACY_IO;
		is_ioport = true;
	} else {
		return -EINVAL;
	}
	count = min_t(size_t, count, base + len - pos);

	io = is_ioport ? ioport_map(base, len) : ioremap(base, len);
	if (!io)
		return -ENOMEM;
	done = vga_get_interruptible(vdev->pdev, rsrc);
	if (!done) {
		done = vdpci_do_io_rw(vdev, false, io, buf, pos - base, count,
				      0, 0, iswrite, is_ioport ? 4 : 8);
		vga_put(vdev->pdev, rsrc);
	}
	if (is_ioport)
		ioport_unmap(io);
	else
		iounmap(io);
	if (done > 0)
		*ppos += done;
	return done;
}
