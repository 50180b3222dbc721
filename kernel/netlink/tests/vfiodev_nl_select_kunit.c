// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the rule that picks a vfio driver (netlink/select.c) over a table
 * of ID entries: matching, specificity, and ties.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "../../compat.h"
#include "../select.h"

#define VFIO_ENTRY(v, d)	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(v, d) }

static const struct vfiodev_nl_ids edu = {
	.vendor = 0x1234, .device = 0x11e8, .subvendor = 0x1af4,
	.subdevice = 0x1100, .class = 0x00ff00,
};

struct spec_case {
	const char *what;
	struct pci_device_id id;
	unsigned int spec;
	bool matches_edu;
};

static const struct spec_case spec_cases[] = {
	{ "vfio-pci: all wildcards", VFIO_ENTRY(PCI_ANY_ID, PCI_ANY_ID), 0, true },
	{ "vendor only", VFIO_ENTRY(0x1234, PCI_ANY_ID), 1, true },
	{ "vendor and device", VFIO_ENTRY(0x1234, 0x11e8), 2, true },
	{ "another device", VFIO_ENTRY(0x1234, 0x1111), 2, false },
	{ "another vendor", VFIO_ENTRY(0x8086, PCI_ANY_ID), 1, false },
	{ "and subsystem", { PCI_DEVICE_SUB(0x1234, 0x11e8, 0x1af4, 0x1100),
			     .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE }, 4, true },
	{ "another subsystem", { PCI_DEVICE_SUB(0x1234, 0x11e8, 0x1af4, 0x1101),
				 .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE }, 4, false },
	{ "class, all of it", { PCI_DEVICE_CLASS(0x00ff00, 0xffffff),
				.override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE }, 3, true },
	{ "base class only", { PCI_DEVICE_CLASS(0x000000, 0xff0000),
			       .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE }, 1, true },
	{ "a partial byte is a wildcard",
	  { PCI_DEVICE_CLASS(0x00ff00, 0xfff000),
	    .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE }, 1, true },
	{ "another class", { PCI_DEVICE_CLASS(0x010802, 0xffffff),
			     .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE }, 3, false },
};

static void spec_case_desc(const struct spec_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(spec, spec_cases, spec_case_desc);

static void vfiodev_nl_select_specificity(struct kunit *test)
{
	const struct spec_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, c->spec, vfiodev_nl_id_specificity(&c->id));
	KUNIT_EXPECT_EQ(test, c->matches_edu, vfiodev_nl_id_matches(&c->id, &edu));
}

/* The choice over drivers, as netlink.c makes it: candidates in turn. */
struct candidate {
	const char *driver;
	struct pci_device_id id;
};

static const char *choose(const struct candidate *c, unsigned int n)
{
	const char *best = NULL;
	unsigned int i, spec = 0;

	for (i = 0; i < n; i++) {
		unsigned int s;

		if (!vfiodev_nl_id_matches(&c[i].id, &edu))
			continue;
		s = vfiodev_nl_id_specificity(&c[i].id);
		if (vfiodev_nl_better(s, c[i].driver, spec, best)) {
			best = c[i].driver;
			spec = s;
		}
	}
	return best;
}

static void vfiodev_nl_select_most_specific(struct kunit *test)
{
	const struct candidate fwd[] = {
		{ "vfio-pci", VFIO_ENTRY(PCI_ANY_ID, PCI_ANY_ID) },
		{ "vendor_vfio_pci", VFIO_ENTRY(0x1234, PCI_ANY_ID) },
		{ "edu_vfio_pci", VFIO_ENTRY(0x1234, 0x11e8) },
		{ "nvme_vfio_pci", VFIO_ENTRY(0x1b36, 0x0010) },
	};
	const struct candidate rev[] = { fwd[3], fwd[2], fwd[1], fwd[0] };

	/* Whatever order the drivers come in (load order). */
	KUNIT_EXPECT_STREQ(test, "edu_vfio_pci", choose(fwd, ARRAY_SIZE(fwd)));
	KUNIT_EXPECT_STREQ(test, "edu_vfio_pci", choose(rev, ARRAY_SIZE(rev)));
	/* Without the specific one, the vendor's; without that, vfio-pci. */
	KUNIT_EXPECT_STREQ(test, "vendor_vfio_pci", choose(fwd, 2));
	KUNIT_EXPECT_STREQ(test, "vfio-pci", choose(fwd, 1));
	/* Nothing that matches: no choice. */
	KUNIT_EXPECT_NULL(test, choose(&fwd[3], 1));
}

static void vfiodev_nl_select_ties(struct kunit *test)
{
	const struct candidate a[] = {
		{ "zeta_vfio_pci", VFIO_ENTRY(0x1234, 0x11e8) },
		{ "alpha_vfio_pci", VFIO_ENTRY(0x1234, 0x11e8) },
		/* The whole class code: three fields fixed. */
		{ "class_vfio_pci", { PCI_DEVICE_CLASS(0x00ff00, 0xffffff),
				      .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE } },
	};
	const struct candidate b[] = { a[1], a[0] };
	const struct candidate c[] = {
		{ "class_vfio_pci", { PCI_DEVICE_CLASS(0x00ff00, 0xffffff),
				      .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE } },
		{ "sub_vfio_pci", { PCI_DEVICE_SUB(0x1234, PCI_ANY_ID, 0x1af4, PCI_ANY_ID),
				    .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE } },
	};

	/* Equal specificity: the name that sorts first, in either order. */
	KUNIT_EXPECT_STREQ(test, "alpha_vfio_pci", choose(a, 2));
	KUNIT_EXPECT_STREQ(test, "alpha_vfio_pci", choose(b, 2));
	/* Class (3 fields) beats vendor and device (2). */
	KUNIT_EXPECT_STREQ(test, "class_vfio_pci", choose(a, 3));
	/* Vendor and subvendor (2) lose to the full class (3). */
	KUNIT_EXPECT_STREQ(test, "class_vfio_pci", choose(c, 2));
	KUNIT_EXPECT_EQ(test, 1, vfiodev_nl_better(2, "b", 2, NULL));
	KUNIT_EXPECT_EQ(test, 0, vfiodev_nl_better(2, "b", 2, "a"));
	KUNIT_EXPECT_EQ(test, 0, vfiodev_nl_better(2, "a", 2, "a"));
	KUNIT_EXPECT_EQ(test, 1, vfiodev_nl_better(3, "z", 2, "a"));
}

static struct kunit_case vfiodev_nl_select_cases[] = {
	KUNIT_CASE_PARAM(vfiodev_nl_select_specificity, spec_gen_params),
	KUNIT_CASE(vfiodev_nl_select_most_specific),
	KUNIT_CASE(vfiodev_nl_select_ties),
	{}
};

static struct kunit_suite vfiodev_nl_select_suite = {
	.name = "vfiodev_nl_select",
	.test_cases = vfiodev_nl_select_cases,
};

kunit_test_suite(vfiodev_nl_select_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit: how vfiodev-nl picks a vfio driver");
MODULE_IMPORT_NS(VFIODEV_KUNIT_NS);
