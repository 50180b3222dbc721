// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev core: the legacy VFIO group, /dev/vfio/N, beside the device cdev.
 *
 * Every IOMMU group with a device registered with vfiodev has a group node
 * named after the IOMMU group's ID, created with its first device and
 * removed with its last.  The node serves upstream's group uAPI, which
 * every VMM and DPDK release in the wild uses:
 *
 *  - VFIO_GROUP_GET_STATUS: viable when no kernel driver (and no other
 *    context) owns the group's DMA, i.e. every device of the group is bound
 *    to a VFIO driver or to none, as upstream decides it;
 *  - VFIO_GROUP_SET_CONTAINER with a container: /dev/vfio/vfio or
 *    /dev/iommu, both contexts of iommufd.  The group's DMA is
 *    claimed for that context (blocked until a device is attached), and the
 *    context gets its compatibility IOAS, which the legacy map and unmap
 *    ioctls act on (vfio_compat.c): one engine behind both front doors;
 *  - VFIO_GROUP_UNSET_CONTAINER, refused while a device file of the group
 *    is open, as type1 does;
 *  - VFIO_GROUP_GET_DEVICE_FD by device name: a device file like the
 *    cdev's, whose device is bound to the container's context and
 *    attached to its compatibility IOAS (device_cdev.c).
 *
 * Exclusivity, as upstream: the node opens once; it cannot be opened while
 * a device cdev of the group is bound to an iommufd, nor a device cdev be
 * bound while it is open; a group joins one container.  Device files from the group hold the group
 * file, so closing in any order works and the last close releases all.
 *
 * KVM's kvm-vfio device finds vfio_file_is_valid() and its siblings by
 * name (symbol_get()); they are here, for group files and device files.
 * Upstream's vfio.ko exports the same names, one more reason that the two
 * cannot be loaded together (main.c refuses to).
 *
 * Locking: vfiodev_groups_lock (the registry) -> vfiodev_group::lock ->
 * vfiodev_device::lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/kdev_t.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/xarray.h>

#include "../compat.h"
#include "vdiommu.h"
#include "vfiodev_priv.h"

/* Groups by IOMMU group ID. */
static DEFINE_XARRAY(vfiodev_groups);
static DEFINE_MUTEX(vfiodev_groups_lock);
static DEFINE_IDA(vfiodev_group_ida);
static dev_t vfiodev_group_devt;

static char *vfiodev_group_devnode(const struct device *dev, umode_t *mode)
{
	return kasprintf(GFP_KERNEL, "vfio/%s", dev_name(dev));
}

/* Upstream's class name: tools find groups under /sys/class/vfio. */
static const struct class vfiodev_group_class = {
	.name = "vfio",
	.devnode = vfiodev_group_devnode,
};

static const struct file_operations vfiodev_group_fops;

static struct vfiodev_group *vfiodev_group_from_file(struct file *file)
{
	if (file->f_op != &vfiodev_group_fops)
		return NULL;
	return file->private_data;
}

/* Every device of the group is behind an IOMMU that enforces coherency. */
static bool vfiodev_group_coherent(struct vfiodev_group *group)
{
	struct vfiodev_device *vdev;

	lockdep_assert_held(&group->lock);
	list_for_each_entry(vdev, &group->device_list, group_item)
		if (!device_iommu_capable(vdev->dev,
					  IOMMU_CAP_ENFORCE_CACHE_COHERENCY))
			return false;
	return true;
}

static void vfiodev_group_unset_container(struct vfiodev_group *group)
{
	lockdep_assert_held(&group->lock);

	vdiommu_vfio_group_release(group->ictx, group->iommu_group);
	fput(group->container);
	group->container = NULL;
	group->ictx = NULL;
}

static long vfiodev_group_ioctl_get_status(struct vfiodev_group *group,
					   struct vfio_group_status __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_group_status, flags);
	struct vfio_group_status status;

	if (copy_from_user(&status, arg, minsz))
		return -EFAULT;
	if (status.argsz < minsz)
		return -EINVAL;

	status.flags = 0;
	mutex_lock(&group->lock);
	if (!group->iommu_group) {
		mutex_unlock(&group->lock);
		return -ENODEV;
	}
	if (group->container)
		status.flags = VFIO_GROUP_FLAGS_CONTAINER_SET |
			       VFIO_GROUP_FLAGS_VIABLE;
	else if (!iommu_group_dma_owner_claimed(group->iommu_group))
		status.flags = VFIO_GROUP_FLAGS_VIABLE;
	mutex_unlock(&group->lock);

	if (copy_to_user(arg, &status, minsz))
		return -EFAULT;
	return 0;
}

static long vfiodev_group_ioctl_set_container(struct vfiodev_group *group,
					      int __user *arg)
{
	struct vdiommu_ctx *ictx;
	struct file *file;
	bool coherent;
	long ret;
	int fd;

	if (get_user(fd, arg))
		return -EFAULT;
	file = fget(fd);
	if (!file)
		return -EBADF;

	mutex_lock(&group->lock);
	if (group->container) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (!group->iommu_group) {
		ret = -ENODEV;
		goto out_unlock;
	}
	ictx = vdiommu_ctx_from_file(file);
	if (IS_ERR(ictx)) {
		/* Neither /dev/vfio/vfio nor /dev/iommu. */
		ret = -EBADFD;
		goto out_unlock;
	}
	coherent = vfiodev_group_coherent(group);
	/* -EPERM: a kernel driver or another context owns the group. */
	ret = vdiommu_vfio_group_claim(ictx, group->iommu_group, coherent);
	if (ret)
		goto out_unlock;
	ret = vdiommu_vfio_compat_ioas_create(ictx);
	if (ret) {
		vdiommu_vfio_group_release(ictx, group->iommu_group);
		goto out_unlock;
	}
	group->container = file;
	group->ictx = ictx;
	file = NULL;
out_unlock:
	mutex_unlock(&group->lock);
	if (file)
		fput(file);
	return ret;
}

static long vfiodev_group_ioctl_unset_container(struct vfiodev_group *group)
{
	long ret = 0;

	mutex_lock(&group->lock);
	if (!group->container)
		ret = -EINVAL;
	else if (group->device_fds)
		ret = -EBUSY;
	else
		vfiodev_group_unset_container(group);
	mutex_unlock(&group->lock);
	return ret;
}

/*
 * The device named @buf, with a registration reference.  Upstream's PCI
 * drivers also take "<name> vf_token=<uuid>" for SR-IOV; there is no
 * SR-IOV here, so any option after the name is refused as upstream refuses
 * a token for a device that is neither PF nor VF.
 */
static struct vfiodev_device *vfiodev_group_find_device(struct vfiodev_group *group,
							const char *buf)
{
	struct vfiodev_device *vdev;

	lockdep_assert_held(&group->lock);
	list_for_each_entry(vdev, &group->device_list, group_item) {
		const char *name = dev_name(vdev->dev);
		size_t len = strlen(name);

		if (strncmp(buf, name, len) ||
		    (buf[len] && buf[len] != ' '))
			continue;
		if (buf[len])
			return ERR_PTR(-EINVAL);
		if (!vfiodev_device_try_get_registration(vdev))
			return ERR_PTR(-ENODEV);
		return vdev;
	}
	return ERR_PTR(-ENODEV);
}

static long vfiodev_group_ioctl_get_device_fd(struct vfiodev_group *group,
					      char __user *arg)
{
	struct vfiodev_device *vdev;
	struct file *filep;
	char *buf;
	int fd;

	buf = strndup_user(arg, PAGE_SIZE);
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	mutex_lock(&group->lock);
	vdev = vfiodev_group_find_device(group, buf);
	if (IS_ERR(vdev)) {
		fd = PTR_ERR(vdev);
		goto out_unlock;
	}
	/* Devices are used only through a container. */
	if (!group->container) {
		fd = -EINVAL;
		goto err_put_registration;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto err_put_registration;
	filep = vfiodev_df_group_open(vdev, group);
	if (IS_ERR(filep)) {
		put_unused_fd(fd);
		fd = PTR_ERR(filep);
		goto err_put_registration;
	}
	group->device_fds++;
	/* The file owns the registration reference now. */
	fd_install(fd, filep);
	goto out_unlock;

err_put_registration:
	vfiodev_device_put_registration(vdev);
out_unlock:
	mutex_unlock(&group->lock);
	kfree(buf);
	return fd;
}

static long vfiodev_group_fops_unl_ioctl(struct file *filep, unsigned int cmd,
					 unsigned long arg)
{
	struct vfiodev_group *group = filep->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GROUP_GET_STATUS:
		return vfiodev_group_ioctl_get_status(group, uarg);
	case VFIO_GROUP_SET_CONTAINER:
		return vfiodev_group_ioctl_set_container(group, uarg);
	case VFIO_GROUP_UNSET_CONTAINER:
		return vfiodev_group_ioctl_unset_container(group);
	case VFIO_GROUP_GET_DEVICE_FD:
		return vfiodev_group_ioctl_get_device_fd(group, uarg);
	default:
		return -ENOTTY;
	}
}

static int vfiodev_group_fops_open(struct inode *inode, struct file *filep)
{
	struct vfiodev_group *group =
		container_of(inode->i_cdev, struct vfiodev_group, cdev);
	int ret = 0;

	mutex_lock(&group->lock);
	if (!group->iommu_group)
		ret = -ENODEV;
	else if (group->opened_file || group->cdev_bound_count)
		ret = -EBUSY;	/* open once; not beside bound device cdevs */
	else
		group->opened_file = filep;
	mutex_unlock(&group->lock);
	if (ret)
		return ret;
	filep->private_data = group;
	return 0;
}

static int vfiodev_group_fops_release(struct inode *inode, struct file *filep)
{
	struct vfiodev_group *group = filep->private_data;

	/* Device files from the group hold this file: none is open. */
	mutex_lock(&group->lock);
	WARN_ON(group->device_fds);
	if (group->container)
		vfiodev_group_unset_container(group);
	group->opened_file = NULL;
	mutex_unlock(&group->lock);

	return 0;
}

static const struct file_operations vfiodev_group_fops = {
	.owner = THIS_MODULE,
	.open = vfiodev_group_fops_open,
	.release = vfiodev_group_fops_release,
	.unlocked_ioctl = vfiodev_group_fops_unl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* A device file from @group was closed, after its device was. */
void vfiodev_group_device_fd_closed(struct vfiodev_group *group)
{
	mutex_lock(&group->lock);
	group->device_fds--;
	mutex_unlock(&group->lock);
}

/**
 * vfiodev_group_block_cdev() - a device cdev file is being bound
 * @vdev: the device, registered
 *
 * Undone by vfiodev_group_unblock_cdev() when the bind fails or the bound
 * file is closed.
 *
 * Return: 0, or -EBUSY while the device's group is open.
 */
int vfiodev_group_block_cdev(struct vfiodev_device *vdev)
{
	struct vfiodev_group *group = vdev->group;
	int ret = 0;

	if (!group)
		return 0;
	mutex_lock(&group->lock);
	if (group->opened_file)
		ret = -EBUSY;
	else
		group->cdev_bound_count++;
	mutex_unlock(&group->lock);
	return ret;
}

void vfiodev_group_unblock_cdev(struct vfiodev_device *vdev)
{
	struct vfiodev_group *group = vdev->group;

	if (!group)
		return;
	mutex_lock(&group->lock);
	group->cdev_bound_count--;
	mutex_unlock(&group->lock);
}

static void vfiodev_group_release(struct device *dev)
{
	struct vfiodev_group *group =
		container_of(dev, struct vfiodev_group, dev);

	ida_free(&vfiodev_group_ida, group->minor);
	mutex_destroy(&group->lock);
	kfree(group);
}

static struct vfiodev_group *vfiodev_group_create(struct iommu_group *iommu_group)
{
	struct vfiodev_group *group;
	int ret;

	lockdep_assert_held(&vfiodev_groups_lock);

	group = kzalloc(sizeof(*group), GFP_KERNEL);
	if (!group)
		return ERR_PTR(-ENOMEM);
	ret = ida_alloc_max(&vfiodev_group_ida, MINORMASK, GFP_KERNEL);
	if (ret < 0) {
		kfree(group);
		return ERR_PTR(ret);
	}
	group->minor = ret;
	mutex_init(&group->lock);
	INIT_LIST_HEAD(&group->device_list);

	/* From here on, only put_device() frees @group. */
	device_initialize(&group->dev);
	group->dev.class = &vfiodev_group_class;
	group->dev.release = vfiodev_group_release;
	group->dev.devt = MKDEV(MAJOR(vfiodev_group_devt), group->minor);
	cdev_init(&group->cdev, &vfiodev_group_fops);
	group->cdev.owner = THIS_MODULE;
	ret = dev_set_name(&group->dev, "%d", iommu_group_id(iommu_group));
	if (ret)
		goto err_put;

	ret = xa_insert(&vfiodev_groups, iommu_group_id(iommu_group), group,
			GFP_KERNEL);
	if (ret)
		goto err_put;
	iommu_group_ref_get(iommu_group);
	group->iommu_group = iommu_group;
	/* Last: the node can be opened as soon as it exists. */
	ret = cdev_device_add(&group->cdev, &group->dev);
	if (ret)
		goto err_erase;
	return group;

err_erase:
	group->iommu_group = NULL;
	iommu_group_put(iommu_group);
	xa_erase(&vfiodev_groups, iommu_group_id(iommu_group));
err_put:
	put_device(&group->dev);
	return ERR_PTR(ret);
}

/**
 * vfiodev_group_add_device() - put a device being registered in its group
 * @vdev: the device
 *
 * A device without an IOMMU group has no group (no no-IOMMU mode here).
 *
 * Return: 0 or a negative errno.
 */
int vfiodev_group_add_device(struct vfiodev_device *vdev)
{
	struct iommu_group *iommu_group;
	struct vfiodev_group *group;

	iommu_group = iommu_group_get(vdev->dev);
	if (!iommu_group)
		return 0;

	mutex_lock(&vfiodev_groups_lock);
	group = xa_load(&vfiodev_groups, iommu_group_id(iommu_group));
	if (!group)
		group = vfiodev_group_create(iommu_group);
	if (!IS_ERR(group)) {
		group->registered++;
		mutex_lock(&group->lock);
		list_add_tail(&vdev->group_item, &group->device_list);
		mutex_unlock(&group->lock);
		vdev->group = group;
	}
	mutex_unlock(&vfiodev_groups_lock);
	iommu_group_put(iommu_group);
	return PTR_ERR_OR_ZERO(group);
}

/**
 * vfiodev_group_del_device() - take an unregistered device out of its group
 * @vdev: the device, none of whose files is open
 *
 * With the group's last device the node goes; a file of it still open
 * loses its container and answers -ENODEV from then on.
 */
void vfiodev_group_del_device(struct vfiodev_device *vdev)
{
	struct vfiodev_group *group = vdev->group;
	struct iommu_group *iommu_group = NULL;
	bool last;

	if (!group)
		return;

	mutex_lock(&vfiodev_groups_lock);
	last = !--group->registered;
	mutex_lock(&group->lock);
	list_del_init(&vdev->group_item);
	if (last) {
		xa_erase(&vfiodev_groups, iommu_group_id(group->iommu_group));
		/* No device of the group is open: nothing uses the claim. */
		if (group->container)
			vfiodev_group_unset_container(group);
		iommu_group = group->iommu_group;
		group->iommu_group = NULL;
	}
	mutex_unlock(&group->lock);
	if (last)
		cdev_device_del(&group->cdev, &group->dev);
	mutex_unlock(&vfiodev_groups_lock);

	vdev->group = NULL;
	if (last) {
		iommu_group_put(iommu_group);
		put_device(&group->dev);
	}
}

int vfiodev_group_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&vfiodev_group_devt, 0, MINORMASK + 1,
				  "vfio");
	if (ret)
		return ret;
	ret = class_register(&vfiodev_group_class);
	if (ret)
		unregister_chrdev_region(vfiodev_group_devt, MINORMASK + 1);
	return ret;
}

void vfiodev_group_exit(void)
{
	WARN_ON(!xa_empty(&vfiodev_groups));
	class_unregister(&vfiodev_group_class);
	unregister_chrdev_region(vfiodev_group_devt, MINORMASK + 1);
}

/**
 * vfiodev_file_iommu_group() - the IOMMU group of a VFIO group file
 * @file: any file, kept referenced by the caller while it uses the answer
 *
 * For drivers proving ownership with group files (the legacy form of
 * VFIO_DEVICE_PCI_HOT_RESET).  Call it with none of the driver's or the
 * core's locks held.
 *
 * Return: the IOMMU group, or NULL if @file is not a group file or its
 * group has no device left.
 */
struct iommu_group *vfiodev_file_iommu_group(struct file *file)
{
	struct vfiodev_group *group = vfiodev_group_from_file(file);
	struct iommu_group *iommu_group;

	if (!group)
		return NULL;
	mutex_lock(&group->lock);
	iommu_group = group->iommu_group;
	mutex_unlock(&group->lock);
	return iommu_group;
}
EXPORT_SYMBOL_NS_GPL(vfiodev_file_iommu_group, VFIODEV_NS);

/* KVM's contract (kvm-vfio), by name. */

/**
 * vfio_file_is_valid() - is this a VFIO file KVM can register
 * @file: any file
 *
 * Return: true for a group file and for a device file (cdev or from a
 * group).
 */
bool vfio_file_is_valid(struct file *file)
{
	return vfiodev_group_from_file(file) || vfiodev_df_device(file);
}
EXPORT_SYMBOL_GPL(vfio_file_is_valid);

/**
 * vfio_file_enforced_coherent() - can DMA through this file bypass the caches
 * @file: a VFIO file
 *
 * Devices whose IOMMU can enforce cache coherency always get page tables
 * that do, so this is a property of the devices' IOMMUs.  KVM registers
 * non-coherent DMA with the VM when it is false.
 *
 * Return: true if every device behind @file has DMA that cannot bypass the
 * CPU caches (true, as upstream, for a file that is not VFIO's).
 */
bool vfio_file_enforced_coherent(struct file *file)
{
	struct vfiodev_group *group = vfiodev_group_from_file(file);
	struct vfiodev_device *vdev;
	bool ret;

	if (group) {
		mutex_lock(&group->lock);
		ret = vfiodev_group_coherent(group);
		mutex_unlock(&group->lock);
		return ret;
	}
	vdev = vfiodev_df_device(file);
	if (vdev)
		return device_iommu_capable(vdev->dev,
					    IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
	return true;
}
EXPORT_SYMBOL_GPL(vfio_file_enforced_coherent);

/**
 * vfio_file_set_kvm() - KVM tells the file which VM uses it
 * @file: a VFIO file
 * @kvm: the VM, or NULL when KVM lets go
 *
 * Upstream hands the VM to drivers that program it into their devices (on
 * s390 and for mediated devices).  No vfiodev driver needs it, so nothing
 * is recorded: a pointer kept without a reference on the VM could not be
 * used safely anyway.  KVM still requires the symbol to register a file.
 */
void vfio_file_set_kvm(struct file *file, struct kvm *kvm)
{
}
EXPORT_SYMBOL_GPL(vfio_file_set_kvm);

/**
 * vfio_file_iommu_group() - the IOMMU group of a group file
 * @file: a VFIO file
 *
 * Only KVM's SPAPR TCE support asks; elsewhere upstream answers NULL, and
 * so does this.
 *
 * Return: the IOMMU group if @file is a group file whose group still has
 * devices (SPAPR only), else NULL (also for device files, as upstream).
 */
struct iommu_group *vfio_file_iommu_group(struct file *file)
{
	if (!IS_ENABLED(CONFIG_SPAPR_TCE_IOMMU))
		return NULL;
	return vfiodev_file_iommu_group(file);
}
EXPORT_SYMBOL_GPL(vfio_file_iommu_group);
