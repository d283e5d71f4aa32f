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

# Run "sltool ARGS..." in the background, holding its sockets until
# hold_end, and wait for its "ready".
hold_start() {
	rm -f /tmp/hold /tmp/ready
	mkfifo /tmp/hold
	$T "$@" </tmp/hold >/tmp/ready &
	exec 9>/tmp/hold
	while ! grep -q ready /tmp/ready 2>/dev/null; do
		sleep 1
		kill -0 $! 2>/dev/null || { echo "$1 failed"; exit 1; }
	done
}
hold_end() {
	kill $(jobs -p) 2>/dev/null
	exec 9>&-
	wait
}

# BENCH_SETTLE=1 (make bench, whose guest clock counts instructions, see
# the Makefile): before each churn run, wait until the TIME-WAIT sockets
# of the previous ones are gone, so that no mode inherits a fuller hash
# than another; an idle guest's clock jumps to its next timer, so the
# 60 s of TIME-WAIT pass in a moment.
settle() {
	[ "${BENCH_SETTLE:-0}" = 1 ] || return 0
	$T settle 120
}
churn() {
	settle
	out 0 "$1" "$($T churn $CHURN_SECONDS)" conns
	out 0 "unix_$1" "$($T unix-churn $CHURN_SECONDS)" pairs
}

# Connection churn: module absent, freshly loaded, tracking on (the
# default stacks=1: full stacks only where they tell something,
# stack_depth=8), with every stack full (stacks=2, as before stacks=1
# existed), with stacks only for another netns (stack_filter=, as when
# one service is followed), and without stacks. Each mode sets itself up from scratch (module
# unloaded first), then makes an unmeasured run in that mode before the
# measured one, and the order is rotated by one each round (with
# CHURN_ROUNDS = 6, every mode runs once in every position); the report
# takes each mode's median. The first run after track=on is measured on
# its own too (first_tracking: the default mode with no unmeasured run).
# (Runs once seemed 15-35% slower right after a track=on/off cycle: the
# churn loops ended at time(NULL) + SECONDS, so a run lasted between
# SECONDS - 1 and SECONDS by where in a second it began, and only the
# runs that followed a sleep began at the same place. sltool now stops at
# a monotonic deadline; make profile counts the same instructions per
# connection in the first run after track=on as in later ones.)
MODES="absent loaded tracking tracking_all tracking_filtered tracking_nostacks first_tracking"
churn_mode() {
	rmmod sockleak 2>/dev/null
	settle
	case $1 in
	absent)
		rmmod sockleak 2>/dev/null
		;;
	loaded)
		rmmod sockleak 2>/dev/null
		modprobe sockleak
		;;
	tracking* | first_tracking)
		[ -d $SL ] || modprobe sockleak
		depth=8 filter=off stacks=1
		case $1 in
		*_all) stacks=2 ;;
		*_filtered) filter=netns:1 ;;
		*_nostacks) stacks=0 ;;
		esac
		printf 'track=off\nstacks=%s\nstack_depth=%s\nstack_filter=%s\ntrack=on\n' \
			$stacks $depth $filter >$SL/control || return 1
		;;
	esac
	if [ "$1" != first_tracking ]; then
		$T churn 1 >/dev/null
		$T unix-churn 1 >/dev/null
	fi
	churn "churn_$1"
}
$T churn 3 >/dev/null
for r in $(seq "$CHURN_ROUNDS"); do
	set -- $MODES
	k=1
	while [ $k -lt "$r" ]; do
		m=$1
		shift
		set -- "$@" "$m"
		k=$((k + 1))
	done
	for m in "$@"; do
		churn_mode "$m"
	done
done
modprobe sockleak 2>/dev/null
[ -d $SL ] && printf 'track=off\nstacks=1\nstack_depth=8\nstack_filter=off\n' >$SL/control

# Scale: N tracked TCP sockets (N/2 established loopback pairs over 16
# listeners, created with tracking on, so each one has a track table entry),
# the time of every report and of the owner scan against /proc/net/tcp,
# and the track table's memory: its own count (table_bytes, of which
# stack_bytes is the stack store) and the growth of vmalloc (VmallocUsed,
# /proc/meminfo) at track=on, per entry. No
# TIME-WAIT is kept (tcp_max_tw_buckets=0) so one size leaves nothing to
# the next.
SCALE=$(echo "${BENCH_SCALE-}" | tr : " ")
SCALE_RUNS=${BENCH_SCALE_RUNS:-3}
vmalloc_kb() {
	sed -n 's/^VmallocUsed: *\([0-9]*\) kB/\1/p' /proc/meminfo
}
kv() {
	sed -n "s/.* $1=\([0-9]*\).*/\1/p"
}
if [ -n "$SCALE" ]; then
	modprobe sockleak
	tw=$(cat /proc/sys/net/ipv4/tcp_max_tw_buckets)
	echo 0 >/proc/sys/net/ipv4/tcp_max_tw_buckets
	echo 2000000 >/proc/sys/fs/nr_open
fi
for n in $SCALE; do
	echo track=off >$SL/control
	echo "max_entries=$((n + n / 8 + 4096))" >$SL/control
	v0=$(vmalloc_kb)
	echo track=on >$SL/control || { echo "track=on failed"; exit 1; }
	v1=$(vmalloc_kb)
	t0=$(date +%s)
	hold_start pairs "$((n / 2))" 16
	out "$n" scale_setup_s "$(($(date +%s) - t0))" s
	line=$(grep 'kind=track' $SL/summary)
	echo "# $line"
	out "$n" scale_entries "$(echo "$line" | kv entries)" entries
	out "$n" scale_max_entries "$(echo "$line" | kv max_entries)" entries
	out "$n" scale_table_bytes "$(echo "$line" | kv table_bytes)" bytes
	out "$n" scale_stack_bytes "$(echo "$line" | kv stack_bytes)" bytes
	out "$n" scale_vmalloc_kb "$((v1 - v0))" kB
	out "$n" scale_proc_tcp "$($T time $SCALE_RUNS cat /proc/net/tcp /proc/net/tcp6)" us
	out "$n" scale_sockets "$($T time $SCALE_RUNS cat $SL/sockets)" us
	out "$n" scale_summary "$($T time $SCALE_RUNS cat $SL/summary)" us
	out "$n" scale_cgroups "$($T time $SCALE_RUNS cat $SL/cgroups)" us
	out "$n" scale_tracked "$($T time $SCALE_RUNS cat $SL/tracked)" us
	out "$n" scale_scan "$($T time $SCALE_RUNS sh -c "echo scan >$SL/control")" us
	hold_end
	echo track=off >$SL/control
done
[ -n "$SCALE" ] && echo "$tw" >/proc/sys/net/ipv4/tcp_max_tw_buckets

for n in $PAIRS; do
	hold_start pairs "$n" 8
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
		grep -E 'tracked|track table' $SL/summary | head -3 | sed 's/^/# /'
		echo track=off >$SL/control
	fi
	hold_end
done
# One long chain: N connected UDP sockets of one local port share one slot
# of the UDP hash, which the walk must not re-walk from its head for every
# batch (what=chain_*; ss -uan as the kernel's own walk).
modprobe sockleak
for n in $CHAIN; do
	hold_start udp-chain "$n"
	s=$(wc -l <$SL/sockets)
	out "$s" chain_cat_summary "$($T time $RUNS cat $SL/summary)" us
	out "$s" chain_cat_sockets "$($T time $RUNS cat $SL/sockets)" us
	out "$s" chain_ss_uan "$($T time $RUNS /usr/bin/ss -uan)" us
	hold_end
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
