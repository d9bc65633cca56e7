/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http(s) URL and host:port authority parsing; see url.h. Pure string work, no DNS.
 * Used by the CLI for gateway endpoints and by the HTTP parser for CONNECT targets and
 * Host headers.
 */
#include "url.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* What is being parsed, for messages: "invalid URL 'x': ..." */
struct url_ctx {
	const char *kind;
	const char *s;
	size_t n;
};

/* The input for a message: at most 120 bytes, unprintable bytes shown as '?'. */
static void quote_input(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i, max = cap - 4;

	for (i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	if (i < n) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

static int bad(struct err *e, const struct url_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct err *e, const struct url_ctx *c, const char *fmt, ...)
{
	char detail[160], in[124];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	quote_input(in, sizeof(in), c->s, c->n);
	return err_set(e, ERR_INVALID, 0, "invalid %s '%s': %s", c->kind, in, detail);
}

static bool is_host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

static int check_bytes(const struct url_ctx *c, const char *s, size_t n, struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == ' ')
			return bad(e, c, "contains a space");
		if (ch < 0x20 || ch == 0x7f)
			return bad(e, c, "contains a control character");
		if (ch >= 0x80)
			return bad(e, c, "contains a non-ASCII byte (percent-encode it)");
	}
	return 0;
}

static int parse_port(const struct url_ctx *c, const char *s, size_t n, uint16_t *port,
		      struct err *e)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return bad(e, c, "empty port");
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return bad(e, c, "port '%.*s' is not a number", (int)(n > 16 ? 16 : n), s);
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > 65535)
			v = 65536;
	}
	if (v < 1 || v > 65535)
		return bad(e, c, "port must be between 1 and 65535");
	*port = (uint16_t)v;
	return 0;
}

static int parse_ipv6(const struct url_ctx *c, const char *s, size_t n, char *host, struct err *e)
{
	unsigned char addr[16];
	char tmp[64];

	if (n == 0)
		return bad(e, c, "empty host");
	if (n >= sizeof(tmp) || memchr(s, '%', n))
		return bad(e, c, "invalid IPv6 address in brackets");
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET6, tmp, addr) != 1)
		return bad(e, c, "invalid IPv6 address '%s'", tmp);
	for (size_t i = 0; i <= n; i++)
		host[i] = (char)(tmp[i] >= 'A' && tmp[i] <= 'Z' ? tmp[i] + 32 : tmp[i]);
	return 0;
}

static int parse_name(const struct url_ctx *c, const char *s, size_t n, char *host, struct err *e)
{
	size_t i;

	if (n == 0)
		return bad(e, c, "empty host");
	if (n > URL_HOST_MAX)
		return bad(e, c, "host is longer than %d bytes", URL_HOST_MAX);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!is_host_char(ch))
			return bad(e, c, "invalid character '%c' in host", ch);
		host[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	host[n] = '\0';
	return 0;
}

static int parse_authority(const struct url_ctx *c, const char *s, size_t n, bool need_port,
			   char *host, bool *ipv6, uint16_t *port, struct err *e)
{
	const char *colon, *close;
	size_t hn;

	*port = 0;
	*ipv6 = false;
	if (memchr(s, '@', n))
		return bad(e, c, "user information ('user@') is not allowed");
	if (n > 0 && s[0] == '[') {
		close = memchr(s, ']', n);
		if (!close)
			return bad(e, c, "'[' without a closing ']'");
		if (parse_ipv6(c, s + 1, (size_t)(close - s - 1), host, e) < 0)
			return -1;
		*ipv6 = true;
		hn = (size_t)(close - s) + 1;
		if (hn < n && s[hn] != ':')
			return bad(e, c, "unexpected characters after ']'");
		colon = hn < n ? s + hn : NULL;
	} else {
		if (memchr(s, '[', n) || memchr(s, ']', n))
			return bad(e, c, "misplaced bracket (IPv6 addresses go in [brackets])");
		colon = memchr(s, ':', n);
		hn = colon ? (size_t)(colon - s) : n;
		if (colon && memchr(colon + 1, ':', n - hn - 1))
			return bad(e, c, "IPv6 addresses must be in [brackets]");
		if (parse_name(c, s, hn, host, e) < 0)
			return -1;
	}
	if (colon)
		return parse_port(c, colon + 1, n - (size_t)(colon - s) - 1, port, e);
	if (need_port)
		return bad(e, c, "missing port (expected host:port)");
	return 0;
}

int url_parse_authority(const char *s, size_t n, bool need_port, char host[URL_HOST_MAX + 1],
			bool *ipv6, uint16_t *port, struct err *e)
{
	struct url_ctx c = { "authority", s, n };

	if (check_bytes(&c, s, n, e) < 0)
		return -1;
	return parse_authority(&c, s, n, need_port, host, ipv6, port, e);
}

static int parse_scheme(const struct url_ctx *c, struct url *u, size_t *off, struct err *e)
{
	const char *sep = strstr(c->s, "://");
	size_t n, i;

	if (!sep)
		return bad(e, c, "expected http:// or https://");
	n = (size_t)(sep - c->s);
	if (n == 0 || n >= sizeof(u->scheme))
		return bad(e, c, "unsupported scheme (expected http or https)");
	for (i = 0; i < n; i++) {
		char ch = c->s[i];

		u->scheme[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	u->scheme[n] = '\0';
	if (strcmp(u->scheme, "http") != 0 && strcmp(u->scheme, "https") != 0)
		return bad(e, c, "unsupported scheme '%.*s' (expected http or https)", (int)n,
			   c->s);
	*off = n + 3;
	return 0;
}

int url_parse(struct url *u, const char *s, struct err *e)
{
	struct url_ctx c = { "URL", s, strlen(s) };
	const char *auth, *rest;
	size_t off = 0;

	*u = (struct url)URL_INIT;
	if (check_bytes(&c, s, c.n, e) < 0)
		return -1;
	if (strchr(s, '#'))
		return bad(e, &c, "fragments ('#') are not allowed");
	if (parse_scheme(&c, u, &off, e) < 0)
		return -1;
	auth = s + off;
	rest = auth + strcspn(auth, "/?");
	if (parse_authority(&c, auth, (size_t)(rest - auth), false, u->host, &u->ipv6, &u->port,
			    e) < 0)
		return -1;
	u->port_explicit = u->port != 0;
	if (!u->port_explicit)
		u->port = strcmp(u->scheme, "https") == 0 ? 443 : 80;
	if (*rest == '/')
		u->path = xstrdup(rest);
	else
		u->path = xasprintf("/%s", rest);
	return 0;
}

void url_release(struct url *u)
{
	free(u->path);
	u->path = NULL;
}

void url_add_authority(struct buf *b, const char *host, bool ipv6, uint16_t port)
{
	if (ipv6)
		buf_addf(b, "[%s]:%u", host, (unsigned)port);
	else
		buf_addf(b, "%s:%u", host, (unsigned)port);
}

void url_format(struct buf *b, const struct url *u)
{
	buf_addf(b, "%s://", u->scheme);
	if (u->ipv6)
		buf_addf(b, "[%s]", u->host);
	else
		buf_adds(b, u->host);
	if (u->port_explicit)
		buf_addf(b, ":%u", (unsigned)u->port);
	buf_adds(b, u->path ? u->path : "/");
}
