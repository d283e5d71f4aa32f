/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - the track table: one entry per tracked socket, any family,
 * from allocation to free. See the locking rules in track_table.c.
 */
#ifndef _SOCKLEAK_TRACK_H
#define _SOCKLEAK_TRACK_H

#include <linux/kprobes.h>
#include <linux/sched.h>
#include <linux/types.h>

#include "walk.h"

struct sock;

#define SOCKLEAK_STACK_DEPTH	16
/* Frames kept by default (stack_depth): a syscall's path to its entry. */
#define SOCKLEAK_STACK_DEPTH_DEFAULT	8

/* How the track table learnt about a socket. */
enum sockleak_origin {
	SOCKLEAK_ORIGIN_UNKNOWN,	/* existed before tracking started */
	SOCKLEAK_ORIGIN_ALLOC,		/* sk_alloc() */
	SOCKLEAK_ORIGIN_CLONE,		/* sk_clone_lock(): accepted child */
};

/* Teardown steps, bits of sockleak_entry.steps, printed in this order. */
enum sockleak_step {
	SOCKLEAK_STEP_CLOSE,		/* owner closed: tcp_close(), UDP sk_common_release() */
	SOCKLEAK_STEP_TCP_CLOSE,	/* tcp_close() */
	SOCKLEAK_STEP_UNHASH,		/* tcp_set_state(CLOSE), udp_lib_unhash() */
	/* the protocol's destroy: TCP's from inet_csk_destroy_sock(), MPTCP's */
	SOCKLEAK_STEP_DESTROY,		/* from __mptcp_destroy_sock() */
	SOCKLEAK_STEP_KILL_QUEUES,	/* sk_stream_kill_queues(), right after (with DESTROY) */
	SOCKLEAK_STEP_NR,
};

/* Events the track probes feed into the track table. */
enum sockleak_event {
	SOCKLEAK_EV_CLOSE,
	SOCKLEAK_EV_TCP_CLOSE,
	SOCKLEAK_EV_UNHASH,
	SOCKLEAK_EV_DESTROY,		/* destroy, then kill-queues */
};

struct sockleak_stack {
	unsigned int depth;
	unsigned long ent[SOCKLEAK_STACK_DEPTH];
};

/* Does @addr fit a call site's 32 bits (sign-extended, top bit set)? */
static __always_inline bool sockleak_site_fits(unsigned long addr)
{
	return (long)addr == (long)(s32)addr && ((u32)addr & 0x80000000U);
}

/*
 * A call site as the track table keeps it, passed by value: the probed
 * function @ip and its caller @caller (0: none), each as its low 32 bits
 * (kernel and module text sign-extend from them); 0 when either does not
 * fit, then a probe passes them as a stack of two frames.
 */
static __always_inline u64 sockleak_site(unsigned long ip,
					 unsigned long caller)
{
	if (!sockleak_site_fits(ip) || (caller && !sockleak_site_fits(caller)))
		return 0;
	return (u32)ip | (u64)(u32)caller << 32;
}

/* What is known of a socket, copied out of the track table. No pointers. */
struct sockleak_entry_info {
	/*
	 * ktime_get_ns() times, to the tick (track_table.c), at most the
	 * time the copy was made: a reader's earlier "now" may be before
	 * them (sockleak_age_ns()).
	 */
	u64 alloc_ns;		/* at allocation, 0: unknown */
	u64 close_ns;		/* at close by the owner, 0: not closed */
	u64 unhash_ns;		/* at unhash, 0: not seen */
	pid_t alloc_pid, close_pid;	/* tgid */
	char alloc_comm[TASK_COMM_LEN];
	char close_comm[TASK_COMM_LEN];
	u8 origin;		/* enum sockleak_origin */
	u16 proto;		/* IPPROTO_TCP, _UDP, _UDPLITE, _MPTCP; 0: other */
	u8 last_state;		/* TCP: sk_state (read at copy time), 0xff: UDP */
	u8 steps;		/* BIT(enum sockleak_step) */
	u8 cleared;		/* hidden by the "clear" command */
	u8 dead;		/* SOCK_DEAD: orphaned (read at copy time) */
	u8 hashed;		/* in a hash table (read at copy time) */
	struct sockleak_stack alloc_stack;
	struct sockleak_stack close_stack;
};

/* @now - @t, 0 when @t (to the tick, made later) is after @now. */
static inline u64 sockleak_age_ns(u64 now, u64 t)
{
	return now > t ? now - t : 0;
}

/* Which entries sockleak_track_grab() returns. */
enum sockleak_track_filter {
	SOCKLEAK_TRACK_TRACKED,	/* the "tracked" report: closed-not-freed */
	SOCKLEAK_TRACK_UNHASHED,	/* live sockets no walked table holds */
	SOCKLEAK_TRACK_COOKIE,	/* the socket with this cookie */
};

struct sockleak_track_stats {
	unsigned long entries, max_entries, overflow, stack_overflow;
	unsigned long stacks, max_stacks, unknown_origin;
	size_t bytes;		/* the table, allocated at track=on */
	size_t stack_bytes;	/* of which the stack store */
	bool on;
};

int sockleak_track_table_start(unsigned int max_entries);
/* The ceiling of the max_entries tunable, whatever the machine. */
#define SOCKLEAK_MAX_ENTRIES	(1U << 24)
unsigned int sockleak_track_max_entries(void);
void sockleak_track_table_stop(void);
bool sockleak_track_on(void);

/* Probe context: never sleeps, O(1). The allocation's token, 0: untracked. */
u64 sockleak_track_alloc(struct sock *sk, u16 proto, u8 origin,
			 const struct sockleak_stack *stack, u64 site);
void sockleak_track_event(struct sock *sk, u16 proto, enum sockleak_event ev,
			  const struct sockleak_stack *stack);
void sockleak_track_release(struct sock *sk,
			    const struct sockleak_stack *stack, u64 site);
void sockleak_track_free(struct sock *sk);

/* Process context. */
int sockleak_track_grab(unsigned long *pos, enum sockleak_track_filter filter,
		      u64 cookie, struct sockleak_ref *refs,
		      struct sockleak_entry_info *infos, int max);
u64 sockleak_track_find(bool (*match)(const struct sock *sk, const void *arg),
			const void *arg);
bool sockleak_track_grab_sk(struct sock *sk, u64 born,
			  struct sockleak_ref *ref);
int sockleak_track_clear(void);

void sockleak_track_stats(struct sockleak_track_stats *st);

/* tracked.c */
void sockleak_tracked_missing(const struct sockleak_entry_info *in, char *buf,
			      size_t len);

/* track_probes.c */
/* A kprobe can be registered once: reset the fields registration sets. */
static inline void sockleak_kprobe_reset(struct kprobe *kp)
{
	kp->addr = NULL;
	kp->flags = 0;
	kp->nmissed = 0;
}

int sockleak_track_probes_start(void);
void sockleak_track_probes_stop(void);
void sockleak_track_free_unhook(void);
void sockleak_track_probes_exit(void);
unsigned long sockleak_track_probes_missed(void);
int sockleak_stack_filter_check(const char *arg);
int sockleak_stack_filter_set(const char *arg);
const char *sockleak_stack_filter_text(void);

#endif /* _SOCKLEAK_TRACK_H */
