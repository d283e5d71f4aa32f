#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# profile-run.sh KREL...
#
# make profile: for each kernel, boot the guest with the tcgprof plugin
# (QEMU counts the instructions of every translation block) and the
# instruction clock of make bench, run profile.sh (TCP and unix churn,
# tracking off, with the default stacks and without), and write
# build/profile/KREL/report.md: where tracking's extra instructions go,
# per function and per connection (profile-report.py). PROFILE_APPEND adds
# to the guests' kernel command line: 6.1 hangs bringing up its second
# CPU under -icount, and boots with "nosmp".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build/profile
mkdir -p "$out"
gcc -std=c11 -Wall -Wextra -Werror -O2 -fPIC -shared -fvisibility=hidden \
	-o "$out/tcgprof.so" "$here/tcgprof.c"
rc=0
for krel in "$@"; do
	d=$out/$krel
	rm -rf "$d"
	mkdir -p "$d"
	# The mark's address: Debian's System.map is a placeholder, so a
	# first boot (nokaslr) prints it.
	SOCKLEAK_VM_APPEND="nokaslr${PROFILE_APPEND:+ $PROFILE_APPEND}" \
		"$here/run.sh" --script "$here/profile-mark.sh" \
		"$krel" >"$d/mark.log" 2>&1 || true
	mark=$(sed -n 's/^PROFILE-MARK \([0-9a-f]*\)$/\1/p' "$d/mark.log")
	if [ -z "$mark" ]; then
		tail -n 20 "$d/mark.log" >&2
		echo "profile: $krel: no address for setdomainname()" >&2
		rc=1
		continue
	fi
	SOCKLEAK_VM_MEM=4096 SOCKLEAK_VM_ICOUNT=0 \
	SOCKLEAK_VM_APPEND="nokaslr${PROFILE_APPEND:+ $PROFILE_APPEND}" \
	SOCKLEAK_VM_QEMU_ARGS="-plugin $out/tcgprof.so,out=$d/blocks,mark=0x$mark" \
		"$here/run.sh" --script "$here/profile.sh" --timeout 3600 \
		${PROFILE_SECONDS:+--env PROFILE_SECONDS=$PROFILE_SECONDS} \
		${PROFILE_MODES:+--env PROFILE_MODES=$PROFILE_MODES} \
		${PROFILE_READ:+--env PROFILE_READ=$PROFILE_READ} \
		"$krel" >"$d/run.log" 2>&1 || true
	if ! grep -q '^PROFILE file=' "$d/run.log"; then
		tail -n 20 "$d/run.log" >&2
		echo "profile: $krel: no phase measured" >&2
		rc=1
		continue
	fi
	{
		echo "# Tracking's instructions, $krel"
		echo
		"$here/profile-report.py" "$d/run.log" "$d/blocks"
	} >"$d/report.md"
	echo "profile: $d/report.md"
done
exit $rc
