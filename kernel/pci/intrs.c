// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev PCI core library: interrupts, VFIO_DEVICE_GET_IRQ_INFO and
 * VFIO_DEVICE_SET_IRQS.
 *
 * Each interrupt of the device signals an eventfd of user space.  INTx is
 * level triggered and shared, so its handler masks it (in the device with
 * DisINTx where the device can, else at the interrupt controller) before
 * signalling, and user space unmasks it when it has served the device
 * (automasking).  MSI and MSI-X vectors signal their eventfd and nothing
 * else.  MSI and MSI-X are turned on with the vectors user space names
 * first; where the interrupt controller can add MSI-X vectors to a live
 * table (pci_msix_can_alloc_dyn()), a vector named later is allocated
 * then, and VFIO_IRQ_INFO_NORESIZE is clear, as upstream has it; else
 * naming one beyond those is -EINVAL.  ERR and REQ are eventfds the
 * library signals itself: REQ when the device is to be unbound while user
 * space holds it.  DATA_NONE and DATA_BOOL triggers signal the eventfds
 * from the kernel: loopback, for testing.
 *
 * Only one of INTx, MSI and MSI-X is on at a time, as in PCI.  igate
 * serialises SET_IRQS and teardown; irqlock guards INTx's masked state
 * against its handler.  The MSI-X table is written by the PCI core with
 * memory decoding on, under memory_lock, whatever user space set.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "../compat.h"
#include "priv.h"

/**
 * struct vdpci_irq_ctx - one interrupt given to user space
 * @trigger: the eventfd it signals
 * @name: for /proc/interrupts
 * @masked: INTx only: masked by its handler or by user space (irqlock)
 * @unmask: INTx only: the eventfd that unmasks it (KVM's resampler), or
 *	NULL
 */
struct vdpci_irq_ctx {
	struct eventfd_ctx *trigger;
	char *name;
	bool masked;
	struct vfiodev_virqfd *unmask;
};

static bool vdpci_is_intx(struct vdpci_core_device *vdev)
{
	return vdev->irq_type == VFIO_PCI_INTX_IRQ_INDEX;
}

static bool vdpci_irq_none(struct vdpci_core_device *vdev)
{
	return vdev->irq_type == VFIO_PCI_NUM_IRQS;
}

/**
 * vdpci_irq_count() - how many interrupts of a kind the device has
 * @vdev: the device
 * @index: VFIO_PCI_*_IRQ_INDEX
 *
 * Return: INTx 1 if the device has a pin; MSI and MSI-X what their
 * capabilities offer; ERR 1 for PCI Express; REQ 1; else 0.
 */
int vdpci_irq_count(struct vdpci_core_device *vdev, unsigned int index)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 flags;
	u8 pin;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		pci_read_config_byte(pdev, PCI_INTERRUPT_PIN, &pin);
		return pin && pdev->irq ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (!pdev->msi_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msi_cap + PCI_MSI_FLAGS,
				     &flags);
		return 1 << ((flags & PCI_MSI_FLAGS_QMASK) >> 1);
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (!pdev->msix_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS,
				     &flags);
		return (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return pci_is_pcie(pdev) ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

/* --- INTx ---------------------------------------------------------------- */

static void vdpci_intx_signal(struct vdpci_irq_ctx *ctx)
{
	if (ctx->trigger)
		eventfd_signal(ctx->trigger);
}

static irqreturn_t vdpci_intx_handler(int irq, void *data)
{
	struct vdpci_core_device *vdev = data;
	struct vdpci_irq_ctx *ctx = vdev->irq_ctx;
	irqreturn_t ret = IRQ_NONE;
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (!vdev->pci_2_3) {
		/* Exclusive line: mask it at the controller. */
		disable_irq_nosync(vdev->pdev->irq);
		ctx->masked = true;
		ret = IRQ_HANDLED;
	} else if (!ctx->masked && pci_check_and_mask_intx(vdev->pdev)) {
		ctx->masked = true;
		ret = IRQ_HANDLED;
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	if (ret == IRQ_HANDLED)
		vdpci_intx_signal(ctx);
	return ret;
}

static void vdpci_intx_mask(struct vdpci_core_device *vdev)
{
	struct vdpci_irq_ctx *ctx = vdev->irq_ctx;
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (!ctx->masked) {
		if (vdev->pci_2_3)
			pci_intx(vdev->pdev, 0);
		else
			disable_irq_nosync(vdev->pdev->irq);
		ctx->masked = true;
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);
}

/*
 * Unmasks INTx.  Return: true when the device still asserts it: then it
 * stays masked and is to be signalled again.  Any context.
 */
static bool __vdpci_intx_unmask(void *opaque, void *unused)
{
	struct vdpci_core_device *vdev = opaque;
	struct vdpci_irq_ctx *ctx = vdev->irq_ctx;
	bool pending = false;
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (ctx->masked) {
		if (vdev->pci_2_3) {
			/* Still asserted: it is not unmasked, but signalled. */
			pending = !pci_check_and_unmask_intx(vdev->pdev);
		} else {
			enable_irq(vdev->pdev->irq);
		}
		ctx->masked = pending;
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	return pending;
}

/* The unmask eventfd's second half: signal what is still pending. */
static void vdpci_intx_unmask_thread(void *opaque, void *unused)
{
	struct vdpci_core_device *vdev = opaque;

	vdpci_intx_signal(vdev->irq_ctx);
}

static void vdpci_intx_unmask(struct vdpci_core_device *vdev)
{
	if (__vdpci_intx_unmask(vdev, NULL))
		vdpci_intx_signal(vdev->irq_ctx);
}

static int vdpci_intx_enable(struct vdpci_core_device *vdev,
			     struct eventfd_ctx *trigger)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vdpci_irq_ctx *ctx;
	unsigned long irqflags;
	int ret;

	if (!pdev->irq)
		return -ENODEV;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	ctx->name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-intx(%s)",
			      pci_name(pdev));
	if (!ctx->name) {
		kfree(ctx);
		return -ENOMEM;
	}
	ctx->trigger = trigger;
	vdev->irq_ctx = ctx;
	vdev->num_ctx = 1;
	vdev->pci_2_3 = !vdpci_nointxmask && pci_intx_mask_supported(pdev);
	if (vdev->pci_2_3) {
		pci_intx(pdev, 1);
		irqflags = IRQF_SHARED;
	} else {
		irqflags = 0;
	}
	vdev->irq_type = VFIO_PCI_INTX_IRQ_INDEX;
	ret = request_irq(pdev->irq, vdpci_intx_handler, irqflags, ctx->name,
			  vdev);
	if (ret) {
		vdev->irq_type = VFIO_PCI_NUM_IRQS;
		vdev->irq_ctx = NULL;
		vdev->num_ctx = 0;
		kfree(ctx->name);
		kfree(ctx);
	}
	return ret;
}

static void vdpci_intx_disable(struct vdpci_core_device *vdev)
{
	struct vdpci_irq_ctx *ctx = vdev->irq_ctx;

	/* Nothing may unmask or signal once the interrupt is gone. */
	vfiodev_virqfd_disable(&ctx->unmask);
	free_irq(vdev->pdev->irq, vdev);
	if (vdev->pci_2_3)
		pci_intx(vdev->pdev, 0);
	if (ctx->trigger)
		eventfd_ctx_put(ctx->trigger);
	kfree(ctx->name);
	kfree(ctx);
	vdev->irq_ctx = NULL;
	vdev->num_ctx = 0;
	vdev->irq_type = VFIO_PCI_NUM_IRQS;
}

/* --- MSI and MSI-X ------------------------------------------------------- */

static irqreturn_t vdpci_msi_handler(int irq, void *data)
{
	eventfd_signal(data);
	return IRQ_HANDLED;
}

static int vdpci_msi_alloc(struct vdpci_core_device *vdev, int nvec,
			   bool msix)
{
	u16 cmd = vdpci_memory_lock_and_enable(vdev);
	int ret;

	ret = pci_alloc_irq_vectors(vdev->pdev, 1, nvec,
				    msix ? PCI_IRQ_MSIX : PCI_IRQ_MSI);
	if (ret > 0 && ret < nvec)
		pci_free_irq_vectors(vdev->pdev);
	vdpci_memory_unlock_and_restore(vdev, cmd);
	return ret;
}

static int vdpci_msi_enable(struct vdpci_core_device *vdev, int nvec,
			    bool msix)
{
	unsigned int max;
	int ret;

	if (!vdpci_irq_none(vdev))
		return -EINVAL;
	/* Room for every vector the capability has: some may come later. */
	max = max_t(unsigned int, nvec,
		    vdpci_irq_count(vdev, msix ? VFIO_PCI_MSIX_IRQ_INDEX :
						 VFIO_PCI_MSI_IRQ_INDEX));
	vdev->irq_ctx = kcalloc(max, sizeof(*vdev->irq_ctx),
				GFP_KERNEL_ACCOUNT);
	if (!vdev->irq_ctx)
		return -ENOMEM;
	ret = vdpci_msi_alloc(vdev, nvec, msix);
	if (ret < nvec) {
		kfree(vdev->irq_ctx);
		vdev->irq_ctx = NULL;
		/* Fewer than asked: upstream tells how many there are. */
		return ret;
	}
	vdev->num_ctx = max;
	vdev->irq_type = msix ? VFIO_PCI_MSIX_IRQ_INDEX :
				VFIO_PCI_MSI_IRQ_INDEX;
	return 0;
}

/*
 * MSI-X vector @vector, not allocated when MSI-X was turned on, added to
 * the live table where the interrupt controller can.  Return: its Linux
 * interrupt, or -EINVAL (MSI, or no dynamic MSI-X), or the allocation's
 * error.
 */
static int vdpci_msix_alloc_at(struct vdpci_core_device *vdev,
			       unsigned int vector, bool msix)
{
	struct msi_map map;
	u16 cmd;

	if (!msix || !vdev->has_dyn_msix)
		return -EINVAL;
	cmd = vdpci_memory_lock_and_enable(vdev);
	map = pci_msix_alloc_irq_at(vdev->pdev, vector, NULL);
	vdpci_memory_unlock_and_restore(vdev, cmd);
	return map.index < 0 ? map.index : map.virq;
}

static int vdpci_msi_set_vector(struct vdpci_core_device *vdev, int vector,
				int fd, bool msix)
{
	struct vdpci_irq_ctx *ctx = &vdev->irq_ctx[vector];
	struct pci_dev *pdev = vdev->pdev;
	struct eventfd_ctx *trigger;
	int irq, ret;

	/* A vector that is not allocated has no trigger. */
	irq = pci_irq_vector(pdev, vector);
	if (ctx->trigger) {
		free_irq(irq, ctx->trigger);
		eventfd_ctx_put(ctx->trigger);
		kfree(ctx->name);
		ctx->trigger = NULL;
		ctx->name = NULL;
	}
	if (fd < 0)
		return 0;
	if (irq < 0) {
		/* Stays allocated until MSI-X is turned off. */
		irq = vdpci_msix_alloc_at(vdev, vector, msix);
		if (irq < 0)
			return irq;
	}

	ctx->name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-msi%s[%d](%s)",
			      msix ? "x" : "", vector, pci_name(pdev));
	if (!ctx->name)
		return -ENOMEM;
	trigger = eventfd_ctx_fdget(fd);
	if (IS_ERR(trigger)) {
		ret = PTR_ERR(trigger);
		goto err_free_name;
	}
	if (msix) {
		struct msi_msg msg;
		u16 cmd;

		/* The table entry may have been cleared by a reset: rewrite. */
		cmd = vdpci_memory_lock_and_enable(vdev);
		get_cached_msi_msg(irq, &msg);
		pci_write_msi_msg(irq, &msg);
		vdpci_memory_unlock_and_restore(vdev, cmd);
	}
	ret = request_irq(irq, vdpci_msi_handler, 0, ctx->name, trigger);
	if (ret)
		goto err_put;
	ctx->trigger = trigger;
	return 0;

err_put:
	eventfd_ctx_put(trigger);
err_free_name:
	kfree(ctx->name);
	ctx->name = NULL;
	return ret;
}

static int vdpci_msi_set_block(struct vdpci_core_device *vdev,
			       unsigned int start, unsigned int count,
			       const s32 *fds, bool msix)
{
	unsigned int i, j;
	int ret = 0;

	if (start >= vdev->num_ctx || start + count > vdev->num_ctx)
		return -EINVAL;
	for (i = 0, j = start; i < count && !ret; i++, j++)
		ret = vdpci_msi_set_vector(vdev, j, fds ? fds[i] : -1, msix);
	if (ret) {
		/* All or nothing: undo what this call set. */
		for (i = start; i < j; i++)
			vdpci_msi_set_vector(vdev, i, -1, msix);
	}
	return ret;
}

static void vdpci_msi_disable(struct vdpci_core_device *vdev, bool msix)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd;

	vdpci_msi_set_block(vdev, 0, vdev->num_ctx, NULL, msix);
	cmd = vdpci_memory_lock_and_enable(vdev);
	pci_free_irq_vectors(pdev);
	vdpci_memory_unlock_and_restore(vdev, cmd);
	kfree(vdev->irq_ctx);
	vdev->irq_ctx = NULL;
	vdev->num_ctx = 0;
	vdev->irq_type = VFIO_PCI_NUM_IRQS;
}

/* --- the actions of VFIO_DEVICE_SET_IRQS -------------------------------- */

static int vdpci_set_intx_mask(struct vdpci_core_device *vdev,
			       unsigned int start, unsigned int count,
			       u32 flags, void *data)
{
	if (!vdpci_is_intx(vdev) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		vdpci_intx_mask(vdev);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data)
			vdpci_intx_mask(vdev);
	} else {
		/* Masking on an eventfd is not offered (nor by upstream). */
		return -ENOTTY;
	}
	return 0;
}

static int vdpci_set_intx_unmask(struct vdpci_core_device *vdev,
				 unsigned int start, unsigned int count,
				 u32 flags, void *data)
{
	if (!vdpci_is_intx(vdev) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		vdpci_intx_unmask(vdev);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data)
			vdpci_intx_unmask(vdev);
	} else {
		/*
		 * An eventfd that unmasks on each signal (KVM's resampler, when
		 * the guest has served the interrupt); -1 takes it away.
		 */
		struct vdpci_irq_ctx *ctx = vdev->irq_ctx;
		s32 fd = *(s32 *)data;

		if (fd < 0) {
			vfiodev_virqfd_disable(&ctx->unmask);
			return 0;
		}
		return vfiodev_virqfd_enable(vdev, __vdpci_intx_unmask,
					     vdpci_intx_unmask_thread, NULL,
					     &ctx->unmask, fd);
	}
	return 0;
}

static int vdpci_set_intx_trigger(struct vdpci_core_device *vdev,
				  unsigned int start, unsigned int count,
				  u32 flags, void *data)
{
	struct vdpci_irq_ctx *ctx;
	int ret;

	if (vdpci_is_intx(vdev) && !count &&
	    (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vdpci_intx_disable(vdev);
		return 0;
	}
	if (!(vdpci_is_intx(vdev) || vdpci_irq_none(vdev)) ||
	    start != 0 || count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		s32 fd = *(s32 *)data;
		struct eventfd_ctx *trigger = NULL;

		if (fd >= 0) {
			trigger = eventfd_ctx_fdget(fd);
			if (IS_ERR(trigger))
				return PTR_ERR(trigger);
		}
		if (vdpci_is_intx(vdev)) {
			/* A new eventfd for the running interrupt. */
			ctx = vdev->irq_ctx;
			disable_irq(vdev->pdev->irq);
			if (ctx->trigger)
				eventfd_ctx_put(ctx->trigger);
			ctx->trigger = trigger;
			enable_irq(vdev->pdev->irq);
			return 0;
		}
		ret = vdpci_intx_enable(vdev, trigger);
		if (ret && trigger)
			eventfd_ctx_put(trigger);
		return ret;
	}

	if (!vdpci_is_intx(vdev))
		return -EINVAL;
	ctx = vdev->irq_ctx;
	if ((flags & VFIO_IRQ_SET_DATA_NONE) ||
	    ((flags & VFIO_IRQ_SET_DATA_BOOL) && *(u8 *)data))
		vdpci_intx_signal(ctx);
	return 0;
}

static int vdpci_set_msi_trigger(struct vdpci_core_device *vdev,
				 unsigned int index, unsigned int start,
				 unsigned int count, u32 flags, void *data)
{
	bool msix = index == VFIO_PCI_MSIX_IRQ_INDEX;
	unsigned int i;
	int ret;

	if (vdev->irq_type == index && !count &&
	    (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vdpci_msi_disable(vdev, msix);
		return 0;
	}
	if (!(vdev->irq_type == index || vdpci_irq_none(vdev)))
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (vdev->irq_type == index)
			return vdpci_msi_set_block(vdev, start, count, data,
						   msix);
		ret = vdpci_msi_enable(vdev, start + count, msix);
		if (ret)
			return ret;
		ret = vdpci_msi_set_block(vdev, start, count, data, msix);
		if (ret)
			vdpci_msi_disable(vdev, msix);
		return ret;
	}

	if (vdev->irq_type != index || start + count > vdev->num_ctx)
		return -EINVAL;
	for (i = start; i < start + count; i++) {
		struct vdpci_irq_ctx *ctx = &vdev->irq_ctx[i];

		if (!ctx->trigger)
			continue;
		if ((flags & VFIO_IRQ_SET_DATA_NONE) ||
		    ((flags & VFIO_IRQ_SET_DATA_BOOL) &&
		     ((u8 *)data)[i - start]))
			eventfd_signal(ctx->trigger);
	}
	return 0;
}

/* ERR and REQ: one eventfd each, signalled by the library. */
static int vdpci_set_ctx_trigger(struct eventfd_ctx **pctx,
				 unsigned int count, u32 flags, void *data)
{
	struct eventfd_ctx *efd;
	s32 fd;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		/* Nothing registered: nothing to signal or drop (upstream). */
		if (!*pctx)
			return -EINVAL;
		if (count) {
			eventfd_signal(*pctx);
		} else {
			eventfd_ctx_put(*pctx);
			*pctx = NULL;
		}
		return 0;
	}
	if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (!count)
			return -EINVAL;
		if (*(u8 *)data && *pctx)
			eventfd_signal(*pctx);
		return 0;
	}
	if (!count)
		return -EINVAL;
	fd = *(s32 *)data;
	if (fd == -1) {
		if (*pctx)
			eventfd_ctx_put(*pctx);
		*pctx = NULL;
		return 0;
	}
	if (fd < 0)
		return -EINVAL;
	efd = eventfd_ctx_fdget(fd);
	if (IS_ERR(efd))
		return PTR_ERR(efd);
	if (*pctx)
		eventfd_ctx_put(*pctx);
	*pctx = efd;
	return 0;
}

static int vdpci_set_irqs(struct vdpci_core_device *vdev, u32 flags,
			  unsigned int index, unsigned int start,
			  unsigned int count, void *data)
{
	u32 action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			return vdpci_set_intx_mask(vdev, start, count, flags,
						   data);
		if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			return vdpci_set_intx_unmask(vdev, start, count, flags,
						     data);
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vdpci_set_intx_trigger(vdev, start, count,
						      flags, data);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* Masking single vectors is not offered (nor by upstream). */
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vdpci_set_msi_trigger(vdev, index, start, count,
						     flags, data);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER &&
		    pci_is_pcie(vdev->pdev))
			return vdpci_set_ctx_trigger(&vdev->err_trigger, count,
						     flags, data);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vdpci_set_ctx_trigger(&vdev->req_trigger, count,
						     flags, data);
		break;
	}
	return -ENOTTY;
}

/**
 * vdpci_ioctl_get_irq_info() - VFIO_DEVICE_GET_IRQ_INFO
 * @vdev: an open device
 * @arg: user's struct vfio_irq_info
 *
 * Return: 0, -EINVAL for a short argsz or an index the device has not
 * (ERR without PCI Express), -EFAULT.
 */
long vdpci_ioctl_get_irq_info(struct vdpci_core_device *vdev,
			      struct vfio_irq_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	if (info.index == VFIO_PCI_ERR_IRQ_INDEX && !pci_is_pcie(vdev->pdev))
		return -EINVAL;

	info.flags = VFIO_IRQ_INFO_EVENTFD;
	info.count = vdpci_irq_count(vdev, info.index);
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE |
			      VFIO_IRQ_INFO_AUTOMASKED;
	else if (info.index != VFIO_PCI_MSIX_IRQ_INDEX || !vdev->has_dyn_msix)
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/**
 * vdpci_ioctl_set_irqs() - VFIO_DEVICE_SET_IRQS
 * @vdev: an open device
 * @arg: user's struct vfio_irq_set and its data
 *
 * Return: 0; -EINVAL for a malformed request (argsz, flags, ranges, data
 * size) or one the interrupt's state does not allow; -ENOTTY for an action
 * an interrupt does not have; a positive count when MSI or MSI-X cannot
 * have as many vectors as asked (upstream's answer); or what enabling the
 * interrupt returned.
 */
long vdpci_ioctl_set_irqs(struct vdpci_core_device *vdev,
			  struct vfio_irq_set __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t size = 0;
	void *data = NULL;
	int max;
	long ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.index >= VFIO_PCI_NUM_IRQS ||
	    hdr.count >= U32_MAX - hdr.start ||
	    hdr.flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
			  VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;
	max = vdpci_irq_count(vdev, hdr.index);
	if (hdr.start >= max || hdr.start + hdr.count > max)
		return -EINVAL;
	switch (hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(u8);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(s32);
		break;
	default:
		return -EINVAL;
	}
	if (size) {
		if (hdr.argsz - minsz < hdr.count * size)
			return -EINVAL;
		if (hdr.count) {
			data = memdup_user(arg->data, hdr.count * size);
			if (IS_ERR(data))
				return PTR_ERR(data);
		}
	}

	mutex_lock(&vdev->igate);
	ret = vdpci_set_irqs(vdev, hdr.flags, hdr.index, hdr.start, hdr.count,
			     data);
	mutex_unlock(&vdev->igate);
	kfree(data);
	return ret;
}

/**
 * vdpci_irqs_init() - no interrupt on, at open
 * @vdev: the device
 */
void vdpci_irqs_init(struct vdpci_core_device *vdev)
{
	vdev->irq_type = VFIO_PCI_NUM_IRQS;
	vdev->irq_ctx = NULL;
	vdev->num_ctx = 0;
}

/**
 * vdpci_irqs_teardown() - turn every interrupt off and drop the eventfds
 * @vdev: the device being closed
 */
void vdpci_irqs_teardown(struct vdpci_core_device *vdev)
{
	mutex_lock(&vdev->igate);
	if (vdpci_is_intx(vdev))
		vdpci_intx_disable(vdev);
	else if (vdev->irq_type == VFIO_PCI_MSI_IRQ_INDEX)
		vdpci_msi_disable(vdev, false);
	else if (vdev->irq_type == VFIO_PCI_MSIX_IRQ_INDEX)
		vdpci_msi_disable(vdev, true);
	if (vdev->err_trigger)
		eventfd_ctx_put(vdev->err_trigger);
	if (vdev->req_trigger)
		eventfd_ctx_put(vdev->req_trigger);
	vdev->err_trigger = NULL;
	vdev->req_trigger = NULL;
	mutex_unlock(&vdev->igate);
}

/**
 * vdpci_irqs_request() - ask user space, through REQ, to let go
 * @vdev: the device being unbound
 *
 * Does not block: if SET_IRQS runs right now, the next request signals.
 *
 * Return: whether there was an eventfd to signal.
 */
bool vdpci_irqs_request(struct vdpci_core_device *vdev)
{
	bool signalled = false;

	if (!mutex_trylock(&vdev->igate))
		return false;
	if (vdev->req_trigger) {
		eventfd_signal(vdev->req_trigger);
		signalled = true;
	}
	mutex_unlock(&vdev->igate);
	return signalled;
}
