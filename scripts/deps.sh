#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install and fetch what vfiodev needs on a Debian 12 host, idempotently.
#
# Host tools come from apt.  The guest kernel is *not* installed on the host:
# linux-image-KVER-unsigned, linux-headers-KVER (+ -common) and the matching
# linux-kbuild are fetched with `apt-get download` and unpacked with `dpkg -x`
# into one private root, $CACHE/kernel/KVER/root, in lockstep.  Installing the
# headers package with apt would pull a kernel image onto the host, because
# it depends on one.
#
# From linux-source-6.12 (installed with apt) only the few files the build
# needs are extracted: the kselftest harness headers and checkpatch.
#
# Usage: scripts/deps.sh CACHE [KVER [ENVMK]]
#   KVER defaults to the newest 6.12.N+deb12-amd64 for which apt offers both
#   the unsigned image and the headers ("" means the default).  The last line
#   on stdout is KVER.  With ENVMK, the paths are also written there as make
#   variables (the file is left alone when nothing changed).
set -euo pipefail

cache=${1:?usage: deps.sh CACHE [KVER [ENVMK]]}
kver=${2:-}
envmk=${3:-}

log() { printf 'deps: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

host_pkgs=(build-essential gcc-12 bc kmod cpio xz-utils zstd pahole flex bison
	   libelf-dev libssl-dev rsync
	   libelf1 libssl3 zlib1g qemu-system-x86 qemu-utils busybox-static
	   libnl-3-dev libnl-genl-3-dev pkg-config sparse perl python3 groff-base
	   python3-yaml python3-jsonschema gnuplot-nox
	   linux-source-6.12
	   dkms dpdk dpdk-dev driverctl pciutils)

apt_updated=
apt_update_once() {
	[ -n "$apt_updated" ] && return 0
	log "apt-get update"
	as_root apt-get update -qq >&2
	apt_updated=1
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${host_pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} != 0 ]; then
	apt_update_once
	log "apt-get install ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

pick_kver() {
	apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
		sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb12-amd64\)-unsigned .*/\1/p' |
		sort -t. -k3,3nr | while read -r v; do
			if apt-cache show "linux-headers-$v" >/dev/null 2>&1; then
				echo "$v"
				break
			fi
		done
}

if [ -z "$kver" ]; then
	# The local package lists answer without the network; refresh them
	# only when they know no 6.12 image, or when the download below fails.
	kver=$(pick_kver)
	if [ -z "$kver" ]; then
		apt_update_once
		kver=$(pick_kver)
	fi
	[ -n "$kver" ] || { log "apt offers no linux-image-6.12.*+deb12-amd64-unsigned"; exit 1; }
fi
case $kver in
6.12.*+deb12-amd64) ;;
*) log "KVER=$kver is not a Debian 12 6.12 amd64 flavour"; exit 1 ;;
esac

kroot=$cache/kernel/$kver/root
download() {
	local abi=${kver%-amd64}

	(cd "$1" && apt-get download -qq -o APT::Sandbox::User=root \
		"linux-image-$kver-unsigned" "linux-headers-$kver" \
		"linux-headers-$abi-common" "linux-kbuild-$abi" >&2)
}

if [ ! -f "$cache/kernel/$kver/.unpacked" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	log "apt-get download the $kver image, headers and kbuild"
	if ! download "$tmp"; then
		apt_update_once
		download "$tmp"
	fi
	rm -rf "$cache/kernel/$kver"
	mkdir -p "$kroot"
	for deb in "$tmp"/*.deb; do
		dpkg -x "$deb" "$kroot"
	done
	# The flavour's Makefile includes the common one by absolute path.
	sed -i "s|^include /usr/src/|include $kroot/usr/src/|" \
		"$kroot/usr/src/linux-headers-$kver/Makefile"
	touch "$cache/kernel/$kver/.unpacked"
fi

# Bits of linux-source-6.12, keyed by its package version.
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
src=$cache/src/$srcver
if [ ! -f "$src/.extracted" ]; then
	log "extracting kselftest harness and checkpatch from linux-source-6.12 $srcver"
	rm -rf "$src"
	mkdir -p "$src"
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$src" --strip-components=1 \
		--wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/scripts/checkpatch.pl' \
		'*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	touch "$src/.extracted"
fi
ln -sfn "$srcver" "$cache/src/current"

if [ -n "$envmk" ]; then
	kdir=$kroot/usr/src/linux-headers-$kver
	cat > "$envmk.tmp" <<EOT
# Written by scripts/deps.sh; do not edit.
KVER := $kver
KROOT := $kroot
KDIR := $kdir
KCOMMON := $kroot/usr/src/linux-headers-${kver%-amd64}-common
KIMAGE := $kroot/boot/vmlinuz-$kver
KMODDIR := $kroot/lib/modules/$kver
KSRC := $src
KSFT_INC := $src/tools/testing/selftests
CHECKPATCH := $src/scripts/checkpatch.pl
EOT
	if cmp -s "$envmk.tmp" "$envmk"; then
		rm -f "$envmk.tmp"
	else
		mv "$envmk.tmp" "$envmk"
	fi
fi
echo "$kver"
