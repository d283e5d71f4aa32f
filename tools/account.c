// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - where every page of a protocol's memory_allocated
 * goes: the headline of the overview, its JSON and its Prometheus
 * metrics. The pages come from the summary report's kind=proto lines
 * (their parts add up to usage_pages, see module/summary.c); the owners
 * and causes of unhashed sockets from the sockets report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"

static bool is(const struct rec *r, const char *key, const char *val)
{
	const char *v = rec_get(r, key);

	return v && !strcmp(v, val);
}

/* Sockets of @proto's accounting: TCP's own, UDP's with UDP-Lite. */
static bool in_proto(const struct rec *r, const char *proto)
{
	if (!strcmp(proto, "udp"))
		return is(r, "proto", "udp") || is(r, "proto", "udplite");
	return is(r, "proto", proto);
}

/*
 * " (all 3 reset by peer, held by pid 139 (repro))": the unhashed live
 * sockets of @proto in the sockets report.
 */
static void unhashed_detail(char *buf, size_t len, const struct report *socks,
			    const char *proto, account_owner_fn owner)
{
	long long pid = 0, n = 0, reset = 0;
	char who[96] = "", ob[96];
	int pids = 0;
	size_t k;

	buf[0] = '\0';
	for (int i = 0; socks && i < socks->n; i++) {
		const struct rec *r = &socks->recs[i];
		const char *o;
		long long p;

		if (!in_proto(r, proto) || !is(r, "hashed", "0") ||
		    !is(r, "orphan", "0"))
			continue;
		n++;
		reset += rec_num0(r, "err") == ECONNRESET;
		o = owner(r, ob, sizeof(ob));
		p = atoll(o);
		if (p <= 0 || p == pid)
			continue;
		if (!pids++)
			snprintf(who, sizeof(who), "%s", o);
		pid = p;
	}
	if (!n)
		return;
	k = snprintf(buf, len, " (");
	if (reset && k < len)
		k += snprintf(buf + k, len - k, "%s%lld reset by peer, ",
			      reset == n ? "all " : "", reset);
	if (k >= len)
		return;
	if (pids == 1) {
		/* "139/repro" or "139/repro,+2" */
		char *slash = strchr(who, '/');

		if (slash)
			*slash++ = '\0';
		snprintf(buf + k, len - k, "held by pid %s (%s))", who,
			 slash ? slash : "?");
	} else if (pids > 1) {
		snprintf(buf + k, len - k, "held by %d processes)", pids);
	} else {
		snprintf(buf + k, len - k, "no owner known)");
	}
}

static void part(struct account *a, const char *key, const char *what,
		 long long sockets, long long pages)
{
	struct account_part *p;

	if (a->nparts == ACCOUNT_PARTS || (!sockets && !pages))
		return;
	p = &a->parts[a->nparts++];
	p->key = key;
	p->what = what;
	p->sockets = sockets;
	p->pages = pages;
	p->detail[0] = '\0';
}

int account_build(const struct report *sum, const struct report *socks,
		  account_owner_fn owner, struct account *out, int max)
{
	int n = 0;

	for (int i = 0; i < sum->n && n < max; i++) {
		const struct rec *r = &sum->recs[i];
		struct account *a = &out[n];
		long long seen, orphans, opages, unh, dead, dpages;

		if (!is(r, "netns", "all") || !is(r, "kind", "proto"))
			continue;
		memset(a, 0, sizeof(*a));
		snprintf(a->proto, sizeof(a->proto), "%s",
			 rec_get(r, "proto") ?: "?");
		a->usage = rec_num0(r, "usage_pages");
		a->unexplained = rec_num0(r, "unexplained_pages");
		a->moved = rec_num0(r, "moved_pages");
		a->pressure = rec_num0(r, "pressure");
		a->listeners = rec_num0(r, "listeners");
		a->never = rec_num0(r, "never");
		a->never_pages = rec_num0(r, "never_pages");
		a->udplite = rec_num0(r, "udplite");
		a->udplite_pages = rec_num0(r, "udplite_pages");
		seen = rec_num0(r, "sockets_seen");
		orphans = rec_num0(r, "orphans_seen");
		opages = rec_num0(r, "orphan_pages");
		unh = rec_num0(r, "unhashed_seen");
		dead = rec_num0(r, "closed_not_freed");
		dpages = rec_num0(r, "closed_not_freed_pages");

		part(a, "unhashed", "unhashed", unh - dead,
		     rec_num0(r, "unhashed_pages") - dpages);
		if (a->nparts)
			unhashed_detail(a->parts[0].detail,
					sizeof(a->parts[0].detail), socks,
					a->proto, owner);
		part(a, "closed_not_freed", "closed not freed", dead, dpages);
		part(a, "hashed", "hashed", seen - orphans,
		     rec_num0(r, "seen_pages") - opages);
		part(a, "orphans", "orphan", orphans, opages);
		part(a, "timewait", "TIME-WAIT", rec_num0(r, "tw"), 0);
		part(a, "synrecv", "SYN-RECV", rec_num0(r, "req"), 0);
		part(a, "mptcp", "MPTCP", 0, rec_num0(r, "mptcp_pages"));
		n++;
	}
	return n;
}

static const char *plural(long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

void account_print(FILE *f, const struct account *a)
{
	char b[32];

	fprintf(f, "%s: %lld %s (%s):", a->proto, a->usage,
		plural(a->usage, "page", "pages"),
		human_bytes(b, sizeof(b), 4096LL * a->usage));
	for (int i = 0; i < a->nparts; i++) {
		const struct account_part *p = &a->parts[i];

		fprintf(f, "%s", i ? ", " : " ");
		if (!strcmp(p->key, "mptcp"))
			fprintf(f, "MPTCP connections %lld %s", p->pages,
				plural(p->pages, "page", "pages"));
		else
			fprintf(f, "%lld %s %s %lld %s%s", p->sockets, p->what,
				plural(p->sockets, "socket", "sockets"),
				p->pages, plural(p->pages, "page", "pages"),
				p->detail);
		if (!strcmp(p->key, "hashed") && a->listeners)
			fprintf(f, " (%lld %s)", a->listeners,
				plural(a->listeners, "listener", "listeners"));
	}
	if (a->udplite)
		fprintf(f, " (UDP-Lite among them: %lld %s %lld %s)",
			a->udplite, plural(a->udplite, "socket", "sockets"),
			a->udplite_pages,
			plural(a->udplite_pages, "page", "pages"));
	/*
	 * Below 0 the sockets count bytes the protocol has not charged yet
	 * (UDP counts a datagram before it charges it): nothing unexplained.
	 */
	if (a->unexplained < 0)
		fprintf(f, "%s0 pages unexplained (the sockets hold %lld %s not charged yet)",
			a->nparts ? "; " : " ", -a->unexplained,
			plural(-a->unexplained, "page", "pages"));
	else
		fprintf(f, "%s%lld %s unexplained",
			a->nparts ? "; " : " ", a->unexplained,
			plural(a->unexplained, "page", "pages"));
	if (a->moved)
		fprintf(f, " (+-%lld: the memory moved while it was read)",
			a->moved);
	if (a->never)
		fprintf(f, "; %lld %s the kernel will never free (%lld %s)",
			a->never, plural(a->never, "socket", "sockets"),
			a->never_pages, plural(a->never_pages, "page", "pages"));
	fprintf(f, "; %s\n", a->pressure ? "UNDER MEMORY PRESSURE" :
		"no memory pressure");
}

void account_json(struct json *j, const struct account *a)
{
	json_begin_obj(j);
	json_kstr(j, "proto", a->proto);
	json_ks64(j, "usage_pages", a->usage);
	json_key(j, "parts");
	json_begin_arr(j);
	for (int i = 0; i < a->nparts; i++) {
		const struct account_part *p = &a->parts[i];

		json_begin_obj(j);
		json_kstr(j, "part", p->key);
		json_ks64(j, "sockets", p->sockets);
		json_ks64(j, "pages", p->pages);
		/* " (all 3 reset by peer, ...)" without the brackets */
		if (p->detail[0]) {
			char d[sizeof(p->detail)];
			size_t l;

			snprintf(d, sizeof(d), "%s", p->detail + 2);
			l = strlen(d);
			if (l)
				d[l - 1] = '\0';
			json_kstr(j, "detail", d);
		} else {
			json_knull(j, "detail");
		}
		json_end_obj(j);
	}
	json_end_arr(j);
	json_ks64(j, "unexplained_pages", a->unexplained);
	json_ks64(j, "moved_pages", a->moved);
	json_ks64(j, "never", a->never);
	json_ks64(j, "never_pages", a->never_pages);
	json_ks64(j, "udplite", a->udplite);
	json_ks64(j, "udplite_pages", a->udplite_pages);
	json_kbool(j, "pressure", a->pressure);
	json_end_obj(j);
}

void account_prom(FILE *f, const struct account *a, int n)
{
	prom_family(f, "sockleak_proto_pages", "gauge",
		    "Pages of the protocol's memory_allocated, by what holds them (part=unexplained: no socket seen).");
	for (int i = 0; i < n; i++) {
		const char *l[] = { "proto", a[i].proto, "part", "unexplained",
				    NULL };

		for (int j = 0; j < a[i].nparts; j++) {
			l[3] = a[i].parts[j].key;
			prom_sample(f, "sockleak_proto_pages", l,
				    a[i].parts[j].pages);
		}
		l[3] = "unexplained";
		prom_sample(f, "sockleak_proto_pages", l, a[i].unexplained);
	}
	prom_family(f, "sockleak_proto_part_sockets", "gauge",
		    "Sockets of each part of sockleak_proto_pages.");
	for (int i = 0; i < n; i++)
		for (int j = 0; j < a[i].nparts; j++) {
			const char *l[] = { "proto", a[i].proto, "part",
					    a[i].parts[j].key, NULL };

			prom_sample(f, "sockleak_proto_part_sockets", l,
				    a[i].parts[j].sockets);
		}
	prom_family(f, "sockleak_never_freed_sockets", "gauge",
		    "Sockets the kernel will never free (verdict=never).");
	for (int i = 0; i < n; i++) {
		const char *l[] = { "proto", a[i].proto, NULL };

		prom_sample(f, "sockleak_never_freed_sockets", l, a[i].never);
	}
}
