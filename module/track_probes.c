// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - track probes: kretprobes, ftrace hooks and tracepoints on the
 * functions a socket passes through from allocation to free, feeding the
 * track table (track_table.c). Sockets of every family are followed from
 * their allocation to their free; TCP, UDP, UDP-Lite and MPTCP sockets,
 * IPv4 and IPv6 (the "followed protocols", proto.c's rows) also through
 * their teardown steps.
 *
 *   hook sock_init_data_uid	allocation, any family: the set-up every
 *				family's create runs right after
 *				sk_alloc() (sock_init_data() calls it):
 *				task, stack (tp_sock_init())
 *   kretprobe sk_clone_lock	accepted child (softirq: no task), stack;
 *				sk_clone from 6.19 (SOCKLEAK_SK_CLONE_SYM)
 *   hooks sock_close, sock_release
 *				the struct socket goes away (close() of its
 *				file, sock_release() of a kernel socket):
 *				the owner's close of a socket of any other
 *				protocol: task, stack
 *   hook on each followed protocol's close_fn (its row): tcp_close,
 *				sk_common_release (UDP, UDP-Lite),
 *				mptcp_close: the owner's close, task, stack
 *   hook udp_lib_unhash	UDP unhash step
 *   tracepoint inet_sock_set_state	the move to CLOSE is the TCP unhash
 *				step (tcp_set_state() unhashes the
 *				socket right before it); connect, listen
 *				and a child's establishment feed
 *				watch_next's port filter
 *   kretprobes udp_lib_get_port, inet_dgram_connect
 *				a UDP socket's local port (bind,
 *				autobind), its remote port (connect):
 *				watch_next's port filter, only while a
 *				pending filter has a port
 *   tracepoint tcp_destroy_sock	destroy and kill-queues steps
 *				(tcp_v4_destroy_sock(), the protocol
 *				destroy that inet_csk_destroy_sock()
 *				runs right before sk_stream_kill_queues();
 *				IPv6 too)
 *   hook __mptcp_destroy_sock	the same for an MPTCP socket: it
 *				runs the msk's destroy, then
 *				sk_stream_kill_queues() (7.3's build
 *				calls mptcp_destroy()'s body there, not
 *				the function: the caller is probed)
 *   each family's own probes (family.c's table), e.g. AF_UNIX's
 *				kprobes unix_add_edges, unix_del_edges: an
 *				SCM_RIGHTS message queued and leaving its
 *				queue, the sockets in flight (unix.c)
 *   hook __sk_destruct	free, any family: every path that frees
 *				a socket (sk_free(), sock_wfree(), the
 *				RCU callback of SOCK_RCU_FREE sockets,
 *				the sock_diag destroy work) ends there,
 *				and it gives the memory back
 *				(sk_prot_free()) with nothing that can
 *				stop it; its own ftrace_ops (tp_free_ops),
 *				registered first, removed last
 *
 * A "hook" is a function entry on one of sockleak's two ftrace_ops
 * (tp_ops, see tp_ftrace_hit(), and tp_free_ops); the kretprobes are left
 * where the return value is the fact (the new socket, a port's bind or
 * connect).
 *
 * Cost is what shaped this list (make bench, make profile): a kprobe hit
 * costs a trap or an ftrace round trip with every register saved and the
 * kprobe layer's dispatch, a hook an ftrace round trip with the argument
 * registers, a tracepoint probe a plain call. Events that fire several
 * times per connection (state changes) or for every TCP socket (destroy)
 * come from tracepoints; hooks are left where no tracepoint exists, on
 * functions that run once per socket, and not on a function every TCP
 * connection passes when only another protocol needs it
 * (sk_stream_kill_queues(): TCP's destroy says it ran; make profile: two
 * hits, 560 of 72k instructions per connection). The free was the
 * kmem_cache_free and kfree tracepoints, whose probe ran at every free of
 * the system to find the few that were sockets (make profile, 7.3: 1300
 * of a TCP connection's 4800 added instructions, 680 of a unix pair's
 * 2900): one hook on __sk_destruct() instead. The
 * two tracepoints that are not exported are found by name
 * with for_each_kernel_tracepoint(). Stack capture (unwinding at
 * allocation and close, see sockleak_stack_regs()) was the largest cost:
 * by default (stacks=1) a full stack is unwound only where it tells
 * something, see tp_stack(); elsewhere the probed function and its
 * caller (the return address on the stack at the entry) say as much;
 * stacks=2 unwinds every one, stacks=0 none.
 *
 * A kprobe that is armed as an int3 breakpoint (not on an ftrace site, or
 * while ftrace patches the site) runs its handler in NMI context, where
 * the track table's locks must not be taken: such hits are skipped and
 * counted as missed (tp_nmi_skipped). An allocation skipped this way is
 * not tracked; a kprobe hit while another kprobe handler runs on the same
 * CPU is dropped by the kprobe layer and counted too (ftrace calls a
 * hook's callback directly; only when another tracer shares the
 * function, ftrace's list of callbacks may drop a hit at an interrupt's
 * entry, uncounted). A missed free would leave the track table a pointer
 * to freed memory: the free's hook has an ftrace_ops of its own, without
 * FTRACE_OPS_FL_RECURSION, so no recursion guard stands between ftrace
 * and its callback: the trampoline ftrace makes for an ops alone on a
 * function calls it directly; while another tracer hooks __sk_destruct()
 * too (or without that trampoline), ftrace's list of callbacks runs it,
 * which drops a hit only when re-entered in one context beyond the one
 * level it allows (a tracer's callback that frees a socket; none does).
 * An allocation at an address still in the table replaces the stale
 * entry (sockleak_track_alloc()).
 *
 * The orphan step (sock_orphan() is inline) is read from SOCK_DEAD.
 *
 * Locking rules: the handlers run with preemption disabled, in process,
 * softirq or RCU callback context; they call the track table's probe
 * entry points (a stripe lock, then a stack lock, with interrupts
 * disabled) and watch_next.c's hooks (watch_pending_lock), never one
 * inside another.
 * unregister_kretprobes() and unregister_ftrace_function() wait for
 * running handlers, so after sockleak_track_probes_stop() none runs; the
 * hooks' table (tp_hooks[]) is written once, before tp_ops is first
 * registered, but for each hook's site, learnt at its first hit
 * (cmpxchg() from 0) and kept while the module is loaded.
 * The tracepoint probes are attached at each track=on and detached at
 * track=off; they run with preemption disabled, detaching waits for them
 * (tracepoint_synchronize_unregister()), and the track table waits once
 * more with synchronize_rcu() before freeing its table. The free's hook
 * is registered before anything else (ftrace patches the functions'
 * entries one after the other, not at once), so no socket enters the
 * track table without its free being seen; and removed only once the
 * table is withdrawn and freed (sockleak_track_free_unhook(), after
 * sockleak_track_table_stop()): a reader of the table may read any
 * socket it lists until then, so none may be freed unseen before.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/error-injection.h>
#include <linux/ftrace.h>
#include <linux/hash.h>
#include <linux/in.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>
#include <net/udp.h>

#include "compat.h"
#include "family.h"
#include "filter.h"
#include "proto.h"
#include "sockleak.h"
#include "stack.h"
#include "track.h"
#include "watchpoints.h"

static atomic_long_t tp_nmi_skipped;
static bool tp_attached;	/* tracepoint probes, under sockleak_control_mutex */

/* In NMI context (int3-armed kprobe): take no lock, count the miss. */
static bool tp_in_nmi(void)
{
	if (likely(!in_nmi()))
		return false;
	atomic_long_inc(&tp_nmi_skipped);
	return true;
}

static struct sock *tp_arg_sk(struct pt_regs *regs)
{
	return (struct sock *)regs_get_kernel_argument(regs, 0);
}

/*
 * stack_filter=: stacks only for the sockets that match. Two copies, so a
 * write never changes the one a probe may be reading: the new one is
 * published with rcu_assign_pointer(), then synchronize_rcu() waits for
 * the probes (they run with preemption disabled) that may still read the
 * old one, which the next write may reuse. Writers hold the control mutex.
 */
static struct sockleak_filter tp_filters[2];
static struct sockleak_filter __rcu *tp_stack_filter;
static char tp_filter_text[SOCKLEAK_FILTER_LEN];

int sockleak_stack_filter_check(const char *arg)
{
	struct sockleak_filter f;

	if (arg && !strcmp(arg, "off"))
		return 0;
	return sockleak_filter_parse(arg, 0, 0, &f);
}

/* Control mutex held; @arg passed sockleak_stack_filter_check(). */
int sockleak_stack_filter_set(const char *arg)
{
	struct sockleak_filter *cur, *next = NULL;

	lockdep_assert_held(&sockleak_control_mutex);
	cur = rcu_dereference_protected(tp_stack_filter,
					lockdep_is_held(&sockleak_control_mutex));
	if (strcmp(arg, "off")) {
		next = cur == &tp_filters[0] ? &tp_filters[1] : &tp_filters[0];
		if (sockleak_filter_parse(arg, 0, 0, next))
			return -EINVAL;
	}
	rcu_assign_pointer(tp_stack_filter, next);
	strscpy(tp_filter_text, next ? arg : "off", sizeof(tp_filter_text));
	synchronize_rcu();
	return 0;
}

/* The filter's text, "off" for none (control mutex held). */
const char *sockleak_stack_filter_text(void)
{
	lockdep_assert_held(&sockleak_control_mutex);
	return tp_filter_text[0] ? tp_filter_text : "off";
}

/* What stack a socket's event gets (tp_stack_wanted()). */
enum tp_stack_kind {
	TP_STACK_NONE,
	TP_STACK_SITE,		/* the probed function and its caller */
	TP_STACK_FULL,		/* stack_depth frames */
};

/*
 * Which stack for an event of socket @nsk (@sk: its ports, NULL: none
 * yet; @task: the event runs for the current task; @telling: its full
 * stack tells something the call site does not)? With a stack_filter, the
 * sockets that match get full stacks, the others none: only then is
 * @nsk's netns read.
 */
static __always_inline enum tp_stack_kind
tp_stack_wanted(const struct sock *nsk, const struct sock *sk, bool task,
		bool telling)
{
	unsigned int mode = sockleak_tunable(stacks);
	const struct sockleak_filter *f;
	enum tp_stack_kind kind;

	if (mode == SOCKLEAK_STACKS_NONE)
		return TP_STACK_NONE;
	kind = mode == SOCKLEAK_STACKS_ALL || telling ? TP_STACK_FULL :
						       TP_STACK_SITE;
	/*
	 * The probes run with preemption disabled: a read-side section that
	 * synchronize_rcu() waits for, without rcu_read_lock()'s calls
	 * (make profile: about 15 instructions a hit with PREEMPT_RCU).
	 */
	f = rcu_dereference_sched(tp_stack_filter);
	if (f)
		kind = sockleak_filter_match(f, sock_net(nsk)->ns.inum, 0,
					     NULL, sk, task) ?
		       TP_STACK_FULL : TP_STACK_NONE;
	return kind;
}

/*
 * The stack at the probed function's entry: the function itself, then
 * its callers, stack_depth frames in all; for a call site, the function
 * and the return address its caller pushed (no unwinding: what makes the
 * default cheap). Depth 0 (no stack) when the socket is not to have one.
 * A full stack tells something for a kernel socket's allocation (which
 * kernel code made it) and a close that is not its file's release (who
 * released it, e.g. sock_release() of a kernel socket); a user socket's
 * allocation is always socket() or accept() down to the family's create,
 * a child's always the same softirq path, a close through the file
 * always __fput() down to the protocol's close: the task and the call
 * site say as much. Inlined into each probe: every event passes here.
 */
static __always_inline void tp_stack_fill(struct pt_regs *regs,
					  unsigned long ip,
					  struct sockleak_stack *st,
					  enum tp_stack_kind kind)
{
	unsigned int depth = sockleak_tunable(stack_depth);

	st->depth = 0;
	if (kind == TP_STACK_NONE)
		return;
	st->ent[0] = ip;
	if (kind == TP_STACK_SITE) {
		st->ent[1] = sockleak_stack_caller(regs);
		st->depth = st->ent[1] ? 2 : 1;
		return;
	}
	depth = clamp(depth, 1U, (unsigned int)SOCKLEAK_STACK_DEPTH);
	st->depth = 1 + sockleak_stack_regs(regs, st->ent + 1, depth - 1);
}

/* tp_stack_wanted(), then tp_stack_fill(). */
static __always_inline void tp_stack(struct pt_regs *regs, unsigned long ip,
				     struct sockleak_stack *st,
				     const struct sock *nsk,
				     const struct sock *sk, bool task,
				     bool telling)
{
	tp_stack_fill(regs, ip, st, tp_stack_wanted(nsk, sk, task, telling));
}

/*
 * A call site by value (sockleak_site()) for an event whose stack is to
 * be one (@kind TP_STACK_SITE), 0 otherwise: then the event has no stack
 * (TP_STACK_NONE) or tp_stacked() gives it one.
 */
static __always_inline u64 tp_site(struct pt_regs *regs, unsigned long ip,
				   enum tp_stack_kind kind)
{
	if (kind != TP_STACK_SITE)
		return 0;
	return sockleak_site(ip, sockleak_stack_caller(regs));
}

/* Is the socket's struct socket being released with its file (close())? */
static bool tp_file_close(const struct sock *sk)
{
	const struct socket *sock = READ_ONCE(sk->sk_socket);

	return sock && READ_ONCE(sock->file);
}

/*
 * sk_clone_lock(sk, ...): capture the stack at entry, record at return. A
 * non-zero return skips the return handler.
 */
static int tp_clone_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *sk = tp_arg_sk(regs);

	if (tp_in_nmi())
		return 1;
	/* The listener's netns and port; softirq: no task. */
	tp_stack(regs, instruction_pointer(regs),
		 (struct sockleak_stack *)ri->data, sk, sk, false, false);
	return 0;
}

/*
 * sockleak_inet_proto() with its family test inline: the allocation and
 * close hooks see every family, most of them not inet (make profile, 6.12:
 * a call of 16 instructions for each unix socket's allocation and close).
 */
static __always_inline u16 tp_proto(const struct sock *sk)
{
	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6)
		return 0;
	return sockleak_inet_proto(sk);
}

/* A new socket, whatever its family: allocated (@clone false) or cloned. */
static __always_inline void tp_new_sock(struct sock *sk,
					const struct sockleak_stack *st,
					u64 site, bool clone)
{
	u16 proto = tp_proto(sk);
	u64 born;

	born = sockleak_track_alloc(sk, proto, clone ? SOCKLEAK_ORIGIN_CLONE :
				    SOCKLEAK_ORIGIN_ALLOC, st, site);
	if (born)
		sockleak_watch_new(sk, proto, born, clone);
}

/* Return of sk_clone_lock(): the clone, or NULL. */
static int tp_clone_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_return_value(regs);

	if (sk)
		tp_new_sock(sk, (struct sockleak_stack *)ri->data, 0, true);
	return 0;
}

/*
 * The entry hooks: functions whose entry is one track table event. All
 * of them are on one ftrace_ops (tp_ops): its callback gets the
 * arguments, the stack pointer and the caller's return address from
 * ftrace's trampoline, without a kprobe's full register save and
 * dispatch (make profile, 7.3: a kprobe hit on an ftrace site was ~150
 * instructions of machinery). Which hook a hit is for is found by its
 * address, learnt from the symbol at the first hit (tp_hook_at()).
 */
enum tp_hook_kind {
	TP_HOOK_SK,		/* first argument a socket of a followed protocol */
	TP_HOOK_SOCK_CLOSE,	/* sock_close(inode, file) */
	TP_HOOK_SOCK_RELEASE,	/* sock_release(sock) */
	TP_HOOK_SOCK_INIT,	/* sock_init_data_uid(sock, sk, uid) */
};

struct tp_hook {
	const char *sym;
	unsigned long ip;	/* its ftrace site, 0 until the first hit */
	u8 kind;		/* enum tp_hook_kind */
	u8 ev;			/* enum sockleak_event (TP_HOOK_SK) */
	bool close;		/* a close_fn (with the closer's stack) */
};

/*
 * Is @sym the close_fn of followed protocol @proto? The hook's name is
 * the first row's string of that name (tp_hooks_init()): a pointer
 * compare for it, strcmp() for a row that shares the function (UDP and
 * UDP-Lite: sk_common_release). make profile: strcmp() on every close hit
 * was 130 instructions per TCP connection.
 */
static bool tp_closes(u16 proto, const char *sym)
{
	const char *fn = sockleak_proto(proto)->close_fn;

	return fn == sym || !strcmp(fn, sym);
}

/*
 * The hooks' stacks are __uninitialized: CONFIG_INIT_STACK_ALL_ZERO (every
 * kernel of the matrix) would zero their 136 bytes at every hit, the
 * sockets whose event is left at once too (make profile, 7.3: about 30
 * instructions a hit). tp_stack() sets the depth; only that many entries
 * are ever read. Inline in tp_hook_other(), out of the common path, whose
 * frame holds the stack (make profile, 6.12: a call of its own was 44
 * instructions a TCP connection).
 */
static __always_inline void tp_sk_hit(const struct tp_hook *h,
				      unsigned long ip, struct pt_regs *regs)
{
	struct sock *sk = tp_arg_sk(regs);
	struct sockleak_stack st __uninitialized;
	u16 proto;

	if (!sk)
		return;
	proto = sockleak_inet_proto(sk);
	if (!proto || (h->close && !tp_closes(proto, h->sym)))
		return;
	if (!h->close) {
		sockleak_track_event(sk, proto, h->ev, NULL);
		return;
	}
	tp_stack(regs, ip, &st, sk, sk, in_task(),
		 !tp_file_close(sk));
	sockleak_track_event(sk, proto, h->ev, st.depth ? &st : NULL);
}

/*
 * An allocation (@alloc) or a close of @sk whose stack is not a call site
 * by value (tp_site()): a full stack, or a site that does not fit.
 * Out of line, with the stack's 136 bytes: the hooks' common path has no
 * array on its stack, so no copy of it and no stack protector (make
 * profile, 7.3: about 30 instructions a unix socket).
 */
static noinline void tp_stacked(struct pt_regs *regs, unsigned long ip,
				struct sock *sk, enum tp_stack_kind kind,
				bool alloc)
{
	struct sockleak_stack st __uninitialized;

	tp_stack_fill(regs, ip, &st, kind);
	if (alloc)
		tp_new_sock(sk, &st, 0, false);
	else
		sockleak_track_release(sk, &st, 0);
}

/*
 * The allocation (@alloc) or close of @sk with the stack @kind says: a
 * call site by value, none, or tp_stacked()'s.
 */
static __always_inline void tp_record(struct pt_regs *regs, unsigned long ip,
				      struct sock *sk, enum tp_stack_kind kind,
				      bool alloc)
{
	u64 site = tp_site(regs, ip, kind);

	if (kind != TP_STACK_NONE && !site)
		tp_stacked(regs, ip, sk, kind, alloc);
	else if (alloc)
		tp_new_sock(sk, NULL, site, false);
	else
		sockleak_track_release(sk, NULL, site);
}

/*
 * The struct socket of a socket goes away: sock_close(inode, file), the
 * close of its file, or sock_release(sock) of a kernel socket (both call
 * __sock_release(), which a compiler may inline into either). The owner's
 * close for every protocol the close hooks above do not follow.
 */
static __always_inline void tp_release(struct pt_regs *regs,
				       unsigned long ip, struct socket *sock,
				       bool file)
{
	struct sock *sk;

	if (!sock)
		return;
	sk = READ_ONCE(sock->sk);
	if (!sk || tp_proto(sk))
		return;
	tp_record(regs, ip, sk, tp_stack_wanted(sk, NULL, in_task(), !file),
		  false);
}

/*
 * A socket allocated by sk_alloc() is set up by sock_init_data_uid(sock,
 * sk, uid), which sock_init_data() calls (a tail call on every kernel of
 * the matrix) and every family's create runs right after sk_alloc(): its
 * entry is the allocation event. The socket's family, proto, netns and
 * kern flag are set; the family's create is the caller. An entry hook
 * instead of a kretprobe on sk_alloc (make profile: the kretprobe's
 * return half was ~300 instructions per socket). A socket freed before
 * it is set up (a create's error path) is not seen: it could not leak.
 */
static __always_inline void tp_sock_init(struct pt_regs *regs,
					 unsigned long ip, struct sock *sk)
{
	if (!sk)
		return;
	tp_record(regs, ip, sk,
		  tp_stack_wanted(sk, NULL, in_task(), sk->sk_kern_sock), true);
}

/* The closes, steps of the followed protocols, then the allocation. */
static struct tp_hook tp_hooks[3 + SOCKLEAK_NPROTOS + 2];
static unsigned int tp_nhooks;	/* entries in use, set before the first hook */

/*
 * The hook of a site not yet seen: the symbol the address is in names it
 * (the address of a function that is not exported is never looked up by
 * its name). Out of line: its name buffer, zeroed at every entry of the
 * function that holds it (CONFIG_INIT_STACK_ALL_ZERO), is not on the
 * path of every hit.
 */
static noinline const struct tp_hook *tp_hook_learn(unsigned long ip)
{
	char name[KSYM_SYMBOL_LEN], *sp;
	unsigned int i;

	sprint_symbol_no_offset(name, ip);
	sp = strchr(name, ' ');
	if (sp)
		*sp = '\0';
	for (i = 0; i < tp_nhooks; i++) {
		struct tp_hook *h = &tp_hooks[i];

		if (strcmp(h->sym, name))
			continue;
		/*
		 * One function per name: the first one hit. Were a second
		 * function of that name matched by the filter (none is, on
		 * the kernels sockleak supports), its hits are refused and
		 * its arguments never read.
		 */
		if (!cmpxchg(&h->ip, 0, ip) || READ_ONCE(h->ip) == ip)
			return h;
		pr_warn_once("%s: another function of that name is not hooked\n",
			     name);
		return NULL;
	}
	return NULL;
}

/* The hook at ftrace site @ip. */
static const struct tp_hook *tp_hook_at(unsigned long ip)
{
	unsigned int i;

	for (i = 0; i < tp_nhooks; i++)
		if (READ_ONCE(tp_hooks[i].ip) == ip)
			return &tp_hooks[i];
	return tp_hook_learn(ip);
}

/* sock_close(inode, file): a socket's file is released. */
static __always_inline void tp_sock_close(struct pt_regs *regs,
					  unsigned long ip)
{
	struct inode *inode = (struct inode *)regs_get_kernel_argument(regs, 0);

	tp_release(regs, ip, inode ? SOCKET_I(inode) : NULL, true);
}

/*
 * The sites of the two hooks every socket passes, learnt at their first
 * hit (tp_hook_other()): tp_ftrace_hit() compares them first (make
 * profile, 7.3: finding the hook in tp_hooks[] was 45 instructions a
 * hit, 180 of the 1528 tracking added to a unix socket pair). An ftrace_ops
 * of their own each would need no compare, but every ftrace_ops of a
 * module's costs track=off an unregistration that waits for RCU tasks
 * (0.1-0.2 s a guest under TCG: make check turns tracking off hundreds
 * of times).
 */
static unsigned long tp_init_ip, tp_close_ip;

/* Any hook but the two above, or one of them at its first hit. */
static noinline void tp_hook_other(unsigned long ip, struct pt_regs *regs)
{
	const struct tp_hook *h = tp_in_nmi() ? NULL : tp_hook_at(ip);

	if (!h)
		return;
	switch (h->kind) {
	case TP_HOOK_SK:
		tp_sk_hit(h, ip, regs);
		break;
	case TP_HOOK_SOCK_CLOSE:
		WRITE_ONCE(tp_close_ip, ip);
		tp_sock_close(regs, ip);
		break;
	case TP_HOOK_SOCK_RELEASE:
		tp_release(regs, ip, (struct socket *)
			   regs_get_kernel_argument(regs, 0), false);
		break;
	case TP_HOOK_SOCK_INIT:
		WRITE_ONCE(tp_init_ip, ip);
		tp_sock_init(regs, ip, (struct sock *)
			     regs_get_kernel_argument(regs, 1));
		break;
	}
}

/*
 * tp_ops' callback: any context the hooked functions run in (process,
 * softirq), never NMI. It needs no recursion guard: it calls none of the
 * hooked functions, and ftrace's own code is not traced. It runs with
 * preemption disabled, as the track table's probe entry points expect.
 */
static void notrace tp_ftrace_hit(unsigned long ip, unsigned long parent_ip,
				  struct ftrace_ops *op,
				  struct ftrace_regs *fregs)
{
	struct pt_regs *regs = sockleak_ftrace_regs(fregs);

	/* (Neither hook's function runs in NMI: no tp_in_nmi() for them.) */
	preempt_disable_notrace();
	if (ip == READ_ONCE(tp_init_ip))
		tp_sock_init(regs, ip, (struct sock *)
			     regs_get_kernel_argument(regs, 1));
	else if (ip == READ_ONCE(tp_close_ip))
		tp_sock_close(regs, ip);
	else
		tp_hook_other(ip, regs);
	preempt_enable_notrace();
}

/*
 * Permanent: while it is registered, sysctl kernel.ftrace_enabled=0 is
 * refused (EBUSY) instead of silently stopping every hook, and track=on
 * fails while ftrace is off.
 */
static struct ftrace_ops tp_ops = {
	.func = tp_ftrace_hit,
	.flags = FTRACE_OPS_FL_PERMANENT,
};

/* A tracepoint event of a TCP socket. */
static void tp_event(struct sock *sk, enum sockleak_event ev)
{
	if (sockleak_track_on() && sockleak_inet_proto(sk) == IPPROTO_TCP)
		sockleak_track_event(sk, IPPROTO_TCP, ev, NULL);
}

/*
 * Tracepoint inet_sock_set_state (TCP, DCCP, SCTP: TCP is kept). The move
 * to CLOSE is the unhash step: tcp_set_state() unhashes the socket right
 * before it. The state itself is read from the socket when a report is
 * made. Connect and listen feed watch_next's port filter (watch_next.c).
 */
static void tp_state(void *data, const struct sock *sk, const int oldstate,
			const int newstate)
{
	if (newstate == TCP_CLOSE)
		tp_event((struct sock *)sk, SOCKLEAK_EV_UNHASH);
	else
		sockleak_watch_state((struct sock *)sk, oldstate, newstate);
}

/* Tracepoint tcp_destroy_sock. */
static void tp_destroy(void *data, struct sock *sk)
{
	tp_event(sk, SOCKLEAK_EV_DESTROY);
}

/*
 * __sk_destruct(head), head the socket's sk_rcu: the free of a socket of
 * any family. sk_destruct() calls it, directly or as an RCU callback (a
 * tail call on every kernel of the matrix, and its address given to
 * call_rcu()); it runs the family's destructor and gives the memory back
 * (sk_prot_free()), with nothing between that can keep the socket.
 * Process, softirq or RCU callback context, never NMI. No recursion
 * guard and no dispatch: tp_free_ops hooks this one function and has no
 * FTRACE_OPS_FL_RECURSION (make profile, 7.3: the kmem_cache_free and
 * kfree tracepoints it replaces cost 1190 instructions per TCP
 * connection, as they ran at every free of the system).
 */
static void notrace tp_free_hit(unsigned long ip, unsigned long parent_ip,
				struct ftrace_ops *op,
				struct ftrace_regs *fregs)
{
	struct rcu_head *head = (struct rcu_head *)
		regs_get_kernel_argument(sockleak_ftrace_regs(fregs), 0);

	preempt_disable_notrace();
	sockleak_track_free(container_of(head, struct sock, sk_rcu));
	preempt_enable_notrace();
}

static struct ftrace_ops tp_free_ops = {
	.func = tp_free_hit,
	.flags = FTRACE_OPS_FL_PERMANENT,
};

/* The tracepoints that are not exported, found by name. */
static struct tp_named_tp {
	const char *name;
	void *probe;
	struct tracepoint *tp;
} tp_named_tps[] = {
	{ "inet_sock_set_state", tp_state },
	{ "tcp_destroy_sock", tp_destroy },
};

static void tp_find_tp(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(tp_named_tps); i++)
		if (!strcmp(tp->name, tp_named_tps[i].name))
			tp_named_tps[i].tp = tp;
}

static void tp_detach_tps(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(tp_named_tps); i++) {
		if (tp_named_tps[i].tp)
			tracepoint_probe_unregister(tp_named_tps[i].tp,
						    tp_named_tps[i].probe,
						    NULL);
		tp_named_tps[i].tp = NULL;
	}
	tracepoint_synchronize_unregister();
}

static int tp_attach_tps(void)
{
	int i, ret;

	for_each_kernel_tracepoint(tp_find_tp, NULL);
	for (i = 0; i < ARRAY_SIZE(tp_named_tps); i++) {
		struct tp_named_tp *t = &tp_named_tps[i];

		ret = t->tp ? tracepoint_probe_register(t->tp, t->probe, NULL) :
			      -ENOENT;
		if (ret) {
			pr_err("cannot attach to tracepoint %s: %d\n", t->name,
			       ret);
			t->tp = NULL;
			tp_detach_tps();
			return ret;
		}
	}
	return 0;
}

/* Room for many instances in flight (udp_lib_get_port() may sleep). */
#define TRACK_MAXACTIVE	(4 * NR_CPUS > 256 ? 256 : 4 * NR_CPUS + 64)

static struct kretprobe tp_clone_rp = {
	.kp.symbol_name	= SOCKLEAK_SK_CLONE_SYM,
	.entry_handler	= tp_clone_entry,
	.handler	= tp_clone_ret,
	.data_size	= sizeof(struct sockleak_stack),
	.maxactive	= TRACK_MAXACTIVE,
};

/*
 * UDP ports for watch_next's port filter: a local one once
 * udp_lib_get_port() (bind, autobind) succeeds, a remote one once
 * inet_dgram_connect() does. The entry handlers skip the return probe
 * unless a pending watch_next filter has a port.
 */
static int tp_get_port_entry(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	if (!sockleak_watch_next_ports())
		return 1;
	*(struct sock **)ri->data = tp_arg_sk(regs);
	return 0;
}

static int tp_dgram_connect_entry(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	struct socket *sock;

	if (!sockleak_watch_next_ports())
		return 1;
	sock = (struct socket *)regs_get_kernel_argument(regs, 0);
	*(struct sock **)ri->data = sock ? READ_ONCE(sock->sk) : NULL;
	return 0;
}

static int tp_get_port_ret(struct kretprobe_instance *ri,
			   struct pt_regs *regs)
{
	struct sock *sk = *(struct sock **)ri->data;

	if (sk && !regs_return_value(regs))
		sockleak_watch_port(sk, false);
	return 0;
}

static int tp_dgram_connect_ret(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct sock *sk = *(struct sock **)ri->data;

	if (sk && !regs_return_value(regs))
		sockleak_watch_port(sk, true);
	return 0;
}

static struct kretprobe tp_get_port_rp = {
	.kp.symbol_name	= "udp_lib_get_port",
	.entry_handler	= tp_get_port_entry,
	.handler	= tp_get_port_ret,
	.data_size	= sizeof(struct sock *),
	.maxactive	= TRACK_MAXACTIVE,
};

static struct kretprobe tp_dgram_connect_rp = {
	.kp.symbol_name	= "inet_dgram_connect",
	.entry_handler	= tp_dgram_connect_entry,
	.handler	= tp_dgram_connect_ret,
	.data_size	= sizeof(struct sock *),
	.maxactive	= TRACK_MAXACTIVE,
};

static struct kretprobe *tp_rps[] = {
	&tp_clone_rp, &tp_get_port_rp, &tp_dgram_connect_rp,
};

static void tp_hook_add(const char *sym, u8 kind, u8 ev, bool close)
{
	tp_hooks[tp_nhooks++] = (struct tp_hook) {
		.sym = sym, .kind = kind, .ev = ev, .close = close,
	};
}

/*
 * The hooks, the most frequent first (tp_hook_at() looks them up in
 * order): each followed protocol's close_fn (proto.c's rows; one hook per
 * function), a kernel socket's release, the steps every followed
 * protocol that passes there has; last a file's close and a socket's
 * set-up, which tp_ftrace_hit() finds by their learnt sites once they
 * were hit. Tracking off: no hit runs.
 */
static void tp_hooks_init(void)
{
	const struct sockleak_proto_ops *ops;
	unsigned int i, j;

	tp_nhooks = 0;
	for (i = 0; (ops = sockleak_proto_row(i)); i++) {
		if (!ops->close_fn)
			continue;
		for (j = 0; j < tp_nhooks; j++)
			if (!strcmp(tp_hooks[j].sym, ops->close_fn))
				break;
		if (j < tp_nhooks)	/* UDP-Lite shares UDP's */
			continue;
		tp_hook_add(ops->close_fn, TP_HOOK_SK, ops->close_ev, true);
	}
	tp_hook_add("sock_release", TP_HOOK_SOCK_RELEASE, 0, false);
	tp_hook_add("udp_lib_unhash", TP_HOOK_SK, SOCKLEAK_EV_UNHASH, false);
	tp_hook_add("__mptcp_destroy_sock", TP_HOOK_SK, SOCKLEAK_EV_DESTROY,
		    false);
	tp_hook_add("sock_close", TP_HOOK_SOCK_CLOSE, 0, false);
	tp_hook_add("sock_init_data_uid", TP_HOOK_SOCK_INIT, 0, false);
}

/*
 * Put every hook's function in its ops' filter. Each ftrace_set_filter()
 * matches its name against every traceable function of the kernel (make
 * check, 7.3 under TCG: the eight took half a second of each track=on),
 * so the filters are made once and kept until the module's exit, with
 * the hooks' table and the sites learnt (the hooks and their addresses
 * are the same at every track=on: proto.c's rows are constant);
 * ftrace_free_filter() of 6.1 leaves the ops' hash pointers dangling, so
 * an ops is never reused after it. A function missing from the kernel
 * (renamed, or inlined everywhere) fails track=on here.
 */
static bool tp_filter_ready;	/* under sockleak_control_mutex */

static int tp_filter(struct ftrace_ops *ops, const char *sym, bool reset)
{
	int ret = ftrace_set_filter(ops, (unsigned char *)sym, strlen(sym),
				    reset);

	if (ret)
		pr_err("cannot hook %s: %d\n", sym, ret);
	return ret;
}

static int tp_filters_make(void)
{
	unsigned int i;
	int ret;

	if (tp_filter_ready)
		return 0;
	tp_hooks_init();
	ret = tp_filter(&tp_free_ops, "__sk_destruct", true);
	for (i = 0; !ret && i < tp_nhooks; i++)
		ret = tp_filter(&tp_ops, tp_hooks[i].sym, i == 0);
	tp_filter_ready = !ret;
	return ret;
}

/*
 * Unregister @ops. It fails only once ftrace has shut itself down
 * (ftrace_kill() after a failed text update, with its own WARN): the
 * hooks' trampoline may then stay in the functions' entries, calling
 * this module's code, so the module pins itself (it can no longer be
 * unloaded; tracking off, the callbacks find no track table).
 */
static bool tp_stuck;

static void tp_unhook(struct ftrace_ops *ops)
{
	int ret = unregister_ftrace_function(ops);

	if (!ret || tp_stuck)
		return;
	pr_err("cannot unhook (%d): ftrace is off; sockleak stays loaded\n",
	       ret);
	tp_stuck = true;
	__module_get(THIS_MODULE);
}

/* Detach the tracepoints; no tracepoint probe runs after this. */
static void tp_detach(void)
{
	if (!tp_attached)
		return;
	tp_detach_tps();
	tp_attached = false;
}

/*
 * The free's hook first, then the tracepoints, the hooks and the
 * kretprobes that enter sockets in the track table. On failure the
 * free's hook may stay: sockleak_track_free_unhook() removes it once the
 * table is withdrawn.
 */
static bool tp_free_hooked;	/* under sockleak_control_mutex */

int sockleak_track_probes_start(void)
{
	int i, ret;

	lockdep_assert_held(&sockleak_control_mutex);
	atomic_long_set(&tp_nmi_skipped, 0);
	for (i = 0; i < ARRAY_SIZE(tp_rps); i++) {
		sockleak_kprobe_reset(&tp_rps[i]->kp);
		tp_rps[i]->nmissed = 0;
	}

	ret = tp_filters_make();
	if (ret)
		return ret;
	ret = register_ftrace_function(&tp_free_ops);
	if (ret) {
		pr_err("cannot hook the free: %d\n", ret);
		return ret;
	}
	tp_free_hooked = true;
	ret = tp_attach_tps();
	if (ret)
		return ret;
	tp_attached = true;
	ret = register_ftrace_function(&tp_ops);
	if (ret) {
		pr_err("cannot hook the close path: %d\n", ret);
		goto detach;
	}
	ret = register_kretprobes(tp_rps, ARRAY_SIZE(tp_rps));
	if (ret) {
		pr_err("cannot probe the allocation path: %d\n", ret);
		tp_unhook(&tp_ops);
		goto detach;
	}
	sockleak_family_probes_start();
	return 0;

detach:
	tp_detach();
	return ret;
}

/*
 * A kernel with fail_function (CONFIG_FAIL_FUNCTION) can make this fail on
 * demand: tracker_test reaches the failure path of "track=on" with it.
 */
ALLOW_ERROR_INJECTION(sockleak_track_probes_start, ERRNO);

/*
 * Unregister the probes that enter or update sockets: the kprobes and
 * the hooks (waiting for running handlers), then the tracepoints. The
 * free's hook stays until sockleak_track_free_unhook().
 */
void sockleak_track_probes_stop(void)
{
	lockdep_assert_held(&sockleak_control_mutex);
	sockleak_family_probes_stop();
	unregister_kretprobes(tp_rps, ARRAY_SIZE(tp_rps));
	tp_unhook(&tp_ops);
	tp_detach();
}

/*
 * The free's hook goes, once the track table is withdrawn and freed
 * (sockleak_track_table_stop(): its readers are gone, and the hook's
 * callbacks that ran since found no table): with tracking off nothing of
 * sockleak stays on any path. Nothing if it was never registered.
 */
void sockleak_track_free_unhook(void)
{
	lockdep_assert_held(&sockleak_control_mutex);
	if (!tp_free_hooked)
		return;
	tp_unhook(&tp_free_ops);
	tp_free_hooked = false;
}

/* The module's exit, tracking off: nothing of the probes stays. */
void sockleak_track_probes_exit(void)
{
	tp_detach();
	sockleak_track_free_unhook();
	if (tp_stuck)
		return;
	ftrace_free_filter(&tp_ops);
	ftrace_free_filter(&tp_free_ops);
}

/* Events lost: kretprobe instances exhausted, or probes hit recursively. */
unsigned long sockleak_track_probes_missed(void)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(tp_rps); i++)
		n += tp_rps[i]->nmissed + tp_rps[i]->kp.nmissed;
	return n + atomic_long_read(&tp_nmi_skipped) +
	       sockleak_family_probes_missed();
}
