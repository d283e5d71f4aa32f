// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the "version" debugfs file: module version, the kernel the
 * module was built for and the kernel it runs on.
 *
 * Locking rules: none; constants only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/utsname.h>
#include <generated/utsrelease.h>

#include "reports.h"
#include "sockleak.h"

static int version_show(struct seq_file *m, void *v)
{
	seq_printf(m, "sockleak %s\n", SOCKLEAK_VERSION);
	seq_printf(m, "built_for %s\n", UTS_RELEASE);
	seq_printf(m, "running %s\n", init_utsname()->release);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(version);

void sockleak_version_init(struct dentry *dir)
{
	debugfs_create_file("version", SOCKLEAK_MODE_RO, dir, NULL,
			    &version_fops);
}
