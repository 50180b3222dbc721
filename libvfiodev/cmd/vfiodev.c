// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfiodev: list, inspect and bind VFIO devices, on libvfiodev alone.
 * See vfiodev(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfiodev.h>

#define EXIT_USAGE	2

static bool json;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vfiodev [--json] list [--all]\n"
		"       vfiodev [--json] info <device>\n"
		"       vfiodev bind <BDF> [driver]\n"
		"       vfiodev unbind <BDF>\n"
		"       vfiodev --help | --version\n"
		"\n"
		"  list     PCI devices a vfio driver has (--all: every PCI device),\n"
		"           with the path libvfiodev's automatic policy would take\n"
		"  info     open a device (PCI address, sysfs path or /dev/vfio/devices/vfioN)\n"
		"           and show its path, regions, interrupts and IOVA windows\n"
		"  bind     hand a device to a driver (default vfio-pci) via driver_override\n"
		"  unbind   take a device from its driver and clear driver_override\n"
		"\n"
		"VFIODEV_PATH=auto|cdev|legacy in the environment forces the path.\n");
}

static void log_stderr(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	fprintf(stderr, "vfiodev: %s\n", msg);
}

static int fail(const char *what, const char *dev, int rc)
{
	fprintf(stderr, "vfiodev: %s %s: %s\n", what, dev, strerror(-rc));
	return EXIT_FAILURE;
}

static const char *coherent_str(int c)
{
	return c == 1 ? "yes" : c == 0 ? "no" : "unknown";
}

static const char *coherent_json(int c)
{
	return c == 1 ? "true" : c == 0 ? "false" : "null";
}

/* Prints @s as a JSON string: the names printed here need no escapes but
 * quotes and backslashes are escaped all the same. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

struct list_state {
	unsigned int n;
};

static int list_one(const struct vfiodev_pci_info *pi, void *opaque)
{
	struct list_state *st = opaque;
	const char *path = pi->auto_path == VFIODEV_PATH_AUTO ?
			   (pi->vfio ? "on attach" : "-") :
			   vfiodev_path_str(pi->auto_path);

	if (json) {
		printf("%s\n  {\"bdf\": ", st->n ? "," : "");
		json_str(pi->bdf);
		printf(", \"vendor\": \"%04x\", \"device\": \"%04x\", \"class\": \"%06x\", \"driver\": ",
		       pi->vendor, pi->device, pi->class_code);
		if (pi->driver[0])
			json_str(pi->driver);
		else
			printf("null");
		printf(", \"group\": ");
		if (pi->group >= 0)
			printf("%d", pi->group);
		else
			printf("null");
		printf(", \"vfio\": %s, \"cdev\": ", pi->vfio ? "true" : "false");
		if (pi->cdev[0])
			json_str(pi->cdev);
		else
			printf("null");
		printf(", \"coherent\": %s, \"auto_path\": ",
		       coherent_json(pi->coherent));
		if (pi->auto_path == VFIODEV_PATH_AUTO)
			printf("null");
		else
			json_str(vfiodev_path_str(pi->auto_path));
		printf(", \"auto_reason\": ");
		if (pi->vfio)
			json_str(vfiodev_reason_str(pi->auto_reason));
		else
			printf("null");
		printf("}");
	} else {
		char group[12] = "-";

		if (pi->group >= 0)
			snprintf(group, sizeof(group), "%d", pi->group);
		if (!st->n)
			printf("%-13s %-9s %-14s %-5s %-8s %-8s %-9s %s\n",
			       "DEVICE", "ID", "DRIVER", "GROUP", "CDEV",
			       "COHERENT", "AUTO", "WHY");
		printf("%-13s %04x:%04x %-14s %-5s %-8s %-8s %-9s %s\n",
		       pi->bdf, pi->vendor, pi->device,
		       pi->driver[0] ? pi->driver : "-",
		       group,
		       pi->cdev[0] ? pi->cdev : "-",
		       coherent_str(pi->coherent), path,
		       pi->vfio && pi->auto_path != VFIODEV_PATH_AUTO ?
		       vfiodev_reason_str(pi->auto_reason) :
		       pi->vfio ? "the kernel does not tell before opening" : "");
	}
	st->n++;
	return 0;
}

static int cmd_list(struct vfiodev_ctx *ctx, int argc, char **argv)
{
	struct list_state st = { 0 };
	unsigned int flags = VFIODEV_PCI_VFIO_ONLY;
	int rc;

	if (argc > 1 && !strcmp(argv[1], "--all")) {
		flags = 0;
		argc--;
	}
	if (argc != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (json)
		printf("[");
	rc = vfiodev_pci_for_each(ctx, flags, list_one, &st);
	if (json)
		printf("%s]\n", st.n ? "\n" : "");
	else if (!st.n)
		printf("no %sPCI devices\n", flags ? "vfio " : "");
	if (rc < 0)
		return fail("list", "/sys/bus/pci/devices", rc);
	return 0;
}

static const char *region_name(unsigned int i)
{
	static const char * const names[] = {
		"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM",
		"config", "VGA",
	};

	return i < sizeof(names) / sizeof(names[0]) ? names[i] : "other";
}

static const char *irq_name(unsigned int i)
{
	static const char * const names[] = { "INTx", "MSI", "MSI-X", "ERR",
					       "REQ" };

	return i < sizeof(names) / sizeof(names[0]) ? names[i] : "other";
}

static int cmd_info(struct vfiodev_ctx *ctx, int argc, char **argv)
{
	struct vfiodev_iova_range ranges[16];
	struct vfiodev_device_info di;
	enum vfiodev_reason reason;
	struct vfiodev_device *dev;
	enum vfiodev_path path;
	struct vfiodev_as *as;
	unsigned int i, shown;
	int rc, nr;

	if (argc != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = vfiodev_as_create(ctx, &as);
	if (rc)
		return fail("address space for", argv[1], rc);
	rc = vfiodev_device_open(as, argv[1], &dev);
	if (rc) {
		vfiodev_as_destroy(as);
		return fail("cannot open", argv[1], rc);
	}
	path = vfiodev_device_path(dev, &reason);
	vfiodev_device_get_info(dev, &di, sizeof(di));
	nr = vfiodev_as_iova_ranges(as, ranges, 16);
	if (json) {
		printf("{\"bdf\": ");
		json_str(di.bdf);
		printf(", \"path\": ");
		json_str(vfiodev_path_str(path));
		printf(", \"reason\": ");
		json_str(vfiodev_reason_str(reason));
		printf(", \"group\": %d, \"cdev\": ", di.group);
		if (di.cdev[0])
			json_str(di.cdev);
		else
			printf("null");
		printf(", \"coherent\": %s, \"flags\": %u, \"regions\": [",
		       coherent_json(di.coherent), di.flags);
	} else {
		printf("device   %s\npath     %s (%s)\ngroup    %d\ncdev     %s\ncoherent %s\nflags    0x%x\n",
		       di.bdf, vfiodev_path_str(path), vfiodev_reason_str(reason),
		       di.group, di.cdev[0] ? di.cdev : "-",
		       coherent_str(di.coherent), di.flags);
		printf("regions\n");
	}
	for (i = 0, shown = 0; i < di.num_regions; i++) {
		struct vfiodev_region_info ri;

		if (vfiodev_region_get_info(dev, i, &ri, sizeof(ri)) || !ri.size)
			continue;
		if (json)
			printf("%s{\"index\": %u, \"name\": \"%s\", \"size\": %llu, \"read\": %s, \"write\": %s, \"mmap\": %s}",
			       shown++ ? ", " : "", i, region_name(i),
			       (unsigned long long)ri.size,
			       ri.flags & VFIODEV_REGION_READ ? "true" : "false",
			       ri.flags & VFIODEV_REGION_WRITE ? "true" : "false",
			       ri.flags & VFIODEV_REGION_MMAP ? "true" : "false");
		else
			printf("  %-2u %-6s %10llu bytes %s%s%s\n", i,
			       region_name(i), (unsigned long long)ri.size,
			       ri.flags & VFIODEV_REGION_READ ? "r" : "-",
			       ri.flags & VFIODEV_REGION_WRITE ? "w" : "-",
			       ri.flags & VFIODEV_REGION_MMAP ? "m" : "-");
	}
	printf(json ? "], \"irqs\": [" : "interrupts\n");
	for (i = 0, shown = 0; i < di.num_irqs; i++) {
		struct vfiodev_irq_info ii;

		if (vfiodev_irq_get_info(dev, i, &ii, sizeof(ii)))
			continue;
		if (json)
			printf("%s{\"index\": %u, \"name\": \"%s\", \"count\": %u, \"flags\": %u}",
			       shown++ ? ", " : "", i, irq_name(i), ii.count,
			       ii.flags);
		else
			printf("  %-2u %-6s %4u vectors%s%s\n", i, irq_name(i),
			       ii.count,
			       ii.flags & VFIODEV_IRQ_MASKABLE ? " maskable" : "",
			       ii.flags & VFIODEV_IRQ_AUTOMASKED ? " automasked" : "");
	}
	printf(json ? "], \"iova_ranges\": [" : "IOVA windows\n");
	for (i = 0; nr > 0 && i < (unsigned int)nr && i < 16; i++) {
		if (json)
			printf("%s{\"start\": %llu, \"last\": %llu}", i ? ", " : "",
			       (unsigned long long)ranges[i].start,
			       (unsigned long long)ranges[i].last);
		else
			printf("  0x%016llx - 0x%016llx\n",
			       (unsigned long long)ranges[i].start,
			       (unsigned long long)ranges[i].last);
	}
	if (json)
		printf("]}\n");
	vfiodev_device_close(dev);
	vfiodev_as_destroy(as);
	return 0;
}

static int cmd_bind(struct vfiodev_ctx *ctx, int argc, char **argv)
{
	struct vfiodev_pci_info pi;
	int rc;

	if (argc != 2 && argc != 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = vfiodev_pci_bind(ctx, argv[1], argc == 3 ? argv[2] : NULL);
	if (rc)
		return fail("cannot bind", argv[1], rc);
	if (!vfiodev_pci_get_info(ctx, argv[1], &pi, sizeof(pi)))
		printf("%s: driver %s, group %d, cdev %s\n", pi.bdf, pi.driver,
		       pi.group, pi.cdev[0] ? pi.cdev : "-");
	return 0;
}

static int cmd_unbind(struct vfiodev_ctx *ctx, int argc, char **argv)
{
	int rc;

	if (argc != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = vfiodev_pci_unbind(ctx, argv[1]);
	if (rc)
		return fail("cannot unbind", argv[1], rc);
	printf("%s: no driver\n", argv[1]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct vfiodev_ctx *ctx;
	int c, rc;

	/* Options come before the command; "list --all" is the command's. */
	while ((c = getopt_long(argc, argv, "+jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vfiodev %d.%d\n", vfiodev_version_major(),
			       vfiodev_version_minor());
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = vfiodev_ctx_create(0, &ctx);
	if (rc) {
		fprintf(stderr, "vfiodev: %s\n", rc == -EINVAL ?
			"VFIODEV_PATH must be auto, cdev or legacy" :
			strerror(-rc));
		return rc == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
	}
	vfiodev_ctx_set_log(ctx, log_stderr, NULL, VFIODEV_LOG_ERR);
	if (!strcmp(argv[0], "list"))
		rc = cmd_list(ctx, argc, argv);
	else if (!strcmp(argv[0], "info"))
		rc = cmd_info(ctx, argc, argv);
	else if (!strcmp(argv[0], "bind"))
		rc = cmd_bind(ctx, argc, argv);
	else if (!strcmp(argv[0], "unbind"))
		rc = cmd_unbind(ctx, argc, argv);
	else {
		fprintf(stderr, "vfiodev: unknown command '%s'\n", argv[0]);
		usage(stderr);
		rc = EXIT_USAGE;
	}
	vfiodev_ctx_destroy(ctx);
	return rc;
}
