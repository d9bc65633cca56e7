/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a complete head means: body framing (RFC 9112 §6), persistence (§9.3), Host
 * (§3.2), plus the header lookups. Request framing is strict, because a proxy and its
 * upstream must never disagree on where a request ends (request smuggling).
 */
#include "http_int.h"
#include "url.h"

#include <string.h>

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* ASCII case-insensitive: s[0..n) equals the NUL-terminated lower-case word? */
static bool word_eq(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!word[i] || lower(s[i]) != lower(word[i]))
			return false;
	return word[n] == '\0';
}

/* Next element of a comma-separated list (RFC 9110 §5.6.1), OWS trimmed; false at end. */
static bool list_next(const char **pos, const char **el, size_t *n)
{
	const char *s = *pos, *end;

	if (!s)
		return false;
	end = strchr(s, ',');
	*pos = end ? end + 1 : NULL;
	if (!end)
		end = s + strlen(s);
	while (s < end && ows(*s))
		s++;
	while (end > s && ows(end[-1]))
		end--;
	*el = s;
	*n = (size_t)(end - s);
	return true;
}

const char *http_header_next(const struct http_msg *m, const char *name, size_t *it)
{
	while (*it < m->nfields) {
		const struct http_field *f = &m->fields[(*it)++];

		if (word_eq(f->name, strlen(f->name), name))
			return f->value;
	}
	return NULL;
}

const char *http_header_get(const struct http_msg *m, const char *name)
{
	size_t it = 0;

	return http_header_next(m, name, &it);
}

size_t http_header_count(const struct http_msg *m, const char *name)
{
	size_t it = 0, n = 0;

	while (http_header_next(m, name, &it))
		n++;
	return n;
}

bool http_header_has_token(const struct http_msg *m, const char *name, const char *token)
{
	const char *v, *el;
	size_t it = 0, n;

	while ((v = http_header_next(m, name, &it)))
		while (list_next(&v, &el, &n))
			if (word_eq(el, n, token))
				return true;
	return false;
}

/* Content-Length (RFC 9110 §8.6): digits only; a list or repeats must all agree. */
static int content_length(struct http_parser *p, bool *have, struct err *e)
{
	const char *v, *el;
	size_t it = 0, n, i;
	uint64_t x;

	*have = false;
	while ((v = http_header_next(&p->msg, "content-length", &it))) {
		while (list_next(&v, &el, &n)) {
			if (n == 0)
				return http_fail(p, 400, e, "empty Content-Length");
			for (x = 0, i = 0; i < n; i++) {
				if (el[i] < '0' || el[i] > '9')
					return http_fail(p, 400, e,
							 "Content-Length is not a number");
				if (x > (UINT64_MAX - 9) / 10)
					return http_fail(p, 400, e, "Content-Length is too large");
				x = x * 10 + (uint64_t)(el[i] - '0');
			}
			if (*have && x != p->msg.content_length)
				return http_fail(p, 400, e, "conflicting Content-Length values");
			*have = true;
			p->msg.content_length = x;
		}
	}
	return 0;
}

struct codings {
	bool have, last_chunked;
	unsigned n, chunked;
};

static int transfer_codings(struct http_parser *p, struct codings *c, struct err *e)
{
	const char *v, *el;
	size_t it = 0, n;

	memset(c, 0, sizeof(*c));
	while ((v = http_header_next(&p->msg, "transfer-encoding", &it))) {
		c->have = true;
		while (list_next(&v, &el, &n)) {
			if (n == 0)
				return http_fail(p, 400, e, "empty Transfer-Encoding element");
			c->n++;
			c->last_chunked = word_eq(el, n, "chunked");
			c->chunked += c->last_chunked;
		}
	}
	return 0;
}

/* Connection options (RFC 9110 §7.6.1); naming a framing header is an attack, not an option. */
static int connection(struct http_parser *p, bool *close, bool *keep, bool *upgrade, struct err *e)
{
	static const char *const forbidden[] = { "host", "content-length", "transfer-encoding" };
	const char *v, *el;
	size_t it = 0, n, i;

	*close = *keep = *upgrade = false;
	while ((v = http_header_next(&p->msg, "connection", &it))) {
		while (list_next(&v, &el, &n)) {
			for (i = 0; i < n; i++)
				if (!http_tchar((unsigned char)el[i]))
					return http_fail(p, 400, e, "invalid Connection header");
			for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
				if (word_eq(el, n, forbidden[i]))
					return http_fail(p, 400, e, "Connection header names '%s'",
							 forbidden[i]);
			*close |= word_eq(el, n, "close");
			*keep |= word_eq(el, n, "keep-alive");
			*upgrade |= word_eq(el, n, "upgrade");
		}
	}
	return 0;
}

/* RFC 9112 §3.2: exactly one valid Host in HTTP/1.1, at most one in HTTP/1.0. */
static int check_host(struct http_parser *p, struct err *e)
{
	size_t count = http_header_count(&p->msg, "host");
	const char *v = http_header_get(&p->msg, "host");
	char host[URL_HOST_MAX + 1];
	uint16_t port;
	bool v6;

	if (count > 1)
		return http_fail(p, 400, e, "more than one Host header");
	if (count == 0 && p->msg.minor == 1)
		return http_fail(p, 400, e, "HTTP/1.1 request without a Host header");
	if (v && *v && url_parse_authority(v, strlen(v), false, host, &v6, &port, e) < 0)
		return http_fail_wrap(p, 400, e, "invalid Host header");
	return 0;
}

static int body_limit(struct http_parser *p, struct err *e)
{
	if (p->msg.framing == HTTP_BODY_LENGTH && p->msg.content_length > p->lim.body_max)
		return http_fail(p, 413, e, "body of %llu bytes exceeds the limit of %llu bytes",
				 (unsigned long long)p->msg.content_length,
				 (unsigned long long)p->lim.body_max);
	return 0;
}

/* RFC 9112 §6.1 and §6.3 for requests: ambiguity is an error, never a guess. */
static int request_framing(struct http_parser *p, const struct codings *c, bool have_cl,
			   struct err *e)
{
	if (c->have && p->msg.minor == 0)
		return http_fail(p, 400, e, "Transfer-Encoding in an HTTP/1.0 request");
	if (c->have && have_cl)
		return http_fail(p, 400, e, "both Transfer-Encoding and Content-Length");
	if (c->have) {
		if (!c->last_chunked)
			return http_fail(p, 400, e, "chunked is not the final transfer coding");
		if (c->chunked > 1)
			return http_fail(p, 400, e, "chunked applied more than once");
		if (c->n > 1)
			return http_fail(p, 501, e, "unsupported transfer coding (only chunked)");
		p->msg.framing = HTTP_BODY_CHUNKED;
	} else {
		p->msg.framing = have_cl ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	}
	return 0;
}

/* RFC 9112 §6.3 for responses, in its order. */
static int response_framing(struct http_parser *p, const struct codings *c, bool have_cl,
			    struct err *e)
{
	int s = p->msg.status;

	if (p->head_req || s < 200 || s == 204 || s == 304 ||
	    (p->connect_req && s >= 200 && s < 300)) {
		p->msg.framing = HTTP_BODY_NONE;
		return 0;
	}
	if (c->have) {
		if (c->chunked > 1)
			return http_fail(p, 400, e, "chunked applied more than once");
		/* TE overrides CL; such a connection must not be reused */
		if (have_cl)
			p->msg.keep_alive = false;
		if (c->last_chunked && p->msg.minor == 1)
			p->msg.framing = HTTP_BODY_CHUNKED;
		else
			p->msg.framing = HTTP_BODY_UNTIL_CLOSE;
	} else {
		p->msg.framing = have_cl ? HTTP_BODY_LENGTH : HTTP_BODY_UNTIL_CLOSE;
	}
	if (p->msg.framing == HTTP_BODY_UNTIL_CLOSE)
		p->msg.keep_alive = false;
	return 0;
}

static void set_state(struct http_parser *p)
{
	switch (p->msg.framing) {
	case HTTP_BODY_NONE:
		p->state = HS_DONE;
		break;
	case HTTP_BODY_LENGTH:
		p->chunk = p->msg.content_length;
		p->state = p->chunk ? HS_LENGTH : HS_DONE;
		break;
	case HTTP_BODY_CHUNKED:
		p->state = HS_CHUNK_SIZE0;
		break;
	case HTTP_BODY_UNTIL_CLOSE:
		p->state = HS_UNTIL_CLOSE;
		break;
	}
}

int http_end_head(struct http_parser *p, struct err *e)
{
	bool have_cl, close, keep, upgrade;
	struct codings c;
	int r;

	p->msg.fields = p->fields;
	if (connection(p, &close, &keep, &upgrade, e) < 0 || content_length(p, &have_cl, e) < 0 ||
	    transfer_codings(p, &c, e) < 0)
		return -1;
	p->msg.keep_alive = !close && (p->msg.minor == 1 || keep);
	if (p->kind == HTTP_REQUEST) {
		if (check_host(p, e) < 0)
			return -1;
		r = request_framing(p, &c, have_cl, e);
		p->msg.upgrade = upgrade && http_header_get(&p->msg, "upgrade");
		p->msg.expect_continue = http_header_has_token(&p->msg, "expect", "100-continue");
	} else {
		r = response_framing(p, &c, have_cl, e);
		p->msg.upgrade = p->msg.status == 101 ||
				 (p->connect_req && p->msg.status >= 200 && p->msg.status < 300);
	}
	if (r < 0 || body_limit(p, e) < 0)
		return -1;
	p->msg.head_len = p->len;
	set_state(p);
	return 0;
}
