/* SPDX-License-Identifier: Apache-2.0 */
/* struct err helpers: fill, wrap, render. Never prints. */
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void vset(struct err *e, int code, int sys, const char *fmt, va_list ap)
{
	e->code = code;
	e->sys = sys;
	e->hint[0] = '\0';
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int err_set(struct err *e, int code, int sys, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, code, sys, fmt, ap);
	va_end(ap);
	return -1;
}

int err_sys(struct err *e, int code, const char *fmt, ...)
{
	int sys = errno;
	va_list ap;

	va_start(ap, fmt);
	vset(e, code, sys, fmt, ap);
	va_end(ap);
	return -1;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	char prefix[256], old[sizeof(e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	if (snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old) >= (int)sizeof(e->msg))
		memcpy(e->msg + sizeof(e->msg) - 4, "...", 4); /* keep the end marked as cut */
	if (e->code == ERR_NONE)
		e->code = ERR_RUNTIME;
	return -1;
}

int err_hint(struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
	va_end(ap);
	return -1;
}

void err_clear(struct err *e)
{
	memset(e, 0, sizeof(*e));
}

const char *err_text(const struct err *e, char *dst, unsigned n)
{
	if (e->sys)
		snprintf(dst, n, "%s: %s", e->msg, strerror(e->sys));
	else
		snprintf(dst, n, "%s", e->msg);
	return dst;
}

static const struct {
	const char *name;
	int http;
} codes[] = {
	[ERR_NONE] = { "ok", 200 },
	[ERR_RUNTIME] = { "internal", 500 },
	[ERR_USAGE] = { "usage", 400 },
	[ERR_INVALID] = { "invalid_argument", 400 },
	[ERR_NOTFOUND] = { "not_found", 404 },
	[ERR_EXISTS] = { "already_exists", 409 },
	[ERR_CONFLICT] = { "conflict", 409 },
	[ERR_LIMIT] = { "resource_exhausted", 429 },
	[ERR_AUTH] = { "unauthenticated", 401 },
	[ERR_FORBIDDEN] = { "permission_denied", 403 },
	[ERR_UNAVAILABLE] = { "unavailable", 503 },
	[ERR_TIMEOUT] = { "deadline_exceeded", 504 },
};

const char *err_code_name(int code)
{
	if (code < 0 || (size_t)code >= sizeof(codes) / sizeof(codes[0]))
		return "internal";
	return codes[code].name;
}

int err_http_status(int code)
{
	if (code < 0 || (size_t)code >= sizeof(codes) / sizeof(codes[0]))
		return 500;
	return codes[code].http;
}
