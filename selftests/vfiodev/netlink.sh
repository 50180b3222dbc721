#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfiodev-nl in the guest, through the vfiodev command (libvfiodev over
# libnl-3): from no vfio module loaded to a working /dev/vfio/devices/vfioN
# in one request; the most specific driver wins whichever loads first;
# forced and wrong driver names; refusals that change nothing; the dump;
# bind and unbind events; UNBIND restoring the previous driver.  The
# family's messages are checked against the YNL spec with the kernel
# tree's own YNL client (tools/net/ynl/cli.py from linux-source-6.12, run
# from the host's root).  Ours only: upstream has no such family.
. /tests/qemu_lib.sh

T=/tmp/netlink
HOST=/tmp/netlink/host
NINEP_MODDIR=/lib/modules/9p
mounted=
mkdir -p $T
kver=$(uname -r)
tree=/lib/modules/$kver

if [ "$VFIODEV_STACK" = upstream ]; then
	echo "1..0 # SKIP upstream has no vfiodev netlink family"
	exit 0
fi
echo "1..37"

run() {	# run NAME WANT_RC CMD...
	local name=$1 want=$2 rc
	shift 2
	"$@" > $T/out 2>&1
	rc=$?
	if [ $rc = "$want" ]; then pass "$name"; else
		fail "$name (exit $rc, wanted $want)"; diag_file $T/out; fi
}
has() {	# has NAME PATTERN [FILE]
	if grep -q -- "$2" "${3:-$T/out}"; then pass "$1"; else
		fail "$1: no line with '$2'"; diag_file "${3:-$T/out}"; fi
}
check() {	# check NAME TEST...
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
loaded() { grep -q "^$1 " /proc/modules; }
vfio_loaded() { grep -qE '^(iommufd|vfio|vfio_pci_core|vfio_pci|edu_vfio_pci|vfiodev_nl|test_vendor_vfio_pci) ' /proc/modules; }
release_all() {
	for d in /sys/bus/pci/devices/*; do
		case $(driver_of ${d##*/}) in
		vfio-pci|edu_vfio_pci|test_vendor_vfio_pci) unbind ${d##*/}; echo > $d/driver_override ;;
		esac
	done
}
unload_all() {
	release_all
	for m in test_vendor_vfio_pci edu_vfio_pci vfio_pci vfiodev_nl vfio_pci_core vfio iommufd; do
		loaded $m && rmmod $m
	done
}

set -- $(find_edus)
edu=$1 edu2=$2
nvme= eth=
for d in /sys/bus/pci/devices/*; do
	case $(cat $d/class) in
	0x010802) nvme=${d##*/} ;;
	0x020000) eth=${d##*/} ;;
	esac
done
port=
for d in /sys/bus/pci/devices/*; do
	[ "$(driver_of ${d##*/})" = pcieport ] && { port=${d##*/}; break; }
done
diag "edu $edu $edu2, nvme $nvme, e1000e $eth, root port $port"

# A module tree for modprobe, as a host has: our modules and kmod's depmod
# indexes, so that aliases are real.  The kernel's module requests go to
# the host's kmod modprobe (busybox's knows no wildcard aliases), run in
# the host's root with the tree on its scratch /tmp.
if ! hostroot_mount; then
	echo "not ok 1 the host's root for kmod's modprobe"
	exit 1
fi
if ! modprobe_from_host $T 2> $T/depmod; then
	echo "not ok 1 kmod's depmod of our module tree"
	diag_file $T/depmod
	exit 1
fi
diag "vfio_pci: aliases in the tree: $(grep vfio_pci: $HOST$mods/lib/modules/$kver/modules.alias | tr '\n' ' ')"
unload_all
check "no vfio module is loaded" sh -c '! grep -qE "^(iommufd|vfio|vfio_pci_core|vfio_pci|edu_vfio_pci|vfiodev_nl) " /proc/modules'

# --- one request from nothing ------------------------------------------------
run "vfiodev bind $edu from no vfio module" 0 vfiodev bind "$edu"
has "... chooses edu_vfio_pci, the most specific" "driver edu_vfio_pci"
diag "modprobe was asked for: $(tr '\n' ' ' < $T/modprobe.log)"
cdev=$(ls /sys/bus/pci/devices/$edu/vfio-dev/ 2>/dev/null)
check "... and the device has /dev/vfio/devices/$cdev" test -c "/dev/vfio/devices/$cdev"
check "... every module was loaded on demand (vfiodev_nl, edu_vfio_pci, vfio_pci_core, vfio, iommufd)" \
	sh -c 'for m in vfiodev_nl edu_vfio_pci vfio_pci_core vfio iommufd; do grep -q "^$m " /proc/modules || exit 1; done'
run "vfiodev-edu drives it through the cdev" 0 vfiodev-edu --path cdev --rounds 1 "$edu"
run "vfiodev bind $nvme" 0 vfiodev bind "$nvme"
has "... chooses vfio-pci" "driver vfio-pci"
run "vfiodev bind $eth" 0 vfiodev bind "$eth"
has "... chooses vfio-pci" "driver vfio-pci"
run "vfiodev bind --driver vfio-pci $edu2 (forced)" 0 vfiodev bind --driver vfio-pci "$edu2"
has "... vfio-pci" "driver vfio-pci"

# --- refusals that change nothing ---------------------------------------------
state_before=$(dev_state "$edu2")
run "a driver that is not a vfio driver is refused" 1 vfiodev bind --allow-unbind --driver pcieport "$edu2"
has "... with the kernel's reason" "not a vfio driver"
run "a driver that does not exist is refused" 1 vfiodev bind --allow-unbind --driver no_such_driver "$edu2"
has "... with the kernel's reason" "no such PCI driver"
run "a device that does not exist is refused" 1 vfiodev bind 0000:00:1e.7
run "a device with another driver, without allow-unbind, is refused" 1 vfiodev bind "$port"
has "... with the kernel's reason" "has driver pcieport"
check "... and nothing changed" test "$(dev_state "$edu2")" = "$state_before" -a "$(driver_of "$port")" = pcieport

# A group that cannot be made viable: a device beside one with a DMA driver
# (the ICH9 functions at 00:1f.x, where the debug kernel's built-in ahci has
# 00:1f.2; the stock kernel loads no driver for them).
mate= blocked=
for d in /sys/bus/pci/devices/0000:00:1f.*; do
	case $(driver_of ${d##*/}) in
	"") [ -z "$mate" ] && mate=${d##*/} ;;
	pcieport|vfio-pci|edu_vfio_pci) ;;
	*) blocked=${d##*/} ;;
	esac
done
if [ -n "$blocked" ] && [ -n "$mate" ]; then
	run "a device whose group has $blocked on $(driver_of $blocked) is refused" 1 vfiodev bind "$mate"
	has "... not viable, naming an ICH9 function, and nothing changed" "not viable: 0000:00:1f" &&
		[ -z "$(driver_of $mate)" ]
else
	skip "a group that cannot be made viable is refused" "no ICH9 function has a driver here"
	skip "... not viable" "no ICH9 function has a driver here"
fi

# --- the dump lists exactly the bound devices -----------------------------------
vfiodev --json list > $T/list 2>&1
n=$(grep -c '"bdf"' $T/list)
check "the dump lists exactly the 4 devices vfio drivers have ($n)" test "$n" = 4
has "... among them $edu on edu_vfio_pci" "\"bdf\": \"$edu\".*\"driver\": \"edu_vfio_pci\"" $T/list

# --- UNBIND, restoring what was there ----------------------------------------
run "vfiodev bind --allow-unbind $edu2: from vfio-pci to the most specific" 0 vfiodev bind --allow-unbind "$edu2"
has "... edu_vfio_pci, was vfio-pci" "driver edu_vfio_pci.*was vfio-pci"
run "vfiodev unbind --restore $edu2" 0 vfiodev unbind --restore "$edu2"
check "... gives it back to vfio-pci" test "$(driver_of "$edu2")" = vfio-pci

# --- events -------------------------------------------------------------------
vfiodev monitor --count 2 --timeout 120 > $T/events 2> $T/monitor.err &
mpid=$!
i=0
while ! grep -q monitoring $T/monitor.err && [ $i -lt 100 ]; do usleep 100000; i=$((i + 1)); done
vfiodev unbind "$nvme" > /dev/null 2>&1
vfiodev bind "$nvme" > /dev/null 2>&1
wait $mpid
check "vfiodev monitor saw 2 events" test $? = 0
has "... del of $nvme" "^del $nvme vfio-pci" $T/events
has "... add of $nvme" "^add $nvme vfio-pci vfio" $T/events

# --- whichever loads first, the most specific wins ----------------------------
release_all
rmmod edu_vfio_pci
insmod ${VFIODEV_TEST_MODDIR:-$VFIODEV_MODDIR}/test_vendor_vfio_pci.ko
run "with a less specific variant loaded first, bind $edu" 0 vfiodev bind "$edu"
has "... still chooses edu_vfio_pci (loaded on demand)" "driver edu_vfio_pci.*specificity 2"
vfiodev unbind "$edu" > /dev/null 2>&1
rmmod edu_vfio_pci
release_all
run "without edu_vfio_pci in the module tree's reach, bind $edu" 0 vfiodev bind --driver test_vendor_vfio_pci "$edu"
has "... the test variant takes it when named" "driver test_vendor_vfio_pci"
vfiodev unbind "$edu" > /dev/null 2>&1
rmmod test_vendor_vfio_pci

# --- the messages against the YNL spec --------------------------------------
ynl=${VFIODEV_CACHE:-/root/.cache/vfiodev}/ynl
ynl_cli() {
	chroot $HOST /usr/bin/python3 $ynl/tools/net/ynl/cli.py \
		--spec $ynl/Documentation/netlink/specs/vfiodev.yaml "$@"
}
if [ -e "$HOST$ynl/tools/net/ynl/cli.py" ]; then
	ynl_cli --do bind --json "{\"pci-addr\": \"$nvme\"}" > $T/ynl 2>&1
	has "the YNL client's BIND of $nvme, per the spec: vfio-pci" "'driver': 'vfio-pci'" $T/ynl
	ynl_cli --dump get > $T/ynl 2>&1
	has "the YNL client's dump parses per the spec" "'pci-addr': '$nvme'" $T/ynl
else
	skip "the YNL client's BIND per the spec" "no tools/net/ynl under $ynl on the host"
	skip "the YNL client's dump per the spec" "no tools/net/ynl under $ynl on the host"
fi
# Leave what /init set up for the suites after this one: our stack loaded
# (and vfiodev-nl, whose KUnit suite loads on top of it), no device bound.
release_all
for m in iommufd vfio vfio-pci-core vfio-pci edu-vfio-pci vfiodev-nl; do
	grep -q "^$(echo $m | tr - _) " /proc/modules || insmod "$VFIODEV_MODDIR/$m.ko"
done
echo "$saved_modprobe" > /proc/sys/kernel/modprobe
for m in $mounted; do umount "$m" 2>/dev/null; done
echo "# $num results, $failed failed"
[ $failed = 0 ]
