/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON values (RFC 8259): a tree type built by the strict reader or by the builders,
 * a writer (compact or pretty, optionally with sorted keys, always valid output), a
 * quoting helper for streaming writers (the log), and a YAML emitter of the same tree
 * so that `-o yaml` and `-o json` print the same value.
 *
 * Ownership: a tree is freed with json_free() on its root; json_obj_add/json_arr_add
 * take ownership of the child. Strings are stored with their length and a terminating
 * NUL (they may contain NUL; json_str() then shows only the first part).
 * Limits: nesting depth JSON_MAX_DEPTH; the reader takes a length, never reads past it.
 */
#ifndef OS_JSON_H
#define OS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct err;

#define JSON_MAX_DEPTH 64

enum json_type { JSON_NULL, JSON_BOOL, JSON_INT, JSON_DOUBLE, JSON_STR, JSON_ARR, JSON_OBJ };

struct json {
	enum json_type type;
	bool b;
	int64_t i;
	double d;
	char *s;            /* JSON_STR */
	size_t len;         /* JSON_STR: bytes; JSON_ARR/OBJ: members */
	size_t cap;
	char **keys;        /* JSON_OBJ, parallel to vals */
	struct json **vals; /* JSON_ARR and JSON_OBJ */
};

/* ---- reader ---- */
/* Parses exactly one value (surrounded by optional whitespace). NULL + ERR_INVALID naming
 * line, column and what was expected. */
struct json *json_parse(const char *text, size_t len, struct err *e);
void json_free(struct json *v);

/* ---- builders (abort on OOM) ---- */
struct json *json_new_null(void);
struct json *json_new_bool(bool b);
struct json *json_new_i64(int64_t i);
struct json *json_new_double(double d);
struct json *json_new_str(const char *s);
struct json *json_new_strn(const char *s, size_t n);
struct json *json_new_arr(void);
struct json *json_new_obj(void);
void json_arr_add(struct json *arr, struct json *child);
/* Appends key (copied); a key that exists already is replaced. */
void json_obj_add(struct json *obj, const char *key, struct json *child);
void json_obj_add_str(struct json *obj, const char *key, const char *s);
void json_obj_add_i64(struct json *obj, const char *key, int64_t i);
void json_obj_add_bool(struct json *obj, const char *key, bool b);

/* ---- lookups (NULL-safe) ---- */
const struct json *json_get(const struct json *obj, const char *key);
bool json_is_null(const struct json *v);
bool json_is_bool(const struct json *v);
bool json_is_num(const struct json *v);
bool json_is_str(const struct json *v);
bool json_is_arr(const struct json *v);
bool json_is_obj(const struct json *v);
bool json_bool(const struct json *v);
const char *json_str(const struct json *v); /* "" unless a string */
size_t json_str_len(const struct json *v);
/* The member's string, or def when missing or not a string. */
const char *json_get_str(const struct json *obj, const char *key, const char *def);
/* 0 and *out when the member is an integer (or a double with an exact integer value). */
int json_get_i64(const struct json *obj, const char *key, int64_t *out);
size_t json_len(const struct json *v); /* array or object members */
const struct json *json_at(const struct json *arr, size_t i);
const char *json_key_at(const struct json *obj, size_t i);

/* ---- writers ---- */
enum json_write_flags {
	JSON_COMPACT = 0,
	JSON_PRETTY = 1 << 0, /* 2-space indent, ": " (serde_json's pretty printer) */
	JSON_SORTED = 1 << 1, /* object keys in byte order */
};
void json_write(const struct json *v, struct buf *out, unsigned flags);
/* Appends s[0..n) as a quoted JSON string; invalid UTF-8 becomes U+FFFD. */
void json_quote(struct buf *out, const char *s, size_t n);
/* Length of the valid UTF-8 sequence (RFC 3629) at p, or 0 when it is invalid. */
size_t json_utf8_len(const unsigned char *p, const unsigned char *end);
/* YAML block style; strings that could read as another type are double-quoted. */
void yaml_write(const struct json *v, struct buf *out);

#endif
