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
		"       vfiodev bind [--allow-unbind] [--group] [--driver NAME] <device>\n"
		"       vfiodev unbind [--restore] <device>\n"
		"       vfiodev [--json] monitor [--count N] [--timeout SECONDS]\n"
		"       vfiodev --help | --version\n"
		"\n"
		"  list     PCI devices a vfio driver has (--all: every PCI device),\n"
		"           with the path libvfiodev's automatic policy would take\n"
		"  info     open a device (PCI address, sysfs path or /dev/vfio/devices/vfioN)\n"
		"           and show its path, regions, interrupts and IOVA windows\n"
		"  bind     hand a device to the most specific vfio driver (or NAME); the\n"
		"           kernel loads the modules (vfiodev's netlink family; without it,\n"
		"           driver_override in sysfs, NAME or vfio-pci)\n"
		"  unbind   take a device from its vfio driver (--restore: back to the\n"
		"           driver it had)\n"
		"  monitor  print vfio devices as drivers take and release them\n"
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
	struct vfiodev_ctx *ctx;
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

/* A device of the netlink dump, described from sysfs as list_one wants. */
static int list_nl_one(const struct vfiodev_nl_dev *d, void *opaque)
{
	struct list_state *st = opaque;
	struct vfiodev_pci_info pi;

	if (vfiodev_pci_get_info(st->ctx, d->bdf, &pi, sizeof(pi)))
		return 0;
	return list_one(&pi, opaque);
}

static int cmd_list(struct vfiodev_ctx *ctx, int argc, char **argv)
{
	struct list_state st = { .ctx = ctx };
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
	if (flags)
		rc = vfiodev_nl_for_each(ctx, list_nl_one, &st);
	/* Without vfiodev's netlink family, sysfs says which are vfio's. */
	if (!flags || rc == -ENOENT)
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

/* Options of a subcommand: --name or --name VALUE, before the operands. */
static int sub_opts(int *argc, char ***argv, const char *const *names,
		    const char **vals, bool *set)
{
	int i;

	while (*argc > 1 && !strncmp((*argv)[1], "--", 2)) {
		for (i = 0; names[i]; i++) {
			size_t n = strlen(names[i]);

			if (strncmp((*argv)[1] + 2, names[i], n) ||
			    ((*argv)[1][2 + n] && (*argv)[1][2 + n] != '='))
				continue;
			set[i] = true;
			if (vals && (*argv)[1][2 + n] == '=') {
				vals[i] = (*argv)[1] + 3 + n;
			} else if (vals && vals[i] == (const char *)1) {
				if (*argc < 3)
					return -1;
				vals[i] = (*argv)[2];
				(*argc)--;
				(*argv)++;
			}
			break;
		}
		if (!names[i])
			return -1;
		(*argc)--;
		(*argv)++;
	}
	return 0;
}

static void print_nl_dev(const struct vfiodev_nl_dev *d)
{
	printf("%s: driver %s", d->bdf, d->driver[0] ? d->driver : "none");
	if (d->module[0])
		printf(" (module %s)", d->module);
	if (d->group >= 0)
		printf(", group %d", d->group);
	printf(", cdev %s", d->cdev[0] ? d->cdev : "-");
	if (d->specificity >= 0)
		printf(", specificity %d", d->specificity);
	if (d->prev_driver[0])
		printf(", was %s", d->prev_driver);
	printf("\n");
}

/*
 * Whether a failure with @rc means that the kernel has no vfiodev netlink
 * family (an unknown driver is -ENOENT too, but GET then answers).
 */
static bool no_family(struct vfiodev_ctx *ctx, int rc, const char *dev)
{
	struct vfiodev_nl_dev d;

	return rc == -ENOENT && vfiodev_nl_get(ctx, dev, &d, sizeof(d)) == -ENOENT;
}

static int cmd_bind(struct vfiodev_ctx *ctx, int argc, char **argv)
{
	static const char *const names[] = { "allow-unbind", "group", "driver",
					     NULL };
	const char *vals[] = { NULL, NULL, (const char *)1 };
	bool set[3] = { false, false, false };
	struct vfiodev_pci_info pi;
	struct vfiodev_nl_dev d;
	unsigned int flags = 0;
	const char *driver;
	int rc;

	if (sub_opts(&argc, &argv, names, vals, set) ||
	    (argc != 2 && argc != 3) || (argc == 3 && set[2])) {
		usage(stderr);
		return EXIT_USAGE;
	}
	driver = argc == 3 ? argv[2] : set[2] ? vals[2] : NULL;
	if (set[0])
		flags |= VFIODEV_NL_ALLOW_UNBIND;
	if (set[1])
		flags |= VFIODEV_NL_GROUP;
	rc = vfiodev_nl_bind(ctx, argv[1], driver, flags, &d, sizeof(d));
	if (!rc) {
		print_nl_dev(&d);
		return 0;
	}
	if (!no_family(ctx, rc, argv[1]))
		return fail("cannot bind", argv[1], rc);
	/* No netlink family here (an upstream kernel): driver_override. */
	fprintf(stderr, "vfiodev: no vfiodev netlink family: binding through driver_override\n");
	rc = vfiodev_pci_bind(ctx, argv[1], driver);
	if (rc)
		return fail("cannot bind", argv[1], rc);
	if (!vfiodev_pci_get_info(ctx, argv[1], &pi, sizeof(pi)))
		printf("%s: driver %s, group %d, cdev %s\n", pi.bdf, pi.driver,
		       pi.group, pi.cdev[0] ? pi.cdev : "-");
	return 0;
}

static int cmd_unbind(struct vfiodev_ctx *ctx, int argc, char **argv)
{
	static const char *const names[] = { "restore", NULL };
	bool set[1] = { false };
	struct vfiodev_nl_dev d;
	int rc;

	if (sub_opts(&argc, &argv, names, NULL, set) || argc != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = vfiodev_nl_unbind(ctx, argv[1], set[0] ? VFIODEV_NL_RESTORE : 0,
			       &d, sizeof(d));
	if (!rc) {
		printf("%s: %s%s\n", d.bdf, d.driver[0] ? "driver " : "no driver",
		       d.driver);
		return 0;
	}
	if (!no_family(ctx, rc, argv[1]))
		return fail("cannot unbind", argv[1], rc);
	rc = vfiodev_pci_unbind(ctx, argv[1]);
	if (rc)
		return fail("cannot unbind", argv[1], rc);
	printf("%s: no driver\n", argv[1]);
	return 0;
}

static int cmd_monitor(struct vfiodev_ctx *ctx, int argc, char **argv)
{
	static const char *const names[] = { "count", "timeout", NULL };
	const char *vals[] = { (const char *)1, (const char *)1 };
	bool set[2] = { false, false };
	struct vfiodev_nl_monitor *mon;
	struct vfiodev_nl_dev d;
	long count = -1, seen = 0;
	int rc, ev, timeout_ms = -1;

	if (sub_opts(&argc, &argv, names, vals, set) || argc != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (set[0])
		count = strtol(vals[0], NULL, 10);
	if (set[1])
		timeout_ms = (int)(strtol(vals[1], NULL, 10) * 1000);
	rc = vfiodev_nl_monitor_open(ctx, &mon);
	if (rc)
		return fail("cannot monitor", "vfio devices", rc);
	/* The line that says it listens: a script may start acting then. */
	fprintf(stderr, "vfiodev: monitoring\n");
	while (count < 0 || seen < count) {
		rc = vfiodev_nl_monitor_read(mon, timeout_ms, &ev, &d, sizeof(d));
		if (rc == -ENOBUFS) {
			fprintf(stderr, "vfiodev: events were lost\n");
			continue;
		}
		if (rc)
			break;
		if (json) {
			printf("{\"event\": \"%s\", \"bdf\": ",
			       ev == VFIODEV_NL_EVENT_ADD ? "add" : "del");
			json_str(d.bdf);
			printf(", \"driver\": ");
			json_str(d.driver);
			printf(", \"cdev\": ");
			if (d.cdev[0])
				json_str(d.cdev);
			else
				printf("null");
			printf("}\n");
		} else {
			printf("%s %s %s %s\n",
			       ev == VFIODEV_NL_EVENT_ADD ? "add" : "del", d.bdf,
			       d.driver[0] ? d.driver : "-",
			       d.cdev[0] ? d.cdev : "-");
		}
		fflush(stdout);
		seen++;
	}
	vfiodev_nl_monitor_close(mon);
	if (count >= 0 && seen < count) {
		fprintf(stderr, "vfiodev: %ld of %ld events: %s\n", seen, count,
			strerror(-rc));
		return EXIT_FAILURE;
	}
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
	else if (!strcmp(argv[0], "monitor"))
		rc = cmd_monitor(ctx, argc, argv);
	else {
		fprintf(stderr, "vfiodev: unknown command '%s'\n", argv[0]);
		usage(stderr);
		rc = EXIT_USAGE;
	}
	vfiodev_ctx_destroy(ctx);
	return rc;
}
