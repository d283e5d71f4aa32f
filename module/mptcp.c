// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - MPTCP: its row of the followed protocols (proto.c), with its
 * sockets and the link from a subflow to them.
 *
 * An MPTCP connection is one MPTCP socket (the msk, sk_protocol
 * IPPROTO_MPTCP, not a tcp_sock) that the application holds, and TCP
 * subflows that the kernel creates and hashes in TCP's tables like any
 * TCP socket, with the "mptcp" ULP. The msk charges its memory to TCP's
 * counters (mptcp_prot shares tcp_memory_allocated), so it must be seen
 * for TCP's memory to be explained.
 *
 * - Connected msks sit in MPTCP's token hash (one for all netns), linked
 *   by sk_nulls_node, so sk_hashed() is true for them. They are walked
 *   with mptcp_token_iter_next(), as mptcp_diag (ss -M) does: per netns,
 *   each call returns the next msk of that netns, referenced. Listening
 *   and never-connected msks are in no table (ss -M shows the listeners
 *   through their subflow): the owner scan and the track table
 *   find them (the extra sources, sources.h).
 *
 * - A subflow names its msk by the msk's local token, which the ULP's
 *   diag info carries (MPTCP_SUBFLOW_ATTR_TOKEN_LOC, what ss -ti prints
 *   as token:<remote>/<local>); mptcp_token_get_sock() turns the token
 *   back into the msk.
 *
 * Locking rules: none of its own. mptcp_token_iter_next() and
 * mptcp_token_get_sock() walk the token hash under RCU and return a
 * referenced msk. The ULP's get_info() takes the subflow's socket lock
 * (lock_sock_fast()), so mptcp_msk_cookie() runs in process context
 * with no lock held, the subflow referenced (its row's snap
 * hook, never for a brief snapshot).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/inet_diag.h>
#include <linux/skbuff.h>
#include <linux/sock_diag.h>
#include <net/inet_connection_sock.h>
#include <net/mptcp.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <uapi/linux/mptcp.h>

#include "compat.h"
#include "holds.h"
#include "proto.h"
#include "snapshot.h"
#include "sockleak.h"
#include "track.h"

/*
 * Exported (GPL) by net/mptcp/token.c on every supported kernel, declared
 * only in its private net/mptcp/protocol.h.
 */
struct mptcp_sock *mptcp_token_iter_next(const struct net *net, long *s_slot,
					 long *s_num);
struct mptcp_sock *mptcp_token_get_sock(struct net *net, u32 token);

/* struct mptcp_sock starts with its struct sock (inet_connection_sock). */
static struct sock *mptcp_msk_sk(struct mptcp_sock *msk)
{
	return (struct sock *)msk;
}

/*
 * The next connected msk of @net after the position (*@slot, *@num), or
 * NULL at the end of the token hash. The msk is referenced.
 */
static struct sock *mptcp_walk_next(const struct net *net, long *slot, long *num)
{
	struct mptcp_sock *msk = mptcp_token_iter_next(net, slot, num);

	return msk ? mptcp_msk_sk(msk) : NULL;
}

/* Is @sk a TCP subflow of an MPTCP connection (the "mptcp" ULP)? */
static const struct tcp_ulp_ops *mptcp_subflow_ulp(struct sock *sk)
{
	const struct tcp_ulp_ops *ops;

	if (!sk_fullsock(sk) || sk->sk_protocol != IPPROTO_TCP)
		return NULL;
	ops = READ_ONCE(inet_csk(sk)->icsk_ulp_ops);
	if (!ops || !ops->get_info || strcmp(ops->name, "mptcp"))
		return NULL;
	return ops;
}

/* The subflow's local token (its msk's), from the ULP's diag info. */
static bool mptcp_subflow_token(struct sock *ssk,
				const struct tcp_ulp_ops *ops, u32 *token)
{
	struct nlattr *nest, *attr;
	struct sk_buff *skb;
	bool found = false;

	/* The whole subflow info is about 100 bytes. */
	skb = alloc_skb(512, GFP_KERNEL);
	if (!skb)
		return false;
	if (sockleak_ulp_get_info(ops, ssk, skb) || skb->len < NLA_HDRLEN)
		goto out;
	nest = (struct nlattr *)skb->data;
	if (nest->nla_len < NLA_HDRLEN || nest->nla_len > skb->len ||
	    nla_type(nest) != INET_ULP_INFO_MPTCP)
		goto out;
	attr = nla_find_nested(nest, MPTCP_SUBFLOW_ATTR_TOKEN_LOC);
	if (attr && nla_len(attr) >= sizeof(u32)) {
		*token = nla_get_u32(attr);
		found = true;
	}
out:
	kfree_skb(skb);
	return found;
}

/*
 * The cookie of the msk that subflow @ssk belongs to (as ss -Me prints it
 * for the msk), 0 when @ssk is not a subflow, listens, or its msk is gone.
 */
static u64 mptcp_msk_cookie(struct sock *ssk)
{
	const struct tcp_ulp_ops *ops = mptcp_subflow_ulp(ssk);
	struct mptcp_sock *msk;
	u32 token;
	u64 cookie;

	if (!ops || READ_ONCE(ssk->sk_state) == TCP_LISTEN ||
	    !mptcp_subflow_token(ssk, ops, &token) || !token)
		return 0;
	msk = mptcp_token_get_sock(sock_net(ssk), token);
	if (!msk)
		return 0;
	/*
	 * Taken by the lookup for sockleak: counted as sockleak's from here
	 * (holds.c; until then a reader may count it as the socket's).
	 */
	sockleak_hold_note(mptcp_msk_sk(msk));
	cookie = sockleak_sk_cookie(mptcp_msk_sk(msk));
	sockleak_hold_put(mptcp_msk_sk(msk));
	return cookie;
}

/*
 * A TCP socket: is it a subflow (cheap, no lock taken), and if so, which
 * msk's (not in a brief snapshot: that takes the subflow's lock).
 */
static void mptcp_snap(struct sock *sk, struct sockleak_snap *s,
		       unsigned int how)
{
	if (s->proto != IPPROTO_TCP)
		return;
	s->subflow = !!mptcp_subflow_ulp(sk);
	if (s->subflow && !(how & SOCKLEAK_SNAP_BRIEF))
		s->msk = mptcp_msk_cookie(sk);
}

static const char * const mptcp_creators[] = { "MPTCP", "MPTCPv6", NULL };

/*
 * The msk charges TCP's memory counters but has its own census line. Its
 * teardown is mptcp_close(), then __mptcp_destroy_sock() (probed): the
 * msk's destroy, then sk_stream_kill_queues(); its token removal (the
 * unhash) has no probe.
 */
const struct sockleak_proto_ops sockleak_mptcp_proto = {
	.number		= IPPROTO_MPTCP,
	.name		= "mptcp",
	.label		= "MPTCP",
	.creators	= mptcp_creators,
	.line		= SOCKLEAK_LINE_MPTCP,
	.mem_line	= SOCKLEAK_LINE_TCP,
	.steps		= BIT(SOCKLEAK_STEP_CLOSE) | BIT(SOCKLEAK_STEP_DESTROY) |
			  BIT(SOCKLEAK_STEP_KILL_QUEUES),
	.close_fn	= "mptcp_close",
	.close_ev	= SOCKLEAK_EV_CLOSE,
	.destroy_fn	= "__mptcp_destroy_sock",
	.listen_unhashed = true,
	.walk_next	= mptcp_walk_next,
	.snap		= mptcp_snap,
};
