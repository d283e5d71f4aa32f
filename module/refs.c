// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the "refs" report of the refcount watchpoints (watch.c), the
 * holder it names in "tracked" and "suspects", and "dump=<cookie>".
 *
 * The "refs" debugfs file shows, per watch (watch.c records it):
 *
 *   [watch_next filter=<filter> left=N armed=N lost=N]
 *   cookie=<hex> state=armed|freed proto= origin=cookie|alloc|clone|
 *   connect|listen|bind armed_after_us=N|- armed_by=probe|work
 *   cpus_after_us=N|- refcnt=N base=N gets=N puts=N changes=N kept=N
 *   sites=N sites_lost=N folded=N undecoded=N unseen=N cpus_late=N
 *   armed_ms=N freed_ms=N|-
 *    change=<n> t_us=<since arming> cpu= ctx=task|softirq|hardirq|nmi
 *    pid= comm= old= new= site=<n>|-
 *    site=<n> op=get|put|none count=N unmatched=N stack=<f>,<f>,...
 *    held_before_watch=N
 *    held=N site=<n> ctx= pid= comm= taken=<frame> stack=<f>,...
 *   explain=<sentence>
 *
 * armed_after_us is how long the socket's code ran unwatched: 0 when
 * the probe that matched it armed it (armed_by=probe, watch_next with a
 * standby watchpoint); else the work item did, that long after its
 * allocation or match. A probe arms the watchpoint on its own CPU at once
 * and on the others by IPI: cpus_after_us is when the last one was, and
 * unseen what other CPUs moved the count by before theirs did (in base).
 * cpus_late counts the CPUs that came online while it watched (CPU
 * hotplug): each got the watchpoint from a work item, shortly after; a
 * change one made before that went unseen.
 *
 * refcnt is the count now (the last value written; when freed, 0), base
 * the count when the watch was armed. gets and puts are the references
 * taken and dropped since; base + gets - puts = refcnt unless a change
 * was lost. A change is one trap: old and new are the count before and
 * after, decoded from the writing instruction (watch.c); "undecoded"
 * counts changes read back from the count instead (two writes racing on
 * two CPUs may fold into one such change of 0 or 2). The latest WATCH_RING changes are kept ("kept"), every change
 * is counted. A site is one distinct stack (innermost first, as %pS,
 * deduplicated), counted for every change even when the change itself
 * is no longer kept; "sites_lost" counts changes whose stack found no
 * free site.
 *
 * The pairing (which references are still held) is a heuristic, done at
 * read time over the sites: a put is matched first with a get whose
 * innermost function is the same (sock_hold()/sock_put() in one
 * function), then with one of the same code path: the same function, or
 * one of whose stack passes through the other's
 * innermost function (a lookup that returns the socket held, put by its
 * caller: vsock_find_bound_socket() and virtio_transport_recv_pkt(); an
 * skb's owner reference, dropped when that function frees the skb), or
 * connected to it by such relations (one code path's group), then an
 * skb destructor's put (sock_efree()...) with a get in a function named
 * for the skb (its owner reference, taken where the skb was made, often
 * in another context: a vsock transport's alloc_skb), then with one of
 * the same subsystem (the same module, or the same name
 * prefix: unix_create1()'s get, unix_release_sock()'s put) with as many
 * left, then with gets in the socket core, then with the other gets of
 * the same subsystem, then with the references that existed before the
 * watch, and last with gets from outside the core (a module, a frame
 * that is not sock/tcp/inet/udp/ip/mptcp/skb code). What is left is the
 * "held" lines: the holder is the first frame outside the core
 * ("taken"). "folded" counts moves of the count made
 * on another CPU that an undecoded change of sockleak's own read back
 * (watch.c); they are in gets or puts, without a site.
 *
 * Locking rules: every reader holds sockleak_watch_mutex, so no watch is
 * destroyed while it is read; the ring and the sites are read as watch.c
 * writes them (sequence numbers, release/acquire on a site's ready
 * flag).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "report.h"
#include "reports.h"
#include "stack.h"
#include "watch.h"

static const char * const watch_origin_names[] = {
	[W_ORIGIN_COOKIE] = "cookie", [W_ORIGIN_ALLOC] = "alloc",
	[W_ORIGIN_CLONE] = "clone", [W_ORIGIN_CONNECT] = "connect",
	[W_ORIGIN_LISTEN] = "listen", [W_ORIGIN_BIND] = "bind",
};

static const char * const watch_ctx_names[] = {
	[W_CTX_TASK] = "task", [W_CTX_SOFTIRQ] = "softirq",
	[W_CTX_HARDIRQ] = "hardirq", [W_CTX_NMI] = "nmi",
};

/* Pairing state of one read: what each site has left. */
struct watch_pairing {
	int left[WATCH_SITES];		/* gets unmatched, puts unused */
	int before;			/* references from before the watch */
	char fn[WATCH_SITES][KSYM_SYMBOL_LEN];	/* innermost function */
	u8 group[WATCH_SITES];		/* sites of one code path (W_PASS_FN) */
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

/*
 * Two innermost functions of one subsystem: the same module, or in the
 * kernel the same name prefix (unix_create1() and unix_release_sock()).
 */
static bool watch_same_subsys(const char *a, const char *b)
{
	const char *ma = strchr(a, '['), *mb = strchr(b, '[');
	size_t la, lb;

	if (ma || mb)
		return ma && mb && !strcmp(ma, mb);
	while (*a == '_')
		a++;
	while (*b == '_')
		b++;
	la = strcspn(a, "_ ");
	lb = strcspn(b, "_ ");
	return la && la == lb && !strncmp(a, b, la);
}

/* Does a frame of @s beyond the innermost run function @fn? */
static noinline_for_stack bool watch_site_passes(const struct watch_site *s,
						 const char *fn)
{
	char buf[KSYM_SYMBOL_LEN];
	unsigned int i;

	for (i = 1; i < s->depth; i++) {
		sprint_symbol_no_offset(buf, s->ent[i]);
		if (!strcmp(buf, fn))
			return true;
	}
	return false;
}

static void watch_match(int *put, int *get)
{
	int n = min(*put, *get);

	*put -= n;
	*get -= n;
}

/* The passes of watch_pair(), in order. */
enum {
	W_PASS_SAME_FN,		/* one innermost function */
	W_PASS_FN,		/* one code path (watch_group()) */
	W_PASS_SKB,		/* an skb destructor's put, an skb's owner get */
	W_PASS_SUBSYS_SAME_COUNT,	/* one subsystem, as many left */
	W_PASS_CORE,		/* a get in the socket core */
	W_PASS_SUBSYS,		/* one subsystem */
	W_PASS_BEFORE,		/* the references from before the watch */
	W_PASS_ANY,
	W_PASSES,
};

/*
 * An skb destructor that puts the owner reference an skb holds on its
 * socket: taken where the skb was made (a function named for the skb:
 * sock_alloc_send_pskb(), skb_set_owner_w(), a transport's alloc_skb),
 * often in another context than the put (the peer's receive path).
 */
static bool watch_skb_destructor(const char *fn)
{
	static const char * const names[] = {
		"sock_efree", "sock_wfree", "__sock_wfree", "sock_rfree",
		"sock_ofree", "tcp_wfree",
	};
	size_t n;
	int k;

	for (k = 0; k < ARRAY_SIZE(names); k++) {
		n = strlen(names[k]);
		if (!strncmp(fn, names[k], n) && (!fn[n] || fn[n] == ' '))
			return true;
	}
	return false;
}

/* Of one code path: one function, or one called by the other. */
static bool watch_sites_related(const struct watch_pairing *p,
				const struct watch_site *sp, int i,
				const struct watch_site *sg, int j)
{
	return !strcmp(p->fn[i], p->fn[j]) || watch_site_passes(sg, p->fn[i]) ||
	       watch_site_passes(sp, p->fn[j]);
}

static u8 watch_group_root(struct watch_pairing *p, int i)
{
	while (p->group[i] != i)
		i = p->group[i] = p->group[p->group[i]];
	return i;
}

/*
 * Group the sites left by code path: a put and a get related as
 * watch_sites_related() says join one group, and so do their groups (a
 * lookup's get, the skb owner's get and put, and the caller's put of one
 * receive path form one group, whatever pairs within it).
 */
static void watch_group(struct sockleak_watch *w, struct watch_pairing *p)
{
	int i, j;

	BUILD_BUG_ON(WATCH_SITES > 256);	/* group[] is u8 */
	for (i = 0; i < WATCH_SITES; i++)
		p->group[i] = i;
	for (i = 0; i < WATCH_SITES; i++) {
		if (w->sites[i].op >= 0 || !p->left[i])
			continue;
		for (j = 0; j < WATCH_SITES; j++)
			if (w->sites[j].op > 0 && p->left[j] &&
			    watch_group_root(p, i) != watch_group_root(p, j) &&
			    watch_sites_related(p, &w->sites[i], i,
						&w->sites[j], j))
				p->group[watch_group_root(p, i)] =
					watch_group_root(p, j);
	}
	for (i = 0; i < WATCH_SITES; i++)
		p->group[i] = watch_group_root(p, i);
}

/* May pass @pass match put site @i with get site @sg (@j)? */
static bool watch_pass_fits(int pass, const struct watch_pairing *p, int i,
			    const struct watch_site *sg, int j)
{
	switch (pass) {
	case W_PASS_SAME_FN:
		return !strcmp(p->fn[i], p->fn[j]);
	case W_PASS_FN:
		return p->group[i] == p->group[j];
	case W_PASS_SKB:
		return watch_skb_destructor(p->fn[i]) && strstr(p->fn[j], "skb");
	case W_PASS_SUBSYS_SAME_COUNT:
		return p->left[i] == p->left[j] &&
		       watch_same_subsys(p->fn[i], p->fn[j]);
	case W_PASS_CORE:
		return watch_site_core(sg);
	case W_PASS_SUBSYS:
		return watch_same_subsys(p->fn[i], p->fn[j]);
	default:
		return true;
	}
}

/*
 * Match each put site's count with gets, pass by pass (W_PASS_*, in the
 * order the comment at the top of this file gives its reasons for).
 */
static void watch_pair(struct sockleak_watch *w, struct watch_pairing *p)
{
	struct watch_site *sp, *sg;
	int i, j, pass;

	p->before = sockleak_watch_base(w);
	for (i = 0; i < WATCH_SITES; i++) {
		sp = &w->sites[i];
		/* Pairs with the release in watch_site(): the stack is written. */
		p->left[i] = smp_load_acquire(&sp->ready) ?
			     atomic_read(&sp->count) : 0;
		p->fn[i][0] = '\0';
		if (p->left[i] && sp->depth)
			sprint_symbol_no_offset(p->fn[i], sp->ent[0]);
	}
	watch_group(w, p);
	for (pass = 0; pass < W_PASSES; pass++) {
		for (i = 0; i < WATCH_SITES; i++) {
			sp = &w->sites[i];
			if (sp->op >= 0 || !p->left[i])
				continue;
			if (pass == W_PASS_BEFORE) {
				watch_match(&p->left[i], &p->before);
				continue;
			}
			for (j = 0; j < WATCH_SITES && p->left[i]; j++) {
				sg = &w->sites[j];
				if (sg->op <= 0 || !p->left[j] ||
				    !watch_pass_fits(pass, p, i, sg, j))
					continue;
				watch_match(&p->left[i], &p->left[j]);
			}
		}
	}
}

static void watch_show_stack(struct seq_file *m, const struct watch_site *s)
{
	sockleak_show_frames(m, "stack", s->ent, s->depth);
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
	int refcnt = atomic_read(&w->last) - sockleak_watch_own(w);
	int base = sockleak_watch_base(w);
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
		   w->proto_name, watch_origin_names[w->origin]);
	/* Armed by the probe that matched it: its code never ran unwatched. */
	if (w->csd)
		seq_putc(m, '0');
	else if (w->born_ns)
		seq_printf(m, "%llu", div_u64(w->armed_ns - w->born_ns,
					       NSEC_PER_USEC));
	else
		seq_putc(m, '-');
	seq_printf(m, " armed_by=%s cpus_after_us=", w->csd ? "probe" : "work");
	if (w->csd && READ_ONCE(w->all_ns))
		seq_printf(m, "%llu", div_u64(w->all_ns - w->armed_ns,
					       NSEC_PER_USEC));
	else
		seq_putc(m, '-');
	seq_printf(m, " refcnt=%d base=%d gets=%d puts=%d changes=%u kept=%u sites=%u sites_lost=%d folded=%d undecoded=%d unseen=%d cpus_late=%d armed_ms=%llu freed_ms=",
		   refcnt, base, gets, puts,
		   seq, min_t(unsigned int, seq, WATCH_RING), nsites,
		   atomic_read(&w->sites_lost), atomic_read(&w->folded),
		   atomic_read(&w->undecoded), READ_ONCE(w->unseen),
		   atomic_read(&w->cpus_late),
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
			   base, gets, puts, base + gets - puts,
			   base + gets - puts ? " (changes were lost)" :
			   ", the history balances");
		return;
	}
	seq_printf(m, "%d reference%s held", refcnt, refcnt == 1 ? "" : "s");
	if (p->before) {
		seq_printf(m, ": %d from before the watch", p->before);
		if (w->unseen)
			seq_printf(m, " (%d on another CPU before its watchpoint moved)",
				   w->unseen);
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

	mutex_lock(&sockleak_watch_mutex);
	w = sockleak_watch_lookup(cookie, &slot);
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
	mutex_unlock(&sockleak_watch_mutex);
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
		/* No symbol: never a raw kernel address in a report. */
		if (!strncmp(frame, "0x", 2))
			strscpy(frame, "?", sizeof(frame));
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
	struct watch_pairing *p;
	struct sockleak_watch *w;
	struct seq_file m;
	int slot, ret;

	p = kvmalloc(sizeof(*p), GFP_KERNEL);
	ret = sockleak_log_seq_init(&m, 64 * 1024);
	if (!p || ret) {
		sockleak_log_seq_free(&m);
		kvfree(p);
		return -ENOMEM;
	}
	mutex_lock(&sockleak_watch_mutex);
	w = sockleak_watch_lookup(cookie, &slot);
	if (w)
		watch_show_one(&m, w, p, ktime_get_ns());
	mutex_unlock(&sockleak_watch_mutex);
	if (w)
		sockleak_log_seq_print(&m, "refs");
	sockleak_log_seq_free(&m);
	kvfree(p);
	return w ? 0 : -ENOENT;
}

static int refs_show(struct seq_file *m, void *v)
{
	struct watch_pairing *p;
	u64 now = ktime_get_ns();
	int i;

	p = kvmalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	mutex_lock(&sockleak_watch_mutex);
	sockleak_watch_next_show(m);
	for (i = 0; i < WATCH_SLOTS; i++) {
		struct sockleak_watch *w = sockleak_watch_slots[i];
		int state;
		bool later;

		if (!w)
			continue;
		/* Pairs with sockleak_watch_claim()'s release. */
		state = smp_load_acquire(&w->state);
		/* Pairs with sockleak_watch_settle_claims()'s release. */
		later = smp_load_acquire(&w->cookie_later);
		/*
		 * Standbys (and a claim under way) are no socket's yet; a
		 * child armed at clone has no cookie of its own yet.
		 */
		if ((state == W_ARMED || state == W_FREED) && !later)
			watch_show_one(m, w, p, now);
	}
	mutex_unlock(&sockleak_watch_mutex);
	kvfree(p);
	return 0;
}

/* Printed from the watches as they are at the read: nothing to collect. */
static const struct sockleak_report refs_report = {
	.show	= refs_show,
	.size	= 64 * 1024,
};

void sockleak_refs_init(struct dentry *dir)
{
	sockleak_report_create("refs", dir, &refs_report);
}
