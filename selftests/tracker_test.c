// SPDX-License-Identifier: GPL-2.0
/*
 * The tracker ("track" command, "tracked" file) against what the
 * test itself knows: which sockets it created, which it closed, from which
 * process, and which one a test-only module (sockleak_holdref) holds a
 * leaked reference on; ss and /proc/net/sockstat are the kernel's own
 * views. A leaked socket must show in "tracked" with its close stack and
 * task and vanish once released; normal lifecycles must never show.
 */
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest_harness.h"
#include "lib/sl_util.h"

#define HOLDREF "/sys/kernel/debug/sockleak_holdref/ctl"
#define GRACE_MS 200

/* The tests' listeners on 127.0.0.1, and their clients. */
static const struct sl_sock_opts tr_listen = { .backlog = 128 };
static const struct sl_sock_opts tr_client = {};

/* A connected pair: *c the client, *a the accepted child. */
static int pair(int l, const struct sockaddr_storage *sin, int *c, int *a)
{
	*c = sl_connect_at(&tr_client, sin);
	if (*c < 0)
		return -1;
	*a = accept(l, NULL, NULL);
	return *a < 0 ? -1 : 0;
}

static bool in_ss(unsigned long long cookie)
{
	struct ss_list l = { 0 };
	bool found;

	if (ss_list(NULL, &l) < 0)
		return true;
	found = ss_find(&l, cookie);
	ss_free(&l);
	return found;
}

static void my_comm(char *buf, size_t size)
{
	char *c = sl_read_file("/proc/self/comm");

	snprintf(buf, size, "%s", c ? c : "");
	buf[strcspn(buf, "\n")] = '\0';
	free(c);
}

FIXTURE(tr) {
	int l;
	struct sockaddr_storage sin;
};

FIXTURE_SETUP(tr)
{
	ASSERT_EQ(0, system("modprobe sockleak && modprobe sockleak_holdref"));
	ASSERT_EQ(0, sl_control("track=off\ngrace_ms=200\ntrack=on"));
	self->l = sl_listener_at(&tr_listen, &self->sin);
	ASSERT_LE(0, self->l);
}

FIXTURE_TEARDOWN(tr)
{
	sl_write(HOLDREF, "clone_delay 0");
	sl_write(HOLDREF, "release");
	close(self->l);
	sl_control("track=off\ngrace_ms=1800000\nstacks=1\nstack_depth=8\n"
		   "stack_filter=off");
}

/*
 * A reference leaked by a "buggy kernel user": holdref takes one on
 * @held, then @peer and @held are closed, in that order.
 */
static int close_leaked(int held, int peer)
{
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "hold %d", held);
	if (sl_write(HOLDREF, cmd))
		return -1;
	close(peer);
	usleep(50000);
	close(held);
	return 0;
}

/* The leaked child: closed by us, held by holdref, listed, then freed. */
/* The leaked socket is one "tracked" suspect, named by its closer. */
static void check_tracked_suspect(struct __test_metadata *_metadata,
				  unsigned long long ck, const char *comm)
{
	char want[128], v[64];
	struct sl_list su;
	const char *one;

	ASSERT_LE(0, sl_lines(SL_DIR "/suspects", &su));
	one = sl_suspect_cookie(&su, "tracked", ck);
	EXPECT_NE(NULL, one) {
		TH_LOG("no tracked %llx in suspects", ck);
	}
	if (!one)
		one = "";
	EXPECT_EQ(getpid(), sl_kv_ll(one, "pid"));
	ASSERT_TRUE(sl_kv(one, "reason", v, sizeof(v)));
	EXPECT_STREQ("not_freed", v);
	snprintf(want, sizeof(want), "by pid %d (%.16s) but not freed: refcnt 1",
		 getpid(), comm);
	EXPECT_NE(NULL, strstr(one, want)) {
		TH_LOG("%s", one);
	}
	EXPECT_FIELD_STR(one, "verdict", "never");
	EXPECT_NE(NULL, strstr(one, "no timer armed, 1 reference left: only a sock_put() can free it"))
		TH_LOG("%s", one);
	EXPECT_EQ(NULL, sl_suspect_cookie(&su, "socket", ck));
	sl_free(&su);
}

TEST_F(tr, leak_shows_then_goes)
{
	char *text, v[512], comm[32];
	unsigned long long ck;
	const char *line;
	struct sl_list sl;
	int c, a;

	ASSERT_EQ(0, pair(self->l, &self->sin, &c, &a));
	ck = sl_sock_cookie(a);
	ASSERT_NE(0ULL, ck);
	/* a: CLOSE-WAIT -> LAST-ACK -> CLOSE: destroyed */
	ASSERT_EQ(0, close_leaked(a, c));
	usleep((GRACE_MS + 300) * 1000);

	/* ss no longer sees it: unhashed. */
	ASSERT_FALSE(in_ss(ck));
	line = sl_tracked_find(&text, ck);
	ASSERT_NE(NULL, line) TH_LOG("leaked socket %llx not in tracked", ck);
	/* Its owner closed it: expected refcnt 0; holdref adds one. */
	EXPECT_EQ(1, sl_kv_ll(line, "refcnt"));
	EXPECT_EQ(getpid(), sl_kv_ll(line, "close_pid"));
	my_comm(comm, sizeof(comm));
	ASSERT_TRUE(sl_kv(line, "close_comm", v, sizeof(v)));
	EXPECT_STREQ(comm, v);
	ASSERT_TRUE(sl_kv(line, "origin", v, sizeof(v)));
	EXPECT_STREQ("clone", v);
	ASSERT_TRUE(sl_kv(line, "close_stack", v, sizeof(v)));
	EXPECT_EQ(0, strncmp(v, "tcp_close+", 10)) TH_LOG("close_stack=%s", v);
	EXPECT_NE(NULL, strstr(v, "inet_release+"));
	ASSERT_TRUE(sl_kv(line, "steps", v, sizeof(v)));
	EXPECT_NE(NULL, strstr(v, "tcp_close"));
	EXPECT_NE(NULL, strstr(v, "destroy"));
	EXPECT_NE(NULL, strstr(v, "orphan"));
	ASSERT_TRUE(sl_kv(line, "missing", v, sizeof(v)));
	EXPECT_STREQ("-", v);
	/* Closed, every step ran, no timer: only holdref's put frees it. */
	EXPECT_FIELD_STR(line, "verdict", "never");
	EXPECT_FIELD_STR(line, "timer_left_ms", "-");
	ASSERT_TRUE(sl_kv(line, "alloc_stack", v, sizeof(v)));
	/* sk_clone_lock() became an inline around sk_clone() in 6.19. */
	EXPECT_TRUE(!strncmp(v, "sk_clone_lock+", 14) ||
		    !strncmp(v, "sk_clone+", 9)) TH_LOG("alloc_stack=%s", v);
	free(text);

	/* "sockets" lists it too, as unhashed and orphaned. */
	ASSERT_LT(0, sl_sockets(&sl));
	line = sl_find(&sl, ck);
	ASSERT_NE(NULL, line);
	EXPECT_TRUE(sl_has_flag(line, "unhashed"));
	EXPECT_EQ(1, sl_kv_ll(line, "orphan"));
	sl_free(&sl);

	/* "suspects" lists it once, as tracked, with the closing task. */
	check_tracked_suspect(_metadata, ck, comm);

	/* dump=<cookie> works; an unknown cookie fails. */
	snprintf(v, sizeof(v), "dump=%llx", ck);
	EXPECT_EQ(0, sl_control(v));
	EXPECT_EQ(-ENOENT, sl_control("dump=7fffffffffffffff"));
	EXPECT_EQ(-EINVAL, sl_control("dump=xyz"));
	EXPECT_EQ(-EINVAL, sl_control("track=maybe"));

	/* Released: freed, gone from both reports. */
	ASSERT_EQ(0, sl_write(HOLDREF, "release"));
	usleep(100000);
	EXPECT_EQ(NULL, sl_tracked_find(&text, ck));
	free(text);
	ASSERT_LT(0, sl_sockets(&sl));
	EXPECT_EQ(NULL, sl_find(&sl, ck));
	sl_free(&sl);
	text = sl_read_file(SL_DIR "/suspects");
	ASSERT_NE(NULL, text);
	snprintf(v, sizeof(v), " id=%llx ", ck);
	EXPECT_EQ(NULL, strstr(text, v));
	free(text);
}

/* Is local @port listed in /proc/net/udplite? */
static bool udplite_listed(unsigned int port)
{
	char *text = sl_read_file("/proc/net/udplite"), *line, *save = NULL;
	bool found = false;
	unsigned int lport;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line && !found;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, " %*d: %*8[0-9A-F]:%x", &lport) == 1 &&
		    lport == port)
			found = true;
	free(text);
	return found;
}

/*
 * UDP-Lite (6.1, 6.12; 7.x removed it) is tracked like UDP: a bound
 * UDP-Lite socket closed while holdref keeps a reference is listed with
 * proto=udplite and UDP's teardown steps, /proc/net/udplite no longer
 * shows it, and it goes once released (its free is seen).
 */
TEST_F(tr, udplite_leak_tracked)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	unsigned long long ck;
	const char *line;
	char *text, v[512];
	int u;

	u = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	if (u < 0)
		SKIP(return, "no UDP-Lite in this kernel (7.x removed it)");
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(0, bind(u, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, getsockname(u, (struct sockaddr *)&sin, &len));
	ASSERT_TRUE(udplite_listed(ntohs(sin.sin_port)));
	ck = sl_sock_cookie(u);
	ASSERT_NE(0ULL, ck);
	snprintf(v, sizeof(v), "hold %d", u);
	ASSERT_EQ(0, sl_write(HOLDREF, v));
	close(u);
	usleep((GRACE_MS + 300) * 1000);

	ASSERT_FALSE(udplite_listed(ntohs(sin.sin_port)));
	line = sl_tracked_find(&text, ck);
	ASSERT_NE(NULL, line) TH_LOG("UDP-Lite socket %llx not in tracked", ck);
	ASSERT_TRUE(sl_kv(line, "proto", v, sizeof(v)));
	EXPECT_STREQ("udplite", v);
	EXPECT_EQ(1, sl_kv_ll(line, "refcnt"));
	EXPECT_EQ(getpid(), sl_kv_ll(line, "close_pid"));
	ASSERT_TRUE(sl_kv(line, "origin", v, sizeof(v)));
	EXPECT_STREQ("alloc", v);
	ASSERT_TRUE(sl_kv(line, "steps", v, sizeof(v)));
	EXPECT_STREQ("close,unhash,orphan", v);
	ASSERT_TRUE(sl_kv(line, "missing", v, sizeof(v)));
	EXPECT_STREQ("-", v);
	ASSERT_TRUE(sl_kv(line, "close_stack", v, sizeof(v)));
	EXPECT_EQ(0, strncmp(v, "sk_common_release+", 18)) TH_LOG("%s", v);
	free(text);

	ASSERT_EQ(0, sl_write(HOLDREF, "release"));
	usleep(100000);
	EXPECT_EQ(NULL, sl_tracked_find(&text, ck));
	free(text);
}

/* stacks=0: the same record, without stacks. */
TEST_F(tr, stacks_off)
{
	char *text, v[512];
	unsigned long long ck;
	const char *line;
	int c, a;

	ASSERT_EQ(0, sl_control("stacks=0"));
	ASSERT_EQ(0, pair(self->l, &self->sin, &c, &a));
	ck = sl_sock_cookie(a);
	ASSERT_EQ(0, close_leaked(a, c));
	usleep((GRACE_MS + 300) * 1000);
	line = sl_tracked_find(&text, ck);
	ASSERT_NE(NULL, line) TH_LOG("leaked socket %llx not in tracked", ck);
	EXPECT_EQ(getpid(), sl_kv_ll(line, "close_pid"));
	ASSERT_TRUE(sl_kv(line, "origin", v, sizeof(v)));
	EXPECT_STREQ("clone", v);
	ASSERT_TRUE(sl_kv(line, "missing", v, sizeof(v)));
	EXPECT_STREQ("-", v);
	ASSERT_TRUE(sl_kv(line, "alloc_stack", v, sizeof(v)));
	EXPECT_STREQ("-", v);
	ASSERT_TRUE(sl_kv(line, "close_stack", v, sizeof(v)));
	EXPECT_STREQ("-", v);
	free(text);
	ASSERT_EQ(0, sl_control("stacks=1"));
}

/* Frames in a stack value: one more than its commas; "-" is none. */
static int frames(const char *v)
{
	int n = 1;

	if (!strcmp(v, "-"))
		return 0;
	for (; *v; v++)
		n += *v == ',';
	return n;
}

/*
 * Leak one end of a new pair (@client: the connecting socket, allocated
 * by this task; else the accepted child, cloned in softirq), wait for it
 * in "tracked" and copy its alloc_stack and close_stack.
 */
static int leak_stacks(struct __test_metadata *_metadata, int l,
		       const struct sockaddr_storage *sin, bool client,
		       char *alloc, char *close, size_t size)
{
	unsigned long long ck;
	const char *line;
	char *text;
	int c, a;

	if (pair(l, sin, &c, &a))
		return -1;
	ck = sl_sock_cookie(client ? c : a);
	if (client ? close_leaked(c, a) : close_leaked(a, c))
		return -1;
	usleep((GRACE_MS + 300) * 1000);
	line = sl_tracked_find(&text, ck);
	if (!line) {
		TH_LOG("leaked socket %llx not in tracked", ck);
		return -1;
	}
	if (!sl_kv(line, "alloc_stack", alloc, size) ||
	    !sl_kv(line, "close_stack", close, size)) {
		free(text);
		return -1;
	}
	free(text);
	/* Freed before the next leak, so each finds only its own. */
	return sl_write(HOLDREF, "release");
}

/* stack_depth=3: every full stack (stacks=2) is cut to 3 frames, innermost kept. */
TEST_F(tr, stack_depth_cuts_frames)
{
	char alloc[512], close[512];

	ASSERT_EQ(0, sl_control("stacks=2\nstack_depth=3"));
	ASSERT_EQ(0, leak_stacks(_metadata, self->l, &self->sin, false,
				 alloc, close, sizeof(alloc)));
	EXPECT_EQ(3, frames(alloc)) TH_LOG("alloc_stack=%s", alloc);
	EXPECT_TRUE(!strncmp(alloc, "sk_clone_lock+", 14) ||
		    !strncmp(alloc, "sk_clone+", 9)) TH_LOG("%s", alloc);
	EXPECT_EQ(3, frames(close)) TH_LOG("close_stack=%s", close);
	EXPECT_EQ(0, strncmp(close, "tcp_close+", 10)) TH_LOG("%s", close);
	EXPECT_NE(NULL, strstr(close, "inet_release+"));

	/* The default, 8: the path from the syscall, well over 3. */
	ASSERT_EQ(0, sl_control("stack_depth=8"));
	ASSERT_EQ(0, leak_stacks(_metadata, self->l, &self->sin, false,
				 alloc, close, sizeof(alloc)));
	EXPECT_LT(3, frames(close)) TH_LOG("close_stack=%s", close);
}

/*
 * The default, stacks=1: a full stack only where it tells something. A
 * user socket's allocation, an accepted child's and a close through the
 * file are their call site: the probed function and its caller. A kernel
 * socket's allocation and its sock_release() are full stacks, down to the
 * code that made and released it (the test module's holdref_kern(), or
 * holdref_write() where it is inlined).
 */
TEST_F(tr, default_stacks_where_they_tell)
{
	char alloc[512], close[512], v[1024], *text, *ck_text;
	unsigned long long ck;
	const char *line;

	ASSERT_EQ(0, sl_control("stacks=1\nstack_depth=8"));
	/* The accepted child: sk_clone_lock() from inet_csk_clone_lock(). */
	ASSERT_EQ(0, leak_stacks(_metadata, self->l, &self->sin, false,
				 alloc, close, sizeof(alloc)));
	EXPECT_EQ(2, frames(alloc)) TH_LOG("alloc_stack=%s", alloc);
	EXPECT_NE(NULL, strstr(alloc, "inet_csk_clone_lock+"))
		TH_LOG("%s", alloc);
	EXPECT_EQ(2, frames(close)) TH_LOG("close_stack=%s", close);
	EXPECT_EQ(0, strncmp(close, "tcp_close+", 10)) TH_LOG("%s", close);
	EXPECT_NE(NULL, strstr(close, "inet_release+")) TH_LOG("%s", close);
	/* The client: set up by sock_init_data(), from inet_create(). */
	ASSERT_EQ(0, leak_stacks(_metadata, self->l, &self->sin, true,
				 alloc, close, sizeof(alloc)));
	EXPECT_EQ(2, frames(alloc)) TH_LOG("alloc_stack=%s", alloc);
	EXPECT_EQ(0, strncmp(alloc, "sock_init_data_uid+", 19))
		TH_LOG("%s", alloc);
	EXPECT_NE(NULL, strstr(alloc, "inet_create")) TH_LOG("%s", alloc);
	EXPECT_EQ(2, frames(close)) TH_LOG("close_stack=%s", close);

	/* A kernel socket, made and released by the test module. */
	ASSERT_EQ(0, sl_write(HOLDREF, "kern 1 2 0"));
	ck_text = sl_read_file("/sys/kernel/debug/sockleak_holdref/cookie");
	ASSERT_NE(NULL, ck_text);
	ck = strtoull(ck_text, NULL, 16);
	free(ck_text);
	usleep((GRACE_MS + 300) * 1000);
	line = sl_tracked_find(&text, ck);
	ASSERT_NE(NULL, line) TH_LOG("kernel socket %llx not in tracked", ck);
	ASSERT_TRUE(sl_kv(line, "alloc_stack", v, sizeof(v)));
	EXPECT_LT(2, frames(v)) TH_LOG("alloc_stack=%s", v);
	EXPECT_NE(NULL, strstr(v, "__sock_create+")) TH_LOG("%s", v);
	EXPECT_NE(NULL, strstr(v, "holdref_")) TH_LOG("%s", v);
	ASSERT_TRUE(sl_kv(line, "close_stack", v, sizeof(v)));
	EXPECT_LT(2, frames(v)) TH_LOG("close_stack=%s", v);
	EXPECT_EQ(0, strncmp(v, "sock_release+", 13)) TH_LOG("%s", v);
	EXPECT_NE(NULL, strstr(v, "holdref_")) TH_LOG("%s", v);
	free(text);
}

/*
 * stack_filter=: stacks only for the sockets of one netns (its inode, as
 * /proc/self/ns/net names it) or one task's comm; the others are still
 * tracked, without stacks.
 */
TEST_F(tr, stack_filter_netns_comm)
{
	char alloc[512], close[512], cmd[64], comm[32], *ctl;
	struct stat st;

	ASSERT_EQ(0, stat("/proc/self/ns/net", &st));
	snprintf(cmd, sizeof(cmd), "stack_filter=netns:%lu",
		 (unsigned long)st.st_ino + 1);
	ASSERT_EQ(0, sl_control(cmd));
	ASSERT_EQ(0, leak_stacks(_metadata, self->l, &self->sin, false,
				 alloc, close, sizeof(alloc)));
	EXPECT_STREQ("-", alloc);
	EXPECT_STREQ("-", close);

	snprintf(cmd, sizeof(cmd), "stack_filter=netns:%lu",
		 (unsigned long)st.st_ino);
	ASSERT_EQ(0, sl_control(cmd));
	ctl = sl_read_file(SL_DIR "/control");
	ASSERT_NE(NULL, ctl);
	EXPECT_NE(NULL, strstr(ctl, cmd)) TH_LOG("%s", ctl);
	free(ctl);
	ASSERT_EQ(0, leak_stacks(_metadata, self->l, &self->sin, false,
				 alloc, close, sizeof(alloc)));
	EXPECT_TRUE(!strncmp(alloc, "sk_clone_lock+", 14) ||
		    !strncmp(alloc, "sk_clone+", 9)) TH_LOG("%s", alloc);
	EXPECT_EQ(0, strncmp(close, "tcp_close+", 10)) TH_LOG("%s", close);

	/* comm: the client, allocated and closed by this task. */
	ASSERT_EQ(0, sl_control("stack_filter=comm:no-such-task"));
	ASSERT_EQ(0, leak_stacks(_metadata, self->l, &self->sin, true,
				 alloc, close, sizeof(alloc)));
	EXPECT_STREQ("-", alloc);
	EXPECT_STREQ("-", close);
	my_comm(comm, sizeof(comm));
	snprintf(cmd, sizeof(cmd), "stack_filter=comm:%s", comm);
	ASSERT_EQ(0, sl_control(cmd));
	ASSERT_EQ(0, leak_stacks(_metadata, self->l, &self->sin, true,
				 alloc, close, sizeof(alloc)));
	EXPECT_EQ(0, strncmp(alloc, "sock_init_data_uid+", 19))
		TH_LOG("%s", alloc);
	EXPECT_NE(NULL, strstr(alloc, "inet_create")) TH_LOG("%s", alloc);
	EXPECT_EQ(0, strncmp(close, "tcp_close+", 10)) TH_LOG("%s", close);

	ASSERT_EQ(0, sl_control("stack_filter=off"));
	ctl = sl_read_file(SL_DIR "/control");
	ASSERT_NE(NULL, ctl);
	EXPECT_NE(NULL, strstr(ctl, "stack_filter=off\n"));
	free(ctl);
}

/* "sockets: used" of /proc/net/sockstat (this netns), or -1. */
static long sockstat_used(void)
{
	FILE *f = fopen("/proc/net/sockstat", "r");
	char buf[256];
	long n = -1;

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && sscanf(buf, "sockets: used %ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

#define FREES_SLACK 32

/*
 * Every socket enters the track table and leaves it at its free, whatever
 * path frees it: TCP clients and accepted children (freed at once),
 * listeners and UDP sockets (SOCK_RCU_FREE: freed by an RCU callback),
 * unix pairs, netlink sockets (kmalloc'd). The table's entries move as
 * /proc/net/sockstat's "sockets: used" moves, up when they are opened
 * and back down once they are closed. A free sockleak did not see would
 * leave its entry (and a pointer to freed memory) behind.
 */
TEST_F_TIMEOUT(tr, frees_seen_on_every_path, SL_HEAVY_TIMEOUT)
{
	int n = sl_scale(150), nl = n / 4, i, k = 0, *fds, tries;
	struct rlimit rl = { 8192, 8192 };
	long long e0, e1, e2 = -1;
	long u0, u1, u2 = -1;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	fds = calloc(7 * n, sizeof(*fds));
	ASSERT_NE(NULL, fds);
	e0 = sl_summary_field("track", NULL, "entries");
	u0 = sockstat_used();
	ASSERT_LE(0, e0);
	ASSERT_LE(0, u0);
	for (i = 0; i < n; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		ASSERT_EQ(0, pair(self->l, &self->sin, &fds[k], &fds[k + 1]));
		k += 2;
		fds[k] = socket(AF_INET, SOCK_DGRAM, 0);
		ASSERT_LE(0, fds[k]);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ASSERT_EQ(0, bind(fds[k++], (struct sockaddr *)&sin, sizeof(sin)));
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, &fds[k]));
		k += 2;
		fds[k] = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
		ASSERT_LE(0, fds[k++]);
		if (i < nl) {
			struct sockaddr_storage ls;

			fds[k] = sl_listener_at(&tr_listen, &ls);
			ASSERT_LE(0, fds[k++]);
		}
	}
	e1 = sl_summary_field("track", NULL, "entries");
	u1 = sockstat_used();
	/* Each one the kernel counts is in the table. */
	EXPECT_LE(u1 - u0 - FREES_SLACK, e1 - e0) {
		TH_LOG("%d sockets opened: sockstat +%ld, track table +%lld",
		       k, u1 - u0, e1 - e0);
	}
	EXPECT_LE(k, u1 - u0);
	for (i = 0; i < k; i++)
		close(fds[i]);
	free(fds);
	/* Closing frees them (RCU callbacks, the peers' last packets). */
	for (tries = 0; tries < 100; tries++) {
		usleep(100000);
		u2 = sockstat_used();
		e2 = sl_summary_field("track", NULL, "entries");
		if (u2 <= u0 + FREES_SLACK && e2 - e0 <= u2 - u0 + FREES_SLACK)
			break;
	}
	EXPECT_GE(u0 + FREES_SLACK, u2) TH_LOG("sockstat: %ld -> %ld", u0, u2);
	EXPECT_GE(u2 - u0 + FREES_SLACK, e2 - e0) {
		TH_LOG("%d sockets closed: sockstat %ld -> %ld -> %ld, track table %lld -> %lld -> %lld",
		       k, u0, u1, u2, e0, e1, e2);
	}
}

/* A socket created before track=on is reported as unknown origin. */
TEST_F(tr, unknown_origin)
{
	unsigned long long ck;
	const char *line;
	char *text, v[64];
	int c, a;

	ASSERT_EQ(0, sl_control("track=off"));
	ASSERT_EQ(0, pair(self->l, &self->sin, &c, &a));
	ASSERT_EQ(0, sl_control("track=on"));
	ck = sl_sock_cookie(c);
	ASSERT_EQ(0, close_leaked(c, a));
	usleep((GRACE_MS + 300) * 1000);
	line = sl_tracked_find(&text, ck);
	ASSERT_NE(NULL, line);
	ASSERT_TRUE(sl_kv(line, "origin", v, sizeof(v)));
	EXPECT_STREQ("unknown", v);
	ASSERT_TRUE(sl_kv(line, "alloc_age_ms", v, sizeof(v)));
	EXPECT_STREQ("-", v);
	EXPECT_EQ(1, sl_kv_ll(line, "refcnt"));
	free(text);
	/* clear hides it from now on. */
	ASSERT_EQ(0, sl_control("clear"));
	EXPECT_EQ(NULL, sl_tracked_find(&text, ck));
	free(text);
}

/*
 * The close and allocation hooks are one ftrace_ops, marked permanent
 * (as the kprobe layer's own ftrace_ops is, under the kretprobes): while
 * tracking is on, sysctl kernel.ftrace_enabled=0 is refused (it would
 * stop every hook and tracking would record nothing, silently); with
 * ftrace off, track=on fails and tracking stays off. Against the sysctl
 * itself and the control file's state. (7.3 refuses the sysctl's 0
 * whatever is registered: "deprecated and no longer disables ftrace".)
 */
TEST_F(tr, ftrace_off_refused)
{
	const char *sysctl = "/proc/sys/kernel/ftrace_enabled";
	char *v, *ctl;
	int err;

	v = sl_read_file(sysctl);
	if (!v)
		SKIP(return, "no %s", sysctl);
	ASSERT_EQ('1', v[0]) TH_LOG("ftrace_enabled=%s", v);
	free(v);
	err = sl_write(sysctl, "0");
	if (!err)
		sl_write(sysctl, "1");
	/* EOPNOTSUPP: a kernel where the sysctl no longer stops ftrace. */
	EXPECT_TRUE(err == -EBUSY || err == -EOPNOTSUPP) TH_LOG("%d", err);
	v = sl_read_file(sysctl);
	ASSERT_NE(NULL, v);
	EXPECT_EQ('1', v[0]) TH_LOG("ftrace_enabled=%s", v);
	free(v);
	if (err == -EOPNOTSUPP)
		return;

	ASSERT_EQ(0, sl_control("track=off"));
	ASSERT_EQ(0, sl_write(sysctl, "0"));
	err = sl_control("track=on");
	ctl = sl_read_file(SL_DIR "/control");
	/* Restore before any check can end the test. */
	ASSERT_EQ(0, sl_write(sysctl, "1"));
	EXPECT_EQ(-EBUSY, err);
	ASSERT_NE(NULL, ctl);
	EXPECT_NE(NULL, strstr(ctl, "track=off")) TH_LOG("%s", ctl);
	free(ctl);
	ASSERT_EQ(0, sl_control("track=on"));
}

/* Graceful, RST and TIME-WAIT closes and UDP never show; on/off under load. */
TEST_F_TIMEOUT(tr, normal_lifecycles_never_show, SL_HEAVY_TIMEOUT)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int i, c, a, u, rounds = sl_scale(2000);

	for (i = 0; i < rounds; i++) {
		ASSERT_EQ(0, pair(self->l, &self->sin, &c, &a));
		switch (i % 3) {
		case 0:		/* graceful, the client ends in TIME-WAIT */
			close(c);
			close(a);
			break;
		case 1:		/* RST */
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(c);
			close(a);
			break;
		default:	/* server closes first */
			close(a);
			close(c);
			break;
		}
		u = socket(i & 1 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
		ASSERT_LE(0, u);
		close(u);
		/* Tracking switched off and on again while traffic runs. */
		if (i % 500 == 250) {
			ASSERT_EQ(0, sl_control("track=off"));
			ASSERT_EQ(0, sl_control("track=on"));
		}
	}
	usleep((GRACE_MS + 800) * 1000);
	EXPECT_EQ(0, sl_tracked_by(getpid()));
}

/*
 * Orphans that time out: the kernel frees them well before the grace
 * time, so "tracked" never lists them. Two kinds, in a netns of the test's
 * own (tcp_orphan_retries=1 there, 4 on a slow kernel):
 * - FIN-WAIT-1 with unsent data towards a live peer that never reads (its
 *   window closed), aborted by TCP_USER_TIMEOUT;
 * - FIN-WAIT-1 towards a peer gone silent (its veth end down), aborted
 *   after tcp_orphan_retries retransmissions of the FIN.
 * While they live ss shows them and the track table knows them (dump works);
 * once ss no longer shows them the track table has forgotten them (dump:
 * -ENOENT), and after the grace time "tracked" has none of them.
 */
/*
 * On a slow (debug) kernel setting the orphans up takes seconds: they get
 * longer lives there (user timeout, FIN retries) and the grace time grows
 * with them, so each is still alive when the test looks at it.
 */
#define ORPHAN_GRACE_MS (getenv("SL_SLOW") ? 60000 : 8000)
#define ORPHAN_USER_TIMEOUT_MS (getenv("SL_SLOW") ? 10000 : 2000)
#define ORPHAN_RETRIES (getenv("SL_SLOW") ? "4" : "1")
#define NORPHAN 6
#define PEERNS "sltrpeer"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static bool table_knows(unsigned long long ck)
{
	char cmd[48];

	snprintf(cmd, sizeof(cmd), "dump=%llx", ck);
	return sl_control(cmd) == 0;
}

TEST_F_TIMEOUT(tr, orphans_that_time_out_never_show, SL_HEAVY_TIMEOUT)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	unsigned int tmo = ORPHAN_USER_TIMEOUT_MS;
	unsigned long long ck[2 * NORPHAN];
	struct ss_list alive = { 0 };
	int keep[2 * NORPHAN], peer, lz, ld, i, n = 0, left;
	struct sl_sock_opts zopt = { .backlog = 64, .rcvbuf = 2048 };
	struct sl_sock_opts dopt = { .addr = "10.79.0.2", .backlog = 64 };
	struct sockaddr_storage zin, din;
	static char buf[65536];
	long long t0, wait_ms;
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "grace_ms=%d", ORPHAN_GRACE_MS);
	ASSERT_EQ(0, sl_control(cmd));
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, system("/usr/bin/ip link set lo up && "
			    "/usr/bin/ip netns del " PEERNS " 2>/dev/null; "
			    "/usr/bin/ip netns add " PEERNS " && "
			    "/usr/bin/ip link add slt0 type veth peer name slt1 netns " PEERNS " && "
			    "/usr/bin/ip addr add 10.79.0.1/24 dev slt0 && "
			    "/usr/bin/ip link set slt0 up && "
			    "/usr/bin/ip -n " PEERNS " addr add 10.79.0.2/24 dev slt1 && "
			    "/usr/bin/ip -n " PEERNS " link set slt1 up"));
	ASSERT_EQ(0, sl_write("/proc/sys/net/ipv4/tcp_orphan_retries",
			      ORPHAN_RETRIES));
	peer = open("/run/netns/" PEERNS, O_RDONLY);
	ASSERT_LE(0, peer);
	dopt.nsfd = peer;
	lz = sl_listener_at(&zopt, &zin);
	ld = sl_listener_at(&dopt, &din);
	ASSERT_LE(0, lz);
	ASSERT_LE(0, ld);

	/* Silent peer: connected, then its end of the link goes down. */
	for (i = 0; i < NORPHAN; i++) {
		int c = sl_connect_at(&tr_client, &din);

		ASSERT_LE(0, c);
		keep[n] = accept(ld, NULL, NULL);
		ASSERT_LE(0, keep[n]);
		ck[n++] = c;	/* the fd for now */
	}
	ASSERT_EQ(0, system("/usr/bin/ip -n " PEERNS " link set slt1 down"));
	for (i = 0; i < n; i++) {
		int c = (int)ck[i];

		ck[i] = sl_sock_cookie(c);
		close(c);
	}
	/*
	 * Zero window: the peer stays open and never reads. The user timeout
	 * counts from the first window probe, sent once the window closed.
	 */
	for (i = 0; i < NORPHAN; i++) {
		int c = sl_connect_at(&tr_client, &zin), sb = 65536;

		ASSERT_LE(0, c);
		keep[n] = accept(lz, NULL, NULL);
		ASSERT_LE(0, keep[n]);
		setsockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT, &tmo, sizeof(tmo));
		setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
		fcntl(c, F_SETFL, O_NONBLOCK);
		for (int k = 0; k < 16; k++)
			if (send(c, buf, sizeof(buf), MSG_NOSIGNAL) < 0)
				break;
		ck[n++] = sl_sock_cookie(c);
		close(c);
	}
	t0 = now_ms();

	/* Alive, orphaned, known to the track table. */
	ASSERT_LE(0, ss_list(NULL, &alive));
	for (i = 0; i < n; i++) {
		struct ss_sock *s = ss_find(&alive, ck[i]);

		ASSERT_NE(NULL, s) {
			TH_LOG("orphan %d (%llx) gone at once", i, ck[i]);
		}
		EXPECT_STREQ("FIN-WAIT-1", s->state);
		EXPECT_TRUE(table_knows(ck[i])) {
			char *sum = sl_read_file(SL_DIR "/summary"), *t;

			t = sum ? strstr(sum, "kind=track") : NULL;
			TH_LOG("%llx unknown to the track table; %.200s", ck[i],
			       t ? t : "no summary");
			free(sum);
		}
	}
	ss_free(&alive);

	/* The kernel times them out well within the grace time. */
	do {
		usleep(200000);
		for (left = 0, i = 0; i < n; i++)
			left += in_ss(ck[i]);
	} while (left && now_ms() - t0 < ORPHAN_GRACE_MS - 1000);
	ASSERT_EQ(0, left) {
		TH_LOG("%d orphans did not time out in %d ms", left,
		       ORPHAN_GRACE_MS - 1000);
	}
	TH_LOG("all %d orphans timed out after %lld ms", n, now_ms() - t0);
	/* Freed: the track table followed. */
	usleep(100000);
	for (i = 0; i < n; i++)
		EXPECT_FALSE(table_knows(ck[i])) TH_LOG("%llx", ck[i]);

	/* Past the grace time: none listed. */
	wait_ms = t0 + ORPHAN_GRACE_MS + 500 - now_ms();
	if (wait_ms > 0)
		usleep(wait_ms * 1000);
	for (i = 0; i < n; i++) {
		char *text;

		EXPECT_EQ(NULL, sl_tracked_find(&text, ck[i])) TH_LOG("%llx", ck[i]);
		free(text);
	}
	EXPECT_EQ(0, sl_tracked_by(getpid()));
	/* Reset, not FIN: nothing lingers towards the silent peer. */
	for (i = 0; i < n; i++) {
		setsockopt(keep[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(keep[i]);
	}
	close(lz);
	close(ld);
	system("/usr/bin/ip netns del " PEERNS);
}

/*
 * A reset the application never noticed: the socket is CLOSE, unhashed,
 * its unread data still charged. ss cannot see it; "sockets" must, and
 * summary's unhashed pages must cover the memory sockstat shows.
 */
TEST_F(tr, unhashed_reset_explained)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char data[65536], line[4096], *sum;
	unsigned long long ck;
	struct sl_list sl;
	long long before;
	const char *s;
	int c, a;

	/* Other tests' leftovers may hold pages: compare with this start. */
	before = sl_summary_field("proto", "tcp", "unexplained_pages");
	memset(data, 'x', sizeof(data));
	ASSERT_EQ(0, pair(self->l, &self->sin, &c, &a));
	ck = sl_sock_cookie(c);
	ASSERT_EQ((ssize_t)sizeof(data), send(a, data, sizeof(data), 0));
	usleep(200000);
	setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(a);
	usleep(200000);
	ASSERT_FALSE(in_ss(ck));
	ASSERT_LT(0, sl_sockets(&sl));
	s = sl_find(&sl, ck);
	ASSERT_NE(NULL, s);
	EXPECT_TRUE(sl_has_flag(s, "unhashed"));
	ASSERT_TRUE(sl_kv(s, "state", line, sizeof(line)));
	EXPECT_STREQ("UNCONN", line);
	EXPECT_LE((long long)sizeof(data), sl_kv_ll(s, "rmem"));
	sl_free(&sl);

	sum = sl_read_file(SL_DIR "/summary");
	ASSERT_NE(NULL, sum);
	ASSERT_TRUE(sl_summary_line(sum, "all", "proto", "tcp", line,
				    sizeof(line)));
	free(sum);
	/*
	 * Its 16+ pages are unhashed ones: the unexplained pages did not grow
	 * (2 pages of slack for per-CPU charge batching of other sockets).
	 */
	EXPECT_LE((long long)sizeof(data) / 4096, sl_kv_ll(line, "unhashed_pages"));
	EXPECT_GE(2, llabs(sl_kv_ll(line, "unexplained_pages") - before)) {
		TH_LOG("before %lld: %s", before, line);
	}
	close(c);
}

/*
 * A track table of 64 entries: 300 new sockets overflow it, the overflow is
 * counted in summary and the track table never holds more than its size.
 */
/* VmallocUsed of /proc/meminfo, in bytes; -1 when unreadable. */
static long long vmalloc_used(void)
{
	char *m = sl_read_file("/proc/meminfo"), *p;
	long long kb = -1;

	p = m ? strstr(m, "VmallocUsed:") : NULL;
	if (p)
		kb = atoll(p + strlen("VmallocUsed:"));
	free(m);
	return kb < 0 ? -1 : kb * 1024;
}

/*
 * The track table's memory, as the kernel's vmalloc accounting sees it grow
 * at track=on (its arrays are vmalloc'd, the pages they take): at most
 * 128 bytes per entry, the stack store included (it is sized for
 * distinct stacks, not per socket); table_bytes in summary says the same
 * within 5%. (MemFree moves with the per-CPU page lists too: several
 * MiB either way.)
 */
#define MEM_ENTRIES	262144
TEST(table_memory_per_entry)
{
	long long before, after, per, table;

	ASSERT_EQ(0, system("modprobe sockleak"));
	ASSERT_EQ(0, sl_control("track=off\nmax_entries=262144"));
	before = vmalloc_used();
	ASSERT_LE(0, before);
	ASSERT_EQ(0, sl_control("track=on"));
	after = vmalloc_used();
	table = sl_summary_field("track", NULL, "table_bytes");
	ASSERT_EQ(0, sl_control("track=off\nmax_entries=65536"));
	per = (after - before) / MEM_ENTRIES;
	TH_LOG("VmallocUsed grew by %lld bytes: %lld per entry; table_bytes=%lld",
	       after - before, per, table);
	EXPECT_GE(128, per);
	/* The table is there: an entry holds at least a pointer and times. */
	EXPECT_LE(32, per);
	EXPECT_LE(table * 95 / 100, after - before);
	EXPECT_GE(table * 105 / 100, after - before);
}

TEST(table_overflow_counted)
{
	int fds[300], i;

	ASSERT_EQ(0, system("modprobe sockleak"));
	ASSERT_EQ(0, sl_control("track=off\nmax_entries=64\ntrack=on"));
	for (i = 0; i < 300; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_LE(0, fds[i]);
	}
	EXPECT_EQ(64, sl_summary_field("track", NULL, "max_entries"));
	EXPECT_GE(64, sl_summary_field("track", NULL, "entries"));
	EXPECT_LE(300 - 64, sl_summary_field("track", NULL, "overflow"));
	EXPECT_LE(300, sl_summary_field("track", NULL, "entries") +
		       sl_summary_field("track", NULL, "overflow"));
	for (i = 0; i < 300; i++)
		close(fds[i]);
	EXPECT_EQ(0, sl_control("track=off\nmax_entries=65536"));
}

/*
 * A child that makes and closes connections to listener l, n of them (or
 * until killed when n < 0; it dies with its parent). Returns its pid.
 */
static pid_t fork_churn(int l, const struct sockaddr_storage *sin, int n)
{
	pid_t pid = fork();
	int c, a;

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 0; n < 0 || i < n; i++) {
		if (pair(l, sin, &c, &a))
			_exit(1);
		close(c);
		close(a);
	}
	_exit(0);
}

/* No state: a fixture only for the longer timeout. */
FIXTURE(ul) {
	int unused;
};

FIXTURE_SETUP(ul)
{
}

FIXTURE_TEARDOWN(ul)
{
}

/*
 * Unload with tracking on while connections churn in a child, then load
 * with track=1: tracking is on from the start (control says so) and an
 * allocation made after the load has origin "alloc". Any splat fails the
 * run (the VM harness watches the console).
 */
TEST_F_TIMEOUT(ul, unload_with_tracking_on, SL_HEAVY_TIMEOUT)
{
	char *ctl, cmd[32], *text;
	struct sockaddr_storage sin;
	unsigned long long ck;
	const char *line;
	int l, c, a, i;
	pid_t pid;

	ASSERT_EQ(0, system("modprobe sockleak_holdref && modprobe sockleak"));
	ASSERT_EQ(0, sl_control("track=on"));
	l = sl_listener_at(&tr_listen, &sin);
	ASSERT_LE(0, l);
	pid = fork_churn(l, &sin, sl_scale(3000));
	ASSERT_LE(0, pid);
	usleep(100000);
	EXPECT_EQ(0, system("rmmod sockleak"));
	EXPECT_EQ(0, system("modprobe sockleak track=1"));
	ctl = sl_read_file(SL_DIR "/control");
	ASSERT_NE(NULL, ctl);
	EXPECT_NE(NULL, strstr(ctl, "track=on\n"));
	free(ctl);
	waitpid(pid, &i, 0);
	EXPECT_EQ(0, i);

	ASSERT_EQ(0, sl_control("grace_ms=0"));
	ASSERT_EQ(0, pair(l, &sin, &c, &a));
	ck = sl_sock_cookie(c);
	snprintf(cmd, sizeof(cmd), "hold %d", c);
	ASSERT_EQ(0, sl_write(HOLDREF, cmd));
	close(a);
	close(c);
	usleep(200000);
	line = sl_tracked_find(&text, ck);
	ASSERT_NE(NULL, line);
	ASSERT_TRUE(sl_kv(line, "origin", cmd, sizeof(cmd)));
	EXPECT_STREQ("alloc", cmd);
	ASSERT_TRUE(sl_kv(line, "alloc_comm", cmd, sizeof(cmd)));
	free(text);
	EXPECT_EQ(0, sl_write(HOLDREF, "release"));
	/* Unload with the socket still registered and tracking on. */
	EXPECT_EQ(0, system("rmmod sockleak && modprobe sockleak"));
	close(l);
}

/*
 * Arm fail_function (CONFIG_FAIL_FUNCTION, the debug kernel) so that the
 * next call of sockleak_track_probes_start() returns -ENOMEM. 0, or which
 * step failed and how.
 */
static int fail_track_start(void)
{
	const char *d = "/sys/kernel/debug/fail_function";
	char path[96], v[24];
	int err;

	/* Each step's failure is told apart: -1000 * step + errno. */
	snprintf(path, sizeof(path), "%s/inject", d);
	err = sl_write(path, "sockleak_track_probes_start");
	if (err)
		return -1000 + err;
	snprintf(path, sizeof(path), "%s/sockleak_track_probes_start/retval", d);
	snprintf(v, sizeof(v), "%#llx", (unsigned long long)-ENOMEM);
	err = sl_write(path, v);
	if (err)
		return -2000 + err;
	snprintf(path, sizeof(path), "%s/probability", d);
	err = sl_write(path, "100");
	if (err)
		return -3000 + err;
	snprintf(path, sizeof(path), "%s/times", d);
	err = sl_write(path, "1");
	if (err)
		return -4000 + err;
	/* verbose=1 prints a stack, which the harness takes for a splat. */
	snprintf(path, sizeof(path), "%s/verbose", d);
	err = sl_write(path, "0");
	return err ? -5000 + err : 0;
}

static void fail_function_clear(void)
{
	sl_write("/sys/kernel/debug/fail_function/inject", "\n");
}

/*
 * The track table's lifetime against its users, while connections churn in
 * one child (the probes: every TCP connection runs the hooks and the free)
 * and another reads summary in a loop (sockleak_track_stats()):
 *  - track=on/off cycles: summary must never read a freed table;
 *  - on kernels with fail_function (the debug kernel), track=on whose
 *    probe registration fails after an earlier track=on attached the
 *    tracepoints: the error comes back, tracking stays off, and the table
 *    is freed only once no probe can use it.
 * KASAN (debug kernel) turns a use-after-free into a splat, which fails
 * the run.
 */
TEST_F_TIMEOUT(ul, table_lifetime_under_churn, SL_HEAVY_TIMEOUT)
{
	int l, i, st, err, rounds = sl_scale(60), failed = 0;
	struct sockaddr_storage sin;
	pid_t churn, reader;
	bool inject;
	char *ctl;

	ASSERT_EQ(0, system("modprobe sockleak"));
	ASSERT_EQ(0, sl_control("track=on\ntrack=off"));
	l = sl_listener_at(&tr_listen, &sin);
	ASSERT_LE(0, l);
	churn = fork_churn(l, &sin, -1);
	ASSERT_LE(0, churn);
	reader = fork();
	if (!reader) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			free(sl_read_file(SL_DIR "/summary"));
	}
	/* No ASSERT from here on: the children must be killed below. */
	EXPECT_LE(0, reader);
	inject = access("/sys/kernel/debug/fail_function/inject", W_OK) == 0;
	for (i = 0; i < rounds && reader > 0; i++) {
		EXPECT_EQ(0, sl_control("track=on"));
		EXPECT_EQ(0, sl_control("track=off"));
		if (!inject)
			continue;
		err = fail_track_start();
		EXPECT_EQ(0, err) {
			TH_LOG("cannot arm fail_function: %d", err);
			break;
		}
		err = sl_control("track=on");
		if (err == -ENOMEM)
			failed++;
		fail_function_clear();
		ctl = sl_read_file(SL_DIR "/control");
		EXPECT_TRUE(ctl && strstr(ctl, "track=off\n")) {
			TH_LOG("failed track=on (%d) left tracking on", err);
		}
		free(ctl);
		sl_control("track=off");
	}
	kill(churn, SIGKILL);
	waitpid(churn, &st, 0);
	if (reader > 0) {
		kill(reader, SIGKILL);
		waitpid(reader, &st, 0);
	}
	close(l);
	if (inject)
		EXPECT_EQ(rounds, failed);
	TH_LOG("%d on/off cycles, %d failed starts (fail_function %s)", rounds,
	       failed, inject ? "present" : "absent");
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Lines of "sockets" whose cookie is @cookie; -1 when unreadable. */
static int sockets_with_cookie(unsigned long long cookie)
{
	struct sl_list sl = {};
	int i, n = 0;

	if (sl_sockets(&sl) < 0)
		return -1;
	for (i = 0; i < sl.n; i++)
		n += sl_cookie(sl.line[i]) == cookie;
	sl_free(&sl);
	return n;
}

/* Kernel log lines of "dump=@cookie" that name an unhashed socket. */
static int dumps_unhashed(unsigned long long cookie)
{
	char cmd[160], *out;
	int n;

	snprintf(cmd, sizeof(cmd),
		 "dmesg | grep 'dump cookie=%llx ' | grep -c ' hashed=0'; true",
		 cookie);
	out = sl_run(cmd);
	n = out ? atoi(out) : -1;
	free(out);
	return n;
}

/*
 * A TCP child is born as a copy of its listener, cookie included, and
 * gets its own cookie a moment later (inet_csk_clone_lock()). holdref's
 * clone_delay stretches that moment to 300 ms for children of our
 * listener, while a reader on the other CPU lists "sockets" and asks for
 * dump=<listener's cookie> in a loop. The listener's cookie (SO_COOKIE,
 * what ss shows) must name one line, the listener's, and every dump must
 * be of the listener (hashed), never of an unhashed child.
 */
TEST_F_TIMEOUT(tr, clone_cookie_window, SL_HEAVY_TIMEOUT)
{
	unsigned long long lc = sl_sock_cookie(self->l);
	int i, c, a, status, stop[2], dumps_before;
	char cmd[64];
	pid_t reader;

	ASSERT_NE(0ULL, lc);
	ASSERT_LE(2, sysconf(_SC_NPROCESSORS_ONLN)) {
		TH_LOG("needs two CPUs: the reader runs while a child is born");
	}
	dumps_before = dumps_unhashed(lc);
	ASSERT_LE(0, dumps_before);
	snprintf(cmd, sizeof(cmd), "clone_delay 300 %d",
		 sl_addr_port(&self->sin));
	ASSERT_EQ(0, sl_write(HOLDREF, cmd));
	ASSERT_EQ(0, pipe(stop));
	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader) {
		struct pollfd p = { .fd = stop[0], .events = POLLIN };
		int dup = 0, reads = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(stop[1]);
		pin_cpu(1);
		snprintf(cmd, sizeof(cmd), "dump=%llx", lc);
		while (poll(&p, 1, 0) == 0) {
			if (sockets_with_cookie(lc) > 1)
				dup++;
			sl_control(cmd);
			reads++;
		}
		_exit(dup ? 1 : reads ? 0 : 2);
	}
	close(stop[0]);
	pin_cpu(0);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pair(self->l, &self->sin, &c, &a));
		close(c);
		close(a);
	}
	close(stop[1]);
	ASSERT_EQ(reader, waitpid(reader, &status, 0));
	sl_write(HOLDREF, "clone_delay 0");
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_NE(1, WEXITSTATUS(status)) {
		TH_LOG("a child in its birth window was listed with its listener's cookie %llx",
		       lc);
	}
	EXPECT_NE(2, WEXITSTATUS(status));
	EXPECT_EQ(dumps_before, dumps_unhashed(lc)) {
		TH_LOG("dump=%llx printed an unhashed socket: a child that still had its listener's cookie",
		       lc);
	}
}

/*
 * The ages "tracked" prints, against the test's own CLOCK_MONOTONIC: the
 * track table keeps jiffies, so an age is known to the tick (4 ms at
 * Debian's HZ=250) and to how far jiffies lags the clock (a guest's CPU
 * the host stalls sees its tick late); 40 ms either side. grace_ms against the same clock: a socket closed less than
 * grace_ms ago is not listed, one closed longer ago is.
 */
#define AGE_SLACK_MS 40

TEST_F(tr, ages_follow_the_clock)
{
	long long t_alloc0, t_alloc1, t_close0, t_close1, t_read0, t_read1;
	long long alloc_age, close_age;
	unsigned long long ck;
	const char *line;
	char *text;
	int c, a;

	t_alloc0 = now_ms();
	ASSERT_EQ(0, pair(self->l, &self->sin, &c, &a));
	t_alloc1 = now_ms();
	ck = sl_sock_cookie(c);
	usleep(400000);
	/* c is closed last, after close_leaked()'s 50 ms. */
	t_close0 = now_ms();
	ASSERT_EQ(0, close_leaked(c, a));
	t_close1 = now_ms();
	line = sl_tracked_find(&text, ck);
	t_read1 = now_ms();
	/*
	 * Too soon for grace_ms, if this guest read it soon enough: c was
	 * closed 50 ms or more after t_close0.
	 */
	if (t_read1 - t_close0 - 50 < GRACE_MS - AGE_SLACK_MS) {
		EXPECT_EQ(NULL, line) TH_LOG("listed at most %lld ms after its close",
					     t_read1 - t_close0 - 50);
	} else {
		TH_LOG("read %lld ms after the close: too late to check grace_ms",
		       t_read1 - t_close0 - 50);
	}
	free(text);

	usleep((GRACE_MS + 300) * 1000);
	t_read0 = now_ms();
	line = sl_tracked_find(&text, ck);
	t_read1 = now_ms();
	ASSERT_NE(NULL, line);
	alloc_age = sl_kv_ll(line, "alloc_age_ms");
	close_age = sl_kv_ll(line, "close_age_ms");
	TH_LOG("alloc_age_ms=%lld in [%lld, %lld], close_age_ms=%lld in [%lld, %lld]",
	       alloc_age, t_read0 - t_alloc1, t_read1 - t_alloc0,
	       close_age, t_read0 - t_close1, t_read1 - t_close0);
	EXPECT_LE(t_read0 - t_alloc1 - AGE_SLACK_MS, alloc_age);
	EXPECT_GE(t_read1 - t_alloc0 + AGE_SLACK_MS, alloc_age);
	EXPECT_LE(t_read0 - t_close1 - AGE_SLACK_MS, close_age);
	EXPECT_GE(t_read1 - t_close0 + AGE_SLACK_MS, close_age);
	free(text);
}

/*
 * The reader's side of unlocked_closes_under_churn: reads "tracked" until
 * @done has no writer left; every unix socket listed that one of @pids
 * allocated must have been closed by it, under its name, at sock_close().
 * Returns the lines that were not so (at most 100), 101 on an error.
 */
static int closes_read(int done, const pid_t *pids, int npids,
		       const char *comm)
{
	struct pollfd p = { .fd = done, .events = POLLIN };
	int bad = 0, reads = 0, i, k;
	char v[256];

	while (poll(&p, 1, 0) == 0) {
		struct sl_list l;

		if (sl_lines(SL_DIR "/tracked", &l) < 0)
			return 101;
		reads++;
		for (i = 0; i < l.n; i++) {
			const char *line = l.line[i];
			pid_t alloc = sl_kv_ll(line, "alloc_pid");

			if (!sl_kv(line, "family", v, sizeof(v)) ||
			    strcmp(v, "unix"))
				continue;
			for (k = 0; k < npids && pids[k] != alloc; k++)
				;
			if (k == npids)
				continue;
			if (sl_kv_ll(line, "close_pid") == alloc &&
			    sl_kv(line, "close_comm", v, sizeof(v)) &&
			    !strcmp(v, comm) &&
			    sl_kv(line, "close_stack", v, sizeof(v)) &&
			    !strncmp(v, "sock_close+", 11))
				continue;
			if (bad++ < 3)
				printf("# read %d: %.300s\n", reads, line);
		}
		sl_free(&l);
	}
	printf("# %d reads of tracked during the closes\n", reads);
	return bad > 100 ? 100 : bad;
}

/*
 * The close of a unix socket is written without the stripe lock
 * (sockleak_track_release()). Here while two processes allocate and free
 * unix pairs (their entries going in and out of the same chains) and a
 * third reads "tracked" with grace_ms 0 (every closed socket listed at
 * once): each of the N sockets this process closed, whose peer it keeps
 * open so that it is not freed, must be listed with this process as its
 * closer, its name and sock_close() as its close site, and no line the
 * reader saw may show a close without its closer.
 */
TEST_F_TIMEOUT(tr, unlocked_closes_under_churn, SL_HEAVY_TIMEOUT)
{
	enum { N = 400, CHURNERS = 2 };
	pid_t pids[CHURNERS + 1], reader;
	unsigned long long ck[N];
	int keep[N], done[2], i, st, found = 0, ok = 0;
	struct sl_list l;
	char comm[32], v[256];

	my_comm(comm, sizeof(comm));
	ASSERT_EQ(0, sl_control("grace_ms=0"));
	pids[0] = getpid();
	for (i = 1; i <= CHURNERS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			for (;;) {
				int sv[2];

				if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
					_exit(1);
				close(sv[0]);
				close(sv[1]);
			}
		}
	}
	ASSERT_EQ(0, pipe(done));
	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader) {
		close(done[1]);
		_exit(closes_read(done[0], pids, CHURNERS + 1, comm));
	}
	close(done[0]);
	usleep(200000);
	for (i = 0; i < N; i++) {
		int sv[2];

		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
		ck[i] = sl_sock_cookie(sv[0]);
		ASSERT_NE(0ULL, ck[i]);
		keep[i] = sv[1];
		close(sv[0]);
	}
	close(done[1]);
	ASSERT_EQ(reader, waitpid(reader, &st, 0));
	for (i = 1; i <= CHURNERS; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("lines with a close but not its closer");

	ASSERT_LE(0, sl_lines(SL_DIR "/tracked", &l));
	for (i = 0; i < l.n; i++) {
		const char *line = l.line[i];
		unsigned long long c = sl_cookie(line);
		int k;

		for (k = 0; k < N && ck[k] != c; k++)
			;
		if (k == N)
			continue;
		found++;
		if (sl_kv_ll(line, "close_pid") == getpid() &&
		    sl_kv_ll(line, "alloc_pid") == getpid() &&
		    sl_kv(line, "close_comm", v, sizeof(v)) &&
		    !strcmp(v, comm) &&
		    sl_kv(line, "close_stack", v, sizeof(v)) &&
		    !strncmp(v, "sock_close+", 11))
			ok++;
		else if (found - ok <= 3)
			TH_LOG("%.300s", line);
	}
	sl_free(&l);
	EXPECT_EQ(N, found);
	EXPECT_EQ(N, ok);
	for (i = 0; i < N; i++)
		close(keep[i]);
}

TEST_HARNESS_MAIN
