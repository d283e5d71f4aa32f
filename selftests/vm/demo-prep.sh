#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo-prep.sh
#
# Make the demo's kernel ready, and nothing else ("make demo" on a fresh
# Debian 12 within minutes; "make deps" prepares the whole matrix):
#   1. the host packages the demo needs (QEMU, busybox, the compiler the
#      kernel was built with and pahole), when missing (root);
#   2. bookworm's linux-image-6.12-amd64 resolved, its image and headers
#      downloaded through a private apt configuration (build/apt/: the
#      host's apt sources are not used nor changed), the image unpacked
#      under build/kernels/KREL (as kernel-prep.sh does), the headers under
#      build/headers/ to build for with the host's compiler (no chroot);
#   3. the demo's workload (selftests/leaky.c) built static under
#      build/demo-ksft/, laid out as the guest's /selftests.
# Prints "KREL HEADERS_DIR KSFT_DIR". SOCKLEAK_DEMO_META names another bookworm
# kernel meta package (linux-image-amd64: 6.1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suites.sh"

meta=${SOCKLEAK_DEMO_META:-linux-image-6.12-amd64}
PACKAGES="make gcc gcc-12 libc6-dev pahole perl libelf1 libssl3 zlib1g
	qemu-system-x86 busybox-static kmod cpio iproute2 coreutils
	zstd xz-utils ca-certificates"

missing=$(sl_missing $PACKAGES | sed 's/^/ /' | tr -d '\n')
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "demo-prep: missing:$missing" >&2
		echo "demo-prep: must be root to install them: run 'make demo' as root" >&2
		exit 1
	fi
	echo "demo-prep: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# A private apt configuration for bookworm (lists and downloads under
# build/apt/bookworm), refreshed when older than the chroots' 6 hours.
adir=$sl_build/apt/bookworm
mkdir -p "$adir/lists/partial" "$adir/archives/partial" "$adir/debs" "$adir/preferences.d"
sl_sources bookworm >"$adir/sources.list"
cat >"$adir/apt.conf" <<CONF
Dir::Etc::SourceList "$adir/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::Etc::Preferences "$adir/preferences";
Dir::Etc::PreferencesParts "$adir/preferences.d";
Dir::State::Lists "$adir/lists";
Dir::State::Status "$adir/status";
Dir::Cache "$adir";
Dir::Cache::Archives "$adir/archives";
Acquire::Check-Valid-Until "false";
APT::Sandbox::User "root";
CONF
: >>"$adir/status"
papt() {
	APT_CONFIG=$adir/apt.conf "$@"
}
update() {
	papt apt-get update -qq >&2
	touch "$adir/.updated"
}
max_age=${SOCKLEAK_CHROOT_MAX_AGE:-21600}
if [ ! -e "$adir/.updated" ] ||
   [ $(( $(date +%s) - $(stat -c %Y "$adir/.updated") )) -gt "$max_age" ]; then
	update
fi
# download PKG...: into $adir/debs (emptied first); lists gone stale (the
# mirror dropped that version) are updated once.
download() {
	rm -rf "$adir/debs" && mkdir -p "$adir/debs"
	(cd "$adir/debs" && papt apt-get download -qq "$@") >&2 ||
		{ update && (cd "$adir/debs" && papt apt-get download -qq "$@") >&2; }
}

# The release the meta package points to ("linux-image-6.12.118+deb12-amd64").
krel=$(papt apt-cache show "$meta" | sl_depends | sed -n 's/^linux-image-//p' | awk 'NR == 1')
if [ -z "$krel" ]; then
	echo "demo-prep: cannot resolve $meta in bookworm" >&2
	exit 1
fi
kd=$(sl_kdir "$krel")
hdir=$sl_build/headers/$krel
mkdir -p "$kd"
echo bookworm >"$kd/suite"

# The image, unpacked as kernel-prep.sh does.
if [ ! -e "$kd/.unpacked" ] || [ ! -s "$kd/vmlinux" ]; then
	echo "demo-prep: downloading linux-image-$krel" >&2
	pkgs=$(papt apt-cache show "linux-image-$krel" | sl_image_pkgs "$krel")
	# shellcheck disable=SC2086
	download $pkgs
	sl_unpack_kernel "$krel" "$adir/debs"
	rm -rf "$adir/debs"
fi

# The headers, their common part and kbuild, unpacked under build/headers;
# the arch Makefile includes the common one by its absolute path.
hk=$hdir/usr/src/linux-headers-$krel
if [ ! -e "$hdir/.unpacked" ]; then
	echo "demo-prep: downloading linux-headers-$krel" >&2
	pkgs="linux-headers-$krel $(papt apt-cache show "linux-headers-$krel" |
		sl_depends | grep -E '^linux-(headers|kbuild)-' | sort -u)"
	rm -rf "$hdir" && mkdir -p "$hdir"
	# shellcheck disable=SC2086
	download $pkgs
	sl_extract_debs "$adir/debs" "$hdir"
	rm -rf "$adir/debs"
	sed -i "s|^include /usr/src/|include $hdir/usr/src/|" "$hk/Makefile"
	touch "$hdir/.unpacked"
fi

# The guest's /selftests: the demo's workload only.
ksft=$sl_build/demo-ksft
mkdir -p "$ksft/sockleak"
if [ ! -x "$ksft/sockleak/leaky" ] ||
	[ "$sl_top/selftests/leaky.c" -nt "$ksft/sockleak/leaky" ] ||
	[ "$sl_top/selftests/lib/sl_inet.h" -nt "$ksft/sockleak/leaky" ]; then
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static \
		-o "$ksft/sockleak/leaky" "$sl_top/selftests/leaky.c"
fi
echo "$krel $hk $ksft"
