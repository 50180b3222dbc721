#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# libvfiodev's programs in the guest: the vfiodev command (list, info,
# bind, unbind, --json, --help, exit codes), the example drivers on every
# path (edu polled and by MSI, nvme polled and by MSI-X with its data
# round trip, info), and a program linked to libvfiodev.so.1 that was built
# with pkg-config alone.  The automatic policy must take the new path with
# snoop-control on and the legacy one with it off; on upstream's modules,
# the stock kernel has the legacy path only.
. /tests/qemu_lib.sh

T=/tmp/libvfiodev_tools
mkdir -p $T
ecap=$(cat /sys/class/iommu/dmar0/intel-iommu/ecap 2>/dev/null)
if [ $(( 0x${ecap:-0} & 0x80 )) -ne 0 ]; then coherent=1; else coherent=0; fi
cdev_path=0
if [ -e /dev/iommu ]; then cdev_path=1; fi
if [ "$VFIODEV_STACK" = upstream ]; then
	# Upstream publishes no coherency before opening: learned on attach.
	if [ $cdev_path = 1 ] && [ $coherent = 1 ]; then auto=cdev; else auto=legacy; fi
	sysfs_says=0
else
	if [ $coherent = 1 ]; then auto=cdev; else auto=legacy; fi
	sysfs_says=1
	for m in iommufd vfio vfio-pci-core vfio-pci; do
		grep -q "^$(echo $m | tr - _) " /proc/modules || insmod "$VFIODEV_MODDIR/$m.ko"
	done
fi
paths="legacy"
[ $cdev_path = 1 ] && paths="legacy cdev"
diag "snoop-control coherent=$coherent, the new path exists=$cdev_path: auto should take $auto"

# 31 results, and 6 for each path the drivers run on (auto and each path).
npaths=$(( $(echo $paths | wc -w) + 1 ))
plan=$((31 + 6 * npaths))
echo "1..$plan"

# run NAME WANT_RC CMD...: runs CMD, output in $T/out, passes if the exit
# code is WANT_RC.
run() {
	local name=$1 want=$2 rc
	shift 2
	"$@" > $T/out 2>&1
	rc=$?
	if [ $rc = "$want" ]; then
		pass "$name"
	else
		fail "$name (exit $rc, wanted $want)"
		diag_file $T/out
	fi
	return $rc
}

# has NAME PATTERN: $T/out holds a line matching PATTERN.
has() {
	if grep -q -- "$2" $T/out; then
		pass "$1"
	else
		fail "$1: no line with '$2'"
		diag_file $T/out
	fi
}

set -- $(find_edus)
edu=$1
nvme=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/class)" = 0x010802 ] && { nvme=${d##*/}; break; }
done
diag "edu $edu, nvme $nvme"
unbind "$edu"
unbind "$nvme"

# --- the command ---------------------------------------------------------
run "vfiodev --help" 0 vfiodev --help
has "vfiodev --help shows the usage" "usage: vfiodev"
run "vfiodev --version" 0 vfiodev --version
has "vfiodev --version names 1.0" "^vfiodev 1\.0$"
run "vfiodev without a command is a usage error" 2 vfiodev
run "vfiodev with an unknown command is a usage error" 2 vfiodev frobnicate
run "vfiodev info without a device is a usage error" 2 vfiodev info
run "VFIODEV_PATH=sideways is a usage error" 2 env VFIODEV_PATH=sideways vfiodev list
run "vfiodev bind to a driver that is not loaded fails" 1 vfiodev bind "$edu" no-such-driver
has "... and says so" "no-such-driver is not loaded\|no such PCI driver"
run "vfiodev info of an unbound device fails" 1 vfiodev info "$edu"
run "vfiodev info of a device that does not exist fails" 1 vfiodev info 0000:00:1e.7
run "vfiodev bind $edu vfio-pci" 0 vfiodev bind "$edu" vfio-pci
has "... to vfio-pci" "driver vfio-pci"
[ "$(driver_of "$edu")" = vfio-pci ] && pass "sysfs: $edu has vfio-pci" || fail "sysfs: $edu has vfio-pci"
run "vfiodev list" 0 vfiodev list
# What list can say before opening: the path, or that it is learned on attach.
listed=$auto
[ $sysfs_says = 0 ] && [ $cdev_path = 1 ] && listed="on attach"
has "vfiodev list: $edu on vfio-pci, auto: $listed" "^$edu  *1234:11e8 *vfio-pci .* $listed "
run "vfiodev --json list" 0 vfiodev --json list
has "vfiodev --json list: $edu with auto_path" "\"bdf\": \"$edu\".*\"auto_path\": $( [ $sysfs_says = 1 ] && echo "\"$auto\"" || { [ $cdev_path = 1 ] && echo null || echo '"legacy"'; } )"
run "vfiodev info $edu" 0 vfiodev info "$edu"
has "vfiodev info: the $auto path" "^path  *$auto ("
run "VFIODEV_PATH=legacy vfiodev --json info $edu" 0 env VFIODEV_PATH=legacy vfiodev --json info "$edu"
has "... on the legacy path, forced by the environment" "\"path\": \"legacy\", \"reason\": \"forced by VFIODEV_PATH"

# --- the example drivers ------------------------------------------------
for p in auto $paths; do
	want=$p
	[ $p = auto ] && want=$auto
	run "vfiodev-edu --path $p: polled" 0 vfiodev-edu --path $p --rounds 2 "$edu"
	has "... on the $want path" "opened on the $want path"
	run "vfiodev-edu --path $p --irq: by MSI" 0 vfiodev-edu --path $p --irq --rounds 2 "$edu"
done
run "vfiodev-info $edu" 0 vfiodev-info "$edu"
has "vfiodev-info: the configuration header" "configuration header: vendor 1234 device 11e8"

if [ -n "$nvme" ] && vfiodev bind "$nvme" vfio-pci > $T/out 2>&1; then
	for p in auto $paths; do
		run "vfiodev-nvme --path $p: polled, data round trip" 0 vfiodev-nvme --path $p "$nvme"
		has "... verified" "data verified"
		run "vfiodev-nvme --path $p --irq: completions by MSI-X" 0 vfiodev-nvme --path $p --irq "$nvme"
	done
	vfiodev unbind "$nvme" > /dev/null 2>&1
else
	fail "the nvme can be bound to vfio-pci"
fi

# --- a program built with pkg-config, linked to libvfiodev.so.1 ----------
run "libvfiodev_dyn (pkg-config, shared library) drives $edu" 0 /tests/libvfiodev_dyn "$edu"
has "... on the $auto path" "libvfiodev_dyn: $auto path"

run "vfiodev unbind $edu" 0 vfiodev unbind "$edu"
[ -z "$(driver_of "$edu")" ] && pass "sysfs: $edu has no driver" || fail "sysfs: $edu has no driver"
run "vfiodev list --all lists the unbound $edu" 0 vfiodev list --all
has "... without a driver" "^$edu  *1234:11e8 *- "

echo "# $num results, $failed failed"
[ "$num" = $plan ] || { fail "the plan had $plan results, there were $num"; }
[ $failed = 0 ]
