/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for HTTP responses (lib/http). The first byte picks the request
 * method the response answers (GET, HEAD, CONNECT) and the piece size (1..16) for split
 * feeding; the peer closes after the input, so until-close bodies finish. Checks that
 * whole and split feeding agree and that a parsed head survives http_write_head().
 */
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct http_limits lim = { 2048, 32, 1 << 16, 512 };
static const char *const methods[] = { "GET", "HEAD", "CONNECT", NULL };

struct res {
	int r, status;
	size_t used;
	struct buf body, head;
};

static void summarise(struct buf *b, const struct http_msg *m)
{
	size_t i;

	buf_addf(b, "%d %s 1.%d", m->status, m->reason, m->minor);
	for (i = 0; i < m->nfields; i++)
		buf_addf(b, "\n%s: %s", m->fields[i].name, m->fields[i].value);
	buf_addf(b, "\n%d %llu %d %d", (int)m->framing, (unsigned long long)m->content_length,
		 m->keep_alive, m->upgrade);
}

static void run(struct http_parser *p, const char *method, const uint8_t *in, size_t len,
		size_t step, struct res *o)
{
	struct err e = ERR_INIT;
	size_t off = 0, n, chunk;
	int r = HTTP_NEED_MORE;

	http_parser_reset(p);
	http_parser_set_method(p, method);
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
	if (r == HTTP_NEED_MORE)
		r = http_parse_eof(p, &e);
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

static void reparse_head(const char *method, const struct http_msg *m, const char *want)
{
	struct http_limits big = lim;
	struct http_parser q;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT, got = BUF_INIT;
	size_t used;

	big.head_max = lim.head_max * 2 + 16;
	if (http_write_head(&b, m, &e) < 0)
		abort();
	http_parser_init(&q, HTTP_RESPONSE, &big);
	http_parser_set_method(&q, method);
	if (http_parse_head(&q, b.p, b.len, &used, &e) != HTTP_DONE || used != b.len)
		abort();
	summarise(&got, &q.msg);
	if (strcmp(got.p, want) != 0)
		abort();
	http_parser_release(&q);
	buf_release(&b);
	buf_release(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct res whole = { 0 }, split = { 0 };
	struct http_parser p;
	const char *method;
	size_t step;

	if (size == 0)
		return 0;
	step = 1 + data[0] % 16;
	method = methods[(data[0] >> 4) % 4];
	data++;
	size--;
	buf_init(&whole.body);
	buf_init(&whole.head);
	buf_init(&split.body);
	buf_init(&split.head);
	http_parser_init(&p, HTTP_RESPONSE, &lim);
	run(&p, method, data, size, size ? size : 1, &whole);
	if (http_parser_head_done(&p))
		reparse_head(method, &p.msg, whole.head.p);
	run(&p, method, data, size, step, &split);
	same(&whole, &split);
	http_parser_release(&p);
	buf_release(&whole.body);
	buf_release(&whole.head);
	buf_release(&split.body);
	buf_release(&split.head);
	return 0;
}
