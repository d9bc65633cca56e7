/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by tls.c (server) and tls_client.c: nothing outside lib/tls*.c includes this. */
#ifndef OS_TLS_INT_H
#define OS_TLS_INT_H

#include <bearssl.h>

/* TLS 1.2 only, ECDHE-ECDSA with AES-GCM or ChaCha20-Poly1305 (both ends). */
void tls_engine_setup(br_ssl_engine_context *eng);

#endif
