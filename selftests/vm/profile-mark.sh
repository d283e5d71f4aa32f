#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make profile's first boot (nokaslr): the address of the mark, the
# setdomainname() system call (sltool mark) (profile.sh, tcgprof.c).
awk '$3 == "__x64_sys_setdomainname" { print "PROFILE-MARK", $1 }' /proc/kallsyms
