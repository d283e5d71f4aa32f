/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - owners.c: the owner scan (which fds of which processes refer
 * to each socket), its values in a snapshot and its extra source.
 */
#ifndef _SOCKLEAK_OWNERS_H
#define _SOCKLEAK_OWNERS_H

#include <linux/types.h>

struct sockleak_snap;
struct sockleak_source;

/* owners.c */
int sockleak_owners_scan(void);
void sockleak_owners_fill(struct sockleak_snap *s);
void sockleak_owners_exit(void);
extern struct sockleak_source sockleak_owners_source;

#endif /* _SOCKLEAK_OWNERS_H */
