// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak selftests library: lines of sockleak's debugfs reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_util.h"

/* Lines of a (debugfs) file, split in place. */
int sl_lines(const char *file, struct sl_list *l)
{
	char *p, *nl;
	int cap = 64;

	l->buf = sl_read_file(file);
	if (!l->buf)
		return -1;
	l->n = 0;
	l->line = calloc(cap, sizeof(char *));
	for (p = l->buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (l->n == cap) {
			cap *= 2;
			l->line = realloc(l->line, cap * sizeof(char *));
		}
		l->line[l->n++] = p;
	}
	return l->n;
}

int sl_sockets(struct sl_list *l)
{
	return sl_lines(SL_DIR "/sockets", l);
}

void sl_free(struct sl_list *l)
{
	free(l->buf);
	free(l->line);
	memset(l, 0, sizeof(*l));
}

unsigned long long sl_cookie(const char *line)
{
	char v[32];

	if (!sl_kv(line, "cookie", v, sizeof(v)))
		return 0;
	return strtoull(v, NULL, 16);
}

const char *sl_find(struct sl_list *l, unsigned long long cookie)
{
	for (int i = 0; i < l->n; i++)
		if (sl_cookie(l->line[i]) == cookie)
			return l->line[i];
	return NULL;
}

/* The summary line with the given netns= and kind= (and proto=, or NULL). */
bool sl_summary_line(const char *summary, const char *netns,
		     const char *kind, const char *proto,
		     char *out, size_t size)
{
	const char *line = summary;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[4096], v[64];

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (sl_kv(buf, "netns", v, sizeof(v)) && !strcmp(v, netns) &&
		    sl_kv(buf, "kind", v, sizeof(v)) && !strcmp(v, kind) &&
		    (!proto || (sl_kv(buf, "proto", v, sizeof(v)) &&
				!strcmp(v, proto)))) {
			snprintf(out, size, "%s", buf);
			return true;
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

/* A key of summary's netns=all line of this kind (and proto), -1: none. */
long long sl_summary_field(const char *kind, const char *proto, const char *key)
{
	char *sum = sl_read_file(SL_DIR "/summary"), line[4096];
	long long v = -1;

	if (sum && sl_summary_line(sum, "all", kind, proto, line, sizeof(line)))
		v = sl_kv_ll(line, key);
	free(sum);
	return v;
}

/*
 * The "suspects" line with kind=@kind (NULL: any) and id=@id, or NULL.
 * Sockets and tracked entries have their cookie in hex as id, cgroups
 * their cgroup id in decimal.
 */
const char *sl_suspect(struct sl_list *l, const char *kind, const char *id)
{
	char k[32], v[32];

	for (int i = 0; i < l->n; i++)
		if (sl_kv(l->line[i], "id", v, sizeof(v)) && !strcmp(v, id) &&
		    (!kind || (sl_kv(l->line[i], "kind", k, sizeof(k)) &&
			       !strcmp(k, kind))))
			return l->line[i];
	return NULL;
}

const char *sl_suspect_cookie(struct sl_list *l,
			      const char *kind,
			      unsigned long long cookie)
{
	char id[32];

	snprintf(id, sizeof(id), "%llx", cookie);
	return sl_suspect(l, kind, id);
}

/* The line of "tracked" (or NULL) for cookie; *text is to be freed. */
const char *sl_tracked_find(char **text, unsigned long long cookie)
{
	char *p, *nl;

	*text = sl_read_file(SL_DIR "/tracked");
	if (!*text)
		return NULL;
	for (p = *text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (sl_cookie(p) == cookie)
			return p;
	}
	return NULL;
}

/*
 * Lines of "tracked" whose closing process is @pid, each printed as
 * unexpected; -1 when the file cannot be read.
 */
int sl_tracked_by(pid_t pid)
{
	struct sl_list l;
	int i, n = 0;

	if (sl_lines(SL_DIR "/tracked", &l) < 0)
		return -1;
	for (i = 0; i < l.n; i++)
		if (sl_kv_ll(l.line[i], "close_pid") == pid) {
			printf("# unexpected: %.300s\n", l.line[i]);
			n++;
		}
	sl_free(&l);
	return n;
}
