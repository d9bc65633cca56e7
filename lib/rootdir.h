/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sandbox create --from DIR`: a directory on the gateway's host holding a root file
 * system, from which the sandbox's policy paths are bound instead of from the host's /.
 * What the CLI accepts (a directory; image names and Dockerfiles are refused), the trust
 * check the gateway and the supervisor make on DIR, and path resolution that never
 * leaves DIR (openat2 RESOLVE_IN_ROOT). The jail (sandbox/jail.c) does the binds.
 */
#ifndef OS_ROOTDIR_H
#define OS_ROOTDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct err;

/* The PATH a sandbox's processes get unless the create request sets one (the supervisor
 * gives it; the gateway looks a --from command up through it). */
#define SANDBOX_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum rootdir_kind {
	ROOTDIR_PATH,       /* /x, ./x, ../x, ~/x, ., .., ~: a directory */
	ROOTDIR_DOCKERFILE, /* its last component contains "dockerfile" (any case) */
	ROOTDIR_IMAGE,      /* anything else: an image reference or community name */
};

/* What a --from value names, by its spelling alone (never by what exists in the current
 * directory: a bare word is an image name even when a directory of that name exists). */
enum rootdir_kind rootdir_classify(const char *value);

/* Opens path (absolute or relative, it makes no difference) inside root_fd as if root_fd
 * were /: neither symbolic links nor ".." can leave it, magic links (/proc/self/fd/N)
 * are refused. oflags as for openat (O_CLOEXEC is added). Returns the fd, or -1 with
 * errno (ENOENT when the path does not exist inside). */
int rootdir_resolve(int root_fd, const char *path, int oflags);

/* Whether one directory on the way to DIR (last: DIR itself) may be trusted by a
 * gateway running as uid self: a directory, owned by root or self, writable by nobody
 * else (a sticky directory such as /tmp is fine on the way, not as DIR). Returns 0, or
 * -1 with the reason ("is writable by others (mode 0777)") in why. Pure. */
int rootdir_trust(const struct stat *st, bool last, uid_t self, char *why, size_t n);

/* Whether uid/gid may search (x) the directory st describes. Pure. */
bool rootdir_can_search(const struct stat *st, uid_t uid, gid_t gid);

/*
 * Opens the canonical absolute directory dir component by component without following
 * symbolic links, checks each with rootdir_trust (as the calling process's euid), and
 * checks that the sandbox's host uid/gid may search DIR. Returns an O_PATH directory fd
 * (close-on-exec), or -1 with an error naming the component and a hint.
 */
int rootdir_open(const char *dir, uid_t sandbox_uid, gid_t sandbox_gid, struct err *e);

/* Finds argv0 inside root_fd as execvp would (a name without '/' through path_env's
 * directories): a regular file with an execute bit. Writes its path inside the root to
 * found (size n). A relative name with a '/' (./x: relative to /sandbox) is not checked. Returns 0, or -1 with errno (ENOENT when there is none). */
int rootdir_find_command(int root_fd, const char *argv0, const char *path_env, char *found,
			 size_t n);

/* The host uid (and gid) a sandbox runs as (DESIGN.md §6). As root, each sandbox has its
 * own between 200000 and 299999: `allocated`, the one rootdir_pick_uid gave it at create
 * (its spec's host_uid), or for a sandbox created before uids were allocated, 200000 + a
 * hash of its id. Otherwise the caller's own uid. */
uid_t rootdir_host_uid(int64_t allocated, const char *sandbox_id);
gid_t rootdir_host_gid(int64_t allocated, const char *sandbox_id);
/* The uid for a new sandbox: the first one of the range that is not in used[] (n entries,
 * any order), searched from a point that depends on `gateway` (its state directory) so
 * that two gateways of one host usually draw from different parts. 0 when every uid is
 * used. */
uid_t rootdir_pick_uid(const uid_t *used, size_t n, const char *gateway);

#endif
