// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the owner scan: which tasks hold each socket, which sockets
 * no fd refers to, and which TCP/UDP sockets only an fd (no hash table)
 * holds.
 *
 * "echo scan > control" runs sockleak_owners_scan():
 *
 *  1. A hash walk (walk.c) records the inode of every full socket that has
 *     a struct file at the start of the scan; while tracking, so does a
 *     pass over the track table's sockets of every other family.
 *  2. One pass over the fd table of every process of every pid namespace,
 *     in tgid order of the initial pid namespace (find_ge_pid() and
 *     pid_task(PIDTYPE_TGID), as /proc's readdir), records each fd that
 *     refers to a socket of any family: tgid, fd, task state letter and
 *     comm, keyed by socket inode. Threads share their leader's table; when the
 *     leader has exited, the first thread that still has a table is used.
 *     A thread that unshared its table is not visited.
 *  3. A socket found in step 1 with no fd in step 2 gets the no_fd flag
 *     (while it still has a file): an SCM_RIGHTS message in flight (flag
 *     in_flight instead while tracking, unix.c), an io_uring fixed file,
 *     a kernel user or a leaked file reference holds it. A TCP/UDP socket
 *     found in step 2 that is in no hash table (reset by the
 *     peer: CLOSE and unhashed; never bound or connected) is remembered by
 *     its inode and owners, so the "sockets" report can show it
 *     (sockleak_owners_source, sources.h).
 *  4. Which netns user space no longer reaches and a socket pins: step 1
 *     notes the netns of every socket it walks (seen), of every socket
 *     with a file (reached), and of every open socket with no file that
 *     holds a counted reference on its netns (sk_net_refcnt: pinned;
 *     its creator would release it at the netns' exit); step 2 the
 *     netns of every socket fd and of every thread of every process it
 *     visits (task->nsproxy: reached). A socket's snapshot then marks its
 *     netns unreached when the scan saw it, pinned and not reached, and no
 *     nsfs dentry of it exists at the snapshot (no open ns file, no bind
 *     mount: sockleak_net_nsfs_held()). The exit that would release the
 *     pinning socket can never come, so nothing will release the
 *     netns' sockets (classify.c, holder "netns"). A netns that only
 *     closed sockets keep (orphans on their timers) is not pinned: it
 *     exits when they are freed. A netns created after the scan is not
 *     judged; neither is any when a process has threads in more than
 *     OWNERS_THREAD_NETS netns.
 *
 * The result replaces the previous one and is kept, with its time, until
 * the next scan or unload. It holds no reference on anything: a report
 * finds an unhashed socket again through one of its owners' fds (same
 * tgid, fd and inode) and references it only while the report reads it.
 * Once its owners have closed it, it is gone from the reports and its
 * teardown (and its netns' and memcg's) is not delayed.
 *
 * Cost: one pass over every fd of every process (plus one hash walk);
 * memory: one record (about 100 bytes) per socket, and a buffer
 * of 16 bytes per socket fd of the largest fd table.
 *
 * Locking rules:
 *
 * - Tasks: rcu_read_lock() around find_ge_pid()/pid_task() and the choice
 *   of a thread only; the task is pinned with get_task_struct() and RCU is
 *   dropped before its fds are read. cond_resched() runs between tasks.
 * - Fds: iterate_fd() under task_lock(), as __do_SAK() does; iterate_fd()
 *   takes files->file_lock (a spinlock). The scan's callback only copies
 *   into a preallocated buffer; when the buffer is full it stops, the
 *   buffer grows with no lock held, and the pass resumes at that fd.
 *   get_task_comm() takes task_lock itself, so it runs before. A report's
 *   lookup of one fd takes the sk reference (refcount_inc_not_zero(): the
 *   file holds the socket) in its callback.
 * - Results: scans are serialised by owners_mutex. A scan builds a new
 *   struct owners_scan and publishes it with rcu_replace_pointer(); readers
 *   look records up under rcu_read_lock() and copy them out. The old scan
 *   is freed after synchronize_rcu().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/nsproxy.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "owners.h"
#include "proto.h"
#include "snapshot.h"
#include "sources.h"
#include "track.h"
#include "walk.h"

/* One socket of the scan, keyed by inode number in owners_scan.socks. */
struct owners_rec {
	u32 total;		/* fds that refer to it */
	u8 n;			/* entries in owners[] */
	struct sockleak_owner owners[SOCKLEAK_OWNERS_MAX];
};

struct owners_scan {
	struct xarray socks;	/* ino -> struct owners_rec */
	struct xarray unhashed;	/* ino -> owners_rec of a socket unhashed then */
	struct xarray nets;	/* netns inum -> xa_mk_value(OWNERS_NET_*) */
	bool nets_partial;	/* some thread's netns was not recorded */
	unsigned long when;	/* jiffies at the end of the scan */
};

/* What the scan knows of a netns (step 4), bits of a value in nets. */
#define OWNERS_NET_SEEN		BIT(0)	/* one of its sockets was walked */
#define OWNERS_NET_REACHED	BIT(1)	/* a task, or a socket file in it */
#define OWNERS_NET_PINNED	BIT(2)	/* an open socket, no file, counted ref */

/* Distinct netns recorded for the threads of one process. */
#define OWNERS_THREAD_NETS	16

static struct owners_scan __rcu *owners_cur;
static DEFINE_MUTEX(owners_mutex);

/* One socket fd seen under the fd table lock. */
struct owners_fd {
	unsigned long ino;
	unsigned int netns;	/* the socket's netns inum */
	int fd;
	bool unhashed;
};

struct owners_pass {
	struct owners_fd *buf;
	unsigned int cap;
	unsigned int n;
	unsigned int resume;	/* fd to resume at after the buffer grew */
	bool full;
};

static void owners_free(struct owners_scan *scan)
{
	struct owners_rec *rec;
	unsigned long ino;

	if (!scan)
		return;
	xa_for_each(&scan->socks, ino, rec)
		kfree(rec);
	xa_destroy(&scan->socks);
	xa_destroy(&scan->unhashed);
	xa_destroy(&scan->nets);
	kfree(scan);
}

static struct owners_rec *owners_rec_get(struct owners_scan *scan,
					 unsigned long ino)
{
	struct owners_rec *rec = xa_load(&scan->socks, ino);

	if (rec)
		return rec;
	rec = kzalloc(sizeof(*rec), GFP_KERNEL);
	if (!rec)
		return NULL;
	if (xa_err(xa_store(&scan->socks, ino, rec, GFP_KERNEL))) {
		kfree(rec);
		return NULL;
	}
	return rec;
}

/* Add @bit to what the scan knows of netns @inum (no lock held). */
static int owners_net_mark(struct owners_scan *scan, unsigned int inum,
			   unsigned long bit)
{
	void *old = xa_load(&scan->nets, inum);
	unsigned long v = old ? xa_to_value(old) : 0;

	if ((v & bit) == bit)
		return 0;
	return xa_err(xa_store(&scan->nets, inum, xa_mk_value(v | bit),
			       GFP_KERNEL));
}

/*
 * A TCP, MPTCP, UDP or UDP-Lite socket of the inet families: what reports
 * cover.
 */
static bool owners_inet(const struct sock *sk)
{
	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6)
		return false;
	return (sk->sk_type == SOCK_STREAM &&
		sockleak_proto_tcp_mem(sk->sk_protocol)) ||
	       (sk->sk_type == SOCK_DGRAM &&
		sockleak_proto_udp(sk->sk_protocol));
}

/* The inode of a socket's file, 0: none. */
static unsigned long owners_file_ino(struct sock *sk)
{
	unsigned long ino = 0;
	struct socket *sock;

	read_lock_bh(&sk->sk_callback_lock);
	sock = sk->sk_socket;
	if (sock && sock->file)
		ino = SOCK_INODE(sock)->i_ino;
	read_unlock_bh(&sk->sk_callback_lock);
	return ino;
}

bool sockleak_sk_pins_netns(const struct sock *sk, bool has_file)
{
	return sk->sk_net_refcnt && !has_file && READ_ONCE(sk->sk_socket) &&
	       !sock_flag(sk, SOCK_DEAD);
}

/*
 * Step 1's record of one referenced socket: its file's inode, and what it
 * says of its netns.
 */
static int owners_note_sock(struct owners_scan *scan, struct sock *sk)
{
	unsigned int inum = sock_net(sk)->ns.inum;
	unsigned long ino = owners_file_ino(sk);
	unsigned long bits = OWNERS_NET_SEEN;

	if (ino && !owners_rec_get(scan, ino))
		return -ENOMEM;
	if (ino)
		bits |= OWNERS_NET_REACHED;
	else if (sockleak_sk_pins_netns(sk, false))
		bits |= OWNERS_NET_PINNED;
	return owners_net_mark(scan, inum, bits);
}

/*
 * Step 1: inode of every hashed full socket that has a struct file, and
 * the netns of each.
 */
static int owners_hashed(struct owners_scan *scan)
{
	struct sockleak_ref refs[SOCKLEAK_BATCH];
	struct sockleak_walk walk;
	int i, n, ret = 0;

	sockleak_walk_init(&walk);
	while (!ret && (n = sockleak_walk_batch(&walk, refs, SOCKLEAK_BATCH))) {
		for (i = 0; i < n && !ret; i++) {
			struct sock *sk = refs[i].sk;

			if (sk_fullsock(sk))
				ret = owners_note_sock(scan, sk);
		}
		sockleak_walk_put(refs, n);
		if (fatal_signal_pending(current))
			ret = -EINTR;
	}
	sockleak_walk_release(&walk);
	return ret;
}

/*
 * Step 1, while tracking: the inode of every socket of another family
 * (or unhashed) that the track table knows and that has a struct file.
 */
static int owners_tracked(struct owners_scan *scan)
{
	struct sockleak_ref refs[SOCKLEAK_BATCH];
	unsigned long pos = 0;
	int i, n, ret = 0;

	while (!ret && (n = sockleak_track_grab(&pos, SOCKLEAK_TRACK_UNHASHED,
						0, refs, NULL,
						SOCKLEAK_BATCH))) {
		for (i = 0; i < n && !ret; i++)
			ret = owners_note_sock(scan, refs[i].sk);
		sockleak_walk_put(refs, n);
		if (fatal_signal_pending(current))
			ret = -EINTR;
		cond_resched();
	}
	return ret;
}

/* iterate_fd() callback: files->file_lock and task_lock are held. */
static int owners_fd_cb(const void *p, struct file *file, unsigned int fd)
{
	struct owners_pass *pass = (struct owners_pass *)p;
	struct socket *sock = sock_from_file(file);
	struct owners_fd *e;
	struct sock *sk;

	if (!sock)
		return 0;
	sk = READ_ONCE(sock->sk);
	if (!sk)
		return 0;
	if (pass->n == pass->cap) {
		pass->full = true;
		pass->resume = fd;
		return 1;
	}
	e = &pass->buf[pass->n++];
	e->ino = SOCK_INODE(sock)->i_ino;
	/* The file holds the socket, the socket its netns. */
	e->netns = sock_net(sk)->ns.inum;
	e->fd = fd;
	/* Only the walk's protocols have hash tables to be missing from. */
	e->unhashed = owners_inet(sk) && sk_unhashed(sk);
	return 0;
}

static int owners_grow(struct owners_pass *pass)
{
	unsigned int cap = pass->cap ? pass->cap * 2 : 64;
	struct owners_fd *buf;

	buf = kvmalloc_array(cap, sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (pass->n)
		memcpy(buf, pass->buf, pass->n * sizeof(*buf));
	kvfree(pass->buf);
	pass->buf = buf;
	pass->cap = cap;
	return 0;
}

/* Add the socket fds of one process to the scan. */
static int owners_merge(struct owners_scan *scan, struct owners_pass *pass,
			pid_t tgid, char state, const char *comm)
{
	struct owners_rec *rec;
	struct owners_fd *e;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < pass->n; i++) {
		e = &pass->buf[i];
		rec = ret ? NULL : owners_rec_get(scan, e->ino);
		if (!rec) {
			ret = -ENOMEM;
			continue;
		}
		if (rec->n < SOCKLEAK_OWNERS_MAX) {
			struct sockleak_owner *o = &rec->owners[rec->n++];

			o->tgid = tgid;
			o->fd = e->fd;
			o->state = state;
			strscpy(o->comm, comm, sizeof(o->comm));
		}
		rec->total++;
		if (e->unhashed &&
		    xa_err(xa_store(&scan->unhashed, e->ino, rec, GFP_KERNEL)))
			ret = -ENOMEM;
		if (owners_net_mark(scan, e->netns, OWNERS_NET_REACHED))
			ret = -ENOMEM;
	}
	pass->n = 0;
	return ret;
}

/*
 * The task of tgid >= *nr whose fd table to read, pinned, or NULL at the
 * end. Sets *nr to its tgid.
 */
static struct task_struct *owners_next_task(pid_t *nr)
{
	struct task_struct *leader, *t, *found;
	struct pid *pid;

	rcu_read_lock();
	for (;;) {
		found = NULL;
		pid = find_ge_pid(*nr, &init_pid_ns);
		if (!pid)
			break;
		*nr = pid_nr(pid);
		leader = pid_task(pid, PIDTYPE_TGID);
		if (leader) {
			for_each_thread(leader, t) {
				if (READ_ONCE(t->files)) {
					found = t;
					break;
				}
			}
		}
		if (found) {
			get_task_struct(found);
			break;
		}
		(*nr)++;
	}
	rcu_read_unlock();
	return found;
}

/*
 * Step 4's part of step 2: the netns of every thread of @t's process
 * (@t is pinned), reached. Threads change netns only by setns(), under
 * their task_lock().
 */
static int owners_thread_nets(struct owners_scan *scan, struct task_struct *t)
{
	unsigned int nets[OWNERS_THREAD_NETS], inum;
	struct task_struct *th;
	struct nsproxy *nsp;
	int n = 0, i, ret = 0;

	rcu_read_lock();
	for_each_thread(t, th) {
		task_lock(th);
		nsp = th->nsproxy;
		inum = nsp ? nsp->net_ns->ns.inum : 0;
		task_unlock(th);
		for (i = 0; i < n && nets[i] != inum; i++)
			;
		if (!inum || i < n)
			continue;
		if (n == ARRAY_SIZE(nets)) {
			scan->nets_partial = true;
			break;
		}
		nets[n++] = inum;
	}
	rcu_read_unlock();
	for (i = 0; i < n && !ret; i++)
		ret = owners_net_mark(scan, nets[i], OWNERS_NET_REACHED);
	return ret;
}

/* Step 2: one pass over every process's fd table (and threads' netns). */
static int owners_fds(struct owners_scan *scan)
{
	struct owners_pass pass = {};
	char comm[TASK_COMM_LEN];
	struct task_struct *t;
	pid_t nr = 1;
	unsigned int start;
	char state;
	int ret;

	ret = owners_grow(&pass);
	while (!ret && (t = owners_next_task(&nr))) {
		get_task_comm(comm, t);
		state = task_state_to_char(t);
		start = 0;
		for (;;) {
			pass.full = false;
			task_lock(t);
			iterate_fd(t->files, start, owners_fd_cb, &pass);
			task_unlock(t);
			if (!pass.full)
				break;
			start = pass.resume;
			ret = owners_grow(&pass);
			if (ret)
				break;
		}
		ret = owners_merge(scan, &pass, nr, state, comm) ?: ret;
		ret = ret ?: owners_thread_nets(scan, t);
		put_task_struct(t);
		nr++;
		if (fatal_signal_pending(current))
			ret = -EINTR;
		cond_resched();
	}
	kvfree(pass.buf);
	return ret;
}

int sockleak_owners_scan(void)
{
	struct owners_scan *scan, *old;
	int ret;

	scan = kzalloc(sizeof(*scan), GFP_KERNEL);
	if (!scan)
		return -ENOMEM;
	xa_init(&scan->socks);
	xa_init(&scan->unhashed);
	xa_init(&scan->nets);

	mutex_lock(&owners_mutex);
	ret = owners_hashed(scan);
	if (!ret)
		ret = owners_tracked(scan);
	if (!ret)
		ret = owners_fds(scan);
	if (ret) {
		mutex_unlock(&owners_mutex);
		owners_free(scan);
		return ret;
	}
	scan->when = jiffies;
	old = rcu_replace_pointer(owners_cur, scan,
				  lockdep_is_held(&owners_mutex));
	mutex_unlock(&owners_mutex);
	synchronize_rcu();
	owners_free(old);
	return 0;
}

/*
 * Fill the owner fields of a snapshot whose ino, filerefs, netns and
 * netns_nsfs are set: its owners, and whether its netns is unreached.
 */
void sockleak_owners_fill(struct sockleak_snap *s)
{
	struct owners_scan *scan;
	struct owners_rec *rec;
	void *net;

	s->scan_age_ms = -1;
	s->owners_known = SOCKLEAK_OWNERS_UNKNOWN;
	rcu_read_lock();
	scan = rcu_dereference(owners_cur);
	if (scan) {
		s->scan_age_ms = jiffies_to_msecs(jiffies - scan->when);
		rec = s->ino ? xa_load(&scan->socks, s->ino) : NULL;
		if (rec) {
			s->owners_known = SOCKLEAK_OWNERS_KNOWN;
			s->owners_total = rec->total;
			s->nowners = rec->n;
			memcpy(s->owners, rec->owners,
			       rec->n * sizeof(rec->owners[0]));
		}
		net = xa_load(&scan->nets, s->netns);
		s->netns_unreached = !scan->nets_partial && !s->netns_nsfs &&
				     net && xa_to_value(net) ==
				     (OWNERS_NET_SEEN | OWNERS_NET_PINNED);
	}
	rcu_read_unlock();
	/* No struct file: no fd can refer to it, scan or not. */
	if (s->filerefs < 0 && !s->owners_total)
		s->owners_known = SOCKLEAK_OWNERS_KNOWN;

}

/* Where a report looks for an unhashed socket of the last scan. */
struct owners_where {
	unsigned long ino;
	u8 n;
	struct {
		pid_t tgid;
		int fd;
	} at[SOCKLEAK_OWNERS_MAX];
};

struct owners_lookup {
	unsigned long ino;
	unsigned int fd;
	struct sockleak_ref *ref;
	bool found;		/* ref filled, referenced */
};

/* iterate_fd() callback from fd on: stop at the first file seen. */
static int owners_lookup_cb(const void *p, struct file *file, unsigned int fd)
{
	struct owners_lookup *l = (struct owners_lookup *)p;
	struct socket *sock;
	struct sock *sk;

	if (fd != l->fd)
		return 1;	/* that fd was closed */
	sock = sock_from_file(file);
	if (!sock || SOCK_INODE(sock)->i_ino != l->ino)
		return 1;
	sk = READ_ONCE(sock->sk);
	/* The file holds the socket, which holds sk: the count is not 0. */
	if (sk && owners_inet(sk))
		l->found = sockleak_walk_grab(sk, l->ref, sk->sk_protocol);
	return 1;
}

/* Reference the socket with inode ino at fd of process tgid into ref. */
static bool owners_lookup(unsigned long ino, pid_t tgid, int fd,
			  struct sockleak_ref *ref)
{
	struct owners_lookup l = { .ino = ino, .fd = fd, .ref = ref };
	struct task_struct *t;
	pid_t nr = tgid;

	t = owners_next_task(&nr);
	if (!t)
		return NULL;
	if (nr == tgid) {
		task_lock(t);
		if (t->files)
			iterate_fd(t->files, fd, owners_lookup_cb, &l);
		task_unlock(t);
	}
	put_task_struct(t);
	return l.found;
}

/*
 * Extra source (sources.h): the sockets the last scan found unhashed, from
 * inode *pos on, while an owner the scan saw still has them at the same
 * fd. Each is found again through that fd and referenced for the report
 * only (the scan keeps no reference).
 */
static int owners_extra(unsigned long *pos, struct sockleak_ref *refs, int max)
{
	struct owners_where *w;
	struct owners_scan *scan;
	struct owners_rec *rec;
	unsigned long ino;
	int nw = 0, n = 0, i, k;

	w = kmalloc_array(max, sizeof(*w), GFP_KERNEL);
	if (!w)
		return 0;
	/* 0 means the end: go on past records whose owners closed them. */
	while (!n) {
		/* Copy where to look: the scan may be replaced without RCU. */
		nw = 0;
		rcu_read_lock();
		scan = rcu_dereference(owners_cur);
		if (scan) {
			xa_for_each_start(&scan->unhashed, ino, rec, *pos) {
				if (nw == max)
					break;
				w[nw].ino = ino;
				w[nw].n = rec->n;
				for (k = 0; k < rec->n; k++) {
					w[nw].at[k].tgid = rec->owners[k].tgid;
					w[nw].at[k].fd = rec->owners[k].fd;
				}
				nw++;
			}
		}
		rcu_read_unlock();
		if (!nw)
			break;

		for (i = 0; i < nw; i++) {
			*pos = w[i].ino + 1;
			for (k = 0; k < w[i].n; k++) {
				if (owners_lookup(w[i].ino, w[i].at[k].tgid,
						  w[i].at[k].fd, &refs[n])) {
					n++;
					break;
				}
			}
		}
		cond_resched();
	}
	kfree(w);
	return n;
}

/* Registered by main.c, first: the sockets behind an fd. */
struct sockleak_source sockleak_owners_source = {
	.next = owners_extra,
};

void sockleak_owners_exit(void)
{
	struct owners_scan *scan;

	mutex_lock(&owners_mutex);
	scan = rcu_replace_pointer(owners_cur, NULL,
				   lockdep_is_held(&owners_mutex));
	mutex_unlock(&owners_mutex);
	synchronize_rcu();
	owners_free(scan);
}
