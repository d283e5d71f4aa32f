// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the "sockets" debugfs file: one line per socket, key=value
 * fields (see snapshot.c, sockleak_snap_show()): the walk's (TCP, UDP,
 * UDP-Lite, MPTCP of every netns), then the extra sources' (the unhashed
 * ones an owner scan found; any family's while tracking).
 *
 * The seq_file iterator keeps a cursor (sources.h: the hash walk, then
 * the extra sources) and the snapshots of the last batch (at most
 * SOCKETS_SNAPS sockets) in its private state. Record number pos is
 * batch[pos - first]: seq_file's re-invocation of start() for the same
 * pos (after its buffer overflowed, or on the next read()) is served from
 * the batch, and the next batch continues the cursor, so any read size
 * gives the same text and a full read is O(sockets). Only a backwards
 * seek restarts the walk from the beginning. Socket references
 * are dropped as soon as a batch is copied: nothing is pinned between
 * read() calls except the netns of a per-netns table being walked. So a
 * walk parked inside a long hash chain finds its place again by counting
 * from the chain's head (walk.c): a batch of SOCKETS_SNAPS snapshots
 * makes that happen once per SOCKETS_SNAPS sockets, whatever the read
 * size.
 *
 * After the hash tables, the cursor goes on with the extra sockets of
 * sources.h (sockets no hash table holds, e.g. found by the owner scan),
 * the same way, batch by batch.
 *
 * Locking rules: none of its own; the seq_file's mutex orders one
 * reader's calls. A batch is taken under the walk's bucket locks or a
 * source's (walk.c, sources.c), and printed with none held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "reports.h"
#include "snapshot.h"
#include "sockleak.h"
#include "sources.h"
#include "walk.h"

/* Snapshots per batch: SOCKLEAK_BATCH referenced sockets at a time. */
#define SOCKETS_SNAPS	(16 * SOCKLEAK_BATCH)

struct sockets_iter {
	struct sockleak_cursor cursor;	/* the walk, then the sources */
	loff_t first;			/* record number of snaps[0] */
	unsigned int count;		/* snapshots in snaps[] */
	bool eof;			/* the cursor has ended */
	struct sockleak_snap *snaps;	/* SOCKETS_SNAPS entries */
};

static void sockets_rewind(struct sockets_iter *it)
{
	sockleak_cursor_release(&it->cursor);
	sockleak_cursor_init(&it->cursor);
	it->first = 0;
	it->count = 0;
	it->eof = false;
}

/* Replace the batch by the next one. Returns false at the end. */
static bool sockets_fill(struct sockets_iter *it)
{
	struct sockleak_ref refs[SOCKLEAK_BATCH];
	int i, n;

	it->first += it->count;
	it->count = 0;
	while (!it->eof && it->count + SOCKLEAK_BATCH <= SOCKETS_SNAPS) {
		n = sockleak_cursor_batch(&it->cursor, refs, SOCKLEAK_BATCH);
		for (i = 0; i < n; i++)
			sockleak_snapshot(&refs[i], &it->snaps[it->count + i], 0);
		sockleak_walk_put(refs, n);
		it->count += n;
		if (!n)
			it->eof = true;
		if (fatal_signal_pending(current))
			break;
	}
	return it->count;
}

static void *sockets_get(struct sockets_iter *it, loff_t pos)
{
	if (pos < it->first)
		sockets_rewind(it);
	while (pos >= it->first + it->count) {
		if (fatal_signal_pending(current))
			return NULL;
		if (!sockets_fill(it))
			return NULL;
	}
	return &it->snaps[pos - it->first];
}

static void *sockets_start(struct seq_file *m, loff_t *pos)
{
	return sockets_get(m->private, *pos);
}

static void *sockets_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return sockets_get(m->private, *pos);
}

static void sockets_stop(struct seq_file *m, void *v)
{
	struct sockets_iter *it = m->private;

	/* No socket stays referenced between read() calls. */
	sockleak_cursor_park(&it->cursor);
}

static int sockets_show(struct seq_file *m, void *v)
{
	sockleak_snap_show(m, v);
	return 0;
}

static const struct seq_operations sockets_seq_ops = {
	.start	= sockets_start,
	.next	= sockets_next,
	.stop	= sockets_stop,
	.show	= sockets_show,
};

static int sockets_open(struct inode *inode, struct file *file)
{
	struct sockets_iter *it;

	it = __seq_open_private(file, &sockets_seq_ops, sizeof(*it));
	if (!it)
		return -ENOMEM;
	/* Not zeroed: sockleak_snapshot() sets what the line prints. */
	it->snaps = kvmalloc_array(SOCKETS_SNAPS, sizeof(*it->snaps),
				   GFP_KERNEL);
	if (!it->snaps) {
		seq_release_private(inode, file);
		return -ENOMEM;
	}
	sockleak_cursor_init(&it->cursor);
	return 0;
}

static int sockets_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;
	struct sockets_iter *it = m->private;

	sockleak_cursor_release(&it->cursor);
	kvfree(it->snaps);
	return seq_release_private(inode, file);
}

static const struct file_operations sockets_fops = {
	.owner		= THIS_MODULE,
	.open		= sockets_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= sockets_release,
};

void sockleak_sockets_init(struct dentry *dir)
{
	debugfs_create_file("sockets", SOCKLEAK_MODE_RO, dir, NULL,
			    &sockets_fops);
}
