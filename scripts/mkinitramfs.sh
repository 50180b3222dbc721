#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest initramfs: busybox, the guest scripts, our modules (KUnit
# suites, *_kunit.ko, apart), upstream's VFIO modules from the guest kernel's
# module tree (decompressed, so that loading them logs no "Invalid ELF
# header" line) with their load order, the 9p client modules (same way,
# for mounting the host's root), the test programs and the examples.
#
# Usage: mkinitramfs.sh OUT KMODDIR OURMODS TESTDIR BINDIR [STAGE]
#   OUT      the .cpio.gz to write
#   KMODDIR  /lib/modules/KVER of the guest kernel
#   OURMODS  directory with our .ko files
#   TESTDIR  directory with the test programs and their "list" (run order)
#   BINDIR   directory with extra programs for /bin (examples)
#   STAGE    a staged `make install` of libvfiodev: its shared library goes
#            to /usr/lib, with the host's C library and dynamic loader, for
#            the tests' one dynamically linked program
set -euo pipefail

out=$1 kmoddir=$2 ourmods=$3 testdir=$4 bindir=$5 stage=${6:-}
here=$(cd "$(dirname "$0")" && pwd)

root=$(mktemp -d)
# mktemp makes it 0700: the guest's / must let unprivileged users through.
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,tests}
mkdir -p "$root"/lib/modules/{vfiodev,upstream,kunit,9p}

cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
	# The list names busybox itself; a link over the binary loops.
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done

install -m 0755 "$here/guest/init" "$root/init"
install -m 0755 "$here/guest/demo" "$root/demo"
install -m 0755 "$here/guest/bench" "$root/bench"
install -m 0755 "$here/guest/dropin-setup" "$root/dropin-setup"
for ko in $(find "$ourmods" -name '*.ko'); do
	case $ko in
	*_kunit.ko) cp "$ko" "$root/lib/modules/kunit/" ;;
	*) cp "$ko" "$root/lib/modules/vfiodev/" ;;
	esac
done

# Copies the named modules of the guest kernel that exist as modules into
# DIR, decompressed, and lists them in DIR/order in the order given (their
# load order); a module built into the kernel is simply not there.
pick_modules() {	# pick_modules DIR MODULE...
	local dir=$1 m f
	shift
	: > "$dir/order"
	for m in "$@"; do
		f=$(find "$kmoddir/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -n 1)
		[ -n "$f" ] || continue
		case $f in
		*.xz) xz -dc "$f" > "$dir/$m.ko" ;;
		*) cp "$f" "$dir/$m.ko" ;;
		esac
		echo "$m" >> "$dir/order"
	done
}

# Upstream's stack in load order; iommufd exists only in the debug kernel.
pick_modules "$root/lib/modules/upstream" \
	irqbypass iommufd vfio vfio_iommu_type1 vfio-pci-core vfio-pci

# The 9p client over virtio-pci.  Debian's kernel has the virtio-pci
# transport built in and 9p as modules; the debug kernel (kvm_guest.config)
# builds all of it in.  The virtio names are there in case a kernel has
# them as modules.  overlay: the drop-in root's writable layer.
pick_modules "$root/lib/modules/9p" \
	virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
	netfs 9pnet 9pnet_virtio 9p overlay

cp "$testdir"/list "$root/tests/"
# Shell code the test scripts source.
for lib in "$testdir"/*.sh; do
	[ -e "$lib" ] && install -m 0644 "$lib" "$root/tests/"
done
while read -r t; do
	install -m 0755 "$testdir/$t" "$root/tests/$t"
done < "$testdir/list"
for b in "$bindir"/*; do
	install -m 0755 "$b" "$root/bin/"
done

if [ -n "$stage" ]; then
	mkdir -p "$root/usr/lib"
	cp -a "$stage"/usr/lib/libvfiodev.so* "$root/usr/lib/"
	install -m 0755 "$testdir/libvfiodev_dyn" "$root/tests/"
	# What the dynamically linked test program needs besides libvfiodev.
	for lib in $(LD_LIBRARY_PATH="$stage/usr/lib" ldd "$testdir/libvfiodev_dyn" | grep -o '/[^ ]*'); do
		case $lib in *libvfiodev*) continue ;; esac
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
fi

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
