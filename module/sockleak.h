/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - find socket memory leaks and socket refcount leaks.
 *
 * What every layer shares: the files' modes, the tunables and the control
 * mutex, a socket's cookie. The data model has headers of its own: one
 * socket's snapshot (snapshot.h), the followed protocols (proto.h), the
 * socket families (family.h). Each layer's own API is in its header:
 * walk.h, sources.h, owners.h, holds.h, track.h, memcg.h, stack.h,
 * filter.h, classify.h, watchpoints.h (watch.h and watch_insn.h inside
 * the layer), reports.h and report.h (the debugfs files); compat.h wraps
 * each kernel difference.
 * Each file owns one concern; see README.md (the layers) for the map.
 */
#ifndef _SOCKLEAK_H
#define _SOCKLEAK_H

#include <linux/compiler.h>
#include <linux/mutex.h>
#include <linux/sock_diag.h>
#include <linux/types.h>

struct sock;

/* Root of /sys/kernel/debug/sockleak, owned by main.c. */

/* Mode of every file: root-only, as debugfs data exposes socket details. */
#define SOCKLEAK_MODE_RO	0400
#define SOCKLEAK_MODE_RW	0600

/*
 * Thresholds of the per-socket flags, owned by control.c. Writers hold the
 * control mutex and use WRITE_ONCE(); readers use READ_ONCE() on one field
 * at a time and take no lock.
 */
struct sockleak_tunables {
	unsigned int close_wait_ms;	/* flag close_wait at this age */
	unsigned int unread_ms;		/* flag unread at this age */
	unsigned int fin_wait2_ms;	/* 0: the netns' tcp_fin_timeout */
	unsigned int rcvbuf_pct;	/* flag rcvbuf_locked at this fill */
	unsigned int unhashed_ms;	/* flag unhashed_mem at this age */
	unsigned int grace_ms;		/* "tracked": closed at least this long */
	unsigned int max_entries;	/* track table size at the next track=on */
	unsigned int stacks;		/* tracker: enum sockleak_stacks */
	unsigned int stack_depth;	/* tracker: frames per stack */
};

extern struct sockleak_tunables sockleak_tunables;

/* Which stacks the tracker records (the "stacks" tunable). */
enum sockleak_stacks {
	SOCKLEAK_STACKS_NONE,	/* 0: none */
	SOCKLEAK_STACKS_TELLING, /* 1: full where they tell something */
	SOCKLEAK_STACKS_ALL,	/* 2: full at every allocation and close */
};

/*
 * Serialises the control file's writes: the tunables' writers and every
 * command (track=on|off, watch_next=, ...), which run with it held
 * (control.c). The files that commands reach assert it.
 */
extern struct mutex sockleak_control_mutex;

#define sockleak_tunable(field)	READ_ONCE(sockleak_tunables.field)

/* control.c: stop tracking, at unload (main.c). */
void sockleak_track_exit(void);

/* The socket's cookie, the number ss -e prints as sk: (generated if need be). */
static inline u64 sockleak_sk_cookie(struct sock *sk)
{
	u32 c[2];

	sock_diag_save_cookie(sk, c);
	return (u64)c[1] << 32 | c[0];
}

#endif /* _SOCKLEAK_H */
