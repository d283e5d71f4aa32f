#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh KREL...
#
# "dkms add" the tree and "dkms build" it for each kernel release, as a
# user of that kernel would: inside the chroot of the kernel's Debian suite
# (its dkms, its compiler, its headers: kernel-prep.sh), with scratch
# source and build trees, so no DKMS state is kept. Prints one
# KTAP line per kernel.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suites.sh"

top=$sl_top
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
scratch=/var/tmp/sockleak-dkms

n=0
fail=0
echo "TAP version 13"
echo "1..$#"
for krel in "$@"; do
	n=$((n + 1))
	log=$(mktemp)
	ok=0
	if "$here/kernel-prep.sh" "$krel" >"$log" 2>&1; then
		suite=$(sl_suite_of "$krel")
		cdir=$(sl_chroot_dir "$suite")
		rm -rf "${cdir:?}$scratch"
		mkdir -p "$cdir$scratch/src/sockleak-$ver" "$cdir$scratch/tree"
		cp -r "$top/Kbuild" "$top/Makefile" "$top/dkms.conf" "$top/module" \
			"$cdir$scratch/src/sockleak-$ver/"
		# (no --installtree: dkms 3.1+ looks for the headers under it)
		args="-m sockleak -v $ver --sourcetree $scratch/src"
		args+=" --dkmstree $scratch/tree"
		# shellcheck disable=SC2086
		if sl_chroot "$suite" sh -c "
			dkms add $args >/dev/null 2>&1 || true
			dkms build $args -k '$krel'" >>"$log" 2>&1 &&
		   ls "$cdir$scratch/tree/sockleak/$ver/$krel/x86_64/module/"sockleak.ko* \
			>/dev/null 2>&1; then
			ok=1
		else
			cat "$cdir$scratch/tree/sockleak/$ver/build/make.log" \
				>>"$log" 2>/dev/null
		fi
		rm -rf "${cdir:?}$scratch"
	fi
	if [ $ok = 1 ]; then
		echo "ok $n dkms build $krel"
	else
		sed 's/^/# /' "$log"
		echo "not ok $n dkms build $krel"
		fail=$((fail + 1))
	fi
	rm -f "$log"
done
[ $fail = 0 ]
