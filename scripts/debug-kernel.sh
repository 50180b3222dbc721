#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or find in the cache) a vfiodev guest kernel from Debian's
# linux-source-6.12: x86_64_defconfig + kvm_guest.config + our fragments,
# merged in the order given, a later line winning over an earlier one:
#   debug.config               the debug kernel (KASAN, lockdep, kmemleak,
#                              fault injection, KUnit, upstream's iommufd and
#                              VFIO cdev as modules)
#   debug.config,bench.config  the benchmark kernel (the same, detectors off)
#
# The result is kept under CACHE/debug/KEY, where KEY hashes the fragment,
# the source package version and the compiler, so a second run on the same
# machine costs nothing (the debug kernel's KEY is what it was before
# fragments could be stacked: the hash of the one fragment).  It holds:
#   build/                 the O= tree (for building our modules with M=)
#   build/arch/x86/boot/bzImage
#   modroot/lib/modules/KREL/   the modules, stripped
#
# Usage: debug-kernel.sh [--prefix P] CACHE FRAGMENT[,FRAGMENT...] [ENVMK]
#   ENVMK: also write PDIR, PIMAGE, PMODDIR, PREL, PBUILD_SECONDS there as
#   make variables (P is DK unless --prefix says otherwise).
set -euo pipefail

prefix=DK
if [ "${1:-}" = --prefix ]; then
	prefix=$2
	shift 2
fi
cache=$1 envmk=${3:-}
IFS=, read -r -a frags <<< "$2"
log() { printf 'debug-kernel: %s\n' "$*" >&2; }

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
cc=$(gcc --version | head -n 1)
key=$( { cat "${frags[@]}"; echo "$srcver"; echo "$cc"; } | sha256sum | cut -c1-16)
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
		"${frags[@]}" >/dev/null)
	make -s -C "$src" O="$top/build" olddefconfig
	# A fragment line that did not survive olddefconfig would silently
	# build another kernel than the one asked for.  Checked is what the
	# fragments ask for together: a symbol's last line wins.
	missing=0
	while IFS= read -r line; do
		case $line in CONFIG_*=n) sym=${line%%=*}
			grep -qx "# $sym is not set" "$top/build/.config" ||
				! grep -q "^$sym=" "$top/build/.config" || { log "not applied: $line"; missing=1; }
			;;
		CONFIG_*) grep -qxF "$line" "$top/build/.config" || { log "not applied: $line"; missing=1; } ;;
		esac
	done < <(cat "${frags[@]}" | awk -F= '
		/^# CONFIG_[A-Za-z0-9_]* is not set$/ { split($0, w, " "); k = w[2]; l = k "=n" }
		/^CONFIG_/ { k = $1; l = $0 }
		k != "" { if (!(k in v)) o[n++] = k; v[k] = l; k = "" }
		END { for (i = 0; i < n; i++) print v[o[i]] }')
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
${prefix}REL := $krel
${prefix}DIR := $top/build
${prefix}IMAGE := $top/build/arch/x86/boot/bzImage
${prefix}MODDIR := $top/modroot/lib/modules/$krel
${prefix}BUILD_SECONDS := $(cat "$top/build-seconds")
EOT
	if cmp -s "$envmk.tmp" "$envmk"; then rm -f "$envmk.tmp"; else mv "$envmk.tmp" "$envmk"; fi
fi
echo "$krel"
