/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct arena: a bump allocator for data that lives and dies together (a parsed policy,
 * a report). Blocks are malloc'd as needed; arena_release() frees them all at once.
 * Allocation failure aborts (xalloc.h), so allocations never fail. Memory is zeroed.
 */
#ifndef OS_ARENA_H
#define OS_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
};

#define ARENA_INIT { NULL }

/* n bytes, zeroed, aligned for any object. */
void *arena_alloc(struct arena *a, size_t n);
/* nmemb * size bytes (checked for overflow), zeroed. */
void *arena_array(struct arena *a, size_t nmemb, size_t size);
/* Grows an array allocated from the arena to nmemb elements (the old memory stays until
 * release); old_nmemb elements are copied. */
void *arena_grow(struct arena *a, void *old, size_t old_nmemb, size_t nmemb, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_release(struct arena *a);

#endif
