#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh: what "make deb" runs. Builds the Debian packages (debian/):
# sockleak-dkms (the module source for DKMS) and sockleak (the helper),
# into build/deb/, then runs lintian on them (errors fail the build).
#
#   1. host build dependencies (debhelper, dh-dkms, lintian...) installed
#      with apt-get when missing (as root, like deps.sh);
#   2. the tracked and new, not ignored, files of the work tree
#      (git ls-files; outside a git checkout, a release tarball: every
#      file but build/ and build products) copied to
#      build/deb/src/sockleak-VERSION/, so that
#      dpkg-buildpackage, which writes its results to the parent
#      directory, never touches the repository;
#   3. dpkg-buildpackage -us -uc -b there; debian/rules refuses to build
#      when debian/changelog's version is not dkms.conf's PACKAGE_VERSION;
#   4. the .debs, .changes and .buildinfo moved to build/deb/; lintian on
#      the .changes.
# Prints the paths of the two .debs last. Log: build/deb/build.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suites.sh"

top=$sl_top
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
out=$sl_build/deb
src=$out/src/sockleak-$ver
log=$out/build.log

PACKAGES="dpkg-dev debhelper dh-dkms lintian python3 gcc libc6-dev make"
missing=$(sl_missing $PACKAGES | sed 's/^/ /' | tr -d '\n')
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deb: missing:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "deb: installing:$missing" >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $missing >&2
fi

start=$(date +%s)
rm -rf "$out"
mkdir -p "$src"
# The top of a git checkout (not a tarball unpacked inside another one).
if [ "$(git -C "$top" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$top" && pwd -P)" ]; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			# Deleted but not yet committed: not part of the tree.
			if [ -e "$f" ] || [ -L "$f" ]; then
				printf '%s\0' "$f"
			fi
		done | tar --null --no-recursion -T - -cf -) | tar -xf - -C "$src"
else
	# A release tarball, no git: the tree as it is, less what builds make.
	echo "deb: $top is no git checkout: packaging the tree as it is" >&2
	(cd "$top" && tar --exclude=./build --exclude='*.o' --exclude='*.ko' \
		--exclude='*.cmd' --exclude=./tools/sockleak -cf - .) |
		tar -xf - -C "$src"
fi

echo "deb: dpkg-buildpackage -us -uc -b in $src" >&2
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "deb: dpkg-buildpackage failed (log: $log)" >&2
	exit 1
fi
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out/"
changes=$(ls "$out"/*.changes)

echo "deb: lintian $changes" >&2
lintian --fail-on error "$changes" 2>&1 | tee "$out/lintian.txt" >&2 || {
	echo "deb: lintian reports errors (above, and in $out/lintian.txt)" >&2
	exit 1
}
echo "deb: built in $(( $(date +%s) - start ))s: $(cd "$out" && ls ./*.deb | tr '\n' ' ')" >&2
ls "$out"/sockleak-dkms_"$ver"_all.deb "$out"/sockleak_"$ver"_*.deb
