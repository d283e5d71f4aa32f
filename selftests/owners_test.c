// SPDX-License-Identifier: GPL-2.0
/*
 * The owner scan ("echo scan > control") and the "suspects" file.
 *
 * owners: the pid:fd sets of "owners=" equal those found by reading every
 *	/proc/PID/fd link (the independent source), with a forked child
 *	sharing one socket under another fd number.
 * unhashed: sockets reset by the peer while their owner holds them with
 *	unread data are invisible to ss, yet after a scan "sockets" lists
 *	each with hashed=0, its owner, state and memory (rmem >= the unread
 *	bytes FIONREAD reports), and "summary" counts exactly them in the
 *	test's netns.
 * not pinned: after a scan saw a netns' unhashed sockets and their owner
 *	closed them, deleting the netns dismantles it (its veth peer goes).
 * no_fd: a socket whose only reference is an SCM_RIGHTS message in flight
 *	is flagged no_fd with no owner; once received, it has its new fd.
 * suspects: each scenario gives exactly the expected line (reason, owner
 *	pid, fd in the text); the clean control scenario gives none.
 *
 * Every test runs in its own network namespace (unshare), so ss only
 * shows the test's sockets.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest_harness.h"
#include "lib/sl_util.h"

#define AGE_MS 300

static unsigned long ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* Every test needs the module (and inet_diag for ss): 0 or -1. */
static int load_modules(void)
{
	return system("modprobe sockleak && modprobe tcp_diag && modprobe udp_diag") ?
	       -1 : 0;
}

/* The modules loaded, a private netns with lo up. */
static int own_netns(void)
{
	if (load_modules() || unshare(CLONE_NEWNET))
		return -1;
	return system("/usr/bin/ip link set lo up");
}

static int inq(int fd)
{
	int n = -1;

	ioctl(fd, SIOCINQ, &n);
	return n;
}

/* Wait until fd has want bytes unread (up to 5 s). */
static int wait_inq(int fd, int want)
{
	for (int i = 0; i < 500; i++) {
		if (inq(fd) >= want)
			return 0;
		sl_msleep(10);
	}
	return -1;
}

static int scan(void)
{
	return sl_control("scan");
}

/* The flag ages back to their defaults: 0 or -errno. */
static int set_defaults(void)
{
	return sl_control("close_wait_ms=60000\nunread_ms=60000\nunhashed_ms=60000\n");
}

/* Append a space-separated word to buf (truncated to len). */
static void append_word(char *buf, size_t len, const char *w)
{
	size_t used = strlen(buf), wl = strlen(w);

	if (used && used + 1 < len)
		buf[used++] = ' ';
	if (used + wl >= len)
		wl = len - used - 1;
	memcpy(buf + used, w, wl);
	buf[used + wl] = '\0';
}

#define WORD_LEN 520

static int cmp_word(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The n words sorted, space separated, into buf (truncated to len). */
static void join_sorted(char (*words)[WORD_LEN], int n, char *buf,
			size_t len)
{
	qsort(words, n, WORD_LEN, cmp_word);
	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		append_word(buf, len, words[i]);
}

/*
 * The pid:fd pairs of every /proc/PID/fd link to socket:[ino], as
 * "pid:fd" words sorted in buf (space separated).
 */
static int proc_owners(unsigned long ino, char *buf, size_t len)
{
	char want[64], path[600], link[64], words[64][WORD_LEN];
	struct dirent *p, *f;
	DIR *pd, *fd;
	int n = 0;

	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	pd = opendir("/proc");
	if (!pd)
		return -1;
	while ((p = readdir(pd))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fd = opendir(path);
		if (!fd)
			continue;
		while ((f = readdir(fd))) {
			ssize_t l;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s",
				 p->d_name, f->d_name);
			l = readlink(path, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = '\0';
			if (strcmp(link, want) || n == 64)
				continue;
			snprintf(words[n++], sizeof(words[0]), "%.100s:%.100s",
				 p->d_name, f->d_name);
		}
		closedir(fd);
	}
	closedir(pd);
	join_sorted(words, n, buf, len);
	return n;
}

/* owners= of a sockets line as sorted "pid:fd" words; -1 if truncated. */
static int line_owners(const char *line, char *buf, size_t len)
{
	char v[512], words[16][WORD_LEN], *tok, *save;
	int n = 0;

	buf[0] = '\0';
	if (!sl_kv(line, "owners", v, sizeof(v)))
		return -2;
	if (!strcmp(v, "-"))
		return 0;
	if (!strcmp(v, "?") || strchr(v, '('))
		return -1;
	for (tok = strtok_r(v, ",", &save); tok && n < 16;
	     tok = strtok_r(NULL, ",", &save))
		snprintf(words[n++], sizeof(words[0]), "%s", tok);
	join_sorted(words, n, buf, len);
	return n;
}

static void expect_owners(struct __test_metadata *_metadata,
			  struct sl_list *l, int fd)
{
	char want[512], got[512];
	const char *line = sl_find(l, sl_sock_cookie(fd));
	int n;

	ASSERT_NE(NULL, line);
	n = proc_owners(ino_of(fd), want, sizeof(want));
	ASSERT_LT(0, n);
	ASSERT_EQ(n, line_owners(line, got, sizeof(got)));
	EXPECT_STREQ(want, got) {
		TH_LOG("fd %d: %s", fd, line);
	}
	EXPECT_LE(0, sl_kv_ll(line, "scan_age_ms"));
}


TEST(owners_match_proc_fd)
{
	int l, c1, a1, c2, a2, u, pfd[2], dupfd = 40;
	struct sl_list sl;
	char ok;
	pid_t child;

	ASSERT_EQ(0, own_netns());
	l = sl_listener(0);
	c1 = sl_connect(l, 0);
	a1 = accept(l, NULL, NULL);
	c2 = sl_connect(l, 0);
	a2 = accept(l, NULL, NULL);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, l);
	ASSERT_LE(0, c1);
	ASSERT_LE(0, a1);
	ASSERT_LE(0, c2);
	ASSERT_LE(0, a2);
	ASSERT_LE(0, u);
	/* The parent holds c2 under a second fd too. */
	ASSERT_LE(0, dup2(c2, 41));
	ASSERT_EQ(0, pipe(pfd));

	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		/* Keep only c1, under another number. */
		dup2(c1, dupfd);
		for (int fd = 3; fd < 64; fd++)
			if (fd != dupfd && fd != pfd[1])
				close(fd);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &ok, 1));

	ASSERT_EQ(0, scan());
	ASSERT_LT(0, sl_lines(SL_DIR "/sockets", &sl));
	expect_owners(_metadata, &sl, l);
	expect_owners(_metadata, &sl, c1);	/* parent and child */
	expect_owners(_metadata, &sl, a1);
	expect_owners(_metadata, &sl, c2);	/* two fds of the parent */
	expect_owners(_metadata, &sl, a2);
	expect_owners(_metadata, &sl, u);	/* unbound UDP: unhashed */
	EXPECT_EQ(0, sl_kv_ll(sl_find(&sl, sl_sock_cookie(u)),
			      "hashed"));
	EXPECT_EQ(1, sl_kv_ll(sl_find(&sl, sl_sock_cookie(c1)),
			      "hashed"));
	sl_free(&sl);

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

#define NRESET 3

/* The summary line netns=<inum> kind=mem proto=tcp. */
static long long summary_tcp_mem(const char *key)
{
	char *sum = sl_read_file(SL_DIR "/summary"), *line, *save, v[32];
	char ns[32];
	long long val = -1;

	if (!sum)
		return -1;
	snprintf(ns, sizeof(ns), "%lu", sl_netns_inum());
	for (line = strtok_r(sum, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!sl_kv(line, "netns", v, sizeof(v)) || strcmp(v, ns))
			continue;
		if (!sl_kv(line, "kind", v, sizeof(v)) || strcmp(v, "mem"))
			continue;
		if (!sl_kv(line, "proto", v, sizeof(v)) || strcmp(v, "tcp"))
			continue;
		val = sl_kv_ll(line, key);
	}
	free(sum);
	return val;
}

TEST(unhashed_reset_by_peer)
{
	int l, cl[NRESET];
	struct ss_list ss;
	struct sl_list sl;
	char v[64], want[32];

	ASSERT_EQ(0, set_defaults());
	ASSERT_EQ(0, own_netns());
	l = sl_listener(0);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, sl_make_resets(l, cl, NRESET));

	/* ss (inet_diag) cannot see them. */
	ASSERT_LE(0, ss_list(NULL, &ss));
	for (int i = 0; i < NRESET; i++)
		EXPECT_EQ(NULL, ss_find(&ss, sl_sock_cookie(cl[i])));
	ss_free(&ss);

	ASSERT_EQ(0, scan());
	ASSERT_LT(0, sl_lines(SL_DIR "/sockets", &sl));
	for (int i = 0; i < NRESET; i++) {
		const char *line = sl_find(&sl, sl_sock_cookie(cl[i]));

		ASSERT_NE(NULL, line);
		if (!i)
			TH_LOG("%s", line);
		EXPECT_EQ(0, sl_kv_ll(line, "hashed"));
		ASSERT_TRUE(sl_kv(line, "state", v, sizeof(v)));
		EXPECT_STREQ("UNCONN", v);	/* TCP_CLOSE, as ss names it */
		EXPECT_EQ(ino_of(cl[i]), (unsigned long)sl_kv_ll(line, "ino"));
		EXPECT_LE(inq(cl[i]), sl_kv_ll(line, "rmem"));
		EXPECT_EQ(8000, inq(cl[i]));
		ASSERT_TRUE(sl_kv(line, "owners", v, sizeof(v)));
		snprintf(want, sizeof(want), "%d:%d", getpid(), cl[i]);
		EXPECT_STREQ(want, v);
		/* Reset with data unread: certain at once, unhashed_ms is 60 s. */
		EXPECT_TRUE(sl_has_flag(line, "unhashed_mem"));
	}
	sl_free(&sl);

	/* Counted in summary: exactly the test's sockets in its netns. */
	EXPECT_EQ(NRESET, summary_tcp_mem("unhashed"));
	EXPECT_LE(NRESET * 2, summary_tcp_mem("unhashed_pages"));
	/* The hash tables of this netns hold only the listener. */
	EXPECT_EQ(1, summary_tcp_mem("full"));

	/* Once closed, they leave the report. */
	for (int i = 0; i < NRESET; i++)
		close(cl[i]);
	EXPECT_EQ(0, summary_tcp_mem("unhashed"));
}

/* True once /sys/class/net/dev is gone, within ms milliseconds. */
static bool dev_gone_within(const char *dev, int ms)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s", dev);
	for (int t = 0; t < ms; t += 100) {
		if (access(path, F_OK))
			return true;
		sl_msleep(100);
	}
	return false;
}

/*
 * The scan must not pin what it saw. A child in netns "slpin" holds a
 * never-bound TCP socket and a never-bound UDP socket (unhashed: only the
 * scan can show them); after a scan "sockets" lists both, with the child
 * as owner. Then the child exits (closing them) and the netns is deleted:
 * the kernel must dismantle it, which deletes the veth end that lives
 * there and so its peer in this netns (the independent witness). A
 * reference kept by the scan would keep the sockets, hence the netns and
 * the veth, alive. Nor may the tracker report the closed sockets as
 * closed but not freed.
 */
FIXTURE(pin) {
	int unused;
};

FIXTURE_SETUP(pin)
{
	ASSERT_EQ(0, load_modules());
	system("/usr/bin/ip netns del slpin 2>/dev/null");
}

/* Whatever happened, leave nothing behind for the next test. */
FIXTURE_TEARDOWN(pin)
{
	sl_control("track=off\ngrace_ms=1800000");
	system("/usr/bin/ip netns del slpin 2>/dev/null; "
	       "/usr/bin/ip link del slpin0 2>/dev/null");
}

TEST_F_TIMEOUT(pin, scan_does_not_pin, 180)
{
	unsigned long long ck[2];
	int ready[2], done[2], st;
	char want[32], v[64];
	struct sl_list sl;
	pid_t pid;

	ASSERT_EQ(0, set_defaults());
	ASSERT_EQ(0, system("/usr/bin/ip netns add slpin && "
			    "/usr/bin/ip link add slpin0 type veth peer name slpin1 netns slpin"));
	ASSERT_EQ(0, sl_control("grace_ms=0\ntrack=on"));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int ns = open("/run/netns/slpin", O_RDONLY), t, u;
		unsigned long long c[2];
		char x;

		close(done[1]);
		close(ready[0]);
		if (ns < 0 || setns(ns, CLONE_NEWNET))
			_exit(1);
		close(ns);
		t = socket(AF_INET, SOCK_STREAM, 0);
		u = socket(AF_INET6, SOCK_DGRAM, 0);
		c[0] = sl_sock_cookie(t);
		c[1] = sl_sock_cookie(u);
		if (t < 0 || u < 0 || write(ready[1], c, sizeof(c)) != sizeof(c))
			_exit(1);
		read(done[0], &x, 1);
		_exit(0);
	}
	close(ready[1]);
	close(done[0]);
	ASSERT_EQ((ssize_t)sizeof(ck), read(ready[0], ck, sizeof(ck)));

	ASSERT_EQ(0, scan());
	ASSERT_LT(0, sl_lines(SL_DIR "/sockets", &sl));
	snprintf(want, sizeof(want), "%d:", pid);
	for (int i = 0; i < 2; i++) {
		const char *line = sl_find(&sl, ck[i]);

		ASSERT_NE(NULL, line) TH_LOG("cookie %llx not listed", ck[i]);
		EXPECT_EQ(0, sl_kv_ll(line, "hashed"));
		ASSERT_TRUE(sl_kv(line, "owners", v, sizeof(v)));
		EXPECT_EQ(0, strncmp(v, want, strlen(want))) TH_LOG("owners=%s", v);
	}
	sl_free(&sl);

	/* The child closes its sockets by exiting; then the netns goes. */
	close(done[1]);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
	ASSERT_EQ(0, system("/usr/bin/ip netns del slpin"));
	EXPECT_TRUE(dev_gone_within("slpin0", 90000)) {
		TH_LOG("netns slpin not dismantled: something pins it");
	}

	ASSERT_LE(0, sl_lines(SL_DIR "/tracked", &sl));
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(NULL, sl_find(&sl, ck[i])) {
			TH_LOG("closed socket %llx reported as not freed", ck[i]);
		}
	}
	sl_free(&sl);
	ASSERT_LE(0, sl_lines(SL_DIR "/sockets", &sl));
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(NULL, sl_find(&sl, ck[i]));
	}
	sl_free(&sl);
	close(ready[0]);
}

TEST(no_fd_scm_rights)
{
	unsigned long long cookie;
	struct sl_list sl, su;
	const char *line;
	char v[64], want[32];
	int sp[2], l, nfd;

	ASSERT_EQ(0, own_netns());
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	l = sl_listener(0);
	ASSERT_LE(0, l);
	cookie = sl_sock_cookie(l);
	ASSERT_EQ(0, sl_send_fd(sp[0], l));
	ASSERT_EQ(0, close(l));

	ASSERT_EQ(0, scan());
	ASSERT_LT(0, sl_lines(SL_DIR "/sockets", &sl));
	line = sl_find(&sl, cookie);
	ASSERT_NE(NULL, line);
	EXPECT_TRUE(sl_has_flag(line, "no_fd"));
	ASSERT_TRUE(sl_kv(line, "owners", v, sizeof(v)));
	EXPECT_STREQ("-", v);
	EXPECT_EQ(1, sl_kv_ll(line, "filerefs"));
	sl_free(&sl);

	ASSERT_LT(0, sl_lines(SL_DIR "/suspects", &su));
	line = sl_suspect_cookie(&su, NULL, cookie);
	ASSERT_NE(NULL, line);
	ASSERT_TRUE(sl_kv(line, "reason", v, sizeof(v)));
	EXPECT_STREQ("no_fd", v);
	ASSERT_TRUE(sl_kv(line, "pid", v, sizeof(v)));
	EXPECT_STREQ("-", v);
	EXPECT_NE(NULL, strstr(line, "SCM_RIGHTS in flight"));
	sl_free(&su);

	nfd = sl_recv_fd(sp[1]);
	ASSERT_LE(0, nfd);
	EXPECT_EQ(cookie, sl_sock_cookie(nfd));
	ASSERT_EQ(0, scan());
	ASSERT_LT(0, sl_lines(SL_DIR "/sockets", &sl));
	line = sl_find(&sl, cookie);
	ASSERT_NE(NULL, line);
	EXPECT_FALSE(sl_has_flag(line, "no_fd"));
	ASSERT_TRUE(sl_kv(line, "owners", v, sizeof(v)));
	snprintf(want, sizeof(want), "%d:%d", getpid(), nfd);
	EXPECT_STREQ(want, v);
	sl_free(&sl);
}

struct want {
	unsigned long long cookie;
	const char *reason;
	int pid;		/* 0: no owner */
	int fd;			/* fd named in the text, -1: none */
	const char *text;	/* in the explanation */
	const char *text2;	/* this too, unless NULL */
};

static void expect_suspects(struct __test_metadata *_metadata,
			    const struct want *w, int n)
{
	struct sl_list su;
	char v[64], fdtxt[32];
	long long prev = -1;

	ASSERT_LE(0, sl_lines(SL_DIR "/suspects", &su));
	for (int i = 0; i < su.n; i++) {
		long long b = sl_kv_ll(su.line[i], "bytes");

		/* Ranked: most bytes first. */
		if (prev >= 0)
			EXPECT_LE(b, prev);
		prev = b;
	}
	for (int i = 0; i < n; i++) {
		const char *line = sl_suspect_cookie(&su, NULL, w[i].cookie);

		ASSERT_NE(NULL, line) {
			TH_LOG("no suspect for %s", w[i].reason);
		}
		TH_LOG("%s", line);
		ASSERT_TRUE(sl_kv(line, "kind", v, sizeof(v)));
		EXPECT_STREQ("socket", v);
		ASSERT_TRUE(sl_kv(line, "reason", v, sizeof(v)));
		EXPECT_STREQ(w[i].reason, v) {
			TH_LOG("%s", line);
		}
		ASSERT_TRUE(sl_kv(line, "pid", v, sizeof(v)));
		if (w[i].pid) {
			EXPECT_EQ(w[i].pid, atoi(v));
		} else {
			EXPECT_STREQ("-", v);
		}
		if (w[i].fd >= 0) {
			snprintf(fdtxt, sizeof(fdtxt), "fd %d", w[i].fd);
			EXPECT_NE(NULL, strstr(line, fdtxt)) {
				TH_LOG("%s", line);
			}
		}
		EXPECT_NE(NULL, strstr(line, w[i].text)) {
			TH_LOG("%s", line);
		}
		if (w[i].text2) {
			EXPECT_NE(NULL, strstr(line, w[i].text2));
		}
	}
	sl_free(&su);
}

TEST(suspects_scenarios)
{
	int l, c1, a1, c2, a2, c3, a3, cl[NRESET], rb = 4096, sent = 0;
	static char buf[65536];
	struct want w[8];
	int n = 0;

	ASSERT_EQ(0, own_netns());
	l = sl_listener(0);
	ASSERT_LE(0, l);

	/* never read: a1 gets data it never reads. */
	c1 = sl_connect(l, 0);
	a1 = accept(l, NULL, NULL);
	ASSERT_EQ(5000, send(c1, buf, 5000, 0));
	ASSERT_EQ(0, wait_inq(a1, 5000));
	w[n++] = (struct want){ sl_sock_cookie(a1), "unread", getpid(), a1,
				"does not read", "4.8 KiB unread" };

	/* CLOSE_WAIT: the peer sent data and closed, a2 never close()s. */
	c2 = sl_connect(l, 0);
	a2 = accept(l, NULL, NULL);
	ASSERT_EQ(3000, send(c2, buf, 3000, 0));
	ASSERT_EQ(0, wait_inq(a2, 3000));
	close(c2);
	w[n++] = (struct want){ sl_sock_cookie(a2), "close_wait", getpid(), a2,
				"never close()d", "2.9 KiB unread" };

	/* orphan with data: c3 closed with unsent data, a3 never reads. */
	c3 = sl_connect(l, 0);
	setsockopt(c3, SOL_SOCKET, SO_SNDBUF, &rb, sizeof(rb));
	a3 = accept(l, NULL, NULL);
	setsockopt(a3, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	fcntl(c3, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 50; i++) {
		ssize_t k = send(c3, buf, sizeof(buf), MSG_NOSIGNAL);

		if (k > 0)
			sent += k;
		else
			sl_msleep(10);
	}
	ASSERT_LT(0, sent);
	w[n++] = (struct want){ sl_sock_cookie(c3), "orphan_mem", 0, -1,
				"closed by its owner", NULL };
	close(c3);

	/* reset by the peer, unread data, still held: unhashed. */
	ASSERT_EQ(0, sl_make_resets(l, cl, NRESET));
	for (int i = 0; i < NRESET; i++)
		w[n++] = (struct want){ sl_sock_cookie(cl[i]), "unhashed_mem",
					getpid(), cl[i], "reset by peer",
					"7.8 KiB unread" };

	ASSERT_EQ(0, sl_control("close_wait_ms=300\nunread_ms=300\nunhashed_ms=300\n"));
	sl_msleep(AGE_MS + 200);
	ASSERT_EQ(0, scan());
	expect_suspects(_metadata, w, n);
	ASSERT_EQ(0, set_defaults());
}

TEST(suspects_clean_control)
{
	int l, c, a, u;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	unsigned long long cookies[4];
	struct sl_list su;
	char b[100];

	ASSERT_EQ(0, own_netns());
	l = sl_listener(0);
	c = sl_connect(l, 0);
	a = accept(l, NULL, NULL);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ASSERT_EQ(0, bind(u, (struct sockaddr *)&sin, sizeof(sin)));
	/* Data exchanged and read: nothing pending. */
	ASSERT_EQ(100, send(c, b, 100, 0));
	ASSERT_EQ(100, recv(a, b, 100, MSG_WAITALL));
	cookies[0] = sl_sock_cookie(l);
	cookies[1] = sl_sock_cookie(c);
	cookies[2] = sl_sock_cookie(a);
	cookies[3] = sl_sock_cookie(u);

	ASSERT_EQ(0, sl_control("close_wait_ms=300\nunread_ms=300\nunhashed_ms=300\n"));
	sl_msleep(AGE_MS + 200);
	ASSERT_EQ(0, scan());
	ASSERT_LE(0, sl_lines(SL_DIR "/suspects", &su));
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(NULL, sl_suspect_cookie(&su, NULL, cookies[i]));
	sl_free(&su);
	ASSERT_EQ(0, set_defaults());
}

/*
 * Names are escaped as octal: the owner's comm (space, comma, backslash)
 * in owner_tasks=, the cgroup path (space, backslash) in cgroup=.
 */
TEST(names_escaped)
{
	const char *cg = "/sys/fs/cgroup/sl e\\sc";
	char v[128], pid[32];
	unsigned long long ck;
	struct sl_list sl;
	const char *line;
	int u, moved;

	ASSERT_EQ(0, own_netns());
	ASSERT_EQ(0, prctl(PR_SET_NAME, "sl x,y\\z", 0, 0, 0));
	snprintf(pid, sizeof(pid), "%d", getpid());
	moved = !mkdir(cg, 0755);
	if (moved) {
		snprintf(v, sizeof(v), "%s/cgroup.procs", cg);
		moved = !sl_write(v, pid);
	}
	u = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, u);
	ck = sl_sock_cookie(u);
	ASSERT_EQ(0, scan());
	ASSERT_LE(0, sl_lines(SL_DIR "/sockets", &sl));
	line = sl_find(&sl, ck);
	ASSERT_NE(NULL, line);
	ASSERT_TRUE(sl_kv(line, "owner_tasks", v, sizeof(v)));
	EXPECT_STREQ("R:sl\\040x\\054y\\134z", v);
	if (moved) {
		ASSERT_TRUE(sl_kv(line, "cgroup", v, sizeof(v)));
		EXPECT_STREQ("/sl\\040e\\134sc", v);
	} else {
		TH_LOG("no cgroup v2 to move into: cgroup= not checked");
	}
	sl_free(&sl);
	close(u);
	if (moved) {
		sl_write("/sys/fs/cgroup/cgroup.procs", pid);
		rmdir(cg);
	}
}

TEST(scan_rejects_argument)
{
	ASSERT_EQ(0, load_modules());
	EXPECT_EQ(-EINVAL, sl_control("scan=1"));
	EXPECT_EQ(-EINVAL, sl_control("unhashed_ms=x"));
}

TEST_HARNESS_MAIN
