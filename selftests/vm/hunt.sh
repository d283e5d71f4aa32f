#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hunt.sh [--minutes N] [--tests a,b] [--timeout SEC]
#         [--no-baseline | --baseline-only] [--name NAME]
#         [--tree DEBUG_TREE | KREL]
#
# "make hunt": the kernel's own network selftests (net/mptcp, net/af_unix,
# net/tcp_ao, and tools/testing/vsock's AF_VSOCK tests over the loopback
# transport, built from the kernel's linux-source by hunt-prep.sh) under
# "sockleak run", round after round for N minutes (default 60), on kernel
# release KREL (default: the newest of the matrix, experimental's -rc),
# booted under QEMU from an initramfs holding a Debian sid root with the
# tools the tests call (hunt-prep.sh), the kernel's modules, sockleak and
# the test-only holdref module. hunt-guest.sh runs in the guest; this
# script packs, boots and turns what the guest printed into
# build/hunt/KREL/report.json and report.md (hunt-report.py): per test, its
# runs, sockets, leaks (family, state, refcnt, stacks, the holder when
# watched), the protocol slabs' objects left that sockleak did not name
# (unaccounted), kmemleak's reports, and every result that differs from
# the baseline run without sockleak. --tree boots a self-built kernel
# instead (debug-kernel.sh --hunt: kmemleak, make hunt-debug), its modules
# installed from the tree. The baseline can run in a guest of its own
# beside the hunt (make hunt: --baseline-only in build/hunt/KREL-baseline,
# and --no-baseline, whose report then takes the baseline from there).
# --name NAME: logs and report in build/hunt/KREL-NAME (-baseline), for a
# second hunt of the same kernel at once.
#
# Exit status: 0 when the guest finished and printed no splat; the
# report, not the exit status, says what was found.
set -uo pipefail

minutes=60
tests=""
tmo=1800
baseline=1
tree=""
name=""
report_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) minutes=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;
	--timeout) tmo=$2; shift 2 ;;
	--no-baseline) baseline=0; shift ;;
	--baseline-only) baseline=only; shift ;;
	--report-only) report_only=1; baseline=0; shift ;;
	--tree) tree=$(realpath "$2"); shift 2 ;;
	--name) name=$2; shift 2 ;;
	-*) echo "hunt.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suites.sh"
if [ -n "$tree" ]; then
	export SOCKLEAK_KDIR=$tree
	krel=$(cat "$tree/include/config/kernel.release")
else
	krel=${1:-$("$here/kernels.sh" | tail -n 1)}
fi
work=$sl_build/hunt/$krel${name:+-$name}
basework=$work-baseline
if [ "$baseline" = only ]; then
	work=$basework
	minutes=0
fi
mkdir -p "$work"
log=$work/build.log

fail() {
	echo "hunt: $*" >&2
	exit 1
}

# report: judge the console and write the report (from the logs in $work).
report() {
	local splat_re splat base elapsed qrc
	elapsed=$(cat "$work/elapsed")
	qrc=$(cat "$work/qemu.rc")
	tr -d '\r' <"$results" >"$results.txt"
	sl_console_txt "$console"
	splat_re=$sl_splat_re_checkers
	splat=$(grep -E -m 5 "$splat_re" "$console.txt")

	# Without a baseline of its own: the one a --baseline-only guest ran.
	base=""
	[ "$baseline" = 0 ] && [ -e "$basework/results.log.txt" ] &&
		base=$basework/results.log.txt
	python3 "$here/hunt-report.py" "$results.txt" "$work" "$krel" "$elapsed" \
		"${splat:+$(echo "$splat" | head -n 1)}" "$base"
	if [ -n "$splat" ]; then
		echo "--- kernel splat in $console:"
		sl_show_splat "$console.txt" "$splat_re"
		echo "hunt $krel: FAIL kernel splat (${elapsed}s)"
		exit 1
	fi
	if ! grep -q '^SOCKLEAK-VM-DONE rc=0$' "$results.txt"; then
		echo "hunt $krel: FAIL the guest did not finish (qemu rc=$qrc, ${elapsed}s, logs in $work)"
		exit 1
	fi
	echo "hunt $krel: done in ${elapsed}s: $work/report.md"
}

results=$work/results.log
console=$work/console.log
if [ $report_only = 1 ]; then
	[ -e "$work/elapsed" ] || fail "no hunt of $krel to report on in $work"
	report
	exit 0
fi
# Nothing of an earlier run may be reported as this one's.
rm -f "$work"/{elapsed,qemu.rc,results.log,results.log.txt,console.log,console.log.txt,report.md,report.json}
: >"$log"

read -r root ksft < <("$here/hunt-prep.sh" 2>>"$log" | tail -n 1) ||
	fail "hunt-prep.sh failed (log: $log)"
[ -d "$root" ] && [ -d "$ksft" ] || fail "hunt-prep.sh failed (log: $log)"
"$here/build-module.sh" "$krel" "$sl_build/$krel" >>"$log" 2>&1 ||
	fail "cannot build sockleak for $krel (log: $log)"
if [ -z "$tree" ]; then
	kd=$("$here/kernel-prep.sh" "$krel" 2>>"$log") || fail "cannot prepare $krel (log: $log)"
	vmlinux=$kd/vmlinux
	kmods=$kd/modules
else
	# The tree's modules, installed into a directory next to it (in
	# the chroot that built it).
	suite=$(sl_tree_suite "$tree")
	[ -n "$suite" ] || fail "--tree must be a debug-kernel.sh tree"
	ctree=${tree#"$(sl_chroot_dir "$suite")"}
	rm -rf "$tree.mods"
	sl_chroot "$suite" make -s -C "$ctree" modules_install \
		INSTALL_MOD_PATH="$ctree.mods" >>"$log" 2>&1 || fail "modules_install failed (log: $log)"
	kmods=$(ls -d "$tree.mods"/lib/modules/"$krel" "$tree.mods"/usr/lib/modules/"$krel" 2>/dev/null | head -n 1)
	vmlinux=$tree/arch/x86/boot/bzImage
	[ -d "$kmods" ] || fail "no modules of $krel in $tree.mods (log: $log)"
fi
helper=$sl_build/tools/sockleak
[ -x "$helper" ] || fail "$helper missing (make tools)"

# The initramfs: the root's cpio (kept while the root is unchanged), then
# a second archive laid over it (the kernel unpacks both): the kernel's
# modules with sockleak's, the helper, the selftests, the guest script.
# (Under a lock: make hunt packs for two guests at once.)
exec 8>"$sl_build/hunt/.cpio.lock"
flock 8
if [ ! -s "$sl_build/hunt/root.cpio" ] ||
   [ "$sl_build/hunt/root.stamp" -nt "$sl_build/hunt/root.cpio" ]; then
	(cd "$root" && find . -path ./proc -prune -o -path ./sys -prune -o -print |
		cpio -o -H newc --quiet) >"$sl_build/hunt/root.cpio.tmp" &&
		mv "$sl_build/hunt/root.cpio.tmp" "$sl_build/hunt/root.cpio" ||
		fail "cannot pack the root"
fi
flock -u 8
ov=$(mktemp -d)
trap 'rm -rf "$ov"' EXIT
mods=$ov/usr/lib/modules/$krel
mkdir -p "$mods/extra" "$ov/opt" "$ov/usr/bin" "$ov/proc" "$ov/sys"
cp -a "$kmods/." "$mods/" &&
	cp "$sl_build/$krel/src/sockleak.ko" "$sl_build/$krel/faultmod/sockleak_holdref.ko" \
		"$mods/extra/" || fail "cannot copy the modules"
# (The host's depmod looks in lib/modules; the root's /lib is usr/lib.)
ln -s usr/lib "$ov/lib"
depmod -b "$ov" "$krel" || fail "depmod failed"
rm "$ov/lib"
cp "$helper" "$ov/usr/bin/sockleak" && cp -a "$ksft" "$ov/opt/ksft" ||
	fail "cannot copy the helper and the selftests"
# The hunt's negative: leaky (make selftests) leaks through holdref.
mkdir -p "$ov/opt/sockleak"
cp "$sl_build/ksft-install/sockleak/leaky" "$ov/opt/sockleak/" ||
	fail "no leaky: make selftests"
cp "$here/hunt-guest.sh" "$ov/init"
chmod 755 "$ov/init"
(cd "$ov" && find . | cpio -o -H newc --quiet) >"$work/overlay.cpio" &&
	cat "$sl_build/hunt/root.cpio" "$work/overlay.cpio" >"$work/initramfs.cpio" ||
	fail "cannot pack the initramfs"
rm -f "$work/overlay.cpio"

# No kmemleak on the console: the hunt reports what kmemleak finds.
cmdline="$sl_guest_cmdline slab_nomerge"
cmdline="$cmdline hunt_minutes=$minutes hunt_timeout=$tmo"
cmdline="$cmdline hunt_baseline=$([ "$baseline" = 0 ] && echo 0 || echo 1)"
[ -n "$tests" ] && cmdline="$cmdline hunt_tests=$tests"
rm -f "$results" "$console"
: >"$results"
# The last test may outlast the deadline by its time-out; a baseline
# takes hours at most.
limit=$(( minutes * 60 + 2 * tmo + 1200 ))
[ "$baseline" = 0 ] || limit=$(( limit + 4 * 3600 ))
echo "hunt: $krel, $minutes minutes, logs in $work" >&2
start=$(date +%s)
timeout --foreground -k 10 "$limit" qemu-system-x86_64 -nodefaults -no-user-config \
	-display none -accel tcg,thread=single -cpu max -smp 2 \
	-m "${SOCKLEAK_HUNT_MEM:-4096}" -no-reboot \
	-kernel "$vmlinux" -initrd "$work/initramfs.cpio" -append "$cmdline" \
	-serial "file:$console" -serial "file:$results" \
	</dev/null >"$work/qemu.log" 2>&1
qrc=$?
rm -f "$work/initramfs.cpio"
echo "$qrc" >"$work/qemu.rc"
echo $(( $(date +%s) - start )) >"$work/elapsed"
report

