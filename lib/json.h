/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON (RFC 8259) as a value tree: a strict reader, builders, lookups and a writer (compact or
 * pretty, optionally with sorted keys); plus a streaming writer for hot paths (the log) that
 * needs no tree. yamlout.h prints the same tree as YAML.
 *
 * Ownership: every node is heap memory; json_free() on the root frees the whole tree, and
 * json_arr_add()/json_obj_add() take ownership of the child. Lookups return pointers borrowed
 * from the tree, valid until it is freed or the member is replaced.
 * Strings keep their length and a terminating NUL. They may hold NUL bytes (from "\u0000"):
 * json_str() then shows only the part before the first one; json_str_len() tells.
 * Object keys never hold NUL (the reader rejects such keys), and keep their insertion order.
 * Nothing here prints; allocation failure aborts (xalloc.h); numbers use the C locale's '.'.
 */
#ifndef OS_JSON_H
#define OS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct err;

#define JSON_MAX_DEPTH	 64	     /* reader: arrays and objects nested in each other */
#define JSON_MAX_INPUT	 (16u << 20) /* json_parse(): largest input, in bytes */
#define JSON_W_MAX_DEPTH 64	     /* streaming writer nesting */

enum json_type { JSON_NULL, JSON_BOOL, JSON_INT, JSON_DOUBLE, JSON_STR, JSON_ARR, JSON_OBJ };

struct json; /* opaque */

/* ---- reader ---- */

/*
 * Parses exactly one value, with optional whitespace around it, from text[0..len) (no NUL
 * needed, never read past len). Strict RFC 8259: rejects duplicate keys, lone surrogates,
 * invalid UTF-8, raw control characters in strings, leading zeros, trailing text, nesting over
 * JSON_MAX_DEPTH, keys holding "\u0000", integers outside int64 and doubles outside the finite
 * range. A number with a fraction or an exponent is a JSON_DOUBLE, any other a JSON_INT.
 * Returns a new tree, or NULL with e set: ERR_INVALID and "invalid JSON at line L, column C
 * (byte B): <what was expected>" (columns count bytes, from 1), or ERR_LIMIT when len > max.
 */
struct json *json_parse_max(const char *text, size_t len, size_t max, struct err *e);
/* json_parse_max() with max = JSON_MAX_INPUT. */
struct json *json_parse(const char *text, size_t len, struct err *e);
/* Frees v and everything below it; NULL is fine. */
void json_free(struct json *v);

/* ---- builders: new nodes, owned by the caller until added to a parent ---- */

struct json *json_new_null(void);
struct json *json_new_bool(bool b);
struct json *json_new_i64(int64_t i);
/* NaN and infinities are kept, and written as null (as serde_json does). */
struct json *json_new_double(double d);
struct json *json_new_str(const char *s); /* copies s */
struct json *json_new_strn(const char *s, size_t n);
struct json *json_new_arr(void);
struct json *json_new_obj(void);
/*
 * Appends child to arr, which takes ownership. A NULL child adds a JSON null. When arr is not
 * an array the child is freed and nothing is added.
 */
void json_arr_add(struct json *arr, struct json *child);
/*
 * Adds child under key (copied) as the last member, or in place of the member with that key.
 * Ownership, NULL child and wrong type as for json_arr_add(). O(members) per call.
 */
void json_obj_add(struct json *obj, const char *key, struct json *child);
void json_obj_add_str(struct json *obj, const char *key, const char *s);
void json_obj_add_i64(struct json *obj, const char *key, int64_t i);
void json_obj_add_bool(struct json *obj, const char *key, bool b);

/* ---- lookups: all accept NULL (a missing value) ---- */

/* The node's type; JSON_NULL for NULL, so test json_get() != NULL to tell a missing member. */
enum json_type json_type(const struct json *v);
bool json_is_null(const struct json *v); /* false for NULL */
bool json_is_bool(const struct json *v);
bool json_is_num(const struct json *v); /* JSON_INT or JSON_DOUBLE */
bool json_is_str(const struct json *v);
bool json_is_arr(const struct json *v);
bool json_is_obj(const struct json *v);
bool json_bool(const struct json *v);	    /* false unless a true boolean */
int64_t json_i64(const struct json *v);	    /* 0 unless JSON_INT */
double json_double(const struct json *v);   /* JSON_DOUBLE, or JSON_INT converted; else 0 */
const char *json_str(const struct json *v); /* "" unless a string */
size_t json_str_len(const struct json *v);  /* bytes, 0 unless a string */

/* The member named key (first match, O(members)), or NULL when missing or obj is no object. */
const struct json *json_get(const struct json *obj, const char *key);
/* The member's string, or def when it is missing or not a string. */
const char *json_get_str(const struct json *obj, const char *key, const char *def);
/* 0 and *out set when the member is a JSON_INT (2.0 is not); -1 otherwise, *out untouched. */
int json_get_i64(const struct json *obj, const char *key, int64_t *out);
/* 0 and *out set when the member is a boolean; -1 otherwise. */
int json_get_bool(const struct json *obj, const char *key, bool *out);

/* Members of an array or object (0 for anything else); iterate with json_at()/json_key_at(). */
size_t json_len(const struct json *v);
/* Member i of an array or object, or NULL when out of range. */
const struct json *json_at(const struct json *v, size_t i);
/* Key of member i of an object, or NULL. */
const char *json_key_at(const struct json *obj, size_t i);

/*
 * Same types and values, member by member in order (the reader and writer keep the order).
 * JSON_INT 1 and JSON_DOUBLE 1.0 differ; doubles compare with ==, except that NaN equals NaN.
 */
bool json_equal(const struct json *a, const struct json *b);

/* ---- writer ---- */

enum json_write_flags {
	JSON_COMPACT = 0,
	JSON_PRETTY = 1 << 0, /* 2-space indent, ": ", "[]"/"{}" when empty (serde_json's pretty) */
	JSON_SORTED = 1 << 1, /* object members by key, byte order */
};
/*
 * Appends v to out; no trailing newline. Never fails and the output is always valid JSON:
 * invalid UTF-8 in strings becomes U+FFFD, non-finite doubles become null, and doubles are
 * written with the fewest digits that read back to the same value (as Python's repr(); for some
 * powers of two one digit more), with ".0" when they would otherwise look like an integer.
 * Recursion follows the tree's depth.
 */
void json_write(const struct json *v, struct buf *out, unsigned flags);
/*
 * Appends s[0..n) as a quoted JSON string: escapes '"', '\\' and the control characters below
 * 0x20 (\b \f \n \r \t, others as \u00XX); each byte of invalid UTF-8 becomes U+FFFD.
 */
void json_quote(struct buf *out, const char *s, size_t n);
/* Length (1-4) of the valid UTF-8 sequence (RFC 3629) at p < end, or 0 when it is invalid. */
size_t json_utf8_len(const unsigned char *p, const unsigned char *end);

/* ---- streaming writer: compact JSON straight into a buffer, no tree ---- */

/*
 * Usage: json_w_init(&w, &line); json_w_obj_open(&w); json_w_key(&w, "level");
 * json_w_str(&w, "info"); ...; json_w_obj_close(&w).
 * The writer inserts commas and colons itself. Misuse (a key outside an object, a value without
 * its key, a close that does not match, nesting over JSON_W_MAX_DEPTH) is a programming error
 * and aborts, so a sequence that returns always produced valid JSON.
 */
struct json_w {
	struct buf *out;
	unsigned depth;
	uint64_t first;	 /* bit d-1: the container at depth d has no member yet */
	uint64_t is_obj; /* bit d-1: the container at depth d is an object */
	bool after_key;
};
void json_w_init(struct json_w *w, struct buf *out);
void json_w_obj_open(struct json_w *w);
void json_w_obj_close(struct json_w *w);
void json_w_arr_open(struct json_w *w);
void json_w_arr_close(struct json_w *w);
void json_w_key(struct json_w *w, const char *key);
void json_w_str(struct json_w *w, const char *s);
void json_w_strn(struct json_w *w, const char *s, size_t n);
void json_w_i64(struct json_w *w, int64_t i);
void json_w_u64(struct json_w *w, uint64_t u);
void json_w_double(struct json_w *w, double d);
void json_w_bool(struct json_w *w, bool b);
void json_w_null(struct json_w *w);
/* Writes a whole tree (compact) as the next value. */
void json_w_tree(struct json_w *w, const struct json *v);

/* The YAML emitter of yamlout.h, declared here too for callers that print either format. */
void yaml_write(const struct json *v, struct buf *out);

#endif
