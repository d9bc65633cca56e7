/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML emitter for the JSON tree (see yamlout.h). It uses only json.h's public lookups. The
 * quoting rules aim at both YAML 1.1 readers (PyYAML, libyaml users: yes/no/on/off, 1_000,
 * 1:20 and timestamps are typed there) and YAML 1.2 core ones; quoting too much is harmless,
 * too little changes the value the user sees.
 */
#include "yamlout.h"
#include "buf.h"
#include "json.h"

#include <string.h>
#include <strings.h>

/* Longest rendered key written as an implicit "key: value"; readers stop at 1024 characters. */
#define YAML_MAX_IMPLICIT_KEY 1000

static unsigned decode(const unsigned char *p, size_t k)
{
	static const unsigned char lead_mask[5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned cp = p[0] & lead_mask[k];

	for (size_t i = 1; i < k; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

/* Code points a YAML reader rejects as unprintable or takes as a line break. */
static bool unprintable(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

static void escape_ascii(struct buf *out, unsigned char c)
{
	static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
	const char *k = c ? strchr(from, c) : NULL;

	if (k)
		buf_addf(out, "\\%c", to[k - from]);
	else
		buf_addf(out, "\\u%04x", c);
}

/* Double-quoted YAML, with JSON's escapes (valid in YAML) plus \uXXXX for more code points. */
static void yaml_quote(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t k;
	unsigned cp;

	buf_addch(out, '"');
	for (; p < end; p += k ? k : 1) {
		k = json_utf8_len(p, end);
		cp = k ? decode(p, k) : 0xfffd;
		if (cp == '"' || cp == '\\' || cp < 0x20)
			escape_ascii(out, (unsigned char)cp);
		else if (unprintable(cp))
			buf_addf(out, "\\u%04x", cp);
		else if (k)
			buf_add(out, p, k);
		else
			buf_adds(out, "\xef\xbf\xbd"); /* U+FFFD */
	}
	buf_addch(out, '"');
}

static bool in_set(const char *s, const char *set)
{
	return s[strspn(s, set)] == '\0';
}

/* Numbers and timestamps in YAML 1.1 or 1.2, loosely: a false positive only adds quotes. */
static bool numberish(const char *s)
{
	const char *p = s + (*s == '-' || *s == '+');
	bool digit0 = p[0] >= '0' && p[0] <= '9';

	if (!strcasecmp(p, ".inf") || !strcasecmp(p, ".nan"))
		return true;
	if (!digit0 && !(p[0] == '.' && ((p[1] >= '0' && p[1] <= '9') || p[1] == '_')))
		return false;
	if (in_set(p, "0123456789abcdefABCDEF_.:+-xXoO"))
		return true;
	/* 2001-12-14, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10 -5 */
	return s == p && strspn(s, "0123456789") == 4 && s[4] == '-';
}

static bool reserved(const char *s)
{
	static const char *const words[] = { "true", "false", "yes",  "no", "on", "off",
					     "y",    "n",     "null", "~",  "=",  "<<" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(s, words[i]))
			return true;
	return false;
}

static bool has_unprintable(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t k;

	for (; p < end; p += k) {
		k = json_utf8_len(p, end);
		if (!k || unprintable(decode(p, k)))
			return true;
	}
	return false;
}

bool yaml_needs_quotes(const char *s, size_t n)
{
	/* after this check s is a C string of n bytes without control characters */
	if (!n || has_unprintable(s, n))
		return true;
	if (strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]) || s[n - 1] == ' ' || s[n - 1] == ':')
		return true;
	if (strstr(s, ": ") || strstr(s, " #") || !strncmp(s, "...", 3))
		return true;
	return reserved(s) || numberish(s);
}

static void scalar_string(struct buf *out, const char *s, size_t n)
{
	if (yaml_needs_quotes(s, n))
		yaml_quote(out, s, n);
	else
		buf_add(out, s, n);
}

static void yaml_double(const struct json *v, struct buf *out)
{
	struct buf t = BUF_INIT;
	const char *e;

	json_write(v, &t, 0);
	e = strchr(t.p, 'e');
	if (e && !memchr(t.p, '.', (size_t)(e - t.p))) {
		/* YAML 1.1 floats need a '.': 1e+16 would read as a string */
		buf_add(out, t.p, (size_t)(e - t.p));
		buf_adds(out, ".0");
		buf_adds(out, e);
	} else {
		buf_add(out, t.p, t.len);
	}
	buf_release(&t);
}

/* Non-container values and empty containers, in flow form. */
static void scalar(const struct json *v, struct buf *out)
{
	switch (json_type(v)) {
	case JSON_STR:
		scalar_string(out, json_str(v), json_str_len(v));
		return;
	case JSON_ARR:
		buf_adds(out, "[]");
		return;
	case JSON_OBJ:
		buf_adds(out, "{}");
		return;
	case JSON_DOUBLE:
		yaml_double(v, out);
		return;
	default:
		json_write(v, out, 0);
		return;
	}
}

static bool is_block(const struct json *v)
{
	return json_len(v) > 0;
}

static void pad(struct buf *out, int n)
{
	for (int i = 0; i < n; i++)
		buf_addch(out, ' ');
}

static void block(const struct json *v, struct buf *out, int ind, bool inline_first);

/* After "- " or "? x\n: ": a block value continues inline, a scalar ends the line. */
static void item(const struct json *v, struct buf *out, int ind)
{
	if (is_block(v)) {
		block(v, out, ind + 2, true);
		return;
	}
	scalar(v, out);
	buf_addch(out, '\n');
}

static void member(const struct json *obj, size_t i, struct buf *out, int ind, struct buf *key)
{
	const struct json *v = json_at(obj, i);
	const char *k = json_key_at(obj, i);

	buf_reset(key);
	scalar_string(key, k, strlen(k));
	if (key->len > YAML_MAX_IMPLICIT_KEY) {
		buf_adds(out, "? ");
		buf_add(out, key->p, key->len);
		buf_addch(out, '\n');
		pad(out, ind);
		buf_adds(out, ": ");
		item(v, out, ind);
		return;
	}
	buf_add(out, key->p, key->len);
	buf_addch(out, ':');
	if (!is_block(v)) {
		buf_addch(out, ' ');
		scalar(v, out);
		buf_addch(out, '\n');
		return;
	}
	buf_addch(out, '\n');
	/* sequences stay at the key's column, as libyaml writes them */
	block(v, out, json_is_arr(v) ? ind : ind + 2, false);
}

/* A non-empty container at column ind; inline_first when "- " or ": " is already written. */
static void block(const struct json *v, struct buf *out, int ind, bool inline_first)
{
	struct buf key = BUF_INIT;
	size_t i;

	for (i = 0; i < json_len(v); i++) {
		if (i || !inline_first)
			pad(out, ind);
		if (json_is_arr(v)) {
			buf_adds(out, "- ");
			item(json_at(v, i), out, ind);
		} else {
			member(v, i, out, ind, &key);
		}
	}
	buf_release(&key);
}

void yaml_write(const struct json *v, struct buf *out)
{
	if (is_block(v)) {
		block(v, out, 0, false);
		return;
	}
	scalar(v, out);
	buf_addch(out, '\n');
}
