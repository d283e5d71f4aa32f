#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: what "make check" runs after building the tools and selftests.
#
#  1. host: the helper's unit tests; checkpatch on the kernel sources
#  2. per kernel of the matrix (kernels.sh: 6.1, 6.1-rt, 6.12, 6.12-rt,
#     sid, experimental): W=1 build in the kernel's suite chroot, the VM
#     selftests, the harness self-tests (an injected failing test and
#     an injected kernel WARN must each make the VM run fail), and the
#     kernel's net selftests under sockleak (run.sh --mode netsel);
#     SOCKLEAK_CHECK_JOBS kernels at once (default: the number of CPUs)
#  3. dkms add/build for every kernel, in its suite's chroot
#  4. make demo's path (demo-prep.sh: its kernel's headers on the host, no
#     chroot): the demo boots, and the socket holdref leaks is `never`
#
# Prints per-kernel results and times and, last, "N passed, N failed". Exit status is
# non-zero when anything failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${SOCKLEAK_BUILD:-$top/build}
mkdir -p "$build"
log=$build/check.log
: >"$log"

total_pass=0
total_fail=0
results=()

# record NAME PASS FAIL
record() {
	if [ -n "${recfile:-}" ]; then
		printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$recfile"
		echo "== $1 ($2 passed, $3 failed)"
		return
	fi
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	local verdict=PASS
	[ "$3" != 0 ] && verdict=FAIL
	results+=("$(printf '%-4s %-58s %4d passed, %d failed' "$verdict" "$1" "$2" "$3")")
	echo "== $verdict $1 ($2 passed, $3 failed)"
}

# ktap NAME COMMAND...: run a KTAP-printing command, count its results.
ktap() {
	local name=$1 out p f rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	echo "$out" >>"$log"
	echo "$out" | grep -E '^not ok ' | sed 's/^/    /'
	p=$(echo "$out" | grep -c -E '^ok [0-9]+ ')
	f=$(echo "$out" | grep -c -E '^not ok [0-9]+ ')
	[ $rc != 0 ] && [ "$f" = 0 ] && f=1
	record "$name$(failed_names "$out" '^not ok [0-9]+ ')" "$p" "$f"
}

# failed_names OUTPUT REGEX: " (not ok: A; B; C)" for the first three
# lines matching REGEX, or nothing: the results list names what failed.
failed_names() {
	local names
	names=$(echo "$1" | grep -E "$2" | head -n 3 |
		sed -E 's/^[ #]*not ok [0-9]+ (selftests: sockleak: )?//' |
		cut -c1-80 | paste -sd ';' | sed 's/;/; /g')
	[ -n "$names" ] && echo " (not ok: $names)"
}

matrix=$("$here/kernels.sh" --names) || exit 2
kernels=$(echo "$matrix" | awk '{ print $2 }')
echo "check: kernels:"
echo "$matrix" | sed 's/^/  /'

# 1. Host side.
ktap "host: helper unit tests" make -s -C "$top/tools" test
ktap "host: the shell selftests' helpers under busybox" "$here/shlib-check.sh"

checkpatch() {
	local cp=$build/ksft-tree/scripts/checkpatch.pl n=0 fail=0 f
	local files
	files=$(cd "$top" && ls module/*.[ch] selftests/vm/inject/*.c)
	echo "TAP version 13"
	echo "1..$(echo "$files" | wc -l)"
	for f in $files; do
		n=$((n + 1))
		# compat.h is the one place meant to test LINUX_VERSION_CODE.
		ignore=""
		[ "$f" = module/compat.h ] &&
			ignore="--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON"
		# shellcheck disable=SC2086
		if out=$(cd "$top" && perl "$cp" --no-tree --quiet $ignore -f "$f" 2>&1) &&
		   [ -z "$out" ]; then
			echo "ok $n checkpatch $f"
		else
			echo "$out" | sed 's/^/# /'
			echo "not ok $n checkpatch $f"
			fail=1
		fi
	done
	return $fail
}
ktap "host: checkpatch (module/, inject/)" checkpatch

# 2. Each kernel in a VM, with the harness self-tests. Each QEMU runs
# single-threaded TCG, so the kernels run in SOCKLEAK_CHECK_JOBS lanes
# (default: one per CPU); a kernel's own steps stay in order. A lane
# writes its records, log and screen output to $lanes/N.*, printed in
# the order they started in once every lane is done.
lanes=$build/check.lanes
rm -rf "$lanes"
mkdir -p "$lanes"
jobs=${SOCKLEAK_CHECK_JOBS:-$(nproc)}

# kernel_check N NAME KREL SUITE: every VM step for one kernel.
kernel_check() {
	local i=$1 name=$2 k=$3 suite=$4 kstart out line p f inj want
	# record() and ktap() of this lane write to its own files.
	log=$lanes/$i.log
	recfile=$lanes/$i.rec
	kstart=$(date +%s)
	out=$("$here/run.sh" "$k" 2>&1)
	echo "$out" >>"$log"
	echo "$out" | grep -E 'not ok|^vm |^---|^  \|' | head -90
	line=$(echo "$out" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.* passed=\([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
	case "$line" in
	*": PASS "*) record "$name ($k): VM selftests" "${p:-0}" "${f:-0}" ;;
	*) [ "${f:-0}" = 0 ] && f=1
	   record "$name ($k): VM selftests (${line#*: })$(failed_names "$out" '^[ #]*# not ok [0-9]+ ')" "${p:-0}" "$f" ;;
	esac

	for inj in fail warn; do
		case $inj in
		fail) want='FAIL .*test\(s\) failed' ;;
		warn) want='FAIL .*kernel splat: WARNING' ;;
		esac
		# Only the injected test: the full suite ran just above.
		out=$("$here/run.sh" --inject $inj --only inject_$inj.sh "$k" 2>&1)
		echo "$out" >>"$log"
		line=$(echo "$out" | tail -n 1)
		if echo "$line" | grep -q -E "$want"; then
			record "$name ($k): harness fails on injected $inj" 1 0
		else
			echo "    got: $line"
			record "$name ($k): harness fails on injected $inj" 0 1
		fi
	done
	# The kernel's net selftests under sockleak (netsel.sh).
	ktap "$name ($k): net selftests under sockleak" \
		"$here/run.sh" --mode netsel "$k"
	printf '%-14s %-28s %-13s %5ds\n' "$name" "$k" "$suite" \
		$(( $(date +%s) - kstart )) >"$lanes/$i.time"
}

# Longest first: the real-time kernels' suites take about 1.3x the
# others' (CI: 1050-1080 s against 750-845 s a kernel); started first,
# the two lanes end together (2674 s instead of 2881 s for those times).
order=$(echo "$matrix" | awk '$2 ~ /-rt-/' ; echo "$matrix" | awk '$2 !~ /-rt-/')
times=()
vmstart=$(date +%s)
n=0
while read -r name k suite <&3; do
	n=$((n + 1))
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	echo "-- $name ($k): started"
	( kernel_check $n "$name" "$k" "$suite" ) \
		>"$lanes/$n.out" 2>&1 </dev/null 3<&- &
done 3<<<"$order"
wait
vmtime=$(( $(date +%s) - vmstart ))
for i in $(seq 1 "$n"); do
	cat "$lanes/$i.out"
	[ -e "$lanes/$i.log" ] && cat "$lanes/$i.log" >>"$log"
	if [ -e "$lanes/$i.rec" ]; then
		while IFS=$'\t' read -r rname rp rf; do
			record "$rname" "$rp" "$rf"
		done <"$lanes/$i.rec"
	else
		record "kernel $i: no result (lane died)" 0 1
	fi
	[ -e "$lanes/$i.time" ] && times+=("$(cat "$lanes/$i.time")")
done

# 3. DKMS.
# shellcheck disable=SC2086
ktap "dkms add/build (all kernels)" "$here/dkms-check.sh" $kernels

# 4. make demo's own path.
demo_check() {
	local out krel hk ksft
	echo "TAP version 13"
	echo "1..1"
	if out=$("$here/demo-prep.sh" 2>&1) &&
	   read -r krel hk ksft <<<"$(echo "$out" | tail -n 1)" &&
	   out=$(SOCKLEAK_HEADERS=$hk SOCKLEAK_KSFT=$ksft \
		"$here/run.sh" --mode demo "$krel" 2>&1) &&
	   echo "$out" | grep -q -E '^tracked +[0-9a-f]+ +0 .* never +not_freed '; then
		echo "ok 1 make demo: $krel boots, holdref's socket is never freed"
	else
		echo "$out" | tail -n 20 | sed 's/^/# /'
		echo "not ok 1 make demo"
	fi
}
ktap "make demo's path (host-built module, no chroot)" demo_check

echo
echo "Time per kernel (build, VM selftests, harness self-tests, net selftests;"
echo "$jobs lanes, ${vmtime}s for all kernels):"
printf '  %s\n' "${times[@]}"
echo "Results (log: $log):"
printf '  %s\n' "${results[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
