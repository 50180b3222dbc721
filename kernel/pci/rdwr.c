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
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/pci.h>
#include <linux/slab.h>
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

/*
 * Memory decoding on in the device, as writing the MSI-X table and a
 * driver's migration arcs need, whatever user space set, under memory_lock
 * for write so that user space sees none of it;
 * vdpci_memory_unlock_and_restore() puts it back.
 */
u16 vdpci_memory_lock_and_enable(struct vdpci_core_device *vdev)
{
	u16 cmd;

	down_write(&vdev->memory_lock);
	pci_read_config_word(vdev->pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(vdev->pdev, PCI_COMMAND,
				      cmd | PCI_COMMAND_MEMORY);
	return cmd;
}

void vdpci_memory_unlock_and_restore(struct vdpci_core_device *vdev, u16 cmd)
{
	lockdep_assert_held_write(&vdev->memory_lock);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(vdev->pdev, PCI_COMMAND, cmd);
	up_write(&vdev->memory_lock);
}

/* A memory BAR a driver may access, mapped: 0 or a negative errno. */
static int vdpci_bar_prepare(struct vdpci_core_device *vdev, int bar)
{
	if (bar < 0 || bar >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(vdev->pdev, bar) & IORESOURCE_MEM))
		return -EINVAL;
	return vdpci_core_setup_barmap(vdev, bar);
}

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

	ret = vdpci_bar_prepare(vdev, bar);
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
 * vdpci_core_bar_begin_enabled() - a driver's own accesses, decoding or not
 * @vdev: an open device
 * @bar: the BAR, one that decodes memory
 * @cmd: set to the command register as it was, for the end
 *
 * For what a driver must do to its device whatever user space did to the
 * command register: its migration arcs and its own reset, which a VMM
 * takes while its guest has memory decoding off (QEMU's destination puts
 * a device in RESUMING before the guest's config space arrives).  As the
 * library writes the MSI-X table, and as upstream's does: memory_lock is
 * held for write, so user space sees none of it (its accesses wait, and
 * its mappings stay gone while it has decoding off), and the device
 * decodes memory meanwhile.  End with vdpci_core_bar_end_restore().
 * Context: as vdpci_core_bar_begin().
 *
 * Return: the kernel mapping of the BAR; IOMEM_ERR_PTR() of -EINVAL for a
 * BAR that does not decode memory, -EIO while the device is in D3hot (it
 * decodes nothing there), or the error of vdpci_core_setup_barmap().  On
 * error nothing is held.
 */
void __iomem *vdpci_core_bar_begin_enabled(struct vdpci_core_device *vdev,
					   int bar, u16 *cmd)
{
	int ret;

	ret = vdpci_bar_prepare(vdev, bar);
	if (ret)
		return IOMEM_ERR_PTR(ret);
	*cmd = vdpci_memory_lock_and_enable(vdev);
	if (vdpci_state_d3(vdev->pdev->current_state)) {
		vdpci_memory_unlock_and_restore(vdev, *cmd);
		return IOMEM_ERR_PTR(-EIO);
	}
	return vdev->barmap[bar];
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_bar_begin_enabled, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_bar_end_restore() - end what vdpci_core_bar_begin_enabled()
 *	started
 * @vdev: the device; the mapping is not to be used any more
 * @cmd: what vdpci_core_bar_begin_enabled() set
 *
 * The command register is put back as it was.
 */
void vdpci_core_bar_end_restore(struct vdpci_core_device *vdev, u16 cmd)
{
	vdpci_memory_unlock_and_restore(vdev, cmd);
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_bar_end_restore, VFIODEV_PCI_CORE_NS);

/*
 * VFIO_DEVICE_IOEVENTFD: a write of fixed data to a BAR register, done by
 * the kernel on each signal of an eventfd (KVM signals it when the guest
 * writes that register), as upstream offers it: in the eventfd's wakeup
 * when memory_lock is free, else from a work item; dropped while memory
 * decoding is off.
 */
#define VDPCI_IOEVENTFD_MAX	1000

/**
 * struct vdpci_ioeventfd - one register write bound to an eventfd
 * @item: in &vdpci_core_device.ioeventfds
 * @vdev: the device
 * @virqfd: the eventfd, as the core watches it
 * @addr: the register, in the kernel's mapping of @bar
 * @data: what is written, @count bytes of it
 * @pos: offset of the register in the BAR
 * @bar: the BAR
 * @count: 1, 2, 4 or 8
 * @test_mem: a memory BAR: the write waits for, or is dropped without,
 *	memory decoding
 */
struct vdpci_ioeventfd {
	struct list_head item;
	struct vdpci_core_device *vdev;
	struct vfiodev_virqfd *virqfd;
	void __iomem *addr;
	u64 data;
	loff_t pos;
	int bar;
	int count;
	bool test_mem;
};

static void vdpci_ioeventfd_write(struct vdpci_ioeventfd *ioeventfd)
{
	switch (ioeventfd->count) {
	case 1:
		iowrite8(ioeventfd->data, ioeventfd->addr);
		break;
	case 2:
		iowrite16(ioeventfd->data, ioeventfd->addr);
		break;
	case 4:
		iowrite32(ioeventfd->data, ioeventfd->addr);
		break;
	case 8:
		iowrite64(ioeventfd->data, ioeventfd->addr);
		break;
	}
}

/* In the eventfd's wakeup: true to leave the write to the thread. */
static bool vdpci_ioeventfd_handler(void *opaque, void *unused)
{
	struct vdpci_ioeventfd *ioeventfd = opaque;
	struct vdpci_core_device *vdev = ioeventfd->vdev;

	if (ioeventfd->test_mem) {
		if (!down_read_trylock(&vdev->memory_lock))
			return true;
		if (!vdpci_memory_enabled(vdev)) {
			up_read(&vdev->memory_lock);
			return false;
		}
	}
	vdpci_ioeventfd_write(ioeventfd);
	if (ioeventfd->test_mem)
		up_read(&vdev->memory_lock);
	return false;
}

static void vdpci_ioeventfd_thread(void *opaque, void *unused)
{
	struct vdpci_ioeventfd *ioeventfd = opaque;
	struct vdpci_core_device *vdev = ioeventfd->vdev;

	if (ioeventfd->test_mem) {
		down_read(&vdev->memory_lock);
		if (!vdpci_memory_enabled(vdev)) {
			up_read(&vdev->memory_lock);
			return;
		}
	}
	vdpci_ioeventfd_write(ioeventfd);
	if (ioeventfd->test_mem)
		up_read(&vdev->memory_lock);
}

static void vdpci_ioeventfd_free(struct vdpci_core_device *vdev,
				 struct vdpci_ioeventfd *ioeventfd)
{
	lockdep_assert_held(&vdev->ioeventfds_lock);
	vfiodev_virqfd_disable(&ioeventfd->virqfd);
	list_del(&ioeventfd->item);
	vdev->ioeventfds_nr--;
	kfree(ioeventfd);
}

static int vdpci_ioeventfd(struct vdpci_core_device *vdev, u64 offset,
			   u64 data, int count, int fd)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int bar = VDPCI_OFFSET_TO_INDEX(offset);
	loff_t pos = offset & VDPCI_OFFSET_MASK;
	struct vdpci_ioeventfd *ioeventfd;
	int ret;

	/*
	 * Into BARs only, not one whose accesses the driver sees
	 * (vdpci_core_trap_bar()), not around the MSI-X table's protection.
	 */
	if (bar > VFIO_PCI_BAR5_REGION_INDEX ||
	    pos + count > pci_resource_len(pdev, bar) ||
	    (vdev->trapped_bars & BIT(bar)))
		return -EINVAL;
	if (bar == vdev->msix_bar &&
	    !(pos + count <= vdev->msix_offset ||
	      pos >= vdev->msix_offset + vdev->msix_size))
		return -EINVAL;
	ret = vdpci_core_setup_barmap(vdev, bar);
	if (ret)
		return ret;

	mutex_lock(&vdev->ioeventfds_lock);
	list_for_each_entry(ioeventfd, &vdev->ioeventfds, item) {
		if (ioeventfd->pos == pos && ioeventfd->bar == bar &&
		    ioeventfd->data == data && ioeventfd->count == count) {
			/* The same write: -1 takes it away, else it exists. */
			if (fd == -1) {
				vdpci_ioeventfd_free(vdev, ioeventfd);
				ret = 0;
			} else {
				ret = -EEXIST;
			}
			goto out_unlock;
		}
	}
	if (fd < 0) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (vdev->ioeventfds_nr >= VDPCI_IOEVENTFD_MAX) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	ioeventfd = kzalloc(sizeof(*ioeventfd), GFP_KERNEL_ACCOUNT);
	if (!ioeventfd) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	ioeventfd->vdev = vdev;
	ioeventfd->addr = vdev->barmap[bar] + pos;
	ioeventfd->data = data;
	ioeventfd->pos = pos;
	ioeventfd->bar = bar;
	ioeventfd->count = count;
	ioeventfd->test_mem = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;
	ret = vfiodev_virqfd_enable(ioeventfd, vdpci_ioeventfd_handler,
				    vdpci_ioeventfd_thread, NULL,
				    &ioeventfd->virqfd, fd);
	if (ret) {
		kfree(ioeventfd);
		goto out_unlock;
	}
	list_add(&ioeventfd->item, &vdev->ioeventfds);
	vdev->ioeventfds_nr++;
out_unlock:
	mutex_unlock(&vdev->ioeventfds_lock);
	return ret;
}

/**
 * vdpci_ioctl_ioeventfd() - VFIO_DEVICE_IOEVENTFD
 * @vdev: an open device
 * @arg: user's struct vfio_device_ioeventfd
 *
 * Binds an eventfd to a write of @data, of the size the flags name, at a
 * BAR offset (region offset as for read/write); fd -1 unbinds the same
 * write.
 *
 * Return: 0; -EINVAL for a short argsz, unknown flags, not exactly one
 * size, fd below -1, an offset outside a BAR or onto the MSI-X table;
 * -EEXIST for the same write bound again; -ENODEV to unbind one that is
 * not bound; -ENOSPC past 1000; -EBADF; -EFAULT; -ENOMEM; or the error of
 * mapping the BAR.
 */
long vdpci_ioctl_ioeventfd(struct vdpci_core_device *vdev,
			   struct vfio_device_ioeventfd __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_ioeventfd, fd);
	struct vfio_device_ioeventfd ioeventfd;
	int count;

	if (copy_from_user(&ioeventfd, arg, minsz))
		return -EFAULT;
	if (ioeventfd.argsz < minsz ||
	    ioeventfd.flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK)
		return -EINVAL;
	count = ioeventfd.flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
	if (hweight8(count) != 1 || ioeventfd.fd < -1)
		return -EINVAL;
	return vdpci_ioeventfd(vdev, ioeventfd.offset, ioeventfd.data, count,
			       ioeventfd.fd);
}

/**
 * vdpci_ioeventfds_release() - unbind every ioeventfd of a device
 * @vdev: a device being closed
 */
void vdpci_ioeventfds_release(struct vdpci_core_device *vdev)
{
	struct vdpci_ioeventfd *ioeventfd, *tmp;

	mutex_lock(&vdev->ioeventfds_lock);
	list_for_each_entry_safe(ioeventfd, tmp, &vdev->ioeventfds, item)
		vdpci_ioeventfd_free(vdev, ioeventfd);
	mutex_unlock(&vdev->ioeventfds_lock);
}

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

/*
 * @count bytes at @off of @io, to or from @buf, in the widest naturally
 * aligned accesses up to @max_width; [@x_start, @x_end) is not touched
 * (reads give ones).  Memory space only with decoding on (@test_mem).
 */
ssize_t vdpci_do_io_rw(struct vdpci_core_device *vdev, bool test_mem,
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
