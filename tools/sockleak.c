// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - userspace helper for the sockleak kernel module: reads
 * /sys/kernel/debug/sockleak (or a saved copy of it) and prints tables,
 * JSON or Prometheus text. See sockleak.8 and README.md.
 *
 * Exit status: 0 ok, 1 "check" found suspects, 2 any error.
 */
#include <dirent.h>
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
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "groups.h"
#include "output.h"
#include "parse.h"

#define DEBUGFS		"/sys/kernel/debug"
#define DEFAULT_DIR	DEBUGFS "/sockleak"
#define DEBUGFS_MAGIC	0x64626720
#define MAX_DIRS	64

static struct {
	const char *dirs[MAX_DIRS];	/* --debugfs, in order */
	int ndirs;
	const char *dir;		/* the directory being read */
	bool live;			/* reading the running kernel */
	bool json, prom;
	bool verbose;			/* -v: tracked stacks */
	bool all;			/* --all: suspects one line each */
	/* sockets filters */
	const char *state, *proto, *cgroup, *flag, *sort;
	long long netns, min_mem;
	int limit;
	/* watch */
	double interval;
	int count;
} opt = {
	.netns = -1, .min_mem = -1, .limit = -1, .interval = 2,
};

static void __attribute__((noreturn, format(printf, 1, 2)))
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
static void __attribute__((noreturn)) diagnose_live(const char *path, int err)
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
static char *slurp(const char *path)
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
static bool load(struct report *r, const char *name, enum fmt fmt,
		 bool optional)
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

static void need(struct report *r, const char *name, enum fmt fmt)
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

static const char *procfs(void)
{
	return tree_dir("SOCKLEAK_PROCFS", "/proc");
}

static bool procfs_on(void)
{
	return tree_on("SOCKLEAK_PROCFS");
}

static const char *cgroupfs(void)
{
	return tree_dir("SOCKLEAK_CGROUPFS", "/sys/fs/cgroup");
}

static bool cgroupfs_on(void)
{
	return tree_on("SOCKLEAK_CGROUPFS");
}

/*
 * Where task @pid waits: "S:ep_poll" (state letter of /proc/PID/stat and
 * the symbol of /proc/PID/wchan), just "R" when wchan is "0" or empty
 * (running, or hidden by kptr_restrict), "-" when unknown (no pid, the
 * task is gone, or a saved copy without SOCKLEAK_PROCFS).
 */
static const char *owner_wait(long long pid, char *buf, size_t len)
{
	char path[PATH_MAX], *text, *p, st = 0;

	if (pid <= 0 || !procfs_on())
		return "-";
	snprintf(path, sizeof(path), "%s/%lld/stat", procfs(), pid);
	text = slurp(path);
	if (!text)
		return "-";
	p = strrchr(text, ')');	/* comm may hold ')' and spaces */
	if (p && p[1] == ' ' && p[2] > ' ')
		st = p[2];
	free(text);
	if (!st)
		return "-";
	snprintf(path, sizeof(path), "%s/%lld/wchan", procfs(), pid);
	text = slurp(path);
	if (text)
		text[strcspn(text, " \t\n")] = '\0';
	if (text && *text && strcmp(text, "0"))
		snprintf(buf, len, "%c:%s", st, text);
	else
		snprintf(buf, len, "%c", st);
	free(text);
	return buf;
}

/* ---- owners: pid/comm of each socket inode, like ss -p ---- */

struct owner {
	unsigned long ino;
	int pid;
	int nmore;
	char comm[32];
};

static struct owner *owners;
static int nowners;

static int owner_cmp(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void scan_proc_owners(void)
{
	DIR *proc = procfs_on() ? opendir(procfs()) : NULL;
	struct dirent *de;
	int cap = 0;

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		char path[PATH_MAX], link[64], comm[32] = "?";
		int pid = atoi(de->d_name);
		struct dirent *fe;
		DIR *fds;
		FILE *cf;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%d/comm", procfs(), pid);
		cf = fopen(path, "r");
		if (cf) {
			if (fgets(comm, sizeof(comm), cf))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(cf);
		}
		snprintf(path, sizeof(path), "%s/%d/fd", procfs(), pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			char fp[PATH_MAX];
			unsigned long ino;
			ssize_t n;

			snprintf(fp, sizeof(fp), "%s/%d/fd/%s", procfs(), pid,
				 fe->d_name);
			n = readlink(fp, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			if (nowners == cap) {
				struct owner *no;

				cap = cap ? cap * 2 : 256;
				no = realloc(owners, cap * sizeof(*no));
				if (!no)
					fail("out of memory");
				owners = no;
			}
			owners[nowners].ino = ino;
			owners[nowners].pid = pid;
			owners[nowners].nmore = 0;
			snprintf(owners[nowners].comm, sizeof(owners[0].comm),
				 "%s", comm);
			nowners++;
		}
		closedir(fds);
	}
	closedir(proc);
	qsort(owners, nowners, sizeof(*owners), owner_cmp);
}

/* "pid/comm" of a socket: the kernel's owners= if given, else /proc. */
static const char *owner_of(const struct rec *r, char *buf, size_t len)
{
	const char *o = rec_get(r, "owners");
	struct owner key, *hit;
	long long ino;
	int first, last, pids = 0, prev = 0;

	/*
	 * The kernel's owner scan: owners=pid:fd,... and owner_tasks=S:comm,...
	 * in the same order; "-" no fd holds it, "?" not scanned yet.
	 */
	if (o && strcmp(o, "?")) {
		const char *t = rec_get(r, "owner_tasks"), *c;
		int pid = atoi(o), more = 0;
		size_t n;

		if (!strcmp(o, "-"))
			return "-";
		for (c = o; (c = strchr(c, ',')); c++)
			if (atoi(c + 1) != pid)
				more++;
		c = t ? strchr(t, ':') : NULL;
		n = c ? strcspn(c + 1, ",") : 1;
		snprintf(buf, len, "%d/%.*s%s", pid, (int)n, c ? c + 1 : "?",
			 more ? ",+" : "");
		if (more)
			snprintf(buf + strlen(buf), len - strlen(buf), "%d", more);
		return buf;
	}
	if (!procfs_on() || !rec_num(r, "ino", &ino) || ino == 0)
		return "-";
	key.ino = ino;
	hit = bsearch(&key, owners, nowners, sizeof(*owners), owner_cmp);
	if (!hit)
		return "-";
	first = last = hit - owners;
	while (first > 0 && owners[first - 1].ino == key.ino)
		first--;
	while (last + 1 < nowners && owners[last + 1].ino == key.ino)
		last++;
	for (int i = first; i <= last; i++)
		if (owners[i].pid != prev) {
			pids++;
			prev = owners[i].pid;
		}
	if (pids > 1)
		snprintf(buf, len, "%d/%s,+%d", owners[first].pid,
			 owners[first].comm, pids - 1);
	else
		snprintf(buf, len, "%d/%s", owners[first].pid,
			 owners[first].comm);
	return buf;
}

/* The first owner's pid of a socket (as owner_of() names it), or 0. */
static long long owner_pid(const struct rec *r)
{
	const char *o = rec_get(r, "owners");
	struct owner key, *hit;
	long long ino;

	if (o && strcmp(o, "?"))
		return strcmp(o, "-") ? atoll(o) : 0;
	if (!procfs_on() || !rec_num(r, "ino", &ino) || ino == 0)
		return 0;
	key.ino = ino;
	hit = bsearch(&key, owners, nowners, sizeof(*owners), owner_cmp);
	if (!hit)
		return 0;
	while (hit > owners && hit[-1].ino == key.ino)
		hit--;
	return hit->pid;
}

/* ---- sockets ---- */

static long long sort_key(const struct rec *r, const char *how)
{
	if (!strcmp(how, "refcnt"))
		return rec_num0(r, "refcnt");
	if (!strcmp(how, "rmem"))
		return rec_num0(r, "rmem");
	if (!strcmp(how, "wmem"))
		return rec_num0(r, "wmem") + rec_num0(r, "queued");
	if (!strcmp(how, "age")) {
		long long a, b;

		if (!rec_num(r, "rcv_idle_ms", &a) ||
		    !rec_num(r, "snd_idle_ms", &b))
			return 0;
		return a < b ? a : b;
	}
	return sock_mem(r);
}

static const char *sort_how;

static int sock_cmp(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a;
	const struct rec *y = *(const struct rec *const *)b;
	long long kx = sort_key(x, sort_how), ky = sort_key(y, sort_how);
	unsigned long long cx, cy;

	if (kx != ky)
		return kx > ky ? -1 : 1;
	cx = strtoull(rec_get(x, "cookie"), NULL, 16);
	cy = strtoull(rec_get(y, "cookie"), NULL, 16);
	return cx < cy ? -1 : cx > cy;
}

static bool flagged(const struct rec *r)
{
	const char *f = rec_get(r, "flags");

	return f && strcmp(f, "-");
}

static bool sock_match(const struct rec *r)
{
	const char *v;
	long long n;

	if (opt.state && (!(v = rec_get(r, "state")) || strcasecmp(v, opt.state)))
		return false;
	if (opt.proto && (!(v = rec_get(r, "proto")) || strcmp(v, opt.proto)))
		return false;
	if (opt.netns >= 0 && (!rec_num(r, "netns", &n) || n != opt.netns))
		return false;
	if (opt.cgroup) {
		size_t l = strlen(opt.cgroup);

		v = rec_get(r, "cgroup");
		if (l > 1 && opt.cgroup[l - 1] == '/')
			l--;
		if (!v || strncmp(v, opt.cgroup, l) ||
		    (v[l] && v[l] != '/' && l > 1))
			return false;
	}
	if (opt.min_mem >= 0 && sock_mem(r) < opt.min_mem)
		return false;
	if (opt.flag) {
		v = rec_get(r, "flags");
		if (!strcmp(opt.flag, "any") ? !flagged(r) :
		    !v || !list_has(v, opt.flag))
			return false;
	}
	return true;
}

/* Filtered, sorted pointers into @r; returns the count. */
static int select_sockets(const struct report *r, const struct rec ***out,
			  const char *how, int limit)
{
	const struct rec **v = calloc(r->n + 1, sizeof(*v));
	int n = 0;

	if (!v)
		fail("out of memory");
	for (int i = 0; i < r->n; i++)
		if (sock_match(&r->recs[i]))
			v[n++] = &r->recs[i];
	sort_how = how;
	qsort(v, n, sizeof(*v), sock_cmp);
	if (limit >= 0 && n > limit)
		n = limit;
	*out = v;
	return n;
}

static const char *get_or(const struct rec *r, const char *key)
{
	const char *v = rec_get(r, key);

	return v ? v : "-";
}

/* A socket's JSON members: the module's keys, mem, owner and wait. */
static void json_sock_body(const struct rec *r)
{
	char ob[96], wb[96];
	const char *w = owner_wait(owner_pid(r), wb, sizeof(wb));

	json_rec_body(stdout, r);
	printf(",\"mem\":%lld,\"owner\":", sock_mem(r));
	json_val(stdout, owner_of(r, ob, sizeof(ob)));
	printf(",\"wait\":");
	json_val(stdout, w);
}

static void print_sockets(const struct rec **v, int n)
{
	static const char *head[] = {
		"COOKIE", "PROTO", "STATE", "LOCAL", "PEER", "RMEM", "WMEM",
		"QUEUED", "MEM", "REF", "OWNER", "WAIT", "CGROUP", "FLAGS",
	};
	struct table t;

	if (opt.json) {
		for (int i = 0; i < n; i++) {
			putchar('{');
			json_sock_body(v[i]);
			printf("}\n");
		}
		return;
	}
	table_init(&t, 14, head);
	for (int i = 0; i < n; i++) {
		char mem[32], ob[96], wb[96];
		const char *row[14];

		snprintf(mem, sizeof(mem), "%lld", sock_mem(v[i]));
		row[0] = get_or(v[i], "cookie");
		row[1] = get_or(v[i], "proto");
		row[2] = get_or(v[i], "state");
		row[3] = get_or(v[i], "src");
		row[4] = get_or(v[i], "dst");
		row[5] = get_or(v[i], "rmem");
		row[6] = get_or(v[i], "wmem");
		row[7] = get_or(v[i], "queued");
		row[8] = rec_get(v[i], "rmem") ? mem : "-";
		row[9] = get_or(v[i], "refcnt");
		row[10] = owner_of(v[i], ob, sizeof(ob));
		row[11] = owner_wait(owner_pid(v[i]), wb, sizeof(wb));
		row[12] = get_or(v[i], "cgroup");
		row[13] = get_or(v[i], "flags");
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static int cmd_sockets(void)
{
	struct report r;
	const struct rec **v;
	int n;

	load(&r, "sockets", FMT_SOCKETS, false);
	scan_proc_owners();
	n = select_sockets(&r, &v, opt.sort ? opt.sort : "mem", opt.limit);
	print_sockets(v, n);
	free(v);
	report_free(&r);
	return 0;
}

/* ---- generic reports: cgroups, tracked, suspects ---- */

/*
 * memory.stat "sock" of cgroup @path (as the module escapes it) under
 * the cgroupfs root, or -1 when the directory or the key is not there.
 */
static long long memstat_sock(const char *path)
{
	char cg[PATH_MAX], file[PATH_MAX + 64], *text, *p;
	long long v = -1;

	unescape(cg, sizeof(cg), path);
	snprintf(file, sizeof(file), "%s%s%smemory.stat", cgroupfs(), cg,
		 cg[0] && cg[strlen(cg) - 1] == '/' ? "" : "/");
	text = slurp(file);
	if (!text)
		return -1;
	for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, "sock ", 5)) {
			v = atoll(p + 5);
			break;
		}
	free(text);
	return v;
}

/* Upper-cased copies of @keys, for a table header; free with heads_free. */
static void heads_of(const char **head, const char *const *keys, int n)
{
	for (int j = 0; j < n; j++) {
		char *h = strdup(keys[j]);

		if (!h)
			fail("out of memory");
		for (char *p = h; *p; p++)
			*p = *p >= 'a' && *p <= 'z' ? *p - 32 : *p;
		head[j] = h;
	}
}

static void heads_free(const char **head, int n)
{
	for (int j = 0; j < n; j++)
		free((char *)head[j]);
}

/* Every key of @r, in first-seen order; returns the count (at most 62). */
static int keys_of(const struct report *r, const char **keys)
{
	int nkeys = 0;

	for (int i = 0; i < r->n; i++)
		for (int k = 0; k < r->recs[i].n && nkeys < 62; k++) {
			int j;

			for (j = 0; j < nkeys; j++)
				if (!strcmp(keys[j], r->recs[i].kv[k].key))
					break;
			if (j == nkeys)
				keys[nkeys++] = r->recs[i].kv[k].key;
		}
	return nkeys;
}

/* A report the helper has no table for: its keys as columns. */
static void print_generic(const struct report *r)
{
	const char *keys[64], *head[64];
	int nkeys;
	struct table t;

	if (opt.json) {
		for (int i = 0; i < r->n; i++) {
			json_rec(stdout, &r->recs[i]);
			putchar('\n');
		}
		return;
	}
	nkeys = keys_of(r, keys);
	heads_of(head, keys, nkeys);
	table_init(&t, nkeys, head);
	for (int i = 0; i < r->n; i++) {
		const char *row[64];

		for (int j = 0; j < nkeys; j++)
			row[j] = get_or(&r->recs[i], keys[j]);
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
	heads_free(head, nkeys);
}

/* A byte count of @r as a table cell: human-readable, "-" when absent. */
static const char *cell_bytes(char *buf, size_t len, const struct rec *r,
			      const char *key)
{
	long long v;

	if (!rec_num(r, key, &v))
		return "-";
	return human_bytes_short(buf, len, v);
}

/*
 * cgroups: the module's keys plus, on a cgroup v2 system (no tcpmem),
 * memory.stat "sock" of each online cgroup and its residue against
 * subtree_charged. A dying or gone memcg has no directory (and its path
 * may belong to a new cgroup by now): "-".
 */
static void print_cgroups(const struct report *r)
{
	static const char *const head_v2[] = {
		"ID", "PATH", "STATE", "SOCKETS", "CHARGED", "SUBTREE_CHARGED",
		"MEMSTAT_SOCK", "RESIDUE", "FLAGS",
	};
	static const char *const head_v1[] = {
		"ID", "PATH", "STATE", "SOCKETS", "CHARGED", "SUBTREE_CHARGED",
		"TCPMEM", "RESIDUE", "FLAGS",
	};
	bool v1 = false, ms;
	struct table t;

	for (int i = 0; i < r->n; i++) {
		long long v;

		if (rec_num(&r->recs[i], "tcpmem", &v))
			v1 = true;
	}
	ms = !v1 && cgroupfs_on();
	table_init(&t, 9, (const char **)(v1 ? head_v1 : head_v2));
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->recs[i];
		const char *path = rec_get(x, "path");
		long long sock = -1, sub;
		bool have = false;
		char b[6][32];
		const char *row[9];

		if (ms && path && path[0] == '/' &&
		    !strcmp(get_or(x, "state"), "online") &&
		    rec_num(x, "subtree_charged", &sub) &&
		    (sock = memstat_sock(path)) >= 0)
			have = true;
		if (opt.json) {
			putchar('{');
			json_rec_body(stdout, x);
			if (have)
				printf(",\"memstat_sock\":%lld,\"memstat_residue\":%lld}\n",
				       sock, sock - sub);
			else
				printf(",\"memstat_sock\":null,\"memstat_residue\":null}\n");
			continue;
		}
		row[0] = get_or(x, "id");
		row[1] = get_or(x, "path");
		row[2] = get_or(x, "state");
		row[3] = get_or(x, "sockets");
		row[4] = cell_bytes(b[0], sizeof(b[0]), x, "charged");
		row[5] = cell_bytes(b[1], sizeof(b[1]), x, "subtree_charged");
		if (v1) {
			row[6] = cell_bytes(b[2], sizeof(b[2]), x, "tcpmem");
			row[7] = cell_bytes(b[3], sizeof(b[3]), x, "residue");
		} else {
			row[6] = have ? human_bytes_short(b[2], sizeof(b[2]), sock) : "-";
			row[7] = have ? human_bytes_short(b[3], sizeof(b[3]), sock - sub) : "-";
		}
		row[8] = get_or(x, "flags");
		table_add(&t, row);
	}
	if (!opt.json)
		table_print(&t, stdout);
	table_free(&t);
}

/* tracked: one row per socket; -v adds both stacks, one frame a line. */
static void tracked_stacks(int row, void *arg)
{
	const struct rec *x = &((const struct report *)arg)->recs[row];
	static const char *const keys[] = { "alloc_stack", "close_stack" };

	for (int k = 0; k < 2; k++) {
		const char *st = get_or(x, keys[k]);

		printf("    %s:%s\n", keys[k], strcmp(st, "-") ? "" : " -");
		if (!strcmp(st, "-"))
			continue;
		while (*st) {
			size_t n = strcspn(st, ",");

			printf("      %.*s\n", (int)n, st);
			st += n + (st[n] == ',');
		}
	}
}

/* Bytes a tracked socket still holds: rmem + wmem + queued + fwd. */
static long long tracked_mem(const struct rec *x)
{
	return rec_num0(x, "rmem") + rec_num0(x, "wmem") +
	       rec_num0(x, "queued") + rec_num0(x, "fwd");
}

static void print_tracked(const struct report *r)
{
	static const char *const head[] = {
		"COOKIE", "PROTO", "STATE", "REFCNT", "MEM", "CLOSED", "BY",
		"MISSING",
	};
	struct table t;

	if (opt.json) {
		for (int i = 0; i < r->n; i++) {
			putchar('{');
			json_rec_body(stdout, &r->recs[i]);
			printf(",\"mem\":%lld}\n", tracked_mem(&r->recs[i]));
		}
		return;
	}
	table_init(&t, 8, (const char **)head);
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->recs[i];
		char mem[32], age[32], by[96];
		const char *row[8];
		long long v, pid = 0;

		rec_num(x, "close_pid", &pid);
		if (pid > 0)
			snprintf(by, sizeof(by), "%lld/%s", pid,
				 get_or(x, "close_comm"));
		else
			snprintf(by, sizeof(by), "-");
		row[0] = get_or(x, "cookie");
		row[1] = get_or(x, "proto");
		row[2] = get_or(x, "state");
		row[3] = get_or(x, "refcnt");
		row[4] = human_bytes_short(mem, sizeof(mem), tracked_mem(x));
		row[5] = rec_num(x, "close_age_ms", &v) ?
			 human_ms(age, sizeof(age), v) : "-";
		row[6] = by;
		row[7] = get_or(x, "missing");
		table_add(&t, row);
	}
	table_print_cb(&t, stdout, opt.verbose ? tracked_stacks : NULL,
		       (void *)r);
	table_free(&t);
}

/*
 * The module's suspects report: its keys as columns, and WAIT (where the
 * pid waits, owner_wait()) before the free-text EXPLAIN, which stays last.
 */
/* At most @limit rows (groups, or with --all records); -1: all. */
static void print_suspects_report(const struct report *r, int limit)
{
	/* In the explanation already; JSON keeps them. */
	static const char *const hidden[] = { "fd", "proto", "state", "err" };
	const char *keys[64], *head[64];
	struct sgroup *g = NULL;
	int nkeys, at, ng;
	struct table t;

	if (opt.json) {
		for (int i = 0; i < r->n && (limit < 0 || i < limit); i++) {
			char wb[96];

			putchar('{');
			json_rec_body(stdout, &r->recs[i]);
			printf(",\"wait\":");
			json_val(stdout, owner_wait(rec_num0(&r->recs[i], "pid"),
						    wb, sizeof(wb)));
			printf("}\n");
		}
		return;
	}
	nkeys = keys_of(r, keys);
	for (int i = 0; i < nkeys; i++)
		for (size_t h = 0; h < sizeof(hidden) / sizeof(hidden[0]); h++)
			if (!strcmp(keys[i], hidden[h])) {
				memmove(&keys[i], &keys[i + 1],
					(nkeys - i - 1) * sizeof(keys[0]));
				nkeys--;
				i--;
				break;
			}
	for (at = 0; at < nkeys && strcmp(keys[at], "explain"); at++)
		;
	memmove(&keys[at + 1], &keys[at], (nkeys - at) * sizeof(keys[0]));
	keys[at] = "wait";
	nkeys++;
	heads_of(head, keys, nkeys);
	table_init(&t, nkeys, head);
	ng = opt.all ? -1 : suspect_groups(r, &g);
	if (!opt.all && ng < 0)
		fail("out of memory");
	if (limit < 0 || limit > (opt.all ? r->n : ng))
		limit = opt.all ? r->n : ng;
	for (int i = 0; i < limit; i++) {
		const struct rec *x = &r->recs[opt.all ? i : g[i].first];
		const char *row[64];
		char wb[96], id[32], bytes[32], age[32], why[512];

		for (int j = 0; j < nkeys; j++)
			row[j] = j == at ? owner_wait(rec_num0(x, "pid"), wb,
						     sizeof(wb)) :
				 get_or(x, keys[j]);
		if (!opt.all && g[i].n > 1) {
			snprintf(id, sizeof(id), "%d sockets", g[i].n);
			snprintf(bytes, sizeof(bytes), "%lld", g[i].bytes);
			snprintf(age, sizeof(age), "%lld", g[i].max_age);
			group_explain(why, sizeof(why), r, &g[i]);
			for (int j = 0; j < nkeys; j++) {
				if (!strcmp(keys[j], "id"))
					row[j] = id;
				else if (!strcmp(keys[j], "bytes"))
					row[j] = bytes;
				else if (!strcmp(keys[j], "age_ms"))
					row[j] = g[i].max_age < 0 ? "-" : age;
				else if (!strcmp(keys[j], "explain"))
					row[j] = why;
			}
		}
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
	heads_free(head, nkeys);
	free(g);
}

/* The groups of a suspects report as a JSON array (overview --json). */
static void print_groups_json(const struct report *r)
{
	struct sgroup *g;
	int ng = suspect_groups(r, &g);

	if (ng < 0)
		fail("out of memory");
	putchar('[');
	for (int i = 0; i < ng; i++) {
		const struct rec *x = &r->recs[g[i].first];
		char why[512];

		group_explain(why, sizeof(why), r, &g[i]);
		printf("%s{\"count\":%d,\"bytes\":%lld,", i ? "," : "",
		       g[i].n, g[i].bytes);
		for (const char *const *k = (const char *const[]){ "kind",
			"reason", "pid", "comm", "proto", "state", "verdict",
			NULL }; *k; k++) {
			json_str(stdout, *k);
			putchar(':');
			json_val(stdout, get_or(x, *k));
			putchar(',');
		}
		printf("\"fd_min\":%lld,\"fd_max\":%lld,\"explain\":",
		       g[i].fd_min, g[i].fd_max);
		json_str(stdout, g[i].n > 1 ? why : get_or(x, "explain"));
		printf(",\"ids\":[");
		for (int j = 0, m = 0; j < r->n; j++) {
			if (j != g[i].first &&
			    !(g[i].n > 1 && suspect_same(&r->recs[g[i].first],
							 &r->recs[j])))
				continue;
			printf("%s", m++ ? "," : "");
			json_str(stdout, get_or(&r->recs[j], "id"));
		}
		printf("]}");
	}
	putchar(']');
	free(g);
}

static int cmd_generic(const char *name)
{
	struct report r;

	need(&r, name, FMT_KV);
	if (!r.n && !opt.json)
		printf("(the %s report is empty)\n", name);
	else if (!strcmp(name, "cgroups"))
		print_cgroups(&r);
	else if (!strcmp(name, "tracked"))
		print_tracked(&r);
	else if (!strcmp(name, "suspects"))
		print_suspects_report(&r, opt.limit);
	else
		print_generic(&r);
	report_free(&r);
	return 0;
}

/* ---- summary ---- */

static void print_kv_table(const struct report *r, const char *kind,
			   const char *title, bool nonzero_only)
{
	struct table t;
	static const char *head[] = { "NETNS", "PROTO", "KEY", "VALUE" };
	bool any = false;

	table_init(&t, 4, head);
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->recs[i];

		if (strcmp(get_or(x, "kind"), kind))
			continue;
		for (int k = 2; k < x->n; k++) {
			const char *row[4] = {
				x->kv[0].val, get_or(x, "proto"),
				x->kv[k].key, x->kv[k].val,
			};

			if (!strcmp(x->kv[k].key, "proto"))
				continue;
			if (nonzero_only && !strcmp(x->kv[k].val, "0"))
				continue;
			table_add(&t, row);
			any = true;
		}
	}
	if (any) {
		printf("\n%s\n", title);
		table_print(&t, stdout);
	}
	table_free(&t);
}

#define MAX_PROTOS	8

/*
 * Where every page goes, one line per protocol (account.c); @socks (may
 * be NULL) names the owners and causes of the unhashed sockets.
 */
static void headline(const struct report *sum, const struct report *socks)
{
	struct account a[MAX_PROTOS];
	int n = account_build(sum, socks, owner_of, a, MAX_PROTOS);

	for (int i = 0; i < n; i++)
		account_print(stdout, &a[i]);
}

/* The same as a JSON array. */
static void headline_json(const struct report *sum, const struct report *socks)
{
	struct account a[MAX_PROTOS];
	int n = account_build(sum, socks, owner_of, a, MAX_PROTOS);

	putchar('[');
	for (int i = 0; i < n; i++) {
		if (i)
			putchar(',');
		account_json(stdout, &a[i]);
	}
	putchar(']');
}

static int cmd_summary(void)
{
	struct report r;

	load(&r, "summary", FMT_SUMMARY, false);
	if (opt.json) {
		printf("{\"summary\":[");
		for (int i = 0; i < r.n; i++) {
			if (i)
				putchar(',');
			json_rec(stdout, &r.recs[i]);
		}
		printf("]}\n");
		report_free(&r);
		return 0;
	}
	{
		struct report socks;
		bool have = load(&socks, "sockets", FMT_SOCKETS, true);

		scan_proc_owners();
		headline(&r, have ? &socks : NULL);
		if (have)
			report_free(&socks);
	}
	print_kv_table(&r, "proto", "Protocol memory accounting (pages):", false);
	print_kv_table(&r, "states", "Sockets per state:", true);
	print_kv_table(&r, "mem", "Sockets and bytes seen:", true);
	print_kv_table(&r, "sockstat", "The kernel's sockstat, per netns:", false);
	print_kv_table(&r, "mib", "Counters (nonzero), per netns:", true);
	report_free(&r);
	return 0;
}

/* ---- version, control ---- */

static int cmd_version(void)
{
	struct report r;

	load(&r, "version", FMT_VERSION, false);
	if (opt.json) {
		printf("{\"helper\":");
		json_str(stdout, SOCKLEAK_VERSION);
		for (int i = 0; i < r.n; i++) {
			putchar(',');
			json_str(stdout, r.recs[i].kv[0].key);
			putchar(':');
			json_str(stdout, r.recs[i].kv[0].val);
		}
		printf("}\n");
	} else {
		printf("helper    %s\n", SOCKLEAK_VERSION);
		for (int i = 0; i < r.n; i++)
			printf("%-9s %s\n", r.recs[i].kv[0].key == NULL ? "" :
			       !strcmp(r.recs[i].kv[0].key, "sockleak") ? "module" :
			       r.recs[i].kv[0].key, r.recs[i].kv[0].val);
	}
	report_free(&r);
	return 0;
}

static int cmd_control_show(void)
{
	struct report r;
	struct table t;
	static const char *head[] = { "TUNABLE", "VALUE" };

	load(&r, "control", FMT_KV, false);
	if (opt.json) {
		printf("{\"control\":{");
		for (int i = 0; i < r.n; i++) {
			if (i)
				putchar(',');
			json_str(stdout, r.recs[i].kv[0].key);
			putchar(':');
			json_val(stdout, r.recs[i].kv[0].val);
		}
		printf("}}\n");
	} else {
		table_init(&t, 2, head);
		for (int i = 0; i < r.n; i++) {
			const char *row[2] = { r.recs[i].kv[0].key,
					       r.recs[i].kv[0].val };
			table_add(&t, row);
		}
		table_print(&t, stdout);
		table_free(&t);
	}
	report_free(&r);
	return 0;
}

/* Write one line to control; @what names the feature for errors. */
static int control_write(const char *line, const char *what)
{
	char path[PATH_MAX];
	size_t len = strlen(line);
	ssize_t n;
	int fd;

	if (!opt.live)
		fail("cannot change a saved copy (%s): control commands need the live module",
		     opt.dir);
	snprintf(path, sizeof(path), "%s/control", opt.dir);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		diagnose_live(path, errno);
	n = write(fd, line, len);
	if (n < 0) {
		int e = errno;

		close(fd);
		if (e == EINVAL && what)
			fail("the module rejected `%s`: this sockleak module has no %s (module too old?)",
			     line, what);
		if (e == EINVAL)
			fail("unknown setting or bad value: %s; see `sockleak control` for the settings and README.md for their ranges",
			     line);
		if (e == EPERM || e == EACCES)
			fail("cannot write %s: %s (root needed; under Secure Boot lockdown debugfs refuses writable files)",
			     path, strerror(e));
		fail("writing `%s` to %s: %s", line, path, strerror(e));
	}
	close(fd);
	return 0;
}

static int cmd_set(int argc, char **argv)
{
	if (argc < 1)
		return cmd_control_show();
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i] || !eq[1])
			fail("set wants NAME=VALUE, got `%s`", argv[i]);
		control_write(argv[i], NULL);
	}
	return cmd_control_show();
}

/* ---- suspects: the module's suspects report, else flagged sockets ---- */

struct suspects {
	struct report file;	/* the suspects report, when present */
	struct report socks;
	const struct rec **v;	/* flagged sockets, when not */
	int n;
	bool from_file;
};

static void get_suspects(struct suspects *s, int limit)
{
	memset(s, 0, sizeof(*s));
	load(&s->socks, "sockets", FMT_SOCKETS, false);
	if (load(&s->file, "suspects", FMT_KV, true)) {
		s->from_file = true;
		s->n = s->file.n;
		return;
	}
	opt.flag = "any";
	s->n = select_sockets(&s->socks, &s->v, "mem", limit);
	opt.flag = NULL;
}

static void put_suspects(struct suspects *s)
{
	free(s->v);
	report_free(&s->socks);
	if (s->from_file)
		report_free(&s->file);
}

static void print_suspects(struct suspects *s, int limit)
{
	if (s->from_file) {
		print_suspects_report(&s->file, limit);
	} else {
		print_sockets(s->v, s->n);
	}
}

/*
 * Refresh the kernel's owner scan before the overview: sockets no hash
 * table holds (reset, closed) reach the reports through it. Best effort:
 * a module without the command, or a saved copy, is read as it is.
 */
static void refresh_owners(void)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if (!opt.live)
		return;
	snprintf(path, sizeof(path), "%s/control", opt.dir);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return;
	n = write(fd, "scan", 4);
	(void)n;		/* best effort, see above */
	close(fd);
}

static int cmd_overview(void)
{
	struct report sum;
	struct suspects s;
	int limit = opt.limit >= 0 ? opt.limit : 10;

	refresh_owners();
	load(&sum, "summary", FMT_SUMMARY, false);
	scan_proc_owners();
	get_suspects(&s, -1);
	if (opt.json) {
		printf("{\"summary\":[");
		for (int i = 0, k = 0; i < sum.n; i++) {
			if (strcmp(get_or(&sum.recs[i], "netns"), "all"))
				continue;
			printf("%s", k++ ? "," : "");
			json_rec(stdout, &sum.recs[i]);
		}
		printf("],\"accounting\":");
		headline_json(&sum, &s.socks);
		printf(",\"suspects_source\":\"%s\",\"suspects_count\":%d,\"suspects\":[",
		       s.from_file ? "suspects" : "flags", s.n);
		for (int i = 0; i < s.n && i < limit; i++) {
			char wb[96];

			printf("%s{", i ? "," : "");
			if (s.from_file) {
				const struct rec *x = &s.file.recs[i];

				json_rec_body(stdout, x);
				printf(",\"wait\":");
				json_val(stdout, owner_wait(rec_num0(x, "pid"),
							    wb, sizeof(wb)));
			} else {
				json_sock_body(s.v[i]);
			}
			putchar('}');
		}
		printf("]");
		if (s.from_file) {
			printf(",\"suspect_groups\":");
			print_groups_json(&s.file);
		}
		printf("}\n");
	} else {
		headline(&sum, &s.socks);
		if (!s.n) {
			printf("\nno suspects%s\n", s.from_file ? "" :
			       " (no socket has a leak flag)");
		} else if (s.from_file && !opt.all) {
			struct sgroup *g;
			int ng = suspect_groups(&s.file, &g);

			if (ng < 0)
				fail("out of memory");
			free(g);
			printf("\n%d suspect%s in %d group%s (the module's suspects report, --all: one line each), top %d:\n",
			       s.n, s.n == 1 ? "" : "s", ng, ng == 1 ? "" : "s",
			       ng < limit ? ng : limit);
			print_suspects(&s, limit);
		} else {
			printf("\n%d suspect%s (%s), top %d:\n", s.n,
			       s.n == 1 ? "" : "s",
			       s.from_file ? "the module's suspects report" :
			       "sockets with leak flags, by memory",
			       s.n < limit ? s.n : limit);
			if (!s.from_file && s.n > limit)
				s.n = limit;
			print_suspects(&s, limit);
		}
	}
	put_suspects(&s);
	report_free(&sum);
	return 0;
}

static int cmd_suspects(void)
{
	struct report r;

	need(&r, "suspects", FMT_KV);
	report_free(&r);
	return cmd_generic("suspects");
}

static int cmd_check(void)
{
	struct suspects s;
	int n;

	scan_proc_owners();
	get_suspects(&s, -1);
	n = s.n;
	if (opt.json) {
		printf("{\"suspects_source\":\"%s\",\"suspects_count\":%d}\n",
		       s.from_file ? "suspects" : "flags", n);
	} else if (n) {
		printf("%d suspect%s:\n", n, n == 1 ? "" : "s");
		print_suspects(&s, -1);
	} else {
		printf("no suspects\n");
	}
	put_suspects(&s);
	return n ? 1 : 0;
}

/* ---- Prometheus ---- */

#define MAXGROUPS 1024

struct group {
	char a[128], b[128];
	double v[4];
};

static struct group *group_get(struct group *g, int *n, const char *a,
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

static const char *const flag_names[] = {
	"close_wait", "unread", "orphan_mem", "fin_wait2", "rcvbuf_locked",
	"zero_window", "bpf_held", "no_fd", "unhashed_mem", "unhashed",
};

static const char *const proto_keys[][2] = {
	{ "memory_allocated", "Pages the protocol has charged (sockstat mem)." },
	{ "usage_pages", "memory_allocated plus per-CPU reserves, pages." },
	{ "seen_pages", "Pages charged by the sockets sockleak saw." },
	{ "unexplained_pages", "usage_pages - seen_pages: memory of sockets no hash walk sees." },
	{ "sockets_allocated", "Sockets the protocol has allocated (sockstat alloc)." },
	{ "orphans", "Orphan sockets (sockstat orphan)." },
	{ "pressure", "1 when the protocol is under memory pressure." },
};

static void prom_generic_report(const struct report *r, const char *name,
				const char *labelkey)
{
	char metric[200], k[100];
	const char *done[64];
	int ndone = 0;

	for (int i = 0; i < r->n; i++)
		for (int j = 0; j < r->recs[i].n; j++) {
			const char *key = r->recs[i].kv[j].key;
			bool seen = false;

			if (!strcmp(key, labelkey) || !is_int(r->recs[i].kv[j].val))
				continue;
			for (int d = 0; d < ndone; d++)
				seen |= !strcmp(done[d], key);
			if (seen || ndone == 64)
				continue;
			done[ndone++] = key;
			prom_sanitize(k, sizeof(k), key);
			snprintf(metric, sizeof(metric), "sockleak_%s_%s", name, k);
			prom_family(stdout, metric, "gauge", "Value of this key in the module's report, per record.");
			for (int x = 0; x < r->n; x++) {
				long long v;
				const char *lab = get_or(&r->recs[x], labelkey);
				const char *labels[] = { labelkey, lab, NULL };

				if (rec_num(&r->recs[x], key, &v))
					prom_sample(stdout, metric, labels, v);
			}
		}
}

static int cmd_prom(void)
{
	struct report sum, ver, cg, tr;
	struct suspects s;
	struct group *g = calloc(MAXGROUPS, sizeof(*g));
	struct group *c = calloc(MAXGROUPS, sizeof(*c));
	int ng = 0, nc = 0;

	if (!g || !c)
		fail("out of memory");
	load(&ver, "version", FMT_VERSION, false);
	load(&sum, "summary", FMT_SUMMARY, false);
	get_suspects(&s, -1);

	prom_family(stdout, "sockleak_info", "gauge", "Module version and kernel release; always 1.");
	{
		const char *labels[] = {
			"version", ver.n > 0 ? ver.recs[0].kv[0].val : "",
			"running", ver.n > 2 ? ver.recs[2].kv[0].val : "",
			NULL,
		};

		prom_sample(stdout, "sockleak_info", labels, 1);
	}

	for (int i = 0; i < s.socks.n; i++) {
		const struct rec *x = &s.socks.recs[i];
		struct group *p = group_get(g, &ng, get_or(x, "proto"),
					    get_or(x, "state"));
		struct group *q = rec_get(x, "cgroup") ?
				  group_get(c, &nc, rec_get(x, "cgroup"), "") :
				  NULL;

		if (p) {
			p->v[0]++;
			p->v[1] += rec_num0(x, "rmem");
			p->v[2] += rec_num0(x, "wmem");
			p->v[3] += rec_num0(x, "queued");
		}
		if (q) {
			q->v[0]++;
			q->v[1] += sock_mem(x);
		}
	}
	prom_family(stdout, "sockleak_sockets", "gauge", "Sockets in the kernel's hash tables, per protocol and ss state.");
	for (int i = 0; i < ng; i++) {
		const char *l[] = { "proto", g[i].a, "state", g[i].b, NULL };

		prom_sample(stdout, "sockleak_sockets", l, g[i].v[0]);
	}
	prom_family(stdout, "sockleak_socket_bytes", "gauge", "Sum of sk_rmem_alloc (rmem), sk_wmem_alloc (wmem), sk_wmem_queued (queued) per protocol and state.");
	for (int i = 0; i < ng; i++)
		for (int t = 1; t <= 3; t++) {
			static const char *const tn[] = { "", "rmem", "wmem", "queued" };
			const char *l[] = { "proto", g[i].a, "state", g[i].b,
					    "type", tn[t], NULL };

			prom_sample(stdout, "sockleak_socket_bytes", l, g[i].v[t]);
		}
	prom_family(stdout, "sockleak_cgroup_socket_bytes", "gauge", "Bytes (rmem+queued+fwd) of the sockets charged to each cgroup.");
	for (int i = 0; i < nc; i++) {
		const char *l[] = { "cgroup", c[i].a, NULL };

		prom_sample(stdout, "sockleak_cgroup_socket_bytes", l, c[i].v[1]);
	}
	prom_family(stdout, "sockleak_flagged_sockets", "gauge", "Sockets carrying each leak flag.");
	for (size_t f = 0; f < sizeof(flag_names) / sizeof(flag_names[0]); f++) {
		const char *l[] = { "flag", flag_names[f], NULL };
		int n = 0;

		for (int i = 0; i < s.socks.n; i++)
			n += list_has(get_or(&s.socks.recs[i], "flags"), flag_names[f]);
		prom_sample(stdout, "sockleak_flagged_sockets", l, n);
	}
	prom_family(stdout, "sockleak_suspects", "gauge", "Leak suspects (the module's suspects report, else sockets with a leak flag).");
	prom_sample(stdout, "sockleak_suspects", NULL, s.n);

	for (size_t k = 0; k < sizeof(proto_keys) / sizeof(proto_keys[0]); k++) {
		char metric[128];

		snprintf(metric, sizeof(metric), "sockleak_proto_%s", proto_keys[k][0]);
		prom_family(stdout, metric, "gauge", proto_keys[k][1]);
		for (int i = 0; i < sum.n; i++) {
			const struct rec *x = &sum.recs[i];
			const char *l[] = { "proto", get_or(x, "proto"), NULL };
			long long v;

			if (!strcmp(get_or(x, "netns"), "all") &&
			    !strcmp(get_or(x, "kind"), "proto") &&
			    rec_num(x, proto_keys[k][0], &v))
				prom_sample(stdout, metric, l, v);
		}
	}

	{
		struct account a[MAX_PROTOS];
		int n = account_build(&sum, &s.socks, owner_of, a, MAX_PROTOS);

		account_prom(stdout, a, n);
	}
	if (load(&tr, "tracked", FMT_KV, true)) {
		double bytes = 0;

		for (int i = 0; i < tr.n; i++) {
			long long v;

			if (rec_num(&tr.recs[i], "bytes", &v) ||
			    rec_num(&tr.recs[i], "mem", &v))
				bytes += v;
			else
				bytes += sock_mem(&tr.recs[i]);
		}
		prom_family(stdout, "sockleak_tracked_sockets", "gauge", "Sockets closed by their owner but not freed (the tracked report).");
		prom_sample(stdout, "sockleak_tracked_sockets", NULL, tr.n);
		prom_family(stdout, "sockleak_tracked_bytes", "gauge", "Bytes still held by the tracked closed-not-freed sockets.");
		prom_sample(stdout, "sockleak_tracked_bytes", NULL, bytes);
		report_free(&tr);
	}
	if (load(&cg, "cgroups", FMT_KV, true)) {
		const char *lk = cg.n && rec_get(&cg.recs[0], "cgroup") ?
				 "cgroup" : cg.n ? cg.recs[0].kv[0].key : "cgroup";

		prom_generic_report(&cg, "cgroups", lk);
		report_free(&cg);
	}
	put_suspects(&s);
	report_free(&sum);
	report_free(&ver);
	free(g);
	free(c);
	return 0;
}

/* ---- watch: growth rates across samples ---- */

struct wsock {
	char cookie[24];
	char cgroup[160];
	char desc[200];
	long long mem;
	int streak;		/* consecutive samples it grew in */
};

struct wsample {
	struct wsock *s;
	int n;
	long long total;	/* sum of socket bytes */
	long long usage;	/* protocols' usage_pages * page size, bytes */
	double t;		/* seconds */
};

static int wsock_cmp(const void *a, const void *b)
{
	return strcmp(((const struct wsock *)a)->cookie,
		      ((const struct wsock *)b)->cookie);
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A saved copy's time of capture (snapshot.time monotonic=), or -1. */
static double snapshot_time(const char *dir)
{
	char path[PATH_MAX], *text, *p;
	double t = -1;

	snprintf(path, sizeof(path), "%s/snapshot.time", dir);
	text = slurp(path);
	if (!text)
		return -1;
	p = strstr(text, "monotonic=");
	if (p)
		t = atof(p + 10);
	free(text);
	return t;
}

static void take_sample(struct wsample *w, int idx)
{
	struct report r, sum;

	memset(w, 0, sizeof(*w));
	load(&r, "sockets", FMT_SOCKETS, false);
	load(&sum, "summary", FMT_SUMMARY, false);
	w->t = opt.live ? now_mono() : snapshot_time(opt.dir);
	if (w->t < 0)
		w->t = idx * opt.interval;
	w->s = calloc(r.n + 1, sizeof(*w->s));
	if (!w->s)
		fail("out of memory");
	for (int i = 0; i < r.n; i++) {
		const struct rec *x = &r.recs[i];
		struct wsock *s;

		if (!sock_match(x))
			continue;
		s = &w->s[w->n++];
		snprintf(s->cookie, sizeof(s->cookie), "%s", get_or(x, "cookie"));
		snprintf(s->cgroup, sizeof(s->cgroup), "%s", get_or(x, "cgroup"));
		snprintf(s->desc, sizeof(s->desc), "%s %s %s %s",
			 get_or(x, "proto"), get_or(x, "state"),
			 get_or(x, "src"), get_or(x, "dst"));
		s->mem = sock_mem(x);
		w->total += s->mem;
	}
	for (int i = 0; i < sum.n; i++)
		if (!strcmp(get_or(&sum.recs[i], "netns"), "all") &&
		    !strcmp(get_or(&sum.recs[i], "kind"), "proto"))
			w->usage += 4096 * rec_num0(&sum.recs[i], "usage_pages");
	qsort(w->s, w->n, sizeof(*w->s), wsock_cmp);
	report_free(&r);
	report_free(&sum);
}

struct wrate {
	const struct wsock *s;
	long long delta;
	double rate;
};

static int wrate_cmp(const void *a, const void *b)
{
	const struct wrate *x = a, *y = b;

	if (x->rate != y->rate)
		return x->rate > y->rate ? -1 : 1;
	return strcmp(x->s->cookie, y->s->cookie);
}

/* Compare @cur with @prev, update streaks, print one report. */
static void watch_report(struct wsample *prev, struct wsample *cur, int idx)
{
	double dt = cur->t - prev->t;
	struct wrate *v = calloc(cur->n + 1, sizeof(*v));
	struct group *cg = calloc(MAXGROUPS, sizeof(*cg));
	int n = 0, ncg = 0, limit = opt.limit >= 0 ? opt.limit : 10;
	char b1[32], b2[32];

	if (!v || !cg)
		fail("out of memory");
	if (dt <= 0)
		dt = opt.interval;
	for (int i = 0; i < cur->n; i++) {
		struct wsock *s = &cur->s[i];
		struct wsock *p = bsearch(s, prev->s, prev->n, sizeof(*s),
					  wsock_cmp);
		struct group *g = group_get(cg, &ncg, s->cgroup, "");

		if (g) {
			g->v[0] += s->mem;
			g->v[1] += s->mem - (p ? p->mem : 0);
		}
		if (!p)
			continue;	/* new socket: no rate yet */
		s->streak = s->mem > p->mem ? p->streak + 1 : 0;
		if (s->mem != p->mem) {
			v[n].s = s;
			v[n].delta = s->mem - p->mem;
			v[n].rate = v[n].delta / dt;
			n++;
		}
	}
	/* Sockets gone since the last sample leave their cgroup. */
	for (int i = 0; i < prev->n; i++) {
		struct group *g;

		if (bsearch(&prev->s[i], cur->s, cur->n, sizeof(*cur->s),
			    wsock_cmp))
			continue;
		g = group_get(cg, &ncg, prev->s[i].cgroup, "");
		if (g)
			g->v[1] -= prev->s[i].mem;
	}
	qsort(v, n, sizeof(*v), wrate_cmp);
	if (n > limit)
		n = limit;

	if (opt.json) {
		printf("{\"sample\":%d,\"interval_s\":%.3f,\"socket_bytes\":%lld,\"socket_bytes_per_s\":%.3f,\"usage_bytes\":%lld,\"usage_bytes_per_s\":%.3f,\"sockets\":[",
		       idx + 1, dt, cur->total, (cur->total - prev->total) / dt,
		       cur->usage, (cur->usage - prev->usage) / dt);
		for (int i = 0; i < n; i++) {
			printf("%s{\"cookie\":", i ? "," : "");
			json_str(stdout, v[i].s->cookie);
			printf(",\"socket\":");
			json_str(stdout, v[i].s->desc);
			printf(",\"cgroup\":");
			json_str(stdout, v[i].s->cgroup);
			printf(",\"bytes\":%lld,\"delta\":%lld,\"bytes_per_s\":%.3f,\"streak\":%d,\"creep\":%s}",
			       v[i].s->mem, v[i].delta, v[i].rate, v[i].s->streak,
			       v[i].s->streak >= 2 ? "true" : "false");
		}
		printf("],\"cgroups\":[");
		for (int i = 0; i < ncg; i++) {
			printf("%s{\"cgroup\":", i ? "," : "");
			json_str(stdout, cg[i].a);
			printf(",\"bytes\":%.0f,\"bytes_per_s\":%.3f}",
			       cg[i].v[0], cg[i].v[1] / dt);
		}
		printf("]}\n");
	} else {
		struct table t;
		static const char *head[] = {
			"COOKIE", "SOCKET", "CGROUP", "BYTES", "DELTA", "B/S",
			"STREAK", "",
		};
		static const char *chead[] = { "CGROUP", "BYTES", "B/S" };

		printf("sample %d (+%.1fs): sockets hold %s (%+.1f B/s); protocols use %s (%+.1f B/s)\n",
		       idx + 1, dt, human_bytes(b1, sizeof(b1), cur->total),
		       (cur->total - prev->total) / dt,
		       human_bytes(b2, sizeof(b2), cur->usage),
		       (cur->usage - prev->usage) / dt);
		table_init(&t, 8, head);
		for (int i = 0; i < n; i++) {
			char by[32], d[32], r[32], st[16];
			const char *row[8] = {
				v[i].s->cookie, v[i].s->desc, v[i].s->cgroup,
				by, d, r, st,
				v[i].s->streak >= 2 ? "<-- CREEP: grew in every sample" : "",
			};

			snprintf(by, sizeof(by), "%lld", v[i].s->mem);
			snprintf(d, sizeof(d), "%+lld", v[i].delta);
			snprintf(r, sizeof(r), "%+.1f", v[i].rate);
			snprintf(st, sizeof(st), "%d", v[i].s->streak);
			table_add(&t, row);
		}
		if (n)
			table_print(&t, stdout);
		else
			printf("no socket changed its memory\n");
		table_free(&t);
		table_init(&t, 3, chead);
		for (int i = 0; i < ncg; i++) {
			char by[32], r[32];
			const char *row[3] = { cg[i].a, by, r };

			if (!cg[i].v[1])
				continue;
			snprintf(by, sizeof(by), "%.0f", cg[i].v[0]);
			snprintf(r, sizeof(r), "%+.1f", cg[i].v[1] / dt);
			table_add(&t, row);
		}
		if (t.rows)
			table_print(&t, stdout);
		table_free(&t);
		putchar('\n');
	}
	fflush(stdout);
	free(v);
	free(cg);
}

static int cmd_watch(void)
{
	struct wsample prev, cur;
	int count = opt.count;

	if (!opt.live && opt.ndirs < 2)
		fail("watch on saved copies needs at least two --debugfs DIR (successive snapshots)");
	if (!opt.live && (!count || count > opt.ndirs))
		count = opt.ndirs;
	if (opt.interval <= 0)
		fail("-i wants a positive number of seconds");
	take_sample(&prev, 0);
	if (!opt.json)
		printf("sample 1: %d sockets hold %lld bytes (baseline)\n\n",
		       prev.n, prev.total);
	for (int i = 1; !count || i < count; i++) {
		if (opt.live) {
			struct timespec ts = {
				(time_t)opt.interval,
				(long)((opt.interval - (time_t)opt.interval) * 1e9),
			};

			nanosleep(&ts, NULL);
		} else {
			opt.dir = opt.dirs[i];
		}
		take_sample(&cur, i);
		watch_report(&prev, &cur, i);
		free(prev.s);
		prev = cur;
	}
	free(prev.s);
	return 0;
}

/* ---- snapshot ---- */

static int cmd_snapshot(const char *out)
{
	DIR *d;
	struct dirent *de;
	char path[PATH_MAX];
	int n = 0;
	FILE *f;

	if (mkdir(out, 0700) && errno != EEXIST)
		fail("cannot create %s: %s", out, strerror(errno));
	d = opendir(opt.dir);
	if (!d) {
		if (opt.live)
			diagnose_live(opt.dir, errno);
		fail("cannot open %s: %s", opt.dir, strerror(errno));
	}
	while ((de = readdir(d))) {
		char *text;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "snapshot.time"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", opt.dir, de->d_name);
		text = slurp(path);
		if (!text) {
			if (errno == EISDIR)
				continue;
			if (opt.live)
				diagnose_live(path, errno);
			fail("cannot read %s: %s", path, strerror(errno));
		}
		snprintf(path, sizeof(path), "%s/%s", out, de->d_name);
		f = fopen(path, "w");
		if (!f || fputs(text, f) < 0 || fclose(f))
			fail("cannot write %s: %s", path, strerror(errno));
		free(text);
		n++;
	}
	closedir(d);
	snprintf(path, sizeof(path), "%s/snapshot.time", out);
	f = fopen(path, "w");
	if (!f)
		fail("cannot write %s: %s", path, strerror(errno));
	fprintf(f, "realtime=%lld monotonic=%.3f\n", (long long)time(NULL),
		now_mono());
	fclose(f);
	printf("saved %d files of %s to %s; read them with: sockleak --debugfs %s\n",
	       n, opt.dir, out, out);
	return 0;
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
		case O_STATE: opt.state = optarg; break;
		case O_PROTO:
			if (strcmp(optarg, "tcp") && strcmp(optarg, "udp"))
				fail("--proto wants tcp or udp, got `%s`", optarg);
			opt.proto = optarg;
			break;
		case O_NETNS: opt.netns = num_arg("--netns", optarg); break;
		case O_CGROUP: opt.cgroup = optarg; break;
		case O_MINMEM: opt.min_mem = num_arg("--min-mem", optarg); break;
		case O_FLAG: opt.flag = optarg; break;
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
	if (!strcmp(cmd, "tracked") || !strcmp(cmd, "cgroups"))
		return cmd_generic(cmd);
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
	if (!strcmp(cmd, "scan")) {
		control_write("scan", "owner scan (`scan` command)");
		printf("owner scan done; see `sockleak sockets`\n");
		return 0;
	}
	if (!strcmp(cmd, "clear")) {
		control_write("clear", "`clear` command (closed-socket tracking)");
		printf("cleared\n");
		return 0;
	}
	if (!strcmp(cmd, "track")) {
		if (argc != 1 || (strcmp(argv[0], "on") && strcmp(argv[0], "off")))
			fail("usage: sockleak track on|off");
		control_write(!strcmp(argv[0], "on") ? "track=on" : "track=off",
			      "closed-socket tracking (`track` command)");
		printf("tracking %s\n", argv[0]);
		return 0;
	}
	usage(stderr);
	fail("unknown command `%s`", cmd);
}
