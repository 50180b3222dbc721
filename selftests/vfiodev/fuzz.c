// SPDX-License-Identifier: GPL-2.0
/*
 * A structure-aware fuzzer over every file vfiodev hands out: /dev/iommu,
 * the /dev/vfio/vfio container, the group, the device cdev, the device
 * file from a group, the migration data file, and eventfds handed in.
 *
 * Each call is one ioctl, region access, mmap, migration stream read or
 * write, DMA, close and reopen, or remap of user memory.  An ioctl's
 * argument is built from a description of its structure (which field is
 * the size, flags, an object ID, an IOVA, a length, a user pointer, a
 * file) with values that look valid, then one field is mutated, or it is
 * a corpus entry (an argument that reached new code) with one field
 * mutated.  A seed makes a run repeatable as far as one thread goes.
 *
 * On the debug kernel every call can also have an allocation or user copy
 * fail (fail-nth, as fail_nth.c does), and coverage comes from kcov: our
 * modules are the only instrumented code, so the distinct PCs are paths in
 * our code.  The oracle is the kernel (KASAN, lockdep, panic_on_warn: the
 * verdict reads the log), the process itself (no call may corrupt it or
 * return what its ABI cannot), and what must hold once everything is
 * closed: no page stays pinned and every device opens, binds, maps and
 * does DMA again.
 *
 * The guest must never be taken down by its own devices: QEMU 7.2's edu
 * aborts the VM on a DMA whose registers do not fit its buffer, so the
 * fuzzer never writes the edu's DMA registers (BAR0 0x80..0x9f) but
 * through fz_dma(), which does it whole, with nothing else running.
 *
 * Environment: VFIODEV_FUZZ_CALLS (calls per test), VFIODEV_FUZZ_SEED,
 * VFIODEV_FUZZ_THREADS.
 */
#include <linux/kcov.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <linux/vfiodev.h>

#include "fail_nth.h"
#include "kselftest_harness.h"
#include "edu_utils.h"
#include "pci_utils.h"

/* --- what a run works on ------------------------------------------------ */

enum fz_kind {
	K_IOMMUFD, K_CONTAINER, K_GROUP, K_CDEV, K_DEVFD, K_MIGF, K_EVENTFD,
	K_OTHER, NKINDS,
};

#define SLOTS		3
#define NDEV_MAX	2
#define NIDS		32
#define NBUF		4
#define BUF_LEN		(64 * PAGE_SZ)
#define BUF_STRIDE	(BUF_LEN + 4 * PAGE_SZ)	/* a guard after each */
#define ARG_LEN		PAGE_SZ
#define AUX_LEN		(4 * PAGE_SZ)
#define NMAPS		6
#define CORPUS		512
#define CORPUS_ARG	256
#define PCSET_BITS	17
#define COVER_WORDS	(1 << 16)

struct fz_dev {
	char bdf[BDF_LEN];
	char node[64];		/* /dev/vfio/devices/vfioN */
	char group[32];		/* /dev/vfio/N */
	const char *driver;
};

static struct {
	struct fz_dev dev[NDEV_MAX];
	int ndev;
	_Atomic int fd[NKINDS][SLOTS];
	_Atomic uint32_t ids[NIDS];
	_Atomic unsigned int id_next;
	uint8_t *bufs;		/* NBUF buffers, BUF_STRIDE apart */
	bool threaded;		/* no write() nor DMA: see fz_dma() */
	bool inject;		/* fail-nth is there (debug kernel) */
	bool kcov;
} G;

/* Per-thread state. */
struct fz {
	uint64_t rng;
	uint8_t *arg;		/* a page with a guard page after it */
	uint8_t *aux;		/* arrays the arguments point to, same */
	int nth;		/* fail-nth, or -1 */
	bool armed;
	int kcov;
	_Atomic uint64_t *cover;
	uint64_t *pcs;		/* open-addressing set of PCs */
	unsigned long npcs;
	struct { void *p; size_t len; } maps[NMAPS];
	struct { int op; unsigned int len; uint8_t arg[CORPUS_ARG]; } *corpus;
	unsigned int ncorpus;
	unsigned long calls, faults, oddities, ioctls, ok;
	unsigned long err[140];
	char odd[160];		/* the first oddity */
	uint8_t pre[64];	/* the argument as sent */
	sigjmp_buf bus;
	volatile sig_atomic_t in_access;
};

static __thread struct fz *cur;

/* A fault on a device mapping, while do_mmap() touches it. */
static void on_sigbus(int sig)
{
	if (cur && cur->in_access)
		siglongjmp(cur->bus, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* --- randomness ---------------------------------------------------------- */

static uint64_t rnd(struct fz *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dULL;
}

static unsigned int below(struct fz *t, unsigned int n)
{
	return n ? rnd(t) % n : 0;
}

static bool one_in(struct fz *t, unsigned int n)
{
	return below(t, n) == 0;
}

static const uint64_t interesting[] = {
	0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x100,
	0xfff, 0x1000, 0x1001, 0x2000, 0xffff, 0x10000, 0x200000, 0x7fffffff,
	0x80000000, 0xfffff000, 0xffffffff, 0x100000000ULL, 1ULL << 40,
	(1ULL << 40) - 1, 1ULL << 47, 1ULL << 48, 1ULL << 52, 1ULL << 63,
	~0ULL, ~0ULL - 0xfff, ~0ULL - 1, 0x8000000000000000ULL - 0x1000,
};

static uint64_t rnd_interesting(struct fz *t)
{
	uint64_t v = interesting[below(t, ARRAY_LEN(interesting))];

	switch (below(t, 6)) {
	case 0: return v + 1;
	case 1: return v - 1;
	case 2: return rnd(t);
	default: return v;
	}
}

/* A pointer the kernel may be handed: never into this program's memory. */
static uint64_t rnd_bad_ptr(struct fz *t)
{
	static const uint64_t bad[] = {
		0, 1, 0x1000, 0xffffffffffffffffULL, 0xffff888000000000ULL,
		0xffffffff81000000ULL, 0x00007ffffffff000ULL, 1ULL << 47,
		0x8000000000000000ULL,
	};

	if (one_in(t, 2))	/* a guard page, or a buffer's edge */
		return (uintptr_t)G.bufs + below(t, NBUF) * BUF_STRIDE +
		       BUF_LEN + below(t, 3) * PAGE_SZ - below(t, 2) * 8;
	return bad[below(t, ARRAY_LEN(bad))];
}

/* --- the pools ----------------------------------------------------------- */

/* A file of kind @k: an empty slot only when the whole pool is empty. */
static int pick_fd_of(struct fz *t, enum fz_kind k)
{
	unsigned int s = below(t, SLOTS), i;
	int fd = -1;

	for (i = 0; i < SLOTS && fd < 0; i++)
		fd = atomic_load(&G.fd[k][(s + i) % SLOTS]);
	return fd;
}

static int pick_fd_any(struct fz *t)
{
	if (one_in(t, 16))
		return one_in(t, 2) ? -1 : (int)below(t, 64);
	return pick_fd_of(t, below(t, NKINDS));
}

static void put_fd(struct fz *t, enum fz_kind k, int fd)
{
	int old = atomic_exchange(&G.fd[k][below(t, SLOTS)], fd);

	if (old >= 0)
		close(old);
}

static void put_id(uint32_t id)
{
	atomic_store(&G.ids[atomic_fetch_add(&G.id_next, 1) % NIDS], id);
}

static uint32_t pick_id(struct fz *t)
{
	switch (below(t, 8)) {
	case 0: return below(t, 24);
	case 1: return rnd_interesting(t);
	default: return atomic_load(&G.ids[below(t, NIDS)]);
	}
}

static uint64_t pick_iova(struct fz *t)
{
	switch (below(t, 10)) {
	case 0: return rnd_interesting(t);
	case 1: return (below(t, 64) << 22) + below(t, PAGE_SZ);
	default: return (uint64_t)below(t, 64) << 22 |
			(uint64_t)below(t, 64) * PAGE_SZ;
	}
}

static uint64_t pick_len(struct fz *t)
{
	switch (below(t, 10)) {
	case 0: return rnd_interesting(t);
	case 1: return 1 + below(t, BUF_LEN);
	default: return (1 + (uint64_t)below(t, BUF_LEN / PAGE_SZ)) * PAGE_SZ;
	}
}

static uint64_t pick_uva(struct fz *t)
{
	if (one_in(t, 12))
		return rnd_bad_ptr(t);
	return (uintptr_t)G.bufs + below(t, NBUF) * BUF_STRIDE +
	       below(t, BUF_LEN / PAGE_SZ / 2) * PAGE_SZ;
}

/* --- ioctl descriptions -------------------------------------------------- */

enum fz_field_kind {
	F_SIZE, F_FLAGS, F_ID, F_IOVA, F_LEN, F_UVA, F_AUX, F_FD, F_INDEX,
	F_RSV, F_VAL,
};

struct fz_field {
	uint16_t off;
	uint8_t width;
	uint8_t kind;
};

#define FLD(s, m, k) { offsetof(struct s, m), sizeof(((struct s *)0)->m), k }

struct fz_op {
	const char *name;
	unsigned long req;
	unsigned int kinds;	/* the files it is meant for */
	unsigned int size;	/* of its structure; 0: an integer argument */
	uint64_t flags;		/* the valid ones */
	unsigned int nindex;	/* F_INDEX below this, mostly */
	const struct fz_field *fields;
	unsigned int nfields;
	/* Makes the argument valid-looking beyond its fields. */
	void (*fixup)(struct fz *t, uint8_t *arg);
	/* What a successful call hands back: IDs and files for the pools. */
	void (*harvest)(struct fz *t, uint8_t *arg, long ret);
	/* Returns the VFIO region offset a call writes through, or -1. */
	int64_t (*writes_at)(const uint8_t *arg, unsigned int *len);
};

#define B(k) (1u << (k))
#define KDEV (B(K_CDEV) | B(K_DEVFD))
#define KIOMMU (B(K_IOMMUFD))
#define KCONT (B(K_CONTAINER) | B(K_IOMMUFD))
#define FIELDS(a) a, ARRAY_LEN(a)

static const struct fz_field f_destroy[] = {
	FLD(iommu_destroy, size, F_SIZE), FLD(iommu_destroy, id, F_ID),
};
static const struct fz_field f_ioas_alloc[] = {
	FLD(iommu_ioas_alloc, size, F_SIZE), FLD(iommu_ioas_alloc, flags, F_FLAGS),
	FLD(iommu_ioas_alloc, out_ioas_id, F_VAL),
};
static const struct fz_field f_allow[] = {
	FLD(iommu_ioas_allow_iovas, size, F_SIZE),
	FLD(iommu_ioas_allow_iovas, ioas_id, F_ID),
	FLD(iommu_ioas_allow_iovas, num_iovas, F_INDEX),
	FLD(iommu_ioas_allow_iovas, __reserved, F_RSV),
	FLD(iommu_ioas_allow_iovas, allowed_iovas, F_AUX),
};
static const struct fz_field f_ranges[] = {
	FLD(iommu_ioas_iova_ranges, size, F_SIZE),
	FLD(iommu_ioas_iova_ranges, ioas_id, F_ID),
	FLD(iommu_ioas_iova_ranges, num_iovas, F_INDEX),
	FLD(iommu_ioas_iova_ranges, __reserved, F_RSV),
	FLD(iommu_ioas_iova_ranges, allowed_iovas, F_AUX),
};
static const struct fz_field f_map[] = {
	FLD(iommu_ioas_map, size, F_SIZE), FLD(iommu_ioas_map, flags, F_FLAGS),
	FLD(iommu_ioas_map, ioas_id, F_ID), FLD(iommu_ioas_map, __reserved, F_RSV),
	FLD(iommu_ioas_map, user_va, F_UVA), FLD(iommu_ioas_map, length, F_LEN),
	FLD(iommu_ioas_map, iova, F_IOVA),
};
static const struct fz_field f_copy[] = {
	FLD(iommu_ioas_copy, size, F_SIZE), FLD(iommu_ioas_copy, flags, F_FLAGS),
	FLD(iommu_ioas_copy, dst_ioas_id, F_ID), FLD(iommu_ioas_copy, src_ioas_id, F_ID),
	FLD(iommu_ioas_copy, length, F_LEN), FLD(iommu_ioas_copy, dst_iova, F_IOVA),
	FLD(iommu_ioas_copy, src_iova, F_IOVA),
};
static const struct fz_field f_unmap[] = {
	FLD(iommu_ioas_unmap, size, F_SIZE), FLD(iommu_ioas_unmap, ioas_id, F_ID),
	FLD(iommu_ioas_unmap, iova, F_IOVA), FLD(iommu_ioas_unmap, length, F_LEN),
};
static const struct fz_field f_option[] = {
	FLD(iommu_option, size, F_SIZE), FLD(iommu_option, option_id, F_INDEX),
	FLD(iommu_option, op, F_FLAGS), FLD(iommu_option, __reserved, F_RSV),
	FLD(iommu_option, object_id, F_ID), FLD(iommu_option, val64, F_VAL),
};
static const struct fz_field f_vfio_ioas[] = {
	FLD(iommu_vfio_ioas, size, F_SIZE), FLD(iommu_vfio_ioas, ioas_id, F_ID),
	FLD(iommu_vfio_ioas, op, F_INDEX), FLD(iommu_vfio_ioas, __reserved, F_RSV),
};
static const struct fz_field f_hwpt[] = {
	FLD(iommu_hwpt_alloc, size, F_SIZE), FLD(iommu_hwpt_alloc, flags, F_FLAGS),
	FLD(iommu_hwpt_alloc, dev_id, F_ID), FLD(iommu_hwpt_alloc, pt_id, F_ID),
	FLD(iommu_hwpt_alloc, __reserved, F_RSV),
	FLD(iommu_hwpt_alloc, data_type, F_INDEX), FLD(iommu_hwpt_alloc, data_len, F_LEN),
	FLD(iommu_hwpt_alloc, data_uptr, F_AUX), FLD(iommu_hwpt_alloc, fault_id, F_ID),
	FLD(iommu_hwpt_alloc, __reserved2, F_RSV),
};
static const struct fz_field f_hw_info[] = {
	FLD(iommu_hw_info, size, F_SIZE), FLD(iommu_hw_info, flags, F_FLAGS),
	FLD(iommu_hw_info, dev_id, F_ID), FLD(iommu_hw_info, data_len, F_INDEX),
	FLD(iommu_hw_info, data_uptr, F_AUX), FLD(iommu_hw_info, __reserved, F_RSV),
};
static const struct fz_field f_dirty_track[] = {
	FLD(iommu_hwpt_set_dirty_tracking, size, F_SIZE),
	FLD(iommu_hwpt_set_dirty_tracking, flags, F_FLAGS),
	FLD(iommu_hwpt_set_dirty_tracking, hwpt_id, F_ID),
	FLD(iommu_hwpt_set_dirty_tracking, __reserved, F_RSV),
};
static const struct fz_field f_dirty_bitmap[] = {
	FLD(iommu_hwpt_get_dirty_bitmap, size, F_SIZE),
	FLD(iommu_hwpt_get_dirty_bitmap, hwpt_id, F_ID),
	FLD(iommu_hwpt_get_dirty_bitmap, flags, F_FLAGS),
	FLD(iommu_hwpt_get_dirty_bitmap, iova, F_IOVA),
	FLD(iommu_hwpt_get_dirty_bitmap, length, F_LEN),
	FLD(iommu_hwpt_get_dirty_bitmap, page_size, F_VAL),
	FLD(iommu_hwpt_get_dirty_bitmap, data, F_AUX),
};
static const struct fz_field f_invalidate[] = {
	FLD(iommu_hwpt_invalidate, size, F_SIZE), FLD(iommu_hwpt_invalidate, hwpt_id, F_ID),
	FLD(iommu_hwpt_invalidate, data_uptr, F_AUX),
	FLD(iommu_hwpt_invalidate, data_type, F_INDEX),
	FLD(iommu_hwpt_invalidate, entry_len, F_LEN),
	FLD(iommu_hwpt_invalidate, entry_num, F_INDEX),
	FLD(iommu_hwpt_invalidate, __reserved, F_RSV),
};
static const struct fz_field f_fault[] = {
	FLD(iommu_fault_alloc, size, F_SIZE), FLD(iommu_fault_alloc, flags, F_FLAGS),
};
static const struct fz_field f_devinfo[] = {
	FLD(vfiodev_iommu_device_info, size, F_SIZE),
	FLD(vfiodev_iommu_device_info, flags, F_FLAGS),
	FLD(vfiodev_iommu_device_info, dev_id, F_ID),
	FLD(vfiodev_iommu_device_info, __reserved, F_RSV),
};
static const struct fz_field f_iommu_info[] = {
	FLD(vfio_iommu_type1_info, argsz, F_SIZE),
	FLD(vfio_iommu_type1_info, flags, F_FLAGS),
};
static const struct fz_field f_dma_map[] = {
	FLD(vfio_iommu_type1_dma_map, argsz, F_SIZE),
	FLD(vfio_iommu_type1_dma_map, flags, F_FLAGS),
	FLD(vfio_iommu_type1_dma_map, vaddr, F_UVA),
	FLD(vfio_iommu_type1_dma_map, iova, F_IOVA),
	FLD(vfio_iommu_type1_dma_map, size, F_LEN),
};
static const struct fz_field f_dma_unmap[] = {
	FLD(vfio_iommu_type1_dma_unmap, argsz, F_SIZE),
	FLD(vfio_iommu_type1_dma_unmap, flags, F_FLAGS),
	FLD(vfio_iommu_type1_dma_unmap, iova, F_IOVA),
	FLD(vfio_iommu_type1_dma_unmap, size, F_LEN),
};
static const struct fz_field f_dirty_pages[] = {
	FLD(vfio_iommu_type1_dirty_bitmap, argsz, F_SIZE),
	FLD(vfio_iommu_type1_dirty_bitmap, flags, F_FLAGS),
};
static const struct fz_field f_group_status[] = {
	FLD(vfio_group_status, argsz, F_SIZE), FLD(vfio_group_status, flags, F_FLAGS),
};
static const struct fz_field f_dev_info[] = {
	FLD(vfio_device_info, argsz, F_SIZE), FLD(vfio_device_info, flags, F_FLAGS),
	FLD(vfio_device_info, num_regions, F_VAL), FLD(vfio_device_info, cap_offset, F_VAL),
};
static const struct fz_field f_region_info[] = {
	FLD(vfio_region_info, argsz, F_SIZE), FLD(vfio_region_info, flags, F_FLAGS),
	FLD(vfio_region_info, index, F_INDEX), FLD(vfio_region_info, cap_offset, F_VAL),
	FLD(vfio_region_info, size, F_VAL), FLD(vfio_region_info, offset, F_VAL),
};
static const struct fz_field f_irq_info[] = {
	FLD(vfio_irq_info, argsz, F_SIZE), FLD(vfio_irq_info, flags, F_FLAGS),
	FLD(vfio_irq_info, index, F_INDEX), FLD(vfio_irq_info, count, F_VAL),
};
static const struct fz_field f_set_irqs[] = {
	FLD(vfio_irq_set, argsz, F_SIZE), FLD(vfio_irq_set, flags, F_FLAGS),
	FLD(vfio_irq_set, index, F_INDEX), FLD(vfio_irq_set, start, F_VAL),
	FLD(vfio_irq_set, count, F_VAL),
	{ sizeof(struct vfio_irq_set), 4, F_FD },
	{ sizeof(struct vfio_irq_set) + 4, 4, F_FD },
};
static const struct fz_field f_hot_reset_info[] = {
	FLD(vfio_pci_hot_reset_info, argsz, F_SIZE),
	FLD(vfio_pci_hot_reset_info, flags, F_FLAGS),
	FLD(vfio_pci_hot_reset_info, count, F_VAL),
};
static const struct fz_field f_hot_reset[] = {
	FLD(vfio_pci_hot_reset, argsz, F_SIZE), FLD(vfio_pci_hot_reset, flags, F_FLAGS),
	FLD(vfio_pci_hot_reset, count, F_INDEX),
	{ sizeof(struct vfio_pci_hot_reset), 4, F_FD },
};
static const struct fz_field f_ioeventfd[] = {
	FLD(vfio_device_ioeventfd, argsz, F_SIZE), FLD(vfio_device_ioeventfd, flags, F_FLAGS),
	FLD(vfio_device_ioeventfd, offset, F_VAL), FLD(vfio_device_ioeventfd, data, F_VAL),
	FLD(vfio_device_ioeventfd, fd, F_FD),
};
static const struct fz_field f_bind[] = {
	FLD(vfio_device_bind_iommufd, argsz, F_SIZE),
	FLD(vfio_device_bind_iommufd, flags, F_FLAGS),
	FLD(vfio_device_bind_iommufd, iommufd, F_FD),
};
static const struct fz_field f_attach[] = {
	FLD(vfio_device_attach_iommufd_pt, argsz, F_SIZE),
	FLD(vfio_device_attach_iommufd_pt, flags, F_FLAGS),
	FLD(vfio_device_attach_iommufd_pt, pt_id, F_ID),
};
static const struct fz_field f_detach[] = {
	FLD(vfio_device_detach_iommufd_pt, argsz, F_SIZE),
	FLD(vfio_device_detach_iommufd_pt, flags, F_FLAGS),
};
/* The header, then the payload of whichever feature it is. */
#define FEAT_DATA offsetof(struct vfio_device_feature, data)
static const struct fz_field f_feature[] = {
	FLD(vfio_device_feature, argsz, F_SIZE), FLD(vfio_device_feature, flags, F_FLAGS),
	{ FEAT_DATA, 4, F_VAL }, { FEAT_DATA + 4, 4, F_FD },
	{ FEAT_DATA + 8, 8, F_LEN }, { FEAT_DATA + 16, 8, F_AUX },
	{ FEAT_DATA + 24, 8, F_AUX },
};
static const struct fz_field f_precopy[] = {
	FLD(vfio_precopy_info, argsz, F_SIZE), FLD(vfio_precopy_info, flags, F_FLAGS),
};

/* --- fixups and harvests --------------------------------------------------- */

/* An array of IOVA ranges in aux, for ALLOW_IOVAS, IOVA_RANGES, logging. */
static void aux_ranges(struct fz *t, unsigned int n)
{
	struct iommu_iova_range *r = (void *)t->aux;
	unsigned int i;

	for (i = 0; i < n && i < AUX_LEN / sizeof(*r); i++) {
		r[i].start = pick_iova(t);
		r[i].last = r[i].start + pick_len(t) - 1;
	}
}

static void fix_allow(struct fz *t, uint8_t *arg)
{
	struct iommu_ioas_allow_iovas *c = (void *)arg;

	c->num_iovas = below(t, 4);
	c->allowed_iovas = (uintptr_t)t->aux;
	aux_ranges(t, c->num_iovas);
}

static void fix_ranges(struct fz *t, uint8_t *arg)
{
	struct iommu_ioas_iova_ranges *c = (void *)arg;

	c->num_iovas = below(t, 8);
	c->allowed_iovas = (uintptr_t)t->aux;
}

static void fix_map(struct fz *t, uint8_t *arg)
{
	struct iommu_ioas_map *c = (void *)arg;

	/* Mostly a length that fits the buffer. */
	if (!one_in(t, 8) && c->length > BUF_LEN / 2)
		c->length = BUF_LEN / 2;
}

static void fix_option(struct fz *t, uint8_t *arg)
{
	struct iommu_option *c = (void *)arg;

	c->option_id = below(t, 3);
	c->op = below(t, 3);
	c->val64 = below(t, 3);
	if (c->option_id == IOMMU_OPTION_RLIMIT_MODE)
		c->object_id = 0;
}

static void fix_hwpt(struct fz *t, uint8_t *arg)
{
	struct iommu_hwpt_alloc *c = (void *)arg;

	if (!one_in(t, 6)) {
		c->data_type = 0;
		c->data_len = 0;
		c->data_uptr = 0;
		c->fault_id = 0;
	}
}

static void fix_hw_info(struct fz *t, uint8_t *arg)
{
	struct iommu_hw_info *c = (void *)arg;

	c->data_len = below(t, 64);
}

static void fix_dirty_bitmap(struct fz *t, uint8_t *arg)
{
	struct iommu_hwpt_get_dirty_bitmap *c = (void *)arg;

	c->page_size = PAGE_SZ;
}

static void fix_dma_unmap(struct fz *t, uint8_t *arg)
{
	struct vfio_iommu_type1_dma_unmap *c = (void *)arg;

	if (c->flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		c->iova = 0;
		c->size = 0;
	}
}

static void fix_set_irqs(struct fz *t, uint8_t *arg)
{
	static const uint32_t actions[] = {
		VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK,
		VFIO_IRQ_SET_ACTION_TRIGGER,
	};
	static const uint32_t types[] = {
		VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL,
		VFIO_IRQ_SET_DATA_EVENTFD,
	};
	struct vfio_irq_set *c = (void *)arg;
	unsigned int i;

	c->flags = actions[below(t, 3)] | types[below(t, 3)];
	c->start = one_in(t, 8) ? below(t, 4) : 0;
	c->count = one_in(t, 4) ? below(t, 3) : 1;
	if (one_in(t, 4))
		c->count = 0;
	for (i = 0; i < 2; i++) {
		int32_t v = one_in(t, 4) ? -1 : pick_fd_of(t, K_EVENTFD);

		if ((c->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) == VFIO_IRQ_SET_DATA_BOOL)
			arg[sizeof(*c) + i] = below(t, 2);
		else
			memcpy(arg + sizeof(*c) + 4 * i, &v, 4);
	}
	c->argsz = sizeof(*c) + 4 * c->count + (one_in(t, 8) ? below(t, 8) : 0);
}

static void fix_hot_reset(struct fz *t, uint8_t *arg)
{
	struct vfio_pci_hot_reset *c = (void *)arg;
	int32_t fd = pick_fd_of(t, one_in(t, 2) ? K_GROUP : K_IOMMUFD);

	c->count = below(t, 2);
	memcpy(arg + sizeof(*c), &fd, 4);
	c->argsz = sizeof(*c) + 4 * c->count;
}

static void fix_ioeventfd(struct fz *t, uint8_t *arg)
{
	static const uint64_t regs[] = { 0x04, 0x08, 0x20, 0x60, 0x64 };
	struct vfio_device_ioeventfd *c = (void *)arg;

	c->flags = 1u << below(t, 4);
	c->offset = regs[below(t, ARRAY_LEN(regs))];
	if (one_in(t, 4))
		c->offset |= (uint64_t)below(t, 10) << 40;
	c->data = rnd(t);
	c->fd = one_in(t, 6) ? -1 : pick_fd_of(t, K_EVENTFD);
}

/* The edu's DMA registers: written only by fz_dma(). */
static bool hits_edu_dma(uint64_t off, uint64_t len)
{
	uint64_t index = off >> 40, in = off & ((1ULL << 40) - 1);

	return index == VFIO_PCI_BAR0_REGION_INDEX && in < 0xa0 &&
	       in + len > 0x80;
}

static int64_t writes_ioeventfd(const uint8_t *arg, unsigned int *len)
{
	const struct vfio_device_ioeventfd *c = (const void *)arg;

	*len = 8;
	return c->offset;
}

static void fix_feature(struct fz *t, uint8_t *arg)
{
	static const uint32_t features[] = {
		VFIO_DEVICE_FEATURE_MIGRATION, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
		VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
		VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
		VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
		VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
		VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, 0, 12, 0xffff,
	};
	static const uint32_t dirs[] = {
		VFIO_DEVICE_FEATURE_GET, VFIO_DEVICE_FEATURE_SET,
		VFIO_DEVICE_FEATURE_PROBE,
		VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET,
	};
	struct vfio_device_feature *c = (void *)arg;
	uint32_t f = features[below(t, ARRAY_LEN(features))];
	uint8_t *d = arg + FEAT_DATA;
	unsigned int payload = 0;

	c->flags = f | dirs[below(t, ARRAY_LEN(dirs))];
	switch (f) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
		payload = sizeof(struct vfio_device_feature_migration);
		break;
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: {
		struct vfio_device_feature_mig_state *s = (void *)d;

		/* The arcs that matter: RUNNING, STOP, STOP_COPY, RESUMING. */
		s->device_state = one_in(t, 8) ? rnd(t) : 1 + below(t, 4);
		s->data_fd = -1;
		payload = sizeof(*s);
		break;
	}
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START: {
		struct vfio_device_feature_dma_logging_control *s = (void *)d;

		s->page_size = one_in(t, 6) ? rnd_interesting(t) : PAGE_SZ;
		s->num_ranges = below(t, 4);
		s->ranges = (uintptr_t)t->aux;
		aux_ranges(t, s->num_ranges);
		payload = sizeof(*s);
		break;
	}
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT: {
		struct vfio_device_feature_dma_logging_report *s = (void *)d;

		s->iova = pick_iova(t);
		s->length = pick_len(t);
		s->page_size = one_in(t, 6) ? rnd_interesting(t) : PAGE_SZ;
		s->bitmap = (uintptr_t)t->aux + AUX_LEN / 2;
		payload = sizeof(*s);
		break;
	}
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		payload = sizeof(struct vfio_device_feature_mig_data_size);
		break;
	case VFIO_DEVICE_FEATURE_PCI_VF_TOKEN:
		payload = 16;
		break;
	default:
		payload = below(t, 16);
		break;
	}
	c->argsz = FEAT_DATA + payload + (one_in(t, 8) ? below(t, 16) : 0);
}

static void harvest_ioas(struct fz *t, uint8_t *arg, long ret)
{
	put_id(((struct iommu_ioas_alloc *)arg)->out_ioas_id);
}

static void harvest_hwpt(struct fz *t, uint8_t *arg, long ret)
{
	put_id(((struct iommu_hwpt_alloc *)arg)->out_hwpt_id);
}

static void harvest_fault(struct fz *t, uint8_t *arg, long ret)
{
	struct iommu_fault_alloc *c = (void *)arg;

	put_id(c->out_fault_id);
	put_fd(t, K_OTHER, c->out_fault_fd);
}

static void harvest_bind(struct fz *t, uint8_t *arg, long ret)
{
	put_id(((struct vfio_device_bind_iommufd *)arg)->out_devid);
}

static void harvest_attach(struct fz *t, uint8_t *arg, long ret)
{
	put_id(((struct vfio_device_attach_iommufd_pt *)arg)->pt_id);
}

static void harvest_devfd(struct fz *t, uint8_t *arg, long ret)
{
	put_fd(t, K_DEVFD, ret);
}

static void harvest_feature(struct fz *t, uint8_t *arg, long ret)
{
	struct vfio_device_feature *c = (void *)arg;
	struct vfio_device_feature_mig_state *s = (void *)(arg + FEAT_DATA);

	if ((c->flags & VFIO_DEVICE_FEATURE_MASK) ==
	    VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE &&
	    (c->flags & VFIO_DEVICE_FEATURE_SET) &&
	    !(c->flags & VFIO_DEVICE_FEATURE_PROBE) && s->data_fd >= 0 &&
	    memcmp(&s->data_fd, t->pre + FEAT_DATA + 4, 4))	/* a new file */
		put_fd(t, K_MIGF, s->data_fd);
}

/* The group's ioctls take a device name or a container file. */
static void fix_get_device_fd(struct fz *t, uint8_t *arg)
{
	const char *bdf = G.dev[below(t, G.ndev)].bdf;

	strcpy((char *)arg, bdf);
	switch (below(t, 8)) {
	case 0: arg[below(t, strlen(bdf) + 1)] = 'x'; break;
	case 1: memset(arg, 'a', ARG_LEN); break;	/* no terminator */
	case 2: arg[0] = 0; break;
	}
}

static void fix_set_container(struct fz *t, uint8_t *arg)
{
	int32_t fd = one_in(t, 4) ? pick_fd_any(t) :
		     pick_fd_of(t, one_in(t, 3) ? K_IOMMUFD : K_CONTAINER);

	memcpy(arg, &fd, 4);
}

#define OPS(n) .fields = FIELDS(n)
static const struct fz_op ops[] = {
	{ "IOMMU_DESTROY", IOMMU_DESTROY, KIOMMU, sizeof(struct iommu_destroy), 0, 0,
	  OPS(f_destroy) },
	{ "IOMMU_IOAS_ALLOC", IOMMU_IOAS_ALLOC, KIOMMU, sizeof(struct iommu_ioas_alloc),
	  0, 0, OPS(f_ioas_alloc), .harvest = harvest_ioas },
	{ "IOMMU_IOAS_ALLOW_IOVAS", IOMMU_IOAS_ALLOW_IOVAS, KIOMMU,
	  sizeof(struct iommu_ioas_allow_iovas), 0, 4, OPS(f_allow), .fixup = fix_allow },
	{ "IOMMU_IOAS_COPY", IOMMU_IOAS_COPY, KIOMMU, sizeof(struct iommu_ioas_copy),
	  IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE,
	  0, OPS(f_copy) },
	{ "IOMMU_IOAS_IOVA_RANGES", IOMMU_IOAS_IOVA_RANGES, KIOMMU,
	  sizeof(struct iommu_ioas_iova_ranges), 0, 8, OPS(f_ranges), .fixup = fix_ranges },
	{ "IOMMU_IOAS_MAP", IOMMU_IOAS_MAP, KIOMMU, sizeof(struct iommu_ioas_map),
	  IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE,
	  0, OPS(f_map), .fixup = fix_map },
	{ "IOMMU_IOAS_UNMAP", IOMMU_IOAS_UNMAP, KIOMMU, sizeof(struct iommu_ioas_unmap),
	  0, 0, OPS(f_unmap) },
	{ "IOMMU_OPTION", IOMMU_OPTION, KIOMMU, sizeof(struct iommu_option), 0, 3,
	  OPS(f_option), .fixup = fix_option },
	{ "IOMMU_VFIO_IOAS", IOMMU_VFIO_IOAS, KIOMMU, sizeof(struct iommu_vfio_ioas), 0, 3,
	  OPS(f_vfio_ioas) },
	{ "IOMMU_HWPT_ALLOC", IOMMU_HWPT_ALLOC, KIOMMU, sizeof(struct iommu_hwpt_alloc),
	  IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 2, OPS(f_hwpt),
	  .fixup = fix_hwpt, .harvest = harvest_hwpt },
	{ "IOMMU_GET_HW_INFO", IOMMU_GET_HW_INFO, KIOMMU, sizeof(struct iommu_hw_info),
	  0, 64, OPS(f_hw_info), .fixup = fix_hw_info },
	{ "IOMMU_HWPT_SET_DIRTY_TRACKING", IOMMU_HWPT_SET_DIRTY_TRACKING, KIOMMU,
	  sizeof(struct iommu_hwpt_set_dirty_tracking), IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
	  0, OPS(f_dirty_track) },
	{ "IOMMU_HWPT_GET_DIRTY_BITMAP", IOMMU_HWPT_GET_DIRTY_BITMAP, KIOMMU,
	  sizeof(struct iommu_hwpt_get_dirty_bitmap), IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
	  0, OPS(f_dirty_bitmap), .fixup = fix_dirty_bitmap },
	{ "IOMMU_HWPT_INVALIDATE", IOMMU_HWPT_INVALIDATE, KIOMMU,
	  sizeof(struct iommu_hwpt_invalidate), 0, 2, OPS(f_invalidate) },
	{ "IOMMU_FAULT_QUEUE_ALLOC", IOMMU_FAULT_QUEUE_ALLOC, KIOMMU,
	  sizeof(struct iommu_fault_alloc), 0, 0, OPS(f_fault), .harvest = harvest_fault },
	{ "VFIODEV_IOMMU_DEVICE_INFO", VFIODEV_IOMMU_DEVICE_INFO, KIOMMU,
	  sizeof(struct vfiodev_iommu_device_info), 0, 0, OPS(f_devinfo) },
	/* The container's (iommufd answers them too, in compat mode) */
	{ .name = "VFIO_GET_API_VERSION", .req = VFIO_GET_API_VERSION, .kinds = KCONT },
	{ .name = "VFIO_CHECK_EXTENSION", .req = VFIO_CHECK_EXTENSION, .kinds = KCONT,
	  .nindex = 12 },
	{ .name = "VFIO_SET_IOMMU", .req = VFIO_SET_IOMMU, .kinds = KCONT, .nindex = 10 },
	{ "VFIO_IOMMU_GET_INFO", VFIO_IOMMU_GET_INFO, KCONT,
	  sizeof(struct vfio_iommu_type1_info), 0, 0, OPS(f_iommu_info) },
	{ "VFIO_IOMMU_MAP_DMA", VFIO_IOMMU_MAP_DMA, KCONT,
	  sizeof(struct vfio_iommu_type1_dma_map),
	  VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | VFIO_DMA_MAP_FLAG_VADDR, 0,
	  OPS(f_dma_map) },
	{ "VFIO_IOMMU_UNMAP_DMA", VFIO_IOMMU_UNMAP_DMA, KCONT,
	  sizeof(struct vfio_iommu_type1_dma_unmap),
	  VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR, 0, OPS(f_dma_unmap),
	  .fixup = fix_dma_unmap },
	{ "VFIO_IOMMU_DIRTY_PAGES", VFIO_IOMMU_DIRTY_PAGES, KCONT,
	  sizeof(struct vfio_iommu_type1_dirty_bitmap), 7, 0, OPS(f_dirty_pages) },
	/* The group's */
	{ "VFIO_GROUP_GET_STATUS", VFIO_GROUP_GET_STATUS, B(K_GROUP),
	  sizeof(struct vfio_group_status), 0, 0, OPS(f_group_status) },
	{ .name = "VFIO_GROUP_SET_CONTAINER", .req = VFIO_GROUP_SET_CONTAINER,
	  .kinds = B(K_GROUP), .size = 4, .fixup = fix_set_container },
	{ .name = "VFIO_GROUP_UNSET_CONTAINER", .req = VFIO_GROUP_UNSET_CONTAINER,
	  .kinds = B(K_GROUP) },
	{ .name = "VFIO_GROUP_GET_DEVICE_FD", .req = VFIO_GROUP_GET_DEVICE_FD,
	  .kinds = B(K_GROUP), .size = BDF_LEN, .fixup = fix_get_device_fd,
	  .harvest = harvest_devfd },
	/* The device's */
	{ "VFIO_DEVICE_GET_INFO", VFIO_DEVICE_GET_INFO, KDEV,
	  sizeof(struct vfio_device_info), 0, 0, OPS(f_dev_info) },
	{ "VFIO_DEVICE_GET_REGION_INFO", VFIO_DEVICE_GET_REGION_INFO, KDEV,
	  sizeof(struct vfio_region_info), 0, 10, OPS(f_region_info) },
	{ "VFIO_DEVICE_GET_IRQ_INFO", VFIO_DEVICE_GET_IRQ_INFO, KDEV,
	  sizeof(struct vfio_irq_info), 0, 5, OPS(f_irq_info) },
	{ "VFIO_DEVICE_SET_IRQS", VFIO_DEVICE_SET_IRQS, KDEV, sizeof(struct vfio_irq_set),
	  0, 5, OPS(f_set_irqs), .fixup = fix_set_irqs },
	{ .name = "VFIO_DEVICE_RESET", .req = VFIO_DEVICE_RESET, .kinds = KDEV },
	{ "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO", VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, KDEV,
	  sizeof(struct vfio_pci_hot_reset_info), 0, 0, OPS(f_hot_reset_info) },
	{ "VFIO_DEVICE_PCI_HOT_RESET", VFIO_DEVICE_PCI_HOT_RESET, KDEV,
	  sizeof(struct vfio_pci_hot_reset), 0, 2, OPS(f_hot_reset),
	  .fixup = fix_hot_reset },
	{ "VFIO_DEVICE_IOEVENTFD", VFIO_DEVICE_IOEVENTFD, KDEV,
	  sizeof(struct vfio_device_ioeventfd), 0, 0, OPS(f_ioeventfd),
	  .fixup = fix_ioeventfd, .writes_at = writes_ioeventfd },
	{ "VFIO_DEVICE_FEATURE", VFIO_DEVICE_FEATURE, KDEV,
	  FEAT_DATA + sizeof(struct vfio_device_feature_dma_logging_report), 0, 0,
	  OPS(f_feature), .fixup = fix_feature, .harvest = harvest_feature },
	{ "VFIO_DEVICE_BIND_IOMMUFD", VFIO_DEVICE_BIND_IOMMUFD, B(K_CDEV),
	  sizeof(struct vfio_device_bind_iommufd), 0, 0, OPS(f_bind),
	  .harvest = harvest_bind },
	{ "VFIO_DEVICE_ATTACH_IOMMUFD_PT", VFIO_DEVICE_ATTACH_IOMMUFD_PT, B(K_CDEV),
	  sizeof(struct vfio_device_attach_iommufd_pt), 0, 0, OPS(f_attach),
	  .harvest = harvest_attach },
	{ "VFIO_DEVICE_DETACH_IOMMUFD_PT", VFIO_DEVICE_DETACH_IOMMUFD_PT, B(K_CDEV),
	  sizeof(struct vfio_device_detach_iommufd_pt), 0, 0, OPS(f_detach) },
	/* The migration data file's */
	{ "VFIO_MIG_GET_PRECOPY_INFO", VFIO_MIG_GET_PRECOPY_INFO, B(K_MIGF),
	  sizeof(struct vfio_precopy_info), 0, 0, OPS(f_precopy) },
	/* Any number in either type, on any file */
	{ .name = "random", .size = 64 },
};
#define NOPS ARRAY_LEN(ops)
#define OP_RANDOM (NOPS - 1)

/* --- coverage ----------------------------------------------------------- */

static void kcov_setup(struct fz *t)
{
	void *p;

	t->kcov = -1;
	if (!G.kcov)
		return;
	t->kcov = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
	if (t->kcov < 0)
		return;
	if (ioctl(t->kcov, KCOV_INIT_TRACE, COVER_WORDS))
		goto fail;
	p = mmap(NULL, COVER_WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED,
		 t->kcov, 0);
	if (p == MAP_FAILED)
		goto fail;
	t->cover = p;
	if (ioctl(t->kcov, KCOV_ENABLE, KCOV_TRACE_PC))
		goto fail;
	t->pcs = calloc(1u << PCSET_BITS, sizeof(*t->pcs));
	return;
fail:
	close(t->kcov);
	t->kcov = -1;
}

static bool pc_add(uint64_t *set, uint64_t pc, unsigned long *n)
{
	unsigned int mask = (1u << PCSET_BITS) - 1;
	unsigned int i = (pc * 0x9e3779b97f4a7c15ULL) >> (64 - PCSET_BITS);

	for (;; i = (i + 1) & mask) {
		if (set[i] == pc)
			return false;
		if (!set[i]) {
			if (*n >= mask / 2)
				return false;	/* full: stop counting */
			set[i] = pc;
			(*n)++;
			return true;
		}
	}
}

static void cover_begin(struct fz *t)
{
	if (t->kcov >= 0)
		atomic_store_explicit(&t->cover[0], 0, memory_order_relaxed);
}

/* The number of PCs this call reached for the first time in this thread. */
static unsigned int cover_end(struct fz *t)
{
	unsigned long n, i;
	unsigned int fresh = 0;

	if (t->kcov < 0 || !t->pcs)
		return 0;
	n = atomic_load_explicit(&t->cover[0], memory_order_relaxed);
	if (n >= COVER_WORDS)
		n = COVER_WORDS - 1;
	for (i = 0; i < n; i++)
		fresh += pc_add(t->pcs, t->cover[i + 1], &t->npcs);
	return fresh;
}

/* --- one call -------------------------------------------------------------- */

static void arm(struct fz *t)
{
	if (t->nth >= 0 && one_in(t, 16))
		t->armed = !fail_nth_arm(t->nth, 1 + below(t, 24));
}

static void disarm(struct fz *t)
{
	if (t->armed && fail_nth_disarm(t->nth) == 1)
		t->faults++;
	t->armed = false;
}

static void oddity(struct fz *t, const char *fmt, ...)
{
	va_list ap;

	if (!t->oddities++) {
		va_start(ap, fmt);
		vsnprintf(t->odd, sizeof(t->odd), fmt, ap);
		va_end(ap);
	}
}

/*
 * What any call may answer: 0 or more, or -1 with an errno user space
 * knows.  The kernel's own codes (512 and up: ERESTARTSYS, ENOTSUPP...)
 * must never get out.
 */
static void judge(struct fz *t, const char *what, long ret, int err)
{
	t->calls++;
	if (ret >= 0) {
		t->ok++;
		return;
	}
	if (ret != -1)
		oddity(t, "%s returned %ld", what, ret);
	else if (err <= 0 || err >= (int)ARRAY_LEN(t->err))
		oddity(t, "%s failed with errno %d", what, err);
	else
		t->err[err]++;
}

static void mutate_field(struct fz *t, uint8_t *arg, const struct fz_op *op)
{
	const struct fz_field *f;
	uint64_t v;

	if (!op->nfields) {
		arg[below(t, op->size ? op->size : 8)] ^= 1u << below(t, 8);
		return;
	}
	f = &op->fields[below(t, op->nfields)];
	if (f->kind == F_UVA || f->kind == F_AUX)
		v = rnd_bad_ptr(t);
	else if (f->kind == F_FD)
		v = pick_fd_any(t);
	else if (one_in(t, 3))
		v = 1ULL << below(t, f->width * 8);	/* one bit */
	else
		v = rnd_interesting(t);
	if (f->kind == F_FLAGS && one_in(t, 2)) {
		memcpy(&v, arg + f->off, f->width);
		v ^= 1ULL << below(t, f->width * 8);
	}
	memcpy(arg + f->off, &v, f->width);
}

static void gen_fields(struct fz *t, uint8_t *arg, const struct fz_op *op)
{
	unsigned int i;
	uint64_t v;

	for (i = 0; i < op->nfields; i++) {
		const struct fz_field *f = &op->fields[i];

		switch (f->kind) {
		case F_SIZE: v = op->size; break;
		case F_FLAGS: v = op->flags & rnd(t); break;
		case F_ID: v = pick_id(t); break;
		case F_IOVA: v = pick_iova(t); break;
		case F_LEN: v = pick_len(t); break;
		case F_UVA: v = pick_uva(t); break;
		case F_AUX: v = (uintptr_t)t->aux; break;
		case F_FD: v = pick_fd_of(t, one_in(t, 2) ? K_EVENTFD : K_IOMMUFD); break;
		case F_INDEX: v = below(t, op->nindex ? op->nindex : 4); break;
		case F_RSV: v = 0; break;
		default: v = one_in(t, 2) ? 0 : rnd_interesting(t); break;
		}
		memcpy(arg + f->off, &v, f->width);
	}
}

static int op_fd(struct fz *t, const struct fz_op *op)
{
	unsigned int k, i;
	int fd;

	if (!op->kinds || one_in(t, 12))
		return pick_fd_any(t);
	do
		k = below(t, NKINDS);
	while (!(op->kinds & B(k)));
	fd = pick_fd_of(t, k);
	/* An empty pool: mostly another kind the call takes. */
	for (i = 0; fd < 0 && i < NKINDS && !one_in(t, 8); i++)
		if (op->kinds & B((k + i) % NKINDS))
			fd = pick_fd_of(t, (k + i) % NKINDS);
	return fd;
}

static void do_ioctl(struct fz *t)
{
	const struct fz_op *op;
	unsigned int len, wlen, opi, c = 0;
	unsigned long req;
	bool from_corpus = t->ncorpus && one_in(t, 3);
	long ret;
	int fd, err;
	void *argp;

	if (from_corpus) {
		c = below(t, t->ncorpus);
		opi = t->corpus[c].op;
		op = &ops[opi];
		len = t->corpus[c].len;
		memset(t->arg, 0, ARG_LEN);
		memcpy(t->arg, t->corpus[c].arg, len);
		mutate_field(t, t->arg, op);
	} else {
		opi = below(t, NOPS);
		op = &ops[opi];
		len = op->size;
		memset(t->arg, 0, ARG_LEN);
		gen_fields(t, t->arg, op);
		if (op->fixup)
			op->fixup(t, t->arg);
		if (one_in(t, 3))
			mutate_field(t, t->arg, op);
		if (op->nfields && op->fields[0].kind == F_SIZE && one_in(t, 10)) {
			uint32_t sz = one_in(t, 2) ? below(t, op->size + 16) :
				      rnd_interesting(t);

			memcpy(t->arg, &sz, 4);
		}
	}
	req = op->req;
	if (opi == OP_RANDOM) {
		/* VFIO's and iommufd's ranges, and ours */
		static const unsigned int types[] = { VFIO_TYPE, IOMMUFD_TYPE,
						      VFIODEV_TYPE };
		unsigned int type = types[below(t, 3)];

		req = _IO(type, (type == VFIO_TYPE ? VFIO_BASE : type == IOMMUFD_TYPE ?
				 IOMMUFD_CMD_BASE : 0) + below(t, 40));
		for (len = 0; len < 64; len += 8) {
			uint64_t v = rnd_interesting(t);

			memcpy(t->arg + len, &v, 8);
		}
		*(uint32_t *)t->arg = below(t, 128);
		/* A known number is that ioctl: what it returns is harvested. */
		for (c = 0; c < OP_RANDOM; c++)
			if (ops[c].req == req)
				op = &ops[c];
	}
	if (op->writes_at) {
		int64_t off = op->writes_at(t->arg, &wlen);

		if (hits_edu_dma(off, wlen))
			return;
	}
	fd = op_fd(t, op);
	/* Integer arguments, or a pointer to the argument. */
	if (op->size == 0 && opi != OP_RANDOM)
		argp = (void *)(uintptr_t)(one_in(t, 2) ? below(t, op->nindex + 1) :
					   rnd_interesting(t));
	else
		argp = one_in(t, 40) ? (void *)(uintptr_t)rnd_bad_ptr(t) : t->arg;
	if (op->size == 0 && op->req == VFIO_SET_IOMMU)
		argp = (void *)(uintptr_t)(one_in(t, 4) ? rnd(t) % 12 :
					   (one_in(t, 2) ? VFIO_TYPE1v2_IOMMU :
					    VFIO_TYPE1_IOMMU));

	memcpy(t->pre, t->arg, sizeof(t->pre));
	cover_begin(t);
	arm(t);
	ret = ioctl(fd, req, argp);
	err = errno;
	disarm(t);
	t->ioctls++;
	if (cover_end(t) && !from_corpus && len <= CORPUS_ARG && t->corpus) {
		c = t->ncorpus < CORPUS ? t->ncorpus++ : below(t, CORPUS);
		t->corpus[c].op = opi;
		t->corpus[c].len = len;
		memcpy(t->corpus[c].arg, t->arg, len);
	}
	judge(t, op->name, ret, err);
	/* A call that returns a file must be the only one that does. */
	if (ret > 0 && req != VFIO_GROUP_GET_DEVICE_FD &&
	    req != VFIO_GET_API_VERSION && req != VFIO_CHECK_EXTENSION)
		oddity(t, "%s returned %ld", op->name, ret);
	if (ret >= 0 && argp == t->arg && op->harvest)
		op->harvest(t, t->arg, ret);
	else if (ret > 0 && req == VFIO_GROUP_GET_DEVICE_FD)
		close(ret);
}

/* A device file; mostly a cdev while no group has handed out a device fd. */
static int dev_fd(struct fz *t)
{
	int fd = pick_fd_of(t, one_in(t, 2) ? K_CDEV : K_DEVFD);

	return fd >= 0 || one_in(t, 8) ? fd : pick_fd_of(t, K_CDEV);
}

/* A region offset: mostly BAR0 and config space, near their edges too. */
static uint64_t region_off(struct fz *t, unsigned int len)
{
	static const uint64_t edges[] = { 0, 4, 0x40, 0xfc, 0x100, 0xffc,
					  0x1000, EDU_BAR_LEN - 4, EDU_BAR_LEN };
	uint64_t index = one_in(t, 3) ? below(t, 12) :
			 (one_in(t, 2) ? VFIO_PCI_BAR0_REGION_INDEX :
			  VFIO_PCI_CONFIG_REGION_INDEX);
	uint64_t off = one_in(t, 2) ? edges[below(t, ARRAY_LEN(edges))] :
		       below(t, 0x100);

	if (one_in(t, 32))
		return rnd_interesting(t);
	return index << 40 | (off & ~(uint64_t)(len - 1));
}

/* The edu BAR0 registers a write may go to. */
static bool edu_safe_write(uint64_t off, unsigned int len)
{
	uint64_t index = off >> 40, in = off & ((1ULL << 40) - 1);

	if (index != VFIO_PCI_BAR0_REGION_INDEX)
		return true;
	return len == 4 && (in == 0x04 || in == 0x08 || in == 0x20 ||
			    in == 0x60 || in == 0x64);
}

static void do_rw(struct fz *t)
{
	static const unsigned int lens[] = { 1, 2, 4, 8, 3, 16, 64 };
	unsigned int len = lens[below(t, ARRAY_LEN(lens))];
	uint64_t off = region_off(t, len), val = rnd(t);
	uint8_t buf[64];
	int fd = dev_fd(t), err;
	long ret;

	memcpy(buf, &val, 8);
	if (one_in(t, 2) && !hits_edu_dma(off, len) && edu_safe_write(off, len)) {
		cover_begin(t);
		arm(t);
		ret = pwrite(fd, buf, len, off);
	} else {
		cover_begin(t);
		arm(t);
		ret = pread(fd, buf, len, off);
	}
	err = errno;
	disarm(t);
	cover_end(t);
	judge(t, "region access", ret, err);
	if (ret > (long)len)
		oddity(t, "region access of %u returned %ld", len, ret);
}

static void do_mmap(struct fz *t)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE,
				     PROT_NONE };
	unsigned int slot = below(t, NMAPS), pages = 1 + below(t, 4);
	uint64_t index = one_in(t, 4) ? below(t, 10) : VFIO_PCI_BAR0_REGION_INDEX;
	uint64_t off = index << 40 | (one_in(t, 4) ? below(t, 256) * PAGE_SZ : 0);
	int prot = prots[below(t, ARRAY_LEN(prots))], err;
	volatile uint32_t *p;
	void *m;

	if (t->maps[slot].p) {
		munmap(t->maps[slot].p, t->maps[slot].len);
		t->maps[slot].p = NULL;
		if (one_in(t, 2))
			return;
	}
	if (one_in(t, 16))
		pages = 256 + below(t, 2);	/* all of BAR0, and past it */
	cover_begin(t);
	m = mmap(NULL, pages * PAGE_SZ, prot, MAP_SHARED, dev_fd(t), off);
	err = errno;
	cover_end(t);
	judge(t, "mmap", m == MAP_FAILED ? -1 : 0, err);
	if (m == MAP_FAILED)
		return;
	t->maps[slot].p = m;
	t->maps[slot].len = pages * PAGE_SZ;
	if (!(prot & PROT_READ))
		return;
	/* Touch it: a fault with memory decoding off must be a SIGBUS. */
	p = m;
	t->in_access = 1;
	if (!sigsetjmp(t->bus, 1)) {
		cover_begin(t);
		(void)p[0];
		if ((prot & PROT_WRITE) && index == VFIO_PCI_BAR0_REGION_INDEX &&
		    (off & ((1ULL << 40) - 1)) == 0)
			p[EDU_LIVENESS / 4] = rnd(t);
		if (pages > 1)
			(void)p[(pages - 1) * PAGE_SZ / 4];
		cover_end(t);
	}
	t->in_access = 0;
}

static void do_reopen(struct fz *t)
{
	enum fz_kind k = below(t, NKINDS);
	const struct fz_dev *d = &G.dev[below(t, G.ndev)];
	int fd = -1;

	cover_begin(t);
	arm(t);
	switch (k) {
	case K_IOMMUFD: fd = open("/dev/iommu", O_RDWR | O_CLOEXEC); break;
	case K_CONTAINER: fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC); break;
	case K_GROUP: fd = open(d->group, O_RDWR | O_CLOEXEC); break;
	case K_CDEV: fd = open(d->node, O_RDWR | O_CLOEXEC); break;
	case K_EVENTFD: fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); break;
	default: break;		/* only closed: new ones come from ioctls */
	}
	disarm(t);
	cover_end(t);
	judge(t, "open", fd, errno);
	/*
	 * A failed open (a group already open, an injected fault) leaves the
	 * pool as it was; the kinds that have no path are only closed.
	 */
	if (fd >= 0 || k == K_DEVFD || k == K_MIGF)
		put_fd(t, k, fd);
}

/* Unmaps user memory that may be mapped for DMA, and maps it again. */
static void do_remap(struct fz *t)
{
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE };
	uint8_t *b = G.bufs + below(t, NBUF) * BUF_STRIDE;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
	void *p;

	if (one_in(t, 3)) {
		madvise(b, BUF_LEN, MADV_DONTNEED);
		return;
	}
	if (one_in(t, 2))
		flags |= MAP_POPULATE;
	p = mmap(b, BUF_LEN, prots[below(t, ARRAY_LEN(prots))], flags, -1, 0);
	if (p == MAP_FAILED)
		oddity(t, "remapping a buffer: %s", strerror(errno));
}

/* Migration data files and eventfds: read and write(); see fz_dma(). */
static void do_stream(struct fz *t)
{
	uint8_t buf[256];
	unsigned int len = one_in(t, 2) ? 8 : below(t, sizeof(buf));
	bool migf = one_in(t, 2), wr = one_in(t, 2);
	int fd = pick_fd_of(t, migf ? K_MIGF : K_EVENTFD), err;
	uint64_t one = 1;
	long ret;

	if (wr && G.threaded)
		wr = false;
	if (migf && wr) {
		/* A stream as saved, one byte changed now and then. */
		if (t->aux[0] == 0x45 && !one_in(t, 4)) {
			memcpy(buf, t->aux, sizeof(buf));
			if (one_in(t, 3))
				buf[below(t, 32)] ^= 1u << below(t, 8);
		} else {
			memset(buf, below(t, 256), sizeof(buf));
		}
	} else if (!migf) {
		memcpy(buf, &one, 8);
	}
	cover_begin(t);
	arm(t);
	ret = wr ? write(fd, buf, len) : read(fd, buf, len);
	err = errno;
	disarm(t);
	cover_end(t);
	judge(t, migf ? "migration data" : "eventfd", ret, err);
	if (ret > (long)len)
		oddity(t, "%s of %u returned %ld", migf ? "migration data" : "eventfd",
		       len, ret);
	if (migf && !wr && ret >= 32 && buf[0] == 0x45)	/* "EDU1" */
		memcpy(t->aux, buf, ret);
}

/*
 * One DMA of an edu, from memory the fuzzer mapped (or not) at a random
 * IOVA, either way, through the device file's BAR0.  Only with no other
 * thread running: the registers are written, read back and only then is
 * the transfer started, so that nothing (a reset, a restored migration
 * stream) can come in between and leave them pointing outside the edu's
 * buffer.  A transfer that runs on is left alone: the edu ignores writes
 * to its DMA registers until it ends.
 */
static void fz_dma(struct fz *t)
{
	uint64_t cnt = 1 + below(t, EDU_DMA_MAX - 1), boff = below(t, 4096 - cnt);
	uint64_t iova = pick_iova(t) & EDU_DMA_MASK, v[3], back[3];
	bool to_ram = one_in(t, 2);
	uint32_t cmd;
	int fd = dev_fd(t), i, err;
	long ret;
	const uint64_t bar = (uint64_t)VFIO_PCI_BAR0_REGION_INDEX << 40;

	if (G.threaded || fd < 0)
		return;
	if (pread(fd, &cmd, 4, bar + EDU_DMA_CMD) != 4 || (cmd & EDU_DMA_RUN))
		return;
	v[0] = to_ram ? EDU_DMA_BUF + boff : iova;
	v[1] = to_ram ? iova : EDU_DMA_BUF + boff;
	v[2] = cnt;
	for (i = 0; i < 3; i++) {
		if (pwrite(fd, &v[i], 8, bar + EDU_DMA_SRC + 8 * i) != 8 ||
		    pread(fd, &back[i], 8, bar + EDU_DMA_SRC + 8 * i) != 8 ||
		    back[i] != v[i])
			return;
	}
	cmd = EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0) | (one_in(t, 2) ? 4 : 0);
	cover_begin(t);
	ret = pwrite(fd, &cmd, 4, bar + EDU_DMA_CMD) == 4 ? 0 : -1;
	err = errno;
	cover_end(t);
	judge(t, "DMA", ret, err);
}

static void step(struct fz *t)
{
	unsigned int r = below(t, 1000);

	if (r < 700)
		do_ioctl(t);
	else if (r < 800)
		do_rw(t);
	else if (r < 850)
		do_mmap(t);
	else if (r < 900)
		do_stream(t);
	else if (r < 950)
		do_reopen(t);
	else if (r < 970)
		do_remap(t);
	else if (r < 972)
		fz_dma(t);
	else
		do_ioctl(t);
}

/* --- set-up, run, and what must hold afterwards -------------------------- */

static void *page_with_guard(size_t len)
{
	uint8_t *p = mmap(NULL, len + PAGE_SZ, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	mprotect(p + len, PAGE_SZ, PROT_NONE);
	return p;
}

static struct fz *fz_new(uint64_t seed)
{
	struct fz *t = calloc(1, sizeof(*t));

	t->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	t->arg = page_with_guard(ARG_LEN);
	t->aux = page_with_guard(AUX_LEN);
	t->corpus = calloc(CORPUS, sizeof(*t->corpus));
	t->nth = -1;
	t->kcov = -1;
	return t;
}

/* fail-nth and kcov are the calling thread's. */
static void fz_attach(struct fz *t)
{
	cur = t;
	t->nth = G.inject ? fail_nth_open() : -1;
	kcov_setup(t);
}

static void fz_detach(struct fz *t)
{
	if (t->kcov >= 0) {
		ioctl(t->kcov, KCOV_DISABLE, 0);
		munmap((void *)t->cover, COVER_WORDS * 8);
		close(t->kcov);
		t->kcov = -1;
	}
	if (t->nth >= 0)
		close(t->nth);
	t->nth = -1;
	cur = NULL;
}

static void fz_free(struct fz *t)
{
	unsigned int i;

	for (i = 0; i < NMAPS; i++)
		if (t->maps[i].p)
			munmap(t->maps[i].p, t->maps[i].len);
	munmap(t->arg, ARG_LEN + PAGE_SZ);
	munmap(t->aux, AUX_LEN + PAGE_SZ);
	free(t->corpus);
	free(t->pcs);
	free(t);
}

struct fz_run {
	struct fz *t;
	unsigned long n;
};

static void *fz_thread(void *arg)
{
	struct fz_run *r = arg;
	unsigned long i;

	fz_attach(r->t);
	for (i = 0; i < r->n; i++)
		step(r->t);
	fz_detach(r->t);
	return NULL;
}

static void pools_close(void)
{
	int k, s, fd;

	for (k = 0; k < NKINDS; k++)
		for (s = 0; s < SLOTS; s++) {
			fd = atomic_exchange(&G.fd[k][s], -1);
			if (fd >= 0)
				close(fd);
		}
}

/*
 * Every pool starts with files of its kind, so that the first calls have
 * something to work on: the files opened by a path (the fuzzer's reopen
 * keeps them coming) and, per device, one group (a group opens only
 * once).  Device fds and migration data files come from the ioctls.
 */
static int pools_fill(void)
{
	int s, fd;

	for (s = 0; s < SLOTS; s++) {
		const struct fz_dev *d = &G.dev[s % G.ndev];
		static const enum fz_kind kinds[] = { K_IOMMUFD, K_CONTAINER,
						      K_CDEV, K_EVENTFD };
		unsigned int k;

		for (k = 0; k < ARRAY_LEN(kinds); k++) {
			switch (kinds[k]) {
			case K_IOMMUFD: fd = open("/dev/iommu", O_RDWR | O_CLOEXEC); break;
			case K_CONTAINER: fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC); break;
			case K_CDEV: fd = open(d->node, O_RDWR | O_CLOEXEC); break;
			default: fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); break;
			}
			if (fd < 0)
				return -errno;
			G.fd[kinds[k]][s] = fd;
		}
		if (s < G.ndev) {
			fd = open(d->group, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				return -errno;
			G.fd[K_GROUP][s] = fd;
		}
	}
	return 0;
}

FIXTURE(fuzz) {
	long pinned_before;
	bool held[NDEV_MAX];
};

FIXTURE_SETUP(fuzz)
{
	char root[8][BDF_LEN], port[8][BDF_LEN], name[64], path[PATH_MAX];
	int nroot, nport, i, k, s, gid;

	memset(&G, 0, sizeof(G));
	for (k = 0; k < NKINDS; k++)
		for (s = 0; s < SLOTS; s++)
			G.fd[k][s] = -1;
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_find_edus(root, &nroot, port, &nport));
	ASSERT_LE(1, nroot);
	G.ndev = nroot < NDEV_MAX ? nroot : NDEV_MAX;
	k = fail_nth_configure();
	if (k != -ENOENT)
		ASSERT_EQ(0, k) TH_LOG("fault injection: %s", strerror(-k));
	G.inject = k == 0;
	G.kcov = !access("/sys/kernel/debug/kcov", F_OK);
	for (i = 0; i < G.ndev; i++) {
		struct fz_dev *d = &G.dev[i];

		strcpy(d->bdf, root[i]);
		/* The first through the edu variant: migration, DMA logging. */
		d->driver = i == 0 ? "edu_vfio_pci" : VFIODEV_DRIVER;
		ASSERT_EQ(0, pci_release(d->bdf));
		/*
		 * Held enabled from sysfs, as fail_nth.c does: an injected
		 * failure in ACPICA's first _PRT evaluation is ACPICA's bug.
		 */
		snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/enable", d->bdf);
		self->held[i] = !sysfs_write(path, "1");
		ASSERT_EQ(0, pci_bind(d->bdf, d->driver)) TH_LOG("%s", d->bdf);
		ASSERT_EQ(0, vfio_dev_name(d->bdf, name, sizeof(name)));
		snprintf(d->node, sizeof(d->node), "/dev/vfio/devices/%s", name);
		gid = vfio_group_id(d->bdf);
		ASSERT_LE(0, gid);
		snprintf(d->group, sizeof(d->group), "/dev/vfio/%d", gid);
	}
	G.bufs = mmap(NULL, NBUF * BUF_STRIDE, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, G.bufs);
	for (i = 0; i < NBUF; i++)
		ASSERT_NE(MAP_FAILED, mmap(G.bufs + i * BUF_STRIDE, BUF_LEN,
					   PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
					   MAP_POPULATE, -1, 0));
	signal(SIGBUS, on_sigbus);
	signal(SIGSEGV, on_sigbus);
	self->pinned_before = guest_pinned_pages();
	ASSERT_LE(0, self->pinned_before);
	ASSERT_EQ(0, pools_fill());
	if (G.inject)
		ASSERT_EQ(0, kmsg_note("fault injection on"));
}

FIXTURE_TEARDOWN(fuzz)
{
	char path[PATH_MAX];
	int i;

	pools_close();
	if (G.inject)
		kmsg_note("fault injection off");
	for (i = 0; i < G.ndev; i++) {
		pci_release(G.dev[i].bdf);
		if (self->held[i]) {
			snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/enable",
				 G.dev[i].bdf);
			sysfs_write(path, "0");
		}
	}
	if (G.bufs)
		munmap(G.bufs, NBUF * BUF_STRIDE);
}

/* The device's power state as sysfs tells it ("D0", "D3hot", ...). */
static const char *power_state(const char *bdf)
{
	static char state[32];
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/power_state", bdf);
	if (sysfs_read(path, state, sizeof(state)))
		strcpy(state, "?");
	state[strcspn(state, "\n")] = 0;
	return state;
}

/*
 * One transfer of an edu's DMA engine through the device file's BAR0:
 * the edu variant traps the BAR (no mmap), so check_after() cannot map it.
 */
static int file_dma(int fd, uint64_t src, uint64_t dst, uint64_t cnt,
		    bool to_ram)
{
	const uint64_t bar = (uint64_t)VFIO_PCI_BAR0_REGION_INDEX << 40;
	int i;

	if (dev_wr64(fd, bar + EDU_DMA_SRC, src) ||
	    dev_wr64(fd, bar + EDU_DMA_DST, dst) ||
	    dev_wr64(fd, bar + EDU_DMA_CNT, cnt) ||
	    dev_wr32(fd, bar + EDU_DMA_CMD,
		     EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0)))
		return -EIO;
	for (i = 0; i < 20000; i++) {
		if (!(dev_rd32(fd, bar + EDU_DMA_CMD) & EDU_DMA_RUN))
			return 0;
		msleep(1);
	}
	return -ETIMEDOUT;
}

/*
 * One device after the run: it opens, binds, attaches, answers on BAR0 and
 * moves bytes both ways by DMA.  0 or the step that failed, with errno in
 * *@err; every file it opened is closed either way, so that a failure
 * cannot leave the device held (the teardown's unbind would wait for it).
 */
static int device_works(const struct fz_dev *d, char *buf, uint64_t iova,
			unsigned int seed, int *err)
{
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	const uint64_t bar = (uint64_t)VFIO_PCI_BAR0_REGION_INDEX << 40;
	const uint64_t cfg = (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40;
	int ifd, dfd = -1, step;
	uint32_t ioas, id;
	uint16_t cmd;

	*err = 0;
	ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	step = 1;
	if (ifd < 0 || ufd_ioas_alloc(ifd, &ioas) ||
	    ufd_map_fixed(ifd, ioas, buf, 4 * PAGE_SZ, iova))
		goto out;
	step = 2;
	dfd = vfio_dev_open_bound(d->bdf, ifd, NULL);
	if (dfd < 0) {
		errno = -dfd;
		goto out;
	}
	step = 3;
	at.pt_id = ioas;
	if (ioctl(dfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		goto out;
	/*
	 * Through the device file, as a VMM or a driver does: the file's
	 * command register is the one its BAR accesses obey.  A write from
	 * sysfs after the open would not reach it, and the open takes the
	 * device's own as it finds it: with the device held enabled (as
	 * here) and the close before unable to put the config space back
	 * (an injected failure to save it at open), decoding can be off.
	 */
	step = 4;
	if (pread(dfd, &cmd, 2, cfg + PCI_CMD_OFF) != 2)
		goto out;
	cmd |= PCI_CMD_MEMORY | PCI_CMD_MASTER;
	if (pwrite(dfd, &cmd, 2, cfg + PCI_CMD_OFF) != 2)
		goto out;
	step = 5;
	errno = 0;
	if (pread(dfd, &id, 4, bar + EDU_ID) != 4 || id != EDU_ID_VALUE)
		goto out;
	step = 6;
	if (dev_wr32(dfd, bar + EDU_LIVENESS, 0x1234 + seed) ||
	    dev_rd32(dfd, bar + EDU_LIVENESS) != ~(0x1234U + seed))
		goto out;
	step = 7;
	fill(buf, EDU_DMA_MAX, seed);
	memset(buf + PAGE_SZ, 0, PAGE_SZ);
	if (file_dma(dfd, iova, EDU_DMA_BUF, EDU_DMA_MAX, false) ||
	    file_dma(dfd, EDU_DMA_BUF, iova + PAGE_SZ, EDU_DMA_MAX, true) ||
	    memcmp(buf, buf + PAGE_SZ, EDU_DMA_MAX))
		goto out;
	step = 0;
out:
	if (step)
		*err = errno;
	if (dfd >= 0)
		close(dfd);
	if (ifd >= 0)
		close(ifd);
	return step;
}

/*
 * Once every file is closed: nothing stays pinned, and each device still
 * works (device_works()).  Memory decoding and bus mastering are turned on
 * through the new device file: the fuzzer's config space writes may have
 * left them off.
 */
static void check_after(struct __test_metadata *_metadata,
			FIXTURE_DATA(fuzz) *self)
{
	char *buf;
	int i, step, err;

	pools_close();
	EXPECT_EQ(self->pinned_before, guest_pinned_pages());
	buf = mmap(NULL, 4 * PAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	for (i = 0; i < G.ndev; i++) {
		step = device_works(&G.dev[i], buf, 0x200000, 7 + i, &err);
		EXPECT_EQ(0, step)
			TH_LOG("%s (%s) after the run: step %d (1 IOAS, 2 open and bind, 3 attach, 4 command register, 5 BAR0 ID, 6 liveness, 7 DMA): %s; power state %s",
			       G.dev[i].bdf, G.dev[i].driver, step, strerror(err),
			       power_state(G.dev[i].bdf));
	}
	munmap(buf, 4 * PAGE_SZ);
	EXPECT_EQ(self->pinned_before, guest_pinned_pages());
}

static void report(struct __test_metadata *_metadata, struct fz **ts,
		   unsigned int n, uint64_t seed, const char *what)
{
	unsigned long calls = 0, faults = 0, odd = 0, ioctls = 0, ok = 0, pcs;
	uint64_t *set = calloc(1u << PCSET_BITS, sizeof(*set));
	char errs[512] = "";
	unsigned long err[140] = { 0 };
	unsigned int i, j;
	size_t len = 0;

	pcs = 0;
	for (i = 0; i < n; i++) {
		calls += ts[i]->calls;
		faults += ts[i]->faults;
		odd += ts[i]->oddities;
		ioctls += ts[i]->ioctls;
		ok += ts[i]->ok;
		for (j = 0; j < ARRAY_LEN(err); j++)
			err[j] += ts[i]->err[j];
		if (ts[i]->pcs)
			for (j = 0; j < 1u << PCSET_BITS; j++)
				if (ts[i]->pcs[j])
					pc_add(set, ts[i]->pcs[j], &pcs);
		if (ts[i]->oddities)
			TH_LOG("thread %u: %s", i, ts[i]->odd);
	}
	for (j = 0; j < ARRAY_LEN(err) && len < sizeof(errs) - 32; j++)
		if (err[j])
			len += snprintf(errs + len, sizeof(errs) - len, " %s:%lu",
					strerrorname_np(j) ?: "?", err[j]);
	/* One line for `make fuzz` to add up. */
	printf("# VFIODEV-FUZZ %s seed=%llu threads=%u calls=%lu ioctls=%lu ok=%lu faults=%lu kcov_pcs=%lu oddities=%lu\n",
	       what, (unsigned long long)seed, n, calls, ioctls, ok, faults,
	       G.kcov ? pcs : 0, odd);
	TH_LOG("errnos:%s", errs);
	EXPECT_EQ(0UL, odd);
	free(set);
}

/* One thread: every kind of call, DMA and writes to streams included. */
TEST_F_TIMEOUT(fuzz, single, 7200)
{
	uint64_t seed = env_ulong("VFIODEV_FUZZ_SEED", 1);
	unsigned long n = env_ulong("VFIODEV_FUZZ_CALLS", 20000);
	struct fz_run r = { fz_new(seed), n };

	G.threaded = false;
	fz_thread(&r);
	signal(SIGSEGV, SIG_DFL);
	report(_metadata, &r.t, 1, seed, "single");
	fz_free(r.t);
	check_after(_metadata, self);
}

/*
 * Several threads on the same files: calls race, and files are closed and
 * reopened under the other threads' calls.
 */
TEST_F_TIMEOUT(fuzz, threads, 7200)
{
	uint64_t seed = env_ulong("VFIODEV_FUZZ_SEED", 1) + 1000;
	unsigned long n = env_ulong("VFIODEV_FUZZ_CALLS", 20000);
	unsigned int nt = env_ulong("VFIODEV_FUZZ_THREADS", 4), i;
	struct fz_run r[16];
	pthread_t tid[16];
	struct fz *ts[16];

	if (nt < 2 || nt > 16)
		nt = 4;
	G.threaded = true;
	for (i = 0; i < nt; i++) {
		r[i].t = ts[i] = fz_new(seed + i);
		r[i].n = n / nt;
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, fz_thread, &r[i]));
	}
	for (i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	report(_metadata, ts, nt, seed, "threads");
	for (i = 0; i < nt; i++)
		fz_free(ts[i]);
	check_after(_metadata, self);
}

TEST_HARNESS_MAIN
