// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the owner of a socket, like ss -p: the module's
 * owners= key when present, else a scan of /proc/PID/fd; and where an
 * owner waits (/proc/PID/stat and wchan).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "sockleak.h"

/*
 * Where task @pid waits: "S:ep_poll" (state letter of /proc/PID/stat and
 * the symbol of /proc/PID/wchan), just "R" when wchan is "0" or empty
 * (running, or hidden by kptr_restrict), "-" when unknown (no pid, the
 * task is gone, or a saved copy without SOCKLEAK_PROCFS).
 */
const char *owner_wait(long long pid, char *buf, size_t len)
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

/*
 * Refresh the kernel's owner scan: who holds each socket, and which netns
 * nothing in user space reaches (the verdicts that depend on them). Best
 * effort: a module without the command, or a saved copy, is read as it
 * is.
 */
void refresh_owners(void)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if (!opt.live)
		return;
	snprintf(path, sizeof(path), "%s/control", opt.dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = write(fd, "scan", 4);
	(void)n;		/* best effort, see above */
	close(fd);
}

void scan_proc_owners(void)
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
const char *owner_of(const struct rec *r, char *buf, size_t len)
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
long long owner_pid(const struct rec *r)
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
