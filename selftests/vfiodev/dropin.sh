#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfiodev as a drop-in for Debian's VFIO stack, in the drop-in guest
# (run-guest.sh --stack dkms): /dropin is a root on which `make install` and
# DKMS installed vfiodev over Debian's kernel modules (scripts/dropin-stage.sh,
# scripts/guest/dropin-setup), and /init loaded the modules with its
# modprobe.  Here the tools that find VFIO by name run unchanged, from
# Debian's packages: kmod's modprobe and modinfo, dpdk-devbind.py, DPDK's
# testpmd (EAL on the legacy group + container path), driverctl.
#
# In any other guest it reports one skipped result.  Devices are given back
# unbound, overrides cleared, whatever happens.
#
# Output: kselftest TAP.  Exit status 1 if a result failed.

R=${VFIODEV_DROPIN:-}
PCI=/sys/bus/pci/devices
OURS="iommufd vfio vfio_pci_core vfio_pci edu_vfio_pci"
NTESTS=10

. "$(dirname "$0")/qemu_lib.sh"
check() {	# check NAME CMD...: one result, CMD's output as diagnostics
	name=$1
	shift
	if "$@" > /tmp/dropin.out 2>&1; then
		pass "$name"
	else
		fail "$name"
		sed 's/^/# | /' /tmp/dropin.out
	fi
}

# The host's programs, found on the host's PATH (busybox's chroot would run
# its own applets of the same names).
in_root() { chroot "$R" /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
find_class() {	# the first device of PCI class $1
	for d in "$PCI"/*; do
		[ "$(cat "$d/class")" = "$1" ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}
edus() {
	for d in "$PCI"/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] &&
			echo "${d##*/}"
	done
}
release() {	# unbind $1 and clear its override
	[ -e "$PCI/$1/driver" ] && echo "$1" > "$PCI/$1/driver/unbind"
	echo > "$PCI/$1/driver_override"
}
kmsg_mark() { echo "vfiodev-selftest: dropin $1" > /dev/kmsg; }
kmsg_since() {	# the kernel log after mark $1
	dmesg | sed -n "/vfiodev-selftest: dropin $1\$/,\$p"
}

echo "TAP version 13"
if [ -z "$R" ] || [ ! -d "$R/lib/modules/$(uname -r)/updates/dkms" ]; then
	echo "1..1"
	skip "drop-in host" "not the drop-in guest (run-guest.sh --stack dkms)"
	exit 0
fi
echo "1..$NTESTS"
kver=$(uname -r)
nic=$(find_class 0x020000)
nvme=$(find_class 0x010802)
cleanup() {
	for b in $nic $nvme $(edus); do
		release "$b" 2>/dev/null
	done
	[ -d /sys/module/nvme ] && in_root modprobe -r nvme
	rm -f "$R/etc/modprobe.d/vfiodev-test-ids.conf"
}
trap cleanup EXIT

# 1. What modprobe loaded is ours, from updates/dkms, under upstream's names.
loaded_from_dkms() {
	for m in $OURS; do
		path=$(in_root modinfo -n "$m") || return 1
		echo "$m: $path, srcversion $(cat "/sys/module/$m/srcversion")"
		case $path in */updates/dkms/*) ;; *) return 1 ;; esac
		[ "$(in_root modinfo -F srcversion "$m")" = \
		  "$(cat "/sys/module/$m/srcversion")" ] || return 1
	done
	# What DPDK's EAL looks for before it uses VFIO at all.
	[ -d /sys/module/vfio ] && [ -d /sys/module/vfio_pci ] &&
		[ -d /sys/bus/pci/drivers/vfio-pci ]
}
check "modprobe vfio-pci loads vfiodev's modules from updates/dkms, not Debian's" \
	loaded_from_dkms

# 2. Nodes with upstream's modes (devtmpfs; there is no udev in the guest).
node_modes() {
	stat -c '%n %a' /dev/iommu /dev/vfio/vfio
	[ "$(stat -c %a /dev/iommu)" = 660 ] &&
		[ "$(stat -c %a /dev/vfio/vfio)" = 666 ]
}
check "/dev/iommu 0660 and /dev/vfio/vfio 0666, as upstream" node_modes

# 3. options vfio-pci ids=... in modprobe.d binds the devices at load.
ids_at_load() {
	for b in $(edus); do release "$b"; done
	in_root modprobe -r vfio-pci || return 1
	[ ! -d /sys/module/vfio_pci ] || return 1
	echo "options vfio-pci ids=1234:11e8" > "$R/etc/modprobe.d/vfiodev-test-ids.conf"
	kmsg_mark ids
	in_root modprobe vfio-pci || return 1
	kmsg_since ids | grep 'vfio_pci: add \[1234:11e8' || return 1
	for b in $(edus); do
		echo "$b: $(driver_of "$b")"
		[ "$(driver_of "$b")" = vfio-pci ] || return 1
	done
	# Without the option, the same load binds nothing.
	for b in $(edus); do release "$b"; done
	rm -f "$R/etc/modprobe.d/vfiodev-test-ids.conf"
	in_root modprobe -r vfio-pci && in_root modprobe vfio-pci || return 1
	for b in $(edus); do
		[ -z "$(driver_of "$b")" ] || return 1
	done
}
check "options vfio-pci ids=1234:11e8 binds every edu at load" ids_at_load

# 4-6. Debian's modules that build on upstream VFIO's internals.
type1_modprobe() {
	if out=$(in_root modprobe vfio_iommu_type1 2>&1); then
		echo "$out"
		return 1
	fi
	echo "$out"
	echo "$out" | grep -q 'vfiodev: vfio_iommu_type1 is not used' &&
		[ ! -d /sys/module/vfio_iommu_type1 ]
}
check "modprobe vfio_iommu_type1 is refused, with vfiodev's reason" type1_modprobe
type1_insmod() {
	kmsg_mark type1
	if in_root insmod "/lib/modules/$kver/kernel/drivers/vfio/vfio_iommu_type1.ko.xz"; then
		return 1
	fi
	kmsg_since type1 | grep 'vfio_iommu_type1: Unknown symbol' &&
		[ ! -d /sys/module/vfio_iommu_type1 ]
}
check "Debian's vfio_iommu_type1.ko by path: the kernel refuses it (unknown symbols)" \
	type1_insmod
kvmgt_refused() {
	last=$(in_root modprobe -n -v kvmgt | tail -n 1)
	echo "$last"
	case $last in 'install echo "vfiodev: kvmgt'*) ;; *) return 1 ;; esac
}
check "modprobe kvmgt ends in vfiodev's refusal, not an insmod" kvmgt_refused

# 7. dpdk-devbind.py, unchanged, binds the e1000e to vfio-pci.
devbind() {
	[ -n "$nic" ] || { echo "no e1000e"; return 1; }
	in_root dpdk-devbind.py -b vfio-pci "$nic" || return 1
	[ "$(driver_of "$nic")" = vfio-pci ] || return 1
	in_root dpdk-devbind.py --status-dev net > /tmp/devbind.out
	cat /tmp/devbind.out
	sed -n '/DPDK-compatible driver/,/^$/p' /tmp/devbind.out |
		grep -q "$nic.*drv=vfio-pci"
}
check "dpdk-devbind.py -b vfio-pci binds the e1000e and --status lists it" devbind

# 8. DPDK's testpmd drives it: EAL's VFIO (group, container, type1 maps),
# the e1000 PMD's register access and queue set-up; pins released after.
testpmd() {
	[ "$(driver_of "$nic")" = vfio-pci ] || { echo "e1000e not bound"; return 1; }
	before=$(pinned) || { echo "no pinned-page count"; return 1; }
	printf 'show port info 0\nstart tx_first\nstop\nport stop 0\nquit\n' |
		in_root dpdk-testpmd -l 0-1 -n 1 --no-huge -m 256 --no-telemetry \
			--file-prefix vfiodev -a "$nic" -- -i --total-num-mbufs=2048 \
			> /tmp/testpmd.out 2>&1
	rc=$?
	cat /tmp/testpmd.out
	echo "exit status $rc, pinned pages $before before, $(pinned) after"
	[ $rc = 0 ] || return 1
	grep -q 'EAL: Using IOMMU type 1 (Type 1)' /tmp/testpmd.out || return 1
	grep -q "Infos for port 0" /tmp/testpmd.out || return 1
	grep -q "MAC address: " /tmp/testpmd.out || return 1
	# tx_first sent a burst: the NIC fetched descriptors and packets from
	# user memory through the IOMMU mappings EAL made.
	grep -Eq 'TX-packets: [1-9]' /tmp/testpmd.out || return 1
	[ "$(pinned)" = "$before" ]
}
check "dpdk-testpmd starts the e1000e through vfio-pci and quits with every pin released" \
	testpmd

# 9-10. driverctl, unchanged (--nosave: no persistent override), takes the
# nvme from Debian's nvme driver, as on a host, and gives it back.
dctl_set() {
	[ -n "$nvme" ] || { echo "no nvme"; return 1; }
	in_root modprobe nvme || return 1
	[ "$(driver_of "$nvme")" = nvme ] || release "$nvme"
	echo "$nvme" > /sys/bus/pci/drivers_probe
	[ "$(driver_of "$nvme")" = nvme ] || { echo "nvme not on its driver"; return 1; }
	in_root driverctl --nosave set-override "$nvme" vfio-pci || return 1
	[ "$(driver_of "$nvme")" = vfio-pci ] || return 1
	in_root driverctl list-overrides > /tmp/driverctl.out
	cat /tmp/driverctl.out
	grep -q "$nvme vfio-pci" /tmp/driverctl.out
}
check "driverctl set-override <nvme> vfio-pci binds it" dctl_set
dctl_unset() {
	in_root driverctl --nosave unset-override "$nvme" || return 1
	ovr=$(cat "$PCI/$nvme/driver_override")
	echo "driver '$(driver_of "$nvme")', override '$ovr'"
	[ "$(driver_of "$nvme")" = nvme ] && { [ -z "$ovr" ] || [ "$ovr" = "(null)" ]; }
}
check "driverctl unset-override gives it back" dctl_unset

[ $failed = 0 ]
