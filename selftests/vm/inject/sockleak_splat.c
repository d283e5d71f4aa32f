// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for the VM harness self-test: it WARNs when loaded, so
 * the harness can prove that a kernel splat fails the run. Never installed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/module.h>

static int __init sockleak_splat_init(void)
{
	WARN(1, "deliberate warning from the harness self-test\n");
	return 0;
}

static void __exit sockleak_splat_exit(void)
{
}

module_init(sockleak_splat_init);
module_exit(sockleak_splat_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sockleak VM harness self-test: WARN on load");
