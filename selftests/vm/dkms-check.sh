#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh KREL...
#
# "dkms add" the tree and "dkms build" it for each kernel release, in a
# temporary DKMS tree. DKMS keeps its signing key in /var/lib/dkms and
# reads /etc/dkms, so it runs in a private mount namespace with a scratch
# /var/lib/dkms: the system's DKMS state is not touched. Prints one KTAP
# line per kernel.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/src/sockleak-$ver" "$tmp/tree" "$tmp/install" "$tmp/varlib"
cp -r "$top/Kbuild" "$top/Makefile" "$top/dkms.conf" "$top/module" \
	"$tmp/src/sockleak-$ver/"

dkms_args="-m sockleak -v $ver --sourcetree $tmp/src --dkmstree $tmp/tree"
dkms_args+=" --installtree $tmp/install"

n=0
fail=0
echo "TAP version 13"
echo "1..$#"
for krel in "$@"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	if unshare -m bash -c "
		set -e
		mount --bind '$tmp/varlib' /var/lib/dkms
		dkms add $dkms_args >/dev/null 2>&1 || true
		dkms build $dkms_args -k '$krel'
	" >"$tmp/build-$krel.log" 2>&1 &&
	   ls "$tmp/tree/sockleak/$ver/$krel/x86_64/module/"sockleak.ko* \
		>/dev/null 2>&1; then
		echo "ok $n dkms build $krel"
	else
		sed 's/^/# /' "$tmp/build-$krel.log"
		cat "$tmp/tree/sockleak/$ver/build/make.log" 2>/dev/null | sed 's/^/# /'
		echo "not ok $n dkms build $krel"
		fail=$((fail + 1))
	fi
done
[ $fail = 0 ]
