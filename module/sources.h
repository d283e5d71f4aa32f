/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - the sources of extra sockets: full sockets that no hash
 * table holds, found by other means than the hash walk: the followed
 * protocols' (TCP, UDP, UDP-Lite, MPTCP) reset by the peer or never bound
 * or connected (the owner scan) and, while tracking, any family's (the
 * track table). The sources register here; the reports read them after
 * the walk, through one cursor over both. See the locking rules in
 * sources.c.
 */
#ifndef _SOCKLEAK_SOURCES_H
#define _SOCKLEAK_SOURCES_H

#include <linux/list.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include "walk.h"

/*
 * A source fills @refs with at most @max referenced sockets (and pinned
 * netns, as the walk does) from its position *@pos on, and advances *@pos;
 * it returns 0 at its end. Process context; it may sleep.
 */
typedef int (*sockleak_source_fn)(unsigned long *pos,
				  struct sockleak_ref *refs, int max);

/* One source, owned by the file that defines it. */
struct sockleak_source {
	sockleak_source_fn next;
	struct list_head node;		/* in the list of sources.c */
};

/* Report order is registration order (main.c registers them all). */
void sockleak_source_register(struct sockleak_source *src);
void sockleak_source_unregister(struct sockleak_source *src);

/*
 * A reader's position in the sources. The sockets that are hashed (the
 * walk shows them) and those another source already gave are dropped,
 * by cookie.
 */
struct sockleak_source_cursor {
	unsigned int source;	/* index in the list of sources */
	unsigned long pos;	/* the source's own position */
	struct xarray seen;	/* cookies given, value: the socket's tag */
};

/*
 * A reader's cursor over every socket the reports show, in their order:
 * the hash walk (walk.c), then the extra sources. Batches of at most
 * SOCKLEAK_BATCH referenced sockets, released with sockleak_walk_put();
 * sockleak_cursor_batch() returns 0 only at the end of both. Parked
 * between two read() calls of a seq_file: no socket stays referenced.
 */
struct sockleak_cursor {
	struct sockleak_walk walk;
	struct sockleak_source_cursor extra;	/* after the walk */
};

void sockleak_cursor_init(struct sockleak_cursor *c);
void sockleak_cursor_park(struct sockleak_cursor *c);
void sockleak_cursor_release(struct sockleak_cursor *c);
int sockleak_cursor_batch(struct sockleak_cursor *c,
			  struct sockleak_ref *refs, int max);

#endif /* _SOCKLEAK_SOURCES_H */
