// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd (vfiodev): the IOVA space of an IOAS and the IOMMU domains it fills.
 *
 * Three interval trees describe the IOVA space: areas (what is mapped),
 * reserved ranges (device reserved regions such as the MSI window, and what
 * lies outside a domain's aperture), and allowed ranges (IOMMU_IOAS_ALLOW_IOVAS:
 * where kernel-chosen IOVAs go, and what reservations may not narrow).  Every
 * lookup is O(log n) in the number of areas.  Every area is mapped into
 * every domain of the IOAS at all times; attaching a domain maps all areas
 * into it, detaching unmaps them.
 *
 * Mapping uses physically contiguous runs of the pinned pages, so the IOMMU
 * driver can use its largest page sizes; unmapping gathers the IOTLB
 * invalidations of a whole request and flushes once per domain.
 *
 * Nothing here knows the uAPI.
 */
#include <kunit/visibility.h>
#include <linux/iommu.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include "vdiommu_priv.h"

#define area_of(n)	container_of(n, struct vdiommu_area, node)

static unsigned long area_npages(struct vdiommu_area *area)
{
	return (area->node.last - area->node.start + 1) >> PAGE_SHIFT;
}

void vdiommu_iopt_init(struct vdiommu_iopt *iopt)
{
	init_rwsem(&iopt->domains_rwsem);
	init_rwsem(&iopt->iova_rwsem);
	iopt->area_itree = RB_ROOT_CACHED;
	iopt->allowed_itree = RB_ROOT_CACHED;
	iopt->reserved_itree = RB_ROOT_CACHED;
	xa_init_flags(&iopt->domains, XA_FLAGS_ALLOC | XA_FLAGS_ACCOUNT);
	iopt->iova_alignment = PAGE_SIZE;
}
EXPORT_SYMBOL_IF_KUNIT(vdiommu_iopt_init);

static void vdiommu_free_itree(struct rb_root_cached *root)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(root, 0, ULONG_MAX))) {
		interval_tree_remove(node, root);
		kfree(node);
	}
}

/**
 * vdiommu_iopt_destroy() - free an IOVA space without domains
 * @iopt: the IOVA space
 *
 * Areas left are dropped (their pages unpinned once unused).
 */
void vdiommu_iopt_destroy(struct vdiommu_iopt *iopt)
{
	struct interval_tree_node *node;

	WARN_ON(!xa_empty(&iopt->domains));
	while ((node = interval_tree_iter_first(&iopt->area_itree, 0,
						ULONG_MAX))) {
		struct vdiommu_area *area = area_of(node);

		interval_tree_remove(node, &iopt->area_itree);
		vdiommu_pages_put(area->pages);
		kfree(area);
	}
	vdiommu_free_itree(&iopt->allowed_itree);
	vdiommu_free_itree(&iopt->reserved_itree);
	xa_destroy(&iopt->domains);
}
EXPORT_SYMBOL_IF_KUNIT(vdiommu_iopt_destroy);

/* Unmaps [iova, iova + size) of @domain, collecting flushes in @gather. */
static void vdiommu_domain_unmap(struct iommu_domain *domain,
				 unsigned long iova, size_t size,
				 struct iommu_iotlb_gather *gather)
{
	size_t done = 0, ret;

	while (done < size) {
		ret = iommu_unmap_fast(domain, iova + done, size - done, gather);
		if (WARN_ON(!ret))
			break;
		done += ret;
	}
}

static int vdiommu_area_map_domain(struct vdiommu_iopt *iopt,
				   struct vdiommu_area *area,
				   struct iommu_domain *domain)
{
	struct page **pages = area->pages->pages + area->page_index;
	unsigned long npages = area_npages(area);
	unsigned long iova = area->node.start;
	unsigned long i = 0, run;
	int ret;

	while (i < npages) {
		run = 1;
		if (!iopt->disable_large_pages)
			while (i + run < npages &&
			       page_to_pfn(pages[i + run]) ==
			       page_to_pfn(pages[i]) + run)
				run++;
		ret = iommu_map(domain, iova + i * PAGE_SIZE,
				page_to_phys(pages[i]), run * PAGE_SIZE,
				area->iommu_prot, GFP_KERNEL_ACCOUNT);
		if (ret)
			goto err_unmap;
		i += run;
		cond_resched();
	}
	return 0;

err_unmap:
	if (i)
		iommu_unmap(domain, iova, i * PAGE_SIZE);
	return ret;
}

/* Maps @area into every domain of @iopt, or into none. */
static int vdiommu_area_fill_domains(struct vdiommu_iopt *iopt,
				     struct vdiommu_area *area)
{
	struct iommu_domain *domain, *undo;
	unsigned long index, uindex;
	int ret;

	lockdep_assert_held(&iopt->domains_rwsem);

	xa_for_each(&iopt->domains, index, domain) {
		ret = vdiommu_area_map_domain(iopt, area, domain);
		if (ret)
			goto err_unmap;
	}
	return 0;

err_unmap:
	xa_for_each(&iopt->domains, uindex, undo) {
		if (uindex == index)
			break;
		iommu_unmap(undo, area->node.start,
			    area->node.last - area->node.start + 1);
	}
	return ret;
}

static bool vdiommu_iopt_reserved(struct vdiommu_iopt *iopt,
				  unsigned long start, unsigned long last)
{
	return interval_tree_iter_first(&iopt->reserved_itree, start, last);
}

/*
 * Finds the first free, aligned IOVA of @length in [lo, hi], inside the
 * allowed ranges if there are any.  Each step skips one obstacle.
 */
static bool vdiommu_find_hole(struct vdiommu_iopt *iopt, unsigned long lo,
			      unsigned long hi, unsigned long length,
			      unsigned long align, unsigned long *out)
{
	bool restricted = !RB_EMPTY_ROOT(&iopt->allowed_itree.rb_root);
	struct interval_tree_node *node;
	unsigned long cur = lo, last;

	for (;;) {
		if (check_add_overflow(cur, align - 1, &cur))
			return false;
		cur &= ~(align - 1);
		if (check_add_overflow(cur, length - 1, &last) || last > hi)
			return false;

		if (restricted) {
			node = interval_tree_iter_first(&iopt->allowed_itree,
							cur, ULONG_MAX);
			if (!node)
				return false;
			if (node->start > cur) {
				cur = node->start;
				continue;
			}
			if (node->last < last) {
				if (node->last == ULONG_MAX)
					return false;
				cur = node->last + 1;
				continue;
			}
		}
		node = interval_tree_iter_first(&iopt->area_itree, cur, last);
		if (!node)
			node = interval_tree_iter_first(&iopt->reserved_itree,
							cur, last);
		if (!node) {
			*out = cur;
			return true;
		}
		if (node->last == ULONG_MAX)
			return false;
		cur = node->last + 1;
	}
}

/**
 * vdiommu_iopt_alloc_iova() - choose a free IOVA
 * @iopt: the IOVA space (iova_rwsem held for writing)
 * @length: bytes
 * @uptr: the user address to be mapped, whose alignment the IOVA copies
 * @iova: set to the IOVA found
 *
 * Return: 0 or -ENOSPC.
 */
VISIBLE_IF_KUNIT int vdiommu_iopt_alloc_iova(struct vdiommu_iopt *iopt,
					     unsigned long length,
					     unsigned long uptr,
					     unsigned long *iova)
{
	unsigned long align;

	lockdep_assert_held_write(&iopt->iova_rwsem);

	/*
	 * Give the IOVA the alignment the user address has, up to the
	 * length, so that huge pages of the process can be mapped as huge
	 * IOMMU pages.  Never below the domains' minimum page size.
	 */
	align = uptr ? 1UL << __ffs(uptr) : PUD_SIZE;
	align = min3(align, (unsigned long)PUD_SIZE,
		     (unsigned long)roundup_pow_of_two(length));
	align = max(align, iopt->iova_alignment);

	/* Next fit: start after the last allocation, wrap once.  Not 0. */
	if (vdiommu_find_hole(iopt, max(iopt->alloc_hint, PAGE_SIZE),
			      ULONG_MAX, length, align, iova) ||
	    vdiommu_find_hole(iopt, PAGE_SIZE, ULONG_MAX, length, align, iova)) {
		iopt->alloc_hint = *iova + length;
		return 0;
	}
	return -ENOSPC;
}
EXPORT_SYMBOL_IF_KUNIT(vdiommu_iopt_alloc_iova);

static int vdiommu_iopt_check_iova(struct vdiommu_iopt *iopt,
				   unsigned long iova, unsigned long length)
{
	unsigned long last;

	lockdep_assert_held(&iopt->iova_rwsem);

	if (iova & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (vdiommu_iopt_reserved(iopt, iova, last))
		return -EINVAL;
	if (interval_tree_iter_first(&iopt->area_itree, iova, last))
		return -EEXIST;
	return 0;
}

/**
 * struct vdiommu_slice - part of a pinned range to map
 * @pages: the pinned range; the new area takes its own reference
 * @index: first page
 * @npages: number of pages
 */
struct vdiommu_slice {
	struct vdiommu_pages *pages;
	unsigned long index;
	unsigned long npages;
};

static void vdiommu_remove_areas(struct vdiommu_iopt *iopt,
				 struct list_head *removed)
{
	struct iommu_iotlb_gather gather;
	struct iommu_domain *domain;
	struct vdiommu_area *area;
	unsigned long index;

	lockdep_assert_held(&iopt->domains_rwsem);
	lockdep_assert_held_write(&iopt->iova_rwsem);

	xa_for_each(&iopt->domains, index, domain) {
		iommu_iotlb_gather_init(&gather);
		list_for_each_entry(area, removed, free_item) {
			vdiommu_domain_unmap(domain, area->node.start,
					     area->node.last -
					     area->node.start + 1, &gather);
		}
		iommu_iotlb_sync(domain, &gather);
	}
}

/*
 * Inserts one area per slice, consecutive from @iova, and maps them into
 * every domain.  All or nothing.
 */
static int vdiommu_iopt_insert(struct vdiommu_iopt *iopt,
			       struct vdiommu_slice *slices, unsigned int n,
			       unsigned long iova, int iommu_prot)
{
	struct vdiommu_area **areas, *one;
	unsigned int i, j;
	int ret;

	lockdep_assert_held(&iopt->domains_rwsem);
	lockdep_assert_held_write(&iopt->iova_rwsem);

	/* A map has one slice: no array for it. */
	if (n == 1) {
		areas = &one;
	} else {
		areas = kcalloc(n, sizeof(*areas), GFP_KERNEL_ACCOUNT);
		if (!areas)
			return -ENOMEM;
	}

	for (i = 0; i < n; i++) {
		areas[i] = kzalloc(sizeof(*areas[i]), GFP_KERNEL_ACCOUNT);
		if (!areas[i]) {
			ret = -ENOMEM;
			goto err_remove;
		}
		areas[i]->node.start = iova;
		areas[i]->node.last = iova + slices[i].npages * PAGE_SIZE - 1;
		areas[i]->pages = slices[i].pages;
		areas[i]->page_index = slices[i].index;
		areas[i]->iommu_prot = iommu_prot;
		ret = vdiommu_area_fill_domains(iopt, areas[i]);
		if (ret) {
			kfree(areas[i]);
			goto err_remove;
		}
		interval_tree_insert(&areas[i]->node, &iopt->area_itree);
		iova = areas[i]->node.last + 1;
	}
	for (i = 0; i < n; i++)
		kref_get(&areas[i]->pages->kref);
	if (areas != &one)
		kfree(areas);
	return 0;

err_remove:
	for (j = 0; j < i; j++) {
		struct iommu_domain *domain;
		unsigned long index;

		interval_tree_remove(&areas[j]->node, &iopt->area_itree);
		xa_for_each(&iopt->domains, index, domain)
			iommu_unmap(domain, areas[j]->node.start,
				    areas[j]->node.last -
				    areas[j]->node.start + 1);
		kfree(areas[j]);
	}
	if (areas != &one)
		kfree(areas);
	return ret;
}

static int vdiommu_iopt_map_slices(struct vdiommu_iopt *iopt,
				   struct vdiommu_slice *slices,
				   unsigned int n, unsigned long length,
				   unsigned long uptr, unsigned long *iova,
				   int iommu_prot, bool fixed)
{
	int ret;

	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	if (fixed)
		ret = vdiommu_iopt_check_iova(iopt, *iova, length);
	else
		ret = vdiommu_iopt_alloc_iova(iopt, length, uptr, iova);
	if (!ret)
		ret = vdiommu_iopt_insert(iopt, slices, n, *iova, iommu_prot);
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
	return ret;
}

/**
 * vdiommu_iopt_map_pages() - map a slice of pinned pages
 * @iopt: the IOVA space
 * @pages: pinned range; the caller keeps its own reference
 * @page_index: first page of @pages to map
 * @length: bytes, a multiple of PAGE_SIZE and not zero
 * @iova: the IOVA if @fixed, else set to the one chosen
 * @iommu_prot: IOMMU_READ/WRITE/CACHE
 * @fixed: map at *@iova
 *
 * Return: 0, or -EINVAL (unaligned or reserved IOVA), -EEXIST (already
 * mapped), -EOVERFLOW, -ENOSPC (no room for a kernel-chosen IOVA), -ENOMEM
 * or an IOMMU driver error.
 */
int vdiommu_iopt_map_pages(struct vdiommu_iopt *iopt,
			   struct vdiommu_pages *pages,
			   unsigned long page_index, unsigned long length,
			   unsigned long *iova, int iommu_prot, bool fixed)
{
	struct vdiommu_slice slice = {
		.pages = pages,
		.index = page_index,
		.npages = length >> PAGE_SHIFT,
	};
	unsigned long uptr = pages->node.start + page_index * PAGE_SIZE;

	if (length & (iopt->iova_alignment - 1))
		return -EINVAL;
	return vdiommu_iopt_map_slices(iopt, &slice, 1, length, uptr, iova,
				       iommu_prot, fixed);
}

/**
 * vdiommu_iopt_copy() - map what @src maps at [src_iova, +length) into @dst
 * @dst: destination IOVA space
 * @src: source IOVA space (may be @dst)
 * @src_iova: start in @src; must be the start of an area or inside one
 * @length: bytes; the range must be fully mapped in @src
 * @dst_iova: the IOVA in @dst if @fixed, else set to the one chosen
 * @iommu_prot: protection of the new mappings
 * @fixed: map at *@dst_iova
 *
 * The new areas share the pinned pages of the source: nothing is pinned or
 * charged again.
 *
 * Return: 0, -ENOENT if the source range is not fully mapped, -EPERM for
 * write access to memory pinned read-only, or as vdiommu_iopt_map_pages().
 */
int vdiommu_iopt_copy(struct vdiommu_iopt *dst, struct vdiommu_iopt *src,
		      unsigned long src_iova, unsigned long length,
		      unsigned long *dst_iova, int iommu_prot, bool fixed)
{
	struct vdiommu_slice *slices = NULL;
	struct interval_tree_node *node;
	unsigned long last, cur, uptr = 0;
	unsigned int n = 0, i;
	int ret;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(src_iova, length - 1, &last))
		return -EOVERFLOW;
	if ((src_iova | length) & (PAGE_SIZE - 1))
		return -EINVAL;

	down_read(&src->iova_rwsem);
	for (node = interval_tree_iter_first(&src->area_itree, src_iova, last);
	     node; node = interval_tree_iter_next(node, src_iova, last))
		n++;
	slices = kcalloc(n ?: 1, sizeof(*slices), GFP_KERNEL_ACCOUNT);
	if (!slices) {
		up_read(&src->iova_rwsem);
		return -ENOMEM;
	}
	cur = src_iova;
	i = 0;
	for (node = interval_tree_iter_first(&src->area_itree, src_iova, last);
	     node; node = interval_tree_iter_next(node, src_iova, last)) {
		struct vdiommu_area *area = area_of(node);
		unsigned long end = min(last, node->last);

		if (node->start > cur)
			break;
		slices[i].pages = area->pages;
		slices[i].index = area->page_index +
				  ((cur - node->start) >> PAGE_SHIFT);
		slices[i].npages = (end - cur + 1) >> PAGE_SHIFT;
		kref_get(&area->pages->kref);
		if (!i)
			uptr = area->pages->node.start +
			       slices[i].index * PAGE_SIZE;
		i++;
		if (end == last) {
			cur = 0;
			break;
		}
		cur = end + 1;
	}
	up_read(&src->iova_rwsem);
	n = i;

	if (!n || cur) {
		ret = -ENOENT;
		goto out_put;
	}
	for (i = 0; i < n; i++) {
		if ((iommu_prot & IOMMU_WRITE) && !slices[i].pages->writable) {
			ret = -EPERM;
			goto out_put;
		}
	}
	if (length & (dst->iova_alignment - 1)) {
		ret = -EINVAL;
		goto out_put;
	}
	ret = vdiommu_iopt_map_slices(dst, slices, n, length, uptr, dst_iova,
				      iommu_prot, fixed);
out_put:
	for (i = 0; i < n; i++)
		vdiommu_pages_put(slices[i].pages);
	kfree(slices);
	return ret;
}

/*
 * The first area a request on [iova, last] takes, the others following it
 * in the tree up to @last: every area in the range, ERR_PTR(-ENOENT) if
 * one crosses either end; with @by_start (type1, not v2) those that start
 * in the range, NULL if the range starts inside an area.  NULL also when
 * nothing is there.
 */
static struct interval_tree_node *
vdiommu_iopt_first_taken(struct vdiommu_iopt *iopt, unsigned long iova,
			 unsigned long last, bool by_start)
{
	struct interval_tree_node *first, *node;

	lockdep_assert_held(&iopt->iova_rwsem);
	first = interval_tree_iter_first(&iopt->area_itree, iova, last);
	if (by_start)
		return first && first->start < iova ? NULL : first;
	for (node = first; node;
	     node = interval_tree_iter_next(node, iova, last))
		if (node->start < iova || node->last > last)
			return ERR_PTR(-ENOENT);
	return first;
}

/*
 * Unmap every area inside [iova, last].  Areas are never split: one that
 * crosses either end of the range fails the whole request with -ENOENT
 * and nothing is unmapped.  With @by_start (legacy type1, not v2) the
 * areas that start inside the range go whole, even past its end, and
 * nothing fails; a range that starts inside an area unmaps nothing at all,
 * as type1 stops at the first mapping that starts before the range.
 */
static int vdiommu_iopt_unmap_range(struct vdiommu_iopt *iopt,
				    unsigned long iova, unsigned long last,
				    unsigned long *unmapped, bool by_start)
{
	struct interval_tree_node *node, *next;
	struct vdiommu_area *area, *tmp;
	unsigned long bytes = 0;
	LIST_HEAD(removed);

	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	node = vdiommu_iopt_first_taken(iopt, iova, last, by_start);
	if (IS_ERR(node))
		goto out_enoent;
	for (; node; node = next) {
		next = interval_tree_iter_next(node, iova, last);
		area = area_of(node);
		interval_tree_remove(node, &iopt->area_itree);
		list_add_tail(&area->free_item, &removed);
		if (area->vaddr_invalid)
			iopt->vaddr_invalid_count--;
		bytes += node->last - node->start + 1;
	}
	vdiommu_remove_areas(iopt, &removed);
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);

	/* Pages are released without the IOAS locks (it may take mmap_lock). */
	list_for_each_entry_safe(area, tmp, &removed, free_item) {
		vdiommu_pages_put(area->pages);
		kfree(area);
	}
	*unmapped = bytes;
	return 0;

out_enoent:
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
	*unmapped = 0;
	return -ENOENT;
}

static int vdiommu_iopt_unmap_length(struct vdiommu_iopt *iopt,
				     unsigned long iova, unsigned long length,
				     unsigned long *unmapped, bool by_start)
{
	unsigned long last;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	return vdiommu_iopt_unmap_range(iopt, iova, last, unmapped, by_start);
}

/**
 * vdiommu_iopt_unmap() - unmap every area inside [iova, iova + length)
 * @iopt: the IOVA space
 * @iova: start
 * @length: bytes, not 0
 * @unmapped: set to the number of bytes unmapped
 *
 * Areas are never split: one that crosses either end of the range fails
 * the whole request with -ENOENT and nothing is unmapped.
 *
 * Return: 0 or -ENOENT, -EINVAL (empty), -EOVERFLOW.
 */
int vdiommu_iopt_unmap(struct vdiommu_iopt *iopt, unsigned long iova,
		       unsigned long length, unsigned long *unmapped)
{
	return vdiommu_iopt_unmap_length(iopt, iova, length, unmapped, false);
}

/**
 * vdiommu_iopt_unmap_v1() - unmap as the legacy type1 (not v2) interface does
 * @iopt: the IOVA space
 * @iova: start
 * @length: bytes, not 0
 * @unmapped: set to the number of bytes unmapped
 *
 * Every area that starts inside [iova, iova + length) is unmapped whole,
 * even past the end, unless the range starts inside an area: then nothing
 * is unmapped.  Never fails for what is or is not mapped: the size
 * unmapped tells.
 *
 * Return: 0, -EINVAL (empty) or -EOVERFLOW.
 */
int vdiommu_iopt_unmap_v1(struct vdiommu_iopt *iopt, unsigned long iova,
			  unsigned long length, unsigned long *unmapped)
{
	return vdiommu_iopt_unmap_length(iopt, iova, length, unmapped, true);
}

/**
 * vdiommu_iopt_unmap_all() - unmap every area of an IOVA space
 * @iopt: the IOVA space
 * @unmapped: set to the number of bytes unmapped
 *
 * Return: 0, also when nothing was mapped.
 */
int vdiommu_iopt_unmap_all(struct vdiommu_iopt *iopt, unsigned long *unmapped)
{
	return vdiommu_iopt_unmap_range(iopt, 0, ULONG_MAX, unmapped, false);
}

/**
 * vdiommu_iopt_invalidate_vaddr() - take the user address from mappings
 * @iopt: the IOVA space
 * @iova: first IOVA of the range
 * @last: last IOVA of the range
 * @by_start: the type1 (not v2) rule of vdiommu_iopt_unmap_v1(): areas
 *	that start in the range, nothing if it starts inside one
 * @done: set to the bytes of the areas marked
 *
 * VFIO_DMA_UNMAP_FLAG_VADDR: every area in the range stays mapped and
 * pinned, and waits for vdiommu_iopt_update_vaddr().  All or nothing: an
 * area that waits already fails the request with -EINVAL, one that crosses
 * either end (not @by_start) with -ENOENT.
 *
 * Return: 0, -EINVAL or -ENOENT.
 */
int vdiommu_iopt_invalidate_vaddr(struct vdiommu_iopt *iopt, unsigned long iova,
				  unsigned long last, bool by_start,
				  unsigned long *done)
{
	struct interval_tree_node *first, *node;
	unsigned long bytes = 0, count = 0;
	int ret = 0;

	down_write(&iopt->iova_rwsem);
	first = vdiommu_iopt_first_taken(iopt, iova, last, by_start);
	if (IS_ERR(first)) {
		ret = PTR_ERR(first);
		goto out_unlock;
	}
	for (node = first; node;
	     node = interval_tree_iter_next(node, iova, last)) {
		if (area_of(node)->vaddr_invalid) {
			ret = -EINVAL;
			goto out_unlock;
		}
	}
	for (node = first; node;
	     node = interval_tree_iter_next(node, iova, last)) {
		area_of(node)->vaddr_invalid = true;
		bytes += node->last - node->start + 1;
		count++;
	}
	iopt->vaddr_invalid_count += count;
out_unlock:
	up_write(&iopt->iova_rwsem);
	*done = bytes;
	return ret;
}

/**
 * vdiommu_iopt_update_vaddr() - give a mapping its user address again
 * @iopt: the IOVA space
 * @iova: first IOVA of the mapping
 * @last: its last IOVA
 *
 * VFIO_DMA_MAP_FLAG_VADDR, called by the process that now holds the
 * memory: the area must be exactly [iova, last] and waiting for its
 * address.  Its pages are not pinned again (they never were unpinned);
 * their charge moves to the calling process (vdiommu_pages_take_charge()).
 * The address itself is not kept: the pages are.
 *
 * Return: 0, -ENOENT if nothing is mapped in the range, -EINVAL if what is
 * there is not one such area, or -ENOMEM over the caller's RLIMIT_MEMLOCK.
 */
int vdiommu_iopt_update_vaddr(struct vdiommu_iopt *iopt, unsigned long iova,
			      unsigned long last)
{
	struct interval_tree_node *node;
	struct vdiommu_area *area;
	int ret;

	down_write(&iopt->iova_rwsem);
	node = interval_tree_iter_first(&iopt->area_itree, iova, last);
	area = node ? area_of(node) : NULL;
	if (!area) {
		ret = -ENOENT;
	} else if (node->start != iova || node->last != last ||
		   !area->vaddr_invalid) {
		ret = -EINVAL;
	} else {
		ret = vdiommu_pages_take_charge(area->pages);
		if (!ret) {
			area->vaddr_invalid = false;
			iopt->vaddr_invalid_count--;
		}
	}
	up_write(&iopt->iova_rwsem);
	return ret;
}

/**
 * vdiommu_iopt_vaddr_invalid() - does any mapping wait for its user address
 * @iopt: the IOVA space
 *
 * Return: true while an area is marked by vdiommu_iopt_invalidate_vaddr().
 */
bool vdiommu_iopt_vaddr_invalid(struct vdiommu_iopt *iopt)
{
	bool ret;

	down_read(&iopt->iova_rwsem);
	ret = iopt->vaddr_invalid_count;
	up_read(&iopt->iova_rwsem);
	return ret;
}

/**
 * vdiommu_iopt_set_allowed() - replace the allowed ranges
 * @iopt: the IOVA space
 * @allowed: the new ranges (struct vdiommu_allowed); on return it holds
 *	the ranges to free (the old ones, or the new ones on failure)
 *
 * Return: 0, or -EADDRINUSE if a reserved range intersects a new range.
 */
int vdiommu_iopt_set_allowed(struct vdiommu_iopt *iopt,
			     struct rb_root_cached *allowed)
{
	struct interval_tree_node *node;

	down_write(&iopt->iova_rwsem);
	for (node = interval_tree_iter_first(allowed, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if (vdiommu_iopt_reserved(iopt, node->start, node->last)) {
			up_write(&iopt->iova_rwsem);
			return -EADDRINUSE;
		}
	}
	swap(*allowed, iopt->allowed_itree);
	up_write(&iopt->iova_rwsem);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vdiommu_iopt_set_allowed);

/**
 * vdiommu_iopt_reserve() - make [start, last] unmappable
 * @iopt: the IOVA space (iova_rwsem held for writing)
 * @start: first IOVA
 * @last: last IOVA
 * @owner: tag for vdiommu_iopt_unreserve()
 *
 * Return: 0, -EADDRINUSE if something is mapped there or the range is
 * allowed, -ENOMEM.
 */
int vdiommu_iopt_reserve(struct vdiommu_iopt *iopt, unsigned long start,
			 unsigned long last, void *owner)
{
	struct vdiommu_reserved *resv;

	lockdep_assert_held_write(&iopt->iova_rwsem);

	if (interval_tree_iter_first(&iopt->area_itree, start, last) ||
	    interval_tree_iter_first(&iopt->allowed_itree, start, last))
		return -EADDRINUSE;
	resv = kzalloc(sizeof(*resv), GFP_KERNEL_ACCOUNT);
	if (!resv)
		return -ENOMEM;
	resv->node.start = start;
	resv->node.last = last;
	resv->owner = owner;
	interval_tree_insert(&resv->node, &iopt->reserved_itree);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vdiommu_iopt_reserve);

static void __vdiommu_iopt_unreserve(struct vdiommu_iopt *iopt, void *owner)
{
	struct interval_tree_node *node, *next;

	lockdep_assert_held_write(&iopt->iova_rwsem);

	for (node = interval_tree_iter_first(&iopt->reserved_itree, 0,
					     ULONG_MAX); node; node = next) {
		struct vdiommu_reserved *resv =
			container_of(node, struct vdiommu_reserved, node);

		next = interval_tree_iter_next(node, 0, ULONG_MAX);
		if (resv->owner != owner)
			continue;
		interval_tree_remove(node, &iopt->reserved_itree);
		kfree(resv);
	}
}

/**
 * vdiommu_iopt_unreserve() - drop every reservation made by @owner
 * @iopt: the IOVA space
 * @owner: as given to vdiommu_iopt_reserve()
 */
void vdiommu_iopt_unreserve(struct vdiommu_iopt *iopt, void *owner)
{
	down_write(&iopt->iova_rwsem);
	__vdiommu_iopt_unreserve(iopt, owner);
	up_write(&iopt->iova_rwsem);
}
EXPORT_SYMBOL_IF_KUNIT(vdiommu_iopt_unreserve);

/**
 * vdiommu_iopt_add_dev_resv() - reserve the IOMMU reserved regions of @dev
 * @iopt: the IOVA space
 * @dev: the device
 * @owner: tag for vdiommu_iopt_unreserve()
 *
 * Return: 0, or -EADDRINUSE when something is mapped in a reserved region.
 */
int vdiommu_iopt_add_dev_resv(struct vdiommu_iopt *iopt, struct device *dev,
			      void *owner)
{
	struct iommu_resv_region *resv;
	LIST_HEAD(regions);
	int ret = 0;

	iommu_get_resv_regions(dev, &regions);
	down_write(&iopt->iova_rwsem);
	list_for_each_entry(resv, &regions, list) {
		/* Relaxable direct maps (e.g. USB, GPU RMRRs) may be mapped. */
		if (resv->type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		ret = vdiommu_iopt_reserve(iopt, resv->start,
					   resv->start + resv->length - 1,
					   owner);
		if (ret)
			break;
	}
	if (ret)
		__vdiommu_iopt_unreserve(iopt, owner);
	up_write(&iopt->iova_rwsem);
	iommu_put_resv_regions(dev, &regions);
	return ret;
}

/**
 * vdiommu_iopt_table_add_domain() - start keeping @domain in sync
 * @iopt: the IOVA space
 * @domain: a paging domain not in use by another IOAS
 *
 * Reserves what lies outside the domain's aperture and maps every area.
 *
 * Return: 0, -EINVAL if the domain cannot map PAGE_SIZE pages, -EADDRINUSE
 * if an area lies outside its aperture, or a mapping error.
 */
int vdiommu_iopt_table_add_domain(struct vdiommu_iopt *iopt,
				  struct iommu_domain *domain)
{
	const struct iommu_domain_geometry *geo = &domain->geometry;
	struct interval_tree_node *node;
	unsigned long align;
	u32 id;
	int ret;

	align = 1UL << __ffs(domain->pgsize_bitmap);
	if (align > PAGE_SIZE)
		return -EINVAL;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	ret = xa_alloc(&iopt->domains, &id, domain, xa_limit_32b,
		       GFP_KERNEL_ACCOUNT);
	if (ret)
		goto out_unlock;

	if (geo->aperture_start) {
		ret = vdiommu_iopt_reserve(iopt, 0, geo->aperture_start - 1,
					   domain);
		if (ret)
			goto err_erase;
	}
	if (geo->aperture_end < ULONG_MAX) {
		ret = vdiommu_iopt_reserve(iopt, geo->aperture_end + 1,
					   ULONG_MAX, domain);
		if (ret)
			goto err_unreserve;
	}

	for (node = interval_tree_iter_first(&iopt->area_itree, 0, ULONG_MAX);
	     node; node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		ret = vdiommu_area_map_domain(iopt, area_of(node), domain);
		if (ret)
			goto err_unmap;
	}
	goto out_unlock;

err_unmap:
	{
		struct interval_tree_node *undo;

		for (undo = interval_tree_iter_first(&iopt->area_itree, 0,
						     ULONG_MAX);
		     undo != node;
		     undo = interval_tree_iter_next(undo, 0, ULONG_MAX))
			iommu_unmap(domain, undo->start,
				    undo->last - undo->start + 1);
	}
err_unreserve:
	__vdiommu_iopt_unreserve(iopt, domain);
err_erase:
	xa_erase(&iopt->domains, id);
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return ret;
}

/**
 * vdiommu_iopt_table_remove_domain() - unmap everything from @domain
 * @iopt: the IOVA space
 * @domain: as given to vdiommu_iopt_table_add_domain()
 */
void vdiommu_iopt_table_remove_domain(struct vdiommu_iopt *iopt,
				      struct iommu_domain *domain)
{
	struct interval_tree_node *node;
	struct iommu_iotlb_gather gather;
	struct iommu_domain *iter;
	unsigned long index;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	iommu_iotlb_gather_init(&gather);
	for (node = interval_tree_iter_first(&iopt->area_itree, 0, ULONG_MAX);
	     node; node = interval_tree_iter_next(node, 0, ULONG_MAX))
		vdiommu_domain_unmap(domain, node->start,
				     node->last - node->start + 1, &gather);
	iommu_iotlb_sync(domain, &gather);
	xa_for_each(&iopt->domains, index, iter) {
		if (iter == domain) {
			xa_erase(&iopt->domains, index);
			break;
		}
	}
	__vdiommu_iopt_unreserve(iopt, domain);
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
}

/**
 * vdiommu_iopt_set_large_pages() - IOMMU_OPTION_HUGE_PAGES
 * @iopt: the IOVA space
 * @enable: map physically contiguous runs with large IOMMU pages
 *
 * Turning large pages on is always possible; mappings already in a domain
 * keep the page size they were made with.  Turning them off is refused
 * while a domain holds mappings, as upstream does: those mappings could
 * not honour it.  Areas not yet in any domain are mapped with the setting
 * in force when a domain is attached.
 *
 * Return: 0 or -EINVAL.
 */
int vdiommu_iopt_set_large_pages(struct vdiommu_iopt *iopt, bool enable)
{
	int ret = 0;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	if (!enable && !iopt->disable_large_pages &&
	    !xa_empty(&iopt->domains) &&
	    !RB_EMPTY_ROOT(&iopt->area_itree.rb_root))
		ret = -EINVAL;
	else
		iopt->disable_large_pages = !enable;
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return ret;
}

/**
 * vdiommu_iopt_walk_ranges() - walk the IOVA that can be mapped
 * @iopt: the IOVA space
 * @fn: called for each range, in order, with its index; a non-zero
 *	return stops the walk and is returned
 * @data: for @fn
 * @alignment: set to the required IOVA alignment
 *
 * The ranges are the holes between reserved ranges, as upstream reports
 * them; allowed ranges only steer kernel-chosen IOVAs.  @fn runs under
 * &vdiommu_iopt.iova_rwsem (read) and may fault on user memory: no path
 * takes that lock from a page fault.
 *
 * Return: the number of ranges, or what @fn returned.
 */
int vdiommu_iopt_walk_ranges(struct vdiommu_iopt *iopt, vdiommu_range_fn fn,
			     void *data, unsigned long *alignment)
{
	struct interval_tree_node *node;
	unsigned long cur = 0;
	bool more = true;
	u32 count = 0;
	int ret = 0;

	down_read(&iopt->iova_rwsem);
	while (more) {
		struct iommu_iova_range r = { .start = cur, .last = ULONG_MAX };

		node = interval_tree_iter_first(&iopt->reserved_itree, cur,
						ULONG_MAX);
		/* Reserved ranges may overlap: skip to the end of the run. */
		if (node && node->start <= cur) {
			if (node->last == ULONG_MAX)
				break;
			cur = node->last + 1;
			continue;
		}
		if (node)
			r.last = node->start - 1;
		else
			more = false;
		ret = fn(data, count, &r);
		if (ret)
			goto out_unlock;
		count++;
		if (node) {
			if (node->last == ULONG_MAX)
				break;
			cur = node->last + 1;
		}
	}
	*alignment = iopt->iova_alignment;
	ret = count;
out_unlock:
	up_read(&iopt->iova_rwsem);
	return ret;
}

/**
 * vdiommu_iopt_walk_areas() - the mappings inside a range, in IOVA order
 * @iopt: the IOVA space
 * @iova: first IOVA of the range
 * @last: last IOVA of the range
 * @fn: called with each area's first and last IOVA
 * @data: for @fn
 *
 * A mapping that crosses either end of the range fails the walk before
 * @fn is called.  @fn runs under &vdiommu_iopt.iova_rwsem (read) and may
 * fault on user memory, as in vdiommu_iopt_walk_ranges().
 *
 * Return: 0, -ENOENT for a crossing mapping, or what @fn returned.
 */
int vdiommu_iopt_walk_areas(struct vdiommu_iopt *iopt, unsigned long iova,
			    unsigned long last, vdiommu_area_fn fn, void *data)
{
	struct interval_tree_node *node;
	int ret = 0;

	down_read(&iopt->iova_rwsem);
	node = vdiommu_iopt_first_taken(iopt, iova, last, false);
	if (IS_ERR(node))
		ret = PTR_ERR(node);
	else
		for (; node && !ret;
		     node = interval_tree_iter_next(node, iova, last))
			ret = fn(data, node->start, node->last);
	up_read(&iopt->iova_rwsem);
	return ret;
}

struct vdiommu_ranges_to_user {
	struct iommu_iova_range __user *ranges;
	u32 room;
};

static int vdiommu_range_to_user(void *data, u32 index,
				 const struct iommu_iova_range *r)
{
	struct vdiommu_ranges_to_user *out = data;

	if (index < out->room &&
	    copy_to_user(&out->ranges[index], r, sizeof(*r)))
		return -EFAULT;
	return 0;
}

/**
 * vdiommu_iopt_iova_ranges() - the IOVA that can be mapped, to user space
 * @iopt: the IOVA space
 * @ranges: user array to fill
 * @num: in: room in @ranges; out: number of ranges there are
 * @alignment: set to the required IOVA alignment
 *
 * Return: 0, -EFAULT, or -EMSGSIZE when @ranges was too small (@num tells
 * the size needed).
 */
int vdiommu_iopt_iova_ranges(struct vdiommu_iopt *iopt,
			     struct iommu_iova_range __user *ranges,
			     u32 *num, unsigned long *alignment)
{
	struct vdiommu_ranges_to_user out = { .ranges = ranges, .room = *num };
	int ret;

	ret = vdiommu_iopt_walk_ranges(iopt, vdiommu_range_to_user, &out,
				       alignment);
	if (ret < 0)
		return ret;
	*num = ret;
	return ret > out.room ? -EMSGSIZE : 0;
}
