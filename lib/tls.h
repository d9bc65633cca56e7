/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BearSSL wrappers for the gateway (non-blocking server, mTLS) and the CLI (blocking
 * client with a certificate). TLS 1.2 only, ECDHE-ECDSA with AES-GCM or ChaCha20.
 * The server never touches the socket except in tls_server_conn_pump(), which moves
 * records between the socket and the engine, and application bytes between the engine
 * and two caller buffers (STYLE.md §3a.3).
 */
#ifndef OS_TLS_H
#define OS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct buf;
struct err;

/* ---- server ---- */
struct tls_server_cfg;
struct tls_server_conn;

enum tls_pump {
	TLS_PUMP_OK,        /* handshake done; progress made or waiting for the socket */
	TLS_PUMP_HANDSHAKE, /* still in the handshake */
	TLS_PUMP_CLOSED,    /* clean close_notify from the peer, or our close completed */
	TLS_PUMP_ERROR,     /* failed: tls_server_conn_error() says why */
};

/* Loads server.crt, server.key and (for client authentication) ca.crt from tls_dir. */
int tls_server_cfg_load(struct tls_server_cfg **out, const char *tls_dir, bool require_client_cert,
			struct err *e);
void tls_server_cfg_free(struct tls_server_cfg *cfg);

/* About 40 KiB per connection (engine, X.509 context, record buffer). */
struct tls_server_conn *tls_server_conn_new(struct tls_server_cfg *cfg);
void tls_server_conn_free(struct tls_server_conn *c);
/* Non-blocking fd. Decrypted bytes are appended to in; bytes in out are taken (consumed
 * from the front of out) and encrypted. */
int tls_server_conn_pump(struct tls_server_conn *c, int fd, struct buf *in, struct buf *out);
/* Whether records wait to be sent (arm EPOLLOUT). */
bool tls_server_conn_wants_write(const struct tls_server_conn *c);
/* Why the connection failed, in plain language. */
const char *tls_server_conn_error(const struct tls_server_conn *c);

/* ---- client ---- */
struct tls_client;

/* Handshake on a blocking fd (with socket timeouts set) using mtls_dir's ca.crt as the only
 * trust anchor and tls.crt/tls.key as the client certificate. server_name NULL skips the
 * name check (acceptable only because the anchor is the gateway's private CA). */
int tls_client_connect(struct tls_client **out, int fd, const char *server_name,
		       const char *mtls_dir, struct err *e);
int tls_client_write_all(struct tls_client *c, const void *p, size_t n, struct err *e);
/* Returns bytes read, 0 at a clean close, -1 on error. */
ssize_t tls_client_read(struct tls_client *c, void *p, size_t n, struct err *e);
void tls_client_close(struct tls_client *c);
/* Decrypted bytes wait in the engine (read them before polling the socket). */
bool tls_client_pending(struct tls_client *c);

/* BearSSL error code -> "BR_ERR_X509_NOT_TRUSTED: certificate is not signed by ..." */
const char *tls_error_text(int code);

#endif
