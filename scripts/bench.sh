#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: boot the benchmark kernel (scripts/debug-kernel.sh with
# kernel/configs/bench.config: the debug kernel without its detectors) once,
# with our modules and upstream's loaded in turn (scripts/guest/bench), and
# make the report of what the guest measured (scripts/bench-report.py):
# $B/bench/table.md, results.csv, samples.json, count.png, bulk.png.
#
# The guest has 4 GiB and 560 reserved 2 MiB pages (the 1 GiB hugetlb
# buffer), the intel-iommu with snoop-control on (both doors open on both
# stacks).  No verdict waits on a clock: the guest is stuck only when its
# console stays silent for 30 minutes.
#
# Usage: bench.sh   (from the Makefile: B, BKIMAGE, ROUNDS, QUICK, ONLY)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$B/bench
mkdir -p "$out"
env=(--env "VFIODEV_BENCH_ROUNDS=${ROUNDS:-3}")
[ -n "${QUICK:-}" ] && env+=(--env VFIODEV_BENCH_QUICK=1)
[ -n "${ONLY:-}" ] && env+=(--env "VFIODEV_BENCH_ONLY=$ONLY")

echo "# bench: booting the benchmark kernel $BKIMAGE, console: $out/guest.log"
start=$SECONDS
scripts/run-guest.sh --mode bench --flavour bench --snoop on --memory 4096 --hugepages 560 \
	--stall 1800 --scratch "$B/nvme.img" --log "$out/guest.log" "${env[@]}" \
	"$BKIMAGE" "$B/bench/initramfs.cpio.gz" > /dev/null 2>&1 || true
echo "# bench: the guest ran $((SECONDS - start)) s"
scripts/bench-report.py "$out/guest.log" "$out"
