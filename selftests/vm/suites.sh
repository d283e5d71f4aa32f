# SPDX-License-Identifier: GPL-2.0
#
# suites.sh: sourced by the harness. Every test kernel comes from a Debian
# suite and is built for inside a chroot of that suite (its own compiler
# and libc), under build/chroot/:
#
#   bookworm  bookworm + bookworm-updates + bookworm-security (6.1, 6.12)
#   sid       sid, with experimental at apt priority 1 (its -rc kernels)
#
# Nothing here touches the host's apt sources or installs a kernel on the
# host. SOCKLEAK_MIRROR / SOCKLEAK_SECURITY_MIRROR override the mirrors.

sl_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
sl_build=${SOCKLEAK_BUILD:-$sl_top/build}
sl_mirror=${SOCKLEAK_MIRROR:-http://deb.debian.org/debian}
sl_security=${SOCKLEAK_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# The chroot that serves SUITE (experimental lives in the sid chroot).
sl_chroot_of() {
	case $1 in
	experimental|sid) echo sid ;;
	*) echo "$1" ;;
	esac
}

sl_chroot_dir() {
	echo "$sl_build/chroot/$(sl_chroot_of "$1")"
}

# sl_run_in [--offline] DIR CMD...: run CMD in the root directory DIR with
# /proc and /dev, in a private mount namespace (nothing stays mounted
# afterwards); --offline also in a new network namespace (no network).
sl_run_in() {
	local net=""
	if [ "$1" = --offline ]; then
		net=-n
		shift
	fi
	local dir=$1
	shift
	unshare -m $net --propagation private -- /bin/sh -c '
		dir=$1; shift
		mount -t proc proc "$dir/proc" &&
		mount --rbind /dev "$dir/dev" &&
		exec chroot "$dir" /usr/bin/env -i \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' sh "$dir" "$@"
}

# sl_chroot SUITE CMD...: run CMD in SUITE's build chroot.
sl_chroot() {
	local dir
	dir=$(sl_chroot_dir "$1")
	shift
	sl_run_in "$dir" "$@"
}

# The sources.list of a chroot.
sl_sources() {
	local o="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
	case $1 in
	bookworm)
		echo "deb $o $sl_mirror bookworm main"
		echo "deb $o $sl_mirror bookworm-updates main"
		echo "deb $o $sl_security bookworm-security main"
		;;
	sid)
		echo "deb $o $sl_mirror sid main"
		echo "deb $o $sl_mirror experimental main"
		;;
	esac
}

# Where a kernel release's files live on the host.
sl_kdir() {
	echo "$sl_build/kernels/$1"
}

# The suite of a kernel release: recorded when kernels.sh resolved it, or
# looked up in the chroots' apt (for SOCKLEAK_KERNELS=<release>).
sl_suite_of() {
	local rel=$1 f s
	f=$(sl_kdir "$rel")/suite
	if [ -s "$f" ]; then
		cat "$f"
		return 0
	fi
	for s in bookworm sid; do
		[ -d "$(sl_chroot_dir $s)/etc/apt" ] || continue
		# (whole outputs, not grep -q: SIGPIPE would fail a pipefail)
		if sl_chroot $s apt-cache show "linux-headers-$rel" 2>/dev/null |
		   grep '^Package:' >/dev/null; then
			mkdir -p "$(dirname "$f")"
			if sl_chroot $s apt-cache policy "linux-headers-$rel" |
			   grep '/debian experimental/' >/dev/null; then
				echo experimental >"$f"
			else
				echo $s >"$f"
			fi
			cat "$f"
			return 0
		fi
	done
	echo "no Debian suite ships linux-headers-$rel (run 'make deps')" >&2
	return 1
}

# sl_depends: read "apt-cache show PKG" on stdin, print the package names
# its (first version's) Depends line names, alternatives included.
sl_depends() {
	sed -n '0,/^$/s/^Depends: //p' | tr ',|' '\n\n' | awk 'NF { print $1 }'
}

# sl_image_pkgs KREL: read "apt-cache show linux-image-KREL" on stdin and
# print linux-image-KREL and every dependency named after the release
# (since 7.x: linux-binary-KREL, linux-modules-KREL, linux-base-KREL).
sl_image_pkgs() {
	local krel=$1
	echo "linux-image-$krel"
	sl_depends | awk -v r="$krel" '{ n = length(r) }
		substr($1, length($1) - n + 1) == r && length($1) > n { print $1 }' |
		sort -u
}

# sl_extract_debs DIR DEST: unpack every .deb of DIR under DEST.
sl_extract_debs() {
	local deb
	for deb in "$1"/*.deb; do
		dpkg-deb -x "$deb" "$2" || return 1
	done
}

# sl_unpack_kernel KREL DEBDIR: unpack the kernel's .debs downloaded in
# DEBDIR under its directory (root/, never installed on the host), link
# modules and vmlinuz, and extract the uncompressed vmlinux for QEMU's PVH
# entry.
sl_unpack_kernel() {
	local krel=$1 debs=$2 kd m mods="" i img=""
	kd=$(sl_kdir "$krel")
	rm -rf "$kd/root" "$kd/.unpacked" "$kd/vmlinux"
	mkdir -p "$kd/root"
	sl_extract_debs "$debs" "$kd/root" || return 1
	for m in "$kd/root/lib/modules/$krel" "$kd/root/usr/lib/modules/$krel"; do
		[ -e "$m/modules.builtin" ] && mods=$m
	done
	for i in "$kd/root/boot/vmlinuz-$krel" "$kd/root/usr/lib/modules/$krel/vmlinuz" \
		 "$kd/root/lib/modules/$krel/vmlinuz"; do
		[ -e "$i" ] && img=$i
	done
	if [ -z "$mods" ] || [ -z "$img" ]; then
		echo "$krel: no modules tree or vmlinuz in $debs" >&2
		return 1
	fi
	ln -sfn "${mods#"$kd"/}" "$kd/modules"
	ln -sfn "${img#"$kd"/}" "$kd/vmlinuz"
	"$sl_top/selftests/vm/extract-vmlinux.sh" "$kd/vmlinuz" "$kd/vmlinux.tmp" &&
		mv "$kd/vmlinux.tmp" "$kd/vmlinux" && touch "$kd/.unpacked"
}

# sl_missing PKG...: the packages of PKG... not installed on the host.
# sl_chroot_missing CHROOT PKG...: not installed in that chroot.
sl_missing() {
	local p
	for p in "$@"; do
		case "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)" in
		ii*) ;;
		*) echo "$p" ;;
		esac
	done
}
sl_chroot_missing() {
	local c=$1 p
	shift
	for p in "$@"; do
		# shellcheck disable=SC2016
		case "$(sl_chroot "$c" dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)" in
		ii*) ;;
		*) echo "$p" ;;
		esac
	done
}

# A guest's kernel command line, the part every harness boot shares:
# panic_on_warn and friends turn any splat into a dead guest; panic=-1
# with -no-reboot makes QEMU exit at once. No crypto self-tests: loading
# bluetooth (families_test) loads ecdh_generic, whose self-test fails
# under TCG on 6.1.0-57 ("alg: ecdh-nist-p256: test failed on vector 2,
# err=-14") with a WARN.
sl_guest_cmdline="console=ttyS0,115200 panic_on_warn=1 panic=-1 oops=panic"
sl_guest_cmdline+=" softlockup_panic=1 hung_task_panic=1 mitigations=off"
sl_guest_cmdline+=" cryptomgr.notests=1"

# What makes a guest's console a failed run (grep -E): a splat of any
# checker; sl_splat_re also a kmemleak report, which the hunt reports
# instead (sl_splat_re_checkers).
sl_splat_re_checkers='WARNING:|BUG:|Oops|general protection fault|KASAN|UBSAN|'
sl_splat_re_checkers+='possible circular locking|possible recursive locking|'
sl_splat_re_checkers+='inconsistent lock state|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|'
sl_splat_re_checkers+='detected stall|self-detected stall|rcu_sched kthread starved|'
sl_splat_re_checkers+='soft lockup|hard LOCKUP|blocked for more than|'
sl_splat_re_checkers+='Kernel panic|Call Trace:|'
# The kernel's complaint about a module of sockleak's (7.3: a work queued
# on system_wq, "enqueued on deprecated workqueue").
sl_splat_re_checkers+='\[sockleak[a-z_]*\] enqueued on deprecated'
sl_splat_re="$sl_splat_re_checkers|kmemleak: .*new suspected"

# sl_console_txt CONSOLE: CONSOLE.txt, without carriage returns and without
# the command line the kernel echoes (its option names look like splats).
sl_console_txt() {
	tr -d '\r' <"$1" 2>/dev/null | grep -v -E '(Kernel )?[Cc]ommand line:' >"$1.txt"
}

# sl_show_splat FILE REGEX: the first splat of FILE with its context.
sl_show_splat() {
	grep -E -B 2 -A 30 -m 1 "$2" "$1" | sed 's/^/    /'
}

# sl_tree_suite TREE: the suite whose chroot holds the kernel tree TREE
# (debug-kernel.sh builds there), or nothing.
sl_tree_suite() {
	local s
	for s in bookworm sid; do
		case $1 in "$(sl_chroot_dir $s)"/*) echo $s ;; esac
	done
}

# sl_kernel_source KREL SUITE: install the source package of kernel KREL
# (linux-source-X.Y, from the version of its linux-headers package) in
# SUITE's chroot unless it is there; print the path of its tarball inside
# the chroot. Messages go to stderr.
sl_kernel_source() {
	local krel=$1 suite=$2 chroot ver src tar
	chroot=$(sl_chroot_of "$suite")
	ver=$(sl_chroot "$chroot" apt-cache show "linux-headers-$krel" |
		sed -n '0,/^Version: /s/^Version: //p')
	if [ -z "$ver" ]; then
		echo "$suite has no linux-headers-$krel: run 'make deps'" >&2
		return 1
	fi
	src=linux-source-$(echo "$ver" | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
	if [ -n "$(sl_chroot_missing "$chroot" "$src")" ]; then
		echo "installing $src in the $chroot chroot" >&2
		sl_chroot "$chroot" apt-get install -y -qq "$src" >&2 || return 1
	fi
	tar=$(cd "$(sl_chroot_dir "$suite")" && ls usr/src/"$src".tar.* 2>/dev/null | head -n 1)
	if [ -z "$tar" ]; then
		echo "$src has no usr/src/$src.tar.* in the $chroot chroot" >&2
		return 1
	fi
	echo "/$tar"
}
