/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A DER writer that writes backwards from the end of a caller-owned buffer (content,
 * then length, then tag), so nested structures need no second pass. Every function
 * returns the number of bytes it wrote, or -1 when the buffer is full (the writer then
 * stays failed: w->err is set and every later call returns -1).
 */
#ifndef OS_DER_H
#define OS_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct der {
	unsigned char *buf;
	size_t cap, pos; /* bytes are in buf[pos, cap) */
	bool err;
};

enum {
	DER_BOOLEAN = 0x01, DER_INTEGER = 0x02, DER_BIT_STRING = 0x03, DER_OCTET_STRING = 0x04,
	DER_NULL = 0x05, DER_OID = 0x06, DER_UTF8 = 0x0c, DER_UTCTIME = 0x17,
	DER_GENTIME = 0x18, DER_SEQUENCE = 0x30, DER_SET = 0x31,
};
#define DER_CTX(n) (0xa0 | (n))      /* [n] constructed (EXPLICIT) */
#define DER_CTX_PRIM(n) (0x80 | (n)) /* [n] primitive (IMPLICIT) */

void der_init(struct der *w, unsigned char *buf, size_t cap);
size_t der_len(const struct der *w);
const unsigned char *der_data(const struct der *w);

/* Raw bytes (already encoded, or content of an element closed with der_wrap). */
int der_raw(struct der *w, const void *p, size_t n);
/* Wraps the last n written bytes in tag + length: der_wrap(w, DER_SEQUENCE, n). */
int der_wrap(struct der *w, unsigned tag, size_t n);
int der_tlv(struct der *w, unsigned tag, const void *p, size_t n);
/* An unsigned big-endian integer (leading zeros dropped, 0x00 added when the top bit is set). */
int der_uint(struct der *w, const unsigned char *be, size_t n);
int der_small_int(struct der *w, long v);
int der_bool(struct der *w, bool v);
/* OID from its DER content bytes. */
int der_oid(struct der *w, const unsigned char *content, size_t n);
/* BIT STRING with no unused bits. */
int der_bits(struct der *w, const void *p, size_t n);
/* UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
int der_time(struct der *w, int64_t unix_secs);

#endif
