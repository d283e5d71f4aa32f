// SPDX-License-Identifier: GPL-2.0
/*
 * Refcount watchpoints ("watch=<cookie>", "unwatch=<cookie>", the "refs"
 * file) against references whose truth the test controls: the test module
 * sockleak_holdref takes a reference in a function of its own,
 * holdref_take() (task context, "hold <fd>") or holdref_timer_fn() (a
 * timer callback, softirq context, "hold_timer <fd>"), and never puts it
 * until "release". The reference left unmatched must be that one, named
 * by function, module and context; its count is the module's own (reading
 * its ctl). A connection with no such reference must balance to zero when
 * the kernel frees it (ss then shows it gone or in TIME-WAIT). sockleak's
 * own references (its socket walk) must never appear. Bad arguments fail
 * with the errno the control file documents and change nothing.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "lib/sl_util.h"
#include "lib/sl_inet.h"

#define HOLDREF		"/sys/kernel/debug/sockleak_holdref/ctl"
#define REFS		SL_DIR "/refs"
#define MAXW		8

FIXTURE(refs) {
	unsigned long long watched[MAXW];
	int nwatched;
	bool holdref;
};

FIXTURE_SETUP(refs)
{
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, system("/usr/bin/ip link set lo up"));
	ASSERT_EQ(0, system("modprobe sockleak && modprobe sockleak_holdref"));
	self->nwatched = 0;
	self->holdref = false;
}

FIXTURE_TEARDOWN(refs)
{
	char cmd[64];
	int i;

	if (self->holdref)
		sl_write(HOLDREF, "release");
	sl_write("/sys/devices/system/cpu/cpu1/online", "1");
	sl_control("watch_next=off\ntrack=off\ngrace_ms=1800000");
	for (i = 0; i < self->nwatched; i++) {
		snprintf(cmd, sizeof(cmd), "unwatch=%llx", self->watched[i]);
		sl_control(cmd);
	}
}

static int watch(struct __test_metadata *_metadata, FIXTURE_DATA(refs) *self,
		 unsigned long long cookie)
{
	char cmd[64];
	int ret;

	snprintf(cmd, sizeof(cmd), "watch=%llx", cookie);
	ret = sl_control(cmd);
	if (!ret && self->nwatched < MAXW)
		self->watched[self->nwatched++] = cookie;
	return ret;
}

/*
 * The block of "refs" for @cookie: its header line up to (without) the
 * next header, copied into a fresh string; NULL when not listed.
 */
static char *refs_block(unsigned long long cookie)
{
	char want[40], *text = sl_read_file(REFS), *p, *end, *out = NULL;

	if (!text)
		return NULL;
	snprintf(want, sizeof(want), "cookie=%llx ", cookie);
	for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, want, strlen(want)))
			continue;
		end = strstr(p + 1, "\ncookie=");
		out = strndup(p, end ? (size_t)(end - p) : strlen(p));
		break;
	}
	free(text);
	return out;
}

/* The value of @key on the header (first) line of a block. */
static long long head_field(const char *block, const char *key)
{
	char *nl = strchr(block, '\n');
	char *head = strndup(block, nl ? (size_t)(nl - block) : strlen(block));
	long long v = sl_kv_ll(head, key);

	free(head);
	return v;
}

static bool head_str(const char *block, const char *key, char *out,
		     size_t len)
{
	char *nl = strchr(block, '\n');
	char *head = strndup(block, nl ? (size_t)(nl - block) : strlen(block));
	bool ok = sl_kv(head, key, out, len);

	free(head);
	return ok;
}

/* The " held=N site=" lines of a block (references with a known taker). */
static int held_lines(const char *block, char lines[][512], int max)
{
	const char *p = block;
	int n = 0;

	while ((p = strstr(p, "\n held=")) && n < max) {
		const char *e = strchr(p + 1, '\n');
		size_t len = e ? (size_t)(e - p - 1) : strlen(p + 1);

		if (strstr(p, " site=") && (!e || strstr(p, " site=") < e))
			snprintf(lines[n++], 512, "%.*s", (int)len, p + 1);
		p++;
	}
	return n;
}

/* @text without its armed_ms= and freed_ms= values (clock, not state). */
static char *strip_times(char *text)
{
	char *p, *e;

	for (p = text; (p = strstr(p, "_ms=")); p++) {
		e = p + 4;
		while (*e && *e != ' ' && *e != '\n')
			e++;
		memmove(p + 4, e, strlen(e) + 1);
	}
	return text;
}

/*
 * The block of @cookie once its watch says state=freed (10 s at most),
 * else NULL.
 */
static char *wait_freed(unsigned long long cookie)
{
	char state[16], *b;

	for (int i = 0; i < 50; i++) {
		sl_msleep(200);
		b = refs_block(cookie);
		if (b && head_str(b, "state", state, sizeof(state)) &&
		    !strcmp(state, "freed"))
			return b;
		free(b);
	}
	return NULL;
}

static int holdref_count(void)
{
	char *t = sl_read_file(HOLDREF);
	int n = t ? atoi(t) : -1;

	free(t);
	return n;
}

/* A loopback TCP pair whose client socket is watched: its cookie. */
static unsigned long long watched_pair(struct __test_metadata *_metadata,
				       FIXTURE_DATA(refs) *self, int *c, int *a)
{
	unsigned long long ck;

	if (sl_tcp_pair(c, a))
		return 0;
	ck = sl_sock_cookie(*c);
	if (!ck || watch(_metadata, self, ck))
		return 0;
	return ck;
}

/*
 * The leaked reference taken by @how ("hold" or "hold_timer") is the one
 * left unmatched, named by function, module and context, before and after
 * the owner's close; once the module releases it, the socket is freed and
 * the history balances.
 */
static void leak_named(struct __test_metadata *_metadata,
		       FIXTURE_DATA(refs) *self, const char *how,
		       const char *fn, const char *ctx)
{
	char cmd[64], state[16], want[128], held[4][512], v[512], *b;
	char *text = NULL;
	const char *line;
	struct sl_list sl;
	unsigned long long ck;
	int c, a, n;

	/* Tracked too: "tracked" and "suspects" must name the holder. */
	ASSERT_EQ(0, sl_control("track=off\ngrace_ms=200\ntrack=on"));
	ck = watched_pair(_metadata, self, &c, &a);
	ASSERT_NE(0ULL, ck);

	snprintf(cmd, sizeof(cmd), "%s %d", how, c);
	ASSERT_EQ(0, sl_write(HOLDREF, cmd));
	self->holdref = true;
	ASSERT_EQ(1, holdref_count());

	/* Traffic, then the owner's close: references come and go. */
	ASSERT_EQ(5, write(c, "hello", 5));
	ASSERT_EQ(5, write(a, "world", 5));
	ASSERT_EQ(5, read(a, cmd, 5));
	ASSERT_EQ(5, read(c, cmd, 5));
	close(c);
	close(a);
	sl_msleep(500);

	b = refs_block(ck);
	ASSERT_NE(NULL, b);
	TH_LOG("%s", b);
	ASSERT_TRUE(head_str(b, "state", state, sizeof(state)));
	EXPECT_STREQ("armed", state);
	/* The module's one reference is the only one still held. */
	EXPECT_EQ(holdref_count(), head_field(b, "refcnt"));
	EXPECT_LT(0, head_field(b, "changes"));
	n = held_lines(b, held, 4);
	ASSERT_EQ(1, n);
	EXPECT_EQ(1, sl_kv_ll(held[0], "held"));
	snprintf(want, sizeof(want), "taken=%s+", fn);
	EXPECT_NE(NULL, strstr(held[0], want));
	EXPECT_NE(NULL, strstr(held[0], "[sockleak_holdref]"));
	snprintf(want, sizeof(want), " ctx=%s ", ctx);
	EXPECT_NE(NULL, strstr(held[0], want));
	EXPECT_NE(NULL, strstr(b, "\n held_before_watch=0\n"));
	snprintf(want, sizeof(want), "explain=1 reference held: taken in %s+",
		 fn);
	EXPECT_NE(NULL, strstr(b, want));
	/* sockleak's own references never show. */
	EXPECT_EQ(NULL, strstr(b, "[sockleak]"));
	free(b);

	/* dump=<cookie>: the watch's report in the kernel log too. */
	snprintf(cmd, sizeof(cmd), "dump=%llx", ck);
	ASSERT_EQ(0, sl_control(cmd));
	b = sl_run("dmesg");
	ASSERT_NE(NULL, b);
	snprintf(want, sizeof(want), "refs cookie=%llx state=armed ", ck);
	EXPECT_NE(NULL, strstr(b, want));
	snprintf(want, sizeof(want), "refs explain=1 reference held: taken in %s+",
		 fn);
	EXPECT_NE(NULL, strstr(b, want));
	free(b);

	/* The tracker's reports name the same holder. */
	line = sl_tracked_find(&text, ck);
	ASSERT_NE(NULL, line);
	ASSERT_TRUE(sl_kv(line, "held_by", v, sizeof(v)));
	snprintf(want, sizeof(want), "%s+", fn);
	EXPECT_EQ(0, strncmp(v, want, strlen(want))) TH_LOG("held_by=%s", v);
	EXPECT_NE(NULL, strstr(v, "[sockleak_holdref]"));
	free(text);
	ASSERT_LE(0, sl_lines(SL_DIR "/suspects", &sl));
	snprintf(v, sizeof(v), "%llx", ck);
	line = sl_suspect(&sl, NULL, v);
	ASSERT_NE(NULL, line);
	TH_LOG("%s", line);
	snprintf(want, sizeof(want),
		 "a reference taken in %s+", fn);
	EXPECT_NE(NULL, strstr(line, want));
	snprintf(want, sizeof(want), " [sockleak_holdref] (%s, pid ", ctx);
	EXPECT_NE(NULL, strstr(line, want));
	if (!strcmp(ctx, "task")) {
		snprintf(want, sizeof(want), "(task, pid %d) was never put",
			 getpid());
		EXPECT_NE(NULL, strstr(line, want));
	}
	sl_free(&sl);

	/* Released: the kernel frees it, and the history balances. */
	ASSERT_EQ(0, sl_write(HOLDREF, "release"));
	self->holdref = false;
	b = wait_freed(ck);
	ASSERT_NE(NULL, b);
	TH_LOG("%s", strstr(b, "explain="));
	EXPECT_NE(NULL, strstr(b, "the history balances"));
	EXPECT_EQ(0, head_field(b, "refcnt"));
	EXPECT_EQ(0, head_field(b, "base") + head_field(b, "gets") -
		     head_field(b, "puts"));
	free(b);
}

TEST_F_TIMEOUT(refs, leak_in_task_named, 120)
{
	leak_named(_metadata, self, "hold", "holdref_take", "task");
}

TEST_F_TIMEOUT(refs, leak_in_softirq_named, 120)
{
	leak_named(_metadata, self, "hold_timer", "holdref_timer_fn",
		   "softirq");
}

/*
 * A connection with data both ways, closed by both ends: each end's
 * history balances to zero when the kernel frees it; until then ss shows
 * it, after that ss shows it gone or in TIME-WAIT (a new object with the
 * same cookie). New connections made after the free (which may reuse
 * the memory) add nothing to the ended watches.
 */
TEST_F_TIMEOUT(refs, connection_balances_at_free, 120)
{
	unsigned long long ck[2];
	long long changes[2];
	char state[16], buf[4096] = "x", *b;
	int c, a, i, k, fds[2], freed = 0;
	struct ss_list ss = {};
	struct ss_sock *s;

	ASSERT_EQ(0, sl_tcp_pair(&c, &a));
	fds[0] = c;
	fds[1] = a;
	for (k = 0; k < 2; k++) {
		ck[k] = sl_sock_cookie(fds[k]);
		ASSERT_EQ(0, watch(_metadata, self, ck[k]));
	}
	for (i = 0; i < 20; i++) {
		ASSERT_EQ((ssize_t)sizeof(buf), write(c, buf, sizeof(buf)));
		ASSERT_EQ((ssize_t)sizeof(buf), write(a, buf, sizeof(buf)));
		ASSERT_LT(0, read(a, buf, sizeof(buf)));
		ASSERT_LT(0, read(c, buf, sizeof(buf)));
	}
	close(c);
	sl_msleep(100);
	close(a);

	for (i = 0; i < 50 && freed < 2; i++) {
		sl_msleep(200);
		freed = 0;
		for (k = 0; k < 2; k++) {
			b = refs_block(ck[k]);
			ASSERT_NE(NULL, b);
			if (head_str(b, "state", state, sizeof(state)) &&
			    !strcmp(state, "freed"))
				freed++;
			free(b);
		}
	}
	ASSERT_EQ(2, freed);
	/*
	 * The memory is free for the next sockets (TCP's slab reuses it at
	 * once): churn some, and the ended watches must record nothing.
	 */
	for (k = 0; k < 2; k++) {
		b = refs_block(ck[k]);
		ASSERT_NE(NULL, b);
		changes[k] = head_field(b, "changes");
		free(b);
	}
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, sl_tcp_pair(&c, &a));
		ASSERT_EQ(1, write(c, "x", 1));
		ASSERT_EQ(1, read(a, buf, 1));
		close(c);
		close(a);
	}
	for (k = 0; k < 2; k++) {
		b = refs_block(ck[k]);
		ASSERT_NE(NULL, b);
		EXPECT_EQ(changes[k], head_field(b, "changes"));
		free(b);
	}
	ASSERT_LE(0, ss_list(NULL, &ss));
	for (k = 0; k < 2; k++) {
		b = refs_block(ck[k]);
		ASSERT_NE(NULL, b);
		TH_LOG("%.*s ... %s", (int)(strchr(b, '\n') - b), b,
		       strstr(b, "explain="));
		EXPECT_LT(0, head_field(b, "changes"));
		EXPECT_LT(0, head_field(b, "gets"));
		EXPECT_EQ(0, head_field(b, "base") + head_field(b, "gets") -
			     head_field(b, "puts"));
		EXPECT_NE(NULL, strstr(b, "the history balances"));
		EXPECT_EQ(NULL, strstr(b, "[sockleak]"));
		free(b);
		s = ss_find(&ss, ck[k]);
		if (s)
			EXPECT_STREQ("TIME-WAIT", s->state);
	}
	ss_free(&ss);
}

/* The socket's count as /proc/net/tcp shows it; -1 when not listed. */
static long long proc_tcp_refcnt(int fd)
{
	return sl_proc_refcnt("/proc/net/tcp", fd);
}

/*
 * Gets and puts racing on two CPUs: the holdref module does sock_hold()
 * then sock_put() in holdref_race_step(), N times on each of two CPUs at
 * once. Each write is its own change: 2N gets and 2N puts there (the
 * module's loop is the truth), none folded with another CPU's write into
 * a change of 0 or 2, nothing left held, and the count is the one
 * /proc/net/tcp shows.
 */
TEST_F_TIMEOUT(refs, racing_changes_exact, 600)
{
	long long gets = 0, puts = 0, other = 0, n = sl_scale(20000);
	char cmd[64], held[4][512], op[16], stack[64], *b, *p;
	unsigned long long ck;
	int c, a;

	ck = watched_pair(_metadata, self, &c, &a);
	ASSERT_NE(0ULL, ck);
	snprintf(cmd, sizeof(cmd), "race %d %lld", c, n);
	ASSERT_EQ(0, sl_write(HOLDREF, cmd));

	b = refs_block(ck);
	ASSERT_NE(NULL, b);
	TH_LOG("%.*s", (int)(strstr(b, "\n") - b), b);
	for (p = b; (p = strstr(p, "\n site=")); p++) {
		char *e = strchr(p + 1, '\n'), *line;

		line = strndup(p + 1, e ? (size_t)(e - p - 1) : strlen(p + 1));
		ASSERT_NE(NULL, line);
		op[0] = stack[0] = '\0';
		if (sl_kv(line, "op", op, sizeof(op)) &&
		    sl_kv(line, "stack", stack, sizeof(stack)) &&
		    !strncmp(stack, "holdref_race_step+", 18)) {
			if (!strcmp(op, "get"))
				gets += sl_kv_ll(line, "count");
			else if (!strcmp(op, "put"))
				puts += sl_kv_ll(line, "count");
			else
				other += sl_kv_ll(line, "count");
			if (strcmp(op, "get") && strcmp(op, "put"))
				TH_LOG("%s", line);
		}
		free(line);
	}
	EXPECT_EQ(2 * n, gets);
	EXPECT_EQ(2 * n, puts);
	EXPECT_EQ(0, other);
	EXPECT_EQ(0, held_lines(b, held, 4));
	/*
	 * The socket's own timers take and put references too (a delayed
	 * ACK): refs and /proc/net/tcp, read one after the other, are read
	 * again until they agree (2 s at most; a debug kernel's timer put
	 * one in between).
	 */
	for (int t = 0; t < 20 && proc_tcp_refcnt(c) != head_field(b, "refcnt");
	     t++) {
		free(b);
		sl_msleep(100);
		b = refs_block(ck);
		ASSERT_NE(NULL, b);
	}
	EXPECT_EQ(proc_tcp_refcnt(c), head_field(b, "refcnt"));
	EXPECT_EQ(head_field(b, "refcnt"), head_field(b, "base") +
		  head_field(b, "gets") - head_field(b, "puts"));
	free(b);
	close(c);
	close(a);
}

/*
 * An idle listener: reading every report (each takes and drops a
 * reference on every socket) changes neither its count nor its history.
 */
TEST_F_TIMEOUT(refs, own_references_hidden, 120)
{
	int l = sl_listener(SOCK_CLOEXEC), i;
	unsigned long long ck;
	struct sl_list sl;
	long long changes;
	char *b;

	ASSERT_LE(0, l);
	ck = sl_sock_cookie(l);
	ASSERT_EQ(0, watch(_metadata, self, ck));
	b = refs_block(ck);
	ASSERT_NE(NULL, b);
	changes = head_field(b, "changes");
	EXPECT_EQ(0, changes);
	free(b);
	for (i = 0; i < 3; i++) {
		free(sl_read_file(SL_DIR "/sockets"));
		free(sl_read_file(SL_DIR "/suspects"));
		free(sl_read_file(SL_DIR "/summary"));
		ASSERT_EQ(0, sl_control("scan"));
	}
	/* The walk did see it (and so took its reference). */
	ASSERT_LE(0, sl_sockets(&sl));
	EXPECT_NE(NULL, sl_find(&sl, ck));
	sl_free(&sl);
	b = refs_block(ck);
	ASSERT_NE(NULL, b);
	TH_LOG("%s", b);
	EXPECT_EQ(changes, head_field(b, "changes"));
	EXPECT_EQ(head_field(b, "base"), head_field(b, "refcnt"));
	EXPECT_EQ(NULL, strstr(b, "[sockleak]"));
	free(b);
	close(l);
}

/*
 * Bad arguments: -EINVAL; a cookie no socket has: -ENOENT; twice the
 * same: -EEXIST; more sockets than debug registers: -ENOSPC; unwatch of
 * an unknown cookie: -ENOENT. None changes the list of watches.
 */
TEST_F_TIMEOUT(refs, errors_change_nothing, 120)
{
	int fds[6], i, armed = 0, ret = 0;
	unsigned long long ck[6];
	char *before, *after, cmd[64];

	for (i = 0; i < 6; i++) {
		fds[i] = sl_listener(SOCK_CLOEXEC);
		ASSERT_LE(0, fds[i]);
		ck[i] = sl_sock_cookie(fds[i]);
	}
	ASSERT_EQ(0, watch(_metadata, self, ck[0]));
	before = sl_read_file(REFS);
	ASSERT_NE(NULL, before);
	EXPECT_EQ(-EINVAL, sl_control("watch=zz"));
	EXPECT_EQ(-EINVAL, sl_control("watch=0"));
	EXPECT_EQ(-EINVAL, sl_control("watch"));
	EXPECT_EQ(-EINVAL, sl_control("unwatch"));
	EXPECT_EQ(-ENOENT, sl_control("watch=7fffffffffffffff"));
	EXPECT_EQ(-ENOENT, sl_control("unwatch=7fffffffffffffff"));
	snprintf(cmd, sizeof(cmd), "watch=%llx", ck[0]);
	EXPECT_EQ(-EEXIST, sl_control(cmd));
	after = sl_read_file(REFS);
	ASSERT_NE(NULL, after);
	EXPECT_STREQ(strip_times(before), strip_times(after));
	free(before);
	free(after);

	/* x86 has four debug address registers. */
	armed = 1;
	for (i = 1; i < 6 && !ret; i++) {
		ret = watch(_metadata, self, ck[i]);
		if (!ret)
			armed++;
	}
	TH_LOG("armed %d watchpoints, then %d", armed, ret);
	EXPECT_EQ(4, armed);
	EXPECT_EQ(-ENOSPC, ret);
	snprintf(cmd, sizeof(cmd), "unwatch=%llx", ck[0]);
	EXPECT_EQ(0, sl_control(cmd));
	EXPECT_EQ(0, watch(_metadata, self, ck[5]));
	for (i = 0; i < 6; i++)
		close(fds[i]);
}

/*
 * refcount_add(2): two references in one write of the count (one lock
 * xadd of 2: holdref's "hold2", which counts them both), from a count
 * where +1 would leave the same flags. The change is +2 at
 * holdref_take2(), both references are held there, the count adds up,
 * and the history balances at the free. Decoded from the carry flag
 * alone it was +1: the count one low.
 */
TEST_F_TIMEOUT(refs, xadd_addend_exact, 120)
{
	struct sockaddr_in lo = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char cmd[64], held[4][512], *b, *p;
	int u, twos = 0, singles = 0, i, n;
	unsigned long long ck;
	long long cnt;

	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, u);
	ASSERT_EQ(0, bind(u, (struct sockaddr *)&lo, sizeof(lo)));
	ck = sl_sock_cookie(u);
	ASSERT_EQ(0, watch(_metadata, self, ck));
	b = refs_block(ck);
	ASSERT_NE(NULL, b);
	cnt = head_field(b, "refcnt");
	free(b);
	/*
	 * From a count whose +1 and +2 leave the same flags (parity of the
	 * low byte: 4 -> 5 or 6), where the carry flag alone decoded +1.
	 */
	snprintf(cmd, sizeof(cmd), "hold %d", u);
	while (__builtin_parity((cnt + 1) & 0xff) !=
	       __builtin_parity((cnt + 2) & 0xff) && singles < 4) {
		ASSERT_EQ(0, sl_write(HOLDREF, cmd));
		self->holdref = true;
		cnt++;
		singles++;
	}
	snprintf(cmd, sizeof(cmd), "hold2 %d", u);
	ASSERT_EQ(0, sl_write(HOLDREF, cmd));
	self->holdref = true;
	ASSERT_EQ(singles + 2, holdref_count());
	b = refs_block(ck);
	ASSERT_NE(NULL, b);
	TH_LOG("%s", b);
	for (p = b; (p = strstr(p, "\n change=")); p++) {
		char *nl = strchr(p + 1, '\n');
		char *line = strndup(p + 1, nl ? (size_t)(nl - p - 1) :
				     strlen(p + 1));

		if (sl_kv_ll(line, "new") - sl_kv_ll(line, "old") == 2)
			twos++;
		free(line);
	}
	EXPECT_EQ(1, twos);
	EXPECT_EQ(cnt + 2, head_field(b, "refcnt"));
	EXPECT_EQ(head_field(b, "base") + singles + 2, head_field(b, "refcnt"));
	n = held_lines(b, held, 4);
	for (i = 0; i < n; i++)
		if (strstr(held[i], "taken=holdref_take2+"))
			break;
	ASSERT_LT(i, n);
	EXPECT_NE(NULL, strstr(held[i], "held=2 "));
	EXPECT_EQ(NULL, strstr(b, "not explained"));
	free(b);
	close(u);
	ASSERT_EQ(0, sl_write(HOLDREF, "release"));
	self->holdref = false;
	b = wait_freed(ck);
	ASSERT_NE(NULL, b);
	EXPECT_NE(NULL, strstr(b, "the history balances")) TH_LOG("%s", b);
	free(b);
}

/*
 * Another sockleak reader's reference is sockleak's, not the socket's: a
 * watch armed while "sockets" is read over and over (a batch holds its
 * sockets, a walk its anchor) must, once the reader is gone, say the
 * count /proc/net/tcp says, with base + gets - puts adding up to it: not
 * count a reference the reader held at the arming, and put afterwards,
 * as "from before the watch". The socket's own timers hold references
 * too (a delayed ACK): both are read until they agree (2 s at most),
 * after waiting for the socket to be quiet before each arming. 40
 * armings.
 */
TEST_F_TIMEOUT(refs, concurrent_reader_not_counted, 900)
{
	int c, a, wrong = 0, round, t;
	unsigned long long ck;
	char cmd[64], *b = NULL;

	ASSERT_EQ(0, sl_tcp_pair(&c, &a));
	ck = sl_sock_cookie(c);
	ASSERT_NE(0ULL, ck);
	for (round = 0; round < 40; round++) {
		long long want = -1, got = -2, sum = -3;
		pid_t pid;

		for (t = 0; t < 40 && proc_tcp_refcnt(c) != 1; t++)
			sl_msleep(50);
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			for (;;)
				free(sl_read_file(SL_DIR "/sockets"));
		}
		sl_msleep(20 + round % 7);
		snprintf(cmd, sizeof(cmd), "watch=%llx", ck);
		ASSERT_EQ(0, sl_control(cmd));
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, NULL, 0));
		for (t = 0; t < 20; t++) {
			free(b);
			b = refs_block(ck);
			ASSERT_NE(NULL, b);
			got = head_field(b, "refcnt");
			sum = head_field(b, "base") + head_field(b, "gets") -
			      head_field(b, "puts");
			want = proc_tcp_refcnt(c);
			if (got == want && sum == got)
				break;
			sl_msleep(100);
		}
		if (got != want || sum != got) {
			TH_LOG("round %d: /proc/net/tcp says %lld: %s", round,
			       want, b);
			wrong++;
		}
		free(b);
		b = NULL;
		snprintf(cmd, sizeof(cmd), "unwatch=%llx", ck);
		ASSERT_EQ(0, sl_control(cmd));
	}
	EXPECT_EQ(0, wrong);
	close(c);
	close(a);
}

static long long mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/*
 * "watch=" looks for its cookie over every socket before it takes the
 * watch mutex: refs, the free work and watch_next's work, which take it,
 * go on meanwhile. 20000 UDP sockets make the walk for a cookie that is
 * not there (ENOENT) long; refs is read over and over while it walks.
 * With the walk under the mutex a read waited for the rest of the walk:
 * one read took longer than the whole "watch=" write. Now either no read
 * takes half as long as the write, or reads that start in the second half
 * of the walk end (2 ms) before it (a read descheduled for a while is
 * not the mutex).
 */
TEST_F_TIMEOUT(refs, watch_walk_blocks_nothing, 300)
{
	struct rlimit rl = { 22000, 22000 };
	long long t0, t1, w0 = 0, w1 = 0, worst = 0, (*at)[2];
	int *fds, n = 20000, i, p[2], reads = 0, inside = 0;
	pid_t pid;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	fds = calloc(n, sizeof(*fds));
	ASSERT_NE(NULL, fds);
	for (i = 0; i < n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET };

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, bind(fds[i], (struct sockaddr *)&a, sizeof(a)));
	}
	at = calloc(100000, sizeof(*at));
	ASSERT_NE(NULL, at);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		long long t[2];
		int rc;

		t[0] = mono_us();
		rc = sl_control("watch=ffffffffffffff");
		t[1] = mono_us();
		_exit(write(p[1], t, sizeof(t)) != sizeof(t) ||
		      rc != -ENOENT);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };

		if (poll(&pf, 1, 0) > 0)
			break;
		t0 = mono_us();
		free(sl_read_file(SL_DIR "/refs"));
		t1 = mono_us();
		if (t1 - t0 > worst)
			worst = t1 - t0;
		if (reads < 100000) {
			at[reads][0] = t0;
			at[reads][1] = t1;
		}
		reads++;
	}
	ASSERT_EQ(sizeof(w0) * 2, (size_t)read(p[0], &w0, sizeof(w0)) +
				  (size_t)read(p[0], &w1, sizeof(w1)));
	ASSERT_EQ(pid, waitpid(pid, &i, 0));
	EXPECT_EQ(0, i);
	for (i = 0; i < reads && i < 100000; i++)
		inside += at[i][0] >= w0 + (w1 - w0) / 2 &&
			  at[i][1] <= w1 - 2000;
	TH_LOG("watch= walked %d sockets in %lld us; %d reads of refs meanwhile, the longest %lld us, %d in the second half",
	       n, w1 - w0, reads, worst, inside);
	EXPECT_LT(0, reads);
	EXPECT_TRUE(2 * worst < w1 - w0 || inside > 0);
	free(at);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

#define CPU1_ONLINE	"/sys/devices/system/cpu/cpu1/online"

/*
 * CPU hotplug: a watch armed before CPU 1 goes offline (its event there
 * is taken off for good) and one armed while CPU 1 is offline (it has
 * none there) both see the references taken on CPU 1 once it is back:
 * holdref_take() named, the change made on cpu=1, cpus_late counted.
 * Before, neither saw them: "not explained by the history".
 */
TEST_F_TIMEOUT(refs, hotplug_cpu_watched, 300)
{
	struct sockaddr_in lo = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned long long ck[2];
	char cmd[64], held[4][512], *b;
	int u[2], i, n, st;
	pid_t pid;

	if (access(CPU1_ONLINE, W_OK) || sl_write(CPU1_ONLINE, "1"))
		SKIP(return, "CPU 1 cannot go offline here");
	for (i = 0; i < 2; i++) {
		if (i == 1)
			ASSERT_EQ(0, sl_write(CPU1_ONLINE, "0"));
		u[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, u[i]);
		lo.sin_port = 0;
		ASSERT_EQ(0, bind(u[i], (struct sockaddr *)&lo, sizeof(lo)));
		ck[i] = sl_sock_cookie(u[i]);
		ASSERT_EQ(0, watch(_metadata, self, ck[i]));
		if (i == 0)
			ASSERT_EQ(0, sl_write(CPU1_ONLINE, "0"));
	}
	ASSERT_EQ(0, sl_write(CPU1_ONLINE, "1"));
	sl_msleep(1000);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(1, &set);
		if (sched_setaffinity(0, sizeof(set), &set) ||
		    sched_getcpu() != 1)
			_exit(1);
		for (i = 0; i < 2; i++) {
			snprintf(cmd, sizeof(cmd), "hold %d", u[i]);
			if (sl_write(HOLDREF, cmd))
				_exit(2);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_EQ(0, st);
	self->holdref = true;
	for (i = 0; i < 2; i++) {
		b = refs_block(ck[i]);
		ASSERT_NE(NULL, b);
		TH_LOG("%s", b);
		n = held_lines(b, held, 4);
		EXPECT_EQ(1, n);
		if (n == 1)
			EXPECT_NE(NULL, strstr(held[0], "taken=holdref_take+"));
		EXPECT_NE(NULL, strstr(b, " cpu=1 "));
		EXPECT_LE(1, head_field(b, "cpus_late"));
		EXPECT_EQ(NULL, strstr(b, "not explained"));
		free(b);
	}
	ASSERT_EQ(0, sl_write(HOLDREF, "release"));
	self->holdref = false;
	for (i = 0; i < 2; i++) {
		close(u[i]);
		b = wait_freed(ck[i]);
		ASSERT_NE(NULL, b);
		EXPECT_NE(NULL, strstr(b, "the history balances")) TH_LOG("%s", b);
		free(b);
	}
}

/* The "watch_next" line of "refs": its @key, -1 when absent. */
static long long next_field(const char *key)
{
	char *text = sl_read_file(REFS), *p;
	long long v = -1;

	if (text && (p = strstr(text, "watch_next ")))
		v = sl_kv_ll(p, key);
	free(text);
	return v;
}

static int port_of_fd(int fd, bool peer)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&a, &len))
		return -1;
	return ntohs(a.sin_port);
}

/* Wait until "watch_next" has armed @n sockets (the work runs soon). */
static bool next_armed(int n)
{
	for (int i = 0; i < 50; i++) {
		if (next_field("armed") >= n)
			return true;
		sl_msleep(100);
	}
	return false;
}

/* The cookie= of every block of "refs" with origin=@origin. */
static int cookies_of(const char *origin, unsigned long long *out, int max)
{
	char *text = sl_read_file(REFS), *p, want[32], v[32];
	int n = 0;

	snprintf(want, sizeof(want), " origin=%s ", origin);
	for (p = text; p && n < max; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char *nl = strchr(p, '\n');

		if (strncmp(p, "cookie=", 7))
			continue;
		if (!strstr(p, want) || (nl && strstr(p, want) > nl))
			continue;
		if (sl_kv(p, "cookie", v, sizeof(v)))
			out[n++] = strtoull(v, NULL, 16);
	}
	free(text);
	return n;
}

/*
 * watch_next with a port filter: the next connection to a listener's
 * port arms the connecting socket (at connect) and the accepted child (at
 * clone), both named by the cookies ss and SO_COOKIE give; the child's
 * reference taken by the test module is named; both balance when freed.
 */
TEST_F_TIMEOUT(refs, watch_next_port, 120)
{
	unsigned long long got[4], ck_c, ck_a;
	char cmd[96], held[4][512], *b;
	int l, c, a, port, n;

	ASSERT_EQ(-EINVAL, sl_control("watch_next=port:0"));
	ASSERT_EQ(-EINVAL, sl_control("watch_next=colour:red"));
	ASSERT_EQ(0, sl_control("track=off"));
	EXPECT_EQ(-ENODEV, sl_control("watch_next=port:80"));
	ASSERT_EQ(0, sl_control("track=on"));

	l = sl_listener(SOCK_CLOEXEC);
	ASSERT_LE(0, l);
	port = port_of_fd(l, false);
	snprintf(cmd, sizeof(cmd), "watch_next=proto:tcp,port:%d,count:2",
		 port);
	ASSERT_EQ(0, sl_control(cmd));
	EXPECT_EQ(2, next_field("left"));
	c = sl_connect(l, SOCK_CLOEXEC);
	ASSERT_LE(0, c);
	a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, a);
	ASSERT_EQ(port, port_of_fd(c, true));
	ASSERT_TRUE(next_armed(2));
	EXPECT_EQ(0, next_field("left"));
	EXPECT_EQ(0, next_field("lost"));
	ck_c = sl_sock_cookie(c);
	ck_a = sl_sock_cookie(a);
	ASSERT_EQ(1, cookies_of("connect", got, 4));
	EXPECT_EQ(ck_c, got[0]);
	ASSERT_EQ(1, cookies_of("clone", got, 4));
	EXPECT_EQ(ck_a, got[0]);
	self->watched[self->nwatched++] = ck_c;
	self->watched[self->nwatched++] = ck_a;

	snprintf(cmd, sizeof(cmd), "hold %d", a);
	ASSERT_EQ(0, sl_write(HOLDREF, cmd));
	self->holdref = true;
	close(c);
	close(a);
	close(l);
	sl_msleep(500);
	b = refs_block(ck_a);
	ASSERT_NE(NULL, b);
	TH_LOG("%.*s", (int)(strchr(b, '\n') - b), b);
	EXPECT_LE(0, head_field(b, "armed_after_us"));
	n = held_lines(b, held, 4);
	ASSERT_EQ(1, n);
	EXPECT_NE(NULL, strstr(held[0], "taken=holdref_take+"));
	free(b);
	ASSERT_EQ(0, sl_write(HOLDREF, "release"));
	self->holdref = false;
	b = wait_freed(ck_a);
	ASSERT_NE(NULL, b);
	EXPECT_NE(NULL, strstr(b, "the history balances"));
	free(b);
}

/*
 * An SCTP listener passes the same state tracepoint as TCP's listen: a
 * port filter must not arm it (it was armed and labelled tcp). The TCP
 * listener that then listens on the same port number is the one armed.
 */
TEST_F_TIMEOUT(refs, watch_next_port_not_sctp, 120)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	unsigned long long got[2];
	char cmd[96], *b;
	int s, t, port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Every Debian kernel has sctp.ko (mkinitramfs.sh insists). */
	if (system("modprobe sctp 2>/dev/null") &&
	    system("grep -q '^sctp ' /proc/modules"))
		SKIP(return, "this kernel has no SCTP module");
	s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
	ASSERT_LE(0, s) TH_LOG("SCTP socket: %s", strerror(errno));
	ASSERT_EQ(0, bind(s, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(0, getsockname(s, (struct sockaddr *)&a, &len));
	port = ntohs(a.sin_port);
	ASSERT_EQ(0, sl_control("track=on"));
	snprintf(cmd, sizeof(cmd), "watch_next=port:%d,count:1", port);
	ASSERT_EQ(0, sl_control(cmd));
	ASSERT_EQ(0, listen(s, 1));
	sl_msleep(500);
	EXPECT_EQ(0, next_field("armed")) TH_LOG("the SCTP listener was armed");
	EXPECT_EQ(1, next_field("left"));

	t = sl_listener_at(&(struct sl_sock_opts){ .port = port, .backlog = 1,
						 .flags = SOCK_CLOEXEC }, NULL);
	ASSERT_LE(0, t) TH_LOG("TCP listener on port %d: %s", port,
			       strerror(errno));
	ASSERT_TRUE(next_armed(1));
	ASSERT_EQ(1, cookies_of("listen", got, 2));
	EXPECT_EQ(sl_sock_cookie(t), got[0]);
	self->watched[self->nwatched++] = got[0];
	b = refs_block(got[0]);
	ASSERT_NE(NULL, b);
	EXPECT_NE(NULL, strstr(b, " proto=tcp ")) TH_LOG("%.200s", b);
	free(b);
	close(t);
	close(s);
}

/*
 * watch_next by the creating task's name: the next UDP socket this test
 * creates is armed from its allocation (origin=alloc, armed_after_us
 * says how late); its history balances when it is freed.
 */
TEST_F_TIMEOUT(refs, watch_next_comm_alloc, 120)
{
	unsigned long long got[2], ck;
	char *b;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int u, i;

	ASSERT_EQ(0, sl_control("track=on"));
	ASSERT_EQ(0, sl_control("watch_next=proto:udp,comm:refs_test"));
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, u);
	ASSERT_TRUE(next_armed(1));
	ck = sl_sock_cookie(u);
	ASSERT_EQ(1, cookies_of("alloc", got, 2));
	EXPECT_EQ(ck, got[0]);
	self->watched[self->nwatched++] = ck;
	ASSERT_EQ(0, bind(u, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, getsockname(u, (struct sockaddr *)&sa, &len));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, sendto(u, "x", 1, 0, (struct sockaddr *)&sa,
				    sizeof(sa)));
	close(u);
	b = wait_freed(ck);
	ASSERT_NE(NULL, b);
	TH_LOG("%.*s", (int)(strchr(b, '\n') - b), b);
	EXPECT_LE(0, head_field(b, "armed_after_us"));
	EXPECT_NE(NULL, strstr(b, "the history balances"));
	free(b);
}

#define HOLDREF_COOKIE	"/sys/kernel/debug/sockleak_holdref/cookie"

/* The cookie of the test module's last held socket (hex), 0: none. */
static unsigned long long holdref_cookie(void)
{
	char *t = sl_read_file(HOLDREF_COOKIE);
	unsigned long long ck = t ? strtoull(t, NULL, 16) : 0;

	free(t);
	return ck;
}

/*
 * Watch from the first reference: a reference taken right after the
 * socket's creation, in the same call (the test module creates a kernel
 * socket, UDP, netlink or unix, and takes a reference in holdref_take()
 * before the write returns) or in the very next one ("hold <fd>" right
 * after socket()), is named for every socket watch_next arms: 100 of
 * 100, four at a time (one standby watchpoint each), armed by the probe
 * that matched them (armed_by=probe, armed_after_us=0), none of the count
 * from before the watch; each history balances once the socket is freed.
 * Before the standbys, the work item armed them milliseconds late: the
 * kernel sockets' reference was "from before the watch".
 */
TEST_F_TIMEOUT(refs, watch_next_first_reference, 900)
{
	static const char * const kern[] = {
		"kern 2 2 17", "kern 16 3 0", "kern 1 2 0",
	};
	int named = 0, balanced = 0, total = 0;

	ASSERT_EQ(0, sl_control("track=on"));
	for (int round = 0; round < 25; round++) {
		unsigned long long ck[4];
		char cmd[64], held[4][512], by[16], *b;
		int i, fd;

		ASSERT_EQ(0, sl_control("watch_next=comm:refs_test,count:4"));
		ASSERT_EQ(4, next_field("standby"));
		for (i = 0; i < 4; i++) {
			if ((round + i) % 2) {
				ASSERT_EQ(0, sl_write(HOLDREF,
						      kern[(round + i) % 3]));
				ck[i] = holdref_cookie();
			} else {
				fd = socket(i & 2 ? AF_UNIX : AF_INET,
					    SOCK_DGRAM | SOCK_CLOEXEC, 0);
				ASSERT_LE(0, fd);
				snprintf(cmd, sizeof(cmd), "hold %d", fd);
				ASSERT_EQ(0, sl_write(HOLDREF, cmd));
				ck[i] = sl_sock_cookie(fd);
				close(fd);
			}
			self->holdref = true;
			ASSERT_NE(0ULL, ck[i]);
		}
		EXPECT_EQ(4, next_field("armed"));
		EXPECT_EQ(0, next_field("standby"));
		for (i = 0; i < 4; i++) {
			total++;
			/* A netlink socket's release puts after a grace period. */
			for (int t = 0; t < 30; t++) {
				b = refs_block(ck[i]);
				if (!b || head_field(b, "refcnt") == 1)
					break;
				free(b);
				b = NULL;
				sl_msleep(100);
			}
			if (!b) {
				TH_LOG("round %d: %llx not watched", round,
				       ck[i]);
				continue;
			}
			if (head_str(b, "armed_by", by, sizeof(by)) &&
			    !strcmp(by, "probe") &&
			    head_field(b, "armed_after_us") == 0 &&
			    head_field(b, "base") == 0 &&
			    held_lines(b, held, 4) == 1 &&
			    strstr(held[0], "taken=holdref_take+") &&
			    strstr(b, "held_before_watch=0\n"))
				named++;
			else
				TH_LOG("round %d: %s", round, b);
			free(b);
		}
		ASSERT_EQ(0, sl_write(HOLDREF, "release"));
		self->holdref = false;
		for (i = 0; i < 4; i++) {
			b = wait_freed(ck[i]);
			if (b && strstr(b, "the history balances"))
				balanced++;
			else if (b)
				TH_LOG("round %d: %s", round, b);
			free(b);
			snprintf(cmd, sizeof(cmd), "unwatch=%llx", ck[i]);
			sl_control(cmd);
		}
	}
	EXPECT_EQ(100, total);
	EXPECT_EQ(total, named);
	EXPECT_EQ(total, balanced);
}

/* A loopback port of @type free right now (bound, read, closed). */
static int free_port(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/*
 * watch_next=proto:udp,port:N: a UDP socket is matched when it binds to
 * N (origin=bind) and when it connects to N (origin=connect, after its
 * autobind); one bound to another port is not, and the bound one is not
 * matched again when it connects elsewhere. Both named by SO_COOKIE.
 */
TEST_F_TIMEOUT(refs, watch_next_udp_port, 120)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned long long got[4];
	char cmd[96];
	int u0, u1, u2, port;

	port = free_port(SOCK_DGRAM);
	ASSERT_LT(0, port);
	ASSERT_EQ(0, sl_control("track=on"));
	snprintf(cmd, sizeof(cmd), "watch_next=proto:udp,port:%d,count:3",
		 port);
	ASSERT_EQ(0, sl_control(cmd));

	u0 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, u0);
	ASSERT_EQ(0, bind(u0, (struct sockaddr *)&a, sizeof(a)));
	u1 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, u1);
	a.sin_port = htons(port);
	ASSERT_EQ(0, bind(u1, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_TRUE(next_armed(1));
	a.sin_port = htons(port_of_fd(u0, false));
	ASSERT_EQ(0, connect(u1, (struct sockaddr *)&a, sizeof(a)));
	u2 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, u2);
	a.sin_port = htons(port);
	ASSERT_EQ(0, connect(u2, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(port, port_of_fd(u2, true));
	ASSERT_TRUE(next_armed(2));
	sl_msleep(300);
	EXPECT_EQ(2, next_field("armed"));
	EXPECT_EQ(1, next_field("left"));
	EXPECT_EQ(0, next_field("lost"));
	ASSERT_EQ(1, cookies_of("bind", got, 4));
	EXPECT_EQ(sl_sock_cookie(u1), got[0]);
	self->watched[self->nwatched++] = got[0];
	ASSERT_EQ(1, cookies_of("connect", got, 4));
	EXPECT_EQ(sl_sock_cookie(u2), got[0]);
	self->watched[self->nwatched++] = got[0];
	close(u2);
	close(u1);
	close(u0);
}

/*
 * An accepted child matched by its remote port: the client binds port N
 * and connects (armed at connect by its local port); the listener's
 * child, whose remote port is N, is armed once established
 * (origin=clone), not only children matched by the listener's port.
 */
TEST_F_TIMEOUT(refs, watch_next_child_remote_port, 120)
{
	struct sockaddr_in b = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned long long got[4];
	char cmd[96];
	int l, c, a, port;

	l = sl_listener(SOCK_CLOEXEC);
	ASSERT_LE(0, l);
	port = free_port(SOCK_STREAM);
	ASSERT_LT(0, port);
	ASSERT_NE(port, port_of_fd(l, false));
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, c);
	b.sin_port = htons(port);
	ASSERT_EQ(0, bind(c, (struct sockaddr *)&b, sizeof(b)));
	ASSERT_EQ(0, sl_control("track=on"));
	snprintf(cmd, sizeof(cmd), "watch_next=proto:tcp,port:%d,count:2",
		 port);
	ASSERT_EQ(0, sl_control(cmd));
	b.sin_port = htons(port_of_fd(l, false));
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&b, sizeof(b)));
	a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, a);
	ASSERT_EQ(port, port_of_fd(a, true));
	ASSERT_TRUE(next_armed(2)) TH_LOG("the child was not armed");
	EXPECT_EQ(0, next_field("lost"));
	ASSERT_EQ(1, cookies_of("connect", got, 4));
	EXPECT_EQ(sl_sock_cookie(c), got[0]);
	self->watched[self->nwatched++] = got[0];
	ASSERT_EQ(1, cookies_of("clone", got, 4));
	EXPECT_EQ(sl_sock_cookie(a), got[0]);
	self->watched[self->nwatched++] = got[0];
	close(a);
	close(c);
	close(l);
}

/* How many blocks of "refs" name @cookie. */
static int refs_blocks_of(unsigned long long cookie)
{
	char *text = sl_read_file(REFS), *p, want[40];
	int n = 0;

	snprintf(want, sizeof(want), "cookie=%llx ", cookie);
	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, want, strlen(want)))
			n++;
	free(text);
	return n;
}

/*
 * watch=C and the watch_next work arming the same socket at once, while
 * every slot holds an ended watch: each must evict one (which drops the
 * watch mutex for an RCU grace period), and the second to come back must
 * find the first one's watch (EEXIST), not arm the cookie a second time
 * on a second debug register.
 */
TEST_F_TIMEOUT(refs, same_cookie_armed_once, 600)
{
	struct sockaddr_in lo = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	ASSERT_EQ(0, sl_control("track=on"));
	for (int round = 0; round < 10; round++) {
		unsigned long long ck;
		int u, i, port, n;
		char cmd[96];

		/* Fill the slots with ended watches. */
		for (i = 0; i < 8; i++) {
			int v = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			char *b;

			ASSERT_LE(0, v);
			/* Bound: hashed, so that watch= finds it. */
			lo.sin_port = 0;
			ASSERT_EQ(0, bind(v, (struct sockaddr *)&lo, sizeof(lo)));
			ck = sl_sock_cookie(v);
			ASSERT_EQ(0, watch(_metadata, self, ck));
			close(v);
			b = wait_freed(ck);
			ASSERT_NE(NULL, b);
			free(b);
		}
		port = free_port(SOCK_DGRAM);
		ASSERT_LT(0, port);
		snprintf(cmd, sizeof(cmd),
			 "watch_next=proto:udp,port:%d,count:1", port);
		ASSERT_EQ(0, sl_control(cmd));
		u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, u);
		ck = sl_sock_cookie(u);
		lo.sin_port = htons(port);
		/* The bind queues the work; watch= races it. */
		ASSERT_EQ(0, bind(u, (struct sockaddr *)&lo, sizeof(lo)));
		snprintf(cmd, sizeof(cmd), "watch=%llx", ck);
		i = sl_control(cmd);
		EXPECT_TRUE(i == 0 || i == -EEXIST) TH_LOG("watch=: %d", i);
		for (i = 0; i < 50 && next_field("left"); i++)
			sl_msleep(100);
		sl_msleep(500);
		n = refs_blocks_of(ck);
		EXPECT_EQ(1, n) {
			TH_LOG("round %d: cookie %llx armed %d times", round, ck,
			       n);
		}
		snprintf(cmd, sizeof(cmd), "unwatch=%llx", ck);
		while (!sl_control(cmd))
			;
		close(u);
		if (_metadata->exit_code)
			break;
	}
}

TEST_HARNESS_MAIN
