#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Soak of "sockleak run": SOAK_RUNS rounds (default 10; "make soak": 100),
# each two runs at once:
#   - a watched one (--watch family:unix,count:1) of a CMD that leaks one
#     AF_UNIX socket, kept by the test-only holdref module (the truth: the
#     cookie CMD prints); every SOAK_KILL_EVERY-th round (default 10) it is
#     interrupted with SIGINT at a random point;
#   - an unwatched one of a CMD that creates and closes unix socketpairs
#     for a second (nothing leaks).
# Each run must end as documented: the watched one exit 1 with exactly
# the held socket leaked (130 when interrupted), the other exit 0. After
# all rounds: the control file as at load, no cgroup of sockleak run, no
# state file, no watch left (refs empty), and four new watches can be
# armed (the debug registers are free).
DIR=$(dirname "$0")
. "$DIR/../kselftest/ktap_helpers.sh"
. "$DIR/lib.sh"
SL=/usr/bin/sockleak
HR=/sys/kernel/debug/sockleak_holdref/ctl
here=$(cd "$(dirname "$0")" && pwd)
RUNS=${SOAK_RUNS:-10}
KILL_EVERY=${SOAK_KILL_EVERY:-10}
T=/tmp/soak.$$
mkdir -p $T

ktap_print_header
ktap_set_plan 7
sl_require "$SL"
rmmod sockleak_holdref sockleak 2>/dev/null
modprobe sockleak || ktap_exit_fail_msg "modprobe sockleak failed"
if ! sl_have_module sockleak_holdref; then
	sl_skip "no sockleak_holdref module" watched-runs plain-runs \
		control-restored no-cgroup no-state no-watch watch-four
	ktap_finished
	exit 0
fi
modprobe sockleak_holdref && [ -w $HR ] ||
	ktap_exit_fail_msg "modprobe sockleak_holdref failed, or no $HR"
defaults=$(cat $SL_DIR/control)

bad_w=0
bad_p=0
killed=0
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	"$SL" run --watch family:unix,count:1 --timeout 20 -- \
		"$here/sltool" leak 1 2 0 >$T/w.$i 2>&1 &
	wp=$!
	"$SL" run --timeout 20 -- "$here/sltool" unix-churn 1 >$T/p.$i 2>&1 &
	pp=$!
	kill_it=0
	if [ $((i % KILL_EVERY)) = 0 ]; then
		kill_it=1
		# A random point: while CMD runs, or while the run waits.
		sleep "0.$(((i * 37 / KILL_EVERY) % 10))"
		kill -INT $wp 2>/dev/null
	fi
	wait $wp
	rcw=$?
	wait $pp
	rcp=$?
	ck=$(sed -n 's/^cookie=//p' $T/w.$i)
	leaks=$(grep '^leak: socket ' $T/w.$i | awk '{print $3}' | tr '\n' ' ')
	if [ $kill_it = 1 ] && [ $rcw = 130 ]; then
		killed=$((killed + 1))
	elif [ $rcw != 1 ] || [ -z "$ck" ] || [ "$leaks" != "$ck " ]; then
		# An interrupt that came after the run's end is no interrupt.
		bad_w=$((bad_w + 1))
		sl_log "round $i: watched run exit $rcw, held $ck, reported: $leaks"
		sl_log "$(tail -n 5 $T/w.$i)"
	fi
	if [ $rcp != 0 ]; then
		bad_p=$((bad_p + 1))
		sl_log "round $i: plain run exit $rcp"
		sl_log "$(tail -n 5 $T/p.$i)"
	fi
	echo release >$HR
done

sl_check "$RUNS watched runs: exit 1 and exactly the held socket leaked, or 130 when interrupted ($killed interrupted, $bad_w wrong)" \
	[ $bad_w = 0 ]
sl_check "$RUNS plain runs beside them: exit 0 ($bad_p wrong)" [ $bad_p = 0 ]
sl_check "the control file as at load" \
	sh -c "[ \"\$(cat $SL_DIR/control)\" = '$defaults' ]"
sl_check "no cgroup of sockleak run left" \
	sh -c "[ \$(find /sys/fs/cgroup -maxdepth 1 -name 'sockleak-run-*' | wc -l) = 0 ]"
sl_check "no run state left" \
	sh -c "[ ! -s /run/sockleak/run.state ]"
sl_check "no watch left: refs is empty" \
	sh -c "! grep -q '^cookie=' $SL_DIR/refs"
# Four watches at once: each needs a debug register of its own (the
# sockets are found through the track table: tracking on, then off).
n=0
"$SL" track on >/dev/null
"$here/sltool" leak 1 2 0 >$T/four 2>&1 && "$here/sltool" leak 1 2 0 >>$T/four 2>&1 &&
	"$here/sltool" leak 1 2 0 >>$T/four 2>&1 && "$here/sltool" leak 1 2 0 >>$T/four 2>&1
for ck in $(sed -n 's/^cookie=//p' $T/four); do
	"$SL" set "watch=$ck" >/dev/null 2>&1 && n=$((n + 1))
done
sl_check "four new watches armed at once ($n)" [ $n = 4 ]
for ck in $(sed -n 's/^cookie=//p' $T/four); do
	"$SL" set "unwatch=$ck" >/dev/null 2>&1
done
echo release >$HR
"$SL" track off >/dev/null
rm -rf $T
ktap_finished
