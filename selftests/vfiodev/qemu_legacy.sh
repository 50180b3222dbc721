#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A real VFIO client on the legacy group/container path: the host's own
# QEMU (Debian's 7.2, /usr/bin/qemu-system-x86_64), reached through the
# host root that run-guest.sh exports over 9p, runs paused inside the test
# guest with an edu device of the guest assigned to it:
#
#   -M q35 -accel tcg -m 256 -S -display none -nodefaults -monitor stdio
#   -device vfio-pci,host=<edu>
#
# Its monitor must list the edu (1234:11e8) with its BAR0, "quit" must end
# it with status 0, and the pages it had pinned must all be given back.
#
# VFIODEV_STACK (set by /init) says whose modules serve /dev/vfio: ours or
# the guest kernel's; either way the edu goes to the driver named vfio-pci.
# The edu is given back to the driver it had (and its driver_override
# restored) whatever happens, and every mount is undone.
#
# Output: kselftest TAP.  Exit status 1 if a result failed.

QEMU=/usr/bin/qemu-system-x86_64
HOST=/host
NINEP_MODDIR=/lib/modules/9p
PINNED=/sys/kernel/debug/vfiodev_iommu/pinned_pages
WORK=/tmp/qemu_legacy
STACK=${VFIODEV_STACK:-ours}
# QEMU under TCG inside a TCG guest takes 5 s to 4 minutes to start, by
# kernel and by how busy the host is: no wall-clock budget decides here.
# Waits last as long as QEMU makes progress (uses CPU time or prints); it
# counts as stuck only after STALL seconds without either, which a QEMU
# that is computing never reaches, however slow the guest.
STALL=60

DRIVER=vfio-pci

# --- TAP ----------------------------------------------------------------
num=0 failed=0
pass() { num=$((num + 1)); echo "ok $num $1"; }
fail() { num=$((num + 1)); failed=$((failed + 1)); echo "not ok $num $1"; }
skip() { num=$((num + 1)); echo "ok $num $1 # SKIP $2"; }
diag() { echo "# $*"; }
# Prints a file as diagnostics, without carriage returns.
diag_file() { tr -d '\r' < "$1" | sed 's/^/# | /'; }

# Seconds since boot, to the hundredth.
now() { cut -d ' ' -f 1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- state for clean-up ---------------------------------------------------
mounted=""		# mount points to undo, innermost first
qpid=""			# QEMU, while it may be running
bdf="" bound=0		# the edu, and whether it is ours to give back
prev_drv="" prev_ovr=""

# Kills QEMU if it still runs.  A QEMU stuck in the kernel may not die:
# then it is left alone (and so is its device) rather than waited for.
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
		return 1
	fi
	wait "$qpid" 2>/dev/null
	qpid=""
}

cleanup() {
	local stuck=0

	stop_qemu || stuck=1
	exec 3>&- 2>/dev/null
	for m in $mounted; do
		umount -l "$m" 2>/dev/null || diag "could not unmount $m"
	done
	mounted=""
	if [ "$bound" = 1 ] && [ $stuck = 1 ]; then
		diag "$bdf left bound to $(driver_of "$bdf"): its QEMU is stuck"
	elif [ "$bound" = 1 ]; then
		give_back
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'diag "interrupted"; exit 1' INT TERM

# --- the device -----------------------------------------------------------
dev_dir() { echo "/sys/bus/pci/devices/$1"; }

driver_of() {
	if [ -e "$(dev_dir "$1")/driver" ]; then
		basename "$(readlink "$(dev_dir "$1")/driver")"
	fi
}

# An edu on the root bus whose IOMMU group holds nothing else.
find_edu() {
	for d in /sys/bus/pci/devices/0000:00:*; do
		[ "$(cat "$d/vendor")" = 0x1234 ] || continue
		[ "$(cat "$d/device")" = 0x11e8 ] || continue
		[ -e "$d/iommu_group" ] || continue
		set -- "$d"/iommu_group/devices/*
		[ $# = 1 ] || continue
		basename "$d"
		return 0
	done
	return 1
}

unbind() {
	if [ -e "$(dev_dir "$1")/driver" ]; then
		echo "$1" > "$(dev_dir "$1")/driver/unbind"
	fi
}

bind_to() {	# bind_to BDF DRIVER
	unbind "$1" || return 1
	echo "$2" > "$(dev_dir "$1")/driver_override" || return 1
	echo "$1" > /sys/bus/pci/drivers_probe
	[ "$(driver_of "$1")" = "$2" ]
}

# Back to the driver_override and the driver the edu had before.
give_back() {
	bound=0
	if [ "$prev_ovr" = "(null)" ] || [ -z "$prev_ovr" ]; then
		echo > "$(dev_dir "$bdf")/driver_override"
	else
		echo "$prev_ovr" > "$(dev_dir "$bdf")/driver_override"
	fi
	unbind "$bdf"
	echo "$bdf" > /sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(driver_of "$bdf")" = "$prev_drv" ]
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

pinned() { cat "$PINNED" 2>/dev/null; }

echo "TAP version 13"
echo "1..10"
rm -rf "$WORK"
mkdir -p "$WORK"

# 1. The host's root over 9p.
t0=$(now)
for m in $(cat "$NINEP_MODDIR/order" 2>/dev/null); do
	[ -d "/sys/module/$m" ] || insmod "$NINEP_MODDIR/$m.ko" ||
		diag "insmod $m failed"
done
# A scratch file system: tmpfs, or ramfs where the kernel has no tmpfs to
# mount (the debug kernel is built without CONFIG_TMPFS).
scratch_mount() {
	mount -t tmpfs tmpfs "$1" 2>/dev/null || mount -t ramfs ramfs "$1"
}

host_ok=0
mkdir -p "$HOST"
if ! grep -qw 9p /proc/filesystems; then
	diag "the kernel has no 9p file system"
elif ! mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot "$HOST"; then
	diag "mount -t 9p hostroot failed (is run-guest.sh exporting it?)"
else
	mounted="$HOST"
	if mount -o rbind /dev "$HOST/dev" && mounted="$HOST/dev $mounted" &&
	   mount -o bind /sys "$HOST/sys" && mounted="$HOST/sys $mounted" &&
	   mount -o bind /proc "$HOST/proc" && mounted="$HOST/proc $mounted" &&
	   scratch_mount "$HOST/run" && mounted="$HOST/run $mounted" &&
	   scratch_mount "$HOST/tmp" && mounted="$HOST/tmp $mounted"; then
		if [ -x "$HOST$QEMU" ]; then
			host_ok=1
		else
			diag "the host has no $QEMU"
		fi
	else
		diag "could not set up the chroot under $HOST"
	fi
fi
if [ $host_ok = 1 ]; then
	pass "hostroot mounted, $QEMU reachable"
	diag "hostroot: mounted in $(since "$t0") s"
else
	fail "hostroot mounted, $QEMU reachable"
fi

# 2. The edu, bound to the stack's vfio-pci driver.
dev_ok=0
bdf=$(find_edu)
if [ -z "$bdf" ]; then
	diag "no edu alone in its IOMMU group on the root bus"
	fail "edu bound to $DRIVER"
else
	prev_drv=$(driver_of "$bdf")
	prev_ovr=$(cat "$(dev_dir "$bdf")/driver_override")
	group=$(basename "$(readlink "$(dev_dir "$bdf")/iommu_group")")
	diag "edu $bdf, IOMMU group $group, driver '${prev_drv}', override '$prev_ovr'"
	bound=1
	if bind_to "$bdf" "$DRIVER"; then
		dev_ok=1
		pass "edu bound to $DRIVER"
	else
		diag "$bdf is bound to '$(driver_of "$bdf")'"
		fail "edu bound to $DRIVER"
	fi
fi

# 3. The legacy nodes.
nodes_ok=0
if [ $dev_ok != 1 ]; then
	skip "legacy nodes /dev/vfio/vfio and /dev/vfio/<group>" "the edu is not bound"
elif [ -c /dev/vfio/vfio ] && [ -c "/dev/vfio/$group" ]; then
	nodes_ok=1
	pass "legacy nodes /dev/vfio/vfio and /dev/vfio/<group>"
else
	diag "/dev/vfio holds: $(ls /dev/vfio 2>/dev/null | tr '\n' ' ')"
	fail "legacy nodes /dev/vfio/vfio and /dev/vfio/<group>"
fi

# 4. QEMU, paused, up to its monitor prompt.
started=0
pinned_before=$(pinned)
if [ $host_ok != 1 ] || [ $nodes_ok != 1 ]; then
	skip "qemu started with vfio-pci,host=<edu>" "no hostroot or no legacy nodes"
else
	mkfifo "$WORK/monitor"
	# Read and write: opening it does not wait for a reader, and QEMU
	# never sees an end of file while the test runs.
	exec 3<>"$WORK/monitor"
	t0=$(now)
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp \
		chroot "$HOST" "$QEMU" -M q35 -accel tcg -m 256 -S -display none \
		-nodefaults -monitor stdio -device "vfio-pci,host=$bdf" \
		< "$WORK/monitor" > "$WORK/qemu.out" 2>&1 3>&- &
	qpid=$!
	# QEMU 7.2 prints its first prompt before it creates the machine
	# and its devices: only an answer to a command says that it got
	# through all of it (a vfio-pci that fails ends QEMU there).
	wait_prompt 1 && echo "info status" >&3 && wait_prompt 2
	rc=$?
	if [ $rc = 0 ] && after_prompt 1 | grep -q 'VM status: paused'; then
		started=1
		pass "qemu started with vfio-pci,host=<edu>"
		diag "qemu: up and paused after $(since "$t0") s"
	else
		[ $rc = 0 ] && diag "QEMU is not paused" || diag "$(why_not $rc)"
		diag_file "$WORK/qemu.out"
		fail "qemu started with vfio-pci,host=<edu>"
	fi
fi

# 5, 6. The device as QEMU's guest sees it.
if [ $started = 1 ]; then
	t0=$(now)
	echo "info pci" >&3
	wait_prompt 3
	rc=$?
	if [ $rc = 0 ]; then
		diag "qemu: info pci took $(since "$t0") s"
		after_prompt 2 > "$WORK/info-pci"
		# The edu's block, from its "PCI device" line to its id line.
		awk '/PCI device 1234:11e8/ { on = 1 } on { print } on && /^ *id "/ { exit }' \
			"$WORK/info-pci" > "$WORK/edu"
		if [ -s "$WORK/edu" ]; then
			pass "info pci lists 1234:11e8"
		else
			diag_file "$WORK/info-pci"
			fail "info pci lists 1234:11e8"
		fi
		if grep -q 'BAR0: .*memory at' "$WORK/edu"; then
			diag "$(grep 'BAR0:' "$WORK/edu" | sed 's/^ *//')"
			pass "info pci lists the edu's BAR0"
		else
			diag_file "$WORK/edu"
			fail "info pci lists the edu's BAR0"
		fi
	else
		diag "$(why_not $rc)"
		diag_file "$WORK/qemu.out"
		fail "info pci lists 1234:11e8"
		fail "info pci lists the edu's BAR0"
		started=0
	fi
else
	skip "info pci lists 1234:11e8" "qemu did not start"
	skip "info pci lists the edu's BAR0" "qemu did not start"
fi

# 7. QEMU's 256 MiB are mapped for DMA, so pages are pinned now.
if [ $started != 1 ]; then
	skip "pages pinned while qemu runs" "qemu did not start"
elif [ "$STACK" = upstream ]; then
	# Upstream's type1 charges what it pins to the process (locked_vm):
	# at least the 256 MiB of QEMU's guest RAM.
	lck=$(awk '/^VmLck:/ { print $2 }' "/proc/$qpid/status")
	diag "qemu VmLck: ${lck:-?} kB"
	if [ "${lck:-0}" -ge 262144 ]; then
		pass "pages pinned while qemu runs"
	else
		fail "pages pinned while qemu runs"
	fi
else
	now_pinned=$(pinned)
	diag "pinned_pages: ${pinned_before:-?} before qemu, ${now_pinned:-?} with it"
	if [ "${now_pinned:-0}" -gt 0 ]; then
		pass "pages pinned while qemu runs"
	else
		fail "pages pinned while qemu runs"
	fi
fi

# 8. quit.
if [ $started = 1 ]; then
	t0=$(now)
	echo "quit" >&3
	if wait_exit; then
		diag "qemu: exited $qrc, $(since "$t0") s after quit"
		if [ "$qrc" = 0 ]; then
			pass "qemu exited 0 on quit"
		else
			diag_file "$WORK/qemu.out"
			fail "qemu exited 0 on quit"
		fi
	else
		diag "QEMU still runs after quit: $(why_not 2)"
		fail "qemu exited 0 on quit"
	fi
else
	skip "qemu exited 0 on quit" "qemu did not start"
fi
# Whatever happened, no QEMU past this point.
qemu_gone=1
stop_qemu || qemu_gone=0
exec 3>&-

# 9. Every pinned page given back.
if [ "$STACK" = upstream ]; then
	skip "pinned pages back to 0" "upstream's type1 has no global count; it charged QEMU's own locked_vm, gone with it"
elif [ ! -r "$PINNED" ]; then
	diag "no $PINNED"
	fail "pinned pages back to 0"
else
	# Files are released before the exit is reported, but give any
	# deferred work a moment.
	i=0
	while [ "$(pinned)" != 0 ] && [ $i -lt 25 ]; do
		usleep 200000
		i=$((i + 1))
	done
	diag "pinned_pages after qemu: $(pinned)"
	if [ "$(pinned)" = 0 ]; then
		pass "pinned pages back to 0"
	else
		fail "pinned pages back to 0"
	fi
fi

# 10. The edu as it was found.
if [ "$bound" = 1 ] && [ $qemu_gone = 0 ]; then
	fail "edu given back as found"
elif [ "$bound" = 1 ]; then
	if give_back; then
		diag "edu back with driver '$prev_drv', override '$prev_ovr'"
		pass "edu given back as found"
	else
		diag "$bdf is bound to '$(driver_of "$bdf")', override '$(cat "$(dev_dir "$bdf")/driver_override")'"
		fail "edu given back as found"
	fi
else
	skip "edu given back as found" "no edu was taken"
fi

cleanup
echo "# Totals: $((num - failed)) ok, $failed failed"
[ $failed = 0 ]
