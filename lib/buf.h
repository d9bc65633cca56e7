/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct buf: a growable byte string, always NUL-terminated and never NULL
 * (BUF_INIT points at a shared empty string until the first append).
 * Allocation failure aborts the process (xalloc.h), so appends never fail.
 */
#ifndef OS_BUF_H
#define OS_BUF_H

#include <stddef.h>

struct buf {
	char *p;
	size_t len, cap; /* cap == 0: p points at the shared empty string */
};

extern char buf_empty[];
#define BUF_INIT { buf_empty, 0, 0 }

void buf_init(struct buf *b);
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s single-quoted for a POSIX shell when it holds unsafe characters. */
void buf_add_shell_quoted(struct buf *b, const char *s);
void buf_setlen(struct buf *b, size_t len);
/* Empties the buffer, keeps its memory. */
void buf_reset(struct buf *b);
/* Frees the memory; b is BUF_INIT afterwards. */
void buf_release(struct buf *b);
/* Hands the (malloc'd) string to the caller; b is BUF_INIT afterwards. */
char *buf_detach(struct buf *b, size_t *len);

#endif
