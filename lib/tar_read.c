/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tar subset of lib/tar.h, reading side: a push parser that checks every header
 * (checksum, magic, numeric fields, types, sizes), applies pax 'x' and GNU 'L'/'K'
 * records to the next entry, and hands out only normalised relative paths. Bounded:
 * one 512-byte block and at most TAR_META_MAX bytes of one record are buffered.
 */
#include "tar.h"
#include "err.h"

#include <string.h>
#include <sys/types.h>

enum { R_HEADER, R_ZERO, R_META, R_DATA, R_PAD, R_END };

static const unsigned char zero_block[TAR_BLOCK];

static size_t padding(uint64_t size)
{
	return (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
}

/* ---- reader: header fields --------------------------------------------------------------- */

void tar_reader_init(struct tar_reader *r, const struct tar_ops *ops, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->ctx = ctx;
	r->state = R_HEADER;
	buf_init(&r->meta);
	buf_init(&r->long_path);
	buf_init(&r->long_link);
}

void tar_reader_release(struct tar_reader *r)
{
	buf_release(&r->meta);
	buf_release(&r->long_path);
	buf_release(&r->long_link);
}

/* Octal (leading spaces, then digits, then NULs or spaces) or GNU base-256 (positive). */
static int parse_num(const unsigned char *f, size_t w, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0, start;

	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -1;
		for (i = 1; i < w; i++) {
			if (v >> 55)
				return -1;
			v = v << 8 | f[i];
		}
		*out = v;
		return v > TAR_SIZE_MAX ? -1 : 0;
	}
	while (i < w && f[i] == ' ')
		i++;
	for (start = i; i < w && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	if (i == start)
		return -1;
	while (i < w && (f[i] == ' ' || f[i] == '\0'))
		i++;
	*out = v;
	return i == w ? 0 : -1;
}

static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	unsigned long u = 0;
	long s = 0;
	size_t i;

	if (parse_num(h + 148, 8, &want) < 0)
		return false;
	for (i = 0; i < TAR_BLOCK; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : h[i];

		u += c;
		s += (signed char)c;
	}
	return want == u || (long)want == s;
}

static bool is_zero(const unsigned char *h)
{
	return !memcmp(h, zero_block, TAR_BLOCK);
}

static void clear_pending(struct tar_reader *r)
{
	r->has_path = r->has_link = r->has_size = r->has_mtime = false;
	buf_reset(&r->long_path);
	buf_reset(&r->long_link);
}


/* ---- reader: pax and GNU records --------------------------------------------------------- */

static int set_long(struct buf *dst, bool *flag, const char *v, size_t n, const char *what,
		    struct err *e)
{
	if (!n || n > TAR_PATH_MAX || memchr(v, 0, n))
		return err_set(e, ERR_INVALID, 0, "bad %s in an extended header of the archive", what);
	buf_reset(dst);
	buf_add(dst, v, n);
	*flag = true;
	return 0;
}

/* "[-]digits[.digits]": whole seconds */
static int parse_mtime(const char *v, size_t n, int64_t *out)
{
	size_t i = v[0] == '-' ? 1 : 0, start = i;
	int64_t t = 0;

	for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
		if (t > (INT64_MAX - 9) / 10)
			return -1;
		t = t * 10 + (v[i] - '0');
	}
	if (i == start)
		return -1;
	if (i < n && v[i] == '.')
		for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++)
			;
	*out = v[0] == '-' ? -t : t;
	return i == n ? 0 : -1;
}

static int parse_size(const char *v, size_t n, uint64_t *out)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
		if (s > (TAR_SIZE_MAX - 9) / 10)
			return -1;
		s = s * 10 + (uint64_t)(v[i] - '0');
	}
	*out = s;
	return i == n && n > 0 ? 0 : -1;
}

static bool key_is(const char *k, size_t n, const char *want)
{
	return n == strlen(want) && !memcmp(k, want, n);
}

static int pax_field(struct tar_reader *r, const char *k, size_t kn, const char *v, size_t vn,
		     struct err *e)
{
	if (key_is(k, kn, "path"))
		return set_long(&r->long_path, &r->has_path, v, vn, "path", e);
	if (key_is(k, kn, "linkpath"))
		return set_long(&r->long_link, &r->has_link, v, vn, "link target", e);
	if (key_is(k, kn, "size")) {
		r->has_size = true;
		if (parse_size(v, vn, &r->pax_size) < 0)
			return err_set(e, ERR_INVALID, 0, "bad size in an extended header of the archive");
		return 0;
	}
	if (key_is(k, kn, "mtime")) {
		r->has_mtime = true;
		if (parse_mtime(v, vn, &r->pax_mtime) < 0)
			return err_set(e, ERR_INVALID, 0, "bad mtime in an extended header of the archive");
		return 0;
	}
	if (kn >= 11 && !memcmp(k, "GNU.sparse.", 11))
		return err_set(e, ERR_INVALID, 0, "sparse files are not supported");
	return 0; /* atime, uid, uname, comments, ...: not carried */
}

/* Records "LEN key=value\n" back to back; LEN counts the whole record. */
static int parse_pax(struct tar_reader *r, struct err *e)
{
	const char *p = r->meta.p, *end = p + r->meta.len;

	while (p < end) {
		const char *q = p, *key, *eq, *rec_end;
		uint64_t len = 0;

		for (; q < end && *q >= '0' && *q <= '9' && len <= TAR_META_MAX; q++)
			len = len * 10 + (uint64_t)(*q - '0');
		if (q == p || q >= end || *q != ' ' || len > (uint64_t)(end - p) ||
		    len < (uint64_t)(q - p) + 3)
			return err_set(e, ERR_INVALID, 0, "malformed extended header in the archive");
		rec_end = p + len;
		key = q + 1;
		eq = memchr(key, '=', (size_t)(rec_end - 1 - key));
		if (rec_end[-1] != '\n' || !eq || eq == key)
			return err_set(e, ERR_INVALID, 0, "malformed extended header in the archive");
		if (pax_field(r, key, (size_t)(eq - key), eq + 1, (size_t)(rec_end - 1 - (eq + 1)),
			      e) < 0)
			return -1;
		p = rec_end;
	}
	return 0;
}

static int on_meta(struct tar_reader *r, struct err *e)
{
	size_t n = strnlen(r->meta.p, r->meta.len);

	switch (r->meta_type) {
	case 'x':
		return parse_pax(r, e);
	case 'L':
		return set_long(&r->long_path, &r->has_path, r->meta.p, n, "long name", e);
	case 'K':
		return set_long(&r->long_link, &r->has_link, r->meta.p, n, "long link target", e);
	default: /* 'g': global pax records hold nothing we carry */
		return 0;
	}
}

/* ---- reader: entries --------------------------------------------------------------------- */

static int entry_type(char t, const char *path, enum tar_type *out, struct err *e)
{
	if (t == '0' || t == '\0' || t == '7')
		*out = TAR_FILE;
	else if (t == '5')
		*out = TAR_DIR;
	else if (t == '2')
		*out = TAR_SYMLINK;
	else if (t == '1')
		return err_set(e, ERR_INVALID, 0, "hard links are not supported: '%.200s'", path);
	else
		return err_set(e, ERR_INVALID, 0, "unsupported entry type '%c' for '%.200s' (only "
			       "files, directories and symbolic links)", t >= 0x20 && t < 0x7f ? t : '?',
			       path);
	return 0;
}

/* The raw (not yet normalised) path: a long name, or ustar prefix + '/' + name. */
static void raw_path(struct tar_reader *r, const unsigned char *h, bool gnu, struct buf *out)
{
	size_t pn = gnu ? 0 : strnlen((const char *)h + 345, 155);

	if (r->has_path) {
		buf_add(out, r->long_path.p, r->long_path.len);
		return;
	}
	if (pn) {
		buf_add(out, h + 345, pn);
		buf_addch(out, '/');
	}
	buf_add(out, h, strnlen((const char *)h, 100));
}

static int fill_entry(struct tar_reader *r, const unsigned char *h, uint64_t size,
		      struct tar_entry *en, struct buf *link, struct err *e)
{
	uint64_t mode, mtime;

	if (r->has_size)
		size = r->pax_size;
	if (en->type != TAR_FILE && size)
		return err_set(e, ERR_INVALID, 0, "'%.200s': a directory or link with content",
			       en->path);
	if (parse_num(h + 100, 8, &mode) < 0 || parse_num(h + 136, 12, &mtime) < 0)
		return err_set(e, ERR_INVALID, 0, "bad header fields for '%.200s'", en->path);
	en->size = size;
	en->mode = (unsigned)(mode & 07777);
	en->mtime = r->has_mtime ? r->pax_mtime : (int64_t)mtime;
	if (en->type != TAR_SYMLINK)
		return 0;
	if (r->has_link)
		buf_add(link, r->long_link.p, r->long_link.len);
	else
		buf_add(link, h + 157, strnlen((const char *)h + 157, 100));
	if (!link->len)
		return err_set(e, ERR_INVALID, 0, "'%.200s': a symbolic link without a target",
			       en->path);
	en->link = link->p;
	return 0;
}

static int start_entry(struct tar_reader *r, const struct tar_entry *en, struct err *e)
{
	if (r->ops->entry(r->ctx, en, e) < 0)
		return -1;
	if (en->type != TAR_FILE)
		return 0;
	r->left = en->size;
	r->pad = padding(en->size);
	if (en->size) {
		r->state = R_DATA;
		return 0;
	}
	return r->ops->file_end(r->ctx, e);
}

static int on_entry(struct tar_reader *r, const unsigned char *h, bool gnu, uint64_t size,
		    struct err *e)
{
	char path[TAR_PATH_MAX + 1];
	struct buf raw = BUF_INIT, link = BUF_INIT;
	struct tar_entry en = { 0 };
	int ret = -1;

	raw_path(r, h, gnu, &raw);
	if (entry_type((char)h[156], raw.p, &en.type, e) < 0 ||
	    tar_path_normalise(raw.p, raw.len, path, sizeof(path), e) < 0)
		goto out;
	en.path = path;
	if (fill_entry(r, h, size, &en, &link, e) < 0)
		goto out;
	clear_pending(r);
	if (!path[0] && en.type == TAR_DIR) { /* "." or "./": the extraction root itself */
		ret = 0;
		goto out;
	}
	if (!path[0]) {
		err_set(e, ERR_INVALID, 0, "an entry without a name in the archive");
		goto out;
	}
	ret = start_entry(r, &en, e);
out:
	buf_release(&raw);
	buf_release(&link);
	return ret;
}

static int on_header(struct tar_reader *r, const unsigned char *h, struct err *e)
{
	bool gnu = !memcmp(h + 257, "ustar  ", 8), posix = !memcmp(h + 257, "ustar", 6);
	char t = (char)h[156];
	uint64_t size;

	if (!checksum_ok(h))
		return err_set(e, ERR_INVALID, 0, "bad tar header checksum (not a tar archive, or "
			       "a damaged one)");
	if (!gnu && !posix)
		return err_set(e, ERR_INVALID, 0, "not a ustar archive");
	if (parse_num(h + 124, 12, &size) < 0)
		return err_set(e, ERR_INVALID, 0, "bad size field in the archive");
	if (t != 'x' && t != 'g' && t != 'L' && t != 'K')
		return on_entry(r, h, gnu, size, e);
	if (size > TAR_META_MAX)
		return err_set(e, ERR_LIMIT, 0, "an extended header of %llu bytes (at most %d)",
			       (unsigned long long)size, TAR_META_MAX);
	r->meta_type = t;
	buf_reset(&r->meta);
	r->left = size;
	r->pad = padding(size);
	if (!size)
		return on_meta(r, e);
	r->state = R_META;
	return 0;
}

static int on_block(struct tar_reader *r, struct err *e)
{
	if (!is_zero(r->block)) {
		if (r->state == R_ZERO)
			return err_set(e, ERR_INVALID, 0, "data after an end-of-archive block");
		return on_header(r, r->block, e);
	}
	if (r->state == R_ZERO) {
		r->state = R_END;
		return 0;
	}
	if (r->has_path || r->has_link || r->has_size || r->has_mtime)
		return err_set(e, ERR_INVALID, 0, "an extended header without its entry");
	r->state = R_ZERO;
	return 0;
}

/* One step of the state machine over at most n bytes; returns the bytes used or -1. */
static ssize_t step(struct tar_reader *r, const unsigned char *s, size_t n, struct err *e)
{
	size_t k;

	switch (r->state) {
	case R_HEADER:
	case R_ZERO:
		k = n < TAR_BLOCK - r->have ? n : TAR_BLOCK - r->have;
		memcpy(r->block + r->have, s, k);
		r->have += k;
		if (r->have < TAR_BLOCK)
			return (ssize_t)k;
		r->have = 0;
		return on_block(r, e) < 0 ? -1 : (ssize_t)k;
	case R_META:
	case R_DATA:
		k = n < r->left ? n : (size_t)r->left;
		if (r->state == R_META)
			buf_add(&r->meta, s, k);
		else if (r->ops->data(r->ctx, s, k, e) < 0)
			return -1;
		r->left -= k;
		if (r->left)
			return (ssize_t)k;
		if ((r->state == R_META ? on_meta(r, e) : r->ops->file_end(r->ctx, e)) < 0)
			return -1;
		r->state = r->pad ? R_PAD : R_HEADER;
		return (ssize_t)k;
	case R_PAD:
		k = n < r->pad ? n : r->pad;
		r->pad -= k;
		if (!r->pad)
			r->state = R_HEADER;
		return (ssize_t)k;
	default: /* R_END: what follows (the rest of a 10240-byte record) is ignored */
		return (ssize_t)n;
	}
}

int tar_reader_feed(struct tar_reader *r, const void *p, size_t n, struct err *e)
{
	const unsigned char *s = p;

	if (r->failed)
		return err_set(e, ERR_INVALID, 0, "the archive was already rejected");
	while (n) {
		ssize_t k = step(r, s, n, e);

		if (k < 0) {
			r->failed = true;
			return -1;
		}
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

int tar_reader_finish(struct tar_reader *r, struct err *e)
{
	if (r->failed)
		return err_set(e, ERR_INVALID, 0, "the archive was already rejected");
	/* one zero block at the very end is tolerated, as GNU tar does */
	if (r->state != R_END && !(r->state == R_ZERO && r->have == 0))
		return err_set(e, ERR_INVALID, 0, "truncated archive");
	return 0;
}
