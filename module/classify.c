// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - what a socket snapshot means, from its values alone (no
 * socket access, no lock): its leak flags (the "flags=" of "sockets",
 * with their tunables, and the one order in which "suspects" picks a
 * reason), and whether the kernel will ever free it, its verdict:
 *
 *   owner  its struct socket is held, and releasing it frees the socket:
 *          a socket file (an fd; also SCM_RIGHTS messages in flight,
 *          flag in_flight, or a reference no fd and no message accounts
 *          for, flag no_fd: io_uring, a leaked fget), a kernel socket (no file: its creator
 *          releases it), or a TCP child in its listener's accept queue
 *          (the listener's close frees it)
 *   timer  no struct socket holds it, and a pending timer of the protocol
 *          will end it: TIME-WAIT, a request socket, or an orphan with a
 *          retransmit, zero window probe or keepalive (FIN-WAIT-2, MPTCP
 *          close) timer armed. timer_left_ms says when the timer fires;
 *          a retransmit timer may re-arm, up to tcp_orphan_retries.
 *   never  nothing will: closed (SOCK_DEAD) with no timer armed, so only
 *          a put of the references it still has (refcnt) can free it; or
 *          no struct socket, no table and no queue holds it; or an owner
 *          socket of a netns that no task, nsfs file or mount and no
 *          socket fd reaches any more, and that an open socket with no
 *          file holds by a counted reference (sk_net_refcnt; the owner
 *          scan, owners.c): its exit, which would release that socket and
 *          the netns' other kernel sockets, never comes (reason
 *          pins_netns for such a socket, dead_netns for the others). A
 *          never socket is always a suspect, listed first.
 *
 * The snapshot is racy (snapshot.c): a socket caught between close() and
 * its free, or a timer between firing and re-arming, can be judged never
 * for that instant. The "tracked" report waits grace_ms before it lists
 * a closed socket for that reason.
 *
 * Also here: why a socket is not freed (the reason codes of "suspects"
 * beyond the flags, and the closed_not_freed of "summary"), what a memory
 * cgroup's totals mean (dying, residue: "cgroups" and "suspects"), and
 * the names all of these print with.
 *
 * Locking rules: none. Everything here reads values already copied (a
 * snapshot, a memcg's totals) and the tunables, one READ_ONCE() each.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "classify.h"
#include "proto.h"
#include "snapshot.h"
#include "sockleak.h"

/* State names of ss (iproute2 misc/ss.c sstate_name[]). */
static const char * const state_names[] = {
	[TCP_ESTABLISHED]	= "ESTAB",
	[TCP_SYN_SENT]		= "SYN-SENT",
	[TCP_SYN_RECV]		= "SYN-RECV",
	[TCP_FIN_WAIT1]		= "FIN-WAIT-1",
	[TCP_FIN_WAIT2]		= "FIN-WAIT-2",
	[TCP_TIME_WAIT]		= "TIME-WAIT",
	[TCP_CLOSE]		= "UNCONN",
	[TCP_CLOSE_WAIT]	= "CLOSE-WAIT",
	[TCP_LAST_ACK]		= "LAST-ACK",
	[TCP_LISTEN]		= "LISTEN",
	[TCP_CLOSING]		= "CLOSING",
};

const char *sockleak_state_name(unsigned int state)
{
	if (state == SOCKLEAK_STATE_NONE)
		return "-";
	if (state < ARRAY_SIZE(state_names) && state_names[state])
		return state_names[state];
	return "UNKNOWN";
}

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
	[SOCKLEAK_TIMER_VSOCK_CONNECT]	= "vsock_connect",
	[SOCKLEAK_TIMER_VSOCK_CLOSE]	= "vsock_close",
	[SOCKLEAK_TIMER_VSOCK_PENDING]	= "vsock_pending",
};

const char *sockleak_timer_name(unsigned int timer)
{
	return timer < ARRAY_SIZE(timer_names) ? timer_names[timer] : "?";
}

static const char * const flag_names[SOCKLEAK_F_NR] = {
	[SOCKLEAK_F_CLOSE_WAIT]		= "close_wait",
	[SOCKLEAK_F_UNREAD]		= "unread",
	[SOCKLEAK_F_ORPHAN_MEM]		= "orphan_mem",
	[SOCKLEAK_F_FIN_WAIT2]		= "fin_wait2",
	[SOCKLEAK_F_RCVBUF_LOCKED]	= "rcvbuf_locked",
	[SOCKLEAK_F_ZERO_WINDOW]	= "zero_window",
	[SOCKLEAK_F_BPF_HELD]		= "bpf_held",
	[SOCKLEAK_F_NO_FD]		= "no_fd",
	[SOCKLEAK_F_UNHASHED_MEM]	= "unhashed_mem",
	[SOCKLEAK_F_UNHASHED]		= "unhashed",
	[SOCKLEAK_F_IN_FLIGHT]		= "in_flight",
};

/* The flag's name, as "flags=" prints it (and suspects' reason codes). */
const char *sockleak_flag_name(int flag)
{
	return flag_names[flag];
}

/*
 * The one priority of the leak flags: a socket's suspects line gives the
 * first of these it carries as its reason (unhashed is not a reason).
 */
static const u8 flag_order[] = {
	SOCKLEAK_F_NO_FD, SOCKLEAK_F_IN_FLIGHT, SOCKLEAK_F_UNHASHED_MEM,
	SOCKLEAK_F_CLOSE_WAIT,
	SOCKLEAK_F_ORPHAN_MEM, SOCKLEAK_F_UNREAD, SOCKLEAK_F_FIN_WAIT2,
	SOCKLEAK_F_RCVBUF_LOCKED, SOCKLEAK_F_ZERO_WINDOW, SOCKLEAK_F_BPF_HELD,
};

/* The socket's first flag in that order, -1 for none. */
int sockleak_first_flag(const struct sockleak_snap *s)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(flag_order); i++)
		if (test_bit(flag_order[i], &s->flags))
			return flag_order[i];
	return -1;
}

/* The flags of a TCP full socket's state and queues. */
static void classify_tcp(struct sockleak_snap *s)
{
	bool synced = (1 << s->state) & SOCKLEAK_SYNCED_STATES;

	/* Age proxy: icsk_ack.lrcvtime, the last segment carrying data. */
	if (s->state == TCP_CLOSE_WAIT &&
	    s->rcv_idle_ms >= sockleak_tunable(close_wait_ms))
		__set_bit(SOCKLEAK_F_CLOSE_WAIT, &s->flags);
	/*
	 * Unread: data queued that has sat there for T (nothing arrived
	 * since), or the application has read nothing for T while the peer
	 * keeps sending.
	 */
	if (synced && s->rmem > 0 && s->unread > 0 &&
	    max(s->rcv_idle_ms, s->read_idle_ms) >= sockleak_tunable(unread_ms))
		__set_bit(SOCKLEAK_F_UNREAD, &s->flags);
	if (s->state == TCP_FIN_WAIT2 &&
	    min(s->rcv_idle_ms, s->snd_idle_ms) >= s->fin_wait2_ms)
		__set_bit(SOCKLEAK_F_FIN_WAIT2, &s->flags);
	if (synced && (!s->snd_wnd || s->rcv_closed))
		__set_bit(SOCKLEAK_F_ZERO_WINDOW, &s->flags);
}

/* Every leak flag of a full socket, from its values and the tunables. */
static void classify_flags(struct sockleak_snap *s)
{
	if (s->proto == IPPROTO_TCP)
		classify_tcp(s);
	/* A closed unix socket's memory its open peer holds is no orphan's. */
	if (s->dead && s->rmem + s->wmem + s->queued > 0 && !s->peer_holder)
		__set_bit(SOCKLEAK_F_ORPHAN_MEM, &s->flags);
	/*
	 * SO_RCVBUF set by hand and the queue up to it. TCP never fills
	 * sk_rcvbuf with data (part of it is overhead, see tcp_win_from_space),
	 * so for TCP a receive window closed with data queued counts too.
	 */
	if ((s->userlocks & SOCK_RCVBUF_LOCK) && s->rcvbuf > 0 &&
	    ((u64)max(s->rmem, 0) * 100 >=
	     (u64)s->rcvbuf * sockleak_tunable(rcvbuf_pct) ||
	     (s->rcv_closed && s->rmem > 0)))
		__set_bit(SOCKLEAK_F_RCVBUF_LOCKED, &s->flags);
	if (s->bpf)
		__set_bit(SOCKLEAK_F_BPF_HELD, &s->flags);
	/*
	 * Unhashed (ss cannot see it) and holding memory. Closed (reset by
	 * the peer, or done) with data unread is certain at once: nothing
	 * will arrive any more, only the owner's read or close frees it.
	 * Other states wait unhashed_ms with nothing received.
	 */
	if (!s->hashed && s->proto == IPPROTO_TCP &&
	    ((s->state == TCP_CLOSE && s->rmem > 0) ||
	     (s->rmem + s->queued > 0 &&
	      s->rcv_idle_ms >= sockleak_tunable(unhashed_ms))))
		__set_bit(SOCKLEAK_F_UNHASHED_MEM, &s->flags);
	/* No hash table holds it: handed out by an extra source (sources.h). */
	if (!s->hashed)
		__set_bit(SOCKLEAK_F_UNHASHED, &s->flags);
	/*
	 * A socket file that no fd of any task refers to (the last scan):
	 * held by SCM_RIGHTS messages in flight (when they are followed),
	 * or by a reference no fd and no message accounts for.
	 */
	if (s->owners_known && !s->owners_total && s->filerefs > 0) {
		if (s->in_flight)
			__set_bit(SOCKLEAK_F_IN_FLIGHT, &s->flags);
		if (s->filerefs > s->in_flight)
			__set_bit(SOCKLEAK_F_NO_FD, &s->flags);
	}
}

static void classify(struct sockleak_snap *s, u8 verdict, u8 holder)
{
	s->verdict = verdict;
	s->holder = holder;
}

static void classify_full(struct sockleak_snap *s)
{
	bool timer = s->timer_left_ms >= 0;

	/*
	 * Every other reference was put while the report held it (a
	 * TIME-WAIT socket whose timer just fired): freed when the report
	 * lets go, due now; never would be the report's own reference. (A
	 * saturated count reads negative: that one is never freed.)
	 */
	if (s->refcnt == 0) {
		s->timer_left_ms = 0;
		classify(s, SOCKLEAK_V_TIMER, SOCKLEAK_H_FREEING);
		return;
	}
	if (s->kind != SOCKLEAK_SK_FULL) {
		/* A TIME-WAIT or request socket lives only by its timer. */
		classify(s, timer ? SOCKLEAK_V_TIMER : SOCKLEAK_V_NEVER,
			 timer ? SOCKLEAK_H_TIMER : SOCKLEAK_H_ORPHAN);
		return;
	}
	classify_flags(s);
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
	if (s->peer_holder) {
		/* Closed, held by its peer: freed when the peer's owner closes it. */
		classify(s, SOCKLEAK_V_OWNER, SOCKLEAK_H_PEER);
		return;
	}
	if (timer) {
		classify(s, SOCKLEAK_V_TIMER, SOCKLEAK_H_TIMER);
		return;
	}
	classify(s, SOCKLEAK_V_NEVER,
		 s->dead ? SOCKLEAK_H_ORPHAN : SOCKLEAK_H_NOSOCK);
}

void sockleak_classify(struct sockleak_snap *s)
{
	classify_full(s);
	/* Whatever would release it, nothing in user space reaches it. */
	if (s->kind == SOCKLEAK_SK_FULL && s->verdict == SOCKLEAK_V_OWNER &&
	    s->netns_unreached)
		classify(s, SOCKLEAK_V_NEVER, SOCKLEAK_H_NETNS);
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
				 state, sockleak_proto(s->proto)->label);
	case SOCKLEAK_H_PEER:
		return scnprintf(buf, len,
				 "held by its connected peer, unix socket %llx, which is still open: freed once that one is closed",
				 s->peer_holder);
	case SOCKLEAK_H_NETNS:
		if (s->pins_netns)
			return scnprintf(buf, len,
					 "kernel socket holding its netns %u, which no task, nsfs file or socket fd reaches: the netns never exits, nothing frees it",
					 s->netns);
		return scnprintf(buf, len,
				 "its netns %u is reached by no task, nsfs file or socket fd, yet kernel references keep it: nothing frees it",
				 s->netns);
	case SOCKLEAK_H_FREEING:
		return scnprintf(buf, len,
				 "no reference left but this report's: freed as it lets go");
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

static const char * const reason_names[SOCKLEAK_R_NR] = {
	[SOCKLEAK_R_NOT_FREED]	= "not_freed",
	[SOCKLEAK_R_NO_TIMER]	= "no_timer",
	[SOCKLEAK_R_NO_SOCKET]	= "no_socket",
	[SOCKLEAK_R_PINS_NETNS]	= "pins_netns",
	[SOCKLEAK_R_DEAD_NETNS]	= "dead_netns",
};

/* A reason code of "suspects", as it prints it. */
const char *sockleak_reason_name(unsigned int reason)
{
	return reason < SOCKLEAK_R_NR ? reason_names[reason] : "?";
}

/*
 * Why a never socket is not freed: no struct socket holds it, or it is
 * closed with references left, or it is an orphan in another state that
 * no timer will end, or its netns is unreached (pinned by it, or by
 * another). (A socket of the "tracked" report is not_freed.)
 */
unsigned int sockleak_never_reason(const struct sockleak_snap *s)
{
	if (s->holder == SOCKLEAK_H_NETNS)
		return s->pins_netns ? SOCKLEAK_R_PINS_NETNS :
				       SOCKLEAK_R_DEAD_NETNS;
	if (s->holder == SOCKLEAK_H_NOSOCK)
		return SOCKLEAK_R_NO_SOCKET;
	return s->state == TCP_CLOSE ? SOCKLEAK_R_NOT_FREED :
				       SOCKLEAK_R_NO_TIMER;
}

/*
 * Closed by its owner (SOCK_DEAD) and in no hash table any more, yet still
 * allocated: the closed_not_freed sockets of "summary".
 */
bool sockleak_closed_not_freed(const struct sockleak_snap *s)
{
	return !s->hashed && s->dead;
}

/*
 * What a memcg's totals mean: dying, when it is offline (rmdir'ed) and
 * sockets still hold it; on cgroup v1 (@has_tcpmem), the residue: its
 * tcpmem counter less what the sockets of its subtree charged, in bytes
 * (0 when equal, or without the counter).
 */
void sockleak_classify_memcg(struct sockleak_memcg_judgement *j, bool offline,
			     unsigned long sockets, bool has_tcpmem,
			     unsigned long tcpmem_pages,
			     unsigned long subtree_pages)
{
	j->dying = offline && sockets;
	j->residue = 0;
	if (has_tcpmem)
		j->residue = ((long)tcpmem_pages - (long)subtree_pages) *
			     (long)PAGE_SIZE;
}
