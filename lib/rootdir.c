/* SPDX-License-Identifier: Apache-2.0 */
/* A --from root file system: classification, trust check, in-root resolution; see rootdir.h. */
#include "rootdir.h"
#include "err.h"
#include "util.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HOST_UID_BASE 200000
#define HOST_UID_SPAN 100000

static bool contains_nocase(const char *s, const char *word)
{
	size_t n = strlen(word), i;

	for (; *s; s++) {
		for (i = 0; i < n && s[i] && tolower((unsigned char)s[i]) == word[i]; i++)
			;
		if (i == n)
			return true;
	}
	return false;
}

enum rootdir_kind rootdir_classify(const char *value)
{
	const char *slash = strrchr(value, '/');

	if (contains_nocase(slash ? slash + 1 : value, "dockerfile"))
		return ROOTDIR_DOCKERFILE;
	if (value[0] == '/' || str_has_prefix(value, "./") || str_has_prefix(value, "../") ||
	    str_has_prefix(value, "~/") || !strcmp(value, ".") || !strcmp(value, "..") ||
	    !strcmp(value, "~"))
		return ROOTDIR_PATH;
	return ROOTDIR_IMAGE;
}

int rootdir_resolve(int root_fd, const char *path, int oflags)
{
	struct open_how how = { 0 };

	how.flags = (uint64_t)(oflags | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	while (*path == '/')
		path++;
	return (int)syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof(how));
}

int rootdir_trust(const struct stat *st, bool last, uid_t self, char *why, size_t n)
{
	mode_t w = st->st_mode & (S_IWGRP | S_IWOTH);

	if (!S_ISDIR(st->st_mode))
		return snprintf(why, n, "is not a directory"), -1;
	if (st->st_uid != 0 && st->st_uid != self)
		return snprintf(why, n, "is owned by uid %u, neither root nor the gateway's user",
				(unsigned)st->st_uid),
		       -1;
	if (w && (last || !(st->st_mode & S_ISVTX)))
		return snprintf(why, n, "is writable by %s (mode %04o)",
				w == S_IWOTH ? "others" : w == S_IWGRP ? "its group" : "group and others",
				(unsigned)(st->st_mode & 07777)),
		       -1;
	return 0;
}

bool rootdir_can_search(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return st->st_mode & S_IXUSR;
	if (st->st_gid == gid)
		return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

/* The next component of *p (skipping slashes) into comp; 0 at the end, -1 when too long. */
static int next_component(const char **p, char comp[NAME_MAX + 1])
{
	const char *s = *p, *end;

	while (*s == '/')
		s++;
	end = strchrnul(s, '/');
	if ((size_t)(end - s) > NAME_MAX)
		return -1;
	memcpy(comp, s, (size_t)(end - s));
	comp[end - s] = '\0';
	*p = end;
	return end > s ? 1 : 0;
}

static int check_one(int fd, const char *dir, size_t upto, bool last, struct err *e)
{
	struct stat st;
	char why[128];

	if (fstat(fd, &st) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot inspect root filesystem '%s'", dir);
	if (rootdir_trust(&st, last, geteuid(), why, sizeof(why)) == 0)
		return 0;
	err_set(e, ERR_INVALID, 0, "root filesystem '%s': '%.*s' %s", dir, (int)(upto ? upto : 1),
		dir, why);
	return err_hint(e, "only root or the gateway's user may be able to change a --from "
			   "directory and the directories above it (chown, chmod go-w)");
}

static int open_error(const char *dir, size_t upto, struct err *e)
{
	int sys = errno;

	if (sys == ENOENT)
		err_set(e, ERR_INVALID, 0, "root filesystem '%s' does not exist on the gateway's host", dir);
	else if (sys == ENOTDIR || sys == ELOOP)
		err_set(e, ERR_INVALID, 0, "root filesystem '%s': '%.*s' is not a directory (or is "
					   "a symbolic link)", dir, (int)upto, dir);
	else
		return err_set(e, ERR_RUNTIME, sys, "cannot open root filesystem '%s'", dir);
	return err_hint(e, "--from takes the canonical path of a directory holding a root "
			   "filesystem (e.g. made with mmdebstrap or docker export)");
}

int rootdir_open(const char *dir, uid_t sandbox_uid, gid_t sandbox_gid, struct err *e)
{
	char comp[NAME_MAX + 1];
	const char *p = dir;
	struct stat st;
	int fd = -1, next, r, ret = -1;

	if (dir[0] != '/')
		return err_set(e, ERR_INVALID, 0, "root filesystem '%s' is not an absolute path", dir);
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || check_one(fd, dir, 0, !dir[strspn(dir, "/")], e) < 0)
		goto out;
	while ((r = next_component(&p, comp)) > 0) {
		if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
			err_set(e, ERR_INVALID, 0, "root filesystem '%s' is not a canonical path", dir);
			goto out;
		}
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			open_error(dir, (size_t)(p - dir), e);
			goto out;
		}
		close(fd);
		fd = next;
		if (check_one(fd, dir, (size_t)(p - dir), !p[strspn(p, "/")], e) < 0)
			goto out;
	}
	if (r < 0) {
		err_set(e, ERR_INVALID, ENAMETOOLONG, "root filesystem '%s'", dir);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot inspect root filesystem '%s'", dir);
		goto out;
	}
	if (!rootdir_can_search(&st, sandbox_uid, sandbox_gid)) {
		err_set(e, ERR_INVALID, 0, "root filesystem '%s' (mode %04o, owner %u) cannot be "
					   "entered by the sandbox's uid %u", dir,
			(unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)sandbox_uid);
		err_hint(e, "each sandbox runs as an unprivileged uid of its own: chmod o+rx '%s'", dir);
		goto out;
	}
	ret = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static bool is_program(int root_fd, const char *path)
{
	struct stat st;
	int fd = rootdir_resolve(root_fd, path, O_PATH);
	bool ok;

	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
	close(fd);
	return ok;
}

int rootdir_find_command(int root_fd, const char *argv0, const char *path_env, char *found,
			 size_t n)
{
	const char *p = path_env, *end;
	char cand[PATH_MAX];

	if (strchr(argv0, '/')) {
		if (fmt_into(found, n, "%s", argv0) < 0)
			return errno = ENAMETOOLONG, -1;
		if (argv0[0] != '/') /* relative to the workdir /sandbox, which is not in the root */
			return 0;
		return is_program(root_fd, argv0) ? 0 : (errno = ENOENT, -1);
	}
	for (; p && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end == p || fmt_into(cand, sizeof(cand), "%.*s/%s", (int)(end - p), p, argv0) < 0)
			continue;
		if (is_program(root_fd, cand))
			return fmt_into(found, n, "%s", cand) < 0 ? (errno = ENAMETOOLONG, -1) : 0;
	}
	errno = ENOENT;
	return -1;
}

static uint32_t hash_id(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

static bool in_range(int64_t uid)
{
	return uid >= HOST_UID_BASE && uid < HOST_UID_BASE + HOST_UID_SPAN;
}

uid_t rootdir_host_uid(int64_t allocated, const char *sandbox_id)
{
	if (getuid() != 0)
		return getuid();
	if (in_range(allocated))
		return (uid_t)allocated;
	return (uid_t)(HOST_UID_BASE + hash_id(sandbox_id) % HOST_UID_SPAN);
}

gid_t rootdir_host_gid(int64_t allocated, const char *sandbox_id)
{
	return getuid() == 0 ? (gid_t)rootdir_host_uid(allocated, sandbox_id) : getgid();
}

#define PICK_BLOCK 1000 /* uids per starting point: 100 points in the range */

uid_t rootdir_pick_uid(const uid_t *used, size_t n, const char *gateway)
{
	uint8_t *taken = xcalloc(HOST_UID_SPAN / 8, 1);
	uint32_t start = hash_id(gateway) % (HOST_UID_SPAN / PICK_BLOCK) * PICK_BLOCK, i;
	uid_t found = 0;

	for (; n > 0; n--, used++)
		if (in_range(*used))
			taken[(*used - HOST_UID_BASE) / 8] |= (uint8_t)(1u << ((*used - HOST_UID_BASE) % 8));
	for (i = 0; i < HOST_UID_SPAN && !found; i++) {
		uint32_t k = (start + i) % HOST_UID_SPAN;

		if (!(taken[k / 8] & (1u << (k % 8))))
			found = (uid_t)(HOST_UID_BASE + k);
	}
	free(taken);
	return found;
}
