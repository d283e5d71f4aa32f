// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - userspace helper for the sockleak kernel module.
 *
 * For now it only knows its version; the reports come with later work.
 */
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sockleak [--version] [--help]\n"
		"Reads /sys/kernel/debug/sockleak (module sockleak).\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("sockleak %s\n", SOCKLEAK_VERSION);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
			  strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
