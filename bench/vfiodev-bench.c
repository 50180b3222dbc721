// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev-bench: the measurements behind `make bench`, taken through one
 * door of whichever VFIO stack is loaded (ours or upstream's: the program
 * speaks the shared uAPI only, so the same binary measures both).
 *
 *   vfiodev-bench --door cdev|legacy [--quick] [--only TEST,...] <BDF>
 *
 * cdev:    /dev/iommu + /dev/vfio/devices/vfioN, one IOAS, IOMMU_IOAS_MAP
 * legacy:  /dev/vfio/vfio + /dev/vfio/<group>, type1v2, VFIO_IOMMU_MAP_DMA
 *
 * The device (an edu, for the MSI row) must be bound to vfio-pci.  Every
 * figure is one line on stdout:
 *
 *   ROW test=<test> param=<param> rep=<n> value=<number> unit=<unit>
 *   NOTE test=<test> param=<param> <text>       (what a row could not do)
 *
 * Tests:
 *   bulk     map and unmap of one 64 MiB / 256 MiB / 1 GiB buffer backed
 *            by 4 KiB pages, THP or 2 MiB hugetlb (GiB/s)
 *   count    N = 1k, 10k, 100k, 1M separate 4 KiB mappings: mean cost of
 *            one map and one unmap (ns/op); a refusal (type1's entry
 *            limit) is a NOTE with the count reached
 *   pgsize   the IOMMU's leaf entries at each level for a 2 MiB-aligned
 *            64 MiB hugetlb mapping (Intel IOMMU debugfs)
 *   latency  MSI to eventfd, config read through the device fd, BAR read
 *            through its mmap, device open to ready (ns); and the floor
 *            under the per-mapping costs: an ioctl on the same fd that
 *            does nothing (cdev: IOMMU_DESTROY of ID 0, legacy:
 *            VFIO_CHECK_EXTENSION)
 *
 * Memory for the count test is a 256 MiB buffer at most: above 65,536
 * mappings its pages are mapped again at further IOVAs.
 *
 * The program runs on CPU 0 only, where scripts/guest/bench also steers the
 * interrupts: under TCG the guest's vCPUs take turns on one host thread, so
 * a wake-up across vCPUs would measure QEMU's round robin, not the stack.
 *
 * Exit status: 0 when every test ran (a NOTE is not a failure), 1 when
 * something that must work did not, 2 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB		(21 << 26)
#endif

#define SZ_4K			0x1000UL
#define SZ_2M			0x200000UL
#define SZ_1M			0x100000UL
#define IOVA_BASE		0x100000000ULL	/* 4 GiB: clear of the MSI window */
#define COUNT_BUF_PAGES		65536UL		/* 256 MiB */

#define EDU_REG_ID		0x00
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4

enum door { DOOR_CDEV, DOOR_LEGACY };

struct bench {
	enum door door;
	const char *bdf;
	bool quick;
	int iommufd, ioas, container, group, dev;
};

static const char *prog = "vfiodev-bench";
static int failures;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	failures++;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void row(const char *test, const char *param, int rep, double value,
		const char *unit)
{
	printf("ROW test=%s param=%s rep=%d value=%.6g unit=%s\n",
	       test, param, rep, value, unit);
	fflush(stdout);
}

static void note(const char *test, const char *param, const char *fmt, ...)
{
	va_list ap;

	printf("NOTE test=%s param=%s ", test, param);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* --- the two doors ------------------------------------------------------ */

static int sysfs_link_tail(const char *path, char *out, size_t len)
{
	char buf[512];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	char *slash;

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	slash = slash ? slash + 1 : buf;
	if (strlen(slash) >= len)
		return -ENAMETOOLONG;
	memcpy(out, slash, strlen(slash) + 1);
	return 0;
}

/* The device's vfio-dev/ directory holds one entry, its cdev's name. */
static int cdev_name(const char *bdf, char *out, size_t len)
{
	char path[256];
	struct dirent *d;
	DIR *dir;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "vfio", 4) || strlen(d->d_name) >= len)
			continue;
		memcpy(out, d->d_name, strlen(d->d_name) + 1);
		ret = 0;
		break;
	}
	closedir(dir);
	return ret;
}

/* Opens the device through the chosen door, attached to a fresh address
 * space; returns 0 or -errno.  Used by every test and by the open row. */
static int door_open(struct bench *b)
{
	char name[64], path[128];

	b->iommufd = b->container = b->group = b->dev = -1;
	if (b->door == DOOR_CDEV) {
		struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
		struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
		struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

		if (cdev_name(b->bdf, name, sizeof(name)))
			return -ENODEV;
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
		b->dev = open(path, O_RDWR | O_CLOEXEC);
		if (b->dev < 0)
			return -errno;
		b->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (b->iommufd < 0)
			return -errno;
		bind.iommufd = b->iommufd;
		if (ioctl(b->dev, VFIO_DEVICE_BIND_IOMMUFD, &bind))
			return -errno;
		if (ioctl(b->iommufd, IOMMU_IOAS_ALLOC, &alloc))
			return -errno;
		b->ioas = alloc.out_ioas_id;
		at.pt_id = b->ioas;
		if (ioctl(b->dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
			return -errno;
		return 0;
	}

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", b->bdf);
	if (sysfs_link_tail(path, name, sizeof(name)))
		return -ENODEV;
	b->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (b->container < 0)
		return -errno;
	snprintf(path, sizeof(path), "/dev/vfio/%s", name);
	b->group = open(path, O_RDWR | O_CLOEXEC);
	if (b->group < 0)
		return -errno;
	if (ioctl(b->group, VFIO_GROUP_SET_CONTAINER, &b->container))
		return -errno;
	if (ioctl(b->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	b->dev = ioctl(b->group, VFIO_GROUP_GET_DEVICE_FD, b->bdf);
	if (b->dev < 0)
		return -errno;
	return 0;
}

static void door_close(struct bench *b)
{
	int *fds[] = { &b->dev, &b->group, &b->container, &b->iommufd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int dma_map(struct bench *b, void *va, uint64_t len, uint64_t iova)
{
	if (b->door == DOOR_CDEV) {
		struct iommu_ioas_map m = {
			.size = sizeof(m),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = b->ioas,
			.user_va = (uintptr_t)va,
			.length = len,
			.iova = iova,
		};

		return ioctl(b->iommufd, IOMMU_IOAS_MAP, &m) ? -errno : 0;
	} else {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)va,
			.iova = iova,
			.size = len,
		};

		return ioctl(b->container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
	}
}

/* Returns the bytes unmapped or -errno. */
static int64_t dma_unmap(struct bench *b, uint64_t iova, uint64_t len)
{
	if (b->door == DOOR_CDEV) {
		struct iommu_ioas_unmap u = {
			.size = sizeof(u),
			.ioas_id = b->ioas,
			.iova = iova,
			.length = len,
		};

		return ioctl(b->iommufd, IOMMU_IOAS_UNMAP, &u) ? -errno : (int64_t)u.length;
	} else {
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u),
			.iova = iova,
			.size = len,
		};

		return ioctl(b->container, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : (int64_t)u.size;
	}
}

/* --- memory ------------------------------------------------------------- */

enum backing { BACK_4K, BACK_THP, BACK_HUGETLB };
static const char *const backing_name[] = { "4k", "thp", "hugetlb" };

/* Anonymous memory of the given backing, every page touched; NULL if the
 * backing cannot be had (hugetlb pages not reserved). */
static void *buf_alloc(size_t len, enum backing back)
{
	void *p;

	if (back == BACK_HUGETLB) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB |
			 MAP_POPULATE, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	/* 2 MiB aligned, so that THP can back all of it. */
	p = mmap(NULL, len + SZ_2M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	{
		uintptr_t a = ((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1);

		if (a != (uintptr_t)p)
			munmap(p, a - (uintptr_t)p);
		munmap((void *)(a + len), (uintptr_t)p + SZ_2M - a);
		p = (void *)a;
	}
	madvise(p, len, back == BACK_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	for (size_t off = 0; off < len; off += SZ_4K)
		((volatile char *)p)[off] = 1;
	return p;
}

/* The share of [p, p+len) backed by huge pages, in percent (smaps). */
static int thp_percent(void *p, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	bool in = false;
	unsigned long kb = 0, lo, hi;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = lo < (uintptr_t)p + len && hi > (uintptr_t)p;
			continue;
		}
		if (in && !strncmp(line, "AnonHugePages:", 14))
			kb += strtoul(line + 14, NULL, 10);
	}
	fclose(f);
	return (int)(kb * 1024 * 100 / len);
}

/* --- tests -------------------------------------------------------------- */

static void size_param(char *out, size_t len, const char *back, uint64_t size)
{
	if (size >= (1ULL << 30))
		snprintf(out, len, "%s:%" PRIu64 "G", back, size >> 30);
	else
		snprintf(out, len, "%s:%" PRIu64 "M", back, size >> 20);
}

static void test_bulk(struct bench *b)
{
	static const uint64_t sizes[] = { 64 * SZ_1M, 256 * SZ_1M, 1024 * SZ_1M };
	int reps = b->quick ? 1 : 3;

	for (int back = BACK_4K; back <= BACK_HUGETLB; back++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			uint64_t size = sizes[s];
			char param[32];
			void *p;

			if (b->quick && s > 0)
				break;
			size_param(param, sizeof(param), backing_name[back], size);
			p = buf_alloc(size, back);
			if (!p) {
				note("bulk", param, "no memory of this backing (%s)", strerror(errno));
				continue;
			}
			if (back == BACK_THP)
				note("bulk", param, "thp-backed=%d%%", thp_percent(p, size));
			for (int rep = 1; rep <= reps; rep++) {
				uint64_t t0, t1, t2;
				int64_t n;
				int ret;

				t0 = now_ns();
				ret = dma_map(b, p, size, IOVA_BASE);
				t1 = now_ns();
				if (ret) {
					fail("bulk %s: map: %s", param, strerror(-ret));
					break;
				}
				n = dma_unmap(b, IOVA_BASE, size);
				t2 = now_ns();
				if (n != (int64_t)size) {
					fail("bulk %s: unmap: %s", param,
					     n < 0 ? strerror((int)-n) : "short");
					break;
				}
				row("bulk-map", param, rep, (double)size / (1 << 30) / ((t1 - t0) / 1e9), "GiB/s");
				row("bulk-unmap", param, rep, (double)size / (1 << 30) / ((t2 - t1) / 1e9), "GiB/s");
			}
			munmap(p, size);
		}
	}
}

static void test_count(struct bench *b)
{
	static const unsigned long counts[] = { 1000, 10000, 100000, 1000000 };
	static const int reps_of[] = { 5, 3, 2, 1 };
	size_t buflen = COUNT_BUF_PAGES * SZ_4K;
	char *p = buf_alloc(buflen, BACK_4K);

	if (!p) {
		fail("count: %zu bytes: %s", buflen, strerror(errno));
		return;
	}
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		unsigned long n = counts[c], done, i;
		int reps = b->quick ? 1 : reps_of[c];
		char param[16];

		if (b->quick && n > 10000)
			break;
		snprintf(param, sizeof(param), "%lu", n);
		for (int rep = 1; rep <= reps; rep++) {
			uint64_t t0, t1, t2;
			int ret = 0;

			t0 = now_ns();
			for (done = 0; done < n; done++) {
				ret = dma_map(b, p + (done % COUNT_BUF_PAGES) * SZ_4K, SZ_4K,
					      IOVA_BASE + done * SZ_4K);
				if (ret)
					break;
			}
			t1 = now_ns();
			for (i = 0; i < done; i++) {
				int64_t u = dma_unmap(b, IOVA_BASE + i * SZ_4K, SZ_4K);

				if (u != (int64_t)SZ_4K) {
					fail("count %lu: unmap %lu: %s", n, i,
					     u < 0 ? strerror((int)-u) : "short");
					break;
				}
			}
			t2 = now_ns();
			if (ret) {
				note("count", param, "refused=%lu errno=%s", done, strerrorname_np(-ret) ?: "?");
				break;
			}
			row("count-map", param, rep, (double)(t1 - t0) / n, "ns/op");
			row("count-unmap", param, rep, (double)(t2 - t1) / n, "ns/op");
		}
	}
	munmap(p, buflen);
}

/* Leaf entries of the device's IOMMU page table in [iova, iova+len): the
 * debugfs dump prints one line per leaf, with one value per level walked
 * (3: a 1 GiB page, 4: 2 MiB, 5: 4 KiB). */
static int count_leaves(const char *bdf, uint64_t iova, uint64_t len,
			unsigned long *l4k, unsigned long *l2m, unsigned long *l1g)
{
	char path[160], line[512];
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/iommu/intel/%s/domain_translation_struct", bdf);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	*l4k = *l2m = *l1g = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long pfn;
		char *bar = strchr(line, '|');
		int fields = 0;

		if (!bar || sscanf(line, "%llx", &pfn) != 1)
			continue;
		if (pfn << 12 < iova || pfn << 12 >= iova + len)
			continue;
		for (char *t = strtok(bar + 1, " \t\n"); t; t = strtok(NULL, " \t\n"))
			fields++;
		if (fields == 3)
			(*l1g)++;
		else if (fields == 4)
			(*l2m)++;
		else if (fields == 5)
			(*l4k)++;
	}
	fclose(f);
	return 0;
}

static void test_pgsize(struct bench *b)
{
	uint64_t size = 64 * SZ_1M;
	unsigned long l4k, l2m, l1g;
	void *p = buf_alloc(size, BACK_HUGETLB);
	int ret;

	if (!p) {
		note("pgsize", "hugetlb:64M", "no hugetlb pages (%s)", strerror(errno));
		return;
	}
	ret = dma_map(b, p, size, IOVA_BASE);
	if (ret) {
		fail("pgsize: map: %s", strerror(-ret));
		goto out;
	}
	ret = count_leaves(b->bdf, IOVA_BASE, size, &l4k, &l2m, &l1g);
	if (ret)
		note("pgsize", "hugetlb:64M", "no Intel IOMMU debugfs (%s)", strerror(-ret));
	else if (l4k * SZ_4K + l2m * SZ_2M + l1g * (1UL << 30) != size)
		fail("pgsize: the leaves found cover %lu 4K + %lu 2M + %lu 1G, not 64 MiB",
		     l4k, l2m, l1g);
	else {
		row("pgsize-4k", "hugetlb:64M", 1, l4k, "entries");
		row("pgsize-2m", "hugetlb:64M", 1, l2m, "entries");
		row("pgsize-1g", "hugetlb:64M", 1, l1g, "entries");
	}
	dma_unmap(b, IOVA_BASE, size);
out:
	munmap(p, size);
}

static int region(struct bench *b, unsigned int index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(b->dev, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of n samples, as one row per sample would be too many: the row
 * carries the median of a batch and the batches are the repetitions. */
static double median(uint64_t *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static void test_latency(struct bench *b)
{
	enum { BATCH = 200 };
	struct vfio_region_info cfg, bar;
	uint64_t t[BATCH];
	volatile uint32_t *mmio;
	uint16_t cmd;
	int reps = b->quick ? 1 : 5, efd;
	char irqbuf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *irq = (struct vfio_irq_set *)irqbuf;

	if (region(b, VFIO_PCI_CONFIG_REGION_INDEX, &cfg) ||
	    region(b, VFIO_PCI_BAR0_REGION_INDEX, &bar)) {
		fail("latency: region info: %s", strerror(errno));
		return;
	}
	mmio = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, b->dev, bar.offset);
	if (mmio == MAP_FAILED) {
		fail("latency: BAR0 mmap: %s", strerror(errno));
		return;
	}
	for (int rep = 1; rep <= reps; rep++) {
		for (int i = 0; i < BATCH; i++) {
			struct iommu_destroy d = { .size = sizeof(d), .id = 0 };
			uint64_t t0 = now_ns();

			if (b->door == DOOR_CDEV)
				ioctl(b->iommufd, IOMMU_DESTROY, &d);
			else
				ioctl(b->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
			t[i] = now_ns() - t0;
		}
		row("lat-null-ioctl", "floor", rep, median(t, BATCH), "ns");
	}
	if (pread(b->dev, &cmd, 2, cfg.offset + PCI_COMMAND) != 2) {
		fail("latency: config read: %s", strerror(errno));
		goto out;
	}
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(b->dev, &cmd, 2, cfg.offset + PCI_COMMAND) != 2) {
		fail("latency: config write: %s", strerror(errno));
		goto out;
	}

	for (int rep = 1; rep <= reps; rep++) {
		uint32_t v;

		for (int i = 0; i < BATCH; i++) {
			uint64_t t0 = now_ns();

			if (pread(b->dev, &v, 4, cfg.offset) != 4) {
				fail("latency: config read: %s", strerror(errno));
				goto out;
			}
			t[i] = now_ns() - t0;
		}
		row("lat-config-read", "4B", rep, median(t, BATCH), "ns");
		for (int i = 0; i < BATCH; i++) {
			uint64_t t0 = now_ns();

			v = mmio[EDU_REG_ID / 4];
			t[i] = now_ns() - t0;
		}
		if (v != 0x010000ed) {
			fail("latency: the edu's id reads 0x%08x", v);
			goto out;
		}
		row("lat-bar-read", "4B", rep, median(t, BATCH), "ns");
	}

	efd = eventfd(0, EFD_CLOEXEC);
	irq->argsz = sizeof(irqbuf);
	irq->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq->index = VFIO_PCI_MSI_IRQ_INDEX;
	irq->start = 0;
	irq->count = 1;
	memcpy(irq->data, &efd, sizeof(efd));
	if (efd < 0 || ioctl(b->dev, VFIO_DEVICE_SET_IRQS, irq)) {
		fail("latency: MSI on an eventfd: %s", strerror(errno));
		goto out_efd;
	}
	for (int rep = 1; rep <= reps; rep++) {
		for (int i = 0; i < BATCH; i++) {
			struct pollfd pfd = { .fd = efd, .events = POLLIN };
			uint64_t t0 = now_ns(), cnt;

			mmio[EDU_REG_IRQ_RAISE / 4] = 1;
			/* Bounded by progress of the whole run, not by this
			 * wait: a lost interrupt fails the row after 10 s. */
			if (poll(&pfd, 1, 10000) != 1 || read(efd, &cnt, 8) != 8) {
				fail("latency: no MSI on the eventfd");
				goto out_irq;
			}
			t[i] = now_ns() - t0;
			mmio[EDU_REG_IRQ_ACK / 4] = 1;
		}
		row("lat-msi", "edu", rep, median(t, BATCH), "ns");
	}
out_irq:
	irq->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq->count = 0;
	irq->argsz = sizeof(*irq);
	ioctl(b->dev, VFIO_DEVICE_SET_IRQS, irq);
out_efd:
	if (efd >= 0)
		close(efd);
out:
	munmap((void *)mmio, bar.size);
}

static void test_open(struct bench *b)
{
	enum { BATCH = 10 };
	int reps = b->quick ? 1 : 3;
	uint64_t t[BATCH];

	for (int rep = 1; rep <= reps; rep++) {
		for (int i = 0; i < BATCH; i++) {
			struct bench o = *b;
			uint64_t t0 = now_ns();
			int ret = door_open(&o);

			t[i] = now_ns() - t0;
			door_close(&o);
			if (ret) {
				fail("open: %s", strerror(-ret));
				return;
			}
		}
		row("lat-open", "to-ready", rep, median(t, BATCH), "ns");
	}
}

static const struct {
	const char *name;
	void (*fn)(struct bench *b);
	bool needs_open;
} tests[] = {
	{ "bulk", test_bulk, true },
	{ "count", test_count, true },
	{ "pgsize", test_pgsize, true },
	{ "latency", test_latency, true },
	{ "open", test_open, false },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s --door cdev|legacy [--quick] [--only TEST,...] <BDF>\n"
		"tests: bulk count pgsize latency open\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "door", required_argument, NULL, 'd' },
		{ "quick", no_argument, NULL, 'q' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct bench b = { .door = -1 };
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	const char *only = NULL;
	cpu_set_t cpu0;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!strcmp(optarg, "cdev"))
				b.door = DOOR_CDEV;
			else if (!strcmp(optarg, "legacy"))
				b.door = DOOR_LEGACY;
			else {
				usage(stderr);
				return 2;
			}
			break;
		case 'q':
			b.quick = true;
			break;
		case 'o':
			only = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || (int)b.door < 0) {
		usage(stderr);
		return 2;
	}
	b.bdf = argv[optind];
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0))
		fail("sched_setaffinity(CPU 0): %s", strerror(errno));
	/* Root may pin without limit: the rows measure the engines, and
	 * both account what they pin either way. */
	if (setrlimit(RLIMIT_MEMLOCK, &unlimited))
		fail("setrlimit(RLIMIT_MEMLOCK): %s", strerror(errno));

	ret = door_open(&b);
	if (ret) {
		fail("open %s through the %s door: %s", b.bdf,
		     b.door == DOOR_CDEV ? "cdev" : "legacy", strerror(-ret));
		return 1;
	}
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (only) {
			size_t n = strlen(tests[i].name);
			const char *s = only;
			bool found = false;

			while ((s = strstr(s, tests[i].name))) {
				if ((s == only || s[-1] == ',') && (s[n] == ',' || !s[n]))
					found = true;
				s += n;
			}
			if (!found)
				continue;
		}
		if (!tests[i].needs_open)
			door_close(&b);
		tests[i].fn(&b);
	}
	door_close(&b);
	return failures ? 1 : 0;
}
