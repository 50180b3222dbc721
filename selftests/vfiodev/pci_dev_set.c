// SPDX-License-Identifier: GPL-2.0
/*
 * Device sets: a device without a reset of its own is reset with its slot
 * or bus when the last device of its set is closed, and only then.  The
 * two-function edu behind the guest's PCIe root port has no function
 * reset (no FLR, no PM, not alone on its bus), so upstream's vfio-pci and
 * ours must reset that slot when both functions are closed, after either
 * was used, and never while one is open or while a function of the slot
 * is outside the set (bound to no vfio driver).  An edu on the root bus
 * has no slot or bus reset at all.
 *
 * What is observed is the kernel's own reset entry point: a kretprobe on
 * pci_reset_bus() counts its calls and their results.  The devices are
 * opened the legacy way (group, type1 container), so that the suite runs
 * on upstream's stack in the stock kernel too (VFIODEV_STACK=upstream).
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <linux/vfio.h>

#include "vfiodev_utils.h"
#include "kselftest_harness.h"
#include "edu_utils.h"

#define TRACEFS		"/sys/kernel/tracing"
#define PROBE_GROUP	"vfiodev_dev_set"
#define PROBE_EVENT	"reset_bus"

static int trace_write(const char *file, const char *val, int flags)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* Removes the probe, if there: disabled first, as tracefs requires. */
static void probe_remove(void)
{
	trace_write("events/" PROBE_GROUP "/" PROBE_EVENT "/enable", "0", 0);
	trace_write("kprobe_events", "-:" PROBE_GROUP "/" PROBE_EVENT "\n",
		    O_APPEND);
}

/* A return probe on pci_reset_bus(), recording its result, enabled. */
static int probe_add(void)
{
	int ret;

	if (access(TRACEFS "/kprobe_events", F_OK) &&
	    mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		return -errno;
	probe_remove();
	ret = trace_write("kprobe_events",
			  "r:" PROBE_GROUP "/" PROBE_EVENT
			  " pci_reset_bus ret=$retval:s32\n", O_APPEND);
	if (ret)
		return ret;
	ret = trace_write("trace", "", O_TRUNC);
	if (ret)
		return ret;
	ret = trace_write("tracing_on", "1", 0);
	if (ret)
		return ret;
	return trace_write("events/" PROBE_GROUP "/" PROBE_EVENT "/enable",
			   "1", 0);
}

/*
 * Calls of pci_reset_bus() since the last call of this, and how many of
 * them failed; the trace is emptied.  Returns the count or -errno.
 */
static int resets(int *failed)
{
	char line[512];
	FILE *f;
	int n = 0;

	*failed = 0;
	f = fopen(TRACEFS "/trace", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		const char *ret;

		if (line[0] == '#' || !strstr(line, " " PROBE_EVENT ": "))
			continue;
		n++;
		ret = strstr(line, "ret=");
		if (!ret || atoi(ret + 4))
			(*failed)++;
	}
	fclose(f);
	return trace_write("trace", "", O_TRUNC) ?: n;
}

FIXTURE(set) {
	char root[4][BDF_LEN], port[4][BDF_LEN];
	int nroot, nport;
	int container;
	int group;
};

FIXTURE_SETUP(set)
{
	int i, failed;

	self->container = self->group = -1;
	ASSERT_EQ(0, pci_find_edus(self->root, &self->nroot, self->port,
			  &self->nport));
	ASSERT_EQ(2, self->nport) TH_LOG("the guest needs a two-function edu behind a root port");
	ASSERT_LE(1, self->nroot);
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pci_bind(self->port[i], stack_pci_driver()));
	/* Binding resets nothing: the devices are not open yet. */
	ASSERT_EQ(0, probe_add()) TH_LOG("kretprobe on pci_reset_bus");
	ASSERT_EQ(0, resets(&failed));
}

FIXTURE_TEARDOWN(set)
{
	int i;

	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	probe_remove();
	for (i = 0; i < self->nport && i < 2; i++)
		pci_release(self->port[i]);
	for (i = 0; i < self->nroot && i < 1; i++)
		pci_release(self->root[i]);
}

/*
 * The group of @bdf in a type1v2 container (one group holds both port
 * functions: QEMU's edu has no ACS).
 */
static void take_group(struct __test_metadata *_metadata,
		       FIXTURE_DATA(set) *self, const char *bdf)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };

	self->container = vfio_container_open();
	ASSERT_LE(0, self->container);
	self->group = vfio_group_open(bdf);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_GET_STATUS, &status));
	ASSERT_NE(0U, status.flags & (uint32_t)VFIO_GROUP_FLAGS_VIABLE);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));
}

/* The device file of @bdf, with its BAR0 written to: the device was used. */
static int use(struct __test_metadata *_metadata, FIXTURE_DATA(set) *self,
	       const char *bdf)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t v = 0x5a5a;
	int fd;

	fd = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	EXPECT_LE(0, fd) TH_LOG("%s: %s", bdf, strerror(errno));
	if (fd < 0)
		return fd;
	EXPECT_EQ(0, ioctl(fd, VFIO_DEVICE_GET_INFO, &info));
	/* No reset of its own: VFIO_DEVICE_RESET is not offered. */
	EXPECT_EQ(0U, info.flags & (uint32_t)VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ((ssize_t)sizeof(v),
		  pwrite(fd, &v, sizeof(v),
			 ((off_t)VFIO_PCI_BAR0_REGION_INDEX << 40) + 4));
	return fd;
}

/* One function used and closed, the other not open: the slot is reset. */
TEST_F(set, last_close_resets)
{
	int fd, failed;

	take_group(_metadata, self, self->port[0]);
	fd = use(_metadata, self, self->port[0]);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, resets(&failed));
	close(fd);
	EXPECT_EQ(1, resets(&failed));
	EXPECT_EQ(0, failed);
}

/* Not while the other function is open; on its close then. */
TEST_F(set, not_while_one_is_open)
{
	int fd0, fd1, failed;

	take_group(_metadata, self, self->port[0]);
	fd0 = use(_metadata, self, self->port[0]);
	ASSERT_LE(0, fd0);
	fd1 = use(_metadata, self, self->port[1]);
	ASSERT_LE(0, fd1);
	close(fd0);
	EXPECT_EQ(0, resets(&failed));
	close(fd1);
	EXPECT_EQ(1, resets(&failed));
	EXPECT_EQ(0, failed);
}

/* Each use is followed by its reset. */
TEST_F(set, every_last_close)
{
	int i, fd, failed;

	take_group(_metadata, self, self->port[0]);
	for (i = 0; i < 2; i++) {
		fd = use(_metadata, self, self->port[i]);
		ASSERT_LE(0, fd);
		close(fd);
		EXPECT_EQ(1, resets(&failed)) TH_LOG("use %d", i);
		EXPECT_EQ(0, failed);
	}
}

/*
 * A function of the slot bound to no vfio driver is outside the set: the
 * reset would take it along, so there is none.
 */
TEST_F(set, not_with_a_function_outside)
{
	int fd, failed;

	ASSERT_EQ(0, pci_release(self->port[1]));
	ASSERT_EQ(0, resets(&failed));
	take_group(_metadata, self, self->port[0]);
	fd = use(_metadata, self, self->port[0]);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, resets(&failed));
}

/* A device on the root bus: no slot or bus to reset. */
TEST_F(set, root_bus_never)
{
	int fd, failed;

	ASSERT_EQ(0, pci_bind(self->root[0], stack_pci_driver()));
	ASSERT_EQ(0, resets(&failed));
	take_group(_metadata, self, self->root[0]);
	fd = use(_metadata, self, self->root[0]);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, resets(&failed));
}

TEST_HARNESS_MAIN
