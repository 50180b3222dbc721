// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The library's record of an address space's mappings, and its IOVA
 * allocator.  Everything here runs under vfiodev_as::lock.
 *
 * Mappings are kept twice, in two balanced trees (tsearch(3)): by IOVA and
 * by user address.  They never overlap in either, so one comparison serves
 * lookups and overlap checks alike: two ranges compare equal exactly when
 * they overlap.  Ranges are handled as [first, last] so that one ending at
 * the top of the 64-bit space does not overflow.
 *
 * The allocator keeps the free IOVA extents: the reported windows minus
 * every mapping, sorted, disjoint and never adjacent (freeing merges).  It
 * hands out the lowest extent that fits, so IOVAs stay low (devices with
 * narrow DMA masks, like the edu's 28 bits, keep working) and freed ranges
 * are used again first.  IOVA 0 is never handed out.
 */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int cmp_range(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	if (a + (alen - 1) < b)
		return -1;
	if (b + (blen - 1) < a)
		return 1;
	return 0;
}

static int cmp_iova(const void *pa, const void *pb)
{
	const struct vfiodev_map *a = pa, *b = pb;

	return cmp_range(a->iova, a->len, b->iova, b->len);
}

static int cmp_vaddr(const void *pa, const void *pb)
{
	const struct vfiodev_map *a = pa, *b = pb;

	return cmp_range(a->vaddr, a->len, b->vaddr, b->len);
}

/* A mapping overlapping [iova, iova + len), or NULL. */
struct vfiodev_map *vfiodev_map_find_iova(struct vfiodev_as *as,
					  uint64_t iova, uint64_t len)
{
	struct vfiodev_map key = { .iova = iova, .len = len };
	void **node = tfind(&key, &as->by_iova, cmp_iova);

	return node ? *node : NULL;
}

struct vfiodev_map *vfiodev_map_find_vaddr(struct vfiodev_as *as,
					   uint64_t vaddr, uint64_t len)
{
	struct vfiodev_map key = { .vaddr = vaddr, .len = len };
	void **node = tfind(&key, &as->by_vaddr, cmp_vaddr);

	return node ? *node : NULL;
}

int vfiodev_map_insert(struct vfiodev_as *as, struct vfiodev_map *map)
{
	void **node;

	node = tsearch(map, &as->by_iova, cmp_iova);
	if (!node)
		return -ENOMEM;
	if (*node != map)
		return -EEXIST;
	node = tsearch(map, &as->by_vaddr, cmp_vaddr);
	if (!node || *node != map) {
		tdelete(map, &as->by_iova, cmp_iova);
		return node ? -EEXIST : -ENOMEM;
	}
	as->nr_maps++;
	return 0;
}

void vfiodev_map_remove(struct vfiodev_as *as, struct vfiodev_map *map)
{
	tdelete(map, &as->by_iova, cmp_iova);
	tdelete(map, &as->by_vaddr, cmp_vaddr);
	as->nr_maps--;
	free(map);
}

static void no_free(void *p)
{
	(void)p;
}

void vfiodev_map_destroy_all(struct vfiodev_as *as)
{
	tdestroy(as->by_vaddr, no_free);
	tdestroy(as->by_iova, free);
	as->by_vaddr = NULL;
	as->by_iova = NULL;
	as->nr_maps = 0;
}

/* Makes room for one more extent at @at. */
static int extent_insert(struct vfiodev_as *as, size_t at, uint64_t start,
			 uint64_t last)
{
	struct vfiodev_extent *e;

	if (as->nr_free == as->free_cap) {
		size_t cap = as->free_cap ? as->free_cap * 2 : 16;

		e = realloc(as->free, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		as->free = e;
		as->free_cap = cap;
	}
	memmove(&as->free[at + 1], &as->free[at],
		(as->nr_free - at) * sizeof(*as->free));
	as->free[at].start = start;
	as->free[at].last = last;
	as->nr_free++;
	return 0;
}

static void extent_delete(struct vfiodev_as *as, size_t at)
{
	memmove(&as->free[at], &as->free[at + 1],
		(as->nr_free - at - 1) * sizeof(*as->free));
	as->nr_free--;
}

/* Takes [start, last] out of the free extents, wherever it overlaps. */
static int extents_take(struct vfiodev_as *as, uint64_t start, uint64_t last)
{
	size_t i = 0;
	int rc;

	while (i < as->nr_free) {
		struct vfiodev_extent *e = &as->free[i];

		if (e->last < start) {
			i++;
			continue;
		}
		if (e->start > last)
			break;
		if (e->start < start && e->last > last) {
			/* Split in two. */
			rc = extent_insert(as, i + 1, last + 1, e->last);
			if (rc)
				return rc;
			as->free[i].last = start - 1;
			return 0;
		}
		if (e->start < start) {
			e->last = start - 1;
			i++;
		} else if (e->last > last) {
			e->start = last + 1;
			return 0;
		} else {
			extent_delete(as, i);
		}
	}
	return 0;
}

/* Gives [start, last] back, merging with neighbours. */
static int extents_give(struct vfiodev_as *as, uint64_t start, uint64_t last)
{
	size_t i = 0;

	while (i < as->nr_free && as->free[i].last < start)
		i++;
	if (i > 0 && as->free[i - 1].last + 1 == start) {
		as->free[i - 1].last = last;
		if (i < as->nr_free && as->free[i].start == last + 1) {
			as->free[i - 1].last = as->free[i].last;
			extent_delete(as, i);
		}
		return 0;
	}
	if (i < as->nr_free && as->free[i].start == last + 1) {
		as->free[i].start = start;
		return 0;
	}
	return extent_insert(as, i, start, last);
}

struct walk_ctx {
	struct vfiodev_as *as;
	int rc;
};

static void take_map(const void *nodep, VISIT which, void *closure)
{
	const struct vfiodev_map *map = *(struct vfiodev_map * const *)nodep;
	struct walk_ctx *wc = closure;

	if ((which == postorder || which == leaf) && !wc->rc)
		wc->rc = extents_take(wc->as, map->iova,
				      map->iova + map->len - 1);
}

int vfiodev_iova_set_ranges(struct vfiodev_as *as,
			    const struct vfiodev_iova_range *r, size_t n)
{
	struct vfiodev_iova_range *copy;
	struct walk_ctx wc = { .as = as };
	size_t i;
	int rc;

	copy = calloc(n ? n : 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, r, n * sizeof(*r));
	free(as->ranges);
	as->ranges = copy;
	as->nr_ranges = n;

	as->nr_free = 0;
	for (i = 0; i < n; i++) {
		uint64_t start = (r[i].start + SZ_4K - 1) & ~(SZ_4K - 1);
		uint64_t last = r[i].last;

		/* Whole pages only: a window with none is skipped. */
		if (last != UINT64_MAX) {
			if (((last + 1) & ~(SZ_4K - 1)) == 0)
				continue;
			last = ((last + 1) & ~(SZ_4K - 1)) - 1;
		}
		if (start < SZ_4K)
			start = SZ_4K;
		if (start < r[i].start || last < start)
			continue;
		rc = extent_insert(as, as->nr_free, start, last);
		if (rc)
			return rc;
	}
	twalk_r(as->by_iova, take_map, &wc);
	return wc.rc;
}

int vfiodev_iova_alloc(struct vfiodev_as *as, uint64_t len, uint64_t align,
		       uint64_t *iova)
{
	size_t i;

	for (i = 0; i < as->nr_free; i++) {
		struct vfiodev_extent *e = &as->free[i];
		uint64_t s = (e->start + align - 1) & ~(align - 1);

		if (s < e->start || s > e->last || e->last - s < len - 1)
			continue;
		*iova = s;
		return extents_take(as, s, s + len - 1);
	}
	return -ENOSPC;
}

int vfiodev_iova_reserve(struct vfiodev_as *as, uint64_t iova, uint64_t len)
{
	return extents_take(as, iova, iova + len - 1);
}

/* Only what lies inside the reported windows goes back to the pool. */
void vfiodev_iova_free(struct vfiodev_as *as, uint64_t iova, uint64_t len)
{
	uint64_t last = iova + len - 1;
	size_t i;

	for (i = 0; i < as->nr_ranges; i++) {
		uint64_t s = as->ranges[i].start, l = as->ranges[i].last;

		if (s < SZ_4K)
			s = SZ_4K;
		if (l < iova || s > last || s > l)
			continue;
		/* A failed merge only loses the range for reuse. */
		extents_give(as, s > iova ? s : iova, l < last ? l : last);
	}
}
