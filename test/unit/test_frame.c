/* SPDX-License-Identifier: Apache-2.0 */
/* lib/frame: the exec/attach/file stream; byte-exact encoding, split decoding, limits. */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/frame.h"

#include <stdlib.h>

struct decoded {
	int r;		/* last result: 0 need more, -1 error */
	int n;		/* frames */
	struct buf log; /* "type:len:payload;" per frame */
};

static void decode_all(struct decoded *out, const void *in, size_t len, size_t step)
{
	struct frame_decoder d;
	struct err e = ERR_INIT;
	const char *s = in;
	struct frame f;
	size_t off = 0, used, chunk;

	out->r = 0;
	out->n = 0;
	buf_init(&out->log);
	frame_decoder_init(&d);
	while (off < len) {
		chunk = len - off < step ? len - off : step;
		out->r = frame_decode(&d, s + off, chunk, &used, &f, &e);
		off += used;
		if (out->r < 0)
			break;
		if (out->r == 1) {
			buf_addf(&out->log, "%s:%u:", frame_type_name(f.type), (unsigned)f.len);
			buf_add(&out->log, f.data, f.len);
			buf_addch(&out->log, ';');
			out->n++;
			out->r = 0;
		}
	}
	frame_decoder_release(&d);
}

/* Decodes whole, byte by byte and in 3-byte pieces; all must agree. Returns the log. */
static void check_decode(const char *file, int line, const void *in, size_t len, int r,
			 const char *log)
{
	static const size_t steps[] = { 1, 3 };
	struct decoded w, s;
	size_t i;

	decode_all(&w, in, len, len ? len : 1);
	if (w.r != r || strcmp(w.log.p, log) != 0)
		unit_fail(file, line, "r=%d log '%s', expected r=%d '%s'", w.r, w.log.p, r, log);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		decode_all(&s, in, len, steps[i]);
		if (s.r != w.r || strcmp(s.log.p, w.log.p) != 0)
			unit_fail(file, line, "step %zu: r=%d log '%s'", steps[i], s.r, s.log.p);
		buf_release(&s.log);
	}
	buf_release(&w.log);
}

#define DECODE(lit, r, log) check_decode(__FILE__, __LINE__, lit, sizeof(lit) - 1, r, log)

TEST(frame_encode_bytes)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	CHECK_INT(frame_put(&b, FRAME_STDOUT, "hi", 2, &e), 0);
	frame_put_resize(&b, 24, 80);
	frame_put_exit(&b, -9);
	frame_put_eof(&b);
	frame_put_error(&b, "no such sandbox");
	CHECK_INT(b.len, 7 + 9 + 9 + 5 + 20);
	CHECK(memcmp(b.p, "\x02\0\0\0\x02hi", 7) == 0);
	CHECK(memcmp(b.p + 7, "\x04\0\0\0\x04\0\x18\0\x50", 9) == 0);
	CHECK(memcmp(b.p + 16, "\x05\0\0\0\x04\xff\xff\xff\xf7", 9) == 0);
	CHECK(memcmp(b.p + 25, "\x06\0\0\0\0", 5) == 0);
	CHECK(memcmp(b.p + 30, "\x08\0\0\0\x0fno such sandbox", 20) == 0);
	buf_release(&b);
}

TEST(frame_decode_split)
{
	DECODE("\x01\0\0\0\x03"
	       "abc"
	       "\x06\0\0\0\0"
	       "\x07\0\0\0\0"
	       "\x03\0\0\0\x01"
	       "!",
	       0, "stdin:3:abc;eof:0:;data:0:;stderr:1:!;");
	DECODE("\x02\0\0\0\x05"
	       "hel",
	       0, "");
	DECODE("\x02\0\0", 0, "");
	DECODE("\x08\0\0\0\x02\xc3\xa9", 0, "error:2:\xc3\xa9;");
}

TEST(frame_decode_rejects)
{
	/* unknown types */
	DECODE("\0\0\0\0\0", -1, "");
	DECODE("\11\0\0\0\0", -1, "");
	DECODE("\2\0\0\0\1a\143\0\0\0\0", -1, "stdout:1:a;");
	/* 1 MiB + 1, 4 GiB - 1: refused from the header alone */
	DECODE("\2\0\20\0\1", -1, "");
	DECODE("\2\377\377\377\377", -1, "");
	/* fixed sizes: resize and exit 4 bytes, eof nothing, error at least one byte */
	DECODE("\4\0\0\0\3abc", -1, "");
	DECODE("\5\0\0\0\5abcde", -1, "");
	DECODE("\6\0\0\0\1x", -1, "");
	DECODE("\10\0\0\0\0", -1, "");
	/* error text must be UTF-8 */
	DECODE("\10\0\0\0\1\377", -1, "");
	DECODE("\10\0\0\0\2\303x", -1, "");
	DECODE("\10\0\0\0\3\355\240\200", -1, "");
}

TEST(frame_max_payload)
{
	struct buf b = BUF_INIT, big = BUF_INIT;
	struct err e = ERR_INIT;
	struct frame_decoder d;
	struct frame f;
	size_t used, off;
	int r;

	buf_grow(&big, FRAME_MAX_PAYLOAD + 1);
	memset(big.p, 'z', FRAME_MAX_PAYLOAD + 1);
	CHECK_INT(frame_put(&b, FRAME_DATA, big.p, FRAME_MAX_PAYLOAD + 1, &e), -1);
	CHECK_INT(b.len, 0);
	CHECK_INT(frame_put(&b, FRAME_DATA, big.p, FRAME_MAX_PAYLOAD, &e), 0);
	CHECK_INT(frame_put(&b, 9, "", 0, &e), -1);

	/* a 1 MiB frame in 4 KiB reads: gathered once, then handed out */
	frame_decoder_init(&d);
	for (off = 0, r = 0; off < b.len && r == 0; off += used) {
		size_t n = b.len - off < 4096 ? b.len - off : 4096;

		r = frame_decode(&d, b.p + off, n, &used, &f, &e);
		if (r == 0)
			CHECK(!frame_decoder_idle(&d));
	}
	CHECK_INT(r, 1);
	CHECK_INT(off, b.len);
	CHECK_INT(f.type, FRAME_DATA);
	CHECK_INT(f.len, FRAME_MAX_PAYLOAD);
	CHECK(f.data[0] == 'z' && f.data[FRAME_MAX_PAYLOAD - 1] == 'z');
	CHECK(frame_decoder_idle(&d));
	/* whole frame in one read: no copy */
	CHECK_INT(frame_decode(&d, b.p, b.len, &used, &f, &e), 1);
	CHECK(f.data == (const unsigned char *)b.p + 5);
	frame_decoder_release(&d);
	buf_release(&b);
	buf_release(&big);
}

TEST(frame_fixed_payload_readers)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	struct frame_decoder d;
	struct frame f;
	uint16_t rows, cols;
	size_t used, off = 0;

	frame_put_resize(&b, 65535, 1);
	frame_put_exit(&b, 255);
	frame_put_exit(&b, INT32_MIN);
	frame_decoder_init(&d);
	CHECK_INT(frame_decode(&d, b.p, b.len, &used, &f, &e), 1);
	frame_get_resize(&f, &rows, &cols);
	CHECK_INT(rows, 65535);
	CHECK_INT(cols, 1);
	off += used;
	CHECK_INT(frame_decode(&d, b.p + off, b.len - off, &used, &f, &e), 1);
	CHECK_INT(frame_get_exit(&f), 255);
	off += used;
	CHECK_INT(frame_decode(&d, b.p + off, b.len - off, &used, &f, &e), 1);
	CHECK_INT(frame_get_exit(&f), INT32_MIN);
	off += used;
	CHECK_INT(off, b.len);
	/* errors are sticky */
	CHECK_INT(frame_decode(&d, "\x09\0\0\0\0", 5, &used, &f, &e), -1);
	CHECK_STR(e.msg, "bad stream frame (type 9, unknown): unknown frame type");
	CHECK_INT(frame_decode(&d, "\x06\0\0\0\0", 5, &used, &f, &e), -1);
	CHECK(!frame_decoder_idle(&d));
	frame_decoder_release(&d);
	buf_release(&b);
	CHECK_STR(frame_type_name(FRAME_RESIZE), "resize");
	CHECK_STR(frame_type_name(0), "unknown");
	CHECK_STR(frame_type_name(200), "unknown");
}

TEST(frame_error_message_is_always_valid)
{
	struct buf b = BUF_INIT, msg = BUF_INIT;
	struct err e = ERR_INIT;
	struct frame_decoder d;
	struct frame f;
	size_t used, i;

	frame_put_error(&b, "bad \xff byte");
	frame_put_error(&b, "");
	CHECK(memcmp(b.p,
		     "\x08\0\0\0\x0a"
		     "bad ? byte",
		     15) == 0);
	CHECK(memcmp(b.p + 15,
		     "\x08\0\0\0\x05"
		     "error",
		     10) == 0);
	buf_reset(&b);
	/* a message over 1 MiB is cut at a character boundary */
	for (i = 0; i < FRAME_MAX_PAYLOAD / 2 + 1; i++)
		buf_adds(&msg, "\xc3\xa9");
	frame_put_error(&b, msg.p);
	CHECK_INT(b.len, 5 + FRAME_MAX_PAYLOAD);
	frame_decoder_init(&d);
	CHECK_INT(frame_decode(&d, b.p, b.len, &used, &f, &e), 1);
	CHECK_INT(f.type, FRAME_ERROR);
	frame_decoder_release(&d);
	buf_reset(&b);
	buf_reset(&msg);
	buf_addch(&msg, 'x');
	for (i = 0; i < FRAME_MAX_PAYLOAD / 2; i++)
		buf_adds(&msg, "\xc3\xa9");
	frame_put_error(&b, msg.p);
	CHECK_INT(b.len, 5 + FRAME_MAX_PAYLOAD - 1);
	buf_release(&b);
	buf_release(&msg);
}
