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
/* The next allocations come from mem (n bytes, owned by the caller, e.g. on the stack)
 * until it is full; arena_release() frees only what the arena malloc'd. For short-lived
 * arenas on a hot path in a threaded process: musl's free() of a block of ARENA_BLOCK
 * size gives its pages back with madvise, a TLB shootdown on every other CPU. */
void arena_use(struct arena *a, void *mem, size_t n);
void arena_release(struct arena *a);

#endif
