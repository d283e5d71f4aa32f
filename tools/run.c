// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - run [--watch FILTER] [--timeout SEC] -- CMD ARGS...:
 * valgrind's leak check, for kernel sockets.
 *
 * CMD runs in a fresh cgroup v2 (sockleak-run-PID under the cgroup root)
 * with tracking on and grace_ms=0, so every socket it closes is listed by
 * "tracked" at once. A socket is CMD's when its cgroup= (sk_cgrp_data:
 * the cgroup of the task that created it; an accepted child inherits its
 * listener's) is that cgroup, or when it was seen so before (a TIME-WAIT
 * socket keeps its full socket's cookie, not its cgroup). After CMD exits, the helper waits, at most
 * --timeout seconds (default 30), until each of CMD's sockets is freed or
 * has a verdict other than owner:
 *   timer   a pending timer will end it (TIME-WAIT, FIN-WAIT-2, an orphan
 *           retransmitting): reported, not a leak;
 *   never   nothing will free it: a leak, once it has stayed so for
 *           NEVER_SETTLE_MS (a closing socket passes through states where
 *           its last references are being dropped).
 * Then it reports each leak with its allocation and close stacks, the
 * teardown steps that never ran and, when watched (--watch: the module's
 * watch_next filter, e.g. port:8080 or proto:tcp,count:2), the code that
 * took the reference never put. What is still owned when time runs out
 * (a process of the cgroup still holds it) is listed as pending.
 *
 * The module's tunables grace_ms and track are restored on exit; the
 * cgroup is removed when empty. Exit status: 0 no leak, 1 leaks, 2 error
 * (CMD's own status is printed, not returned).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "parse.h"
#include "sockleak.h"

#define NEVER_SETTLE_MS	1000
#define POLL_MS		200
#define RUN_MAX		4096

struct run_sock {
	char cookie[32];
	char proto[16], state[16], verdict[16];
	long long refcnt, timer_left_ms;
	double never_since;	/* first seen never, 0: not never */
	bool present;		/* listed in this round */
	bool freed;		/* listed before, gone now */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct run_sock *run_find(struct run_sock *v, int *n,
				 const char *cookie)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(v[i].cookie, cookie))
			return &v[i];
	if (*n == RUN_MAX)
		return NULL;
	memset(&v[*n], 0, sizeof(v[*n]));
	snprintf(v[*n].cookie, sizeof(v[*n].cookie), "%s", cookie);
	return &v[(*n)++];
}

static bool run_known(const struct run_sock *v, int n, const char *cookie)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i].cookie, cookie))
			return true;
	return false;
}

/* The value of tunable @name in "control", or -1. */
static long long control_get(const char *name)
{
	struct report r;
	long long v = -1;

	load(&r, "control", FMT_KV, false);
	for (int i = 0; i < r.n; i++)
		if (r.recs[i].n && !strcmp(r.recs[i].kv[0].key, name)) {
			if (!strcmp(r.recs[i].kv[0].val, "on"))
				v = 1;
			else if (!strcmp(r.recs[i].kv[0].val, "off"))
				v = 0;
			else
				v = atoll(r.recs[i].kv[0].val);
		}
	report_free(&r);
	return v;
}

/* Processes left in cgroup @dir. */
static int cg_procs(const char *dir)
{
	char path[512], *t;
	int n = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	t = slurp(path);
	for (char *p = t; p && *p; p++)
		if (*p == '\n')
			n++;
	free(t);
	return n;
}

/*
 * One round: CMD's sockets as "sockets" lists them now. Sockets listed
 * in an earlier round and gone now were freed.
 */
static void run_round(struct run_sock *v, int *n, const char *cg)
{
	struct report r;

	for (int i = 0; i < *n; i++)
		v[i].present = false;
	load(&r, "sockets", FMT_SOCKETS, false);
	for (int i = 0; i < r.n; i++) {
		const struct rec *x = &r.recs[i];
		struct run_sock *s;

		/*
		 * CMD's by its cgroup; or seen as CMD's before: its
		 * TIME-WAIT successor keeps the cookie but has no cgroup.
		 */
		if (strcmp(get_or(x, "cgroup"), cg) &&
		    !run_known(v, *n, get_or(x, "cookie")))
			continue;
		s = run_find(v, n, get_or(x, "cookie"));
		if (!s)
			continue;
		s->present = true;
		s->freed = false;
		snprintf(s->proto, sizeof(s->proto), "%s", get_or(x, "proto"));
		snprintf(s->state, sizeof(s->state), "%s", get_or(x, "state"));
		snprintf(s->verdict, sizeof(s->verdict), "%s",
			 get_or(x, "verdict"));
		s->refcnt = rec_num0(x, "refcnt");
		if (!rec_num(x, "timer_left_ms", &s->timer_left_ms))
			s->timer_left_ms = -1;
		if (!strcmp(s->verdict, "never")) {
			if (!s->never_since)
				s->never_since = mono_s();
		} else {
			s->never_since = 0;
		}
	}
	report_free(&r);
	for (int i = 0; i < *n; i++)
		if (!v[i].present)
			v[i].freed = true;
}

static bool run_is_leak(const struct run_sock *s)
{
	return !s->freed && s->never_since &&
	       (mono_s() - s->never_since) * 1000 >= NEVER_SETTLE_MS;
}

/* Done waiting: every socket freed, on a timer, or a settled leak. */
static bool run_settled(const struct run_sock *v, int n)
{
	for (int i = 0; i < n; i++) {
		if (v[i].freed || !strcmp(v[i].verdict, "timer") ||
		    run_is_leak(&v[i]))
			continue;
		return false;
	}
	return true;
}

/* A leak: what tracked and suspects know of it. */
static void run_report_leak(const struct run_sock *s)
{
	struct report t, su;

	printf("leak: socket %s (%s %s, refcnt %lld): never freed\n",
	       s->cookie, s->proto, s->state, s->refcnt);
	if (load(&su, "suspects", FMT_KV, true)) {
		for (int i = 0; i < su.n; i++) {
			const char *id = get_or(&su.recs[i], "id");

			if (!strcmp(id, s->cookie)) {
				printf("  %s\n", get_or(&su.recs[i], "explain"));
				break;
			}
		}
		report_free(&su);
	}
	if (!load(&t, "tracked", FMT_KV, true))
		return;
	for (int i = 0; i < t.n; i++) {
		const struct rec *x = &t.recs[i];

		if (strcmp(get_or(x, "cookie"), s->cookie))
			continue;
		printf("  allocated by pid %s (%s), closed by pid %s (%s)\n",
		       get_or(x, "alloc_pid"), get_or(x, "alloc_comm"),
		       get_or(x, "close_pid"), get_or(x, "close_comm"));
		printf("  teardown steps that ran: %s; never ran: %s\n",
		       get_or(x, "steps"), get_or(x, "missing"));
		if (strcmp(get_or(x, "held_by"), "-"))
			printf("  reference never put, taken in: %s\n",
			       get_or(x, "held_by"));
		printf("  allocation stack:\n");
		print_frames(stdout, "    ", get_or(x, "alloc_stack"));
		printf("  close stack:\n");
		print_frames(stdout, "    ", get_or(x, "close_stack"));
		break;
	}
	report_free(&t);
}

int cmd_run(int argc, char **argv)
{
	char cgdir[512], cg[128], buf[256];
	struct run_sock *v;
	long long grace, track;
	double deadline;
	int n = 0, leaks = 0, pending = 0, timers = 0, freed = 0, status;
	int timeout = opt.timeout > 0 ? opt.timeout : 30;
	struct stat st;
	pid_t pid;

	if (argc < 1)
		fail("usage: sockleak run [--watch FILTER] [--timeout SEC] -- CMD [ARGS...]");
	if (!opt.live)
		fail("run needs the live module, not a saved copy");
	snprintf(buf, sizeof(buf), "%s/cgroup.controllers", cgroupfs());
	if (stat(buf, &st))
		fail("run needs cgroup v2 mounted at %s (its sockets are told apart by their cgroup)",
		     cgroupfs());
	snprintf(cg, sizeof(cg), "/sockleak-run-%d", (int)getpid());
	snprintf(cgdir, sizeof(cgdir), "%s%s", cgroupfs(), cg);
	if (mkdir(cgdir, 0755))
		fail("cannot create cgroup %s: %s", cgdir, strerror(errno));
	v = calloc(RUN_MAX, sizeof(*v));
	if (!v)
		fail("out of memory");

	grace = control_get("grace_ms");
	track = control_get("track");
	control_set("grace_ms=0", NULL);
	if (track != 1)
		control_set("track=on",
			    "closed-socket tracking (`track` command)");
	if (opt.watch) {
		snprintf(buf, sizeof(buf), "watch_next=%s", opt.watch);
		control_set(buf, "refcount watchpoints (`watch_next`)");
	}

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		char procs[600];
		int fd;

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgdir);
		fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1) {
			fprintf(stderr, "sockleak: cannot join %s: %s\n", cgdir,
				strerror(errno));
			_exit(127);
		}
		close(fd);
		execvp(argv[0], argv);
		fprintf(stderr, "sockleak: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	/* CMD's sockets are listed while it runs, so their frees are seen. */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		run_round(v, &n, cg);
		usleep(POLL_MS * 1000);
	}
	if (WIFEXITED(status))
		printf("sockleak run: %s exited with status %d\n", argv[0],
		       WEXITSTATUS(status));
	else
		printf("sockleak run: %s killed by signal %d\n", argv[0],
		       WTERMSIG(status));

	deadline = mono_s() + timeout;
	do {
		run_round(v, &n, cg);
		if (run_settled(v, n) && !cg_procs(cgdir))
			break;
		usleep(POLL_MS * 1000);
	} while (mono_s() < deadline);

	for (int i = 0; i < n; i++) {
		if (v[i].freed)
			freed++;
		else if (run_is_leak(&v[i]))
			leaks++;
		else if (!strcmp(v[i].verdict, "timer"))
			timers++;
		else
			pending++;
	}
	for (int i = 0; i < n; i++)
		if (run_is_leak(&v[i]))
			run_report_leak(&v[i]);
	for (int i = 0; i < n; i++) {
		const struct run_sock *s = &v[i];

		if (s->freed || run_is_leak(s))
			continue;
		if (!strcmp(s->verdict, "timer"))
			printf("timer: socket %s (%s %s) ends on its own in %lld ms\n",
			       s->cookie, s->proto, s->state,
			       s->timer_left_ms);
		else
			printf("pending: socket %s (%s %s, verdict %s) still held when the %d s timeout ran out\n",
			       s->cookie, s->proto, s->state, s->verdict,
			       timeout);
	}
	if (cg_procs(cgdir))
		printf("pending: %d processes of %s still running when the timeout ran out\n",
		       cg_procs(cgdir), cgdir);
	printf("sockleak run: %d sockets: %d freed, %d on a timer, %d pending, %d leaked\n",
	       n, freed, timers, pending, leaks);

	if (opt.watch)
		control_set("watch_next=off", NULL);
	if (grace >= 0) {
		snprintf(buf, sizeof(buf), "grace_ms=%lld", grace);
		control_set(buf, NULL);
	}
	if (track == 0)
		control_set("track=off", NULL);
	rmdir(cgdir);
	free(v);
	return leaks ? 1 : 0;
}
