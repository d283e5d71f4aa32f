/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - its own references on sockets, counted per socket (holds.c):
 * every reference sockleak takes and drops goes through these.
 */
#ifndef _SOCKLEAK_HOLDS_H
#define _SOCKLEAK_HOLDS_H

#include <linux/types.h>

struct sock;

void sockleak_holds_init(void);
/* refcount_inc_not_zero(), counted: false when @sk is being freed. */
bool sockleak_hold_get(struct sock *sk);
/* sock_hold(), counted: the caller knows @sk is alive. */
void sockleak_hold(struct sock *sk);
/* Count a reference the kernel took for sockleak (an iterator's). */
void sockleak_hold_note(struct sock *sk);
/* Drop one of sockleak's references (sock_gen_put() for the last). */
void sockleak_hold_put(struct sock *sk);
/* sk_refcnt and how much of it is sockleak's, read together. */
void sockleak_hold_count(const struct sock *sk, int *count, int *own);
/* sk_refcnt without sockleak's references. */
int sockleak_hold_refcnt(const struct sock *sk);
/* References taken uncounted (a full bucket). */
long sockleak_holds_lost(void);

#endif /* _SOCKLEAK_HOLDS_H */
