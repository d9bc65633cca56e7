/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The trust-on-first-use hash cache of procident.h (reference/supervisor.md §4.4): SHA-256 of
 * a binary pinned under its display path with a stat fingerprint, so an unchanged file is not
 * re-read. An open-addressing table keyed by path; entries are never evicted. The cache also
 * owns the process table of procident_procs.c, so one object carries a sandbox's state.
 */
#include "procident_int.h"
#include "xalloc.h"

#include <bearssl.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_BUF (64 * 1024)

struct fingerprint {
	int64_t size, mtime_s, mtime_ns, ctime_s, ctime_ns;
	uint64_t dev, ino;
};

struct pin {
	char *path; /* NULL: free slot */
	struct fingerprint fp;
	char hex[65];
};

struct ident_cache {
	struct pin *slots;
	size_t cap, n; /* cap: a power of two */
	struct ident_procs *procs;
	int diag_fd;	/* not owned */
	bool diag_used; /* by the last lookup */
};

struct ident_cache *ident_cache_new(void)
{
	struct ident_cache *c = xcalloc(1, sizeof(*c));

	c->cap = 64;
	c->slots = xcalloc(c->cap, sizeof(*c->slots));
	c->procs = ident_procs_new();
	c->diag_fd = -1;
	return c;
}

void ident_cache_free(struct ident_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->cap; i++)
		free(c->slots[i].path);
	free(c->slots);
	ident_procs_free(c->procs);
	free(c);
}

size_t ident_cache_count(const struct ident_cache *c)
{
	return c->n;
}

struct ident_procs *ident_cache_procs(struct ident_cache *c)
{
	return c->procs;
}

void ident_cache_scan_stats(const struct ident_cache *c, struct ident_scan_stats *st)
{
	ident_procs_stats(c->procs, st);
	st->sock_diag = c->diag_used;
}

void ident_cache_set_init_reaps_all(struct ident_cache *c, bool on)
{
	ident_procs_set_init_reaps_all(c->procs, on);
}

void ident_cache_set_sock_diag(struct ident_cache *c, int fd)
{
	c->diag_fd = fd;
}

int ident_cache_sock_diag(const struct ident_cache *c)
{
	return c->diag_fd;
}

void ident_cache_forget_sock_diag(struct ident_cache *c)
{
	c->diag_fd = -1;
}

void ident_cache_note_sock_diag(struct ident_cache *c, bool used)
{
	c->diag_used = used;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot holding path, or the free slot where it would go. */
static struct pin *slot_for(struct pin *slots, size_t cap, const char *path)
{
	size_t i = (size_t)fnv1a(path) & (cap - 1);

	while (slots[i].path && strcmp(slots[i].path, path) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static void grow(struct ident_cache *c)
{
	size_t i, cap = c->cap * 2;
	struct pin *slots = xcalloc(cap, sizeof(*slots));

	for (i = 0; i < c->cap; i++)
		if (c->slots[i].path)
			*slot_for(slots, cap, c->slots[i].path) = c->slots[i];
	free(c->slots);
	c->slots = slots;
	c->cap = cap;
}

static void fingerprint_of(const struct stat *st, struct fingerprint *fp)
{
	memset(fp, 0, sizeof(*fp));
	fp->size = st->st_size;
	fp->mtime_s = st->st_mtim.tv_sec;
	fp->mtime_ns = st->st_mtim.tv_nsec;
	fp->ctime_s = st->st_ctim.tv_sec;
	fp->ctime_ns = st->st_ctim.tv_nsec;
	fp->dev = st->st_dev;
	fp->ino = st->st_ino;
}

static void to_hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hash_fd(int fd, const char *path, char hex[65], struct err *e)
{
	unsigned char *chunk = xmalloc(HASH_BUF), digest[32];
	br_sha256_context ctx;
	off_t off = 0;
	int ret = -1;

	br_sha256_init(&ctx);
	for (;;) {
		ssize_t r = pread(fd, chunk, HASH_BUF, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, ERR_RUNTIME, 0, "failed to hash binary %s: %s", path,
				strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		br_sha256_update(&ctx, chunk, (size_t)r);
		off += r;
	}
	br_sha256_out(&ctx, digest);
	to_hex(digest, sizeof(digest), hex);
	ret = 0;
out:
	free(chunk);
	return ret;
}

static int pin_new(struct ident_cache *c, const char *path, const struct fingerprint *fp,
		   const char *hex, struct err *e)
{
	struct pin *p;

	if (c->n >= IDENT_CACHE_MAX)
		return err_set(e, ERR_LIMIT, 0,
			       "binary integrity check failed: %d binaries already pinned, cannot "
			       "pin %s",
			       IDENT_CACHE_MAX, path);
	if ((c->n + 1) * 2 > c->cap)
		grow(c);
	p = slot_for(c->slots, c->cap, path);
	p->path = xstrdup(path);
	p->fp = *fp;
	memcpy(p->hex, hex, sizeof(p->hex));
	c->n++;
	return 0;
}

bool ident_cache_pinned(const struct ident_cache *c, const char *path, const struct stat *st,
			char hex[65])
{
	struct fingerprint fp;
	const struct pin *p;

	fingerprint_of(st, &fp);
	p = slot_for(c->slots, c->cap, path);
	if (!p->path || memcmp(&p->fp, &fp, sizeof(fp)))
		return false;
	memcpy(hex, p->hex, 65);
	return true;
}

int ident_cache_check(struct ident_cache *c, const char *path, int fd, char hex[65], struct err *e)
{
	struct fingerprint fp;
	struct stat st;
	struct pin *p;

	if (fstat(fd, &st) < 0)
		return err_set(e, ERR_RUNTIME, 0, "failed to stat binary %s: %s", path,
			       strerror(errno));
	fingerprint_of(&st, &fp);
	p = slot_for(c->slots, c->cap, path);
	if (p->path && !memcmp(&p->fp, &fp, sizeof(fp))) {
		memcpy(hex, p->hex, 65);
		return 0;
	}
	if (hash_fd(fd, path, hex, e) < 0)
		return -1;
	if (!p->path)
		return pin_new(c, path, &fp, hex, e);
	if (strcmp(p->hex, hex) != 0)
		return err_set(e, ERR_FORBIDDEN, 0,
			       "binary integrity check failed: Binary integrity violation: %s hash "
			       "changed (cached: %s, current: %s)",
			       path, p->hex, hex);
	p->fp = fp;
	return 0;
}
