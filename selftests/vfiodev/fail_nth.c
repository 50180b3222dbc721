// SPDX-License-Identifier: GPL-2.0
/*
 * Fault-injection sweeps over what vfiodev does so far: loading the core
 * module, binding a device (probe and registration), opening the device
 * node, unbinding, mapping memory into an IOAS, binding and attaching a
 * device file to /dev/iommu, the legacy open, the ioctls that create
 * objects, and the steps of a device's use: SET_IRQS (MSI, INTx), the
 * first BAR access, BAR mmap, reset, IOAS_COPY, the unmap of an area of
 * small pages while the device is attached, and moving the device
 * onto a HWPT of its own.  See fail_nth.h for how a sweep works.
 */
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "fail_nth.h"
#include "kselftest_harness.h"

/*
 * Holds the device enabled from sysfs for the length of a sweep, so that
 * pci_enable_device() in the driver's open only counts: the first enable
 * evaluates ACPI _PRT, and ACPICA does not survive injected allocation
 * failures (a use-after-free in acpi_ns_get_attached_object() on the next
 * disable).  That is ACPICA's to fix; the sweep is about our code.
 * sysfs takes the hold only while no driver is bound.
 */
static int pci_hold_enabled(const char *bdf, bool on)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/enable", bdf);
	return sysfs_write(path, on ? "1" : "0");
}

FIXTURE(sweep) {
	int nth;
	char bdf[BDF_LEN];
};

FIXTURE_SETUP(sweep)
{
	char bdfs[8][BDF_LEN];
	int ret;

	self->nth = -1;
	ret = fail_nth_configure();
	if (ret == -ENOENT)
		SKIP(return, "no fault injection in this kernel");
	ASSERT_EQ(0, ret);
	self->nth = fail_nth_open();
	ASSERT_LE(0, self->nth);
	/* The allocator reports injected failures; the verdict expects them. */
	ASSERT_EQ(0, kmsg_note("fault injection on"));
	/* Sorted: the first is on the root bus, in a group of its own. */
	ASSERT_LE(1, pci_find(EDU_VENDOR, EDU_DEVICE, 0, bdfs, 8));
	strcpy(self->bdf, bdfs[0]);
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_release(self->bdf));
}

FIXTURE_TEARDOWN(sweep)
{
	if (self->nth < 0)
		return;
	close(self->nth);
	kmsg_note("fault injection off");
	pci_release(self->bdf);
	/* A sweep that stopped early may have left its hold. */
	pci_hold_enabled(self->bdf, false);
	vfiodev_modules_load();
}

/* Clean errnos an allocation failure may surface as. */
static bool clean_errno(int err)
{
	return err == ENOMEM || err == ENOSPC || err == EFAULT ||
	       err == ENODEV || err == EINTR || err == EAGAIN;
}

/*
 * The same, for a write to drivers_probe: the driver core turns any failure
 * to attach a driver into EINVAL.
 */
static bool clean_probe_errno(int err)
{
	return clean_errno(err) || err == EINVAL;
}

TEST_F_TIMEOUT(sweep, module_load, 600)
{
	char path[PATH_MAX];
	int fd, n, ret, hit;

	ASSERT_EQ(0, modules_unload(vfiodev_modules,
				    ARRAY_LEN(vfiodev_modules)));
	/* The core (vfio) needs iommufd's symbols. */
	ASSERT_EQ(0, module_load(vfiodev_moddir(), "iommufd"));
	snprintf(path, sizeof(path), "%s/vfio.ko", vfiodev_moddir());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);

	for (n = 1; n < FAIL_NTH_MAX; n++) {
		ASSERT_EQ(0, fail_nth_arm(self->nth, n));
		ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
		hit = fail_nth_disarm(self->nth);
		ASSERT_LE(0, hit);
		if (!hit)
			break;
		if (!ret) {
			/* The fault fell somewhere that can tolerate it. */
			ASSERT_EQ(0, module_unload("vfio"));
			continue;
		}
		EXPECT_TRUE(clean_errno(-ret)) TH_LOG("nth %d: errno %d", n, -ret);
		EXPECT_FALSE(module_loaded("vfio")) TH_LOG("nth %d", n);
		EXPECT_EQ(-1, access("/sys/class/vfio-dev", F_OK));
	}
	ASSERT_GT(FAIL_NTH_MAX, n);
	EXPECT_EQ(0, ret);
	EXPECT_TRUE(module_loaded("vfio"));
	TH_LOG("swept %d injection points", n - 1);
	close(fd);
	EXPECT_EQ(0, vfiodev_modules_load());
}

/*
 * Opens the cdev of @bdf through the major:minor sysfs gives: devtmpfs
 * ignores its own allocation failures, so an injected fault can leave a
 * registered device without its /dev node (udev would make it), and the
 * question here is whether our registration is complete.
 */
static int open_by_devt(const char *bdf)
{
	char path[64];
	dev_t devt;
	int fd, ret;

	ret = vfio_dev_devt(bdf, &devt);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/tmp/vfiodev-%u", minor(devt));
	unlink(path);
	if (mknod(path, S_IFCHR | 0600, devt))
		return -errno;
	fd = open(path, O_RDWR | O_CLOEXEC);
	ret = fd < 0 ? -errno : fd;
	unlink(path);
	return ret;
}

/* Probe: the device ends up either fully ours, cdev included, or unbound. */
TEST_F_TIMEOUT(sweep, bind, 600)
{
	char drv[64], name[64];
	int n, ret, hit, fd;

	ASSERT_EQ(0, pci_set_override(self->bdf, VFIODEV_DRIVER));
	for (n = 1; n < FAIL_NTH_MAX; n++) {
		ASSERT_EQ(0, fail_nth_arm(self->nth, n));
		ret = sysfs_write(PCI_SYSFS "/drivers_probe", self->bdf);
		hit = fail_nth_disarm(self->nth);
		ASSERT_LE(0, hit);
		ASSERT_EQ(0, pci_driver_of(self->bdf, drv, sizeof(drv)));
		if (drv[0]) {
			EXPECT_STREQ(VFIODEV_DRIVER, drv);
			ASSERT_EQ(0, vfio_dev_name(self->bdf, name, sizeof(name)))
				TH_LOG("nth %d: bound without a node", n);
			fd = open_by_devt(self->bdf);
			EXPECT_LE(0, fd) TH_LOG("nth %d", n);
			if (fd >= 0)
				close(fd);
		} else {
			EXPECT_NE(0, vfio_dev_name(self->bdf, name, sizeof(name)))
				TH_LOG("nth %d: a node without a driver", n);
		}
		if (!hit)
			break;
		if (ret)
			EXPECT_TRUE(clean_probe_errno(-ret))
				TH_LOG("nth %d: %d", n, -ret);
		ASSERT_EQ(0, pci_unbind(self->bdf));
	}
	ASSERT_GT(FAIL_NTH_MAX, n);
	EXPECT_STREQ(VFIODEV_DRIVER, drv);
	TH_LOG("swept %d injection points", n - 1);
}

TEST_F_TIMEOUT(sweep, open, 300)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char name[64], node[PATH_MAX];
	int n, fd, hit;

	ASSERT_EQ(0, pci_bind(self->bdf, VFIODEV_DRIVER));
	ASSERT_EQ(0, vfio_dev_name(self->bdf, name, sizeof(name)));
	snprintf(node, sizeof(node), "/dev/vfio/devices/%s", name);

	for (n = 1; n < FAIL_NTH_MAX; n++) {
		ASSERT_EQ(0, fail_nth_arm(self->nth, n));
		fd = open(node, O_RDWR | O_CLOEXEC);
		hit = fail_nth_disarm(self->nth);
		ASSERT_LE(0, hit);
		if (fd >= 0) {
			EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_GET_INFO, &info));
			EXPECT_EQ(EINVAL, errno);
			close(fd);
		} else {
			EXPECT_TRUE(clean_errno(errno)) TH_LOG("nth %d: %d", n, errno);
		}
		if (!hit)
			break;
	}
	ASSERT_GT(FAIL_NTH_MAX, n);
	EXPECT_LE(0, fd);
	TH_LOG("swept %d injection points", n - 1);
	/* A failed open that kept a registration would hang this unbind. */
	EXPECT_EQ(0, pci_unbind(self->bdf));
}

/* Unbinding cannot fail: whatever fails inside, the device is let go. */
TEST_F_TIMEOUT(sweep, unbind, 600)
{
	char drv[64], name[64];
	int n, hit;

	for (n = 1; n < FAIL_NTH_MAX; n++) {
		ASSERT_EQ(0, pci_bind(self->bdf, VFIODEV_DRIVER));
		ASSERT_EQ(0, fail_nth_arm(self->nth, n));
		pci_unbind(self->bdf);
		hit = fail_nth_disarm(self->nth);
		ASSERT_LE(0, hit);
		ASSERT_EQ(0, pci_driver_of(self->bdf, drv, sizeof(drv)));
		if (drv[0]) {
			/* The unbind write itself failed before reaching us. */
			ASSERT_EQ(0, pci_unbind(self->bdf));
		}
		EXPECT_NE(0, vfio_dev_name(self->bdf, name, sizeof(name)))
			TH_LOG("nth %d: node left behind", n);
		if (!hit)
			break;
	}
	ASSERT_GT(FAIL_NTH_MAX, n);
	TH_LOG("swept %d injection points", n - 1);
}

/* Pages pinned in the guest (/proc/vmstat). */
static long pinned_pages(void)
{
	return guest_pinned_pages();
}

#define SWEEP_MAP_LEN	(64 * 4096)

/*
 * IOAS_MAP with a kernel-chosen IOVA: a failure pins nothing and maps
 * nothing; a success maps exactly the range.
 */
TEST_F_TIMEOUT(sweep, ioas_map, 600)
{
	long before = pinned_pages();
	uint64_t iova, unmapped;
	int fd, n, ret, hit;
	uint32_t ioas;
	void *buf;

	ASSERT_LE(0, before);
	buf = mmap(NULL, SWEEP_MAP_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ufd_ioas_alloc(fd, &ioas));

	for (n = 1; n < FAIL_NTH_MAX; n++) {
		iova = 0;
		ASSERT_EQ(0, fail_nth_arm(self->nth, n));
		ret = ufd_map(fd, ioas, buf, SWEEP_MAP_LEN, &iova, IOMAP_RW);
		hit = fail_nth_disarm(self->nth);
		ASSERT_LE(0, hit);
		if (ret) {
			EXPECT_TRUE(clean_errno(-ret)) TH_LOG("nth %d: %d", n, -ret);
			EXPECT_EQ(before, pinned_pages()) TH_LOG("nth %d", n);
			/* Nothing is mapped: unmapping everything finds nothing. */
			EXPECT_EQ(0, ufd_unmap(fd, ioas, 0, UINT64_MAX, &unmapped));
			EXPECT_EQ(0ULL, unmapped) TH_LOG("nth %d", n);
		} else {
			EXPECT_EQ(before + SWEEP_MAP_LEN / 4096, pinned_pages());
			EXPECT_EQ(0, ufd_unmap(fd, ioas, iova, SWEEP_MAP_LEN,
					       &unmapped));
			EXPECT_EQ((uint64_t)SWEEP_MAP_LEN, unmapped);
		}
		if (!hit)
			break;
	}
	ASSERT_GT(FAIL_NTH_MAX, n);
	EXPECT_EQ(0, ret);
	TH_LOG("swept %d injection points", n - 1);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(before, pinned_pages());
	munmap(buf, SWEEP_MAP_LEN);
}

/*
 * For the sweeps through a device file: the edu bound to our driver (held
 * enabled, see pci_hold_enabled()), SWEEP_MAP_LEN bytes of memory in
 * @buf, and the pinned-page count before anything, returned.
 */
static long sweep_device_begin_with(struct __test_metadata *_metadata,
				    FIXTURE_DATA(sweep) *self, void **buf,
				    const char *driver)
{
	long before;

	/* sysfs enables only a device without a driver. */
	EXPECT_EQ(0, pci_hold_enabled(self->bdf, true));
	EXPECT_EQ(0, pci_bind(self->bdf, driver));
	before = pinned_pages();
	EXPECT_LE(0, before);
	*buf = mmap(NULL, SWEEP_MAP_LEN, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	EXPECT_NE(MAP_FAILED, *buf);
	return before;
}

static long sweep_device_begin(struct __test_metadata *_metadata,
			       FIXTURE_DATA(sweep) *self, void **buf)
{
	return sweep_device_begin_with(_metadata, self, buf, VFIODEV_DRIVER);
}

/* Everything pinned is unpinned; the edu goes back. */
static void sweep_device_end(struct __test_metadata *_metadata,
			     FIXTURE_DATA(sweep) *self, void *buf, long before)
{
	EXPECT_EQ(before, pinned_pages());
	munmap(buf, SWEEP_MAP_LEN);
	EXPECT_EQ(0, pci_unbind(self->bdf));
	EXPECT_EQ(0, pci_hold_enabled(self->bdf, false));
}

/*
 * VFIO_DEVICE_BIND_IOMMUFD then VFIO_DEVICE_ATTACH_IOMMUFD_PT to an IOAS
 * with memory mapped: each fails cleanly and leaves the device bindable;
 * closing the device file undoes whatever succeeded.
 */
TEST_F_TIMEOUT(sweep, bind_attach, 900)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	int ifd, dfd, n, ret, hit;
	long before;
	uint64_t iova = 0x100000;
	uint32_t ioas;
	void *buf;

	before = sweep_device_begin(_metadata, self, &buf);
	ASSERT_NE(MAP_FAILED, buf);
	ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ifd);
	ASSERT_EQ(0, ufd_ioas_alloc(ifd, &ioas));
	ASSERT_EQ(0, ufd_map_fixed(ifd, ioas, buf, SWEEP_MAP_LEN, iova));
	bind.iommufd = ifd;

	for (n = 1; n < FAIL_NTH_MAX; n++) {
		dfd = vfio_dev_open(self->bdf);
		ASSERT_LE(0, dfd);
		attach.pt_id = ioas;
		ASSERT_EQ(0, fail_nth_arm(self->nth, n));
		ret = ioctl(dfd, VFIO_DEVICE_BIND_IOMMUFD, &bind) ? -errno : 0;
		if (!ret)
			ret = ioctl(dfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) ?
			      -errno : 0;
		hit = fail_nth_disarm(self->nth);
		ASSERT_LE(0, hit);
		if (ret) {
			EXPECT_TRUE(clean_errno(-ret) || ret == -EINVAL)
				TH_LOG("nth %d: %d", n, -ret);
		} else {
			EXPECT_NE(ioas, attach.pt_id) TH_LOG("nth %d", n);
		}
		/* Closing unbinds; the next open binds again. */
		ASSERT_EQ(0, close(dfd));
		if (!hit)
			break;
	}
	ASSERT_GT(FAIL_NTH_MAX, n);
	EXPECT_EQ(0, ret);
	TH_LOG("swept %d injection points", n - 1);
	/* Every automatic HWPT went with its device: the IOAS is unused. */
	EXPECT_EQ(0, ufd_destroy(ifd, ioas));
	EXPECT_EQ(0, close(ifd));
	sweep_device_end(_metadata, self, buf, before);
}

/*
 * The legacy path as QEMU 7.2 walks it: VFIO_GROUP_SET_CONTAINER,
 * VFIO_SET_IOMMU, VFIO_IOMMU_MAP_DMA, VFIO_GROUP_GET_DEVICE_FD.  Each step
 * fails cleanly; closing the files undoes what succeeded, pins included.
 */
TEST_F_TIMEOUT(sweep, legacy_open, 900)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = 0x100000,
		.size = SWEEP_MAP_LEN,
	};
	int cfd, gfd, dfd = -1, n, ret, hit;
	long before;
	void *buf;

	before = sweep_device_begin(_metadata, self, &buf);
	ASSERT_NE(MAP_FAILED, buf);
	map.vaddr = (uintptr_t)buf;

	for (n = 1; n < FAIL_NTH_MAX; n++) {
		cfd = vfio_container_open();
		ASSERT_LE(0, cfd);
		gfd = vfio_group_open(self->bdf);
		ASSERT_LE(0, gfd);
		ASSERT_EQ(0, fail_nth_arm(self->nth, n));
		ret = ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &cfd) ? -errno : 0;
		if (!ret)
			ret = ioctl(cfd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ?
			      -errno : 0;
		if (!ret)
			ret = ioctl(cfd, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
		if (!ret) {
			dfd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
			ret = dfd < 0 ? -errno : 0;
		}
		hit = fail_nth_disarm(self->nth);
		ASSERT_LE(0, hit);
		if (ret)
			EXPECT_TRUE(clean_errno(-ret)) TH_LOG("nth %d: %d", n, -ret);
		if (dfd >= 0)
			ASSERT_EQ(0, close(dfd));
		dfd = -1;
		ASSERT_EQ(0, close(gfd));
		ASSERT_EQ(0, close(cfd));
		if (!hit)
			break;
	}
	ASSERT_GT(FAIL_NTH_MAX, n);
	EXPECT_EQ(0, ret);
	TH_LOG("swept %d injection points", n - 1);
	sweep_device_end(_metadata, self, buf, before);
}

/* An object-creating ioctl: 0 and the new object's ID, or -errno. */
struct creation {
	const char *name;
	int (*create)(int fd, void *arg, uint32_t *id);
	void *arg;
};

static int create_ioas(int fd, void *arg, uint32_t *id)
{
	return ufd_ioas_alloc(fd, id);
}

static int create_hwpt(int fd, void *arg, uint32_t *id)
{
	struct iommu_hwpt_alloc *cmd = arg;

	if (ioctl(fd, IOMMU_HWPT_ALLOC, cmd))
		return -errno;
	*id = cmd->out_hwpt_id;
	return 0;
}

/*
 * Sweeps @c on /dev/iommu @fd: after each failure (a clean errno) no
 * object is left but those in @keep; each success is destroyed again.
 */
static void sweep_creation(struct __test_metadata *_metadata, int nth, int fd,
			   const struct creation *c, const uint32_t *keep,
			   unsigned int nkeep)
{
	int n, ret, hit;
	uint32_t id, stray;

	for (n = 1; n < FAIL_NTH_MAX; n++) {
		ASSERT_EQ(0, fail_nth_arm(nth, n));
		ret = c->create(fd, c->arg, &id);
		hit = fail_nth_disarm(nth);
		ASSERT_LE(0, hit);
		if (ret) {
			EXPECT_TRUE(clean_errno(-ret)) TH_LOG("nth %d: %d", n, -ret);
			stray = ufd_first_stray(fd, 16, keep, nkeep);
			EXPECT_EQ(0U, stray) TH_LOG("nth %d: object %u", n, stray);
		} else {
			EXPECT_EQ(0, ufd_destroy(fd, id));
		}
		if (!hit)
			break;
	}
	ASSERT_GT(FAIL_NTH_MAX, n);
	EXPECT_EQ(0, ret);
	TH_LOG("%s: swept %d injection points", c->name, n - 1);
}

/*
 * The ioctls that create an object reply before they publish it: whatever
 * fails, an allocation or the copy of the reply to user space
 * (fail_usercopy), no object is left that the caller was not told the ID
 * of.  IOMMU_IOAS_ALLOC, then IOMMU_HWPT_ALLOC for a bound device.
 */
TEST_F_TIMEOUT(sweep, object_replies, 900)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_hwpt_alloc halloc = { .size = sizeof(halloc) };
	const struct creation ioas_alloc = { "IOAS_ALLOC", create_ioas, NULL };
	const struct creation hwpt_alloc = {
		"HWPT_ALLOC", create_hwpt, &halloc,
	};
	uint32_t keep[2], ioas;
	int ifd, dfd;
	long before;
	void *buf;

	before = sweep_device_begin(_metadata, self, &buf);
	ASSERT_NE(MAP_FAILED, buf);
	ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ifd);
	sweep_creation(_metadata, self->nth, ifd, &ioas_alloc, NULL, 0);

	ASSERT_EQ(0, ufd_ioas_alloc(ifd, &ioas));
	dfd = vfio_dev_open(self->bdf);
	ASSERT_LE(0, dfd);
	bind.iommufd = ifd;
	ASSERT_EQ(0, ioctl(dfd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	keep[0] = ioas;
	keep[1] = bind.out_devid;
	halloc.dev_id = bind.out_devid;
	halloc.pt_id = ioas;
	sweep_creation(_metadata, self->nth, ifd, &hwpt_alloc, keep, 2);
	ASSERT_EQ(0, close(dfd));
	EXPECT_EQ(0, ufd_destroy(ifd, ioas));
	EXPECT_EQ(0, close(ifd));
	sweep_device_end(_metadata, self, buf, before);
}

/* --- one step of a device's use, swept -------------------------------- */

#define SWEEP_IOVA	0x100000ULL
#define SWEEP_BAR0	((uint64_t)VFIO_PCI_BAR0_REGION_INDEX << 40)
#define CFG_OFF(off)	(((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + (off))
#define PAGE_SZ		4096ULL

/*
 * What a device step runs on: /dev/iommu with an IOAS that has
 * SWEEP_MAP_LEN bytes mapped at SWEEP_IOVA (large pages off where @small),
 * the device file bound and attached to it, memory decoding and bus
 * mastering on.  A new one for every attempt: a step that failed half-way
 * leaves nothing the next attempt sees.
 */
struct dctx {
	int ifd, dfd;
	uint32_t ioas, devid;
	void *buf;
	/* A step's own: what it made, for its check and undo. */
	int efd[2];
	uint32_t obj;
	void *map;
};

static int dctx_open(struct dctx *c, const char *bdf, void *buf, bool small)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	uint64_t off = 0;
	uint16_t cmd;
	int ret;

	memset(c, 0, sizeof(*c));
	c->dfd = c->efd[0] = c->efd[1] = -1;
	c->buf = buf;
	c->ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (c->ifd < 0)
		return -errno;
	ret = ufd_ioas_alloc(c->ifd, &c->ioas);
	if (!ret && small)
		ret = ufd_option(c->ifd, IOMMU_OPTION_HUGE_PAGES,
				 IOMMU_OPTION_OP_SET, c->ioas, &off);
	if (!ret)
		ret = ufd_map_fixed(c->ifd, c->ioas, buf, SWEEP_MAP_LEN,
				    SWEEP_IOVA);
	if (ret)
		return ret;
	c->dfd = vfio_dev_open(bdf);
	if (c->dfd < 0)
		return c->dfd;
	bind.iommufd = c->ifd;
	ret = ufd_ioctl(c->dfd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (ret)
		return ret;
	c->devid = bind.out_devid;
	at.pt_id = c->ioas;
	ret = ufd_ioctl(c->dfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
	if (ret)
		return ret;
	if (pread(c->dfd, &cmd, 2, CFG_OFF(PCI_COMMAND)) != 2)
		return -EIO;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(c->dfd, &cmd, 2, CFG_OFF(PCI_COMMAND)) != 2)
		return -EIO;
	return 0;
}

static void dctx_close(struct dctx *c)
{
	if (c->map && c->map != MAP_FAILED)
		munmap(c->map, PAGE_SZ);
	if (c->efd[0] >= 0)
		close(c->efd[0]);
	if (c->efd[1] >= 0)
		close(c->efd[1]);
	if (c->dfd >= 0)
		close(c->dfd);
	if (c->ifd >= 0)
		close(c->ifd);
	c->dfd = c->ifd = -1;
}

/*
 * A step: @run is injected and answers 0 or -errno; @check, not
 * injected, says whether the state after @run (@ret its answer) is what
 * it must be: everything as before a failure, the step's effect after a
 * success.  0, or a number naming what is wrong.
 */
struct dstep {
	const char *name;
	bool small;		/* IOMMU_OPTION_HUGE_PAGES 0 on the IOAS */
	bool other;		/* not an edu: BAR0 is only read, not judged */
	int (*run)(struct dctx *c);
	int (*check)(struct dctx *c, int ret);
	const char *reject;	/* the reject range instead, see fail_nth.h */
	/*
	 * Claiming a BAR (pci_request_selected_regions()) reports a failed
	 * allocation as EBUSY, on upstream's vfio-pci too.
	 */
	bool busy;
	const char *driver;	/* the one to bind, if not vfio-pci */
};

/* BAR0 answers: the edu's ID. */
static bool bar0_works(struct dctx *c, bool other)
{
	uint32_t id = 0;

	if (pread(c->dfd, &id, 4, SWEEP_BAR0) != 4)
		return false;
	return other || id == 0x010000edU;
}

static void sweep_dstep(struct __test_metadata *_metadata,
			FIXTURE_DATA(sweep) *self, const struct dstep *s)
{
	long before;
	struct dctx c;
	int n, ret, hit, bad;
	void *buf;

	/* The next test's setup puts back the usual range. */
	if (s->reject)
		ASSERT_EQ(0, fail_nth_reject(s->reject));
	before = sweep_device_begin_with(_metadata, self, &buf,
					 s->driver ?: VFIODEV_DRIVER);
	ASSERT_NE(MAP_FAILED, buf);
	for (n = 1; n < FAIL_NTH_MAX; n++) {
		ret = dctx_open(&c, self->bdf, buf, s->small);
		ASSERT_EQ(0, ret) TH_LOG("%s, nth %d: setting up: %d", s->name,
					 n, ret);
		ASSERT_EQ(0, fail_nth_arm(self->nth, n));
		ret = s->run(&c);
		hit = fail_nth_disarm(self->nth);
		ASSERT_LE(0, hit);
		if (ret)
			EXPECT_TRUE(clean_errno(-ret) ||
				    (s->busy && ret == -EBUSY))
				TH_LOG("%s, nth %d: %d", s->name, n, -ret);
		bad = s->check ? s->check(&c, ret) : 0;
		EXPECT_EQ(0, bad) TH_LOG("%s, nth %d (%d): check %d", s->name,
					 n, ret, bad);
		/* The device is still usable, whatever failed. */
		EXPECT_TRUE(bar0_works(&c, s->other)) TH_LOG("%s, nth %d", s->name, n);
		dctx_close(&c);
		EXPECT_EQ(before, pinned_pages()) TH_LOG("%s, nth %d", s->name, n);
		if (!hit)
			break;
	}
	ASSERT_GT(FAIL_NTH_MAX, n);
	EXPECT_EQ(0, ret) TH_LOG("%s without a fault", s->name);
	TH_LOG("%s: swept %d injection points", s->name, n - 1);
	/* And once more, after the sweep: it works. */
	ASSERT_EQ(0, dctx_open(&c, self->bdf, buf, s->small));
	EXPECT_EQ(0, s->run(&c)) TH_LOG("%s after the sweep", s->name);
	if (s->check)
		EXPECT_EQ(0, s->check(&c, 0)) TH_LOG("%s after the sweep", s->name);
	dctx_close(&c);
	sweep_device_end(_metadata, self, buf, before);
}

/* SET_IRQS: eventfds as the trigger of @index, then none again. */
static int set_irq_eventfds(struct dctx *c, uint32_t index, int *fds,
			    uint32_t count, uint32_t action)
{
	struct {
		struct vfio_irq_set hdr;
		int32_t fd[2];
	} set = { .hdr = {
		.argsz = sizeof(set.hdr) + count * sizeof(int32_t),
		.flags = action | (count ? VFIO_IRQ_SET_DATA_EVENTFD :
				   VFIO_IRQ_SET_DATA_NONE),
		.index = index, .count = count,
	} };

	memcpy(set.fd, fds, count * sizeof(int32_t));
	return ufd_ioctl(c->dfd, VFIO_DEVICE_SET_IRQS, &set);
}

static int irq_fds(struct dctx *c)
{
	c->efd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->efd[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return c->efd[0] < 0 || c->efd[1] < 0 ? -ENOMEM : 0;
}

static int run_msi(struct dctx *c)
{
	int ret = irq_fds(c);

	return ret ?: set_irq_eventfds(c, VFIO_PCI_MSI_IRQ_INDEX, c->efd, 1,
				       VFIO_IRQ_SET_ACTION_TRIGGER);
}

/*
 * After a failure MSI is off: unmasking it is EINVAL.  After a success it
 * is on, and disabling it works.
 */
static int check_msi(struct dctx *c, int ret)
{
	struct vfio_irq_set unmask = {
		.argsz = sizeof(unmask),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX, .start = 0, .count = 1,
	};
	int r;

	/* Firing vector 0 by hand needs it enabled. */
	r = ufd_ioctl(c->dfd, VFIO_DEVICE_SET_IRQS, &unmask);
	if (ret)
		return r == -EINVAL ? 0 : 1;
	if (r)
		return 2;
	if (set_irq_eventfds(c, VFIO_PCI_MSI_IRQ_INDEX, NULL, 0,
			     VFIO_IRQ_SET_ACTION_TRIGGER))
		return 3;
	return 0;
}

static int run_intx(struct dctx *c)
{
	int ret = irq_fds(c);

	if (!ret)
		ret = set_irq_eventfds(c, VFIO_PCI_INTX_IRQ_INDEX, c->efd, 1,
				       VFIO_IRQ_SET_ACTION_TRIGGER);
	if (!ret)
		ret = set_irq_eventfds(c, VFIO_PCI_INTX_IRQ_INDEX, c->efd + 1, 1,
				       VFIO_IRQ_SET_ACTION_UNMASK);
	return ret;
}

/* Either way, INTx can be set up again and taken down. */
static int check_intx(struct dctx *c, int ret)
{
	if (set_irq_eventfds(c, VFIO_PCI_INTX_IRQ_INDEX, c->efd, 1,
			     VFIO_IRQ_SET_ACTION_TRIGGER))
		return 1;
	if (set_irq_eventfds(c, VFIO_PCI_INTX_IRQ_INDEX, NULL, 0,
			     VFIO_IRQ_SET_ACTION_TRIGGER))
		return 2;
	return 0;
}

/* The first access to a BAR maps it for the kernel. */
static int run_bar_rw(struct dctx *c)
{
	uint32_t v = 0x5a5a;

	if (pwrite(c->dfd, &v, 4, SWEEP_BAR0 + 4) != 4)
		return -errno;
	return pread(c->dfd, &v, 4, SWEEP_BAR0 + 4) == 4 ? 0 : -errno;
}

static int run_mmap(struct dctx *c)
{
	c->map = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->dfd, SWEEP_BAR0);
	return c->map == MAP_FAILED ? -errno : 0;
}

/* A mapping made reads the ID (its first touch faults the BAR in). */
static int check_mmap(struct dctx *c, int ret)
{
	if (ret)
		return c->map == MAP_FAILED ? 0 : 1;
	return *(volatile uint32_t *)c->map == 0x010000edU ? 0 : 2;
}

static int run_reset(struct dctx *c)
{
	return ioctl(c->dfd, VFIO_DEVICE_RESET) ? -errno : 0;
}

/* The reset takes the command register back to 0; set it again. */
static int check_reset(struct dctx *c, int ret)
{
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	return pwrite(c->dfd, &cmd, 2, CFG_OFF(PCI_COMMAND)) == 2 ? 0 : 1;
}

/* IOAS_COPY into a second IOAS, where the device is not. */
static int run_copy(struct dctx *c)
{
	uint64_t dst = SWEEP_IOVA;
	int ret = ufd_ioas_alloc(c->ifd, &c->obj);

	if (ret) {
		c->obj = 0;
		return ret;
	}
	return ufd_copy(c->ifd, c->obj, c->ioas, SWEEP_IOVA, SWEEP_MAP_LEN,
			&dst, IOMAP_FIXED_RW);
}

/*
 * The copy is all there, or nothing of it; the source is whole.  EFAULT
 * may also be the reply's copy to user space, after the copy: iommufd
 * leaves it in place then, and so do we.
 */
static int check_copy(struct dctx *c, int ret)
{
	uint64_t n = ~0ULL;

	if (c->obj) {
		if (ufd_unmap(c->ifd, c->obj, 0, UINT64_MAX, &n))
			return 1;
		if (n != (ret ? 0 : SWEEP_MAP_LEN) &&
		    !(ret == -EFAULT && n == SWEEP_MAP_LEN))
			return 2;
		if (ufd_destroy(c->ifd, c->obj))
			return 3;
	}
	if (ufd_unmap(c->ifd, c->ioas, SWEEP_IOVA, SWEEP_MAP_LEN, &n) ||
	    n != SWEEP_MAP_LEN)
		return 4;
	return 0;
}

/*
 * Unmapping an area of small pages (512 IOPTEs) with the device attached.
 * A failure leaves the whole area mapped, but EFAULT, which may be the
 * reply's copy after the unmap (iommufd cannot take an unmap back).  An
 * unmap of part of an area is ENOENT on iommufd, ours and upstream's: it
 * splits no area.
 */
static int run_unmap_small(struct dctx *c)
{
	uint64_t n = 0;
	int ret = ufd_unmap(c->ifd, c->ioas, SWEEP_IOVA, SWEEP_MAP_LEN, &n);

	return ret ?: n == SWEEP_MAP_LEN ? 0 : -EIO;
}

static int check_unmap_small(struct dctx *c, int ret)
{
	uint64_t n = 0;
	int r;

	if (ufd_unmap(c->ifd, c->ioas, SWEEP_IOVA + PAGE_SZ, PAGE_SZ, &n) !=
	    -ENOENT)
		return 1;	/* a piece of the area: never */
	r = ufd_unmap(c->ifd, c->ioas, SWEEP_IOVA, SWEEP_MAP_LEN, &n);
	if (!ret)
		return r == -ENOENT ? 0 : 2;
	if (!r)
		return n == SWEEP_MAP_LEN ? 0 : 3;
	return ret == -EFAULT && r == -ENOENT ? 0 : 4;
}

/* A HWPT of the device's own, and the device moved onto it (replace). */
static int run_hwpt_replace(struct dctx *c)
{
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc), .dev_id = c->devid, .pt_id = c->ioas,
	};
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	int ret = ufd_ioctl(c->ifd, IOMMU_HWPT_ALLOC, &alloc);

	if (ret)
		return ret;
	c->obj = alloc.out_hwpt_id;
	at.pt_id = c->obj;
	return ufd_ioctl(c->dfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
}

/*
 * After a failure the device is where it was: the HWPT, if made, is not
 * in use and goes.  After a success it is in use until the device leaves.
 */
static int check_hwpt_replace(struct dctx *c, int ret)
{
	struct vfio_device_detach_iommufd_pt de = { .argsz = sizeof(de) };
	int r;

	if (!c->obj)
		return ret ? 0 : 1;
	r = ufd_destroy(c->ifd, c->obj);
	if (ret)
		return r ? 2 : 0;
	if (r != -EBUSY)
		return 3;
	if (ufd_ioctl(c->dfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &de) ||
	    ufd_destroy(c->ifd, c->obj))
		return 4;
	return 0;
}

/* IOAS_MAP of the same memory at a second IOVA, with the device attached. */
#define SWEEP_IOVA2	0x4000000ULL

static int run_map_attached(struct dctx *c)
{
	return ufd_map_fixed(c->ifd, c->ioas, c->buf, SWEEP_MAP_LEN,
			     SWEEP_IOVA2);
}

/*
 * All of it mapped, or none of it; EFAULT may be the reply's copy after
 * the map, which iommufd leaves in place.
 */
static int check_map_attached(struct dctx *c, int ret)
{
	uint64_t n = 0;
	int r = ufd_unmap(c->ifd, c->ioas, SWEEP_IOVA2, SWEEP_MAP_LEN, &n);

	if (!ret)
		return !r && n == SWEEP_MAP_LEN ? 0 : 1;
	if (r == -ENOENT)
		return 0;
	return ret == -EFAULT && !r && n == SWEEP_MAP_LEN ? 0 : 2;
}

/* --- migration, through the edu variant ------------------------------------ */

static int mig_set(struct dctx *c, uint32_t state, int *data_fd)
{
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_mig_state m;
	} set = {
		.f = { .argsz = sizeof(set),
		       .flags = VFIO_DEVICE_FEATURE_SET |
				VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE },
		.m = { .device_state = state, .data_fd = -1 },
	};
	int ret = ufd_ioctl(c->dfd, VFIO_DEVICE_FEATURE, &set);

	if (!ret && data_fd)
		*data_fd = set.m.data_fd;
	return ret;
}

static int mig_get(struct dctx *c, uint32_t *state)
{
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_mig_state m;
	} get = {
		.f = { .argsz = sizeof(get),
		       .flags = VFIO_DEVICE_FEATURE_GET |
				VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE },
	};
	int ret = ufd_ioctl(c->dfd, VFIO_DEVICE_FEATURE, &get);

	*state = get.m.device_state;
	return ret;
}

#define MIG_LIVENESS	0x5eed1234U

/*
 * A whole migration onto the same device: the liveness register set,
 * STOP_COPY and its stream read to the end, RESUMING and the stream
 * written back, RUNNING.  The data files are the step's, closed with it.
 */
static int run_migrate(struct dctx *c)
{
	uint32_t v = MIG_LIVENESS;
	char stream[1024];
	ssize_t n, len = 0;
	int ret;

	if (pwrite(c->dfd, &v, 4, SWEEP_BAR0 + 4) != 4)
		return -errno;
	ret = mig_set(c, VFIO_DEVICE_STATE_STOP_COPY, &c->efd[0]);
	if (ret)
		return ret;
	while ((n = read(c->efd[0], stream + len, sizeof(stream) - len)) > 0)
		len += n;
	if (n < 0)
		return -errno;
	ret = mig_set(c, VFIO_DEVICE_STATE_RESUMING, &c->efd[1]);
	if (ret)
		return ret;
	n = write(c->efd[1], stream, len);
	if (n != len)
		return n < 0 ? -errno : -EIO;
	return mig_set(c, VFIO_DEVICE_STATE_RUNNING, NULL);
}

/*
 * After a success the device runs with its registers as saved.  After a
 * failure it is in a state of the uAPI's (the one before the failed arc,
 * or ERROR), and VFIO_DEVICE_RESET, how user space leaves a failed arc,
 * brings it back to RUNNING.
 */
static int check_migrate(struct dctx *c, int ret)
{
	uint32_t state = ~0U, v = 0;

	if (mig_get(c, &state))
		return 1;
	if (!ret) {
		if (state != VFIO_DEVICE_STATE_RUNNING)
			return 2;
		if (pread(c->dfd, &v, 4, SWEEP_BAR0 + 4) != 4)
			return 3;
		return v == ~MIG_LIVENESS ? 0 : 4;
	}
	if (state > VFIO_DEVICE_STATE_PRE_COPY_P2P)
		return 5;
	if (ioctl(c->dfd, VFIO_DEVICE_RESET))
		return 6;
	if (mig_get(c, &state) || state != VFIO_DEVICE_STATE_RUNNING)
		return 7;
	return 0;
}

/*
 * An IRQ's first handler creates its /proc/irq/N entries
 * (register_irq_proc()), which ignores a failed child entry, and freeing
 * the descriptor removes every child and WARNs for the missing one: a bug
 * of the IRQ core whoever requests the IRQ, so the SET_IRQS sweeps reject
 * that function instead.
 */
static const struct dstep dsteps[] = {
	{ "SET_IRQS MSI", .run = run_msi, .check = check_msi,
	  .reject = "register_irq_proc" },
	{ "SET_IRQS INTx", .run = run_intx, .check = check_intx,
	  .reject = "register_irq_proc" },
	{ "BAR access", .run = run_bar_rw, .busy = true },
	{ "BAR mmap", .run = run_mmap, .check = check_mmap, .busy = true },
	{ "DEVICE_RESET", .other = true, .run = run_reset, .check = check_reset },
	{ "IOAS_COPY", .run = run_copy, .check = check_copy },
	{ "unmap, small pages", .small = true, .run = run_unmap_small,
	  .check = check_unmap_small },
	{ "HWPT replace", .run = run_hwpt_replace, .check = check_hwpt_replace },
	{ "IOAS_MAP, attached", .run = run_map_attached,
	  .check = check_map_attached },
	{ "migration", .run = run_migrate, .check = check_migrate,
	  .busy = true, .driver = "edu_vfio_pci" },
};

TEST_F_TIMEOUT(sweep, set_irqs_msi, 900)
{
	sweep_dstep(_metadata, self, &dsteps[0]);
}

TEST_F_TIMEOUT(sweep, set_irqs_intx, 900)
{
	sweep_dstep(_metadata, self, &dsteps[1]);
}

TEST_F_TIMEOUT(sweep, bar_access, 900)
{
	sweep_dstep(_metadata, self, &dsteps[2]);
}

TEST_F_TIMEOUT(sweep, bar_mmap, 900)
{
	sweep_dstep(_metadata, self, &dsteps[3]);
}

/*
 * On the nvme: the edu has no reset of its own (no FLR, no PM, the root
 * bus), the nvme has FLR.
 */
TEST_F_TIMEOUT(sweep, reset, 900)
{
	char nvme[2][BDF_LEN];

	ASSERT_LE(1, pci_find(0, 0, NVME_CLASS, nvme, 2));
	strcpy(self->bdf, nvme[0]);
	ASSERT_EQ(0, pci_release(self->bdf));
	sweep_dstep(_metadata, self, &dsteps[4]);
}

TEST_F_TIMEOUT(sweep, ioas_copy, 900)
{
	sweep_dstep(_metadata, self, &dsteps[5]);
}

TEST_F_TIMEOUT(sweep, unmap_small, 900)
{
	sweep_dstep(_metadata, self, &dsteps[6]);
}

TEST_F_TIMEOUT(sweep, hwpt_replace, 900)
{
	sweep_dstep(_metadata, self, &dsteps[7]);
}

TEST_F_TIMEOUT(sweep, ioas_map_attached, 900)
{
	sweep_dstep(_metadata, self, &dsteps[8]);
}

/* The edu variant's migration: every arc, the data files, the reset. */
TEST_F_TIMEOUT(sweep, migration, 900)
{
	if (stack_is_upstream())
		SKIP(return, "the edu variant is ours");
	sweep_dstep(_metadata, self, &dsteps[9]);
}

/*
 * VFIO_DEVICE_PCI_HOT_RESET through the cdev: the two functions behind
 * the root port, both bound to one iommufd (which proves the ownership:
 * no group files, count 0), reset with their bus.  Each failure is a
 * clean errno; either way both functions still answer on BAR0 once their
 * command registers are set again (a reset clears them); after the sweep
 * the reset goes through.
 */
static int hot_reset_pair(char port[][BDF_LEN], int nth, unsigned int arm,
			  int *hit)
{
	struct vfio_pci_hot_reset r = { .argsz = sizeof(r) };
	uint16_t cmd = PCI_COMMAND_MEMORY;
	int ifd, fd[2] = { -1, -1 }, i, ret = 0;
	uint32_t id;

	*hit = 0;
	ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (ifd < 0)
		return 1000 + errno;
	for (i = 0; i < 2 && !ret; i++) {
		struct vfio_device_bind_iommufd bind = {
			.argsz = sizeof(bind), .iommufd = ifd,
		};

		fd[i] = vfio_dev_open(port[i]);
		ret = fd[i] < 0 ? 1100 : ufd_ioctl(fd[i], VFIO_DEVICE_BIND_IOMMUFD,
						   &bind) ? 1200 : 0;
	}
	if (!ret) {
		if (arm && fail_nth_arm(nth, arm))
			ret = 1300;
		else
			ret = ufd_ioctl(fd[0], VFIO_DEVICE_PCI_HOT_RESET, &r);
		if (arm)
			*hit = fail_nth_disarm(nth);
	}
	/* Both answer, whatever the reset did. */
	for (i = 0; i < 2 && ret <= 0; i++) {
		id = 0;
		if (pwrite(fd[i], &cmd, 2, CFG_OFF(PCI_COMMAND)) != 2 ||
		    pread(fd[i], &id, 4, SWEEP_BAR0) != 4 || id != 0x010000edU)
			ret = 1400 + i;
	}
	for (i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	close(ifd);
	return ret;
}

TEST_F_TIMEOUT(sweep, hot_reset, 900)
{
	char root[4][BDF_LEN], port[4][BDF_LEN];
	int nroot, nport, n, i, ret, hit;
	long before;

	ASSERT_EQ(0, pci_find_edus(root, &nroot, port, &nport));
	ASSERT_EQ(2, nport) TH_LOG("the two-function edu behind the root port");
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, pci_release(port[i]));
		EXPECT_EQ(0, pci_hold_enabled(port[i], true));
		ASSERT_EQ(0, pci_bind(port[i], VFIODEV_DRIVER));
	}
	before = pinned_pages();
	for (n = 1; n < FAIL_NTH_MAX; n++) {
		ret = hot_reset_pair(port, self->nth, n, &hit);
		ASSERT_LE(0, hit);
		EXPECT_TRUE(ret <= 0 && (!ret || clean_errno(-ret)))
			TH_LOG("hot reset, nth %d: %d", n, ret);
		if (!hit)
			break;
	}
	ASSERT_GT(FAIL_NTH_MAX, n);
	EXPECT_EQ(0, ret) TH_LOG("hot reset without a fault");
	TH_LOG("hot reset: swept %d injection points", n - 1);
	EXPECT_EQ(0, hot_reset_pair(port, self->nth, 0, &hit));
	EXPECT_EQ(before, pinned_pages());
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, pci_release(port[i]));
		EXPECT_EQ(0, pci_hold_enabled(port[i], false));
	}
}

TEST_HARNESS_MAIN
