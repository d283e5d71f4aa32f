// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak helper - the JSON writer (see json.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* Before any value: the comma after the previous member, if any. */
static void json_sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->depth)
		return;
	if (!j->empty[j->depth - 1])
		fputc(',', j->f);
	j->empty[j->depth - 1] = false;
}

static void json_open(struct json *j, char c)
{
	json_sep(j);
	if (j->depth == JSON_MAX_DEPTH) {
		fputs("sockleak: JSON nested too deep\n", stderr);
		exit(2);
	}
	fputc(c, j->f);
	j->empty[j->depth++] = true;
}

static void json_close(struct json *j, char c)
{
	if (j->depth)
		j->depth--;
	fputc(c, j->f);
}

void json_begin_obj(struct json *j)
{
	json_open(j, '{');
}

void json_end_obj(struct json *j)
{
	json_close(j, '}');
}

void json_begin_arr(struct json *j)
{
	json_open(j, '[');
}

void json_end_arr(struct json *j)
{
	json_close(j, ']');
}

void json_newline(struct json *j)
{
	fputc('\n', j->f);
}

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void json_key(struct json *j, const char *key)
{
	json_sep(j);
	put_str(j->f, key);
	fputc(':', j->f);
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	json_sep(j);
	put_str(j->f, s);
}

void json_u64(struct json *j, uint64_t v)
{
	json_sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void json_s64(struct json *j, int64_t v)
{
	json_sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void json_double(struct json *j, double v, int decimals)
{
	json_sep(j);
	fprintf(j->f, "%.*f", decimals, v);
}

void json_bool(struct json *j, bool v)
{
	json_sep(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	json_sep(j);
	fputs("null", j->f);
}

void json_val(struct json *j, const char *v)
{
	const char *d = v[0] == '-' ? v + 1 : v;

	if (!strcmp(v, "-"))
		json_null(j);
	else if (is_int(v) && strlen(d) <= 18 && (d[0] != '0' || !d[1]) &&
		 strcmp(v, "-0")) {
		json_sep(j);
		fputs(v, j->f);
	} else {
		json_str(j, v);
	}
}

void json_kstr(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_ku64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_ks64(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_s64(j, v);
}

void json_kdouble(struct json *j, const char *key, double v, int decimals)
{
	json_key(j, key);
	json_double(j, v, decimals);
}

void json_kbool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

void json_knull(struct json *j, const char *key)
{
	json_key(j, key);
	json_null(j);
}

void json_kval(struct json *j, const char *key, const char *v)
{
	json_key(j, key);
	json_val(j, v);
}

void json_rec_members(struct json *j, const struct rec *r)
{
	for (int i = 0; i < r->n; i++) {
		/* The cookie is hex: always a string. */
		if (!strcmp(r->kv[i].key, "cookie"))
			json_kstr(j, r->kv[i].key, r->kv[i].val);
		else
			json_kval(j, r->kv[i].key, r->kv[i].val);
	}
}

void json_rec(struct json *j, const struct rec *r)
{
	json_begin_obj(j);
	json_rec_members(j, r);
	json_end_obj(j);
}
