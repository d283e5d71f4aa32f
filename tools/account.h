/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak helper - where every page of each protocol's memory goes
 * (account.c).
 */
#ifndef SOCKLEAK_ACCOUNT_H
#define SOCKLEAK_ACCOUNT_H

#include <stdio.h>

#include "json.h"
#include "output.h"
#include "parse.h"

#define ACCOUNT_PARTS	8

/* One part of a protocol's pages: sockets of one kind and their pages. */
struct account_part {
	const char *key;	/* unhashed, hashed, orphans, ...: for machines */
	const char *what;	/* for humans */
	long long sockets, pages;
	char detail[192];	/* " (held by pid ...)", or "" */
};

struct account {
	char proto[16];
	long long usage, unexplained, moved;
	long long listeners, never, never_pages;
	long long udplite, udplite_pages;	/* among the parts' sockets */
	int pressure;
	struct account_part parts[ACCOUNT_PARTS];
	int nparts;
};

/* "pid/comm" of a socket's first owner, "-" when none is known. */
typedef const char *(*account_owner_fn)(const struct rec *r, char *buf,
					size_t len);

/* One account per kind=proto line of @sum; returns how many. */
int account_build(const struct report *sum, const struct report *socks,
		  account_owner_fn owner, struct account *out, int max);
/* The headline: "tcp: 1000 pages (3.9 MiB): 500 unhashed sockets ..." */
void account_print(FILE *f, const struct account *a);
/* One account as a JSON object. */
void account_json(struct json *j, const struct account *a);
void account_prom(FILE *f, const struct account *a, int n);

#endif
