#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the test-kernel matrix, one kernel release per line.
#
# The matrix is what Debian's meta packages point to right now, so it
# follows apt upgrades: linux-image-amd64 (6.1) and linux-image-6.12-amd64.
# Override with SOCKLEAK_KERNELS="rel1 rel2".
set -euo pipefail

META_PACKAGES="linux-image-amd64 linux-image-6.12-amd64"

if [ -n "${SOCKLEAK_KERNELS:-}" ]; then
	printf '%s\n' $SOCKLEAK_KERNELS
	exit 0
fi

for meta in $META_PACKAGES; do
	dep=$(dpkg-query -W -f='${Depends}' "$meta" 2>/dev/null) || {
		echo "kernels.sh: $meta is not installed: run 'make deps'" >&2
		exit 1
	}
	# "linux-image-6.1.0-56-amd64 (= 6.1.192-2)" -> "6.1.0-56-amd64"
	pkg=${dep%% *}
	echo "${pkg#linux-image-}"
done
