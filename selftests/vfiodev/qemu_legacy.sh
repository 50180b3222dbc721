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
# A second QEMU gets both functions of the two-function edu behind the
# guest's PCIe root port, which have no reset of their own: on
# "system_reset" QEMU resets their slot with VFIO_DEVICE_PCI_HOT_RESET and
# the group's file (its multi-device reset), and when it quits the last
# close of the device set resets the slot again.  A kretprobe on
# pci_reset_bus() counts those resets and their results.
#
# A third QEMU gets the guest's VGA device (QEMU's std VGA at 00:10.0) with
# x-vga=on, the GPU-passthrough case: "info mtree" must show QEMU's VGA
# regions backed by the device file's VGA region (decoding turned on over
# qtest), QEMU must read the device's text buffer at 0xb8000 as this
# guest reads it (busybox devmem), and text written there over qtest must
# read back.
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
WORK=/tmp/qemu_legacy
STACK=${VFIODEV_STACK:-ours}
# QEMU under TCG inside a TCG guest takes 5 s to 4 minutes to start, by
# kernel and by how busy the host is: no wall-clock budget decides here.
# Waits last as long as QEMU makes progress (uses CPU time or prints); it
# counts as stuck only after STALL seconds without either, which a QEMU
# that is computing never reaches, however slow the guest.
STALL=60

DRIVER=vfio-pci

. "$(dirname "$0")/qemu_lib.sh"

# --- state for clean-up ---------------------------------------------------
mounted=""		# mount points to undo, innermost first
qpid=""			# QEMU, while it may be running
bdf="" bound=0		# the edu, and whether it is ours to give back
prev_drv="" prev_ovr=""
ports=""		# the root port's edu functions, while ours
probe=0			# the kretprobe on pci_reset_bus() is in place
TRACE=/sys/kernel/tracing

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
	if [ -n "$ports" ] && [ $stuck = 0 ]; then
		release_ports
	fi
	[ $probe = 1 ] && probe_remove
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'diag "interrupted"; exit 1' INT TERM

# --- the device -----------------------------------------------------------
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

# The root port's functions: driverless edus found there, given back so.
release_ports() {
	local p

	for p in $ports; do
		unbind "$p"
		echo > "$(dev_dir "$p")/driver_override"
	done
	ports=""
}

# --- pci_reset_bus() calls ----------------------------------------------------
probe_remove() {
	echo 0 > "$TRACE/events/vfiodev_qemu/reset_bus/enable" 2>/dev/null
	echo "-:vfiodev_qemu/reset_bus" >> "$TRACE/kprobe_events" 2>/dev/null
	probe=0
}

probe_add() {
	[ -e "$TRACE/kprobe_events" ] || mount -t tracefs tracefs "$TRACE" ||
		return 1
	probe_remove
	echo 'r:vfiodev_qemu/reset_bus pci_reset_bus ret=$retval:s32' \
		>> "$TRACE/kprobe_events" || return 1
	probe=1
	echo > "$TRACE/trace" &&
		echo 1 > "$TRACE/tracing_on" &&
		echo 1 > "$TRACE/events/vfiodev_qemu/reset_bus/enable"
}

# resets OK FAILED: how many pci_reset_bus() calls returned 0 and how many
# failed since the last call; the trace is emptied.
resets() {
	eval "$(awk '/ reset_bus: / { if ($NF == "ret=0") ok++; else bad++ }
		     END { printf "%s=%d %s=%d\n", "'"$1"'", ok, "'"$2"'", bad }' \
		"$TRACE/trace")"
	echo > "$TRACE/trace"
}

echo "TAP version 13"
echo "1..22"
rm -rf "$WORK"
mkdir -p "$WORK"

# 1. The host's root over 9p.
t0=$(now)
host_ok=0
if hostroot_mount; then
	if [ -x "$HOST$QEMU" ]; then
		host_ok=1
	else
		diag "the host has no $QEMU"
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
bdf=$(find_edus | head -n 1)
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
	if qemu_start chroot "$HOST" "$QEMU" -M q35 -accel tcg -m 256 -S \
		-display none -nodefaults -monitor stdio \
		-device "vfio-pci,host=$bdf"; then
		started=1
		pass "qemu started with vfio-pci,host=<edu>"
		diag "qemu: up and paused after $(since "$t0") s"
	else
		fail "qemu started with vfio-pci,host=<edu>"
	fi
fi

# 5, 6. The device as QEMU's guest sees it.
if [ $started = 1 ]; then
	t0=$(now)
	if qemu_cmd "info pci" 3 "$WORK/info-pci"; then
		diag "qemu: info pci took $(since "$t0") s"
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
		fail "info pci lists 1234:11e8"
		fail "info pci lists the edu's BAR0"
		started=0
	fi
else
	skip "info pci lists 1234:11e8" "qemu did not start"
	skip "info pci lists the edu's BAR0" "qemu did not start"
fi

# 7. QEMU's 256 MiB are mapped for DMA, so pages are pinned now.
pinned_while "" "$pinned_before" $started

# 8. quit.
if [ $started = 1 ]; then
	qemu_quit "qemu exited 0 on quit"
else
	skip "qemu exited 0 on quit" "qemu did not start"
fi
# Whatever happened, no QEMU past this point.
qemu_gone=1
stop_qemu || qemu_gone=0
exec 3>&-

# 9. Every pinned page given back.
pinned_back "" "$pinned_before" 0

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

# 11. Both functions behind the root port, and the probe.  On the debug
# kernel a nested QEMU takes minutes to start: this second one runs on
# Debian's kernel only (the device-set code runs under the detectors in
# pci_dev_set), unless VFIODEV_QEMU_ON_DEBUG=1.
pair_ok=0
pair_skip=""
case $(uname -r) in
*-vfiodev-debug)
	[ "${VFIODEV_QEMU_ON_DEBUG:-0}" = 1 ] ||
		pair_skip="runs on Debian's kernel only (a nested QEMU is slow on the debug kernel; VFIODEV_QEMU_ON_DEBUG=1 runs it)"
	;;
esac
[ -n "$pair_skip" ] || for d in /sys/bus/pci/devices/*; do
	case $(basename "$d") in 0000:00:*) continue ;; esac
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] ||
		continue
	ports="$ports $(basename "$d")"
done
set -- $ports
if [ -n "$pair_skip" ]; then
	skip "two-function edu behind the root port bound to $DRIVER" "$pair_skip"
elif [ $# != 2 ]; then
	diag "edus behind the root port: '$ports'"
	fail "two-function edu behind the root port bound to $DRIVER"
elif bind_to "$1" "$DRIVER" && bind_to "$2" "$DRIVER" && probe_add; then
	pair_ok=1
	pf0=$1 pf1=$2
	pass "two-function edu behind the root port bound to $DRIVER"
else
	diag "$1: $(dev_state "$1"); $2: $(dev_state "$2"); kretprobe $probe"
	fail "two-function edu behind the root port bound to $DRIVER"
fi

# 12. QEMU with both, as one multi-function device in a root port.
started=0
pinned_before=$(pinned)
if [ -n "$pair_skip" ]; then
	skip "qemu started with both functions in a pcie-root-port" "$pair_skip"
elif [ $host_ok != 1 ] || [ $pair_ok != 1 ]; then
	skip "qemu started with both functions in a pcie-root-port" "no hostroot or no functions"
elif qemu_start chroot "$HOST" "$QEMU" -M q35 -accel tcg -m 256 -S \
		-display none -nodefaults -monitor stdio \
		-device pcie-root-port,id=rp,chassis=1,slot=1 \
		-device "vfio-pci,host=$pf0,bus=rp,addr=0.0,multifunction=on" \
		-device "vfio-pci,host=$pf1,bus=rp,addr=0.1"; then
	started=1
	pass "qemu started with both functions in a pcie-root-port"
	diag "qemu: up and paused after $(since "$t0") s"
else
	fail "qemu started with both functions in a pcie-root-port"
fi

# 13. system_reset: QEMU's multi-device hot reset of the slot.
if [ $started = 1 ]; then
	resets ok bad
	diag "resets while qemu started: $ok ok, $bad failed"
	if qemu_cmd "system_reset" 3 "$WORK/reset" &&
	   qemu_cmd "info status" 4 "$WORK/status"; then
		resets ok bad
		diag "resets on system_reset: $ok ok, $bad failed"
		if [ "$ok" -ge 1 ] && [ "$bad" = 0 ]; then
			pass "system_reset hot-resets the slot"
		else
			diag_file "$WORK/qemu.out"
			fail "system_reset hot-resets the slot"
		fi
	else
		fail "system_reset hot-resets the slot"
		started=0
	fi
else
	skip "system_reset hot-resets the slot" "${pair_skip:-qemu did not start}"
fi

# 14, 15. quit, and the last close of the set resets the slot once more.
if [ $started = 1 ]; then
	qemu_quit "qemu with both functions exited 0 on quit"
	resets ok bad
	diag "resets after quit: $ok ok, $bad failed"
	if [ "$ok" = 1 ] && [ "$bad" = 0 ]; then
		pass "the last close resets the slot"
	else
		fail "the last close resets the slot"
	fi
else
	skip "qemu with both functions exited 0 on quit" "${pair_skip:-qemu did not start}"
	skip "the last close resets the slot" "${pair_skip:-qemu did not start}"
fi
stop_qemu || qemu_gone=0
exec 3>&-

# 16. Every pinned page given back.
if [ -n "$pair_skip" ]; then
	skip "pair: pinned pages back to where they were" "$pair_skip"
else
	pinned_back "pair: " "$pinned_before" 0
fi

# 17. The VGA device bound to the stack's vfio-pci driver.
VGA_DEV=2		# its slot in QEMU's guest
vga="" vga_ok=0
for d in /sys/bus/pci/devices/0000:00:*; do
	case $(cat "$d/class") in 0x0300*) vga=$(basename "$d") ;; esac
done
if [ -n "$pair_skip" ]; then
	skip "VGA device bound to $DRIVER" "$pair_skip"
elif [ $host_ok != 1 ] || [ -z "$vga" ]; then
	diag "VGA device: '$vga'"
	fail "VGA device bound to $DRIVER"
elif bind_to "$vga" "$DRIVER"; then
	vga_ok=1
	pass "VGA device bound to $DRIVER"
else
	diag "$vga: $(dev_state "$vga")"
	fail "VGA device bound to $DRIVER"
fi

# 18-22. QEMU with it and x-vga=on: regions, text through them, quit.
started=0
pinned_before=$(pinned)
if [ $vga_ok = 1 ] && qt_open &&
   qemu_start chroot "$HOST" "$QEMU" -M q35 -accel tcg -m 256 -S \
		-display none -nodefaults -monitor stdio -qtest "pipe:$QT" \
		-device "vfio-pci,host=$vga,x-vga=on,bus=pcie.0,addr=$VGA_DEV" &&
   qt_connect; then
	started=1
	pass "qemu started with the VGA device, x-vga=on"
	diag "qemu: up and paused after $(since "$t0") s"
elif [ $vga_ok = 1 ]; then
	fail "qemu started with the VGA device, x-vga=on"
else
	skip "qemu started with the VGA device, x-vga=on" "${pair_skip:-no VGA device}"
fi
# Memory and I/O decoding on, as firmware would: QEMU enables its VGA
# regions with them (off, the range falls through to the VM's RAM).
ok=0
if [ $started = 1 ] && cfg_write16 0 $VGA_DEV 0x04 0x0003 &&
   qemu_cmd "info mtree" 3 "$WORK/vga-mtree"; then
	n=$(grep -cE 'vfio-vga-(mmio@0xa0000|io@0x3b0|io@0x3c0)' "$WORK/vga-mtree")
	diag "info mtree: $n lines of QEMU's VGA regions"
	[ "$n" -ge 3 ] && ok=1 ||
		grep -iE 'vga|a0000|03b0|03c0' "$WORK/vga-mtree" | sed 's/^/# | /'
fi
outcome $started $ok "info mtree: QEMU's VGA regions (memory, 0x3b0, 0x3c0)"
# The device's own text buffer, as this guest reads it (-1 if it cannot).
vga_text() { devmem 0xb8000 32 2>/dev/null || echo -1; }
ok=0
if [ $started = 1 ] && before_text=$(vga_text) &&
   qt readl 0xb8000 && read_text=$((qt_val)) &&
   qt writew 0xb8000 0x1f56 && qt writew 0xb8002 0x1f47 &&
   qt readl 0xb8000; then
	diag "VGA text at 0xb8000: the device held $before_text, QEMU read $(printf '%#x' $read_text), then $qt_val after writing"
	[ $((qt_val)) = $((0x1f471f56)) ] &&
		{ [ "$before_text" = -1 ] || [ $((before_text)) = $read_text ]; } &&
		ok=1
fi
outcome $started $ok "text written at 0xb8000 reads back from the device"
if [ $started = 1 ]; then
	qemu_quit "qemu with the VGA device exited 0 on quit"
else
	skip "qemu with the VGA device exited 0 on quit" "qemu did not start"
fi
stop_qemu
exec 3>&-
qt_close
rm -f "$HOST$QT.in" "$HOST$QT.out"
if [ $started = 1 ]; then
	diag "VGA text at 0xb8000 after qemu, as this guest reads it: $(vga_text)"
fi
if [ $vga_ok = 1 ]; then
	pinned_back "VGA: " "$pinned_before" 0
	unbind "$vga"
	echo > "$(dev_dir "$vga")/driver_override"
	echo "$vga" > /sys/bus/pci/drivers_probe 2>/dev/null
else
	skip "VGA: pinned pages back to where they were" "${pair_skip:-no VGA device}"
fi

cleanup
echo "# Totals: $((num - failed)) ok, $failed failed"
[ $failed = 0 ]
