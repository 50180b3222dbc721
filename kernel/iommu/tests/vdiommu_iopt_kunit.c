// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the IOVA bookkeeping of an IOAS, without a device or pinned
 * memory: kernel-chosen IOVAs (alignment, next fit, holes between areas and
 * reserved ranges, allowed ranges, exhaustion) and the rules between
 * reserved and allowed ranges.
 *
 * Areas are planted straight into the tree with no pages behind them, and
 * taken out again before the IOVA space is destroyed.
 */
#include <kunit/test.h>
#include <linux/slab.h>

#include "../../compat.h"
#include "../vdiommu_priv.h"

struct iopt_test {
	struct vdiommu_iopt iopt;
	struct vdiommu_area areas[8];
	unsigned int nareas;
};

static int iopt_test_init(struct kunit *test)
{
	struct iopt_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	if (!t)
		return -ENOMEM;
	vdiommu_iopt_init(&t->iopt);
	test->priv = t;
	return 0;
}

static void iopt_test_exit(struct kunit *test)
{
	struct iopt_test *t = test->priv;
	unsigned int i;

	for (i = 0; i < t->nareas; i++)
		interval_tree_remove(&t->areas[i].node, &t->iopt.area_itree);
	vdiommu_iopt_destroy(&t->iopt);
}

static void plant_area(struct kunit *test, unsigned long start,
		       unsigned long last)
{
	struct iopt_test *t = test->priv;
	struct vdiommu_area *area;

	KUNIT_ASSERT_LT(test, t->nareas, ARRAY_SIZE(t->areas));
	area = &t->areas[t->nareas++];
	area->node.start = start;
	area->node.last = last;
	interval_tree_insert(&area->node, &t->iopt.area_itree);
}

static int alloc(struct kunit *test, unsigned long length, unsigned long uptr,
		 unsigned long *iova)
{
	struct iopt_test *t = test->priv;
	int ret;

	down_write(&t->iopt.iova_rwsem);
	ret = vdiommu_iopt_alloc_iova(&t->iopt, length, uptr, iova);
	up_write(&t->iopt.iova_rwsem);
	return ret;
}

static int reserve(struct kunit *test, unsigned long start, unsigned long last)
{
	struct iopt_test *t = test->priv;
	int ret;

	down_write(&t->iopt.iova_rwsem);
	ret = vdiommu_iopt_reserve(&t->iopt, start, last, test);
	up_write(&t->iopt.iova_rwsem);
	return ret;
}

static int set_allowed(struct kunit *test, unsigned long start,
		       unsigned long last)
{
	struct iopt_test *t = test->priv;
	struct rb_root_cached root = RB_ROOT_CACHED;
	struct vdiommu_allowed *allowed;
	struct interval_tree_node *node;
	int ret;

	allowed = kzalloc(sizeof(*allowed), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, allowed);
	allowed->node.start = start;
	allowed->node.last = last;
	interval_tree_insert(&allowed->node, &root);
	ret = vdiommu_iopt_set_allowed(&t->iopt, &root);
	/* What comes back is for the caller to free. */
	while ((node = interval_tree_iter_first(&root, 0, ULONG_MAX))) {
		interval_tree_remove(node, &root);
		kfree(container_of(node, struct vdiommu_allowed, node));
	}
	return ret;
}

/* Never 0, page aligned, and the next one comes after the last. */
static void alloc_next_fit(struct kunit *test)
{
	unsigned long a, b;

	KUNIT_ASSERT_EQ(test, 0, alloc(test, PAGE_SIZE, 0x7f0000001000, &a));
	KUNIT_EXPECT_NE(test, 0, a);
	KUNIT_EXPECT_EQ(test, 0, a & (PAGE_SIZE - 1));
	plant_area(test, a, a + PAGE_SIZE - 1);
	KUNIT_ASSERT_EQ(test, 0, alloc(test, PAGE_SIZE, 0x7f0000001000, &b));
	KUNIT_EXPECT_GT(test, b, a);
}

/* The IOVA copies the user address's alignment, up to the length. */
static void alloc_keeps_alignment(struct kunit *test)
{
	unsigned long iova;

	plant_area(test, PAGE_SIZE, 3 * PAGE_SIZE - 1);
	KUNIT_ASSERT_EQ(test, 0, alloc(test, SZ_2M, 0x7f0000200000, &iova));
	KUNIT_EXPECT_EQ(test, 0, iova & (SZ_2M - 1));
	/* A small map of a 2 MiB aligned address needs no 2 MiB IOVA. */
	KUNIT_ASSERT_EQ(test, 0, alloc(test, PAGE_SIZE, 0x7f0000200000,
				       &iova));
	KUNIT_EXPECT_EQ(test, 0, iova & (PAGE_SIZE - 1));
}

/* Areas and reserved ranges are stepped over; holes too small skipped. */
static void alloc_skips_obstacles(struct kunit *test)
{
	unsigned long iova;

	plant_area(test, PAGE_SIZE, 4 * PAGE_SIZE - 1);
	KUNIT_ASSERT_EQ(test, 0, reserve(test, 5 * PAGE_SIZE,
					 8 * PAGE_SIZE - 1));
	/* A one-page hole at 4 pages; two pages fit only after 8. */
	KUNIT_ASSERT_EQ(test, 0, alloc(test, 2 * PAGE_SIZE, PAGE_SIZE, &iova));
	KUNIT_EXPECT_EQ(test, 8 * PAGE_SIZE, iova);
}

/* With allowed ranges, IOVAs come from them only, until they are full. */
static void alloc_inside_allowed(struct kunit *test)
{
	unsigned long iova;

	KUNIT_ASSERT_EQ(test, 0, set_allowed(test, SZ_1M, SZ_1M + 4 * PAGE_SIZE - 1));
	KUNIT_ASSERT_EQ(test, 0, alloc(test, 2 * PAGE_SIZE, PAGE_SIZE, &iova));
	KUNIT_EXPECT_EQ(test, SZ_1M, iova);
	plant_area(test, iova, iova + 2 * PAGE_SIZE - 1);
	KUNIT_ASSERT_EQ(test, 0, alloc(test, 2 * PAGE_SIZE, PAGE_SIZE, &iova));
	KUNIT_EXPECT_EQ(test, SZ_1M + 2 * PAGE_SIZE, iova);
	plant_area(test, iova, iova + 2 * PAGE_SIZE - 1);
	KUNIT_EXPECT_EQ(test, -ENOSPC, alloc(test, PAGE_SIZE, PAGE_SIZE,
					     &iova));
}

/* Near the top of the address space nothing wraps around. */
static void alloc_no_overflow(struct kunit *test)
{
	unsigned long iova;

	KUNIT_ASSERT_EQ(test, 0, reserve(test, 0, ULONG_MAX - SZ_1M));
	KUNIT_ASSERT_EQ(test, 0, alloc(test, SZ_1M, PAGE_SIZE, &iova));
	KUNIT_EXPECT_EQ(test, ULONG_MAX - SZ_1M + 1, iova);
	plant_area(test, iova, ULONG_MAX);
	KUNIT_EXPECT_EQ(test, -ENOSPC, alloc(test, PAGE_SIZE, PAGE_SIZE,
					     &iova));
}

/* Reserved and allowed ranges may not overlap, whichever comes first. */
static void reserved_vs_allowed(struct kunit *test)
{
	struct iopt_test *t = test->priv;

	KUNIT_ASSERT_EQ(test, 0, set_allowed(test, SZ_1M, SZ_2M - 1));
	KUNIT_EXPECT_EQ(test, -EADDRINUSE, reserve(test, SZ_2M - PAGE_SIZE,
						   SZ_2M));
	KUNIT_EXPECT_EQ(test, 0, reserve(test, SZ_2M, SZ_4M - 1));
	KUNIT_EXPECT_EQ(test, -EADDRINUSE, set_allowed(test, SZ_2M, SZ_4M));
	/* The refused set left the old allowed range in place. */
	KUNIT_EXPECT_NOT_NULL(test,
			      interval_tree_iter_first(&t->iopt.allowed_itree,
						       SZ_1M, SZ_1M));
	/* Something mapped cannot be reserved either. */
	plant_area(test, SZ_8M, SZ_8M + PAGE_SIZE - 1);
	KUNIT_EXPECT_EQ(test, -EADDRINUSE, reserve(test, SZ_8M, SZ_8M));
	vdiommu_iopt_unreserve(&t->iopt, test);
	KUNIT_EXPECT_NULL(test,
			  interval_tree_iter_first(&t->iopt.reserved_itree, 0,
						   ULONG_MAX));
}

static struct kunit_case vdiommu_iopt_cases[] = {
	KUNIT_CASE(alloc_next_fit),
	KUNIT_CASE(alloc_keeps_alignment),
	KUNIT_CASE(alloc_skips_obstacles),
	KUNIT_CASE(alloc_inside_allowed),
	KUNIT_CASE(alloc_no_overflow),
	KUNIT_CASE(reserved_vs_allowed),
	{}
};

static struct kunit_suite vdiommu_iopt_suite = {
	.name = "vfiodev_iommu_iopt",
	.init = iopt_test_init,
	.exit = iopt_test_exit,
	.test_cases = vdiommu_iopt_cases,
};

kunit_test_suite(vdiommu_iopt_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of the iommufd engine's IOVA bookkeeping");
MODULE_IMPORT_NS(VFIODEV_KUNIT_NS);
