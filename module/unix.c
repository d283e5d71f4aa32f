// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - AF_UNIX: who holds a unix socket, or any socket file, that
 * no fd holds.
 *
 * A peer. A connected unix socket holds a reference on its peer
 * (unix_peer(), taken at connect or socketpair()). When one end is
 * closed, the other keeps that reference until it is closed itself (a
 * stream peer) or until it sends or connects again (a datagram peer):
 * the closed socket, and whatever it sent that still sits in the peer's
 * queue (its wmem), live on for as long as an owner keeps the peer open.
 * That is no leak: the socket is held by its peer's owner.
 * unix_peer_holder() finds such a peer among the sockets of the track
 * table, for the snapshot of a closed unix socket (peer_holder).
 *
 * A message in flight. A socket's file sent with SCM_RIGHTS and closed
 * by its sender is held by the message alone, in the receive queue of a
 * unix socket, until that socket's owner receives it (the file gets a
 * new fd), closes it, or the garbage collector frees a cycle of such
 * messages. While tracking is on, two kprobes follow every message with
 * files on its way through a queue: unix_add_edges(fpl, receiver), when
 * it is queued, and unix_del_edges(fpl), when it leaves (received, or
 * purged: unix_destroy_fpl()), once each per message (fpl->inflight).
 * Each socket file of the message (sock_from_file()) is counted in the
 * in-flight table under its cookie, with the cookie of the receiver.
 * Sockets are named by cookie, never by address: an entry outlives
 * nothing it could be confused with. "sockets" then says in_flight= and
 * in_flight_rcv=, and a socket file held by nothing else is flagged
 * in_flight, not no_fd. The table has IF_SLOTS entries; a message that
 * finds it full is counted (if_overflow) and its sockets stay no_fd.
 *
 * Locking rules: the peer search has no lock of its own: it runs under the
 * track table's entry locks (sockleak_track_find()); a peer pointer is
 * read with READ_ONCE() and only compared, never followed. if_lock (raw,
 * interrupts off) protects the in-flight table; the kprobe handlers take
 * it in any context but NMI (skipped, counted as missed), readers in
 * process context. if_probes_on changes under sockleak_control_mutex only
 * (track=on/off).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/spinlock.h>
#include <net/af_unix.h>
#include <net/scm.h>
#include <net/sock.h>

#include "family.h"
#include "snapshot.h"
#include "sockleak.h"
#include "track.h"

/* Is @p a live (not closed) unix socket whose peer is @arg? */
static bool unix_is_peer_of(const struct sock *p, const void *arg)
{
	return p != arg && p->sk_family == AF_UNIX &&
	       !sock_flag(p, SOCK_DEAD) && READ_ONCE(unix_sk(p)->peer) == arg;
}

/*
 * The cookie of a live (not closed) unix socket whose peer is @sk, 0 for
 * none the track table knows. Process context. The search takes no
 * reference: a reader never holds the other sockets of the table.
 */
static u64 unix_peer_holder(const struct sock *sk)
{
	return sockleak_track_find(unix_is_peer_of, sk);
}

/* In-flight table: sockets whose file rides in a queued message. */
#define IF_SLOTS	256

struct if_slot {
	u64 cookie;		/* the socket; 0: free */
	u64 rcv;		/* the receiver of its last message */
	u32 count;		/* messages in flight with its file */
};

static DEFINE_RAW_SPINLOCK(if_lock);
static struct if_slot if_slots[IF_SLOTS];
static unsigned int if_used;		/* slots with a cookie */
static atomic_long_t if_overflow, if_nmi;
static bool if_probes_on;

/* Count one message more (@rcv != 0) or one less (@rcv == 0) for @cookie. */
static void if_account(u64 cookie, u64 rcv)
{
	struct if_slot *free = NULL, *e = NULL;
	unsigned long flags;
	int i;

	raw_spin_lock_irqsave(&if_lock, flags);
	for (i = 0; i < IF_SLOTS; i++) {
		if (if_slots[i].cookie == cookie) {
			e = &if_slots[i];
			break;
		}
		if (!free && !if_slots[i].cookie)
			free = &if_slots[i];
	}
	if (rcv) {
		if (!e && free) {
			e = free;
			e->cookie = cookie;
			e->count = 0;
			WRITE_ONCE(if_used, if_used + 1);
		}
		if (e) {
			e->count++;
			e->rcv = rcv;
		} else {
			atomic_long_inc(&if_overflow);
		}
	} else if (e && !--e->count) {
		e->cookie = 0;
		WRITE_ONCE(if_used, if_used - 1);
	}
	/* A message queued before track=on leaves: no entry, nothing to do. */
	raw_spin_unlock_irqrestore(&if_lock, flags);
}

/*
 * Every socket file of a message's file list, queued at @u's receive
 * queue or (@u NULL) leaving it. The receiver's cookie is only made for a
 * message that carries a socket.
 */
static void if_fpl(struct pt_regs *regs, struct unix_sock *u)
{
	struct scm_fp_list *fpl = (void *)regs_get_kernel_argument(regs, 0);
	u64 rcv = 0;
	int i, n;

	if (!fpl)
		return;
	if (in_nmi()) {
		atomic_long_inc(&if_nmi);
		return;
	}
	n = min_t(int, READ_ONCE(fpl->count), SCM_MAX_FD);
	for (i = 0; i < n; i++) {
		struct socket *sock = sock_from_file(fpl->fp[i]);
		struct sock *sk = sock ? READ_ONCE(sock->sk) : NULL;

		if (!sk)
			continue;
		if (u && !rcv)
			rcv = sockleak_sk_cookie(&u->sk);
		if_account(sockleak_sk_cookie(sk), rcv);
	}
}

static int if_add_hit(struct kprobe *p, struct pt_regs *regs)
{
	struct unix_sock *u = (void *)regs_get_kernel_argument(regs, 1);

	if (u)
		if_fpl(regs, u);
	return 0;
}

static int if_del_hit(struct kprobe *p, struct pt_regs *regs)
{
	if_fpl(regs, NULL);
	return 0;
}

static struct kprobe if_kps[] = {
	{ .symbol_name = "unix_add_edges", .pre_handler = if_add_hit },
	{ .symbol_name = "unix_del_edges", .pre_handler = if_del_hit },
};
static struct kprobe *if_kp_ptrs[] = { &if_kps[0], &if_kps[1] };

/*
 * Follow messages in flight (track=on). Without the two functions (a
 * kernel without AF_UNIX, or one older than its garbage collector of
 * 6.10, backported to 6.1.y), in-flight files stay unknown: no_fd.
 */
static void unix_probes_start(void)
{
	int i, ret;

	lockdep_assert_held(&sockleak_control_mutex);
	memset(if_slots, 0, sizeof(if_slots));
	if_used = 0;
	atomic_long_set(&if_overflow, 0);
	atomic_long_set(&if_nmi, 0);
	for (i = 0; i < ARRAY_SIZE(if_kps); i++)
		sockleak_kprobe_reset(&if_kps[i]);
	ret = register_kprobes(if_kp_ptrs, ARRAY_SIZE(if_kp_ptrs));
	if (ret)
		pr_info("SCM_RIGHTS messages in flight not followed (%s: %d)\n",
			"unix_add_edges/unix_del_edges", ret);
	if_probes_on = !ret;
}

static void unix_probes_stop(void)
{
	lockdep_assert_held(&sockleak_control_mutex);
	if (if_probes_on)
		unregister_kprobes(if_kp_ptrs, ARRAY_SIZE(if_kp_ptrs));
	if_probes_on = false;
}

/* Messages in flight missed: table full, NMI context, or a dropped hit. */
static unsigned long unix_probes_missed(void)
{
	return atomic_long_read(&if_overflow) + atomic_long_read(&if_nmi) +
	       if_kps[0].nmissed + if_kps[1].nmissed;
}

/* Whether in-flight messages are followed now (track=on, probes in). */
bool sockleak_unix_in_flight_known(void)
{
	return READ_ONCE(if_probes_on);
}

/*
 * How many queued messages hold the file of the socket with @cookie,
 * and in *@rcv the cookie of the unix socket whose queue holds the last
 * one; 0 for none (or not followed).
 */
u32 sockleak_unix_in_flight(u64 cookie, u64 *rcv)
{
	unsigned long flags;
	u32 n = 0;
	int i;

	*rcv = 0;
	if (!READ_ONCE(if_probes_on) || !READ_ONCE(if_used) || !cookie)
		return 0;
	raw_spin_lock_irqsave(&if_lock, flags);
	for (i = 0; i < IF_SLOTS; i++) {
		if (if_slots[i].cookie == cookie) {
			n = if_slots[i].count;
			*rcv = if_slots[i].rcv;
			break;
		}
	}
	raw_spin_unlock_irqrestore(&if_lock, flags);
	return n;
}

/* A closed unix socket: the live peer that holds it, if any. */
static void unix_snap(struct sock *sk, struct sockleak_snap *s)
{
	if (s->dead && s->refcnt > 0)
		s->peer_holder = unix_peer_holder(sk);
}

/* AF_UNIX's row of the family table (family.c). */
const struct sockleak_family_ops sockleak_unix_ops = {
	.snap		= unix_snap,
	.probes_start	= unix_probes_start,
	.probes_stop	= unix_probes_stop,
	.probes_missed	= unix_probes_missed,
};
