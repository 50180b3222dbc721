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
# Each guest is one TCG thread, so the run keeps both of CI's cores busy:
# after the initramfs builds, two workers take the guests from one queue,
# longest first, and one of them does the host checks before its first
# guest.  Each job writes its own output and results; they are printed and
# counted in a fixed order at the end, whatever the order they finished in.
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
jobs=$B/jobs
rm -rf "$jobs"
mkdir -p "$jobs"

echo "# vfiodev check: stock kernel $KVER; debug kernel $DKREL" \
	"(built in ${DKBUILD_SECONDS:-?} s, cached); $(qemu-system-x86_64 --version | head -n 1)"

host_checks() {
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
}

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
			"$@" --stall "$stall" --scratch "$jobs/$label.img" --log "$log" \
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
	rm -f "$jobs/$label.img"
	echo "# the guest ran $(( $(date +%s) - start )) s"
	scripts/verdict.py "$label" "$log" "$list" > "$jobs/$label.verdict"
	cat "$jobs/$label.verdict"
	grep -E '^(PASS|FAIL|SKIP) ' "$jobs/$label.verdict" >> "$results"
}

# One guest of the queue: JOB is FLAVOUR-SNOOP (our stack) or
# FLAVOUR-SNOOP-upstream (upstream's modules, libvfiodev's suites: the
# library must work on them too; Debian's stock kernel has the legacy path
# only, the debug kernel upstream's iommufd and cdev, where the coherency
# is learned on attach).
run_job() {	# run_job JOB
	local flavour snoop stack
	IFS=- read -r flavour snoop stack <<< "$1"
	if [ ! -e "$B/$flavour/initramfs.cpio.gz" ]; then
		return
	fi
	if [ "$stack" = upstream ]; then
		echo "# booting the $flavour guest, snoop-control=$snoop, upstream's modules, libvfiodev's suites (console: $B/guest-$flavour-snoop-$snoop-upstream.log)"
		boot_and_judge "$flavour-snoop-$snoop-upstream" "$flavour" "$snoop" "$B/tests/list-upstream" \
			--stack upstream --env VFIODEV_ONLY=libvfiodev+libvfiodev_tools
		return
	fi
	# On Debian's kernel, one of the two boots loads our modules as an
	# installed host does: modprobe, from the DKMS install, which the
	# host checks stage.
	stack=(--stack ours)
	if [ "$flavour" = stock ] && [ "$snoop" = off ]; then
		while [ ! -e "$jobs/host.done" ]; do sleep 2; done
		if grep -q '^FAIL ' "$B/dropin-stage.out"; then
			record FAIL "host: the drop-in guest boots on the DKMS install (staging failed)"
		else
			stack=(--stack dkms --dropin "$B/dropin/root")
		fi
	fi
	echo "# booting the $flavour guest, intel-iommu snoop-control=$snoop, modules: ${stack[1]} (console: $B/guest-$flavour-snoop-$snoop.log)"
	boot_and_judge "$flavour-snoop-$snoop" "$flavour" "$snoop" "$B/tests/list" \
		"${stack[@]}" --env "VFIODEV_CACHE=$CACHE" "${qemu10_env[@]}"
}

# The queue, longest guest first.  A worker takes the next job under a
# lock; each job's output and results go to files of its own.
queue=()
for flavour in "$@"; do
	case $flavour in debug) queue+=(debug-on debug-off) ;; esac
done
for flavour in "$@"; do
	case $flavour in stock) queue+=(stock-off stock-on) ;; esac
done
for flavour in "$@"; do
	case $flavour in debug) queue+=(debug-on-upstream debug-off-upstream) ;; esac
done
for flavour in "$@"; do
	case $flavour in stock) queue+=(stock-off-upstream) ;; esac
done
echo 0 > "$jobs/next"

worker() {	# worker N [host]: takes jobs until the queue is empty
	local n i job
	if [ "${2:-}" = host ]; then
		results=$jobs/host.results host_checks > "$jobs/host.out" 2>&1
		touch "$jobs/host.done"
	fi
	while :; do
		exec 9> "$jobs/lock"
		flock 9
		i=$(cat "$jobs/next")
		echo $((i + 1)) > "$jobs/next"
		exec 9>&-
		[ "$i" -lt ${#queue[@]} ] || break
		job=${queue[$i]}
		echo "# worker $1 takes $job" >> "$jobs/order"
		results=$jobs/$job.results run_job "$job" > "$jobs/$job.out" 2>&1
	done
}

# The initramfs of each flavour, before the workers start: the builds share
# the selftests, examples and libvfiodev's stage.
for flavour in "$@"; do
	case $flavour in
	stock) target=initramfs ;;
	debug) target=initramfs-debug ;;
	esac
	rm -f "$B/$flavour/initramfs.cpio.gz"
	if $MAKE "$target" > "$B/build-$flavour.log" 2>&1; then
		record PASS "host: $flavour initramfs (modules, selftests, examples)"
	else
		record FAIL "host: $flavour initramfs (modules, selftests, examples)" "$B/build-$flavour.log"
	fi
done

printf '%s\n' libvfiodev libvfiodev_tools > "$B/tests/list-upstream"
worker 2 &
wpid=$!
worker 1 host
wait "$wpid"

for job in host "${queue[@]}"; do
	[ -e "$jobs/$job.out" ] || continue
	cat "$jobs/$job.out"
	[ -e "$jobs/$job.results" ] && cat "$jobs/$job.results" >> "$results"
done
sed 's/^/# /' "$jobs/order"

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
