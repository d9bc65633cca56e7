/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by lib/http_*.c; not for other modules. */
#ifndef OS_HTTP_INT_H
#define OS_HTTP_INT_H

#include "http.h"

/* Parser states, in message order. */
enum http_state {
	HS_START,  /* before or inside the start line */
	HS_FIELDS, /* header field lines */
	HS_LENGTH, /* Content-Length body; p->chunk = bytes left */
	HS_UNTIL_CLOSE,
	HS_CHUNK_SIZE0, /* first hex digit of a chunk size */
	HS_CHUNK_SIZE,
	HS_CHUNK_WS,  /* BWS between size and ';' */
	HS_CHUNK_EXT, /* skipping chunk extensions */
	HS_CHUNK_LF,  /* LF after the size line's CR */
	HS_CHUNK_DATA,
	HS_CHUNK_CR, /* CRLF after chunk data */
	HS_CHUNK_DATA_LF,
	HS_TR_START, /* trailer line start, or the final CRLF */
	HS_TR_NAME,
	HS_TR_VALUE,
	HS_TR_LF,
	HS_TR_END_LF,
	HS_DONE,
	HS_ERROR,
};

/* Puts the parser in the sticky error state; returns HTTP_ERROR (-1). */
int http_fail(struct http_parser *p, int status, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same for an e already filled (by url_parse_authority); prefixes context. */
int http_fail_wrap(struct http_parser *p, int status, struct err *e, const char *context);
/* Re-reports the sticky error. */
int http_fail_again(struct http_parser *p, struct err *e);

bool http_tchar(unsigned char c);
/* Decides framing and connection semantics once the empty line arrived (http_framing.c). */
int http_end_head(struct http_parser *p, struct err *e);

#endif
