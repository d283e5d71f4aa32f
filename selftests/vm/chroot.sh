#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# chroot.sh SUITE...
#
# Make sure the build chroot of each SUITE (bookworm, sid) exists under
# build/chroot/ and is fresh: created with "debootstrap --variant=minbase"
# with the compiler, make and dkms; its package lists are refreshed and its
# packages upgraded when older than SOCKLEAK_CHROOT_MAX_AGE seconds (6 h),
# so a new -rc in experimental is seen within hours of apt having it.
set -euo pipefail
. "$(dirname "$0")/suites.sh"

max_age=${SOCKLEAK_CHROOT_MAX_AGE:-21600}
pkgs="gcc make libc6-dev dkms kmod xz-utils zstd ca-certificates"

for suite in "$@"; do
	suite=$(sl_chroot_of "$suite")
	dir=$(sl_chroot_dir "$suite")
	stamp=$dir/.sockleak-ready
	if [ ! -e "$stamp" ]; then
		echo "chroot: creating $suite in $dir" >&2
		start=$(date +%s)
		rm -rf "$dir"
		mkdir -p "$dir"
		debootstrap --variant=minbase --include=ca-certificates \
			"$suite" "$dir" "$sl_mirror" >"$dir.debootstrap.log" 2>&1 || {
			tail -n 30 "$dir.debootstrap.log" >&2
			echo "chroot: debootstrap $suite failed (log: $dir.debootstrap.log)" >&2
			exit 1
		}
		sl_sources "$suite" >"$dir/etc/apt/sources.list"
		# Never pull experimental packages unless asked for by version.
		printf 'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\nDPkg::Lock::Timeout "900";\n' \
			>"$dir/etc/apt/apt.conf.d/90sockleak"
		cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
		sl_chroot "$suite" apt-get update -qq >&2
		# shellcheck disable=SC2086
		sl_chroot "$suite" apt-get install -y -qq $pkgs >"$dir.install.log" 2>&1 || { tail -n 30 "$dir.install.log" >&2; exit 1; }
		touch "$stamp"
		echo "chroot: $suite created in $(( $(date +%s) - start ))s" >&2
	elif [ $(( $(date +%s) - $(stat -c %Y "$stamp") )) -gt "$max_age" ]; then
		echo "chroot: refreshing $suite" >&2
		cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
		if sl_chroot "$suite" apt-get update -q >&2 &&
		   sl_chroot "$suite" apt-get dist-upgrade -y -q >&2; then
			touch "$stamp"
		else
			echo "chroot: could not refresh $suite; using it as it is" >&2
		fi
	fi
done
