#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# "make bench", inside the guest. Prints one line per measurement:
#   BENCH sockets=N what=NAME value=V unit=U
# Times are medians of BENCH_RUNS runs; a measurement printed several
# times (churn rounds) is reduced to its median by the host's report.
T=/selftests/sockleak/sltool
SL=/sys/kernel/debug/sockleak
RUNS=${BENCH_RUNS:-5}
PAIRS=$(echo "${BENCH_PAIRS-5000:25000}" | tr : " ")
CHURN_SECONDS=${BENCH_CHURN_SECONDS:-5}
CHURN_ROUNDS=${BENCH_CHURN_ROUNDS:-3}
CHAIN=$(echo "${BENCH_CHAIN-5000:20000}" | tr : " ")

echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range
modprobe tcp_diag
modprobe udp_diag

out() {
	echo "BENCH sockets=$1 what=$2 value=$3 unit=$4"
}

# Connection churn: module absent, freshly loaded, tracking on, tracking
# without stacks; CHURN_ROUNDS interleaved rounds (the report takes the
# medians), after a warm-up run, so that drift in the guest hits all four.
$T churn 3 >/dev/null
for r in $(seq "$CHURN_ROUNDS"); do
	rmmod sockleak 2>/dev/null
	out 0 churn_absent "$($T churn $CHURN_SECONDS)" conns
	modprobe sockleak
	out 0 churn_loaded "$($T churn $CHURN_SECONDS)" conns
	if echo track=on >$SL/control 2>/dev/null; then
		out 0 churn_tracking "$($T churn $CHURN_SECONDS)" conns
		echo stacks=0 >$SL/control
		out 0 churn_tracking_nostacks "$($T churn $CHURN_SECONDS)" conns
		echo track=off >$SL/control
		echo stacks=1 >$SL/control
	fi
done

for n in $PAIRS; do
	rm -f /tmp/hold /tmp/ready
	mkfifo /tmp/hold
	$T pairs "$n" 8 </tmp/hold >/tmp/ready &
	exec 9>/tmp/hold
	while ! grep -q ready /tmp/ready 2>/dev/null; do
		sleep 1
		kill -0 $! 2>/dev/null || { echo "pairs failed"; exit 1; }
	done
	# a few UDP sockets and listeners on top
	for p in 1 2 3 4; do nc -l -p $((7000 + p)) </dev/null >/dev/null & done
	sleep 1
	s=$(wc -l <$SL/sockets)
	out "$s" sockets_lines "$s" lines
	out "$s" cat_sockets "$($T time $RUNS cat $SL/sockets)" us
	out "$s" cat_proc_net_tcp "$($T time $RUNS cat /proc/net/tcp /proc/net/tcp6)" us
	out "$s" ss_tanmie "$($T time $RUNS /usr/bin/ss -tanmie)" us
	out "$s" cat_summary "$($T time $RUNS cat $SL/summary)" us
	[ -e $SL/cgroups ] &&
		out "$s" cat_cgroups "$($T time $RUNS cat $SL/cgroups)" us
	if echo scan >$SL/control 2>/dev/null; then
		out "$s" scan "$($T time $RUNS sh -c "echo scan >$SL/control")" us
	fi
	if echo track=on >$SL/control 2>/dev/null; then
		grep -E 'tracked|registry' $SL/summary | head -3 | sed 's/^/# /'
		echo track=off >$SL/control
	fi
	kill $(jobs -p) 2>/dev/null
	exec 9>&-
	wait
done
# One long chain: N connected UDP sockets of one local port share one slot
# of the UDP hash, which the walk must not re-walk from its head for every
# batch (what=chain_*; ss -uan as the kernel's own walk).
modprobe sockleak
for n in $CHAIN; do
	rm -f /tmp/hold /tmp/ready
	mkfifo /tmp/hold
	$T udp-chain "$n" </tmp/hold >/tmp/ready &
	exec 9>/tmp/hold
	while ! grep -q ready /tmp/ready 2>/dev/null; do
		sleep 1
		kill -0 $! 2>/dev/null || { echo "udp-chain failed"; exit 1; }
	done
	s=$(wc -l <$SL/sockets)
	out "$s" chain_cat_summary "$($T time $RUNS cat $SL/summary)" us
	out "$s" chain_cat_sockets "$($T time $RUNS cat $SL/sockets)" us
	out "$s" chain_ss_uan "$($T time $RUNS /usr/bin/ss -uan)" us
	exec 9>&-
	wait
done
# Refcount watchpoint: PINGPONG one-byte ping-pongs on a loopback pair,
# its client end unwatched, then watched (interleaved, RUNS rounds); the
# time added over the watched socket's count changes is the cost of one
# change (a trap, an unwind from the trap's registers, a record).
PINGPONG=${BENCH_PINGPONG:-2000}
pingpong() {
	rm -f /tmp/pp.in /tmp/pp.out
	mkfifo /tmp/pp.in
	$T pingpong "$PINGPONG" </tmp/pp.in >/tmp/pp.out &
	pp=$!
	exec 8>/tmp/pp.in
	while ! grep -q ready /tmp/pp.out 2>/dev/null; do
		sleep 0.1
		kill -0 $pp 2>/dev/null || { echo "pingpong failed"; exit 1; }
	done
	ck=$(sed -n 's/^cookie=//p' /tmp/pp.out)
	[ "$1" = watch ] && echo "watch=$ck" >$SL/control
	echo go >&8
	wait $pp
	exec 8>&-
	us=$(tail -n 1 /tmp/pp.out)
	ch=0
	if [ "$1" = watch ]; then
		ch=$(sed -n "s/^cookie=$ck .* changes=\([0-9]*\) .*/\1/p" $SL/refs)
		echo "unwatch=$ck" >$SL/control
	fi
	echo "$us $ch"
}
modprobe sockleak
out 0 pingpong_n "$PINGPONG" pingpongs
for r in $(seq "$RUNS"); do
	# shellcheck disable=SC2046
	set -- $(pingpong plain)
	out 0 pingpong_plain "$1" us
	# shellcheck disable=SC2046
	set -- $(pingpong watch)
	out 0 pingpong_watched "$1" us
	out 0 pingpong_watched_changes "$2" changes
done
echo "BENCH done"
