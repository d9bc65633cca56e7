/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's side of file transfer (transfer.h): upload unpacks the tar on stdin with
 * lib/tarfs (never through a symbolic link, never above the destination), download
 * confines the path to the workdir and writes a tar of it to stdout. A post-fork child
 * of pid 1: it prints its errors to fd 2 and returns an exit status.
 */
#include "transfer.h"
#include "lib/err.h"
#include "lib/fsutil.h"
#include "lib/tar.h"
#include "lib/tarfs.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static int report(const struct err *e)
{
	char text[800];

	fprintf(stderr, "%s\n", err_text(e, text, sizeof(text)));
	if (e->hint[0])
		fprintf(stderr, "hint: %s\n", e->hint);
	return 1;
}

/* "~", "~/x" and relative paths are the workdir's; the result is absolute. */
static int absolute(const char *path, char *out, size_t n, struct err *e)
{
	int r;

	if (!path[0] || !strcmp(path, "~") || !strcmp(path, "."))
		r = fmt_into(out, n, "%s", TRANSFER_WORKDIR);
	else if (str_has_prefix(path, "~/"))
		r = fmt_into(out, n, "%s/%s", TRANSFER_WORKDIR, path + 2);
	else if (path[0] != '/')
		r = fmt_into(out, n, "%s/%s", TRANSFER_WORKDIR, path);
	else
		r = fmt_into(out, n, "%s", path);
	return r < 0 ? err_set(e, ERR_INVALID, ENAMETOOLONG, "path too long: '%.200s'", path) : 0;
}

/* Collapses "//", "." and ".." of an absolute path in place, as the kernel would
 * without symbolic links ("/.." is "/"). */
static void lexical(char *p)
{
	char *in = p, *out = p;

	while (*in) {
		size_t len;

		while (*in == '/')
			in++;
		len = strcspn(in, "/");
		if (len == 0)
			break;
		if (len == 2 && in[0] == '.' && in[1] == '.') {
			while (out > p && *--out != '/')
				;
		} else if (!(len == 1 && in[0] == '.')) {
			*out++ = '/';
			memmove(out, in, len);
			out += len;
		}
		in += len;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

static bool within(const char *p, const char *root)
{
	size_t n = strlen(root);

	return !strncmp(p, root, n) && (p[n] == '\0' || p[n] == '/');
}

/* ---- upload ------------------------------------------------------------------------------ */

static int unpack_stdin(int dir_fd, const char *rename_to, struct err *e)
{
	static char chunk[CHUNK];
	struct tarfs_extract x;
	struct tar_reader r;
	ssize_t n;
	int ret = -1;

	tarfs_extract_init(&x, dir_fd, rename_to);
	tar_reader_init(&r, &tarfs_extract_ops, &x);
	while ((n = read(0, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(e, ERR_RUNTIME, "cannot read the upload");
			goto out;
		}
		if (tar_reader_feed(&r, chunk, (size_t)n, e) < 0)
			goto out;
	}
	if (tar_reader_finish(&r, e) < 0 || tarfs_extract_finish(&x, e) < 0)
		goto out;
	ret = 0;
out:
	tar_reader_release(&r);
	tarfs_extract_release(&x);
	return ret;
}

/* Where the upload goes: the directory to unpack in, and for a single file its new name. */
static int upload_target(enum transfer_kind kind, char *dir, char **name, struct err *e)
{
	char *slash;

	*name = NULL;
	if (kind == TRANSFER_UPLOAD || is_dir(dir))
		return 0;
	lexical(dir);
	slash = strrchr(dir, '/');
	if (!slash[1])
		return err_set(e, ERR_INVALID, 0, "bad destination '%s'", dir);
	*name = slash + 1;
	if (slash == dir) { /* "/name": its parent is the root */
		memmove(dir + 2, dir + 1, strlen(dir + 1) + 1);
		*name = dir + 2;
	}
	dir[slash == dir ? 1 : slash - dir] = '\0';
	return 0;
}

static int upload(enum transfer_kind kind, const char *path, struct err *e)
{
	char dir[PATH_MAX + 2], *name;
	int fd = -1, ret = -1;

	if (absolute(path, dir, PATH_MAX, e) < 0 || upload_target(kind, dir, &name, e) < 0)
		return -1;
	if (mkdir_p(dir, 0755, e) < 0)
		goto fail;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err_sys(e, ERR_RUNTIME, "cannot open '%s'", dir);
		goto fail;
	}
	if (unpack_stdin(fd, name, e) < 0) {
		err_wrap(e, "in '%s'", dir);
		goto fail;
	}
	ret = 0;
	goto out;
fail:
	if (e->sys == EROFS || e->sys == EACCES || e->sys == EPERM)
		err_hint(e, "the sandbox can write only under %s, /tmp and its policy's read_write "
			    "paths", TRANSFER_WORKDIR);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- download ---------------------------------------------------------------------------- */

static int sink_stdout(void *ctx, const void *p, size_t n, struct err *e)
{
	(void)ctx;
	if (write_full(1, p, n) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot send the download");
	return 0;
}

/* The path, resolved, if it is inside the workdir both as written and as resolved. */
static int confine(const char *path, char *real, struct err *e)
{
	char lex[PATH_MAX], root[PATH_MAX];

	if (absolute(path, lex, sizeof(lex), e) < 0)
		return -1;
	lexical(lex);
	if (!within(lex, TRANSFER_WORKDIR)) {
		err_set(e, ERR_FORBIDDEN, 0, "'%s' is outside the sandbox's workdir %s", lex,
			TRANSFER_WORKDIR);
		return err_hint(e, "only paths under %s can be downloaded (relative paths start "
				   "there)", TRANSFER_WORKDIR);
	}
	if (!realpath(TRANSFER_WORKDIR, root) || !strcmp(root, "/"))
		return err_set(e, ERR_RUNTIME, 0, "the sandbox's workdir cannot be resolved");
	if (!realpath(lex, real))
		return err_sys(e, ERR_NOTFOUND, "cannot download '%s'", lex);
	if (!within(real, root)) {
		err_set(e, ERR_FORBIDDEN, 0, "'%s' leads to '%s', outside the sandbox's workdir %s",
			lex, real, TRANSFER_WORKDIR);
		return err_hint(e, "symbolic links that leave %s cannot be downloaded",
				TRANSFER_WORKDIR);
	}
	return 0;
}

static int download(const char *path, struct err *e)
{
	char real[PATH_MAX];
	struct tarfs_stats st = { 0 };
	struct tar_writer w;
	int ret = -1;

	if (confine(path, real, e) < 0)
		return -1;
	tar_writer_init(&w, sink_stdout, NULL);
	if (tarfs_add(&w, real, strrchr(real, '/') + 1, false, &st, e) < 0 ||
	    tar_write_end(&w, e) < 0)
		goto out;
	if (st.skipped)
		fprintf(stderr, "warning: %llu special file(s) left out (fifos, sockets, devices), "
			"the first '%s'\n", (unsigned long long)st.skipped, st.first_skipped);
	ret = 0;
out:
	tar_writer_release(&w);
	return ret;
}

int transfer_run(enum transfer_kind kind, const char *path)
{
	struct err e = ERR_INIT;
	int r = kind == TRANSFER_DOWNLOAD ? download(path, &e) : upload(kind, path, &e);

	return r < 0 ? report(&e) : 0;
}
