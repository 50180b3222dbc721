// SPDX-License-Identifier: GPL-2.0
/*
 * edu-vfio-pci: a variant driver for QEMU's edu device (1234:11e8) that adds
 * live migration, with dirty tracking of the device's DMA, to what the PCI
 * library gives every device.
 *
 * Built only on the library's exported API.  Its id table names the edu,
 * so its "vfio_pci:" alias is a more specific match for the edu than the
 * plain driver's, and it binds, like every vfiodev PCI driver, only
 * through driver_override.
 *
 * Migration is STOP_COPY: in STOP the device is quiet (no factorial being
 * computed, no DMA running), STOP_COPY hands user space a stream with the
 * registers software can observe, and RESUMING takes such a stream and
 * writes it into the device on the way to STOP.  The stream
 * (struct vdedu_state) is little endian, versioned and checked before
 * anything of it reaches the device: a malformed one changes nothing.
 *
 * Dirty tracking (VFIO_DEVICE_FEATURE_DMA_LOGGING_*) is what a device with
 * its own tracker offers, so that a VMM need not count all its memory
 * dirty: here the driver is the tracker.  The edu writes memory only when
 * its DMA command register starts a transfer to RAM, so BAR0 is trapped
 * (vdpci_core_trap_bar(): not mmapped, no ioeventfd) and every write that
 * reaches the command register is read before it goes to the device: a
 * transfer to RAM marks the pages of [dst, dst + cnt) that lie in the
 * tracked ranges, before it starts, at the address the device will use
 * (its 28-bit DMA mask applied).  Reading the marks clears them.
 *
 * The edu has no function reset.  This driver gives it one of its own:
 * VFIO_DEVICE_RESET writes the registers back to their power-on values
 * (and puts migration back in RUNNING), so the device is offered with
 * VFIO_DEVICE_FLAGS_RESET and a failed migration arc can always be left.
 * The direction and interrupt bits of the DMA command register cannot be
 * written without starting a transfer, so neither reset nor resume touch
 * them.
 *
 * Lock order: vfiodev_device::lock (open/close), then
 * vdedu_device::state_mutex (migration state, its data files, reset), then
 * vdedu_migf::lock, then the library's memory_lock (for write around the
 * arcs' and the reset's accesses to BAR0, vdpci_core_bar_begin_enabled();
 * for read around the others, vdpci_core_bar_begin(); user memory is never
 * touched under it).  vdedu_device::log_lock (dirty tracking) is taken
 * after vfiodev_device::lock and before memory_lock; the user's write is
 * copied under it, never under memory_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/io.h>
#include <linux/interval_tree.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/vfio.h>
#include <linux/xarray.h>

#include "../../../compat.h"
#include "vdpci_core.h"

/* BAR0 registers (QEMU hw/misc/edu.c). */
#define EDU_ID			0x00
#define EDU_LIVENESS		0x04
#define EDU_FACT		0x08
#define EDU_STATUS		0x20
#define EDU_STATUS_COMPUTING	BIT(0)
#define EDU_STATUS_IRQFACT	BIT(7)
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_CNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_DMA_RUN		BIT(0)
#define EDU_DMA_TO_RAM		BIT(1)
/* QEMU's edu masks DMA addresses to 28 bits, moves at most 4 KiB. */
#define EDU_DMA_MASK		(BIT_ULL(28) - 1)
#define EDU_DMA_MAX		4096

#define EDU_QUIESCE_US		(100 * USEC_PER_MSEC)

#define VDEDU_MAGIC		0x31554445	/* "EDU1" */
#define VDEDU_VERSION		1

/**
 * struct vdedu_state - the migration stream: edu's observable registers
 * @magic: VDEDU_MAGIC
 * @version: VDEDU_VERSION
 * @size: sizeof(struct vdedu_state)
 * @id: the identification register, which must match on resume
 * @liveness: what the liveness register reads (the complement of what
 *	was written last)
 * @fact: the factorial register
 * @status: the status register (interrupt-on-factorial bit; never
 *	computing, the device is stopped)
 * @irq_status: the interrupt status register
 * @dma_src: DMA source address
 * @dma_dst: DMA destination address
 * @dma_cnt: DMA byte count
 */
struct vdedu_state {
	__le32 magic;
	__le32 version;
	__le32 size;
	__le32 id;
	__le32 liveness;
	__le32 fact;
	__le32 status;
	__le32 irq_status;
	__le64 dma_src;
	__le64 dma_dst;
	__le64 dma_cnt;
};

/**
 * struct vdedu_migf - a migration data file
 * @filp: the file; it may outlive the device, and then only answers
 *	-ENODEV
 * @lock: serialises @buf, @len, @disabled against read/write and disable
 * @state: the stream
 * @len: bytes of @state produced (saving) or received (resuming)
 * @disabled: the device left the state this file belongs to
 */
struct vdedu_migf {
	struct file *filp;
	struct mutex lock;	/* see above */
	struct vdedu_state state;
	size_t len;
	bool disabled;
};

/**
 * struct vdedu_device - an edu given to user space
 * @core: the library's device; must stay the first member
 * @state_mutex: migration state, data files and reset
 * @mig_state: the current migration state
 * @saving: the STOP_COPY data file, or NULL
 * @resuming: the RESUMING data file, or NULL
 * @log_lock: protects the four below
 * @logging: DMA_LOGGING_START is in force
 * @log_nodes: the tracked IOVA ranges (an array, freed at stop)
 * @log_ranges: the same, as an interval tree
 * @dirty: the pages (IOVA >> PAGE_SHIFT) written since last reported
 */
struct vdedu_device {
	struct vdpci_core_device core;
	struct mutex state_mutex;	/* see above */
	enum vfio_device_mig_state mig_state;
	struct vdedu_migf *saving;
	struct vdedu_migf *resuming;
	struct mutex log_lock;	/* see above */
	bool logging;
	struct interval_tree_node *log_nodes;
	struct rb_root_cached log_ranges;
	struct xarray dirty;
};

static struct vdedu_device *to_edu(struct vfiodev_device *vdev)
{
	return container_of(vdev, struct vdedu_device, core.vdev);
}

/*
 * BAR0, under the library's memory_lock: no reset, and no change of memory
 * decoding, meets what the driver does to the registers.  For what user
 * space's own writes set off (the DMA commands logged): -EIO while user
 * space has memory decoding off, as its accesses get.  End with
 * vdpci_core_bar_end().
 */
static void __iomem *vdedu_bar(struct vdedu_device *edu)
{
	return vdpci_core_bar_begin(&edu->core, 0);
}

/*
 * BAR0 for the migration arcs and the reset, which a VMM takes whatever
 * its guest did to memory decoding: the library turns decoding on for the
 * duration, unseen by user space.  End with vdedu_state_bar_end().
 */
static void __iomem *vdedu_state_bar(struct vdedu_device *edu, u16 *cmd)
{
	return vdpci_core_bar_begin_enabled(&edu->core, 0, cmd);
}

static void vdedu_state_bar_end(struct vdedu_device *edu, u16 cmd)
{
	vdpci_core_bar_end_restore(&edu->core, cmd);
}

/* RUNNING -> STOP: wait until neither a factorial nor a DMA is running. */
static int vdedu_quiesce_locked(void __iomem *bar)
{
	u32 val;
	int ret;

	ret = readl_poll_timeout(bar + EDU_STATUS, val,
				 !(val & EDU_STATUS_COMPUTING), 100,
				 EDU_QUIESCE_US);
	if (ret)
		return ret;
	return readl_poll_timeout(bar + EDU_DMA_CMD, val,
				  !(val & EDU_DMA_RUN), 100, EDU_QUIESCE_US);
}

static int vdedu_quiesce(struct vdedu_device *edu)
{
	void __iomem *bar;
	int ret;
	u16 cmd;

	bar = vdedu_state_bar(edu, &cmd);
	if (IS_ERR(bar))
		return PTR_ERR(bar);
	ret = vdedu_quiesce_locked(bar);
	vdedu_state_bar_end(edu, cmd);
	return ret;
}

static void vdedu_save(struct vdedu_device *edu, void __iomem *bar,
		       struct vdedu_state *st)
{
	st->magic = cpu_to_le32(VDEDU_MAGIC);
	st->version = cpu_to_le32(VDEDU_VERSION);
	st->size = cpu_to_le32(sizeof(*st));
	st->id = cpu_to_le32(ioread32(bar + EDU_ID));
	st->liveness = cpu_to_le32(ioread32(bar + EDU_LIVENESS));
	st->fact = cpu_to_le32(ioread32(bar + EDU_FACT));
	st->status = cpu_to_le32(ioread32(bar + EDU_STATUS));
	st->irq_status = cpu_to_le32(ioread32(bar + EDU_IRQ_STATUS));
	st->dma_src = cpu_to_le64(readq(bar + EDU_DMA_SRC));
	st->dma_dst = cpu_to_le64(readq(bar + EDU_DMA_DST));
	st->dma_cnt = cpu_to_le64(readq(bar + EDU_DMA_CNT));
}

/*
 * The factorial register can only be set by computing: find the n whose
 * factorial, in the device's 32 bits, is @fact.  From 34 on it is 0.
 */
static int vdedu_fact_arg(u32 fact, u32 *n)
{
	u32 i, f = 1;

	for (i = 1; i <= 34; i++) {
		f *= i;
		if (f == fact) {
			*n = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int vdedu_state_check(const struct vdedu_state *st, size_t len,
			     u32 id, u32 *n)
{
	if (len != sizeof(*st) || le32_to_cpu(st->magic) != VDEDU_MAGIC ||
	    le32_to_cpu(st->version) != VDEDU_VERSION ||
	    le32_to_cpu(st->size) != sizeof(*st) ||
	    le32_to_cpu(st->id) != id)
		return -EINVAL;
	if (le32_to_cpu(st->status) & ~EDU_STATUS_IRQFACT)
		return -EINVAL;
	return vdedu_fact_arg(le32_to_cpu(st->fact), n);
}

/* RESUMING -> STOP: check the stream, then write it into the device. */
static int vdedu_load(struct vdedu_device *edu, struct vdedu_migf *migf)
{
	struct vdedu_state *st = &migf->state;
	void __iomem *bar;
	u32 n, val;
	int ret;
	u16 cmd;

	mutex_lock(&migf->lock);
	bar = vdedu_state_bar(edu, &cmd);
	if (IS_ERR(bar)) {
		ret = PTR_ERR(bar);
		goto out_unlock;
	}
	ret = vdedu_state_check(st, migf->len, ioread32(bar + EDU_ID), &n);
	if (ret)
		goto out_end;

	/* No interrupt for the factorial computed to restore it. */
	iowrite32(0, bar + EDU_STATUS);
	iowrite32(n, bar + EDU_FACT);
	ret = readl_poll_timeout(bar + EDU_STATUS, val,
				 !(val & EDU_STATUS_COMPUTING), 100,
				 EDU_QUIESCE_US);
	if (ret)
		goto out_end;
	iowrite32(le32_to_cpu(st->status), bar + EDU_STATUS);
	iowrite32(~le32_to_cpu(st->liveness), bar + EDU_LIVENESS);
	writeq(le64_to_cpu(st->dma_src), bar + EDU_DMA_SRC);
	writeq(le64_to_cpu(st->dma_dst), bar + EDU_DMA_DST);
	writeq(le64_to_cpu(st->dma_cnt), bar + EDU_DMA_CNT);
	iowrite32(U32_MAX, bar + EDU_IRQ_ACK);
	if (le32_to_cpu(st->irq_status))
		iowrite32(le32_to_cpu(st->irq_status), bar + EDU_IRQ_RAISE);
out_end:
	vdedu_state_bar_end(edu, cmd);
out_unlock:
	mutex_unlock(&migf->lock);
	return ret;
}

/* The registers as QEMU's edu has them after power-on. */
static int vdedu_soft_reset(struct vdedu_device *edu)
{
	void __iomem *bar;
	u32 val;
	int ret;
	u16 cmd;

	bar = vdedu_state_bar(edu, &cmd);
	if (IS_ERR(bar))
		return PTR_ERR(bar);
	ret = vdedu_quiesce_locked(bar);
	if (ret)
		goto out_end;
	iowrite32(0, bar + EDU_STATUS);
	/* 34! has 32 factors of two: the register reads 0 again. */
	iowrite32(34, bar + EDU_FACT);
	ret = readl_poll_timeout(bar + EDU_STATUS, val,
				 !(val & EDU_STATUS_COMPUTING), 100,
				 EDU_QUIESCE_US);
	if (ret)
		goto out_end;
	iowrite32(0, bar + EDU_LIVENESS);
	writeq(0, bar + EDU_DMA_SRC);
	writeq(0, bar + EDU_DMA_DST);
	writeq(0, bar + EDU_DMA_CNT);
	iowrite32(U32_MAX, bar + EDU_IRQ_ACK);
out_end:
	vdedu_state_bar_end(edu, cmd);
	return ret;
}

static ssize_t vdedu_save_read(struct file *filp, char __user *buf,
			       size_t len, loff_t *pos)
{
	struct vdedu_migf *migf = filp->private_data;
	ssize_t ret;

	/* A stream: no pread. */
	if (pos)
		return -ESPIPE;
	pos = &filp->f_pos;

	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (*pos >= migf->len) {
		ret = 0;
		goto out_unlock;
	}
	len = min_t(size_t, len, migf->len - *pos);
	if (copy_to_user(buf, (u8 *)&migf->state + *pos, len)) {
		ret = -EFAULT;
		goto out_unlock;
	}
	*pos += len;
	ret = len;
out_unlock:
	mutex_unlock(&migf->lock);
	return ret;
}

static ssize_t vdedu_resume_write(struct file *filp, const char __user *buf,
				  size_t len, loff_t *pos)
{
	struct vdedu_migf *migf = filp->private_data;
	ssize_t ret;

	if (pos)
		return -ESPIPE;
	pos = &filp->f_pos;

	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out_unlock;
	}
	/* More than a stream holds: it cannot be one. */
	if (*pos < 0 || *pos > sizeof(migf->state) ||
	    len > sizeof(migf->state) - *pos) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (copy_from_user((u8 *)&migf->state + *pos, buf, len)) {
		ret = -EFAULT;
		goto out_unlock;
	}
	*pos += len;
	migf->len = *pos;
	ret = len;
out_unlock:
	mutex_unlock(&migf->lock);
	return ret;
}

static int vdedu_migf_release(struct inode *inode, struct file *filp)
{
	struct vdedu_migf *migf = filp->private_data;

	mutex_destroy(&migf->lock);
	kfree(migf);
	return 0;
}

static const struct file_operations vdedu_save_fops = {
	.owner = THIS_MODULE,
	.read = vdedu_save_read,
	.release = vdedu_migf_release,
};

static const struct file_operations vdedu_resume_fops = {
	.owner = THIS_MODULE,
	.write = vdedu_resume_write,
	.release = vdedu_migf_release,
};

static struct vdedu_migf *vdedu_migf_create(struct vdedu_device *edu,
					    const struct file_operations *fops,
					    int mode)
{
	struct vdedu_migf *migf;

	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	mutex_init(&migf->lock);
	migf->filp = anon_inode_getfile("edu_vfio_pci_mig", fops, migf, mode);
	if (IS_ERR(migf->filp)) {
		struct file *err = migf->filp;

		mutex_destroy(&migf->lock);
		kfree(migf);
		return ERR_CAST(err);
	}
	stream_open(migf->filp->f_inode, migf->filp);
	/* One reference for user space (the fd), one for the device. */
	get_file(migf->filp);
	return migf;
}

/* The device leaves the file's state: user space's fd reads/writes no more. */
static void vdedu_migf_disable(struct vdedu_migf **pmigf)
{
	struct vdedu_migf *migf = *pmigf;

	if (!migf)
		return;
	mutex_lock(&migf->lock);
	migf->disabled = true;
	mutex_unlock(&migf->lock);
	fput(migf->filp);
	*pmigf = NULL;
}

static void vdedu_disable_files(struct vdedu_device *edu)
{
	vdedu_migf_disable(&edu->saving);
	vdedu_migf_disable(&edu->resuming);
}

/* One arc of the state machine, from edu->mig_state to @next. */
static struct file *vdedu_step(struct vdedu_device *edu,
			       enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = edu->mig_state;
	struct vdedu_migf *migf;
	struct vdedu_state st;
	void __iomem *bar;
	int ret;
	u16 cmd;

	if (cur == VFIO_DEVICE_STATE_RUNNING &&
	    next == VFIO_DEVICE_STATE_STOP) {
		ret = vdedu_quiesce(edu);
		return ret ? ERR_PTR(ret) : NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_RUNNING)
		return NULL;
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_STOP_COPY) {
		bar = vdedu_state_bar(edu, &cmd);
		if (IS_ERR(bar))
			return ERR_PTR(PTR_ERR(bar));
		vdedu_save(edu, bar, &st);
		vdedu_state_bar_end(edu, cmd);
		migf = vdedu_migf_create(edu, &vdedu_save_fops, O_RDONLY);
		if (IS_ERR(migf))
			return ERR_CAST(migf);
		migf->state = st;
		migf->len = sizeof(migf->state);
		edu->saving = migf;
		return migf->filp;
	}
	if (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	    next == VFIO_DEVICE_STATE_STOP) {
		vdedu_migf_disable(&edu->saving);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_RESUMING) {
		migf = vdedu_migf_create(edu, &vdedu_resume_fops, O_WRONLY);
		if (IS_ERR(migf))
			return ERR_CAST(migf);
		edu->resuming = migf;
		return migf->filp;
	}
	if (cur == VFIO_DEVICE_STATE_RESUMING &&
	    next == VFIO_DEVICE_STATE_STOP) {
		ret = vdedu_load(edu, edu->resuming);
		if (ret)
			return ERR_PTR(ret);
		vdedu_migf_disable(&edu->resuming);
		return NULL;
	}
	/* vfiodev_mig_get_next_state() gives no other arc. */
	return ERR_PTR(-EINVAL);
}

static struct file *vdedu_set_state(struct vfiodev_device *vdev,
				    enum vfio_device_mig_state target)
{
	struct vdedu_device *edu = to_edu(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&edu->state_mutex);
	while (edu->mig_state != target) {
		ret = vfiodev_mig_get_next_state(vdev, edu->mig_state, target,
						 &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = vdedu_step(edu, next);
		if (IS_ERR(res))
			break;
		edu->mig_state = next;
		/* A data file is only handed out by the last arc. */
		if (res && next != target) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	mutex_unlock(&edu->state_mutex);
	return res;
}

static int vdedu_get_state(struct vfiodev_device *vdev,
			   enum vfio_device_mig_state *state)
{
	struct vdedu_device *edu = to_edu(vdev);

	mutex_lock(&edu->state_mutex);
	*state = edu->mig_state;
	mutex_unlock(&edu->state_mutex);
	return 0;
}

static int vdedu_get_data_size(struct vfiodev_device *vdev,
			       unsigned long *len)
{
	*len = sizeof(struct vdedu_state);
	return 0;
}

static const struct vfiodev_migration_ops vdedu_mig_ops = {
	.set_state = vdedu_set_state,
	.get_state = vdedu_get_state,
	.get_data_size = vdedu_get_data_size,
};

/* Marks the pages of [iova, iova + len) that lie in a tracked range. */
static int vdedu_log_mark(struct vdedu_device *edu, u64 iova, u64 len)
{
	unsigned long first = iova >> PAGE_SHIFT;
	unsigned long last = (iova + len - 1) >> PAGE_SHIFT;
	unsigned long idx;
	int ret;

	lockdep_assert_held(&edu->log_lock);
	for (idx = first; idx <= last; idx++) {
		unsigned long start = idx << PAGE_SHIFT;

		if (!interval_tree_iter_first(&edu->log_ranges, start,
					      start + PAGE_SIZE - 1))
			continue;
		ret = xa_err(xa_store(&edu->dirty, idx, xa_mk_value(0),
				      GFP_KERNEL_ACCOUNT));
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A write of [pos, pos + count) of BAR0 that reaches the DMA command
 * register: the registers of the transfer as the device will see them
 * (what it holds, with what this write changes), and the pages it will
 * write if it is one to RAM.  Before the write goes on, so that no
 * transfer runs unseen.
 */
static int vdedu_log_dma(struct vdedu_device *edu, const char __user *buf,
			 size_t count, loff_t pos)
{
	loff_t from = max_t(loff_t, pos, EDU_DMA_DST);
	loff_t to = min_t(loff_t, pos + count, EDU_DMA_CMD + sizeof(u32));
	u8 regs[EDU_DMA_CMD + sizeof(u32) - EDU_DMA_DST];
	void __iomem *bar;
	u64 dst, cnt;
	u32 cmd;

	lockdep_assert_held(&edu->log_lock);
	bar = vdedu_bar(edu);
	if (IS_ERR(bar))
		return PTR_ERR(bar);
	put_unaligned_le64(readq(bar + EDU_DMA_DST), regs);
	put_unaligned_le64(readq(bar + EDU_DMA_CNT),
			   regs + EDU_DMA_CNT - EDU_DMA_DST);
	put_unaligned_le32(readl(bar + EDU_DMA_CMD),
			   regs + EDU_DMA_CMD - EDU_DMA_DST);
	vdpci_core_bar_end(&edu->core);

	if (copy_from_user(regs + (from - EDU_DMA_DST), buf + (from - pos),
			   to - from))
		return -EFAULT;
	dst = get_unaligned_le64(regs);
	cnt = get_unaligned_le64(regs + EDU_DMA_CNT - EDU_DMA_DST);
	cmd = get_unaligned_le32(regs + EDU_DMA_CMD - EDU_DMA_DST);
	if (!(cmd & EDU_DMA_RUN) || !(cmd & EDU_DMA_TO_RAM) || !cnt)
		return 0;
	return vdedu_log_mark(edu, dst & EDU_DMA_MASK,
			      min_t(u64, cnt, EDU_DMA_MAX));
}

/* write(2) of the device file: BAR0's DMA commands seen while logging. */
static ssize_t vdedu_write(struct vfiodev_device *vdev, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	struct vdedu_device *edu = to_edu(vdev);
	loff_t pos = *ppos & VDPCI_OFFSET_MASK;
	int ret;

	if (VDPCI_OFFSET_TO_INDEX(*ppos) == VFIO_PCI_BAR0_REGION_INDEX &&
	    count && pos < EDU_DMA_CMD + sizeof(u32) &&
	    pos + count > EDU_DMA_CMD) {
		mutex_lock(&edu->log_lock);
		ret = edu->logging ? vdedu_log_dma(edu, buf, count, pos) : 0;
		mutex_unlock(&edu->log_lock);
		if (ret)
			return ret;
	}
	return vdpci_core_write(vdev, buf, count, ppos);
}

/*
 * Tracks at PAGE_SIZE or the larger power of two asked for; the core turns
 * the marks into the page size of each report.
 */
static int vdedu_log_start(struct vfiodev_device *vdev,
			   struct rb_root_cached *ranges, u32 nnodes,
			   u64 *page_size)
{
	struct vdedu_device *edu = to_edu(vdev);
	struct interval_tree_node *node, *copy;
	u32 i = 0;
	int ret = 0;

	if (*page_size > BIT_ULL(63))
		return -EINVAL;
	copy = kcalloc(nnodes, sizeof(*copy), GFP_KERNEL_ACCOUNT);
	if (!copy)
		return -ENOMEM;

	mutex_lock(&edu->log_lock);
	if (edu->logging) {
		ret = -EINVAL;
		kfree(copy);
		goto out_unlock;
	}
	/* The core's tree lives only for the call: ours, the same ranges. */
	for (node = interval_tree_iter_first(ranges, 0, ULONG_MAX);
	     node && i < nnodes;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX), i++) {
		copy[i].start = node->start;
		copy[i].last = node->last;
		interval_tree_insert(&copy[i], &edu->log_ranges);
	}
	if (*page_size <= PAGE_SIZE)
		*page_size = PAGE_SIZE;
	else
		*page_size = roundup_pow_of_two(*page_size);
	edu->log_nodes = copy;
	edu->logging = true;
out_unlock:
	mutex_unlock(&edu->log_lock);
	return ret;
}

static int vdedu_log_stop(struct vfiodev_device *vdev)
{
	struct vdedu_device *edu = to_edu(vdev);

	mutex_lock(&edu->log_lock);
	edu->logging = false;
	edu->log_ranges = RB_ROOT_CACHED;
	kfree(edu->log_nodes);
	edu->log_nodes = NULL;
	xa_destroy(&edu->dirty);
	mutex_unlock(&edu->log_lock);
	return 0;
}

/* The marks in [iova, iova + length), cleared for the pages wholly in it. */
static int vdedu_log_read_and_clear(struct vfiodev_device *vdev,
				    unsigned long iova, unsigned long length,
				    struct vfiodev_dirty *dirty)
{
	struct vdedu_device *edu = to_edu(vdev);
	unsigned long last = iova + length - 1, idx;
	void *entry;
	int ret = 0;

	mutex_lock(&edu->log_lock);
	if (!edu->logging) {
		ret = -EINVAL;
		goto out_unlock;
	}
	xa_for_each_range(&edu->dirty, idx, entry, iova >> PAGE_SHIFT,
			  last >> PAGE_SHIFT) {
		unsigned long start = idx << PAGE_SHIFT;

		vfiodev_dirty_set(dirty, start, PAGE_SIZE);
		if (start >= iova && start + PAGE_SIZE - 1 <= last)
			xa_erase(&edu->dirty, idx);
	}
out_unlock:
	mutex_unlock(&edu->log_lock);
	return ret;
}

static const struct vfiodev_log_ops vdedu_log_ops = {
	.log_start = vdedu_log_start,
	.log_stop = vdedu_log_stop,
	.log_read_and_clear = vdedu_log_read_and_clear,
};

static int vdedu_init_dev(struct vfiodev_device *vdev)
{
	struct vdedu_device *edu = to_edu(vdev);

	mutex_init(&edu->state_mutex);
	mutex_init(&edu->log_lock);
	edu->log_ranges = RB_ROOT_CACHED;
	xa_init(&edu->dirty);
	vdev->mig_ops = &vdedu_mig_ops;
	vdev->migration_flags = VFIO_MIGRATION_STOP_COPY;
	vdev->log_ops = &vdedu_log_ops;
	return vdpci_core_init_dev(vdev);
}

static void vdedu_release_dev(struct vfiodev_device *vdev)
{
	struct vdedu_device *edu = to_edu(vdev);

	mutex_destroy(&edu->log_lock);
	mutex_destroy(&edu->state_mutex);
}

static int vdedu_open_device(struct vfiodev_device *vdev)
{
	struct vdedu_device *edu = to_edu(vdev);
	int ret;

	ret = vdpci_core_open_device(vdev);
	if (ret)
		return ret;
	mutex_lock(&edu->state_mutex);
	edu->mig_state = VFIO_DEVICE_STATE_RUNNING;
	mutex_unlock(&edu->state_mutex);
	return 0;
}

static void vdedu_close_device(struct vfiodev_device *vdev)
{
	struct vdedu_device *edu = to_edu(vdev);

	mutex_lock(&edu->state_mutex);
	vdedu_disable_files(edu);
	mutex_unlock(&edu->state_mutex);
	vdedu_log_stop(vdev);
	vdpci_core_close_device(vdev);
}

/*
 * VFIO_DEVICE_RESET: the PCI reset if there is one, the edu's own
 * otherwise; either puts migration back in RUNNING, which is how user
 * space leaves a failed arc.
 */
static long vdedu_ioctl(struct vfiodev_device *vdev, unsigned int cmd,
			unsigned long arg)
{
	struct vdedu_device *edu = to_edu(vdev);
	long ret;

	if (cmd != VFIO_DEVICE_RESET)
		return vdpci_core_ioctl(vdev, cmd, arg);

	mutex_lock(&edu->state_mutex);
	if (vdpci_core_function_reset(&edu->core))
		ret = vdpci_core_ioctl(vdev, cmd, arg);
	else
		ret = vdedu_soft_reset(edu);
	if (!ret) {
		vdedu_disable_files(edu);
		edu->mig_state = VFIO_DEVICE_STATE_RUNNING;
	}
	mutex_unlock(&edu->state_mutex);
	return ret;
}

static const struct vfiodev_device_ops vdedu_ops = {
	.name = KBUILD_MODNAME,
	.init = vdedu_init_dev,
	.release = vdedu_release_dev,
	.request = vdpci_core_request,
	.open_device = vdedu_open_device,
	.close_device = vdedu_close_device,
	.ioctl = vdedu_ioctl,
	.device_feature = vdpci_core_ioctl_feature,
	.read = vdpci_core_read,
	.write = vdedu_write,
	.mmap = vdpci_core_mmap,
};

static const struct pci_device_id vdedu_table[];

static int vdedu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vdedu_device *edu;
	int ret;

	/*
	 * driver_override makes the PCI core probe us for any device, with a
	 * catch-all @id: edu code must never run on another one.
	 */
	if (!pci_match_id(vdedu_table, pdev)) {
		pci_info(pdev, "%04x:%04x is not an edu device, refusing it\n",
			 pdev->vendor, pdev->device);
		return -ENODEV;
	}

	edu = vfiodev_alloc_device(struct vdedu_device, core.vdev, &pdev->dev,
				   &vdedu_ops);
	if (IS_ERR(edu))
		return PTR_ERR(edu);
	dev_set_drvdata(&pdev->dev, edu);
	/* The edu has no PCI reset: VFIO_DEVICE_RESET is the driver's own. */
	vdpci_core_set_own_reset(&edu->core);
	/* Every DMA command passes the driver (dirty tracking). */
	vdpci_core_trap_bar(&edu->core, 0);
	ret = vdpci_core_register_device(&edu->core);
	if (ret)
		goto out_put;
	return 0;

out_put:
	vfiodev_put_device(&edu->core.vdev);
	return ret;
}

static void vdedu_remove(struct pci_dev *pdev)
{
	struct vdedu_device *edu = dev_get_drvdata(&pdev->dev);

	vdpci_core_unregister_device(&edu->core);
	vfiodev_put_device(&edu->core.vdev);
}

static const struct pci_device_id vdedu_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(0x1234, 0x11e8) },
	{}
};
MODULE_DEVICE_TABLE(pci, vdedu_table);

static struct pci_driver vdedu_driver = {
	.name = KBUILD_MODNAME,
	.id_table = vdedu_table,
	.probe = vdedu_probe,
	.remove = vdedu_remove,
	.driver = {
		.pm = &vdpci_core_pm_ops,
	},
	.driver_managed_dma = true,
};
module_pci_driver(vdedu_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("edu-vfio-pci (vfiodev): QEMU's edu device for user space, with live migration");
MODULE_IMPORT_NS(VFIODEV_NS);
MODULE_IMPORT_NS(VFIODEV_PCI_CORE_NS);
