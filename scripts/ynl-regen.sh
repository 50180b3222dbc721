#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Writes uapi/linux/vfiodev_nl.h and Documentation/netlink/vfiodev-family.rst
# from Documentation/netlink/specs/vfiodev.yaml with the kernel tree's own
# generators (ynl-gen-c.py, ynl-gen-rst.py) (tools/net/ynl of
# linux-source-6.12, run with Debian's python3-yaml and python3-jsonschema,
# validating the spec against the genetlink schema), and gives it the
# project's uAPI licence line.  With --check, writes nothing and fails when
# the committed header differs from what the spec gives.
#
# With --export DIR, also leaves the generator and client (tools/net/ynl)
# and the specs, ours among them, in DIR, for the guest's tests to run the
# YNL client from the host's root.
#
# Usage: ynl-regen.sh [--check] [--export DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
check=0 export=
while [ $# -gt 0 ]; do
	case $1 in
	--check) check=1; shift ;;
	--export) export=$2; shift 2 ;;
	*) echo "usage: ynl-regen.sh [--check] [--export DIR]" >&2; exit 2 ;;
	esac
done
tarball=/usr/src/linux-source-6.12.tar.xz
[ -e "$tarball" ] || { echo "ynl-regen: no $tarball (apt-get install linux-source-6.12)" >&2; exit 1; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
tar -xJf "$tarball" -C "$t" linux-source-6.12/MAINTAINERS \
	linux-source-6.12/tools/net/ynl linux-source-6.12/Documentation/netlink
src=$t/linux-source-6.12
cp "$top/Documentation/netlink/specs/vfiodev.yaml" "$src/Documentation/netlink/specs/"
(cd "$src" && /usr/bin/python3 tools/net/ynl/ynl-gen-c.py --mode uapi --header \
	--spec Documentation/netlink/specs/vfiodev.yaml -o "$t/out.h") > "$t/log" 2>&1 ||
	{ cat "$t/log" >&2; exit 1; }
sed '1s|.*|/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */|' "$t/out.h" > "$t/vfiodev_nl.h"
(cd "$src" && /usr/bin/python3 tools/net/ynl/ynl-gen-rst.py \
	-i Documentation/netlink/specs/vfiodev.yaml -o "$t/family.rst") > "$t/log" 2>&1 ||
	{ cat "$t/log" >&2; exit 1; }
if [ -n "$export" ]; then
	rm -rf "$export"
	mkdir -p "$export"
	cp -a "$src/tools" "$src/Documentation" "$export/"
fi
if [ $check = 1 ]; then
	diff -u "$top/uapi/linux/vfiodev_nl.h" "$t/vfiodev_nl.h" &&
		diff -u "$top/Documentation/netlink/vfiodev-family.rst" "$t/family.rst"
else
	cp "$t/vfiodev_nl.h" "$top/uapi/linux/vfiodev_nl.h"
	cp "$t/family.rst" "$top/Documentation/netlink/vfiodev-family.rst"
fi
