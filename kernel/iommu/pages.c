// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd (vfiodev): pinning user memory and charging it.
 *
 * Theory of operation
 * -------------------
 * IOAS_MAP pins the whole user range at once, with FOLL_LONGTERM, and keeps
 * the struct page pointers in a struct vdiommu_pages.  Areas (mappings at an
 * IOVA) refer to a slice of a pages object and hold a reference on it; the
 * last area to go unpins and uncharges.  So memory has exactly one pin and
 * one charge however many areas map it:
 *   - IOAS_COPY makes the new areas refer to the source's pages objects;
 *   - IOAS_MAP of user memory that an existing pages object of the same
 *     context already covers shares that object.  Because user space may
 *     have replaced the memory behind the address since (munmap + mmap),
 *     the range is pinned again and the pages are compared; only identical
 *     pages are shared, and the temporary pin is dropped at once.
 *
 * Charging follows iommufd: the pages are added to the mm's pinned_vm
 * (VmPin in /proc/PID/status) and, unless the caller has CAP_IPC_LOCK,
 * charged against RLIMIT_MEMLOCK either per user (user_struct::locked_vm,
 * the default) or per process (mm_struct::locked_vm), as the context's
 * IOMMU_OPTION_RLIMIT_MODE says.  The charge is taken before pinning and
 * given back exactly once, when the pages object is released, which may be
 * after the process that mapped the memory has exited.  A mapping given a
 * new user address by another process (VFIO_DMA_MAP_FLAG_VADDR) moves its
 * charge there (vdiommu_pages_take_charge()).
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vdiommu_priv.h"

/* pin_user_pages_fast() takes an int; pin at most this many at a time. */
#define VDIOMMU_PIN_BATCH	65536UL

static int vdiommu_charge_user(struct user_struct *user, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	long cur = atomic_long_read(&user->locked_vm);

	do {
		if (npages > limit || cur > limit - npages)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, cur + npages));
	return 0;
}

/* Charges @npages to @mm (and @user) as @account says. */
static int vdiommu_charge(u8 account, struct mm_struct *mm,
			  struct user_struct *user, unsigned long npages)
{
	int ret;

	switch (account) {
	case VDIOMMU_ACCOUNT_USER:
		ret = vdiommu_charge_user(user, npages);
		break;
	case VDIOMMU_ACCOUNT_MM:
		ret = account_locked_vm(mm, npages, true);
		break;
	default:
		ret = 0;
	}
	if (ret)
		return ret;
	atomic64_add(npages, &mm->pinned_vm);
	return 0;
}

static void vdiommu_uncharge(u8 account, struct mm_struct *mm,
			     struct user_struct *user, unsigned long npages)
{
	atomic64_sub(npages, &mm->pinned_vm);
	switch (account) {
	case VDIOMMU_ACCOUNT_USER:
		atomic_long_sub(npages, &user->locked_vm);
		break;
	case VDIOMMU_ACCOUNT_MM:
		account_locked_vm(mm, npages, false);
		break;
	}
}

static int vdiommu_pages_charge(struct vdiommu_pages *pages)
{
	return vdiommu_charge(pages->account, pages->source_mm,
			      pages->source_user, pages->npages);
}

static void vdiommu_pages_uncharge(struct vdiommu_pages *pages)
{
	vdiommu_uncharge(pages->account, pages->source_mm, pages->source_user,
			 pages->npages);
}

/* How memory pinned now by current for @ictx is charged. */
static u8 vdiommu_account_mode(struct vdiommu_ctx *ictx)
{
	if (capable(CAP_IPC_LOCK))
		return VDIOMMU_ACCOUNT_NONE;
	if (ictx->account_user_mode)
		return VDIOMMU_ACCOUNT_USER;
	return VDIOMMU_ACCOUNT_MM;
}

/* Pins @npages from @uptr of current's mm into @out; all or nothing. */
static int vdiommu_pin(unsigned long uptr, unsigned long npages, bool writable,
		       struct page **out)
{
	unsigned int gup_flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
	unsigned long done = 0;
	int ret;

	while (done < npages) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_unpin;
		}
		ret = pin_user_pages_fast(uptr + done * PAGE_SIZE,
					  min(npages - done, VDIOMMU_PIN_BATCH),
					  gup_flags, out + done);
		if (ret <= 0) {
			ret = ret ? ret : -EFAULT;
			goto err_unpin;
		}
		done += ret;
	}
	return 0;

err_unpin:
	unpin_user_pages(out, done);
	return ret;
}

/*
 * Looks for a pages object of @ictx covering [uptr, last] of current's mm
 * with at least the access asked for; returns it with a reference.
 */
static struct vdiommu_pages *vdiommu_pages_find(struct vdiommu_ctx *ictx,
						unsigned long uptr,
						unsigned long last,
						bool writable)
{
	struct interval_tree_node *node;
	struct vdiommu_pages *pages;

	lockdep_assert_held(&ictx->pages_lock);

	for (node = interval_tree_iter_first(&ictx->pages_itree, uptr, last);
	     node; node = interval_tree_iter_next(node, uptr, last)) {
		pages = container_of(node, struct vdiommu_pages, node);
		if (node->start > uptr || node->last < last ||
		    pages->source_mm != current->mm ||
		    (writable && !pages->writable))
			continue;
		if (kref_get_unless_zero(&pages->kref))
			return pages;
	}
	return NULL;
}

/*
 * Shares @cand if the user memory at @uptr is still backed by its pages.
 * @tmp has room for @npages pointers.
 */
static bool vdiommu_pages_same(struct vdiommu_pages *cand, unsigned long uptr,
			       unsigned long npages, struct page **tmp)
{
	unsigned long index = (uptr - cand->node.start) >> PAGE_SHIFT;
	bool same;

	if (vdiommu_pin(uptr, npages, cand->writable, tmp))
		return false;
	same = !memcmp(tmp, cand->pages + index, npages * sizeof(*tmp));
	unpin_user_pages(tmp, npages);
	return same;
}

/**
 * vdiommu_pages_get() - pin user memory, or share an existing pin of it
 * @ictx: the context mapping the memory
 * @uptr: page-aligned user address in current's mm
 * @length: page-aligned length, not zero
 * @writable: the device may write
 * @page_index: set to the index of @uptr's page in the returned object
 *
 * Return: a pages object with a reference for the caller, or an ERR_PTR():
 * -ENOMEM if RLIMIT_MEMLOCK would be exceeded, -EFAULT for a bad range.
 */
struct vdiommu_pages *vdiommu_pages_get(struct vdiommu_ctx *ictx,
					unsigned long uptr,
					unsigned long length, bool writable,
					unsigned long *page_index)
{
	unsigned long npages = length >> PAGE_SHIFT;
	unsigned long last = uptr + length - 1;
	struct vdiommu_pages *pages, *cand;
	struct page **array, *one;
	int ret;

	/*
	 * A range outside user space cannot be pinned; one inside it but
	 * too large for the array fails as the allocation it is, quietly:
	 * kvmalloc() WARNs on sizes over INT_MAX unless told not to, and
	 * user space must not be able to reach a WARN.
	 */
	if (!access_ok((void __user *)uptr, length))
		return ERR_PTR(-EFAULT);
	/* One page needs no array: on the stack, then in the object. */
	if (npages == 1) {
		array = &one;
	} else {
		array = kvcalloc(npages, sizeof(*array),
				 GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!array)
			return ERR_PTR(-ENOMEM);
	}

	mutex_lock(&ictx->pages_lock);
	cand = vdiommu_pages_find(ictx, uptr, last, writable);
	mutex_unlock(&ictx->pages_lock);
	if (cand) {
		if (vdiommu_pages_same(cand, uptr, npages, array)) {
			if (array != &one)
				kvfree(array);
			*page_index = (uptr - cand->node.start) >> PAGE_SHIFT;
			return cand;
		}
		vdiommu_pages_put(cand);
	}

	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages) {
		ret = -ENOMEM;
		goto err_free_array;
	}
	kref_init(&pages->kref);
	pages->ictx = ictx;
	pages->node.start = uptr;
	pages->node.last = last;
	pages->npages = npages;
	pages->writable = writable;
	pages->pages = array == &one ? &pages->one_page : array;
	pages->source_mm = current->mm;
	mmgrab(pages->source_mm);
	pages->source_user = get_current_user();
	pages->account = vdiommu_account_mode(ictx);

	ret = vdiommu_pages_charge(pages);
	if (ret)
		goto err_put_source;
	ret = vdiommu_pin(uptr, npages, writable, pages->pages);
	if (ret)
		goto err_uncharge;

	mutex_lock(&ictx->pages_lock);
	interval_tree_insert(&pages->node, &ictx->pages_itree);
	mutex_unlock(&ictx->pages_lock);
	*page_index = 0;
	return pages;

err_uncharge:
	vdiommu_pages_uncharge(pages);
err_put_source:
	free_uid(pages->source_user);
	mmdrop(pages->source_mm);
	kfree(pages);
err_free_array:
	if (array != &one)
		kvfree(array);
	return ERR_PTR(ret);
}

/**
 * vdiommu_pages_put() - drop a reference; the last one unpins and uncharges
 * @pages: the pages object
 */
void vdiommu_pages_put(struct vdiommu_pages *pages)
{
	struct vdiommu_ctx *ictx = pages->ictx;

	if (!refcount_dec_and_mutex_lock(&pages->kref.refcount,
					 &ictx->pages_lock))
		return;
	interval_tree_remove(&pages->node, &ictx->pages_itree);
	mutex_unlock(&ictx->pages_lock);

	unpin_user_pages_dirty_lock(pages->pages, pages->npages,
				    pages->writable);
	vdiommu_pages_uncharge(pages);
	free_uid(pages->source_user);
	mmdrop(pages->source_mm);
	if (pages->pages != &pages->one_page)
		kvfree(pages->pages);
	kfree(pages);
}

/**
 * vdiommu_pages_take_charge() - charge pinned pages to the current process
 * @pages: the pages object
 *
 * For a mapping given its user address again by another process than the
 * one charged for it (VFIO_DMA_MAP_FLAG_VADDR after exec, or in the
 * process a VMM hands its container to): the charge moves to the caller,
 * as type1 moves it, and is given back there.  Every area sharing @pages
 * moves with it, as a pages object has one charge.  The object keeps its
 * place in the context's tree, keyed by the old address: a later map may
 * fail to share it, never share wrongly (vdiommu_pages_same()).
 *
 * Return: 0, also when the caller's mm is charged already, or -ENOMEM if
 * the caller's RLIMIT_MEMLOCK has no room for the pages.
 */
int vdiommu_pages_take_charge(struct vdiommu_pages *pages)
{
	struct vdiommu_ctx *ictx = pages->ictx;
	struct mm_struct *mm = current->mm;
	struct user_struct *user;
	int ret = 0;
	u8 account;

	mutex_lock(&ictx->pages_lock);
	if (pages->source_mm == mm)
		goto out_unlock;
	account = vdiommu_account_mode(ictx);
	user = get_current_user();
	ret = vdiommu_charge(account, mm, user, pages->npages);
	if (ret) {
		free_uid(user);
		goto out_unlock;
	}
	vdiommu_pages_uncharge(pages);
	free_uid(pages->source_user);
	mmdrop(pages->source_mm);
	mmgrab(mm);
	pages->source_mm = mm;
	pages->source_user = user;
	pages->account = account;
out_unlock:
	mutex_unlock(&ictx->pages_lock);
	return ret;
}
