# SPDX-License-Identifier: GPL-2.0
#
# vfiodev top-level Makefile.
#
#   make demo     boot the guest and drive an edu device through
#                 /dev/vfio/devices/vfioN
#   make check    every test, in the guest, on both IOMMU configurations
#   make shell    boot the same guest to a shell (SNOOP=on|off)
#   make          modules, selftests and examples only
#
# Every target installs what it needs first (scripts/deps.sh: apt as root,
# the guest kernel unpacked under $(CACHE)).  KVER=6.12.N+deb12-amd64 picks
# another Debian 6.12 kernel than the newest one apt offers.

CACHE ?= $(HOME)/.cache/vfiodev
KVER ?=
SNOOP ?= on
B := $(CURDIR)/build

ifeq ($(filter clean,$(MAKECMDGOALS)),)
include $(B)/env.mk
endif

# deps.sh is cheap when everything is in place; it rewrites env.mk only
# when something changed, so make restarts at most once.
$(B)/env.mk: FORCE
	@mkdir -p $(B)
	@scripts/deps.sh "$(CACHE)" "$(KVER)" $@ >/dev/null

.PHONY: all modules selftests examples initramfs check demo shell clean FORCE
all: modules selftests examples

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kernel W=1 modules

# The shared uAPI headers are upstream 6.12's own, taken from the headers
# package and stripped of kernel-only annotations like headers_install does.
UAPI := $(B)/uapi
UAPI_HDRS := $(UAPI)/linux/vfio.h $(UAPI)/linux/iommufd.h
$(UAPI)/linux/%.h: $(KCOMMON)/include/uapi/linux/%.h
	@mkdir -p $(@D)
	sed -E 's/[[:space:]]__user\b//g' $< > $@

selftests: $(UAPI_HDRS)
	$(MAKE) -C selftests/vfiodev OUTPUT=$(B)/tests UAPI_INC=$(UAPI) KSFT_INC=$(KSFT_INC)

examples: $(UAPI_HDRS)
	$(MAKE) -C examples OUTPUT=$(B)/bin UAPI_INC=$(UAPI)

$(B)/initramfs.cpio.gz: modules selftests examples scripts/mkinitramfs.sh scripts/guest/init scripts/guest/demo
	scripts/mkinitramfs.sh $@ $(KMODDIR) $(CURDIR)/kernel $(B)/tests $(B)/bin

initramfs: $(B)/initramfs.cpio.gz

check:
	@B=$(B) KDIR=$(KDIR) KVER=$(KVER) KIMAGE=$(KIMAGE) CHECKPATCH=$(CHECKPATCH) \
		MAKE="$(MAKE)" scripts/check.sh

demo: initramfs
	scripts/run-guest.sh --mode demo --snoop $(SNOOP) --timeout 300 $(KIMAGE) $(B)/initramfs.cpio.gz

shell: initramfs
	scripts/run-guest.sh --mode shell --snoop $(SNOOP) $(KIMAGE) $(B)/initramfs.cpio.gz

clean:
	rm -rf $(B)
	find kernel \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.symvers' -o -name 'modules.order' \
		-o -name '.module-common.o' \) -delete
