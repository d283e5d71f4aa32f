/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak helper - suspects of one cause grouped into one line
 * (groups.c): same kind, reason, owner, protocol, state, verdict and
 * error.
 */
#ifndef SOCKLEAK_GROUPS_H
#define SOCKLEAK_GROUPS_H

#include <stdbool.h>
#include <stddef.h>

#include "parse.h"

struct sgroup {
	int first;		/* index of the first member in the report */
	int n;			/* members */
	long long bytes;	/* their bytes, summed */
	long long min_bytes, max_bytes, max_age;
	long long fd_min, fd_max;	/* -1: no fd */
	bool never;		/* verdict=never: listed first */
};

/*
 * Group the records of a suspects report; *out is malloc'ed, ordered
 * never first, then by bytes. Returns the number of groups, -1 when out
 * of memory.
 */
int suspect_groups(const struct report *r, struct sgroup **out);
/* Whether two suspects belong to one group. */
bool suspect_same(const struct rec *a, const struct rec *b);
/* A sentence for a group of more than one, e.g. "390 tcp sockets ..." */
void group_explain(char *buf, size_t len, const struct report *r,
		   const struct sgroup *g);

#endif
