/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - resumable walk over every TCP and UDP socket (IPv4 and IPv6)
 * of every network namespace. See the locking rules in walk.c.
 */
#ifndef _SOCKLEAK_WALK_H
#define _SOCKLEAK_WALK_H

#include <linux/types.h>

struct net;
struct sock;

/* Sockets referenced at once: the SKARR_SZ of inet_diag_dump_icsk(). */
#define SOCKLEAK_BATCH	16

/*
 * The tables in walk order. Each distinct table is walked exactly once:
 * the TCP listening hash (lhash2, shared by all netns), the global TCP
 * established hash, then the ehash of each netns that has its own
 * (tcp_child_ehash_entries), then the global UDP table, then each
 * per-netns UDP table (udp_child_hash_entries, 6.2 and later).
 */
enum sockleak_table {
	SOCKLEAK_TBL_TCP_LISTEN,
	SOCKLEAK_TBL_TCP_EHASH,
	SOCKLEAK_TBL_TCP_EHASH_NETNS,
	SOCKLEAK_TBL_UDP,
	SOCKLEAK_TBL_UDP_NETNS,
	SOCKLEAK_TBL_DONE,
};

/*
 * Cursor: the next socket to visit is entry @offset of bucket @bucket of
 * table @table. For the per-netns tables @net is the owning netns, pinned
 * by the cursor; otherwise NULL.
 */
struct sockleak_walk {
	enum sockleak_table table;
	struct net *net;
	unsigned int bucket;
	unsigned int offset;
};

/* One socket handed out by the walk, referenced, no lock held. */
struct sockleak_ref {
	struct sock *sk;
	struct net *net;	/* sock_net(sk) pinned, or NULL: netns dying */
	unsigned int netns_ino;	/* sock_net(sk)->ns.inum, read under lock */
	u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
};

/*
 * Extra socket sources, after the hash tables: live sockets no hash table
 * holds (the lifecycle registry; later also an fd-table scan). batch()
 * takes references on up to @max sockets from cursor *@pos (0 at the
 * start), advances it and returns how many it took, 0 at its end; the
 * sockets are released with sockleak_walk_put(). A source must not hand
 * out a socket that a hash table holds.
 */
struct sockleak_source {
	const char *name;
	int (*batch)(unsigned long *pos, struct sockleak_ref *refs, int max);
};

/* Cursor over every source in turn. */
struct sockleak_src_cursor {
	unsigned int idx;	/* index in sockleak_sources[] */
	unsigned long pos;	/* the source's own cursor */
};

extern const struct sockleak_source sockleak_registry_source;

int sockleak_sources_batch(struct sockleak_src_cursor *c,
			   struct sockleak_ref *refs, int max);

void sockleak_walk_init(struct sockleak_walk *w);
void sockleak_walk_release(struct sockleak_walk *w);
int sockleak_walk_batch(struct sockleak_walk *w, struct sockleak_ref *refs,
			int max);
void sockleak_walk_put(struct sockleak_ref *refs, int n);

#endif /* _SOCKLEAK_WALK_H */
