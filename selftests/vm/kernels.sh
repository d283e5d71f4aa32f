#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernels.sh [--names]
#
# Print the test-kernel matrix, one kernel release per line (with --names:
# "NAME RELEASE SUITE"). The matrix is what Debian's meta packages point to
# right now, in each suite's build chroot (chroot.sh), so it follows apt:
# a new sid kernel or experimental -rc is picked up with no edit.
#
#   name          suite          meta package
#   6.1           bookworm       linux-image-amd64
#   6.1-rt        bookworm       linux-image-rt-amd64
#   6.12          bookworm       linux-image-6.12-amd64
#   6.12-rt       bookworm       linux-image-6.12-rt-amd64
#   sid           sid            linux-image-amd64
#   experimental  experimental   linux-image-amd64 (experimental's version)
#
# SOCKLEAK_KERNELS="rel1 rel2" overrides the matrix (the suite of each is
# looked up in the chroots). Each resolved release's suite and name are
# recorded in build/kernels/REL/.
set -euo pipefail
. "$(dirname "$0")/suites.sh"

MATRIX="
6.1		bookworm	linux-image-amd64
6.1-rt		bookworm	linux-image-rt-amd64
6.12		bookworm	linux-image-6.12-amd64
6.12-rt		bookworm	linux-image-6.12-rt-amd64
sid		sid		linux-image-amd64
experimental	experimental	linux-image-amd64
"

names=0
[ "${1:-}" = --names ] && names=1

emit() {
	if [ $names = 1 ]; then
		echo "$1 $2 $3"
	else
		echo "$2"
	fi
}

if [ -n "${SOCKLEAK_KERNELS:-}" ]; then
	for rel in $SOCKLEAK_KERNELS; do
		suite=$(sl_suite_of "$rel")
		name=$rel
		[ -s "$(sl_kdir "$rel")/name" ] && name=$(cat "$(sl_kdir "$rel")/name")
		emit "$name" "$rel" "$suite"
	done
	exit 0
fi

# resolve SUITE META: the release the meta package depends on, e.g.
# "linux-image-6.1.0-56-amd64 (= 6.1.192-2)" -> "6.1.0-56-amd64".
resolve() {
	local suite=$1 meta=$2 chroot ver dep
	chroot=$(sl_chroot_of "$suite")
	if [ ! -e "$(sl_chroot_dir "$chroot")/.sockleak-ready" ]; then
		echo "kernels.sh: no $chroot chroot: run 'make deps'" >&2
		return 1
	fi
	# The highest version of this suite (with its updates and security
	# suites for a stable release; madison lists newest first).
	ver=$(sl_chroot "$chroot" apt-cache madison "$meta" |
		awk -F'|' -v s=" $suite(-updates|-security)?/" '
			$3 ~ s { gsub(/ /, "", $2); print $2; exit }')
	if [ -z "$ver" ]; then
		echo "kernels.sh: $suite has no $meta" >&2
		return 1
	fi
	dep=$(sl_chroot "$chroot" apt-cache show "$meta=$ver" |
		sed -n 's/^Depends: //p' | tr ',' '\n' |
		sed -n 's/^ *linux-image-\([^ ]*\) .*/\1/p' | head -1)
	if [ -z "$dep" ]; then
		echo "kernels.sh: cannot resolve $meta=$ver in $suite" >&2
		return 1
	fi
	echo "$dep"
}

echo "$MATRIX" | while read -r name suite meta; do
	[ -n "$name" ] || continue
	rel=$(resolve "$suite" "$meta") || exit 1
	mkdir -p "$(sl_kdir "$rel")"
	echo "$suite" >"$(sl_kdir "$rel")/suite"
	echo "$name" >"$(sl_kdir "$rel")/name"
	emit "$name" "$rel" "$suite"
done
