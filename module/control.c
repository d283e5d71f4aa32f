// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the "control" debugfs file, written kmemleak-style.
 *
 * Write one or more lines "name=value" (or "name" for commands without an
 * argument). The whole write is checked first: an unknown name, a missing
 * or malformed value or a value out of range fails the write with -EINVAL
 * and changes nothing. Then, under sockleak_control_mutex, tunables are set and
 * commands run in the order written; when one fails (track=on with no
 * memory, watch_next= with tracking off, watch= of no socket, ...), the
 * write returns its error and puts back the tunables, the stack filter
 * and tracking (struct control_undo). Reading the file lists every tunable
 * as "name=value", one per line, in table order.
 *
 * Commands are rows of control_cmds[]: a tunable row names its variable
 * and range; a command row (stack_filter=<filter>|off, scan,
 * track=on|off, clear, dump=<cookie>, watch=<cookie>, unwatch=<cookie>,
 * watch_next=<filter>|off) supplies check() to validate its argument and
 * run() to act on it. A command row without check() takes no argument.
 * Reading also shows "track=on|off" and "stack_filter=<filter>|off".
 *
 * Locking rules: sockleak_control_mutex serialises the writes and the
 * reads of the file; every command runs under it, so the files it reaches
 * (track_table.c, track_probes.c, unix.c) assert it where tracking starts
 * and stops. It is the outermost lock (module/README.md). The tunables
 * are written under it and read without it (single words, READ_ONCE()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "filter.h"
#include "owners.h"
#include "reports.h"
#include "sockleak.h"
#include "track.h"
#include "watchpoints.h"

struct sockleak_tunables sockleak_tunables = {
	.close_wait_ms	= 60000,
	.unread_ms	= 60000,
	.fin_wait2_ms	= 0,
	.rcvbuf_pct	= 75,
	.unhashed_ms	= 60000,
	.grace_ms	= 1800000,
	.max_entries	= 65536,
	.stacks		= 1,
	.stack_depth	= SOCKLEAK_STACK_DEPTH_DEFAULT,
};

/* Start tracking at load: sockleak.track=1 (e.g. from modules-load.d). */
static bool track;
module_param(track, bool, 0400);
MODULE_PARM_DESC(track, "Start tracking at load (default 0)");

/* Serialises writers of the tunables and the commands. */
DEFINE_MUTEX(sockleak_control_mutex);

struct control_cmd {
	const char *name;
	/* Tunable: a decimal unsigned value in [min, max]. */
	unsigned int *var;
	unsigned int min;
	unsigned int max;
	/* When set, the largest value this machine can give (below max). */
	unsigned int (*max_now)(void);
	/* Command: validate the argument (NULL: none given), then act. */
	int (*check)(const char *arg);
	int (*run)(const char *arg);
};

/* "scan": the owner scan of owners.c. */
static int control_scan(const char *arg)
{
	return sockleak_owners_scan();
}

#define TUNABLE(_name, _min, _max) {				\
	.name = #_name,						\
	.var = &sockleak_tunables._name,			\
	.min = _min,						\
	.max = _max,						\
}

/*
 * The table, then the free's hook: until the table is withdrawn, its
 * readers may read every socket it lists, so none may be freed unseen.
 */
static void sockleak_track_table_down(void)
{
	sockleak_track_table_stop();
	sockleak_track_free_unhook();
}

/*
 * Tracking on: the track table's table first, then the probes that feed it
 * (track_probes.c); off: the probes first (waiting for their handlers), then
 * the table and the free's hook. The track table only stores and answers.
 * Called with sockleak_control_mutex held.
 */
static int sockleak_track_set(bool on)
{
	int ret;

	lockdep_assert_held(&sockleak_control_mutex);
	if (!on) {
		if (sockleak_track_on()) {
			sockleak_track_probes_stop();
			sockleak_track_table_down();
		}
		return 0;
	}
	if (sockleak_track_on())
		return 0;
	ret = sockleak_track_table_start(sockleak_tunable(max_entries));
	if (ret)
		return ret;
	ret = sockleak_track_probes_start();
	if (ret)
		sockleak_track_table_down();
	return ret;
}

static int track_check(const char *arg)
{
	if (!arg || (strcmp(arg, "on") && strcmp(arg, "off")))
		return -EINVAL;
	return 0;
}

static int track_run(const char *arg)
{
	return sockleak_track_set(!strcmp(arg, "on"));
}

static int clear_run(const char *arg)
{
	return sockleak_track_clear();
}

static int cookie_check(const char *arg)
{
	u64 cookie;

	/* Cookies start at 1: 0 is "none yet", never a socket's name. */
	if (!arg || kstrtou64(arg, 16, &cookie) || !cookie)
		return -EINVAL;
	return 0;
}

static int dump_run(const char *arg)
{
	int tracked, watched;
	u64 cookie;

	if (kstrtou64(arg, 16, &cookie))
		return -EINVAL;
	/* The tracker's record, the watch's history: either is enough. */
	tracked = sockleak_tracked_dump(cookie);
	watched = sockleak_watch_dump(cookie);
	if (!tracked || !watched)
		return 0;
	return tracked == -ENOMEM || watched == -ENOMEM ? -ENOMEM : tracked;
}

static int watch_run(const char *arg)
{
	u64 cookie;

	if (kstrtou64(arg, 16, &cookie))
		return -EINVAL;
	return sockleak_watch_arm(cookie);
}

static int unwatch_run(const char *arg)
{
	u64 cookie;

	if (kstrtou64(arg, 16, &cookie))
		return -EINVAL;
	return sockleak_watch_disarm(cookie);
}

static const struct control_cmd control_cmds[] = {
	TUNABLE(close_wait_ms, 0, INT_MAX),
	TUNABLE(unread_ms, 0, INT_MAX),
	TUNABLE(fin_wait2_ms, 0, INT_MAX),
	TUNABLE(rcvbuf_pct, 1, 100),
	TUNABLE(unhashed_ms, 0, INT_MAX),
	TUNABLE(grace_ms, 0, INT_MAX),
	{
		.name = "max_entries",
		.var = &sockleak_tunables.max_entries,
		.min = 64,
		.max = SOCKLEAK_MAX_ENTRIES,
		.max_now = sockleak_track_max_entries,
	},
	TUNABLE(stacks, SOCKLEAK_STACKS_NONE, SOCKLEAK_STACKS_ALL),
	TUNABLE(stack_depth, 1, SOCKLEAK_STACK_DEPTH),
	{ .name = "stack_filter", .check = sockleak_stack_filter_check,
	  .run = sockleak_stack_filter_set },
	{ .name = "scan", .run = control_scan },
	{ .name = "track", .check = track_check, .run = track_run },
	{ .name = "clear", .run = clear_run },
	{ .name = "dump", .check = cookie_check, .run = dump_run },
	{ .name = "watch", .check = cookie_check, .run = watch_run },
	{ .name = "unwatch", .check = cookie_check, .run = unwatch_run },
	{ .name = "watch_next", .check = sockleak_watch_next_check,
	  .run = sockleak_watch_next },
};

/* Most lines one write may carry, and its most bytes. */
#define CONTROL_MAX_LINES	16
#define CONTROL_MAX_BYTES	1024

struct control_op {
	const struct control_cmd *cmd;
	const char *arg;	/* points into the copied write buffer */
	unsigned int val;	/* parsed value of a tunable */
};

static const struct control_cmd *control_lookup(const char *name)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(control_cmds); i++)
		if (!strcmp(control_cmds[i].name, name))
			return &control_cmds[i];
	return NULL;
}

/* Parse one line (modified in place) into @op. */
static int control_parse(char *line, struct control_op *op)
{
	char *arg = strchr(line, '=');
	const struct control_cmd *cmd;

	if (arg)
		*arg++ = '\0';
	cmd = control_lookup(line);
	if (!cmd)
		return -EINVAL;
	op->cmd = cmd;
	op->arg = arg;
	if (cmd->var) {
		if (!arg || kstrtouint(arg, 10, &op->val))
			return -EINVAL;
		if (op->val < cmd->min || op->val > cmd->max)
			return -EINVAL;
		if (cmd->max_now && op->val > cmd->max_now())
			return -EINVAL;
		return 0;
	}
	return cmd->check ? cmd->check(arg) : (arg ? -EINVAL : 0);
}

/*
 * What a write that fails while running puts back: every tunable, the
 * stack filter, and tracking (turned off again when the write turned it
 * on). A command that ran before the failing line keeps its effect (a
 * scan, clear, dump, watch, unwatch or watch_next).
 */
struct control_undo {
	unsigned int vals[ARRAY_SIZE(control_cmds)];
	char stack_filter[SOCKLEAK_FILTER_LEN];
	bool track_on;
};

/* Called with sockleak_control_mutex held. */
static void control_save(struct control_undo *u)
{
	int i;

	lockdep_assert_held(&sockleak_control_mutex);
	for (i = 0; i < ARRAY_SIZE(control_cmds); i++)
		if (control_cmds[i].var)
			u->vals[i] = READ_ONCE(*control_cmds[i].var);
	strscpy(u->stack_filter, sockleak_stack_filter_text(),
		sizeof(u->stack_filter));
	u->track_on = sockleak_track_on();
}

static void control_undo(const struct control_undo *u)
{
	int i;

	if (!u->track_on)
		sockleak_track_set(false);
	if (strcmp(u->stack_filter, sockleak_stack_filter_text()))
		sockleak_stack_filter_set(u->stack_filter);
	for (i = 0; i < ARRAY_SIZE(control_cmds); i++)
		if (control_cmds[i].var)
			WRITE_ONCE(*control_cmds[i].var, u->vals[i]);
}

static ssize_t control_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	struct control_op ops[CONTROL_MAX_LINES];
	struct control_undo undo;
	char *buf, *cur, *line;
	int i, n = 0, ret = 0;

	if (!len)
		return 0;
	if (len > CONTROL_MAX_BYTES)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	/* A NUL byte would hide the rest of the write from the parser. */
	if (strlen(buf) != len) {
		ret = -EINVAL;
		goto out;
	}

	cur = buf;
	while ((line = strsep(&cur, "\n")) != NULL) {
		line = strim(line);
		if (!*line)
			continue;
		if (n == CONTROL_MAX_LINES) {
			ret = -EINVAL;
			goto out;
		}
		ret = control_parse(line, &ops[n++]);
		if (ret)
			goto out;
	}

	mutex_lock(&sockleak_control_mutex);
	control_save(&undo);
	for (i = 0; i < n && !ret; i++) {
		if (ops[i].cmd->var)
			WRITE_ONCE(*ops[i].cmd->var, ops[i].val);
		else
			ret = ops[i].cmd->run(ops[i].arg);
	}
	if (ret)
		control_undo(&undo);
	mutex_unlock(&sockleak_control_mutex);
out:
	kfree(buf);
	return ret ?: len;
}

static int control_show(struct seq_file *m, void *v)
{
	int i;

	mutex_lock(&sockleak_control_mutex);
	for (i = 0; i < ARRAY_SIZE(control_cmds); i++)
		if (control_cmds[i].var)
			seq_printf(m, "%s=%u\n", control_cmds[i].name,
				   READ_ONCE(*control_cmds[i].var));
	seq_printf(m, "track=%s\n", sockleak_track_on() ? "on" : "off");
	seq_printf(m, "stack_filter=%s\n", sockleak_stack_filter_text());
	mutex_unlock(&sockleak_control_mutex);
	return 0;
}

static int control_open(struct inode *inode, struct file *file)
{
	return single_open(file, control_show, NULL);
}

static const struct file_operations control_fops = {
	.owner		= THIS_MODULE,
	.open		= control_open,
	.read		= seq_read,
	.write		= control_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

void sockleak_track_exit(void)
{
	mutex_lock(&sockleak_control_mutex);
	sockleak_track_set(false);
	sockleak_track_probes_exit();
	mutex_unlock(&sockleak_control_mutex);
}

void sockleak_control_init(struct dentry *dir)
{
	if (track) {
		mutex_lock(&sockleak_control_mutex);
		if (sockleak_track_set(true))
			pr_err("cannot start tracking at load\n");
		mutex_unlock(&sockleak_control_mutex);
	}
	debugfs_create_file("control", SOCKLEAK_MODE_RW, dir, NULL,
			    &control_fops);
}
