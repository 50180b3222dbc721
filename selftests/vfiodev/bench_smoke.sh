#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench's program, once, in its quick form, through both doors of the
# loaded stack: it must exit 0, print every figure its quick run takes (a
# positive number each), and leave no page pinned.  No figure is judged
# here: make check times nothing (Documentation/bench.rst).
. /tests/qemu_lib.sh

T=/tmp/bench_smoke
mkdir -p $T
rows="bulk-map:4k:64M bulk-unmap:4k:64M bulk-map:thp:64M bulk-unmap:thp:64M
      count-map:1000 count-unmap:1000 count-map:10000 count-unmap:10000
      lat-null-ioctl:floor lat-config-read:4B lat-bar-read:4B lat-msi:edu
      lat-open:to-ready"
nrows=$(echo $rows | wc -w)
doors="legacy"
[ -e /dev/iommu ] && doors="cdev legacy"
plan=$(( $(echo $doors | wc -w) * (nrows + 2) ))
echo "1..$plan"

set -- $(find_edus)
edu=$1
unbind "$edu"
echo vfio-pci > "$(dev_dir "$edu")/driver_override"
echo "$edu" > /sys/bus/pci/drivers_probe
diag "edu $edu: $(dev_state "$edu")"

for door in $doors; do
	before=$(pinned)
	vfiodev-bench --door "$door" --quick --only bulk,count,latency,open "$edu" \
		> $T/out 2> $T/err
	rc=$?
	if [ $rc = 0 ]; then
		pass "$door: vfiodev-bench --quick exits 0"
	else
		fail "$door: vfiodev-bench --quick exits 0 (exit $rc)"
		diag_file $T/err
	fi
	for r in $rows; do
		test=${r%%:*} param=${r#*:}
		v=$(sed -n "s/^ROW test=$test param=$param rep=1 value=\([^ ]*\) unit=.*/\1/p" $T/out)
		if [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v + 0 > 0 && v != "inf" && v != "nan") }'; then
			pass "$door: $test $param is a positive figure ($v)"
		else
			fail "$door: $test $param is a positive figure ('$v')"
		fi
	done
	pinned_back "$door: " "$before" 0
done
grep -h '^NOTE' $T/out | sed 's/^/# /'
unbind "$edu"
echo > "$(dev_dir "$edu")/driver_override"
echo "# $num results, $failed failed"
[ "$num" = $plan ] || fail "the plan had $plan results, there were $num"
[ $failed = 0 ]
