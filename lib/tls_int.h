/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by tls.c (server) and tls_client.c: nothing outside lib/tls*.c includes this. */
#ifndef OS_TLS_INT_H
#define OS_TLS_INT_H

#include <bearssl.h>

/* TLS 1.2 only, ECDHE-ECDSA with AES-GCM or ChaCha20-Poly1305 (both ends). */
void tls_engine_setup(br_ssl_engine_context *eng);

/* Records up to this size are gathered and sent together (a handshake flight, a small
 * request behind it); larger ones go straight from the engine's buffer. */
#define TLS_STAGE_MAX 4096

/* The engine's record buffer (BR_SSL_BUFSIZE_BIDI bytes) as fresh pages of its own: only
 * the pages records reach are ever touched (a fault costs more than a small record), and
 * unmapping them gives them back to the kernel, which zeroes them; nothing to wipe. */
unsigned char *tls_iobuf_new(void);
void tls_iobuf_free(unsigned char *p);

#endif
