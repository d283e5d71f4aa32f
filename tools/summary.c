// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the summary command: the headline, the protocols'
 * accounting, sockets per state, bytes seen, sockstat and counters, the
 * census of the other families.
 */
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "parse.h"
#include "sockleak.h"

static void print_kv_table(const struct report *r, const char *kind,
			   const char *title, bool nonzero_only)
{
	struct table t;
	static const struct col cols[] = {
		{ "NETNS", COL_LEFT, 0 },
		{ "PROTO", COL_LEFT, 0 },
		{ "KEY", COL_LEFT, 0 },
		{ "VALUE", COL_RIGHT, 0 },
	};
	bool any = false;

	table_init(&t, 4, cols);
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->recs[i];

		if (strcmp(get_or(x, "kind"), kind))
			continue;
		for (int k = 2; k < x->n; k++) {
			const char *row[4] = {
				x->kv[0].val, get_or(x, "proto"),
				x->kv[k].key, x->kv[k].val,
			};

			if (!strcmp(x->kv[k].key, "proto"))
				continue;
			if (nonzero_only && !strcmp(x->kv[k].val, "0"))
				continue;
			table_add(&t, row);
			any = true;
		}
	}
	if (any) {
		printf("\n%s\n", title);
		table_print(&t, stdout);
	}
	table_free(&t);
}

/* The census of the other families' sockets (kind=family), one row each. */
static void print_families(const struct report *r)
{
	static const struct col cols[] = {
		{ "FAMILY", COL_LEFT, 0 },
		{ "PROTO", COL_LEFT, 0 },
		{ "LIVE", COL_RIGHT, 0 },
		{ "CLOSED", COL_RIGHT, 0 },
		{ "NEVER", COL_RIGHT, 0 },
		{ "BYTES", COL_RIGHT, 0 },
	};
	struct table t;
	bool any = false;

	table_init(&t, 6, cols);
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->recs[i];
		const char *row[6] = {
			get_or(x, "family"), get_or(x, "proto"),
			get_or(x, "live"), get_or(x, "closed_not_freed"),
			get_or(x, "never"), get_or(x, "bytes"),
		};

		if (strcmp(get_or(x, "kind"), "family"))
			continue;
		table_add(&t, row);
		any = true;
	}
	if (any) {
		printf("\nOther families (sockets allocated since track=on):\n");
		table_print(&t, stdout);
	}
	table_free(&t);
}

/*
 * The summary report's records as the JSON member "summary", an array;
 * with @totals only those of every netns together (netns=all).
 */
void summary_json(struct json *j, const struct report *r, bool totals)
{
	json_key(j, "summary");
	json_begin_arr(j);
	for (int i = 0; i < r->n; i++)
		if (!totals || !strcmp(get_or(&r->recs[i], "netns"), "all"))
			json_rec(j, &r->recs[i]);
	json_end_arr(j);
}

int cmd_summary(void)
{
	struct report r;

	load(&r, "summary", FMT_SUMMARY, false);
	if (opt.json) {
		struct json j;

		json_init(&j, stdout);
		json_begin_obj(&j);
		summary_json(&j, &r, false);
		json_end_obj(&j);
		json_newline(&j);
		report_free(&r);
		return 0;
	}
	{
		struct report socks;
		bool have = load(&socks, "sockets", FMT_SOCKETS, true);

		scan_proc_owners();
		headline(&r, have ? &socks : NULL);
		if (have)
			report_free(&socks);
	}
	print_kv_table(&r, "proto", "Protocol memory accounting (pages):", false);
	print_kv_table(&r, "states", "Sockets per state:", true);
	print_kv_table(&r, "mem", "Sockets and bytes seen:", true);
	print_kv_table(&r, "sockstat", "The kernel's sockstat, per netns:", false);
	print_kv_table(&r, "mib", "Counters (nonzero), per netns:", true);
	print_families(&r);
	report_free(&r);
	return 0;
}
