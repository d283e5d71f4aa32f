// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - refcount watchpoints: which code took the reference that was
 * never put. sock_hold() and sock_put() are inlines (refcount_inc() and
 * refcount_dec_and_test() on sk->sk_refcnt): no probe sees them, a data
 * watchpoint does. "watch=<cookie>" in control arms a 4-byte write
 * watchpoint (register_wide_hw_breakpoint(), every CPU) on that socket's
 * sk_refcnt; "unwatch=<cookie>" disarms it and forgets its history. Every
 * write of the count traps (#DB) right after the writing instruction, and
 * the handler records it. The "refs" debugfs file shows, per watch:
 *
 *   cookie=<hex> state=armed|freed proto= refcnt=N base=N gets=N puts=N
 *   changes=N kept=N sites=N sites_lost=N folded=N armed_ms=N
 *   freed_ms=N|-
 *    change=<n> t_us=<since arming> cpu= ctx=task|softirq|hardirq|nmi
 *    pid= comm= old= new= site=<n>|-
 *    site=<n> op=get|put|none count=N unmatched=N stack=<f>,<f>,...
 *    held_before_watch=N
 *    held=N site=<n> ctx= pid= comm= taken=<frame> stack=<f>,...
 *   explain=<sentence>
 *
 * refcnt is the count now (the last value written; when freed, 0), base
 * the count when the watch was armed. gets and puts are the references
 * taken and dropped since; base + gets - puts = refcnt unless a change
 * was lost. A change is one trap: old and new are the count before and
 * after (two writes racing on two CPUs may be folded into one change of
 * 0 or 2). The latest WATCH_RING changes are kept ("kept"), every change
 * is counted. A site is one distinct stack (innermost first, as %pS,
 * deduplicated), counted for every change even when the change itself
 * is no longer kept; "sites_lost" counts changes whose stack found no
 * free site.
 *
 * The pairing (which references are still held) is a heuristic, done at
 * read time over the sites: a put is matched first with a get whose
 * innermost function is the same (sock_hold()/sock_put() in one
 * function), then with gets in the socket core, then with the references
 * that existed before the watch, and last with gets from outside the
 * core (a module, a frame that is not sock/tcp/inet/udp/ip/mptcp/skb
 * code). What is left is the "held" lines: the holder is the first frame
 * outside the core ("taken").
 *
 * sockleak's own references (the socket walk holds each socket while it
 * reads it) are recognised by the code that writes (watch_own()); they
 * are neither recorded nor reported, and refcnt leaves them out, exactly
 * (each is +1 or -1). When another CPU moved the count between two traps
 * so that the trap of sockleak's own change read that move too, the move
 * is counted in gets or puts without a site ("folded").
 *
 * Disarming at free: the kmem_cache_free tracepoint (attached while a
 * watch exists) sees the socket's object go back to its slab before the
 * memory is released. The watch is marked freed there; from then on the
 * handler returns before reading anything, so a reuse of the memory is
 * never recorded nor read. Unregistering sleeps, so the watchpoint is
 * removed by a work item right after: until it runs, a write to the
 * reused word still traps, and is discarded.
 *
 * Locking rules: watch_mutex serialises arming, disarming, the free work
 * and "refs" readers; control.c calls in with its own mutex held. The
 * handler runs in #DB (NMI-like) context and takes no lock: it uses
 * atomics, a site table claimed by cmpxchg() and a ring whose records
 * carry a sequence number written last. The free probe runs with
 * preemption disabled and only reads watch_slots[]; a watch is freed
 * after synchronize_rcu(), once the probe cannot see it, and after its
 * watchpoint is unregistered (no handler runs after that).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/hw_breakpoint.h>
#include <linux/jhash.h>
#include <linux/mm.h>
#include <linux/kallsyms.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/perf_event.h>
#include <linux/preempt.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "compat.h"
#include "sockleak.h"
#include "registry.h"
#include "walk.h"

#include <trace/events/kmem.h>

#define WATCH_SLOTS	8	/* watches kept, armed or ended */
#define WATCH_RING	1024	/* latest changes kept per watch */
#define WATCH_SITES	64	/* distinct stacks per watch */
#define WATCH_DEPTH	16	/* frames per stack */

enum { W_CTX_TASK, W_CTX_SOFTIRQ, W_CTX_HARDIRQ, W_CTX_NMI };
enum { W_ARMED = 1, W_FREED };

/* How a watch was armed: "watch=<cookie>", or "watch_next" at which point. */
enum watch_origin {
	W_ORIGIN_COOKIE, W_ORIGIN_ALLOC, W_ORIGIN_CLONE, W_ORIGIN_CONNECT,
	W_ORIGIN_LISTEN,
};

static const char * const watch_origin_names[] = {
	[W_ORIGIN_COOKIE] = "cookie", [W_ORIGIN_ALLOC] = "alloc",
	[W_ORIGIN_CLONE] = "clone", [W_ORIGIN_CONNECT] = "connect",
	[W_ORIGIN_LISTEN] = "listen",
};

static const char * const watch_ctx_names[] = {
	[W_CTX_TASK] = "task", [W_CTX_SOFTIRQ] = "softirq",
	[W_CTX_HARDIRQ] = "hardirq", [W_CTX_NMI] = "nmi",
};

struct watch_site {
	u32 hash;		/* 0: free; claimed with cmpxchg() */
	int ready;		/* the fields below are written (release) */
	atomic_t count;		/* references taken or dropped here */
	s8 op;			/* 1 get, -1 put, 0 none */
	u8 ctx;			/* of the first change */
	pid_t pid;
	char comm[TASK_COMM_LEN];
	unsigned int depth;
	unsigned long ent[WATCH_DEPTH];
};

struct watch_rec {
	unsigned int seq;	/* change number, written last; 0: none */
	int old, new;
	u64 t_ns;
	pid_t pid;
	u16 cpu;
	u8 ctx;
	u8 site;		/* index + 1; 0: no site */
	char comm[TASK_COMM_LEN];
};

struct sockleak_watch {
	u64 cookie;
	struct sock *sk;	/* identity; read by the handler while armed */
	struct perf_event * __percpu *bp;	/* NULL once unregistered */
	int state;		/* W_ARMED, W_FREED */
	u16 proto;
	u8 origin;		/* enum watch_origin */
	u64 born_ns;		/* allocation (watch_next), 0: unknown */
	int base;		/* count at arming, sockleak's reference left out */
	atomic_t last;		/* last value seen by the handler */
	atomic_t own;		/* net references sockleak holds */
	atomic_t seq;		/* changes recorded */
	atomic_t gets, puts;
	atomic_t sites_lost;
	atomic_t folded;	/* moves folded into sockleak's own changes */
	u64 armed_ns, freed_ns;
	struct work_struct work;	/* unregisters after the free */
	struct watch_site sites[WATCH_SITES];
	struct watch_rec ring[WATCH_RING];
};

static DEFINE_MUTEX(watch_mutex);
static struct sockleak_watch *watch_slots[WATCH_SLOTS];
static bool watch_tp_attached;	/* under watch_mutex */

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
	new = refcount_read(&w->sk->sk_refcnt);
	old = atomic_xchg(&w->last, new);
	/* The writing function first: the unwinder starts at its caller. */
	ent[0] = instruction_pointer(regs);
	depth = 1 + sockleak_stack_regs(regs, ent + 1, WATCH_DEPTH - 1);
	own = watch_own(ent, depth);
	if (own) {
		/*
		 * Exactly +1 or -1 of its own. What else the count moved by
		 * since the last change seen (another CPU's write whose trap
		 * read the value before this one) is folded in, unattributed.
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

/* Tracepoint kmem_cache_free: the watched object goes back to its slab. */
static void watch_slab_free(void *data, unsigned long call_site,
			    const void *ptr, const struct kmem_cache *s)
{
	struct sockleak_watch *w;
	int i;

	for (i = 0; i < WATCH_SLOTS; i++) {
		w = READ_ONCE(watch_slots[i]);
		if (w && w->sk == ptr && READ_ONCE(w->state) == W_ARMED) {
			w->freed_ns = ktime_get_ns();
			/* freed_ns is written before the state says so. */
			smp_store_release(&w->state, W_FREED);
			queue_work(system_wq, &w->work);
		}
	}
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

	mutex_lock(&watch_mutex);
	watch_unregister(w);
	mutex_unlock(&watch_mutex);
}

/* Called with watch_mutex held, @w already out of watch_slots[]. */
static void watch_destroy(struct sockleak_watch *w)
{
	watch_unregister(w);
	mutex_unlock(&watch_mutex);
	synchronize_rcu();
	cancel_work_sync(&w->work);
	vfree(w);
	mutex_lock(&watch_mutex);
}

static void watch_detach_tp(void)
{
	int i;

	for (i = 0; i < WATCH_SLOTS; i++)
		if (watch_slots[i])
			return;
	if (!watch_tp_attached)
		return;
	unregister_trace_kmem_cache_free(watch_slab_free, NULL);
	tracepoint_synchronize_unregister();
	watch_tp_attached = false;
}

/* The full socket named @cookie, referenced by the caller, or NULL. */
static struct sock *watch_find(u64 cookie, u16 *proto)
{
	struct sockleak_ref refs[SOCKLEAK_BATCH];
	struct sockleak_extra extra;
	struct sockleak_walk walk;
	struct sock *found = NULL;
	int i, n;

	sockleak_walk_init(&walk);
	sockleak_extra_init(&extra);
	while (!found &&
	       ((n = sockleak_walk_batch(&walk, refs, SOCKLEAK_BATCH)) ||
		(n = sockleak_extra_batch(&extra, refs, SOCKLEAK_BATCH)))) {
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
	sockleak_extra_release(&extra);
	return found;
}

static struct sockleak_watch *watch_lookup(u64 cookie, int *slot)
{
	int i;

	for (i = 0; i < WATCH_SLOTS; i++) {
		if (watch_slots[i] && watch_slots[i]->cookie == cookie) {
			*slot = i;
			return watch_slots[i];
		}
	}
	return NULL;
}

/*
 * A free slot, making one by destroying the watch that ended first when
 * all are taken; -1 when every watch is armed. watch_destroy() drops
 * watch_mutex for a while: look again after it.
 */
static int watch_slot(void)
{
	struct sockleak_watch *w;
	int i, old;

	for (;;) {
		old = -1;
		for (i = 0; i < WATCH_SLOTS; i++) {
			w = watch_slots[i];
			if (!w)
				return i;
			if (w->state == W_FREED &&
			    (old < 0 ||
			     w->freed_ns < watch_slots[old]->freed_ns))
				old = i;
		}
		if (old < 0)
			return -1;
		w = watch_slots[old];
		WRITE_ONCE(watch_slots[old], NULL);
		watch_destroy(w);
	}
}

/*
 * Arm a watch on @sk (referenced by the caller, who puts that reference
 * after this returns: the put is sockleak's own), named @cookie. @born_ns
 * is when it was allocated (0: unknown), @origin how it was chosen.
 * Called with watch_mutex held.
 */
static int watch_arm_sk(struct sock *sk, u64 cookie, u16 proto, u64 born_ns,
			u8 origin)
{
	struct perf_event_attr attr;
	struct sockleak_watch *w;
	int slot, ret, count;

	if (watch_lookup(cookie, &slot))
		return -EEXIST;
	w = vzalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	INIT_WORK(&w->work, watch_free_work);
	if (!watch_tp_attached) {
		ret = register_trace_kmem_cache_free(watch_slab_free, NULL);
		if (ret)
			goto free;
		watch_tp_attached = true;
	}
	ret = -ENOSPC;
	slot = watch_slot();
	if (slot < 0)
		goto free;

	w->cookie = cookie;
	w->sk = sk;
	w->proto = proto;
	w->origin = origin;
	w->born_ns = born_ns;
	count = refcount_read(&sk->sk_refcnt);
	w->base = count - 1;
	atomic_set(&w->last, count);
	atomic_set(&w->own, 1);
	w->state = W_ARMED;
	w->armed_ns = ktime_get_ns();
	WRITE_ONCE(watch_slots[slot], w);

	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&sk->sk_refcnt;
	attr.bp_len = HW_BREAKPOINT_LEN_4;
	attr.bp_type = HW_BREAKPOINT_W;
	w->bp = register_wide_hw_breakpoint(&attr, watch_hit, w);
	ret = sockleak_wide_bp_err(w->bp);
	if (ret) {
		w->bp = NULL;
		WRITE_ONCE(watch_slots[slot], NULL);
		watch_destroy(w);
	}
	return ret;
free:
	vfree(w);
	return ret;
}

int sockleak_watch_arm(u64 cookie)
{
	struct sock *sk;
	u16 proto = 0;
	int ret;

	mutex_lock(&watch_mutex);
	ret = -EEXIST;
	if (watch_lookup(cookie, &ret)) {
		ret = -EEXIST;
		goto out;
	}
	ret = -ENOENT;
	sk = watch_find(cookie, &proto);
	if (sk) {
		ret = watch_arm_sk(sk, cookie, proto, 0, W_ORIGIN_COOKIE);
		/* May be the last reference: the free probe ends the watch. */
		sock_gen_put(sk);
	}
out:
	if (ret)
		watch_detach_tp();
	mutex_unlock(&watch_mutex);
	return ret;
}

int sockleak_watch_disarm(u64 cookie)
{
	struct sockleak_watch *w;
	int slot, ret = -ENOENT;

	mutex_lock(&watch_mutex);
	w = watch_lookup(cookie, &slot);
	if (w) {
		WRITE_ONCE(watch_slots[slot], NULL);
		watch_destroy(w);
		watch_detach_tp();
		ret = 0;
	}
	mutex_unlock(&watch_mutex);
	return ret;
}

/* ---- watch_next: the next sockets created ---------------------------- */

/*
 * "watch_next=<filter>" arms the next sockets created that match, up to
 * count (default 1). The filter is a comma-separated list of key:value:
 * proto:tcp|udp|udplite|mptcp, port:N (local or remote), comm:NAME (the
 * creating task; accepted children have none), netns:INUM, count:N.
 * "watch_next=off" cancels. It needs the lifecycle probes (track=on):
 * they call sockleak_watch_new() at allocation and clone, and
 * sockleak_watch_state() when a TCP socket connects or listens (where a
 * port filter is matched: an allocated socket has no port yet).
 * Registering a watchpoint sleeps, so a match is queued and armed by a
 * work item; what happened in between is missed, and the report says how
 * long after allocation the watch was armed (armed_after_us). A socket
 * matched at clone, connect or listen is held by one reference until the
 * work runs; one matched at allocation is not (its count is not set yet):
 * the work takes it from the registry, if it still exists.
 */
struct watch_filter {
	u16 proto;			/* 0: any */
	u16 port;			/* 0: any */
	u32 netns;			/* 0: any */
	char comm[TASK_COMM_LEN];	/* "": any */
	int count;
};

#define WATCH_PENDING	8
#define WATCH_RETRIES	50	/* work runs (1 jiffy apart) for one socket */

struct watch_pending {
	struct sock *sk;
	u64 born_ns;		/* sockleak_reg_alloc()'s time, or the match's */
	u16 proto;
	u8 origin;
	bool held;		/* a reference taken at the match */
	int tries;
};

static struct watch_filter watch_next;	/* stable while watch_next_left > 0 */
static char watch_next_text[64];	/* under watch_mutex */
static atomic_t watch_next_left, watch_next_armed, watch_next_lost;
static DEFINE_RAW_SPINLOCK(watch_pending_lock);
static struct watch_pending watch_pending[WATCH_PENDING];
static int watch_npending;
static void watch_next_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(watch_next_work, watch_next_fn);

static int watch_filter_parse(const char *arg, struct watch_filter *f)
{
	char buf[64], *cur, *item, *val;
	unsigned int v;

	memset(f, 0, sizeof(*f));
	f->count = 1;
	if (!arg || strscpy(buf, arg, sizeof(buf)) < 0 || !*buf)
		return -EINVAL;
	cur = buf;
	while ((item = strsep(&cur, ",")) != NULL) {
		val = strchr(item, ':');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(item, "proto")) {
			if (!strcmp(val, "tcp"))
				f->proto = IPPROTO_TCP;
			else if (!strcmp(val, "udp"))
				f->proto = IPPROTO_UDP;
			else if (!strcmp(val, "udplite"))
				f->proto = IPPROTO_UDPLITE;
			else if (!strcmp(val, "mptcp"))
				f->proto = IPPROTO_MPTCP;
			else
				return -EINVAL;
		} else if (!strcmp(item, "comm")) {
			if (!*val || strscpy(f->comm, val, sizeof(f->comm)) < 0)
				return -EINVAL;
		} else if (kstrtouint(val, 10, &v)) {
			return -EINVAL;
		} else if (!strcmp(item, "port")) {
			if (!v || v > 65535)
				return -EINVAL;
			f->port = v;
		} else if (!strcmp(item, "netns")) {
			if (!v)
				return -EINVAL;
			f->netns = v;
		} else if (!strcmp(item, "count")) {
			if (!v || v > WATCH_PENDING)
				return -EINVAL;
			f->count = v;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

int sockleak_watch_next_check(const char *arg)
{
	struct watch_filter f;

	if (arg && !strcmp(arg, "off"))
		return 0;
	return watch_filter_parse(arg, &f);
}

/* Drop what is queued: the references taken at a match are put. */
static void watch_pending_flush(void)
{
	struct watch_pending p[WATCH_PENDING];
	unsigned long flags;
	int i, n;

	raw_spin_lock_irqsave(&watch_pending_lock, flags);
	n = watch_npending;
	memcpy(p, watch_pending, sizeof(p));
	watch_npending = 0;
	raw_spin_unlock_irqrestore(&watch_pending_lock, flags);
	for (i = 0; i < n; i++)
		if (p[i].held)
			sock_gen_put(p[i].sk);
}

int sockleak_watch_next(const char *arg)
{
	struct watch_filter f;
	int ret;

	ret = watch_filter_parse(arg, &f);
	if (ret && strcmp(arg, "off"))
		return ret;
	mutex_lock(&watch_mutex);
	atomic_set(&watch_next_left, 0);
	mutex_unlock(&watch_mutex);
	cancel_delayed_work_sync(&watch_next_work);
	watch_pending_flush();
	if (!strcmp(arg, "off")) {
		mutex_lock(&watch_mutex);
		watch_next_text[0] = '\0';
		mutex_unlock(&watch_mutex);
		return 0;
	}
	/* The probes that feed it run only while tracking is on. */
	if (!sockleak_reg_on())
		return -ENODEV;
	mutex_lock(&watch_mutex);
	watch_next = f;
	strscpy(watch_next_text, arg, sizeof(watch_next_text));
	atomic_set(&watch_next_armed, 0);
	atomic_set(&watch_next_lost, 0);
	/* The filter is written before a probe can see a count left. */
	smp_wmb();
	atomic_set(&watch_next_left, f.count);
	mutex_unlock(&watch_mutex);
	return 0;
}

/* Queue @sk (probe context); @hold: take a reference until it is armed. */
static void watch_next_queue(struct sock *sk, u16 proto, u64 born_ns,
			     u8 origin, bool hold)
{
	struct watch_pending *p;
	unsigned long flags;
	bool queued = false;

	raw_spin_lock_irqsave(&watch_pending_lock, flags);
	if (atomic_read(&watch_next_left) > 0 &&
	    watch_npending < WATCH_PENDING) {
		atomic_dec(&watch_next_left);
		p = &watch_pending[watch_npending++];
		p->sk = sk;
		p->born_ns = born_ns;
		p->proto = proto;
		p->origin = origin;
		p->held = hold;
		p->tries = 0;
		if (hold)
			sock_hold(sk);
		queued = true;
	}
	raw_spin_unlock_irqrestore(&watch_pending_lock, flags);
	if (queued)
		mod_delayed_work(system_wq, &watch_next_work, 0);
}

static bool watch_next_match(const struct sock *sk, u16 proto, bool task,
			     bool ports)
{
	const struct watch_filter *f = &watch_next;

	/* Pairs with the smp_wmb() of sockleak_watch_next(). */
	smp_rmb();
	if (f->proto && f->proto != proto)
		return false;
	if (f->netns && sock_net(sk)->ns.inum != f->netns)
		return false;
	if (f->comm[0] && (!task || strncmp(current->comm, f->comm,
					     TASK_COMM_LEN)))
		return false;
	if (f->port) {
		if (!ports)
			return false;
		if (inet_sk(sk)->inet_num != f->port &&
		    ntohs(inet_sk(sk)->inet_dport) != f->port)
			return false;
	}
	return true;
}

/*
 * From the lifecycle probes: a new socket, allocated (@clone false, its
 * count not set yet) or an accepted child (its count set, ports known).
 */
void sockleak_watch_new(struct sock *sk, u16 proto, u64 born_ns, bool clone)
{
	if (likely(atomic_read(&watch_next_left) <= 0))
		return;
	if (!watch_next_match(sk, proto, !clone && in_task(), clone))
		return;
	watch_next_queue(sk, proto, born_ns, clone ? W_ORIGIN_CLONE :
			 W_ORIGIN_ALLOC, clone);
}

/* From the state tracepoint: a port filter is matched at connect, listen. */
void sockleak_watch_state(struct sock *sk, int newstate)
{
	u16 proto;

	if (likely(atomic_read(&watch_next_left) <= 0) || !watch_next.port ||
	    (newstate != TCP_SYN_SENT && newstate != TCP_LISTEN))
		return;
	proto = sk->sk_protocol == IPPROTO_MPTCP ? IPPROTO_MPTCP :
		IPPROTO_TCP;
	if (!watch_next_match(sk, proto, in_task(), true))
		return;
	watch_next_queue(sk, proto, ktime_get_ns(),
			 newstate == TCP_LISTEN ? W_ORIGIN_LISTEN :
			 W_ORIGIN_CONNECT, true);
}

static void watch_next_fn(struct work_struct *work)
{
	struct watch_pending p[WATCH_PENDING];
	struct sockleak_ref ref;
	unsigned long flags;
	bool again = false;
	u32 cookie[2];
	int i, n, ret;

	raw_spin_lock_irqsave(&watch_pending_lock, flags);
	n = watch_npending;
	memcpy(p, watch_pending, sizeof(p));
	watch_npending = 0;
	raw_spin_unlock_irqrestore(&watch_pending_lock, flags);

	for (i = 0; i < n; i++) {
		struct sock *sk = p[i].sk;

		if (!p[i].held && !sockleak_reg_grab_sk(sk, p[i].born_ns,
							&ref)) {
			/* Not initialised yet, or already gone. */
			if (++p[i].tries < WATCH_RETRIES &&
			    sockleak_reg_on()) {
				raw_spin_lock_irqsave(&watch_pending_lock,
						      flags);
				watch_pending[watch_npending++] = p[i];
				raw_spin_unlock_irqrestore(&watch_pending_lock,
							   flags);
				again = true;
			} else {
				atomic_inc(&watch_next_lost);
			}
			continue;
		}
		sockleak_sk_settle(sk);
		sock_diag_save_cookie(sk, cookie);
		mutex_lock(&watch_mutex);
		ret = watch_arm_sk(sk, (u64)cookie[1] << 32 | cookie[0],
				   p[i].proto, p[i].born_ns, p[i].origin);
		if (ret)
			watch_detach_tp();
		mutex_unlock(&watch_mutex);
		atomic_inc(ret ? &watch_next_lost : &watch_next_armed);
		if (p[i].held)
			sock_gen_put(sk);
		else
			sockleak_walk_put(&ref, 1);
	}
	if (again)
		mod_delayed_work(system_wq, &watch_next_work, 1);
}

/* ---- the "refs" report ------------------------------------------------ */

/* Pairing state of one read: what each site has left. */
struct watch_pairing {
	int left[WATCH_SITES];		/* gets unmatched, puts unused */
	int before;			/* references from before the watch */
	char fn[WATCH_SITES][KSYM_NAME_LEN];	/* innermost function */
};

static const char * const watch_core_prefixes[] = {
	"sock", "sk_", "tcp", "inet", "udp", "ip_", "ip6", "ipv6", "mptcp",
	"skb", "kfree_skb", "consume_skb", "refcount", "dst_", "reqsk",
};

/* In the socket core: vmlinux, and a socket/TCP/IP/MPTCP/skb function. */
static bool watch_frame_core(unsigned long addr)
{
	char buf[KSYM_SYMBOL_LEN];
	const char *p = buf;
	int i;

	sprint_symbol(buf, addr);
	if (strchr(buf, '['))
		return false;
	while (*p == '_')
		p++;
	for (i = 0; i < ARRAY_SIZE(watch_core_prefixes); i++)
		if (!strncmp(p, watch_core_prefixes[i],
			     strlen(watch_core_prefixes[i])))
			return true;
	return false;
}

static bool watch_site_core(const struct watch_site *s)
{
	return s->depth && watch_frame_core(s->ent[0]);
}

/* The first frame outside the socket core (or the innermost). */
static unsigned long watch_holder(const struct watch_site *s)
{
	unsigned int i;

	for (i = 0; i < s->depth; i++)
		if (!watch_frame_core(s->ent[i]))
			return s->ent[i];
	return s->depth ? s->ent[0] : 0;
}

static void watch_match(int *put, int *get)
{
	int n = min(*put, *get);

	*put -= n;
	*get -= n;
}

/*
 * Match each put site's count with gets: same innermost function, gets in
 * the core, the references from before the watch, the other gets.
 */
static void watch_pair(struct sockleak_watch *w, struct watch_pairing *p)
{
	struct watch_site *sp, *sg;
	int i, j, pass;

	p->before = w->base;
	for (i = 0; i < WATCH_SITES; i++) {
		sp = &w->sites[i];
		/* Pairs with the release in watch_site(): the stack is written. */
		p->left[i] = smp_load_acquire(&sp->ready) ?
			     atomic_read(&sp->count) : 0;
		p->fn[i][0] = '\0';
		if (p->left[i] && sp->depth)
			sprint_symbol_no_offset(p->fn[i], sp->ent[0]);
	}
	for (pass = 0; pass < 4; pass++) {
		for (i = 0; i < WATCH_SITES; i++) {
			sp = &w->sites[i];
			if (sp->op >= 0 || !p->left[i])
				continue;
			if (pass == 2) {
				watch_match(&p->left[i], &p->before);
				continue;
			}
			for (j = 0; j < WATCH_SITES && p->left[i]; j++) {
				sg = &w->sites[j];
				if (sg->op <= 0 || !p->left[j])
					continue;
				if ((pass == 0 && strcmp(p->fn[i], p->fn[j])) ||
				    (pass == 1 && !watch_site_core(sg)))
					continue;
				watch_match(&p->left[i], &p->left[j]);
			}
		}
	}
}

static void watch_show_stack(struct seq_file *m, const struct watch_site *s)
{
	unsigned int i;

	seq_puts(m, " stack=");
	for (i = 0; i < s->depth; i++) {
		if (i)
			seq_putc(m, ',');
		sockleak_show_frame(m, s->ent[i]);
	}
	if (!s->depth)
		seq_putc(m, '-');
}

static void watch_show_changes(struct seq_file *m, struct sockleak_watch *w)
{
	unsigned int n = atomic_read(&w->seq), k;
	struct watch_rec r;

	for (k = n > WATCH_RING ? n - WATCH_RING + 1 : 1; k && k <= n; k++) {
		const struct watch_rec *src = &w->ring[(k - 1) % WATCH_RING];

		if (READ_ONCE(src->seq) != k)
			continue;
		/* Pairs with the smp_wmb()s of watch_hit(): read whole... */
		smp_rmb();
		r = *src;
		/* ... and not rewritten meanwhile (seq checked again). */
		smp_rmb();
		if (READ_ONCE(src->seq) != k)
			continue;
		seq_printf(m, " change=%u t_us=%lld cpu=%u ctx=%s pid=%d comm=",
			   k, (s64)div_s64((s64)(r.t_ns - w->armed_ns), 1000),
			   r.cpu, watch_ctx_names[r.ctx], r.pid);
		seq_escape(m, r.comm[0] ? r.comm : "-", " \t\n\\");
		seq_printf(m, " old=%d new=%d site=", r.old, r.new);
		if (r.site)
			seq_printf(m, "%u\n", r.site);
		else
			seq_puts(m, "-\n");
	}
}

static void watch_show_one(struct seq_file *m, struct sockleak_watch *w,
			   struct watch_pairing *p, u64 now)
{
	/* Pairs with the release in the free probe: freed_ns is set. */
	int state = smp_load_acquire(&w->state);
	int refcnt = atomic_read(&w->last) - atomic_read(&w->own);
	unsigned int seq = atomic_read(&w->seq), nsites = 0;
	int gets = atomic_read(&w->gets), puts = atomic_read(&w->puts);
	int i, held = 0;
	bool first = true;
	const struct watch_site *s;

	if (state == W_FREED)
		refcnt = 0;
	watch_pair(w, p);
	for (i = 0; i < WATCH_SITES; i++)
		/* As in watch_pair(): only complete sites. */
		if (p->left[i] || smp_load_acquire(&w->sites[i].ready))
			nsites++;

	seq_puts(m, "cookie=");
	seq_printf(m, "%llx state=%s proto=%s origin=%s armed_after_us=",
		   w->cookie, state == W_FREED ? "freed" : "armed",
		   sockleak_proto_name(w->proto),
		   watch_origin_names[w->origin]);
	if (w->born_ns)
		seq_printf(m, "%llu", div_u64(w->armed_ns - w->born_ns,
					       NSEC_PER_USEC));
	else
		seq_putc(m, '-');
	seq_printf(m, " refcnt=%d base=%d gets=%d puts=%d changes=%u kept=%u sites=%u sites_lost=%d folded=%d armed_ms=%llu freed_ms=",
		   refcnt, w->base, gets, puts,
		   seq, min_t(unsigned int, seq, WATCH_RING), nsites,
		   atomic_read(&w->sites_lost), atomic_read(&w->folded),
		   div_u64(now - w->armed_ns, NSEC_PER_MSEC));
	if (state == W_FREED)
		seq_printf(m, "%llu\n",
			   div_u64(now - w->freed_ns, NSEC_PER_MSEC));
	else
		seq_puts(m, "-\n");

	watch_show_changes(m, w);
	for (i = 0; i < WATCH_SITES; i++) {
		s = &w->sites[i];
		/* As in watch_pair(): only complete sites. */
		if (!smp_load_acquire(&s->ready))
			continue;
		seq_printf(m, " site=%d op=%s count=%d unmatched=%d", i + 1,
			   s->op > 0 ? "get" : s->op < 0 ? "put" : "none",
			   atomic_read(&s->count), s->op > 0 ? p->left[i] : 0);
		watch_show_stack(m, s);
		seq_putc(m, '\n');
	}
	if (state != W_FREED) {
		for (i = 0; i < WATCH_SITES; i++)
			if (w->sites[i].op > 0 && p->left[i])
				held += p->left[i];
		seq_printf(m, " held_before_watch=%d\n", p->before);
		for (i = 0; i < WATCH_SITES; i++) {
			s = &w->sites[i];
			if (s->op <= 0 || !p->left[i])
				continue;
			seq_printf(m, " held=%d site=%d ctx=%s pid=%d comm=",
				   p->left[i], i + 1, watch_ctx_names[s->ctx],
				   s->pid);
			seq_escape(m, s->comm[0] ? s->comm : "-", " \t\n\\");
			seq_puts(m, " taken=");
			sockleak_show_frame(m, watch_holder(s));
			watch_show_stack(m, s);
			seq_putc(m, '\n');
		}
	}

	seq_puts(m, "explain=");
	if (state == W_FREED) {
		seq_printf(m, "freed: %d before the watch + %d taken - %d dropped = %d%s\n",
			   w->base, gets, puts, w->base + gets - puts,
			   w->base + gets - puts ? " (changes were lost)" :
			   ", the history balances");
		return;
	}
	seq_printf(m, "%d reference%s held", refcnt, refcnt == 1 ? "" : "s");
	if (p->before) {
		seq_printf(m, ": %d from before the watch", p->before);
		first = false;
	}
	for (i = 0; i < WATCH_SITES; i++) {
		s = &w->sites[i];
		if (s->op <= 0 || !p->left[i])
			continue;
		seq_printf(m, "%s taken in ", first ? ":" : ",");
		first = false;
		sockleak_show_frame(m, watch_holder(s));
		seq_printf(m, " (%dx, %s, pid %d)", p->left[i],
			   watch_ctx_names[s->ctx], s->pid);
	}
	if (held + p->before != refcnt)
		seq_printf(m, "; %d not explained by the history",
			   refcnt - held - p->before);
	seq_putc(m, '\n');
}

/* A reference the pairing leaves held, for the other reports. */
struct watch_held {
	unsigned long addr;	/* first frame outside the core */
	int count;
	u8 ctx;
	pid_t pid;
};

/*
 * The references of watched, still armed @cookie that its history leaves
 * held, at most @max sites into @out; returns how many sites.
 */
static int watch_held(u64 cookie, struct watch_held *out, int max)
{
	struct watch_pairing *p;
	struct sockleak_watch *w;
	int slot, i, n = 0;

	mutex_lock(&watch_mutex);
	w = watch_lookup(cookie, &slot);
	/* Pairs with the release in the free probe. */
	if (!w || smp_load_acquire(&w->state) != W_ARMED)
		goto out;
	p = kvmalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		goto out;
	watch_pair(w, p);
	for (i = 0; i < WATCH_SITES && n < max; i++) {
		const struct watch_site *s = &w->sites[i];

		if (s->op <= 0 || !p->left[i])
			continue;
		out[n].addr = watch_holder(s);
		out[n].count = p->left[i];
		out[n].ctx = s->ctx;
		out[n].pid = s->pid;
		n++;
	}
	kvfree(p);
out:
	mutex_unlock(&watch_mutex);
	return n;
}

#define WATCH_HELD_SHOWN	4

/*
 * For "suspects": "a reference taken in <frame> (<ctx>, pid N) was never
 * put" for a watched socket; 0 and an empty @buf when there is none.
 */
int sockleak_watch_holder(u64 cookie, char *buf, size_t len)
{
	struct watch_held h[WATCH_HELD_SHOWN];
	char frame[KSYM_SYMBOL_LEN];
	int i, n, total = 0, ret = 0;

	if (len)
		buf[0] = '\0';
	n = watch_held(cookie, h, ARRAY_SIZE(h));
	for (i = 0; i < n; i++) {
		total += h[i].count;
		sprint_symbol(frame, h[i].addr);
		ret += scnprintf(buf + ret, len - ret,
				 "%s%s taken in %s (%s, pid %d)",
				 i ? ", " : "",
				 h[i].count == 1 ? "a reference" :
						   "references",
				 frame, watch_ctx_names[h[i].ctx], h[i].pid);
	}
	if (n)
		ret += scnprintf(buf + ret, len - ret, " %s never put",
				 total == 1 ? "was" : "were");
	return ret;
}

/* For "tracked": " held_by=<frame>,<frame>" or " held_by=-". */
void sockleak_watch_show_held(struct seq_file *m, u64 cookie)
{
	struct watch_held h[WATCH_HELD_SHOWN];
	int i, n = watch_held(cookie, h, ARRAY_SIZE(h));

	seq_puts(m, " held_by=");
	for (i = 0; i < n; i++) {
		if (i)
			seq_putc(m, ',');
		sockleak_show_frame(m, h[i].addr);
	}
	if (!n)
		seq_putc(m, '-');
}

/* "dump=<cookie>": the watch's report in the kernel log, line by line. */
int sockleak_watch_dump(u64 cookie)
{
	struct seq_file m = { };
	struct watch_pairing *p;
	struct sockleak_watch *w;
	char *line, *cur;
	int slot, ret = -ENOENT;

	p = kvmalloc(sizeof(*p), GFP_KERNEL);
	m.size = 64 * 1024;
	m.buf = kvmalloc(m.size, GFP_KERNEL);
	if (!p || !m.buf) {
		ret = -ENOMEM;
		goto out;
	}
	mutex_lock(&watch_mutex);
	w = watch_lookup(cookie, &slot);
	if (w)
		watch_show_one(&m, w, p, ktime_get_ns());
	mutex_unlock(&watch_mutex);
	if (w) {
		m.buf[min(m.count, m.size - 1)] = '\0';
		cur = m.buf;
		while ((line = strsep(&cur, "\n")) != NULL)
			if (*line)
				pr_info("refs %s\n", line);
		ret = 0;
	}
out:
	kvfree(m.buf);
	kvfree(p);
	return ret;
}

static int refs_show(struct seq_file *m, void *v)
{
	struct watch_pairing *p;
	u64 now = ktime_get_ns();
	int i;

	p = kvmalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	mutex_lock(&watch_mutex);
	if (watch_next_text[0])
		seq_printf(m, "watch_next filter=%s left=%d armed=%d lost=%d\n",
			   watch_next_text, atomic_read(&watch_next_left),
			   atomic_read(&watch_next_armed),
			   atomic_read(&watch_next_lost));
	for (i = 0; i < WATCH_SLOTS; i++)
		if (watch_slots[i])
			watch_show_one(m, watch_slots[i], p, now);
	mutex_unlock(&watch_mutex);
	kvfree(p);
	return 0;
}

static int refs_open(struct inode *inode, struct file *file)
{
	return single_open_size(file, refs_show, NULL, 64 * 1024);
}

static const struct file_operations refs_fops = {
	.owner		= THIS_MODULE,
	.open		= refs_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= single_release,
};

void sockleak_watch_init(struct dentry *dir)
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
	debugfs_create_file("refs", SOCKLEAK_MODE_RO, dir, NULL, &refs_fops);
}

void sockleak_watch_exit(void)
{
	struct sockleak_watch *w;
	int i;

	atomic_set(&watch_next_left, 0);
	cancel_delayed_work_sync(&watch_next_work);
	watch_pending_flush();

	mutex_lock(&watch_mutex);
	for (i = 0; i < WATCH_SLOTS; i++) {
		w = watch_slots[i];
		if (w) {
			WRITE_ONCE(watch_slots[i], NULL);
			watch_destroy(w);
		}
	}
	watch_detach_tp();
	mutex_unlock(&watch_mutex);
}
