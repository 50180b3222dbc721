/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommufd (vfiodev): internal structures of /dev/iommu.
 *
 * Objects
 * -------
 * Every open /dev/iommu is a context (struct vdiommu_ctx) with a table of
 * objects (IOAS, HWPT, device) indexed by a 32-bit ID.  An object is created
 * in two phases: vdiommu_object_alloc() reserves its ID (lookups fail),
 * vdiommu_object_finalize() publishes it once nothing can fail any more,
 * vdiommu_object_abort() undoes an unpublished one.  An ioctl that creates
 * one writes its reply (vdiommu_ucmd_respond()) before it publishes, and
 * aborts if the reply cannot be written, as upstream's handlers do.
 *
 * Two counts keep an object alive.  @users is the dependency count: 1 for
 * the table itself, plus one for every object or driver that relies on it
 * (an HWPT on its IOAS, an attached device on its HWPT, the VFIO driver on a
 * bound device).  @shortterm_users counts ioctls that are using it right now
 * (vdiommu_get_object()/vdiommu_put_object(), which take both counts).
 * IOMMU_DESTROY succeeds only while the table holds the last @users
 * reference; it then unpublishes the object and waits for the short-term
 * users to drain before destroying it.
 *
 * Lock order
 * ----------
 *   vdiommu_ctx::vfio_lock
 *     -> vdiommu_group::lock
 *       -> vdiommu_ioas::mutex
 *         -> iommu_group::mutex (iommu_group_for_each_dev(), reserving)
 *           -> vdiommu_iopt::iova_rwsem
 *         -> vdiommu_iopt::domains_rwsem
 *           -> vdiommu_iopt::iova_rwsem
 *             -> vdiommu_ctx::pages_lock
 *               -> mmap_lock (vdiommu_pages_take_charge())
 *             -> mmap_lock (faults on user memory)
 * The objects xarray lock is taken alone, never while sleeping.  User memory
 * is pinned before vdiommu_iopt::iova_rwsem is taken; what faults under it
 * (the dirty bitmaps and IOVA ranges written to user memory) holds it for
 * read.  No path takes a lock of ours under mmap_lock.
 */
#ifndef VDIOMMU_PRIV_H
#define VDIOMMU_PRIV_H

#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <uapi/linux/iommufd.h>

#include "vdiommu.h"

struct vdiommu_pages;

enum vdiommu_object_type {
	VDIOMMU_OBJ_NONE,
	VDIOMMU_OBJ_ANY = VDIOMMU_OBJ_NONE,
	VDIOMMU_OBJ_DEVICE,
	VDIOMMU_OBJ_HWPT,
	VDIOMMU_OBJ_IOAS,
	VDIOMMU_OBJ_MAX,
};

/**
 * struct vdiommu_object - what every object of a context starts with
 * @shortterm_users: ioctls using the object now (+1 while published)
 * @users: dependants (+1 for the table while published)
 * @type: enum vdiommu_object_type
 * @id: index in vdiommu_ctx::objects
 */
struct vdiommu_object {
	refcount_t shortterm_users;
	refcount_t users;
	enum vdiommu_object_type type;
	u32 id;
};

/* Accounting of pinned pages (IOMMU_OPTION_RLIMIT_MODE). */
enum vdiommu_account_mode {
	VDIOMMU_ACCOUNT_NONE,	/* CAP_IPC_LOCK: counted in pinned_vm only */
	VDIOMMU_ACCOUNT_USER,	/* user_struct::locked_vm, the default */
	VDIOMMU_ACCOUNT_MM,	/* mm_struct::locked_vm */
};

/**
 * struct vdiommu_ctx - one open /dev/iommu
 * @file: the file; a reference on it is a reference on the context
 * @objects: ID -> struct vdiommu_object; XA_ZERO_ENTRY while reserved
 * @destroy_wait: woken when an object's short-term users drop to zero
 * @account_user_mode: true for per-user accounting (the default), false
 *	for per-process; changed only while no object exists
 * @pages_lock: protects @pages_itree
 * @pages_itree: every pinned range of this context, by user address, so
 *	that mapping memory that is already pinned shares the pin
 * @vfio_ioas: the IOAS the legacy VFIO container ioctls act on, or NULL
 *	(IOMMU_VFIO_IOAS); not a reference: cleared, under the objects
 *	xarray lock, when that IOAS is destroyed
 * @type1_door: opened as /dev/vfio/vfio: the container ioctls answer as
 *	type1 where type1 and upstream's iommufd compat differ
 * @vfio_lock: protects the three below
 * @vfio_group_list: the VFIO groups set to this context as their container
 *	(struct vdiommu_vfio_group)
 * @vfio_iommu_set: on @type1_door, VFIO_SET_IOMMU has been done: the
 *	groups are attached to the compatibility IOAS, as type1 attaches
 *	them, until the last group leaves
 * @vfio_dirty_tracking: on @type1_door, VFIO_IOMMU_DIRTY_PAGES started
 *	(under @vfio_lock): every mapped page is reported dirty, as type1
 *	reports the pages it pinned, until stopped or the last group leaves
 */
struct vdiommu_ctx {
	struct file *file;
	struct xarray objects;
	wait_queue_head_t destroy_wait;
	bool account_user_mode;
	struct mutex pages_lock;	/* @pages_itree */
	struct rb_root_cached pages_itree;
	struct vdiommu_ioas *vfio_ioas;
	bool type1_door;
	struct mutex vfio_lock;	/* the three vfio_* below */
	struct list_head vfio_group_list;
	bool vfio_iommu_set;
	bool vfio_dirty_tracking;
};

/**
 * struct vdiommu_vfio_group - a VFIO group in a context used as container
 * @item: in vdiommu_ctx::vfio_group_list
 * @group: the IOMMU group, its DMA owned by the context
 * @coherent: every device of it is behind an IOMMU that enforces coherency
 * @igroup: while the container's IOMMU is set (type1 door), the group held
 *	attached (vdiommu_group_hold()), else NULL
 */
struct vdiommu_vfio_group {
	struct list_head item;
	struct iommu_group *group;
	bool coherent;
	struct vdiommu_group *igroup;
};

/**
 * struct vdiommu_iopt - the IOVA space of one IOAS and its page tables
 * @domains_rwsem: protects @domains and the domain side of every area
 * @iova_rwsem: protects the three interval trees, @iova_alignment,
 *	@alloc_hint and @disable_large_pages
 * @area_itree: struct vdiommu_area by IOVA
 * @allowed_itree: struct vdiommu_allowed; empty means all is allowed
 * @reserved_itree: struct vdiommu_reserved by IOVA: device reserved
 *	regions and what lies outside a domain's aperture
 * @domains: every iommu_domain this IOVA space is mapped into
 * @iova_alignment: the largest minimum page size of @domains (PAGE_SIZE
 *	at least)
 * @alloc_hint: where the next kernel-chosen IOVA search starts
 * @disable_large_pages: map PAGE_SIZE pages only (IOMMU_OPTION_HUGE_PAGES)
 * @vaddr_invalid_count: areas waiting for a user address
 *	(VFIO_DMA_UNMAP_FLAG_VADDR), under @iova_rwsem
 */
struct vdiommu_iopt {
	struct rw_semaphore domains_rwsem;
	struct rw_semaphore iova_rwsem;
	struct rb_root_cached area_itree;
	struct rb_root_cached allowed_itree;
	struct rb_root_cached reserved_itree;
	struct xarray domains;
	unsigned long iova_alignment;
	unsigned long alloc_hint;
	bool disable_large_pages;
	unsigned long vaddr_invalid_count;
};

/**
 * struct vdiommu_area - one mapping: a slice of a pinned range at an IOVA
 * @node: [iova, last iova]; in vdiommu_iopt::area_itree
 * @pages: the pinned range (a reference); never changes
 * @page_index: index in @pages of the page mapped at node.start
 * @iommu_prot: IOMMU_READ/IOMMU_WRITE/IOMMU_CACHE
 * @free_item: links areas being unmapped, once out of the tree
 * @vaddr_invalid: the user address was taken away (type1's
 *	VFIO_DMA_UNMAP_FLAG_VADDR) and not given again yet; the pages stay
 *	pinned and mapped.  Under vdiommu_iopt::iova_rwsem.
 */
struct vdiommu_area {
	struct interval_tree_node node;
	struct vdiommu_pages *pages;
	unsigned long page_index;
	int iommu_prot;
	struct list_head free_item;
	bool vaddr_invalid;
};

struct vdiommu_allowed {
	struct interval_tree_node node;
};

/**
 * struct vdiommu_reserved - IOVA that must not be mapped
 * @node: the range, in vdiommu_iopt::reserved_itree
 * @owner: who reserved it (a device or a domain), to release it
 */
struct vdiommu_reserved {
	struct interval_tree_node node;
	void *owner;
};

/**
 * struct vdiommu_ioas - IOMMU_IOAS_ALLOC
 * @obj: the object
 * @iopt: its IOVA space
 * @mutex: serialises creation of automatic domains and attach/detach
 * @hwpt_list: the HWPTs of this IOAS
 * @vfio_type1_v1: VFIO_SET_IOMMU chose VFIO_TYPE1_IOMMU: legacy unmaps
 *	take what starts in their range (vdiommu_iopt_unmap_v1())
 */
struct vdiommu_ioas {
	struct vdiommu_object obj;
	struct vdiommu_iopt iopt;
	struct mutex mutex;	/* @hwpt_list, attach */
	struct list_head hwpt_list;
	bool vfio_type1_v1;
};

/**
 * struct vdiommu_hwpt - a paging domain on an IOAS
 * @obj: the object; holds a @users reference on @ioas
 * @ioas: the IOAS whose mappings the domain holds
 * @domain: the IOMMU domain
 * @hwpt_item: in vdiommu_ioas::hwpt_list, under vdiommu_ioas::mutex
 * @auto_domain: created by attaching to an IOAS; destroyed with its last
 *	device
 * @enforce_cache_coherency: the domain blocks no-snoop DMA
 */
struct vdiommu_hwpt {
	struct vdiommu_object obj;
	struct vdiommu_ioas *ioas;
	struct iommu_domain *domain;
	struct list_head hwpt_item;
	bool auto_domain;
	bool enforce_cache_coherency;
};

/**
 * struct vdiommu_group - an IOMMU group with bound devices
 * @ref: one per bound device
 * @lock: protects @hwpt, @attached, @devices and vdiommu_device::attached
 * @group: the IOMMU group (a reference)
 * @hwpt: the HWPT the group is attached to, or NULL
 * @attached: bound devices of the group attached to @hwpt; each holds a
 *	@users reference on it
 * @held: a type1 container holds the group attached to @hwpt (one more
 *	@users reference, and one on @ref), with or without devices: the
 *	reserved regions of all its devices are reserved in the IOAS with
 *	the group as owner
 * @devices: the bound devices of the group (vdiommu_device::group_item)
 */
struct vdiommu_group {
	struct kref ref;
	struct mutex lock;	/* attachment state */
	struct iommu_group *group;
	struct vdiommu_hwpt *hwpt;
	unsigned int attached;
	bool held;
	struct list_head devices;
};

/**
 * struct vdiommu_device - a device bound to a context
 * @obj: the object; the binding driver holds a @users reference
 * @ictx: the context (a file reference)
 * @dev: the device
 * @igroup: its group
 * @attached: attached to @igroup->hwpt, its reserved regions reserved in
 *	that HWPT's IOAS with the device as owner (under @igroup->lock)
 * @group_item: in vdiommu_group::devices
 * @enforce_cache_coherency: the device's IOMMU can enforce coherency
 */
struct vdiommu_device {
	struct vdiommu_object obj;
	struct vdiommu_ctx *ictx;
	struct device *dev;
	struct vdiommu_group *igroup;
	struct list_head group_item;
	bool attached;
	bool enforce_cache_coherency;
};

/* main.c */
struct vdiommu_object *_vdiommu_object_alloc(struct vdiommu_ctx *ictx,
					     size_t size,
					     enum vdiommu_object_type type);
/*
 * Allocates a @struct_t, whose struct vdiommu_object "obj" must come first:
 * then an ERR_PTR() passes through container_of() unchanged.
 */
#define vdiommu_object_alloc(ictx, struct_t, type)			\
	container_of(_vdiommu_object_alloc(ictx,			\
					   sizeof(struct_t) +		\
					   BUILD_BUG_ON_ZERO(offsetof(	\
						struct_t, obj)),	\
					   type),			\
		     struct_t, obj)
void vdiommu_object_finalize(struct vdiommu_ctx *ictx,
			     struct vdiommu_object *obj);
void vdiommu_object_abort(struct vdiommu_ctx *ictx, struct vdiommu_object *obj);
int vdiommu_ucmd_respond(void *cmd);
struct vdiommu_object *vdiommu_get_object(struct vdiommu_ctx *ictx, u32 id,
					  enum vdiommu_object_type type);
void vdiommu_put_object(struct vdiommu_ctx *ictx, struct vdiommu_object *obj);
bool vdiommu_lock_obj(struct vdiommu_ctx *ictx, struct vdiommu_object *obj);
int vdiommu_object_remove(struct vdiommu_ctx *ictx,
			  struct vdiommu_object *to_destroy, u32 id);
void vdiommu_object_destroy_user(struct vdiommu_ctx *ictx,
				 struct vdiommu_object *obj);

/* ioas.c */
void vdiommu_ioas_destroy(struct vdiommu_object *obj);
struct vdiommu_ioas *vdiommu_ioas_alloc(struct vdiommu_ctx *ictx);
int vdiommu_ioas_map_user(struct vdiommu_ctx *ictx, struct vdiommu_ioas *ioas,
			  unsigned long uptr, unsigned long length,
			  unsigned long *iova, int iommu_prot, bool fixed);
struct vdiommu_ioas *vdiommu_get_ioas(struct vdiommu_ctx *ictx, u32 id);
int vdiommu_ioas_alloc_ioctl(struct vdiommu_ctx *ictx, void *cmd);
int vdiommu_ioas_iova_ranges(struct vdiommu_ctx *ictx, void *cmd);
int vdiommu_ioas_allow_iovas(struct vdiommu_ctx *ictx, void *cmd);
int vdiommu_ioas_map(struct vdiommu_ctx *ictx, void *cmd);
int vdiommu_ioas_copy(struct vdiommu_ctx *ictx, void *cmd);
int vdiommu_ioas_unmap(struct vdiommu_ctx *ictx, void *cmd);
int vdiommu_option(struct vdiommu_ctx *ictx, void *cmd);

/* vfio_compat.c */
int vdiommu_vfio_ioas(struct vdiommu_ctx *ictx, void *cmd);
long vdiommu_vfio_ioctl(struct vdiommu_ctx *ictx, unsigned int cmd,
			unsigned long arg);

/* device.c */
void vdiommu_device_destroy(struct vdiommu_object *obj);
void vdiommu_hwpt_destroy(struct vdiommu_object *obj);
struct vdiommu_hwpt *vdiommu_hwpt_alloc(struct vdiommu_ctx *ictx,
					struct device *dev, bool coherent,
					struct vdiommu_ioas *ioas,
					bool auto_domain);
int vdiommu_group_hold(struct vdiommu_ctx *ictx, struct iommu_group *group,
		       bool coherent, struct vdiommu_ioas *ioas,
		       struct vdiommu_group **out);
void vdiommu_group_unhold(struct vdiommu_ctx *ictx,
			  struct vdiommu_group *igroup);
struct vdiommu_device *vdiommu_get_device(struct vdiommu_ctx *ictx, u32 id);
int vdiommu_hwpt_alloc_ioctl(struct vdiommu_ctx *ictx, void *cmd);
int vdiommu_get_hw_info(struct vdiommu_ctx *ictx, void *cmd);
int vdiommu_device_info(struct vdiommu_ctx *ictx, void *cmd);

/* io_pagetable.c */
void vdiommu_iopt_init(struct vdiommu_iopt *iopt);
void vdiommu_iopt_destroy(struct vdiommu_iopt *iopt);
int vdiommu_iopt_map_pages(struct vdiommu_iopt *iopt,
			   struct vdiommu_pages *pages,
			   unsigned long page_index, unsigned long length,
			   unsigned long *iova, int iommu_prot, bool fixed);
int vdiommu_iopt_copy(struct vdiommu_iopt *dst, struct vdiommu_iopt *src,
		      unsigned long src_iova, unsigned long length,
		      unsigned long *dst_iova, int iommu_prot, bool fixed);
int vdiommu_iopt_unmap(struct vdiommu_iopt *iopt, unsigned long iova,
		       unsigned long length, unsigned long *unmapped);
int vdiommu_iopt_unmap_v1(struct vdiommu_iopt *iopt, unsigned long iova,
			  unsigned long length, unsigned long *unmapped);
int vdiommu_iopt_unmap_all(struct vdiommu_iopt *iopt, unsigned long *unmapped);
int vdiommu_iopt_invalidate_vaddr(struct vdiommu_iopt *iopt, unsigned long iova,
				  unsigned long last, bool by_start,
				  unsigned long *done);
int vdiommu_iopt_update_vaddr(struct vdiommu_iopt *iopt, unsigned long iova,
			      unsigned long last);
bool vdiommu_iopt_vaddr_invalid(struct vdiommu_iopt *iopt);
int vdiommu_iopt_set_allowed(struct vdiommu_iopt *iopt,
			     struct rb_root_cached *allowed);
int vdiommu_iopt_reserve(struct vdiommu_iopt *iopt, unsigned long start,
			 unsigned long last, void *owner);
void vdiommu_iopt_unreserve(struct vdiommu_iopt *iopt, void *owner);
int vdiommu_iopt_table_add_domain(struct vdiommu_iopt *iopt,
				  struct iommu_domain *domain);
void vdiommu_iopt_table_remove_domain(struct vdiommu_iopt *iopt,
				      struct iommu_domain *domain);
int vdiommu_iopt_add_dev_resv(struct vdiommu_iopt *iopt, struct device *dev,
			      void *owner);
#if IS_ENABLED(CONFIG_KUNIT)
int vdiommu_iopt_alloc_iova(struct vdiommu_iopt *iopt, unsigned long length,
			    unsigned long uptr, unsigned long *iova);
#endif
int vdiommu_iopt_set_large_pages(struct vdiommu_iopt *iopt, bool enable);
int vdiommu_iopt_iova_ranges(struct vdiommu_iopt *iopt,
			     struct iommu_iova_range __user *ranges,
			     u32 *num, unsigned long *alignment);
typedef int (*vdiommu_range_fn)(void *data, u32 index,
				const struct iommu_iova_range *r);
int vdiommu_iopt_walk_ranges(struct vdiommu_iopt *iopt, vdiommu_range_fn fn,
			     void *data, unsigned long *alignment);
typedef int (*vdiommu_area_fn)(void *data, unsigned long start,
			       unsigned long last);
int vdiommu_iopt_walk_areas(struct vdiommu_iopt *iopt, unsigned long iova,
			    unsigned long last, vdiommu_area_fn fn, void *data);

/* pages.c */
/**
 * struct vdiommu_pages - a pinned range of user memory
 * @kref: one per area using it, plus one while in the context's tree
 * @node: [first page address, last byte] in vdiommu_ctx::pages_itree
 * @ictx: the context whose tree holds it
 * @npages: number of pages
 * @writable: pinned for writing
 * @account: enum vdiommu_account_mode used for the charge
 * @source_mm: the address space (mmgrab)
 * @source_user: the user charged in VDIOMMU_ACCOUNT_USER mode
 * @pages: the pinned pages: @one_page for a single page, else an array of
 *	their own
 * @one_page: where @pages points for a single page, saving an allocation
 *	on the 4 KiB maps that DPDK-style drivers make by the thousand
 */
struct vdiommu_pages {
	struct kref kref;
	struct interval_tree_node node;
	struct vdiommu_ctx *ictx;
	unsigned long npages;
	bool writable;
	u8 account;
	struct mm_struct *source_mm;
	struct user_struct *source_user;
	struct page **pages;
	struct page *one_page;
};

struct vdiommu_pages *vdiommu_pages_get(struct vdiommu_ctx *ictx,
					unsigned long uptr,
					unsigned long length, bool writable,
					unsigned long *page_index);
void vdiommu_pages_put(struct vdiommu_pages *pages);
int vdiommu_pages_take_charge(struct vdiommu_pages *pages);

#endif /* VDIOMMU_PRIV_H */
