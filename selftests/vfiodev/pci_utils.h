/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the PCI suites: the device as sysfs shows it (what the
 * hardware holds), the device file, and a read that survives SIGBUS.
 */
#ifndef VFIODEV_PCI_UTILS_H
#define VFIODEV_PCI_UTILS_H

#include <setjmp.h>
#include <signal.h>
#include <sys/ioctl.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "vfiodev_utils.h"

/* Reads or writes (root only) the device's real config space, by sysfs. */
static inline int pci_cfg_io(const char *bdf, void *buf, size_t len,
			     off_t off, bool write)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/config", bdf);
	fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static inline int pci_cfg_read(const char *bdf, void *buf, size_t len,
			       off_t off)
{
	return pci_cfg_io(bdf, buf, len, off, false);
}

static inline int pci_cfg_write(const char *bdf, const void *buf, size_t len,
				off_t off)
{
	return pci_cfg_io(bdf, (void *)buf, len, off, true);
}

/* One register of the real config space; all ones if it cannot be read. */
static inline uint32_t pci_cfg_rd(const char *bdf, unsigned int off,
				  unsigned int len)
{
	uint32_t v = 0;

	if (pci_cfg_read(bdf, &v, len, off))
		return 0xffffffff;
	return v;
}

/* Offset of capability @id in the real chain, 0 if none. */
static inline unsigned int pci_cfg_cap(const char *bdf, uint8_t id)
{
	unsigned int pos = pci_cfg_rd(bdf, PCI_CAPABILITY_LIST, 1), ttl = 48;

	while (pos >= 0x40 && pos < 0x100 && ttl--) {
		if (pci_cfg_rd(bdf, pos & ~3, 1) == id)
			return pos & ~3;
		pos = pci_cfg_rd(bdf, (pos & ~3) + 1, 1);
	}
	return 0;
}

/*
 * Opens @bdf through its group in a type1v2 container, the path both stacks
 * have on both kernels; the group and the container come back for the
 * caller to close.  Returns the device file or -errno.
 */
static inline int open_by_group(const char *bdf, int *group, int *container)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int fd;

	*group = vfio_group_open(bdf);
	if (*group < 0)
		return *group;
	*container = vfio_container_open();
	if (*container < 0)
		return *container;
	if (ioctl(*group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE) ||
	    ioctl(*group, VFIO_GROUP_SET_CONTAINER, container) ||
	    ioctl(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno ? -errno : -EINVAL;
	fd = ioctl(*group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	return fd < 0 ? -errno : fd;
}

/* Closes what open_by_group() opened; each is -1 afterwards (or was). */
static inline void close_by_group(int *devfd, int *group, int *container)
{
	int *fds[] = { devfd, group, container };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/*
 * Loads the stack's vfio-pci again, with module parameters @params ("" for
 * none): nothing may be bound to it.  Returns 0 or -errno.
 */
static inline int vfio_pci_reload(const char *params)
{
	const char *dir = stack_is_upstream() ? upstream_moddir() :
						vfiodev_moddir();
	int ret = module_unload("vfio-pci");

	if (ret && ret != -ENOENT)
		return ret;
	return module_load_params(dir, "vfio-pci", params);
}

/* Unbinds @bdf from our driver and gives it back to its own, if any. */
static inline int pci_give_back(const char *bdf)
{
	int ret = pci_release(bdf);

	if (ret)
		return ret;
	return sysfs_write(PCI_SYSFS "/drivers_probe", bdf);
}

/*
 * Opens the vfio-dev node of @bdf and binds it to @iommufd; its device ID
 * into *@devid if not NULL.  Returns the file or -errno.
 */
static inline int vfio_dev_open_bound(const char *bdf, int iommufd,
				      uint32_t *devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	int fd, ret;

	fd = vfio_dev_open(bdf);
	if (fd < 0)
		return fd;
	if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (devid)
		*devid = bind.out_devid;
	return fd;
}

/* 4 and 8 bytes at a file offset of a device file (region and offset). */
static inline uint32_t dev_rd32(int fd, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	if (pread(fd, &v, 4, off) != 4)
		return 0xdeadbeef;
	return v;
}

static inline uint64_t dev_rd64(int fd, uint64_t off)
{
	uint64_t v = 0xdeadbeef;

	if (pread(fd, &v, 8, off) != 8)
		return 0xdeadbeef;
	return v;
}

static inline int dev_wr32(int fd, uint64_t off, uint32_t v)
{
	return pwrite(fd, &v, 4, off) == 4 ? 0 : -errno;
}

static inline int dev_wr64(int fd, uint64_t off, uint64_t v)
{
	return pwrite(fd, &v, 8, off) == 8 ? 0 : -errno;
}

static sigjmp_buf pci_utils_bus_jmp;

static inline void pci_utils_on_sigbus(int sig)
{
	siglongjmp(pci_utils_bus_jmp, 1);
}

/* Reads 4 bytes at @p; -EFAULT if that raised SIGBUS. */
static inline int try_read32(volatile void *p, uint32_t *val)
{
	struct sigaction sa = { .sa_handler = pci_utils_on_sigbus }, old;
	int ret = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(pci_utils_bus_jmp, 1))
		ret = -EFAULT;
	else
		*val = *(volatile uint32_t *)p;
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

/* Writes 4 bytes at @p; -EFAULT if that raised SIGBUS. */
static inline int try_write32(volatile void *p, uint32_t val)
{
	struct sigaction sa = { .sa_handler = pci_utils_on_sigbus }, old;
	int ret = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(pci_utils_bus_jmp, 1))
		ret = -EFAULT;
	else
		*(volatile uint32_t *)p = val;
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

#endif /* VFIODEV_PCI_UTILS_H */
