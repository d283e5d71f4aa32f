// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the "cgroups" debugfs file: socket memory per memory cgroup,
 * including dying (offline) memcgs, which have no cgroupfs directory left
 * and which only the sockets pinning them can explain.
 *
 * Everything is collected when the file is opened and kept until it is
 * closed, so every read() of one open file sees the same text. Collection:
 *
 *  1. the socket walk (walk.c): each full socket's snapshot goes through
 *     sockleak_cgroups_account(), the one accumulation path, keyed by the
 *     snapshot's memcg id (sockets without a memcg count under the root);
 *  2. the memcg enumeration (memcg.c): identity, online/dying, and on
 *     cgroup v1 the tcpmem counter of every memcg, in pre-order;
 *  3. subtree sums, children into parents, in reverse pre-order.
 *
 * One line per memcg with sockets or socket charge (its own or in its
 * subtree), in pre-order, then memcgs seen only through sockets and gone
 * by the time of the enumeration:
 *
 *   id=<cgroup ino> path=<path> state=online|dying|gone sockets=N tcp=N
 *   udp=N mptcp=N orphans=N rmem=B queued=B fwd=B charged=B
 *   subtree_charged=B
 *   tcpmem=B|- residue=B|- flags=F
 *
 *	id		cgroup inode number ("stat -c %i" of its directory);
 *			the root memcg's line also holds the sockets
 *			charged to no memcg
 *	path		cgroup path in the hierarchy the memory controller
 *			is on (v2, or the v1 memory mount); a dying memcg
 *			keeps the path it had; "-" when gone
 *	sockets ...	full TCP/UDP/MPTCP sockets charged to the memcg,
 *			per protocol (udp includes UDP-Lite, mptcp counts
 *			the MPTCP sockets, their subflows count as tcp),
 *			and how many of them are orphans
 *	rmem queued fwd	sums of sk_rmem_alloc, sk_wmem_queued,
 *			sk_forward_alloc (ss skmem r, w, f)
 *	charged		bytes the memcg's own sockets have charged to it:
 *			per socket DIV_ROUND_UP(fwd + queued + rmem,
 *			PAGE_SIZE) pages, as mem_cgroup_charge_skmem() is
 *			called in whole pages (MPTCP connections: their
 *			sockets' bytes summed, then rounded, see
 *			sockleak_snap_mptcp_conn()); 0 for sockets with no
 *			memcg
 *	subtree_charged	charged of the memcg and all its descendants, dying
 *			ones included: what the hierarchical memory.stat
 *			"sock" (v2) or tcpmem counter (v1) must equal
 *	tcpmem		v1 only: memory.kmem.tcp.usage_in_bytes
 *	residue		v1 only: tcpmem - subtree_charged, socket memory
 *			the memcg is charged for that no socket holds
 *	flags		dying_sockets: an offline memcg pinned by sockets;
 *			residue: residue != 0; "-" for none
 *
 * The values are read without locks while sockets keep changing: on a
 * busy system charged and residue are approximate (compare two reads).
 *
 * Locking rules: none of its own. Collected at open (report.c) from
 * snapshots (snapshot.c: the walk's and the sources' rules) and the memcg
 * enumeration (memcg.c: chunks under rcu_read_lock(), each memcg pinned
 * with css_tryget() while its values are read).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/in.h>
#include <linux/list.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "classify.h"
#include "memcg.h"
#include "proto.h"
#include "report.h"
#include "reports.h"
#include "snapshot.h"

enum cg_state { CG_GONE, CG_ONLINE, CG_DYING };

static const char * const cg_state_names[] = {
	[CG_GONE]	= "gone",
	[CG_ONLINE]	= "online",
	[CG_DYING]	= "dying",
};

/* One memcg. Key in the table: its id, 0 for the root memcg. */
struct cg_entry {
	struct list_head order;	/* pre-order, enumerated memcgs only */
	u64 id;			/* cgroup ino (root: set when enumerated) */
	u64 parent;		/* parent's key */
	char *path;		/* NULL until enumerated */
	u8 state;		/* enum cg_state */
	bool has_tcpmem;
	unsigned long tcpmem_pages;
	unsigned long sockets[SOCKLEAK_NLINES];	/* per census line */
	unsigned long orphans;
	s64 rmem, queued, fwd;
	unsigned long pages;		/* charged, own sockets */
	long mptcp_bytes;		/* MPTCP connections' (snapshot.h) */
	unsigned long subtree_pages;	/* charged, subtree */
};

struct sockleak_cgroups {
	struct xarray memcgs;	/* key -> struct cg_entry */
	struct list_head order;	/* enumerated entries, pre-order */
	u64 root_ino;
};

static struct cg_entry *cg_get(struct sockleak_cgroups *cg, u64 key)
{
	struct cg_entry *e = xa_load(&cg->memcgs, key);

	if (e)
		return e;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return NULL;
	INIT_LIST_HEAD(&e->order);
	if (xa_err(xa_store(&cg->memcgs, key, e, GFP_KERNEL))) {
		kfree(e);
		return NULL;
	}
	return e;
}

/*
 * Add one socket snapshot to its memcg. The only accumulation path: every
 * source of sockets (the hash walk, and later sockets known otherwise)
 * feeds its snapshots here. Process context; may allocate.
 */
int sockleak_cgroups_account(struct sockleak_cgroups *cg,
			     const struct sockleak_snap *s)
{
	struct cg_entry *e;

	/*
	 * TIME-WAIT and request sockets have no memcg and charge nothing; the
	 * other families' sockets (unix, netlink, ...) are no part of the
	 * TCP/UDP/MPTCP socket memory these sums set against memory.stat.
	 */
	if (s->kind != SOCKLEAK_SK_FULL || !s->proto)
		return 0;
	e = cg_get(cg, s->memcg);
	if (!e)
		return -ENOMEM;
	e->id = s->memcg;
	e->sockets[sockleak_proto(s->proto)->line]++;
	e->orphans += s->orphan;
	e->rmem += s->rmem;
	e->queued += s->queued;
	e->fwd += s->fwd;
	if (!s->memcg)
		return 0;
	if (sockleak_snap_mptcp_conn(s))
		e->mptcp_bytes += sockleak_snap_bytes(s);
	else
		e->pages += sockleak_snap_pages(s);
	return 0;
}

/* Full sockets of the followed protocols charged to the memcg. */
static unsigned long cg_sockets(const struct cg_entry *e)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < SOCKLEAK_NLINES; i++)
		n += e->sockets[i];
	return n;
}

static int cg_socket(void *arg, const struct sockleak_snap *s)
{
	return sockleak_cgroups_account(arg, s);
}

/* Hashed sockets, then those only an fd or the track table knows. */
static int cg_walk(struct sockleak_cgroups *cg)
{
	return sockleak_snapshot_all(SOCKLEAK_SNAP_BRIEF, cg_socket, cg);
}

static int cg_visit(const struct sockleak_memcg_info *mi, const char *path,
		    void *arg)
{
	struct sockleak_cgroups *cg = arg;
	struct cg_entry *e;

	if (mi->root)
		cg->root_ino = mi->ino;
	e = cg_get(cg, mi->root ? 0 : mi->ino);
	if (!e)
		return -ENOMEM;
	e->path = kstrdup(path, GFP_KERNEL);
	if (!e->path)
		return -ENOMEM;
	e->id = mi->ino;
	e->parent = mi->parent_ino == cg->root_ino ? 0 : mi->parent_ino;
	e->state = mi->online ? CG_ONLINE : CG_DYING;
	e->has_tcpmem = mi->has_tcpmem;
	e->tcpmem_pages = mi->tcpmem_pages;
	list_add_tail(&e->order, &cg->order);
	return 0;
}

/*
 * Round each memcg's MPTCP bytes to pages, then sum the subtrees, children
 * before parents: each subtree is complete when it is added.
 */
static void cg_subtree_sums(struct sockleak_cgroups *cg)
{
	struct cg_entry *e, *parent;
	unsigned long key;

	xa_for_each(&cg->memcgs, key, e) {
		e->pages += DIV_ROUND_UP(e->mptcp_bytes, PAGE_SIZE);
		e->mptcp_bytes = 0;
	}
	list_for_each_entry_reverse(e, &cg->order, order) {
		e->subtree_pages += e->pages;
		if (e->id == cg->root_ino)
			continue;
		parent = xa_load(&cg->memcgs, e->parent);
		if (parent)
			parent->subtree_pages += e->subtree_pages;
	}
}

static void cg_free(void *data)
{
	struct sockleak_cgroups *cg = data;
	struct cg_entry *e;
	unsigned long key;

	xa_for_each(&cg->memcgs, key, e) {
		kfree(e->path);
		kfree(e);
	}
	xa_destroy(&cg->memcgs);
	kfree(cg);
}

/* An empty table, for sockleak_cgroups_account(); NULL: no memory. */
struct sockleak_cgroups *sockleak_cgroups_new(void)
{
	struct sockleak_cgroups *cg = kzalloc(sizeof(*cg), GFP_KERNEL);

	if (!cg)
		return NULL;
	xa_init(&cg->memcgs);
	INIT_LIST_HEAD(&cg->order);
	return cg;
}

void sockleak_cgroups_free(struct sockleak_cgroups *cg)
{
	if (cg)
		cg_free(cg);
}

/* After the sockets: every memcg, then the subtree sums. */
static int cg_finish(struct sockleak_cgroups *cg)
{
	int ret = sockleak_memcg_for_each(cg_visit, cg);

	if (!ret)
		cg_subtree_sums(cg);
	return ret;
}

static void *cg_collect(void)
{
	struct sockleak_cgroups *cg = sockleak_cgroups_new();
	int ret;

	if (!cg)
		return ERR_PTR(-ENOMEM);
	ret = cg_walk(cg);
	if (!ret)
		ret = cg_finish(cg);
	if (ret) {
		cg_free(cg);
		return ERR_PTR(ret);
	}
	return cg;
}

static void cg_show_one(struct seq_file *m, const struct cg_entry *e)
{
	unsigned long sockets = cg_sockets(e);
	struct sockleak_memcg_judgement j;
	bool flagged = false;

	if (!sockets && !e->subtree_pages &&
	    !(e->has_tcpmem && e->tcpmem_pages))
		return;
	sockleak_classify_memcg(&j, e->state == CG_DYING, sockets,
				e->has_tcpmem, e->tcpmem_pages,
				e->subtree_pages);

	seq_printf(m, "id=%llu path=", e->id);
	seq_escape(m, e->path ? e->path : "-", " \t\n\\");
	seq_printf(m, " state=%s sockets=%lu tcp=%lu udp=%lu mptcp=%lu orphans=%lu rmem=%lld queued=%lld fwd=%lld charged=%lu subtree_charged=%lu",
		   cg_state_names[e->state], sockets, e->sockets[SOCKLEAK_LINE_TCP],
		   e->sockets[SOCKLEAK_LINE_UDP], e->sockets[SOCKLEAK_LINE_MPTCP],
		   e->orphans, e->rmem, e->queued, e->fwd,
		   e->pages << PAGE_SHIFT, e->subtree_pages << PAGE_SHIFT);
	if (e->has_tcpmem)
		seq_printf(m, " tcpmem=%lu residue=%ld",
			   e->tcpmem_pages << PAGE_SHIFT, j.residue);
	else
		seq_puts(m, " tcpmem=- residue=-");
	seq_puts(m, " flags=");
	if (j.dying) {
		seq_puts(m, "dying_sockets");
		flagged = true;
	}
	if (j.residue) {
		seq_printf(m, "%sresidue", flagged ? "," : "");
		flagged = true;
	}
	if (!flagged)
		seq_putc(m, '-');
	seq_putc(m, '\n');
}

/*
 * For the "suspects" report: call @fn for each memcg that looks like a
 * leak, a dying memcg still held by sockets or a v1 tcpmem residue. @cg
 * holds every socket already (the caller's walk, through
 * sockleak_cgroups_account()); the memcgs are enumerated here. The caller
 * frees @cg.
 */
int sockleak_cgroups_suspects(struct sockleak_cgroups *cg,
			      int (*fn)(void *arg,
					const struct sockleak_cg_suspect *cs),
			      void *arg)
{
	struct sockleak_memcg_judgement j;
	struct sockleak_cg_suspect cs;
	struct cg_entry *e;
	unsigned long key;
	int ret = cg_finish(cg);

	if (ret)
		return ret;
	xa_for_each(&cg->memcgs, key, e) {
		memset(&cs, 0, sizeof(cs));
		cs.id = e->id;
		cs.path = e->path;
		cs.sockets = cg_sockets(e);
		sockleak_classify_memcg(&j, e->state == CG_DYING, cs.sockets,
					e->has_tcpmem, e->tcpmem_pages,
					e->subtree_pages);
		cs.dying = j.dying;
		cs.bytes = (u64)e->pages << PAGE_SHIFT;
		cs.residue = j.residue;
		if (!cs.dying && !cs.residue)
			continue;
		ret = fn(arg, &cs);
		if (ret)
			break;
	}
	return ret;
}

static int cgroups_show(struct seq_file *m, void *v)
{
	struct sockleak_cgroups *cg = m->private;
	struct cg_entry *e;
	unsigned long key;

	list_for_each_entry(e, &cg->order, order)
		cg_show_one(m, e);
	/* Seen through sockets only: released before the enumeration. */
	xa_for_each(&cg->memcgs, key, e)
		if (!e->path)
			cg_show_one(m, e);
	return 0;
}

static const struct sockleak_report cgroups_report = {
	.collect	= cg_collect,
	.show		= cgroups_show,
	.release	= cg_free,
	.size		= 4 * PAGE_SIZE,
};

void sockleak_cgroups_init(struct dentry *dir)
{
	sockleak_report_create("cgroups", dir, &cgroups_report);
}
