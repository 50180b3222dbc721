#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check's host checks of libvfiodev, one "PASS|FAIL name" line each
# (details under a failure, "#   "-prefixed):
#   - the library and the command build without warnings (-Werror);
#   - every public header compiles alone, as C (c99, pedantic) and as C++;
#   - the shared library exports exactly the symbols of libvfiodev.map,
#     all in node VFIODEV_1.0, and has soname libvfiodev.so.1;
#   - the public functions, the map and the man(3) pages name the same
#     functions; libvfiodev(7) and vfiodev(1) exist; groff finds nothing
#     to warn about in any page.
#
# Usage: libvfiodev-check.sh BUILD_DIR   (run from the top of the tree;
# MAKE in the environment)
set -uo pipefail
b=$1
lib=$b/libvfiodev
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

result() {	# result RC NAME [DETAIL-FILE]
	if [ "$1" = 0 ]; then
		echo "PASS $2"
	else
		echo "FAIL $2"
		[ -n "${3:-}" ] && sed 's/^/#   /' "$3" | head -n 30
	fi
}

${MAKE:-make} -s libvfiodev > "$tmp/build" 2>&1
rc=$?
grep -E 'warning:|error:' "$tmp/build" >> "$tmp/build.warn" && rc=1
result $rc "host: libvfiodev and the vfiodev command build with -Werror" "$tmp/build"

for h in vfiodev.h $(cd libvfiodev/include && ls vfiodev/*.h); do
	echo "#include <$h>" > "$tmp/h.c"
	gcc -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only \
		-Ilibvfiodev/include "$tmp/h.c" > "$tmp/c.out" 2>&1
	result $? "host: libvfiodev <$h> compiles alone as C99" "$tmp/c.out"
	cp "$tmp/h.c" "$tmp/h.cc"
	g++ -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only \
		-Ilibvfiodev/include "$tmp/h.cc" > "$tmp/cc.out" 2>&1
	result $? "host: libvfiodev <$h> compiles alone as C++11" "$tmp/cc.out"
done

so=$lib/lib/libvfiodev.so.1.0.0
sed -n 's/^[[:space:]]*\(vfiodev_[a-z0-9_]*\);$/\1/p' libvfiodev/libvfiodev.map | sort > "$tmp/map"
# The declarations of the public headers: "type name(" at column 0.
grep -ho '^[a-z][a-z_ ]*[ *]vfiodev_[a-z0-9_]*(' libvfiodev/include/vfiodev/*.h |
	sed 's/.*\(vfiodev_[a-z0-9_]*\)($/\1/' | sort > "$tmp/decl"
ls libvfiodev/man/*.3 | sed 's|.*/||; s|\.3$||' | sort > "$tmp/man"
nm -D --defined-only "$so" 2>&1 | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort > "$tmp/exp"

readelf -d "$so" 2>&1 | grep -q 'SONAME.*\[libvfiodev\.so\.1\]'
result $? "host: libvfiodev.so has soname libvfiodev.so.1"
diff "$tmp/map" "$tmp/exp" > "$tmp/d1" 2>&1
result $? "host: libvfiodev.so exports exactly the functions of libvfiodev.map" "$tmp/d1"
objdump -T "$so" | awk '$4 == ".text" { print $6 }' | sort -u > "$tmp/nodes"
[ "$(cat "$tmp/nodes")" = VFIODEV_1.0 ]
result $? "host: every libvfiodev symbol is in version node VFIODEV_1.0" "$tmp/nodes"
diff "$tmp/decl" "$tmp/map" > "$tmp/d2" 2>&1
result $? "host: libvfiodev.map lists every function the headers declare" "$tmp/d2"
diff "$tmp/decl" "$tmp/man" > "$tmp/d3" 2>&1
result $? "host: one man(3) page for each public function, no other" "$tmp/d3"
[ -s libvfiodev/man/libvfiodev.7 ] && [ -s libvfiodev/man/vfiodev.1 ]
result $? "host: libvfiodev(7) and vfiodev(1) exist"
: > "$tmp/groff"
for p in libvfiodev/man/*.[137]; do
	groff -man -ww -z "$p" >> "$tmp/groff" 2>&1
done
[ ! -s "$tmp/groff" ]
result $? "host: groff -man -ww finds nothing in the man pages" "$tmp/groff"
