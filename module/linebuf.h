/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - a report line built in a buffer on the stack and written to
 * its seq_file at once. A "sockets" line has some forty key=value fields:
 * seq_put_decimal_ull() per field measures a strlen() of its key, a
 * seq_write() and num_to_str() each time, which made the line cost 1.19x
 * a /proc/net/tcp line that prints a third of the bytes (make profile,
 * 7.3: 13.2k instructions per TCP socket; 8.0k, 0.72x, with this file).
 * Here a key is a literal of known length, a number is written in place,
 * and the seq_file sees one write per buffer. A piece that does not fit flushes the buffer first, so a line
 * of any length comes out whole and in order; whatever goes to the
 * seq_file directly (seq_escape()) must come after sockleak_lb_flush().
 * No lock, no state beyond the caller's stack.
 */
#ifndef _SOCKLEAK_LINEBUF_H
#define _SOCKLEAK_LINEBUF_H

#include <linux/compiler.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/types.h>

#define SOCKLEAK_LB_BUF	512

struct sockleak_linebuf {
	struct seq_file *m;
	unsigned int n;			/* bytes in buf */
	char buf[SOCKLEAK_LB_BUF];
};

static inline void sockleak_lb_init(struct sockleak_linebuf *l,
				      struct seq_file *m)
{
	l->m = m;
	l->n = 0;
}

/* Write what the buffer holds to the seq_file. */
static inline void sockleak_lb_flush(struct sockleak_linebuf *l)
{
	if (l->n)
		seq_write(l->m, l->buf, l->n);
	l->n = 0;
}

/* Inlined: a literal's length is a constant, its copy a few moves. */
static __always_inline void sockleak_lb_mem(struct sockleak_linebuf *l,
					    const char *s, size_t len)
{
	if (unlikely(len > SOCKLEAK_LB_BUF - l->n)) {
		sockleak_lb_flush(l);
		if (len > SOCKLEAK_LB_BUF) {
			seq_write(l->m, s, len);
			return;
		}
	}
	memcpy(l->buf + l->n, s, len);
	l->n += len;
}

/* A string literal: its length is known at compile time. */
#define sockleak_lb_lit(l, lit)	sockleak_lb_mem(l, lit, sizeof(lit) - 1)

static inline void sockleak_lb_str(struct sockleak_linebuf *l, const char *s)
{
	sockleak_lb_mem(l, s, strlen(s));
}

static __always_inline void sockleak_lb_char(struct sockleak_linebuf *l,
					     char c)
{
	if (unlikely(l->n == SOCKLEAK_LB_BUF))
		sockleak_lb_flush(l);
	l->buf[l->n++] = c;
}

/*
 * Decimal, written in place: the digits are counted first, then written
 * from the last, two per division by 100, with no temporary buffer and no
 * copy.
 */
static inline void sockleak_lb_u64(struct sockleak_linebuf *l, u64 v)
{
	unsigned int len = 1;
	u64 t = v;
	char *p;

	if (v < 10) {
		sockleak_lb_char(l, '0' + v);
		return;
	}
	while (t >= 10) {
		t /= 10;
		len++;
	}
	if (unlikely(len > SOCKLEAK_LB_BUF - l->n))
		sockleak_lb_flush(l);
	p = l->buf + l->n + len;
	l->n += len;
	while (v >= 100) {
		unsigned int r = v % 100;

		v /= 100;
		*--p = '0' + r % 10;
		*--p = '0' + r / 10;
	}
	if (v >= 10) {
		*--p = '0' + v % 10;
		*--p = '0' + v / 10;
	} else {
		*--p = '0' + v;
	}
}

static inline void sockleak_lb_s64(struct sockleak_linebuf *l, s64 v)
{
	if (v < 0) {
		sockleak_lb_char(l, '-');
		sockleak_lb_u64(l, -(u64)v);
	} else {
		sockleak_lb_u64(l, v);
	}
}

/* Lower-case hex, no leading zeros, as %llx. */
static inline void sockleak_lb_hex(struct sockleak_linebuf *l, u64 v)
{
	char tmp[16];
	int i = sizeof(tmp);

	do {
		tmp[--i] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	sockleak_lb_mem(l, tmp + i, sizeof(tmp) - i);
}

/* " key=" and a number, the fields of a line. */
#define sockleak_lb_ku(l, key, v)	do {				\
	sockleak_lb_lit(l, " " key "=");				\
	sockleak_lb_u64(l, v);					\
} while (0)

#define sockleak_lb_ks(l, key, v)	do {				\
	sockleak_lb_lit(l, " " key "=");				\
	sockleak_lb_s64(l, v);					\
} while (0)

#endif /* _SOCKLEAK_LINEBUF_H */
