/* SPDX-License-Identifier: Apache-2.0 */
/* JSON and YAML writers for the tree of json.h. Output is always valid. */
#include "json.h"
#include "buf.h"
#include "xalloc.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_quote(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	buf_addch(out, '"');
	while (p < end) {
		size_t k;

		switch (*p) {
		case '"':
			buf_adds(out, "\\\"");
			break;
		case '\\':
			buf_adds(out, "\\\\");
			break;
		case '\n':
			buf_adds(out, "\\n");
			break;
		case '\r':
			buf_adds(out, "\\r");
			break;
		case '\t':
			buf_adds(out, "\\t");
			break;
		case '\b':
			buf_adds(out, "\\b");
			break;
		case '\f':
			buf_adds(out, "\\f");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				buf_addf(out, "\\u%04x", *p);
				break;
			}
			k = json_utf8_len(p, end);
			if (!k) {
				buf_adds(out, "\xef\xbf\xbd"); /* U+FFFD */
				break;
			}
			buf_add(out, p, k);
			p += k;
			continue;
		}
		p++;
	}
	buf_addch(out, '"');
}

static void indent(struct buf *out, unsigned flags, int depth)
{
	if (!(flags & JSON_PRETTY))
		return;
	buf_addch(out, '\n');
	for (int i = 0; i < depth; i++)
		buf_adds(out, "  ");
}

static int cmp_idx_keys(const void *a, const void *b, void *ctx)
{
	char **keys = ctx;

	return strcmp(keys[*(const size_t *)a], keys[*(const size_t *)b]);
}

/* Member order: as inserted, or sorted (a small insertion sort keeps it allocation-light). */
static size_t *member_order(const struct json *v, unsigned flags)
{
	size_t *idx = xmalloc((v->len ? v->len : 1) * sizeof(*idx)), i, j;

	for (i = 0; i < v->len; i++)
		idx[i] = i;
	if (!(flags & JSON_SORTED))
		return idx;
	for (i = 1; i < v->len; i++)
		for (j = i; j > 0 && cmp_idx_keys(&idx[j - 1], &idx[j], v->keys) > 0; j--) {
			size_t t = idx[j];

			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	return idx;
}

static void write_num(const struct json *v, struct buf *out)
{
	char tmp[40];

	if (v->type == JSON_INT) {
		buf_addf(out, "%lld", (long long)v->i);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.17g", v->d);
	if (!strpbrk(tmp, ".eE"))
		strcat(tmp, ".0");
	buf_adds(out, tmp);
}

static void write_value(const struct json *v, struct buf *out, unsigned flags, int depth)
{
	size_t i, *idx;

	switch (v->type) {
	case JSON_NULL:
		buf_adds(out, "null");
		return;
	case JSON_BOOL:
		buf_adds(out, v->b ? "true" : "false");
		return;
	case JSON_INT:
	case JSON_DOUBLE:
		write_num(v, out);
		return;
	case JSON_STR:
		json_quote(out, v->s, v->len);
		return;
	case JSON_ARR:
		buf_addch(out, '[');
		for (i = 0; i < v->len; i++) {
			if (i)
				buf_addch(out, ',');
			indent(out, flags, depth + 1);
			write_value(v->vals[i], out, flags, depth + 1);
		}
		if (v->len)
			indent(out, flags, depth);
		buf_addch(out, ']');
		return;
	case JSON_OBJ:
		idx = member_order(v, flags);
		buf_addch(out, '{');
		for (i = 0; i < v->len; i++) {
			if (i)
				buf_addch(out, ',');
			indent(out, flags, depth + 1);
			json_quote(out, v->keys[idx[i]], strlen(v->keys[idx[i]]));
			buf_adds(out, flags & JSON_PRETTY ? ": " : ":");
			write_value(v->vals[idx[i]], out, flags, depth + 1);
		}
		if (v->len)
			indent(out, flags, depth);
		buf_addch(out, '}');
		free(idx);
		return;
	}
}

void json_write(const struct json *v, struct buf *out, unsigned flags)
{
	write_value(v, out, flags, 0);
}

/* ---- YAML ---- */

static bool looks_like_number(const char *s)
{
	char *end;

	if (!*s)
		return false;
	if (!strncasecmp(s, "0x", 2) || !strncasecmp(s, "0o", 2) || !strcasecmp(s, ".inf") ||
	    !strcasecmp(s, "-.inf") || !strcasecmp(s, "+.inf") || !strcasecmp(s, ".nan"))
		return true;
	strtod(s, &end);
	return *end == '\0';
}

static bool needs_quotes(const char *s, size_t n)
{
	static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "null",
					     "~", "y", "n" };
	size_t i;

	if (!n || strlen(s) != n || looks_like_number(s))
		return true;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(s, words[i]))
			return true;
	if (strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]) || s[n - 1] == ' ' || s[n - 1] == ':')
		return true;
	if (strstr(s, ": ") || strstr(s, " #"))
		return true;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
		if (c >= 0x80) {
			size_t k = json_utf8_len((const unsigned char *)s + i,
						 (const unsigned char *)s + n);

			if (!k)
				return true;
			i += k - 1;
		}
	}
	return false;
}

static void yaml_scalar(const struct json *v, struct buf *out)
{
	if (v->type == JSON_STR) {
		if (needs_quotes(v->s, v->len))
			json_quote(out, v->s, v->len); /* a JSON string is a valid YAML double-quoted one */
		else
			buf_add(out, v->s, v->len);
		return;
	}
	if (v->type == JSON_ARR)
		buf_adds(out, "[]");
	else if (v->type == JSON_OBJ)
		buf_adds(out, "{}");
	else
		write_value(v, out, 0, 0);
}

static bool is_block(const struct json *v)
{
	return (v->type == JSON_ARR || v->type == JSON_OBJ) && v->len;
}

static void pad(struct buf *out, int n)
{
	for (int i = 0; i < n; i++)
		buf_addch(out, ' ');
}

/* Writes v at indentation ind; `inline_first` when the caller already wrote "- ". */
static void yaml_value(const struct json *v, struct buf *out, int ind, bool inline_first)
{
	size_t i;

	for (i = 0; i < v->len; i++) {
		if (i || !inline_first)
			pad(out, ind);
		if (v->type == JSON_ARR) {
			buf_adds(out, "- ");
			if (is_block(v->vals[i]))
				yaml_value(v->vals[i], out, ind + 2, true);
			else {
				yaml_scalar(v->vals[i], out);
				buf_addch(out, '\n');
			}
			continue;
		}
		if (needs_quotes(v->keys[i], strlen(v->keys[i])))
			json_quote(out, v->keys[i], strlen(v->keys[i]));
		else
			buf_adds(out, v->keys[i]);
		buf_addch(out, ':');
		if (is_block(v->vals[i])) {
			buf_addch(out, '\n');
			yaml_value(v->vals[i], out, v->vals[i]->type == JSON_ARR ? ind : ind + 2, false);
		} else {
			buf_addch(out, ' ');
			yaml_scalar(v->vals[i], out);
			buf_addch(out, '\n');
		}
	}
}

void yaml_write(const struct json *v, struct buf *out)
{
	if (!is_block(v)) {
		yaml_scalar(v, out);
		buf_addch(out, '\n');
		return;
	}
	yaml_value(v, out, 0, false);
}
