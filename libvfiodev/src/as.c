// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Address spaces: an iommufd IOAS on the new path, a type1 container with
 * its groups on the legacy path, and the mapping calls over both.
 *
 * The record of mappings (iova.c) is what makes unmap exact: the library
 * knows which mappings a range covers before asking the kernel, refuses a
 * range that would split one, and checks the kernel's answer against it.
 *
 * On the legacy path a group stays in the container while it is the last
 * one and mappings exist, even with no device of it open: type1 drops every
 * mapping when the last group leaves, and the caller's mappings must
 * outlive a device's close.  The unmap of the last mapping lets it go.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "internal.h"

void vfiodev_as_get(struct vfiodev_as *as)
{
	as->refs++;
}

/* The windows are unknown again: the allocator has nothing to give. */
static void as_forget_ranges(struct vfiodev_as *as)
{
	free(as->ranges);
	as->ranges = NULL;
	as->nr_ranges = 0;
	as->nr_free = 0;
}

/*
 * Takes @grp out of the container and closes it.  When it was the last,
 * type1 forgets the IOMMU and every mapping with it.  Under as->lock, or
 * by the address space's last user.
 */
static void group_release(struct vfiodev_as *as, struct vfiodev_group *grp)
{
	struct vfiodev_group **p;

	for (p = &as->groups; *p != grp; p = &(*p)->next)
		;
	*p = grp->next;
	ioctl(grp->fd, VFIO_GROUP_UNSET_CONTAINER);
	close(grp->fd);
	free(grp);
	if (!as->groups) {
		as->iommu_set = false;
		as_forget_ranges(as);
	}
}

static void as_close_kernel(struct vfiodev_as *as)
{
	while (as->groups)
		group_release(as, as->groups);
	if (as->container >= 0)
		close(as->container);
	if (as->iommufd >= 0) {
		struct iommu_destroy d = { .size = sizeof(d), .id = as->ioas_id };

		/* A pre-opened iommufd lives on: leave nothing in it. */
		ioctl(as->iommufd, IOMMU_DESTROY, &d);
		close(as->iommufd);
	}
	as->container = -1;
	as->iommufd = -1;
	as->iommu_set = false;
	as->path = VFIODEV_PATH_AUTO;
	as_forget_ranges(as);
}

void vfiodev_as_put(struct vfiodev_as *as)
{
	if (--as->refs)
		return;
	as_close_kernel(as);
	vfiodev_map_destroy_all(as);
	free(as->free);
	pthread_mutex_destroy(&as->lock);
	vfiodev_ctx_put(as->ctx);
	free(as);
}

static int ioas_ranges(struct vfiodev_as *as, struct vfiodev_iova_range **out,
		       size_t *n)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = as->ioas_id,
	};
	struct iommu_iova_range *r = NULL;
	struct vfiodev_iova_range *v;
	uint32_t i;

	for (;;) {
		if (!ioctl(as->iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd))
			break;
		if (errno != EMSGSIZE) {
			free(r);
			return -errno;
		}
		free(r);
		r = calloc(cmd.num_iovas, sizeof(*r));
		if (!r)
			return -ENOMEM;
		cmd.allowed_iovas = (uintptr_t)r;
	}
	v = calloc(cmd.num_iovas ? cmd.num_iovas : 1, sizeof(*v));
	if (!v) {
		free(r);
		return -ENOMEM;
	}
	for (i = 0; i < cmd.num_iovas; i++) {
		v[i].start = r[i].start;
		v[i].last = r[i].last;
	}
	free(r);
	*out = v;
	*n = cmd.num_iovas;
	return 0;
}

static int type1_ranges(struct vfiodev_as *as, struct vfiodev_iova_range **out,
			size_t *n)
{
	struct vfio_iommu_type1_info *info;
	struct vfio_info_cap_header *hdr;
	struct vfiodev_iova_range *v;
	size_t argsz = sizeof(*info);
	uint32_t i, off;

	for (;;) {
		info = calloc(1, argsz);
		if (!info)
			return -ENOMEM;
		info->argsz = (uint32_t)argsz;
		if (ioctl(as->container, VFIO_IOMMU_GET_INFO, info)) {
			int rc = -errno;

			free(info);
			return rc;
		}
		if (info->argsz <= argsz)
			break;
		argsz = info->argsz;
		free(info);
	}
	off = (info->flags & VFIO_IOMMU_INFO_CAPS) ? info->cap_offset : 0;
	while (off && off + sizeof(*hdr) <= argsz) {
		hdr = (struct vfio_info_cap_header *)((char *)info + off);
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range *cap =
				(void *)hdr;

			v = calloc(cap->nr_iovas ? cap->nr_iovas : 1,
				   sizeof(*v));
			if (!v) {
				free(info);
				return -ENOMEM;
			}
			for (i = 0; i < cap->nr_iovas; i++) {
				v[i].start = cap->iova_ranges[i].start;
				v[i].last = cap->iova_ranges[i].end;
			}
			*out = v;
			*n = cap->nr_iovas;
			free(info);
			return 0;
		}
		off = hdr->next;
	}
	free(info);
	/* No window reported: the whole space. */
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->start = 0;
	v->last = UINT64_MAX;
	*out = v;
	*n = 1;
	return 0;
}

int vfiodev_as_refresh_ranges(struct vfiodev_as *as)
{
	struct vfiodev_iova_range *r = NULL;
	size_t n = 0;
	int rc;

	if (as->path == VFIODEV_PATH_CDEV)
		rc = ioas_ranges(as, &r, &n);
	else if (as->iommu_set)
		rc = type1_ranges(as, &r, &n);
	else
		return 0;
	if (rc)
		return rc;
	pthread_mutex_lock(&as->lock);
	rc = vfiodev_iova_set_ranges(as, r, n);
	pthread_mutex_unlock(&as->lock);
	free(r);
	return rc;
}

static int ioas_alloc(struct vfiodev_as *as)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	if (ioctl(as->iommufd, IOMMU_IOAS_ALLOC, &cmd))
		return -errno;
	as->ioas_id = cmd.out_ioas_id;
	return 0;
}

static int container_check(struct vfiodev_as *as)
{
	unsigned long type = (as->legacy_flags & VFIODEV_LEGACY_TYPE1_V1) ?
			     VFIO_TYPE1_IOMMU : VFIO_TYPE1v2_IOMMU;

	if (ioctl(as->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		vd_err(as->ctx, "not a VFIO container at API version %d",
		       VFIO_API_VERSION);
		return -EINVAL;
	}
	if (ioctl(as->container, VFIO_CHECK_EXTENSION, type) <= 0) {
		vd_err(as->ctx, "the container does not offer %s",
		       type == VFIO_TYPE1_IOMMU ? "type1" : "type1v2");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Makes the kernel object of a path.  Not thread-safe (device set-up). */
int vfiodev_as_bind_path(struct vfiodev_as *as, enum vfiodev_path path)
{
	const char *node;
	int rc;

	if (as->path == path)
		return 0;
	if (as->path != VFIODEV_PATH_AUTO)
		return -EINVAL;
	if (path == VFIODEV_PATH_CDEV) {
		as->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (as->iommufd < 0) {
			rc = errno == ENOENT ? -ENODEV : -errno;
			vd_err(as->ctx, "cannot open /dev/iommu: %s",
			       strerror(-rc));
			return rc;
		}
		rc = ioas_alloc(as);
		if (rc) {
			close(as->iommufd);
			as->iommufd = -1;
			return rc;
		}
		as->path = path;
		rc = vfiodev_as_refresh_ranges(as);
		if (rc)
			as_close_kernel(as);
		return rc;
	}
	node = (as->legacy_flags & VFIODEV_LEGACY_IOMMUFD_COMPAT) ?
	       "/dev/iommu" : "/dev/vfio/vfio";
	as->container = open(node, O_RDWR | O_CLOEXEC);
	if (as->container < 0) {
		rc = errno == ENOENT ? -ENODEV : -errno;
		vd_err(as->ctx, "cannot open %s: %s", node, strerror(-rc));
		return rc;
	}
	rc = container_check(as);
	if (rc) {
		close(as->container);
		as->container = -1;
		return rc;
	}
	as->path = path;
	return 0;
}

/* Undoes vfiodev_as_bind_path() of an address space nothing uses yet. */
int vfiodev_as_unbind_path(struct vfiodev_as *as)
{
	if (as->groups || as->nr_maps)
		return -EBUSY;
	as_close_kernel(as);
	return 0;
}

int vfiodev_as_group_get(struct vfiodev_as *as, int group_id, int group_fd,
			 struct vfiodev_group **out)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	unsigned long type = (as->legacy_flags & VFIODEV_LEGACY_TYPE1_V1) ?
			     VFIO_TYPE1_IOMMU : VFIO_TYPE1v2_IOMMU;
	struct vfiodev_group *grp;
	char path[32];
	int rc, fd;

	for (grp = as->groups; grp && group_id >= 0; grp = grp->next) {
		if (grp->id == group_id) {
			grp->users++;
			*out = grp;
			return 0;
		}
	}
	if (group_fd >= 0) {
		fd = group_fd;
	} else {
		snprintf(path, sizeof(path), "/dev/vfio/%d", group_id);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			rc = errno == ENOENT ? -ENODEV : -errno;
			vd_err(as->ctx, "cannot open %s: %s", path,
			       strerror(-rc));
			return rc;
		}
	}
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status)) {
		rc = -errno;
		goto err_close;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		vd_err(as->ctx, "group %d is not viable: a device in it has another driver",
		       group_id);
		rc = -EBUSY;
		goto err_close;
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &as->container)) {
		rc = -errno;
		vd_err(as->ctx, "group %d cannot join the container: %s",
		       group_id, strerror(-rc));
		goto err_close;
	}
	if (!as->iommu_set) {
		if (ioctl(as->container, VFIO_SET_IOMMU, type)) {
			rc = -errno;
			vd_err(as->ctx, "VFIO_SET_IOMMU: %s", strerror(-rc));
			goto err_unset;
		}
		as->iommu_set = true;
	}
	grp = calloc(1, sizeof(*grp));
	if (!grp) {
		rc = -ENOMEM;
		goto err_unset;
	}
	grp->id = group_id;
	grp->fd = fd;
	grp->users = 1;
	grp->next = as->groups;
	as->groups = grp;
	/* The windows narrow with every IOMMU that joins. */
	rc = vfiodev_as_refresh_ranges(as);
	if (rc) {
		vfiodev_as_group_put(as, grp);
		return rc;
	}
	*out = grp;
	return 0;

err_unset:
	ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
	if (!as->groups)
		as->iommu_set = false;
err_close:
	close(fd);
	return rc;
}

void vfiodev_as_group_put(struct vfiodev_as *as, struct vfiodev_group *grp)
{
	if (--grp->users)
		return;
	/* The last group keeps the mappings alive: it stays (see top). */
	if (as->groups == grp && !grp->next && as->nr_maps)
		return;
	pthread_mutex_lock(&as->lock);
	group_release(as, grp);
	pthread_mutex_unlock(&as->lock);
	/* The windows widen again with the IOMMUs that are left. */
	if (as->groups)
		vfiodev_as_refresh_ranges(as);
}

/* Whether the container's DMA is coherent: 1, 0, or -errno. */
int vfiodev_as_coherent(struct vfiodev_as *as)
{
	int rc;

	if (as->path != VFIODEV_PATH_LEGACY || !as->iommu_set)
		return -ENODEV;
	rc = ioctl(as->container, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU);
	return rc < 0 ? -errno : !!rc;
}

static struct vfiodev_as *as_new(struct vfiodev_ctx *ctx)
{
	struct vfiodev_as *as = calloc(1, sizeof(*as));

	if (!as)
		return NULL;
	as->refs = 1;
	as->ctx = ctx;
	as->iommufd = -1;
	as->container = -1;
	as->legacy_flags = ctx->legacy_flags;
	pthread_mutex_init(&as->lock, NULL);
	vfiodev_ctx_get(ctx);
	return as;
}

VFIODEV_EXPORT int vfiodev_as_create(struct vfiodev_ctx *ctx,
				     struct vfiodev_as **out)
{
	struct vfiodev_as *as;
	int rc;

	if (!ctx || !out)
		return -EINVAL;
	as = as_new(ctx);
	if (!as)
		return -ENOMEM;
	as->policy = vfiodev_ctx_policy(ctx, &as->policy_reason);
	if (as->policy == VFIODEV_PATH_CDEV) {
		rc = vfiodev_as_bind_path(as, VFIODEV_PATH_CDEV);
		if (rc) {
			vfiodev_as_put(as);
			return rc;
		}
	}
	vd_dbg(ctx, "address space: policy %s (%s)",
	       vfiodev_path_str(as->policy),
	       as->policy == VFIODEV_PATH_AUTO ? "per device" :
	       vfiodev_reason_str(as->policy_reason));
	*out = as;
	return 0;
}

VFIODEV_EXPORT int vfiodev_as_create_fd(struct vfiodev_ctx *ctx, int fd,
					unsigned int flags,
					struct vfiodev_as **out)
{
	struct vfiodev_as *as;
	int rc, dfd;

	if (!ctx || !out || (flags != VFIODEV_AS_FD_IOMMUFD &&
			     flags != VFIODEV_AS_FD_CONTAINER))
		return -EINVAL;
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return -errno;
	as = as_new(ctx);
	if (!as) {
		close(dfd);
		return -ENOMEM;
	}
	as->policy_reason = VFIODEV_REASON_PREOPENED;
	if (flags == VFIODEV_AS_FD_IOMMUFD) {
		as->policy = VFIODEV_PATH_CDEV;
		as->iommufd = dfd;
		rc = ioas_alloc(as);
		if (rc) {
			vd_err(ctx, "descriptor %d is not an iommufd: %s", fd,
			       strerror(-rc));
			close(dfd);
			as->iommufd = -1;
			vfiodev_as_put(as);
			return rc == -ENOTTY ? -EINVAL : rc;
		}
		as->path = VFIODEV_PATH_CDEV;
		rc = vfiodev_as_refresh_ranges(as);
	} else {
		as->policy = VFIODEV_PATH_LEGACY;
		as->container = dfd;
		rc = container_check(as);
		if (!rc)
			as->path = VFIODEV_PATH_LEGACY;
	}
	if (rc) {
		vfiodev_as_put(as);
		return rc;
	}
	*out = as;
	return 0;
}

VFIODEV_EXPORT void vfiodev_as_destroy(struct vfiodev_as *as)
{
	if (as)
		vfiodev_as_put(as);
}

VFIODEV_EXPORT enum vfiodev_path vfiodev_as_path(struct vfiodev_as *as)
{
	return as->path;
}

VFIODEV_EXPORT int vfiodev_as_iova_ranges(struct vfiodev_as *as,
					  struct vfiodev_iova_range *ranges,
					  size_t n)
{
	int rc;

	if (!as || (n && !ranges))
		return -EINVAL;
	pthread_mutex_lock(&as->lock);
	if (!as->ranges) {
		rc = -ENODEV;
	} else {
		memcpy(ranges, as->ranges,
		       (n < as->nr_ranges ? n : as->nr_ranges) * sizeof(*ranges));
		rc = (int)as->nr_ranges;
	}
	pthread_mutex_unlock(&as->lock);
	return rc;
}

static bool as_ready(struct vfiodev_as *as)
{
	return as->path == VFIODEV_PATH_CDEV ||
	       (as->path == VFIODEV_PATH_LEGACY && as->iommu_set);
}

static int kernel_map(struct vfiodev_as *as, uint64_t vaddr, uint64_t len,
		      uint64_t *iova, unsigned int flags)
{
	if (as->path == VFIODEV_PATH_CDEV) {
		struct iommu_ioas_map cmd = {
			.size = sizeof(cmd),
			.ioas_id = as->ioas_id,
			.user_va = vaddr,
			.length = len,
			.iova = *iova,
		};

		if (flags & VFIODEV_DMA_READ)
			cmd.flags |= IOMMU_IOAS_MAP_READABLE;
		if (flags & VFIODEV_DMA_WRITE)
			cmd.flags |= IOMMU_IOAS_MAP_WRITEABLE;
		if (!(flags & VFIODEV_DMA_KERNEL_IOVA))
			cmd.flags |= IOMMU_IOAS_MAP_FIXED_IOVA;
		if (ioctl(as->iommufd, IOMMU_IOAS_MAP, &cmd))
			return -errno;
		*iova = cmd.iova;
	} else {
		struct vfio_iommu_type1_dma_map cmd = {
			.argsz = sizeof(cmd),
			.vaddr = vaddr,
			.iova = *iova,
			.size = len,
		};

		if (flags & VFIODEV_DMA_READ)
			cmd.flags |= VFIO_DMA_MAP_FLAG_READ;
		if (flags & VFIODEV_DMA_WRITE)
			cmd.flags |= VFIO_DMA_MAP_FLAG_WRITE;
		if (ioctl(as->container, VFIO_IOMMU_MAP_DMA, &cmd))
			return -errno;
	}
	return 0;
}

/* Returns the bytes the kernel unmapped, or -errno. */
static int64_t kernel_unmap(struct vfiodev_as *as, uint64_t iova, uint64_t len)
{
	if (as->path == VFIODEV_PATH_CDEV) {
		struct iommu_ioas_unmap cmd = {
			.size = sizeof(cmd),
			.ioas_id = as->ioas_id,
			.iova = iova,
			.length = len,
		};

		if (ioctl(as->iommufd, IOMMU_IOAS_UNMAP, &cmd))
			return -errno;
		return (int64_t)cmd.length;
	} else {
		struct vfio_iommu_type1_dma_unmap cmd = {
			.argsz = sizeof(cmd),
			.iova = iova,
			.size = len,
		};

		if (ioctl(as->container, VFIO_IOMMU_UNMAP_DMA, &cmd))
			return -errno;
		return (int64_t)cmd.size;
	}
}

#define DMA_MAP_FLAGS (VFIODEV_DMA_READ | VFIODEV_DMA_WRITE | \
		       VFIODEV_DMA_FIXED_IOVA | VFIODEV_DMA_KERNEL_IOVA)

VFIODEV_EXPORT int vfiodev_dma_map(struct vfiodev_as *as, void *vaddr,
				   size_t len, uint64_t *iova,
				   unsigned int flags)
{
	uint64_t va = (uintptr_t)vaddr, at = 0;
	struct vfiodev_map *map;
	bool allocated = false;
	int rc;

	if (!as || !iova || !len || (flags & ~DMA_MAP_FLAGS) ||
	    (va | len) & (SZ_4K - 1) || va + len < va)
		return -EINVAL;
	if ((flags & VFIODEV_DMA_FIXED_IOVA) &&
	    (flags & VFIODEV_DMA_KERNEL_IOVA))
		return -EINVAL;
	if (flags & VFIODEV_DMA_FIXED_IOVA) {
		at = *iova;
		if (at & (SZ_4K - 1) || at + (len - 1) < at)
			return -EINVAL;
	}
	if (!(flags & (VFIODEV_DMA_READ | VFIODEV_DMA_WRITE)))
		flags |= VFIODEV_DMA_READ | VFIODEV_DMA_WRITE;

	map = malloc(sizeof(*map));
	if (!map)
		return -ENOMEM;
	pthread_mutex_lock(&as->lock);
	if (!as_ready(as)) {
		rc = -ENODEV;
		goto out_unlock;
	}
	if ((flags & VFIODEV_DMA_KERNEL_IOVA) &&
	    as->path != VFIODEV_PATH_CDEV) {
		rc = -EOPNOTSUPP;
		goto out_unlock;
	}
	if (vfiodev_map_find_vaddr(as, va, len) ||
	    ((flags & VFIODEV_DMA_FIXED_IOVA) &&
	     vfiodev_map_find_iova(as, at, len))) {
		rc = -EEXIST;
		goto out_unlock;
	}
	if (!(flags & (VFIODEV_DMA_FIXED_IOVA | VFIODEV_DMA_KERNEL_IOVA))) {
		rc = vfiodev_iova_alloc(as, len, len >= SZ_2M ? SZ_2M : SZ_4K,
					&at);
		if (rc)
			goto out_unlock;
		allocated = true;
	}
	rc = kernel_map(as, va, len, &at, flags);
	if (rc) {
		if (allocated)
			vfiodev_iova_free(as, at, len);
		goto out_unlock;
	}
	if (!allocated) {
		rc = vfiodev_iova_reserve(as, at, len);
		if (rc) {
			kernel_unmap(as, at, len);
			goto out_unlock;
		}
	}
	map->iova = at;
	map->vaddr = va;
	map->len = len;
	rc = vfiodev_map_insert(as, map);
	if (rc) {
		kernel_unmap(as, at, len);
		vfiodev_iova_free(as, at, len);
		goto out_unlock;
	}
	map = NULL;
	*iova = at;
out_unlock:
	pthread_mutex_unlock(&as->lock);
	free(map);
	return rc;
}

/*
 * Collects the mappings inside [first, last] into @out (at most @cap);
 * -EINVAL when one sticks out of the range.
 */
static int collect(struct vfiodev_as *as, uint64_t first, uint64_t last,
		   struct vfiodev_map ***out, size_t *n, size_t *cap)
{
	struct vfiodev_map *m;
	int rc;

	m = vfiodev_map_find_iova(as, first, last - first + 1);
	if (!m)
		return 0;
	if (m->iova < first || m->iova + (m->len - 1) > last)
		return -EINVAL;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct vfiodev_map **p = realloc(*out, c * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*out = p;
		*cap = c;
	}
	(*out)[(*n)++] = m;
	if (m->iova > first) {
		rc = collect(as, first, m->iova - 1, out, n, cap);
		if (rc)
			return rc;
	}
	if (m->iova + (m->len - 1) < last)
		return collect(as, m->iova + m->len, last, out, n, cap);
	return 0;
}

VFIODEV_EXPORT int vfiodev_dma_unmap(struct vfiodev_as *as, uint64_t iova,
				     size_t len, unsigned int flags,
				     size_t *unmapped)
{
	struct vfiodev_map **maps = NULL;
	size_t n = 0, cap = 0, i;
	uint64_t covered = 0, first = UINT64_MAX, last = 0;
	int64_t done;
	int rc;

	if (unmapped)
		*unmapped = 0;
	if (!as || !len || (flags & ~VFIODEV_DMA_UNMAP_SPARSE) ||
	    iova + (len - 1) < iova)
		return -EINVAL;
	pthread_mutex_lock(&as->lock);
	if (!as_ready(as)) {
		rc = -ENOENT;
		goto out_unlock;
	}
	rc = collect(as, iova, iova + (len - 1), &maps, &n, &cap);
	if (rc)
		goto out_unlock;
	for (i = 0; i < n; i++) {
		covered += maps[i]->len;
		if (maps[i]->iova < first)
			first = maps[i]->iova;
		if (maps[i]->iova + (maps[i]->len - 1) > last)
			last = maps[i]->iova + (maps[i]->len - 1);
	}
	if (!covered ||
	    (covered != len && !(flags & VFIODEV_DMA_UNMAP_SPARSE))) {
		rc = -ENOENT;
		goto out_unlock;
	}
	/* Exactly the mappings' span: type1 wants it IOMMU-page aligned. */
	done = kernel_unmap(as, first, last - first + 1);
	if (done < 0) {
		rc = (int)done;
		vd_err(as->ctx, "unmap of [0x%llx, +0x%zx) failed: %s",
		       (unsigned long long)iova, len, strerror(-rc));
		goto out_unlock;
	}
	for (i = 0; i < n; i++) {
		vfiodev_iova_free(as, maps[i]->iova, maps[i]->len);
		vfiodev_map_remove(as, maps[i]);
	}
	if (unmapped)
		*unmapped = (size_t)done;
	if ((uint64_t)done != covered) {
		vd_err(as->ctx, "the kernel unmapped 0x%llx bytes at 0x%llx where 0x%llx were recorded",
		       (unsigned long long)done, (unsigned long long)iova,
		       (unsigned long long)covered);
		rc = -EIO;
	}
	/* The group kept only for the mappings can go now (see top). */
	if (!as->nr_maps && as->groups && !as->groups->next &&
	    !as->groups->users)
		group_release(as, as->groups);
out_unlock:
	pthread_mutex_unlock(&as->lock);
	free(maps);
	return rc;
}

VFIODEV_EXPORT int vfiodev_dma_iova(struct vfiodev_as *as, const void *vaddr,
				    size_t len, uint64_t *iova)
{
	uint64_t va = (uintptr_t)vaddr;
	struct vfiodev_map *m;
	int rc = -ENOENT;

	if (!as || !iova || !len || va + (len - 1) < va)
		return -EINVAL;
	pthread_mutex_lock(&as->lock);
	m = vfiodev_map_find_vaddr(as, va, len);
	if (m && m->vaddr <= va && va + (len - 1) <= m->vaddr + (m->len - 1)) {
		*iova = m->iova + (va - m->vaddr);
		rc = 0;
	}
	pthread_mutex_unlock(&as->lock);
	return rc;
}

VFIODEV_EXPORT int vfiodev_dma_vaddr(struct vfiodev_as *as, uint64_t iova,
				     size_t len, void **vaddr)
{
	struct vfiodev_map *m;
	int rc = -ENOENT;

	if (!as || !vaddr || !len || iova + (len - 1) < iova)
		return -EINVAL;
	pthread_mutex_lock(&as->lock);
	m = vfiodev_map_find_iova(as, iova, len);
	if (m && m->iova <= iova && iova + (len - 1) <= m->iova + (m->len - 1)) {
		*vaddr = (void *)(uintptr_t)(m->vaddr + (iova - m->iova));
		rc = 0;
	}
	pthread_mutex_unlock(&as->lock);
	return rc;
}
