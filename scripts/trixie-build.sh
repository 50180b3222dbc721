#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prove that kernel/ also builds, W=1 clean, against Debian 13 (trixie)'s
# 6.12 kernel headers, on this Debian 12 host, without touching the host's
# apt or installing any Debian 13 package.
#
# apt runs on a private configuration, $CACHE/apt-trixie/apt.conf, passed in
# APT_CONFIG: its own sources.list (trixie main), lists, caches, dpkg status
# (empty) and an empty apt.conf.d.  It has to be APT_CONFIG, not `-o`: apt
# reads /etc/apt/apt.conf.d before the command line, and the host's hooks
# there (APT::Update::Post-Invoke-Success) would run on our update.
#
# The newest linux-headers-6.12.N+deb13-amd64, its -common and its
# linux-kbuild are fetched with `apt-get download` and unpacked with `dpkg -x`
# into $CACHE/kernel-trixie/KVER/root, as scripts/deps.sh does for Debian 12.
# So is the toolchain trixie built them with and names in their .config and
# Makefiles (x86_64-linux-gnu-gcc-14, binutils 2.44, pahole 1.30), with the
# libraries they need down to trixie's libc6: apt resolves that set against
# the empty status, so nothing is picked by hand.
#
# Debian 12 cannot run those binaries directly: they need glibc 2.38
# (__isoc23_strtol & co.), and the host has 2.36.  They run on trixie's own
# dynamic loader and libraries instead, out of the private root:
#  - every ELF program of linux-kbuild (fixdep, modpost and its .real-*
#    binaries, objtool, resolve_btfids, genksyms, ...) is moved to NAME.elf
#    and NAME becomes a wrapper running it under trixie's ld.so, argv[0]
#    unchanged (Debian's modpost and objtool find their .real-* by it);
#  - KVER/bin holds such wrappers for trixie's x86_64-linux-gnu-* tools and
#    pahole, put first in PATH.  gcc-14 also gets `-wrapper` so that cc1 and
#    as run under that loader, and COMPILER_PATH so that it finds trixie's as.
# Every wrapped program is checked (ld.so --list) to resolve each of its
# libraries inside the root.  Nothing is passed to make but what the
# project's Makefile passes: the compiler, flags and config are trixie's.
#
# A second run needs no network: the package lists are only refreshed when
# they name no suitable kernel, or when the download fails.
#
# Usage: scripts/trixie-build.sh CACHE OUTDIR [KVER]
#   CACHE is the project cache (~/.cache/vfiodev), OUTDIR a scratch
#   directory: kernel/ is copied to OUTDIR/kmod and built there, the log is
#   OUTDIR/build.log.  KVER defaults to the newest 6.12.N+deb13-amd64.
#   Exits 0 only if the build succeeds and its log has no warning or error.
set -euo pipefail

usage='usage: trixie-build.sh CACHE OUTDIR [KVER]'
cache=${1:?$usage}
out=${2:?$usage}
kver=${3:-}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$cache" "$out"
cache=$(cd "$cache" && pwd)
out=$(cd "$out" && pwd)

log() { printf 'trixie-build: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

. "$repo/scripts/private-apt.sh"

apt_dir=$cache/apt-trixie
private_apt_setup "$apt_dir" "Debian 13" "trixie main" || exit 1

candidate() {
	papt_cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -vx '(none)'
}

pick_kver() {
	papt_cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb13-amd64$' 2>/dev/null |
		sed -n 's/^linux-headers-\(6\.12\.[0-9]*+deb13-amd64\) .*/\1/p' |
		sort -t. -k3,3nr | while read -r v; do
			if candidate "linux-headers-${v%-amd64}-common" >/dev/null &&
			   candidate "linux-kbuild-${v%-amd64}" >/dev/null; then
				echo "$v"
				break
			fi
		done
}

if [ -z "$kver" ]; then
	kver=$(pick_kver)
	if [ -z "$kver" ]; then
		papt_update_once
		kver=$(pick_kver)
	fi
	[ -n "$kver" ] || die "trixie offers no linux-headers-6.12.*+deb13-amd64"
fi
case $kver in
6.12.*+deb13-amd64) ;;
*) die "KVER=$kver is not a Debian 13 6.12 amd64 flavour" ;;
esac
abi=${kver%-amd64}

top=$cache/kernel-trixie/$kver
kroot=$top/root
tbin=$top/bin
kdir=$kroot/usr/src/linux-headers-$kver
kbuild=$kroot/usr/lib/linux-kbuild-$abi
tlib=$kroot/usr/lib/x86_64-linux-gnu
ldso=$tlib/ld-linux-x86-64.so.2
# The wrappers below are plain sh with these paths unquoted.
case $kroot in
*[!A-Za-z0-9/._+~-]*) die "$kroot: only [A-Za-z0-9/._+~-] please, for the wrappers" ;;
esac

# Writes the package=version list: the three kernel packages at one version,
# and what trixie's kbuild and gcc-14 need, as apt resolves it from nothing.
resolve() {
	local ver p pkgs
	ver=$(candidate "linux-headers-$kver") || return 1
	for p in "linux-headers-$abi-common" "linux-kbuild-$abi"; do
		[ "$(candidate "$p")" = "$ver" ] ||
			die "$p is not at linux-headers-$kver's version $ver"
	done
	pkgs=$(papt_get -s install "linux-kbuild-$abi=$ver" gcc-14 2>/dev/null |
		sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p')
	[ -n "$pkgs" ] || return 1
	printf '%s\n' "linux-headers-$kver=$ver" "linux-headers-$abi-common=$ver" \
		"$pkgs" | sort -u
}

is_elf() { [ "$(head -c4 "$1" 2>/dev/null)" = $'\x7fELF' ]; }

# PROG's libraries must all come from the trixie root.
check_libs() {
	local bad
	bad=$("$ldso" --list --library-path "$tlib" "$1" |
		awk -v r="$kroot/" '/=>/ && index($3, r) != 1 { print }')
	[ -z "$bad" ] || die "$1 would load a host library: $bad"
}

# wrapper FILE PROG ARGV0 [ARGS...]: FILE runs PROG on trixie's loader, with
# argv[0] ARGV0 and ARGS before FILE's own; $WRAP_ENV is set for PROG.
wrapper() {
	local file=$1 prog=$2 argv0=$3
	shift 3
	check_libs "$prog"
	{
		echo '#!/bin/sh'
		echo "# Written by scripts/trixie-build.sh: trixie's ${prog#"$kroot"} on trixie's libc."
		[ -z "${WRAP_ENV:-}" ] || echo "export $WRAP_ENV"
		echo "exec $ldso --library-path $tlib --argv0 $argv0 $prog ${*:+$* }\"\$@\""
	} > "$file"
	chmod 755 "$file"
}

unpack() {
	local tmp list pkgs=()
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	download() {
		list=$(resolve) && mapfile -t pkgs <<< "$list" &&
			(cd "$tmp" && papt_get -qq download "${pkgs[@]}" >&2)
	}
	# The lists of an earlier run may do; refresh them when they do not.
	if ! download; then
		papt_update_once
		download || die "cannot fetch trixie's $kver packages"
	fi
	rm -rf "$top"
	mkdir -p "$kroot" "$tbin"
	for deb in "$tmp"/*.deb; do
		dpkg -x "$deb" "$kroot"
	done
	printf '%s\n' "${pkgs[@]}" > "$top/packages"
	rm -rf "$tmp"
	trap - EXIT

	# The flavour's Makefile includes the common one by absolute path.
	sed -i "s|^include /usr/src/|include $kroot/usr/src/|" "$kdir/Makefile"

	[ -x "$ldso" ] || die "no trixie loader at $ldso"
	local f
	while IFS= read -r -d '' f; do
		is_elf "$f" || continue
		mv "$f" "$f.elf"
		# shellcheck disable=SC2016 # "$0" is for the wrapper to expand
		wrapper "$f" "$f.elf" '"$0"'
	done < <(find "$kbuild" -type f -perm -u+x -print0)

	for f in "$kroot"/usr/bin/x86_64-linux-gnu-* "$kroot/usr/bin/pahole"; do
		is_elf "$f" || continue
		case ${f##*/} in
		x86_64-linux-gnu-gcc-14 | x86_64-linux-gnu-cpp-14)
			WRAP_ENV="COMPILER_PATH=$kroot/usr/bin" \
				wrapper "$tbin/${f##*/}" "$f" "$f" \
					-wrapper "$ldso,--library-path,$tlib"
			;;
		*)
			wrapper "$tbin/${f##*/}" "$f" "$f"
			;;
		esac
	done
	for f in cc1 cc1plus collect2 lto-wrapper; do
		f=$kroot/usr/libexec/gcc/x86_64-linux-gnu/14/$f
		[ -f "$f" ] && check_libs "$f"
	done
	touch "$top/.unpacked"
}

if [ ! -f "$top/.unpacked" ]; then
	log "fetching trixie's $kver headers, kbuild and toolchain"
	unpack
fi
log "trixie packages: $(tr '\n' ' ' < "$top/packages")"

# The tools must be the ones the headers were configured with.
conf() { sed -n "s/^$1=//p" "$kdir/.config" | tr -d '"'; }
export PATH=$tbin:$PATH
cc_text=$(x86_64-linux-gnu-gcc-14 --version | head -n1)
[ "$cc_text" = "$(conf CONFIG_CC_VERSION_TEXT)" ] ||
	log "note: $cc_text, but the headers were built by $(conf CONFIG_CC_VERSION_TEXT)"
pahole_ver=$(pahole --version | tr -dc 0-9)
[ "$pahole_ver" = "$(conf CONFIG_PAHOLE_VERSION)" ] ||
	log "note: pahole $pahole_ver, but the headers were built with $(conf CONFIG_PAHOLE_VERSION)"

# A fresh copy: --delete-excluded drops the objects of an earlier run too.
kmod=$out/kmod
buildlog=$out/build.log
rsync -a --delete --delete-excluded --exclude '*.o' --exclude '*.ko' \
	--exclude '.*.cmd' --exclude '*.mod*' --exclude '.*.d' \
	--exclude 'Module.symvers' --exclude 'modules.order' \
	"$repo/kernel/" "$kmod/"
log "make -C $kdir M=$kmod W=1 modules (log: $buildlog)"
rc=0
make -C "$kdir" M="$kmod" W=1 VFIODEV_UAPI="$repo/uapi" -j2 modules \
	> "$buildlog" 2>&1 || rc=$?

if grep -E 'warning:|error:' "$buildlog" >&2; then
	die "$kver: the build log has warnings or errors (make exit $rc)"
fi
if [ "$rc" != 0 ]; then
	tail -n 20 "$buildlog" >&2
	die "$kver: make failed with exit $rc"
fi
n=0
while read -r m; do
	case $m in /*) ;; *) m=$kmod/$m ;; esac
	[ -f "${m%.o}.ko" ] || die "$kver: ${m%.o}.ko was not built"
	n=$((n + 1))
done < "$kmod/modules.order"
log "$kver: $n modules built, W=1 clean"
