/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encoder and incremental decoder for the upgraded exec/attach/file stream; the format is
 * documented in frame.h. Whole frames found in one read are handed out without copying;
 * only a frame split across reads is gathered, bounded by FRAME_MAX_PAYLOAD.
 */
#include "frame.h"
#include "util.h"

#include <string.h>

static const char *const names[] = {
	"unknown", "stdin", "stdout", "stderr", "resize", "exit", "eof", "data", "error",
};

const char *frame_type_name(unsigned type)
{
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : names[0];
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

void frame_decoder_init(struct frame_decoder *d)
{
	memset(d, 0, sizeof(*d));
	buf_init(&d->payload);
}

void frame_decoder_release(struct frame_decoder *d)
{
	buf_release(&d->payload);
	d->hdr_len = 0;
}

bool frame_decoder_idle(const struct frame_decoder *d)
{
	return !d->failed && d->hdr_len == 0;
}

static int fail(struct frame_decoder *d, struct err *e, const char *what, unsigned type)
{
	d->failed = true;
	return err_set(e, ERR_INVALID, 0, "bad stream frame (type %u, %s): %s", type,
		       frame_type_name(type), what);
}

/* Everything the header alone decides, so a bogus length fails before any buffering. */
static int check_header(struct frame_decoder *d, unsigned type, uint32_t n, struct err *e)
{
	if (type < FRAME_STDIN || type > FRAME_ERROR)
		return fail(d, e, "unknown frame type", type);
	if (n > FRAME_MAX_PAYLOAD)
		return fail(d, e, "payload larger than 1 MiB", type);
	if ((type == FRAME_RESIZE || type == FRAME_EXIT) && n != 4)
		return fail(d, e, "payload must be 4 bytes", type);
	if (type == FRAME_EOF && n != 0)
		return fail(d, e, "payload must be empty", type);
	if (type == FRAME_ERROR && n == 0)
		return fail(d, e, "empty error message", type);
	return 0;
}

static int finish(struct frame_decoder *d, struct frame *f, unsigned type, uint32_t n,
		  const unsigned char *data, struct err *e)
{
	size_t i, k;

	if (type == FRAME_ERROR) {
		for (i = 0; i < n; i += k)
			if ((k = utf8_seq_len(data + i, n - i)) == 0)
				return fail(d, e, "message is not UTF-8", type);
	}
	f->type = (uint8_t)type;
	f->len = n;
	f->data = data;
	return 1;
}

int frame_decode(struct frame_decoder *d, const void *in, size_t len, size_t *used, struct frame *f,
		 struct err *e)
{
	const unsigned char *s = in;
	size_t off, take;
	uint32_t n;

	*used = 0;
	if (d->failed)
		return err_set(e, ERR_INVALID, 0, "stream already failed on a bad frame");
	if (d->hdr_len == 0 && len >= FRAME_HEADER_LEN) {
		n = get_be32(s + 1);
		if (check_header(d, s[0], n, e) < 0)
			return -1;
		if (len - FRAME_HEADER_LEN >= n) {
			*used = FRAME_HEADER_LEN + (size_t)n;
			return finish(d, f, s[0], n, s + FRAME_HEADER_LEN, e);
		}
	}
	take = FRAME_HEADER_LEN - d->hdr_len;
	take = take < len ? take : len;
	memcpy(d->hdr + d->hdr_len, s, take);
	d->hdr_len += take;
	off = take;
	*used = off;
	if (d->hdr_len < FRAME_HEADER_LEN)
		return 0;
	n = get_be32(d->hdr + 1);
	if (take && check_header(d, d->hdr[0], n, e) < 0)
		return -1;
	if (take)
		buf_reset(&d->payload);
	take = n - d->payload.len;
	take = take < len - off ? take : len - off;
	buf_add(&d->payload, s + off, take);
	*used = off + take;
	if (d->payload.len < n)
		return 0;
	d->hdr_len = 0;
	return finish(d, f, d->hdr[0], n, (const unsigned char *)d->payload.p, e);
}

int frame_put(struct buf *b, enum frame_type type, const void *data, size_t n, struct err *e)
{
	unsigned char hdr[FRAME_HEADER_LEN];

	if (type < FRAME_STDIN || type > FRAME_ERROR)
		return err_set(e, ERR_INVALID, 0, "unknown frame type %d", (int)type);
	if (n > FRAME_MAX_PAYLOAD)
		return err_set(e, ERR_INVALID, 0, "frame payload of %zu bytes exceeds 1 MiB", n);
	hdr[0] = (unsigned char)type;
	put_be32(hdr + 1, (uint32_t)n);
	buf_add(b, hdr, sizeof(hdr));
	buf_add(b, data, n);
	return 0;
}

static void put_fixed(struct buf *b, enum frame_type type, const unsigned char *p, uint32_t n)
{
	unsigned char hdr[FRAME_HEADER_LEN];

	hdr[0] = (unsigned char)type;
	put_be32(hdr + 1, n);
	buf_add(b, hdr, sizeof(hdr));
	buf_add(b, p, n);
}

void frame_put_resize(struct buf *b, uint16_t rows, uint16_t cols)
{
	unsigned char p[4] = { (unsigned char)(rows >> 8), (unsigned char)rows,
			       (unsigned char)(cols >> 8), (unsigned char)cols };

	put_fixed(b, FRAME_RESIZE, p, 4);
}

void frame_put_exit(struct buf *b, int32_t status)
{
	unsigned char p[4];

	put_be32(p, (uint32_t)status);
	put_fixed(b, FRAME_EXIT, p, 4);
}

void frame_put_eof(struct buf *b)
{
	put_fixed(b, FRAME_EOF, NULL, 0);
}

void frame_put_error(struct buf *b, const char *msg)
{
	const unsigned char *s = (const unsigned char *)msg;
	size_t n = strlen(msg), i = 0, k, start;
	unsigned char hdr[FRAME_HEADER_LEN] = { FRAME_ERROR };

	if (n == 0) {
		put_fixed(b, FRAME_ERROR, (const unsigned char *)"error", 5);
		return;
	}
	start = b->len;
	buf_add(b, hdr, sizeof(hdr));
	/* invalid bytes become '?', so the receiver's UTF-8 check cannot reject the frame */
	while (i < n) {
		k = utf8_seq_len(s + i, n - i);
		if (b->len - start - FRAME_HEADER_LEN + (k ? k : 1) > FRAME_MAX_PAYLOAD)
			break;
		if (k)
			buf_add(b, s + i, k);
		else
			buf_addch(b, '?');
		i += k ? k : 1;
	}
	put_be32((unsigned char *)b->p + start + 1, (uint32_t)(b->len - start - FRAME_HEADER_LEN));
}

void frame_get_resize(const struct frame *f, uint16_t *rows, uint16_t *cols)
{
	*rows = (uint16_t)(f->data[0] << 8 | f->data[1]);
	*cols = (uint16_t)(f->data[2] << 8 | f->data[3]);
}

int32_t frame_get_exit(const struct frame *f)
{
	return (int32_t)get_be32(f->data);
}
