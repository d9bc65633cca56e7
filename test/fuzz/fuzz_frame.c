/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the exec/attach/transfer frame decoder (lib/frame). The first byte
 * picks a chunk size; the rest is the stream. Decoded in one piece and in chunks, the
 * stream gives the same frames and the same verdict; the frames, encoded again, are
 * exactly the bytes they came from; a failed decoder stays failed.
 */
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct run {
	struct buf frames; /* every decoded frame, encoded again */
	size_t taken;	   /* input bytes used up to the end of the last whole frame */
	int verdict;	   /* -1: protocol error; 0: all input used */
};

/* Feeds data in pieces of `chunk` bytes (0: all at once). */
static void decode(const uint8_t *data, size_t size, size_t chunk, struct run *r)
{
	struct frame_decoder d;
	struct err e = ERR_INIT;
	struct frame f;
	size_t off = 0, used, end;
	int rc = 0;

	frame_decoder_init(&d);
	memset(r, 0, sizeof(*r));
	r->frames = (struct buf)BUF_INIT;
	while (off < size && rc >= 0) {
		end = chunk && size - off > chunk ? off + chunk : size;
		while (off < end) {
			rc = frame_decode(&d, data + off, end - off, &used, &f, &e);
			if (used > end - off)
				abort();
			off += used;
			if (rc < 0)
				break;
			if (rc == 1) {
				if (frame_put(&r->frames, (enum frame_type)f.type, f.data, f.len, &e) < 0)
					abort(); /* a frame handed out is a frame that can be sent */
				r->taken = off;
			} else if (off != end) {
				abort(); /* 0 means everything was taken */
			}
		}
	}
	r->verdict = rc < 0 ? -1 : 0;
	if (rc < 0 && frame_decode(&d, data, size, &used, &f, &e) != -1)
		abort(); /* sticky */
	if (rc >= 0 && frame_decoder_idle(&d) != (r->taken == size))
		abort();
	frame_decoder_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, pieces;
	size_t chunk;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 16 + 1;
	data++;
	size--;
	decode(data, size, 0, &whole);
	decode(data, size, chunk, &pieces);
	if (whole.verdict != pieces.verdict || whole.taken != pieces.taken ||
	    whole.frames.len != pieces.frames.len ||
	    memcmp(whole.frames.p, pieces.frames.p, whole.frames.len) != 0)
		abort();
	if (whole.frames.len != whole.taken || memcmp(whole.frames.p, data, whole.taken) != 0)
		abort();
	buf_release(&whole.frames);
	buf_release(&pieces.frames);
	return 0;
}
