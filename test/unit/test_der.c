/* SPDX-License-Identifier: Apache-2.0 */
/* DER writer: encodings against known byte strings, bounds and the sticky error. */
#include "unit.h"
#include "../../lib/der.h"

#include <stdint.h>

/* Encodes with fn into a fresh writer and compares with want (hex, spaces ignored). */
static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static size_t unhex(const char *s, unsigned char *out)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == ' ')
			continue;
		out[n++] = (unsigned char)(hexval(s[0]) << 4 | hexval(s[1]));
		s++;
	}
	return n;
}

static void check_bytes(const char *file, int line, const struct der *w, int r, const char *hex)
{
	unsigned char want[512];
	size_t n = unhex(hex, want);

	if (r != (int)n || der_len(w) != n || memcmp(der_data(w), want, n) != 0)
		unit_fail(file, line, "encoding differs from %s (returned %d, length %zu)", hex, r,
			  der_len(w));
}

#define EXPECT(expr, hex)                                       \
	do {                                                    \
		der_init(&w, b, sizeof(b));                     \
		int r_ = (expr);                                \
		check_bytes(__FILE__, __LINE__, &w, r_, (hex)); \
	} while (0)

TEST(der_integers)
{
	unsigned char b[64];
	struct der w;

	EXPECT(der_int(&w, 0), "02 01 00");
	EXPECT(der_int(&w, 127), "02 01 7f");
	EXPECT(der_int(&w, 128), "02 02 00 80");
	EXPECT(der_int(&w, 256), "02 02 01 00");
	EXPECT(der_int(&w, -1), "02 01 ff");
	EXPECT(der_int(&w, -128), "02 01 80");
	EXPECT(der_int(&w, -129), "02 02 ff 7f");
	EXPECT(der_int(&w, INT64_MAX), "02 08 7f ff ff ff ff ff ff ff");
	EXPECT(der_int(&w, INT64_MIN), "02 08 80 00 00 00 00 00 00 00");
	EXPECT(der_uint(&w, (const unsigned char *)"\x00\x00\x01", 3), "02 01 01");
	EXPECT(der_uint(&w, (const unsigned char *)"\x80", 1), "02 02 00 80");
	EXPECT(der_uint(&w, (const unsigned char *)"\x00\x00", 2), "02 01 00");
	EXPECT(der_uint(&w, NULL, 0), "02 01 00");
	/* a 16-byte serial with the top bit set stays positive: 17 content bytes */
	EXPECT(der_uint(&w,
			(const unsigned char *)"\xc0\x01\x02\x03\x04\x05\x06\x07"
					       "\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
			16),
	       "02 11 00 c0 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f");
}

TEST(der_primitives)
{
	static const unsigned char cn[] = { 0x55, 0x04, 0x03 }, bad_oid[] = { 0x55, 0x84 };
	static const unsigned char ku_ca = 0x06, ku_leaf = 0x80, odd = 0x81;
	unsigned char b[64];
	struct der w;

	EXPECT(der_null(&w), "05 00");
	EXPECT(der_bool(&w, true), "01 01 ff");
	EXPECT(der_bool(&w, false), "01 01 00");
	EXPECT(der_oid(&w, cn, sizeof(cn)), "06 03 55 04 03");
	EXPECT(der_bits(&w, &ku_ca, 1, 1), "03 02 01 06");
	EXPECT(der_bits(&w, &ku_leaf, 1, 7), "03 02 07 80");
	EXPECT(der_bits(&w, NULL, 0, 0), "03 01 00");
	EXPECT(der_octets(&w, "ab", 2), "04 02 61 62");
	EXPECT(der_utf8(&w, "openshell"), "0c 09 6f 70 65 6e 73 68 65 6c 6c");
	EXPECT(der_implicit(&w, 2, "a", 1), "82 01 61");
	EXPECT(der_implicit(&w, 7, "\x7f\x00\x00\x01", 4), "87 04 7f 00 00 01");
	/* invalid input fails instead of writing something wrong */
	der_init(&w, b, sizeof(b));
	CHECK_INT(der_oid(&w, bad_oid, sizeof(bad_oid)), -1);
	der_init(&w, b, sizeof(b));
	CHECK_INT(der_oid(&w, cn, 0), -1);
	der_init(&w, b, sizeof(b));
	CHECK_INT(der_bits(&w, &odd, 1, 1), -1); /* unused bit set */
	der_init(&w, b, sizeof(b));
	CHECK_INT(der_bits(&w, &ku_ca, 1, 8), -1);
	der_init(&w, b, sizeof(b));
	CHECK_INT(der_implicit(&w, 31, "a", 1), -1);
	CHECK(der_failed(&w));
}

TEST(der_times)
{
	unsigned char b[64];
	struct der w;

	/* "700101000000Z" */
	EXPECT(der_time(&w, 0), "17 0d 37 30 30 31 30 31 30 30 30 30 30 30 5a");
	/* 2049-12-31T23:59:59Z: the last UTCTime, "491231235959Z" */
	EXPECT(der_time(&w, 2524607999LL), "17 0d 34 39 31 32 33 31 32 33 35 39 35 39 5a");
	/* 2050-01-01T00:00:00Z: GeneralizedTime "20500101000000Z" */
	EXPECT(der_time(&w, 2524608000LL), "18 0f 32 30 35 30 30 31 30 31 30 30 30 30 30 30 5a");
	/* the certificates' notAfter, 4096-01-01T00:00:00Z */
	EXPECT(der_time(&w, 67090118400LL), "18 0f 34 30 39 36 30 31 30 31 30 30 30 30 30 30 5a");
	/* 1949-12-31T23:59:59Z is before UTCTime's range */
	EXPECT(der_time(&w, -631152001LL), "18 0f 31 39 34 39 31 32 33 31 32 33 35 39 35 39 5a");
	der_init(&w, b, sizeof(b));
	CHECK_INT(der_time(&w, 400000000000LL), -1); /* year 14645 */
}

TEST(der_nesting_and_lengths)
{
	static unsigned char big[70000];
	static unsigned char out[70010];
	unsigned char b[64];
	struct der w;
	size_t m, inner;

	/* SEQUENCE { INTEGER 1, SEQUENCE { BOOLEAN TRUE } }, written backwards */
	der_init(&w, b, sizeof(b));
	m = der_len(&w);
	inner = der_len(&w);
	der_bool(&w, true);
	der_close(&w, DER_SEQUENCE, inner);
	der_int(&w, 1);
	check_bytes(__FILE__, __LINE__, &w, der_close(&w, DER_SEQUENCE, m),
		    "30 08 02 01 01 30 03 01 01 ff");
	/* [0] EXPLICIT INTEGER 2 (a certificate's version), SET */
	der_init(&w, b, sizeof(b));
	der_int(&w, 2);
	check_bytes(__FILE__, __LINE__, &w, der_explicit(&w, 0, 0), "a0 03 02 01 02");
	der_init(&w, b, sizeof(b));
	der_null(&w);
	check_bytes(__FILE__, __LINE__, &w, der_close(&w, DER_SET, 0), "31 02 05 00");
	/* long lengths: 0x81 xx, 0x82 xx xx, 0x83 xx xx xx */
	der_init(&w, out, sizeof(out));
	CHECK_INT(der_octets(&w, big, 200), 203);
	CHECK(!memcmp(der_data(&w), "\x04\x81\xc8", 3));
	der_init(&w, out, sizeof(out));
	CHECK_INT(der_octets(&w, big, 300), 304);
	CHECK(!memcmp(der_data(&w), "\x04\x82\x01\x2c", 4));
	der_init(&w, out, sizeof(out));
	CHECK_INT(der_octets(&w, big, 65536), 65541);
	CHECK(!memcmp(der_data(&w), "\x04\x83\x01\x00\x00", 5));
	/* a mark beyond what was written, or a high tag number, is refused */
	der_init(&w, b, sizeof(b));
	CHECK_INT(der_close(&w, DER_SEQUENCE, 1), -1);
	der_init(&w, b, sizeof(b));
	CHECK_INT(der_close(&w, 0x1f, 0), -1);
	der_init(&w, b, sizeof(b));
	CHECK_INT(der_explicit(&w, 31, 0), -1);
}

/* A nested structure into every buffer size: it fits exactly or fails cleanly, and never
 * writes outside the buffer (guard bytes on both sides). */
TEST(der_is_bounded)
{
	unsigned char mem[128 + 16], want[128];
	struct der w;
	size_t cap, full = 0, i, m;
	int r;

	for (cap = 0; cap <= 128; cap++) {
		memset(mem, 0xa5, sizeof(mem));
		der_init(&w, mem + 8, cap);
		m = der_len(&w);
		der_utf8(&w, "openshell-server");
		der_int(&w, -300);
		der_bits(&w, "\x80", 1, 7);
		der_null(&w);
		r = der_close(&w, DER_SEQUENCE, m);
		for (i = 0; i < 8; i++)
			CHECK(mem[i] == 0xa5 && mem[8 + cap + i] == 0xa5);
		if (r < 0) {
			CHECK(der_failed(&w));
			CHECK_INT(der_null(&w), -1); /* sticky */
			continue;
		}
		if (!full) {
			full = der_len(&w);
			memcpy(want, der_data(&w), full);
			CHECK_INT(cap, full); /* the first size that works is the exact size */
		}
		CHECK_INT(der_len(&w), full);
		CHECK(!memcmp(der_data(&w), want, full));
	}
	CHECK(full > 0);
}
