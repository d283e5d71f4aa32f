/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - one socket's snapshot (snapshot.c): its values, copied while
 * the socket was referenced, and what they hold (kinds, flags, timers,
 * verdicts, owners); every socket of the reports as snapshots. What the
 * values mean is classify.c's (classify.h).
 */
#ifndef _SOCKLEAK_SNAPSHOT_H
#define _SOCKLEAK_SNAPSHOT_H

#include <linux/if.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <net/tcp_states.h>

#include "family.h"

struct seq_file;
struct sockleak_ref;

/* The state of a socket whose family does not number sk_state as TCP. */
#define SOCKLEAK_STATE_NONE	0xff

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

/*
 * Timer pending on a full TCP socket, as ss -o reports it; for a vsock
 * socket, the delayed work that holds it.
 */
enum sockleak_timer {
	SOCKLEAK_TIMER_NONE,
	SOCKLEAK_TIMER_RETRANS,		/* RTO, RACK reorder, loss probe */
	SOCKLEAK_TIMER_PROBE,		/* zero window probe (ss: persist) */
	SOCKLEAK_TIMER_KEEPALIVE,	/* also FIN-WAIT-2 and MPTCP's close */
	SOCKLEAK_TIMER_TIMEWAIT,	/* TIME-WAIT sockets */
	SOCKLEAK_TIMER_SYNACK,		/* request sockets (SYN-RECV) */
	SOCKLEAK_TIMER_VSOCK_CONNECT,	/* vsock's delayed works (vsock.c) */
	SOCKLEAK_TIMER_VSOCK_CLOSE,
	SOCKLEAK_TIMER_VSOCK_PENDING,
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
	SOCKLEAK_H_FREEING,	/* timer: no reference left but the report's */
};

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
	u8 pins_netns;		/* sockleak_sk_pins_netns(), full snapshots */
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
s64 sockleak_snap_left_ms(unsigned long expires);

/*
 * Every socket the reports show, in their order: the hash tables
 * (walk.c), then the extra sockets; each one's snapshot goes to @fn.
 */
typedef int (*sockleak_socket_fn)(void *arg, const struct sockleak_snap *s);
int sockleak_snapshot_all(unsigned int how, sockleak_socket_fn fn, void *arg);

/* The protocol memory a socket holds: bytes, and whole pages as charged. */
unsigned long sockleak_snap_pages(const struct sockleak_snap *s);
long sockleak_snap_bytes(const struct sockleak_snap *s);

/*
 * What a socket pins: rmem + wmem + queued + fwd, negative parts as 0
 * (the MEM of "tracked", the bytes of its suspects and census).
 */
static inline u64 sockleak_snap_held(const struct sockleak_snap *s)
{
	return (u64)max(s->rmem, 0) + max(s->wmem, 0) + max(s->queued, 0) +
	       max(s->fwd, 0);
}

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

#endif /* _SOCKLEAK_SNAPSHOT_H */
