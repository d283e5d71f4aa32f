// SPDX-License-Identifier: GPL-2.0
/*
 * The "cgroups" report on cgroup v1 TCP accounting (6.1; skipped where
 * the memory controller cannot be mounted on v1, as on 6.12 without
 * CONFIG_MEMCG_V1): with memory.kmem.tcp.limit_in_bytes set, a process
 * holding TCP and UDP sockets with queued data in a v1 memory cgroup.
 * The cgroup's tcpmem must equal memory.kmem.tcp.usage_in_bytes, its
 * charge must equal the page-granular charge ss (inet_diag) reports for
 * the process's sockets, and the residue (tcpmem not held by any socket)
 * must be 0 for it and for the root; nothing is flagged.
 *
 * Order on 6.1: this test runs BEFORE cgroups_test (v1 first, then v2).
 * Moving the memory controller from v2 to v1 after v2 child memcgs had
 * kernel memory charged makes 6.1 WARN (page_counter underflow in
 * drain_obj_stock: kmem charged on v2 without memcg->kmem is uncharged
 * on v1 from it). The other way round is safe once the v1 hierarchy is
 * gone: the test closes its sockets, removes its cgroup and waits until
 * /proc/cgroups counts only the v1 root (removed cgroups are counted
 * until freed) before unmounting, so that the controller goes back to v2.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#include "../kselftest_harness.h"
#include "lib/sl_cgroup.h"

#define V1	"/tmp/memcg-v1"
#define RELEASE_WAIT_MS	120000
#define V1_CG	V1 "/sl"
#define MOUNT_WAIT_MS	30000
#define SETTLE_TRIES	30
#define SETTLE_MS	200

FIXTURE(v1) {
	struct holder h;
	bool mounted;
};

FIXTURE_SETUP(v1)
{
	int waited, err = 0;

	ASSERT_EQ(0, system("modprobe sockleak && modprobe tcp_diag && "
			    "modprobe udp_diag"));
	/*
	 * 6.1 WARNs (page_counter underflow in drain_obj_stock) when the
	 * memory controller moves to v1 after v2 memcgs were charged: only
	 * run before cgroups_test in a boot (see README, "Tests").
	 */
	if (!access("/run/sockleak-v2-memcg-used", F_OK))
		SKIP(return, "v2 memcgs were used in this boot: run me first");
	sl_write("/sys/fs/cgroup/cgroup.subtree_control", "-memory");
	ASSERT_TRUE(!mkdir(V1, 0755) || errno == EEXIST)
		TH_LOG("mkdir %s: %s", V1, strerror(errno));
	for (waited = 0; waited <= MOUNT_WAIT_MS; waited += 200) {
		if (!mount("none", V1, "cgroup", 0, "memory")) {
			self->mounted = true;
			break;
		}
		err = errno;
		/* EBUSY: memcgs of v2 not yet released. */
		if (err != EBUSY)
			break;
		sl_msleep(200);
	}
	if (!self->mounted && err != EBUSY)
		SKIP(return, "memory controller not available on cgroup v1: %s",
		     strerror(err));
	ASSERT_TRUE(self->mounted) TH_LOG("v1 memory still busy");
	if (access(V1 "/memory.kmem.tcp.limit_in_bytes", F_OK))
		SKIP(return, "no memory.kmem.tcp files");
}

/* num_cgroups of the memory controller in /proc/cgroups, -1 if none. */
static int memory_num_cgroups(void)
{
	char *text = sl_read_file("/proc/cgroups"), *p;
	int hier, num = -1;

	if (!text)
		return -1;
	for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (sscanf(p, "memory %d %d", &hier, &num) == 2)
			break;
	free(text);
	return num;
}

/* Remove the cgroup and wait until it is freed: only the root is left. */
static bool release_v1(void)
{
	time_t start = time(NULL), end = start + RELEASE_WAIT_MS / 1000;

	do {
		if (!access(V1_CG, F_OK))
			rmdir(V1_CG);
		/* Dying memcgs wait for their charged slab objects: drop them. */
		sl_write("/proc/sys/vm/drop_caches", "3");
		if (access(V1_CG, F_OK) && memory_num_cgroups() == 1) {
			printf("# v1 memcg released after %lld s\n",
			       (long long)(time(NULL) - start));
			return true;
		}
		sl_msleep(200);
	} while (time(NULL) < end);
	return false;
}

FIXTURE_TEARDOWN(v1)
{
	hold_stop(&self->h);
	if (self->mounted) {
		release_v1();
		umount(V1);
	}
	rmdir(V1);
}

TEST_F_TIMEOUT(v1, tcpmem_equals_usage_and_no_residue, SL_HEAVY_TIMEOUT)
{
	long long usage = -1, root_usage = -1, page = sysconf(_SC_PAGESIZE);
	char line[4096], root_line[4096], *r1, *r2, *l, *nl;
	unsigned long long id, root_id;
	struct hold_ss ss;
	bool ok = false;
	int i;

	ASSERT_EQ(0, mkdir(V1_CG, 0755));
	ASSERT_EQ(0, sl_write(V1_CG "/memory.kmem.tcp.limit_in_bytes",
			      "67108864"));
	id = path_ino(V1_CG);
	root_id = path_ino(V1);
	ASSERT_NE(0ULL, id);
	ASSERT_EQ(0, hold_start(&self->h, V1_CG "/cgroup.procs", 40000, 5));

	/* Report, usage files and ss, with two equal reports around them. */
	for (i = 0; i < SETTLE_TRIES && !ok; i++) {
		if (i)
			sl_msleep(SETTLE_MS);
		r1 = sl_read_file(SL_DIR "/cgroups");
		usage = file_ll(V1_CG "/memory.kmem.tcp.usage_in_bytes");
		root_usage = file_ll(V1 "/memory.kmem.tcp.usage_in_bytes");
		hold_ss(&self->h, &ss);
		r2 = sl_read_file(SL_DIR "/cgroups");
		ok = r1 && r2 && !strcmp(r1, r2) &&
		     cg_line(r1, id, line, sizeof(line)) &&
		     cg_line(r1, root_id, root_line, sizeof(root_line)) &&
		     sl_kv_ll(line, "tcpmem") == usage &&
		     sl_kv_ll(line, "charged") == ss.charged;
		if (ok || i == SETTLE_TRIES - 1) {
			for (l = r1; l && *l; l = nl + 1) {
				nl = strchr(l, '\n');
				if (!nl)
					break;
				*nl = '\0';
				TH_LOG("%s", l);
				EXPECT_TRUE(strstr(l, " flags=-") != NULL);
			}
		}
		free(r1);
		free(r2);
	}
	ASSERT_TRUE(ok);
	TH_LOG("usage_in_bytes=%lld root=%lld ss charged=%lld r=%lld",
	       usage, root_usage, ss.charged, ss.r);
	ASSERT_EQ(HOLD_SOCKS, ss.found);
	EXPECT_EQ(HOLD_SOCKS, sl_kv_ll(line, "sockets"));
	EXPECT_EQ(ss.r, sl_kv_ll(line, "rmem"));
	EXPECT_EQ(ss.w, sl_kv_ll(line, "queued"));
	EXPECT_EQ(ss.f, sl_kv_ll(line, "fwd"));
	EXPECT_EQ(usage, sl_kv_ll(line, "tcpmem"));
	EXPECT_EQ(0, sl_kv_ll(line, "residue"));
	EXPECT_EQ(ss.charged, sl_kv_ll(line, "charged"));
	EXPECT_LT(0, usage);
	EXPECT_EQ(0, usage % page);
	/* The root's tcpmem is hierarchical; its own sockets charge none. */
	EXPECT_EQ(root_usage, sl_kv_ll(root_line, "tcpmem"));
	EXPECT_EQ(0, sl_kv_ll(root_line, "residue"));
	EXPECT_EQ(0, sl_kv_ll(root_line, "charged"));
	EXPECT_EQ(ss.charged, sl_kv_ll(root_line, "subtree_charged"));
	EXPECT_EQ(0, hold_stop(&self->h));
	EXPECT_TRUE(release_v1()) TH_LOG("v1 memcg not released");
}

TEST_HARNESS_MAIN
