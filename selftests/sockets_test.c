// SPDX-License-Identifier: GPL-2.0
/*
 * The "sockets" report against inet_diag: for each scenario, every TCP and
 * UDP socket that ss (iproute2, via inet_diag) shows in the namespace must
 * be in sockleak's report with the same cookie, state, addresses, inode,
 * uid and memory counters, and the other way round; each leak flag must
 * fire in its scenario and in no socket of the clean control scenario.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest_harness.h"
#include "lib/sl_util.h"

#define NETNS "slns"
#define MAX_FDS 64
#define MAX_EXPECT 8

/* Thresholds the tests set, so flags fire within a test's lifetime. */
#define FLAG_AGE_MS 300

struct expect {
	int fd;			/* the socket that must carry the flag */
	const char *flag;	/* the flag, or the suspect's reason */
	const char *text;	/* suspects: in the explanation */
};

struct scn {
	int fds[MAX_FDS];
	int nfds;
	const char *ns;		/* the network namespace ss must look into */
	struct expect expect[MAX_EXPECT];
	int nexpect;
	struct expect suspect[MAX_EXPECT];	/* each one's suspect line */
	int nsuspect;
	const char *tune;	/* control settings for the suspects test */
	int wait_ms;		/* let ages pass before checking flags */
};

static int keep(struct scn *s, int fd)
{
	if (fd >= 0 && s->nfds < MAX_FDS)
		s->fds[s->nfds++] = fd;
	return fd;
}

static void expect_flag(struct scn *s, int fd, const char *flag)
{
	s->expect[s->nexpect].fd = fd;
	s->expect[s->nexpect].flag = flag;
	s->nexpect++;
}

/* fd must be a suspect with this reason and text in its explanation. */
static void expect_suspect(struct scn *s, int fd, const char *reason,
			   const char *text)
{
	s->suspect[s->nsuspect].fd = fd;
	s->suspect[s->nsuspect].flag = reason;
	s->suspect[s->nsuspect].text = text;
	s->nsuspect++;
}

/*
 * A connected pair over addr (v4 or v6 literal), SO_RCVBUF set on the
 * listener when rcvbuf: *c the client, *a the accepted socket.
 */
static int tcp_pair(struct scn *s, const char *addr, int rcvbuf, int *c,
		    int *a)
{
	struct sl_sock_opts o = {
		.addr = addr, .backlog = 16, .rcvbuf = rcvbuf, .reuseaddr = true
	};
	int l = keep(s, sl_listener_at(&o, NULL));

	if (l < 0)
		return -1;
	*c = keep(s, sl_connect(l, 0));
	*a = keep(s, accept(l, NULL, NULL));
	return (*c < 0 || *a < 0) ? -1 : 0;
}

/* Send up to len bytes without blocking; returns bytes sent. */
static long fill(int fd, long len)
{
	static char buf[16384];
	long sent = 0;
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (sent < len) {
		long want = len - sent > (long)sizeof(buf) ? (long)sizeof(buf) :
			    len - sent;
		ssize_t n = send(fd, buf, want, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		sent += n;
	}
	fcntl(fd, F_SETFL, fl);
	return sent;
}

static int sysctl_write(const char *path, const char *val)
{
	return sl_write(path, val);
}

/* ---- scenarios ---------------------------------------------------- */

/* 0. control: an idle connected pair, a listener, an idle UDP socket. */
static int scn_control(struct scn *s)
{
	int c, a, u;
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (tcp_pair(s, "127.0.0.1", 0, &c, &a))
		return -1;
	u = keep(s, socket(AF_INET, SOCK_DGRAM, 0));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	return bind(u, (struct sockaddr *)&sin, sizeof(sin));
}

/* 1. a receiver that never reads. */
static int scn_never_read(struct scn *s)
{
	int c, a;

	if (tcp_pair(s, "127.0.0.1", 0, &c, &a))
		return -1;
	if (fill(c, 100000) <= 0)
		return -1;
	expect_flag(s, a, "unread");
	expect_suspect(s, a, "unread", "but does not read");
	s->wait_ms = 2 * FLAG_AGE_MS;
	return 0;
}

/*
 * 1b. a receiver that never reads while its peer keeps sending a trickle:
 * data keeps arriving, so only the time since the last read shows it.
 */
static int scn_never_read_trickle(struct scn *s)
{
	int c, a, i;
	pid_t pid;

	if (tcp_pair(s, "127.0.0.1", 0, &c, &a))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		for (i = 0; i < 3 * FLAG_AGE_MS / 50; i++) {
			send(c, "0123456789", 10, MSG_NOSIGNAL);
			sl_msleep(50);
		}
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	expect_flag(s, a, "unread");
	expect_suspect(s, a, "unread", "but does not read");
	return 0;
}

/* 2. CLOSE_WAIT with unread data: the peer sent and closed. */
static int scn_close_wait(struct scn *s)
{
	int c, a;

	if (tcp_pair(s, "127.0.0.1", 0, &c, &a))
		return -1;
	if (fill(c, 1000) != 1000)
		return -1;
	close(c);
	s->fds[--s->nfds - 1] = a;	/* c was kept before a: forget it */
	expect_flag(s, a, "close_wait");
	expect_flag(s, a, "unread");
	expect_suspect(s, a, "close_wait", "but never close()d");
	s->wait_ms = 2 * FLAG_AGE_MS;
	return 0;
}

/*
 * 3. an orphan in FIN_WAIT1 with unsent data towards a zero-window peer:
 * the peer's receive buffer is tiny and never read, the sender fills its
 * send queue and closes.
 */
static int scn_orphan(struct scn *s)
{
	int c, a, i;

	if (tcp_pair(s, "127.0.0.1", 2048, &c, &a))
		return -1;
	for (i = 0; i < 5; i++) {
		fill(c, 1 << 20);
		sl_msleep(50);
	}
	close(c);
	s->fds[--s->nfds - 1] = a;
	/* the orphan is found by its peer's addresses in the check */
	s->wait_ms = 2 * FLAG_AGE_MS;
	return 0;
}

/* 4. SO_RCVBUF set by hand, the queue up to it. */
static int scn_rcvbuf_locked(struct scn *s)
{
	int c, a;

	if (tcp_pair(s, "127.0.0.1", 8192, &c, &a))
		return -1;
	fill(c, 1 << 20);
	expect_flag(s, a, "rcvbuf_locked");
	/* Not yet "unread": that reason ranks first. */
	s->tune = "unread_ms=3600000";
	expect_suspect(s, a, "rcvbuf_locked", "SO_RCVBUF set by hand to");
	/* The sender faces the closed window. */
	expect_suspect(s, c, "zero_window", "with a zero send window");
	return 0;
}

/*
 * 5. a second network namespace with its own established hash
 * (tcp_child_ehash_entries), the server in it reached over veth.
 */
static int scn_netns(struct scn *s)
{
	struct sl_sock_opts o = {
		.addr = "10.77.0.2", .backlog = 16, .reuseaddr = true
	};
	int self, other, l, c, a;

	if (sysctl_write("/proc/sys/net/ipv4/tcp_child_ehash_entries", "128"))
		return -1;
	if (system("/usr/bin/ip netns del " NETNS " 2>/dev/null; "
		   "/usr/bin/ip netns add " NETNS " && "
		   "/usr/bin/ip link add slv0 type veth peer name slv1 netns "
		   NETNS " && /usr/bin/ip addr add 10.77.0.1/24 dev slv0 && "
		   "/usr/bin/ip link set slv0 up && "
		   "/usr/bin/ip -n " NETNS " addr add 10.77.0.2/24 dev slv1 && "
		   "/usr/bin/ip -n " NETNS " link set slv1 up && "
		   "/usr/bin/ip -n " NETNS " link set lo up"))
		return -1;
	if (sysctl_write("/proc/sys/net/ipv4/tcp_child_ehash_entries", "0"))
		return -1;
	self = open("/proc/self/ns/net", O_RDONLY);
	other = open("/run/netns/" NETNS, O_RDONLY);
	if (self < 0 || other < 0 || setns(other, CLONE_NEWNET))
		return -1;
	l = keep(s, sl_listener_at(&o, NULL));
	/* a loopback pair inside the namespace too */
	if (tcp_pair(s, "127.0.0.1", 0, &c, &a))
		return -1;
	fill(c, 3000);
	if (setns(self, CLONE_NEWNET))
		return -1;
	close(self);
	close(other);
	c = keep(s, sl_connect(l, 0));
	a = keep(s, accept(l, NULL, NULL));
	if (c < 0 || a < 0)
		return -1;
	fill(c, 5000);
	s->ns = NETNS;
	return 0;
}

/* 6. a UDP socket whose receive queue is full. */
static int scn_udp_full(struct scn *s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int rcvbuf = 4096, r, w, i;
	char buf[200] = "";

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	r = keep(s, socket(AF_INET, SOCK_DGRAM, 0));
	w = keep(s, socket(AF_INET, SOCK_DGRAM, 0));
	setsockopt(r, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(r, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(r, (struct sockaddr *)&sin, &len))
		return -1;
	for (i = 0; i < 200; i++)
		sendto(w, buf, sizeof(buf), 0, (struct sockaddr *)&sin, len);
	expect_flag(s, r, "rcvbuf_locked");
	expect_suspect(s, r, "rcvbuf_locked", "SO_RCVBUF set by hand to");
	return 0;
}

/* 7. IPv6: an unread connection over ::1 and a v6 UDP socket. */
static int scn_ipv6(struct scn *s)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	int c, a, u;

	if (tcp_pair(s, "::1", 0, &c, &a))
		return -1;
	fill(c, 20000);
	expect_suspect(s, a, "unread", "but does not read");
	u = keep(s, socket(AF_INET6, SOCK_DGRAM, 0));
	sin6.sin6_addr = in6addr_loopback;
	if (bind(u, (struct sockaddr *)&sin6, sizeof(sin6)))
		return -1;
	expect_flag(s, a, "unread");
	s->wait_ms = 2 * FLAG_AGE_MS;
	return 0;
}

/* 8. a listener with unaccepted children (full and request sockets). */
static int scn_listener(struct scn *s)
{
	struct sl_sock_opts o = { .backlog = 1, .reuseaddr = true };
	int l = keep(s, sl_listener_at(&o, NULL)), i;

	if (l < 0)
		return -1;
	for (i = 0; i < 6; i++)
		keep(s, sl_connect(l, SOCK_NONBLOCK));
	sl_msleep(300);
	return 0;
}

/* 9. TIME_WAIT: the client closes first, then the server. */
static int scn_time_wait(struct scn *s)
{
	int c, a;

	if (tcp_pair(s, "127.0.0.1", 0, &c, &a))
		return -1;
	close(c);
	sl_msleep(100);
	close(a);
	s->nfds -= 2;
	sl_msleep(200);
	return 0;
}

/* 10. FIN_WAIT2 for longer than tcp_fin_timeout: half-closed, peer silent. */
static int scn_fin_wait2(struct scn *s)
{
	int c, a;

	if (sysctl_write("/proc/sys/net/ipv4/tcp_fin_timeout", "1"))
		return -1;
	if (tcp_pair(s, "127.0.0.1", 0, &c, &a))
		return -1;
	shutdown(c, SHUT_WR);
	expect_flag(s, c, "fin_wait2");
	expect_suspect(s, c, "fin_wait2", "the peer never sent its FIN");
	/*
	 * The peer got the FIN and sits in CLOSE-WAIT with nothing to read
	 * (SIOCINQ 0): the FIN's sequence number is not unread data.
	 */
	expect_suspect(s, a, "close_wait", ", 0 B unread, pid ");
	s->wait_ms = 1500;
	return 0;
}

/* 11. a socket held by a BPF sockmap (its sk_prot is the psock's). */
static int scn_sockmap(struct scn *s)
{
	union bpf_attr attr;
	int c, a, map, key = 0;

	if (tcp_pair(s, "127.0.0.1", 0, &c, &a))
		return -1;
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_SOCKMAP;
	attr.key_size = sizeof(int);
	attr.value_size = sizeof(int);
	attr.max_entries = 1;
	map = keep(s, syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)));
	if (map < 0)
		return -1;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = map;
	attr.key = (unsigned long)&key;
	attr.value = (unsigned long)&a;
	attr.flags = BPF_ANY;
	if (syscall(__NR_bpf, BPF_MAP_UPDATE_ELEM, &attr, sizeof(attr)))
		return -1;
	expect_flag(s, a, "bpf_held");
	expect_suspect(s, a, "bpf_held", "held by a sockmap/psock (bpf)");
	return 0;
}

/*
 * 14. IPV6_ADDRFORM: an IPv6 TCP socket connected to a v4-mapped address
 * and a connected IPv6 UDP socket, both turned into IPv4 sockets. Their
 * sk_prot is now the v4 proto while sk_prot_creator stays v6: no sockmap
 * holds them, so no flag may fire (a control scenario).
 */
static int scn_addrform(struct scn *s)
{
	struct sl_sock_opts o = { .backlog = 16, .reuseaddr = true };
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int l, c, a, u, u4, v4 = AF_INET;

	l = keep(s, sl_listener_at(&o, NULL));
	if (l < 0 || getsockname(l, (struct sockaddr *)&sin, &len))
		return -1;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &to.sin6_addr);
	to.sin6_port = sin.sin_port;
	c = keep(s, socket(AF_INET6, SOCK_STREAM, 0));
	if (c < 0 || connect(c, (struct sockaddr *)&to, sizeof(to)))
		return -1;
	a = keep(s, accept(l, NULL, NULL));
	if (a < 0 || setsockopt(c, IPPROTO_IPV6, IPV6_ADDRFORM, &v4, sizeof(v4)))
		return -1;

	u4 = keep(s, socket(AF_INET, SOCK_DGRAM, 0));
	sin.sin_port = 0;
	len = sizeof(sin);
	if (u4 < 0 || bind(u4, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(u4, (struct sockaddr *)&sin, &len))
		return -1;
	to.sin6_port = sin.sin_port;
	u = keep(s, socket(AF_INET6, SOCK_DGRAM, 0));
	if (u < 0 || connect(u, (struct sockaddr *)&to, sizeof(to)) ||
	    setsockopt(u, IPPROTO_IPV6, IPV6_ADDRFORM, &v4, sizeof(v4)))
		return -1;
	return 0;
}

/* ---- the tests ------------------------------------------------------ */

FIXTURE(scn) {
	struct scn s;
};

FIXTURE_VARIANT(scn) {
	int (*setup)(struct scn *s);
	bool control;
};

FIXTURE_VARIANT_ADD(scn, control) { .setup = scn_control, .control = true };
FIXTURE_VARIANT_ADD(scn, never_read) { .setup = scn_never_read };
FIXTURE_VARIANT_ADD(scn, never_read_trickle) {
	.setup = scn_never_read_trickle
};
FIXTURE_VARIANT_ADD(scn, close_wait) { .setup = scn_close_wait };
FIXTURE_VARIANT_ADD(scn, orphan_fin_wait1) { .setup = scn_orphan };
FIXTURE_VARIANT_ADD(scn, rcvbuf_locked) { .setup = scn_rcvbuf_locked };
FIXTURE_VARIANT_ADD(scn, netns) { .setup = scn_netns };
FIXTURE_VARIANT_ADD(scn, udp_full) { .setup = scn_udp_full };
FIXTURE_VARIANT_ADD(scn, ipv6) { .setup = scn_ipv6 };
FIXTURE_VARIANT_ADD(scn, listener) { .setup = scn_listener };
FIXTURE_VARIANT_ADD(scn, time_wait) { .setup = scn_time_wait };
FIXTURE_VARIANT_ADD(scn, fin_wait2) { .setup = scn_fin_wait2 };
FIXTURE_VARIANT_ADD(scn, sockmap) { .setup = scn_sockmap };
FIXTURE_VARIANT_ADD(scn, addrform) { .setup = scn_addrform, .control = true };

FIXTURE_SETUP(scn)
{
	char cmd[64];

	ASSERT_EQ(0, system("modprobe sockleak && modprobe tcp_diag && "
			    "modprobe udp_diag"));
	snprintf(cmd, sizeof(cmd), "close_wait_ms=%d", FLAG_AGE_MS);
	ASSERT_EQ(0, sl_control(cmd));
	snprintf(cmd, sizeof(cmd), "unread_ms=%d", FLAG_AGE_MS);
	ASSERT_EQ(0, sl_control(cmd));
	memset(&self->s, 0, sizeof(self->s));
	ASSERT_EQ(0, variant->setup(&self->s));
	if (self->s.wait_ms)
		sl_msleep(self->s.wait_ms);
}

FIXTURE_TEARDOWN(scn)
{
	for (int i = 0; i < self->s.nfds; i++)
		close(self->s.fds[i]);
	if (self->s.ns)
		system("/usr/bin/ip netns del " NETNS " 2>/dev/null");
	sysctl_write("/proc/sys/net/ipv4/tcp_fin_timeout", "60");
	/* Back to the defaults, so one test's settings do not leak. */
	system("rmmod sockleak");
}

/*
 * Take ss, sockleak, ss again, until both ss runs agree: then the sockleak
 * snapshot was taken on a quiescent set.
 */
static void snapshot(struct __test_metadata *_metadata, const char *ns,
		     struct ss_list *ss, struct sl_list *sl)
{
	struct ss_list again = {};

	for (int i = 0; i < 10; i++) {
		ss_free(ss);
		sl_free(sl);
		ASSERT_LE(0, ss_list(ns, ss));
		ASSERT_LE(0, sl_sockets(sl));
		ASSERT_LE(0, ss_list(ns, &again));
		if (ss_same(ss, &again))
			break;
		ss_free(&again);
		sl_msleep(200);
	}
	ss_free(&again);
}

static unsigned long ns_inum(const char *ns)
{
	char path[128];
	struct stat st;

	if (!ns)
		return sl_netns_inum();
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	return stat(path, &st) ? 0 : st.st_ino;
}

/* Compare one namespace's sockets with ss. */
static void compare_ns(struct __test_metadata *_metadata, const char *ns)
{
	struct ss_list ss = {};
	struct sl_list sl = {};
	unsigned long inum = ns_inum(ns);
	int i, mine = 0;

	ASSERT_NE(0UL, inum);
	snapshot(_metadata, ns, &ss, &sl);
	ASSERT_LT(0, ss.n);

	for (i = 0; i < ss.n; i++) {
		struct ss_sock *x = &ss.s[i];
		const char *line = sl_find(&sl, x->cookie);

		EXPECT_NE(NULL, line) {
			TH_LOG("ss socket sk:%llx %s %s %s not in sockets",
			       x->cookie, x->state, x->local, x->peer);
		}
		if (!line)
			continue;
		EXPECT_FIELD(line, "netns", inum);
		EXPECT_FIELD_STR(line, "proto", x->netid);
		EXPECT_FIELD_STR(line, "state", x->state);
		EXPECT_FIELD_STR(line, "src", x->local);
		EXPECT_FIELD_STR(line, "dst", x->peer);
		if (!x->has_skmem)
			continue;	/* TIME-WAIT, SYN-RECV */
		EXPECT_FIELD(line, "ino", x->ino);
		EXPECT_FIELD(line, "uid", x->uid);
		EXPECT_FIELD(line, "rmem", x->r);
		EXPECT_FIELD(line, "rcvbuf", x->rb);
		EXPECT_FIELD(line, "wmem", x->t);
		EXPECT_FIELD(line, "sndbuf", x->tb);
		EXPECT_FIELD(line, "fwd", x->f);
		EXPECT_FIELD(line, "queued", x->w);
		EXPECT_FIELD(line, "backlog", x->bl);
	}

	/* and the other way round: nothing ss does not know */
	for (i = 0; i < sl.n; i++) {
		const char *line = sl.line[i];
		char proto[8] = "";

		if (sl_kv_ll(line, "netns") != (long long)inum)
			continue;
		sl_kv(line, "proto", proto, sizeof(proto));
		if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
			continue;
		mine++;
		EXPECT_NE(NULL, ss_find(&ss, sl_cookie(line))) {
			TH_LOG("not shown by ss: %s", line);
		}
	}
	EXPECT_EQ(ss.n, mine);
	ss_free(&ss);
	sl_free(&sl);
}

TEST_F(scn, sockets_equal_inet_diag)
{
	compare_ns(_metadata, NULL);
	if (self->s.ns)
		compare_ns(_metadata, self->s.ns);
}

/*
 * The orphan of scenario 3: a FIN-WAIT-1 socket without inode, holding
 * queued data, towards a zero window.
 */
static void check_orphan(struct __test_metadata *_metadata,
			 struct sl_list *sl)
{
	int i, found = 0;

	for (i = 0; i < sl->n; i++) {
		const char *line = sl->line[i];
		char state[32] = "";

		sl_kv(line, "state", state, sizeof(state));
		if (strcmp(state, "FIN-WAIT-1") || sl_kv_ll(line, "orphan") != 1)
			continue;
		found++;
		EXPECT_LT(0, sl_kv_ll(line, "queued"));
		EXPECT_TRUE(sl_has_flag(line, "orphan_mem")) {
			TH_LOG("%s", line);
		}
		EXPECT_TRUE(sl_has_flag(line, "zero_window")) {
			TH_LOG("%s", line);
		}
	}
	EXPECT_EQ(1, found);
}

TEST_F(scn, flags)
{
	struct sl_list sl = {};
	int i;

	ASSERT_LE(0, sl_sockets(&sl));
	for (i = 0; i < self->s.nexpect; i++) {
		struct expect *e = &self->s.expect[i];
		const char *line = sl_find(&sl, sl_sock_cookie(e->fd));

		ASSERT_NE(NULL, line);
		EXPECT_TRUE(sl_has_flag(line, e->flag)) {
			TH_LOG("want flag %s: %s", e->flag, line);
		}
	}
	if (variant->setup == scn_orphan)
		check_orphan(_metadata, &sl);
	if (variant->control) {
		/* no socket of the clean scenario carries any flag */
		for (i = 0; i < self->s.nfds; i++) {
			if (!sl_sock_cookie(self->s.fds[i]))
				continue;
			const char *line = sl_find(&sl,
						   sl_sock_cookie(self->s.fds[i]));
			char flags[128] = "";

			ASSERT_NE(NULL, line);
			sl_kv(line, "flags", flags, sizeof(flags));
			EXPECT_STREQ("-", flags) {
				TH_LOG("clean socket flagged: %s", line);
			}
		}
	}
	sl_free(&sl);
}

/*
 * One socket's suspect line: kind, reason, owner pid (0: none, "-"), the
 * text of the explanation and, when the explanation names the owner, the
 * fd this process holds it under.
 */
static void check_suspect(struct __test_metadata *_metadata,
			  struct sl_list *su, unsigned long long ck,
			  const char *reason, int fd, const char *text)
{
	const char *line = sl_suspect_cookie(su, NULL, ck);
	char want[96];
	int rcvbuf = 0;
	socklen_t len = sizeof(rcvbuf);

	if (!line) {
		struct sl_list sl = {};

		sl_sockets(&sl);
		TH_LOG("socket: %s", sl_find(&sl, ck));
		sl_free(&sl);
	}
	ASSERT_NE(NULL, line) {
		TH_LOG("no suspect line for %llx (want %s)", ck, reason);
	}
	TH_LOG("%s", line);
	EXPECT_FIELD_STR(line, "kind", "socket");
	EXPECT_FIELD_STR(line, "reason", reason);
	if (fd >= 0) {
		EXPECT_FIELD(line, "pid", getpid());
	} else {
		EXPECT_FIELD_STR(line, "pid", "-");
	}
	EXPECT_NE(NULL, strstr(line, text)) {
		TH_LOG("want \"%s\" in: %s", text, line);
	}
	/* The sentences that name the owner name its fd. */
	if (fd >= 0 && strcmp(reason, "fin_wait2") &&
	    strcmp(reason, "bpf_held")) {
		snprintf(want, sizeof(want), "pid %d (", getpid());
		EXPECT_NE(NULL, strstr(line, want));
		snprintf(want, sizeof(want), " holds fd %d", fd);
		EXPECT_NE(NULL, strstr(line, want)) {
			TH_LOG("want \"%s\" in: %s", want, line);
		}
	}
	/* The size set by hand, as the socket itself reports it. */
	if (fd >= 0 && !strcmp(reason, "rcvbuf_locked")) {
		ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
					&len));
		snprintf(want, sizeof(want), "SO_RCVBUF set by hand to %d and",
			 rcvbuf);
		EXPECT_NE(NULL, strstr(line, want)) {
			TH_LOG("want \"%s\" in: %s", want, line);
		}
	}
}

/*
 * After an owner scan, each scenario's sockets are suspects with the
 * expected reason, owner and explanation, ranked by bytes; the orphan has
 * no owner; the clean control scenario gives no suspect.
 */
TEST_F(scn, suspects)
{
	struct sl_list su = {}, sl = {};
	long long prev = -1;
	int i;

	if (self->s.tune)
		ASSERT_EQ(0, sl_control(self->s.tune));
	/*
	 * Some flags need a round trip more (the sender learns of the closed
	 * window from an ACK of a retransmission): up to 5 s for each.
	 */
	for (i = 0; i < self->s.nsuspect; i++) {
		struct expect *e = &self->s.suspect[i];

		for (int t = 0; t < 50; t++) {
			const char *line;
			bool has;

			ASSERT_LE(0, sl_sockets(&sl));
			line = sl_find(&sl, sl_sock_cookie(e->fd));
			has = line && sl_has_flag(line, e->flag);
			sl_free(&sl);
			if (has)
				break;
			sl_msleep(100);
		}
	}
	ASSERT_EQ(0, sl_control("scan"));
	ASSERT_LE(0, sl_lines(SL_DIR "/suspects", &su));
	for (i = 0; i < su.n; i++) {
		long long b = sl_kv_ll(su.line[i], "bytes");

		if (prev >= 0)
			EXPECT_LE(b, prev);
		prev = b;
	}
	for (i = 0; i < self->s.nsuspect; i++) {
		struct expect *e = &self->s.suspect[i];

		check_suspect(_metadata, &su, sl_sock_cookie(e->fd), e->flag, e->fd,
			      e->text);
	}
	if (variant->setup == scn_orphan) {
		unsigned long long ck = 0;

		ASSERT_LE(0, sl_sockets(&sl));
		for (i = 0; i < sl.n; i++) {
			char state[32] = "";

			sl_kv(sl.line[i], "state", state, sizeof(state));
			if (!strcmp(state, "FIN-WAIT-1") &&
			    sl_kv_ll(sl.line[i], "orphan") == 1)
				ck = sl_cookie(sl.line[i]);
		}
		ASSERT_NE(0ULL, ck);
		check_suspect(_metadata, &su, ck, "orphan_mem", -1,
			      "closed by its owner (orphan in FIN-WAIT-1");
		sl_free(&sl);
	}
	if (variant->control) {
		for (i = 0; i < self->s.nfds; i++) {
			unsigned long long ck = sl_sock_cookie(self->s.fds[i]);

			EXPECT_EQ(NULL, ck ? sl_suspect_cookie(&su, NULL, ck) : NULL);
		}
	}
	sl_free(&su);
}

TEST_HARNESS_MAIN
