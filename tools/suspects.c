// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the suspects command, and the suspects the overview,
 * check and --prom use: the module's suspects report (grouped by cause),
 * else the sockets carrying leak flags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"
#include "output.h"
#include "parse.h"
#include "sockleak.h"

/*
 * The suspects report's keys (module/suspects.c) that are numbers, and
 * so right-aligned; every other key (and one the helper does not know)
 * is a left-aligned column.
 */
static const char *const numeric_keys[] = { "bytes", "age_ms", "pid", "fd" };

/*
 * The columns of @keys: upper-cased copies as headers, aligned by key;
 * free with cols_free.
 */
static void cols_of(struct col *cols, const char *const *keys, int n)
{
	for (int j = 0; j < n; j++) {
		char *h = strdup(keys[j]);

		if (!h)
			fail("out of memory");
		for (char *p = h; *p; p++)
			*p = *p >= 'a' && *p <= 'z' ? *p - 32 : *p;
		cols[j].head = h;
		cols[j].align = COL_LEFT;
		cols[j].min_width = 0;
		for (size_t k = 0; k < sizeof(numeric_keys) /
				       sizeof(numeric_keys[0]); k++)
			if (!strcmp(keys[j], numeric_keys[k]))
				cols[j].align = COL_RIGHT;
	}
}

static void cols_free(struct col *cols, int n)
{
	for (int j = 0; j < n; j++)
		free((char *)cols[j].head);
}

/* Every key of @r, in first-seen order; returns the count (at most 62). */
static int keys_of(const struct report *r, const char **keys)
{
	int nkeys = 0;

	for (int i = 0; i < r->n; i++)
		for (int k = 0; k < r->recs[i].n && nkeys < 62; k++) {
			int j;

			for (j = 0; j < nkeys; j++)
				if (!strcmp(keys[j], r->recs[i].kv[k].key))
					break;
			if (j == nkeys)
				keys[nkeys++] = r->recs[i].kv[k].key;
		}
	return nkeys;
}

/* A suspect's JSON members: the module's keys and wait. */
void json_suspect_members(struct json *j, const struct rec *x)
{
	char wb[96];

	json_rec_members(j, x);
	json_kval(j, "wait", owner_wait(rec_num0(x, "pid"), wb, sizeof(wb)));
}

/*
 * The module's suspects report: its keys as columns, and WAIT (where the
 * pid waits, owner_wait()) before the free-text EXPLAIN, which stays last.
 */
/* At most @limit rows (groups, or with --all records); -1: all. */
void print_suspects_report(const struct report *r, int limit)
{
	/* In the explanation already; JSON keeps them. */
	static const char *const hidden[] = { "fd", "proto", "state", "err" };
	const char *keys[64];
	struct col cols[64];
	struct sgroup *g = NULL;
	int nkeys, at, ng;
	struct table t;

	if (opt.json) {
		struct json j;

		json_init(&j, stdout);
		for (int i = 0; i < r->n && (limit < 0 || i < limit); i++) {
			json_begin_obj(&j);
			json_suspect_members(&j, &r->recs[i]);
			json_end_obj(&j);
			json_newline(&j);
		}
		return;
	}
	nkeys = keys_of(r, keys);
	for (int i = 0; i < nkeys; i++)
		for (size_t h = 0; h < sizeof(hidden) / sizeof(hidden[0]); h++)
			if (!strcmp(keys[i], hidden[h])) {
				memmove(&keys[i], &keys[i + 1],
					(nkeys - i - 1) * sizeof(keys[0]));
				nkeys--;
				i--;
				break;
			}
	for (at = 0; at < nkeys && strcmp(keys[at], "explain"); at++)
		;
	memmove(&keys[at + 1], &keys[at], (nkeys - at) * sizeof(keys[0]));
	keys[at] = "wait";
	nkeys++;
	cols_of(cols, keys, nkeys);
	table_init(&t, nkeys, cols);
	ng = opt.all ? -1 : suspect_groups(r, &g);
	if (!opt.all && ng < 0)
		fail("out of memory");
	if (limit < 0 || limit > (opt.all ? r->n : ng))
		limit = opt.all ? r->n : ng;
	for (int i = 0; i < limit; i++) {
		const struct rec *x = &r->recs[opt.all ? i : g[i].first];
		const char *row[64];
		char wb[96], id[32], bytes[32], age[32], why[512];

		for (int j = 0; j < nkeys; j++)
			row[j] = j == at ? owner_wait(rec_num0(x, "pid"), wb,
						     sizeof(wb)) :
				 get_or(x, keys[j]);
		if (!opt.all && g[i].n > 1) {
			snprintf(id, sizeof(id), "%d sockets", g[i].n);
			snprintf(bytes, sizeof(bytes), "%lld", g[i].bytes);
			snprintf(age, sizeof(age), "%lld", g[i].max_age);
			group_explain(why, sizeof(why), r, &g[i]);
			for (int j = 0; j < nkeys; j++) {
				if (!strcmp(keys[j], "id"))
					row[j] = id;
				else if (!strcmp(keys[j], "bytes"))
					row[j] = bytes;
				else if (!strcmp(keys[j], "age_ms"))
					row[j] = g[i].max_age < 0 ? "-" : age;
				else if (!strcmp(keys[j], "explain"))
					row[j] = why;
			}
		}
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
	cols_free(cols, nkeys);
	free(g);
}

/* The groups of a suspects report as a JSON array (overview --json). */
void print_groups_json(struct json *j, const struct report *r)
{
	static const char *const keys[] = {
		"kind", "reason", "pid", "comm", "proto", "state", "verdict",
	};
	struct sgroup *g;
	int ng = suspect_groups(r, &g);

	if (ng < 0)
		fail("out of memory");
	json_begin_arr(j);
	for (int i = 0; i < ng; i++) {
		const struct rec *x = &r->recs[g[i].first];
		char why[512];

		group_explain(why, sizeof(why), r, &g[i]);
		json_begin_obj(j);
		json_ks64(j, "count", g[i].n);
		json_ks64(j, "bytes", g[i].bytes);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			json_kval(j, keys[k], get_or(x, keys[k]));
		json_ks64(j, "fd_min", g[i].fd_min);
		json_ks64(j, "fd_max", g[i].fd_max);
		json_kstr(j, "explain", g[i].n > 1 ? why : get_or(x, "explain"));
		json_key(j, "ids");
		json_begin_arr(j);
		for (int m = 0; m < r->n; m++) {
			if (m != g[i].first &&
			    !(g[i].n > 1 && suspect_same(&r->recs[g[i].first],
							 &r->recs[m])))
				continue;
			json_str(j, get_or(&r->recs[m], "id"));
		}
		json_end_arr(j);
		json_end_obj(j);
	}
	json_end_arr(j);
	free(g);
}

void get_suspects(struct suspects *s, const struct filter *f, int limit)
{
	struct filter flagged;

	memset(s, 0, sizeof(*s));
	load(&s->socks, "sockets", FMT_SOCKETS, false);
	if (load(&s->file, "suspects", FMT_KV, true)) {
		s->from_file = true;
		s->n = s->file.n;
		return;
	}
	flagged = *f;
	flagged.flag = "any";
	s->n = select_sockets(&s->socks, &flagged, "mem", limit, &s->v);
}

void put_suspects(struct suspects *s)
{
	free(s->v);
	report_free(&s->socks);
	if (s->from_file)
		report_free(&s->file);
}

void print_suspects(struct suspects *s, int limit)
{
	if (s->from_file) {
		print_suspects_report(&s->file, limit);
	} else {
		print_sockets(&s->socks, s->v, s->n);
	}
}

static void print_suspects_limited(const struct report *r)
{
	print_suspects_report(r, opt.limit);
}

int cmd_suspects(void)
{
	return show_report("suspects", print_suspects_limited);
}
