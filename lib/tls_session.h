/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS session resumption (RFC 5246 session IDs), so that a CLI command costs one cheap
 * abbreviated handshake instead of four ECDSA/ECDHE operations on each side.
 *
 * Server side: a fixed table of sessions that completed a full handshake (with the client
 * certificate verified, when one is required), each kept at most TLS_SESSION_TTL_MS so that
 * a master secret does not outlive its hour, with the verified subject names that the
 * abbreviated handshake does not carry again. The oldest entry makes room for a new one.
 *
 * Client side: the parameters of the last session, serialised to a small blob that the
 * CLI keeps (0600) beside the client key, which already grants as much as the session.
 */
#ifndef OS_TLS_SESSION_H
#define OS_TLS_SESSION_H

#include <bearssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_SESSION_TTL_MS (60LL * 60 * 1000)
#define TLS_SESSION_SLOTS 128
#define TLS_SESSION_NAME_MAX 128

struct tls_session_slot {
	br_ssl_session_parameters params;
	char cn[TLS_SESSION_NAME_MAX], ou[TLS_SESSION_NAME_MAX]; /* "" when not verified */
	int64_t saved_ms;
	bool used;
};

struct tls_session_cache {
	struct tls_session_slot slot[TLS_SESSION_SLOTS];
};

/* Records a session (32-byte id) with the peer's verified names (NULL when none). */
void tls_session_put(struct tls_session_cache *c, const br_ssl_session_parameters *p,
		     const char *cn, const char *ou, int64_t now_ms);
/* Looks up p->session_id; on a hit fills p and, when not NULL, cn/ou (size
 * TLS_SESSION_NAME_MAX). Expired entries are wiped and missed. */
bool tls_session_get(struct tls_session_cache *c, br_ssl_session_parameters *p, char *cn,
		     char *ou, int64_t now_ms);
/* Wipes every entry (master secrets included). */
void tls_session_clear(struct tls_session_cache *c);

/* The client's blob: magic, saved time, version, suite, id and master secret. */
#define TLS_SESSION_BLOB_LEN 101
int tls_session_encode(const br_ssl_session_parameters *p, int64_t saved_ms,
		       unsigned char out[TLS_SESSION_BLOB_LEN]);
/* -1 when the blob is not one of ours or is too old (or from the future) at now_ms. */
int tls_session_decode(const unsigned char *in, size_t n, int64_t now_ms,
		       br_ssl_session_parameters *p);

#endif
