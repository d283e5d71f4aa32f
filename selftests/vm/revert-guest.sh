#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# revert-guest.sh: make check-reverted, in the guest (run.sh --script,
# /extra holding revert.sh's modules and bug.sh). A real upstream leak,
# its fix reverted, must be found by "sockleak run", and the fixed kernel
# must be found clean:
#   1. with the kernel's own (fixed) modules, the reproducer under
#      "sockleak run --watch" exits 0 (no leak), and the bug's protocol
#      module's reference count (one per allocated socket of it) is back
#      where it was once the reproducer's sockets could time out;
#   2. the same modules with the fix reverted (insmod from /extra): exit 1,
#      the one leak reported is the socket the reproducer printed the
#      cookie of, and the module's count stays one up (the socket never
#      goes: the independent truth);
#   3. the reference never put is named: taken in bug_taker.
# KTAP; the module's count is read from /sys/module/<first of
# bug_modules>/refcnt.
set -u
. /extra/bug.sh
R=/selftests/sockleak/${bug_repro%% *}
args=${bug_repro#* }
first=${bug_modules%% *}
n=0
fails=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		fails=$((fails + 1))
	fi
}
refcnt() {
	cat "/sys/module/$first/refcnt" 2>/dev/null || echo -1
}
# run OUT: the reproducer under sockleak run, its output in OUT; prints
# the exit status.
run() {
	t0=$(date +%s)
	# shellcheck disable=SC2086
	sockleak run --timeout 60 --watch "$bug_watch" -- "$R" $args >"$1" 2>&1
	rc=$?
	echo "run took $(( $(date +%s) - t0 )) s" >>"$1"
	echo $rc
}

echo "TAP version 13"
echo "1..3"
modprobe sockleak || { echo "Bail out! no sockleak module"; exit 1; }
for m in $bug_modules; do
	modprobe "$m" 2>/dev/null
done
before=$(refcnt)

# 1. The kernel's modules, with the fix.
rc=$(run /tmp/fixed.out)
sed 's/^/# fixed: /' /tmp/fixed.out
sleep 4
after=$(refcnt)
echo "# fixed: $first refcnt $before before, $after after"
[ "$rc" = 0 ] && [ "$before" = "$after" ] && [ "$before" != -1 ]
ok $? "fixed: sockleak run exits 0 (rc=$rc), $first's count back to $before ($after)"

# 2. The fix reverted.
for m in $(echo "$bug_modules" | tr ' ' '\n' | sed -n '1!G;h;$p'); do
	rmmod "$m" 2>/dev/null
done
loaded=1
for m in $bug_modules; do
	insmod "/extra/$m.ko" || loaded=0
done
before=$(refcnt)
rc=$(run /tmp/reverted.out)
sed 's/^/# reverted: /' /tmp/reverted.out
ck=$(sed -n 's/^cookie: \([0-9a-f]*\)$/\1/p' /tmp/reverted.out)
leaks=$(grep -c '^leak: socket ' /tmp/reverted.out)
sleep 4
after=$(refcnt)
echo "# reverted: $first refcnt $before before, $after after; cookie $ck"
[ $loaded = 1 ] && [ "$rc" = 1 ] && [ -n "$ck" ] && [ "$leaks" = 1 ] &&
	grep -q "^leak: socket $ck " /tmp/reverted.out &&
	[ "$after" = $((before + 1)) ]
ok $? "reverted: sockleak run exits 1 (rc=$rc) with socket $ck the one leak ($leaks), $first's count one up ($before, $after)"

# 3. Who took the reference never put.
grep -q "^  reference never put, taken in: $bug_taker+" /tmp/reverted.out
ok $? "reverted: the reference never put was taken in $bug_taker"

echo "# totals: pass:$((n - fails)) fail:$fails"
[ $fails = 0 ]
