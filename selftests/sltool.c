// SPDX-License-Identifier: GPL-2.0
/*
 * Workload helpers for the shell selftests.
 *
 *   sltool churn SECONDS   connect/accept/close loop over loopback until
 *                          SECONDS pass: graceful closes (TIME-WAIT), RST
 *                          closes (SO_LINGER 0), data left unread; prints
 *                          the number of connections made
 *   sltool nobody-open FILE...
 *                          try to open each FILE as uid/gid 65534; prints
 *                          "FILE errno" per file (0 when it opened)
 *   sltool pairs N [PORTS] create N established loopback TCP pairs over
 *                          PORTS listeners (default 4), print "ready",
 *                          hold them until stdin closes
 *   sltool udp-chain N     create N UDP sockets bound to one loopback port
 *                          (one slot of the UDP hash), each connected to
 *                          its own peer port, print "ready", hold them
 *                          until stdin closes
 *   sltool pingpong N      a loopback TCP pair: print "cookie=HEX" (the
 *                          client's SO_COOKIE) and "ready", wait for a
 *                          line on stdin, then N one-byte ping-pongs;
 *                          prints their wall time in microseconds
 *   sltool timewait        a loopback TCP pair held for one second, then
 *                          closed by the client first, gracefully: the
 *                          client's end goes to TIME-WAIT
 *   sltool unix-churn SECONDS
 *                          socketpair(AF_UNIX, SOCK_STREAM), one byte each
 *                          way, close both, until SECONDS pass; prints the
 *                          number of pairs made
 *   sltool leak FAMILY TYPE PROTOCOL [N]
 *                          N times (default 1): create a socket
 *                          (socket(FAMILY, TYPE, PROTOCOL), numbers), have
 *                          the test-only holdref module take a reference
 *                          on it, print "cookie=HEX" (its SO_COOKIE) and
 *                          close it: a leak of any family, held by
 *                          holdref until its "release"
 *   sltool many N SECONDS FILE
 *                          N UDP sockets bound to 127.0.0.1 (hashed: the
 *                          walk lists them), FILE created once they all
 *                          are, kept SECONDS, closed
 *   sltool time RUNS CMD...
 *                          run CMD (stdout to /dev/null) RUNS times and
 *                          print the median wall time in microseconds
 *   sltool settle SECONDS  wait until no TCP socket is in TIME-WAIT
 *                          (/proc/net/sockstat's "tw 0"), at most SECONDS;
 *                          exits 1 if some are left
 *   sltool mark            setdomainname("mark"): make profile's mark
 *                          between phases (vm/tcgprof.c); nothing else
 *                          in the guest makes that system call
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* lib/sl_inet.h, when built without lib.mk */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/sl_inet.h"

/* TCP clients of the loopback listeners below. */
static const struct sl_sock_opts tcp_client = {};

/*
 * A deadline @seconds from now on the monotonic clock. (A loop until
 * time(NULL) + seconds lasted between seconds - 1 and seconds, by where
 * in the current second it began: make bench's churn counts moved with
 * it, by up to a third when a run began right after another command.)
 */
static struct timespec deadline(int seconds)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += seconds;
	return t;
}

static bool before(const struct timespec *end)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec < end->tv_sec ||
	       (t.tv_sec == end->tv_sec && t.tv_nsec < end->tv_nsec);
}

static int churn(int seconds)
{
	struct sl_sock_opts lo = { .backlog = 128 };
	struct timespec end = deadline(seconds);
	struct linger lg = { 1, 0 };
	struct sockaddr_storage sin;
	long n = 0;
	int l;

	l = sl_listener_at(&lo, &sin);
	if (l < 0) {
		perror("churn: listener");
		return 1;
	}
	while (before(&end)) {
		int c = sl_connect_at(&tcp_client, &sin), a;

		if (c < 0) {
			perror("churn: connect");
			return 1;
		}
		a = accept(l, NULL, NULL);
		if (a < 0) {
			perror("churn: accept");
			return 1;
		}
		send(c, "data", 4, MSG_NOSIGNAL);
		switch (n % 3) {
		case 0:		/* graceful, client first: TIME-WAIT */
			close(c);
			close(a);
			break;
		case 1:		/* reset with unread data */
			setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(a);
			close(c);
			break;
		default:	/* server first */
			close(a);
			close(c);
			break;
		}
		n++;
	}
	close(l);
	printf("%ld\n", n);
	return 0;
}

static int nobody_open(int argc, char **argv)
{
	int i;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
		perror("nobody-open: dropping privileges");
		return 1;
	}
	for (i = 0; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);

		printf("%s %d\n", argv[i], fd < 0 ? errno : 0);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

/* Say "ready", then keep everything open until stdin closes. */
static int hold(void)
{
	char c;

	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

static int pairs(long n, int ports)
{
	struct rlimit rl = { 2 * n + ports + 64, 2 * n + ports + 64 };
	struct sl_sock_opts lo = { .backlog = 4096 };
	struct sockaddr_storage sin[64];
	long i;
	int p;

	if (ports < 1 || ports > 64 || setrlimit(RLIMIT_NOFILE, &rl)) {
		perror("pairs: setrlimit");
		return 1;
	}
	for (p = 0; p < ports; p++) {
		if (sl_listener_at(&lo, &sin[p]) < 0) {
			perror("pairs: listener");
			return 1;
		}
		/* accept() below finds the listener as fd 3 + p */
	}
	for (i = 0; i < n; i++) {
		p = i % ports;
		if (sl_connect_at(&tcp_client, &sin[p]) < 0 ||
		    accept(3 + p, NULL, NULL) < 0) {
			fprintf(stderr, "pairs: pair %ld: %s\n", i,
				strerror(errno));
			return 1;
		}
	}
	return hold();
}

static int udp_chain(long n)
{
	struct rlimit rl = { n + 64, n + 64 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int one = 1;
	long i;

	if (n < 1 || n > 60000 || setrlimit(RLIMIT_NOFILE, &rl)) {
		perror("udp-chain: setrlimit");
		return 1;
	}
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (i = 0; i < n; i++) {
		struct sockaddr_in peer = sin;
		int u = socket(AF_INET, SOCK_DGRAM, 0);

		peer.sin_port = htons(1024 + i);
		if (u < 0 ||
		    setsockopt(u, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(u, (struct sockaddr *)&sin, sizeof(sin)) ||
		    (!i && getsockname(u, (struct sockaddr *)&sin, &len)) ||
		    (i && connect(u, (struct sockaddr *)&peer, sizeof(peer)))) {
			fprintf(stderr, "udp-chain: socket %ld: %s\n", i,
				strerror(errno));
			return 1;
		}
	}
	return hold();
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int time_cmd(int runs, char **cmd)
{
	long long t[101];
	int i;

	if (runs < 1 || runs > 101)
		return 2;
	for (i = 0; i < runs; i++) {
		long long start = now_us();
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 1);
			execvp(cmd[0], cmd);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "time: %s failed\n", cmd[0]);
			return 1;
		}
		t[i] = now_us() - start;
	}
	qsort(t, runs, sizeof(t[0]), cmp_ll);
	printf("%lld\n", t[runs / 2]);
	return 0;
}

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/* A loopback TCP connection: listener *l, client *c, accepted *s. */
static int loopback_pair(int *l, int *c, int *s)
{
	struct sl_sock_opts lo = { .backlog = 1 };
	struct sockaddr_storage a;

	*l = sl_listener_at(&lo, &a);
	if (*l < 0)
		return -1;
	*c = sl_connect_at(&tcp_client, &a);
	if (*c < 0)
		return -1;
	*s = accept(*l, NULL, NULL);
	return *s < 0 ? -1 : 0;
}

static int pingpong(long n)
{
	socklen_t len = sizeof(unsigned long long);
	unsigned long long ck = 0;
	struct timespec t0, t1;
	int l, c, s, one = 1;
	char b = 'x', line[16];

	if (loopback_pair(&l, &c, &s) ||
	    getsockopt(c, SOL_SOCKET, SO_COOKIE, &ck, &len))
		return 1;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	printf("cookie=%llx\nready\n", ck);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++)
		if (write(c, &b, 1) != 1 || read(s, &b, 1) != 1 ||
		    write(s, &b, 1) != 1 || read(c, &b, 1) != 1)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%lld\n", ((long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL +
			  t1.tv_nsec - t0.tv_nsec) / 1000);
	close(c);
	close(s);
	close(l);
	return 0;
}

/* The TIME-WAIT count of /proc/net/sockstat's TCP line, -1 on error. */
static long tw_count(void)
{
	char line[256];
	long tw = -1;
	FILE *f = fopen("/proc/net/sockstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, " tw ");

		if (!strncmp(line, "TCP:", 4) && p)
			tw = strtol(p + 4, NULL, 10);
	}
	fclose(f);
	return tw;
}

static int settle(int seconds)
{
	int i;

	for (i = 0; tw_count() != 0; i++) {
		if (i >= seconds)
			return 1;
		sleep(1);
	}
	return 0;
}

static int timewait(void)
{
	int l, c, s;
	char b;

	if (loopback_pair(&l, &c, &s))
		return 1;
	sleep(1);
	close(c);
	/* The client's FIN read: then the server's close ends it. */
	if (read(s, &b, 1) != 0)
		return 1;
	close(s);
	close(l);
	return 0;
}

static int unix_churn(int seconds)
{
	struct timespec end = deadline(seconds);
	long n = 0;
	char b;

	while (before(&end)) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) ||
		    write(sv[0], "x", 1) != 1 || read(sv[1], &b, 1) != 1 ||
		    write(sv[1], "y", 1) != 1 || read(sv[0], &b, 1) != 1) {
			perror("unix-churn");
			return 1;
		}
		close(sv[0]);
		close(sv[1]);
		n++;
	}
	printf("%ld\n", n);
	return 0;
}

static int leak(int family, int type, int protocol, int n)
{
	FILE *f;

	for (int i = 0; i < n; i++) {
		unsigned long long ck = 0;
		socklen_t len = sizeof(ck);
		int fd = socket(family, type, protocol);

		if (fd < 0) {
			perror("socket");
			return 1;
		}
		f = fopen("/sys/kernel/debug/sockleak_holdref/ctl", "w");
		if (!f || fprintf(f, "hold %d\n", fd) < 0 || fclose(f)) {
			perror("holdref");
			return 1;
		}
		getsockopt(fd, SOL_SOCKET, SO_COOKIE, &ck, &len);
		printf("cookie=%llx\n", ck);
		close(fd);
	}
	return 0;
}

static int many(int n, int seconds, const char *ready)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct rlimit rl = { n + 64, n + 64 };
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("setrlimit");
	for (int i = 0; i < n; i++) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
			perror("udp socket");
			return 1;
		}
	}
	fd = open(ready, O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		perror(ready);
		return 1;
	}
	close(fd);
	sleep(seconds);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "settle"))
		return settle(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "mark")) {
		if (setdomainname("mark", 4)) {
			perror("setdomainname");
			return 1;
		}
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "unix-churn"))
		return unix_churn(atoi(argv[2]));
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "leak"))
		return leak(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
			    argc == 6 ? atoi(argv[5]) : 1);
	if (argc == 5 && !strcmp(argv[1], "many"))
		return many(atoi(argv[2]), atoi(argv[3]), argv[4]);
	if (argc == 2 && !strcmp(argv[1], "timewait"))
		return timewait();
	if (argc == 3 && !strcmp(argv[1], "pingpong"))
		return pingpong(atol(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "pairs"))
		return pairs(atol(argv[2]), argc > 3 ? atoi(argv[3]) : 4);
	if (argc == 3 && !strcmp(argv[1], "udp-chain"))
		return udp_chain(atol(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "time"))
		return time_cmd(atoi(argv[2]), argv + 3);
	if (argc == 3 && !strcmp(argv[1], "churn"))
		return churn(atoi(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "nobody-open"))
		return nobody_open(argc - 2, argv + 2);
	fprintf(stderr, "usage: sltool churn SECONDS | nobody-open FILE... | "
		"pairs N [PORTS] | udp-chain N | pingpong N | timewait | "
		"time RUNS CMD... | leak FAMILY TYPE PROTOCOL [N] | "
		"many N SECONDS FILE | "
		"unix-churn SECONDS | settle SECONDS | mark\n");
	return 2;
}
