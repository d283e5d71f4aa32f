#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# "make profile", inside the guest (run.sh --script, under the tcgprof
# plugin, see profile-run.sh): churn phases between marks. A mark is a
# setdomainname() call (sltool mark): the plugin writes the instruction
# counts since the previous mark to its next file. Prints
#   PROFILE file=N phase=NAME count=C unit=U
# for each measured phase (N: the plugin's file of that phase), and the
# kernel's and modules' text symbols (PROFILE-SYM lines) for the host's
# report.
T=/selftests/sockleak/sltool
SL=/sys/kernel/debug/sockleak
SECONDS_=${PROFILE_SECONDS:-2}
MODES=${PROFILE_MODES:-loaded:tracking:tracking_nostacks}
[ "$MODES" = - ] && MODES=	# PROFILE_MODES=-: the reads only
READ=${PROFILE_READ:-10000}
n=0

mark() {
	$T mark
	n=$((n + 1))
}
setup() {
	case $1 in
	loaded)
		echo track=off >$SL/control
		;;
	tracking)
		printf 'track=off\nstacks=1\nstack_depth=8\nstack_filter=off\ntrack=on\n' >$SL/control
		;;
	tracking_all)
		printf 'track=off\nstacks=2\nstack_depth=8\nstack_filter=off\ntrack=on\n' >$SL/control
		;;
	tracking_nostacks)
		printf 'track=off\nstacks=0\nstack_filter=off\ntrack=on\n' >$SL/control
		;;
	esac
}
# measure NAME CMD...: one phase, between two marks.
measure() {
	name=$1
	shift
	"$@" 1 >/dev/null	# unmeasured (see bench.sh: the run after a
	$T settle 120		# track=on/off cycle is slower)
	mark
	c=$("$@" "$SECONDS_")
	mark
	echo "PROFILE file=$((n - 1)) phase=$name count=$c"
}

echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range
modprobe sockleak || exit 1
$T churn 1 >/dev/null
for m in $(echo "$MODES" | tr : " "); do
	setup "$m" || exit 1
	# ftrace's trampolines for sockleak's hooks exist while tracking is
	# on (their symbols are gone by the end): named now, as the probe
	# machinery they are.
	awk '$4 == "[__builtin__ftrace]" { print "PROFILE-SYM", $1, $3, $4 }' \
		/proc/kallsyms
	if [ "$m" = tracking ]; then
		# The run right after track=on (bench.sh measures this one).
		mark
		c=$($T churn "$SECONDS_")
		mark
		echo "PROFILE file=$((n - 1)) phase=tcp_first_$m count=$c"
	fi
	measure "tcp_$m" $T churn
	measure "unix_$m" $T unix-churn
done
echo track=off >$SL/control

# read NAME FILE...: one read of the files (after an unmeasured one).
read_phase() {
	name=$1
	shift
	cat "$@" >/dev/null
	mark
	cat "$@" >/dev/null
	mark
	echo "PROFILE file=$((n - 1)) phase=read_$name count=$socks"
}
if [ "$READ" -gt 0 ]; then
	echo 0 >/proc/sys/net/ipv4/tcp_max_tw_buckets
	echo 2000000 >/proc/sys/fs/nr_open
	echo "max_entries=$((READ + READ / 8 + 4096))" >$SL/control
	echo track=on >$SL/control || exit 1
	rm -f /tmp/hold /tmp/ready
	mkfifo /tmp/hold
	$T pairs "$((READ / 2))" 16 </tmp/hold >/tmp/ready &
	exec 9>/tmp/hold
	while ! grep -q ready /tmp/ready 2>/dev/null; do
		sleep 1
		kill -0 $! 2>/dev/null || { echo "pairs failed"; exit 1; }
	done
	# The TCP sockets both files list (listeners and both ends).
	socks=$(($(cat /proc/net/tcp /proc/net/tcp6 | grep -vc local_address)))
	read_phase sockets $SL/sockets
	read_phase proc_tcp /proc/net/tcp /proc/net/tcp6
	kill $! 2>/dev/null
	exec 9>&-
	wait
	echo track=off >$SL/control
fi
# Debian's System.map is a placeholder: the guest's own symbols (nokaslr:
# the addresses the plugin saw).
awk '$2 ~ /^[tTwW]$/ { print "PROFILE-SYM", $1, $3, $4 }' /proc/kallsyms
