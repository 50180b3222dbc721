# SPDX-License-Identifier: GPL-2.0
#
# vfiodev top-level Makefile.
#
#   make demo     boot the guest (snoop-control on, then off) and run the
#                 vfiodev command and the edu and NVMe example drivers on
#                 libvfiodev, on the path its policy picks and on each
#                 forced path
#   make check    every test, in the guest, on both IOMMU configurations,
#                 on Debian's stock kernel and on the debug kernel
#   make check-stock / check-debug   the same on one kernel only
#   make bench    ours against upstream's modules in one boot of the
#                 benchmark kernel (the debug kernel without detectors):
#                 build/bench/table.md, results.csv, count.png, bulk.png
#                 (ROUNDS=N, QUICK=1, ONLY=bulk+count+pgsize+latency+open+nvme)
#   make fuzz N=1000000   the ioctl fuzzer (selftests/vfiodev/fuzz.c) for
#                 N calls per test in the debug guest, snoop-control on and
#                 off; totals of calls, faults injected, kcov PCs, reports
#                 (SEED=1: the first seed)
#   make shell    boot a guest to a shell (SNOOP=on|off, FLAVOUR=stock|debug)
#   make          modules (for the stock kernel), selftests and examples
#   make install / make uninstall   what a host gets (scripts/install.sh:
#                 DKMS source and build, modprobe.d, udev rules; PREFIX,
#                 DESTDIR)
#
# Every target installs what it needs first (scripts/deps.sh: apt as root,
# the guest kernel unpacked under $(CACHE)); the debug kernel is built once
# per machine (scripts/debug-kernel.sh, about half an hour) and cached there.
# KVER=6.12.N+deb12-amd64 picks another Debian 6.12 kernel than the newest.

CACHE ?= $(HOME)/.cache/vfiodev
KVER ?=
SNOOP ?= on
FLAVOUR ?= stock
B := $(CURDIR)/build
PREFIX ?= /usr/local
DESTDIR ?=

# The first rule below is env.mk's, which is not what a plain `make` means.
.DEFAULT_GOAL := all

# install and uninstall need no guest kernel, clean nothing at all.
ifeq ($(filter-out clean install uninstall,$(or $(MAKECMDGOALS),all)),)
else
include $(B)/env.mk
ifneq ($(filter check check-debug check-stock debug-kernel fuzz debug %-debug,$(MAKECMDGOALS) $(FLAVOUR)),)
include $(B)/debug-env.mk
endif
ifneq ($(filter bench bench-kernel %-bench,$(MAKECMDGOALS)),)
include $(B)/bench-env.mk
endif
endif

# deps.sh is cheap when everything is in place; it rewrites env.mk only
# when something changed, so make restarts at most once.
$(B)/env.mk: FORCE
	@mkdir -p $(B)
	@scripts/deps.sh "$(CACHE)" "$(KVER)" $@ >/dev/null

$(B)/debug-env.mk: $(B)/env.mk kernel/configs/debug.config scripts/debug-kernel.sh
	@scripts/debug-kernel.sh "$(CACHE)" $(CURDIR)/kernel/configs/debug.config $@ >/dev/null

# The benchmark kernel: the debug kernel's fragment with bench.config over it.
$(B)/bench-env.mk: $(B)/env.mk kernel/configs/debug.config kernel/configs/bench.config \
		scripts/debug-kernel.sh
	@scripts/debug-kernel.sh --prefix BK "$(CACHE)" \
		$(CURDIR)/kernel/configs/debug.config,$(CURDIR)/kernel/configs/bench.config $@ >/dev/null

.PHONY: all modules modules-debug modules-bench bench bench-kernel initramfs-bench libvfiodev libvfiodev-stage selftests examples initramfs initramfs-debug \
	check check-debug check-stock fuzz demo shell reference uapi-check debug-kernel \
	install uninstall clean FORCE
all: modules selftests examples

# Our modules are built out of a copy of kernel/ per guest kernel: kbuild
# writes its objects next to the sources, and two kernels cannot share them.
# The test modules (KUnit, the KVM stand-in) come along for the guest.
define kmod_build
	@mkdir -p $(B)/$(1)
	@rsync -a --delete --exclude '*.o' --exclude '*.ko' --exclude '.*.cmd' \
		--exclude '*.mod*' --exclude '.*.d' kernel/ $(B)/$(1)/kmod/
	$(MAKE) -C $(2) M=$(B)/$(1)/kmod W=1 VFIODEV_UAPI=$(CURDIR)/uapi \
		VFIODEV_TESTS=y $(3) modules
endef

modules:
	$(call kmod_build,stock,$(KDIR),)

modules-debug: $(B)/debug-env.mk
	$(call kmod_build,debug,$(DKDIR),)

debug-kernel: $(B)/debug-env.mk

modules-bench: $(B)/bench-env.mk
	$(call kmod_build,bench,$(BKDIR),)

bench-kernel: $(B)/bench-env.mk

# The shared uAPI headers are upstream 6.12's own, taken from the headers
# package and stripped of kernel-only annotations like headers_install does.
UAPI := $(B)/uapi
UAPI_HDRS := $(UAPI)/linux/vfio.h $(UAPI)/linux/iommufd.h
$(UAPI)/linux/%.h: $(KCOMMON)/include/uapi/linux/%.h
	@mkdir -p $(@D)
	sed -E 's/[[:space:]]__user\b//g' $< > $@

uapi-check: $(UAPI_HDRS)
	$(CC) -fsyntax-only -Wall -Werror -I$(UAPI) -Iuapi uapi/abi_check.c

LIBVFIODEV_MAKE = $(MAKE) -C libvfiodev OUTPUT=$(B)/libvfiodev UAPI_INC=$(UAPI) \
	VFIODEV_UAPI=$(CURDIR)/uapi

libvfiodev: $(UAPI_HDRS)
	$(LIBVFIODEV_MAKE)

selftests: $(UAPI_HDRS) libvfiodev
	$(MAKE) -C selftests/vfiodev OUTPUT=$(B)/tests UAPI_INC=$(UAPI) \
		VFIODEV_UAPI=$(CURDIR)/uapi KSFT_INC=$(KSFT_INC) \
		LIBVFIODEV=$(B)/libvfiodev LIBVFIODEV_INC=$(CURDIR)/libvfiodev/include
	$(MAKE) libvfiodev-stage

# A program built the way a user builds one: pkg-config against the staged
# `make install`, linked to libvfiodev.so.1 (the guest gets the library and
# the C library it needs).
STAGE := $(B)/stage
PKGCONF = PKG_CONFIG_PATH=$(STAGE)/usr/lib/pkgconfig pkg-config

libvfiodev-stage: libvfiodev
	rm -rf $(STAGE)
	$(LIBVFIODEV_MAKE) install PREFIX=$(STAGE)/usr > /dev/null
	$(CC) -O2 -Wall -Wextra -Werror -o $(B)/tests/libvfiodev_dyn \
		selftests/vfiodev/libvfiodev_dyn.c $$($(PKGCONF) --cflags --libs libvfiodev)

examples: $(UAPI_HDRS) libvfiodev
	$(MAKE) -C examples OUTPUT=$(B)/bin UAPI_INC=$(UAPI) \
		LIBVFIODEV=$(B)/libvfiodev LIBVFIODEV_INC=$(CURDIR)/libvfiodev/include
	ln -sfn ../libvfiodev/bin/vfiodev $(B)/bin/vfiodev
	$(MAKE) -C bench OUTPUT=$(B)/bin UAPI_INC=$(UAPI)

GUEST_FILES := scripts/mkinitramfs.sh scripts/guest/init scripts/guest/demo \
	scripts/guest/dropin-setup scripts/guest/bench

initramfs: modules selftests examples $(GUEST_FILES)
	scripts/mkinitramfs.sh $(B)/stock/initramfs.cpio.gz $(KMODDIR) \
		$(B)/stock/kmod $(B)/tests $(B)/bin $(STAGE)

initramfs-debug: modules-debug selftests examples $(GUEST_FILES)
	scripts/mkinitramfs.sh $(B)/debug/initramfs.cpio.gz $(DKMODDIR) \
		$(B)/debug/kmod $(B)/tests $(B)/bin $(STAGE)

initramfs-bench: modules-bench selftests examples $(GUEST_FILES)
	scripts/mkinitramfs.sh $(B)/bench/initramfs.cpio.gz $(BKMODDIR) \
		$(B)/bench/kmod $(B)/tests $(B)/bin $(STAGE)

bench: initramfs-bench
	@B=$(B) BKIMAGE=$(BKIMAGE) ROUNDS=$(ROUNDS) QUICK=$(QUICK) ONLY=$(ONLY) scripts/bench.sh

CHECK_ENV = B=$(B) CACHE=$(CACHE) KDIR=$(KDIR) KVER=$(KVER) KIMAGE=$(KIMAGE) KMODDIR=$(KMODDIR) \
	DKDIR=$(DKDIR) DKREL=$(DKREL) DKIMAGE=$(DKIMAGE) \
	DKBUILD_SECONDS=$(DKBUILD_SECONDS) CHECKPATCH=$(CHECKPATCH) MAKE="$(MAKE)"

check: $(B)/debug-env.mk
	@$(CHECK_ENV) scripts/check.sh stock debug

check-debug: $(B)/debug-env.mk
	@$(CHECK_ENV) scripts/check.sh debug

check-stock: $(B)/debug-env.mk
	@$(CHECK_ENV) scripts/check.sh stock

N ?= 1000000
SEED ?= 1
fuzz: initramfs-debug
	@scripts/fuzz.sh $(B) $(DKIMAGE) $(N) $(SEED)

IMAGE_stock = $(KIMAGE)
IMAGE_debug = $(DKIMAGE)
INITRD_stock = initramfs
INITRD_debug = initramfs-debug

demo: initramfs
	@scripts/demo.sh $(B) $(KIMAGE) $(B)/stock/initramfs.cpio.gz

shell: $(INITRD_$(FLAVOUR))
	scripts/run-guest.sh --mode shell --snoop $(SNOOP) --flavour $(FLAVOUR) \
		--scratch $(B)/nvme.img $(IMAGE_$(FLAVOUR)) $(B)/$(FLAVOUR)/initramfs.cpio.gz

# The suites against the guest kernel's own vfio/iommufd modules: what
# upstream answers.  Not part of check: it is a reference, not a verdict.
# QEMU 10 runs on the debug kernel too here: that is where upstream has
# an iommufd.
reference: $(INITRD_$(FLAVOUR))
	scripts/run-guest.sh --mode check --snoop $(SNOOP) --flavour $(FLAVOUR) \
		--stack upstream --env VFIODEV_QEMU_ON_DEBUG=1 \
		--env VFIODEV_CACHE=$(CACHE) --log $(B)/guest-$(FLAVOUR)-snoop-$(SNOOP)-upstream.log \
		--scratch $(B)/nvme.img $(IMAGE_$(FLAVOUR)) $(B)/$(FLAVOUR)/initramfs.cpio.gz
	scripts/verdict.py $(FLAVOUR)-snoop-$(SNOOP)-upstream \
		$(B)/guest-$(FLAVOUR)-snoop-$(SNOOP)-upstream.log /dev/null || true

install uninstall:
	@DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" scripts/install.sh $@

clean:
	rm -rf $(B)
