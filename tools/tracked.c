// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the tracked command: sockets closed by their owner
 * but never freed, with -v their allocation and close stacks.
 */
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "parse.h"
#include "sockleak.h"

/* tracked: one row per socket; -v adds both stacks, one frame a line. */
static void tracked_stacks(int row, void *arg)
{
	const struct rec *x = &((const struct report *)arg)->recs[row];
	static const char *const keys[] = { "alloc_stack", "close_stack" };

	for (int k = 0; k < 2; k++) {
		const char *st = get_or(x, keys[k]);

		printf("    %s:%s\n", keys[k], strcmp(st, "-") ? "" : " -");
		print_frames(stdout, "      ", st);
	}
}

/* Bytes a tracked socket still holds: rmem + wmem + queued + fwd. */
static long long tracked_mem(const struct rec *x)
{
	return rec_num0(x, "rmem") + rec_num0(x, "wmem") +
	       rec_num0(x, "queued") + rec_num0(x, "fwd");
}

static void print_tracked(const struct report *r)
{
	static const struct col cols[] = {
		{ "COOKIE", COL_LEFT, 0 },
		{ "PROTO", COL_LEFT, 0 },
		{ "STATE", COL_LEFT, 0 },
		{ "REFCNT", COL_RIGHT, 0 },
		{ "MEM", COL_RIGHT, 0 },
		{ "CLOSED", COL_RIGHT, 0 },
		{ "BY", COL_LEFT, 0 },
		{ "MISSING", COL_LEFT, 0 },
	};
	struct table t;

	if (opt.json) {
		struct json j;

		json_init(&j, stdout);
		for (int i = 0; i < r->n; i++) {
			json_begin_obj(&j);
			json_rec_members(&j, &r->recs[i]);
			json_ks64(&j, "mem", tracked_mem(&r->recs[i]));
			json_end_obj(&j);
			json_newline(&j);
		}
		return;
	}
	table_init(&t, 8, cols);
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->recs[i];
		char mem[32], age[32], by[96];
		const char *row[8];
		long long v, pid = 0;

		rec_num(x, "close_pid", &pid);
		if (pid > 0)
			snprintf(by, sizeof(by), "%lld/%s", pid,
				 get_or(x, "close_comm"));
		else
			snprintf(by, sizeof(by), "-");
		row[0] = get_or(x, "cookie");
		row[1] = get_or(x, "proto");
		row[2] = get_or(x, "state");
		row[3] = get_or(x, "refcnt");
		row[4] = human_bytes(mem, sizeof(mem), tracked_mem(x));
		row[5] = rec_num(x, "close_age_ms", &v) ?
			 human_ms(age, sizeof(age), v) : "-";
		row[6] = by;
		row[7] = get_or(x, "missing");
		table_add(&t, row);
	}
	table_print_cb(&t, stdout, opt.verbose ? tracked_stacks : NULL,
		       (void *)r);
	table_free(&t);
}

int cmd_tracked(void)
{
	return show_report("tracked", print_tracked);
}
