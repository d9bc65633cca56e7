/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's side of the gateway API: which gateway a command talks to (reference/cli.md
 * §3: --gateway-endpoint > -g > OPENSHELL_GATEWAY > active_gateway), and one blocking
 * request/response round trip over plain HTTP or mTLS (BearSSL) with timeouts.
 */
#ifndef OS_CLIENT_H
#define OS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "url.h"

struct err;
struct json;

struct gw_target {
	char name[CFG_NAME_MAX];     /* registry name, or the raw URL with --gateway-endpoint */
	char endpoint[CFG_URL_MAX];
	bool registered;             /* metadata found */
	struct gw_meta meta;         /* when registered */
	bool tls;
	char mtls_dir[1024];         /* client bundle: ca.crt, tls.crt, tls.key */
};

/* name_flag: -g or OPENSHELL_GATEWAY (may be NULL); endpoint_flag: --gateway-endpoint. */
int client_resolve(const char *name_flag, const char *endpoint_flag, struct gw_target *t,
		   struct err *e);

struct client_resp {
	int status;
	struct json *body; /* parsed JSON (NULL when the body was empty); owned */
};

/*
 * One request. body may be NULL. Connection, TLS and protocol failures are
 * ERR_UNAVAILABLE (the gateway does not answer) or ERR_AUTH (TLS refused), with a message
 * naming the gateway and the endpoint. A JSON error body {"error","message"} with a
 * status >= 400 becomes an error whose message is the gateway's message.
 */
int client_call(const struct gw_target *t, const char *method, const char *path,
		const struct json *body, struct client_resp *resp, struct err *e);
void client_resp_release(struct client_resp *r);

/*
 * An upgraded connection (POST path with "Upgrade: openshell-stream"; 101 expected) that
 * then carries the frame protocol both ways. first (NULL = none) holds frames sent in the
 * same write as the request, without waiting for the 101. Blocking reads and writes; poll
 * client_stream_fd() for input, but read first while client_stream_buffered() is true.
 */
struct client_stream;
struct buf;
int client_attach(const struct gw_target *t, const char *path, const struct buf *first,
		  struct client_stream **out, struct err *e);
int client_stream_fd(const struct client_stream *s);
bool client_stream_buffered(const struct client_stream *s);
ssize_t client_stream_read(struct client_stream *s, void *p, size_t n, struct err *e);
int client_stream_write(struct client_stream *s, const struct buf *b, struct err *e);
void client_stream_close(struct client_stream *s);

#endif
