#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make fuzz`: a long run of selftests/vfiodev/fuzz.c in the debug guest
# (KASAN, lockdep, kmemleak, KCOV over our modules, panic_on_warn=1), once
# with the intel-iommu's snoop-control on and once off.  Each boot runs
# the fuzzer's two tests, one thread and several threads on the same
# files, with N calls each; make check runs the same tests with the
# program's own bounded number of calls.
#
# Prints each boot's verdict and ends with one line of totals:
#   fuzz: calls=C ioctls=I faults=F kcov_pcs=P oddities=O reports=R
# where kcov_pcs is the most distinct PCs of our modules one test reached
# (each test counts its own), oddities what the fuzzer's oracle flagged
# (a bad errno or return, a leak of pinned pages, a device that no longer
# works) and reports the verdicts' failures (a splat, a leak kmemleak
# found, a test that failed).  Exits non-zero unless both are 0.
#
# Usage: fuzz.sh B DKIMAGE N SEED
set -uo pipefail

b=$1 image=$2 n=$3 seed=$4
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
case $n in '' | *[!0-9]*) echo "fuzz: N must be a number of calls" >&2; exit 2 ;; esac
case $seed in '' | *[!0-9]*) echo "fuzz: SEED must be a number" >&2; exit 2 ;; esac

echo fuzz > "$b/fuzz.list"
calls=0 ioctls=0 faults=0 pcs=0 odd=0 reports=0
for snoop in on off; do
	log=$b/guest-fuzz-snoop-$snoop.log
	echo "# fuzz: debug guest, snoop-control=$snoop, $n calls per test, seed $seed (console: $log)"
	start=$(date +%s)
	# No time limit: only a console silent for 15 min counts as stuck.
	scripts/run-guest.sh --mode check --flavour debug --snoop "$snoop" \
		--env VFIODEV_ONLY=fuzz --env "VFIODEV_FUZZ_CALLS=$n" \
		--env "VFIODEV_FUZZ_SEED=$seed" --stall 900 \
		--scratch "$b/fuzz-$snoop.img" --log "$log" \
		"$image" "$b/debug/initramfs.cpio.gz" > /dev/null 2>&1
	rm -f "$b/fuzz-$snoop.img"
	echo "# the guest ran $(( $(date +%s) - start )) s"
	grep -a '^# VFIODEV-FUZZ ' "$log" | tr -d '\r' | sed 's/^# VFIODEV-FUZZ /# /'
	scripts/verdict.py "fuzz-snoop-$snoop" "$log" "$b/fuzz.list" > "$b/fuzz-$snoop.verdict"
	cat "$b/fuzz-$snoop.verdict"
	reports=$((reports + $(grep -c '^FAIL ' "$b/fuzz-$snoop.verdict")))
	while read -r line; do
		for kv in $line; do
			v=${kv#*=}
			case $kv in
			calls=*) calls=$((calls + v)) ;;
			ioctls=*) ioctls=$((ioctls + v)) ;;
			faults=*) faults=$((faults + v)) ;;
			kcov_pcs=*) [ "$v" -gt "$pcs" ] && pcs=$v ;;
			oddities=*) odd=$((odd + v)) ;;
			esac
		done
	done < <(grep -a '^# VFIODEV-FUZZ ' "$log" | tr -d '\r')
done
echo "fuzz: calls=$calls ioctls=$ioctls faults=$faults kcov_pcs=$pcs oddities=$odd reports=$reports"
[ "$odd" = 0 ] && [ "$reports" = 0 ]
