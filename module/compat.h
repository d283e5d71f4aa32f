/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - kernel version differences.
 *
 * Every difference between the kernels sockleak supports is one named
 * inline wrapper in this file, so that no .c file needs to test
 * LINUX_VERSION_CODE. Supported: Debian 12's 6.1 and 6.12 kernels.
 */
#ifndef _SOCKLEAK_COMPAT_H
#define _SOCKLEAK_COMPAT_H

#include <linux/version.h>
#include <linux/memcontrol.h>
#include <linux/page_counter.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/stacktrace.h>
#include <linux/tcp.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/udp.h>
#ifdef CONFIG_X86
#include <asm/unwind.h>
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "sockleak supports Linux 6.1 and later"
#endif

/*
 * proto_memory_allocated() and proto_memory_pressure() moved from
 * <net/sock.h> to <net/proto_memory.h> in 6.10.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#include <net/proto_memory.h>
#endif

/*
 * The UDP hash table a netns uses. 6.2 added per-netns tables
 * (net.ipv4.udp_child_hash_entries); net->ipv4.udp_table then points either
 * to the netns' own table or to the global udp_table. Before 6.2 every
 * netns uses udp_table.
 */
static inline struct udp_table *sockleak_net_udp_table(const struct net *net)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return net->ipv4.udp_table;
#else
	return &udp_table;
#endif
}

/*
 * tp->rcvq_space.space is u32 on 6.1 and int on 6.12. Either converts to
 * s64 without loss, so no version test is needed; the wrapper keeps the
 * type difference in one documented place.
 */
static inline s64 sockleak_tcp_rcv_space(const struct tcp_sock *tp)
{
	return READ_ONCE(tp->rcvq_space.space);
}

/*
 * cgroup v1 TCP accounting (memory.kmem.tcp.*): memcg->tcpmem, a
 * hierarchical page counter charged by mem_cgroup_charge_skmem() instead
 * of the memcg's memory when the memory controller is on a v1 hierarchy,
 * and memcg->tcpmem_active, set once memory.kmem.tcp.limit_in_bytes was
 * written (sockets are charged to the memcg only from then on). 6.11 put
 * both under CONFIG_MEMCG_V1, which Debian's 6.12 leaves off: there the
 * memory controller cannot be mounted on v1 at all. Returns true and the
 * usage in pages when the memcg is on a v1 hierarchy and has the counter.
 */
static inline bool sockleak_memcg_tcpmem(struct mem_cgroup *memcg,
					 unsigned long *pages, bool *active)
{
#if defined(CONFIG_MEMCG) && \
	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0) || \
	 defined(CONFIG_MEMCG_V1))
	if (cgroup_subsys_on_dfl(memory_cgrp_subsys))
		return false;
	*pages = page_counter_read(&memcg->tcpmem);
	*active = READ_ONCE(memcg->tcpmem_active);
	return true;
#else
	return false;
#endif
}

/*
 * The callers of a probed function, innermost first, from the probe's
 * registers at its entry: at most @max return addresses into @ent.
 * x86 (ORC) unwinds from @regs, so the frames of the probe machinery are
 * never walked (make bench: less than half the cost of stack_trace_save()
 * from the handler). Elsewhere: stack_trace_save(), then skip to the
 * function's return address (the top of its stack at entry).
 */
#ifdef CONFIG_X86
static inline unsigned int sockleak_stack_regs(struct pt_regs *regs,
					       unsigned long *ent,
					       unsigned int max)
{
	struct unwind_state state;
	unsigned int n = 0;
	unsigned long addr;

	for (unwind_start(&state, current, regs, NULL);
	     !unwind_done(&state) && n < max; unwind_next_frame(&state)) {
		addr = unwind_get_return_address(&state);
		if (!addr)
			break;
		ent[n++] = addr;
	}
	return n;
}
#else
static inline unsigned int sockleak_stack_regs(struct pt_regs *regs,
					       unsigned long *ent,
					       unsigned int max)
{
	unsigned long buf[64], ret = regs_get_kernel_stack_nth(regs, 0);
	unsigned int n, i, k = 0;

	n = stack_trace_save(buf, ARRAY_SIZE(buf), 0);
	for (i = 0; i < n && buf[i] != ret; i++)
		;
	for (; i < n && k < max; i++)
		ent[k++] = buf[i];
	return k;
}
#endif

#endif /* _SOCKLEAK_COMPAT_H */
