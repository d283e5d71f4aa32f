/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - refcount watchpoints: what watch.c (the watchpoints and their
 * #DB handler), watch_next.c (arming the next sockets created) and refs.c
 * (the "refs" report, the holder named in "tracked" and "suspects") share.
 * The locking rules are at the top of watch.c.
 */
#ifndef _SOCKLEAK_WATCH_H
#define _SOCKLEAK_WATCH_H

#include <linux/atomic.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "family.h"

struct perf_event;
struct sock;

#define WATCH_SLOTS	8	/* watches kept, armed or ended */
#define WATCH_RING	1024	/* latest changes kept per watch */
#define WATCH_SITES	64	/* distinct stacks per watch */
#define WATCH_DEPTH	16	/* frames per stack */

enum { W_CTX_TASK, W_CTX_SOFTIRQ, W_CTX_HARDIRQ, W_CTX_NMI };
/*
 * A watch's life: W_STANDBY (a watchpoint registered ahead on a word of
 * its own, for watch_next), W_CLAIMED (a probe is re-pointing it), then
 * W_ARMED and W_FREED; W_DROPPED: a standby being destroyed.
 */
enum { W_ARMED = 1, W_FREED, W_STANDBY, W_CLAIMED, W_DROPPED };

/* How a watch was armed: "watch=<cookie>", or "watch_next" at which point. */
enum watch_origin {
	W_ORIGIN_COOKIE, W_ORIGIN_ALLOC, W_ORIGIN_CLONE, W_ORIGIN_CONNECT,
	W_ORIGIN_LISTEN, W_ORIGIN_BIND,
};

struct watch_site {
	u32 hash;		/* 0: free; claimed with cmpxchg() */
	int ready;		/* the fields below are written (release) */
	atomic_t count;		/* references taken or dropped here */
	s8 op;			/* 1 get, -1 put, 0 none */
	u8 ctx;			/* of the first change */
	pid_t pid;
	char comm[TASK_COMM_LEN];
	unsigned int depth;
	unsigned long ent[WATCH_DEPTH];
};

struct watch_rec {
	unsigned int seq;	/* change number, written last; 0: none */
	int old, new;
	u64 t_ns;
	pid_t pid;
	u16 cpu;
	u8 ctx;
	u8 site;		/* index + 1; 0: no site */
	char comm[TASK_COMM_LEN];
};

struct sockleak_watch {
	u64 cookie;
	struct sock *sk;	/* identity; read by the handler while armed */
	struct perf_event * __percpu *bp;	/* NULL once unregistered */
	int state;		/* W_ARMED, W_FREED */
	u16 proto;
	char proto_name[SOCKLEAK_PROTO_NAME_LEN];	/* as the reports print it */
	u8 origin;		/* enum watch_origin */
	u64 born_ns;		/* allocation (watch_next), 0: unknown */
	int base;		/* count at arming, sockleak's reference left out */
	atomic_t last;		/* the count, as the changes add up */
	atomic_t own;		/* net references sockleak holds */
	atomic_t own_lo;	/* own's lowest: below 0, sockleak held more */
	atomic_t seq;		/* changes recorded */
	atomic_t gets, puts;
	atomic_t sites_lost;
	atomic_t folded;	/* moves folded into sockleak's own changes */
	atomic_t undecoded;	/* changes read back, not decoded */
	u64 armed_ns, freed_ns;
	/*
	 * Armed from a probe (a standby re-pointed): the other CPUs' watchpoints
	 * follow by IPI (csd); cpus_left counts those not done yet, all_ns is
	 * when the last one was, unseen what the count moved by meanwhile.
	 */
	call_single_data_t __percpu *csd;
	call_single_data_t settle_csd;	/* back to the claiming CPU */
	int claim_cpu;
	atomic_t cpus_left;
	u64 all_ns;
	int unseen;
	unsigned long addr;	/* the word watched now (a standby's own) */
	atomic_t cpus_late;	/* CPUs that came online while it watched */
	bool held;		/* by sockleak, until the work settles it */
	bool cookie_later;	/* a child: its cookie is read by the work */
	struct work_struct work;	/* unregisters after the free */
	struct watch_site sites[WATCH_SITES];
	struct watch_rec ring[WATCH_RING];
};

/*
 * The count's split at arming, corrected: own is how many references
 * sockleak held at the arming (holds.c), but one it took uncounted (a
 * full bucket: holds_lost) was left in base. Its put, of sockleak's own,
 * takes own below 0: that many more were sockleak's, not from before the
 * watch.
 */
static inline int sockleak_watch_extra_own(const struct sockleak_watch *w)
{
	return -min(atomic_read(&w->own_lo), 0);
}

static inline int sockleak_watch_base(const struct sockleak_watch *w)
{
	return w->base - sockleak_watch_extra_own(w);
}

static inline int sockleak_watch_own(const struct sockleak_watch *w)
{
	return atomic_read(&w->own) + sockleak_watch_extra_own(w);
}

/* watch.c: the watches, under sockleak_watch_mutex. */
extern struct mutex sockleak_watch_mutex;
extern struct sockleak_watch *sockleak_watch_slots[WATCH_SLOTS];
struct sockleak_watch *sockleak_watch_lookup(u64 cookie, int *slot);
int sockleak_watch_arm_sk(struct sock *sk, u64 cookie, u16 proto,
			  u64 born_ns, u8 origin);
void sockleak_watch_detach_tp(void);

/*
 * Standby watchpoints (watch_next.c): sockleak_watch_standby_add() and
 * _trim() under sockleak_watch_mutex; sockleak_watch_claim() from a probe
 * (preemption disabled) arms a standby on @sk before the probe returns.
 */
int sockleak_watch_standby_add(void);
void sockleak_watch_standby_trim(int keep);
int sockleak_watch_standbys(void);
bool sockleak_watch_claim(struct sock *sk, u16 proto, u64 born_ns, u8 origin);
int sockleak_watch_settle_claims(void);

/* watch_next.c: its line of "refs", sockleak_watch_mutex held. */
struct seq_file;
void sockleak_watch_next_show(struct seq_file *m);

#endif /* _SOCKLEAK_WATCH_H */
