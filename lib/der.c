/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backwards DER writer (see der.h). Used by pki.c to build certificates; it only encodes,
 * parsing is BearSSL's job. No allocation: the caller owns the buffer.
 */
#include "der.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void der_init(struct der *w, unsigned char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap > INT_MAX ? INT_MAX : cap;
	w->pos = w->cap;
	w->err = false;
}

size_t der_len(const struct der *w)
{
	return w->cap - w->pos;
}

const unsigned char *der_data(const struct der *w)
{
	return w->buf + w->pos;
}

bool der_failed(const struct der *w)
{
	return w->err;
}

static int fail(struct der *w)
{
	w->err = true;
	return -1;
}

int der_raw(struct der *w, const void *p, size_t n)
{
	if (w->err || n > w->pos)
		return fail(w);
	w->pos -= n;
	if (n)
		memmove(w->buf + w->pos, p, n);
	return (int)n;
}

/* Definite length: short form below 128, else 0x80|count and the big-endian bytes. */
static int put_len(struct der *w, size_t n)
{
	unsigned char b[1 + sizeof(size_t)];
	size_t k = 0;

	if (n < 0x80) {
		b[0] = (unsigned char)n;
		return der_raw(w, b, 1);
	}
	for (; n; n >>= 8)
		b[sizeof(b) - 1 - k++] = (unsigned char)(n & 0xff);
	b[sizeof(b) - 1 - k] = (unsigned char)(0x80 | k);
	return der_raw(w, b + sizeof(b) - 1 - k, k + 1);
}

int der_wrap(struct der *w, unsigned tag, size_t n)
{
	unsigned char t = (unsigned char)tag;
	int l;

	/* high tag numbers (0x1f) would need more bytes; n must be what was just written */
	if (w->err || tag > 0xff || (tag & 0x1f) == 0x1f || n > der_len(w))
		return fail(w);
	if ((l = put_len(w, n)) < 0 || der_raw(w, &t, 1) < 0)
		return -1;
	return (int)n + l + 1;
}

int der_close(struct der *w, unsigned tag, size_t mark)
{
	if (w->err || mark > der_len(w))
		return fail(w);
	return der_wrap(w, tag, der_len(w) - mark);
}

int der_tlv(struct der *w, unsigned tag, const void *p, size_t n)
{
	if (der_raw(w, p, n) < 0)
		return -1;
	return der_wrap(w, tag, n);
}

int der_uint(struct der *w, const unsigned char *be, size_t n)
{
	size_t mark = der_len(w);
	unsigned char zero = 0;

	while (n > 0 && be[0] == 0)
		be++, n--;
	if (der_raw(w, be, n) < 0)
		return -1;
	/* zero is one 0x00 byte; a set top bit would read as negative */
	if ((n == 0 || (be[0] & 0x80)) && der_raw(w, &zero, 1) < 0)
		return -1;
	return der_close(w, DER_INTEGER, mark);
}

int der_int(struct der *w, int64_t v)
{
	unsigned char b[8];
	uint64_t u = (uint64_t)v;
	size_t i = 0;

	for (i = 0; i < sizeof(b); i++)
		b[sizeof(b) - 1 - i] = (unsigned char)(u >> (8 * i));
	/* minimal two's complement: drop a leading byte that only repeats the next one's sign */
	for (i = 0; i < sizeof(b) - 1; i++) {
		if (!(b[i] == 0x00 && !(b[i + 1] & 0x80)) && !(b[i] == 0xff && (b[i + 1] & 0x80)))
			break;
	}
	return der_tlv(w, DER_INTEGER, b + i, sizeof(b) - i);
}

int der_bool(struct der *w, bool v)
{
	unsigned char b = v ? 0xff : 0x00;

	return der_tlv(w, DER_BOOLEAN, &b, 1);
}

int der_null(struct der *w)
{
	return der_tlv(w, DER_NULL, NULL, 0);
}

int der_oid(struct der *w, const unsigned char *content, size_t n)
{
	/* an OID has at least one arc and its last byte ends an arc (high bit clear) */
	if (n == 0 || (content[n - 1] & 0x80))
		return fail(w);
	return der_tlv(w, DER_OID, content, n);
}

int der_bits(struct der *w, const void *p, size_t n, unsigned unused)
{
	size_t mark = der_len(w);
	unsigned char u = (unsigned char)unused;
	const unsigned char *b = p;

	/* DER: the unused bits are zero, and an empty string has none */
	if (unused > 7 || (n == 0 && unused) || (n && (b[n - 1] & ((1u << unused) - 1))))
		return fail(w);
	if (der_raw(w, p, n) < 0 || der_raw(w, &u, 1) < 0)
		return -1;
	return der_close(w, DER_BIT_STRING, mark);
}

int der_octets(struct der *w, const void *p, size_t n)
{
	return der_tlv(w, DER_OCTET_STRING, p, n);
}

int der_utf8(struct der *w, const char *s)
{
	return der_tlv(w, DER_UTF8, s, strlen(s));
}

int der_time(struct der *w, int64_t unix_secs)
{
	time_t t = (time_t)unix_secs;
	struct tm tm;
	char s[32];
	int year;

	if ((int64_t)t != unix_secs || !gmtime_r(&t, &tm))
		return fail(w);
	year = tm.tm_year + 1900;
	if (year < 0 || year > 9999)
		return fail(w);
	snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ", year, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (year >= 1950 && year < 2050) /* UTCTime: two-digit year */
		return der_tlv(w, DER_UTCTIME, s + 2, strlen(s + 2));
	return der_tlv(w, DER_GENTIME, s, strlen(s));
}

int der_explicit(struct der *w, unsigned n, size_t mark)
{
	if (n > 30)
		return fail(w);
	return der_close(w, DER_CTX(n), mark);
}

int der_implicit(struct der *w, unsigned n, const void *p, size_t len)
{
	if (n > 30)
		return fail(w);
	return der_tlv(w, DER_CTX_PRIM(n), p, len);
}
