#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Reproducer (found by "make hunt" in mptcp_join.sh -b, "single address
# with port, backup"): an MPTCP endpoint with a port makes the in-kernel
# path manager open a listening socket in its netns (a kernel socket, no
# file). Its first TCP subflow holds a reference on the netns
# (sk_net_refcnt_upgrade() in mptcp_subflow_create_socket()), and the
# listener is released only by the netns' exit (pm_nl_exit_net()): once
# the netns is deleted with the endpoint still in it, neither ever goes.
#
#   mptcp_pm_listener_netns.sh [flush]
#
# Creates ns "slrepro", adds 10.200.0.1/24 on its lo, an endpoint
# "signal port 10100", (with "flush": removes the endpoints, the control
# case), deletes the netns, waits, then prints the MPTCP and TCP objects
# the slabs hold (/proc/slabinfo, each cache shrunk first) before and
# after, and the deleted netns' inode number ("netns: N", as ss, /proc
# and sockleak's netns= print it). With sockleak loaded it also prints
# what sockleak knows of the MPTCP sockets left. Exit 1 when an MPTCP
# object is left (the leak).
set -u
ns=slrepro
IP=${IP:-ip}
count() {
	for c in MPTCP TCP; do
		echo 1 >/sys/kernel/slab/$c/shrink 2>/dev/null
	done
	awk '$1 == "MPTCP" || $1 == "TCP" { printf "%s=%s ", $1, $2 }' /proc/slabinfo
}
before=$(count)
$IP netns add $ns || exit 2
$IP -n $ns link set lo up
$IP -n $ns addr add 10.200.0.1/24 dev lo
$IP -n $ns mptcp endpoint add 10.200.0.1 dev lo signal port 10100 || exit 2
[ "${1:-}" = flush ] && $IP -n $ns mptcp endpoint flush
inum=$(stat -L -c %i /run/netns/$ns)
$IP netns del $ns
sleep "${REPRO_WAIT:-20}"
after=$(count)
echo "slabs before: $before"
echo "slabs after:  $after"
echo "netns: $inum"
if [ -r /sys/kernel/debug/sockleak/sockets ]; then
	grep ' proto=mptcp ' /sys/kernel/debug/sockleak/sockets |
		tr ' ' '\n' | grep -E '^(cookie|netns|proto|state|refcnt|filerefs|verdict)=' |
		paste -sd ' ' | sed 's/^/sockleak: /'
fi
b=$(echo "$before" | sed -n 's/.*MPTCP=\([0-9]*\).*/\1/p')
a=$(echo "$after" | sed -n 's/.*MPTCP=\([0-9]*\).*/\1/p')
if [ "${a:-0}" -gt "${b:-0}" ]; then
	echo "leak: $((a - b)) MPTCP object(s) left after the netns was deleted"
	exit 1
fi
echo "no MPTCP object left"
