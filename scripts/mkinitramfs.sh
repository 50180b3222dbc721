#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest initramfs: busybox, the guest scripts, our modules,
# upstream's VFIO modules from the unpacked Debian image (decompressed, so
# that loading them logs no "Invalid ELF header" line), the test programs
# and the example programs.
#
# Usage: mkinitramfs.sh OUT KMODDIR OURMODS TESTDIR BINDIR
#   OUT      the .cpio.gz to write
#   KMODDIR  /lib/modules/KVER of the guest kernel
#   OURMODS  directory with our .ko files
#   TESTDIR  directory with the test programs and their "list" (run order)
#   BINDIR   directory with extra programs for /bin (examples)
set -euo pipefail

out=$1 kmoddir=$2 ourmods=$3 testdir=$4 bindir=$5
here=$(cd "$(dirname "$0")" && pwd)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules/vfiodev,lib/modules/upstream,tests}

cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
	# The list names busybox itself; a link over the binary loops.
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done

install -m 0755 "$here/guest/init" "$root/init"
install -m 0755 "$here/guest/demo" "$root/demo"
cp "$ourmods"/*.ko "$root/lib/modules/vfiodev/"

for m in virt/lib/irqbypass drivers/vfio/vfio drivers/vfio/vfio_iommu_type1 \
	 drivers/vfio/pci/vfio-pci-core drivers/vfio/pci/vfio-pci; do
	xz -dc "$kmoddir/kernel/$m.ko.xz" > "$root/lib/modules/upstream/${m##*/}.ko"
done

cp "$testdir"/list "$root/tests/"
while read -r t; do
	install -m 0755 "$testdir/$t" "$root/tests/$t"
done < "$testdir/list"
for b in "$bindir"/*; do
	install -m 0755 "$b" "$root/bin/"
done

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
