#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The sockleak helper (/usr/bin/sockleak, a static build) against the live
# module: every command runs; `check` exits 0 on a clean system and 1 with
# the leaky workload; the sockets table has exactly ss's sockets, with the
# workload's pid as owner; --prom numbers equal the debugfs files and
# /proc/net/sockstat; the error messages name the fix.
. "$(dirname "$0")/lib.sh"
SL=/usr/bin/sockleak
SS=/usr/bin/ss
here=$(cd "$(dirname "$0")" && pwd)

ktap_header 19
modprobe sockleak || { ktap_not_ok "modprobe sockleak"; ktap_finish; }

"$SL" set unread_ms=300 close_wait_ms=300 >/dev/null
ktap_check "set NAME=VALUE changes control" \
	grep -qx 'unread_ms=300' $SL_DIR/control

"$SL" set bogus=1 >/dev/null 2>/tmp/err
rc=$?
ktap_check "set with an unknown name: exit 2, translated error (rc=$rc)" \
	sh -c "[ $rc = 2 ] && grep -q 'unknown setting or bad value: bogus=1' /tmp/err"

"$SL" check >/tmp/out
rc=$?
ktap_check "check on a clean system exits 0 (rc=$rc)" [ $rc = 0 ]

# The leaky workload: a never-reading receiver, CLOSE-WAIT, an orphan.
# A long interval keeps its memory still while numbers are compared.
"$here/leaky" -p 7300 -i 3600000 >/tmp/leaky.out &
lpid=$!
i=0
while ! grep -q ready /tmp/leaky.out 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 1

"$SL" check >/tmp/out
rc=$?
ktap_check "check with the leaky workload exits 1 (rc=$rc)" [ $rc = 1 ]
cw=$($SS -Htane state close-wait | grep -o 'sk:[0-9a-f]*' | cut -d: -f2)
diag "CLOSE-WAIT cookie per ss: $cw"
ktap_check "check lists the CLOSE-WAIT socket ss shows" \
	sh -c "[ -n '$cw' ] && grep -qw '$cw' /tmp/out"

"$SL" sockets | tail -n +2 | awk '{print $1}' | sort >/tmp/sl.cookies
$SS -Htuane | grep -o ' sk:[0-9a-f]*' | cut -d: -f2 | sort >/tmp/ss.cookies
ktap_check "sockets rows are exactly ss's sockets ($(wc -l </tmp/ss.cookies) sockets)" \
	cmp -s /tmp/sl.cookies /tmp/ss.cookies

owner=$("$SL" sockets --state CLOSE-WAIT | awk 'NR == 2 {print $11}')
ktap_check "owner of the CLOSE-WAIT socket is the workload: '$owner'" \
	[ "$owner" = "$lpid/leaky" ]
orphan=$("$SL" sockets --state FIN-WAIT-1 | awk 'NR == 2 {print $11}')
ktap_check "the orphan has no owner: '$orphan'" [ "$orphan" = "-" ]

"$SL" --prom >/tmp/prom
prom() { grep -F "$1 " /tmp/prom | awk '{print $NF}'; }
est=$($SS -Htan state established | wc -l)
ktap_check "--prom tcp ESTAB equals ss ($est)" \
	[ "$(prom 'sockleak_sockets{proto="tcp",state="ESTAB"}')" = "$est" ]
smem=$(awk '/^TCP:/ {for (i = 1; i < NF; i++) if ($i == "mem") print $(i + 1)}' /proc/net/sockstat)
ktap_check "--prom tcp memory_allocated equals sockstat mem ($smem)" \
	[ "$(prom 'sockleak_proto_memory_allocated{proto="tcp"}')" = "$smem" ]
# Flags change with time: compare one saved copy with its exposition.
"$SL" snapshot /tmp/s1 >/dev/null
"$SL" --debugfs /tmp/s1 --prom >/tmp/prom1
flagged=$(grep -c 'flags=[a-z]' /tmp/s1/sockets)
got=$(grep '^sockleak_suspects ' /tmp/prom1 | awk '{print $2}')
ktap_check "--prom suspects ($got) equals the flagged lines of debugfs ($flagged)" \
	[ "$got" = "$flagged" ]
q=$($SS -Htanm state fin-wait-1 | grep -o ',w[0-9]*' | cut -c3-)
ktap_check "--prom FIN-WAIT-1 queued bytes equal ss skmem w ($q)" \
	[ "$(prom 'sockleak_socket_bytes{proto="tcp",state="FIN-WAIT-1",type="queued"}')" = "$q" ]

ok=1
for c in "" summary version control "sockets -n 3" "--json" "--json sockets"; do
	# shellcheck disable=SC2086
	"$SL" $c >/tmp/out 2>&1 || { ok=0; diag "sockleak $c failed: $(cat /tmp/out)"; }
done
ktap_check "overview, summary, version, control, sockets, --json run" [ $ok = 1 ]

"$SL" watch -i 1 -c 2 >/tmp/out
ktap_check "watch -i 1 -c 2 prints a second sample" grep -q '^sample 2 ' /tmp/out

"$SL" snapshot /tmp/snap >/dev/null
"$SL" --debugfs /tmp/snap version >/tmp/snap.out
"$SL" version >/tmp/live.out
ktap_check "snapshot DIR reads back like the live module" cmp -s /tmp/snap.out /tmp/live.out

# Optional reports: present -> exit 0, absent -> exit 2 naming the feature.
ok=1
for f in suspects tracked cgroups; do
	"$SL" $f >/tmp/out 2>&1
	rc=$?
	if [ -e $SL_DIR/$f ]; then
		[ $rc = 0 ] || { ok=0; diag "$f: rc=$rc"; }
	else
		[ $rc = 2 ] && grep -q "has no $f report" /tmp/out ||
			{ ok=0; diag "$f: rc=$rc $(cat /tmp/out)"; }
	fi
done
ktap_check "suspects, tracked, cgroups: output or a clear 'has no' error" [ $ok = 1 ]
ok=1
for c in scan "track on" clear "track off"; do
	# shellcheck disable=SC2086
	"$SL" $c >/tmp/out 2>&1
	rc=$?
	[ $rc = 0 ] || { [ $rc = 2 ] && grep -q 'has no' /tmp/out; } ||
		{ ok=0; diag "$c: rc=$rc $(cat /tmp/out)"; }
done
ktap_check "scan, track, clear: done or a clear 'has no' error" [ $ok = 1 ]

kill $lpid
wait $lpid 2>/dev/null
"$SL" set unread_ms=60000 close_wait_ms=60000 >/dev/null

rmmod sockleak
"$SL" >/tmp/out 2>&1
rc=$?
ktap_check "module not loaded: exit 2, says modprobe (rc=$rc)" \
	sh -c "[ $rc = 2 ] && grep -q 'modprobe sockleak' /tmp/out"
modprobe sockleak
if unshare -m true 2>/dev/null; then
	unshare -m sh -c "umount /sys/kernel/debug && $SL" >/tmp/out 2>&1
	rc=$?
	ktap_check "debugfs not mounted: exit 2, says how to mount (rc=$rc)" \
		sh -c "[ $rc = 2 ] && grep -q 'mount -t debugfs none /sys/kernel/debug' /tmp/out"
else
	ktap_ok "debugfs not mounted # SKIP no unshare"
fi
ktap_finish
