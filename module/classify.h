/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - what a socket snapshot means (classify.c): its flags, its
 * verdict, and the names the reports print them with. From the values
 * alone: no socket access, no lock.
 */
#ifndef _SOCKLEAK_CLASSIFY_H
#define _SOCKLEAK_CLASSIFY_H

#include <linux/types.h>

struct sockleak_snap;

void sockleak_classify(struct sockleak_snap *s);
const char *sockleak_flag_name(int flag);
int sockleak_first_flag(const struct sockleak_snap *s);
const char *sockleak_verdict_name(unsigned int verdict);
const char *sockleak_timer_name(unsigned int timer);
const char *sockleak_state_name(unsigned int state);
int sockleak_verdict_explain(char *buf, size_t len,
			     const struct sockleak_snap *s);

#endif /* _SOCKLEAK_CLASSIFY_H */
