// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd (vfiodev): the IOAS ioctls and IOMMU_OPTION.
 *
 * Thin handlers: check flags and reserved fields (EOPNOTSUPP), ranges
 * (EOVERFLOW), look the objects up, call io_pagetable.c or pages.c, and
 * fill the reply in the command structure, which main.c copies back.
 */
#include <linux/capability.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vdiommu_priv.h"

void vdiommu_ioas_destroy(struct vdiommu_object *obj)
{
	struct vdiommu_ioas *ioas = container_of(obj, struct vdiommu_ioas, obj);

	WARN_ON(!list_empty(&ioas->hwpt_list));
	vdiommu_iopt_destroy(&ioas->iopt);
	mutex_destroy(&ioas->mutex);
}

/**
 * vdiommu_get_ioas() - look up an IOAS for an ioctl
 * @ictx: the context
 * @id: its ID
 *
 * Return: the IOAS (release with vdiommu_put_object()) or ERR_PTR(-ENOENT).
 */
struct vdiommu_ioas *vdiommu_get_ioas(struct vdiommu_ctx *ictx, u32 id)
{
	struct vdiommu_object *obj = vdiommu_get_object(ictx, id,
							 VDIOMMU_OBJ_IOAS);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct vdiommu_ioas, obj);
}

/**
 * vdiommu_ioas_alloc() - a new, unpublished IOAS
 * @ictx: the context
 *
 * Return: the IOAS, to publish with vdiommu_object_finalize(), or an
 * ERR_PTR().
 */
struct vdiommu_ioas *vdiommu_ioas_alloc(struct vdiommu_ctx *ictx)
{
	struct vdiommu_ioas *ioas;

	ioas = vdiommu_object_alloc(ictx, struct vdiommu_ioas, VDIOMMU_OBJ_IOAS);
	if (IS_ERR(ioas))
		return ioas;
	vdiommu_iopt_init(&ioas->iopt);
	mutex_init(&ioas->mutex);
	INIT_LIST_HEAD(&ioas->hwpt_list);
	return ioas;
}

int vdiommu_ioas_alloc_ioctl(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd;
	struct vdiommu_ioas *ioas;
	int ret;

	if (cmd->flags)
		return -EOPNOTSUPP;

	ioas = vdiommu_ioas_alloc(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	cmd->out_ioas_id = ioas->obj.id;
	ret = vdiommu_ucmd_respond(cmd);
	if (ret) {
		vdiommu_object_abort(ictx, &ioas->obj);
		return ret;
	}
	vdiommu_object_finalize(ictx, &ioas->obj);
	return 0;
}

int vdiommu_ioas_iova_ranges(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd;
	unsigned long alignment;
	struct vdiommu_ioas *ioas;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	ioas = vdiommu_get_ioas(ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	ret = vdiommu_iopt_iova_ranges(&ioas->iopt,
				       u64_to_user_ptr(cmd->allowed_iovas),
				       &cmd->num_iovas, &alignment);
	cmd->out_iova_alignment = alignment;
	vdiommu_put_object(ictx, &ioas->obj);
	return ret;
}

static void vdiommu_free_allowed(struct rb_root_cached *itree)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(itree, 0, ULONG_MAX))) {
		interval_tree_remove(node, itree);
		kfree(container_of(node, struct vdiommu_allowed, node));
	}
}

int vdiommu_ioas_allow_iovas(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct iommu_ioas_allow_iovas *cmd = ucmd;
	struct iommu_iova_range __user *ranges;
	struct rb_root_cached allowed = RB_ROOT_CACHED;
	struct vdiommu_ioas *ioas;
	int ret = 0;
	u32 i;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	ioas = vdiommu_get_ioas(ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	ranges = u64_to_user_ptr(cmd->allowed_iovas);
	for (i = 0; i < cmd->num_iovas; i++) {
		struct vdiommu_allowed *elm;
		struct iommu_iova_range r;

		if (copy_from_user(&r, &ranges[i], sizeof(r))) {
			ret = -EFAULT;
			goto out_free;
		}
		if (r.start >= r.last ||
		    interval_tree_iter_first(&allowed, r.start, r.last)) {
			ret = -EINVAL;
			goto out_free;
		}
		elm = kzalloc(sizeof(*elm), GFP_KERNEL_ACCOUNT);
		if (!elm) {
			ret = -ENOMEM;
			goto out_free;
		}
		elm->node.start = r.start;
		elm->node.last = r.last;
		interval_tree_insert(&elm->node, &allowed);
	}
	ret = vdiommu_iopt_set_allowed(&ioas->iopt, &allowed);
out_free:
	/* The old ranges on success, the new ones on failure. */
	vdiommu_free_allowed(&allowed);
	vdiommu_put_object(ictx, &ioas->obj);
	return ret;
}

static int vdiommu_map_prot(u32 flags)
{
	/* iommufd always asks for cache-coherent mappings. */
	int prot = IOMMU_CACHE;

	if (flags & IOMMU_IOAS_MAP_READABLE)
		prot |= IOMMU_READ;
	if (flags & IOMMU_IOAS_MAP_WRITEABLE)
		prot |= IOMMU_WRITE;
	return prot;
}

#define VDIOMMU_MAP_FLAGS (IOMMU_IOAS_MAP_FIXED_IOVA |			\
			   IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)

int vdiommu_ioas_map(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd;
	unsigned long iova = cmd->iova, undone;
	struct vdiommu_ioas *ioas;
	int ret;

	if ((cmd->flags & ~VDIOMMU_MAP_FLAGS) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX ||
	    cmd->user_va >= ULONG_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags &
	      (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	if (!cmd->length || (cmd->user_va | cmd->length) & ~PAGE_MASK)
		return -EINVAL;
	if (cmd->user_va + cmd->length < cmd->user_va)
		return -EOVERFLOW;

	ioas = vdiommu_get_ioas(ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	ret = vdiommu_ioas_map_user(ictx, ioas, cmd->user_va, cmd->length,
				    &iova, vdiommu_map_prot(cmd->flags),
				    cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA);
	if (ret)
		goto out_put;
	/*
	 * A caller that cannot be told the IOVA would not know what to
	 * unmap: take the mapping back.  Upstream keeps it.
	 */
	cmd->iova = iova;
	ret = vdiommu_ucmd_respond(cmd);
	if (ret)
		vdiommu_iopt_unmap(&ioas->iopt, iova, cmd->length, &undone);
out_put:
	vdiommu_put_object(ictx, &ioas->obj);
	return ret;
}

/**
 * vdiommu_ioas_map_user() - pin user memory and map it into an IOAS
 * @ictx: the context, whose pins are shared by every map of the same memory
 * @ioas: the IOAS
 * @uptr: user address, page aligned
 * @length: bytes, page aligned, not zero, no overflow (checked by callers)
 * @iova: the IOVA if @fixed, else set to the one chosen
 * @iommu_prot: IOMMU_READ/WRITE/CACHE; pinned for writing with IOMMU_WRITE
 * @fixed: map at *@iova
 *
 * Both front doors map through here: IOMMU_IOAS_MAP and the legacy
 * VFIO_IOMMU_MAP_DMA.
 *
 * Return: 0 or as vdiommu_pages_get() and vdiommu_iopt_map_pages().
 */
int vdiommu_ioas_map_user(struct vdiommu_ctx *ictx, struct vdiommu_ioas *ioas,
			  unsigned long uptr, unsigned long length,
			  unsigned long *iova, int iommu_prot, bool fixed)
{
	struct vdiommu_pages *pages;
	unsigned long index;
	int ret;

	pages = vdiommu_pages_get(ictx, uptr, length, iommu_prot & IOMMU_WRITE,
				  &index);
	if (IS_ERR(pages))
		return PTR_ERR(pages);
	ret = vdiommu_iopt_map_pages(&ioas->iopt, pages, index, length, iova,
				     iommu_prot, fixed);
	/* The areas hold their own references. */
	vdiommu_pages_put(pages);
	return ret;
}

int vdiommu_ioas_copy(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd;
	struct vdiommu_ioas *src, *dst;
	unsigned long iova = cmd->dst_iova;
	int ret;

	if (cmd->flags & ~VDIOMMU_MAP_FLAGS)
		return -EOPNOTSUPP;
	if (cmd->length >= ULONG_MAX || cmd->src_iova >= ULONG_MAX ||
	    cmd->dst_iova >= ULONG_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags &
	      (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;

	src = vdiommu_get_ioas(ictx, cmd->src_ioas_id);
	if (IS_ERR(src))
		return PTR_ERR(src);
	dst = vdiommu_get_ioas(ictx, cmd->dst_ioas_id);
	if (IS_ERR(dst)) {
		ret = PTR_ERR(dst);
		goto out_put_src;
	}
	ret = vdiommu_iopt_copy(&dst->iopt, &src->iopt, cmd->src_iova,
				cmd->length, &iova, vdiommu_map_prot(cmd->flags),
				cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA);
	if (!ret)
		cmd->dst_iova = iova;
	vdiommu_put_object(ictx, &dst->obj);
out_put_src:
	vdiommu_put_object(ictx, &src->obj);
	return ret;
}

int vdiommu_ioas_unmap(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd;
	unsigned long unmapped = 0;
	struct vdiommu_ioas *ioas;
	int ret;

	ioas = vdiommu_get_ioas(ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	if (cmd->iova == 0 && cmd->length == U64_MAX) {
		/* Everything; succeeds on an empty IOAS too. */
		ret = vdiommu_iopt_unmap_all(&ioas->iopt, &unmapped);
	} else if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX) {
		ret = -EOVERFLOW;
	} else {
		ret = vdiommu_iopt_unmap(&ioas->iopt, cmd->iova, cmd->length,
					 &unmapped);
		if (!ret && !unmapped)
			ret = -ENOENT;
	}
	if (!ret)
		cmd->length = unmapped;
	vdiommu_put_object(ictx, &ioas->obj);
	return ret;
}

static int vdiommu_option_rlimit_mode(struct vdiommu_ctx *ictx,
				      struct iommu_option *cmd)
{
	int ret = 0;

	if (cmd->object_id)
		return -EOPNOTSUPP;
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = !ictx->account_user_mode;
		return 0;
	}
	if (cmd->op != IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	if (!capable(CAP_SYS_RESOURCE))
		return -EPERM;
	if (cmd->val64 > 1)
		return -EINVAL;
	/* Pins charged one way must be uncharged the same way. */
	xa_lock(&ictx->objects);
	if (!xa_empty(&ictx->objects))
		ret = -EBUSY;
	else
		ictx->account_user_mode = !cmd->val64;
	xa_unlock(&ictx->objects);
	return ret;
}

int vdiommu_option(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct iommu_option *cmd = ucmd;
	struct vdiommu_ioas *ioas;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->option_id == IOMMU_OPTION_RLIMIT_MODE)
		return vdiommu_option_rlimit_mode(ictx, cmd);
	if (cmd->option_id != IOMMU_OPTION_HUGE_PAGES)
		return -EOPNOTSUPP;

	ioas = vdiommu_get_ioas(ictx, cmd->object_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = !ioas->iopt.disable_large_pages;
		ret = 0;
	} else if (cmd->op != IOMMU_OPTION_OP_SET) {
		ret = -EOPNOTSUPP;
	} else if (cmd->val64 > 1) {
		ret = -EINVAL;
	} else {
		ret = vdiommu_iopt_set_large_pages(&ioas->iopt, cmd->val64);
	}
	vdiommu_put_object(ictx, &ioas->obj);
	return ret;
}
