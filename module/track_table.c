// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the track table: a bounded table of the sockets, of every
 * family, the track probes (track_probes.c) have seen, from allocation to
 * free.
 *
 * Layout: max_entries entries, and a store of TT_STACKS_OF(max_entries)
 * stack slots, are allocated at "track=on" and split evenly over
 * TT_STRIPES stripes. A socket belongs to
 * the stripe hash_ptr(sk) selects; each stripe has its own lock, hash
 * buckets and free list, so an event is O(1) and takes one stripe lock
 * (plus one stack stripe lock), never allocates and never sleeps. When a
 * stripe has no free entry the socket goes untracked and "overflow"
 * counts it. Stacks are deduplicated: equal stacks (by content, jhash) are
 * stored once in a stack slot with a count of the entries using it; the
 * store is sized for the distinct stacks, not for the sockets (a stack
 * that finds no free slot is dropped and counted as stack_overflow), so
 * an entry costs sizeof(struct tt_entry) and one bucket head or less.
 * A call site (two frames: the probed function and its caller, what the
 * default stacks=1 records for most events) is kept in the entry itself,
 * each address in 32 bits, in the 8 bytes that otherwise hold a stack
 * slot's id (struct tt_stackref): no hash, no stack lock, no count (make
 * profile: the store was a tenth of tracking's instructions for unix
 * socket pairs). So the store holds only full stacks, and is sized
 * smaller.
 *
 * Why not stackdepot (lib/stackdepot.c, what kmemleak and ref_tracker
 * use), measured with a bench-only build whose get/put/copy were
 * stack_depot_save_flags(GFP_NOWAIT, CAN_ALLOC | GET), stack_depot_put()
 * and stack_depot_fetch():
 * - speed: the same. make bench churn on 7.3 (instruction clock,
 *   medians of 3): 19982 connections per run against this store's
 *   20087 at depth 8 (-0.5%), 19299 against 19471 at depth 16 (-0.9%).
 * - memory: a refcounted (putable) record always holds
 *   CONFIG_STACKDEPOT_MAX_FRAMES (64 on Debian) frames, 544 bytes, where
 *   a slot here is 160; its 16 KiB pools are never given back, are not
 *   bounded by max_entries nor counted in table_bytes, and are shared
 *   with every other user of the depot.
 * - 6.1 has neither stack_depot_put() nor stack_depot_save_flags(): its
 *   records would never be freed, so 6.1 would need this store anyway.
 * - PREEMPT_RT: no splat with pool allocations from the probes
 *   (tracker_test, 14 tests, on 6.12-rt and on the lockdep 7.3-rt debug
 *   kernel, whose KASAN also fills the pools), so not a reason.
 * This store is bounded, freed at "track=off", counted in table_bytes,
 * and a handle is the same 4 bytes.
 *
 * The socket address is the key of the table. It is never printed: every
 * report names sockets by their cookie.
 *
 * Times are jiffies (get_jiffies_64(): one load), not ktime_get_ns() (make
 * profile, 7.3: 35 instructions a read, four reads a unix socket pair,
 * six a TCP connection): an event's time is known to the tick (1000/HZ
 * ms), and a reader turns it into a ktime_get_ns() time with its own
 * clock pair (struct tt_clock). What tells one allocation at an address
 * from the next one there is the stripe's allocation count (tt_entry.gen),
 * not a time: two sockets may have the same address within one tick.
 *
 * Locking rules:
 *
 * - stripe->lock protects the stripe's entries, buckets and free list.
 *   It is taken with interrupts disabled: raw_spin_lock_irqsave(), or in
 *   the probes tt_lock(), the same with the flag saved inline (probes run
 *   in process, softirq and RCU callback context). stripe->stack_lock
 *   protects the stack slots hashed to that stripe. Order: an entry lock
 *   may be held when a stack lock is taken, never the reverse. Both are
 *   raw spinlocks: the probes run with preemption disabled (tracepoints,
 *   kprobes), where PREEMPT_RT's sleeping spinlock_t must not be taken;
 *   so every section under them is short and bounded (O(1) events, at
 *   most TT_SCAN_BATCH entries).
 *
 * - One write is made without the lock: the close of a socket no protocol
 *   hook follows (sockleak_track_release(), proto 0), its only event
 *   between allocation and free, finds its entry with tt_peek() and sets
 *   the close fields, close_j last (smp_store_release()). Readers load
 *   close_j with smp_load_acquire() or READ_ONCE() and read the other
 *   close fields only when it is set. Nothing else writes a proto 0
 *   entry's close fields or steps while it lives: the kernel releases a
 *   struct socket once (sock_close() or sock_release()), and no other
 *   hook records an event for proto 0 (the locked close, tt_event(),
 *   only when the unlocked one did not write). tt_del() reads them after
 *   the free. Entries are linked set up, with marked stores (tt_link()),
 *   their socket written with WRITE_ONCE(), for tt_peek(); entries are
 *   never freed while a probe runs. close_j's release/acquire needs a
 *   64-bit kernel, as the table's times do (static_assert below).
 *
 * - A stripe's counts of entries and unknown-origin entries are written
 *   under stripe->lock, its count of stacks under stripe->stack_lock,
 *   with WRITE_ONCE(), and read without the locks by
 *   sockleak_track_stats(): no counter shared by every CPU is written per
 *   event (overflows, rare, are global atomics).
 *
 * - An entry's socket is alive while the entry exists: the free probe
 *   (the hook on __sk_destruct(), before the socket's destructor runs and
 *   its memory is released; it stays until the table is withdrawn)
 *   removes the entry under the stripe lock. So
 *   under the stripe lock a reader may read the socket's fields and take
 *   a reference with refcount_inc_not_zero(); a count of zero means the
 *   socket is being freed and it is skipped. Nothing else is done under
 *   the lock: the caller reads the socket after unlocking, with its
 *   reference held, and drops it with sockleak_walk_put(). A search for
 *   one socket (sockleak_track_find()) reads its fields and cookie under
 *   the lock instead, and takes no reference.
 *
 * - sockleak_track_table_start() allocates the table and publishes it with
 *   smp_store_release() before the probes are registered; every user
 *   loads it with smp_load_acquire() (tt_table_get()). sockleak_track_table_stop() and
 *   a failed start unpublish it (tt_unpublish()): NULL, then wait for the
 *   readers (process context, in SRCU read sections: synchronize_srcu()),
 *   then synchronize_rcu()
 *   for the probe handlers (they run with preemption disabled or under
 *   RCU; stopping the probes already waited for them), then free. Both
 *   run under the control mutex.
 *
 * - No lock section scans more than TT_SCAN_BATCH entries: readers drop
 *   the stripe lock (interrupts back on) and resume at the next entry.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/srcu.h>
#include <net/sock.h>

#include "holds.h"
#include "proto.h"
#include "sockleak.h"
#include "track.h"
#include "walk.h"

/* Event times (jiffies64) and close_j's release/acquire: 64-bit only. */
static_assert(sizeof(long) == sizeof(u64));

#define TT_STRIPES	64
/* Stack slots for @n entries: distinct full stacks are few (make bench). */
#define TT_STACKS_MAX	8192
#define TT_STACKS_OF(n)	clamp_t(unsigned int, (n) / 4, TT_STRIPES * 16, \
				TT_STACKS_MAX)
/* Most entries a reader scans per stripe lock section. */
#define TT_SCAN_BATCH	256

/*
 * A stack of an entry: none (w[0] == 0), a stack slot's id (slot + 1,
 * below 2^31) in w[0], or a call site: at most two addresses of kernel
 * text, each as its low 32 bits, whose top bit is set (sign-extended
 * back: tt_ref_site()).
 */
struct tt_stackref {
	u32 w[2];
};

#define TT_REF_SITE	0x80000000U

struct tt_entry {
	struct hlist_node node;		/* bucket chain or free list */
	struct sock *sk;		/* key; NULL: free. Never printed */
	/* get_jiffies_64(), 0: not seen; close_j: see the locking rules */
	u64 alloc_j, close_j, unhash_j;
	pid_t alloc_pid, close_pid;
	struct tt_stackref alloc_stack, close_stack;
	char alloc_comm[TASK_COMM_LEN];
	char close_comm[TASK_COMM_LEN];
	u16 proto;			/* sockleak_inet_proto(), 0: other */
	u8 steps;
	u8 origin:6, cleared:1;
	u32 gen;			/* the stripe's count at allocation */
};

struct tt_stack {
	struct hlist_node node;		/* bucket chain or free list */
	u32 hash;
	u32 refs;			/* entries using it, 0: free */
	struct sockleak_stack st;
};

/* Its counts sit in the cache line a probe touches anyway (locking rules). */
struct tt_stripe {
	raw_spinlock_t lock;
	unsigned int entries;		/* in use, under lock */
	u32 gen;			/* entries taken, under lock */
	unsigned int unknown;		/* origin unknown, under lock */
	struct hlist_head *buckets;
	struct hlist_head free;
	raw_spinlock_t stack_lock;
	unsigned int stacks;		/* slots in use, under stack_lock */
	struct hlist_head *stack_buckets;
	struct hlist_head stack_free;
} ____cacheline_aligned_in_smp;

struct tt_table {
	struct tt_stripe stripes[TT_STRIPES];
	struct tt_entry *entries;
	struct tt_stack *stacks;
	struct hlist_head *heads;	/* all buckets, entries then stacks */
	unsigned int per_stripe;	/* entries per stripe */
	unsigned int bucket_mask;	/* buckets per stripe - 1 */
	unsigned int stacks_per_stripe;
	unsigned int stack_mask;	/* stack buckets per stripe - 1 */
	size_t bytes;			/* all of the above */
	size_t stack_bytes;		/* of which the stack store */
};

static struct tt_table *tt_published;
static atomic_long_t tt_overflow, tt_stack_overflow;
DEFINE_STATIC_SRCU(tt_srcu);

/* The published table, NULL while tracking is off (locking rules above). */
static struct tt_table *tt_table_get(void)
{
	/* Pairs with the smp_store_release()s of start and unpublish. */
	return smp_load_acquire(&tt_published);
}

static __always_inline struct tt_stripe *
tt_stripe_of(struct tt_table *tbl, const struct sock *sk, u32 *bucket)
{
	u32 h = hash_ptr(sk, 32);

	*bucket = (h / TT_STRIPES) & tbl->bucket_mask;
	return &tbl->stripes[h % TT_STRIPES];
}

static u32 tt_stack_get(struct tt_table *tbl, const struct sockleak_stack *st);

/* A call site of sockleak_site() (not 0) in @ref. */
static __always_inline void tt_ref_of_site(struct tt_stackref *ref, u64 site)
{
	ref->w[0] = (u32)site;
	ref->w[1] = site >> 32;
}

/*
 * A stack of at most two frames whose addresses fit sockleak_site(), as
 * a call site in @ref; false when it does not fit (the stack store keeps
 * it).
 */
static __always_inline bool tt_ref_site(struct tt_stackref *ref,
					const struct sockleak_stack *st)
{
	u64 site;

	if (!st || !st->depth || st->depth > 2)
		return false;
	site = sockleak_site(st->ent[0], st->depth == 2 ? st->ent[1] : 0);
	if (!site)
		return false;
	tt_ref_of_site(ref, site);
	return true;
}

/*
 * The stack reference of an event: @stack (a call site in the entry, or
 * the stack store's slot, whose use *id then holds), or else @site.
 */
static __always_inline struct tt_stackref
tt_ref_get(struct tt_table *tbl, const struct sockleak_stack *stack, u64 site,
	   u32 *id)
{
	struct tt_stackref ref = {};

	*id = 0;
	if (stack && stack->depth) {
		if (!tt_ref_site(&ref, stack))
			ref.w[0] = *id = tt_stack_get(tbl, stack);
	} else if (site) {
		tt_ref_of_site(&ref, site);
	}
	return ref;
}

/* The stack slot's id in @ref, 0 when it holds none or a call site. */
static u32 tt_ref_id(const struct tt_stackref *ref)
{
	return ref->w[0] & TT_REF_SITE ? 0 : ref->w[0];
}

/* Stack slot id (index + 1) holding @st, taking a use; 0 when full. */
static u32 tt_stack_get(struct tt_table *tbl, const struct sockleak_stack *st)
{
	struct tt_stripe *s;
	struct tt_stack *k;
	unsigned long flags;
	u32 h, id = 0;

	if (!st || !st->depth)
		return 0;
	h = jhash(st->ent, st->depth * sizeof(st->ent[0]), st->depth);
	s = &tbl->stripes[h % TT_STRIPES];
	raw_spin_lock_irqsave(&s->stack_lock, flags);
	hlist_for_each_entry(k, &s->stack_buckets[(h / TT_STRIPES) & tbl->stack_mask], node) {
		if (k->hash == h && k->st.depth == st->depth &&
		    !memcmp(k->st.ent, st->ent, st->depth * sizeof(st->ent[0]))) {
			k->refs++;
			id = k - tbl->stacks + 1;
			goto out;
		}
	}
	if (hlist_empty(&s->stack_free)) {
		atomic_long_inc(&tt_stack_overflow);
		goto out;
	}
	k = hlist_entry(s->stack_free.first, struct tt_stack, node);
	hlist_del(&k->node);
	k->hash = h;
	k->refs = 1;
	k->st.depth = st->depth;
	memcpy(k->st.ent, st->ent, st->depth * sizeof(st->ent[0]));
	hlist_add_head(&k->node,
		       &s->stack_buckets[(h / TT_STRIPES) & tbl->stack_mask]);
	WRITE_ONCE(s->stacks, s->stacks + 1);
	id = k - tbl->stacks + 1;
out:
	raw_spin_unlock_irqrestore(&s->stack_lock, flags);
	return id;
}

static void tt_stack_put(struct tt_table *tbl, u32 id)
{
	struct tt_stack *k;
	struct tt_stripe *s;
	unsigned long flags;

	if (!id)
		return;
	k = &tbl->stacks[id - 1];
	s = &tbl->stripes[k->hash % TT_STRIPES];
	raw_spin_lock_irqsave(&s->stack_lock, flags);
	if (!--k->refs) {
		hlist_del(&k->node);
		hlist_add_head(&k->node, &s->stack_free);
		WRITE_ONCE(s->stacks, s->stacks - 1);
	}
	raw_spin_unlock_irqrestore(&s->stack_lock, flags);
}

static void tt_stack_copy(struct tt_table *tbl, const struct tt_stackref *ref,
			  struct sockleak_stack *out)
{
	u32 id = tt_ref_id(ref);
	struct tt_stack *k;
	struct tt_stripe *s;

	out->depth = 0;
	if (ref->w[0] & TT_REF_SITE) {
		for (; out->depth < 2 && ref->w[out->depth]; out->depth++)
			out->ent[out->depth] =
				(unsigned long)(long)(s32)ref->w[out->depth];
		return;
	}
	if (!id)
		return;
	k = &tbl->stacks[id - 1];
	s = &tbl->stripes[k->hash % TT_STRIPES];
	raw_spin_lock(&s->stack_lock);
	*out = k->st;
	raw_spin_unlock(&s->stack_lock);
}

/* Called with the stripe lock held. */
static __always_inline struct tt_entry *
tt_lookup(struct tt_table *tbl, struct tt_stripe *s, u32 bucket,
	  const struct sock *sk)
{
	struct tt_entry *e;

	lockdep_assert_held(&s->lock);
	hlist_for_each_entry(e, &s->buckets[bucket], node)
		if (e->sk == sk)
			return e;
	return NULL;
}

/* The current task, when the probe runs in task context. */
static __always_inline void tt_task(pid_t *pid, char *comm)
{
	if (in_task()) {
		*pid = task_tgid_nr(current);
		/*
		 * A plain copy (make profile: strscpy() was a tenth of
		 * tracking's instructions for unix pairs). A concurrent
		 * set_task_comm() may tear the name, never its end.
		 */
		memcpy(comm, current->comm, TASK_COMM_LEN);
		comm[TASK_COMM_LEN - 1] = '\0';
	} else {
		*pid = 0;
		comm[0] = '-';
		comm[1] = '\0';
	}
}

/*
 * hlist_add_head() for a bucket chain, which tt_peek() reads without the
 * lock: every pointer a reader may load is written with a marked store
 * (an entry taken from the free list may have a reader on it), and the
 * entry is published with release semantics, after its socket is set.
 */
static __always_inline void tt_link(struct hlist_node *n, struct hlist_head *h)
{
	struct hlist_node *first = h->first;

	WRITE_ONCE(n->next, first);
	WRITE_ONCE(n->pprev, &h->first);
	/* Pairs with tt_peek()'s dependent loads: the entry is set up first. */
	smp_store_release(&h->first, n);
	if (first)
		WRITE_ONCE(first->pprev, &n->next);
}

/*
 * Take a free entry for @sk, called with the stripe lock held. Every
 * field is set here, not by a memset() of the whole entry (make profile:
 * a loop over its 112 bytes at every allocation). The comms get their
 * NUL only: tt_fill() copies them whole, but they are only ever used as
 * C strings (seq_escape(), strscpy()), and the table's memory was zeroed
 * when it was allocated.
 */
static __always_inline struct tt_entry *tt_new(struct tt_stripe *s,
					       u32 bucket, struct sock *sk,
					       u16 proto, u8 origin)
{
	struct tt_entry *e;

	lockdep_assert_held(&s->lock);
	if (hlist_empty(&s->free)) {
		atomic_long_inc(&tt_overflow);
		return NULL;
	}
	e = hlist_entry(s->free.first, struct tt_entry, node);
	__hlist_del(&e->node);	/* re-added below: no poison */
	WRITE_ONCE(e->sk, sk);
	e->alloc_j = 0;
	e->close_j = 0;
	e->unhash_j = 0;
	e->gen = ++s->gen;
	e->alloc_pid = 0;
	e->close_pid = 0;
	e->alloc_stack = (struct tt_stackref){};
	e->close_stack = (struct tt_stackref){};
	e->alloc_comm[0] = '\0';
	e->close_comm[0] = '\0';
	e->proto = proto;
	e->steps = 0;
	e->origin = origin;
	e->cleared = 0;
	tt_link(&e->node, &s->buckets[bucket]);
	WRITE_ONCE(s->entries, s->entries + 1);
	if (origin == SOCKLEAK_ORIGIN_UNKNOWN)
		WRITE_ONCE(s->unknown, s->unknown + 1);
	return e;
}

/* Unlink @e (stripe lock held); returns its stack ids to put. */
static __always_inline void tt_del(struct tt_stripe *s, struct tt_entry *e,
				   u32 *ids)
{
	lockdep_assert_held(&s->lock);
	ids[0] = tt_ref_id(&e->alloc_stack);
	ids[1] = tt_ref_id(&e->close_stack);
	if (e->origin == SOCKLEAK_ORIGIN_UNKNOWN)
		WRITE_ONCE(s->unknown, s->unknown - 1);
	__hlist_del(&e->node);	/* re-added below: no poison */
	WRITE_ONCE(e->sk, NULL);
	hlist_add_head(&e->node, &s->free);
	WRITE_ONCE(s->entries, s->entries - 1);
}

/*
 * The probes' lock section of a stripe: raw_spin_lock_irqsave() with the
 * interrupt flag saved inline, around the out-of-line raw lock (make
 * profile, 7.3: the lock functions went from 27 instructions a section
 * to 14, but the inline flag code adds most of that to sockleak's own:
 * about 8 instructions a unix pair in all).
 */
static __always_inline unsigned long tt_lock(struct tt_stripe *s)
{
	unsigned long flags;

	local_irq_save(flags);
	raw_spin_lock(&s->lock);
	return flags;
}

static __always_inline void tt_unlock(struct tt_stripe *s,
				      unsigned long flags)
{
	raw_spin_unlock(&s->lock);
	local_irq_restore(flags);
}

/* The time of an event: never 0 on 64-bit, where jiffies starts at 2^32 - 300 * HZ. */
static __always_inline u64 tt_jiffies(void)
{
	return get_jiffies_64() ?: 1;
}

/*
 * The token of @e's allocation (never 0: 0 is "not tracked"), which
 * sockleak_track_grab_sk() compares: a later socket at the same address
 * has another.
 */
static u64 tt_token(const struct tt_entry *e)
{
	return BIT_ULL(32) | e->gen;
}

/* Returns tt_token() of the new entry, 0 when @sk is not tracked. */
u64 sockleak_track_alloc(struct sock *sk, u16 proto, u8 origin,
			 const struct sockleak_stack *stack, u64 site)
{
	struct tt_table *tbl = tt_table_get();
	u32 bucket, id, old[2] = { 0, 0 };
	struct tt_stackref ref;
	struct tt_stripe *s;
	struct tt_entry *e;
	unsigned long flags;
	u64 t = 0;

	if (!tbl)
		return 0;
	ref = tt_ref_get(tbl, stack, site, &id);
	s = tt_stripe_of(tbl, sk, &bucket);
	flags = tt_lock(s);
	/* A stale entry means a missed free: the address was reused. */
	e = tt_lookup(tbl, s, bucket, sk);
	if (e)
		tt_del(s, e, old);
	e = tt_new(s, bucket, sk, proto, origin);
	if (e) {
		e->alloc_j = tt_jiffies();
		e->alloc_stack = ref;
		tt_task(&e->alloc_pid, e->alloc_comm);
		id = 0;
		t = tt_token(e);
	}
	tt_unlock(s, flags);
	tt_stack_put(tbl, id);
	tt_stack_put(tbl, old[0]);
	tt_stack_put(tbl, old[1]);
	return t;
}

/*
 * Event @ev of @sk. An untracked socket enters the table (origin unknown:
 * allocated before tracking). Inline in both of its callers (make profile,
 * 6.12: the call was 13 instructions an event, six a TCP connection).
 */
static __always_inline void tt_event(struct tt_table *tbl, struct sock *sk,
				     u16 proto, enum sockleak_event ev,
				     const struct sockleak_stack *stack,
				     u64 site)
{
	u32 bucket, id, put = 0;
	struct tt_stackref ref;
	struct tt_stripe *s;
	struct tt_entry *e;
	unsigned long flags;

	ref = tt_ref_get(tbl, stack, site, &id);
	s = tt_stripe_of(tbl, sk, &bucket);
	flags = tt_lock(s);
	e = tt_lookup(tbl, s, bucket, sk);
	if (!e)
		e = tt_new(s, bucket, sk, proto, SOCKLEAK_ORIGIN_UNKNOWN);
	if (!e) {
		put = id;
		goto out;
	}
	switch (ev) {
	case SOCKLEAK_EV_CLOSE:
	case SOCKLEAK_EV_TCP_CLOSE:
		/* tcp_close() runs from the owner's close (inet_release()). */
		e->steps |= BIT(SOCKLEAK_STEP_CLOSE);
		if (ev == SOCKLEAK_EV_TCP_CLOSE)
			e->steps |= BIT(SOCKLEAK_STEP_TCP_CLOSE);
		if (!e->close_j) {
			e->close_j = tt_jiffies();
			tt_task(&e->close_pid, e->close_comm);
		}
		if (ref.w[0]) {
			put = tt_ref_id(&e->close_stack);
			e->close_stack = ref;
		}
		break;
	case SOCKLEAK_EV_UNHASH:
		e->steps |= BIT(SOCKLEAK_STEP_UNHASH);
		e->unhash_j = tt_jiffies();
		put = id;
		break;
	case SOCKLEAK_EV_DESTROY:
		/*
		 * inet_csk_destroy_sock() and __mptcp_destroy_sock() run the
		 * protocol's destroy, then sk_stream_kill_queues(), with
		 * nothing between them that can stop: one event for both.
		 * (sk_common_release() runs TCP's destroy alone, for a socket
		 * whose creation a cgroup program refused: freed at once.)
		 */
		e->steps |= BIT(SOCKLEAK_STEP_DESTROY) |
			    BIT(SOCKLEAK_STEP_KILL_QUEUES);
		put = id;
		break;
	}
out:
	tt_unlock(s, flags);
	tt_stack_put(tbl, put);
}

void sockleak_track_event(struct sock *sk, u16 proto, enum sockleak_event ev,
			  const struct sockleak_stack *stack)
{
	struct tt_table *tbl = tt_table_get();

	if (tbl)
		tt_event(tbl, sk, proto, ev, stack, 0);
}

/* sockleak_track_release()'s locked path: out of line, off its fast path. */
static noinline void tt_release_locked(struct tt_table *tbl, struct sock *sk,
				       const struct sockleak_stack *stack,
				       u64 site)
{
	tt_event(tbl, sk, 0, SOCKLEAK_EV_CLOSE, stack, site);
}

/* Most entries tt_peek() follows before the locked search takes over. */
#define TT_PEEK_MAX	8

/*
 * @sk's entry, searched for without the stripe lock, or NULL (then the
 * locked search decides). Only for a socket that is alive and has no
 * other event that can run meanwhile: the entry of a live socket stays
 * (only its free, or a new allocation at its address, deletes it), and
 * no other entry holds its address. The chain may change while it is
 * read: entries are linked set up (tt_link()), an entry
 * followed may go to the free list or to another chain, where the search
 * ends without it; at most TT_PEEK_MAX steps, whatever the moves.
 */
static __always_inline struct tt_entry *
tt_peek(struct tt_stripe *s, u32 bucket, const struct sock *sk)
{
	struct hlist_node *n = READ_ONCE(s->buckets[bucket].first);
	unsigned int i;

	for (i = 0; n && i < TT_PEEK_MAX; i++, n = READ_ONCE(n->next)) {
		struct tt_entry *e = hlist_entry(n, struct tt_entry, node);

		if (READ_ONCE(e->sk) == sk)
			return e;
	}
	return NULL;
}

/*
 * The close of a socket no protocol hook follows (proto 0: every family
 * but TCP, UDP, MPTCP, ...), from sock_close() or sock_release(): its
 * only event between allocation and free, and it runs once, with the
 * socket held by its struct socket. So its entry is written without the
 * stripe lock (make profile, 7.3: a lock section was about 25 of the 121
 * instructions of a unix socket's close): the close's task and call site,
 * then close_j with release semantics; a reader that loads close_j with
 * acquire semantics and finds it set reads the rest whole (tt_fill()).
 * An untracked socket, a full stack (the stack store's count) or an entry
 * already closed take the locked path (tt_release_locked()).
 */
void sockleak_track_release(struct sock *sk, const struct sockleak_stack *stack,
			    u64 site)
{
	struct tt_table *tbl = tt_table_get();
	struct tt_stackref ref = {};
	struct tt_stripe *s;
	struct tt_entry *e;
	u32 bucket;

	if (!tbl)
		return;
	if (stack && stack->depth)
		goto locked;	/* not a site by value: tp_stacked() */
	if (site)
		tt_ref_of_site(&ref, site);
	s = tt_stripe_of(tbl, sk, &bucket);
	e = tt_peek(s, bucket, sk);
	if (!e || READ_ONCE(e->close_j) || e->close_stack.w[0])
		goto locked;
	e->close_stack = ref;
	tt_task(&e->close_pid, e->close_comm);
	WRITE_ONCE(e->steps, e->steps | BIT(SOCKLEAK_STEP_CLOSE));
	/* Pairs with tt_fill()'s smp_load_acquire(): the fields above first. */
	smp_store_release(&e->close_j, tt_jiffies());
	return;
locked:
	tt_release_locked(tbl, sk, stack, site);
}

void sockleak_track_free(struct sock *sk)
{
	struct tt_table *tbl = tt_table_get();
	u32 bucket, ids[2] = { 0, 0 };
	struct tt_stripe *s;
	struct tt_entry *e;
	unsigned long flags;

	if (!tbl)
		return;
	s = tt_stripe_of(tbl, sk, &bucket);
	flags = tt_lock(s);
	e = tt_lookup(tbl, s, bucket, sk);
	if (e)
		tt_del(s, e, ids);
	tt_unlock(s, flags);
	tt_stack_put(tbl, ids[0]);
	tt_stack_put(tbl, ids[1]);
}

/* A reader's now, on both clocks: event times are turned into ktime_get_ns() ones. */
struct tt_clock {
	u64 ns, j;
};

static void tt_clock_now(struct tt_clock *c)
{
	unsigned long flags;

	/* Both at one moment: a preemption between would shift every age. */
	local_irq_save(flags);
	c->j = get_jiffies_64();
	c->ns = ktime_get_ns();
	local_irq_restore(flags);
}

/* Jiffies since @j (0 for an event after @c was read). */
static u64 tt_ticks_since(const struct tt_clock *c, u64 j)
{
	return time_after64(c->j, j) ? c->j - j : 0;
}

/*
 * Event time @j (0: not seen) as a ktime_get_ns() time, to the tick;
 * never after @c->ns, so an age computed from @c->ns or a later reading
 * is never negative.
 */
static u64 tt_ns(const struct tt_clock *c, u64 j)
{
	u64 ago;

	if (!j)
		return 0;
	ago = jiffies64_to_nsecs(tt_ticks_since(c, j));
	return ago < c->ns ? c->ns - ago : 1;
}

/*
 * At least @ms since @j: more whole ticks than @ms lasts, so that a tick
 * begun before the event never counts (grace_ms 0: at once).
 */
static bool tt_older(const struct tt_clock *c, u64 j, unsigned int ms)
{
	return !ms || tt_ticks_since(c, j) > msecs_to_jiffies(ms);
}

/* Reported by "tracked" (@s: @e's stripe, its lock held; socket alive). */
static bool tt_is_tracked(struct tt_stripe *s, const struct tt_entry *e,
			  const struct tt_clock *c)
{
	unsigned int grace = sockleak_tunable(grace_ms);
	u64 close_j;

	lockdep_assert_held(&s->lock);

	if (e->cleared)
		return false;
	close_j = READ_ONCE(e->close_j);	/* sockleak_track_release() */
	if (close_j)
		return tt_older(c, close_j, grace);
	/* Never closed by an owner, but unhashed and owner-less. */
	return e->unhash_j && sock_flag(e->sk, SOCK_DEAD) &&
	       sk_unhashed(e->sk) && tt_older(c, e->unhash_j, grace);
}

static bool tt_match(struct tt_stripe *s, const struct tt_entry *e,
		     enum sockleak_track_filter f, u64 cookie,
		     const struct tt_clock *c)
{
	switch (f) {
	case SOCKLEAK_TRACK_TRACKED:
		return tt_is_tracked(s, e, c);
	case SOCKLEAK_TRACK_UNHASHED:
		/* Another protocol's socket is in no table the walk reads. */
		return !e->proto || sk_unhashed(e->sk);
	case SOCKLEAK_TRACK_COOKIE:
		/* 0: no cookie yet, which names no socket. */
		return cookie && atomic64_read(&e->sk->sk_cookie) == cookie;
	}
	return false;
}

static void tt_fill(struct tt_table *tbl, const struct tt_entry *e,
		    struct sockleak_ref *ref, struct sockleak_entry_info *in,
		    const struct tt_clock *c)
{
	struct sock *sk = e->sk;
	struct net *net = sock_net(sk);
	u64 close_j;

	ref->sk = sk;
	ref->netns_ino = net->ns.inum;
	ref->net = maybe_get_net(net);
	ref->proto = e->proto;
	if (!in)
		return;
	/*
	 * The close fields only once close_j is seen set: a close without
	 * the stripe lock (sockleak_track_release()) writes them first.
	 */
	close_j = smp_load_acquire(&e->close_j);	/* pairs: release above */
	in->alloc_ns = tt_ns(c, e->alloc_j);
	in->close_ns = tt_ns(c, close_j);
	in->unhash_ns = tt_ns(c, e->unhash_j);
	in->alloc_pid = e->alloc_pid;
	memcpy(in->alloc_comm, e->alloc_comm, TASK_COMM_LEN);
	in->origin = e->origin;
	in->proto = e->proto;
	in->last_state = sockleak_proto_tcp_mem(e->proto) ?
			 READ_ONCE(sk->sk_state) : 0xff;
	in->steps = READ_ONCE(e->steps);
	in->cleared = e->cleared;
	in->dead = sock_flag(sk, SOCK_DEAD);
	in->hashed = !sk_unhashed(sk);
	tt_stack_copy(tbl, &e->alloc_stack, &in->alloc_stack);
	if (close_j) {
		in->close_pid = e->close_pid;
		memcpy(in->close_comm, e->close_comm, TASK_COMM_LEN);
		tt_stack_copy(tbl, &e->close_stack, &in->close_stack);
	} else {
		in->close_pid = 0;
		in->close_comm[0] = '\0';
		in->close_stack.depth = 0;
		in->steps &= ~BIT(SOCKLEAK_STEP_CLOSE);
	}
}

/* Where a scan of the entries from slot i stops its lock section. */
static unsigned long tt_batch_end(const struct tt_table *tbl, unsigned long i)
{
	return min((i / tbl->per_stripe + 1) * tbl->per_stripe, i + TT_SCAN_BATCH);
}

/*
 * Pin the table against sockleak_track_table_stop() (an SRCU read section, which
 * may sleep); NULL when tracking is off. Release with tt_reader_put(),
 * whatever was returned.
 */
static struct tt_table *tt_reader_get(int *idx)
{
	*idx = srcu_read_lock(&tt_srcu);
	return tt_table_get();
}

static void tt_reader_put(int idx)
{
	srcu_read_unlock(&tt_srcu, idx);
}

/*
 * Take references on up to @max track table sockets that pass @filter,
 * starting at pool slot *@pos, and advance *@pos past them. Returns the
 * number taken; 0 at the end (or when tracking is off). Process context.
 * @infos (may be NULL) receives what the track table knows of each. Release
 * the references with sockleak_walk_put(). It reschedules only while it
 * holds none: when the CPU is wanted with references taken, it returns
 * fewer than @max, so that no socket's last put waits for this reader to
 * run again.
 */
int sockleak_track_grab(unsigned long *pos, enum sockleak_track_filter filter,
		      u64 cookie, struct sockleak_ref *refs,
		      struct sockleak_entry_info *infos, int max)
{
	unsigned long total, i;
	struct tt_table *tbl;
	struct tt_clock c;
	int n = 0, idx;

	/* Holding nothing yet: the callers need not reschedule between calls. */
	cond_resched();
	tt_clock_now(&c);
	tbl = tt_reader_get(&idx);
	if (!tbl)
		goto out;
	total = (unsigned long)tbl->per_stripe * TT_STRIPES;
	i = *pos;
	while (i < total && n < max) {
		struct tt_stripe *s = &tbl->stripes[i / tbl->per_stripe];
		unsigned long end = tt_batch_end(tbl, i);
		unsigned long flags;

		raw_spin_lock_irqsave(&s->lock, flags);
		for (; i < end && n < max; i++) {
			struct tt_entry *e = &tbl->entries[i];

			if (!e->sk || !tt_match(s, e, filter, cookie, &c))
				continue;
			if (!sockleak_hold_get(e->sk))
				continue;
			tt_fill(tbl, e, &refs[n], infos ? &infos[n] : NULL, &c);
			n++;
		}
		raw_spin_unlock_irqrestore(&s->lock, flags);
		if (n && need_resched())
			break;
		cond_resched();
	}
	*pos = i;
out:
	tt_reader_put(idx);
	return n;
}

/*
 * The cookie of the first tracked socket that @match accepts, 0 for none
 * (or tracking off). @match runs under the entry's stripe lock, where the
 * socket's memory stays until its entry goes (see the locking rules): it
 * may read the socket's fields, nothing more. No reference is taken, so a
 * search delays no socket's teardown. Process context.
 */
u64 sockleak_track_find(bool (*match)(const struct sock *sk, const void *arg),
			const void *arg)
{
	unsigned long total, i = 0;
	struct tt_table *tbl;
	u64 found = 0;
	int idx;

	tbl = tt_reader_get(&idx);
	if (!tbl)
		goto out;
	total = (unsigned long)tbl->per_stripe * TT_STRIPES;
	while (i < total && !found) {
		struct tt_stripe *s = &tbl->stripes[i / tbl->per_stripe];
		unsigned long end = tt_batch_end(tbl, i);
		unsigned long flags;

		raw_spin_lock_irqsave(&s->lock, flags);
		for (; i < end && !found; i++) {
			struct sock *sk = tbl->entries[i].sk;

			if (sk && match(sk, arg))
				found = sockleak_sk_cookie(sk);
		}
		raw_spin_unlock_irqrestore(&s->lock, flags);
		cond_resched();
	}
out:
	tt_reader_put(idx);
	return found;
}

/*
 * @sk, whose allocation @born is (sockleak_track_alloc()'s token), if the
 * track table still holds that socket (not freed, its address not reused)
 * and its count is not zero (sk_alloc()'s caller has initialised it):
 * referenced into @ref as sockleak_track_grab() does. Process context.
 */
bool sockleak_track_grab_sk(struct sock *sk, u64 born,
			  struct sockleak_ref *ref)
{
	struct tt_table *tbl;
	struct tt_stripe *s;
	struct tt_entry *e;
	unsigned long flags;
	bool ok = false;
	u32 bucket;
	int idx;

	tbl = tt_reader_get(&idx);
	if (!tbl)
		goto out;
	s = tt_stripe_of(tbl, sk, &bucket);
	raw_spin_lock_irqsave(&s->lock, flags);
	e = tt_lookup(tbl, s, bucket, sk);
	if (e && tt_token(e) == born && sockleak_hold_get(sk)) {
		tt_fill(tbl, e, ref, NULL, NULL);
		ok = true;
	}
	raw_spin_unlock_irqrestore(&s->lock, flags);
out:
	tt_reader_put(idx);
	return ok;
}

/* Hide every socket "tracked" reports now (kmemleak's "clear"). */
int sockleak_track_clear(void)
{
	struct tt_table *tbl;
	struct tt_clock c;
	int idx;
	unsigned long i;

	tt_clock_now(&c);
	tbl = tt_reader_get(&idx);
	if (!tbl) {
		tt_reader_put(idx);
		return -ENODEV;
	}
	for (i = 0; i < (unsigned long)tbl->per_stripe * TT_STRIPES; ) {
		struct tt_stripe *s = &tbl->stripes[i / tbl->per_stripe];
		unsigned long end = tt_batch_end(tbl, i);
		unsigned long flags;

		raw_spin_lock_irqsave(&s->lock, flags);
		for (; i < end; i++)
			if (tbl->entries[i].sk &&
			    tt_is_tracked(s, &tbl->entries[i], &c))
				tbl->entries[i].cleared = 1;
		raw_spin_unlock_irqrestore(&s->lock, flags);
		cond_resched();
	}
	tt_reader_put(idx);
	return 0;
}

/*
 * The stripes' counts are read without their locks: each is exact, their
 * sum a moment's picture (0 while tracking is off).
 */
void sockleak_track_stats(struct sockleak_track_stats *st)
{
	struct tt_table *tbl;
	unsigned int k;
	int idx;

	tbl = tt_reader_get(&idx);
	st->on = tbl;
	st->max_entries = tbl ? (unsigned long)tbl->per_stripe * TT_STRIPES : 0;
	st->max_stacks = tbl ? (unsigned long)tbl->stacks_per_stripe * TT_STRIPES : 0;
	st->bytes = tbl ? tbl->bytes : 0;
	st->stack_bytes = tbl ? tbl->stack_bytes : 0;
	st->entries = 0;
	st->stacks = 0;
	st->unknown_origin = 0;
	for (k = 0; tbl && k < TT_STRIPES; k++) {
		st->entries += READ_ONCE(tbl->stripes[k].entries);
		st->stacks += READ_ONCE(tbl->stripes[k].stacks);
		st->unknown_origin += READ_ONCE(tbl->stripes[k].unknown);
	}
	tt_reader_put(idx);
	st->overflow = atomic_long_read(&tt_overflow);
	st->stack_overflow = atomic_long_read(&tt_stack_overflow);
}

bool sockleak_track_on(void)
{
	return tt_table_get();
}

static void tt_free(struct tt_table *tbl)
{
	vfree(tbl->entries);
	vfree(tbl->stacks);
	vfree(tbl->heads);
	kfree(tbl);
}

/*
 * Withdraw the published table and free it once nobody can use it: the
 * readers (their SRCU read sections: synchronize_srcu()) and the probe
 * handlers (they run with preemption disabled or under RCU:
 * synchronize_rcu()). Control mutex held.
 */
static void tt_unpublish(struct tt_table *tbl)
{
	lockdep_assert_held(&sockleak_control_mutex);
	/* Pairs with tt_table_get(): no new user finds the table. */
	smp_store_release(&tt_published, NULL);
	synchronize_srcu(&tt_srcu);
	synchronize_rcu();
	tt_free(tbl);
}

/*
 * Bytes one entry costs at most: the entry, one bucket head. Within the
 * budget of 128 bytes per tracked socket (README, Performance).
 */
#define TT_ENTRY_BYTES	(sizeof(struct tt_entry) + sizeof(struct hlist_head))
static_assert(TT_ENTRY_BYTES <= 128);

/*
 * The largest max_entries this machine can give: the table may take an
 * eighth of the RAM, and no array may pass INT_MAX bytes. At least
 * TT_STRIPES.
 */
unsigned int sockleak_track_max_entries(void)
{
	u64 n = div_u64(((u64)totalram_pages() << PAGE_SHIFT) / 8,
			TT_ENTRY_BYTES);

	n = min_t(u64, n, INT_MAX / sizeof(struct tt_entry) - TT_STRIPES);
	n = min_t(u64, n, SOCKLEAK_MAX_ENTRIES);
	return max_t(u64, n, TT_STRIPES);
}

/*
 * One zeroed array of the table: vmalloc, whose pages are what it costs
 * (kmalloc, which kvcalloc() tries first, rounds a multi-page array up
 * to a power of two: up to twice the memory). Fails rather than invoke
 * the OOM killer; never WARNs.
 */
static void *tt_array(size_t n, size_t size)
{
	return __vmalloc(array_size(n, size), GFP_KERNEL | __GFP_ZERO |
			 __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
}

/*
 * Allocate and publish the table; control.c then starts the probes that
 * feed it. Control mutex held.
 */
int sockleak_track_table_start(unsigned int max_entries)
{
	unsigned int per, nb, sper, snb, k, i;
	struct tt_table *tbl;

	lockdep_assert_held(&sockleak_control_mutex);
	if (tt_published)
		return 0;
	if (max_entries > sockleak_track_max_entries())
		return -ENOMEM;
	per = DIV_ROUND_UP(max_entries, TT_STRIPES);
	/* Chains of one or two entries at most when full. */
	nb = max(roundup_pow_of_two(per) / 2, 1U);
	sper = DIV_ROUND_UP(TT_STACKS_OF(max_entries), TT_STRIPES);
	snb = roundup_pow_of_two(sper);
	tbl = kzalloc(sizeof(*tbl), GFP_KERNEL);
	if (!tbl)
		return -ENOMEM;
	tbl->per_stripe = per;
	tbl->bucket_mask = nb - 1;
	tbl->stacks_per_stripe = sper;
	tbl->stack_mask = snb - 1;
	tbl->stack_bytes = (size_t)sper * TT_STRIPES * sizeof(*tbl->stacks) +
			 (size_t)snb * TT_STRIPES * sizeof(*tbl->heads);
	tbl->bytes = sizeof(*tbl) +
		   (size_t)per * TT_STRIPES * sizeof(*tbl->entries) +
		   (size_t)sper * TT_STRIPES * sizeof(*tbl->stacks) +
		   (size_t)(nb + snb) * TT_STRIPES * sizeof(*tbl->heads);
	tbl->entries = tt_array((size_t)per * TT_STRIPES, sizeof(*tbl->entries));
	tbl->stacks = tt_array((size_t)sper * TT_STRIPES, sizeof(*tbl->stacks));
	tbl->heads = tt_array((size_t)(nb + snb) * TT_STRIPES, sizeof(*tbl->heads));
	if (!tbl->entries || !tbl->stacks || !tbl->heads) {
		tt_free(tbl);
		return -ENOMEM;
	}
	for (k = 0; k < TT_STRIPES; k++) {
		struct tt_stripe *s = &tbl->stripes[k];

		raw_spin_lock_init(&s->lock);
		raw_spin_lock_init(&s->stack_lock);
		/*
		 * Allocation tokens of an earlier table (a watch_next grab
		 * queued across track=off/on) do not name this one's.
		 */
		s->gen = get_random_u32();
		s->buckets = &tbl->heads[(size_t)k * nb];
		s->stack_buckets = &tbl->heads[(size_t)TT_STRIPES * nb +
					     (size_t)k * snb];
		for (i = 0; i < per; i++)
			hlist_add_head(&tbl->entries[(size_t)k * per + i].node,
				       &s->free);
		for (i = 0; i < sper; i++)
			hlist_add_head(&tbl->stacks[(size_t)k * sper + i].node,
				       &s->stack_free);
		cond_resched();
	}
	atomic_long_set(&tt_overflow, 0);
	atomic_long_set(&tt_stack_overflow, 0);
	/* The initialised table before the pointer (pairs with tt_table_get()). */
	smp_store_release(&tt_published, tbl);
	return 0;
}

/* Withdraw and free the table; the probes that feed it are stopped. */
void sockleak_track_table_stop(void)
{
	struct tt_table *tbl = tt_published;

	if (!tbl)
		return;
	tt_unpublish(tbl);
}
