// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - resumable walk over every inet socket.
 *
 * Sockets visited: TCP listeners (lhash2), TCP established hash entries
 * (full sockets, TIME_WAIT and request sockets), UDP sockets of the
 * primary UDP hash and those of a followed protocol's own UDP-style hash
 * (UDP-Lite's), IPv4 and IPv6, of every network namespace; then, netns
 * by netns, the sockets of the followed protocols that are in none of
 * these tables (the connected MPTCP sockets, mptcp.c). The followed
 * protocols are proto.c's rows.
 *
 * Distinct tables: TCP's lhash2 is shared by all netns, also by those
 * with a private ehash (inet_pernet_hashinfo_alloc() copies the lhash2
 * pointer), so it is walked once. The global ehash
 * (init_net.ipv4.tcp_death_row.hashinfo) holds the sockets of every netns
 * without a private one and is walked once; each private ehash
 * (tcp_child_ehash_entries) is walked once, while its netns is pinned. UDP
 * is handled the same way with the global table (init_net's, see
 * sockleak_net_udp_table()) and net->ipv4.udp_table. A shared table holds
 * sockets of many netns: each socket is attributed to sock_net(sk), never
 * to the netns whose pointer led to the table.
 *
 * Locking rules:
 *
 * - net_namespace_list is read under down_read(&net_rwsem), only to find
 *   the next netns with a private table. That netns is pinned with
 *   maybe_get_net() (a dying netns is skipped) before net_rwsem is
 *   dropped, and released with put_net() when the walk moves past it or
 *   ends. A pinned netns stays on net_namespace_list (cleanup_net() only
 *   unlinks it after its last reference), so the walk can continue from
 *   it, and its private tables are not freed.
 *
 * - A bucket is scanned under its lock, as inet_diag_dump_icsk() and
 *   udp_dump() do: spin_lock_bh() of the ehash lock, of the lhash2 bucket
 *   lock and of the UDP hslot lock. With the lock held the walk only takes
 *   references: sockleak_hold_get() (holds.c: refcount_inc_not_zero()
 *   and the count of sockleak's references under the innermost lock; a
 *   socket whose count already dropped to zero is being freed and is
 *   skipped) and
 *   maybe_get_net(sock_net(sk)), at most SOCKLEAK_BATCH sockets at a time.
 *   It never sleeps, allocates, copies to user space or takes a socket
 *   lock while a bucket lock is held.
 *
 * - Callers read the sockets after the lock is dropped, with only those
 *   references held: fields are read racily with READ_ONCE() or the
 *   kernel's lockless helpers. sockleak_walk_put() releases the sockets
 *   with sock_gen_put(), which handles full, TIME_WAIT and request
 *   sockets, then their netns. cond_resched() runs between buckets.
 *
 * - The cursor (table, pinned netns, bucket, offset within the bucket)
 *   names the next entry to visit, so a walk can stop after any batch and
 *   go on later, e.g. in the next read() of a seq_file. A socket added or
 *   removed in a bucket in between may shift the offset by one: like
 *   inet_diag, the walk is exact only on a quiescent system.
 *
 * - Long chains: counting the offset from the head again for every batch
 *   would make a chain of n sockets cost n * n / SOCKLEAK_BATCH visits
 *   (50k connected UDP sockets of one port share one slot). So when a
 *   batch stops inside an ehash or UDP bucket, the cursor keeps one extra
 *   reference on the last socket taken there (the anchor) and the next
 *   batch goes on from the anchor's successor, if the anchor is still an
 *   entry of that bucket: hashed, and its hash selects the bucket, checked
 *   under the bucket lock, which keeps it there. Otherwise, or once the
 *   cursor is parked (sockleak_walk_park(): a seq_file reader between two
 *   read() calls, where nothing but a netns may stay pinned), the offset
 *   is counted again from the head, at most WALK_SKIP_MAX entries per lock
 *   section: then an entry already given becomes the anchor, the lock is
 *   dropped and the walk resumes after it. The chains are RCU lists (ehash: nulls lists of
 *   SLAB_TYPESAFE_BY_RCU sockets; UDP: SOCK_RCU_FREE sockets) and the walk
 *   holds rcu_read_lock(), so a racing rehash can only cost accuracy, like
 *   the offset, never safety. lhash2 buckets (one per listening address
 *   and port) always use the offset.
 *
 * - A followed protocol's sockets in no table come from its row's
 *   walk_next (proto.c), which must take no lock the walk can see and
 *   return the next socket of one netns, referenced: MPTCP's
 *   mptcp_token_iter_next() (mptcp.c) walks MPTCP's token hash under RCU.
 *   Each netns costs a pass over the whole token hash (as for ss -M),
 *   empty buckets included.
 *
 * - sockleak_sk_settle() takes and drops a socket's spinlock, in process
 *   context with no spinlock held, for the sockets that sources other
 *   than the walk find (sources.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/rtnetlink.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <net/inet_hashtables.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/udp.h>

#include "compat.h"
#include "holds.h"
#include "proto.h"
#include "walk.h"

/* The global TCP hashinfo: init_net never has a private ehash. */
static struct inet_hashinfo *walk_tcp_global(void)
{
	return init_net.ipv4.tcp_death_row.hashinfo;
}

/* The global UDP table: init_net never has a private one either. */
static struct udp_table *walk_udp_global(void)
{
	return sockleak_net_udp_table(&init_net);
}

/* Which netns walk_next_net() looks for. */
enum walk_nets { WALK_NET_OWN_TCP, WALK_NET_OWN_UDP, WALK_NET_ANY };

static bool walk_net_wanted(struct net *net, enum walk_nets which)
{
	switch (which) {
	case WALK_NET_OWN_TCP:
		return net->ipv4.tcp_death_row.hashinfo != walk_tcp_global();
	case WALK_NET_OWN_UDP:
		return sockleak_net_udp_table(net) != walk_udp_global();
	default:
		return true;
	}
}

/*
 * Pin the netns after @prev (or the first one when @prev is NULL) that has
 * a private TCP or UDP table, or any netns (@which), and release @prev.
 * Returns NULL at the end of the list.
 */
static struct net *walk_next_net(struct net *prev, enum walk_nets which)
{
	struct net *net, *found = NULL;

	down_read(&net_rwsem);
	net = prev ?: list_entry(&net_namespace_list, struct net, list);
	list_for_each_entry_continue(net, &net_namespace_list, list) {
		if (!walk_net_wanted(net, which))
			continue;
		found = maybe_get_net(net);
		if (found)
			break;
	}
	up_read(&net_rwsem);

	if (prev)
		put_net(prev);
	return found;
}

/* A row's own UDP-style table, NULL when it has none (on this kernel). */
static struct udp_table *walk_row_udp_table(unsigned int row)
{
	const struct sockleak_proto_ops *ops = sockleak_proto_row(row);

	return ops && ops->udp_table ? ops->udp_table() : NULL;
}

/* The first row from @row on with a UDP-style table of its own. */
static unsigned int walk_row_udp(unsigned int row)
{
	while (row < SOCKLEAK_NPROTOS && !walk_row_udp_table(row))
		row++;
	return row;
}

/* The first row from @row on with an iterator (walk_next). */
static unsigned int walk_row_iter(unsigned int row)
{
	const struct sockleak_proto_ops *ops;

	while ((ops = sockleak_proto_row(row)) && !ops->walk_next)
		row++;
	return row;
}

/*
 * The first iterator of the netns after the cursor's (of the first one
 * when the cursor has none), or the end of the walk.
 */
static void walk_next_net_iter(struct sockleak_walk *w)
{
	w->row = walk_row_iter(0);
	if (w->row >= SOCKLEAK_NPROTOS) {
		if (w->net)
			put_net(w->net);
		w->net = NULL;
		w->table = SOCKLEAK_TBL_DONE;
		return;
	}
	w->net = walk_next_net(w->net, WALK_NET_ANY);
	w->table = w->net ? SOCKLEAK_TBL_ROW_NETNS : SOCKLEAK_TBL_DONE;
}

static void walk_next_table(struct sockleak_walk *w)
{
	w->bucket = 0;
	w->offset = 0;

	switch (w->table) {
	case SOCKLEAK_TBL_TCP_LISTEN:
		w->table = SOCKLEAK_TBL_TCP_EHASH;
		return;
	case SOCKLEAK_TBL_TCP_EHASH:
	case SOCKLEAK_TBL_TCP_EHASH_NETNS:
		w->net = walk_next_net(w->net, WALK_NET_OWN_TCP);
		if (w->net) {
			w->table = SOCKLEAK_TBL_TCP_EHASH_NETNS;
			return;
		}
		w->table = SOCKLEAK_TBL_UDP;
		return;
	case SOCKLEAK_TBL_UDP:
	case SOCKLEAK_TBL_UDP_NETNS:
		w->net = walk_next_net(w->net, WALK_NET_OWN_UDP);
		if (w->net) {
			w->table = SOCKLEAK_TBL_UDP_NETNS;
			return;
		}
		w->row = walk_row_udp(0);
		break;
	case SOCKLEAK_TBL_ROW_UDP:
		w->row = walk_row_udp(w->row + 1);
		break;
	case SOCKLEAK_TBL_ROW_NETNS:
		w->row = walk_row_iter(w->row + 1);
		if (w->row >= SOCKLEAK_NPROTOS)
			walk_next_net_iter(w);
		return;
	case SOCKLEAK_TBL_DONE:
		return;
	}
	/* After UDP's tables: the rows' own, then their iterators. */
	if (w->row < SOCKLEAK_NPROTOS) {
		w->table = SOCKLEAK_TBL_ROW_UDP;
		return;
	}
	walk_next_net_iter(w);
}

static struct inet_hashinfo *walk_hashinfo(const struct sockleak_walk *w)
{
	if (w->table == SOCKLEAK_TBL_TCP_EHASH_NETNS)
		return w->net->ipv4.tcp_death_row.hashinfo;
	return walk_tcp_global();
}

static struct udp_table *walk_udp_table(const struct sockleak_walk *w)
{
	if (w->table == SOCKLEAK_TBL_UDP_NETNS)
		return sockleak_net_udp_table(w->net);
	if (w->table == SOCKLEAK_TBL_ROW_UDP)
		return walk_row_udp_table(w->row);
	return walk_udp_global();
}

static unsigned int walk_nbuckets(const struct sockleak_walk *w)
{
	switch (w->table) {
	case SOCKLEAK_TBL_TCP_LISTEN:
		return walk_hashinfo(w)->lhash2_mask + 1;
	case SOCKLEAK_TBL_TCP_EHASH:
	case SOCKLEAK_TBL_TCP_EHASH_NETNS:
		return walk_hashinfo(w)->ehash_mask + 1;
	case SOCKLEAK_TBL_UDP:
	case SOCKLEAK_TBL_UDP_NETNS:
	case SOCKLEAK_TBL_ROW_UDP:
		return walk_udp_table(w)->mask + 1;
	case SOCKLEAK_TBL_ROW_NETNS:	/* walk_row_iter() knows the end */
	case SOCKLEAK_TBL_DONE:
		break;
	}
	return 0;
}

/* Fill r for a socket already referenced, and pin its netns. */
static void walk_ref_set(struct sock *sk, struct sockleak_ref *r, u16 proto)
{
	struct net *net = sock_net(sk);

	r->sk = sk;
	r->netns_ino = net->ns.inum;
	r->net = maybe_get_net(net);
	r->proto = proto;
}

/*
 * Reference sk and its netns into r; false when sk is being freed. Takes
 * references only, so it may run under a bucket (or fd table) lock.
 */
bool sockleak_walk_grab(struct sock *sk, struct sockleak_ref *r, u16 proto)
{
	if (!sockleak_hold_get(sk))
		return false;
	walk_ref_set(sk, r, proto);
	return true;
}

/*
 * The sockets of the cursor's row (its walk_next) in the cursor's netns,
 * from the cursor's position on: up to @max - @n more, referenced by the
 * iterator. Moves on at the end.
 */
static int walk_row_netns(struct sockleak_walk *w, struct sockleak_ref *refs,
			  int n, int max)
{
	const struct sockleak_proto_ops *ops = sockleak_proto_row(w->row);
	long slot = w->bucket, num = w->offset;
	struct sock *sk;

	while (n < max) {
		sk = ops->walk_next(w->net, &slot, &num);
		if (!sk) {
			walk_next_table(w);
			return n;
		}
		/* Referenced by the iterator: counted as sockleak's. */
		sockleak_hold_note(sk);
		walk_ref_set(sk, &refs[n++], ops->number);
	}
	w->bucket = slot;
	w->offset = num;
	return n;
}

/* Forget the anchor: the cursor goes on by its offset. */
static void walk_drop_anchor(struct sockleak_walk *w)
{
	if (w->anchor)
		sockleak_hold_put(w->anchor);
	w->anchor = NULL;
}

/*
 * Is the anchor still an entry of bucket @b of the table being walked?
 * Called under that bucket's lock (locking rules at the top).
 */
static bool walk_anchor_in(const struct sockleak_walk *w, unsigned int b)
{
	const struct sock *a = w->anchor;

	if (!a || sk_unhashed(a))
		return false;
	/* Pairs with the stores of a (re)hash: pprev set, then the hash. */
	smp_rmb();
	switch (w->table) {
	case SOCKLEAK_TBL_TCP_EHASH:
	case SOCKLEAK_TBL_TCP_EHASH_NETNS:
		return (READ_ONCE(a->sk_hash) & walk_hashinfo(w)->ehash_mask) == b;
	case SOCKLEAK_TBL_UDP:
	case SOCKLEAK_TBL_UDP_NETNS:
	case SOCKLEAK_TBL_ROW_UDP:
		return udp_hashfn(sock_net(a), READ_ONCE(udp_sk(a)->udp_port_hash),
				  walk_udp_table(w)->mask) == b;
	default:
		return false;
	}
}

/* Most entries one bucket lock section skips (resuming by the offset). */
#define WALK_SKIP_MAX	256

/* What one lock section over a bucket has done so far. */
struct walk_section {
	struct sockleak_ref *refs;
	int n, max;
	u16 proto;
	bool anchored;		/* an anchor may be kept in this table */
	unsigned int skipped;	/* entries skipped in this section */
	struct sock *last;	/* last socket taken or passed, referenced */
	unsigned int last_idx;
};

enum walk_step { WALK_GO_ON, WALK_STOP };

/*
 * Visit entry @idx of the bucket (under its lock): take it when the
 * cursor has not passed it yet; stop when the batch is full, or when this
 * section has skipped WALK_SKIP_MAX entries already given (then an entry
 * is referenced as the anchor to resume from).
 */
static enum walk_step walk_visit(const struct sockleak_walk *w,
				 struct walk_section *ws, struct sock *sk,
				 unsigned int idx)
{
	if (idx < w->offset) {
		if (!ws->anchored || ++ws->skipped < WALK_SKIP_MAX ||
		    !sockleak_hold_get(sk))
			return WALK_GO_ON;
		ws->last = sk;		/* resume after it: already given */
		ws->last_idx = idx;
		return WALK_STOP;
	}
	if (ws->n == ws->max)
		return WALK_STOP;
	if (sockleak_walk_grab(sk, &ws->refs[ws->n], ws->proto)) {
		ws->last = sk;
		ws->last_idx = idx;
		ws->n++;
	}
	return WALK_GO_ON;
}

/*
 * Walk one bucket from the anchor's successor or from w->offset, taking
 * references on up to @max - @n more sockets. Advances the cursor and
 * returns the new count.
 */
static int walk_bucket(struct sockleak_walk *w, struct sockleak_ref *refs,
		       int n, int max)
{
	struct walk_section ws = { .refs = refs, .n = n, .max = max };
	unsigned int idx = 0, b = w->bucket;
	struct sock *sk, *from = NULL;
	struct hlist_nulls_head *nhead;
	struct hlist_nulls_node *node;
	struct udp_hslot *hslot = NULL;
	bool stopped = false;
	spinlock_t *lock;

	switch (w->table) {
	case SOCKLEAK_TBL_TCP_LISTEN: {
		struct inet_listen_hashbucket *ilb = &walk_hashinfo(w)->lhash2[b];

		nhead = &ilb->nulls_head;
		lock = &ilb->lock;
		ws.proto = IPPROTO_TCP;
		break;
	}
	case SOCKLEAK_TBL_TCP_EHASH:
	case SOCKLEAK_TBL_TCP_EHASH_NETNS: {
		struct inet_hashinfo *h = walk_hashinfo(w);

		nhead = &h->ehash[b].chain;
		lock = inet_ehash_lockp(h, b);
		ws.proto = IPPROTO_TCP;
		ws.anchored = true;
		break;
	}
	case SOCKLEAK_TBL_UDP:
	case SOCKLEAK_TBL_UDP_NETNS:
	case SOCKLEAK_TBL_ROW_UDP:
		hslot = &walk_udp_table(w)->hash[b];
		nhead = NULL;
		lock = &hslot->lock;
		ws.proto = w->table == SOCKLEAK_TBL_ROW_UDP ?
			   sockleak_proto_row(w->row)->number : IPPROTO_UDP;
		ws.anchored = true;
		break;
	default:
		return n;
	}

	if (nhead ? hlist_nulls_empty(nhead) : hlist_empty(&hslot->head))
		goto next_bucket;

	rcu_read_lock();
	spin_lock_bh(lock);
	if (walk_anchor_in(w, b)) {
		from = w->anchor;
		idx = w->anchor_idx;
	}
	if (nhead) {
		if (from)
			sk = from;
		else
			sk = hlist_nulls_empty(nhead) ? NULL :
			     hlist_nulls_entry(nhead->first, struct sock,
					       sk_nulls_node);
		sk_nulls_for_each_from(sk, node) {
			if (sk != from && walk_visit(w, &ws, sk, idx) == WALK_STOP) {
				stopped = true;
				break;
			}
			idx++;
		}
	} else {
		sk = from ?: sk_head(&hslot->head);
		sk_for_each_from(sk) {
			if (sk != from && walk_visit(w, &ws, sk, idx) == WALK_STOP) {
				stopped = true;
				break;
			}
			idx++;
		}
	}
	spin_unlock_bh(lock);
	rcu_read_unlock();

	if (stopped) {
		/* A skip section's anchor is referenced already. */
		bool skip = ws.last && ws.last_idx < w->offset;

		w->offset = max(w->offset, idx);
		if (ws.last && ws.anchored) {
			/* A taken socket: the batch holds it, add the anchor's. */
			if (!skip)
				sockleak_hold(ws.last);
			walk_drop_anchor(w);
			w->anchor = ws.last;
			w->anchor_idx = ws.last_idx;
		}
		return ws.n;
	}
next_bucket:
	walk_drop_anchor(w);
	w->bucket++;
	w->offset = 0;
	return ws.n;
}

void sockleak_walk_init(struct sockleak_walk *w)
{
	w->table = SOCKLEAK_TBL_TCP_LISTEN;
	w->net = NULL;
	w->row = 0;
	w->bucket = 0;
	w->offset = 0;
	w->anchor = NULL;
	w->anchor_idx = 0;
}

/*
 * The caller pauses (e.g. between two read() calls): drop the anchor, so
 * that no socket stays referenced; the walk then resumes by its offset.
 */
void sockleak_walk_park(struct sockleak_walk *w)
{
	walk_drop_anchor(w);
}

void sockleak_walk_release(struct sockleak_walk *w)
{
	walk_drop_anchor(w);
	if (w->net)
		put_net(w->net);
	w->net = NULL;
	w->table = SOCKLEAK_TBL_DONE;
}

/*
 * Take references on the next sockets, at most @max (<= SOCKLEAK_BATCH),
 * and advance the cursor past them. Returns 0 only at the end of the walk.
 * Process context; may sleep. The caller releases the batch with
 * sockleak_walk_put().
 */
int sockleak_walk_batch(struct sockleak_walk *w, struct sockleak_ref *refs,
			int max)
{
	unsigned int buckets = 0;
	int n = 0;

	while (n < max && w->table != SOCKLEAK_TBL_DONE) {
		if (w->table == SOCKLEAK_TBL_ROW_NETNS) {
			n = walk_row_netns(w, refs, n, max);
			cond_resched();
			continue;
		}
		if (w->bucket >= walk_nbuckets(w)) {
			walk_next_table(w);
			continue;
		}
		n = walk_bucket(w, refs, n, max);
		/* Every 256 buckets, and between sections of a long chain. */
		if (!(++buckets & 255) || w->anchor)
			cond_resched();
	}
	return n;
}

void sockleak_walk_put(struct sockleak_ref *refs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		sockleak_hold_put(refs[i].sk);
		if (refs[i].net)
			put_net(refs[i].net);
		refs[i].sk = NULL;
		refs[i].net = NULL;
	}
	cond_resched();
}

/*
 * Wait until a referenced socket is past its birth as a TCP child.
 * sk_clone_lock() makes the child as a copy of its listener, cookie
 * included, and returns it locked; the softirq that made it gives it its
 * own cookie (inet_csk_clone_lock()), hashes it and only then unlocks it
 * (bh_unlock_sock() in tcp_child_process() or tcp_conn_request()). A
 * source that finds the child unhashed (the track table sees it
 * from sk_clone_lock()'s return on) must not read it before: taking and
 * releasing its spinlock waits for that softirq. Process context, no
 * spinlock held.
 */
void sockleak_sk_settle(struct sock *sk)
{
	if (!sk_fullsock(sk))
		return;
	spin_lock_bh(&sk->sk_lock.slock);
	spin_unlock_bh(&sk->sk_lock.slock);
}
