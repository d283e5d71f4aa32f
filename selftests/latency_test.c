// SPDX-License-Identifier: GPL-2.0
/*
 * How long sockleak keeps interrupts or preemption off, measured with the
 * kernel's preemptirq trace events (irq_disable/irq_enable,
 * preempt_disable/preempt_enable: CONFIG_PREEMPTIRQ_TRACEPOINTS with
 * CONFIG_PREEMPT_TRACER, the debug kernel of "make check-debug"; skipped
 * on kernels without them).
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
 * The load: CHAIN UDP sockets in one slot of the UDP hash (bound to one
 * port, each connected to its own peer), read by "summary", "suspects"
 * and "sockets". Before the walk resumed after an anchor socket, it
 * counted its place from the chain's head under the slot lock for every
 * batch: on the debug kernel under TCG, 926 to 2693 of those reads'
 * sections (37 to 54%) lasted 2 ms or more, the longest 28.6 ms. After:
 * 2 of 22250 (0.01%; the longest 8.4 ms, the guest's noise on a busy
 * host), the others under 0.7 ms.
 *
 * The registry's interrupts-off sections (at most 256 entries) are not
 * judged here: at about 0.1 us per entry, even a whole stripe of the
 * largest registry this guest can hold is below that noise.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "../kselftest_harness.h"
#include "sl_util.h"

#define TRACING "/sys/kernel/tracing"
#define LIMIT_US 2000
#define CHAIN 40000
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

static bool events_available(void)
{
	char path[256];
	size_t i;

	if (access(TRACING "/events", R_OK))
		mount("nodev", TRACING, "tracefs", 0, NULL);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		snprintf(path, sizeof(path), TRACING "/events/%s/enable",
			 events[i]);
		if (access(path, W_OK))
			return false;
	}
	return true;
}

static int events_enable(const char *on)
{
	char file[128];
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		snprintf(file, sizeof(file), "events/%s/enable", events[i]);
		if (tr_write(file, on))
			return -1;
	}
	return 0;
}

struct sections {
	long longest_us;	/* sockleak's longest section */
	int count;		/* sockleak's sections */
	int over;		/* of them, longer than LIMIT_US */
	char where[200];	/* where the longest began */
};

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

static const char * const bh_fns[] = { "_raw_spin_lock_bh",
				       "__local_bh_disable_ip" };

/*
 * Pair each "off" event with the next "on" event of its CPU in the trace
 * (the events of this process only); sockleak's sections go into @sec.
 * -1 when the trace lost events (the pairs could then be wrong).
 */
static int scan_trace(struct sections *sec)
{
	struct open_sec irq[MAX_CPUS] = {}, pre[MAX_CPUS] = {};
	FILE *f = fopen(TRACING "/trace", "r");
	unsigned long in_buf = 0, written = 1;
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
			o->ours = k >= 2 && caller_is(ev, bh_fns, 2);
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
			sec->count++;
			sec->over += us >= LIMIT_US;
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
	return in_buf == written ? 0 : -1;
}

static int events_filter(const char *filter)
{
	char file[128];
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		snprintf(file, sizeof(file), "events/%s/filter", events[i]);
		if (tr_write(file, filter))
			return -1;
	}
	return 0;
}

/*
 * Do @op ("read FILE" or "write CMD" to control) in this process with the
 * events on; sockleak's sections.
 */
static int measure(const char *op, struct sections *sec)
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
	return rc ?: scan_trace(sec);
}

/*
 * Each operation's preemption-off sections: at most 1% of LIMIT_US or
 * more.
 */
static void check_ops(struct __test_metadata *_metadata,
		      const char * const *ops, int nops)
{
	long longest = 0;
	int i, total = 0;
	char filter[64];

	snprintf(filter, sizeof(filter), "common_pid == %d", getpid());
	ASSERT_EQ(0, tr_write("tracing_on", "0"));
	ASSERT_EQ(0, tr_write("current_tracer", "nop"));
	ASSERT_EQ(0, tr_write("buffer_size_kb", "16384"));
	ASSERT_EQ(0, events_filter(filter));
	ASSERT_EQ(0, events_enable("1"));
	for (i = 0; i < nops; i++) {
		struct sections sec;

		ASSERT_EQ(0, measure(ops[i], &sec)) {
			TH_LOG("%s failed or the trace lost events", ops[i]);
		}
		TH_LOG("%s: %d sockleak sections, %d of %d us or more, longest %ld us (%s)",
		       ops[i], sec.count, sec.over, LIMIT_US, sec.longest_us,
		       sec.where);
		EXPECT_LT(0, sec.count) {
			TH_LOG("%s: no section of sockleak's seen", ops[i]);
		}
		/* The guest's own noise lengthens a few sections: 1% may. */
		EXPECT_GT(sec.count, 100 * sec.over) {
			TH_LOG("%s: %d sections of %d kept %s for %d us or more",
			       ops[i], sec.over, sec.count, sec.where, LIMIT_US);
		}
		total += sec.count;
		if (sec.longest_us > longest)
			longest = sec.longest_us;
	}
	TH_LOG("%d sockleak sections, the longest %ld us", total, longest);
}

/* Tracing back as it was, whatever happened (teardown). */
static void events_off(void)
{
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
	if (!events_available())
		SKIP(return, "no preemptirq trace events in this kernel");
	ASSERT_EQ(0, system("modprobe sockleak"));
}

FIXTURE_TEARDOWN(lat)
{
	for (int i = 0; i < self->n; i++)
		close(self->fds[i]);
	if (events_available())
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

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	self->n = sl_udp_chain(self->fds, CHAIN);
	ASSERT_EQ(CHAIN + 1, self->n);
	check_ops(_metadata, ops, sizeof(ops) / sizeof(ops[0]));
}

TEST_HARNESS_MAIN
