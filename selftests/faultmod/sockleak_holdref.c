// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak_holdref - TEST ONLY fault injection for the sockleak selftests:
 * a stand-in for a buggy kernel user that leaks a socket reference.
 *
 * /sys/kernel/debug/sockleak_holdref/ctl (root, write-only):
 *   "hold <fd>"   take an extra reference (sock_hold) on the socket that
 *                 file descriptor <fd> of the writing process refers to
 *   "hold2 <fd>"  take two references at once (refcount_add(2), one
 *                 write of the count) in holdref_take2()
 *   "release"     drop every reference taken (also "notimers")
 *   "hold_timer <fd>"
 *                 the same, but the reference is taken by a timer
 *                 callback (holdref_timer_fn(), softirq context) armed
 *                 for right away; the write returns once it has run
 *   "clone_delay <ms> <port>"
 *                 stretch the birth of TCP children of listeners on local
 *                 port <port>: spin <ms> ms (at most 1000) right after
 *                 sk_clone_lock() (sk_clone() from 6.19) returns the child,
 *                 still a copy of its listener (cookie included), locked,
 *                 unhashed. "clone_delay 0" stops it. Arm it after
 *                 sockleak's "track=on": a kretprobe registered later
 *                 returns first, so sockleak has seen the child by then.
 *   "notimers <fd>"
 *                 remember the TCP socket of <fd>, with a reference
 *   "notimers_now"
 *                 stop the remembered socket's retransmit/probe timer as
 *                 TCP does (icsk_pending cleared: the timer, if it still
 *                 fires, finds nothing to do and is not re-armed), then
 *                 drop the reference. Done after close(), it leaves an
 *                 orphan that no timer will ever end: a stand-in for a
 *                 TCP bug.
 *   "race <fd> <n>"
 *                 <n> times (at most 1000000) sock_hold() then sock_put()
 *                 in holdref_race_step() on the socket of <fd>, on two
 *                 CPUs at once (a kthread
 *                 bound to each of the first two online CPUs); the write
 *                 returns when both are done. Writes of the count that
 *                 race: 2n gets and 2n puts, each its own change.
 *   "kern <family> <type> <protocol>"
 *                 create a kernel socket (sock_create_kern() in init_net,
 *                 e.g. "kern 1 2 0" for AF_UNIX dgram, "kern 16 3 2" for
 *                 an AF_NETLINK socket, whose family has no slab: kmalloc),
 *                 take a reference on it in holdref_take(), then release
 *                 it (sock_release()): a leaked kernel socket
 *   "hold_file <fd>"
 *                 take a reference on the file of <fd> (fget() in
 *                 holdref_take_file()) and keep it: a leaked file
 *                 reference, which no fd and no message accounts for
 *   "netsock <counted>"
 *                 create a TCP socket with no file in the writer's netns
 *                 and make it listen (on an ephemeral port, all
 *                 addresses) until "release": with <counted> 1 as a user
 *                 socket (__sock_create(..., kern=0)), which holds a
 *                 counted reference on its netns (sk_net_refcnt), as a
 *                 kernel user that upgrades its socket does; with 0 a
 *                 kernel socket, which does not. Once no task, nsfs file
 *                 or mount reaches that netns, the first keeps it and
 *                 itself alive for good: a stand-in for such a bug
 * Each reference is taken in a function of its own, holdref_take() or
 * holdref_timer_fn(): what a reference tracker must name.
 * Reading returns the number of references held. Unloading releases them.
 *
 * /sys/kernel/debug/sockleak_holdref/cookie (root, read-only): the cookie
 * (as ss -e prints it, hex) of the socket of the last hold, "-" for none:
 * the truth a test compares the tracker's reports with (a kernel socket
 * has no fd to ask SO_COOKIE).
 *
 * Locking rules: holdref_mutex protects the held[] and held_files[]
 * arrays and the clone kretprobe's registration; it is taken in process
 * context only. The
 * delay and port are read locklessly by the kretprobe handler.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/nsproxy.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <net/inet_connection_sock.h>
#include <net/inet_sock.h>
#include <linux/sock_diag.h>
#include <net/sock.h>

#define HOLDREF_MAX	16

static DEFINE_MUTEX(holdref_mutex);
static struct sock *held[HOLDREF_MAX];
static int nheld;
static struct dentry *holdref_dir;

static struct sock *notimers_sk;

static struct file *held_files[HOLDREF_MAX];
static int nheld_files;

static struct socket *held_socks[HOLDREF_MAX];
static int nheld_socks;

/* The cookie of the socket of the last hold, 0: none. */
static u64 last_cookie;

/* The leak: one reference, taken here and never put (until "release"). */
static noinline void holdref_take(struct sock *sk)
{
	u32 c[2];

	sock_hold(sk);
	held[nheld++] = sk;
	sock_diag_save_cookie(sk, c);
	last_cookie = (u64)c[1] << 32 | c[0];
}

/*
 * "hold2 <fd>": two references in one write of the count
 * (refcount_add(2): one lock xadd of 2), never put until "release".
 */
static noinline void holdref_take2(struct sock *sk)
{
	refcount_add(2, &sk->sk_refcnt);
	held[nheld++] = sk;
	held[nheld++] = sk;
}

/* "hold_file <fd>": a file reference taken here and never put. */
static noinline int holdref_take_file(int fd)
{
	struct file *file;

	if (nheld_files >= HOLDREF_MAX)
		return -ENOSPC;
	file = fget(fd);
	if (!file)
		return -EBADF;
	held_files[nheld_files++] = file;
	return 0;
}

/* "kern <family> <type> <protocol>" (holdref_mutex held). */
static int holdref_kern(int family, int type, int protocol)
{
	struct socket *sock;
	int err;

	if (nheld >= HOLDREF_MAX)
		return -ENOSPC;
	err = sock_create_kern(&init_net, family, type, protocol, &sock);
	if (err)
		return err;
	holdref_take(sock->sk);
	sock_release(sock);
	return 0;
}

/* "netsock <counted>" (holdref_mutex held). */
static int holdref_netsock(bool counted)
{
	struct net *net = current->nsproxy->net_ns;
	struct socket *sock;
	u32 c[2];
	int err;

	if (nheld_socks >= HOLDREF_MAX)
		return -ENOSPC;
	err = __sock_create(net, AF_INET, SOCK_STREAM, IPPROTO_TCP, &sock,
			    !counted);
	if (err)
		return err;
	err = kernel_listen(sock, 8);
	if (err) {
		sock_release(sock);
		return err;
	}
	held_socks[nheld_socks++] = sock;
	sock_diag_save_cookie(sock->sk, c);
	last_cookie = (u64)c[1] << 32 | c[0];
	return 0;
}

/* "hold_timer": the same leak, from a timer callback (softirq). */
static struct timer_list holdref_timer;
static struct sock *holdref_timer_sk;
static DECLARE_COMPLETION(holdref_timer_done);

static void holdref_timer_fn(struct timer_list *t)
{
	struct sock *sk = holdref_timer_sk;

	/* The writer waits, holding holdref_mutex, until this completes. */
	sock_hold(sk);
	held[nheld++] = sk;
	complete(&holdref_timer_done);
}

/* Every reference taken, including a "notimers" one not yet used. */
static void holdref_release_all(void)
{
	while (nheld > 0)
		sock_put(held[--nheld]);
	while (nheld_files > 0)
		fput(held_files[--nheld_files]);
	while (nheld_socks > 0)
		sock_release(held_socks[--nheld_socks]);
	if (notimers_sk)
		sock_put(notimers_sk);
	notimers_sk = NULL;
}

/* "notimers_now" (holdref_mutex held). */
static int notimers_now(void)
{
	struct sock *sk = notimers_sk;

	if (!sk)
		return -ENOENT;
	lock_sock(sk);
	inet_csk_clear_xmit_timer(sk, ICSK_TIME_RETRANS);
	release_sock(sk);
	sock_put(sk);
	notimers_sk = NULL;
	return 0;
}

/* "race": the gets and puts of one CPU. */
struct race_arg {
	struct sock *sk;
	unsigned int n;
	atomic_t *ready;
	struct completion done;
};

static noinline void holdref_race_step(struct sock *sk)
{
	sock_hold(sk);
	sock_put(sk);
}

static int holdref_race_fn(void *data)
{
	struct race_arg *a = data;
	unsigned int i;

	/* Both threads start together. */
	atomic_inc(a->ready);
	while (atomic_read(a->ready) < 2)
		cpu_relax();
	for (i = 0; i < a->n; i++) {
		holdref_race_step(a->sk);
		cond_resched();
	}
	complete(&a->done);
	/* kthread_stop() waits for this thread to return. */
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* "race <fd> <n>" (holdref_mutex held); the caller holds @sk. */
static int holdref_race(struct sock *sk, unsigned int n)
{
	struct task_struct *t[2];
	struct race_arg arg[2];
	atomic_t ready = ATOMIC_INIT(0);
	int cpu[2], i;

	if (n > 1000000)
		return -EINVAL;
	cpu[0] = cpumask_first(cpu_online_mask);
	cpu[1] = cpumask_next(cpu[0], cpu_online_mask);
	if (cpu[1] >= nr_cpu_ids)
		return -ENODEV;
	for (i = 0; i < 2; i++) {
		arg[i].sk = sk;
		arg[i].n = n;
		arg[i].ready = &ready;
		init_completion(&arg[i].done);
		t[i] = kthread_create(holdref_race_fn, &arg[i], "sl_race/%d", cpu[i]);
		if (IS_ERR(t[i])) {
			/* Never woken: its function never runs. */
			if (i)
				kthread_stop(t[0]);
			return PTR_ERR(t[i]);
		}
		kthread_bind(t[i], cpu[i]);
	}
	for (i = 0; i < 2; i++)
		wake_up_process(t[i]);
	for (i = 0; i < 2; i++) {
		wait_for_completion(&arg[i].done);
		kthread_stop(t[i]);
	}
	return 0;
}

static unsigned int clone_delay_ms, clone_port;

static int clone_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *newsk = (struct sock *)regs_return_value(regs);

	if (newsk && ntohs(inet_sk(newsk)->inet_sport) == READ_ONCE(clone_port))
		mdelay(READ_ONCE(clone_delay_ms));
	return 0;
}

static struct kretprobe clone_krp = {
	.handler	= clone_ret,
	.maxactive	= 64,
};

static bool clone_armed;

/* The clone function's name differs across kernels: try each. */
static int clone_arm(void)
{
	static const char * const names[] = { "sk_clone_lock", "sk_clone" };
	int i, err = -ENOENT;

	for (i = 0; i < ARRAY_SIZE(names) && err; i++) {
		memset(&clone_krp.kp, 0, sizeof(clone_krp.kp));
		clone_krp.kp.symbol_name = names[i];
		err = register_kretprobe(&clone_krp);
	}
	return err;
}

/* "clone_delay <ms> <port>" (holdref_mutex held). */
static int clone_delay(unsigned int ms, unsigned int port)
{
	if (ms > 1000 || port > 65535)
		return -EINVAL;
	WRITE_ONCE(clone_port, port);
	WRITE_ONCE(clone_delay_ms, ms);
	if (ms && !clone_armed) {
		int err = clone_arm();

		if (err)
			return err;
		clone_armed = true;
	} else if (!ms && clone_armed) {
		unregister_kretprobe(&clone_krp);
		clone_armed = false;
	}
	return 0;
}

static ssize_t holdref_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	struct socket *sock;
	unsigned int ms, n, port = 0;
	char buf[32];
	int fd, err;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	strim(buf);

	mutex_lock(&holdref_mutex);
	if (!strcmp(buf, "release")) {
		holdref_release_all();
		err = 0;
	} else if (sscanf(buf, "clone_delay %u %u", &ms, &port) >= 1) {
		err = clone_delay(ms, port);
	} else if (!strcmp(buf, "notimers_now")) {
		err = notimers_now();
	} else if (sscanf(buf, "notimers %d", &fd) == 1) {
		sock = sockfd_lookup(fd, &err);
		if (sock) {
			if (notimers_sk || !sock->sk ||
			    sock->sk->sk_protocol != IPPROTO_TCP) {
				err = -EBUSY;
			} else {
				sock_hold(sock->sk);
				notimers_sk = sock->sk;
				err = 0;
			}
			sockfd_put(sock);
		}
	} else if (sscanf(buf, "race %d %u", &fd, &n) == 2) {
		sock = sockfd_lookup(fd, &err);
		if (sock) {
			err = sock->sk ? holdref_race(sock->sk, n) : -ENOTSOCK;
			sockfd_put(sock);
		}
	} else if (sscanf(buf, "hold_timer %d", &fd) == 1) {
		sock = sockfd_lookup(fd, &err);
		if (sock) {
			if (nheld < HOLDREF_MAX && sock->sk) {
				holdref_timer_sk = sock->sk;
				reinit_completion(&holdref_timer_done);
				mod_timer(&holdref_timer, jiffies + 1);
				wait_for_completion(&holdref_timer_done);
				err = 0;
			} else {
				err = -ENOSPC;
			}
			sockfd_put(sock);
		}
	} else if (sscanf(buf, "hold_file %d", &fd) == 1) {
		err = holdref_take_file(fd);
	} else if (sscanf(buf, "netsock %u", &n) == 1 && n <= 1) {
		err = holdref_netsock(n);
	} else if (sscanf(buf, "kern %d %d %d", &fd, &n, &port) == 3) {
		err = holdref_kern(fd, n, port);
	} else if (sscanf(buf, "hold2 %d", &fd) == 1) {
		sock = sockfd_lookup(fd, &err);
		if (sock) {
			if (nheld + 1 < HOLDREF_MAX && sock->sk) {
				holdref_take2(sock->sk);
				err = 0;
			} else {
				err = -ENOSPC;
			}
			sockfd_put(sock);
		}
	} else if (sscanf(buf, "hold %d", &fd) == 1) {
		sock = sockfd_lookup(fd, &err);
		if (sock) {
			if (nheld < HOLDREF_MAX && sock->sk) {
				holdref_take(sock->sk);
				err = 0;
			} else {
				err = -ENOSPC;
			}
			sockfd_put(sock);
		}
	} else {
		err = -EINVAL;
	}
	mutex_unlock(&holdref_mutex);
	return err ?: len;
}

static ssize_t holdref_read(struct file *file, char __user *ubuf, size_t len,
			    loff_t *ppos)
{
	char buf[16];
	int n;

	mutex_lock(&holdref_mutex);
	n = scnprintf(buf, sizeof(buf), "%d\n", nheld);
	mutex_unlock(&holdref_mutex);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static ssize_t holdref_cookie_read(struct file *file, char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	char buf[24];
	int n;

	mutex_lock(&holdref_mutex);
	if (last_cookie)
		n = scnprintf(buf, sizeof(buf), "%llx\n", last_cookie);
	else
		n = scnprintf(buf, sizeof(buf), "-\n");
	mutex_unlock(&holdref_mutex);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations holdref_cookie_fops = {
	.owner	= THIS_MODULE,
	.read	= holdref_cookie_read,
	.llseek	= default_llseek,
};

static const struct file_operations holdref_fops = {
	.owner	= THIS_MODULE,
	.write	= holdref_write,
	.read	= holdref_read,
	.llseek	= default_llseek,
};

static int __init holdref_init(void)
{
	timer_setup(&holdref_timer, holdref_timer_fn, 0);
	holdref_dir = debugfs_create_dir("sockleak_holdref", NULL);
	debugfs_create_file("ctl", 0600, holdref_dir, NULL, &holdref_fops);
	debugfs_create_file("cookie", 0400, holdref_dir, NULL,
			    &holdref_cookie_fops);
	return 0;
}

static void __exit holdref_exit(void)
{
	debugfs_remove_recursive(holdref_dir);
	mutex_lock(&holdref_mutex);
	clone_delay(0, 0);
	holdref_release_all();
	mutex_unlock(&holdref_mutex);
}

module_init(holdref_init);
module_exit(holdref_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sockleak selftests: leak a socket reference on demand (test only)");
