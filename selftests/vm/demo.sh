#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# "make demo", inside the guest: load sockleak, start the leaky workload
# (selftests/leaky.c: a receiver that never reads, a CLOSE-WAIT server, an
# orphan with unsent data) and show what the sockleak helper reports.
set -e
modprobe sockleak
/selftests/sockleak/leaky -p 7100 -i 100 >/tmp/leaky.out &
while ! grep -q ready /tmp/leaky.out 2>/dev/null; do sleep 0.1; done
# Low thresholds so the flags fire within the demo's few seconds.
run() {
	echo
	echo "# $*"
	"$@" || true
}
run sockleak set unread_ms=1000 close_wait_ms=1000
sleep 2
run sockleak
run sockleak sockets -n 10
run sockleak summary
if [ -e /sys/kernel/debug/sockleak/suspects ]; then
	run sockleak suspects
fi
if [ -e /sys/kernel/debug/sockleak/cgroups ]; then
	run sockleak cgroups
fi
run sockleak watch -i 1 -c 3 -n 3
run sockleak check
kill %1 2>/dev/null || true
