// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak selftests library: files, commands, key=value words, time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_util.h"

/*
 * Heavy tests scale their load down on a slow kernel (the debug kernel of
 * "make check-debug" sets SL_SLOW=1): a fifth of the iterations. Their
 * per-test timeouts are generous for the same reason.
 */
int sl_scale(int n)
{
	return getenv("SL_SLOW") ? n / 5 : n;
}

/* Read a whole file with reads of chunk bytes; malloc'ed, NUL-terminated. */
char *sl_read_file_chunked(const char *path, size_t chunk, size_t *lenp)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n = 0;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		if (cap - len < chunk + 1) {
			char *nb;

			cap = (cap + chunk) * 2;
			nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		n = read(fd, buf + len, chunk);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

char *sl_read_file(const char *path)
{
	return sl_read_file_chunked(path, 1 << 16, NULL);
}

/* Run a shell command, return its stdout (malloc'ed) or NULL. */
char *sl_run(const char *cmd)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	FILE *p = popen(cmd, "r");
	size_t n;

	if (!buf || !p) {
		free(buf);
		if (p)
			pclose(p);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	if (pclose(p) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Write a string to a file; returns 0 or -errno. */
int sl_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

int sl_control(const char *cmd)
{
	return sl_write(SL_DIR "/control", cmd);
}

/*
 * Value of key in a line of space-separated key=value words, copied into
 * out. Returns true when the key is present.
 */
bool sl_kv(const char *line, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = line;

	while (*p && *p != '\n') {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = 0;

			p += klen + 1;
			while (p[n] && p[n] != ' ' && p[n] != '\n')
				n++;
			if (n >= size)
				n = size - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	return false;
}

long long sl_kv_ll(const char *line, const char *key)
{
	char v[64];

	if (!sl_kv(line, key, v, sizeof(v)))
		return -1;
	return strtoll(v, NULL, 0);
}

/* Does a comma-separated flags= value contain flag? */
bool sl_has_flag(const char *line, const char *flag)
{
	char v[256], *tok, *save;

	if (!sl_kv(line, "flags", v, sizeof(v)))
		return false;
	for (tok = strtok_r(v, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, flag))
			return true;
	return false;
}

/* Network namespace inode number of the calling thread. */
unsigned long sl_netns_inum(void)
{
	char link[64] = "";
	unsigned long inum = 0;

	if (readlink("/proc/thread-self/ns/net", link, sizeof(link) - 1) > 0)
		sscanf(link, "net:[%lu]", &inum);
	return inum;
}

void sl_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}
