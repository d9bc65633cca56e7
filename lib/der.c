/* SPDX-License-Identifier: Apache-2.0 */
/* Backwards DER writer; see der.h. */
#include "der.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void der_init(struct der *w, unsigned char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->pos = cap;
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

int der_raw(struct der *w, const void *p, size_t n)
{
	if (w->err || n > w->pos) {
		w->err = true;
		return -1;
	}
	w->pos -= n;
	memmove(w->buf + w->pos, p, n);
	return (int)n;
}

static int put_len(struct der *w, size_t n)
{
	unsigned char b[5];
	int k = 0;

	if (n < 0x80) {
		b[0] = (unsigned char)n;
		return der_raw(w, b, 1);
	}
	while (n) {
		b[4 - k++] = (unsigned char)(n & 0xff);
		n >>= 8;
	}
	b[4 - k] = (unsigned char)(0x80 | k);
	return der_raw(w, b + 4 - k, (size_t)k + 1);
}

int der_wrap(struct der *w, unsigned tag, size_t n)
{
	unsigned char t = (unsigned char)tag;
	int l;

	if ((l = put_len(w, n)) < 0 || der_raw(w, &t, 1) < 0)
		return -1;
	return (int)n + l + 1;
}

int der_tlv(struct der *w, unsigned tag, const void *p, size_t n)
{
	if (der_raw(w, p, n) < 0)
		return -1;
	return der_wrap(w, tag, n);
}

int der_uint(struct der *w, const unsigned char *be, size_t n)
{
	unsigned char zero = 0;
	size_t len;

	while (n > 1 && be[0] == 0)
		be++, n--;
	if (der_raw(w, be, n) < 0)
		return -1;
	len = n;
	if (n == 0 || be[0] & 0x80) {
		if (der_raw(w, &zero, 1) < 0)
			return -1;
		len++;
	}
	return der_wrap(w, DER_INTEGER, len);
}

int der_small_int(struct der *w, long v)
{
	unsigned char b[sizeof(long)];
	size_t i;

	for (i = 0; i < sizeof(b); i++)
		b[sizeof(b) - 1 - i] = (unsigned char)((unsigned long)v >> (8 * i));
	return der_uint(w, b, sizeof(b));
}

int der_bool(struct der *w, bool v)
{
	unsigned char b = v ? 0xff : 0x00;

	return der_tlv(w, DER_BOOLEAN, &b, 1);
}

int der_oid(struct der *w, const unsigned char *content, size_t n)
{
	return der_tlv(w, DER_OID, content, n);
}

int der_bits(struct der *w, const void *p, size_t n)
{
	unsigned char unused = 0;

	if (der_raw(w, p, n) < 0 || der_raw(w, &unused, 1) < 0)
		return -1;
	return der_wrap(w, DER_BIT_STRING, n + 1);
}

int der_time(struct der *w, int64_t unix_secs)
{
	time_t t = (time_t)unix_secs;
	struct tm tm;
	char s[20];

	if (!gmtime_r(&t, &tm))
		return w->err = true, -1;
	strftime(s, sizeof(s), "%Y%m%d%H%M%SZ", &tm);
	if (tm.tm_year + 1900 < 2050) /* UTCTime: two-digit year */
		return der_tlv(w, DER_UTCTIME, s + 2, strlen(s + 2));
	return der_tlv(w, DER_GENTIME, s, strlen(s));
}
