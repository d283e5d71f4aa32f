/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - a debugfs report collected when its file is opened (report.c):
 * collect() gathers everything once, show() prints it with seq_file, so
 * every read() of one open file sees the same text whatever its size, and
 * release() frees it. "summary", "cgroups" and "suspects" are such reports.
 * Without collect() and release(), show() reads the live state itself
 * ("refs"). And the same text printing to the kernel log, for the dump=
 * commands.
 */
#ifndef _SOCKLEAK_REPORT_H
#define _SOCKLEAK_REPORT_H

#include <linux/types.h>

struct dentry;
struct seq_file;

struct sockleak_report {
	void *(*collect)(void);		/* the data, or an ERR_PTR(); may be NULL */
	int (*show)(struct seq_file *m, void *v);	/* m->private: the data */
	void (*release)(void *data);	/* NULL: nothing to free */
	size_t size;			/* seq_file buffer to start with */
};

/* The root-only file @name in @dir, reading @r (static: it must outlive it). */
void sockleak_report_create(const char *name, struct dentry *dir,
			    const struct sockleak_report *r);

/*
 * A report to the kernel log ("dump=", as kmemleak's): print into @m, a
 * seq_file over a buffer of @size, then sockleak_log_seq_print() writes
 * each line with @prefix and frees the buffer (so does _free()).
 */
int sockleak_log_seq_init(struct seq_file *m, size_t size);
void sockleak_log_seq_print(struct seq_file *m, const char *prefix);
void sockleak_log_seq_free(struct seq_file *m);

#endif /* _SOCKLEAK_REPORT_H */
