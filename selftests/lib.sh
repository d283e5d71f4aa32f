#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the shell selftests: KTAP output and module handling.

SL_DIR=/sys/kernel/debug/sockleak
ktap_n=0
ktap_fail=0

ktap_header() {
	echo "TAP version 13"
	echo "1..$1"
}

ktap_ok() {
	ktap_n=$((ktap_n + 1))
	echo "ok $ktap_n $*"
}

ktap_not_ok() {
	ktap_n=$((ktap_n + 1))
	ktap_fail=$((ktap_fail + 1))
	echo "not ok $ktap_n $*"
}

# ktap_check DESCRIPTION COMMAND...: one result from a command's status.
ktap_check() {
	desc=$1
	shift
	if "$@"; then
		ktap_ok "$desc"
	else
		ktap_not_ok "$desc"
	fi
}

ktap_finish() {
	echo "# totals: pass:$((ktap_n - ktap_fail)) fail:$ktap_fail"
	[ $ktap_fail = 0 ] && exit 0
	exit 1
}

diag() {
	echo "# $*"
}
