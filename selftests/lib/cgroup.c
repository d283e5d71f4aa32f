// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak selftests library: the holder process of the cgroups tests,
 * its sockets as ss sees them, cgroupfs files.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_cgroup.h"
#include "sl_inet.h"

int hold_sendall(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, 0);

		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * The child: join procs (a cgroup.procs file), create the sockets, send
 * tcp_bytes client -> accepted and half of it back, and udp_dgrams
 * datagrams of 1000 bytes that nobody reads; report the cookies; then obey
 * the parent: 'm' moves the child to the v2 root cgroup (so its cgroup
 * can be removed while the sockets live on), 'q' or EOF closes everything
 * and exits.
 */
static int hold_child(const char *procs, int tcp_bytes,
		      int udp_dgrams, int up, int down)
{
	const struct sl_sock_opts lo = { .backlog = 4 }, client = {};
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr_storage la;
	int l, c, s, u1, u2, fds[HOLD_SOCKS], i;
	socklen_t alen = sizeof(a);
	static char buf[1 << 16];
	char cmd;

	if (procs && sl_write(procs, "0"))
		return 10;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = sl_listener_at(&lo, &la);
	if (l < 0)
		return 11;
	c = sl_connect_at(&client, &la);
	if (c < 0)
		return 12;
	s = accept(l, NULL, NULL);
	if (s < 0)
		return 13;
	memset(buf, 'x', sizeof(buf));
	if ((size_t)tcp_bytes > sizeof(buf) ||
	    hold_sendall(c, buf, tcp_bytes) ||
	    hold_sendall(s, buf, tcp_bytes / 2))
		return 14;

	u1 = socket(AF_INET, SOCK_DGRAM, 0);
	u2 = socket(AF_INET, SOCK_DGRAM, 0);
	if (u1 < 0 || u2 < 0 || bind(u1, (void *)&a, sizeof(a)) ||
	    getsockname(u1, (void *)&a, &alen))
		return 15;
	for (i = 0; i < udp_dgrams; i++)
		if (sendto(u2, buf, 1000, 0, (void *)&a, sizeof(a)) != 1000)
			return 16;

	fds[0] = l;
	fds[1] = c;
	fds[2] = s;
	fds[3] = u1;
	fds[4] = u2;
	for (i = 0; i < HOLD_SOCKS; i++) {
		unsigned long long ck = sl_sock_cookie(fds[i]);

		if (write(up, &ck, sizeof(ck)) != sizeof(ck))
			return 17;
	}
	while (read(down, &cmd, 1) == 1) {
		if (cmd == 'q')
			break;
		if (cmd == 'm') {
			if (sl_write("/sys/fs/cgroup/cgroup.procs", "0"))
				return 18;
			if (write(up, "k", 1) != 1)
				return 19;
		}
	}
	return 0;
}

/* Start a holder in the cgroup of the procs file (NULL: stay). */
int hold_start(struct holder *h, const char *procs,
	       int tcp_bytes, int udp_dgrams)
{
	int up[2], down[2], i;

	if (pipe(up) || pipe(down))
		return -1;
	h->pid = fork();
	if (h->pid < 0)
		return -1;
	if (!h->pid) {
		close(up[0]);
		close(down[1]);
		_exit(hold_child(procs, tcp_bytes, udp_dgrams, up[1],
				 down[0]));
	}
	close(up[1]);
	close(down[0]);
	h->up = up[0];
	h->down = down[1];
	for (i = 0; i < HOLD_SOCKS; i++)
		if (read(h->up, &h->cookie[i], sizeof(h->cookie[i])) !=
		    sizeof(h->cookie[i]))
			return -1;
	return 0;
}

/* Move the holder to the v2 root cgroup; its sockets keep their memcg. */
int hold_move_to_root(struct holder *h)
{
	char k;

	if (write(h->down, "m", 1) != 1 || read(h->up, &k, 1) != 1)
		return -1;
	return k == 'k' ? 0 : -1;
}

/* Close the sockets and reap the child; returns its exit status. */
int hold_stop(struct holder *h)
{
	int status = -1;

	if (h->pid <= 0)
		return 0;
	if (write(h->down, "q", 1) != 1)
		kill(h->pid, SIGKILL);
	close(h->down);
	close(h->up);
	waitpid(h->pid, &status, 0);
	h->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int hold_ss(const struct holder *h, struct hold_ss *o)
{
	long page = sysconf(_SC_PAGESIZE);
	struct ss_list l;
	int i;

	memset(o, 0, sizeof(*o));
	if (ss_list(NULL, &l) < 0)
		return -1;
	for (i = 0; i < HOLD_SOCKS; i++) {
		struct ss_sock *s = ss_find(&l, h->cookie[i]);
		long long b;

		if (!s || !s->has_skmem)
			continue;
		o->found++;
		if (!strcmp(s->netid, "tcp"))
			o->tcp++;
		else
			o->udp++;
		o->r += s->r;
		o->w += s->w;
		o->f += s->f;
		b = s->r + s->w + s->f;
		if (b > 0)
			o->charged += (b + page - 1) / page * page;
	}
	ss_free(&l);
	return 0;
}

/* The line of the cgroups report with id=<ino>, copied; false if none. */
bool cg_line(const char *report, unsigned long long ino, char *out, size_t size)
{
	const char *line = report;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len < size) {
			memcpy(out, line, len);
			out[len] = '\0';
			if ((unsigned long long)sl_kv_ll(out, "id") == ino)
				return true;
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

/*
 * Enable the memory controller on the cgroup v2 root, waiting (up to
 * 30 s) until cgroups_v1_test's v1 hierarchy has released it. It first
 * tells cgroups_v1_test that v2 memcgs were used in this boot: moving the
 * memory controller from v2 to v1 afterwards WARNs on 6.1. 0 or -errno.
 */
int sl_cg_v2_memory_on(void)
{
	int waited, err = -1;

	close(open("/run/sockleak-v2-memcg-used", O_CREAT | O_WRONLY, 0600));
	for (waited = 0; waited <= 30000 && err; waited += 200) {
		err = sl_write("/sys/fs/cgroup/cgroup.subtree_control",
			       "+memory");
		if (err)
			sl_msleep(200);
	}
	return err;
}

unsigned long long path_ino(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return 0;
	return st.st_ino;
}

/* "key value" line of a cgroupfs stat file such as memory.stat. */
long long cg_stat(const char *path, const char *key)
{
	char *text = sl_read_file(path), *p;
	size_t klen = strlen(key);
	long long v = -1;

	if (!text)
		return -1;
	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ' ') {
			v = strtoll(p + klen + 1, NULL, 10);
			break;
		}
	free(text);
	return v;
}

/*
 * cg_stat() once its value is settled: memory.stat folds in per-CPU deltas
 * only past a threshold or at the periodic flush (every 2 s, see
 * cgroups_test.c), so a fresh read may lag. Two reads 2.5 s apart that
 * agree have a periodic flush between them: with the counted memory
 * quiescent, that value is exact. -1 when it does not settle in 15 s.
 */
long long cg_stat_settled(const char *path, const char *key)
{
	long long prev = cg_stat(path, key), v;
	int waited;

	for (waited = 0; waited < 15000; waited += 2500) {
		sl_msleep(2500);
		v = cg_stat(path, key);
		if (v == prev)
			return v;
		prev = v;
	}
	return -1;
}

long long file_ll(const char *path)
{
	char *text = sl_read_file(path);
	long long v;

	if (!text)
		return -1;
	v = strtoll(text, NULL, 10);
	free(text);
	return v;
}
