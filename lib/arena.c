// SPDX-License-Identifier: Apache-2.0
/* The bump allocator of arena.h: a list of blocks, the newest first. */
#include "lib/arena.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/xalloc.h"

#define ARENA_BLOCK 8192

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	bool owned; /* malloc'd by the arena (false: arena_use's memory) */
	alignas(max_align_t) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	struct arena_block *b = a->head;
	size_t need = (n + align - 1) & ~(align - 1);
	void *p;

	if (need < n)
		xdie_oom();
	if (!b || b->cap - b->used < need) {
		size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;

		if (cap > SIZE_MAX - sizeof(*b))
			xdie_oom();
		b = xmalloc(sizeof(*b) + cap);
		b->used = 0;
		b->cap = cap;
		b->owned = true;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += need;
	memset(p, 0, n);
	return p;
}

void *arena_array(struct arena *a, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		xdie_oom();
	return arena_alloc(a, nmemb * size);
}

void *arena_grow(struct arena *a, void *old, size_t old_nmemb, size_t nmemb, size_t size)
{
	void *p = arena_array(a, nmemb, size);

	if (old && old_nmemb)
		memcpy(p, old, (old_nmemb < nmemb ? old_nmemb : nmemb) * size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		xdie_oom();
	p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		xdie_oom();
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void arena_use(struct arena *a, void *mem, size_t n)
{
	const size_t align = alignof(max_align_t);
	uintptr_t start = ((uintptr_t)mem + align - 1) & ~(uintptr_t)(align - 1);
	size_t skip = start - (uintptr_t)mem;
	struct arena_block *b = (struct arena_block *)start;

	if (n < skip + sizeof(*b) + align)
		return; /* too small to hold anything: the arena mallocs as before */
	b->used = 0;
	b->cap = n - skip - sizeof(*b);
	b->owned = false;
	b->next = a->head;
	a->head = b;
}

void arena_release(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		if (b->owned)
			free(b);
	}
	a->head = NULL;
}
