# SPDX-License-Identifier: GPL-2.0
#
# install-lib.sh: sourced by install-root.sh and check-install.sh, the
# end-to-end test of the Debian packages in a booted Debian system.
#
# SOCKLEAK_INSTALL_SUITE picks the system: bookworm (default: the 6.1
# kernel, upgraded to 6.12 by the test) or sid (its kernel, upgraded to
# experimental's, which must be another release).
# The pristine root is cached in build/install-root/SUITE/root (see
# install-root.sh); each test run works on a copy under
# build/check-install/SUITE/.

. "$(dirname "${BASH_SOURCE[0]}")/suites.sh"

il_suite=${SOCKLEAK_INSTALL_SUITE:-bookworm}
case $il_suite in
bookworm|sid) ;;
*) echo "SOCKLEAK_INSTALL_SUITE=$il_suite: bookworm or sid" >&2; exit 2 ;;
esac
il_base=$sl_build/install-root/$il_suite
il_work=$sl_build/check-install/$il_suite
# Where the root keeps the .debs of the kernel upgrade, downloaded when
# the root is made, installed offline by the test.
il_debs=/var/cache/sockleak-debs

# The packages of the system the test installs sockleak into: a minimal
# Debian booted by systemd from its own initramfs, the suite's kernel and
# its headers, DKMS and its compiler, openssl (DKMS makes its module
# signing key with it, as on most systems), man-db for "man -w".
il_packages() {
	echo "systemd-sysv udev kmod initramfs-tools busybox zstd e2fsprogs
		procps man-db openssl dkms gcc make libc6-dev
		linux-image-amd64 linux-headers-amd64"
}

# The kernel upgrade: what "apt-get install" gets in the test. For sid,
# experimental's kernel (pinned at priority 1, so only asked for by name
# and release).
il_upgrade_packages() {
	case $il_suite in
	bookworm) echo "linux-image-6.12-amd64 linux-headers-6.12-amd64" ;;
	sid) echo "-t experimental linux-image-amd64 linux-headers-amd64" ;;
	esac
}

# il_chroot [--offline] DIR CMD...: run CMD in the root DIR (suites.sh's
# sl_run_in: private mounts; --offline: no network, as the guest).
il_chroot() {
	sl_run_in "$@"
}

# The kernel releases installed in a root, oldest first.
il_kernels() {
	local d
	for d in "$1"/boot/vmlinuz-* "$1"/usr/lib/modules/*/vmlinuz; do
		[ -e "$d" ] || continue
		case $d in
		*/boot/vmlinuz-*) echo "${d##*/vmlinuz-}" ;;
		*) d=${d%/vmlinuz}; echo "${d##*/}" ;;
		esac
	done | sort -u -V
}
