// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - lifecycle probes: kprobes and kretprobes on the functions an
 * inet socket passes through from allocation to free, feeding the
 * registry (registry.c). Only TCP and UDP sockets, IPv4 and IPv6, are
 * followed (by sk_prot_creator; udpv6_prot is not exported, so UDPv6 is
 * recognised by its proto name).
 *
 *   sk_alloc (return)		allocation: task, stack
 *   sk_clone_lock (return)	accepted child (softirq: no task)
 *   inet_release		owner close (inet6_release calls it too)
 *   tcp_close			close of a TCP socket: task, stack
 *   inet_unhash, udp_lib_unhash	unhash step
 *   inet_csk_destroy_sock	destroy step
 *   sk_stream_kill_queues	kill-queues step
 *   tcp_set_state		last TCP state
 *   sk_destruct, __sk_destruct	free (before the memory is released;
 *				__sk_destruct takes the rcu head when run
 *				from call_rcu(), and may be inlined into
 *				sk_destruct on the direct path: both probed)
 *   tracepoint kmem_cache_free	free, for certain: the object goes back to
 *				the TCP/TCPv6/UDP/UDPv6 slab
 *
 * A kprobe that is armed as an int3 breakpoint (not on an ftrace site, or
 * while ftrace patches the site) runs its handler in NMI context, where
 * the registry's locks must not be taken: such hits are skipped and
 * counted as missed (lc_nmi_skipped). An allocation skipped this way is
 * not tracked; a skipped free is still seen by the tracepoint.
 *
 * A kprobe hit while another kprobe handler runs on the same CPU (an
 * interrupt's softirq freeing a socket during a handler) is dropped by
 * the kprobe layer. A dropped free would leave the registry pointing at
 * freed memory, so the free that counts is the kmem_cache_free
 * tracepoint: tracepoint probes are plain calls, never dropped. The
 * kprobes on the destructors only remove the entry earlier.
 *
 * The orphan step (sock_orphan() is inline) is read from SOCK_DEAD.
 *
 * Locking rules: the handlers run with preemption disabled, in process,
 * softirq or RCU callback context; they only call the registry's probe
 * entry points, which take one stripe spinlock with interrupts disabled.
 * unregister_kprobes()/unregister_kretprobes() wait for running handlers,
 * so after sockleak_lifecycle_stop() none runs. The tracepoint probe stays
 * attached until unload and runs with preemption disabled: the registry
 * waits for it with synchronize_rcu() before freeing the table. The free probes are
 * registered first and unregistered last, so that no socket enters the
 * registry without its free being seen.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/ptrace.h>
#include <linux/stacktrace.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>
#include <net/udp.h>

#include "compat.h"
#include "sockleak.h"
#include "registry.h"

#include <trace/events/kmem.h>

static atomic_long_t lc_nmi_skipped;
static bool lc_tp_attached;	/* kmem_cache_free probe, under control_mutex */

/* In NMI context (int3-armed kprobe): take no lock, count the miss. */
static bool lc_in_nmi(void)
{
	if (likely(!in_nmi()))
		return false;
	atomic_long_inc(&lc_nmi_skipped);
	return true;
}

/* The slabs of the sockets followed: TCP, TCPv6, UDP, UDPv6 (learnt). */
enum { LC_SLAB_TCP, LC_SLAB_TCP6, LC_SLAB_UDP, LC_SLAB_UDP6, LC_NSLABS };
static struct kmem_cache *lc_slabs[LC_NSLABS];

/* TCP or UDP when @sk is an inet TCP/UDP socket, else 0. */
u8 sockleak_inet_proto(const struct sock *sk)
{
	const struct proto *prot = READ_ONCE(sk->sk_prot_creator);

	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6)
		return 0;
	if (prot == &tcp_prot)
		return IPPROTO_TCP;
	if (prot == &udp_prot)
		return IPPROTO_UDP;
#if IS_ENABLED(CONFIG_IPV6)
	if (prot == &tcpv6_prot)
		return IPPROTO_TCP;
#endif
	if (prot && !strcmp(prot->name, "UDPv6")) {
		/* udpv6_prot is not exported: learn its slab here. */
		if (unlikely(!READ_ONCE(lc_slabs[LC_SLAB_UDP6])))
			WRITE_ONCE(lc_slabs[LC_SLAB_UDP6], prot->slab);
		return IPPROTO_UDP;
	}
	return 0;
}

static struct sock *lc_arg_sk(struct pt_regs *regs)
{
	return (struct sock *)regs_get_kernel_argument(regs, 0);
}

/*
 * The stack at the probed function's entry: the function itself, then
 * its callers. The frames of the probe machinery are cut off by finding
 * the function's return address (at the top of its stack at entry).
 */
static void lc_stack(struct pt_regs *regs, struct sockleak_stack *st)
{
	unsigned long buf[SOCKLEAK_STACK_DEPTH + 16];
	unsigned long ret = regs_get_kernel_stack_nth(regs, 0);
	unsigned int n, i, start = 0;

	n = stack_trace_save(buf, ARRAY_SIZE(buf), 0);
	for (i = 0; i < n; i++) {
		if (buf[i] == ret) {
			start = i;
			break;
		}
	}
	st->ent[0] = instruction_pointer(regs);
	for (i = start, st->depth = 1;
	     i < n && st->depth < SOCKLEAK_STACK_DEPTH; i++)
		st->ent[st->depth++] = buf[i];
}

/*
 * sk_alloc(net, family, ...) and sk_clone_lock(sk, ...): capture the stack
 * at entry, record at return. A non-zero return skips the return handler.
 */
static int lc_alloc_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	int family = (int)regs_get_kernel_argument(regs, 1);

	if (family != AF_INET && family != AF_INET6)
		return 1;
	if (lc_in_nmi())
		return 1;
	lc_stack(regs, (struct sockleak_stack *)ri->data);
	return 0;
}

static int lc_clone_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (!sockleak_inet_proto(lc_arg_sk(regs)) || lc_in_nmi())
		return 1;
	lc_stack(regs, (struct sockleak_stack *)ri->data);
	return 0;
}

static int lc_alloc_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_return_value(regs);
	u8 proto;

	if (!sk)
		return 0;
	proto = sockleak_inet_proto(sk);
	if (proto)
		sockleak_reg_alloc(sk, proto, SOCKLEAK_ORIGIN_ALLOC,
				   (struct sockleak_stack *)ri->data);
	return 0;
}

static int lc_clone_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_return_value(regs);
	u8 proto;

	if (!sk)
		return 0;
	proto = sockleak_inet_proto(sk);
	if (proto)
		sockleak_reg_alloc(sk, proto, SOCKLEAK_ORIGIN_CLONE,
				   (struct sockleak_stack *)ri->data);
	return 0;
}

static void lc_event(struct sock *sk, enum sockleak_event ev, int arg,
		     struct pt_regs *regs)
{
	struct sockleak_stack st;
	u8 proto;

	if (!sk || lc_in_nmi())
		return;
	proto = sockleak_inet_proto(sk);
	if (!proto)
		return;
	if (regs)
		lc_stack(regs, &st);
	sockleak_reg_event(sk, proto, ev, arg, regs ? &st : NULL);
}

static int lc_inet_release(struct kprobe *p, struct pt_regs *regs)
{
	struct socket *sock = (struct socket *)regs_get_kernel_argument(regs, 0);
	struct sock *sk = sock ? READ_ONCE(sock->sk) : NULL;

	/* TCP records its stack in tcp_close, deeper by one frame. */
	if (sk && sockleak_inet_proto(sk) == IPPROTO_UDP)
		lc_event(sk, SOCKLEAK_EV_CLOSE, 0, regs);
	else
		lc_event(sk, SOCKLEAK_EV_CLOSE, 0, NULL);
	return 0;
}

static int lc_tcp_close(struct kprobe *p, struct pt_regs *regs)
{
	lc_event(lc_arg_sk(regs), SOCKLEAK_EV_TCP_CLOSE, 0, regs);
	return 0;
}

static int lc_unhash(struct kprobe *p, struct pt_regs *regs)
{
	lc_event(lc_arg_sk(regs), SOCKLEAK_EV_UNHASH, 0, NULL);
	return 0;
}

static int lc_destroy(struct kprobe *p, struct pt_regs *regs)
{
	lc_event(lc_arg_sk(regs), SOCKLEAK_EV_DESTROY, 0, NULL);
	return 0;
}

static int lc_kill_queues(struct kprobe *p, struct pt_regs *regs)
{
	lc_event(lc_arg_sk(regs), SOCKLEAK_EV_KILL_QUEUES, 0, NULL);
	return 0;
}

static int lc_set_state(struct kprobe *p, struct pt_regs *regs)
{
	lc_event(lc_arg_sk(regs), SOCKLEAK_EV_STATE,
		 (int)regs_get_kernel_argument(regs, 1), NULL);
	return 0;
}

static int lc_sk_destruct(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = lc_arg_sk(regs);

	/* In NMI context, leave it to the kmem_cache_free tracepoint. */
	if (sk && !lc_in_nmi())
		sockleak_reg_free(sk);
	return 0;
}

static int lc___sk_destruct(struct kprobe *p, struct pt_regs *regs)
{
	struct rcu_head *head = (struct rcu_head *)regs_get_kernel_argument(regs, 0);

	if (head && !lc_in_nmi())
		sockleak_reg_free(container_of(head, struct sock, sk_rcu));
	return 0;
}

/* Tracepoint kmem_cache_free: any context, never dropped, must be quick. */
static void lc_slab_free(void *data, unsigned long call_site, const void *ptr,
			 const struct kmem_cache *s)
{
	int i;

	for (i = 0; i < LC_NSLABS; i++) {
		if (s == READ_ONCE(lc_slabs[i])) {
			sockleak_reg_free((struct sock *)ptr);
			return;
		}
	}
}

#define LC_KPROBE(_sym, _handler) { .symbol_name = #_sym, .pre_handler = _handler }

/* Free probes: first in, last out. */
static struct kprobe lc_free_kps[] = {
	LC_KPROBE(sk_destruct, lc_sk_destruct),
	LC_KPROBE(__sk_destruct, lc___sk_destruct),
};

static struct kprobe lc_event_kps[] = {
	LC_KPROBE(inet_release, lc_inet_release),
	LC_KPROBE(tcp_close, lc_tcp_close),
	LC_KPROBE(inet_unhash, lc_unhash),
	LC_KPROBE(udp_lib_unhash, lc_unhash),
	LC_KPROBE(inet_csk_destroy_sock, lc_destroy),
	LC_KPROBE(sk_stream_kill_queues, lc_kill_queues),
	LC_KPROBE(tcp_set_state, lc_set_state),
};

/* sk_alloc() may sleep: room for many instances in flight. */
#define LC_MAXACTIVE	(4 * NR_CPUS > 256 ? 256 : 4 * NR_CPUS + 64)

static struct kretprobe lc_alloc_rp = {
	.kp.symbol_name	= "sk_alloc",
	.entry_handler	= lc_alloc_entry,
	.handler	= lc_alloc_ret,
	.data_size	= sizeof(struct sockleak_stack),
	.maxactive	= LC_MAXACTIVE,
};

static struct kretprobe lc_clone_rp = {
	.kp.symbol_name	= "sk_clone_lock",
	.entry_handler	= lc_clone_entry,
	.handler	= lc_clone_ret,
	.data_size	= sizeof(struct sockleak_stack),
	.maxactive	= LC_MAXACTIVE,
};

static struct kprobe *lc_free_ptrs[ARRAY_SIZE(lc_free_kps)];
static struct kprobe *lc_event_ptrs[ARRAY_SIZE(lc_event_kps)];
static struct kretprobe *lc_rps[] = { &lc_alloc_rp, &lc_clone_rp };

/* A kprobe can be registered once: reset the fields registration sets. */
static void lc_reset(struct kprobe *kp, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		kp[i].addr = NULL;
		kp[i].flags = 0;
		kp[i].nmissed = 0;
	}
}

int sockleak_lifecycle_start(void)
{
	int i, ret;

	atomic_long_set(&lc_nmi_skipped, 0);
	lc_reset(lc_free_kps, ARRAY_SIZE(lc_free_kps));
	lc_reset(lc_event_kps, ARRAY_SIZE(lc_event_kps));
	for (i = 0; i < ARRAY_SIZE(lc_rps); i++) {
		lc_reset(&lc_rps[i]->kp, 1);
		lc_rps[i]->nmissed = 0;
	}
	for (i = 0; i < ARRAY_SIZE(lc_free_kps); i++)
		lc_free_ptrs[i] = &lc_free_kps[i];
	for (i = 0; i < ARRAY_SIZE(lc_event_kps); i++)
		lc_event_ptrs[i] = &lc_event_kps[i];

	lc_slabs[LC_SLAB_TCP] = tcp_prot.slab;
	lc_slabs[LC_SLAB_UDP] = udp_prot.slab;
#if IS_ENABLED(CONFIG_IPV6)
	lc_slabs[LC_SLAB_TCP6] = tcpv6_prot.slab;
#endif
	/*
	 * Attached once and kept until unload: attaching patches every call
	 * site of the tracepoint, too costly to repeat at each track=on.
	 * With tracking off, the probe finds no registry and returns.
	 */
	if (!lc_tp_attached) {
		ret = register_trace_kmem_cache_free(lc_slab_free, NULL);
		if (ret) {
			pr_err("cannot attach to kmem_cache_free: %d\n", ret);
			return ret;
		}
		lc_tp_attached = true;
	}
	ret = register_kprobes(lc_free_ptrs, ARRAY_SIZE(lc_free_ptrs));
	if (ret) {
		pr_err("cannot probe the free path: %d\n", ret);
		return ret;
	}
	ret = register_kprobes(lc_event_ptrs, ARRAY_SIZE(lc_event_ptrs));
	if (ret) {
		pr_err("cannot probe the close path: %d\n", ret);
		goto err_free;
	}
	ret = register_kretprobes(lc_rps, ARRAY_SIZE(lc_rps));
	if (ret) {
		pr_err("cannot probe the allocation path: %d\n", ret);
		goto err_event;
	}
	return 0;

err_event:
	unregister_kprobes(lc_event_ptrs, ARRAY_SIZE(lc_event_ptrs));
err_free:
	unregister_kprobes(lc_free_ptrs, ARRAY_SIZE(lc_free_ptrs));
	return ret;
}

void sockleak_lifecycle_stop(void)
{
	unregister_kretprobes(lc_rps, ARRAY_SIZE(lc_rps));
	unregister_kprobes(lc_event_ptrs, ARRAY_SIZE(lc_event_ptrs));
	unregister_kprobes(lc_free_ptrs, ARRAY_SIZE(lc_free_ptrs));
}

/* Module unload: detach the tracepoint; no probe runs after this. */
void sockleak_lifecycle_exit(void)
{
	if (!lc_tp_attached)
		return;
	unregister_trace_kmem_cache_free(lc_slab_free, NULL);
	tracepoint_synchronize_unregister();
	lc_tp_attached = false;
}

/* Events lost: kretprobe instances exhausted, or probes hit recursively. */
unsigned long sockleak_lifecycle_missed(void)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(lc_rps); i++)
		n += lc_rps[i]->nmissed + lc_rps[i]->kp.nmissed;
	for (i = 0; i < ARRAY_SIZE(lc_free_kps); i++)
		n += lc_free_kps[i].nmissed;
	for (i = 0; i < ARRAY_SIZE(lc_event_kps); i++)
		n += lc_event_kps[i].nmissed;
	return n + atomic_long_read(&lc_nmi_skipped);
}
