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
 * free work, the CPU hotplug work (which takes cpus_read_lock() under it),
 * watch_next's work and the readers of refs.c; control.c calls in with
 * its own mutex held. watch_destroy() drops the mutex across
 * synchronize_rcu() and cancel_work_sync() of the watch's free work,
 * which takes it. The handler runs in #DB (NMI-like) context
 * and takes no lock: it uses atomics, a site table claimed by cmpxchg()
 * and a ring whose records carry a sequence number written last. The free
 * probe runs with preemption disabled and only reads sockleak_watch_slots[]; a
 * watch is freed after synchronize_rcu(), once the probe cannot see it,
 * and after its watchpoint is unregistered (no handler runs after that).
 * What no trap saw at an arming is read under stop_machine(), which takes
 * the CPU hotplug lock: under sockleak_watch_mutex, never under that lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/hw_breakpoint.h>
#include <linux/jhash.h>
#include <linux/kallsyms.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/perf_event.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/stop_machine.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include "compat.h"
#include "family.h"
#include "holds.h"
#include "sockleak.h"
#include "sources.h"
#include "stack.h"
#include "walk.h"
#include "watch.h"
#include "watch_insn.h"
#include "watchpoints.h"

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

/*
 * The text, [start, end), of the two functions sockleak drops a socket
 * reference with (holds.c): sock_gen_put() and refcount_dec_not_one().
 * Learnt at load, see watch_own().
 */
struct watch_text {
	unsigned long start, end;
};

static struct watch_text watch_puts[2];

/*
 * A change made by sockleak itself, and its exact delta: its code holds
 * the writing instruction (an inline refcount_inc_not_zero() or
 * refcount_inc(): a get) or calls the function that does (one frame up:
 * sock_gen_put() or refcount_dec_not_one(), a put, the only ways sockleak
 * drops a socket reference; or a kernel lookup such as
 * mptcp_token_get_sock(), a get). Returns 0 for a change that is not
 * sockleak's, else +1 or -1: the sign for a change read back, whose
 * decoded sign watch_hit() uses otherwise.
 */
static int watch_own(const unsigned long *ent, unsigned int depth)
{
	int i;

	if (depth && within_module(ent[0], THIS_MODULE))
		return 1;
	if (depth < 2 || !within_module(ent[1], THIS_MODULE))
		return 0;
	for (i = 0; i < ARRAY_SIZE(watch_puts); i++)
		if (ent[0] >= watch_puts[i].start && ent[0] < watch_puts[i].end)
			return -1;
	return 1;
}

/* @fn's text from its symbol's size ("sock_gen_put+0x0/0x90"). */
static void watch_text_of(void *fn, struct watch_text *t)
{
	char buf[KSYM_SYMBOL_LEN], *slash;
	unsigned long size;

	t->start = (unsigned long)fn;
	sprint_symbol(buf, t->start);
	slash = strchr(buf, '/');
	if (slash && !kstrtoul(slash + 1, 0, &size))
		t->end = t->start + size;
	else
		pr_warn("cannot size %ps: its puts count as gets\n", fn);
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
 * the last value seen (*exact false). Returns false when nothing changed.
 */
static bool watch_change(struct sockleak_watch *w, struct pt_regs *regs,
			 int *old, int *new, bool *exact)
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
		*exact = true;
		return true;
	}
	*exact = false;
	atomic_inc(&w->undecoded);
	*new = refcount_read(&w->sk->sk_refcnt);
	*old = atomic_xchg(&w->last, *new);
	return true;
}

/* One change of sockleak's own; own's lowest kept (see watch.h). */
static void watch_own_add(struct sockleak_watch *w, int own)
{
	int now = atomic_add_return(own, &w->own);
	int lo = atomic_read(&w->own_lo);

	while (now < lo && !atomic_try_cmpxchg(&w->own_lo, &lo, now))
		;
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
	bool exact;
	u8 ctx;

	/* Freed: the word may belong to another object now. */
	if (READ_ONCE(w->state) != W_ARMED)
		return;
	if (!watch_change(w, regs, &old, &new, &exact))
		return;
	/* The writing function first: the unwinder starts at its caller. */
	ent[0] = instruction_pointer(regs);
	depth = 1 + sockleak_stack_regs(regs, ent + 1, WATCH_DEPTH - 1);
	own = watch_own(ent, depth);
	/*
	 * A decoded change says its sign itself: a put in a kernel function
	 * sockleak calls (a lookup that loses a race and puts what it took)
	 * is not a get.
	 */
	if (own && exact)
		own = new > old ? 1 : -1;
	if (own) {
		/*
		 * Exactly +1 or -1 of its own. What else a change read back
		 * moved the count by since the last change seen (another
		 * CPU's write whose trap read the value before this one) is
		 * folded in, unattributed.
		 */
		watch_own_add(w, own);
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
			queue_work(sockleak_system_wq(), &w->work);
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

/*
 * Wait for a probe's re-pointing IPIs and their settling (they use the
 * watchpoint, its csd and the count): they take microseconds.
 */
static void watch_wait_cpus(struct sockleak_watch *w)
{
	while (atomic_read(&w->cpus_left) > 0)
		cpu_relax();
}

/* Put the reference a probe's claim took, once it is settled. */
static void watch_put_held(struct sockleak_watch *w)
{
	if (!w->held)
		return;
	watch_wait_cpus(w);
	w->held = false;
	/* May be the last reference: the free probe ends the watch. */
	sockleak_hold_put(w->sk);
}

static void watch_unregister(struct sockleak_watch *w)
{
	watch_wait_cpus(w);
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
	/* Armed by a probe, never settled ("unwatch=" first). */
	watch_put_held(w);
	watch_unregister(w);
	mutex_unlock(&sockleak_watch_mutex);
	synchronize_rcu();
	cancel_work_sync(&w->work);
	free_percpu(w->csd);
	vfree(w);
	mutex_lock(&sockleak_watch_mutex);
}

/* Does a watch in @state need the free probes (armed, or may be soon)? */
static bool watch_needs_tp(int state)
{
	return state == W_ARMED || state == W_STANDBY || state == W_CLAIMED;
}

/* Attach the free tracepoints (sockleak_watch_mutex held). */
static int watch_attach_tp(void)
{
	int ret;

	lockdep_assert_held(&sockleak_watch_mutex);
	if (watch_tp_attached)
		return 0;
	ret = register_trace_kmem_cache_free(watch_slab_free, NULL);
	if (ret)
		return ret;
	ret = register_trace_kfree(watch_kfree, NULL);
	if (ret) {
		unregister_trace_kmem_cache_free(watch_slab_free, NULL);
		tracepoint_synchronize_unregister();
		return ret;
	}
	watch_tp_attached = true;
	return 0;
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
		    watch_needs_tp(READ_ONCE(sockleak_watch_slots[i]->state)))
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
	struct sockleak_cursor all;
	struct sock *found = NULL;
	int i, n;

	sockleak_cursor_init(&all);
	while (!found && (n = sockleak_cursor_batch(&all, refs, SOCKLEAK_BATCH))) {
		for (i = 0; i < n && !found; i++) {
			struct sock *sk = refs[i].sk;

			if (!sk_fullsock(sk) ||
			    atomic64_read(&sk->sk_cookie) != cookie)
				continue;
			sockleak_hold(sk);
			found = sk;
			*proto = refs[i].proto;
		}
		sockleak_walk_put(refs, n);
	}
	sockleak_cursor_release(&all);
	return found;
}

/* The watch named @cookie and its slot (sockleak_watch_mutex held). */
struct sockleak_watch *sockleak_watch_lookup(u64 cookie, int *slot)
{
	int i;

	lockdep_assert_held(&sockleak_watch_mutex);
	for (i = 0; i < WATCH_SLOTS; i++) {
		struct sockleak_watch *w = sockleak_watch_slots[i];

		/* A standby (cookie 0) names no socket yet. */
		if (w && w->cookie == cookie && !w->cookie_later &&
		    (w->state == W_ARMED || w->state == W_FREED)) {
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

static void watch_attr(struct perf_event_attr *attr, unsigned long addr)
{
	hw_breakpoint_init(attr);
	attr->bp_addr = addr;
	attr->bp_len = HW_BREAKPOINT_LEN_4;
	attr->bp_type = HW_BREAKPOINT_W;
}

/* A 4-byte write watchpoint on @word, every CPU, for @w: 0 or -errno. */
static int watch_register(struct sockleak_watch *w, void *word)
{
	struct perf_event_attr attr;
	int ret;

	watch_attr(&attr, (unsigned long)word);
	w->addr = (unsigned long)word;
	w->bp = register_wide_hw_breakpoint(&attr, watch_hit, w);
	ret = sockleak_wide_bp_err(w->bp);
	if (ret)
		w->bp = NULL;
	return ret;
}

/*
 * Another watch than @w, armed or being armed, on @cookie: the race of a
 * "watch=" with a probe's claim. Each side publishes its watch first
 * (full barrier), then looks: at least one of them sees the other.
 */
static bool watch_claimed_elsewhere(const struct sockleak_watch *w,
				    u64 cookie)
{
	struct sockleak_watch *o;
	int i, state;

	for (i = 0; i < WATCH_SLOTS; i++) {
		o = READ_ONCE(sockleak_watch_slots[i]);
		if (!o || o == w)
			continue;
		state = READ_ONCE(o->state);
		if ((state == W_ARMED || state == W_CLAIMED) &&
		    READ_ONCE(o->cookie) == cookie)
			return true;
	}
	return false;
}

/*
 * What the count moved by that no trap saw, once the watchpoint is on
 * every CPU: the writes made before it reached their CPU. Read while
 * every CPU is stopped (stop_machine(), interrupts off), where no trap
 * is half done: a write's trap is taken right after it on its own CPU,
 * but another CPU (under TCG, a whole time slice later) can read the
 * word in between, and a change read there would be counted twice: by
 * the trap and as unseen. sockleak's own references are counted
 * (holds.c): an unseen change of theirs (another reader's put) is not
 * the socket's. From here on base + gets - puts is the count without
 * them, exactly. @claimed: re-pointed by a probe (unseen).
 */
static int watch_unseen_fn(void *data)
{
	struct sockleak_watch *w = data;
	int count, own, unseen;

	sockleak_hold_count(w->sk, &count, &own);
	unseen = count - own - (w->base + atomic_read(&w->gets) -
				atomic_read(&w->puts));
	w->base += unseen;
	atomic_set(&w->own, own);
	atomic_set(&w->own_lo, 0);
	atomic_set(&w->last, count);
	return unseen;
}

static void watch_settle_unseen(struct sockleak_watch *w, bool claimed)
{
	int drift = stop_machine(watch_unseen_fn, w, NULL);

	if (claimed)
		w->unseen = drift;
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
	int slot, other, ret, count, own;
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
	ret = watch_attach_tp();
	if (ret)
		goto free;

	w->cookie = cookie;
	w->sk = sk;
	w->proto = proto;
	sockleak_sk_proto_name(sk, proto, w->proto_name, sizeof(w->proto_name));
	w->origin = origin;
	w->born_ns = born_ns;
	/* Every reference of sockleak's is its own (the caller's, too). */
	sockleak_hold_count(sk, &count, &own);
	w->base = count - own;
	atomic_set(&w->last, count);
	atomic_set(&w->own, own);
	w->state = W_ARMED;
	w->armed_ns = ktime_get_ns();
	WRITE_ONCE(sockleak_watch_slots[slot], w);
	/*
	 * A probe may have claimed a standby for this socket since the
	 * lookup (sockleak_watch_claim() publishes, then looks, as here).
	 */
	smp_mb();
	if (watch_claimed_elsewhere(w, cookie)) {
		WRITE_ONCE(sockleak_watch_slots[slot], NULL);
		watch_destroy(w);
		return -EEXIST;
	}

	ret = watch_register(w, &sk->sk_refcnt);
	if (ret) {
		WRITE_ONCE(sockleak_watch_slots[slot], NULL);
		watch_destroy(w);
		return ret;
	}
	/*
	 * A write on a CPU the watchpoint had not reached yet went unseen:
	 * the count starts from its value once the watchpoint is on every
	 * CPU.
	 */
	watch_settle_unseen(w, false);
	return 0;
free:
	vfree(w);
	return ret;
}

/*
 * Standby watchpoints. Registering a watchpoint sleeps, and a probe
 * cannot: a socket armed by a work item after its allocation misses the
 * references its creator takes first, the usual place of a leak. So
 * watch_next registers its watchpoints ahead, each on a word of its own
 * that nothing writes, and the probe that matches a socket re-points one:
 * the watchpoint's address changes (the perf event's attribute and its
 * arch_hw_breakpoint, header fields), and the breakpoint PMU's del and
 * add (what perf itself calls to schedule it) reinstall it on the local
 * CPU at once, on the others by an asynchronous IPI each. Nothing the
 * socket's code does on this CPU after the probe goes unseen; another
 * CPU's write before its IPI lands is ("unseen", counted).
 */
static u32 watch_standby_word[WATCH_SLOTS];

/* Point @bp (one CPU's event, may be NULL) at @addr; reinstalled later. */
static void watch_bp_point(struct perf_event *bp, unsigned long addr)
{
	if (!bp)
		return;
	WRITE_ONCE(bp->attr.bp_addr, addr);
	WRITE_ONCE(counter_arch_bp(bp)->address, addr);
}

/* Reinstall @bp at its (new) address: on its CPU, interrupts disabled. */
static void watch_bp_reinstall(struct perf_event *bp)
{
	if (!bp || READ_ONCE(bp->state) != PERF_EVENT_STATE_ACTIVE)
		return;
	bp->pmu->del(bp, 0);
	bp->pmu->add(bp, PERF_EF_START);
}

/*
 * Every CPU's watchpoint is re-pointed (on the claiming CPU). What the
 * count moved by before went unseen (a write on another CPU before its
 * IPI landed): the work reads it (sockleak_watch_settle_claims()), the
 * socket held meanwhile (w->held). At allocation the count is not set
 * yet: sock_init_data()'s refcount_set() is read back and sets it.
 */
static void watch_settle(struct sockleak_watch *w)
{
	w->all_ns = ktime_get_ns();
	/* The last of cpus_left: the watch may be destroyed from here on. */
	atomic_dec(&w->cpus_left);
}

static void watch_settle_ipi(void *info)
{
	watch_settle(info);
}

/*
 * One CPU re-pointed (or the claim done sending): cpus_left counts them
 * and one more for the settling; the last CPU sends it to the claiming
 * one.
 */
static void watch_cpu_done(struct sockleak_watch *w)
{
	if (atomic_dec_return(&w->cpus_left) != 1)
		return;
	if (smp_processor_id() == w->claim_cpu ||
	    smp_call_function_single_async(w->claim_cpu, &w->settle_csd))
		watch_settle(w);
}

static void watch_reinstall_ipi(void *info)
{
	watch_bp_reinstall(info);
}

static void watch_ipi(void *info)
{
	struct sockleak_watch *w = info;

	watch_bp_reinstall(*this_cpu_ptr(w->bp));
	watch_cpu_done(w);
}

/* A new standby (sockleak_watch_mutex held, may drop it): 0 or -errno. */
int sockleak_watch_standby_add(void)
{
	struct sockleak_watch *w;
	int slot, cpu, ret;

	lockdep_assert_held(&sockleak_watch_mutex);
	w = vzalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	INIT_WORK(&w->work, watch_free_work);
	w->csd = alloc_percpu(call_single_data_t);
	ret = -ENOMEM;
	if (!w->csd)
		goto free;
	for_each_possible_cpu(cpu)
		INIT_CSD(per_cpu_ptr(w->csd, cpu), watch_ipi, w);
	ret = -ENOSPC;
	slot = watch_slot();
	if (slot < 0)
		goto free;
	ret = watch_attach_tp();
	if (ret)
		goto free;
	ret = watch_register(w, &watch_standby_word[slot]);
	if (ret)
		goto free;
	w->state = W_STANDBY;
	/* The probes see a complete standby. */
	smp_store_release(&sockleak_watch_slots[slot], w);
	return 0;
free:
	free_percpu(w->csd);
	vfree(w);
	sockleak_watch_detach_tp();
	return ret;
}

/* The standbys now (sockleak_watch_mutex held). */
int sockleak_watch_standbys(void)
{
	int i, n = 0;

	lockdep_assert_held(&sockleak_watch_mutex);
	for (i = 0; i < WATCH_SLOTS; i++)
		if (sockleak_watch_slots[i] &&
		    READ_ONCE(sockleak_watch_slots[i]->state) == W_STANDBY)
			n++;
	return n;
}

/* Destroy standbys until @keep are left (sockleak_watch_mutex held). */
void sockleak_watch_standby_trim(int keep)
{
	struct sockleak_watch *w;
	int i;

	lockdep_assert_held(&sockleak_watch_mutex);
	for (i = 0; i < WATCH_SLOTS && sockleak_watch_standbys() > keep; i++) {
		w = sockleak_watch_slots[i];
		/* A probe claims with the same cmpxchg(): one of them wins. */
		if (!w || cmpxchg(&w->state, W_STANDBY, W_DROPPED) != W_STANDBY)
			continue;
		WRITE_ONCE(sockleak_watch_slots[i], NULL);
		watch_destroy(w);
		i = -1;		/* the mutex was dropped: look again */
	}
	sockleak_watch_detach_tp();
}

/*
 * From a probe (preemption disabled, the caller serialises claims): arm a
 * standby on @sk, whose count is not set yet when @origin is
 * W_ORIGIN_ALLOC. False when no standby is left, or @sk is watched.
 */
bool sockleak_watch_claim(struct sock *sk, u16 proto, u64 born_ns, u8 origin)
{
	unsigned long addr = (unsigned long)&sk->sk_refcnt, flags;
	struct sockleak_watch *w = NULL;
	int i, cpu, count, own, self;
	u64 cookie;

	for (i = 0; i < WATCH_SLOTS && !w; i++) {
		w = READ_ONCE(sockleak_watch_slots[i]);
		if (w && cmpxchg(&w->state, W_STANDBY, W_CLAIMED) != W_STANDBY)
			w = NULL;
	}
	if (!w)
		return false;
	/*
	 * A child fresh from sk_clone_lock() still has its listener's
	 * cookie (inet_csk_clone_lock() sets its own next): held by one
	 * reference of sockleak's until the work reads it
	 * (sockleak_watch_settle_claims()). Nothing can name it before.
	 */
	w->cookie_later = origin == W_ORIGIN_CLONE;
	w->held = origin != W_ORIGIN_ALLOC;
	if (!w->cookie_later) {
		cookie = sockleak_sk_cookie(sk);
		WRITE_ONCE(w->cookie, cookie);
		/* As sockleak_watch_arm_sk(): publish, then look. */
		smp_mb();
		if (watch_claimed_elsewhere(w, cookie)) {
			WRITE_ONCE(w->cookie, 0);
			/* A standby again, its cookie cleared first. */
			smp_store_release(&w->state, W_STANDBY);
			return false;
		}
	}
	w->sk = sk;
	w->proto = proto;
	sockleak_sk_proto_name(sk, proto, w->proto_name, sizeof(w->proto_name));
	w->origin = origin;
	w->born_ns = born_ns;
	/*
	 * A first split, for the traps until the work settles it exactly
	 * (watch_settle_unseen(), with every sockleak reference counted):
	 * no second lock in the probe.
	 */
	count = 0;
	own = 0;
	if (w->held) {
		sockleak_hold(sk);
		count = refcount_read(&sk->sk_refcnt);
		own = 1;
	}
	atomic_set(&w->own, own);
	w->base = count - own;
	atomic_set(&w->last, count);
	w->armed_ns = ktime_get_ns();
	/* This CPU, then one IPI per other online CPU, then the settling. */
	atomic_set(&w->cpus_left, 2);
	INIT_CSD(&w->settle_csd, watch_settle_ipi, w);
	WRITE_ONCE(w->addr, addr);
	for_each_possible_cpu(cpu)
		watch_bp_point(*per_cpu_ptr(w->bp, cpu), addr);
	/* The handler reads the fields above once the state says armed. */
	smp_store_release(&w->state, W_ARMED);
	local_irq_save(flags);
	self = smp_processor_id();
	w->claim_cpu = self;
	watch_bp_reinstall(*this_cpu_ptr(w->bp));
	for_each_online_cpu(cpu) {
		if (cpu == self)
			continue;
		atomic_inc(&w->cpus_left);
		if (smp_call_function_single_async(cpu, per_cpu_ptr(w->csd, cpu)))
			atomic_dec(&w->cpus_left);
	}
	watch_cpu_done(w);
	local_irq_restore(flags);
	return true;
}

/*
 * Sockets armed by a probe, once every CPU has its watchpoint: a child's
 * cookie is read once its creation is over (its lock released), and the
 * reference that kept each alive is put (sockleak_watch_mutex held,
 * process context). Returns how many children got their cookie (refs.c
 * shows them from now on).
 */
int sockleak_watch_settle_claims(void)
{
	struct sockleak_watch *w;
	int i, named = 0;

	lockdep_assert_held(&sockleak_watch_mutex);
	for (i = 0; i < WATCH_SLOTS; i++) {
		w = sockleak_watch_slots[i];
		/* Held: armed until the put below (then, maybe freed). */
		if (!w || !w->held || smp_load_acquire(&w->state) != W_ARMED)
			continue;
		/* Every CPU has it: what none saw is read before the put. */
		watch_wait_cpus(w);
		watch_settle_unseen(w, true);
		if (w->cookie_later) {
			sockleak_sk_settle(w->sk);
			WRITE_ONCE(w->cookie, sockleak_sk_cookie(w->sk));
			/* refs.c shows it from now on. */
			smp_store_release(&w->cookie_later, false);
			named++;
		}
		watch_put_held(w);
	}
	return named;
}

int sockleak_watch_arm(u64 cookie)
{
	struct sock *sk;
	u16 proto = 0;
	int ret, slot;

	/*
	 * The walk goes over every socket: not under sockleak_watch_mutex,
	 * which the free work, watch_next's work and refs readers wait for.
	 * sockleak_watch_arm_sk() looks for the cookie again under it.
	 */
	mutex_lock(&sockleak_watch_mutex);
	ret = sockleak_watch_lookup(cookie, &slot) ? -EEXIST : 0;
	mutex_unlock(&sockleak_watch_mutex);
	if (ret)
		return ret;
	sk = watch_find(cookie, &proto);
	if (!sk)
		return -ENOENT;
	mutex_lock(&sockleak_watch_mutex);
	ret = sockleak_watch_arm_sk(sk, cookie, proto, 0, W_ORIGIN_COOKIE);
	if (ret)
		sockleak_watch_detach_tp();
	mutex_unlock(&sockleak_watch_mutex);
	/* May be the last reference: the free probe ends the watch. */
	sockleak_hold_put(sk);
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

/*
 * CPU hotplug. A wide watchpoint is one perf event per CPU online at its
 * registration; an offlined CPU's event is taken off its context for good
 * (perf_event_exit_cpu_context()), and a CPU that comes online has none.
 * The online callback runs under the hotplug lock, which registering
 * takes under sockleak_watch_mutex: it only queues watch_hotplug_work,
 * which gives every watch a new event on each online CPU that has none
 * working. What the new CPU wrote in between went unseen (cpus_late).
 */
static void watch_hotplug_fn(struct work_struct *work);
static DECLARE_WORK(watch_hotplug_work, watch_hotplug_fn);
static enum cpuhp_state watch_cpuhp;

/*
 * @w's event on @cpu, working or made anew (mutex and hotplug lock held;
 * lockdep_assert_cpus_held() is not exported on 6.1: the caller's
 * cpus_read_lock() is two lines above its loop).
 */
static void watch_cpu_event(struct sockleak_watch *w, int cpu)
{
	struct perf_event **slot = per_cpu_ptr(w->bp, cpu), *bp = *slot;
	struct perf_event_attr attr;
	unsigned long addr;

	lockdep_assert_held(&sockleak_watch_mutex);
	if (bp && READ_ONCE(bp->state) >= PERF_EVENT_STATE_INACTIVE)
		return;
	if (bp) {
		/*
		 * Its breakpoint slot on @cpu is released with it, once no
		 * probe re-pointing it (preemption off) can still hold it.
		 */
		WRITE_ONCE(*slot, NULL);
		synchronize_rcu();
		perf_event_release_kernel(bp);
	}
	addr = READ_ONCE(w->addr);
	watch_attr(&attr, addr);
	bp = perf_event_create_kernel_counter(&attr, cpu, NULL, watch_hit, w);
	if (IS_ERR(bp))
		return;
	WRITE_ONCE(*slot, bp);
	atomic_inc(&w->cpus_late);
	/* A probe re-pointed the others meanwhile: follow it. */
	smp_mb();
	if (READ_ONCE(w->addr) != addr) {
		watch_bp_point(bp, READ_ONCE(w->addr));
		smp_call_function_single(cpu, watch_reinstall_ipi, bp, 1);
	}
}

static void watch_hotplug_fn(struct work_struct *work)
{
	struct sockleak_watch *w;
	int i, cpu;

	mutex_lock(&sockleak_watch_mutex);
	cpus_read_lock();
	for (i = 0; i < WATCH_SLOTS; i++) {
		w = sockleak_watch_slots[i];
		if (!w || !w->bp || !watch_needs_tp(READ_ONCE(w->state)))
			continue;
		for_each_online_cpu(cpu)
			watch_cpu_event(w, cpu);
	}
	cpus_read_unlock();
	mutex_unlock(&sockleak_watch_mutex);
}

static int watch_cpu_online(unsigned int cpu)
{
	queue_work(sockleak_system_wq(), &watch_hotplug_work);
	return 0;
}

void sockleak_watch_init(void)
{
	int ret;

	watch_text_of(sock_gen_put, &watch_puts[0]);
	watch_text_of(refcount_dec_not_one, &watch_puts[1]);
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "sockleak/watch:online",
					watch_cpu_online, NULL);
	if (ret < 0)
		pr_warn("no CPU hotplug callback (%d): a CPU onlined later is not watched\n",
			ret);
	else
		watch_cpuhp = ret;
}

void sockleak_watch_exit(void)
{
	struct sockleak_watch *w;
	int i;

	if (watch_cpuhp > 0)
		cpuhp_remove_state_nocalls(watch_cpuhp);
	cancel_work_sync(&watch_hotplug_work);

	mutex_lock(&sockleak_watch_mutex);
	(void)sockleak_watch_settle_claims();
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
