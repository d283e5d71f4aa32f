// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak selftests library: loopback sockets the tests build.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_util.h"

/*
 * One long chain of the UDP hash: fds[0] a UDP socket bound to a free
 * loopback port P, fds[1..n] bound to P too (SO_REUSEADDR), each connected
 * to its own peer port, so all of them sit in P's slot. Returns how many
 * of fds[] are open: n + 1, fewer on failure (errno says why).
 */
int sl_udp_chain(int *fds, int n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int one = 1, i;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (i = 0; i <= n; i++) {
		struct sockaddr_in peer = sin;

		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		peer.sin_port = htons(1024 + i);
		if (fds[i] < 0 ||
		    setsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR, &one,
			       sizeof(one)) ||
		    bind(fds[i], (struct sockaddr *)&sin, sizeof(sin)) ||
		    (!i && getsockname(fds[i], (struct sockaddr *)&sin, &len)) ||
		    (i && connect(fds[i], (struct sockaddr *)&peer,
				  sizeof(peer)))) {
			if (fds[i] >= 0)
				close(fds[i]);
			return i;
		}
	}
	return n + 1;
}

/*
 * The count of socket @fd as /proc/net/tcp, udp (and their v6 and lite
 * files: the same columns) show it: the refcount after the inode, found
 * by @fd's inode; -1 when not listed.
 */
long long sl_proc_refcnt(const char *path, int fd)
{
	char *text = sl_read_file(path), *line, *save = NULL;
	unsigned long ino, want;
	long long refcnt = -1;
	struct stat st;
	int ref;

	if (!text || fstat(fd, &st))
		goto out;
	want = st.st_ino;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu %d",
			   &ino, &ref) == 2 && ino == want) {
			refcnt = ref;
			break;
		}
	}
out:
	free(text);
	return refcnt;
}

/* The socket's SO_COOKIE (what "cookie=" prints), 0 on error. */
unsigned long long sl_sock_cookie(int fd)
{
	unsigned long long c = 0;
	socklen_t len = sizeof(c);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len))
		return 0;
	return c;
}

/*
 * A TCP listener on 127.0.0.1, any port; @flags are socket() type flags
 * (SOCK_CLOEXEC). -1 on error.
 */
int sl_listener(int flags)
{
	struct sl_sock_opts o = { .backlog = 64, .flags = flags };

	return sl_listener_at(&o, NULL);
}

/*
 * A TCP socket connected to listener @lfd; -1 on error (with
 * SOCK_NONBLOCK in @flags, a connect() in progress is not one).
 */
int sl_connect(int lfd, int flags)
{
	struct sl_sock_opts o = { .flags = flags };
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);

	if (getsockname(lfd, (struct sockaddr *)&a, &len))
		return -1;
	return sl_connect_at(&o, &a);
}

/*
 * A loopback TCP connection, close-on-exec: *c the client, *a the
 * accepted socket. 0, or -1 on error.
 */
int sl_tcp_pair(int *c, int *a)
{
	int l = sl_listener(SOCK_CLOEXEC);

	if (l < 0)
		return -1;
	*c = sl_connect(l, SOCK_CLOEXEC);
	*a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	return *c < 0 || *a < 0 ? -1 : 0;
}

/*
 * @n connections to listener @l whose peers sent 8000 bytes, which stay
 * unread, and then reset them (SO_LINGER 0): cl[] are the clients, CLOSE
 * and unhashed, still open (close-on-exec, as a helper the test runs
 * must not inherit them). 0, or -1 on error.
 */
int sl_make_resets(int l, int *cl, int n)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	static char data[8000];

	for (int i = 0; i < n; i++) {
		int a, got = 0;

		cl[i] = sl_connect(l, SOCK_CLOEXEC);
		a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (cl[i] < 0 || a < 0)
			return -1;
		if (send(a, data, sizeof(data), 0) != sizeof(data))
			return -1;
		for (int t = 0; t < 500 && got < (int)sizeof(data); t++) {
			ioctl(cl[i], FIONREAD, &got);
			if (got < (int)sizeof(data))
				sl_msleep(10);
		}
		if (got < (int)sizeof(data))
			return -1;
		setsockopt(a, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
		close(a);
	}
	/* Wait for the resets: the state becomes CLOSE. */
	for (int i = 0; i < n; i++) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		int tries = 500;

		while (!getsockopt(cl[i], IPPROTO_TCP, TCP_INFO, &ti, &len) &&
		       ti.tcpi_state != TCP_CLOSE && --tries)
			sl_msleep(10);
		if (ti.tcpi_state != TCP_CLOSE)
			return -1;
	}
	return 0;
}

/* Send @fd over the unix socket @s with SCM_RIGHTS: 0 or -1. */
int sl_send_fd(int s, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {}, b = 'x';
	struct iovec iov = { &b, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(s, &msg, 0) == 1 ? 0 : -1;
}

/* Receive one fd sent with SCM_RIGHTS on @s, -1 on error. */
int sl_recv_fd(int s)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {}, b;
	struct iovec iov = { &b, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(s, &msg, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}
