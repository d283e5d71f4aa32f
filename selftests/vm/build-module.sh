#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh KREL OUTDIR
#
# Build sockleak.ko (and the test-only splat and fault-injection modules) for kernel
# release KREL with W=1, out of a private copy of the sources in OUTDIR, so
# several kernels can be built from one tree. Fails on any compiler warning.
#
# A Debian kernel is built for inside the chroot of its suite (suites.sh),
# with the compiler that built it; kernel-prep.sh installs its headers
# there. SOCKLEAK_KDIR names a self-built kernel tree instead, built for
# with the host's compiler (make check-debug); SOCKLEAK_HEADERS a Debian
# kernel's headers unpacked on the host by demo-prep.sh, built for with the
# host's compiler (make demo: bookworm's, the compiler of its kernels).
set -euo pipefail

krel=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/suites.sh"

# One build per output directory at a time (concurrent runs for a kernel
# share it, and its chroot work directory).
mkdir -p "$out"
exec 9>"$out/.build.lock"
flock 9

# Built already from these very sources, W=1 clean: nothing to do (a
# kernel's VM runs build once, not once per boot).
sum=$( {
	echo "$krel ${SOCKLEAK_KDIR:-} ${SOCKLEAK_HEADERS:-}"
	cd "$top" && find Kbuild dkms.conf module selftests/vm/inject \
		selftests/faultmod selftests/vm/build-module.sh -type f |
		LC_ALL=C sort | xargs md5sum
} | md5sum | cut -d' ' -f1)
if [ -e "$out/.build.sum" ] && [ "$(cat "$out/.build.sum")" = "$sum" ] &&
   [ -e "$out/src/sockleak.ko" ] && [ -e "$out/inject/sockleak_splat.ko" ] &&
   [ -e "$out/faultmod/sockleak_holdref.ko" ]; then
	echo "build-module: $krel: sockleak.ko up to date, W=1 clean"
	exit 0
fi
rm -f "$out/.build.sum"
rm -rf "$out/src" "$out/inject" "$out/faultmod"
mkdir -p "$out/src" "$out/inject" "$out/faultmod"
cp -r "$top/Kbuild" "$top/dkms.conf" "$top/module" "$out/src/"
cp "$top/selftests/vm/inject/Kbuild" "$top/selftests/vm/inject/"*.c "$out/inject/"
cp "$top/selftests/faultmod/Kbuild" "$top/selftests/faultmod/"*.c "$out/faultmod/"

# Where to build: a Debian kernel's headers in its suite's chroot; a
# self-built tree inside a chroot (debug-kernel.sh) in that chroot; any
# other tree on the host.
suite=""
ckdir=/lib/modules/$krel/build
hostkdir=${SOCKLEAK_KDIR:-${SOCKLEAK_HEADERS:-}}
if [ -n "${SOCKLEAK_KDIR:-}" ]; then
	suite=$(sl_tree_suite "$SOCKLEAK_KDIR")
	[ -n "$suite" ] && ckdir=${SOCKLEAK_KDIR#"$(sl_chroot_dir "$suite")"}
elif [ -z "${SOCKLEAK_HEADERS:-}" ]; then
	"$here/kernel-prep.sh" "$krel" >/dev/null
	suite=$(sl_suite_of "$krel")
fi

if [ -z "$suite" ]; then
	kbuild() { make -j"$(nproc)" -C "$hostkdir" M="$out/$1" W=1 modules; }
else
	cdir=$(sl_chroot_dir "$suite")
	# The build runs on a copy inside the chroot; results are copied back.
	# One work directory per output directory: two checkouts may build
	# for the same kernel at once.
	cwork=/var/tmp/sockleak-build/$krel-$(printf %s "$out" | md5sum | cut -c1-8)
	kbuild() {
		rm -rf "$cdir$cwork/$1"
		mkdir -p "$cdir$cwork"
		cp -r "$out/$1" "$cdir$cwork/$1"
		sl_chroot "$suite" make -j"$(nproc)" -C "$ckdir" M="$cwork/$1" W=1 modules
		local rc=$?
		rm -rf "${out:?}/$1"
		cp -r "$cdir$cwork/$1" "$out/$1"
		rm -rf "$cdir$cwork/$1"
		return $rc
	}
fi

status=0
for d in src inject faultmod; do
	if ! kbuild $d >"$out/$d.log" 2>&1; then
		cat "$out/$d.log" >&2
		echo "build-module: $d: build failed for $krel" >&2
		status=1
	elif grep -i -E 'warning:|error:' "$out/$d.log" >&2; then
		echo "build-module: $d: compiler warnings for $krel (W=1 must be clean)" >&2
		status=1
	fi
done
if [ $status = 0 ]; then
	echo "$sum" >"$out/.build.sum"
	echo "build-module: $krel: sockleak.ko built, W=1 clean"
fi
exit $status
