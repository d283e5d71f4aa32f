// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - copy the values of one socket into a struct sockleak_snap and
 * print it as one line of key=value fields; hand the snapshot of every
 * socket of the reports to a report (sockleak_snapshot_all(): the hash
 * walk of walk.c, then the extra sockets).
 *
 * Locking rules: the socket is referenced by the walk and no lock is
 * held: fields are read with READ_ONCE() or the kernel's lockless
 * helpers (racy but safe, as /proc/net/tcp and inet_diag read them).
 * sk_callback_lock is taken, briefly, to follow sk->sk_socket to its
 * inode and file, as sock_i_ino() and sock_i_uid() do. The family and
 * protocol hooks and unix.c's in-flight lookup take locks of their own:
 * unix.c's peer lookup (a closed unix socket) reads the track table in
 * its SRCU read section and under a stripe lock; the in-flight lookup
 * takes if_lock; mptcp.c takes the subflow's socket lock
 * (lock_sock_fast(), in the ULP's get_info()), full snapshots only.
 * TIME_WAIT and request sockets only have struct sock_common: nothing
 * beyond it is read from them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/netdevice.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/skmsg.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/inet_connection_sock.h>
#include <net/inet_timewait_sock.h>
#include <net/ipv6.h>
#include <net/request_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "classify.h"
#include "compat.h"
#include "family.h"
#include "holds.h"
#include "linebuf.h"
#include "memcg.h"
#include "owners.h"
#include "proto.h"
#include "snapshot.h"
#include "sockleak.h"
#include "sources.h"
#include "walk.h"

static const char * const locks_names[] = {
	[0]					= "-",
	[SOCK_RCVBUF_LOCK]			= "rcv",
	[SOCK_SNDBUF_LOCK]			= "snd",
	[SOCK_RCVBUF_LOCK | SOCK_SNDBUF_LOCK]	= "rcv,snd",
};

/* The state inet_diag reports, as ss prints it. */
static u8 snap_state(const struct sock *sk)
{
	u8 state = READ_ONCE(sk->sk_state);

	if (state == TCP_TIME_WAIT)
		return READ_ONCE(inet_twsk(sk)->tw_substate);
	if (state == TCP_NEW_SYN_RECV)
		return TCP_SYN_RECV;
	return state;
}

/* The sock_common part: valid for full, TIME_WAIT and request sockets. */
static void snap_common(const struct sockleak_ref *r, struct sockleak_snap *s)
{
	struct sock *sk = r->sk;

	s->cookie = sockleak_sk_cookie(sk);
	s->netns = r->netns_ino;
	s->proto = r->proto;
	s->family = sk->sk_family;
	sockleak_sk_proto_name(sk, r->proto, s->proto_name,
			       sizeof(s->proto_name));
	/* Without sockleak's references: this one, another reader's. */
	s->refcnt = sockleak_hold_refcnt(sk);
	/* Addresses, ports and TCP's states: inet sockets' only. */
	if (!sockleak_inet_family(s->family)) {
		s->state = sockleak_family_tcp_states(s->family) ?
			   READ_ONCE(sk->sk_state) : SOCKLEAK_STATE_NONE;
		return;
	}
	s->state = snap_state(sk);
	s->sport = sk->sk_num;
	s->dport = ntohs(sk->sk_dport);
#if IS_ENABLED(CONFIG_IPV6)
	if (s->family == AF_INET6) {
		s->src = sk->sk_v6_rcv_saddr;
		s->dst = sk->sk_v6_daddr;
	} else
#endif
	{
		s->src.s6_addr32[0] = sk->sk_rcv_saddr;
		s->dst.s6_addr32[0] = sk->sk_daddr;
	}
}

/* Name of the bound device in the socket's netns, as ss prints it. */
static void snap_ifname(const struct sockleak_ref *r, struct sockleak_snap *s)
{
	int ifindex = READ_ONCE(r->sk->sk_bound_dev_if);
	struct net_device *dev;

	if (!ifindex)
		return;
	if (r->net) {
		rcu_read_lock();
		dev = dev_get_by_index_rcu(r->net, ifindex);
		if (dev)
			strscpy(s->ifname, dev->name, sizeof(s->ifname));
		rcu_read_unlock();
	}
	if (!s->ifname[0])
		snprintf(s->ifname, sizeof(s->ifname), "if%d", ifindex);
}

/* sock_i_ino(), sock_i_uid() and the socket file's count, in one go. */
static void snap_owner(struct sock *sk, struct sockleak_snap *s)
{
	kuid_t uid = GLOBAL_ROOT_UID;
	struct socket *sock;

	read_lock_bh(&sk->sk_callback_lock);
	sock = sk->sk_socket;
	if (sock) {
		s->ino = SOCK_INODE(sock)->i_ino;
		uid = SOCK_INODE(sock)->i_uid;
		if (sock->file)
			s->filerefs = file_count(sock->file);
	}
	read_unlock_bh(&sk->sk_callback_lock);
	s->uid = from_kuid_munged(&init_user_ns, uid);
}

/*
 * Owned by a sockmap/sockhash: the psock replaces sk_prot with a tcp_bpf or
 * udp_bpf proto. sk_prot_creator keeps the original proto for every
 * protocol (udpv6_prot is not exported); a TCP ULP such as kTLS also
 * replaces sk_prot, so a ULP socket counts only when it has a psock.
 * IPV6_ADDRFORM turns an IPv6 socket into an IPv4 one by setting sk_prot
 * to tcp_prot or udp_prot: not a bpf holder either.
 */
static u8 snap_bpf(struct sock *sk)
{
	const struct proto *prot = READ_ONCE(sk->sk_prot);
	bool held;

	rcu_read_lock();
	held = sk_psock(sk);
	rcu_read_unlock();
	if (held)
		return 1;
	if (prot == sk->sk_prot_creator || prot == &tcp_prot ||
	    prot == &udp_prot)
		return 0;
	if (sk->sk_protocol == IPPROTO_TCP && inet_csk(sk)->icsk_ulp_ops)
		return 0;
	return 1;
}

/* Milliseconds until @expires (jiffies), 0 when already due. */
s64 sockleak_snap_left_ms(unsigned long expires)
{
	long left = (long)(expires - jiffies);

	return left > 0 ? jiffies_to_msecs(left) : 0;
}

/*
 * The timer pending on a full TCP socket, as ss -o reports it, and when it
 * fires. The keepalive timer is also TCP's FIN-WAIT-2 timer, and the one
 * an MPTCP socket (not a tcp_sock) closes on (mptcp_tout_timer shares its
 * storage, sk_timer before that): only that one is read for MPTCP.
 */
static void snap_timer(struct sock *sk, struct sockleak_snap *s)
{
	struct timer_list *ka = sockleak_tcp_keepalive_timer(sk);
	u8 pending = 0;

	if (s->proto == IPPROTO_TCP)
		pending = READ_ONCE(inet_csk(sk)->icsk_pending);
	if (pending == ICSK_TIME_RETRANS ||
	    pending == ICSK_TIME_REO_TIMEOUT ||
	    pending == ICSK_TIME_LOSS_PROBE)
		s->timer = SOCKLEAK_TIMER_RETRANS;
	else if (pending == ICSK_TIME_PROBE0)
		s->timer = SOCKLEAK_TIMER_PROBE;
	if (s->timer) {
		s->timer_left_ms =
			sockleak_snap_left_ms(sockleak_tcp_timeout_expires(sk));
	} else if (timer_pending(ka)) {
		s->timer = SOCKLEAK_TIMER_KEEPALIVE;
		s->timer_left_ms = sockleak_snap_left_ms(READ_ONCE(ka->expires));
	}
}

/* TIME-WAIT and request sockets: the timer that ends them. */
static void snap_mini_timer(struct sock *sk, struct sockleak_snap *s)
{
	struct timer_list *t;

	if (s->kind == SOCKLEAK_SK_TW) {
		t = &inet_twsk(sk)->tw_timer;
		s->timer = SOCKLEAK_TIMER_TIMEWAIT;
	} else {
		t = &inet_reqsk(sk)->rsk_timer;
		s->timer = SOCKLEAK_TIMER_SYNACK;
	}
	if (timer_pending(t))
		s->timer_left_ms = sockleak_snap_left_ms(READ_ONCE(t->expires));
}

/* FIN-WAIT-2 timeout in ms: the tunable, else the netns' sysctl. */
static u32 snap_fin_wait2_ms(const struct sockleak_ref *r)
{
	unsigned int ms = sockleak_tunable(fin_wait2_ms);

	if (ms)
		return ms;
	if (r->net)
		return jiffies_to_msecs(READ_ONCE(r->net->ipv4.sysctl_tcp_fin_timeout));
	return jiffies_to_msecs(TCP_FIN_TIMEOUT);
}

static void snap_tcp(const struct sockleak_ref *r, struct sockleak_snap *s)
{
	struct sock *sk = r->sk;
	struct tcp_sock *tp = tcp_sk(sk);
	u32 now = tcp_jiffies32, unread, copied;
	bool synced;

	s->unacked = READ_ONCE(tp->snd_nxt) - READ_ONCE(tp->snd_una);
	s->retrans = READ_ONCE(tp->retrans_out);
	s->total_retrans = READ_ONCE(tp->total_retrans);
	s->rcv_wnd = READ_ONCE(tp->rcv_wnd);
	s->snd_wnd = READ_ONCE(tp->snd_wnd);
	s->rcv_ssthresh = READ_ONCE(tp->rcv_ssthresh);
	s->rcv_space = sockleak_tcp_rcv_space(tp);
	/* A listener neither receives nor sends data: report 0. */
	if (s->state != TCP_LISTEN) {
		s->rcv_idle_ms = jiffies_to_msecs(now -
				READ_ONCE(inet_csk(sk)->icsk_ack.lrcvtime));
		s->snd_idle_ms = jiffies_to_msecs(now -
						  READ_ONCE(tp->lsndtime));
	}

	synced = (1 << s->state) & SOCKLEAK_SYNCED_STATES;
	copied = READ_ONCE(tp->copied_seq);
	unread = READ_ONCE(tp->rcv_nxt) - copied;
	/* As tcp_inq(): a received FIN takes a sequence number, not data. */
	if ((int)unread > 0 && sock_flag(sk, SOCK_DONE))
		unread--;

	/*
	 * When the application last read: every read ends in
	 * tcp_rcv_space_adjust(), which starts a new measurement (copied_seq
	 * and the time, in rcvq_space) at most once per receive RTT. While
	 * copied_seq still equals the measurement's, nothing was read since
	 * that time. Otherwise a read happened within about an RTT of it:
	 * report 0.
	 */
	if (s->state != TCP_LISTEN && copied == READ_ONCE(tp->rcvq_space.seq))
		s->read_idle_ms = div_u64(tcp_clock_us() -
					  READ_ONCE(tp->rcvq_space.time),
					  USEC_PER_MSEC);
	s->unread = (int)unread > 0 ? unread : 0;
	s->fin_wait2_ms = snap_fin_wait2_ms(r);
	s->rcv_closed = synced && !tcp_receive_window(tp);
}

void sockleak_snapshot(const struct sockleak_ref *r, struct sockleak_snap *s,
		       unsigned int how)
{
	const struct sockleak_proto_ops *ops;
	struct sock *sk = r->sk;
	u8 state;

	memset(s, 0, offsetof(struct sockleak_snap, cgroup));
	s->cgroup[0] = '\0';
	s->filerefs = -1;
	snap_common(r, s);
	if (!(how & SOCKLEAK_SNAP_BRIEF))
		snap_ifname(r, s);

	s->scan_age_ms = -1;
	s->timer_left_ms = -1;
	state = READ_ONCE(sk->sk_state);
	s->hashed = 1;
	/* Only a followed protocol's socket can be a mini socket. */
	if (r->proto && (state == TCP_TIME_WAIT || state == TCP_NEW_SYN_RECV)) {
		s->kind = state == TCP_TIME_WAIT ? SOCKLEAK_SK_TW :
			  SOCKLEAK_SK_REQ;
		snap_mini_timer(sk, s);
		sockleak_classify(s);
		return;
	}
	s->kind = SOCKLEAK_SK_FULL;
	/*
	 * A listening MPTCP socket is in no table (its subflow listens), yet
	 * ss -M shows it: not "unhashed" (listen_unhashed).
	 */
	ops = sockleak_proto(s->proto);
	s->hashed = sk_hashed(sk) ||
		    (ops && ops->listen_unhashed && state == TCP_LISTEN);
	/* The walk knows no other protocol: it is in none of its tables. */
	if (!ops)
		s->hashed = 0;
	s->err = READ_ONCE(sk->sk_err);

	/* inet_diag reports v6only for listening and closed sockets only. */
	if (s->family == AF_INET6 && ((1 << state) & (TCPF_LISTEN | TCPF_CLOSE)))
		s->v6only = ipv6_only_sock(sk);

	s->dead = sock_flag(sk, SOCK_DEAD);
	s->has_sock = !!READ_ONCE(sk->sk_socket);
	s->kern = sk->sk_kern_sock;
	sockleak_family_snap(sk, s);
	s->orphan = s->dead || !s->has_sock;
	s->rmem = sk_rmem_alloc_get(sk);
	s->wmem = sk_wmem_alloc_get(sk);
	s->queued = READ_ONCE(sk->sk_wmem_queued);
	s->fwd = sockleak_sk_fwd_alloc(sk);
	s->rcvbuf = READ_ONCE(sk->sk_rcvbuf);
	s->sndbuf = READ_ONCE(sk->sk_sndbuf);
	s->userlocks = sk->sk_userlocks & (SOCK_RCVBUF_LOCK | SOCK_SNDBUF_LOCK);
	s->backlog = READ_ONCE(sk->sk_backlog.len);
	s->rqlen = skb_queue_len_lockless(&sk->sk_receive_queue);
	if (sockleak_proto_udp(s->proto))
		s->rqlen += skb_queue_len_lockless(&udp_sk(sk)->reader_queue);
	s->bpf = snap_bpf(sk);

	if (s->proto == IPPROTO_TCP)
		snap_tcp(r, s);
	if (ops)
		sockleak_proto_snap(sk, s, how);
	if (sockleak_proto_tcp_mem(s->proto))
		snap_timer(sk, s);
	s->memcg = sockleak_sk_memcg_ino(sk);
	if (!(how & SOCKLEAK_SNAP_BRIEF)) {
		snap_owner(sk, s);
		s->pins_netns = sockleak_sk_pins_netns(sk, s->filerefs >= 0);
		s->netns_nsfs = sockleak_net_nsfs_held(sock_net(sk));
		sockleak_owners_fill(s);
		/* Its file may ride in SCM_RIGHTS messages (unix.c). */
		s->in_flight_known = sockleak_unix_in_flight_known();
		if (s->filerefs > 0)
			s->in_flight = sockleak_unix_in_flight(s->cookie,
							       &s->in_flight_rcv);
		sockleak_sk_cgroup_path(sk, s->cgroup, sizeof(s->cgroup));
	}
	sockleak_classify(s);
}

/*
 * Every socket the reports show, in their order: the hash tables, then the
 * extra sources. @fn gets each socket's snapshot (taken with @how, no lock
 * held); a non-zero return stops the walk and is returned. Process context.
 */
int sockleak_snapshot_all(unsigned int how, sockleak_socket_fn fn, void *arg)
{
	struct sockleak_ref refs[SOCKLEAK_BATCH];
	struct sockleak_cursor all;
	struct sockleak_snap *s;
	int i, n, ret = 0;

	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	sockleak_cursor_init(&all);
	while (!ret && (n = sockleak_cursor_batch(&all, refs, SOCKLEAK_BATCH))) {
		for (i = 0; i < n && !ret; i++) {
			sockleak_snapshot(&refs[i], s, how);
			ret = fn(arg, s);
		}
		sockleak_walk_put(refs, n);
		if (!ret && fatal_signal_pending(current))
			ret = -EINTR;
	}
	sockleak_cursor_release(&all);
	kfree(s);
	return ret;
}

/*
 * Pages of protocol memory the socket holds: the kernel charges
 * sk_memory_allocated in whole pages and keeps the unused part of them in
 * sk_forward_alloc, so forward_alloc + the charged queues (write queue
 * for TCP, receive and out-of-order queues for both) is a whole number of
 * pages. Round up, as sk_mem_pages() does.
 */
unsigned long sockleak_snap_pages(const struct sockleak_snap *s)
{
	return DIV_ROUND_UP(sockleak_snap_bytes(s), PAGE_SIZE);
}

/* forward_alloc + the charged queues, 0 for none or a negative sum. */
long sockleak_snap_bytes(const struct sockleak_snap *s)
{
	long bytes = (long)s->fwd + s->queued + s->rmem;

	if (s->kind != SOCKLEAK_SK_FULL || bytes <= 0)
		return 0;
	return bytes;
}

/* A dotted quad, a.b.c.d. */
static void line_ip4(struct sockleak_linebuf *l, const __be32 *addr)
{
	const u8 *p = (const u8 *)addr;

	sockleak_lb_u64(l, p[0]);
	sockleak_lb_char(l, '.');
	sockleak_lb_u64(l, p[1]);
	sockleak_lb_char(l, '.');
	sockleak_lb_u64(l, p[2]);
	sockleak_lb_char(l, '.');
	sockleak_lb_u64(l, p[3]);
}

/*
 * An IPv6 address as glibc's inet_ntop() writes it, which is what ss -n
 * prints: the first longest run of two or more zero words becomes "::",
 * and ::a.b.c.d and ::ffff:a.b.c.d end in dotted quad. (%pI6c differs on
 * ::a.b.c.d and on ISATAP addresses.)
 */
static void line_in6(struct sockleak_linebuf *l, const struct in6_addr *a)
{
	int i, best = -1, best_len = 0, cur = -1, cur_len = 0;
	u16 w[8];

	for (i = 0; i < 8; i++) {
		w[i] = ntohs(a->s6_addr16[i]);
		if (w[i]) {
			cur = -1;
			continue;
		}
		if (cur < 0) {
			cur = i;
			cur_len = 0;
		}
		if (++cur_len > best_len) {
			best = cur;
			best_len = cur_len;
		}
	}
	if (best_len < 2)
		best = -1;

	for (i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				sockleak_lb_char(l, ':');
			continue;
		}
		if (i)
			sockleak_lb_char(l, ':');
		if (i == 6 && best == 0 &&
		    (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			line_ip4(l, &a->s6_addr32[3]);
			return;
		}
		sockleak_lb_hex(l, w[i]);
	}
	if (best >= 0 && best + best_len == 8)
		sockleak_lb_char(l, ':');
}

/*
 * The line is built with linebuf.h's helpers: a line has some forty fields,
 * and seq_printf() (1.75-1.93x /proc/net/tcp's time, make bench), then
 * seq_put_decimal_*() per field (1.19x its instructions, make profile),
 * cost more than the rest of the snapshot.
 */
#define put_u(l, key, v)	sockleak_lb_ku(l, key, v)
#define put_s(l, key, v)	sockleak_lb_ks(l, key, v)

/*
 * Address and port as ss -n prints them (iproute2 inet_addr_print()):
 * IPv4 a.b.c.d (0.0.0.0 stays), IPv6 [addr], except that the IPv6
 * wildcard prints as * unless the socket is v6only; "%ifname" after the
 * local address of a device-bound socket; port 0 prints as *.
 */
static void show_addr(struct sockleak_linebuf *l,
		      const struct sockleak_snap *s,
		      const struct in6_addr *a, u16 port, const char *ifname)
{
	if (s->family == AF_INET) {
		line_ip4(l, &a->s6_addr32[0]);
	} else if (!s->v6only && ipv6_addr_any(a)) {
		sockleak_lb_char(l, '*');
	} else {
		sockleak_lb_char(l, '[');
		line_in6(l, a);
		sockleak_lb_char(l, ']');
	}
	if (ifname && ifname[0]) {
		sockleak_lb_char(l, '%');
		sockleak_lb_str(l, ifname);
	}
	if (port) {
		sockleak_lb_char(l, ':');
		sockleak_lb_u64(l, port);
	} else {
		sockleak_lb_lit(l, ":*");
	}
}

/*
 * owners=pid:fd,...(+N) owner_tasks=state:comm,... scan_age_ms=N;
 * "?" when the last scan does not know the socket (or there was none),
 * "-" when it has no owner.
 */
static void show_owners(struct sockleak_linebuf *l,
			const struct sockleak_snap *s)
{
	int i;

	sockleak_lb_lit(l, " owners=");
	if (!s->owners_known)
		sockleak_lb_char(l, '?');
	else if (!s->owners_total)
		sockleak_lb_char(l, '-');
	for (i = 0; i < s->nowners; i++) {
		if (i)
			sockleak_lb_char(l, ',');
		sockleak_lb_s64(l, s->owners[i].tgid);
		sockleak_lb_char(l, ':');
		sockleak_lb_s64(l, s->owners[i].fd);
	}
	if (s->owners_total > s->nowners) {
		sockleak_lb_lit(l, "(+");
		sockleak_lb_u64(l, s->owners_total - s->nowners);
		sockleak_lb_char(l, ')');
	}
	sockleak_lb_lit(l, " owner_tasks=");
	if (!s->nowners)
		sockleak_lb_char(l, s->owners_known ? '-' : '?');
	for (i = 0; i < s->nowners; i++) {
		if (i)
			sockleak_lb_char(l, ',');
		sockleak_lb_char(l, s->owners[i].state);
		sockleak_lb_char(l, ':');
		sockleak_lb_flush(l);
		seq_escape(l->m, s->owners[i].comm, " \t\n\\,");
	}
	if (s->scan_age_ms < 0)
		sockleak_lb_lit(l, " scan_age_ms=-");
	else
		put_s(l, "scan_age_ms", s->scan_age_ms);
}

/* verdict=owner|timer|never timer_left_ms=N|- */
static void show_verdict(struct sockleak_linebuf *l,
			 const struct sockleak_snap *s)
{
	sockleak_lb_lit(l, " verdict=");
	sockleak_lb_str(l, sockleak_verdict_name(s->verdict));
	if (s->timer_left_ms < 0)
		sockleak_lb_lit(l, " timer_left_ms=-");
	else
		put_s(l, "timer_left_ms", s->timer_left_ms);
}

void sockleak_snap_show(struct seq_file *m, const struct sockleak_snap *s)
{
	static const char * const kinds[] = {
		[SOCKLEAK_SK_FULL] = "full",
		[SOCKLEAK_SK_TW] = "tw",
		[SOCKLEAK_SK_REQ] = "req",
	};
	struct sockleak_linebuf line, *l = &line;
	bool first = true;
	char fam[8];
	int bit;

	sockleak_lb_init(l, m);
	sockleak_lb_lit(l, "cookie=");
	sockleak_lb_hex(l, s->cookie);
	put_u(l, "netns", s->netns);
	sockleak_lb_lit(l, " proto=");
	sockleak_lb_str(l, s->proto_name);
	sockleak_lb_lit(l, " family=");
	sockleak_lb_str(l, sockleak_family_name(s->family, fam, sizeof(fam)));
	sockleak_lb_lit(l, " state=");
	sockleak_lb_str(l, sockleak_state_name(s->state));
	sockleak_lb_lit(l, " kind=");
	sockleak_lb_str(l, kinds[s->kind]);
	if (sockleak_inet_family(s->family)) {
		sockleak_lb_lit(l, " src=");
		show_addr(l, s, &s->src, s->sport, s->ifname);
		sockleak_lb_lit(l, " dst=");
		show_addr(l, s, &s->dst, s->dport, NULL);
	} else {
		sockleak_lb_lit(l, " src=- dst=-");
	}
	put_u(l, "ino", s->ino);

	if (s->kind != SOCKLEAK_SK_FULL) {
		put_s(l, "refcnt", s->refcnt);
		show_verdict(l, s);
		sockleak_lb_char(l, '\n');
		sockleak_lb_flush(l);
		return;
	}

	put_u(l, "uid", s->uid);
	put_s(l, "refcnt", s->refcnt);
	if (s->filerefs >= 0)
		put_s(l, "filerefs", s->filerefs);
	else
		sockleak_lb_lit(l, " filerefs=-");
	if (s->in_flight_known) {
		put_u(l, "in_flight", s->in_flight);
		sockleak_lb_lit(l, " in_flight_rcv=");
		if (s->in_flight_rcv)
			sockleak_lb_hex(l, s->in_flight_rcv);
		else
			sockleak_lb_char(l, '-');
	} else {
		sockleak_lb_lit(l, " in_flight=- in_flight_rcv=-");
	}
	put_u(l, "orphan", s->orphan);
	put_s(l, "rmem", s->rmem);
	put_s(l, "wmem", s->wmem);
	put_s(l, "queued", s->queued);
	put_s(l, "fwd", s->fwd);
	put_s(l, "rcvbuf", s->rcvbuf);
	put_s(l, "sndbuf", s->sndbuf);
	sockleak_lb_lit(l, " locks=");
	sockleak_lb_str(l, locks_names[s->userlocks]);
	put_u(l, "backlog", s->backlog);
	put_u(l, "rqlen", s->rqlen);
	if (s->proto == IPPROTO_TCP) {
		put_u(l, "unacked", s->unacked);
		put_u(l, "retrans", s->retrans);
		put_u(l, "total_retrans", s->total_retrans);
		put_u(l, "rcv_wnd", s->rcv_wnd);
		put_u(l, "snd_wnd", s->snd_wnd);
		put_u(l, "rcv_ssthresh", s->rcv_ssthresh);
		put_s(l, "rcv_space", s->rcv_space);
		put_u(l, "rcv_idle_ms", s->rcv_idle_ms);
		put_u(l, "snd_idle_ms", s->snd_idle_ms);
		put_u(l, "read_idle_ms", s->read_idle_ms);
		sockleak_lb_lit(l, " timer=");
		sockleak_lb_str(l, sockleak_timer_name(s->timer));
		if (s->msk) {
			sockleak_lb_lit(l, " msk=");
			sockleak_lb_hex(l, s->msk);
		}
	}
	put_u(l, "memcg", s->memcg);
	sockleak_lb_lit(l, " cgroup=");
	if (s->cgroup[0]) {
		sockleak_lb_flush(l);
		seq_escape(m, s->cgroup, " \t\n\\");
	} else {
		sockleak_lb_char(l, '-');
	}
	put_u(l, "bpf", s->bpf);
	put_s(l, "err", s->err);
	sockleak_lb_lit(l, " flags=");
	for_each_set_bit(bit, &s->flags, SOCKLEAK_F_NR) {
		if (!first)
			sockleak_lb_char(l, ',');
		sockleak_lb_str(l, sockleak_flag_name(bit));
		first = false;
	}
	if (first)
		sockleak_lb_char(l, '-');
	show_verdict(l, s);
	put_u(l, "hashed", s->hashed);
	show_owners(l, s);
	sockleak_lb_char(l, '\n');
	sockleak_lb_flush(l);
}
