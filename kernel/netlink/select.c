// SPDX-License-Identifier: GPL-2.0
/*
 * The rule that picks a vfio driver for a PCI device.
 *
 * A vfio driver's ID table marks its entries with
 * PCI_DRIVER_OVERRIDE_DEVICE_VFIO (override_only): they match only through
 * driver_override, and modpost turns them into "vfio_pci:" module aliases.
 * An entry matches a device as the PCI core matches one (each of vendor,
 * device, subvendor and subdevice equal or PCI_ANY_ID, the class equal
 * under class_mask).  Its specificity is the number of the seven fields of
 * the alias - vendor, device, subvendor, subdevice, base class, subclass,
 * interface - that are not wildcards, which is the count libvirt and others
 * take from modules.alias ("fewest wildcards").  The driver with the most
 * specific matching entry wins; on a tie, the driver whose name sorts first
 * (strcmp), so that the choice depends neither on load order nor on list
 * order.  vfio-pci's own entry is all wildcards: it is the fallback.
 */
#include <linux/pci.h>
#include <linux/string.h>

#include <kunit/visibility.h>

#include "select.h"

static bool field_matches(u32 want, u32 have)
{
	return want == PCI_ANY_ID || want == have;
}

/**
 * vfiodev_nl_id_matches() - whether an ID entry matches a device
 * @id: the entry
 * @dev: the device's IDs
 *
 * Return: true when it does, as pci_match_one_device() would decide.
 */
bool vfiodev_nl_id_matches(const struct pci_device_id *id,
			   const struct vfiodev_nl_ids *dev)
{
	return field_matches(id->vendor, dev->vendor) &&
	       field_matches(id->device, dev->device) &&
	       field_matches(id->subvendor, dev->subvendor) &&
	       field_matches(id->subdevice, dev->subdevice) &&
	       !((id->class ^ dev->class) & id->class_mask);
}
EXPORT_SYMBOL_IF_KUNIT(vfiodev_nl_id_matches);

/**
 * vfiodev_nl_id_specificity() - how many fields of an entry are fixed
 * @id: the entry
 *
 * A class byte counts as fixed only when class_mask covers all of it, as
 * file2alias writes a wildcard for any other byte.
 *
 * Return: 0 (matches anything) to 7.
 */
unsigned int vfiodev_nl_id_specificity(const struct pci_device_id *id)
{
	unsigned int n = 0;

	n += id->vendor != PCI_ANY_ID;
	n += id->device != PCI_ANY_ID;
	n += id->subvendor != PCI_ANY_ID;
	n += id->subdevice != PCI_ANY_ID;
	n += (id->class_mask & 0xff0000) == 0xff0000;
	n += (id->class_mask & 0x00ff00) == 0x00ff00;
	n += (id->class_mask & 0x0000ff) == 0x0000ff;
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(vfiodev_nl_id_specificity);

/**
 * vfiodev_nl_better() - whether candidate A beats candidate B
 * @spec_a: A's specificity
 * @name_a: A's driver name
 * @spec_b: B's specificity
 * @name_b: B's driver name, or NULL when there is no B yet
 *
 * Return: 1 when A wins, 0 when B does (or they are the same driver).
 */
int vfiodev_nl_better(unsigned int spec_a, const char *name_a,
		      unsigned int spec_b, const char *name_b)
{
	if (!name_b)
		return 1;
	if (spec_a != spec_b)
		return spec_a > spec_b;
	return strcmp(name_a, name_b) < 0;
}
EXPORT_SYMBOL_IF_KUNIT(vfiodev_nl_better);
