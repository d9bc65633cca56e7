/* SPDX-License-Identifier: Apache-2.0 */
/* Growable string buffer; see buf.h. */
#include "buf.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

char buf_empty[1];

void buf_init(struct buf *b)
{
	b->p = buf_empty;
	b->len = 0;
	b->cap = 0;
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - b->len - 1)
		xdie_oom();
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 3 * 2 ? need : cap + cap / 2;
	if (b->cap == 0) {
		b->p = xmalloc(cap);
		b->p[0] = '\0';
	} else {
		b->p = xrealloc(b->p, cap);
	}
	b->cap = cap;
}

void buf_add(struct buf *b, const void *data, size_t n)
{
	if (n == 0)
		return;
	buf_grow(b, n);
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		xdie_oom();
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_add_shell_quoted(struct buf *b, const char *s)
{
	const char *q;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./_-=:,+@%") ==
			  strlen(s)) {
		buf_adds(b, s);
		return;
	}
	buf_addch(b, '\'');
	for (q = s; *q; q++) {
		if (*q == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addch(b, *q);
	}
	buf_addch(b, '\'');
}

void buf_setlen(struct buf *b, size_t len)
{
	if (b->cap == 0)
		return;
	if (len >= b->cap)
		len = b->cap - 1;
	b->len = len;
	b->p[len] = '\0';
}

void buf_reset(struct buf *b)
{
	buf_setlen(b, 0);
}

void buf_release(struct buf *b)
{
	if (b->cap)
		free(b->p);
	buf_init(b);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p;

	if (len)
		*len = b->len;
	p = b->cap ? b->p : xstrdup("");
	buf_init(b);
	return p;
}
