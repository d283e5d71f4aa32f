// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the sockets command: one row per socket, like ss;
 * the filters and sort orders shared with the overview, check and watch.
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

static const char *sort_how;

static int sock_cmp(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a;
	const struct rec *y = *(const struct rec *const *)b;
	long long kx = sort_key(x, sort_how), ky = sort_key(y, sort_how);
	unsigned long long cx, cy;

	if (kx != ky)
		return kx > ky ? -1 : 1;
	cx = strtoull(rec_get(x, "cookie"), NULL, 16);
	cy = strtoull(rec_get(y, "cookie"), NULL, 16);
	return cx < cy ? -1 : cx > cy;
}

static bool flagged(const struct rec *r)
{
	const char *f = rec_get(r, "flags");

	return f && strcmp(f, "-");
}

bool sock_match(const struct rec *r)
{
	const char *v;
	long long n;

	if (opt.state && (!(v = rec_get(r, "state")) || strcasecmp(v, opt.state)))
		return false;
	if (opt.proto && (!(v = rec_get(r, "proto")) || strcmp(v, opt.proto)))
		return false;
	if (opt.netns >= 0 && (!rec_num(r, "netns", &n) || n != opt.netns))
		return false;
	if (opt.cgroup) {
		size_t l = strlen(opt.cgroup);

		v = rec_get(r, "cgroup");
		if (l > 1 && opt.cgroup[l - 1] == '/')
			l--;
		if (!v || strncmp(v, opt.cgroup, l) ||
		    (v[l] && v[l] != '/' && l > 1))
			return false;
	}
	if (opt.min_mem >= 0 && sock_mem(r) < opt.min_mem)
		return false;
	if (opt.flag) {
		v = rec_get(r, "flags");
		if (!strcmp(opt.flag, "any") ? !flagged(r) :
		    !v || !list_has(v, opt.flag))
			return false;
	}
	return true;
}

/* Filtered, sorted pointers into @r; returns the count. */
int select_sockets(const struct report *r, const struct rec ***out,
		   const char *how, int limit)
{
	const struct rec **v = calloc(r->n + 1, sizeof(*v));
	int n = 0;

	if (!v)
		fail("out of memory");
	for (int i = 0; i < r->n; i++)
		if (sock_match(&r->recs[i]))
			v[n++] = &r->recs[i];
	sort_how = how;
	qsort(v, n, sizeof(*v), sock_cmp);
	if (limit >= 0 && n > limit)
		n = limit;
	*out = v;
	return n;
}

/* A socket's JSON members: the module's keys, mem, owner and wait. */
void json_sock_body(const struct rec *r)
{
	char ob[96], wb[96];
	const char *w = owner_wait(owner_pid(r), wb, sizeof(wb));

	json_rec_body(stdout, r);
	printf(",\"mem\":%lld,\"owner\":", sock_mem(r));
	json_val(stdout, owner_of(r, ob, sizeof(ob)));
	printf(",\"wait\":");
	json_val(stdout, w);
}

void print_sockets(const struct rec **v, int n)
{
	static const char *head[] = {
		"COOKIE", "PROTO", "STATE", "LOCAL", "PEER", "RMEM", "WMEM",
		"QUEUED", "MEM", "REF", "OWNER", "WAIT", "CGROUP", "FLAGS",
	};
	struct table t;

	if (opt.json) {
		for (int i = 0; i < n; i++) {
			putchar('{');
			json_sock_body(v[i]);
			printf("}\n");
		}
		return;
	}
	table_init(&t, 14, head);
	for (int i = 0; i < n; i++) {
		char mem[32], ob[96], wb[96];
		const char *row[14];

		snprintf(mem, sizeof(mem), "%lld", sock_mem(v[i]));
		row[0] = get_or(v[i], "cookie");
		row[1] = get_or(v[i], "proto");
		row[2] = get_or(v[i], "state");
		row[3] = get_or(v[i], "src");
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
	n = select_sockets(&r, &v, opt.sort ? opt.sort : "mem", opt.limit);
	print_sockets(v, n);
	free(v);
	report_free(&r);
	return 0;
}
