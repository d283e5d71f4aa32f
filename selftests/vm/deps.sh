#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing sockleak needs, on Debian 12, as root.
# Does nothing when everything is present.
set -euo pipefail

PACKAGES="make gcc libc6-dev rsync
	qemu-system-x86 busybox-static kmod cpio iproute2 coreutils dkms
	zstd xz-utils
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	linux-source-6.12"

missing=""
for p in $PACKAGES; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done

# The headers of every kernel in the matrix must be there too (the meta
# packages can lag behind a partial upgrade).
if [ -z "$missing" ]; then
	for k in $("$(dirname "$0")"/kernels.sh); do
		[ -e "/lib/modules/$k/build/Makefile" ] || missing="$missing linux-headers-$k"
		[ -e "/boot/vmlinuz-$k" ] || missing="$missing linux-image-$k"
	done
fi

if [ -z "$missing" ]; then
	echo "deps: everything present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing; run 'make deps' as root" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
