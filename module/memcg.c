// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the memory cgroup and the cgroup of a socket.
 *
 * Both are pinned by the socket itself (mem_cgroup_sk_alloc() and
 * cgroup_sk_alloc() take references that __sk_destruct() drops), so a
 * caller holding a socket reference may read them without locks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/memcontrol.h>
#include <linux/string.h>
#include <net/sock.h>

#include "compat.h"
#include "sockleak.h"

/*
 * The memory cgroup the socket is charged to, as the inode number of its
 * cgroup directory (the cgroup id, as in /proc/self/cgroup's inode or
 * "stat -c %i"). 0 when the socket is not charged to a memcg: root memcg,
 * cgroup v1 without kmem.tcp accounting, or a child not yet accepted.
 */
u64 sockleak_sk_memcg_ino(const struct sock *sk)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg = READ_ONCE(sk->sk_memcg);

	if (memcg)
		return cgroup_ino(memcg->css.cgroup);
#endif
	return 0;
}

/*
 * The cgroup v2 path of the socket's cgroup (sk_cgrp_data), relative to
 * the v2 root ("/" for the root), into @buf; "-" when the socket has no
 * cgroup or the path does not fit. cgroup_path() is kernfs_path(): it
 * takes kernfs_rename_lock only and does not sleep.
 */
void sockleak_sk_cgroup_path(struct sock *sk, char *buf, size_t len)
{
#ifdef CONFIG_SOCK_CGROUP_DATA
	struct cgroup *cgrp = sock_cgroup_ptr(&sk->sk_cgrp_data);
	int ret;

	if (cgrp) {
		ret = cgroup_path(cgrp, buf, len);
		if (ret > 0 && (size_t)ret < len)
			return;
	}
#endif
	strscpy(buf, "-", len);
}
