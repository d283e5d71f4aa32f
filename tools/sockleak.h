/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak helper - declarations shared by the commands' files: the
 * options, reading the reports (sockleak.c), owners (owners.c), sockets
 * and suspects as other commands use them, and each command.
 */
#ifndef SOCKLEAK_H
#define SOCKLEAK_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "parse.h"

#define DEBUGFS		"/sys/kernel/debug"
#define DEFAULT_DIR	DEBUGFS "/sockleak"
#define MAX_DIRS	64
#define MAX_PROTOS	8

/*
 * --state, --proto, ...: the sockets sockets and growth show, and the
 * flagged sockets suspects fall back to without the suspects report.
 */
struct filter {
	const char *state;		/* ss name, any case */
	const char *proto;		/* as the reports print it */
	const char *family;		/* inet, inet6, unix, netlink, ... */
	const char *cgroup;		/* that cgroup and below */
	const char *flag;		/* a leak flag, or "any" */
	long long netns, min_mem;	/* -1: any */
};

struct options {
	const char *dirs[MAX_DIRS];	/* --debugfs, in order */
	int ndirs;
	const char *dir;		/* the directory being read */
	bool live;			/* reading the running kernel */
	bool json, prom;
	bool verbose;			/* -v: tracked stacks */
	bool all;			/* --all: suspects one line each */
	struct filter filter;
	const char *sort;		/* --sort, NULL: mem */
	int limit;			/* -n, -1: the command's default */
	double interval;		/* growth -i, seconds */
	int count;			/* growth -c, 0: forever */
	int port;			/* watch-next --port, -1: none */
	int timeout;			/* --timeout seconds, 0: default */
	const char *watch;		/* run --watch FILTER */
	bool ktap;			/* run --ktap */
	int repeat;			/* run --repeat N, 0: once */
	int for_s;			/* run --for SEC, 0: none */
};

extern struct options opt;

/* sockleak.c: errors, reading the reports */

/* "sockleak: " and the message on stderr, exit 2. */
void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...);
/* Why the live debugfs directory cannot be read, with what to do. */
void __attribute__((noreturn)) diagnose_live(const char *path, int err);
/* The whole file, NUL-terminated; NULL with errno set. */
char *slurp(const char *path);
/*
 * Load report @name of the current directory. Returns false when it is
 * absent and @optional; every other problem is fatal (exit 2).
 */
bool load(struct report *r, const char *name, enum fmt fmt, bool optional);
/* The same for an optional report a command needs: absent is fatal. */
void need(struct report *r, const char *name, enum fmt fmt);
/*
 * A command that prints one report: need() it, print it with @print (or
 * say it is empty), free it. Returns the command's exit status, 0.
 */
int show_report(const char *name, void (*print)(const struct report *r));
/* The value of @key, "-" when absent. */
const char *get_or(const struct rec *r, const char *key);

/*
 * The host's /proc and cgroupfs: SOCKLEAK_PROCFS and SOCKLEAK_CGROUPFS
 * replace them; *_on() says whether they may be read (live, or set).
 */
const char *procfs(void);
bool procfs_on(void);
const char *cgroupfs(void);
bool cgroupfs_on(void);

/* Values summed per pair of labels (@a, @b), at most MAXGROUPS pairs. */
#define MAXGROUPS 1024

struct group {
	char a[128], b[128];
	double v[4];
};

/* The pair's entry, added zeroed when new; NULL when @g is full. */
struct group *group_get(struct group *g, int *n, const char *a,
			const char *b);

/* owners.c */

/* Where task @pid waits: "S:ep_poll", "R", or "-" when unknown. */
const char *owner_wait(long long pid, char *buf, size_t len);
/* Read /proc/PID/fd of every process, for owner_of() (when allowed). */
void scan_proc_owners(void);
void refresh_owners(void);
/* "pid/comm" of a socket: the kernel's owners= if given, else /proc. */
const char *owner_of(const struct rec *r, char *buf, size_t len);
/* The first owner's pid of a socket (as owner_of() names it), or 0. */
long long owner_pid(const struct rec *r);

/* sockets.c */

/* Whether a socket passes filter @f. */
bool sock_match(const struct rec *r, const struct filter *f);
/*
 * The sockets of @r that pass @f, sorted by @how (mem, refcnt, age, rmem,
 * wmem; descending, ties by cookie), at most @limit (-1: all): *out is
 * malloc'ed. Returns the count.
 */
int select_sockets(const struct report *r, const struct filter *f,
		   const char *how, int limit, const struct rec ***out);
/* A socket's JSON members: the module's keys, mem, owner and wait. */
void json_sock_members(struct json *j, const struct rec *r);
/* A sockets table, or JSON Lines. */
/* Rows of @v; @all, the whole report (or NULL), completes MPTCP listeners. */
void print_sockets(const struct report *all, const struct rec **v, int n);

/* suspects.c: the module's suspects report, else flagged sockets */

struct suspects {
	struct report file;	/* the suspects report, when present */
	struct report socks;
	const struct rec **v;	/* flagged sockets, when not */
	int n;
	bool from_file;
};

/* The suspects; without the report, the sockets passing @f with a flag. */
void get_suspects(struct suspects *s, const struct filter *f, int limit);
void put_suspects(struct suspects *s);
void print_suspects(struct suspects *s, int limit);
/* A suspect's JSON members: the module's keys and wait. */
void json_suspect_members(struct json *j, const struct rec *x);
/* At most @limit rows (groups, or with --all records); -1: all. */
void print_suspects_report(const struct report *r, int limit);
/* The groups of a suspects report as a JSON array (overview --json). */
void print_groups_json(struct json *j, const struct report *r);

/* summary.c: the summary report's records in JSON (summary, overview) */
void summary_json(struct json *j, const struct report *r, bool totals);

/* overview.c: where every page goes (account.c), text or JSON */
void headline(const struct report *sum, const struct report *socks);
void headline_json(struct json *j, const struct report *sum,
		   const struct report *socks);

/* snapshot.c */

/* CLOCK_MONOTONIC in seconds. */
double now_mono(void);
/* A saved copy's time of capture (snapshot.time monotonic=), or -1. */
double snapshot_time(const char *dir);

/* The commands (cmds[] in sockleak.c); each returns the exit status. */
int cmd_overview(void);
int cmd_check(void);
int cmd_sockets(void);
int cmd_summary(void);
int cmd_suspects(void);
int cmd_tracked(void);
int cmd_cgroups(void);
int cmd_growth(void);
int cmd_prom(void);
int cmd_version(void);
int cmd_control_show(void);
int cmd_set(int argc, char **argv);
int cmd_track(int argc, char **argv);
int cmd_scan(void);
int cmd_clear(void);
int cmd_refs(int argc, char **argv);
int cmd_watch_next(void);
int cmd_run(int argc, char **argv);
/* control.c: write @line to control; @what names the feature in errors. */
int control_set(const char *line, const char *what);
int control_try(const char *line);
int cmd_snapshot(int argc, char **argv);

#endif
