/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - the debugfs files, one per report (main.c creates them), and
 * what one report takes from another: the per-memcg table of cgroups.c
 * (suspects.c), the holder of a watched socket (refs.c, for tracked.c
 * and suspects.c), the dump= commands (control.c), the tracker's extra
 * source (tracked.c). report.h has the file of a report collected at open.
 */
#ifndef _SOCKLEAK_REPORTS_H
#define _SOCKLEAK_REPORTS_H

#include <linux/types.h>

struct dentry;
struct seq_file;
struct sockleak_snap;
struct sockleak_source;

/* version.c */
void sockleak_version_init(struct dentry *dir);

/* sockets.c */
void sockleak_sockets_init(struct dentry *dir);

/* summary.c */
void sockleak_summary_init(struct dentry *dir);

/* suspects.c */
void sockleak_suspects_init(struct dentry *dir);

/* tracked.c */
void sockleak_tracked_init(struct dentry *dir);
int sockleak_tracked_dump(u64 cookie);
extern struct sockleak_source sockleak_track_source;

/*
 * cgroups.c: the per-memcg socket table behind the "cgroups" file. Every
 * socket reaches it through sockleak_cgroups_account(), one snapshot at a
 * time (the hash walk, and any other source of socket snapshots).
 */
struct sockleak_cgroups;
struct sockleak_cgroups *sockleak_cgroups_new(void);
void sockleak_cgroups_free(struct sockleak_cgroups *cg);
int sockleak_cgroups_account(struct sockleak_cgroups *cg,
			     const struct sockleak_snap *s);
void sockleak_cgroups_init(struct dentry *dir);

/* cgroups.c: a memcg that looks like a leak, for "suspects". */
struct sockleak_cg_suspect {
	u64 id;			/* cgroup ino */
	const char *path;	/* NULL: unknown */
	bool dying;		/* offline, still held by sockets */
	unsigned long sockets;
	u64 bytes;		/* charged by its sockets */
	long residue;		/* v1: tcpmem - charged by sockets, bytes */
};

int sockleak_cgroups_suspects(struct sockleak_cgroups *cg,
			      int (*fn)(void *arg,
					const struct sockleak_cg_suspect *cs),
			      void *arg);

/* refs.c: the "refs" file, the holder for "tracked" and "suspects". */
void sockleak_refs_init(struct dentry *dir);
int sockleak_watch_holder(u64 cookie, char *buf, size_t len);
void sockleak_watch_show_held(struct seq_file *m, u64 cookie);
int sockleak_watch_dump(u64 cookie);

/* control.c: the "control" file. */
void sockleak_control_init(struct dentry *dir);

#endif /* _SOCKLEAK_REPORTS_H */
