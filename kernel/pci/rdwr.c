// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev PCI core library: BAR and ROM access through read(2)/write(2) of
 * the device file.
 *
 * User data is copied in and out in naturally aligned pieces of at most 8
 * bytes (4 for the ROM, which some devices cannot read wider), outside
 * every lock; each access of memory space takes memory_lock for read and
 * fails with -EIO while memory decoding is off, so that nothing reaches a
 * device that does not answer.  The MSI-X table is not reachable here:
 * reads of it return all ones, writes are dropped (the interrupt code owns
 * it).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/pci.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "../compat.h"
#include "priv.h"

/**
 * vdpci_core_setup_barmap() - claim a BAR and map it for the kernel
 * @vdev: an open device
 * @bar: the BAR
 *
 * Claiming the region keeps other drivers (and /dev/mem users that honour
 * claims) off it while user space has the device.  The mapping stays until
 * the device is closed.  A variant driver reaches its device's registers
 * through vdpci_core_bar_begin(), which calls this.
 * Context: process, may sleep.
 *
 * Return: 0, -EBUSY if someone else holds the region, or -ENOMEM.
 */
int vdpci_core_setup_barmap(struct vdpci_core_device *vdev, int bar)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;
	int ret;

	/* Paired with smp_store_release() below. */
	if (smp_load_acquire(&vdev->barmap[bar]))
		return 0;

	mutex_lock(&vdev->barmap_lock);
	if (vdev->barmap[bar]) {
		ret = 0;
		goto out_unlock;
	}
	ret = pci_request_selected_regions(pdev, BIT(bar), "vfio");
	if (ret)
		goto out_unlock;
	io = pci_iomap(pdev, bar, 0);
	if (!io) {
		pci_release_selected_regions(pdev, BIT(bar));
		ret = -ENOMEM;
		goto out_unlock;
	}
	/* The mapping is complete before another thread can see it. */
	smp_store_release(&vdev->barmap[bar], io);
out_unlock:
	mutex_unlock(&vdev->barmap_lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_setup_barmap, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_bar_begin() - start a driver's own accesses to a memory BAR
 * @vdev: an open device
 * @bar: the BAR, one that decodes memory
 *
 * A variant driver's accesses to its device must not meet a reset, or
 * memory decoding turned off by user space, any more than user space's
 * own: this takes &vdpci_core_device.memory_lock for read, after mapping
 * the BAR on first use, and checks that the device decodes memory (as
 * user space set it).  The accesses go to the mapping returned, until
 * vdpci_core_bar_end().  Resets and decoding changes wait meanwhile, also
 * while the driver polls.  Context: process, may sleep; the driver must
 * hold no lock that a page fault of the device's mappings or a reset
 * takes.
 *
 * Return: the kernel mapping of the BAR; IOMEM_ERR_PTR() of -EINVAL for a
 * BAR that does not decode memory, -EIO while memory decoding is off, or
 * the error of vdpci_core_setup_barmap().  On error nothing is held.
 */
void __iomem *vdpci_core_bar_begin(struct vdpci_core_device *vdev, int bar)
{
	int ret;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(vdev->pdev, bar) & IORESOURCE_MEM))
		return IOMEM_ERR_PTR(-EINVAL);
	ret = vdpci_core_setup_barmap(vdev, bar);
	if (ret)
		return IOMEM_ERR_PTR(ret);
	down_read(&vdev->memory_lock);
	if (!vdpci_memory_enabled(vdev)) {
		up_read(&vdev->memory_lock);
		return IOMEM_ERR_PTR(-EIO);
	}
	return vdev->barmap[bar];
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_bar_begin, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_bar_end() - end what vdpci_core_bar_begin() started
 * @vdev: the device; the mapping is not to be used any more
 */
void vdpci_core_bar_end(struct vdpci_core_device *vdev)
{
	up_read(&vdev->memory_lock);
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_bar_end, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_release_barmaps() - undo every vdpci_setup_barmap()
 * @vdev: a device being closed; nothing of user space can reach it
 */
void vdpci_release_barmaps(struct vdpci_core_device *vdev)
{
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!vdev->barmap[bar])
			continue;
		pci_iounmap(vdev->pdev, vdev->barmap[bar]);
		pci_release_selected_regions(vdev->pdev, BIT(bar));
		vdev->barmap[bar] = NULL;
	}
}

/*
 * One access of @width bytes at @io.  Memory space is only touched with
 * memory_lock held for read and decoding on.
 */
static int vdpci_io(struct vdpci_core_device *vdev, bool test_mem,
		    void __iomem *io, u64 *val, size_t width, bool iswrite)
{
	if (test_mem) {
		down_read(&vdev->memory_lock);
		if (!vdpci_memory_enabled(vdev)) {
			up_read(&vdev->memory_lock);
			return -EIO;
		}
	}

	switch (width | (iswrite ? 0x10 : 0)) {
	case 8:
		*val = readq(io);
		break;
	case 4:
		*val = ioread32(io);
		break;
	case 2:
		*val = ioread16(io);
		break;
	case 1:
		*val = ioread8(io);
		break;
	case 0x18:
		writeq(*val, io);
		break;
	case 0x14:
		iowrite32(*val, io);
		break;
	case 0x12:
		iowrite16(*val, io);
		break;
	case 0x11:
		iowrite8(*val, io);
		break;
	}

	if (test_mem)
		up_read(&vdev->memory_lock);
	return 0;
}

/* The widest naturally aligned access at @pos that fits in @count. */
static size_t vdpci_io_width(loff_t pos, size_t count, size_t max_width)
{
	size_t width;

	for (width = max_width; width > 1; width >>= 1)
		if (count >= width && !(pos & (width - 1)))
			break;
	return width;
}

static ssize_t vdpci_do_io_rw(struct vdpci_core_device *vdev, bool test_mem,
			      void __iomem *io, char __user *buf, loff_t off,
			      size_t count, size_t x_start, size_t x_end,
			      bool iswrite, size_t max_width)
{
	ssize_t done = 0;
	int ret;

	while (count) {
		size_t width, fill;
		u64 val = 0;

		if (off >= x_start && off < x_end) {
			/* The excluded range: ones on read, nothing on write. */
			fill = min(count, (size_t)(x_end - off));
			if (!iswrite) {
				size_t i;

				for (i = 0; i < fill; i++)
					if (put_user((u8)0xff, buf + i))
						return -EFAULT;
			}
			goto next;
		}

		width = vdpci_io_width(off, count, max_width);
		/* Do not run into the excluded range. */
		if (off < x_start && off + width > x_start)
			width = vdpci_io_width(off, x_start - off, max_width);
		fill = width;

		if (iswrite && copy_from_user(&val, buf, width))
			return -EFAULT;
		ret = vdpci_io(vdev, test_mem, io + off, &val, width, iswrite);
		if (ret)
			return done ? done : ret;
		if (!iswrite && copy_to_user(buf, &val, width))
			return -EFAULT;
next:
		count -= fill;
		done += fill;
		buf += fill;
		off += fill;
	}
	return done;
}

/**
 * vdpci_bar_rw() - read or write a BAR or the ROM
 * @vdev: an open device
 * @buf: user buffer
 * @count: bytes
 * @ppos: file position: region index and offset; advanced by what was done
 * @iswrite: direction
 *
 * Return: bytes done (short at the end of the region), -EINVAL outside the
 * region, -EIO with memory decoding off, -EFAULT, or what claiming the
 * region returns.
 */
ssize_t vdpci_bar_rw(struct vdpci_core_device *vdev, char __user *buf,
		     size_t count, loff_t *ppos, bool iswrite)
{
	struct pci_dev *pdev = vdev->pdev;
	int bar = VDPCI_OFFSET_TO_INDEX(*ppos);
	loff_t pos = *ppos & VDPCI_OFFSET_MASK;
	size_t x_start = 0, x_end = 0, max_width = 8;
	resource_size_t end;
	void __iomem *io;
	ssize_t done;
	bool is_mem;

	if (!pci_resource_start(pdev, bar))
		return -EINVAL;
	end = pci_resource_len(pdev, bar);
	if (pos >= end)
		return -EINVAL;
	count = min_t(size_t, count, end - pos);
	is_mem = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;

	if (bar == PCI_ROM_RESOURCE) {
		size_t rom_size;

		if (iswrite)
			return -EINVAL;
		io = pci_map_rom(pdev, &rom_size);
		if (!io)
			return -ENOMEM;
		/* Past the image, the BAR reads as ones. */
		x_start = rom_size;
		x_end = end;
		done = vdpci_do_io_rw(vdev, true, io, buf, pos, count,
				      x_start, x_end, false, 4);
		pci_unmap_rom(pdev, io);
	} else {
		done = vdpci_core_setup_barmap(vdev, bar);
		if (done)
			return done;
		io = vdev->barmap[bar];
		if (bar == vdev->msix_bar) {
			x_start = vdev->msix_offset;
			x_end = vdev->msix_offset + vdev->msix_size;
		}
		if (!is_mem)
			max_width = 4;
		done = vdpci_do_io_rw(vdev, is_mem, io, buf, pos, count,
				      x_start, x_end, iswrite, max_width);
	}

	if (done > 0)
		*ppos += done;
	return done;
}
