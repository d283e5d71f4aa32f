#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [--mode test|demo|shell|netsel] [--inject fail|warn] [--timeout SEC]
#        [--script FILE] [--only TEST]... [--env NAME=VALUE]...
#        [--tree KERNEL_TREE] KREL
#
# Build sockleak for kernel release KREL (in its suite's chroot), pack an
# initramfs, boot the Debian kernel (kernel-prep.sh: unpacked from its
# .debs, never installed on the host) under QEMU (TCG, PVH entry of the uncompressed vmlinux) and
# judge the run. --script FILE runs FILE in the guest instead of the demo;
# --only TEST runs only that selftest; --env NAME=VALUE is passed to the
# guest's environment (e.g. STRESS_SECONDS=300). Logs go to build/vm/KREL[-inject]/: console.log is the
# kernel console (ttyS0), results.log what the guest printed (ttyS1).
#
# Exit status 0 only when: the guest printed "SOCKLEAK-VM-DONE rc=0", every
# KTAP result is "ok" (or SKIP), and the kernel console holds no splat
# (WARNING, BUG, Oops, KASAN, UBSAN, lockdep, RCU stall, soft lockup, hung
# task, panic, kmemleak). The last line printed is one summary line:
#   vm KREL: PASS|FAIL passed=N failed=N [reason]
set -uo pipefail

mode=test
inject=""
tree=""
only=""
guest_env=""
vm_timeout=${SOCKLEAK_VM_TIMEOUT:-1500}
while [ $# -gt 1 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--inject) inject=$2; shift 2 ;;
	--timeout) vm_timeout=$2; shift 2 ;;
	--tree) tree=$(realpath "$2"); shift 2 ;;
	--only) only="${only:+$only,}$2"; shift 2 ;;
	--env) guest_env="$guest_env $2"; shift 2 ;;
	--script) export SOCKLEAK_DEMO_SCRIPT=$(realpath "$2"); mode=demo; shift 2 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
krel=${1:?usage: run.sh [--mode M] [--inject X] KREL}

# --tree: a self-built kernel (make check-debug); KREL is then a label.
if [ -n "$tree" ]; then
	export SOCKLEAK_KDIR=$tree
	krel=$(cat "$tree/include/config/kernel.release")
fi

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/suites.sh"
build=${SOCKLEAK_BUILD:-$top/build}
# (make demo builds for the headers demo-prep.sh unpacked: its own directory.)
kbuild=$build/$krel${SOCKLEAK_HEADERS:+-headers}
work=$build/vm/$krel${inject:+-inject-$inject}${mode:+-$mode}
# The installed selftests (make selftests); make demo's own (demo-prep.sh).
ksft=${SOCKLEAK_KSFT:-$build/ksft-install}
mkdir -p "$kbuild" "$work"

summary() {
	echo "vm $krel${inject:+ (inject $inject)}: $*"
}

# 1. The module, built for this kernel.
if ! "$here/build-module.sh" "$krel" "$kbuild" >"$work/build.log" 2>&1; then
	cat "$work/build.log"
	summary "FAIL passed=0 failed=1 module build failed"
	exit 1
fi

# 2. The uncompressed vmlinux (PVH entry): the self-built tree's, or the
# one kernel-prep.sh extracted from the Debian image.
if [ -n "$tree" ]; then
	vmlinux=$tree/vmlinux
	# A KASAN kernel may not survive the PVH entry (7.3's runs the
	# instrumented memcmp() before the KASAN shadow exists): its bzImage
	# boots through the decompressor.
	[ -e "$tree/arch/x86/boot/bzImage" ] && vmlinux=$tree/arch/x86/boot/bzImage
elif kd=$("$here/kernel-prep.sh" "$krel" 2>>"$work/build.log"); then
	vmlinux=$kd/vmlinux
else
	tail -n 20 "$work/build.log"
	summary "FAIL passed=0 failed=1 cannot prepare the kernel"
	exit 1
fi

# 3. The initramfs (--mode netsel: with the kernel's net selftests).
if [ "$mode" = netsel ]; then
	if ! SOCKLEAK_NETSEL=$("$here/netsel.sh" 2>>"$work/build.log"); then
		tail -n 20 "$work/build.log"
		summary "FAIL passed=0 failed=1 cannot build the net selftests"
		exit 1
	fi
	export SOCKLEAK_NETSEL
fi
if [ ! -d "$ksft" ]; then
	summary "FAIL passed=0 failed=1 selftests not built (make selftests)"
	exit 1
fi
if ! "$here/mkinitramfs.sh" "$krel" "$kbuild" "$ksft" "$work/initramfs.cpio" \
	"$inject" >"$work/mkinitramfs.log" 2>&1; then
	cat "$work/mkinitramfs.log"
	summary "FAIL passed=0 failed=1 cannot pack initramfs"
	exit 1
fi

# 4. Boot (suites.sh: sl_guest_cmdline).
cmdline="$sl_guest_cmdline slmode=$mode${only:+ sltests=$only}$guest_env"
# make profile: its plugin (SOCKLEAK_VM_QEMU_ARGS) and nokaslr
# (SOCKLEAK_VM_APPEND), so that System.map names the guest's addresses.
cmdline="$cmdline${SOCKLEAK_VM_APPEND:+ $SOCKLEAK_VM_APPEND}"
# The 7.3 KASAN kernel hit "KASAN: wild-memory-access" in an early edge
# interrupt (identify_cpu(), before any module) in 4 of 12 boots with
# 5-level paging (QEMU's -cpu max has la57), none in 10 with no5lvl.
[ -n "$tree" ] && cmdline="$cmdline no5lvl"
console=$work/console.log
results=$work/results.log
rm -f "$console" "$results"
: >"$results"
if [ "$mode" = shell ]; then
	serial2="-serial stdio"
	tmo=""
else
	serial2="-serial file:$results"
	tmo="timeout --foreground -k 10 $vm_timeout"
fi
start=$(date +%s)
# shellcheck disable=SC2086
$tmo qemu-system-x86_64 -nodefaults -no-user-config -display none \
	-accel tcg,thread=${SOCKLEAK_TCG_THREAD:-single} -cpu max -smp 2 -m ${SOCKLEAK_VM_MEM:-2048} \
	${SOCKLEAK_VM_ICOUNT:+-icount shift=$SOCKLEAK_VM_ICOUNT,sleep=off} \
	${SOCKLEAK_VM_QEMU_ARGS:-} \
	-no-reboot -kernel "$vmlinux" -initrd "$work/initramfs.cpio" \
	-append "$cmdline" -serial "file:$console" $serial2 \
	</dev/null >"$work/qemu.log" 2>&1
qrc=$?
elapsed=$(( $(date +%s) - start ))

# 5. Judge.
tr -d '\r' <"$results" >"$results.txt"
# The command line echoes option names (panic_on_warn...): not a splat.
sl_console_txt "$console"
if [ "$mode" != test ]; then
	cat "$results.txt"
fi

splat_re=$sl_splat_re
splat=$(grep -E -m 5 "$splat_re" "$console.txt")

# Count leaf results: a program's subtests ("# ok N ...") when it has
# any, else the program's own line; a program that fails after passing
# subtests (crash, timeout) adds one failure.
read -r passed failed < <(awk '
	/^# ok [0-9]+ /     { sp++; next }
	/^# not ok [0-9]+ / { sf++; next }
	/^ok [0-9]+ /       { if (sp + sf) { p += sp; f += sf } else p++; sp = sf = 0; next }
	/^not ok [0-9]+ /   { if (sp + sf) { p += sp; f += sf } ; if (!sf) f++; sp = sf = 0; next }
	END { print p + 0, f + 0 }' "$results.txt")
# Nested subtest lines ("# ok 3 ...") are shown for the log reader.
grep -E '^(not )?ok [0-9]+ |^# (not )?ok [0-9]+ ' "$results.txt" |
	sed 's/^/    /'

reason=""
if [ -n "$splat" ]; then
	echo "--- kernel splat in $console:"
	sl_show_splat "$console.txt" "$splat_re"
	reason="kernel splat: $(echo "$splat" | head -1 | sed 's/^\[[ 0-9.]*\] //')"
elif [ $qrc = 124 ] || [ $qrc = 137 ]; then
	reason="timeout after ${vm_timeout}s"
elif ! grep -q '^SOCKLEAK-VM-DONE ' "$results.txt"; then
	reason="guest died before the end marker (qemu rc=$qrc)"
elif ! grep -q '^SOCKLEAK-VM-DONE rc=0$' "$results.txt"; then
	reason="guest reported $(grep '^SOCKLEAK-VM-DONE ' "$results.txt")"
elif { [ "$mode" = test ] || [ "$mode" = netsel ]; } && [ "$passed" = 0 ] && [ "$failed" = 0 ]; then
	reason="no test ran"
fi
if [ "$failed" != 0 ] && [ -z "$reason" ]; then
	reason="$failed test(s) failed"
fi

if [ -n "$reason" ]; then
	# What each failed test said just before failing (its last 12
	# lines since the previous result), then where the run ended.
	if [ "$mode" = test ] && [ -z "$splat" ]; then
		awk '/^(# )?(not )?ok [0-9]+ / {
			if ($0 ~ /^(# )?not ok/) {
				for (i = (n > 12 ? n - 12 : 0); i < n; i++)
					print buf[i % 12]
				print
			}
			n = 0
			next
		}
		{ buf[n++ % 12] = $0 }' "$results.txt" | sed 's/^/  | /'
		echo "  | ... the run's last lines:"
		tail -n 20 "$results.txt" | sed 's/^/  | /'
	fi
	summary "FAIL passed=$passed failed=$failed $reason (${elapsed}s, logs in $work)"
	exit 1
fi
summary "PASS passed=$passed failed=$failed (${elapsed}s)"
exit 0
