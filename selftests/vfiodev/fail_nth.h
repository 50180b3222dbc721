/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault-injection sweeps: run an operation with the Nth fault-injectable
 * call of this task failing (failslab, fail_page_alloc and fail_usercopy,
 * driven through /proc/self/task/<tid>/fail-nth), for N = 1, 2, ... until
 * the operation goes through without hitting the armed fault.
 *
 * Each test checks, after every failed attempt, that the operation failed
 * cleanly (a plain errno, nothing half done) and that the state is the same
 * as before; leaks are caught by the kmemleak scan at the end of the run and
 * splats by the run's log verdict.
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION_DEBUG_FS, FAILSLAB,
 * FAIL_PAGE_ALLOC and FAULT_INJECTION_USERCOPY (the debug kernel):
 * elsewhere the tests SKIP.
 */
#ifndef VFIODEV_FAIL_NTH_H
#define VFIODEV_FAIL_NTH_H

#include "vfiodev_utils.h"

/* An upper bound for a sweep; more steps mean the sweep is broken. */
#define FAIL_NTH_MAX	4000

static inline int debugfs_write(const char *file, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s", file);
	return sysfs_write(path, val);
}

/*
 * [start, end) of the kernel function @name: its address in /proc/kallsyms
 * and the next higher address there.
 */
static inline int kallsyms_range(const char *name, unsigned long *start,
				 unsigned long *end)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	unsigned long addr, next = ~0UL;
	char line[256], sym[128];

	if (!f)
		return -errno;
	*start = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %*c %127s", &addr, sym) != 2)
			continue;
		if (!*start && !strcmp(sym, name))
			*start = addr;
	}
	if (*start) {
		rewind(f);
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%lx", &addr) == 1 &&
			    addr > *start && addr < next)
				next = addr;
	}
	fclose(f);
	if (!*start || next == ~0UL)
		return -ENOENT;
	*end = next;
	return 0;
}

/*
 * No fault is injected while the kernel function @fn is on the stack: the
 * stack filter's reject range (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER)
 * keeps it out, and a rejected call does not count towards fail-nth either.
 * There is one reject range per attribute, so this replaces the last one.
 */
static inline int fail_nth_reject(const char *fn)
{
	static const char * const attrs[] = { "failslab", "fail_page_alloc",
					      "fail_usercopy" };
	unsigned long start = 0, end = 0;
	char path[64], val[32];
	unsigned int i;
	int ret;

	/* Not -ENOENT, which means no fault injection: this is an error. */
	if (kallsyms_range(fn, &start, &end))
		return -ESRCH;	/* also when kallsyms hides the addresses */
	for (i = 0; i < ARRAY_LEN(attrs); i++) {
		snprintf(path, sizeof(path), "%s/reject-start", attrs[i]);
		snprintf(val, sizeof(val), "%#lx", start);
		ret = debugfs_write(path, val);
		if (!ret) {
			snprintf(path, sizeof(path), "%s/reject-end", attrs[i]);
			snprintf(val, sizeof(val), "%#lx", end);
			ret = debugfs_write(path, val);
		}
		if (ret)
			return ret == -ENOENT ? -EOPNOTSUPP : ret;
	}
	return 0;
}

/*
 * The IOMMU core's return of a group or device to its default domain when
 * DMA ownership is released (__iommu_release_dma_ownership()) must succeed:
 * the core WARNs if the IOMMU driver's attach fails, which under injection
 * it does (intel-iommu allocates there), whoever released the ownership.
 * That is the reject range unless a sweep says otherwise.
 */
static inline int fail_nth_reject_nofail(void)
{
	return fail_nth_reject("__iommu_release_dma_ownership");
}

/*
 * Make every allocation a candidate (sleeping ones included) but those the
 * IOMMU core must not see fail (above), and keep the injected failures
 * quiet: a verbose injection dumps a stack each time.
 */
static inline int fail_nth_configure(void)
{
	static const char * const knobs[][2] = {
		{ "failslab/ignore-gfp-wait", "N" },
		{ "failslab/verbose", "0" },
		{ "fail_page_alloc/ignore-gfp-wait", "N" },
		{ "fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "fail_page_alloc/min-order", "0" },
		{ "fail_page_alloc/verbose", "0" },
		{ "fail_usercopy/verbose", "0" },
	};
	unsigned int i;
	int ret;

	if (access("/sys/kernel/debug/failslab", F_OK) ||
	    access("/sys/kernel/debug/fail_usercopy", F_OK))
		return -ENOENT;
	for (i = 0; i < ARRAY_LEN(knobs); i++) {
		ret = debugfs_write(knobs[i][0], knobs[i][1]);
		if (ret)
			return ret;
	}
	return fail_nth_reject_nofail();
}

static inline int fail_nth_open(void)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Arms the @nth next fault-injectable call of this task to fail. */
static inline int fail_nth_arm(int fd, unsigned int nth)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", nth);

	return pwrite(fd, buf, len, 0) == len ? 0 : -errno;
}

/*
 * Disarms; returns 1 if the armed fault was injected, 0 if the operation
 * got through without reaching it, -errno on error.  The file reads "0"
 * once the fault has fired, the calls still to go otherwise.
 *
 * Reading and writing the file copy to and from user space, and with
 * fail_usercopy every copy counts too: the read reports the count from
 * before its own copy, so when one call was left the read itself takes
 * the fault (EFAULT: the operation did not reach it), and with two left
 * the write of "0" does (EFAULT, and the count is spent: disarmed).
 */
static inline int fail_nth_disarm(int fd)
{
	char buf[16] = "";
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return errno == EFAULT ? 0 : -errno;
	if (n == 0)
		return -EIO;
	if (atoi(buf) == 0)
		return 1;
	if (pwrite(fd, "0", 1, 0) != 1 && errno != EFAULT)
		return -errno;
	return 0;
}

#endif /* VFIODEV_FAIL_NTH_H */
