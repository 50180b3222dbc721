// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What sysfs and /dev say of a PCI device before anything is opened: its
 * address, group, cdev, driver and, where vfiodev's modules publish it,
 * whether its IOMMU enforces DMA cache coherency.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* "DDDD:BB:DD.F" with device <= 0x1f and function <= 7, hex digits. */
int vfiodev_bdf_valid(const char *bdf)
{
	static const char shape[] = "xxxx:xx:xx.x";
	size_t i;

	if (strlen(bdf) != sizeof(shape) - 1)
		return -EINVAL;
	for (i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'x' ? !isxdigit((unsigned char)bdf[i]) :
				      bdf[i] != shape[i])
			return -EINVAL;
	}
	if (hexval(bdf[8]) * 16 + hexval(bdf[9]) > 0x1f || bdf[11] > '7')
		return -EINVAL;
	return 0;
}

int vfiodev_bdf_normalise(const char *in, char bdf[16])
{
	size_t i, n = strlen(in);

	/* "BB:DD.F" means domain 0. */
	if (n == 7)
		snprintf(bdf, 16, "0000:%s", in);
	else if (n == 12)
		memcpy(bdf, in, 13);
	else
		return -EINVAL;
	for (i = 0; bdf[i]; i++)
		bdf[i] = (char)tolower((unsigned char)bdf[i]);
	return vfiodev_bdf_valid(bdf);
}

/* The last component of where the symbolic link @path points, into @out. */
int vfiodev_link_name(const char *path, char *out, size_t len)
{
	char link[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(out, base);
	return 0;
}

bool vfiodev_node_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int vfiodev_cdev_bdf(const char *cdev, char bdf[16])
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/class/vfio-dev/%s/device", cdev);
	if (vfiodev_link_name(path, bdf, 16))
		return -ENOENT;
	return vfiodev_bdf_valid(bdf) ? -ENODEV : 0;
}

int vfiodev_parse_name(const char *name, char bdf[16], bool *is_cdev,
		       char cdev[16])
{
	char path[PATH_MAX], real[PATH_MAX], real2[PATH_MAX];
	const char *base;
	int rc;

	*is_cdev = false;
	cdev[0] = 0;
	if (!name || !*name)
		return -EINVAL;
	if (!strncmp(name, "/dev/vfio/devices/", 18)) {
		base = name + 18;
		if (strncmp(base, "vfio", 4) || strlen(base) >= 16 ||
		    strspn(base + 4, "0123456789") != strlen(base + 4) ||
		    !base[4])
			return -EINVAL;
		if (!vfiodev_node_exists(name))
			return -ENOENT;
		*is_cdev = true;
		strcpy(cdev, base);
		return vfiodev_cdev_bdf(cdev, bdf);
	}
	if (name[0] == '/') {
		if (strncmp(name, "/sys/", 5))
			return -EINVAL;
		if (!realpath(name, real))
			return -ENOENT;
		base = strrchr(real, '/') + 1;
		if (vfiodev_bdf_normalise(base, bdf))
			return -EINVAL;
		/* It must be the PCI device of that address, not a look-alike. */
		snprintf(path, sizeof(path), VFIODEV_SYSFS_PCI "/%s", bdf);
		if (!realpath(path, real2) || strcmp(real, real2))
			return -EINVAL;
		return 0;
	}
	rc = vfiodev_bdf_normalise(name, bdf);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), VFIODEV_SYSFS_PCI "/%s", bdf);
	return vfiodev_node_exists(path) ? 0 : -ENOENT;
}

int vfiodev_sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return 0;
}

int vfiodev_sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

int vfiodev_sysfs_group(const char *bdf)
{
	char path[PATH_MAX], name[16];

	snprintf(path, sizeof(path), VFIODEV_SYSFS_PCI "/%s/iommu_group", bdf);
	if (vfiodev_link_name(path, name, sizeof(name)))
		return -ENODEV;
	return atoi(name);
}

/* The vfioN entry under the device's vfio-dev directory. */
int vfiodev_sysfs_cdev(const char *bdf, char cdev[16])
{
	char path[PATH_MAX];
	struct dirent *de;
	int rc = -ENODEV;
	DIR *dir;

	cdev[0] = 0;
	snprintf(path, sizeof(path), VFIODEV_SYSFS_PCI "/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return -ENODEV;
	while ((de = readdir(dir))) {
		if (!strncmp(de->d_name, "vfio", 4) &&
		    strlen(de->d_name) < 16) {
			strcpy(cdev, de->d_name);
			rc = 0;
			break;
		}
	}
	closedir(dir);
	return rc;
}

int vfiodev_sysfs_coherent(const char *bdf, const char *cdev)
{
	char path[PATH_MAX], buf[16];

	if (!cdev[0])
		return -1;
	snprintf(path, sizeof(path),
		 VFIODEV_SYSFS_PCI "/%s/vfio-dev/%s/vfiodev_enforce_cache_coherency",
		 bdf, cdev);
	if (vfiodev_sysfs_read(path, buf, sizeof(buf)))
		return -1;
	return buf[0] == '1' ? 1 : buf[0] == '0' ? 0 : -1;
}

int vfiodev_sysfs_driver(const char *bdf, char *drv, size_t len)
{
	char path[PATH_MAX];

	drv[0] = 0;
	snprintf(path, sizeof(path), VFIODEV_SYSFS_PCI "/%s/driver", bdf);
	if (vfiodev_link_name(path, drv, len)) {
		drv[0] = 0;
		return -ENODEV;
	}
	return 0;
}

/*
 * A vfio driver is vfio-pci or a module built on vfio_pci_core (upstream's
 * variants and ours): such a module holds vfio_pci_core.  A device with a
 * vfio-dev entry is a vfio device whatever its driver is called.
 */
bool vfiodev_driver_is_vfio(const char *bdf, const char *drv)
{
	char path[PATH_MAX], mod[64];
	char cdev[16];

	if (!drv[0])
		return false;
	if (!vfiodev_sysfs_cdev(bdf, cdev) || !strcmp(drv, "vfio-pci"))
		return true;
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/module", drv);
	if (vfiodev_link_name(path, mod, sizeof(mod)))
		return false;
	snprintf(path, sizeof(path), "/sys/module/vfio_pci_core/holders/%s", mod);
	return vfiodev_node_exists(path);
}

/* The new path is there for a device with cdev @cdev ("" if none). */
bool vfiodev_cdev_usable(const char *cdev)
{
	char path[64];

	if (!cdev[0])
		return false;
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev);
	return vfiodev_node_exists(path) && vfiodev_node_exists("/dev/iommu");
}

/*
 * The automatic choice as far as it can be made without opening anything:
 * AUTO when only an attach can tell.
 */
enum vfiodev_path vfiodev_auto_path(const char *bdf,
				    enum vfiodev_reason *reason)
{
	char cdev[16] = "", path[PATH_MAX];
	bool has_cdev, has_group;
	int group, coherent;

	vfiodev_sysfs_cdev(bdf, cdev);
	has_cdev = vfiodev_cdev_usable(cdev);
	group = vfiodev_sysfs_group(bdf);
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	has_group = group >= 0 && vfiodev_node_exists(path);

	if (!has_cdev) {
		*reason = VFIODEV_REASON_NO_CDEV;
		return VFIODEV_PATH_LEGACY;
	}
	if (!has_group) {
		*reason = VFIODEV_REASON_NO_GROUP;
		return VFIODEV_PATH_CDEV;
	}
	coherent = vfiodev_sysfs_coherent(bdf, cdev);
	if (coherent == 1) {
		*reason = VFIODEV_REASON_COHERENT;
		return VFIODEV_PATH_CDEV;
	}
	if (coherent == 0) {
		*reason = VFIODEV_REASON_NONCOHERENT;
		return VFIODEV_PATH_LEGACY;
	}
	*reason = VFIODEV_REASON_NONE;
	return VFIODEV_PATH_AUTO;
}
