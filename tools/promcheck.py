#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Strict checker of Prometheus text exposition format 0.0.4 (stdin).

Fails (exit 1, a message with the line number) on: a sample without a
preceding TYPE of its family, HELP/TYPE twice for one family, a family's
samples not contiguous, a bad metric or label name, bad label escaping, a
duplicate series, a value that is not a float, a missing final newline.
With --get NAME{labels}, prints that sample's value.
"""
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
LVAL = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(%s)(\{(%s=%s(?:,%s=%s)*)?\})? (\S+)(?: (-?\d+))?$' %
                    (NAME, LABEL, LVAL, LABEL, LVAL))
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def fail(n, msg):
    sys.exit('promcheck: line %d: %s' % (n, msg))


def main():
    text = sys.stdin.read()
    if not text.endswith('\n'):
        fail(text.count('\n') + 1, 'no newline at end')
    helps, types, done, series = set(), {}, set(), {}
    cur = None
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('#'):
            m = re.match(r'^# (HELP|TYPE) (%s) (.*)$' % NAME, line)
            if not m:
                if line.startswith('# HELP') or line.startswith('# TYPE'):
                    fail(n, 'malformed ' + line[2:6])
                continue
            kind, name, rest = m.groups()
            if name in done:
                fail(n, '%s for %s after its samples ended' % (kind, name))
            if kind == 'HELP':
                if name in helps:
                    fail(n, 'second HELP for ' + name)
                helps.add(name)
            else:
                if name in types:
                    fail(n, 'second TYPE for ' + name)
                if rest not in TYPES:
                    fail(n, 'bad type ' + rest)
                types[name] = rest
            if cur and cur != name:
                done.add(cur)
            cur = name
            continue
        if not line.strip():
            fail(n, 'empty line')
        m = SAMPLE.match(line)
        if not m:
            fail(n, 'malformed sample: ' + line)
        name, _, labels, value = m.group(1), m.group(2), m.group(3), m.group(4)
        if name not in types:
            fail(n, 'sample of %s without TYPE' % name)
        if name in done or (cur and cur != name):
            fail(n, 'samples of %s not contiguous' % name)
        cur = name
        try:
            float(value)
        except ValueError:
            fail(n, 'bad value ' + value)
        if labels:
            names = re.findall(r'(%s)=%s' % (LABEL, LVAL), labels)
            if len(names) != len(set(names)):
                fail(n, 'label repeated')
        key = name + (m.group(2) or '')
        if key in series:
            fail(n, 'duplicate series ' + key)
        series[key] = value
    if len(sys.argv) == 3 and sys.argv[1] == '--get':
        if sys.argv[2] not in series:
            sys.exit('promcheck: no series ' + sys.argv[2])
        print(series[sys.argv[2]])


main()
