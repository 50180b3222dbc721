// SPDX-License-Identifier: GPL-2.0
/*
 * A program built with nothing but `pkg-config --cflags --libs libvfiodev`
 * against the installed library (the Makefile stages `make install`), run
 * in the guest linked to libvfiodev.so.1: it checks the version it runs
 * with, that the shared library is the one mapped, and drives an edu
 * through whichever path the automatic policy takes.
 *
 *   libvfiodev_dyn <BDF>   exit 0 on success, 1 on failure
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vfiodev.h>

static int mapped(const char *lib)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, lib))
			found = 1;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	struct vfiodev_device *dev;
	enum vfiodev_reason reason;
	enum vfiodev_path path;
	struct vfiodev_ctx *ctx;
	struct vfiodev_as *as;
	uint64_t iova;
	uint32_t id = 0;
	void *mem;
	int rc;

	if (argc != 2)
		return 2;
	if (!vfiodev_check_version(VFIODEV_VERSION_MAJOR, VFIODEV_VERSION_MINOR)) {
		printf("libvfiodev_dyn: runs with libvfiodev %d.%d, built for %d.%d\n",
		       vfiodev_version_major(), vfiodev_version_minor(),
		       VFIODEV_VERSION_MAJOR, VFIODEV_VERSION_MINOR);
		return 1;
	}
	if (!mapped("libvfiodev.so.1")) {
		printf("libvfiodev_dyn: libvfiodev.so.1 is not mapped\n");
		return 1;
	}
	rc = vfiodev_ctx_create(0, &ctx);
	if (!rc)
		rc = vfiodev_as_create(ctx, &as);
	if (!rc)
		rc = vfiodev_device_open(as, argv[1], &dev);
	if (rc) {
		printf("libvfiodev_dyn: opening %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	rc = vfiodev_region_read(dev, VFIODEV_PCI_BAR0, 0, &id, 4);
	if (!rc)
		rc = vfiodev_mem_alloc(4096, 0, &mem, NULL);
	if (!rc)
		rc = vfiodev_dma_map(as, mem, 2u << 20, &iova, 0);
	if (!rc)
		rc = vfiodev_dma_unmap(as, iova, 2u << 20, 0, NULL);
	path = vfiodev_device_path(dev, &reason);
	printf("libvfiodev_dyn: %s path (%s), edu id 0x%08x, map/unmap %s\n",
	       vfiodev_path_str(path), vfiodev_reason_str(reason), id,
	       rc ? strerror(-rc) : "ok");
	vfiodev_device_close(dev);
	vfiodev_as_destroy(as);
	vfiodev_ctx_destroy(ctx);
	return rc || id != 0x010000edU;
}
