/* SPDX-License-Identifier: Apache-2.0 */
/* File-system helpers; see fsutil.h. */
#include "fsutil.h"
#include "buf.h"
#include "err.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char tmp[PATH_MAX];
	char *p;

	if (fmt_into(tmp, sizeof(tmp), "%s", path) < 0)
		return err_set(e, ERR_INVALID, 0, "path too long: '%s'", path);
	for (p = tmp + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return err_sys(e, ERR_RUNTIME, "cannot create directory '%s'", tmp);
		*p = saved;
		if (!saved)
			break;
	}
	if (!is_dir(path))
		return err_set(e, ERR_RUNTIME, ENOTDIR, "cannot create directory '%s'", path);
	return 0;
}

int read_file(const char *path, size_t max, struct buf *out, struct err *e)
{
	char chunk[8192];
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno == ENOENT ? ERR_NOTFOUND : ERR_RUNTIME, "cannot read '%s'",
			       path);
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_sys(e, ERR_RUNTIME, "cannot read '%s'", path);
			goto out;
		}
		if (r == 0)
			break;
		if (out->len + (size_t)r > max) {
			err_set(e, ERR_LIMIT, 0, "'%s' is larger than %zu bytes", path, max);
			goto out;
		}
		buf_add(out, chunk, (size_t)r);
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, r;

	if (fmt_into(dir, sizeof(dir), "%s", path) < 0)
		return -1;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

static int write_file_renamed(const char *path, const void *data, size_t len, mode_t mode,
			      bool durable, struct err *e)
{
	char tmp[PATH_MAX];
	int fd = -1, ret = -1;

	if (fmt_into(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) < 0)
		return err_set(e, ERR_INVALID, 0, "path too long: '%s'", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return err_sys(e, ERR_RUNTIME, "cannot create '%s'", tmp);
	if (fchmod(fd, mode) < 0 || write_full(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
		err_sys(e, ERR_RUNTIME, "cannot write '%s'", tmp);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_sys(e, ERR_RUNTIME, "cannot write '%s'", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot replace '%s'", path);
		goto out;
	}
	if (durable && fsync_dir_of(path) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot sync the directory of '%s'", path);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err *e)
{
	return write_file_renamed(path, data, len, mode, true, e);
}

int write_file_replace(const char *path, const void *data, size_t len, mode_t mode, struct err *e)
{
	return write_file_renamed(path, data, len, mode, false, e);
}

static int remove_at(int parent, const char *name, dev_t dev, struct err *e)
{
	struct stat st;
	DIR *d = NULL;
	struct dirent *de;
	int fd = -1, ret = -1;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, ERR_RUNTIME, "cannot stat '%s'", name);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
			return err_sys(e, ERR_RUNTIME, "cannot remove '%s'", name);
		return 0;
	}
	if (st.st_dev != dev)
		return err_set(e, ERR_RUNTIME, EXDEV, "refusing to remove '%s' on another file system",
			       name);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_RUNTIME, "cannot open '%s'", name);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_sys(e, ERR_RUNTIME, "cannot open '%s'", name);
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (remove_at(dirfd(d), de->d_name, dev, e) < 0)
			goto out;
	}
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		err_sys(e, ERR_RUNTIME, "cannot remove '%s'", name);
		goto out;
	}
	ret = 0;
out:
	closedir(d);
	return ret;
}

int remove_tree(const char *path, struct err *e)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_sys(e, ERR_RUNTIME, "cannot stat '%s'", path);
	if (remove_at(AT_FDCWD, path, st.st_dev, e) < 0)
		return err_wrap(e, "cannot remove '%s'", path);
	return 0;
}

bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int path_join(char *dst, size_t n, const char *a, const char *b, struct err *e)
{
	if (fmt_into(dst, n, "%s/%s", a, b) < 0)
		return err_set(e, ERR_INVALID, ENAMETOOLONG, "path too long: '%s/%s'", a, b);
	return 0;
}
