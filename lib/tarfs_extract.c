/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/tarfs.h, the extracting side: tar_reader callbacks that create entries under a
 * root directory. Every directory on an entry's path is opened from the root with
 * O_NOFOLLOW (missing ones are made), so a symbolic link, whether the archive made it
 * or it was there before, is never written through. A non-directory at an entry's
 * place is replaced; a directory is never replaced by a non-directory. Directory modes
 * and times are set at the end, deepest first, so a read-only directory still fills.
 */
#include "tarfs.h"
#include "err.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tarfs_dir {
	char *path;
	unsigned mode;
	int64_t mtime;
};

void tarfs_extract_init(struct tarfs_extract *x, int root_fd, const char *rename_to)
{
	memset(x, 0, sizeof(*x));
	x->root_fd = root_fd;
	x->rename_to = rename_to;
	x->fd = x->parent_fd = -1;
	buf_init(&x->path);
	x->umask = umask(0);
	umask(x->umask);
}

void tarfs_extract_release(struct tarfs_extract *x)
{
	size_t i;

	if (x->fd >= 0) { /* incomplete: it goes */
		close(x->fd);
		unlinkat(x->parent_fd, x->leaf, 0);
	}
	if (x->parent_fd >= 0)
		close(x->parent_fd);
	x->fd = x->parent_fd = -1;
	for (i = 0; i < x->n_dirs; i++)
		free(x->dirs[i].path);
	free(x->dirs);
	x->dirs = NULL;
	x->n_dirs = x->cap_dirs = 0;
	buf_release(&x->path);
}

static int open_dir_at(int dfd, const char *name, bool create)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
			return -1;
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	return fd;
}

static int walk_error(const char *path, size_t n, struct err *e)
{
	if (errno == ELOOP || errno == ENOTDIR)
		return err_set(e, ERR_INVALID, 0, "refusing to write through '%.*s': it is a "
			       "symbolic link or not a directory", (int)(n > 300 ? 300 : n), path);
	return err_sys(e, ERR_RUNTIME, "cannot create directory '%.*s'", (int)(n > 300 ? 300 : n),
		       path);
}

/*
 * Opens the directory holding path's last component (all of path when whole), making
 * missing directories on the way; *leaf is the last component. Returns an fd or -1.
 */
static int open_parent(struct tarfs_extract *x, const char *path, bool whole, const char **leaf,
		       struct err *e)
{
	char comp[TAR_NAME_MAX + 1];
	const char *p = path, *slash;
	int dfd = fcntl(x->root_fd, F_DUPFD_CLOEXEC, 0), nfd;

	if (dfd < 0)
		return err_sys(e, ERR_RUNTIME, "cannot open the destination directory");
	for (;;) {
		size_t n;

		slash = strchr(p, '/');
		if (!slash && !whole)
			break;
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n > TAR_NAME_MAX) {
			close(dfd);
			return err_set(e, ERR_INVALID, ENAMETOOLONG, "bad path '%.200s'", path);
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		nfd = open_dir_at(dfd, comp, !whole);
		close(dfd);
		if (nfd < 0)
			return walk_error(path, (size_t)(p - path) + n, e);
		dfd = nfd;
		if (!slash)
			break;
		p = slash + 1;
	}
	*leaf = p;
	return dfd;
}

/* Makes room for a non-directory: removes a file or link there, refuses a directory. */
static int clear_slot(int dfd, const char *leaf, const char *path, struct err *e)
{
	struct stat st;

	if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_sys(e, ERR_RUNTIME, "cannot read '%.200s'", path);
	if (S_ISDIR(st.st_mode))
		return err_set(e, ERR_EXISTS, 0, "'%.200s' is a directory; it is not replaced", path);
	if (unlinkat(dfd, leaf, 0) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot replace '%.200s'", path);
	return 0;
}

static int put_file(struct tarfs_extract *x, int dfd, const char *leaf,
		    const struct tar_entry *en, struct err *e)
{
	const char *shown = x->rename_to ? x->rename_to : en->path;

	if (clear_slot(dfd, leaf, shown, e) < 0)
		return -1;
	x->fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (x->fd < 0)
		return err_sys(e, ERR_RUNTIME, "cannot create '%.200s'", shown);
	x->parent_fd = dfd;
	snprintf(x->leaf, sizeof(x->leaf), "%s", leaf);
	buf_reset(&x->path);
	buf_adds(&x->path, shown);
	x->mode = en->mode;
	x->mtime = en->mtime;
	return 1; /* dfd is kept */
}

static int put_dir(struct tarfs_extract *x, int dfd, const char *leaf,
		   const struct tar_entry *en, struct err *e)
{
	struct stat st;

	if (mkdirat(dfd, leaf, 0700) < 0) {
		if (errno != EEXIST)
			return err_sys(e, ERR_RUNTIME, "cannot create directory '%.200s'", en->path);
		if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			return err_set(e, ERR_EXISTS, 0, "'%.200s' exists and is not a directory",
				       en->path);
	}
	if (x->n_dirs == x->cap_dirs) {
		x->cap_dirs = x->cap_dirs ? x->cap_dirs * 2 : 16;
		x->dirs = xreallocarray(x->dirs, x->cap_dirs, sizeof(*x->dirs));
	}
	x->dirs[x->n_dirs++] = (struct tarfs_dir){ xstrdup(en->path), en->mode, en->mtime };
	x->st.dirs++;
	return 0;
}

static int put_link(struct tarfs_extract *x, int dfd, const char *leaf,
		    const struct tar_entry *en, struct err *e)
{
	if (clear_slot(dfd, leaf, en->path, e) < 0)
		return -1;
	if (symlinkat(en->link, dfd, leaf) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot create the link '%.200s'", en->path);
	x->st.links++;
	return 0;
}

static int on_entry(void *ctx, const struct tar_entry *en, struct err *e)
{
	struct tarfs_extract *x = ctx;
	const char *leaf;
	int dfd, r;

	if (x->rename_to && (x->entries || en->type != TAR_FILE || strchr(en->path, '/')))
		return err_set(e, ERR_INVALID, 0, "expected a single file in the archive");
	x->entries++;
	dfd = open_parent(x, en->path, false, &leaf, e);
	if (dfd < 0)
		return -1;
	if (x->rename_to)
		leaf = x->rename_to;
	if (en->type == TAR_FILE)
		r = put_file(x, dfd, leaf, en, e);
	else if (en->type == TAR_DIR)
		r = put_dir(x, dfd, leaf, en, e);
	else
		r = put_link(x, dfd, leaf, en, e);
	if (r != 1)
		close(dfd);
	return r < 0 ? -1 : 0;
}

static int on_data(void *ctx, const void *p, size_t n, struct err *e)
{
	struct tarfs_extract *x = ctx;
	const char *s = p;

	while (n) {
		ssize_t w = write(x->fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_sys(e, ERR_RUNTIME, "cannot write '%.200s'", x->path.p);
		s += w;
		n -= (size_t)w;
	}
	x->st.bytes += (uint64_t)(s - (const char *)p);
	return 0;
}

static void set_times(int fd, int64_t mtime)
{
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

	futimens(fd, ts); /* best effort, as tar */
}

static int on_file_end(void *ctx, struct err *e)
{
	struct tarfs_extract *x = ctx;
	int r = 0;

	if (fchmod(x->fd, x->mode & 0777 & ~x->umask) < 0)
		r = err_sys(e, ERR_RUNTIME, "cannot set the mode of '%.200s'", x->path.p);
	set_times(x->fd, x->mtime);
	if (close(x->fd) < 0 && !r)
		r = err_sys(e, ERR_RUNTIME, "cannot write '%.200s'", x->path.p);
	close(x->parent_fd);
	x->fd = x->parent_fd = -1;
	x->st.files++;
	return r;
}

const struct tar_ops tarfs_extract_ops = { on_entry, on_data, on_file_end };

int tarfs_extract_finish(struct tarfs_extract *x, struct err *e)
{
	const char *leaf;
	size_t i;

	if (x->rename_to && !x->entries)
		return err_set(e, ERR_INVALID, 0, "expected a single file in the archive");
	for (i = x->n_dirs; i-- > 0;) {
		int fd = open_parent(x, x->dirs[i].path, true, &leaf, e);

		if (fd < 0)
			return -1;
		if (fchmod(fd, x->dirs[i].mode & 0777 & ~x->umask) < 0) {
			close(fd);
			return err_sys(e, ERR_RUNTIME, "cannot set the mode of '%.200s'",
				       x->dirs[i].path);
		}
		set_times(fd, x->dirs[i].mtime);
		close(fd);
	}
	return 0;
}
