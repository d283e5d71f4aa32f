/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - the refcount watchpoints as the rest of the module calls
 * them: watch=, unwatch= and watch_next= (control.c), the track probes'
 * hooks (track_probes.c), load and unload (main.c). watch.h has what
 * watch.c, watch_next.c and refs.c share.
 */
#ifndef _SOCKLEAK_WATCHPOINTS_H
#define _SOCKLEAK_WATCHPOINTS_H

#include <linux/atomic.h>
#include <linux/types.h>

struct sock;

/* watch.c: refcount watchpoints ("watch=", "unwatch="). */
void sockleak_watch_init(void);
int sockleak_watch_arm(u64 cookie);
int sockleak_watch_disarm(u64 cookie);
void sockleak_watch_exit(void);

/* watch_next.c: "watch_next=", fed by the track probes. */
int sockleak_watch_next_check(const char *arg);
int sockleak_watch_next(const char *arg);
void sockleak_watch_new_match(struct sock *sk, u16 proto, u64 born, bool clone);
extern atomic_t sockleak_watch_next_left;

/*
 * From the track probes: a new socket, allocated (@clone false, its count
 * not set yet) or an accepted child (its count set, ports known), @born
 * the track table's token of its allocation. Inline: with no watch_next
 * pending, the rule, it is one load (make profile: a call per socket).
 */
static inline void sockleak_watch_new(struct sock *sk, u16 proto, u64 born,
				      bool clone)
{
	if (likely(atomic_read(&sockleak_watch_next_left) <= 0))
		return;
	sockleak_watch_new_match(sk, proto, born, clone);
}
void sockleak_watch_state(struct sock *sk, int oldstate, int newstate);
bool sockleak_watch_next_ports(void);
void sockleak_watch_port(struct sock *sk, bool connect);
void sockleak_watch_next_exit(void);

#endif /* _SOCKLEAK_WATCHPOINTS_H */
