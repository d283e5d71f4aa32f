// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - tables and Prometheus output (see output.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "-");

	if (!d) {
		perror("sockleak");
		exit(2);
	}
	return d;
}

void table_init(struct table *t, int ncols, const struct col *cols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->cols = cols;
}

void table_add(struct table *t, const char **row)
{
	if (t->rows == t->cap) {
		int cap = t->cap ? t->cap * 2 : 32;
		char **nc = realloc(t->cells, (size_t)cap * t->ncols * sizeof(*nc));

		if (!nc) {
			perror("sockleak");
			exit(2);
		}
		t->cells = nc;
		t->cap = cap;
	}
	for (int c = 0; c < t->ncols; c++)
		t->cells[t->rows * t->ncols + c] = xstrdup(row[c]);
	t->rows++;
}

void table_print(const struct table *t, FILE *f)
{
	table_print_cb(t, f, NULL, NULL);
}

void table_print_cb(const struct table *t, FILE *f,
		    void (*after)(int row, void *arg), void *arg)
{
	int *w = calloc(t->ncols, sizeof(*w));

	if (!w) {
		perror("sockleak");
		exit(2);
	}
	for (int c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->cols[c].head);
		if (w[c] < t->cols[c].min_width)
			w[c] = t->cols[c].min_width;
	}
	for (int r = 0; r < t->rows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			int len = strlen(t->cells[r * t->ncols + c]);

			if (len > w[c])
				w[c] = len;
		}
	}
	for (int r = -1; r < t->rows; r++) {
		char line[4096];
		size_t len = 0;

		for (int c = 0; c < t->ncols && len < sizeof(line); c++) {
			const char *s = r < 0 ? t->cols[c].head :
					t->cells[r * t->ncols + c];
			bool right = t->cols[c].align == COL_RIGHT;

			len += snprintf(line + len, sizeof(line) - len,
					right ? "%*s  " : "%-*s  ", w[c], s);
		}
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		while (len && line[len - 1] == ' ')
			len--;
		line[len] = '\0';
		fprintf(f, "%s\n", line);
		if (r >= 0 && after)
			after(r, arg);
	}
	free(w);
}

void table_free(struct table *t)
{
	for (int i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void prom_family(FILE *f, const char *name, const char *type,
		 const char *help)
{
	fprintf(f, "# HELP %s ", name);
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

void prom_sample(FILE *f, const char *name, const char *const *labels,
		 double value)
{
	fputs(name, f);
	if (labels && labels[0]) {
		fputc('{', f);
		for (int i = 0; labels[i]; i += 2) {
			fprintf(f, "%s%s=\"", i ? "," : "", labels[i]);
			for (const char *p = labels[i + 1]; *p; p++) {
				if (*p == '\\')
					fputs("\\\\", f);
				else if (*p == '"')
					fputs("\\\"", f);
				else if (*p == '\n')
					fputs("\\n", f);
				else
					fputc(*p, f);
			}
			fputc('"', f);
		}
		fputc('}', f);
	}
	if (value == floor(value) && fabs(value) < 1e15)
		fprintf(f, " %.0f\n", value);
	else
		fprintf(f, " %.17g\n", value);
}

void prom_sanitize(char *dst, size_t len, const char *key)
{
	size_t i;

	for (i = 0; key[i] && i + 1 < len; i++) {
		char c = key[i];

		dst[i] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_') ? c : '_';
	}
	dst[i] = '\0';
}

const char *human_bytes(char *buf, size_t len, long long bytes)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	const char *sign = bytes < 0 ? "-" : "";
	unsigned long long b = bytes < 0 ? -(unsigned long long)bytes :
				   (unsigned long long)bytes;
	unsigned long long one = 1024;
	int u = 0;

	if (b < 1024) {
		snprintf(buf, len, "%s%llu B", sign, b);
		return buf;
	}
	while (u < 3 && b >= one * 1024) {
		one *= 1024;
		u++;
	}
	if (u == 0 && !(b % one))
		snprintf(buf, len, "%s%llu %s", sign, b / one, unit[u]);
	else
		snprintf(buf, len, "%s%llu.%llu %s", sign, b / one,
			 b % one * 10 / one, unit[u]);
	return buf;
}

const char *human_ms(char *buf, size_t len, long long ms)
{
	long long s = ms / 1000;

	if (ms < 0)
		snprintf(buf, len, "-");
	else if (ms < 1000)
		snprintf(buf, len, "%lldms", ms);
	else if (ms < 60000)
		snprintf(buf, len, "%.1fs", ms / 1000.0);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s / 3600 % 24);
	return buf;
}

/* Undo seq_escape()'s \ooo octal escapes (cgroup paths) into @dst. */
void unescape(char *dst, size_t len, const char *src)
{
	size_t n = 0;

	while (*src && n + 1 < len) {
		if (src[0] == '\\' && src[1] >= '0' && src[1] <= '3' &&
		    src[2] >= '0' && src[2] <= '7' &&
		    src[3] >= '0' && src[3] <= '7') {
			dst[n++] = (src[1] - '0') << 6 | (src[2] - '0') << 3 |
				   (src[3] - '0');
			src += 4;
		} else {
			dst[n++] = *src++;
		}
	}
	dst[n] = '\0';
}

void print_frames(FILE *f, const char *indent, const char *list)
{
	while (*list && strcmp(list, "-")) {
		size_t n = strcspn(list, ",");

		fprintf(f, "%s%.*s\n", indent, (int)n, list);
		list += n + (list[n] == ',');
	}
}
