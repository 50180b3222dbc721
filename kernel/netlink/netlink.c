// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev-nl: from a PCI address or a /sys/devices path to a device a vfio
 * driver has, in one request, with no vfio module loaded beforehand.
 *
 * BIND computes the device's "vfio_pci:" modalias and asks modprobe for it,
 * so that every vfio module whose ID table can match is loaded (resolving
 * the family name loaded this module the same way: MODULE_ALIAS_GENL_FAMILY).
 * Among the registered PCI drivers whose ID tables are vfio's
 * (override_only entries), it takes the one with the most specific matching
 * entry (select.c), sets driver_override, takes the device from its driver
 * only when the caller allows it, and probes.  It remembers the driver it
 * took the device from, for UNBIND's "restore previous".
 *
 * Mutating commands need CAP_NET_ADMIN (genl admin-perm, checked by the
 * genetlink core) and CAP_SYS_ADMIN (checked here, with an extack message),
 * as writing driver_override in sysfs does.  Every failure names its cause
 * and, where one is to blame, the attribute, and leaves the device as it
 * was.
 *
 * Locking: vfiodev_nl_lock serialises BIND and UNBIND and protects the
 * records of previous drivers; it is taken outside the device lock, which
 * the driver core takes in device_attach() and device_release_driver().
 * The bus notifier that sends the multicast events runs under the device
 * lock and takes no lock of ours.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/kmod.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/umh.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include <linux/vfiodev_nl.h>

#include "../compat.h"
#include "nl.h"
#include "select.h"

static DEFINE_MUTEX(vfiodev_nl_lock);

/* The driver BIND took a device from; under vfiodev_nl_lock. */
struct vfiodev_nl_prev {
	struct list_head node;
	char pci_addr[16];
	char driver[VFIODEV_NL_NAME_LEN];
};

static LIST_HEAD(vfiodev_nl_prevs);

/*
 * The first entry from @id on that matches only through driver_override as
 * a vfio driver's does (PCI_DRIVER_OVERRIDE_DEVICE_VFIO), or NULL at the
 * table's end (where pci_match_id() stops).
 */
static const struct pci_device_id *vfio_id(const struct pci_device_id *id)
{
	for (; id && (id->vendor || id->subvendor || id->class_mask); id++)
		if (id->override_only & PCI_ID_F_VFIO_DRIVER_OVERRIDE)
			return id;
	return NULL;
}

/* A vfio driver has an ID entry that matches only through the override. */
static bool is_vfio_driver(const struct device_driver *drv)
{
	return drv && drv->bus == &pci_bus_type &&
	       vfio_id(to_pci_driver(drv)->id_table);
}

static void pdev_ids(const struct pci_dev *pdev, struct vfiodev_nl_ids *ids)
{
	ids->vendor = pdev->vendor;
	ids->device = pdev->device;
	ids->subvendor = pdev->subsystem_vendor;
	ids->subdevice = pdev->subsystem_device;
	ids->class = pdev->class;
}

/*
 * A driver found on the bus stays registered while its module is held:
 * these helpers take that reference while the bus walk holds the driver
 * (driver_find() gives no such guarantee), and drop it.
 */
static void driver_put_module(struct device_driver *drv)
{
	if (drv)
		module_put(drv->owner);
}

struct named {
	const char *name;
	struct device_driver *drv;
};

static int match_name(struct device_driver *drv, void *data)
{
	struct named *n = data;

	if (strcmp(drv->name, n->name) || !try_module_get(drv->owner))
		return 0;
	n->drv = drv;
	return 1;
}

/* The PCI driver called @name with its module held, or NULL. */
static struct device_driver *driver_get_by_name(const char *name)
{
	struct named n = { .name = name };

	bus_for_each_drv(&pci_bus_type, NULL, &n, match_name);
	return n.drv;
}

struct choice {
	const struct vfiodev_nl_ids *ids;
	struct device_driver *best;
	unsigned int spec;
};

static int consider_driver(struct device_driver *drv, void *data)
{
	struct choice *c = data;
	const struct pci_device_id *id;
	const struct pci_driver *pdrv;

	pdrv = to_pci_driver(drv);
	for (id = vfio_id(pdrv->id_table); id; id = vfio_id(id + 1)) {
		unsigned int spec;

		if (!vfiodev_nl_id_matches(id, c->ids))
			continue;
		spec = vfiodev_nl_id_specificity(id);
		if (!vfiodev_nl_better(spec, drv->name, c->spec,
				       c->best ? c->best->name : NULL) ||
		    !try_module_get(drv->owner))
			continue;
		driver_put_module(c->best);
		c->best = drv;
		c->spec = spec;
	}
	return 0;
}

/*
 * Runs the system's modprobe (the kernel.modprobe sysctl) for @alias and
 * waits for it.  A full PCI modalias is longer than request_module() takes
 * (MODULE_NAME_LEN), so this calls the helper as request_module() would.
 */
static void modprobe_alias(const char *alias)
{
	static const char * const envp[] = {
		"HOME=/", "TERM=linux", "PATH=/sbin:/usr/sbin:/bin:/usr/bin", NULL
	};
	char path[KMOD_PATH_LEN] = "/sbin/modprobe";
	const char *argv[5];
	struct file *f;
	loff_t pos = 0;
	ssize_t n;

	f = filp_open("/proc/sys/kernel/modprobe", O_RDONLY, 0);
	if (!IS_ERR(f)) {
		n = kernel_read(f, path, sizeof(path) - 1, &pos);
		if (n > 0) {
			path[n] = 0;
			strim(path);
		} else {
			strscpy(path, "/sbin/modprobe");
		}
		filp_close(f, NULL);
	}
	if (!path[0])
		return;
	argv[0] = path;
	argv[1] = "-q";
	argv[2] = "--";
	argv[3] = alias;
	argv[4] = NULL;
	/* The helper only reads them; its prototype predates const. */
	call_usermodehelper(path, (char **)argv, (char **)envp, UMH_WAIT_PROC);
}

/*
 * The most specific vfio driver for @pdev, after loading every module its
 * vfio_pci: alias names, with its module held (driver_put_module()), or
 * NULL.
 */
static struct device_driver *choose_driver(struct pci_dev *pdev,
					   unsigned int *spec)
{
	struct vfiodev_nl_ids ids;
	struct choice c = { .ids = &ids };
	char alias[64];

	pdev_ids(pdev, &ids);
	snprintf(alias, sizeof(alias),
		 "vfio_pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X",
		 ids.vendor, ids.device, ids.subvendor, ids.subdevice,
		 (ids.class >> 16) & 0xff, (ids.class >> 8) & 0xff,
		 ids.class & 0xff);
	modprobe_alias(alias);
	bus_for_each_drv(&pci_bus_type, NULL, &c, consider_driver);
	*spec = c.spec;
	return c.best;
}

/* Whether @path is @pdev's directory under /sys/bus/pci or /sys/devices. */
static bool sysfs_path_is(const char *path, struct pci_dev *pdev)
{
	static const char bus_dir[] = "/sys/bus/pci/devices/";
	char *kpath;
	bool same;

	if (!strncmp(path, bus_dir, sizeof(bus_dir) - 1))
		return !strcmp(path + sizeof(bus_dir) - 1, pci_name(pdev));
	kpath = kobject_get_path(&pdev->dev.kobj, GFP_KERNEL);
	same = kpath && !strncmp(path, "/sys", 4) && !strcmp(path + 4, kpath);
	kfree(kpath);
	return same;
}

/* The device of a request: by PCI address or by sysfs path; a reference. */
static struct pci_dev *request_pdev(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[VFIODEV_NL_A_DEV_PCI_ADDR];
	unsigned int domain, bus, slot, fn;
	const char *addr, *path = NULL;
	struct pci_dev *pdev;
	char tail;

	if (!attr && info->attrs[VFIODEV_NL_A_DEV_SYSFS_PATH]) {
		attr = info->attrs[VFIODEV_NL_A_DEV_SYSFS_PATH];
		path = nla_data(attr);
		addr = strrchr(path, '/');
		addr = addr ? addr + 1 : path;
	} else if (attr) {
		addr = nla_data(attr);
	} else {
		NL_SET_ERR_MSG(info->extack, "a pci-addr or sysfs-path is needed");
		return ERR_PTR(-EINVAL);
	}
	if (strlen(addr) != 12 ||
	    sscanf(addr, "%4x:%2x:%2x.%1x%c", &domain, &bus, &slot, &fn,
		   &tail) != 4 || slot > 0x1f || fn > 7) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "not a PCI address (DDDD:BB:DD.F)");
		return ERR_PTR(-EINVAL);
	}
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no such PCI device");
		return ERR_PTR(-ENODEV);
	}
	/* A path must be the device's own, in either of its sysfs places. */
	if (path && !sysfs_path_is(path, pdev)) {
		pci_dev_put(pdev);
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "not the sysfs directory of a PCI device");
		return ERR_PTR(-EINVAL);
	}
	return pdev;
}

static int find_cdev(struct device *dev, void *data)
{
	char *name = data;

	if (dev->class && !strcmp(dev->class->name, "vfio-dev")) {
		strscpy(name, dev_name(dev), 16);
		return 1;
	}
	return 0;
}

static int put_dev_attrs(struct sk_buff *msg, struct pci_dev *pdev,
			 const char *prev, int spec)
{
	struct device_driver *drv = READ_ONCE(pdev->dev.driver);
	struct iommu_group *group;
	char cdev[16] = "";

	if (nla_put_string(msg, VFIODEV_NL_A_DEV_PCI_ADDR, pci_name(pdev)))
		return -EMSGSIZE;
	if (drv && nla_put_string(msg, VFIODEV_NL_A_DEV_DRIVER, drv->name))
		return -EMSGSIZE;
	if (drv && drv->owner &&
	    nla_put_string(msg, VFIODEV_NL_A_DEV_MODULE, drv->owner->name))
		return -EMSGSIZE;
	device_for_each_child(&pdev->dev, cdev, find_cdev);
	if (cdev[0] && nla_put_string(msg, VFIODEV_NL_A_DEV_CDEV, cdev))
		return -EMSGSIZE;
	group = iommu_group_get(&pdev->dev);
	if (group) {
		int rc = nla_put_u32(msg, VFIODEV_NL_A_DEV_GROUP,
				     iommu_group_id(group));

		iommu_group_put(group);
		if (rc)
			return -EMSGSIZE;
	}
	if (nla_put_u8(msg, VFIODEV_NL_A_DEV_COHERENT,
		       device_iommu_capable(&pdev->dev,
					    IOMMU_CAP_ENFORCE_CACHE_COHERENCY)))
		return -EMSGSIZE;
	if (prev && prev[0] &&
	    nla_put_string(msg, VFIODEV_NL_A_DEV_PREV_DRIVER, prev))
		return -EMSGSIZE;
	if (spec >= 0 && nla_put_u32(msg, VFIODEV_NL_A_DEV_SPECIFICITY, spec))
		return -EMSGSIZE;
	return 0;
}

static int reply_dev(struct genl_info *info, struct pci_dev *pdev,
		     const char *prev, int spec)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_iput(msg, info);
	if (!hdr || put_dev_attrs(msg, pdev, prev, spec)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static struct vfiodev_nl_prev *prev_find(const char *addr)
{
	struct vfiodev_nl_prev *p;

	lockdep_assert_held(&vfiodev_nl_lock);
	list_for_each_entry(p, &vfiodev_nl_prevs, node)
		if (!strcmp(p->pci_addr, addr))
			return p;
	return NULL;
}

/* Records @drv as what @pdev had before BIND; "" when it had none. */
static int prev_record(struct pci_dev *pdev, struct device_driver *drv)
{
	struct vfiodev_nl_prev *p = prev_find(pci_name(pdev));

	if (!p) {
		p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
		if (!p)
			return -ENOMEM;
		strscpy(p->pci_addr, pci_name(pdev));
		list_add(&p->node, &vfiodev_nl_prevs);
	}
	strscpy(p->driver, drv ? drv->name : "");
	return 0;
}

static int set_override(struct pci_dev *pdev, const char *name)
{
	return vfiodev_set_driver_override(pdev, name);
}

/*
 * Gives @pdev to @drv (NULL: no driver).  A vfio driver matches only
 * through driver_override, so the override names it; any other has none.
 */
static int give_to(struct pci_dev *pdev, struct device_driver *drv)
{
	int rc = set_override(pdev, drv && is_vfio_driver(drv) ? drv->name : "");

	if (rc || !drv)
		return rc;
	return device_driver_attach(drv, &pdev->dev);
}

/* Undoes a hand-over: @pdev leaves its driver for @old (NULL: none). */
static void give_back(struct pci_dev *pdev, struct device_driver *old)
{
	device_release_driver(&pdev->dev);
	if (give_to(pdev, old) && old)
		pci_warn(pdev, "could not give the device back to %s\n",
			 old->name);
}

/*
 * Hands @pdev to @drv.  On failure it gets back the driver it had, @old,
 * and no override.
 */
static int hand_over(struct pci_dev *pdev, struct device_driver *drv,
		     struct device_driver *old)
{
	int rc;

	rc = set_override(pdev, drv->name);
	if (rc)
		return rc;
	if (old)
		device_release_driver(&pdev->dev);
	rc = device_attach(&pdev->dev);
	if (rc > 0 && READ_ONCE(pdev->dev.driver) == drv)
		return 0;
	if (rc >= 0)
		rc = -ENODEV;
	give_back(pdev, old);
	return rc;
}

#define GROUP_MAX	32	/* devices of one group BIND hands over */

struct group_scan {
	struct pci_dev *self;
	struct pci_dev *blockers[GROUP_MAX];	/* references */
	unsigned int n;
	bool overflow;
};

/* Devices that make the group not viable: their drivers do DMA. */
static int find_blockers(struct device *dev, void *data)
{
	struct group_scan *gs = data;
	struct device_driver *drv;

	if (!dev_is_pci(dev) || to_pci_dev(dev) == gs->self)
		return 0;
	drv = READ_ONCE(dev->driver);
	if (!drv || is_vfio_driver(drv) || to_pci_driver(drv)->driver_managed_dma)
		return 0;
	if (gs->n == GROUP_MAX) {
		gs->overflow = true;
		return 1;
	}
	gs->blockers[gs->n++] = pci_dev_get(to_pci_dev(dev));
	return 0;
}

static void group_scan(struct pci_dev *pdev, struct group_scan *gs)
{
	struct iommu_group *group = iommu_group_get(&pdev->dev);

	gs->self = pdev;
	gs->n = 0;
	gs->overflow = false;
	if (!group)
		return;
	iommu_group_for_each_dev(group, gs, find_blockers);
	iommu_group_put(group);
}

static void group_scan_put(struct group_scan *gs)
{
	while (gs->n)
		pci_dev_put(gs->blockers[--gs->n]);
}

static int check_admin(struct sk_buff *skb, struct genl_info *info)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	NL_SET_ERR_MSG(info->extack, "binding drivers needs CAP_SYS_ADMIN");
	return -EPERM;
}

/*
 * Hands @pdev and, with @gs, the devices that keep its group from being
 * viable to their vfio drivers @drvs (@drvs[0] is @pdev's): all or none.
 */
static int bind_all(struct genl_info *info, struct pci_dev *pdev,
		    struct group_scan *gs, struct device_driver **drvs)
{
	struct device_driver *olds[GROUP_MAX + 1];
	unsigned int i, done;
	int rc = 0;

	lockdep_assert_held(&vfiodev_nl_lock);
	for (done = 0; done <= gs->n; done++) {
		struct pci_dev *d = done ? gs->blockers[done - 1] : pdev;

		olds[done] = READ_ONCE(d->dev.driver);
		if (olds[done] == drvs[done])
			continue;
		rc = hand_over(d, drvs[done], olds[done]);
		if (rc) {
			NL_SET_ERR_MSG_FMT(info->extack, "%s did not take %s (%d)",
					   drvs[done]->name, pci_name(d), rc);
			break;
		}
	}
	/* What each had before, once all of them were handed over. */
	for (i = 0; !rc && i < done; i++) {
		struct pci_dev *d = i ? gs->blockers[i - 1] : pdev;

		if (olds[i] != drvs[i])
			rc = prev_record(d, olds[i]);
	}
	if (!rc)
		return 0;
	/* Give back what was taken. */
	for (i = 0; i < done; i++) {
		struct pci_dev *d = i ? gs->blockers[i - 1] : pdev;

		if (olds[i] != drvs[i])
			give_back(d, olds[i]);
	}
	return rc;
}

/* A vfio driver by name, loading its module when needed; module held. */
static struct device_driver *named_driver(struct genl_info *info,
					  struct nlattr *attr)
{
	const char *name = nla_data(attr);
	struct device_driver *drv;

	drv = driver_get_by_name(name);
	if (!drv) {
		request_module("%s", name);
		drv = driver_get_by_name(name);
	}
	if (!drv) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no such PCI driver");
		return ERR_PTR(-ENOENT);
	}
	if (!is_vfio_driver(drv)) {
		driver_put_module(drv);
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "not a vfio driver");
		return ERR_PTR(-EINVAL);
	}
	return drv;
}

int vfiodev_nl_bind_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *dattr = info->attrs[VFIODEV_NL_A_DEV_DRIVER];
	struct device_driver *drvs[GROUP_MAX + 1] = { }, *old;
	char prev[VFIODEV_NL_NAME_LEN] = "";
	struct group_scan gs = { };
	unsigned int spec = 0, i;
	struct pci_dev *pdev;
	bool allow_unbind;
	u32 flags = 0;
	int rc;

	rc = check_admin(skb, info);
	if (rc)
		return rc;
	if (info->attrs[VFIODEV_NL_A_DEV_FLAGS])
		flags = nla_get_u32(info->attrs[VFIODEV_NL_A_DEV_FLAGS]);
	allow_unbind = flags & VFIODEV_BIND_FLAGS_ALLOW_UNBIND;
	pdev = request_pdev(info);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);

	drvs[0] = dattr ? named_driver(info, dattr) : choose_driver(pdev, &spec);
	if (IS_ERR(drvs[0])) {
		rc = PTR_ERR(drvs[0]);
		drvs[0] = NULL;
		goto out_put;
	}
	if (!drvs[0]) {
		NL_SET_ERR_MSG(info->extack,
			       "no vfio driver is loaded or can be loaded for it");
		rc = -ENODEV;
		goto out_put;
	}

	mutex_lock(&vfiodev_nl_lock);
	old = READ_ONCE(pdev->dev.driver);
	if (old && old != drvs[0] && !allow_unbind) {
		NL_SET_ERR_MSG_FMT(info->extack,
				   "%s has driver %s: set allow-unbind to take it",
				   pci_name(pdev), old->name);
		rc = -EBUSY;
		goto out_unlock;
	}
	group_scan(pdev, &gs);
	if (gs.overflow || (gs.n && !((flags & VFIODEV_BIND_FLAGS_GROUP) &&
				      allow_unbind))) {
		NL_SET_ERR_MSG_FMT(info->extack,
				   "its IOMMU group is not viable: %s has a driver (set group and allow-unbind)",
				   gs.n ? pci_name(gs.blockers[0]) : "a device");
		rc = -EBUSY;
		goto out_scan;
	}
	for (i = 0; i < gs.n; i++) {
		unsigned int bspec;

		drvs[i + 1] = choose_driver(gs.blockers[i], &bspec);
		if (!drvs[i + 1]) {
			NL_SET_ERR_MSG_FMT(info->extack,
					   "no vfio driver for %s in its IOMMU group",
					   pci_name(gs.blockers[i]));
			rc = -ENODEV;
			goto out_scan;
		}
	}
	rc = bind_all(info, pdev, &gs, drvs);
	if (!rc) {
		struct vfiodev_nl_prev *p = prev_find(pci_name(pdev));

		strscpy(prev, p ? p->driver : "");
	}
out_scan:
	group_scan_put(&gs);
out_unlock:
	mutex_unlock(&vfiodev_nl_lock);
	if (!rc)
		rc = reply_dev(info, pdev, prev, dattr ? -1 : (int)spec);
out_put:
	for (i = 0; i < ARRAY_SIZE(drvs); i++)
		driver_put_module(drvs[i]);
	pci_dev_put(pdev);
	return rc;
}

int vfiodev_nl_unbind_doit(struct sk_buff *skb, struct genl_info *info)
{
	u32 restore = VFIODEV_RESTORE_NONE;
	struct device_driver *drv, *prev = NULL;
	struct vfiodev_nl_prev *p;
	struct pci_dev *pdev;
	int rc;

	rc = check_admin(skb, info);
	if (rc)
		return rc;
	if (info->attrs[VFIODEV_NL_A_DEV_RESTORE])
		restore = nla_get_u32(info->attrs[VFIODEV_NL_A_DEV_RESTORE]);
	pdev = request_pdev(info);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);

	mutex_lock(&vfiodev_nl_lock);
	drv = READ_ONCE(pdev->dev.driver);
	if (!is_vfio_driver(drv)) {
		if (drv)
			NL_SET_ERR_MSG(info->extack, "its driver is not a vfio driver");
		else
			NL_SET_ERR_MSG(info->extack, "it has no driver");
		rc = -EINVAL;
		goto out_unlock;
	}
	p = prev_find(pci_name(pdev));
	if (restore == VFIODEV_RESTORE_PREVIOUS && p && p->driver[0]) {
		prev = driver_get_by_name(p->driver);
		if (!prev) {
			NL_SET_ERR_MSG_FMT(info->extack,
					   "the previous driver %s is gone",
					   p->driver);
			rc = -ENOENT;
			goto out_unlock;
		}
	}
	device_release_driver(&pdev->dev);
	rc = give_to(pdev, prev);
	if (rc)
		NL_SET_ERR_MSG_FMT(info->extack, "%s did not take it back (%d)",
				   prev ? prev->name : "no driver", rc);
	if (p) {
		list_del(&p->node);
		kfree(p);
	}
out_unlock:
	mutex_unlock(&vfiodev_nl_lock);
	driver_put_module(prev);
	if (!rc)
		rc = reply_dev(info, pdev, NULL, -1);
	pci_dev_put(pdev);
	return rc;
}

int vfiodev_nl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct pci_dev *pdev = request_pdev(info);
	int rc;

	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	rc = reply_dev(info, pdev, NULL, -1);
	pci_dev_put(pdev);
	return rc;
}

/* Every PCI device a vfio driver has; cb->args[0] counts those sent. */
int vfiodev_nl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pci_dev *pdev = NULL;
	long idx = 0;
	void *hdr;

	for_each_pci_dev(pdev) {
		if (!is_vfio_driver(READ_ONCE(pdev->dev.driver)))
			continue;
		if (idx++ < cb->args[0])
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &vfiodev_nl_family,
				  NLM_F_MULTI, VFIODEV_NL_CMD_GET);
		if (!hdr || put_dev_attrs(skb, pdev, NULL, -1)) {
			if (hdr)
				genlmsg_cancel(skb, hdr);
			pci_dev_put(pdev);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = idx;
	}
	return skb->len;
}

static void notify(struct pci_dev *pdev, u8 cmd)
{
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&vfiodev_nl_family, &init_net,
				VFIODEV_NL_MCGRP_MONITOR))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &vfiodev_nl_family, 0, cmd);
	if (!hdr || put_dev_attrs(msg, pdev, NULL, -1)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&vfiodev_nl_family, msg, 0, VFIODEV_NL_MCGRP_MONITOR,
			  GFP_KERNEL);
}

static int vfiodev_nl_bus_event(struct notifier_block *nb, unsigned long action,
				void *data)
{
	struct device *dev = data;

	if (!is_vfio_driver(READ_ONCE(dev->driver)))
		return NOTIFY_DONE;
	if (action == BUS_NOTIFY_BOUND_DRIVER)
		notify(to_pci_dev(dev), VFIODEV_NL_CMD_ADD_NTF);
	else if (action == BUS_NOTIFY_UNBIND_DRIVER)
		notify(to_pci_dev(dev), VFIODEV_NL_CMD_DEL_NTF);
	return NOTIFY_DONE;
}

static struct notifier_block vfiodev_nl_nb = {
	.notifier_call = vfiodev_nl_bus_event,
};

static int __init vfiodev_nl_init(void)
{
	int rc;

	rc = genl_register_family(&vfiodev_nl_family);
	if (rc)
		return rc;
	rc = bus_register_notifier(&pci_bus_type, &vfiodev_nl_nb);
	if (rc)
		genl_unregister_family(&vfiodev_nl_family);
	return rc;
}

static void __exit vfiodev_nl_exit(void)
{
	struct vfiodev_nl_prev *p, *n;

	bus_unregister_notifier(&pci_bus_type, &vfiodev_nl_nb);
	genl_unregister_family(&vfiodev_nl_family);
	list_for_each_entry_safe(p, n, &vfiodev_nl_prevs, node)
		kfree(p);
}

module_init(vfiodev_nl_init);
module_exit(vfiodev_nl_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfiodev: hand PCI devices to the most specific vfio driver over generic netlink");
MODULE_ALIAS_GENL_FAMILY(VFIODEV_FAMILY_NAME);
