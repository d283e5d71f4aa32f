#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-prep.sh KREL
#
# Make kernel release KREL ready for the harness, from its Debian suite:
#   - its headers (and so its compiler) installed in the suite's chroot;
#   - its image and modules downloaded as .debs and unpacked under
#     build/kernels/KREL/root (never installed on the host);
#   - the uncompressed vmlinux extracted for QEMU's PVH entry.
# Prints the kernel's directory (build/kernels/KREL). Idempotent: a second
# run only checks stamps.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suites.sh"

krel=${1:?usage: kernel-prep.sh KREL}
kd=$(sl_kdir "$krel")
suite=$(sl_suite_of "$krel")
chroot=$(sl_chroot_of "$suite")
cdir=$(sl_chroot_dir "$suite")
mkdir -p "$kd"

if [ ! -e "$cdir/.sockleak-ready" ]; then
	"$here/chroot.sh" "$chroot" >&2
fi

# Headers, in the chroot: they pull the compiler the kernel was built with.
# (build is an absolute link inside the chroot: test its target.)
if [ ! -e "$cdir/usr/src/linux-headers-$krel/Makefile" ]; then
	echo "kernel-prep: installing linux-headers-$krel in the $chroot chroot" >&2
	sl_chroot "$chroot" apt-get install -y -qq "linux-headers-$krel" \
		>"$kd/headers.log" 2>&1 || {
		tail -n 20 "$kd/headers.log" >&2
		echo "kernel-prep: cannot install linux-headers-$krel" >&2
		exit 1
	}
fi

# Image and modules: linux-image-KREL ...
if [ ! -e "$kd/.unpacked" ]; then
	echo "kernel-prep: downloading linux-image-$krel ($suite)" >&2
	# ... and every dependency named after the release (since 7.x:
	# linux-binary-KREL, linux-modules-KREL, linux-base-KREL).
	pkgs="linux-image-$krel"
	pkgs="$pkgs $(sl_chroot "$chroot" apt-cache show "linux-image-$krel" |
		sed -n '0,/^$/s/^Depends: //p' | tr ',|' '\n\n' |
		awk -v r="$krel" '{ n = length(r) } substr($1, length($1) - n + 1) == r &&
			length($1) > n { print $1 }' | sort -u | tr '\n' ' ')"
	rm -rf "$cdir/var/cache/sockleak-debs" "$kd/root"
	mkdir -p "$cdir/var/cache/sockleak-debs" "$kd/root"
	# shellcheck disable=SC2086
	sl_chroot "$chroot" sh -c "cd /var/cache/sockleak-debs && apt-get download -qq -o APT::Sandbox::User=root $pkgs" >&2
	for deb in "$cdir"/var/cache/sockleak-debs/*.deb; do
		dpkg-deb -x "$deb" "$kd/root"
	done
	rm -rf "$cdir/var/cache/sockleak-debs"
	mods=""
	for m in "$kd/root/lib/modules/$krel" "$kd/root/usr/lib/modules/$krel"; do
		[ -e "$m/modules.builtin" ] && mods=$m
	done
	img=""
	for i in "$kd/root/boot/vmlinuz-$krel" "$kd/root/usr/lib/modules/$krel/vmlinuz" \
		 "$kd/root/lib/modules/$krel/vmlinuz"; do
		[ -e "$i" ] && img=$i
	done
	if [ -z "$mods" ] || [ -z "$img" ]; then
		echo "kernel-prep: $krel: no modules tree or vmlinuz in $pkgs" >&2
		exit 1
	fi
	ln -sfn "${mods#"$kd"/}" "$kd/modules"
	ln -sfn "${img#"$kd"/}" "$kd/vmlinuz"
	touch "$kd/.unpacked"
fi

if [ ! -s "$kd/vmlinux" ]; then
	"$here/extract-vmlinux.sh" "$kd/vmlinuz" "$kd/vmlinux.tmp"
	mv "$kd/vmlinux.tmp" "$kd/vmlinux"
fi
echo "$kd"
