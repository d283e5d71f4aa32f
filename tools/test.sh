#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the helper: test.sh BINARY VERSION (KTAP output).
#
# The fixtures in testdata/ are real module output captured in the 6.12
# guest (selftests/leaky running): clean/ before the workload, leaky1/ and
# leaky2/ two seconds apart with it, leaky2/ss.txt is `ss -tanpmie` taken
# right after leaky2. testdata/reports/ (cgroups, tracked, suspects) is
# written by hand from the documented formats (testdata/README). Expected
# values are computed here from the fixture text with awk/python,
# independently of the helper's parser; /proc and cgroupfs are fake trees
# built here (SOCKLEAK_PROCFS, SOCKLEAK_CGROUPFS).
bin=$(realpath "$1")
ver=$2
here=$(cd "$(dirname "$0")" && pwd)
td=$here/testdata
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $*"; }
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi
}
# check_err DESC WANT_SUBSTRING CMD...: exit 2 and stderr naming the problem.
check_err() {
	desc=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc = 2 ] && grep -qF -- "$want" "$tmp/err"; then
		ok "$desc"
	else
		not_ok "$desc: rc=$rc, stderr: $(cat "$tmp/err")"
	fi
}
S() { d=$1; shift; "$bin" --debugfs "$td/$d" "$@"; }
L2() { "$bin" --debugfs "$td/leaky2" "$@"; }
# Table rows (without header) of a sockets table: the cookies, in order.
cookies() { tail -n +2 | awk '{print $1}' | tr '\n' ' '; }
# Columns N... of a table's rows, "|" after each row: columns are two or
# more spaces apart, a cell may have one ("4 KiB").
cols() {
	sed 's/^ *//; s/   */\t/g' | awk -F '\t' -v want="$*" '
		BEGIN { n = split(want, c, " ") }
		{ for (i = 1; i <= n; i++) printf "%s%s", $c[i], (i < n ? " " : "|") }'
}
json_ok() { python3 -m json.tool >/dev/null 2>&1; }
jsonl_ok() {
	python3 -c 'import json,sys
n=0
for l in sys.stdin:
    json.loads(l); n+=1
print(n)'
}
mem_of() { awk -v c="$2" '{for(i=1;i<=NF;i++){split($i,a,"=");v[a[1]]=a[2]} if (v["cookie"] ""==c "") print v["rmem"]+v["queued"]+v["fwd"]; delete v}' "$1"; }

echo "TAP version 13"
check "--version prints the dkms.conf version" "$("$bin" --version)" "sockleak $ver"
"$bin" --bogus >/dev/null 2>&1
check "unknown option exits 2" "$?" 2
"$bin" --help >/dev/null 2>&1
check "--help exits 0" "$?" 0

# 1. Every format of every fixture parses; row counts equal line counts.
for d in clean leaky1 leaky2; do
	lines=$(grep -c . "$td/$d/sockets")
	rows=$("$bin" --debugfs "$td/$d" sockets | tail -n +2 | grep -c .)
	check "$d: sockets table has one row per line" "$rows" "$lines"
	"$bin" --debugfs "$td/$d" summary >/dev/null &&
		"$bin" --debugfs "$td/$d" version >/dev/null &&
		"$bin" --debugfs "$td/$d" control >/dev/null
	check "$d: summary, version and control parse" "$?" 0
done
check "version: module and running release" \
	"$(L2 version | sed -n '2p;4p' | tr -s ' ' | tr '\n' '|')" \
	"module $(sed -n '1s/sockleak //p' "$td/leaky2/version")|running $(sed -n '3s/running //p' "$td/leaky2/version")|"
check "control: values of the file" \
	"$(L2 control | awk 'NR>1{printf "%s=%s\n",$1,$2}')" "$(cat "$td/leaky2/control")"
check "sockets table matches ss: same cookies" \
	"$(L2 sockets | cookies | tr ' ' '\n' | sort -n | tr '\n' ' ')" \
	"$(grep -o ' sk:[0-9a-f]*' "$td/leaky2/ss.txt" | cut -d: -f2 | sort -n | tr '\n' ' ')"

# 2. Malformed input: exit 2, file and line named.
mkdir -p "$tmp/bad"
cp "$td/leaky2/"* "$tmp/bad/"
head -c -40 "$td/leaky2/sockets" >"$tmp/bad/sockets"
check_err "truncated last line: file and line" "sockets:9: truncated line" \
	"$bin" --debugfs "$tmp/bad" sockets
sed '4s/ family=.*//' "$td/leaky2/sockets" >"$tmp/bad/sockets"
check_err "line cut short: missing key and line" "sockets:4: missing key family=" \
	"$bin" --debugfs "$tmp/bad" sockets
sed '2s/rmem=0/rmem=zz/' "$td/leaky2/sockets" >"$tmp/bad/sockets"
check_err "non-numeric value: key and line" "sockets:2: rmem=zz is not a number" \
	"$bin" --debugfs "$tmp/bad" sockets
cp "$td/leaky2/sockets" "$tmp/bad/sockets"
sed '3s/ ESTAB=/ garbage ESTAB=/' "$td/leaky2/summary" >"$tmp/bad/summary"
check_err "word without =: word and line" 'summary:3: malformed word "garbage"' \
	"$bin" --debugfs "$tmp/bad" summary
printf 'sockleak\n' >"$tmp/bad/version"
check_err "version line without value" 'version:1: "sockleak" has no value' \
	"$bin" --debugfs "$tmp/bad" version
check_err "missing directory" "no such file" "$bin" --debugfs "$tmp/nonexistent" summary

# 3. Optional reports missing: which feature, exit 2.
for f in suspects tracked cgroups; do
	check_err "$f absent: names the missing feature" "has no $f report" L2 $f
done
check_err "set on a saved copy is refused" "need the live module" L2 set unread_ms=1

# 4. Sorting and filters, against awk over the fixture.
# expect_sort KEY: cookies of leaky2 by KEY descending, ties by cookie.
expect_sort() {
	python3 - "$1" "$td/leaky2/sockets" <<'PY'
import sys
rows = []
for line in open(sys.argv[2]):
    v = dict(w.split('=', 1) for w in line.split())
    mem = int(v['rmem']) + int(v['queued']) + int(v['fwd']) if 'rmem' in v else 0
    key = mem if sys.argv[1] == 'mem' else int(v['refcnt'])
    rows.append((-key, int(v['cookie'], 16), v['cookie']))
print(' '.join(r[2] for r in sorted(rows)) + ' ')
PY
}
check "--sort mem: descending mem, ties by cookie" "$(L2 sockets --sort mem | cookies)" "$(expect_sort mem)"
check "--sort refcnt" "$(L2 sockets --sort refcnt | cookies)" "$(expect_sort refcnt)"
check "-n 2 keeps the first two" "$(L2 sockets -n 2 | cookies)" "$(L2 sockets | cookies | cut -d' ' -f1-2) "
check "--state CLOSE-WAIT" "$(L2 sockets --state close-wait | cookies)" \
	"$(grep 'state=CLOSE-WAIT ' "$td/leaky2/sockets" | sed 's/cookie=\([0-9a-f]*\) .*/\1 /' | tr -d '\n')"
check "--flag unread: exactly the unread sockets" \
	"$(L2 sockets --flag unread | cookies | tr ' ' '\n' | sort | tr '\n' ' ')" \
	"$(grep -E 'flags=([a-z_,]*,)?unread(,|$)' "$td/leaky2/sockets" | sed 's/cookie=\([0-9a-f]*\) .*/\1/' | sort | tr '\n' ' ')"
check "--min-mem 5000" \
	"$(L2 sockets --min-mem 5000 | cookies | tr ' ' '\n' | sort | tr '\n' ' ')" \
	"$(awk '{for(i=1;i<=NF;i++){split($i,a,"=");v[a[1]]=a[2]} if (v["rmem"]+v["queued"]+v["fwd"] >= 5000) print v["cookie"]; delete v}' "$td/leaky2/sockets" | sort | tr '\n' ' ')"
check "--proto udp: no row" "$(L2 sockets --proto udp | cookies)" ""
check "--cgroup /: every full socket" "$(L2 sockets --cgroup / | tail -n +2 | grep -c .)" \
	"$(grep -c 'cgroup=/ ' "$td/leaky2/sockets")"
check_err "--sort with a bad key" "--sort wants" L2 sockets --sort size
check_err "an option the command does not take: command and option named" \
	"sockleak tracked: --state is not an option of this command" L2 tracked --state ESTAB
check_err "an option the overview does not take" \
	"sockleak: --sort is not an option of the overview" L2 --sort mem
check "--help: every command, every option" \
	"$("$bin" --help | grep -cE '^  ((\(none\)|sockets|summary|suspects|tracked|cgroups|check|growth|version|control|set|track|scan|clear|snapshot)|(--json|--prom|--state|--proto|--netns|--cgroup|--min-mem|--flag|--sort|-n|-i|-c|-v|--all|--debugfs|--version|-h, --help)) ')" 32

# 5. check: exit codes on clean vs leaky captures.
S clean check >/dev/null
check "check on the clean capture exits 0" "$?" 0
L2 check >"$tmp/out"
check "check on the leaky capture exits 1" "$?" 1
check "check lists every flagged socket" "$(tail -n +3 "$tmp/out" | grep -c .)" \
	"$(grep -vc 'flags=-$' "$td/leaky2/sockets" | awk '{print $1 - 1}')"

# 6. JSON.
for c in "" summary version control check; do
	# shellcheck disable=SC2086
	L2 --json $c >"$tmp/j"
	json_ok <"$tmp/j"
	check "--json ${c:-overview}: one valid document" "$?" 0
done
check "--json sockets: one valid object per line" "$(L2 --json sockets | jsonl_ok)" \
	"$(grep -c . "$td/leaky2/sockets")"
check "--json sockets: rmem sum equals the file's" \
	"$(L2 --json sockets | python3 -c 'import json,sys; print(sum(json.loads(l).get("rmem") or 0 for l in sys.stdin))')" \
	"$(grep -o ' rmem=[0-9]*' "$td/leaky2/sockets" | cut -d= -f2 | paste -sd+ | bc)"
mkdir -p "$tmp/esc"
cp "$td/leaky2/"* "$tmp/esc/"
printf 'cookie=ff netns=1 proto=tcp family=inet state=ESTAB kind=full src=a dst=b refcnt=1 cgroup=/we"ird\\pa\001x flags=-\n' >>"$tmp/esc/sockets"
check "--json escapes quotes, backslashes, control characters" \
	"$("$bin" --debugfs "$tmp/esc" --json sockets --state ESTAB | python3 -c 'import json,sys
for l in sys.stdin:
    o=json.loads(l)
    if o["cookie"]=="ff": print(o["cgroup"] == "/we\"ird\\pa\x01x")')" \
	True

# 7. Prometheus, strict parser (and promtool when installed).
L2 --prom >"$tmp/prom"
"$here/promcheck.py" <"$tmp/prom"
check "--prom: strict exposition format" "$?" 0
if command -v promtool >/dev/null; then
	promtool check metrics <"$tmp/prom" >/dev/null 2>&1
	check "--prom: promtool check metrics" "$?" 0
else
	ok "--prom: promtool check metrics # SKIP promtool not installed"
fi
get() { "$here/promcheck.py" --get "$1" <"$tmp/prom"; }
check "--prom: tcp ESTAB count" "$(get 'sockleak_sockets{proto="tcp",state="ESTAB"}')" \
	"$(grep -c 'proto=tcp .*state=ESTAB ' "$td/leaky2/sockets")"
check "--prom: FIN-WAIT-1 queued bytes" \
	"$(get 'sockleak_socket_bytes{proto="tcp",state="FIN-WAIT-1",type="queued"}')" \
	"$(grep 'state=FIN-WAIT-1 ' "$td/leaky2/sockets" | grep -o ' queued=[0-9]*' | cut -d= -f2 | paste -sd+ | bc)"
check "--prom: tcp memory_allocated" "$(get 'sockleak_proto_memory_allocated{proto="tcp"}')" \
	"$(grep 'kind=proto proto=tcp' "$td/leaky2/summary" | grep -o 'memory_allocated=[0-9]*' | cut -d= -f2)"
check "--prom: suspects = flagged sockets" "$(get 'sockleak_suspects')" \
	"$(grep -c 'flags=[a-z]' "$td/leaky2/sockets")"
# Every flag of the module (flag_names[] of module/classify.c), in its order.
check "--prom: flagged_sockets for every flag of the module" \
	"$(sed -n 's/^sockleak_flagged_sockets{flag="\([a-z_0-9]*\)"} .*/\1/p' "$tmp/prom" | tr '\n' ' ')" \
	"$(sed -n '/flag_names\[SOCKLEAK_F_NR\]/,/^};/s/.*= "\([a-z_0-9]*\)",/\1/p' "$here/../module/classify.c" | tr '\n' ' ')"
check "--prom: flagged_sockets unread = sockets with unread" "$(get 'sockleak_flagged_sockets{flag="unread"}')" \
	"$(grep -cE 'flags=([a-z_,]*,)?unread(,| |$)' "$td/leaky2/sockets")"
# A flag the helper does not know (a newer module): exported too.
mkdir -p "$tmp/newflag"
cp "$td/leaky2/"* "$tmp/newflag/"
sed '1s/flags=[^ ]*/flags=unread,some_new_flag/' "$td/leaky2/sockets" >"$tmp/newflag/sockets"
check "--prom: a flag the helper does not know is exported" \
	"$("$bin" --debugfs "$tmp/newflag" --prom | "$here/promcheck.py" --get 'sockleak_flagged_sockets{flag="some_new_flag"}')" 1

# 8. growth: rates from two captures 2 s apart.
w=$("$bin" --debugfs "$td/leaky1" --debugfs "$td/leaky2" --json growth -i 2)
out=$("$bin" --debugfs "$td/leaky1" watch 2>&1); rc=$?
check "watch (old name): exit 2, pointing to growth" \
	"$rc $(echo "$out" | grep -c 'now `sockleak growth`')" "2 1"
check "growth --json: valid JSON Lines" "$(echo "$w" | jsonl_ok)" 1
m1=$(mem_of "$td/leaky1/sockets" 5)
m2=$(mem_of "$td/leaky2/sockets" 5)
check "growth: rate of the never-reading receiver" \
	"$(echo "$w" | python3 -c 'import json,sys; o=json.loads(sys.stdin.read()); print([s["bytes_per_s"] for s in o["sockets"] if s["cookie"]=="5"][0])')" \
	"$(echo "($m2 - $m1) / 2" | bc -l | awk '{printf "%.1f", $1}')"
# Creep: three samples, the same socket grew twice.
mkdir -p "$tmp/s3"
cp "$td/leaky2/"* "$tmp/s3/"
sed '5s/rmem=54840/rmem=64840/' "$td/leaky2/sockets" >"$tmp/s3/sockets"
"$bin" --debugfs "$td/leaky1" --debugfs "$td/leaky2" --debugfs "$tmp/s3" growth -i 2 >"$tmp/w3"
check "growth: monotonic growth is marked as creep" \
	"$(grep CREEP "$tmp/w3" | awk '{print $1}')" 5

# 9. snapshot of a saved copy round-trips.
"$bin" --debugfs "$td/leaky2" snapshot "$tmp/snap" >/dev/null
check "snapshot: the copy reads the same" "$("$bin" --debugfs "$tmp/snap" sockets)" "$(L2 sockets)"

# 10. A generic report the helper does not know (key=value lines).
printf 'rank=1 cookie=8 score=90 reason=orphan_mem\nrank=2 cookie=9 score=40 reason=close_wait\n' >"$tmp/esc/suspects"
"$bin" --debugfs "$tmp/esc" check >"$tmp/out"
check "check uses the suspects report when present" "$?:$(tail -n +3 "$tmp/out" | awk '{print $2}' | tr '\n' ' ')" "1:8 9 "

# 11. cgroups, tracked, suspects (testdata/reports on top of leaky2).
R=$tmp/rep
mkdir -p "$R"
cp "$td/leaky2/"* "$td/reports/"* "$R/"
RP() { "$bin" --debugfs "$R" "$@"; }
field() { awk -v k="$2" '{for(i=1;i<=NF;i++){split($i,a,"=");v[a[1]]=a[2]} print v[k]; delete v}' "$1"; }
# A fake cgroupfs: memory.stat with a sock line per online cgroup; the
# dying memcg's path exists again (a new cgroup of the same name).
cg=$tmp/cgfs
mkdir -p "$cg/sl_a/web app" "$cg/sl_dying"
printf 'anon 4096\nfile 0\nsock %s\nshmem 0\n' 61440 >"$cg/memory.stat"
printf 'anon 4096\nsock %s\n' 45056 >"$cg/sl_a/memory.stat"
printf 'sock %s\nvmalloc 0\n' 20480 >"$cg/sl_a/web app/memory.stat"
printf 'sock %s\n' 999999 >"$cg/sl_dying/memory.stat"
check "cgroups (saved copy, no cgroupfs): columns" "$(RP cgroups | head -1 | tr -s ' ')" \
	"ID PATH STATE SOCKETS CHARGED SUBTREE_CHARGED MEMSTAT_SOCK RESIDUE FLAGS"
check "cgroups (saved copy, no cgroupfs): no memory.stat read" \
	"$(RP cgroups | tail -n +2 | cols 7 8 | tr '|' '\n' | sort -u | grep .)" "- -"
SOCKLEAK_CGROUPFS=$cg RP --json cgroups >"$tmp/cgj"
check "cgroups --json: one valid object per line" "$(jsonl_ok <"$tmp/cgj")" "$(grep -c . "$td/reports/cgroups")"
# Expected residue: memory.stat sock (as written above) - subtree_charged
# (awk over the fixture), online cgroups only.
want=$(field "$td/reports/cgroups" subtree_charged | paste - - - - | awk '{printf "1:%d 26:%d 31:%d 40:None", 61440-$1, 45056-$2, 20480-$3}')
check "cgroups --json: memstat_residue = memory.stat sock - subtree_charged" \
	"$(python3 -c 'import json,sys
print(" ".join("%s:%s" % (o["id"], o["memstat_residue"]) for o in map(json.loads, sys.stdin)))' <"$tmp/cgj")" "$want"
check "cgroups --json: every module key kept, plus memstat_sock" \
	"$(python3 -c 'import json,sys
o=[json.loads(l) for l in sys.stdin]
print(list(o[2].keys()), o[2]["path"], o[2]["memstat_sock"], o[3]["memstat_sock"])' <"$tmp/cgj")" \
	"$(head -3 "$td/reports/cgroups" | tail -1 | python3 -c 'import sys
print([w.split("=")[0] for w in sys.stdin.read().split()] + ["memstat_sock", "memstat_residue"], "/sl_a/web\\040app", 20480, None)')"
check "cgroups table: human sizes, residue per row, dying memcg -" \
	"$(SOCKLEAK_CGROUPFS=$cg RP cgroups | tail -n +2 | cols 1 5 6 7 8 9)" \
	"1 0 B 56 KiB 60 KiB 4 KiB -|26 28 KiB 44 KiB 44 KiB 0 B -|31 16 KiB 16 KiB 20 KiB 4 KiB -|40 12 KiB 12 KiB - - dying_sockets|"
# cgroup v1 (6.1): tcpmem and residue come from the module.
sed 's/tcpmem=- residue=-/tcpmem=65536 residue=8192/' "$td/reports/cgroups" >"$R/cgroups"
check "cgroups on v1: TCPMEM and the module's RESIDUE" \
	"$(SOCKLEAK_CGROUPFS=$cg RP cgroups | sed -n '1p;3p' | cols 7 8)" \
	"TCPMEM RESIDUE|64 KiB 8 KiB|"
# Sizes as the module writes them (suspects_size() of module/suspects.c):
# the CHARGED cells against that rule, computed here.
sizes="0 512 1023 1024 4608 4700 8192 1048575 1048576 2625536 1073741824"
i=0
for b in $sizes; do
	i=$((i + 1))
	echo "id=$i path=/s$i state=dying sockets=1 charged=$b subtree_charged=0 tcpmem=- residue=- flags=-"
done >"$R/cgroups"
check "sizes in the module's style: 512 B, 8 KiB, 4.5 KiB, 2.5 MiB" \
	"$(RP cgroups | tail -n +2 | cols 5)" \
	"$(
	# shellcheck disable=SC2086
	python3 - $sizes <<'PY'
import sys
K, M, G = 1 << 10, 1 << 20, 1 << 30
def size(b):
    if b >= G:
        return "%d.%d GiB" % (b // G, b % G * 10 // G)
    if b >= M:
        return "%d.%d MiB" % (b // M, b % M * 10 // M)
    if b >= K and b % K:
        return "%d.%d KiB" % (b // K, b % K * 10 // K)
    if b >= K:
        return "%d KiB" % (b // K)
    return "%d B" % b
print("".join(size(int(b)) + "|" for b in sys.argv[1:]))
PY
)"
cp "$td/reports/cgroups" "$R/cgroups"

# tracked: columns, MEM = rmem+wmem+queued+fwd, CLOSED, BY, MISSING.
check "tracked: columns" "$(RP tracked | head -1 | tr -s ' ')" \
	"COOKIE PROTO STATE REFCNT MEM CLOSED BY MISSING"
check "tracked: one row per line" "$(RP tracked | tail -n +2 | grep -c .)" "$(grep -c . "$td/reports/tracked")"
check "tracked --json: mem = rmem+wmem+queued+fwd of the file" \
	"$(RP --json tracked | python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["mem"]) for l in sys.stdin))')" \
	"$(awk '{for(i=1;i<=NF;i++){split($i,a,"=");v[a[1]]=a[2]} printf "%s%d", (NR>1 ? " " : ""), v["rmem"]+v["wmem"]+v["queued"]+v["fwd"]; delete v}' "$td/reports/tracked")"
RP --json tracked | jsonl_ok >/dev/null
check "tracked --json: valid JSON Lines" "$?" 0
check "tracked: rows (cookie mem closed by missing)" \
	"$(RP tracked | tail -n +2 | cols 1 5 6 7 8)" \
	"2 0 B 655ms 97/tracker_test -|1f 8 KiB 30m05s 311/worker destroy,kill_queues|20 4.2 KiB - - close,orphan|"
check "tracked -v: every stack frame on its own line" \
	"$(RP tracked -v | grep -c '^      [^ ]')" \
	"$(awk '{for(i=1;i<=NF;i++){split($i,a,"="); if ((a[1]=="alloc_stack"||a[1]=="close_stack") && a[2]!="-") n+=split(a[2],f,",")}} END{print n}' "$td/reports/tracked")"
check "tracked -v: first close frame of 1f" \
	"$(RP tracked -v | sed -n '/^1f /,/^20 /p' | sed -n '/close_stack:/{n;p}' | tr -d ' ')" \
	"$(field "$td/reports/tracked" close_stack | sed -n 2p | cut -d, -f1)"

# suspects and sockets: WAIT from a fake /proc (stat state, wchan).
P=$tmp/proc
mkdir -p "$P/155/fd" "$P/311" "$P/157/fd"
printf '155 (leaky) S 1 155 155 0 -1 4194560 170 0 0 0 0 0 0 0 20 0 1 0 300 2400000 200\n' >"$P/155/stat"
printf 'ep_poll' >"$P/155/wchan"
printf 'leaky\n' >"$P/155/comm"
ln -s 'socket:[1231]' "$P/155/fd/5"
# a comm with ") S " in it: the state is the letter after the last ')'
printf '311 (a) S b) R 1 311 311 0 -1 4194560 170\n' >"$P/311/stat"
printf '0' >"$P/311/wchan"
printf '157 (sender) D 1 157 157 0\n' >"$P/157/stat"
: >"$P/157/wchan"
printf 'sender\n' >"$P/157/comm"
ln -s 'socket:[1228]' "$P/157/fd/3"
ln -s 'pipe:[99]' "$P/157/fd/4"
check "suspects: WAIT before EXPLAIN" "$(RP suspects | head -1 | tr -s ' ')" \
	"KIND ID BYTES AGE_MS PID COMM REASON WAIT EXPLAIN"
check "suspects: WAIT from /proc/PID/stat and wchan (gone pid, no pid: -)" \
	"$(SOCKLEAK_PROCFS=$P RP suspects | tail -n +2 | awk '{print $2 ":" $8}' | tr '\n' ' ')" \
	"8:- 1f:- 7:R 9:S:ep_poll "
check "suspects without SOCKLEAK_PROCFS on a saved copy: WAIT -" \
	"$(RP suspects | tail -n +2 | awk '{print $8}' | sort -u)" "-"
SOCKLEAK_PROCFS=$P RP --json suspects >"$tmp/sj"
check "suspects --json: valid JSON Lines, wait field" \
	"$(python3 -c 'import json,sys; print(" ".join("%s=%s" % (o["id"], o["wait"]) for o in map(json.loads, sys.stdin)))' <"$tmp/sj")" \
	"8=None 1f=None 7=R 9=S:ep_poll"
SOCKLEAK_PROCFS=$P RP --json >"$tmp/oj"
json_ok <"$tmp/oj"
check "--json overview with the suspects report: valid" "$?" 0
check "--json overview: suspects carry wait" \
	"$(python3 -c 'import json,sys; print([s["wait"] for s in json.load(sys.stdin)["suspects"]])' <"$tmp/oj")" \
	"[None, None, 'R', 'S:ep_poll']"
check "overview table: the CLOSE_WAIT suspect's line says where its owner waits" \
	"$(SOCKLEAK_PROCFS=$P RP | grep ' close_wait ' | awk '{print $5, $8}')" "155 S:ep_poll"
check "sockets: OWNER from the fake /proc fds, WAIT next to it" \
	"$(SOCKLEAK_PROCFS=$P L2 sockets | awk 'NR==1{print $11, $12} $1==9||$1==5{print $1, $11, $12}' | tr '\n' '|')" \
	"OWNER WAIT|5 157/sender D|9 155/leaky S:ep_poll|"
check "sockets --json: owner and wait" \
	"$(SOCKLEAK_PROCFS=$P L2 --json sockets | python3 -c 'import json,sys
for o in map(json.loads, sys.stdin):
    if o["cookie"] in ("9", "1"): print(o["cookie"], o["owner"], o["wait"])' | tr '\n' '|')" \
	"9 155/leaky S:ep_poll|1 None None|"

# Suspects of one cause grouped into one row; never-freed groups first;
# --all one row each. The lines follow module/suspects.c's format.
G=$tmp/groups
mkdir -p "$G"
cp "$td/leaky2/"* "$G/"
{
	for fd in 18 19 20; do
		printf 'kind=socket id=%x bytes=8192 age_ms=%d pid=139 comm=repro fd=%d proto=tcp state=UNCONN err=104 verdict=owner reason=unhashed_mem explain=reset by peer, unhashed (ss cannot see it), 4 KiB unread, pid 139 (repro, state S) still holds fd %d\n' \
			$((fd + 100)) $((fd * 10)) $fd $fd
	done
	printf 'kind=socket id=9 bytes=4096 age_ms=5100 pid=155 comm=leaky fd=5 proto=tcp state=CLOSE-WAIT err=0 verdict=owner reason=close_wait explain=CLOSE_WAIT for 5.1s\n'
	printf 'kind=socket id=8 bytes=0 age_ms=- pid=- comm=- fd=- proto=tcp state=FIN-WAIT-1 err=0 verdict=never reason=no_timer explain=orphan in FIN-WAIT-1 with no retransmit, probe or keepalive timer armed: TCP will never time it out\n'
	for id in 30 31 32; do
		printf 'kind=tracked id=%s bytes=0 age_ms=900 pid=68 comm=tun fd=- proto=udp state=UNCONN err=0 verdict=never reason=not_freed explain=closed 0.9s ago by pid 68 (tun) but not freed\n' $id
	done
} >"$G/suspects"
check "suspects: one row per group, never first, then by bytes" \
	"$("$bin" --debugfs "$G" suspects | tail -n +2 | awk '{print $1 "/" $2}' | tr '\n' ' ')" \
	"socket/8 tracked/3 socket/3 socket/9 "
check "suspects: the group's row sums and names the owner and fds" \
	"$("$bin" --debugfs "$G" suspects | grep '3 tcp sockets' | tr -s ' ' | cut -d' ' -f4-6,9-)" \
	"24576 200 139 unhashed_mem - 3 tcp sockets in UNCONN reset by peer, unhashed (ss cannot see them), 8 KiB held each (24 KiB), all held by pid 139 (repro), fds 18-20"
check "suspects: a group of closed sockets names who closed them, not a holder" \
	"$("$bin" --debugfs "$G" suspects | grep -c -e 'all closed by pid 68 (tun)')" 1
check "suspects --all: one row each" \
	"$("$bin" --debugfs "$G" suspects --all | tail -n +2 | wc -l)" 8
check "overview: groups counted, the group row shown" \
	"$("$bin" --debugfs "$G" | grep -c -e '8 suspects in 4 groups' -e '3 tcp sockets' -e '3 udp sockets')" 3
"$bin" --debugfs "$G" --json >"$tmp/gj"
check "--json overview: suspects one by one and their groups" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["suspects"]), [(g["count"], g["fd_min"], g["fd_max"], len(g["ids"])) for g in d["suspect_groups"]])' <"$tmp/gj")" \
	"8 [(1, -1, -1, 1), (3, -1, -1, 3), (3, 18, 20, 3), (1, 5, 5, 1)]"

# Prometheus with every report present.
SOCKLEAK_CGROUPFS=$cg RP --prom >"$tmp/prom2"
"$here/promcheck.py" <"$tmp/prom2"
check "--prom with cgroups, tracked, suspects: strict exposition format" "$?" 0
check "--prom: tracked sockets = lines of tracked" \
	"$("$here/promcheck.py" --get sockleak_tracked_sockets <"$tmp/prom2")" "$(grep -c . "$td/reports/tracked")"
# refs: the watched sockets (testdata/reports/refs, the documented format).
W=$tmp/refsdir
mkdir -p "$W"
cp "$td/leaky2/"* "$W/"
cp "$td/reports/refs" "$W/refs"
check "refs: one paragraph per watched socket" \
	"$("$bin" --debugfs "$W" refs | grep -c '^socket ')" "$(grep -c '^cookie=' "$td/reports/refs")"
check "refs: the held reference and who took it" \
	"$("$bin" --debugfs "$W" refs 1a | grep '^  1 held')" \
	"  1 held, taken in holdref_take+0x1a/0x60[sockleak_holdref] (task, pid 208 leaky)"
check "refs: the module's sentence last" \
	"$("$bin" --debugfs "$W" refs 0x1b | tail -n 1)" \
	"  $(sed -n 's/^explain=\(freed.*\)/\1/p' "$td/reports/refs")"
check "refs -v: every change and every frame of every site" \
	"$("$bin" --debugfs "$W" refs -v 1a | grep -c -e '^    change=' -e '^      [a-z_]')" \
	"$(awk '/^cookie=1a /{f=1; next} /^cookie=/{f=0} f && /^ change=/{n++} f && /^ site=/{split($0,a,"stack="); n+=split(a[2],b,",")} f && /^ held=[0-9]+ site=/{split($0,a,"stack="); n+=split(a[2],b,",")} END{print n}' "$td/reports/refs")"
"$bin" --debugfs "$W" --json refs >"$tmp/refs.json"
check "refs --json: one object per socket, the held list" \
	"$(python3 -c 'import json,sys; v=[json.loads(l) for l in sys.stdin]; print(len(v), v[0]["cookie"], v[0]["held"][0]["count"], v[0]["held"][0]["taken"], v[1]["held"])' <"$tmp/refs.json")" \
	"2 1a 1 holdref_take+0x1a/0x60[sockleak_holdref] []"
check_err "refs of a socket not watched: says how to arm it" \
	"sockleak set watch=99" "$bin" --debugfs "$W" refs 99
check_err "run on a saved copy: needs the live module" \
	"run needs the live module" "$bin" --debugfs "$W" run -- true
check_err "watch-next on a saved copy: needs the live module" \
	"watch-next arms the live module" "$bin" --debugfs "$W" watch-next --port 80
check_err "watch-next --port 0: the range" \
	"--port wants 1-65535" "$bin" --debugfs "$W" watch-next --port 0
check_err "--watch is an option of run only" \
	"--watch is not an option of this command" "$bin" --debugfs "$W" refs --watch port:1

# The headline's unexplained pages: below 0 (a socket counts bytes not
# charged yet) never printed negative; moved_pages as +-N.
U=$tmp/unexpl
rm -rf "$U"
cp -r "$td/clean" "$U"
sed -i 's/^\(netns=all kind=proto proto=udp .*\)unexplained_pages=0/\1unexplained_pages=-3 moved_pages=0/' "$U/summary"
out=$("$bin" --debugfs "$U" 2>/dev/null | grep '^ *udp:')
case $out in
*"0 pages unexplained (the sockets hold 3 pages not charged yet)"*) ok "negative unexplained pages said as pages not charged yet" ;;
*) not_ok "negative unexplained pages: $out" ;;
esac
sed -i 's/unexplained_pages=-3 moved_pages=0/unexplained_pages=5 moved_pages=2/' "$U/summary"
out=$("$bin" --debugfs "$U" 2>/dev/null | grep '^ *udp:')
case $out in
*"5 pages unexplained (+-2: the memory moved while it was read)"*) ok "moved_pages said as +-N" ;;
*) not_ok "moved_pages: $out" ;;
esac

# An MPTCP listener of the in-kernel path manager (captured on 7.3): its
# msk is bound to nothing, its first subflow (same inode) to the address.
out=$(S mptcp-pm sockets | awk '$1 == "b" { print $2, $3, $4 }')
check "MPTCP listener's LOCAL is its subflow's, as ss -M prints it" \
	"$out" "mptcp LISTEN 10.200.0.1:10100"

echo "1..$n"
echo "# totals: pass:$((n - fail)) fail:$fail"
[ $fail = 0 ]
