// SPDX-License-Identifier: GPL-2.0
/*
 * Reproducer of an AF_VSOCK socket reference leak fixed upstream by
 * 7e97cfed9929 ("vsock: Fix memory leak in vsock_connect()", v6.0), for a
 * kernel with that fix reverted (selftests/bugs/vsock_connect_work.sh):
 * a non-blocking connect() takes a reference for the socket's
 * connect_work (the connect timeout) and schedules it; when the work is
 * still pending from an earlier non-blocking connect(),
 * schedule_delayed_work() does nothing and the work, which runs once,
 * puts one reference only. With the fix, mod_delayed_work() tells and the
 * extra reference is put at once.
 *
 *   vsock_connect_work [ROUNDS [TIMEOUT_MS]]
 *
 * Over the loopback transport (CID 1, vsock_loopback): a decoy socket is
 * bound and never listens, so a connect to its port is reset. Socket S
 * connects without blocking (EINPROGRESS: the reference is taken and
 * connect_work scheduled, TIMEOUT_MS, default 5000, its connect timeout;
 * the loopback's reset cannot arrive before, as vsock_connect() holds
 * the socket lock), then ROUNDS times (default 3): a blocking connect()
 * that returns the reset (ECONNRESET) and makes S unconnected again, and
 * a non-blocking one (EINPROGRESS) while connect_work is still pending:
 * one reference leaked per round on a kernel without the fix. Prints
 * "cookie: C" (S's SO_COOKIE in hex, as ss -e and sockleak print it),
 * closes both sockets and exits 0. On a fixed kernel, S is freed when
 * connect_work runs, TIMEOUT_MS after the last connect(); without the
 * fix, never. Exit 1 if a step does not go as described (e.g. the rounds
 * outlasted TIMEOUT_MS), 4 without AF_VSOCK's loopback.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif
#ifndef VMADDR_CID_LOCAL
#define VMADDR_CID_LOCAL 1
#endif

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* connect() with or without O_NONBLOCK: 0 or its errno. */
static int try_connect(int fd, const struct sockaddr_vm *to, int nonblock)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, nonblock ? fl | O_NONBLOCK :
			    fl & ~O_NONBLOCK) < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) == 0)
		return 0;
	return errno;
}

static int expect(int got, int want, const char *what, int round)
{
	if (got == want)
		return 0;
	fprintf(stderr, "vsock_connect_work: round %d: %s: %s, expected %s\n",
		round, what, got ? strerror(got) : "success", strerror(want));
	return -1;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3;
	long timeout_ms = argc > 2 ? atol(argv[2]) : 5000;
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = VMADDR_PORT_ANY,
	};
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};
	socklen_t len = sizeof(addr);
	uint64_t cookie = 0;
	int decoy, s, i, rc = 1;
	long long t0;

	if (rounds < 0 || timeout_ms < 100) {
		fprintf(stderr, "usage: vsock_connect_work [ROUNDS [TIMEOUT_MS >= 100]]\n");
		return 1;
	}
	decoy = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (decoy < 0) {
		perror("vsock_connect_work: socket(AF_VSOCK)");
		return 4;
	}
	if (bind(decoy, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(decoy, (struct sockaddr *)&addr, &len) < 0) {
		perror("vsock_connect_work: decoy");
		close(decoy);
		return 1;
	}
	addr.svm_cid = VMADDR_CID_LOCAL;
	s = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (s < 0 || setsockopt(s, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT,
				&tv, sizeof(tv)) < 0) {
		perror("vsock_connect_work: socket");
		goto out;
	}
	t0 = now_ms();
	i = try_connect(s, &addr, 1);
	if (i == ENODEV || i == ENETUNREACH || i == EADDRNOTAVAIL) {
		fprintf(stderr, "vsock_connect_work: no loopback transport (%s): modprobe vsock_loopback\n",
			strerror(i));
		rc = 4;
		goto out;
	}
	if (expect(i, EINPROGRESS, "first non-blocking connect", 0))
		goto out;
	for (i = 1; i <= rounds; i++) {
		if (expect(try_connect(s, &addr, 0), ECONNRESET,
			   "blocking connect", i) ||
		    expect(try_connect(s, &addr, 1), EINPROGRESS,
			   "non-blocking connect", i))
			goto out;
	}
	if (now_ms() - t0 >= timeout_ms) {
		fprintf(stderr, "vsock_connect_work: the rounds took %lld ms, not under the %ld ms timeout\n",
			now_ms() - t0, timeout_ms);
		goto out;
	}
	len = sizeof(cookie);
	if (getsockopt(s, SOL_SOCKET, SO_COOKIE, &cookie, &len) < 0) {
		perror("vsock_connect_work: SO_COOKIE");
		goto out;
	}
	printf("cookie: %llx\n", (unsigned long long)cookie);
	printf("rounds: %d in %lld ms, connect_work pending for %ld ms\n",
	       rounds, now_ms() - t0, timeout_ms);
	rc = 0;
out:
	if (s >= 0)
		close(s);
	close(decoy);
	return rc;
}
