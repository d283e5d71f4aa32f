/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - memcg.c: a socket's memory cgroup, and every memory cgroup
 * in turn (cgroups.c).
 */
#ifndef _SOCKLEAK_MEMCG_H
#define _SOCKLEAK_MEMCG_H

#include <linux/types.h>

struct sock;

/* memcg.c */
u64 sockleak_sk_memcg_ino(const struct sock *sk);
void sockleak_sk_cgroup_path(struct sock *sk, char *buf, size_t len);

/* One memory cgroup, as sockleak_memcg_for_each() hands it out. */
struct sockleak_memcg_info {
	u64 ino;		/* cgroup_ino() of the memcg's cgroup */
	u64 parent_ino;		/* the parent's, 0 for the root */
	bool root;		/* the root memcg */
	bool online;		/* false: offline (rmdir'ed), still alive */
	bool v1;		/* memory controller on a cgroup v1 hierarchy */
	bool has_tcpmem;	/* v1: tcpmem_pages and tcpmem_active valid */
	bool tcpmem_active;	/* v1: memory.kmem.tcp.limit_in_bytes set */
	unsigned long tcpmem_pages;	/* v1: memory.kmem.tcp.usage, pages */
};

typedef int (*sockleak_memcg_fn)(const struct sockleak_memcg_info *mi,
				 const char *path, void *arg);
int sockleak_memcg_for_each(sockleak_memcg_fn fn, void *arg);

#endif /* _SOCKLEAK_MEMCG_H */
