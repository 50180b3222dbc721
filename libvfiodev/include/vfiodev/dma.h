/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfiodev: DMA address spaces, mappings and DMA memory.
 *
 * An address space is what the devices on it see of memory: on the new
 * path one iommufd IOAS, on the legacy path one type1 container holding the
 * devices' groups.  Its path is fixed by its policy or by the first device
 * that joins it; every later device follows.  The mapping calls, the
 * translations and vfiodev_as_iova_ranges() are thread-safe: they may run
 * at once on one address space.
 */
#ifndef VFIODEV_DMA_H
#define VFIODEV_DMA_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * vfiodev_as_create() - make an address space
 * @ctx: the context; its path policy and legacy settings apply
 * @out: the new address space
 *
 * With the new path forced, the IOAS is made at once and can be mapped
 * before any device joins.  Otherwise the kernel object is made when the
 * first device joins; until then mapping fails with -ENODEV.
 *
 * Return: 0; -ENODEV when a forced new path has no /dev/iommu; -ENOMEM;
 * another -errno from opening /dev/iommu or IOMMU_IOAS_ALLOC.
 */
int vfiodev_as_create(struct vfiodev_ctx *ctx, struct vfiodev_as **out);

/* Flags of vfiodev_as_create_fd(): what the descriptor is. */
#define VFIODEV_AS_FD_IOMMUFD		(1u << 0)	/* /dev/iommu */
#define VFIODEV_AS_FD_CONTAINER		(1u << 1)	/* /dev/vfio/vfio */

/**
 * vfiodev_as_create_fd() - make an address space from an open descriptor
 * @ctx: the context
 * @fd: an open /dev/iommu or a new type1 container; the library uses a
 *	duplicate (O_CLOEXEC), the caller keeps @fd
 * @flags: exactly one of VFIODEV_AS_FD_IOMMUFD, VFIODEV_AS_FD_CONTAINER
 * @out: the new address space, on the path @flags names
 *
 * For sandboxed programs that cannot open the nodes themselves.
 *
 * Return: 0; -EINVAL for bad flags, a descriptor that is not an iommufd
 * (with VFIODEV_AS_FD_IOMMUFD) or a container at VFIO API version 0;
 * -EOPNOTSUPP for a container without the type1 flavour the context asks
 * for; -EBADF for a bad @fd; another -errno from the kernel.
 */
int vfiodev_as_create_fd(struct vfiodev_ctx *ctx, int fd, unsigned int flags,
			 struct vfiodev_as **out);

/**
 * vfiodev_as_destroy() - drop an address space
 * @as: the address space, or NULL
 *
 * Devices on @as keep it: it is torn down, its mappings with it, when the
 * last of them closes.
 */
void vfiodev_as_destroy(struct vfiodev_as *as);

/**
 * vfiodev_as_path() - the path of an address space
 * @as: the address space
 * Return: VFIODEV_PATH_CDEV, VFIODEV_PATH_LEGACY, or VFIODEV_PATH_AUTO while
 * no device has fixed it.
 */
enum vfiodev_path vfiodev_as_path(struct vfiodev_as *as);

/**
 * struct vfiodev_iova_range - a window of IOVAs that can be mapped
 * @start: first IOVA
 * @last: last IOVA (inclusive)
 */
struct vfiodev_iova_range {
	uint64_t start;
	uint64_t last;
};

/**
 * vfiodev_as_iova_ranges() - the IOVA windows the kernel reports
 * @as: the address space
 * @ranges: where to store them, or NULL with @n == 0
 * @n: room in @ranges
 *
 * They narrow as devices join (their IOMMU's aperture and reserved
 * windows).
 *
 * Return: the number of windows, even when larger than @n (only @n are
 * stored); -ENODEV before the address space has a kernel object.
 */
int vfiodev_as_iova_ranges(struct vfiodev_as *as,
			   struct vfiodev_iova_range *ranges, size_t n);

/* Flags of vfiodev_dma_map(). */
#define VFIODEV_DMA_READ	(1u << 0)	/* the device may read */
#define VFIODEV_DMA_WRITE	(1u << 1)	/* the device may write */
#define VFIODEV_DMA_FIXED_IOVA	(1u << 2)	/* map at *iova */
#define VFIODEV_DMA_KERNEL_IOVA	(1u << 3)	/* the kernel picks (new path) */

/**
 * vfiodev_dma_map() - map user memory for DMA
 * @as: the address space
 * @vaddr: start, 4 KiB aligned
 * @len: length, a non-zero multiple of 4 KiB
 * @iova: in: the IOVA with VFIODEV_DMA_FIXED_IOVA; out: the IOVA used
 * @flags: VFIODEV_DMA_READ and/or VFIODEV_DMA_WRITE (0 means both), and at
 *	most one of VFIODEV_DMA_FIXED_IOVA and VFIODEV_DMA_KERNEL_IOVA
 *
 * Without either IOVA flag the library picks an IOVA inside the reported
 * windows, aligned to 2 MiB for mappings of 2 MiB or more, reusing what
 * unmaps freed.  The pages are pinned and charged to RLIMIT_MEMLOCK.
 * Thread-safe.
 *
 * Return: 0; -EINVAL for a bad argument, alignment or flags; -EEXIST when
 * the IOVA range or the memory range overlaps a mapping of @as; -ENOSPC
 * when no free IOVA range is large enough, or type1's mapping limit is
 * reached; -ENOMEM when the memlock limit is exhausted; -EOPNOTSUPP for
 * VFIODEV_DMA_KERNEL_IOVA on the legacy path; -ENODEV before the address
 * space has a kernel object; -EFAULT for memory that cannot be pinned.
 */
int vfiodev_dma_map(struct vfiodev_as *as, void *vaddr, size_t len,
		    uint64_t *iova, unsigned int flags);

/* Flag of vfiodev_dma_unmap(). */
/* Unmap the whole mappings inside the range, gaps allowed. */
#define VFIODEV_DMA_UNMAP_SPARSE	(1u << 0)

/**
 * vfiodev_dma_unmap() - unmap an IOVA range
 * @as: the address space
 * @iova: start of the range (any alignment: only whole mappings inside it
 *	count)
 * @len: length of the range, non-zero
 * @flags: 0 or VFIODEV_DMA_UNMAP_SPARSE
 * @unmapped: if not NULL, the number of bytes unmapped, also on failure
 *
 * A mapping is never split: a range that begins or ends inside one is
 * refused, and nothing is unmapped.  Without VFIODEV_DMA_UNMAP_SPARSE the
 * range must be mapped completely.  When the kernel unmaps a different
 * amount than the library's own record says, the call fails with -EIO and
 * @unmapped tells the truth.  Thread-safe.
 *
 * Return: 0; -EINVAL for a bad argument or a range that cuts a mapping;
 * -ENOENT when (part of) the range is not mapped and the range is not
 * sparse, or when nothing at all is mapped there; -EIO as above (the
 * library's record then no longer holds the mappings it found); -ENOMEM;
 * another -errno from the kernel, with nothing unmapped.
 */
int vfiodev_dma_unmap(struct vfiodev_as *as, uint64_t iova, size_t len,
		      unsigned int flags, size_t *unmapped);

/**
 * vfiodev_dma_iova() - translate user memory to its IOVA
 * @as: the address space
 * @vaddr: start of the memory
 * @len: its length (non-zero); it must lie within one mapping
 * @iova: the IOVA of @vaddr
 *
 * Thread-safe.
 *
 * Return: 0; -ENOENT when the memory is not (completely) in one mapping;
 * -EINVAL for @len 0.
 */
int vfiodev_dma_iova(struct vfiodev_as *as, const void *vaddr, size_t len,
		     uint64_t *iova);

/**
 * vfiodev_dma_vaddr() - translate an IOVA to user memory
 * @as: the address space
 * @iova: the IOVA
 * @len: length (non-zero); [@iova, @iova + @len) must lie in one mapping
 * @vaddr: the address mapped at @iova
 *
 * Thread-safe.
 *
 * Return: 0; -ENOENT when the range is not (completely) in one mapping;
 * -EINVAL for @len 0.
 */
int vfiodev_dma_vaddr(struct vfiodev_as *as, uint64_t iova, size_t len,
		      void **vaddr);

/**
 * enum vfiodev_mem_backing - what backs memory from vfiodev_mem_alloc()
 * @VFIODEV_MEM_4K: ordinary 4 KiB pages
 * @VFIODEV_MEM_THP: transparent huge pages were asked for (madvise); the
 *	kernel gives 2 MiB pages where it can
 * @VFIODEV_MEM_HUGETLB_2M: 2 MiB hugetlb pages
 */
enum vfiodev_mem_backing {
	VFIODEV_MEM_4K = 0,
	VFIODEV_MEM_THP = 1,
	VFIODEV_MEM_HUGETLB_2M = 2,
};

/* Flags of vfiodev_mem_alloc(). */
#define VFIODEV_MEM_NO_HUGETLB		(1u << 0)	/* skip hugetlb */
#define VFIODEV_MEM_NO_THP		(1u << 1)	/* skip THP */
#define VFIODEV_MEM_REQUIRE_HUGETLB	(1u << 2)	/* hugetlb or fail */

/**
 * vfiodev_mem_alloc() - allocate memory for DMA buffers
 * @len: length, non-zero; the allocation is rounded up to a multiple of
 *	2 MiB whatever backs it
 * @flags: 0 or VFIODEV_MEM_* flags
 * @addr: the memory, zeroed, 2 MiB aligned
 * @backing: if not NULL, what backs it
 *
 * Tries 2 MiB hugetlb pages (MAP_HUGETLB), then 2 MiB aligned memory with
 * MADV_HUGEPAGE (THP), then 4 KiB pages.  Free with vfiodev_mem_free()
 * and the same @len.  Needs no context; thread-safe.
 *
 * Return: 0; -EINVAL for @len 0 or contradicting flags; -ENOMEM, also when
 * VFIODEV_MEM_REQUIRE_HUGETLB cannot be met.
 */
int vfiodev_mem_alloc(size_t len, unsigned int flags, void **addr,
		      enum vfiodev_mem_backing *backing);

/**
 * vfiodev_mem_free() - free memory from vfiodev_mem_alloc()
 * @addr: the memory, or NULL
 * @len: the length given to vfiodev_mem_alloc()
 *
 * Unmap it from every address space first; otherwise it stays pinned by
 * those mappings until they go.
 *
 * Return: 0; -EINVAL for an @addr that is not 2 MiB aligned, or @len 0.
 */
int vfiodev_mem_free(void *addr, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* VFIODEV_DMA_H */
