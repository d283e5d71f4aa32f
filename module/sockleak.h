/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - find socket memory leaks and socket refcount leaks.
 *
 * The data model every layer shares: the tunables and the control mutex,
 * the protocols and families (proto.c, family.c, unix.c), one socket's
 * snapshot (snapshot.c). Each layer's own API is in its header: walk.h,
 * sources.h, owners.h, track.h, memcg.h, stack.h, filter.h, classify.h,
 * watchpoints.h (watch.h inside the layer), reports.h and report.h (the
 * debugfs files); compat.h wraps each kernel difference. Each file owns
 * one concern; see README.md (the layers) for the map.
 */
#ifndef _SOCKLEAK_H
#define _SOCKLEAK_H

#include <linux/compiler.h>
#include <linux/dcache.h>
#include <linux/if.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sock_diag.h>
#include <linux/socket.h>
#include <linux/types.h>

struct seq_file;
struct sock;
struct sockleak_ref;
struct sockleak_source;

/* Root of /sys/kernel/debug/sockleak, owned by main.c. */

/* Mode of every file: root-only, as debugfs data exposes socket details. */
#define SOCKLEAK_MODE_RO	0400
#define SOCKLEAK_MODE_RW	0600

/*
 * Thresholds of the per-socket flags, owned by control.c. Writers hold the
 * control mutex and use WRITE_ONCE(); readers use READ_ONCE() on one field
 * at a time and take no lock.
 */
struct sockleak_tunables {
	unsigned int close_wait_ms;	/* flag close_wait at this age */
	unsigned int unread_ms;		/* flag unread at this age */
	unsigned int fin_wait2_ms;	/* 0: the netns' tcp_fin_timeout */
	unsigned int rcvbuf_pct;	/* flag rcvbuf_locked at this fill */
	unsigned int unhashed_ms;	/* flag unhashed_mem at this age */
	unsigned int grace_ms;		/* "tracked": closed at least this long */
	unsigned int max_entries;	/* track table size at the next track=on */
	unsigned int stacks;		/* tracker: enum sockleak_stacks */
	unsigned int stack_depth;	/* tracker: frames per stack */
};

extern struct sockleak_tunables sockleak_tunables;

/* Which stacks the tracker records (the "stacks" tunable). */
enum sockleak_stacks {
	SOCKLEAK_STACKS_NONE,	/* 0: none */
	SOCKLEAK_STACKS_TELLING, /* 1: full where they tell something */
	SOCKLEAK_STACKS_ALL,	/* 2: full at every allocation and close */
};

/*
 * Serialises the control file's writes: the tunables' writers and every
 * command (track=on|off, watch_next=, ...), which run with it held
 * (control.c). The files that commands reach assert it.
 */
extern struct mutex sockleak_control_mutex;

#define sockleak_tunable(field)	READ_ONCE(sockleak_tunables.field)

/* control.c: start or stop tracking ("track="), and at unload. */
void sockleak_track_exit(void);

/* A protocol's name as the reports print it (family.c), NUL included. */
#define SOCKLEAK_PROTO_NAME_LEN	16
/* The state of a socket whose family does not number sk_state as TCP. */
#define SOCKLEAK_STATE_NONE	0xff

/* family.c */
struct sockleak_snap;
const char *sockleak_family_name(unsigned int family, char *buf, size_t len);
bool sockleak_family_tcp_states(unsigned int family);
int sockleak_family_parse(const char *name);
void sockleak_family_snap(struct sock *sk, struct sockleak_snap *s);
void sockleak_family_probes_start(void);
void sockleak_family_probes_stop(void);
unsigned long sockleak_family_probes_missed(void);

/*
 * What a family adds of its own (family.c's table points to it; the
 * family's file defines it). Every member may be NULL.
 */
struct sockleak_family_ops {
	/* Snapshot values of its own (snapshot.c; process context, held). */
	void (*snap)(struct sock *sk, struct sockleak_snap *s);
	/* Probes attached at track=on and detached at track=off. */
	void (*probes_start)(void);
	void (*probes_stop)(void);
	unsigned long (*probes_missed)(void);
};
void sockleak_sk_proto_name(const struct sock *sk, u16 proto, char *buf,
			    size_t len);

/* What kind of struct a hashed TCP/UDP socket is. */
enum sockleak_kind {
	SOCKLEAK_SK_FULL,	/* struct sock */
	SOCKLEAK_SK_TW,		/* struct inet_timewait_sock */
	SOCKLEAK_SK_REQ,	/* struct request_sock (TCP_NEW_SYN_RECV) */
};

/* Bits of sockleak_snap.flags, printed in this order. */
enum sockleak_flag {
	SOCKLEAK_F_CLOSE_WAIT,
	SOCKLEAK_F_UNREAD,
	SOCKLEAK_F_ORPHAN_MEM,
	SOCKLEAK_F_FIN_WAIT2,
	SOCKLEAK_F_RCVBUF_LOCKED,
	SOCKLEAK_F_ZERO_WINDOW,
	SOCKLEAK_F_BPF_HELD,
	SOCKLEAK_F_NO_FD,
	SOCKLEAK_F_UNHASHED_MEM,
	SOCKLEAK_F_UNHASHED,
	SOCKLEAK_F_IN_FLIGHT,
	SOCKLEAK_F_NR,
};

/* TCP states in which both windows are meaningful. */
#define SOCKLEAK_SYNCED_STATES	(TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | \
				 TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2)

/* Timer pending on a full TCP socket, as ss -o reports it. */
enum sockleak_timer {
	SOCKLEAK_TIMER_NONE,
	SOCKLEAK_TIMER_RETRANS,		/* RTO, RACK reorder, loss probe */
	SOCKLEAK_TIMER_PROBE,		/* zero window probe (ss: persist) */
	SOCKLEAK_TIMER_KEEPALIVE,	/* also FIN-WAIT-2 and MPTCP's close */
	SOCKLEAK_TIMER_TIMEWAIT,	/* TIME-WAIT sockets */
	SOCKLEAK_TIMER_SYNACK,		/* request sockets (SYN-RECV) */
};

/*
 * Will the kernel ever free the socket (classify.c)? Printed as the
 * "verdict" key of "sockets", "tracked" and "suspects".
 */
enum sockleak_verdict {
	SOCKLEAK_V_OWNER,	/* its struct socket is held: the close frees it */
	SOCKLEAK_V_TIMER,	/* a pending timer of the protocol will end it */
	SOCKLEAK_V_NEVER,	/* nothing will: no socket, no queue, no timer */
	SOCKLEAK_V_NR,
};

/* Why a socket got its verdict, for the explanations. */
enum sockleak_holder {
	SOCKLEAK_H_FILE,	/* a socket file (an fd, SCM_RIGHTS, fget) */
	SOCKLEAK_H_KERNEL,	/* a kernel socket: no file, its creator frees it */
	SOCKLEAK_H_ACCEPT,	/* a child in its listener's accept queue */
	SOCKLEAK_H_TIMER,	/* timer_left_ms: the timer in "timer" (TCP) */
	SOCKLEAK_H_ORPHAN,	/* never: closed, no timer armed */
	SOCKLEAK_H_NOSOCK,	/* never: no struct socket, in no table */
	SOCKLEAK_H_PEER,	/* a closed unix socket its live peer holds */
	SOCKLEAK_H_NETNS,	/* never: in a netns nothing reaches (owners.c) */
};

/* unix.c */
extern const struct sockleak_family_ops sockleak_unix_ops;
bool sockleak_unix_in_flight_known(void);
u32 sockleak_unix_in_flight(u64 cookie, u64 *rcv);

/* Owners of one socket kept in its snapshot; the total counts them all. */
#define SOCKLEAK_OWNERS_MAX	4

/* One fd of one process that refers to a socket (owners.c). */
struct sockleak_owner {
	pid_t tgid;		/* in the initial pid namespace */
	int fd;
	char state;		/* task state letter, as /proc/PID/stat */
	char comm[TASK_COMM_LEN];
};

/* What the last owner scan knows of a socket. */
enum sockleak_owners_known {
	SOCKLEAK_OWNERS_UNKNOWN,	/* no scan, or newer than the scan */
	SOCKLEAK_OWNERS_KNOWN,		/* the scan saw it */
};

/*
 * Values of one socket, copied while it was referenced (snapshot.c). No
 * pointers: a snapshot outlives the socket.
 */
struct sockleak_snap {
	u64 cookie;		/* sock_diag cookie, as ss -e sk: */
	u64 memcg;		/* cgroup ino of sk_memcg, 0: none (root) */
	unsigned long ino;	/* socket inode, 0: none */
	unsigned int netns;	/* net->ns.inum */
	unsigned int uid;	/* in init_user_ns */
	int refcnt;		/* without the walk's reference */
	long filerefs;		/* file_count() of the socket file, -1: none */
	u8 kind;		/* enum sockleak_kind */
	u16 proto;		/* IPPROTO_TCP, _UDP, _UDPLITE, _MPTCP; 0: other */
	u8 family;		/* sk_family: AF_INET, AF_INET6, AF_UNIX, ... */
	u8 state;		/* TCP_* as inet_diag reports it, or NONE */
	u8 v6only;		/* ss prints :: as * unless set */
	u8 orphan;		/* SOCK_DEAD or no struct socket */
	u8 dead;		/* SOCK_DEAD */
	u8 rcv_closed;		/* TCP: our receive window is closed */
	u8 userlocks;		/* SOCK_RCVBUF_LOCK | SOCK_SNDBUF_LOCK */
	u8 timer;		/* enum sockleak_timer */
	u8 verdict;		/* enum sockleak_verdict */
	u8 holder;		/* enum sockleak_holder */
	u8 has_sock;		/* sk_socket set */
	u8 kern;		/* a kernel socket (sk_kern_sock) */
	u8 net_ref;		/* holds a counted netns reference (sk_net_refcnt) */
	u8 netns_nsfs;		/* an nsfs file or mount refers to its netns */
	u8 netns_unreached;	/* its netns: no task, nsfs or socket fd (owners.c) */
	u64 peer_holder;	/* AF_UNIX, closed: the live peer holding it */
	u32 in_flight;		/* SCM_RIGHTS messages queued with its file */
	u64 in_flight_rcv;	/* the unix socket queueing the last, 0: none */
	u8 in_flight_known;	/* in_flight is followed (track=on, unix.c) */
	s64 timer_left_ms;	/* until the timer fires, -1: none pending */
	u8 bpf;			/* owned by a sockmap/psock */
	u16 sport;		/* host order */
	u16 dport;		/* host order */
	struct in6_addr src;	/* IPv4: s6_addr32[0] */
	struct in6_addr dst;
	char ifname[IFNAMSIZ];	/* bound device, "" when unbound */
	char proto_name[SOCKLEAK_PROTO_NAME_LEN];	/* family.c */
	int rmem;
	int wmem;
	int queued;
	int fwd;
	int rcvbuf;
	int sndbuf;
	u32 backlog;
	u32 rqlen;
	/* Full TCP sockets only. */
	u32 unacked;
	u32 retrans;
	u32 total_retrans;
	u32 rcv_wnd;
	u32 snd_wnd;
	u32 rcv_ssthresh;
	s64 rcv_space;
	u32 rcv_idle_ms;
	u32 snd_idle_ms;
	u32 read_idle_ms;	/* since the application last read, see snap_tcp() */
	u32 unread;		/* bytes not yet read: rcv_nxt - copied_seq */
	u32 fin_wait2_ms;	/* flag fin_wait2 at this idle time */
	u64 msk;		/* MPTCP subflow: its msk's cookie, 0: none */
	u8 subflow;		/* TCP: a subflow of an MPTCP connection */
	unsigned long flags;	/* BIT(enum sockleak_flag), classify.c */
	int err;		/* sk_err, not yet reported to the owner */
	u8 hashed;		/* in a hash table (else unhashed) */
	u8 owners_known;	/* enum sockleak_owners_known */
	u8 nowners;		/* entries in owners[] */
	u32 owners_total;	/* fds referring to the socket, all tasks */
	s64 scan_age_ms;	/* age of the owner scan, -1: none */
	struct sockleak_owner owners[SOCKLEAK_OWNERS_MAX];
	char cgroup[PATH_MAX];	/* cgroup v2 path, "-" when unknown */
};

/* snapshot.c */
#define SOCKLEAK_SNAP_BRIEF	0x1	/* skip ino, uid, files, cgroup path, dev */

void sockleak_snapshot(const struct sockleak_ref *r, struct sockleak_snap *s,
		       unsigned int how);
void sockleak_snap_show(struct seq_file *m, const struct sockleak_snap *s);

/*
 * Every socket the reports show, in their order: the hash tables
 * (walk.c), then the extra sockets; each one's snapshot goes to @fn.
 */
typedef int (*sockleak_socket_fn)(void *arg, const struct sockleak_snap *s);
int sockleak_snapshot_all(unsigned int how, sockleak_socket_fn fn, void *arg);

/* The socket's cookie, the number ss -e prints as sk: (generated if need be). */
static inline u64 sockleak_sk_cookie(struct sock *sk)
{
	u32 c[2];

	sock_diag_save_cookie(sk, c);
	return (u64)c[1] << 32 | c[0];
}

/*
 * What a socket pins: rmem + wmem + queued + fwd, negative parts as 0
 * (the MEM of "tracked", the bytes of its suspects and census).
 */
static inline u64 sockleak_snap_held(const struct sockleak_snap *s)
{
	return (u64)max(s->rmem, 0) + max(s->wmem, 0) + max(s->queued, 0) +
	       max(s->fwd, 0);
}

static inline bool sockleak_inet_family(unsigned int family)
{
	return family == AF_INET || family == AF_INET6;
}

/*
 * The followed protocols (proto.c): TCP, UDP, UDP-Lite and MPTCP of the
 * inet families, the ones the hash walk (walk.c) sees and whose teardown
 * the track table follows step by step. proto.c's table has a row for
 * each; a protocol with code of its own defines its row in its own file
 * (MPTCP: mptcp.c). Rows are constant; the hooks may be NULL.
 */
enum sockleak_line {		/* census lines: summary, cgroups */
	SOCKLEAK_LINE_TCP,	/* these first ones have memory counters */
	SOCKLEAK_LINE_UDP,
	SOCKLEAK_LINE_MPTCP,
	SOCKLEAK_NLINES,
};
#define SOCKLEAK_LINES_ACCT	(SOCKLEAK_LINE_UDP + 1)
#define SOCKLEAK_NPROTOS	4	/* rows of proto.c's table */

struct net;
struct udp_table;

struct sockleak_proto_ops {
	u16 number;		/* IPPROTO_*: the snapshot's proto */
	const char *name;	/* as reports and filters spell it */
	const char *label;	/* as the verdicts' texts name it */
	const char * const *creators;	/* struct proto names, NULL-ended */
	u8 line;		/* the census line counting it */
	u8 mem_line;		/* the line whose memory counters it charges */
	u8 steps;		/* its teardown steps: BIT(enum sockleak_step) */
	u8 close_ev;		/* the event its close is (enum sockleak_event) */
	const char *close_fn;	/* its owner's close, kprobed while tracking */
	bool udp_style;		/* a UDP socket (struct udp_sock, reader_queue) */
	bool listen_unhashed;	/* a listener in no table, yet listed (ss -M) */
	/* A global UDP-style table of its own, NULL when none (walk.c). */
	struct udp_table *(*udp_table)(void);
	/*
	 * Its sockets that are in no table the walk knows, one netns at a
	 * time: the next after the position (*slot, *num), referenced.
	 */
	struct sock *(*walk_next)(const struct net *net, long *slot, long *num);
	/*
	 * Snapshot values of its own, called for every followed socket (a
	 * protocol may mark another's: MPTCP its TCP subflows). Process
	 * context, @sk held; @how as sockleak_snapshot()'s.
	 */
	void (*snap)(struct sock *sk, struct sockleak_snap *s,
		     unsigned int how);
};

extern const struct sockleak_proto_ops sockleak_mptcp_proto;
const struct sockleak_proto_ops *sockleak_proto(u16 number);
const struct sockleak_proto_ops *sockleak_proto_row(unsigned int i);
int sockleak_proto_parse(const char *name);
u16 sockleak_inet_proto(const struct sock *sk);
void sockleak_proto_snap(struct sock *sk, struct sockleak_snap *s,
			 unsigned int how);

/* A UDP socket: UDP, or UDP-Lite (UDP with a table of its own). */
static inline bool sockleak_proto_udp(u16 proto)
{
	const struct sockleak_proto_ops *ops = sockleak_proto(proto);

	return ops && ops->udp_style;
}

/*
 * Charges TCP's memory counters: TCP, and MPTCP (the msk, which is not a
 * tcp_sock, charges tcp_memory_allocated).
 */
static inline bool sockleak_proto_tcp_mem(u16 proto)
{
	const struct sockleak_proto_ops *ops = sockleak_proto(proto);

	return ops && ops->mem_line == SOCKLEAK_LINE_TCP;
}

unsigned long sockleak_snap_pages(const struct sockleak_snap *s);
long sockleak_snap_bytes(const struct sockleak_snap *s);

/*
 * Part of an MPTCP connection: the msk or one of its subflows. Memory
 * moves between them in amounts smaller than a page (7.x subflows borrow
 * forward allocation from their msk), so only the connection as a whole
 * holds whole pages: sum its bytes, then round.
 */
static inline bool sockleak_snap_mptcp_conn(const struct sockleak_snap *s)
{
	return s->proto == IPPROTO_MPTCP || s->subflow;
}

#endif /* _SOCKLEAK_H */
