// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the followed protocols: TCP, UDP, UDP-Lite and MPTCP.
 *
 * A followed protocol is one whose sockets the hash walk (walk.c) lists
 * and whose teardown the track table follows step by step; every other
 * protocol of every family is tracked from sk_alloc() to its free by the
 * generic hooks and named by family.c. Each followed protocol is a row
 * (struct sockleak_proto_ops, proto.h) of the table below: its number
 * and names, the names its struct proto gives itself (how a socket is
 * recognised: the protos of UDP-Lite and MPTCP are not exported), its
 * census line, its teardown steps and close function, and hooks for
 * what it has of its own: a table of its own for the walk, an iterator
 * over sockets in no table, snapshot values. TCP, UDP and UDP-Lite are
 * defined here (the walk knows their hash tables); MPTCP in mptcp.c.
 * Adding one is its row (in its own file when it has hooks), its entry
 * in protos[] and SOCKLEAK_NPROTOS (proto.h).
 *
 * Locking rules: none; the table is constant. sockleak_inet_proto() runs
 * in the track probes (any context but NMI) and reads only the socket's
 * sk_family and sk_prot_creator, set before sk_alloc() returns.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/string.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>
#include <net/udp.h>

#include "compat.h"
#include "proto.h"
#include "track.h"

static const char * const tcp_creators[] = { "TCP", "TCPv6", NULL };

static const struct sockleak_proto_ops tcp_proto = {
	.number		= IPPROTO_TCP,
	.name		= "tcp",
	.label		= "TCP",
	.creators	= tcp_creators,
	.line		= SOCKLEAK_LINE_TCP,
	.mem_line	= SOCKLEAK_LINE_TCP,
	.steps		= BIT(SOCKLEAK_STEP_CLOSE) | BIT(SOCKLEAK_STEP_TCP_CLOSE) |
			  BIT(SOCKLEAK_STEP_UNHASH) | BIT(SOCKLEAK_STEP_DESTROY) |
			  BIT(SOCKLEAK_STEP_KILL_QUEUES),
	.close_fn	= "tcp_close",
	.close_ev	= SOCKLEAK_EV_TCP_CLOSE,
	.destroy_fn	= "inet_csk_destroy_sock",
};

/* UDP and UDP-Lite differ in their names and UDP-Lite's own table. */
#define UDP_ROW(_number, _name, _label, _creators)			\
	.number		= _number,					\
	.name		= _name,					\
	.label		= _label,					\
	.creators	= _creators,					\
	.line		= SOCKLEAK_LINE_UDP,				\
	.mem_line	= SOCKLEAK_LINE_UDP,				\
	.steps		= BIT(SOCKLEAK_STEP_CLOSE) | BIT(SOCKLEAK_STEP_UNHASH), \
	.close_fn	= "sk_common_release",				\
	.close_ev	= SOCKLEAK_EV_CLOSE,				\
	.udp_style	= true

static const char * const udp_creators[] = { "UDP", "UDPv6", NULL };

static const struct sockleak_proto_ops udp_proto = {
	UDP_ROW(IPPROTO_UDP, "udp", "UDP", udp_creators),
};

static const char * const udplite_creators[] = { "UDP-Lite", "UDPLITEv6",
						 NULL };

/*
 * UDP-Lite: UDP with a global table of its own (none from 7.x on, where
 * its sockets are UDP's), counted on UDP's census line.
 */
static const struct sockleak_proto_ops udplite_proto = {
	UDP_ROW(IPPROTO_UDPLITE, "udplite", "UDP-Lite", udplite_creators),
	.udp_table	= sockleak_udplite_table,
};

/* In the walk's order: TCP's tables, UDP's, then the others'. */
static const struct sockleak_proto_ops *const protos[SOCKLEAK_NPROTOS] = {
	&tcp_proto, &udp_proto, &udplite_proto, &sockleak_mptcp_proto,
};

/* The row of followed protocol @number, NULL for any other. */
const struct sockleak_proto_ops *sockleak_proto(u16 number)
{
	unsigned int i;

	if (!number)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i]->number == number)
			return protos[i];
	return NULL;
}

/* Row @i of the table, NULL past its end. */
const struct sockleak_proto_ops *sockleak_proto_row(unsigned int i)
{
	return i < ARRAY_SIZE(protos) ? protos[i] : NULL;
}

/* The number of the followed protocol named @name, or -EINVAL. */
int sockleak_proto_parse(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(protos); i++)
		if (!strcmp(name, protos[i]->name))
			return protos[i]->number;
	return -EINVAL;
}

/* The followed protocol of inet socket @sk, 0 when it is none. */
u16 sockleak_inet_proto(const struct sock *sk)
{
	const struct proto *prot = READ_ONCE(sk->sk_prot_creator);
	const char * const *c;
	unsigned int i;

	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6)
		return 0;
	/* The exported protos first: every TCP or UDP socket is one. */
	if (prot == &tcp_prot)
		return IPPROTO_TCP;
	if (prot == &udp_prot)
		return IPPROTO_UDP;
#if IS_ENABLED(CONFIG_IPV6)
	if (prot == &tcpv6_prot)
		return IPPROTO_TCP;
#endif
	if (!prot)
		return 0;
	/* sk_protocol is not set yet when sk_alloc() returns: the name. */
	for (i = 0; i < ARRAY_SIZE(protos); i++)
		for (c = protos[i]->creators; *c; c++)
			if (!strcmp(prot->name, *c))
				return protos[i]->number;
	return 0;
}

/* Every row's snapshot values for followed socket @sk (snapshot.c). */
void sockleak_proto_snap(struct sock *sk, struct sockleak_snap *s,
			 unsigned int how)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i]->snap)
			protos[i]->snap(sk, s, how);
}
