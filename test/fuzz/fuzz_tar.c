/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the tar reader (lib/tar_read.c). Whatever the split of the input,
 * the reader gives the same entries and the same verdict; every path it hands out is
 * relative, normalised and free of '..'; content never exceeds the announced size; and
 * an accepted archive, written again by the writer, reads back to the same entries.
 */
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/tar.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct run {
	struct buf log;
	struct tar_writer w;
	struct buf copy;
	uint64_t left;
};

static void check_path(const char *p)
{
	const char *c;
	size_t n = strlen(p);

	if (!n || p[0] == '/' || p[n - 1] == '/' || strstr(p, "//") || n > TAR_PATH_MAX)
		abort();
	for (c = p; c; c = strchr(c, '/')) {
		if (*c == '/')
			c++;
		if (!strncmp(c, "..", 2) && (c[2] == '/' || !c[2]))
			abort();
		if (c[0] == '.' && (c[1] == '/' || !c[1]))
			abort();
	}
}

static int on_entry(void *ctx, const struct tar_entry *en, struct err *e)
{
	struct run *r = ctx;

	check_path(en->path);
	if ((en->type == TAR_SYMLINK) != (en->link != NULL) || (en->type != TAR_FILE && en->size) ||
	    en->mode > 07777 || r->left)
		abort();
	r->left = en->size;
	buf_addf(&r->log, "%d %s %s %llu %o %lld;", en->type, en->path, en->link ? en->link : "",
		 (unsigned long long)en->size, en->mode, (long long)en->mtime);
	return tar_write_header(&r->w, en, e);
}

static int on_data(void *ctx, const void *p, size_t n, struct err *e)
{
	struct run *r = ctx;

	if (!n || n > r->left)
		abort();
	r->left -= n;
	buf_add(&r->log, p, n);
	return tar_write_data(&r->w, p, n, e);
}

static int on_end(void *ctx, struct err *e)
{
	struct run *r = ctx;

	(void)e;
	if (r->left)
		abort();
	buf_addch(&r->log, '|');
	return 0;
}

static const struct tar_ops ops = { on_entry, on_data, on_end };

static int sink(void *ctx, const void *p, size_t n, struct err *e)
{
	(void)e;
	buf_add(ctx, p, n);
	return 0;
}

/* Parses data in pieces of `step` bytes; returns the verdict, r->log the entries. */
static int parse(struct run *r, const uint8_t *data, size_t size, size_t step)
{
	struct tar_reader rd;
	struct err e = ERR_INIT;
	size_t off;
	int ret = 0;

	buf_init(&r->log);
	buf_init(&r->copy);
	r->left = 0;
	tar_writer_init(&r->w, sink, &r->copy);
	tar_reader_init(&rd, &ops, r);
	for (off = 0; off < size && ret == 0; off += step)
		ret = tar_reader_feed(&rd, data + off, size - off < step ? size - off : step, &e);
	if (ret == 0)
		ret = tar_reader_finish(&rd, &e);
	if (ret == 0 && tar_write_end(&r->w, &e) < 0)
		abort();
	if (ret < 0 && !e.msg[0])
		abort();
	tar_reader_release(&rd);
	tar_writer_release(&r->w);
	return ret;
}

static void release(struct run *r)
{
	buf_release(&r->log);
	buf_release(&r->copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a, b, c;
	size_t step = size ? (size_t)data[0] % 61 + 1 : 1;
	int ra = parse(&a, data, size, size ? size : 1), rb = parse(&b, data, size, step);

	if (ra != rb || (ra == 0 && (a.log.len != b.log.len || memcmp(a.log.p, b.log.p, a.log.len))))
		abort();
	if (ra == 0) {
		if (parse(&c, (const uint8_t *)a.copy.p, a.copy.len, 4096) != 0 ||
		    c.log.len != a.log.len || memcmp(c.log.p, a.log.p, a.log.len))
			abort();
		release(&c);
	}
	release(&a);
	release(&b);
	return 0;
}
