// SPDX-License-Identifier: GPL-2.0
/*
 * The "control" file: valid settings are applied and read back; every
 * malformed, unknown, out-of-range, overlong or partly bad write fails with
 * EINVAL and changes nothing; 10000 random writes are each either rejected
 * or applied exactly; an unprivileged user cannot open it.
 */
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "lib/sl_util.h"

#define CONTROL SL_DIR "/control"

/* Write buf (len bytes) in one write(); returns 0 or errno. */
static int write_raw(const void *buf, size_t len)
{
	int fd = open(CONTROL, O_WRONLY), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, buf, len) < 0)
		err = errno;
	close(fd);
	return err;
}

static int write_str(const char *s)
{
	return write_raw(s, strlen(s));
}

FIXTURE(control) {
	char *before;
};

FIXTURE_SETUP(control)
{
	ASSERT_EQ(0, system("rmmod sockleak 2>/dev/null; modprobe sockleak"));
	self->before = sl_read_file(CONTROL);
	ASSERT_NE(NULL, self->before);
}

FIXTURE_TEARDOWN(control)
{
	free(self->before);
}

/* The value of a setting as the control file lists it, -1 when absent. */
static long long setting(const char *text, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "%s=", name);
	for (p = text; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, key, strlen(key)))
			return strtoll(p + strlen(key), NULL, 10);
	}
	return -1;
}

TEST_F(control, lists_tunables)
{
	EXPECT_LE(0, setting(self->before, "close_wait_ms"));
	EXPECT_LE(0, setting(self->before, "unread_ms"));
	EXPECT_LE(0, setting(self->before, "fin_wait2_ms"));
	EXPECT_LE(1, setting(self->before, "rcvbuf_pct"));
}

TEST_F(control, valid_writes_apply)
{
	char *after;

	ASSERT_EQ(0, write_str("unread_ms=1234\n"));
	ASSERT_EQ(0, write_str("close_wait_ms=42"));
	ASSERT_EQ(0, write_str("rcvbuf_pct=50\nfin_wait2_ms=7\n"));
	after = sl_read_file(CONTROL);
	ASSERT_NE(NULL, after);
	EXPECT_EQ(1234, setting(after, "unread_ms"));
	EXPECT_EQ(42, setting(after, "close_wait_ms"));
	EXPECT_EQ(50, setting(after, "rcvbuf_pct"));
	EXPECT_EQ(7, setting(after, "fin_wait2_ms"));
	free(after);
}

TEST_F(control, bad_writes_fail_and_change_nothing)
{
	static const char * const bad[] = {
		"bogus=1", "unread_ms", "unread_ms=", "unread_ms=abc",
		"unread_ms=-1", "unread_ms=12x", "unread_ms=0x", "rcvbuf_pct=0",
		"rcvbuf_pct=101", "unread_ms=99999999999999999999",
		"unread_ms=2147483648", "=5", "UNREAD_MS=5", "unread_ms =5",
		"unread_ms=5\nbogus=1\n", "rcvbuf_pct=50\nrcvbuf_pct=500\n",
		"track=maybe", "dump=0", "dump=", "\x01\x02\x03",
		"stack_depth=0", "stack_depth=17", "stacks=3", "stack_filter",
		"stack_filter=", "stack_filter=proto:tcp",
		"stack_filter=count:2", "stack_filter=netns:0",
		"stack_filter=port:70000", "stack_filter=comm:",
		"stack_filter=bogus:1", "stack_filter=netns:1\nstack_depth=0",
		"unread_ms=5\x00garbage",
	};
	char big[5000];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *after;
		size_t len = strlen(bad[i]);

		if (i == sizeof(bad) / sizeof(bad[0]) - 1)
			len = sizeof("unread_ms=5\x00garbage") - 1;
		EXPECT_EQ(EINVAL, write_raw(bad[i], len)) {
			TH_LOG("write '%s' accepted", bad[i]);
		}
		after = sl_read_file(CONTROL);
		ASSERT_NE(NULL, after);
		EXPECT_STREQ(self->before, after) {
			TH_LOG("write '%s' changed settings", bad[i]);
		}
		free(after);
	}
	/* overlong: garbage, then a valid name with a huge number */
	memset(big, 'a', sizeof(big));
	EXPECT_NE(0, write_raw(big, sizeof(big))) {
		TH_LOG("overlong garbage accepted");
	}
	memcpy(big, "unread_ms=", 10);
	memset(big + 10, '1', sizeof(big) - 10);
	EXPECT_NE(0, write_raw(big, sizeof(big))) {
		TH_LOG("overlong number accepted");
	}

	{
		char *after = sl_read_file(CONTROL);

		EXPECT_STREQ(self->before, after);
		free(after);
	}
}

/*
 * A write whose command fails while running (not at its check) puts back
 * what its earlier lines changed: the tunables, the stack filter, and
 * tracking when the write turned it on.
 */
TEST_F(control, failing_command_puts_back)
{
	static const char * const bad[] = {
		/* watch_next needs tracking: ENODEV */
		"grace_ms=5\nunread_ms=77\nwatch_next=port:80",
		/* no socket has this cookie */
		"stack_filter=port:81\ntrack=on\nunread_ms=3\nwatch=fffffffffff1",
		"track=on\nstack_depth=3\nunwatch=fffffffffff1",
	};
	size_t i;

	ASSERT_NE(NULL, strstr(self->before, "track=off\n"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *after;
		int err = write_str(bad[i]);

		EXPECT_NE(0, err) TH_LOG("write '%s' accepted", bad[i]);
		EXPECT_NE(EINVAL, err) TH_LOG("'%s' failed at its check", bad[i]);
		after = sl_read_file(CONTROL);
		ASSERT_NE(NULL, after);
		EXPECT_STREQ(self->before, after) {
			TH_LOG("write '%s' left changes", bad[i]);
		}
		free(after);
	}
}

/*
 * Random writes: short random strings built from the characters that
 * matter (names, digits, signs, separators, binary). Each write is either
 * rejected with EINVAL and changes nothing, or accepted, in which case it
 * was a well-formed "name=value" line list and the values read back.
 */
TEST_F_TIMEOUT(control, random_writes, SL_HEAVY_TIMEOUT)
{
	static const char * const names[] = {
		"close_wait_ms", "unread_ms", "fin_wait2_ms", "rcvbuf_pct",
	};
	static const char alphabet[] = "0123456789=-+x \n\t\x01\xff_aez";
	unsigned int seed = 12345;
	int i, accepted = 0, rounds = sl_scale(10000);

	for (i = 0; i < rounds; i++) {
		char buf[96], *cur, *after;
		int len = 0, n = rand_r(&seed) % 4, err, k;

		if (rand_r(&seed) % 2)
			len = snprintf(buf, sizeof(buf), "%s",
				       names[rand_r(&seed) % 4]);
		for (k = 0; k < n + rand_r(&seed) % 12 && len < 90; k++)
			buf[len++] = alphabet[rand_r(&seed) %
					      (sizeof(alphabet) - 1)];
		buf[len] = '\0';
		cur = sl_read_file(CONTROL);
		ASSERT_NE(NULL, cur);
		err = write_raw(buf, len);
		after = sl_read_file(CONTROL);
		ASSERT_NE(NULL, after);
		if (err) {
			EXPECT_EQ(EINVAL, err);
			EXPECT_STREQ(cur, after) {
				TH_LOG("rejected write changed settings");
			}
		} else {
			/*
			 * accepted: every non-blank line (spaces trimmed) is
			 * name=<decimal>, and now in effect
			 */
			char *line, *save;

			accepted++;
			for (line = strtok_r(buf, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				char name[32], rest[8];
				long long v;

				while (*line == ' ' || *line == '\t')
					line++;
				if (!*line)
					continue;
				EXPECT_EQ(2, sscanf(line, "%31[a-z0-9_]=%lld%7s",
						    name, &v, rest)) {
					TH_LOG("accepted malformed '%s'", line);
				}
				if (sscanf(line, "%31[a-z0-9_]=%lld", name,
					   &v) == 2) {
					EXPECT_EQ(v, setting(after, name)) {
						TH_LOG("'%s' not applied", line);
					}
				}
			}
		}
		free(cur);
		free(after);
		if (_metadata->exit_code)
			break;
	}
	TH_LOG("%d of %d random writes were valid", accepted, rounds);
}

/* MemTotal of /proc/meminfo, in bytes. */
static unsigned long long mem_total(void)
{
	char *mi = sl_read_file("/proc/meminfo"), *p;
	unsigned long long kb = 0;

	if (mi && (p = strstr(mi, "MemTotal:")))
		kb = strtoull(p + 9, NULL, 10);
	free(mi);
	return kb * 1024;
}

/*
 * max_entries is bounded by what the machine can give: a track table that
 * cannot fit in RAM (at the documented 264 bytes a socket, entry and stack
 * slot, at the least) is refused with EINVAL and changes nothing. The
 * ceiling 16777216 passed the check before, and track=on then asked
 * kvmalloc for over INT_MAX bytes: a WARN, a panic under panic_on_warn.
 * A value that fits works: track=on starts, summary shows the table.
 */
TEST_F(control, max_entries_bounded_by_ram)
{
	unsigned long long ram = mem_total(), fits;
	char buf[64], *after, *sum;

	ASSERT_LT(0ULL, ram);
	ASSERT_GT(16777216ULL * 264, ram) {
		TH_LOG("this guest has %llu bytes: the ceiling would fit", ram);
	}
	EXPECT_EQ(EINVAL, write_str("max_entries=16777216"));
	snprintf(buf, sizeof(buf), "max_entries=%llu", ram / 264 + 1);
	EXPECT_EQ(EINVAL, write_str(buf));
	after = sl_read_file(CONTROL);
	ASSERT_NE(NULL, after);
	EXPECT_STREQ(self->before, after);
	free(after);

	/* A sixteenth of what RAM / 264 would allow, rounded to stripes. */
	fits = (ram / 264 / 16) & ~63ULL;
	snprintf(buf, sizeof(buf), "max_entries=%llu", fits);
	ASSERT_EQ(0, write_str(buf));
	ASSERT_EQ(0, write_str("track=on"));
	sum = sl_read_file(SL_DIR "/summary");
	ASSERT_NE(NULL, sum);
	snprintf(buf, sizeof(buf), " max_entries=%llu ", fits);
	EXPECT_NE(NULL, strstr(sum, buf)) {
		TH_LOG("summary lacks %s", buf);
	}
	free(sum);
	EXPECT_EQ(0, write_str("track=off"));
}

static int open_as_nobody(void)
{
	int status, fd;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(255);
		fd = open(CONTROL, O_RDONLY);
		_exit(fd < 0 ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(control, root_only)
{
	struct stat st;

	ASSERT_EQ(0, stat(CONTROL, &st));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	ASSERT_EQ(0, chmod("/sys/kernel/debug", 0755));
	EXPECT_EQ(EACCES, open_as_nobody());
	EXPECT_EQ(0, chmod("/sys/kernel/debug", 0700));
}

TEST_HARNESS_MAIN
