/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - owners.c: the owner scan (which fds of which processes refer
 * to each socket), its values in a snapshot, its extra source, and which
 * socket pins its netns.
 */
#ifndef _SOCKLEAK_OWNERS_H
#define _SOCKLEAK_OWNERS_H

#include <linux/types.h>

struct sock;
struct sockleak_snap;
struct sockleak_source;

/* owners.c */
int sockleak_owners_scan(void);
void sockleak_owners_fill(struct sockleak_snap *s);
void sockleak_owners_exit(void);
extern struct sockleak_source sockleak_owners_source;

/*
 * An open socket with no file that holds a counted reference on its netns
 * (sk_net_refcnt): what keeps a netns alive that nothing in user space
 * reaches (owners.c's scan, classify.c's pins_netns). @has_file: its
 * struct socket has a file.
 */
bool sockleak_sk_pins_netns(const struct sock *sk, bool has_file);

#endif /* _SOCKLEAK_OWNERS_H */
