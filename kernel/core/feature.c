// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev core: VFIO_DEVICE_FEATURE and the migration state machine.
 *
 * The core checks the command's format and serves the migration features
 * for drivers that provide &vfiodev_migration_ops and the DMA logging
 * features for drivers that provide &vfiodev_log_ops; every other feature
 * goes to the driver's device_feature callback (a PCI driver's chains to
 * vdpci_core_ioctl_feature()).  The state machine is the
 * one of <linux/vfio.h>: user space names the state it wants, and the core
 * walks the driver through the arcs it implements, one at a time.  Only
 * STOP_COPY migration (RUNNING, STOP, STOP_COPY, RESUMING) is served; a
 * driver that sets more flags gets -EINVAL at registration.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/interval_tree.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "../compat.h"
#include "vfiodev_priv.h"

/**
 * vfiodev_check_feature() - check a VFIO_DEVICE_FEATURE request
 * @flags: the request's flags
 * @argsz: bytes of user data after struct vfio_device_feature
 * @supported_ops: VFIO_DEVICE_FEATURE_GET and/or _SET, what the feature
 *	offers
 * @minsz: bytes of data the feature needs
 *
 * Return: 0 for a PROBE the feature answers (nothing more to do), 1 when
 * the caller should go on with the GET or SET, -EINVAL otherwise.
 */
int vfiodev_check_feature(u32 flags, size_t argsz, u32 supported_ops,
			  size_t minsz)
{
	u32 ops = flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET);

	if (ops & ~supported_ops)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!ops)
		return -EINVAL;
	if (argsz < minsz)
		return -EINVAL;
	return 1;
}
EXPORT_SYMBOL_NS_GPL(vfiodev_check_feature, VFIODEV_NS);

/* The four states of STOP_COPY migration, the only kind served. */
static bool vfiodev_mig_state_valid(u32 state)
{
	switch (state) {
	case VFIO_DEVICE_STATE_RUNNING:
	case VFIO_DEVICE_STATE_STOP:
	case VFIO_DEVICE_STATE_STOP_COPY:
	case VFIO_DEVICE_STATE_RESUMING:
		return true;
	default:
		return false;
	}
}

/**
 * vfiodev_mig_get_next_state() - the next arc towards a migration state
 * @vdev: the device
 * @cur: the state it is in
 * @target: the state user space asked for
 * @next: set to the state the driver should go to now
 *
 * Every arc goes through STOP: RUNNING, STOP_COPY and RESUMING are reached
 * from STOP and left to STOP.  A driver's set_state callback calls this in
 * a loop, doing one arc each time, until it reaches @target.
 *
 * Return: 0, or -EINVAL if @target is not a state the device can be put
 * in (P2P, PRE_COPY and ERROR are not) or the device is in ERROR.
 */
int vfiodev_mig_get_next_state(struct vfiodev_device *vdev,
			       enum vfio_device_mig_state cur,
			       enum vfio_device_mig_state target,
			       enum vfio_device_mig_state *next)
{
	if (!vfiodev_mig_state_valid(cur) || !vfiodev_mig_state_valid(target))
		return -EINVAL;
	if (cur == target || cur == VFIO_DEVICE_STATE_STOP)
		*next = target;
	else
		*next = VFIO_DEVICE_STATE_STOP;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(vfiodev_mig_get_next_state, VFIODEV_NS);

/**
 * vfiodev_check_migration_ops() - registration check of a driver's support
 * @vdev: the device being registered
 *
 * Checks &vfiodev_device.mig_ops and &vfiodev_device.log_ops.
 *
 * Return: 0, or -EINVAL for incomplete ops or flags the core cannot serve.
 */
int vfiodev_check_migration_ops(struct vfiodev_device *vdev)
{
	const struct vfiodev_migration_ops *mig = vdev->mig_ops;
	const struct vfiodev_log_ops *log = vdev->log_ops;

	if (log && (!log->log_start || !log->log_stop ||
		    !log->log_read_and_clear))
		return -EINVAL;
	if (!mig)
		return 0;
	if (!mig->set_state || !mig->get_state ||
	    vdev->migration_flags != VFIO_MIGRATION_STOP_COPY)
		return -EINVAL;
	return 0;
}

static int vfiodev_feature_migration(struct vfiodev_device *vdev, u32 flags,
				     void __user *arg, size_t argsz)
{
	struct vfio_device_feature_migration mig = {
		.flags = vdev->migration_flags,
	};
	int ret;

	if (!vdev->mig_ops)
		return -ENOTTY;
	ret = vfiodev_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				    sizeof(mig));
	if (ret != 1)
		return ret;
	return copy_to_user(arg, &mig, sizeof(mig)) ? -EFAULT : 0;
}

/* Gives user space the data file of the new state, or drops it. */
static int vfiodev_mig_install_fd(struct file *filp,
				  struct vfio_device_feature_mig_state __user *arg,
				  struct vfio_device_feature_mig_state *mig)
{
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		fput(filp);
		return fd;
	}
	mig->data_fd = fd;
	if (copy_to_user(arg, mig, sizeof(*mig))) {
		put_unused_fd(fd);
		fput(filp);
		return -EFAULT;
	}
	fd_install(fd, filp);
	return 0;
}

static int vfiodev_feature_mig_device_state(struct vfiodev_device *vdev,
					    u32 flags, void __user *arg,
					    size_t argsz)
{
	struct vfio_device_feature_mig_state mig;
	enum vfio_device_mig_state state;
	struct file *filp;
	int ret;

	if (!vdev->mig_ops)
		return -ENOTTY;
	ret = vfiodev_check_feature(flags, argsz,
				    VFIO_DEVICE_FEATURE_GET |
				    VFIO_DEVICE_FEATURE_SET, sizeof(mig));
	if (ret != 1)
		return ret;
	if (copy_from_user(&mig, arg, sizeof(mig)))
		return -EFAULT;

	if (flags & VFIO_DEVICE_FEATURE_GET) {
		ret = vdev->mig_ops->get_state(vdev, &state);
		if (ret)
			return ret;
		mig.device_state = state;
		mig.data_fd = -1;
		return copy_to_user(arg, &mig, sizeof(mig)) ? -EFAULT : 0;
	}

	filp = vdev->mig_ops->set_state(vdev, mig.device_state);
	if (filp && !IS_ERR(filp))
		return vfiodev_mig_install_fd(filp, arg, &mig);
	mig.data_fd = -1;
	if (copy_to_user(arg, &mig, sizeof(mig)))
		return -EFAULT;
	return PTR_ERR_OR_ZERO(filp);
}

static int vfiodev_feature_mig_data_size(struct vfiodev_device *vdev,
					 u32 flags, void __user *arg,
					 size_t argsz)
{
	struct vfio_device_feature_mig_data_size size = {};
	unsigned long len;
	int ret;

	if (!vdev->mig_ops)
		return -ENOTTY;
	if (!vdev->mig_ops->get_data_size)
		return -ENOTTY;
	ret = vfiodev_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				    sizeof(size));
	if (ret != 1)
		return ret;
	ret = vdev->mig_ops->get_data_size(vdev, &len);
	if (ret)
		return ret;
	size.stop_copy_length = len;
	return copy_to_user(arg, &size, sizeof(size)) ? -EFAULT : 0;
}

/* As upstream: at most this many ranges per DMA_LOGGING_START. */
#define VFIODEV_LOG_MAX_RANGES		256

/* A report is gathered this many pages (bits) at a time. */
#define VFIODEV_DIRTY_CHUNK_BITS	(SZ_32K * BITS_PER_BYTE)

/**
 * struct vfiodev_dirty - the part of a dirty report being gathered
 * @iova: the IOVA of bit 0 of @bits
 * @length: the bytes @bits covers
 * @pgshift: log2 of the report's page size
 * @bits: one bit per page, in kernel memory
 */
struct vfiodev_dirty {
	unsigned long iova;
	unsigned long length;
	unsigned int pgshift;
	unsigned long *bits;
};

/**
 * vfiodev_dirty_set() - report DMA written to part of the IOVA space
 * @dirty: what &vfiodev_log_ops.log_read_and_clear was given
 * @iova: first byte written
 * @length: bytes written, not zero
 *
 * Marks every page of the report that [@iova, @iova + @length) touches;
 * what lies outside the part being gathered is ignored.  Touches no user
 * memory and takes no lock.
 */
void vfiodev_dirty_set(struct vfiodev_dirty *dirty, unsigned long iova,
		       unsigned long length)
{
	unsigned long last = dirty->iova + dirty->length - 1;
	unsigned long end;

	if (!length)
		return;
	if (check_add_overflow(iova, length - 1, &end))
		end = ULONG_MAX;
	if (end < dirty->iova || iova > last)
		return;
	iova = max(iova, dirty->iova);
	end = min(end, last);
	bitmap_set(dirty->bits, (iova - dirty->iova) >> dirty->pgshift,
		   ((end - dirty->iova) >> dirty->pgshift) -
		   ((iova - dirty->iova) >> dirty->pgshift) + 1);
}
EXPORT_SYMBOL_NS_GPL(vfiodev_dirty_set, VFIODEV_NS);

static int vfiodev_feature_logging_start(struct vfiodev_device *vdev,
					 u32 flags, void __user *arg,
					 size_t argsz)
{
	size_t minsz = offsetofend(struct vfio_device_feature_dma_logging_control,
				   ranges);
	struct vfio_device_feature_dma_logging_range __user *uranges;
	struct vfio_device_feature_dma_logging_control control;
	struct vfio_device_feature_dma_logging_range range;
	struct rb_root_cached root = RB_ROOT_CACHED;
	struct interval_tree_node *nodes;
	u64 end;
	u32 i;
	int ret;

	if (!vdev->log_ops)
		return -ENOTTY;
	ret = vfiodev_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				    sizeof(control));
	if (ret != 1)
		return ret;
	if (copy_from_user(&control, arg, minsz))
		return -EFAULT;
	/* Upstream ignores __reserved; here it must be 0 (differences.rst). */
	if (!control.num_ranges || control.__reserved)
		return -EINVAL;
	if (control.num_ranges > VFIODEV_LOG_MAX_RANGES)
		return -E2BIG;

	nodes = kmalloc_array(control.num_ranges, sizeof(*nodes), GFP_KERNEL);
	if (!nodes)
		return -ENOMEM;
	uranges = u64_to_user_ptr(control.ranges);
	for (i = 0; i < control.num_ranges; i++) {
		ret = -EFAULT;
		if (copy_from_user(&range, &uranges[i], sizeof(range)))
			goto out_free;
		/* An empty range is refused too (upstream lets it wrap). */
		ret = -EINVAL;
		if (!range.length ||
		    !IS_ALIGNED(range.iova, control.page_size) ||
		    !IS_ALIGNED(range.length, control.page_size))
			goto out_free;
		ret = -EOVERFLOW;
		if (check_add_overflow(range.iova, range.length, &end) ||
		    end > ULONG_MAX)
			goto out_free;
		nodes[i].start = range.iova;
		nodes[i].last = range.iova + range.length - 1;
		ret = -EINVAL;
		if (interval_tree_iter_first(&root, nodes[i].start,
					     nodes[i].last))
			goto out_free;
		interval_tree_insert(&nodes[i], &root);
	}

	ret = vdev->log_ops->log_start(vdev, &root, control.num_ranges,
				       &control.page_size);
	if (ret)
		goto out_free;
	/* The page size the device tracks with goes back. */
	if (copy_to_user(arg, &control, sizeof(control))) {
		vdev->log_ops->log_stop(vdev);
		ret = -EFAULT;
	}
out_free:
	kfree(nodes);
	return ret;
}

static int vfiodev_feature_logging_stop(struct vfiodev_device *vdev,
					u32 flags, size_t argsz)
{
	int ret;

	if (!vdev->log_ops)
		return -ENOTTY;
	ret = vfiodev_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);
	if (ret != 1)
		return ret;
	return vdev->log_ops->log_stop(vdev);
}

/*
 * ORs the gathered bits of @dirty into the user's bitmap, whose bit 0 is
 * the report's first page; @word is the u64 of it that @dirty starts at.
 */
static int vfiodev_dirty_to_user(const struct vfiodev_dirty *dirty,
				 u64 __user *ubitmap, unsigned long word)
{
	unsigned long nbits = DIV_ROUND_UP(dirty->length, 1UL << dirty->pgshift);
	unsigned long i, n = DIV_ROUND_UP(nbits, 64);
	u64 val, old;

	for (i = 0; i < n; i++) {
		bitmap_to_arr64(&val, dirty->bits + i * 64 / BITS_PER_LONG,
				64);
		if (!val)
			continue;
		if (get_user(old, ubitmap + word + i))
			return -EFAULT;
		if (put_user(old | val, ubitmap + word + i))
			return -EFAULT;
	}
	return 0;
}

static int vfiodev_feature_logging_report(struct vfiodev_device *vdev,
					  u32 flags, void __user *arg,
					  size_t argsz)
{
	size_t minsz = offsetofend(struct vfio_device_feature_dma_logging_report,
				   bitmap);
	struct vfio_device_feature_dma_logging_report report;
	struct vfiodev_dirty dirty;
	unsigned long chunk, done;
	u64 end;
	int ret;

	if (!vdev->log_ops)
		return -ENOTTY;
	ret = vfiodev_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				    sizeof(report));
	if (ret != 1)
		return ret;
	if (copy_from_user(&report, arg, minsz))
		return -EFAULT;
	if (report.page_size < SZ_4K || !is_power_of_2(report.page_size))
		return -EINVAL;
	if (check_add_overflow(report.iova, report.length, &end) ||
	    end > ULONG_MAX)
		return -EOVERFLOW;

	dirty.pgshift = __ffs64(report.page_size);
	dirty.bits = bitmap_zalloc(VFIODEV_DIRTY_CHUNK_BITS, GFP_KERNEL);
	if (!dirty.bits)
		return -ENOMEM;
	/* Whole u64s of the user's bitmap at a time, the driver unlocked. */
	chunk = VFIODEV_DIRTY_CHUNK_BITS;
	ret = 0;
	for (done = 0; done < report.length && !ret;
	     done += dirty.length) {
		dirty.iova = report.iova + done;
		dirty.length = min_t(u64, report.length - done,
				     (u64)chunk << dirty.pgshift);
		bitmap_zero(dirty.bits, VFIODEV_DIRTY_CHUNK_BITS);
		ret = vdev->log_ops->log_read_and_clear(vdev, dirty.iova,
							dirty.length, &dirty);
		if (!ret)
			ret = vfiodev_dirty_to_user(&dirty,
						    u64_to_user_ptr(report.bitmap),
						    (done >> dirty.pgshift) / 64);
		cond_resched();
	}
	bitmap_free(dirty.bits);
	return ret;
}

/**
 * vfiodev_ioctl_device_feature() - VFIO_DEVICE_FEATURE of a bound file
 * @vdev: the device
 * @arg: the user's struct vfio_device_feature and its data
 *
 * Return: what the feature answers; -EINVAL for a malformed request,
 * -ENOTTY for a feature the device does not have.
 */
long vfiodev_ioctl_device_feature(struct vfiodev_device *vdev,
				  struct vfio_device_feature __user *arg)
{
	size_t minsz = offsetofend(struct vfio_device_feature, flags);
	struct vfio_device_feature feature;
	size_t argsz;

	if (copy_from_user(&feature, arg, minsz))
		return -EFAULT;
	if (feature.argsz < minsz)
		return -EINVAL;
	if (feature.flags & ~(VFIO_DEVICE_FEATURE_MASK |
			      VFIO_DEVICE_FEATURE_GET |
			      VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	/* GET and SET together only to probe for both. */
	if (!(feature.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_GET) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_SET))
		return -EINVAL;
	argsz = feature.argsz - minsz;

	switch (feature.flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
		return vfiodev_feature_migration(vdev, feature.flags,
						 arg->data, argsz);
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
		return vfiodev_feature_mig_device_state(vdev, feature.flags,
							arg->data, argsz);
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return vfiodev_feature_mig_data_size(vdev, feature.flags,
						     arg->data, argsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
		return vfiodev_feature_logging_start(vdev, feature.flags,
						     arg->data, argsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
		return vfiodev_feature_logging_stop(vdev, feature.flags, argsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		return vfiodev_feature_logging_report(vdev, feature.flags,
						      arg->data, argsz);
	default:
		if (!vdev->ops->device_feature)
			return -ENOTTY;
		return vdev->ops->device_feature(vdev, feature.flags,
						 arg->data, argsz);
	}
}
