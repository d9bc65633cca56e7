/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/tarfs.h, the archiving side and moves: walks a tree with openat/fstatat without
 * following links below the top, in sorted order (the same tree gives the same
 * archive), and merges a downloaded tree into an existing one. Extraction is in
 * tarfs_extract.c.
 */
#include "tarfs.h"
#include "err.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WALK_DEPTH_MAX 256 /* one open directory per level */
#define COPY_CHUNK (64 * 1024)

struct walk {
	struct tar_writer *w;
	struct tarfs_stats *st;
	struct buf name, fs; /* archive path and file system path of the current entry */
	int depth;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The names in directory fd (borrowed), without "." and "..", sorted. */
static int list_dir(int fd, char ***out, size_t *n, const char *shown, struct err *e)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return err_sys(e, ERR_RUNTIME, "cannot read directory '%s'", shown);
	}
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xreallocarray(*out, cap, sizeof(char *));
		}
		(*out)[(*n)++] = xstrdup(de->d_name);
		errno = 0;
	}
	if (errno) {
		err_sys(e, ERR_RUNTIME, "cannot read directory '%s'", shown);
		closedir(d);
		free_names(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	closedir(d);
	if (*n)
		qsort(*out, *n, sizeof(char *), cmp_names);
	return 0;
}

/* ---- archiving --------------------------------------------------------------------------- */

static int add_at(struct walk *k, int dfd, const char *fname, bool follow, struct err *e);

static int copy_content(struct walk *k, int fd, uint64_t size, struct err *e)
{
	static char chunk[COPY_CHUNK];
	uint64_t done = 0;

	while (done < size) {
		size_t want = size - done < sizeof(chunk) ? (size_t)(size - done) : sizeof(chunk);
		ssize_t n = read(fd, chunk, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(e, ERR_RUNTIME, "cannot read '%s'", k->fs.p);
		if (n == 0)
			return err_set(e, ERR_RUNTIME, 0, "'%s' shrank while it was read", k->fs.p);
		if (tar_write_data(k->w, chunk, (size_t)n, e) < 0)
			return -1;
		done += (uint64_t)n;
	}
	k->st->bytes += size;
	return 0;
}

static int add_file(struct walk *k, int dfd, const char *fname, bool follow, struct err *e)
{
	int fd = openat(dfd, fname, O_RDONLY | O_CLOEXEC | O_NOCTTY | (follow ? 0 : O_NOFOLLOW));
	struct tar_entry en = { TAR_FILE, k->name.p, NULL, 0, 0, 0 };
	struct stat st;
	int ret = -1;

	if (fd < 0 || fstat(fd, &st) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot open '%s'", k->fs.p);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, ERR_RUNTIME, 0, "'%s' changed while it was read", k->fs.p);
		goto out;
	}
	en.size = (uint64_t)st.st_size;
	en.mode = st.st_mode & 07777;
	en.mtime = st.st_mtime;
	if (tar_write_header(k->w, &en, e) < 0 || copy_content(k, fd, en.size, e) < 0)
		goto out;
	k->st->files++;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int add_link(struct walk *k, int dfd, const char *fname, struct err *e)
{
	char target[TAR_PATH_MAX + 2];
	struct tar_entry en = { TAR_SYMLINK, k->name.p, target, 0, 0777, 0 };
	struct stat st;
	ssize_t n = readlinkat(dfd, fname, target, sizeof(target) - 1);

	if (n < 0)
		return err_sys(e, ERR_RUNTIME, "cannot read the link '%s'", k->fs.p);
	if (n > TAR_PATH_MAX)
		return err_set(e, ERR_INVALID, ENAMETOOLONG, "the target of '%s' is too long", k->fs.p);
	target[n] = '\0';
	if (fstatat(dfd, fname, &st, AT_SYMLINK_NOFOLLOW) == 0)
		en.mtime = st.st_mtime;
	if (tar_write_header(k->w, &en, e) < 0)
		return -1;
	k->st->links++;
	return 0;
}

/* Appends "/name" (or "name" at the top) to b; returns the old length. */
static size_t push(struct buf *b, const char *name)
{
	size_t old = b->len;

	if (b->len && b->p[b->len - 1] != '/')
		buf_addch(b, '/');
	buf_adds(b, name);
	return old;
}

static int add_children(struct walk *k, int fd, struct err *e)
{
	char **names;
	size_t n, i;
	int ret = -1;

	if (list_dir(fd, &names, &n, k->fs.p, e) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		size_t name_len = push(&k->name, names[i]), fs_len = push(&k->fs, names[i]);
		int r = add_at(k, fd, names[i], false, e);

		buf_setlen(&k->name, name_len);
		buf_setlen(&k->fs, fs_len);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	free_names(names, n);
	return ret;
}

static int add_dir(struct walk *k, int dfd, const char *fname, bool follow, struct err *e)
{
	int fd = openat(dfd, fname, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	struct tar_entry en = { TAR_DIR, k->name.p, NULL, 0, 0, 0 };
	struct stat st;
	int ret = -1;

	if (fd < 0 || fstat(fd, &st) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot open directory '%s'", k->fs.p);
		goto out;
	}
	if (++k->depth > WALK_DEPTH_MAX) {
		err_set(e, ERR_LIMIT, 0, "'%s' is nested too deeply (at most %d levels)", k->fs.p,
			WALK_DEPTH_MAX);
		goto out;
	}
	en.mode = st.st_mode & 07777;
	en.mtime = st.st_mtime;
	if (k->name.len && tar_write_header(k->w, &en, e) < 0)
		goto out;
	k->st->dirs += k->name.len ? 1 : 0;
	ret = add_children(k, fd, e);
	k->depth--;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int add_at(struct walk *k, int dfd, const char *fname, bool follow, struct err *e)
{
	struct stat st;

	if (fstatat(dfd, fname, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot read '%s'", k->fs.p);
	if (S_ISDIR(st.st_mode))
		return add_dir(k, dfd, fname, follow, e);
	if (!k->name.len)
		return err_set(e, ERR_INVALID, 0, "'%s' is not a directory", k->fs.p);
	if (S_ISREG(st.st_mode))
		return add_file(k, dfd, fname, follow, e);
	if (S_ISLNK(st.st_mode))
		return add_link(k, dfd, fname, e);
	if (!k->st->skipped++)
		snprintf(k->st->first_skipped, sizeof(k->st->first_skipped), "%s", k->fs.p);
	return 0;
}

int tarfs_add(struct tar_writer *w, const char *fs_path, const char *name, bool follow_top,
	      struct tarfs_stats *st, struct err *e)
{
	struct walk k = { w, st, BUF_INIT, BUF_INIT, 0 };
	int r;

	buf_adds(&k.name, name);
	buf_adds(&k.fs, fs_path);
	r = add_at(&k, AT_FDCWD, fs_path, follow_top, e);
	buf_release(&k.name);
	buf_release(&k.fs);
	return r;
}

/* ---- moves ------------------------------------------------------------------------------- */

static int merge_dirs(int sdfd, const char *src, int ddfd, const char *dst, const char *shown,
		      struct err *e)
{
	int sfd = openat(sdfd, src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int dfd = openat(ddfd, dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char **names = NULL;
	size_t n = 0, i;
	int ret = -1;

	if (sfd < 0 || dfd < 0) {
		err_sys(e, ERR_RUNTIME, "cannot open directory '%s'", shown);
		goto out;
	}
	if (list_dir(sfd, &names, &n, shown, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		char *sub = xasprintf("%s/%s", shown, names[i]);
		int r = tarfs_move(sfd, names[i], dfd, names[i], sub, e);

		free(sub);
		if (r < 0)
			goto out;
	}
	if (unlinkat(sdfd, src, AT_REMOVEDIR) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot remove a temporary directory for '%s'", shown);
		goto out;
	}
	ret = 0;
out:
	free_names(names, n);
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	return ret;
}

int tarfs_move(int sdfd, const char *src, int ddfd, const char *dst, const char *shown,
	       struct err *e)
{
	struct stat ss, ds;
	bool absent = false;

	if (fstatat(sdfd, src, &ss, AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot read what arrived for '%s'", shown);
	if (fstatat(ddfd, dst, &ds, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return err_sys(e, ERR_RUNTIME, "cannot read '%s'", shown);
		absent = true;
	}
	if (absent || (!S_ISDIR(ss.st_mode) && !S_ISDIR(ds.st_mode))) {
		if (renameat(sdfd, src, ddfd, dst) < 0)
			return err_sys(e, ERR_RUNTIME, "cannot move into place '%s'", shown);
		return 0;
	}
	if (S_ISDIR(ss.st_mode) != S_ISDIR(ds.st_mode))
		return err_set(e, ERR_EXISTS, 0, "'%s' %s; it is not replaced", shown,
			       S_ISDIR(ds.st_mode) ? "is a directory" : "exists and is not a directory");
	return merge_dirs(sdfd, src, ddfd, dst, shown, e);
}
