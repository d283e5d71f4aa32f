/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Library of the sockleak selftests (the .c files of lib/, compiled once
 * into libsltest.a, which every test links): reading debugfs files,
 * running commands, parsing sockleak's key=value lines and iproute2 ss's
 * output (the independent source every test compares against), and the
 * sockets the tests build. Each function is described where it is defined.
 */
#ifndef SL_UTIL_H
#define SL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sl_inet.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

#define SL_DIR "/sys/kernel/debug/sockleak"
#define SL_HEAVY_TIMEOUT 900
#define SS_BIN "/usr/bin/ss"

/* util.c: files, commands, key=value words, time. */
int sl_scale(int n);
char *sl_read_file_chunked(const char *path, size_t chunk, size_t *lenp);
char *sl_read_file(const char *path);
char *sl_run(const char *cmd);
int sl_write(const char *path, const char *s);
int sl_control(const char *cmd);
bool sl_kv(const char *line, const char *key, char *out, size_t size);
long long sl_kv_ll(const char *line, const char *key);
bool sl_has_flag(const char *line, const char *flag);
unsigned long sl_netns_inum(void);
void sl_msleep(int ms);

/*
 * ss.c: one socket as ss -tuanmieH prints it (or with other options, see
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

void ss_free(struct ss_list *l);
int ss_list_opts(const char *ns, const char *opts, struct ss_list *l);
int ss_list(const char *ns, struct ss_list *l);
struct ss_sock *ss_find(struct ss_list *l, unsigned long long cookie);
bool ss_same(struct ss_list *a, struct ss_list *b);

/* report.c: lines of sockleak's files ("sockets"...), split in place. */
struct sl_list {
	char *buf;
	char **line;
	int n;
};

int sl_lines(const char *file, struct sl_list *l);
int sl_sockets(struct sl_list *l);
void sl_free(struct sl_list *l);
unsigned long long sl_cookie(const char *line);
const char *sl_find(struct sl_list *l, unsigned long long cookie);
bool sl_summary_line(const char *summary, const char *netns,
		     const char *kind, const char *proto,
		     char *out, size_t size);
long long sl_summary_field(const char *kind, const char *proto,
			   const char *key);
const char *sl_suspect(struct sl_list *l, const char *kind, const char *id);
const char *sl_suspect_cookie(struct sl_list *l, const char *kind,
			      unsigned long long cookie);
const char *sl_tracked_find(char **text, unsigned long long cookie);
int sl_tracked_by(pid_t pid);

/*
 * sock.c: loopback sockets the tests build; TCP and MPTCP listeners and
 * connections of any kind: sl_inet.h.
 */
int sl_udp_chain(int *fds, int n);
unsigned long long sl_sock_cookie(int fd);
int sl_listener(int flags);
int sl_connect(int lfd, int flags);
int sl_tcp_pair(int *c, int *a);
long long sl_proc_refcnt(const char *path, int fd);
int sl_make_resets(int l, int *cl, int n);
int sl_send_fd(int s, int fd);
int sl_recv_fd(int s);

/*
 * A key of a report line against the value an independent source gave,
 * logging the whole line when they differ (kselftest_harness.h tests).
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

#endif /* SL_UTIL_H */
