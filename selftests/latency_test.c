// SPDX-License-Identifier: GPL-2.0
/*
 * How long sockleak keeps interrupts or preemption off, measured with the
 * kernel's preemptirq trace events (irq_disable/irq_enable,
 * preempt_disable/preempt_enable: CONFIG_PREEMPTIRQ_TRACEPOINTS). The
 * preemption events need CONFIG_PREEMPT_TRACER, the interrupt events only
 * CONFIG_TRACE_IRQFLAGS, which lockdep selects: both debug kernels of
 * "make check-debug" have the latter, only "debug" (not "debug-rt") the
 * former. A test skips on a kernel without its events.
 *
 * The events fire when a CPU turns interrupts (preemption) off and back
 * on, with the caller. The test reads the files itself, with the events
 * filtered to its own pid: then a section begun by spin_lock_bh (bottom
 * halves and preemption off: the walk's bucket locks) in that process,
 * during a read of a sockleak file, is sockleak's. It lasts until the next
 * "on" event of that CPU; the time of the interrupts taken inside it
 * (which depends on the machine, not on sockleak) is not counted. At most
 * 1% of these sections may last LIMIT_US or more: the guest adds noise
 * to a few (QEMU runs the two vCPUs in turns, on a host that may be
 * busy), a walk that counts its place from a chain's head lengthens most.
 *
 * long_chain_walk: CHAIN UDP sockets in one slot of the UDP hash (bound
 * to one port, each connected to its own peer), read by "summary",
 * "suspects" and "sockets". Before the walk resumed after an anchor
 * socket, it counted its place from the chain's head under the slot lock
 * for every batch: on the debug kernel under TCG, 926 to 2693 of those
 * reads' sections (37 to 54%) lasted 2 ms or more, the longest 28.6 ms.
 * After: 2 of 22250 (0.01%; the longest 8.4 ms, the guest's noise on a
 * busy host), the others under 0.7 ms.
 *
 * table_scan: the track table's readers scan its table under
 * the stripe locks with interrupts off (raw_spin_lock_irqsave):
 * sockleak_track_grab() for "tracked", "dump=", "suspects" and the
 * unhashed sockets of "sockets", sockleak_track_clear() for "clear". They
 * visit every slot of a stripe, used or free, so the table's size makes
 * their work: max_entries / 64 slots a stripe, whatever the sockets.
 * Since commit 91d7a7a a lock section scans at most 256 slots
 * (SL_SCAN_BATCH); before, a whole stripe. The load: the largest track table
 * the guest gives (the 3072 MiB guest of check-debug: max_entries
 * 1093632, 17088 slots a stripe, on "debug"; 1294336, 20224, on
 * "debug-rt") holding TABLE_SOCKS open UDP sockets, read by "tracked",
 * "clear" and "dump=" of a cookie no socket has, each a scan of the whole
 * table. Kprobes on sockleak_track_grab() and sockleak_track_clear() mark the
 * scans: sockleak's sections are the interrupts-off ones begun by
 * spin_lock_irqsave inside them. At most TABLE_MAX_PCT% of them may last
 * TABLE_LIMIT_US or more. Per operation under TCG, on a host whose two
 * cores other builds and guests shared (load 2 to 3):
 *
 *   debug, a stripe a section (SL_SCAN_BATCH unbounded): 67 to 106
 *   sections, 64 to 66 (61 to 96%) of 100 us or more: every stripe's
 *   (median 174 to 357 us); the longest 0.68 to 8.6 ms;
 *   debug, 256 slots a section: 4298 to 4343 sections, 9 to 78 (0.2 to
 *   1.8%) of 100 us or more (median 8 to 11 us); the longest 0.48 to
 *   0.93 ms;
 *   debug-rt, a stripe a section: 66 sections, 64 or 65 (97%) of 100 us
 *   or more; the longest 0.52 to 10.2 ms;
 *   debug-rt, 256 slots a section: 5058 sections, 3 to 37 (0.06 to 0.7%)
 *   of 100 us or more; the longest 0.45 to 8.3 ms.
 *
 * A whole stripe takes 0.1 to 0.9 ms there (5 to 50 ns a slot), no longer
 * than the guest's noise makes a few 10 us sections: the longest section
 * does not tell the two apart, the share of long ones does, six times
 * below the share before and five times above the share after.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "../kselftest_harness.h"
#include "lib/sl_util.h"

#define TRACING "/sys/kernel/tracing"
#define LIMIT_US 2000
#define CHAIN 40000
#define TABLE_LIMIT_US 100
#define TABLE_MAX_PCT 10
#define TABLE_STRIPES 64		/* the track table's (SL_STRIPES) */
#define TABLE_STRIPE_MIN 8192
#define TABLE_SOCKS 4096
#define MAX_CPUS 64

static const char * const events[] = {
	"preemptirq/irq_disable", "preemptirq/irq_enable",
	"preemptirq/preempt_disable", "preemptirq/preempt_enable",
};

static int tr_write(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), TRACING "/%s", file);
	return sl_write(path, val);
}

/* Empty the trace buffer (an open for writing with O_TRUNC does it). */
static int tr_clear(void)
{
	int fd = open(TRACING "/trace", O_WRONLY | O_TRUNC);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static bool event_available(const char *event)
{
	char path[256];

	snprintf(path, sizeof(path), TRACING "/events/%s/enable", event);
	return !access(path, W_OK);
}

/*
 * The events a test needs: the first two (interrupts) with @irqs_only,
 * else all four. Without CONFIG_PREEMPT_TRACER there are no preemption
 * events; irq_disable/irq_enable come with CONFIG_TRACE_IRQFLAGS (which
 * lockdep selects) alone.
 */
static bool events_available(bool irqs_only)
{
	size_t i;

	if (access(TRACING "/events", R_OK))
		mount("nodev", TRACING, "tracefs", 0, NULL);
	for (i = 0; i < (irqs_only ? 2 : sizeof(events) / sizeof(events[0])); i++)
		if (!event_available(events[i]))
			return false;
	return true;
}

/* Every event of events[] this kernel has. */
static int events_enable(const char *on)
{
	char file[128];
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		if (!event_available(events[i]))
			continue;
		snprintf(file, sizeof(file), "events/%s/enable", events[i]);
		if (tr_write(file, on))
			return -1;
	}
	return 0;
}

/*
 * What a test judges: which sections are sockleak's, and what share of
 * them (max_pct, in percent) may last limit_us or more.
 */
struct mode {
	bool irqs;		/* interrupts-off sections, else preemption */
	long limit_us;
	int max_pct;
};

static const struct mode walk_mode = { false, LIMIT_US, 1 };
static const struct mode table_mode = { true, TABLE_LIMIT_US, TABLE_MAX_PCT };

struct sections {
	long longest_us;	/* sockleak's longest section */
	int count;		/* sockleak's sections */
	int over;		/* of them, of limit_us or more */
	long *us;		/* each one's length, malloc'ed */
	int cap;
	char where[200];	/* where the longest began */
};

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* The @pct percentile of the sections' lengths (sorted by scan_trace()). */
static long percentile(const struct sections *sec, int pct)
{
	return sec->count ? sec->us[(long)(sec->count - 1) * pct / 100] : 0;
}

/* An open section of one CPU. */
struct open_sec {
	double t;		/* since (seconds) */
	double irq;		/* interrupts taken inside it (seconds) */
	bool open, ours;
	char where[160];
};

static bool caller_is(const char *ev, const char * const *fns, int n)
{
	const char *c = strstr(ev, "caller=");
	int i;

	for (i = 0; c && i < n; i++)
		if (!strncmp(c + 7, fns[i], strlen(fns[i])) &&
		    c[7 + strlen(fns[i])] == '+')
			return true;
	return false;
}

static const char * const irq_fns[] = { "_raw_spin_lock_irqsave" };
static const char * const bh_fns[] = { "_raw_spin_lock_bh",
				       "__local_bh_disable_ip" };

/*
 * Pair each "off" event with the next "on" event of its CPU in the trace
 * (the events of this process only); sockleak's sections go into @sec,
 * their lengths sorted. Those of @md: preemption off by spin_lock_bh, or
 * interrupts off by spin_lock_irqsave inside a track table scan (between the
 * probes' sl_in_ and sl_out_ events). -1 when the trace lost events (the
 * pairs could then be wrong).
 */
static int scan_trace(const struct mode *md, struct sections *sec)
{
	struct open_sec irq[MAX_CPUS] = {}, pre[MAX_CPUS] = {};
	FILE *f = fopen(TRACING "/trace", "r");
	unsigned long in_buf = 0, written = 1;
	bool in_scan = false, oom = false;
	size_t cap = 0;
	char *line = NULL;

	if (!f)
		return -1;
	memset(sec, 0, sizeof(*sec));
	while (getline(&line, &cap, f) > 0) {
		static const char * const names[] = {
			": irq_disable:", ": irq_enable:",
			": preempt_disable:", ": preempt_enable:",
		};
		struct open_sec *o;
		char *ev = NULL, *b, *p;
		int k, cpu;
		double t;

		if (sscanf(line, "# entries-in-buffer/entries-written: %lu/%lu",
			   &in_buf, &written) == 2)
			continue;
		if (strstr(line, ": sl_in_")) {
			in_scan = true;
			continue;
		}
		if (strstr(line, ": sl_out_")) {
			in_scan = false;
			continue;
		}
		for (k = 0; k < 4 && !ev; k++)
			ev = strstr(line, names[k]);
		if (!ev)
			continue;
		k--;
		b = strchr(line, '[');
		if (!b || b > ev)
			continue;
		cpu = atoi(b + 1);
		if (cpu < 0 || cpu >= MAX_CPUS)
			continue;
		for (p = ev; p > line && p[-1] != ' '; p--)
			;
		t = strtod(p, NULL);
		o = k < 2 ? &irq[cpu] : &pre[cpu];
		if (!(k & 1)) {
			o->t = t;
			o->irq = 0;
			o->open = true;
			o->ours = md->irqs ? k < 2 && in_scan &&
					     caller_is(ev, irq_fns, 1) :
					     k >= 2 && caller_is(ev, bh_fns, 2);
			snprintf(o->where, sizeof(o->where), "%s",
				 strstr(ev, "caller=") ?: "");
			o->where[strcspn(o->where, "\n")] = '\0';
		} else if (o->open) {
			double d = t - o->t;
			long us;

			o->open = false;
			/* An interrupt inside a preemption-off section. */
			if (k < 2 && !o->ours && pre[cpu].open)
				pre[cpu].irq += d;
			if (!o->ours)
				continue;
			us = (long)((d - o->irq) * 1e6);
			if (sec->count == sec->cap) {
				long *n = realloc(sec->us, (sec->cap * 2 + 64) *
							   sizeof(*n));

				if (!n) {
					oom = true;
					break;
				}
				sec->us = n;
				sec->cap = sec->cap * 2 + 64;
			}
			sec->us[sec->count++] = us;
			sec->over += us >= md->limit_us;
			if (us > sec->longest_us) {
				sec->longest_us = us;
				snprintf(sec->where, sizeof(sec->where), "%s at %s",
					 k < 2 ? "interrupts" : "preemption",
					 o->where);
			}
		}
	}
	free(line);
	fclose(f);
	if (sec->count)
		qsort(sec->us, sec->count, sizeof(sec->us[0]), cmp_long);
	return in_buf == written && !oom ? 0 : -1;
}

static int events_filter(const char *filter)
{
	char file[128];
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		if (!event_available(events[i]))
			continue;
		snprintf(file, sizeof(file), "events/%s/filter", events[i]);
		if (tr_write(file, filter))
			return -1;
	}
	return 0;
}

/*
 * Probes on the track table's readers: the interrupts-off sections begun by
 * spin_lock_irqsave between the entry and the return of
 * sockleak_track_grab() or sockleak_track_clear() are the stripe locks' (and a
 * few of the softirqs run between two batches), not the allocator's,
 * kmemleak's or the tracer's of the rest of the read.
 */
static const char * const probes[] = {
	"p:sockleak_lat/sl_in_grab sockleak:sockleak_track_grab",
	"r:sockleak_lat/sl_out_grab sockleak:sockleak_track_grab",
	"p:sockleak_lat/sl_in_clear sockleak:sockleak_track_clear",
	"r:sockleak_lat/sl_out_clear sockleak:sockleak_track_clear",
};

static void probes_off(void)
{
	char del[128];
	size_t i;

	if (access(TRACING "/events/sockleak_lat", F_OK))
		return;
	tr_write("events/sockleak_lat/enable", "0");
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		snprintf(del, sizeof(del), "-:%.*s",
			 (int)strcspn(probes[i] + 2, " "), probes[i] + 2);
		tr_write("kprobe_events", del);
	}
}

static int probes_on(const char *filter)
{
	size_t i;

	probes_off();
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (tr_write("kprobe_events", probes[i]))
			return -1;
	if (tr_write("events/sockleak_lat/filter", filter) ||
	    tr_write("events/sockleak_lat/enable", "1"))
		return -1;
	return 0;
}

/*
 * Do @op ("read FILE" or "write CMD" to control) in this process with the
 * events on; sockleak's sections.
 */
static int measure(const char *op, const struct mode *md,
		   struct sections *sec)
{
	char *text = NULL;
	int rc = 0;

	if (tr_write("tracing_on", "0") || tr_clear() ||
	    tr_write("tracing_on", "1"))
		return -1;
	if (!strncmp(op, "read ", 5)) {
		text = sl_read_file_chunked(op + 5, 4096, NULL);
		rc = text ? 0 : -1;
	} else {
		sl_control(op + 6);	/* dump= of no socket fails: fine */
	}
	tr_write("tracing_on", "0");
	free(text);
	return rc ?: scan_trace(md, sec);
}

/*
 * Each operation's sections of sockleak's (@md): at most max_pct% of
 * limit_us or more.
 */
static void check_ops(struct __test_metadata *_metadata,
		      const char * const *ops, int nops,
		      const struct mode *md)
{
	long longest = 0;
	int i, total = 0;
	char filter[64];

	snprintf(filter, sizeof(filter), "common_pid == %d", getpid());
	ASSERT_EQ(0, tr_write("tracing_on", "0"));
	ASSERT_EQ(0, tr_write("current_tracer", "nop"));
	/*
	 * A debug kernel (SL_SLOW) logs more events per read of 40000
	 * sockets than 16 MiB per CPU held (7.3's lockdep/KASAN kernel:
	 * "read sockets ... the trace lost events").
	 */
	ASSERT_EQ(0, tr_write("buffer_size_kb",
			      getenv("SL_SLOW") ? "65536" : "16384"));
	ASSERT_EQ(0, events_filter(filter));
	ASSERT_EQ(0, events_enable("1"));
	if (md->irqs)
		ASSERT_EQ(0, probes_on(filter));
	for (i = 0; i < nops; i++) {
		struct sections sec = {};

		ASSERT_EQ(0, measure(ops[i], md, &sec)) {
			TH_LOG("%s failed or the trace lost events", ops[i]);
		}
		TH_LOG("%s: %d sockleak sections, %d of %ld us or more; median %ld, p99 %ld, longest %ld us (%s)",
		       ops[i], sec.count, sec.over, md->limit_us,
		       percentile(&sec, 50), percentile(&sec, 99),
		       sec.longest_us, sec.where);
		EXPECT_LT(0, sec.count) {
			TH_LOG("%s: no section of sockleak's seen", ops[i]);
		}
		/* The guest's own noise lengthens a few sections. */
		EXPECT_GT(sec.count * md->max_pct, 100 * sec.over) {
			TH_LOG("%s: %d sections of %d kept %s for %ld us or more",
			       ops[i], sec.over, sec.count,
			       md->irqs ? "interrupts off" : "preemption off",
			       md->limit_us);
		}
		total += sec.count;
		if (sec.longest_us > longest)
			longest = sec.longest_us;
		free(sec.us);
	}
	TH_LOG("%d sockleak sections, the longest %ld us", total, longest);
}

/* Tracing back as it was, whatever happened (teardown). */
static void events_off(void)
{
	probes_off();
	events_enable("0");
	events_filter("0");
	tr_clear();
	tr_write("buffer_size_kb", "1408");
}

FIXTURE(lat) {
	int fds[CHAIN + 1];
	int n;
};

FIXTURE_SETUP(lat)
{
	if (!events_available(true))
		SKIP(return, "no preemptirq trace events in this kernel");
	ASSERT_EQ(0, system("modprobe sockleak"));
}

FIXTURE_TEARDOWN(lat)
{
	for (int i = 0; i < self->n; i++)
		close(self->fds[i]);
	if (events_available(true))
		events_off();
	sl_control("track=off");
	sl_control("max_entries=65536");
}

TEST_F_TIMEOUT(lat, long_chain_walk, SL_HEAVY_TIMEOUT)
{
	static const char * const ops[] = {
		"read " SL_DIR "/summary",
		"read " SL_DIR "/suspects",
		"read " SL_DIR "/sockets",
	};
	struct rlimit rl = { CHAIN + 256, CHAIN + 256 };

	if (!events_available(false))
		SKIP(return, "no preemption trace events in this kernel");
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	self->n = sl_udp_chain(self->fds, CHAIN);
	ASSERT_EQ(CHAIN + 1, self->n);
	check_ops(_metadata, ops, sizeof(ops) / sizeof(ops[0]), &walk_mode);
}

static unsigned long long mem_total(void)
{
	char *mi = sl_read_file("/proc/meminfo");
	char *p = mi ? strstr(mi, "MemTotal:") : NULL;
	unsigned long long kb = p ? strtoull(p + 9, NULL, 10) : 0;

	free(mi);
	return kb * 1024;
}

/*
 * The largest track table this guest gives (max_entries is refused above an
 * eighth of the RAM, at least 264 bytes an entry; track=on may still find
 * no room): its max_entries, tracking on; 0 when none of TABLE_STRIPE_MIN
 * entries a stripe starts.
 */
static unsigned long long reg_start_largest(void)
{
	unsigned long long n = mem_total() / 8 / 264 / TABLE_STRIPES * TABLE_STRIPES;
	char cmd[64];

	for (; n >= TABLE_STRIPE_MIN * TABLE_STRIPES;
	     n = n * 15 / 16 / TABLE_STRIPES * TABLE_STRIPES) {
		snprintf(cmd, sizeof(cmd), "max_entries=%llu", n);
		if (!sl_control("track=off") && !sl_control(cmd) &&
		    !sl_control("track=on"))
			return n;
	}
	return 0;
}

TEST_F_TIMEOUT(lat, table_scan, SL_HEAVY_TIMEOUT)
{
	static const char * const ops[] = {
		"read " SL_DIR "/tracked",
		"write clear",
		"write dump=7fffffffffffffff",
	};
	struct rlimit rl = { TABLE_SOCKS + 256, TABLE_SOCKS + 256 };
	unsigned long long max;

	if (access(TRACING "/kprobe_events", W_OK))
		SKIP(return, "no kprobe events in this kernel");
	max = reg_start_largest();
	ASSERT_NE(0ULL, max) {
		TH_LOG("no track table of %d entries a stripe fits in this guest",
		       TABLE_STRIPE_MIN);
	}
	TH_LOG("max_entries=%llu: %llu entries a stripe", max,
	       max / TABLE_STRIPES);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	for (; self->n < TABLE_SOCKS; self->n++) {
		self->fds[self->n] = socket(AF_INET, SOCK_DGRAM, 0);
		ASSERT_LE(0, self->fds[self->n]);
	}
	check_ops(_metadata, ops, sizeof(ops) / sizeof(ops[0]), &table_mode);
}

TEST_HARNESS_MAIN
