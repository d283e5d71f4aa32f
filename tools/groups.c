// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - group the module's suspects: one line for every
 * socket of one cause ("390 tcp sockets reset by peer, unhashed, ...,
 * all held by pid 139 (repro), fds 18-407") instead of one line each.
 * Members share kind, reason, pid, comm, proto, state, verdict and err;
 * a memcg suspect is never grouped (its id differs).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "groups.h"
#include "output.h"

static const char *const group_keys[] = {
	"kind", "reason", "pid", "comm", "proto", "state", "verdict", "err",
};

bool suspect_same(const struct rec *a, const struct rec *b)
{
	const char *x, *y;

	if (!strcmp(rec_get(a, "kind") ?: "", "cgroup"))
		return false;
	for (size_t i = 0; i < sizeof(group_keys) / sizeof(group_keys[0]); i++) {
		x = rec_get(a, group_keys[i]);
		y = rec_get(b, group_keys[i]);
		if ((x || y) && (!x || !y || strcmp(x, y)))
			return false;
	}
	return true;
}

static int group_cmp(const void *a, const void *b)
{
	const struct sgroup *x = a, *y = b;

	if (x->never != y->never)
		return x->never ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->first - y->first;
}

int suspect_groups(const struct report *r, struct sgroup **out)
{
	struct sgroup *g = calloc(r->n ? r->n : 1, sizeof(*g));
	int n = 0;

	if (!g)
		return -1;
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->recs[i];
		long long b = rec_num0(x, "bytes"), age, fd;
		struct sgroup *p = NULL;

		for (int j = 0; j < n && !p; j++)
			if (suspect_same(&r->recs[g[j].first], x))
				p = &g[j];
		if (!p) {
			p = &g[n++];
			p->first = i;
			p->min_bytes = b;
			p->fd_min = p->fd_max = -1;
			p->max_age = -1;
			p->never = !strcmp(rec_get(x, "verdict") ?: "", "never");
		}
		p->n++;
		p->bytes += b;
		if (b < p->min_bytes)
			p->min_bytes = b;
		if (b > p->max_bytes)
			p->max_bytes = b;
		if (rec_num(x, "age_ms", &age) && age > p->max_age)
			p->max_age = age;
		if (rec_num(x, "fd", &fd)) {
			if (p->fd_min < 0 || fd < p->fd_min)
				p->fd_min = fd;
			if (fd > p->fd_max)
				p->fd_max = fd;
		}
	}
	qsort(g, n, sizeof(*g), group_cmp);
	*out = g;
	return n;
}

/*
 * What the members have in common, by reason code: a leak flag's cause
 * (flags.c), or one of the reasons that are no flag. @buf holds
 * "reset by peer, " and the cause when @reset (ECONNRESET) and the
 * reason is unhashed_mem.
 */
static const char *cause(char *buf, size_t len, const char *reason,
			 bool reset)
{
	static const struct { const char *reason, *text; } other[] = {
		{ "not_freed", "closed but not freed" },
		{ "no_timer", "orphans no timer will ever end" },
		{ "no_socket", "with no struct socket, in no table" },
		{ "pins_netns", "kernel sockets holding a netns nothing else reaches" },
		{ "dead_netns", "in a netns nothing reaches, held by kernel references" },
	};
	const struct leak_flag *f = leak_flag_find(reason);

	if (f && f->cause && reset && !strcmp(reason, "unhashed_mem")) {
		snprintf(buf, len, "reset by peer, %s", f->cause);
		return buf;
	}
	if (f && f->cause)
		return f->cause;
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (!strcmp(reason, other[i].reason))
			return other[i].text;
	return reason;
}

void group_explain(char *buf, size_t len, const struct report *r,
		   const struct sgroup *g)
{
	const struct rec *x = &r->recs[g->first];
	const char *proto = rec_get(x, "proto"), *state = rec_get(x, "state");
	const char *pid = rec_get(x, "pid"), *comm = rec_get(x, "comm");
	const char *verdict = rec_get(x, "verdict");
	char each[32], total[32], name[64], why[128];
	size_t k = 0;

	if (!proto || !strcmp(proto, "-"))
		proto = NULL;
	if (state && !strcmp(state, "-"))
		state = NULL;
	k += snprintf(buf + k, len - k, "%d %s%ssockets", g->n,
		      proto ? proto : "", proto ? " " : "");
	if (state && k < len)
		k += snprintf(buf + k, len - k, " in %s", state);
	if (k < len)
		k += snprintf(buf + k, len - k, " %s",
			      cause(why, sizeof(why),
				    rec_get(x, "reason") ?: "?",
				    rec_num0(x, "err") == ECONNRESET));
	human_bytes(total, sizeof(total), g->bytes);
	if (k < len && g->min_bytes == g->max_bytes)
		k += snprintf(buf + k, len - k, ", %s held each (%s)",
			      human_bytes(each, sizeof(each), g->max_bytes),
			      total);
	else if (k < len)
		k += snprintf(buf + k, len - k, ", %s held", total);
	if (k < len && verdict && !strcmp(verdict, "never"))
		k += snprintf(buf + k, len - k,
			      ", the kernel will never free them");
	if (k < len && pid && strcmp(pid, "-")) {
		/* A tracked (closed) socket's pid is its closer, no holder. */
		bool closed = !strcmp(rec_get(x, "kind") ?: "", "tracked");

		unescape(name, sizeof(name), comm ? comm : "?");
		k += snprintf(buf + k, len - k, ", all %s by pid %s (%s)",
			      closed ? "closed" : "held", pid, name);
		if (k < len && g->fd_min >= 0 && g->fd_min != g->fd_max)
			k += snprintf(buf + k, len - k, ", fds %lld-%lld",
				      g->fd_min, g->fd_max);
		else if (k < len && g->fd_min >= 0)
			k += snprintf(buf + k, len - k, ", fd %lld",
				      g->fd_min);
	} else if (k < len && !strcmp(rec_get(x, "kind") ?: "", "socket")) {
		snprintf(buf + k, len - k, ", no process holds them");
	}
}
