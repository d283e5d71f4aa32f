#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# netsel.sh [OUTDIR]
#
# The kernel's own net selftests, as a source of socket lifecycles that
# nobody here invented: extract tools/testing/selftests/net (and the
# kselftest headers it includes) from Debian's linux-source-6.12 package
# into OUTDIR/src (default build/netsel) and build a selection of its C
# programs as static binaries with the host's gcc into OUTDIR/bin, so they
# run in the busybox guest on every kernel of the matrix. Prints OUTDIR.
# run.sh --mode netsel packs OUTDIR/bin and netsel-guest.sh, which runs
# each program once without sockleak and once with it tracking, readers
# on every file and periodic scans, and then checks tracked and suspects.
#
# Chosen (bind_*, reuseport_*, so_*, sk_*, tcp_*, udp*; standalone, loopback
# only; the guest runs each in a fresh netns as upstream's in_netns.sh
# does, with the arguments of upstream's wrapper scripts):
#   bind_bhash            (ipv4 and ipv6, as bind_bhash.sh: 24000 bound sockets)
#   bind_timewait bind_wildcard
#   reuseport_addr_any reuseport_bpf reuseport_bpf_cpu reuseport_dualstack
#   so_incoming_cpu so_netns_cookie
#   sk_bind_sendto_listen sk_connect_zero_addr sk_so_peek_off
#   tcp_fastopen_backup_key (-6sr, one of tcp_fastopen_backup_key.sh's 16
#                         runs: 10000 TFO connections; with its
#                         TcpExtTCPFastOpenPassiveFail check)
#   tcp_inq               (-4 and -6)
#   udpgso                (udpgso.sh's lo-MTU cases: -4/-6, with and without -C)
#   udpgso_bench_rx/_tx   (two of udpgso_bench.sh's runs, 1 s each: IPv4 TCP
#                         zerocopy, IPv6 UDP GSO zerocopy with audit)
#   af_unix/diag_uid af_unix/msg_oob af_unix/scm_rights af_unix/unix_connect
#                         (AF_UNIX: sock_diag, OOB data, SCM_RIGHTS cycles
#                         left to the garbage collector, connect/abstract)
#   psock_fanout psock_tpacket (AF_PACKET: fanout groups, ring buffers)
#   netlink-dumps         (AF_NETLINK dumps)
#   vsock_test            (tools/testing/vsock: AF_VSOCK stream and seqpacket,
#                         server and client over vsock_loopback, CID 1)
# Left out:
#   af_unix/scm_pidfd     needs SO_PEERPIDFD, newer than bookworm's headers
#   reuseport_bpf_numa    needs libnuma (no static library on the host) and
#                         NUMA nodes; the guest has one node
#   so_txtime             its script needs tc and the fq/etf qdiscs
#   tcp_mmap              a client/server pair moving 32 GiB: hours in TCG
#   tcp_ao/, mptcp/, ...  subdirectories: own libraries, scripts, python
#   the rest              other prefixes (reuseaddr_*, ip_*, psock_*, tls, ...)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-${SOCKLEAK_BUILD:-$top/build}/netsel}
ksrc=${KSRC_TAR:-/usr/src/linux-source-6.12.tar.xz}

progs="bind_bhash bind_timewait bind_wildcard reuseport_addr_any
	reuseport_bpf reuseport_bpf_cpu reuseport_dualstack so_incoming_cpu
	so_netns_cookie sk_bind_sendto_listen sk_connect_zero_addr
	sk_so_peek_off tcp_fastopen_backup_key tcp_inq udpgso udpgso_bench_rx
	udpgso_bench_tx af_unix/diag_uid af_unix/msg_oob
	af_unix/scm_rights af_unix/unix_connect psock_fanout psock_tpacket
	netlink-dumps"

mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

src=$out/src
net=$src/tools/testing/selftests/net
if [ ! -e "$src/.stamp" ] || [ "$ksrc" -nt "$src/.stamp" ] ||
   [ ! -d "$src/tools/testing/vsock" ]; then
	rm -rf "$src"
	mkdir -p "$src"
	tar -xJf "$ksrc" -C "$src" --strip-components=1 --wildcards \
		'*/tools/testing/selftests/net/*.[ch]' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/vsock/*.[ch]' '*/tools/include/*'
	touch "$src/.stamp"
fi

mkdir -p "$out/bin"
for p in $progs; do
	b=$(basename "$p")
	[ "$out/bin/$b" -nt "$net/$p.c" ] && [ "$out/bin/$b" -nt "$0" ] && continue
	# As the net Makefile, static; warnings of upstream code do not fail.
	gcc -static -O2 -s -w -I"$src/tools/testing/selftests" \
		-o "$out/bin/$b.tmp" "$net/$p.c" -lpthread >&2
	mv "$out/bin/$b.tmp" "$out/bin/$b"
done
# vsock_test: its Makefile's objects, with the tools' kernel headers.
vs=$src/tools/testing/vsock
if [ ! "$out/bin/vsock_test" -nt "$vs/vsock_test.c" ] ||
   [ ! "$out/bin/vsock_test" -nt "$0" ]; then
	gcc -static -O2 -s -w -D_GNU_SOURCE -I"$vs" -I"$src/tools/include" \
		-o "$out/bin/vsock_test.tmp" "$vs/vsock_test.c" \
		"$vs/vsock_test_zerocopy.c" "$vs/timeout.c" "$vs/control.c" \
		"$vs/util.c" "$vs/msg_zerocopy_common.c" 2>&1 |
		grep -v -e 'getaddrinfo' -e 'in function .control_init' >&2 || true
	mv "$out/bin/vsock_test.tmp" "$out/bin/vsock_test"
fi
echo "$out"
