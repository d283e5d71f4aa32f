/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak helper - reading the module's debugfs reports.
 *
 * Every report is text, one record per line, space-separated key=value
 * words (the "version" file: "name value" words). A record is the ordered
 * list of its key/value pairs, so reports the helper does not know in
 * detail (cgroups, tracked, suspects, later keys) are still read.
 */
#ifndef SOCKLEAK_PARSE_H
#define SOCKLEAK_PARSE_H

#include <stdbool.h>
#include <stddef.h>

struct kv {
	char *key;
	char *val;
};

struct rec {
	struct kv *kv;
	int n;
	int line;		/* 1-based line number in its file */
};

struct report {
	char *buf;		/* the file's text; keys and values point in */
	struct rec *recs;
	int n;
	int cap;
};

/* Line layouts the parser checks. */
enum fmt {
	FMT_KV,			/* any key=value words */
	FMT_SOCKETS,		/* first key cookie=, required keys */
	FMT_SUMMARY,		/* netns= kind= first */
	FMT_VERSION,		/* "name value" */
};

/*
 * Parse @text (NUL-terminated, owned by the report afterwards) as @fmt.
 * On error returns -1 and writes "NAME:LINE: what" into @err.
 */
int report_parse(struct report *r, char *text, enum fmt fmt,
		 const char *name, char *err, size_t errlen);
void report_free(struct report *r);

const char *rec_get(const struct rec *r, const char *key);
/* The value as a signed integer; false when absent, "-" or not a number. */
bool rec_num(const struct rec *r, const char *key, long long *out);
long long rec_num0(const struct rec *r, const char *key);
/* Is @s a whole decimal integer (optionally negative)? */
bool is_int(const char *s);
/* Does the comma-separated @list hold @item? */
bool list_has(const char *list, const char *item);

/* Bytes a socket pins: rmem + queued + fwd (the module's page accounting). */
long long sock_mem(const struct rec *r);

#endif
