#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hunt-vsock.sh PROG [ARG...]: run the kernel's AF_VSOCK test
# (tools/testing/vsock/vsock_test), which wants a server and a client on
# two machines, in this one: both over vsock's loopback
# transport (vsock_loopback, CID 1), their control connection on
# 127.0.0.1. Installed as vsock/loopback.sh by hunt-prep.sh; "make hunt"
# runs it in its guest, under "sockleak run", so both sides are in the
# run's cgroup. Exit status: the client's, else the server's; 4 (kselftest
# SKIP) when the loopback transport cannot be loaded.
set -u

prog=$1
shift
modprobe vsock_loopback 2>/dev/null || {
	echo "hunt-vsock: no vsock_loopback module: skipped"
	exit 4
}

port=$((20000 + $$ % 10000))
out=$(mktemp)
"$prog" --mode=server --control-port="$port" --peer-cid=1 "$@" >"$out" 2>&1 &
server=$!
# The client does not retry its control connection: wait for the listen.
for _ in $(seq 600); do
	grep -q 'Control socket listening' "$out" && break
	kill -0 "$server" 2>/dev/null || break
	sleep 0.1
done
"$prog" --mode=client --control-host=127.0.0.1 --control-port="$port" \
	--peer-cid=1 "$@"
rc=$?
# A client that never connected leaves the server in accept(): stop it.
for _ in $(seq 300); do
	kill -0 "$server" 2>/dev/null || break
	sleep 0.1
done
kill "$server" 2>/dev/null
wait "$server"
src=$?
sed 's/^/server: /' "$out"
rm -f "$out"
[ "$rc" != 0 ] && exit "$rc"
exit "$src"
