// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - userspace helper for the sockleak kernel module: reads
 * /sys/kernel/debug/sockleak (or a saved copy of it) and prints tables,
 * JSON or Prometheus text. See sockleak.8 and README.md.
 *
 * This file: main() and its options, errors, reading the reports and the
 * host's /proc and cgroupfs. Each command has its own file (sockleak.h).
 *
 * Exit status: 0 ok, 1 "check" found suspects, 2 any error.
 */
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

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: sockleak [OPTIONS] [COMMAND [ARGS]]\n"
"Reads the sockleak module's reports in /sys/kernel/debug/sockleak.\n"
"\n"
"Commands:\n"
"  (none)             where every page goes, and the top suspect groups\n"
"  sockets            one row per socket, like ss, with owner pid/comm\n"
"  summary            memory accounting, states, sockstat, counters\n"
"  suspects           the module's ranked suspects\n"
"  tracked            sockets closed by their owner but never freed\n"
"  cgroups            socket memory per memory cgroup\n"
"  check              exit 0: no suspects, 1: suspects (printed), 2: error\n"
"  watch              growth rates per socket, cgroup and in total\n"
"  version            helper and module versions\n"
"  control            the module's tunables\n"
"  set NAME=VALUE...  change tunables\n"
"  track on|off       closed-socket tracking\n"
"  scan               run the kernel's owner scan\n"
"  clear              forget what tracking recorded\n"
"  snapshot DIR       save the reports to DIR (read it with --debugfs DIR)\n"
"\n"
"Options:\n"
"  --json             JSON: one document; JSON Lines for sockets, suspects,\n"
"                     tracked, cgroups and watch (one object per line)\n"
"  --prom             Prometheus text exposition of everything\n"
"  --debugfs DIR      read a saved copy (repeat it for offline watch)\n"
"  --state S --proto tcp|udp --netns N --cgroup PATH --min-mem BYTES\n"
"  --flag F|any       filters of sockets, watch\n"
"  --sort mem|refcnt|age|rmem|wmem   order of sockets (default mem)\n"
"  -n N               at most N rows\n"
"  -i SEC, -c COUNT   watch interval (default 2) and samples (default: forever)\n"
"  -v                 tracked: both stacks, one frame a line\n"
"  --all              suspects, check: one line per suspect (default: one\n"
"                     line per group of one cause and owner)\n"
"  --version, --help\n"
"Environment: SOCKLEAK_PROCFS=DIR, SOCKLEAK_CGROUPFS=DIR replace /proc and\n"
"/sys/fs/cgroup (also read for a saved copy when set).\n"
"Exit status: 0 ok, 1 check found suspects, 2 error.\n");
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

int main(int argc, char **argv)
{
	enum { O_JSON = 256, O_PROM, O_DEBUGFS, O_STATE, O_PROTO, O_NETNS,
	       O_CGROUP, O_MINMEM, O_FLAG, O_SORT, O_VERSION, O_HELP, O_ALL };
	static const struct option lo[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "prom", no_argument, NULL, O_PROM },
		{ "debugfs", required_argument, NULL, O_DEBUGFS },
		{ "state", required_argument, NULL, O_STATE },
		{ "proto", required_argument, NULL, O_PROTO },
		{ "netns", required_argument, NULL, O_NETNS },
		{ "cgroup", required_argument, NULL, O_CGROUP },
		{ "min-mem", required_argument, NULL, O_MINMEM },
		{ "flag", required_argument, NULL, O_FLAG },
		{ "sort", required_argument, NULL, O_SORT },
		{ "version", no_argument, NULL, O_VERSION },
		{ "all", no_argument, NULL, O_ALL },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "hvn:i:c:", lo, NULL)) != -1) {
		switch (c) {
		case O_JSON: opt.json = true; break;
		case O_PROM: opt.prom = true; break;
		case O_DEBUGFS:
			if (opt.ndirs == MAX_DIRS)
				fail("too many --debugfs");
			opt.dirs[opt.ndirs++] = optarg;
			break;
		case O_STATE: opt.filter.state = optarg; break;
		case O_PROTO:
			if (strcmp(optarg, "tcp") && strcmp(optarg, "udp"))
				fail("--proto wants tcp or udp, got `%s`", optarg);
			opt.filter.proto = optarg;
			break;
		case O_NETNS: opt.filter.netns = num_arg("--netns", optarg); break;
		case O_CGROUP: opt.filter.cgroup = optarg; break;
		case O_MINMEM: opt.filter.min_mem = num_arg("--min-mem", optarg); break;
		case O_FLAG: opt.filter.flag = optarg; break;
		case O_SORT:
			if (strcmp(optarg, "mem") && strcmp(optarg, "refcnt") &&
			    strcmp(optarg, "age") && strcmp(optarg, "rmem") &&
			    strcmp(optarg, "wmem"))
				fail("--sort wants mem, refcnt, age, rmem or wmem, got `%s`",
				     optarg);
			opt.sort = optarg;
			break;
		case 'v': opt.verbose = true; break;
		case O_ALL: opt.all = true; break;
		case 'n': opt.limit = num_arg("-n", optarg); break;
		case 'c': opt.count = num_arg("-c", optarg); break;
		case 'i': {
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
		case 'h':
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
	if (opt.ndirs > 1 && (optind >= argc || strcmp(argv[optind], "watch")))
		fail("several --debugfs DIR are only for watch");
	if (opt.live && geteuid() != 0 && access(DEFAULT_DIR, R_OK))
		fail("sockleak needs root: the files under %s are root-only (or use --debugfs DIR on a saved copy)",
		     DEFAULT_DIR);

	cmd = optind < argc ? argv[optind++] : NULL;
	argc -= optind;
	argv += optind;
	if (opt.prom) {
		if (cmd && strcmp(cmd, "summary") && strcmp(cmd, "sockets"))
			fail("--prom prints the whole exposition: use it alone (or with summary/sockets)");
		return cmd_prom();
	}
	if (!cmd)
		return cmd_overview();
	if (!strcmp(cmd, "sockets"))
		return cmd_sockets();
	if (!strcmp(cmd, "summary"))
		return cmd_summary();
	if (!strcmp(cmd, "version"))
		return cmd_version();
	if (!strcmp(cmd, "control"))
		return cmd_control_show();
	if (!strcmp(cmd, "suspects"))
		return cmd_suspects();
	if (!strcmp(cmd, "tracked"))
		return cmd_tracked();
	if (!strcmp(cmd, "cgroups"))
		return cmd_cgroups();
	if (!strcmp(cmd, "check"))
		return cmd_check();
	if (!strcmp(cmd, "watch"))
		return cmd_watch();
	if (!strcmp(cmd, "set"))
		return cmd_set(argc, argv);
	if (!strcmp(cmd, "snapshot")) {
		if (argc != 1)
			fail("usage: sockleak snapshot DIR");
		return cmd_snapshot(argv[0]);
	}
	if (!strcmp(cmd, "scan"))
		return cmd_scan();
	if (!strcmp(cmd, "clear"))
		return cmd_clear();
	if (!strcmp(cmd, "track"))
		return cmd_track(argc, argv);
	usage(stderr);
	fail("unknown command `%s`", cmd);
}
