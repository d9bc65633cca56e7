/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON writers (see json.h): the tree writer (compact, pretty, sorted keys) and the streaming
 * writer the log uses. Neither can fail or produce invalid JSON; misuse of the streaming writer
 * aborts because it is a bug in the caller, not a run-time condition.
 */
#include "json_int.h"
#include "util.h"
#include "buf.h"
#include "xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t json_utf8_len(const unsigned char *p, const unsigned char *end)
{
	return utf8_seq_len(p, (size_t)(end - p));
}

static void quote_byte(struct buf *out, unsigned char c)
{
	char u[8];

	switch (c) {
	case '"':
		buf_adds(out, "\\\"");
		return;
	case '\\':
		buf_adds(out, "\\\\");
		return;
	case '\b':
		buf_adds(out, "\\b");
		return;
	case '\f':
		buf_adds(out, "\\f");
		return;
	case '\n':
		buf_adds(out, "\\n");
		return;
	case '\r':
		buf_adds(out, "\\r");
		return;
	case '\t':
		buf_adds(out, "\\t");
		return;
	}
	snprintf(u, sizeof(u), "\\u%04x", c);
	buf_add(out, u, 6);
}

void json_quote(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run;
	size_t k;

	buf_grow(out, n + 2);
	buf_addch(out, '"');
	while (p < end) {
		run = p;
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		buf_add(out, run, (size_t)(p - run));
		if (p >= end)
			break;
		if (*p < 0x80) {
			quote_byte(out, *p++);
			continue;
		}
		k = json_utf8_len(p, end);
		if (k)
			buf_add(out, p, k);
		else
			buf_adds(out, "\xef\xbf\xbd"); /* U+FFFD */
		p += k ? k : 1;
	}
	buf_addch(out, '"');
}

static bool reads_back(char *tmp, size_t n, int digits, double d)
{
	snprintf(tmp, n, "%.*e", digits - 1, d);
	return strtod(tmp, NULL) == d;
}

/*
 * The fewest digits whose nearest decimal reads back to d, in fixed notation for exponents
 * -4..15 and in exponent notation otherwise: Python's repr() and json.dumps() text, except for
 * some powers of two where Python finds a shorter, not nearest, decimal (one digit less).
 * If p digits read back, so do p + 1 (the nearest (p+1)-digit decimal is no farther from d),
 * hence the binary search; 17 digits always read back.
 */
static void write_double(struct buf *out, double d)
{
	char tmp[48];
	int lo = 1, hi = 17, mid, exp10;

	if (!isfinite(d)) {
		buf_adds(out, "null");
		return;
	}
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (reads_back(tmp, sizeof(tmp), mid, d))
			hi = mid;
		else
			lo = mid + 1;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", lo - 1, d);
	exp10 = atoi(strchr(tmp, 'e') + 1);
	if (exp10 >= -4 && exp10 < 16)
		snprintf(tmp, sizeof(tmp), "%.*f", lo - 1 - exp10 > 0 ? lo - 1 - exp10 : 0, d);
	buf_adds(out, tmp);
	if (!strpbrk(tmp, ".e"))
		buf_adds(out, ".0");
}

static void newline(struct buf *out, unsigned flags, int depth)
{
	if (!(flags & JSON_PRETTY))
		return;
	buf_addch(out, '\n');
	for (int i = 0; i < depth; i++)
		buf_add(out, "  ", 2);
}

struct sorted_key {
	const char *key;
	size_t i;
};

static int cmp_sorted_key(const void *a, const void *b)
{
	return strcmp(((const struct sorted_key *)a)->key, ((const struct sorted_key *)b)->key);
}

/* Member order: as inserted, or by key. The caller frees the array. */
static size_t *member_order(const struct json *v, unsigned flags)
{
	size_t n = v->u.c.len, *idx = xreallocarray(NULL, n ? n : 1, sizeof(*idx)), i;
	struct sorted_key *sk;

	for (i = 0; i < n; i++)
		idx[i] = i;
	if (!(flags & JSON_SORTED) || v->type != JSON_OBJ || n < 2)
		return idx;
	sk = xreallocarray(NULL, n, sizeof(*sk));
	for (i = 0; i < n; i++)
		sk[i] = (struct sorted_key){ v->u.c.keys[i], i };
	qsort(sk, n, sizeof(*sk), cmp_sorted_key);
	for (i = 0; i < n; i++)
		idx[i] = sk[i].i;
	free(sk);
	return idx;
}

static void write_value(const struct json *v, struct buf *out, unsigned flags, int depth);

static void write_container(const struct json *v, struct buf *out, unsigned flags, int depth)
{
	bool obj = v->type == JSON_OBJ;
	size_t i, *idx = member_order(v, flags);
	const char *key;

	buf_addch(out, obj ? '{' : '[');
	for (i = 0; i < v->u.c.len; i++) {
		if (i)
			buf_addch(out, ',');
		newline(out, flags, depth + 1);
		if (obj) {
			key = v->u.c.keys[idx[i]];
			json_quote(out, key, strlen(key));
			buf_adds(out, flags & JSON_PRETTY ? ": " : ":");
		}
		write_value(v->u.c.vals[idx[i]], out, flags, depth + 1);
	}
	if (v->u.c.len)
		newline(out, flags, depth);
	buf_addch(out, obj ? '}' : ']');
	free(idx);
}

static void write_value(const struct json *v, struct buf *out, unsigned flags, int depth)
{
	switch (v->type) {
	case JSON_NULL:
		buf_adds(out, "null");
		return;
	case JSON_BOOL:
		buf_adds(out, v->u.b ? "true" : "false");
		return;
	case JSON_INT:
		buf_addf(out, "%lld", (long long)v->u.i);
		return;
	case JSON_DOUBLE:
		write_double(out, v->u.d);
		return;
	case JSON_STR:
		json_quote(out, v->u.s.p, v->u.s.len);
		return;
	case JSON_ARR:
	case JSON_OBJ:
		write_container(v, out, flags, depth);
		return;
	}
}

void json_write(const struct json *v, struct buf *out, unsigned flags)
{
	if (!v)
		buf_adds(out, "null");
	else
		write_value(v, out, flags, 0);
}

/* ---- streaming writer ---- */

void json_w_init(struct json_w *w, struct buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

static uint64_t bit(const struct json_w *w)
{
	return (uint64_t)1 << (w->depth - 1);
}

static bool in_obj(const struct json_w *w)
{
	return w->depth && (w->is_obj & bit(w));
}

/* Before any value: the comma, or nothing after a key. Values in an object need their key. */
static void before_value(struct json_w *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (in_obj(w))
		abort(); /* a value without its key */
	if (!w->depth)
		return;
	if (!(w->first & bit(w)))
		buf_addch(w->out, ',');
	w->first &= ~bit(w);
}

static void open_container(struct json_w *w, bool obj)
{
	before_value(w);
	if (w->depth == JSON_W_MAX_DEPTH)
		abort();
	w->depth++;
	w->first |= bit(w);
	if (obj)
		w->is_obj |= bit(w);
	else
		w->is_obj &= ~bit(w);
	buf_addch(w->out, obj ? '{' : '[');
}

static void close_container(struct json_w *w, bool obj)
{
	if (!w->depth || in_obj(w) != obj || w->after_key)
		abort(); /* unbalanced, or a key without its value */
	w->depth--;
	buf_addch(w->out, obj ? '}' : ']');
}

void json_w_obj_open(struct json_w *w)
{
	open_container(w, true);
}

void json_w_obj_close(struct json_w *w)
{
	close_container(w, true);
}

void json_w_arr_open(struct json_w *w)
{
	open_container(w, false);
}

void json_w_arr_close(struct json_w *w)
{
	close_container(w, false);
}

void json_w_key(struct json_w *w, const char *key)
{
	if (!in_obj(w) || w->after_key)
		abort();
	if (!(w->first & bit(w)))
		buf_addch(w->out, ',');
	w->first &= ~bit(w);
	json_quote(w->out, key, strlen(key));
	buf_addch(w->out, ':');
	w->after_key = true;
}

void json_w_strn(struct json_w *w, const char *s, size_t n)
{
	before_value(w);
	json_quote(w->out, s, n);
}

void json_w_str(struct json_w *w, const char *s)
{
	json_w_strn(w, s, strlen(s));
}

void json_w_i64(struct json_w *w, int64_t i)
{
	before_value(w);
	buf_addf(w->out, "%lld", (long long)i);
}

void json_w_u64(struct json_w *w, uint64_t u)
{
	before_value(w);
	buf_addf(w->out, "%llu", (unsigned long long)u);
}

void json_w_double(struct json_w *w, double d)
{
	before_value(w);
	write_double(w->out, d);
}

void json_w_bool(struct json_w *w, bool b)
{
	before_value(w);
	buf_adds(w->out, b ? "true" : "false");
}

void json_w_null(struct json_w *w)
{
	before_value(w);
	buf_adds(w->out, "null");
}

void json_w_tree(struct json_w *w, const struct json *v)
{
	before_value(w);
	json_write(v, w->out, JSON_COMPACT);
}
