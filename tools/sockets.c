// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the sockets command: one row per socket, like ss;
 * the filters and sort orders shared with the overview, check and growth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output.h"
#include "parse.h"
#include "sockleak.h"

static long long sort_key(const struct rec *r, const char *how)
{
	if (!strcmp(how, "refcnt"))
		return rec_num0(r, "refcnt");
	if (!strcmp(how, "rmem"))
		return rec_num0(r, "rmem");
	if (!strcmp(how, "wmem"))
		return rec_num0(r, "wmem") + rec_num0(r, "queued");
	if (!strcmp(how, "age")) {
		long long a, b;

		if (!rec_num(r, "rcv_idle_ms", &a) ||
		    !rec_num(r, "snd_idle_ms", &b))
			return 0;
		return a < b ? a : b;
	}
	return sock_mem(r);
}

/* A socket ready for sorting: its key, then its cookie for ties. */
struct sort_item {
	long long key;
	unsigned long long cookie;
	const struct rec *r;
};

static int sort_item_cmp(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;

	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

static bool flagged(const struct rec *r)
{
	const char *f = rec_get(r, "flags");

	return f && strcmp(f, "-");
}

bool sock_match(const struct rec *r, const struct filter *f)
{
	const char *v;
	long long n;

	if (f->state && (!(v = rec_get(r, "state")) || strcasecmp(v, f->state)))
		return false;
	if (f->proto && (!(v = rec_get(r, "proto")) || strcmp(v, f->proto)))
		return false;
	if (f->family && (!(v = rec_get(r, "family")) || strcmp(v, f->family)))
		return false;
	if (f->netns >= 0 && (!rec_num(r, "netns", &n) || n != f->netns))
		return false;
	if (f->cgroup) {
		size_t l = strlen(f->cgroup);

		v = rec_get(r, "cgroup");
		if (l > 1 && f->cgroup[l - 1] == '/')
			l--;
		if (!v || strncmp(v, f->cgroup, l) ||
		    (v[l] && v[l] != '/' && l > 1))
			return false;
	}
	if (f->min_mem >= 0 && sock_mem(r) < f->min_mem)
		return false;
	if (f->flag) {
		v = rec_get(r, "flags");
		if (!strcmp(f->flag, "any") ? !flagged(r) :
		    !v || !list_has(v, f->flag))
			return false;
	}
	return true;
}

int select_sockets(const struct report *r, const struct filter *f,
		   const char *how, int limit, const struct rec ***out)
{
	struct sort_item *items = calloc(r->n + 1, sizeof(*items));
	const struct rec **v = calloc(r->n + 1, sizeof(*v));
	int n = 0;

	if (!items || !v)
		fail("out of memory");
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->recs[i];

		if (!sock_match(x, f))
			continue;
		items[n].key = sort_key(x, how);
		items[n].cookie = strtoull(rec_get(x, "cookie"), NULL, 16);
		items[n].r = x;
		n++;
	}
	qsort(items, n, sizeof(*items), sort_item_cmp);
	if (limit >= 0 && n > limit)
		n = limit;
	for (int i = 0; i < n; i++)
		v[i] = items[i].r;
	free(items);
	*out = v;
	return n;
}

/* A socket's JSON members: the module's keys, mem, owner and wait. */
void json_sock_members(struct json *j, const struct rec *r)
{
	char ob[96], wb[96];
	const char *w = owner_wait(owner_pid(r), wb, sizeof(wb));

	json_rec_members(j, r);
	json_ks64(j, "mem", sock_mem(r));
	json_kval(j, "owner", owner_of(r, ob, sizeof(ob)));
	json_kval(j, "wait", w);
}

/* An address ss prints for a socket bound to nothing: "0.0.0.0:*", ... */
static bool unbound(const char *addr)
{
	return !strcmp(addr, "0.0.0.0:*") || !strcmp(addr, "*:*") ||
	       !strcmp(addr, "[::]:*");
}

/*
 * The LOCAL of socket @r. An MPTCP listener whose msk is bound to nothing
 * (the in-kernel path manager's: it binds only the subflow) listens
 * through its first subflow, a TCP listener with the same socket inode
 * (the subflow's inode number is its msk's) in the same netns: its
 * address, as ss -M prints the listener.
 */
static const char *sock_local(const struct report *all, const struct rec *r)
{
	const char *src = get_or(r, "src"), *ino = get_or(r, "ino");

	if (!all || strcmp(get_or(r, "proto"), "mptcp") ||
	    strcmp(get_or(r, "state"), "LISTEN") || !unbound(src) ||
	    !strcmp(ino, "0") || !strcmp(ino, "-"))
		return src;
	for (int i = 0; i < all->n; i++) {
		const struct rec *x = &all->recs[i];

		if (!strcmp(get_or(x, "proto"), "tcp") &&
		    !strcmp(get_or(x, "state"), "LISTEN") &&
		    !strcmp(get_or(x, "ino"), ino) &&
		    !strcmp(get_or(x, "netns"), get_or(r, "netns")))
			return get_or(x, "src");
	}
	return src;
}

void print_sockets(const struct report *all, const struct rec **v, int n)
{
	static const struct col cols[] = {
		{ "COOKIE", COL_LEFT, 0 },
		{ "PROTO", COL_LEFT, 0 },
		{ "STATE", COL_LEFT, 0 },
		{ "LOCAL", COL_LEFT, 0 },
		{ "PEER", COL_LEFT, 0 },
		{ "RMEM", COL_RIGHT, 0 },
		{ "WMEM", COL_RIGHT, 0 },
		{ "QUEUED", COL_RIGHT, 0 },
		{ "MEM", COL_RIGHT, 0 },
		{ "REF", COL_RIGHT, 0 },
		{ "OWNER", COL_LEFT, 0 },
		{ "WAIT", COL_LEFT, 0 },
		{ "CGROUP", COL_LEFT, 0 },
		{ "FLAGS", COL_LEFT, 0 },
	};
	struct table t;

	if (opt.json) {
		struct json j;

		json_init(&j, stdout);
		for (int i = 0; i < n; i++) {
			json_begin_obj(&j);
			json_sock_members(&j, v[i]);
			json_end_obj(&j);
			json_newline(&j);
		}
		return;
	}
	table_init(&t, 14, cols);
	for (int i = 0; i < n; i++) {
		char mem[32], ob[96], wb[96];
		const char *row[14];

		snprintf(mem, sizeof(mem), "%lld", sock_mem(v[i]));
		row[0] = get_or(v[i], "cookie");
		row[1] = get_or(v[i], "proto");
		row[2] = get_or(v[i], "state");
		row[3] = sock_local(all, v[i]);
		row[4] = get_or(v[i], "dst");
		row[5] = get_or(v[i], "rmem");
		row[6] = get_or(v[i], "wmem");
		row[7] = get_or(v[i], "queued");
		row[8] = rec_get(v[i], "rmem") ? mem : "-";
		row[9] = get_or(v[i], "refcnt");
		row[10] = owner_of(v[i], ob, sizeof(ob));
		row[11] = owner_wait(owner_pid(v[i]), wb, sizeof(wb));
		row[12] = get_or(v[i], "cgroup");
		row[13] = get_or(v[i], "flags");
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

int cmd_sockets(void)
{
	struct report r;
	const struct rec **v;
	int n;

	load(&r, "sockets", FMT_SOCKETS, false);
	scan_proc_owners();
	n = select_sockets(&r, &opt.filter, opt.sort ? opt.sort : "mem",
			   opt.limit, &v);
	print_sockets(&r, v, n);
	free(v);
	report_free(&r);
	return 0;
}
