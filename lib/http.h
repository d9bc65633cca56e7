/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 messages (RFC 9110, RFC 9112) for the gateway's API server, the CLI's client
 * and the sandbox's egress proxy: an incremental parser that never touches a socket,
 * a body decoder, request-target canonicalisation for L7 rules, and writers.
 *
 * Parsing, BearSSL-style: the caller owns the socket and feeds whatever bytes arrived.
 *
 *	struct http_parser p;
 *	http_parser_init(&p, HTTP_REQUEST, &lim);          (one allocation: head + fields)
 *	r = http_parse_head(&p, in, len, &used, e);        HTTP_NEED_MORE / HTTP_DONE / HTTP_ERROR
 *	r = http_parse_body(&p, in, len, &used, &d, &n, e) HTTP_BODY (d, n) / NEED_MORE / DONE / ERROR
 *	http_parser_reset(&p);                             next message on a keep-alive connection
 *	http_parser_release(&p);
 *
 * *used is always set: the bytes of `in` that belong to this message and were consumed
 * (after HTTP_ERROR it only says how far the parser got).
 * Bytes after a completed head or body (a pipelined request, a tunnel) stay the caller's.
 * On HTTP_ERROR the parser is stuck in the error state; http_parser_status() gives the
 * status to answer and e->msg the reason. Errors are sticky until reset.
 *
 * Statuses (for requests; for a response the same status classifies what was wrong
 * with it and a proxy answers 502):
 *   400  syntax and framing: bare LF, obs-fold, whitespace before the colon, a line without
 *        a colon, control bytes, invalid UTF-8 in a request head, malformed request line,
 *        bad or conflicting Content-Length, Transfer-Encoding together with Content-Length,
 *        chunked not the final (or applied twice) coding, Transfer-Encoding in HTTP/1.0,
 *        Connection naming host/content-length/transfer-encoding, missing/duplicate/invalid
 *        Host in HTTP/1.1, bad chunk syntax, chunk size overflow, a truncated message
 *   413  Content-Length or the decoded body exceeds lim.body_max
 *   414  the request line alone does not fit in lim.head_max (no CRLF within the limit)
 *   431  the head (start line through the empty line, inclusive) exceeds lim.head_max
 *        bytes, more than lim.fields_max fields, trailers over lim.trailer_max
 *   501  a request transfer coding other than chunked before the final chunked
 *        ("gzip, chunked", RFC 9112 §6.1)
 *   505  a version other than HTTP/1.0 or HTTP/1.1
 *
 * A head of exactly lim.head_max bytes is accepted; one byte more is 431 (or 414 while
 * still in the request line). Limits are checked as bytes arrive, so the result is the
 * same however the input is split.
 */
#ifndef OS_HTTP_H
#define OS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum http_result {
	HTTP_ERROR = -1,
	HTTP_NEED_MORE = 0,
	HTTP_DONE = 1,
	HTTP_BODY = 2, /* http_parse_body only: a slice of body bytes is ready */
};

enum http_kind { HTTP_REQUEST, HTTP_RESPONSE };

/* Request-target forms, RFC 9112 §3.2. */
enum http_form {
	HTTP_FORM_ORIGIN,    /* /path?query */
	HTTP_FORM_ABSOLUTE,  /* scheme://authority/path (forward proxy) */
	HTTP_FORM_AUTHORITY, /* host:port, CONNECT only */
	HTTP_FORM_ASTERISK,  /* *, OPTIONS only */
};

/* How the body is delimited, RFC 9112 §6.3. */
enum http_framing {
	HTTP_BODY_NONE,
	HTTP_BODY_LENGTH,
	HTTP_BODY_CHUNKED,
	HTTP_BODY_UNTIL_CLOSE, /* responses only; ends at http_parse_eof() */
};

#define HTTP_HEAD_MAX_PROXY   8192  /* reference/supervisor.md §4.1 */
#define HTTP_HEAD_MAX_GATEWAY 16384 /* STYLE.md §2.4; also the proxy's in-tunnel limit (§4.7) */
#define HTTP_FIELDS_MAX	      100
#define HTTP_TRAILER_MAX      8192
#define HTTP_CHUNK_LINE_MAX   4096 /* chunk size plus extensions */
#define HTTP_BODY_UNLIMITED   UINT64_MAX

struct http_limits {
	size_t head_max;   /* bytes from the start line through the final empty line */
	size_t fields_max; /* header fields */
	uint64_t body_max; /* decoded body bytes; HTTP_BODY_UNLIMITED for streaming */
	size_t trailer_max;
};

#define HTTP_LIMITS_PROXY                                                                   \
	{                                                                                   \
		HTTP_HEAD_MAX_PROXY, HTTP_FIELDS_MAX, HTTP_BODY_UNLIMITED, HTTP_TRAILER_MAX \
	}
#define HTTP_LIMITS_GATEWAY                                                                 \
	{                                                                                   \
		HTTP_HEAD_MAX_GATEWAY, HTTP_FIELDS_MAX, (uint64_t)1 << 20, HTTP_TRAILER_MAX \
	}

/* A header field; both strings are NUL-terminated, the value without surrounding OWS. */
struct http_field {
	const char *name;
	const char *value;
};

/*
 * A parsed head. Every pointer points into the parser's memory and stays valid until
 * http_parser_reset() or http_parser_release().
 */
struct http_msg {
	const char *method; /* requests: as sent (methods are case-sensitive) */
	const char *target; /* requests: the raw request-target */
	enum http_form form;
	int status;	    /* responses: 100..599 */
	const char *reason; /* responses: may be "" */
	int minor;	    /* HTTP/1.<minor>: 0 or 1 */
	const struct http_field *fields;
	size_t nfields;
	enum http_framing framing;
	uint64_t content_length; /* HTTP_BODY_LENGTH */
	bool keep_alive;	 /* connection reusable after this message */
	bool upgrade;		 /* Upgrade + Connection: upgrade; 101; 2xx to CONNECT */
	bool expect_continue;	 /* request carries Expect: 100-continue */
	size_t head_len;	 /* bytes of the head, including the final CRLF */
};

struct http_parser {
	struct http_msg msg;
	/* private */
	enum http_kind kind;
	struct http_limits lim;
	char *head; /* lim.head_max + 1 bytes */
	size_t len, line;
	struct http_field *fields;
	int state, status;
	bool head_req, connect_req;
	uint64_t chunk, body_seen;
	size_t line_bytes;
	char reason[512]; /* repeated while the error is sticky */
};

/* Allocates the head buffer and field array (xalloc: dies on OOM). lim NULL = gateway. */
void http_parser_init(struct http_parser *p, enum http_kind kind, const struct http_limits *lim);
void http_parser_release(struct http_parser *p);
/* Forgets the message (and the request method), keeps the memory. */
void http_parser_reset(struct http_parser *p);
/*
 * Responses: the method of the request this response answers. HEAD means no body;
 * a 2xx to CONNECT is a tunnel (RFC 9112 §6.3). Call after init/reset.
 */
void http_parser_set_method(struct http_parser *p, const char *method);

/* Feeds head bytes. HTTP_DONE: p->msg is ready and *used ends after the empty line. */
int http_parse_head(struct http_parser *p, const void *in, size_t len, size_t *used, struct err *e);
/*
 * After the head: decodes framing (Content-Length, chunked) and yields body bytes without
 * copying. HTTP_BODY: *data, *dlen is a slice of `in` (call again with the rest);
 * HTTP_NEED_MORE: all of `in` consumed; HTTP_DONE: message complete, the bytes after *used
 * belong to the next message. Calls after HTTP_DONE return HTTP_DONE with *used 0.
 */
int http_parse_body(struct http_parser *p, const void *in, size_t len, size_t *used,
		    const char **data, size_t *dlen, struct err *e);
/* http_parse_body, appending every body byte to out (the gateway's bounded read). */
int http_read_body(struct http_parser *p, const void *in, size_t len, size_t *used, struct buf *out,
		   struct err *e);
/* Head then body in one call: the convenience for whole messages. */
int http_parse_message(struct http_parser *p, const void *in, size_t len, size_t *used,
		       struct buf *body, struct err *e);
/*
 * The peer closed the connection. HTTP_DONE ends an until-close body (or a complete
 * message); HTTP_NEED_MORE means nothing but empty lines had arrived (a clean close);
 * anything else is HTTP_ERROR 400 "connection closed in the middle of a message".
 */
int http_parse_eof(struct http_parser *p, struct err *e);

bool http_parser_head_done(const struct http_parser *p);
/* The status to answer after HTTP_ERROR (400, 413, 414, 431, 501, 505); 0 otherwise. */
int http_parser_status(const struct http_parser *p);

/* Header lookup, ASCII case-insensitive. */
const char *http_header_get(const struct http_msg *m, const char *name);
/* Every value of name in order: size_t it = 0; while ((v = http_header_next(m, n, &it))) */
const char *http_header_next(const struct http_msg *m, const char *name, size_t *it);
size_t http_header_count(const struct http_msg *m, const char *name);
/* Whether any comma-separated element of any `name` field equals token (case-insensitive). */
bool http_header_has_token(const struct http_msg *m, const char *name, const char *token);

/* RFC 9110 token / tchar. */
bool http_is_token(const char *s);

/*
 * Request-target canonicalisation for L7 rules, exactly as reference/policy.md §4.8.2
 * and supervisor.md §4.8: reject control bytes, raw non-ASCII and '#'; split the query
 * off at the first '?' (kept verbatim); absolute-form keeps only its path; empty is "/";
 * the raw path must start with '/' and be at most HTTP_CANON_PATH_MAX bytes (re-encoding
 * can make the canonical path up to three times longer, as in the reference); percent-decode
 * (bad escape, %00..%1F, %7F rejected; %2F rejected unless HTTP_CANON_ENCODED_SLASH, then
 * kept as %2F inside its segment); strip ";params" from each segment before resolving
 * "." and ".." (".." above the root is rejected); collapse "//"; reject a dot-segment
 * that survives (one hidden behind %2F); re-encode bytes outside unreserved, sub-delims,
 * ':' and '@' as uppercase %HH. The result is both the policy input and what is sent.
 */
#define HTTP_CANON_PATH_MAX 4096

enum http_canon_flags {
	HTTP_CANON_ENCODED_SLASH = 1 << 0, /* endpoint's allow_encoded_slash */
	HTTP_CANON_KEEP_PARAMS = 1 << 1,   /* do not strip ;params */
};

enum http_canon_error {
	HTTP_CANON_OK = 0,
	HTTP_CANON_CONTROL,    /* control byte, raw or percent-encoded */
	HTTP_CANON_BAD_ESCAPE, /* '%' not followed by two hex digits */
	HTTP_CANON_ENCODED_SLASH_DENIED,
	HTTP_CANON_FRAGMENT,
	HTTP_CANON_NON_ASCII,
	HTTP_CANON_ABOVE_ROOT,
	HTTP_CANON_RESIDUAL_DOT,
	HTTP_CANON_TOO_LONG,
	HTTP_CANON_MALFORMED,
};

struct http_canon {
	struct buf path;	   /* canonical path, always starting with '/' */
	const char *query;	   /* after the first '?' in the target (borrowed), or NULL */
	bool rewritten;		   /* path differs from the raw path */
	enum http_canon_error why; /* after -1 */
};

#define HTTP_CANON_INIT                              \
	{                                            \
		BUF_INIT, NULL, false, HTTP_CANON_OK \
	}

/* Returns 0, or -1 with c->why and e (ERR_INVALID, "invalid request-target '...': ..."). */
int http_target_canon(struct http_canon *c, const char *target, unsigned flags, struct err *e);
void http_canon_release(struct http_canon *c);

/*
 * Writers. Each validates what it writes (tokens, no CR/LF/NUL or other control bytes in
 * values or targets) so that no caller can split a message; on -1 nothing was appended.
 */
const char *http_reason(int status); /* RFC 9110 §15 phrase, "Unknown" otherwise */
/* "METHOD target HTTP/1.1\r\n" */
int http_write_request_line(struct buf *b, const char *method, const char *target, struct err *e);
/* "HTTP/1.1 status reason\r\n", status 100..599; reason NULL = http_reason(status). */
int http_write_status_line(struct buf *b, int status, const char *reason, struct err *e);
/* "name: value\r\n" */
int http_write_header(struct buf *b, const char *name, const char *value, struct err *e);
/* The empty line ending a head. */
void http_write_end(struct buf *b);
/* A parsed head again, with its own version (used by the fuzzers and the proxy). */
int http_write_head(struct buf *b, const struct http_msg *m, struct err *e);
/* One chunk "{size hex}\r\n{data}\r\n"; n == 0 writes nothing (it would end the body). */
void http_write_chunk(struct buf *b, const void *data, size_t n);
/* "0\r\n\r\n" */
void http_write_last_chunk(struct buf *b);

#endif
