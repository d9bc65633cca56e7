/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 serialisation into a struct buf: start lines, header fields, chunked
 * encoding, reason phrases. Every writer that takes caller text validates it first, so a
 * value carrying CR/LF (a resolved credential, a client-controlled string) can never
 * split a message; on error nothing is appended.
 */
#include "http_int.h"

#include <stdio.h>
#include <string.h>

struct reason {
	int status;
	const char *text;
};

/* RFC 9110 §15 (plus 429 and 431 from RFC 6585) */
static const struct reason reasons[] = {
	{ 100, "Continue" },
	{ 101, "Switching Protocols" },
	{ 200, "OK" },
	{ 201, "Created" },
	{ 202, "Accepted" },
	{ 203, "Non-Authoritative Information" },
	{ 204, "No Content" },
	{ 205, "Reset Content" },
	{ 206, "Partial Content" },
	{ 300, "Multiple Choices" },
	{ 301, "Moved Permanently" },
	{ 302, "Found" },
	{ 303, "See Other" },
	{ 304, "Not Modified" },
	{ 307, "Temporary Redirect" },
	{ 308, "Permanent Redirect" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 402, "Payment Required" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" },
	{ 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" },
	{ 409, "Conflict" },
	{ 410, "Gone" },
	{ 411, "Length Required" },
	{ 412, "Precondition Failed" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 416, "Range Not Satisfiable" },
	{ 417, "Expectation Failed" },
	{ 421, "Misdirected Request" },
	{ 422, "Unprocessable Content" },
	{ 426, "Upgrade Required" },
	{ 428, "Precondition Required" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
};

const char *http_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Unknown";
}

/* field-value / reason-phrase: HTAB, SP, VCHAR, obs-text; no CR, LF, NUL (RFC 9110 §5.5) */
static bool text_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static bool target_ok(const char *t)
{
	if (!*t)
		return false;
	for (; *t; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return false;
	return true;
}

static int request_line(struct buf *b, const char *method, const char *target, int minor,
			struct err *e)
{
	if (!http_is_token(method))
		return err_set(e, ERR_INVALID, 0, "invalid HTTP method");
	if (!target_ok(target))
		return err_set(e, ERR_INVALID, 0, "invalid request-target");
	buf_addf(b, "%s %s HTTP/1.%d\r\n", method, target, minor);
	return 0;
}

static int status_line(struct buf *b, int status, const char *reason, int minor, struct err *e)
{
	/* what our own parser (and RFC 9110 §15) accepts */
	if (status < 100 || status > 599)
		return err_set(e, ERR_INVALID, 0, "invalid HTTP status %d", status);
	if (!reason)
		reason = http_reason(status);
	if (!text_ok(reason))
		return err_set(e, ERR_INVALID, 0, "invalid reason phrase for status %d", status);
	buf_addf(b, "HTTP/1.%d %d %s\r\n", minor, status, reason);
	return 0;
}

int http_write_request_line(struct buf *b, const char *method, const char *target, struct err *e)
{
	return request_line(b, method, target, 1, e);
}

int http_write_status_line(struct buf *b, int status, const char *reason, struct err *e)
{
	return status_line(b, status, reason, 1, e);
}

int http_write_header(struct buf *b, const char *name, const char *value, struct err *e)
{
	if (!http_is_token(name))
		return err_set(e, ERR_INVALID, 0, "invalid header field name");
	if (!text_ok(value))
		return err_set(e, ERR_INVALID, 0, "control character in the value of header '%s'",
			       name);
	buf_adds(b, name);
	buf_add(b, ": ", 2);
	buf_adds(b, value);
	buf_add(b, "\r\n", 2);
	return 0;
}

void http_write_end(struct buf *b)
{
	buf_add(b, "\r\n", 2);
}

int http_write_head(struct buf *b, const struct http_msg *m, struct err *e)
{
	size_t start = b->len, i;
	int r;

	if (m->method)
		r = request_line(b, m->method, m->target, m->minor, e);
	else
		r = status_line(b, m->status, m->reason, m->minor, e);
	for (i = 0; r == 0 && i < m->nfields; i++)
		r = http_write_header(b, m->fields[i].name, m->fields[i].value, e);
	if (r < 0) {
		buf_setlen(b, start);
		return -1;
	}
	http_write_end(b);
	return 0;
}

void http_write_chunk(struct buf *b, const void *data, size_t n)
{
	if (n == 0)
		return;
	buf_addf(b, "%zx\r\n", n);
	buf_add(b, data, n);
	buf_add(b, "\r\n", 2);
}

void http_write_last_chunk(struct buf *b)
{
	buf_add(b, "0\r\n\r\n", 5);
}
