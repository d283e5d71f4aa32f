// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the module's leak flags (see flags.h). A module with
 * a flag missing here still has it shown everywhere the helper copies
 * flags= (tables, JSON, --flag) and exported by --prom, which adds every
 * flag name it reads in the sockets report.
 */
#include <stddef.h>
#include <string.h>

#include "flags.h"

const struct leak_flag leak_flags[] = {
	{ "close_wait", "never close()d" },
	{ "unread", "never read" },
	{ "orphan_mem", "closed by their owner, still holding memory" },
	{ "fin_wait2", "waiting for a FIN the peer never sent" },
	{ "rcvbuf_locked", "full to a hand-set SO_RCVBUF" },
	{ "zero_window", "with a zero window" },
	{ "bpf_held", "held by a sockmap/psock" },
	{ "no_fd", "held by no fd (io_uring, a leaked fget; SCM_RIGHTS in flight when not tracking)" },
	{ "unhashed_mem", "unhashed (ss cannot see them)" },
	{ "unhashed", NULL },
	{ "in_flight", "held only by SCM_RIGHTS messages in flight" },
};

const int nr_leak_flags = sizeof(leak_flags) / sizeof(leak_flags[0]);

const struct leak_flag *leak_flag_find(const char *name)
{
	for (int i = 0; i < nr_leak_flags; i++)
		if (!strcmp(leak_flags[i].name, name))
			return &leak_flags[i];
	return NULL;
}
