// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak_holdref - TEST ONLY fault injection for the sockleak selftests:
 * a stand-in for a buggy kernel user that leaks a socket reference.
 *
 * /sys/kernel/debug/sockleak_holdref/ctl (root, write-only):
 *   "hold <fd>"   take an extra reference (sock_hold) on the socket that
 *                 file descriptor <fd> of the writing process refers to
 *   "release"     drop every reference taken
 * Reading returns the number of references held. Unloading releases them.
 *
 * Locking rules: holdref_mutex protects the held[] array; it is taken in
 * process context only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#define HOLDREF_MAX	16

static DEFINE_MUTEX(holdref_mutex);
static struct sock *held[HOLDREF_MAX];
static int nheld;
static struct dentry *holdref_dir;

static void holdref_release_all(void)
{
	while (nheld > 0)
		sock_put(held[--nheld]);
}

static ssize_t holdref_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	struct socket *sock;
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
	} else if (sscanf(buf, "hold %d", &fd) == 1) {
		sock = sockfd_lookup(fd, &err);
		if (sock) {
			if (nheld < HOLDREF_MAX && sock->sk) {
				sock_hold(sock->sk);
				held[nheld++] = sock->sk;
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

static const struct file_operations holdref_fops = {
	.owner	= THIS_MODULE,
	.write	= holdref_write,
	.read	= holdref_read,
	.llseek	= default_llseek,
};

static int __init holdref_init(void)
{
	holdref_dir = debugfs_create_dir("sockleak_holdref", NULL);
	debugfs_create_file("ctl", 0600, holdref_dir, NULL, &holdref_fops);
	return 0;
}

static void __exit holdref_exit(void)
{
	debugfs_remove_recursive(holdref_dir);
	mutex_lock(&holdref_mutex);
	holdref_release_all();
	mutex_unlock(&holdref_mutex);
}

module_init(holdref_init);
module_exit(holdref_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sockleak selftests: leak a socket reference on demand (test only)");
