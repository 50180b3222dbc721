// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfiodev-info: what a VMM learns about a device before it hands it to a
 * guest, on libvfiodev.
 *
 *   vfiodev-info [--path auto|cdev|legacy] <device>
 *
 * What sysfs says before opening (and the path the automatic policy would
 * take), then, opened: the path taken and why, the regions, the PCI
 * configuration header and capability list as the device file shows them,
 * the interrupts, and the DMA windows of the address space.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfiodev.h>

static const char * const region_names[] = {
	"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "config", "VGA",
};

static const char * const irq_names[] = {
	"INTx", "MSI", "MSI-X", "ERR", "REQ",
};

static int fail(const char *what, int rc)
{
	fprintf(stderr, "info: error: %s: %s\n", what, strerror(-rc));
	return 1;
}

static void log_stderr(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	fprintf(stderr, "libvfiodev: %s\n", msg);
}

static const char *cap_name(uint8_t id)
{
	switch (id) {
	case 0x01: return "power management";
	case 0x05: return "MSI";
	case 0x09: return "vendor specific";
	case 0x10: return "PCI Express";
	case 0x11: return "MSI-X";
	case 0x13: return "advanced features";
	}
	return "other";
}

static void show_sysfs(struct vfiodev_ctx *ctx, const char *name)
{
	struct vfiodev_pci_info pi;

	if (vfiodev_pci_get_info(ctx, name, &pi, sizeof(pi)))
		return;
	printf("info: sysfs, before opening anything:\n");
	printf("info:   %s %04x:%04x class %06x, driver %s, IOMMU group %d, cdev %s\n",
	       pi.bdf, pi.vendor, pi.device, pi.class_code,
	       pi.driver[0] ? pi.driver : "none", pi.group,
	       pi.cdev[0] ? pi.cdev : "none");
	printf("info:   IOMMU enforces DMA cache coherency: %s\n",
	       pi.coherent == 1 ? "yes" : pi.coherent == 0 ? "no" :
	       "not published before opening");
	if (pi.auto_path != VFIODEV_PATH_AUTO)
		printf("info:   the path policy would take the %s path: %s\n",
		       vfiodev_path_str(pi.auto_path),
		       vfiodev_reason_str(pi.auto_reason));
	else
		printf("info:   the path policy learns the coherency on attach\n");
}

static void show_config(struct vfiodev_device *dev)
{
	uint8_t cfg[256], pos;
	unsigned int i, guard = 0;

	if (vfiodev_config_read(dev, 0, cfg, sizeof(cfg))) {
		printf("info: configuration space: unreadable\n");
		return;
	}
	printf("info: configuration header: vendor %02x%02x device %02x%02x revision %02x class %02x%02x%02x\n",
	       cfg[1], cfg[0], cfg[3], cfg[2], cfg[8], cfg[11], cfg[10],
	       cfg[9]);
	for (i = 0; i < 6; i++) {
		uint32_t bar;

		memcpy(&bar, cfg + 0x10 + 4 * i, 4);
		if (bar)
			printf("info:   BAR%u register 0x%08x (%s%s)\n", i, bar,
			       bar & 1 ? "I/O" : "memory",
			       !(bar & 1) && (bar & 6) == 4 ? ", 64-bit" : "");
	}
	if (!(cfg[6] & 0x10))
		return;
	for (pos = cfg[0x34] & 0xfc; pos && guard++ < 48;
	     pos = cfg[pos + 1] & 0xfc) {
		printf("info:   capability 0x%02x at 0x%02x: %s\n", cfg[pos], pos,
		       cap_name(cfg[pos]));
		if (pos > 0xfc - 2)
			break;
	}
}

int main(int argc, char **argv)
{
	enum vfiodev_path policy = VFIODEV_PATH_AUTO, path;
	struct vfiodev_iova_range ranges[8];
	struct vfiodev_device_info di;
	struct vfiodev_device *dev;
	enum vfiodev_reason reason;
	struct vfiodev_ctx *ctx;
	struct vfiodev_as *as;
	const char *name;
	unsigned int i;
	int rc, n;

	if (argc == 4 && !strcmp(argv[1], "--path")) {
		if (!strcmp(argv[2], "cdev"))
			policy = VFIODEV_PATH_CDEV;
		else if (!strcmp(argv[2], "legacy"))
			policy = VFIODEV_PATH_LEGACY;
		else if (strcmp(argv[2], "auto"))
			argc = 0;
		name = argv[3];
	} else if (argc == 2) {
		name = argv[1];
	} else {
		argc = 0;
	}
	if (!argc) {
		fprintf(stderr, "usage: vfiodev-info [--path auto|cdev|legacy] <device>\n");
		return 2;
	}
	rc = vfiodev_ctx_create(0, &ctx);
	if (rc)
		return fail("context", rc);
	vfiodev_ctx_set_log(ctx, log_stderr, NULL, VFIODEV_LOG_ERR);
	vfiodev_ctx_set_path(ctx, policy);
	show_sysfs(ctx, name);
	rc = vfiodev_as_create(ctx, &as);
	if (rc)
		return fail("address space", rc);
	rc = vfiodev_device_open(as, name, &dev);
	if (rc)
		return fail(name, rc);
	path = vfiodev_device_path(dev, &reason);
	vfiodev_device_get_info(dev, &di, sizeof(di));
	printf("info: opened %s on the %s path: %s\n", di.bdf,
	       vfiodev_path_str(path), vfiodev_reason_str(reason));
	printf("info: IOMMU enforces DMA cache coherency (as opened): %s\n",
	       di.coherent == 1 ? "yes" : di.coherent == 0 ? "no" :
	       "the kernel does not say");
	printf("info: %u regions, %u interrupt indexes, flags 0x%x\n",
	       di.num_regions, di.num_irqs, di.flags);
	for (i = 0; i < di.num_regions; i++) {
		struct vfiodev_region_info ri;

		if (vfiodev_region_get_info(dev, i, &ri, sizeof(ri)) || !ri.size)
			continue;
		printf("info:   region %u (%s): %llu bytes at offset 0x%llx, %s%s%s\n",
		       i, i < 9 ? region_names[i] : "device specific",
		       (unsigned long long)ri.size,
		       (unsigned long long)ri.offset,
		       ri.flags & VFIODEV_REGION_READ ? "read " : "",
		       ri.flags & VFIODEV_REGION_WRITE ? "write " : "",
		       ri.flags & VFIODEV_REGION_MMAP ? "mmap" : "trapped");
	}
	show_config(dev);
	for (i = 0; i < di.num_irqs; i++) {
		struct vfiodev_irq_info ii;

		if (vfiodev_irq_get_info(dev, i, &ii, sizeof(ii)))
			continue;
		printf("info:   interrupts %s: %u vectors%s%s%s\n",
		       i < 5 ? irq_names[i] : "device specific", ii.count,
		       ii.flags & VFIODEV_IRQ_EVENTFD ? ", eventfd" : "",
		       ii.flags & VFIODEV_IRQ_MASKABLE ? ", maskable" : "",
		       ii.flags & VFIODEV_IRQ_AUTOMASKED ? ", automasked" : "");
	}
	n = vfiodev_as_iova_ranges(as, ranges, 8);
	for (i = 0; n > 0 && i < (unsigned int)n && i < 8; i++)
		printf("info:   DMA window 0x%llx - 0x%llx\n",
		       (unsigned long long)ranges[i].start,
		       (unsigned long long)ranges[i].last);
	printf("info: device reset %s\n", di.flags & 0x1 ?
	       "available (VFIO_DEVICE_RESET)" : "not available");
	vfiodev_device_close(dev);
	vfiodev_as_destroy(as);
	vfiodev_ctx_destroy(ctx);
	return 0;
}
