/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/http: parser, body decoder, writers, request-target canonicalisation. Every parse
 * case goes through check_split(), which feeds the input whole, one byte at a time and
 * in 7-byte pieces and requires the same result, status, consumed count, body and head.
 */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/http.h"

#include <stdlib.h>

struct outcome {
	int r, status;
	size_t used;
	struct buf body;
	struct buf head; /* a summary of the parsed head */
	char msg[512];
};

struct tcase {
	enum http_kind kind;
	const struct http_limits *lim;
	const char *method; /* responses: the request's method */
	const char *in;
	size_t len;
	bool eof; /* the peer closes after the input */
};

static const struct http_limits proxy_limits = HTTP_LIMITS_PROXY;

static void summarise(struct buf *b, const struct http_msg *m)
{
	size_t i;

	if (m->method)
		buf_addf(b, "%s %s form=%d", m->method, m->target, (int)m->form);
	else
		buf_addf(b, "%d '%s'", m->status, m->reason);
	buf_addf(b, " 1.%d", m->minor);
	for (i = 0; i < m->nfields; i++)
		buf_addf(b, " | %s: %s", m->fields[i].name, m->fields[i].value);
	buf_addf(b, " | framing=%d cl=%llu ka=%d up=%d", (int)m->framing,
		 (unsigned long long)m->content_length, m->keep_alive, m->upgrade);
}

static void run(struct outcome *o, const struct tcase *tc, size_t step)
{
	struct err e = ERR_INIT;
	struct http_parser p;
	size_t off = 0, n, chunk;
	int r;

	http_parser_init(&p, tc->kind, tc->lim);
	http_parser_set_method(&p, tc->method);
	for (;;) {
		chunk = tc->len - off < step ? tc->len - off : step;
		if (!http_parser_head_done(&p)) {
			r = http_parse_head(&p, tc->in + off, chunk, &n, &e);
			off += n;
			if (r == HTTP_ERROR || (r == HTTP_NEED_MORE && off == tc->len))
				break;
			continue;
		}
		r = http_read_body(&p, tc->in + off, chunk, &n, &o->body, &e);
		off += n;
		if (r != HTTP_NEED_MORE || off == tc->len)
			break;
	}
	if (tc->eof && r == HTTP_NEED_MORE)
		r = http_parse_eof(&p, &e);
	o->r = r;
	o->status = http_parser_status(&p);
	o->used = off;
	snprintf(o->msg, sizeof(o->msg), "%s", r == HTTP_ERROR ? e.msg : "");
	if (http_parser_head_done(&p))
		summarise(&o->head, &p.msg);
	http_parser_release(&p);
}

static void outcome_release(struct outcome *o)
{
	buf_release(&o->body);
	buf_release(&o->head);
}

/* Parses whole into *o and checks that split feeding agrees. */
static void check_split(struct outcome *o, const struct tcase *tc, const char *file, int line)
{
	static const size_t steps[] = { 1, 7 };
	size_t i;

	memset(o, 0, sizeof(*o));
	buf_init(&o->body);
	buf_init(&o->head);
	run(o, tc, tc->len ? tc->len : 1);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct outcome s;

		memset(&s, 0, sizeof(s));
		buf_init(&s.body);
		buf_init(&s.head);
		run(&s, tc, steps[i]);
		/* *used is only meaningful when the parser did not fail */
		if (s.r != o->r || s.status != o->status ||
		    (o->r != HTTP_ERROR && s.used != o->used) || s.body.len != o->body.len ||
		    memcmp(s.body.p, o->body.p, s.body.len) != 0 ||
		    strcmp(s.head.p, o->head.p) != 0 || strcmp(s.msg, o->msg) != 0)
			unit_fail(
				file, line,
				"step %zu differs: r %d/%d status %d/%d used %zu/%zu msg '%s'/'%s'",
				steps[i], s.r, o->r, s.status, o->status, s.used, o->used, s.msg,
				o->msg);
		outcome_release(&s);
	}
}

static void expect_at(const char *file, int line, enum http_kind kind,
		      const struct http_limits *lim, const char *method, const char *in, size_t len,
		      bool eof, int r, int status, const char *body)
{
	struct tcase tc = { kind, lim, method, in, len, eof };
	struct outcome o;

	check_split(&o, &tc, file, line);
	if (o.r != r || o.status != status)
		unit_fail(file, line, "got r=%d status=%d ('%s'), expected r=%d status=%d", o.r,
			  o.status, o.msg, r, status);
	if (body && strcmp(o.body.p, body) != 0)
		unit_fail(file, line, "body '%s', expected '%s'", o.body.p, body);
	outcome_release(&o);
}

/* Byte-exact literals (sizeof, so embedded NULs count). */
#define REQ(in, r, status)                                                                    \
	expect_at(__FILE__, __LINE__, HTTP_REQUEST, NULL, NULL, in, sizeof(in) - 1, false, r, \
		  status, NULL)
#define REQ_BODY(in, body)                                                                 \
	expect_at(__FILE__, __LINE__, HTTP_REQUEST, NULL, NULL, in, sizeof(in) - 1, false, \
		  HTTP_DONE, 0, body)
#define RESP(method, in, eof, r, status, body)                                                 \
	expect_at(__FILE__, __LINE__, HTTP_RESPONSE, NULL, method, in, sizeof(in) - 1, eof, r, \
		  status, body)
#define BAD(in, status) REQ(in, HTTP_ERROR, status)

/* The head summary of a request that must parse. */
static void head_is_at(const char *file, int line, enum http_kind kind, const char *method,
		       const char *in, size_t len, const char *want)
{
	struct tcase tc = { kind, NULL, method, in, len, false };
	struct outcome o;

	check_split(&o, &tc, file, line);
	if (strcmp(o.head.p, want) != 0)
		unit_fail(file, line, "head '%s' (%s), expected '%s'", o.head.p, o.msg, want);
	outcome_release(&o);
}

#define HEAD_IS(in, want) \
	head_is_at(__FILE__, __LINE__, HTTP_REQUEST, NULL, in, sizeof(in) - 1, want)
#define RESP_HEAD_IS(method, in, want) \
	head_is_at(__FILE__, __LINE__, HTTP_RESPONSE, method, in, sizeof(in) - 1, want)

TEST(http_request_simple)
{
	HEAD_IS("GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
		"GET /a?b=1 form=0 1.1 | Host: example.com | framing=0 cl=0 ka=1 up=0");
	HEAD_IS("GET / HTTP/1.0\r\n\r\n", "GET / form=0 1.0 | framing=0 cl=0 ka=0 up=0");
	HEAD_IS("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
		"GET / form=0 1.0 | Connection: Keep-Alive | framing=0 cl=0 ka=1 up=0");
	HEAD_IS("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n",
		"GET / form=0 1.1 | Host: a | Connection: keep-alive, close | framing=0 cl=0 ka=0 "
		"up=0");
	/* RFC 9112 §2.2: empty lines before the request line are ignored */
	HEAD_IS("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / form=0 1.1 | Host: a | framing=0 cl=0 ka=1 up=0");
	/* OWS around values is not part of them; inner whitespace is */
	HEAD_IS("GET / HTTP/1.1\r\nHost:a\r\nX-A: \t a  b \t\r\nX-Empty:\r\n\r\n",
		"GET / form=0 1.1 | Host: a | X-A: a  b | X-Empty:  | framing=0 cl=0 ka=1 up=0");
	HEAD_IS("GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: "
		"websocket\r\n\r\n",
		"GET /chat form=0 1.1 | Host: a | Connection: Upgrade | Upgrade: websocket | "
		"framing=0 cl=0 ka=1 up=1");
}

TEST(http_request_consumes_only_its_own_bytes)
{
	static const char two[] =
		"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char body[] = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET";
	struct tcase tc = { HTTP_REQUEST, NULL, NULL, two, sizeof(two) - 1, false };
	struct outcome o;

	check_split(&o, &tc, __FILE__, __LINE__);
	CHECK_INT(o.r, HTTP_DONE);
	CHECK_INT(o.used, strlen("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"));
	outcome_release(&o);
	tc.in = body;
	tc.len = sizeof(body) - 1;
	check_split(&o, &tc, __FILE__, __LINE__);
	CHECK_INT(o.r, HTTP_DONE);
	CHECK_INT(o.used, sizeof(body) - 1 - 3);
	CHECK_STR(o.body.p, "abc");
	outcome_release(&o);
}

TEST(http_request_bodies)
{
	REQ_BODY("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", "hello");
	REQ_BODY("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", "");
	REQ_BODY("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length:  7 \r\n\r\nabcdefg", "abcdefg");
	REQ_BODY("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
		 "ab");
	REQ_BODY("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nab", "ab");
	REQ_BODY("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "5\r\nhello\r\n6;name=\"v\"\r\n world\r\nA \t;x\r\n0123456789\r\n"
		 "0\r\nX-Trailer: yes\r\nY: \r\n\r\n",
		 "hello world0123456789");
	REQ_BODY("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
		 "000000000000000000000003\r\nabc\r\n0\r\n\r\n",
		 "abc");
	/* a 1 MiB body is within the gateway's limit: the head is accepted, the body awaited */
	REQ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n", HTTP_NEED_MORE, 0);
	BAD("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n", 413);
}

TEST(http_request_body_incomplete)
{
	REQ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel", HTTP_NEED_MORE, 0);
	REQ("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
	    HTTP_NEED_MORE, 0);
	REQ("GET / HTTP/1.1\r\nHost: a\r\n", HTTP_NEED_MORE, 0);
	expect_at(__FILE__, __LINE__, HTTP_REQUEST, NULL, NULL, "GET / HTTP/1.1\r\n", 16, true,
		  HTTP_ERROR, 400, NULL);
	expect_at(__FILE__, __LINE__, HTTP_REQUEST, NULL, NULL, "", 0, true, HTTP_NEED_MORE, 0,
		  NULL);
	expect_at(__FILE__, __LINE__, HTTP_REQUEST, NULL, NULL, "\r\n", 2, true, HTTP_NEED_MORE, 0,
		  NULL);
	expect_at(__FILE__, __LINE__, HTTP_REQUEST, NULL, NULL, "\r\nG", 3, true, HTTP_ERROR, 400,
		  NULL);
}

/* reference/supervisor.md §11 item 9 and RFC 9112 §6.3, §11.2 */
TEST(http_request_smuggling)
{
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	    400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
	    400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n",
	    501);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n",
	    400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n", 400);
	BAD("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400);
	BAD("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nConnection: content-length\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nConnection: close, Transfer-Encoding\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nConnection: HOST\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tfolded\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);
}

TEST(http_request_line_endings)
{
	BAD("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\n\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\rHost: a\r\n\r\n", 400);
	BAD("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

TEST(http_request_fields)
{
	BAD("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX\t: 1\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nX: \xed\xa0\x80\r\n\r\n", 400);
	HEAD_IS("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n",
		"GET / form=0 1.1 | Host: a | X: caf\xc3\xa9 | framing=0 cl=0 ka=1 up=0");
}

TEST(http_request_host)
{
	BAD("GET / HTTP/1.1\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: a:0\r\n\r\n", 400);
	BAD("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400);
	BAD("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400);
	HEAD_IS("GET / HTTP/1.1\r\nHost:\r\n\r\n",
		"GET / form=0 1.1 | Host:  | framing=0 cl=0 ka=1 up=0");
	HEAD_IS("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
		"GET / form=0 1.1 | Host: [::1]:8080 | framing=0 cl=0 ka=1 up=0");
}

TEST(http_request_line)
{
	BAD("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
	BAD("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505);
	BAD("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505);
	BAD("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
	BAD("GET / HTTP/11\r\nHost: a\r\n\r\n", 400);
	BAD("GET /\r\nHost: a\r\n\r\n", 400);
	BAD("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

TEST(http_request_target_forms)
{
	HEAD_IS("CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n",
		"CONNECT api.example.com:443 form=2 1.1 | Host: api.example.com:443 | "
		"framing=0 cl=0 ka=1 up=0");
	HEAD_IS("CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n",
		"CONNECT [2001:db8::1]:443 form=2 1.1 | Host: [2001:db8::1]:443 | "
		"framing=0 cl=0 ka=1 up=0");
	HEAD_IS("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"OPTIONS * form=3 1.1 | Host: a | framing=0 cl=0 ka=1 up=0");
	HEAD_IS("GET http://a:8080/x?y HTTP/1.1\r\nHost: a:8080\r\n\r\n",
		"GET http://a:8080/x?y form=1 1.1 | Host: a:8080 | framing=0 cl=0 ka=1 up=0");
	BAD("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("CONNECT a:99999 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("CONNECT http://a:443/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	BAD("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void fill(struct buf *b, char c, size_t n)
{
	while (n--)
		buf_addch(b, c);
}

/* reference/supervisor.md §4.1: at most 8192 bytes through the empty line */
TEST(http_head_limits)
{
	const char *pre = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
	struct buf b = BUF_INIT;
	struct outcome o;
	struct tcase tc = { HTTP_REQUEST, &proxy_limits, NULL, NULL, 0, false };

	buf_adds(&b, pre);
	fill(&b, 'v', HTTP_HEAD_MAX_PROXY - strlen(pre) - 4);
	buf_adds(&b, "\r\n\r\n");
	CHECK_INT(b.len, 8192);
	tc.in = b.p;
	tc.len = b.len;
	check_split(&o, &tc, __FILE__, __LINE__);
	CHECK_INT(o.r, HTTP_DONE);
	CHECK_INT(o.used, 8192);
	outcome_release(&o);

	buf_reset(&b);
	buf_adds(&b, pre);
	fill(&b, 'v', HTTP_HEAD_MAX_PROXY - strlen(pre) - 3);
	buf_adds(&b, "\r\n\r\n");
	tc.in = b.p;
	tc.len = b.len;
	check_split(&o, &tc, __FILE__, __LINE__);
	CHECK_INT(o.r, HTTP_ERROR);
	CHECK_INT(o.status, 431);
	outcome_release(&o);

	/* a request line that does not end within the limit: 414 */
	buf_reset(&b);
	buf_adds(&b, "GET /");
	fill(&b, 'a', HTTP_HEAD_MAX_PROXY);
	buf_adds(&b, " HTTP/1.1\r\nHost: a\r\n\r\n");
	tc.in = b.p;
	tc.len = b.len;
	check_split(&o, &tc, __FILE__, __LINE__);
	CHECK_INT(o.status, 414);
	CHECK_STR(o.msg, "request line longer than 8192 bytes");
	outcome_release(&o);

	/* the gateway allows 16 KiB */
	tc.lim = NULL;
	check_split(&o, &tc, __FILE__, __LINE__);
	CHECK_INT(o.r, HTTP_DONE);
	outcome_release(&o);
	buf_release(&b);
}

TEST(http_field_count_limit)
{
	struct http_limits lim = { 1024, 3, 100, 64 };
	static const char ok[] = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
	static const char over[] = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";

	expect_at(__FILE__, __LINE__, HTTP_REQUEST, &lim, NULL, ok, sizeof(ok) - 1, false,
		  HTTP_DONE, 0, NULL);
	expect_at(__FILE__, __LINE__, HTTP_REQUEST, &lim, NULL, over, sizeof(over) - 1, false,
		  HTTP_ERROR, 431, NULL);
}

TEST(http_body_limits)
{
	struct http_limits lim = { 1024, 10, 10, 16 };
	static const char cl_ok[] =
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789";
	static const char cl_big[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
	static const char ch_big[] =
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"6\r\n012345\r\n5\r\n01234\r\n0\r\n\r\n";
	static const char tr_ok[] =
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"0\r\nX: 012345678\r\n\r\n";
	static const char tr_big[] =
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"0\r\nX: 0123456789\r\n\r\n";

	expect_at(__FILE__, __LINE__, HTTP_REQUEST, &lim, NULL, cl_ok, sizeof(cl_ok) - 1, false,
		  HTTP_DONE, 0, "0123456789");
	expect_at(__FILE__, __LINE__, HTTP_REQUEST, &lim, NULL, cl_big, sizeof(cl_big) - 1, false,
		  HTTP_ERROR, 413, NULL);
	expect_at(__FILE__, __LINE__, HTTP_REQUEST, &lim, NULL, ch_big, sizeof(ch_big) - 1, false,
		  HTTP_ERROR, 413, "012345");
	expect_at(__FILE__, __LINE__, HTTP_REQUEST, &lim, NULL, tr_ok, sizeof(tr_ok) - 1, false,
		  HTTP_DONE, 0, "");
	expect_at(__FILE__, __LINE__, HTTP_REQUEST, &lim, NULL, tr_big, sizeof(tr_big) - 1, false,
		  HTTP_ERROR, 431, NULL);
}

#define CHUNKED "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

TEST(http_chunk_syntax)
{
	BAD(CHUNKED "ffffffffffffffffff\r\n", 400);
	BAD(CHUNKED "10000000000000000\r\n", 400);
	BAD(CHUNKED "ffffffffffffffff\r\n", 413);
	BAD(CHUNKED "5\r\nhelloX\r\n", 400);
	BAD(CHUNKED "5\r\nhello\n0\r\n\r\n", 400);
	BAD(CHUNKED "5\nhello\r\n", 400);
	BAD(CHUNKED "5 \r\nhello\r\n", 400);
	BAD(CHUNKED "5;a\nb\r\nhello\r\n", 400);
	BAD(CHUNKED "5;a\x01\r\nhello\r\n", 400);
	BAD(CHUNKED "0x5\r\nhello\r\n", 400);
	BAD(CHUNKED "-5\r\nhello\r\n", 400);
	BAD(CHUNKED "\r\n", 400);
	BAD(CHUNKED ";x\r\n", 400);
	BAD(CHUNKED "5\rhello\r\n", 400);
	BAD(CHUNKED "0\r\nX : y\r\n\r\n", 400);
	BAD(CHUNKED "0\r\n y\r\n\r\n", 400);
	BAD(CHUNKED "0\r\nX: y\n\r\n", 400);
	BAD(CHUNKED "0\r\nX: y\r\n\n", 400);
	BAD(CHUNKED "0\r\nXy\r\n\r\n", 400);
	BAD(CHUNKED "0\r\nX: \x01\r\n\r\n", 400);
	REQ_BODY(CHUNKED "5 ; a=b\r\nhello\r\n0 \t;last\r\n\r\n", "hello");
	REQ(CHUNKED "5\r\nhel", HTTP_NEED_MORE, 0);
	REQ(CHUNKED "0\r\nX: y\r\n", HTTP_NEED_MORE, 0);
}

TEST(http_chunk_line_limit)
{
	struct buf b = BUF_INIT;
	struct tcase tc = { HTTP_REQUEST, NULL, NULL, NULL, 0, false };
	struct outcome o;

	buf_adds(&b, CHUNKED "1;");
	fill(&b, 'x', HTTP_CHUNK_LINE_MAX - 4);
	buf_adds(&b, "\r\na\r\n0\r\n\r\n");
	tc.in = b.p;
	tc.len = b.len;
	check_split(&o, &tc, __FILE__, __LINE__);
	CHECK_INT(o.r, HTTP_DONE);
	CHECK_STR(o.body.p, "a");
	outcome_release(&o);
	buf_reset(&b);
	buf_adds(&b, CHUNKED "1;");
	fill(&b, 'x', HTTP_CHUNK_LINE_MAX - 3);
	buf_adds(&b, "\r\na\r\n0\r\n\r\n");
	tc.in = b.p;
	tc.len = b.len;
	check_split(&o, &tc, __FILE__, __LINE__);
	CHECK_INT(o.status, 400);
	outcome_release(&o);
	buf_release(&b);
}

TEST(http_response_framing)
{
	RESP(NULL, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", false, HTTP_DONE, 0, "hi");
	RESP(NULL, "HTTP/1.1 200 OK\r\n\r\nuntil close", true, HTTP_DONE, 0, "until close");
	RESP(NULL, "HTTP/1.1 200 OK\r\n\r\nuntil close", false, HTTP_NEED_MORE, 0, "until close");
	RESP(NULL, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
	     false, HTTP_DONE, 0, "hi");
	RESP(NULL, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", true, HTTP_DONE, 0,
	     "zz");
	RESP(NULL, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhi", true, HTTP_ERROR, 400, "hi");
	RESP("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", false, HTTP_DONE, 0, "");
	RESP(NULL, "HTTP/1.1 204 No Content\r\n\r\n", false, HTTP_DONE, 0, "");
	RESP(NULL, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, HTTP_DONE, 0,
	     "");
	RESP(NULL, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", false, HTTP_DONE, 0, "");
	RESP(NULL, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", false,
	     HTTP_ERROR, 400, NULL);
	RESP(NULL, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", false,
	     HTTP_ERROR, 400, NULL);
	RESP_HEAD_IS("CONNECT", "HTTP/1.1 200 Connection Established\r\n\r\n",
		     "200 'Connection Established' 1.1 | framing=0 cl=0 ka=1 up=1");
	RESP_HEAD_IS(
		NULL,
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
		"101 'Switching Protocols' 1.1 | Upgrade: x | Connection: upgrade | "
		"framing=0 cl=0 ka=1 up=1");
	/* RFC 9112 §6.3: TE overrides CL, and such a connection is not reused */
	RESP_HEAD_IS(NULL,
		     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		     "200 'OK' 1.1 | Content-Length: 5 | Transfer-Encoding: chunked | "
		     "framing=2 cl=5 ka=0 up=0");
	RESP_HEAD_IS(NULL, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
		     "200 'OK' 1.0 | Content-Length: 0 | framing=1 cl=0 ka=0 up=0");
	RESP_HEAD_IS(NULL, "HTTP/1.1 200 OK\r\n\r\n", "200 'OK' 1.1 | framing=3 cl=0 ka=0 up=0");
}

TEST(http_response_status_line)
{
	RESP_HEAD_IS(NULL, "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
		     "404 '' 1.1 | Content-Length: 0 | framing=1 cl=0 ka=1 up=0");
	RESP_HEAD_IS(NULL, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
		     "200 '' 1.1 | Content-Length: 0 | framing=1 cl=0 ka=1 up=0");
	/* responses may carry obs-text (not UTF-8) */
	RESP_HEAD_IS(
		NULL, "HTTP/1.1 200 Ok\xe9\r\nX: caf\xe9\r\nContent-Length: 0\r\n\r\n",
		"200 'Ok\xe9' 1.1 | X: caf\xe9 | Content-Length: 0 | framing=1 cl=0 ka=1 up=0");
	RESP(NULL, "HTTP/1.1 099 X\r\n\r\n", false, HTTP_ERROR, 400, NULL);
	RESP(NULL, "HTTP/1.1 600 X\r\n\r\n", false, HTTP_ERROR, 400, NULL);
	RESP(NULL, "HTTP/1.1 20 X\r\n\r\n", false, HTTP_ERROR, 400, NULL);
	RESP(NULL, "HTTP/1.1 2000 X\r\n\r\n", false, HTTP_ERROR, 400, NULL);
	RESP(NULL, "HTTP/1.1  200 X\r\n\r\n", false, HTTP_ERROR, 400, NULL);
	RESP(NULL, "HTTP/2 200 X\r\n\r\n", false, HTTP_ERROR, 400, NULL);
	RESP(NULL, "HTTP/3.0 200 X\r\n\r\n", false, HTTP_ERROR, 505, NULL);
	RESP(NULL, "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", false, HTTP_ERROR, 400, NULL);
}

TEST(http_header_lookup)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Multi: 1\r\nOther: z\r\n"
				 "x-multi: 2\r\nCONNECTION: Foo, \tBar\r\n\r\n";
	struct http_parser p;
	struct err e = ERR_INIT;
	const char *v;
	size_t used, it = 0;

	http_parser_init(&p, HTTP_REQUEST, NULL);
	CHECK_INT(http_parse_head(&p, in, sizeof(in) - 1, &used, &e), HTTP_DONE);
	CHECK_STR(http_header_get(&p.msg, "HOST"), "a");
	CHECK(http_header_get(&p.msg, "hos") == NULL);
	CHECK(http_header_get(&p.msg, "hostx") == NULL);
	v = http_header_next(&p.msg, "X-MULTI", &it);
	CHECK_STR(v, "1");
	v = http_header_next(&p.msg, "X-MULTI", &it);
	CHECK_STR(v, "2");
	CHECK(http_header_next(&p.msg, "X-MULTI", &it) == NULL);
	CHECK_INT(http_header_count(&p.msg, "x-multi"), 2);
	CHECK(http_header_has_token(&p.msg, "connection", "bar"));
	CHECK(http_header_has_token(&p.msg, "connection", "FOO"));
	CHECK(!http_header_has_token(&p.msg, "connection", "fo"));
	CHECK(!p.msg.expect_continue);
	/* the parser is reusable and its errors are sticky until reset */
	http_parser_reset(&p);
	CHECK_INT(http_parse_head(&p, "BAD\r\n", 5, &used, &e), HTTP_ERROR);
	CHECK_INT(http_parse_head(&p, in, sizeof(in) - 1, &used, &e), HTTP_ERROR);
	CHECK_INT(http_parser_status(&p), 400);
	CHECK_STR(e.msg, "malformed request line");
	CHECK_INT(e.code, ERR_INVALID);
	http_parser_reset(&p);
	CHECK_INT(http_parse_head(&p, in, sizeof(in) - 1, &used, &e), HTTP_DONE);
	CHECK_INT(used, sizeof(in) - 1);
	http_parser_release(&p);
}

TEST(http_body_streaming_slices)
{
	static const char in[] = CHUNKED "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT";
	struct http_parser p;
	struct err e = ERR_INIT;
	size_t used, off, dlen;
	const char *d;

	http_parser_init(&p, HTTP_REQUEST, &proxy_limits);
	CHECK_INT(http_parse_head(&p, in, sizeof(in) - 1, &used, &e), HTTP_DONE);
	off = used;
	CHECK_INT(http_parse_body(&p, in + off, sizeof(in) - 1 - off, &used, &d, &dlen, &e),
		  HTTP_BODY);
	CHECK_INT(dlen, 3);
	CHECK(memcmp(d, "abc", 3) == 0);
	CHECK(d == in + off + 3); /* zero-copy: a slice of the input */
	off += used;
	CHECK_INT(http_parse_body(&p, in + off, sizeof(in) - 1 - off, &used, &d, &dlen, &e),
		  HTTP_BODY);
	CHECK(memcmp(d, "de", 2) == 0);
	off += used;
	CHECK_INT(http_parse_body(&p, in + off, sizeof(in) - 1 - off, &used, &d, &dlen, &e),
		  HTTP_DONE);
	off += used;
	CHECK_STR(in + off, "NEXT");
	CHECK_INT(http_parse_body(&p, in + off, 4, &used, &d, &dlen, &e), HTTP_DONE);
	CHECK_INT(used, 0);
	http_parser_release(&p);
}

TEST(http_expect_continue_and_message)
{
	static const char in[] = "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
				 "Content-Length: 4\r\n\r\ndata";
	struct http_parser p;
	struct err e = ERR_INIT;
	struct buf body = BUF_INIT;
	size_t used;

	http_parser_init(&p, HTTP_REQUEST, NULL);
	CHECK_INT(http_parse_message(&p, in, 20, &used, &body, &e), HTTP_NEED_MORE);
	CHECK_INT(used, 20);
	CHECK_INT(http_parse_message(&p, in + 20, sizeof(in) - 1 - 20, &used, &body, &e),
		  HTTP_DONE);
	CHECK(p.msg.expect_continue);
	CHECK_STR(body.p, "data");
	CHECK_STR(p.msg.method, "PUT");
	buf_release(&body);
	http_parser_release(&p);
}

TEST(http_write_lines_and_headers)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	CHECK_INT(http_write_status_line(&b, 200, NULL, &e), 0);
	CHECK_INT(http_write_status_line(&b, 431, NULL, &e), 0);
	CHECK_INT(http_write_status_line(&b, 200, "Connection Established", &e), 0);
	CHECK_INT(http_write_request_line(&b, "GET", "/v1/health", &e), 0);
	CHECK_INT(http_write_header(&b, "Content-Type", "application/json", &e), 0);
	http_write_end(&b);
	CHECK_STR(b.p, "HTTP/1.1 200 OK\r\nHTTP/1.1 431 Request Header Fields Too Large\r\n"
		       "HTTP/1.1 200 Connection Established\r\nGET /v1/health HTTP/1.1\r\n"
		       "Content-Type: application/json\r\n\r\n");
	buf_reset(&b);
	/* nothing that could split a message gets written */
	CHECK_INT(http_write_header(&b, "X", "a\r\nInjected: 1", &e), -1);
	CHECK_INT(http_write_header(&b, "X", "a\nb", &e), -1);
	CHECK_INT(http_write_header(&b, "X Y", "a", &e), -1);
	CHECK_INT(http_write_header(&b, "", "a", &e), -1);
	CHECK_INT(http_write_request_line(&b, "GET", "/a b", &e), -1);
	CHECK_INT(http_write_request_line(&b, "GET /", "/", &e), -1);
	CHECK_INT(http_write_status_line(&b, 200, "OK\r\n", &e), -1);
	CHECK_INT(http_write_status_line(&b, 42, NULL, &e), -1);
	CHECK_INT(http_write_status_line(&b, 600, NULL, &e), -1);
	CHECK_INT(b.len, 0);
	CHECK_STR(http_reason(404), "Not Found");
	CHECK_STR(http_reason(413), "Content Too Large");
	CHECK_STR(http_reason(505), "HTTP Version Not Supported");
	CHECK_STR(http_reason(799), "Unknown");
	buf_release(&b);
}

TEST(http_write_chunks)
{
	struct buf b = BUF_INIT;
	char big[300];

	http_write_chunk(&b, "{\"a\":1}\n", 8);
	http_write_chunk(&b, "", 0);
	http_write_last_chunk(&b);
	CHECK_STR(b.p, "8\r\n{\"a\":1}\n\r\n0\r\n\r\n");
	buf_reset(&b);
	memset(big, 'x', sizeof(big));
	http_write_chunk(&b, big, sizeof(big));
	CHECK(strncmp(b.p, "12c\r\nxxx", 8) == 0);
	CHECK_INT(b.len, 5 + 300 + 2);
	buf_release(&b);
}

TEST(http_write_head_round_trip)
{
	static const char in[] =
		"\r\nPOST /x HTTP/1.0\r\nHost:  a \r\nX-Y:b\r\nContent-Length: 0\r\n\r\n";
	struct http_parser p, q;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	size_t used;

	http_parser_init(&p, HTTP_REQUEST, NULL);
	http_parser_init(&q, HTTP_REQUEST, NULL);
	CHECK_INT(http_parse_head(&p, in, sizeof(in) - 1, &used, &e), HTTP_DONE);
	CHECK_INT(http_write_head(&b, &p.msg, &e), 0);
	CHECK_STR(b.p, "POST /x HTTP/1.0\r\nHost: a\r\nX-Y: b\r\nContent-Length: 0\r\n\r\n");
	CHECK_INT(http_parse_head(&q, b.p, b.len, &used, &e), HTTP_DONE);
	CHECK_INT(q.msg.nfields, 3);
	buf_release(&b);
	http_parser_release(&p);
	http_parser_release(&q);
}

/* Canonicalisation: cases from reference/policy.md §4.8.2, supervisor.md §4.8 and §11.10. */
static void canon_at(const char *file, int line, const char *in, unsigned flags, const char *want,
		     enum http_canon_error why)
{
	struct http_canon c = HTTP_CANON_INIT;
	struct err e = ERR_INIT;
	int r = http_target_canon(&c, in, flags, &e);

	if (want && (r != 0 || strcmp(c.path.p, want) != 0))
		unit_fail(file, line, "canon('%s') = %d '%s' (%s), expected '%s'", in, r, c.path.p,
			  e.msg, want);
	if (!want && (r != -1 || c.why != why))
		unit_fail(file, line, "canon('%s') = %d why %d '%s', expected error %d", in, r,
			  (int)c.why, c.path.p, (int)why);
	http_canon_release(&c);
}

#define CANON(in, want)		canon_at(__FILE__, __LINE__, in, 0, want, HTTP_CANON_OK)
#define CANON_F(in, f, want)	canon_at(__FILE__, __LINE__, in, f, want, HTTP_CANON_OK)
#define CANON_BAD(in, why)	canon_at(__FILE__, __LINE__, in, 0, NULL, why)
#define CANON_BAD_F(in, f, why) canon_at(__FILE__, __LINE__, in, f, NULL, why)

TEST(http_canon_policy_examples)
{
	CANON("/public/%2e%2e/secret", "/secret");
	CANON("/a;jsessionid=x/b", "/a/b");
	CANON("/users/%40alice", "/users/@alice");
	CANON("/users/caf%c3%a9", "/users/caf%C3%A9");
	CANON_BAD("/..", HTTP_CANON_ABOVE_ROOT);
	CANON_BAD("/a%2Fb", HTTP_CANON_ENCODED_SLASH_DENIED);
}

TEST(http_canon_dot_segments)
{
	CANON("/a/./b", "/a/b");
	CANON("/a/b/.", "/a/b/");
	CANON("/a/../b", "/b");
	CANON("/a/b/..", "/a/");
	CANON("/a/..", "/");
	CANON("/public/%2E%2E/secret", "/secret");
	CANON("/public/%2e/secret", "/public/secret");
	CANON("/public/./../secret", "/secret");
	CANON("/public/../secret", "/secret");
	CANON_BAD("/a/../..", HTTP_CANON_ABOVE_ROOT);
	CANON_BAD("/a/%2e%2e/%2e%2e", HTTP_CANON_ABOVE_ROOT);
	CANON("/.../x", "/.../x");
	CANON("/a/.b/..c", "/a/.b/..c");
}

TEST(http_canon_slashes_and_params)
{
	CANON("//", "/");
	CANON("//public//../secret", "/secret");
	CANON("/public//secret", "/public/secret");
	CANON("/a//", "/a/");
	CANON("/public;x=1/../secret", "/secret");
	CANON("/public/..;/secret", "/secret");
	CANON("/public/..;x/secret", "/secret");
	CANON("/public/..;jsessionid=xyz/secret", "/secret");
	CANON("/public/.;/secret", "/public/secret");
	CANON("/public/.;x/secret", "/public/secret");
	CANON("/public/%2e%2e;/secret", "/secret");
	CANON("/public/..%3B/secret", "/secret");
	CANON("/public/..%3b/secret", "/secret");
	CANON("/;x/b", "/b");
	CANON("/a/;x", "/a/");
	CANON_BAD("/public/..;/..;/secret", HTTP_CANON_ABOVE_ROOT);
	CANON_BAD("/api/v1/..;/..;/..;/admin/keys", HTTP_CANON_ABOVE_ROOT);
	CANON_BAD("/..;", HTTP_CANON_ABOVE_ROOT);
	CANON_F("/a;jsessionid=xyz/b", HTTP_CANON_KEEP_PARAMS, "/a;jsessionid=xyz/b");
}

TEST(http_canon_encoded_slash)
{
	CANON_BAD("/a/%2f/b", HTTP_CANON_ENCODED_SLASH_DENIED);
	CANON_BAD("/public/..%2fsecret", HTTP_CANON_ENCODED_SLASH_DENIED);
	CANON_BAD("/public/%2E%2E%2Fsecret", HTTP_CANON_ENCODED_SLASH_DENIED);
	CANON_F("/a/%2f/b", HTTP_CANON_ENCODED_SLASH, "/a/%2F/b");
	CANON_F("/a/%2F/b", HTTP_CANON_ENCODED_SLASH, "/a/%2F/b");
	CANON_F("/repos/group%2fproject/issues", HTTP_CANON_ENCODED_SLASH,
		"/repos/group%2Fproject/issues");
	CANON_BAD_F("/public/..%2fsecret", HTTP_CANON_ENCODED_SLASH, HTTP_CANON_RESIDUAL_DOT);
	CANON_BAD_F("/public/..%2f..%2fsecret", HTTP_CANON_ENCODED_SLASH, HTTP_CANON_RESIDUAL_DOT);
	CANON_BAD_F("/public/.%2fsecret", HTTP_CANON_ENCODED_SLASH, HTTP_CANON_RESIDUAL_DOT);
	CANON_BAD_F("/a%2f..", HTTP_CANON_ENCODED_SLASH, HTTP_CANON_RESIDUAL_DOT);
}

TEST(http_canon_rejects)
{
	CANON_BAD("/a%00b", HTTP_CANON_CONTROL);
	CANON_BAD("/a%0Ab", HTTP_CANON_CONTROL);
	CANON_BAD("/a%0db", HTTP_CANON_CONTROL);
	CANON_BAD("/a%09b", HTTP_CANON_CONTROL);
	CANON_BAD("/a%7Fb", HTTP_CANON_CONTROL);
	CANON_BAD("/a%01b", HTTP_CANON_CONTROL);
	CANON_BAD("/a\nb", HTTP_CANON_CONTROL);
	CANON_BAD("/a\x01", HTTP_CANON_CONTROL);
	CANON_BAD("/a\x7f", HTTP_CANON_CONTROL);
	CANON_BAD("/a#b", HTTP_CANON_FRAGMENT);
	CANON_BAD("/a?q#b", HTTP_CANON_FRAGMENT);
	CANON_BAD("/a\xc3\xa9", HTTP_CANON_NON_ASCII);
	CANON_BAD("/a%", HTTP_CANON_BAD_ESCAPE);
	CANON_BAD("/a%4", HTTP_CANON_BAD_ESCAPE);
	CANON_BAD("/a%zz", HTTP_CANON_BAD_ESCAPE);
	CANON_BAD("/a%%41", HTTP_CANON_BAD_ESCAPE);
	CANON_BAD("*", HTTP_CANON_MALFORMED);
	CANON_BAD("a/b", HTTP_CANON_MALFORMED);
	CANON_BAD("example.com:443", HTTP_CANON_MALFORMED);
	CANON_BAD("http://", HTTP_CANON_MALFORMED);
}

TEST(http_canon_forms_query_encoding)
{
	struct http_canon c = HTTP_CANON_INIT;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;

	CANON("", "/");
	CANON("/", "/");
	CANON("http://host/a/../b", "/b");
	CANON("https://host", "/");
	CANON("http://host:443/foo", "/foo");
	CANON("HTTP://host:443/foo?x", "/foo");
	CANON("/files/hello%20world.txt", "/files/hello%20world.txt");
	CANON("/search/a%3Fb", "/search/a%3Fb");
	CANON("/users/caf%C3%A9", "/users/caf%C3%A9");
	CANON("/a/caf%c3%a9", "/a/caf%C3%A9");
	CANON("/%41%7e%2D", "/A~-");
	CANON("/a b", "/a%20b");
	CANON("/a\"<>\\^`{|}", "/a%22%3C%3E%5C%5E%60%7B%7C%7D");
	CANON("/!$&'()*+,=:@", "/!$&'()*+,=:@");
	CANON("/fetch/http://example.test?next=http://other.test", "/fetch/http:/example.test");

	CHECK_INT(http_target_canon(&c, "/a?q=1&r=2", 0, &e), 0);
	CHECK_STR(c.path.p, "/a");
	CHECK_STR(c.query, "q=1&r=2");
	CHECK(!c.rewritten);
	CHECK_INT(http_target_canon(&c, "/a/../b?x/../y", 0, &e), 0);
	CHECK_STR(c.path.p, "/b");
	CHECK_STR(c.query, "x/../y");
	CHECK(c.rewritten);
	CHECK_INT(http_target_canon(&c, "/a", 0, &e), 0);
	CHECK(c.query == NULL);
	CHECK_INT(http_target_canon(&c, "/a/%2e%2e/..", 0, &e), -1);
	CHECK_STR(e.msg, "invalid request-target: '..' climbs above the root");
	CHECK_INT(e.code, ERR_INVALID);

	buf_addch(&b, '/');
	fill(&b, 'a', HTTP_CANON_PATH_MAX - 1);
	CHECK_INT(http_target_canon(&c, b.p, 0, &e), 0);
	buf_addch(&b, 'a');
	CHECK_INT(http_target_canon(&c, b.p, 0, &e), -1);
	CHECK_INT(c.why, HTTP_CANON_TOO_LONG);
	/* the limit is on the raw path, as in the reference: re-encoding may grow it */
	buf_reset(&b);
	buf_addch(&b, '/');
	fill(&b, '"', HTTP_CANON_PATH_MAX - 1);
	CHECK_INT(http_target_canon(&c, b.p, 0, &e), 0);
	CHECK_INT(c.path.len, 1 + 3 * (HTTP_CANON_PATH_MAX - 1));
	buf_release(&b);
	http_canon_release(&c);
}

/* Whatever canonicalises has no dot-segment left and is a fixed point. */
TEST(http_canon_idempotent)
{
	static const char *const in[] = {
		"/public/..;/secret",
		"/public/.;/secret",
		"/public/%2e%2e;/secret",
		"/a;jsessionid=xyz/b",
		"/public//../secret",
		"/a/b/..",
		"/a/b/.",
		"/x/%41%2fb/c%20d",
		"/%c3%a9/./x//",
		"/a/%3B/b",
	};
	struct http_canon c = HTTP_CANON_INIT, d = HTTP_CANON_INIT;
	struct err e = ERR_INIT;
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		if (http_target_canon(&c, in[i], HTTP_CANON_ENCODED_SLASH, &e) < 0)
			continue;
		CHECK(strstr(c.path.p, "/../") == NULL && strstr(c.path.p, "/./") == NULL);
		CHECK_INT(http_target_canon(&d, c.path.p, HTTP_CANON_ENCODED_SLASH, &e), 0);
		CHECK_STR(d.path.p, c.path.p);
		CHECK(!d.rewritten);
	}
	http_canon_release(&c);
	http_canon_release(&d);
}
