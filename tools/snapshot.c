// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the snapshot command: a copy of every report and the
 * time it was taken (snapshot.time, which growth reads back).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "parse.h"
#include "sockleak.h"

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A saved copy's time of capture (snapshot.time monotonic=), or -1. */
double snapshot_time(const char *dir)
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

int cmd_snapshot(int argc, char **argv)
{
	const char *out;
	DIR *d;
	struct dirent *de;
	char path[PATH_MAX];
	int n = 0;
	FILE *f;

	if (argc != 1)
		fail("usage: sockleak snapshot DIR");
	out = argv[0];
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
