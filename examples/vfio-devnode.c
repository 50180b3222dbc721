// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-devnode: find and open the VFIO device cdev of a PCI function the way
 * QEMU does, and show what the kernel answers before the device is bound to
 * an iommufd context.
 *
 *   vfio-devnode 0000:00:03.0
 *
 * Steps: list /sys/bus/pci/devices/<BDF>/vfio-dev/, read vfioN/dev
 * ("major:minor"), open /dev/vfio/devices/vfioN, fstat() it and check that it
 * is that very char device, then ask VFIO_DEVICE_GET_INFO.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/vfio.h>

static int find_node(const char *bdf, char *name, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, "vfio", 4) &&
		    strlen(de->d_name) < len) {
			strcpy(name, de->d_name);
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return -ENOENT;
}

int main(int argc, char **argv)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char name[64], path[PATH_MAX], buf[32];
	unsigned int maj, min;
	struct stat st;
	FILE *f;
	int fd, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <PCI address>\n", argv[0]);
		return 2;
	}
	ret = find_node(argv[1], name, sizeof(name));
	if (ret) {
		fprintf(stderr, "%s has no vfio-dev device: %s\n", argv[1],
			strerror(-ret));
		return 1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev/%s/dev",
		 argv[1], name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f) ||
	    sscanf(buf, "%u:%u", &maj, &min) != 2) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	fclose(f);

	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(maj, min)) {
		fprintf(stderr, "%s is not char device %u:%u\n", path, maj, min);
		return 1;
	}
	printf("%s: opened, char device %u:%u as sysfs says\n", path, maj, min);

	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info))
		printf("VFIO_DEVICE_GET_INFO before VFIO_DEVICE_BIND_IOMMUFD: %s (as upstream)\n",
		       strerror(errno));
	else
		printf("VFIO_DEVICE_GET_INFO: %u regions, %u irqs\n",
		       info.num_regions, info.num_irqs);
	close(fd);
	return 0;
}
