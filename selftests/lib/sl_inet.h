/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TCP and MPTCP sockets over IPv4 and IPv6 that the selftests build: a
 * listener where and as a test wants it (sl_listener_at()) and a socket
 * connected to an address (sl_connect_at()), both described by a
 * struct sl_sock_opts.
 *
 * Header-only, as kselftest.h: leaky and sltool are built from their one
 * .c file without libsltest.a (leaky also by vm/demo-prep.sh, with plain
 * gcc). setns() needs _GNU_SOURCE, which lib.mk defines; a file built
 * otherwise defines it before its first #include.
 */
#ifndef SL_INET_H
#define SL_INET_H

#ifndef _GNU_SOURCE
#error "sl_inet.h needs _GNU_SOURCE (setns()): define it before any #include"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * How to make the socket; zero is the default of every field. addr, port
 * and backlog are the listener's; the rest apply to both ends, in this
 * order: the netns, socket(), SO_REUSEADDR, SO_RCVBUF, then bind() and
 * listen() or connect().
 */
struct sl_sock_opts {
	const char *addr;	/* IPv4 or IPv6 literal; NULL: 127.0.0.1 */
	int port;		/* 0: an ephemeral port */
	int backlog;		/* listen()'s */
	int proto;		/* socket()'s: 0 (TCP) or IPPROTO_MPTCP */
	int flags;		/* socket() type flags: SOCK_CLOEXEC, SOCK_NONBLOCK */
	bool reuseaddr;		/* SO_REUSEADDR */
	int rcvbuf;		/* > 0: SO_RCVBUF */
	int nsfd;		/* > 0: made in this netns (an open /run/netns/X) */
};

/* The length of an AF_INET or AF_INET6 address. */
static inline socklen_t sl_addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					  sizeof(struct sockaddr_in);
}

/* The port of an AF_INET or AF_INET6 address, in host order. */
static inline int sl_addr_port(const struct sockaddr_storage *a)
{
	return ntohs(a->ss_family == AF_INET6 ?
		     ((const struct sockaddr_in6 *)a)->sin6_port :
		     ((const struct sockaddr_in *)a)->sin_port);
}

/* close() that keeps the errno of the failure being reported. */
static inline void sl_close_err(int fd)
{
	int err = errno;

	close(fd);
	errno = err;
}

/*
 * Into the netns @nsfd when it is > 0: *back is then an fd of the current
 * one, for sl_netns_leave(), otherwise -1. 0, or -1 on error.
 */
static inline int sl_netns_enter(int nsfd, int *back)
{
	*back = -1;
	if (nsfd <= 0)
		return 0;
	*back = open("/proc/self/ns/net", O_RDONLY);
	if (*back < 0)
		return -1;
	if (setns(nsfd, CLONE_NEWNET)) {
		sl_close_err(*back);
		*back = -1;
		return -1;
	}
	return 0;
}

/* Back from sl_netns_enter(): 0, or -1 when setns() failed. */
static inline int sl_netns_leave(int back)
{
	int err = 0;

	if (back < 0)
		return 0;
	if (setns(back, CLONE_NEWNET))
		err = -1;
	sl_close_err(back);
	return err;
}

/* Back from sl_netns_enter() with @fd: @fd, or -1 (closed) on failure. */
static inline int sl_netns_leave_fd(int back, int fd)
{
	if (sl_netns_leave(back) && fd >= 0) {
		sl_close_err(fd);
		fd = -1;
	}
	return fd;
}

/* socket() of @family and the options set before bind() or connect(). */
static inline int sl_sock_open(const struct sl_sock_opts *o, int family)
{
	int one = 1, fd = socket(family, SOCK_STREAM | o->flags, o->proto);

	if (fd < 0)
		return -1;
	if ((o->reuseaddr &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) ||
	    (o->rcvbuf > 0 &&
	     setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf,
			sizeof(o->rcvbuf)))) {
		sl_close_err(fd);
		return -1;
	}
	return fd;
}

/*
 * A listener on @o->addr:@o->port (IPv6 when the address has a ':'),
 * made, bound and listening in @o->nsfd's netns when set; *name, unless
 * NULL, its address (getsockname(), after listen()). The fd, or -1 with
 * errno set.
 */
static inline int sl_listener_at(const struct sl_sock_opts *o,
				 struct sockaddr_storage *name)
{
	const char *addr = o->addr ? o->addr : "127.0.0.1";
	struct sockaddr_storage a = {};
	socklen_t len = sizeof(*name);
	int fd = -1, back, ok;

	if (strchr(addr, ':')) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;

		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(o->port);
		ok = inet_pton(AF_INET6, addr, &a6->sin6_addr);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&a;

		a4->sin_family = AF_INET;
		a4->sin_port = htons(o->port);
		ok = inet_pton(AF_INET, addr, &a4->sin_addr);
	}
	if (ok != 1) {
		errno = EINVAL;
		return -1;
	}
	if (sl_netns_enter(o->nsfd, &back))
		return -1;
	fd = sl_sock_open(o, a.ss_family);
	if (fd >= 0 &&
	    (bind(fd, (struct sockaddr *)&a, sl_addr_len(&a)) ||
	     listen(fd, o->backlog) ||
	     (name && getsockname(fd, (struct sockaddr *)name, &len)))) {
		sl_close_err(fd);
		fd = -1;
	}
	return sl_netns_leave_fd(back, fd);
}

/*
 * A socket connected to @to (what sl_listener_at() put in its *name),
 * made in @o->nsfd's netns when set. With SOCK_NONBLOCK in @o->flags, a
 * connect() still in progress is a success. The fd, or -1 with errno set.
 */
static inline int sl_connect_at(const struct sl_sock_opts *o,
				const struct sockaddr_storage *to)
{
	int fd, back;

	if (sl_netns_enter(o->nsfd, &back))
		return -1;
	fd = sl_sock_open(o, to->ss_family);
	if (fd >= 0 &&
	    connect(fd, (const struct sockaddr *)to, sl_addr_len(to)) &&
	    !((o->flags & SOCK_NONBLOCK) && errno == EINPROGRESS)) {
		sl_close_err(fd);
		fd = -1;
	}
	return sl_netns_leave_fd(back, fd);
}

#endif /* SL_INET_H */
