#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boots the guest once with snoop-control=on and once with it
# off and shows what scripts/guest/demo does in each, as it happens.  Exits
# non-zero unless both runs end with VFIODEV-DEMO-OK.
#
# Usage: demo.sh BUILD_DIR KIMAGE INITRD
set -uo pipefail
b=$1 kimage=$2 initrd=$3
here=$(cd "$(dirname "$0")" && pwd)
ok=0
for snoop in on off; do
	log=$b/demo-snoop-$snoop.log
	echo "##### booting the guest with intel-iommu snoop-control=$snoop (console: $log)"
	"$here/run-guest.sh" --mode demo --snoop $snoop --scratch "$b/nvme.img" \
		--log "$log" "$kimage" "$initrd" > /dev/null 2>&1 &
	pid=$!
	# The console as it comes, without the kernel's own lines and markers.
	sleep 1
	tail -n +1 --pid=$pid -f "$log" 2>/dev/null |
		grep --line-buffered -v -E '^\[ *[0-9]+\.[0-9]+\]|^VFIODEV-(GUEST|DONE)' |
		tr -d '\r'
	wait $pid
	if grep -q '^VFIODEV-DEMO-OK' "$log"; then
		ok=$((ok + 1))
	fi
done
echo
if [ $ok = 2 ]; then
	echo "##### demo: both IOMMU configurations worked"
	exit 0
fi
echo "##### demo: $((2 - ok)) of the 2 runs failed (see $b/demo-snoop-*.log)"
exit 1
