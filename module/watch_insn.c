// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the write a refcount watchpoint trapped after, decoded.
 *
 * A data watchpoint reports a write once the writing instruction has
 * completed: the registers it hands the handler (watch.c) are those right
 * after it, regs->ip the next instruction. Reading the count back at that
 * point sees this write plus whatever another CPU wrote in between, so a
 * get racing with a put could read as no change at all. The instructions
 * that change a refcount_t are locked read-modify-writes of the 32-bit
 * word, and their registers and flags tell this write's own change:
 *
 *   lock xadd %reg,(mem)     refcount_inc(), refcount_dec_and_test(),
 *                            refcount_add(n), ...: %reg holds the value
 *                            before; the flags are those of the addition.
 *                            The addend is the immediate of the nearest
 *                            "mov $imm,%reg" shortly before (how a
 *                            constant addend gets there) if the flags
 *                            agree with it, else +1 or -1 (CF set:
 *                            -1, a borrow-free decrement of a count above
 *                            0); ZF, SF, PF (and CF) must agree.
 *   lock cmpxchg %reg,(mem)  refcount_inc_not_zero(): ZF set, %eax was
 *                            the value before and %reg the value after;
 *                            ZF clear, nothing changed (a failed compare
 *                            writes the old value back, and traps).
 *   lock inc/dec/add/sub     the change is in the instruction.
 *
 * The instruction ends at regs->ip; x86 cannot be decoded backwards, so
 * every start from 3 to 15 bytes back is tried, and one is taken only if
 * exactly one decodes to a locked instruction of those that ends at
 * regs->ip and whose memory operand, computed from the registers, is the
 * watched word. Anything else (refcount_set()'s plain store, a register
 * the instruction overwrote that its address needed) is left to watch.c's
 * reading of the count.
 *
 * Locking rules: none. It runs in the #DB handler (NMI-like): no lock, no
 * allocation; the text is read with copy_from_kernel_nofault().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/ptrace.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "watch_insn.h"

#ifdef CONFIG_X86_64
#define INSN_MAX	15
#define INSN_PRE	24	/* where an xadd's addend is loaded */

enum { I_XADD, I_CMPXCHG, I_INCDEC, I_ADDSUB8, I_ADDSUB32 };

static unsigned long insn_reg(const struct pt_regs *regs, unsigned int n)
{
	switch (n) {
	case 0: return regs->ax;
	case 1: return regs->cx;
	case 2: return regs->dx;
	case 3: return regs->bx;
	case 4: return regs->sp;
	case 5: return regs->bp;
	case 6: return regs->si;
	case 7: return regs->di;
	case 8: return regs->r8;
	case 9: return regs->r9;
	case 10: return regs->r10;
	case 11: return regs->r11;
	case 12: return regs->r12;
	case 13: return regs->r13;
	case 14: return regs->r14;
	default: return regs->r15;
	}
}

/* The flags an addition leaves that say which addend it was. */
static bool insn_flags_agree(unsigned long flags, u32 old, int delta)
{
	u32 res = old + (u32)delta;

	if (!!(flags & X86_EFLAGS_ZF) != !res)
		return false;
	if (!!(flags & X86_EFLAGS_SF) != !!(res & BIT(31)))
		return false;
	return !!(flags & X86_EFLAGS_PF) == !(hweight8(res & 0xff) & 1);
}

/*
 * The immediate of the nearest "mov $imm32,%reg" (b8+r; REX.B 41 for
 * r8-r15) that ends within INSN_PRE bytes before @p (an xadd's addend is
 * loaded into its register shortly before; other instructions may come in
 * between), with INSN_PRE readable bytes before @p. A plausible addend
 * only: the caller checks it against the flags.
 */
static bool insn_mov_imm(const u8 *p, unsigned int reg, s32 *imm)
{
	const u8 *op;
	int back;

	for (back = 0; back + 5 <= INSN_PRE; back++) {
		op = p - back - 5;
		if (op[0] != 0xb8 + (reg & 7))
			continue;
		if (reg >= 8 ? op - p + INSN_PRE < 1 || op[-1] != 0x41 :
			       op - p + INSN_PRE >= 1 && (op[-1] & 0xf0) == 0x40)
			continue;
		memcpy(imm, op + 1, 4);
		return *imm && *imm >= -65536 && *imm <= 65536;
	}
	return false;
}

/* The carry of @old + @delta (as 32-bit unsigned) agrees with CF. */
static bool insn_carry_agrees(unsigned long flags, u32 old, int delta)
{
	return !!(flags & X86_EFLAGS_CF) ==
	       ((u64)old + (u32)delta > U32_MAX);
}

/*
 * Decode @p (@len bytes, ending at @regs->ip) as one locked write of
 * @addr. Returns false when it is not one.
 */
static bool insn_try(const u8 *p, unsigned int len, const struct pt_regs *regs,
		     unsigned long addr, struct watch_write *wr)
{
	unsigned int i = 0, kind, mod, reg, rm, rex = 0;
	unsigned long ea;
	s32 disp = 0;
	s32 imm = 0;
	u8 modrm, sib;
	u32 old;

	if (p[i++] != 0xf0)			/* lock */
		return false;
	if ((p[i] & 0xf0) == 0x40)		/* REX */
		rex = p[i++];
	if (rex & 0x08)				/* REX.W: 64-bit operand */
		return false;
	switch (p[i++]) {
	case 0x0f:
		if (i >= len)
			return false;
		if (p[i] == 0xc1)
			kind = I_XADD;
		else if (p[i] == 0xb1)
			kind = I_CMPXCHG;
		else
			return false;
		i++;
		break;
	case 0xff:
		kind = I_INCDEC;
		break;
	case 0x83:
		kind = I_ADDSUB8;
		break;
	case 0x81:
		kind = I_ADDSUB32;
		break;
	default:
		return false;
	}
	if (i >= len)
		return false;
	modrm = p[i++];
	mod = modrm >> 6;
	reg = ((modrm >> 3) & 7) | ((rex & 0x04) << 1);
	rm = modrm & 7;
	if (mod == 3)				/* a register, not memory */
		return false;
	if (rm == 4) {
		unsigned int index, base;

		if (i >= len)
			return false;
		sib = p[i++];
		index = ((sib >> 3) & 7) | ((rex & 0x02) << 2);
		base = (sib & 7) | ((rex & 0x01) << 3);
		ea = index == 4 ? 0 : insn_reg(regs, index) << (sib >> 6);
		if ((base & 7) == 5 && mod == 0) {
			if (i + 4 > len)
				return false;
			memcpy(&disp, p + i, 4);
			i += 4;
		} else {
			ea += insn_reg(regs, base);
		}
	} else if (rm == 5 && mod == 0) {	/* %rip-relative */
		if (i + 4 > len)
			return false;
		memcpy(&disp, p + i, 4);
		i += 4;
		ea = regs->ip;
	} else {
		ea = insn_reg(regs, rm | ((rex & 0x01) << 3));
	}
	if (mod == 1) {
		if (i >= len)
			return false;
		disp = (s8)p[i++];
	} else if (mod == 2) {
		if (i + 4 > len)
			return false;
		memcpy(&disp, p + i, 4);
		i += 4;
	}
	if (kind == I_ADDSUB8) {
		if (i >= len)
			return false;
		imm = (s8)p[i++];
	} else if (kind == I_ADDSUB32) {
		if (i + 4 > len)
			return false;
		memcpy(&imm, p + i, 4);
		i += 4;
	}
	if (i != len || ea + disp != addr)
		return false;

	wr->old_known = false;
	switch (kind) {
	case I_XADD:
		old = insn_reg(regs, reg);
		if (insn_mov_imm(p, reg, &imm) &&
		    insn_flags_agree(regs->flags, old, imm) &&
		    insn_carry_agrees(regs->flags, old, imm)) {
			wr->delta = imm;
		} else {
			wr->delta = regs->flags & X86_EFLAGS_CF ? -1 : 1;
			if (!insn_flags_agree(regs->flags, old, wr->delta))
				return false;
		}
		wr->old = old;
		wr->old_known = true;
		return true;
	case I_CMPXCHG:
		old = regs->ax;
		wr->old = old;
		wr->old_known = true;
		wr->delta = regs->flags & X86_EFLAGS_ZF ?
			    (int)((u32)insn_reg(regs, reg) - old) : 0;
		return true;
	case I_INCDEC:
		if ((reg & 7) > 1)
			return false;
		wr->delta = (reg & 7) ? -1 : 1;
		return true;
	default:
		if ((reg & 7) != 0 && (reg & 7) != 5)
			return false;
		wr->delta = (reg & 7) ? -imm : imm;
		return true;
	}
}

bool sockleak_watch_insn_write(const struct pt_regs *regs, const void *addr,
			       struct watch_write *wr)
{
	unsigned long ip = regs->ip;
	struct watch_write cand;
	unsigned int len, found = 0;
	u8 text[INSN_PRE + INSN_MAX];

	/* INSN_PRE more bytes: what loaded an xadd's addend, if readable. */
	if (copy_from_kernel_nofault(text, (void *)(ip - sizeof(text)),
				     sizeof(text))) {
		memset(text, 0, INSN_PRE);
		if (copy_from_kernel_nofault(text + INSN_PRE,
					     (void *)(ip - INSN_MAX), INSN_MAX))
			return false;
	}
	for (len = 3; len <= INSN_MAX; len++) {
		if (insn_try(text + sizeof(text) - len, len, regs,
			     (unsigned long)addr, &cand)) {
			*wr = cand;
			found++;
		}
	}
	return found == 1;
}
#else
bool sockleak_watch_insn_write(const struct pt_regs *regs, const void *addr,
			       struct watch_write *wr)
{
	return false;
}
#endif
