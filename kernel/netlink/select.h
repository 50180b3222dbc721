/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Choosing the vfio driver for a PCI device: which ID-table entries match
 * it and how specifically.  Pure functions, for the netlink handlers and
 * their KUnit suite.
 */
#ifndef VFIODEV_NL_SELECT_H
#define VFIODEV_NL_SELECT_H

#include <linux/mod_devicetable.h>
#include <linux/types.h>

/**
 * struct vfiodev_nl_ids - what a PCI device says it is
 * @vendor: vendor ID
 * @device: device ID
 * @subvendor: subsystem vendor ID
 * @subdevice: subsystem ID
 * @class: class code (base class, subclass, interface), 24 bits
 */
struct vfiodev_nl_ids {
	u32 vendor;
	u32 device;
	u32 subvendor;
	u32 subdevice;
	u32 class;
};

bool vfiodev_nl_id_matches(const struct pci_device_id *id,
			   const struct vfiodev_nl_ids *dev);
unsigned int vfiodev_nl_id_specificity(const struct pci_device_id *id);
int vfiodev_nl_better(unsigned int spec_a, const char *name_a,
		      unsigned int spec_b, const char *name_b);

#endif /* VFIODEV_NL_SELECT_H */
