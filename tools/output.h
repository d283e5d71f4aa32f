/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak helper - output: aligned text tables, Prometheus text
 * exposition, sizes and durations for humans (JSON: json.h).
 */
#ifndef SOCKLEAK_OUTPUT_H
#define SOCKLEAK_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "json.h"
#include "parse.h"

/* How a table column is laid out, declared by each report. */
enum col_align {
	COL_LEFT,		/* names, paths, states, free text */
	COL_RIGHT,		/* numbers, sizes, durations */
};

struct col {
	const char *head;
	enum col_align align;
	int min_width;		/* 0: the header's; wider cells widen it */
};

/*
 * A text table: cells are copied; a column is as wide as its widest cell
 * (at least its header and min_width); two spaces between columns, no
 * trailing blanks.
 */
struct table {
	int ncols;
	const struct col *cols;	/* the caller's, for the table's life */
	char **cells;		/* rows * ncols */
	int rows;
	int cap;
};

void table_init(struct table *t, int ncols, const struct col *cols);
void table_add(struct table *t, const char **row);
void table_print(const struct table *t, FILE *f);
/* The same, calling @after (when not NULL) after each printed row. */
void table_print_cb(const struct table *t, FILE *f,
		    void (*after)(int row, void *arg), void *arg);
void table_free(struct table *t);

/* Prometheus text exposition. */
void prom_family(FILE *f, const char *name, const char *type,
		 const char *help);
/* name{labels} value; labels is a NULL-terminated name, value list. */
void prom_sample(FILE *f, const char *name, const char *const *labels,
		 double value);
/* Turn @key into a valid metric-name part (other chars become '_'). */
void prom_sanitize(char *dst, size_t len, const char *key);

/*
 * A size as the module writes it (module/suspects.c): "512 B", "8 KiB",
 * "4.5 KiB", "2.0 MiB" (one decimal, cut not rounded, none for a whole
 * KiB), and past the module's MiB, "3.2 GiB" and "1.5 TiB" alike;
 * negative sizes with a '-'.
 */
const char *human_bytes(char *buf, size_t len, long long bytes);
/* A duration: "655ms", "12.3s", "4m05s", "2h03m", "3d04h"; "-" when < 0. */
const char *human_ms(char *buf, size_t len, long long ms);

/* Undo seq_escape()'s \ooo octal escapes (comm, cgroup paths). */
void unescape(char *dst, size_t len, const char *src);
/* A stack as the module prints it ("f,f,...", "-": none): a frame a line. */
void print_frames(FILE *f, const char *indent, const char *list);

#endif
