#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: static checks on the host, then every selftest (and, on
# the debug kernel, every KUnit suite) in the QEMU guest, once with the
# intel-iommu's snoop-control on (the IOMMU enforces cache coherency) and
# once off, for each kernel flavour named on the command line:
#   stock  Debian's 6.12 image, what users run
#   debug  linux-source-6.12 with KASAN, lockdep, kmemleak, fault injection
#          and KUnit (scripts/debug-kernel.sh), panic_on_warn=1
# Ends with the line "N passed, N failed[, N skipped]" and exits non-zero
# on any failure.
#
# Usage: check.sh FLAVOUR...
# Expects from the Makefile: B, KDIR, KVER, KIMAGE, DKDIR, DKREL, DKIMAGE,
# DKBUILD_SECONDS, CHECKPATCH, MAKE, KMODDIR, CACHE.
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

echo "# vfiodev check: stock kernel $KVER; debug kernel $DKREL" \
	"(built in ${DKBUILD_SECONDS:-?} s, cached); $(qemu-system-x86_64 --version | head -n 1)"

# --- host: kernel code ------------------------------------------------------
# Both kernels, W=1; sparse (C=2, every file) on the stock headers.
lint_build() {	# lint_build NAME KDIR EXTRA...
	local name=$1 kdir=$2 dir=$B/lint-$1
	shift 2
	rm -rf "$dir"
	mkdir -p "$dir"
	rsync -a kernel/ "$dir/"
	if $MAKE -C "$kdir" M="$dir" W=1 VFIODEV_UAPI="$PWD/uapi" VFIODEV_TESTS=y \
		"$@" modules > "$B/kbuild-$name.log" 2>&1; then
		if grep -E 'warning:|error:' "$B/kbuild-$name.log" > "$B/kbuild-$name.warn"; then
			record FAIL "host: modules build for the $name kernel without warnings" "$B/kbuild-$name.warn"
		else
			record PASS "host: modules build for the $name kernel without warnings"
		fi
	else
		record FAIL "host: modules build for the $name kernel" "$B/kbuild-$name.log"
	fi
}
lint_build stock "$KDIR" C=2
lint_build debug "$DKDIR"

# What DKMS builds also builds, W=1 clean, against Debian 13's 6.12 headers,
# with trixie's own toolchain (fetched into the cache; see the script).
if scripts/trixie-build.sh "$CACHE" "$B/trixie" > "$B/trixie.log" 2>&1; then
	record PASS "host: modules build against Debian 13's 6.12 headers, W=1, without warnings"
else
	record FAIL "host: modules build against Debian 13's 6.12 headers, W=1, without warnings" "$B/trixie.log"
fi

# The shared uAPI is 6.12's and ours cannot collide with it (compile time).
if $MAKE -s uapi-check > "$B/uapi-check.log" 2>&1; then
	record PASS "host: uapi ABI equals Linux 6.12 (uapi/abi_check.c)"
else
	record FAIL "host: uapi ABI equals Linux 6.12 (uapi/abi_check.c)" "$B/uapi-check.log"
fi

if scripts/ynl-regen.sh --check --export "$CACHE/ynl" > "$B/ynl.out" 2>&1; then
	record PASS "host: uapi/linux/vfiodev_nl.h is what ynl-gen-c makes of the netlink spec"
else
	record FAIL "host: uapi/linux/vfiodev_nl.h is what ynl-gen-c makes of the netlink spec" "$B/ynl.out"
fi

MAKE="$MAKE" scripts/libvfiodev-check.sh "$B" > "$B/libvfiodev-check.out" 2>&1
cat "$B/libvfiodev-check.out"
grep -E '^(PASS|FAIL) ' "$B/libvfiodev-check.out" >> "$results"

for f in $(git ls-files 'kernel/*.[ch]' 'uapi/*.h'); do
	ignore=FILE_PATH_CHANGES
	# compat.h exists to hold the version checks checkpatch warns about.
	[ "$f" = kernel/compat.h ] && ignore=$ignore,LINUX_VERSION_CODE,CONSTANT_COMPARISON
	if perl "$CHECKPATCH" --strict --no-tree --quiet --ignore "$ignore" -f "$f" > "$B/checkpatch.out" 2>&1; then
		record PASS "host: checkpatch --strict $f"
	else
		record FAIL "host: checkpatch --strict $f" "$B/checkpatch.out"
	fi
done

# --- host: the install ------------------------------------------------------
# make install into a scratch root, DKMS build and install there for the
# stock kernel over its own module tree, uninstall round trip.  The stock
# guest with snoop-control off then boots on that root (--stack dkms).
scripts/dropin-stage.sh "$B" "$KVER" "$KDIR" "$KMODDIR" > "$B/dropin-stage.out"
cat "$B/dropin-stage.out"
grep -E '^(PASS|FAIL) ' "$B/dropin-stage.out" >> "$results"
dropin_ok=0
grep -q '^FAIL ' "$B/dropin-stage.out" || dropin_ok=1

# --- host: QEMU 10 ----------------------------------------------------------
# QEMU 10 from bookworm-backports, unpacked into the cache (never installed):
# qemu_cdev runs it in the guest, over 9p, as a client of the cdev path.
# The guest chroots into the host's root with scratch /tmp and /run of its
# own, so a QEMU unpacked under those would not be seen there.
qemu10_env=()
if scripts/qemu10.sh "$CACHE" > "$B/qemu10.log" 2>&1; then
	qroot=$(tail -n 1 "$B/qemu10.log")
	record PASS "host: QEMU 10 (bookworm-backports) unpacked for the guest: $qroot"
	case $qroot in
	/tmp/*|/run/*) record FAIL "host: the cache is outside /tmp and /run (the guest's chroot has scratch ones): $CACHE" ;;
	*) qemu10_env=(--env "VFIODEV_QEMU10=$qroot") ;;
	esac
else
	record FAIL "host: QEMU 10 (bookworm-backports) unpacked for the guest" "$B/qemu10.log"
fi

# --- guest ------------------------------------------------------------------
# boot_and_judge LABEL FLAVOUR SNOOP LIST RUN-GUEST-ARGS...: boots the
# FLAVOUR guest with snoop-control SNOOP (console: $B/guest-LABEL.log) and
# records the verdict of its log against the tests in LIST.
boot_and_judge() {
	local label=$1 flavour=$2 snoop=$3 list=$4 image stall log start attempt
	shift 4
	case $flavour in
	# No time limit: a guest counts as stuck when its console stays
	# silent this long (the debug kernel's kmemleak scan is the longest
	# quiet stretch), so a busy host makes a run slower, not failed.
	stock) image=$KIMAGE stall=600 ;;
	debug) image=$DKIMAGE stall=900 ;;
	esac
	log=$B/guest-$label.log
	start=$(date +%s)
	for attempt in 1 2 3 4 5; do
		scripts/run-guest.sh --mode check --flavour "$flavour" --snoop "$snoop" \
			"$@" --stall "$stall" --scratch "$B/nvme.img" --log "$log" \
			"$image" "$B/$flavour/initramfs.cpio.gz" > /dev/null 2>&1
		# A kernel that died before /init started ran none of our
		# code (under TCG the debug kernel does, now and then; see
		# Documentation/testing.rst).  Boot again, up to four
		# times, and say so; a fifth such death is reported like
		# any other.
		grep -q '^VFIODEV-GUEST ' "$log" && break
		[ $attempt = 5 ] && break
		mv "$log" "${log%.log}-boot$attempt.log"
		echo "# the guest died before /init ran, none of our code had run: booting it again (first console: ${log%.log}-boot$attempt.log)"
		grep -m 3 -E 'BUG:|Oops|panic' "${log%.log}-boot$attempt.log" | sed 's/^/#   /'
	done
	echo "# the guest ran $(( $(date +%s) - start )) s"
	scripts/verdict.py "$label" "$log" "$list" > "$B/verdict.out"
	cat "$B/verdict.out"
	grep -E '^(PASS|FAIL|SKIP) ' "$B/verdict.out" >> "$results"
}

for flavour in "$@"; do
	case $flavour in
	stock) target=initramfs ;;
	debug) target=initramfs-debug ;;
	esac
	if ! $MAKE "$target" > "$B/build-$flavour.log" 2>&1; then
		record FAIL "host: $flavour initramfs (modules, selftests, examples)" "$B/build-$flavour.log"
		continue
	fi
	record PASS "host: $flavour initramfs (modules, selftests, examples)"
	for snoop in on off; do
		# On Debian's kernel, one of the two boots loads our modules as
		# an installed host does: modprobe, from the DKMS install.
		stack=(--stack ours)
		if [ "$flavour" = stock ] && [ "$snoop" = off ]; then
			if [ $dropin_ok = 1 ]; then
				stack=(--stack dkms --dropin "$B/dropin/root")
			else
				record FAIL "host: the drop-in guest boots on the DKMS install (staging failed)"
			fi
		fi
		echo "# booting the $flavour guest, intel-iommu snoop-control=$snoop, modules: ${stack[1]} (console: $B/guest-$flavour-snoop-$snoop.log)"
		boot_and_judge "$flavour-snoop-$snoop" "$flavour" "$snoop" "$B/tests/list" \
			"${stack[@]}" --env "VFIODEV_CACHE=$CACHE" "${qemu10_env[@]}"
	done
done

# libvfiodev's suites on upstream's own modules: the library must work on
# them too.  Debian's stock kernel has the legacy path only; the debug
# kernel has upstream's iommufd and cdev, where the coherency is learned on
# attach (snoop-control on: new path, off: legacy).
printf '%s\n' libvfiodev libvfiodev_tools > "$B/tests/list-upstream"
for run in "stock off" "debug on" "debug off"; do
	set -- $run
	[ -e "$B/$1/initramfs.cpio.gz" ] || continue
	echo "# booting the $1 guest, snoop-control=$2, upstream's modules, libvfiodev's suites (console: $B/guest-$1-snoop-$2-upstream.log)"
	boot_and_judge "$1-snoop-$2-upstream" "$1" "$2" "$B/tests/list-upstream" \
		--stack upstream --env VFIODEV_ONLY=libvfiodev+libvfiodev_tools
done

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
