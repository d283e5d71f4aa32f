#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-report.sh RESULTS KREL: turn the guest's BENCH lines into a table
# with the ratios the targets are stated in (README, "Performance").
set -euo pipefail
res=$1
krel=$2
grep '^BENCH sockets=' "$res" | awk -v krel="$krel" '
function v(s, w) { return val[s "/" w] }
# The median of the values printed for one key (churn rounds).
function median(k,    m, i, j, t, a) {
	m = cnt[k]
	for (i = 1; i <= m; i++) a[i] = all[k, i]
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
{
	for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	k = f["sockets"] "/" f["what"]
	all[k, ++cnt[k]] = f["value"]
	if (f["what"] ~ /^scale_/) {
		if (!(f["sockets"] in sseen)) { sseen[f["sockets"]] = 1; sorder[sn++] = f["sockets"] }
	} else if (f["what"] ~ /^chain_/) {
		if (!(f["sockets"] in cseen)) { cseen[f["sockets"]] = 1; corder[cn++] = f["sockets"] }
	} else if (f["sockets"] > 0 && !(f["sockets"] in seen)) { seen[f["sockets"]] = 1; order[n++] = f["sockets"] }
}
END {
	for (k in cnt) val[k] = median(k)
	printf "kernel %s\n", krel
	if (v(0, "churn_absent") > 0) {
		printf "churn (connections per run, median of %d rounds): absent %d, loaded %d (%.3f)", \
			cnt["0/churn_absent"], v(0, "churn_absent"), v(0, "churn_loaded"), v(0, "churn_loaded") / v(0, "churn_absent")
		printf "\n"
		split("churn_tracking churn_tracking_all churn_tracking_filtered churn_tracking_nostacks churn_first_tracking", modes, " ")
		split("tracking, stacks=1 (default, stack_depth=8)|tracking, stacks=2 (all full)|tracking, stacks for another netns only|tracking, stacks=0|the first run after track=on (stacks=1)", names, "|")
		for (i = 1; i <= 5; i++)
			if (v(0, modes[i]) != "")
				printf "  %-42s %6d  %.3f of loaded, %.3f of absent\n", names[i], \
					v(0, modes[i]), v(0, modes[i]) / v(0, "churn_loaded"), v(0, modes[i]) / v(0, "churn_absent")
	}
	if (v(0, "unix_churn_absent") > 0) {
		printf "unix socketpair churn (pairs per run, median of %d rounds): absent %d, loaded %d (%.3f)\n", \
			cnt["0/unix_churn_absent"], v(0, "unix_churn_absent"), v(0, "unix_churn_loaded"), \
			v(0, "unix_churn_loaded") / v(0, "unix_churn_absent")
		for (i = 1; i <= 5; i++)
			if (v(0, "unix_" modes[i]) != "")
				printf "  %-42s %6d  %.3f of loaded, %.3f of absent\n", names[i], \
					v(0, "unix_" modes[i]), v(0, "unix_" modes[i]) / v(0, "unix_churn_loaded"), \
					v(0, "unix_" modes[i]) / v(0, "unix_churn_absent")
	}
	if (v(0, "pingpong_watched_changes") > 0)
		printf "refcount watchpoint (%d ping-pongs, median of %d rounds): unwatched %.1fms, watched %.1fms, %d count changes: %.1f us per change\n", \
			v(0, "pingpong_n"), cnt["0/pingpong_plain"], \
			v(0, "pingpong_plain") / 1000, v(0, "pingpong_watched") / 1000, v(0, "pingpong_watched_changes"), \
			(v(0, "pingpong_watched") - v(0, "pingpong_plain")) / v(0, "pingpong_watched_changes")
	printf "%8s %12s %12s %12s %12s %12s %10s %10s %10s\n", "sockets", "cat_sockets", "proc_tcp", "ss_tanmie",
		"cat_summary", "cat_cgroups", "sk/proc", "sk/ss", "sum/proc"
	for (i = 0; i < n; i++) {
		s = order[i]
		cg = "-"
		if (v(s, "cat_cgroups") != "")
			cg = sprintf("%.1fms", v(s, "cat_cgroups") / 1000)
		printf "%8d %10.1fms %10.1fms %10.1fms %10.1fms %12s %10.2f %10.3f %10.2f\n", s, v(s, "cat_sockets") / 1000, v(s, "cat_proc_net_tcp") / 1000, v(s, "ss_tanmie") / 1000, v(s, "cat_summary") / 1000, cg, v(s, "cat_sockets") / v(s, "cat_proc_net_tcp"), v(s, "cat_sockets") / v(s, "ss_tanmie"), v(s, "cat_summary") / v(s, "cat_proc_net_tcp")
		if (v(s, "scan") != "")
			printf "%8s owner scan %.1fms\n", "", v(s, "scan") / 1000
	}
	if (sn) {
		printf "scale: tracked TCP sockets (loopback pairs); times are medians; per entry of max_entries: B/entry the table without its stack store, all: with it (table_bytes), vmalloc: VmallocUsed growth at track=on\n"
		printf "%8s %8s %10s %10s %10s %10s %10s %10s %8s %8s %8s %8s %6s\n", "sockets", "tracked", "proc_tcp", "sockets", "summary", "cgroups", "tracked", "scan", "sk/proc", "B/entry", "all", "vmalloc", "setup"
	}
	for (i = 0; i < sn; i++) {
		s = sorder[i]
		printf "%8d %8d %8.1fms %8.1fms %8.1fms %8.1fms %8.1fms %8.1fms %8.2f %8.1f %8.1f %8.1f %5ds\n", s, v(s, "scale_entries"), \
			v(s, "scale_proc_tcp") / 1000, v(s, "scale_sockets") / 1000, v(s, "scale_summary") / 1000, \
			v(s, "scale_cgroups") / 1000, v(s, "scale_tracked") / 1000, v(s, "scale_scan") / 1000, \
			v(s, "scale_sockets") / v(s, "scale_proc_tcp"), \
			(v(s, "scale_table_bytes") - v(s, "scale_stack_bytes")) / v(s, "scale_max_entries"), \
			v(s, "scale_table_bytes") / v(s, "scale_max_entries"), \
			v(s, "scale_vmalloc_kb") * 1024 / v(s, "scale_max_entries"), v(s, "scale_setup_s")
	}
	if (cn) {
		printf "one UDP hash chain (connected sockets of one port):\n"
		printf "%8s %12s %12s %12s %10s %10s\n", "sockets", "cat_summary", "cat_sockets", "ss_uan", "sum/ss", "sk/ss"
	}
	for (i = 0; i < cn; i++) {
		s = corder[i]
		printf "%8d %10.1fms %10.1fms %10.1fms %10.2f %10.2f\n", s, v(s, "chain_cat_summary") / 1000, v(s, "chain_cat_sockets") / 1000, v(s, "chain_ss_uan") / 1000, v(s, "chain_cat_summary") / v(s, "chain_ss_uan"), v(s, "chain_cat_sockets") / v(s, "chain_ss_uan")
	}
}'
