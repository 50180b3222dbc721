#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: static checks on the host, then every selftest in the QEMU
# guest, once with snoop-control=on (the IOMMU enforces cache coherency) and
# once with it off.  Ends with the line "N passed, N failed[, N skipped]"
# and exits non-zero on any failure.
#
# Expects from the Makefile: B, KDIR, KVER, KIMAGE, CHECKPATCH, MAKE.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
results=$B/results.txt
mkdir -p "$B"
: > "$results"

record() {	# record STATUS NAME [DETAIL-FILE]
	echo "$1 $2" | tee -a "$results"
	if [ "$1" = FAIL ] && [ -n "${3:-}" ]; then
		sed 's/^/#   /' "$3" | head -n 40
	fi
}

echo "# vfiodev check: guest kernel $KVER; $(qemu-system-x86_64 --version | head -n 1)"

# --- host: kernel code ------------------------------------------------------
$MAKE -s -C "$KDIR" M="$top/kernel" clean >/dev/null 2>&1
if $MAKE -C "$KDIR" M="$top/kernel" W=1 C=2 modules > "$B/kbuild.log" 2>&1; then
	if grep -E 'warning:|error:' "$B/kbuild.log" > "$B/kbuild.warn"; then
		record FAIL "host: kernel modules build with W=1 and sparse without warnings" "$B/kbuild.warn"
	else
		record PASS "host: kernel modules build with W=1 and sparse without warnings"
	fi
else
	record FAIL "host: kernel modules build" "$B/kbuild.log"
fi

for f in $(find kernel -name '*.[ch]' ! -name '*.mod.c' | sort); do
	ignore=FILE_PATH_CHANGES
	# compat.h exists to hold the version checks checkpatch warns about.
	[ "$f" = kernel/compat.h ] && ignore=$ignore,LINUX_VERSION_CODE,CONSTANT_COMPARISON
	if perl "$CHECKPATCH" --strict --no-tree --quiet --ignore "$ignore" -f "$f" > "$B/checkpatch.out" 2>&1; then
		record PASS "host: checkpatch --strict $f"
	else
		record FAIL "host: checkpatch --strict $f" "$B/checkpatch.out"
	fi
done

# --- guest ------------------------------------------------------------------
if $MAKE initramfs > "$B/build.log" 2>&1; then
	record PASS "host: selftests, examples and initramfs build"
	for snoop in on off; do
		log=$B/guest-snoop-$snoop.log
		echo "# booting the guest, intel-iommu snoop-control=$snoop (console: $log)"
		start=$(date +%s)
		scripts/run-guest.sh --mode check --snoop "$snoop" --timeout 300 \
			--log "$log" "$KIMAGE" "$B/initramfs.cpio.gz" > /dev/null 2>&1
		echo "# guest ran $(( $(date +%s) - start )) s"
		scripts/verdict.py "snoop-$snoop" "$log" "$B/tests/list" | tee -a "$results.raw"
	done
	grep -E '^(PASS|FAIL|SKIP) ' "$results.raw" >> "$results"
	rm -f "$results.raw"
else
	record FAIL "host: selftests, examples and initramfs build" "$B/build.log"
fi

pass=$(grep -c '^PASS ' "$results")
fail=$(grep -c '^FAIL ' "$results")
skip=$(grep -c '^SKIP ' "$results")
if [ "$fail" != 0 ]; then
	echo "# failed:"
	grep '^FAIL ' "$results" | sed 's/^/#   /'
fi
summary="$pass passed, $fail failed"
[ "$skip" != 0 ] && summary="$summary, $skip skipped"
echo "$summary"
[ "$fail" = 0 ]
