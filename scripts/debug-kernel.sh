#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or find in the cache) the vfiodev debug guest kernel from Debian's
# linux-source-6.12: x86_64_defconfig + kvm_guest.config + our fragment
# kernel/configs/debug.config (KASAN, lockdep, kmemleak, fault injection,
# KUnit, upstream's iommufd and VFIO cdev as modules).
#
# The result is kept under CACHE/debug/KEY, where KEY hashes the fragment,
# the source package version and the compiler, so a second run on the same
# machine costs nothing.  It holds:
#   build/                 the O= tree (for building our modules with M=)
#   build/arch/x86/boot/bzImage
#   modroot/lib/modules/KREL/   the modules, stripped
#
# Usage: debug-kernel.sh CACHE FRAGMENT [ENVMK]
#   ENVMK: also write DKDIR, DKIMAGE, DKMODDIR there as make variables.
set -euo pipefail

cache=$1 frag=$2 envmk=${3:-}
log() { printf 'debug-kernel: %s\n' "$*" >&2; }

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
cc=$(gcc --version | head -n 1)
key=$( { cat "$frag"; echo "$srcver"; echo "$cc"; } | sha256sum | cut -c1-16)
top=$cache/debug/$key
src=$cache/debug/src-$srcver

if [ ! -f "$src/.extracted" ]; then
	log "unpacking linux-source-6.12 $srcver"
	rm -rf "$src"
	mkdir -p "$src"
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$src" --strip-components=1
	touch "$src/.extracted"
fi

if [ ! -f "$top/.built" ]; then
	rm -rf "$top"
	mkdir -p "$top/build"
	log "configuring ($top)"
	(cd "$src" && KCONFIG_CONFIG="$top/build/.config" \
		scripts/kconfig/merge_config.sh -m -O "$top/build" \
		arch/x86/configs/x86_64_defconfig kernel/configs/kvm_guest.config \
		"$frag" >/dev/null)
	make -s -C "$src" O="$top/build" olddefconfig
	# A fragment line that did not survive olddefconfig would silently
	# build another kernel than the one asked for.
	missing=0
	while IFS= read -r line; do
		case $line in CONFIG_*=n) sym=${line%%=*}
			grep -qx "# $sym is not set" "$top/build/.config" ||
				! grep -q "^$sym=" "$top/build/.config" || { log "not applied: $line"; missing=1; }
			;;
		CONFIG_*) grep -qxF "$line" "$top/build/.config" || { log "not applied: $line"; missing=1; } ;;
		esac
	done < "$frag"
	[ $missing = 0 ] || exit 1
	log "building with $(nproc) jobs (about half an hour on 2 cores)"
	start=$SECONDS
	make -s -C "$src" O="$top/build" -j"$(nproc)" bzImage modules >"$top/build.log" 2>&1 ||
		{ tail -n 40 "$top/build.log" >&2; exit 1; }
	make -s -C "$src" O="$top/build" INSTALL_MOD_PATH="$top/modroot" \
		INSTALL_MOD_STRIP=1 modules_install >/dev/null
	echo "$((SECONDS - start))" > "$top/build-seconds"
	log "built in $((SECONDS - start)) s"
	touch "$top/.built"
fi

krel=$(cat "$top/build/include/config/kernel.release")
if [ -n "$envmk" ]; then
	cat > "$envmk.tmp" <<EOT
# Written by scripts/debug-kernel.sh; do not edit.
DKREL := $krel
DKDIR := $top/build
DKIMAGE := $top/build/arch/x86/boot/bzImage
DKMODDIR := $top/modroot/lib/modules/$krel
DKBUILD_SECONDS := $(cat "$top/build-seconds")
EOT
	if cmp -s "$envmk.tmp" "$envmk"; then rm -f "$envmk.tmp"; else mv "$envmk.tmp" "$envmk"; fi
fi
echo "$krel"
