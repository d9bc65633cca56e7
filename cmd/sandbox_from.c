/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sandbox create --from DIR`: what the CLI makes of the value before any request. This
 * build takes a directory holding a root filesystem; image names and Dockerfiles (which
 * the reference builds or pulls with Docker) get an error saying how to make a directory.
 * For a local gateway DIR is made canonical here; a remote gateway's DIR lives on its
 * host, so it must be absolute and the gateway checks it (gateway/sandbox_root.c).
 */
#include "cmd.h"
#include "sandbox_cmd.h"
#include "lib/client.h"
#include "lib/err.h"
#include "lib/rootdir.h"
#include "lib/url.h"
#include "lib/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPORT_HINT "docker export $(docker create IMAGE) | tar -x -C DIR, or mmdebstrap stable DIR"

/* Whether the gateway this command talks to runs on another host (its DIR is there). */
static bool gateway_is_remote(struct cli *cli, char *name, size_t n)
{
	struct gw_target t;
	struct err e = ERR_INIT;
	struct url u = URL_INIT;
	bool remote = false;

	snprintf(name, n, "%s", cli->gateway ? cli->gateway : "openshell");
	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, &e) < 0)
		return false; /* none yet: create starts a local one */
	snprintf(name, n, "%s", t.name);
	if (t.registered && t.meta.is_remote)
		return true;
	if (url_parse(&u, t.endpoint, &e) == 0)
		remote = strcmp(u.host, "localhost") && strcmp(u.host, "::1") &&
			 !str_has_prefix(u.host, "127.");
	url_release(&u);
	return remote;
}

static int refuse_image(const char *value, enum rootdir_kind kind, struct err *e)
{
	if (kind == ROOTDIR_DOCKERFILE)
		err_set(e, ERR_INVALID, 0, "--from '%s' is a Dockerfile: this build runs sandboxes "
					   "from directories only and builds no images", value);
	else
		err_set(e, ERR_INVALID, 0, "--from '%s' is an image name: this build runs sandboxes "
					   "from directories only and pulls no images", value);
	return err_hint(e, "pass a directory holding a root filesystem (./NAME for one here); "
			   "make one with: " EXPORT_HINT);
}

/* ~ and ~/x against $HOME. */
static int expand_home(const char *value, char *dst, size_t n, struct err *e)
{
	const char *home = getenv("HOME");

	if (value[0] != '~')
		return fmt_into(dst, n, "%s", value) < 0 ? err_set(e, ERR_INVALID, ENAMETOOLONG,
								    "--from '%s'", value) : 0;
	if (!home || !*home)
		return err_set(e, ERR_INVALID, 0, "--from '%s': HOME is not set", value);
	if (fmt_into(dst, n, "%s%s", home, value + 1) < 0)
		return err_set(e, ERR_INVALID, ENAMETOOLONG, "--from '%s'", value);
	return 0;
}

/* A Docker build context (a Dockerfile, no /bin) rather than a root filesystem. */
static bool is_build_context(const char *dir)
{
	char p[PATH_MAX];

	return fmt_into(p, sizeof(p), "%s/Dockerfile", dir) == 0 && access(p, F_OK) == 0 &&
	       fmt_into(p, sizeof(p), "%s/bin", dir) == 0 && access(p, F_OK) < 0;
}

static int local_dir(const char *value, char *dst, size_t n, struct err *e)
{
	char path[PATH_MAX], canon[PATH_MAX];
	struct stat st;

	if (expand_home(value, path, sizeof(path), e) < 0)
		return -1;
	if (!realpath(path, canon) || stat(canon, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return err_sys(e, ERR_INVALID, "--from '%s'", value);
		err_set(e, ERR_INVALID, 0, "--from '%s': no such directory", value);
		return err_hint(e, "make a root filesystem there first: " EXPORT_HINT);
	}
	if (!S_ISDIR(st.st_mode)) {
		err_set(e, ERR_INVALID, 0, "--from '%s' is not a directory: it must be a directory "
					   "holding a root filesystem", value);
		return err_hint(e, "unpack it into a directory first, e.g. mkdir DIR && tar -x -C DIR -f FILE");
	}
	if (is_build_context(canon))
		return refuse_image(value, ROOTDIR_DOCKERFILE, e);
	if (fmt_into(dst, n, "%s", canon) < 0)
		return err_set(e, ERR_INVALID, ENAMETOOLONG, "--from '%s'", value);
	return 0;
}

int sandbox_from_arg(struct cli *cli, const char *value, char *dst, size_t n, struct err *e)
{
	enum rootdir_kind kind = rootdir_classify(value);
	char gw[CFG_NAME_MAX];

	if (kind != ROOTDIR_PATH)
		return refuse_image(value, kind, e);
	if (!gateway_is_remote(cli, gw, sizeof(gw)))
		return local_dir(value, dst, n, e);
	if (value[0] != '/') {
		err_set(e, ERR_INVALID, 0, "--from '%s': gateway '%s' is remote, and the directory "
					   "must be an absolute path on its host", value, gw);
		return err_hint(e, "pass the directory's absolute path on the gateway's host");
	}
	return fmt_into(dst, n, "%s", value) < 0 ? err_set(e, ERR_INVALID, ENAMETOOLONG,
							    "--from '%s'", value) : 0;
}
