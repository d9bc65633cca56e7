/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation wrappers that abort on out-of-memory, as git, bwrap and crun do. */
#ifndef OS_XALLOC_H
#define OS_XALLOC_H

#include <stddef.h>
#include <stdlib.h>

__attribute__((noreturn)) void xdie_oom(void);
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* realloc for arrays: checks nmemb * size for overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
