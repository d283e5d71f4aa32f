#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# sockleak helpers of the shell selftests. The KTAP output (plan, results,
# SKIP, totals) and the exit code come from the kernel's
# kselftest/ktap_helpers.sh, which a test sources before this file; it is
# installed next to this directory:
#
#	DIR=$(dirname "$0")
#	. "$DIR/../kselftest/ktap_helpers.sh"
#	. "$DIR/lib.sh"

SL_DIR=/sys/kernel/debug/sockleak

# sl_check DESCRIPTION COMMAND...: one result from a command's status.
# (ktap_test_result runs its command unquoted: an argument such as
# sh -c "[ ... ] && ..." or an empty operand of [ ] would be split.)
sl_check() {
	sl_desc=$1
	shift
	if "$@"; then
		ktap_test_pass "$sl_desc"
	else
		ktap_test_fail "$sl_desc"
	fi
}

# sl_log TEXT: TEXT, of one line or many (a command's output), as KTAP
# diagnostic lines. (ktap_print_msg echoes its words unquoted: shell
# patterns in them would expand and their lines run together.)
sl_log() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# sl_rows COLUMN COOKIE FILE: the lines of FILE whose COLUMN (1-based) is
# the cookie COOKIE. Compared as strings: busybox awk (the guest's) takes a
# hex cookie of digits and an "e" as a number ("4e438" is inf, and inf
# equals nothing), so such a socket was never found.
sl_rows() {
	awk -v col="$1" -v c="$2" '$col "" == c ""' "$3"
}

# sl_have_module NAME: module NAME is installed for the running kernel,
# as a file or built in. A test whose optional module is absent SKIPs;
# one that is installed must load.
sl_have_module() {
	sl_mods=/lib/modules/$(uname -r)
	[ -n "$(find "$sl_mods" -name "$1.ko*" 2>/dev/null | head -n 1)" ] ||
		grep -q "/$1\.ko\$" "$sl_mods/modules.builtin" 2>/dev/null
}

# sl_require PROGRAM...: the test SKIPs as a whole (KSFT_SKIP) when a
# program it runs is not installed. Call it after ktap_print_header, in
# place of the plan.
sl_require() {
	for sl_p in "$@"; do
		[ -x "$sl_p" ] && continue
		ktap_skip_all "no $sl_p"
		exit "$KSFT_SKIP"
	done
}

# sl_skip REASON DESCRIPTION...: one SKIP result per DESCRIPTION, with
# the reason.
sl_skip() {
	sl_reason=$1
	shift
	ktap_print_msg "SKIP: $sl_reason"
	for sl_t in "$@"; do
		ktap_test_skip "$sl_t ($sl_reason)"
	done
}
