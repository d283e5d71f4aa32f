#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install-root.sh: make sure the pristine Debian root that check-install.sh
# installs the packages into exists and is fresh, and print its directory
# (build/install-root/SUITE/root; SOCKLEAK_INSTALL_SUITE, install-lib.sh).
#
# The root is a minimal Debian made by debootstrap (minbase), with the
# sources of suites.sh, then, with the network, in a chroot: systemd as
# init, the suite's kernel (linux-image-amd64) and its headers, DKMS, gcc,
# make, man-db (install-lib.sh: il_packages; no Recommends). The .debs of
# the kernel upgrade the test will install (il_upgrade_packages) are
# downloaded into the root's /var/cache/sockleak-debs, so that the test
# itself needs no network. Root has no password; /etc/fstab mounts
# /dev/vda as /.
#
# Rebuilt from scratch when missing, when older than
# SOCKLEAK_INSTALL_ROOT_MAX_AGE seconds (default a week: a new kernel ABI
# in the suite is then picked up), or when this script or install-lib.sh
# changed. debootstrap's downloads are cached in build/install-root/cache.
# Takes about 4 minutes; logs in build/install-root/SUITE/*.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/install-lib.sh"

max_age=${SOCKLEAK_INSTALL_ROOT_MAX_AGE:-604800}
root=$il_base/root
stamp=$il_base/.ready
want=$(cat "$here/install-root.sh" "$here/install-lib.sh" | sha256sum | cut -c1-16)

if [ -e "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ $(( $(date +%s) - $(stat -c %Y "$stamp") )) -le "$max_age" ]; then
	echo "$root"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-root: must be root (debootstrap, chroot)" >&2
	exit 1
fi
start=$(date +%s)
echo "install-root: creating the $il_suite root in $root" >&2
rm -rf "$il_base"
mkdir -p "$il_base" "$sl_build/install-root/cache"
log=$il_base/debootstrap.log
debootstrap --variant=minbase --cache-dir="$sl_build/install-root/cache" \
	"$il_suite" "$root" "$sl_mirror" >"$log" 2>&1 || {
	tail -n 30 "$log" >&2
	echo "install-root: debootstrap $il_suite failed (log: $log)" >&2
	exit 1
}
sl_sources "$il_suite" >"$root/etc/apt/sources.list"
if [ "$il_suite" = sid ]; then
	printf 'Package: *\nPin: release a=experimental\nPin-Priority: 1\n' \
		>"$root/etc/apt/preferences.d/experimental"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
# No daemon may start in the chroot while packages are installed.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

log=$il_base/install.log
# shellcheck disable=SC2046
if ! il_chroot "$root" sh -c "
	set -e
	# The mirror may serve a snapshot whose Release files have expired.
	apt-get update -q -o Acquire::Check-Valid-Until=false
	apt-get dist-upgrade -y -q
	apt-get install -y -q --no-install-recommends $(echo $(il_packages))
	mkdir -p $il_debs/partial
	apt-get install -y -q --no-install-recommends --download-only \
		-o Dir::Cache::Archives=$il_debs/ $(il_upgrade_packages)
	rm -rf $il_debs/partial $il_debs/lock
	apt-get clean
	passwd -d root
	" >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "install-root: installing packages failed (log: $log)" >&2
	exit 1
fi
if ! ls "$root$il_debs"/*.deb >/dev/null 2>&1; then
	echo "install-root: nothing downloaded for the kernel upgrade ($(il_upgrade_packages))" >&2
	exit 1
fi
rm -f "$root/usr/sbin/policy-rc.d"
install -m 644 /dev/null "$root/etc/resolv.conf"
echo "debian-guest" >"$root/etc/hostname"
echo "/dev/vda / ext4 errors=remount-ro 0 1" >"$root/etc/fstab"

echo "$want" >"$stamp"
echo "install-root: $il_suite root ready in $(( $(date +%s) - start ))s: kernel $(il_kernels "$root" | tr '\n' ' ')" >&2
echo "$root"
