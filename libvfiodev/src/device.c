// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Devices: choosing the path, opening through it, regions, interrupts and
 * reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <linux/vfiodev.h>

#include "internal.h"

#define NR_IRQ_INDEXES	(VFIO_PCI_REQ_IRQ_INDEX + 1)
#define NR_MMAPS	(VFIO_PCI_ROM_REGION_INDEX + 1)

struct vfiodev_irq {
	unsigned int count;	/* enabled vectors, 0 when disabled */
	int *fds;
};

struct vfiodev_device {
	struct vfiodev_as *as;
	int fd;
	enum vfiodev_path path;
	enum vfiodev_reason reason;
	struct vfiodev_group *group;	/* legacy path */
	uint32_t dev_id;		/* new path */
	int coherent;
	int group_id;
	char bdf[16];
	char cdev[16];
	struct vfio_device_info info;
	/* Region info, fetched once: register access is one syscall. */
	struct vfio_region_info *regions;
	struct vfiodev_irq irqs[NR_IRQ_INDEXES];
	struct {
		void *addr;
		size_t len;
	} mmaps[NR_MMAPS];
};

/* The new path's coherency, from vfiodev's own iommufd command. */
static int cdev_coherent(struct vfiodev_device *dev)
{
	struct vfiodev_iommu_device_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev->dev_id,
	};

	if (ioctl(dev->as->iommufd, VFIODEV_IOMMU_DEVICE_INFO, &cmd))
		return -1;
	return !!(cmd.out_capabilities &
		  VFIODEV_IOMMU_DEVICE_CAP_ENFORCE_CACHE_COHERENCY);
}

static int cdev_bind_attach(struct vfiodev_device *dev)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = dev->as->iommufd,
	};
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = dev->as->ioas_id,
	};
	struct vfiodev_ctx *ctx = dev->as->ctx;
	int rc;

	if (ioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		rc = -errno;
		vd_err(ctx, "%s: VFIO_DEVICE_BIND_IOMMUFD: %s",
		       dev->bdf[0] ? dev->bdf : dev->cdev, strerror(-rc));
		return rc;
	}
	dev->dev_id = bind.out_devid;
	if (ioctl(dev->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		rc = -errno;
		vd_err(ctx, "%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s",
		       dev->bdf[0] ? dev->bdf : dev->cdev, strerror(-rc));
		return rc;
	}
	rc = vfiodev_as_refresh_ranges(dev->as);
	if (rc)
		return rc;
	dev->coherent = cdev_coherent(dev);
	return 0;
}

static int open_cdev(struct vfiodev_device *dev)
{
	char path[64];
	int rc;

	rc = vfiodev_as_bind_path(dev->as, VFIODEV_PATH_CDEV);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", dev->cdev);
	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		rc = errno == ENOENT ? -ENODEV : -errno;
		vd_err(dev->as->ctx, "cannot open %s: %s", path,
		       strerror(-rc));
		return rc;
	}
	dev->path = VFIODEV_PATH_CDEV;
	return cdev_bind_attach(dev);
}

static int group_device_fd(struct vfiodev_device *dev)
{
	int rc;

	dev->fd = ioctl(dev->group->fd, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
	if (dev->fd < 0) {
		rc = -errno;
		vd_err(dev->as->ctx, "%s: VFIO_GROUP_GET_DEVICE_FD: %s",
		       dev->bdf, strerror(-rc));
		return rc;
	}
	/* The ioctl's descriptor is close-on-exec since 6.3; make sure. */
	fcntl(dev->fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

static int open_legacy(struct vfiodev_device *dev, int group_fd)
{
	int rc;

	rc = vfiodev_as_bind_path(dev->as, VFIODEV_PATH_LEGACY);
	if (rc)
		return rc;
	rc = vfiodev_as_group_get(dev->as, dev->group_id, group_fd,
				  &dev->group);
	if (rc)
		return rc;
	dev->path = VFIODEV_PATH_LEGACY;
	rc = group_device_fd(dev);
	if (rc)
		return rc;
	/*
	 * Asked with the device open: upstream's iommufd compat container
	 * attaches devices only then and answers 1 while it has none.
	 */
	dev->coherent = vfiodev_as_coherent(dev->as);
	if (dev->coherent < 0)
		dev->coherent = -1;
	return 0;
}

/*
 * Learning the coherency on attach, where the kernel does not publish it:
 * the group goes into a type1 container and the container says whether its
 * DMA is coherent.  A coherent device then leaves for the new path.
 */
static int open_learning(struct vfiodev_device *dev, bool cdev_ok)
{
	struct vfiodev_as *as = dev->as;
	int rc, cc;

	rc = vfiodev_as_bind_path(as, VFIODEV_PATH_LEGACY);
	if (rc)
		return rc;
	rc = vfiodev_as_group_get(as, dev->group_id, -1, &dev->group);
	if (rc) {
		vfiodev_as_unbind_path(as);
		return rc;
	}
	/* With the device open (see open_legacy()). */
	rc = group_device_fd(dev);
	if (rc)
		return rc;
	cc = vfiodev_as_coherent(as);
	if (cc == 1 && cdev_ok) {
		close(dev->fd);
		dev->fd = -1;
		vfiodev_as_group_put(as, dev->group);
		dev->group = NULL;
		vfiodev_as_unbind_path(as);
		dev->reason = VFIODEV_REASON_ATTACH_COHERENT;
		rc = open_cdev(dev);
		/* What the attach showed, where the new path does not tell. */
		if (!rc && dev->coherent < 0)
			dev->coherent = 1;
		return rc;
	}
	dev->reason = cc == 1 ? VFIODEV_REASON_NO_CDEV :
		      VFIODEV_REASON_ATTACH_NONCOHERENT;
	dev->path = VFIODEV_PATH_LEGACY;
	dev->coherent = cc < 0 ? -1 : cc;
	return 0;
}

static int device_finish(struct vfiodev_device *dev)
{
	unsigned int i;

	if (dev->group_id < 0)
		dev->group_id = -1;
	dev->info.argsz = sizeof(dev->info);
	if (ioctl(dev->fd, VFIO_DEVICE_GET_INFO, &dev->info))
		return -errno;
	/* A bound on what a device may claim: VFIO's PCI regions and then some. */
	if (dev->info.num_regions > 64)
		dev->info.num_regions = 64;
	dev->regions = calloc(dev->info.num_regions ? dev->info.num_regions : 1,
			      sizeof(*dev->regions));
	if (!dev->regions)
		return -ENOMEM;
	/* Once, at open: region access is then one syscall and no state
	 * changes under the thread-safe calls.  An index the driver does not
	 * describe stays unknown (argsz 0). */
	for (i = 0; i < dev->info.num_regions; i++) {
		struct vfio_region_info *ri = &dev->regions[i];

		ri->argsz = sizeof(*ri);
		ri->index = i;
		if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, ri))
			ri->argsz = 0;
		else
			ri->argsz = sizeof(*ri);
	}
	vd_info(dev->as->ctx, "%s: %s path: %s",
		dev->bdf[0] ? dev->bdf : dev->cdev, vfiodev_path_str(dev->path),
		vfiodev_reason_str(dev->reason));
	return 0;
}

static struct vfiodev_device *device_new(struct vfiodev_as *as)
{
	struct vfiodev_device *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->as = as;
	dev->fd = -1;
	dev->coherent = -1;
	dev->group_id = -1;
	return dev;
}

static void device_free(struct vfiodev_device *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->group)
		vfiodev_as_group_put(dev->as, dev->group);
	free(dev->regions);
	free(dev);
}

/* A failed first open leaves the address space as it found it. */
static void device_abort(struct vfiodev_device *dev, enum vfiodev_path before)
{
	struct vfiodev_as *as = dev->as;

	device_free(dev);
	if (before == VFIODEV_PATH_AUTO && as->path != VFIODEV_PATH_AUTO)
		vfiodev_as_unbind_path(as);
}

VFIODEV_EXPORT int vfiodev_device_open(struct vfiodev_as *as,
				       const char *name,
				       struct vfiodev_device **out)
{
	enum vfiodev_path path, before;
	struct vfiodev_device *dev;
	struct vfiodev_ctx *ctx;
	char drv[64];
	bool is_cdev, cdev_ok;
	int rc;

	if (!as || !out)
		return -EINVAL;
	ctx = as->ctx;
	before = as->path;
	dev = device_new(as);
	if (!dev)
		return -ENOMEM;
	rc = vfiodev_parse_name(name, dev->bdf, &is_cdev, dev->cdev);
	if (rc) {
		vd_err(ctx, "%s: %s", name ? name : "(null)",
		       rc == -EINVAL ? "not a PCI address, sysfs device or vfio cdev" :
				       "no such device");
		goto err_free;
	}
	if (vfiodev_sysfs_driver(dev->bdf, drv, sizeof(drv))) {
		vd_err(ctx, "%s: no driver has it; bind it to vfio-pci first",
		       dev->bdf);
		rc = -ENODEV;
		goto err_free;
	}
	if (!vfiodev_driver_is_vfio(dev->bdf, drv)) {
		vd_err(ctx, "%s: bound to %s, not to a vfio driver", dev->bdf,
		       drv);
		rc = -EBUSY;
		goto err_free;
	}
	if (!is_cdev)
		vfiodev_sysfs_cdev(dev->bdf, dev->cdev);
	dev->group_id = vfiodev_sysfs_group(dev->bdf);
	cdev_ok = vfiodev_cdev_usable(dev->cdev);

	if (as->path != VFIODEV_PATH_AUTO) {
		path = as->path;
		dev->reason = as->policy != VFIODEV_PATH_AUTO ?
			      as->policy_reason : VFIODEV_REASON_SHARED_AS;
		if (is_cdev && path == VFIODEV_PATH_LEGACY) {
			vd_err(ctx, "%s: a cdev cannot join a legacy address space",
			       name);
			rc = -EINVAL;
			goto err_free;
		}
	} else if (is_cdev && as->policy == VFIODEV_PATH_LEGACY) {
		vd_err(ctx, "%s: a cdev cannot take the legacy path (%s)", name,
		       vfiodev_reason_str(as->policy_reason));
		rc = -EINVAL;
		goto err_free;
	} else if (is_cdev) {
		path = VFIODEV_PATH_CDEV;
		dev->reason = VFIODEV_REASON_CDEV_NAME;
	} else if (as->policy != VFIODEV_PATH_AUTO) {
		path = as->policy;
		dev->reason = as->policy_reason;
	} else {
		path = vfiodev_auto_path(dev->bdf, &dev->reason);
	}
	if (path == VFIODEV_PATH_CDEV && !cdev_ok) {
		vd_err(ctx, "%s: the new path needs a vfio cdev and /dev/iommu",
		       dev->bdf);
		rc = -ENODEV;
		goto err_free;
	}
	if (path != VFIODEV_PATH_CDEV && dev->group_id < 0) {
		vd_err(ctx, "%s: the legacy path needs an IOMMU group",
		       dev->bdf);
		rc = -ENODEV;
		goto err_free;
	}

	if (path == VFIODEV_PATH_CDEV)
		rc = open_cdev(dev);
	else if (path == VFIODEV_PATH_LEGACY)
		rc = open_legacy(dev, -1);
	else
		rc = open_learning(dev, cdev_ok);
	if (!rc)
		rc = device_finish(dev);
	if (rc)
		goto err_free;
	vfiodev_as_get(as);
	*out = dev;
	return 0;

err_free:
	device_abort(dev, before);
	return rc;
}

/* The PCI address of a cdev descriptor, when sysfs can tell. */
static void cdev_fd_names(struct vfiodev_device *dev)
{
	char path[PATH_MAX], name[16];
	struct stat st;

	if (fstat(dev->fd, &st) || !S_ISCHR(st.st_mode))
		return;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	if (vfiodev_link_name(path, name, sizeof(name)))
		return;
	if (!strncmp(name, "vfio", 4)) {
		strcpy(dev->cdev, name);
		if (vfiodev_cdev_bdf(dev->cdev, dev->bdf))
			dev->bdf[0] = 0;
		else
			dev->group_id = vfiodev_sysfs_group(dev->bdf);
	}
}

VFIODEV_EXPORT int vfiodev_device_open_fd(struct vfiodev_as *as, int fd,
					  const char *bdf, unsigned int flags,
					  struct vfiodev_device **out)
{
	enum vfiodev_path path, before;
	struct vfiodev_device *dev;
	char norm[16];
	int rc, dfd;

	if (!as || !out)
		return -EINVAL;
	before = as->path;
	if (flags == VFIODEV_DEVICE_FD_CDEV) {
		if (bdf)
			return -EINVAL;
		path = VFIODEV_PATH_CDEV;
	} else if (flags == VFIODEV_DEVICE_FD_GROUP) {
		if (!bdf || vfiodev_bdf_normalise(bdf, norm))
			return -EINVAL;
		path = VFIODEV_PATH_LEGACY;
	} else {
		return -EINVAL;
	}
	if (as->path != VFIODEV_PATH_AUTO && as->path != path)
		return -EINVAL;
	if (as->path == VFIODEV_PATH_AUTO && as->policy != VFIODEV_PATH_AUTO &&
	    as->policy != path)
		return -EINVAL;
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return -errno;
	dev = device_new(as);
	if (!dev) {
		close(dfd);
		return -ENOMEM;
	}
	dev->reason = VFIODEV_REASON_PREOPENED;
	if (path == VFIODEV_PATH_CDEV) {
		dev->fd = dfd;
		cdev_fd_names(dev);
		rc = vfiodev_as_bind_path(as, path);
		if (!rc) {
			dev->path = path;
			rc = cdev_bind_attach(dev);
		}
	} else {
		strcpy(dev->bdf, norm);
		rc = vfiodev_as_bind_path(as, path);
		if (rc)
			close(dfd);
		else
			rc = open_legacy(dev, dfd);
	}
	if (!rc)
		rc = device_finish(dev);
	if (rc) {
		device_abort(dev, before);
		return rc;
	}
	vfiodev_as_get(as);
	*out = dev;
	return 0;
}

static int set_irqs(struct vfiodev_device *dev, uint32_t flags,
		    unsigned int index, unsigned int start, unsigned int count,
		    const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + (fds ? count * sizeof(int) : 0);
	struct vfio_irq_set *set = calloc(1, sz);
	int rc = 0;

	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)sz;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (fds)
		memcpy(set->data, fds, count * sizeof(int));
	if (ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, set))
		rc = -errno;
	free(set);
	return rc;
}

static void irq_release(struct vfiodev_device *dev, unsigned int index)
{
	struct vfiodev_irq *irq = &dev->irqs[index];
	unsigned int i;

	for (i = 0; i < irq->count; i++)
		close(irq->fds[i]);
	free(irq->fds);
	irq->fds = NULL;
	irq->count = 0;
}

VFIODEV_EXPORT void vfiodev_device_close(struct vfiodev_device *dev)
{
	struct vfiodev_as *as;
	unsigned int i;

	if (!dev)
		return;
	for (i = 0; i < NR_IRQ_INDEXES; i++) {
		if (!dev->irqs[i].count)
			continue;
		set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			 i, 0, 0, NULL);
		irq_release(dev, i);
	}
	for (i = 0; i < NR_MMAPS; i++) {
		if (dev->mmaps[i].addr)
			munmap(dev->mmaps[i].addr, dev->mmaps[i].len);
	}
	as = dev->as;
	device_free(dev);
	vfiodev_as_put(as);
}

VFIODEV_EXPORT enum vfiodev_path vfiodev_device_path(struct vfiodev_device *dev,
						     enum vfiodev_reason *reason)
{
	if (reason)
		*reason = dev->reason;
	return dev->path;
}

VFIODEV_EXPORT int vfiodev_device_get_info(struct vfiodev_device *dev,
					   struct vfiodev_device_info *info,
					   size_t size)
{
	struct vfiodev_device_info full = {
		.flags = dev->info.flags,
		.num_regions = dev->info.num_regions,
		.num_irqs = dev->info.num_irqs,
		.coherent = dev->coherent,
		.group = dev->group_id,
	};

	if (!info || size < offsetof(struct vfiodev_device_info, num_irqs) +
			    sizeof(info->num_irqs))
		return -EINVAL;
	memcpy(full.bdf, dev->bdf, sizeof(full.bdf));
	if (dev->path == VFIODEV_PATH_CDEV)
		memcpy(full.cdev, dev->cdev, sizeof(full.cdev));
	memcpy(info, &full, size < sizeof(full) ? size : sizeof(full));
	return 0;
}

/* From the cache filled at open: regions do not change while it is open. */
static int region_info(struct vfiodev_device *dev, unsigned int index,
		       struct vfio_region_info *ri)
{
	if (index >= dev->info.num_regions || !dev->regions[index].argsz)
		return -EINVAL;
	*ri = dev->regions[index];
	return 0;
}

VFIODEV_EXPORT int vfiodev_region_get_info(struct vfiodev_device *dev,
					   unsigned int index,
					   struct vfiodev_region_info *info,
					   size_t size)
{
	struct vfiodev_region_info full;
	struct vfio_region_info ri;
	int rc;

	if (!info || size < offsetof(struct vfiodev_region_info, offset) +
			    sizeof(info->offset))
		return -EINVAL;
	rc = region_info(dev, index, &ri);
	if (rc)
		return rc;
	full.flags = ri.flags & (VFIODEV_REGION_READ | VFIODEV_REGION_WRITE |
				 VFIODEV_REGION_MMAP);
	full.index = index;
	full.size = ri.size;
	full.offset = ri.offset;
	memcpy(info, &full, size < sizeof(full) ? size : sizeof(full));
	return 0;
}

static int region_rw(struct vfiodev_device *dev, unsigned int index,
		     uint64_t off, void *buf, size_t len, bool write)
{
	struct vfio_region_info ri;
	ssize_t n;
	int rc;

	if (!buf || !len)
		return -EINVAL;
	rc = region_info(dev, index, &ri);
	if (rc)
		return rc;
	if (off > ri.size || len > ri.size - off)
		return -EINVAL;
	if (write)
		n = pwrite(dev->fd, buf, len, (off_t)(ri.offset + off));
	else
		n = pread(dev->fd, buf, len, (off_t)(ri.offset + off));
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

VFIODEV_EXPORT int vfiodev_region_read(struct vfiodev_device *dev,
				       unsigned int index, uint64_t off,
				       void *buf, size_t len)
{
	return region_rw(dev, index, off, buf, len, false);
}

VFIODEV_EXPORT int vfiodev_region_write(struct vfiodev_device *dev,
					unsigned int index, uint64_t off,
					const void *buf, size_t len)
{
	return region_rw(dev, index, off, (void *)buf, len, true);
}

VFIODEV_EXPORT int vfiodev_config_read(struct vfiodev_device *dev,
				       uint64_t off, void *buf, size_t len)
{
	return region_rw(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, buf, len,
			 false);
}

VFIODEV_EXPORT int vfiodev_config_write(struct vfiodev_device *dev,
					uint64_t off, const void *buf,
					size_t len)
{
	return region_rw(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, (void *)buf,
			 len, true);
}

VFIODEV_EXPORT int vfiodev_region_mmap(struct vfiodev_device *dev,
				       unsigned int index, int prot,
				       void **addr)
{
	struct vfio_region_info ri;
	void *p;
	int rc;

	if (!addr || index >= NR_MMAPS || !prot ||
	    (prot & ~(PROT_READ | PROT_WRITE)))
		return -EINVAL;
	rc = region_info(dev, index, &ri);
	if (rc)
		return rc;
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP) || !ri.size)
		return -EOPNOTSUPP;
	if (dev->mmaps[index].addr)
		return -EBUSY;
	p = mmap(NULL, ri.size, prot, MAP_SHARED, dev->fd, (off_t)ri.offset);
	if (p == MAP_FAILED)
		return -errno;
	dev->mmaps[index].addr = p;
	dev->mmaps[index].len = ri.size;
	*addr = p;
	return 0;
}

VFIODEV_EXPORT int vfiodev_region_munmap(struct vfiodev_device *dev,
					 unsigned int index)
{
	if (index >= NR_MMAPS || !dev->mmaps[index].addr)
		return -ENOENT;
	munmap(dev->mmaps[index].addr, dev->mmaps[index].len);
	dev->mmaps[index].addr = NULL;
	dev->mmaps[index].len = 0;
	return 0;
}

static int irq_info(struct vfiodev_device *dev, unsigned int index,
		    struct vfio_irq_info *ii)
{
	if (index >= dev->info.num_irqs || index >= NR_IRQ_INDEXES)
		return -EINVAL;
	memset(ii, 0, sizeof(*ii));
	ii->argsz = sizeof(*ii);
	ii->index = index;
	if (ioctl(dev->fd, VFIO_DEVICE_GET_IRQ_INFO, ii))
		return -errno;
	return 0;
}

VFIODEV_EXPORT int vfiodev_irq_get_info(struct vfiodev_device *dev,
					unsigned int index,
					struct vfiodev_irq_info *info,
					size_t size)
{
	struct vfiodev_irq_info full;
	struct vfio_irq_info ii;
	int rc;

	if (!info || size < offsetof(struct vfiodev_irq_info, count) +
			    sizeof(info->count))
		return -EINVAL;
	rc = irq_info(dev, index, &ii);
	if (rc)
		return rc;
	full.flags = ii.flags & (VFIODEV_IRQ_EVENTFD | VFIODEV_IRQ_MASKABLE |
				 VFIODEV_IRQ_AUTOMASKED | VFIODEV_IRQ_NORESIZE);
	full.index = index;
	full.count = ii.count;
	memcpy(info, &full, size < sizeof(full) ? size : sizeof(full));
	return 0;
}

static bool is_exclusive(unsigned int index)
{
	return index <= VFIO_PCI_MSIX_IRQ_INDEX;
}

VFIODEV_EXPORT int vfiodev_irq_enable(struct vfiodev_device *dev,
				      unsigned int index, unsigned int count,
				      const int *fds)
{
	struct vfio_irq_info ii;
	unsigned int i, made = 0;
	int *mine;
	int rc;

	rc = irq_info(dev, index, &ii);
	if (rc)
		return rc;
	if (!count || count > ii.count)
		return -EINVAL;
	for (i = 0; is_exclusive(index) && i <= VFIO_PCI_MSIX_IRQ_INDEX; i++) {
		if (i != index && dev->irqs[i].count)
			return -EBUSY;
	}
	mine = calloc(count, sizeof(*mine));
	if (!mine)
		return -ENOMEM;
	for (made = 0; made < count; made++) {
		mine[made] = fds ? fcntl(fds[made], F_DUPFD_CLOEXEC, 3) :
				   eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (mine[made] < 0) {
			rc = -errno;
			goto err_close;
		}
	}
	/* The same vectors take new eventfds in place: nothing is lost if
	 * that fails.  Another count needs the index off first (VFIO's rule). */
	if (dev->irqs[index].count == count) {
		rc = set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, count, mine);
		if (rc)
			goto err_close;
		irq_release(dev, index);
		dev->irqs[index].fds = mine;
		dev->irqs[index].count = count;
		return 0;
	}
	if (dev->irqs[index].count) {
		rc = set_irqs(dev, VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, 0, NULL);
		if (rc)
			goto err_close;
		irq_release(dev, index);
	}
	rc = set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD |
		      VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, count, mine);
	if (rc) {
		vd_err(dev->as->ctx, "%s: enabling %u vectors of irq index %u: %s",
		       dev->bdf, count, index, strerror(-rc));
		goto err_close;
	}
	dev->irqs[index].fds = mine;
	dev->irqs[index].count = count;
	return 0;

err_close:
	while (made--)
		close(mine[made]);
	free(mine);
	return rc;
}

VFIODEV_EXPORT int vfiodev_irq_disable(struct vfiodev_device *dev,
				       unsigned int index)
{
	int rc;

	if (index >= dev->info.num_irqs || index >= NR_IRQ_INDEXES)
		return -EINVAL;
	if (!dev->irqs[index].count)
		return -ENOENT;
	rc = set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		      index, 0, 0, NULL);
	if (rc)
		return rc;
	irq_release(dev, index);
	return 0;
}

VFIODEV_EXPORT int vfiodev_irq_fd(struct vfiodev_device *dev,
				  unsigned int index, unsigned int vector)
{
	if (index >= NR_IRQ_INDEXES || vector >= dev->irqs[index].count)
		return -ENOENT;
	return dev->irqs[index].fds[vector];
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

VFIODEV_EXPORT int vfiodev_irq_wait(struct vfiodev_device *dev,
				    unsigned int index, unsigned int vector,
				    int timeout_ms, uint64_t *count)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	struct pollfd pfd = { .events = POLLIN };
	uint64_t val;
	int left = timeout_ms;
	ssize_t n;

	pfd.fd = vfiodev_irq_fd(dev, index, vector);
	if (pfd.fd < 0)
		return pfd.fd;
	for (;;) {
		int rc = poll(&pfd, 1, left);

		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		n = read(pfd.fd, &val, sizeof(val));
		if (n == sizeof(val))
			break;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		/* Another waiter took it: wait for the time that is left. */
		if (timeout_ms > 0) {
			left = (int)(deadline - now_ms());
			if (left <= 0)
				return -ETIMEDOUT;
		} else if (timeout_ms == 0) {
			return -ETIMEDOUT;
		}
	}
	if (count)
		*count = val;
	return 0;
}

static int irq_mask_op(struct vfiodev_device *dev, unsigned int index,
		       unsigned int vector, uint32_t action)
{
	struct vfio_irq_info ii;
	int rc;

	rc = irq_info(dev, index, &ii);
	if (rc)
		return rc;
	if (!(ii.flags & VFIO_IRQ_INFO_MASKABLE) || vector >= ii.count)
		return -EINVAL;
	return set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | action, index, vector, 1,
			NULL);
}

VFIODEV_EXPORT int vfiodev_irq_mask(struct vfiodev_device *dev,
				    unsigned int index, unsigned int vector)
{
	return irq_mask_op(dev, index, vector, VFIO_IRQ_SET_ACTION_MASK);
}

VFIODEV_EXPORT int vfiodev_irq_unmask(struct vfiodev_device *dev,
				      unsigned int index, unsigned int vector)
{
	return irq_mask_op(dev, index, vector, VFIO_IRQ_SET_ACTION_UNMASK);
}

VFIODEV_EXPORT int vfiodev_device_reset(struct vfiodev_device *dev)
{
	if (!(dev->info.flags & VFIO_DEVICE_FLAGS_RESET))
		return -EOPNOTSUPP;
	if (ioctl(dev->fd, VFIO_DEVICE_RESET))
		return -errno;
	return 0;
}

VFIODEV_EXPORT int vfiodev_device_fd(struct vfiodev_device *dev)
{
	return dev->fd;
}
