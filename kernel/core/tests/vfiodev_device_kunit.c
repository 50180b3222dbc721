// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the lifetime of struct vfiodev_device.
 *
 * A fake driver counts the callbacks the core makes: init on allocation,
 * release on the last put, request while unregistration waits for a user.
 * Minor numbers are checked for uniqueness and reuse, and unregistration
 * for waiting exactly as long as a registration reference is held.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/workqueue.h>

#include "../../compat.h"
#include "../vfiodev_priv.h"

struct fake_dev {
	struct vfiodev_device vdev;
	unsigned long cookie;
};

/* The device's memory is gone after release: count outside of it. */
static struct {
	int init;
	int release;
	int request;
	int init_ret;
	unsigned int first_request_count;
} calls;

static int fake_init(struct vfiodev_device *vdev)
{
	calls.init++;
	container_of(vdev, struct fake_dev, vdev)->cookie = 0x5eed;
	return calls.init_ret;
}

static void fake_release(struct vfiodev_device *vdev)
{
	calls.release++;
}

static void fake_request(struct vfiodev_device *vdev, unsigned int count)
{
	if (!calls.request++)
		calls.first_request_count = count;
}

static const struct vfiodev_device_ops fake_ops = {
	.name = "vfiodev-kunit",
	.init = fake_init,
	.release = fake_release,
	.request = fake_request,
};

static int vfiodev_device_test_init(struct kunit *test)
{
	memset(&calls, 0, sizeof(calls));
	return 0;
}

static struct fake_dev *fake_alloc(struct kunit *test, struct device *parent)
{
	struct fake_dev *f;

	f = vfiodev_alloc_device(struct fake_dev, vdev, parent, &fake_ops);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(f), "alloc: %ld", PTR_ERR(f));
	return f;
}

static struct device *parent_dev(struct kunit *test)
{
	struct device *dev = kunit_device_register(test, "vfiodev-kunit");

	KUNIT_ASSERT_FALSE(test, IS_ERR(dev));
	return dev;
}

static void alloc_init_put_release(struct kunit *test)
{
	struct device *parent = parent_dev(test);
	struct fake_dev *f = fake_alloc(test, parent);

	KUNIT_EXPECT_EQ(test, calls.init, 1);
	KUNIT_EXPECT_EQ(test, calls.release, 0);
	KUNIT_EXPECT_EQ(test, f->cookie, 0x5eedUL);
	KUNIT_EXPECT_PTR_EQ(test, f->vdev.dev, parent);
	KUNIT_EXPECT_PTR_EQ(test, f->vdev.ops, &fake_ops);

	vfiodev_put_device(&f->vdev);
	KUNIT_EXPECT_EQ(test, calls.release, 1);
}

static void init_failure_unwinds(struct kunit *test)
{
	struct device *parent = parent_dev(test);
	struct fake_dev *f, *g;
	unsigned int index;

	f = fake_alloc(test, parent);
	index = f->vdev.index;
	vfiodev_put_device(&f->vdev);

	calls.init_ret = -ENOSPC;
	g = vfiodev_alloc_device(struct fake_dev, vdev, parent, &fake_ops);
	KUNIT_EXPECT_EQ(test, PTR_ERR(g), -ENOSPC);
	/* A failed init is undone by the core, not by release. */
	KUNIT_EXPECT_EQ(test, calls.release, 1);

	/* ... and gave its minor back: the lowest free one comes again. */
	calls.init_ret = 0;
	g = fake_alloc(test, parent);
	KUNIT_EXPECT_EQ(test, g->vdev.index, index);
	vfiodev_put_device(&g->vdev);
}

static void minors_unique_and_reused(struct kunit *test)
{
	struct device *parent = parent_dev(test);
	struct fake_dev *a = fake_alloc(test, parent);
	struct fake_dev *b = fake_alloc(test, parent);
	struct fake_dev *c;
	unsigned int ia = a->vdev.index;

	KUNIT_EXPECT_NE(test, ia, b->vdev.index);
	KUNIT_EXPECT_EQ(test, MAJOR(a->vdev.device.devt),
			MAJOR(b->vdev.device.devt));
	KUNIT_EXPECT_EQ(test, MINOR(a->vdev.device.devt), ia);

	vfiodev_put_device(&a->vdev);
	c = fake_alloc(test, parent);
	KUNIT_EXPECT_EQ(test, c->vdev.index, ia);
	vfiodev_put_device(&b->vdev);
	vfiodev_put_device(&c->vdev);
	KUNIT_EXPECT_EQ(test, calls.release, 3);
}

static void register_unregister_idle(struct kunit *test)
{
	struct fake_dev *f = fake_alloc(test, parent_dev(test));
	char name[16];

	KUNIT_ASSERT_EQ(test, vfiodev_register_device(&f->vdev), 0);
	KUNIT_EXPECT_EQ(test, refcount_read(&f->vdev.refcount), 1);
	snprintf(name, sizeof(name), "vfio%u", f->vdev.index);
	KUNIT_EXPECT_STREQ(test, dev_name(&f->vdev.device), name);

	vfiodev_unregister_device(&f->vdev);
	/* Nobody held it: user space was never asked. */
	KUNIT_EXPECT_EQ(test, calls.request, 0);
	KUNIT_EXPECT_EQ(test, refcount_read(&f->vdev.refcount), 0);
	KUNIT_EXPECT_FALSE(test, vfiodev_device_try_get_registration(&f->vdev));
	vfiodev_put_device(&f->vdev);
	KUNIT_EXPECT_EQ(test, calls.release, 1);
}

struct late_put {
	struct delayed_work work;
	struct vfiodev_device *vdev;
	bool put_done;
};

static void late_put_fn(struct work_struct *work)
{
	struct late_put *lp = container_of(to_delayed_work(work),
					   struct late_put, work);

	WRITE_ONCE(lp->put_done, true);
	vfiodev_device_put_registration(lp->vdev);
}

static void unregister_waits_for_user(struct kunit *test)
{
	struct fake_dev *f = fake_alloc(test, parent_dev(test));
	struct late_put lp = { .vdev = &f->vdev };

	KUNIT_ASSERT_EQ(test, vfiodev_register_device(&f->vdev), 0);
	/* What an open device file holds. */
	KUNIT_ASSERT_TRUE(test, vfiodev_device_try_get_registration(&f->vdev));
	KUNIT_EXPECT_EQ(test, refcount_read(&f->vdev.refcount), 2);

	INIT_DELAYED_WORK(&lp.work, late_put_fn);
	schedule_delayed_work(&lp.work, msecs_to_jiffies(200));
	vfiodev_unregister_device(&f->vdev);

	/* It returned only after the user let go, having asked once. */
	KUNIT_EXPECT_TRUE(test, READ_ONCE(lp.put_done));
	KUNIT_EXPECT_EQ(test, calls.request, 1);
	KUNIT_EXPECT_EQ(test, calls.first_request_count, 0U);
	KUNIT_EXPECT_FALSE(test, vfiodev_device_try_get_registration(&f->vdev));
	flush_delayed_work(&lp.work);
	vfiodev_put_device(&f->vdev);
	KUNIT_EXPECT_EQ(test, calls.release, 1);
}

static struct kunit_case vfiodev_device_cases[] = {
	KUNIT_CASE(alloc_init_put_release),
	KUNIT_CASE(init_failure_unwinds),
	KUNIT_CASE(minors_unique_and_reused),
	KUNIT_CASE(register_unregister_idle),
	KUNIT_CASE(unregister_waits_for_user),
	{}
};

static struct kunit_suite vfiodev_device_suite = {
	.name = "vfiodev_device",
	.init = vfiodev_device_test_init,
	.test_cases = vfiodev_device_cases,
};

kunit_test_suite(vfiodev_device_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of the vfiodev device lifetime");
MODULE_IMPORT_NS(VFIODEV_NS);
MODULE_IMPORT_NS(VFIODEV_KUNIT_NS);
