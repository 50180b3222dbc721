// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd (vfiodev): the page tables (HWPTs).
 *
 * An HWPT is an IOMMU paging domain filled from one IOAS: allocated for a
 * device's IOMMU, with the coherency enforcement that IOMMU can give, and
 * kept on its IOAS's list so that every mapping of the IOAS reaches it.
 * Automatic HWPTs come and go with attachment (device.c); those of
 * IOMMU_HWPT_ALLOC are user space's objects.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/iommu.h>
#include <linux/slab.h>

#include "../compat.h"
#include "vdiommu_priv.h"

void vdiommu_hwpt_destroy(struct vdiommu_object *obj)
{
	struct vdiommu_hwpt *hwpt = container_of(obj, struct vdiommu_hwpt, obj);
	struct vdiommu_ioas *ioas = hwpt->ioas;

	if (!list_empty(&hwpt->hwpt_item)) {
		mutex_lock(&ioas->mutex);
		list_del(&hwpt->hwpt_item);
		mutex_unlock(&ioas->mutex);
		vdiommu_iopt_table_remove_domain(&ioas->iopt, hwpt->domain);
	}
	if (hwpt->domain)
		iommu_domain_free(hwpt->domain);
	if (ioas)
		refcount_dec(&ioas->obj.users);
}

/*
 * Creates an HWPT with a new paging domain on @ioas, for @dev's IOMMU,
 * enforcing cache coherency if @coherent; returns it unpublished.  Called
 * with @ioas->mutex held.
 */
struct vdiommu_hwpt *vdiommu_hwpt_alloc(struct vdiommu_ctx *ictx,
					struct device *dev, bool coherent,
					struct vdiommu_ioas *ioas,
					bool auto_domain)
{
	const struct iommu_domain_ops *ops;
	struct vdiommu_hwpt *hwpt;
	int ret;

	lockdep_assert_held(&ioas->mutex);

	hwpt = vdiommu_object_alloc(ictx, struct vdiommu_hwpt, VDIOMMU_OBJ_HWPT);
	if (IS_ERR(hwpt))
		return hwpt;
	INIT_LIST_HEAD(&hwpt->hwpt_item);
	hwpt->auto_domain = auto_domain;
	hwpt->ioas = ioas;
	refcount_inc(&ioas->obj.users);

	hwpt->domain = vfiodev_paging_domain_alloc(dev);
	if (IS_ERR(hwpt->domain)) {
		ret = PTR_ERR(hwpt->domain);
		hwpt->domain = NULL;
		goto err_abort;
	}

	/*
	 * A page table made for a device whose IOMMU can enforce coherency
	 * does: its mappings then ignore the device's no-snoop attribute.
	 */
	ops = hwpt->domain->ops;
	if (coherent) {
		if (!ops->enforce_cache_coherency ||
		    !ops->enforce_cache_coherency(hwpt->domain)) {
			ret = -EINVAL;
			goto err_abort;
		}
		hwpt->enforce_cache_coherency = true;
	}

	ret = vdiommu_iopt_table_add_domain(&ioas->iopt, hwpt->domain);
	if (ret)
		goto err_abort;
	list_add_tail(&hwpt->hwpt_item, &ioas->hwpt_list);
	return hwpt;

err_abort:
	/* vdiommu_hwpt_destroy() takes ioas->mutex; the list entry is empty. */
	vdiommu_object_abort(ictx, &hwpt->obj);
	return ERR_PTR(ret);
}

/* IOMMU_HWPT_ALLOC: paging domains only; no nesting, dirty tracking, IOPF. */
int vdiommu_hwpt_alloc_ioctl(struct vdiommu_ctx *ictx, void *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd;
	struct vdiommu_device *idev;
	struct vdiommu_hwpt *hwpt;
	struct vdiommu_object *pt;
	struct vdiommu_ioas *ioas;
	int ret;

	/*
	 * Upstream's order: the format first, then the device (ENOENT), the
	 * page table (EINVAL when it is none), and what the device's IOMMU
	 * can do with the flags and data last (EOPNOTSUPP).
	 */
	if (cmd->__reserved || cmd->__reserved2)
		return -EOPNOTSUPP;
	/* Data without a type, or a type without data. */
	if (!cmd->data_type != !cmd->data_len)
		return -EINVAL;

	idev = vdiommu_get_device(ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	pt = vdiommu_get_object(ictx, cmd->pt_id, VDIOMMU_OBJ_ANY);
	if (IS_ERR(pt)) {
		ret = -EINVAL;
		goto out_put_idev;
	}
	if (pt->type != VDIOMMU_OBJ_IOAS) {
		/* Nesting on a parent HWPT is not supported. */
		ret = pt->type == VDIOMMU_OBJ_HWPT ? -EOPNOTSUPP : -EINVAL;
		goto out_put_pt;
	}
	/* No nest parent, no dirty tracking, no driver-specific data. */
	if (cmd->flags || cmd->data_type != IOMMU_HWPT_DATA_NONE) {
		ret = -EOPNOTSUPP;
		goto out_put_pt;
	}
	ioas = container_of(pt, struct vdiommu_ioas, obj);

	mutex_lock(&ioas->mutex);
	hwpt = vdiommu_hwpt_alloc(ictx, idev->dev,
				  idev->enforce_cache_coherency, ioas, false);
	mutex_unlock(&ioas->mutex);
	if (IS_ERR(hwpt)) {
		ret = PTR_ERR(hwpt);
		goto out_put_pt;
	}
	/* Reply, then publish (the abort takes ioas->mutex itself). */
	cmd->out_hwpt_id = hwpt->obj.id;
	ret = vdiommu_ucmd_respond(cmd);
	if (ret)
		vdiommu_object_abort(ictx, &hwpt->obj);
	else
		vdiommu_object_finalize(ictx, &hwpt->obj);
out_put_pt:
	vdiommu_put_object(ictx, pt);
out_put_idev:
	vdiommu_put_object(ictx, &idev->obj);
	return ret;
}
