// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - its own references on sockets, counted per socket, so that a
 * report gives a socket's count without them however many sockleak readers
 * hold it at that moment: a batch of another reader, a parked walk's
 * anchor, a watch being armed, a probe's claim.
 *
 * Every reference sockleak takes or drops goes through here. How many a
 * socket has is kept in a small hash table (HOLD_BUCKETS buckets of
 * HOLD_WAYS entries, keyed by the socket's address) and changed under the
 * bucket's lock together with sk_refcnt itself, so that both read under
 * the lock agree. When a bucket has no free entry the reference is taken
 * uncounted ("lost"): the socket's count reads one high until sockleak
 * holds it no more (a put takes whichever of its references is counted).
 * The last reference of a socket is put after the lock is released: until
 * then it reads as the socket's own, not sockleak's. A reference a kernel
 * lookup takes for sockleak (sockleak_hold_note()) is the socket's until
 * it is noted.
 *
 * Locking rules: a bucket's raw spinlock is taken with interrupts disabled
 * (probes, IPIs and the track table's raw locks call in) and is innermost:
 * nothing but atomics on sk_refcnt is done under it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <net/sock.h>

#include "holds.h"

#define HOLD_BITS	8
#define HOLD_BUCKETS	(1 << HOLD_BITS)
#define HOLD_WAYS	8

struct hold_entry {
	const struct sock *sk;
	unsigned int n;
};

struct hold_bucket {
	raw_spinlock_t lock;
	struct hold_entry e[HOLD_WAYS];
};

static struct hold_bucket holds[HOLD_BUCKETS];
static atomic_long_t holds_lost = ATOMIC_LONG_INIT(0);

void sockleak_holds_init(void)
{
	int i;

	for (i = 0; i < HOLD_BUCKETS; i++)
		raw_spin_lock_init(&holds[i].lock);
}

static struct hold_bucket *hold_bucket(const struct sock *sk)
{
	return &holds[hash_ptr(sk, HOLD_BITS)];
}

/* @sk's entry in @b (its lock held), or NULL. */
static struct hold_entry *hold_find(struct hold_bucket *b,
				    const struct sock *sk)
{
	int i;

	lockdep_assert_held(&b->lock);
	for (i = 0; i < HOLD_WAYS; i++)
		if (b->e[i].sk == sk)
			return &b->e[i];
	return NULL;
}

/* One more reference of sockleak's on @sk (@b's lock held). */
static void hold_note(struct hold_bucket *b, const struct sock *sk)
{
	struct hold_entry *e = hold_find(b, sk);

	if (!e)
		e = hold_find(b, NULL);
	if (!e) {
		atomic_long_inc(&holds_lost);
		return;
	}
	e->sk = sk;
	e->n++;
}

/* One less (@b's lock held); false when it was never counted. */
static bool hold_unnote(struct hold_bucket *b, const struct sock *sk)
{
	struct hold_entry *e = hold_find(b, sk);

	if (!e)
		return false;
	if (!--e->n)
		e->sk = NULL;
	return true;
}

bool sockleak_hold_get(struct sock *sk)
{
	struct hold_bucket *b = hold_bucket(sk);
	unsigned long flags;
	bool ok;

	raw_spin_lock_irqsave(&b->lock, flags);
	ok = refcount_inc_not_zero(&sk->sk_refcnt);
	if (ok)
		hold_note(b, sk);
	raw_spin_unlock_irqrestore(&b->lock, flags);
	return ok;
}

void sockleak_hold(struct sock *sk)
{
	struct hold_bucket *b = hold_bucket(sk);
	unsigned long flags;

	raw_spin_lock_irqsave(&b->lock, flags);
	refcount_inc(&sk->sk_refcnt);
	hold_note(b, sk);
	raw_spin_unlock_irqrestore(&b->lock, flags);
}

void sockleak_hold_note(struct sock *sk)
{
	struct hold_bucket *b = hold_bucket(sk);
	unsigned long flags;

	raw_spin_lock_irqsave(&b->lock, flags);
	hold_note(b, sk);
	raw_spin_unlock_irqrestore(&b->lock, flags);
}

void sockleak_hold_put(struct sock *sk)
{
	struct hold_bucket *b = hold_bucket(sk);
	unsigned long flags;
	bool done;

	raw_spin_lock_irqsave(&b->lock, flags);
	hold_unnote(b, sk);
	/* Not the last reference: dropped with the note, under the lock. */
	done = refcount_dec_not_one(&sk->sk_refcnt);
	raw_spin_unlock_irqrestore(&b->lock, flags);
	if (!done)
		sock_gen_put(sk);
}

void sockleak_hold_count(const struct sock *sk, int *count, int *own)
{
	struct hold_bucket *b = hold_bucket(sk);
	struct hold_entry *e;
	unsigned long flags;

	raw_spin_lock_irqsave(&b->lock, flags);
	*count = refcount_read(&sk->sk_refcnt);
	e = hold_find(b, sk);
	*own = e ? e->n : 0;
	raw_spin_unlock_irqrestore(&b->lock, flags);
}

int sockleak_hold_refcnt(const struct sock *sk)
{
	int count, own;

	sockleak_hold_count(sk, &count, &own);
	return count - own;
}

long sockleak_holds_lost(void)
{
	return atomic_long_read(&holds_lost);
}
