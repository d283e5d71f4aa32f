/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - socket filters: "key:value,..." as watch_next= and
 * stack_filter= take them, parsed in process context and matched in probe
 * context (filter.c).
 */
#ifndef _SOCKLEAK_FILTER_H
#define _SOCKLEAK_FILTER_H

#include <linux/sched.h>
#include <linux/types.h>

struct sock;

/* Longest filter text accepted. */
#define SOCKLEAK_FILTER_LEN	64

struct sockleak_filter {
	u16 proto;			/* TCP, UDP, UDP-Lite, MPTCP; 0: any */
	char proto_name[16];		/* any other protocol, "": any */
	int family;			/* AF_*, -1: any */
	u16 port;			/* local or remote, 0: any */
	u32 netns;			/* inode number, 0: any */
	char comm[TASK_COMM_LEN];	/* the task at the event, "": any */
	int count;			/* count:N, 1 when not given */
};

/* Keys a filter may carry, for sockleak_filter_parse(). */
#define SOCKLEAK_FILTER_PROTO	BIT(0)
#define SOCKLEAK_FILTER_COUNT	BIT(1)

int sockleak_filter_parse(const char *arg, unsigned int keys,
			  int max_count, struct sockleak_filter *f);

/*
 * Does the socket of netns @netns, protocol @proto (0: unknown yet or not
 * followed) match? @who gives the family and the protocol's name (NULL:
 * unknown, when the filter names none); @sk gives the ports (NULL: none
 * known yet); @task: the event runs for the current task (comm is
 * compared), else it has no task.
 */
bool sockleak_filter_match(const struct sockleak_filter *f, u32 netns,
			   u16 proto, const struct sock *who,
			   const struct sock *sk, bool task);

#endif /* _SOCKLEAK_FILTER_H */
