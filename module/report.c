// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the file of a report collected at open (report.h): one
 * open, one release and one file_operations for every such report (and
 * for "refs", printed at the read); and a report's text to the kernel
 * log, line by line (the dump= commands).
 *
 * Locking rules: none of its own; collect() and release() run in the
 * opening and closing process, with no lock held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "report.h"
#include "sockleak.h"

static int report_open(struct inode *inode, struct file *file)
{
	const struct sockleak_report *r = inode->i_private;
	void *data = r->collect ? r->collect() : NULL;
	int ret;

	if (IS_ERR(data))
		return PTR_ERR(data);
	ret = single_open_size(file, r->show, data, r->size);
	if (ret && r->release)
		r->release(data);
	return ret;
}

static int report_release(struct inode *inode, struct file *file)
{
	const struct sockleak_report *r = inode->i_private;
	struct seq_file *m = file->private_data;

	if (r->release)
		r->release(m->private);
	return single_release(inode, file);
}

static const struct file_operations report_fops = {
	.owner		= THIS_MODULE,
	.open		= report_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= report_release,
};

void sockleak_report_create(const char *name, struct dentry *dir,
			    const struct sockleak_report *r)
{
	debugfs_create_file(name, SOCKLEAK_MODE_RO, dir, (void *)r,
			    &report_fops);
}

int sockleak_log_seq_init(struct seq_file *m, size_t size)
{
	memset(m, 0, sizeof(*m));
	m->size = size;
	m->buf = kvmalloc(size, GFP_KERNEL);
	return m->buf ? 0 : -ENOMEM;
}

void sockleak_log_seq_free(struct seq_file *m)
{
	kvfree(m->buf);
	m->buf = NULL;
}

void sockleak_log_seq_print(struct seq_file *m, const char *prefix)
{
	char *line, *cur = m->buf;

	/* An overflowed text is cut at the buffer's end. */
	m->buf[min(m->count, m->size - 1)] = '\0';
	while ((line = strsep(&cur, "\n")) != NULL)
		if (*line)
			pr_info("%s %s\n", prefix, line);
	sockleak_log_seq_free(m);
}
