// SPDX-License-Identifier: GPL-2.0
/*
 * Workload helpers for the shell selftests.
 *
 *   sltool churn SECONDS   connect/accept/close loop over loopback until
 *                          SECONDS pass: graceful closes (TIME-WAIT), RST
 *                          closes (SO_LINGER 0), data left unread; prints
 *                          the number of connections made
 *   sltool nobody-open FILE...
 *                          try to open each FILE as uid/gid 65534; prints
 *                          "FILE errno" per file (0 when it opened)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int churn(int seconds)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	time_t end = time(NULL) + seconds;
	struct linger lg = { 1, 0 };
	long n = 0;
	int l;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sin, len) || listen(l, 128) ||
	    getsockname(l, (struct sockaddr *)&sin, &len)) {
		perror("churn: listener");
		return 1;
	}
	while (time(NULL) < end) {
		int c = socket(AF_INET, SOCK_STREAM, 0), a;

		if (c < 0 || connect(c, (struct sockaddr *)&sin, len)) {
			perror("churn: connect");
			return 1;
		}
		a = accept(l, NULL, NULL);
		if (a < 0) {
			perror("churn: accept");
			return 1;
		}
		send(c, "data", 4, MSG_NOSIGNAL);
		switch (n % 3) {
		case 0:		/* graceful, client first: TIME-WAIT */
			close(c);
			close(a);
			break;
		case 1:		/* reset with unread data */
			setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(a);
			close(c);
			break;
		default:	/* server first */
			close(a);
			close(c);
			break;
		}
		n++;
	}
	close(l);
	printf("%ld\n", n);
	return 0;
}

static int nobody_open(int argc, char **argv)
{
	int i;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
		perror("nobody-open: dropping privileges");
		return 1;
	}
	for (i = 0; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);

		printf("%s %d\n", argv[i], fd < 0 ? errno : 0);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "churn"))
		return churn(atoi(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "nobody-open"))
		return nobody_open(argc - 2, argv + 2);
	fprintf(stderr, "usage: sltool churn SECONDS | nobody-open FILE...\n");
	return 2;
}
