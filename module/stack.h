/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - stack.c: stacks unwound from a probe's registers, and a
 * frame as the reports print it.
 */
#ifndef _SOCKLEAK_STACK_H
#define _SOCKLEAK_STACK_H

#include <linux/types.h>

struct pt_regs;
struct seq_file;

unsigned int sockleak_stack_regs(struct pt_regs *regs, unsigned long *ent,
				 unsigned int max);
unsigned long sockleak_stack_caller(struct pt_regs *regs);
void sockleak_show_frame(struct seq_file *m, unsigned long addr);
void sockleak_show_frames(struct seq_file *m, const char *key,
			  const unsigned long *ent, unsigned int depth);

#endif /* _SOCKLEAK_STACK_H */
