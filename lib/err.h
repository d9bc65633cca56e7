/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The error object every fallible function fills: what failed (msg), the
 * errno behind it (sys), a category (code) that maps to an exit status or an
 * HTTP status, and an optional hint telling the user what to do.
 * Functions return -1 after err_set(); only the command layer, the gateway's
 * HTTP layer and the log print errors.
 */
#ifndef OS_ERR_H
#define OS_ERR_H

#include <stdarg.h>

enum err_code {
	ERR_NONE = 0,
	ERR_RUNTIME,    /* generic failure: exit 1, HTTP 500 */
	ERR_USAGE,      /* bad command line: exit 2 */
	ERR_INVALID,    /* bad input data: exit 1, HTTP 400 */
	ERR_NOTFOUND,   /* exit 1, HTTP 404 */
	ERR_EXISTS,     /* exit 1, HTTP 409 */
	ERR_CONFLICT,   /* state changed under us: HTTP 409 */
	ERR_LIMIT,      /* a limit was reached: HTTP 429 / 413 */
	ERR_AUTH,       /* authentication failed: HTTP 401 */
	ERR_FORBIDDEN,  /* HTTP 403 */
	ERR_UNAVAILABLE, /* peer not reachable: HTTP 503 */
	ERR_TIMEOUT,    /* exit 124 where a command waits */
};

struct err {
	int code;       /* enum err_code */
	int sys;        /* errno, or 0 */
	char msg[512];  /* lower-case, no full stop, subject in 'quotes' */
	char hint[256]; /* optional: what the user can do */
};

#define ERR_INIT { 0 }

/* Sets code, sys and the message; clears the hint. Returns -1. */
int err_set(struct err *e, int code, int sys, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* err_set with sys = errno. Returns -1. */
int err_sys(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes "context: " to the message. Returns -1. */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets the hint (overwrites). Returns -1. */
int err_hint(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);
/* Full text "msg: strerror(sys)" into dst (size n). */
const char *err_text(const struct err *e, char *dst, unsigned n);
/* Short symbolic name of a code: "invalid", "not_found", ... */
const char *err_code_name(int code);
/* HTTP status for a code. */
int err_http_status(int code);

#endif
