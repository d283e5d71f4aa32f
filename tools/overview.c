// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the overview (no command): where every page goes and
 * the top suspects; check, its exit status for CI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "account.h"
#include "groups.h"
#include "output.h"
#include "parse.h"
#include "sockleak.h"

/*
 * Where every page goes, one line per protocol (account.c); @socks (may
 * be NULL) names the owners and causes of the unhashed sockets.
 */
void headline(const struct report *sum, const struct report *socks)
{
	struct account a[MAX_PROTOS];
	int n = account_build(sum, socks, owner_of, a, MAX_PROTOS);

	for (int i = 0; i < n; i++)
		account_print(stdout, &a[i]);
}

/* The same as a JSON array. */
void headline_json(struct json *j, const struct report *sum,
		   const struct report *socks)
{
	struct account a[MAX_PROTOS];
	int n = account_build(sum, socks, owner_of, a, MAX_PROTOS);

	json_begin_arr(j);
	for (int i = 0; i < n; i++)
		account_json(j, &a[i]);
	json_end_arr(j);
}

int cmd_overview(void)
{
	struct report sum;
	struct suspects s;
	int limit = opt.limit >= 0 ? opt.limit : 10;

	/* Sockets no hash table holds (reset, closed) come through it. */
	refresh_owners();
	load(&sum, "summary", FMT_SUMMARY, false);
	scan_proc_owners();
	get_suspects(&s, &opt.filter, -1);
	if (opt.json) {
		struct json j;

		json_init(&j, stdout);
		json_begin_obj(&j);
		summary_json(&j, &sum, true);
		json_key(&j, "accounting");
		headline_json(&j, &sum, &s.socks);
		json_kstr(&j, "suspects_source",
			  s.from_file ? "suspects" : "flags");
		json_ks64(&j, "suspects_count", s.n);
		json_key(&j, "suspects");
		json_begin_arr(&j);
		for (int i = 0; i < s.n && i < limit; i++) {
			json_begin_obj(&j);
			if (s.from_file)
				json_suspect_members(&j, &s.file.recs[i]);
			else
				json_sock_members(&j, s.v[i]);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		if (s.from_file) {
			json_key(&j, "suspect_groups");
			print_groups_json(&j, &s.file);
		}
		json_end_obj(&j);
		json_newline(&j);
	} else {
		headline(&sum, &s.socks);
		if (!s.n) {
			printf("\nno suspects%s\n", s.from_file ? "" :
			       " (no socket has a leak flag)");
		} else if (s.from_file && !opt.all) {
			struct sgroup *g;
			int ng = suspect_groups(&s.file, &g);

			if (ng < 0)
				fail("out of memory");
			free(g);
			printf("\n%d suspect%s in %d group%s (the module's suspects report, --all: one line each), top %d:\n",
			       s.n, s.n == 1 ? "" : "s", ng, ng == 1 ? "" : "s",
			       ng < limit ? ng : limit);
			print_suspects(&s, limit);
		} else {
			printf("\n%d suspect%s (%s), top %d:\n", s.n,
			       s.n == 1 ? "" : "s",
			       s.from_file ? "the module's suspects report" :
			       "sockets with leak flags, by memory",
			       s.n < limit ? s.n : limit);
			if (!s.from_file && s.n > limit)
				s.n = limit;
			print_suspects(&s, limit);
		}
	}
	put_suspects(&s);
	report_free(&sum);
	return 0;
}

int cmd_check(void)
{
	struct suspects s;
	int n;

	scan_proc_owners();
	get_suspects(&s, &opt.filter, -1);
	n = s.n;
	if (opt.json) {
		struct json j;

		json_init(&j, stdout);
		json_begin_obj(&j);
		json_kstr(&j, "suspects_source",
			  s.from_file ? "suspects" : "flags");
		json_ks64(&j, "suspects_count", n);
		json_end_obj(&j);
		json_newline(&j);
	} else if (n) {
		printf("%d suspect%s:\n", n, n == 1 ? "" : "s");
		print_suspects(&s, -1);
	} else {
		printf("no suspects\n");
	}
	put_suspects(&s);
	return n ? 1 : 0;
}
