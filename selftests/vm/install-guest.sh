#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install-guest.sh: the checks check-install.sh runs inside the booted
# Debian system, installed as /usr/local/sbin/sockleak-install-check and
# started by sockleak-install-check.service once the system is up (the
# unit is wanted from the kernel command line, systemd.wants=, so a
# normal boot of the image does not run it). The unit powers the guest
# off when this script returns.
#
# Kernel command line: slkernel=RELEASE (the kernel that must be running),
# slversion=VERSION (the packages' version), slinject=warn (harness
# self-test: a WARNING line written to the kernel log, which the host must
# report as a splat).
#
# Everything goes to ttyS1 (the kernel console is ttyS0): KTAP lines, then
# "SOCKLEAK-VM-DONE rc=N" (N = number of failed checks).
set -uo pipefail
exec </dev/null >/dev/ttyS1 2>&1

arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p"; }
want_kernel=$(arg slkernel)
want_version=$(arg slversion)
krel=$(uname -r)

n=0
fail=0
out=$(mktemp)
# check DESC CMD...: one KTAP line; on failure, CMD's output as diagnostics.
check() {
	local desc=$1
	shift
	n=$((n + 1))
	if "$@" >"$out" 2>&1; then
		echo "ok $n $desc"
	else
		sed 's/^/# /' "$out"
		echo "not ok $n $desc"
		fail=$((fail + 1))
	fi
}
# is GOT WANT: fails, printing both, when they differ.
is() {
	[ "$1" = "$2" ] && return 0
	echo "got '$1', want '$2'"
	return 1
}

echo "TAP version 13"
echo "# kernel $krel, $(systemctl is-system-running 2>&1), up $(cut -d' ' -f1 /proc/uptime)s"

check "running kernel is $want_kernel" is "$krel" "$want_kernel"

# Loaded at boot by systemd-modules-load from /etc/modules-load.d/. Its
# messages can precede journald (then read from kmsg, without the unit's
# name): look them up by their identifier.
loaded_at_boot() {
	local j
	systemctl show -p ActiveState -p Result systemd-modules-load.service
	is "$(systemctl show -P Result systemd-modules-load.service)" success || return 1
	j=$(journalctl -b -o cat -t systemd-modules-load)
	echo "$j"
	grep -q "Inserted module 'sockleak'" <<<"$j"
}
check "systemd-modules-load loaded sockleak at boot" loaded_at_boot
check "sockleak is loaded (lsmod, /sys/module/sockleak)" \
	sh -c 'lsmod | grep "^sockleak " && test -d /sys/module/sockleak'

# modinfo -n: the file modprobe picks, DKMS's copy for this kernel.
from_dkms() {
	local f
	f=$(modinfo -n sockleak) || return 1
	echo "$f"
	case $f in
	/lib/modules/"$krel"/updates/dkms/sockleak.ko*|/usr/lib/modules/"$krel"/updates/dkms/sockleak.ko*) ;;
	*) return 1 ;;
	esac
	is "$(cat /sys/module/sockleak/version)" "$want_version"
}
check "the module is DKMS's build for $krel, version $want_version" from_dkms

check "track=1 from /etc/modprobe.d/sockleak.conf reached the module" \
	is "$(cat /sys/module/sockleak/parameters/track)" Y

debugfs=/sys/kernel/debug
mountpoint -q $debugfs || mount -t debugfs debugfs $debugfs
check "control shows track=on" grep -x track=on $debugfs/sockleak/control

# The helper, on PATH, from the sockleak package.
helper_installed() {
	is "$(command -v sockleak)" /usr/bin/sockleak &&
	dpkg -S /usr/bin/sockleak
}
check "sockleak is /usr/bin/sockleak from the package" helper_installed

helper_report() {
	local rc=0
	sockleak >"$out.report" 2>&1 || rc=$?
	cat "$out.report"
	is "$rc" 0 || return 1
	grep -Eq '^tcp: [0-9]+ pages? \(.*\):.* unexplained' "$out.report" &&
	grep -Eq '^udp: [0-9]+ pages? \(.*\):.* unexplained' "$out.report" &&
	grep -Eq '^(no suspects|[0-9]+ suspects? )' "$out.report"
}
check "sockleak prints the headline and the suspects (exit 0)" helper_report
sed 's/^/#   /' "$out.report"

helper_version() {
	sockleak version >"$out.version" || return 1
	cat "$out.version"
	is "$(awk '$1 == "helper" { print $2 }' "$out.version")" "$want_version" &&
	is "$(awk '$1 == "module" { print $2 }' "$out.version")" "$want_version" &&
	is "$(awk '$1 == "built_for" { print $2 }' "$out.version")" "$krel" &&
	is "$(awk '$1 == "running" { print $2 }' "$out.version")" "$krel"
}
check "sockleak version: helper and module $want_version, built for $krel" helper_version

check "man -w sockleak finds the man page" \
	is "$(man -w sockleak)" /usr/share/man/man8/sockleak.8.gz

if [ "$(arg slinject)" = warn ]; then
	echo "WARNING: CPU: 0 PID: $$ at check-install: injected by slinject=warn" >/dev/kmsg
fi
echo "# tainted: $(cat /proc/sys/kernel/tainted)"
failed=$(systemctl --failed --no-legend --plain | awk '{ print $1 }' | tr '\n' ' ')
echo "# failed units: ${failed:-none}"
echo "1..$n"
echo "SOCKLEAK-VM-DONE rc=$fail"
rm -f "$out" "$out".*
sync
