#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A real kernel leak, as sockleak must report it: an MPTCP endpoint with a
# port makes the in-kernel path manager open a listener whose first
# subflow holds its netns; once the netns is deleted, neither ever goes
# (repro/mptcp_pm_listener_netns.sh, docs/mptcp-pm-listener-netns-leak.md).
# /proc/slabinfo is the truth: every MPTCP and TCP object the slabs hold
# after the netns is gone must be a socket of that netns in "sockets",
# verdict never, and the first suspect must be the TCP subflow that pins
# the netns (pins_netns). The control (endpoints flushed first) must
# leave no socket of its netns. On a kernel without the bug the checks of
# the leak SKIP. It leaves the leaked netns in the guest: it runs last.
DIR=$(dirname "$0")
. "$DIR/../kselftest/ktap_helpers.sh"
. "$DIR/lib.sh"

repro=$DIR/mptcp_pm_listener_netns.sh
[ -x "$repro" ] || repro=$DIR/repro/mptcp_pm_listener_netns.sh
[ -x /usr/bin/ip ] && export IP=/usr/bin/ip
export REPRO_WAIT=${REPRO_WAIT:-15}

ktap_print_header
ktap_set_plan 6

modprobe sockleak || ktap_exit_fail_msg "cannot load sockleak"
# The listener's MPTCP socket has no fd and is in no table: sockleak
# finds it because it tracked its allocation (its subflow is in TCP's
# listening hash).
# Tracking is put back as it was found.
track=$(sed -n 's/^track=//p' "$SL_DIR/control")
echo track=on >"$SL_DIR/control" || ktap_exit_fail_msg "cannot track"
trap 'echo "track=${track:-off}" >"$SL_DIR/control"' EXIT

# field KEY LINE: the value of KEY= in LINE.
field() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# slab NAME TEXT: the count of cache NAME in the repro's "NAME=N" list.
slab() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# in_netns N: the "sockets" lines of netns N, after an owner scan.
in_netns() {
	echo scan >"$SL_DIR/control"
	grep " netns=$1 " "$SL_DIR/sockets"
}

# The control: endpoints flushed before the netns is deleted.
out=$("$repro" flush)
rc=$?
sl_log "$out"
ns=$(echo "$out" | sed -n 's/^netns: //p')
sl_check "control: no MPTCP object left (slabinfo)" [ "$rc" = 0 ]
left=$(in_netns "$ns" | wc -l)
sl_check "control: no socket of the deleted netns $ns" [ "$left" = 0 ]

# The leak.
out=$("$repro")
rc=$?
sl_log "$out"
ns=$(echo "$out" | sed -n 's/^netns: //p')
before=$(echo "$out" | sed -n 's/^slabs before: //p')
after=$(echo "$out" | sed -n 's/^slabs after: *//p')
if [ "$rc" != 1 ]; then
	for t in "MPTCP objects named" "TCP objects named" "pins_netns first" \
		"sockleak run"; do
		ktap_test_skip "$t: this kernel does not leak the listener"
	done
	ktap_finished
	exit
fi
lines=$(in_netns "$ns")
sl_log "$lines"
n_mptcp=$(printf '%s\n' "$lines" | grep -c ' proto=mptcp .* verdict=never ')
n_tcp=$(printf '%s\n' "$lines" | grep -c ' proto=tcp .* verdict=never ')
d_mptcp=$(($(slab MPTCP "$after") - $(slab MPTCP "$before")))
d_tcp=$(($(slab TCP "$after") - $(slab TCP "$before")))
sl_log "slabs: MPTCP +$d_mptcp TCP +$d_tcp; sockleak, netns $ns, never: MPTCP $n_mptcp TCP $n_tcp"
sl_check "every MPTCP object left is named, verdict never" [ "$n_mptcp" = "$d_mptcp" ]
sl_check "every TCP object left is named, verdict never" [ "$n_tcp" = "$d_tcp" ]
first=$(head -n 1 "$SL_DIR/suspects")
sl_log "$first"
what="$(field reason "$first") $(field proto "$first")"
sl_check "the first suspect is the TCP subflow that pins the netns" \
	[ "$what" = "pins_netns tcp" ]

# sockleak run: the repro's sockets, held with no process of it left,
# are its leaks once nothing reaches their netns.
out=$(/usr/bin/sockleak run --timeout 20 -- "$repro" 2>&1)
rc=$?
sl_log "$out"
n=$(printf '%s
' "$out" | grep -c 'pins_netns\|kernel socket holding its netns')
what="$rc $([ "$n" -ge 1 ] && echo named)"
sl_check "sockleak run -- repro: exit 1, the pinning subflow named" \
	[ "$what" = "1 named" ]
ktap_finished
