#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload sockleak ten times: the debugfs directory and its version
# file appear on load, root-only, and vanish on unload; /proc/modules agrees.
DIR=$(dirname "$0")
. "$DIR/../kselftest/ktap_helpers.sh"
. "$DIR/lib.sh"

ROUNDS=10
ktap_print_header
ktap_set_plan $((ROUNDS * 2 + 1))

loaded() {
	grep -q '^sockleak ' /proc/modules
}

mode_of() {
	stat -c %a "$1" 2>/dev/null
}

rmmod sockleak 2>/dev/null
i=1
while [ $i -le $ROUNDS ]; do
	ok=1
	modprobe sockleak || { sl_log "modprobe failed"; ok=0; }
	loaded || { sl_log "not in /proc/modules after load"; ok=0; }
	[ "$(mode_of $SL_DIR)" = 700 ] ||
		{ sl_log "dir mode $(mode_of $SL_DIR), want 700"; ok=0; }
	[ "$(mode_of $SL_DIR/version)" = 400 ] ||
		{ sl_log "version mode $(mode_of $SL_DIR/version), want 400"; ok=0; }
	grep -q "^running $(uname -r)\$" $SL_DIR/version 2>/dev/null ||
		{ sl_log "version file unreadable or wrong"; ok=0; }
	if [ $ok = 1 ]; then
		ktap_test_pass "load $i: debugfs directory and version present, root-only"
	else
		ktap_test_fail "load $i"
	fi

	ok=1
	rmmod sockleak || { sl_log "rmmod failed"; ok=0; }
	loaded && { sl_log "still in /proc/modules"; ok=0; }
	[ -e $SL_DIR ] && { sl_log "$SL_DIR still exists"; ok=0; }
	if [ $ok = 1 ]; then
		ktap_test_pass "unload $i: debugfs directory gone"
	else
		ktap_test_fail "unload $i"
	fi
	i=$((i + 1))
done

# Unloading a module that is not loaded must fail cleanly.
if rmmod sockleak 2>/dev/null; then
	ktap_test_fail "second rmmod fails"
else
	ktap_test_pass "second rmmod fails"
fi
ktap_finished
