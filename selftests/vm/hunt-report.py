#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# hunt-report.py RESULTS WORKDIR KREL SECONDS [SPLAT [BASELINE_RESULTS]]
#
# Turn what hunt-guest.sh printed (RESULTS: "HUNT-BASE {json}" and
# "HUNT {json}" lines) into WORKDIR/report.json and WORKDIR/report.md, and
# print the totals. Per run: the sockets sockleak saw the test create, the
# leaks it named, and the protocol slabs' objects the test left behind
# once its namespaces were gone: objects of a protocol beyond the sockets
# sockleak named for it (leaked, still held, or on a timer when the run
# ended) are "unaccounted": objects sockleak did not name, a possible
# blind spot. A test that leaked runs again watched: those runs are
# reported apart and not counted twice. A run whose exit status or count of failed
# cases differs from the baseline (the test without sockleak) is listed.
import json
import re
import sys


def norm(name):
    """A protocol's name as both slabs and sockleak spell it: tcp, mptcp..."""
    n = name.lower()
    for suffix in ("v6", "-stream"):
        if n.endswith(suffix):
            n = n[: -len(suffix)]
    return re.sub(r"[^a-z0-9]", "", n)


def main():
    results, work, krel, seconds = sys.argv[1:5]
    splat = sys.argv[5] if len(sys.argv) > 5 else ""
    files = [results] + [f for f in sys.argv[6:7] if f]
    base, runs, bad = {}, [], 0
    done = None
    lines = []
    for i, name in enumerate(files):
        for line in open(name, errors="replace"):
            # Only the baseline lines of another guest's results.
            if i == 0 or line.startswith("HUNT-BASE "):
                lines.append(line)
    for line in lines:
        line = line.rstrip("\n")
        try:
            if line.startswith("HUNT-BASE "):
                b = json.loads(line[len("HUNT-BASE "):], strict=False)
                base[b["test"]] = b
            elif line.startswith("HUNT "):
                runs.append(json.loads(line[len("HUNT "):], strict=False))
        except ValueError:
            bad += 1
        if line.startswith("SOCKLEAK-VM-DONE "):
            done = line

    # The hunt's negative (hunt-guest.sh): holdref's socket must be one
    # leak, its slab object named.
    selfcheck = "not run"
    for r in [r for r in runs if r["test"] == "selfcheck_holdref"]:
        run = r.get("run") or {}
        tcp_left = sum(max(0, a - b) for c, (b, a) in r.get("slab", {}).items()
                       if norm(c) == "tcp" and not c.startswith(("request_sock_", "tw_sock_")))
        ok = run.get("leaked") == 1 and tcp_left == 1
        selfcheck = (f"{'passed' if ok else 'FAILED'}: holdref's socket "
                     f"{'reported' if run.get('leaked') == 1 else 'NOT reported'} "
                     f"({run.get('leaked')} leaks), {tcp_left} TCP slab "
                     f"object(s) left")
    runs = [r for r in runs if r["test"] != "selfcheck_holdref"]
    watched = [r for r in runs if r.get("watch")]
    runs = [r for r in runs if not r.get("watch")]
    tests = {}
    totals = dict(runs=len(runs), sockets=0, leaks=0, pending=0,
                  unaccounted=0, kmemleak=0, changed=0,
                  watched_runs=len(watched), unsettled=0)
    leaks, unaccounted, changed, kmem, orphaned = [], [], [], [], []
    for r in runs:
        t = tests.setdefault(r["test"], dict(runs=0, sockets=0, leaks=0,
                                             unaccounted=0, exits=set(),
                                             seconds=0))
        run = r.get("run") or {}
        socks = run.get("sockets", [])
        n = sum(run.get(k, 0) for k in ("freed", "timer", "pending", "leaked"))
        t["runs"] += 1
        t["sockets"] += n
        t["seconds"] += r["seconds"]
        totals["sockets"] += n
        totals["pending"] += run.get("pending", 0)
        if r.get("settled") == "timeout":
            totals["unsettled"] += 1
        # A shell reports a death by signal N as 128 + N, as the baseline.
        exit_status = run.get("exit_status")
        if exit_status is None and run.get("killed_by_signal"):
            exit_status = 128 + run["killed_by_signal"]
        t["exits"].add(str(exit_status))
        named = {}
        for s in socks:
            if s.get("result") in ("leaked", "pending") or s.get("verdict") == "timer":
                named[norm(s["proto"])] = named.get(norm(s["proto"]), 0) + 1
            if s.get("result") == "leaked":
                t["leaks"] += 1
                totals["leaks"] += 1
                leaks.append(dict(test=r["test"], round=r["round"],
                                  watch=r.get("watch", ""), **s))
        # Objects left in the full sockets' caches, per protocol.
        left = {}
        for cache, (before, after) in r.get("slab", {}).items():
            if cache.startswith(("request_sock_", "tw_sock_")):
                continue
            left[norm(cache)] = left.get(norm(cache), 0) + max(0, after - before)
        for proto, n_left in left.items():
            extra = n_left - named.get(proto, 0)
            if extra > 0:
                t["unaccounted"] += extra
                totals["unaccounted"] += extra
                unaccounted.append(dict(test=r["test"], round=r["round"],
                                        proto=proto, objects=n_left,
                                        named=named.get(proto, 0),
                                        settled=r.get("settled"),
                                        slab=r["slab"]))
        held = [s for s in socks if s.get("result") == "pending"]
        if held and not run.get("processes_left"):
            kinds = {}
            for s in held:
                k = f"{s['proto']} {s['state']}"
                kinds[k] = kinds.get(k, 0) + 1
            orphaned.append(dict(test=r["test"], round=r["round"],
                                 sockets=len(held), kinds=kinds,
                                 slab=r.get("slab", {})))
        if r.get("kmemleak"):
            totals["kmemleak"] += 1
            kmem.append(dict(test=r["test"], round=r["round"],
                             text=r["kmemleak"]))
        b = base.get(r["test"])
        if b and (
                b["exit_status"] != exit_status or
                b["failed_cases"] != r["failed_cases"]):
            totals["changed"] += 1
            changed.append(dict(test=r["test"], round=r["round"],
                                base_exit=b["exit_status"],
                                base_failed=b["failed_cases"],
                                exit=exit_status, failed=r["failed_cases"]))

    report = dict(kernel=krel, seconds=int(seconds), finished=done,
                  watched=watched,
                  selfcheck=selfcheck,
                  splat=splat or None, unparsed_lines=bad, totals=totals,
                  tests={k: dict(v, exits=sorted(v["exits"]))
                         for k, v in tests.items()},
                  baseline=base, leaks=leaks, unaccounted=unaccounted,
                  changed=changed, kmemleak=kmem, orphaned=orphaned)
    with open(f"{work}/report.json", "w") as f:
        json.dump(report, f, indent=1)

    md = [f"# sockleak hunt on {krel}", ""]
    md.append(f"{seconds} s in the guest's QEMU; {len(tests)} tests, "
              f"{totals['runs']} runs under sockleak "
              f"({totals['watched_runs']} with --watch), "
              f"{totals['sockets']} sockets seen, {totals['leaks']} leaks "
              f"reported, {totals['pending']} sockets still held at the "
              f"time-out, {totals['unaccounted']} slab objects unaccounted, "
              f"{totals['kmemleak']} runs with kmemleak reports, "
              f"{totals['changed']} runs whose result differs from the "
              f"baseline, {totals['unsettled']} runs whose slabs were "
              f"still falling after 120 s; splat: {splat or 'none'}; end: "
              f"{done or 'none'}; the hunt's own negative {selfcheck}; "
              f"{bad} unparsed result lines.")
    md += ["", "| test | runs | s | sockets | leaks | unaccounted | exit (baseline) | exits under sockleak |",
           "|---|---|---|---|---|---|---|---|"]
    for name, t in sorted(tests.items()):
        b = base.get(name, {})
        md.append(f"| {name} | {t['runs']} | {t['seconds']} | {t['sockets']} | "
                  f"{t['leaks']} | {t['unaccounted']} | "
                  f"{b.get('exit_status', '-')} | {' '.join(sorted(t['exits']))} |")
    for r in watched:
        for s_ in (r.get("run") or {}).get("sockets", []):
            if s_.get("result") == "leaked":
                leaks.append(dict(test=r["test"], round=r["round"],
                                  watch=r.get("watch", ""), **s_))
    def leak_lines(lk):
        out = [f"- **{lk['test']}** round {lk['round']}"
               f"{' (watched: ' + lk['watch'] + ')' if lk['watch'] else ''}: "
               f"{lk['proto']} {lk['state']} cookie {lk['cookie']}, "
               f"refcnt {lk.get('refcnt')}, verdict {lk.get('verdict')}: "
               f"{lk.get('explain', '')}"]
        out += [f"  - {k}: {lk[k]}" for k in ("held_by", "missing") if lk.get(k)]
        out += [f"  - {k}: {' <- '.join(lk[k][:8])}"
                for k in ("alloc_stack", "close_stack") if lk.get(k)]
        return out

    no_unaccounted = ("None: every object the tests left in a protocol's "
                      "slab is a socket sockleak named" +
                      ("." if selfcheck.startswith("passed") else
                       " (but the hunt's own negative did not pass: the "
                       "slab counts may not have been read)."))
    sections = [
        ("Leaks", leaks, "None.", leak_lines),
        ("Sockets still held once no process of the test was left",
         orphaned, "None.",
         lambda o: [f"- **{o['test']}** round {o['round']}: {o['sockets']} "
                    f"sockets ({', '.join(f'{n} {k}' for k, n in sorted(o['kinds'].items()))}); "
                    f"slabs (before, after): {json.dumps(o['slab'])}"]),
        ("Unaccounted slab objects", unaccounted, no_unaccounted,
         lambda u: [f"- **{u['test']}** round {u['round']}: {u['proto']}: "
                    f"{u['objects']} objects left, {u['named']} named by "
                    f"sockleak; slabs {u['settled']} (before, after: "
                    f"{json.dumps(u['slab'])})"]),
        ("Results that differ from the baseline", changed, "None.",
         lambda c: [f"- {c['test']} round {c['round']}: exit {c['exit']} "
                    f"(baseline {c['base_exit']}), failed cases "
                    f"{c['failed']} (baseline {c['base_failed']})"]),
        ("kmemleak", kmem, "No report (or no kmemleak in this kernel).",
         lambda k: [f"- {k['test']} round {k['round']}:", "```",
                    k["text"][:4000], "```"]),
    ]
    for title, items, none, lines in sections:
        md += ["", f"## {title}", ""]
        if not items:
            md.append(none)
        for item in items:
            md += lines(item)
    with open(f"{work}/report.md", "w") as f:
        f.write("\n".join(md) + "\n")
    print(md[2])


main()
