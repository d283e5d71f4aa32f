// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the memory cgroup and the cgroup of a socket.
 *
 * Both are pinned by the socket itself (mem_cgroup_sk_alloc() and
 * cgroup_sk_alloc() take references that __sk_destruct() drops), so a
 * caller holding a socket reference may read them without locks.
 *
 * Locking rules of the memcg enumeration (sockleak_memcg_for_each()): the
 * memcg tree is walked with css_next_descendant_pre() from the root memcg
 * under rcu_read_lock(), in chunks of MEMCG_CHUNK: each css of a chunk is
 * pinned with css_tryget() (which also succeeds on offline, dying memcgs;
 * it fails only for a css already being released, which is skipped), RCU
 * is dropped, and the callback runs in process context with that
 * reference held. The last css of a chunk stays pinned until the next
 * chunk has been collected, because css_next_descendant_pre() resumes from
 * it. The root memcg is never freed and is reached through init_task
 * (root_mem_cgroup and mem_cgroup_iter() are not exported).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/memcontrol.h>
#include <linux/rcupdate.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/sock.h>

#include "compat.h"
#include "memcg.h"

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

#ifdef CONFIG_MEMCG

#define MEMCG_CHUNK	16

static void memcg_info(struct cgroup_subsys_state *css,
		       struct sockleak_memcg_info *mi, char *path, size_t len)
{
	struct mem_cgroup *memcg = mem_cgroup_from_css(css);
	int ret;

	memset(mi, 0, sizeof(*mi));
	mi->ino = cgroup_ino(css->cgroup);
	mi->root = !css->parent;
	if (css->parent)
		mi->parent_ino = cgroup_ino(css->parent->cgroup);
	/*
	 * Dying as soon as its rmdir returns (css_is_dying()), before the
	 * kernel's offline work clears CSS_ONLINE.
	 */
	mi->online = mem_cgroup_online(memcg) && !css_is_dying(css);
	mi->v1 = !cgroup_subsys_on_dfl(memory_cgrp_subsys);
	mi->has_tcpmem = sockleak_memcg_tcpmem(memcg, &mi->tcpmem_pages,
					       &mi->tcpmem_active);
	ret = cgroup_path(css->cgroup, path, len);
	if (ret <= 0 || (size_t)ret >= len)
		strscpy(path, "-", len);
}

/*
 * Call @fn for every memory cgroup, online or dying, in pre-order (a
 * parent before its descendants), starting with the root memcg. @fn runs
 * in process context and may sleep; a non-zero return stops the walk and
 * is returned. See the locking rules at the top of this file.
 */
int sockleak_memcg_for_each(sockleak_memcg_fn fn, void *arg)
{
	struct cgroup_subsys_state *batch[MEMCG_CHUNK];
	struct cgroup_subsys_state *root, *css, *last = NULL;
	struct sockleak_memcg_info mi;
	int i, n, ret = 0;
	char *path;

	if (mem_cgroup_disabled())
		return 0;
	path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!path)
		return -ENOMEM;

	rcu_read_lock();
	root = &mem_cgroup_from_task(&init_task)->css;
	rcu_read_unlock();

	do {
		n = 0;
		rcu_read_lock();
		for (css = css_next_descendant_pre(last, root); css;
		     css = css_next_descendant_pre(css, root)) {
			if (!css_tryget(css))
				continue;
			batch[n++] = css;
			if (n == MEMCG_CHUNK)
				break;
		}
		rcu_read_unlock();
		if (last)
			css_put(last);
		last = NULL;

		for (i = 0; i < n; i++) {
			if (!ret) {
				memcg_info(batch[i], &mi, path, PATH_MAX);
				ret = fn(&mi, path, arg);
			}
			if (i < n - 1 || ret)
				css_put(batch[i]);
			else
				last = batch[i];
		}
		if (!ret && fatal_signal_pending(current))
			ret = -EINTR;
	} while (!ret && n == MEMCG_CHUNK);
	if (last)
		css_put(last);
	kfree(path);
	return ret;
}

#else /* !CONFIG_MEMCG */

int sockleak_memcg_for_each(sockleak_memcg_fn fn, void *arg)
{
	return 0;
}

#endif /* CONFIG_MEMCG */
