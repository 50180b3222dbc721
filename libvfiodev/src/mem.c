// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Memory for DMA buffers: 2 MiB hugetlb pages where the system has them,
 * else 2 MiB aligned memory advised for transparent huge pages, else plain
 * pages.  Every allocation is a multiple of 2 MiB, whatever backs it, so
 * that vfiodev_mem_free() needs only the length the caller asked for.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "internal.h"

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << 26)	/* MAP_HUGE_SHIFT = 26 */
#endif

static size_t round_2m(size_t len)
{
	return (len + SZ_2M - 1) & ~(size_t)(SZ_2M - 1);
}

/* Anonymous memory of @len starting on a 2 MiB boundary. */
static void *map_aligned(size_t len)
{
	size_t span = len + SZ_2M;
	uintptr_t p, a;
	void *m;

	m = mmap(NULL, span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	p = (uintptr_t)m;
	a = (p + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1);
	if (a > p)
		munmap(m, a - p);
	if (a + len < p + span)
		munmap((void *)(a + len), p + span - (a + len));
	return (void *)a;
}

VFIODEV_EXPORT int vfiodev_mem_alloc(size_t len, unsigned int flags,
				     void **addr,
				     enum vfiodev_mem_backing *backing)
{
	const unsigned int all = VFIODEV_MEM_NO_HUGETLB | VFIODEV_MEM_NO_THP |
				 VFIODEV_MEM_REQUIRE_HUGETLB;
	enum vfiodev_mem_backing b;
	size_t sz;
	void *m;

	if (!addr || !len || (flags & ~all) ||
	    ((flags & VFIODEV_MEM_REQUIRE_HUGETLB) &&
	     (flags & VFIODEV_MEM_NO_HUGETLB)) || len > SIZE_MAX - SZ_2M)
		return -EINVAL;
	sz = round_2m(len);
	if (!(flags & VFIODEV_MEM_NO_HUGETLB)) {
		m = mmap(NULL, sz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			 MAP_HUGE_2MB, -1, 0);
		if (m != MAP_FAILED) {
			b = VFIODEV_MEM_HUGETLB_2M;
			goto out;
		}
		if (flags & VFIODEV_MEM_REQUIRE_HUGETLB)
			return -ENOMEM;
	}
	m = map_aligned(sz);
	if (!m)
		return -ENOMEM;
	b = VFIODEV_MEM_4K;
	if (!(flags & VFIODEV_MEM_NO_THP) && !madvise(m, sz, MADV_HUGEPAGE))
		b = VFIODEV_MEM_THP;
out:
	*addr = m;
	if (backing)
		*backing = b;
	return 0;
}

VFIODEV_EXPORT int vfiodev_mem_free(void *addr, size_t len)
{
	if (!addr)
		return 0;
	if (((uintptr_t)addr & (SZ_2M - 1)) || !len)
		return -EINVAL;
	munmap(addr, round_2m(len));
	return 0;
}
