#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""profile-report.py RESULTS PREFIX [TOP]

make profile's report: the tcgprof plugin's counts (PREFIX.N: "vaddr
instructions" per translation block) of each phase profile.sh printed
(PROFILE file=N phase=NAME count=C), mapped to functions (the guest's
/proc/kallsyms, printed as PROFILE-SYM lines), per unit of work (a
connection, a socket pair), and each tracking phase against its "loaded"
phase of the same churn: where the extra instructions go, by function
and by group (sockleak's own code, the probe machinery, the rest of the
kernel). Read phases (read_NAME, count = the sockets read): each read's
instructions per socket, by function, and `sockets` against
/proc/net/tcp{,6}.
"""
import bisect
import re
import sys
from collections import defaultdict

# The probe machinery a hook's hit runs through (kprobes on ftrace,
# kretprobes' rethook, tracepoint calls), grouped as one line.
MACHINERY = re.compile(
    r'^(ftrace_|kprobe_|__kprobe|arch_rethook|rethook_|__rethook|'
    r'objpool_|pre_handler_kretprobe|kretprobe_|__kretprobe|'
    r'arch_ftrace|opt_pre_handler|optimized_callback|get_kprobe|'
    r'aggr_|__traceiter_|__SCT__|perf_trace|trace_event_|'
    r'fprobe|return_to_handler|__static_call)')


def load_syms(results):
    syms = []
    for line in open(results, errors='replace'):
        m = re.match(r'PROFILE-SYM ([0-9a-f]+) (\S+)(?: (\[\S+\]))?', line)
        if m:
            name = m.group(2) + (' ' + m.group(3) if m.group(3) else '')
            syms.append((int(m.group(1), 16), name))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def load_phase(prefix, n, addrs, names):
    per = defaultdict(int)
    with open('%s.%d' % (prefix, n)) as f:
        for line in f:
            a, c = line.split()
            a = int(a, 16)
            i = bisect.bisect_right(addrs, a) - 1
            name = names[i] if a >= (1 << 63) and i >= 0 else '(user)'
            per[name] += int(c)
    return per


def group(name):
    if name.endswith('[sockleak]'):
        return 'sockleak'
    if MACHINERY.match(name):
        return 'probe machinery'
    return 'rest of the kernel'


def main():
    results, prefix = sys.argv[1:3]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    addrs, names = load_syms(results)
    phases = {}
    for line in open(results, errors='replace'):
        m = re.match(r'PROFILE file=(\d+) phase=(\S+) count=(\d+)', line)
        if m:
            phases[m.group(2)] = (int(m.group(1)), int(m.group(3)))
    for name, (n, count) in sorted(phases.items()):
        if not name.endswith('_loaded'):
            continue
        base = name[:-len('_loaded')]
        unit = 'connection' if base == 'tcp' else 'pair'
        b = load_phase(prefix, n, addrs, names)
        btot = sum(b.values()) / count
        print('## %s churn: instructions per %s' % (base, unit))
        print()
        print('loaded, tracking off: %d %ss, %.0f instructions per %s'
              % (count, unit, btot, unit))
        print()
        for tname, (tn, tcount) in sorted(phases.items()):
            if not tname.startswith(base + '_') or tname == name:
                continue
            t = load_phase(prefix, tn, addrs, names)
            ttot = sum(t.values()) / tcount
            print('### %s: %d %ss, %.0f per %s (+%.0f, %.3f of the loaded '
                  'rate)' % (tname[len(base) + 1:], tcount, unit, ttot,
                             unit, ttot - btot, btot / ttot))
            print()
            diff = {}
            for k in set(b) | set(t):
                diff[k] = t.get(k, 0) / tcount - b.get(k, 0) / count
            groups = defaultdict(float)
            for k, v in diff.items():
                groups[group(k)] += v
            print('| group | extra instructions per %s |' % unit)
            print('|---|---:|')
            for g in ('sockleak', 'probe machinery', 'rest of the kernel'):
                print('| %s | %+.0f |' % (g, groups[g]))
            print()
            print('| function | loaded | tracking | extra |')
            print('|---|---:|---:|---:|')
            for k, v in sorted(diff.items(), key=lambda kv: -abs(kv[1]))[:top]:
                print('| %s | %.0f | %.0f | %+.0f |'
                      % (k, b.get(k, 0) / count, t.get(k, 0) / tcount, v))
            print()
    reads = {k[len('read_'):]: v for k, v in phases.items()
             if k.startswith('read_')}
    if reads:
        read_report(reads, prefix, addrs, names, top)


def read_report(reads, prefix, addrs, names, top):
    per = {}
    for name, (n, count) in reads.items():
        p = load_phase(prefix, n, addrs, names)
        per[name] = {k: v / count for k, v in p.items()}
    count = next(iter(reads.values()))[1]
    print('## Reads: instructions per socket (%d TCP sockets)' % count)
    print()
    print('| read | per socket | in user space |')
    print('|---|---:|---:|')
    for name in sorted(per):
        print('| %s | %.0f | %.0f |' % (name, sum(per[name].values()),
                                       per[name].get('(user)', 0)))
    if 'sockets' in per and 'proc_tcp' in per:
        print()
        print('`sockets` / `/proc/net/tcp{,6}`: %.3f'
              % (sum(per['sockets'].values()) /
                 sum(per['proc_tcp'].values())))
    for name in sorted(per):
        print()
        print('### %s: the functions' % name)
        print()
        print('| function | per socket |')
        print('|---|---:|')
        for k, v in sorted(per[name].items(), key=lambda kv: -kv[1])[:top]:
            print('| %s | %.0f |' % (k, v))
    print()


if __name__ == '__main__':
    main()
