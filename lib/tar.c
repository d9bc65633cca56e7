/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tar subset of lib/tar.h, writing side: a streaming ustar/pax writer, and the path
 * normaliser the reader (tar_read.c) uses. Callers: lib/tarfs.c (files to archive and
 * back). No file system access here.
 */
#include "tar.h"
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define TAR_FLUSH (64 * 1024)

static const unsigned char zero_block[TAR_BLOCK];

static size_t padding(uint64_t size)
{
	return (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
}

/* ---- writer ------------------------------------------------------------------------------ */

void tar_writer_init(struct tar_writer *w, tar_sink_fn sink, void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->sink = sink;
	w->ctx = ctx;
	buf_init(&w->out);
}

void tar_writer_release(struct tar_writer *w)
{
	buf_release(&w->out);
}

static int flush(struct tar_writer *w, bool all, struct err *e)
{
	int r;

	if (!w->out.len || (!all && w->out.len < TAR_FLUSH))
		return 0;
	r = w->sink(w->ctx, w->out.p, w->out.len, e);
	buf_reset(&w->out);
	return r;
}

/* width counts the terminating NUL; the caller checked that v fits */
static void put_octal(unsigned char *field, size_t width, uint64_t v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%0*llo", (int)width - 1, (unsigned long long)v);
	memcpy(field, tmp, width);
}

static bool fits_octal(uint64_t v, size_t width)
{
	return v < (1ULL << (3 * (width - 1)));
}

/* Where path splits into a ustar prefix (<= 155) and name (<= 100); false when nowhere. */
static bool split_ustar(const char *path, size_t n, size_t *cut)
{
	size_t i;

	*cut = 0;
	if (n <= 100)
		return true;
	for (i = n - 1; i > 0; i--)
		if (path[i] == '/' && i <= 155 && n - i - 1 <= 100 && n - i - 1 > 0) {
			*cut = i;
			return true;
		}
	return false;
}

/* "LEN key=value\n", LEN counting the whole record including its own digits */
static void pax_add(struct buf *b, const char *key, const char *val, size_t vlen)
{
	size_t base = strlen(key) + vlen + 3, len = base + 1, d;

	for (;;) {
		char digits[24];

		d = (size_t)snprintf(digits, sizeof(digits), "%zu", len);
		if (base + d == len)
			break;
		len = base + d;
	}
	buf_addf(b, "%zu %s=", len, key);
	buf_add(b, val, vlen);
	buf_addch(b, '\n');
}

struct hdr_fields {
	const char *name, *prefix, *link;
	size_t name_len, prefix_len;
	char type;
	uint64_t size;
	unsigned mode;
	int64_t mtime;
};

static void add_header(struct tar_writer *w, const struct hdr_fields *f)
{
	unsigned char h[TAR_BLOCK];
	unsigned sum = 0;
	size_t i;

	memset(h, 0, sizeof(h));
	memcpy(h, f->name, f->name_len);
	put_octal(h + 100, 8, f->mode & 07777);
	put_octal(h + 108, 8, 0);
	put_octal(h + 116, 8, 0);
	put_octal(h + 124, 12, f->size);
	put_octal(h + 136, 12, (uint64_t)f->mtime);
	h[156] = (unsigned char)f->type;
	if (f->link)
		memcpy(h + 157, f->link, strlen(f->link));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 345, f->prefix, f->prefix_len);
	memset(h + 148, ' ', 8);
	for (i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	put_octal(h + 148, 7, sum);
	buf_add(&w->out, h, sizeof(h));
}

static void add_pax(struct tar_writer *w, const struct buf *pax)
{
	struct hdr_fields f = { "././@PaxHeader", "", NULL, 14, 0, 'x', pax->len, 0644, 0 };

	add_header(w, &f);
	buf_add(&w->out, pax->p, pax->len);
	buf_add(&w->out, zero_block, padding(pax->len));
}

static int check_entry(const struct tar_writer *w, const struct tar_entry *en, struct err *e)
{
	if (w->left || w->pad)
		return err_set(e, ERR_INVALID, 0, "tar: the previous file is incomplete");
	if (!en->path[0] || strlen(en->path) > TAR_PATH_MAX)
		return err_set(e, ERR_INVALID, 0, "tar: path too long or empty: '%.200s'", en->path);
	if (en->type == TAR_SYMLINK && (!en->link || !en->link[0] || strlen(en->link) > TAR_PATH_MAX))
		return err_set(e, ERR_INVALID, 0, "tar: bad symbolic link target for '%.200s'",
			       en->path);
	if (en->type == TAR_FILE && en->size > TAR_SIZE_MAX)
		return err_set(e, ERR_INVALID, 0, "tar: '%.200s' is too large", en->path);
	return 0;
}

int tar_write_header(struct tar_writer *w, const struct tar_entry *en, struct err *e)
{
	static const char types[] = { [TAR_FILE] = '0', [TAR_DIR] = '5', [TAR_SYMLINK] = '2' };
	struct buf path = BUF_INIT, pax = BUF_INIT;
	struct hdr_fields f = { 0 };
	size_t cut;
	char num[24];

	if (check_entry(w, en, e) < 0)
		return -1;
	buf_adds(&path, en->path);
	if (en->type == TAR_DIR && path.p[path.len - 1] != '/')
		buf_addch(&path, '/');
	f.type = types[en->type];
	f.size = en->type == TAR_FILE ? en->size : 0;
	f.mode = en->mode;
	f.mtime = en->mtime >= 0 && fits_octal((uint64_t)en->mtime, 12) ? en->mtime : 0;
	f.link = en->type == TAR_SYMLINK ? en->link : NULL;
	if (split_ustar(path.p, path.len, &cut)) {
		f.name = cut ? path.p + cut + 1 : path.p;
		f.name_len = path.len - (cut ? cut + 1 : 0);
		f.prefix = path.p;
		f.prefix_len = cut;
	} else { /* the pax record carries it (the type says directory); the header keeps
		  * a truncated name */
		pax_add(&pax, "path", en->path, strlen(en->path));
		f.name = path.p, f.name_len = 100, f.prefix = "", f.prefix_len = 0;
	}
	if (f.link && strlen(f.link) > 100) {
		pax_add(&pax, "linkpath", f.link, strlen(f.link));
		f.link = NULL;
	}
	if (!fits_octal(f.size, 12)) {
		pax_add(&pax, "size", num, (size_t)snprintf(num, sizeof(num), "%llu",
							    (unsigned long long)f.size));
		f.size = 0;
	}
	if (f.mtime != en->mtime)
		pax_add(&pax, "mtime", num, (size_t)snprintf(num, sizeof(num), "%lld",
							     (long long)en->mtime));
	if (pax.len)
		add_pax(w, &pax);
	add_header(w, &f);
	w->left = en->type == TAR_FILE ? en->size : 0;
	w->pad = padding(w->left);
	buf_release(&path);
	buf_release(&pax);
	return flush(w, false, e);
}

int tar_write_data(struct tar_writer *w, const void *p, size_t n, struct err *e)
{
	if (n > w->left)
		return err_set(e, ERR_INVALID, 0, "tar: more content than the header announced");
	buf_add(&w->out, p, n);
	w->left -= n;
	if (!w->left && w->pad) {
		buf_add(&w->out, zero_block, w->pad);
		w->pad = 0;
	}
	return flush(w, false, e);
}

int tar_write_end(struct tar_writer *w, struct err *e)
{
	if (w->left || w->pad)
		return err_set(e, ERR_INVALID, 0, "tar: the last file is incomplete");
	buf_add(&w->out, zero_block, TAR_BLOCK);
	buf_add(&w->out, zero_block, TAR_BLOCK);
	return flush(w, true, e);
}

/* ---- paths ------------------------------------------------------------------------------- */

int tar_path_normalise(const char *in, size_t n, char *out, size_t cap, struct err *e)
{
	size_t i = 0, o = 0;

	if (memchr(in, 0, n))
		return err_set(e, ERR_INVALID, 0, "a NUL byte in a path of the archive");
	if (n && in[0] == '/')
		return err_set(e, ERR_INVALID, 0, "absolute path '%.*s' in the archive",
			       (int)(n > 200 ? 200 : n), in);
	while (i < n) {
		size_t j = i, len;

		while (j < n && in[j] != '/')
			j++;
		len = j - i;
		if (len == 2 && in[i] == '.' && in[i + 1] == '.')
			return err_set(e, ERR_INVALID, 0, "path with '..' in the archive: '%.*s'",
				       (int)(n > 200 ? 200 : n), in);
		if (len > TAR_NAME_MAX || o + len + 2 > cap || o + len + 1 > TAR_PATH_MAX)
			return err_set(e, ERR_INVALID, ENAMETOOLONG, "path too long in the archive: "
				       "'%.*s...'", (int)(n > 100 ? 100 : n), in);
		if (len && !(len == 1 && in[i] == '.')) {
			if (o)
				out[o++] = '/';
			memcpy(out + o, in + i, len);
			o += len;
		}
		i = j + 1;
	}
	out[o] = '\0';
	return 0;
}
