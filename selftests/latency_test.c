// SPDX-License-Identifier: GPL-2.0
/*
 * How long sockleak keeps interrupts or preemption off, measured by the
 * kernel's preemptirqsoff latency tracer (CONFIG_IRQSOFF_TRACER and
 * CONFIG_PREEMPT_TRACER: the debug kernel of "make check-debug"; skipped
 * on kernels without it).
 *
 * Before each operation the tracer's maximum is reset; after it, when the
 * longest section of the system was one of sockleak's (its stack or its
 * start or end is in the module), that section must be shorter than
 * LIMIT_US. Two loads that made sections of milliseconds:
 *
 * - registry: a large registry (max_entries 2^19, 8192 entries a stripe)
 *   read by "tracked", "clear" and "dump=", which scan it under the stripe
 *   locks with interrupts off;
 * - chain: thousands of UDP sockets in one slot of the UDP hash (bound to
 *   one port, each connected to its own peer) read by "summary",
 *   "suspects" and "sockets", whose walk holds the slot lock (bottom
 *   halves and preemption off) while it finds its place in the chain.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "../kselftest_harness.h"
#include "sl_util.h"

#define TRACING "/sys/kernel/tracing"
#define LIMIT_US 1000
#define CHAIN 20000
#define REG_ENTRIES "524288"
#define ROUNDS 3

static bool tracer_available(void)
{
	char *t;
	bool ok;

	if (access(TRACING "/available_tracers", R_OK))
		mount("nodev", TRACING, "tracefs", 0, NULL);
	t = sl_read_file(TRACING "/available_tracers");
	ok = t && strstr(t, "preemptirqsoff");
	free(t);
	return ok;
}

static int tr_write(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), TRACING "/%s", file);
	return sl_write(path, val);
}

struct section {
	long us;		/* tracing_max_latency */
	bool ours;		/* the section was in sockleak's code */
	char where[160];	/* its "started at" line */
};

/* Run @op (a shell command) under the tracer; the longest section. */
static int measure(const char *op, struct section *sec)
{
	char *lat, *trace, *p;
	int rc;

	if (tr_write("tracing_on", "0") || tr_write("tracing_max_latency", "0") ||
	    tr_write("tracing_on", "1"))
		return -1;
	rc = system(op);
	tr_write("tracing_on", "0");
	if (rc)
		return -1;
	lat = sl_read_file(TRACING "/tracing_max_latency");
	trace = sl_read_file(TRACING "/trace");
	if (!lat || !trace) {
		free(lat);
		free(trace);
		return -1;
	}
	sec->us = atol(lat);
	sec->ours = strstr(trace, "[sockleak]") ||
		    strstr(trace, "sockleak_") || strstr(trace, "walk_bucket");
	sec->where[0] = '\0';
	p = strstr(trace, "started at:");
	if (p)
		sscanf(p, "started at: %159[^\n]", sec->where);
	free(lat);
	free(trace);
	return 0;
}

static void check_ops(struct __test_metadata *_metadata,
		      const char * const *ops, int nops)
{
	long longest_ours = -1;
	int i, r;

	ASSERT_EQ(0, tr_write("current_tracer", "nop"));
	ASSERT_EQ(0, tr_write("options/function-trace", "0"));
	ASSERT_EQ(0, tr_write("options/sym-offset", "1"));
	ASSERT_EQ(0, tr_write("current_tracer", "preemptirqsoff"));
	for (i = 0; i < nops; i++) {
		for (r = 0; r < ROUNDS; r++) {
			struct section sec;

			ASSERT_EQ(0, measure(ops[i], &sec)) {
				TH_LOG("%s failed", ops[i]);
			}
			ASSERT_LT(0, sec.us);
			TH_LOG("%s: longest section %ld us%s (%s)", ops[i],
			       sec.us, sec.ours ? ", sockleak's" : "",
			       sec.where);
			if (!sec.ours)
				continue;
			if (sec.us > longest_ours)
				longest_ours = sec.us;
			EXPECT_GT(LIMIT_US, sec.us) {
				TH_LOG("%s kept interrupts or preemption off for %ld us at %s",
				       ops[i], sec.us, sec.where);
			}
		}
	}
	tr_write("current_tracer", "nop");
	TH_LOG("longest sockleak section: %ld us (-1: never the longest)",
	       longest_ours);
}

FIXTURE(lat) {
	int fds[CHAIN + 1];
	int n;
};

FIXTURE_SETUP(lat)
{
	if (!tracer_available())
		SKIP(return, "no preemptirqsoff tracer in this kernel");
	ASSERT_EQ(0, system("modprobe sockleak"));
}

FIXTURE_TEARDOWN(lat)
{
	for (int i = 0; i < self->n; i++)
		close(self->fds[i]);
	sl_control("track=off");
	sl_control("max_entries=65536");
}

TEST_F_TIMEOUT(lat, registry_scans, SL_HEAVY_TIMEOUT)
{
	static const char * const ops[] = {
		"cat " SL_DIR "/tracked >/dev/null",
		"echo clear > " SL_DIR "/control",
		"echo dump=1 > " SL_DIR "/control 2>/dev/null; true",
	};
	int i;

	ASSERT_EQ(0, sl_control("max_entries=" REG_ENTRIES));
	ASSERT_EQ(0, sl_control("track=on"));
	/* Some live entries, spread over the stripes. */
	for (i = 0; i < 512; i++) {
		self->fds[self->n] = socket(AF_INET, SOCK_DGRAM, 0);
		ASSERT_LE(0, self->fds[self->n]);
		self->n++;
	}
	check_ops(_metadata, ops, sizeof(ops) / sizeof(ops[0]));
}

TEST_F_TIMEOUT(lat, long_chain_walk, SL_HEAVY_TIMEOUT)
{
	static const char * const ops[] = {
		"cat " SL_DIR "/summary >/dev/null",
		"cat " SL_DIR "/suspects >/dev/null",
		"cat " SL_DIR "/sockets >/dev/null",
	};
	struct rlimit rl = { CHAIN + 256, CHAIN + 256 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int one = 1, i;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (i = 0; i <= CHAIN; i++) {
		struct sockaddr_in peer = sin;
		int u = socket(AF_INET, SOCK_DGRAM, 0);

		ASSERT_LE(0, u);
		self->fds[self->n++] = u;
		ASSERT_EQ(0, setsockopt(u, SOL_SOCKET, SO_REUSEADDR, &one,
					sizeof(one)));
		ASSERT_EQ(0, bind(u, (struct sockaddr *)&sin, sizeof(sin)));
		if (!i) {
			ASSERT_EQ(0, getsockname(u, (struct sockaddr *)&sin,
						 &len));
			continue;
		}
		peer.sin_port = htons(1024 + i);
		ASSERT_EQ(0, connect(u, (struct sockaddr *)&peer,
				     sizeof(peer)));
	}
	check_ops(_metadata, ops, sizeof(ops) / sizeof(ops[0]));
}

TEST_HARNESS_MAIN
