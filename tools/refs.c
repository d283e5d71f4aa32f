// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the refcount watchpoint commands:
 *
 *   refs [COOKIE]   the module's "refs" report: per watched socket its
 *                   count, the references left unmatched and who took
 *                   them; -v adds every change and every stack
 *   watch-next      arm the next sockets created that match (--port,
 *                   --proto, --netns, -c), wait for them, and report each
 *                   one when the kernel frees it, or when stopped (Ctrl-C,
 *                   --timeout)
 *
 * The "refs" report is blocks: a header line "cookie=... key=value...",
 * lines that start with a space (" change=", " site=", " held=",
 * " held_before_watch=") and a last line "explain=<sentence>"; an
 * optional first line "watch_next filter=... left= armed= lost=".
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "parse.h"
#include "sockleak.h"

/* One watched socket of the report. */
struct watch_block {
	char *head;		/* "cookie=..." */
	char **lines;		/* the lines that start with a space */
	int nlines;
	char *explain;		/* after "explain=", or "" */
};

struct refs {
	char *text;
	char *next_line;	/* "watch_next ..." or NULL */
	struct watch_block *w;
	int n;
};

static void refs_free(struct refs *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->w[i].lines);
	free(r->w);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* Read and split "refs"; false when the module has none (too old). */
static bool refs_load(struct refs *r)
{
	char path[512], *line, *save = NULL;
	struct watch_block *cur = NULL;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/refs", opt.dir);
	r->text = slurp(path);
	if (!r->text) {
		if (errno == ENOENT && !opt.live)
			return false;
		if (errno == ENOENT)
			fail("this sockleak module has no refs report (module too old?)");
		if (opt.live)
			diagnose_live(path, errno);
		fail("cannot read %s: %s", path, strerror(errno));
	}
	for (line = strtok_r(r->text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "watch_next ", 11)) {
			r->next_line = line;
		} else if (!strncmp(line, "cookie=", 7)) {
			r->w = realloc(r->w, (r->n + 1) * sizeof(*r->w));
			if (!r->w)
				fail("out of memory");
			cur = &r->w[r->n++];
			memset(cur, 0, sizeof(*cur));
			cur->head = line;
			cur->explain = "";
		} else if (cur && line[0] == ' ') {
			cur->lines = realloc(cur->lines, (cur->nlines + 1) *
					     sizeof(char *));
			if (!cur->lines)
				fail("out of memory");
			cur->lines[cur->nlines++] = line + 1;
		} else if (cur && !strncmp(line, "explain=", 8)) {
			cur->explain = line + 8;
		}
	}
	return true;
}

/* The value of @key in a line of key=value words, into @buf ("-"). */
static const char *word(const char *line, const char *key, char *buf,
			size_t len)
{
	size_t k = strlen(key);
	const char *p = line;

	while (p && *p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, k) && p[k] == '=') {
			size_t n = strcspn(p + k + 1, " ");

			snprintf(buf, len, "%.*s", (int)n, p + k + 1);
			return buf;
		}
		p = strchr(p, ' ');
	}
	snprintf(buf, len, "-");
	return buf;
}

static long long word_num(const char *line, const char *key)
{
	char buf[32];

	return atoll(word(line, key, buf, sizeof(buf)));
}

/* One watched socket, as text. */
static void print_block(const struct watch_block *b)
{
	char ck[32], st[16], proto[16], origin[16], after[32], age[32];
	char by[16], cpus[32], v[2048];

	word(b->head, "cookie", ck, sizeof(ck));
	word(b->head, "state", st, sizeof(st));
	word(b->head, "proto", proto, sizeof(proto));
	word(b->head, "origin", origin, sizeof(origin));
	word(b->head, "armed_after_us", after, sizeof(after));
	human_ms(age, sizeof(age), word_num(b->head, "armed_ms"));
	printf("socket %s (%s), %s, watched for %s (armed by %s", ck, proto,
	       !strcmp(st, "freed") ? "freed" : "alive", age, origin);
	word(b->head, "armed_by", by, sizeof(by));
	word(b->head, "cpus_after_us", cpus, sizeof(cpus));
	if (!strcmp(by, "probe"))
		printf(", at once: every CPU within %s us", cpus);
	else if (strcmp(after, "-"))
		printf(", %s us after its allocation", after);
	printf("): refcnt %lld, %lld taken and %lld dropped since, %lld before\n",
	       word_num(b->head, "refcnt"), word_num(b->head, "gets"),
	       word_num(b->head, "puts"), word_num(b->head, "base"));
	if (word_num(b->head, "unseen"))
		printf("  (%lld of those before: moved on another CPU before its watchpoint did)\n",
		       word_num(b->head, "unseen"));
	if (word_num(b->head, "changes") > word_num(b->head, "kept"))
		printf("  (%lld changes, the latest %lld kept)\n",
		       word_num(b->head, "changes"),
		       word_num(b->head, "kept"));
	for (int i = 0; i < b->nlines; i++) {
		const char *l = b->lines[i];

		if (!strncmp(l, "held=", 5) && strstr(l, " site=")) {
			char ctx[16], comm[64];

			printf("  %lld held, taken in %s (%s, pid %lld %s)\n",
			       word_num(l, "held"), word(l, "taken", v, sizeof(v)),
			       word(l, "ctx", ctx, sizeof(ctx)),
			       word_num(l, "pid"),
			       word(l, "comm", comm, sizeof(comm)));
			if (opt.verbose)
				print_frames(stdout, "      ", word(l, "stack", v,
								sizeof(v)));
		}
	}
	if (opt.verbose) {
		printf("  changes:\n");
		for (int i = 0; i < b->nlines; i++)
			if (!strncmp(b->lines[i], "change=", 7))
				printf("    %s\n", b->lines[i]);
		printf("  sites:\n");
		for (int i = 0; i < b->nlines; i++) {
			const char *l = b->lines[i];

			if (strncmp(l, "site=", 5))
				continue;
			printf("    site %lld: %s x%lld, unmatched %lld\n",
			       word_num(l, "site"), word(l, "op", v, 16),
			       word_num(l, "count"), word_num(l, "unmatched"));
			print_frames(stdout, "      ", word(l, "stack", v, sizeof(v)));
		}
	}
	printf("  %s\n", b->explain);
}

static void json_block(struct json *j, const struct watch_block *b)
{
	char k[64], v[2048];
	const char *p = b->head;

	json_begin_obj(j);
	while (*p) {
		size_t n = strcspn(p, " ");
		const char *eq = memchr(p, '=', n);

		if (eq) {
			snprintf(k, sizeof(k), "%.*s", (int)(eq - p), p);
			snprintf(v, sizeof(v), "%.*s", (int)(p + n - eq - 1),
				 eq + 1);
			json_kval(j, k, v);
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	json_key(j, "held");
	json_begin_arr(j);
	for (int i = 0; i < b->nlines; i++) {
		const char *l = b->lines[i];

		if (strncmp(l, "held=", 5) || !strstr(l, " site="))
			continue;
		json_begin_obj(j);
		json_ks64(j, "count", word_num(l, "held"));
		json_kstr(j, "taken", word(l, "taken", v, sizeof(v)));
		json_kstr(j, "ctx", word(l, "ctx", v, sizeof(v)));
		json_ks64(j, "pid", word_num(l, "pid"));
		json_kstr(j, "stack", word(l, "stack", v, sizeof(v)));
		json_end_obj(j);
	}
	json_end_arr(j);
	json_kstr(j, "explain", b->explain);
	json_end_obj(j);
	json_newline(j);
}

static const struct watch_block *find_block(const struct refs *r,
					    const char *cookie)
{
	char ck[32];

	for (int i = 0; i < r->n; i++)
		if (!strcasecmp(word(r->w[i].head, "cookie", ck, sizeof(ck)),
				cookie))
			return &r->w[i];
	return NULL;
}

int cmd_refs(int argc, char **argv)
{
	const char *cookie = argc > 0 ? argv[0] : NULL;
	struct refs r;
	struct json j;

	if (argc > 1)
		fail("usage: sockleak refs [COOKIE]");
	json_init(&j, stdout);
	if (cookie && !strncasecmp(cookie, "0x", 2))
		cookie += 2;
	if (!refs_load(&r))
		fail("%s has no refs report", opt.dir);
	if (cookie && !find_block(&r, cookie))
		fail("socket %s is not watched; arm a watchpoint with: sockleak set watch=%s",
		     cookie, cookie);
	if (!r.n && !opt.json)
		printf("no socket is watched; arm one with: sockleak set watch=COOKIE (the sk: of ss -e), or sockleak watch-next --port PORT\n");
	for (int i = 0; i < r.n; i++) {
		char ck[32];

		if (cookie && strcasecmp(word(r.w[i].head, "cookie", ck,
					      sizeof(ck)), cookie))
			continue;
		if (opt.json)
			json_block(&j, &r.w[i]);
		else
			print_block(&r.w[i]);
	}
	refs_free(&r);
	return 0;
}

/* ---- watch-next ----------------------------------------------------- */

static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
	(void)sig;
	stop_now = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Is @cookie among the first @n of @list? */
static bool seen(char (*list)[32], int n, const char *cookie)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], cookie))
			return true;
	return false;
}

#define NEXT_MAX	8

int cmd_watch_next(void)
{
	char filter[128], line[160], before[16][32], armed[NEXT_MAX][32];
	char done[NEXT_MAX][32], ck[32], st[16];
	int nbefore = 0, narmed = 0, ndone = 0, count = opt.count ? opt.count : 1;
	double deadline = opt.timeout > 0 ? now_s() + opt.timeout : 0;
	struct refs r;
	int at = 0;

	if (!opt.live)
		fail("watch-next arms the live module: it cannot read a saved copy");
	if (count > NEXT_MAX)
		fail("-c wants at most %d sockets (the module queues %d)",
		     NEXT_MAX, NEXT_MAX);
	if (opt.port < 0 && !opt.filter.proto && !opt.filter.family &&
	    opt.filter.netns < 0)
		fail("watch-next wants a filter: --port P, --proto P, --family F or --netns N");
	if (opt.filter.proto)
		at += snprintf(filter + at, sizeof(filter) - at, "proto:%s,",
			       opt.filter.proto);
	if (opt.filter.family)
		at += snprintf(filter + at, sizeof(filter) - at, "family:%s,",
			       opt.filter.family);
	if (opt.port >= 0)
		at += snprintf(filter + at, sizeof(filter) - at, "port:%d,",
			       opt.port);
	if (opt.filter.netns >= 0)
		at += snprintf(filter + at, sizeof(filter) - at, "netns:%lld,",
			       opt.filter.netns);
	snprintf(filter + at, sizeof(filter) - at, "count:%d", count);

	/* Watches that exist already are not ours. */
	refs_load(&r);
	for (int i = 0; i < r.n && nbefore < 16; i++)
		word(r.w[i].head, "cookie", before[nbefore++], 32);
	refs_free(&r);

	control_set("track=on", "closed-socket tracking (`track` command)");
	snprintf(line, sizeof(line), "watch_next=%s", filter);
	control_set(line, "refcount watchpoints (`watch_next`)");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "sockleak: watching the next %d socket%s matching %s; Ctrl-C stops\n",
		count, count == 1 ? "" : "s", filter);

	while (!stop_now && (!deadline || now_s() < deadline)) {
		refs_load(&r);
		for (int i = 0; i < r.n; i++) {
			const struct watch_block *b = &r.w[i];

			word(b->head, "cookie", ck, sizeof(ck));
			word(b->head, "origin", st, sizeof(st));
			if (!strcmp(st, "cookie") || seen(before, nbefore, ck))
				continue;
			if (!seen(armed, narmed, ck) && narmed < NEXT_MAX) {
				snprintf(armed[narmed++], 32, "%s", ck);
				printf("armed: socket %s (%s, %s)\n", ck,
				       word(b->head, "proto", line, 16), st);
				fflush(stdout);
			}
			word(b->head, "state", st, sizeof(st));
			if (!strcmp(st, "freed") && !seen(done, ndone, ck)) {
				snprintf(done[ndone++], 32, "%s", ck);
				print_block(b);
				fflush(stdout);
			}
		}
		refs_free(&r);
		if (narmed >= count && ndone >= narmed)
			break;
		usleep(200 * 1000);
	}

	/* Stopped: what is still alive, as it stands. */
	refs_load(&r);
	for (int i = 0; i < narmed; i++) {
		const struct watch_block *b = find_block(&r, armed[i]);

		if (b && !seen(done, ndone, armed[i])) {
			printf("still alive when stopped:\n");
			print_block(b);
		}
	}
	if (narmed < count)
		printf("%d of %d sockets armed before %s\n", narmed, count,
		       stop_now ? "the stop" : "the timeout");
	refs_free(&r);
	control_set("watch_next=off", "refcount watchpoints (`watch_next`)");
	return 0;
}
