// SPDX-License-Identifier: GPL-2.0
/*
 * MPTCP in sockleak's reports, against the kernel's own views: ss -M
 * (inet_diag through mptcp_diag) for the MPTCP-level sockets ("msk"), ss
 * -t for their TCP subflows (tcp-ulp-mptcp: the token that ties a subflow
 * to its msk), memory.stat for what a memcg is charged, and what the test
 * itself knows (its fds and their SO_COOKIE, SO_RCVBUF, which socket it
 * closed while sockleak_holdref still holds it).
 *
 * Each test connects an MPTCP client to an MPTCP listener on 127.0.0.1
 * and sends data that the server never reads. Skipped only where the
 * kernel has no MPTCP.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "lib/sl_cgroup.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define HOLDREF		"/sys/kernel/debug/sockleak_holdref/ctl"
#define GRACE_MS	200
#define DATA_BYTES	(64 * 1024)	/* client -> server, never read */
#define BACK_BYTES	(32 * 1024)	/* server -> client, never read */
#define SMALL_RCVBUF	8192

/* TCP and MPTCP sockets, all states, memory, info (tokens), cookies. */
#define SS_OPTS		"-tManiemH"

#define CGROOT		"/sys/fs/cgroup"
#define CG_C		"/sl_mp_client"
#define CG_S		"/sl_mp_server"
/* memory.stat lags by up to a periodic flush (see cgroups_test.c). */
#define STAT_WAIT_MS	15000

/* A child process, talking to the test over two pipes. */
struct mp_child {
	pid_t pid;
	int up;		/* child -> test */
	int down;	/* test -> child: EOF ends it */
};

FIXTURE(mp) {
	int l, c, a;		/* MPTCP listener, client, accepted */
	int u;			/* MPTCP socket never connected */
	int tl, tc, ta;		/* plain TCP listener, client, accepted */
	struct sockaddr_storage sin;	/* the MPTCP listener's address */
	struct mp_child srv, cli;
	bool mem_enabled, tracking, tuned;
};

static int mp_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
}

/* The tests' MPTCP clients (their listeners: 127.0.0.1, backlog 16). */
static const struct sl_sock_opts mp_client = { .proto = IPPROTO_MPTCP };

static int send_bytes(int fd, int bytes)
{
	static char buf[1 << 16];

	memset(buf, 'm', sizeof(buf));
	while (bytes > 0) {
		int n = bytes > (int)sizeof(buf) ? (int)sizeof(buf) : bytes;

		if (hold_sendall(fd, buf, n))
			return -1;
		bytes -= n;
	}
	return 0;
}

/* Send up to len bytes without blocking; returns the bytes sent. */
static long fill(int fd, long len)
{
	static char buf[16384];
	int fl = fcntl(fd, F_GETFL);
	long sent = 0;

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (sent < len) {
		ssize_t n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);

		if (n <= 0)
			break;
		sent += n;
	}
	fcntl(fd, F_SETFL, fl);
	return sent;
}

FIXTURE_SETUP(mp)
{
	int fd, err;

	self->l = self->c = self->a = self->u = -1;
	self->tl = self->tc = self->ta = -1;
	ASSERT_EQ(0, system("modprobe sockleak && modprobe inet_diag && "
			    "modprobe tcp_diag"));
	/* Absent without MPTCP: then socket() says so. */
	err = sl_write("/proc/sys/net/mptcp/enabled", "1");
	ASSERT_TRUE(!err || err == -ENOENT)
		TH_LOG("net.mptcp.enabled=1: %s", strerror(-err));
	fd = mp_socket();
	if (fd < 0 && (errno == EPROTONOSUPPORT || errno == EINVAL))
		SKIP(return, "no MPTCP in this kernel");
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, system("modprobe mptcp_diag"));
}

/* Reap a child: EOF on its pipe ends it; SIGKILL if it does not go. */
static int child_stop(struct mp_child *ch)
{
	int status = -1, i;

	if (ch->pid <= 0)
		return 0;
	close(ch->down);
	close(ch->up);
	for (i = 0; i < 100; i++) {
		if (waitpid(ch->pid, &status, WNOHANG) == ch->pid)
			break;
		sl_msleep(100);
	}
	if (i == 100) {
		kill(ch->pid, SIGKILL);
		waitpid(ch->pid, &status, 0);
	}
	ch->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

FIXTURE_TEARDOWN(mp)
{
	int i;

	child_stop(&self->srv);
	child_stop(&self->cli);
	/* The accepted socket first: unread data, a fast close for both. */
	close_fd(&self->a);
	close_fd(&self->c);
	close_fd(&self->l);
	close_fd(&self->u);
	close_fd(&self->ta);
	close_fd(&self->tc);
	close_fd(&self->tl);
	if (self->tracking) {
		sl_write(HOLDREF, "release");
		sl_control("track=off\ngrace_ms=1800000");
	}
	if (self->tuned)
		sl_control("unread_ms=60000\nrcvbuf_pct=75");
	if (self->mem_enabled) {
		for (i = 0; i < 50; i++) {
			rmdir(CGROOT CG_C);
			rmdir(CGROOT CG_S);
			if (access(CGROOT CG_C, F_OK) &&
			    access(CGROOT CG_S, F_OK))
				break;
			sl_msleep(100);
		}
		sl_write(CGROOT "/cgroup.subtree_control", "-memory");
	}
}

/*
 * The connection has settled when the client's msk holds nothing unsent
 * or unacked (all of it is queued at the server's msk, which holds it)
 * and two ss runs in a row agree.
 */
static bool pair_ready(struct ss_list *l, unsigned long long client,
		       unsigned long long server)
{
	struct ss_sock *c = ss_find(l, client), *s = ss_find(l, server);

	return c && s && !c->w && s->r > 0;
}

/* Data towards a closed window never settles that way: stable is enough. */
static bool stable_ready(struct ss_list *l, unsigned long long client,
			 unsigned long long server)
{
	struct ss_sock *s = ss_find(l, server);

	return client && s && s->r > 0;
}

static bool settle(struct ss_list *out, unsigned long long client,
		   unsigned long long server,
		   bool (*ready)(struct ss_list *, unsigned long long,
				 unsigned long long))
{
	struct ss_list a = {}, b = {};

	for (int i = 0; i < 40; i++) {
		ss_free(&a);
		ss_free(&b);
		if (i)
			sl_msleep(100);
		if (ss_list_opts(NULL, SS_OPTS, &a) < 0)
			continue;
		sl_msleep(100);
		if (ss_list_opts(NULL, SS_OPTS, &b) < 0)
			continue;
		if (ss_same(&a, &b) && ready(&b, client, server)) {
			ss_free(&a);
			*out = b;
			return true;
		}
	}
	ss_free(&a);
	*out = b;
	return false;
}

/*
 * The MPTCP listener, client and accepted socket, bytes from the client
 * that the server never reads: blocking, or as much as goes without
 * blocking (fill) when rcvbuf is set on the listener.
 */
static void mp_pair(struct __test_metadata *_metadata, FIXTURE_DATA(mp) *self,
		    int rcvbuf, int bytes)
{
	struct sl_sock_opts o = {
		.backlog = 16, .proto = IPPROTO_MPTCP, .rcvbuf = rcvbuf
	};

	self->l = sl_listener_at(&o, &self->sin);
	ASSERT_LE(0, self->l);
	self->c = sl_connect_at(&mp_client, &self->sin);
	ASSERT_LE(0, self->c);
	self->a = accept(self->l, NULL, NULL);
	ASSERT_LE(0, self->a);
	if (!rcvbuf) {
		ASSERT_EQ(0, send_bytes(self->c, bytes));
		return;
	}
	for (int i = 0; i < 5; i++) {
		fill(self->c, bytes);
		sl_msleep(50);
	}
}

/* The settled pair as ss shows it, or fail. */
static void pair_settled(struct __test_metadata *_metadata,
			 FIXTURE_DATA(mp) *self, struct ss_list *ss,
			 bool small)
{
	unsigned long long c = sl_sock_cookie(self->c);
	unsigned long long a = sl_sock_cookie(self->a);
	struct ss_sock *x;

	ASSERT_NE(0ULL, c);
	ASSERT_NE(0ULL, a);
	EXPECT_TRUE(settle(ss, c, a, small ? stable_ready : pair_ready));
	x = ss_find(ss, c);
	ASSERT_NE(NULL, x) TH_LOG("ss -M does not show the client msk %llx", c);
	TH_LOG("client msk %llx: %s r=%lld t=%lld w=%lld f=%lld", c, x->state,
	       x->r, x->t, x->w, x->f);
	EXPECT_STREQ("mptcp", x->netid);
	x = ss_find(ss, a);
	ASSERT_NE(NULL, x) TH_LOG("ss -M does not show the accepted msk %llx", a);
	TH_LOG("server msk %llx: %s r=%lld rb=%lld t=%lld w=%lld f=%lld",
	       a, x->state, x->r, x->rb, x->t, x->w, x->f);
	EXPECT_STREQ("mptcp", x->netid);
	for (int i = 0; i < ss->n; i++) {
		struct ss_sock *y = &ss->s[i];

		if (y->subflow && y->sf_token_loc)
			TH_LOG("subflow %llx %s %s %x/%x: r=%lld rb=%lld t=%lld w=%lld f=%lld",
			       y->cookie, y->state, y->local, y->sf_token_rem,
			       y->sf_token_loc, y->r, y->rb, y->t, y->w, y->f);
	}
}

/* ss, sockets, ss again until both ss runs agree (a quiescent snapshot). */
static void snapshot(struct __test_metadata *_metadata, struct ss_list *ss,
		     struct sl_list *sl)
{
	struct ss_list again = {};

	for (int i = 0; i < 20; i++) {
		ss_free(ss);
		sl_free(sl);
		ASSERT_LE(0, ss_list_opts(NULL, SS_OPTS, ss));
		ASSERT_LE(0, sl_sockets(sl));
		ASSERT_LE(0, ss_list_opts(NULL, SS_OPTS, &again));
		if (ss_same(ss, &again))
			break;
		ss_free(&again);
		sl_msleep(200);
	}
	ss_free(&again);
}

/* The msk's sockets line against ss -M's record of it. */
static void check_msk(struct __test_metadata *_metadata, struct ss_list *ss,
		      struct sl_list *sl, unsigned long long ck,
		      const char *what)
{
	struct ss_sock *x = ss_find(ss, ck);
	const char *line = sl_find(sl, ck);

	ASSERT_NE(NULL, x) TH_LOG("%s msk %llx not shown by ss -M", what, ck);
	EXPECT_STREQ("mptcp", x->netid);
	EXPECT_NE(NULL, line) {
		TH_LOG("%s msk sk:%llx %s %s %s not in sockets", what, ck,
		       x->state, x->local, x->peer);
	}
	if (!line)
		return;
	TH_LOG("%s: %s", what, line);
	EXPECT_FIELD_STR(line, "proto", "mptcp");
	EXPECT_FIELD_STR(line, "family", "inet");
	EXPECT_FIELD_STR(line, "state", x->state);
	EXPECT_FIELD_STR(line, "src", x->local);
	EXPECT_FIELD_STR(line, "dst", x->peer);
	if (!x->has_skmem)
		return;
	EXPECT_FIELD(line, "rmem", x->r);
	EXPECT_FIELD(line, "wmem", x->t);
	EXPECT_FIELD(line, "queued", x->w);
	EXPECT_FIELD(line, "fwd", x->f);
}

/*
 * Both msks of a connection are in "sockets" as proto=mptcp under their
 * SO_COOKIE, with ss -M's state, addresses and skmem (r, t, w, f); the
 * server's holds the unread data. After an owner scan, the listening msk
 * (LISTEN, as ss -Ml shows it) and a never connected one (UNCONN) too.
 */
TEST_F_TIMEOUT(mp, msk_listed, SL_HEAVY_TIMEOUT)
{
	struct ss_list ss = {};
	struct sl_list sl = {};
	unsigned long long ck;
	struct ss_sock *x;
	const char *line;

	mp_pair(_metadata, self, 0, DATA_BYTES);
	pair_settled(_metadata, self, &ss, false);
	ss_free(&ss);

	snapshot(_metadata, &ss, &sl);
	check_msk(_metadata, &ss, &sl, sl_sock_cookie(self->c), "client");
	check_msk(_metadata, &ss, &sl, sl_sock_cookie(self->a), "accepted");
	x = ss_find(&ss, sl_sock_cookie(self->a));
	ASSERT_NE(NULL, x);
	EXPECT_LT(0, x->r);
	ss_free(&ss);
	sl_free(&sl);

	self->u = mp_socket();
	ASSERT_LE(0, self->u);
	ASSERT_EQ(0, sl_control("scan"));
	snapshot(_metadata, &ss, &sl);
	ck = sl_sock_cookie(self->l);
	x = ss_find(&ss, ck);
	ASSERT_NE(NULL, x) TH_LOG("ss -Ml does not show the listener %llx", ck);
	EXPECT_STREQ("LISTEN", x->state);
	check_msk(_metadata, &ss, &sl, ck, "listener");

	/* ss cannot see it: the test knows it is a closed msk. */
	ck = sl_sock_cookie(self->u);
	line = sl_find(&sl, ck);
	EXPECT_NE(NULL, line) {
		TH_LOG("never connected msk %llx not in sockets after scan",
		       ck);
	}
	if (line) {
		TH_LOG("never connected: %s", line);
		EXPECT_FIELD_STR(line, "proto", "mptcp");
		EXPECT_FIELD_STR(line, "state", "UNCONN");
	}
	ss_free(&ss);
	sl_free(&sl);
}

/* The MPTCP-level socket of ss whose token is token, or NULL. */
static struct ss_sock *ss_msk_by_token(struct ss_list *l, unsigned int token)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->s[i].netid, "mptcp") && l->s[i].token == token)
			return &l->s[i];
	return NULL;
}

/* A plain TCP listener on 127.0.0.1, a client and the accepted socket. */
static int tcp_pair(FIXTURE_DATA(mp) *self)
{
	struct sl_sock_opts o = { .backlog = 4 };

	self->tl = sl_listener_at(&o, NULL);
	if (self->tl < 0)
		return -1;
	self->tc = sl_connect(self->tl, 0);
	if (self->tc < 0)
		return -1;
	self->ta = accept(self->tl, NULL, NULL);
	return self->ta < 0 ? -1 : 0;
}

/*
 * Every TCP subflow that ss -ti shows with tcp-ulp-mptcp carries
 * msk=<cookie of the msk whose token (ss -Mi) is the subflow's local
 * token>; the MPTCP listener's TCP listener and a plain TCP connection
 * have no msk key.
 */
TEST_F_TIMEOUT(mp, subflows_linked, SL_HEAVY_TIMEOUT)
{
	unsigned long long cck, ack, ck;
	int linked = 0, of_client = 0, of_server = 0, i;
	struct ss_list ss = {};
	struct sl_list sl = {};
	char v[64], local[80];
	const char *line;

	mp_pair(_metadata, self, 0, DATA_BYTES);
	ASSERT_EQ(0, tcp_pair(self));
	pair_settled(_metadata, self, &ss, false);
	ss_free(&ss);
	cck = sl_sock_cookie(self->c);
	ack = sl_sock_cookie(self->a);

	snapshot(_metadata, &ss, &sl);
	for (i = 0; i < ss.n; i++) {
		struct ss_sock *x = &ss.s[i], *m;

		if (strcmp(x->netid, "tcp") || !x->subflow || !x->sf_token_loc)
			continue;
		m = ss_msk_by_token(&ss, x->sf_token_loc);
		EXPECT_NE(NULL, m) {
			TH_LOG("subflow sk:%llx %s %s: no msk with token %x",
			       x->cookie, x->local, x->peer, x->sf_token_loc);
		}
		if (!m)
			continue;
		linked++;
		of_client += m->cookie == cck;
		of_server += m->cookie == ack;
		line = sl_find(&sl, x->cookie);
		EXPECT_NE(NULL, line) {
			TH_LOG("subflow sk:%llx %s %s %s not in sockets",
			       x->cookie, x->state, x->local, x->peer);
		}
		if (!line)
			continue;
		TH_LOG("subflow of msk %llx (token %x): %s", m->cookie,
		       x->sf_token_loc, line);
		EXPECT_FIELD_STR(line, "proto", "tcp");
		v[0] = '\0';
		EXPECT_TRUE(sl_kv(line, "msk", v, sizeof(v))) {
			TH_LOG("no msk= in: %s", line);
		}
		EXPECT_EQ(m->cookie, strtoull(v, NULL, 16)) {
			TH_LOG("msk=%s, want %llx", v, m->cookie);
		}
	}
	EXPECT_LE(2, linked);
	EXPECT_LE(1, of_client);
	EXPECT_LE(1, of_server);

	/* The TCP listener under the MPTCP listener: no msk key. */
	snprintf(local, sizeof(local), "127.0.0.1:%u",
		 sl_addr_port(&self->sin));
	ck = 0;
	for (i = 0; i < ss.n; i++)
		if (!strcmp(ss.s[i].netid, "tcp") &&
		    !strcmp(ss.s[i].state, "LISTEN") &&
		    !strcmp(ss.s[i].local, local))
			ck = ss.s[i].cookie;
	EXPECT_NE(0ULL, ck) TH_LOG("no TCP listener on %s in ss -t", local);
	line = ck ? sl_find(&sl, ck) : NULL;
	EXPECT_NE(NULL, line);
	if (line) {
		TH_LOG("listener subflow: %s", line);
		EXPECT_FALSE(sl_kv(line, "msk", v, sizeof(v)));
	}

	/* A plain TCP connection: no msk key either. */
	for (i = 0; i < 2; i++) {
		ck = sl_sock_cookie(i ? self->ta : self->tc);
		line = sl_find(&sl, ck);
		EXPECT_NE(NULL, line);
		if (line) {
			EXPECT_FALSE(sl_kv(line, "msk", v, sizeof(v))) {
				TH_LOG("plain TCP socket: %s", line);
			}
		}
	}
	ss_free(&ss);
	sl_free(&sl);
}

static long long bytes_to_pages(long long b)
{
	long page = sysconf(_SC_PAGESIZE);

	return b > 0 ? (b + page - 1) / page : 0;
}

static long long ss_pages(const struct ss_sock *s)
{
	return bytes_to_pages(s->r + s->w + s->f);
}

/*
 * One msk and its TCP subflows (ss -t -i: local token = the msk's token),
 * as ss shows them. Their memory: r + w + f each. On 6.1 and 6.12 each
 * socket's is a whole number of pages. On 7.2 and 7.3 a subflow lends the
 * skbs it received to its msk with their memory
 * (mptcp_subflow_lend_fwdmem()), the rest of the page staying in the
 * subflow's fwd: only the msk and its subflows together hold whole pages,
 * and a page split between them is charged once.
 */
struct mp_conn {
	long long msk_bytes, sf_bytes;
	long long msk_pages, sf_pages;	/* page-rounded per socket */
	long long pages;		/* page-rounded all together */
	int subflows;
};

static void mp_conn(struct ss_list *ss, const struct ss_sock *m,
		    struct mp_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->msk_bytes = m->r + m->w + m->f;
	c->msk_pages = ss_pages(m);
	for (int i = 0; m->token && i < ss->n; i++) {
		struct ss_sock *x = &ss->s[i];

		if (!strcmp(x->netid, "tcp") && x->subflow &&
		    x->sf_token_loc == m->token) {
			c->subflows++;
			c->sf_bytes += x->r + x->w + x->f;
			c->sf_pages += ss_pages(x);
		}
	}
	c->pages = bytes_to_pages(c->msk_bytes + c->sf_bytes);
}

/* The TCP line of summary, read until two reads in a row agree. */
static bool tcp_summary(char *line, size_t size)
{
	char prev[4096] = "", *sum;

	for (int i = 0; i < 30; i++) {
		if (i)
			sl_msleep(200);
		sum = sl_read_file(SL_DIR "/summary");
		if (!sum || !sl_summary_line(sum, "all", "proto", "tcp", line,
					     size)) {
			free(sum);
			continue;
		}
		free(sum);
		if (sl_kv_ll(line, "usage_pages") ==
		    sl_kv_ll(prev, "usage_pages") &&
		    sl_kv_ll(line, "unexplained_pages") ==
		    sl_kv_ll(prev, "unexplained_pages"))
			return true;
		snprintf(prev, sizeof(prev), "%s", line);
	}
	return false;
}

/*
 * summary: mptcp_pages of the TCP line is the pages of the MPTCP
 * connections ss shows, each msk with its subflows rounded up together
 * (see struct mp_conn; msks share TCP's memory_allocated), and
 * unexplained_pages leaves them out (and adds back the subflows' own
 * pages, in seen_pages): the pages the connection added to TCP's usage
 * (the kernel's count) are all explained, unexplained_pages is what it
 * was before. This netns's kind=mem proto=mptcp line sums ss -M's skmem
 * and the msks' pages, its kind=states line counts ss -M's ESTAB msks.
 */
TEST_F_TIMEOUT(mp, mptcp_pages_explained, SL_HEAVY_TIMEOUT)
{
	long long pages = 0, msk_pages = 0, sf_pages = 0, estab = 0;
	long long r = 0, t = 0, w = 0, f = 0;
	struct ss_list ss = {}, again = {};
	char line[4096], ns[32], before[4096], *sum = NULL;
	bool quiet = false;
	int i;

	/* Other tests' leftovers may hold pages: compare with this start. */
	ASSERT_TRUE(tcp_summary(before, sizeof(before)));
	TH_LOG("before: %s", before);
	mp_pair(_metadata, self, 0, DATA_BYTES);
	pair_settled(_metadata, self, &ss, false);
	ss_free(&ss);

	for (i = 0; i < 30 && !quiet; i++) {
		if (i)
			sl_msleep(200);
		ss_free(&ss);
		ss_free(&again);
		free(sum);
		ASSERT_LE(0, ss_list_opts(NULL, SS_OPTS, &ss));
		sum = sl_read_file(SL_DIR "/summary");
		ASSERT_NE(NULL, sum);
		ASSERT_LE(0, ss_list_opts(NULL, SS_OPTS, &again));
		quiet = ss_same(&ss, &again);
	}
	ASSERT_TRUE(quiet) TH_LOG("ss -M never quiescent");
	for (i = 0; i < ss.n; i++) {
		struct ss_sock *x = &ss.s[i];
		struct mp_conn c;

		if (strcmp(x->netid, "mptcp"))
			continue;
		mp_conn(&ss, x, &c);
		TH_LOG("ss msk sk:%llx %s r=%lld t=%lld w=%lld f=%lld, %d subflows %lld B: %lld pages",
		       x->cookie, x->state, x->r, x->t, x->w, x->f,
		       c.subflows, c.sf_bytes, c.pages);
		pages += c.pages;
		msk_pages += c.msk_pages;
		sf_pages += c.sf_pages;
		r += x->r;
		t += x->t;
		w += x->w;
		f += x->f;
		estab += !strcmp(x->state, "ESTAB");
	}
	EXPECT_LT(0, pages);

	ASSERT_TRUE(sl_summary_line(sum, "all", "proto", "tcp", line,
				    sizeof(line)));
	TH_LOG("%s", line);
	EXPECT_FIELD(line, "mptcp_pages", pages);
	EXPECT_EQ(sl_kv_ll(line, "usage_pages") - sl_kv_ll(line, "seen_pages") -
		  sl_kv_ll(line, "unhashed_pages") -
		  sl_kv_ll(line, "mptcp_pages") + sf_pages,
		  sl_kv_ll(line, "unexplained_pages"));
	EXPECT_LE(pages, sl_kv_ll(line, "usage_pages") -
			 sl_kv_ll(before, "usage_pages"));
	EXPECT_EQ(sl_kv_ll(before, "unexplained_pages"),
		  sl_kv_ll(line, "unexplained_pages")) {
		TH_LOG("before: %s", before);
	}

	snprintf(ns, sizeof(ns), "%lu", sl_netns_inum());
	EXPECT_TRUE(sl_summary_line(sum, ns, "mem", "mptcp", line,
				    sizeof(line)));
	TH_LOG("%s", line);
	EXPECT_FIELD(line, "rmem", r);
	EXPECT_FIELD(line, "wmem", t);
	EXPECT_FIELD(line, "queued", w);
	EXPECT_FIELD(line, "fwd", f);
	EXPECT_FIELD(line, "pages", msk_pages);
	EXPECT_TRUE(sl_summary_line(sum, ns, "states", "mptcp", line,
				    sizeof(line)));
	TH_LOG("%s", line);
	EXPECT_FIELD(line, "ESTAB", estab);
	EXPECT_LE(2, estab);
	EXPECT_TRUE(sl_summary_line(sum, "all", "mem", "mptcp", line,
				    sizeof(line)));
	EXPECT_TRUE(sl_summary_line(sum, "all", "states", "mptcp", line,
				    sizeof(line)));
	free(sum);
	ss_free(&ss);
	ss_free(&again);
}

/* ---- memory cgroups ------------------------------------------------ */

struct cg_args {
	const char *procs;	/* cgroup.procs to join first */
	int bytes;		/* to send, never read by the peer */
	struct sockaddr_storage sin;	/* client: where to connect */
};

/* In a child: the test's end of a pipe pair. */
static int child_start(struct mp_child *ch,
		       int (*fn)(int up, int down, struct cg_args *a),
		       struct cg_args *a)
{
	int up[2], down[2];

	if (pipe(up))
		return -1;
	if (pipe(down)) {
		close(up[0]);
		close(up[1]);
		return -1;
	}
	ch->pid = fork();
	if (ch->pid < 0)
		return -1;
	if (!ch->pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(up[0]);
		close(down[1]);
		_exit(fn(up[1], down[0], a));
	}
	close(up[1]);
	close(down[0]);
	ch->up = up[0];
	ch->down = down[1];
	return 0;
}

static void child_wait_eof(int down)
{
	char c;

	while (read(down, &c, 1) == 1)
		;
}

/*
 * The server: joins its cgroup, listens (reports the port), accepts,
 * closes the listener, reports the accepted msk's cookie, sends a->bytes
 * back and holds it until EOF.
 */
static int server_main(int up, int down, struct cg_args *a)
{
	struct sl_sock_opts o = { .backlog = 16, .proto = IPPROTO_MPTCP };
	struct sockaddr_storage sin;
	unsigned long long ck;
	int l, s;

	if (sl_write(a->procs, "0"))
		return 10;
	l = sl_listener_at(&o, &sin);
	if (l < 0)
		return 11;
	if (write(up, &sin, sizeof(sin)) != sizeof(sin))
		return 12;
	s = accept(l, NULL, NULL);
	if (s < 0)
		return 13;
	close(l);
	ck = sl_sock_cookie(s);
	if (write(up, &ck, sizeof(ck)) != sizeof(ck))
		return 14;
	if (send_bytes(s, a->bytes))
		return 15;
	child_wait_eof(down);
	return 0;
}

/*
 * The client: joins its cgroup, connects, reports its cookie, sends once
 * told to ('g'), says when done ('d').
 */
static int client_main(int up, int down, struct cg_args *a)
{
	unsigned long long ck;
	char go;
	int c;

	if (sl_write(a->procs, "0"))
		return 20;
	c = sl_connect_at(&mp_client, &a->sin);
	if (c < 0)
		return 21;
	ck = sl_sock_cookie(c);
	if (write(up, &ck, sizeof(ck)) != sizeof(ck))
		return 22;
	if (read(down, &go, 1) != 1 || go != 'g')
		return 23;
	if (send_bytes(c, a->bytes))
		return 24;
	if (write(up, "d", 1) != 1)
		return 25;
	child_wait_eof(down);
	return 0;
}

/* One side of the connection as ss and memory.stat show it. */
struct cg_side {
	const char *name;
	unsigned long long ino;		/* the cgroup's id */
	unsigned long long msk;		/* its msk's cookie */
	struct mp_conn conn;		/* ss: the msk and its subflows */
	char ss_cgroup[128];		/* ss --cgroup of its msk */
	char line[4096];		/* its cgroups line */
};

static void side_from_ss(struct ss_list *ss, struct cg_side *sd)
{
	struct ss_sock *m = ss_find(ss, sd->msk);

	memset(&sd->conn, 0, sizeof(sd->conn));
	sd->ss_cgroup[0] = '\0';
	if (!m)
		return;
	mp_conn(ss, m, &sd->conn);
	snprintf(sd->ss_cgroup, sizeof(sd->ss_cgroup), "%s", m->cgroup);
}

/*
 * Both msks hold data (the caller also requires two identical ss reads).
 * Bytes the sender still queues are allowed: with 64 KiB sent into a
 * reader that never reads, the receive window may close before the last
 * bytes fit (seen on 6.12-rt: w=93 on the client, for good), and those
 * bytes are charged and counted like the rest.
 */
static bool both_held(struct ss_list *l, unsigned long long client,
		      unsigned long long server)
{
	struct ss_sock *c = ss_find(l, client), *s = ss_find(l, server);

	return c && s && c->r > 0 && s->r > 0;
}

/* memory.stat "sock" of dir, once it is one of want[0..n-1] (bytes). */
static long long wait_stat_sock(const char *dir, const long long *want,
				int n)
{
	char path[256];
	long long sock = -1;

	snprintf(path, sizeof(path), CGROOT "%s/memory.stat", dir);
	for (int waited = 0; waited <= STAT_WAIT_MS; waited += 250) {
		sock = cg_stat(path, "sock");
		for (int i = 0; i < n; i++)
			if (sock == want[i])
				return sock;
		sl_msleep(250);
	}
	return sock;
}

/*
 * Client and server in two fresh v2 memory cgroups, each end holding
 * data it never reads. Per cgroup, the cgroups line's mptcp= counts the
 * msks charged to its memcg, and charged/subtree_charged equal
 * memory.stat's sock, which equals the pages ss shows for the sockets
 * charged there. The client's msk is charged where it was created, on
 * every kernel. The accepted msk is charged at accept() on 7.2 and 7.3
 * (__inet_accept() sets its memcg); 6.1 and 6.12 set none
 * (sk_clone_lock() clears it, and inet_csk_accept() charges the subflow
 * only), though ss --cgroup shows it in the server's cgroup. memory.stat
 * tells which one this kernel does: the server cgroup's sock is either
 * its subflows' pages or those plus the msk's (rounded together, see
 * struct mp_conn), and sockleak must agree.
 */
TEST_F_TIMEOUT(mp, cgroup_charged, SL_HEAVY_TIMEOUT)
{
	struct cg_args sa = { .procs = CGROOT CG_S "/cgroup.procs",
			      .bytes = BACK_BYTES };
	struct cg_args ca = { .procs = CGROOT CG_C "/cgroup.procs",
			      .bytes = BACK_BYTES };
	struct cg_side cli = { .name = "client" }, srv = { .name = "server" };
	struct ss_list ss = {}, again = {};
	long long sock_c = -1, sock_s = -1, want[2];
	bool ok, srv_charged = false;
	char *r1 = NULL, *r2 = NULL, done = 0;
	int i;

	ASSERT_EQ(0, sl_cg_v2_memory_on());
	self->mem_enabled = true;
	ASSERT_EQ(0, mkdir(CGROOT CG_C, 0755));
	ASSERT_EQ(0, mkdir(CGROOT CG_S, 0755));
	cli.ino = path_ino(CGROOT CG_C);
	srv.ino = path_ino(CGROOT CG_S);
	ASSERT_NE(0ULL, cli.ino);
	ASSERT_NE(0ULL, srv.ino);

	/*
	 * Children run from here on: no ASSERT until they are stopped. The
	 * client sends once the server has accepted: on 7.2 and 7.3 accept()
	 * charges the msk and each subflow for what they hold, each rounded
	 * up (__sk_charge()), so a page split between them by data queued
	 * before accept() is charged twice (seen: memory.stat 73728, the
	 * connection's sockets 69632 B); nothing can see that page.
	 */
	ok = !child_start(&self->srv, server_main, &sa) &&
	     read(self->srv.up, &ca.sin, sizeof(ca.sin)) == sizeof(ca.sin) &&
	     !child_start(&self->cli, client_main, &ca) &&
	     read(self->cli.up, &cli.msk, sizeof(cli.msk)) ==
		sizeof(cli.msk) &&
	     read(self->srv.up, &srv.msk, sizeof(srv.msk)) ==
		sizeof(srv.msk) &&
	     write(self->cli.down, "g", 1) == 1 &&
	     read(self->cli.up, &done, 1) == 1 && done == 'd';
	EXPECT_TRUE(ok) TH_LOG("the client and server did not start");

	/* ss, cgroups, ss again: settled and the same both times. */
	for (i = 0; ok && i < 50; i++) {
		if (i)
			sl_msleep(200);
		ss_free(&ss);
		ss_free(&again);
		free(r1);
		free(r2);
		r2 = NULL;
		r1 = sl_read_file(SL_DIR "/cgroups");
		if (ss_list_opts(NULL, SS_OPTS " --cgroup", &ss) < 0)
			continue;
		r2 = sl_read_file(SL_DIR "/cgroups");
		if (ss_list_opts(NULL, SS_OPTS " --cgroup", &again) < 0)
			continue;
		if (r1 && r2 && !strcmp(r1, r2) && ss_same(&ss, &again) &&
		    both_held(&again, cli.msk, srv.msk))
			break;
	}
	if (ok && i == 50) {
		struct ss_sock *c = ss_find(&again, cli.msk);
		struct ss_sock *s = ss_find(&again, srv.msk);

		TH_LOG("cgroups %s, ss %s", r1 && r2 && !strcmp(r1, r2) ?
		       "stable" : "changing", ss_same(&ss, &again) ?
		       "stable" : "changing");
		TH_LOG("client msk %llx: %s r=%lld w=%lld, server msk %llx: %s r=%lld w=%lld",
		       cli.msk, c ? "listed" : "not listed", c ? c->r : -1,
		       c ? c->w : -1, srv.msk,
		       s ? "listed" : "not listed", s ? s->r : -1,
		       s ? s->w : -1);
	}
	ok = ok && i < 50 && r1;
	EXPECT_TRUE(ok) TH_LOG("never settled");
	if (ok) {
		side_from_ss(&ss, &cli);
		side_from_ss(&ss, &srv);
		ok = cg_line(r1, cli.ino, cli.line, sizeof(cli.line)) &&
		     cg_line(r1, srv.ino, srv.line, sizeof(srv.line));
		EXPECT_TRUE(ok) TH_LOG("no cgroups line for %s or %s", CG_C,
				       CG_S);
	}
	if (ok) {
		long page = sysconf(_SC_PAGESIZE);

		for (i = 0; i < 2; i++) {
			struct cg_side *sd = i ? &srv : &cli;

			TH_LOG("%s msk %llx: %lld B (%lld pages), %d subflows %lld B (%lld pages), together %lld pages, ss cgroup %s",
			       sd->name, sd->msk, sd->conn.msk_bytes,
			       sd->conn.msk_pages, sd->conn.subflows,
			       sd->conn.sf_bytes, sd->conn.sf_pages,
			       sd->conn.pages, sd->ss_cgroup);
			TH_LOG("%s: %s", sd->name, sd->line);
		}
		EXPECT_LE(1, cli.conn.subflows);
		EXPECT_LE(1, srv.conn.subflows);
		/* ss's v2 cgroup of each msk (sk_cgrp_data) */
		EXPECT_STREQ(CG_C, cli.ss_cgroup);
		EXPECT_STREQ(CG_S, srv.ss_cgroup);
		/* Both hold unread data: something to count. */
		EXPECT_LT(0, cli.conn.msk_pages);
		EXPECT_LT(0, srv.conn.msk_pages);

		want[0] = cli.conn.pages * page;
		sock_c = wait_stat_sock(CG_C, want, 1);
		EXPECT_EQ(want[0], sock_c) {
			TH_LOG("%s memory.stat sock %lld, ss: msk + subflows %lld",
			       CG_C, sock_c, want[0]);
		}
		want[0] = srv.conn.sf_pages * page;
		want[1] = srv.conn.pages * page;
		sock_s = wait_stat_sock(CG_S, want, 2);
		EXPECT_TRUE(sock_s == want[0] || sock_s == want[1]) {
			TH_LOG("%s memory.stat sock %lld, ss: subflows %lld, with the msk %lld",
			       CG_S, sock_s, want[0], want[1]);
		}
		srv_charged = sock_s == want[1];
		TH_LOG("the accepted msk is %scharged to %s (memory.stat sock %lld)",
		       srv_charged ? "" : "not ", CG_S, sock_s);

		EXPECT_FIELD(cli.line, "mptcp", 1);
		EXPECT_FIELD(cli.line, "charged", sock_c);
		EXPECT_FIELD(cli.line, "subtree_charged", sock_c);
		EXPECT_FIELD(srv.line, "mptcp", srv_charged ? 1 : 0);
		EXPECT_FIELD(srv.line, "charged", sock_s);
		EXPECT_FIELD(srv.line, "subtree_charged", sock_s);
	}
	free(r1);
	free(r2);
	ss_free(&ss);
	ss_free(&again);
	EXPECT_EQ(0, child_stop(&self->cli));
	EXPECT_EQ(0, child_stop(&self->srv));
}

/* ---- tracker and suspects ------------------------------------------ */

static bool in_ss(unsigned long long cookie)
{
	struct ss_list l = {};
	bool found;

	if (ss_list_opts(NULL, SS_OPTS, &l) < 0)
		return true;
	found = ss_find(&l, cookie);
	ss_free(&l);
	return found;
}

/*
 * An msk closed by its owner while a "buggy kernel user"
 * (sockleak_holdref) still holds a reference: gone from ss -M, listed in
 * "tracked" as proto=mptcp, closed by this process, after grace_ms; once
 * released, freed and gone.
 */
TEST_F_TIMEOUT(mp, msk_leak_tracked, SL_HEAVY_TIMEOUT)
{
	char *text = NULL, v[64], cmd[32];
	struct ss_list ss = {};
	unsigned long long ck;
	const char *line = NULL;
	struct sl_list sl;
	bool listed;
	int i;

	ASSERT_EQ(0, system("modprobe sockleak_holdref"));
	self->tracking = true;
	ASSERT_EQ(0, sl_control("track=off\ngrace_ms=200\ntrack=on"));
	mp_pair(_metadata, self, 0, DATA_BYTES);
	pair_settled(_metadata, self, &ss, false);
	ss_free(&ss);

	ck = sl_sock_cookie(self->a);
	ASSERT_NE(0ULL, ck);
	snprintf(cmd, sizeof(cmd), "hold %d", self->a);
	ASSERT_EQ(0, sl_write(HOLDREF, cmd));
	close_fd(&self->c);
	sl_msleep(50);
	close_fd(&self->a);

	sl_msleep(GRACE_MS + 300);
	for (i = 0; i < 100; i++) {
		line = sl_tracked_find(&text, ck);
		if (line)
			break;
		free(text);
		text = NULL;
		sl_msleep(100);
	}
	ASSERT_NE(NULL, line) TH_LOG("leaked msk %llx not in tracked", ck);
	TH_LOG("%s", line);
	ASSERT_TRUE(sl_kv(line, "proto", v, sizeof(v)));
	EXPECT_STREQ("mptcp", v);
	EXPECT_EQ(getpid(), sl_kv_ll(line, "close_pid"));
	EXPECT_LE(1, sl_kv_ll(line, "refcnt"));
	free(text);
	/* ss -M no longer sees it: closed, its token gone. */
	for (i = 0; i < 50 && in_ss(ck); i++)
		sl_msleep(100);
	EXPECT_FALSE(in_ss(ck));

	/* Released: freed, gone from both reports. */
	ASSERT_EQ(0, sl_write(HOLDREF, "release"));
	for (i = 0, listed = true; i < 50 && listed; i++) {
		if (i)
			sl_msleep(100);
		listed = sl_tracked_find(&text, ck);
		free(text);
	}
	EXPECT_FALSE(listed) TH_LOG("released msk %llx still tracked", ck);
	ASSERT_LE(0, sl_sockets(&sl));
	EXPECT_EQ(NULL, sl_find(&sl, ck));
	sl_free(&sl);
}

/*
 * The msk's teardown steps. An msk never connected is destroyed by its
 * close() itself (__mptcp_close(): a closed msk goes straight to
 * __mptcp_destroy_sock(), the msk's destroy, then sk_stream_kill_queues()).
 * Held by holdref, it stays: "tracked" must list every step as run and
 * none missing, the destroy and kill-queues steps of an msk included.
 */
TEST_F_TIMEOUT(mp, msk_destroy_steps, SL_HEAVY_TIMEOUT)
{
	char *text = NULL, v[128], cmd[32];
	unsigned long long ck;
	const char *line = NULL;
	int i;

	ASSERT_EQ(0, system("modprobe sockleak_holdref"));
	self->tracking = true;
	ASSERT_EQ(0, sl_control("track=off\ngrace_ms=200\ntrack=on"));
	self->u = mp_socket();
	ASSERT_LE(0, self->u);
	ck = sl_sock_cookie(self->u);
	ASSERT_NE(0ULL, ck);
	snprintf(cmd, sizeof(cmd), "hold %d", self->u);
	ASSERT_EQ(0, sl_write(HOLDREF, cmd));
	close_fd(&self->u);

	sl_msleep(GRACE_MS + 300);
	for (i = 0; i < 50 && !line; i++) {
		if (i)
			sl_msleep(100);
		free(text);
		line = sl_tracked_find(&text, ck);
	}
	ASSERT_NE(NULL, line) TH_LOG("held msk %llx not in tracked", ck);
	TH_LOG("%s", line);
	ASSERT_TRUE(sl_kv(line, "proto", v, sizeof(v)));
	EXPECT_STREQ("mptcp", v);
	ASSERT_TRUE(sl_kv(line, "steps", v, sizeof(v)));
	EXPECT_STREQ("close,destroy,kill_queues,orphan", v);
	ASSERT_TRUE(sl_kv(line, "missing", v, sizeof(v)));
	EXPECT_STREQ("-", v);
	free(text);
}

/*
 * SO_RCVBUF set by hand on the listener (the accepted msk inherits it)
 * and the server's msk filled up to it by a client that keeps sending:
 * a suspect with reason rcvbuf_locked, naming the size the socket itself
 * reports and the protocol, mptcp. MPTCP's flow control stops such an
 * msk at 61-65% of its buffer (10064 or 10704 of 16384 B on every kernel
 * here), below the default rcvbuf_pct of 75, and an msk has no receive
 * window a module can read (TCP's closed-window rule): the test sets the
 * threshold to 50%.
 */
TEST_F_TIMEOUT(mp, rcvbuf_suspect, SL_HEAVY_TIMEOUT)
{
	unsigned long long ck;
	struct ss_list ss = {};
	struct sl_list su = {}, sl = {};
	socklen_t len = sizeof(int);
	char want[96], v[64];
	const char *line;
	struct ss_sock *x;
	int rcvbuf = 0;

	/* "unread" ranks first: not within this test's lifetime. */
	self->tuned = true;
	ASSERT_EQ(0, sl_control("unread_ms=3600000\nrcvbuf_pct=50"));
	mp_pair(_metadata, self, SMALL_RCVBUF, 1 << 20);
	pair_settled(_metadata, self, &ss, true);
	ck = sl_sock_cookie(self->a);
	ASSERT_EQ(0, getsockopt(self->a, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				&len));
	x = ss_find(&ss, ck);
	ASSERT_NE(NULL, x);
	TH_LOG("SO_RCVBUF %d; ss: r=%lld rb=%lld", rcvbuf, x->r, x->rb);
	EXPECT_EQ(rcvbuf, x->rb);
	EXPECT_LT(0, x->r);
	/*
	 * Full by the kernel's own flow control: nothing moves (settled)
	 * while the client's msk still holds data it cannot send.
	 */
	x = ss_find(&ss, sl_sock_cookie(self->c));
	ASSERT_NE(NULL, x);
	EXPECT_LT(0, x->w) TH_LOG("the client sent everything: not full");
	ss_free(&ss);

	ASSERT_EQ(0, sl_control("scan"));
	ASSERT_LE(0, sl_lines(SL_DIR "/suspects", &su));
	line = sl_suspect_cookie(&su, NULL, ck);
	if (!line) {
		ASSERT_LE(0, sl_sockets(&sl));
		TH_LOG("socket: %s", sl_find(&sl, ck));
		sl_free(&sl);
	}
	ASSERT_NE(NULL, line) TH_LOG("no suspect line for msk %llx", ck);
	TH_LOG("%s", line);
	EXPECT_FIELD_STR(line, "kind", "socket");
	EXPECT_FIELD_STR(line, "reason", "rcvbuf_locked");
	EXPECT_FIELD(line, "pid", getpid());
	snprintf(want, sizeof(want), "SO_RCVBUF set by hand to %d and",
		 rcvbuf);
	EXPECT_NE(NULL, strstr(line, want)) TH_LOG("want \"%s\"", want);
	/* The protocol: a proto= key, or named in the explanation. */
	if (sl_kv(line, "proto", v, sizeof(v))) {
		EXPECT_STREQ("mptcp", v);
	} else {
		EXPECT_TRUE(strstr(line, "mptcp") || strstr(line, "MPTCP"));
	}
	sl_free(&su);

	ASSERT_LE(0, sl_sockets(&sl));
	line = sl_find(&sl, ck);
	ASSERT_NE(NULL, line);
	EXPECT_FIELD_STR(line, "proto", "mptcp");
	EXPECT_TRUE(sl_has_flag(line, "rcvbuf_locked")) TH_LOG("%s", line);
	sl_free(&sl);
}

TEST_HARNESS_MAIN
