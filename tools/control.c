// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - version, control and the commands that write to the
 * module's control file: set, track, scan, clear (control_set() is the
 * one writer, for refs.c and run.c too).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "parse.h"
#include "sockleak.h"

int cmd_version(void)
{
	struct report r;
	struct json j;

	load(&r, "version", FMT_VERSION, false);
	if (opt.json) {
		json_init(&j, stdout);
		json_begin_obj(&j);
		json_kstr(&j, "helper", SOCKLEAK_VERSION);
		for (int i = 0; i < r.n; i++)
			json_kstr(&j, r.recs[i].kv[0].key, r.recs[i].kv[0].val);
		json_end_obj(&j);
		json_newline(&j);
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

int cmd_control_show(void)
{
	struct report r;
	struct table t;
	static const struct col cols[] = {
		{ "TUNABLE", COL_LEFT, 0 },
		{ "VALUE", COL_RIGHT, 0 },
	};
	struct json j;

	load(&r, "control", FMT_KV, false);
	if (opt.json) {
		json_init(&j, stdout);
		json_begin_obj(&j);
		json_key(&j, "control");
		json_begin_obj(&j);
		for (int i = 0; i < r.n; i++)
			json_kval(&j, r.recs[i].kv[0].key, r.recs[i].kv[0].val);
		json_end_obj(&j);
		json_end_obj(&j);
		json_newline(&j);
	} else {
		table_init(&t, 2, cols);
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
/* Write @line to control: 0, or the errno of the write (no message). */
int control_try(const char *line)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, e;

	snprintf(path, sizeof(path), "%s/control", opt.dir);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	n = write(fd, line, strlen(line));
	e = n < 0 ? errno : 0;
	close(fd);
	return e;
}

int control_set(const char *line, const char *what)
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
		if (e == ENOSPC)
			fail("`%s`: no free watch slot: every debug register is in use (unwatch one: sockleak set unwatch=COOKIE)",
			     line);
		if (e == ENOENT && !strncmp(line, "unwatch=", 8))
			fail("`%s`: that socket is not watched; see sockleak refs",
			     line);
		if (e == ENOENT)
			fail("`%s`: no socket has that cookie (the sk: of ss -e)",
			     line);
		if (e == EEXIST)
			fail("`%s`: that socket is watched already; see sockleak refs",
			     line);
		if (e == ENODEV)
			fail("`%s` needs tracking on: sockleak track on", line);
		if (e == EINVAL && (!strncmp(line, "watch_next=", 11) ||
				    !strncmp(line, "stack_filter=", 13)))
			fail("the module rejected the filter `%s`: an unknown key, protocol or family name (protocols as the reports print them: tcp, udp, mptcp, unix, unix-stream, netlink, packet, ...; families: inet, inet6, unix, netlink, packet, vsock, ...), or a port, netns or count out of range",
			     line);
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

int cmd_set(int argc, char **argv)
{
	if (argc < 1)
		return cmd_control_show();
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i] || !eq[1])
			fail("set wants NAME=VALUE, got `%s`", argv[i]);
		control_set(argv[i], NULL);
	}
	return cmd_control_show();
}

int cmd_track(int argc, char **argv)
{
	if (argc != 1 || (strcmp(argv[0], "on") && strcmp(argv[0], "off")))
		fail("usage: sockleak track on|off");
	control_set(!strcmp(argv[0], "on") ? "track=on" : "track=off",
		      "closed-socket tracking (`track` command)");
	printf("tracking %s\n", argv[0]);
	return 0;
}

int cmd_scan(void)
{
	control_set("scan", "owner scan (`scan` command)");
	printf("owner scan done; see `sockleak sockets`\n");
	return 0;
}

int cmd_clear(void)
{
	control_set("clear", "`clear` command (closed-socket tracking)");
	printf("cleared\n");
	return 0;
}
