#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The helper's refcount commands against the live module, with the leaky
# workload and the test-only holdref module as the truth:
#   sockleak run -- CMD    a clean workload (CLOSE-WAIT, an orphan, a
#                          listener in flight, resets: all freed or on a
#                          timer once it exits) reports no leak, exit 0;
#                          with -L, exactly the socket holdref keeps (the
#                          cookie leaky prints) is reported, exit 1, with
#                          its stacks and, watched (--watch), the function
#                          that took the reference (holdref_take)
#                          so is an AF_UNIX socket holdref keeps (any
#                          family is CMD's leak like a TCP one)
#   sockleak refs COOKIE   names holdref_take, in text and JSON
#                          and 4200 sockets of CMD before its leak do not
#                          hide it; --ktap gives the same as KTAP;
#                          --repeat N and --for SEC run rounds
#   sockleak run leaves no trace: a bad --watch filter (exit 2) and a
#                          CMD that cannot start (exit 4) change nothing;
#                          SIGINT (exit 130) and a surviving child of CMD
#                          (pending, exit 3) leave no process, no cgroup
#                          and the tunables as they were; two runs at once
#                          keep grace_ms=0 until both end, then restore it
#   sockleak watch-next    arms the next listener on a port and reports it
#                          when it is freed, its history balanced
DIR=$(dirname "$0")
. "$DIR/../kselftest/ktap_helpers.sh"
. "$DIR/lib.sh"
SL=/usr/bin/sockleak
HR=/sys/kernel/debug/sockleak_holdref/ctl
here=$(cd "$(dirname "$0")" && pwd)

# run_cgroups: how many cgroups of sockleak run exist.
run_cgroups() {
	find /sys/fs/cgroup -maxdepth 1 -name 'sockleak-run-*' | wc -l
}

# procs_running ARGS: how many processes run with exactly these arguments.
procs_running() {
	for c in /proc/[0-9]*/cmdline; do
		tr '\0' ' ' <"$c" 2>/dev/null
		echo
	done | grep -c "^$1 \$"
}

ktap_print_header
sl_require "$SL" /usr/bin/ss
ktap_set_plan 27
modprobe sockleak || ktap_exit_fail_msg "modprobe sockleak failed"

cp $SL_DIR/control /tmp/control.before
"$SL" run --timeout 20 -- "$here/leaky" -p 7600 -i 100 -t 2 >/tmp/run1.out 2>&1
rc=$?
sl_log "$(tail -n 3 /tmp/run1.out)"
n=$(sed -n 's/^sockleak run: \([0-9]*\) sockets:.*/\1/p' /tmp/run1.out)
sl_check "run, clean workload: exit 0, no leak, its sockets seen (rc=$rc, $n sockets)" \
	sh -c "[ $rc = 0 ] && grep -q ', 0 leaked$' /tmp/run1.out && [ '${n:-0}' -ge 5 ]"
# A connection closed by its client first: the client's end, seen alive,
# goes to TIME-WAIT (a new object with the same cookie and no cgroup): a
# timer, not a leak, and ss has it in TIME-WAIT.
"$SL" run --timeout 20 -- "$here/sltool" timewait >/tmp/run4.out 2>&1
rc=$?
tw=$(sed -n 's/^timer: socket \([0-9a-f]*\) (tcp TIME-WAIT).*/\1/p' /tmp/run4.out | head -n 1)
sstw=$(/usr/bin/ss -Htane state time-wait | grep -o 'sk:[0-9a-f]*' | cut -d: -f2 | tr '\n' ' ')
sl_log "$(cat /tmp/run4.out)"
sl_log "ss's TIME-WAIT sockets: $sstw"
sl_check "run: the workload's TIME-WAIT socket is a timer, as ss says, exit 0 (rc=$rc)" \
	sh -c "[ $rc = 0 ] && [ -n '$tw' ] && echo ' $sstw' | grep -q ' $tw '"
sl_check "run restored the tunables it changed (grace_ms, track)" \
	cmp -s /tmp/control.before $SL_DIR/control

# Churn: graceful closes (TIME-WAIT), resets, unread data: all freed.
# (run sees the sockets alive at one of its 200 ms polls, or tracked.)
"$SL" run --timeout 20 -- "$here/sltool" churn 2 >/tmp/run3.out 2>&1
rc=$?
sl_log "$(tail -n 1 /tmp/run3.out)"
n=$(sed -n 's/^sockleak run: \([0-9]*\) sockets:.*/\1/p' /tmp/run3.out)
sl_check "run, connection churn: exit 0, no leak (rc=$rc, $n sockets)" \
	sh -c "[ $rc = 0 ] && grep -q ', 0 leaked$' /tmp/run3.out && [ '${n:-0}' -ge 2 ]"

if ! sl_have_module sockleak_holdref; then
	sl_skip "no sockleak_holdref module" \
		run-leak run-stacks run-unwatched refs refs-json refs-error run-unix \
		run-ktap-leak run-ktap-clean run-json-leak run-json-repeat \
		run-repeat run-many sockets-family \
		watch-next-bad-proto
else
	modprobe sockleak_holdref && [ -w $HR ] ||
		ktap_exit_fail_msg "modprobe sockleak_holdref failed, or no $HR"
	"$SL" run --timeout 20 --watch port:7704,count:3 -- \
		"$here/leaky" -p 7700 -i 100 -t 3 -L -D 1000 >/tmp/run2.out 2>&1
	rc=$?
	held=$(sed -n 's/.* held=\([0-9a-f]*\).*/\1/p' /tmp/run2.out)
	leaks=$(grep '^leak: socket ' /tmp/run2.out | awk '{print $3}' | tr '\n' ' ')
	sl_log "holdref keeps $held; run reported: $leaks"
	sl_log "$(grep -A4 '^leak:' /tmp/run2.out | head -n 6)"
	sl_check "run, holdref workload: exit 1, exactly the held socket $held leaked (rc=$rc)" \
		sh -c "[ $rc = 1 ] && [ -n '$held' ] && [ '$leaks' = '$held ' ] && grep -q ', 1 leaked$' /tmp/run2.out"
	sl_check "run: the leak's stacks and the function that took the reference" \
		sh -c "grep -q '^  reference never put, taken in: holdref_take+' /tmp/run2.out && grep -q '^  allocation stack:' /tmp/run2.out && grep -q '^    inet_csk_accept\|^    sk_clone' /tmp/run2.out"

	# run released its watches; refs reads a watch armed by hand
	# the same way, on leaky run directly.
	echo release >$HR
	sl_check "run released the watches it armed: refs of $held says not watched" \
		sh -c "! '$SL' refs '$held' >/dev/null 2>&1"
	"$SL" track on >/dev/null
	"$SL" set watch_next=port:7704,count:3 >/dev/null
	held=$("$here/leaky" -p 7700 -i 100 -t 3 -L -D 1000 2>&1 |
		sed -n 's/.* held=\([0-9a-f]*\).*/\1/p')
	"$SL" refs "$held" >/tmp/refs.out 2>&1
	rc=$?
	"$SL" refs -v "$held" | while read -r l; do sl_log "$l"; done
	sl_check "refs COOKIE: alive, 1 held, taken in holdref_take (rc=$rc)" \
		sh -c "[ $rc = 0 ] && grep -q '^socket $held (tcp), alive' /tmp/refs.out && grep -q '^  1 held, taken in holdref_take+' /tmp/refs.out"
	"$SL" --json refs "$held" >/tmp/refs.json 2>&1
	sl_check "refs --json: the held reference's taker" \
		grep -q '"held":\[{"count":1,"taken":"holdref_take+' /tmp/refs.json
	"$SL" refs 7fffffffffff >/tmp/refs.err 2>&1
	rc=$?
	sl_check "refs of a socket not watched: exit 2, says how to arm (rc=$rc)" \
		sh -c "[ $rc = 2 ] && grep -q 'sockleak set watch=7fffffffffff' /tmp/refs.err"
	echo release >$HR
	"$SL" set watch_next=off "unwatch=$held" >/dev/null 2>&1
	"$SL" track off >/dev/null

	# Any family: an AF_UNIX dgram socket that holdref keeps after
	# sltool closed it is CMD's leak like a TCP one.
	"$SL" run --timeout 20 -- "$here/sltool" leak 1 2 0 >/tmp/run5.out 2>&1
	rc=$?
	ck=$(sed -n 's/^cookie=//p' /tmp/run5.out)
	leaks=$(grep '^leak: socket ' /tmp/run5.out | awk '{print $3}' | tr '\n' ' ')
	sl_log "$(grep -A3 '^leak:' /tmp/run5.out | head -n 4)"
	sl_check "run, an AF_UNIX socket held by holdref: exit 1, exactly $ck leaked, proto unix (rc=$rc)" \
		sh -c "[ $rc = 1 ] && [ -n '$ck' ] && [ '$leaks' = '$ck ' ] && grep -q '^leak: socket $ck (unix ' /tmp/run5.out"
	echo release >$HR

	# --ktap: the same verdicts as KTAP for CI: the leak a "not ok" case,
	# every other line a "# " diagnostic (CMD's own output aside).
	"$SL" run --ktap --timeout 20 -- "$here/sltool" leak 1 2 0 >/tmp/run14.out 2>&1
	rc=$?
	ck=$(sed -n 's/^cookie=//p' /tmp/run14.out)
	other=$(grep -v -E '^(TAP version 13|(not )?ok [0-9]+ |1\.\.[0-9]+$|# |cookie=)' /tmp/run14.out | wc -l)
	sl_log "$(grep -v '^# ' /tmp/run14.out)"
	sl_check "run --ktap, a leak: exit 1, not ok for $ck, a plan, nothing else unprefixed (rc=$rc, $other other lines)" \
		sh -c "[ $rc = 1 ] && [ -n '$ck' ] && head -n 1 /tmp/run14.out | grep -q '^TAP version 13$' && grep -q '^not ok [0-9]* socket $ck (unix ' /tmp/run14.out && tail -n 1 /tmp/run14.out | grep -q '^1\.\.[0-9]*$' && [ $other = 0 ]"
	echo release >$HR
	"$SL" run --ktap -- true >/tmp/run15.out 2>&1
	rc=$?
	sl_check "run --ktap, nothing leaked: exit 0, every case ok (rc=$rc)" \
		sh -c "[ $rc = 0 ] && ! grep -q '^not ok' /tmp/run15.out && grep -q '^ok 1 command started and all its processes ended$' /tmp/run15.out && grep -q '^1\.\.1$' /tmp/run15.out"

	# --json: one JSON object on stdout (CMD's own lines aside), the
	# human report on stderr; the leak's cookie is sltool's SO_COOKIE.
	"$SL" run --json --timeout 20 -- "$here/sltool" leak 1 2 0 >/tmp/run18.out 2>/tmp/run18.err
	rc=$?
	ck=$(sed -n 's/^cookie=//p' /tmp/run18.out)
	objs=$(grep -c '^{' /tmp/run18.out)
	sl_log "$(grep '^{' /tmp/run18.out | cut -c1-300)"
	sl_check "run --json, a leak: exit 1, one object: status 1, $ck leaked (unix, allocated by sltool), the report on stderr (rc=$rc, $objs objects)" \
		sh -c "[ $rc = 1 ] && [ -n '$ck' ] && [ $objs = 1 ] && grep '^{' /tmp/run18.out | grep -q '\"status\":1,\"freed\":[0-9]*,\"timer\":[0-9]*,\"pending\":[0-9]*,\"leaked\":1,' && grep '^{' /tmp/run18.out | grep -q '{\"cookie\":\"$ck\",\"proto\":\"unix\",\"state\":\"UNCONN\",\"result\":\"leaked\",\"verdict\":\"never\",' && grep '^{' /tmp/run18.out | grep -q '\"alloc_comm\":\"sltool\"' && grep -q '^leak: socket $ck ' /tmp/run18.err"
	echo release >$HR
	"$SL" run --json --repeat 2 -- true >/tmp/run19.out 2>/dev/null
	rc=$?
	sl_check "run --json --repeat 2, nothing leaked: exit 0, a line per round, then the total (rc=$rc)" \
		sh -c "[ $rc = 0 ] && [ \$(grep -c '^{\"round\":[12],\"command\":\"true\",\"exit_status\":0,\"status\":0,' /tmp/run19.out) = 2 ] && tail -n 1 /tmp/run19.out | grep -q '^{\"rounds\":2,\"leaked\":0,\"status\":0}$'"

	# --repeat: each round its own cgroup and report; the leaks add up.
	"$SL" run --repeat 3 --timeout 20 -- "$here/sltool" leak 1 2 0 >/tmp/run16.out 2>&1
	rc=$?
	n=$(grep -c '^cookie=' /tmp/run16.out)
	cgs=$(run_cgroups)
	sl_log "$(grep '^sockleak run: [0-9]* rounds' /tmp/run16.out)"
	sl_check "run --repeat 3, a leak each round: exit 1, 3 rounds, 3 leaked in all, no cgroup left (rc=$rc)" \
		sh -c "[ $rc = 1 ] && [ $n = 3 ] && [ $cgs = 0 ] && grep -q '^sockleak run: 3 rounds, 3 leaked in all$' /tmp/run16.out && [ \$(grep -c '^leak: socket ' /tmp/run16.out) = 3 ]"
	echo release >$HR

	# More sockets than the first 4096: 4200 UDP sockets of CMD are seen
	# before its one leak, which must still be reported.
	rm -f /tmp/many.ready
	"$SL" run --timeout 30 -- sh -c "'$here/sltool' many 4200 4 /tmp/many.ready & while [ ! -e /tmp/many.ready ]; do sleep 0.1; done; '$here/sltool' leak 1 2 0; wait" >/tmp/run13.out 2>&1
	rc=$?
	ck=$(sed -n 's/^cookie=//p' /tmp/run13.out)
	sl_log "$(tail -n 1 /tmp/run13.out)"
	sl_check "run, 4200 sockets then a leak: exit 1, exactly $ck leaked (rc=$rc)" \
		sh -c "[ $rc = 1 ] && [ -n '$ck' ] && grep -q '^leak: socket $ck ' /tmp/run13.out && grep -q ', 1 leaked$' /tmp/run13.out"
	echo release >$HR

	# sockets --family unix: the closed AF_UNIX socket holdref keeps,
	# which ss -x no longer lists, and no socket of another family.
	"$SL" track on >/dev/null
	ck=$("$here/sltool" leak 1 2 0 | sed -n 's/^cookie=//p')
	"$SL" sockets --family unix >/tmp/sx.out 2>&1
	sl_log "$(head -n 3 /tmp/sx.out)"
	sl_check "sockets --family unix: the held socket $ck, no other family" \
		sh -c "[ -n '$ck' ] && grep -q '^$ck ' /tmp/sx.out && ! grep -qE '^[0-9a-f]+ +(tcp|udp|netlink|packet) ' /tmp/sx.out"
	echo release >$HR
	"$SL" watch-next --proto nosuchproto --timeout 1 >/tmp/wn.err 2>&1
	rc=$?
	sl_log "$(cat /tmp/wn.err)"
	sl_check "watch-next --proto nosuchproto: exit 2, says the name is unknown (rc=$rc)" \
		sh -c "[ $rc = 2 ] && grep -q 'unknown key, protocol or family name' /tmp/wn.err"
	"$SL" track off >/dev/null
fi

# Leaving no trace (each failed before run restored on every exit).
cp $SL_DIR/control /tmp/control.before
"$SL" run --watch nosuchkey:1 -- true >/tmp/run7.out 2>&1
rc=$?
sl_log "$(cat /tmp/run7.out)"
sl_check "run --watch with a bad filter: exit 2, says so, control unchanged (rc=$rc)" \
	sh -c "[ $rc = 2 ] && grep -q 'rejected --watch' /tmp/run7.out && cmp -s /tmp/control.before $SL_DIR/control"
"$SL" run -- /nonexistent/cmd >/tmp/run8.out 2>&1
rc=$?
sl_log "$(cat /tmp/run8.out)"
sl_check "run of a command that cannot start: exit 4, control unchanged (rc=$rc)" \
	sh -c "[ $rc = 4 ] && grep -q 'could not be started' /tmp/run8.out && cmp -s /tmp/control.before $SL_DIR/control"
# Interrupted: SIGINT while CMD runs. CMD is killed, the tunables and the
# cgroup are as before, and the status says so.
"$SL" run -- sleep 97 >/tmp/run9.out 2>&1 &
rpid=$!
sleep 2
kill -INT $rpid
wait $rpid
rc=$?
sleep 0.5
left=$(procs_running 'sleep 97')
cgs=$(run_cgroups)
sl_log "$(cat /tmp/run9.out)"
sl_check "run interrupted by SIGINT: exit 130, CMD killed, no cgroup left, control unchanged (rc=$rc, $left left, $cgs cgroups)" \
	sh -c "[ $rc = 130 ] && [ $left = 0 ] && [ $cgs = 0 ] && grep -q 'interrupted by signal 2' /tmp/run9.out && cmp -s /tmp/control.before $SL_DIR/control"
# A child CMD leaves behind: pending at the timeout (exit 3), then killed
# with the cgroup, which is removed.
"$SL" run --timeout 2 -- sh -c 'sleep 98 & exit 0' >/tmp/run10.out 2>&1
rc=$?
sleep 0.5
left=$(procs_running 'sleep 98')
cgs=$(run_cgroups)
sl_log "$(tail -n 3 /tmp/run10.out)"
sl_check "run: CMD's surviving child is pending (exit 3), then killed, cgroup removed (rc=$rc, $left left, $cgs cgroups)" \
	sh -c "[ $rc = 3 ] && [ $left = 0 ] && [ $cgs = 0 ] && grep -q '^pending: 1 processes' /tmp/run10.out"
# --for: a soak, round after round until the time is up, in KTAP: one
# case per round, each round's cases indented below it.
"$SL" run --for 3 --ktap -- true >/tmp/run17.out 2>&1
rc=$?
rounds=$(grep -c '^ok [0-9]* round ' /tmp/run17.out)
cgs=$(run_cgroups)
sl_log "$(grep -v '^#' /tmp/run17.out | tail -n 4)"
sl_check "run --for 3 --ktap: exit 0, rounds until the time is up, a plan of them, no cgroup left (rc=$rc, $rounds rounds)" \
	sh -c "[ $rc = 0 ] && [ $rounds -ge 2 ] && tail -n 1 /tmp/run17.out | grep -q '^1\.\.$rounds$' && grep -q '^    ok 1 command started' /tmp/run17.out && [ $cgs = 0 ] && cmp -s /tmp/control.before $SL_DIR/control"
# Two at once: the one that ends first must not restore the tunables
# under the other, nor the other restore what the first had set.
"$SL" set grace_ms=4321 >/dev/null
cp $SL_DIR/control /tmp/control.before
"$SL" run -- sleep 1 >/tmp/run11.out 2>&1 &
apid=$!
sleep 0.5
"$SL" run -- sh -c 'sleep 2; cat '$SL_DIR'/control' >/tmp/run12.out 2>&1
rcb=$?
wait $apid
rca=$?
sl_log "$(grep -E '^grace_ms|^track' /tmp/run12.out)"
sl_check "two runs at once: each saw grace_ms=0 to its end, the defaults come back (rc=$rca,$rcb)" \
	sh -c "[ $rca = 0 ] && [ $rcb = 0 ] && grep -q '^grace_ms=0$' /tmp/run12.out && cmp -s /tmp/control.before $SL_DIR/control"
"$SL" set grace_ms=1800000 >/dev/null

# watch-next: the next socket on port 7800 is leaky's listener; leaky
# exits after 1 s and the listener is freed with its history balanced.
"$SL" watch-next --port 7800 --timeout 30 >/tmp/wn.out 2>&1 &
wpid=$!
# leaky starts once the filter is pending (a fixed second was too short
# on the debug kernel: its listener came first and was not armed).
i=0
while [ $i -lt 30 ] && ! grep -q '^watch_next filter=port:7800' "$SL_DIR/refs"; do
	sleep 1
	i=$((i + 1))
done
"$here/leaky" -p 7800 -i 100 -t 1 >/dev/null 2>&1
wait $wpid
rc=$?
sl_log "$(cat /tmp/wn.out)"
sl_check "watch-next --port: armed the listener (rc=$rc)" \
	sh -c "[ $rc = 0 ] && grep -q '^armed: socket [0-9a-f]* (tcp, listen)' /tmp/wn.out"
sl_check "watch-next: reported it freed, the history balanced" \
	sh -c "grep -q '), freed, watched for' /tmp/wn.out && grep -q 'the history balances' /tmp/wn.out"

rmmod sockleak_holdref 2>/dev/null
rmmod sockleak
ktap_finished
