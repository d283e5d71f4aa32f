#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# revert.sh KREL BUG
#
# Build the modules of Debian kernel KREL that selftests/bugs/BUG.sh names
# (bug_dir, bug_modules) from the kernel's own source with the upstream
# fix reverted (bug_revert), for make check-reverted: the source package
# of the same version as the kernel's headers (linux-source-X.Y,
# installed in the kernel's suite's chroot when missing, suites.sh),
# only bug_dir extracted, built out of tree against the kernel's headers
# with its compiler in that chroot. Prints the directory of the .ko files
# and a copy of BUG.sh (build/KREL/reverted/BUG). Rebuilt when the bug's file, this script or
# the source package changes.
set -euo pipefail
krel=$1
bug=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suites.sh"
spec=$sl_top/selftests/bugs/$bug.sh
[ -r "$spec" ] || { echo "revert: no $spec" >&2; exit 1; }
# shellcheck source=/dev/null
. "$spec"
out=$sl_build/$krel/reverted/$bug
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

"$here/kernel-prep.sh" "$krel" >/dev/null
suite=$(sl_suite_of "$krel")
chroot=$(sl_chroot_of "$suite")
cdir=$(sl_chroot_dir "$suite")
tar=$(sl_kernel_source "$krel" "$suite")
src=$(basename "$tar" | sed 's/\.tar\..*//')
# The source must be the kernel's: same Debian version as its headers.
# shellcheck disable=SC2016
srcver=$(sl_chroot "$chroot" dpkg-query -W -f='${Version}' "$src")
# shellcheck disable=SC2016
hdrver=$(sl_chroot "$chroot" dpkg-query -W -f='${Version}' "linux-headers-$krel")
if [ "$srcver" != "$hdrver" ]; then
	echo "revert: $src is $srcver, the headers of $krel are $hdrver: not the same source" >&2
	exit 1
fi

key=$( (cat "$spec" "$here/revert.sh"; echo "$krel $srcver") | sha1sum | cut -c1-16)
ok=1
[ -e "$out/bug.sh" ] || ok=0
for m in $bug_modules; do
	[ -e "$out/$m.ko" ] || ok=0
done
if [ $ok = 1 ] && [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ]; then
	echo "$out"
	exit 0
fi
rm -f "$out/.key" "$out"/*.ko "$out/bug.sh"

cwork=/var/tmp/sockleak-revert/$krel-$bug
rm -rf "$cdir$cwork"
mkdir -p "$cdir$cwork"
log=$out/build.log
(
	# (set -e does not hold on the left of ||: each step chained.)
	sl_chroot "$chroot" tar -xf "$tar" -C "$cwork" --strip-components=1 \
		"$src/$bug_dir" || exit 1
	(cd "$cdir$cwork" && bug_revert) || {
		echo "revert: $bug: the fix is not where bug_revert looks in $src"
		exit 1
	}
	# The directory's Makefile is its Kbuild file: built as the kernel's
	# configuration says (auto.conf of the headers).
	sl_chroot "$chroot" make -j"$(nproc)" -C "/usr/src/linux-headers-$krel" \
		M="$cwork/$bug_dir" modules
) >"$log" 2>&1 || {
	tail -n 20 "$log" >&2
	echo "revert: $krel $bug: build failed (log: $log)" >&2
	exit 1
}
for m in $bug_modules; do
	cp "$cdir$cwork/$bug_dir/$m.ko" "$out/"
done
# The bug's description goes with its modules (revert-guest.sh reads it).
cp "$spec" "$out/bug.sh"
rm -rf "$cdir$cwork"
echo "$key" >"$out/.key"
echo "revert: $krel: $bug_dir with $bug reverted, built: $bug_modules" >&2
echo "$out"
