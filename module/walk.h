/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - resumable walk over every TCP, UDP, UDP-Lite and MPTCP socket
 * (IPv4 and IPv6) of every network namespace. See the locking rules in
 * walk.c.
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
 * per-netns UDP table (udp_child_hash_entries, 6.2 and later), then the
 * UDP-style table of each followed protocol that has one of its own
 * (its row's udp_table: UDP-Lite's, one for all netns, none from 7.x
 * on), then, netns by netns, the sockets of each followed protocol that
 * are in none of these tables (its row's walk_next: MPTCP's token hash,
 * which holds the connected MPTCP sockets of every netns).
 */
enum sockleak_table {
	SOCKLEAK_TBL_TCP_LISTEN,
	SOCKLEAK_TBL_TCP_EHASH,
	SOCKLEAK_TBL_TCP_EHASH_NETNS,
	SOCKLEAK_TBL_UDP,
	SOCKLEAK_TBL_UDP_NETNS,
	SOCKLEAK_TBL_ROW_UDP,		/* row @row's udp_table */
	SOCKLEAK_TBL_ROW_NETNS,		/* row @row's walk_next in @net */
	SOCKLEAK_TBL_DONE,
};

/*
 * Cursor: the next socket to visit is entry @offset of bucket @bucket of
 * table @table. For the per-netns tables @net is the owning netns, pinned
 * by the cursor; otherwise NULL. @row is the followed protocol (its row
 * in proto.c) whose table or iterator is walked; for an iterator,
 * @bucket and @offset are its position (MPTCP's: in the token hash).
 * Inside a long chain (a batch stopped
 * mid-bucket) @anchor is the last socket taken there, referenced, entry
 * @anchor_idx: the walk resumes right after it instead of counting
 * @offset entries from the head again (see walk.c).
 */
struct sockleak_walk {
	enum sockleak_table table;
	struct net *net;
	unsigned int row;
	unsigned int bucket;
	unsigned int offset;
	struct sock *anchor;
	unsigned int anchor_idx;
};

/* One socket handed out by the walk, referenced, no lock held. */
struct sockleak_ref {
	struct sock *sk;
	struct net *net;	/* sock_net(sk) pinned, or NULL: netns dying */
	unsigned int netns_ino;	/* sock_net(sk)->ns.inum, read under lock */
	u16 proto;		/* IPPROTO_TCP, _UDP, _UDPLITE, _MPTCP */
};

bool sockleak_walk_grab(struct sock *sk, struct sockleak_ref *r, u16 proto);
void sockleak_sk_settle(struct sock *sk);
void sockleak_walk_init(struct sockleak_walk *w);
void sockleak_walk_release(struct sockleak_walk *w);
void sockleak_walk_park(struct sockleak_walk *w);
int sockleak_walk_batch(struct sockleak_walk *w, struct sockleak_ref *refs,
			int max);
void sockleak_walk_put(struct sockleak_ref *refs, int n);

#endif /* _SOCKLEAK_WALK_H */
