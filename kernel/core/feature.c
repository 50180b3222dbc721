// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev core: VFIO_DEVICE_FEATURE and the migration state machine.
 *
 * The core checks the command's format and serves the migration features
 * for drivers that provide &vfiodev_migration_ops; every other feature
 * goes to the driver's device_feature callback.  The state machine is the
 * one of <linux/vfio.h>: user space names the state it wants, and the core
 * walks the driver through the arcs it implements, one at a time.  Only
 * STOP_COPY migration (RUNNING, STOP, STOP_COPY, RESUMING) is served; a
 * driver that sets more flags gets -EINVAL at registration.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
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
 * Return: 0, or -EINVAL for incomplete ops or flags the core cannot serve.
 */
int vfiodev_check_migration_ops(struct vfiodev_device *vdev)
{
	const struct vfiodev_migration_ops *mig = vdev->mig_ops;

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
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		/* No device here tracks the pages it dirties. */
		return -ENOTTY;
	default:
		if (!vdev->ops->device_feature)
			return -ENOTTY;
		return vdev->ops->device_feature(vdev, feature.flags,
						 arg->data, argsz);
	}
}
