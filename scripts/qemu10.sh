#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch QEMU 10 from bookworm-backports and unpack it into the project
# cache, without touching the host's apt or dpkg: the cdev-path client test
# (selftests/vfiodev/qemu_cdev.sh) runs it inside the test guest from the
# host's root over 9p, as qemu_legacy runs Debian 12's own QEMU 7.2.
#
# apt runs on a private configuration, $CACHE/apt-bpo/apt.conf, passed in
# APT_CONFIG (not -o: apt reads /etc/apt/apt.conf.d before the command line,
# and the host's hooks there would run on our update).  Its sources are
# bookworm-backports main, and bookworm main for any library the host lacks;
# its lists, caches and (empty) dpkg status are its own.
#
# The version is pinned, VERSION below: qemu-system-x86, qemu-system-common
# and qemu-system-data at it are fetched with `apt-get download` and
# unpacked with `dpkg -x` into $CACHE/qemu10/VERSION/root (a view that also
# sees newer suites would pick 10.0.13).  Then `ldd` of the binary on this
# host must resolve every library; a library the host lacks is fetched the
# same way, from bookworm, into the same root (and said so), and the binary
# is checked again with that root's library directory in LD_LIBRARY_PATH.
# A stamp file, $CACHE/qemu10/VERSION/.unpacked, makes a second run need
# no network.
#
# Run it with:
#   QEMU_MODULE_DIR=ROOT/usr/lib/x86_64-linux-gnu/qemu \
#     ROOT/usr/bin/qemu-system-x86_64 -L ROOT/usr/share/qemu ...
# so that it never loads the host's 7.2 modules or firmware descriptions.
# SeaBIOS comes from the host's /usr/share/seabios (bookworm's seabios).
#
# Usage: scripts/qemu10.sh CACHE
#   CACHE is the project cache (~/.cache/vfiodev).  The last line printed is
#   the root's path.  Exits non-zero if QEMU 10 cannot be had.
set -euo pipefail

VERSION='1:10.0.2+ds-2+deb13u1~bpo12+1'
PKGS=(qemu-system-x86 qemu-system-common qemu-system-data)

cache=${1:?usage: qemu10.sh CACHE}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

log() { printf 'qemu10: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

. "$(dirname "${BASH_SOURCE[0]}")/private-apt.sh"

# The directory name: the version without the epoch's colon.
top=$cache/qemu10/${VERSION#*:}
root=$top/root
bin=$root/usr/bin/qemu-system-x86_64
libdir=$root/usr/lib/x86_64-linux-gnu

apt_dir=$cache/apt-bpo
setup_apt() {
	private_apt_setup "$apt_dir" "bookworm + bookworm-backports" \
		"bookworm-backports main" "bookworm main"
}

# download DIR PKG=VER...: the lists of an earlier run may do; they are
# refreshed when they do not.
download() {
	local dir=$1
	shift
	if ls "$apt_dir"/lists/*_Packages* >/dev/null 2>&1; then
		(cd "$dir" && papt_get -qq download "$@" >/dev/null 2>&1) && return 0
	fi
	papt_update_once
	(cd "$dir" && papt_get -qq download "$@" >&2)
}

# The libraries the binary needs that the dynamic loader does not find.
missing_libs() {
	LD_LIBRARY_PATH=$libdir ldd "$bin" 2>&1 | awk '/=> not found/ { print $1 }'
}

# The bookworm package that ships LIB, by name only (apt-file is not
# assumed): the library's soname, as Debian names its packages after it.
package_for() {
	local lib=$1 base
	base=$(printf '%s\n' "$lib" | sed -E 's/\.so(\.|$)/ /; s/^lib//' | awk '{
		n = $1; v = $2; sub(/\..*/, "", v); gsub(/_/, "-", n)
		if (n ~ /[0-9]$/) n = n "-"; print "lib" tolower(n) v }')
	papt_cache show "$base" >/dev/null 2>&1 &&
		printf '%s\n' "$base"
}

unpack() {
	local tmp deb p
	setup_apt
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	log "fetching ${PKGS[*]} at $VERSION"
	download "$tmp" "${PKGS[@]/%/=$VERSION}" ||
		die "cannot download ${PKGS[*]} at $VERSION"
	rm -rf "$top"
	mkdir -p "$root"
	for deb in "$tmp"/*.deb; do
		log "dpkg -x ${deb##*/}"
		dpkg -x "$deb" "$root"
	done
	printf '%s\n' "${PKGS[@]/%/=$VERSION}" > "$top/packages"
	[ -x "$bin" ] || die "no $bin after unpacking"

	# Libraries this host does not have come from bookworm, into the root.
	local libs extra=()
	libs=$(missing_libs)
	for p in $libs; do
		local pkg
		pkg=$(package_for "$p") || die "$p is missing and no bookworm package is named for it"
		log "the host lacks $p: fetching $pkg from bookworm into the root"
		extra+=("$pkg")
	done
	if [ ${#extra[@]} -gt 0 ]; then
		rm -f "$tmp"/*.deb
		download "$tmp" "${extra[@]}" || die "cannot download ${extra[*]}"
		for deb in "$tmp"/*.deb; do
			dpkg -x "$deb" "$root"
		done
		printf '%s\n' "${extra[@]}" >> "$top/packages"
		libs=$(missing_libs)
		[ -z "$libs" ] || die "still missing after fetching: $libs"
		log "run it with LD_LIBRARY_PATH=$libdir"
	fi
	rm -rf "$tmp"
	trap - EXIT
	touch "$top/.unpacked"
}

if [ ! -f "$top/.unpacked" ]; then
	unpack
fi

# Every run: the binary must still find all it needs on this host.
libs=$(missing_libs)
[ -z "$libs" ] || die "$bin: libraries not found: $libs"
if LD_LIBRARY_PATH='' ldd "$bin" 2>&1 | grep -q 'not found'; then
	log "note: $bin needs libraries from $libdir (LD_LIBRARY_PATH)"
else
	log "ldd: every library $bin links is on this host"
fi
ver=$(QEMU_MODULE_DIR=$libdir/qemu LD_LIBRARY_PATH=$libdir "$bin" --version | head -n 1)
log "$ver; packages: $(tr '\n' ' ' < "$top/packages")"
printf '%s\n' "$root"
