// SPDX-License-Identifier: GPL-2.0
/*
 * The legacy VFIO interface beside the device cdev: /dev/vfio/vfio (the
 * container), /dev/vfio/<group> and the device files a group hands out,
 * replaying what QEMU 7.2 and DPDK do on that path (see CLIENTS.md), on a
 * QEMU edu (1234:11e8).
 *
 *  - path.*: one DMA test, run unchanged on a device file from the cdev
 *    (iommufd) and from the group (container): the edu's DMA engine
 *    through the IOMMU both ways, then a fault where nothing is mapped;
 *  - legacy.*: the container and group ioctls and their errors, the
 *    capability chain of VFIO_IOMMU_GET_INFO, VFIO_DMA_CC_IOMMU against the
 *    IOMMU's snoop control, type1 and type1v2 unmap, exclusivity of the
 *    two paths, closing in any order, /dev/iommu as the container with
 *    pins shared by both doors, and KVM's view of the files (through a
 *    test module that calls what kvm-vfio calls).
 *
 * VFIODEV_STACK=upstream runs it against the guest kernel's vfio.ko and
 * vfio_iommu_type1.ko (the reference); vfiodev's own parts are skipped.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "vfiodev_utils.h"
#include "kselftest_harness.h"
#include "edu_utils.h"
#include "pci_utils.h"

#define BUF_SIZE	(4 * MIB)
#define IOVA_A		0x1000000ULL
#define IOVA_B		0x2000000ULL
#define MSI_START	0xfee00000ULL
#define KVM_PROBE	"/sys/kernel/debug/vfiodev_kvm_test/probe"
#define GRP_VIABLE	((uint32_t)VFIO_GROUP_FLAGS_VIABLE)
#define GRP_SET		((uint32_t)VFIO_GROUP_FLAGS_CONTAINER_SET)

/* --- the legacy calls, returning 0 (or a value) or -errno --------------- */

/* An ioctl whose answer is its return value. */
static int vioctl(int fd, unsigned long req, unsigned long arg)
{
	int ret = ioctl(fd, req, arg);

	return ret < 0 ? -errno : ret;
}

static int group_status(int group, uint32_t *flags)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int ret = ufd_ioctl(group, VFIO_GROUP_GET_STATUS, &st);

	if (!ret)
		*flags = st.flags;
	return ret;
}

static int set_container(int group, int container)
{
	return ufd_ioctl(group, VFIO_GROUP_SET_CONTAINER, &container);
}

static int get_device_fd(int group, const char *name)
{
	int fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);

	return fd < 0 ? -errno : fd;
}

static int map_dma(int container, void *va, uint64_t len, uint64_t iova,
		   uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	return ufd_ioctl(container, VFIO_IOMMU_MAP_DMA, &map);
}

#define DMA_RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static int unmap_dma(int container, uint64_t iova, uint64_t len,
		     uint32_t flags, uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = len,
	};
	int ret = ufd_ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap);

	if (!ret && unmapped)
		*unmapped = unmap.size;
	return ret;
}

/* Pages pinned in the guest since the fixture was set up. */
static long pinned_base;

static long pinned_pages(void)
{
	long n = guest_pinned_pages();

	return n < 0 ? n : n - pinned_base;
}

static bool snoop_control(struct __test_metadata *_metadata, const char *bdf)
{
	char path[PATH_MAX], buf[64];

	snprintf(path, sizeof(path),
		 PCI_SYSFS "/devices/%s/iommu/intel-iommu/ecap", bdf);
	EXPECT_EQ(0, sysfs_read(path, buf, sizeof(buf))) TH_LOG("%s", path);
	return strtoull(buf, NULL, 16) & 0x80;
}

/*
 * The first edu (on the root bus, alone in its group), bound to this
 * stack's driver, and @buf: BUF_SIZE bytes of memory filled with @c.
 */
static void edu_setup(struct __test_metadata *_metadata, char *bdf,
		      char **buf, char c)
{
	char bdfs[4][BDF_LEN];

	*buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, *buf);
	memset(*buf, c, BUF_SIZE);
	ASSERT_LT(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, bdfs, 4));
	strcpy(bdf, bdfs[0]);
	edu_take(_metadata, bdf);
}

/* QEMU's legacy sequence up to the device file (CLIENTS.md). */
static int legacy_open(struct __test_metadata *_metadata, const char *bdf,
		       int *group, int *container, unsigned long type)
{
	uint32_t flags = 0;
	int fd;

	*container = vfio_container_open();
	EXPECT_LE(0, *container) TH_LOG("/dev/vfio/vfio: %s",
					strerror(-*container));
	EXPECT_EQ(VFIO_API_VERSION,
		  vioctl(*container, VFIO_GET_API_VERSION, 0));
	EXPECT_EQ(1, vioctl(*container, VFIO_CHECK_EXTENSION,
			    VFIO_TYPE1v2_IOMMU));
	*group = vfio_group_open(bdf);
	EXPECT_LE(0, *group) TH_LOG("group of %s: %s", bdf,
				    strerror(-*group));
	if (*container < 0 || *group < 0)
		return -1;
	EXPECT_EQ(0, group_status(*group, &flags));
	EXPECT_EQ(GRP_VIABLE, flags);
	EXPECT_EQ(0, set_container(*group, *container));
	EXPECT_EQ(0, vioctl(*container, VFIO_SET_IOMMU, type));
	fd = get_device_fd(*group, bdf);
	EXPECT_LE(0, fd) TH_LOG("VFIO_GROUP_GET_DEVICE_FD: %s",
				strerror(-fd));
	return fd;
}

/* --- one DMA test, both paths ------------------------------------------ */

FIXTURE(path) {
	char bdf[BDF_LEN];
	int devfd;
	int group;
	int container;		/* /dev/vfio/vfio, or /dev/iommu for the cdev */
	uint32_t ioas;
	char *buf;
	volatile uint8_t *bar;
};

FIXTURE_VARIANT(path) {
	bool legacy;
};

FIXTURE_VARIANT_ADD(path, cdev) {
	.legacy = false,
};

FIXTURE_VARIANT_ADD(path, group) {
	.legacy = true,
};

FIXTURE_SETUP(path)
{
	self->devfd = self->group = self->container = -1;
	edu_setup(_metadata, self->bdf, &self->buf, 0xaa);

	if (variant->legacy) {
		self->devfd = legacy_open(_metadata, self->bdf, &self->group,
					  &self->container, VFIO_TYPE1v2_IOMMU);
		ASSERT_LE(0, self->devfd);
		return;
	}
	if (access("/dev/iommu", F_OK))
		SKIP(return, "no /dev/iommu in this kernel");
	{
		struct vfio_device_attach_iommufd_pt attach = {
			.argsz = sizeof(attach),
		};

		self->container = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->container);
		self->devfd = vfio_dev_open_bound(self->bdf, self->container,
						  NULL);
		ASSERT_LE(0, self->devfd);
		ASSERT_EQ(0, ufd_ioas_alloc(self->container, &self->ioas));
		attach.pt_id = self->ioas;
		ASSERT_EQ(0, ufd_ioctl(self->devfd,
				       VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	}
}

FIXTURE_TEARDOWN(path)
{
	if (self->bar)
		munmap((void *)self->bar, EDU_BAR_LEN);
	if (self->devfd >= 0)
		close(self->devfd);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	EXPECT_EQ(0, pci_release(self->bdf));
}

static int path_map(FIXTURE_DATA(path) *self, const FIXTURE_VARIANT(path) *v,
		    uint64_t iova, uint64_t len)
{
	if (v->legacy)
		return map_dma(self->container, self->buf, len, iova, DMA_RW);
	return ufd_map_fixed(self->container, self->ioas, self->buf, len,
			     iova);
}

static int path_unmap(FIXTURE_DATA(path) *self,
		      const FIXTURE_VARIANT(path) *v, uint64_t iova,
		      uint64_t len)
{
	uint64_t unmapped = 0;
	int ret;

	if (v->legacy)
		ret = unmap_dma(self->container, iova, len, 0, &unmapped);
	else
		ret = ufd_unmap(self->container, self->ioas, iova, len,
				&unmapped);
	if (!ret && unmapped != len)
		ret = -ERANGE;
	return ret;
}

TEST_F_TIMEOUT(path, dma, 120)
{
	ASSERT_EQ(0, path_map(self, variant, IOVA_A, 4 * PAGE_SZ));
	self->bar = edu_bar(_metadata, self->bdf, self->devfd);
	edu_dma_roundtrip(_metadata, self->bar, self->buf, IOVA_A, 7);
	ASSERT_EQ(0, path_unmap(self, variant, IOVA_A, 4 * PAGE_SZ));
	/* Unmapped: the device's write faults and memory stays as it was. */
	memset(self->buf, 0x5c, 4 * PAGE_SZ);
	edu_dma_fault(_metadata, self->bar, self->bdf, IOVA_A + PAGE_SZ, true);
	EXPECT_TRUE(all_are(self->buf, 4 * PAGE_SZ, 0x5c));
}

/*
 * Past type1's dma_entry_limit: 65,537 one-page mappings on one device,
 * none refused with ENOSPC (the limit, 65,535, answered CVE-2019-3882's
 * unbounded kernel memory; here what a user pins is bounded by
 * RLIMIT_MEMLOCK instead, as in upstream's iommufd, see
 * Documentation/differences.rst).  The 65,535th and 65,536th carry DMA
 * (the edu keeps 28 bits of an address), and every pin goes when they are
 * unmapped.
 */
#define MANY_MAPS	65537

TEST_F_TIMEOUT(path, mappings_past_type1_limit, 900)
{
	const uint64_t dma_iova = (uint64_t)(MANY_MAPS - 3) * PAGE_SZ;
	long before = guest_pinned_pages();
	unsigned int i;
	int ret = 0;

	ASSERT_LE(0, before);
	for (i = 0; i < MANY_MAPS && !ret; i++) {
		/* Even ones map the buffer's first page, odd ones its second. */
		char *va = self->buf + (i % 2) * PAGE_SZ;

		if (variant->legacy)
			ret = map_dma(self->container, va, PAGE_SZ,
				      (uint64_t)i * PAGE_SZ, DMA_RW);
		else
			ret = ufd_map_fixed(self->container, self->ioas, va,
					    PAGE_SZ, (uint64_t)i * PAGE_SZ);
	}
	ASSERT_EQ(0, ret) TH_LOG("mapping %u: %s", i - 1, strerror(-ret));
	/* Both pages are pinned (once each: the engine shares their pins). */
	EXPECT_LE(before + 2, guest_pinned_pages());
	self->bar = edu_bar(_metadata, self->bdf, self->devfd);
	edu_dma_roundtrip(_metadata, self->bar, self->buf, dma_iova, 11);
	ASSERT_EQ(0, path_unmap(self, variant, 0,
				(uint64_t)MANY_MAPS * PAGE_SZ));
	EXPECT_EQ(before, guest_pinned_pages());
}

/* --- the legacy interface ---------------------------------------------- */

FIXTURE(legacy) {
	char bdf[BDF_LEN];
	int group;
	int container;
	int devfd;
	char *buf;
};

FIXTURE_SETUP(legacy)
{
	self->group = self->container = self->devfd = -1;
	edu_setup(_metadata, self->bdf, &self->buf, 0x33);
	pinned_base = guest_pinned_pages();
	ASSERT_LE(0, pinned_base) TH_LOG("%s", strerror(-pinned_base));
	self->container = vfio_container_open();
	ASSERT_LE(0, self->container);
	self->group = vfio_group_open(self->bdf);
	ASSERT_LE(0, self->group) TH_LOG("%s", strerror(-self->group));
}

FIXTURE_TEARDOWN(legacy)
{
	if (self->devfd >= 0)
		close(self->devfd);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	EXPECT_EQ(0, pci_release(self->bdf));
	if (!stack_is_upstream())
		EXPECT_EQ(0, pinned_pages());
}

/* Set container, type1v2, device file: what most tests start from. */
static void legacy_ready(struct __test_metadata *_metadata,
			 FIXTURE_DATA(legacy) *self, unsigned long type)
{
	ASSERT_EQ(0, set_container(self->group, self->container));
	ASSERT_EQ(0, vioctl(self->container, VFIO_SET_IOMMU, type));
	self->devfd = get_device_fd(self->group, self->bdf);
	ASSERT_LE(0, self->devfd) TH_LOG("%s", strerror(-self->devfd));
}

TEST_F(legacy, container_api)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

	EXPECT_EQ(VFIO_API_VERSION,
		  vioctl(self->container, VFIO_GET_API_VERSION, 0));
	EXPECT_EQ(1, vioctl(self->container, VFIO_CHECK_EXTENSION,
			    VFIO_TYPE1_IOMMU));
	EXPECT_EQ(1, vioctl(self->container, VFIO_CHECK_EXTENSION,
			    VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(1, vioctl(self->container, VFIO_CHECK_EXTENSION,
			    VFIO_UNMAP_ALL));
	EXPECT_EQ(0, vioctl(self->container, VFIO_CHECK_EXTENSION,
			    VFIO_SPAPR_TCE_IOMMU));
	EXPECT_EQ(0, vioctl(self->container, VFIO_CHECK_EXTENSION,
			    VFIO_NOIOMMU_IOMMU));
	EXPECT_EQ(0, vioctl(self->container, VFIO_CHECK_EXTENSION, 1000));
	/* Nothing in the container yet: no IOMMU, nothing to ask it. */
	EXPECT_EQ(0, vioctl(self->container, VFIO_CHECK_EXTENSION,
			    VFIO_DMA_CC_IOMMU));
	EXPECT_EQ(-EINVAL, vioctl(self->container, VFIO_SET_IOMMU,
				  VFIO_TYPE1v2_IOMMU));
	EXPECT_GT(0, ufd_ioctl(self->container, VFIO_IOMMU_GET_INFO, &info));
	EXPECT_GT(0, map_dma(self->container, self->buf, PAGE_SZ, IOVA_A,
			     DMA_RW));
	/* A group's ioctl on the container (type1 says EINVAL, we ENOTTY). */
	EXPECT_GT(0, vioctl(self->container, VFIO_GROUP_UNSET_CONTAINER, 0));
}

TEST_F(legacy, group_status_and_container)
{
	struct vfio_group_status st = { .argsz = 4 };
	uint32_t flags = 0;
	int other, null;

	EXPECT_EQ(-EINVAL, ufd_ioctl(self->group, VFIO_GROUP_GET_STATUS, &st));
	ASSERT_EQ(0, group_status(self->group, &flags));
	EXPECT_EQ(GRP_VIABLE, flags);

	/* Errors change nothing. */
	EXPECT_EQ(-EINVAL, vioctl(self->group, VFIO_GROUP_UNSET_CONTAINER, 0));
	EXPECT_EQ(-EINVAL, get_device_fd(self->group, self->bdf));
	EXPECT_EQ(-EBADF, set_container(self->group, -1));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	EXPECT_EQ(-EBADFD, set_container(self->group, null));
	close(null);
	ASSERT_EQ(0, group_status(self->group, &flags));
	EXPECT_EQ(GRP_VIABLE, flags);

	ASSERT_EQ(0, set_container(self->group, self->container));
	ASSERT_EQ(0, group_status(self->group, &flags));
	EXPECT_EQ(GRP_VIABLE | GRP_SET, flags);
	/* One container per group: not the same twice, not another. */
	EXPECT_EQ(-EINVAL, set_container(self->group, self->container));
	other = vfio_container_open();
	ASSERT_LE(0, other);
	EXPECT_EQ(-EINVAL, set_container(self->group, other));
	close(other);

	EXPECT_EQ(-ENODEV, vioctl(self->container, VFIO_SET_IOMMU,
				  VFIO_SPAPR_TCE_IOMMU));
	ASSERT_EQ(0, vioctl(self->container, VFIO_SET_IOMMU,
			    VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(-ENODEV, get_device_fd(self->group, "0000:ff:1f.7"));
	EXPECT_EQ(-ENODEV, get_device_fd(self->group, ""));
	self->devfd = get_device_fd(self->group, self->bdf);
	ASSERT_LE(0, self->devfd);
	/* The device is in use: the container stays. */
	EXPECT_EQ(-EBUSY, vioctl(self->group, VFIO_GROUP_UNSET_CONTAINER, 0));
	close(self->devfd);
	self->devfd = -1;
	EXPECT_EQ(0, vioctl(self->group, VFIO_GROUP_UNSET_CONTAINER, 0));
	ASSERT_EQ(0, group_status(self->group, &flags));
	EXPECT_EQ(GRP_VIABLE, flags);
	/* And back in. */
	ASSERT_EQ(0, set_container(self->group, self->container));
}

TEST_F(legacy, device_file)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info reg = {
		.argsz = sizeof(reg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	uint16_t vendor;
	int second;

	legacy_ready(_metadata, self, VFIO_TYPE1v2_IOMMU);
	ASSERT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(!!(info.flags & VFIO_DEVICE_FLAGS_PCI));
	EXPECT_LE((uint32_t)VFIO_PCI_CONFIG_REGION_INDEX + 1, info.num_regions);
	ASSERT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_REGION_INFO,
			       &reg));
	ASSERT_EQ(2, pread(self->devfd, &vendor, 2, reg.offset));
	EXPECT_EQ(EDU_VENDOR, vendor);
	/* The cdev's own ioctls are not a group device file's. */
	EXPECT_NE(0, ufd_ioctl(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
			       &attach));
	/* A second file of the same device, as upstream allows here. */
	second = get_device_fd(self->group, self->bdf);
	ASSERT_LE(0, second);
	ASSERT_EQ(2, pread(second, &vendor, 2, reg.offset));
	EXPECT_EQ(EDU_VENDOR, vendor);
	close(second);
	ASSERT_EQ(2, pread(self->devfd, &vendor, 2, reg.offset));
	EXPECT_EQ(EDU_VENDOR, vendor);
}

/* Walks the capability chain of VFIO_IOMMU_GET_INFO. */
static struct vfio_info_cap_header *info_cap(void *info, uint16_t id)
{
	struct vfio_iommu_type1_info *hdr = info;
	uint32_t off = hdr->cap_offset;
	int guard = 0;

	while (off && guard++ < 16) {
		struct vfio_info_cap_header *cap = info + off;

		if (cap->id == id)
			return cap;
		off = cap->next;
	}
	return NULL;
}

TEST_F(legacy, get_info)
{
	struct vfio_iommu_type1_info small = { .argsz = sizeof(small) };
	struct vfio_iommu_type1_info_cap_iova_range *ranges;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info *info;
	bool msi_excluded = false;
	uint32_t i;

	legacy_ready(_metadata, self, VFIO_TYPE1v2_IOMMU);
	small.argsz = 8;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->container, VFIO_IOMMU_GET_INFO,
				     &small));
	/* Room for the original fields only: nothing written past them. */
	{
		struct {
			struct vfio_iommu_type1_info info;
			uint8_t guard[16];
		} v1;

		memset(&v1, 0x5a, sizeof(v1));
		v1.info.argsz = offsetofend(struct vfio_iommu_type1_info,
					    iova_pgsizes);
		ASSERT_EQ(0, ufd_ioctl(self->container, VFIO_IOMMU_GET_INFO,
				       &v1));
		EXPECT_TRUE(all_are((char *)&v1.info.cap_offset,
				    sizeof(v1) - offsetof(typeof(v1.info),
							  cap_offset), 0x5a));
		EXPECT_TRUE(!!(v1.info.flags & VFIO_IOMMU_INFO_PGSIZES));
	}
	/* QEMU first asks with room for the header only. */
	small.argsz = sizeof(small);
	ASSERT_EQ(0, ufd_ioctl(self->container, VFIO_IOMMU_GET_INFO, &small));
	EXPECT_TRUE(!!(small.flags & VFIO_IOMMU_INFO_PGSIZES));
	EXPECT_TRUE(!!(small.flags & VFIO_IOMMU_INFO_CAPS));
	EXPECT_EQ(0U, small.cap_offset);
	EXPECT_LT(sizeof(small), small.argsz);
	EXPECT_TRUE(!!(small.iova_pgsizes & PAGE_SZ));
	EXPECT_EQ(0ULL, small.iova_pgsizes & (PAGE_SZ - 1));

	info = calloc(1, small.argsz);
	ASSERT_NE(NULL, info);
	info->argsz = small.argsz;
	ASSERT_EQ(0, ufd_ioctl(self->container, VFIO_IOMMU_GET_INFO, info));
	EXPECT_EQ(sizeof(*info), info->cap_offset);
	ranges = (void *)info_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	ASSERT_NE(NULL, ranges);
	EXPECT_EQ(1U, ranges->header.version);
	ASSERT_LT(0U, ranges->nr_iovas);
	for (i = 0; i < ranges->nr_iovas; i++) {
		EXPECT_LE(ranges->iova_ranges[i].start,
			  ranges->iova_ranges[i].end);
		if (i)
			EXPECT_LT(ranges->iova_ranges[i - 1].end,
				  ranges->iova_ranges[i].start);
		if (ranges->iova_ranges[i].end == MSI_START - 1)
			msi_excluded = true;
	}
	/* The device's MSI window is reserved: a hole in the ranges. */
	EXPECT_TRUE(msi_excluded);
	avail = (void *)info_cap(info, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	ASSERT_NE(NULL, avail);
	EXPECT_LT(0U, avail->avail);
	/* No cap on mappings: upstream iommufd compat's answer, not type1's. */
	if (!stack_is_upstream())
		EXPECT_EQ(UINT32_MAX, avail->avail);
	free(info);
}

/* VFIO_IOMMU_GET_INFO with room for the whole chain; free() it. */
static struct vfio_iommu_type1_info *get_info_all(int container)
{
	struct vfio_iommu_type1_info small = { .argsz = sizeof(small) };
	struct vfio_iommu_type1_info *info;

	if (ufd_ioctl(container, VFIO_IOMMU_GET_INFO, &small))
		return NULL;
	info = calloc(1, small.argsz);
	if (!info)
		return NULL;
	info->argsz = small.argsz;
	if (ufd_ioctl(container, VFIO_IOMMU_GET_INFO, info)) {
		free(info);
		return NULL;
	}
	return info;
}

/*
 * Type1 attaches the container's groups at VFIO_SET_IOMMU, before any
 * device is opened: nothing DMA-related works before it, and right after
 * it VFIO_IOMMU_GET_INFO reports what the IOMMU translates (its aperture,
 * the MSI window cut out) and a map outside that is refused.  Ours on
 * /dev/vfio/vfio does the same; /dev/iommu as a container attaches at
 * device open, as upstream's iommufd compat does (legacy.rst).
 */
TEST_F(legacy, attached_at_set_iommu)
{
	struct vfio_iommu_type1_info small = { .argsz = sizeof(small) };
	struct vfio_iommu_type1_info_cap_iova_range *ranges;
	uint64_t last = iommu_aperture_last();
	struct vfio_iommu_type1_info *info;
	bool msi_excluded = false;
	uint32_t i, n;

	ASSERT_NE(0ULL, last) TH_LOG("no VT-d capability register in sysfs");
	ASSERT_EQ(0, set_container(self->group, self->container));
	/* No IOMMU set yet: no info, no maps, no device. */
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->container, VFIO_IOMMU_GET_INFO,
				     &small));
	EXPECT_EQ(-EINVAL, map_dma(self->container, self->buf, PAGE_SZ,
				   IOVA_A, DMA_RW));
	EXPECT_EQ(-EINVAL, get_device_fd(self->group, self->bdf));

	ASSERT_EQ(0, vioctl(self->container, VFIO_SET_IOMMU,
			    VFIO_TYPE1v2_IOMMU));
	/* Once: no unset but by emptying the container. */
	EXPECT_EQ(-EINVAL, vioctl(self->container, VFIO_SET_IOMMU,
				  VFIO_TYPE1v2_IOMMU));
	info = get_info_all(self->container);
	ASSERT_NE(NULL, info);
	ranges = (void *)info_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	ASSERT_NE(NULL, ranges);
	n = ranges->nr_iovas;
	ASSERT_LT(0U, n);
	for (i = 0; i < n; i++)
		if (ranges->iova_ranges[i].end == MSI_START - 1)
			msi_excluded = true;
	EXPECT_TRUE(msi_excluded);
	EXPECT_EQ(last, ranges->iova_ranges[n - 1].end)
		TH_LOG("ranges end at %#llx, the IOMMU translates up to %#llx",
		       (unsigned long long)ranges->iova_ranges[n - 1].end,
		       (unsigned long long)last);
	free(info);

	/* Beyond the aperture, in the MSI window: refused, nothing pinned. */
	EXPECT_EQ(-EINVAL, map_dma(self->container, self->buf, PAGE_SZ,
				   last + 1, DMA_RW));
	EXPECT_EQ(-EINVAL, map_dma(self->container, self->buf, PAGE_SZ,
				   MSI_START, DMA_RW));
	if (!stack_is_upstream())
		EXPECT_EQ(0, pinned_pages());
	ASSERT_EQ(0, map_dma(self->container, self->buf, PAGE_SZ, IOVA_A,
			     DMA_RW));
	self->devfd = get_device_fd(self->group, self->bdf);
	ASSERT_LE(0, self->devfd) TH_LOG("%s", strerror(-self->devfd));
	close(self->devfd);
	self->devfd = -1;
	/* The group stays attached with no device open: the map stays. */
	EXPECT_EQ(0, unmap_dma(self->container, IOVA_A, PAGE_SZ, 0, NULL));

	/* Emptied, the container is back to no IOMMU, and can be set again. */
	ASSERT_EQ(0, vioctl(self->group, VFIO_GROUP_UNSET_CONTAINER, 0));
	ASSERT_EQ(0, set_container(self->group, self->container));
	EXPECT_EQ(-EINVAL, map_dma(self->container, self->buf, PAGE_SZ,
				   IOVA_A, DMA_RW));
	EXPECT_EQ(0, vioctl(self->container, VFIO_SET_IOMMU,
			    VFIO_TYPE1v2_IOMMU));
}

/* VFIO_IOMMU_DIRTY_PAGES with one flag and no data. */
static int dirty_pages(int container, uint32_t flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = {
		.argsz = sizeof(d),
		.flags = flags,
	};

	return ufd_ioctl(container, VFIO_IOMMU_DIRTY_PAGES, &d);
}

/* VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP of [iova, iova + size). */
static int dirty_bitmap(int container, uint64_t iova, uint64_t size,
			uint64_t pgsize, uint64_t *bits, uint64_t bytes)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap d;
		struct vfio_iommu_type1_dirty_bitmap_get get;
	} q = {
		.d.argsz = sizeof(q),
		.d.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
		.get.iova = iova,
		.get.size = size,
		.get.bitmap.pgsize = pgsize,
		.get.bitmap.size = bytes,
		.get.bitmap.data = (void *)bits,
	};

	return ufd_ioctl(container, VFIO_IOMMU_DIRTY_PAGES, &q);
}

/* VFIO_IOMMU_UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | @flags. */
static int unmap_dirty(int container, uint64_t iova, uint64_t size,
		       uint32_t flags, uint64_t *bits, uint64_t *unmapped)
{
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} q = {
		.u.argsz = sizeof(q),
		.u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | flags,
		.u.iova = iova,
		.u.size = size,
		.b.pgsize = PAGE_SZ,
		.b.size = sizeof(uint64_t),
		.b.data = (void *)bits,
	};
	int ret = ufd_ioctl(container, VFIO_IOMMU_UNMAP_DMA, &q);

	if (!ret && unmapped)
		*unmapped = q.u.size;
	return ret;
}

/*
 * Type1's dirty tracking, which QEMU's legacy path migrates a device
 * with: the migration capability, START and STOP, and every mapped page
 * dirty (type1 reports what it pinned, and a device behind the IOMMU has
 * everything mapped pinned), in GET_BITMAP and in an unmap's bitmap.
 * Mappings at pages 1-3 and 70-71 of a 128-page window, and 200-202.
 *
 * Type1 reports a mapping that does not start on a u64 of the bitmap
 * right the first time only: later reports carry bits of earlier ones
 * (its per-mapping bitmap keeps them shifted), so upstream is compared
 * on first reports only (differences.rst).
 */
TEST_F(legacy, dirty_pages)
{
	const uint64_t base = IOVA_A, win = 128 * PAGE_SZ;
	const uint64_t max_bytes = ((uint64_t)INT32_MAX + 63) / 64 * 8;
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_iommu_type1_info *info;
	uint64_t bits[2], unmapped;

	legacy_ready(_metadata, self, VFIO_TYPE1v2_IOMMU);
	info = get_info_all(self->container);
	ASSERT_NE(NULL, info);
	mig = (void *)info_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
	ASSERT_NE(NULL, mig);
	EXPECT_EQ(1U, mig->header.version);
	EXPECT_EQ(0U, mig->flags);
	EXPECT_EQ(PAGE_SZ, mig->pgsize_bitmap);
	EXPECT_EQ(max_bytes, mig->max_dirty_bitmap_size);
	free(info);

	ASSERT_EQ(0, map_dma(self->container, self->buf, 3 * PAGE_SZ,
			     base + PAGE_SZ, DMA_RW));
	ASSERT_EQ(0, map_dma(self->container, self->buf + 4 * PAGE_SZ,
			     2 * PAGE_SZ, base + 70 * PAGE_SZ, DMA_RW));
	ASSERT_EQ(0, map_dma(self->container, self->buf + 8 * PAGE_SZ,
			     3 * PAGE_SZ, base + 200 * PAGE_SZ, DMA_RW));

	/* Refused: no flag, two flags, no tracking yet. */
	EXPECT_EQ(-EINVAL, dirty_pages(self->container, 0));
	EXPECT_EQ(-EINVAL, dirty_pages(self->container,
				       VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
				       VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	EXPECT_EQ(-EINVAL, dirty_bitmap(self->container, base, win, PAGE_SZ,
					bits, sizeof(bits)));
	EXPECT_EQ(-EINVAL, unmap_dirty(self->container, base + PAGE_SZ,
				       3 * PAGE_SZ, 0, bits, NULL));

	EXPECT_EQ(0, dirty_pages(self->container,
				 VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	EXPECT_EQ(0, dirty_pages(self->container,
				 VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	bits[0] = bits[1] = 0;
	ASSERT_EQ(0, dirty_bitmap(self->container, base, win, PAGE_SZ, bits,
				  sizeof(bits)));
	EXPECT_EQ(0xeULL, bits[0]);
	EXPECT_EQ(0xc0ULL, bits[1]);
	if (!stack_is_upstream()) {
		/* Again, over the caller's own bits: set, theirs kept. */
		bits[0] = bits[1] = 0xa5a5a5a5a5a5a5a5ULL;
		ASSERT_EQ(0, dirty_bitmap(self->container, base, win, PAGE_SZ,
					  bits, sizeof(bits)));
		EXPECT_EQ(0xa5a5a5a5a5a5a5afULL, bits[0]);
		EXPECT_EQ(0xa5a5a5a5a5a5a5e5ULL, bits[1]);
		bits[0] = bits[1] = 0;
		ASSERT_EQ(0, dirty_bitmap(self->container, base, win, PAGE_SZ,
					  bits, sizeof(bits)));
		EXPECT_EQ(0xeULL, bits[0]);
		EXPECT_EQ(0xc0ULL, bits[1]);
	}
	/* A range cutting a mapping, another page size, too small, unaligned. */
	EXPECT_EQ(-EINVAL, dirty_bitmap(self->container, base + 2 * PAGE_SZ,
					win - 2 * PAGE_SZ, PAGE_SZ, bits,
					sizeof(bits)));
	EXPECT_EQ(-EINVAL, dirty_bitmap(self->container, base, win,
					2 * PAGE_SZ, bits, sizeof(bits)));
	EXPECT_EQ(-EINVAL, dirty_bitmap(self->container, base, win, PAGE_SZ,
					bits, sizeof(bits[0])));
	EXPECT_EQ(-EINVAL, dirty_bitmap(self->container, base + 8, win,
					PAGE_SZ, bits, sizeof(bits)));

	/* An unmap reports what it takes, from its own IOVA. */
	EXPECT_EQ(-EINVAL, unmap_dirty(self->container, 0, 0,
				       VFIO_DMA_UNMAP_FLAG_ALL, bits, NULL));
	bits[0] = 0;
	ASSERT_EQ(0, unmap_dirty(self->container, base + 200 * PAGE_SZ,
				 3 * PAGE_SZ, 0, bits, &unmapped));
	EXPECT_EQ(3 * PAGE_SZ, unmapped);
	EXPECT_EQ(0x7ULL, bits[0]);

	EXPECT_EQ(0, dirty_pages(self->container,
				 VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	EXPECT_EQ(0, dirty_pages(self->container,
				 VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	EXPECT_EQ(-EINVAL, dirty_bitmap(self->container, base, win, PAGE_SZ,
					bits, sizeof(bits)));
	/* Not tracking: refused, and nothing unmapped. */
	EXPECT_EQ(-EINVAL, unmap_dirty(self->container, base + 70 * PAGE_SZ,
				       2 * PAGE_SZ, 0, bits, NULL));
	EXPECT_EQ(0, unmap_dma(self->container, base + 70 * PAGE_SZ,
			       2 * PAGE_SZ, 0, &unmapped));
	EXPECT_EQ(2 * PAGE_SZ, unmapped);
	EXPECT_EQ(0, unmap_dma(self->container, base + PAGE_SZ, 3 * PAGE_SZ,
			       0, &unmapped));
	EXPECT_EQ(3 * PAGE_SZ, unmapped);
}

/* Type1 (v1) has no dirty tracking: EACCES. */
TEST_F(legacy, dirty_pages_v1)
{
	legacy_ready(_metadata, self, VFIO_TYPE1_IOMMU);
	EXPECT_EQ(-EACCES, dirty_pages(self->container,
				       VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
}

TEST_F(legacy, map_unmap_v2)
{
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	uint64_t unmapped = 0;
	char *buf = self->buf;

	legacy_ready(_metadata, self, VFIO_TYPE1v2_IOMMU);
	/* Refused input changes nothing. */
	EXPECT_EQ(-EINVAL, map_dma(self->container, buf, PAGE_SZ, IOVA_A, 0));
	EXPECT_EQ(-EINVAL, map_dma(self->container, buf, PAGE_SZ, IOVA_A,
				   DMA_RW | VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(-EINVAL, map_dma(self->container, buf + 8, PAGE_SZ, IOVA_A,
				   DMA_RW));
	EXPECT_EQ(-EINVAL, map_dma(self->container, buf, 0, IOVA_A, DMA_RW));
	EXPECT_EQ(-EINVAL, map_dma(self->container, buf, 100, IOVA_A,
				   DMA_RW));
	EXPECT_EQ(-EINVAL, map_dma(self->container, buf, PAGE_SZ, IOVA_A + 8,
				   DMA_RW));
	/* A range past the end of the IOVA space: type1's EINVAL. */
	EXPECT_EQ(-EINVAL, map_dma(self->container, buf, 2 * PAGE_SZ,
				   -PAGE_SZ, DMA_RW));
	EXPECT_EQ(-EINVAL, unmap_dma(self->container, -PAGE_SZ, 2 * PAGE_SZ,
				     0, NULL));
	EXPECT_EQ(0, unmap_dma(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
			       &unmapped));
	EXPECT_EQ(0ULL, unmapped);

	ASSERT_EQ(0, map_dma(self->container, buf, 4 * PAGE_SZ, IOVA_A,
			     DMA_RW));
	EXPECT_EQ(-EEXIST, map_dma(self->container, buf, PAGE_SZ,
				   IOVA_A + PAGE_SZ, DMA_RW));
	/* Type1v2 does not split a mapping. */
	EXPECT_EQ(-EINVAL, unmap_dma(self->container, IOVA_A + PAGE_SZ,
				     PAGE_SZ, 0, NULL));
	/* Nothing there: success, nothing unmapped. */
	EXPECT_EQ(0, unmap_dma(self->container, IOVA_B, PAGE_SZ, 0,
			       &unmapped));
	EXPECT_EQ(0ULL, unmapped);
	EXPECT_EQ(-EINVAL, unmap_dma(self->container, IOVA_A, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, unmap_dma(self->container, IOVA_A + 8, PAGE_SZ, 0,
				     NULL));
	EXPECT_EQ(-EINVAL, unmap_dma(self->container, IOVA_A, 4 * PAGE_SZ,
				     VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	/* No dirty tracking here: refused cleanly, the mapping stays. */
	if (!stack_is_upstream())
		EXPECT_EQ(-EINVAL,
			  unmap_dma(self->container, IOVA_A, 4 * PAGE_SZ,
				    VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
				    NULL));
	unmap.argsz = 8;
	unmap.iova = IOVA_A;
	unmap.size = 4 * PAGE_SZ;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->container, VFIO_IOMMU_UNMAP_DMA,
				     &unmap));
	EXPECT_EQ(-EEXIST, map_dma(self->container, buf, PAGE_SZ, IOVA_A,
				   DMA_RW));

	ASSERT_EQ(0, map_dma(self->container, buf + 4 * PAGE_SZ, PAGE_SZ,
			     IOVA_B, VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(0, unmap_dma(self->container, IOVA_A, 4 * PAGE_SZ, 0,
			       &unmapped));
	EXPECT_EQ(4 * PAGE_SZ, unmapped);
	EXPECT_EQ(0, unmap_dma(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
			       &unmapped));
	EXPECT_EQ(PAGE_SZ, unmapped);
	if (!stack_is_upstream())
		EXPECT_EQ(0, pinned_pages());
}

/*
 * Type1 (not v2): an unmap takes the mappings that start in its range,
 * whole, and nothing at all if it starts inside one.
 */
TEST_F(legacy, map_unmap_v1)
{
	uint64_t unmapped = 1;

	legacy_ready(_metadata, self, VFIO_TYPE1_IOMMU);
	ASSERT_EQ(0, map_dma(self->container, self->buf, 4 * PAGE_SZ, IOVA_A,
			     DMA_RW));
	ASSERT_EQ(0, map_dma(self->container, self->buf + 4 * PAGE_SZ,
			     PAGE_SZ, IOVA_A + 8 * PAGE_SZ, DMA_RW));
	EXPECT_EQ(0, unmap_dma(self->container, IOVA_A + PAGE_SZ, PAGE_SZ, 0,
			       &unmapped));
	EXPECT_EQ(0ULL, unmapped);
	/* Not even the mapping that starts inside the range. */
	EXPECT_EQ(0, unmap_dma(self->container, IOVA_A + PAGE_SZ,
			       16 * PAGE_SZ, 0, &unmapped));
	EXPECT_EQ(0ULL, unmapped);
	EXPECT_EQ(-EEXIST, map_dma(self->container, self->buf, PAGE_SZ,
				   IOVA_A + 8 * PAGE_SZ, DMA_RW));
	EXPECT_EQ(0, unmap_dma(self->container, IOVA_A + 8 * PAGE_SZ, PAGE_SZ,
			       0, &unmapped));
	EXPECT_EQ(PAGE_SZ, unmapped);
	EXPECT_EQ(-EEXIST, map_dma(self->container, self->buf, PAGE_SZ,
				   IOVA_A + PAGE_SZ, DMA_RW));
	EXPECT_EQ(0, unmap_dma(self->container, IOVA_A, PAGE_SZ, 0,
			       &unmapped));
	EXPECT_EQ(4 * PAGE_SZ, unmapped);
	ASSERT_EQ(0, map_dma(self->container, self->buf, 4 * PAGE_SZ, IOVA_A,
			     DMA_RW));
	EXPECT_EQ(0, unmap_dma(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
			       &unmapped));
	EXPECT_EQ(4 * PAGE_SZ, unmapped);
}

/* The root-bus edu after the fixture's, taken for this stack, in @bdf. */
static void second_edu(struct __test_metadata *_metadata, const char *first,
		       char *bdf)
{
	char root[8][BDF_LEN], port[8][BDF_LEN];
	int nroot, nport;

	ASSERT_EQ(0, pci_find_edus(root, &nroot, port, &nport));
	ASSERT_LE(2, nroot) TH_LOG("the guest has two edus on the root bus");
	strcpy(bdf, strcmp(root[0], first) ? root[0] : root[1]);
	edu_take(_metadata, bdf);
}

/*
 * VFIO_UPDATE_VADDR, QEMU's cpr on the legacy path: mappings lose their
 * user address and keep their pages and IOVAs, the device's DMA goes on,
 * the memory comes back at another address (a memfd mapped again) and the
 * mapping gets it; no group joins meanwhile.
 */
TEST_F_TIMEOUT(legacy, update_vaddr, 120)
{
	const uint64_t len = 4 * PAGE_SZ;
	uint64_t unmapped = 0;
	volatile uint8_t *bar;
	char other[BDF_LEN];
	char *mem, *moved;
	int memfd, group2;

	/* Type1 has it once set: the container asks no driver before. */
	EXPECT_EQ(0, vioctl(self->container, VFIO_CHECK_EXTENSION,
			    VFIO_UPDATE_VADDR));
	legacy_ready(_metadata, self, VFIO_TYPE1v2_IOMMU);
	EXPECT_EQ(1, vioctl(self->container, VFIO_CHECK_EXTENSION,
			    VFIO_UPDATE_VADDR));
	memfd = memfd_create("vfiodev-vaddr", MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, len));
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, map_dma(self->container, mem, len, IOVA_A, DMA_RW));
	ASSERT_EQ(0, map_dma(self->container, self->buf, PAGE_SZ, IOVA_B,
			     DMA_RW));

	/* A new address only for a mapping that waits for one. */
	EXPECT_EQ(-EINVAL, map_dma(self->container, mem, len, IOVA_A,
				   VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(-ENOENT, map_dma(self->container, mem, len,
				   IOVA_B + 16 * PAGE_SZ,
				   VFIO_DMA_MAP_FLAG_VADDR));
	/* Not with the dirty bitmap; type1v2 cuts no mapping. */
	EXPECT_EQ(-EINVAL, unmap_dma(self->container, IOVA_A, len,
				     VFIO_DMA_UNMAP_FLAG_VADDR |
				     VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
				     NULL));
	EXPECT_EQ(-EINVAL, unmap_dma(self->container, IOVA_A + PAGE_SZ,
				     PAGE_SZ, VFIO_DMA_UNMAP_FLAG_VADDR, NULL));
	ASSERT_EQ(0, unmap_dma(self->container, IOVA_A, len,
			       VFIO_DMA_UNMAP_FLAG_VADDR, &unmapped));
	EXPECT_EQ(len, unmapped);

	/* Still pinned and mapped: the device's DMA goes on. */
	if (!stack_is_upstream())
		EXPECT_EQ(5, pinned_pages());
	bar = edu_bar(_metadata, self->bdf, self->devfd);
	edu_dma_roundtrip(_metadata, bar, mem, IOVA_A, 3);
	/* All or nothing: IOVA_B keeps its address. */
	EXPECT_EQ(-EINVAL, unmap_dma(self->container, IOVA_A,
				     IOVA_B + PAGE_SZ - IOVA_A,
				     VFIO_DMA_UNMAP_FLAG_VADDR, NULL));
	EXPECT_EQ(-EINVAL, map_dma(self->container, self->buf, PAGE_SZ,
				   IOVA_B, VFIO_DMA_MAP_FLAG_VADDR));
	/* The range stays taken; the new address must name it exactly. */
	EXPECT_EQ(-EEXIST, map_dma(self->container, mem, PAGE_SZ, IOVA_A,
				   DMA_RW));
	EXPECT_EQ(-EINVAL, map_dma(self->container, mem, PAGE_SZ, IOVA_A,
				   VFIO_DMA_MAP_FLAG_VADDR));

	/* While a mapping waits, no group joins the container. */
	second_edu(_metadata, self->bdf, other);
	group2 = vfio_group_open(other);
	ASSERT_LE(0, group2) TH_LOG("group of %s: %s", other,
				    strerror(-group2));
	EXPECT_EQ(-EBUSY, set_container(group2, self->container));

	/* The memory moves: the same pages at another address. */
	ASSERT_EQ(0, munmap(mem, len));
	moved = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, moved);
	EXPECT_EQ(0, map_dma(self->container, moved, len, IOVA_A,
			     VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(-EINVAL, map_dma(self->container, moved, len, IOVA_A,
				   VFIO_DMA_MAP_FLAG_VADDR));
	edu_dma_roundtrip(_metadata, bar, moved, IOVA_A, 5);
	if (!stack_is_upstream())
		EXPECT_EQ(5, pinned_pages());
	EXPECT_EQ(0, set_container(group2, self->container));
	EXPECT_EQ(0, ufd_ioctl(group2, VFIO_GROUP_UNSET_CONTAINER, NULL));

	/* Every mapping at once; one that waits unmaps as any other. */
	EXPECT_EQ(0, unmap_dma(self->container, 0, 0,
			       VFIO_DMA_UNMAP_FLAG_ALL |
			       VFIO_DMA_UNMAP_FLAG_VADDR, &unmapped));
	EXPECT_EQ(len + PAGE_SZ, unmapped);
	EXPECT_EQ(-EBUSY, set_container(group2, self->container));
	EXPECT_EQ(0, unmap_dma(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
			       &unmapped));
	EXPECT_EQ(len + PAGE_SZ, unmapped);
	EXPECT_EQ(0, set_container(group2, self->container));
	if (!stack_is_upstream())
		EXPECT_EQ(0, pinned_pages());

	munmap((void *)bar, EDU_BAR_LEN);
	munmap(moved, len);
	close(memfd);
	close(group2);
	EXPECT_EQ(0, pci_release(other));
}

/*
 * VFIO_UPDATE_VADDR from another process, as QEMU's successor gives the
 * addresses: the charge for the pinned pages moves there, as type1 moves
 * it (mm->locked_vm, VmLck; ours is in VmPin, see pages.c).
 */
TEST_F(legacy, update_vaddr_other_process)
{
	const char *field = stack_is_upstream() ? "VmLck" : "VmPin";
	const uint64_t len = 4 * PAGE_SZ;
	long before, child[2] = { -1, -1 };
	uint64_t unmapped = 0;
	int pipefd[2], status;
	pid_t pid;

	legacy_ready(_metadata, self, VFIO_TYPE1v2_IOMMU);
	before = proc_status_kb(field);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, map_dma(self->container, self->buf, len, IOVA_A, DMA_RW));
	EXPECT_EQ(before + (long)(len / 1024), proc_status_kb(field));
	ASSERT_EQ(0, unmap_dma(self->container, IOVA_A, len,
			       VFIO_DMA_UNMAP_FLAG_VADDR, &unmapped));
	EXPECT_EQ(len, unmapped);

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		child[0] = map_dma(self->container, self->buf, len, IOVA_A,
				   VFIO_DMA_MAP_FLAG_VADDR);
		child[1] = proc_status_kb(field);
		_exit(write(pipefd[1], child, sizeof(child)) != sizeof(child));
	}
	close(pipefd[1]);
	EXPECT_EQ((ssize_t)sizeof(child), read(pipefd[0], child,
					       sizeof(child)));
	close(pipefd[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, child[0]) TH_LOG("%s", strerror(-child[0]));
	/* The child was charged, this process no more. */
	EXPECT_EQ((long)(len / 1024), child[1]);
	EXPECT_EQ(before, proc_status_kb(field));

	/* Given back where it was taken, the child gone: nothing is left. */
	EXPECT_EQ(0, unmap_dma(self->container, IOVA_A, len, 0, &unmapped));
	EXPECT_EQ(len, unmapped);
	EXPECT_EQ(before, proc_status_kb(field));
	if (!stack_is_upstream())
		EXPECT_EQ(0, pinned_pages());
}

/* Type1 (not v2) takes what starts in the range for a new address too. */
TEST_F(legacy, update_vaddr_v1)
{
	uint64_t unmapped = 1;

	legacy_ready(_metadata, self, VFIO_TYPE1_IOMMU);
	ASSERT_EQ(0, map_dma(self->container, self->buf, 4 * PAGE_SZ, IOVA_A,
			     DMA_RW));
	ASSERT_EQ(0, map_dma(self->container, self->buf + 4 * PAGE_SZ,
			     PAGE_SZ, IOVA_B, DMA_RW));
	/* Starting inside a mapping: nothing, not even the one after. */
	EXPECT_EQ(0, unmap_dma(self->container, IOVA_A + PAGE_SZ,
			       IOVA_B + PAGE_SZ - IOVA_A - PAGE_SZ,
			       VFIO_DMA_UNMAP_FLAG_VADDR, &unmapped));
	EXPECT_EQ(0ULL, unmapped);
	EXPECT_EQ(-EINVAL, map_dma(self->container, self->buf + 4 * PAGE_SZ,
				   PAGE_SZ, IOVA_B, VFIO_DMA_MAP_FLAG_VADDR));
	/* Starting at one: all of it, past the end of the range. */
	EXPECT_EQ(0, unmap_dma(self->container, IOVA_A, PAGE_SZ,
			       VFIO_DMA_UNMAP_FLAG_VADDR, &unmapped));
	EXPECT_EQ(4 * PAGE_SZ, unmapped);
	EXPECT_EQ(0, map_dma(self->container, self->buf, 4 * PAGE_SZ, IOVA_A,
			     VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(0, unmap_dma(self->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
			       &unmapped));
	EXPECT_EQ(5 * PAGE_SZ, unmapped);
}

/* VFIO_DMA_CC_IOMMU follows the IOMMU's snoop control. */
TEST_F(legacy, dma_cc_iommu)
{
	bool sc = snoop_control(_metadata, self->bdf);

	legacy_ready(_metadata, self, VFIO_TYPE1v2_IOMMU);
	EXPECT_EQ(sc ? 1 : 0, vioctl(self->container, VFIO_CHECK_EXTENSION,
				     VFIO_DMA_CC_IOMMU));
	close(self->devfd);
	self->devfd = -1;
	/* The group still is in the container. */
	EXPECT_EQ(sc ? 1 : 0, vioctl(self->container, VFIO_CHECK_EXTENSION,
				     VFIO_DMA_CC_IOMMU));
}

/*
 * An open group and a bound device cdev exclude each other, as upstream:
 * the cdev opens, but its bind fails while the group is open, and the group
 * does not open while the cdev is bound.
 */
TEST_F(legacy, exclusive_with_cdev)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	int cdev, again, iommufd;
	uint32_t flags = 0;

	if (access("/dev/vfio/devices", F_OK) || access("/dev/iommu", F_OK))
		SKIP(return, "no device cdev in this kernel");
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, iommufd);
	bind.iommufd = iommufd;
	/* The group is open (fixture): no second open, no bound cdev. */
	again = vfio_group_open(self->bdf);
	EXPECT_EQ(-EBUSY, again);
	if (again >= 0)
		close(again);
	cdev = vfio_dev_open(self->bdf);
	ASSERT_LE(0, cdev);
	EXPECT_EQ(-EBUSY, ufd_ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	close(cdev);

	close(self->group);
	self->group = -1;
	cdev = vfio_dev_open(self->bdf);
	ASSERT_LE(0, cdev);
	/* Open but not bound: the group may open. */
	self->group = vfio_group_open(self->bdf);
	ASSERT_LE(0, self->group);
	close(self->group);
	self->group = -1;
	ASSERT_EQ(0, ufd_ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_EQ(-EBUSY, vfio_group_open(self->bdf));
	close(cdev);
	close(iommufd);
	/* Unbound again: the group opens, viable. */
	self->group = vfio_group_open(self->bdf);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, group_status(self->group, &flags));
	EXPECT_EQ(GRP_VIABLE, flags);
}

/* Closing in any order releases everything; the device works meanwhile. */
TEST_F(legacy, close_order)
{
	struct vfio_region_info reg = {
		.argsz = sizeof(reg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	uint16_t vendor;
	volatile uint8_t *bar;

	legacy_ready(_metadata, self, VFIO_TYPE1v2_IOMMU);
	ASSERT_EQ(0, map_dma(self->container, self->buf, 4 * PAGE_SZ, IOVA_A,
			     DMA_RW));
	if (!stack_is_upstream())
		EXPECT_EQ(4, pinned_pages());
	/* Container and group closed first: the device file holds them. */
	close(self->container);
	self->container = -1;
	close(self->group);
	self->group = -1;
	ASSERT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_REGION_INFO,
			       &reg));
	ASSERT_EQ(2, pread(self->devfd, &vendor, 2, reg.offset));
	EXPECT_EQ(EDU_VENDOR, vendor);
	bar = edu_bar(_metadata, self->bdf, self->devfd);
	edu_dma_roundtrip(_metadata, bar, self->buf, IOVA_A, 11);
	munmap((void *)bar, EDU_BAR_LEN);
	close(self->devfd);
	self->devfd = -1;
	/* The teardown checks that nothing stays pinned. */
}

/*
 * /dev/iommu as the container (upstream's iommufd compat): its
 * compatibility IOAS is an IOAS like any other, and memory mapped through
 * both doors is pinned once (upstream's compat pins it once per door).
 */
TEST_F(legacy, iommufd_container)
{
	struct iommu_vfio_ioas vioas = {
		.size = sizeof(vioas),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	struct vfio_iommu_type1_info *info;
	volatile uint8_t *bar;
	long before;
	int iommufd;

	if (access("/dev/iommu", F_OK))
		SKIP(return, "no /dev/iommu in this kernel");
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, iommufd);
	EXPECT_EQ(-ENODEV, ufd_ioctl(iommufd, IOMMU_VFIO_IOAS, &vioas));
	EXPECT_EQ(VFIO_API_VERSION, vioctl(iommufd, VFIO_GET_API_VERSION, 0));
	ASSERT_EQ(0, set_container(self->group, iommufd));
	ASSERT_EQ(0, vioctl(iommufd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, ufd_ioctl(iommufd, IOMMU_VFIO_IOAS, &vioas));
	EXPECT_NE(0U, vioas.ioas_id);
	vioas.op = 7;
	EXPECT_EQ(-EOPNOTSUPP, ufd_ioctl(iommufd, IOMMU_VFIO_IOAS, &vioas));
	/* No type1 dirty tracking in upstream's compat: not offered. */
	EXPECT_EQ(-ENOTTY, dirty_pages(iommufd,
				       VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	info = get_info_all(iommufd);
	ASSERT_NE(NULL, info);
	EXPECT_EQ(NULL, info_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION));
	free(info);
	/* Nor VFIO_UPDATE_VADDR. */
	EXPECT_EQ(0, vioctl(iommufd, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
	self->devfd = get_device_fd(self->group, self->bdf);
	ASSERT_LE(0, self->devfd);

	/*
	 * A range past the end of the IOVA space: /dev/iommu as a container
	 * answers as upstream's iommufd compat, EOVERFLOW (/dev/vfio/vfio as
	 * type1, EINVAL: map_unmap_v2).
	 */
	EXPECT_EQ(-EOVERFLOW, map_dma(iommufd, self->buf, 2 * PAGE_SZ,
				      -PAGE_SZ, DMA_RW));
	EXPECT_EQ(-EOVERFLOW, unmap_dma(iommufd, -PAGE_SZ, 2 * PAGE_SZ, 0,
					NULL));

	/* Upstream's compat pins per door; ours once (see above). */
	before = stack_is_upstream() ? 0 : pinned_pages();
	/* The same memory through both doors, at two IOVAs. */
	ASSERT_EQ(0, ufd_map_fixed(iommufd, vioas.ioas_id, self->buf,
				   4 * PAGE_SZ, IOVA_A));
	if (!stack_is_upstream())
		EXPECT_EQ(before + 4, pinned_pages());
	ASSERT_EQ(0, map_dma(iommufd, self->buf, 4 * PAGE_SZ, IOVA_B,
			     DMA_RW));
	if (!stack_is_upstream())
		EXPECT_EQ(before + 4, pinned_pages());
	bar = edu_bar(_metadata, self->bdf, self->devfd);
	edu_dma_roundtrip(_metadata, bar, self->buf, IOVA_A, 21);
	edu_dma_roundtrip(_metadata, bar, self->buf, IOVA_B, 22);
	munmap((void *)bar, EDU_BAR_LEN);
	EXPECT_EQ(-EINVAL, unmap_dma(iommufd, IOVA_B, 4 * PAGE_SZ,
				     VFIO_DMA_UNMAP_FLAG_VADDR, NULL));
	EXPECT_EQ(-EINVAL, map_dma(iommufd, self->buf, 4 * PAGE_SZ, IOVA_B,
				   VFIO_DMA_MAP_FLAG_VADDR));
	/* In use by the device's page table: the IOAS cannot go. */
	EXPECT_EQ(-EBUSY, ufd_destroy(iommufd, vioas.ioas_id));
	EXPECT_EQ(0, unmap_dma(iommufd, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	if (!stack_is_upstream())
		EXPECT_EQ(before, pinned_pages());
	close(self->devfd);
	self->devfd = -1;
	close(self->group);
	self->group = -1;
	close(iommufd);
}

/* KVM's calls (kvm-vfio) on group, device and other files. */
static int kvm_probe(int probe, int fd, char *answer, size_t len)
{
	char num[16];
	ssize_t n;

	snprintf(num, sizeof(num), "%d", fd);
	if (write(probe, num, strlen(num)) < 0)
		return -errno;
	n = pread(probe, answer, len - 1, 0);
	if (n < 0)
		return -errno;
	answer[n] = 0;
	return 0;
}

TEST_F(legacy, kvm_contract)
{
	char answer[64], expect[64], path[PATH_MAX];
	const char *moddir = vfiodev_test_moddir();
	bool sc = snoop_control(_metadata, self->bdf);
	int probe, null, cdev = -1;

	snprintf(path, sizeof(path), "%s/vfiodev_kvm_test.ko", moddir);
	if (access(path, R_OK))
		SKIP(return, "no vfiodev_kvm_test.ko");
	if (!module_loaded("vfiodev_kvm_test"))
		ASSERT_EQ(0, module_load(moddir, "vfiodev_kvm_test"));
	probe = open(KVM_PROBE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, probe);

	legacy_ready(_metadata, self, VFIO_TYPE1v2_IOMMU);
	/* vfio_file_iommu_group() answers only on SPAPR, as upstream's. */
	snprintf(expect, sizeof(expect), "valid=1 coherent=%d group=-1\n", sc);
	ASSERT_EQ(0, kvm_probe(probe, self->group, answer, sizeof(answer)));
	EXPECT_STREQ(expect, answer);
	/* A device file: valid, coherent as its IOMMU. */
	ASSERT_EQ(0, kvm_probe(probe, self->devfd, answer, sizeof(answer)));
	EXPECT_STREQ(expect, answer);
	/* Not VFIO files. */
	ASSERT_EQ(0, kvm_probe(probe, self->container, answer,
			       sizeof(answer)));
	EXPECT_STREQ("valid=0 coherent=0 group=-1\n", answer);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	ASSERT_EQ(0, kvm_probe(probe, null, answer, sizeof(answer)));
	EXPECT_STREQ("valid=0 coherent=0 group=-1\n", answer);
	close(null);

	/* The device cdev (new path), once the group lets go. */
	close(self->devfd);
	self->devfd = -1;
	close(self->group);
	self->group = -1;
	if (!access("/dev/vfio/devices", F_OK))
		cdev = vfio_dev_open(self->bdf);
	if (cdev >= 0) {
		ASSERT_EQ(0, kvm_probe(probe, cdev, answer, sizeof(answer)));
		EXPECT_STREQ(expect, answer);
		close(cdev);
	}
	close(probe);
	EXPECT_EQ(0, module_unload("vfiodev_kvm_test"));
}

/* --- hot reset, the legacy form: group files prove ownership ----------- */

struct hr_info {
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device devs[8];
};

static int hr_reset(int fd, uint32_t count, const int32_t *fds)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		int32_t fds[4];
	} r = {
		.hdr = {
			.argsz = sizeof(struct vfio_pci_hot_reset) +
				 count * sizeof(int32_t),
			.count = count,
		},
	};
	uint32_t i;

	for (i = 0; i < count && i < 4; i++)
		r.fds[i] = fds[i];
	return ufd_ioctl(fd, VFIO_DEVICE_PCI_HOT_RESET, &r);
}

/*
 * The two functions of the edu behind the root port (a reset of the slot
 * takes both), each function's group open, the first function's set to a
 * container and its device file open.
 */
FIXTURE(lhr) {
	char port[2][BDF_LEN];
	int group[2];		/* group[1] == -1 when they share one */
	int container;
	int devfd;
};

FIXTURE_SETUP(lhr)
{
	char all[8][BDF_LEN];
	int n, i, np = 0;

	self->group[0] = self->group[1] = self->container = self->devfd = -1;
	n = pci_find(EDU_VENDOR, EDU_DEVICE, 0, all, 8);
	for (i = 0; i < n; i++)
		if (strncmp(all[i] + 5, "00:", 3) && np < 2)
			strcpy(self->port[np++], all[i]);
	ASSERT_EQ(2, np) TH_LOG("the guest needs a two-function edu behind a root port");
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pci_bind(self->port[i], stack_pci_driver()));
	self->group[0] = vfio_group_open(self->port[0]);
	ASSERT_LE(0, self->group[0]);
	if (vfio_group_id(self->port[0]) != vfio_group_id(self->port[1])) {
		self->group[1] = vfio_group_open(self->port[1]);
		ASSERT_LE(0, self->group[1]);
	}
	self->container = vfio_container_open();
	ASSERT_LE(0, self->container);
	ASSERT_EQ(0, set_container(self->group[0], self->container));
	ASSERT_EQ(0, vioctl(self->container, VFIO_SET_IOMMU,
			    VFIO_TYPE1v2_IOMMU));
	self->devfd = get_device_fd(self->group[0], self->port[0]);
	ASSERT_LE(0, self->devfd);
}

FIXTURE_TEARDOWN(lhr)
{
	int i;

	if (self->devfd >= 0)
		close(self->devfd);
	for (i = 0; i < 2; i++)
		if (self->group[i] >= 0)
			close(self->group[i]);
	if (self->container >= 0)
		close(self->container);
	for (i = 0; i < 2; i++)
		if (self->port[i][0])
			EXPECT_EQ(0, pci_release(self->port[i]));
}

TEST_F(lhr, info_names_groups)
{
	struct hr_info info = { .hdr.argsz = sizeof(info) };
	uint32_t i, found = 0;
	int j;

	ASSERT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
			       &info));
	ASSERT_EQ(2U, info.hdr.count);
	/* Group IDs, not the cdev's device IDs. */
	EXPECT_EQ(0U, info.hdr.flags);
	for (i = 0; i < info.hdr.count; i++)
		for (j = 0; j < 2; j++)
			if (info.devs[i].devfn ==
			    strtoul(self->port[j] + 10, NULL, 16) * 8 +
			    strtoul(self->port[j] + 13, NULL, 16)) {
				EXPECT_EQ((uint32_t)vfio_group_id(self->port[j]),
					  info.devs[i].group_id);
				found++;
			}
	EXPECT_EQ(2U, found);
}

TEST_F(lhr, reset_with_group_files)
{
	int32_t fds[3] = { self->group[0], self->group[1], -1 };
	uint32_t n = self->group[1] >= 0 ? 2 : 1;
	volatile uint32_t *bar;
	int null;

	/* The legacy form needs its proof; bad proofs change nothing. */
	EXPECT_EQ(-EINVAL, hr_reset(self->devfd, 0, NULL));
	EXPECT_EQ(-EINVAL, hr_reset(self->devfd, 3, fds));
	fds[n] = -1;
	{
		int32_t bad[2] = { self->group[0], 1000 };	/* not open */

		EXPECT_EQ(-EBADF, hr_reset(self->devfd, 2, bad));
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	EXPECT_EQ(-EINVAL, hr_reset(self->devfd, 1, &null));
	close(null);
	/* The container is not a group. */
	EXPECT_EQ(-EINVAL, hr_reset(self->devfd, 1, &self->container));

	bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, self->devfd,
		   (off_t)VFIO_PCI_BAR0_REGION_INDEX << 40);
	ASSERT_NE(MAP_FAILED, bar);
	EXPECT_EQ(EDU_ID_VALUE, bar[0]);
	EXPECT_EQ(0, hr_reset(self->devfd, n, fds));
	EXPECT_EQ(EDU_ID_VALUE, bar[0]);
	munmap((void *)bar, 4096);
}

/* --- viability: every device of the group on a VFIO driver or on none --- */

static bool vfio_driver(const char *drv)
{
	return !drv[0] || !strcmp(drv, "vfio-pci") ||
	       strstr(drv, "vfio_pci");
}

/* What upstream's rule says of @bdf's group, read from sysfs alone. */
static bool group_viable_by_sysfs(const char *bdf)
{
	char path[PATH_MAX], drv[64];
	struct dirent *de;
	bool viable = true;
	DIR *d;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/iommu_group/devices",
		 bdf);
	d = opendir(path);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (pci_driver_of(de->d_name, drv, sizeof(drv)) ||
		    !vfio_driver(drv))
			viable = false;
	}
	closedir(d);
	return viable;
}

/*
 * The ICH9 functions at 00:1f.x share an IOMMU group.  With the SMBus
 * function on a VFIO driver, the group is viable only if no kernel driver
 * holds another of them (the debug kernel builds ahci in, Debian's kernel
 * has it as a module the guest does not load): whichever it is, status and
 * SET_CONTAINER must say so, and a refused container changes nothing.
 */
TEST(viability)
{
	char bdfs[2][BDF_LEN], *bdf = bdfs[0];
	uint32_t flags = 0;
	int group, container;
	bool viable;

	if (pci_find(0, 0, 0x0c0500, bdfs, 2) < 1)
		SKIP(return, "no SMBus function in this guest");
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(bdf, stack_pci_driver()));
	viable = group_viable_by_sysfs(bdf);
	TH_LOG("%s: group %d %s", bdf, vfio_group_id(bdf),
	       viable ? "viable" : "not viable");
	group = vfio_group_open(bdf);
	ASSERT_LE(0, group);
	container = vfio_container_open();
	ASSERT_LE(0, container);
	ASSERT_EQ(0, group_status(group, &flags));
	EXPECT_EQ(viable ? GRP_VIABLE : 0U, flags);
	EXPECT_EQ(viable ? 0 : -EPERM, set_container(group, container));
	ASSERT_EQ(0, group_status(group, &flags));
	EXPECT_EQ(viable ? GRP_VIABLE | GRP_SET : 0U, flags);
	if (!viable) {
		EXPECT_EQ(-EINVAL, get_device_fd(group, bdf));
		EXPECT_EQ(-EINVAL, vioctl(container, VFIO_SET_IOMMU,
					  VFIO_TYPE1v2_IOMMU));
	}
	close(group);
	close(container);
	EXPECT_EQ(0, pci_release(bdf));
}

TEST_HARNESS_MAIN
