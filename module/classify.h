/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - what a socket snapshot means (classify.c): its flags, its
 * verdict, why it is not freed, and the names the reports print them
 * with; and what a memory cgroup's totals mean. From the values alone:
 * no socket access, no lock.
 */
#ifndef _SOCKLEAK_CLASSIFY_H
#define _SOCKLEAK_CLASSIFY_H

#include <linux/types.h>

struct sockleak_snap;

void sockleak_classify(struct sockleak_snap *s);
const char *sockleak_flag_name(int flag);
int sockleak_first_flag(const struct sockleak_snap *s);
const char *sockleak_verdict_name(unsigned int verdict);
const char *sockleak_timer_name(unsigned int timer);
const char *sockleak_state_name(unsigned int state);
int sockleak_verdict_explain(char *buf, size_t len,
			     const struct sockleak_snap *s);

/* The reason codes of "suspects" for what no flag names: not freed. */
enum sockleak_reason {
	SOCKLEAK_R_NOT_FREED,	/* closed, references left; tracked sockets */
	SOCKLEAK_R_NO_TIMER,	/* an orphan no timer will end */
	SOCKLEAK_R_NO_SOCKET,	/* no struct socket, in no table */
	SOCKLEAK_R_PINS_NETNS,	/* a kernel socket holding its unreached netns */
	SOCKLEAK_R_DEAD_NETNS,	/* in an unreached netns another holds */
	SOCKLEAK_R_NR,
};

const char *sockleak_reason_name(unsigned int reason);
unsigned int sockleak_never_reason(const struct sockleak_snap *s);
bool sockleak_closed_not_freed(const struct sockleak_snap *s);

/* What the totals of one memory cgroup mean ("cgroups", "suspects"). */
struct sockleak_memcg_judgement {
	bool dying;		/* offline, still held by sockets */
	long residue;		/* v1: tcpmem - subtree's charge, bytes; 0: none */
};

void sockleak_classify_memcg(struct sockleak_memcg_judgement *j, bool offline,
			     unsigned long sockets, bool has_tcpmem,
			     unsigned long tcpmem_pages,
			     unsigned long subtree_pages);

#endif /* _SOCKLEAK_CLASSIFY_H */
