#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# "make demo", inside the guest: load sockleak and show every report it
# offers.
set -e
modprobe sockleak
echo "# ls -l /sys/kernel/debug/sockleak"
ls -l /sys/kernel/debug/sockleak
for f in /sys/kernel/debug/sockleak/*; do
	[ -r "$f" ] || continue
	echo
	echo "# cat $f"
	cat "$f"
done
