// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev PCI core library.
 *
 * Drivers fill their struct vfiodev_device_ops with the vdpci_core_*
 * callbacks (or wrap them), allocate a structure embedding struct
 * vdpci_core_device with vfiodev_alloc_device() and register it with
 * vdpci_core_register_device().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "../compat.h"
#include "priv.h"

static struct vdpci_core_device *to_vdpci(struct vfiodev_device *core_vdev)
{
	return container_of(core_vdev, struct vdpci_core_device, vdev);
}

/*
 * The library's settings, which the drivers' module parameters feed (as
 * upstream's vfio_pci_core_set_params()): read when a device is
 * registered or opened, so a change reaches the devices registered or
 * opened after it.
 */
bool vdpci_nointxmask;
bool vdpci_disable_vga;
static bool vdpci_disable_idle_d3;

/**
 * vdpci_core_set_params - the library's settings, from a driver's parameters
 * @nointxmask: never mask INTx in the device (DisINTx), always at the
 *	interrupt controller, with the line not shared
 * @disable_vga: no VGA region for user space, and a VGA device below a
 *	bridge leaves the legacy VGA ranges to others (see vga.c)
 * @disable_idle_d3: keep devices that are bound but not open in D0,
 *	instead of letting runtime PM put them in D3hot
 *
 * Context: module init of the driver, before it registers.
 */
void vdpci_core_set_params(bool nointxmask, bool disable_vga,
			   bool disable_idle_d3)
{
	vdpci_nointxmask = nointxmask;
	vdpci_disable_vga = disable_vga;
	vdpci_disable_idle_d3 = disable_idle_d3;
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_set_params, VFIODEV_PCI_CORE_NS);

/*
 * Runtime PM of a bound device: the PCI core holds a usage reference
 * while a driver is bound; the library drops it at registration (unless
 * disable_idle_d3), takes one for each open and gives it back on close,
 * so a device nobody has open is suspended: saved and put in D3hot by the
 * PCI core.  The PCI core's runtime idle refuses a bound device whose
 * driver has no &dev_pm_ops at all; with an empty one it does its default
 * for every step (save config space, D3hot, restore on resume), which is
 * all the library needs: nobody has the device open then.
 */
const struct dev_pm_ops vdpci_core_pm_ops = {};
EXPORT_SYMBOL_NS_GPL(vdpci_core_pm_ops, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_init_dev - &vfiodev_device_ops.init for PCI devices
 * @core_vdev: the device being allocated; its @dev is a PCI device
 *
 * Return: 0.
 */
int vdpci_core_init_dev(struct vfiodev_device *core_vdev)
{
	struct vdpci_core_device *vdev = to_vdpci(core_vdev);

	vdev->pdev = to_pci_dev(core_vdev->dev);
	init_rwsem(&vdev->memory_lock);
	mutex_init(&vdev->barmap_lock);
	mutex_init(&vdev->igate);
	spin_lock_init(&vdev->irqlock);
	mutex_init(&vdev->ioeventfds_lock);
	INIT_LIST_HEAD(&vdev->ioeventfds);
	vdev->msix_bar = -1;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_init_dev, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_request - &vfiodev_device_ops.request for PCI devices
 * @core_vdev: the device being unregistered
 * @count: how many requests were made before this one
 *
 * Signals the REQ interrupt's eventfd if user space registered one (every
 * time: the core calls again while it waits), and tells the log, once,
 * that unbinding waits for user space to close the device.  Context:
 * process, does not sleep.
 */
void vdpci_core_request(struct vfiodev_device *core_vdev, unsigned int count)
{
	struct vdpci_core_device *vdev = to_vdpci(core_vdev);

	/* The REQ interrupt, when user space registered one. */
	if (vdpci_irqs_request(vdev)) {
		if (!count)
			pci_notice(vdev->pdev,
				   "asking user space to release the device\n");
		return;
	}
	if (!count)
		pci_notice(vdev->pdev,
			   "device in use by user space, unbind waits until it is released\n");
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_request, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_zap_and_down_write_memory_lock() - stop user access to the BARs
 * @vdev: an open device
 *
 * Takes memory_lock for write and removes every user mapping of the
 * device, so that neither read/write nor an mmap fault reaches the device
 * until up_write(): faults then find out whether memory decoding is on.
 */
void vdpci_zap_and_down_write_memory_lock(struct vdpci_core_device *vdev)
{
	down_write(&vdev->memory_lock);
	vfiodev_zap_user_mappings(&vdev->vdev);
}

/* Where the MSI-X table is; msix_bar -1 without MSI-X. */
static void vdpci_find_msix(struct vdpci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 flags;
	u32 table;

	vdev->msix_bar = -1;
	vdev->has_dyn_msix = false;
	if (!pdev->msix_cap)
		return;
	/* Vectors can be added while MSI-X is on (upstream's condition). */
	vdev->has_dyn_msix = pci_msix_can_alloc_dyn(pdev);
	pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &flags);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table);
	vdev->msix_bar = table & PCI_MSIX_TABLE_BIR;
	vdev->msix_offset = table & PCI_MSIX_TABLE_OFFSET;
	vdev->msix_size = ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) * PCI_MSIX_ENTRY_SIZE;
}

/*
 * A BAR can be mmapped if it is memory space of at least a page: smaller
 * ones could share their page with another device's registers.
 */
static void vdpci_probe_mmaps(struct vdpci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++)
		vdev->bar_mmap_supported[bar] =
			!(vdev->trapped_bars & BIT(bar)) &&
			(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) &&
			pci_resource_len(pdev, bar) >= PAGE_SIZE &&
			PAGE_ALIGNED(pci_resource_start(pdev, bar));
}

/**
 * vdpci_set_power_state() - move a device user space has to @state
 * @vdev: the device, under memory_lock for write or with no user left
 * @state: D0 to D3hot
 *
 * As upstream: a device whose config space does not survive D3hot
 * (No_Soft_Reset clear) has it saved on the way down and restored on the
 * way back to D0.
 *
 * Return: 0, or the error of pci_set_power_state().
 */
int vdpci_set_power_state(struct vdpci_core_device *vdev, pci_power_t state)
{
	struct pci_dev *pdev = vdev->pdev;
	bool save = false, restore = false;
	int ret;

	if (vdev->needs_pm_restore) {
		if (!vdpci_state_d3(pdev->current_state) &&
		    vdpci_state_d3(state)) {
			pci_save_state(pdev);
			save = true;
		}
		if (vdpci_state_d3(pdev->current_state) && state == PCI_D0)
			restore = true;
	}
	ret = pci_set_power_state(pdev, state);
	if (ret)
		return ret;
	/* A quirk may keep the device out of D3hot. */
	if (save && vdpci_state_d3(pdev->current_state)) {
		kfree(vdev->pm_save);
		vdev->pm_save = pci_store_saved_state(pdev);
	} else if (restore && vdev->pm_save) {
		pci_load_and_free_saved_state(pdev, &vdev->pm_save);
		pci_restore_state(pdev);
	}
	return 0;
}

/**
 * vdpci_core_open_device - &vfiodev_device_ops.open_device for PCI devices
 * @core_vdev: the device a file gains access to
 *
 * Powers the device up and enables it, resets it if it can be reset (so
 * that user space starts from a known state, and to learn whether
 * VFIO_DEVICE_FLAGS_RESET holds), and saves the config space to restore
 * on close.  Context: process, under &vfiodev_device.lock.
 *
 * Return: 0; -EBUSY if the device lock is held elsewhere so that the reset
 * cannot be tried; or the error of waking the device (runtime PM) or of
 * pci_enable_device().
 */
int vdpci_core_open_device(struct vfiodev_device *core_vdev)
{
	struct vdpci_core_device *vdev = to_vdpci(core_vdev);
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	/* No reset of the whole set meets a device half open. */
	vdpci_dev_set_lock(vdev);
	if (vdev->idle_d3) {
		ret = pm_runtime_resume_and_get(&pdev->dev);
		if (ret)
			goto err_unlock;
	}
	pci_set_power_state(pdev, PCI_D0);
	/*
	 * Bus Master as firmware or the last driver left it must not survive:
	 * the device could DMA before user space has mapped anything, and the
	 * config space saved below, restored on close, would keep it.
	 */
	pci_clear_master(pdev);
	ret = pci_enable_device(pdev);
	if (ret)
		goto err_pm;

	ret = pci_try_reset_function(pdev);
	if (ret == -EAGAIN) {
		ret = -EBUSY;
		goto err_disable_device;
	}
	vdev->reset_works = !ret;

	pci_save_state(pdev);
	vdev->saved_state = pci_store_saved_state(pdev);
	if (!vdev->saved_state)
		pci_dbg(pdev, "no saved config space to restore on close\n");
	vdpci_find_msix(vdev);
	vdpci_probe_mmaps(vdev);
	vdev->has_vga = !vdpci_disable_vga && vdpci_is_vga(pdev);
	ret = vdpci_config_init(vdev);
	if (ret)
		goto err_free_state;
	vdpci_irqs_init(vdev);
	vdpci_devices_set_owner(vdev, true);
	vdpci_dev_set_unlock(vdev);
	return 0;

err_free_state:
	pci_load_and_free_saved_state(pdev, &vdev->saved_state);
err_disable_device:
	pci_disable_device(pdev);
err_pm:
	if (vdev->idle_d3)
		pm_runtime_put(&pdev->dev);
err_unlock:
	vdpci_dev_set_unlock(vdev);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_open_device, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_close_device - &vfiodev_device_ops.close_device for PCI devices
 * @core_vdev: the device whose last file goes
 *
 * Stops the device's DMA, resets it if it can be, and puts back the config
 * space saved by vdpci_core_open_device(), so that the next user (or the
 * host driver) finds the device as it was.  A device without a reset of
 * its own is reset with its slot or bus once no device of its set is open
 * any more.  Context: process, under &vfiodev_device.lock.
 */
void vdpci_core_close_device(struct vfiodev_device *core_vdev)
{
	struct vdpci_core_device *vdev = to_vdpci(core_vdev);
	struct pci_dev *pdev = vdev->pdev;

	vdpci_dev_set_lock(vdev);
	vdpci_devices_set_owner(vdev, false);
	/* Back from a low power state user space chose; nobody maps it. */
	vdpci_set_power_state(vdev, PCI_D0);
	kfree(vdev->pm_save);
	vdev->pm_save = NULL;
	vdpci_irqs_teardown(vdev);
	/* Before the BAR mappings they write through. */
	vdpci_ioeventfds_release(vdev);
	/* No mapping is left: each held the file open. */
	vdpci_release_barmaps(vdev);
	vdpci_config_free(vdev);
	pci_clear_master(pdev);
	pci_disable_device(pdev);
	vdev->needs_reset = true;
	if (vdev->reset_works) {
		if (!pci_try_reset_function(pdev))
			vdev->needs_reset = false;
		else
			pci_dbg(pdev, "reset on close failed\n");
	}
	if (vdev->saved_state) {
		pci_load_and_free_saved_state(pdev, &vdev->saved_state);
		pci_restore_state(pdev);
	}
	vdev->reset_works = false;
	/* Without a reset of its own, the device's slot or bus resets it. */
	vdpci_dev_set_try_reset(vdev);
	if (vdev->idle_d3)
		pm_runtime_put(&pdev->dev);
	vdpci_dev_set_unlock(vdev);
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_close_device, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_trap_bar() - every user access to a BAR goes through the driver
 * @vdev: the device, before vdpci_core_register_device()
 * @bar: the BAR
 *
 * For a variant driver that must see what user space writes to the
 * device (the edu variant, to log the DMA it starts): the BAR is not
 * offered for mmap (no VFIO_REGION_INFO_FLAG_MMAP, mmap() -EINVAL) and
 * takes no VFIO_DEVICE_IOEVENTFD (-EINVAL), so read() and write() of the
 * device file, which reach the driver's &vfiodev_device_ops, are the only
 * way in.
 */
void vdpci_core_trap_bar(struct vdpci_core_device *vdev, int bar)
{
	if (!WARN_ON(bar < 0 || bar >= PCI_STD_NUM_BARS))
		vdev->trapped_bars |= BIT(bar);
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_trap_bar, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_ioctl_feature() - &vfiodev_device_ops.device_feature for PCI
 * @core_vdev: the device
 * @flags: the request's flags, checked by the core
 * @arg: the feature's data
 * @argsz: its size
 *
 * The PCI features of upstream's library, for the plain driver and for
 * variants to chain to after their own: low-power entry and exit
 * (VFIO_DEVICE_FEATURE_LOW_POWER_*) and the SR-IOV VF token
 * (VFIO_DEVICE_FEATURE_PCI_VF_TOKEN).  None is offered here yet (no
 * user-driven low power, no VF token; Documentation/differences.rst), so
 * every feature answers -ENOTTY, as upstream answers for a feature a
 * device does not have; this is where they will go.
 *
 * Return: -ENOTTY.
 */
int vdpci_core_ioctl_feature(struct vfiodev_device *core_vdev, u32 flags,
			     void __user *arg, size_t argsz)
{
	return -ENOTTY;
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_ioctl_feature, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_set_own_reset() - the driver resets a device that PCI cannot
 * @vdev: the device, before vdpci_core_register_device()
 *
 * A variant driver that can put its device back to its power-on state
 * itself calls this, and serves VFIO_DEVICE_RESET in its ioctl when
 * vdpci_core_function_reset() is false.  VFIO_DEVICE_GET_INFO then offers
 * VFIO_DEVICE_FLAGS_RESET whether or not the device has a function reset.
 * The library's own resets (on close, of the device set) are not affected.
 */
void vdpci_core_set_own_reset(struct vdpci_core_device *vdev)
{
	vdev->own_reset = true;
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_set_own_reset, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_function_reset() - has the device a PCI function reset
 * @vdev: an open device
 *
 * Return: true if the function reset tried at open worked: then the
 * library serves VFIO_DEVICE_RESET with it.
 */
bool vdpci_core_function_reset(struct vdpci_core_device *vdev)
{
	return vdev->reset_works;
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_function_reset, VFIODEV_PCI_CORE_NS);

static long vdpci_ioctl_get_info(struct vdpci_core_device *vdev,
				 struct vfio_device_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info = {};

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	/* No capabilities to chain for PCI outside s390. */
	minsz = min_t(size_t, info.argsz, sizeof(info));
	info.flags = VFIO_DEVICE_FLAGS_PCI;
	if (vdev->reset_works || vdev->own_reset)
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	info.cap_offset = 0;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long vdpci_ioctl_get_region_info(struct vdpci_core_device *vdev,
					struct vfio_region_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_info_cap_header cap = {};
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_region_info info;
	size_t cap_size = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	switch (info.index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.offset = VDPCI_INDEX_TO_OFFSET(info.index);
		info.size = pdev->cfg_size;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		info.offset = VDPCI_INDEX_TO_OFFSET(info.index);
		info.size = pci_resource_len(pdev, info.index);
		if (!info.size) {
			info.flags = 0;
			break;
		}
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		if (!vdev->bar_mmap_supported[info.index])
			break;
		info.flags |= VFIO_REGION_INFO_FLAG_MMAP;
		/*
		 * The whole BAR maps, the MSI-X table's pages too, as upstream:
		 * doorbells share them on NVMe and NIC devices.  What user space
		 * writes there cannot raise a foreign interrupt, because the
		 * device is bound only where MSIs are isolated (interrupt
		 * remapping; see iommufd's allow_unsafe_interrupts).
		 */
		if (info.index == vdev->msix_bar) {
			cap.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
			cap.version = 1;
			cap_size = sizeof(cap);
		}
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		info.offset = VDPCI_INDEX_TO_OFFSET(info.index);
		info.size = 0;
		info.flags = 0;
		if (pci_resource_start(pdev, PCI_ROM_RESOURCE)) {
			info.size = pci_resource_len(pdev, PCI_ROM_RESOURCE);
			info.flags = VFIO_REGION_INFO_FLAG_READ;
		}
		break;
	case VFIO_PCI_VGA_REGION_INDEX:
		/* The legacy ranges, at their own addresses (see vga.c). */
		if (!vdev->has_vga)
			return -EINVAL;
		info.offset = VDPCI_INDEX_TO_OFFSET(info.index);
		info.size = VDPCI_VGA_REGION_SIZE;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		break;
	default:
		return -EINVAL;
	}

	if (cap_size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + cap_size) {
			/* Tell user space how much room the chain needs. */
			info.argsz = sizeof(info) + cap_size;
			info.cap_offset = 0;
		} else {
			if (copy_to_user(arg + 1, &cap, cap_size))
				return -EFAULT;
			info.cap_offset = sizeof(info);
		}
	}
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long vdpci_ioctl_reset(struct vdpci_core_device *vdev)
{
	int ret;

	if (!vdev->reset_works)
		return -EINVAL;
	/* Nothing of user space reaches the device while it resets. */
	vdpci_zap_and_down_write_memory_lock(vdev);
	vdpci_set_power_state(vdev, PCI_D0);
	ret = pci_try_reset_function(vdev->pdev);
	up_write(&vdev->memory_lock);
	return ret;
}

/**
 * vdpci_core_ioctl - &vfiodev_device_ops.ioctl for PCI devices
 * @core_vdev: the device
 * @cmd: the ioctl
 * @arg: its argument, a user pointer
 *
 * Context: process.
 *
 * Return: the ioctl's result; -ENOTTY for an ioctl the library does not
 * know, so that a variant driver wrapping this function can tell.
 */
long vdpci_core_ioctl(struct vfiodev_device *core_vdev, unsigned int cmd,
		      unsigned long arg)
{
	struct vdpci_core_device *vdev = to_vdpci(core_vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vdpci_ioctl_get_info(vdev, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vdpci_ioctl_get_region_info(vdev, uarg);
	case VFIO_DEVICE_RESET:
		return vdpci_ioctl_reset(vdev);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vdpci_ioctl_get_irq_info(vdev, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return vdpci_ioctl_set_irqs(vdev, uarg);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vdpci_ioctl_hot_reset_info(vdev, uarg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vdpci_ioctl_hot_reset(vdev, uarg);
	case VFIO_DEVICE_IOEVENTFD:
		return vdpci_ioctl_ioeventfd(vdev, uarg);
	default:
		return -ENOTTY;
	}
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_ioctl, VFIODEV_PCI_CORE_NS);

static ssize_t vdpci_rw(struct vdpci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite)
{
	u64 index = VDPCI_OFFSET_TO_INDEX((u64)*ppos);

	if (!count)
		return 0;
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return vdpci_config_rw(vdev, buf, count, ppos, iswrite);
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		return vdpci_bar_rw(vdev, buf, count, ppos, iswrite);
	case VFIO_PCI_ROM_REGION_INDEX:
		if (iswrite)
			return -EINVAL;
		return vdpci_bar_rw(vdev, buf, count, ppos, false);
	case VFIO_PCI_VGA_REGION_INDEX:
		return vdpci_vga_rw(vdev, buf, count, ppos, iswrite);
	default:
		return -EINVAL;
	}
}

/**
 * vdpci_core_read - &vfiodev_device_ops.read for PCI devices
 * @core_vdev: the device
 * @buf: user buffer
 * @count: bytes
 * @ppos: region index and offset (VDPCI_INDEX_TO_OFFSET())
 *
 * Context: process.
 *
 * Return: bytes read, or a negative errno; -EINVAL for a region that
 * cannot be read.
 */
ssize_t vdpci_core_read(struct vfiodev_device *core_vdev, char __user *buf,
			size_t count, loff_t *ppos)
{
	return vdpci_rw(to_vdpci(core_vdev), buf, count, ppos, false);
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_read, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_write - &vfiodev_device_ops.write for PCI devices
 * @core_vdev: the device
 * @buf: user buffer
 * @count: bytes
 * @ppos: region index and offset (VDPCI_INDEX_TO_OFFSET())
 *
 * Context: process.
 *
 * Return: bytes written, or a negative errno; -EINVAL for a region that
 * cannot be written.
 */
ssize_t vdpci_core_write(struct vfiodev_device *core_vdev,
			 const char __user *buf, size_t count, loff_t *ppos)
{
	return vdpci_rw(to_vdpci(core_vdev), (char __user *)buf, count, ppos,
			true);
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_write, VFIODEV_PCI_CORE_NS);

/*
 * A fault maps the page if memory decoding is on, and raises SIGBUS if it
 * is not; during a reset it waits for the reset to end.
 */
static vm_fault_t vdpci_mmap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vdpci_core_device *vdev = vma->vm_private_data;
	unsigned int index = vma->vm_pgoff >>
			     (VDPCI_OFFSET_SHIFT - PAGE_SHIFT);
	unsigned long pgoff = (vma->vm_pgoff &
			       (BIT(VDPCI_OFFSET_SHIFT - PAGE_SHIFT) - 1)) +
			      ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	unsigned long pfn = (pci_resource_start(vdev->pdev, index) >>
			     PAGE_SHIFT) + pgoff;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	down_read(&vdev->memory_lock);
	if (vdpci_memory_enabled(vdev))
		ret = vmf_insert_pfn(vma, vmf->address, pfn);
	up_read(&vdev->memory_lock);
	return ret;
}

static const struct vm_operations_struct vdpci_mmap_ops = {
	.fault = vdpci_mmap_fault,
};

/**
 * vdpci_core_mmap - &vfiodev_device_ops.mmap for PCI devices
 * @core_vdev: the device
 * @vma: a shared mapping of part of a BAR; its offset selects the BAR
 *	(VDPCI_INDEX_TO_OFFSET())
 *
 * Pages are inserted on fault, so that the mapping can be taken away while
 * the device does not decode memory or resets, and given back after.  The
 * pages holding the MSI-X table cannot be mapped.
 *
 * Context: process, mmap_lock held for write.
 *
 * Return: 0; -EINVAL for a private mapping, a region or a range that cannot
 * be mapped; or the error of claiming the BAR.
 */
int vdpci_core_mmap(struct vfiodev_device *core_vdev,
		    struct vm_area_struct *vma)
{
	struct vdpci_core_device *vdev = to_vdpci(core_vdev);
	struct pci_dev *pdev = vdev->pdev;
	u64 req_start, req_len, phys_len;
	unsigned int index;
	int ret;

	index = vma->vm_pgoff >> (VDPCI_OFFSET_SHIFT - PAGE_SHIFT);
	if (index > VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (!vdev->bar_mmap_supported[index])
		return -EINVAL;

	phys_len = PAGE_ALIGN(pci_resource_len(pdev, index));
	req_len = vma->vm_end - vma->vm_start;
	req_start = (u64)(vma->vm_pgoff &
			  (BIT(VDPCI_OFFSET_SHIFT - PAGE_SHIFT) - 1)) <<
		    PAGE_SHIFT;
	if (req_start + req_len > phys_len)
		return -EINVAL;

	/* Not used for the mapping, but it claims the BAR. */
	ret = vdpci_core_setup_barmap(vdev, index);
	if (ret)
		return ret;

	vma->vm_private_data = vdev;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vma->vm_page_prot = pgprot_decrypted(vma->vm_page_prot);
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &vdpci_mmap_ops;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_mmap, VFIODEV_PCI_CORE_NS);

/* Undoes the runtime PM set-up of vdpci_core_register_device(). */
static void vdpci_pm_unregister(struct vdpci_core_device *vdev)
{
	if (vdev->idle_d3)
		pm_runtime_get_noresume(&vdev->pdev->dev);
	pm_runtime_forbid(&vdev->pdev->dev);
}

/**
 * vdpci_core_register_device - check and register a PCI device
 * @vdev: the device, allocated with vfiodev_alloc_device()
 *
 * Only normal (type 0 header) functions behind an IOMMU can be given to user
 * space: without an IOMMU group nothing would confine the device's DMA.
 * From here on, while nobody has the device open, runtime PM may suspend it
 * (D3hot where it can), unless vdpci_core_set_params() said
 * disable_idle_d3.  The driver's &device_driver.pm must be
 * &vdpci_core_pm_ops.  Context: process, may sleep.
 *
 * Return: 0; -EINVAL for a bridge or a device without an IOMMU group;
 * -ENOMEM; or the error of vfiodev_register_device().
 */
int vdpci_core_register_device(struct vdpci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct iommu_group *group;
	int ret;

	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;

	group = iommu_group_get(&pdev->dev);
	if (!group) {
		pci_warn(pdev, "no IOMMU group, the device cannot be assigned\n");
		return -EINVAL;
	}
	iommu_group_put(group);

	/*
	 * Whether idle devices may suspend is decided once, here: open and
	 * close balance the reference this drops, and unregistration takes
	 * it back, by the same setting.
	 */
	vdev->idle_d3 = !vdpci_disable_idle_d3;
	if (pdev->pm_cap) {
		u16 pmcsr;

		pci_read_config_word(pdev, pdev->pm_cap + PCI_PM_CTRL, &pmcsr);
		vdev->needs_pm_restore = !(pmcsr & PCI_PM_CTRL_NO_SOFT_RESET);
	}
	/*
	 * The PCI core leaves a device it unbound in an unknown power state,
	 * from which only D0 is allowed: go there before runtime PM may
	 * move the device to D3hot.
	 */
	pci_set_power_state(pdev, PCI_D0);
	pm_runtime_allow(&pdev->dev);
	if (vdev->idle_d3)
		pm_runtime_put(&pdev->dev);

	ret = vdpci_dev_set_join(vdev);
	if (ret)
		goto err_pm;
	ret = vdpci_vga_init(vdev);
	if (ret)
		goto err_leave;
	ret = vfiodev_register_device(&vdev->vdev);
	if (ret)
		goto err_vga;
	return 0;

err_vga:
	vdpci_vga_uninit(vdev);
err_leave:
	vdpci_dev_set_leave(vdev);
err_pm:
	vdpci_pm_unregister(vdev);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_register_device, VFIODEV_PCI_CORE_NS);

/**
 * vdpci_core_unregister_device - undo vdpci_core_register_device()
 * @vdev: a registered device
 *
 * Waits until user space has closed the device; see
 * vfiodev_unregister_device().  Context: process, may sleep.
 */
void vdpci_core_unregister_device(struct vdpci_core_device *vdev)
{
	/* Its last close, which this waits for, may reset the set. */
	vfiodev_unregister_device(&vdev->vdev);
	vdpci_vga_uninit(vdev);
	vdpci_dev_set_leave(vdev);
	vdpci_pm_unregister(vdev);
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_unregister_device, VFIODEV_PCI_CORE_NS);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio-pci-core (vfiodev): the PCI core library");
MODULE_IMPORT_NS(VFIODEV_NS);
