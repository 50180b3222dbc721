/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vfiodev selftests: finding PCI devices by id,
 * binding them through driver_override, locating their vfio-dev node,
 * loading and unloading modules, and watching the kernel log.
 *
 * Functions return 0 or a negative errno unless said otherwise.
 */
#ifndef VFIODEV_UTILS_H
#define VFIODEV_UTILS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#define VFIODEV_DRIVER		"vfiodev-pci"
#define PCI_SYSFS		"/sys/bus/pci"
#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define NVME_CLASS		0x010802
#define ETH_CLASS		0x020000

#define BDF_LEN			16

static inline int sysfs_write(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return 0;
}

/* Reads a sysfs file into @buf without the trailing newline. */
static inline int sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return 0;
}

static inline long sysfs_read_hex(const char *dir, const char *file)
{
	char path[PATH_MAX + NAME_MAX + 2], buf[64];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	ret = sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return ret;
	return strtol(buf, NULL, 16);
}

static inline int cmp_bdf(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * Fills @bdfs with the addresses of the PCI functions matching @vendor and
 * @device, or, when @vendor is 0, whose class is @class; sorted.
 * Returns how many were found (at most @max) or a negative errno.
 */
static inline int pci_find(unsigned int vendor, unsigned int device,
			   unsigned int class, char bdfs[][BDF_LEN], int max)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(PCI_SYSFS "/devices");
	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= BDF_LEN)
			continue;
		snprintf(dir, sizeof(dir), PCI_SYSFS "/devices/%s", de->d_name);
		if (vendor) {
			if (sysfs_read_hex(dir, "vendor") != vendor ||
			    sysfs_read_hex(dir, "device") != device)
				continue;
		} else if (sysfs_read_hex(dir, "class") != class) {
			continue;
		}
		strcpy(bdfs[n++], de->d_name);
	}
	closedir(d);
	qsort(bdfs, n, BDF_LEN, cmp_bdf);
	return n;
}

/* Name of the driver bound to @bdf into @drv, or "" if none. */
static inline int pci_driver_of(const char *bdf, char *drv, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno != ENOENT)
			return -errno;
		drv[0] = '\0';
		return 0;
	}
	target[n] = '\0';
	snprintf(drv, len, "%s", strrchr(target, '/') + 1);
	return 0;
}

static inline int pci_unbind(const char *bdf)
{
	char path[PATH_MAX], drv[64];
	int ret;

	ret = pci_driver_of(bdf, drv, sizeof(drv));
	if (ret || !drv[0])
		return ret;
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/driver/unbind", bdf);
	return sysfs_write(path, bdf);
}

static inline int pci_set_override(const char *bdf, const char *driver)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/driver_override",
		 bdf);
	/* A lone newline clears the override. */
	return sysfs_write(path, driver ? driver : "\n");
}

/* Unbinds @bdf from whatever it has and binds it to @driver. */
static inline int pci_bind(const char *bdf, const char *driver)
{
	char drv[64];
	int ret;

	ret = pci_unbind(bdf);
	if (ret)
		return ret;
	ret = pci_set_override(bdf, driver);
	if (ret)
		return ret;
	ret = sysfs_write(PCI_SYSFS "/drivers_probe", bdf);
	if (ret)
		return ret;
	ret = pci_driver_of(bdf, drv, sizeof(drv));
	if (ret)
		return ret;
	return strcmp(drv, driver) ? -ENODEV : 0;
}

/* Unbinds @bdf and clears its override, leaving it without a driver. */
static inline int pci_release(const char *bdf)
{
	int ret = pci_unbind(bdf);

	if (ret)
		return ret;
	return pci_set_override(bdf, NULL);
}

/*
 * Name ("vfioN") of the vfio-dev device of @bdf, found the way QEMU and
 * libvfn find it: the one entry of <BDF>/vfio-dev/.  -ENOENT if none.
 */
static inline int vfio_dev_name(const char *bdf, char *name, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *d;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/vfio-dev", bdf);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (strncmp(de->d_name, "vfio", 4))
			continue;
		if (n >= len) {
			ret = -ENAMETOOLONG;
			break;
		}
		memcpy(name, de->d_name, n + 1);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

/* The major:minor that sysfs gives for @bdf's vfio-dev device. */
static inline int vfio_dev_devt(const char *bdf, dev_t *devt)
{
	char name[64], path[PATH_MAX], buf[32];
	unsigned int maj, min;
	int ret;

	ret = vfio_dev_name(bdf, name, sizeof(name));
	if (ret)
		return ret;
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/vfio-dev/%s/dev",
		 bdf, name);
	ret = sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return ret;
	if (sscanf(buf, "%u:%u", &maj, &min) != 2)
		return -EINVAL;
	*devt = makedev(maj, min);
	return 0;
}

/* Opens /dev/vfio/devices/vfioN of @bdf; returns the fd or -errno. */
static inline int vfio_dev_open(const char *bdf)
{
	char name[64], path[PATH_MAX];
	int fd, ret;

	ret = vfio_dev_name(bdf, name, sizeof(name));
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* --- modules ------------------------------------------------------------ */

static inline int module_load(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s.ko", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static inline int module_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static inline bool module_loaded(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

static inline const char *vfiodev_moddir(void)
{
	const char *d = getenv("VFIODEV_MODDIR");

	return d ? d : "/lib/modules/vfiodev";
}

static inline const char *upstream_moddir(void)
{
	const char *d = getenv("VFIODEV_UPSTREAM_MODDIR");

	return d ? d : "/lib/modules/upstream";
}

/* Our modules, in load order. */
static const char * const vfiodev_modules[] = {
	"vfiodev", "vfiodev_pci_core", "vfiodev_pci",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static inline int vfiodev_modules_load(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_LEN(vfiodev_modules); i++) {
		if (module_loaded(vfiodev_modules[i]))
			continue;
		ret = module_load(vfiodev_moddir(), vfiodev_modules[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static inline int modules_unload(const char * const *names, unsigned int n)
{
	int ret;

	while (n--) {
		if (!module_loaded(names[n]))
			continue;
		ret = module_unload(names[n]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Upstream's VFIO stack as the guest kernel has it, in load order: the
 * initramfs lists the file names in <upstream dir>/order.  Module names
 * are the file names with '-' as '_'.  Returns how many, or -errno.
 */
#define UPSTREAM_MAX	8
static inline int upstream_list(char names[UPSTREAM_MAX][64])
{
	char path[PATH_MAX], line[64];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/order", upstream_moddir());
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (n < UPSTREAM_MAX && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			strcpy(names[n++], line);
	}
	fclose(f);
	return n;
}

static inline void module_name_of(const char *file, char *name)
{
	for (; *file; file++, name++)
		*name = *file == '-' ? '_' : *file;
	*name = '\0';
}

static inline int upstream_modules_load(void)
{
	char files[UPSTREAM_MAX][64], name[64];
	int i, n, ret;

	n = upstream_list(files);
	if (n <= 0)
		return n ? n : -ENOENT;
	for (i = 0; i < n; i++) {
		module_name_of(files[i], name);
		if (module_loaded(name))
			continue;
		ret = module_load(upstream_moddir(), files[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static inline int upstream_modules_unload(void)
{
	char files[UPSTREAM_MAX][64], name[64];
	int n, ret;

	n = upstream_list(files);
	if (n < 0)
		return n;
	while (n--) {
		module_name_of(files[n], name);
		if (!module_loaded(name))
			continue;
		ret = module_unload(name);
		if (ret)
			return ret;
	}
	return 0;
}

/* --- kernel log ------------------------------------------------------- */

/* Opens /dev/kmsg positioned after the last record: only new ones are read. */
static inline int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Waits up to @timeout_ms for a record containing both @s1 and @s2 (@s2 may
 * be NULL).  Returns 0 when seen, -ETIMEDOUT otherwise.
 */
static inline int kmsg_wait(int fd, const char *s1, const char *s2,
			    int timeout_ms)
{
	struct timespec start, now;
	char rec[2048];
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long elapsed;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n > 0) {
			rec[n] = '\0';
			if (strstr(rec, s1) && (!s2 || strstr(rec, s2)))
				return 0;
			continue;
		}
		if (n < 0 && errno == EPIPE)	/* overwritten records */
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (now.tv_sec - start.tv_sec) * 1000 +
			  (now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed >= timeout_ms)
			return -ETIMEDOUT;
		poll(&pfd, 1, timeout_ms - elapsed);
	}
}

/* Writes @msg to the kernel log at level 4, which a "quiet" console shows. */
static inline int kmsg_note(const char *msg)
{
	char rec[PATH_MAX + 64];
	int fd, ret = 0;

	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(rec, sizeof(rec), "<4>vfiodev-selftest: %s\n", msg);
	if (write(fd, rec, strlen(rec)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Tells the run's verdict (scripts/verdict.py) that the kernel is about to
 * dump a stack for a duplicate sysfs name @path, on purpose: the one dump
 * that follows for that name is not counted as a kernel splat.
 */
static inline int kmsg_expect_dup(const char *path)
{
	char msg[PATH_MAX + 32];

	snprintf(msg, sizeof(msg), "expect sysfs duplicate '%s'", path);
	return kmsg_note(msg);
}

static inline void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

#endif /* VFIODEV_UTILS_H */
