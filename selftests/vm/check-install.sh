#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-install.sh: what "make check-install" runs after "make deb". The
# Debian packages (build/deb/) installed the way a Debian user installs
# an out-of-tree module, and proven in a booted Debian system under QEMU
# across a kernel upgrade:
#
#   1. the pristine root (install-root.sh: bookworm with systemd, the 6.1
#      kernel and its headers, DKMS; cached) copied to
#      build/check-install/SUITE/root, with the guest's checks
#      (install-guest.sh) and their systemd unit; its file list taken;
#   2. in a chroot with no network: apt-get install ./sockleak-dkms_*.deb
#      ./sockleak_*.deb; DKMS must have built and installed the module for
#      the installed kernel;
#   3. the user's configuration: sockleak in /etc/modules-load.d/ (the
#      packaged example), "options sockleak track=1" uncommented in
#      /etc/modprobe.d/sockleak.conf;
#   4. the root packed as an ext4 image (mkfs.ext4 -d) and booted with its
#      own kernel (PVH entry of the vmlinux inside /boot/vmlinuz) and
#      initramfs, root=/dev/vda; systemd runs the guest's checks once the
#      system is up (install-guest.sh: the module loaded at boot, tracking
#      on, the helper's report, the man page) and powers off;
#   5. the kernel upgrade, offline from the .debs the root was made with:
#      apt-get install linux-image-6.12-amd64 linux-headers-6.12-amd64;
#      DKMS must build the module for 6.12 with no user step;
#   6. step 4 again on the new kernel;
#   7. apt-get purge sockleak-dkms sockleak: no module on any kernel, no
#      DKMS state, and the root's file list equal to step 1's but for
#      logs, apt/dpkg state, caches, the kernel upgrade's own files and
#      what DKMS keeps for every module (its signing key): every
#      remaining new file is listed with the reason it may stay.
#
# Like run.sh, a boot fails on any kernel splat in the console (ttyS0),
# on a failed guest check (ttyS1), on a timeout or a missing end marker.
# Prints KTAP lines with each step's time, a time table and a last line
# "check-install: N passed, N failed"; exit status non-zero on any
# failure. Logs: build/check-install/SUITE/. SOCKLEAK_INSTALL_SUITE=sid
# runs the same on sid (install-lib.sh). SOCKLEAK_INSTALL_INJECT=warn is
# the harness's self-test: the first guest writes a WARNING line to the
# kernel log, and that boot must fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/install-lib.sh"
export LC_ALL=C

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$sl_top/dkms.conf")
arch=$(dpkg --print-architecture)
deb_dkms=$sl_build/deb/sockleak-dkms_${ver}_all.deb
deb_tool=$sl_build/deb/sockleak_${ver}_$arch.deb
vm_timeout=${SOCKLEAK_VM_TIMEOUT:-600}
inject=${SOCKLEAK_INSTALL_INJECT:-}
work=$il_work
root=$work/root
# The harness's own files in the guest (not the packages').
guest_check=/usr/local/sbin/sockleak-install-check
guest_unit=/etc/systemd/system/sockleak-install-check.service

# The kernel splat regex: run.sh's own (suites.sh), so both harnesses
# judge alike.
splat_re=$sl_splat_re

if [ "$(id -u)" != 0 ]; then
	echo "check-install: must be root (debootstrap, chroot, unshare)" >&2
	exit 2
fi
for f in "$deb_dkms" "$deb_tool"; do
	[ -e "$f" ] || { echo "check-install: no $f (make deb)" >&2; exit 2; }
done
for p in qemu-system-x86_64 mkfs.ext4 debootstrap unshare; do
	command -v $p >/dev/null || { echo "check-install: no $p (make deps)" >&2; exit 2; }
done

mkdir -p "$work"
rm -f "$work"/step-*.log
n=0
fail=0
times=()
t_all=$(date +%s)

# step DESC FUNC [ARGS...]: run FUNC (output to its log), print one KTAP
# line with the time it took; on failure, the end of its log. A step
# function checks each command itself (errexit does not apply in a
# condition).
step() {
	local desc=$1 fn=$2 t0 t rc=0 log
	shift 2
	n=$((n + 1))
	log=$work/step-$n.log
	t0=$(date +%s)
	"$fn" "$@" >"$log" 2>&1 || rc=$?
	t=$(( $(date +%s) - t0 ))
	times+=("$(printf '%4ds  %s' "$t" "$desc")")
	if [ $rc = 0 ]; then
		echo "ok $n $desc (${t}s)"
	else
		tail -n 40 "$log" | sed 's/^/# /'
		echo "not ok $n $desc (${t}s, log: $log)"
		fail=$((fail + 1))
	fi
	return $rc
}

finish() {
	echo "1..$n"
	echo "# time per step:"
	printf '#   %s\n' "${times[@]}"
	echo "check-install ($il_suite): $((n - fail)) passed, $fail failed ($(( $(date +%s) - t_all ))s)"
	[ $fail = 0 ] && exit 0
	exit 1
}

# The root's file list: type and path, /proc, /sys, /dev, /run and /tmp
# left out (mount points, scratch). find does not follow the usr-merge
# links (/lib -> usr/lib...): files are listed under /usr only.
file_list() {
	(cd "$root" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev \
		-o -path ./run -o -path ./tmp \) -prune -o -printf '%y %p\n') |
		sed 's|^\(.\) \.|\1 |' | sort -k2
}

# Paths owned by the installed packages, usr-merge aliases resolved.
owned_paths() {
	cat "$root"/var/lib/dpkg/info/*.list |
		sed -E 's#^/(bin|sbin|lib|lib32|lib64|libx32)(/|$)#/usr/\1\2#' |
		sort -u
}

# 1. The root, a fresh copy of the pristine one, with the guest's checks.
prepare_root() {
	local base
	base=$("$here/install-root.sh") || return 1
	rm -rf "$root" && cp -a "$base" "$root" || return 1
	install -D -m 755 "$here/install-guest.sh" "$root$guest_check" &&
	cat >"$root$guest_unit" <<-EOF || return 1
	# check-install.sh: the checks of the installed sockleak packages.
	# Wanted from the kernel command line (systemd.wants=) only.
	[Unit]
	Description=sockleak check-install checks
	After=multi-user.target
	SuccessAction=poweroff
	FailureAction=poweroff

	[Service]
	Type=oneshot
	ExecStart=$guest_check
	EOF
	file_list >"$work/files-before.txt" &&
	owned_paths >"$work/owned-before.txt" &&
	echo "root: $root, kernel $(il_kernels "$root" | tr '\n' ' ')"
}

# 2. apt-get install ./sockleak-dkms_*.deb ./sockleak_*.deb, offline.
install_debs() {
	local k
	rm -rf "$root/tmp/debs" && mkdir -p "$root/tmp/debs" &&
	cp "$deb_dkms" "$deb_tool" "$root/tmp/debs/" &&
	chmod -R a+rX "$root/tmp/debs" &&
	il_chroot --offline "$root" sh -c "cd /tmp/debs && apt-get install -y \
		./${deb_dkms##*/} ./${deb_tool##*/}" || return 1
	rm -rf "$root/tmp/debs"
	for k in $(il_kernels "$root"); do
		dkms_installed "$k" || return 1
	done
}

# dkms_installed KREL: DKMS built and installed sockleak for KREL.
dkms_installed() {
	local st
	st=$(il_chroot --offline "$root" dkms status -m sockleak -v "$ver" -k "$1") || return 1
	echo "dkms status: $st"
	case $st in
	*"sockleak/$ver, $1, $arch: installed"*|*"sockleak/$ver, $1, x86_64: installed"*) ;;
	*) echo "sockleak/$ver is not installed for $1"; return 1 ;;
	esac
	ls -l "$root"/var/lib/dkms/sockleak/"$ver/$1"/*/module/sockleak.ko* &&
	ls -l "$root"/usr/lib/modules/"$1"/updates/dkms/sockleak.ko*
}

# 3. What the user configures: load at boot, track from the start.
configure() {
	local conf=$root/etc/modprobe.d/sockleak.conf
	cp "$root/usr/share/doc/sockleak/examples/modules-load.d-sockleak.conf" \
		"$root/etc/modules-load.d/sockleak.conf" &&
	grep -x '# options sockleak track=1' "$conf" &&
	sed -i 's/^# options sockleak track=1$/options sockleak track=1/' "$conf" &&
	grep -x 'options sockleak track=1' "$conf"
}

# 4. boot KREL: pack the root, boot it on KREL, judge the run. The guest's
# KTAP lines are reported as diagnostics here and counted by the caller.
boot() {
	local krel=$1 img=$work/disk.img vmlinux=$work/vmlinux-$1 bw=$work/boot-$1
	local console=$bw/console.log results=$bw/results.log cmdline qrc=0 t0 splat
	mkdir -p "$bw"
	rm -f "$img" "$console" "$results"
	t0=$(date +%s)
	mkfs.ext4 -q -F -L sockleak-root -d "$root" "$img" 8G || return 1
	echo "image: $(du -h "$img" | cut -f1) in $(( $(date +%s) - t0 ))s"
	"$here/extract-vmlinux.sh" "$root/boot/vmlinuz-$krel" "$vmlinux" || return 1
	cmdline="root=/dev/vda rw $sl_guest_cmdline systemd.wants=${guest_unit##*/}"
	cmdline="$cmdline slkernel=$krel slversion=$ver${2:+ slinject=$2}"
	: >"$results"
	t0=$(date +%s)
	timeout --foreground -k 10 "$vm_timeout" qemu-system-x86_64 \
		-nodefaults -no-user-config -display none \
		-accel tcg,thread=single -cpu max -smp 2 -m 2048 -no-reboot \
		-kernel "$vmlinux" -initrd "$root/boot/initrd.img-$krel" \
		-append "$cmdline" \
		-drive file="$img",if=virtio,format=raw \
		-serial file:"$console" -serial file:"$results" \
		</dev/null >"$bw/qemu.log" 2>&1 || qrc=$?
	echo "boot and checks: $(( $(date +%s) - t0 ))s, qemu rc=$qrc"
	rm -f "$img"
	tr -d '\r' <"$results" >"$results.txt"
	sl_console_txt "$console"
	sed 's/^/| /' "$results.txt"
	splat=$(grep -E -m 5 "$splat_re" "$console.txt" || true)
	if [ -n "$splat" ]; then
		echo "kernel splat in $console:"
		grep -E -B 2 -A 30 -m 1 "$splat_re" "$console.txt"
		return 1
	fi
	if [ $qrc = 124 ] || [ $qrc = 137 ]; then
		echo "timeout after ${vm_timeout}s; console:"
		tail -n 30 "$console.txt"
		return 1
	fi
	if ! grep -q '^SOCKLEAK-VM-DONE ' "$results.txt"; then
		echo "guest died before the end marker; console:"
		tail -n 30 "$console.txt"
		return 1
	fi
	grep -q '^SOCKLEAK-VM-DONE rc=0$' "$results.txt" &&
	! grep -q '^not ok ' "$results.txt"
}

# boot_step KREL: the boot as one step, then each guest check as one line.
boot_step() {
	local krel=$1 line rc=0
	step "boot $krel in QEMU: systemd, module at boot, clean console" \
		boot "$krel" ${2:+"$2"} || rc=1
	# The guest's own results, renumbered into this run's KTAP.
	while IFS= read -r line; do
		case $line in
		"ok "*)
			n=$((n + 1))
			echo "ok $n $krel: ${line#ok [0-9]* }"
			;;
		"not ok "*)
			n=$((n + 1))
			fail=$((fail + 1))
			echo "not ok $n $krel: ${line#not ok [0-9]* }"
			;;
		"# "*) echo "$line" ;;
		esac
	done < <(cat "$work/boot-$krel/results.log.txt" 2>/dev/null || true)
	return $rc
}

# 5. The kernel upgrade, offline, from the root's own cache of .debs.
upgrade_kernel() {
	# shellcheck disable=SC2046
	il_chroot --offline "$root" apt-get install -y --no-install-recommends \
		-o Dir::Cache::Archives="$il_debs/" $(il_upgrade_packages) || return 1
	new_kernel=$(comm -13 <(echo "$old_kernels") <(il_kernels "$root") | tail -1)
	[ -n "$new_kernel" ] || { echo "no new kernel in /boot"; return 1; }
	echo "new kernel: $new_kernel"
}

# 7. Purge, then nothing of sockleak may remain.
purge() {
	il_chroot --offline "$root" apt-get purge -y sockleak-dkms sockleak
}

nothing_of_sockleak() {
	local bad=0 f
	f=$(find "$root/usr/lib/modules" -name 'sockleak*.ko*')
	[ -z "$f" ] || { echo "modules left: $f"; bad=1; }
	for f in "$root"/var/lib/dkms/sockleak "$root"/usr/src/sockleak-* \
		 "$root"/etc/modprobe.d/sockleak.conf "$root"/usr/bin/sockleak \
		 "$root"/usr/share/man/man8/sockleak.8.gz \
		 "$root"/usr/share/doc/sockleak "$root"/usr/share/doc/sockleak-dkms; do
		[ ! -e "$f" ] || { echo "left: ${f#"$root"}"; bad=1; }
	done
	f=$(grep -l -w sockleak "$root"/usr/lib/modules/*/modules.dep || true)
	[ -z "$f" ] || { echo "in modules.dep: $f"; bad=1; }
	f=$(il_chroot --offline "$root" dkms status sockleak)
	[ -z "$f" ] || { echo "dkms status: $f"; bad=1; }
	f=$(il_chroot --offline "$root" dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' \
		'sockleak*' 2>/dev/null || true)
	[ -z "$f" ] || { echo "dpkg: $f"; bad=1; }
	echo "kernels: $(il_kernels "$root" | tr '\n' ' ')"
	return $bad
}

# Every path of the root now that was not there before the install and
# that no installed package owns: each must be explained, else it fails.
# The user's /etc/modules-load.d/sockleak.conf is theirs to remove
# (dpkg never owned it): removed first, as the user would.
no_file_left() {
	local bad=0 type path why
	rm -f "$root/etc/modules-load.d/sockleak.conf"
	file_list >"$work/files-after.txt"
	owned_paths >"$work/owned.txt"
	echo "files before install: $(wc -l <"$work/files-before.txt"), after purge: $(wc -l <"$work/files-after.txt")"
	comm -13 <(cut -d' ' -f2- "$work/files-after.txt" | sort) \
		 <(cut -d' ' -f2- "$work/files-before.txt" | sort) >"$work/files-gone.txt"
	comm -23 <(sort -k2 "$work/files-after.txt" | cut -d' ' -f2- | sort) \
		 <(cut -d' ' -f2- "$work/files-before.txt" | sort) |
		comm -23 - "$work/owned.txt" >"$work/files-new.txt"
	while IFS= read -r path; do
		why=""
		case $path in
		/var/log/*) why="log" ;;
		/var/lib/dpkg/*|/var/lib/apt/*|/var/cache/*) why="apt/dpkg state or cache" ;;
		/var/tmp/*) why="temporary" ;;
		/var/lib/dkms/mok.key|/var/lib/dkms/mok.pub)
			why="DKMS's module signing key, made at the first build, shared by every DKMS module, kept by design" ;;
		/boot/initrd.img-"$new_kernel"|/var/lib/initramfs-tools/"$new_kernel")
			why="kernel upgrade: the new kernel's initramfs" ;;
		/boot/*-"$new_kernel")
			why="kernel upgrade: copied to /boot by the new kernel's postinst (7.x)" ;;
		/usr/lib/modules/"$new_kernel"/modules.*)
			why="kernel upgrade: depmod's files for the new kernel" ;;
		/vmlinuz|/vmlinuz.old|/initrd.img|/initrd.img.old|/boot/vmlinuz.old|/boot/initrd.img.old)
			why="kernel upgrade: linux-update-symlinks" ;;
		esac
		if [ -n "$why" ]; then
			echo "remains (ok): $path: $why"
		else
			type=$(awk -v p="$path" '$2 == p { print $1 }' "$work/files-after.txt")
			echo "LEFT BEHIND: $path (type $type)"
			bad=1
		fi
	done <"$work/files-new.txt"
	# Gone: only files of packages the kernel upgrade upgraded (sid's
	# linux-libc-dev) may go.
	comm -12 "$work/files-gone.txt" "$work/owned-before.txt" |
		sed 's/^/gone (ok): upgraded package no longer ships: /'
	while IFS= read -r path; do
		case $path in
		/var/log/*|/var/lib/dpkg/*|/var/lib/apt/*|/var/cache/*) ;;
		*) echo "GONE: $path (was there before the install, no package's)"; bad=1 ;;
		esac
	done < <(comm -23 "$work/files-gone.txt" "$work/owned-before.txt")
	# No file still names the module (the harness's own files aside).
	path=$(cd "$root" && grep -rlw sockleak etc usr/lib/modules usr/src \
		usr/share/man var/lib 2>/dev/null |
		grep -v -E '^(var/lib/dpkg|var/lib/apt)/' |
		grep -v -x -e "${guest_unit#/}" -e "${guest_check#/}" || true)
	if [ -n "$path" ]; then
		echo "still naming sockleak: $path"
		bad=1
	fi
	return $bad
}

echo "TAP version 13"
echo "# check-install: sockleak $ver, $il_suite, $(basename "$deb_dkms") $(basename "$deb_tool")"
step "root: pristine $il_suite root copied, guest checks added" prepare_root || finish
old_kernels=$(il_kernels "$root")
new_kernel=""
k1=$(echo "$old_kernels" | tail -1)
step "apt-get install ./sockleak-dkms ./sockleak (offline): DKMS built for $k1" \
	install_debs || finish
step "configure: modules-load.d, options sockleak track=1" configure || finish
boot_step "$k1" $inject || true
step "kernel upgrade (offline): $(il_upgrade_packages)" upgrade_kernel || finish
step "DKMS built sockleak for $new_kernel with no user step" \
	dkms_installed "$new_kernel" || true
boot_step "$new_kernel" || true
step "apt-get purge sockleak-dkms sockleak (offline)" purge || finish
step "no sockleak module, DKMS state or package file left on any kernel" \
	nothing_of_sockleak || true
step "file list after purge = before install (but for logs, state, caches)" \
	no_file_left || true
# What remains, by reason; the few that are not logs, state or caches
# by name.
sed -n 's/^remains (ok): [^:]*: //p' "$work/step-$n.log" | sort | uniq -c |
	sed 's/^ *\([0-9]*\) /# remains: \1 file(s): /'
grep '^remains (ok): ' "$work/step-$n.log" |
	grep -v -E ': (log|apt/dpkg state or cache|temporary)$' |
	sed 's/^remains (ok): /#   /'
finish
