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
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/iommufd.h>

#define VFIODEV_DRIVER		"vfio-pci"
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

/*
 * The last IOVA the guest's VT-d translates: its maximum guest address
 * width (CAP.MGAW, bits 21:16, plus one), from the first DMAR unit's
 * capability register in sysfs.
 */
static inline uint64_t iommu_aperture_last(void)
{
	char buf[32];
	uint64_t cap;

	if (sysfs_read("/sys/class/iommu/dmar0/intel-iommu/cap", buf,
		       sizeof(buf)))
		return 0;
	cap = strtoull(buf, NULL, 16);
	return (1ULL << (((cap >> 16) & 0x3f) + 1)) - 1;
}

/*
 * Pages pinned for DMA in the whole guest: the mm core counts every
 * pin_user_pages() pin and unpin in /proc/vmstat (nr_foll_pin_acquired,
 * nr_foll_pin_released), whoever pins, so the same count serves our
 * modules as built for the tests, as installed, and upstream's, with no
 * hook of ours.  Writing /proc/sys/vm/stat_refresh first folds the per-CPU
 * deltas into the totals, so the difference is exact.  Nothing else in
 * the test guest holds pins across a test.  Returns a negative errno if
 * the counts cannot be read.
 */
static inline long guest_pinned_pages(void)
{
	long acquired = -1, released = -1, val;
	char name[64];
	FILE *f;
	int ret;

	ret = sysfs_write("/proc/sys/vm/stat_refresh", "1");
	if (ret)
		return ret;
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %ld", name, &val) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acquired = val;
		else if (!strcmp(name, "nr_foll_pin_released"))
			released = val;
	}
	fclose(f);
	if (acquired < 0 || released < 0)
		return -ENOENT;
	return acquired - released;
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
/*
 * The guest's edus: those on the root bus into @root, the functions behind
 * the PCIe root port into @port (at most 8 in all).  Returns 0 or -errno.
 */
static inline int pci_find_edus(char root[][BDF_LEN], int *nroot,
				char port[][BDF_LEN], int *nport)
{
	char all[8][BDF_LEN];
	int n, i;

	n = pci_find(EDU_VENDOR, EDU_DEVICE, 0, all, 8);
	if (n < 0)
		return n;
	*nroot = *nport = 0;
	for (i = 0; i < n; i++) {
		/* "0000:00:..." is the root bus. */
		if (!strncmp(all[i] + 5, "00:", 3))
			strcpy(root[(*nroot)++], all[i]);
		else
			strcpy(port[(*nport)++], all[i]);
	}
	return 0;
}

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

/* --- the legacy group and container ------------------------------------ */

/* The IOMMU group ID of @bdf, or -errno. */
static inline int vfio_group_id(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	return atoi(basename(link));
}

/* Opens /dev/vfio/<group of @bdf>: the fd or -errno. */
static inline int vfio_group_open(const char *bdf)
{
	char path[64];
	int id = vfio_group_id(bdf), fd;

	if (id < 0)
		return id;
	snprintf(path, sizeof(path), "/dev/vfio/%d", id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Opens the legacy container: the fd or -errno. */
static inline int vfio_container_open(void)
{
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* --- modules ------------------------------------------------------------ */

/* Loads @dir/@name.ko with module parameters @params ("a=1 b=2"). */
static inline int module_load_params(const char *dir, const char *name,
				     const char *params)
{
	char path[PATH_MAX];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s.ko", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static inline int module_load(const char *dir, const char *name)
{
	return module_load_params(dir, name, "");
}

/*
 * Module names are the file names with '-' as '_' (vfio-pci.ko is vfio_pci):
 * the helpers below take either spelling.
 */
static inline void module_name_of(const char *file, char *name)
{
	for (; *file; file++, name++)
		*name = *file == '-' ? '_' : *file;
	*name = '\0';
}

static inline int module_unload(const char *file)
{
	char name[64];

	module_name_of(file, name);
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static inline bool module_loaded(const char *file)
{
	char path[PATH_MAX], name[64];

	module_name_of(file, name);
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

/*
 * Whether the loaded module @file is one built out of tree (ours): both
 * stacks use the same module names, the kernel marks ours with 'O'.
 */
static inline bool module_is_ours(const char *file)
{
	char path[PATH_MAX], name[64], taint[32] = "";
	ssize_t n;
	int fd;

	module_name_of(file, name);
	snprintf(path, sizeof(path), "/sys/module/%s/taint", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, taint, sizeof(taint) - 1);
	close(fd);
	return n > 0 && strchr(taint, 'O');
}

static inline const char *vfiodev_moddir(void)
{
	const char *d = getenv("VFIODEV_MODDIR");

	return d ? d : "/lib/modules/vfiodev";
}

/* Where the test-only modules are (vfiodev_kvm_test.ko). */
static inline const char *vfiodev_test_moddir(void)
{
	const char *d = getenv("VFIODEV_TEST_MODDIR");

	return d ? d : "/lib/modules/vfiodev";
}

static inline const char *upstream_moddir(void)
{
	const char *d = getenv("VFIODEV_UPSTREAM_MODDIR");

	return d ? d : "/lib/modules/upstream";
}

/* Our modules' files, in load order: upstream's names. */
static const char * const vfiodev_modules[] = {
	"iommufd", "vfio", "vfio-pci-core", "vfio-pci", "edu-vfio-pci",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

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
 * initramfs lists the file names in <upstream dir>/order.  Returns how
 * many, or -errno.
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

static inline int upstream_modules_load(void)
{
	char files[UPSTREAM_MAX][64];
	int i, n, ret;

	n = upstream_list(files);
	if (n <= 0)
		return n ? n : -ENOENT;
	for (i = 0; i < n; i++) {
		if (module_loaded(files[i]))
			continue;
		ret = module_load(upstream_moddir(), files[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Whether the guest kernel's upstream stack has module file @file. */
static inline bool upstream_has(const char *file)
{
	char files[UPSTREAM_MAX][64];
	int i, n;

	n = upstream_list(files);
	for (i = 0; i < n; i++)
		if (!strcmp(files[i], file))
			return true;
	return false;
}

static inline int upstream_modules_unload(void)
{
	char files[UPSTREAM_MAX][64];
	int n, ret;

	n = upstream_list(files);
	if (n < 0)
		return n;
	while (n--) {
		if (!module_loaded(files[n]))
			continue;
		ret = module_unload(files[n]);
		if (ret)
			return ret;
	}
	return 0;
}

/* --- whose stack ------------------------------------------------------ */

/*
 * VFIODEV_STACK tells whose modules serve the uAPI in this run: "ours"
 * (the default) or "upstream" (the guest kernel's vfio/iommufd).
 */
static inline bool stack_is_upstream(void)
{
	const char *s = getenv("VFIODEV_STACK");

	return s && !strcmp(s, "upstream");
}

/* The PCI driver that gives a device its vfio-dev node on this stack. */
static inline const char *stack_pci_driver(void)
{
	return stack_is_upstream() ? "vfio-pci" : VFIODEV_DRIVER;
}

/*
 * A boolean setting from the environment: 1 for "1", 0 for "0", @def when
 * unset or anything else.
 */
static inline bool env_bool(const char *name, bool def)
{
	const char *s = getenv(name);

	if (s && !strcmp(s, "1"))
		return true;
	if (s && !strcmp(s, "0"))
		return false;
	return def;
}

/* A number from the environment (strtoul's bases), or @def. */
static inline unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

/* --- capabilities ----------------------------------------------------- */

/*
 * Drops capability @cap from the effective and permitted sets of the
 * calling thread (raw capget/capset: no libcap in the guest).
 */
static inline int cap_drop(unsigned int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (cap >= 32 * _LINUX_CAPABILITY_U32S_3)
		return -EINVAL;
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[cap / 32].effective &= ~(1U << (cap % 32));
	data[cap / 32].permitted &= ~(1U << (cap % 32));
	data[cap / 32].inheritable &= ~(1U << (cap % 32));
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

/* --- /proc ------------------------------------------------------------ */

/* A "Name:   N kB" field of /proc/self/status, in kB, or -errno. */
static inline long proc_status_kb(const char *field)
{
	size_t len = strlen(field);
	char line[256];
	long val = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) && line[len] == ':') {
			val = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* --- iommufd ioctls, returning 0 or -errno ------------------------------- */

#define IOMAP_RW	(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define IOMAP_FIXED_RW	(IOMAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA)

static inline int ufd_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static inline int ufd_ioas_alloc(int fd, uint32_t *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int ret;

	ret = ufd_ioctl(fd, IOMMU_IOAS_ALLOC, &cmd);
	if (!ret)
		*id = cmd.out_ioas_id;
	return ret;
}

static inline int ufd_destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ufd_ioctl(fd, IOMMU_DESTROY, &cmd);
}

/*
 * Runs ioctl @req with a copy of @cmd (@len bytes) in a page that is
 * readable but not writable: the kernel reads the command, and its reply
 * cannot be written.  Returns the ioctl's result (0 or -errno), or
 * -ENOMEM if no such page could be made.
 */
static inline int ufd_ioctl_readonly(int fd, unsigned long req,
				     const void *cmd, size_t len)
{
	long psz = sysconf(_SC_PAGESIZE);
	void *page;
	int ret;

	page = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return -ENOMEM;
	memcpy(page, cmd, len);
	if (mprotect(page, psz, PROT_READ)) {
		munmap(page, psz);
		return -ENOMEM;
	}
	ret = ufd_ioctl(fd, req, page);
	munmap(page, psz);
	return ret;
}

/*
 * IOMMU_DESTROY of every ID from 1 below @below but those in @keep: 0 if
 * none of them existed (each answered ENOENT), else the first that did.
 */
static inline uint32_t ufd_first_stray(int fd, uint32_t below,
				       const uint32_t *keep, unsigned int nkeep)
{
	uint32_t id;
	unsigned int i;

	for (id = 1; id < below; id++) {
		for (i = 0; i < nkeep && keep[i] != id; i++)
			;
		if (i == nkeep && ufd_destroy(fd, id) != -ENOENT)
			return id;
	}
	return 0;
}

/* Maps at *@iova (FIXED_IOVA in @flags) or where the kernel chooses. */
static inline int ufd_map(int fd, uint32_t ioas, void *va, uint64_t len,
			  uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = *iova,
	};
	int ret;

	ret = ufd_ioctl(fd, IOMMU_IOAS_MAP, &cmd);
	if (!ret)
		*iova = cmd.iova;
	return ret;
}

static inline int ufd_map_fixed(int fd, uint32_t ioas, void *va,
				uint64_t len, uint64_t iova)
{
	return ufd_map(fd, ioas, va, len, &iova, IOMAP_FIXED_RW);
}

static inline int ufd_unmap(int fd, uint32_t ioas, uint64_t iova,
			    uint64_t len, uint64_t *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};
	int ret;

	ret = ufd_ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);
	if (!ret && unmapped)
		*unmapped = cmd.length;
	return ret;
}

static inline int ufd_copy(int fd, uint32_t dst, uint32_t src,
			   uint64_t src_iova, uint64_t len, uint64_t *dst_iova,
			   uint32_t flags)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = *dst_iova,
		.src_iova = src_iova,
	};
	int ret;

	ret = ufd_ioctl(fd, IOMMU_IOAS_COPY, &cmd);
	if (!ret)
		*dst_iova = cmd.dst_iova;
	return ret;
}

/* *@num: room in @r on entry, number of ranges on return (and EMSGSIZE). */
static inline int ufd_iova_ranges(int fd, uint32_t ioas,
				  struct iommu_iova_range *r, uint32_t *num,
				  uint64_t *align)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_iovas = *num,
		.allowed_iovas = (uintptr_t)r,
	};
	int ret;

	ret = ufd_ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &cmd);
	if (!ret || ret == -EMSGSIZE) {
		*num = cmd.num_iovas;
		if (align)
			*align = cmd.out_iova_alignment;
	}
	return ret;
}

static inline int ufd_allow_iovas(int fd, uint32_t ioas,
				  struct iommu_iova_range *r, uint32_t num)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_iovas = num,
		.allowed_iovas = (uintptr_t)r,
	};

	return ufd_ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}

static inline int ufd_option(int fd, uint32_t option_id, uint16_t op,
			     uint32_t object, uint64_t *val)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = option_id,
		.op = op,
		.object_id = object,
		.val64 = *val,
	};
	int ret;

	ret = ufd_ioctl(fd, IOMMU_OPTION, &cmd);
	if (!ret)
		*val = cmd.val64;
	return ret;
}

/*
 * Whether [@iova, @iova + @len) of @ioas is entirely mapped: IOAS_COPY of
 * the range into a scratch IOAS succeeds exactly then, without changing
 * @ioas.  Returns 1, 0, or -errno for other failures.
 */
static inline int ufd_is_mapped(int fd, uint32_t ioas, uint64_t iova,
				uint64_t len)
{
	uint64_t dst = 0;
	uint32_t scratch;
	int ret;

	ret = ufd_ioas_alloc(fd, &scratch);
	if (ret)
		return ret;
	ret = ufd_copy(fd, scratch, ioas, iova, len, &dst, IOMAP_RW);
	ufd_destroy(fd, scratch);
	if (ret == -ENOENT)
		return 0;
	return ret ? ret : 1;
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

static inline void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

#endif /* VFIODEV_UTILS_H */
