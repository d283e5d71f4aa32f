/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - the followed protocols (proto.c): their table, a row each,
 * and the census lines that count them.
 */
#ifndef _SOCKLEAK_PROTO_H
#define _SOCKLEAK_PROTO_H

#include <linux/types.h>

struct net;
struct sock;
struct sockleak_snap;
struct udp_table;

/*
 * The followed protocols (proto.c): TCP, UDP, UDP-Lite and MPTCP of the
 * inet families, the ones the hash walk (walk.c) sees and whose teardown
 * the track table follows step by step. proto.c's table has a row for
 * each; a protocol with code of its own defines its row in its own file
 * (MPTCP: mptcp.c). Rows are constant; the hooks may be NULL.
 */
enum sockleak_line {		/* census lines: summary, cgroups */
	SOCKLEAK_LINE_TCP,	/* these first ones have memory counters */
	SOCKLEAK_LINE_UDP,
	SOCKLEAK_LINE_MPTCP,
	SOCKLEAK_NLINES,
};
#define SOCKLEAK_LINES_ACCT	(SOCKLEAK_LINE_UDP + 1)
#define SOCKLEAK_NPROTOS	4	/* rows of proto.c's table */

struct sockleak_proto_ops {
	u16 number;		/* IPPROTO_*: the snapshot's proto */
	const char *name;	/* as reports and filters spell it */
	const char *label;	/* as the verdicts' texts name it */
	const char * const *creators;	/* struct proto names, NULL-ended */
	u8 line;		/* the census line counting it */
	u8 mem_line;		/* the line whose memory counters it charges */
	u8 steps;		/* its teardown steps: BIT(enum sockleak_step) */
	u8 close_ev;		/* the event its close is (enum sockleak_event) */
	const char *close_fn;	/* its owner's close, hooked while tracking */
	const char *destroy_fn;	/* what runs its destroy step ("suspects") */
	bool udp_style;		/* a UDP socket (struct udp_sock, reader_queue) */
	bool listen_unhashed;	/* a listener in no table, yet listed (ss -M) */
	/* A global UDP-style table of its own, NULL when none (walk.c). */
	struct udp_table *(*udp_table)(void);
	/*
	 * Its sockets that are in no table the walk knows, one netns at a
	 * time: the next after the position (*slot, *num), referenced.
	 */
	struct sock *(*walk_next)(const struct net *net, long *slot, long *num);
	/*
	 * Snapshot values of its own, called for every followed socket (a
	 * protocol may mark another's: MPTCP its TCP subflows). Process
	 * context, @sk held; @how as sockleak_snapshot()'s.
	 */
	void (*snap)(struct sock *sk, struct sockleak_snap *s,
		     unsigned int how);
};

extern const struct sockleak_proto_ops sockleak_mptcp_proto;
const struct sockleak_proto_ops *sockleak_proto(u16 number);
const struct sockleak_proto_ops *sockleak_proto_row(unsigned int i);
int sockleak_proto_parse(const char *name);
u16 sockleak_inet_proto(const struct sock *sk);
void sockleak_proto_snap(struct sock *sk, struct sockleak_snap *s,
			 unsigned int how);

/* A UDP socket: UDP, or UDP-Lite (UDP with a table of its own). */
static inline bool sockleak_proto_udp(u16 proto)
{
	const struct sockleak_proto_ops *ops = sockleak_proto(proto);

	return ops && ops->udp_style;
}

/*
 * Charges TCP's memory counters: TCP, and MPTCP (the msk, which is not a
 * tcp_sock, charges tcp_memory_allocated).
 */
static inline bool sockleak_proto_tcp_mem(u16 proto)
{
	const struct sockleak_proto_ops *ops = sockleak_proto(proto);

	return ops && ops->mem_line == SOCKLEAK_LINE_TCP;
}

#endif /* _SOCKLEAK_PROTO_H */
