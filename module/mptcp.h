/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - MPTCP sockets (msk) and their subflows, see mptcp.c.
 */
#ifndef _SOCKLEAK_MPTCP_H
#define _SOCKLEAK_MPTCP_H

#include <linux/types.h>

struct net;
struct sock;

struct sock *sockleak_mptcp_next(const struct net *net, long *slot, long *num);
u64 sockleak_mptcp_msk_cookie(struct sock *ssk);
bool sockleak_mptcp_is_subflow(struct sock *sk);

#endif /* _SOCKLEAK_MPTCP_H */
