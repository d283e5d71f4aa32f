// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - --prom: the Prometheus text exposition of every
 * report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "flags.h"
#include "output.h"
#include "parse.h"
#include "sockleak.h"

static const char *const proto_keys[][2] = {
	{ "memory_allocated", "Pages the protocol has charged (sockstat mem)." },
	{ "usage_pages", "memory_allocated plus per-CPU reserves, pages." },
	{ "seen_pages", "Pages charged by the sockets sockleak saw." },
	{ "unexplained_pages", "usage_pages - seen_pages: memory of sockets no hash walk sees." },
	{ "moved_pages", "How much usage_pages changed while the sockets were read: unexplained_pages is within this many pages." },
	{ "sockets_allocated", "Sockets the protocol has allocated (sockstat alloc)." },
	{ "orphans", "Orphan sockets (sockstat orphan)." },
	{ "pressure", "1 when the protocol is under memory pressure." },
};

/* Sockets of @socks whose flags= has @flag. */
static int flag_count(const struct report *socks, const char *flag)
{
	int n = 0;

	for (int i = 0; i < socks->n; i++)
		n += list_has(get_or(&socks->recs[i], "flags"), flag);
	return n;
}

/*
 * sockleak_flagged_sockets: every flag the helper knows (flags.c, 0 when
 * no socket has it), then every other flag name the sockets report has
 * (a newer module's).
 */
static void prom_flags(const struct report *socks)
{
	static const char *const metric = "sockleak_flagged_sockets";
	const char *l[] = { "flag", NULL, NULL };
	char seen[64][32];
	int nseen = 0;

	prom_family(stdout, metric, "gauge", "Sockets carrying each leak flag.");
	for (int f = 0; f < nr_leak_flags; f++) {
		l[1] = leak_flags[f].name;
		prom_sample(stdout, metric, l, flag_count(socks, l[1]));
	}
	for (int i = 0; i < socks->n; i++) {
		const char *p = get_or(&socks->recs[i], "flags");

		while (*p && strcmp(p, "-")) {
			size_t len = strcspn(p, ",");
			char name[32];
			bool dup = false;

			snprintf(name, sizeof(name), "%.*s", (int)len, p);
			p += len + (p[len] == ',');
			for (int k = 0; k < nseen; k++)
				dup |= !strcmp(seen[k], name);
			if (dup || leak_flag_find(name) || nseen == 64)
				continue;
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
		}
	}
	for (int k = 0; k < nseen; k++) {
		l[1] = seen[k];
		prom_sample(stdout, metric, l, flag_count(socks, l[1]));
	}
}

static void prom_generic_report(const struct report *r, const char *name,
				const char *labelkey)
{
	char metric[200], k[100];
	const char *done[64];
	int ndone = 0;

	for (int i = 0; i < r->n; i++)
		for (int j = 0; j < r->recs[i].n; j++) {
			const char *key = r->recs[i].kv[j].key;
			bool seen = false;

			if (!strcmp(key, labelkey) || !is_int(r->recs[i].kv[j].val))
				continue;
			for (int d = 0; d < ndone; d++)
				seen |= !strcmp(done[d], key);
			if (seen || ndone == 64)
				continue;
			done[ndone++] = key;
			prom_sanitize(k, sizeof(k), key);
			snprintf(metric, sizeof(metric), "sockleak_%s_%s", name, k);
			prom_family(stdout, metric, "gauge", "Value of this key in the module's report, per record.");
			for (int x = 0; x < r->n; x++) {
				long long v;
				const char *lab = get_or(&r->recs[x], labelkey);
				const char *labels[] = { labelkey, lab, NULL };

				if (rec_num(&r->recs[x], key, &v))
					prom_sample(stdout, metric, labels, v);
			}
		}
}

int cmd_prom(void)
{
	struct report sum, ver, cg, tr;
	struct suspects s;
	struct group *g = calloc(MAXGROUPS, sizeof(*g));
	struct group *c = calloc(MAXGROUPS, sizeof(*c));
	int ng = 0, nc = 0;

	if (!g || !c)
		fail("out of memory");
	load(&ver, "version", FMT_VERSION, false);
	load(&sum, "summary", FMT_SUMMARY, false);
	get_suspects(&s, &opt.filter, -1);

	prom_family(stdout, "sockleak_info", "gauge", "Module version and kernel release; always 1.");
	{
		const char *labels[] = {
			"version", ver.n > 0 ? ver.recs[0].kv[0].val : "",
			"running", ver.n > 2 ? ver.recs[2].kv[0].val : "",
			NULL,
		};

		prom_sample(stdout, "sockleak_info", labels, 1);
	}

	for (int i = 0; i < s.socks.n; i++) {
		const struct rec *x = &s.socks.recs[i];
		struct group *p = group_get(g, &ng, get_or(x, "proto"),
					    get_or(x, "state"));
		struct group *q = rec_get(x, "cgroup") ?
				  group_get(c, &nc, rec_get(x, "cgroup"), "") :
				  NULL;

		if (p) {
			p->v[0]++;
			p->v[1] += rec_num0(x, "rmem");
			p->v[2] += rec_num0(x, "wmem");
			p->v[3] += rec_num0(x, "queued");
		}
		if (q) {
			q->v[0]++;
			q->v[1] += sock_mem(x);
		}
	}
	prom_family(stdout, "sockleak_sockets", "gauge", "Sockets in the kernel's hash tables, per protocol and ss state.");
	for (int i = 0; i < ng; i++) {
		const char *l[] = { "proto", g[i].a, "state", g[i].b, NULL };

		prom_sample(stdout, "sockleak_sockets", l, g[i].v[0]);
	}
	prom_family(stdout, "sockleak_socket_bytes", "gauge", "Sum of sk_rmem_alloc (rmem), sk_wmem_alloc (wmem), sk_wmem_queued (queued) per protocol and state.");
	for (int i = 0; i < ng; i++)
		for (int t = 1; t <= 3; t++) {
			static const char *const tn[] = { "", "rmem", "wmem", "queued" };
			const char *l[] = { "proto", g[i].a, "state", g[i].b,
					    "type", tn[t], NULL };

			prom_sample(stdout, "sockleak_socket_bytes", l, g[i].v[t]);
		}
	prom_family(stdout, "sockleak_cgroup_socket_bytes", "gauge", "Bytes (rmem+queued+fwd) of the sockets charged to each cgroup.");
	for (int i = 0; i < nc; i++) {
		const char *l[] = { "cgroup", c[i].a, NULL };

		prom_sample(stdout, "sockleak_cgroup_socket_bytes", l, c[i].v[1]);
	}
	prom_flags(&s.socks);
	prom_family(stdout, "sockleak_suspects", "gauge", "Leak suspects (the module's suspects report, else sockets with a leak flag).");
	prom_sample(stdout, "sockleak_suspects", NULL, s.n);

	for (size_t k = 0; k < sizeof(proto_keys) / sizeof(proto_keys[0]); k++) {
		char metric[128];

		snprintf(metric, sizeof(metric), "sockleak_proto_%s", proto_keys[k][0]);
		prom_family(stdout, metric, "gauge", proto_keys[k][1]);
		for (int i = 0; i < sum.n; i++) {
			const struct rec *x = &sum.recs[i];
			const char *l[] = { "proto", get_or(x, "proto"), NULL };
			long long v;

			if (!strcmp(get_or(x, "netns"), "all") &&
			    !strcmp(get_or(x, "kind"), "proto") &&
			    rec_num(x, proto_keys[k][0], &v))
				prom_sample(stdout, metric, l, v);
		}
	}

	{
		struct account a[MAX_PROTOS];
		int n = account_build(&sum, &s.socks, owner_of, a, MAX_PROTOS);

		account_prom(stdout, a, n);
	}
	if (load(&tr, "tracked", FMT_KV, true)) {
		double bytes = 0;

		for (int i = 0; i < tr.n; i++) {
			long long v;

			if (rec_num(&tr.recs[i], "bytes", &v) ||
			    rec_num(&tr.recs[i], "mem", &v))
				bytes += v;
			else
				bytes += sock_mem(&tr.recs[i]);
		}
		prom_family(stdout, "sockleak_tracked_sockets", "gauge", "Sockets closed by their owner but not freed (the tracked report).");
		prom_sample(stdout, "sockleak_tracked_sockets", NULL, tr.n);
		prom_family(stdout, "sockleak_tracked_bytes", "gauge", "Bytes still held by the tracked closed-not-freed sockets.");
		prom_sample(stdout, "sockleak_tracked_bytes", NULL, bytes);
		report_free(&tr);
	}
	if (load(&cg, "cgroups", FMT_KV, true)) {
		const char *lk = cg.n && rec_get(&cg.recs[0], "cgroup") ?
				 "cgroup" : cg.n ? cg.recs[0].kv[0].key : "cgroup";

		prom_generic_report(&cg, "cgroups", lk);
		report_free(&cg);
	}
	put_suspects(&s);
	report_free(&sum);
	report_free(&ver);
	free(g);
	free(c);
	return 0;
}
