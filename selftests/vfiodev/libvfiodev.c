// SPDX-License-Identifier: GPL-2.0
/*
 * libvfiodev in the guest: every public function with its error paths, the
 * path policy on both IOMMU configurations, the DMA suite in the five modes
 * upstream's own VFIO selftests use (type1, type1v2, both on /dev/iommu in
 * iommufd compatibility mode, and native iommufd), two devices sharing one
 * address space, and the pinned-page balance after every test.
 *
 * The fixtures hand devices to vfio-pci through sysfs with the test
 * utilities, not with the library under test.  The same program runs on
 * upstream's modules (VFIODEV_STACK=upstream): on the stock kernel only the
 * legacy modes exist, on the debug kernel every mode does, and there the
 * coherency is learned on attach instead of read from sysfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vfiodev_utils.h"

#include <vfiodev.h>

#define EDU_ID_REG	0x00
#define EDU_ID_VAL	0x010000edU
#define EDU_LIVE	0x04
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define EDU_SRC		0x80
#define EDU_DST		0x88
#define EDU_CNT		0x90
#define EDU_CMD		0x98
#define EDU_BUF		0x40000
#define SZ_2M		(2UL << 20)

/* --- the guest's facts ------------------------------------------------- */

/* Whether the intel-iommu enforces snooping (ECAP.SC, bit 7). */
static int iommu_coherent(void)
{
	char buf[64];

	if (sysfs_read("/sys/class/iommu/dmar0/intel-iommu/ecap", buf,
		       sizeof(buf)))
		return -1;
	return !!(strtoull(buf, NULL, 16) & 0x80);
}

static bool have_cdev_path(void)
{
	return !access("/dev/iommu", F_OK) &&
	       !access("/sys/class/vfio-dev", F_OK);
}

static bool have_sysfs_coherency(void)
{
	return !stack_is_upstream();
}

static void take(struct __test_metadata *_metadata, const char *bdf)
{
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(bdf, "vfio-pci"))
		TH_LOG("%s: cannot bind to vfio-pci", bdf);
}

static void first_edus(struct __test_metadata *_metadata, char bdf[2][BDF_LEN])
{
	char root[8][BDF_LEN], port[8][BDF_LEN];
	int nroot, nport;

	ASSERT_EQ(0, pci_find_edus(root, &nroot, port, &nport));
	ASSERT_LE(2, nroot) TH_LOG("the guest has two edus on the root bus");
	strcpy(bdf[0], root[0]);
	strcpy(bdf[1], root[1]);
}

/* Captures what the library logs. */
struct logbuf {
	int n;
	int level;
	char last[512];
};

static void log_capture(void *opaque, int level, const char *msg)
{
	struct logbuf *lb = opaque;

	lb->n++;
	lb->level = level;
	snprintf(lb->last, sizeof(lb->last), "%s", msg);
}

/* --- edu through the library ------------------------------------------ */

static uint32_t edu_rd(struct vfiodev_device *dev, unsigned int off)
{
	uint32_t v = 0;

	vfiodev_region_read(dev, VFIODEV_PCI_BAR0, off, &v, 4);
	return v;
}

static void edu_wr(struct vfiodev_device *dev, unsigned int off, uint64_t v,
		   size_t len)
{
	vfiodev_region_write(dev, VFIODEV_PCI_BAR0, off, &v, len);
}

static int edu_enable(struct vfiodev_device *dev)
{
	uint16_t cmd;
	int rc = vfiodev_config_read(dev, 4, &cmd, 2);

	if (rc)
		return rc;
	cmd |= 0x6;
	return vfiodev_config_write(dev, 4, &cmd, 2);
}

static int edu_dma(struct vfiodev_device *dev, uint64_t src, uint64_t dst,
		   bool to_ram)
{
	int i;

	edu_wr(dev, EDU_SRC, src, 8);
	edu_wr(dev, EDU_DST, dst, 8);
	edu_wr(dev, EDU_CNT, 2048, 8);
	edu_wr(dev, EDU_CMD, 1 | (to_ram ? 2 : 0), 4);
	for (i = 0; i < 100000; i++) {
		if (!(edu_rd(dev, EDU_CMD) & 1))
			return 0;
		usleep(100);
	}
	return -ETIMEDOUT;
}

/* Moves 2 KiB from @out to the device and back into @in, through @iova_*. */
static bool edu_roundtrip(struct vfiodev_device *dev, uint8_t *out,
			  uint64_t iova_out, uint8_t *in, uint64_t iova_in,
			  unsigned int seed)
{
	unsigned int i;

	for (i = 0; i < 2048; i++)
		out[i] = (uint8_t)(seed * 7 + i);
	memset(in, 0, 2048);
	if (edu_enable(dev) || edu_dma(dev, iova_out, EDU_BUF, false) ||
	    edu_dma(dev, EDU_BUF, iova_in, true))
		return false;
	return !memcmp(out, in, 2048);
}

/* --- version, names, contexts ----------------------------------------- */

TEST(version)
{
	EXPECT_EQ(VFIODEV_VERSION_MAJOR, vfiodev_version_major());
	EXPECT_EQ(VFIODEV_VERSION_MINOR, vfiodev_version_minor());
	EXPECT_TRUE(vfiodev_check_version(VFIODEV_VERSION_MAJOR, 0));
	EXPECT_TRUE(vfiodev_check_version(VFIODEV_VERSION_MAJOR,
					  VFIODEV_VERSION_MINOR));
	EXPECT_FALSE(vfiodev_check_version(VFIODEV_VERSION_MAJOR,
					   VFIODEV_VERSION_MINOR + 1));
	EXPECT_FALSE(vfiodev_check_version(VFIODEV_VERSION_MAJOR + 1, 0));
	EXPECT_FALSE(vfiodev_check_version(VFIODEV_VERSION_MAJOR - 1, 0));
	EXPECT_TRUE(VFIODEV_CHECK_VERSION(1, 0));
	EXPECT_FALSE(VFIODEV_CHECK_VERSION(2, 0));
}

TEST(names)
{
	const char *seen[VFIODEV_REASON_PREOPENED + 1];
	int r, j;

	EXPECT_STREQ("auto", vfiodev_path_str(VFIODEV_PATH_AUTO));
	EXPECT_STREQ("cdev", vfiodev_path_str(VFIODEV_PATH_CDEV));
	EXPECT_STREQ("legacy", vfiodev_path_str(VFIODEV_PATH_LEGACY));
	EXPECT_STREQ("unknown", vfiodev_path_str((enum vfiodev_path)99));
	for (r = 0; r <= VFIODEV_REASON_PREOPENED; r++) {
		seen[r] = vfiodev_reason_str((enum vfiodev_reason)r);
		ASSERT_NE(NULL, seen[r]);
		EXPECT_NE(0, strcmp(seen[r], "unknown reason"));
		for (j = 0; j < r; j++)
			EXPECT_NE(0, strcmp(seen[r], seen[j]));
	}
	EXPECT_STREQ("unknown reason",
		     vfiodev_reason_str((enum vfiodev_reason)99));
}

TEST(ctx_create_destroy)
{
	struct vfiodev_ctx *ctx = NULL;

	EXPECT_EQ(-EINVAL, vfiodev_ctx_create(0, NULL));
	EXPECT_EQ(-EINVAL, vfiodev_ctx_create(1u << 5, &ctx));
	EXPECT_EQ(NULL, ctx);
	ASSERT_EQ(0, setenv("VFIODEV_PATH", "sideways", 1));
	EXPECT_EQ(-EINVAL, vfiodev_ctx_create(0, &ctx));
	EXPECT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &ctx));
	vfiodev_ctx_destroy(ctx);
	unsetenv("VFIODEV_PATH");
	ASSERT_EQ(0, vfiodev_ctx_create(0, &ctx));
	vfiodev_ctx_destroy(ctx);
	vfiodev_ctx_destroy(NULL);
}

TEST(ctx_settings)
{
	struct vfiodev_ctx *ctx;
	struct logbuf lb = { 0 };

	ASSERT_EQ(0, vfiodev_ctx_create(0, &ctx));
	EXPECT_EQ(-EINVAL, vfiodev_ctx_set_log(ctx, log_capture, &lb, 2));
	EXPECT_EQ(-EINVAL, vfiodev_ctx_set_log(ctx, log_capture, &lb, 8));
	EXPECT_EQ(-EINVAL, vfiodev_ctx_set_log(NULL, log_capture, &lb, 7));
	EXPECT_EQ(0, vfiodev_ctx_set_log(ctx, log_capture, &lb,
					 VFIODEV_LOG_DEBUG));
	EXPECT_EQ(0, vfiodev_ctx_set_log(ctx, NULL, NULL, VFIODEV_LOG_ERR));
	EXPECT_EQ(-EINVAL, vfiodev_ctx_set_path(ctx, (enum vfiodev_path)3));
	EXPECT_EQ(-EINVAL, vfiodev_ctx_set_path(NULL, VFIODEV_PATH_AUTO));
	EXPECT_EQ(0, vfiodev_ctx_set_path(ctx, VFIODEV_PATH_LEGACY));
	EXPECT_EQ(0, vfiodev_ctx_set_path(ctx, VFIODEV_PATH_AUTO));
	EXPECT_EQ(-EINVAL, vfiodev_ctx_set_legacy(ctx, 1u << 2));
	EXPECT_EQ(-EINVAL, vfiodev_ctx_set_legacy(NULL, 0));
	EXPECT_EQ(0, vfiodev_ctx_set_legacy(ctx, VFIODEV_LEGACY_TYPE1_V1 |
					    VFIODEV_LEGACY_IOMMUFD_COMPAT));
	vfiodev_ctx_destroy(ctx);
}

/*
 * Silent without a callback: nothing reaches stdout or stderr when a call
 * fails; with one, the failure is explained there, and levels filter.
 */
TEST(log_callback)
{
	struct vfiodev_device *dev = NULL;
	struct logbuf lb = { 0 };
	struct vfiodev_ctx *ctx;
	struct vfiodev_as *as;
	int p[2], save1, save2;
	char buf[256];

	ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &ctx));
	ASSERT_EQ(0, vfiodev_as_create(ctx, &as));
	ASSERT_EQ(0, pipe2(p, O_NONBLOCK));
	fflush(stdout);
	fflush(stderr);
	save1 = dup(1);
	save2 = dup(2);
	dup2(p[1], 1);
	dup2(p[1], 2);
	EXPECT_EQ(-EINVAL, vfiodev_device_open(as, "00:zz.0", &dev));
	EXPECT_EQ(-ENOENT, vfiodev_device_open(as, "0000:00:1e.7", &dev));
	fflush(stdout);
	fflush(stderr);
	dup2(save1, 1);
	dup2(save2, 2);
	EXPECT_EQ(-1, read(p[0], buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, vfiodev_ctx_set_log(ctx, log_capture, &lb,
					 VFIODEV_LOG_ERR));
	EXPECT_EQ(-ENOENT, vfiodev_device_open(as, "0000:00:1e.7", &dev));
	EXPECT_EQ(1, lb.n);
	EXPECT_EQ(VFIODEV_LOG_ERR, lb.level);
	EXPECT_NE(NULL, strstr(lb.last, "0000:00:1e.7"));
	EXPECT_EQ(NULL, dev);
	vfiodev_as_destroy(as);
	vfiodev_ctx_destroy(ctx);
	close(p[0]);
	close(p[1]);
}

/* --- memory ------------------------------------------------------------ */

TEST(mem_alloc)
{
	enum vfiodev_mem_backing b;
	char buf[16];
	uint8_t *m;
	size_t i;

	EXPECT_EQ(-EINVAL, vfiodev_mem_alloc(0, 0, (void **)&m, &b));
	EXPECT_EQ(-EINVAL, vfiodev_mem_alloc(4096, 1u << 7, (void **)&m, &b));
	EXPECT_EQ(-EINVAL, vfiodev_mem_alloc(4096, VFIODEV_MEM_NO_HUGETLB |
					     VFIODEV_MEM_REQUIRE_HUGETLB,
					     (void **)&m, &b));
	EXPECT_EQ(-EINVAL, vfiodev_mem_alloc(4096, 0, NULL, &b));

	/* Plain pages when both kinds of huge page are refused. */
	ASSERT_EQ(0, vfiodev_mem_alloc(5000, VFIODEV_MEM_NO_HUGETLB |
				       VFIODEV_MEM_NO_THP, (void **)&m, &b));
	EXPECT_EQ(VFIODEV_MEM_4K, b);
	for (i = 0; i < SZ_2M; i += 4096)
		ASSERT_EQ(0, m[i]);
	m[SZ_2M - 1] = 1;	/* the whole rounded length is there */
	EXPECT_EQ(-EINVAL, vfiodev_mem_free(m + 4096, 5000));
	EXPECT_EQ(0, vfiodev_mem_free(m, 5000));
	EXPECT_EQ(0, vfiodev_mem_free(NULL, 5000));

	/* No hugetlb pool: required hugetlb fails, the default takes THP. */
	ASSERT_EQ(0, sysfs_write("/proc/sys/vm/nr_hugepages", "0"));
	EXPECT_EQ(-ENOMEM, vfiodev_mem_alloc(SZ_2M, VFIODEV_MEM_REQUIRE_HUGETLB,
					     (void **)&m, &b));
	ASSERT_EQ(0, vfiodev_mem_alloc(SZ_2M, 0, (void **)&m, &b));
	/* THP where the kernel has it (the debug kernel does not). */
	if (!access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK)) {
		EXPECT_EQ(VFIODEV_MEM_THP, b);
	} else {
		EXPECT_EQ(VFIODEV_MEM_4K, b);
	}
	EXPECT_EQ(0, (uintptr_t)m & (SZ_2M - 1));
	EXPECT_EQ(0, vfiodev_mem_free(m, SZ_2M));

	/* With a pool, 2 MiB hugetlb pages, aligned. */
	ASSERT_EQ(0, sysfs_write("/proc/sys/vm/nr_hugepages", "4"));
	ASSERT_EQ(0, sysfs_read("/proc/sys/vm/nr_hugepages", buf, sizeof(buf)));
	if (atoi(buf) < 2)
		SKIP(return, "the guest could not reserve 2 MiB pages");
	ASSERT_EQ(0, vfiodev_mem_alloc(3 << 20, VFIODEV_MEM_REQUIRE_HUGETLB,
				       (void **)&m, &b));
	EXPECT_EQ(VFIODEV_MEM_HUGETLB_2M, b);
	EXPECT_EQ(0, (uintptr_t)m & (SZ_2M - 1));
	m[(4 << 20) - 1] = 2;
	EXPECT_EQ(0, vfiodev_mem_free(m, 3 << 20));
	sysfs_write("/proc/sys/vm/nr_hugepages", "0");
}

/* --- sysfs and binding ------------------------------------------------- */

struct walk {
	const char *want;
	int seen, total, vfio_seen, stop_at;
};

static int walk_fn(const struct vfiodev_pci_info *pi, void *opaque)
{
	struct walk *w = opaque;

	w->total++;
	if (!strcmp(pi->bdf, w->want))
		w->seen++;
	if (pi->vfio)
		w->vfio_seen++;
	return w->stop_at && w->total == w->stop_at ? 42 : 0;
}

TEST(pci_info_and_walk)
{
	struct vfiodev_pci_info pi;
	char edu[2][BDF_LEN], path[PATH_MAX];
	struct walk w = { 0 }, v = { 0 }, st = { 0 };
	struct vfiodev_ctx *ctx;
	int coherent = iommu_coherent();

	first_edus(_metadata, edu);
	take(_metadata, edu[0]);
	ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &ctx));
	EXPECT_EQ(-EINVAL, vfiodev_pci_get_info(ctx, "0000:00:3f.0", &pi,
						sizeof(pi)));
	EXPECT_EQ(-EINVAL, vfiodev_pci_get_info(ctx, "0000:00:01.8", &pi,
						sizeof(pi)));
	EXPECT_EQ(-EINVAL, vfiodev_pci_get_info(ctx, "/proc/self", &pi,
						sizeof(pi)));
	EXPECT_EQ(-ENOENT, vfiodev_pci_get_info(ctx, "0000:00:1e.7", &pi,
						sizeof(pi)));
	EXPECT_EQ(-EINVAL, vfiodev_pci_get_info(ctx, edu[0], &pi, 4));

	ASSERT_EQ(0, vfiodev_pci_get_info(ctx, edu[0], &pi, sizeof(pi)));
	EXPECT_STREQ(edu[0], pi.bdf);
	EXPECT_EQ(0x1234, pi.vendor);
	EXPECT_EQ(0x11e8, pi.device);
	EXPECT_EQ(vfio_group_id(edu[0]), pi.group);
	EXPECT_EQ(1, pi.vfio);
	EXPECT_STREQ("vfio-pci", pi.driver);
	if (have_sysfs_coherency()) {
		EXPECT_EQ(coherent, pi.coherent);
		EXPECT_EQ(coherent ? VFIODEV_PATH_CDEV : VFIODEV_PATH_LEGACY,
			  pi.auto_path);
		EXPECT_EQ(coherent ? VFIODEV_REASON_COHERENT :
				     VFIODEV_REASON_NONCOHERENT, pi.auto_reason);
		EXPECT_EQ(0, strncmp(pi.cdev, "vfio", 4));
	} else if (have_cdev_path()) {
		EXPECT_EQ(-1, pi.coherent);
		EXPECT_EQ(VFIODEV_PATH_AUTO, pi.auto_path);
	} else {
		EXPECT_EQ(VFIODEV_PATH_LEGACY, pi.auto_path);
		EXPECT_EQ(VFIODEV_REASON_NO_CDEV, pi.auto_reason);
	}
	/* The same device by its sysfs directories and short address. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", edu[0]);
	ASSERT_EQ(0, vfiodev_pci_get_info(ctx, path, &pi, sizeof(pi)));
	EXPECT_STREQ(edu[0], pi.bdf);
	ASSERT_EQ(0, vfiodev_pci_get_info(ctx, edu[0] + 5, &pi, sizeof(pi)));
	EXPECT_STREQ(edu[0], pi.bdf);
	ASSERT_EQ(0, vfiodev_pci_get_info(ctx, "0000:00:1F.0", &pi, sizeof(pi)));
	EXPECT_STREQ("0000:00:1f.0", pi.bdf);
	/* A forced policy is what "auto" reports then. */
	ASSERT_EQ(0, vfiodev_ctx_set_path(ctx, VFIODEV_PATH_LEGACY));
	ASSERT_EQ(0, vfiodev_pci_get_info(ctx, edu[0], &pi, sizeof(pi)));
	EXPECT_EQ(VFIODEV_PATH_LEGACY, pi.auto_path);
	EXPECT_EQ(VFIODEV_REASON_FORCED, pi.auto_reason);

	w.want = edu[0];
	EXPECT_EQ(-EINVAL, vfiodev_pci_for_each(ctx, 1u << 4, walk_fn, &w));
	EXPECT_EQ(-EINVAL, vfiodev_pci_for_each(ctx, 0, NULL, &w));
	ASSERT_EQ(0, vfiodev_pci_for_each(ctx, 0, walk_fn, &w));
	EXPECT_EQ(1, w.seen);
	EXPECT_LT(w.vfio_seen, w.total);
	ASSERT_LE(1, w.vfio_seen);
	v.want = edu[0];
	ASSERT_EQ(0, vfiodev_pci_for_each(ctx, VFIODEV_PCI_VFIO_ONLY, walk_fn,
					  &v));
	EXPECT_EQ(w.vfio_seen, v.total);
	EXPECT_EQ(v.total, v.vfio_seen);
	EXPECT_EQ(1, v.seen);
	st.want = edu[0];
	st.stop_at = 2;
	EXPECT_EQ(42, vfiodev_pci_for_each(ctx, 0, walk_fn, &st));
	EXPECT_EQ(2, st.total);
	vfiodev_ctx_destroy(ctx);
	pci_release(edu[0]);
}

TEST(pci_bind_unbind)
{
	char edu[2][BDF_LEN], drv[64], path[PATH_MAX], ovr[64];
	struct vfiodev_pci_info pi;
	struct vfiodev_ctx *ctx;

	first_edus(_metadata, edu);
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	pci_release(edu[1]);
	ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &ctx));
	EXPECT_EQ(-EINVAL, vfiodev_pci_bind(ctx, "00:01", NULL));
	EXPECT_EQ(-EINVAL, vfiodev_pci_bind(ctx, NULL, NULL));
	EXPECT_EQ(-ENOENT, vfiodev_pci_bind(ctx, "0000:00:1e.7", NULL));
	EXPECT_EQ(-EINVAL, vfiodev_pci_bind(ctx, edu[1], "../vfio-pci"));
	EXPECT_EQ(-EINVAL, vfiodev_pci_bind(ctx, edu[1], ""));
	EXPECT_EQ(-ENODEV, vfiodev_pci_bind(ctx, edu[1], "no-such-driver"));
	ASSERT_EQ(0, pci_driver_of(edu[1], drv, sizeof(drv)));
	EXPECT_STREQ("", drv);
	/* A loaded driver that does not take the device: left unbound. */
	EXPECT_EQ(-ENODEV, vfiodev_pci_bind(ctx, edu[1], "pcieport"));
	ASSERT_EQ(0, pci_driver_of(edu[1], drv, sizeof(drv)));
	EXPECT_STREQ("", drv);
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/driver_override",
		 edu[1]);
	ASSERT_EQ(0, sysfs_read(path, ovr, sizeof(ovr)));
	EXPECT_STREQ("(null)", ovr);

	ASSERT_EQ(0, vfiodev_pci_bind(ctx, edu[1], NULL));
	ASSERT_EQ(0, pci_driver_of(edu[1], drv, sizeof(drv)));
	EXPECT_STREQ("vfio-pci", drv);
	ASSERT_EQ(0, vfiodev_pci_get_info(ctx, edu[1], &pi, sizeof(pi)));
	EXPECT_EQ(1, pi.vfio);
	/* Binding again to the same driver changes nothing. */
	EXPECT_EQ(0, vfiodev_pci_bind(ctx, edu[1], "vfio-pci"));

	EXPECT_EQ(-EINVAL, vfiodev_pci_unbind(ctx, "bogus"));
	EXPECT_EQ(-ENOENT, vfiodev_pci_unbind(ctx, "0000:00:1e.7"));
	ASSERT_EQ(0, vfiodev_pci_unbind(ctx, edu[1]));
	ASSERT_EQ(0, pci_driver_of(edu[1], drv, sizeof(drv)));
	EXPECT_STREQ("", drv);
	ASSERT_EQ(0, sysfs_read(path, ovr, sizeof(ovr)));
	EXPECT_STREQ("(null)", ovr);
	EXPECT_EQ(0, vfiodev_pci_unbind(ctx, edu[1]));
	vfiodev_ctx_destroy(ctx);
}

/* --- the path policy --------------------------------------------------- */

static int last_coherent;

static enum vfiodev_path open_path(struct __test_metadata *_metadata,
				   struct vfiodev_ctx *ctx, const char *name,
				   enum vfiodev_reason *reason)
{
	struct vfiodev_device_info di;
	struct vfiodev_device *dev;
	enum vfiodev_path path;
	struct vfiodev_as *as;

	if (vfiodev_as_create(ctx, &as))
		return VFIODEV_PATH_AUTO;
	if (vfiodev_device_open(as, name, &dev)) {
		vfiodev_as_destroy(as);
		return VFIODEV_PATH_AUTO;
	}
	path = vfiodev_device_path(dev, reason);
	EXPECT_EQ(path, vfiodev_as_path(as));
	EXPECT_EQ(0, vfiodev_device_get_info(dev, &di, sizeof(di)));
	last_coherent = di.coherent;
	vfiodev_device_close(dev);
	vfiodev_as_destroy(as);
	return path;
}

TEST(path_auto)
{
	int coherent = iommu_coherent();
	struct vfiodev_pci_info pi;
	enum vfiodev_reason reason;
	struct vfiodev_ctx *ctx;
	char edu[2][BDF_LEN];
	enum vfiodev_path p;

	first_edus(_metadata, edu);
	take(_metadata, edu[0]);
	ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &ctx));
	p = open_path(_metadata, ctx, edu[0], &reason);
	if (!have_cdev_path()) {
		EXPECT_EQ(VFIODEV_PATH_LEGACY, p);
		EXPECT_EQ(VFIODEV_REASON_NO_CDEV, reason);
	} else if (have_sysfs_coherency()) {
		EXPECT_EQ(coherent ? VFIODEV_PATH_CDEV : VFIODEV_PATH_LEGACY, p);
		EXPECT_EQ(coherent ? VFIODEV_REASON_COHERENT :
				     VFIODEV_REASON_NONCOHERENT, reason);
	} else {
		EXPECT_EQ(coherent ? VFIODEV_PATH_CDEV : VFIODEV_PATH_LEGACY, p);
		EXPECT_EQ(coherent ? VFIODEV_REASON_ATTACH_COHERENT :
				     VFIODEV_REASON_ATTACH_NONCOHERENT, reason);
	}
	/* However it was learned, the device knows its coherency. */
	EXPECT_EQ(coherent, last_coherent);
	TH_LOG("snoop-control %s: auto took the %s path: %s",
	       coherent ? "on" : "off", vfiodev_path_str(p),
	       vfiodev_reason_str(reason));
	/* The cdev's name means the new path. */
	if (have_cdev_path()) {
		char name[64];

		ASSERT_EQ(0, vfiodev_pci_get_info(ctx, edu[0], &pi, sizeof(pi)));
		snprintf(name, sizeof(name), "/dev/vfio/devices/%s", pi.cdev);
		EXPECT_EQ(VFIODEV_PATH_CDEV, open_path(_metadata, ctx, name,
						       &reason));
		EXPECT_EQ(VFIODEV_REASON_CDEV_NAME, reason);
	}
	vfiodev_ctx_destroy(ctx);
	pci_release(edu[0]);
}

TEST(path_forced_and_env)
{
	enum vfiodev_reason reason;
	struct vfiodev_ctx *ctx;
	char edu[2][BDF_LEN];
	struct vfiodev_as *as;

	first_edus(_metadata, edu);
	take(_metadata, edu[0]);
	ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &ctx));
	ASSERT_EQ(0, vfiodev_ctx_set_path(ctx, VFIODEV_PATH_LEGACY));
	EXPECT_EQ(VFIODEV_PATH_LEGACY, open_path(_metadata, ctx, edu[0], &reason));
	EXPECT_EQ(VFIODEV_REASON_FORCED, reason);
	if (have_cdev_path()) {
		struct vfiodev_device *dev = NULL;
		struct vfiodev_pci_info pi;
		char name[64];

		/* A cdev name cannot take a forced legacy path. */
		ASSERT_EQ(0, vfiodev_pci_get_info(ctx, edu[0], &pi, sizeof(pi)));
		snprintf(name, sizeof(name), "/dev/vfio/devices/%s", pi.cdev);
		ASSERT_EQ(0, vfiodev_as_create(ctx, &as));
		EXPECT_EQ(-EINVAL, vfiodev_device_open(as, name, &dev));
		EXPECT_EQ(VFIODEV_PATH_AUTO, vfiodev_as_path(as));
		vfiodev_as_destroy(as);
	}
	ASSERT_EQ(0, vfiodev_ctx_set_path(ctx, VFIODEV_PATH_CDEV));
	if (have_cdev_path()) {
		EXPECT_EQ(VFIODEV_PATH_CDEV, open_path(_metadata, ctx, edu[0],
						       &reason));
		EXPECT_EQ(VFIODEV_REASON_FORCED, reason);
	} else {
		EXPECT_EQ(-ENODEV, vfiodev_as_create(ctx, &as));
	}
	vfiodev_ctx_destroy(ctx);

	/* The operator's choice beats the program's, unless it opts out. */
	ASSERT_EQ(0, setenv("VFIODEV_PATH", "legacy", 1));
	ASSERT_EQ(0, vfiodev_ctx_create(0, &ctx));
	ASSERT_EQ(0, vfiodev_ctx_set_path(ctx, VFIODEV_PATH_CDEV));
	EXPECT_EQ(VFIODEV_PATH_LEGACY, open_path(_metadata, ctx, edu[0], &reason));
	EXPECT_EQ(VFIODEV_REASON_ENV, reason);
	vfiodev_ctx_destroy(ctx);
	if (have_cdev_path()) {
		ASSERT_EQ(0, setenv("VFIODEV_PATH", "cdev", 1));
		ASSERT_EQ(0, vfiodev_ctx_create(0, &ctx));
		ASSERT_EQ(0, vfiodev_ctx_set_path(ctx, VFIODEV_PATH_LEGACY));
		EXPECT_EQ(VFIODEV_PATH_CDEV, open_path(_metadata, ctx, edu[0],
						       &reason));
		EXPECT_EQ(VFIODEV_REASON_ENV, reason);
		vfiodev_ctx_destroy(ctx);
		ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &ctx));
		ASSERT_EQ(0, vfiodev_ctx_set_path(ctx, VFIODEV_PATH_LEGACY));
		EXPECT_EQ(VFIODEV_PATH_LEGACY, open_path(_metadata, ctx, edu[0],
							 &reason));
		EXPECT_EQ(VFIODEV_REASON_FORCED, reason);
		vfiodev_ctx_destroy(ctx);
	}
	unsetenv("VFIODEV_PATH");
	pci_release(edu[0]);
}

TEST(device_open_errors)
{
	char edu[2][BDF_LEN], port[4][BDF_LEN], drv[64];
	struct vfiodev_device *dev = NULL;
	struct vfiodev_ctx *ctx;
	struct vfiodev_as *as;
	int n;

	first_edus(_metadata, edu);
	pci_release(edu[1]);
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &ctx));
	ASSERT_EQ(0, vfiodev_as_create(ctx, &as));
	EXPECT_EQ(-EINVAL, vfiodev_device_open(NULL, edu[1], &dev));
	EXPECT_EQ(-EINVAL, vfiodev_device_open(as, NULL, &dev));
	EXPECT_EQ(-EINVAL, vfiodev_device_open(as, "", &dev));
	EXPECT_EQ(-EINVAL, vfiodev_device_open(as, "0000:00:20.0", &dev));
	EXPECT_EQ(-EINVAL, vfiodev_device_open(as, "0000-00-01.0", &dev));
	EXPECT_EQ(-EINVAL, vfiodev_device_open(as, "/dev/vfio/devices/evil", &dev));
	EXPECT_EQ(-ENOENT, vfiodev_device_open(as, "0000:00:1e.7", &dev));
	EXPECT_EQ(-ENOENT, vfiodev_device_open(as, "/dev/vfio/devices/vfio999", &dev));
	EXPECT_EQ(-ENOENT, vfiodev_device_open(as, "/sys/bus/pci/devices/0000:00:1e.7",
					       &dev));
	/* No driver. */
	EXPECT_EQ(-ENODEV, vfiodev_device_open(as, edu[1], &dev));
	/* Another driver: the PCIe root port belongs to pcieport. */
	n = pci_find(0x1b36, 0x000c, 0, port, 4);
	ASSERT_LE(1, n);
	ASSERT_EQ(0, pci_driver_of(port[0], drv, sizeof(drv)));
	EXPECT_EQ(-EBUSY, vfiodev_device_open(as, port[0], &dev));
	EXPECT_EQ(NULL, dev);
	/* Nothing was fixed by the failures. */
	EXPECT_EQ(VFIODEV_PATH_AUTO, vfiodev_as_path(as));
	vfiodev_as_destroy(as);
	vfiodev_ctx_destroy(ctx);
}

/* --- one device on each DMA mode -------------------------------------- */

FIXTURE(dev) {
	struct vfiodev_ctx *ctx;
	struct vfiodev_as *as;
	struct vfiodev_device *dev;
	char bdf[2][BDF_LEN];
	long pinned;
};

FIXTURE_VARIANT(dev) {
	enum vfiodev_path path;
	unsigned int legacy;
};

FIXTURE_VARIANT_ADD(dev, type1v2) {
	.path = VFIODEV_PATH_LEGACY,
};

FIXTURE_VARIANT_ADD(dev, type1) {
	.path = VFIODEV_PATH_LEGACY,
	.legacy = VFIODEV_LEGACY_TYPE1_V1,
};

FIXTURE_VARIANT_ADD(dev, compat_type1v2) {
	.path = VFIODEV_PATH_LEGACY,
	.legacy = VFIODEV_LEGACY_IOMMUFD_COMPAT,
};

FIXTURE_VARIANT_ADD(dev, compat_type1) {
	.path = VFIODEV_PATH_LEGACY,
	.legacy = VFIODEV_LEGACY_IOMMUFD_COMPAT | VFIODEV_LEGACY_TYPE1_V1,
};

FIXTURE_VARIANT_ADD(dev, iommufd) {
	.path = VFIODEV_PATH_CDEV,
};

FIXTURE_SETUP(dev)
{
	self->ctx = NULL;
	self->as = NULL;
	self->dev = NULL;
	if (variant->path == VFIODEV_PATH_CDEV && !have_cdev_path())
		SKIP(return, "no /dev/iommu and vfio cdev on this stack");
	if ((variant->legacy & VFIODEV_LEGACY_IOMMUFD_COMPAT) &&
	    access("/dev/iommu", F_OK))
		SKIP(return, "no /dev/iommu on this stack");
	first_edus(_metadata, self->bdf);
	take(_metadata, self->bdf[0]);
	self->pinned = guest_pinned_pages();
	ASSERT_LE(0, self->pinned);
	ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &self->ctx));
	ASSERT_EQ(0, vfiodev_ctx_set_path(self->ctx, variant->path));
	ASSERT_EQ(0, vfiodev_ctx_set_legacy(self->ctx, variant->legacy));
	ASSERT_EQ(0, vfiodev_as_create(self->ctx, &self->as));
	ASSERT_EQ(0, vfiodev_device_open(self->as, self->bdf[0], &self->dev));
}

FIXTURE_TEARDOWN(dev)
{
	vfiodev_device_close(self->dev);
	vfiodev_as_destroy(self->as);
	vfiodev_ctx_destroy(self->ctx);
	if (self->ctx) {
		/* Every pin taken in the test is given back. */
		EXPECT_EQ(self->pinned, guest_pinned_pages());
		pci_release(self->bdf[0]);
	}
}

TEST_F(dev, path_and_info)
{
	struct vfio_device_info vi = { .argsz = sizeof(vi) };
	struct vfiodev_device_info di, small;
	enum vfiodev_reason reason;

	EXPECT_EQ(variant->path, vfiodev_device_path(self->dev, &reason));
	EXPECT_EQ(VFIODEV_REASON_FORCED, reason);
	EXPECT_EQ(variant->path, vfiodev_device_path(self->dev, NULL));
	EXPECT_EQ(variant->path, vfiodev_as_path(self->as));

	EXPECT_EQ(-EINVAL, vfiodev_device_get_info(self->dev, &di, 8));
	EXPECT_EQ(-EINVAL, vfiodev_device_get_info(self->dev, NULL, sizeof(di)));
	ASSERT_EQ(0, vfiodev_device_get_info(self->dev, &di, sizeof(di)));
	EXPECT_TRUE(di.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_LE(VFIO_PCI_NUM_REGIONS, di.num_regions);
	EXPECT_LE(VFIO_PCI_NUM_IRQS, di.num_irqs);
	EXPECT_STREQ(self->bdf[0], di.bdf);
	EXPECT_EQ(vfio_group_id(self->bdf[0]), di.group);
	if (variant->path == VFIODEV_PATH_CDEV) {
		EXPECT_EQ(0, strncmp(di.cdev, "vfio", 4));
		EXPECT_EQ(have_sysfs_coherency() ? iommu_coherent() : -1,
			  di.coherent);
	} else {
		EXPECT_STREQ("", di.cdev);
		EXPECT_EQ(iommu_coherent(), di.coherent);
	}
	/* An older, shorter structure gets its prefix and nothing more. */
	memset(&small, 0x5a, sizeof(small));
	ASSERT_EQ(0, vfiodev_device_get_info(self->dev, &small,
					     offsetofend(struct vfiodev_device_info,
							 num_irqs)));
	EXPECT_EQ(di.num_irqs, small.num_irqs);
	EXPECT_EQ(0x5a5a5a5a, small.coherent);

	/* The device file is the library's, and answers VFIO ioctls. */
	ASSERT_EQ(0, ioctl(vfiodev_device_fd(self->dev), VFIO_DEVICE_GET_INFO,
			   &vi));
	EXPECT_EQ(di.num_regions, vi.num_regions);
}

TEST_F(dev, regions)
{
	struct vfiodev_region_info ri;
	uint32_t id = 0, v;
	uint16_t vendor = 0;
	void *bar, *bar2;

	EXPECT_EQ(-EINVAL, vfiodev_region_get_info(self->dev, 99, &ri,
						   sizeof(ri)));
	EXPECT_EQ(-EINVAL, vfiodev_region_get_info(self->dev, 0, &ri, 8));
	ASSERT_EQ(0, vfiodev_region_get_info(self->dev, VFIODEV_PCI_BAR0, &ri,
					     sizeof(ri)));
	EXPECT_EQ(VFIODEV_PCI_BAR0, ri.index);
	EXPECT_EQ(1 << 20, ri.size);
	EXPECT_EQ(VFIODEV_REGION_READ | VFIODEV_REGION_WRITE |
		  VFIODEV_REGION_MMAP, ri.flags);
	ASSERT_EQ(0, vfiodev_region_get_info(self->dev, VFIODEV_PCI_CONFIG, &ri,
					     sizeof(ri)));
	EXPECT_LE(256, ri.size);
	EXPECT_FALSE(ri.flags & VFIODEV_REGION_MMAP);

	ASSERT_EQ(0, vfiodev_config_read(self->dev, 0, &vendor, 2));
	EXPECT_EQ(0x1234, vendor);
	ASSERT_EQ(0, vfiodev_region_read(self->dev, VFIODEV_PCI_CONFIG, 2,
					 &vendor, 2));
	EXPECT_EQ(0x11e8, vendor);
	EXPECT_EQ(0, edu_enable(self->dev));
	ASSERT_EQ(0, vfiodev_region_read(self->dev, 0, EDU_ID_REG, &id, 4));
	EXPECT_EQ(EDU_ID_VAL, id);
	v = 0x0f0f1234;
	ASSERT_EQ(0, vfiodev_region_write(self->dev, 0, EDU_LIVE, &v, 4));
	ASSERT_EQ(0, vfiodev_region_read(self->dev, 0, EDU_LIVE, &id, 4));
	EXPECT_EQ(~v, id);
	/* Bounds. */
	EXPECT_EQ(-EINVAL, vfiodev_region_read(self->dev, 0, 1 << 20, &id, 4));
	EXPECT_EQ(-EINVAL, vfiodev_region_read(self->dev, 0, (1 << 20) - 2,
					       &id, 4));
	EXPECT_EQ(-EINVAL, vfiodev_region_read(self->dev, 0, ~0ULL, &id, 4));
	EXPECT_EQ(-EINVAL, vfiodev_region_read(self->dev, 99, 0, &id, 4));
	EXPECT_EQ(-EINVAL, vfiodev_region_read(self->dev, 0, 0, &id, 0));
	EXPECT_EQ(-EINVAL, vfiodev_config_write(self->dev, 4096, &v, 4));

	/* The BAR in the process. */
	EXPECT_EQ(-EINVAL, vfiodev_region_mmap(self->dev, 0, 0, &bar));
	EXPECT_EQ(-EINVAL, vfiodev_region_mmap(self->dev, 0, PROT_EXEC, &bar));
	EXPECT_EQ(-EINVAL, vfiodev_region_mmap(self->dev, 0, PROT_READ, NULL));
	EXPECT_EQ(-EOPNOTSUPP, vfiodev_region_mmap(self->dev, 1, PROT_READ,
						   &bar));
	EXPECT_EQ(-EINVAL, vfiodev_region_mmap(self->dev, VFIODEV_PCI_CONFIG,
					       PROT_READ, &bar));
	ASSERT_EQ(0, vfiodev_region_mmap(self->dev, 0, PROT_READ | PROT_WRITE,
					 &bar));
	EXPECT_EQ(EDU_ID_VAL, *(volatile uint32_t *)bar);
	*(volatile uint32_t *)((char *)bar + EDU_LIVE) = 0x11;
	EXPECT_EQ(~0x11u, *(volatile uint32_t *)((char *)bar + EDU_LIVE));
	EXPECT_EQ(-EBUSY, vfiodev_region_mmap(self->dev, 0, PROT_READ, &bar2));
	EXPECT_EQ(0, vfiodev_region_munmap(self->dev, 0));
	EXPECT_EQ(-ENOENT, vfiodev_region_munmap(self->dev, 0));
	EXPECT_EQ(-ENOENT, vfiodev_region_munmap(self->dev, 99));
	/* Mapped again, and left for close to undo. */
	ASSERT_EQ(0, vfiodev_region_mmap(self->dev, 0, PROT_READ, &bar));
	EXPECT_EQ(EDU_ID_VAL, *(volatile uint32_t *)bar);
}

TEST_F(dev, irqs)
{
	struct pollfd pfd = { .events = POLLIN };
	struct vfiodev_irq_info ii;
	uint64_t n = 0, val;
	int efd, fd;

	EXPECT_EQ(-EINVAL, vfiodev_irq_get_info(self->dev, 99, &ii, sizeof(ii)));
	EXPECT_EQ(-EINVAL, vfiodev_irq_get_info(self->dev, 0, &ii, 4));
	ASSERT_EQ(0, vfiodev_irq_get_info(self->dev, VFIODEV_IRQ_INTX, &ii,
					  sizeof(ii)));
	EXPECT_EQ(1, ii.count);
	EXPECT_EQ(VFIODEV_IRQ_EVENTFD | VFIODEV_IRQ_MASKABLE |
		  VFIODEV_IRQ_AUTOMASKED, ii.flags);
	ASSERT_EQ(0, vfiodev_irq_get_info(self->dev, VFIODEV_IRQ_MSI, &ii,
					  sizeof(ii)));
	EXPECT_EQ(1, ii.count);
	EXPECT_EQ(VFIODEV_IRQ_MSI, ii.index);
	ASSERT_EQ(0, vfiodev_irq_get_info(self->dev, VFIODEV_IRQ_MSIX, &ii,
					  sizeof(ii)));
	EXPECT_EQ(0, ii.count);

	EXPECT_EQ(-EINVAL, vfiodev_irq_enable(self->dev, VFIODEV_IRQ_MSI, 0, NULL));
	EXPECT_EQ(-EINVAL, vfiodev_irq_enable(self->dev, VFIODEV_IRQ_MSI, 2, NULL));
	EXPECT_EQ(-EINVAL, vfiodev_irq_enable(self->dev, VFIODEV_IRQ_MSIX, 1, NULL));
	EXPECT_EQ(-EINVAL, vfiodev_irq_enable(self->dev, 99, 1, NULL));
	EXPECT_EQ(-ENOENT, vfiodev_irq_fd(self->dev, VFIODEV_IRQ_MSI, 0));
	EXPECT_EQ(-ENOENT, vfiodev_irq_wait(self->dev, VFIODEV_IRQ_MSI, 0, 0, &n));
	EXPECT_EQ(-ENOENT, vfiodev_irq_disable(self->dev, VFIODEV_IRQ_MSI));
	EXPECT_EQ(-EINVAL, vfiodev_irq_disable(self->dev, 99));

	ASSERT_EQ(0, edu_enable(self->dev));
	ASSERT_EQ(0, vfiodev_irq_enable(self->dev, VFIODEV_IRQ_MSI, 1, NULL));
	fd = vfiodev_irq_fd(self->dev, VFIODEV_IRQ_MSI, 0);
	EXPECT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-ENOENT, vfiodev_irq_fd(self->dev, VFIODEV_IRQ_MSI, 1));
	EXPECT_EQ(-ETIMEDOUT, vfiodev_irq_wait(self->dev, VFIODEV_IRQ_MSI, 0,
					       0, &n));
	EXPECT_EQ(-EBUSY, vfiodev_irq_enable(self->dev, VFIODEV_IRQ_INTX, 1,
					     NULL));
	edu_wr(self->dev, EDU_IRQ_RAISE, 0x40, 4);
	ASSERT_EQ(0, vfiodev_irq_wait(self->dev, VFIODEV_IRQ_MSI, 0, 20000, &n));
	EXPECT_EQ(1, n);
	EXPECT_EQ(0x40, edu_rd(self->dev, EDU_IRQ_STATUS));
	edu_wr(self->dev, EDU_IRQ_ACK, 0x40, 4);
	/* MSI cannot be masked through VFIO. */
	EXPECT_EQ(-EINVAL, vfiodev_irq_mask(self->dev, VFIODEV_IRQ_MSI, 0));
	EXPECT_EQ(-EINVAL, vfiodev_irq_unmask(self->dev, VFIODEV_IRQ_MSI, 0));
	EXPECT_EQ(0, vfiodev_irq_disable(self->dev, VFIODEV_IRQ_MSI));
	EXPECT_EQ(-ENOENT, vfiodev_irq_fd(self->dev, VFIODEV_IRQ_MSI, 0));

	/* The caller's own eventfd, duplicated. */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vfiodev_irq_enable(self->dev, VFIODEV_IRQ_MSI, 1, &efd));
	EXPECT_NE(efd, vfiodev_irq_fd(self->dev, VFIODEV_IRQ_MSI, 0));
	edu_wr(self->dev, EDU_IRQ_RAISE, 0x41, 4);
	pfd.fd = efd;
	ASSERT_EQ(1, poll(&pfd, 1, 20000));
	ASSERT_EQ(8, read(efd, &val, 8));
	EXPECT_EQ(1, val);
	edu_wr(self->dev, EDU_IRQ_ACK, 0x41, 4);
	/* Enabled again with the same count: the new eventfd takes over. */
	ASSERT_EQ(0, vfiodev_irq_enable(self->dev, VFIODEV_IRQ_MSI, 1, NULL));
	edu_wr(self->dev, EDU_IRQ_RAISE, 0x42, 4);
	ASSERT_EQ(0, vfiodev_irq_wait(self->dev, VFIODEV_IRQ_MSI, 0, 20000, &n));
	EXPECT_EQ(-1, read(efd, &val, 8));	/* the old one saw nothing */
	edu_wr(self->dev, EDU_IRQ_ACK, 0x42, 4);
	EXPECT_EQ(0, vfiodev_irq_disable(self->dev, VFIODEV_IRQ_MSI));
	/* Still the caller's, still open. */
	EXPECT_LE(0, fcntl(efd, F_GETFD));
	close(efd);

	/* INTx: masking and unmasking; left enabled for close to undo. */
	ASSERT_EQ(0, vfiodev_irq_enable(self->dev, VFIODEV_IRQ_INTX, 1, NULL));
	EXPECT_EQ(0, vfiodev_irq_mask(self->dev, VFIODEV_IRQ_INTX, 0));
	EXPECT_EQ(0, vfiodev_irq_unmask(self->dev, VFIODEV_IRQ_INTX, 0));
	EXPECT_EQ(-EINVAL, vfiodev_irq_mask(self->dev, VFIODEV_IRQ_INTX, 1));
	EXPECT_EQ(-EINVAL, vfiodev_irq_unmask(self->dev, 99, 0));
	EXPECT_EQ(-EBUSY, vfiodev_irq_enable(self->dev, VFIODEV_IRQ_MSI, 1, NULL));
	/* REQ is not exclusive with INTx. */
	EXPECT_EQ(0, vfiodev_irq_enable(self->dev, VFIODEV_IRQ_REQ, 1, NULL));
}

TEST_F(dev, reset)
{
	struct vfiodev_device_info di;
	int rc;

	ASSERT_EQ(0, vfiodev_device_get_info(self->dev, &di, sizeof(di)));
	rc = vfiodev_device_reset(self->dev);
	if (di.flags & VFIO_DEVICE_FLAGS_RESET) {
		EXPECT_EQ(0, rc);
	} else {
		EXPECT_EQ(-EOPNOTSUPP, rc);
	}
}

TEST_F(dev, dma)
{
	struct vfiodev_iova_range r[8];
	uint64_t iova, iova2, fixed, k;
	size_t len = 4 * SZ_2M, done = 7;
	uint8_t *m;
	void *va;
	int n, i;

	n = vfiodev_as_iova_ranges(self->as, NULL, 0);
	ASSERT_LE(1, n);
	EXPECT_EQ(-EINVAL, vfiodev_as_iova_ranges(self->as, NULL, 1));
	ASSERT_EQ(n, vfiodev_as_iova_ranges(self->as, r, 8));
	for (i = 1; i < n && i < 8; i++)
		EXPECT_LT(r[i - 1].last, r[i].start);

	ASSERT_EQ(0, vfiodev_mem_alloc(len, 0, (void **)&m, NULL));
	/* Arguments. */
	EXPECT_EQ(-EINVAL, vfiodev_dma_map(self->as, m + 1, 4096, &iova, 0));
	EXPECT_EQ(-EINVAL, vfiodev_dma_map(self->as, m, 100, &iova, 0));
	EXPECT_EQ(-EINVAL, vfiodev_dma_map(self->as, m, 0, &iova, 0));
	EXPECT_EQ(-EINVAL, vfiodev_dma_map(self->as, m, 4096, NULL, 0));
	EXPECT_EQ(-EINVAL, vfiodev_dma_map(self->as, m, 4096, &iova, 1u << 9));
	EXPECT_EQ(-EINVAL, vfiodev_dma_map(self->as, m, 4096, &iova,
					   VFIODEV_DMA_FIXED_IOVA |
					   VFIODEV_DMA_KERNEL_IOVA));
	iova = 0x1001;
	EXPECT_EQ(-EINVAL, vfiodev_dma_map(self->as, m, 4096, &iova,
					   VFIODEV_DMA_FIXED_IOVA));

	/* Library-chosen IOVA, 2 MiB aligned, in a window. */
	ASSERT_EQ(0, vfiodev_dma_map(self->as, m, SZ_2M, &iova, 0));
	EXPECT_EQ(0, iova & (SZ_2M - 1));
	EXPECT_NE(0, iova);
	for (i = 0; i < n; i++)
		if (iova >= r[i].start && iova + SZ_2M - 1 <= r[i].last)
			break;
	EXPECT_LT(i, n);
	ASSERT_EQ(0, vfiodev_dma_iova(self->as, m + 4096, 100, &k));
	EXPECT_EQ(iova + 4096, k);
	ASSERT_EQ(0, vfiodev_dma_vaddr(self->as, iova + 8192, 4096, &va));
	EXPECT_EQ(m + 8192, va);
	EXPECT_EQ(-ENOENT, vfiodev_dma_iova(self->as, m + SZ_2M - 10, 20, &k));
	EXPECT_EQ(-ENOENT, vfiodev_dma_vaddr(self->as, iova + SZ_2M, 1, &va));
	EXPECT_EQ(-EINVAL, vfiodev_dma_iova(self->as, m, 0, &k));
	EXPECT_EQ(-EINVAL, vfiodev_dma_vaddr(self->as, iova, 0, &va));
	/* The device moves data through it. */
	EXPECT_TRUE(edu_roundtrip(self->dev, m, iova, m + 4096, iova + 4096, 1));

	/* Overlaps: the same memory, or the same IOVAs. */
	EXPECT_EQ(-EEXIST, vfiodev_dma_map(self->as, m + 4096, 4096, &iova2, 0));
	fixed = iova + 4096;
	EXPECT_EQ(-EEXIST, vfiodev_dma_map(self->as, m + SZ_2M, 4096, &fixed,
					   VFIODEV_DMA_FIXED_IOVA));
	/* Fixed IOVA, right after. */
	fixed = iova + SZ_2M;
	ASSERT_EQ(0, vfiodev_dma_map(self->as, m + SZ_2M, SZ_2M, &fixed,
				     VFIODEV_DMA_FIXED_IOVA));
	EXPECT_EQ(iova + SZ_2M, fixed);
	/* The library's next choice avoids it. */
	ASSERT_EQ(0, vfiodev_dma_map(self->as, m + 2 * SZ_2M, 4096, &iova2,
				     VFIODEV_DMA_READ));
	EXPECT_TRUE(iova2 + 4096 <= iova || iova2 >= iova + 2 * SZ_2M);
	/* The kernel's choice on the new path only. */
	k = 0;
	if (variant->path == VFIODEV_PATH_CDEV) {
		ASSERT_EQ(0, vfiodev_dma_map(self->as, m + 3 * SZ_2M, 8192, &k,
					     VFIODEV_DMA_KERNEL_IOVA));
		ASSERT_EQ(0, vfiodev_dma_iova(self->as, m + 3 * SZ_2M, 8192,
					      &fixed));
		EXPECT_EQ(k, fixed);
		EXPECT_EQ(0, vfiodev_dma_unmap(self->as, k, 8192, 0, &done));
		EXPECT_EQ(8192, done);
	} else {
		EXPECT_EQ(-EOPNOTSUPP, vfiodev_dma_map(self->as, m + 3 * SZ_2M,
						       8192, &k,
						       VFIODEV_DMA_KERNEL_IOVA));
	}

	/* A range that cuts a mapping changes nothing. */
	EXPECT_EQ(-EINVAL, vfiodev_dma_unmap(self->as, iova + 4096, 4096, 0,
					     &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(-EINVAL, vfiodev_dma_unmap(self->as, iova, SZ_2M + 4096, 0,
					     &done));
	EXPECT_EQ(0, vfiodev_dma_iova(self->as, m + 4096, 1, &k));
	EXPECT_TRUE(edu_roundtrip(self->dev, m, iova, m + 4096, iova + 4096, 2));
	/* Nothing there. */
	EXPECT_EQ(-ENOENT, vfiodev_dma_unmap(self->as, iova + 8 * SZ_2M, 4096, 0,
					     &done));
	EXPECT_EQ(-EINVAL, vfiodev_dma_unmap(self->as, iova, 0, 0, &done));
	EXPECT_EQ(-EINVAL, vfiodev_dma_unmap(self->as, ~0ULL - 4095, 8192, 0,
					     &done));
	EXPECT_EQ(-EINVAL, vfiodev_dma_unmap(self->as, iova, SZ_2M, 1u << 3,
					     &done));
	/* A range with a gap: refused, or unmapped with SPARSE. */
	if (iova2 > iova) {
		EXPECT_EQ(-ENOENT, vfiodev_dma_unmap(self->as, iova,
						     iova2 + 4096 - iova, 0,
						     &done));
		EXPECT_EQ(0, vfiodev_dma_iova(self->as, m, 1, &k));
		EXPECT_EQ(0, vfiodev_dma_unmap(self->as, iova,
					       iova2 + 4096 - iova,
					       VFIODEV_DMA_UNMAP_SPARSE, &done));
		EXPECT_EQ(2 * SZ_2M + 4096, done);
	} else {
		EXPECT_EQ(0, vfiodev_dma_unmap(self->as, iova2, 4096, 0, &done));
		EXPECT_EQ(0, vfiodev_dma_unmap(self->as, iova, 2 * SZ_2M, 0,
					       &done));
		EXPECT_EQ(2 * SZ_2M, done);
	}
	EXPECT_EQ(-ENOENT, vfiodev_dma_iova(self->as, m, 1, &k));
	EXPECT_EQ(-ENOENT, vfiodev_dma_unmap(self->as, iova, SZ_2M, 0, &done));

	/* Freed IOVAs are used again. */
	ASSERT_EQ(0, vfiodev_dma_map(self->as, m + SZ_2M, SZ_2M, &k, 0));
	EXPECT_EQ(iova, k);
	/* A sparse range of any alignment around whole mappings. */
	EXPECT_EQ(0, vfiodev_dma_unmap(self->as, k - 0x800, SZ_2M + 0x1000,
				       VFIODEV_DMA_UNMAP_SPARSE, &done));
	EXPECT_EQ(SZ_2M, done);
	EXPECT_EQ(0, vfiodev_mem_free(m, len));
}

/* Memory the memlock limit does not allow is refused; nothing sticks. */
TEST_F(dev, memlock)
{
	struct rlimit rl = { .rlim_cur = 1 << 20, .rlim_max = 1 << 20 };
	uint64_t iova, k;
	uint8_t *m;

	ASSERT_EQ(0, vfiodev_mem_alloc(4 << 20, VFIODEV_MEM_NO_HUGETLB,
				       (void **)&m, NULL));
	memset(m, 1, 4 << 20);
	ASSERT_EQ(0, cap_drop(CAP_IPC_LOCK));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	EXPECT_EQ(-ENOMEM, vfiodev_dma_map(self->as, m, 4 << 20, &iova, 0));
	EXPECT_EQ(-ENOENT, vfiodev_dma_iova(self->as, m, 4096, &k));
	/* Within the limit it works, and the IOVA was not lost. */
	ASSERT_EQ(0, vfiodev_dma_map(self->as, m, 512 << 10, &iova, 0));
	EXPECT_EQ(0, vfiodev_dma_unmap(self->as, iova, 512 << 10, 0, NULL));
	vfiodev_mem_free(m, 4 << 20);
}

/*
 * Closing the device keeps the address space and its mappings; a device
 * opened again on it finds them working.
 */
TEST_F(dev, close_with_maps)
{
	uint64_t iova, k;
	uint8_t *m;

	ASSERT_EQ(0, vfiodev_mem_alloc(SZ_2M, 0, (void **)&m, NULL));
	ASSERT_EQ(0, vfiodev_dma_map(self->as, m, SZ_2M, &iova, 0));
	vfiodev_device_close(self->dev);
	self->dev = NULL;
	EXPECT_EQ(0, vfiodev_dma_iova(self->as, m, 4096, &k));
	EXPECT_EQ(iova, k);
	ASSERT_EQ(0, vfiodev_device_open(self->as, self->bdf[0], &self->dev));
	EXPECT_TRUE(edu_roundtrip(self->dev, m, iova, m + 4096, iova + 4096, 3));
	/* The address space goes first; the device keeps it until close. */
	vfiodev_as_destroy(self->as);
	self->as = NULL;
	EXPECT_TRUE(edu_roundtrip(self->dev, m + 8192, iova + 8192, m + 12288,
				  iova + 12288, 4));
	vfiodev_ctx_destroy(self->ctx);
	self->ctx = NULL;
	EXPECT_EQ(EDU_ID_VAL, edu_rd(self->dev, EDU_ID_REG));
	vfiodev_device_close(self->dev);
	self->dev = NULL;
	vfiodev_mem_free(m, SZ_2M);
	EXPECT_EQ(self->pinned, guest_pinned_pages());
	pci_release(self->bdf[0]);
}

/*
 * Legacy path: the group stays in the container for the mappings after its
 * device closed (another process cannot have it), and the unmap of the
 * last mapping lets it go.
 */
TEST_F(dev, group_kept_for_mappings)
{
	uint64_t iova;
	uint8_t *m;
	int gfd;

	if (variant->path != VFIODEV_PATH_LEGACY)
		SKIP(return, "the new path holds no group");
	ASSERT_EQ(0, vfiodev_mem_alloc(SZ_2M, 0, (void **)&m, NULL));
	ASSERT_EQ(0, vfiodev_dma_map(self->as, m, SZ_2M, &iova, 0));
	vfiodev_device_close(self->dev);
	self->dev = NULL;
	EXPECT_EQ(-EBUSY, vfio_group_open(self->bdf[0]));
	EXPECT_EQ(0, vfiodev_dma_iova(self->as, m, 4096, &iova));
	EXPECT_EQ(0, vfiodev_dma_unmap(self->as, iova, SZ_2M, 0, NULL));
	gfd = vfio_group_open(self->bdf[0]);
	EXPECT_LE(0, gfd);
	if (gfd >= 0)
		close(gfd);
	/* And the address space takes a device again. */
	ASSERT_EQ(0, vfiodev_device_open(self->as, self->bdf[0], &self->dev));
	ASSERT_EQ(0, vfiodev_dma_map(self->as, m, SZ_2M, &iova, 0));
	EXPECT_TRUE(edu_roundtrip(self->dev, m, iova, m + 4096, iova + 4096, 10));
	EXPECT_EQ(0, vfiodev_dma_unmap(self->as, iova, SZ_2M, 0, NULL));
	vfiodev_mem_free(m, SZ_2M);
}

/* Thread-safety of the mapping calls: two threads map and unmap at once. */
struct mapper {
	struct vfiodev_as *as;
	uint8_t *mem;
	int fails;
};

static void *mapper_fn(void *arg)
{
	struct mapper *mp = arg;
	uint64_t iova, k;
	int i, j;

	/* Enough rounds to interleave; few enough for KASAN under load. */
	for (i = 0; i < 40; i++) {
		for (j = 0; j < 8; j++) {
			uint8_t *p = mp->mem + j * 4096;

			if (vfiodev_dma_map(mp->as, p, 4096, &iova, 0) ||
			    vfiodev_dma_iova(mp->as, p, 4096, &k) || k != iova ||
			    vfiodev_dma_unmap(mp->as, iova, 4096, 0, NULL))
				mp->fails++;
		}
	}
	return NULL;
}

/* A bound no slow host reaches: the verdict is the failure count. */
TEST_F_TIMEOUT(dev, threads, 1800)
{
	struct mapper mp[2];
	pthread_t t[2];
	uint8_t *m;
	int i;

	ASSERT_EQ(0, vfiodev_mem_alloc(SZ_2M, 0, (void **)&m, NULL));
	for (i = 0; i < 2; i++) {
		mp[i].as = self->as;
		mp[i].mem = m + i * SZ_2M / 2;
		mp[i].fails = 0;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, mapper_fn, &mp[i]));
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, mp[i].fails);
	}
	vfiodev_mem_free(m, SZ_2M);
}

/* --- two devices on one address space ---------------------------------- */

FIXTURE(shared) {
	struct vfiodev_ctx *ctx;
	struct vfiodev_as *as;
	struct vfiodev_device *dev[2];
	char bdf[2][BDF_LEN];
	long pinned;
};

FIXTURE_VARIANT(shared) {
	enum vfiodev_path path;
};

FIXTURE_VARIANT_ADD(shared, legacy) {
	.path = VFIODEV_PATH_LEGACY,
};

FIXTURE_VARIANT_ADD(shared, cdev) {
	.path = VFIODEV_PATH_CDEV,
};

FIXTURE_VARIANT_ADD(shared, auto) {
	.path = VFIODEV_PATH_AUTO,
};

FIXTURE_SETUP(shared)
{
	memset(self, 0, sizeof(*self));
	if (variant->path == VFIODEV_PATH_CDEV && !have_cdev_path())
		SKIP(return, "no /dev/iommu and vfio cdev on this stack");
	first_edus(_metadata, self->bdf);
	take(_metadata, self->bdf[0]);
	take(_metadata, self->bdf[1]);
	self->pinned = guest_pinned_pages();
	ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &self->ctx));
	ASSERT_EQ(0, vfiodev_ctx_set_path(self->ctx, variant->path));
	ASSERT_EQ(0, vfiodev_as_create(self->ctx, &self->as));
}

FIXTURE_TEARDOWN(shared)
{
	vfiodev_device_close(self->dev[0]);
	vfiodev_device_close(self->dev[1]);
	vfiodev_as_destroy(self->as);
	vfiodev_ctx_destroy(self->ctx);
	if (self->ctx) {
		EXPECT_EQ(self->pinned, guest_pinned_pages());
		pci_release(self->bdf[0]);
		pci_release(self->bdf[1]);
	}
}

TEST_F(shared, one_mapping_two_devices)
{
	enum vfiodev_reason r0, r1;
	uint64_t iova, early;
	uint8_t *m;

	ASSERT_EQ(0, vfiodev_mem_alloc(SZ_2M, 0, (void **)&m, NULL));
	/* Only a forced new path has its IOAS before any device. */
	if (variant->path == VFIODEV_PATH_CDEV) {
		ASSERT_EQ(0, vfiodev_dma_map(self->as, m + SZ_2M / 2, 4096,
					     &early, 0));
		EXPECT_EQ(0, vfiodev_dma_unmap(self->as, early, 4096, 0, NULL));
	} else {
		EXPECT_EQ(-ENODEV, vfiodev_dma_map(self->as, m, 4096, &early, 0));
		EXPECT_EQ(-ENODEV, vfiodev_as_iova_ranges(self->as, NULL, 0));
		EXPECT_EQ(VFIODEV_PATH_AUTO, vfiodev_as_path(self->as));
	}
	ASSERT_EQ(0, vfiodev_device_open(self->as, self->bdf[0], &self->dev[0]));
	ASSERT_EQ(0, vfiodev_dma_map(self->as, m, SZ_2M, &iova, 0));
	ASSERT_EQ(0, vfiodev_device_open(self->as, self->bdf[1], &self->dev[1]));
	EXPECT_EQ(vfiodev_device_path(self->dev[0], &r0),
		  vfiodev_device_path(self->dev[1], &r1));
	if (variant->path == VFIODEV_PATH_AUTO) {
		EXPECT_EQ(VFIODEV_REASON_SHARED_AS, r1);
	} else {
		EXPECT_EQ(VFIODEV_REASON_FORCED, r1);
	}
	EXPECT_TRUE(edu_roundtrip(self->dev[0], m, iova, m + 4096, iova + 4096, 5));
	EXPECT_TRUE(edu_roundtrip(self->dev[1], m + 8192, iova + 8192,
				  m + 12288, iova + 12288, 6));
	/* The first device goes; the second keeps the mapping. */
	vfiodev_device_close(self->dev[0]);
	self->dev[0] = NULL;
	EXPECT_TRUE(edu_roundtrip(self->dev[1], m, iova, m + 4096, iova + 4096, 7));
	EXPECT_EQ(0, vfiodev_dma_unmap(self->as, iova, SZ_2M, 0, NULL));
	vfiodev_mem_free(m, SZ_2M);
}

/* --- descriptors handed in --------------------------------------------- */

/*
 * A device opened from descriptors: its path, and DMA through it; then it
 * and its address space go.
 */
static void drive_preopened(struct __test_metadata *_metadata,
			    struct vfiodev_as *as, struct vfiodev_device *dev,
			    enum vfiodev_path path, uint8_t *m, unsigned int seed)
{
	enum vfiodev_reason reason;
	uint64_t iova;

	EXPECT_EQ(path, vfiodev_device_path(dev, &reason));
	EXPECT_EQ(VFIODEV_REASON_PREOPENED, reason);
	ASSERT_EQ(0, vfiodev_dma_map(as, m, SZ_2M, &iova, 0));
	EXPECT_TRUE(edu_roundtrip(dev, m, iova, m + 4096, iova + 4096, seed));
	EXPECT_EQ(0, vfiodev_dma_unmap(as, iova, SZ_2M, 0, NULL));
	vfiodev_device_close(dev);
	vfiodev_as_destroy(as);
}

TEST(preopened)
{
	struct vfiodev_device *dev = NULL;
	struct vfiodev_pci_info pi;
	struct vfiodev_ctx *ctx;
	struct vfiodev_as *as;
	char edu[2][BDF_LEN], node[64];
	int fd, gfd, nullfd;
	uint8_t *m;

	first_edus(_metadata, edu);
	take(_metadata, edu[0]);
	ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &ctx));
	ASSERT_EQ(0, vfiodev_mem_alloc(SZ_2M, 0, (void **)&m, NULL));
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nullfd);
	EXPECT_EQ(-EINVAL, vfiodev_as_create_fd(ctx, nullfd, 0, &as));
	EXPECT_EQ(-EINVAL, vfiodev_as_create_fd(ctx, nullfd,
						VFIODEV_AS_FD_IOMMUFD |
						VFIODEV_AS_FD_CONTAINER, &as));
	EXPECT_EQ(-EBADF, vfiodev_as_create_fd(ctx, -1, VFIODEV_AS_FD_IOMMUFD,
					       &as));
	EXPECT_EQ(-EINVAL, vfiodev_as_create_fd(ctx, nullfd,
						VFIODEV_AS_FD_CONTAINER, &as));
	if (!access("/dev/iommu", F_OK))
		ASSERT_EQ(-EINVAL, vfiodev_as_create_fd(ctx, nullfd,
							VFIODEV_AS_FD_IOMMUFD,
							&as));

	/* Legacy: a container and a group, opened by someone else. */
	fd = vfio_container_open();
	ASSERT_LE(0, fd);
	gfd = vfio_group_open(edu[0]);
	ASSERT_LE(0, gfd);
	ASSERT_EQ(0, vfiodev_as_create_fd(ctx, fd, VFIODEV_AS_FD_CONTAINER, &as));
	close(fd);
	EXPECT_EQ(VFIODEV_PATH_LEGACY, vfiodev_as_path(as));
	EXPECT_EQ(-EINVAL, vfiodev_device_open_fd(as, gfd, NULL,
						  VFIODEV_DEVICE_FD_GROUP, &dev));
	EXPECT_EQ(-EINVAL, vfiodev_device_open_fd(as, gfd, edu[0],
						  VFIODEV_DEVICE_FD_CDEV, &dev));
	EXPECT_EQ(-EINVAL, vfiodev_device_open_fd(as, gfd, edu[0], 0, &dev));
	EXPECT_EQ(-EBADF, vfiodev_device_open_fd(as, -1, edu[0],
						 VFIODEV_DEVICE_FD_GROUP, &dev));
	ASSERT_EQ(0, vfiodev_device_open_fd(as, gfd, edu[0],
					    VFIODEV_DEVICE_FD_GROUP, &dev));
	close(gfd);
	drive_preopened(_metadata, as, dev, VFIODEV_PATH_LEGACY, m, 8);

	/* New path: an iommufd and a cdev, opened by someone else. */
	if (have_cdev_path()) {
		ASSERT_EQ(0, vfiodev_pci_get_info(ctx, edu[0], &pi, sizeof(pi)));
		snprintf(node, sizeof(node), "/dev/vfio/devices/%s", pi.cdev);
		fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		gfd = open(node, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, gfd);
		ASSERT_EQ(0, vfiodev_as_create_fd(ctx, fd, VFIODEV_AS_FD_IOMMUFD,
						  &as));
		EXPECT_EQ(-EINVAL, vfiodev_device_open_fd(as, gfd, edu[0],
							  VFIODEV_DEVICE_FD_CDEV,
							  &dev));
		EXPECT_EQ(-EINVAL, vfiodev_device_open_fd(as, gfd, edu[0],
							  VFIODEV_DEVICE_FD_GROUP,
							  &dev));
		ASSERT_EQ(0, vfiodev_device_open_fd(as, gfd, NULL,
						    VFIODEV_DEVICE_FD_CDEV, &dev));
		close(gfd);
		drive_preopened(_metadata, as, dev, VFIODEV_PATH_CDEV, m, 9);
		/* The caller's iommufd is still good, and holds nothing. */
		{
			struct iommu_ioas_alloc a = { .size = sizeof(a) };

			EXPECT_EQ(0, ioctl(fd, IOMMU_IOAS_ALLOC, &a));
		}
		close(fd);
	}
	close(nullfd);
	vfiodev_mem_free(m, SZ_2M);
	vfiodev_ctx_destroy(ctx);
	pci_release(edu[0]);
}

/*
 * The netlink calls: argument checks, what needs privilege (CAP_SYS_ADMIN,
 * refused with the kernel's extack message in the log), GET and the dump
 * without it, and a monitor that times out.  Upstream has no family: every
 * call says -ENOENT.
 */
static int count_fn(const struct vfiodev_nl_dev *d, void *opaque)
{
	(void)d;
	return ++*(int *)opaque >= 1000 ? 1 : 0;
}

TEST(netlink_calls)
{
	struct vfiodev_nl_monitor *mon = NULL;
	struct logbuf lb = { 0 };
	struct vfiodev_nl_dev d;
	struct vfiodev_ctx *ctx;
	char edu[2][BDF_LEN], drv[64];
	int n = 0, ev;

	first_edus(_metadata, edu);
	ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &ctx));
	ASSERT_EQ(0, vfiodev_ctx_set_log(ctx, log_capture, &lb, VFIODEV_LOG_ERR));
	EXPECT_EQ(-EINVAL, vfiodev_nl_bind(ctx, NULL, NULL, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, vfiodev_nl_bind(ctx, edu[0], NULL, 1u << 5, NULL, 0));
	EXPECT_EQ(-EINVAL, vfiodev_nl_bind(ctx, "00:zz.0", NULL, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, vfiodev_nl_unbind(ctx, edu[0], 1u << 3, NULL, 0));
	EXPECT_EQ(-EINVAL, vfiodev_nl_get(ctx, edu[0], NULL, sizeof(d)));
	EXPECT_EQ(-EINVAL, vfiodev_nl_get(ctx, edu[0], &d, 4));
	EXPECT_EQ(-EINVAL, vfiodev_nl_for_each(ctx, NULL, NULL));
	EXPECT_EQ(-EINVAL, vfiodev_nl_monitor_open(ctx, NULL));
	if (stack_is_upstream()) {
		EXPECT_EQ(-ENOENT, vfiodev_nl_get(ctx, edu[0], &d, sizeof(d)));
		EXPECT_EQ(-ENOENT, vfiodev_nl_for_each(ctx, count_fn, &n));
		EXPECT_EQ(-ENOENT, vfiodev_nl_monitor_open(ctx, &mon));
		vfiodev_ctx_destroy(ctx);
		SKIP(return, "upstream has no vfiodev netlink family");
	}
	ASSERT_EQ(0, vfiodev_modules_load());
	if (!module_loaded("vfiodev-nl"))
		ASSERT_EQ(0, module_load(vfiodev_moddir(), "vfiodev-nl"));
	pci_release(edu[0]);

	/* Without privilege: GET and the dump, but no BIND. */
	ASSERT_EQ(0, vfiodev_nl_get(ctx, edu[0], &d, sizeof(d)));
	EXPECT_STREQ(edu[0], d.bdf);
	EXPECT_STREQ("", d.driver);
	EXPECT_EQ(vfio_group_id(edu[0]), d.group);
	EXPECT_EQ(iommu_coherent(), d.coherent);
	EXPECT_EQ(-ENODEV, vfiodev_nl_get(ctx, "0000:00:1e.7", &d, sizeof(d)));
	ASSERT_EQ(0, vfiodev_nl_monitor_open(ctx, &mon));
	EXPECT_LE(0, vfiodev_nl_monitor_fd(mon));
	EXPECT_EQ(-ETIMEDOUT, vfiodev_nl_monitor_read(mon, 0, &ev, &d, sizeof(d)));
	ASSERT_EQ(0, cap_drop(CAP_SYS_ADMIN));
	EXPECT_EQ(0, vfiodev_nl_for_each(ctx, count_fn, &n));
	lb.n = 0;
	EXPECT_EQ(-EPERM, vfiodev_nl_bind(ctx, edu[0], NULL, 0, &d, sizeof(d)));
	EXPECT_EQ(1, lb.n);
	EXPECT_NE(NULL, strstr(lb.last, "CAP_SYS_ADMIN"));
	EXPECT_EQ(-EPERM, vfiodev_nl_unbind(ctx, edu[0], 0, NULL, 0));
	ASSERT_EQ(0, cap_drop(CAP_NET_ADMIN));
	EXPECT_EQ(-EPERM, vfiodev_nl_bind(ctx, edu[0], NULL, 0, &d, sizeof(d)));
	/* Nothing changed. */
	ASSERT_EQ(0, pci_driver_of(edu[0], drv, sizeof(drv)));
	EXPECT_STREQ("", drv);
	EXPECT_EQ(-ETIMEDOUT, vfiodev_nl_monitor_read(mon, 0, &ev, &d, sizeof(d)));
	vfiodev_nl_monitor_close(mon);
	vfiodev_ctx_destroy(ctx);
}

/* Reset on a device that has a reset: the nvme (FLR). */
TEST(reset_nvme)
{
	struct vfiodev_device *dev;
	struct vfiodev_device_info di;
	struct vfiodev_ctx *ctx;
	struct vfiodev_as *as;
	char nvme[2][BDF_LEN];

	ASSERT_LE(1, pci_find(0, 0, NVME_CLASS, nvme, 2));
	take(_metadata, nvme[0]);
	ASSERT_EQ(0, vfiodev_ctx_create(VFIODEV_CTX_NO_ENV, &ctx));
	ASSERT_EQ(0, vfiodev_as_create(ctx, &as));
	ASSERT_EQ(0, vfiodev_device_open(as, nvme[0], &dev));
	ASSERT_EQ(0, vfiodev_device_get_info(dev, &di, sizeof(di)));
	ASSERT_TRUE(di.flags & VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ(0, vfiodev_device_reset(dev));
	vfiodev_device_close(dev);
	vfiodev_as_destroy(as);
	vfiodev_ctx_destroy(ctx);
	pci_release(nvme[0]);
}

TEST_HARNESS_MAIN
