// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - socket filters, shared by watch_next= (watch_next.c) and
 * stack_filter= (track_probes.c): a comma-separated list of key:value,
 * proto:NAME (tcp, udp, udplite, mptcp, or any other protocol by the
 * name the reports print: unix, unix-stream, netlink, packet, raw, ...),
 * family:NAME (unix, inet, inet6, netlink, packet, vsock, ...), port:N
 * (local or remote), comm:NAME (the task at the event), netns:INUM,
 * count:N; each user says which keys it takes. A key given twice keeps
 * the last value.
 *
 * Locking rules: none. Parsing runs in process context on the caller's
 * copy; matching reads only the filter and the socket, and may run in any
 * context: the caller keeps the filter stable while a probe may read it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/in.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <net/inet_sock.h>
#include <net/sock.h>

#include "family.h"
#include "filter.h"
#include "proto.h"

/*
 * The protocols of the kernels sockleak supports that a filter may name
 * besides the four followed ones: every struct proto's name in their
 * sources (net/, crypto/af_alg.c, drivers/net/), as the reports print
 * them (in lower case). A name not in this list is EINVAL.
 */
static const char * const filter_proto_names[] = {
	"af_iucv", "af_vsock", "alg", "ax25", "bnep", "can_bcm", "can_isotp",
	"can_j1939", "can_raw", "cmtp", "dccp", "dccpv6", "ddp", "hci",
	"hidp", "ieee-802.15.4-mac", "ieee-802.15.4-raw", "inet6_smc",
	"inet_smc", "iso", "kcm", "key", "l2cap", "l2tp/ip", "l2tp/ipv6",
	"llc", "mctp", "netlink", "netrom", "nfc_llcp", "nfc_raw", "packet",
	"pf_caif", "phonet", "ping", "pingv6", "pnpipe", "pppoe", "pppol2tp",
	"pptp", "qipcrtr", "raw", "rawv6", "rds", "rfcomm", "rose", "rxrpc",
	"sco", "sctp", "sctpv6", "smc", "smc6", "tap", "tipc", "tun", "unix",
	"unix-stream", "vcc", "x25", "xdp",
};

static int filter_proto(const char *val, u16 *proto)
{
	int n = sockleak_proto_parse(val);

	if (n < 0)
		return n;
	*proto = n;
	return 0;
}

/* Another protocol's name into @name (a filter_proto_names[] entry). */
static int filter_proto_name(const char *val, char *name, size_t len)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(filter_proto_names); i++)
		if (!strcmp(val, filter_proto_names[i]))
			return strscpy(name, val, len) < 0 ? -EINVAL : 0;
	return -EINVAL;
}

/* Does @prot's name, in lower case, equal @name? */
static bool filter_name_is(const struct proto *prot, const char *name)
{
	const char *p = prot->name;

	for (; *p && *name; p++, name++)
		if (tolower(*p) != *name)
			return false;
	return !*p && !*name;
}

/*
 * Parse @arg into @f: -EINVAL for an empty or malformed text, an unknown
 * key, a key not in @keys (proto and count are optional ones), a port of
 * 0 or above 65535, a netns of 0 or a count of 0 or above @max_count.
 */
int sockleak_filter_parse(const char *arg, unsigned int keys,
			  int max_count, struct sockleak_filter *f)
{
	char buf[SOCKLEAK_FILTER_LEN], *cur, *item, *val;
	unsigned int v;

	memset(f, 0, sizeof(*f));
	f->count = 1;
	f->family = -1;
	if (!arg || strscpy(buf, arg, sizeof(buf)) < 0 || !*buf)
		return -EINVAL;
	cur = buf;
	while ((item = strsep(&cur, ",")) != NULL) {
		val = strchr(item, ':');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(item, "proto")) {
			f->proto = 0;
			f->proto_name[0] = '\0';
			if (!(keys & SOCKLEAK_FILTER_PROTO) ||
			    (filter_proto(val, &f->proto) &&
			     filter_proto_name(val, f->proto_name,
					       sizeof(f->proto_name))))
				return -EINVAL;
		} else if (!strcmp(item, "family")) {
			if (!(keys & SOCKLEAK_FILTER_PROTO))
				return -EINVAL;
			f->family = sockleak_family_parse(val);
			if (f->family < 0)
				return -EINVAL;
		} else if (!strcmp(item, "comm")) {
			if (!*val || strscpy(f->comm, val, sizeof(f->comm)) < 0)
				return -EINVAL;
		} else if (kstrtouint(val, 10, &v)) {
			return -EINVAL;
		} else if (!strcmp(item, "port")) {
			if (!v || v > 65535)
				return -EINVAL;
			f->port = v;
		} else if (!strcmp(item, "netns")) {
			if (!v)
				return -EINVAL;
			f->netns = v;
		} else if (!strcmp(item, "count")) {
			if (!(keys & SOCKLEAK_FILTER_COUNT) || !v ||
			    v > max_count)
				return -EINVAL;
			f->count = v;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

bool sockleak_filter_match(const struct sockleak_filter *f, u32 netns,
			   u16 proto, const struct sock *who,
			   const struct sock *sk, bool task)
{
	const struct proto *prot;

	if (f->proto && f->proto != proto)
		return false;
	if (f->family >= 0 && (!who || READ_ONCE(who->sk_family) != f->family))
		return false;
	if (f->proto_name[0]) {
		prot = who ? READ_ONCE(who->sk_prot_creator) : NULL;
		if (!prot || proto || !filter_name_is(prot, f->proto_name))
			return false;
	}
	if (f->netns && netns != f->netns)
		return false;
	if (f->comm[0] && (!task || strncmp(current->comm, f->comm,
					     TASK_COMM_LEN)))
		return false;
	if (f->port) {
		if (!sk)
			return false;
		if (inet_sk(sk)->inet_num != f->port &&
		    ntohs(inet_sk(sk)->inet_dport) != f->port)
			return false;
	}
	return true;
}
