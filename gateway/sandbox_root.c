/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The root filesystem part of a create request (see sandbox_root_prepare in sandboxes.h):
 * "from" is a directory on the gateway's host (the CLI sends the path; for a remote
 * gateway it cannot check it), made canonical here and checked as the supervisor will
 * check it again at every start. Runs before anything of the sandbox exists.
 */
#include "sandboxes.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/rootdir.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAKE_ROOT_HINT                                                                     \
	"make one with e.g. 'mmdebstrap stable DIR', 'debootstrap stable DIR', or "        \
	"'docker export $(docker create IMAGE) | tar -x -C DIR'"

static int canonical_from(const struct json *from, char out[PATH_MAX], struct err *e)
{
	const char *p = json_str(from);

	if (!json_is_str(from) || !json_str_len(from) || memchr(p, 0, json_str_len(from)))
		return err_set(e, ERR_INVALID, 0, "\"from\" must be a directory's path");
	if (p[0] != '/')
		return err_set(e, ERR_INVALID, 0, "root filesystem '%s' is not an absolute path", p),
		       err_hint(e, "pass the directory's absolute path on the gateway's host");
	if (realpath(p, out))
		return 0;
	if (errno == ENOENT)
		return err_set(e, ERR_INVALID, 0, "root filesystem '%s' does not exist on the "
						  "gateway's host", p),
		       err_hint(e, MAKE_ROOT_HINT);
	if (errno == ENOTDIR)
		return err_set(e, ERR_INVALID, 0, "root filesystem '%s': a component of the path "
						  "is not a directory", p),
		       err_hint(e, MAKE_ROOT_HINT);
	return err_sys(e, ERR_INVALID, "cannot resolve root filesystem '%s'", p);
}

/* No command: the root's login shell, as the CLI does for the host. */
static void default_command(struct json *spec, int root_fd)
{
	struct json *cmd = json_new_arr();
	char found[PATH_MAX];

	json_arr_add(cmd, json_new_str(rootdir_find_command(root_fd, "/bin/bash", NULL, found,
							    sizeof(found)) == 0 ? "/bin/bash" : "/bin/sh"));
	json_arr_add(cmd, json_new_str("-l"));
	json_obj_add(spec, "command", cmd);
}

static int check_command(const struct json *spec, int root_fd, const char *dir, struct err *e)
{
	const char *argv0 = json_str(json_at(json_get(spec, "command"), 0));
	const char *path = json_get_str(json_get(spec, "env"), "PATH", SANDBOX_DEFAULT_PATH);
	char found[PATH_MAX];

	if (rootdir_find_command(root_fd, argv0, path, found, sizeof(found)) == 0)
		return 0;
	if (rootdir_find_command(root_fd, "/bin/sh", NULL, found, sizeof(found)) < 0)
		return err_set(e, ERR_INVALID, 0, "command '%s' not found in root filesystem '%s', "
						  "which has no /bin/sh either: is it a root filesystem?",
			       argv0, dir),
		       err_hint(e, MAKE_ROOT_HINT);
	err_set(e, ERR_INVALID, 0, "command '%s' not found in root filesystem '%s'", argv0, dir);
	return err_hint(e, "name a program that exists inside it, e.g. -- /bin/sh -c '...'");
}

int sandbox_root_prepare(struct json *spec, const char *id, struct err *e)
{
	const struct json *from = json_get(spec, "from");
	char dir[PATH_MAX];
	int fd = -1, ret = -1;
	int64_t uid;

	if (!from || json_is_null(from)) {
		if (!json_len(json_get(spec, "command"))) {
			fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				return err_sys(e, ERR_RUNTIME, "cannot open '/'");
			default_command(spec, fd);
			close(fd);
		}
		return 0;
	}
	if (canonical_from(from, dir, e) < 0)
		return -1;
	if (json_get_i64(spec, "host_uid", &uid) < 0)
		uid = 0;
	fd = rootdir_open(dir, rootdir_host_uid(uid, id), rootdir_host_gid(uid, id), e);
	if (fd < 0)
		goto out;
	if (!json_len(json_get(spec, "command")))
		default_command(spec, fd);
	if (check_command(spec, fd, dir, e) < 0)
		goto out;
	json_obj_add_str(spec, "from", dir);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}
