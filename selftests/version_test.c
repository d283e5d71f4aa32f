// SPDX-License-Identifier: GPL-2.0
/*
 * The "version" debugfs file: its content agrees with the kernel (uname)
 * and the module's own modinfo, and neither it nor the directory can be
 * opened by an unprivileged user.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"

#define SL_DIR "/sys/kernel/debug/sockleak"

/* Read a whole (small) file into buf; returns length or -errno. */
static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return n < 0 ? -errno : (int)len;
}

/* First line of a command's output, without the newline. */
static int command_line(const char *cmd, char *buf, size_t size)
{
	FILE *p = popen(cmd, "r");
	int ok;

	if (!p)
		return -1;
	ok = fgets(buf, size, p) != NULL;
	pclose(p);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

FIXTURE(version) {
	char text[512];
};

FIXTURE_SETUP(version)
{
	ASSERT_EQ(0, system("modprobe sockleak"));
	ASSERT_LT(0, read_file(SL_DIR "/version", self->text,
			       sizeof(self->text)));
}

FIXTURE_TEARDOWN(version)
{
}

TEST_F(version, running_kernel_is_uname)
{
	struct utsname u;
	char want[256];

	ASSERT_EQ(0, uname(&u));
	snprintf(want, sizeof(want), "\nrunning %s\n", u.release);
	EXPECT_NE(NULL, strstr(self->text, want)) {
		TH_LOG("version file:\n%s", self->text);
	}
}

TEST_F(version, module_version_is_modinfo)
{
	char ver[128], want[160];

	ASSERT_EQ(0, command_line("modinfo -F version sockleak", ver,
				  sizeof(ver)));
	ASSERT_LT(0U, strlen(ver));
	snprintf(want, sizeof(want), "sockleak %s\n", ver);
	EXPECT_EQ(0, strncmp(self->text, want, strlen(want))) {
		TH_LOG("modinfo says %s, version file:\n%s", ver, self->text);
	}
}

TEST_F(version, built_for_is_vermagic)
{
	char vermagic[256], want[300];

	/* vermagic starts with the release the module was built against. */
	ASSERT_EQ(0, command_line("modinfo -F vermagic sockleak", vermagic,
				  sizeof(vermagic)));
	vermagic[strcspn(vermagic, " ")] = '\0';
	snprintf(want, sizeof(want), "\nbuilt_for %s\n", vermagic);
	EXPECT_NE(NULL, strstr(self->text, want)) {
		TH_LOG("vermagic %s, version file:\n%s", vermagic, self->text);
	}
}

TEST_F(version, modes_are_root_only)
{
	struct stat st;

	ASSERT_EQ(0, stat(SL_DIR, &st));
	EXPECT_EQ(0700U, st.st_mode & 07777);
	ASSERT_EQ(0, stat(SL_DIR "/version", &st));
	EXPECT_EQ(0400U, st.st_mode & 07777);
}

/* Run fn as nobody in a child; returns the errno fn saw (0 = success). */
static int as_nobody(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(255);
		_exit(fn());
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int open_version(void)
{
	int fd = open(SL_DIR "/version", O_RDONLY);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

static int open_dir(void)
{
	int fd = open(SL_DIR, O_RDONLY | O_DIRECTORY);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

TEST_F(version, unprivileged_gets_eacces)
{
	struct stat st;

	/*
	 * debugfs' own root is usually 0700 already: open it up for the
	 * duration of the test so that sockleak's modes are what is tested.
	 */
	ASSERT_EQ(0, stat("/sys/kernel/debug", &st));
	ASSERT_EQ(0, chmod("/sys/kernel/debug", 0755));
	EXPECT_EQ(EACCES, as_nobody(open_version));
	EXPECT_EQ(EACCES, as_nobody(open_dir));
	EXPECT_EQ(0, chmod("/sys/kernel/debug", st.st_mode & 07777));
}

TEST_HARNESS_MAIN
