// SPDX-License-Identifier: GPL-2.0
/*
 * Resumable reads of the "sockets" report (and "tracked" read in pages,
 * at the end): with thousands of sockets, a
 * read of 1 byte at a time, of odd sizes, of 4096 bytes and one big read
 * all give the same report, in which every socket appears exactly once.
 * Time-dependent fields (ages in milliseconds) are masked before comparing.
 *
 * Two layouts: TCP pairs spread over the established hash, and one long
 * chain: UDP sockets bound to one local port (one slot of the UDP hash),
 * each connected to its own peer port, where the walk resumes inside the
 * chain after every batch and every read() call.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "lib/sl_cgroup.h"
#include "lib/sl_inet.h"
#include "lib/sl_util.h"

#define PAIRS 1500	/* at most: sl_scale(PAIRS) are made */

static const char * const timed_keys[] = { "rcv_idle_ms", "snd_idle_ms",
					   "read_idle_ms", "timer_left_ms",
					   "age_ms", "scan_age_ms", "timer" };

/* Replace the value of time-dependent keys with "*" in place. */
static char *mask_times(char *buf)
{
	char *out = malloc(strlen(buf) + 1), *o = out, *p = buf;

	while (*p) {
		size_t i;
		bool masked = false;

		for (i = 0; i < sizeof(timed_keys) / sizeof(timed_keys[0]); i++) {
			size_t k = strlen(timed_keys[i]);

			if ((p == buf || p[-1] == ' ') &&
			    !strncmp(p, timed_keys[i], k) && p[k] == '=') {
				memcpy(o, p, k + 1);
				o += k + 1;
				*o++ = '*';
				p += k + 1;
				while (*p && *p != ' ' && *p != '\n')
					p++;
				masked = true;
				break;
			}
		}
		if (!masked)
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

FIXTURE(many) {
	int fds[2 * PAIRS + 1];
	int n, own;		/* fds; own sockets: fds[1..own] */
	unsigned long long cookies[2 * PAIRS + 1];
};

FIXTURE_VARIANT(many) {
	bool udp_chain;
};

FIXTURE_VARIANT_ADD(many, tcp_pairs) { .udp_chain = false };
FIXTURE_VARIANT_ADD(many, udp_chain) { .udp_chain = true };

/* A TCP listener at fds[0] and sl_scale(PAIRS) connected pairs. */
static void make_pairs(struct __test_metadata *_metadata,
		       FIXTURE_DATA(many) *self)
{
	const struct sl_sock_opts lo = { .backlog = 4096 }, client = {};
	struct sockaddr_storage sin;
	int l, i;

	l = sl_listener_at(&lo, &sin);
	ASSERT_LE(0, l);
	self->fds[self->n++] = l;
	for (i = 0; i < sl_scale(PAIRS); i++) {
		int c = sl_connect_at(&client, &sin), a;

		ASSERT_LE(0, c);
		a = accept(l, NULL, NULL);
		ASSERT_LE(0, a);
		self->fds[self->n++] = c;
		self->fds[self->n++] = a;
	}
}

FIXTURE_SETUP(many)
{
	struct rlimit rl = { 2 * PAIRS + 256, 2 * PAIRS + 256 };
	int i;

	ASSERT_EQ(0, system("modprobe sockleak"));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	if (variant->udp_chain) {
		/* 2 * sl_scale(PAIRS) sockets in one slot of the UDP hash. */
		self->n = sl_udp_chain(self->fds, 2 * sl_scale(PAIRS));
		ASSERT_EQ(2 * sl_scale(PAIRS) + 1, self->n);
	} else
		make_pairs(_metadata, self);
	self->own = self->n - 1;
	for (i = 1; i < self->n; i++) {
		socklen_t cl = sizeof(self->cookies[0]);

		ASSERT_EQ(0, getsockopt(self->fds[i], SOL_SOCKET, SO_COOKIE,
					&self->cookies[i - 1], &cl));
	}
	usleep(300000);
}

FIXTURE_TEARDOWN(many)
{
	for (int i = 0; i < self->n; i++)
		close(self->fds[i]);
}

static int cmp_ull(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a;
	unsigned long long y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

TEST_F_TIMEOUT(many, every_socket_once, SL_HEAVY_TIMEOUT)
{
	struct sl_list sl = {};
	unsigned long long *seen;
	int i, n = 0;

	ASSERT_LE(self->own + 1, sl_sockets(&sl));
	seen = calloc(sl.n, sizeof(*seen));
	for (i = 0; i < sl.n; i++)
		seen[n++] = sl_cookie(sl.line[i]);
	qsort(seen, n, sizeof(*seen), cmp_ull);
	for (i = 1; i < n; i++)
		EXPECT_NE(seen[i - 1], seen[i]) {
			TH_LOG("cookie %llx listed twice", seen[i]);
		}
	for (i = 0; i < self->own; i++)
		EXPECT_NE(NULL, bsearch(&self->cookies[i], seen, n,
					sizeof(*seen), cmp_ull)) {
			TH_LOG("socket %d (cookie %llx) missing", i,
			       self->cookies[i]);
		}
	free(seen);
	sl_free(&sl);
}

static char *read_masked(size_t chunk)
{
	char *raw = sl_read_file_chunked(SL_DIR "/sockets", chunk, NULL), *m;

	if (!raw)
		return NULL;
	m = mask_times(raw);
	free(raw);
	return m;
}

/* Where to show two texts from: 80 bytes before their first difference. */
static size_t near_diff(const char *a, const char *b)
{
	size_t d = 0;

	while (a[d] && a[d] == b[d])
		d++;
	return d > 80 ? d - 80 : 0;
}

/*
 * Timers can still change a socket between two reads (a delayed ACK drops
 * its reference): a small read is compared with the big reads taken just
 * before and after it, and only when those two agree.
 */
TEST_F_TIMEOUT(many, read_sizes_give_same_report, SL_HEAVY_TIMEOUT)
{
	static const size_t sizes[] = { 1, 7, 100, 4096, 65536 };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int attempt;

		for (attempt = 0; attempt < 10; attempt++) {
			char *before = read_masked(4 << 20);
			char *small = read_masked(sizes[i]);
			char *after = read_masked(4 << 20);
			bool quiet;

			ASSERT_NE(NULL, before);
			ASSERT_NE(NULL, small);
			ASSERT_NE(NULL, after);
			ASSERT_LT(50U * self->own, strlen(before));
			quiet = !strcmp(before, after);
			if (quiet) {
				EXPECT_EQ(0, strcmp(before, small)) {
					size_t d = near_diff(before, small);

					TH_LOG("read size %zu differs from one big read:\n"
					       "big:   %.200s\nsmall: %.200s",
					       sizes[i], before + d, small + d);
				}
			}
			if (!quiet && attempt == 9) {
				size_t d = near_diff(before, after);

				TH_LOG("two big reads still differ:\n"
				       "before: %.200s\nafter:  %.200s",
				       before + d, after + d);
			}
			free(before);
			free(small);
			free(after);
			if (quiet)
				break;
			usleep(200000);
		}
		EXPECT_GT(10, attempt) {
			TH_LOG("read size %zu: sockets never quiescent", sizes[i]);
		}
	}
}

/*
 * "tracked" is read a batch at a time: with thousands of tracked sockets
 * (closed unix stream sockets whose open peers hold them), a reader that
 * has read 4 KiB holds a seq_file buffer of pages, not the whole text.
 * The buffer is charged to the reader's memcg (GFP_KERNEL_ACCOUNT): a
 * child in a cgroup of its own reads 4 KiB and waits; its memory.current
 * must be under a quarter of the full text's size (when the text was
 * rendered whole at the first read, it held it all, and more).
 */
FIXTURE(tracked) {
	int unused;
};

FIXTURE_SETUP(tracked)
{
}

FIXTURE_TEARDOWN(tracked)
{
	sl_control("track=off\ngrace_ms=1800000");
	rmdir("/sys/fs/cgroup/sl-tracked-read");
}

TEST_F_TIMEOUT(tracked, read_in_pages, SL_HEAVY_TIMEOUT)
{
	const char *cg = "/sys/fs/cgroup/sl-tracked-read";
	int n = sl_scale(4000), i, sv[2], up[2], down[2], *keep;
	struct rlimit rl = { 2 * 4000 + 256, 2 * 4000 + 256 };
	long long cur, text = 0;
	char buf[4096], procs[128], c;
	pid_t pid;
	int fd;
	ssize_t r;

	ASSERT_EQ(0, system("modprobe sockleak"));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_EQ(0, sl_cg_v2_memory_on());
	rmdir(cg);
	ASSERT_EQ(0, mkdir(cg, 0755));
	ASSERT_EQ(0, sl_control("track=on\ngrace_ms=0"));
	keep = calloc(n, sizeof(*keep));
	ASSERT_NE(NULL, keep);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
					sv));
		keep[i] = sv[0];
		close(sv[1]);
	}
	/* The full text, as one reader sees it. */
	fd = open(SL_DIR "/tracked", O_RDONLY);
	ASSERT_LE(0, fd);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		text += r;
	close(fd);
	TH_LOG("%d sockets, tracked is %lld bytes", n, text);
	ASSERT_LT(n * 200LL, text);

	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
		if (sl_write(procs, "0"))
			_exit(1);
		fd = open(SL_DIR "/tracked", O_RDONLY);
		if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
			_exit(2);
		c = 'r';
		if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	/* EOF: the child failed (its status says how). */
	if (read(up[0], &c, 1) != 1) {
		waitpid(pid, &i, 0);
		ASSERT_EQ(0, i);
	}
	snprintf(procs, sizeof(procs), "%s/memory.current", cg);
	cur = file_ll(procs);
	TH_LOG("the reader's memcg: %lld bytes after a read of 4 KiB", cur);
	/*
	 * The reader's own new pages (stack, page tables: about 256 KiB)
	 * are charged there too: with fewer sockets (SL_SLOW) a quarter of
	 * the text is less than they are. memory.current moves by a charge
	 * batch (64 pages, 256 KiB) at a time: those pages read as 256 or,
	 * when a few more cross the batch, 512 KiB (6.12, once). Rendering
	 * all of it took 1.4x the text (more than 768 KiB with SL_SLOW).
	 */
	EXPECT_LE(cur, text / 4 > 512 << 10 ? text / 4 : 512 << 10);
	ASSERT_EQ(1, write(down[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &i, 0));
	EXPECT_EQ(0, i);
	rmdir(cg);
	for (i = 0; i < n; i++)
		close(keep[i]);
	free(keep);
}

/*
 * A socket's refcnt leaves out sockleak's references, all of them: its
 * own reader's and another reader's that holds the socket in a batch at
 * the same moment. Eight idle UDP sockets of a netns of their own (their
 * count does not move: /proc/net/udp's is the truth), "sockets" read 100
 * times while a second process reads it over and over.
 */
TEST(refcnt_without_other_readers)
{
	int fds[8], i, round, wrong = 0, seen = 0;
	long long want[8];
	pid_t reader;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, system("/usr/bin/ip link set lo up && modprobe sockleak"));
	for (i = 0; i < 8; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET };

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, bind(fds[i], (struct sockaddr *)&a, sizeof(a)));
		want[i] = sl_proc_refcnt("/proc/net/udp", fds[i]);
		ASSERT_LT(0, want[i]);
	}
	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader) {
		for (;;)
			free(sl_read_file(SL_DIR "/sockets"));
	}
	for (round = 0; round < 100; round++) {
		struct sl_list l;

		ASSERT_LT(0, sl_sockets(&l));
		for (i = 0; i < 8; i++) {
			const char *line = sl_find(&l, sl_sock_cookie(fds[i]));

			if (!line)
				continue;
			seen++;
			if (sl_kv_ll(line, "refcnt") != want[i]) {
				if (wrong < 5)
					TH_LOG("round %d: /proc/net/udp says %lld: %s",
					       round, want[i], line);
				wrong++;
			}
		}
		sl_free(&l);
	}
	kill(reader, SIGKILL);
	waitpid(reader, NULL, 0);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(want[i], sl_proc_refcnt("/proc/net/udp", fds[i]));
		close(fds[i]);
	}
	TH_LOG("800 socket lines: %d seen, %d wrong", seen, wrong);
	EXPECT_EQ(800, seen);
	EXPECT_EQ(0, wrong);
}

TEST_HARNESS_MAIN
