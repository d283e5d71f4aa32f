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
# A kernel demo-prep.sh made ready with its headers on the host (make
# demo, SOCKLEAK_HEADERS): no chroot.
if [ -n "${SOCKLEAK_HEADERS:-}" ] && [ -e "$kd/.unpacked" ] && [ -s "$kd/vmlinux" ]; then
	echo "$kd"
	exit 0
fi
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

# Image and modules: linux-image-KREL and what is named after it.
if [ ! -e "$kd/.unpacked" ] || [ ! -s "$kd/vmlinux" ]; then
	echo "kernel-prep: downloading linux-image-$krel ($suite)" >&2
	pkgs=$(sl_chroot "$chroot" apt-cache show "linux-image-$krel" |
		sl_image_pkgs "$krel" | tr '\n' ' ')
	# (one directory per release: kernels of a suite may be prepared
	# at once)
	debs=/var/cache/sockleak-debs/$krel
	rm -rf "$cdir$debs"
	mkdir -p "$cdir$debs"
	sl_chroot "$chroot" sh -c "cd $debs && apt-get download -qq -o APT::Sandbox::User=root $pkgs" >&2
	sl_unpack_kernel "$krel" "$cdir$debs" || {
		echo "kernel-prep: cannot unpack $krel" >&2
		exit 1
	}
	rm -rf "$cdir$debs"
fi
echo "$kd"
