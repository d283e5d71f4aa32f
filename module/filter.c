// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - socket filters, shared by watch_next= (watch_next.c) and
 * stack_filter= (track_probes.c): a comma-separated list of key:value,
 * proto:tcp|udp|udplite|mptcp, port:N (local or remote), comm:NAME (the
 * task at the event), netns:INUM, count:N; each user says which keys it
 * takes. A key given twice keeps the last value.
 *
 * Locking rules: none. Parsing runs in process context on the caller's
 * copy; matching reads only the filter and the socket, and may run in any
 * context: the caller keeps the filter stable while a probe may read it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <net/inet_sock.h>
#include <net/sock.h>

#include "filter.h"

static int filter_proto(const char *val, u16 *proto)
{
	static const struct {
		const char *name;
		u16 proto;
	} protos[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
		{ "udplite", IPPROTO_UDPLITE }, { "mptcp", IPPROTO_MPTCP },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		if (!strcmp(val, protos[i].name)) {
			*proto = protos[i].proto;
			return 0;
		}
	}
	return -EINVAL;
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
	if (!arg || strscpy(buf, arg, sizeof(buf)) < 0 || !*buf)
		return -EINVAL;
	cur = buf;
	while ((item = strsep(&cur, ",")) != NULL) {
		val = strchr(item, ':');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(item, "proto")) {
			if (!(keys & SOCKLEAK_FILTER_PROTO) ||
			    filter_proto(val, &f->proto))
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
			   u16 proto, const struct sock *sk, bool task)
{
	if (f->proto && f->proto != proto)
		return false;
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
