// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PCI devices as sysfs shows them, and binding through driver_override.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint32_t read_hex(const char *bdf, const char *file)
{
	char path[PATH_MAX], buf[32];

	snprintf(path, sizeof(path), VFIODEV_SYSFS_PCI "/%s/%s", bdf, file);
	if (vfiodev_sysfs_read(path, buf, sizeof(buf)))
		return 0;
	return (uint32_t)strtoul(buf, NULL, 16);
}

static void fill_info(struct vfiodev_ctx *ctx, const char *bdf,
		      struct vfiodev_pci_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->bdf, sizeof(info->bdf), "%s", bdf);
	info->vendor = read_hex(bdf, "vendor");
	info->device = read_hex(bdf, "device");
	info->class_code = read_hex(bdf, "class");
	info->group = vfiodev_sysfs_group(bdf);
	if (info->group < 0)
		info->group = -1;
	vfiodev_sysfs_driver(bdf, info->driver, sizeof(info->driver));
	info->vfio = vfiodev_driver_is_vfio(bdf, info->driver);
	vfiodev_sysfs_cdev(bdf, info->cdev);
	info->coherent = vfiodev_sysfs_coherent(bdf, info->cdev);
	info->auto_path = VFIODEV_PATH_AUTO;
	info->auto_reason = VFIODEV_REASON_NONE;
	if (!info->vfio)
		return;
	info->auto_path = vfiodev_ctx_policy(ctx, &info->auto_reason);
	if (info->auto_path == VFIODEV_PATH_AUTO)
		info->auto_path = vfiodev_auto_path(bdf, &info->auto_reason);
}

VFIODEV_EXPORT int vfiodev_pci_get_info(struct vfiodev_ctx *ctx,
					const char *name,
					struct vfiodev_pci_info *info,
					size_t size)
{
	struct vfiodev_pci_info full;
	char bdf[16], cdev[16];
	bool is_cdev;
	int rc;

	if (!ctx || !info || size < sizeof(info->bdf))
		return -EINVAL;
	rc = vfiodev_parse_name(name, bdf, &is_cdev, cdev);
	if (rc)
		return rc;
	fill_info(ctx, bdf, &full);
	memcpy(info, &full, size < sizeof(full) ? size : sizeof(full));
	return 0;
}

static int pci_filter(const struct dirent *de)
{
	return !vfiodev_bdf_valid(de->d_name);
}

VFIODEV_EXPORT int vfiodev_pci_for_each(struct vfiodev_ctx *ctx,
					unsigned int flags, vfiodev_pci_fn fn,
					void *opaque)
{
	struct vfiodev_pci_info info;
	struct dirent **list;
	int n, i, rc = 0;

	if (!ctx || !fn || (flags & ~VFIODEV_PCI_VFIO_ONLY))
		return -EINVAL;
	n = scandir(VFIODEV_SYSFS_PCI, &list, pci_filter, alphasort);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		if (!rc) {
			fill_info(ctx, list[i]->d_name, &info);
			if (info.vfio || !(flags & VFIODEV_PCI_VFIO_ONLY))
				rc = fn(&info, opaque);
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

static int driver_name_valid(const char *drv)
{
	size_t i, n = strlen(drv);

	if (!n || n >= 64)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)drv[i]) && drv[i] != '_' &&
		    drv[i] != '-')
			return -EINVAL;
	}
	return 0;
}

static int pci_path(char *path, size_t len, const char *bdf, const char *file)
{
	return snprintf(path, len, VFIODEV_SYSFS_PCI "/%s/%s", bdf, file);
}

static int check_bdf(const char *in, char bdf[16])
{
	char path[PATH_MAX];

	if (!in || vfiodev_bdf_normalise(in, bdf))
		return -EINVAL;
	snprintf(path, sizeof(path), VFIODEV_SYSFS_PCI "/%s", bdf);
	return vfiodev_node_exists(path) ? 0 : -ENOENT;
}

static int unbind_current(struct vfiodev_ctx *ctx, const char *bdf)
{
	char path[PATH_MAX], drv[64];
	int rc;

	if (vfiodev_sysfs_driver(bdf, drv, sizeof(drv)))
		return 0;
	pci_path(path, sizeof(path), bdf, "driver/unbind");
	rc = vfiodev_sysfs_write(path, bdf);
	if (rc)
		vd_err(ctx, "%s: cannot unbind %s: %s", bdf, drv, strerror(-rc));
	return rc;
}

VFIODEV_EXPORT int vfiodev_pci_bind(struct vfiodev_ctx *ctx, const char *name,
				    const char *driver)
{
	char path[PATH_MAX], drv[64], bdf[16];
	int rc;

	if (!ctx)
		return -EINVAL;
	rc = check_bdf(name, bdf);
	if (rc)
		return rc;
	if (!driver)
		driver = "vfio-pci";
	if (driver_name_valid(driver))
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", driver);
	if (!vfiodev_node_exists(path)) {
		vd_err(ctx, "driver %s is not loaded", driver);
		return -ENODEV;
	}
	pci_path(path, sizeof(path), bdf, "driver_override");
	rc = vfiodev_sysfs_write(path, driver);
	if (rc) {
		vd_err(ctx, "%s: cannot write driver_override: %s", bdf,
		       strerror(-rc));
		return rc;
	}
	if (!vfiodev_sysfs_driver(bdf, drv, sizeof(drv)) &&
	    !strcmp(drv, driver))
		return 0;
	rc = unbind_current(ctx, bdf);
	if (rc)
		goto err_clear;
	/* drivers_probe fails when no driver takes it: the check below says. */
	vfiodev_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (!vfiodev_sysfs_driver(bdf, drv, sizeof(drv)) &&
	    !strcmp(drv, driver)) {
		vd_info(ctx, "%s: bound to %s", bdf, driver);
		return 0;
	}
	vd_err(ctx, "%s: %s did not take the device", bdf, driver);
	rc = -ENODEV;
err_clear:
	pci_path(path, sizeof(path), bdf, "driver_override");
	vfiodev_sysfs_write(path, "\n");
	return rc;
}

VFIODEV_EXPORT int vfiodev_pci_unbind(struct vfiodev_ctx *ctx,
				      const char *name)
{
	char path[PATH_MAX], bdf[16];
	int rc;

	if (!ctx)
		return -EINVAL;
	rc = check_bdf(name, bdf);
	if (rc)
		return rc;
	rc = unbind_current(ctx, bdf);
	if (rc)
		return rc;
	pci_path(path, sizeof(path), bdf, "driver_override");
	return vfiodev_sysfs_write(path, "\n");
}
