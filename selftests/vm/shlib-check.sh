#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The shell selftests' helpers (selftests/lib.sh) run by the guest's shell
# and awk: busybox's (the guests keep the host's). sl_rows must find a
# report's row by cookie whatever the cookie's digits: busybox awk reads
# one like 4e438 as a number (inf, which equals nothing) and 1e5 as
# 100000, so a numeric comparison missed the first and matched 100000.
here=$(cd "$(dirname "$0")" && pwd)
lib=$here/../lib.sh
# The very binary mkinitramfs.sh copies into every guest.
bb=/bin/busybox
[ -x "$bb" ] || { echo "1..0 # SKIP no $bb"; exit 0; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
printf '%s\n' "socket 3bc9e a" "socket 4e438 b" "socket 1e5 c" \
	"socket 100000 d" "socket 4e43 e" >"$t/rows"

n=0
fail=0
# rows COLUMN COOKIE WANT: sl_rows under busybox prints exactly WANT.
rows() {
	local got
	n=$((n + 1))
	got=$("$bb" sh -c ". '$lib'; sl_rows $1 $2 '$t/rows'" | awk '{print $3}' | tr '\n' ' ')
	if [ "$got" = "$3 " ]; then
		echo "ok $n sl_rows $1 $2: $3"
	else
		echo "not ok $n sl_rows $1 $2: got '$got', want '$3 '"
		fail=1
	fi
}
echo "TAP version 13"
echo "1..5"
rows 2 3bc9e a
rows 2 4e438 b
rows 2 1e5 c
rows 2 100000 d
rows 2 4e43 e
exit $fail
