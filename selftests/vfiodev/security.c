// SPDX-License-Identifier: GPL-2.0
/*
 * What an unprivileged user may do with the nodes, and the edges of a
 * device file's regions:
 *  - the nodes' modes and owners are upstream's (a group and a device
 *    node 0600 root, /dev/iommu 0660 root, the container 0666), and a
 *    process without privilege cannot open what it must not;
 *  - a process that was handed the files but has no privilege pins no
 *    more than its RLIMIT_MEMLOCK, on both doors;
 *  - no byte the kernel does not define (padding, reserved words of an
 *    output) and nothing that looks like a kernel address reaches user
 *    space in an output structure;
 *  - every region's offset and length boundaries, read, write and mmap,
 *    answer as upstream's vfio-pci: a short access at the end of a BAR,
 *    EINVAL past it, EFAULT past the end of config space, EINVAL for a
 *    region the device does not have.
 *
 * Runs on our stack and on upstream's (VFIODEV_STACK=upstream), where the
 * reference answers come from.
 */
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <linux/vfiodev.h>

#include "kselftest_harness.h"
#include "edu_utils.h"
#include "pci_utils.h"

#define NOBODY		65534
#define REGION(i, off)	(((uint64_t)(i) << 40) + (off))

/* Becomes the unprivileged user nobody: no capability is left. */
static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -errno;
	return 0;
}

/* Runs @fn in a child; its exit status: 0, or the step that failed. */
static int in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

FIXTURE(sec) {
	char bdf[BDF_LEN];
	char group[64];
	char node[PATH_MAX];	/* "" without a device cdev (Debian's kernel) */
};

FIXTURE_SETUP(sec)
{
	char bdfs[4][BDF_LEN], name[64];

	ASSERT_LE(1, pci_find(EDU_VENDOR, EDU_DEVICE, 0, bdfs, 4));
	strcpy(self->bdf, bdfs[0]);
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(self->bdf, stack_pci_driver()));
	ASSERT_LE(0, vfio_group_id(self->bdf));
	snprintf(self->group, sizeof(self->group), "/dev/vfio/%d",
		 vfio_group_id(self->bdf));
	self->node[0] = 0;
	/* sysfs names the vfio-dev even where the kernel makes no node. */
	if (!vfio_dev_name(self->bdf, name, sizeof(name))) {
		snprintf(self->node, sizeof(self->node), "/dev/vfio/devices/%s",
			 name);
		if (access(self->node, F_OK))
			self->node[0] = 0;
	}
}

FIXTURE_TEARDOWN(sec)
{
	EXPECT_EQ(0, pci_release(self->bdf));
}

static void expect_node(struct __test_metadata *_metadata, const char *path,
			unsigned int mode)
{
	struct stat st;

	ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s", path);
	EXPECT_TRUE(S_ISCHR(st.st_mode)) TH_LOG("%s", path);
	EXPECT_EQ(mode, st.st_mode & 07777) TH_LOG("%s", path);
	EXPECT_EQ(0U, st.st_uid) TH_LOG("%s", path);
	EXPECT_EQ(0U, st.st_gid) TH_LOG("%s", path);
}

TEST_F(sec, node_modes)
{
	expect_node(_metadata, self->group, 0600);
	expect_node(_metadata, "/dev/vfio/vfio", 0666);
	if (self->node[0])
		expect_node(_metadata, self->node, 0600);
	if (!access("/dev/iommu", F_OK))
		expect_node(_metadata, "/dev/iommu", 0660);
}

static int open_errno(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

/*
 * nobody: EACCES for the group, the device node and /dev/iommu; the
 * container opens (0666) but is of no use without a group.
 */
static int unprivileged_opens(void *arg)
{
	FIXTURE_DATA(sec) *self = arg;
	int fd;

	if (drop_to_nobody())
		return 1;
	/* The directories let nobody through: EACCES is the node's own. */
	if (access("/dev/vfio", X_OK) || access(self->group, F_OK))
		return 8;
	if (open_errno(self->group) != EACCES)
		return 2;
	if (self->node[0] && open_errno(self->node) != EACCES)
		return 3;
	if (!access("/dev/iommu", F_OK) && open_errno("/dev/iommu") != EACCES)
		return 4;
	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 5;
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return 6;
	if (!ioctl(fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) || errno != EINVAL)
		return 7;
	close(fd);
	return 0;
}

TEST_F(sec, unprivileged_open)
{
	EXPECT_EQ(0, in_child(unprivileged_opens, self))
		TH_LOG("step: 1 drop, 2 group, 3 device node, 4 /dev/iommu, 5 container, 6 API version, 7 SET_IOMMU, 8 /dev/vfio not reachable");
}

/* --- pinning without privilege ------------------------------------------ */

#define PIN_LIMIT	(64 * 1024)
#define PIN_SMALL	(16 * 1024)
#define PIN_LARGE	(1024 * 1024)

struct pin_case {
	bool legacy;
	int fd;			/* /dev/iommu, or the container */
	uint32_t ioas;
	char *buf;		/* PIN_LARGE bytes */
};

static int pin(struct pin_case *c, uint64_t len, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)c->buf, .iova = iova, .size = len,
	};

	if (c->legacy)
		return ufd_ioctl(c->fd, VFIO_IOMMU_MAP_DMA, &map);
	return ufd_map_fixed(c->fd, c->ioas, c->buf, len, iova);
}

/*
 * nobody with the files open and RLIMIT_MEMLOCK of 64 KiB: 1 MiB is
 * ENOMEM, 16 KiB pin.  The parent counts the pins (only root may refresh
 * the counters): the mappings stay with the files it holds.
 */
static int unprivileged_pins(void *arg)
{
	struct rlimit rl = { PIN_LIMIT, PIN_LIMIT };
	struct pin_case *c = arg;

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || drop_to_nobody())
		return 1;
	if (pin(c, PIN_LARGE, 0x1000000) != -ENOMEM)
		return 2;
	if (pin(c, PIN_SMALL, 0x2000000))
		return 3;
	return 0;
}

static void pin_limit(struct __test_metadata *_metadata,
		      FIXTURE_DATA(sec) *self, bool legacy)
{
	struct pin_case c = { .legacy = legacy };
	long before = guest_pinned_pages();
	int group = -1, devfd = -1;

	ASSERT_LE(0, before);
	c.buf = mmap(NULL, PIN_LARGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, c.buf);
	if (legacy) {
		c.fd = vfio_container_open();
		ASSERT_LE(0, c.fd);
		group = vfio_group_open(self->bdf);
		ASSERT_LE(0, group);
		ASSERT_EQ(0, ufd_ioctl(group, VFIO_GROUP_SET_CONTAINER, &c.fd));
		ASSERT_EQ(0, ioctl(c.fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	} else {
		struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };

		c.fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, c.fd);
		ASSERT_EQ(0, ufd_ioas_alloc(c.fd, &c.ioas));
		devfd = vfio_dev_open_bound(self->bdf, c.fd, NULL);
		ASSERT_LE(0, devfd);
		at.pt_id = c.ioas;
		ASSERT_EQ(0, ufd_ioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	}
	EXPECT_EQ(0, in_child(unprivileged_pins, &c))
		TH_LOG("step: 1 drop, 2 1 MiB not ENOMEM, 3 16 KiB");
	/* The 16 KiB only: the refused 1 MiB left no pin behind. */
	EXPECT_EQ(before + (long)(PIN_SMALL / PAGE_SZ), guest_pinned_pages());
	if (devfd >= 0)
		close(devfd);
	if (group >= 0)
		close(group);
	close(c.fd);
	munmap(c.buf, PIN_LARGE);
	EXPECT_EQ(before, guest_pinned_pages());
}

TEST_F(sec, unprivileged_pin_limit_iommufd)
{
	if (access("/dev/iommu", F_OK) || !self->node[0])
		SKIP(return, "no /dev/iommu or device cdev in this kernel");
	pin_limit(_metadata, self, false);
}

TEST_F(sec, unprivileged_pin_limit_container)
{
	pin_limit(_metadata, self, true);
}

/* --- what the kernel writes back ----------------------------------------- */

/*
 * Every output structure is filled with a pattern before the call, twice
 * with two patterns.  A byte the kernel does not define (padding, a
 * reserved field of an output) must come back 0 or as the caller left it:
 * anything else is kernel memory.  No aligned 8 bytes of an output may
 * look like a kernel address either (see KERNEL_LOW).
 */
static const uint8_t fills[] = { 0xa5, 0x5a };

#define OUT_BUF		512

struct out_case {
	struct __test_metadata *md;
	const char *what;
	uint8_t fill;
	union {
		uint8_t b[OUT_BUF];
		uint64_t align;
	} u;
};

static void expect_undefined(struct out_case *c, size_t off, size_t len,
			     const char *field)
{
	struct __test_metadata *_metadata = c->md;
	size_t i;

	for (i = off; i < off + len; i++)
		EXPECT_TRUE(!c->u.b[i] || c->u.b[i] == c->fill)
			TH_LOG("%s: %s, byte %zu is %#x (filled with %#x)",
			       c->what, field, i, c->u.b[i], c->fill);
}

/*
 * x86-64's kernel half up to the end of the module area: the top 16 MiB
 * (fixmap, vsyscall) holds no object of the kernel's, and the masks and
 * negative numbers a reply does hold (a page-size bitmap ~0xfff, an errno)
 * are there.
 */
#define KERNEL_LOW	0xffff800000000000ULL
#define KERNEL_HIGH	0xffffffffff000000ULL

static void expect_no_pointer(struct out_case *c, size_t len)
{
	struct __test_metadata *_metadata = c->md;
	uint64_t v;
	size_t off;

	for (off = 0; off + 8 <= len; off += 8) {
		memcpy(&v, c->u.b + off, 8);
		EXPECT_FALSE(v >= KERNEL_LOW && v < KERNEL_HIGH)
			TH_LOG("%s: bytes %zu-%zu look like a kernel address: %#llx",
			       c->what, off, off + 7, (unsigned long long)v);
	}
}

static void out_begin(struct out_case *c, const char *what, uint8_t fill)
{
	c->what = what;
	c->fill = fill;
	memset(c->u.b, fill, sizeof(c->u.b));
}

/*
 * The capability chain of an info reply of @argsz bytes: each header in
 * the buffer, the known capabilities' undefined bytes, the end.
 */
static void expect_caps(struct out_case *c, uint32_t first, uint32_t argsz,
			bool iommu)
{
	struct __test_metadata *_metadata = c->md;
	struct vfio_info_cap_header h;
	uint32_t off = first;
	int n = 0;

	while (off) {
		ASSERT_LE((size_t)off + sizeof(h), (size_t)argsz)
			TH_LOG("%s: capability at %u", c->what, off);
		ASSERT_LE((size_t)off + sizeof(h), sizeof(c->u.b));
		ASSERT_GT(16, n++) TH_LOG("%s: a loop in the chain", c->what);
		memcpy(&h, c->u.b + off, sizeof(h));
		if (iommu && h.id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			expect_undefined(c, off + offsetof(struct vfio_iommu_type1_info_cap_iova_range, reserved),
					 4, "iova range capability, reserved");
		if (iommu && h.id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION)
			expect_undefined(c, off + offsetofend(struct vfio_iommu_type1_info_cap_migration, flags),
					 offsetof(struct vfio_iommu_type1_info_cap_migration, pgsize_bitmap) -
					 offsetofend(struct vfio_iommu_type1_info_cap_migration, flags),
					 "migration capability, padding");
		if (!iommu && h.id == VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP)
			expect_undefined(c, off + offsetof(struct vfio_device_info_cap_pci_atomic_comp, reserved),
					 4, "atomic completer capability, reserved");
		off = h.next;
	}
}

/* GET_INFO of a device file; each region's and IRQ's info. */
static void device_outputs(struct out_case *c, int fd, const char *door)
{
	struct __test_metadata *_metadata = c->md;
	struct vfio_device_info *info = (void *)c->u.b;
	struct vfio_region_info *r = (void *)c->u.b;
	struct vfio_irq_info *irq = (void *)c->u.b;
	char what[64];
	uint32_t i, regions, irqs;
	int ret;

	snprintf(what, sizeof(what), "%s VFIO_DEVICE_GET_INFO", door);
	out_begin(c, what, c->fill);
	info->argsz = OUT_BUF;
	info->flags = 0;
	ASSERT_EQ(0, ufd_ioctl(fd, VFIO_DEVICE_GET_INFO, info));
	regions = info->num_regions;
	irqs = info->num_irqs;
	expect_undefined(c, offsetof(struct vfio_device_info, pad), 4, "pad");
	if (info->flags & VFIO_DEVICE_FLAGS_CAPS)
		expect_caps(c, info->cap_offset, OUT_BUF, false);
	expect_no_pointer(c, OUT_BUF);

	for (i = 0; i < regions; i++) {
		snprintf(what, sizeof(what), "%s region %u info", door, i);
		out_begin(c, what, c->fill);
		r->argsz = OUT_BUF;
		r->index = i;
		r->flags = 0;
		r->cap_offset = 0;
		if (ufd_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, r))
			continue;
		if (r->flags & VFIO_REGION_INFO_FLAG_CAPS) {
			struct vfio_info_cap_header h;
			uint32_t off = r->cap_offset;
			int n = 0;

			/* A sparse mmap capability's reserved word. */
			while (off && off + sizeof(h) <= OUT_BUF && n++ < 16) {
				memcpy(&h, c->u.b + off, sizeof(h));
				if (h.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP)
					expect_undefined(c, off + offsetof(struct vfio_region_info_cap_sparse_mmap, reserved),
							 4, "sparse mmap, reserved");
				off = h.next;
			}
		}
		/* A region's offset is the file's: no address in it. */
		expect_no_pointer(c, OUT_BUF);
	}
	for (i = 0; i < irqs; i++) {
		snprintf(what, sizeof(what), "%s IRQ %u info", door, i);
		out_begin(c, what, c->fill);
		irq->argsz = sizeof(*irq);
		irq->index = i;
		irq->flags = 0;
		irq->count = 0;
		ret = ufd_ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, irq);
		/* The error IRQ of a device that is not PCIe: none. */
		if (ret == -EINVAL && i == VFIO_PCI_ERR_IRQ_INDEX)
			continue;
		ASSERT_EQ(0, ret) TH_LOG("%s", what);
		expect_undefined(c, sizeof(*irq), OUT_BUF - sizeof(*irq),
				 "past argsz");
		expect_no_pointer(c, OUT_BUF);
	}
}

static void legacy_outputs(struct out_case *c, FIXTURE_DATA(sec) *self)
{
	struct __test_metadata *_metadata = c->md;
	struct vfio_iommu_type1_info *info = (void *)c->u.b;
	struct vfio_group_status *st = (void *)c->u.b;
	int container, group, fd;

	container = vfio_container_open();
	ASSERT_LE(0, container);
	group = vfio_group_open(self->bdf);
	ASSERT_LE(0, group);

	out_begin(c, "VFIO_GROUP_GET_STATUS", c->fill);
	st->argsz = sizeof(*st);
	st->flags = 0;
	ASSERT_EQ(0, ufd_ioctl(group, VFIO_GROUP_GET_STATUS, st));
	expect_undefined(c, sizeof(*st), OUT_BUF - sizeof(*st), "past argsz");

	ASSERT_EQ(0, ufd_ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));
	ASSERT_EQ(0, ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	out_begin(c, "VFIO_IOMMU_GET_INFO", c->fill);
	info->argsz = OUT_BUF;
	info->flags = 0;
	ASSERT_EQ(0, ufd_ioctl(container, VFIO_IOMMU_GET_INFO, info));
	expect_undefined(c, offsetof(struct vfio_iommu_type1_info, pad), 4, "pad");
	if (info->flags & VFIO_IOMMU_INFO_CAPS)
		expect_caps(c, info->cap_offset, OUT_BUF, true);
	expect_no_pointer(c, OUT_BUF);

	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	ASSERT_LE(0, fd);
	device_outputs(c, fd, "group's");
	close(fd);
	close(group);
	close(container);
}

/* Nothing written past the @used bytes of a reply, no address in them. */
static void expect_reply(struct out_case *c, size_t used)
{
	expect_undefined(c, used, OUT_BUF - used, "past size");
	expect_no_pointer(c, used);
}

/*
 * The replies of iommufd's object calls, on an IOAS with the device
 * attached: each input set afresh over the pattern, the reserved inputs
 * 0 (they must be), and only the reply's own fields written.
 */
static void iommufd_outputs(struct out_case *c, int ifd, int fd,
			    uint32_t devid)
{
	struct __test_metadata *_metadata = c->md;
	struct iommu_ioas_alloc *al = (void *)c->u.b;
	struct iommu_ioas_map *map = (void *)c->u.b;
	struct iommu_ioas_iova_ranges *rg = (void *)c->u.b;
	struct iommu_option *opt = (void *)c->u.b;
	struct iommu_hwpt_alloc *hw = (void *)c->u.b;
	struct vfio_device_attach_iommufd_pt *at = (void *)c->u.b;
	struct iommu_iova_range ranges[16];
	uint32_t ioas, hwpt, i;
	void *mem;

	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);

	out_begin(c, "IOMMU_IOAS_ALLOC", c->fill);
	al->size = sizeof(*al);
	al->flags = 0;
	ASSERT_EQ(0, ufd_ioctl(ifd, IOMMU_IOAS_ALLOC, al));
	ioas = al->out_ioas_id;
	expect_reply(c, sizeof(*al));

	out_begin(c, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", c->fill);
	at->argsz = sizeof(*at);
	at->flags = 0;
	at->pt_id = ioas;
	ASSERT_EQ(0, ufd_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, at));
	expect_reply(c, sizeof(*at));

	out_begin(c, "IOMMU_IOAS_MAP", c->fill);
	map->size = sizeof(*map);
	map->flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
	map->ioas_id = ioas;
	map->__reserved = 0;
	map->user_va = (uintptr_t)mem;
	map->length = 4096;
	ASSERT_EQ(0, ufd_ioctl(ifd, IOMMU_IOAS_MAP, map));
	expect_reply(c, sizeof(*map));

	out_begin(c, "IOMMU_IOAS_IOVA_RANGES", c->fill);
	memset(ranges, c->fill, sizeof(ranges));
	rg->size = sizeof(*rg);
	rg->ioas_id = ioas;
	rg->num_iovas = ARRAY_LEN(ranges);
	rg->__reserved = 0;
	rg->allowed_iovas = (uintptr_t)ranges;
	ASSERT_EQ(0, ufd_ioctl(ifd, IOMMU_IOAS_IOVA_RANGES, rg));
	EXPECT_EQ(0U, rg->__reserved);
	expect_reply(c, sizeof(*rg));
	ASSERT_GE(ARRAY_LEN(ranges), rg->num_iovas);
	for (i = rg->num_iovas; i < ARRAY_LEN(ranges); i++)
		EXPECT_TRUE(all_are((const char *)&ranges[i], sizeof(ranges[i]), (char)c->fill))
			TH_LOG("IOMMU_IOAS_IOVA_RANGES: range %u of %u written",
			       i, rg->num_iovas);

	out_begin(c, "IOMMU_OPTION get", c->fill);
	opt->size = sizeof(*opt);
	opt->option_id = IOMMU_OPTION_HUGE_PAGES;
	opt->op = IOMMU_OPTION_OP_GET;
	opt->__reserved = 0;
	opt->object_id = ioas;
	ASSERT_EQ(0, ufd_ioctl(ifd, IOMMU_OPTION, opt));
	EXPECT_EQ(0U, opt->__reserved);
	expect_reply(c, sizeof(*opt));

	out_begin(c, "IOMMU_HWPT_ALLOC", c->fill);
	memset(hw, 0, sizeof(*hw));
	hw->size = sizeof(*hw);
	hw->dev_id = devid;
	hw->pt_id = ioas;
	ASSERT_EQ(0, ufd_ioctl(ifd, IOMMU_HWPT_ALLOC, hw));
	hwpt = hw->out_hwpt_id;
	EXPECT_EQ(0U, hw->__reserved);
	EXPECT_EQ(0U, hw->__reserved2);
	expect_reply(c, sizeof(*hw));

	/* Attached to the HWPT, the reply names it. */
	out_begin(c, "VFIO_DEVICE_ATTACH_IOMMUFD_PT (HWPT)", c->fill);
	at->argsz = sizeof(*at);
	at->flags = 0;
	at->pt_id = hwpt;
	ASSERT_EQ(0, ufd_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, at));
	EXPECT_EQ(hwpt, at->pt_id);
	expect_reply(c, sizeof(*at));

	/* Back to where the other outputs expect it: detached, all gone. */
	{
		struct vfio_device_detach_iommufd_pt de = { .argsz = sizeof(de) };

		EXPECT_EQ(0, ufd_ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &de));
	}
	EXPECT_EQ(0, ufd_destroy(ifd, hwpt));
	EXPECT_EQ(0, ufd_destroy(ifd, ioas));
	munmap(mem, 4096);
}

static void cdev_outputs(struct out_case *c, FIXTURE_DATA(sec) *self)
{
	struct __test_metadata *_metadata = c->md;
	struct vfio_device_bind_iommufd *bind = (void *)c->u.b;
	struct iommu_hw_info *hw = (void *)c->u.b;
	uint8_t data[64];
	uint32_t devid;
	int ifd, fd;

	ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ifd);
	fd = vfio_dev_open(self->bdf);
	ASSERT_LE(0, fd);
	out_begin(c, "VFIO_DEVICE_BIND_IOMMUFD", c->fill);
	bind->argsz = sizeof(*bind);
	bind->flags = 0;
	bind->iommufd = ifd;
	ASSERT_EQ(0, ufd_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, bind));
	devid = bind->out_devid;
	expect_undefined(c, sizeof(*bind), OUT_BUF - sizeof(*bind), "past argsz");

	out_begin(c, "IOMMU_GET_HW_INFO", c->fill);
	memset(data, c->fill, sizeof(data));
	hw->size = sizeof(*hw);
	hw->flags = 0;
	hw->dev_id = devid;
	hw->data_len = sizeof(data);
	hw->data_uptr = (uintptr_t)data;
	/* An input that must be 0; it is left so. */
	memset(hw->__reserved, 0, sizeof(hw->__reserved));
	ASSERT_EQ(0, ufd_ioctl(ifd, IOMMU_GET_HW_INFO, hw));
	expect_undefined(c, offsetof(struct iommu_hw_info, __reserved),
			 sizeof(hw->__reserved), "__reserved");
	expect_no_pointer(c, OUT_BUF);
	if (hw->out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD) {
		struct out_case *d = c;

		/* The data, checked in the same way in its own buffer. */
		memcpy(d->u.b, data, sizeof(data));
		d->what = "IOMMU_GET_HW_INFO VT-d data";
		expect_undefined(d, offsetof(struct iommu_hw_info_vtd, __reserved),
				 4, "__reserved");
		/* Past what the kernel has: zeroed (the ABI's rule). */
		expect_undefined(d, sizeof(struct iommu_hw_info_vtd),
				 sizeof(data) - sizeof(struct iommu_hw_info_vtd),
				 "past the data");
	}

	if (!stack_is_upstream()) {
		struct vfiodev_iommu_device_info *di = (void *)c->u.b;

		out_begin(c, "VFIODEV_IOMMU_DEVICE_INFO", c->fill);
		di->size = sizeof(*di);
		di->flags = 0;
		di->dev_id = devid;
		di->__reserved = 0;
		ASSERT_EQ(0, ufd_ioctl(ifd, VFIODEV_IOMMU_DEVICE_INFO, di));
		EXPECT_EQ(0U, di->__reserved);
		expect_undefined(c, sizeof(*di), OUT_BUF - sizeof(*di), "past size");
		expect_no_pointer(c, sizeof(*di));
	}
	iommufd_outputs(c, ifd, fd, devid);
	device_outputs(c, fd, "cdev's");
	close(fd);
	close(ifd);
}

TEST_F(sec, output_padding)
{
	static struct out_case c;
	unsigned int i;

	c.md = _metadata;
	for (i = 0; i < ARRAY_LEN(fills); i++) {
		c.fill = fills[i];
		legacy_outputs(&c, self);
		if (self->node[0] && !access("/dev/iommu", F_OK))
			cdev_outputs(&c, self);
	}
}

/* --- region boundaries -------------------------------------------------- */

/* A device file: the cdev bound to /dev/iommu, else the group's. */
static int device_file(struct __test_metadata *_metadata,
		       FIXTURE_DATA(sec) *self, int *keep)
{
	int fd;

	if (self->node[0] && !access("/dev/iommu", F_OK)) {
		keep[0] = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		fd = vfio_dev_open_bound(self->bdf, keep[0], NULL);
		return fd < 0 ? -1 : fd;
	}
	keep[0] = vfio_container_open();
	keep[1] = vfio_group_open(self->bdf);
	if (keep[0] < 0 || keep[1] < 0 ||
	    ufd_ioctl(keep[1], VFIO_GROUP_SET_CONTAINER, &keep[0]) ||
	    ioctl(keep[0], VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -1;
	fd = ioctl(keep[1], VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	return fd;
}

/* -1 and errno of a pread/pwrite, or its count. */
static long rw(int fd, bool wr, size_t len, uint64_t off)
{
	uint8_t buf[16] = { 0 };
	ssize_t n = wr ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);

	return n < 0 ? -errno : n;
}

static int map_errno(int fd, size_t len, uint64_t off, int flags)
{
	void *p = mmap(NULL, len, PROT_READ, flags, fd, off);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, len);
	return 0;
}

TEST_F(sec, region_boundaries)
{
	struct vfio_device_info dev = { .argsz = sizeof(dev) };
	struct vfio_region_info r = { .argsz = sizeof(r) };
	uint64_t bar0, cfg;
	int keep[2] = { -1, -1 }, fd, wr;
	unsigned int i;

	fd = device_file(_metadata, self, keep);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ufd_ioctl(fd, VFIO_DEVICE_GET_INFO, &dev));
	ASSERT_EQ((uint32_t)VFIO_PCI_NUM_REGIONS, dev.num_regions);
	r.index = VFIO_PCI_BAR0_REGION_INDEX;
	ASSERT_EQ(0, ufd_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &r));
	bar0 = r.size;
	ASSERT_EQ((uint64_t)MIB, bar0);
	r.index = VFIO_PCI_CONFIG_REGION_INDEX;
	ASSERT_EQ(0, ufd_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &r));
	cfg = r.size;
	ASSERT_LE(256ULL, cfg);

	for (wr = 0; wr < 2; wr++) {
		/* BAR0: a short access at its end, EINVAL from there on. */
		EXPECT_EQ(4, rw(fd, wr, 4, REGION(0, bar0 - 4)));
		EXPECT_EQ(4, rw(fd, wr, 8, REGION(0, bar0 - 4)));
		EXPECT_EQ(-EINVAL, rw(fd, wr, 4, REGION(0, bar0)));
		EXPECT_EQ(-EINVAL, rw(fd, wr, 4, REGION(0, bar0 + PAGE_SZ)));
		EXPECT_EQ(-EINVAL, rw(fd, wr, 4, REGION(0, (1ULL << 40) - 4)));
		/* The BARs the edu does not have, the ROM, VGA, none at all. */
		for (i = VFIO_PCI_BAR1_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++)
			EXPECT_EQ(-EINVAL, rw(fd, wr, 4, REGION(i, 0))) TH_LOG("BAR%u", i);
		EXPECT_EQ(-EINVAL, rw(fd, wr, 4, REGION(VFIO_PCI_ROM_REGION_INDEX, 0)));
		EXPECT_EQ(-EINVAL, rw(fd, wr, 4, REGION(VFIO_PCI_VGA_REGION_INDEX, 0)));
		EXPECT_EQ(-EINVAL, rw(fd, wr, 4, REGION(dev.num_regions, 0)));
		EXPECT_EQ(-EINVAL, rw(fd, wr, 4, REGION(0xffffff, 0)));
	}
	/* Config space: whole accesses inside it, EFAULT for any outside. */
	EXPECT_EQ(4, rw(fd, false, 4, REGION(VFIO_PCI_CONFIG_REGION_INDEX, cfg - 4)));
	EXPECT_EQ(-EFAULT, rw(fd, false, 4, REGION(VFIO_PCI_CONFIG_REGION_INDEX, cfg - 2)));
	EXPECT_EQ(-EFAULT, rw(fd, false, 4, REGION(VFIO_PCI_CONFIG_REGION_INDEX, cfg)));
	EXPECT_EQ(-EFAULT, rw(fd, true, 4, REGION(VFIO_PCI_CONFIG_REGION_INDEX, cfg)));
	EXPECT_EQ(-EFAULT, rw(fd, false, 4,
			      REGION(VFIO_PCI_CONFIG_REGION_INDEX, (1ULL << 40) - 4)));

	/* mmap: all of BAR0 and its last page; nothing past it. */
	EXPECT_EQ(0, map_errno(fd, bar0, REGION(0, 0), MAP_SHARED));
	EXPECT_EQ(0, map_errno(fd, PAGE_SZ, REGION(0, bar0 - PAGE_SZ), MAP_SHARED));
	EXPECT_EQ(EINVAL, map_errno(fd, bar0 + PAGE_SZ, REGION(0, 0), MAP_SHARED));
	EXPECT_EQ(EINVAL, map_errno(fd, 2 * PAGE_SZ, REGION(0, bar0 - PAGE_SZ),
				    MAP_SHARED));
	EXPECT_EQ(EINVAL, map_errno(fd, PAGE_SZ, REGION(0, bar0), MAP_SHARED));
	EXPECT_EQ(EINVAL, map_errno(fd, PAGE_SZ, REGION(0, 0), MAP_PRIVATE));
	for (i = VFIO_PCI_BAR1_REGION_INDEX; i < dev.num_regions + 2; i++)
		EXPECT_EQ(EINVAL, map_errno(fd, PAGE_SZ, REGION(i, 0), MAP_SHARED))
			TH_LOG("region %u", i);

	close(fd);
	if (keep[1] >= 0)
		close(keep[1]);
	if (keep[0] >= 0)
		close(keep[0]);
}

TEST_HARNESS_MAIN
