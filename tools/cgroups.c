// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the cgroups command: socket memory per memory cgroup,
 * with memory.stat "sock" of each online cgroup on cgroup v2.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "parse.h"
#include "sockleak.h"

/*
 * memory.stat "sock" of cgroup @path (as the module escapes it) under
 * the cgroupfs root, or -1 when the directory or the key is not there.
 */
static long long memstat_sock(const char *path)
{
	char cg[PATH_MAX], file[PATH_MAX + 64], *text, *p;
	long long v = -1;

	unescape(cg, sizeof(cg), path);
	snprintf(file, sizeof(file), "%s%s%smemory.stat", cgroupfs(), cg,
		 cg[0] && cg[strlen(cg) - 1] == '/' ? "" : "/");
	text = slurp(file);
	if (!text)
		return -1;
	for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, "sock ", 5)) {
			v = atoll(p + 5);
			break;
		}
	free(text);
	return v;
}

/* A byte count of @r as a table cell: human-readable, "-" when absent. */
static const char *cell_bytes(char *buf, size_t len, const struct rec *r,
			      const char *key)
{
	long long v;

	if (!rec_num(r, key, &v))
		return "-";
	return human_bytes(buf, len, v);
}

/*
 * cgroups: the module's keys plus, on a cgroup v2 system (no tcpmem),
 * memory.stat "sock" of each online cgroup and its residue against
 * subtree_charged. A dying or gone memcg has no directory (and its path
 * may belong to a new cgroup by now): "-".
 */
static void print_cgroups(const struct report *r)
{
	/* Column 6 is memory.stat's sock on v2, the v1 tcpmem counter on v1. */
	struct col cols[] = {
		{ "ID", COL_RIGHT, 0 },
		{ "PATH", COL_LEFT, 0 },
		{ "STATE", COL_LEFT, 0 },
		{ "SOCKETS", COL_RIGHT, 0 },
		{ "CHARGED", COL_RIGHT, 0 },
		{ "SUBTREE_CHARGED", COL_RIGHT, 0 },
		{ "MEMSTAT_SOCK", COL_RIGHT, 0 },
		{ "RESIDUE", COL_RIGHT, 0 },
		{ "FLAGS", COL_LEFT, 0 },
	};
	bool v1 = false, ms;
	struct table t;
	struct json j;

	for (int i = 0; i < r->n; i++) {
		long long v;

		if (rec_num(&r->recs[i], "tcpmem", &v))
			v1 = true;
	}
	ms = !v1 && cgroupfs_on();
	json_init(&j, stdout);
	if (v1)
		cols[6].head = "TCPMEM";
	table_init(&t, 9, cols);
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->recs[i];
		const char *path = rec_get(x, "path");
		long long sock = -1, sub;
		bool have = false;
		char b[6][32];
		const char *row[9];

		if (ms && path && path[0] == '/' &&
		    !strcmp(get_or(x, "state"), "online") &&
		    rec_num(x, "subtree_charged", &sub) &&
		    (sock = memstat_sock(path)) >= 0)
			have = true;
		if (opt.json) {
			json_begin_obj(&j);
			json_rec_members(&j, x);
			if (have) {
				json_ks64(&j, "memstat_sock", sock);
				json_ks64(&j, "memstat_residue", sock - sub);
			} else {
				json_knull(&j, "memstat_sock");
				json_knull(&j, "memstat_residue");
			}
			json_end_obj(&j);
			json_newline(&j);
			continue;
		}
		row[0] = get_or(x, "id");
		row[1] = get_or(x, "path");
		row[2] = get_or(x, "state");
		row[3] = get_or(x, "sockets");
		row[4] = cell_bytes(b[0], sizeof(b[0]), x, "charged");
		row[5] = cell_bytes(b[1], sizeof(b[1]), x, "subtree_charged");
		if (v1) {
			row[6] = cell_bytes(b[2], sizeof(b[2]), x, "tcpmem");
			row[7] = cell_bytes(b[3], sizeof(b[3]), x, "residue");
		} else {
			row[6] = have ? human_bytes(b[2], sizeof(b[2]), sock) : "-";
			row[7] = have ? human_bytes(b[3], sizeof(b[3]), sock - sub) : "-";
		}
		row[8] = get_or(x, "flags");
		table_add(&t, row);
	}
	if (!opt.json)
		table_print(&t, stdout);
	table_free(&t);
}

int cmd_cgroups(void)
{
	return show_report("cgroups", print_cgroups);
}
