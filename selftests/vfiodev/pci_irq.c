// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts through the device file: VFIO_DEVICE_GET_IRQ_INFO against the
 * device's capabilities, the argument rules of VFIO_DEVICE_SET_IRQS, the
 * edu raising MSI and INTx into eventfds (INTx automasked until user space
 * unmasks it), MSI-X vectors of an nvme, loopback triggers, ERR and REQ,
 * INTx raced against DisINTx writes and eventfds closing under it, and
 * nothing left in /proc/interrupts once the file is closed.
 *
 * VFIODEV_STACK=upstream runs it against vfio-pci.  Both grow MSI-X on
 * demand where the interrupt controller can (no VFIO_IRQ_INFO_NORESIZE):
 * the guest's interrupt remapping (intel-iommu, intremap=on) can, so the
 * nvme's MSI-X must grow here.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "pci_utils.h"
#include "kselftest_harness.h"

#define CFG_OFF(off)	(((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + (off))

#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64

struct irq_set {
	struct vfio_irq_set hdr;
	int32_t data[8];
};

static int set_irqs(int fd, uint32_t flags, uint32_t index, uint32_t start,
		    uint32_t count, const void *data, size_t len)
{
	struct irq_set s = {
		.hdr = {
			.argsz = sizeof(s.hdr) + len, .flags = flags,
			.index = index, .start = start, .count = count,
		},
	};

	if (len > sizeof(s.data))
		return -E2BIG;
	if (data)
		memcpy(s.data, data, len);
	return ioctl(fd, VFIO_DEVICE_SET_IRQS, &s) ? -errno : 0;
}

#define TRIG_EVENTFD	(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)
#define TRIG_NONE	(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER)
#define TRIG_BOOL	(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER)

static int irq_info(int fd, uint32_t index, struct vfio_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, info) ? -errno : 0;
}

/* How many times @efd fired within @ms, 0 if it did not. */
static uint64_t fired(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t n = 0;

	if (poll(&p, 1, ms) != 1)
		return 0;
	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* Lines of /proc/interrupts naming @what. */
static int proc_interrupts(const char *what)
{
	char line[512];
	int n = 0;
	FILE *fp = fopen("/proc/interrupts", "re");

	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp))
		if (strstr(line, what))
			n++;
	fclose(fp);
	return n;
}

/* Both stacks name their interrupts as upstream does: vfio-msi[N](BDF)... */
static const char *irq_name(void)
{
	return "vfio-";
}

FIXTURE(irq) {
	char bdf[BDF_LEN];
	int devfd, iommufd;
	int efd[4];
	bool edu;
};

FIXTURE_VARIANT(irq) {
	unsigned int vendor, device, class;
	const char *name;
};

FIXTURE_VARIANT_ADD(irq, edu) {
	.vendor = EDU_VENDOR, .device = EDU_DEVICE, .name = "edu",
};

FIXTURE_VARIANT_ADD(irq, nvme) {
	.class = NVME_CLASS, .name = "nvme",
};

FIXTURE_SETUP(irq)
{
	char bdfs[8][BDF_LEN];
	unsigned int i;
	uint16_t cmd;

	self->devfd = self->iommufd = -1;
	for (i = 0; i < ARRAY_LEN(self->efd); i++) {
		self->efd[i] = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, self->efd[i]);
	}
	ASSERT_LE(1, pci_find(variant->vendor, variant->device,
			      variant->class, bdfs, 8));
	strcpy(self->bdf, bdfs[0]);
	self->edu = variant->vendor == EDU_VENDOR;
	if (!stack_is_upstream())
		ASSERT_EQ(0, vfiodev_modules_load());
	ASSERT_EQ(0, pci_bind(self->bdf, stack_pci_driver()));
	self->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->iommufd);
	self->devfd = vfio_dev_open_bound(self->bdf, self->iommufd, NULL);
	ASSERT_LE(0, self->devfd);
	/* Memory and bus master on, through the device file. */
	ASSERT_EQ(2, pread(self->devfd, &cmd, 2, CFG_OFF(PCI_COMMAND)));
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	ASSERT_EQ(2, pwrite(self->devfd, &cmd, 2, CFG_OFF(PCI_COMMAND)));
}

FIXTURE_TEARDOWN(irq)
{
	unsigned int i;

	if (self->devfd >= 0)
		close(self->devfd);
	if (self->iommufd >= 0)
		close(self->iommufd);
	for (i = 0; i < ARRAY_LEN(self->efd); i++)
		close(self->efd[i]);
	EXPECT_EQ(0, pci_give_back(self->bdf));
}

TEST_F(irq, irq_info_counts)
{
	struct vfio_irq_info info;
	unsigned int msi = pci_cfg_cap(self->bdf, PCI_CAP_ID_MSI);
	unsigned int msix = pci_cfg_cap(self->bdf, PCI_CAP_ID_MSIX);
	bool pcie = pci_cfg_cap(self->bdf, PCI_CAP_ID_EXP);

	ASSERT_EQ(0, irq_info(self->devfd, VFIO_PCI_INTX_IRQ_INDEX, &info));
	EXPECT_EQ(pci_cfg_rd(self->bdf, PCI_INTERRUPT_PIN, 1) ? 1U : 0U,
		  info.count);
	EXPECT_EQ((uint32_t)(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			     VFIO_IRQ_INFO_AUTOMASKED), info.flags);

	ASSERT_EQ(0, irq_info(self->devfd, VFIO_PCI_MSI_IRQ_INDEX, &info));
	EXPECT_EQ(msi ? 1U << ((pci_cfg_rd(self->bdf, msi + PCI_MSI_FLAGS, 2) &
				PCI_MSI_FLAGS_QMASK) >> 1) : 0U, info.count);
	EXPECT_TRUE(!!(info.flags & VFIO_IRQ_INFO_EVENTFD));
	EXPECT_TRUE(!!(info.flags & VFIO_IRQ_INFO_NORESIZE));

	ASSERT_EQ(0, irq_info(self->devfd, VFIO_PCI_MSIX_IRQ_INDEX, &info));
	EXPECT_EQ(msix ? (pci_cfg_rd(self->bdf, msix + PCI_MSIX_FLAGS, 2) &
			  PCI_MSIX_FLAGS_QSIZE) + 1 : 0U, info.count);
	/* Dynamic MSI-X: the guest's interrupt remapping allows it. */
	if (msix)
		EXPECT_FALSE(!!(info.flags & VFIO_IRQ_INFO_NORESIZE));

	/* ERR only for PCI Express; REQ always. */
	if (pcie) {
		ASSERT_EQ(0, irq_info(self->devfd, VFIO_PCI_ERR_IRQ_INDEX,
				      &info));
		EXPECT_EQ(1U, info.count);
	} else {
		EXPECT_EQ(-EINVAL, irq_info(self->devfd,
					    VFIO_PCI_ERR_IRQ_INDEX, &info));
	}
	ASSERT_EQ(0, irq_info(self->devfd, VFIO_PCI_REQ_IRQ_INDEX, &info));
	EXPECT_EQ(1U, info.count);

	EXPECT_EQ(-EINVAL, irq_info(self->devfd, VFIO_PCI_NUM_IRQS, &info));
	memset(&info, 0, sizeof(info));
	info.argsz = offsetofend(struct vfio_irq_info, count) - 1;
	EXPECT_NE(0, ioctl(self->devfd, VFIO_DEVICE_GET_IRQ_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(irq, set_irqs_arguments)
{
	struct vfio_irq_set hdr = {
		.argsz = offsetofend(struct vfio_irq_set, count) - 1,
		.flags = TRIG_NONE, .index = VFIO_PCI_REQ_IRQ_INDEX,
		.count = 1,
	};
	int32_t fd = self->efd[0];
	uint8_t b = 1;

	EXPECT_NE(0, ioctl(self->devfd, VFIO_DEVICE_SET_IRQS, &hdr));
	EXPECT_EQ(EINVAL, errno);
	/* Unknown flags, two data types, no such index. */
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_NONE | (1U << 10),
				    VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_NONE |
				    VFIO_IRQ_SET_DATA_BOOL,
				    VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &b, 1));
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_NUM_IRQS,
				    0, 1, NULL, 0));
	/* Out of range, overflowing. */
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_NONE,
				    VFIO_PCI_REQ_IRQ_INDEX, 1, 1, NULL, 0));
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_NONE,
				    VFIO_PCI_REQ_IRQ_INDEX, 0, 2, NULL, 0));
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_NONE,
				    VFIO_PCI_REQ_IRQ_INDEX, 1, UINT32_MAX,
				    NULL, 0));
	/* Data shorter than count needs. */
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_EVENTFD,
				    VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &fd, 2));
	/* No action, or one the interrupt has not: ENOTTY. */
	EXPECT_EQ(-ENOTTY, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_NONE,
				    VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(-ENOTTY, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_NONE |
				    VFIO_IRQ_SET_ACTION_MASK,
				    VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0));
	/* Masking INTx that is not on. */
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_NONE |
				    VFIO_IRQ_SET_ACTION_MASK,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	/* A loopback trigger of an interrupt that is not on. */
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_NONE,
				    VFIO_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0));
	/* Not an eventfd. */
	fd = self->devfd;
	EXPECT_NE(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &fd, 4));
}

/* The edu raises MSI: the eventfd fires; loopback too; off, nothing. */
TEST_F(irq, edu_msi)
{
	int32_t fd = self->efd[0];

	if (!self->edu)
		SKIP(return, "edu only");
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &fd, 4));
	EXPECT_EQ(1, proc_interrupts(irq_name()));
	/* Only one of INTx, MSI, MSI-X. */
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_EVENTFD,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd, 4));

	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x1);
	EXPECT_LE(1ULL, fired(fd, 2000));
	EXPECT_EQ(1U, dev_rd32(self->devfd, EDU_IRQ_STATUS));
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x1);
	EXPECT_EQ(0U, dev_rd32(self->devfd, EDU_IRQ_STATUS));
	/* Once more. */
	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x2);
	EXPECT_LE(1ULL, fired(fd, 2000));
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x2);

	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_MSI_IRQ_INDEX,
			      0, 1, NULL, 0));
	EXPECT_EQ(1ULL, fired(fd, 1000));

	/* Off: the vector is gone, the device's interrupt reaches nothing. */
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_MSI_IRQ_INDEX,
			      0, 0, NULL, 0));
	EXPECT_EQ(0, proc_interrupts(irq_name()));
	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x4);
	EXPECT_EQ(0ULL, fired(fd, 300));
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x4);
}

/*
 * INTx, automasked: the first interrupt fires the eventfd and masks the
 * line; while masked nothing more fires; unmasking with the device still
 * asserting fires again.
 */
TEST_F(irq, edu_intx_automask)
{
	int32_t fd = self->efd[1];
	uint8_t one = 1;

	if (!self->edu)
		SKIP(return, "edu only");
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd, 4));
	EXPECT_EQ(1, proc_interrupts(irq_name()));

	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x1);
	EXPECT_EQ(1ULL, fired(fd, 2000));
	/* Masked in the device itself (PCI 2.3 DisINTx), as upstream does. */
	EXPECT_NE(0U, pci_cfg_rd(self->bdf, PCI_COMMAND, 2) &
		  PCI_COMMAND_INTX_DISABLE);
	/* Masked now: acknowledging and raising again gives nothing. */
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x1);
	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x2);
	EXPECT_EQ(0ULL, fired(fd, 500));
	/* Unmask while it asserts: it fires. */
	ASSERT_EQ(0, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(1ULL, fired(fd, 2000));
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x2);
	ASSERT_EQ(0, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_BOOL |
			      VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &one, 1));
	/* Masked by user space, then a loopback trigger still signals. */
	ASSERT_EQ(0, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_MASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x4);
	EXPECT_EQ(0ULL, fired(fd, 500));
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x4);
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_INTX_IRQ_INDEX,
			      0, 1, NULL, 0));
	EXPECT_EQ(1ULL, fired(fd, 1000));

	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_INTX_IRQ_INDEX,
			      0, 0, NULL, 0));
	EXPECT_EQ(0, proc_interrupts(irq_name()));
}

/*
 * The unmask eventfd, KVM's resampler's way: each signal unmasks INTx in
 * the kernel, as the UNMASK ioctl does, and an interrupt still asserted
 * is signalled again instead.  A second one is EBUSY; -1 takes it away.
 */
TEST_F(irq, edu_intx_unmask_eventfd)
{
	int32_t fd = self->efd[1], unmask = self->efd[2], none = -1;
	uint64_t one = 1;

	if (!self->edu)
		SKIP(return, "edu only");
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd, 4));
	ASSERT_EQ(0, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &unmask, 4));
	EXPECT_EQ(-EBUSY, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_EVENTFD |
				   VFIO_IRQ_SET_ACTION_UNMASK,
				   VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &self->efd[3],
				   4));

	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x1);
	EXPECT_EQ(1ULL, fired(fd, 10000));
	/* Masked: served and raised again, nothing. */
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x1);
	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x2);
	EXPECT_EQ(0ULL, fired(fd, 500));
	/* The eventfd unmasks while it asserts: signalled again. */
	ASSERT_EQ((ssize_t)sizeof(one), write(unmask, &one, sizeof(one)));
	EXPECT_EQ(1ULL, fired(fd, 10000));
	/* Served, then unmasked: the next one comes through. */
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x2);
	ASSERT_EQ((ssize_t)sizeof(one), write(unmask, &one, sizeof(one)));
	EXPECT_EQ(0ULL, fired(fd, 500));
	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x4);
	EXPECT_EQ(1ULL, fired(fd, 10000));
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x4);

	/* Taken away: a signal does nothing; the ioctl still unmasks. */
	ASSERT_EQ(0, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &none, 4));
	ASSERT_EQ((ssize_t)sizeof(one), write(unmask, &one, sizeof(one)));
	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x8);
	EXPECT_EQ(0ULL, fired(fd, 500));
	ASSERT_EQ(0, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(1ULL, fired(fd, 10000));
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x8);

	/* One left in place goes with the interrupt. */
	ASSERT_EQ(0, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &unmask, 4));
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_INTX_IRQ_INDEX,
			      0, 0, NULL, 0));
	EXPECT_EQ(0, proc_interrupts(irq_name()));
	/* Not an interrupt that is on: refused. */
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_EVENTFD |
				    VFIO_IRQ_SET_ACTION_UNMASK,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &unmask, 4));
}

/* Reloads vfio-pci with @params, with @bdf bound to it again. */
static int rebind_reloaded(const char *bdf, const char *params)
{
	int ret = pci_release(bdf);

	if (!ret)
		ret = vfio_pci_reload(params);
	if (!ret)
		ret = pci_bind(bdf, stack_pci_driver());
	return ret;
}

/*
 * vfio-pci's nointxmask=1: INTx is masked at the interrupt controller, not
 * in the device, so DisINTx stays clear while the line is masked; the
 * interrupt still arrives, masks itself and unmasks on request.
 */
TEST_F(irq, edu_intx_nointxmask)
{
	int32_t fd = self->efd[1];
	char val[8];

	if (!self->edu)
		SKIP(return, "edu only");
	close(self->devfd);
	self->devfd = -1;
	ASSERT_EQ(0, rebind_reloaded(self->bdf, "nointxmask=1"));
	ASSERT_EQ(0, sysfs_read("/sys/module/vfio_pci/parameters/nointxmask",
				val, sizeof(val)));
	EXPECT_STREQ("Y", val);
	self->devfd = vfio_dev_open_bound(self->bdf, self->iommufd, NULL);
	ASSERT_LE(0, self->devfd);
	dev_wr32(self->devfd, EDU_IRQ_ACK, ~0U);

	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd, 4));
	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x1);
	EXPECT_EQ(1ULL, fired(fd, 2000));
	EXPECT_EQ(0U, pci_cfg_rd(self->bdf, PCI_COMMAND, 2) &
		  PCI_COMMAND_INTX_DISABLE);
	/* Masked all the same: nothing until it is unmasked. */
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x1);
	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x2);
	EXPECT_EQ(0ULL, fired(fd, 500));
	ASSERT_EQ(0, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(1ULL, fired(fd, 2000));
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x2);
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_INTX_IRQ_INDEX,
			      0, 0, NULL, 0));

	close(self->devfd);
	self->devfd = -1;
	ASSERT_EQ(0, rebind_reloaded(self->bdf, ""));
}

/* MSI-X on the nvme: several vectors, loopback by DATA_BOOL. */
/* --- INTx raced: DisINTx writes, unmasks, eventfds closing ---------------- */

#define RACE_CYCLES	200

struct intx_race {
	int devfd;
	atomic_int stop;
	atomic_int bad;		/* an answer outside the allowed ones */
	atomic_int last_bad;
	atomic_int ops;
};

/* An ioctl that may meet INTx switched off by another thread: EINVAL. */
static void race_check(struct intx_race *r, int ret)
{
	atomic_fetch_add(&r->ops, 1);
	if (ret && ret != -EINVAL) {
		atomic_fetch_add(&r->bad, 1);
		atomic_store(&r->last_bad, -ret);
	}
}

/* Flips the command register's DisINTx through the device file. */
static void *race_disintx(void *arg)
{
	struct intx_race *r = arg;
	uint16_t cmd;
	unsigned int i;

	for (i = 0; !atomic_load(&r->stop); i++) {
		if (pread(r->devfd, &cmd, 2, CFG_OFF(PCI_COMMAND)) != 2) {
			race_check(r, -errno);
			continue;
		}
		cmd = (i & 1) ? cmd | PCI_COMMAND_INTX_DISABLE :
				cmd & ~PCI_COMMAND_INTX_DISABLE;
		if (pwrite(r->devfd, &cmd, 2, CFG_OFF(PCI_COMMAND)) != 2)
			race_check(r, -errno);
	}
	/* Left clear: the checks after the race count on it. */
	if (pread(r->devfd, &cmd, 2, CFG_OFF(PCI_COMMAND)) == 2) {
		cmd &= ~PCI_COMMAND_INTX_DISABLE;
		if (pwrite(r->devfd, &cmd, 2, CFG_OFF(PCI_COMMAND)) != 2)
			race_check(r, -errno);
	}
	return NULL;
}

/* The device raises and the line is served: ack, unmask, raise again. */
static void *race_raise(void *arg)
{
	struct intx_race *r = arg;
	unsigned int i;

	for (i = 0; !atomic_load(&r->stop); i++) {
		dev_wr32(r->devfd, EDU_IRQ_RAISE, 1U << (i % 8));
		dev_wr32(r->devfd, EDU_IRQ_ACK, 0xff);
		race_check(r, set_irqs(r->devfd, VFIO_IRQ_SET_DATA_NONE |
				       VFIO_IRQ_SET_ACTION_UNMASK,
				       VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
		if (!(i % 16))
			race_check(r, set_irqs(r->devfd, VFIO_IRQ_SET_DATA_NONE |
					       VFIO_IRQ_SET_ACTION_MASK,
					       VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
					       NULL, 0));
	}
	return NULL;
}

/*
 * INTx is switched on with a new trigger eventfd, given an unmask eventfd
 * that is signalled and then closed (the kernel's watcher sees the hang-up
 * while the others unmask), the trigger swapped for another one whose file
 * is closed at once, and INTx switched off again, RACE_CYCLES times.
 */
static void *race_eventfds(void *arg)
{
	struct intx_race *r = arg;
	uint64_t one = 1;
	int32_t trig, unmask;
	unsigned int i;

	for (i = 0; i < RACE_CYCLES; i++) {
		trig = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		unmask = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (trig < 0 || unmask < 0) {
			race_check(r, -ENOMEM);
			break;
		}
		race_check(r, set_irqs(r->devfd, TRIG_EVENTFD,
				       VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &trig, 4));
		race_check(r, set_irqs(r->devfd, VFIO_IRQ_SET_DATA_EVENTFD |
				       VFIO_IRQ_SET_ACTION_UNMASK,
				       VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &unmask, 4));
		if (write(unmask, &one, sizeof(one)) != sizeof(one))
			race_check(r, -errno);
		close(unmask);
		close(trig);
		/* A new trigger in place of the old, its file gone at once. */
		trig = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (trig >= 0) {
			race_check(r, set_irqs(r->devfd, TRIG_EVENTFD,
					       VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
					       &trig, 4));
			close(trig);
		}
		if (i % 4 != 3)
			race_check(r, set_irqs(r->devfd, TRIG_NONE,
					       VFIO_PCI_INTX_IRQ_INDEX, 0, 0,
					       NULL, 0));
	}
	race_check(r, set_irqs(r->devfd, TRIG_NONE, VFIO_PCI_INTX_IRQ_INDEX,
			       0, 0, NULL, 0));
	atomic_store(&r->stop, 1);
	return NULL;
}

/*
 * The races behind upstream's INTx fixes of 2024 (masking without the
 * lock, the handler's context freed under it, a virqfd's work outliving
 * its eventfd): three threads on one device file.  Every ioctl answers 0
 * or EINVAL (INTx switched off by another thread), nothing splats, and
 * afterwards INTx works as before, with nothing left registered.
 */
TEST_F_TIMEOUT(irq, edu_intx_race, 600)
{
	struct intx_race r = { .devfd = self->devfd };
	int32_t fd = self->efd[1];
	pthread_t t[3];
	int i;

	if (!self->edu)
		SKIP(return, "edu only");
	ASSERT_EQ(0, pthread_create(&t[0], NULL, race_disintx, &r));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, race_raise, &r));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, race_eventfds, &r));
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, atomic_load(&r.bad))
		TH_LOG("%d answers outside 0 and EINVAL, the last %s",
		       atomic_load(&r.bad), strerror(atomic_load(&r.last_bad)));
	TH_LOG("%d operations", atomic_load(&r.ops));
	EXPECT_EQ(0, proc_interrupts(irq_name()));

	/* INTx as before: fires, masks itself, fires again on unmask. */
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0xffffffff);
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd, 4));
	dev_wr32(self->devfd, EDU_IRQ_RAISE, 0x1);
	EXPECT_EQ(1ULL, fired(fd, 10000));
	EXPECT_NE(0U, pci_cfg_rd(self->bdf, PCI_COMMAND, 2) &
		  PCI_COMMAND_INTX_DISABLE);
	ASSERT_EQ(0, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(1ULL, fired(fd, 10000));
	dev_wr32(self->devfd, EDU_IRQ_ACK, 0x1);
	ASSERT_EQ(0, set_irqs(self->devfd, VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(0ULL, fired(fd, 500));
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_INTX_IRQ_INDEX,
			      0, 0, NULL, 0));
	EXPECT_EQ(0, proc_interrupts(irq_name()));
}

TEST_F(irq, msix_vectors)
{
	int32_t fds[3] = { self->efd[0], self->efd[1], self->efd[2] };
	uint8_t pick[3] = { 1, 0, 1 };
	struct vfio_irq_info info;

	ASSERT_EQ(0, irq_info(self->devfd, VFIO_PCI_MSIX_IRQ_INDEX, &info));
	if (info.count < 3)
		SKIP(return, "fewer than 3 MSI-X vectors");
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_MSIX_IRQ_INDEX, 0, 3, fds, sizeof(fds)));
	EXPECT_EQ(3, proc_interrupts(irq_name()));
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_BOOL, VFIO_PCI_MSIX_IRQ_INDEX,
			      0, 3, pick, 3));
	EXPECT_EQ(1ULL, fired(fds[0], 1000));
	EXPECT_EQ(0ULL, fired(fds[1], 200));
	EXPECT_EQ(1ULL, fired(fds[2], 1000));
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_MSIX_IRQ_INDEX,
			      1, 1, NULL, 0));
	EXPECT_EQ(1ULL, fired(fds[1], 1000));
	/* One vector given another eventfd, one taken away. */
	fds[0] = self->efd[3];
	fds[1] = -1;
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, fds, 8));
	EXPECT_EQ(2, proc_interrupts(irq_name()));
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_MSIX_IRQ_INDEX,
			      0, 3, NULL, 0));
	EXPECT_EQ(1ULL, fired(self->efd[3], 1000));
	EXPECT_EQ(0ULL, fired(self->efd[1], 200));
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_MSIX_IRQ_INDEX,
			      0, 0, NULL, 0));
	EXPECT_EQ(0, proc_interrupts(irq_name()));
}

/*
 * MSI-X grown while on, as QEMU does it when a guest unmasks a vector it
 * had not used: vector 0 first, then vector 2 alone, which is allocated
 * in the live table; MSI cannot grow.
 */
TEST_F(irq, msix_grows)
{
	int32_t fd0 = self->efd[0], fd2 = self->efd[2];
	struct vfio_irq_info info;
	char name[64];

	ASSERT_EQ(0, irq_info(self->devfd, VFIO_PCI_MSIX_IRQ_INDEX, &info));
	if (info.count < 3)
		SKIP(return, "fewer than 3 MSI-X vectors");
	ASSERT_FALSE(!!(info.flags & VFIO_IRQ_INFO_NORESIZE));
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &fd0, 4));
	EXPECT_EQ(1, proc_interrupts(irq_name()));
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_MSIX_IRQ_INDEX, 2, 1, &fd2, 4));
	snprintf(name, sizeof(name), "vfio-msix[2](%s)", self->bdf);
	EXPECT_EQ(1, proc_interrupts(name));
	EXPECT_EQ(2, proc_interrupts(irq_name()));
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_MSIX_IRQ_INDEX,
			      0, 3, NULL, 0));
	EXPECT_EQ(1ULL, fired(fd0, 1000));
	EXPECT_EQ(1ULL, fired(fd2, 1000));
	/* Taken away and given again: the vector stays allocated. */
	fd2 = -1;
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_MSIX_IRQ_INDEX, 2, 1, &fd2, 4));
	EXPECT_EQ(1, proc_interrupts(irq_name()));
	fd2 = self->efd[2];
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD,
			      VFIO_PCI_MSIX_IRQ_INDEX, 2, 1, &fd2, 4));
	EXPECT_EQ(2, proc_interrupts(irq_name()));
	/* Beyond the table: refused. */
	EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_EVENTFD,
				    VFIO_PCI_MSIX_IRQ_INDEX, info.count, 1,
				    &fd2, 4));
	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, VFIO_PCI_MSIX_IRQ_INDEX,
			      0, 0, NULL, 0));
	EXPECT_EQ(0, proc_interrupts(irq_name()));
}

/* ERR (PCI Express only) and REQ: eventfds with loopback. */
TEST_F(irq, err_req)
{
	uint32_t idx[2] = { VFIO_PCI_ERR_IRQ_INDEX, VFIO_PCI_REQ_IRQ_INDEX };
	uint8_t zero = 0, one = 1;
	int32_t fd, off = -1;
	int i;

	for (i = 0; i < 2; i++) {
		struct vfio_irq_info info;

		fd = self->efd[i];
		if (irq_info(self->devfd, idx[i], &info)) {
			EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_EVENTFD,
						    idx[i], 0, 1, &fd, 4));
			continue;
		}
		ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD, idx[i], 0, 1,
				      &fd, 4));
		ASSERT_EQ(0, set_irqs(self->devfd, TRIG_NONE, idx[i], 0, 1,
				      NULL, 0));
		EXPECT_EQ(1ULL, fired(fd, 1000));
		ASSERT_EQ(0, set_irqs(self->devfd, TRIG_BOOL, idx[i], 0, 1,
				      &zero, 1));
		EXPECT_EQ(0ULL, fired(fd, 200));
		ASSERT_EQ(0, set_irqs(self->devfd, TRIG_BOOL, idx[i], 0, 1,
				      &one, 1));
		EXPECT_EQ(1ULL, fired(fd, 1000));
		ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD, idx[i], 0, 1,
				      &off, 4));
		/* Nothing registered: a loopback has nothing to signal. */
		EXPECT_EQ(-EINVAL, set_irqs(self->devfd, TRIG_NONE, idx[i], 0,
					    1, NULL, 0));
		EXPECT_EQ(0ULL, fired(fd, 200));
	}
}

/* Closing the file with an interrupt on leaves nothing behind. */
TEST_F(irq, close_frees)
{
	int32_t fd = self->efd[0];
	uint32_t index = self->edu ? VFIO_PCI_MSI_IRQ_INDEX :
				     VFIO_PCI_MSIX_IRQ_INDEX;

	ASSERT_EQ(0, set_irqs(self->devfd, TRIG_EVENTFD, index, 0, 1, &fd, 4));
	EXPECT_EQ(1, proc_interrupts(irq_name()));
	close(self->devfd);
	self->devfd = -1;
	EXPECT_EQ(0, proc_interrupts(irq_name()));
}

TEST_HARNESS_MAIN
