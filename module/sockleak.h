/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - find socket memory leaks and socket refcount leaks.
 *
 * Declarations shared between the files of the module. Each file owns one
 * concern; see README.md ("Layout") for the map.
 */
#ifndef _SOCKLEAK_H
#define _SOCKLEAK_H

#include <linux/compiler.h>
#include <linux/dcache.h>

/* Root of /sys/kernel/debug/sockleak, owned by main.c. */
extern struct dentry *sockleak_dir;

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
};

extern struct sockleak_tunables sockleak_tunables;

#define sockleak_tunable(field)	READ_ONCE(sockleak_tunables.field)

void sockleak_version_init(struct dentry *dir);
void sockleak_control_init(struct dentry *dir);
void sockleak_sockets_init(struct dentry *dir);
void sockleak_summary_init(struct dentry *dir);

#endif /* _SOCKLEAK_H */
