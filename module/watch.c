// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - refcount watchpoints: which code took the reference that was
 * never put. sock_hold() and sock_put() are inlines (refcount_inc() and
 * refcount_dec_and_test() on sk->sk_refcnt): no probe sees them, a data
 * watchpoint does. "watch=<cookie>" in control arms a 4-byte write
 * watchpoint (register_wide_hw_breakpoint(), every CPU) on that socket's
 * sk_refcnt; "unwatch=<cookie>" disarms it and forgets its history. Every
 * write of the count traps (#DB) right after the writing instruction, and
 * the handler records it: old and new count, CPU, task, context, time,
 * and the stack unwound from the trap's registers, deduplicated into
 * sites (counted for every change) and a ring of the latest WATCH_RING
 * changes. watch_next.c arms the next sockets created; refs.c reports.
 *
 * The count: each trap's change is decoded from the writing instruction
 * (watch_insn.c: its registers and flags), so two writes racing on two
 * CPUs are two exact changes, and adding them up keeps the count. A write
 * that cannot be decoded ("undecoded": refcount_set()'s plain store) is
 * read back instead: the value now, exchanged with the last one seen,
 * which folds in what another CPU wrote in between.
 * sockleak's own references (the socket walk holds each socket while it
 * reads it) are recognised by the code that writes (watch_own()); they
 * are neither recorded nor reported, and the count leaves them out,
 * exactly (each is +1 or -1). When a change read back for sockleak's own
 * trap held another CPU's move too, the move is counted in gets or puts
 * without a site ("folded").
 *
 * Disarming at free: the kmem_cache_free and kfree tracepoints (attached
 * while a watch exists) see the socket's object go back to its slab, or to
 * kmalloc for a protocol without a slab, before the memory is released. The watch is marked freed there; from then on the
 * handler returns before reading anything, so a reuse of the memory is
 * never recorded nor read. Unregistering sleeps, so the watchpoint is
 * removed by a work item right after: until it runs, a write to the
 * reused word still traps, and is discarded.
 *
 * Locking rules: sockleak_watch_mutex serialises arming, disarming, the
 * free work, watch_next's work and the readers of refs.c; control.c calls
 * in with its own mutex held. The handler runs in #DB (NMI-like) context
 * and takes no lock: it uses atomics, a site table claimed by cmpxchg()
 * and a ring whose records carry a sequence number written last. The free
 * probe runs with preemption disabled and only reads sockleak_watch_slots[]; a
 * watch is freed after synchronize_rcu(), once the probe cannot see it,
 * and after its watchpoint is unregistered (no handler runs after that).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hw_breakpoint.h>
#include <linux/jhash.h>
#include <linux/kallsyms.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/perf_event.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include "compat.h"
#include "sockleak.h"
#include "sources.h"
#include "walk.h"
#include "watch.h"

#include <trace/events/kmem.h>

DEFINE_MUTEX(sockleak_watch_mutex);
struct sockleak_watch *sockleak_watch_slots[WATCH_SLOTS];
static bool watch_tp_attached;	/* under sockleak_watch_mutex */

/* The interrupted context: the #DB entry counts one NMI and one hardirq. */
static u8 watch_ctx(void)
{
	unsigned long pc = preempt_count();
	unsigned int nmi = (pc & NMI_MASK) >> NMI_SHIFT;
	unsigned int hard = (pc & HARDIRQ_MASK) >> HARDIRQ_SHIFT;

	if (nmi && hard) {
		nmi--;
		hard--;
	}
	if (nmi)
		return W_CTX_NMI;
	if (hard)
		return W_CTX_HARDIRQ;
	if (in_serving_softirq())
		return W_CTX_SOFTIRQ;
	return W_CTX_TASK;
}

/* sock_gen_put()'s text, [start, end): learnt at load, see watch_own(). */
static unsigned long watch_put_start, watch_put_end;

/*
 * A change made by sockleak itself, and its exact delta: its code holds
 * the writing instruction (an inline refcount_inc_not_zero() or
 * refcount_inc(): a get) or calls the function that does (one frame up:
 * sock_gen_put(), a put, the only way sockleak drops a socket reference;
 * or a kernel lookup such as mptcp_token_get_sock(), a get). Returns 0
 * for a change that is not sockleak's, else +1 or -1.
 */
static int watch_own(const unsigned long *ent, unsigned int depth)
{
	if (depth && within_module(ent[0], THIS_MODULE))
		return 1;
	if (depth < 2 || !within_module(ent[1], THIS_MODULE))
		return 0;
	return ent[0] >= watch_put_start && ent[0] < watch_put_end ? -1 : 1;
}

/* The site of @ent (found or claimed), counted; -1 when the table is full. */
static int watch_site(struct sockleak_watch *w, const unsigned long *ent,
		      unsigned int depth, int delta, u8 ctx)
{
	s8 op = delta > 0 ? 1 : delta < 0 ? -1 : 0;
	u32 h = jhash(ent, depth * sizeof(*ent), op + 2) | 1;
	struct watch_site *s;
	unsigned int k;
	u32 cur;

	for (k = 0; k < WATCH_SITES; k++) {
		s = &w->sites[(h + k) % WATCH_SITES];
		cur = READ_ONCE(s->hash);
		if (!cur) {
			cur = cmpxchg(&s->hash, 0, h);
			if (!cur) {
				s->op = op;
				s->ctx = ctx;
				s->pid = task_tgid_nr(current);
				memcpy(s->comm, current->comm, TASK_COMM_LEN);
				s->depth = depth;
				memcpy(s->ent, ent, depth * sizeof(*ent));
				/* Readers see the stack before ready. */
				smp_store_release(&s->ready, 1);
				cur = h;
			}
		}
		if (cur == h) {
			atomic_add(op ? abs(delta) : 1, &s->count);
			return s - w->sites;
		}
	}
	atomic_inc(&w->sites_lost);
	return -1;
}

static void watch_count(struct sockleak_watch *w, int delta)
{
	if (delta > 0)
		atomic_add(delta, &w->gets);
	else if (delta < 0)
		atomic_add(-delta, &w->puts);
}

/*
 * This write's change: decoded from the instruction (watch_insn.c), exact
 * whatever other CPUs wrote since; else read back, the difference from
 * the last value seen. Returns false when nothing changed.
 */
static bool watch_change(struct sockleak_watch *w, struct pt_regs *regs,
			 int *old, int *new)
{
	struct watch_write wr;
	int sum;

	if (sockleak_watch_insn_write(regs, &w->sk->sk_refcnt, &wr)) {
		/* A failed compare-and-exchange wrote the old value back. */
		if (!wr.delta)
			return false;
		/* The changes add up (racing traps commute). */
		sum = atomic_add_return(wr.delta, &w->last);
		*old = wr.old_known ? wr.old : sum - wr.delta;
		*new = *old + wr.delta;
		return true;
	}
	atomic_inc(&w->undecoded);
	*new = refcount_read(&w->sk->sk_refcnt);
	*old = atomic_xchg(&w->last, *new);
	return true;
}

/* #DB handler: one write of the watched sk_refcnt. No lock, no allocation. */
static void watch_hit(struct perf_event *bp, struct perf_sample_data *data,
		      struct pt_regs *regs)
{
	struct sockleak_watch *w = bp->overflow_handler_context;
	unsigned long ent[WATCH_DEPTH];
	unsigned int depth, n;
	struct watch_rec *r;
	int new, old, site, own;
	u8 ctx;

	/* Freed: the word may belong to another object now. */
	if (READ_ONCE(w->state) != W_ARMED)
		return;
	if (!watch_change(w, regs, &old, &new))
		return;
	/* The writing function first: the unwinder starts at its caller. */
	ent[0] = instruction_pointer(regs);
	depth = 1 + sockleak_stack_regs(regs, ent + 1, WATCH_DEPTH - 1);
	own = watch_own(ent, depth);
	if (own) {
		/*
		 * Exactly +1 or -1 of its own. What else a change read back
		 * moved the count by since the last change seen (another
		 * CPU's write whose trap read the value before this one) is
		 * folded in, unattributed.
		 */
		atomic_add(own, &w->own);
		watch_count(w, new - old - own);
		if (new - old - own)
			atomic_inc(&w->folded);
		return;
	}
	watch_count(w, new - old);
	ctx = watch_ctx();
	site = watch_site(w, ent, depth, new - old, ctx);

	n = atomic_inc_return(&w->seq);
	r = &w->ring[(n - 1) % WATCH_RING];
	WRITE_ONCE(r->seq, 0);
	/* A reader sees seq 0 (or a wrong number) while the record changes. */
	smp_wmb();
	r->old = old;
	r->new = new;
	r->t_ns = ktime_get_mono_fast_ns();
	r->pid = task_tgid_nr(current);
	r->cpu = raw_smp_processor_id();
	r->ctx = ctx;
	r->site = site + 1;
	memcpy(r->comm, current->comm, TASK_COMM_LEN);
	/* The record is complete before its number is. */
	smp_wmb();
	WRITE_ONCE(r->seq, n);
}

/* The watched object @ptr is being freed: the watch ends. */
static void watch_freed(const void *ptr)
{
	struct sockleak_watch *w;
	int i;

	for (i = 0; i < WATCH_SLOTS; i++) {
		w = READ_ONCE(sockleak_watch_slots[i]);
		if (w && w->sk == ptr && READ_ONCE(w->state) == W_ARMED) {
			w->freed_ns = ktime_get_ns();
			/* freed_ns is written before the state says so. */
			smp_store_release(&w->state, W_FREED);
			queue_work(system_wq, &w->work);
		}
	}
}

/* Tracepoint kmem_cache_free: the watched object goes back to its slab. */
static void watch_slab_free(void *data, unsigned long call_site,
			    const void *ptr, const struct kmem_cache *s)
{
	watch_freed(ptr);
}

/* Tracepoint kfree: the same for a protocol without a slab (netlink, ...). */
static void watch_kfree(void *data, unsigned long call_site, const void *ptr)
{
	watch_freed(ptr);
}

static void watch_unregister(struct sockleak_watch *w)
{
	if (w->bp) {
		unregister_wide_hw_breakpoint(w->bp);
		w->bp = NULL;
	}
}

static void watch_free_work(struct work_struct *work)
{
	struct sockleak_watch *w = container_of(work, struct sockleak_watch,
						work);

	mutex_lock(&sockleak_watch_mutex);
	watch_unregister(w);
	sockleak_watch_detach_tp();
	mutex_unlock(&sockleak_watch_mutex);
}

/* @w already out of sockleak_watch_slots[]; sockleak_watch_mutex held. */
static void watch_destroy(struct sockleak_watch *w)
{
	lockdep_assert_held(&sockleak_watch_mutex);
	watch_unregister(w);
	mutex_unlock(&sockleak_watch_mutex);
	synchronize_rcu();
	cancel_work_sync(&w->work);
	vfree(w);
	mutex_lock(&sockleak_watch_mutex);
}

/*
 * Detach the free tracepoints once no watch is armed (sockleak_watch_mutex
 * held): a freed watch, kept for its report, needs them no more, and an
 * attached kfree probe runs at every kfree of the system.
 */
void sockleak_watch_detach_tp(void)
{
	int i;

	lockdep_assert_held(&sockleak_watch_mutex);
	for (i = 0; i < WATCH_SLOTS; i++)
		if (sockleak_watch_slots[i] &&
		    READ_ONCE(sockleak_watch_slots[i]->state) == W_ARMED)
			return;
	if (!watch_tp_attached)
		return;
	unregister_trace_kmem_cache_free(watch_slab_free, NULL);
	unregister_trace_kfree(watch_kfree, NULL);
	tracepoint_synchronize_unregister();
	watch_tp_attached = false;
}

/* The full socket named @cookie, referenced by the caller, or NULL. */
static struct sock *watch_find(u64 cookie, u16 *proto)
{
	struct sockleak_ref refs[SOCKLEAK_BATCH];
	struct sockleak_source_cursor extra;
	struct sockleak_walk walk;
	struct sock *found = NULL;
	int i, n;

	sockleak_walk_init(&walk);
	sockleak_source_init(&extra);
	while (!found &&
	       ((n = sockleak_walk_batch(&walk, refs, SOCKLEAK_BATCH)) ||
		(n = sockleak_source_batch(&extra, refs, SOCKLEAK_BATCH)))) {
		for (i = 0; i < n && !found; i++) {
			struct sock *sk = refs[i].sk;

			if (!sk_fullsock(sk) ||
			    atomic64_read(&sk->sk_cookie) != cookie)
				continue;
			sock_hold(sk);
			found = sk;
			*proto = refs[i].proto;
		}
		sockleak_walk_put(refs, n);
	}
	sockleak_walk_release(&walk);
	sockleak_source_release(&extra);
	return found;
}

/* The watch named @cookie and its slot (sockleak_watch_mutex held). */
struct sockleak_watch *sockleak_watch_lookup(u64 cookie, int *slot)
{
	int i;

	lockdep_assert_held(&sockleak_watch_mutex);
	for (i = 0; i < WATCH_SLOTS; i++) {
		struct sockleak_watch *w = sockleak_watch_slots[i];

		if (w && w->cookie == cookie) {
			*slot = i;
			return w;
		}
	}
	return NULL;
}

/*
 * A free slot, making one by destroying the watch that ended first when
 * all are taken; -1 when every watch is armed. watch_destroy() drops
 * sockleak_watch_mutex for a while: look again after it (and so must the
 * caller, at what it checked before).
 */
static int watch_slot(void)
{
	struct sockleak_watch *w;
	int i, old;

	for (;;) {
		old = -1;
		for (i = 0; i < WATCH_SLOTS; i++) {
			w = sockleak_watch_slots[i];
			if (!w)
				return i;
			if (w->state == W_FREED &&
			    (old < 0 ||
			     w->freed_ns < sockleak_watch_slots[old]->freed_ns))
				old = i;
		}
		if (old < 0)
			return -1;
		w = sockleak_watch_slots[old];
		WRITE_ONCE(sockleak_watch_slots[old], NULL);
		watch_destroy(w);
	}
}

/*
 * Arm a watch on @sk (referenced by the caller, who puts that reference
 * after this returns: the put is sockleak's own), named @cookie. @born_ns
 * is when it was allocated (0: unknown), @origin how it was chosen.
 * Called with sockleak_watch_mutex held.
 */
int sockleak_watch_arm_sk(struct sock *sk, u64 cookie, u16 proto,
			  u64 born_ns, u8 origin)
{
	int slot, other, ret, count, drift;
	struct perf_event_attr attr;
	struct sockleak_watch *w;

	lockdep_assert_held(&sockleak_watch_mutex);
	if (sockleak_watch_lookup(cookie, &slot))
		return -EEXIST;
	w = vzalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	INIT_WORK(&w->work, watch_free_work);
	ret = -ENOSPC;
	slot = watch_slot();
	if (slot < 0)
		goto free;
	/*
	 * watch_slot() may have dropped the mutex: another writer may have
	 * armed this cookie, or detached the free probes (no watch armed)
	 * meanwhile. From here on the mutex stays held.
	 */
	ret = -EEXIST;
	if (sockleak_watch_lookup(cookie, &other))
		goto free;
	if (!watch_tp_attached) {
		ret = register_trace_kmem_cache_free(watch_slab_free, NULL);
		if (ret)
			goto free;
		ret = register_trace_kfree(watch_kfree, NULL);
		if (ret) {
			unregister_trace_kmem_cache_free(watch_slab_free, NULL);
			tracepoint_synchronize_unregister();
			goto free;
		}
		watch_tp_attached = true;
	}

	w->cookie = cookie;
	w->sk = sk;
	w->proto = proto;
	sockleak_sk_proto_name(sk, proto, w->proto_name, sizeof(w->proto_name));
	w->origin = origin;
	w->born_ns = born_ns;
	count = refcount_read(&sk->sk_refcnt);
	w->base = count - 1;
	atomic_set(&w->last, count);
	atomic_set(&w->own, 1);
	w->state = W_ARMED;
	w->armed_ns = ktime_get_ns();
	WRITE_ONCE(sockleak_watch_slots[slot], w);

	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&sk->sk_refcnt;
	attr.bp_len = HW_BREAKPOINT_LEN_4;
	attr.bp_type = HW_BREAKPOINT_W;
	w->bp = register_wide_hw_breakpoint(&attr, watch_hit, w);
	ret = sockleak_wide_bp_err(w->bp);
	if (ret) {
		w->bp = NULL;
		WRITE_ONCE(sockleak_watch_slots[slot], NULL);
		watch_destroy(w);
		return ret;
	}
	/*
	 * A write on a CPU the watchpoint had not reached yet went unseen:
	 * the count starts from its value once the watchpoint is on every
	 * CPU (a trap in flight right now would be counted twice).
	 */
	drift = refcount_read(&sk->sk_refcnt) - atomic_read(&w->last);
	w->base += drift;
	atomic_add(drift, &w->last);
	return 0;
free:
	vfree(w);
	return ret;
}

int sockleak_watch_arm(u64 cookie)
{
	struct sock *sk;
	u16 proto = 0;
	int ret;

	mutex_lock(&sockleak_watch_mutex);
	ret = -EEXIST;
	if (sockleak_watch_lookup(cookie, &ret)) {
		ret = -EEXIST;
		goto out;
	}
	ret = -ENOENT;
	sk = watch_find(cookie, &proto);
	if (sk) {
		ret = sockleak_watch_arm_sk(sk, cookie, proto, 0, W_ORIGIN_COOKIE);
		/* May be the last reference: the free probe ends the watch. */
		sock_gen_put(sk);
	}
out:
	if (ret)
		sockleak_watch_detach_tp();
	mutex_unlock(&sockleak_watch_mutex);
	return ret;
}

int sockleak_watch_disarm(u64 cookie)
{
	struct sockleak_watch *w;
	int slot, ret = -ENOENT;

	mutex_lock(&sockleak_watch_mutex);
	w = sockleak_watch_lookup(cookie, &slot);
	if (w) {
		WRITE_ONCE(sockleak_watch_slots[slot], NULL);
		watch_destroy(w);
		sockleak_watch_detach_tp();
		ret = 0;
	}
	mutex_unlock(&sockleak_watch_mutex);
	return ret;
}

void sockleak_watch_init(void)
{
	char buf[KSYM_SYMBOL_LEN], *slash;
	unsigned long size;

	/* "sock_gen_put+0x0/0x90": the function's size after the slash. */
	watch_put_start = (unsigned long)sock_gen_put;
	sprint_symbol(buf, watch_put_start);
	slash = strchr(buf, '/');
	if (slash && !kstrtoul(slash + 1, 0, &size))
		watch_put_end = watch_put_start + size;
	else
		pr_warn("cannot size sock_gen_put: its puts count as gets\n");
}

void sockleak_watch_exit(void)
{
	struct sockleak_watch *w;
	int i;

	mutex_lock(&sockleak_watch_mutex);
	for (i = 0; i < WATCH_SLOTS; i++) {
		w = sockleak_watch_slots[i];
		if (w) {
			WRITE_ONCE(sockleak_watch_slots[i], NULL);
			watch_destroy(w);
		}
	}
	sockleak_watch_detach_tp();
	mutex_unlock(&sockleak_watch_mutex);
}
