// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the "summary" debugfs file: socket counts and memory per
 * netns, and the protocols' global memory accounting set against what the
 * sockets seen by the walk hold.
 *
 * Everything is collected when the file is opened (one walk, see walk.c)
 * and kept until it is closed, so every read() of one open file sees the
 * same text whatever its size. Every line is space-separated key=value;
 * the first key is the scope: "netns=all" for global values,
 * "netns=<inum>" for one netns, and the second is "kind=":
 *
 *   netns=all kind=proto proto=tcp|udp
 *	memory_allocated	proto->memory_allocated, pages (sockstat mem)
 *	fw_alloc		sum of proto->per_cpu_fw_alloc, pages
 *	usage_pages		memory_allocated + fw_alloc, the global count
 *				not clamped at 0 as sockstat's (it is
 *				negative while a CPU's reserve holds more
 *				than the global count lacks)
 *	seen_pages		sum over sockets seen of
 *				DIV_ROUND_UP(fwd + queued + rmem, PAGE_SIZE)
 *	unexplained_pages	usage_pages - seen_pages - unhashed_pages
 *				(TCP: - mptcp_pages + the subflows' pages in
 *				seen_pages): memory of sockets neither the
 *				walk nor the last owner scan can see (leaked,
 *				no fd)
 *	moved_pages		how much usage_pages differs after the walk
 *				from before it. The file is collected again,
 *				up to three times in all (tries), until no
 *				protocol's usage moved. A heuristic: usage
 *				that rose and fell back during the walk is
 *				not seen, and then unexplained_pages is off
 *				by what sockets charged or released between
 *				their reads
 *	sockets_allocated	percpu sum of proto->sockets_allocated (TCP
 *				only, "-" for UDP), sockstat alloc
 *	sockets_seen		full sockets seen, all netns
 *	orphans			sum of per-CPU proto->orphan_count (TCP
 *				only), sockstat orphan; "-" where no
 *				module can read it (6.18 and later, see
 *				sockleak_proto_orphan_count())
 *	orphans_seen		SOCK_DEAD full sockets seen
 *	pressure		1 when the protocol is under memory pressure
 *	mem_min mem_pressure mem_max	proto->sysctl_mem (tcp_mem, udp_mem)
 *	unhashed_seen		live sockets no hash table holds, from the
 *				extra sources (sources.h): the last owner
 *				scan (sockets behind an fd) and, while
 *				tracking, the track table
 *	unhashed_pages		their pages, as seen_pages
 *	listeners		listening sockets among sockets_seen
 *	orphan_pages		pages of the orphans_seen, in seen_pages
 *	tw req			TIME-WAIT and request sockets seen (no pages)
 *	closed_not_freed	unhashed_seen that are closed (SOCK_DEAD)
 *	closed_not_freed_pages	their pages, in unhashed_pages
 *	never never_pages	sockets nothing will free (verdict=never,
 *				classify.c), hashed or not, and their pages
 *	The pages add up: usage_pages = seen_pages (orphan_pages
 *	included) + unhashed_pages (closed_not_freed_pages included) +
 *	the MPTCP correction + unexplained_pages.
 *	udplite udplite_pages	UDP only: the UDP-Lite sockets among those
 *				seen (hashed or not) and their pages, in
 *				the sums above (UDP-Lite charges UDP's
 *				memory_allocated)
 *	mptcp_pages		TCP only: pages of the MPTCP connections
 *				seen: their sockets (msks, hashed or not,
 *				and TCP subflows) summed in bytes, then
 *				rounded (sockleak_snap_mptcp_conn());
 *				mptcp_prot charges TCP's memory_allocated
 *				and fw_alloc
 *   netns=all kind=track track=on|off entries max_entries unknown_origin
 *	stacks overflow stack_overflow missed max_stacks table_bytes
 *	stack_bytes tcp_closed_not_freed tcp_closed_not_freed_bytes
 *	udp_closed_not_freed ...: the track table (track_table.c);
 *	table_bytes is what its table took at track=on (entries, stack
 *	store, buckets), stack_bytes the stack store's part of it. closed_not_freed counts the unhashed orphans
 *	(SOCK_DEAD) still allocated, bytes their rmem + queued + fwd.
 *	holds_lost: references sockleak took without counting them since
 *	load (holds.c: a full bucket); until sockleak holds that socket no
 *	more, its refcnt reads one high.
 *   netns=all kind=states proto=P <STATE>=n ...   all netns together; P is
 *	tcp, udp (UDP-Lite included) or mptcp (the msks)
 *   netns=all kind=mem proto=P ...                all netns together
 *   netns=all kind=family family=F proto=P live= closed_not_freed= never=
 *	bytes=: the sockets of every other protocol (unix, netlink, packet,
 *	vsock, raw, ...) that the track table holds, so those allocated
 *	since track=on: live ones, closed (SOCK_DEAD) ones, verdict never,
 *	and rmem + wmem + queued + fwd. family=- counts those past its rows.
 *   netns=<inum> kind=sockstat tcp_inuse tcp_orphan tcp_tw tcp_alloc tcp_mem
 *	udp_inuse udp_mem tcp6_inuse: /proc/net/sockstat (and sockstat6's
 *	TCP6 inuse) as read in that netns; tcp_orphan, tcp_alloc, tcp_mem
 *	and udp_mem are global values that sockstat also prints in every
 *	netns. UDP6 inuse is missing: udpv6_prot is not exported.
 *	tcp_orphan is "-" where orphans is.
 *   netns=<inum> kind=states proto=P <STATE>=n ...  sockets per ss state
 *	(TIME_WAIT sockets count under their substate, as ss shows them)
 *   netns=<inum> kind=mem proto=P full= inet= inet6= tw= req= orphans=
 *	rmem= wmem= queued= fwd= pages= unhashed= unhashed_pages=: sockets
 *	seen in the hash tables and the sums of their
 *	sk_rmem_alloc, sk_wmem_alloc (less its bias of 1), sk_wmem_queued,
 *	sk_forward_alloc and pages. inet/inet6 count full sockets per
 *	family and compare with sockstat's inuse. unhashed counts the extra
 *	sockets (not in the other sums), unhashed_pages their pages.
 *   netns=<inum> kind=mib TcpExt...=n Udp...=n: counters of that netns, as
 *	nstat names them.
 *
 * Sockets of a netns that was already dying when the file was opened get
 * only kind=states and kind=mem lines.
 *
 * Locking rules: the file is collected at open (report.c) with no lock of
 * sockleak's held: net_rwsem for reading, only while it pins every live
 * netns (maybe_get_net()); the sockets come from the walk and the extra
 * sources, each with its own rules; counters are read without locks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/percpu.h>
#include <linux/percpu_counter.h>
#include <linux/rtnetlink.h>
#include <linux/rwsem.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>
#include <net/udp.h>

#include "classify.h"
#include "compat.h"
#include "family.h"
#include "holds.h"
#include "proto.h"
#include "report.h"
#include "reports.h"
#include "snapshot.h"
#include "track.h"

/* The protocols with their own memory accounting come first. */
enum {
	SUM_TCP = SOCKLEAK_LINE_TCP,
	SUM_UDP = SOCKLEAK_LINE_UDP,
	SUM_NACCT = SOCKLEAK_LINES_ACCT,
	SUM_MPTCP = SOCKLEAK_LINE_MPTCP,
	SUM_NPROTO = SOCKLEAK_NLINES,
};

static const char * const sum_proto_names[SUM_NPROTO] = {
	"tcp", "udp", "mptcp"
};

static struct proto *const sum_protos[SUM_NACCT] = { &tcp_prot, &udp_prot };

/* ss states in ss's order (its sstate_name[] table). */
static const u8 sum_states[] = {
	TCP_ESTABLISHED, TCP_SYN_SENT, TCP_SYN_RECV, TCP_FIN_WAIT1,
	TCP_FIN_WAIT2, TCP_TIME_WAIT, TCP_CLOSE, TCP_CLOSE_WAIT,
	TCP_LAST_ACK, TCP_LISTEN, TCP_CLOSING,
};

struct sum_mib {
	const char *name;
	int field;
};

static const struct sum_mib sum_tcpext[] = {
	{ "TcpExtTCPAbortOnMemory", LINUX_MIB_TCPABORTONMEMORY },
	{ "TcpExtTCPMemoryPressures", LINUX_MIB_TCPMEMORYPRESSURES },
	{ "TcpExtTCPMemoryPressuresChrono", LINUX_MIB_TCPMEMORYPRESSURESCHRONO },
	{ "TcpExtTCPAbortOnClose", LINUX_MIB_TCPABORTONCLOSE },
	{ "TcpExtTCPAbortOnData", LINUX_MIB_TCPABORTONDATA },
	{ "TcpExtTCPAbortOnTimeout", LINUX_MIB_TCPABORTONTIMEOUT },
	{ "TcpExtTCPAbortOnLinger", LINUX_MIB_TCPABORTONLINGER },
	{ "TcpExtTCPAbortFailed", LINUX_MIB_TCPABORTFAILED },
	{ "TcpExtPruneCalled", LINUX_MIB_PRUNECALLED },
	{ "TcpExtRcvPruned", LINUX_MIB_RCVPRUNED },
	{ "TcpExtOfoPruned", LINUX_MIB_OFOPRUNED },
	{ "TcpExtTCPRcvQDrop", LINUX_MIB_TCPRCVQDROP },
	{ "TcpExtTCPBacklogDrop", LINUX_MIB_TCPBACKLOGDROP },
	{ "TcpExtTCPOFODrop", LINUX_MIB_TCPOFODROP },
	{ "TcpExtTW", LINUX_MIB_TIMEWAITED },
	{ "TcpExtTWKilled", LINUX_MIB_TIMEWAITKILLED },
	{ "TcpExtTCPTimeWaitOverflow", LINUX_MIB_TCPTIMEWAITOVERFLOW },
};

static const struct sum_mib sum_udp[] = {
	{ "UdpRcvbufErrors", UDP_MIB_RCVBUFERRORS },
	{ "UdpSndbufErrors", UDP_MIB_SNDBUFERRORS },
	{ "UdpMemErrors", UDP_MIB_MEMERRORS },
};

/* What the walk saw of one protocol. */
struct sum_seen {
	unsigned long unhashed, unhashed_pages;	/* extra sockets (sources.h) */
	unsigned long unhashed_dead;		/* of those, closed (SOCK_DEAD) */
	unsigned long unhashed_dead_pages;
	s64 unhashed_dead_bytes;		/* their rmem + queued + fwd */
	unsigned long listeners, orphan_pages;	/* hashed full sockets */
	unsigned long never, never_pages;	/* verdict never, any table */
	unsigned long states[TCP_MAX_STATES];
	unsigned long full, inet, inet6, tw, req, dead, pages;
	s64 rmem, wmem, queued, fwd;
};

struct sum_ns {
	unsigned int inum;
	bool has_net;		/* the values below were read */
	struct net *net;	/* pinned during collection only */
	struct sum_seen seen[SUM_NPROTO];
	int tcp_inuse, tcp6_inuse, udp_inuse, tcp_tw;
	unsigned long tcpext[ARRAY_SIZE(sum_tcpext)];
	unsigned long udp[ARRAY_SIZE(sum_udp)];
};

struct sum_global {
	long global;		/* memory_allocated, negative too */
	long fw_alloc;
	long moved;		/* usage's change during the walk, pages */
	long mem[3];
	int sockets_allocated;	/* -1: not tracked */
	int orphans;		/* -1: not tracked */
	bool pressure;
};

/*
 * The census of the other protocols' sockets (not TCP, UDP, UDP-Lite or
 * MPTCP): the track table's, since track=on, per family and protocol.
 */
#define SUM_FAMILY_ROWS	32

struct sum_family {
	u8 family;
	char proto[SOCKLEAK_PROTO_NAME_LEN];
	unsigned long live, closed_not_freed, never;
	s64 bytes;
};

struct summary {
	struct sum_family fam[SUM_FAMILY_ROWS];
	unsigned int nfam;
	unsigned long fam_lost;	/* sockets of protocols past the rows */
	struct xarray nets;	/* inum -> struct sum_ns */
	long mptcp_bytes;	/* MPTCP connections (snapshot.h), all netns */
	unsigned long udplite, udplite_pages;	/* in total[UDP] too */
	unsigned long subflow_pages;	/* subflows' own, in total[TCP] */
	struct sum_seen total[SUM_NPROTO];
	struct sockleak_track_stats track;
	unsigned long missed;		/* probe hits lost (track_probes.c) */
	struct sum_global global[SUM_NACCT];
	int tries;		/* collections until the usage held still */
};

static struct sum_ns *sum_ns_get(struct summary *sum, unsigned int inum)
{
	struct sum_ns *ns = xa_load(&sum->nets, inum);

	if (ns)
		return ns;
	ns = kzalloc(sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return NULL;
	ns->inum = inum;
	if (xa_err(xa_store(&sum->nets, inum, ns, GFP_KERNEL))) {
		kfree(ns);
		return NULL;
	}
	return ns;
}

static void sum_account(struct sum_seen *seen, const struct sockleak_snap *s)
{
	unsigned long pages = sockleak_snap_pages(s);

	if (s->verdict == SOCKLEAK_V_NEVER) {
		seen->never++;
		seen->never_pages += pages;
	}
	if (!s->hashed) {
		seen->unhashed++;
		seen->unhashed_pages += pages;
		if (sockleak_closed_not_freed(s)) {
			seen->unhashed_dead++;
			seen->unhashed_dead_pages += pages;
			seen->unhashed_dead_bytes += max(s->rmem, 0) +
				max(s->queued, 0) + max(s->fwd, 0);
		}
		return;
	}
	if (s->state < TCP_MAX_STATES)
		seen->states[s->state]++;
	if (s->kind == SOCKLEAK_SK_TW) {
		seen->tw++;
		return;
	}
	if (s->kind == SOCKLEAK_SK_REQ) {
		seen->req++;
		return;
	}
	seen->full++;
	if (s->family == AF_INET)
		seen->inet++;
	else
		seen->inet6++;
	seen->dead += s->dead;
	if (s->dead)
		seen->orphan_pages += pages;
	seen->listeners += s->state == TCP_LISTEN;
	seen->rmem += s->rmem;
	seen->wmem += s->wmem;
	seen->queued += s->queued;
	seen->fwd += s->fwd;
	seen->pages += pages;
}

/* Pin every live netns, so that each gets its lines even without sockets. */
static int sum_collect_nets(struct summary *sum)
{
	struct sum_ns *ns;
	struct net *net;
	int ret = 0;

	down_read(&net_rwsem);
	for_each_net(net) {
		if (!maybe_get_net(net))
			continue;
		ns = sum_ns_get(sum, net->ns.inum);
		if (!ns) {
			put_net(net);
			ret = -ENOMEM;
			break;
		}
		ns->net = net;
	}
	up_read(&net_rwsem);
	return ret;
}

/* A socket of another protocol into the census. */
static int sum_family(struct summary *sum, const struct sockleak_snap *s)
{
	struct sum_family *f = NULL;
	unsigned int i;

	for (i = 0; i < sum->nfam; i++)
		if (sum->fam[i].family == s->family &&
		    !strcmp(sum->fam[i].proto, s->proto_name))
			f = &sum->fam[i];
	if (!f) {
		if (sum->nfam == SUM_FAMILY_ROWS) {
			sum->fam_lost++;
			return 0;
		}
		f = &sum->fam[sum->nfam++];
		f->family = s->family;
		strscpy(f->proto, s->proto_name, sizeof(f->proto));
	}
	f->live++;
	if (s->dead)
		f->closed_not_freed++;
	if (s->verdict == SOCKLEAK_V_NEVER)
		f->never++;
	f->bytes += sockleak_snap_held(s);
	return 0;
}

static int sum_socket(void *arg, const struct sockleak_snap *s)
{
	struct summary *sum = arg;
	const struct sockleak_proto_ops *ops = sockleak_proto(s->proto);
	struct sum_ns *ns;
	int p;

	/* Other protocols: the family census (tracked sockets only). */
	if (!ops)
		return sum_family(sum, s);
	p = ops->line;
	sum_account(&sum->total[p], s);
	if (s->proto == IPPROTO_UDPLITE && s->kind == SOCKLEAK_SK_FULL) {
		sum->udplite++;
		sum->udplite_pages += sockleak_snap_pages(s);
	}
	if (sockleak_snap_mptcp_conn(s)) {
		sum->mptcp_bytes += sockleak_snap_bytes(s);
		if (s->subflow)
			sum->subflow_pages += sockleak_snap_pages(s);
	}
	ns = sum_ns_get(sum, s->netns);
	if (!ns)
		return -ENOMEM;
	sum_account(&ns->seen[p], s);
	return 0;
}

static int sum_walk(struct summary *sum)
{
	return sockleak_snapshot_all(SOCKLEAK_SNAP_BRIEF, sum_socket, sum);
}

/* Read the netns' own counters, then release it. */
static void sum_read_net(struct sum_ns *ns)
{
	struct net *net = ns->net;
	int i;

	if (!net)
		return;
	ns->tcp_inuse = sock_prot_inuse_get(net, &tcp_prot);
#if IS_ENABLED(CONFIG_IPV6)
	ns->tcp6_inuse = sock_prot_inuse_get(net, &tcpv6_prot);
#endif
	ns->udp_inuse = sock_prot_inuse_get(net, &udp_prot);
	ns->tcp_tw = refcount_read(&net->ipv4.tcp_death_row.tw_refcount) - 1;
	for (i = 0; i < ARRAY_SIZE(sum_tcpext); i++)
		ns->tcpext[i] = sockleak_snmp_fold(net->mib.net_statistics,
						   sum_tcpext[i].field);
	for (i = 0; i < ARRAY_SIZE(sum_udp); i++)
		ns->udp[i] = sockleak_snmp_fold(net->mib.udp_statistics,
						sum_udp[i].field);
	ns->has_net = true;
	ns->net = NULL;
	put_net(net);
}

/*
 * The protocol's usage, pages: its global count and the per-CPU reserves.
 * The global count is not clamped at 0 as sockstat's is
 * (proto_memory_allocated()): the reserves hold what it lacks. One CPU's
 * charges cached in its reserve while another CPU drains its releases
 * into the global count make it negative.
 */
static void sum_read_usage(struct sum_global *g, struct proto *prot)
{
	long fw = 0;
	int cpu;

	g->global = atomic_long_read(prot->memory_allocated);
	if (prot->per_cpu_fw_alloc)
		for_each_possible_cpu(cpu)
			fw += *per_cpu_ptr(prot->per_cpu_fw_alloc, cpu);
	g->fw_alloc = fw;
}

/* sockstat's mem: the global count, clamped at 0. */
static long sum_memory_allocated(const struct sum_global *g)
{
	return max(g->global, 0L);
}

static void sum_read_proto(struct sum_global *g, struct proto *prot)
{
	unsigned int __percpu *orphan_count = sockleak_proto_orphan_count(prot);
	int cpu, orphans = 0;

	sum_read_usage(g, prot);
	g->sockets_allocated = prot->sockets_allocated ?
		percpu_counter_sum_positive(prot->sockets_allocated) : -1;
	if (orphan_count) {
		for_each_possible_cpu(cpu)
			orphans += *per_cpu_ptr(orphan_count, cpu);
		g->orphans = max(orphans, 0);
	} else {
		g->orphans = -1;
	}
	g->pressure = proto_memory_pressure(prot);
	if (prot->sysctl_mem) {
		g->mem[0] = READ_ONCE(prot->sysctl_mem[0]);
		g->mem[1] = READ_ONCE(prot->sysctl_mem[1]);
		g->mem[2] = READ_ONCE(prot->sysctl_mem[2]);
	}
}

static void sum_free(void *data)
{
	struct summary *sum = data;
	struct sum_ns *ns;
	unsigned long idx;

	xa_for_each(&sum->nets, idx, ns) {
		if (ns->net)
			put_net(ns->net);
		kfree(ns);
	}
	xa_destroy(&sum->nets);
	kfree(sum);
}

/* The protocol's usage now (sum_read_usage()), pages. */
static long sum_usage(struct proto *prot)
{
	struct sum_global g;

	sum_read_usage(&g, prot);
	return g.global + g.fw_alloc;
}

static struct summary *sum_collect_once(void)
{
	long before[SUM_NACCT];
	struct summary *sum;
	struct sum_ns *ns;
	unsigned long idx;
	int p, ret;

	sum = kzalloc(sizeof(*sum), GFP_KERNEL);
	if (!sum)
		return ERR_PTR(-ENOMEM);
	xa_init(&sum->nets);

	for (p = 0; p < SUM_NACCT; p++)
		before[p] = sum_usage(sum_protos[p]);
	ret = sum_collect_nets(sum);
	if (!ret)
		ret = sum_walk(sum);
	sockleak_track_stats(&sum->track);
	sum->missed = sockleak_track_probes_missed();
	if (ret) {
		sum_free(sum);
		return ERR_PTR(ret);
	}
	xa_for_each(&sum->nets, idx, ns)
		sum_read_net(ns);
	for (p = 0; p < SUM_NACCT; p++) {
		struct sum_global *g = &sum->global[p];

		sum_read_proto(g, sum_protos[p]);
		g->moved = abs(g->global + g->fw_alloc - before[p]);
	}
	return sum;
}

/*
 * The sockets' pages are summed over a walk, the protocols' usage is read
 * once: a socket whose memory grew or shrank meanwhile makes the
 * difference (unexplained_pages) wrong by as much, either way. Collected
 * again, up to SUM_TRIES times, until the usage is the same after the
 * walk as before it; otherwise moved_pages says by how much it differed.
 * On a busy host the per-CPU reserves move all the time: three walks.
 */
#define SUM_TRIES	3

static void *sum_collect(void)
{
	struct summary *sum;
	int try, p;
	bool moved;

	for (try = 1; ; try++) {
		sum = sum_collect_once();
		if (IS_ERR(sum))
			return sum;
		for (p = 0, moved = false; p < SUM_NACCT; p++)
			moved |= sum->global[p].moved != 0;
		if (!moved || try == SUM_TRIES)
			break;
		sum_free(sum);
		cond_resched();
	}
	sum->tries = try;
	return sum;
}

static void sum_show_opt(struct seq_file *m, const char *key, long val)
{
	if (val < 0)
		seq_printf(m, " %s=-", key);
	else
		seq_printf(m, " %s=%ld", key, val);
}

static void sum_show_seen(struct seq_file *m, const char *scope,
			  const struct sum_seen *seen, int p)
{
	int i;

	seq_printf(m, "netns=%s kind=states proto=%s", scope, sum_proto_names[p]);
	for (i = 0; i < ARRAY_SIZE(sum_states); i++)
		seq_printf(m, " %s=%lu", sockleak_state_name(sum_states[i]),
			   seen->states[sum_states[i]]);
	seq_putc(m, '\n');
	seq_printf(m, "netns=%s kind=mem proto=%s full=%lu inet=%lu inet6=%lu tw=%lu req=%lu orphans=%lu rmem=%lld wmem=%lld queued=%lld fwd=%lld pages=%lu unhashed=%lu unhashed_pages=%lu\n",
		   scope, sum_proto_names[p], seen->full, seen->inet,
		   seen->inet6, seen->tw, seen->req, seen->dead, seen->rmem,
		   seen->wmem, seen->queued, seen->fwd, seen->pages,
		   seen->unhashed, seen->unhashed_pages);
}

static int summary_show(struct seq_file *m, void *v)
{
	struct summary *sum = m->private;
	const struct sum_global *tcp = &sum->global[SUM_TCP];
	const struct sum_global *udp = &sum->global[SUM_UDP];
	char scope[16];
	struct sum_ns *ns;
	unsigned long idx;
	int p, i;

	for (p = 0; p < SUM_NACCT; p++) {
		const struct sum_global *g = &sum->global[p];
		const struct sum_seen *seen = &sum->total[p];
		long usage = g->global + g->fw_alloc;
		long others = 0;

		/*
		 * MPTCP sockets charge TCP's counters; their connections' pages
		 * replace the subflows' own.
		 */
		if (p == SUM_TCP)
			others = DIV_ROUND_UP(sum->mptcp_bytes, PAGE_SIZE) -
				 (long)sum->subflow_pages;
		seq_printf(m, "netns=all kind=proto proto=%s memory_allocated=%ld fw_alloc=%ld usage_pages=%ld seen_pages=%lu unexplained_pages=%ld",
			   sum_proto_names[p], sum_memory_allocated(g),
			   g->fw_alloc, usage, seen->pages,
			   usage - (long)seen->pages -
			   (long)seen->unhashed_pages - others);
		seq_printf(m, " moved_pages=%ld tries=%d", g->moved, sum->tries);
		sum_show_opt(m, "sockets_allocated", g->sockets_allocated);
		seq_printf(m, " sockets_seen=%lu", seen->full);
		sum_show_opt(m, "orphans", g->orphans);
		seq_printf(m, " orphans_seen=%lu pressure=%d mem_min=%ld mem_pressure=%ld mem_max=%ld unhashed_seen=%lu unhashed_pages=%lu",
			   seen->dead, g->pressure, g->mem[0], g->mem[1],
			   g->mem[2], seen->unhashed, seen->unhashed_pages);
		seq_printf(m, " listeners=%lu orphan_pages=%lu tw=%lu req=%lu closed_not_freed=%lu closed_not_freed_pages=%lu never=%lu never_pages=%lu",
			   seen->listeners, seen->orphan_pages, seen->tw,
			   seen->req, seen->unhashed_dead,
			   seen->unhashed_dead_pages, seen->never,
			   seen->never_pages);
		if (p == SUM_TCP)
			seq_printf(m, " mptcp_pages=%ld",
				   DIV_ROUND_UP(sum->mptcp_bytes, PAGE_SIZE));
		else
			seq_printf(m, " udplite=%lu udplite_pages=%lu",
				   sum->udplite, sum->udplite_pages);
		seq_putc(m, '\n');
	}
	seq_printf(m, "netns=all kind=track track=%s entries=%lu max_entries=%lu unknown_origin=%lu stacks=%lu overflow=%lu stack_overflow=%lu missed=%lu",
		   sum->track.on ? "on" : "off", sum->track.entries,
		   sum->track.max_entries, sum->track.unknown_origin,
		   sum->track.stacks, sum->track.overflow, sum->track.stack_overflow,
		   sum->missed);
	seq_printf(m, " max_stacks=%lu table_bytes=%zu stack_bytes=%zu holds_lost=%ld",
		   sum->track.max_stacks, sum->track.bytes, sum->track.stack_bytes,
		   sockleak_holds_lost());
	for (p = 0; p < SUM_NPROTO; p++)
		seq_printf(m, " %s_closed_not_freed=%lu %s_closed_not_freed_bytes=%lld",
			   sum_proto_names[p], sum->total[p].unhashed_dead,
			   sum_proto_names[p], sum->total[p].unhashed_dead_bytes);
	seq_putc(m, '\n');
	for (p = 0; p < SUM_NPROTO; p++)
		sum_show_seen(m, "all", &sum->total[p], p);
	for (i = 0; i < sum->nfam; i++) {
		const struct sum_family *f = &sum->fam[i];
		char fam[8];

		seq_printf(m, "netns=all kind=family family=%s proto=%s live=%lu closed_not_freed=%lu never=%lu bytes=%lld\n",
			   sockleak_family_name(f->family, fam, sizeof(fam)),
			   f->proto, f->live, f->closed_not_freed, f->never,
			   f->bytes);
	}
	if (sum->fam_lost)
		seq_printf(m, "netns=all kind=family family=- proto=- live=%lu\n",
			   sum->fam_lost);

	xa_for_each(&sum->nets, idx, ns) {
		snprintf(scope, sizeof(scope), "%u", ns->inum);
		if (ns->has_net) {
			seq_printf(m, "netns=%s kind=sockstat tcp_inuse=%d",
				   scope, ns->tcp_inuse);
			sum_show_opt(m, "tcp_orphan", tcp->orphans);
			seq_printf(m, " tcp_tw=%d tcp_alloc=%d tcp_mem=%ld udp_inuse=%d udp_mem=%ld tcp6_inuse=%d\n",
				   ns->tcp_tw, max(tcp->sockets_allocated, 0),
				   sum_memory_allocated(tcp), ns->udp_inuse,
				   sum_memory_allocated(udp), ns->tcp6_inuse);
		}
		for (p = 0; p < SUM_NPROTO; p++)
			sum_show_seen(m, scope, &ns->seen[p], p);
		if (!ns->has_net)
			continue;
		seq_printf(m, "netns=%s kind=mib", scope);
		for (i = 0; i < ARRAY_SIZE(sum_tcpext); i++)
			seq_printf(m, " %s=%lu", sum_tcpext[i].name, ns->tcpext[i]);
		for (i = 0; i < ARRAY_SIZE(sum_udp); i++)
			seq_printf(m, " %s=%lu", sum_udp[i].name, ns->udp[i]);
		seq_putc(m, '\n');
	}
	return 0;
}

static const struct sockleak_report summary_report = {
	.collect	= sum_collect,
	.show		= summary_show,
	.release	= sum_free,
	.size		= 4 * PAGE_SIZE,
};

void sockleak_summary_init(struct dentry *dir)
{
	sockleak_report_create("summary", dir, &summary_report);
}
