/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The framed bidirectional stream the gateway speaks after an HTTP Upgrade for exec,
 * attach, port-forward and file transfer (DESIGN.md §5).
 *
 * Wire format, both directions, frames back to back with no padding:
 *
 *	offset 0   1 byte   type
 *	offset 1   4 bytes  payload length N, unsigned big-endian, 0 <= N <= FRAME_MAX_PAYLOAD
 *	offset 5   N bytes  payload
 *
 * Types and payloads (anything else is a protocol error and ends the stream):
 *	1 stdin   client -> server: bytes for the process's standard input (N may be 0)
 *	2 stdout  server -> client: bytes the process wrote to standard output
 *	3 stderr  server -> client: bytes the process wrote to standard error
 *	4 resize  client -> server: N = 4: u16 rows, u16 cols, big-endian (terminal size)
 *	5 exit    server -> client: N = 4: i32 exit status, big-endian two's complement
 *	          (0..255 exit code, or -signal when killed by a signal); last frame
 *	6 eof     N = 0: from the client "no more stdin"; from the server "stream done"
 *	7 data    either way: file-transfer bytes (N may be 0)
 *	8 error   either way: N >= 1 bytes of UTF-8 text saying what failed; the sender
 *	          closes after it
 *
 * A payload over FRAME_MAX_PAYLOAD (1 MiB) is an error: senders split larger writes.
 * The decoder checks type, length and the fixed payload sizes before handing a frame out,
 * and never buffers more than one frame.
 */
#ifndef OS_FRAME_H
#define OS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum frame_type {
	FRAME_STDIN = 1,
	FRAME_STDOUT = 2,
	FRAME_STDERR = 3,
	FRAME_RESIZE = 4,
	FRAME_EXIT = 5,
	FRAME_EOF = 6,
	FRAME_DATA = 7,
	FRAME_ERROR = 8,
};

#define FRAME_HEADER_LEN  5
#define FRAME_MAX_PAYLOAD (1u << 20)

/* A decoded frame; data points into the caller's input or the decoder (valid until the next call). */
struct frame {
	uint8_t type;
	uint32_t len;
	const unsigned char *data;
};

struct frame_decoder {
	/* private */
	unsigned char hdr[FRAME_HEADER_LEN];
	size_t hdr_len;
	struct buf payload; /* only for frames split across reads */
	bool failed;
};

void frame_decoder_init(struct frame_decoder *d);
void frame_decoder_release(struct frame_decoder *d);
/*
 * Feeds bytes. Returns 1 with *f set when a frame is complete (*used counts the bytes
 * taken; call again with the rest), 0 when all of `in` was consumed without completing a
 * frame, -1 on a protocol error (unknown type, oversized or malformed payload; sticky).
 */
int frame_decode(struct frame_decoder *d, const void *in, size_t len, size_t *used, struct frame *f,
		 struct err *e);
/* True between frames (no partial frame buffered): a clean place for the peer to close. */
bool frame_decoder_idle(const struct frame_decoder *d);

/* Appends one frame; -1 (nothing appended) for a bad type or n > FRAME_MAX_PAYLOAD. */
int frame_put(struct buf *b, enum frame_type type, const void *data, size_t n, struct err *e);
void frame_put_resize(struct buf *b, uint16_t rows, uint16_t cols);
void frame_put_exit(struct buf *b, int32_t status);
void frame_put_eof(struct buf *b);
/* The message is cut to FRAME_MAX_PAYLOAD bytes at a UTF-8 boundary; "" becomes "error". */
void frame_put_error(struct buf *b, const char *msg);

/* Payload readers for the fixed-size types (the decoder already checked the size). */
void frame_get_resize(const struct frame *f, uint16_t *rows, uint16_t *cols);
int32_t frame_get_exit(const struct frame *f);

/* "stdin", "stdout", ... or "unknown". */
const char *frame_type_name(unsigned type);

#endif
