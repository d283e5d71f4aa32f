/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak helper - a small JSON writer: objects and arrays nested up to
 * JSON_MAX_DEPTH, commas between members written by the writer, strings
 * escaped as RFC 8259 requires. No whitespace is written; values at the
 * top level are not separated (the caller ends a JSON Lines record with
 * json_newline()).
 *
 *	struct json j;
 *
 *	json_init(&j, stdout);
 *	json_begin_obj(&j);
 *	json_kstr(&j, "proto", "tcp");
 *	json_ks64(&j, "pages", 12);
 *	json_end_obj(&j);
 *	json_newline(&j);
 */
#ifndef SOCKLEAK_JSON_H
#define SOCKLEAK_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "parse.h"

#define JSON_MAX_DEPTH	16

struct json {
	FILE *f;
	int depth;			/* open objects and arrays */
	bool empty[JSON_MAX_DEPTH];	/* no member yet at that level */
	bool after_key;			/* a key is waiting for its value */
};

void json_init(struct json *j, FILE *f);

/* Containers, as values (after a key in an object, or in an array). */
void json_begin_obj(struct json *j);
void json_end_obj(struct json *j);
void json_begin_arr(struct json *j);
void json_end_arr(struct json *j);
/* A newline after a top-level value (JSON Lines). */
void json_newline(struct json *j);

/* A member's key; the next value written is its value. */
void json_key(struct json *j, const char *key);

/* Values. */
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_s64(struct json *j, int64_t v);
/* A number with @decimals digits after the point ("%.*f"). */
void json_double(struct json *j, double v, int decimals);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/*
 * A debugfs value: a decimal integer (no leading zero) becomes a number,
 * "-" becomes null, anything else a string.
 */
void json_val(struct json *j, const char *v);

/* Key and value in one call. */
void json_kstr(struct json *j, const char *key, const char *s);
void json_ku64(struct json *j, const char *key, uint64_t v);
void json_ks64(struct json *j, const char *key, int64_t v);
void json_kdouble(struct json *j, const char *key, double v, int decimals);
void json_kbool(struct json *j, const char *key, bool v);
void json_knull(struct json *j, const char *key);
void json_kval(struct json *j, const char *key, const char *v);

/*
 * The members of one record, in its order (cookie= is always a string:
 * it is hex); the caller opens and closes the object, to add more.
 */
void json_rec_members(struct json *j, const struct rec *r);
/* One record as an object. */
void json_rec(struct json *j, const struct rec *r);

#endif
