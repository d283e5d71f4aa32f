// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - will the kernel ever free this socket? The verdict of one
 * snapshot, from its values alone (no socket access, no lock):
 *
 *   owner  its struct socket is held, and releasing it frees the socket:
 *          a socket file (an fd; also SCM_RIGHTS in flight or a leaked
 *          fget, flag no_fd), a kernel socket (no file: its creator
 *          releases it), or a TCP child in its listener's accept queue
 *          (the listener's close frees it)
 *   timer  no struct socket holds it, and a pending timer of the protocol
 *          will end it: TIME-WAIT, a request socket, or an orphan with a
 *          retransmit, zero window probe or keepalive (FIN-WAIT-2, MPTCP
 *          close) timer armed. timer_left_ms says when the timer fires;
 *          a retransmit timer may re-arm, up to tcp_orphan_retries.
 *   never  nothing will: closed (SOCK_DEAD) with no timer armed, so only
 *          a put of the references it still has (refcnt) can free it; or
 *          no struct socket, no table and no queue holds it. A never
 *          socket is always a suspect, listed first.
 *
 * The snapshot is racy (snapshot.c): a socket caught between close() and
 * its free, or a timer between firing and re-arming, can be judged never
 * for that instant. The "tracked" report waits grace_ms before it lists
 * a closed socket for that reason.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/tcp.h>
#include <net/tcp_states.h>

#include "sockleak.h"

static const char * const verdict_names[SOCKLEAK_V_NR] = {
	[SOCKLEAK_V_OWNER]	= "owner",
	[SOCKLEAK_V_TIMER]	= "timer",
	[SOCKLEAK_V_NEVER]	= "never",
};

const char *sockleak_verdict_name(unsigned int verdict)
{
	return verdict < SOCKLEAK_V_NR ? verdict_names[verdict] : "?";
}

/* As ss -o names them, apart from none and synack. */
static const char * const timer_names[] = {
	[SOCKLEAK_TIMER_NONE]		= "none",
	[SOCKLEAK_TIMER_RETRANS]	= "retrans",
	[SOCKLEAK_TIMER_PROBE]		= "probe",
	[SOCKLEAK_TIMER_KEEPALIVE]	= "keepalive",
	[SOCKLEAK_TIMER_TIMEWAIT]	= "timewait",
	[SOCKLEAK_TIMER_SYNACK]		= "synack",
};

const char *sockleak_timer_name(unsigned int timer)
{
	return timer < ARRAY_SIZE(timer_names) ? timer_names[timer] : "?";
}

static void classify(struct sockleak_snap *s, u8 verdict, u8 holder)
{
	s->verdict = verdict;
	s->holder = holder;
}

void sockleak_classify(struct sockleak_snap *s)
{
	bool timer = s->timer_left_ms >= 0;

	if (s->kind != SOCKLEAK_SK_FULL) {
		/* A TIME-WAIT or request socket lives only by its timer. */
		classify(s, timer ? SOCKLEAK_V_TIMER : SOCKLEAK_V_NEVER,
			 timer ? SOCKLEAK_H_TIMER : SOCKLEAK_H_ORPHAN);
		return;
	}
	if (!s->dead && s->has_sock) {
		classify(s, SOCKLEAK_V_OWNER, s->filerefs < 0 && s->kern ?
			 SOCKLEAK_H_KERNEL : SOCKLEAK_H_FILE);
		return;
	}
	if (!s->dead && s->hashed && s->proto == IPPROTO_TCP &&
	    s->state != TCP_CLOSE) {
		/* Not yet accepted: the listener's queue holds it. */
		classify(s, SOCKLEAK_V_OWNER, SOCKLEAK_H_ACCEPT);
		return;
	}
	if (timer) {
		classify(s, SOCKLEAK_V_TIMER, SOCKLEAK_H_TIMER);
		return;
	}
	classify(s, SOCKLEAK_V_NEVER,
		 s->dead ? SOCKLEAK_H_ORPHAN : SOCKLEAK_H_NOSOCK);
}

/*
 * Why a never socket will never be freed, or how a timer one ends, as a
 * sentence fragment; "" for owner. Returns the length.
 */
int sockleak_verdict_explain(char *buf, size_t len,
			     const struct sockleak_snap *s)
{
	const char *state = sockleak_state_name(s->state);

	switch (s->holder) {
	case SOCKLEAK_H_TIMER:
		return scnprintf(buf, len, "its %s timer fires in %lld ms",
				 sockleak_timer_name(s->timer),
				 s->timer_left_ms);
	case SOCKLEAK_H_ORPHAN:
		if (s->state == TCP_CLOSE || !sockleak_proto_tcp_mem(s->proto))
			return scnprintf(buf, len,
					 "closed in %s with no timer armed, %d reference%s left: only a sock_put() can free it",
					 state, s->refcnt,
					 s->refcnt == 1 ? "" : "s");
		return scnprintf(buf, len,
				 "orphan in %s with no retransmit, probe or keepalive timer armed: %s will never time it out",
				 state, s->proto == IPPROTO_MPTCP ? "MPTCP" : "TCP");
	case SOCKLEAK_H_NOSOCK:
		return scnprintf(buf, len,
				 "no struct socket, no hash table and no timer hold it (%s, %d reference%s): only a sock_put() can free it",
				 state, s->refcnt, s->refcnt == 1 ? "" : "s");
	default:
		if (len)
			buf[0] = '\0';
		return 0;
	}
}
