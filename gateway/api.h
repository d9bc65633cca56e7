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

struct gw;
struct json;

struct api_resp {
	int status;
	struct buf body; /* JSON, ends with a newline */
};

/* key: "2026-11-22T14:31:08Z" from unix ms, or null when ms is 0. */
void api_add_time(struct json *o, const char *key, int64_t ms);

void api_handle(struct gw *gw, const struct http_msg *req, const struct buf *body,
		struct api_resp *resp);

#endif
