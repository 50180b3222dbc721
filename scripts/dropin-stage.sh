#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`'s drop-in install, on the host, into scratch trees only:
#
#   1. `make install DESTDIR=ROOT` puts what a host gets under ROOT
#      (the DKMS source in ROOT/usr/src, modprobe.d, udev rules, header).
#   2. dkms add/build/install of that source for the guest kernel KVER, with
#      its own dkms tree and, as install tree, ROOT/lib/modules: a copy
#      (hard links) of the guest kernel's module tree, as on a host with
#      that kernel installed.  depmod then indexes it as Debian's kernel
#      postinst would.
#   3. The way back, on a second scratch root that held a file of its own
#      beforehand: install, DKMS install over another copy of the module
#      tree, then what `make uninstall` does on a host (dkms remove, which
#      depmods, and the files): vfio-pci resolves to Debian's module again
#      and the tree is as it was.
#
# ROOT is what the drop-in guest (run-guest.sh --stack dkms) mounts as its
# host: its modprobe then finds vfiodev's modules in updates/dkms.
# Prints one "PASS name" / "FAIL name" line a check; details in B/dropin/.
#
# Usage: dropin-stage.sh B KVER KDIR KMODDIR
set -uo pipefail

B=$1 kver=$2 kdir=$3 kmoddir=$4
top=$(cd "$(dirname "$0")/.." && pwd)
work=$B/dropin
root=$work/root
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")

rm -rf "$work"
mkdir -p "$work"

result() {	# result OK NAME LOG
	if [ "$1" = 0 ]; then
		echo "PASS $2"
	else
		echo "FAIL $2"
		tail -n 30 "$3" | sed 's/^/#   /'
	fi
}

# 1 + 2: install, DKMS build and install for KVER, depmod.
stage() {
	make -s -C "$top" install DESTDIR="$root" &&
	mkdir -p "$root/lib/modules" "$work/dkms" &&
	cp -al "$kmoddir" "$root/lib/modules/$kver" &&
	dkms add -m vfiodev -v "$version" --sourcetree "$root/usr/src" \
		--dkmstree "$work/dkms" &&
	dkms build -m vfiodev -v "$version" -k "$kver" --kernelsourcedir "$kdir" \
		--sourcetree "$root/usr/src" --dkmstree "$work/dkms" &&
	dkms install -m vfiodev -v "$version" -k "$kver" --kernelsourcedir "$kdir" \
		--sourcetree "$root/usr/src" --dkmstree "$work/dkms" \
		--installtree "$root/lib/modules" --no-depmod &&
	depmod -b "$root" "$kver" || return 1
	# What a host then has: our five modules in updates/dkms, and the names
	# resolve to them.
	local m path
	for m in iommufd vfio vfio-pci-core vfio-pci edu-vfio-pci vfiodev-nl; do
		path=$(modprobe -d "$root" -S "$kver" -C "$root/etc/modprobe.d" \
			--show-depends "$m" | tail -n 1)
		echo "$m -> $path"
		case $path in
		"insmod $root/lib/modules/$kver/updates/dkms/$m.ko"*) ;;
		*) echo "$m does not resolve to the DKMS install"; return 1 ;;
		esac
	done
}
stage > "$work/stage.log" 2>&1
result $? "host: make install DESTDIR + dkms build/install for $kver, modprobe names resolve to updates/dkms" \
	"$work/stage.log"

# 3: the way back to Debian's modules, and a tree as it was.
resolve() {	# resolve ROOT MODULE: the file modprobe would load
	modprobe -d "$1" -S "$kver" -C "$1/etc/modprobe.d" --show-depends "$2" |
		tail -n 1
}
roundtrip() {
	local t=$work/roundtrip before after path
	mkdir -p "$t/etc/modprobe.d" "$t/lib/modules"
	echo "options foo bar=1" > "$t/etc/modprobe.d/local.conf"
	cp -al "$kmoddir" "$t/lib/modules/$kver"
	# A host's module tree has its indexes (the kernel package's postinst).
	depmod -b "$t" "$kver" || return 1
	before=$(cd "$t" && find . | sort)
	make -s -C "$top" install DESTDIR="$t" || return 1
	[ -f "$t/etc/modprobe.d/vfiodev.conf" ] || return 1
	# The DKMS build of step 2 is reused: install it here too (--force:
	# DKMS counts it installed already, in step 2's tree), then remove it.
	dkms install --force -m vfiodev -v "$version" -k "$kver" --kernelsourcedir "$kdir" \
		--sourcetree "$root/usr/src" --dkmstree "$work/dkms" \
		--installtree "$t/lib/modules" --no-depmod &&
	depmod -b "$t" "$kver" || return 1
	path=$(resolve "$t" vfio-pci)
	echo "installed: vfio-pci -> $path"
	case $path in *"/updates/dkms/vfio-pci.ko"*) ;; *) return 1 ;; esac
	dkms remove -m vfiodev -v "$version" -k "$kver" --sourcetree "$root/usr/src" \
		--dkmstree "$work/dkms" --installtree "$t/lib/modules" &&
	depmod -b "$t" "$kver" || return 1
	path=$(resolve "$t" vfio-pci)
	echo "removed: vfio-pci -> $path"
	case $path in *"/kernel/drivers/vfio/pci/vfio-pci.ko"*) ;; *) return 1 ;; esac
	make -s -C "$top" uninstall DESTDIR="$t" || return 1
	after=$(cd "$t" && find . | sort)
	diff <(echo "$before") <(echo "$after")
}
roundtrip > "$work/roundtrip.log" 2>&1
result $? "host: uninstall (dkms remove + make uninstall) gives back Debian's vfio-pci and the tree as before" \
	"$work/roundtrip.log"
