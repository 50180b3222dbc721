#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Shared by the selftests that run real clients inside the test guest
# (qemu_legacy, qemu_cdev, dropin): TAP output, time, the devices, the
# guest's pinned pages, QEMU's monitor, waited on by progress, and qtest.
# Sourced; for QEMU the caller sets WORK (its scratch directory, QEMU's
# output in $WORK/qemu.out), STALL, and qpid while a QEMU runs.

# --- TAP ----------------------------------------------------------------
num=0 failed=0
pass() { num=$((num + 1)); echo "ok $num $1"; }
fail() { num=$((num + 1)); failed=$((failed + 1)); echo "not ok $num $1"; }
skip() { num=$((num + 1)); echo "ok $num $1 # SKIP $2"; }
diag() { echo "# $*"; }
# Prints a file as diagnostics, without carriage returns or the escape
# sequences of QEMU's line editor.
diag_file() { { tr -d '\r' < "$1"; echo; } | sed 's/\x1b\[[0-9]*[A-Za-z]//g; s/^/# | /'; }

# Seconds since boot, to the hundredth.
now() { cut -d ' ' -f 1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Kills QEMU if it still runs.  A QEMU stuck in the kernel may not die:
# then it is left alone (and so are its devices) rather than waited for.
stop_qemu() {
	local i=0

	alive || { qpid=""; return 0; }
	diag "killing QEMU (pid $qpid)"
	kill -9 "$qpid" 2>/dev/null
	while alive && [ $i -lt 50 ]; do
		usleep 200000
		i=$((i + 1))
	done
	if alive; then
		diag "QEMU (pid $qpid) does not die: $(cat "/proc/$qpid/wchan" 2>/dev/null)"
		stuck=1
		return 1
	fi
	wait "$qpid" 2>/dev/null
	qpid=""
}

# outcome STARTED OK RESULT: RESULT passes when OK is 1, fails when QEMU
# started (STARTED 1) and OK is not, and skips when QEMU did not start.
outcome() {
	if [ "$2" = 1 ]; then
		pass "$3"
	elif [ "$1" = 1 ]; then
		fail "$3"
	else
		skip "$3" "qemu did not start"
	fi
}

# --- pinned pages ---------------------------------------------------------
# Pages pinned in the whole guest, from the mm core's counts of every
# pin_user_pages() pin and unpin (as guest_pinned_pages() in
# vfiodev_utils.h): the same count for any stack, and no hook of ours.
# stat_refresh folds the per-CPU deltas in first, so it is exact.
pinned() {
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null || return 1
	awk '$1 == "nr_foll_pin_acquired" { a = $2 }
	     $1 == "nr_foll_pin_released" { r = $2 }
	     END { if (a == "" || r == "") exit 1; print a - r }' /proc/vmstat
}

# pinned_while PREFIX BEFORE STARTED: one result, "PREFIXpages pinned while
# qemu runs": a QEMU with -m 256 maps its RAM for DMA, so 240 MiB (the RAM
# less its holes, at the least) more pages are pinned than BEFORE it.
pinned_while() {
	local n

	if [ "$3" != 1 ]; then
		skip "$1pages pinned while qemu runs" "qemu did not start"
		return
	fi
	n=$(pinned)
	diag "$1pinned pages ${2:-?} before qemu, ${n:-?} with it"
	if [ -n "$2" ] && [ -n "$n" ] && [ $((n - $2)) -ge 61440 ]; then
		pass "$1pages pinned while qemu runs"
	else
		fail "$1pages pinned while qemu runs"
	fi
}

# pinned_back PREFIX BEFORE STUCK: one result, "PREFIXpinned pages back to
# where they were", once QEMU is gone (unless STUCK is 1: then it holds
# them).  Its files are released before its exit is reported, but
# deferred work gets a moment.
pinned_back() {
	local n=0 what="$1pinned pages back to where they were"

	if [ -z "$2" ]; then
		diag "no pinned-page count in /proc/vmstat"
		fail "$what"
		return
	fi
	if [ "$3" = 1 ]; then
		fail "$what"
		return
	fi
	while [ "$(pinned)" != "$2" ] && [ $n -lt 25 ]; do
		usleep 200000
		n=$((n + 1))
	done
	diag "$1pinned pages after qemu: $(pinned), $2 before"
	if [ "$(pinned)" = "$2" ]; then
		pass "$what"
	else
		fail "$what"
	fi
}

# --- the devices ----------------------------------------------------------
dev_dir() { echo "/sys/bus/pci/devices/$1"; }

driver_of() {
	if [ -e "$(dev_dir "$1")/driver" ]; then
		basename "$(readlink "$(dev_dir "$1")/driver")"
	fi
}

dev_state() {
	echo "driver '$(driver_of "$1")', override '$(cat "$(dev_dir "$1")/driver_override")'"
}

# The edus on the root bus whose IOMMU group holds nothing else.
find_edus() {
	for d in /sys/bus/pci/devices/0000:00:*; do
		[ "$(cat "$d/vendor")" = 0x1234 ] || continue
		[ "$(cat "$d/device")" = 0x11e8 ] || continue
		[ -e "$d/iommu_group" ] || continue
		set -- "$d"/iommu_group/devices/*
		[ $# = 1 ] || continue
		basename "$d"
	done
}

unbind() {
	if [ -e "$(dev_dir "$1")/driver" ]; then
		echo "$1" > "$(dev_dir "$1")/driver/unbind"
	fi
}

# --- QEMU's monitor ---------------------------------------------------------
# QEMU runs and is not a zombie waiting to be reaped.
alive() {
	[ -n "$qpid" ] && [ -r "/proc/$qpid/stat" ] &&
		[ "$(awk '{ print $3 }' "/proc/$qpid/stat" 2>/dev/null)" != Z ]
}

# The monitor prints "(qemu) " each time it is ready for a command: waiting
# for the Nth prompt is waiting for the (N-1)th command to be done.
prompts() { grep -o '(qemu)' "$WORK/qemu.out" 2>/dev/null | wc -l; }

# QEMU's progress: its CPU time (user + system ticks) and how much it has
# printed.  It changes while QEMU computes, however slowly.
progress() {
	echo "$(awk '{ print $14 + $15 }' "/proc/$qpid/stat" 2>/dev/null):$(wc -c < "$WORK/qemu.out")"
}

# Returns 0 when QEMU has made no progress for STALL seconds (stuck),
# 1 otherwise; keeps its state in $p_mark and $p_since.
stalled() {
	local cur

	cur=$(progress)
	if [ "$cur" != "$p_mark" ]; then
		p_mark=$cur
		p_since=$(now | cut -d . -f 1)
		return 1
	fi
	[ $(($(now | cut -d . -f 1) - p_since)) -ge $STALL ]
}

# wait_prompt COUNT: 0 once the monitor printed its COUNTth prompt; 1 if
# QEMU ended first, 2 if it got stuck.
wait_prompt() {
	p_mark= p_since=$(now | cut -d . -f 1)
	while [ "$(prompts)" -lt "$1" ]; do
		alive || return 1
		stalled && return 2
		usleep 200000
	done
}

# wait_exit: 0 once QEMU has exited (its status in $qrc), 2 if it got
# stuck before.
wait_exit() {
	p_mark= p_since=$(now | cut -d . -f 1)
	while alive; do
		stalled && return 2
		usleep 200000
	done
	wait "$qpid"
	qrc=$?
	qpid=""
}

# Why a wait did not end as hoped, from wait_prompt's status.
why_not() {
	case $1 in
	1) echo "QEMU exited" ;;
	*) echo "QEMU made no progress (no CPU time, no output) for $STALL s: stuck" ;;
	esac
}

# What QEMU printed after its Nth prompt (1-based), without CRs.
after_prompt() {
	tr -d '\r' < "$WORK/qemu.out" |
		awk -v n="$1" '{ while ((i = index($0, "(qemu)")) > 0) { c++; $0 = substr($0, i + 6) } if (c >= n) print }'
}

# qemu_start [VAR=VALUE...] COMMAND...: starts a QEMU (COMMAND, with its
# monitor on stdio, in a clean environment plus VAR=VALUE) and waits until
# it answers "info status" paused.  Its monitor is fd 3 here, closed for
# QEMU, and read-write so that QEMU never sees an end of file.  Returns 0
# once it is paused; otherwise prints why, and QEMU's output, and
# returns 1.  $t0 is when it was started.
qemu_start() {
	local rc

	rm -f "$WORK/qemu.out" "$WORK/monitor"
	mkfifo "$WORK/monitor"
	exec 3<>"$WORK/monitor"
	t0=$(now)
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp "$@" \
		< "$WORK/monitor" > "$WORK/qemu.out" 2>&1 3>&- &
	qpid=$!
	# QEMU prints its first prompt before it creates the machine and its
	# devices: only an answer to a command says that it got through all
	# of it (a vfio-pci that fails ends QEMU there).
	wait_prompt 1 && echo "info status" >&3 && wait_prompt 2
	rc=$?
	if [ $rc = 0 ] && after_prompt 1 | grep -q 'VM status: paused'; then
		return 0
	fi
	[ $rc = 0 ] && diag "QEMU is not paused" || diag "$(why_not $rc)"
	diag_file "$WORK/qemu.out"
	return 1
}

# qemu_cmd COMMAND N FILE: sends COMMAND on the monitor, waits for the Nth
# prompt and writes the answer to FILE.  Returns 0, or prints why not and
# returns the wait's status.
qemu_cmd() {
	local rc

	echo "$1" >&3
	wait_prompt "$2"
	rc=$?
	if [ $rc = 0 ]; then
		after_prompt $(($2 - 1)) > "$3"
		return 0
	fi
	diag "$(why_not $rc)"
	diag_file "$WORK/qemu.out"
	return $rc
}

# qemu_quit RESULT: "quit" on the monitor; RESULT passes once QEMU has
# exited with status 0.
qemu_quit() {
	local t0

	t0=$(now)
	echo "quit" >&3
	if ! wait_exit; then
		diag "QEMU still runs after quit: $(why_not 2)"
		fail "$1"
		return
	fi
	diag "qemu: exited $qrc, $(since "$t0") s after quit"
	if [ "$qrc" = 0 ]; then
		pass "$1"
	else
		diag_file "$WORK/qemu.out"
		fail "$1"
	fi
}

# --- qtest ------------------------------------------------------------------
# QEMU's qtest protocol (-qtest pipe:P, the FIFOs P.in and P.out) lets the
# script play a paused guest's part: port I/O and physical memory.  QEMU
# runs in the host's root ($HOST), so the FIFOs are in that root's /tmp.
QT=/tmp/vfiodev-qtest

qt_open() {
	rm -f "$HOST$QT.in" "$HOST$QT.out"
	mkfifo "$HOST$QT.in" "$HOST$QT.out"
}

# Our ends, once QEMU has its own (opened read-write: nobody blocks).
qt_connect() { exec 7<>"$HOST$QT.in" 8<>"$HOST$QT.out"; }

qt_close() { exec 7>&- 8>&-; }

# qt COMMAND...: one qtest command; 0 and its value (what follows "OK") in
# $qt_val, or 1 with why.  Waits as long as QEMU makes progress.
qt() {
	local line

	echo "$*" >&7
	p_mark= p_since=$(now | cut -d . -f 1)
	while :; do
		if read -r -t 1 line <&8; then
			case $line in
			OK*) qt_val=${line#OK}; qt_val=${qt_val# }; return 0 ;;
			IRQ*) ;;
			*) diag "qtest: $*: $line"; return 1 ;;
			esac
			continue
		fi
		alive || { diag "qtest: $*: QEMU exited"; return 1; }
		if stalled; then
			diag "qtest: $*: $(why_not 2)"
			return 1
		fi
	done
}

# cfg BUS DEV REG: select the configuration register of BUS:DEV.0; its
# data port for the access width at REG in $cfg_port.
cfg() {
	qt outl 0xcf8 $((0x80000000 | ($1 << 16) | ($2 << 11) | ($3 & 0xfc))) &&
		cfg_port=$((0xcfc + ($3 & 3)))
}
cfg_read8() { cfg "$@" && qt inb $cfg_port && echo $((qt_val)); }
cfg_read16() { cfg "$@" && qt inw $cfg_port && echo $((qt_val)); }
cfg_read32() { cfg "$@" && qt inl $cfg_port && echo $((qt_val)); }
cfg_write8() { cfg "$1" "$2" "$3" && qt outb $cfg_port "$4"; }
cfg_write16() { cfg "$1" "$2" "$3" && qt outw $cfg_port "$4"; }
cfg_write32() { cfg "$1" "$2" "$3" && qt outl $cfg_port "$4"; }

# --- the host's root --------------------------------------------------------
# hostroot_mount: the host's root over 9p (run-guest.sh exports it as
# "hostroot") at $HOST, with the guest's /dev, /sys and /proc and scratch
# /run and /tmp in it, every mount added to $mounted (innermost first) for
# the caller's clean-up.  Returns 0, or prints why not and returns 1.
hostroot_mount() {
	for m in $(cat "$NINEP_MODDIR/order" 2>/dev/null); do
		[ -d "/sys/module/$m" ] || insmod "$NINEP_MODDIR/$m.ko" ||
			diag "insmod $m failed"
	done
	mkdir -p "$HOST"
	if ! grep -qw 9p /proc/filesystems; then
		diag "the kernel has no 9p file system"
		return 1
	fi
	# cache=loose: the host's root does not change under a test, and
	# without a page cache every exec (kmod's modprobe, python3, QEMU and
	# their libraries) is read through 9p again, which on the debug
	# kernel costs seconds each time.
	if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose hostroot "$HOST"; then
		diag "mount -t 9p hostroot failed (is run-guest.sh exporting it?)"
		return 1
	fi
	mounted="$HOST"
	if mount -o rbind /dev "$HOST/dev" && mounted="$HOST/dev $mounted" &&
	   mount -o bind /sys "$HOST/sys" && mounted="$HOST/sys $mounted" &&
	   mount -o bind /proc "$HOST/proc" && mounted="$HOST/proc $mounted" &&
	   scratch_mount "$HOST/run" && mounted="$HOST/run $mounted" &&
	   scratch_mount "$HOST/tmp" && mounted="$HOST/tmp $mounted"; then
		return 0
	fi
	diag "could not set up the chroot under $HOST"
	return 1
}

# A scratch file system: tmpfs, or ramfs where the kernel has no tmpfs to
# mount (the debug kernel is built without CONFIG_TMPFS).
scratch_mount() {
	mount -t tmpfs tmpfs "$1" 2>/dev/null || mount -t ramfs ramfs "$1"
}

# --- kmod's modprobe for the kernel's module requests -----------------------
# modprobe_from_host DIR: our modules (but the test-only ones) in a module
# tree under the host root's scratch /tmp, indexed by kmod's depmod, and
# kernel.modprobe pointing at a wrapper (in DIR) that runs kmod's modprobe
# there, so that module requests resolve real aliases as on a host (busybox's
# modprobe knows no wildcard aliases).  Needs hostroot_mount first; sets
# saved_modprobe to the sysctl's old value.
modprobe_from_host() {
	local dir=$1 kver ko
	kver=$(uname -r)
	mods=/tmp/mods
	mkdir -p "$HOST$mods/lib/modules/$kver/extra"
	for ko in "$VFIODEV_MODDIR"/*.ko; do
		case $ko in *test_vendor_vfio_pci.ko|*vfiodev_kvm_test.ko) continue ;; esac
		cp "$ko" "$HOST$mods/lib/modules/$kver/extra/"
	done
	chroot "$HOST" /sbin/depmod -b $mods "$kver" || return 1
	cat > "$dir/modprobe" <<EOS
#!/bin/sh
echo "\$@" >> $dir/modprobe.log
exec chroot $HOST /sbin/modprobe -d $mods "\$@"
EOS
	chmod +x "$dir/modprobe"
	saved_modprobe=$(cat /proc/sys/kernel/modprobe)
	echo "$dir/modprobe" > /proc/sys/kernel/modprobe
}

