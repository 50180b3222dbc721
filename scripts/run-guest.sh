#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the vfiodev test guest under QEMU (TCG) with a real emulated IOMMU and
# real emulated PCI devices:
#   q35 + intel-iommu (interrupt remapping; snoop-control on or off), two edu
#   devices (DMA engine, MSI), an nvme with a small scratch drive, an e1000e.
#
# Usage: run-guest.sh [options] KERNEL INITRD
#   --mode check|demo|shell   what the guest does (default shell)
#   --snoop on|off            intel-iommu snoop-control (default on)
#   --log FILE                also write the console to FILE
#   --timeout SECONDS         kill a guest that runs longer (default 900;
#                             none in shell mode)
#   --scratch FILE            nvme backing file (created, 16 MiB)
set -euo pipefail

mode=shell snoop=on log= timeout=900 scratch=
while [ $# -gt 2 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--snoop) snoop=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--scratch) scratch=$2; shift 2 ;;
	*) echo "run-guest: unknown option $1" >&2; exit 2 ;;
	esac
done
kernel=$1 initrd=$2
case $snoop in on|off) ;; *) echo "run-guest: --snoop on|off" >&2; exit 2 ;; esac

if [ -z "$scratch" ]; then
	scratch=$(mktemp)
	trap 'rm -f "$scratch"' EXIT
fi
truncate -s 16M "$scratch"

args=(
	-M q35,kernel-irqchip=split -accel tcg -cpu max -smp 2 -m 2G
	-nodefaults -no-reboot -display none
	-device "intel-iommu,intremap=on,snoop-control=$snoop"
	-device edu -device edu
	-drive "file=$scratch,if=none,id=nvm,format=raw"
	-device nvme,serial=vfiodev0,drive=nvm
	-netdev user,id=net0,restrict=on -device e1000e,netdev=net0
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 intel_iommu=on iommu=nopt quiet panic=-1 vfiodev_mode=$mode vfiodev_label=snoop-$snoop"
)

if [ "$mode" = shell ]; then
	exec qemu-system-x86_64 "${args[@]}" -serial mon:stdio
fi

run() {
	timeout --foreground -k 10 "$timeout" \
		qemu-system-x86_64 "${args[@]}" -serial stdio -monitor none </dev/null
}
if [ -n "$log" ]; then
	set +e
	run 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	# 124: killed by timeout, which the verdict reports from the log.
	exit "$rc"
fi
run
