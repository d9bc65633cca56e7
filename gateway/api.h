/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's HTTP API under /v1 (docs/api.md). Handlers take a parsed request and
 * its body and fill a response: a status and a JSON body. Errors are
 * {"error": code, "message": text} with the status that err_http_status() gives.
 */
#ifndef OS_GW_API_H
#define OS_GW_API_H

#include "lib/buf.h"
#include "lib/http.h"

struct err;
struct gw;
struct json;

struct api_resp {
	int status;      /* 0: not answered yet, the request waits (gw->park_dir) */
	struct buf body; /* JSON, ends with a newline */
};

/* A handler's return value when it cannot answer yet: it set gw->park_dir and
 * gw->park_ms, and is asked again when that directory changes or the time is up (then
 * with gw->park_expired set). Only GET /v1/sandboxes/{name}?wait=MS does this. */
#define API_PARKED 1

/* key=N in the query string; *out is untouched when the key is absent. */
int api_query_int(const char *query, const char *key, int64_t min, int64_t max, int64_t *out,
		  struct err *e);

/* key: "2026-11-22T14:31:08Z" from unix ms, or null when ms is 0. */
void api_add_time(struct json *o, const char *key, int64_t ms);

void api_handle(struct gw *gw, const struct http_msg *req, const struct buf *body,
		struct api_resp *resp);

#endif
