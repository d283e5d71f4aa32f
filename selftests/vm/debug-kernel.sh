#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [--rt | --hunt]
#
# Build a debug kernel (KASAN, lockdep, kmemleak, ...: debug.config; with
# --rt also PREEMPT_RT: debug-rt.config; with --hunt, kmemleak without
# KASAN and the hunt's selftests' options: hunt-debug.config) from the Debian source of the
# newest kernel of the matrix (kernels.sh, experimental's -rc today), with
# that kernel's compiler, in its suite's chroot. Built once: the tree is
# reused while the source package and the config fragments are unchanged.
# Prints the tree's path (inside the chroot's directory, where
# build-module.sh builds for it with the same compiler). run.sh boots its
# bzImage: 7.3's KASAN vmlinux does not survive QEMU's PVH entry. The network
# modules the tests need are built in; modules_prepare lets out-of-tree
# modules build against the tree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suites.sh"

variant=debug
frags="$here/debug.config"
case ${1:-} in
--rt)
	variant=debug-rt
	frags="$frags $here/debug-rt.config"
	;;
--hunt)
	# make hunt-debug: kmemleak and what the hunted selftests need.
	variant=hunt-debug
	frags="$frags $here/hunt-debug.config"
	;;
esac

# The newest kernel of the matrix, and its source package.
read -r _ krel suite < <("$here/kernels.sh" --names | tail -n 1)
chroot=$(sl_chroot_of "$suite")
cdir=$(sl_chroot_dir "$suite")
tar=$cdir$(sl_kernel_source "$krel" "$suite") || exit 1
src=$(basename "$tar" | sed 's/\.tar\..*//')
missing=$(sl_chroot_missing "$chroot" bc bison flex cpio libelf-dev \
	libssl-dev python3 "linux-headers-$krel" | tr '\n' ' ')
if [ -n "$missing" ]; then
	echo "debug-kernel: installing the kernel build tools in the $chroot chroot: $missing" >&2
	# shellcheck disable=SC2086
	sl_chroot "$chroot" apt-get install -y -qq $missing >&2
fi
ctree=/var/tmp/sockleak-$variant
tree=$cdir$ctree
# shellcheck disable=SC2086
srckey=$(ls -l --time-style=+%s "$tar" | sha1sum | cut -c1-12)
key=$( (ls -l --time-style=+%s "$tar"; cat $frags) | sha1sum | cut -c1-12)

if [ -e "$tree/.sockleak-built-$key" ]; then
	echo "$tree"
	exit 0
fi

start=$(date +%s)
# A new source starts from a clean tree; a changed fragment only
# reconfigures the old one (kbuild rebuilds what the new options touch).
if [ ! -e "$tree/.sockleak-source-$srckey" ]; then
	rm -rf "$tree"
	mkdir -p "$tree"
	tar -xf "$tar" -C "$tree" --strip-components=1
	touch "$tree/.sockleak-source-$srckey"
fi
rm -f "$tree"/.sockleak-built-*
cp $frags "$tree/"
cfrags=$(for f in $frags; do echo "$ctree/$(basename "$f")"; done)
# shellcheck disable=SC2086
sl_chroot "$chroot" sh -c "
	set -e
	cd $ctree
	make -s x86_64_defconfig
	scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config $(echo $cfrags)
	make -s olddefconfig
" >&2
# Every option the fragments ask for must have survived olddefconfig.
bad=0
while read -r line; do
	case "$line" in
	CONFIG_*=n) opt=${line%=n}
		if grep -q "^$opt=" "$tree/.config"; then
			echo "debug-kernel: $opt still set" >&2; bad=1
		fi ;;
	CONFIG_*) if ! grep -qx "$line" "$tree/.config"; then
			echo "debug-kernel: $line not in .config" >&2; bad=1
		fi ;;
	esac
# shellcheck disable=SC2086
# (the last fragment that sets an option wins, as in merge_config.sh)
done < <(cat $frags | grep -E '^CONFIG_' | grep -v -E 'RETPOLINE|MODULE_SIG=n' |
	awk -F= '{ v[$1] = $0 } END { for (k in v) print v[k] }')
[ $bad = 0 ] || exit 1
sl_chroot "$chroot" sh -c "
	cd $ctree &&
	make -s -j$(nproc) bzImage modules_prepare &&
	{ make -s -j$(nproc) modules || true; }
" >"$tree.log" 2>&1 || {
	tail -n 30 "$tree.log" >&2
	echo "debug-kernel: build failed (log: $tree.log)" >&2
	exit 1
}
echo "debug-kernel: $variant $(cat "$tree/include/config/kernel.release") from $src built in $(( $(date +%s) - start ))s" >&2
echo "$(cat "$tree/include/config/kernel.release") $src $(( $(date +%s) - start ))s" \
	>"$tree.built"
touch "$tree/.sockleak-built-$key"
echo "$tree"
