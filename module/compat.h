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
#include <linux/tcp.h>
#include <net/net_namespace.h>
#include <net/sock.h>
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

#endif /* _SOCKLEAK_COMPAT_H */
