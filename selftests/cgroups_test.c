// SPDX-License-Identifier: GPL-2.0
/*
 * The "cgroups" report (cgroup v2) against independent sources: two
 * cgroups with memory.max, each with a process holding TCP and UDP
 * sockets with queued data. Per cgroup, the socket count must be what the
 * test created, the sums of rmem/queued/fwd and the page-granular charge
 * must equal what ss (inet_diag) reports for the test's own sockets, the
 * line must agree with the "sockets" report's sockets of that memcg id,
 * and charged must equal memory.stat's "sock"; nothing is flagged. Then a
 * cgroup is removed while its sockets still hold data: its memcg must be
 * listed as dying with those sockets until they are closed and freed.
 *
 * This test enables the memory controller on the v2 root and disables it
 * again when done. It runs after cgroups_v1_test (see there why v1 comes
 * first on 6.1) and waits for the controller to come back from v1.
 */
#include <sys/stat.h>

#include "../kselftest_harness.h"
#include "lib/sl_cgroup.h"

#define CGROOT	"/sys/fs/cgroup"
#define CG_A	CGROOT "/sl_a"
#define CG_B	CGROOT "/sl_b"
#define CG_D	CGROOT "/sl_dying"

/* Retries while the sockets settle (delayed ACKs, memory reclaim). */
#define SETTLE_TRIES	30
#define SETTLE_MS	200

/*
 * memory.stat "sock" is memcg_page_state(MEMCG_SOCK): per-CPU deltas
 * folded in by an rstat flush. Reading memory.stat flushes only past a
 * threshold (6.1: stats_flush_threshold > num_online_cpus() batches of
 * MEMCG_CHARGE_BATCH updates, system-wide; 6.12: a subtree's pending
 * updates > MEMCG_CHARGE_BATCH * num_online_cpus()), so a fresh read can
 * lag by up to MEMCG_CHARGE_BATCH (64) pages per CPU. Both kernels also
 * flush the whole tree unconditionally every FLUSH_TIME (2 s) from
 * flush_memcg_stats_dwork. With the sockets quiescent, the value after
 * that periodic flush is exact: the test waits for it (up to
 * STAT_WAIT_MS, several FLUSH_TIMEs given TCG's slowness) and then
 * requires equality, with no tolerance.
 */
#define STAT_WAIT_MS	15000

FIXTURE(cg) {
	struct holder a, b, d;
	bool mem_enabled;
};

FIXTURE_SETUP(cg)
{
	ASSERT_EQ(0, system("modprobe sockleak && modprobe tcp_diag && "
			    "modprobe udp_diag"));
	ASSERT_EQ(0, sl_cg_v2_memory_on());
	self->mem_enabled = true;
}

FIXTURE_TEARDOWN(cg)
{
	int i;

	hold_stop(&self->a);
	hold_stop(&self->b);
	hold_stop(&self->d);
	/* Removal waits for the holders' exit to be fully accounted. */
	for (i = 0; i < 50; i++) {
		rmdir(CG_A);
		rmdir(CG_B);
		rmdir(CG_D);
		if (access(CG_A, F_OK) && access(CG_B, F_OK) &&
		    access(CG_D, F_OK))
			break;
		sl_msleep(100);
	}
	if (self->mem_enabled)
		sl_write(CGROOT "/cgroup.subtree_control", "-memory");
}

static void make_cgroup(struct __test_metadata *_metadata, const char *dir)
{
	char path[256];

	ASSERT_EQ(0, mkdir(dir, 0755));
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	ASSERT_EQ(0, sl_write(path, "268435456"));
}

/*
 * Settled figures of one cgroup: its report line, read twice around ss
 * and equal both times, and ss's figures for the holder's sockets.
 */
static bool settle(const struct holder *h, unsigned long long ino,
		   char *line, size_t size, struct hold_ss *ss, bool want)
{
	char *r1, *r2, l2[4096];
	bool ok = false, have;
	int i;

	for (i = 0; i < SETTLE_TRIES && !ok; i++) {
		if (i)
			sl_msleep(SETTLE_MS);
		r1 = sl_read_file(SL_DIR "/cgroups");
		if (hold_ss(h, ss)) {
			free(r1);
			continue;
		}
		r2 = sl_read_file(SL_DIR "/cgroups");
		have = r1 && r2 && cg_line(r1, ino, line, size);
		if (!want) {
			ok = r1 && r2 && !have && !cg_line(r2, ino, l2, sizeof(l2));
		} else if (have && cg_line(r2, ino, l2, sizeof(l2)) &&
			   !strcmp(line, l2)) {
			ok = sl_kv_ll(line, "rmem") == ss->r &&
			     sl_kv_ll(line, "queued") == ss->w &&
			     sl_kv_ll(line, "fwd") == ss->f &&
			     sl_kv_ll(line, "charged") == ss->charged;
		}
		free(r1);
		free(r2);
	}
	return ok;
}

/* The line against ss's figures and the test's knowledge. */
static void check_line(struct __test_metadata *_metadata, const char *line,
		       const struct hold_ss *ss, const char *state)
{
	char v[64];

	TH_LOG("report: %s", line);
	TH_LOG("ss: found=%d tcp=%d udp=%d r=%lld w=%lld f=%lld charged=%lld",
	       ss->found, ss->tcp, ss->udp, ss->r, ss->w, ss->f, ss->charged);
	ASSERT_EQ(HOLD_SOCKS, ss->found);
	ASSERT_TRUE(sl_kv(line, "state", v, sizeof(v)));
	EXPECT_STREQ(state, v);
	EXPECT_EQ(HOLD_SOCKS, sl_kv_ll(line, "sockets"));
	EXPECT_EQ(HOLD_TCP, sl_kv_ll(line, "tcp"));
	EXPECT_EQ(HOLD_UDP, sl_kv_ll(line, "udp"));
	EXPECT_EQ(0, sl_kv_ll(line, "orphans"));
	EXPECT_EQ(ss->r, sl_kv_ll(line, "rmem"));
	EXPECT_EQ(ss->w, sl_kv_ll(line, "queued"));
	EXPECT_EQ(ss->f, sl_kv_ll(line, "fwd"));
	EXPECT_EQ(ss->charged, sl_kv_ll(line, "charged"));
	/* A leaf: its subtree is itself. */
	EXPECT_EQ(ss->charged, sl_kv_ll(line, "subtree_charged"));
	/* Queued data was sent and not read: there is something to count. */
	EXPECT_LT(0, ss->r);
	EXPECT_LT(0, ss->charged);
}

/* The line against the "sockets" report's sockets of memcg ino. */
static void check_vs_sockets(struct __test_metadata *_metadata,
			     const char *line, unsigned long long ino)
{
	long long n = 0, rmem = 0, queued = 0, fwd = 0;
	struct sl_list l;
	int i;

	ASSERT_LT(0, sl_sockets(&l));
	for (i = 0; i < l.n; i++) {
		if ((unsigned long long)sl_kv_ll(l.line[i], "memcg") != ino)
			continue;
		n++;
		rmem += sl_kv_ll(l.line[i], "rmem");
		queued += sl_kv_ll(l.line[i], "queued");
		fwd += sl_kv_ll(l.line[i], "fwd");
	}
	sl_free(&l);
	EXPECT_EQ(n, sl_kv_ll(line, "sockets"));
	EXPECT_EQ(rmem, sl_kv_ll(line, "rmem"));
	EXPECT_EQ(queued, sl_kv_ll(line, "queued"));
	EXPECT_EQ(fwd, sl_kv_ll(line, "fwd"));
}

/* memory.stat "sock" of dir reaches charged (see STAT_WAIT_MS). */
static long long wait_stat_sock(const char *dir, long long charged)
{
	char path[256];
	long long sock = -1;
	int waited;

	snprintf(path, sizeof(path), "%s/memory.stat", dir);
	for (waited = 0; waited <= STAT_WAIT_MS; waited += 250) {
		sock = cg_stat(path, "sock");
		if (sock == charged)
			break;
		sl_msleep(250);
	}
	return sock;
}

TEST_F_TIMEOUT(cg, two_cgroups_match_ss_and_memory_stat, SL_HEAVY_TIMEOUT)
{
	unsigned long long ia, ib;
	char la[4096], lb[4096], *report, *line, *nl;
	struct hold_ss sa, sb;

	make_cgroup(_metadata, CG_A);
	make_cgroup(_metadata, CG_B);
	ia = path_ino(CG_A);
	ib = path_ino(CG_B);
	ASSERT_NE(0ULL, ia);
	ASSERT_NE(0ULL, ib);
	ASSERT_EQ(0, hold_start(&self->a, CG_A "/cgroup.procs", 20000, 3));
	ASSERT_EQ(0, hold_start(&self->b, CG_B "/cgroup.procs", 50000, 7));

	EXPECT_TRUE(settle(&self->a, ia, la, sizeof(la), &sa, true));
	EXPECT_TRUE(settle(&self->b, ib, lb, sizeof(lb), &sb, true));
	check_line(_metadata, la, &sa, "online");
	check_line(_metadata, lb, &sb, "online");
	check_vs_sockets(_metadata, la, ia);
	check_vs_sockets(_metadata, lb, ib);
	EXPECT_NE(sl_kv_ll(la, "charged"), sl_kv_ll(lb, "charged"));

	/* cgroup v2: no v1 tcpmem counter. */
	EXPECT_TRUE(strstr(la, " tcpmem=- residue=- ") != NULL);

	EXPECT_EQ(sl_kv_ll(la, "charged"),
		  wait_stat_sock(CG_A, sl_kv_ll(la, "charged")));
	EXPECT_EQ(sl_kv_ll(lb, "charged"),
		  wait_stat_sock(CG_B, sl_kv_ll(lb, "charged")));

	/* The clean control: no memcg of the system is flagged. */
	report = sl_read_file(SL_DIR "/cgroups");
	ASSERT_NE(NULL, report);
	for (line = report; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		ASSERT_NE(NULL, nl);
		*nl = '\0';
		TH_LOG("%s", line);
		EXPECT_FALSE(sl_has_flag(line, "dying_sockets"));
		EXPECT_TRUE(strstr(line, " flags=-") != NULL);
	}
	free(report);
}

/* The suspects line of a dying memcg agrees with its cgroups line. */
static void check_dying_suspect(struct __test_metadata *_metadata,
				const char *line, unsigned long long id)
{
	char want[96], v[64], idtxt[32];
	struct sl_list su;
	const char *one;

	ASSERT_LE(0, sl_lines(SL_DIR "/suspects", &su));
	snprintf(idtxt, sizeof(idtxt), "%llu", id);
	one = sl_suspect(&su, "cgroup", idtxt);
	EXPECT_NE(NULL, one) {
		TH_LOG("no cgroup %s in suspects", idtxt);
	}
	if (!one)
		one = "";
	ASSERT_TRUE(sl_kv(one, "reason", v, sizeof(v)));
	EXPECT_STREQ("dying", v);
	EXPECT_EQ(sl_kv_ll(line, "charged"), sl_kv_ll(one, "bytes"));
	snprintf(want, sizeof(want),
		 "memcg /sl_dying is dying, pinned by %lld sockets",
		 sl_kv_ll(line, "sockets"));
	EXPECT_NE(NULL, strstr(one, want)) {
		TH_LOG("%s", one);
	}
	sl_free(&su);
}

static bool in_suspects(unsigned long long id)
{
	char *text = sl_read_file(SL_DIR "/suspects"), want[64];
	bool found;

	snprintf(want, sizeof(want), "kind=cgroup id=%llu ", id);
	found = !text || strstr(text, want);
	free(text);
	return found;
}

TEST_F_TIMEOUT(cg, removed_cgroup_is_dying_until_sockets_freed,
	       SL_HEAVY_TIMEOUT)
{
	char line[4096], v[256], *r;
	unsigned long long id;
	struct hold_ss ss;

	make_cgroup(_metadata, CG_D);
	id = path_ino(CG_D);
	ASSERT_NE(0ULL, id);
	ASSERT_EQ(0, hold_start(&self->d, CG_D "/cgroup.procs", 30000, 4));
	ASSERT_EQ(0, hold_move_to_root(&self->d));
	ASSERT_EQ(0, rmdir(CG_D));

	/*
	 * Dying as soon as rmdir returns (css_is_dying()), not only once
	 * the kernel's offline work has run.
	 */
	r = sl_read_file(SL_DIR "/cgroups");
	ASSERT_NE(NULL, r);
	ASSERT_TRUE(cg_line(r, id, line, sizeof(line)));
	free(r);
	ASSERT_TRUE(sl_kv(line, "state", v, sizeof(v)));
	EXPECT_STREQ("dying", v);
	ASSERT_TRUE(settle(&self->d, id, line, sizeof(line), &ss, true));
	check_line(_metadata, line, &ss, "dying");
	check_vs_sockets(_metadata, line, id);
	EXPECT_TRUE(sl_has_flag(line, "dying_sockets"));
	ASSERT_TRUE(sl_kv(line, "path", v, sizeof(v)));
	EXPECT_STREQ("/sl_dying", v);

	/* "suspects" names the dying memcg, with its sockets and bytes. */
	check_dying_suspect(_metadata, line, id);

	/*
	 * Close the sockets and end the holder (its pages are charged to the
	 * memcg too): the memcg is released after an RCU grace period and
	 * the line must go.
	 */
	ASSERT_EQ(0, hold_stop(&self->d));
	EXPECT_TRUE(settle(&self->d, id, line, sizeof(line), &ss, false));
	EXPECT_EQ(0, ss.found);
	EXPECT_FALSE(in_suspects(id));
}

TEST_HARNESS_MAIN
