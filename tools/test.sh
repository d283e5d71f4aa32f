#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host-side tests of the helper: test.sh BINARY VERSION (KTAP output).
bin=$1
ver=$2
n=0
fail=0
check() {
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n $1"
	else
		fail=$((fail + 1))
		echo "not ok $n $1: got '$2', want '$3'"
	fi
}
echo "TAP version 13"
echo "1..3"
check "--version prints the dkms.conf version" "$("$bin" --version)" "sockleak $ver"
"$bin" --bogus >/dev/null 2>&1
check "unknown option exits 2" "$?" 2
"$bin" --help >/dev/null 2>&1
check "--help exits 0" "$?" 0
[ $fail = 0 ]
