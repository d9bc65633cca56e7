/* SPDX-License-Identifier: Apache-2.0 */
/* Local gateway state paths, lock, pid file and numeric ids; see state.h. */
#include "state.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fsutil.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int gw_state_base(char *dst, size_t n, struct err *e)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int r;

	if (xdg && *xdg == '/')
		r = fmt_into(dst, n, "%s/openshell/gateways", xdg);
	else if (home && *home)
		r = fmt_into(dst, n, "%s/.local/state/openshell/gateways", home);
	else
		return err_set(e, ERR_INVALID, 0, "HOME is not set"),
		       err_hint(e, "set HOME or XDG_STATE_HOME to where the gateway may keep its state");
	return r < 0 ? err_set(e, ERR_INVALID, ENAMETOOLONG, "state path too long") : 0;
}

int gw_paths_for(const char *name, struct gw_paths *p, struct err *e)
{
	char base[400];

	if (gw_state_base(base, sizeof(base), e) < 0)
		return -1;
	if (fmt_into(p->root, sizeof(p->root), "%s/%s", base, name) < 0)
		return err_set(e, ERR_INVALID, ENAMETOOLONG, "state path too long");
	snprintf(p->db, sizeof(p->db), "%s/gateway.db", p->root);
	snprintf(p->log, sizeof(p->log), "%s/gateway.log", p->root);
	snprintf(p->pid, sizeof(p->pid), "%s/gateway.pid", p->root);
	snprintf(p->lock, sizeof(p->lock), "%s/gateway.lock", p->root);
	snprintf(p->id, sizeof(p->id), "%s/gateway.id", p->root);
	snprintf(p->tls, sizeof(p->tls), "%s/tls", p->root);
	snprintf(p->run, sizeof(p->run), "%s/run", p->root);
	snprintf(p->sandboxes, sizeof(p->sandboxes), "%s/sandboxes", p->root);
	return 0;
}

int gw_lock(const struct gw_paths *p, struct err *e)
{
	int fd = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return err_sys(e, ERR_RUNTIME, "cannot open '%s'", p->lock);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int sys = errno;

		close(fd);
		if (sys == EWOULDBLOCK)
			return err_set(e, ERR_EXISTS, 0, "another gateway process holds '%s'", p->lock);
		return err_set(e, ERR_RUNTIME, sys, "cannot lock '%s'", p->lock);
	}
	return fd;
}

/* The lock is the truth: a pid file whose process does not hold the lock is stale. */
pid_t gw_running_pid(const struct gw_paths *p)
{
	struct err e = ERR_INIT;
	struct buf text = BUF_INIT;
	uint64_t pid = 0;
	int fd;

	fd = open(p->lock, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) { /* nobody holds it */
		close(fd);
		return 0;
	}
	close(fd);
	if (read_file(p->pid, 64, &text, &e) == 0)
		parse_u64(str_trim(text.p), 1, INT32_MAX, &pid);
	buf_release(&text);
	return (pid_t)pid;
}

int gw_write_pid(const struct gw_paths *p, struct err *e)
{
	char text[32];

	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	return write_file_atomic(p->pid, text, strlen(text), 0600, e);
}

static long read_id(const char *path)
{
	struct err e = ERR_INIT;
	struct buf text = BUF_INIT;
	uint64_t id = 0;

	if (read_file(path, 64, &text, &e) == 0)
		parse_u64(str_trim(text.p), 1, 1000000, &id);
	buf_release(&text);
	return (long)id;
}

int gw_id_get(const struct gw_paths *p, long *id, struct err *e)
{
	*id = read_id(p->id);
	if (!*id)
		return err_set(e, ERR_NOTFOUND, 0, "gateway state '%s' has no id", p->root);
	return 0;
}

/* Calls fn(name, id) for every local gateway with an id; stops when fn returns non-zero. */
static int each_local(int (*fn)(const char *name, long id, void *ctx), void *ctx, struct err *e)
{
	char base[400], path[1024];
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (gw_state_base(base, sizeof(base), e) < 0)
		return -1;
	d = opendir(base);
	if (!d)
		return 0;
	while (!r && (de = readdir(d))) {
		long id;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/gateway.id", base, de->d_name);
		id = read_id(path);
		if (id)
			r = fn(de->d_name, id, ctx);
	}
	closedir(d);
	return r;
}

struct id_used {
	long id;
};

static int is_used(const char *name, long id, void *ctx)
{
	(void)name;
	return id == ((struct id_used *)ctx)->id;
}

int gw_id_assign(const struct gw_paths *p, long *id, struct err *e)
{
	struct id_used u;
	char text[32];

	*id = read_id(p->id);
	if (*id)
		return 0;
	for (u.id = 1;; u.id++) {
		int r = each_local(is_used, &u, e);

		if (r < 0)
			return -1;
		if (!r)
			break;
	}
	snprintf(text, sizeof(text), "%ld\n", u.id);
	if (write_file_atomic(p->id, text, strlen(text), 0600, e) < 0)
		return -1;
	*id = u.id;
	return 0;
}

struct id_find {
	long id;
	char *name;
	size_t n;
};

static int match_id(const char *name, long id, void *ctx)
{
	struct id_find *f = ctx;

	if (id != f->id)
		return 0;
	snprintf(f->name, f->n, "%s", name);
	return 1;
}

int gw_name_by_id(long id, char *name, size_t n, struct err *e)
{
	struct id_find f = { id, name, n };
	int r = each_local(match_id, &f, e);

	if (r < 0)
		return -1;
	if (!r)
		return err_set(e, ERR_NOTFOUND, 0, "no local gateway has id %ld", id);
	return 0;
}
