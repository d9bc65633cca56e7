/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A DER writer that writes backwards from the end of a caller-owned buffer (content, then
 * length, then tag, as mbedTLS's asn1write does), so nested lengths need no second pass:
 *
 *	size_t mark = der_len(&w);      // remember where the SEQUENCE's content ends
 *	der_bool(&w, true);             // last element first
 *	der_small_int(&w, 1);
 *	der_close(&w, DER_SEQUENCE, mark);
 *
 * Every writer returns the number of bytes it added, or -1 when the buffer is full or the
 * input cannot be encoded. The writer never touches memory outside buf[0, cap) and the
 * error is sticky: after the first failure every call returns -1 and der_failed() is true,
 * so a caller may write a whole structure and check once at the end.
 * Only low tag numbers (0..30) are supported; lengths use the definite form.
 */
#ifndef OS_DER_H
#define OS_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct der {
	unsigned char *buf;
	size_t cap, pos; /* the encoding is buf[pos, cap) */
	bool err;
};

enum der_tag {
	DER_BOOLEAN = 0x01,
	DER_INTEGER = 0x02,
	DER_BIT_STRING = 0x03,
	DER_OCTET_STRING = 0x04,
	DER_NULL = 0x05,
	DER_OID = 0x06,
	DER_UTF8 = 0x0c,
	DER_PRINTABLE = 0x13,
	DER_IA5 = 0x16,
	DER_UTCTIME = 0x17,
	DER_GENTIME = 0x18,
	DER_SEQUENCE = 0x30,
	DER_SET = 0x31,
};
/* Context-specific tags: [n] constructed (EXPLICIT, or IMPLICIT over a constructed type) and
 * [n] primitive (IMPLICIT over a primitive type, e.g. GeneralName dNSName is [2]). */
#define DER_CTX(n)	((unsigned)(0xa0 | (n)))
#define DER_CTX_PRIM(n) ((unsigned)(0x80 | (n)))

/* cap is clamped to INT_MAX so that every count fits the int return values. */
void der_init(struct der *w, unsigned char *buf, size_t cap);
/* Bytes written so far; also the "mark" der_close takes. */
size_t der_len(const struct der *w);
/* The encoding: der_len(w) bytes. */
const unsigned char *der_data(const struct der *w);
bool der_failed(const struct der *w);

/* Prepends n raw bytes (an encoding made elsewhere). */
int der_raw(struct der *w, const void *p, size_t n);
/* Prepends tag and length for the n bytes written last; returns n plus the header. */
int der_wrap(struct der *w, unsigned tag, size_t n);
/* Wraps everything written since mark = der_len() taken before the content. */
int der_close(struct der *w, unsigned tag, size_t mark);
/* Tag, length and n content bytes. */
int der_tlv(struct der *w, unsigned tag, const void *p, size_t n);

/* INTEGER from an unsigned big-endian magnitude (a serial number): leading zero bytes are
 * dropped and a 0x00 is added when the top bit is set, so the value stays positive. */
int der_uint(struct der *w, const unsigned char *be, size_t n);
/* INTEGER from a signed value, minimal two's complement. */
int der_int(struct der *w, int64_t v);
int der_bool(struct der *w, bool v);
int der_null(struct der *w);
/* OID from its content bytes (e.g. 2.5.4.3 is 55 04 03). */
int der_oid(struct der *w, const unsigned char *content, size_t n);
/* BIT STRING; unused (0..7) low bits of the last byte, which must be zero; n == 0 needs 0. */
int der_bits(struct der *w, const void *p, size_t n, unsigned unused);
int der_octets(struct der *w, const void *p, size_t n);
/* UTF8String of a C string (not checked for UTF-8 validity). */
int der_utf8(struct der *w, const char *s);
/* UTCTime for 1950..2049, GeneralizedTime for other years 0..9999 (RFC 5280 4.1.2.5),
 * both "Z" with seconds. */
int der_time(struct der *w, int64_t unix_secs);
/* [n] EXPLICIT around everything written since mark. */
int der_explicit(struct der *w, unsigned n, size_t mark);
/* [n] IMPLICIT primitive with content p (the underlying type's content, e.g. an IA5String). */
int der_implicit(struct der *w, unsigned n, const void *p, size_t len);

#endif
