#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hunt-prep.sh
#
# Make ready what a leak hunt with the kernel's own net selftests needs,
# under build/hunt/, and print "ROOT KSFT" (absolute paths):
#
#   ROOT  build/hunt/root: a Debian sid root (debootstrap minbase, the
#         sources of suites.sh; debootstrap's downloads cached in
#         build/hunt/cache) with the tools the selftests' scripts call,
#         no Recommends, no compiler; meant to be packed into a guest's
#         initramfs, so kept small: apt's cache and lists, docs, man
#         pages and locales are removed. Root has no init of its own.
#   KSFT  build/hunt/ksft: the kselftest targets net/mptcp, net/af_unix
#         and net/tcp_ao of the source of the newest kernel of the matrix
#         (linux-source-X.Y, installed in the sid build chroot, chroot.sh,
#         when missing), as "make install" of kselftest lays
#         them out (run_kselftest.sh, kselftest-list.txt, net/lib.sh...),
#         built in that chroot under /var/tmp/sockleak-hunt (left there
#         until the next build) against the uapi headers of the same
#         source ("make headers"), stripped (LDFLAGS="-s"), linked
#         against the build chroot's libc, which ROOT has too (both sid;
#         ROOT is made later, so its libc is as new or newer). Not static:
#         a static glibc program cannot unwind a cancelled thread
#         (pthread_cancel() needs libgcc_s through its own dlopen()), and
#         every tcp_ao program cancels its ftrace thread at its exit: all
#         of them were killed by SIGABRT at their end.
#
# Left out:
#   af_unix/scm_rights_denial_lsm  its BPF object needs clang and libbpf
#                         built from tools/lib/bpf (net/bpf.mk); the build
#                         chroot has neither (clang would add ~500 MB to it)
#   tcpdump               only for mptcp's optional capture (-c)
#   jq, udevadm           only in net/lib.sh helpers that mptcp's scripts
#                         do not call
#   python3               none of the three targets runs python
#   vsock_diag_test       made for a server and a client on two machines:
#                         over the loopback it sees both ends of each
#                         connection and always fails its third case
#
# Both are checked without a VM (nothing is run against the host's
# network): every ELF under KSFT finds its libraries in ROOT (ldd run in
# ROOT), the mptcp and af_unix programs
# print their usage or test list when run in ROOT (offline), every
# installed .sh parses with ROOT's bash, and the commands the mptcp
# scripts, net/lib.sh and kselftest's runner call (root_cmds) resolve in
# ROOT. The tcp_ao programs take no option that does not run their tests:
# only their libraries are checked.
#
# Idempotent: each part is redone only when it is missing or when this
# script (or, for KSFT, the source tarball) changed; a second run only
# checks stamps. Logs in build/hunt/logs/. Must run as root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suites.sh"

hunt=$sl_build/hunt
root=$hunt/root
ksft=$hunt/ksft
logs=$hunt/logs
work=/var/tmp/sockleak-hunt	# in the sid build chroot
targets="net/mptcp net/af_unix net/tcp_ao"
required_targets="net/mptcp net/af_unix"
jobs=$(nproc)

# What the selftests call (mptcp/*.sh, net/lib.sh, kselftest/runner.sh):
# ip, tc, ss, nstat (iproute2), nft, iptables/ip6tables (mptcp_join and
# mptcp_sockopt; -m bpf through nft_compat), ethtool, sysctl (procps), ping
# (iputils-ping), cmp (diffutils), dd, od, stat, timeout, mktemp, seq, date
# (coreutils), awk, grep, sed, xargs/find (findutils), perl (perl-base,
# runner.sh's prefix.pl). socat and nc for hand-made workloads.
root_pkgs="bash coreutils util-linux findutils grep sed gawk diffutils
	procps kmod iproute2 nftables iptables ethtool iputils-ping socat
	netcat-openbsd"
# Checked in ROOT after the install.
root_cmds="bash ip tc ss nstat nft iptables ip6tables ethtool sysctl ping
	cmp dd od stat timeout mktemp seq date awk grep sed cut sort head tail
	wc tee xargs find readlink dirname basename id uname sleep kill perl
	socat nc modprobe mount unshare ldd"
# The sid build chroot needs rsync for kselftest's install (lib.mk);
# "make headers" needs nothing beyond chroot.sh's gcc and make.
chroot_pkgs="rsync"

say() {
	echo "hunt-prep: $*" >&2
}

# logged LOG CMD...: run CMD with its output in LOG; on failure show the
# end of LOG and stop.
logged() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		say "failed: $(echo "$*" | head -n 1 | cut -c1-60)... (log: $log)"
		exit 1
	fi
}

# since START: seconds elapsed since START.
since() {
	echo "$(( $(date +%s) - $1 ))s"
}

if [ "$(id -u)" != 0 ]; then
	say "must be root (debootstrap, chroot)"
	exit 1
fi
mkdir -p "$hunt" "$logs"
exec 9>"$hunt/.lock"
flock 9

me=$(sha256sum "$here/hunt-prep.sh" | cut -c1-16)
vsock_me=$(sha256sum "$here/hunt-vsock.sh" | cut -c1-16)
cdir=$(sl_chroot_dir sid)
if [ ! -e "$cdir/.sockleak-ready" ]; then
	say "no sid build chroot in $cdir (run: selftests/vm/chroot.sh sid)"
	exit 1
fi
# The source of the newest kernel of the matrix (installed in its chroot,
# the sid one, on first use: about 160 MB).
read -r _ newest suite < <("$here/kernels.sh" --names | tail -n 1)
if [ "$(sl_chroot_of "$suite")" != sid ]; then
	say "the newest kernel, $newest, is not from sid or experimental"
	exit 1
fi
tarball=$(sl_kernel_source "$newest" "$suite") || exit 1
srcname=$(basename "$tarball" .tar.xz)

# ---------------------------------------------------------------------------
# ROOT

want_root=$me
if [ -e "$hunt/root.stamp" ] && [ "$(cat "$hunt/root.stamp")" = "$want_root" ] &&
   [ -x "$root/bin/bash" ]; then
	root_new=no
else
	root_new=yes
	t=$(date +%s)
	new=$hunt/root.new
	rm -rf --one-file-system "$new" "$hunt/root.stamp"
	mkdir -p "$new" "$hunt/cache"
	logged "$logs/root-debootstrap.log" debootstrap --variant=minbase \
		--cache-dir="$hunt/cache" sid "$new" "$sl_mirror"
	say "root: debootstrap sid in $(since "$t")"

	t=$(date +%s)
	sl_sources sid >"$new/etc/apt/sources.list"
	printf 'Package: *\nPin: release a=experimental\nPin-Priority: 1\n' \
		>"$new/etc/apt/preferences.d/experimental"
	printf 'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\n' \
		>"$new/etc/apt/apt.conf.d/90sockleak"
	# What the packages to come would install there is not wanted.
	printf 'path-exclude=/usr/share/doc/*\npath-exclude=/usr/share/man/*\npath-exclude=/usr/share/locale/*\n' \
		>"$new/etc/dpkg/dpkg.cfg.d/90sockleak-nodoc"
	cp /etc/resolv.conf "$new/etc/resolv.conf"
	# No daemon may start in the chroot while packages are installed.
	printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
	chmod 755 "$new/usr/sbin/policy-rc.d"
	logged "$logs/root-install.log" sl_run_in "$new" /bin/sh -c "
		set -e
		apt-get update -q
		apt-get install -y -q --no-install-recommends ${root_pkgs//$'\n'/ }
		apt-get clean
	"
	rm -f "$new/usr/sbin/policy-rc.d"
	install -m 644 /dev/null "$new/etc/resolv.conf"
	rm -rf "$new"/usr/share/doc/* "$new"/usr/share/man/* \
		"$new"/usr/share/locale/* "$new"/var/lib/apt/lists/* \
		"$new"/var/cache/apt/*.bin
	echo hunt-guest >"$new/etc/hostname"
	if [ -e "$new/usr/bin/gcc" ] || [ -e "$new/usr/bin/cc" ]; then
		say "root: a compiler got in (log: $logs/root-install.log)"
		exit 1
	fi
	rm -rf --one-file-system "$root"
	mv "$new" "$root"
	echo "$want_root" >"$hunt/root.stamp"
	say "root: packages installed and trimmed in $(since "$t"): $(du -sh "$root" | cut -f1)"
fi

# ---------------------------------------------------------------------------
# KSFT

want_ksft="$me $vsock_me $tarball $(stat -c '%s %Y' "$cdir$tarball")"
if [ -e "$hunt/ksft.stamp" ] && [ "$(cat "$hunt/ksft.stamp")" = "$want_ksft" ] &&
   [ -e "$ksft/run_kselftest.sh" ]; then
	ksft_new=no
else
	ksft_new=yes
	rm -f "$hunt/ksft.stamp"
	# shellcheck disable=SC2086
	missing=$(sl_chroot_missing sid $chroot_pkgs | sed 's/^/ /' | tr -d '\n')
	if [ -n "$missing" ]; then
		t=$(date +%s)
		# shellcheck disable=SC2086
		if ! sl_chroot sid apt-get install -y -q $missing >"$logs/chroot-install.log" 2>&1; then
			# The chroot's lists may name versions the mirror dropped.
			# shellcheck disable=SC2086
			logged "$logs/chroot-install.log" sl_chroot sid sh -c \
				"apt-get update -q && apt-get install -y -q $missing"
		fi
		say "ksft: installed$missing in the sid build chroot in $(since "$t")"
	fi

	# Only what "make headers" (top Makefile, scripts/, the uapi trees,
	# x86's syscall tables) and the three targets use (net/, kselftest's
	# own files, tools/include, and every selftests header: af_unix's
	# scm_pidfd includes pidfd/pidfd.h, which includes clone3/'s):
	# ~25 MB of the tarball's 1.6 GB; most of the time is xz.
	t=$(date +%s)
	rm -rf "$cdir$work"
	mkdir -p "$cdir$work/src"
	s=$srcname
	logged "$logs/ksft-extract.log" sl_chroot sid tar -xJf "$tarball" \
		-C "$work/src" --strip-components=1 --wildcards \
		"$s/Makefile" "$s/scripts/*" "$s/include/uapi/*" \
		"$s/arch/x86/Makefile" "$s/arch/x86/include/uapi/*" \
		"$s/arch/x86/entry/syscalls/*" "$s/tools/include/*" \
		"$s/tools/testing/selftests/Makefile" \
		"$s/tools/testing/selftests/lib.mk" \
		"$s/tools/testing/selftests/kselftest*" \
		"$s/tools/testing/selftests/*.h" \
		"$s/tools/testing/selftests/run_kselftest.sh" \
		"$s/tools/testing/selftests/net/*" \
		"$s/tools/testing/vsock/*"
	# scm_rights_denial_lsm needs clang and libbpf (see above): without
	# this, af_unix as a whole fails to build.
	sed -i -e '/scm_rights_denial_lsm/d' -e '/^include \.\.\/bpf\.mk/d' \
		"$cdir$work/src/tools/testing/selftests/net/af_unix/Makefile"
	say "ksft: extracted $(du -sh "$cdir$work/src" | cut -f1) of the sid chroot's $tarball in $(since "$t")"

	t=$(date +%s)
	logged "$logs/ksft-headers.log" sl_chroot sid \
		make -C "$work/src" ARCH=x86 -j"$jobs" headers
	say "ksft: uapi headers generated in $(since "$t")"

	# No FORCE_TARGETS: a target that fails is left out of the install
	# and of kselftest-list.txt, and checked for below.
	t=$(date +%s)
	logged "$logs/ksft-build.log" sl_chroot sid \
		make -C "$work/src/tools/testing/selftests" -j"$jobs" \
		TARGETS="$targets" LDFLAGS="-s" \
		install INSTALL_PATH="$work/install"
	built=""
	for tg in $targets; do
		if [ -d "$cdir$work/install/$tg" ]; then
			built="$built $tg"
		elif [[ " $required_targets " == *" $tg "* ]]; then
			say "ksft: $tg failed to build (log: $logs/ksft-build.log)"
			exit 1
		else
			say "ksft: $tg failed to build, dropped (log: $logs/ksft-build.log)"
		fi
	done
	say "ksft: built and installed$built in $(since "$t")"

	# AF_VSOCK's vsock_test (not a kselftest target): its server and
	# client run in the guest over vsock's loopback (hunt-vsock.sh).
	t=$(date +%s)
	if sl_chroot sid make -C "$work/src/tools/testing/vsock" -j"$jobs" \
		LDFLAGS="-s" vsock_test >"$logs/ksft-vsock.log" 2>&1; then
		mkdir -p "$cdir$work/install/vsock"
		install -m 755 "$cdir$work/src/tools/testing/vsock/vsock_test" \
			"$cdir$work/install/vsock/"
		install -m 755 "$here/hunt-vsock.sh" "$cdir$work/install/vsock/loopback.sh"
		say "ksft: vsock_test built in $(since "$t")"
	else
		tail -n 20 "$logs/ksft-vsock.log" >&2
		say "ksft: vsock_test failed to build, dropped (log: $logs/ksft-vsock.log)"
	fi

	t=$(date +%s)
	rm -rf "$ksft.new"
	cp -a "$cdir$work/install" "$ksft.new"
	# The work tree stays in the chroot until the next build (deleting
	# its ~5000 files takes ~20 s here: the disk is mounted with discard).
	rm -rf "$ksft"
	mv "$ksft.new" "$ksft"
	echo "$want_ksft" >"$hunt/ksft.stamp"
	say "ksft: copied out in $(since "$t"): $(du -sh "$ksft" | cut -f1)"
fi

# ---------------------------------------------------------------------------
# Check both together, without a VM and without the network: KSFT is bound
# on ROOT's /mnt in a private mount namespace (ROOT is not changed).

want_check="$want_root | $want_ksft"
if [ "$root_new" = yes ] || [ "$ksft_new" = yes ] || [ ! -e "$hunt/check.stamp" ] ||
   [ "$(cat "$hunt/check.stamp")" != "$want_check" ]; then
	t=$(date +%s)
	rm -f "$hunt/check.stamp"
	# shellcheck disable=SC2016
	logged "$logs/check.log" unshare -m --propagation private -- /bin/bash -c '
		set -euo pipefail
		. "$1/suites.sh"
		root=$2 ksft=$3 cmds=$4
		mount --bind -o ro "$ksft" "$root/mnt"
		sl_run_in --offline "$root" /bin/bash -c "
			set -eu
			missing=\"\"
			for c in $cmds; do
				command -v \$c >/dev/null || missing=\"\$missing \$c\"
			done
			[ -z \"\$missing\" ] || { echo \"missing in root:\$missing\"; exit 1; }
			ss -h 2>&1 | grep -q MPTCP || { echo \"ss without MPTCP\"; exit 1; }
			ip -Version; tc -Version; iptables -V; ip6tables -V; nft -v
			cd /mnt
			# Every program finds its libraries in ROOT.
			n=0
			for f in \$(find . -type f -perm -u+x); do
				head -c 4 \"\$f\" | grep -q ELF || continue
				if ldd \"\$f\" 2>&1 | grep -q \"not found\"; then
					echo \"\$f: \$(ldd \"\$f\" 2>&1 | grep \"not found\")\"
					exit 1
				fi
				n=\$((n + 1))
			done
			echo \"ldd: \$n programs find their libraries in root\"
			for f in \$(find . -name \"*.sh\"); do bash -n \"\$f\"; done
			echo \"bash -n: \$(find . -name \"*.sh\" | wc -l) scripts parse\"
			cd /mnt/net/mptcp
			# Their usage (pm_nl_ctl: without arguments; it exits 0).
			for p in mptcp_connect mptcp_diag mptcp_inq mptcp_sockopt pm_nl_ctl; do
				case \$p in
				pm_nl_ctl) a= ;;
				*) a=-h ;;
				esac
				rc=0
				out=\$(./\$p \$a 2>&1) || rc=\$?
				case \$rc:\$out in
				126:*|127:*) echo \"\$p: \$out\"; exit 1 ;;
				*[Uu]sage*|*\$p*) echo \"mptcp/\$p \$a: exit \$rc, usage printed\" ;;
				*) echo \"\$p: \$out\"; exit 1 ;;
				esac
			done
			cd /mnt/net/af_unix
			# kselftest_harness programs: -l lists (on stderr) and exits
			# 4 (KSFT_SKIP).
			for p in \$(find . -type f -perm -u+x | sort); do
				rc=0
				out=\$(\$p -l 2>&1) || rc=\$?
				case \$rc:\$out in
				[04]:*FIXTURE*) ;;
				*) echo \"\$p -l: \$out\"; exit 1 ;;
				esac
				echo \"af_unix/\${p#./} -l: \$(echo \"\$out\" | wc -l) lines\"
			done
			if [ -d /mnt/vsock ]; then
				cd /mnt/vsock
				# --list prints the test cases (and exits 1).
				out=\$(./vsock_test --list 2>&1) || true
				case \$out in
				*\"Test name\"*) ;;
				*) echo \"vsock/vsock_test --list: \$out\"; exit 1 ;;
				esac
				echo \"vsock/vsock_test --list: \$(echo \"\$out\" | wc -l) lines\"
			fi
		"
	' bash "$here" "$root" "$ksft" "${root_cmds//$'\n'/ }"
	echo "$want_check" >"$hunt/check.stamp"
	say "check: tools in root, scripts parse, programs run in root, in $(since "$t")"
fi

# One line a run on what is there (du: well under a second).
say "ROOT $(du -sh "$root" | cut -f1), KSFT $(du -sh "$ksft" | cut -f1)" \
	"($(grep -c . "$ksft/kselftest-list.txt") tests from $srcname)"
echo "$root $ksft"
