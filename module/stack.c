// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - stacks: unwinding from a probe's or an exception's registers
 * (the track probes, the refcount watchpoints) and printing a frame.
 * Unwinding is an architecture choice, not a kernel version difference:
 * it lives here, not in compat.h.
 *
 * Locking rules: none. sockleak_stack_regs() takes no lock and allocates
 * nothing: it runs in probe handlers and in the #DB handler (NMI-like).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/stacktrace.h>
#include <linux/string.h>
#ifdef CONFIG_X86
#include <asm/unwind.h>
#endif

#include "stack.h"

/*
 * The return addresses above the point @regs was taken at, innermost
 * first: at most @max into @ent. @regs' own instruction pointer is not
 * one of them (ORC skips the regs frame): at a probed function's entry
 * they are its callers; at a watchpoint, the callers of the function
 * that wrote.
 * x86 (ORC) unwinds from @regs, so the frames of the probe or exception
 * machinery are never walked (make bench: less than half the cost of
 * stack_trace_save() from the handler). Elsewhere: stack_trace_save(),
 * then skip to the function's return address (the top of its stack at
 * entry); a watchpoint gets no frames there.
 */
#ifdef CONFIG_X86
unsigned int sockleak_stack_regs(struct pt_regs *regs, unsigned long *ent,
				 unsigned int max)
{
	struct unwind_state state;
	unsigned int n = 0;
	unsigned long addr;

	for (unwind_start(&state, current, regs, NULL);
	     !unwind_done(&state) && n < max; unwind_next_frame(&state)) {
		addr = unwind_get_return_address(&state);
		if (!addr)
			break;
		ent[n++] = addr;
	}
	return n;
}
#else
unsigned int sockleak_stack_regs(struct pt_regs *regs, unsigned long *ent,
				 unsigned int max)
{
	unsigned long buf[64], ret = regs_get_kernel_stack_nth(regs, 0);
	unsigned int n, i, k = 0;

	n = stack_trace_save(buf, ARRAY_SIZE(buf), 0);
	for (i = 0; i < n && buf[i] != ret; i++)
		;
	for (; i < n && k < max; i++)
		ent[k++] = buf[i];
	return k;
}
#endif

/* One frame as %pS prints it, with no space and never a raw address. */
void sockleak_show_frame(struct seq_file *m, unsigned long addr)
{
	char buf[KSYM_SYMBOL_LEN + 8], *p;

	snprintf(buf, sizeof(buf), "%pS", (void *)addr);
	if (!strncmp(buf, "0x", 2)) {
		seq_putc(m, '?');
		return;
	}
	p = strchr(buf, ' ');
	if (p)
		memmove(p, p + 1, strlen(p));
	seq_puts(m, buf);
}

/* " KEY=frame,frame,...", or " KEY=-" for none (tracked, refs). */
void sockleak_show_frames(struct seq_file *m, const char *key,
			  const unsigned long *ent, unsigned int depth)
{
	unsigned int i;

	seq_printf(m, " %s=", key);
	for (i = 0; i < depth; i++) {
		if (i)
			seq_putc(m, ',');
		sockleak_show_frame(m, ent[i]);
	}
	if (!depth)
		seq_putc(m, '-');
}
