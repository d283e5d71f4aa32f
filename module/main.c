// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - find socket memory leaks and socket refcount leaks.
 *
 * Module entry points: create /sys/kernel/debug/sockleak/ and its files on
 * load, remove them all on unload.
 *
 * Locking rules: debugfs_remove_recursive() waits for readers that are
 * inside a file operation, so no report runs after sockleak_exit() has
 * removed the directory. The sources of extra sockets (sources.c) are
 * registered before the first file is created and unregistered after the
 * directory is removed: no report sees them change.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/module.h>

#include "holds.h"
#include "owners.h"
#include "reports.h"
#include "sockleak.h"
#include "sources.h"
#include "watchpoints.h"

static struct dentry *sockleak_dir;

static int __init sockleak_init(void)
{
	struct dentry *dir;

	sockleak_holds_init();
	dir = debugfs_create_dir("sockleak", NULL);
	if (IS_ERR(dir)) {
		pr_err("cannot create debugfs directory: %ld\n", PTR_ERR(dir));
		return PTR_ERR(dir);
	}
	/* Root-only: the reports name sockets, tasks and cgroups. */
	d_inode(dir)->i_mode = S_IFDIR | 0700;
	sockleak_dir = dir;

	/* The extra sockets of the reports, in report order: before any file. */
	sockleak_source_register(&sockleak_owners_source);
	sockleak_source_register(&sockleak_track_source);

	sockleak_version_init(dir);
	sockleak_control_init(dir);
	sockleak_sockets_init(dir);
	sockleak_summary_init(dir);
	sockleak_cgroups_init(dir);
	sockleak_suspects_init(dir);
	sockleak_tracked_init(dir);
	sockleak_watch_init();
	sockleak_refs_init(dir);

	pr_info("loaded, version %s\n", SOCKLEAK_VERSION);
	return 0;
}

static void __exit sockleak_exit(void)
{
	debugfs_remove_recursive(sockleak_dir);
	sockleak_dir = NULL;
	sockleak_source_unregister(&sockleak_track_source);
	sockleak_source_unregister(&sockleak_owners_source);
	/* Probes unregistered (handlers drained), then the track table freed. */
	sockleak_track_exit();
	/* No probe can queue a watch_next match any more. */
	sockleak_watch_next_exit();
	sockleak_watch_exit();
	sockleak_owners_exit();
	pr_info("unloaded\n");
}

module_init(sockleak_init);
module_exit(sockleak_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The sockleak developers");
MODULE_DESCRIPTION("Find socket memory leaks and socket refcount leaks");
MODULE_VERSION(SOCKLEAK_VERSION);
