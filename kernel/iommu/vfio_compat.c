// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd (vfiodev): the legacy VFIO container on the IOAS engine.
 *
 * The type1 container of upstream VFIO (/dev/vfio/vfio, VFIO_SET_IOMMU,
 * VFIO_IOMMU_MAP_DMA...) has no object IDs: it is one address space.  Here
 * it is one IOAS of a context, the context's compatibility IOAS, and every
 * legacy ioctl is a thin front door onto the same engine that serves
 * IOMMU_IOAS_*: the same pins (a page mapped through both doors of one
 * context is pinned and charged once), the same page tables, the same
 * reserved regions.  Any context serves them: one opened as /dev/vfio/vfio
 * or as /dev/iommu (upstream's "iommufd compat" mode, used by its
 * selftests and by newer VMMs).
 *
 * The compatibility IOAS is created when the first VFIO group is set to the
 * container (vdiommu_vfio_compat_ioas_create()), or chosen by the user with
 * IOMMU_VFIO_IOAS; the group's devices attach to it when they are opened.
 *
 * A range that wraps past the end of the address space is -EINVAL on
 * /dev/vfio/vfio, as type1 answers, and -EOVERFLOW on /dev/iommu used as a
 * container, as upstream's iommufd compat answers.
 *
 * Where the two interfaces disagree otherwise, both doors answer as type1:
 * an unmap of nothing succeeds with size 0; under VFIO_TYPE1v2_IOMMU an
 * unmap that would split a mapping fails with -EINVAL, under
 * VFIO_TYPE1_IOMMU it takes the mappings that start in its range, whole,
 * and leaves the one it starts inside of.  On /dev/vfio/vfio only, as
 * type1: VFIO_IOMMU_DIRTY_PAGES and the GET_DIRTY_BITMAP unmap flag, every
 * mapped page reported dirty, with the migration capability in
 * VFIO_IOMMU_GET_INFO; and VFIO_UPDATE_VADDR, once the IOMMU is set.
 * Not served: no-IOMMU, SPAPR.
 *
 * VFIO_UPDATE_VADDR is how a VMM hands its DMA over to its successor (QEMU's
 * cpr): VFIO_DMA_UNMAP_FLAG_VADDR takes the user address from mappings,
 * which stay pinned and mapped, so the device's DMA goes on; the new
 * process gives each its address with VFIO_DMA_MAP_FLAG_VADDR (exactly the
 * same IOVA and size) and takes over the charge for its pages.  While a
 * mapping waits for its address no group joins the container (-EBUSY), as
 * type1 refuses an attach that might have to pin; type1 6.12 blocks nothing
 * else, and neither does this container, whose pages never need the user
 * address again.
 */
#include <linux/iommu.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "../compat.h"
#include "vdiommu_priv.h"

/*
 * There is no limit on the number of mappings here, only on what is pinned
 * (RLIMIT_MEMLOCK): report what upstream's iommufd compat reports for the
 * same reason.  Type1 reports its dma_entry_limit (65535) minus the
 * mappings in use; QEMU takes the number as the mappings it may make.
 */
#define VDIOMMU_VFIO_DMA_AVAIL	U32_MAX

/*
 * Dirty bitmaps, as type1 sizes them: one bit per page of the smallest
 * IOMMU page size, in whole u64s; at most INT_MAX pages' worth.
 */
#define VDIOMMU_DIRTY_BITMAP_BYTES(n)	(ALIGN((u64)(n), 64) / BITS_PER_BYTE)
#define VDIOMMU_DIRTY_BITMAP_SIZE_MAX	VDIOMMU_DIRTY_BITMAP_BYTES(INT_MAX)

static struct vdiommu_ioas *vdiommu_get_compat_ioas(struct vdiommu_ctx *ictx)
{
	struct vdiommu_ioas *ioas = ERR_PTR(-ENODEV);

	xa_lock(&ictx->objects);
	if (ictx->vfio_ioas && vdiommu_lock_obj(ictx, &ictx->vfio_ioas->obj))
		ioas = ictx->vfio_ioas;
	xa_unlock(&ictx->objects);
	return ioas;
}

/*
 * What needs the IOMMU set: on /dev/vfio/vfio, as type1 (no IOMMU driver
 * yet: -EINVAL), VFIO_SET_IOMMU first.
 */
static struct vdiommu_ioas *vdiommu_vfio_get_ioas(struct vdiommu_ctx *ictx)
{
	if (ictx->type1_door && !READ_ONCE(ictx->vfio_iommu_set))
		return ERR_PTR(-EINVAL);
	return vdiommu_get_compat_ioas(ictx);
}

/* IOMMU_VFIO_IOAS */
int vdiommu_vfio_ioas(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd;
	struct vdiommu_ioas *ioas;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->op) {
	case IOMMU_VFIO_IOAS_GET:
		ioas = vdiommu_get_compat_ioas(ictx);
		if (IS_ERR(ioas))
			return PTR_ERR(ioas);
		cmd->ioas_id = ioas->obj.id;
		vdiommu_put_object(ictx, &ioas->obj);
		return 0;
	case IOMMU_VFIO_IOAS_SET:
		ioas = vdiommu_get_ioas(ictx, cmd->ioas_id);
		if (IS_ERR(ioas))
			return PTR_ERR(ioas);
		/* Our reference keeps IOMMU_DESTROY from racing with this. */
		xa_lock(&ictx->objects);
		ictx->vfio_ioas = ioas;
		xa_unlock(&ictx->objects);
		vdiommu_put_object(ictx, &ioas->obj);
		return 0;
	case IOMMU_VFIO_IOAS_CLEAR:
		xa_lock(&ictx->objects);
		ictx->vfio_ioas = NULL;
		xa_unlock(&ictx->objects);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/**
 * vdiommu_vfio_compat_ioas_create() - give a context a compatibility IOAS
 * @ictx: the context
 *
 * Called when a VFIO group is set to the container.  An IOAS chosen
 * already (an earlier group, or IOMMU_VFIO_IOAS_SET) is kept.  A new one is
 * a user object like any other: IOMMU_VFIO_IOAS_GET tells its ID, and it
 * lives until destroyed or until the context is closed.
 *
 * Return: 0 or -ENOMEM.
 */
int vdiommu_vfio_compat_ioas_create(struct vdiommu_ctx *ictx)
{
	struct vdiommu_ioas *ioas;

	ioas = vdiommu_ioas_alloc(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	xa_lock(&ictx->objects);
	if (ictx->vfio_ioas) {
		xa_unlock(&ictx->objects);
		vdiommu_object_abort(ictx, &ioas->obj);
		return 0;
	}
	/* Usable at once: fully initialised, only not yet found by ID. */
	ictx->vfio_ioas = ioas;
	xa_unlock(&ictx->objects);
	vdiommu_object_finalize(ictx, &ioas->obj);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(vdiommu_vfio_compat_ioas_create, VFIODEV_IOMMU_NS);

/**
 * vdiommu_vfio_compat_ioas_get_id() - the compatibility IOAS of a context
 * @ictx: the context
 * @id: set to its ID, for vdiommu_device_attach()
 *
 * Return: 0, -ENODEV when the context has none, or -EINVAL on
 * /dev/vfio/vfio before VFIO_SET_IOMMU (type1 opens no device then).
 */
int vdiommu_vfio_compat_ioas_get_id(struct vdiommu_ctx *ictx, u32 *id)
{
	struct vdiommu_ioas *ioas = vdiommu_vfio_get_ioas(ictx);

	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	*id = ioas->obj.id;
	vdiommu_put_object(ictx, &ioas->obj);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(vdiommu_vfio_compat_ioas_get_id, VFIODEV_IOMMU_NS);

/*
 * Holds @vgroup attached to the compatibility IOAS (the type1 door, once
 * its IOMMU is set).  Called with @ictx->vfio_lock held.
 */
static int vdiommu_vfio_group_hold(struct vdiommu_ctx *ictx,
				   struct vdiommu_vfio_group *vgroup)
{
	struct vdiommu_ioas *ioas;
	int ret;

	lockdep_assert_held(&ictx->vfio_lock);

	ioas = vdiommu_get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return -EINVAL;
	/* Type1 attaches no group while a mapping waits for its address. */
	if (vdiommu_iopt_vaddr_invalid(&ioas->iopt))
		ret = -EBUSY;
	else
		ret = vdiommu_group_hold(ictx, vgroup->group, vgroup->coherent,
					 ioas, &vgroup->igroup);
	vdiommu_put_object(ictx, &ioas->obj);
	return ret;
}

static void vdiommu_vfio_group_unhold(struct vdiommu_ctx *ictx,
				      struct vdiommu_vfio_group *vgroup)
{
	lockdep_assert_held(&ictx->vfio_lock);

	if (vgroup->igroup) {
		vdiommu_group_unhold(ictx, vgroup->igroup);
		vgroup->igroup = NULL;
	}
}

/**
 * vdiommu_vfio_group_claim() - a VFIO group joins a context as its container
 * @ictx: the context
 * @group: the IOMMU group; every device of it must be free of kernel
 *	drivers (bound to a VFIO driver or to none)
 * @enforce_coherency: every device of the group is behind an IOMMU that can
 *	enforce cache coherency (for VFIO_DMA_CC_IOMMU)
 *
 * Claims the group's DMA for @ictx: the IOMMU blocks it until the group is
 * attached, no kernel driver can bind to the group any more, and devices
 * bound through @ictx may share the claim.  On /dev/vfio/vfio whose IOMMU
 * is set already, the group is attached to the container at once, as
 * type1 attaches it; otherwise at VFIO_SET_IOMMU (/dev/vfio/vfio) or when
 * a device is opened (/dev/iommu, as upstream's iommufd compat).
 *
 * Return: 0, -EPERM when a kernel driver or another context owns the
 * group's DMA (the group is not viable), -EBUSY while a mapping of the
 * container waits for its user address (VFIO_UPDATE_VADDR), -ENOMEM, or
 * as vdiommu_group_hold().
 */
int vdiommu_vfio_group_claim(struct vdiommu_ctx *ictx,
			     struct iommu_group *group, bool enforce_coherency)
{
	struct vdiommu_vfio_group *vgroup;
	int ret;

	vgroup = kzalloc(sizeof(*vgroup), GFP_KERNEL_ACCOUNT);
	if (!vgroup)
		return -ENOMEM;
	vgroup->group = group;
	vgroup->coherent = enforce_coherency;

	ret = iommu_group_claim_dma_owner(group, ictx);
	if (ret)
		goto err_free;
	mutex_lock(&ictx->vfio_lock);
	if (ictx->vfio_iommu_set) {
		ret = vdiommu_vfio_group_hold(ictx, vgroup);
		if (ret) {
			mutex_unlock(&ictx->vfio_lock);
			goto err_release;
		}
	}
	list_add_tail(&vgroup->item, &ictx->vfio_group_list);
	mutex_unlock(&ictx->vfio_lock);
	return 0;

err_release:
	iommu_group_release_dma_owner(group);
err_free:
	kfree(vgroup);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(vdiommu_vfio_group_claim, VFIODEV_IOMMU_NS);

/**
 * vdiommu_vfio_group_release() - undo vdiommu_vfio_group_claim()
 * @ictx: the context
 * @group: the IOMMU group, none of whose devices is bound any more
 *
 * The last group to leave returns a /dev/vfio/vfio container to the state
 * before VFIO_SET_IOMMU, as type1's does.
 */
void vdiommu_vfio_group_release(struct vdiommu_ctx *ictx,
				struct iommu_group *group)
{
	struct vdiommu_vfio_group *vgroup;

	mutex_lock(&ictx->vfio_lock);
	list_for_each_entry(vgroup, &ictx->vfio_group_list, item) {
		if (vgroup->group != group)
			continue;
		vdiommu_vfio_group_unhold(ictx, vgroup);
		list_del(&vgroup->item);
		kfree(vgroup);
		break;
	}
	if (list_empty(&ictx->vfio_group_list)) {
		WRITE_ONCE(ictx->vfio_iommu_set, false);
		WRITE_ONCE(ictx->vfio_dirty_tracking, false);
	}
	mutex_unlock(&ictx->vfio_lock);
	iommu_group_release_dma_owner(group);
}
EXPORT_SYMBOL_NS_GPL(vdiommu_vfio_group_release, VFIODEV_IOMMU_NS);

/*
 * VFIO_DMA_CC_IOMMU: 1 when DMA through the container cannot bypass the CPU
 * caches: there is a group or a page table, every group's IOMMU can
 * enforce coherency and every page table of the compatibility IOAS does.
 */
static int vdiommu_vfio_cc_iommu(struct vdiommu_ctx *ictx)
{
	struct vdiommu_vfio_group *vgroup;
	struct vdiommu_ioas *ioas;
	struct vdiommu_hwpt *hwpt;
	bool any, coherent = true;

	ioas = vdiommu_get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return 0;
	mutex_lock(&ictx->vfio_lock);
	any = !list_empty(&ictx->vfio_group_list);
	list_for_each_entry(vgroup, &ictx->vfio_group_list, item)
		coherent &= vgroup->coherent;
	mutex_unlock(&ictx->vfio_lock);
	mutex_lock(&ioas->mutex);
	list_for_each_entry(hwpt, &ioas->hwpt_list, hwpt_item) {
		any = true;
		if (!hwpt->enforce_cache_coherency)
			coherent = false;
	}
	mutex_unlock(&ioas->mutex);
	vdiommu_put_object(ictx, &ioas->obj);
	return any && coherent;
}

static long vdiommu_vfio_check_extension(struct vdiommu_ctx *ictx,
					 unsigned long type)
{
	switch (type) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		return vdiommu_vfio_cc_iommu(ictx);
	case VFIO_UPDATE_VADDR:
		/* Type1's answer once set (no mdev here); never on /dev/iommu. */
		return ictx->type1_door && READ_ONCE(ictx->vfio_iommu_set);
	default:
		/* SPAPR, nesting, no-IOMMU, unknown. */
		return 0;
	}
}

/*
 * The engine is the same for both types; they differ in what an unmap
 * inside a mapping does.  Errors as type1's: no group in the container
 * (no compatibility IOAS) -EINVAL, a type nobody serves -ENODEV.
 *
 * On /dev/vfio/vfio, as type1: a second VFIO_SET_IOMMU is -EINVAL, and
 * the groups are attached now (vdiommu_group_hold()), all or none.  On
 * /dev/iommu, as upstream's compat: the type may be set again, and
 * devices attach when they are opened.
 */
static long vdiommu_vfio_set_iommu(struct vdiommu_ctx *ictx,
				   unsigned long type)
{
	struct vdiommu_vfio_group *vgroup;
	struct vdiommu_ioas *ioas;
	int ret = 0;

	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU) {
		ioas = vdiommu_get_compat_ioas(ictx);
		if (IS_ERR(ioas))
			return -EINVAL;
		vdiommu_put_object(ictx, &ioas->obj);
		return -ENODEV;
	}

	mutex_lock(&ictx->vfio_lock);
	ioas = vdiommu_get_compat_ioas(ictx);
	if (IS_ERR(ioas) || (ictx->type1_door && ictx->vfio_iommu_set)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (ictx->type1_door) {
		list_for_each_entry(vgroup, &ictx->vfio_group_list, item) {
			ret = vdiommu_vfio_group_hold(ictx, vgroup);
			if (ret)
				break;
		}
		if (ret) {
			list_for_each_entry(vgroup, &ictx->vfio_group_list, item)
				vdiommu_vfio_group_unhold(ictx, vgroup);
			goto out_unlock;
		}
		WRITE_ONCE(ictx->vfio_iommu_set, true);
	}
	WRITE_ONCE(ioas->vfio_type1_v1, type == VFIO_TYPE1_IOMMU);
out_unlock:
	mutex_unlock(&ictx->vfio_lock);
	if (!IS_ERR(ioas))
		vdiommu_put_object(ictx, &ioas->obj);
	return ret;
}

struct vdiommu_vfio_ranges {
	struct vfio_iova_range *ranges;
	u32 room;
};

static int vdiommu_vfio_range(void *data, u32 index,
			      const struct iommu_iova_range *r)
{
	struct vdiommu_vfio_ranges *out = data;

	if (index < out->room) {
		out->ranges[index].start = r->start;
		out->ranges[index].end = r->last;
	}
	return 0;
}

#define VDIOMMU_AVAIL_CAP_SIZE \
	ALIGN(sizeof(struct vfio_iommu_type1_info_dma_avail), sizeof(u64))

/*
 * The size of the capability chain with @n IOVA ranges (and the migration
 * capability if @migration), and in @iova_size that of its first
 * capability, where the second starts.
 */
static size_t vdiommu_vfio_caps_size(u32 n, bool migration, size_t *iova_size)
{
	struct vfio_iommu_type1_info_cap_iova_range *iova_cap;
	size_t size;

	*iova_size = ALIGN(struct_size(iova_cap, iova_ranges, n), sizeof(u64));
	size = *iova_size + VDIOMMU_AVAIL_CAP_SIZE;
	if (migration)
		size += ALIGN(sizeof(struct vfio_iommu_type1_info_cap_migration),
			      sizeof(u64));
	return size;
}

/*
 * The capability chain of VFIO_IOMMU_GET_INFO, as it sits after struct
 * vfio_iommu_type1_info: the IOVA ranges, the DMA-avail count, and with
 * @migration type1's dirty-tracking limits, in *@caps (the caller frees
 * it, also on error).
 * Return: its size, or a negative errno.
 */
static ssize_t vdiommu_vfio_info_caps(struct vdiommu_ioas *ioas,
				      bool migration, void **caps,
				      unsigned long *alignment)
{
	struct vfio_iommu_type1_info_cap_iova_range *iova_cap;
	struct vfio_iommu_type1_info_cap_migration *mig_cap;
	struct vfio_iommu_type1_info_dma_avail *avail_cap;
	struct vdiommu_vfio_ranges out = {};
	size_t iova_size, size;
	int n;

	/*
	 * Count, allocate, fill; again if reserved regions came between
	 * counting and filling.
	 */
	for (;;) {
		n = vdiommu_iopt_walk_ranges(&ioas->iopt, vdiommu_vfio_range,
					     &out, alignment);
		if (n < 0)
			return n;
		if (*caps && n <= out.room)
			break;
		kfree(*caps);
		*caps = kzalloc(vdiommu_vfio_caps_size(n, migration,
						       &iova_size), GFP_KERNEL);
		if (!*caps)
			return -ENOMEM;
		iova_cap = *caps;
		out.ranges = iova_cap->iova_ranges;
		out.room = n;
	}
	/* Laid out for the ranges found, which fit in what was allocated. */
	size = vdiommu_vfio_caps_size(n, migration, &iova_size);
	iova_cap = *caps;
	iova_cap->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	iova_cap->header.version = 1;
	/* Offsets count from the start of struct vfio_iommu_type1_info. */
	iova_cap->header.next = sizeof(struct vfio_iommu_type1_info) +
				iova_size;
	iova_cap->nr_iovas = n;
	avail_cap = *caps + iova_size;
	avail_cap->header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	avail_cap->header.version = 1;
	avail_cap->avail = VDIOMMU_VFIO_DMA_AVAIL;
	if (!migration)
		return size;
	avail_cap->header.next = sizeof(struct vfio_iommu_type1_info) +
				 iova_size + VDIOMMU_AVAIL_CAP_SIZE;
	mig_cap = (void *)avail_cap + VDIOMMU_AVAIL_CAP_SIZE;
	mig_cap->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION;
	mig_cap->header.version = 1;
	mig_cap->flags = 0;
	mig_cap->pgsize_bitmap = *alignment;
	mig_cap->max_dirty_bitmap_size = VDIOMMU_DIRTY_BITMAP_SIZE_MAX;
	return size;
}

static long vdiommu_vfio_get_info(struct vdiommu_ctx *ictx,
				  struct vfio_iommu_type1_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_info,
					  iova_pgsizes);
	struct vfio_iommu_type1_info info;
	unsigned long alignment;
	struct vdiommu_ioas *ioas;
	void *caps = NULL;
	size_t reply;
	ssize_t size;
	long ret = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	/* What the caller has room for, whatever argsz says on the way out. */
	reply = min_t(size_t, info.argsz, sizeof(info));

	ioas = vdiommu_vfio_get_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	size = vdiommu_vfio_info_caps(ioas, ictx->type1_door, &caps,
				      &alignment);
	vdiommu_put_object(ictx, &ioas->obj);
	if (size < 0) {
		ret = size;
		goto out_free;
	}

	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	/* Any size the IOVA alignment allows. */
	info.iova_pgsizes = ~(u64)(alignment - 1);
	info.cap_offset = 0;
	info.pad = 0;
	if (info.argsz < sizeof(info) + size) {
		/* Too small for the chain: say how much is needed. */
		info.argsz = sizeof(info) + size;
	} else {
		if (copy_to_user((void __user *)arg + sizeof(info), caps, size))
			ret = -EFAULT;
		info.cap_offset = sizeof(info);
	}
	if (!ret && copy_to_user(arg, &info, reply))
		ret = -EFAULT;
out_free:
	kfree(caps);
	return ret;
}

/* Where dirty bits go: bit 0 is the page at @base. */
struct vdiommu_dirty_out {
	u64 __user *bitmap;
	unsigned long base;
	unsigned int pgshift;
};

/*
 * Marks the mapping [start, last] dirty in the user's bitmap: its bits
 * set, every other bit as the caller left it (the u64s a mapping only
 * partly covers are read first).
 */
static int vdiommu_vfio_dirty_area(void *data, unsigned long start,
				   unsigned long last)
{
	struct vdiommu_dirty_out *out = data;
	u64 first = (start - out->base) >> out->pgshift;
	u64 end = first + ((last - start) >> out->pgshift) + 1;
	u64 __user *bitmap = out->bitmap;
	u64 w, val, mask;

	for (w = first / 64; w < DIV_ROUND_UP(end, 64); w++) {
		mask = ~0ULL;
		if (w == first / 64)
			mask &= ~0ULL << (first % 64);
		if (w == (end - 1) / 64)
			mask &= ~0ULL >> (63 - (end - 1) % 64);
		val = ~0ULL;
		if (mask != ~0ULL) {
			if (get_user(val, bitmap + w))
				return -EFAULT;
			val |= mask;
		}
		if (put_user(val, bitmap + w))
			return -EFAULT;
		if (!(w % 4096))
			cond_resched();
	}
	return 0;
}

/*
 * Every mapping in [iova, iova + size) reported dirty into @bitmap, as
 * type1 reports a container whose devices DMA through the IOMMU: all that
 * it pinned (here, all that is mapped) is dirty, every time.  A mapping
 * that crosses either end is -EINVAL.
 */
static int vdiommu_vfio_report_dirty(struct vdiommu_ioas *ioas,
				     const struct vfio_bitmap *bitmap,
				     u64 iova, u64 size)
{
	struct vdiommu_dirty_out out = {
		.bitmap = bitmap->data,
		.base = iova,
		.pgshift = __ffs(bitmap->pgsize),
	};
	int ret;

	ret = vdiommu_iopt_walk_areas(&ioas->iopt, iova, iova + size - 1,
				      vdiommu_vfio_dirty_area, &out);
	return ret == -ENOENT ? -EINVAL : ret;
}

/*
 * A dirty bitmap's description, as type1 checks it: user memory it may
 * write, one bit per page of @size, at most VDIOMMU_DIRTY_BITMAP_SIZE_MAX
 * bytes.  The page size is checked against the IOMMU's later.
 */
static int vdiommu_vfio_check_bitmap(const struct vfio_bitmap *bitmap,
				     u64 size)
{
	u64 npages;

	if (!bitmap->pgsize || !access_ok(bitmap->data, bitmap->size))
		return -EINVAL;
	npages = size >> __ffs(bitmap->pgsize);
	if (!npages || !bitmap->size ||
	    bitmap->size > VDIOMMU_DIRTY_BITMAP_SIZE_MAX ||
	    bitmap->size < VDIOMMU_DIRTY_BITMAP_BYTES(npages))
		return -EINVAL;
	return 0;
}

/* The smallest page size the IOAS maps, the dirty bitmaps' page size. */
static u64 vdiommu_vfio_pgsize(struct vdiommu_ioas *ioas)
{
	return READ_ONCE(ioas->iopt.iova_alignment);
}

/*
 * VFIO_IOMMU_DIRTY_PAGES, on /dev/vfio/vfio (upstream's iommufd compat has
 * none: ENOTTY on /dev/iommu): type1v2 only (-EACCES); one flag at a time;
 * START and STOP may repeat; GET_BITMAP wants tracking started, the
 * smallest page size, an aligned range that cuts no mapping, and a bitmap
 * big enough, else -EINVAL.
 */
static long vdiommu_vfio_dirty_pages(struct vdiommu_ctx *ictx,
				     void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dirty_bitmap,
					  flags);
	u32 mask = VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
		   VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
		   VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	struct vfio_iommu_type1_dirty_bitmap_get range;
	struct vfio_iommu_type1_dirty_bitmap dirty;
	struct vdiommu_ioas *ioas;
	u64 pgsize;
	long ret;

	ioas = vdiommu_vfio_get_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	ret = -EACCES;
	if (READ_ONCE(ioas->vfio_type1_v1))
		goto out_put;
	ret = -EFAULT;
	if (copy_from_user(&dirty, arg, minsz))
		goto out_put;
	ret = -EINVAL;
	if (dirty.argsz < minsz || (dirty.flags & ~mask) ||
	    hweight32(dirty.flags) != 1)
		goto out_put;

	if (dirty.flags != VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP) {
		mutex_lock(&ictx->vfio_lock);
		WRITE_ONCE(ictx->vfio_dirty_tracking,
			   dirty.flags == VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
		mutex_unlock(&ictx->vfio_lock);
		ret = 0;
		goto out_put;
	}

	if (dirty.argsz - minsz < sizeof(range))
		goto out_put;
	ret = -EFAULT;
	if (copy_from_user(&range, arg + minsz, sizeof(range)))
		goto out_put;
	ret = -EINVAL;
	if (range.iova + range.size < range.iova)
		goto out_put;
	ret = vdiommu_vfio_check_bitmap(&range.bitmap, range.size);
	if (ret)
		goto out_put;
	pgsize = vdiommu_vfio_pgsize(ioas);
	ret = -EINVAL;
	if (range.bitmap.pgsize != pgsize || (range.iova & (pgsize - 1)) ||
	    !range.size || (range.size & (pgsize - 1)) ||
	    !READ_ONCE(ictx->vfio_dirty_tracking))
		goto out_put;
	ret = vdiommu_vfio_report_dirty(ioas, &range.bitmap, range.iova,
					range.size);
out_put:
	vdiommu_put_object(ictx, &ioas->obj);
	return ret;
}

/* A map or unmap range that wraps: each door's upstream answer. */
static long vdiommu_vfio_wrap_errno(struct vdiommu_ctx *ictx)
{
	return ictx->type1_door ? -EINVAL : -EOVERFLOW;
}

/*
 * VFIO_IOMMU_MAP_DMA.  VFIO_DMA_MAP_FLAG_VADDR, on /dev/vfio/vfio only and
 * without READ or WRITE, gives a mapping its user address again.
 */
static long vdiommu_vfio_map_dma(struct vdiommu_ctx *ictx,
				 struct vfio_iommu_type1_dma_map __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	u32 rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	struct vfio_iommu_type1_dma_map map;
	u32 flags = rw;
	int prot = IOMMU_CACHE;
	struct vdiommu_ioas *ioas;
	unsigned long iova;
	bool set_vaddr;
	long ret;

	if (copy_from_user(&map, arg, minsz))
		return -EFAULT;
	if (ictx->type1_door)
		flags |= VFIO_DMA_MAP_FLAG_VADDR;
	if (map.argsz < minsz || (map.flags & ~flags))
		return -EINVAL;
	set_vaddr = map.flags & VFIO_DMA_MAP_FLAG_VADDR;
	/* Access for a new mapping, none for a new address. */
	if (!(map.flags & rw) == !set_vaddr)
		return -EINVAL;
	if (!map.size || (map.size | map.iova | map.vaddr) & ~PAGE_MASK)
		return -EINVAL;
	if (map.iova + map.size - 1 < map.iova ||
	    map.vaddr + map.size - 1 < map.vaddr)
		return vdiommu_vfio_wrap_errno(ictx);
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;

	ioas = vdiommu_vfio_get_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	iova = map.iova;
	if (set_vaddr)
		ret = vdiommu_iopt_update_vaddr(&ioas->iopt, map.iova,
						map.iova + map.size - 1);
	else
		ret = vdiommu_ioas_map_user(ictx, ioas, map.vaddr, map.size,
					    &iova, prot, true);
	vdiommu_put_object(ictx, &ioas->obj);
	return ret;
}

static long vdiommu_vfio_unmap_dma(struct vdiommu_ctx *ictx,
				   struct vfio_iommu_type1_dma_unmap __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_unmap,
					  size);
	u32 flags = VFIO_DMA_UNMAP_FLAG_ALL;
	struct vfio_iommu_type1_dma_unmap unmap;
	struct vfio_bitmap bitmap = {};
	unsigned long unmapped = 0, last;
	struct vdiommu_ioas *ioas;
	bool dirty, vaddr;
	long ret;

	if (copy_from_user(&unmap, arg, minsz))
		return -EFAULT;
	/* The dirty bitmap and VFIO_UPDATE_VADDR on /dev/vfio/vfio only. */
	if (ictx->type1_door)
		flags |= VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			 VFIO_DMA_UNMAP_FLAG_VADDR;
	if (unmap.argsz < minsz || (unmap.flags & ~flags))
		return -EINVAL;
	dirty = unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	vaddr = unmap.flags & VFIO_DMA_UNMAP_FLAG_VADDR;
	if (dirty) {
		if ((unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) || vaddr ||
		    unmap.argsz < minsz + sizeof(bitmap))
			return -EINVAL;
		if (copy_from_user(&bitmap, (void __user *)arg + minsz,
				   sizeof(bitmap)))
			return -EFAULT;
		ret = vdiommu_vfio_check_bitmap(&bitmap, unmap.size);
		if (ret)
			return ret;
	}
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
	} else if (!unmap.size || (unmap.iova | unmap.size) & ~PAGE_MASK) {
		return -EINVAL;
	} else if (unmap.iova + unmap.size - 1 < unmap.iova) {
		return vdiommu_vfio_wrap_errno(ictx);
	}

	ioas = vdiommu_vfio_get_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (vaddr) {
		/* Marked, not unmapped; the same rules for what is taken. */
		last = unmap.iova + unmap.size - 1;
		if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL)
			last = ULONG_MAX;
		ret = vdiommu_iopt_invalidate_vaddr(&ioas->iopt, unmap.iova,
						    last,
						    READ_ONCE(ioas->vfio_type1_v1),
						    &unmapped);
		if (ret == -ENOENT)
			ret = -EINVAL;
		goto out_put;
	}
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		ret = vdiommu_iopt_unmap_all(&ioas->iopt, &unmapped);
		goto out_put;
	}
	/* The bits first, for what is about to go (type1v2: no split). */
	if (dirty) {
		ret = -EINVAL;
		if (!READ_ONCE(ictx->vfio_dirty_tracking) ||
		    bitmap.pgsize != vdiommu_vfio_pgsize(ioas))
			goto out_put;
		ret = vdiommu_vfio_report_dirty(ioas, &bitmap, unmap.iova,
						unmap.size);
		if (ret)
			goto out_put;
	}
	if (READ_ONCE(ioas->vfio_type1_v1)) {
		ret = vdiommu_iopt_unmap_v1(&ioas->iopt, unmap.iova, unmap.size,
					    &unmapped);
	} else {
		ret = vdiommu_iopt_unmap(&ioas->iopt, unmap.iova, unmap.size,
					 &unmapped);
		/* A mapping crosses an end: type1v2 refuses to split it. */
		if (ret == -ENOENT)
			ret = -EINVAL;
	}
out_put:
	vdiommu_put_object(ictx, &ioas->obj);
	if (ret)
		return ret;
	unmap.size = unmapped;
	if (copy_to_user(arg, &unmap, minsz))
		return -EFAULT;
	return 0;
}

/**
 * vdiommu_vfio_ioctl() - the legacy container ioctls of a context
 * @ictx: the context (/dev/vfio/vfio or /dev/iommu)
 * @cmd: an ioctl of VFIO_TYPE below IOMMUFD_CMD_BASE
 * @arg: its argument
 *
 * Return: as upstream's type1 container answers, or -ENOTTY for what is not
 * a container ioctl or not served (VFIO_IOMMU_DIRTY_PAGES, SPAPR).
 */
long vdiommu_vfio_ioctl(struct vdiommu_ctx *ictx, unsigned int cmd,
			unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return vdiommu_vfio_check_extension(ictx, arg);
	case VFIO_SET_IOMMU:
		return vdiommu_vfio_set_iommu(ictx, arg);
	case VFIO_IOMMU_GET_INFO:
		return vdiommu_vfio_get_info(ictx, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return vdiommu_vfio_map_dma(ictx, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return vdiommu_vfio_unmap_dma(ictx, uarg);
	case VFIO_IOMMU_DIRTY_PAGES:
		if (!ictx->type1_door)
			return -ENOTTY;
		return vdiommu_vfio_dirty_pages(ictx, uarg);
	default:
		return -ENOTTY;
	}
}
