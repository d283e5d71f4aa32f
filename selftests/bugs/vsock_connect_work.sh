# SPDX-License-Identifier: GPL-2.0
#
# An upstream socket reference leak, for revert.sh and revert-guest.sh
# (make check-reverted): 7e97cfed9929 ("vsock: Fix memory leak in
# vsock_connect()", Peilin Ye, v6.0; syzbot+b03f55bf128f9a38f064),
# Fixes: d021c344051a ("VSOCK: Introduce VM Sockets").
#
# vsock_connect(), for a non-blocking connect(), takes a reference on the
# socket for its connect timeout (connect_work), which puts it when it
# runs. Before the fix it was scheduled with schedule_delayed_work(): a
# second non-blocking connect() while the work was still pending took a
# second reference and scheduled nothing, and the work, which runs once,
# put one. The fix reschedules with mod_delayed_work() and puts the extra
# reference when the work was pending. repro/vsock_connect_work.c leaks
# one reference per round over vsock's loopback transport.

# The source directory of the modules the revert changes, and those of its
# modules the guest loads in place of the kernel's, in load order.
bug_dir=net/vmw_vsock
bug_modules="vsock vmw_vsock_virtio_transport_common vsock_loopback"
# The reproducer (installed with the selftests) and its arguments: three
# rounds, a connect timeout of 3 s.
bug_repro="vsock_connect_work 3 3000"
# watch_next's filter for the reproducer's sockets (the decoy, then the
# one that leaks), and the function that takes the reference never put.
bug_watch="family:vsock,count:2"
bug_taker=vsock_connect

# bug_revert: run in the root of the kernel's source; re-introduces the bug
# (the fix's one change, whatever workqueue the kernel names), and fails
# unless it changed exactly one place.
bug_revert() {
	perl -0 -i -pe '
		$n += s{if \(mod_delayed_work\(\w+,\s*&vsk->connect_work,\s*timeout\)\)\s*sock_put\(sk\);}
		       {schedule_delayed_work(&vsk->connect_work, timeout);}g;
		END { exit($n == 1 ? 0 : 1) }
	' net/vmw_vsock/af_vsock.c
}
