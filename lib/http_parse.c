/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incremental HTTP/1.1 head parser (RFC 9112 §2-§5); see http.h. Bytes are copied into
 * a buffer of lim.head_max bytes allocated once; each complete line is validated and cut
 * into NUL-terminated strings in place, so the parsed message needs no further memory.
 * Framing decisions live in http_framing.c, the body decoder in http_body.c.
 */
#include "http_int.h"
#include "util.h"
#include "url.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct http_limits gateway_limits = HTTP_LIMITS_GATEWAY;

void http_parser_init(struct http_parser *p, enum http_kind kind, const struct http_limits *lim)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->lim = lim ? *lim : gateway_limits;
	p->head = xmalloc(p->lim.head_max + 1);
	p->fields =
		xreallocarray(NULL, p->lim.fields_max ? p->lim.fields_max : 1, sizeof(*p->fields));
	http_parser_reset(p);
}

void http_parser_release(struct http_parser *p)
{
	free(p->head);
	free(p->fields);
	p->head = NULL;
	p->fields = NULL;
}

void http_parser_reset(struct http_parser *p)
{
	memset(&p->msg, 0, sizeof(p->msg));
	p->msg.fields = p->fields;
	p->msg.reason = "";
	p->len = 0;
	p->line = 0;
	p->state = HS_START;
	p->status = 0;
	p->head_req = false;
	p->connect_req = false;
	p->chunk = 0;
	p->body_seen = 0;
	p->line_bytes = 0;
	p->reason[0] = '\0';
}

void http_parser_set_method(struct http_parser *p, const char *method)
{
	p->head_req = method && strcmp(method, "HEAD") == 0;
	p->connect_req = method && strcmp(method, "CONNECT") == 0;
}

bool http_parser_head_done(const struct http_parser *p)
{
	return p->msg.head_len != 0;
}

int http_parser_status(const struct http_parser *p)
{
	return p->state == HS_ERROR ? p->status : 0;
}

static int status_code(int status)
{
	return status == 413 || status == 414 || status == 431 ? ERR_LIMIT : ERR_INVALID;
}

int http_fail(struct http_parser *p, int status, struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
	p->state = HS_ERROR;
	p->status = status;
	return err_set(e, status_code(status), 0, "%s", p->reason);
}

int http_fail_wrap(struct http_parser *p, int status, struct err *e, const char *context)
{
	err_wrap(e, "%s", context);
	snprintf(p->reason, sizeof(p->reason), "%s", e->msg);
	p->state = HS_ERROR;
	p->status = status;
	e->code = status_code(status);
	return -1;
}

int http_fail_again(struct http_parser *p, struct err *e)
{
	return err_set(e, status_code(p->status), 0, "%s", p->reason);
}

bool http_tchar(unsigned char c)
{
	/* RFC 9110 §5.6.2 tchar */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool http_is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!http_tchar((unsigned char)*s))
			return false;
	return true;
}

/*
 * No control bytes anywhere in the head except HTAB (RFC 9110 §5.5); request heads must
 * also be UTF-8 (reference/supervisor.md §4.1). Responses may carry obs-text.
 */
static int check_line(struct http_parser *p, const char *l, size_t n, struct err *e)
{
	const unsigned char *s = (const unsigned char *)l;
	size_t i = 0, k;

	while (i < n) {
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return http_fail(p, 400, e, "control character 0x%02x in the message head",
					 s[i]);
		k = p->kind == HTTP_REQUEST ? utf8_seq_len(s + i, n - i) : 1;
		if (k == 0)
			return http_fail(p, 400, e, "invalid UTF-8 in the request head");
		i += k;
	}
	return 0;
}

/* "HTTP/1.0" or "HTTP/1.1" → minor; other well-formed versions → 505 (RFC 9112 §2.3). */
static int parse_version(struct http_parser *p, const char *v, size_t n, struct err *e)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		return http_fail(p, 400, e, "malformed HTTP version '%.*s'", (int)(n > 16 ? 16 : n),
				 v);
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return http_fail(p, 505, e, "unsupported HTTP version '%.8s'", v);
	p->msg.minor = v[7] - '0';
	return 0;
}

static bool is_absolute_form(const char *t)
{
	const char *s = t;

	/* RFC 3986 §3.1 scheme, then an authority */
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
	       *s == '+' || *s == '-' || *s == '.')
		s++;
	return strncmp(s, "://", 3) == 0 && s[3] && s[3] != '/';
}

/* RFC 9112 §3.2: which form the target has, and whether the method allows it. */
static int classify_target(struct http_parser *p, const char *method, const char *target,
			   struct err *e)
{
	char host[URL_HOST_MAX + 1];
	uint16_t port;
	bool v6;

	if (strcmp(method, "CONNECT") == 0) {
		if (url_parse_authority(target, strlen(target), true, host, &v6, &port, e) < 0)
			return http_fail_wrap(p, 400, e, "CONNECT needs host:port");
		p->msg.form = HTTP_FORM_AUTHORITY;
	} else if (strcmp(target, "*") == 0) {
		if (strcmp(method, "OPTIONS") != 0)
			return http_fail(p, 400, e,
					 "request-target '*' is only allowed for OPTIONS");
		p->msg.form = HTTP_FORM_ASTERISK;
	} else if (target[0] == '/') {
		p->msg.form = HTTP_FORM_ORIGIN;
	} else if (is_absolute_form(target)) {
		p->msg.form = HTTP_FORM_ABSOLUTE;
	} else {
		return http_fail(p, 400, e, "invalid request-target (expected /path, a URL, or *)");
	}
	return 0;
}

/* request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single spaces. */
static int request_line(struct http_parser *p, char *l, struct err *e)
{
	char *sp1 = strchr(l, ' '), *sp2, *t;

	if (!sp1)
		return http_fail(p, 400, e, "malformed request line");
	*sp1 = '\0';
	if (!http_is_token(l))
		return http_fail(p, 400, e, "invalid method in the request line");
	t = sp1 + 1;
	sp2 = strchr(t, ' ');
	if (!sp2 || sp2 == t)
		return http_fail(p, 400, e, "malformed request line");
	*sp2 = '\0';
	for (const char *c = t; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return http_fail(p, 400, e, "invalid byte in the request-target");
	if (parse_version(p, sp2 + 1, strlen(sp2 + 1), e) < 0)
		return -1;
	p->msg.method = l;
	p->msg.target = t;
	return classify_target(p, l, t, e);
}

/* status-line = HTTP-version SP 3DIGIT SP [reason]; the last SP may be missing. */
static int status_line(struct http_parser *p, char *l, size_t n, struct err *e)
{
	if (n < 12 || l[8] != ' ')
		return http_fail(p, 400, e, "malformed status line");
	if (parse_version(p, l, 8, e) < 0)
		return -1;
	if (l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9')
		return http_fail(p, 400, e, "invalid status code in the status line");
	if (l[12] != '\0' && l[12] != ' ')
		return http_fail(p, 400, e, "malformed status line");
	p->msg.status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	p->msg.reason = l[12] ? l + 13 : "";
	return 0;
}

/* field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). */
static int field_line(struct http_parser *p, char *l, size_t n, struct err *e)
{
	char *v, *end = l + n;
	size_t i = 0;

	if (l[0] == ' ' || l[0] == '\t')
		return http_fail(p, 400, e, "obsolete line folding is not allowed");
	while (http_tchar((unsigned char)l[i]))
		i++;
	if (l[i] == ' ' || l[i] == '\t')
		return http_fail(p, 400, e, "whitespace between a field name and the colon");
	if (l[i] == '\0')
		return http_fail(p, 400, e, "header line without a colon");
	if (l[i] != ':')
		return http_fail(p, 400, e, "invalid character in a field name");
	if (i == 0)
		return http_fail(p, 400, e, "empty field name");
	if (p->msg.nfields >= p->lim.fields_max)
		return http_fail(p, 431, e, "more than %zu header fields", p->lim.fields_max);
	l[i] = '\0';
	v = l + i + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	p->fields[p->msg.nfields].name = l;
	p->fields[p->msg.nfields].value = v;
	p->msg.nfields++;
	return 0;
}

/* A line ending in LF is complete in p->head[p->line..p->len). */
static int end_line(struct http_parser *p, struct err *e)
{
	char *l = p->head + p->line;
	size_t n = p->len - p->line;

	if (n < 2 || l[n - 2] != '\r')
		return http_fail(p, 400, e, "bare LF in the message head (CRLF required)");
	n -= 2;
	l[n] = '\0';
	p->line = p->len;
	if (check_line(p, l, n, e) < 0)
		return -1;
	if (p->state == HS_START) {
		/* RFC 9112 §2.2: ignore empty lines before the start line */
		if (n == 0)
			return 0;
		p->state = HS_FIELDS;
		if (p->kind == HTTP_REQUEST)
			return request_line(p, l, e);
		return status_line(p, l, n, e);
	}
	if (n == 0)
		return http_end_head(p, e);
	return field_line(p, l, n, e);
}

static int head_too_big(struct http_parser *p, struct err *e)
{
	if (p->state == HS_START && p->kind == HTTP_REQUEST)
		return http_fail(p, 414, e, "request line longer than %zu bytes", p->lim.head_max);
	return http_fail(p, 431, e, "header block larger than %zu bytes", p->lim.head_max);
}

int http_parse_head(struct http_parser *p, const void *in, size_t len, size_t *used, struct err *e)
{
	const char *s = in;
	size_t off = 0;

	*used = 0;
	if (p->state == HS_ERROR)
		return http_fail_again(p, e);
	if (p->state > HS_FIELDS)
		return HTTP_DONE;
	while (off < len) {
		const char *nl = memchr(s + off, '\n', len - off);
		size_t take = nl ? (size_t)(nl - (s + off)) + 1 : len - off;

		if (take > p->lim.head_max - p->len) {
			*used = off;
			return head_too_big(p, e);
		}
		memcpy(p->head + p->len, s + off, take);
		p->len += take;
		off += take;
		*used = off;
		if (!nl)
			break;
		if (end_line(p, e) < 0)
			return HTTP_ERROR;
		if (p->state > HS_FIELDS)
			return HTTP_DONE;
	}
	return HTTP_NEED_MORE;
}
