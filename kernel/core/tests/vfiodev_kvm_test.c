// SPDX-License-Identifier: GPL-2.0
/*
 * A test module that stands in for KVM's kvm-vfio device, which the test
 * guest cannot run (no KVM under TCG): it resolves vfio_file_is_valid(),
 * vfio_file_set_kvm(), vfio_file_enforced_coherent() and
 * vfio_file_iommu_group() by name with symbol_get(), as kvm-vfio does, and
 * calls them on a file descriptor of the calling process in the order of
 * KVM_DEV_VFIO_FILE_ADD and KVM_DEV_VFIO_FILE_DEL.
 *
 * debugfs: write a file descriptor number to vfiodev_kvm_test/probe, then
 * read the answer from the same open file:
 *   "valid=V coherent=C group=G\n"
 * with G the IOMMU group ID, or -1.  A file that is not valid is not
 * passed to the other functions (kvm-vfio refuses it with -EINVAL).
 *
 * The "VM" handed to vfio_file_set_kvm() is a token never dereferenced:
 * neither vfiodev nor its drivers use the VM.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vfio.h>

struct kvm;

static u8 vfiodev_kvm_token[64];
static struct dentry *vfiodev_kvm_dir;

struct vfiodev_kvm_probe {
	char answer[64];
	size_t len;
};

static int vfiodev_kvm_probe_file(struct file *file, char *buf, size_t len)
{
	struct iommu_group *(*iommu_group_fn)(struct file *file);
	bool (*coherent_fn)(struct file *file);
	void (*set_kvm_fn)(struct file *file, struct kvm *kvm);
	bool (*valid_fn)(struct file *file);
	struct iommu_group *group;
	int ret = 0, group_id = -1;
	bool valid, coherent = false;

	valid_fn = symbol_get(vfio_file_is_valid);
	coherent_fn = symbol_get(vfio_file_enforced_coherent);
	set_kvm_fn = symbol_get(vfio_file_set_kvm);
	iommu_group_fn = symbol_get(vfio_file_iommu_group);
	if (!valid_fn || !coherent_fn || !set_kvm_fn || !iommu_group_fn) {
		ret = -ENOENT;
		goto out_put;
	}

	valid = valid_fn(file);
	if (valid) {
		/* KVM_DEV_VFIO_FILE_ADD */
		set_kvm_fn(file, (struct kvm *)vfiodev_kvm_token);
		coherent = coherent_fn(file);
		group = iommu_group_fn(file);
		if (group)
			group_id = iommu_group_id(group);
		/* KVM_DEV_VFIO_FILE_DEL */
		set_kvm_fn(file, NULL);
	}
	scnprintf(buf, len, "valid=%d coherent=%d group=%d\n", valid, coherent,
		  group_id);

out_put:
	if (iommu_group_fn)
		symbol_put(vfio_file_iommu_group);
	if (set_kvm_fn)
		symbol_put(vfio_file_set_kvm);
	if (coherent_fn)
		symbol_put(vfio_file_enforced_coherent);
	if (valid_fn)
		symbol_put(vfio_file_is_valid);
	return ret;
}

static int vfiodev_kvm_open(struct inode *inode, struct file *filp)
{
	struct vfiodev_kvm_probe *probe;

	probe = kzalloc(sizeof(*probe), GFP_KERNEL);
	if (!probe)
		return -ENOMEM;
	filp->private_data = probe;
	return 0;
}

static int vfiodev_kvm_release(struct inode *inode, struct file *filp)
{
	kfree(filp->private_data);
	return 0;
}

static ssize_t vfiodev_kvm_write(struct file *filp, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct vfiodev_kvm_probe *probe = filp->private_data;
	struct file *file;
	int fd, ret;

	ret = kstrtoint_from_user(ubuf, count, 10, &fd);
	if (ret)
		return ret;
	file = fget(fd);
	if (!file)
		return -EBADF;
	ret = vfiodev_kvm_probe_file(file, probe->answer,
				     sizeof(probe->answer));
	fput(file);
	if (ret)
		return ret;
	probe->len = strlen(probe->answer);
	return count;
}

static ssize_t vfiodev_kvm_read(struct file *filp, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct vfiodev_kvm_probe *probe = filp->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, probe->answer,
				       probe->len);
}

static const struct file_operations vfiodev_kvm_fops = {
	.owner = THIS_MODULE,
	.open = vfiodev_kvm_open,
	.release = vfiodev_kvm_release,
	.read = vfiodev_kvm_read,
	.write = vfiodev_kvm_write,
};

static int __init vfiodev_kvm_init(void)
{
	vfiodev_kvm_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("probe", 0600, vfiodev_kvm_dir, NULL,
			    &vfiodev_kvm_fops);
	return 0;
}

static void __exit vfiodev_kvm_exit(void)
{
	debugfs_remove_recursive(vfiodev_kvm_dir);
}

module_init(vfiodev_kvm_init);
module_exit(vfiodev_kvm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfiodev test: KVM's kvm-vfio calls into VFIO files");
