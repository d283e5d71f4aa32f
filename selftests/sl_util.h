/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the sockleak selftests: reading debugfs files, running
 * commands, parsing sockleak's key=value lines and iproute2 ss's output
 * (the independent source every test compares against).
 */
#ifndef SL_UTIL_H
#define SL_UTIL_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

#define SL_DIR "/sys/kernel/debug/sockleak"

/*
 * Heavy tests scale their load down on a slow kernel (the debug kernel of
 * "make check-debug" sets SL_SLOW=1): a fifth of the iterations. Their
 * per-test timeouts are generous for the same reason.
 */
static inline int sl_scale(int n)
{
	return getenv("SL_SLOW") ? n / 5 : n;
}

#define SL_HEAVY_TIMEOUT 900
#define SS_BIN "/usr/bin/ss"

/* Read a whole file with reads of chunk bytes; malloc'ed, NUL-terminated. */
static inline char *sl_read_file_chunked(const char *path, size_t chunk,
					 size_t *lenp)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n = 0;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		if (cap - len < chunk + 1) {
			char *nb;

			cap = (cap + chunk) * 2;
			nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		n = read(fd, buf + len, chunk);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

/*
 * One long chain of the UDP hash: fds[0] a UDP socket bound to a free
 * loopback port P, fds[1..n] bound to P too (SO_REUSEADDR), each connected
 * to its own peer port, so all of them sit in P's slot. Returns how many
 * of fds[] are open: n + 1, fewer on failure (errno says why).
 */
static inline int sl_udp_chain(int *fds, int n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int one = 1, i;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (i = 0; i <= n; i++) {
		struct sockaddr_in peer = sin;

		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		peer.sin_port = htons(1024 + i);
		if (fds[i] < 0 ||
		    setsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR, &one,
			       sizeof(one)) ||
		    bind(fds[i], (struct sockaddr *)&sin, sizeof(sin)) ||
		    (!i && getsockname(fds[i], (struct sockaddr *)&sin, &len)) ||
		    (i && connect(fds[i], (struct sockaddr *)&peer,
				  sizeof(peer)))) {
			if (fds[i] >= 0)
				close(fds[i]);
			return i;
		}
	}
	return n + 1;
}

static inline char *sl_read_file(const char *path)
{
	return sl_read_file_chunked(path, 1 << 16, NULL);
}

/* Run a shell command, return its stdout (malloc'ed) or NULL. */
static inline char *sl_run(const char *cmd)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	FILE *p = popen(cmd, "r");
	size_t n;

	if (!buf || !p) {
		free(buf);
		if (p)
			pclose(p);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	if (pclose(p) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Write a string to a file; returns 0 or -errno. */
static inline int sl_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

static inline int sl_control(const char *cmd)
{
	return sl_write(SL_DIR "/control", cmd);
}

/*
 * Value of key in a line of space-separated key=value words, copied into
 * out. Returns true when the key is present.
 */
static inline bool sl_kv(const char *line, const char *key, char *out,
			 size_t size)
{
	size_t klen = strlen(key);
	const char *p = line;

	while (*p && *p != '\n') {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = 0;

			p += klen + 1;
			while (p[n] && p[n] != ' ' && p[n] != '\n')
				n++;
			if (n >= size)
				n = size - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	return false;
}

static inline long long sl_kv_ll(const char *line, const char *key)
{
	char v[64];

	if (!sl_kv(line, key, v, sizeof(v)))
		return -1;
	return strtoll(v, NULL, 0);
}

/* Does a comma-separated flags= value contain flag? */
static inline bool sl_has_flag(const char *line, const char *flag)
{
	char v[256], *tok, *save;

	if (!sl_kv(line, "flags", v, sizeof(v)))
		return false;
	for (tok = strtok_r(v, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, flag))
			return true;
	return false;
}

/* Network namespace inode number of the calling thread. */
static inline unsigned long sl_netns_inum(void)
{
	char link[64] = "";
	unsigned long inum = 0;

	if (readlink("/proc/thread-self/ns/net", link, sizeof(link) - 1) > 0)
		sscanf(link, "net:[%lu]", &inum);
	return inum;
}

/*
 * One socket as ss -tuanmieH prints it (or with other options, see
 * ss_list_opts()). MPTCP: with -M, an MPTCP-level socket (netid "mptcp")
 * has its token ("token:%x", -i); with -t -i, a TCP subflow of an MPTCP
 * connection says "tcp-ulp-mptcp ... token:REM(id:n)/LOC(id:n)", where
 * LOC is the token of its own MPTCP-level socket.
 */
struct ss_sock {
	char netid[8];
	char state[16];
	char local[80];
	char peer[80];
	char cgroup[128];	/* --cgroup: the v2 path, "" when not asked */
	unsigned long long cookie;
	unsigned long ino;
	unsigned long uid;
	bool has_skmem;
	long long r, rb, t, tb, f, w, o, bl, d;
	long long recvq, sendq;
	unsigned int token;		/* MPTCP-level socket: its token */
	bool subflow;			/* tcp-ulp-mptcp */
	unsigned int sf_token_rem, sf_token_loc;
};

struct ss_list {
	struct ss_sock *s;
	int n;
};

static inline void ss_free(struct ss_list *l)
{
	free(l->s);
	l->s = NULL;
	l->n = 0;
}

/* Parse one record (first line plus continuation lines). */
static inline void ss_parse_record(char *rec, struct ss_sock *s)
{
	char *tok, *save, *p;
	int i = 0;

	memset(s, 0, sizeof(*s));
	for (tok = strtok_r(rec, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save), i++) {
		switch (i) {
		case 0:
			snprintf(s->netid, sizeof(s->netid), "%s", tok);
			continue;
		case 1:
			snprintf(s->state, sizeof(s->state), "%s", tok);
			continue;
		case 2:
			s->recvq = atoll(tok);
			continue;
		case 3:
			s->sendq = atoll(tok);
			continue;
		case 4:
			snprintf(s->local, sizeof(s->local), "%s", tok);
			continue;
		case 5:
			snprintf(s->peer, sizeof(s->peer), "%s", tok);
			continue;
		}
		if (!strncmp(tok, "ino:", 4))
			s->ino = strtoul(tok + 4, NULL, 10);
		else if (!strncmp(tok, "uid:", 4))
			s->uid = strtoul(tok + 4, NULL, 10);
		else if (!strncmp(tok, "sk:", 3))
			s->cookie = strtoull(tok + 3, NULL, 16);
		else if (!strcmp(tok, "tcp-ulp-mptcp"))
			s->subflow = true;
		else if (!strncmp(tok, "token:", 6)) {
			unsigned int rem, loc, rid, lid;

			if (sscanf(tok + 6, "%x(id:%u)/%x(id:%u)", &rem, &rid,
				   &loc, &lid) == 4) {
				s->sf_token_rem = rem;
				s->sf_token_loc = loc;
			} else {
				s->token = strtoul(tok + 6, NULL, 16);
			}
		} else if (!strncmp(tok, "cgroup:", 7))
			snprintf(s->cgroup, sizeof(s->cgroup), "%s", tok + 7);
		else if (!strncmp(tok, "skmem:(", 7)) {
			s->has_skmem = true;
			for (p = tok + 7; *p && *p != ')';) {
				char key[4] = "";
				int k = 0;
				long long v;

				while (isalpha((unsigned char)*p) && k < 3)
					key[k++] = *p++;
				key[k] = '\0';
				v = strtoll(p, &p, 10);
				if (!strcmp(key, "r"))
					s->r = v;
				else if (!strcmp(key, "rb"))
					s->rb = v;
				else if (!strcmp(key, "t"))
					s->t = v;
				else if (!strcmp(key, "tb"))
					s->tb = v;
				else if (!strcmp(key, "f"))
					s->f = v;
				else if (!strcmp(key, "w"))
					s->w = v;
				else if (!strcmp(key, "o"))
					s->o = v;
				else if (!strcmp(key, "bl"))
					s->bl = v;
				else if (!strcmp(key, "d"))
					s->d = v;
				if (*p == ',')
					p++;
				else if (*p != ')')
					break;
			}
		}
	}
}

/*
 * Run ss with options opts (in network namespace ns, a name under
 * /run/netns, or the caller's when NULL) and parse every socket it
 * prints. opts must select more than one socket table (-t -u, -t -M...),
 * so that ss prints the Netid column, and hold -H.
 */
static inline int ss_list_opts(const char *ns, const char *opts,
			       struct ss_list *l)
{
	char cmd[256], *out, *line, *next, *rec = NULL;
	size_t reclen = 0;
	int cap = 64;

	snprintf(cmd, sizeof(cmd), SS_BIN " %s %s%s 2>/dev/null", opts,
		 ns ? "-N " : "", ns ? ns : "");
	out = sl_run(cmd);
	if (!out)
		return -1;
	l->n = 0;
	l->s = calloc(cap, sizeof(*l->s));
	for (line = out; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line != ' ' && *line != '\t' && rec) {
			if (l->n == cap) {
				cap *= 2;
				l->s = realloc(l->s, cap * sizeof(*l->s));
			}
			ss_parse_record(rec, &l->s[l->n++]);
			free(rec);
			rec = NULL;
			reclen = 0;
		}
		rec = realloc(rec, reclen + strlen(line) + 2);
		memcpy(rec + reclen, line, strlen(line));
		reclen += strlen(line);
		rec[reclen++] = ' ';
		rec[reclen] = '\0';
	}
	if (rec) {
		if (l->n == cap) {
			cap++;
			l->s = realloc(l->s, cap * sizeof(*l->s));
		}
		ss_parse_record(rec, &l->s[l->n++]);
		free(rec);
	}
	free(out);
	return l->n;
}

/* Every TCP and UDP socket, as ss -tuanmieH prints them. */
static inline int ss_list(const char *ns, struct ss_list *l)
{
	return ss_list_opts(ns, "-tuanmieH", l);
}

static inline struct ss_sock *ss_find(struct ss_list *l,
				      unsigned long long cookie)
{
	for (int i = 0; i < l->n; i++)
		if (l->s[i].cookie == cookie)
			return &l->s[i];
	return NULL;
}

/* Lines of sockleak's "sockets" file, split in place. */
struct sl_list {
	char *buf;
	char **line;
	int n;
};

/* Same sockets, states and memory in both lists. */
static inline bool ss_same(struct ss_list *a, struct ss_list *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++) {
		struct ss_sock *x = &a->s[i], *y = ss_find(b, x->cookie);

		if (!y || strcmp(x->state, y->state) || x->r != y->r ||
		    x->t != y->t || x->f != y->f || x->w != y->w ||
		    x->rb != y->rb || x->tb != y->tb || x->bl != y->bl)
			return false;
	}
	return true;
}

/* Lines of a (debugfs) file, split in place. */
static inline int sl_lines(const char *file, struct sl_list *l)
{
	char *p, *nl;
	int cap = 64;

	l->buf = sl_read_file(file);
	if (!l->buf)
		return -1;
	l->n = 0;
	l->line = calloc(cap, sizeof(char *));
	for (p = l->buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (l->n == cap) {
			cap *= 2;
			l->line = realloc(l->line, cap * sizeof(char *));
		}
		l->line[l->n++] = p;
	}
	return l->n;
}

static inline int sl_sockets(struct sl_list *l)
{
	return sl_lines(SL_DIR "/sockets", l);
}

static inline void sl_free(struct sl_list *l)
{
	free(l->buf);
	free(l->line);
	memset(l, 0, sizeof(*l));
}

static inline void sl_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The socket's SO_COOKIE (what "cookie=" prints), 0 on error. */
static inline unsigned long long sl_sock_cookie(int fd)
{
	unsigned long long c = 0;
	socklen_t len = sizeof(c);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len))
		return 0;
	return c;
}

static inline unsigned long long sl_cookie(const char *line)
{
	char v[32];

	if (!sl_kv(line, "cookie", v, sizeof(v)))
		return 0;
	return strtoull(v, NULL, 16);
}

static inline const char *sl_find(struct sl_list *l, unsigned long long cookie)
{
	for (int i = 0; i < l->n; i++)
		if (sl_cookie(l->line[i]) == cookie)
			return l->line[i];
	return NULL;
}

/* The summary line with the given netns= and kind= (and proto=, or NULL). */
static inline bool sl_summary_line(const char *summary, const char *netns,
				   const char *kind, const char *proto,
				   char *out, size_t size)
{
	const char *line = summary;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[4096], v[64];

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (sl_kv(buf, "netns", v, sizeof(v)) && !strcmp(v, netns) &&
		    sl_kv(buf, "kind", v, sizeof(v)) && !strcmp(v, kind) &&
		    (!proto || (sl_kv(buf, "proto", v, sizeof(v)) &&
				!strcmp(v, proto)))) {
			snprintf(out, size, "%s", buf);
			return true;
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

/* A key of summary's netns=all line of this kind (and proto), -1: none. */
static inline long long sl_summary_field(const char *kind, const char *proto,
					 const char *key)
{
	char *sum = sl_read_file(SL_DIR "/summary"), line[4096];
	long long v = -1;

	if (sum && sl_summary_line(sum, "all", kind, proto, line, sizeof(line)))
		v = sl_kv_ll(line, key);
	free(sum);
	return v;
}

/*
 * A TCP listener on 127.0.0.1, any port; @flags are socket() type flags
 * (SOCK_CLOEXEC). -1 on error.
 */
static inline int sl_listener(int flags)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | flags, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 64))
		return -1;
	return fd;
}

/* A TCP socket connected to listener @lfd; -1 on error. */
static inline int sl_connect(int lfd, int flags)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd;

	if (getsockname(lfd, (struct sockaddr *)&a, &len))
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | flags, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, len))
		return -1;
	return fd;
}

/*
 * @n connections to listener @l whose peers sent 8000 bytes, which stay
 * unread, and then reset them (SO_LINGER 0): cl[] are the clients, CLOSE
 * and unhashed, still open (close-on-exec, as a helper the test runs
 * must not inherit them). 0, or -1 on error.
 */
static inline int sl_make_resets(int l, int *cl, int n)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	static char data[8000];

	for (int i = 0; i < n; i++) {
		int a, got = 0;

		cl[i] = sl_connect(l, SOCK_CLOEXEC);
		a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (cl[i] < 0 || a < 0)
			return -1;
		if (send(a, data, sizeof(data), 0) != sizeof(data))
			return -1;
		for (int t = 0; t < 500 && got < (int)sizeof(data); t++) {
			ioctl(cl[i], FIONREAD, &got);
			if (got < (int)sizeof(data))
				sl_msleep(10);
		}
		if (got < (int)sizeof(data))
			return -1;
		setsockopt(a, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
		close(a);
	}
	/* Wait for the resets: the state becomes CLOSE. */
	for (int i = 0; i < n; i++) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		int tries = 500;

		while (!getsockopt(cl[i], IPPROTO_TCP, TCP_INFO, &ti, &len) &&
		       ti.tcpi_state != TCP_CLOSE && --tries)
			sl_msleep(10);
		if (ti.tcpi_state != TCP_CLOSE)
			return -1;
	}
	return 0;
}

/*
 * The "suspects" line with kind=@kind (NULL: any) and id=@id, or NULL.
 * Sockets and tracked entries have their cookie in hex as id, cgroups
 * their cgroup id in decimal.
 */
static inline const char *sl_suspect(struct sl_list *l, const char *kind,
				     const char *id)
{
	char k[32], v[32];

	for (int i = 0; i < l->n; i++)
		if (sl_kv(l->line[i], "id", v, sizeof(v)) && !strcmp(v, id) &&
		    (!kind || (sl_kv(l->line[i], "kind", k, sizeof(k)) &&
			       !strcmp(k, kind))))
			return l->line[i];
	return NULL;
}

static inline const char *sl_suspect_cookie(struct sl_list *l,
					    const char *kind,
					    unsigned long long cookie)
{
	char id[32];

	snprintf(id, sizeof(id), "%llx", cookie);
	return sl_suspect(l, kind, id);
}

/*
 * A key of a report line against the value an independent source gave,
 * logging the whole line when they differ.
 */
#define EXPECT_FIELD(line, key, want)					\
	do {								\
		long long _got = sl_kv_ll(line, key);			\
		EXPECT_EQ((long long)(want), _got) {			\
			TH_LOG("%s: want %lld, sockleak %lld in: %s",	\
			       key, (long long)(want), _got, line);	\
		}							\
	} while (0)

#define EXPECT_FIELD_STR(line, key, want)				\
	do {								\
		char _got[96] = "";					\
		sl_kv(line, key, _got, sizeof(_got));			\
		EXPECT_STREQ(want, _got) {				\
			TH_LOG("%s in: %s", key, line);			\
		}							\
	} while (0)

/* The line of "tracked" (or NULL) for cookie; *text is to be freed. */
static inline const char *sl_tracked_find(char **text,
					  unsigned long long cookie)
{
	char *p, *nl;

	*text = sl_read_file(SL_DIR "/tracked");
	if (!*text)
		return NULL;
	for (p = *text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (sl_cookie(p) == cookie)
			return p;
	}
	return NULL;
}

#endif /* SL_UTIL_H */
