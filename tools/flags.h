/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak helper - the module's leak flags, the one list the helper
 * keeps of them (flags.c): the names of the sockets report's flags=
 * (module/classify.c, flag_names[]), which are also the reason codes of
 * the suspects report's kind=socket lines.
 */
#ifndef SOCKLEAK_FLAGS_H
#define SOCKLEAK_FLAGS_H

#include <stdbool.h>

struct leak_flag {
	const char *name;	/* as flags= prints it */
	/*
	 * What the sockets of a suspect group with this reason have in
	 * common ("never read"); NULL: not a suspect reason.
	 */
	const char *cause;
};

/* In the module's bit order (enum sockleak_flag, module/sockleak.h). */
extern const struct leak_flag leak_flags[];
extern const int nr_leak_flags;

/* The flag named @name, NULL when the helper does not know it. */
const struct leak_flag *leak_flag_find(const char *name);

#endif
