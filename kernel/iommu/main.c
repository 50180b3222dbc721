// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd (vfiodev): /dev/iommu, an iommufd-compatible I/O address space
 * engine.
 *
 * This file owns the context (one per open file), its object table and the
 * ioctl dispatch.  The uAPI is upstream Linux 6.12's <linux/iommufd.h>,
 * unchanged, plus vfiodev's own commands from <linux/vfiodev.h> under
 * another ioctl magic.  The node name is upstream's too, so this module
 * refuses to load while upstream's iommufd.ko is present.  It also serves
 * /dev/vfio/vfio, the legacy container, from the same engine (as upstream
 * can, CONFIG_IOMMUFD_VFIO_CONTAINER): it refuses to load beside
 * upstream's vfio.ko too.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vfiodev.h>

#include "../compat.h"
#include "vdiommu_priv.h"

struct vdiommu_object_ops {
	void (*destroy)(struct vdiommu_object *obj);
};

static const struct vdiommu_object_ops vdiommu_object_ops[] = {
	[VDIOMMU_OBJ_DEVICE] = { .destroy = vdiommu_device_destroy },
	[VDIOMMU_OBJ_HWPT] = { .destroy = vdiommu_hwpt_destroy },
	[VDIOMMU_OBJ_IOAS] = { .destroy = vdiommu_ioas_destroy },
};

/**
 * _vdiommu_object_alloc() - reserve an ID for a new object
 * @ictx: the context
 * @size: size of the object's structure, which starts with the object
 * @type: enum vdiommu_object_type
 *
 * Lookups of the ID fail until vdiommu_object_finalize().
 *
 * Return: the zeroed object or an ERR_PTR().
 */
struct vdiommu_object *_vdiommu_object_alloc(struct vdiommu_ctx *ictx,
					     size_t size,
					     enum vdiommu_object_type type)
{
	struct vdiommu_object *obj;
	int ret;

	obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	refcount_set(&obj->shortterm_users, 1);
	refcount_set(&obj->users, 1);
	/* IDs start at 1: 0 is never a valid ID in the uAPI. */
	ret = xa_alloc(&ictx->objects, &obj->id, XA_ZERO_ENTRY,
		       XA_LIMIT(1, U32_MAX), GFP_KERNEL_ACCOUNT);
	if (ret) {
		kfree(obj);
		return ERR_PTR(ret);
	}
	return obj;
}

/**
 * vdiommu_object_finalize() - publish an object
 * @ictx: the context
 * @obj: from vdiommu_object_alloc(); nothing may fail after this
 */
void vdiommu_object_finalize(struct vdiommu_ctx *ictx,
			     struct vdiommu_object *obj)
{
	void *old;

	old = xa_store(&ictx->objects, obj->id, obj, GFP_KERNEL);
	/* The slot was reserved, so the store cannot allocate or fail. */
	WARN_ON(old);
}

/**
 * vdiommu_object_abort() - destroy an object that was never published
 * @ictx: the context
 * @obj: from vdiommu_object_alloc()
 */
void vdiommu_object_abort(struct vdiommu_ctx *ictx, struct vdiommu_object *obj)
{
	xa_erase(&ictx->objects, obj->id);
	vdiommu_object_ops[obj->type].destroy(obj);
	kfree(obj);
}

/**
 * vdiommu_get_object() - look up a published object for an ioctl
 * @ictx: the context
 * @id: the ID
 * @type: the type wanted, or VDIOMMU_OBJ_ANY
 *
 * Return: the object with a short-term reference, or ERR_PTR(-ENOENT).
 */
struct vdiommu_object *vdiommu_get_object(struct vdiommu_ctx *ictx, u32 id,
					  enum vdiommu_object_type type)
{
	struct vdiommu_object *obj;

	xa_lock(&ictx->objects);
	obj = xa_load(&ictx->objects, id);
	if (!obj || (type != VDIOMMU_OBJ_ANY && obj->type != type) ||
	    !vdiommu_lock_obj(ictx, obj))
		obj = ERR_PTR(-ENOENT);
	xa_unlock(&ictx->objects);
	return obj;
}

/**
 * vdiommu_lock_obj() - take what vdiommu_get_object() takes, on an object
 *	found some other way
 * @ictx: the context, its objects xarray locked
 * @obj: a published object of @ictx, found under that lock
 *
 * Return: false if the object is being destroyed.
 */
bool vdiommu_lock_obj(struct vdiommu_ctx *ictx, struct vdiommu_object *obj)
{
	lockdep_assert_held(&ictx->objects.xa_lock);
	if (!refcount_inc_not_zero(&obj->users))
		return false;
	if (!refcount_inc_not_zero(&obj->shortterm_users)) {
		refcount_dec(&obj->users);
		return false;
	}
	return true;
}

/**
 * vdiommu_put_object() - drop what vdiommu_get_object() took
 * @ictx: the context
 * @obj: the object
 */
void vdiommu_put_object(struct vdiommu_ctx *ictx, struct vdiommu_object *obj)
{
	refcount_dec(&obj->users);
	if (refcount_dec_and_test(&obj->shortterm_users))
		wake_up_all(&ictx->destroy_wait);
}

/**
 * vdiommu_object_remove() - unpublish and destroy an unused object
 * @ictx: the context
 * @to_destroy: the object, or NULL to look it up by @id
 * @id: the ID when @to_destroy is NULL
 *
 * The object must have no dependants (only the table's @users reference).
 * Waits for ioctls still using it to finish.
 *
 * Return: 0, -ENOENT (no such object) or -EBUSY (in use).
 */
int vdiommu_object_remove(struct vdiommu_ctx *ictx,
			  struct vdiommu_object *to_destroy, u32 id)
{
	struct vdiommu_object *obj;

	xa_lock(&ictx->objects);
	obj = xa_load(&ictx->objects, to_destroy ? to_destroy->id : id);
	if (!obj || (to_destroy && obj != to_destroy)) {
		xa_unlock(&ictx->objects);
		return -ENOENT;
	}
	if (!refcount_dec_if_one(&obj->users)) {
		xa_unlock(&ictx->objects);
		return -EBUSY;
	}
	__xa_erase(&ictx->objects, obj->id);
	if (ictx->vfio_ioas && &ictx->vfio_ioas->obj == obj)
		ictx->vfio_ioas = NULL;
	xa_unlock(&ictx->objects);

	/*
	 * @users is zero, so no new ioctl can find the object; those that
	 * had found it are between their last use and vdiommu_put_object().
	 */
	if (!refcount_dec_and_test(&obj->shortterm_users))
		wait_event(ictx->destroy_wait,
			   refcount_read(&obj->shortterm_users) == 0);
	vdiommu_object_ops[obj->type].destroy(obj);
	kfree(obj);
	return 0;
}

/**
 * vdiommu_object_destroy_user() - destroy an object its kernel user owns
 * @ictx: the context
 * @obj: a published object whose only @users reference left is the table's
 *
 * For objects whose life the kernel, not user space, decides (a bound
 * device): IOMMU_DESTROY cannot remove them, since their kernel user holds
 * a reference until it calls this.  Ioctls that have found the object are
 * waited for.
 */
void vdiommu_object_destroy_user(struct vdiommu_ctx *ictx,
				 struct vdiommu_object *obj)
{
	/* New lookups fail from here on; wait for those in flight. */
	if (!refcount_dec_and_test(&obj->shortterm_users))
		wait_event(ictx->destroy_wait,
			   refcount_read(&obj->shortterm_users) == 0);

	xa_lock(&ictx->objects);
	WARN_ON(!refcount_dec_if_one(&obj->users));
	__xa_erase(&ictx->objects, obj->id);
	xa_unlock(&ictx->objects);
	vdiommu_object_ops[obj->type].destroy(obj);
	kfree(obj);
}

static int vdiommu_destroy(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct iommu_destroy *cmd = ucmd;

	return vdiommu_object_remove(ictx, NULL, cmd->id);
}

static struct miscdevice vdiommu_vfio_misc;

static int vdiommu_fops_open(struct inode *inode, struct file *filp)
{
	struct vdiommu_ctx *ictx;

	ictx = kzalloc(sizeof(*ictx), GFP_KERNEL_ACCOUNT);
	if (!ictx)
		return -ENOMEM;
	/* misc_open() leaves the miscdevice opened in private_data. */
	ictx->type1_door = filp->private_data == &vdiommu_vfio_misc;
	ictx->file = filp;
	xa_init_flags(&ictx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&ictx->destroy_wait);
	ictx->account_user_mode = true;
	mutex_init(&ictx->pages_lock);
	ictx->pages_itree = RB_ROOT_CACHED;
	mutex_init(&ictx->vfio_lock);
	INIT_LIST_HEAD(&ictx->vfio_group_list);
	filp->private_data = ictx;
	return 0;
}

/*
 * Bound devices hold a reference on the file, so only IOAS and HWPT
 * objects remain here, HWPTs depending on IOASes: destroy whatever has no
 * dependants until nothing is left.
 */
static int vdiommu_fops_release(struct inode *inode, struct file *filp)
{
	struct vdiommu_ctx *ictx = filp->private_data;
	struct vdiommu_object *obj;
	unsigned long index;
	bool progress;

	do {
		progress = false;
		xa_for_each(&ictx->objects, index, obj) {
			if (!refcount_dec_if_one(&obj->users))
				continue;
			xa_erase(&ictx->objects, index);
			if (refcount_dec_and_test(&obj->shortterm_users)) {
				vdiommu_object_ops[obj->type].destroy(obj);
				kfree(obj);
			} else {
				WARN_ON_ONCE(1);
			}
			progress = true;
		}
	} while (progress && !xa_empty(&ictx->objects));
	WARN_ON(!xa_empty(&ictx->objects));
	xa_destroy(&ictx->objects);
	WARN_ON(!RB_EMPTY_ROOT(&ictx->pages_itree.rb_root));
	mutex_destroy(&ictx->vfio_lock);
	mutex_destroy(&ictx->pages_lock);
	kfree(ictx);
	return 0;
}

union vdiommu_ucmd_buffer {
	struct iommu_destroy destroy;
	struct iommu_ioas_alloc alloc;
	struct iommu_ioas_allow_iovas allow_iovas;
	struct iommu_ioas_copy copy;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_unmap unmap;
	struct iommu_option option;
	struct iommu_hwpt_alloc hwpt;
	struct iommu_hw_info info;
	struct iommu_vfio_ioas vfio_ioas;
	struct vfiodev_iommu_device_info vd_info;
};

/*
 * One ioctl's command buffer and where its reply goes.  Handlers get
 * &@cmd; vdiommu_ucmd_respond() finds the rest from it.
 */
struct vdiommu_ucmd {
	void __user *ubuf;
	u32 user_size;
	u32 cmd_size;
	bool responded;
	union vdiommu_ucmd_buffer cmd;
};

/**
 * vdiommu_ucmd_respond() - write a handler's reply now
 * @cmd: the command buffer the handler was given
 *
 * For handlers that create an object: they reply before they publish it,
 * and abort it if the reply cannot be written, so that user space never
 * holds an object it was not told the ID of.  The dispatcher then writes
 * nothing more.  As much of the structure as the caller has room for.
 *
 * Return: 0, or -EFAULT.
 */
int vdiommu_ucmd_respond(void *cmd)
{
	struct vdiommu_ucmd *ucmd = container_of(cmd, struct vdiommu_ucmd, cmd);

	ucmd->responded = true;
	if (copy_to_user(ucmd->ubuf, &ucmd->cmd,
			 min(ucmd->user_size, ucmd->cmd_size)))
		return -EFAULT;
	return 0;
}

/**
 * struct vdiommu_ioctl_op - one command of the dispatch table
 * @size: size of the command structure this kernel knows
 * @min_size: the smallest size accepted (up to the last original field)
 * @ioctl_num: the full ioctl number
 * @execute: the handler; gets a kernel copy, responds itself
 */
struct vdiommu_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	int (*execute)(struct vdiommu_ctx *ictx, void *cmd);
};

#define VDIOMMU_OP(_nr, _ioctl, _fn, _struct, _last)			\
	[IOMMUFD_CMD_##_nr - IOMMUFD_CMD_BASE] = {			\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union vdiommu_ucmd_buffer) < \
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.ioctl_num = _ioctl,					\
		.execute = _fn,						\
	}

static const struct vdiommu_ioctl_op vdiommu_ioctl_ops[] = {
	VDIOMMU_OP(DESTROY, IOMMU_DESTROY, vdiommu_destroy, struct iommu_destroy, id),
	VDIOMMU_OP(IOAS_ALLOC, IOMMU_IOAS_ALLOC, vdiommu_ioas_alloc_ioctl,
		   struct iommu_ioas_alloc, out_ioas_id),
	VDIOMMU_OP(IOAS_ALLOW_IOVAS, IOMMU_IOAS_ALLOW_IOVAS, vdiommu_ioas_allow_iovas,
		   struct iommu_ioas_allow_iovas, allowed_iovas),
	VDIOMMU_OP(IOAS_COPY, IOMMU_IOAS_COPY, vdiommu_ioas_copy, struct iommu_ioas_copy,
		   src_iova),
	VDIOMMU_OP(IOAS_IOVA_RANGES, IOMMU_IOAS_IOVA_RANGES, vdiommu_ioas_iova_ranges,
		   struct iommu_ioas_iova_ranges, out_iova_alignment),
	VDIOMMU_OP(IOAS_MAP, IOMMU_IOAS_MAP, vdiommu_ioas_map, struct iommu_ioas_map,
		   iova),
	VDIOMMU_OP(IOAS_UNMAP, IOMMU_IOAS_UNMAP, vdiommu_ioas_unmap,
		   struct iommu_ioas_unmap, length),
	VDIOMMU_OP(OPTION, IOMMU_OPTION, vdiommu_option, struct iommu_option, val64),
	VDIOMMU_OP(VFIO_IOAS, IOMMU_VFIO_IOAS, vdiommu_vfio_ioas,
		   struct iommu_vfio_ioas, __reserved),
	VDIOMMU_OP(HWPT_ALLOC, IOMMU_HWPT_ALLOC, vdiommu_hwpt_alloc_ioctl,
		   struct iommu_hwpt_alloc, __reserved),
	VDIOMMU_OP(GET_HW_INFO, IOMMU_GET_HW_INFO, vdiommu_get_hw_info,
		   struct iommu_hw_info, __reserved),
};

/* vfiodev's own commands, under VFIODEV_TYPE. */
static const struct vdiommu_ioctl_op vdiommu_vd_ioctl_ops[] = {
	[VFIODEV_CMD_IOMMU_DEVICE_INFO] = {
		.size = sizeof(struct vfiodev_iommu_device_info),
		.min_size = offsetofend(struct vfiodev_iommu_device_info,
					out_capabilities),
		.ioctl_num = VFIODEV_IOMMU_DEVICE_INFO,
		.execute = vdiommu_device_info,
	},
};

static const struct vdiommu_ioctl_op *vdiommu_find_op(unsigned int cmd)
{
	const struct vdiommu_ioctl_op *op;
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) == IOMMUFD_TYPE) {
		if (nr < IOMMUFD_CMD_BASE ||
		    nr - IOMMUFD_CMD_BASE >= ARRAY_SIZE(vdiommu_ioctl_ops))
			return NULL;
		op = &vdiommu_ioctl_ops[nr - IOMMUFD_CMD_BASE];
	} else if (_IOC_TYPE(cmd) == VFIODEV_TYPE) {
		if (nr >= ARRAY_SIZE(vdiommu_vd_ioctl_ops))
			return NULL;
		op = &vdiommu_vd_ioctl_ops[nr];
	} else {
		return NULL;
	}
	if (op->ioctl_num != cmd)
		return NULL;
	return op;
}

static long vdiommu_fops_ioctl(struct file *filp, unsigned int cmd,
			       unsigned long arg)
{
	struct vdiommu_ctx *ictx = filp->private_data;
	void __user *ubuf = (void __user *)arg;
	const struct vdiommu_ioctl_op *op;
	struct vdiommu_ucmd ucmd = { .ubuf = ubuf };
	u32 size;
	int ret;

	/* The legacy container ioctls share the magic, below the base. */
	if (_IOC_TYPE(cmd) == VFIO_TYPE && _IOC_NR(cmd) < IOMMUFD_CMD_BASE)
		return vdiommu_vfio_ioctl(ictx, cmd, arg);
	op = vdiommu_find_op(cmd);
	if (!op)
		return -ENOTTY;
	if (get_user(size, (u32 __user *)ubuf))
		return -EFAULT;
	if (size < op->min_size)
		return -EINVAL;
	/* Zero-fills what an older caller did not send; E2BIG for unknown. */
	ret = copy_struct_from_user(&ucmd.cmd, op->size, ubuf, size);
	if (ret)
		return ret;
	ucmd.user_size = size;
	ucmd.cmd_size = op->size;
	ret = op->execute(ictx, &ucmd.cmd);
	if (ucmd.responded)
		return ret;
	/*
	 * The reply is the command structure, as much of it as the caller
	 * has room for; also after -EMSGSIZE, which reports a count.
	 */
	if (ret && ret != -EMSGSIZE)
		return ret;
	if (copy_to_user(ubuf, &ucmd.cmd, min(size, op->size)))
		return -EFAULT;
	return ret;
}

static const struct file_operations vdiommu_fops = {
	.owner = THIS_MODULE,
	.open = vdiommu_fops_open,
	.release = vdiommu_fops_release,
	.unlocked_ioctl = vdiommu_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/**
 * vdiommu_ctx_from_file() - the context behind an open /dev/iommu
 * @file: any file
 *
 * The caller keeps @file referenced while it uses the context.
 *
 * Return: the context, or ERR_PTR(-EBADFD) if @file is not /dev/iommu.
 */
struct vdiommu_ctx *vdiommu_ctx_from_file(struct file *file)
{
	if (file->f_op != &vdiommu_fops)
		return ERR_PTR(-EBADFD);
	return file->private_data;
}
EXPORT_SYMBOL_NS_GPL(vdiommu_ctx_from_file, VFIODEV_IOMMU_NS);

static struct miscdevice vdiommu_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "iommu",
	.fops = &vdiommu_fops,
	.nodename = "iommu",
	.mode = 0660,
};

/*
 * /dev/vfio/vfio, the legacy VFIO container: every open is a context like
 * one of /dev/iommu, whose VFIO ioctls act on its compatibility IOAS (see
 * vfio_compat.c).  The minor and the mode are upstream's.
 */
static struct miscdevice vdiommu_vfio_misc = {
	.minor = VFIO_MINOR,
	.name = "vfio",
	.fops = &vdiommu_fops,
	.nodename = "vfio/vfio",
	.mode = 0666,
};

/*
 * This module is named iommufd and upstream's vfio.ko is named vfio, as our
 * core is: the module loader refuses a second module of a name already
 * loaded, so upstream's iommufd, and upstream's vfio beside our core, can
 * never come in.  What it does not see is upstream's vfio.ko loaded alone,
 * as on Debian's kernel, where it serves /dev/vfio/vfio with its own
 * container.  It exports vfio_register_group_dev() in every configuration.
 */
static int vdiommu_check_upstream(void)
{
	static const char vfio_sym[] = "vfio_register_group_dev";

	if (__symbol_get(vfio_sym)) {
		__symbol_put(vfio_sym);
		pr_err("upstream vfio is loaded and owns /dev/vfio/vfio; unload vfio and its drivers before loading vfiodev's iommufd\n");
		return -EBUSY;
	}
	return 0;
}

static int __init vdiommu_init(void)
{
	int ret;

	ret = vdiommu_check_upstream();
	if (ret)
		return ret;
	ret = misc_register(&vdiommu_misc);
	if (ret)
		return ret;
	ret = misc_register(&vdiommu_vfio_misc);
	if (ret) {
		misc_deregister(&vdiommu_misc);
		return ret;
	}
	return 0;
}

static void __exit vdiommu_exit(void)
{
	misc_deregister(&vdiommu_vfio_misc);
	misc_deregister(&vdiommu_misc);
}

module_init(vdiommu_init);
module_exit(vdiommu_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("iommufd (vfiodev): iommufd-compatible /dev/iommu and the /dev/vfio/vfio container");
/* Opening /dev/vfio/vfio loads us (kmod's static nodes), as upstream. */
MODULE_ALIAS_MISCDEV(VFIO_MINOR);
MODULE_ALIAS("devname:vfio/vfio");
