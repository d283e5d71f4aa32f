#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh OUTDIR
#
# Build a debug kernel (KASAN, lockdep, kmemleak, ...: debug.config) from
# Debian's linux-source-6.12 into OUTDIR/tree, once: the build is reused
# while the source package and debug.config are unchanged. Prints the
# tree's path. The network modules the tests need are built in, and
# modules_prepare lets out-of-tree modules build against the tree.
set -euo pipefail

out=$1
here=$(cd "$(dirname "$0")" && pwd)
tar=/usr/src/linux-source-6.12.tar.xz
tree=$out/tree
key=$( (ls -l --time-style=+%s "$tar"; cat "$here/debug.config") | sha1sum | cut -c1-12)

if [ -e "$tree/.sockleak-built-$key" ]; then
	echo "$tree"
	exit 0
fi
for p in bc bison flex libelf-dev libssl-dev; do
	dpkg-query -W -f='${db:Status-Abbrev}' $p 2>/dev/null | grep -q '^ii' ||
		missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
	echo "debug-kernel: installing$missing" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		$missing >&2
fi

start=$(date +%s)
rm -rf "$tree"
mkdir -p "$tree"
tar -xJf "$tar" -C "$tree" --strip-components=1
cd "$tree"
make -s x86_64_defconfig >&2
scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config \
	"$here/debug.config" >&2
make -s olddefconfig >&2
# Every option debug.config asks for must have survived olddefconfig.
bad=0
while read -r line; do
	case "$line" in
	CONFIG_*=n) opt=${line%=n}
		if grep -q "^$opt=" .config; then
			echo "debug-kernel: $opt still set" >&2; bad=1
		fi ;;
	CONFIG_*) if ! grep -qx "$line" .config; then
			echo "debug-kernel: $line not in .config" >&2; bad=1
		fi ;;
	esac
done < <(grep -E '^CONFIG_' "$here/debug.config" | grep -v -E 'RETPOLINE|MODULE_SIG=n')
[ $bad = 0 ] || exit 1
make -j"$(nproc)" vmlinux modules_prepare >&2
make -s -j"$(nproc)" modules >&2 || true
echo "debug-kernel: built in $(( $(date +%s) - start ))s" >&2
touch ".sockleak-built-$key"
echo "$tree"
