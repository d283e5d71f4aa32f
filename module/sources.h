/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - the sources of extra sockets: full TCP/UDP sockets that no
 * hash table holds (reset by the peer, never bound or connected), found
 * by other means than the hash walk. The sources register here; the
 * reports read them after the walk. See the locking rules in sources.c.
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
 * A reader's cursor over every source. sockleak_source_batch() drops the
 * sockets that are hashed (the walk shows them) and the sockets another
 * source already gave, by cookie.
 */
struct sockleak_source_cursor {
	unsigned int source;	/* index in the list of sources */
	unsigned long pos;	/* the source's own position */
	struct xarray seen;	/* cookies given, value: the socket's tag */
};

void sockleak_source_init(struct sockleak_source_cursor *x);
void sockleak_source_release(struct sockleak_source_cursor *x);
int sockleak_source_batch(struct sockleak_source_cursor *x,
			  struct sockleak_ref *refs, int max);

#endif /* _SOCKLEAK_SOURCES_H */
