// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - parsing of the debugfs reports (see parse.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* Keys every full "sockets" line has, and those that must be numbers. */
static const char *const sockets_required[] = {
	"cookie", "netns", "proto", "family", "state", "kind", "src", "dst",
	"refcnt",
};

static const char *const sockets_numeric[] = {
	"netns", "ino", "uid", "refcnt", "orphan", "rmem", "wmem", "queued",
	"fwd", "rcvbuf", "sndbuf", "backlog", "rqlen", "memcg",
};

bool is_int(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	while (list && *list) {
		const char *end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);

		if (len == n && !strncmp(list, item, n))
			return true;
		list = end ? end + 1 : NULL;
	}
	return false;
}

const char *rec_get(const struct rec *r, const char *key)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->kv[i].key, key))
			return r->kv[i].val;
	return NULL;
}

bool rec_num(const struct rec *r, const char *key, long long *out)
{
	const char *v = rec_get(r, key);
	char *end;

	if (!v || !is_int(v))
		return false;
	errno = 0;
	*out = strtoll(v, &end, 10);
	return !errno && !*end;
}

long long rec_num0(const struct rec *r, const char *key)
{
	long long v;

	return rec_num(r, key, &v) ? v : 0;
}

long long sock_mem(const struct rec *r)
{
	long long m = rec_num0(r, "rmem") + rec_num0(r, "queued") +
		      rec_num0(r, "fwd");

	return m > 0 ? m : 0;
}

static int add_rec(struct report *r, struct rec *rec)
{
	if (r->n == r->cap) {
		int cap = r->cap ? r->cap * 2 : 64;
		struct rec *nr = realloc(r->recs, cap * sizeof(*nr));

		if (!nr)
			return -1;
		r->recs = nr;
		r->cap = cap;
	}
	r->recs[r->n++] = *rec;
	return 0;
}

static int check_line(const struct rec *rec, enum fmt fmt, char *err,
		      size_t errlen, const char *name)
{
	long long v;

	switch (fmt) {
	case FMT_SOCKETS:
		if (strcmp(rec->kv[0].key, "cookie")) {
			snprintf(err, errlen, "%s:%d: line does not start with cookie=",
				 name, rec->line);
			return -1;
		}
		for (size_t i = 0; i < sizeof(sockets_required) /
				       sizeof(sockets_required[0]); i++) {
			if (!rec_get(rec, sockets_required[i])) {
				snprintf(err, errlen, "%s:%d: missing key %s= (truncated line?)",
					 name, rec->line, sockets_required[i]);
				return -1;
			}
		}
		for (size_t i = 0; i < sizeof(sockets_numeric) /
				       sizeof(sockets_numeric[0]); i++) {
			const char *val = rec_get(rec, sockets_numeric[i]);

			if (val && strcmp(val, "-") &&
			    !rec_num(rec, sockets_numeric[i], &v)) {
				snprintf(err, errlen, "%s:%d: %s=%s is not a number",
					 name, rec->line, sockets_numeric[i], val);
				return -1;
			}
		}
		break;
	case FMT_SUMMARY:
		if (rec->n < 2 || strcmp(rec->kv[0].key, "netns") ||
		    strcmp(rec->kv[1].key, "kind")) {
			snprintf(err, errlen, "%s:%d: line does not start with netns= kind=",
				 name, rec->line);
			return -1;
		}
		for (int i = 2; i < rec->n; i++) {
			const char *k = rec->kv[i].key, *val = rec->kv[i].val;

			if (strcmp(k, "proto") && strcmp(k, "track") &&
			    strcmp(k, "family") &&
			    strcmp(val, "-") && !is_int(val)) {
				snprintf(err, errlen, "%s:%d: %s=%s is not a number",
					 name, rec->line, k, val);
				return -1;
			}
		}
		break;
	default:
		break;
	}
	return 0;
}

int report_parse(struct report *r, char *text, enum fmt fmt,
		 const char *name, char *err, size_t errlen)
{
	char *line = text;
	int lineno = 0;

	memset(r, 0, sizeof(*r));
	r->buf = text;
	while (*line) {
		char *nl = strchr(line, '\n'), *save = NULL, *w;
		struct rec rec = { .line = ++lineno };
		int cap = 0;

		if (!nl) {
			snprintf(err, errlen, "%s:%d: truncated line (no newline at end of file)",
				 name, lineno);
			return -1;
		}
		*nl = '\0';
		for (w = strtok_r(line, " \t", &save); w;
		     w = strtok_r(NULL, " \t", &save)) {
			struct kv kv;
			char *eq = strchr(w, '=');

			if (fmt == FMT_VERSION) {
				kv.key = w;
				kv.val = strtok_r(NULL, " \t", &save);
				if (!kv.val) {
					snprintf(err, errlen, "%s:%d: \"%s\" has no value",
						 name, lineno, w);
					free(rec.kv);
					return -1;
				}
			} else {
				if (!eq || eq == w) {
					snprintf(err, errlen, "%s:%d: malformed word \"%s\" (want key=value)",
						 name, lineno, w);
					free(rec.kv);
					return -1;
				}
				*eq = '\0';
				kv.key = w;
				kv.val = eq + 1;
				/*
				 * "explain=" is last and free text (suspects):
				 * its value runs to the end of the line.
				 */
				if (!strcmp(w, "explain") && save && *save) {
					save[-1] = ' ';
					save = NULL;
				}
			}
			if (rec.n == cap) {
				struct kv *nk;

				cap = cap ? cap * 2 : 16;
				nk = realloc(rec.kv, cap * sizeof(*nk));
				if (!nk) {
					free(rec.kv);
					snprintf(err, errlen, "out of memory");
					return -1;
				}
				rec.kv = nk;
			}
			rec.kv[rec.n++] = kv;
			if (!save)
				break;
		}
		line = nl + 1;
		if (!rec.n)
			continue;	/* blank line */
		if (check_line(&rec, fmt, err, errlen, name) ||
		    add_rec(r, &rec)) {
			free(rec.kv);
			return -1;
		}
	}
	return 0;
}

void report_free(struct report *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->recs[i].kv);
	free(r->recs);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
