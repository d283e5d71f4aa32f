#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hunt-guest.sh: PID 1 of "make hunt"'s guest, a Debian root (hunt-prep.sh)
# unpacked from the initramfs, with the kernel's selftests in /opt/ksft.
# The kernel console is ttyS0; everything here goes to ttyS1, where the
# host (hunt.sh) reads one "HUNT-BASE {json}" line per baseline run, one
# "HUNT {json}" line per run under sockleak, and "SOCKLEAK-VM-DONE rc=N".
#
#  1. first of all, the hunt's own negative: a reference leaked on
#     purpose with the test-only holdref module must be a leak, its slab
#     object named;
#  2. the baseline (hunt_baseline=1): every test once without sockleak
#     loaded (its exit status and its count of failed cases, to compare
#     with);
#  3. sockleak loaded with track=1; then round after round, until
#     hunt_minutes have passed, every test under "sockleak run --json"
#     (its own cgroup, tracking, grace_ms=0); around each, the protocol
#     slabs' object counts (each cache shrunk first, so that per-CPU slabs
#     do not hide frees), read again after the test until its network
#     namespaces are gone (the counts stop falling) or 120 s; with
#     kmemleak (debug kernels), a scan after each test;
#  4. a test that leaked is run once more with --watch on the leaked
#     protocol (hunt_watch=0: never), so the report can say which code
#     took the reference.
#
# Kernel command line (hunt.sh): hunt_minutes=N, hunt_tests=a,b (names or
# name prefixes), hunt_timeout=SEC (per test run), hunt_baseline=0|1.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C

if [ $$ = 1 ]; then
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm /run /tmp
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs tmpfs /tmp
	mount -t tmpfs tmpfs /run
	mkdir -p /run/netns
	mount -t debugfs debugfs /sys/kernel/debug
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null
	exec </dev/null >/dev/ttyS1 2>&1
	ip link set lo up
	hostname hunt-vm
fi

arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
# PID 1 must not exit (the kernel would panic): power off and wait.
poweroff_now() {
	sync
	echo o >/proc/sysrq-trigger
	while :; do sleep 60; done
}
minutes=$(arg hunt_minutes)
minutes=${minutes:-60}
only=$(arg hunt_tests)
tmo=$(arg hunt_timeout)
tmo=${tmo:-1800}
baseline=$(arg hunt_baseline)
baseline=${baseline:-1}
watch=$(arg hunt_watch)
watch=${watch:-1}
ksft=/opt/ksft
out=/tmp/hunt
kmemleak=/sys/kernel/debug/kmemleak
mkdir -p $out
echo "SOCKLEAK-HUNT: kernel $(uname -r), ${minutes} minutes, $(nproc) CPUs, $(awk '/MemTotal/ { print $2 }' /proc/meminfo) kB"

# name|directory under /opt/ksft|command. mptcp_join.sh runs one group of
# its cases per test (its options), so that a leak is tied to a group.
tests='mptcp_diag|net/mptcp|./diag.sh
mptcp_sockopt|net/mptcp|./mptcp_sockopt.sh
mptcp_pm_netlink|net/mptcp|./pm_netlink.sh
mptcp_userspace_pm|net/mptcp|./userspace_pm.sh
mptcp_connect|net/mptcp|./mptcp_connect.sh
mptcp_join_subflows|net/mptcp|./mptcp_join.sh -f
mptcp_join_signal|net/mptcp|./mptcp_join.sh -s
mptcp_join_remove|net/mptcp|./mptcp_join.sh -r
mptcp_join_syncookies|net/mptcp|./mptcp_join.sh -k
mptcp_join_fastclose|net/mptcp|./mptcp_join.sh -z
mptcp_join_fail|net/mptcp|./mptcp_join.sh -F
mptcp_join_userspace|net/mptcp|./mptcp_join.sh -u
mptcp_join_backup|net/mptcp|./mptcp_join.sh -b
mptcp_simult_flows|net/mptcp|./simult_flows.sh'
# Every program of the other collections, as kselftest lists them.
for c in net/af_unix net/tcp_ao; do
	[ -d "$ksft/$c" ] || continue
	for p in $(sed -n "s|^$c:||p" $ksft/kselftest-list.txt); do
		tests="$tests
${c##*/}_${p%.sh}|$c|./$p"
	done
done
# AF_VSOCK's test, server and client over the loopback transport.
if [ -d "$ksft/vsock" ]; then
	tests="$tests
vsock_test|vsock|./loopback.sh ./vsock_test"
fi
if [ -n "$only" ]; then
	sel=""
	while IFS='|' read -r name dir cmd; do
		for o in ${only//,/ }; do
			case $name in
			"$o"*) sel="$sel$name|$dir|$cmd"$'\n'; break ;;
			esac
		done
	done <<<"$tests"
	tests=${sel%$'\n'}
fi
if [ -z "$tests" ]; then
	echo "SOCKLEAK-HUNT: no test matches hunt_tests=$only"
	echo "SOCKLEAK-VM-DONE rc=1"
	poweroff_now
fi
echo "SOCKLEAK-HUNT: $(echo "$tests" | grep -c .) tests"

# json_str S: S as a JSON string.
json_str() {
	[ -n "$1" ] || { printf '""'; return; }
	printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' |
		awk 'BEGIN { ORS = "" } NR > 1 { print "\\n" } { print }' |
		sed -e 's/^/"/' -e 's/$/"/'
}

# The slab caches of the socket protocols (/proc/net/protocols names the
# protocol, its cache has the same name; read each time: a test may load
# a protocol's module), and their request and TIME-WAIT minisocks.
slab_names() {
	local c
	for c in $(awk 'NR > 1 { print $1 }' /proc/net/protocols | sort -u); do
		for n in "$c" "request_sock_$c" "tw_sock_$c"; do
			[ -e "/sys/kernel/slab/$n" ] && echo "$n"
		done
	done
}
# slab_counts: "cache objects" for each, after shrinking it (per-CPU slabs
# are otherwise counted as fully used).
slab_counts() {
	local n
	for n in $(slab_names); do
		echo 1 >"/sys/kernel/slab/$n/shrink" 2>/dev/null
	done
	awk -v names=" $(slab_names | tr '\n' ' ') " \
		'index(names, " " $1 " ") { print $1, $2 }' /proc/slabinfo | sort
}
# slab_json BEFORE AFTER: {"cache": [before, after], ...}, changed ones.
slab_json() {
	join -a 1 -a 2 -e 0 -o 0,1.2,2.2 <(sort "$1") <(sort "$2") |
		awk 'BEGIN { ORS = ""; print "{" } $2 != $3 { print sep "\"" $1 "\":[" $2 "," $3 "]"; sep = "," } END { print "}" }'
}
# settle BEFORE AFTER: read the counts again until none is above BEFORE
# (the test's namespaces and sockets are gone: prints "clean"), or they
# stop falling for 20 s ("stable"), or 120 s have passed ("timeout").
settle() {
	local before=$1 after=$2 t0 last="" cur stable=0
	t0=$(date +%s)
	while :; do
		slab_counts >"$after"
		cur=$(join "$before" "$after" 2>/dev/null | awk '$3 > $2 { n += $3 - $2 } END { print n + 0 }')
		[ "$cur" = 0 ] && { echo clean; return; }
		if [ "$cur" = "$last" ]; then
			stable=$((stable + 1))
		else
			stable=0
		fi
		last=$cur
		[ $stable -ge 10 ] && { echo stable; return; }
		[ $(( $(date +%s) - t0 )) -ge 120 ] && { echo timeout; return; }
		sleep 2
	done
}
# failed_cases FILE: the test's failed cases, as its output counts them
# (0 when it printed nothing).
failed_cases() {
	local n
	n=$(grep -c -E '^(# )?not ok |\[ ?FAIL ?\]' "$1" 2>/dev/null)
	echo "${n:-0}"
}

# run_socks FILE RESULT: "cookie proto" of each socket whose result is
# RESULT (leaked, pending) in sockleak run's JSON in FILE.
run_socks() {
	grep -o '"cookie":"[0-9a-f]*","proto":"[a-z0-9-]*","state":"[A-Z0-9-]*","result":"'"$2"'"' \
		"$1" | cut -d'"' -f4,8 | tr '"' ' '
}

# run_base NAME DIR CMD: the test alone, no sockleak.
run_base() {
	local name=$1 dir=$2 cmd=$3 t0 rc o=$out/$name.base settled
	slab_counts >"$o.slab0"
	t0=$(date +%s)
	(cd "$ksft/$dir" && timeout -k 10 "$tmo" bash -c "exec $cmd") \
		>"$o.out" 2>&1 </dev/null
	rc=$?
	settled=$(settle "$o.slab0" "$o.slab1")
	echo "HUNT-BASE {\"test\":$(json_str "$name"),\"command\":$(json_str "$cmd"),\"exit_status\":$rc,\"failed_cases\":$(failed_cases "$o.out"),\"seconds\":$(( $(date +%s) - t0 )),\"settled\":\"$settled\",\"slab\":$(slab_json "$o.slab0" "$o.slab1")}"
	[ $rc = 0 ] || tail -n 15 "$o.out" | sed 's/^/# | /'
}

# run_hunt ROUND NAME DIR CMD [FILTER]: the test under sockleak run.
run_hunt() {
	local round=$1 name=$2 dir=$3 cmd=$4 filter=${5:-} t0 rc run km="" o settled
	o=$out/$name.$round${filter:+.watch}
	slab_counts >"$o.slab0"
	[ -e $kmemleak ] && echo clear >$kmemleak
	t0=$(date +%s)
	sockleak run --json --timeout 60 ${filter:+--watch "$filter"} -- \
		timeout -k 10 "$tmo" bash -c "cd '$ksft/$dir' && exec $cmd >'$o.out' 2>&1" \
		>"$o.json" 2>"$o.report" </dev/null
	rc=$?
	settled=$(settle "$o.slab0" "$o.slab1")
	if [ -e $kmemleak ]; then
		echo scan >$kmemleak
		sleep 5
		echo scan >$kmemleak
		km=$(cat $kmemleak)
	fi
	run=$(head -n 1 "$o.json")
	[ -n "$run" ] || run=null
	echo "HUNT {\"test\":$(json_str "$name"),\"round\":$round,\"command\":$(json_str "$cmd"),\"watch\":$(json_str "$filter"),\"run_status\":$rc,\"failed_cases\":$(failed_cases "$o.out"),\"seconds\":$(( $(date +%s) - t0 )),\"settled\":\"$settled\",\"slab\":$(slab_json "$o.slab0" "$o.slab1"),\"kmemleak\":$(json_str "$km"),\"run\":$run}"
	case $rc in
	0) ;;
	*) sed 's/^/# | /' "$o.report" | head -n 60 ;;
	esac
	# Sockets still held once CMD is gone (exit 3): who holds them, as
	# the module's sockets file and ps say.
	if [ $rc = 3 ]; then
		echo scan >/sys/kernel/debug/sockleak/control
		run_socks "$o.json" pending | while read -r c _; do
			grep -m 1 "^cookie=$c " /sys/kernel/debug/sockleak/sockets |
				tr ' ' '\n' | grep -E '^(cookie|proto|state|refcnt|filerefs|netns|owners|owner_tasks|verdict|flags|cgroup|ino)=' |
				paste -sd ' ' | sed 's/^/# pending: /'
		done
		ps -eo pid,ppid,stat,cgroup,args | grep -v ' \[' | sed 's/^/# ps: /'
	fi
	return $rc
}

modprobe sockleak track=1 || { echo "SOCKLEAK-VM-DONE rc=1"; poweroff_now; }

# The hunt's own negative, first, on a quiet system (a test's sockets
# freed meanwhile would hide its slab object): a TCP socket whose
# reference the test-only holdref module keeps (selftests/leaky -L) must
# be reported as a leak, and its slab object named, not unaccounted
# (hunt-report.py checks).
hr=/sys/kernel/debug/sockleak_holdref/ctl
if modprobe sockleak_holdref && [ -w $hr ]; then
	run_hunt 0 selfcheck_holdref . "/opt/sockleak/leaky -p 7700 -i 100 -t 3 -L -D 1000"
	echo release >$hr
	modprobe -r sockleak_holdref
fi

# The baseline runs without sockleak loaded.
if [ "$baseline" = 1 ]; then
	modprobe -r sockleak
	while IFS='|' read -r name dir cmd; do
		run_base "$name" "$dir" "$cmd"
	done <<<"$tests"
	modprobe sockleak track=1 || { echo "SOCKLEAK-VM-DONE rc=1"; poweroff_now; }
fi
deadline=$(( $(date +%s) + minutes * 60 ))
round=0
while [ "$(date +%s)" -lt $deadline ]; do
	round=$((round + 1))
	echo "SOCKLEAK-HUNT: round $round"
	while IFS='|' read -r name dir cmd; do
		[ "$(date +%s)" -lt $deadline ] || break
		run_hunt $round "$name" "$dir" "$cmd"
		rc=$?
		# A leak: once more with its protocol's sockets watched; the
		# protocol of a socket that pins its netns first (the cause of
		# the others' leak), else of the first leak.
		if [ $rc = 1 ] && [ "$watch" = 1 ]; then
			p=$(grep -o '"proto":"[a-z0-9-]*","state":"[A-Z0-9-]*","result":"leaked","verdict":"[a-z]*","refcnt":-\{0,1\}[0-9]*,"reason":"pins_netns"' \
				"$out/$name.$round.json" | head -n 1 | cut -d'"' -f4)
			[ -n "$p" ] ||
				p=$(run_socks "$out/$name.$round.json" leaked | awk 'NR == 1 { print $2 }')
			[ -n "$p" ] && run_hunt $round "$name" "$dir" "$cmd" "proto:$p,count:4"
		fi
	done <<<"$tests"
done

rc=0
for m in $(cut -d' ' -f1 /proc/modules); do
	case $m in sockleak*) rmmod "$m" || rc=1 ;; esac
done
echo "SOCKLEAK-VM-DONE rc=$rc"
poweroff_now
