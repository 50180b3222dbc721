// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd (vfiodev): devices, their IOMMU groups, and their attachment to
 * the page tables (HWPTs, hw_pagetable.c).
 *
 * Binding a device claims its DMA ownership for the context: from then on
 * the IOMMU blocks its DMA until it is attached to an HWPT, and no kernel
 * driver or other context can use it.  Attaching to an IOAS uses an
 * automatic HWPT: an existing automatic one of that IOAS that the device is
 * compatible with, or a new one, destroyed when its last device leaves.
 * Attaching a device that is attached already replaces its page table in
 * one step, as upstream's VFIO_DEVICE_ATTACH_IOMMUFD_PT does.
 *
 * The IOMMU attaches groups, not devices, so attachment state lives in
 * struct vdiommu_group: every bound device of a group is attached to the
 * same HWPT or to none.
 *
 * Cache coherency: a device whose IOMMU can enforce it
 * (IOMMU_CAP_ENFORCE_CACHE_COHERENCY) gets page tables that do, so its
 * DMA cannot bypass the CPU caches with no-snoop transactions.  A device
 * whose IOMMU cannot is still usable; user space learns which case it has
 * from VFIODEV_IOMMU_DEVICE_INFO and chooses (see
 * Documentation/iommu.rst).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfiodev.h>

#include "../compat.h"
#include "vdiommu_priv.h"

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Bind devices whose MSIs the platform cannot isolate (no interrupt remapping)");

/* Bound groups by IOMMU group ID. */
static DEFINE_XARRAY(vdiommu_groups);
static DEFINE_MUTEX(vdiommu_groups_lock);

static struct vdiommu_group *vdiommu_group_get(struct iommu_group *group)
{
	unsigned long id = iommu_group_id(group);
	struct vdiommu_group *igroup;
	int ret;

	mutex_lock(&vdiommu_groups_lock);
	igroup = xa_load(&vdiommu_groups, id);
	if (igroup) {
		kref_get(&igroup->ref);
		goto out_unlock;
	}
	igroup = kzalloc(sizeof(*igroup), GFP_KERNEL_ACCOUNT);
	if (!igroup) {
		igroup = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	kref_init(&igroup->ref);
	mutex_init(&igroup->lock);
	INIT_LIST_HEAD(&igroup->devices);
	igroup->group = group;
	iommu_group_ref_get(group);
	ret = xa_err(xa_store(&vdiommu_groups, id, igroup, GFP_KERNEL));
	if (ret) {
		iommu_group_put(group);
		kfree(igroup);
		igroup = ERR_PTR(ret);
	}
out_unlock:
	mutex_unlock(&vdiommu_groups_lock);
	return igroup;
}

static void vdiommu_group_release(struct kref *kref)
{
	struct vdiommu_group *igroup =
		container_of(kref, struct vdiommu_group, ref);

	xa_erase(&vdiommu_groups, iommu_group_id(igroup->group));
	mutex_unlock(&vdiommu_groups_lock);
	WARN_ON(igroup->hwpt || igroup->attached);
	iommu_group_put(igroup->group);
	mutex_destroy(&igroup->lock);
	kfree(igroup);
}

static void vdiommu_group_put(struct vdiommu_group *igroup)
{
	kref_put_mutex(&igroup->ref, vdiommu_group_release,
		       &vdiommu_groups_lock);
}

/* Reserves the reserved regions of every attached device of @igroup. */
static int vdiommu_group_reserve(struct vdiommu_group *igroup,
				 struct vdiommu_iopt *iopt)
{
	struct vdiommu_device *idev, *undo;
	int ret;

	lockdep_assert_held(&igroup->lock);

	list_for_each_entry(idev, &igroup->devices, group_item) {
		if (!idev->attached)
			continue;
		ret = vdiommu_iopt_add_dev_resv(iopt, idev->dev, idev);
		if (ret)
			goto err_unreserve;
	}
	return 0;

err_unreserve:
	list_for_each_entry(undo, &igroup->devices, group_item) {
		if (undo == idev)
			break;
		if (undo->attached)
			vdiommu_iopt_unreserve(iopt, undo);
	}
	return ret;
}

static void vdiommu_group_unreserve(struct vdiommu_group *igroup,
				    struct vdiommu_iopt *iopt)
{
	struct vdiommu_device *idev;

	lockdep_assert_held(&igroup->lock);

	list_for_each_entry(idev, &igroup->devices, group_item)
		if (idev->attached)
			vdiommu_iopt_unreserve(iopt, idev);
}

/*
 * Switches @igroup from domain @from to @to.  The IOMMU core offers a
 * switch without a gap only to in-tree iommufd (its declaration is
 * private), so this detaches and attaches: while the group is owned for
 * user space, detaching puts it on the core's blocking domain, so DMA in
 * between faults and reaches nothing.  If @to refuses the group, @from is
 * attached again, as it was a moment before.
 */
static int vdiommu_group_switch_domain(struct vdiommu_group *igroup,
				       struct iommu_domain *from,
				       struct iommu_domain *to)
{
	int ret, undo;

	iommu_detach_group(from, igroup->group);
	ret = iommu_attach_group(to, igroup->group);
	if (!ret)
		return 0;
	undo = iommu_attach_group(from, igroup->group);
	if (undo)
		pr_warn_ratelimited("group %d left blocked: %d\n",
				    iommu_group_id(igroup->group), undo);
	return ret;
}

/*
 * Moves the attached devices of @igroup from @cur to @hwpt.
 * Their reserved regions move to the new IOAS first.
 */
static int vdiommu_group_replace(struct vdiommu_group *igroup,
				 struct vdiommu_hwpt *cur,
				 struct vdiommu_hwpt *hwpt)
{
	bool move = cur->ioas != hwpt->ioas;
	int ret;

	if (move) {
		ret = vdiommu_group_reserve(igroup, &hwpt->ioas->iopt);
		if (ret)
			return ret;
	}
	ret = vdiommu_group_switch_domain(igroup, cur->domain, hwpt->domain);
	if (ret) {
		if (move)
			vdiommu_group_unreserve(igroup, &hwpt->ioas->iopt);
		return ret;
	}
	if (move)
		vdiommu_group_unreserve(igroup, &cur->ioas->iopt);
	return 0;
}

/*
 * Attaches @idev (and with it its group) to @hwpt, or moves the group there
 * if @idev is attached elsewhere.  Each attached device holds a @users
 * reference on the group's HWPT; on a move, the caller drops those held on
 * the HWPT left (returned in @old), one per attached device.
 */
static int vdiommu_do_attach(struct vdiommu_device *idev,
			     struct vdiommu_hwpt *hwpt,
			     struct vdiommu_hwpt **old)
{
	struct vdiommu_group *igroup = idev->igroup;
	struct vdiommu_hwpt *cur = igroup->hwpt;
	int ret;

	lockdep_assert_held(&igroup->lock);
	*old = NULL;

	if (cur == hwpt && idev->attached)
		return 0;
	if (cur && cur != hwpt && !idev->attached)
		return -EINVAL;	/* the rest of the group is elsewhere */

	if (cur && cur != hwpt) {
		/* A type1 container keeps its groups where they are. */
		if (igroup->held)
			return -EBUSY;
		ret = vdiommu_group_replace(igroup, cur, hwpt);
		if (ret)
			return ret;
		refcount_add(igroup->attached, &hwpt->obj.users);
		igroup->hwpt = hwpt;
		*old = cur;
		return 0;
	}

	ret = vdiommu_iopt_add_dev_resv(&hwpt->ioas->iopt, idev->dev, idev);
	if (ret)
		return ret;
	if (!cur) {
		ret = iommu_attach_group(hwpt->domain, igroup->group);
		if (ret) {
			vdiommu_iopt_unreserve(&hwpt->ioas->iopt, idev);
			return ret;
		}
		igroup->hwpt = hwpt;
	}
	idev->attached = true;
	igroup->attached++;
	refcount_inc(&hwpt->obj.users);
	return 0;
}

/* Drops @n device references on @hwpt; an unused automatic one goes. */
static void vdiommu_hwpt_put_devices(struct vdiommu_ctx *ictx,
				     struct vdiommu_hwpt *hwpt, unsigned int n)
{
	if (!n)
		return;
	/* The table's own reference keeps it above zero. */
	if (refcount_sub_and_test(n, &hwpt->obj.users))
		WARN_ON(1);
	if (hwpt->auto_domain)
		vdiommu_object_remove(ictx, &hwpt->obj, 0);
}

static int vdiommu_attach_ioas(struct vdiommu_device *idev,
			       struct vdiommu_ioas *ioas, u32 *pt_id,
			       struct vdiommu_hwpt **old)
{
	struct vdiommu_hwpt *hwpt;
	int ret;

	mutex_lock(&ioas->mutex);
	list_for_each_entry(hwpt, &ioas->hwpt_list, hwpt_item) {
		if (!hwpt->auto_domain ||
		    hwpt->enforce_cache_coherency !=
		    idev->enforce_cache_coherency)
			continue;
		ret = vdiommu_do_attach(idev, hwpt, old);
		/* -EINVAL: this domain does not suit the device's IOMMU. */
		if (ret == -EINVAL)
			continue;
		if (!ret)
			*pt_id = hwpt->obj.id;
		goto out_unlock;
	}

	hwpt = vdiommu_hwpt_alloc(idev->ictx, idev->dev,
				  idev->enforce_cache_coherency, ioas, true);
	if (IS_ERR(hwpt)) {
		ret = PTR_ERR(hwpt);
		goto out_unlock;
	}
	ret = vdiommu_do_attach(idev, hwpt, old);
	if (ret) {
		mutex_unlock(&ioas->mutex);
		vdiommu_object_abort(idev->ictx, &hwpt->obj);
		return ret;
	}
	*pt_id = hwpt->obj.id;
	vdiommu_object_finalize(idev->ictx, &hwpt->obj);
out_unlock:
	mutex_unlock(&ioas->mutex);
	return ret;
}

/**
 * vdiommu_device_attach() - attach a bound device to an IOAS or HWPT
 * @idev: the device
 * @pt_id: in: an IOAS or HWPT ID; out: the HWPT used (for an IOAS, its
 *	automatic HWPT)
 *
 * A device that is attached already is moved, with no window in which its
 * DMA is blocked.
 *
 * Return: 0, -ENOENT (no such object), -EINVAL (wrong object type, or the
 * group is attached elsewhere), -EADDRINUSE (a reserved region of the
 * device is mapped in the IOAS), or an IOMMU error.
 */
int vdiommu_device_attach(struct vdiommu_device *idev, u32 *pt_id)
{
	struct vdiommu_group *igroup = idev->igroup;
	struct vdiommu_ctx *ictx = idev->ictx;
	struct vdiommu_hwpt *hwpt, *old = NULL;
	struct vdiommu_object *pt;
	struct vdiommu_ioas *ioas;
	unsigned int old_refs = 0;
	int ret;

	pt = vdiommu_get_object(ictx, *pt_id, VDIOMMU_OBJ_ANY);
	if (IS_ERR(pt))
		return PTR_ERR(pt);

	mutex_lock(&igroup->lock);
	switch (pt->type) {
	case VDIOMMU_OBJ_HWPT:
		hwpt = container_of(pt, struct vdiommu_hwpt, obj);
		ret = vdiommu_do_attach(idev, hwpt, &old);
		break;
	case VDIOMMU_OBJ_IOAS:
		ioas = container_of(pt, struct vdiommu_ioas, obj);
		ret = vdiommu_attach_ioas(idev, ioas, pt_id, &old);
		break;
	default:
		ret = -EINVAL;
	}
	if (old)
		old_refs = igroup->attached;
	mutex_unlock(&igroup->lock);
	vdiommu_put_object(ictx, pt);
	if (old)
		vdiommu_hwpt_put_devices(ictx, old, old_refs);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(vdiommu_device_attach, VFIODEV_IOMMU_NS);

/**
 * vdiommu_device_detach() - detach a device; its DMA is blocked again
 * @idev: the device; nothing happens if it is not attached
 */
void vdiommu_device_detach(struct vdiommu_device *idev)
{
	struct vdiommu_group *igroup = idev->igroup;
	struct vdiommu_hwpt *hwpt;

	mutex_lock(&igroup->lock);
	if (!idev->attached) {
		mutex_unlock(&igroup->lock);
		return;
	}
	hwpt = igroup->hwpt;
	vdiommu_iopt_unreserve(&hwpt->ioas->iopt, idev);
	idev->attached = false;
	if (!--igroup->attached && !igroup->held) {
		iommu_detach_group(hwpt->domain, igroup->group);
		igroup->hwpt = NULL;
	}
	mutex_unlock(&igroup->lock);
	vdiommu_hwpt_put_devices(idev->ictx, hwpt, 1);
}
EXPORT_SYMBOL_NS_GPL(vdiommu_device_detach, VFIODEV_IOMMU_NS);

/* Type1 containers: groups attached with no device open */

struct vdiommu_group_resv {
	struct vdiommu_iopt *iopt;
	void *owner;
};

static int vdiommu_group_resv_dev(struct device *dev, void *data)
{
	struct vdiommu_group_resv *r = data;

	return vdiommu_iopt_add_dev_resv(r->iopt, dev, r->owner);
}

static int vdiommu_group_first_dev(struct device *dev, void *data)
{
	struct device **first = data;

	*first = get_device(dev);
	return 1;
}

/*
 * Reserves the regions of every device of @igroup in @hwpt's IOAS, with
 * the group as owner, and attaches the group to @hwpt if it is not yet.
 * -EINVAL: the domain does not suit the group's IOMMU.
 */
static int vdiommu_group_hold_hwpt(struct vdiommu_group *igroup,
				   struct vdiommu_hwpt *hwpt)
{
	struct vdiommu_group_resv r = {
		.iopt = &hwpt->ioas->iopt,
		.owner = igroup,
	};
	int ret;

	lockdep_assert_held(&igroup->lock);

	/* Takes the IOMMU group's mutex, then the IOAS's iova_rwsem. */
	ret = iommu_group_for_each_dev(igroup->group, &r,
				       vdiommu_group_resv_dev);
	if (!ret && !igroup->hwpt)
		ret = iommu_attach_group(hwpt->domain, igroup->group);
	if (ret) {
		vdiommu_iopt_unreserve(r.iopt, igroup);
		return ret;
	}
	igroup->hwpt = hwpt;
	igroup->held = true;
	refcount_inc(&hwpt->obj.users);
	return 0;
}

/**
 * vdiommu_group_hold() - attach a container's IOMMU group as type1 does
 * @ictx: the context, which owns @group's DMA
 * @group: the IOMMU group
 * @coherent: every device of @group can have cache coherency enforced
 * @ioas: the compatibility IOAS
 * @out: set to the held group, for vdiommu_group_unhold()
 *
 * Type1 attaches a group to the container's domains when the container's
 * IOMMU is set, not when a device is opened: its windows then show in
 * VFIO_IOMMU_GET_INFO, and maps the IOMMU cannot translate are refused.
 * The group goes onto an automatic HWPT of @ioas (an existing one that
 * suits it, or a new one) and stays there, devices opened or not, until
 * vdiommu_group_unhold().  Devices attached meanwhile join that HWPT.
 *
 * Return: 0, -EBUSY (a device of the group is attached elsewhere),
 * -EADDRINUSE (a reserved region of the group is mapped), -ENOMEM, or
 * an IOMMU error.
 */
int vdiommu_group_hold(struct vdiommu_ctx *ictx, struct iommu_group *group,
		       bool coherent, struct vdiommu_ioas *ioas,
		       struct vdiommu_group **out)
{
	struct vdiommu_group *igroup;
	struct vdiommu_hwpt *hwpt;
	struct device *dev = NULL;
	int ret;

	igroup = vdiommu_group_get(group);
	if (IS_ERR(igroup))
		return PTR_ERR(igroup);

	mutex_lock(&igroup->lock);
	if (WARN_ON(igroup->held)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (igroup->hwpt) {
		/* Its devices were opened first: keep their HWPT. */
		ret = igroup->hwpt->ioas == ioas ?
		      vdiommu_group_hold_hwpt(igroup, igroup->hwpt) : -EBUSY;
		goto out_unlock;
	}

	mutex_lock(&ioas->mutex);
	list_for_each_entry(hwpt, &ioas->hwpt_list, hwpt_item) {
		if (!hwpt->auto_domain ||
		    hwpt->enforce_cache_coherency != coherent)
			continue;
		ret = vdiommu_group_hold_hwpt(igroup, hwpt);
		if (ret != -EINVAL)
			goto out_unlock_ioas;
	}
	iommu_group_for_each_dev(group, &dev, vdiommu_group_first_dev);
	if (!dev) {
		ret = -ENODEV;
		goto out_unlock_ioas;
	}
	hwpt = vdiommu_hwpt_alloc(ictx, dev, coherent, ioas, true);
	put_device(dev);
	if (IS_ERR(hwpt)) {
		ret = PTR_ERR(hwpt);
		goto out_unlock_ioas;
	}
	ret = vdiommu_group_hold_hwpt(igroup, hwpt);
	if (ret) {
		mutex_unlock(&ioas->mutex);
		mutex_unlock(&igroup->lock);
		vdiommu_object_abort(ictx, &hwpt->obj);
		vdiommu_group_put(igroup);
		return ret;
	}
	vdiommu_object_finalize(ictx, &hwpt->obj);
out_unlock_ioas:
	mutex_unlock(&ioas->mutex);
out_unlock:
	mutex_unlock(&igroup->lock);
	if (ret)
		vdiommu_group_put(igroup);
	else
		*out = igroup;
	return ret;
}

/**
 * vdiommu_group_unhold() - undo vdiommu_group_hold()
 * @ictx: the context
 * @igroup: the held group; detached unless a device of it still is
 *	attached
 */
void vdiommu_group_unhold(struct vdiommu_ctx *ictx,
			  struct vdiommu_group *igroup)
{
	struct vdiommu_hwpt *hwpt;

	mutex_lock(&igroup->lock);
	hwpt = igroup->hwpt;
	vdiommu_iopt_unreserve(&hwpt->ioas->iopt, igroup);
	igroup->held = false;
	if (!igroup->attached) {
		iommu_detach_group(hwpt->domain, igroup->group);
		igroup->hwpt = NULL;
	}
	mutex_unlock(&igroup->lock);
	vdiommu_hwpt_put_devices(ictx, hwpt, 1);
	vdiommu_group_put(igroup);
}

/* Device */

void vdiommu_device_destroy(struct vdiommu_object *obj)
{
	struct vdiommu_device *idev =
		container_of(obj, struct vdiommu_device, obj);

	if (!idev->igroup)
		return;
	mutex_lock(&idev->igroup->lock);
	list_del(&idev->group_item);
	mutex_unlock(&idev->igroup->lock);
	iommu_device_release_dma_owner(idev->dev);
	vdiommu_group_put(idev->igroup);
	put_device(idev->dev);
}

/**
 * vdiommu_device_bind() - put a device's DMA under a context
 * @ictx: the context; the device keeps a reference on its file until unbound
 * @dev: the device
 * @id: set to the device's ID in @ictx
 *
 * Return: the bound device, or ERR_PTR(): -ENODEV (no IOMMU), -EINVAL (the
 * IOMMU cannot give cache-coherent DMA at all), -EPERM (MSIs not isolated
 * and allow_unsafe_interrupts not set), -EBUSY (the device's DMA is owned
 * elsewhere: a kernel driver of its group, or another context), -ENOMEM.
 */
struct vdiommu_device *vdiommu_device_bind(struct vdiommu_ctx *ictx,
					   struct device *dev, u32 *id)
{
	struct vdiommu_group *igroup;
	struct vdiommu_device *idev;
	struct iommu_group *group;
	int ret;

	group = iommu_group_get(dev);
	if (!group)
		return ERR_PTR(-ENODEV);
	if (!device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY)) {
		ret = -EINVAL;
		goto out_put_group;
	}
	if (!iommu_group_has_isolated_msi(group) && !allow_unsafe_interrupts) {
		dev_warn(dev, "no interrupt isolation; see the allow_unsafe_interrupts parameter\n");
		ret = -EPERM;
		goto out_put_group;
	}

	igroup = vdiommu_group_get(group);
	if (IS_ERR(igroup)) {
		ret = PTR_ERR(igroup);
		goto out_put_group;
	}
	ret = iommu_device_claim_dma_owner(dev, ictx);
	if (ret)
		goto err_put_igroup;

	idev = vdiommu_object_alloc(ictx, struct vdiommu_device,
				    VDIOMMU_OBJ_DEVICE);
	if (IS_ERR(idev)) {
		ret = PTR_ERR(idev);
		goto err_release_owner;
	}
	idev->ictx = ictx;
	idev->dev = get_device(dev);
	idev->igroup = igroup;
	idev->enforce_cache_coherency =
		device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
	mutex_lock(&igroup->lock);
	list_add_tail(&idev->group_item, &igroup->devices);
	mutex_unlock(&igroup->lock);
	get_file(ictx->file);
	/* The caller's reference, dropped by vdiommu_device_unbind(). */
	refcount_inc(&idev->obj.users);
	*id = idev->obj.id;
	vdiommu_object_finalize(ictx, &idev->obj);
	iommu_group_put(group);
	return idev;

err_release_owner:
	iommu_device_release_dma_owner(dev);
err_put_igroup:
	vdiommu_group_put(igroup);
out_put_group:
	iommu_group_put(group);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(vdiommu_device_bind, VFIODEV_IOMMU_NS);

/**
 * vdiommu_device_unbind() - undo vdiommu_device_bind()
 * @idev: the device; detached first if attached
 *
 * Waits for ioctls using the device's ID to finish.
 */
void vdiommu_device_unbind(struct vdiommu_device *idev)
{
	struct vdiommu_ctx *ictx = idev->ictx;
	struct file *file = ictx->file;

	vdiommu_device_detach(idev);
	refcount_dec(&idev->obj.users);
	vdiommu_object_destroy_user(ictx, &idev->obj);
	/* Last: this may be the context's last reference. */
	fput(file);
}
EXPORT_SYMBOL_NS_GPL(vdiommu_device_unbind, VFIODEV_IOMMU_NS);

/**
 * vdiommu_device_ctx() - the context a device is bound to, and its ID there
 * @idev: the device
 * @id: set to the ID user space knows the device by
 *
 * Return: the context; only to compare with another's, never to use.
 */
const struct vdiommu_ctx *vdiommu_device_ctx(struct vdiommu_device *idev,
					     u32 *id)
{
	*id = idev->obj.id;
	return idev->ictx;
}
EXPORT_SYMBOL_NS_GPL(vdiommu_device_ctx, VFIODEV_IOMMU_NS);

/**
 * vdiommu_device_ctx_owns_group() - does @idev's context own @group's DMA
 * @idev: a bound device
 * @group: any IOMMU group
 *
 * A group's DMA belongs to one owner at a time: a context owns it when a
 * device of the group is bound there.  A reset that takes devices along
 * asks this for a device that is not bound anywhere: the context that owns
 * its group may reset it, as nobody else can use it.
 *
 * Return: true if a device of @group is bound to @idev's context.
 */
bool vdiommu_device_ctx_owns_group(struct vdiommu_device *idev,
				   struct iommu_group *group)
{
	struct vdiommu_ctx *ictx = idev->ictx;
	struct vdiommu_object *obj;
	unsigned long index;
	bool ret = false;

	/*
	 * The xarray lock alone: callers hold device locks that page faults
	 * take, which the group locks must not depend on.  A published
	 * device keeps its group until it is unpublished, under this lock.
	 */
	xa_lock(&ictx->objects);
	xa_for_each(&ictx->objects, index, obj) {
		if (obj->type == VDIOMMU_OBJ_DEVICE &&
		    container_of(obj, struct vdiommu_device,
				 obj)->igroup->group == group) {
			ret = true;
			break;
		}
	}
	xa_unlock(&ictx->objects);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(vdiommu_device_ctx_owns_group, VFIODEV_IOMMU_NS);

/**
 * vdiommu_device_enforced_coherent() - is the device's DMA coherent now
 * @idev: the device
 *
 * Return: true if it is attached to a page table that enforces cache
 * coherency.
 */
bool vdiommu_device_enforced_coherent(struct vdiommu_device *idev)
{
	bool ret;

	mutex_lock(&idev->igroup->lock);
	ret = idev->attached && idev->igroup->hwpt->enforce_cache_coherency;
	mutex_unlock(&idev->igroup->lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(vdiommu_device_enforced_coherent, VFIODEV_IOMMU_NS);

struct vdiommu_device *vdiommu_get_device(struct vdiommu_ctx *ictx, u32 id)
{
	struct vdiommu_object *obj = vdiommu_get_object(ictx, id,
							 VDIOMMU_OBJ_DEVICE);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct vdiommu_device, obj);
}

int vdiommu_get_hw_info(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct iommu_hw_info *cmd = ucmd;
	void __user *uptr = u64_to_user_ptr(cmd->data_uptr);
	const struct iommu_ops *ops;
	struct vdiommu_device *idev;
	u32 len = 0, copy;
	void *data = NULL;
	int ret = 0;

	if (cmd->flags || memchr_inv(cmd->__reserved, 0,
				     sizeof(cmd->__reserved)))
		return -EOPNOTSUPP;

	idev = vdiommu_get_device(ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);

	ops = idev->dev->iommu->iommu_dev->ops;
	cmd->out_data_type = IOMMU_HW_INFO_TYPE_NONE;
	if (ops->hw_info) {
		data = ops->hw_info(idev->dev, &len, &cmd->out_data_type);
		if (IS_ERR(data)) {
			ret = PTR_ERR(data);
			goto out_put;
		}
	}
	copy = min(cmd->data_len, len);
	if (copy_to_user(uptr, data, copy) ||
	    (cmd->data_len > copy &&
	     clear_user(uptr + copy, cmd->data_len - copy))) {
		ret = -EFAULT;
		goto out_free;
	}
	cmd->data_len = len;
	/*
	 * Only what HWPT_ALLOC and the HWPT ioctls accept.  Dirty tracking is
	 * not offered (IOMMU_HWPT_ALLOC_DIRTY_TRACKING is refused), so it is
	 * not reported even where the IOMMU could: QEMU asks for a
	 * dirty-tracking HWPT whenever the bit is set and fails the device
	 * when it cannot have one.
	 */
	cmd->out_capabilities = 0;
	cmd->out_max_pasid_log2 = 0;
out_free:
	kfree(data);
out_put:
	vdiommu_put_object(ictx, &idev->obj);
	return ret;
}

/* VFIODEV_IOMMU_DEVICE_INFO: vfiodev's own. */
int vdiommu_device_info(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct vfiodev_iommu_device_info *cmd = ucmd;
	struct vdiommu_device *idev;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	idev = vdiommu_get_device(ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	cmd->out_capabilities = 0;
	if (idev->enforce_cache_coherency)
		cmd->out_capabilities |=
			VFIODEV_IOMMU_DEVICE_CAP_ENFORCE_CACHE_COHERENCY;
	if (vdiommu_device_enforced_coherent(idev))
		cmd->out_capabilities |= VFIODEV_IOMMU_DEVICE_ENFORCING;
	vdiommu_put_object(ictx, &idev->obj);
	return 0;
}
