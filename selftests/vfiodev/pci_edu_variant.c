// SPDX-License-Identifier: GPL-2.0
/*
 * The edu variant driver (edu-vfio-pci): picked over the plain driver by
 * the specificity of its "vfio_pci:" alias, the VFIO_DEVICE_FEATURE
 * multiplexer, its own reset, and live migration from one edu to the
 * other: registers set on the source, STOP_COPY saved, resumed into the
 * destination, registers equal; every arc the device cannot take and
 * every malformed stream refused, with the device still usable after.
 *
 * Upstream has no edu variant: on VFIODEV_STACK=upstream these tests
 * skip.
 */
#include <fnmatch.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "pci_utils.h"
#include "kselftest_harness.h"

#define EDU_DRIVER	"edu_vfio_pci"

#define EDU_ID		0x00
#define EDU_ID_VALUE	0x010000edU
#define EDU_LIVENESS	0x04
#define EDU_FACT	0x08
#define EDU_STATUS	0x20
#define EDU_STATUS_BUSY	0x01
#define EDU_STATUS_IRQ	0x80
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90

/* --- aliases ------------------------------------------------------------ */

/*
 * The "alias=" strings of a module file: its .modinfo section is a run of
 * NUL-terminated "key=value" strings, found here by scanning the file.
 * Returns how many were stored, or -errno.
 */
static int module_aliases(const char *path, char out[][128], int max)
{
	static char buf[4 << 20];
	size_t n, i, len;
	FILE *fp;
	int found = 0;

	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	for (i = 0; i + 6 < n && found < max; i++) {
		if ((i && buf[i - 1]) || memcmp(buf + i, "alias=", 6))
			continue;
		len = strnlen(buf + i + 6, 127);
		memcpy(out[found], buf + i + 6, len);
		out[found++][len] = '\0';
	}
	return found;
}

/* Literal characters of a pattern: more is more specific. */
static int alias_specificity(const char *alias)
{
	int n = 0;

	for (; *alias; alias++)
		if (*alias != '*' && *alias != '?')
			n++;
	return n;
}

/* --- device helpers ----------------------------------------------------- */

static int feature(int fd, uint32_t flags, void *data, size_t len)
{
	struct {
		struct vfio_device_feature hdr;
		uint8_t data[64];
	} f;
	int ret;

	if (len > sizeof(f.data))
		return -E2BIG;
	memset(&f, 0, sizeof(f));
	f.hdr.argsz = sizeof(f.hdr) + len;
	f.hdr.flags = flags;
	if (data)
		memcpy(f.data, data, len);
	ret = ioctl(fd, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
	/* Also on failure: a refused SET still reports data_fd -1. */
	if (data)
		memcpy(data, f.data, len);
	return ret;
}

/* Sets the migration state; the data fd comes back in *@data_fd. */
static int set_state(int fd, uint32_t state, int *data_fd)
{
	struct vfio_device_feature_mig_state mig = {
		.device_state = state,
		.data_fd = -7,
	};
	int ret;

	ret = feature(fd, VFIO_DEVICE_FEATURE_SET |
		      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig, sizeof(mig));
	if (data_fd)
		*data_fd = mig.data_fd;
	return ret;
}

static int get_state(int fd, uint32_t *state)
{
	struct vfio_device_feature_mig_state mig = {};
	int ret;

	ret = feature(fd, VFIO_DEVICE_FEATURE_GET |
		      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig, sizeof(mig));
	*state = mig.device_state;
	return ret;
}

static int wait_fact(int fd)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if (!(dev_rd32(fd, EDU_STATUS) & EDU_STATUS_BUSY))
			return 0;
		msleep(1);
	}
	return -ETIMEDOUT;
}

struct edu_regs {
	uint32_t liveness, fact, status, irq_status;
	uint64_t src, dst, cnt;
};

static void regs_read(int fd, struct edu_regs *r)
{
	r->liveness = dev_rd32(fd, EDU_LIVENESS);
	r->fact = dev_rd32(fd, EDU_FACT);
	r->status = dev_rd32(fd, EDU_STATUS);
	r->irq_status = dev_rd32(fd, EDU_IRQ_STATUS);
	r->src = dev_rd64(fd, EDU_DMA_SRC);
	r->dst = dev_rd64(fd, EDU_DMA_DST);
	r->cnt = dev_rd64(fd, EDU_DMA_CNT);
}

/* Reads a whole data fd. */
static ssize_t read_all(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0)
			return -errno;
		if (!n)
			break;
		done += n;
	}
	return done;
}

/* --- the fixture: both edus, bound to the variant and to /dev/iommu ----- */

FIXTURE(edu) {
	char bdf[2][BDF_LEN];
	int devfd[2];
	int iommufd;
	uint32_t ioas;
};

/* The device file of @bdf, bound to @iommufd and attached to @ioas. */
static int open_bound(struct __test_metadata *_metadata, const char *bdf,
		      int iommufd, uint32_t ioas)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = ioas,
	};
	int fd, ret;

	fd = vfio_dev_open_bound(bdf, iommufd, NULL);
	if (fd < 0)
		return fd;
	if (ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

FIXTURE_SETUP(edu)
{
	char all[8][BDF_LEN];
	int i;

	self->devfd[0] = self->devfd[1] = -1;
	self->iommufd = -1;
	if (stack_is_upstream())
		SKIP(return, "upstream has no edu variant");
	/* The two on the root bus: sorted first, each in its own group. */
	ASSERT_LE(2, pci_find(EDU_VENDOR, EDU_DEVICE, 0, all, 8));
	memcpy(self->bdf, all, sizeof(self->bdf));
	ASSERT_EQ(0, vfiodev_modules_load());
	self->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->iommufd);
	ASSERT_EQ(0, ufd_ioas_alloc(self->iommufd, &self->ioas));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pci_bind(self->bdf[i], EDU_DRIVER));
		self->devfd[i] = open_bound(_metadata, self->bdf[i],
					    self->iommufd, self->ioas);
		ASSERT_LE(0, self->devfd[i]);
	}
}

FIXTURE_TEARDOWN(edu)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (self->devfd[i] >= 0)
			close(self->devfd[i]);
	}
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (!stack_is_upstream()) {
		EXPECT_EQ(0, pci_release(self->bdf[0]));
		EXPECT_EQ(0, pci_release(self->bdf[1]));
	}
}

/*
 * Among our modules, the edu's "vfio_pci:" modalias matches the plain
 * driver's alias and the variant's, and the variant's is the more
 * specific: that is the one a "modprobe vfio_pci:..." style lookup picks.
 */
TEST_F(edu, variant_is_most_specific)
{
	static const char * const mods[] = { "vfio-pci", "edu-vfio-pci" };
	char path[PATH_MAX], modalias[256], want[300];
	char aliases[16][128], drv[64];
	int best = -1, best_spec = -1, i, j, n, matched = 0;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/modalias",
		 self->bdf[0]);
	ASSERT_EQ(0, sysfs_read(path, modalias, sizeof(modalias)));
	ASSERT_EQ(0, strncmp(modalias, "pci:", 4));
	snprintf(want, sizeof(want), "vfio_pci:%s", modalias + 4);

	for (i = 0; i < (int)ARRAY_LEN(mods); i++) {
		snprintf(path, sizeof(path), "%s/%s.ko", vfiodev_moddir(),
			 mods[i]);
		n = module_aliases(path, aliases, 16);
		ASSERT_LE(1, n) TH_LOG("%s: no aliases", path);
		for (j = 0; j < n; j++) {
			/* Only "vfio_pci:" aliases, never a plain "pci:". */
			EXPECT_EQ(0, strncmp(aliases[j], "vfio_pci:", 9))
				TH_LOG("%s: %s", mods[i], aliases[j]);
			if (fnmatch(aliases[j], want, 0))
				continue;
			matched++;
			if (alias_specificity(aliases[j]) > best_spec) {
				best_spec = alias_specificity(aliases[j]);
				best = i;
			}
		}
	}
	EXPECT_EQ(2, matched) TH_LOG("%s", want);
	ASSERT_EQ(1, best);

	/* And the device is bound to it (the fixture did that). */
	ASSERT_EQ(0, pci_driver_of(self->bdf[0], drv, sizeof(drv)));
	EXPECT_STREQ(EDU_DRIVER, drv);
}

TEST_F(edu, feature_format)
{
	struct vfio_device_feature_migration mig = {};
	struct vfio_device_feature_mig_data_size size = {};
	struct vfio_device_feature hdr = { .argsz = sizeof(hdr) };

	/* Probing: GET answered, SET not, neither is fine. */
	EXPECT_EQ(0, feature(self->devfd[0], VFIO_DEVICE_FEATURE_PROBE |
			     VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0));
	EXPECT_EQ(-EINVAL, feature(self->devfd[0], VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0));
	EXPECT_EQ(0, feature(self->devfd[0], VFIO_DEVICE_FEATURE_PROBE |
			     VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0));
	EXPECT_EQ(0, feature(self->devfd[0], VFIO_DEVICE_FEATURE_PROBE |
			     VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, NULL, 0));

	ASSERT_EQ(0, feature(self->devfd[0], VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_MIGRATION, &mig,
			     sizeof(mig)));
	EXPECT_EQ((uint64_t)VFIO_MIGRATION_STOP_COPY, mig.flags);
	ASSERT_EQ(0, feature(self->devfd[0], VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &size,
			     sizeof(size)));
	EXPECT_LT(0ULL, size.stop_copy_length);
	EXPECT_GT(4096ULL, size.stop_copy_length);

	/* Malformed requests. */
	EXPECT_EQ(-EINVAL, feature(self->devfd[0], VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_MIGRATION, &mig,
				   sizeof(mig)));
	EXPECT_EQ(-EINVAL, feature(self->devfd[0], (1U << 19) |
				   VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_MIGRATION, &mig,
				   sizeof(mig)));
	EXPECT_EQ(-EINVAL, feature(self->devfd[0],
				   VFIO_DEVICE_FEATURE_MIGRATION, &mig,
				   sizeof(mig)));
	EXPECT_EQ(-EINVAL, feature(self->devfd[0], VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_MIGRATION, &mig,
				   sizeof(mig) - 1));
	hdr.argsz = offsetofend(struct vfio_device_feature, flags) - 1;
	hdr.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_MIGRATION;
	EXPECT_NE(0, ioctl(self->devfd[0], VFIO_DEVICE_FEATURE, &hdr));
	EXPECT_EQ(EINVAL, errno);
	/* Features the device has not got (the library's, chained to). */
	EXPECT_EQ(-ENOTTY, feature(self->devfd[0], VFIO_DEVICE_FEATURE_PROBE |
				   0x7ff, NULL, 0));
	EXPECT_EQ(-ENOTTY, feature(self->devfd[0], VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, NULL,
				   0));
	EXPECT_EQ(-ENOTTY, feature(self->devfd[0], VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, NULL, 0));
	/* DMA logging it has. */
	EXPECT_EQ(0, feature(self->devfd[0], VFIO_DEVICE_FEATURE_PROBE |
			     VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_DMA_LOGGING_START, NULL, 0));
}

/* The plain driver has no migration. */
TEST_F(edu, plain_driver_has_no_migration)
{
	int fd;

	close(self->devfd[1]);
	self->devfd[1] = -1;
	ASSERT_EQ(0, pci_bind(self->bdf[1], VFIODEV_DRIVER));
	fd = open_bound(_metadata, self->bdf[1], self->iommufd, self->ioas);
	ASSERT_LE(0, fd);
	self->devfd[1] = fd;
	EXPECT_EQ(-ENOTTY, feature(fd, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0));
	EXPECT_EQ(-ENOTTY, feature(fd, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, NULL,
				   0));
	/* Nor dirty tracking. */
	EXPECT_EQ(-ENOTTY, feature(fd, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_DMA_LOGGING_START, NULL,
				   0));
	EXPECT_EQ(-ENOTTY, feature(fd, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, NULL,
				   0));
}

/* The edu has no PCI reset; the variant offers its own. */
TEST_F(edu, reset)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int fd = self->devfd[0];

	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(!!(info.flags & VFIO_DEVICE_FLAGS_RESET));

	dev_wr32(fd, EDU_LIVENESS, 0x1234);
	dev_wr32(fd, EDU_FACT, 6);
	ASSERT_EQ(0, wait_fact(fd));
	EXPECT_EQ(720U, dev_rd32(fd, EDU_FACT));
	dev_wr32(fd, EDU_STATUS, EDU_STATUS_IRQ);
	dev_wr64(fd, EDU_DMA_SRC, 0x1000);

	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(0xffffffffU, dev_rd32(fd, EDU_LIVENESS));
	EXPECT_EQ(0U, dev_rd32(fd, EDU_FACT));
	EXPECT_EQ(0U, dev_rd32(fd, EDU_STATUS));
	EXPECT_EQ(0U, dev_rd32(fd, EDU_IRQ_STATUS));
	EXPECT_EQ(0ULL, dev_rd64(fd, EDU_DMA_SRC));
	EXPECT_EQ(EDU_ID_VALUE, dev_rd32(fd, EDU_ID));
}

/* The device's command register, through the device file. */
static int cmd_rw(int fd, uint16_t *cmd, bool write)
{
	off_t off = ((off_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + PCI_COMMAND;
	ssize_t n = write ? pwrite(fd, cmd, sizeof(*cmd), off) :
			    pread(fd, cmd, sizeof(*cmd), off);

	return n == sizeof(*cmd) ? 0 : -errno;
}

/*
 * With memory decoding off, user space's accesses to BAR0 fail with EIO;
 * the variant's migration arcs and its reset still reach the device (a VMM
 * takes them whatever its guest did: QEMU's destination resumes before the
 * guest's config space arrives), the library turning decoding on for them
 * unseen and off again after.
 */
TEST_F(edu, memory_off_arcs_and_reset)
{
	int fd = self->devfd[0], data_fd = -1;
	uint32_t state;
	uint16_t cmd;

	dev_wr32(fd, EDU_LIVENESS, 0x1234);
	ASSERT_EQ(0, cmd_rw(fd, &cmd, false));
	ASSERT_TRUE(cmd & PCI_COMMAND_MEMORY);
	cmd &= ~PCI_COMMAND_MEMORY;
	ASSERT_EQ(0, cmd_rw(fd, &cmd, true));

	EXPECT_EQ(-EIO, dev_wr32(fd, EDU_LIVENESS, 0x5678));
	EXPECT_EQ(0, set_state(fd, VFIO_DEVICE_STATE_STOP, &data_fd));
	ASSERT_EQ(0, get_state(fd, &state));
	EXPECT_EQ((uint32_t)VFIO_DEVICE_STATE_STOP, state);
	EXPECT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(0, get_state(fd, &state));
	EXPECT_EQ((uint32_t)VFIO_DEVICE_STATE_RUNNING, state);
	/* Decoding is off again in the device itself. */
	EXPECT_EQ(0U, pci_cfg_rd(self->bdf[0], PCI_COMMAND, 2) &
		  PCI_COMMAND_MEMORY);

	cmd |= PCI_COMMAND_MEMORY;
	ASSERT_EQ(0, cmd_rw(fd, &cmd, true));
	/* The reset reached the device; user space's write did not. */
	EXPECT_EQ(0xffffffffU, dev_rd32(fd, EDU_LIVENESS));
	dev_wr32(fd, EDU_LIVENESS, 0x1234);
	EXPECT_EQ(~0x1234U, dev_rd32(fd, EDU_LIVENESS));
}

/* --- dirty tracking ----------------------------------------------------- */

#define EDU_DMA_CMD	0x98
#define EDU_DMA_RUN	0x1
#define EDU_DMA_TO_RAM	0x2
#define EDU_DMA_BUF	0x40000ULL
#define LOG_IOVA	0x4000000ULL
#define LOG_PAGES	32
#define PG		4096ULL

/* One transfer of the edu's DMA engine, through the device file. */
static int region_dma(int fd, uint64_t src, uint64_t dst, uint64_t cnt,
		      bool to_ram)
{
	int i;

	if (dev_wr64(fd, EDU_DMA_SRC, src) || dev_wr64(fd, EDU_DMA_DST, dst) ||
	    dev_wr64(fd, EDU_DMA_CNT, cnt) ||
	    dev_wr32(fd, EDU_DMA_CMD,
		     EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0)))
		return -EIO;
	/* The edu runs a transfer 100 ms of guest time after the start. */
	for (i = 0; i < 20000; i++) {
		if (!(dev_rd32(fd, EDU_DMA_CMD) & EDU_DMA_RUN))
			return 0;
		msleep(1);
	}
	return -ETIMEDOUT;
}

static int log_start(int fd, uint64_t *page_size,
		     struct vfio_device_feature_dma_logging_range *ranges,
		     uint32_t n, uint32_t reserved)
{
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = *page_size,
		.num_ranges = n,
		.__reserved = reserved,
		.ranges = (uintptr_t)ranges,
	};
	int ret;

	ret = feature(fd, VFIO_DEVICE_FEATURE_SET |
		      VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &c, sizeof(c));
	*page_size = c.page_size;
	return ret;
}

static int log_stop(int fd)
{
	return feature(fd, VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0);
}

static int log_report(int fd, uint64_t iova, uint64_t len, uint64_t page_size,
		      uint64_t *bitmap)
{
	struct vfio_device_feature_dma_logging_report r = {
		.iova = iova,
		.length = len,
		.page_size = page_size,
		.bitmap = (uintptr_t)bitmap,
	};

	return feature(fd, VFIO_DEVICE_FEATURE_GET |
		       VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &r, sizeof(r));
}

/*
 * The variant tracks the pages its DMA writes: BAR0 trapped, every
 * transfer to RAM in the tracked ranges reported once, at the page size
 * asked for, into the caller's bitmap; the core's checks of the requests
 * as upstream's.
 */
TEST_F_TIMEOUT(edu, dma_logging, 180)
{
	struct vfio_region_info reg = {
		.argsz = sizeof(reg),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_device_ioeventfd ioev = {
		.argsz = sizeof(ioev),
		.flags = VFIO_DEVICE_IOEVENTFD_32,
		.offset = EDU_LIVENESS,
		.data = 1,
	};
	struct vfio_device_feature_dma_logging_range ranges[257];
	const uint64_t len = LOG_PAGES * PG;
	int fd = self->devfd[0], i;
	uint64_t bitmap[2], pgsz;
	uint16_t cmd;
	char *buf;

	/* BAR0 is trapped: no mmap, no ioeventfd. */
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &reg));
	EXPECT_EQ(0U, reg.flags & VFIO_REGION_INFO_FLAG_MMAP);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0));
	ioev.fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, ioev.fd);
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_IOEVENTFD, &ioev));
	EXPECT_EQ(EINVAL, errno);
	close(ioev.fd);

	/* The core's checks. */
	EXPECT_EQ(-EINVAL, feature(fd, VFIO_DEVICE_FEATURE_PROBE |
				   VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_DMA_LOGGING_START, NULL,
				   0));
	EXPECT_EQ(0, feature(fd, VFIO_DEVICE_FEATURE_PROBE |
			     VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0));
	EXPECT_EQ(0, feature(fd, VFIO_DEVICE_FEATURE_PROBE |
			     VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, NULL, 0));
	for (i = 0; i < 257; i++) {
		ranges[i].iova = LOG_IOVA + 2 * i * PG;
		ranges[i].length = PG;
	}
	pgsz = PG;
	EXPECT_EQ(-EINVAL, log_start(fd, &pgsz, ranges, 0, 0));
	EXPECT_EQ(-E2BIG, log_start(fd, &pgsz, ranges, 257, 0));
	EXPECT_EQ(-EINVAL, log_start(fd, &pgsz, ranges, 1, 1));
	ranges[1].iova = LOG_IOVA + 100;
	EXPECT_EQ(-EINVAL, log_start(fd, &pgsz, ranges, 2, 0));
	ranges[1].iova = LOG_IOVA;
	EXPECT_EQ(-EINVAL, log_start(fd, &pgsz, ranges, 2, 0));
	ranges[1].iova = -PG;
	ranges[1].length = 2 * PG;
	EXPECT_EQ(-EOVERFLOW, log_start(fd, &pgsz, ranges, 2, 0));
	ranges[1].iova = LOG_IOVA + 2 * PG;
	ranges[1].length = 0;
	EXPECT_EQ(-EINVAL, log_start(fd, &pgsz, ranges, 2, 0));
	EXPECT_EQ(-EINVAL, log_report(fd, LOG_IOVA, len, PG, bitmap));
	EXPECT_EQ(-EINVAL, log_report(fd, LOG_IOVA, len, 0, bitmap));
	EXPECT_EQ(-EINVAL, log_report(fd, LOG_IOVA, len, 6000, bitmap));
	EXPECT_EQ(-EOVERFLOW, log_report(fd, -PG, 2 * PG, PG, bitmap));

	/* Pages 0-15 and 24-31 tracked; the page size rounded up. */
	ranges[0].iova = LOG_IOVA;
	ranges[0].length = 16 * PG;
	ranges[1].iova = LOG_IOVA + 24 * PG;
	ranges[1].length = 8 * PG;
	pgsz = 1;
	ASSERT_EQ(0, log_start(fd, &pgsz, ranges, 2, 0));
	EXPECT_EQ(PG, pgsz);
	EXPECT_EQ(-EINVAL, log_start(fd, &pgsz, ranges, 2, 0));

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 0x5a, len);
	memset(buf, 0xc3, 256);
	ASSERT_EQ(0, ufd_map_fixed(self->iommufd, self->ioas, buf, len,
				   LOG_IOVA));
	ASSERT_EQ(0, cmd_rw(fd, &cmd, false));
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	ASSERT_EQ(0, cmd_rw(fd, &cmd, true));

	/* Memory into the device dirties nothing. */
	ASSERT_EQ(0, region_dma(fd, LOG_IOVA, EDU_DMA_BUF, 256, false));
	memset(bitmap, 0, sizeof(bitmap));
	ASSERT_EQ(0, log_report(fd, LOG_IOVA, len, PG, bitmap));
	EXPECT_EQ(0ULL, bitmap[0]);
	/* Back into page 5: that page, once. */
	ASSERT_EQ(0, region_dma(fd, EDU_DMA_BUF, LOG_IOVA + 5 * PG + 100, 256,
				true));
	/* The bytes made the round trip. */
	EXPECT_EQ(0, memcmp(buf + 5 * PG + 100, buf, 256));
	EXPECT_EQ(0x5a, buf[5 * PG + 356]);
	ASSERT_EQ(0, log_report(fd, LOG_IOVA, len, PG, bitmap));
	EXPECT_EQ(1ULL << 5, bitmap[0]);
	bitmap[0] = 0;
	ASSERT_EQ(0, log_report(fd, LOG_IOVA, len, PG, bitmap));
	EXPECT_EQ(0ULL, bitmap[0]);

	/* Across pages 7 and 8; a report of part of the space takes its part. */
	ASSERT_EQ(0, region_dma(fd, EDU_DMA_BUF, LOG_IOVA + 7 * PG + 4000, 200,
				true));
	ASSERT_EQ(0, log_report(fd, LOG_IOVA + 8 * PG, 8 * PG, PG, bitmap));
	EXPECT_EQ(1ULL, bitmap[0]);
	/* 8 KiB pages, ORed into what the caller's bitmap holds. */
	bitmap[0] = 1ULL << 40;
	ASSERT_EQ(0, log_report(fd, LOG_IOVA, len, 2 * PG, bitmap));
	EXPECT_EQ((1ULL << 40) | (1ULL << 3), bitmap[0]);

	/* Pages 16-23 are mapped, not tracked. */
	ASSERT_EQ(0, region_dma(fd, EDU_DMA_BUF, LOG_IOVA + 20 * PG, 64, true));
	ASSERT_EQ(0, region_dma(fd, EDU_DMA_BUF, LOG_IOVA + 30 * PG, 64, true));
	bitmap[0] = 0;
	ASSERT_EQ(0, log_report(fd, LOG_IOVA, len, PG, bitmap));
	EXPECT_EQ(1ULL << 30, bitmap[0]);

	/* Stopped: nothing to report; started again, clean. */
	EXPECT_EQ(0, log_stop(fd));
	EXPECT_EQ(-EINVAL, log_report(fd, LOG_IOVA, len, PG, bitmap));
	ASSERT_EQ(0, region_dma(fd, EDU_DMA_BUF, LOG_IOVA + 3 * PG, 64, true));
	pgsz = PG;
	ASSERT_EQ(0, log_start(fd, &pgsz, ranges, 1, 0));
	bitmap[0] = 0;
	ASSERT_EQ(0, log_report(fd, LOG_IOVA, len, PG, bitmap));
	EXPECT_EQ(0ULL, bitmap[0]);
	EXPECT_EQ(0, log_stop(fd));
	EXPECT_EQ(0, log_stop(fd));

	EXPECT_EQ(0, ufd_unmap(self->iommufd, self->ioas, LOG_IOVA, len,
			       NULL));
	munmap(buf, len);
}

/* Source edu 0 to destination edu 1, through the data fds. */
TEST_F(edu, migrate_round_trip)
{
	struct edu_regs src, dst;
	uint8_t stream[4096];
	uint32_t state;
	ssize_t len;
	int sfd, rfd;

	/* Some state on the source, none of it the power-on value. */
	dev_wr32(self->devfd[0], EDU_LIVENESS, 0x5a5a1234);
	dev_wr32(self->devfd[0], EDU_FACT, 9);
	ASSERT_EQ(0, wait_fact(self->devfd[0]));
	dev_wr32(self->devfd[0], EDU_STATUS, EDU_STATUS_IRQ);
	dev_wr64(self->devfd[0], EDU_DMA_SRC, 0x123000);
	dev_wr64(self->devfd[0], EDU_DMA_DST, 0x40010);
	dev_wr64(self->devfd[0], EDU_DMA_CNT, 0x80);
	dev_wr32(self->devfd[0], EDU_IRQ_RAISE, 0x10);
	regs_read(self->devfd[0], &src);
	ASSERT_EQ(362880U, src.fact);
	ASSERT_EQ(0x10U, src.irq_status);

	/* The destination starts from a reset. */
	ASSERT_EQ(0, ioctl(self->devfd[1], VFIO_DEVICE_RESET));

	ASSERT_EQ(0, get_state(self->devfd[0], &state));
	EXPECT_EQ((uint32_t)VFIO_DEVICE_STATE_RUNNING, state);
	/* RUNNING -> STOP -> STOP_COPY in one request. */
	ASSERT_EQ(0, set_state(self->devfd[0], VFIO_DEVICE_STATE_STOP_COPY,
			       &sfd));
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, get_state(self->devfd[0], &state));
	EXPECT_EQ((uint32_t)VFIO_DEVICE_STATE_STOP_COPY, state);
	/* A stream: no pread, no seek; read in two pieces. */
	EXPECT_EQ(-1, pread(sfd, stream, 4, 0));
	EXPECT_EQ(ESPIPE, errno);
	ASSERT_EQ(5, read(sfd, stream, 5));
	len = read_all(sfd, stream + 5, sizeof(stream) - 5);
	ASSERT_LT(0, len);
	len += 5;
	ASSERT_EQ(0, set_state(self->devfd[0], VFIO_DEVICE_STATE_STOP, NULL));
	/* Out of STOP_COPY the file answers no more. */
	EXPECT_EQ(-1, read(sfd, stream, 1));
	EXPECT_EQ(ENODEV, errno);
	close(sfd);

	ASSERT_EQ(0, set_state(self->devfd[1], VFIO_DEVICE_STATE_RESUMING,
			       &rfd));
	ASSERT_LE(0, rfd);
	ASSERT_EQ(len, write(rfd, stream, len));
	/* RESUMING -> STOP -> RUNNING: the stream goes into the device. */
	ASSERT_EQ(0, set_state(self->devfd[1], VFIO_DEVICE_STATE_RUNNING,
			       NULL));
	EXPECT_EQ(-1, write(rfd, stream, 1));
	EXPECT_EQ(ENODEV, errno);
	close(rfd);

	regs_read(self->devfd[1], &dst);
	EXPECT_EQ(src.liveness, dst.liveness);
	EXPECT_EQ(src.fact, dst.fact);
	EXPECT_EQ(src.status, dst.status);
	EXPECT_EQ(src.irq_status, dst.irq_status);
	EXPECT_EQ(src.src, dst.src);
	EXPECT_EQ(src.dst, dst.dst);
	EXPECT_EQ(src.cnt, dst.cnt);

	/* The source runs again, as it was. */
	ASSERT_EQ(0, set_state(self->devfd[0], VFIO_DEVICE_STATE_RUNNING,
			       NULL));
	regs_read(self->devfd[0], &dst);
	EXPECT_EQ(0, memcmp(&src, &dst, sizeof(src)));
	dev_wr32(self->devfd[0], EDU_IRQ_ACK, 0x10);
	dev_wr32(self->devfd[1], EDU_IRQ_ACK, 0x10);
}

/* States the device cannot be put in: EINVAL, and it stays where it is. */
TEST_F(edu, invalid_arcs)
{
	static const uint32_t bad[] = {
		VFIO_DEVICE_STATE_ERROR, VFIO_DEVICE_STATE_PRE_COPY,
		VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_PRE_COPY_P2P,
		99, 0xffffffff,
	};
	uint32_t state;
	unsigned int i;
	int fd = -2, sfd;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		EXPECT_EQ(-EINVAL, set_state(self->devfd[0], bad[i], &fd))
			TH_LOG("state %u", bad[i]);
		EXPECT_EQ(-1, fd);
		ASSERT_EQ(0, get_state(self->devfd[0], &state));
		EXPECT_EQ((uint32_t)VFIO_DEVICE_STATE_RUNNING, state);
	}
	/* From STOP_COPY as well. */
	ASSERT_EQ(0, set_state(self->devfd[0], VFIO_DEVICE_STATE_STOP_COPY,
			       &sfd));
	EXPECT_EQ(-EINVAL, set_state(self->devfd[0],
				     VFIO_DEVICE_STATE_PRE_COPY, NULL));
	ASSERT_EQ(0, get_state(self->devfd[0], &state));
	EXPECT_EQ((uint32_t)VFIO_DEVICE_STATE_STOP_COPY, state);
	close(sfd);
	/* STOP_COPY -> STOP -> RESUMING is an arc it can take. */
	ASSERT_EQ(0, set_state(self->devfd[0], VFIO_DEVICE_STATE_RESUMING,
			       &fd));
	ASSERT_LE(0, fd);
	close(fd);
	/* Setting the state it is in changes nothing and gives no file. */
	ASSERT_EQ(0, set_state(self->devfd[0], VFIO_DEVICE_STATE_RESUMING,
			       &fd));
	EXPECT_EQ(-1, fd);
	ASSERT_EQ(0, ioctl(self->devfd[0], VFIO_DEVICE_RESET));
	ASSERT_EQ(0, get_state(self->devfd[0], &state));
	EXPECT_EQ((uint32_t)VFIO_DEVICE_STATE_RUNNING, state);
}

/*
 * Streams that are not one: too long (the write fails), cut short, with a
 * wrong magic, version or size, from another kind of device, with a value
 * the factorial register cannot hold, or with bits the status register
 * has not got.  Each: EINVAL on the way out of RESUMING, the device stays
 * in RESUMING and untouched, and a reset gives it back.
 */
TEST_F(edu, malformed_streams)
{
	/* Offsets in the stream (struct vdedu_state of the driver). */
	enum { MAGIC = 0, VERSION = 4, SIZE = 8, ID = 12, FACT = 20,
	       STATUS = 24 };
	static const struct { unsigned int off; uint32_t val; } bad[] = {
		{ MAGIC, 0x12345678 }, { VERSION, 2 }, { SIZE, 12 },
		{ ID, 0x020000ed }, { FACT, 7 }, { STATUS, 0x2 },
	};
	uint8_t good[4096], buf[4096], big[8192];
	struct edu_regs before, after;
	uint32_t state;
	ssize_t len;
	unsigned int i;
	int sfd, rfd;

	ASSERT_EQ(0, set_state(self->devfd[0], VFIO_DEVICE_STATE_STOP_COPY,
			       &sfd));
	len = read_all(sfd, good, sizeof(good));
	ASSERT_LT(28, len);
	close(sfd);
	ASSERT_EQ(0, set_state(self->devfd[0], VFIO_DEVICE_STATE_RUNNING,
			       NULL));

	dev_wr32(self->devfd[1], EDU_LIVENESS, 0x777);
	regs_read(self->devfd[1], &before);

	for (i = 0; i <= ARRAY_LEN(bad) + 1; i++) {
		size_t n = len;

		memcpy(buf, good, len);
		if (i < ARRAY_LEN(bad))
			memcpy(buf + bad[i].off, &bad[i].val, 4);
		else if (i == ARRAY_LEN(bad))
			n = len - 1;	/* cut short */
		ASSERT_EQ(0, set_state(self->devfd[1],
				       VFIO_DEVICE_STATE_RESUMING, &rfd));
		if (i == ARRAY_LEN(bad) + 1) {
			/* Longer than any stream. */
			memset(big, 0, sizeof(big));
			EXPECT_EQ(-1, write(rfd, big, sizeof(big)));
			EXPECT_EQ(EINVAL, errno);
		} else {
			ASSERT_EQ((ssize_t)n, write(rfd, buf, n));
		}
		EXPECT_EQ(-EINVAL, set_state(self->devfd[1],
					     VFIO_DEVICE_STATE_STOP, NULL))
			TH_LOG("case %u", i);
		ASSERT_EQ(0, get_state(self->devfd[1], &state));
		EXPECT_EQ((uint32_t)VFIO_DEVICE_STATE_RESUMING, state);
		close(rfd);
		regs_read(self->devfd[1], &after);
		EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)))
			TH_LOG("case %u changed the device", i);
		/* Usable again after a reset. */
		ASSERT_EQ(0, ioctl(self->devfd[1], VFIO_DEVICE_RESET));
		ASSERT_EQ(0, get_state(self->devfd[1], &state));
		EXPECT_EQ((uint32_t)VFIO_DEVICE_STATE_RUNNING, state);
		dev_wr32(self->devfd[1], EDU_LIVENESS, 0x777);
		regs_read(self->devfd[1], &before);
	}
	/* The good stream still goes in. */
	ASSERT_EQ(0, set_state(self->devfd[1], VFIO_DEVICE_STATE_RESUMING,
			       &rfd));
	ASSERT_EQ(len, write(rfd, good, len));
	EXPECT_EQ(0, set_state(self->devfd[1], VFIO_DEVICE_STATE_RUNNING,
			       NULL));
	close(rfd);
	EXPECT_EQ(dev_rd32(self->devfd[0], EDU_LIVENESS),
		  dev_rd32(self->devfd[1], EDU_LIVENESS));
}

/* Closing the device file in the middle of a migration: nothing stays. */
TEST_F(edu, close_while_migrating)
{
	uint8_t buf[64];
	int sfd;

	ASSERT_EQ(0, set_state(self->devfd[0], VFIO_DEVICE_STATE_STOP_COPY,
			       &sfd));
	close(self->devfd[0]);
	self->devfd[0] = -1;
	/* The data file outlives the device file, but answers no more. */
	EXPECT_EQ(-1, read(sfd, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	close(sfd);
	/* And the device opens again, RUNNING. */
	self->devfd[0] = open_bound(_metadata, self->bdf[0], self->iommufd,
				    self->ioas);
	ASSERT_LE(0, self->devfd[0]);
	EXPECT_EQ(0, set_state(self->devfd[0], VFIO_DEVICE_STATE_RUNNING,
			       NULL));
}

/*
 * driver_override binds a driver to any device, whatever its id table
 * says: the variant must refuse a device that is not an edu, and the
 * device must come out of it unbound and unharmed.
 */
TEST(refuses_other_devices)
{
	char bdfs[2][BDF_LEN], drv[64], before[64], path[PATH_MAX];
	int kmsg;

	if (stack_is_upstream())
		SKIP(return, "upstream has no edu variant");
	ASSERT_LE(1, pci_find(0, 0, NVME_CLASS, bdfs, 2));
	ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_driver_of(bdfs[0], before, sizeof(before)));

	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	EXPECT_EQ(-ENODEV, pci_bind(bdfs[0], EDU_DRIVER));
	EXPECT_EQ(0, kmsg_wait(kmsg, bdfs[0], "is not an edu device", 2000));
	close(kmsg);
	ASSERT_EQ(0, pci_driver_of(bdfs[0], drv, sizeof(drv)));
	EXPECT_STREQ("", drv);
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/vfio-dev",
		 bdfs[0]);
	EXPECT_EQ(-1, access(path, F_OK));

	/* Given back, it takes the driver it had, if it had one. */
	EXPECT_EQ(0, pci_give_back(bdfs[0]));
	ASSERT_EQ(0, pci_driver_of(bdfs[0], drv, sizeof(drv)));
	EXPECT_STREQ(before, drv);
}

TEST_HARNESS_MAIN
