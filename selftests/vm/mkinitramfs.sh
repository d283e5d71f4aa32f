#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh KREL MODDIR KSFTDIR OUT [INJECT]
#
# Pack the guest's initramfs for kernel release KREL: static busybox, the
# init script, sockleak.ko from MODDIR (built by build-module.sh), the
# installed selftests from KSFTDIR, the static sockleak helper, iproute2's ip/ss/nstat with their
# libraries, and the distro modules the tests need. INJECT (fail|warn) adds
# a harness self-test that must make the run fail.
set -euo pipefail

krel=$1
moddir=$2
ksft=$3
out=$4
inject=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
# The Debian kernel's modules, unpacked by kernel-prep.sh; a self-built
# kernel (SOCKLEAK_KDIR): its tree holds modules.builtin.
kmods=${SOCKLEAK_BUILD:-$here/../../build}/kernels/$krel/modules
[ -n "${SOCKLEAK_KDIR:-}" ] && kmods=$SOCKLEAK_KDIR

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,root}
mkdir -p "$root/lib/modules/$krel/extra" "$root/lib64"

cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do
	case $a in
	busybox|ip|ss|nstat|timeout) continue ;;
	esac
	ln -sf busybox "$root/bin/$a"
done
# The kernel's module auto-loading runs /sbin/modprobe.
for a in modprobe insmod rmmod lsmod depmod modinfo; do
	ln -sf ../bin/busybox "$root/sbin/$a"
done

# Dynamically linked host tools, with their libraries and loader.
copy_bin() {
	local f lib
	f=$(command -v "$1")
	cp -L "$f" "$root/usr/bin/$1"
	for lib in $(ldd "$f" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
for b in ip ss nstat timeout; do
	copy_bin $b
done

cat >"$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >"$root/etc/group" <<'GR'
root:x:0:
nogroup:x:65534:
GR
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"

# Kernel modules: sockleak, and the distro modules the tests use.
cp "$moddir/src/sockleak.ko" "$root/lib/modules/$krel/extra/"
# Test-only fault injection (selftests/faultmod), never installed by DKMS.
cp "$moddir/faultmod/sockleak_holdref.ko" "$root/lib/modules/$krel/extra/"
for m in drivers/net/veth net/ipv4/inet_diag net/ipv4/tcp_diag \
	 net/ipv4/udp_diag net/mptcp/mptcp_diag net/vmw_vsock/vsock \
	 net/vmw_vsock/vmw_vsock_virtio_transport_common \
	 net/vmw_vsock/vsock_loopback \
	 net/unix/unix_diag net/netlink/netlink_diag net/packet/af_packet_diag; do
	mkdir -p "$root/lib/modules/$krel/kernel/$(dirname $m)"
	if grep -q "^kernel/$m.ko\$" "$kmods/modules.builtin" 2>/dev/null; then
		continue
	elif [ -n "${SOCKLEAK_KDIR:-}" ] && [ -e "$kmods/$m.ko" ]; then
		cp "$kmods/$m.ko" "$root/lib/modules/$krel/kernel/$m.ko"
	elif [ -e "$kmods/kernel/$m.ko" ]; then
		cp "$kmods/kernel/$m.ko" "$root/lib/modules/$krel/kernel/$m.ko"
	elif [ -e "$kmods/kernel/$m.ko.xz" ]; then
		xz -dc "$kmods/kernel/$m.ko.xz" >"$root/lib/modules/$krel/kernel/$m.ko"
	elif [ -e "$kmods/kernel/$m.ko.zst" ]; then
		zstd -qdc "$kmods/kernel/$m.ko.zst" >"$root/lib/modules/$krel/kernel/$m.ko"
	else
		echo "mkinitramfs: $m not found in $kmods" >&2
		exit 1
	fi
done
# copy_mod NAME: a distro module found by its name, and the modules it
# depends on (modinfo), wherever this kernel keeps them; 1 when absent.
copy_mod() {
	local name=$1 dir=$kmods f rel d
	[ -d "$kmods/kernel" ] && dir=$kmods/kernel
	grep -q "/${name//_/[-_]}\.ko\$" "$kmods/modules.builtin" && return 0
	f=$(find "$dir" -regextype posix-extended \
		-regex ".*/${name//_/[-_]}\.ko(\.xz|\.zst)?" | head -n 1)
	[ -n "$f" ] || return 1
	rel=kernel/${f#"$dir"/}
	rel=${rel%.xz}
	rel=${rel%.zst}
	[ -e "$root/lib/modules/$krel/$rel" ] && return 0
	mkdir -p "$root/lib/modules/$krel/$(dirname "$rel")"
	case $f in
	*.xz) xz -dc "$f" >"$root/lib/modules/$krel/$rel" ;;
	*.zst) zstd -qdc "$f" >"$root/lib/modules/$krel/$rel" ;;
	*) cp "$f" "$root/lib/modules/$krel/$rel" ;;
	esac
	for d in $(modinfo -F depends "$f" | tr ',' ' '); do
		copy_mod "$d" || return 1
	done
}
# Bluetooth (families_test), SCTP (refs_test): every Debian kernel has
# them; a self-built tree may not (the tests skip there).
for m in bluetooth sctp; do
	if ! copy_mod $m && [ -z "${SOCKLEAK_KDIR:-}" ]; then
		echo "mkinitramfs: $m (or a module it needs) not found in $kmods" >&2
		exit 1
	fi
done
# SCTP's checksum: the "crc32c" shash its libcrc32c (6.x, a soft
# dependency) or crc32c (7.x) asks the crypto API for, whichever module
# this kernel names it.
for m in crc32c_generic crc32c_cryptoapi; do
	copy_mod $m || true
done
cp "$kmods/modules.builtin" "$kmods/modules.builtin.modinfo" \
	"$root/lib/modules/$krel/"
(cd "$root/lib/modules/$krel" && find kernel extra -name '*.ko' | sort) \
	>"$root/lib/modules/$krel/modules.order"

# The helper, a static build (make tools).
helper=${SOCKLEAK_BUILD:-$here/../../build}/tools/sockleak
if [ ! -x "$helper" ]; then
	echo "mkinitramfs: $helper missing (make tools)" >&2
	exit 1
fi
cp "$helper" "$root/usr/bin/sockleak"

# Selftests, as kselftest installs them, plus optional injected failures.
cp -r "$ksft" "$root/selftests"
case "$inject" in
"") ;;
fail|warn)
	cp "$here/inject/inject_$inject.sh" "$root/selftests/sockleak/"
	echo "sockleak:inject_$inject.sh" >>"$root/selftests/kselftest-list.txt"
	[ "$inject" = warn ] &&
		cp "$moddir/inject/sockleak_splat.ko" "$root/lib/modules/$krel/extra/"
	;;
*)
	echo "mkinitramfs: unknown injection '$inject' (fail|warn)" >&2
	exit 1
	;;
esac

# The kernel's net selftests (run.sh --mode netsel: netsel.sh built them).
if [ -n "${SOCKLEAK_NETSEL:-}" ]; then
	mkdir -p "$root/netsel"
	cp -r "$SOCKLEAK_NETSEL/bin" "$root/netsel/bin"
	cp "$here/netsel-guest.sh" "$root/netsel/run.sh"
fi

# Files a --script run brings along (make check-reverted: modules built
# with an upstream fix reverted, revert.sh): under /extra, outside the
# module tree, so that only an explicit insmod loads them.
if [ -n "${SOCKLEAK_VM_EXTRA:-}" ]; then
	cp -r "$SOCKLEAK_VM_EXTRA" "$root/extra"
fi

depmod -b "$root" "$krel"

cp "$here/init" "$root/init"
cp "${SOCKLEAK_DEMO_SCRIPT:-$here/demo.sh}" "$root/demo.sh"
chmod +x "$root/demo.sh"

(cd "$root" && find . | cpio -o -H newc --quiet) >"$out"
