// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the sources of extra sockets (sources.h): the sockets no
 * hash table holds, which the reports show after the hash walk. The
 * sources register here, in report order: main.c registers the owner
 * scan (owners.c) and the track table (tracked.c). This file
 * names none of them: it calls what was registered. A reader goes over
 * every socket with one cursor (struct sockleak_cursor): the hash walk,
 * then the sources.
 *
 * Locking rules:
 *
 * - sources_mutex protects the list of sources. A reader holds it only to
 *   find the source at its cursor, never while the source runs (a source
 *   sleeps and takes its own locks). main.c registers the sources at load
 *   before any debugfs file exists and unregisters them at unload after
 *   the files are gone, so no reader sees the list change.
 *
 * - Extra sockets come referenced from their source; this file takes no
 *   lock of its own over them, only an xarray of the cookies it gave
 *   (GFP_KERNEL, process context). It reads them with no lock held, after
 *   sockleak_sk_settle() (walk.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/limits.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/xarray.h>
#include <net/sock.h>

#include "sockleak.h"
#include "sources.h"
#include "walk.h"

static DEFINE_MUTEX(sources_mutex);
static LIST_HEAD(sources);

void sockleak_source_register(struct sockleak_source *src)
{
	mutex_lock(&sources_mutex);
	list_add_tail(&src->node, &sources);
	mutex_unlock(&sources_mutex);
}

void sockleak_source_unregister(struct sockleak_source *src)
{
	mutex_lock(&sources_mutex);
	list_del(&src->node);
	mutex_unlock(&sources_mutex);
}

/* The function of source number @i, NULL past the last one. */
static sockleak_source_fn sources_get(unsigned int i)
{
	struct sockleak_source *src;
	sockleak_source_fn fn = NULL;

	mutex_lock(&sources_mutex);
	list_for_each_entry(src, &sources, node) {
		if (!i--) {
			fn = src->next;
			break;
		}
	}
	mutex_unlock(&sources_mutex);
	return fn;
}

static void source_init(struct sockleak_source_cursor *x)
{
	x->source = 0;
	x->pos = 0;
	xa_init(&x->seen);
}

static void source_release(struct sockleak_source_cursor *x)
{
	xa_destroy(&x->seen);
	x->source = UINT_MAX;
}

/*
 * Is this extra socket new: not hashed (the walk reports hashed ones; a
 * socket of another protocol than the walk's is never in its tables) and
 * not given before? Records its cookie, with the socket's address as the
 * value: a cookie is not always unique (an accepted MPTCP socket is
 * cloned by sk_clone_lock() with its listener's cookie, which nothing
 * resets), and an address alone can be a new socket by the time the next
 * source runs. On allocation failure the socket is reported (a duplicate
 * line beats a missing one).
 */
static bool extra_new(struct sockleak_source_cursor *x,
		      const struct sockleak_ref *r)
{
	struct sock *sk = r->sk;
	unsigned long tag = (unsigned long)sk >> 2;
	void *seen;
	u64 cookie;

	sockleak_sk_settle(sk);
	/* The walk holds hashed sockets of the protocols it knows only. */
	if (r->proto && sk_hashed(sk))
		return false;
	cookie = sockleak_sk_cookie(sk);
	seen = xa_load(&x->seen, cookie);
	if (seen)
		return xa_to_value(seen) != tag;
	xa_store(&x->seen, cookie, xa_mk_value(tag), GFP_KERNEL);
	return true;
}

/*
 * The next referenced extra sockets, at most @max (<= SOCKLEAK_BATCH).
 * Returns 0 only when every source is exhausted. Released with
 * sockleak_walk_put().
 */
static int source_batch(struct sockleak_source_cursor *x,
			struct sockleak_ref *refs, int max)
{
	sockleak_source_fn fn;
	int i, got, n = 0;

	while (!n && x->source != UINT_MAX) {
		fn = sources_get(x->source);
		if (!fn) {
			x->source = UINT_MAX;
			break;
		}
		got = fn(&x->pos, refs, max);
		if (!got) {
			x->source++;
			x->pos = 0;
			continue;
		}
		for (i = 0; i < got; i++) {
			if (extra_new(x, &refs[i]))
				refs[n++] = refs[i];
			else
				sockleak_walk_put(&refs[i], 1);
		}
	}
	return n;
}

void sockleak_cursor_init(struct sockleak_cursor *c)
{
	sockleak_walk_init(&c->walk);
	source_init(&c->extra);
}

/* Drops the walk's anchor: no socket stays referenced (walk.c). */
void sockleak_cursor_park(struct sockleak_cursor *c)
{
	sockleak_walk_park(&c->walk);
}

void sockleak_cursor_release(struct sockleak_cursor *c)
{
	sockleak_walk_release(&c->walk);
	source_release(&c->extra);
}

/*
 * The next referenced sockets, at most @max (<= SOCKLEAK_BATCH): the
 * walk's, then, once it has ended, the extra sources'. Returns 0 only at
 * the end of both. Process context; may sleep. Released with
 * sockleak_walk_put().
 */
int sockleak_cursor_batch(struct sockleak_cursor *c,
			  struct sockleak_ref *refs, int max)
{
	int n = sockleak_walk_batch(&c->walk, refs, max);

	return n ?: source_batch(&c->extra, refs, max);
}
