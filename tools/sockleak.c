// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - userspace helper for the sockleak kernel module: reads
 * /sys/kernel/debug/sockleak (or a saved copy of it) and prints tables,
 * JSON or Prometheus text. See sockleak.8 and README.md.
 *
 * This file: main(), the options and the cmds[] table (usage is made
 * from them), errors, reading the reports, the host's /proc and cgroupfs.
 * Each command has its own file; sockleak.h declares what they share.
 *
 * Exit status: 0 ok, 1 "check" found suspects, 2 any error.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "parse.h"
#include "sockleak.h"

#define DEBUGFS_MAGIC	0x64626720

struct options opt = {
	.filter = { .netns = -1, .min_mem = -1 },
	.limit = -1,
	.interval = 2,
	.port = -1,
};

void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("sockleak: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Why the live debugfs directory cannot be read, with what to do. */
void __attribute__((noreturn)) diagnose_live(const char *path, int err)
{
	struct statfs sfs;
	struct stat st;

	if (statfs(DEBUGFS, &sfs) || sfs.f_type != DEBUGFS_MAGIC)
		fail("debugfs is not mounted at " DEBUGFS
		     "; mount it with: mount -t debugfs none " DEBUGFS);
	if (err == EACCES || err == EPERM ||
	    (stat(DEFAULT_DIR, &st) && (errno == EACCES || errno == EPERM)))
		fail("permission denied reading %s: the sockleak files are root-only; run sockleak as root",
		     path);
	if (stat("/sys/module/sockleak", &st))
		fail("the sockleak module is not loaded; load it with: modprobe sockleak");
	if (stat(DEFAULT_DIR, &st))
		fail("the sockleak module is loaded but %s is missing (debugfs mounted after lockdown?)",
		     DEFAULT_DIR);
	fail("cannot read %s: %s", path, strerror(err));
}

/* The whole file, NUL-terminated; NULL with errno set. */
char *slurp(const char *path)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0 || !buf) {
		int e = errno;

		free(buf);
		if (fd >= 0)
			close(fd);
		errno = e;
		return NULL;
	}
	for (;;) {
		if (cap - len < 4097) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				fail("out of memory");
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	if (n < 0) {
		int e = errno;

		close(fd);
		free(buf);
		errno = e;
		return NULL;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* What each optional report is called in messages. */
static const char *feature_of(const char *name)
{
	if (!strcmp(name, "cgroups"))
		return "no cgroups report (per-memory-cgroup socket memory)";
	if (!strcmp(name, "tracked"))
		return "no tracked report (closed-but-not-freed sockets)";
	if (!strcmp(name, "suspects"))
		return "no suspects report (ranked leak suspects)";
	return "no such report";
}

/*
 * Load report @name of the current directory. Returns false when it is
 * absent and @optional; every other problem is fatal (exit 2).
 */
bool load(struct report *r, const char *name, enum fmt fmt, bool optional)
{
	char path[PATH_MAX], err[512];
	char *text;

	snprintf(path, sizeof(path), "%s/%s", opt.dir, name);
	text = slurp(path);
	if (!text) {
		int e = errno;

		if (e == ENOENT && optional) {
			struct stat st;

			if (!stat(opt.dir, &st))
				return false;
		}
		if (opt.live)
			diagnose_live(path, e);
		if (e == ENOENT)
			fail("%s: no such file (is %s a saved sockleak directory? see `sockleak snapshot`)",
			     path, opt.dir);
		fail("cannot read %s: %s", path, strerror(e));
	}
	if (report_parse(r, text, fmt, path, err, sizeof(err)))
		fail("unparseable input: %s", err);
	return true;
}

void need(struct report *r, const char *name, enum fmt fmt)
{
	if (!load(r, name, fmt, true))
		fail("this sockleak module has %s (module too old); update the module",
		     feature_of(name));
}

int show_report(const char *name, void (*print)(const struct report *r))
{
	struct report r;

	need(&r, name, FMT_KV);
	if (!r.n && !opt.json)
		printf("(the %s report is empty)\n", name);
	else
		print(&r);
	report_free(&r);
	return 0;
}

/* ---- the host's /proc and cgroupfs (fake roots for tests) ---- */

/*
 * SOCKLEAK_PROCFS=DIR and SOCKLEAK_CGROUPFS=DIR replace /proc and
 * /sys/fs/cgroup (host tests point them at a fake tree). They are read on
 * the live system, or for a saved copy only when the variable is set (a
 * copy from another machine must not be mixed with this one's /proc).
 */
/* The directory of variable @var, else @dflt. */
static const char *tree_dir(const char *var, const char *dflt)
{
	const char *e = getenv(var);

	return e && *e ? e : dflt;
}

/* Whether that tree may be read: live, or the variable is set. */
static bool tree_on(const char *var)
{
	const char *e = getenv(var);

	return opt.live || (e && *e);
}

const char *procfs(void)
{
	return tree_dir("SOCKLEAK_PROCFS", "/proc");
}

bool procfs_on(void)
{
	return tree_on("SOCKLEAK_PROCFS");
}

const char *cgroupfs(void)
{
	return tree_dir("SOCKLEAK_CGROUPFS", "/sys/fs/cgroup");
}

bool cgroupfs_on(void)
{
	return tree_on("SOCKLEAK_CGROUPFS");
}

const char *get_or(const struct rec *r, const char *key)
{
	const char *v = rec_get(r, key);

	return v ? v : "-";
}

struct group *group_get(struct group *g, int *n, const char *a,
			const char *b)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(g[i].a, a) && !strcmp(g[i].b, b))
			return &g[i];
	if (*n == MAXGROUPS)
		return NULL;
	memset(&g[*n], 0, sizeof(g[0]));
	snprintf(g[*n].a, sizeof(g[0].a), "%s", a);
	snprintf(g[*n].b, sizeof(g[0].b), "%s", b);
	return &g[(*n)++];
}

/* ---- options and commands ---- */

enum opt_id {
	O_JSON, O_PROM,
	O_STATE, O_PROTO, O_FAMILY, O_NETNS, O_CGROUP, O_MINMEM, O_FLAG, O_SORT,
	O_LIMIT, O_INTERVAL, O_COUNT, O_VERBOSE, O_ALL,
	O_PORT, O_TIMEOUT, O_WATCH, O_KTAP, O_REPEAT, O_FOR,
	O_DEBUGFS, O_VERSION, O_HELP,	/* every command's */
	O_NUM
};

#define BIT(o)		(1u << (o))
#define GLOBAL_OPTS	(BIT(O_DEBUGFS) | BIT(O_VERSION) | BIT(O_HELP))
/* The filters that also pick the flagged sockets suspects fall back to. */
#define FALLBACK_FILTERS (BIT(O_STATE) | BIT(O_PROTO) | BIT(O_FAMILY) | \
			  BIT(O_NETNS) | \
			  BIT(O_CGROUP) | BIT(O_MINMEM))
#define FILTERS		(FALLBACK_FILTERS | BIT(O_FLAG))

static const struct optdef {
	const char *name;	/* long name, or NULL */
	char letter;		/* short name, or 0 */
	bool arg;		/* takes an argument */
	const char *shown;	/* in usage */
	const char *help;
} optdefs[O_NUM] = {
	[O_JSON] = { "json", 0, false, "--json",
		"JSON: one document; JSON Lines for sockets, suspects, "
		"tracked, cgroups, watch and run (one object per line)" },
	[O_PROM] = { "prom", 0, false, "--prom",
		"Prometheus text exposition of everything (the same with "
		"summary or sockets)" },
	[O_STATE] = { "state", 0, true, "--state S",
		"filter: sockets in ss state S (any case)" },
	[O_PROTO] = { "proto", 0, true, "--proto P",
		"filter: sockets of one protocol (tcp, udp, mptcp, unix, "
		"unix-stream, netlink, packet, ...)" },
	[O_FAMILY] = { "family", 0, true, "--family F",
		"filter: sockets of one family (inet, inet6, unix, netlink, "
		"packet, vsock, ...)" },
	[O_NETNS] = { "netns", 0, true, "--netns N",
		"filter: sockets of the network namespace of inode N" },
	[O_CGROUP] = { "cgroup", 0, true, "--cgroup PATH",
		"filter: sockets of memory cgroup PATH and below" },
	[O_MINMEM] = { "min-mem", 0, true, "--min-mem BYTES",
		"filter: sockets holding at least BYTES (rmem+queued+fwd)" },
	[O_FLAG] = { "flag", 0, true, "--flag F|any",
		"filter: sockets with leak flag F, or with any" },
	[O_SORT] = { "sort", 0, true, "--sort mem|refcnt|age|rmem|wmem",
		"order of sockets (default mem)" },
	[O_LIMIT] = { NULL, 'n', true, "-n N",
		"at most N rows (default 10 for (none) and growth)" },
	[O_INTERVAL] = { NULL, 'i', true, "-i SEC",
		"seconds between samples (default 2)" },
	[O_COUNT] = { NULL, 'c', true, "-c COUNT",
		"samples to take (default: until interrupted); watch-next: "
		"sockets to arm (default 1)" },
	[O_VERBOSE] = { NULL, 'v', false, "-v",
		"both stacks, one frame a line; refs: every change and "
		"stack" },
	[O_ALL] = { "all", 0, false, "--all",
		"one line per suspect (default: one line per group of one "
		"cause and owner)" },
	[O_PORT] = { "port", 0, true, "--port P",
		"filter: sockets with local or remote port P" },
	[O_TIMEOUT] = { "timeout", 0, true, "--timeout SEC",
		"wait at most SEC seconds (run: default 30)" },
	[O_KTAP] = { "ktap", 0, false, "--ktap",
		"KTAP (TAP version 13) for CI: a test case per socket of "
		"CMD, not ok for a leak or one pending; the rest as # lines" },
	[O_REPEAT] = { "repeat", 0, true, "--repeat N",
		"run CMD N times, each in its own cgroup, reporting as it "
		"goes; the worst round's exit status" },
	[O_FOR] = { "for", 0, true, "--for SEC",
		"run CMD again and again until SEC seconds have passed "
		"(a soak); as --repeat" },
	[O_WATCH] = { "watch", 0, true, "--watch FILTER",
		"also arm watchpoints on the sockets the command creates "
		"that match FILTER (the module's watch_next, e.g. "
		"port:8080,count:2)" },
	[O_DEBUGFS] = { "debugfs", 0, true, "--debugfs DIR",
		"read a saved copy (repeat it for offline growth)" },
	[O_VERSION] = { "version", 0, false, "--version",
		"the helper's version" },
	[O_HELP] = { "help", 'h', false, "-h, --help", "this help" },
};

/* A command: one of run (no arguments) and run_args (argv after it). */
struct cmd {
	const char *name;	/* NULL: the overview (no command) */
	const char *args;	/* its arguments, for usage */
	int (*run)(void);
	int (*run_args)(int argc, char **argv);
	unsigned int opts;	/* the BIT(O_*) it takes, besides GLOBAL_OPTS */
	const char *help;	/* one line */
};

static const struct cmd cmds[] = {
	{
		.run = cmd_overview,
		.opts = BIT(O_JSON) | BIT(O_PROM) | BIT(O_ALL) | BIT(O_LIMIT) |
			FALLBACK_FILTERS,
		.help = "where every page goes, and the top suspect groups",
	}, {
		.name = "sockets", .run = cmd_sockets,
		.opts = BIT(O_JSON) | BIT(O_PROM) | FILTERS | BIT(O_SORT) |
			BIT(O_LIMIT),
		.help = "one row per socket, like ss, with owner pid/comm",
	}, {
		.name = "summary", .run = cmd_summary,
		.opts = BIT(O_JSON) | BIT(O_PROM),
		.help = "memory accounting, states, sockstat, counters",
	}, {
		.name = "suspects", .run = cmd_suspects,
		.opts = BIT(O_JSON) | BIT(O_ALL) | BIT(O_LIMIT),
		.help = "the module's ranked suspects",
	}, {
		.name = "tracked", .run = cmd_tracked,
		.opts = BIT(O_JSON) | BIT(O_VERBOSE),
		.help = "sockets closed by their owner but never freed",
	}, {
		.name = "cgroups", .run = cmd_cgroups,
		.opts = BIT(O_JSON),
		.help = "socket memory per memory cgroup",
	}, {
		.name = "check", .run = cmd_check,
		.opts = BIT(O_JSON) | BIT(O_ALL) | FALLBACK_FILTERS,
		.help = "exit 0: no suspects, 1: suspects (printed), 2: error",
	}, {
		.name = "growth", .run = cmd_growth,
		.opts = BIT(O_JSON) | FILTERS | BIT(O_LIMIT) | BIT(O_INTERVAL) |
			BIT(O_COUNT),
		.help = "growth rates per socket, cgroup and in total",
	}, {
		.name = "version", .run = cmd_version,
		.opts = BIT(O_JSON),
		.help = "helper and module versions",
	}, {
		.name = "control", .run = cmd_control_show,
		.opts = BIT(O_JSON),
		.help = "the module's tunables",
	}, {
		.name = "set", .args = "NAME=VALUE...", .run_args = cmd_set,
		.opts = BIT(O_JSON),
		.help = "change tunables",
	}, {
		.name = "track", .args = "on|off", .run_args = cmd_track,
		.help = "closed-socket tracking",
	}, {
		.name = "scan", .run = cmd_scan,
		.help = "run the kernel's owner scan",
	}, {
		.name = "clear", .run = cmd_clear,
		.help = "forget what tracking recorded",
	}, {
		.name = "refs", .args = "[COOKIE]", .run_args = cmd_refs,
		.opts = BIT(O_JSON) | BIT(O_VERBOSE),
		.help = "watched sockets: who took the references still held",
	}, {
		.name = "watch-next", .run = cmd_watch_next,
		.opts = BIT(O_PORT) | BIT(O_PROTO) | BIT(O_FAMILY) |
			BIT(O_NETNS) | BIT(O_COUNT) | BIT(O_TIMEOUT),
		.help = "watch the next sockets created that match; report "
			"each one's references when it is freed",
	}, {
		.name = "run", .args = "-- CMD [ARGS...]", .run_args = cmd_run,
		.opts = BIT(O_WATCH) | BIT(O_TIMEOUT) | BIT(O_KTAP) |
			BIT(O_JSON) | BIT(O_REPEAT) | BIT(O_FOR),
		.help = "run CMD, then report the sockets it created that the "
			"kernel never freed (exit 1 on a leak)",
	}, {
		.name = "snapshot", .args = "DIR", .run_args = cmd_snapshot,
		.help = "save the reports to DIR (read it with --debugfs DIR)",
	},
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

/*
 * --prom prints the whole exposition whatever the command (none, summary
 * or sockets: those that take --prom); these are the options it takes.
 */
static const struct cmd prom_cmd = {
	.name = "--prom", .run = cmd_prom, .opts = FALLBACK_FILTERS,
};

/* The command called @name (NULL: the overview), or NULL. */
static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!name ? !cmds[i].name :
		    cmds[i].name && !strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

#define USAGE_INDENT	21
#define USAGE_WIDTH	79

/* @text from column @col, wrapped; returns the column it ends at. */
static int print_wrapped(FILE *f, int col, const char *text)
{
	bool first = true;

	while (*text) {
		int n = strcspn(text, " ");

		if (!first && col + 1 + n > USAGE_WIDTH) {
			fprintf(f, "\n%*s", USAGE_INDENT, "");
			col = USAGE_INDENT;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", n, text);
		col += n;
		text += n;
		while (*text == ' ')
			text++;
		first = false;
	}
	return col;
}

/*
 * "  NAME               help [list]": the help from column USAGE_INDENT
 * (on the next line when NAME is too long), then @list (may be NULL) on
 * the same line when it fits, else on lines of its own.
 */
static void print_item(FILE *f, const char *name, const char *help,
		       const char *list)
{
	int col = fprintf(f, "  %s", name);

	if (col >= USAGE_INDENT)
		fprintf(f, "\n%*s", USAGE_INDENT, "");
	else
		fprintf(f, "%*s", USAGE_INDENT - col, "");
	col = print_wrapped(f, USAGE_INDENT, help);
	if (list && col + 1 + (int)strlen(list) <= USAGE_WIDTH)
		fprintf(f, " %s", list);
	else if (list) {
		fprintf(f, "\n%*s", USAGE_INDENT, "");
		print_wrapped(f, USAGE_INDENT, list);
	}
	fputc('\n', f);
}

/* "[(none), sockets, ...]": the commands that take option @o. */
static void opt_users(char *buf, size_t len, int o)
{
	size_t at = 0;

	if (BIT(o) & GLOBAL_OPTS) {
		snprintf(buf, len, "[all]");
		return;
	}
	for (size_t i = 0; i <= NCMDS && at < len; i++) {
		const struct cmd *c = i < NCMDS ? &cmds[i] : &prom_cmd;

		if (c->opts & BIT(o))
			at += snprintf(buf + at, len - at, "%s%s",
				       at ? ", " : "[",
				       c->name ? c->name : "(none)");
	}
	if (at < len)
		snprintf(buf + at, len - at, "]");
}

/* Usage, from cmds[] and optdefs[]. */
static void usage(FILE *f)
{
	fprintf(f, "usage: sockleak [OPTIONS] [COMMAND [ARGS]]\n"
		"Reads the sockleak module's reports in " DEFAULT_DIR ".\n"
		"\nCommands:\n");
	for (size_t i = 0; i < NCMDS; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s%s%s",
			 cmds[i].name ? cmds[i].name : "(none)",
			 cmds[i].args ? " " : "",
			 cmds[i].args ? cmds[i].args : "");
		print_item(f, name, cmds[i].help, NULL);
	}
	fprintf(f, "\nOptions, and in brackets the commands that take them:\n");
	for (int o = 0; o < O_NUM; o++) {
		char users[256];

		opt_users(users, sizeof(users), o);
		print_item(f, optdefs[o].shown, optdefs[o].help, users);
	}
	fprintf(f,
"Without the module's suspects report, the suspects of (none), check and --prom\n"
"are the sockets with leak flags, and the filters pick among them.\n"
"Environment: SOCKLEAK_PROCFS=DIR, SOCKLEAK_CGROUPFS=DIR replace /proc and\n"
"/sys/fs/cgroup (also read for a saved copy when set).\n"
"Exit status: 0 ok, 1 check found suspects, 2 error.\n");
}

/* Exit 2 unless command @c takes every option in @given. */
static void check_opts(const struct cmd *c, unsigned int given)
{
	unsigned int bad = given & ~(c->opts | GLOBAL_OPTS);

	for (int o = 0; o < O_NUM; o++) {
		char name[32];

		if (!(bad & BIT(o)))
			continue;
		if (optdefs[o].name)
			snprintf(name, sizeof(name), "--%s", optdefs[o].name);
		else
			snprintf(name, sizeof(name), "-%c", optdefs[o].letter);
		fflush(stdout);
		if (c->name)
			fprintf(stderr, "sockleak %s: %s is not an option of this command; see sockleak --help\n",
				c->name, name);
		else
			fprintf(stderr, "sockleak: %s is not an option of the overview (no command); see sockleak --help\n",
				name);
		exit(2);
	}
}

static long long num_arg(const char *name, const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		fail("%s wants a non-negative number, got `%s`", name, s);
	return v;
}

/*
 * A name of lower-case letters, digits and the characters of @extra, as
 * the module prints protocols and families; @want says what is wanted.
 */
static const char *name_arg(const char *name, const char *s,
			    const char *extra, const char *want)
{
	for (const char *p = s; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    !strchr(extra, *p))
			fail("%s wants %s, got `%s`", name, want, s);
	if (!*s)
		fail("%s wants %s, got `%s`", name, want, s);
	return s;
}

/* getopt_long()'s tables, from optdefs[]: long options return 256 + id. */
static void getopt_tables(struct option *lo, char *so)
{
	for (int o = 0; o < O_NUM; o++) {
		if (optdefs[o].name) {
			lo->name = optdefs[o].name;
			lo->has_arg = optdefs[o].arg ? required_argument :
				      no_argument;
			lo->flag = NULL;
			lo->val = 256 + o;
			lo++;
		}
		if (optdefs[o].letter) {
			*so++ = optdefs[o].letter;
			if (optdefs[o].arg)
				*so++ = ':';
		}
	}
	memset(lo, 0, sizeof(*lo));
	*so = '\0';
}

/* The id of what getopt_long() returned, or -1 for an error. */
static int opt_id(int c)
{
	if (c >= 256)
		return c - 256;
	for (int o = 0; o < O_NUM; o++)
		if (c && optdefs[o].letter == c)
			return o;
	return -1;
}

int main(int argc, char **argv)
{
	struct option lo[O_NUM + 1];
	char so[2 * O_NUM + 1];
	const struct cmd *c;
	unsigned int given = 0;
	const char *cmd;
	int o;

	getopt_tables(lo, so);
	opterr = 0;
	while ((o = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		int id = opt_id(o);

		if (id >= 0)
			given |= BIT(id);
		switch (id) {
		case O_JSON: opt.json = true; break;
		case O_PROM: opt.prom = true; break;
		case O_DEBUGFS:
			if (opt.ndirs == MAX_DIRS)
				fail("too many --debugfs");
			opt.dirs[opt.ndirs++] = optarg;
			break;
		case O_STATE: opt.filter.state = optarg; break;
		case O_PROTO:
			opt.filter.proto = name_arg("--proto", optarg, "-_./",
				"a protocol name as the reports print it (tcp, udp, unix, netlink, ...)");
			break;
		case O_FAMILY:
			opt.filter.family = name_arg("--family", optarg, "",
				"a family name (inet, inet6, unix, netlink, packet, ...)");
			break;
		case O_NETNS:
			opt.filter.netns = num_arg("--netns", optarg);
			break;
		case O_CGROUP: opt.filter.cgroup = optarg; break;
		case O_MINMEM:
			opt.filter.min_mem = num_arg("--min-mem", optarg);
			break;
		case O_FLAG: opt.filter.flag = optarg; break;
		case O_SORT:
			if (strcmp(optarg, "mem") && strcmp(optarg, "refcnt") &&
			    strcmp(optarg, "age") && strcmp(optarg, "rmem") &&
			    strcmp(optarg, "wmem"))
				fail("--sort wants mem, refcnt, age, rmem or wmem, got `%s`",
				     optarg);
			opt.sort = optarg;
			break;
		case O_VERBOSE: opt.verbose = true; break;
		case O_PORT: {
			long long p = num_arg("--port", optarg);

			if (p < 1 || p > 65535)
				fail("--port wants 1-65535, got `%s`", optarg);
			opt.port = p;
			break;
		}
		case O_TIMEOUT: {
			long long t = num_arg("--timeout", optarg);

			if (t < 1 || t > 86400)
				fail("--timeout wants 1-86400 seconds, got `%s`",
				     optarg);
			opt.timeout = t;
			break;
		}
		case O_WATCH: opt.watch = optarg; break;
		case O_KTAP: opt.ktap = true; break;
		case O_REPEAT: {
			long long n = num_arg("--repeat", optarg);

			if (n < 1 || n > 1000000)
				fail("--repeat wants 1-1000000, got `%s`",
				     optarg);
			opt.repeat = n;
			break;
		}
		case O_FOR: {
			long long t = num_arg("--for", optarg);

			if (t < 1 || t > 7 * 86400)
				fail("--for wants 1-604800 seconds, got `%s`",
				     optarg);
			opt.for_s = t;
			break;
		}
		case O_ALL: opt.all = true; break;
		case O_LIMIT: opt.limit = num_arg("-n", optarg); break;
		case O_COUNT: opt.count = num_arg("-c", optarg); break;
		case O_INTERVAL: {
			char *end;

			opt.interval = strtod(optarg, &end);
			if (end == optarg || *end || opt.interval <= 0)
				fail("-i wants a positive number of seconds, got `%s`",
				     optarg);
			break;
		}
		case O_VERSION:
			printf("sockleak %s\n", SOCKLEAK_VERSION);
			return 0;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			fail("unknown option or missing argument: %s",
			     argv[optind - 1]);
		}
	}
	if (opt.json && opt.prom)
		fail("--json and --prom exclude each other");
	opt.live = !opt.ndirs;
	opt.dir = opt.live ? DEFAULT_DIR : opt.dirs[0];
	if (opt.ndirs > 1 && (optind >= argc || strcmp(argv[optind], "growth")))
		fail("several --debugfs DIR are only for growth");
	if (opt.live && geteuid() != 0 && access(DEFAULT_DIR, R_OK))
		fail("sockleak needs root: the files under %s are root-only (or use --debugfs DIR on a saved copy)",
		     DEFAULT_DIR);

	cmd = optind < argc ? argv[optind++] : NULL;
	argc -= optind;
	argv += optind;
	c = find_cmd(cmd);
	if (opt.prom) {
		if (!c || !(c->opts & BIT(O_PROM)))
			fail("--prom prints the whole exposition: use it alone (or with summary/sockets)");
		c = &prom_cmd;
		given &= ~BIT(O_PROM);
	} else if (!c && !strcmp(cmd, "watch")) {
		/* Watches are the refcount watchpoints: refs, watch-next, run --watch. */
		fail("`sockleak watch` is now `sockleak growth` (growth rates); refcount watches are `refs`, `watch-next` and `run --watch`");
	} else if (!c) {
		usage(stderr);
		fail("unknown command `%s`", cmd);
	}
	check_opts(c, given);
	return c->run ? c->run() : c->run_args(argc, argv);
}
