// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the "tracked" debugfs file, the "dump=<cookie>" command and
 * the track table's contribution to "sockets" (a socket source, sources.h).
 *
 * "tracked" lists the sockets, of any family, of the track table that
 * their owner
 * closed longer than grace_ms ago (or that are unhashed and owner-less
 * that long) and that are still not freed, one line each:
 *
 *   cookie=<hex> netns= proto= family= state= refcnt= rmem= wmem= queued=
 *   fwd= memcg= origin=alloc|clone|unknown alloc_age_ms= close_age_ms=
 *   alloc_pid= alloc_comm= close_pid= close_comm= last_state=
 *   steps=<ran> missing=<not run> verdict=owner|timer|never
 *   timer_left_ms=N|- held_by=<f>,...|- peer_holder=<hex>|-
 *   alloc_stack=<f>,<f>,... close_stack=...
 *
 * verdict is classify.c's. held_by names, for a socket watched with
 * "watch=<cookie>" (watch.c), the code that took each reference its
 * history leaves unmatched (the first frame outside the socket core). refcnt does not count the report's own
 * reference. Stack frames are symbol+offset/size (%pS), innermost first;
 * "-" when unknown. peer_holder is, for a closed unix socket, the cookie of
 * the open peer whose connection holds it (verdict owner; unix.c). The
 * records are read from the track table as the reader goes, a batch at a
 * time (the iterator below), like "sockets".
 *
 * Locking rules: none of its own. Sockets come referenced from
 * sockleak_track_grab() (track_table.c) and are read with no lock held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/sock.h>

#include "classify.h"
#include "family.h"
#include "memcg.h"
#include "proto.h"
#include "report.h"
#include "reports.h"
#include "snapshot.h"
#include "sockleak.h"
#include "sources.h"
#include "stack.h"
#include "track.h"
#include "walk.h"

#define TRACKED_BATCH	8

static const char * const origin_names[] = {
	[SOCKLEAK_ORIGIN_UNKNOWN]	= "unknown",
	[SOCKLEAK_ORIGIN_ALLOC]		= "alloc",
	[SOCKLEAK_ORIGIN_CLONE]		= "clone",
};

/* Steps in print order; "orphan" (SOCK_DEAD) comes last. */
static const char * const step_names[SOCKLEAK_STEP_NR] = {
	[SOCKLEAK_STEP_CLOSE]		= "close",
	[SOCKLEAK_STEP_TCP_CLOSE]	= "tcp_close",
	[SOCKLEAK_STEP_UNHASH]		= "unhash",
	[SOCKLEAK_STEP_DESTROY]		= "destroy",
	[SOCKLEAK_STEP_KILL_QUEUES]	= "kill_queues",
};

#define STEP_ORPHAN	SOCKLEAK_STEP_NR

/* The teardown steps a socket of followed protocol @proto goes through. */
static unsigned int expected_steps(u16 proto)
{
	const struct sockleak_proto_ops *ops = sockleak_proto(proto);

	/* Any other protocol: its struct socket went away (__sock_release). */
	if (!ops)
		return BIT(SOCKLEAK_STEP_CLOSE) | BIT(STEP_ORPHAN);
	return ops->steps | BIT(STEP_ORPHAN);
}

/*
 * For "suspects": the teardown steps that should have run and did not,
 * named by their kernel functions ("" when all ran).
 */
void sockleak_tracked_missing(const struct sockleak_entry_info *in, char *buf,
			      size_t len)
{
	static const char * const fns[] = {
		[SOCKLEAK_STEP_CLOSE]		= "inet_release",
		[SOCKLEAK_STEP_TCP_CLOSE]	= "tcp_close",
		[SOCKLEAK_STEP_UNHASH]		= "unhash",
		[SOCKLEAK_STEP_DESTROY]		= "destroy",	/* the row's */
		[SOCKLEAK_STEP_KILL_QUEUES]	= "sk_stream_kill_queues",
		[STEP_ORPHAN]			= "sock_orphan",
	};
	const struct sockleak_proto_ops *ops = sockleak_proto(in->proto);
	unsigned int missing, i;
	size_t n = 0;

	missing = expected_steps(in->proto) &
		  ~(in->steps | (in->dead ? BIT(STEP_ORPHAN) : 0));
	buf[0] = '\0';
	for (i = 0; i <= STEP_ORPHAN && n < len; i++) {
		const char *fn = fns[i];

		if (!(missing & BIT(i)))
			continue;
		if (i == SOCKLEAK_STEP_CLOSE && !in->proto)
			fn = "sock_release";
		else if (i == SOCKLEAK_STEP_DESTROY && ops && ops->destroy_fn)
			fn = ops->destroy_fn;
		n += scnprintf(buf + n, len - n, "%s%s", n ? ", " : "", fn);
	}
}

static void show_steps(struct seq_file *m, const char *key, unsigned int bits)
{
	bool first = true;
	int i;

	seq_printf(m, " %s=", key);
	for (i = 0; i <= STEP_ORPHAN; i++) {
		if (!(bits & BIT(i)))
			continue;
		seq_printf(m, "%s%s", first ? "" : ",",
			   i == STEP_ORPHAN ? "orphan" : step_names[i]);
		first = false;
	}
	if (first)
		seq_putc(m, '-');
}

static void show_stack(struct seq_file *m, const char *key,
		       const struct sockleak_stack *st, bool lines)
{
	unsigned int i;

	if (lines) {
		for (i = 0; i < st->depth; i++) {
			seq_printf(m, "  %s ", key);
			sockleak_show_frame(m, st->ent[i]);
			seq_putc(m, '\n');
		}
		return;
	}
	sockleak_show_frames(m, key, st->ent, st->depth);
}

static void show_age(struct seq_file *m, const char *key, u64 now, u64 t)
{
	if (t)
		seq_printf(m, " %s=%llu", key,
			   div_u64(sockleak_age_ns(now, t), NSEC_PER_MSEC));
	else
		seq_printf(m, " %s=-", key);
}

/*
 * One record, from its snapshot @s, what the track table knows @in and
 * its memcg's inode; @lines puts each stack frame on its own line (dump).
 */
static void tracked_print(struct seq_file *m, const struct sockleak_snap *s,
			  const struct sockleak_entry_info *in, u64 memcg,
			  u64 now, bool lines)
{
	unsigned int ran;
	char fam[8];

	seq_printf(m, "cookie=%llx netns=%u proto=%s family=%s state=%s refcnt=%d rmem=%d wmem=%d queued=%d fwd=%d memcg=%llu origin=%s",
		   s->cookie, s->netns, s->proto_name,
		   sockleak_family_name(s->family, fam, sizeof(fam)),
		   sockleak_state_name(s->state), s->refcnt, s->rmem, s->wmem,
		   s->queued, s->fwd, memcg, origin_names[in->origin]);
	show_age(m, "alloc_age_ms", now, in->alloc_ns);
	show_age(m, "close_age_ms", now, in->close_ns);
	seq_printf(m, " alloc_pid=%d alloc_comm=", in->alloc_pid);
	seq_escape(m, in->alloc_ns && in->alloc_comm[0] ? in->alloc_comm : "-",
		   " \t\n\\");
	seq_printf(m, " close_pid=%d close_comm=", in->close_pid);
	seq_escape(m, in->close_ns && in->close_comm[0] ? in->close_comm : "-",
		   " \t\n\\");
	seq_printf(m, " last_state=%s",
		   in->last_state == 0xff ? "-" : sockleak_state_name(in->last_state));
	ran = in->steps | (in->dead ? BIT(STEP_ORPHAN) : 0);
	show_steps(m, "steps", ran);
	show_steps(m, "missing", expected_steps(in->proto) & ~ran);
	seq_printf(m, " verdict=%s", sockleak_verdict_name(s->verdict));
	if (s->timer_left_ms >= 0)
		seq_printf(m, " timer_left_ms=%lld", s->timer_left_ms);
	else
		seq_puts(m, " timer_left_ms=-");
	sockleak_watch_show_held(m, s->cookie);
	if (s->peer_holder)
		seq_printf(m, " peer_holder=%llx", s->peer_holder);
	else
		seq_puts(m, " peer_holder=-");
	if (lines) {
		seq_printf(m, " hashed=%u\n", in->hashed);
		show_stack(m, "alloc_stack", &in->alloc_stack, true);
		show_stack(m, "close_stack", &in->close_stack, true);
	} else {
		show_stack(m, "alloc_stack", &in->alloc_stack, false);
		show_stack(m, "close_stack", &in->close_stack, false);
		seq_putc(m, '\n');
	}
}

/*
 * The iterator: a cursor in the track table and the last batch of
 * records (snapshots and entries), at most TRACKED_BATCH. Record number
 * pos is batch[pos - first], so seq_file's re-invocation of start() for
 * the same pos (its buffer overflowed, or the next read()) is served
 * from the batch, the next batch continues the cursor, and a full read
 * is one pass over the table, in a buffer of a page or so whatever the
 * number of sockets. A backwards seek restarts from the table's start.
 * No socket is held between batches.
 */
struct tracked_iter {
	unsigned long cursor;		/* sockleak_track_grab()'s position */
	loff_t first;			/* record number of the batch's first */
	unsigned int count;		/* records in the batch */
	bool eof;
	u64 now;			/* ages are counted to the (re)start */
	u64 memcg[TRACKED_BATCH];
	struct sockleak_entry_info infos[TRACKED_BATCH];
	struct sockleak_snap snaps[TRACKED_BATCH];
};

static void tracked_rewind(struct tracked_iter *it)
{
	it->cursor = 0;
	it->first = 0;
	it->count = 0;
	it->eof = false;
	it->now = ktime_get_ns();
}

/* Replace the batch by the next one. Returns false at the end. */
static bool tracked_fill(struct tracked_iter *it)
{
	struct sockleak_ref refs[TRACKED_BATCH];
	int i, n;

	it->first += it->count;
	it->count = 0;
	if (it->eof)
		return false;
	n = sockleak_track_grab(&it->cursor, SOCKLEAK_TRACK_TRACKED, 0, refs,
				it->infos, TRACKED_BATCH);
	for (i = 0; i < n; i++) {
		sockleak_snapshot(&refs[i], &it->snaps[i], SOCKLEAK_SNAP_BRIEF);
		it->memcg[i] = sockleak_sk_memcg_ino(refs[i].sk);
	}
	sockleak_walk_put(refs, n);
	it->count = n;
	it->eof = !n;
	return n;
}

/* Record number @pos, or NULL past the end. */
static void *tracked_at(struct tracked_iter *it, loff_t pos)
{
	if (pos < it->first)
		tracked_rewind(it);
	while (pos >= it->first + it->count)
		if (fatal_signal_pending(current) || !tracked_fill(it))
			return NULL;
	return &it->snaps[pos - it->first];
}

static void *tracked_start(struct seq_file *m, loff_t *pos)
{
	return tracked_at(m->private, *pos);
}

static void *tracked_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return tracked_at(m->private, *pos);
}

static void tracked_stop(struct seq_file *m, void *v)
{
}

static int tracked_show(struct seq_file *m, void *v)
{
	struct tracked_iter *it = m->private;
	unsigned int i = (struct sockleak_snap *)v - it->snaps;

	tracked_print(m, v, &it->infos[i], it->memcg[i], it->now, false);
	return 0;
}

static const struct seq_operations tracked_sops = {
	.start	= tracked_start,
	.next	= tracked_next,
	.stop	= tracked_stop,
	.show	= tracked_show,
};

static int tracked_open(struct inode *inode, struct file *file)
{
	struct tracked_iter *it;
	int ret;

	it = kvzalloc(sizeof(*it), GFP_KERNEL);
	if (!it)
		return -ENOMEM;
	tracked_rewind(it);
	ret = seq_open(file, &tracked_sops);
	if (ret) {
		kvfree(it);
		return ret;
	}
	((struct seq_file *)file->private_data)->private = it;
	return 0;
}

static int tracked_release(struct inode *inode, struct file *file)
{
	kvfree(((struct seq_file *)file->private_data)->private);
	return seq_release(inode, file);
}

static const struct file_operations tracked_fops = {
	.owner		= THIS_MODULE,
	.open		= tracked_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= tracked_release,
};

void sockleak_tracked_init(struct dentry *dir)
{
	debugfs_create_file("tracked", SOCKLEAK_MODE_RO, dir, NULL,
			    &tracked_fops);
}

/*
 * "dump=<cookie>": the full record of one track table socket, to the kernel
 * log (as kmemleak's dump=), each stack frame on its own line. -ENOENT
 * when the track table does not know the cookie, -ENODEV when tracking is off.
 */
int sockleak_tracked_dump(u64 cookie)
{
	struct sockleak_entry_info *info;
	struct sockleak_ref ref;
	unsigned long pos = 0;
	struct seq_file m;
	int n;

	if (!sockleak_track_on())
		return -ENODEV;
	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (sockleak_log_seq_init(&m, 16 * 1024) || !info) {
		kfree(info);
		sockleak_log_seq_free(&m);
		return -ENOMEM;
	}
	/*
	 * A TCP child carries its listener's cookie until it is settled
	 * (sockleak_sk_settle()): check the match again after that.
	 */
	while ((n = sockleak_track_grab(&pos, SOCKLEAK_TRACK_COOKIE, cookie, &ref,
				      info, 1))) {
		sockleak_sk_settle(ref.sk);
		if (atomic64_read(&ref.sk->sk_cookie) == cookie)
			break;
		sockleak_walk_put(&ref, 1);
	}
	if (n) {
		struct sockleak_snap *s = kmalloc(sizeof(*s), GFP_KERNEL);

		if (s) {
			sockleak_snapshot(&ref, s, SOCKLEAK_SNAP_BRIEF);
			tracked_print(&m, s, info, sockleak_sk_memcg_ino(ref.sk),
				      ktime_get_ns(), true);
			kfree(s);
		}
		sockleak_walk_put(&ref, 1);
		sockleak_log_seq_print(&m, "dump");
	}
	sockleak_log_seq_free(&m);
	kfree(info);
	return n ? 0 : -ENOENT;
}

/* The track table as a socket source: live sockets no hash table holds. */
static int tracked_extra(unsigned long *pos, struct sockleak_ref *refs,
			 int max)
{
	return sockleak_track_grab(pos, SOCKLEAK_TRACK_UNHASHED, 0, refs, NULL,
				 max);
}

/* Registered by main.c, after the owner scan's. */
struct sockleak_source sockleak_track_source = {
	.next = tracked_extra,
};
