#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# "make demo", inside the guest: load sockleak with tracking on, start the
# leaky workload (selftests/leaky.c: a receiver that never reads, a
# CLOSE-WAIT server, an orphan with unsent data, a socket held by no fd,
# a reference leaked by the test-only holdref module), a second copy of it
# in a cgroup that is then removed (dying), and show what sockleak says.
set -e
modprobe sockleak track=1
insmod "/lib/modules/$(uname -r)/extra/sockleak_holdref.ko" 2>/dev/null || true
# Low thresholds so that everything shows within the demo's few seconds.
sockleak set unread_ms=1000 close_wait_ms=1000 unhashed_ms=1000 grace_ms=1000 >/dev/null

/selftests/sockleak/leaky -p 7100 -i 100 -L >/tmp/leaky.out 2>&1 &
while ! grep -q ready /tmp/leaky.out 2>/dev/null; do sleep 0.1; done

# A second workload in its own memory cgroup, which is then removed while
# the sockets still hold memory: the memcg stays, dying.
cg=/sys/fs/cgroup/demo
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p $cg
sh -c "echo \$\$ >$cg/cgroup.procs && exec /selftests/sockleak/leaky -p 7200 -i 100" \
	>/tmp/leaky2.out 2>&1 &
while ! grep -q ready /tmp/leaky2.out 2>/dev/null; do sleep 0.1; done
echo $! >/sys/fs/cgroup/cgroup.procs
rmdir $cg

run() {
	echo
	echo "# $*"
	"$@" || true
}
sleep 2
run sockleak scan
run sockleak
run sockleak sockets -n 10
run sockleak cgroups
run sockleak tracked
run sockleak suspects
run sockleak check
kill %1 %2 2>/dev/null || true
