// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the "suspects" debugfs file: one ranked list of everything
 * that looks like a leak, most bytes pinned first, one line each:
 *
 *   kind=socket id=<cookie> bytes=N age_ms=N|- pid=N|- comm=C|- fd=N|-
 *	proto=P|- state=S|- err=N|- verdict=owner|timer|never|-
 *	reason=<code> explain=<plain English, to the end of the line>
 *
 * A socket nothing will free (verdict=never, classify.c) is always
 * listed, whatever its flags and the thresholds, and comes first; its
 * reason is not_freed (closed, references left), no_timer (an orphan no
 * timer will end), no_socket, or, for a socket of a netns nothing in user
 * space reaches, pins_netns (a socket holding that netns: listed before
 * the other never sockets) or dead_netns. fd, proto, state, err (sk_err)
 * and verdict let a reader group sockets of one cause; "-" for a memcg.
 *
 * The list is built when the file is opened, from sources: each source is
 * one function adding entries (a row of suspect_sources[]). The socket
 * source reads every socket of the "sockets" report (hash tables, then
 * the extra sockets of sources.h) and turns its flags and owners (from the
 * last owner scan) into at most one entry per socket, with the first
 * reason of classify.c's order (sockleak_first_flag()). Thresholds are
 * those of the flags (control tunables); unhashed_mem, no_fd, orphan_mem,
 * bpf_held and rcvbuf_locked need no time, being certain when seen. The
 * same walk fills the per-memcg table that the cgroup source reads: one
 * read of "suspects" walks the sockets once. A clean system has an empty
 * list.
 *
 * Locking rules: none of its own. The walk's rules apply (walk.c); the
 * list lives in memory private to the open file.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/xarray.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/tcp.h>

#include "classify.h"
#include "family.h"
#include "report.h"
#include "reports.h"
#include "snapshot.h"
#include "track.h"
#include "walk.h"

struct suspect {
	u64 bytes;		/* bytes pinned */
	s64 age_ms;		/* -1: unknown */
	const char *kind;	/* "socket", ... */
	char id[24];		/* cookie in hex, cgroup id, ... */
	pid_t pid;		/* 0: no owner known */
	int fd;			/* the owner's fd, -1: none */
	int err;		/* sk_err (ECONNRESET: reset by peer) */
	int verdict;		/* enum sockleak_verdict, -1: not a socket */
	bool cause;		/* never, and the reason others are (pins_netns) */
	char proto[SOCKLEAK_PROTO_NAME_LEN];	/* "": not a socket */
	const char *state;
	char comm[TASK_COMM_LEN];
	const char *reason;	/* reason code */
	char explain[512];
};

struct suspects {
	struct suspect *v;
	unsigned int n, cap;
	struct xarray cookies;	/* sockets already listed, value 1 */
	struct sockleak_cgroups *cg;	/* every socket, per memcg */
};

/* Append a zeroed entry; NULL when out of memory. */
static struct suspect *suspects_new(struct suspects *l)
{
	struct suspect *v;

	if (l->n == l->cap) {
		unsigned int cap = l->cap ? l->cap * 2 : 16;

		v = kvmalloc_array(cap, sizeof(*v), GFP_KERNEL);
		if (!v)
			return NULL;
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(*v));
		kvfree(l->v);
		l->v = v;
		l->cap = cap;
	}
	v = &l->v[l->n++];
	memset(v, 0, sizeof(*v));
	v->age_ms = -1;
	v->fd = -1;
	v->verdict = -1;
	return v;
}

/* 512 B, 8 KiB, 2.0 MiB: one decimal above a KiB unless exact. */
static void suspects_size(char *buf, size_t len, u64 b)
{
	if (b >= SZ_1M)
		snprintf(buf, len, "%llu.%llu MiB", b / SZ_1M,
			 (b % SZ_1M) * 10 / SZ_1M);
	else if (b >= SZ_1K && b % SZ_1K)
		snprintf(buf, len, "%llu.%llu KiB", b / SZ_1K,
			 (b % SZ_1K) * 10 / SZ_1K);
	else if (b >= SZ_1K)
		snprintf(buf, len, "%llu KiB", b / SZ_1K);
	else
		snprintf(buf, len, "%llu B", b);
}

/* An age in seconds: one decimal below 10 s. */
static void suspects_age(char *buf, size_t len, u32 ms)
{
	if (ms < 10000)
		snprintf(buf, len, "%u.%us", ms / 1000, ms % 1000 / 100);
	else
		snprintf(buf, len, "%us", ms / 1000);
}

/* Who holds the socket, as a sentence fragment. */
static void suspects_owner(char *buf, size_t len,
			   const struct sockleak_snap *s, const char *verb)
{
	const struct sockleak_owner *o = &s->owners[0];
	int n;

	if (s->owners_known == SOCKLEAK_OWNERS_UNKNOWN) {
		snprintf(buf, len, "owner unknown (echo scan > control)");
		return;
	}
	if (!s->nowners) {
		snprintf(buf, len, "no process holds it");
		return;
	}
	n = snprintf(buf, len, "pid %d (%s, state %c) %s fd %d", o->tgid,
		     o->comm, o->state, verb, o->fd);
	if (s->owners_total > 1 && n < len)
		snprintf(buf + n, len - n, " (and %u more fds)",
			 s->owners_total - 1);
}

/* The keys of a socket's entry that the helper groups by. */
static void suspects_socket_keys(struct suspect *e,
				 const struct sockleak_snap *s)
{
	e->verdict = s->verdict;
	strscpy(e->proto, s->proto_name, sizeof(e->proto));
	e->state = sockleak_state_name(s->state);
	e->err = s->err;
}

/* One entry for one socket snapshot, or none. */
/* A watched socket (watch.c): who took the reference never put. */
static void suspects_add_holder(struct suspect *e, u64 cookie)
{
	size_t n = strlen(e->explain);

	if (n + 2 < sizeof(e->explain) &&
	    sockleak_watch_holder(cookie, e->explain + n + 2,
				  sizeof(e->explain) - n - 2))
		memcpy(e->explain + n, "; ", 2);
}

static int suspects_socket(struct suspects *l, const struct sockleak_snap *s)
{
	char rmem[24], held[24], owner[96], idle[16];
	const char *state = sockleak_state_name(s->state);
	struct suspect *e;
	int flag;
	u64 bytes;

	if (s->kind != SOCKLEAK_SK_FULL)
		return 0;
	flag = sockleak_first_flag(s);
	if (flag < 0 && s->verdict != SOCKLEAK_V_NEVER)
		return 0;
	e = suspects_new(l);
	if (!e)
		return -ENOMEM;

	/* Charged to the socket: its queues and its forward allocation. */
	bytes = (u64)max(s->rmem, 0) + max(s->queued, 0) + max(s->fwd, 0);
	e->bytes = bytes;
	e->kind = "socket";
	snprintf(e->id, sizeof(e->id), "%llx", s->cookie);
	suspects_socket_keys(e, s);
	if (s->nowners) {
		e->pid = s->owners[0].tgid;
		e->fd = s->owners[0].fd;
		strscpy(e->comm, s->owners[0].comm, sizeof(e->comm));
	}
	if (s->verdict == SOCKLEAK_V_NEVER) {
		/* Nothing will free it: always listed, whatever the flags. */
		unsigned int reason = sockleak_never_reason(s);
		char why[160];

		sockleak_verdict_explain(why, sizeof(why), s);
		suspects_size(held, sizeof(held), bytes);
		e->reason = sockleak_reason_name(reason);
		e->cause = reason == SOCKLEAK_R_PINS_NETNS;
		snprintf(e->explain, sizeof(e->explain), "%s; %s %s, %s held",
			 why, s->proto_name, state, held);
		suspects_add_holder(e, s->cookie);
		return 0;
	}
	e->reason = sockleak_flag_name(flag);
	if (s->proto == IPPROTO_TCP && s->state != TCP_LISTEN)
		e->age_ms = s->rcv_idle_ms;
	/* Unread: the data bytes for TCP, the queued memory otherwise. */
	suspects_size(rmem, sizeof(rmem), s->proto == IPPROTO_TCP ?
		      s->unread : max(s->rmem, 0));
	suspects_age(idle, sizeof(idle), s->rcv_idle_ms);
	suspects_size(held, sizeof(held), bytes);

	switch (flag) {
	case SOCKLEAK_F_NO_FD:
		e->age_ms = -1;
		if (s->in_flight_known)
			snprintf(e->explain, sizeof(e->explain),
				 "no fd and no SCM_RIGHTS message in flight holds this socket (file refs %ld, %u in flight): an io_uring fixed file or a leaked fget; %s %s, %s held",
				 s->filerefs, s->in_flight, s->proto_name,
				 state, held);
		else
			snprintf(e->explain, sizeof(e->explain),
				 "no fd holds this socket (file refs %ld): SCM_RIGHTS in flight, io_uring fixed file or leaked fget; %s %s, %s held",
				 s->filerefs, s->proto_name,
				 state, held);
		break;
	case SOCKLEAK_F_IN_FLIGHT:
		e->age_ms = -1;
		snprintf(e->explain, sizeof(e->explain),
			 "no fd holds this socket, only %u SCM_RIGHTS message%s in flight, queued at unix socket %llx: freed when that socket's owner receives or closes it; %s %s, %s held",
			 s->in_flight, s->in_flight == 1 ? "" : "s",
			 s->in_flight_rcv, s->proto_name, state, held);
		break;
	case SOCKLEAK_F_UNHASHED_MEM:
		suspects_owner(owner, sizeof(owner), s, "still holds");
		snprintf(e->explain, sizeof(e->explain),
			 "%s, unhashed (ss cannot see it), nothing received for %s, %s unread, %s",
			 s->err == ECONNRESET ? "reset by peer" : state,
			 idle, rmem, owner);
		break;
	case SOCKLEAK_F_CLOSE_WAIT:
		suspects_owner(owner, sizeof(owner), s, "holds");
		snprintf(e->explain, sizeof(e->explain),
			 "CLOSE_WAIT for %s, %s unread, %s but never close()d",
			 idle, rmem, owner);
		break;
	case SOCKLEAK_F_ORPHAN_MEM:
		snprintf(e->explain, sizeof(e->explain),
			 "closed by its owner (orphan in %s, refcnt %d), still holds %s",
			 state, s->refcnt, held);
		break;
	case SOCKLEAK_F_UNREAD:
		suspects_owner(owner, sizeof(owner), s, "holds");
		snprintf(e->explain, sizeof(e->explain),
			 "%s with %s unread, nothing received for %s, %s but does not read",
			 state, rmem, idle, owner);
		break;
	case SOCKLEAK_F_FIN_WAIT2:
		snprintf(e->explain, sizeof(e->explain),
			 "FIN-WAIT-2 for %s: the peer never sent its FIN, %s held",
			 idle, held);
		break;
	case SOCKLEAK_F_RCVBUF_LOCKED:
		suspects_owner(owner, sizeof(owner), s, "holds");
		snprintf(e->explain, sizeof(e->explain),
			 "SO_RCVBUF set by hand to %d and the %s receive queue is full (%s), %s",
			 s->rcvbuf, s->proto_name, rmem, owner);
		break;
	case SOCKLEAK_F_ZERO_WINDOW:
		suspects_owner(owner, sizeof(owner), s, "holds");
		snprintf(e->explain, sizeof(e->explain),
			 "%s with a zero %s window, %s held, %s", state,
			 s->snd_wnd ? "receive" : "send", held, owner);
		break;
	case SOCKLEAK_F_BPF_HELD:
		snprintf(e->explain, sizeof(e->explain),
			 "held by a sockmap/psock (bpf) in %s, %s held",
			 state, held);
		break;
	}
	return 0;
}

/*
 * Source: the track table's sockets closed by their owner at least
 * grace_ms ago and still not freed (the "tracked" report). Runs first:
 * such a socket is listed once, as "tracked", not again from its flags.
 */
static int suspects_from_tracked(struct suspects *l)
{
	struct sockleak_ref refs[SOCKLEAK_BATCH];
	struct sockleak_entry_info *infos;
	struct sockleak_snap *s;
	unsigned long pos = 0;
	u64 now = ktime_get_ns();
	int i, n, ret = 0;

	infos = kcalloc(SOCKLEAK_BATCH, sizeof(*infos), GFP_KERNEL);
	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!infos || !s) {
		ret = -ENOMEM;
		goto out;
	}
	while (!ret && (n = sockleak_track_grab(&pos, SOCKLEAK_TRACK_TRACKED, 0,
					      refs, infos, SOCKLEAK_BATCH))) {
		for (i = 0; i < n && !ret; i++) {
			const struct sockleak_entry_info *in = &infos[i];
			char missing[128], age[16], held[24], why[160];
			struct suspect *e;
			u32 close_ms;
			int n_why;

			sockleak_snapshot(&refs[i], s, SOCKLEAK_SNAP_BRIEF);
			/*
			 * A closed unix socket its open peer holds is no
			 * suspect ("tracked" still lists it, verdict owner).
			 */
			if (s->holder == SOCKLEAK_H_PEER)
				continue;
			e = suspects_new(l);
			if (!e) {
				ret = -ENOMEM;
				break;
			}
			suspects_socket_keys(e, s);
			e->kind = "tracked";
			snprintf(e->id, sizeof(e->id), "%llx", s->cookie);
			e->bytes = sockleak_snap_held(s);
			e->reason = sockleak_reason_name(SOCKLEAK_R_NOT_FREED);
			close_ms = in->close_ns ?
				div_u64(sockleak_age_ns(now, in->close_ns),
					NSEC_PER_MSEC) : 0;
			e->age_ms = in->close_ns ? close_ms : -1;
			if (in->close_ns && in->close_pid) {
				e->pid = in->close_pid;
				strscpy(e->comm, in->close_comm,
					sizeof(e->comm));
			}
			sockleak_tracked_missing(in, missing, sizeof(missing));
			suspects_age(age, sizeof(age), close_ms);
			suspects_size(held, sizeof(held), e->bytes);
			n_why = sockleak_verdict_explain(why, sizeof(why), s);
			if (in->close_ns && e->pid)
				snprintf(e->explain, sizeof(e->explain),
					 "closed %s ago by pid %d (%s) but not freed: refcnt %d, %s; %s %s, %s held%s%s",
					 age, e->pid, e->comm, s->refcnt,
					 missing[0] ? missing : "every teardown step ran, a reference is still held",
					 e->proto, e->state, held,
					 n_why ? "; " : "", why);
			else
				snprintf(e->explain, sizeof(e->explain),
					 "unhashed and owner-less but not freed: refcnt %d, %s; %s %s, %s held%s%s",
					 s->refcnt,
					 missing[0] ? missing : "every teardown step ran, a reference is still held",
					 e->proto, e->state, held,
					 n_why ? "; " : "", why);
			suspects_add_holder(e, s->cookie);
			xa_store(&l->cookies, s->cookie, xa_mk_value(1),
				 GFP_KERNEL);
		}
		sockleak_walk_put(refs, n);
		if (fatal_signal_pending(current))
			ret = -EINTR;
	}
out:
	kfree(s);
	kfree(infos);
	return ret;
}

static int suspects_cgroup(void *arg, const struct sockleak_cg_suspect *cs)
{
	struct suspects *l = arg;
	struct suspect *e = suspects_new(l);
	char held[24], res[24];

	if (!e)
		return -ENOMEM;
	e->kind = "cgroup";
	snprintf(e->id, sizeof(e->id), "%llu", cs->id);
	suspects_size(held, sizeof(held), cs->bytes);
	if (cs->dying) {
		e->bytes = cs->bytes;
		e->reason = "dying";
		snprintf(e->explain, sizeof(e->explain),
			 "memcg %s is dying, pinned by %lu socket%s (%s)",
			 cs->path ?: "(path unknown)", cs->sockets,
			 cs->sockets == 1 ? "" : "s", held);
	} else {
		e->bytes = abs(cs->residue);
		e->reason = "residue";
		suspects_size(res, sizeof(res), abs(cs->residue));
		snprintf(e->explain, sizeof(e->explain),
			 "memcg %s: tcpmem is %s %s than its sockets hold (%s): socket accounting residue",
			 cs->path ?: "(path unknown)", res,
			 cs->residue > 0 ? "more" : "less", held);
	}
	return 0;
}

/*
 * Source: memcgs dying while sockets hold them, v1 tcpmem residue, from
 * the sockets the socket source accounted (runs after it).
 */
static int suspects_from_cgroups(struct suspects *l)
{
	return sockleak_cgroups_suspects(l->cg, suspects_cgroup, l);
}

static int suspects_one_socket(void *arg, const struct sockleak_snap *s)
{
	struct suspects *l = arg;
	int ret = sockleak_cgroups_account(l->cg, s);

	if (ret || xa_load(&l->cookies, s->cookie))
		return ret;	/* listed as tracked */
	return suspects_socket(l, s);
}

/*
 * Source: every socket of the "sockets" report, in one walk that also
 * fills the per-memcg table of the cgroups source.
 */
static int suspects_from_sockets(struct suspects *l)
{
	return sockleak_snapshot_all(0, suspects_one_socket, l);
}

/* Sources of suspects: add a row per source, in this order. */
static int (* const suspect_sources[])(struct suspects *l) = {
	suspects_from_tracked,
	suspects_from_sockets,
	suspects_from_cgroups,
};

/*
 * Sockets nothing will free first (verdict never), those that keep others
 * from being freed (pins_netns) before them; then most bytes first; then
 * by kind and id, so the order is stable.
 */
static int suspects_cmp(const void *a, const void *b)
{
	const struct suspect *x = a, *y = b;
	bool xn = x->verdict == SOCKLEAK_V_NEVER;
	bool yn = y->verdict == SOCKLEAK_V_NEVER;

	if (xn != yn)
		return xn ? -1 : 1;
	if (x->cause != y->cause)
		return x->cause ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->kind, y->kind) ?: strcmp(x->id, y->id);
}

static void suspects_free(struct suspects *l)
{
	sockleak_cgroups_free(l->cg);
	xa_destroy(&l->cookies);
	kvfree(l->v);
	kfree(l);
}

static int suspects_show(struct seq_file *m, void *v)
{
	struct suspects *l = m->private;
	const struct suspect *e;
	unsigned int i;

	for (i = 0; i < l->n; i++) {
		e = &l->v[i];
		seq_printf(m, "kind=%s id=%s bytes=%llu", e->kind, e->id,
			   e->bytes);
		if (e->age_ms < 0)
			seq_puts(m, " age_ms=-");
		else
			seq_printf(m, " age_ms=%lld", e->age_ms);
		if (e->pid) {
			seq_printf(m, " pid=%d comm=", e->pid);
			seq_escape(m, e->comm, " \t\n\\");
		} else {
			seq_puts(m, " pid=- comm=-");
		}
		if (e->fd >= 0)
			seq_printf(m, " fd=%d", e->fd);
		else
			seq_puts(m, " fd=-");
		if (e->proto[0])
			seq_printf(m, " proto=%s state=%s err=%d verdict=%s",
				   e->proto, e->state, e->err,
				   sockleak_verdict_name(e->verdict));
		else
			seq_puts(m, " proto=- state=- err=- verdict=-");
		seq_printf(m, " reason=%s explain=", e->reason);
		seq_escape(m, e->explain, "\t\n\\");
		seq_putc(m, '\n');
	}
	return 0;
}

static void *suspects_collect(void)
{
	struct suspects *l;
	int i, ret = 0;

	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return ERR_PTR(-ENOMEM);
	xa_init(&l->cookies);
	l->cg = sockleak_cgroups_new();
	if (!l->cg)
		ret = -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(suspect_sources) && !ret; i++)
		ret = suspect_sources[i](l);
	if (ret) {
		suspects_free(l);
		return ERR_PTR(ret);
	}
	sort(l->v, l->n, sizeof(*l->v), suspects_cmp, NULL);
	return l;
}

static void suspects_release(void *data)
{
	suspects_free(data);
}

static const struct sockleak_report suspects_report = {
	.collect	= suspects_collect,
	.show		= suspects_show,
	.release	= suspects_release,
	.size		= PAGE_SIZE,
};

void sockleak_suspects_init(struct dentry *dir)
{
	sockleak_report_create("suspects", dir, &suspects_report);
}
