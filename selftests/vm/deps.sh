#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing sockleak needs, on Debian 12, as root,
# and prepare every kernel of the matrix:
#   1. host packages (QEMU, busybox, iproute2, debootstrap, linux-source
#      for checkpatch and the kselftest framework); nothing when present;
#   2. the build chroots of the suites (chroot.sh: bookworm, sid), created
#      once and refreshed when stale;
#   3. each kernel of the matrix (kernels.sh): headers in its chroot, image
#      and modules unpacked under build/kernels/ (kernel-prep.sh).
# No kernel is installed on the host.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suites.sh"

# (gcc-12, pahole, perl and kbuild's libraries: make demo's path, which
# check.sh runs, builds with the host's compiler: demo-prep.sh.)
PACKAGES="make gcc libc6-dev rsync python3
	qemu-system-x86 busybox-static kmod cpio iproute2 coreutils
	zstd xz-utils debootstrap debian-archive-keyring util-linux
	linux-source-6.12 gcc-12 pahole perl libelf1 libssl3 zlib1g
	ca-certificates"

missing=$(sl_missing $PACKAGES | sed 's/^/ /' | tr -d '\n')

if [ "$(id -u)" != 0 ]; then
	[ -z "$missing" ] || echo "deps: missing:$missing" >&2
	echo "deps: must be root (debootstrap and chroots): run 'make deps' as root" >&2
	exit 1
fi

if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
else
	echo "deps: host packages present"
fi

"$here/chroot.sh" bookworm sid
kernels=$("$here/kernels.sh")
for k in $kernels; do
	"$here/kernel-prep.sh" "$k" >/dev/null
done
echo "deps: kernels ready: $(echo $kernels)"
