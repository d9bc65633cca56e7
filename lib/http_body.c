/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Body decoder (RFC 9112 §6, §7.1): Content-Length, chunked and read-until-close bodies,
 * yielded as slices of the caller's input without copying. Chunk framing is parsed one
 * byte at a time by an explicit state machine, so any split of the input gives the same
 * result. Extensions are skipped, trailers are checked for syntax and dropped.
 */
#include "http_int.h"
#include "util.h"

#include <string.h>

static bool ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int size_done(struct http_parser *p, struct err *e)
{
	p->line_bytes = 0;
	if (p->chunk == 0) {
		p->state = HS_TR_START;
		return 0;
	}
	if (p->chunk > p->lim.body_max - p->body_seen)
		return http_fail(p, 413, e, "body exceeds the limit of %llu bytes",
				 (unsigned long long)p->lim.body_max);
	p->body_seen += p->chunk;
	p->state = HS_CHUNK_DATA;
	return 0;
}

/* chunk-size [ BWS ";" chunk-ext ] CRLF */
static int size_byte(struct http_parser *p, unsigned char c, struct err *e)
{
	int h = hex_digit(c);

	if (++p->line_bytes > HTTP_CHUNK_LINE_MAX)
		return http_fail(p, 400, e, "chunk size line longer than %d bytes",
				 HTTP_CHUNK_LINE_MAX);
	if (c == '\n' && p->state != HS_CHUNK_LF)
		return http_fail(p, 400, e, "bare LF in a chunk size line");
	switch (p->state) {
	case HS_CHUNK_SIZE0:
		if (h < 0)
			return http_fail(p, 400, e, "invalid chunk size");
		p->chunk = (uint64_t)h;
		p->state = HS_CHUNK_SIZE;
		return 0;
	case HS_CHUNK_SIZE:
		if (h >= 0) {
			if (p->chunk > UINT64_MAX >> 4)
				return http_fail(p, 400, e, "chunk size overflows");
			p->chunk = p->chunk << 4 | (uint64_t)h;
			return 0;
		}
		if (c == ' ' || c == '\t')
			p->state = HS_CHUNK_WS;
		else if (c == ';')
			p->state = HS_CHUNK_EXT;
		else if (c == '\r')
			p->state = HS_CHUNK_LF;
		else
			return http_fail(p, 400, e, "invalid chunk size");
		return 0;
	case HS_CHUNK_WS:
		if (c == ';')
			p->state = HS_CHUNK_EXT;
		else if (c != ' ' && c != '\t')
			return http_fail(p, 400, e, "invalid chunk size line");
		return 0;
	case HS_CHUNK_EXT:
		if (c == '\r')
			p->state = HS_CHUNK_LF;
		else if (ctl(c))
			return http_fail(p, 400, e, "control character in a chunk extension");
		return 0;
	default: /* HS_CHUNK_LF */
		if (c != '\n')
			return http_fail(p, 400, e, "CR without LF in a chunk size line");
		return size_done(p, e);
	}
}

/* trailer-section = *( field-line CRLF ) CRLF, validated byte by byte and dropped */
static int trailer_byte(struct http_parser *p, unsigned char c, struct err *e)
{
	if (++p->line_bytes > p->lim.trailer_max)
		return http_fail(p, 431, e, "trailer section larger than %zu bytes",
				 p->lim.trailer_max);
	switch (p->state) {
	case HS_TR_START:
		if (c == '\r')
			p->state = HS_TR_END_LF;
		else if (http_tchar(c))
			p->state = HS_TR_NAME;
		else if (c == ' ' || c == '\t')
			return http_fail(p, 400, e, "obsolete line folding in the trailer section");
		else
			return http_fail(p, 400, e, "invalid trailer field");
		return 0;
	case HS_TR_NAME:
		if (c == ':')
			p->state = HS_TR_VALUE;
		else if (!http_tchar(c))
			return http_fail(p, 400, e, "invalid trailer field name");
		return 0;
	case HS_TR_VALUE:
		if (c == '\r')
			p->state = HS_TR_LF;
		else if (ctl(c))
			return http_fail(p, 400, e, "control character in a trailer field");
		return 0;
	case HS_TR_LF:
		if (c != '\n')
			return http_fail(p, 400, e, "CR without LF in the trailer section");
		p->state = HS_TR_START;
		return 0;
	default: /* HS_TR_END_LF */
		if (c != '\n')
			return http_fail(p, 400, e,
					 "CR without LF at the end of the trailer section");
		p->state = HS_DONE;
		return 0;
	}
}

static int framing_byte(struct http_parser *p, unsigned char c, struct err *e)
{
	switch (p->state) {
	case HS_CHUNK_CR:
		if (c != '\r')
			return http_fail(p, 400, e, "chunk data not followed by CRLF");
		p->state = HS_CHUNK_DATA_LF;
		return 0;
	case HS_CHUNK_DATA_LF:
		if (c != '\n')
			return http_fail(p, 400, e, "chunk data not followed by CRLF");
		p->state = HS_CHUNK_SIZE0;
		p->line_bytes = 0;
		return 0;
	case HS_CHUNK_SIZE0:
	case HS_CHUNK_SIZE:
	case HS_CHUNK_WS:
	case HS_CHUNK_EXT:
	case HS_CHUNK_LF:
		return size_byte(p, c, e);
	default:
		return trailer_byte(p, c, e);
	}
}

/* How many body bytes the current data state can take from avail; 0 = none allowed. */
static size_t data_take(struct http_parser *p, size_t avail)
{
	uint64_t left = p->state == HS_UNTIL_CLOSE ? p->lim.body_max - p->body_seen : p->chunk;

	return left < avail ? (size_t)left : avail;
}

static void data_taken(struct http_parser *p, size_t n)
{
	if (p->state == HS_UNTIL_CLOSE) {
		p->body_seen += n;
		return;
	}
	p->chunk -= n;
	if (p->state == HS_LENGTH)
		p->body_seen += n;
	if (p->chunk == 0)
		p->state = p->state == HS_LENGTH ? HS_DONE : HS_CHUNK_CR;
}

int http_parse_body(struct http_parser *p, const void *in, size_t len, size_t *used,
		    const char **data, size_t *dlen, struct err *e)
{
	const unsigned char *s = in;
	size_t off = 0, n;

	*used = 0;
	*data = NULL;
	*dlen = 0;
	if (p->state == HS_ERROR)
		return http_fail_again(p, e);
	if (p->state <= HS_FIELDS)
		return err_set(e, ERR_RUNTIME, 0, "HTTP body read before the head was complete");
	while (p->state != HS_DONE) {
		if (off == len)
			return HTTP_NEED_MORE;
		if (p->state == HS_LENGTH || p->state == HS_CHUNK_DATA ||
		    p->state == HS_UNTIL_CLOSE) {
			n = data_take(p, len - off);
			if (n == 0)
				return http_fail(p, 413, e, "body exceeds the limit of %llu bytes",
						 (unsigned long long)p->lim.body_max);
			data_taken(p, n);
			*data = (const char *)s + off;
			*dlen = n;
			*used = off + n;
			return HTTP_BODY;
		}
		if (framing_byte(p, s[off++], e) < 0) {
			*used = off;
			return HTTP_ERROR;
		}
		*used = off;
	}
	return HTTP_DONE;
}

int http_read_body(struct http_parser *p, const void *in, size_t len, size_t *used, struct buf *out,
		   struct err *e)
{
	const char *s = in, *d;
	size_t off = 0, n, dl;
	int r;

	for (;;) {
		r = http_parse_body(p, s + off, len - off, &n, &d, &dl, e);
		off += n;
		if (r != HTTP_BODY)
			break;
		buf_add(out, d, dl);
	}
	*used = off;
	return r;
}

int http_parse_message(struct http_parser *p, const void *in, size_t len, size_t *used,
		       struct buf *body, struct err *e)
{
	const char *s = in;
	size_t off = 0, n;
	int r;

	*used = 0;
	if (!http_parser_head_done(p)) {
		r = http_parse_head(p, s, len, &off, e);
		*used = off;
		if (r != HTTP_DONE)
			return r;
	}
	r = http_read_body(p, s + off, len - off, &n, body, e);
	*used = off + n;
	return r;
}

int http_parse_eof(struct http_parser *p, struct err *e)
{
	switch (p->state) {
	case HS_ERROR:
		return http_fail_again(p, e);
	case HS_DONE:
		return HTTP_DONE;
	case HS_UNTIL_CLOSE:
		p->state = HS_DONE;
		return HTTP_DONE;
	case HS_START:
		/* nothing but (ignorable) empty lines arrived: a clean close */
		if (p->line == p->len)
			return HTTP_NEED_MORE;
		break;
	default:
		break;
	}
	return http_fail(p, 400, e, "connection closed in the middle of a message");
}
