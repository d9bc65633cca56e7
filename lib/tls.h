/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BearSSL wrappers: a non-blocking server for the gateway's epoll loop (mTLS against the
 * gateway's CA, or no client certificate with --disable-gateway-auth) and a blocking client
 * for the CLI (our CA as the only trust anchor, the client certificate from the gateway's
 * bundle). TLS 1.2 only, ECDHE-ECDSA with AES-GCM or ChaCha20-Poly1305 (STYLE.md 3a).
 * Certificates and keys come from pki.h; the error table is in tls_errors.c.
 */
#ifndef OS_TLS_H
#define OS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;
struct err;

/* ---- server ---- */

/* Loaded once at start-up; shared (read-only) by every connection; outlives them. */
struct tls_server_cfg;
/* One connection: engine, X.509 validator and record buffer, about 42 KiB. */
struct tls_server_conn;

enum tls_pump {
	TLS_PUMP_OK,	    /* handshake done; waiting for the socket (see wants_write) */
	TLS_PUMP_HANDSHAKE, /* still in the handshake; waiting for the socket */
	TLS_PUMP_CLOSED,    /* the peer closed (close_notify, or EOF after the handshake) */
	TLS_PUMP_ERROR,	    /* failed: tls_server_conn_error() says why */
};

/* Loads tls_dir/server.crt and server.key (which must belong together) and, when
 * require_client_cert, tls_dir/ca.crt as the one trust anchor for client certificates.
 * Without it no client certificate is requested (--disable-gateway-auth). */
int tls_server_cfg_load(struct tls_server_cfg **out, const char *tls_dir, bool require_client_cert,
			struct err *e);
void tls_server_cfg_free(struct tls_server_cfg *cfg);

struct tls_server_conn *tls_server_conn_new(const struct tls_server_cfg *cfg);
void tls_server_conn_free(struct tls_server_conn *c);
/*
 * Drives the engine over the non-blocking socket fd until nothing moves (STYLE.md 3a.3):
 * records out first, then decrypted bytes appended to in, then bytes taken from the front of
 * out (encrypted and flushed), then records in. EAGAIN is not an error: call again when
 * epoll reports the fd readable, or writable if tls_server_conn_wants_write(). Handshake
 * completion is the first TLS_PUMP_OK.
 */
int tls_server_conn_pump(struct tls_server_conn *c, int fd, struct buf *in, struct buf *out);
/* Records wait to be sent: arm EPOLLOUT. */
bool tls_server_conn_wants_write(const struct tls_server_conn *c);
bool tls_server_conn_handshake_done(const struct tls_server_conn *c);
/* Queues a close_notify; the next pumps send it and end with TLS_PUMP_CLOSED. */
void tls_server_conn_close(struct tls_server_conn *c);
/* The verified client certificate's subject CN / first OU, NULL if none (no client
 * authentication, or the handshake is not done). */
const char *tls_server_conn_peer_cn(const struct tls_server_conn *c);
const char *tls_server_conn_peer_ou(const struct tls_server_conn *c);
/* BearSSL's error code (0 if none; see tls_error_text). */
int tls_server_conn_last_error(const struct tls_server_conn *c);
/* Why the connection failed, in plain language with the BearSSL name (for the log). */
const char *tls_server_conn_error(struct tls_server_conn *c);

/* ---- client ---- */

struct tls_client_cfg;
struct tls_client;

/* ca_path's first certificate becomes the only trust anchor; crt_path/key_path (both or
 * neither) the client certificate and key, which must belong together. */
int tls_client_cfg_load(struct tls_client_cfg **out, const char *ca_path, const char *crt_path,
			const char *key_path, struct err *e);
/* The registry's layout: mtls_dir/ca.crt, tls.crt, tls.key (with a hint when they are bad). */
int tls_client_cfg_load_dir(struct tls_client_cfg **out, const char *mtls_dir, struct err *e);
/*
 * The same, loaded only when it is needed: by tls_client_cfg_ensure, or by a handshake
 * that is not resumed (the server then sends its certificate and asks for ours); a
 * resumed one needs neither. A bundle that fails to load then fails that handshake with
 * the error tls_client_cfg_load_dir would have given.
 */
void tls_client_cfg_defer_dir(struct tls_client_cfg **out, const char *mtls_dir);
/* Loads a deferred bundle now (at most once; a failure is kept and given again). */
int tls_client_cfg_ensure(struct tls_client_cfg *cfg, struct err *e);
void tls_client_cfg_free(struct tls_client_cfg *cfg);

/*
 * TLS handshake over the blocking socket fd; the caller sets SO_RCVTIMEO and SO_SNDTIMEO
 * (a timeout is a BR_ERR_IO failure) and closes fd after tls_client_close. server_name is
 * matched against the server certificate's dNSName SANs and CN only (BearSSL ignores
 * iPAddress SANs: pass "localhost" for a loopback address); NULL skips the name check and
 * SNI, acceptable only because the anchor is the gateway's private CA. cfg must outlive the
 * client. Errors: ERR_UNAVAILABLE (connection lost, timed out), ERR_AUTH (rejected).
 * The handshake offers cfg's last session (resumption: no public-key operation on either
 * side when the gateway still has it) and keeps the session it ends with in cfg.
 */
int tls_client_connect_cfg(struct tls_client **out, int fd, const char *server_name,
			   struct tls_client_cfg *cfg, struct err *e);
/* The same with a configuration loaded from mtls_dir and owned by the client. */
int tls_client_connect(struct tls_client **out, int fd, const char *server_name,
		       const char *mtls_dir, struct err *e);
/* The handshake resumed cfg's session (an abbreviated handshake). */
bool tls_client_resumed(const struct tls_client *c);
/* A session kept by another process (tls_session.h's blob); -1 when it is not a blob of
 * ours or has expired at now_wall_ms, and then cfg is unchanged. */
int tls_client_cfg_session_import(struct tls_client_cfg *cfg, const unsigned char *blob,
				  size_t n, int64_t now_wall_ms);
/* True, with blob (TLS_SESSION_BLOB_LEN bytes) filled, when a full handshake made a new
 * session since cfg was loaded or last exported: the caller may keep it (0600). */
bool tls_client_cfg_session_export(struct tls_client_cfg *cfg, unsigned char *blob,
				   int64_t now_wall_ms);
/* Writes and flushes. */
int tls_client_write_all(struct tls_client *c, const void *p, size_t n, struct err *e);
/* Bytes read, 0 at a clean close (close_notify), -1 on error. */
ssize_t tls_client_read(struct tls_client *c, void *p, size_t n, struct err *e);
/* Decrypted bytes wait in the engine (read them before polling the socket). */
bool tls_client_pending(struct tls_client *c);
/* Sends close_notify if the session is up (without waiting for the peer's) and frees c. */
void tls_client_close(struct tls_client *c);

/* ---- errors ---- */

/* "BR_ERR_X509_NOT_TRUSTED"; alerts as "BR_ERR_RECV_FATAL_ALERT+42"; never NULL. */
const char *tls_error_name(int code);
/* "certificate is not signed by this gateway's CA (BR_ERR_X509_NOT_TRUSTED)"; received and
 * sent alerts are named ("the peer sent alert 42 bad_certificate: ..."). The text may live
 * in a thread-local buffer that the next call reuses. */
const char *tls_error_text(int code);

#endif
