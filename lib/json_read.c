/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The strict RFC 8259 reader (see json.h): recursive descent over a length-bounded text into
 * the tree of json.c. It never reads past the given length and reports the first error with its
 * position. Used on HTTP bodies (gateway and CLI), registry files and spec files.
 */
#include "json_int.h"
#include "buf.h"
#include "err.h"
#include "xalloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
	const unsigned char *p, *start, *end;
	int depth;
	struct buf str; /* scratch for the string being decoded */
	struct err *e;
};

/* Where a key started, to check duplicates once the object is complete. */
struct key_pos {
	const char *key;
	size_t off;
};

static struct json *parse_value(struct reader *r);

static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct reader *r, const char *fmt, ...)
{
	size_t line = 1, col = 1, off = (size_t)(r->p - r->start);
	const unsigned char *q;
	char what[200];
	va_list ap;

	for (q = r->start; q < r->p; q++) {
		col++;
		if (*q == '\n') {
			line++;
			col = 1;
		}
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(r->e, ERR_INVALID, 0, "invalid JSON at line %zu, column %zu (byte %zu): %s",
		       line, col, off, what);
}

/* "expected X, found Y" naming what is at the current position. */
static int expected(struct reader *r, const char *what)
{
	unsigned char c;

	if (r->p >= r->end)
		return fail(r, "expected %s, found the end of the text", what);
	c = *r->p;
	if (c > 0x20 && c < 0x7f)
		return fail(r, "expected %s, found '%c'", what, c);
	return fail(r, "expected %s, found byte 0x%02x", what, c);
}

static bool at(const struct reader *r, char c)
{
	return r->p < r->end && *r->p == (unsigned char)c;
}

static bool at_digit(const struct reader *r)
{
	return r->p < r->end && *r->p >= '0' && *r->p <= '9';
}

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hex4(struct reader *r, unsigned *out)
{
	unsigned v = 0, c;
	int i;

	for (i = 0; i < 4; i++, r->p++) {
		c = r->p < r->end ? *r->p : 0;
		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			c = (c | 0x20) - 'a' + 10;
		else
			break;
		v = v << 4 | c;
	}
	*out = v;
	if (i < 4)
		return expected(r, "four hex digits after \\u");
	return 0;
}

static void put_utf8(struct buf *b, unsigned cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		n = 4;
	}
	for (size_t i = 1; i < n; i++)
		u[i] = (unsigned char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3f));
	buf_add(b, u, n);
}

/* \uXXXX, with a surrogate pair as one code point; r->p is just after the 'u'. */
static int unicode_escape(struct reader *r)
{
	const unsigned char *esc = r->p - 2;
	unsigned cp, lo;

	if (hex4(r, &cp) < 0)
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		r->p = esc;
		return fail(r, "lone low surrogate (\\udc00-\\udfff without a high one before)");
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u') {
			r->p = esc;
			return fail(r, "lone high surrogate (expected a \\udc00-\\udfff after it)");
		}
		r->p += 2;
		if (hex4(r, &lo) < 0)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff) {
			r->p = esc;
			return fail(r, "lone high surrogate (expected a \\udc00-\\udfff after it)");
		}
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	put_utf8(&r->str, cp);
	return 0;
}

/* r->p is at the backslash. */
static int escape(struct reader *r)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;

	r->p++;
	if (at(r, 'u')) {
		r->p++;
		return unicode_escape(r);
	}
	k = r->p < r->end && *r->p ? strchr(from, *r->p) : NULL;
	if (!k)
		return expected(r, "an escape letter (one of \"\\/bfnrtu) after '\\'");
	buf_addch(&r->str, to[k - from]);
	r->p++;
	return 0;
}

/* Bytes that stand for themselves in a JSON string, the common case */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Decodes the string at r->p (the opening quote) into r->str. */
static int scan_string(struct reader *r)
{
	const unsigned char *run;
	size_t n;

	buf_reset(&r->str);
	r->p++;
	for (;;) {
		run = r->p;
		while (r->p < r->end && plain(*r->p))
			r->p++;
		buf_add(&r->str, run, (size_t)(r->p - run));
		if (r->p >= r->end)
			return fail(r, "unterminated string");
		if (*r->p == '"') {
			r->p++;
			return 0;
		}
		if (*r->p == '\\') {
			if (escape(r) < 0)
				return -1;
			continue;
		}
		if (*r->p < 0x20)
			return fail(r, "raw control character 0x%02x in a string (escape it)",
				    *r->p);
		n = json_utf8_len(r->p, r->end);
		if (!n)
			return fail(r, "invalid UTF-8 in a string");
		buf_add(&r->str, r->p, n);
		r->p += n;
	}
}

static struct json *string_node(struct reader *r)
{
	struct json *v;

	if (scan_string(r) < 0)
		return NULL;
	v = json_node_new(JSON_STR);
	v->u.s.len = r->str.len;
	v->u.s.p = xmalloc(r->str.len + 1);
	memcpy(v->u.s.p, r->str.p, r->str.len + 1);
	return v;
}

static int skip_digits(struct reader *r, const char *what)
{
	if (!at_digit(r))
		return expected(r, what);
	while (at_digit(r))
		r->p++;
	return 0;
}

static struct json *to_double(struct reader *r, const unsigned char *s)
{
	size_t n = (size_t)(r->p - s);
	char small[64], *tmp = n < sizeof(small) ? small : xmalloc(n + 1);
	struct json *v = json_node_new(JSON_DOUBLE);

	/* the text is not NUL-terminated: strtod must not run past the number */
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	v->u.d = strtod(tmp, NULL);
	if (tmp != small)
		free(tmp);
	if (!isfinite(v->u.d)) {
		json_free(v);
		r->p = s;
		return fail(r, "number out of the range of a double"), NULL;
	}
	return v;
}

static struct json *to_int(struct reader *r, const unsigned char *s)
{
	const unsigned char *q = s + (*s == '-');
	uint64_t acc = 0, limit = *s == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	struct json *v;

	for (; q < r->p; q++) {
		if (acc > (limit - (uint64_t)(*q - '0')) / 10) {
			r->p = s;
			return fail(r, "integer out of the 64-bit range"), NULL;
		}
		acc = acc * 10 + (uint64_t)(*q - '0');
	}
	v = json_node_new(JSON_INT);
	/* -(INT64_MAX + 1) without signed overflow */
	v->u.i = *s == '-' ? (int64_t)(0 - acc) : (int64_t)acc;
	return v;
}

static struct json *parse_number(struct reader *r)
{
	const unsigned char *s = r->p;
	bool is_double = false;

	if (at(r, '-'))
		r->p++;
	if (at(r, '0') && r->p + 1 < r->end && r->p[1] >= '0' && r->p[1] <= '9') {
		r->p++;
		return fail(r, "leading zero in a number"), NULL;
	}
	if (skip_digits(r, "a digit") < 0)
		return NULL;
	if (at(r, '.')) {
		is_double = true;
		r->p++;
		if (skip_digits(r, "a digit after '.'") < 0)
			return NULL;
	}
	if (at(r, 'e') || at(r, 'E')) {
		is_double = true;
		r->p++;
		if (at(r, '+') || at(r, '-'))
			r->p++;
		if (skip_digits(r, "a digit in the exponent") < 0)
			return NULL;
	}
	return is_double ? to_double(r, s) : to_int(r, s);
}

static int literal(struct reader *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return expected(r, "a value");
	r->p += n;
	return 0;
}

static struct json *parse_array(struct reader *r)
{
	struct json *a = json_node_new(JSON_ARR), *item;

	r->p++;
	skip_ws(r);
	if (at(r, ']')) {
		r->p++;
		return a;
	}
	for (;;) {
		if (!(item = parse_value(r)))
			goto fail;
		json_push(a, NULL, item);
		skip_ws(r);
		if (!at(r, ',') && !at(r, ']')) {
			expected(r, "',' or ']' in an array");
			goto fail;
		}
		if (*r->p++ == ']')
			return a;
	}
fail:
	json_free(a);
	return NULL;
}

static int cmp_key_pos(const void *a, const void *b)
{
	const struct key_pos *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Sorting keeps this O(n log n) whatever the keys, where a hash table could be attacked. */
static int check_duplicates(struct reader *r, struct key_pos *pos, size_t n)
{
	size_t i, dup = SIZE_MAX;
	const char *key = NULL;

	qsort(pos, n, sizeof(*pos), cmp_key_pos);
	for (i = 1; i < n; i++) {
		if (!strcmp(pos[i - 1].key, pos[i].key) && pos[i].off < dup) {
			dup = pos[i].off;
			key = pos[i].key;
		}
	}
	if (!key)
		return 0;
	r->p = r->start + dup;
	for (i = 0; key[i]; i++)
		if (i == 60 || (unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7e)
			return fail(r, "duplicate object key");
	return fail(r, "duplicate object key \"%s\"", key);
}

/* One "key": value member; the key's position goes to *pos. */
static int parse_member(struct reader *r, struct json *o, struct key_pos *pos)
{
	struct json *item;
	char *key;

	skip_ws(r);
	if (!at(r, '"'))
		return expected(r, "a string as object key");
	pos->off = (size_t)(r->p - r->start);
	if (scan_string(r) < 0)
		return -1;
	if (memchr(r->str.p, 0, r->str.len)) {
		r->p = r->start + pos->off;
		return fail(r, "object key holds \\u0000 (not supported)");
	}
	skip_ws(r);
	if (!at(r, ':'))
		return expected(r, "':' after object key");
	r->p++;
	key = xstrdup(r->str.p);
	if (!(item = parse_value(r))) {
		free(key);
		return -1;
	}
	json_push(o, key, item);
	pos->key = key;
	return 0;
}

static struct json *parse_object(struct reader *r)
{
	struct json *o = json_node_new(JSON_OBJ);
	struct key_pos *pos = NULL;
	size_t n = 0, cap = 0;

	r->p++;
	skip_ws(r);
	if (at(r, '}')) {
		r->p++;
		return o;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			pos = xreallocarray(pos, cap, sizeof(*pos));
		}
		if (parse_member(r, o, &pos[n]) < 0)
			goto fail;
		n++;
		skip_ws(r);
		if (!at(r, ',') && !at(r, '}')) {
			expected(r, "',' or '}' in an object");
			goto fail;
		}
		if (*r->p++ == '}')
			break;
	}
	if (check_duplicates(r, pos, n) < 0)
		goto fail;
	free(pos);
	return o;
fail:
	free(pos);
	json_free(o);
	return NULL;
}

static struct json *parse_value(struct reader *r)
{
	struct json *v;

	skip_ws(r);
	if (r->p >= r->end)
		return expected(r, "a value"), NULL;
	switch (*r->p) {
	case '{':
	case '[':
		if (r->depth >= JSON_MAX_DEPTH)
			return fail(r, "arrays and objects nested deeper than %d", JSON_MAX_DEPTH),
			       NULL;
		r->depth++;
		v = *r->p == '{' ? parse_object(r) : parse_array(r);
		r->depth--;
		return v;
	case '"':
		return string_node(r);
	case 't':
		return literal(r, "true") < 0 ? NULL : json_new_bool(true);
	case 'f':
		return literal(r, "false") < 0 ? NULL : json_new_bool(false);
	case 'n':
		return literal(r, "null") < 0 ? NULL : json_new_null();
	default:
		if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
			return parse_number(r);
		return expected(r, "a value"), NULL;
	}
}

struct json *json_parse_max(const char *text, size_t len, size_t max, struct err *e)
{
	struct reader r = { 0 };
	struct json *v = NULL;

	if (len > max) {
		err_set(e, ERR_LIMIT, 0, "JSON text of %zu bytes is over the limit of %zu", len,
			max);
		return NULL;
	}
	r.p = r.start = (const unsigned char *)(text ? text : "");
	r.end = r.p + len;
	r.e = e;
	buf_init(&r.str);
	if (!(v = parse_value(&r)))
		goto out;
	skip_ws(&r);
	if (r.p != r.end) {
		expected(&r, "the end of the text after the value");
		json_free(v);
		v = NULL;
	}
out:
	buf_release(&r.str);
	return v;
}

struct json *json_parse(const char *text, size_t len, struct err *e)
{
	return json_parse_max(text, len, JSON_MAX_INPUT, e);
}
