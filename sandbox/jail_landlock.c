/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Landlock over the sandbox's new root (reference/policy.md §5, STYLE.md §3c): read_only
 * paths get read+execute, read_write paths (and /sandbox, /tmp, the tty devices) get
 * every handled right, anything else is inaccessible. Best effort degrades on old
 * kernels; hard_requirement fails. TCP rights stay unhandled (DESIGN.md §6); signals and
 * abstract unix sockets are scoped to the sandbox where the kernel can (ABI >= 6).
 */
#include "jail.h"
#include "lib/err.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Our own copy of the uapi (Debian 12's headers stop at ABI 2). */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define LL_VERSION 1U
#define LL_RULE_PATH_BENEATH 1
#define LL_EXECUTE (1ULL << 0)
#define LL_WRITE_FILE (1ULL << 1)
#define LL_READ_FILE (1ULL << 2)
#define LL_READ_DIR (1ULL << 3)
#define LL_V1_ALL ((1ULL << 13) - 1)
#define LL_REFER (1ULL << 13)
#define LL_TRUNCATE (1ULL << 14)
#define LL_FILE_ONLY (LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE)
#define LL_SCOPE_ABSTRACT_UNIX 1ULL
#define LL_SCOPE_SIGNAL 2ULL

static const char *const extra_rw[] = { "/sandbox", "/tmp", "/dev/null", "/dev/zero",
					"/dev/full", "/dev/tty", "/dev/pts", "/dev/shm",
					"/dev/random", "/dev/urandom" };

static int add_rule(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct ll_path_beneath pb;
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC), r;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1; /* a path that does not exist inside */
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	pb.allowed_access = access & handled & (S_ISDIR(st.st_mode) ? ~0ULL : LL_FILE_ONLY);
	pb.parent_fd = fd;
	r = (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	return r;
}

static int add_rules(int ruleset, const struct jail_spec *s, uint64_t handled)
{
	const uint64_t ro = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR;
	size_t i;

	for (i = 0; i < s->n_ro; i++)
		if (add_rule(ruleset, s->read_only[i], ro, handled) < 0)
			return -1;
	for (i = 0; i < s->n_rw; i++)
		if (add_rule(ruleset, s->read_write[i], ~0ULL, handled) < 0)
			return -1;
	for (i = 0; i < ARRAY_SIZE(extra_rw); i++)
		if (add_rule(ruleset, extra_rw[i], ~0ULL, handled) < 0)
			return -1;
	/* merged-/usr symlinks resolve into /usr; the links themselves need no rule */
	return 0;
}

int jail_landlock(const struct jail_spec *s, struct err *e)
{
	struct ll_ruleset_attr attr = { 0 };
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_VERSION);
	size_t size = sizeof(attr.handled_access_fs);
	int fd, ret = -1;

	if (abi < 1) {
		if (s->hard_landlock)
			return err_set(e, ERR_RUNTIME, ENOSYS, "Landlock is not available");
		return 0; /* best_effort: the supervisor reports the missing layer */
	}
	attr.handled_access_fs = LL_V1_ALL | (abi >= 2 ? LL_REFER : 0) | (abi >= 3 ? LL_TRUNCATE : 0);
	if (abi >= 4)
		size = offsetof(struct ll_ruleset_attr, scoped);
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return err_sys(e, ERR_RUNTIME, "landlock_create_ruleset");
	if (add_rules(fd, s, attr.handled_access_fs) < 0) {
		err_sys(e, ERR_RUNTIME, "landlock_add_rule");
		goto out;
	}
	if (syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
		err_sys(e, ERR_RUNTIME, "landlock_restrict_self");
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}
