// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - watch_next: arming refcount watchpoints (watch.c) on the
 * next sockets created.
 *
 * "watch_next=<filter>" arms the next sockets created that match, up to
 * count (default 1). The filter is a comma-separated list of key:value:
 * proto:NAME (tcp, udp, udplite, mptcp or any other protocol: unix,
 * unix-stream, netlink, packet, raw, ...), family:NAME (unix, netlink,
 * ...), port:N (local or remote), comm:NAME (the creating task; accepted
 * children have none), netns:INUM, count:N (filter.c).
 * "watch_next=off" cancels. It needs the track probes (track=on):
 * they call sockleak_watch_new() at allocation and clone,
 * sockleak_watch_state() when a TCP socket (not SCTP, not DCCP, which
 * pass the same tracepoint) connects or listens, or an accepted child is
 * established, and sockleak_watch_port() when a UDP socket binds or
 * connects (where a port filter is matched: an allocated socket has no
 * port yet, a child at clone only its listener's).
 * Registering a watchpoint sleeps, and a reference taken right after
 * the socket's creation (by its creator, in the same call) is the usual
 * leak: so the filter's watchpoints are registered ahead, as standbys
 * (watch.c, up to WATCH_STANDBYS, never more than the count left), and
 * the probe that matches a socket re-points one at it before it returns
 * (armed_by=probe): no reference taken after the match is missed. The
 * work item registers the next standby. A match that finds none (every
 * debug register taken) is queued and armed by the work item instead;
 * what happened in between is missed, and the report says how long
 * after allocation the watch was armed (armed_after_us). Such a socket
 * matched at clone, connect, listen or bind is held by one reference
 * until the work runs; one matched at allocation is not (its count is
 * not set yet): the work takes it from the track table, if it still
 * exists.
 *
 * Locking rules: the probes' hooks run with preemption disabled (probe
 * and tracepoint context) and take only watch_pending_lock, a raw
 * spinlock, with interrupts disabled; under it they take a count left
 * and claim a standby. Standbys are added and removed under
 * sockleak_watch_mutex. The filter is written under
 * sockleak_watch_mutex while no count is left, and a grace period after
 * the count went to 0 (no probe still reads the old one), then published
 * by the count (smp_wmb()/smp_rmb()). The work arms under sockleak_watch_mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/kernel.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/sock_diag.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "compat.h"
#include "filter.h"
#include "holds.h"
#include "proto.h"
#include "sockleak.h"
#include "track.h"
#include "walk.h"
#include "watch.h"
#include "watchpoints.h"

#define WATCH_PENDING	8
#define WATCH_STANDBYS	4	/* x86's debug registers */
#define WATCH_RETRIES	50	/* work runs (1 jiffy apart) for one socket */

struct watch_pending {
	struct sock *sk;
	u64 born;		/* sockleak_track_alloc()'s token (not held) */
	u64 born_ns;		/* the allocation's time, or the match's */
	u16 proto;
	u8 origin;
	bool held;		/* a reference taken at the match */
	int tries;
};

/* Stable while sockleak_watch_next_left > 0. */
static struct sockleak_filter watch_next;
static char watch_next_text[64];	/* under sockleak_watch_mutex */
/* Sockets left to arm; read inline by sockleak_watch_new() (watchpoints.h). */
atomic_t sockleak_watch_next_left;
static atomic_t watch_next_armed, watch_next_lost;
static DEFINE_RAW_SPINLOCK(watch_pending_lock);
static struct watch_pending watch_pending[WATCH_PENDING];
static int watch_npending;
static void watch_next_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(watch_next_work, watch_next_fn);

/* The keys watch_next= takes: all of them. */
static int watch_filter_parse(const char *arg, struct sockleak_filter *f)
{
	return sockleak_filter_parse(arg, SOCKLEAK_FILTER_PROTO |
				     SOCKLEAK_FILTER_COUNT, WATCH_PENDING, f);
}

int sockleak_watch_next_check(const char *arg)
{
	struct sockleak_filter f;

	if (arg && !strcmp(arg, "off"))
		return 0;
	return watch_filter_parse(arg, &f);
}

/* Drop what is queued: the references taken at a match are put. */
static void watch_pending_flush(void)
{
	struct watch_pending p[WATCH_PENDING];
	unsigned long flags;
	int i, n;

	raw_spin_lock_irqsave(&watch_pending_lock, flags);
	n = watch_npending;
	memcpy(p, watch_pending, sizeof(p));
	watch_npending = 0;
	raw_spin_unlock_irqrestore(&watch_pending_lock, flags);
	for (i = 0; i < n; i++)
		if (p[i].held)
			sockleak_hold_put(p[i].sk);
}

/* Standbys for @left sockets to come (sockleak_watch_mutex held). */
static void watch_standby_fill(int left)
{
	int want = clamp(left, 0, WATCH_STANDBYS);

	lockdep_assert_held(&sockleak_watch_mutex);
	sockleak_watch_standby_trim(want);
	while (sockleak_watch_standbys() < want)
		if (sockleak_watch_standby_add())
			break;
}

int sockleak_watch_next(const char *arg)
{
	struct sockleak_filter f;
	int ret;

	ret = watch_filter_parse(arg, &f);
	if (ret && strcmp(arg, "off"))
		return ret;
	mutex_lock(&sockleak_watch_mutex);
	atomic_set(&sockleak_watch_next_left, 0);
	mutex_unlock(&sockleak_watch_mutex);
	/*
	 * A probe that saw a count left before may still be matching the
	 * old filter (preemption disabled): the new one is written after.
	 */
	synchronize_rcu();
	cancel_delayed_work_sync(&watch_next_work);
	watch_pending_flush();
	mutex_lock(&sockleak_watch_mutex);
	atomic_add(sockleak_watch_settle_claims(), &watch_next_armed);
	sockleak_watch_standby_trim(0);
	mutex_unlock(&sockleak_watch_mutex);
	if (!strcmp(arg, "off")) {
		mutex_lock(&sockleak_watch_mutex);
		watch_next_text[0] = '\0';
		mutex_unlock(&sockleak_watch_mutex);
		return 0;
	}
	/* The probes that feed it run only while tracking is on. */
	if (!sockleak_track_on())
		return -ENODEV;
	mutex_lock(&sockleak_watch_mutex);
	watch_next = f;
	strscpy(watch_next_text, arg, sizeof(watch_next_text));
	atomic_set(&watch_next_armed, 0);
	atomic_set(&watch_next_lost, 0);
	/* None when every debug register is taken: the work arms instead. */
	watch_standby_fill(f.count);
	/* The filter is written before a probe can see a count left. */
	smp_wmb();
	atomic_set(&sockleak_watch_next_left, f.count);
	mutex_unlock(&sockleak_watch_mutex);
	return 0;
}

/*
 * A match (probe context): armed on a standby at once, else queued;
 * @hold: the queued socket is held by a reference until it is armed.
 */
static void watch_next_queue(struct sock *sk, u16 proto, u64 born,
			     u64 born_ns, u8 origin, bool hold)
{
	struct watch_pending *p;
	unsigned long flags;
	bool queued = false;

	raw_spin_lock_irqsave(&watch_pending_lock, flags);
	if (atomic_read(&sockleak_watch_next_left) > 0 &&
	    sockleak_watch_claim(sk, proto, born_ns, origin)) {
		atomic_dec(&sockleak_watch_next_left);
		/* A child is counted once the work has its cookie. */
		if (origin != W_ORIGIN_CLONE)
			atomic_inc(&watch_next_armed);
		/* The next standby, or none once the count is used up. */
		queued = true;
	} else if (atomic_read(&sockleak_watch_next_left) > 0 &&
		   watch_npending < WATCH_PENDING) {
		atomic_dec(&sockleak_watch_next_left);
		p = &watch_pending[watch_npending++];
		p->sk = sk;
		p->born = born;
		p->born_ns = born_ns;
		p->proto = proto;
		p->origin = origin;
		p->held = hold;
		p->tries = 0;
		if (hold)
			sockleak_hold(sk);
		queued = true;
	}
	raw_spin_unlock_irqrestore(&watch_pending_lock, flags);
	if (queued)
		mod_delayed_work(sockleak_system_wq(), &watch_next_work, 0);
}

static bool watch_next_match(const struct sock *sk, u16 proto, bool task,
			     bool ports)
{
	/* Pairs with the smp_wmb() of sockleak_watch_next(). */
	smp_rmb();
	return sockleak_filter_match(&watch_next, sock_net(sk)->ns.inum, proto,
				     sk, ports ? sk : NULL, task);
}

/* sockleak_watch_new() with sockets left to arm: does this one match? */
void sockleak_watch_new_match(struct sock *sk, u16 proto, u64 born, bool clone)
{
	if (!watch_next_match(sk, proto, !clone && in_task(), clone))
		return;
	/* The track table's times are jiffies: armed_after_us wants ns. */
	watch_next_queue(sk, proto, born, ktime_get_ns(),
			 clone ? W_ORIGIN_CLONE : W_ORIGIN_ALLOC, clone);
}

/*
 * From the state tracepoint: a port filter is matched at a TCP connect or
 * listen, and at an accepted child's establishment (SYN-RECV to
 * ESTABLISHED). At clone a child has its listener's ports (the local one
 * is its own): a child that did not match then may match by its remote
 * port only now. (A simultaneous open also passes SYN-RECV: such a socket
 * matched by its remote port at connect is armed twice; it is rare.)
 */
void sockleak_watch_state(struct sock *sk, int oldstate, int newstate)
{
	bool child = oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED;
	u16 proto;

	if (likely(atomic_read(&sockleak_watch_next_left) <= 0) ||
	    !watch_next.port ||
	    (newstate != TCP_SYN_SENT && newstate != TCP_LISTEN && !child))
		return;
	/*
	 * inet_sock_set_state fires for SCTP (and DCCP) sockets too: only
	 * TCP's are this hook's. (An MPTCP socket never passes it:
	 * mptcp_set_state() has no tracepoint; its subflows are TCP sockets.)
	 */
	proto = sockleak_inet_proto(sk);
	if (proto != IPPROTO_TCP)
		return;
	if (child && inet_sk(sk)->inet_num == watch_next.port)
		return;		/* matched at clone */
	if (!watch_next_match(sk, proto, in_task(), true))
		return;
	watch_next_queue(sk, proto, 0, ktime_get_ns(),
			 child ? W_ORIGIN_CLONE :
			 newstate == TCP_LISTEN ? W_ORIGIN_LISTEN :
			 W_ORIGIN_CONNECT, true);
}

/* Does the pending filter have a port (the UDP port probes' gate)? */
bool sockleak_watch_next_ports(void)
{
	if (likely(atomic_read(&sockleak_watch_next_left) <= 0))
		return false;
	/* Pairs with the smp_wmb() of sockleak_watch_next(). */
	smp_rmb();
	return watch_next.port;
}

/*
 * From the track probes: a UDP (or UDP-Lite) socket got its local port
 * (bind, or the autobind of a connect or a send), or connected (its
 * remote port). One that matched by its local port is not matched again
 * at connect. The caller holds the socket (the syscall's).
 */
void sockleak_watch_port(struct sock *sk, bool connect)
{
	u16 proto;

	if (!sockleak_watch_next_ports())
		return;
	proto = sockleak_inet_proto(sk);
	if (!sockleak_proto_udp(proto))
		return;
	if (connect && inet_sk(sk)->inet_num == watch_next.port)
		return;		/* matched at bind */
	if (!watch_next_match(sk, proto, in_task(), true))
		return;
	watch_next_queue(sk, proto, 0, ktime_get_ns(),
			 connect ? W_ORIGIN_CONNECT : W_ORIGIN_BIND, true);
}

static void watch_next_fn(struct work_struct *work)
{
	struct watch_pending p[WATCH_PENDING];
	struct sockleak_ref ref;
	unsigned long flags;
	bool again = false;
	int i, n, ret;

	raw_spin_lock_irqsave(&watch_pending_lock, flags);
	n = watch_npending;
	memcpy(p, watch_pending, sizeof(p));
	watch_npending = 0;
	raw_spin_unlock_irqrestore(&watch_pending_lock, flags);

	for (i = 0; i < n; i++) {
		struct sock *sk = p[i].sk;

		if (!p[i].held && !sockleak_track_grab_sk(sk, p[i].born,
							&ref)) {
			/* Not initialised yet, or already gone. */
			if (++p[i].tries < WATCH_RETRIES &&
			    sockleak_track_on()) {
				raw_spin_lock_irqsave(&watch_pending_lock,
						      flags);
				watch_pending[watch_npending++] = p[i];
				raw_spin_unlock_irqrestore(&watch_pending_lock,
							   flags);
				again = true;
			} else {
				atomic_inc(&watch_next_lost);
			}
			continue;
		}
		sockleak_sk_settle(sk);
		mutex_lock(&sockleak_watch_mutex);
		ret = sockleak_watch_arm_sk(sk, sockleak_sk_cookie(sk), p[i].proto,
				   p[i].born_ns, p[i].origin);
		if (ret)
			sockleak_watch_detach_tp();
		mutex_unlock(&sockleak_watch_mutex);
		atomic_inc(ret ? &watch_next_lost : &watch_next_armed);
		if (p[i].held)
			sockleak_hold_put(sk);
		else
			sockleak_walk_put(&ref, 1);
	}
	mutex_lock(&sockleak_watch_mutex);
	atomic_add(sockleak_watch_settle_claims(), &watch_next_armed);
	watch_standby_fill(atomic_read(&sockleak_watch_next_left));
	mutex_unlock(&sockleak_watch_mutex);
	if (again)
		mod_delayed_work(sockleak_system_wq(), &watch_next_work, 1);
}

/* The first line of "refs" while a filter is set (its mutex held). */
void sockleak_watch_next_show(struct seq_file *m)
{
	lockdep_assert_held(&sockleak_watch_mutex);
	if (watch_next_text[0])
		seq_printf(m, "watch_next filter=%s left=%d armed=%d lost=%d standby=%d\n",
			   watch_next_text, atomic_read(&sockleak_watch_next_left),
			   atomic_read(&watch_next_armed),
			   atomic_read(&watch_next_lost),
			   sockleak_watch_standbys());
}

/* Module unload, after the probes are gone: nothing is queued any more. */
void sockleak_watch_next_exit(void)
{
	atomic_set(&sockleak_watch_next_left, 0);
	cancel_delayed_work_sync(&watch_next_work);
	watch_pending_flush();
}
