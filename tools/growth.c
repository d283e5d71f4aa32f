// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the growth command: growth rates per socket, cgroup
 * and in total, sampled live or replayed from saved copies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "parse.h"
#include "sockleak.h"

struct wsock {
	char cookie[24];
	char cgroup[160];
	char desc[200];
	long long mem;
	int streak;		/* consecutive samples it grew in */
};

struct wsample {
	struct wsock *s;
	int n;
	long long total;	/* sum of socket bytes */
	long long usage;	/* protocols' usage_pages * page size, bytes */
	double t;		/* seconds */
};

static int wsock_cmp(const void *a, const void *b)
{
	return strcmp(((const struct wsock *)a)->cookie,
		      ((const struct wsock *)b)->cookie);
}

static void take_sample(struct wsample *w, int idx)
{
	struct report r, sum;

	memset(w, 0, sizeof(*w));
	load(&r, "sockets", FMT_SOCKETS, false);
	load(&sum, "summary", FMT_SUMMARY, false);
	w->t = opt.live ? now_mono() : snapshot_time(opt.dir);
	if (w->t < 0)
		w->t = idx * opt.interval;
	w->s = calloc(r.n + 1, sizeof(*w->s));
	if (!w->s)
		fail("out of memory");
	for (int i = 0; i < r.n; i++) {
		const struct rec *x = &r.recs[i];
		struct wsock *s;

		if (!sock_match(x, &opt.filter))
			continue;
		s = &w->s[w->n++];
		snprintf(s->cookie, sizeof(s->cookie), "%s", get_or(x, "cookie"));
		snprintf(s->cgroup, sizeof(s->cgroup), "%s", get_or(x, "cgroup"));
		snprintf(s->desc, sizeof(s->desc), "%s %s %s %s",
			 get_or(x, "proto"), get_or(x, "state"),
			 get_or(x, "src"), get_or(x, "dst"));
		s->mem = sock_mem(x);
		w->total += s->mem;
	}
	for (int i = 0; i < sum.n; i++)
		if (!strcmp(get_or(&sum.recs[i], "netns"), "all") &&
		    !strcmp(get_or(&sum.recs[i], "kind"), "proto"))
			w->usage += 4096 * rec_num0(&sum.recs[i], "usage_pages");
	qsort(w->s, w->n, sizeof(*w->s), wsock_cmp);
	report_free(&r);
	report_free(&sum);
}

struct wrate {
	const struct wsock *s;
	long long delta;
	double rate;
};

static int wrate_cmp(const void *a, const void *b)
{
	const struct wrate *x = a, *y = b;

	if (x->rate != y->rate)
		return x->rate > y->rate ? -1 : 1;
	return strcmp(x->s->cookie, y->s->cookie);
}

/* Compare @cur with @prev, update streaks, print one report. */
static void growth_report(struct wsample *prev, struct wsample *cur, int idx)
{
	double dt = cur->t - prev->t;
	struct wrate *v = calloc(cur->n + 1, sizeof(*v));
	struct group *cg = calloc(MAXGROUPS, sizeof(*cg));
	int n = 0, ncg = 0, limit = opt.limit >= 0 ? opt.limit : 10;
	char b1[32], b2[32];

	if (!v || !cg)
		fail("out of memory");
	if (dt <= 0)
		dt = opt.interval;
	for (int i = 0; i < cur->n; i++) {
		struct wsock *s = &cur->s[i];
		struct wsock *p = bsearch(s, prev->s, prev->n, sizeof(*s),
					  wsock_cmp);
		struct group *g = group_get(cg, &ncg, s->cgroup, "");

		if (g) {
			g->v[0] += s->mem;
			g->v[1] += s->mem - (p ? p->mem : 0);
		}
		if (!p)
			continue;	/* new socket: no rate yet */
		s->streak = s->mem > p->mem ? p->streak + 1 : 0;
		if (s->mem != p->mem) {
			v[n].s = s;
			v[n].delta = s->mem - p->mem;
			v[n].rate = v[n].delta / dt;
			n++;
		}
	}
	/* Sockets gone since the last sample leave their cgroup. */
	for (int i = 0; i < prev->n; i++) {
		struct group *g;

		if (bsearch(&prev->s[i], cur->s, cur->n, sizeof(*cur->s),
			    wsock_cmp))
			continue;
		g = group_get(cg, &ncg, prev->s[i].cgroup, "");
		if (g)
			g->v[1] -= prev->s[i].mem;
	}
	qsort(v, n, sizeof(*v), wrate_cmp);
	if (n > limit)
		n = limit;

	if (opt.json) {
		struct json j;

		json_init(&j, stdout);
		json_begin_obj(&j);
		json_ks64(&j, "sample", idx + 1);
		json_kdouble(&j, "interval_s", dt, 3);
		json_ks64(&j, "socket_bytes", cur->total);
		json_kdouble(&j, "socket_bytes_per_s",
			     (cur->total - prev->total) / dt, 3);
		json_ks64(&j, "usage_bytes", cur->usage);
		json_kdouble(&j, "usage_bytes_per_s",
			     (cur->usage - prev->usage) / dt, 3);
		json_key(&j, "sockets");
		json_begin_arr(&j);
		for (int i = 0; i < n; i++) {
			json_begin_obj(&j);
			json_kstr(&j, "cookie", v[i].s->cookie);
			json_kstr(&j, "socket", v[i].s->desc);
			json_kstr(&j, "cgroup", v[i].s->cgroup);
			json_ks64(&j, "bytes", v[i].s->mem);
			json_ks64(&j, "delta", v[i].delta);
			json_kdouble(&j, "bytes_per_s", v[i].rate, 3);
			json_ks64(&j, "streak", v[i].s->streak);
			json_kbool(&j, "creep", v[i].s->streak >= 2);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_key(&j, "cgroups");
		json_begin_arr(&j);
		for (int i = 0; i < ncg; i++) {
			json_begin_obj(&j);
			json_kstr(&j, "cgroup", cg[i].a);
			json_kdouble(&j, "bytes", cg[i].v[0], 0);
			json_kdouble(&j, "bytes_per_s", cg[i].v[1] / dt, 3);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_end_obj(&j);
		json_newline(&j);
	} else {
		struct table t;
		static const struct col cols[] = {
			{ "COOKIE", COL_LEFT, 0 },
			{ "SOCKET", COL_LEFT, 0 },
			{ "CGROUP", COL_LEFT, 0 },
			{ "BYTES", COL_RIGHT, 0 },
			{ "DELTA", COL_RIGHT, 0 },
			{ "B/S", COL_RIGHT, 0 },
			{ "STREAK", COL_RIGHT, 0 },
			{ "", COL_LEFT, 0 },
		};
		static const struct col ccols[] = {
			{ "CGROUP", COL_LEFT, 0 },
			{ "BYTES", COL_RIGHT, 0 },
			{ "B/S", COL_RIGHT, 0 },
		};

		printf("sample %d (+%.1fs): sockets hold %s (%+.1f B/s); protocols use %s (%+.1f B/s)\n",
		       idx + 1, dt, human_bytes(b1, sizeof(b1), cur->total),
		       (cur->total - prev->total) / dt,
		       human_bytes(b2, sizeof(b2), cur->usage),
		       (cur->usage - prev->usage) / dt);
		table_init(&t, 8, cols);
		for (int i = 0; i < n; i++) {
			char by[32], d[32], r[32], st[16];
			const char *row[8] = {
				v[i].s->cookie, v[i].s->desc, v[i].s->cgroup,
				by, d, r, st,
				v[i].s->streak >= 2 ? "<-- CREEP: grew in every sample" : "",
			};

			snprintf(by, sizeof(by), "%lld", v[i].s->mem);
			snprintf(d, sizeof(d), "%+lld", v[i].delta);
			snprintf(r, sizeof(r), "%+.1f", v[i].rate);
			snprintf(st, sizeof(st), "%d", v[i].s->streak);
			table_add(&t, row);
		}
		if (n)
			table_print(&t, stdout);
		else
			printf("no socket changed its memory\n");
		table_free(&t);
		table_init(&t, 3, ccols);
		for (int i = 0; i < ncg; i++) {
			char by[32], r[32];
			const char *row[3] = { cg[i].a, by, r };

			if (!cg[i].v[1])
				continue;
			snprintf(by, sizeof(by), "%.0f", cg[i].v[0]);
			snprintf(r, sizeof(r), "%+.1f", cg[i].v[1] / dt);
			table_add(&t, row);
		}
		if (t.rows)
			table_print(&t, stdout);
		table_free(&t);
		putchar('\n');
	}
	fflush(stdout);
	free(v);
	free(cg);
}

int cmd_growth(void)
{
	struct wsample prev, cur;
	int count = opt.count;

	if (!opt.live && opt.ndirs < 2)
		fail("growth on saved copies needs at least two --debugfs DIR (successive snapshots)");
	if (!opt.live && (!count || count > opt.ndirs))
		count = opt.ndirs;
	if (opt.interval <= 0)
		fail("-i wants a positive number of seconds");
	take_sample(&prev, 0);
	if (!opt.json)
		printf("sample 1: %d sockets hold %lld bytes (baseline)\n\n",
		       prev.n, prev.total);
	for (int i = 1; !count || i < count; i++) {
		if (opt.live) {
			struct timespec ts = {
				(time_t)opt.interval,
				(long)((opt.interval - (time_t)opt.interval) * 1e9),
			};

			nanosleep(&ts, NULL);
		} else {
			opt.dir = opt.dirs[i];
		}
		take_sample(&cur, i);
		growth_report(&prev, &cur, i);
		free(prev.s);
		prev = cur;
	}
	free(prev.s);
	return 0;
}
