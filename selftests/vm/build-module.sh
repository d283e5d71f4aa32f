#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh KREL OUTDIR
#
# Build sockleak.ko (and the test-only splat and fault-injection modules) for kernel
# release KREL with W=1, out of a private copy of the sources in OUTDIR, so
# several kernels can be built from one tree. Fails on any compiler warning.
# SOCKLEAK_KDIR overrides the kernel build tree (a self-built kernel).
set -euo pipefail

krel=$1
out=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
kdir=${SOCKLEAK_KDIR:-/lib/modules/$krel/build}

if [ ! -e "$kdir/Makefile" ]; then
	echo "build-module: no headers for $krel in $kdir: run 'make deps'" >&2
	exit 1
fi

rm -rf "$out/src" "$out/inject" "$out/faultmod"
mkdir -p "$out/src" "$out/inject" "$out/faultmod"
cp -r "$top/Kbuild" "$top/dkms.conf" "$top/module" "$out/src/"
cp "$top/selftests/vm/inject/Kbuild" "$top/selftests/vm/inject/"*.c "$out/inject/"
cp "$top/selftests/faultmod/Kbuild" "$top/selftests/faultmod/"*.c "$out/faultmod/"

status=0
for d in src inject faultmod; do
	if ! make -C "$kdir" M="$out/$d" W=1 modules >"$out/$d.log" 2>&1; then
		cat "$out/$d.log" >&2
		echo "build-module: $d: build failed for $krel" >&2
		status=1
	elif grep -i -E 'warning:|error:' "$out/$d.log" >&2; then
		echo "build-module: $d: compiler warnings for $krel (W=1 must be clean)" >&2
		status=1
	fi
done
[ $status = 0 ] && echo "build-module: $krel: sockleak.ko built, W=1 clean"
exit $status
