/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for HTTP requests (lib/http). Checks, on every input:
 *  - feeding it whole and in pieces of 1..16 bytes (first byte picks) gives the same
 *    result, status, consumed count, body and head;
 *  - a parsed head, written again with http_write_head(), parses to the same head;
 *  - a decoded body, chunk-encoded again, decodes to the same bytes;
 *  - a canonicalised request-target is a fixed point of canonicalisation.
 */
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct http_limits lim = { 2048, 32, 1 << 16, 512 };

struct res {
	int r, status;
	size_t used;
	struct buf body, head;
};

static void summarise(struct buf *b, const struct http_msg *m)
{
	size_t i;

	buf_addf(b, "%s %s %d 1.%d", m->method, m->target, (int)m->form, m->minor);
	for (i = 0; i < m->nfields; i++)
		buf_addf(b, "\n%s: %s", m->fields[i].name, m->fields[i].value);
	buf_addf(b, "\n%d %llu %d %d %d", (int)m->framing, (unsigned long long)m->content_length,
		 m->keep_alive, m->upgrade, m->expect_continue);
}

static void run(struct http_parser *p, const uint8_t *in, size_t len, size_t step, struct res *o)
{
	struct err e = ERR_INIT;
	size_t off = 0, n, chunk;
	int r = HTTP_NEED_MORE;

	http_parser_reset(p);
	for (;;) {
		chunk = len - off < step ? len - off : step;
		if (!http_parser_head_done(p)) {
			r = http_parse_head(p, in + off, chunk, &n, &e);
			off += n;
			if (r == HTTP_ERROR || (r == HTTP_NEED_MORE && off == len))
				break;
			continue;
		}
		r = http_read_body(p, in + off, chunk, &n, &o->body, &e);
		off += n;
		if (r != HTTP_NEED_MORE || off == len)
			break;
	}
	o->r = r;
	o->status = http_parser_status(p);
	o->used = r == HTTP_ERROR ? 0 : off;
	if (http_parser_head_done(p))
		summarise(&o->head, &p->msg);
}

static void same(const struct res *a, const struct res *b)
{
	if (a->r != b->r || a->status != b->status || a->used != b->used ||
	    a->body.len != b->body.len || memcmp(a->body.p, b->body.p, a->body.len) != 0 ||
	    strcmp(a->head.p, b->head.p) != 0)
		abort();
}

static void reparse_head(const struct http_msg *m, const char *want)
{
	struct http_limits big = lim;
	struct http_parser q;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT, got = BUF_INIT;
	size_t used;

	/* writing normalises "a:b" to "a: b", so allow for the growth */
	big.head_max = lim.head_max * 2 + 16;
	if (http_write_head(&b, m, &e) < 0)
		abort();
	http_parser_init(&q, HTTP_REQUEST, &big);
	if (http_parse_head(&q, b.p, b.len, &used, &e) != HTTP_DONE || used != b.len)
		abort();
	summarise(&got, &q.msg);
	if (strcmp(got.p, want) != 0)
		abort();
	http_parser_release(&q);
	buf_release(&b);
	buf_release(&got);
}

static void rechunk_body(const struct buf *body)
{
	struct http_parser q;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT, got = BUF_INIT;
	size_t used, off;

	buf_adds(&b, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (off = 0; off < body->len; off += 100)
		http_write_chunk(&b, body->p + off, body->len - off < 100 ? body->len - off : 100);
	http_write_last_chunk(&b);
	http_parser_init(&q, HTTP_REQUEST, &lim);
	if (http_parse_message(&q, b.p, b.len, &used, &got, &e) != HTTP_DONE || used != b.len ||
	    got.len != body->len || memcmp(got.p, body->p, got.len) != 0)
		abort();
	http_parser_release(&q);
	buf_release(&b);
	buf_release(&got);
}

static void canon_fixed_point(const char *target)
{
	struct http_canon c = HTTP_CANON_INIT, d = HTTP_CANON_INIT;
	struct err e = ERR_INIT;

	if (http_target_canon(&c, target, HTTP_CANON_ENCODED_SLASH, &e) == 0) {
		if (c.path.p[0] != '/' || strstr(c.path.p, "/../") || strstr(c.path.p, "/./"))
			abort();
		/* the limit is on the raw path; re-encoding may triple it (as the reference) */
		if (c.path.len <= HTTP_CANON_PATH_MAX &&
		    (http_target_canon(&d, c.path.p, HTTP_CANON_ENCODED_SLASH, &e) != 0 ||
		     strcmp(d.path.p, c.path.p) != 0 || d.rewritten))
			abort();
	}
	http_canon_release(&c);
	http_canon_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct res whole = { 0 }, split = { 0 };
	struct http_parser p;
	size_t step;

	if (size == 0)
		return 0;
	step = 1 + data[0] % 16;
	data++;
	size--;
	buf_init(&whole.body);
	buf_init(&whole.head);
	buf_init(&split.body);
	buf_init(&split.head);
	http_parser_init(&p, HTTP_REQUEST, &lim);
	run(&p, data, size, size ? size : 1, &whole);
	if (http_parser_head_done(&p)) {
		reparse_head(&p.msg, whole.head.p);
		canon_fixed_point(p.msg.target);
	}
	if (whole.r == HTTP_DONE)
		rechunk_body(&whole.body);
	run(&p, data, size, step, &split);
	same(&whole, &split);
	http_parser_release(&p);
	buf_release(&whole.body);
	buf_release(&whole.head);
	buf_release(&split.body);
	buf_release(&split.head);
	return 0;
}
