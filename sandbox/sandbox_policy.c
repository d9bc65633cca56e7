// SPDX-License-Identifier: Apache-2.0
/* The policy's static sections applied to the jail; see sandbox_policy.h. */
#include "sandbox_policy.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jail.h"
#include "lib/log.h"
#include "lib/policy.h"
#include "lib/rootdir.h"
#include "lib/util.h"

void sandbox_policy_load(const char *dir, struct pol_policy *p)
{
	char path[4096];
	struct pol_report r;
	struct err e = ERR_INIT;
	struct stat st;

	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	if (stat(path, &st) < 0) {
		pol_default(p, true);
		return;
	}
	pol_report_init(&r);
	if (pol_load_file(p, path, &r, &e) < 0) {
		struct buf why = BUF_INIT;

		pol_report_join_errors(&r, &why);
		log_error("sandbox", "the sandbox's policy does not load: the default applies",
			  "error", why.len ? why.p : e.msg, NULL);
		buf_release(&why);
		pol_default(p, true);
	}
	pol_report_release(&r);
}

static bool under_sandbox(const char *path)
{
	return !strcmp(path, "/sandbox") || str_has_prefix(path, "/sandbox/");
}

static bool listed(const char *const *v, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], path))
			return true;
	return false;
}

static void add(const char **v, size_t *n, const char *path)
{
	if (*n < JAIL_MAX_PATHS && !under_sandbox(path) && !listed(v, *n, path))
		v[(*n)++] = path;
}

/* Whether path exists in the root the jail binds from (the host's /, or --from DIR). */
static bool exists(const struct jail_spec *j, const char *path)
{
	struct stat st;
	int fd;

	if (j->from_fd < 0)
		return stat(path, &st) == 0;
	fd = rootdir_resolve(j->from_fd, path, O_PATH);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* §2.2: the baseline paths a process needs to run at all, when they exist. /proc and
 * /dev/urandom are the sandbox's own, whatever the root. */
static void enrich(struct jail_spec *j)
{
	static const char *const ro[] = { "/usr", "/lib", "/etc", "/app", "/var/log", "/proc",
					  "/dev/urandom" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ro); i++)
		if (!listed(j->read_write, j->n_rw, ro[i]) &&
		    (str_has_prefix(ro[i], "/proc") || str_has_prefix(ro[i], "/dev/") || exists(j, ro[i])))
			add(j->read_only, &j->n_ro, ro[i]);
	if (!listed(j->read_only, j->n_ro, "/tmp"))
		add(j->read_write, &j->n_rw, "/tmp");
}

void sandbox_policy_paths(const struct pol_policy *p, struct jail_spec *j, const char **writable,
			  size_t max, size_t *n_writable)
{
	size_t i;

	j->n_ro = j->n_rw = 0;
	for (i = 0; i < p->n_read_only; i++)
		add(j->read_only, &j->n_ro, p->read_only[i]);
	for (i = 0; i < p->n_read_write; i++)
		add(j->read_write, &j->n_rw, p->read_write[i]);
	enrich(j);
	j->hard_landlock = p->landlock_hard;
	*n_writable = 0;
	for (i = 0; i < j->n_rw && *n_writable + 3 < max; i++)
		writable[(*n_writable)++] = j->read_write[i];
	writable[(*n_writable)++] = "/sandbox";
	writable[(*n_writable)++] = "/dev/shm";
	writable[(*n_writable)++] = "/tmp";
}
