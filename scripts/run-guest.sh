#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the vfiodev test guest under QEMU (TCG) with a real emulated IOMMU and
# real emulated PCI devices:
#   q35 + intel-iommu (interrupt remapping; snoop-control on or off), two edu
#   devices (DMA engine, MSI) on the root bus, a two-function edu behind a
#   PCIe root port (its slot and bus can be reset: hot reset tests), an nvme
#   with a small scratch drive, an e1000e, a std VGA (00:10.0: the VGA
#   region), an empty PCIe root port at 00:11.0 (rp2: the hot-unplug tests
#   plug an edu into it through the QEMU monitor, which the guest reaches
#   on its second serial port, ttyS1, through scripts/qmp-relay.py); and
#   the host's root, read-only,
#   over 9p (mount tag "hostroot"), so that tests can run the host's own
#   programs (QEMU itself, as a VFIO client) inside the guest.
#
# Usage: run-guest.sh [options] KERNEL INITRD
#   --mode check|demo|bench|shell   what the guest does (default shell)
#   --snoop on|off            intel-iommu snoop-control (default on)
#   --log FILE                write the console to FILE (not to stdout)
#   --stall SECONDS           with --log: kill a guest whose console has
#                             printed nothing for that long (default 600):
#                             stuck, however slow or fast the host is
#   --timeout SECONDS         kill a guest that runs longer in all (default
#                             0: no limit; none in shell mode)
#   --scratch FILE            nvme backing file (created, 16 MiB)
#   --flavour stock|debug|bench  which kernel this is (default stock): the
#                             debug kernel panics on the first WARN
#                             (panic_on_warn); the benchmark kernel, like
#                             the stock one, does not
#   --memory MIB              guest RAM (default 2048)
#   --hugepages N             2 MiB hugetlb pages reserved at boot (default 0)
#   --stack ours|upstream|dkms  whose modules the guest loads (default ours);
#                             upstream's are the reference behaviour; dkms
#                             loads ours with modprobe from an installed
#                             tree, as on a host (needs --dropin)
#   --dropin DIR              with --stack dkms: the host path of the tree
#                             scripts/dropin-stage.sh made
#   --env VFIODEV_NAME=VALUE  an environment variable for the tests (the
#                             kernel command line carries it to /init)
set -euo pipefail

mode=shell snoop=on log= timeout=0 stall=600 scratch= flavour=stock stack=ours dropin=
memory=2048 hugepages=0
env=
while [ $# -gt 2 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--snoop) snoop=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--stall) stall=$2; shift 2 ;;
	--scratch) scratch=$2; shift 2 ;;
	--flavour) flavour=$2; shift 2 ;;
	--stack) stack=$2; shift 2 ;;
	--dropin) dropin=$2; shift 2 ;;
	--memory) memory=$2; shift 2 ;;
	--hugepages) hugepages=$2; shift 2 ;;
	--env) case $2 in *[!A-Za-z0-9_./=+~-]*) echo "run-guest: --env: only [A-Za-z0-9_./+~-] in $2" >&2; exit 2 ;;
	       VFIODEV_[A-Z_]*=*) env="$env $2" ;;
	       *) echo "run-guest: --env VFIODEV_NAME=VALUE" >&2; exit 2 ;; esac
	       shift 2 ;;
	*) echo "run-guest: unknown option $1" >&2; exit 2 ;;
	esac
done
kernel=$1 initrd=$2
case $snoop in on|off) ;; *) echo "run-guest: --snoop on|off" >&2; exit 2 ;; esac
cmdline="console=ttyS0 intel_iommu=on iommu=nopt quiet panic=-1"
case $flavour in
stock|bench) ;;
debug) cmdline="$cmdline panic_on_warn=1" ;;
*) echo "run-guest: --flavour stock|debug|bench" >&2; exit 2 ;;
esac
case $memory$hugepages in *[!0-9]*) echo "run-guest: --memory and --hugepages take numbers" >&2; exit 2 ;; esac
[ "$hugepages" = 0 ] || cmdline="$cmdline hugepagesz=2M hugepages=$hugepages"
case $stack in
ours|upstream) ;;
dkms) [ -d "$dropin/lib/modules" ] || { echo "run-guest: --stack dkms needs --dropin DIR" >&2; exit 2; }
      cmdline="$cmdline vfiodev_dropin=$(cd "$dropin" && pwd)" ;;
*) echo "run-guest: --stack ours|upstream|dkms" >&2; exit 2 ;;
esac
cmdline="$cmdline vfiodev_mode=$mode vfiodev_stack=$stack"
label=$flavour-snoop-$snoop
[ "$stack" = ours ] || label=$label-$stack
cmdline="$cmdline vfiodev_label=$label"
# The kernel hands NAME=VALUE words it does not know to /init's environment.
cmdline="$cmdline$env"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -n "$scratch" ] || scratch=$tmp/scratch
truncate -s 16M "$scratch"
cmdline="$cmdline VFIODEV_QMP=/dev/ttyS1"

# thread=single: with multi-threaded TCG, QEMU 7.2 sometimes lets a vCPU run
# a stale translation of kernel text that the other vCPU just re-patched
# (text_poke_bp), and the guest oopses on a leftover int3 during boot (seen
# here: "Oops: int3" in sched_clock_cpu from cpu_latency_qos_init).  One TCG
# thread still runs two vCPUs, interleaved, so SMP paths stay exercised.
args=(
	-M q35,kernel-irqchip=split -accel tcg,thread=single -cpu max -smp 2 -m "$memory"
	-nodefaults -no-reboot -display none
	-device "intel-iommu,intremap=on,snoop-control=$snoop"
	-device edu -device edu
	-device pcie-root-port,id=rp1,chassis=1,slot=1
	-device edu,bus=rp1,addr=0.0,multifunction=on
	-device edu,bus=rp1,addr=0.1
	-drive "file=$scratch,if=none,id=nvm,format=raw"
	-device nvme,serial=vfiodev0,drive=nvm
	-netdev user,id=net0,restrict=on -device e1000e,netdev=net0
	-device VGA,addr=0x10
	-device pcie-root-port,id=rp2,chassis=2,slot=2,addr=0x11
	# The QMP socket, and a socket behind the guest's ttyS1: qmp-relay.py
	# joins them once the guest speaks first.
	-chardev "socket,id=qmp,path=$tmp/qmp,server=on,wait=off"
	-mon chardev=qmp,mode=control
	-chardev "socket,id=qmpguest,path=$tmp/serial1,server=on,wait=off"
	-device isa-serial,chardev=qmpguest,index=1
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-kernel "$kernel" -initrd "$initrd"
	-append "$cmdline"
)
# A 9p channel takes one mount: the drop-in root has its own export of the
# host's root, so that tests can still mount "hostroot" themselves.
[ "$stack" != dkms ] ||
	args+=(-virtfs local,path=/,mount_tag=dropinroot,security_model=none,readonly=on,multidevs=remap)

# It ends when QEMU closes the sockets, or with this script.
"$(dirname "$0")/qmp-relay.py" "$tmp/serial1" "$tmp/qmp" &
relay=$!
trap 'kill "$relay" 2>/dev/null; rm -rf "$tmp"' EXIT

if [ "$mode" = shell ]; then
	qemu-system-x86_64 "${args[@]}" -serial mon:stdio
	exit
fi

if [ -z "$log" ]; then
	if [ "$timeout" = 0 ]; then
		qemu-system-x86_64 "${args[@]}" -serial stdio -monitor none </dev/null
	else
		timeout --foreground -k 10 "$timeout" \
			qemu-system-x86_64 "${args[@]}" -serial stdio -monitor none </dev/null
	fi
	exit
fi

# With a log, QEMU writes the console there while this loop watches it.  A
# guest whose tests are done (VFIODEV-DONE) but that cannot power off,
# because a task is stuck holding a device, is killed after 20 s.  A guest
# is stuck when its console stays silent for --stall seconds: the tests
# print as they go, so a slow host only makes the run longer.
: > "$log"
qemu-system-x86_64 "${args[@]}" -serial "file:$log" -monitor none </dev/null &
qpid=$!
start=$SECONDS done_at= size=0 quiet_since=$SECONDS
while kill -0 "$qpid" 2>/dev/null; do
	sleep 1
	if [ -z "$done_at" ] && grep -q '^VFIODEV-DONE' "$log"; then
		done_at=$SECONDS
	fi
	now_size=$(stat -c %s "$log")
	if [ "$now_size" != "$size" ]; then
		size=$now_size quiet_since=$SECONDS
	fi
	if [ -n "$done_at" ] && [ $((SECONDS - done_at)) -ge 20 ]; then
		echo "run-guest: the guest did not power off; killed" >> "$log"
		kill "$qpid"
	elif [ $((SECONDS - quiet_since)) -ge "$stall" ]; then
		echo "run-guest: no console output for $stall s: stuck; killed after $((SECONDS - start)) s" >> "$log"
		kill "$qpid"
	elif [ "$timeout" != 0 ] && [ $((SECONDS - start)) -ge "$timeout" ]; then
		echo "run-guest: timeout after $timeout s; killed" >> "$log"
		kill "$qpid"
	fi
done
wait "$qpid"
