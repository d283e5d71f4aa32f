// SPDX-License-Identifier: GPL-2.0
/*
 * leaky - a small leaky TCP workload for the demo and the helper's tests.
 *
 *   leaky [-p BASEPORT] [-i INTERVAL_MS] [-t SECONDS] [-L [-D DELAY_MS]]
 *
 * On 127.0.0.1 it creates:
 *   BASEPORT+0  a receiver that never reads; the client keeps sending
 *               1000 bytes every INTERVAL_MS (a slow, monotonic creep)
 *   BASEPORT+1  a server that never close()s after the peer closed
 *               (CLOSE-WAIT)
 *   BASEPORT+2  an orphan with unsent data: the client fills the peer's
 *               small receive buffer and its own send queue, then closes
 *               (FIN-WAIT-1, owned by no process, memory still held)
 *   BASEPORT+3  a listener held by no fd: sent over a unix socket with
 *               SCM_RIGHTS and closed, never received
 *   BASEPORT+4  with -L, when the test-only sockleak_holdref module is
 *               loaded: a connection closed by the application while a
 *               "buggy kernel user" (holdref) keeps a reference on the
 *               accepted socket: closed but never freed; -D: the
 *               reference is taken DELAY_MS after accept()
 * prints "ready", its ports and pid (and held=COOKIE, the leaked socket's
 * SO_COOKIE in hex, with -L), then runs for SECONDS (0: until killed).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* lib/sl_inet.h; vm/demo-prep.sh builds with gcc */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/sl_inet.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/*
 * A listener on 127.0.0.1:@port (SO_REUSEADDR; SO_RCVBUF when @rcvbuf);
 * *name, unless NULL, its address.
 */
static int listener(int port, int rcvbuf, struct sockaddr_storage *name)
{
	struct sl_sock_opts o = {
		.port = port, .backlog = 16, .rcvbuf = rcvbuf, .reuseaddr = true
	};
	int fd = sl_listener_at(&o, name);

	if (fd < 0)
		die("listener");
	return fd;
}

static int connect_to(const struct sockaddr_storage *to)
{
	static const struct sl_sock_opts o = {};
	int fd = sl_connect_at(&o, to);

	if (fd < 0)
		die("connect");
	return fd;
}

/* Send fd over a fresh unix socketpair and never receive it. */
static void in_flight(int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = "";
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		die("socketpair");
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sv[0], &msg, 0) != 1)
		die("sendmsg");
	close(fd);		/* only the message in flight holds it now */
	close(sv[0]);		/* sv[1] keeps the message queued */
}

static void msleep(int ms);

/*
 * A reference leaked by the test-only holdref module, taken @delay_ms
 * after accept(); *cookie is the leaked socket's SO_COOKIE. -1 when the
 * module is not loaded; any other failure ends leaky.
 */
static int leak_reference(int port, int delay_ms, unsigned long long *cookie)
{
	struct sockaddr_storage name;
	int l = listener(port, 0, &name), c = connect_to(&name), a, ctl;
	socklen_t len = sizeof(*cookie);
	char cmd[32];

	a = accept(l, NULL, NULL);
	if (a < 0 || getsockopt(a, SOL_SOCKET, SO_COOKIE, cookie, &len))
		die("leak: accept/SO_COOKIE");
	ctl = open("/sys/kernel/debug/sockleak_holdref/ctl", O_WRONLY);
	if (ctl < 0 && errno == ENOENT)
		return -1;
	if (ctl < 0)
		die("leak: sockleak_holdref/ctl");
	msleep(delay_ms);
	snprintf(cmd, sizeof(cmd), "hold %d", a);
	if (write(ctl, cmd, strlen(cmd)) < 0)
		die("holdref");
	close(ctl);
	close(c);
	close(a);
	close(l);
	return 0;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	int port = 7100, interval = 200, seconds = 0, opt, leak = 0;
	int delay_ms = 0;
	int l0, l1, l2, c0, s0, c1, s1, c2, s2;
	unsigned long long held = 0;
	struct sockaddr_storage name;
	static char buf[65536];
	long sent = 0;
	time_t end;

	while ((opt = getopt(argc, argv, "p:i:t:LD:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'i': interval = atoi(optarg); break;
		case 't': seconds = atoi(optarg); break;
		case 'L': leak = 1; break;
		case 'D': delay_ms = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: leaky [-p PORT] [-i MS] [-t SEC] [-L]\n");
			return 2;
		}
	}
	memset(buf, 'x', sizeof(buf));

	/* 1. The receiver that never reads. */
	l0 = listener(port, 0, &name);
	c0 = connect_to(&name);
	s0 = accept(l0, NULL, NULL);
	if (s0 < 0)
		die("accept");
	fcntl(c0, F_SETFL, O_NONBLOCK);

	/* 2. CLOSE-WAIT: the peer closes, the server never does. */
	l1 = listener(port + 1, 0, &name);
	c1 = connect_to(&name);
	s1 = accept(l1, NULL, NULL);
	if (s1 < 0)
		die("accept");
	if (write(c1, "bye\n", 4) != 4)
		die("write");
	close(c1);

	/* 3. An orphan with unsent data. */
	l2 = listener(port + 2, 4096, &name);
	c2 = connect_to(&name);
	s2 = accept(l2, NULL, NULL);
	if (s2 < 0)
		die("accept");
	fcntl(c2, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 4096; i++) {
		ssize_t n = write(c2, buf, sizeof(buf));

		if (n < 0 && errno == EAGAIN) {
			msleep(20);
			if (write(c2, buf, sizeof(buf)) < 0)
				break;
		} else if (n < 0) {
			die("write");
		}
	}
	close(c2);

	/* 4. A listener only an SCM_RIGHTS message in flight holds. */
	in_flight(listener(port + 3, 0, NULL));

	/* 5. A reference leaked by a "buggy kernel user". */
	if (leak && leak_reference(port + 4, delay_ms, &held)) {
		fprintf(stderr, "leaky: no sockleak_holdref module, no leak\n");
		held = 0;
	}

	printf("ready ports=%d,%d,%d pid=%d", port, port + 1, port + 2,
	       (int)getpid());
	if (held)
		printf(" held=%llx", held);
	printf("\n");
	fflush(stdout);

	end = seconds ? time(NULL) + seconds : 0;
	while (!end || time(NULL) < end) {
		if (write(c0, buf, 1000) == 1000)
			sent += 1000;
		msleep(interval);
	}
	(void)s0;
	(void)s1;
	(void)s2;
	(void)sent;
	return 0;
}
