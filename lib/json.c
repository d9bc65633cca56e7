/* SPDX-License-Identifier: Apache-2.0 */
/* JSON tree, strict reader, builders and lookups; see json.h. Writers: json_write.c. */
#include "json.h"
#include "buf.h"
#include "err.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct reader {
	const char *p, *start, *end;
	int depth;
	struct err *e;
};

static struct json *new_value(enum json_type t)
{
	struct json *v = xcalloc(1, sizeof(*v));

	v->type = t;
	return v;
}

void json_free(struct json *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; (v->type == JSON_ARR || v->type == JSON_OBJ) && i < v->len; i++) {
		json_free(v->vals[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->vals);
	free(v->keys);
	free(v->s);
	free(v);
}

static int fail(struct reader *r, const char *what)
{
	int line = 1, col = 1;
	const char *q;

	for (q = r->start; q < r->p && q < r->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	if (r->p >= r->end)
		return err_set(r->e, ERR_INVALID, 0, "invalid JSON at line %d, column %d: %s "
				  "(the text ended)", line, col, what);
	return err_set(r->e, ERR_INVALID, 0, "invalid JSON at line %d, column %d: %s", line, col,
		       what);
}

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hex4(struct reader *r, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++, r->p++) {
		char c = r->p < r->end ? *r->p : 0;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return fail(r, "expected four hex digits after \\u");
	}
	*out = v;
	return 0;
}

static void put_utf8(struct buf *b, unsigned cp)
{
	char u[4];

	if (cp < 0x80) {
		buf_addch(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 4);
	}
}

static int escape(struct reader *r, struct buf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;
	unsigned cp, lo;

	if (r->p >= r->end)
		return fail(r, "unterminated escape");
	k = *r->p ? strchr(from, *r->p) : NULL;
	if (k) {
		buf_addch(b, to[k - from]);
		r->p++;
		return 0;
	}
	if (*r->p != 'u')
		return fail(r, "invalid escape");
	r->p++;
	if (hex4(r, &cp) < 0)
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(r, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
			return fail(r, "lone high surrogate");
		r->p += 2;
		if (hex4(r, &lo) < 0)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(r, "high surrogate not followed by a low surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	put_utf8(b, cp);
	return 0;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

size_t json_utf8_len(const unsigned char *p, const unsigned char *end)
{
	return utf8_len(p, end);
}

static int string(struct reader *r, struct buf *b)
{
	r->p++; /* the opening quote */
	for (;;) {
		unsigned char c;
		size_t n;

		if (r->p >= r->end)
			return fail(r, "unterminated string");
		c = (unsigned char)*r->p;
		if (c == '"') {
			r->p++;
			return 0;
		}
		if (c < 0x20)
			return fail(r, "control character in a string");
		if (c == '\\') {
			r->p++;
			if (escape(r, b) < 0)
				return -1;
			continue;
		}
		n = utf8_len((const unsigned char *)r->p, (const unsigned char *)r->end);
		if (!n)
			return fail(r, "invalid UTF-8 in a string");
		buf_add(b, r->p, n);
		r->p += n;
	}
}

static struct json *value(struct reader *r);

static struct json *number(struct reader *r)
{
	const char *s = r->p;
	bool is_float = false;
	char tmp[64];
	struct json *v;

	if (*r->p == '-')
		r->p++;
	if (r->p >= r->end || !(*r->p >= '0' && *r->p <= '9'))
		return fail(r, "expected a digit"), NULL;
	if (*r->p == '0' && r->p + 1 < r->end && r->p[1] >= '0' && r->p[1] <= '9')
		return fail(r, "leading zero in a number"), NULL;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	if (r->p < r->end && *r->p == '.') {
		is_float = true;
		r->p++;
		if (r->p >= r->end || !(*r->p >= '0' && *r->p <= '9'))
			return fail(r, "expected a digit after '.'"), NULL;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		is_float = true;
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || !(*r->p >= '0' && *r->p <= '9'))
			return fail(r, "expected a digit in the exponent"), NULL;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if ((size_t)(r->p - s) >= sizeof(tmp))
		return fail(r, "number too long"), NULL;
	memcpy(tmp, s, (size_t)(r->p - s));
	tmp[r->p - s] = '\0';
	errno = 0;
	if (is_float) {
		v = new_value(JSON_DOUBLE);
		v->d = strtod(tmp, NULL);
		if (!isfinite(v->d)) {
			json_free(v);
			return fail(r, "number out of range"), NULL;
		}
		return v;
	}
	v = new_value(JSON_INT);
	v->i = strtoll(tmp, NULL, 10);
	if (errno == ERANGE) {
		json_free(v);
		r->p = s;
		return fail(r, "integer out of the 64-bit range"), NULL;
	}
	return v;
}

static int literal(struct reader *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return fail(r, "expected a value");
	r->p += n;
	return 0;
}

static struct json *array(struct reader *r)
{
	struct json *a = new_value(JSON_ARR), *item;

	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return a;
	}
	for (;;) {
		if (!(item = value(r)))
			goto fail;
		json_arr_add(a, item);
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return a;
		}
		fail(r, "expected ',' or ']' in an array");
		goto fail;
	}
fail:
	json_free(a);
	return NULL;
}

static struct json *object(struct reader *r)
{
	struct json *o = new_value(JSON_OBJ), *item;
	struct buf key = BUF_INIT;

	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return o;
	}
	for (;;) {
		skip_ws(r);
		if (r->p >= r->end || *r->p != '"') {
			fail(r, "expected a string as object key");
			goto fail;
		}
		buf_reset(&key);
		if (string(r, &key) < 0)
			goto fail;
		if (memchr(key.p, 0, key.len) || json_get(o, key.p)) {
			fail(r, memchr(key.p, 0, key.len) ? "NUL in an object key" : "duplicate object key");
			goto fail;
		}
		skip_ws(r);
		if (r->p >= r->end || *r->p != ':') {
			fail(r, "expected ':' after object key");
			goto fail;
		}
		r->p++;
		if (!(item = value(r)))
			goto fail;
		json_obj_add(o, key.p, item);
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			buf_release(&key);
			return o;
		}
		fail(r, "expected ',' or '}' in an object");
		goto fail;
	}
fail:
	buf_release(&key);
	json_free(o);
	return NULL;
}

static struct json *value(struct reader *r)
{
	struct json *v = NULL;
	struct buf s = BUF_INIT;

	skip_ws(r);
	if (r->p >= r->end)
		return fail(r, "expected a value"), NULL;
	if (++r->depth > JSON_MAX_DEPTH)
		return fail(r, "nested too deeply"), NULL;
	switch (*r->p) {
	case '{':
		v = object(r);
		break;
	case '[':
		v = array(r);
		break;
	case '"':
		if (string(r, &s) == 0)
			v = json_new_strn(s.p, s.len);
		buf_release(&s);
		break;
	case 't':
	case 'f': {
		bool t = *r->p == 't';

		if (literal(r, t ? "true" : "false") == 0)
			v = json_new_bool(t);
		break;
	}
	case 'n':
		if (literal(r, "null") == 0)
			v = json_new_null();
		break;
	default:
		if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
			v = number(r);
		else
			fail(r, "expected a value");
	}
	r->depth--;
	return v;
}

struct json *json_parse(const char *text, size_t len, struct err *e)
{
	struct reader r = { text, text, text + len, 0, e };
	struct json *v = value(&r);

	if (!v)
		return NULL;
	skip_ws(&r);
	if (r.p != r.end) {
		fail(&r, "unexpected text after the value");
		json_free(v);
		return NULL;
	}
	return v;
}

/* ---- builders ---- */

struct json *json_new_null(void)
{
	return new_value(JSON_NULL);
}

struct json *json_new_bool(bool b)
{
	struct json *v = new_value(JSON_BOOL);

	v->b = b;
	return v;
}

struct json *json_new_i64(int64_t i)
{
	struct json *v = new_value(JSON_INT);

	v->i = i;
	return v;
}

struct json *json_new_double(double d)
{
	struct json *v = new_value(JSON_DOUBLE);

	v->d = isfinite(d) ? d : 0;
	return v;
}

struct json *json_new_strn(const char *s, size_t n)
{
	struct json *v = new_value(JSON_STR);

	v->s = xmalloc(n + 1);
	memcpy(v->s, s, n);
	v->s[n] = '\0';
	v->len = n;
	return v;
}

struct json *json_new_str(const char *s)
{
	return json_new_strn(s, strlen(s));
}

struct json *json_new_arr(void)
{
	return new_value(JSON_ARR);
}

struct json *json_new_obj(void)
{
	return new_value(JSON_OBJ);
}

static void grow(struct json *v)
{
	if (v->len < v->cap)
		return;
	v->cap = v->cap ? v->cap * 2 : 8;
	v->vals = xreallocarray(v->vals, v->cap, sizeof(*v->vals));
	if (v->type == JSON_OBJ)
		v->keys = xreallocarray(v->keys, v->cap, sizeof(*v->keys));
}

void json_arr_add(struct json *arr, struct json *child)
{
	grow(arr);
	arr->vals[arr->len++] = child;
}

void json_obj_add(struct json *obj, const char *key, struct json *child)
{
	size_t i;

	for (i = 0; i < obj->len; i++)
		if (!strcmp(obj->keys[i], key)) {
			json_free(obj->vals[i]);
			obj->vals[i] = child;
			return;
		}
	grow(obj);
	obj->keys[obj->len] = xstrdup(key);
	obj->vals[obj->len++] = child;
}

void json_obj_add_str(struct json *obj, const char *key, const char *s)
{
	json_obj_add(obj, key, json_new_str(s));
}

void json_obj_add_i64(struct json *obj, const char *key, int64_t i)
{
	json_obj_add(obj, key, json_new_i64(i));
}

void json_obj_add_bool(struct json *obj, const char *key, bool b)
{
	json_obj_add(obj, key, json_new_bool(b));
}

/* ---- lookups ---- */

const struct json *json_get(const struct json *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJ)
		return NULL;
	for (i = 0; i < obj->len; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->vals[i];
	return NULL;
}

bool json_is_null(const struct json *v)
{
	return v && v->type == JSON_NULL;
}

bool json_is_bool(const struct json *v)
{
	return v && v->type == JSON_BOOL;
}

bool json_is_num(const struct json *v)
{
	return v && (v->type == JSON_INT || v->type == JSON_DOUBLE);
}

bool json_is_str(const struct json *v)
{
	return v && v->type == JSON_STR;
}

bool json_is_arr(const struct json *v)
{
	return v && v->type == JSON_ARR;
}

bool json_is_obj(const struct json *v)
{
	return v && v->type == JSON_OBJ;
}

bool json_bool(const struct json *v)
{
	return v && v->type == JSON_BOOL && v->b;
}

const char *json_str(const struct json *v)
{
	return v && v->type == JSON_STR ? v->s : "";
}

size_t json_str_len(const struct json *v)
{
	return v && v->type == JSON_STR ? v->len : 0;
}

const char *json_get_str(const struct json *obj, const char *key, const char *def)
{
	const struct json *v = json_get(obj, key);

	return json_is_str(v) ? v->s : def;
}

int json_get_i64(const struct json *obj, const char *key, int64_t *out)
{
	const struct json *v = json_get(obj, key);

	if (v && v->type == JSON_INT) {
		*out = v->i;
		return 0;
	}
	if (v && v->type == JSON_DOUBLE && v->d == floor(v->d) && fabs(v->d) < 9e15) {
		*out = (int64_t)v->d;
		return 0;
	}
	return -1;
}

size_t json_len(const struct json *v)
{
	return v && (v->type == JSON_ARR || v->type == JSON_OBJ) ? v->len : 0;
}

const struct json *json_at(const struct json *arr, size_t i)
{
	return i < json_len(arr) ? arr->vals[i] : NULL;
}

const char *json_key_at(const struct json *obj, size_t i)
{
	return obj && obj->type == JSON_OBJ && i < obj->len ? obj->keys[i] : NULL;
}
