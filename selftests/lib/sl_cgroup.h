/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Library of the cgroups selftests (lib/cgroup.c): a "holder" child
 * process that joins a cgroup and holds TCP and UDP sockets with queued
 * data, the independent figures of those sockets from ss (inet_diag), and
 * cgroupfs files.
 */
#ifndef SL_CGROUP_H
#define SL_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sl_util.h"

/* Sockets a holder creates: listener, client, accepted, 2 x UDP. */
#define HOLD_TCP	3
#define HOLD_UDP	2
#define HOLD_SOCKS	(HOLD_TCP + HOLD_UDP)

struct holder {
	pid_t pid;
	int up;		/* child -> parent */
	int down;	/* parent -> child */
	unsigned long long cookie[HOLD_SOCKS];
};

/* The holder's sockets as ss sees them. */
struct hold_ss {
	int found, tcp, udp;
	long long r, w, f;
	long long charged;	/* Σ pages of (r + w + f), in bytes */
};

int hold_sendall(int fd, const char *buf, size_t len);
int hold_start(struct holder *h, const char *procs, int tcp_bytes,
	       int udp_dgrams);
int hold_move_to_root(struct holder *h);
int hold_stop(struct holder *h);
int hold_ss(const struct holder *h, struct hold_ss *o);

bool cg_line(const char *report, unsigned long long ino, char *out,
	     size_t size);
int sl_cg_v2_memory_on(void);
unsigned long long path_ino(const char *path);
long long cg_stat(const char *path, const char *key);
long long cg_stat_settled(const char *path, const char *key);
long long file_ll(const char *path);

#endif /* SL_CGROUP_H */
