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
 *           retransmitting, a vsock connect or close timeout): reported,
 *           not a leak; but a timer due within RUN_TIMER_WAIT_S of CMD's
 *           exit (and the timeout) is waited for, and one second more:
 *           the socket is freed then, or is on a timer again (re-armed:
 *           it stays timer), or nothing is left to free it (never: the
 *           reference it put was not the last);
 *   never   nothing will free it: a leak, once it has stayed so for
 *           NEVER_SETTLE_MS (a closing socket passes through states where
 *           its last references are being dropped).
 * Then it reports each leak with its allocation and close stacks, the
 * teardown steps that never ran and, when watched (--watch: the module's
 * watch_next filter, e.g. port:8080 or proto:tcp,count:2), the code that
 * took the reference never put. What is still owned when time runs out
 * (a process of the cgroup still holds it) is listed as pending.
 *
 * Leaving no trace: the cgroup is emptied (cgroup.kill: CMD's children
 * that outlive it) and removed; grace_ms, track and watch_next are set in
 * one control write (a bad --watch filter changes nothing) and restored
 * on every exit, an error's or a signal's (SIGINT, SIGTERM, SIGHUP) too;
 * the watches armed for CMD's sockets are released. Runs at once share
 * the tunables: the first saves them in RUN_STATE (under flock, with the
 * pid of every run using them), the last restores them; a run killed
 * with SIGKILL leaves its pid there, and the next run finds it dead and
 * still restores the saved values. watch_next is one filter for the
 * whole module: a second run with --watch is refused while one watches.
 *
 * Exit status:
 *   0  no leak: each of CMD's sockets was freed or is on a timer
 *   1  leaks (reported)
 *   2  error (usage, module, cgroup)
 *   3  undecided: no leak, but sockets or processes of CMD still held
 *      when the timeout ran out (listed as pending)
 *   4  CMD could not be started (exec failed)
 *   5  no leak, but CMD was killed by a signal
 *   128+N  this run was interrupted by signal N (what it saw is reported)
 * CMD's own exit status is printed, not returned. --ktap prints the same
 * as KTAP (TAP version 13) for CI runners: a test case per socket of
 * CMD (not ok: leaked or still held) and one for CMD itself, the rest
 * as "# " lines; the exit status is the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "parse.h"
#include "sockleak.h"

#define NEVER_SETTLE_MS	1000
#define RUN_TIMER_WAIT_S	10
#define POLL_MS		200
#define RUN_STATE_DIR	"/run/sockleak"
#define RUN_STATE	RUN_STATE_DIR "/run.state"

enum {
	RUN_OK, RUN_LEAKS, RUN_ERROR, RUN_PENDING, RUN_EXEC_FAILED,
	RUN_CMD_KILLED,
};

struct run_sock {
	char cookie[32];
	char proto[16], state[16], verdict[16];
	long long refcnt, timer_left_ms;
	double never_since;	/* first seen never, 0: not never */
	double timer_due;	/* when its timer was due when first seen */
	bool present;		/* listed in this round */
	bool freed;		/* listed before, gone now */
};

/* A line (or lines) of the report: "# " before each in KTAP mode. */
static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	char buf[4096], *line, *save;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* --json: stdout is JSON alone; the human report goes to stderr. */
	if (opt.json) {
		fputs(buf, stderr);
		return;
	}
	if (!opt.ktap) {
		fputs(buf, stdout);
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		printf("# %s\n", line);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CMD's sockets: an array, and an open-addressing index by cookie. */
struct run_set {
	struct run_sock *v;
	int n, cap;
	int *idx;		/* slot -> index in v + 1, 0: empty */
	unsigned int nidx;	/* a power of two, > 2 * cap */
};

static unsigned int run_hash(const char *cookie)
{
	unsigned int h = 2166136261u;

	for (; *cookie; cookie++)
		h = (h ^ (unsigned char)*cookie) * 16777619u;
	return h;
}

static int *run_slot(const struct run_set *r, const char *cookie)
{
	unsigned int i = run_hash(cookie) & (r->nidx - 1);

	while (r->idx[i] && strcmp(r->v[r->idx[i] - 1].cookie, cookie))
		i = (i + 1) & (r->nidx - 1);
	return &r->idx[i];
}

static struct run_sock *run_lookup(const struct run_set *r, const char *cookie)
{
	int *slot = r->nidx ? run_slot(r, cookie) : NULL;

	return slot && *slot ? &r->v[*slot - 1] : NULL;
}

/* The entry of @cookie, new if need be. */
static struct run_sock *run_find(struct run_set *r, const char *cookie)
{
	struct run_sock *s = run_lookup(r, cookie);

	if (s)
		return s;
	if (r->n == r->cap) {
		int cap = r->cap ? r->cap * 2 : 256;
		unsigned int nidx = 1;

		while (nidx <= 2u * cap)
			nidx <<= 1;
		r->v = realloc(r->v, cap * sizeof(*r->v));
		free(r->idx);
		r->idx = calloc(nidx, sizeof(*r->idx));
		if (!r->v || !r->idx)
			fail("out of memory");
		r->cap = cap;
		r->nidx = nidx;
		for (int i = 0; i < r->n; i++)
			*run_slot(r, r->v[i].cookie) = i + 1;
	}
	s = &r->v[r->n];
	memset(s, 0, sizeof(*s));
	snprintf(s->cookie, sizeof(s->cookie), "%s", cookie);
	*run_slot(r, s->cookie) = ++r->n;
	return s;
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
	char path[600], *t;
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
static void run_round(struct run_set *set, const char *cg)
{
	struct report r;

	for (int i = 0; i < set->n; i++)
		set->v[i].present = false;
	load(&r, "sockets", FMT_SOCKETS, false);
	for (int i = 0; i < r.n; i++) {
		const struct rec *x = &r.recs[i];
		const char *cookie = get_or(x, "cookie");
		struct run_sock *s;

		/*
		 * CMD's by its cgroup; or seen as CMD's before: its
		 * TIME-WAIT successor keeps the cookie but has no cgroup.
		 */
		if (strcmp(get_or(x, "cgroup"), cg)) {
			s = run_lookup(set, cookie);
			if (!s)
				continue;
		} else {
			s = run_find(set, cookie);
		}
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
		if (strcmp(s->verdict, "timer") || s->timer_left_ms < 0)
			s->timer_due = 0;
		else if (!s->timer_due)
			s->timer_due = mono_s() + s->timer_left_ms / 1000.0;
	}
	report_free(&r);
	for (int i = 0; i < set->n; i++)
		if (!set->v[i].present)
			set->v[i].freed = true;
}

static bool run_is_leak(const struct run_sock *s)
{
	return !s->freed && s->never_since &&
	       (mono_s() - s->never_since) * 1000 >= NEVER_SETTLE_MS;
}

/*
 * Until when a timer is waited for (0: CMD still runs): the deadline, at
 * most RUN_TIMER_WAIT_S after CMD's exit (a vsock connect or close
 * timeout, an orphan's retransmit; not TIME-WAIT's 60 s).
 */
static double run_timer_until;

/*
 * On a timer that ends it: due after run_timer_until, or seen on a timer
 * still after the one it was first seen with was due (re-armed).
 */
static bool run_timer_settled(const struct run_sock *s)
{
	if (strcmp(s->verdict, "timer"))
		return false;
	if (!run_timer_until || !s->timer_due ||
	    s->timer_due >= run_timer_until)
		return true;
	return mono_s() >= s->timer_due + NEVER_SETTLE_MS / 1000.0;
}

/* Done waiting: every socket freed, on a timer, or a settled leak. */
static bool run_settled(const struct run_set *set)
{
	for (int i = 0; i < set->n; i++) {
		const struct run_sock *s = &set->v[i];

		if (s->freed || run_timer_settled(s) || run_is_leak(s))
			continue;
		return false;
	}
	return true;
}

/* What the module says of the round's leaks: loaded once per round. */
struct run_reports {
	struct report su, t;
	bool have_su, have_t;
};

static void run_reports_load(struct run_reports *rr)
{
	rr->have_su = load(&rr->su, "suspects", FMT_KV, true);
	rr->have_t = load(&rr->t, "tracked", FMT_KV, true);
}

static void run_reports_free(struct run_reports *rr)
{
	if (rr->have_su)
		report_free(&rr->su);
	if (rr->have_t)
		report_free(&rr->t);
	rr->have_su = rr->have_t = false;
}

/* The record of @r whose @key is @cookie, NULL when none. */
static const struct rec *run_rec(const struct report *r, bool have,
				 const char *key, const char *cookie)
{
	for (int i = 0; have && i < r->n; i++)
		if (!strcmp(get_or(&r->recs[i], key), cookie))
			return &r->recs[i];
	return NULL;
}

/* Does suspects name @s as the socket that holds its netns alive? */
static bool run_pins_netns(const struct run_sock *s,
			   const struct run_reports *rr)
{
	const struct rec *su = run_rec(&rr->su, rr->have_su, "id", s->cookie);

	return su && !strcmp(get_or(su, "reason"), "pins_netns");
}

/* A leak: what tracked and suspects know of it. */
static void run_report_leak(const struct run_sock *s,
			    const struct run_reports *rr)
{
	const struct rec *su = run_rec(&rr->su, rr->have_su, "id", s->cookie);
	const struct rec *x = run_rec(&rr->t, rr->have_t, "cookie", s->cookie);

	say("leak: socket %s (%s %s, refcnt %lld): never freed\n",
	       s->cookie, s->proto, s->state, s->refcnt);
	if (su)
		say("  %s\n", get_or(su, "explain"));
	if (!x || opt.json)
		return;
	say("  allocated by pid %s (%s), closed by pid %s (%s)\n",
	       get_or(x, "alloc_pid"), get_or(x, "alloc_comm"),
	       get_or(x, "close_pid"), get_or(x, "close_comm"));
	say("  teardown steps that ran: %s; never ran: %s\n",
	       get_or(x, "steps"), get_or(x, "missing"));
	if (strcmp(get_or(x, "held_by"), "-"))
		say("  reference never put, taken in: %s\n",
		       get_or(x, "held_by"));
	say("  allocation stack:\n");
	print_frames(stdout, opt.ktap ? "#     " : "    ",
		     get_or(x, "alloc_stack"));
	say("  close stack:\n");
	print_frames(stdout, opt.ktap ? "#     " : "    ",
		     get_or(x, "close_stack"));
}

/* A comma-separated list of frames ("-": none) as a JSON array. */
static void run_json_frames(struct json *j, const char *key, const char *list)
{
	json_key(j, key);
	json_begin_arr(j);
	while (*list && strcmp(list, "-")) {
		size_t n = strcspn(list, ",");
		char frame[256];

		snprintf(frame, sizeof(frame), "%.*s", (int)n, list);
		json_str(j, frame);
		list += n + (list[n] == ',');
	}
	json_end_arr(j);
}

/* One socket of CMD in the round's JSON object. */
static void run_json_sock(struct json *j, const struct run_sock *s,
			  const struct run_reports *rr)
{
	const struct rec *su, *x;

	json_begin_obj(j);
	json_kstr(j, "cookie", s->cookie);
	json_kstr(j, "proto", s->proto);
	json_kstr(j, "state", s->state);
	if (s->freed) {
		json_kstr(j, "result", "freed");
		json_end_obj(j);
		return;
	}
	json_kstr(j, "result", run_is_leak(s) ? "leaked" :
		  !strcmp(s->verdict, "timer") ? "timer" : "pending");
	json_kstr(j, "verdict", s->verdict);
	json_ks64(j, "refcnt", s->refcnt);
	if (!strcmp(s->verdict, "timer"))
		json_ks64(j, "timer_left_ms", s->timer_left_ms);
	su = run_rec(&rr->su, rr->have_su, "id", s->cookie);
	if (su) {
		json_kstr(j, "reason", get_or(su, "reason"));
		json_kstr(j, "explain", get_or(su, "explain"));
	}
	x = run_rec(&rr->t, rr->have_t, "cookie", s->cookie);
	if (x) {
		json_kval(j, "alloc_pid", get_or(x, "alloc_pid"));
		json_kval(j, "alloc_comm", get_or(x, "alloc_comm"));
		json_kval(j, "close_pid", get_or(x, "close_pid"));
		json_kval(j, "close_comm", get_or(x, "close_comm"));
		json_kval(j, "steps", get_or(x, "steps"));
		json_kval(j, "missing", get_or(x, "missing"));
		json_kval(j, "held_by", get_or(x, "held_by"));
		run_json_frames(j, "alloc_stack", get_or(x, "alloc_stack"));
		run_json_frames(j, "close_stack", get_or(x, "close_stack"));
	}
	json_end_obj(j);
}

/*
 * KTAP for CI (TAP version 13, the plan last): a case per socket of CMD,
 * ok when freed or on a timer, not ok when leaked or still held; then
 * one for CMD itself: started, and none of its processes left.
 */
static void run_ktap(const struct run_set *set, int exec_err, int procs_left,
		     const char *ind)
{
	int i;

	for (i = 0; i < set->n; i++) {
		const struct run_sock *s = &set->v[i];

		if (s->freed)
			printf("%sok %d socket %s (%s %s) freed\n", ind, i + 1,
			       s->cookie, s->proto, s->state);
		else if (run_is_leak(s))
			printf("%snot ok %d socket %s (%s %s) leaked, refcnt %lld\n",
			       ind, i + 1, s->cookie, s->proto, s->state, s->refcnt);
		else if (!strcmp(s->verdict, "timer"))
			printf("%sok %d socket %s (%s %s) on a timer, ends in %lld ms\n",
			       ind, i + 1, s->cookie, s->proto, s->state,
			       s->timer_left_ms);
		else
			printf("%snot ok %d socket %s (%s %s) still held, verdict %s\n",
			       ind, i + 1, s->cookie, s->proto, s->state,
			       s->verdict);
	}
	printf("%s%s %d command started and all its processes ended\n", ind,
	       exec_err || procs_left ? "not ok" : "ok", i + 1);
	printf("%s1..%d\n", ind, i + 1);
}

#define RUN_WATCHES	16	/* more than the module's watch slots */

/* What this run changed, for run_cleanup() (atexit and signals). */
static struct {
	char cgdir[512];
	bool cg_made, state_held, watching;
	struct run_set *set;
	char pre[RUN_WATCHES][32];	/* watch_next's watches before it */
	int npre;
} run_st;

/*
 * The cookies of the watches that watch_next armed (an origin other than
 * "cookie", watch= by hand), as "refs" lists them: at most RUN_WATCHES.
 */
static int run_next_watches(char (*out)[32])
{
	char path[512], *text, *line, *save = NULL;
	int n = 0;

	snprintf(path, sizeof(path), "%s/refs", opt.dir);
	text = slurp(path);
	if (!text)
		return 0;
	for (line = strtok_r(text, "\n", &save); line && n < RUN_WATCHES;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "cookie=", 7) || strstr(line, " origin=cookie "))
			continue;
		snprintf(out[n++], 32, "%.*s", (int)strcspn(line + 7, " "),
			 line + 7);
	}
	free(text);
	return n;
}

static volatile sig_atomic_t run_signal;

static void run_on_signal(int sig)
{
	if (!run_signal)
		run_signal = sig;
}

/* Kill what is left in the cgroup and remove it; false if it stays. */
static bool run_cgroup_remove(const char *dir)
{
	char path[600];
	int fd;

	if (cg_procs(dir)) {
		snprintf(path, sizeof(path), "%s/cgroup.kill", dir);
		fd = open(path, O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "1", 1) != 1)
				perror("sockleak: cgroup.kill");
			close(fd);
		}
		for (int i = 0; i < 100 && cg_procs(dir); i++)
			usleep(20000);
	}
	/* An emptied cgroup may take a moment to be removable. */
	for (int i = 0; i < 50; i++) {
		if (!rmdir(dir) || errno == ENOENT)
			return true;
		usleep(20000);
	}
	fprintf(stderr, "sockleak: cannot remove cgroup %s: %s (%d processes left)\n",
		dir, strerror(errno), cg_procs(dir));
	return false;
}

/*
 * The shared tunables (RUN_STATE, under flock): "grace_ms=N track=N
 * watch=PID" then one line per run using them. Lock it, read it, keep
 * the live runs only. Returns the locked fd, -1 when it cannot (then
 * this run restores its own values).
 */
struct run_shared {
	long long grace, track;
	int watch_pid;		/* the run that set watch_next, 0: none */
	int pids[64];
	int npids;
};

static int run_state_lock(struct run_shared *sh)
{
	char *t, *line, *save;
	int fd;

	memset(sh, 0, sizeof(*sh));
	sh->grace = sh->track = -1;
	mkdir(RUN_STATE_DIR, 0700);
	fd = open(RUN_STATE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	t = slurp(RUN_STATE);
	for (line = t ? strtok_r(t, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		int pid;

		if (sscanf(line, "grace_ms=%lld track=%lld watch=%d", &sh->grace,
			   &sh->track, &sh->watch_pid) == 3)
			continue;
		if (sscanf(line, "pid=%d", &pid) == 1 && pid > 0 &&
		    (!kill(pid, 0) || errno == EPERM) &&
		    sh->npids < (int)(sizeof(sh->pids) / sizeof(sh->pids[0])))
			sh->pids[sh->npids++] = pid;
	}
	free(t);
	/* A watcher that is gone no longer owns watch_next. */
	if (sh->watch_pid && kill(sh->watch_pid, 0) && errno == ESRCH)
		sh->watch_pid = 0;
	return fd;
}

/* Write the state back and unlock; no run left: remove it. */
static void run_state_unlock(int fd, const struct run_shared *sh)
{
	char buf[2048];
	int len;

	if (fd < 0)
		return;
	if (!sh->npids) {
		unlink(RUN_STATE);
	} else {
		len = snprintf(buf, sizeof(buf), "grace_ms=%lld track=%lld watch=%d\n",
			       sh->grace, sh->track, sh->watch_pid);
		for (int i = 0; i < sh->npids; i++)
			len += snprintf(buf + len, sizeof(buf) - len, "pid=%d\n",
					sh->pids[i]);
		if (ftruncate(fd, 0) || pwrite(fd, buf, len, 0) != len)
			perror("sockleak: " RUN_STATE);
	}
	flock(fd, LOCK_UN);
	close(fd);
}

static long long run_grace, run_track;

/* Undo what a round changed: its cgroup, its watches; safe twice. */
static void run_round_cleanup(void)
{
	char buf[64];

	if (run_st.cg_made) {
		run_st.cg_made = false;
		run_cgroup_remove(run_st.cgdir);
	}
	/* Release the watches armed on CMD's sockets: debug registers. */
	if (run_st.watching && run_st.set) {
		for (int i = 0; i < run_st.set->n; i++) {
			snprintf(buf, sizeof(buf), "unwatch=%s",
				 run_st.set->v[i].cookie);
			control_try(buf);
		}
	}
}

/*
 * The filter may have matched sockets that were not CMD's (another
 * process's): release every watch it armed, CMD's or not. Only one run
 * watches at a time, so each new one is this run's. Called once the
 * filter is off: a match right before (armed by a probe at once) is
 * listed too, a child's once "watch_next=off" has read its cookie.
 */
static void run_release_watches(void)
{
	char now[RUN_WATCHES][32], buf[64];
	int n;

	if (!run_st.watching)
		return;
	n = run_next_watches(now);
	for (int i = 0; i < n; i++) {
		bool old = false;

		for (int k = 0; k < run_st.npre && !old; k++)
			old = !strcmp(now[i], run_st.pre[k]);
		if (old)
			continue;
		snprintf(buf, sizeof(buf), "unwatch=%.31s", now[i]);
		control_try(buf);
	}
	run_st.watching = false;
}

/* Undo what this run changed; safe to call twice. */
static void run_cleanup(void)
{
	struct run_shared sh;
	char buf[64];
	int fd;

	run_round_cleanup();
	if (!run_st.state_held) {
		run_release_watches();
		return;
	}
	run_st.state_held = false;
	fd = run_state_lock(&sh);
	if (fd < 0) {
		sh.grace = run_grace;
		sh.track = run_track;
		sh.watch_pid = run_st.watching ? getpid() : 0;
	}
	for (int i = 0; i < sh.npids; i++)
		if (sh.pids[i] == getpid())
			sh.pids[i--] = sh.pids[--sh.npids];
	if (run_st.watching && sh.watch_pid == getpid()) {
		control_try("watch_next=off");
		sh.watch_pid = 0;
	}
	/* The filter is off: nothing more can be armed while they are released. */
	run_release_watches();
	if (!sh.npids) {
		if (sh.grace >= 0) {
			snprintf(buf, sizeof(buf), "grace_ms=%lld", sh.grace);
			control_try(buf);
		}
		if (sh.track == 0)
			control_try("track=off");
	}
	run_state_unlock(fd, &sh);
}

/*
 * Set grace_ms=0, track=on and watch_next in one write (all or nothing),
 * recording this run in the shared state first.
 */
static void run_setup_tunables(void)
{
	struct run_shared sh;
	char buf[512];
	int fd, e;

	run_grace = control_get("grace_ms");
	run_track = control_get("track");
	fd = run_state_lock(&sh);
	if (fd >= 0 && !sh.npids) {
		/* None running: unless a killed run saved them, now's are true. */
		if (sh.grace < 0) {
			sh.grace = run_grace;
			sh.track = run_track;
		}
	}
	if (opt.watch && sh.watch_pid) {
		run_state_unlock(fd, &sh);
		fail("another sockleak run (pid %d) is watching: watch_next is one filter for the whole module; run without --watch, or after it",
		     sh.watch_pid);
	}
	if (opt.watch)
		run_st.npre = run_next_watches(run_st.pre);
	snprintf(buf, sizeof(buf), "grace_ms=0\ntrack=on%s%s\n",
		 opt.watch ? "\nwatch_next=" : "", opt.watch ? opt.watch : "");
	e = control_try(buf);
	if (e) {
		run_state_unlock(fd, &sh);
		if (e == EINVAL && opt.watch)
			fail("the module rejected --watch `%s`: an unknown key, protocol or family name, or a value out of range (nothing was changed)",
			     opt.watch);
		fail("cannot set grace_ms=0 and track=on: %s (nothing was changed)",
		     strerror(e));
	}
	if (fd >= 0 && sh.npids < (int)(sizeof(sh.pids) / sizeof(sh.pids[0])))
		sh.pids[sh.npids++] = getpid();
	if (opt.watch)
		sh.watch_pid = getpid();
	run_st.watching = opt.watch != NULL;
	run_st.state_held = true;
	run_state_unlock(fd, &sh);
}

/*
 * Start CMD in cgroup @cgdir. The child reports a failed exec through a
 * close-on-exec pipe: *exec_err is then its errno.
 */
static pid_t run_start(char **argv, const char *cgdir, int *exec_err)
{
	int p[2], e = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		fail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		char procs[600];
		int fd;

		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgdir);
		fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1) {
			e = errno;
			fprintf(stderr, "sockleak: cannot join %s: %s\n", cgdir,
				strerror(e));
		} else {
			close(fd);
			execvp(argv[0], argv);
			e = errno;
			fprintf(stderr, "sockleak: cannot run %s: %s\n", argv[0],
				strerror(e));
		}
		if (write(p[1], &e, sizeof(e)) != sizeof(e))
			_exit(127);
		_exit(127);
	}
	close(p[1]);
	if (read(p[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(p[0]);
	*exec_err = e;
	return pid;
}

/* How bad a round's result is: the worst of the rounds is returned. */
static int run_rank(int rc)
{
	switch (rc) {
	case RUN_OK: return 0;
	case RUN_CMD_KILLED: return 1;
	case RUN_PENDING: return 2;
	case RUN_LEAKS: return 3;
	case RUN_EXEC_FAILED: return 4;
	default: return 5;	/* interrupted */
	}
}

/*
 * One round: CMD in a fresh cgroup, waited for, its sockets judged and
 * reported; the cgroup removed and the round's watches released. Adds
 * the round's leaks to *@leaks_total. Returns the round's exit status.
 */
static int run_once(char **argv, int round, bool rounds, int *leaks_total)
{
	int leaks = 0, pending = 0, timers = 0, freed = 0, status = 0;
	int timeout = opt.timeout > 0 ? opt.timeout : 30, exec_err, rc;
	const char *ind = rounds && opt.ktap ? "    " : "";
	struct run_reports rr = { .have_su = false };
	struct run_set set = { 0 };
	int procs_left, ret;
	double deadline, next_scan;
	bool cmd_killed;
	char cg[128];
	pid_t pid;

	run_st.set = &set;
	if (rounds)
		snprintf(cg, sizeof(cg), "/sockleak-run-%d-%d", (int)getpid(),
			 round);
	else
		snprintf(cg, sizeof(cg), "/sockleak-run-%d", (int)getpid());
	snprintf(run_st.cgdir, sizeof(run_st.cgdir), "%s%s", cgroupfs(), cg);
	if (mkdir(run_st.cgdir, 0755))
		fail("cannot create cgroup %s: %s", run_st.cgdir,
		     strerror(errno));
	run_st.cg_made = true;

	if (rounds)
		say("sockleak run: round %d\n", round);
	if (opt.ktap)
		printf("%sTAP version 13\n", ind);
	pid = run_start(argv, run_st.cgdir, &exec_err);
	/* CMD's sockets are listed while it runs, so their frees are seen. */
	for (;;) {
		rc = waitpid(pid, &status, WNOHANG);
		if (rc < 0 && errno == EINTR)
			rc = 0;		/* a signal: run_signal says which */
		if (rc != 0 || run_signal)
			break;
		run_round(&set, cg);
		usleep(POLL_MS * 1000);
	}
	if (rc == 0) {
		/* Interrupted: CMD and its children go with the cgroup. */
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		status = 0;	/* killed by sockleak, not by its own fault */
	} else if (rc < 0) {
		fail("waiting for %s: %s", argv[0], strerror(errno));
	}
	cmd_killed = !exec_err && !run_signal && WIFSIGNALED(status);
	if (exec_err)
		say("sockleak run: %s could not be started: %s\n", argv[0],
		    strerror(exec_err));
	else if (WIFEXITED(status))
		say("sockleak run: %s exited with status %d\n", argv[0],
		    WEXITSTATUS(status));
	else
		say("sockleak run: %s killed by signal %d\n", argv[0],
		    WTERMSIG(status));

	deadline = mono_s() + timeout;
	/* CMD's exit, and at most RUN_TIMER_WAIT_S more. */
	run_timer_until = deadline - timeout +
			  (timeout < RUN_TIMER_WAIT_S ? timeout : RUN_TIMER_WAIT_S);
	next_scan = 0;
	while (!run_signal) {
		/*
		 * Held with no process of CMD left: a fresh owner scan tells
		 * whether anything in user space still reaches the sockets'
		 * netns (else verdict never), once a second at most.
		 */
		if (!run_settled(&set) && !cg_procs(run_st.cgdir) &&
		    mono_s() >= next_scan) {
			refresh_owners();
			next_scan = mono_s() + 1;
		}
		run_round(&set, cg);
		if ((run_settled(&set) && !cg_procs(run_st.cgdir)) ||
		    mono_s() >= deadline)
			break;
		usleep(POLL_MS * 1000);
	}

	for (int i = 0; i < set.n; i++) {
		const struct run_sock *s = &set.v[i];

		if (s->freed)
			freed++;
		else if (run_is_leak(s))
			leaks++;
		else if (!strcmp(s->verdict, "timer"))
			timers++;
		else
			pending++;
	}
	if (leaks || (opt.json && set.n > freed))
		run_reports_load(&rr);
	/* The causes first: sockets that keep their netns (and others) alive. */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < set.n; i++)
			if (run_is_leak(&set.v[i]) &&
			    run_pins_netns(&set.v[i], &rr) == !pass)
				run_report_leak(&set.v[i], &rr);
	for (int i = 0; i < set.n; i++) {
		const struct run_sock *s = &set.v[i];

		if (s->freed || run_is_leak(s))
			continue;
		if (!strcmp(s->verdict, "timer"))
			say("timer: socket %s (%s %s) ends on its own in %lld ms\n",
			    s->cookie, s->proto, s->state, s->timer_left_ms);
		else if (run_signal)
			say("pending: socket %s (%s %s, verdict %s) still held when the run was interrupted\n",
			    s->cookie, s->proto, s->state, s->verdict);
		else
			say("pending: socket %s (%s %s, verdict %s) still held when the %d s timeout ran out\n",
			    s->cookie, s->proto, s->state, s->verdict,
			    timeout);
	}
	procs_left = cg_procs(run_st.cgdir);
	if (procs_left)
		say("pending: %d processes of %s still running when the %s; killed\n",
		    procs_left, run_st.cgdir,
		    run_signal ? "run was interrupted" : "timeout ran out");
	say("sockleak run: %d sockets: %d freed, %d on a timer, %d pending, %d leaked\n",
	    set.n, freed, timers, pending, leaks);
	if (opt.ktap)
		run_ktap(&set, exec_err, procs_left, ind);

	if (run_signal)
		ret = 128 + run_signal;
	else if (exec_err)
		ret = RUN_EXEC_FAILED;
	else if (leaks)
		ret = RUN_LEAKS;
	else if (pending || procs_left)
		ret = RUN_PENDING;
	else if (cmd_killed)
		ret = RUN_CMD_KILLED;
	else
		ret = RUN_OK;
	if (opt.json) {
		struct json j;

		json_init(&j, stdout);
		json_begin_obj(&j);
		if (rounds)
			json_ks64(&j, "round", round);
		json_kstr(&j, "command", argv[0]);
		if (exec_err)
			json_kstr(&j, "exec_error", strerror(exec_err));
		else if (run_signal)
			json_knull(&j, "exit_status");
		else if (WIFEXITED(status))
			json_ks64(&j, "exit_status", WEXITSTATUS(status));
		else
			json_ks64(&j, "killed_by_signal", WTERMSIG(status));
		if (run_signal)
			json_ks64(&j, "interrupted_by_signal", run_signal);
		json_ks64(&j, "status", ret);
		json_ks64(&j, "freed", freed);
		json_ks64(&j, "timer", timers);
		json_ks64(&j, "pending", pending);
		json_ks64(&j, "leaked", leaks);
		json_ks64(&j, "processes_left", procs_left);
		json_key(&j, "sockets");
		json_begin_arr(&j);
		for (int i = 0; i < set.n; i++)
			run_json_sock(&j, &set.v[i], &rr);
		json_end_arr(&j);
		json_end_obj(&j);
		json_newline(&j);
	}
	fflush(stdout);

	run_reports_free(&rr);
	run_round_cleanup();
	free(set.v);
	free(set.idx);
	run_st.set = NULL;
	*leaks_total += leaks;
	return ret;
}

int cmd_run(int argc, char **argv)
{
	bool rounds = opt.repeat > 1 || opt.for_s > 0;
	int worst = RUN_OK, round = 0, leaks = 0, rc;
	double until;
	struct sigaction sa;
	char buf[256];
	struct stat st;

	if (argc < 1)
		fail("usage: sockleak run [--watch FILTER] [--timeout SEC] [--ktap | --json] [--repeat N | --for SEC] -- CMD [ARGS...]");
	if (!opt.live)
		fail("run needs the live module, not a saved copy");
	if (opt.repeat > 1 && opt.for_s > 0)
		fail("--repeat and --for exclude each other");
	if (opt.json && opt.ktap)
		fail("--json and --ktap exclude each other");
	snprintf(buf, sizeof(buf), "%s/cgroup.controllers", cgroupfs());
	if (stat(buf, &st))
		fail("run needs cgroup v2 mounted at %s (its sockets are told apart by their cgroup)",
		     cgroupfs());

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = run_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(run_cleanup);
	run_setup_tunables();
	/* --for counts from the first round, not from the tracking's start. */
	until = mono_s() + opt.for_s;

	if (rounds && opt.ktap)
		printf("TAP version 13\n");
	do {
		round++;
		rc = run_once(argv, round, rounds, &leaks);
		if (rounds && opt.ktap)
			printf("%s %d round %d\n",
			       rc == RUN_OK || rc == RUN_CMD_KILLED ? "ok" :
			       "not ok", round, round);
		if (run_rank(rc) > run_rank(worst))
			worst = rc;
	} while (!run_signal && rc != RUN_EXEC_FAILED &&
		 (opt.for_s > 0 ? mono_s() < until : round < opt.repeat));
	if (rounds) {
		say("sockleak run: %d rounds, %d leaked in all\n", round,
		    leaks);
		if (opt.ktap)
			printf("1..%d\n", round);
		if (opt.json)
			printf("{\"rounds\":%d,\"leaked\":%d,\"status\":%d}\n",
			       round, leaks, worst);
	}
	if (run_signal)
		say("sockleak run: interrupted by signal %d\n", run_signal);
	fflush(stdout);
	run_cleanup();
	return worst;
}
