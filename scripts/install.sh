#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make install` / `make uninstall`: what a host gets of vfiodev.
#
#   $SRCDIR/vfiodev-VERSION/     the DKMS source tree (dkms.conf, kernel/
#                                without the test modules, uapi/linux/vfiodev*.h)
#   $MODPROBEDIR/vfiodev.conf    what replaces what (dist/modprobe.d)
#   $UDEVRULESDIR/70-vfiodev.rules  owner and mode of the nodes (dist/udev)
#   $PREFIX/include/linux/vfiodev{,_nl}.h the uAPI additions, for user space
#   $PREFIX/lib/libvfiodev.so.1*, .a, pkgconfig/libvfiodev.pc,
#   $PREFIX/include/vfiodev{.h,/}, $PREFIX/bin/vfiodev, man pages
#                                libvfiodev, when `make` has built it
#   $PREFIX/share/vfiodev/installed what was installed, for uninstall
#
# Every path is under $DESTDIR.  Without DESTDIR (a real install, as root)
# the modules are also built and installed with DKMS for every installed
# kernel 6.12 that has its headers, and udev reloads its rules; uninstall
# removes them from DKMS (depmod then finds Debian's own modules again).
#
# Only files and directories that install made are removed by uninstall:
# it reads the manifest, so directories that existed before stay.
#
# Usage: install.sh install|uninstall
# Environment: DESTDIR, PREFIX (/usr/local), SYSCONFDIR (/etc), SRCDIR
# (/usr/src), MODPROBEDIR ($SYSCONFDIR/modprobe.d), UDEVRULESDIR
# ($SYSCONFDIR/udev/rules.d), MODULES_ROOT (/lib/modules).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
action=${1:?usage: install.sh install|uninstall}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
SYSCONFDIR=${SYSCONFDIR:-/etc}
SRCDIR=${SRCDIR:-/usr/src}
MODPROBEDIR=${MODPROBEDIR:-$SYSCONFDIR/modprobe.d}
UDEVRULESDIR=${UDEVRULESDIR:-$SYSCONFDIR/udev/rules.d}
MODULES_ROOT=${MODULES_ROOT:-/lib/modules}

version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
[ -n "$version" ] || { echo "install: no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
manifest_path=$PREFIX/share/vfiodev/installed
manifest=$DESTDIR$manifest_path
dkmssrc=$SRCDIR/vfiodev-$version

log() { printf 'install: %s\n' "$*" >&2; }

# --- install ----------------------------------------------------------------
# Each directory made and each file put is written to the manifest as it
# happens (paths without DESTDIR), so a failed install can be undone too.
entries=()
mkdirs() {	# mkdirs DIR: make DIR and its missing parents, noting each
	local d=$1 missing=()
	while [ "$d" != / ] && [ ! -d "$DESTDIR$d" ]; do
		missing=("$d" "${missing[@]}")
		d=$(dirname "$d")
	done
	for d in "${missing[@]}"; do
		mkdir -m 0755 "$DESTDIR$d"
		entries+=("d $d")
	done
}
put() {	# put MODE SRC DST
	mkdirs "$(dirname "$3")"
	install -m "$1" "$2" "$DESTDIR$3"
	entries+=("f $3")
}
link() {	# link TARGET DST: a symbolic link, removed like a file
	mkdirs "$(dirname "$2")"
	ln -sfn "$1" "$DESTDIR$2"
	entries+=("f $2")
}

# libvfiodev as `make` built it (build/libvfiodev): library, headers,
# pkg-config file, command, man pages.
install_libvfiodev() {
	local lib=$top/build/libvfiodev libdir=$PREFIX/lib f pc
	local so=libvfiodev.so.1.0.0

	if [ ! -e "$lib/lib/$so" ] || [ ! -e "$lib/bin/vfiodev" ]; then
		log "libvfiodev is not built (run make first): not installed"
		return 0
	fi
	put 0755 "$lib/lib/$so" "$libdir/$so"
	link "$so" "$libdir/libvfiodev.so.1"
	link libvfiodev.so.1 "$libdir/libvfiodev.so"
	put 0644 "$lib/lib/libvfiodev.a" "$libdir/libvfiodev.a"
	pc=$(mktemp)
	sed -e "s|@PREFIX@|$PREFIX|" -e "s|@LIBDIR@|$libdir|" \
	    -e "s|@INCLUDEDIR@|$PREFIX/include|" -e "s|@VERSION@|1.0.0|" \
	    "$top/libvfiodev/libvfiodev.pc.in" > "$pc"
	put 0644 "$pc" "$libdir/pkgconfig/libvfiodev.pc"
	rm -f "$pc"
	put 0644 "$top/libvfiodev/include/vfiodev.h" "$PREFIX/include/vfiodev.h"
	for f in "$top"/libvfiodev/include/vfiodev/*.h; do
		put 0644 "$f" "$PREFIX/include/vfiodev/${f##*/}"
	done
	put 0755 "$lib/bin/vfiodev" "$PREFIX/bin/vfiodev"
	for f in "$top"/libvfiodev/man/*.[137]; do
		put 0644 "$f" "$PREFIX/share/man/man${f##*.}/${f##*/}"
	done
}

kernels_with_headers() {
	local k
	for k in "$MODULES_ROOT"/6.12.*; do
		[ -e "$k/build/include" ] && basename "$k"
	done
	return 0
}

do_install() {
	local f

	if [ -e "$manifest" ]; then
		log "vfiodev is installed already ($manifest): make uninstall first"
		exit 1
	fi
	# A staging root is the caller's: made if missing, never removed.
	[ -z "$DESTDIR" ] || mkdir -p "$DESTDIR"
	# A real install builds the modules with DKMS: say so before anything
	# is copied.
	if [ -z "$DESTDIR" ] && ! command -v dkms > /dev/null; then
		log "DKMS is needed to build the modules: apt-get install dkms linux-headers-\$(uname -r)"
		exit 1
	fi
	mkdirs "$(dirname "$manifest_path")"
	# The manifest's own directories first, so uninstall removes them last.
	trap 'printf "%s\n" "${entries[@]}" > "$manifest"' EXIT

	put 0644 "$top/dkms.conf" "$dkmssrc/dkms.conf"
	while IFS= read -r f; do
		put 0644 "$top/$f" "$dkmssrc/$f"
	done < <(cd "$top" && find kernel -path '*/tests' -prune -o \
		\( -name Kbuild -o -name '*.[ch]' \) -print | sort)
	put 0644 "$top/uapi/linux/vfiodev.h" "$dkmssrc/uapi/linux/vfiodev.h"
	put 0644 "$top/uapi/linux/vfiodev_nl.h" "$dkmssrc/uapi/linux/vfiodev_nl.h"
	put 0644 "$top/dist/modprobe.d/vfiodev.conf" "$MODPROBEDIR/vfiodev.conf"
	put 0644 "$top/dist/udev/70-vfiodev.rules" "$UDEVRULESDIR/70-vfiodev.rules"
	put 0644 "$top/uapi/linux/vfiodev.h" "$PREFIX/include/linux/vfiodev.h"
	put 0644 "$top/uapi/linux/vfiodev_nl.h" "$PREFIX/include/linux/vfiodev_nl.h"
	install_libvfiodev
	entries+=("f $manifest_path")

	[ -z "$DESTDIR" ] || return 0

	# A real install: build and install the modules for every 6.12 kernel
	# with headers.  Later kernels are built by DKMS's kernel hook
	# (AUTOINSTALL), if their headers are installed.
	local kvers k
	kvers=$(kernels_with_headers)
	dkms add "vfiodev/$version"
	if [ -z "$kvers" ]; then
		log "no 6.12 kernel headers here: apt-get install linux-headers-\$(uname -r), then dkms install vfiodev/$version"
	fi
	for k in $kvers; do
		dkms install "vfiodev/$version" -k "$k"
	done
	ldconfig 2>/dev/null || true
	if command -v udevadm > /dev/null && udevadm control --reload 2>/dev/null; then
		udevadm trigger --subsystem-match=misc --subsystem-match=vfio \
			--subsystem-match=vfio-dev || true
	fi
}

# --- uninstall --------------------------------------------------------------
do_uninstall() {
	local kind path line lines i

	if [ ! -e "$manifest" ]; then
		log "vfiodev is not installed here (no $manifest)"
		exit 1
	fi
	if [ -z "$DESTDIR" ] && command -v dkms > /dev/null &&
	   dkms status "vfiodev/$version" 2>/dev/null | grep -q .; then
		# Removes the modules of every kernel and runs depmod: the
		# kernels' own vfio modules are found again.  Loaded modules
		# stay loaded until they are unloaded or the machine restarts.
		dkms remove "vfiodev/$version" --all
	fi
	# Files first (the manifest among them), then the directories install
	# made, deepest first.
	mapfile -t lines < "$manifest"
	for line in "${lines[@]}"; do
		read -r kind path <<< "$line"
		[ "$kind" = f ] && rm -f "$DESTDIR$path"
	done
	for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
		read -r kind path <<< "${lines[i]}"
		[ "$kind" = d ] || continue
		rmdir "$DESTDIR$path" 2>/dev/null || log "left $DESTDIR$path: not empty"
	done
	if [ -z "$DESTDIR" ] && command -v udevadm > /dev/null; then
		udevadm control --reload 2>/dev/null || true
	fi
}

case $action in
install) do_install ;;
uninstall) do_uninstall ;;
*) echo "usage: install.sh install|uninstall" >&2; exit 2 ;;
esac
