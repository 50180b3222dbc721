#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A real VFIO client on the cdev path: QEMU 10 (bookworm-backports, unpacked
# on the host by scripts/qemu10.sh into CACHE/qemu10/*/root),
# reached through the host root that run-guest.sh exports over 9p, runs
# paused inside the test guest with edu devices of the guest assigned to it
# through iommufd:
#
#   -M q35 -accel tcg -m 256 -S -display none -nodefaults -monitor stdio
#   -object iommufd,id=iommufd0 -device vfio-pci,host=<edu>,iommufd=iommufd0
#
# with QEMU_MODULE_DIR and -L pointing into that root, so that it never
# loads the host's QEMU 7.2 modules.  Four runs:
#   1. one edu;
#   2. two edus (each alone in its IOMMU group) on one iommufd object;
#   3. fd passing: /dev/iommu and the edu's /dev/vfio/devices/vfioN opened
#      by this script, handed over as -object iommufd,fd=N and
#      -device vfio-pci,fd=M;
#   4. hot-unplug (over qtest, this script playing the guest's part): two
#      edus, one with its BAR0 placed ("info mtree" must show QEMU's mmap
#      of it), one in a root port's slot, taken out with device_del;
#   5. live migration (ours only: upstream has no edu variant), twice:
#      both edus on the edu variant, registers set over qtest in a QEMU
#      with the first, "migrate file:", a second QEMU with the other edu
#      and -incoming of that file, run ("cont", with firmware that only
#      halts), must read the same registers.  On the cdev path QEMU must
#      track dirty pages with the variant's DMA logging, which it needs
#      for a migratable device on iommufd; on the legacy path, told not to
#      use the device's tracker (x-device-dirty-page-tracking=off, and
#      enable-migration=on, as QEMU 10 does not count type1's tracker as
#      one), with type1's VFIO_IOMMU_DIRTY_PAGES (kprobes on the driver
#      and iommufd);
#   6. dynamic MSI-X (both stacks, the legacy path): the guest's nvme,
#      its MSI-X enabled and two vectors unmasked over qtest; QEMU must
#      add the second to the live table (a kprobe on
#      pci_msix_alloc_irq_at()), which it does only where the device
#      reports MSI-X without VFIO_IRQ_INFO_NORESIZE.
# Each run must come up paused (its monitor answers "info status"), list
# the edus (1234:11e8) in "info pci" (runs 1-3), pin its 256 MiB while it
# runs (the guest's count in /proc/vmstat), end with status 0 on "quit",
# and give every pinned page back.
#
# VFIODEV_STACK (set by /init) says whose modules serve /dev/vfio and
# /dev/iommu: ours or the guest kernel's; either way the edus go to the
# driver named vfio-pci.  Debian's stock kernel has no iommufd, so with
# upstream's modules there is no /dev/iommu and the cdev cases SKIP.  No
# QEMU 10 unpacked on the host (scripts/qemu10.sh not run): every case
# SKIPs, saying so.  The edus are given back to the drivers they had (and
# their driver_override restored) whatever happens, every fd this script
# opened is closed first, and every mount is undone.
#
# Output: kselftest TAP.  Exit status 1 if a result failed.

HOST=/host
# Where scripts/qemu10.sh unpacks QEMU 10 on the host, as the guest sees
# it over 9p: under the project cache, which make check passes as
# VFIODEV_CACHE (by default ~/.cache/vfiodev of root).  make check also
# passes VFIODEV_QEMU10, the root it unpacked: QEMU 10 missing there is a
# failure, not a skip.
QEMU10_GLOB="${VFIODEV_CACHE:-/root/.cache/vfiodev}/qemu10/*/root"
NINEP_MODDIR=/lib/modules/9p
WORK=/tmp/qemu_cdev
STACK=${VFIODEV_STACK:-ours}
# QEMU under TCG inside a TCG guest takes 5 s to 4 minutes to start, by
# kernel and by how busy the host is: no wall-clock budget decides here.
# Waits last as long as QEMU makes progress (uses CPU time or prints); it
# counts as stuck only after STALL seconds without either, which a QEMU
# that is computing never reaches, however slow the guest.
STALL=60
# The fds handed to QEMU in the fd= run.
IOMMU_FD=5 DEV_FD=6
RUN_AFTER=		# run_qemu calls it once its QEMU is gone

DRIVER=vfio-pci

. "$(dirname "$0")/qemu_lib.sh"

# --- state for clean-up ---------------------------------------------------
mounted=""		# mount points to undo, innermost first
qpid=""			# QEMU, while it may be running
taken=""		# the edus that are ours to give back
stuck=0			# a QEMU that would not die holds them

# Closes every fd this script opened for QEMU: a device's release (and so
# its unbind) waits for its last fd.
close_fds() {
	exec 3>&-
	eval "exec $IOMMU_FD>&- $DEV_FD>&-"
}

cleanup() {
	stop_qemu
	close_fds
	qt_close
	for m in $mounted; do
		umount -l "$m" 2>/dev/null || diag "could not unmount $m"
	done
	mounted=""
	if [ -n "$taken" ] && [ $stuck = 1 ]; then
		diag "$taken left bound: a QEMU is stuck"
	else
		for d in $taken; do
			give_back "$d" || diag "$d: $(dev_state "$d")"
		done
	fi
	taken=""
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'diag "interrupted"; exit 1' INT TERM

# --- the devices ----------------------------------------------------------
# take BDF: remembers how BDF was found, then binds it to vfio-pci.
take() {
	local ovr

	ovr=$(cat "$(dev_dir "$1")/driver_override")
	eval "prev_drv_${2}=\$(driver_of \"\$1\") prev_ovr_${2}=\$ovr"
	diag "edu $1, IOMMU group $(basename "$(readlink "$(dev_dir "$1")/iommu_group")"), $(dev_state "$1")"
	taken="$taken $1"
	unbind "$1" || return 1
	echo "$DRIVER" > "$(dev_dir "$1")/driver_override" || return 1
	echo "$1" > /sys/bus/pci/drivers_probe
	[ "$(driver_of "$1")" = "$DRIVER" ]
}

# The edu's index in $edus (1-based), for the names of its saved state.
index_of() {
	local i=0

	for d in $edus; do
		i=$((i + 1))
		[ "$d" = "$1" ] && { echo $i; return; }
	done
}

# Back to the driver_override and the driver the edu had before.
give_back() {
	local i drv ovr

	i=$(index_of "$1")
	eval "drv=\$prev_drv_$i ovr=\$prev_ovr_$i"
	if [ "$ovr" = "(null)" ] || [ -z "$ovr" ]; then
		echo > "$(dev_dir "$1")/driver_override"
	else
		echo "$ovr" > "$(dev_dir "$1")/driver_override"
	fi
	unbind "$1"
	echo "$1" > /sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(driver_of "$1")" = "$drv" ]
}

# The edu's VFIO cdev, /dev/vfio/devices/vfioN, checked against sysfs as
# QEMU does (a char device whose number is the one in vfio-dev/vfioN/dev).
cdev_of() {
	local v num

	for v in "$(dev_dir "$1")"/vfio-dev/vfio*; do
		[ -e "$v/dev" ] || continue
		num=$(cat "$v/dev")
		[ -c "/dev/vfio/devices/${v##*/}" ] || continue
		[ "$(stat -c '%t:%T' "/dev/vfio/devices/${v##*/}")" = \
		  "$(printf '%x:%x' "${num%:*}" "${num#*:}")" ] || continue
		echo "/dev/vfio/devices/${v##*/}"
		return 0
	done
	return 1
}

# run_qemu NAME NDEV ARGS...: one QEMU 10 run, five results: up and paused,
# "info pci" lists NDEV edus, pages pinned while it runs, "quit" exits 0,
# pinned pages back to where they were.  The fds the caller opened stay open in QEMU; the
# monitor is fd 3 here and closed for QEMU.
run_qemu() {
	local name=$1 ndev=$2 started=0 t0 n before

	shift 2
	before=$(pinned)
	start_qemu10 "$name" tcg "$@" && started=1

	# The devices as QEMU's guest sees them.
	if [ $started = 1 ]; then
		t0=$(now)
		if qemu_cmd "info pci" 3 "$WORK/info-pci"; then
			n=$(grep -c 'PCI device 1234:11e8' "$WORK/info-pci")
			diag "$name: info pci took $(since "$t0") s, lists $n edu(s)"
			if [ "$n" = "$ndev" ]; then
				pass "$name: info pci lists $ndev x 1234:11e8"
			else
				diag_file "$WORK/info-pci"
				fail "$name: info pci lists $ndev x 1234:11e8"
			fi
		else
			fail "$name: info pci lists $ndev x 1234:11e8"
			started=0
		fi
	else
		skip "$name: info pci lists $ndev x 1234:11e8" "qemu did not start"
	fi

	pinned_while "$name: " "$before" $started
	end_qemu "$name" $started "$before"
}

# start_qemu10 NAME ACCEL ARGS...: QEMU 10 from the host's root, paused,
# with ACCEL; one result.
start_qemu10() {
	local name=$1 accel=$2

	shift 2
	if qemu_start QEMU_MODULE_DIR="$qroot/usr/lib/x86_64-linux-gnu/qemu" \
		LD_LIBRARY_PATH="$qroot/usr/lib/x86_64-linux-gnu" \
		chroot "$HOST" "$qemu" -L "$qroot/usr/share/qemu" \
		-M q35 -accel "$accel" -m 256 -S -display none -nodefaults \
		-monitor stdio "$@"; then
		pass "$name: qemu up and paused"
		diag "$name: up and paused after $(since "$t0") s"
		return 0
	fi
	fail "$name: qemu up and paused"
	return 1
}

# end_qemu NAME STARTED BEFORE: "quit" (one result); then no QEMU past
# this point whatever happened, what it complained about even in a run
# that passed, and its pins given back (one result).
end_qemu() {
	if [ "$2" = 1 ]; then
		qemu_quit "$1: qemu exited 0 on quit"
	else
		skip "$1: qemu exited 0 on quit" "qemu did not start"
	fi
	stop_qemu
	exec 3>&-
	[ -z "$RUN_AFTER" ] || $RUN_AFTER
	tr -d '\r' < "$WORK/qemu.out" 2>/dev/null |
		grep -iE 'warn|error|fail' | sed "s/^/# $1: qemu: /"
	pinned_back "$1: " "$3" $stuck
}

# --- qtest: this script as the guest --------------------------------------
# The VM stays paused (-S: no guest CPU runs) and QEMU takes port I/O from
# its qtest protocol (qemu_lib.sh): this script writes the PCI
# configuration cycles a guest would (ports 0xcf8 and 0xcfc), to place a
# BAR and to answer a hot-unplug.

# cfg_cap BUS DEV ID: the offset of capability ID of BUS:DEV.0.
cfg_cap() {
	local off guard=0

	off=$(cfg_read8 "$1" "$2" 0x34) || return 1
	while [ "$off" != 0 ] && [ $guard -lt 48 ]; do
		[ "$(cfg_read8 "$1" "$2" "$off")" = "$(($3))" ] && { echo "$off"; return 0; }
		off=$(cfg_read8 "$1" "$2" $((off + 1))) || return 1
		guard=$((guard + 1))
	done
	return 1
}

# QEMU's open VFIO cdevs.
qemu_cdevs() {
	ls -l "/proc/$qpid/fd" 2>/dev/null | grep -c 'vfio/devices/vfio'
}

# Where the guest of the hot-unplug run has its devices.
RP_DEV=4		# pcie-root-port at 00:04.0, secondary bus 1
BAR_DEV=5		# the other edu at 00:05.0, its BAR0 placed at BAR_ADDR
BAR_ADDR=0xfe000000

# run_hotplug: one QEMU 10 run driven over qtest, seven results.  Two edus
# on one iommufd object: edu2 on the root bus, its BAR0 placed and memory
# decoding on, so that "info mtree" shows QEMU's mmap of the BAR (the
# "mmaps[0]" RAM region: a BAR QEMU could not mmap would have none);
# edu1 in the slot of a root port (native PCIe hot-plug: ACPI hot-plug
# off), taken away with device_del, the guest's part played here: at the
# attention button it powers the slot off, as Linux's pciehp does, and
# QEMU unplugs the device and closes its cdev.  Then "quit" and the pins.
run_hotplug() {
	local name="hot-unplug" started=0 before n cap ctl ok

	before=$(pinned)
	qt_open || diag "$name: no qtest FIFOs"
	start_qemu10 "$name" tcg -qtest "pipe:$QT" \
		-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off \
		-device pcie-root-port,id=rp0,bus=pcie.0,addr=$RP_DEV,chassis=1,slot=1 \
		-object iommufd,id=iommufd0 \
		-device "vfio-pci,host=$edu2,iommufd=iommufd0,bus=pcie.0,addr=$BAR_DEV" \
		-device "vfio-pci,host=$edu1,iommufd=iommufd0,bus=rp0,id=hp0" &&
		qt_connect && started=1

	# BAR0 of the root-bus edu placed, memory decoding on, as firmware
	# would: QEMU maps its mmap of the region there.
	ok=0
	if [ $started = 1 ] &&
	   cfg_write32 0 $BAR_DEV 0x10 $BAR_ADDR &&
	   cfg_write16 0 $BAR_DEV 0x04 0x0002 &&
	   qemu_cmd "info mtree" 3 "$WORK/info-mtree"; then
		n=$(grep -ciE "^ *0*$(printf '%x' $((BAR_ADDR)))-[0-9a-f]+ .*ramd.*$edu2 BAR 0 mmaps\[0\]" "$WORK/info-mtree")
		diag "$name: info mtree: $n mmap region(s) of $edu2 BAR 0 at $BAR_ADDR"
		[ "$n" -ge 1 ] && ok=1 ||
			grep -i "BAR" "$WORK/info-mtree" | sed 's/^/# | /'
	fi
	outcome $started $ok "$name: info mtree maps the edu's BAR0 from its region (mmaps[0])"

	pinned_while "$name: " "$before" $started

	# device_del, then the slot powered off (power controller off, power
	# and attention indicators off) as the guest's answer.
	if [ $started = 1 ]; then
		n=$(qemu_cdevs)
		diag "$name: qemu holds $n VFIO cdev(s) before device_del"
		if cfg_write8 0 $RP_DEV 0x19 1 && cfg_write8 0 $RP_DEV 0x1a 1 &&
		   cap=$(cfg_cap 0 $RP_DEV 0x10) &&
		   qemu_cmd "device_del hp0" 4 "$WORK/device-del" &&
		   ctl=$(cfg_read16 0 $RP_DEV $((cap + 0x18))) &&
		   cfg_write16 0 $RP_DEV $((cap + 0x18)) $((ctl | 0x7c0)) &&
		   qemu_cmd "info pci" 5 "$WORK/info-pci"; then
			diag "$name: slot control $(printf '%#x' "$ctl") -> $(printf '%#x' $((ctl | 0x7c0)))"
			diag_file "$WORK/device-del"
			if [ "$(grep -c 'PCI device 1234:11e8' "$WORK/info-pci")" = 1 ] &&
			   grep -q "Bus  0, device   $BAR_DEV," "$WORK/info-pci"; then
				pass "$name: device_del takes the edu out of its slot"
			else
				diag_file "$WORK/info-pci"
				fail "$name: device_del takes the edu out of its slot"
			fi
		else
			fail "$name: device_del takes the edu out of its slot"
		fi
		# QEMU closes the unplugged device's cdev; the other stays.
		n=$(qemu_cdevs)
		diag "$name: qemu holds $n VFIO cdev(s) after"
		if [ "$n" = 1 ]; then
			pass "$name: qemu closed the unplugged edu's cdev"
		else
			fail "$name: qemu closed the unplugged edu's cdev"
		fi
	else
		skip "$name: device_del takes the edu out of its slot" "qemu did not start"
		skip "$name: qemu closed the unplugged edu's cdev" "qemu did not start"
	fi

	end_qemu "$name" $started "$before"
	qt_close
	rm -f "$HOST$QT.in" "$HOST$QT.out"
}

# --- live migration -------------------------------------------------------
MIG=/tmp/vfiodev-migration	# the migration stream, in the host root's /tmp
# Firmware that halts at once (64 KiB of HLT): the destination runs ("cont",
# which takes its device out of RESUMING) without a BIOS moving its BARs.
HALT_BIOS=/tmp/vfiodev-halt.bin
EDU_VARIANT=edu_vfio_pci
MIG_RESULTS="source up and paused|edu registers set through the trapped BAR0|migrate to a file completes|source exited 0 on quit|QEMU tracked dirty pages with the path's tracker|destination up and paused, incoming|destination runs: its edu out of RESUMING|destination's edu holds the source's registers|destination exited 0 on quit|pinned pages back to where they were"
TRACEFS=/sys/kernel/tracing

# rebind BDF DRIVER: the edu from whatever driver it has to DRIVER.
rebind() {
	unbind "$1" || return 1
	echo "$2" > "$(dev_dir "$1")/driver_override" || return 1
	echo "$1" > /sys/bus/pci/drivers_probe
	[ "$(driver_of "$1")" = "$2" ]
}

# Kprobes on the variant's three DMA logging callbacks, counted in the
# trace; probes_count NAME prints how often NAME ran.
# And on the container's dirty-bitmap walk (type1's VFIO_IOMMU_DIRTY_PAGES
# and the unmap bitmap: its only caller).
LOG_FNS="vdedu_log_start vdedu_log_read_and_clear vdedu_log_stop"
PROBES="$EDU_VARIANT:vdedu_log_start $EDU_VARIANT:vdedu_log_read_and_clear $EDU_VARIANT:vdedu_log_stop iommufd:vdiommu_iopt_walk_areas"
probes_add() {
	[ -e "$TRACEFS/kprobe_events" ] ||
		mount -t tracefs tracefs "$TRACEFS" 2>/dev/null || return 1
	probes_remove
	for p in $PROBES; do
		echo "p:vfiodev_mig/${p#*:} $p" >> "$TRACEFS/kprobe_events" ||
			return 1
	done
	: > "$TRACEFS/trace"
	echo 1 > "$TRACEFS/tracing_on"
	echo 1 > "$TRACEFS/events/vfiodev_mig/enable"
}
probes_remove() {
	echo 0 > "$TRACEFS/events/vfiodev_mig/enable" 2>/dev/null
	for p in $PROBES; do
		echo "-:vfiodev_mig/${p#*:}" >> "$TRACEFS/kprobe_events" 2>/dev/null
	done
	return 0
}
probes_count() { grep -c " $1: " "$TRACEFS/trace"; }

# mig_wait_incoming: 0 once the destination has loaded the stream ("info
# status" no longer says inmigrate); each poll waits on progress only.
mig_wait_incoming() {
	local n=3 i=0

	while [ $i -lt 100000 ]; do
		qemu_cmd "info status" $n "$WORK/mig-status" || return 1
		n=$((n + 1))
		grep -q 'inmigrate' "$WORK/mig-status" || { mig_n=$n; return 0; }
		i=$((i + 1))
		usleep 500000
	done
	return 1
}

# run_migrate PATH: ten results, PATH cdev (iommufd: QEMU tracks dirty
# pages with the variant's DMA logging) or legacy (the container, with
# x-device-dirty-page-tracking=off: with type1's VFIO_IOMMU_DIRTY_PAGES,
# every mapped page dirty).  The source's edu (edu1) gets its BAR0
# placed, memory decoding on, the liveness register written and a
# factorial computed over qtest, then QEMU migrates the paused VM to a
# file; the destination (edu2, -incoming of that file) must read the
# complement of the liveness value and the factorial back through its own
# device, which only the variant's resume can have put there.
run_migrate() {
	local name="migration, $1 path" started=0 before val fact ok n dev

	case $1 in
	cdev) dev="-object iommufd,id=iommufd0 -device vfio-pci,host=%s,iommufd=iommufd0,bus=pcie.0,addr=$BAR_DEV" ;;
	# QEMU 10 counts only the device's and iommufd's trackers as dirty
	# tracking: type1's is used once migration is asked for.
	*) dev="-device vfio-pci,host=%s,bus=pcie.0,addr=$BAR_DEV,x-device-dirty-page-tracking=off,enable-migration=on" ;;
	esac

	before=$(pinned)
	probes_add || diag "$name: no kprobes on $EDU_VARIANT"
	qt_open || diag "$name: no qtest FIFOs"
	rm -f "$HOST$MIG"
	head -c 65536 /dev/zero | tr '\000' '\364' > "$HOST$HALT_BIOS"
	# shellcheck disable=SC2046
	start_qemu10 "$name: source" tcg -bios "$HALT_BIOS" -qtest "pipe:$QT" \
		$(printf "$dev" "$edu1") &&
		qt_connect && started=1

	ok=0
	if [ $started = 1 ] &&
	   cfg_write32 0 $BAR_DEV 0x10 $BAR_ADDR &&
	   cfg_write16 0 $BAR_DEV 0x04 0x0002 &&
	   qt writel $((BAR_ADDR + 0x04)) 0x12345678 &&
	   qt writel $((BAR_ADDR + 0x08)) 5 &&
	   qt readl $((BAR_ADDR + 0x20)) && qt readl $((BAR_ADDR + 0x08)) &&
	   fact=$((qt_val)) && qt readl $((BAR_ADDR + 0x04)); then
		val=$((qt_val))
		diag "$name: source edu: liveness $(printf '%#x' $val), factorial $fact"
		[ $val = $((0xedcba987)) ] && [ $fact = 120 ] && ok=1
	fi
	[ $ok = 1 ] && pass "$name: edu registers set through the trapped BAR0" ||
		fail "$name: edu registers set through the trapped BAR0"

	# Type1 reports every mapped page dirty at every pass, as upstream's
	# does: the precopy never converges unless any downtime will do.
	if [ $started = 1 ] &&
	   qemu_cmd "migrate_set_parameter downtime-limit 2000000" 3 "$WORK/mig-out" &&
	   qemu_cmd "migrate file:$MIG" 4 "$WORK/mig-out" &&
	   qemu_cmd "info migrate" 5 "$WORK/mig-info" &&
	   grep -qi 'status: *completed' "$WORK/mig-info"; then
		pass "$name: migrate to a file completes"
		diag "$name: stream $(wc -c < "$HOST$MIG") bytes"
	else
		diag_file "$WORK/qemu.out"
		fail "$name: migrate to a file completes"
	fi
	if [ $started = 1 ]; then
		qemu_quit "$name: source exited 0 on quit"
	else
		skip "$name: source exited 0 on quit" "qemu did not start"
	fi
	stop_qemu
	exec 3>&-
	qt_close
	# QEMU starts and reads the log at migration; it is stopped by QEMU
	# or, at the latest, when QEMU closes the device.
	n=""
	for p in $PROBES; do
		n="$n ${p#*:}=$(probes_count ${p#*:})"
	done
	diag "$name: calls:$n"
	starts=$(probes_count vdedu_log_start) reads=$(probes_count vdedu_log_read_and_clear)
	walks=$(probes_count vdiommu_iopt_walk_areas)
	if [ $1 = cdev ] && [ "$starts" -ge 1 ] && [ "$reads" -ge 1 ]; then
		pass "$name: QEMU tracked dirty pages with the edu variant's DMA logging"
	elif [ $1 = legacy ] && [ "$starts" = 0 ] && [ "$walks" -ge 1 ]; then
		pass "$name: QEMU tracked dirty pages with type1's VFIO_IOMMU_DIRTY_PAGES"
	else
		fail "$name: QEMU tracked dirty pages with the $1 path's tracker"
	fi
	probes_remove

	started=0
	qt_open
	if [ -s "$HOST$MIG" ] &&
	   start_qemu10 "$name: destination up and paused, incoming" tcg \
		-bios "$HALT_BIOS" -qtest "pipe:$QT" -incoming "file:$MIG" \
		$(printf "$dev" "$edu2"); then
		qt_connect && started=1
	elif [ ! -s "$HOST$MIG" ]; then
		skip "$name: destination up and paused, incoming" "no stream"
	fi
	# Loaded, then running: QEMU takes the device from RESUMING to
	# RUNNING (the variant writes the state into it on the way).
	ok=0
	if [ $started = 1 ] && mig_wait_incoming &&
	   qemu_cmd "cont" $mig_n "$WORK/mig-cont" &&
	   qemu_cmd "info status" $((mig_n + 1)) "$WORK/mig-status" &&
	   grep -q 'status: running' "$WORK/mig-status"; then
		ok=1
	elif [ $started = 1 ]; then
		diag_file "$WORK/qemu.out"
	fi
	outcome $started $ok "$name: destination runs: its edu out of RESUMING"
	if [ $ok = 1 ] && ok=0 &&
	   qt readl $((BAR_ADDR + 0x04)) && val=$((qt_val)) &&
	   qt readl $((BAR_ADDR + 0x08)) && fact=$((qt_val)); then
		diag "$name: destination edu: liveness $(printf '%#x' $val), factorial $fact"
		[ $val = $((0xedcba987)) ] && [ $fact = 120 ] && ok=1
	fi
	[ $ok = 1 ] && pass "$name: destination's edu holds the source's registers" ||
		fail "$name: destination's edu holds the source's registers"
	if [ $started = 1 ]; then
		qemu_quit "$name: destination exited 0 on quit"
	else
		skip "$name: destination exited 0 on quit" "qemu did not start"
	fi
	stop_qemu
	exec 3>&-
	qt_close
	rm -f "$HOST$QT.in" "$HOST$QT.out" "$HOST$MIG" "$HOST$HALT_BIOS"
	tr -d '\r' < "$WORK/qemu.out" 2>/dev/null |
		grep -iE 'warn|error|fail' | sed "s/^/# $name: qemu: /"
	pinned_back "$name: " "$before" $stuck
}

# --- dynamic MSI-X -----------------------------------------------------------
NVME_DEV=6		# the nvme's slot in QEMU's guest
NVME_BAR=0xfe000000
MSIX_RESULTS="nvme bound to vfio-pci|qemu up and paused|a vector added while MSI-X is on (pci_msix_alloc_irq_at)|qemu exited 0 on quit|pinned pages back to where they were|nvme back to its driver"

msix_probe_add() {
	[ -e "$TRACEFS/kprobe_events" ] ||
		mount -t tracefs tracefs "$TRACEFS" 2>/dev/null || return 1
	msix_probe_remove
	echo "p:vfiodev_msix/alloc_at pci_msix_alloc_irq_at" >> "$TRACEFS/kprobe_events" ||
		return 1
	: > "$TRACEFS/trace"
	echo 1 > "$TRACEFS/tracing_on"
	echo 1 > "$TRACEFS/events/vfiodev_msix/enable"
}
msix_probe_remove() {
	echo 0 > "$TRACEFS/events/vfiodev_msix/enable" 2>/dev/null
	echo "-:vfiodev_msix/alloc_at" >> "$TRACEFS/kprobe_events" 2>/dev/null
	return 0
}

# msix_entry BASE N: table entry N at BASE unmasked, with an MSI address
# and data, as a guest driver writes it.
msix_entry() {
	local e=$(($1 + 16 * $2))

	qt writel $e 0xfee00000 && qt writel $((e + 4)) 0 &&
		qt writel $((e + 8)) $((0x30 + $2)) && qt writel $((e + 12)) 0
}

# run_msix NVME: six results.  QEMU 10 on the legacy path (both stacks
# have it on Debian's kernel) with the nvme; its BAR0 placed, MSI-X on,
# entry 0 unmasked, then entry 1: with MSI-X resizable QEMU adds vector 1
# alone, through VFIO_DEVICE_SET_IRQS of that vector.
run_msix() {
	local name="dynamic MSI-X" nvme=$1 drv started=0 before cap tbl n0 n1 ok=0

	drv=$(driver_of "$nvme")
	if rebind "$nvme" "$DRIVER"; then
		pass "$name: nvme bound to vfio-pci"
	else
		diag "$nvme: $(dev_state "$nvme")"
		fail "$name: nvme bound to vfio-pci"
		return
	fi
	before=$(pinned)
	msix_probe_add || diag "$name: no kprobe on pci_msix_alloc_irq_at"
	qt_open
	start_qemu10 "$name" tcg -qtest "pipe:$QT" \
		-device "vfio-pci,host=$nvme,bus=pcie.0,addr=$NVME_DEV" &&
		qt_connect && started=1
	if [ $started = 1 ] &&
	   cfg_write32 0 $NVME_DEV 0x10 $NVME_BAR &&
	   cfg_write32 0 $NVME_DEV 0x14 0 &&
	   cfg_write16 0 $NVME_DEV 0x04 0x0006 &&
	   cap=$(cfg_cap 0 $NVME_DEV 0x11) &&
	   tbl=$(cfg_read32 0 $NVME_DEV $((cap + 4))) &&
	   cfg_write16 0 $NVME_DEV $((cap + 2)) 0x8000 &&
	   msix_entry $((NVME_BAR + (tbl & ~7))) 0 &&
	   n0=$(grep -c ' alloc_at: ' "$TRACEFS/trace"; true) &&
	   msix_entry $((NVME_BAR + (tbl & ~7))) 1; then
		n1=$(grep -c ' alloc_at: ' "$TRACEFS/trace"; true)
		diag "$name: MSI-X at $(printf '%#x' "$cap"), table $(printf '%#x' "$tbl"); pci_msix_alloc_irq_at() calls after entry 0: $n0, after entry 1: $n1"
		[ "$n1" -gt "$n0" ] && ok=1
	fi
	[ $ok = 1 ] || [ $started != 1 ] || diag_file "$WORK/qemu.out"
	outcome $started $ok "$name: a vector added while MSI-X is on (pci_msix_alloc_irq_at)"
	msix_probe_remove
	end_qemu "$name" $started "$before"
	qt_close
	rm -f "$HOST$QT.in" "$HOST$QT.out"
	unbind "$nvme"
	echo > "$(dev_dir "$nvme")/driver_override"
	echo "$nvme" > /sys/bus/pci/drivers_probe 2>/dev/null
	if [ "$(driver_of "$nvme")" = "$drv" ]; then
		pass "$name: nvme back to its driver"
	else
		diag "$nvme: $(dev_state "$nvme")"
		fail "$name: nvme back to its driver"
	fi
}

# skip_run NAME NDEV REASON: the five results of a run that cannot happen.
skip_run() {
	skip "$1: qemu up and paused" "$3"
	skip "$1: info pci lists $2 x 1234:11e8" "$3"
	skip "$1: pages pinned while qemu runs" "$3"
	skip "$1: qemu exited 0 on quit" "$3"
	skip "$1: pinned pages back to where they were" "$3"
}

echo "TAP version 13"
# On the debug kernel a nested QEMU takes about four minutes to start, and
# this test starts three: it runs on Debian's kernel, where it is cheap.
# The ioctls it makes run under the debug kernel's detectors all the same,
# in iommufd_device and vfio_group.  VFIODEV_QEMU_ON_DEBUG=1 runs it anyway.
# (What it prints must not name a detector: the verdict reads the console.)
case $(uname -r) in
*-vfiodev-debug)
	if [ "${VFIODEV_QEMU_ON_DEBUG:-0}" != 1 ]; then
		echo "1..1"
		skip "QEMU 10 cdev client" "runs on Debian's kernel only (a nested QEMU is slow on the debug kernel; VFIODEV_QEMU_ON_DEBUG=1 runs it)"
		exit 0
	fi
	;;
esac
echo "1..53"
rm -rf "$WORK"
mkdir -p "$WORK"

# 1. The host's root over 9p, and QEMU 10 in it.
t0=$(now)
host_ok=0 why_host="no hostroot"
qroot="" qemu=""
if hostroot_mount; then
	# The newest unpacked version, as the host names it.
	for r in $HOST$QEMU10_GLOB; do
		[ -x "$r/usr/bin/qemu-system-x86_64" ] && qroot=${r#"$HOST"}
	done
	# make check says where it unpacked QEMU 10: then it must be there.
	if [ -n "${VFIODEV_QEMU10:-}" ]; then
		qroot=""
		[ -x "$HOST$VFIODEV_QEMU10/usr/bin/qemu-system-x86_64" ] &&
			qroot=$VFIODEV_QEMU10
	fi
	if [ -n "$qroot" ]; then
		qemu=$qroot/usr/bin/qemu-system-x86_64
		host_ok=1
	else
		why_host="no QEMU 10 on the host under ${VFIODEV_QEMU10:-$QEMU10_GLOB} (run scripts/qemu10.sh CACHE there)"
		diag "$why_host"
	fi
fi
if [ $host_ok = 1 ]; then
	pass "hostroot mounted, QEMU 10 found"
	diag "hostroot: mounted in $(since "$t0") s; QEMU 10: $qemu"
elif [ -n "$qroot$mounted" ] && [ "${why_host#no QEMU 10}" != "$why_host" ] &&
     [ -z "${VFIODEV_QEMU10:-}" ]; then
	skip "hostroot mounted, QEMU 10 found" "$why_host"
else
	fail "hostroot mounted, QEMU 10 found"
fi

# 2. The edus, bound to the stack's vfio-pci driver.
edus=$(find_edus)
set -- $edus
edu1=${1:-} edu2=${2:-}
dev_ok=0
if [ $host_ok != 1 ]; then
	skip "edu bound to $DRIVER" "$why_host"
elif [ -z "$edu1" ]; then
	diag "no edu alone in its IOMMU group on the root bus"
	fail "edu bound to $DRIVER"
elif take "$edu1" 1; then
	dev_ok=1
	pass "edu bound to $DRIVER"
else
	diag "$edu1: $(dev_state "$edu1")"
	fail "edu bound to $DRIVER"
fi

# 3. The cdev path's nodes: /dev/iommu and the edu's VFIO cdev.
cdev_ok=0 why_cdev="the edu is not bound"
if [ $host_ok != 1 ]; then
	why_cdev=$why_host
	skip "cdev nodes /dev/iommu and /dev/vfio/devices/vfioN" "$why_cdev"
elif [ $dev_ok != 1 ]; then
	skip "cdev nodes /dev/iommu and /dev/vfio/devices/vfioN" "$why_cdev"
elif [ ! -c /dev/iommu ]; then
	if [ "$STACK" = upstream ]; then
		why_cdev="no /dev/iommu: this guest kernel has no iommufd (Debian's stock kernel); upstream's cdev path needs the debug kernel"
		skip "cdev nodes /dev/iommu and /dev/vfio/devices/vfioN" "$why_cdev"
	else
		why_cdev="no /dev/iommu"
		fail "cdev nodes /dev/iommu and /dev/vfio/devices/vfioN"
	fi
elif cdev1=$(cdev_of "$edu1"); then
	cdev_ok=1
	diag "$edu1: $cdev1 ($(cat "$(dev_dir "$edu1")"/vfio-dev/vfio*/dev))"
	pass "cdev nodes /dev/iommu and /dev/vfio/devices/vfioN"
else
	why_cdev="the edu has no VFIO cdev"
	diag "$edu1: vfio-dev holds: $(ls "$(dev_dir "$edu1")/vfio-dev" 2>/dev/null)"
	diag "/dev/vfio holds: $(ls -R /dev/vfio 2>/dev/null | tr '\n' ' ')"
	fail "cdev nodes /dev/iommu and /dev/vfio/devices/vfioN"
fi

# 4-8. One edu, through iommufd.
if [ $cdev_ok = 1 ]; then
	run_qemu "one edu" 1 -object iommufd,id=iommufd0 \
		-device "vfio-pci,host=$edu1,iommufd=iommufd0"
else
	skip_run "one edu" 1 "$why_cdev"
fi

# 9-13. Two edus on one iommufd object.
two_ok=0 why_two=$why_cdev
if [ $cdev_ok != 1 ] || [ $stuck = 1 ]; then
	[ $stuck = 1 ] && why_two="a QEMU is stuck"
elif [ -z "$edu2" ]; then
	why_two="no second edu alone in its IOMMU group on the root bus"
	diag "$why_two"
elif ! take "$edu2" 2; then
	why_two="the second edu could not be bound to $DRIVER"
	diag "$edu2: $(dev_state "$edu2")"
elif ! cdev_of "$edu2" > /dev/null; then
	why_two="the second edu has no VFIO cdev"
	diag "$why_two"
else
	two_ok=1
fi
if [ $two_ok = 1 ]; then
	run_qemu "two edus" 2 -object iommufd,id=iommufd0 \
		-device "vfio-pci,host=$edu1,iommufd=iommufd0" \
		-device "vfio-pci,host=$edu2,iommufd=iommufd0"
elif [ -n "$edu2" ] && [ $cdev_ok = 1 ] && [ $stuck != 1 ]; then
	# The second edu exists but could not be made ready: a failure.
	for t in "qemu up and paused" "info pci lists 2 x 1234:11e8" \
		 "pages pinned while qemu runs" "qemu exited 0 on quit" \
		 "pinned pages back to where they were"; do
		fail "two edus: $t"
	done
else
	skip_run "two edus" 2 "$why_two"
fi

# 14-18. fd passing: /dev/iommu and the edu's cdev opened here.
why_fd=$why_cdev
if [ $cdev_ok = 1 ] && [ $stuck != 1 ] &&
   command eval "exec $IOMMU_FD<>/dev/iommu $DEV_FD<>$cdev1"; then
	diag "fd $IOMMU_FD: $(readlink /proc/$$/fd/$IOMMU_FD), fd $DEV_FD: $(readlink /proc/$$/fd/$DEV_FD)"
	# This shell's copies keep the iommufd context and the device open
	# after QEMU: closed before the pinned count is checked.
	RUN_AFTER=close_fds
	run_qemu "fd passing" 1 -object "iommufd,id=i0,fd=$IOMMU_FD" \
		-device "vfio-pci,fd=$DEV_FD,iommufd=i0"
	RUN_AFTER=
	close_fds
elif [ $cdev_ok = 1 ] && [ $stuck != 1 ]; then
	diag "could not open /dev/iommu and $cdev1"
	for t in "qemu up and paused" "info pci lists 1 x 1234:11e8" \
		 "pages pinned while qemu runs" "qemu exited 0 on quit" \
		 "pinned pages back to where they were"; do
		fail "fd passing: $t"
	done
else
	[ $stuck = 1 ] && why_fd="a QEMU is stuck"
	skip_run "fd passing" 1 "$why_fd"
fi

# 19-25. Hot-unplug: info mtree, device_del; both edus, over qtest.
if [ $two_ok = 1 ] && [ $stuck != 1 ]; then
	run_hotplug
else
	[ $stuck = 1 ] && why_two="a QEMU is stuck"
	for t in "qemu up and paused" \
		 "info mtree maps the edu's BAR0 from its region (mmaps[0])" \
		 "pages pinned while qemu runs" \
		 "device_del takes the edu out of its slot" \
		 "qemu closed the unplugged edu's cdev" "qemu exited 0 on quit" \
		 "pinned pages back to where they were"; do
		skip "hot-unplug: $t" "$why_two"
	done
fi

# 26-45. Live migration, both edus on the edu variant (ours only), on the
# cdev path and on the legacy one.
echo "$MIG_RESULTS" | tr '|' '\n' > "$WORK/mig-results"
why_mig=$why_two mig_fail=0
if [ $two_ok = 1 ] && [ $stuck != 1 ] && [ "$STACK" = upstream ]; then
	why_mig="upstream has no edu variant"
elif [ $two_ok = 1 ] && [ $stuck != 1 ]; then
	if rebind "$edu1" $EDU_VARIANT && rebind "$edu2" $EDU_VARIANT; then
		run_migrate cdev
		if [ $stuck = 1 ]; then
			while read -r t; do
				skip "migration, legacy path: $t" "a QEMU is stuck"
			done < "$WORK/mig-results"
		else
			run_migrate legacy
		fi
	else
		diag "the edus could not be bound to $EDU_VARIANT: $(dev_state "$edu1"); $(dev_state "$edu2")"
		mig_fail=1
	fi
	why_mig=""
fi
for path in cdev legacy; do
	while read -r t; do
		if [ $mig_fail = 1 ]; then
			fail "migration, $path path: $t"
		elif [ -n "$why_mig" ]; then
			[ $stuck = 1 ] && why_mig="a QEMU is stuck"
			skip "migration, $path path: $t" "$why_mig"
		fi
	done < "$WORK/mig-results"
done

# 46-51. Dynamic MSI-X, the nvme on the legacy path (both stacks).
nvme=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/class")" = 0x010802 ] && nvme=$(basename "$d")
done
if [ $host_ok = 1 ] && [ $stuck != 1 ] && [ -n "$nvme" ]; then
	run_msix "$nvme"
else
	why_msix=$why_host
	[ $stuck = 1 ] && why_msix="a QEMU is stuck"
	[ -z "$nvme" ] && why_msix="no nvme in the guest"
	echo "$MSIX_RESULTS" | tr '|' '\n' > "$WORK/msix-results"
	while read -r t; do
		skip "dynamic MSI-X: $t" "$why_msix"
	done < "$WORK/msix-results"
fi

# 52. The edus as they were found (their fds closed first).
stop_qemu
close_fds
if [ -z "$taken" ]; then
	skip "edus given back as found" "no edu was taken"
elif [ $stuck = 1 ]; then
	diag "$taken left bound: a QEMU is stuck"
	fail "edus given back as found"
else
	ok=1
	for d in $taken; do
		if give_back "$d"; then
			diag "$d back: $(dev_state "$d")"
		else
			diag "$d: $(dev_state "$d")"
			ok=0
		fi
	done
	taken=""
	[ $ok = 1 ] && pass "edus given back as found" || fail "edus given back as found"
fi

# 53. Every mount undone.
cleanup
left=$(awk -v h="$HOST" '$2 == h || index($2, h "/") == 1 { print $2 }' /proc/mounts)
if [ -z "$left" ]; then
	pass "every mount undone"
else
	diag "still mounted: $left"
	fail "every mount undone"
fi
echo "# Totals: $((num - failed)) ok, $failed failed"
[ $failed = 0 ]
