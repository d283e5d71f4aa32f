#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# extract-vmlinux.sh BZIMAGE OUT
#
# Write the uncompressed ELF vmlinux inside a bzImage to OUT. QEMU boots it
# through its PVH entry point, which skips the in-guest decompression that
# is slow under TCG (xz on 6.1, zstd on 6.12).
set -euo pipefail

in=$1
out=$2

try() {
	local magic=$1 cmd=$2 off
	for off in $(LC_ALL=C grep -obUaP "$magic" "$in" | cut -d: -f1); do
		tail -c +$((off + 1)) "$in" | $cmd >"$out" 2>/dev/null || true
		if [ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			return 0
		fi
	done
	return 1
}

try '\xFD7zXZ\x00' 'xz -dc' && exit 0
try '\x28\xB5\x2F\xFD' 'zstd -dc' && exit 0
try '\x1F\x8B\x08' 'gzip -dc' && exit 0
rm -f "$out"
echo "extract-vmlinux: no compressed ELF kernel found in $in" >&2
exit 1
