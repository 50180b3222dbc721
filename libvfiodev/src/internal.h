/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfiodev internals.
 *
 * Object graph and lifetime: a device holds a reference on its address
 * space, an address space one on its context; each object goes when its
 * own count reaches zero, so that the program may close them in any order.
 * The counts are not atomic: one context and its children are serialised
 * by the caller (core.h), except for the calls documented as thread-safe,
 * which take no references.
 *
 * Locking: struct vfiodev_as::lock protects the mapping records and the
 * IOVA allocator, so that the DMA calls are thread-safe; it is the only
 * lock, held only around the map/unmap ioctls and the records.
 */
#ifndef VFIODEV_INTERNAL_H
#define VFIODEV_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vfiodev.h>

#define VFIODEV_EXPORT __attribute__((visibility("default")))

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define SZ_4K		4096ULL
#define SZ_2M		(2ULL << 20)

struct vfiodev_ctx {
	unsigned int refs;
	unsigned int flags;
	enum vfiodev_path policy;
	/* A policy from VFIODEV_PATH in the environment; AUTO when none. */
	enum vfiodev_path env_policy;
	bool env_set;
	unsigned int legacy_flags;
	vfiodev_log_fn log_fn;
	void *log_opaque;
	int log_level;
};

void vfiodev_log(struct vfiodev_ctx *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define vd_err(ctx, ...)	vfiodev_log(ctx, VFIODEV_LOG_ERR, __VA_ARGS__)
#define vd_info(ctx, ...)	vfiodev_log(ctx, VFIODEV_LOG_INFO, __VA_ARGS__)
#define vd_dbg(ctx, ...)	vfiodev_log(ctx, VFIODEV_LOG_DEBUG, __VA_ARGS__)

void vfiodev_ctx_get(struct vfiodev_ctx *ctx);
enum vfiodev_path vfiodev_ctx_policy(const struct vfiodev_ctx *ctx,
				     enum vfiodev_reason *reason);
void vfiodev_ctx_put(struct vfiodev_ctx *ctx);

/* One group on a legacy address space, shared by its open devices. */
struct vfiodev_group {
	struct vfiodev_group *next;
	int id;
	int fd;
	unsigned int users;
};

/* One mapping, in the IOVA tree and the user-address tree. */
struct vfiodev_map {
	uint64_t iova;
	uint64_t vaddr;
	uint64_t len;
};

/* A free IOVA extent of the allocator, [start, last]. */
struct vfiodev_extent {
	uint64_t start;
	uint64_t last;
};

struct vfiodev_as {
	unsigned int refs;
	struct vfiodev_ctx *ctx;
	enum vfiodev_path policy;	/* as chosen at creation */
	enum vfiodev_reason policy_reason;
	enum vfiodev_path path;		/* AUTO until a kernel object exists */
	unsigned int legacy_flags;
	/* New path: the iommufd and its IOAS. */
	int iommufd;
	uint32_t ioas_id;
	/* Legacy path: the container and its groups; iommu_set once a group
	 * is in and VFIO_SET_IOMMU done. */
	int container;
	bool iommu_set;
	struct vfiodev_group *groups;
	/* Everything below is under lock. */
	pthread_mutex_t lock;
	void *by_iova;		/* tsearch() tree of struct vfiodev_map */
	void *by_vaddr;		/* the same maps, by user address */
	size_t nr_maps;
	struct vfiodev_extent *free;	/* sorted, disjoint, not adjacent */
	size_t nr_free, free_cap;
	/* The windows the kernel reported last; NULL before it did. */
	struct vfiodev_iova_range *ranges;
	size_t nr_ranges;
};

/* as.c */
int vfiodev_as_bind_path(struct vfiodev_as *as, enum vfiodev_path path);
int vfiodev_as_unbind_path(struct vfiodev_as *as);
int vfiodev_as_group_get(struct vfiodev_as *as, int group_id, int group_fd,
			 struct vfiodev_group **out);
void vfiodev_as_group_put(struct vfiodev_as *as, struct vfiodev_group *grp);
int vfiodev_as_refresh_ranges(struct vfiodev_as *as);
int vfiodev_as_coherent(struct vfiodev_as *as);
void vfiodev_as_get(struct vfiodev_as *as);
void vfiodev_as_put(struct vfiodev_as *as);

/* iova.c: the mapping records and the allocator, under as->lock. */
struct vfiodev_map *vfiodev_map_find_iova(struct vfiodev_as *as,
					  uint64_t iova, uint64_t len);
struct vfiodev_map *vfiodev_map_find_vaddr(struct vfiodev_as *as,
					   uint64_t vaddr, uint64_t len);
int vfiodev_map_insert(struct vfiodev_as *as, struct vfiodev_map *map);
void vfiodev_map_remove(struct vfiodev_as *as, struct vfiodev_map *map);
void vfiodev_map_destroy_all(struct vfiodev_as *as);
int vfiodev_iova_set_ranges(struct vfiodev_as *as,
			    const struct vfiodev_iova_range *r, size_t n);
int vfiodev_iova_alloc(struct vfiodev_as *as, uint64_t len, uint64_t align,
		       uint64_t *iova);
int vfiodev_iova_reserve(struct vfiodev_as *as, uint64_t iova, uint64_t len);
void vfiodev_iova_free(struct vfiodev_as *as, uint64_t iova, uint64_t len);

/* sysfs.c */
#define VFIODEV_SYSFS_PCI	"/sys/bus/pci/devices"
int vfiodev_parse_name(const char *name, char bdf[16], bool *is_cdev,
		       char cdev[16]);
int vfiodev_bdf_valid(const char *bdf);
int vfiodev_bdf_normalise(const char *in, char bdf[16]);
int vfiodev_sysfs_read(const char *path, char *buf, size_t len);
int vfiodev_sysfs_write(const char *path, const char *val);
int vfiodev_sysfs_group(const char *bdf);
int vfiodev_sysfs_cdev(const char *bdf, char cdev[16]);
int vfiodev_sysfs_coherent(const char *bdf, const char *cdev);
int vfiodev_sysfs_driver(const char *bdf, char *drv, size_t len);
bool vfiodev_driver_is_vfio(const char *bdf, const char *drv);
int vfiodev_cdev_bdf(const char *cdev, char bdf[16]);
bool vfiodev_node_exists(const char *path);
int vfiodev_link_name(const char *path, char *out, size_t len);
bool vfiodev_cdev_usable(const char *cdev);
enum vfiodev_path vfiodev_auto_path(const char *bdf,
				    enum vfiodev_reason *reason);

#endif /* VFIODEV_INTERNAL_H */
