/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request-target canonicalisation for the proxy's L7 rules (reference/policy.md §4.8.2,
 * supervisor.md §4.8): one canonical path that is both what the policy sees and what goes
 * on the wire, so that "..", "%2e%2e", "//" and ";params" cannot make the policy and the
 * upstream disagree about the resource. Order of checks follows the reference.
 */
#include "http_int.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Stands for a decoded %2F inside a segment; raw 0x01 is rejected as a control byte. */
#define SLASH_SENTINEL 0x01

static int fail(struct http_canon *c, enum http_canon_error why, struct err *e, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

static int fail(struct http_canon *c, enum http_canon_error why, struct err *e, const char *fmt,
		...)
{
	char detail[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	c->why = why;
	return err_set(e, ERR_INVALID, 0, "invalid request-target: %s", detail);
}

/* RFC 3986 pchar minus pct-encoded: unreserved, sub-delims, ':' and '@' go out literally. */
static bool literal(unsigned char b)
{
	if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9'))
		return true;
	return b && strchr("-._~!$&'()*+,;=:@", b) != NULL;
}

static int scan_raw(struct http_canon *c, const char *t, struct err *e)
{
	const unsigned char *s = (const unsigned char *)t;

	for (; *s; s++) {
		if (*s < 0x20 || *s == 0x7f)
			return fail(c, HTTP_CANON_CONTROL, e, "contains a control byte");
		if (*s >= 0x80)
			return fail(c, HTTP_CANON_NON_ASCII, e,
				    "contains raw non-ASCII bytes (percent-encode them)");
	}
	if (strchr(t, '#'))
		return fail(c, HTTP_CANON_FRAGMENT, e, "contains a fragment ('#')");
	return 0;
}

/* The raw path: origin-form as is, absolute-form without scheme and authority. */
static const char *raw_path(const char *t, size_t n, size_t *plen)
{
	const char *s = t, *end = t + n, *p;

	if (n == 0 || t[0] == '/') {
		*plen = n;
		return t;
	}
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		goto as_is;
	while (s < end && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			   (*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == '.'))
		s++;
	if (end - s < 4 || memcmp(s, "://", 3) != 0)
		goto as_is;
	p = memchr(s + 3, '/', (size_t)(end - s - 3));
	*plen = p ? (size_t)(end - p) : 0;
	return p ? p : "";
as_is:
	*plen = n;
	return t;
}

static int decode(struct http_canon *c, const char *s, size_t n, unsigned flags, struct buf *out,
		  struct err *e)
{
	size_t i;
	int hi, lo, b;

	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			buf_addch(out, s[i]);
			continue;
		}
		hi = i + 2 < n ? hex_digit((unsigned char)s[i + 1]) : -1;
		lo = i + 2 < n ? hex_digit((unsigned char)s[i + 2]) : -1;
		if (hi < 0 || lo < 0)
			return fail(c, HTTP_CANON_BAD_ESCAPE, e, "invalid percent-encoding");
		b = hi << 4 | lo;
		if (b == '/') {
			if (!(flags & HTTP_CANON_ENCODED_SLASH))
				return fail(c, HTTP_CANON_ENCODED_SLASH_DENIED, e,
					    "encoded '/' (%%2F) is not allowed on this endpoint");
			b = SLASH_SENTINEL;
		} else if (b < 0x20 || b == 0x7f) {
			return fail(c, HTTP_CANON_CONTROL, e, "contains an encoded control byte");
		}
		buf_addch(out, (char)b);
		i += 2;
	}
	return 0;
}

/*
 * RFC 3986 §5.2.4 over the decoded path, which is kept as "/seg/seg...": ".." truncates
 * at the last '/', a trailing "." or ".." leaves a trailing '/', empty segments collapse
 * except the last (a trailing slash). ";params" go first, so "..;x" is a "..".
 */
static int resolve(struct http_canon *c, const char *d, size_t n, unsigned flags, struct buf *st,
		   struct err *e)
{
	const char *seg = d + 1, *end = d + n, *slash, *semi;
	size_t len;
	bool last;

	for (;;) {
		slash = memchr(seg, '/', (size_t)(end - seg));
		last = !slash;
		len = (size_t)((slash ? slash : end) - seg);
		semi = flags & HTTP_CANON_KEEP_PARAMS ? NULL : memchr(seg, ';', len);
		if (semi)
			len = (size_t)(semi - seg);
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			char *cut = memrchr(st->p, '/', st->len);

			if (!cut)
				return fail(c, HTTP_CANON_ABOVE_ROOT, e,
					    "'..' climbs above the root");
			buf_setlen(st, (size_t)(cut - st->p));
			if (last)
				buf_addch(st, '/');
		} else if (len == 1 && seg[0] == '.') {
			if (last)
				buf_addch(st, '/');
		} else if (len > 0 || last) {
			buf_addch(st, '/');
			buf_add(st, seg, len);
		}
		if (last)
			return 0;
		seg = slash + 1;
	}
}

static bool dot_part(const char *s, size_t n)
{
	return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* A dot-segment hidden behind an allowed %2F survives resolve(); refuse it. */
static int residual_dots(struct http_canon *c, const char *s, size_t n, struct err *e)
{
	size_t i, start = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '/' && s[i] != SLASH_SENTINEL)
			continue;
		if (dot_part(s + start, i - start))
			return fail(c, HTTP_CANON_RESIDUAL_DOT, e,
				    "a '.' or '..' segment is left after resolution");
		start = i + 1;
	}
	return 0;
}

static void encode(struct buf *out, const char *s, size_t n)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t i;

	if (n == 0)
		buf_addch(out, '/');
	for (i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if (b == '/' || literal(b)) {
			buf_addch(out, (char)b);
		} else if (b == SLASH_SENTINEL) {
			buf_add(out, "%2F", 3);
		} else {
			buf_addch(out, '%');
			buf_addch(out, hexd[b >> 4]);
			buf_addch(out, hexd[b & 15]);
		}
	}
}

int http_target_canon(struct http_canon *c, const char *target, unsigned flags, struct err *e)
{
	struct buf dec = BUF_INIT, st = BUF_INIT;
	const char *q, *path;
	size_t n, plen;
	int ret = -1;

	buf_reset(&c->path);
	c->query = NULL;
	c->rewritten = false;
	c->why = HTTP_CANON_OK;
	if (scan_raw(c, target, e) < 0)
		goto out;
	q = strchr(target, '?');
	n = q ? (size_t)(q - target) : strlen(target);
	c->query = q ? q + 1 : NULL;
	path = raw_path(target, n, &plen);
	if (plen == 0)
		path = "/", plen = 1;
	if (path[0] != '/') {
		fail(c, HTTP_CANON_MALFORMED, e, "not an origin-form path (must start with '/')");
		goto out;
	}
	if (plen > HTTP_CANON_PATH_MAX) {
		fail(c, HTTP_CANON_TOO_LONG, e, "path longer than %d bytes", HTTP_CANON_PATH_MAX);
		goto out;
	}
	if (decode(c, path, plen, flags, &dec, e) < 0 ||
	    resolve(c, dec.p, dec.len, flags, &st, e) < 0 || residual_dots(c, st.p, st.len, e) < 0)
		goto out;
	encode(&c->path, st.p, st.len);
	c->rewritten = c->path.len != plen || memcmp(c->path.p, path, plen) != 0;
	ret = 0;
out:
	if (ret < 0)
		c->query = NULL;
	buf_release(&dec);
	buf_release(&st);
	return ret;
}

void http_canon_release(struct http_canon *c)
{
	buf_release(&c->path);
}
