/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - stack.c: stacks unwound from a probe's registers, and a
 * frame as the reports print it; the caller at a probed function's entry.
 */
#ifndef _SOCKLEAK_STACK_H
#define _SOCKLEAK_STACK_H

#include <linux/compiler.h>
#include <linux/ptrace.h>
#include <linux/types.h>

struct seq_file;

unsigned int sockleak_stack_regs(struct pt_regs *regs, unsigned long *ent,
				 unsigned int max);
void sockleak_show_frame(struct seq_file *m, unsigned long addr);
void sockleak_show_frames(struct seq_file *m, const char *key,
			  const unsigned long *ent, unsigned int depth);

/*
 * At a probed function's entry, the return address its caller pushed: the
 * top of the stack the probe's registers were taken on. A direct read:
 * regs_get_kernel_stack_nth() goes through copy_from_kernel_nofault(), a
 * fifth of a call site's cost (make profile), to guard an address that
 * here is the live stack pointer itself. Inline: the probes read it at
 * most events.
 */
static inline unsigned long sockleak_stack_caller(struct pt_regs *regs)
{
	return READ_ONCE(*(unsigned long *)kernel_stack_pointer(regs));
}

#endif /* _SOCKLEAK_STACK_H */
