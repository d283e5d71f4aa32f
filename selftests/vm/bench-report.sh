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
{
	for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	val[f["sockets"] "/" f["what"]] = f["value"]
	if (f["sockets"] > 0 && !(f["sockets"] in seen)) { seen[f["sockets"]] = 1; order[n++] = f["sockets"] }
}
END {
	printf "kernel %s\n", krel
	if (v(0, "churn_absent") > 0) {
		tr = "-"
		if (v(0, "churn_tracking") != "")
			tr = sprintf("%d (%.3f)", v(0, "churn_tracking"), v(0, "churn_tracking") / v(0, "churn_absent"))
		printf "churn (connections in the run): absent %d, loaded %d (%.3f), tracking %s\n", v(0, "churn_absent"), v(0, "churn_loaded"), v(0, "churn_loaded") / v(0, "churn_absent"), tr
	}
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
}'
