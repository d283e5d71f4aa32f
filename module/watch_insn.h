/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - what watch_insn.c decodes: the write of a watched count a
 * trap came after. A leaf: it needs nothing of sockleak, and only watch.c
 * calls it.
 */
#ifndef _SOCKLEAK_WATCH_INSN_H
#define _SOCKLEAK_WATCH_INSN_H

#include <linux/types.h>

struct pt_regs;

/* One write of a watched count, decoded from the instruction. */
struct watch_write {
	int delta;		/* its change; 0: nothing changed */
	int old;		/* the count before it, if old_known */
	bool old_known;
};

/* False when the write at @regs cannot be decoded. */
bool sockleak_watch_insn_write(const struct pt_regs *regs, const void *addr,
			       struct watch_write *wr);

#endif /* _SOCKLEAK_WATCH_INSN_H */
