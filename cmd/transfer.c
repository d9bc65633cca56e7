/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `openshell sandbox upload NAME LOCAL [DEST]` and `sandbox download NAME PATH [DEST]`
 * (reference/cli.md §4.1, §8). Both open an exec session (POST .../exec, docs/api.md)
 * whose request asks the sandbox's pid 1 for a transfer (sandbox/transfer.h) instead of
 * a command; the tar (lib/tar.h) goes as stdin frames (upload) or comes as stdout frames
 * (download). Placement is cp's: a directory lands under its own name inside DEST, a
 * file sent to a DEST that is not an existing directory (and does not end in '/') takes
 * DEST's name. A download arrives in a temporary directory beside its target and is
 * moved into place, so an interrupted one leaves nothing half-written.
 */
#include "cmd.h"
#include "sandbox_cmd.h"
#include "gateway/sandboxes.h"
#include "lib/buf.h"
#include "lib/client.h"
#include "lib/frame.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/tar.h"
#include "lib/tarfs.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REMOTE_ERR_MAX (64 * 1024)

/* One transfer session. */
struct xfer {
	struct client_stream *s;
	struct frame_decoder dec;
	struct buf remote_err;   /* what the sandbox's side wrote to stderr */
	char error[512];         /* an error frame from the supervisor */
	int status;              /* the sandbox side's exit status, -1 until known */
	bool closed, write_failed;
	struct tar_reader *rd;   /* download: stdout frames go here */
};

static void xfer_init(struct xfer *x)
{
	memset(x, 0, sizeof(*x));
	frame_decoder_init(&x->dec);
	buf_init(&x->remote_err);
	x->status = -1;
}

static void xfer_release(struct xfer *x)
{
	client_stream_close(x->s);
	frame_decoder_release(&x->dec);
	buf_release(&x->remote_err);
}

static int xfer_open(struct xfer *x, const struct gw_target *t, const char *name,
		     const struct json *req, bool eof, struct err *e)
{
	struct buf body = BUF_INIT, first = BUF_INIT;
	char path[128];
	int r = -1;

	snprintf(path, sizeof(path), "/v1/sandboxes/%s/exec", name);
	json_write(req, &body, JSON_COMPACT);
	if (frame_put(&first, FRAME_DATA, body.p, body.len, e) == 0) {
		if (eof)
			frame_put_eof(&first);
		r = client_attach(t, path, &first, &x->s, e);
	}
	buf_release(&body);
	buf_release(&first);
	return r;
}

static int xfer_frame(struct xfer *x, const struct frame *f, struct err *e)
{
	if (f->type == FRAME_STDOUT && x->rd)
		return tar_reader_feed(x->rd, f->data, f->len, e);
	if (f->type == FRAME_STDERR && x->remote_err.len < REMOTE_ERR_MAX)
		buf_add(&x->remote_err, f->data, f->len);
	else if (f->type == FRAME_EXIT)
		x->status = frame_get_exit(f);
	else if (f->type == FRAME_ERROR && !x->error[0])
		snprintf(x->error, sizeof(x->error), "%.*s", (int)f->len, (const char *)f->data);
	return 0;
}

/* Takes what the stream has, waiting up to wait_ms (-1: until something comes). */
static int xfer_read(struct xfer *x, int wait_ms, struct err *e)
{
	static char chunk[64 * 1024];
	size_t off = 0, used;
	ssize_t n;

	if (x->closed)
		return 0;
	if (!client_stream_buffered(x->s)) {
		struct pollfd p = { client_stream_fd(x->s), POLLIN, 0 };
		int r = poll(&p, 1, wait_ms);

		if (r < 0 && errno != EINTR)
			return err_sys(e, ERR_RUNTIME, "poll");
		if (r <= 0)
			return 0;
	}
	n = client_stream_read(x->s, chunk, sizeof(chunk), e);
	if (n <= 0) {
		x->closed = true;
		return n < 0 ? -1 : 0;
	}
	while (off < (size_t)n) {
		struct frame f;
		int r = frame_decode(&x->dec, chunk + off, (size_t)n - off, &used, &f, e);

		if (r < 0)
			return -1;
		off += used;
		if (r == 0)
			break;
		if (xfer_frame(x, &f, e) < 0)
			return -1;
	}
	return 0;
}

/* Waits for the sandbox side's exit status. */
static int xfer_wait(struct xfer *x, struct err *e)
{
	while (x->status < 0 && !x->error[0] && !x->closed)
		if (xfer_read(x, -1, e) < 0)
			return -1;
	if (x->status < 0 && !x->error[0])
		return err_set(e, ERR_UNAVAILABLE, 0, "the connection to the sandbox ended before "
						      "the transfer did");
	return 0;
}

/* Prints the sandbox side's warnings; its error (and hint) becomes e. */
static int remote_result(struct cli *cli, struct xfer *x, struct err *e)
{
	char *line, *save = NULL, msg[400] = "", hint[240] = "";

	for (line = strtok_r(x->remote_err.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (str_has_prefix(line, "warning: "))
			ui_warn(cli, "%s", line + 9);
		else if (str_has_prefix(line, "hint: "))
			snprintf(hint, sizeof(hint), "%s", line + 6);
		else if (!msg[0])
			snprintf(msg, sizeof(msg), "%s", line);
	}
	if (x->error[0])
		return err_set(e, ERR_RUNTIME, 0, "sandbox: %s", x->error);
	if (x->status == 0)
		return 0;
	if (!msg[0])
		snprintf(msg, sizeof(msg), "the transfer failed in the sandbox (exit status %d)",
			 x->status);
	err_set(e, ERR_RUNTIME, 0, "%s", msg);
	if (hint[0])
		err_hint(e, "%s", hint);
	return -1;
}

/* NAME and the paths, from before and after "--" (names may start with '-'). */
static int positionals(struct cli *cli, int argc, char **argv, const char **pos, int min,
		       int max, const char *usage, struct err *e)
{
	int n = 0, i;

	for (i = 0; i < argc + cli->dash_argc; i++) {
		if (n == max)
			return err_set(e, ERR_USAGE, 0, "unexpected argument '%s'",
				       i < argc ? argv[i] : cli->dash_argv[i - argc]);
		pos[n++] = i < argc ? argv[i] : cli->dash_argv[i - argc];
	}
	if (n < min) {
		err_set(e, ERR_USAGE, 0, "missing argument %s", usage);
		return err_hint(e, "names starting with '-' go after '--': %s", usage);
	}
	for (i = n; i < max; i++)
		pos[i] = NULL;
	return sandbox_check_name(pos[0], e) < 0 ? -1 : n;
}

/* ---- upload ------------------------------------------------------------------------------ */

/* The writer's output as stdin frames; stops when the sandbox side already answered. */
static int upload_sink(void *ctx, const void *p, size_t n, struct err *e)
{
	struct xfer *x = ctx;
	struct buf out = BUF_INIT;
	int r;

	if (xfer_read(x, 0, e) < 0)
		return -1;
	if (x->status >= 0 || x->error[0] || x->closed)
		return err_set(e, ERR_RUNTIME, 0, "the sandbox stopped receiving");
	r = frame_put(&out, FRAME_STDIN, p, n, e);
	if (r == 0 && (r = client_stream_write(x->s, &out, e)) < 0)
		x->write_failed = true; /* the answer may still be there to read */
	buf_release(&out);
	return r;
}

/* The archive name for LOCAL: its last component, "" (contents only) for "." or "/". */
static void archive_name(const char *local, char *out, size_t n)
{
	char tmp[PATH_MAX];
	size_t len;
	const char *base;

	snprintf(tmp, sizeof(tmp), "%s", local);
	for (len = strlen(tmp); len > 1 && tmp[len - 1] == '/'; len--)
		tmp[len - 1] = '\0';
	base = strrchr(tmp, '/') ? strrchr(tmp, '/') + 1 : tmp;
	if (!strcmp(base, ".") || !strcmp(base, "..") || !base[0])
		base = "";
	snprintf(out, n, "%s", base);
}

static int send_tree(struct cli *cli, struct xfer *x, const char *local, struct err *e)
{
	struct tarfs_stats st = { 0 };
	struct tar_writer w;
	struct buf eof = BUF_INIT;
	char name[PATH_MAX];
	int r;

	archive_name(local, name, sizeof(name));
	tar_writer_init(&w, upload_sink, x);
	r = tarfs_add(&w, local, name, true, &st, e);
	if (r == 0)
		r = tar_write_end(&w, e);
	tar_writer_release(&w);
	if (r == 0) {
		frame_put_eof(&eof);
		if ((r = client_stream_write(x->s, &eof, e)) < 0)
			x->write_failed = true;
		buf_release(&eof);
	}
	if (st.skipped)
		ui_warn(cli, "%llu special file(s) left out (fifos, sockets, devices), the first '%s'",
			(unsigned long long)st.skipped, st.first_skipped);
	return r;
}

/* After sending (r: its result): the sandbox side's verdict, or the local failure. */
static int upload_result(struct cli *cli, struct xfer *x, int r, struct err *e)
{
	struct err e2 = ERR_INIT;

	if (r < 0 && x->write_failed && xfer_wait(x, &e2) < 0)
		return -1; /* the sandbox side gave up without saying why: the write error */
	if (r < 0 && x->status < 0 && !x->error[0] && !x->closed) {
		struct buf eof = BUF_INIT;

		/* a local failure: the sandbox side sees a truncated archive and cleans up */
		frame_put_eof(&eof);
		if (client_stream_write(x->s, &eof, &e2) == 0)
			xfer_wait(x, &e2);
		buf_release(&eof);
		return -1;
	}
	err_clear(e);
	if (xfer_wait(x, e) < 0)
		return -1;
	return remote_result(cli, x, e);
}

int sandbox_upload_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	const char *pos[3], *local, *dest;
	struct json *req = NULL;
	struct gw_target t;
	struct xfer x;
	struct stat st;
	int ret = -1;

	(void)args;
	xfer_init(&x);
	if (positionals(cli, argc, argv, pos, 2, 3, "NAME LOCAL [DEST]", e) < 0)
		goto out;
	local = pos[1];
	dest = pos[2] && pos[2][0] ? pos[2] : NULL;
	if (stat(local, &st) < 0) {
		err_sys(e, errno == ENOENT ? ERR_NOTFOUND : ERR_RUNTIME, "cannot upload '%s'", local);
		goto out;
	}
	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0)
		goto out;
	req = json_new_obj();
	json_obj_add_str(req, "upload", dest ? dest : "~");
	/* a file sent to a DEST not ending in '/' takes DEST's name unless DEST is a directory */
	if (S_ISREG(st.st_mode) && dest && !str_has_suffix(dest, "/"))
		json_obj_add_bool(req, "file", true);
	fprintf(stderr, "Uploading %s -> sandbox:%s\n", local, dest ? dest : "~");
	if (xfer_open(&x, &t, pos[0], req, false, e) < 0)
		goto out;
	if (upload_result(cli, &x, send_tree(cli, &x, local, e), e) < 0)
		goto out;
	ui_success(cli, "Upload complete");
	ret = 0;
out:
	json_free(req);
	xfer_release(&x);
	return ret;
}

/* ---- download ---------------------------------------------------------------------------- */

struct place {
	const char *dest;      /* as given */
	bool into;             /* DEST is a directory: the download lands inside it */
	char dir[PATH_MAX];    /* where it lands, and the temporary directory with it */
	char leaf[NAME_MAX + 1]; /* !into: the name it takes there */
	char tmp[PATH_MAX + 32];
};

static int plan(struct place *pl, const char *dest, struct err *e)
{
	const char *slash = strrchr(dest, '/');

	pl->dest = dest;
	if (str_has_suffix(dest, "/") && !is_dir(dest) && mkdir_p(dest, 0755, e) < 0)
		return -1;
	pl->into = is_dir(dest);
	if (pl->into)
		snprintf(pl->dir, sizeof(pl->dir), "%s", dest);
	else if (!slash)
		snprintf(pl->dir, sizeof(pl->dir), ".");
	else
		snprintf(pl->dir, sizeof(pl->dir), "%.*s", slash == dest ? 1 : (int)(slash - dest),
			 dest);
	if (!pl->into && fmt_into(pl->leaf, sizeof(pl->leaf), "%s", slash ? slash + 1 : dest) < 0)
		return err_set(e, ERR_INVALID, ENAMETOOLONG, "bad destination '%s'", dest);
	if (fmt_into(pl->tmp, sizeof(pl->tmp), "%s/.openshell-download-XXXXXX", pl->dir) < 0 ||
	    !mkdtemp(pl->tmp)) {
		pl->tmp[0] = '\0';
		return err_sys(e, ERR_RUNTIME, "cannot write to '%s'", pl->dir);
	}
	return 0;
}

/* The one top-level name the sandbox sent. */
static int arrived(const char *tmp, char *name, size_t n, struct err *e)
{
	DIR *d = opendir(tmp);
	struct dirent *de;
	int count = 0;

	if (!d)
		return err_sys(e, ERR_RUNTIME, "cannot read '%s'", tmp);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && !count++)
			snprintf(name, n, "%s", de->d_name);
	closedir(d);
	if (count != 1)
		return err_set(e, ERR_INVALID, 0, "the sandbox sent %d top-level entries, not one",
			       count);
	return 0;
}

/* Moves the download from the temporary directory to its place (never over a directory). */
static int place_it(const struct place *pl, struct err *e)
{
	char name[NAME_MAX + 1], shown[2 * PATH_MAX];
	int tfd = -1, dfd = -1, ret = -1;

	if (arrived(pl->tmp, name, sizeof(name), e) < 0)
		return -1;
	tfd = open(pl->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dfd = open(pl->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0 || dfd < 0) {
		err_sys(e, ERR_RUNTIME, "cannot open '%s'", pl->dir);
		goto out;
	}
	if (pl->into)
		snprintf(shown, sizeof(shown), "%s%s%s", pl->dest,
			 str_has_suffix(pl->dest, "/") ? "" : "/", name);
	else
		snprintf(shown, sizeof(shown), "%s", pl->dest);
	ret = tarfs_move(tfd, name, dfd, pl->into ? name : pl->leaf, shown, e);
out:
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	return ret;
}

static int receive(struct cli *cli, struct xfer *x, const struct gw_target *t, const char *name,
		   const char *path, const struct place *pl, struct err *e)
{
	struct json *req = json_new_obj();
	struct tarfs_extract ex;
	struct tar_reader rd;
	int fd = open(pl->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = -1;

	tarfs_extract_init(&ex, fd, NULL);
	tar_reader_init(&rd, &tarfs_extract_ops, &ex);
	x->rd = &rd;
	json_obj_add_str(req, "download", path);
	if (fd < 0) {
		err_sys(e, ERR_RUNTIME, "cannot open '%s'", pl->tmp);
		goto out;
	}
	if (xfer_open(x, t, name, req, true, e) < 0 || xfer_wait(x, e) < 0 ||
	    remote_result(cli, x, e) < 0 || tar_reader_finish(&rd, e) < 0 ||
	    tarfs_extract_finish(&ex, e) < 0)
		goto out;
	ret = 0;
out:
	x->rd = NULL;
	tar_reader_release(&rd);
	tarfs_extract_release(&ex);
	if (fd >= 0)
		close(fd);
	json_free(req);
	return ret;
}

int sandbox_download_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	const char *pos[3], *dest;
	struct place pl = { 0 };
	struct gw_target t;
	struct xfer x;
	int ret = -1;

	(void)args;
	xfer_init(&x);
	if (positionals(cli, argc, argv, pos, 2, 3, "NAME PATH [DEST]", e) < 0)
		goto out;
	dest = pos[2] && pos[2][0] ? pos[2] : ".";
	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0 || plan(&pl, dest, e) < 0)
		goto out;
	fprintf(stderr, "Downloading sandbox:%s -> %s\n", pos[1], dest);
	if (receive(cli, &x, &t, pos[0], pos[1], &pl, e) < 0 || place_it(&pl, e) < 0)
		goto out;
	ui_success(cli, "Download complete");
	ret = 0;
out:
	if (pl.tmp[0]) {
		struct err e2 = ERR_INIT;

		remove_tree(pl.tmp, &e2);
	}
	xfer_release(&x);
	return ret;
}
