#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The sockleak helper (/usr/bin/sockleak, a static build) against the live
# module: every command runs; `check` exits 0 on a clean system and 1 with
# the leaky workload; the sockets table has exactly ss's sockets, with the
# workload's pid as owner (from /proc, and from the kernel's scan alone)
# and its WAIT as /proc/PID/stat and wchan say; --prom numbers equal the
# debugfs files and /proc/net/sockstat; tracked lists the socket the
# test-only holdref module keeps (cookie from leaky's SO_COOKIE) and clear
# hides it; cgroups reconciles with the workload's memory.stat; the error
# messages name the fix.
DIR=$(dirname "$0")
. "$DIR/../kselftest/ktap_helpers.sh"
. "$DIR/lib.sh"
SL=/usr/bin/sockleak
SS=/usr/bin/ss
here=$(cd "$(dirname "$0")" && pwd)

ktap_print_header
sl_require "$SL" "$SS"
ktap_set_plan 28
modprobe sockleak || ktap_exit_fail_msg "modprobe sockleak failed"

"$SL" set unread_ms=300 close_wait_ms=300 >/dev/null
sl_check "set NAME=VALUE changes control" \
	grep -qx 'unread_ms=300' $SL_DIR/control

"$SL" set bogus=1 >/dev/null 2>/tmp/err
rc=$?
sl_check "set with an unknown name: exit 2, translated error (rc=$rc)" \
	sh -c "[ $rc = 2 ] && grep -q 'unknown setting or bad value: bogus=1' /tmp/err"

"$SL" check >/tmp/out
rc=$?
sl_check "check on a clean system exits 0 (rc=$rc)" [ $rc = 0 ]

# wait_ready FILE: until a leaky workload printed "ready" there (10 s).
wait_ready() {
	i=0
	while ! grep -q ready "$1" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# The leaky workload: a never-reading receiver, CLOSE-WAIT, an orphan.
# A long interval keeps its memory still while numbers are compared.
"$here/leaky" -p 7300 -i 3600000 >/tmp/leaky.out &
lpid=$!
wait_ready /tmp/leaky.out
sleep 1

"$SL" check >/tmp/out
rc=$?
sl_check "check with the leaky workload exits 1 (rc=$rc)" [ $rc = 1 ]
cw=$($SS -Htane state close-wait | grep -o 'sk:[0-9a-f]*' | cut -d: -f2)
sl_log "CLOSE-WAIT cookie per ss: $cw"
sl_check "check lists the CLOSE-WAIT socket ss shows" \
	sh -c "[ -n '$cw' ] && grep -qw '$cw' /tmp/out"

# Sockets come and go (earlier tests' TIME-WAITs expire): use a read taken
# between two ss runs that agree (up to 5 tries).
sscookies() { $SS -Htuane | grep -o ' sk:[0-9a-f]*' | cut -d: -f2 | sort; }
for try in 1 2 3 4 5; do
	sscookies >/tmp/ss1.cookies
	"$SL" sockets | tail -n +2 | awk '{print $1}' | sort >/tmp/sl.cookies
	sscookies >/tmp/ss.cookies
	cmp -s /tmp/ss1.cookies /tmp/ss.cookies && break
done
sl_check "sockets rows are exactly ss's sockets ($(wc -l </tmp/ss.cookies) sockets)" \
	cmp -s /tmp/sl.cookies /tmp/ss.cookies

owner=$("$SL" sockets --state CLOSE-WAIT | awk 'NR == 2 {print $11}')
sl_check "owner of the CLOSE-WAIT socket is the workload: '$owner'" \
	[ "$owner" = "$lpid/leaky" ]
orphan=$("$SL" sockets --state FIN-WAIT-1 | awk 'NR == 2 {print $11}')
sl_check "the orphan has no owner: '$orphan'" [ "$orphan" = "-" ]

# WAIT: where the owner waits, as /proc says; leaky sleeps between sends.
wchan=$(cat /proc/$lpid/wchan)
st=$(sed 's/.*) \(.\).*/\1/' /proc/$lpid/stat)
wt=$("$SL" sockets --state CLOSE-WAIT | awk 'NR == 2 {print $12}')
sl_check "WAIT of the CLOSE-WAIT owner is /proc's state:wchan ($st:$wchan): '$wt'" \
	sh -c "[ '$wt' = '$st:$wchan' ] && [ '$st' = S ] && [ -z '${wchan##*nanosleep*}' ]"

# Owners from the kernel's scan alone, with no /proc to fall back on:
# unknown before a scan that saw the workload, the workload after it.
o1=$(SOCKLEAK_PROCFS=/nonexistent "$SL" sockets --state CLOSE-WAIT | awk 'NR == 2 {print $11}')
"$SL" scan >/dev/null
o2=$(SOCKLEAK_PROCFS=/nonexistent "$SL" sockets --state CLOSE-WAIT | awk 'NR == 2 {print $11}')
sl_check "scan: the kernel names the owner ('$o1' before, '$o2' after)" \
	[ "$o1" = "-" ] && [ "$o2" = "$lpid/leaky" ]

# suspects: ss's CLOSE-WAIT socket is a close_wait suspect of the workload,
# with where it waits; with --all, one row per line of the debugfs file.
"$SL" suspects --all >/tmp/su
row=$(sl_rows 2 "$cw" /tmp/su)
sl_log "suspect row: $row"
if ! echo "$row" | grep -q "close_wait"; then
	sl_log "suspects --all (cookie $cw): $(head -c 1500 /tmp/su)"
	sl_log "debugfs: $(grep "id=$cw " $SL_DIR/suspects | cut -c1-300)"
fi
sl_check "suspects: the CLOSE-WAIT socket is close_wait, verdict owner, pid $lpid, WAIT $st:$wchan" \
	sh -c "echo '$row' | awk '{exit !(\$1 == \"socket\" && \$5 == $lpid && \$7 == \"owner\" && \$8 == \"close_wait\" && \$9 == \"$st:$wchan\")}'"
sl_check "suspects --all rows ($(tail -n +2 /tmp/su | wc -l)) equal the debugfs lines" \
	[ "$(tail -n +2 /tmp/su | wc -l)" = "$(grep -c . $SL_DIR/suspects)" ]

"$SL" --prom >/tmp/prom
prom() { grep -F "$1 " /tmp/prom | awk '{print $NF}'; }
est=$($SS -Htan state established | wc -l)
sl_check "--prom tcp ESTAB equals ss ($est)" \
	[ "$(prom 'sockleak_sockets{proto="tcp",state="ESTAB"}')" = "$est" ]
smem=$(awk '/^TCP:/ {for (i = 1; i < NF; i++) if ($i == "mem") print $(i + 1)}' /proc/net/sockstat)
sl_check "--prom tcp memory_allocated equals sockstat mem ($smem)" \
	[ "$(prom 'sockleak_proto_memory_allocated{proto="tcp"}')" = "$smem" ]
# Flags change with time: compare one saved copy with its exposition.
"$SL" snapshot /tmp/s1 >/dev/null
"$SL" --debugfs /tmp/s1 --prom >/tmp/prom1
flagged=$(grep -c 'flags=[a-z]' /tmp/s1/sockets)
got=$(grep '^sockleak_suspects ' /tmp/prom1 | awk '{print $2}')
sl_check "--prom suspects ($got) equals the flagged lines of debugfs ($flagged)" \
	[ "$got" = "$flagged" ]
q=$($SS -Htanm state fin-wait-1 | grep -o ',w[0-9]*' | cut -c3-)
sl_check "--prom FIN-WAIT-1 queued bytes equal ss skmem w ($q)" \
	[ "$(prom 'sockleak_socket_bytes{proto="tcp",state="FIN-WAIT-1",type="queued"}')" = "$q" ]

ok=1
for c in "" summary version control "sockets -n 3" "--json" "--json sockets"; do
	# shellcheck disable=SC2086
	"$SL" $c >/tmp/out 2>&1 || { ok=0; sl_log "sockleak $c failed: $(cat /tmp/out)"; }
done
sl_check "overview, summary, version, control, sockets, --json run" [ $ok = 1 ]

"$SL" growth -i 1 -c 2 >/tmp/out
sl_check "growth -i 1 -c 2 prints a second sample" grep -q '^sample 2 ' /tmp/out

"$SL" snapshot /tmp/snap >/dev/null
"$SL" --debugfs /tmp/snap version >/tmp/snap.out
"$SL" version >/tmp/live.out
sl_check "snapshot DIR reads back like the live module" cmp -s /tmp/snap.out /tmp/live.out

# Optional reports: present -> exit 0, absent -> exit 2 naming the feature.
ok=1
for f in suspects tracked cgroups; do
	"$SL" $f >/tmp/out 2>&1
	rc=$?
	if [ -e $SL_DIR/$f ]; then
		[ $rc = 0 ] || { ok=0; sl_log "$f: rc=$rc"; }
	else
		[ $rc = 2 ] && grep -q "has no $f report" /tmp/out ||
			{ ok=0; sl_log "$f: rc=$rc $(cat /tmp/out)"; }
	fi
done
sl_check "suspects, tracked, cgroups: output or a clear 'has no' error" [ $ok = 1 ]
ok=1
for c in scan "track on" clear "track off"; do
	# shellcheck disable=SC2086
	"$SL" $c >/tmp/out 2>&1
	rc=$?
	[ $rc = 0 ] || { [ $rc = 2 ] && grep -q 'has no' /tmp/out; } ||
		{ ok=0; sl_log "$c: rc=$rc $(cat /tmp/out)"; }
done
sl_check "scan, track, clear: done or a clear 'has no' error" [ $ok = 1 ]

kill $lpid
wait $lpid 2>/dev/null

# tracked: a reference leaked by holdref on a socket leaky closed.
HR=/sys/kernel/debug/sockleak_holdref/ctl
if ! sl_have_module sockleak_holdref; then
	sl_skip "no sockleak_holdref module" "tracked" "tracked prom" "tracked clear"
else
	modprobe sockleak_holdref ||
		ktap_exit_fail_msg "modprobe sockleak_holdref failed"
	"$SL" track on >/dev/null && "$SL" set grace_ms=300 >/dev/null ||
		ktap_exit_fail_msg "cannot turn tracking on for holdref's socket"
	"$here/leaky" -p 7400 -i 3600000 -L >/tmp/leaky2.out &
	l2pid=$!
	wait_ready /tmp/leaky2.out
	held=$(sed -n 's/.* held=\([0-9a-f]*\).*/\1/p' /tmp/leaky2.out)
	# Closed, then freed of every reference but holdref's (its FIN's
	# ACK, its timers) and past grace_ms: under load, seconds.
	for _ in $(seq 1 20); do
		sleep 0.5
		"$SL" tracked >/tmp/tr 2>&1
		rc=$?
		row=$(sl_rows 1 "$held" /tmp/tr)
		echo "$row" | awk '{exit !($4 == 1)}' && break
	done
	sl_log "tracked row: $row"
	if [ -z "$row" ]; then
		sl_log "sockleak tracked: exit $rc, $(wc -l </tmp/tr) lines: $(head -c 400 /tmp/tr | tr '\n' '|')"
		sl_log "debugfs: $(grep "^cookie=$held " $SL_DIR/tracked | cut -c1-200)"
	fi
	# Not in ss: no line but a TIME-WAIT one. When both ends close at
	# once (PREEMPT_RT 6.12 hands loopback's packets to a backlog thread),
	# the held socket's TIME-WAIT is a timewait socket that takes its
	# cookie: another object (ss ends its line with the cookie).
	sl_check "tracked: the held socket $held (not in ss), closed by $l2pid/leaky, refcnt 1" \
		sh -c "[ -n '$held' ] && ! $SS -Htuane | grep -v TIME-WAIT | grep -qE 'sk:$held( |\$)' &&
		       echo '$row' | awk '{exit !(\$4 == 1 && \$(NF - 1) == \"$l2pid/leaky\")}'"
	"$SL" --prom >/tmp/prom
	cp $SL_DIR/tracked /tmp/tr.raw
	sl_log "prom: $(grep '^sockleak_tracked_sockets ' /tmp/prom); tracked now:"
	cut -c1-300 /tmp/tr.raw | while read -r l; do sl_log "$l"; done
	sl_check "--prom tracked sockets equal the tracked lines of debugfs" \
		[ "$(grep '^sockleak_tracked_sockets ' /tmp/prom | awk '{print $2}')" = "$(grep -c . $SL_DIR/tracked)" ]
	"$SL" clear >/dev/null
	"$SL" tracked >/tmp/tr
	after=$(sl_rows 1 "$held" /tmp/tr)
	sl_check "clear hides it though holdref still holds $(cat $HR) reference" \
		sh -c "[ -n '$held' ] && [ -z '$after' ] && [ \"\$(cat $HR)\" = 1 ]"
	echo release >$HR
	kill $l2pid
	wait $l2pid 2>/dev/null
	"$SL" track off >/dev/null
	"$SL" set grace_ms=1800000 >/dev/null
fi

# cgroups: the workload in its own memory cgroup; MEMSTAT_SOCK is that
# cgroup's memory.stat sock, RESIDUE it minus what the module charged.
CG=/sys/fs/cgroup
if ! grep -qw memory $CG/cgroup.controllers 2>/dev/null; then
	sl_skip "no cgroup v2 memory controller" \
		"cgroups MEMSTAT_SOCK" "cgroups RESIDUE"
else
	echo +memory >$CG/cgroup.subtree_control && mkdir -p $CG/slhelper ||
		ktap_exit_fail_msg "cannot make a memory cgroup $CG/slhelper"
	sh -c 'echo $$ >/sys/fs/cgroup/slhelper/cgroup.procs && exec "$0" -p 7500 -i 3600000' \
		"$here/leaky" >/tmp/leaky3.out &
	l3pid=$!
	wait_ready /tmp/leaky3.out
	sleep 3		# memory.stat is flushed every 2 s
	j=$("$SL" --json cgroups | grep '"path":"/slhelper"')
	sock=$(awk '$1 == "sock" {print $2}' $CG/slhelper/memory.stat)
	sub=$(awk '/ path=\/slhelper / {for (i = 1; i <= NF; i++) if ($i ~ /^subtree_charged=/) print substr($i, 17)}' $SL_DIR/cgroups)
	jsock=$(echo "$j" | sed -n 's/.*"memstat_sock":\([0-9-]*\).*/\1/p')
	jres=$(echo "$j" | sed -n 's/.*"memstat_residue":\([0-9-]*\).*/\1/p')
	sl_log "cgroup: memory.stat sock $sock, subtree_charged $sub, helper: $j"
	sl_check "cgroups MEMSTAT_SOCK ($jsock) is memory.stat sock ($sock), the workload's memory" \
		sh -c "[ -n '$sock' ] && [ '$sock' -gt 0 ] && [ '$jsock' = '$sock' ]"
	sl_check "cgroups RESIDUE ($jres) is memory.stat sock minus subtree_charged ($sub)" \
		sh -c "[ -n '$sub' ] && [ '$jres' = \$(($sock - $sub)) ]"
	kill $l3pid
	wait $l3pid 2>/dev/null
	sleep 0.5
	rmdir $CG/slhelper
fi
"$SL" set unread_ms=60000 close_wait_ms=60000 >/dev/null

rmmod sockleak
"$SL" >/tmp/out 2>&1
rc=$?
sl_check "module not loaded: exit 2, says modprobe (rc=$rc)" \
	sh -c "[ $rc = 2 ] && grep -q 'modprobe sockleak' /tmp/out"
modprobe sockleak || ktap_exit_fail_msg "modprobe sockleak (again) failed"
if ! command -v unshare >/dev/null; then
	sl_skip "no unshare" "debugfs not mounted"
else
	unshare -m sh -c "umount /sys/kernel/debug && $SL" >/tmp/out 2>&1
	rc=$?
	sl_check "debugfs not mounted: exit 2, says how to mount (rc=$rc)" \
		sh -c "[ $rc = 2 ] && grep -q 'mount -t debugfs none /sys/kernel/debug' /tmp/out"
fi
ktap_finished
