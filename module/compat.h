/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - kernel version differences.
 *
 * Every difference between the kernels sockleak supports is one named
 * inline wrapper in this file, so that no .c file needs to test
 * LINUX_VERSION_CODE. Supported: Debian 12's 6.1 and 6.12 kernels, Debian
 * sid's 7.2 and experimental's 7.3.
 */
#ifndef _SOCKLEAK_COMPAT_H
#define _SOCKLEAK_COMPAT_H

#include <linux/version.h>
#include <linux/ftrace.h>
#include <linux/memcontrol.h>
#include <linux/page_counter.h>
#include <linux/sched.h>
#include <linux/tcp.h>
#include <linux/workqueue.h>
#include <net/inet_connection_sock.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/udp.h>

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
 * The socket's forward allocated memory as inet_diag reports it
 * (SK_MEMINFO_FWD_ALLOC, the "f" of ss -m). Before 6.15 sk_get_meminfo()
 * reads sk_forward_alloc_get(), which calls the proto's forward_alloc_get()
 * when it has one (only MPTCP's) and else reads sk_forward_alloc. 6.15
 * removed both (MPTCP keeps its forward allocation in sk_forward_alloc
 * too); sk_get_meminfo() reads READ_ONCE(sk->sk_forward_alloc) since.
 */
static inline int sockleak_sk_fwd_alloc(const struct sock *sk)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
	return READ_ONCE(sk->sk_forward_alloc);
#else
	return sk_forward_alloc_get(sk);
#endif
}

/*
 * The per-CPU orphan counter of a protocol (TCP: tcp_orphan_count, which
 * sockstat sums as "orphan"), NULL when it has none. 6.18 removed
 * proto->orphan_count; tcp_orphan_count and tcp_orphan_count_sum() are
 * not exported there (7.2, 7.3), so no module can read the count: NULL.
 */
static inline unsigned int __percpu *
sockleak_proto_orphan_count(const struct proto *prot)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
	return NULL;
#else
	return prot->orphan_count;
#endif
}

/*
 * The per-CPU system workqueue: system_wq until "workqueue: Add
 * system_percpu_wq and system_dfl_wq" (6.17); 7.3 prints "enqueued on
 * deprecated workqueue" at the first work queued on system_wq.
 */
static inline struct workqueue_struct *sockleak_system_wq(void)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
	return system_percpu_wq;
#else
	return system_wq;
#endif
}

/*
 * When the TCP retransmit timer (retransmit, zero window probe, loss
 * probe, reorder: whatever icsk_pending says) fires, in jiffies. It was
 * icsk->icsk_timeout until "tcp: remove icsk->icsk_timeout" (6.15), which
 * read it from the timer through icsk_timeout(); 6.19 moved the timer to
 * sk->tcp_retransmit_timer and the reader to tcp_timeout_expires().
 */
static inline unsigned long sockleak_tcp_timeout_expires(const struct sock *sk)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	return tcp_timeout_expires(sk);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
	return icsk_timeout(inet_csk(sk));
#else
	return READ_ONCE(inet_csk(sk)->icsk_timeout);
#endif
}

/*
 * The TCP keepalive timer, the one inet_diag tests for ss -o's
 * "keepalive". It was sk->sk_timer until "tcp: introduce
 * icsk->icsk_keepalive_timer" (6.19), which moved it to
 * icsk_keepalive_timer and made sk_timer share its storage with the
 * retransmit timer. The move was backported to the stable series: Debian
 * has it from 6.1.192 and 6.12.113 (6.1.190 and 6.12.111 do not); before
 * those, sk->sk_timer, the field every kernel still has.
 */
static inline struct timer_list *sockleak_tcp_keepalive_timer(struct sock *sk)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0) || \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 113) && \
	 LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)) || \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 192) && \
	 LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0))
	return &inet_csk(sk)->icsk_keepalive_timer;
#else
	return &sk->sk_timer;
#endif
}

/*
 * The function that clones a socket (accepted TCP children), probed by a
 * kretprobe. 6.19 renamed sk_clone_lock() to sk_clone(sk, priority, lock);
 * sk_clone_lock() is an inline calling sk_clone(sk, priority, true) since.
 * Its first argument is still the parent socket and it returns the clone.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#define SOCKLEAK_SK_CLONE_SYM	"sk_clone"
#else
#define SOCKLEAK_SK_CLONE_SYM	"sk_clone_lock"
#endif

/*
 * The registers an ftrace_ops callback gets (x86 ftrace with arguments:
 * the argument registers, ip, sp and bp are filled, the others not).
 * 6.12's Debian kernel, like 6.13 upstream, keeps them in struct
 * __arch_ftrace_regs (arch_ftrace_regs()); before, struct ftrace_regs
 * held the pt_regs itself.
 */
static inline struct pt_regs *sockleak_ftrace_regs(struct ftrace_regs *fregs)
{
#ifdef arch_ftrace_regs
	return &arch_ftrace_regs(fregs)->regs;
#else
	return &fregs->regs;
#endif
}

/*
 * A TCP ULP's diag info (what ss -ti prints after "tcp-ulp-<name>"). 6.15
 * ("tcp: ulp: diag: more info without CAP_NET_ADMIN") added the net_admin
 * argument; without it MPTCP still gives the tokens and ids.
 */
static inline int sockleak_ulp_get_info(const struct tcp_ulp_ops *ops,
					struct sock *sk, struct sk_buff *skb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
	return ops->get_info(sk, skb, false);
#else
	return ops->get_info(sk, skb);
#endif
}

/*
 * The UDP hash table a netns uses. 6.2 added per-netns tables
 * (net.ipv4.udp_child_hash_entries); net->ipv4.udp_table then points either
 * to the netns' own table or to the global udp_table. Before 6.2 every
 * netns uses udp_table. init_net always uses the global table, so
 * sockleak_net_udp_table(&init_net) is the global table on every kernel:
 * udp_table itself is not exported on 7.2 and 7.3.
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
 * UDP-Lite has its own global hash table, udplite_table (exported), and
 * shares UDP's memory accounting (udp_memory_allocated). 7.x removed it,
 * with <net/udplite.h>: then there is no table to walk.
 */
#if __has_include("net/udplite.h")
#include <net/udplite.h>
static inline struct udp_table *sockleak_udplite_table(void)
{
	return &udplite_table;
}
#else
static inline struct udp_table *sockleak_udplite_table(void)
{
	return NULL;
}
#endif

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
 * snmp_fold_field(): a MIB counter (net->mib.*_statistics) summed over the
 * possible CPUs. Exported on 6.1 and 6.12, not on 7.2 and 7.3; the inline
 * snmp_get_cpu_field() it sums is in <net/ip.h> on all of them, so the
 * same loop here gives the same number everywhere without a version test.
 */
static inline unsigned long sockleak_snmp_fold(void __percpu *mib, int offt)
{
	unsigned long res = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		res += snmp_get_cpu_field(mib, cpu, offt);
	return res;
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
 * The error register_wide_hw_breakpoint() returned, or 0. Its per-CPU
 * pointer is tested with IS_ERR_PCPU()/PTR_ERR_PCPU() where they exist
 * (6.12 and later: 7.x's named address spaces refuse a plain cast to a
 * generic pointer); before them, with a __force cast.
 */
struct perf_event;
static inline long sockleak_wide_bp_err(struct perf_event * __percpu *bp)
{
#ifdef IS_ERR_PCPU
	return IS_ERR_PCPU(bp) ? PTR_ERR_PCPU(bp) : 0;
#else
	return IS_ERR((void __force *)bp) ? PTR_ERR((void __force *)bp) : 0;
#endif
}

/*
 * Whether an nsfs dentry of a netns exists: an open /proc/PID/ns/net (or
 * any nsfs file of it) or a bind mount (ip netns add) refers to it. The
 * nsfs dentry is freed at its last dput() (always_delete_dentry before
 * 6.9, an unhashed stashed dentry since), which clears ns.stashed. 6.9
 * ("nsfs: convert to path_from_stashed() helper") made the atomic_long_t a
 * struct dentry pointer.
 */
static inline bool sockleak_net_nsfs_held(const struct net *net)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	return !!READ_ONCE(net->ns.stashed);
#else
	return !!atomic_long_read(&net->ns.stashed);
#endif
}

#endif /* _SOCKLEAK_COMPAT_H */
