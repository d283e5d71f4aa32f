#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Stress: for STRESS_SECONDS (default 20), concurrently
#  - 4 readers loop over every file of /sys/kernel/debug/sockleak with
#    read sizes 1, 7, 4096 and cat, checking every read is well-formed;
#  - connection churn (graceful closes, RSTs with unread data, TIME-WAIT);
#  - network namespaces and cgroups created and destroyed;
#  - control commands toggled (track=on/off and scan, where the module
#    has them);
#  - STRESS_RELOADS (default 20) module unload/reload cycles.
# The VM harness fails the run on any kernel splat or hang. Afterwards no
# output contains a kernel pointer and no file opens for an unprivileged
# user.
DIR=$(dirname "$0")
. "$DIR/../kselftest/ktap_helpers.sh"
. "$DIR/lib.sh"

DUR=${STRESS_SECONDS:-20}
RELOADS=${STRESS_RELOADS:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
T=/tmp/stress.$$
mkdir -p $T
ktap_print_header
ktap_set_plan 6

modprobe sockleak && modprobe tcp_diag ||
	ktap_exit_fail_msg "modprobe sockleak, tcp_diag failed"
end=$(($(date +%s) + DUR))

# well_formed FILE: printable lines, each ending in a newline, no pointer.
well_formed() {
	awk -v f="$2" '
		/[^[:print:]\t]/ { print "unprintable line in " f ": " $0; bad = 1 }
		/ffff[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]/ {
			print "kernel pointer in " f ": " $0; bad = 1 }
		END { exit bad }' "$1" || return 1
	# the last byte of a non-empty read is a newline
	[ ! -s "$1" ] || [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] ||
		{ echo "$2: read does not end with a newline"; return 1; }
}

reader() {
	n=0
	while [ "$(date +%s)" -lt $end ]; do
		for f in $SL_DIR/*; do
			[ "${f##*/}" = control ] && [ $(($1 % 2)) = 1 ] && continue
			case $1 in
			1) dd if="$f" of=$T/r$1 bs=1 2>/dev/null ;;
			2) dd if="$f" of=$T/r$1 bs=7 2>/dev/null ;;
			3) dd if="$f" of=$T/r$1 bs=4096 2>/dev/null ;;
			*) cat "$f" >$T/r$1 2>/dev/null ;;
			esac || continue	# the module may be reloading
			if ! well_formed $T/r$1 "$f" >>$T/bad; then
				cp $T/r$1 $T/bad.$1.$n
			fi
			n=$((n + 1))
		done
	done
	echo $n >$T/reads.$1
}

netns_loop() {
	i=0
	while [ "$(date +%s)" -lt $end ]; do
		/usr/bin/ip netns add slstress$i &&
			/usr/bin/ip -n slstress$i link set lo up &&
			/usr/bin/ip netns del slstress$i
		i=$((i + 1))
	done
}

cgroup_loop() {
	while [ "$(date +%s)" -lt $end ]; do
		mkdir /sys/fs/cgroup/slstress 2>/dev/null
		rmdir /sys/fs/cgroup/slstress 2>/dev/null
	done
}

control_loop() {
	while [ "$(date +%s)" -lt $end ]; do
		for c in track=on scan track=off scan unread_ms=100 \
			 unread_ms=60000; do
			echo $c >$SL_DIR/control 2>/dev/null
		done
		sleep 1
	done
}

reload_loop() {
	ok=0
	i=0
	step=$((DUR * 1000 / (RELOADS + 1)))
	while [ $i -lt $RELOADS ]; do
		usleep $((step * 1000))
		# open files pin the module: retry while readers hold them
		tries=0
		until rmmod sockleak 2>/dev/null; do
			tries=$((tries + 1))
			[ $tries -gt 500 ] && break
			usleep 10000
		done
		modprobe sockleak && [ -e $SL_DIR/version ] && ok=$((ok + 1))
		i=$((i + 1))
	done
	echo $ok >$T/reloads
}

: >$T/bad
for r in 1 2 3 4; do reader $r & done
"$HERE/sltool" churn $DUR >$T/churn 2>&1 &
netns_loop &
cgroup_loop &
control_loop &
reload_loop &
wait

reads=$(cat $T/reads.* | awk '{ s += $1 } END { print s + 0 }')
sl_log "reads: $reads, connections: $(cat $T/churn), reloads: $(cat $T/reloads)"
if [ -s $T/bad ]; then
	head -20 $T/bad | sed 's/^/# /'
	ktap_test_fail "every read well-formed, no kernel pointer"
else
	ktap_test_pass "every read well-formed, no kernel pointer ($reads reads)"
fi
# The churn must have run: a debug kernel (SL_SLOW) manages far fewer.
min_churn=100
[ -n "${SL_SLOW:-}" ] && min_churn=20
[ "$(cat $T/churn)" -gt $min_churn ] 2>/dev/null &&
	ktap_test_pass "connection churn ran ($(cat $T/churn) connections)" ||
	ktap_test_fail "connection churn: $(cat $T/churn)"
[ "$(cat $T/reloads)" = "$RELOADS" ] &&
	ktap_test_pass "$RELOADS unload/reload cycles under load" ||
	ktap_test_fail "reloads: $(cat $T/reloads) of $RELOADS"

# After the storm: the module still works, and unloads.
echo track=off >$SL_DIR/control 2>/dev/null
ok=1
for f in $SL_DIR/*; do
	cat "$f" >$T/final || ok=0
	well_formed $T/final "$f" | sed 's/^/# /'
done
sl_check "every file readable after the stress" [ $ok = 1 ]

# No file opens for an unprivileged user (debugfs root opened up first).
chmod 755 /sys/kernel/debug || ktap_exit_fail_msg "cannot open up debugfs"
"$HERE/sltool" nobody-open $SL_DIR/* >$T/nobody
chmod 700 /sys/kernel/debug
if awk '$2 != 13 { bad = 1; print "# opened by nobody: " $0 } END { exit bad }' \
	$T/nobody; then
	ktap_test_pass "no file opens for an unprivileged user ($(wc -l <$T/nobody) files)"
else
	ktap_test_fail "a file opens for an unprivileged user"
fi

sl_check "rmmod after the stress" rmmod sockleak
rm -rf $T
ktap_finished
