// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/iommu with a device: a QEMU edu (1234:11e8) through its
 * /dev/vfio/devices/vfioN, replaying what QEMU >= 9.0 does with
 * "-object iommufd" (see CLIENTS.md): bind, the IOMMU's facts about the
 * device, an IOAS, attachment to an automatic domain, an HWPT of its own
 * and replacement, detachment, objects in use, and real DMA by the edu's
 * engine through the IOMMU, both ways, with DMAR faults where nothing is
 * mapped.  Pinned memory is charged as soon as a domain holds it, on both
 * stacks.
 *
 * VFIODEV_STACK=upstream binds the edu to vfio-pci and runs against the
 * guest kernel's own iommufd; the tests of vfiodev's own extensions
 * (<linux/vfiodev.h>, the sysfs attribute) are then skipped.
 * VFIODEV_PIN_WITHOUT_DOMAIN and VFIODEV_PIN_ONCE: see iommufd.c.
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <linux/vfiodev.h>

#include "vfiodev_utils.h"
#include "kselftest_harness.h"
#include "edu_utils.h"

#define PAGE_SZ		4096UL
#define KIB		1024UL
#define MIB		(1024UL * 1024)
#define BUF_SIZE	(4 * MIB)

/* Where x86 puts MSI writes; every intel-iommu domain reserves it. */
#define MSI_START	0xfee00000ULL
#define MSI_LAST	0xfeefffffULL

/* IOVAs of the DMA tests, below 256 MiB. */
#define IOVA_A		0x1000000ULL
#define IOVA_B		0x2000000ULL
#define IOVA_C		0x3000000ULL

/* --- policy, as in iommufd.c ------------------------------------------- */

static bool pin_without_domain(void)
{
	return env_bool("VFIODEV_PIN_WITHOUT_DOMAIN", !stack_is_upstream());
}

static bool pin_once(void)
{
	return env_bool("VFIODEV_PIN_ONCE", !stack_is_upstream());
}

static long vmpin_kb(void)
{
	return proc_status_kb("VmPin");
}

static long vmlck_kb(void)
{
	return proc_status_kb("VmLck");
}

/* --- VFIO and iommufd calls, returning 0 or -errno ---------------------- */

static int dev_bind(int devfd, int iommufd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	int ret;

	ret = ufd_ioctl(devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (!ret && devid)
		*devid = bind.out_devid;
	return ret;
}

static int dev_attach(int devfd, uint32_t *pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = *pt_id,
	};
	int ret;

	ret = ufd_ioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	if (!ret)
		*pt_id = attach.pt_id;
	return ret;
}

static int dev_detach(int devfd)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};

	return ufd_ioctl(devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach);
}

static int hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id,
		      uint32_t flags, uint32_t *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = IOMMU_HWPT_DATA_NONE,
	};
	int ret;

	ret = ufd_ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);
	if (!ret && hwpt_id)
		*hwpt_id = cmd.out_hwpt_id;
	return ret;
}

static int hw_info(int fd, uint32_t dev_id, void *data, uint32_t len,
		   struct iommu_hw_info *out)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = len,
		.data_uptr = (uintptr_t)data,
	};
	int ret;

	ret = ufd_ioctl(fd, IOMMU_GET_HW_INFO, &cmd);
	if (!ret && out)
		*out = cmd;
	return ret;
}

static int dev_caps(int fd, uint32_t dev_id, uint64_t *caps)
{
	struct vfiodev_iommu_device_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
	};
	int ret;

	ret = ufd_ioctl(fd, VFIODEV_IOMMU_DEVICE_INFO, &cmd);
	if (!ret)
		*caps = cmd.out_capabilities;
	return ret;
}

/* --- the devices -------------------------------------------------------- */

static void edu_find(struct __test_metadata *_metadata, int nth, char *bdf)
{
	char bdfs[4][BDF_LEN];
	int n;

	n = pci_find(EDU_VENDOR, EDU_DEVICE, 0, bdfs, 4);
	ASSERT_GT(n, nth) TH_LOG("the guest needs %d edu devices, has %d",
				 nth + 1, n);
	strcpy(bdf, bdfs[nth]);
}

/*
 * Opens the vfio-dev node of @bdf as QEMU does: its name from sysfs, then
 * a check that the node is the character device sysfs names.
 */
static int edu_open(struct __test_metadata *_metadata, const char *bdf)
{
	struct stat st;
	dev_t devt;
	int fd;

	ASSERT_EQ(0, vfio_dev_devt(bdf, &devt));
	fd = vfio_dev_open(bdf);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", bdf, strerror(-fd));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(devt, st.st_rdev);
	return fd;
}

/* --- the fixture -------------------------------------------------------- */

FIXTURE(dev) {
	char bdf[BDF_LEN];
	char bdf1[BDF_LEN];	/* the second edu, when a test takes it */
	int iommufd;
	int devfd;		/* open, not bound */
	uint32_t devid;
	uint32_t ioas;
	uint32_t hwpt;
	char *buf;
	volatile uint8_t *bar;
	int more[4];		/* other files a test opens */
};

FIXTURE_SETUP(dev)
{
	unsigned int i;

	self->devfd = -1;
	self->iommufd = -1;
	for (i = 0; i < ARRAY_LEN(self->more); i++)
		self->more[i] = -1;
	edu_find(_metadata, 0, self->bdf);
	edu_take(_metadata, self->bdf);
	self->devfd = edu_open(_metadata, self->bdf);
	self->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->iommufd) TH_LOG("/dev/iommu: %s", strerror(errno));
	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0xaa, BUF_SIZE);
}

FIXTURE_TEARDOWN(dev)
{
	unsigned int i;

	if (self->bar)
		munmap((void *)self->bar, EDU_BAR_LEN);
	for (i = 0; i < ARRAY_LEN(self->more); i++)
		if (self->more[i] >= 0)
			close(self->more[i]);
	if (self->devfd >= 0)
		close(self->devfd);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->bdf1[0])
		EXPECT_EQ(0, pci_release(self->bdf1));
	EXPECT_EQ(0, pci_release(self->bdf));
}

/* Binds the fixture's device to its iommufd. */
static void bind_dev(struct __test_metadata *_metadata,
		     FIXTURE_DATA(dev) *self)
{
	ASSERT_EQ(0, dev_bind(self->devfd, self->iommufd, &self->devid));
	ASSERT_NE(0U, self->devid);
}

/* Bind, IOAS_ALLOC, attach to the IOAS (an automatic domain). */
static void bind_attach(struct __test_metadata *_metadata,
			FIXTURE_DATA(dev) *self)
{
	bind_dev(_metadata, self);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	self->hwpt = self->ioas;
	ASSERT_EQ(0, dev_attach(self->devfd, &self->hwpt));
	ASSERT_NE(self->ioas, self->hwpt);
}

/* --- bind --------------------------------------------------------------- */

TEST_F(dev, bind_arguments)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = self->iommufd,
	};
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct {
		struct vfio_device_bind_iommufd bind;
		uint32_t more[4];
	} ext = {
		.bind = { .argsz = sizeof(ext), .iommufd = self->iommufd },
		.more = { 0xffffffff, 1, 2, 3 },
	};
	int null;

	bind.argsz = offsetofend(struct vfio_device_bind_iommufd,
				 out_devid) - 1;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd, VFIO_DEVICE_BIND_IOMMUFD,
				     &bind));
	bind.argsz = sizeof(bind);
	bind.flags = 1;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd, VFIO_DEVICE_BIND_IOMMUFD,
				     &bind));
	bind.flags = 0;
	bind.iommufd = -1;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd, VFIO_DEVICE_BIND_IOMMUFD,
				     &bind));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	bind.iommufd = null;
	EXPECT_EQ(-EBADFD, ufd_ioctl(self->devfd, VFIO_DEVICE_BIND_IOMMUFD,
				     &bind));
	close(null);
	EXPECT_EQ(-EFAULT, ufd_ioctl(self->devfd, VFIO_DEVICE_BIND_IOMMUFD,
				     NULL));
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_INFO, &info));

	/* A longer argsz is fine whatever follows (VFIO's rule). */
	ASSERT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, &ext));
	EXPECT_NE(0U, ext.bind.out_devid);
	EXPECT_EQ(0xffffffffU, ext.more[0]);
	EXPECT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(!!(info.flags & VFIO_DEVICE_FLAGS_PCI));

	/* The device is now in the context: its ID answers GET_HW_INFO. */
	EXPECT_EQ(0, hw_info(self->iommufd, ext.bind.out_devid, NULL, 0,
			     NULL));
	/* Once only. */
	bind.iommufd = self->iommufd;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd, VFIO_DEVICE_BIND_IOMMUFD,
				     &bind));
}

/*
 * A second file of the same device cannot bind while the first is bound,
 * to the same iommufd or another: upstream answers EINVAL (one cdev open
 * per device).  Closing the first unbinds it.
 */
TEST_F(dev, bind_second_file)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t devid2;
	int fd2, ufd2;

	bind_dev(_metadata, self);
	fd2 = edu_open(_metadata, self->bdf);
	self->more[0] = fd2;
	ufd2 = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	self->more[1] = ufd2;
	ASSERT_LE(0, ufd2);

	EXPECT_EQ(-EINVAL, dev_bind(fd2, ufd2, NULL));
	EXPECT_EQ(-EINVAL, dev_bind(fd2, self->iommufd, NULL));
	EXPECT_EQ(-EINVAL, ufd_ioctl(fd2, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(0, ufd_ioctl(self->devfd, VFIO_DEVICE_GET_INFO, &info));

	/* Unbind on close: the other file can bind now. */
	close(self->devfd);
	self->devfd = -1;
	EXPECT_EQ(-ENOENT, hw_info(self->iommufd, self->devid, NULL, 0, NULL));
	ASSERT_EQ(0, dev_bind(fd2, ufd2, &devid2));
	EXPECT_EQ(0, hw_info(ufd2, devid2, NULL, 0, NULL));
	EXPECT_EQ(0, ufd_ioctl(fd2, VFIO_DEVICE_GET_INFO, &info));
}

/* Closing a bound and attached device file releases all of it. */
TEST_F(dev, rebind_after_close)
{
	uint32_t old_devid, old_hwpt, pt;

	bind_attach(_metadata, self);
	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf, MIB,
				   IOVA_A));
	old_devid = self->devid;
	old_hwpt = self->hwpt;
	EXPECT_EQ(-EBUSY, ufd_destroy(self->iommufd, self->ioas));

	close(self->devfd);
	self->devfd = -1;
	EXPECT_EQ(-ENOENT, hw_info(self->iommufd, old_devid, NULL, 0, NULL));
	/* The automatic domain went with its last device. */
	EXPECT_EQ(-ENOENT, ufd_destroy(self->iommufd, old_hwpt));

	self->devfd = edu_open(_metadata, self->bdf);
	bind_dev(_metadata, self);
	EXPECT_EQ(0, hw_info(self->iommufd, self->devid, NULL, 0, NULL));
	pt = self->ioas;
	EXPECT_EQ(0, dev_attach(self->devfd, &pt));
	EXPECT_NE(self->ioas, pt);
	EXPECT_EQ(0, dev_detach(self->devfd));
	EXPECT_EQ(0, ufd_destroy(self->iommufd, self->ioas));
}

/* --- IOMMU facts -------------------------------------------------------- */

static uint64_t dmar_reg(struct __test_metadata *_metadata, const char *bdf,
			 const char *reg)
{
	char path[PATH_MAX], buf[64];

	snprintf(path, sizeof(path),
		 PCI_SYSFS "/devices/%s/iommu/intel-iommu/%s", bdf, reg);
	ASSERT_EQ(0, sysfs_read(path, buf, sizeof(buf))) TH_LOG("%s", path);
	return strtoull(buf, NULL, 16);
}

TEST_F(dev, hw_info)
{
	struct {
		struct iommu_hw_info_vtd vtd;
		uint8_t more[40];
	} data;
	struct iommu_hw_info out;
	uint64_t cap, ecap;
	unsigned int i;

	cap = dmar_reg(_metadata, self->bdf, "cap");
	ecap = dmar_reg(_metadata, self->bdf, "ecap");
	bind_dev(_metadata, self);

	memset(&data, 0xa5, sizeof(data));
	ASSERT_EQ(0, hw_info(self->iommufd, self->devid, &data,
			     sizeof(data.vtd), &out));
	EXPECT_EQ((uint32_t)IOMMU_HW_INFO_TYPE_INTEL_VTD, out.out_data_type);
	EXPECT_EQ(sizeof(data.vtd), out.data_len);
	EXPECT_EQ(cap, data.vtd.cap_reg);
	EXPECT_EQ(ecap, data.vtd.ecap_reg);
	/* Upstream's intel driver sets the SPR17 erratum flag on every unit. */
	EXPECT_EQ((uint32_t)IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17,
		  data.vtd.flags);
	EXPECT_EQ(0U, data.vtd.__reserved);
	/* No PASID on an edu; dirty tracking is the only other capability. */
	EXPECT_EQ(0, out.out_max_pasid_log2);
	EXPECT_EQ(0ULL, out.out_capabilities & ~(uint64_t)
		  IOMMU_HW_CAP_DIRTY_TRACKING);
	EXPECT_EQ(0xa5, data.more[0]);

	/* No room: the size the kernel has, nothing written. */
	memset(&data, 0xa5, sizeof(data));
	ASSERT_EQ(0, hw_info(self->iommufd, self->devid, &data, 0, &out));
	EXPECT_EQ(sizeof(data.vtd), out.data_len);
	EXPECT_EQ(0xa5a5a5a5U, data.vtd.flags);
	/* Less room: truncated. */
	ASSERT_EQ(0, hw_info(self->iommufd, self->devid, &data, 12, &out));
	EXPECT_EQ(sizeof(data.vtd), out.data_len);
	EXPECT_EQ((uint32_t)IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17,
		  data.vtd.flags);
	EXPECT_EQ((uint32_t)cap, (uint32_t)data.vtd.cap_reg);
	EXPECT_EQ(0xa5a5a5a5U, (uint32_t)(data.vtd.cap_reg >> 32));
	/* More room: the rest is zeroed. */
	memset(&data, 0xa5, sizeof(data));
	ASSERT_EQ(0, hw_info(self->iommufd, self->devid, &data, sizeof(data),
			     &out));
	EXPECT_EQ(sizeof(data.vtd), out.data_len);
	EXPECT_EQ(ecap, data.vtd.ecap_reg);
	for (i = 0; i < sizeof(data.more); i++)
		if (data.more[i])
			break;
	EXPECT_EQ(sizeof(data.more), i);

	/* The device's ID only; flags and reserved bytes. */
	EXPECT_EQ(-ENOENT, hw_info(self->iommufd, self->devid + 100, NULL, 0,
				   NULL));
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	EXPECT_EQ(-ENOENT, hw_info(self->iommufd, self->ioas, NULL, 0, NULL));
	EXPECT_EQ(-EFAULT, hw_info(self->iommufd, self->devid, (void *)8,
				   sizeof(data.vtd), NULL));
}

/* The size rules of GET_HW_INFO and HWPT_ALLOC, now with a device. */
TEST_F(dev, cmd_sizes)
{
	union {
		struct iommu_hw_info info;
		struct iommu_hwpt_alloc hwpt;
		uint8_t raw[256];
	} u;
	uint32_t hw_min = offsetofend(struct iommu_hw_info, __reserved);
	uint32_t hwpt_min = offsetofend(struct iommu_hwpt_alloc, __reserved);
	uint32_t ids[3];
	unsigned int i;

	bind_dev(_metadata, self);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));

	memset(&u, 0, sizeof(u));
	u.info.dev_id = self->devid;
	u.info.size = hw_min - 1;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->iommufd, IOMMU_GET_HW_INFO, &u));
	u.info.size = hw_min;
	u.info.out_capabilities = 0xdeadbeef;
	EXPECT_EQ(0, ufd_ioctl(self->iommufd, IOMMU_GET_HW_INFO, &u));
	EXPECT_EQ((uint32_t)IOMMU_HW_INFO_TYPE_INTEL_VTD, u.info.out_data_type);
	/* Not written beyond the size given. */
	EXPECT_EQ(0xdeadbeefULL, u.info.out_capabilities);
	u.info.out_capabilities = 0;
	u.info.size = sizeof(u.info) + 8;
	u.raw[sizeof(u.info) + 3] = 1;
	EXPECT_EQ(-E2BIG, ufd_ioctl(self->iommufd, IOMMU_GET_HW_INFO, &u));
	u.raw[sizeof(u.info) + 3] = 0;
	/* data_len came back as what the kernel has; no buffer this time. */
	u.info.data_len = 0;
	u.info.size = sizeof(u.raw);
	EXPECT_EQ(0, ufd_ioctl(self->iommufd, IOMMU_GET_HW_INFO, &u));

	for (i = 0; i < ARRAY_LEN(ids); i++) {
		memset(&u, 0, sizeof(u));
		u.hwpt.dev_id = self->devid;
		u.hwpt.pt_id = self->ioas;
		u.hwpt.size = hwpt_min - 1;
		EXPECT_EQ(-EINVAL, ufd_ioctl(self->iommufd, IOMMU_HWPT_ALLOC,
					     &u));
		u.hwpt.size = sizeof(u.hwpt) + 8;
		u.raw[sizeof(u.hwpt) + 7] = 0x80;
		EXPECT_EQ(-E2BIG, ufd_ioctl(self->iommufd, IOMMU_HWPT_ALLOC,
					    &u));
		u.raw[sizeof(u.hwpt) + 7] = 0;
		/* The minimum, the structure, and longer with zeroes. */
		u.hwpt.size = i == 0 ? hwpt_min : i == 1 ? sizeof(u.hwpt) :
			      sizeof(u.raw);
		ASSERT_EQ(0, ufd_ioctl(self->iommufd, IOMMU_HWPT_ALLOC, &u))
			TH_LOG("size %u", u.hwpt.size);
		ids[i] = u.hwpt.out_hwpt_id;
		EXPECT_NE(0U, ids[i]);
	}
	for (i = 0; i < ARRAY_LEN(ids); i++)
		EXPECT_EQ(0, ufd_destroy(self->iommufd, ids[i]));
}

TEST_F(dev, hwpt_alloc_arguments)
{
	struct iommu_hwpt_alloc cmd;
	struct iommu_hw_info out;
	uint32_t hwpt;

	bind_dev(_metadata, self);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	ASSERT_EQ(0, hw_info(self->iommufd, self->devid, NULL, 0, &out));

	/* Unknown and unsupported flags. */
	EXPECT_EQ(-EOPNOTSUPP, hwpt_alloc(self->iommufd, self->devid,
					  self->ioas, 1U << 31, NULL));
	EXPECT_EQ(-EOPNOTSUPP, hwpt_alloc(self->iommufd, self->devid,
					  self->ioas, 1U << 3, NULL));
	if (!(out.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING))
		EXPECT_EQ(-EOPNOTSUPP,
			  hwpt_alloc(self->iommufd, self->devid, self->ioas,
				     IOMMU_HWPT_ALLOC_DIRTY_TRACKING, NULL));

	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.dev_id = self->devid;
	cmd.pt_id = self->ioas;
	cmd.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, ufd_ioctl(self->iommufd, IOMMU_HWPT_ALLOC,
					 &cmd));
	cmd.__reserved = 0;
	/* Data with no type, a type with no data. */
	cmd.data_len = 8;
	cmd.data_uptr = (uintptr_t)self->buf;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->iommufd, IOMMU_HWPT_ALLOC, &cmd));
	cmd.data_len = 0;
	cmd.data_type = IOMMU_HWPT_DATA_VTD_S1;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->iommufd, IOMMU_HWPT_ALLOC, &cmd));

	/* A device ID that is not one: ENOENT; a bad page table: EINVAL. */
	EXPECT_EQ(-ENOENT, hwpt_alloc(self->iommufd, self->devid + 100,
				      self->ioas, 0, NULL));
	EXPECT_EQ(-ENOENT, hwpt_alloc(self->iommufd, self->ioas, self->ioas,
				      0, NULL));
	EXPECT_EQ(-EINVAL, hwpt_alloc(self->iommufd, self->devid,
				      self->ioas + 100, 0, NULL));
	EXPECT_EQ(-EINVAL, hwpt_alloc(self->iommufd, self->devid, self->devid,
				      0, NULL));

	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->devid, self->ioas, 0,
				&hwpt));
	EXPECT_NE(self->ioas, hwpt);
	EXPECT_NE(self->devid, hwpt);
	/* An HWPT holds its IOAS. */
	EXPECT_EQ(-EBUSY, ufd_destroy(self->iommufd, self->ioas));
	/* It is no IOAS itself. */
	EXPECT_EQ(-ENOENT, ufd_map_fixed(self->iommufd, hwpt, self->buf,
					 PAGE_SZ, IOVA_A));
	EXPECT_EQ(0, ufd_destroy(self->iommufd, hwpt));
	EXPECT_EQ(-ENOENT, ufd_destroy(self->iommufd, hwpt));
	EXPECT_EQ(0, ufd_destroy(self->iommufd, self->ioas));
}

/* --- attach, replace, detach -------------------------------------------- */

/* HWPT_ALLOC whose reply cannot be written: EFAULT, no HWPT left behind. */
TEST_F(dev, hwpt_alloc_reply_unwritable)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.data_type = IOMMU_HWPT_DATA_NONE,
	};
	uint32_t keep[2], next, stray;

	bind_dev(_metadata, self);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	cmd.dev_id = self->devid;
	cmd.pt_id = self->ioas;
	EXPECT_EQ(-EFAULT, ufd_ioctl_readonly(self->iommufd, IOMMU_HWPT_ALLOC,
					      &cmd, sizeof(cmd)));
	/* The IOAS is not held by a hidden HWPT either. */
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->devid, self->ioas, 0,
				&next));
	keep[0] = self->devid;
	keep[1] = self->ioas;
	EXPECT_EQ(0, ufd_destroy(self->iommufd, next));
	stray = ufd_first_stray(self->iommufd, next, keep, 2);
	EXPECT_EQ(0U, stray) TH_LOG("object %u outlived its failed HWPT_ALLOC",
				    stray);
	EXPECT_EQ(0, ufd_destroy(self->iommufd, self->ioas));
}

TEST_F(dev, attach_auto_domain)
{
	struct vfio_device_attach_iommufd_pt attach;
	uint32_t pt;

	bind_dev(_metadata, self);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));

	memset(&attach, 0, sizeof(attach));
	attach.argsz = offsetofend(struct vfio_device_attach_iommufd_pt,
				   pt_id) - 1;
	attach.pt_id = self->ioas;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd,
				     VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	attach.argsz = sizeof(attach);
	attach.flags = 1;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd,
				     VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	EXPECT_EQ(-EFAULT, ufd_ioctl(self->devfd,
				     VFIO_DEVICE_ATTACH_IOMMUFD_PT, NULL));
	/* Unknown IDs, and a device where a page table is due. */
	pt = self->ioas + 100;
	EXPECT_EQ(-ENOENT, dev_attach(self->devfd, &pt));
	pt = self->devid;
	EXPECT_EQ(-EINVAL, dev_attach(self->devfd, &pt));

	/* The IOAS: an automatic domain, whose HWPT ID comes back. */
	pt = self->ioas;
	ASSERT_EQ(0, dev_attach(self->devfd, &pt));
	EXPECT_NE(self->ioas, pt);
	EXPECT_NE(self->devid, pt);
	self->hwpt = pt;

	/* Everything is in use now. */
	EXPECT_EQ(-EBUSY, ufd_destroy(self->iommufd, self->ioas));
	EXPECT_EQ(-EBUSY, ufd_destroy(self->iommufd, self->hwpt));
	EXPECT_EQ(-EBUSY, ufd_destroy(self->iommufd, self->devid));
	/* The HWPT and the device are no IOAS. */
	EXPECT_EQ(-ENOENT, ufd_map_fixed(self->iommufd, self->hwpt, self->buf,
					 PAGE_SZ, IOVA_A));
	EXPECT_EQ(-ENOENT, ufd_map_fixed(self->iommufd, self->devid,
					 self->buf, PAGE_SZ, IOVA_A));

	/* Attaching to the same IOAS again keeps the same domain. */
	pt = self->ioas;
	EXPECT_EQ(0, dev_attach(self->devfd, &pt));
	EXPECT_EQ(self->hwpt, pt);

	/* Detach, after which the IOAS is free and the domain gone. */
	EXPECT_EQ(0, dev_detach(self->devfd));
	EXPECT_EQ(-ENOENT, ufd_destroy(self->iommufd, self->hwpt));
	EXPECT_EQ(-EBUSY, ufd_destroy(self->iommufd, self->devid));
	EXPECT_EQ(0, ufd_destroy(self->iommufd, self->ioas));
}

TEST_F(dev, detach_arguments)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};

	bind_attach(_metadata, self);
	detach.argsz = sizeof(detach) - 1;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd,
				     VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
	detach.argsz = sizeof(detach);
	detach.flags = 1;
	EXPECT_EQ(-EINVAL, ufd_ioctl(self->devfd,
				     VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
	EXPECT_EQ(-EBUSY, ufd_destroy(self->iommufd, self->ioas));
	EXPECT_EQ(0, dev_detach(self->devfd));
	/* Detaching a detached device is no error. */
	EXPECT_EQ(0, dev_detach(self->devfd));
	EXPECT_EQ(0, ufd_destroy(self->iommufd, self->ioas));
}

/*
 * An IOAS whose allowed ranges cover the device's reserved MSI window
 * cannot take the device.
 */
TEST_F(dev, attach_allowed_conflict)
{
	struct iommu_iova_range r = { 0xfe000000ULL, 0xffffffffULL };
	uint32_t pt;

	bind_dev(_metadata, self);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	ASSERT_EQ(0, ufd_allow_iovas(self->iommufd, self->ioas, &r, 1));
	pt = self->ioas;
	EXPECT_EQ(-EADDRINUSE, dev_attach(self->devfd, &pt));
	EXPECT_EQ(self->ioas, pt);
	EXPECT_EQ(0, ufd_destroy(self->iommufd, self->ioas));

	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	r.start = 0x100000;
	r.last = 0xfffffff;
	ASSERT_EQ(0, ufd_allow_iovas(self->iommufd, self->ioas, &r, 1));
	pt = self->ioas;
	ASSERT_EQ(0, dev_attach(self->devfd, &pt));
	/* Now the window is reserved: it cannot be allowed. */
	r.start = 0xfe000000ULL;
	r.last = 0xffffffffULL;
	EXPECT_EQ(-EADDRINUSE, ufd_allow_iovas(self->iommufd, self->ioas, &r,
					       1));
}

/* IOVA_RANGES and what may be mapped once a domain is attached. */

/*
 * An HWPT allocated for the device, not attached yet: its IOAS already
 * offers only what the device's IOMMU translates, and refuses the rest.
 */
TEST_F(dev, hwpt_aperture_before_attach)
{
	struct iommu_iova_range r[8];
	uint32_t num = ARRAY_LEN(r), hwpt;
	uint64_t last = iommu_aperture_last();

	ASSERT_NE(0ULL, last);
	bind_dev(_metadata, self);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->devid, self->ioas, 0,
				&hwpt));
	ASSERT_EQ(0, ufd_iova_ranges(self->iommufd, self->ioas, r, &num,
				     NULL));
	ASSERT_LE(1U, num);
	EXPECT_EQ(last, r[num - 1].last);
	EXPECT_EQ(-EINVAL, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
					 PAGE_SZ, last + 1));
	EXPECT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
				   PAGE_SZ, last + 1 - PAGE_SZ));
	/* And the device attaches to it with that mapping in place. */
	self->hwpt = hwpt;
	EXPECT_EQ(0, dev_attach(self->devfd, &self->hwpt));
	EXPECT_EQ(hwpt, self->hwpt);
	EXPECT_EQ(0, dev_detach(self->devfd));
	EXPECT_EQ(0, ufd_unmap(self->iommufd, self->ioas, 0, UINT64_MAX,
			       NULL));
	EXPECT_EQ(0, ufd_destroy(self->iommufd, hwpt));
}

TEST_F(dev, iova_ranges)
{
	struct iommu_iova_range r[8];
	uint64_t align = 0;
	uint32_t num = 0, i;

	bind_attach(_metadata, self);
	ASSERT_EQ(-EMSGSIZE, ufd_iova_ranges(self->iommufd, self->ioas, NULL,
					     &num, &align));
	ASSERT_LE(2U, num);
	ASSERT_GE(ARRAY_LEN(r), num);
	EXPECT_EQ(PAGE_SZ, align);

	/* Room for one: EMSGSIZE, the first written, no more. */
	memset(r, 0xa5, sizeof(r));
	i = 1;
	EXPECT_EQ(-EMSGSIZE, ufd_iova_ranges(self->iommufd, self->ioas, r,
					     &i, NULL));
	EXPECT_EQ(num, i);
	EXPECT_EQ(0ULL, r[0].start);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, r[1].start);

	ASSERT_EQ(0, ufd_iova_ranges(self->iommufd, self->ioas, r, &num,
				     NULL));
	for (i = 0; i < num; i++) {
		TH_LOG("range %u: %#llx-%#llx", i,
		       (unsigned long long)r[i].start,
		       (unsigned long long)r[i].last);
		EXPECT_LT(r[i].start, r[i].last);
		EXPECT_TRUE(r[i].last < MSI_START || r[i].start > MSI_LAST);
		if (i)
			EXPECT_LT(r[i - 1].last + 1, r[i].start);
	}
	EXPECT_EQ(0ULL, r[0].start);
	EXPECT_EQ(MSI_START - 1, r[0].last);
	EXPECT_EQ(MSI_LAST + 1, r[1].start);
	/* The domain's aperture ends the space: what the IOMMU translates. */
	EXPECT_EQ(iommu_aperture_last(), r[num - 1].last);

	/* Reserved, beyond the aperture, unaligned. */
	EXPECT_EQ(-EINVAL, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
					 PAGE_SZ, MSI_START + 16 * PAGE_SZ));
	EXPECT_EQ(-EINVAL, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
					 2 * PAGE_SZ, MSI_START - PAGE_SZ));
	EXPECT_EQ(-EINVAL, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
					 PAGE_SZ, r[num - 1].last + 1));
	EXPECT_EQ(-EINVAL, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
					 PAGE_SZ, IOVA_A + 512));
	EXPECT_EQ(-EINVAL, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
					 PAGE_SZ + 512, IOVA_A));
	EXPECT_EQ(-EINVAL, ufd_map_fixed(self->iommufd, self->ioas,
					 self->buf + 512, PAGE_SZ, IOVA_A));
	EXPECT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
				   PAGE_SZ, IOVA_A));
	EXPECT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
				   PAGE_SZ, MSI_START - PAGE_SZ));
	/* Unmap checks no alignment: it finds an area it would split. */
	EXPECT_EQ(-ENOENT, ufd_unmap(self->iommufd, self->ioas, IOVA_A + 1,
				     PAGE_SZ - 1, NULL));
	EXPECT_EQ(0, ufd_unmap(self->iommufd, self->ioas, 0, UINT64_MAX,
			       NULL));
}

/*
 * IOMMU_OPTION_HUGE_PAGES cannot be turned off while a domain already
 * holds mappings (upstream: EINVAL); it can once they are gone.
 */
TEST_F(dev, option_huge_pages)
{
	uint64_t val = 0;

	bind_attach(_metadata, self);
	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf, MIB,
				   IOVA_A));
	EXPECT_EQ(-EINVAL, ufd_option(self->iommufd, IOMMU_OPTION_HUGE_PAGES,
				      IOMMU_OPTION_OP_SET, self->ioas, &val));
	EXPECT_EQ(0, ufd_option(self->iommufd, IOMMU_OPTION_HUGE_PAGES,
				IOMMU_OPTION_OP_GET, self->ioas, &val));
	EXPECT_EQ(1ULL, val);
	ASSERT_EQ(0, ufd_unmap(self->iommufd, self->ioas, 0, UINT64_MAX,
			       NULL));
	val = 0;
	EXPECT_EQ(0, ufd_option(self->iommufd, IOMMU_OPTION_HUGE_PAGES,
				IOMMU_OPTION_OP_SET, self->ioas, &val));
	val = 1;
	EXPECT_EQ(0, ufd_option(self->iommufd, IOMMU_OPTION_HUGE_PAGES,
				IOMMU_OPTION_OP_GET, self->ioas, &val));
	EXPECT_EQ(0ULL, val);
	/* Mapping goes on with it off. */
	EXPECT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf, MIB,
				   IOVA_A));
	EXPECT_EQ(1, ufd_is_mapped(self->iommufd, self->ioas, IOVA_A, MIB));
}

/* HWPT_ALLOC on the IOAS, then attach to it: a replacement. */
TEST_F(dev, hwpt_replace)
{
	uint32_t hwpt, pt;

	bind_attach(_metadata, self);
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->devid, self->ioas, 0,
				&hwpt));
	EXPECT_NE(self->hwpt, hwpt);
	pt = hwpt;
	ASSERT_EQ(0, dev_attach(self->devfd, &pt));
	EXPECT_EQ(hwpt, pt);
	/* The automatic domain went with its last device. */
	EXPECT_EQ(-ENOENT, ufd_destroy(self->iommufd, self->hwpt));
	EXPECT_EQ(-EBUSY, ufd_destroy(self->iommufd, hwpt));
	EXPECT_EQ(-EBUSY, ufd_destroy(self->iommufd, self->ioas));

	/* Back to an automatic domain, then to the HWPT again. */
	pt = self->ioas;
	ASSERT_EQ(0, dev_attach(self->devfd, &pt));
	EXPECT_NE(hwpt, pt);
	EXPECT_NE(self->ioas, pt);
	EXPECT_EQ(-EBUSY, ufd_destroy(self->iommufd, pt));
	pt = hwpt;
	ASSERT_EQ(0, dev_attach(self->devfd, &pt));

	EXPECT_EQ(0, dev_detach(self->devfd));
	EXPECT_EQ(-EBUSY, ufd_destroy(self->iommufd, self->ioas));
	EXPECT_EQ(0, ufd_destroy(self->iommufd, hwpt));
	EXPECT_EQ(0, ufd_destroy(self->iommufd, self->ioas));
}

/* --- DMA ---------------------------------------------------------------- */

static void dma_roundtrip(struct __test_metadata *_metadata,
			  FIXTURE_DATA(dev) *self, uint64_t iova,
			  unsigned int seed)
{
	edu_dma_roundtrip(_metadata, self->bar, self->buf, iova, seed);
}

static void dma_fault(struct __test_metadata *_metadata,
		      FIXTURE_DATA(dev) *self, uint64_t iova, bool to_ram)
{
	edu_dma_fault(_metadata, self->bar, self->bdf, iova, to_ram);
}

TEST_F_TIMEOUT(dev, dma_auto_domain, 180)
{
	bind_attach(_metadata, self);
	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
				   4 * PAGE_SZ, IOVA_A));
	self->bar = edu_bar(_metadata, self->bdf, self->devfd);
	dma_roundtrip(_metadata, self, IOVA_A, 1);
	/* The same memory at a kernel-chosen IOVA, where the edu reaches. */
	ASSERT_EQ(0, ufd_unmap(self->iommufd, self->ioas, IOVA_A,
			       4 * PAGE_SZ, NULL));
	{
		struct iommu_iova_range r = { 0x100000, EDU_DMA_MASK };
		uint64_t iova = 0;

		ASSERT_EQ(0, ufd_allow_iovas(self->iommufd, self->ioas, &r,
					     1));
		ASSERT_EQ(0, ufd_map(self->iommufd, self->ioas, self->buf,
				     4 * PAGE_SZ, &iova, IOMAP_RW));
		ASSERT_GE(EDU_DMA_MASK, iova + 4 * PAGE_SZ - 1);
		dma_roundtrip(_metadata, self, iova, 2);
	}
}

TEST_F_TIMEOUT(dev, dma_hwpt, 180)
{
	uint32_t hwpt, pt;

	bind_dev(_metadata, self);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
				   4 * PAGE_SZ, IOVA_A));
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->devid, self->ioas, 0,
				&hwpt));
	pt = hwpt;
	ASSERT_EQ(0, dev_attach(self->devfd, &pt));
	self->bar = edu_bar(_metadata, self->bdf, self->devfd);
	dma_roundtrip(_metadata, self, IOVA_A, 3);

	/* Replaced by an automatic domain of the same IOAS: still mapped. */
	pt = self->ioas;
	ASSERT_EQ(0, dev_attach(self->devfd, &pt));
	dma_roundtrip(_metadata, self, IOVA_A, 4);
	/* And a mapping made after the replacement. */
	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
				   4 * PAGE_SZ, IOVA_B));
	dma_roundtrip(_metadata, self, IOVA_B, 5);
}

/*
 * DMA to and from IOVAs where nothing is mapped, or only for reading:
 * the memory is untouched and the DMAR logs the fault.
 */
TEST_F_TIMEOUT(dev, dma_faults, 180)
{
	bind_attach(_metadata, self);
	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
				   4 * PAGE_SZ, IOVA_A));
	{
		uint64_t iova = IOVA_C;

		ASSERT_EQ(0, ufd_map(self->iommufd, self->ioas,
				     self->buf + 8 * PAGE_SZ, PAGE_SZ, &iova,
				     IOMMU_IOAS_MAP_FIXED_IOVA |
				     IOMMU_IOAS_MAP_READABLE));
	}
	self->bar = edu_bar(_metadata, self->bdf, self->devfd);
	/* Something known in the device's buffer first. */
	fill(self->buf, PAGE_SZ, 7);
	ASSERT_EQ(0, dma_to_dev(self->bar, IOVA_A, 0, EDU_DMA_MAX));
	memset(self->buf, 0xaa, PAGE_SZ);

	dma_fault(_metadata, self, IOVA_B, true);
	dma_fault(_metadata, self, IOVA_B + 5 * PAGE_SZ, false);
	/* Read-only: the device reads it, cannot write it. */
	dma_fault(_metadata, self, IOVA_C, true);
	EXPECT_TRUE(all_are(self->buf, BUF_SIZE, (char)0xaa));
	fill(self->buf + 8 * PAGE_SZ, 64, 9);
	ASSERT_EQ(0, dma_to_dev(self->bar, IOVA_C, 0, 64));
	ASSERT_EQ(0, dma_to_ram(self->bar, 0, IOVA_A, 64));
	EXPECT_EQ(0, memcmp(self->buf, self->buf + 8 * PAGE_SZ, 64));

	/* After IOAS_UNMAP, the IOVA that worked faults. */
	memset(self->buf, 0xaa, BUF_SIZE);
	ASSERT_EQ(0, ufd_unmap(self->iommufd, self->ioas, IOVA_A, 4 * PAGE_SZ,
			       NULL));
	dma_fault(_metadata, self, IOVA_A, true);
	EXPECT_TRUE(all_are(self->buf, BUF_SIZE, (char)0xaa));
}

/* Bound but not attached, and detached: the device reaches nothing. */
TEST_F_TIMEOUT(dev, dma_blocked, 180)
{
	bind_dev(_metadata, self);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf,
				   4 * PAGE_SZ, IOVA_A));
	self->bar = edu_bar(_metadata, self->bdf, self->devfd);
	dma_fault(_metadata, self, IOVA_A, true);
	EXPECT_TRUE(all_are(self->buf, BUF_SIZE, (char)0xaa));

	self->hwpt = self->ioas;
	ASSERT_EQ(0, dev_attach(self->devfd, &self->hwpt));
	dma_roundtrip(_metadata, self, IOVA_A, 11);

	ASSERT_EQ(0, dev_detach(self->devfd));
	memset(self->buf, 0xaa, BUF_SIZE);
	dma_fault(_metadata, self, IOVA_A, true);
	EXPECT_TRUE(all_are(self->buf, BUF_SIZE, (char)0xaa));
}

/* --- accounting with a domain ------------------------------------------- */

/* Upstream pins to fill a domain: VmPin follows maps on both stacks. */
TEST_F_TIMEOUT(dev, vmpin, 120)
{
	long base, kb = MIB / KIB;
	uint64_t iova = 0;

	base = vmpin_kb();
	ASSERT_LE(0, base);
	bind_attach(_metadata, self);

	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf, MIB,
				   IOVA_A));
	EXPECT_EQ(base + kb, vmpin_kb());
	ASSERT_EQ(0, ufd_map(self->iommufd, self->ioas, self->buf + MIB,
			     2 * MIB, &iova, IOMAP_RW));
	EXPECT_EQ(base + 3 * kb, vmpin_kb());
	ASSERT_EQ(0, ufd_unmap(self->iommufd, self->ioas, IOVA_A, MIB, NULL));
	EXPECT_EQ(base + 2 * kb, vmpin_kb());
	ASSERT_EQ(0, ufd_unmap(self->iommufd, self->ioas, 0, UINT64_MAX,
			       NULL));
	EXPECT_EQ(base, vmpin_kb());

	/* Closing the device then the iommufd with memory mapped. */
	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf, MIB,
				   IOVA_A));
	EXPECT_EQ(base + kb, vmpin_kb());
	close(self->devfd);
	self->devfd = -1;
	EXPECT_EQ(base + pin_without_domain() * kb, vmpin_kb());
	close(self->iommufd);
	self->iommufd = -1;
	EXPECT_EQ(base, vmpin_kb());
}

/*
 * Memory mapped before the device is attached: charged by the time the
 * domain holds it; after detach, only where mappings pin without a domain.
 */
TEST_F_TIMEOUT(dev, vmpin_attach_detach, 120)
{
	long base, kb = MIB / KIB;
	uint32_t pt;

	base = vmpin_kb();
	bind_dev(_metadata, self);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf, MIB,
				   IOVA_A));
	EXPECT_EQ(base + pin_without_domain() * kb, vmpin_kb());
	pt = self->ioas;
	ASSERT_EQ(0, dev_attach(self->devfd, &pt));
	EXPECT_EQ(base + kb, vmpin_kb());
	ASSERT_EQ(0, dev_detach(self->devfd));
	EXPECT_EQ(base + pin_without_domain() * kb, vmpin_kb());
	ASSERT_EQ(0, ufd_destroy(self->iommufd, self->ioas));
	EXPECT_EQ(base, vmpin_kb());
}

/*
 * The same memory mapped twice into the attached IOAS, and copied to a
 * second IOAS that the second edu is attached to.  Ours charges it once;
 * upstream charges each IOAS_MAP, and a copy shares its source's pages.
 */
TEST_F_TIMEOUT(dev, vmpin_shared, 180)
{
	long base, kb = MIB / KIB, twice;
	uint32_t ioas2, devid1, pt;
	uint64_t iova = IOVA_C;
	int fd1;

	base = vmpin_kb();
	bind_attach(_metadata, self);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &ioas2));

	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf, MIB,
				   IOVA_A));
	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, self->buf, MIB,
				   IOVA_B));
	twice = pin_once() ? kb : 2 * kb;
	TH_LOG("mapped twice: VmPin +%ld kB", vmpin_kb() - base);
	EXPECT_EQ(base + twice, vmpin_kb());

	ASSERT_EQ(0, ufd_copy(self->iommufd, ioas2, self->ioas, IOVA_A, MIB,
			      &iova, IOMAP_FIXED_RW));
	TH_LOG("and copied: VmPin +%ld kB", vmpin_kb() - base);
	EXPECT_EQ(base + twice, vmpin_kb());

	/* A domain for the second IOAS. */
	edu_find(_metadata, 1, self->bdf1);
	edu_take(_metadata, self->bdf1);
	fd1 = edu_open(_metadata, self->bdf1);
	self->more[0] = fd1;
	ASSERT_EQ(0, dev_bind(fd1, self->iommufd, &devid1));
	pt = ioas2;
	ASSERT_EQ(0, dev_attach(fd1, &pt));
	TH_LOG("and the copy in a second domain: VmPin +%ld kB",
	       vmpin_kb() - base);
	EXPECT_EQ(base + twice, vmpin_kb());

	/* The copy keeps the memory of its source charged, once. */
	ASSERT_EQ(0, ufd_unmap(self->iommufd, self->ioas, 0, UINT64_MAX,
			       NULL));
	EXPECT_EQ(base + kb, vmpin_kb());
	ASSERT_EQ(0, ufd_unmap(self->iommufd, ioas2, 0, UINT64_MAX, NULL));
	EXPECT_EQ(base, vmpin_kb());
}

/*
 * A process without CAP_IPC_LOCK maps beyond its RLIMIT_MEMLOCK: ENOMEM
 * and nothing charged; within it, the pages count in VmPin and, in
 * IOMMU_OPTION_RLIMIT_MODE 1 (per process), in VmLck.
 */
static void rlimit_child(struct __test_metadata *_metadata,
			 FIXTURE_DATA(dev) *self, bool mm_mode)
{
	struct rlimit rl = { 64 * KIB, 64 * KIB };
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		long pin, lck, lck_kb = mm_mode ? 32 : 0;

		if (cap_drop(CAP_IPC_LOCK) || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(10);
		pin = vmpin_kb();
		lck = vmlck_kb();
		if (pin < 0 || lck < 0)
			_exit(11);
		if (ufd_map_fixed(self->iommufd, self->ioas, self->buf, MIB,
				  IOVA_A) != -ENOMEM)
			_exit(12);
		if (vmpin_kb() != pin || vmlck_kb() != lck)
			_exit(13);
		if (ufd_map_fixed(self->iommufd, self->ioas, self->buf,
				  32 * KIB, IOVA_A))
			_exit(14);
		if (vmpin_kb() != pin + 32 || vmlck_kb() != lck + lck_kb)
			_exit(15);
		/* 32 + 64 KiB would be over the limit. */
		if (ufd_map_fixed(self->iommufd, self->ioas, self->buf + MIB,
				  64 * KIB, IOVA_B) != -ENOMEM)
			_exit(16);
		if (ufd_unmap(self->iommufd, self->ioas, IOVA_A, 32 * KIB,
			      NULL))
			_exit(17);
		if (vmpin_kb() != pin || vmlck_kb() != lck)
			_exit(18);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("the child failed at step %d (its _exit code)",
		       WEXITSTATUS(status));
	EXPECT_EQ(0, ufd_is_mapped(self->iommufd, self->ioas, IOVA_A,
				   PAGE_SZ));
}

TEST_F_TIMEOUT(dev, rlimit_memlock, 120)
{
	uint64_t val = 5;

	bind_attach(_metadata, self);
	ASSERT_EQ(0, ufd_option(self->iommufd, IOMMU_OPTION_RLIMIT_MODE,
				IOMMU_OPTION_OP_GET, 0, &val));
	ASSERT_EQ(0ULL, val);
	rlimit_child(_metadata, self, false);
}

TEST_F_TIMEOUT(dev, rlimit_memlock_per_process, 120)
{
	uint64_t val = 1;

	/* Only while the context is empty: before bind. */
	ASSERT_EQ(0, ufd_option(self->iommufd, IOMMU_OPTION_RLIMIT_MODE,
				IOMMU_OPTION_OP_SET, 0, &val));
	bind_attach(_metadata, self);
	EXPECT_EQ(-EBUSY, ufd_option(self->iommufd, IOMMU_OPTION_RLIMIT_MODE,
				     IOMMU_OPTION_OP_SET, 0, &val));
	rlimit_child(_metadata, self, true);
}

/*
 * The charge of pinned memory follows the memory, not the program: a
 * process maps with CAP_IPC_LOCK dropped and RLIMIT_MEMLOCK at 64 KiB,
 * then execs (the iommufd kept open); the new program's mm starts with
 * nothing charged, and an unmap of the mapping made before the exec gives
 * the charge back where it was taken (upstream fixed accounting that went
 * to whatever mm was current, in type1 and in iommufd).
 *
 * The program after the exec is this one again: VFIODEV_EXEC_HELPER ("FD
 * IOAS MODE") makes it run exec_helper() before the harness, and exit
 * with the step that failed (0 for none).
 */
#define EXEC_LIMIT	(64 * KIB)

static int exec_helper_steps(int fd, uint32_t ioas, bool mm_mode)
{
	long pin, lck;
	char *buf;

	if (cap_drop(CAP_IPC_LOCK))
		return 20;
	/* A new mm: nothing of the old one's charge. */
	if (vmpin_kb() != 0 || vmlck_kb() != 0)
		return 21;
	buf = mmap(NULL, 2 * EXEC_LIMIT, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		return 22;
	/*
	 * Per process, the limit is this mm's alone: 64 KiB go through.
	 * Per user, the 32 KiB mapped before the exec still count.
	 */
	if (mm_mode) {
		if (ufd_map_fixed(fd, ioas, buf, EXEC_LIMIT, IOVA_B))
			return 23;
	} else {
		if (ufd_map_fixed(fd, ioas, buf, EXEC_LIMIT, IOVA_B) != -ENOMEM)
			return 24;
		if (ufd_map_fixed(fd, ioas, buf, EXEC_LIMIT / 2, IOVA_B))
			return 25;
	}
	pin = vmpin_kb();
	lck = vmlck_kb();
	if (pin != (long)(mm_mode ? EXEC_LIMIT : EXEC_LIMIT / 2) / 1024 ||
	    lck != (mm_mode ? pin : 0))
		return 26;
	/* The old mapping goes: its charge leaves the old mm, not this one. */
	if (ufd_unmap(fd, ioas, IOVA_A, EXEC_LIMIT / 2, NULL))
		return 27;
	if (vmpin_kb() != pin || vmlck_kb() != lck)
		return 28;
	/* Per user, the room it leaves can be taken; per process, none. */
	if (mm_mode) {
		if (ufd_map_fixed(fd, ioas, buf + EXEC_LIMIT, PAGE_SZ,
				  IOVA_C) != -ENOMEM)
			return 29;
	} else {
		if (ufd_map_fixed(fd, ioas, buf + EXEC_LIMIT, EXEC_LIMIT / 2,
				  IOVA_C))
			return 30;
		if (ufd_unmap(fd, ioas, IOVA_C, EXEC_LIMIT / 2, NULL))
			return 31;
	}
	if (ufd_unmap(fd, ioas, IOVA_B, mm_mode ? EXEC_LIMIT : EXEC_LIMIT / 2,
		      NULL))
		return 32;
	if (vmpin_kb() != 0 || vmlck_kb() != 0)
		return 33;
	return 0;
}

__attribute__((constructor)) static void exec_helper(void)
{
	const char *arg = getenv("VFIODEV_EXEC_HELPER");
	unsigned int ioas;
	int fd, mode;

	if (!arg)
		return;
	if (sscanf(arg, "%d %u %d", &fd, &ioas, &mode) != 3)
		_exit(19);
	_exit(exec_helper_steps(fd, ioas, mode));
}

static void pins_across_exec(struct __test_metadata *_metadata,
			     FIXTURE_DATA(dev) *self, bool mm_mode)
{
	struct rlimit rl = { EXEC_LIMIT, EXEC_LIMIT };
	long before = guest_pinned_pages();
	int status, fd;
	char arg[64];
	pid_t pid;

	ASSERT_LE(0, before);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (cap_drop(CAP_IPC_LOCK) || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(10);
		if (ufd_map_fixed(self->iommufd, self->ioas, self->buf,
				  EXEC_LIMIT / 2, IOVA_A))
			_exit(11);
		if (vmpin_kb() != (long)EXEC_LIMIT / 2048 ||
		    vmlck_kb() != (mm_mode ? (long)EXEC_LIMIT / 2048 : 0))
			_exit(12);
		/* The iommufd goes along, without O_CLOEXEC. */
		fd = dup(self->iommufd);
		if (fd < 0)
			_exit(13);
		snprintf(arg, sizeof(arg), "%d %u %d", fd, self->ioas, mm_mode);
		setenv("VFIODEV_EXEC_HELPER", arg, 1);
		execl("/proc/self/exe", "iommufd_device", (char *)NULL);
		_exit(14);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("failed at step %d (10-14 before the exec, 19-33 after)",
		       WEXITSTATUS(status));
	EXPECT_EQ(0, ufd_is_mapped(self->iommufd, self->ioas, IOVA_A, PAGE_SZ));
	EXPECT_EQ(0, ufd_is_mapped(self->iommufd, self->ioas, IOVA_B, PAGE_SZ));
	EXPECT_EQ(before, guest_pinned_pages());

	/* Nothing of it stays charged: a new process maps the whole limit. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (cap_drop(CAP_IPC_LOCK) || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(10);
		if (ufd_map_fixed(self->iommufd, self->ioas, self->buf,
				  EXEC_LIMIT, IOVA_A))
			_exit(15);
		_exit(ufd_unmap(self->iommufd, self->ioas, IOVA_A, EXEC_LIMIT,
				NULL) ? 16 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("the whole limit after the exec: step %d",
		       WEXITSTATUS(status));
}

TEST_F_TIMEOUT(dev, pins_across_exec, 120)
{
	bind_attach(_metadata, self);
	pins_across_exec(_metadata, self, false);
}

TEST_F_TIMEOUT(dev, pins_across_exec_per_process, 120)
{
	uint64_t val = 1;

	ASSERT_EQ(0, ufd_option(self->iommufd, IOMMU_OPTION_RLIMIT_MODE,
				IOMMU_OPTION_OP_SET, 0, &val));
	bind_attach(_metadata, self);
	pins_across_exec(_metadata, self, true);
}

/* Memory that cannot be pinned as asked: EFAULT, nothing charged. */
TEST_F(dev, map_bad_memory)
{
	uint64_t iova = IOVA_A;
	long base;
	char *p;

	bind_attach(_metadata, self);
	base = vmpin_kb();

	p = mmap(NULL, 4 * PAGE_SZ, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* Not mapped at all. */
	ASSERT_EQ(0, munmap(p + 2 * PAGE_SZ, 2 * PAGE_SZ));
	EXPECT_EQ(-EFAULT, ufd_map_fixed(self->iommufd, self->ioas,
					 p + 2 * PAGE_SZ, PAGE_SZ, IOVA_A));
	EXPECT_EQ(-EFAULT, ufd_map_fixed(self->iommufd, self->ioas, p,
					 4 * PAGE_SZ, IOVA_A));
	/* Read-only memory mapped writeable. */
	EXPECT_EQ(-EFAULT, ufd_map_fixed(self->iommufd, self->ioas, p,
					 2 * PAGE_SZ, IOVA_A));
	EXPECT_EQ(base, vmpin_kb());
	EXPECT_EQ(0, ufd_is_mapped(self->iommufd, self->ioas, IOVA_A,
				   PAGE_SZ));
	/* ... but readable only, fine. */
	EXPECT_EQ(0, ufd_map(self->iommufd, self->ioas, p, 2 * PAGE_SZ, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA |
			     IOMMU_IOAS_MAP_READABLE));
	EXPECT_EQ(base + 8, vmpin_kb());
	EXPECT_EQ(0, ufd_unmap(self->iommufd, self->ioas, IOVA_A, 2 * PAGE_SZ,
			       NULL));
	munmap(p, 2 * PAGE_SZ);
}

/* --- vfiodev's extensions ----------------------------------------------- */

#define NOT_UPSTREAM	"a vfiodev extension, not in upstream"

static bool snoop_control(struct __test_metadata *_metadata, const char *bdf)
{
	return dmar_reg(_metadata, bdf, "ecap") & 0x80;
}

TEST_F(dev, coherency_sysfs)
{
	char path[PATH_MAX], name[64], val[16];
	bool sc;

	if (stack_is_upstream())
		SKIP(return, NOT_UPSTREAM);
	sc = snoop_control(_metadata, self->bdf);
	ASSERT_EQ(0, vfio_dev_name(self->bdf, name, sizeof(name)));
	snprintf(path, sizeof(path),
		 PCI_SYSFS "/devices/%s/vfio-dev/%s/vfiodev_enforce_cache_coherency",
		 self->bdf, name);
	ASSERT_EQ(0, sysfs_read(path, val, sizeof(val))) TH_LOG("%s", path);
	EXPECT_STREQ(sc ? "1" : "0", val);
	/* The same once bound and attached. */
	bind_attach(_metadata, self);
	ASSERT_EQ(0, sysfs_read(path, val, sizeof(val)));
	EXPECT_STREQ(sc ? "1" : "0", val);
}

TEST_F(dev, device_info)
{
	const uint64_t cap = VFIODEV_IOMMU_DEVICE_CAP_ENFORCE_CACHE_COHERENCY;
	const uint64_t enforcing = VFIODEV_IOMMU_DEVICE_ENFORCING;
	uint64_t caps = 0;
	uint32_t hwpt, pt;
	bool sc;

	if (stack_is_upstream())
		SKIP(return, NOT_UPSTREAM);
	sc = snoop_control(_metadata, self->bdf);
	bind_dev(_metadata, self);

	ASSERT_EQ(0, dev_caps(self->iommufd, self->devid, &caps));
	EXPECT_EQ(sc, !!(caps & cap));
	EXPECT_EQ(0ULL, caps & enforcing) TH_LOG("enforcing, not attached");
	EXPECT_EQ(0ULL, caps & ~(cap | enforcing));

	/* An automatic domain enforces coherency when it can. */
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	pt = self->ioas;
	ASSERT_EQ(0, dev_attach(self->devfd, &pt));
	ASSERT_EQ(0, dev_caps(self->iommufd, self->devid, &caps));
	EXPECT_EQ(sc, !!(caps & cap));
	EXPECT_EQ(!!(caps & cap), !!(caps & enforcing));

	/* So does an HWPT allocated for the device. */
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->devid, self->ioas, 0,
				&hwpt));
	pt = hwpt;
	ASSERT_EQ(0, dev_attach(self->devfd, &pt));
	ASSERT_EQ(0, dev_caps(self->iommufd, self->devid, &caps));
	EXPECT_EQ(!!(caps & cap), !!(caps & enforcing));

	ASSERT_EQ(0, dev_detach(self->devfd));
	ASSERT_EQ(0, dev_caps(self->iommufd, self->devid, &caps));
	EXPECT_EQ(sc, !!(caps & cap));
	EXPECT_EQ(0ULL, caps & enforcing);

	/* IDs that are no device of this context. */
	EXPECT_EQ(-ENOENT, dev_caps(self->iommufd, self->devid + 100, &caps));
	EXPECT_EQ(-ENOENT, dev_caps(self->iommufd, self->ioas, &caps));
	EXPECT_EQ(-ENOENT, dev_caps(self->iommufd, hwpt, &caps));
	EXPECT_EQ(-ENOENT, dev_caps(self->iommufd, 0, &caps));
}

/* The iommufd rules for size, flags and reserved fields. */
TEST_F(dev, device_info_arguments)
{
	const uint32_t size = sizeof(struct vfiodev_iommu_device_info);
	uint32_t sizes[] = { 0, 4, offsetof(struct vfiodev_iommu_device_info,
					    dev_id), size - 1 };
	union {
		struct vfiodev_iommu_device_info info;
		uint8_t raw[2 * 4096];
	} u;
	unsigned int i;
	int other;

	if (stack_is_upstream())
		SKIP(return, NOT_UPSTREAM);
	bind_dev(_metadata, self);

#define INFO() ufd_ioctl(self->iommufd, VFIODEV_IOMMU_DEVICE_INFO, &u)
#define RESET(sz) do {							\
	memset(&u, 0, sizeof(u));					\
	u.info.size = (sz);						\
	u.info.dev_id = self->devid;					\
} while (0)

	for (i = 0; i < ARRAY_LEN(sizes); i++) {
		RESET(sizes[i]);
		EXPECT_EQ(-EINVAL, INFO()) TH_LOG("size %u", sizes[i]);
	}
	RESET(size);
	u.info.out_capabilities = 0xdeadbeef;
	EXPECT_EQ(0, INFO());
	EXPECT_EQ(0ULL, u.info.out_capabilities & ~3ULL);

	RESET(size + 8);
	u.raw[size + 7] = 1;
	EXPECT_EQ(-E2BIG, INFO());
	RESET(sizeof(u.raw));
	u.raw[size] = 1;
	EXPECT_EQ(-E2BIG, INFO());
	RESET(sizeof(u.raw));
	EXPECT_EQ(0, INFO());
	for (i = size; i < sizeof(u.raw); i++)
		if (u.raw[i])
			break;
	EXPECT_EQ(sizeof(u.raw), i) TH_LOG("written past the structure");

	RESET(size);
	u.info.flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, INFO());
	RESET(size);
	u.info.flags = 1U << 31;
	EXPECT_EQ(-EOPNOTSUPP, INFO());
	RESET(size);
	u.info.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, INFO());
	EXPECT_EQ(-EFAULT, ufd_ioctl(self->iommufd, VFIODEV_IOMMU_DEVICE_INFO,
				     NULL));

	/* Another context does not know the device. */
	other = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	self->more[0] = other;
	ASSERT_LE(0, other);
	RESET(size);
	EXPECT_EQ(-ENOENT, ufd_ioctl(other, VFIODEV_IOMMU_DEVICE_INFO, &u));
#undef RESET
#undef INFO
}

TEST_HARNESS_MAIN
