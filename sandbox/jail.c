/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building and confining one sandbox (see jail.h). jail_confine() is the whole
 * confinement sequence, in order; each step is a small function that returns -1 with
 * errno set, and the first failure is reported to the parent as
 * "confine step '<step>' failed: <why>" over the report socket.
 */
#include "jail.h"
#include "lib/cgroup.h"
#include "lib/err.h"
#include "lib/sockdiag.h"
#include "lib/rootdir.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SANDBOX_UID 1000
/* The new root: a tmpfs mounted (in our own mount namespace only) on the empty directory
 * the supervisor gives us, which hides no host path the sandbox needs. Once it is
 * mounted it is our working directory and everything in it is reached by relative paths
 * ("./etc"): as root the sandbox's uid may not traverse the host dirs above it. */
static const char newroot[] = ".";

static const char *R(const char *sub)
{
	static char bufs[2][PATH_MAX];
	static int k;

	k ^= 1;
	snprintf(bufs[k], sizeof(bufs[k]), ".%s", sub);
	return bufs[k];
}
#define TMP_SIZE "size=1g"
#define PROXY_PORT 3128

struct child {
	const struct jail_spec *s;
	int go_fd;     /* parent -> child: maps written */
	int report_fd; /* child -> parent: "ok" + proxy fd (+ sock_diag fd), or an error text */
	int proxy_fd;
	int diag_fd; /* -1: the kernel has no sock_diag (the proxy reads /proc instead) */
	int workdir_fd; /* opened while host dirs above it can still be traversed */
	int src_fd;     /* the root policy paths come from: the host's /, or --from DIR */
	int new_fd;     /* the new root (the tmpfs) */
	const char *step;
};

/* ---- mounts --------------------------------------------------------------------------- */

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	char *p;

	if (fmt_into(tmp, sizeof(tmp), "%s", path) < 0)
		return -1;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Flags the kernel locks on a mount that a user namespace must keep when remounting. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* The new mount API (Linux 5.12), our own copy of its constants: musl has no wrappers
 * and glibc's <sys/mount.h> clashes with <linux/mount.h>. */
#define OS_OPEN_TREE_CLONE 1U
#define OS_AT_RECURSIVE 0x8000U
#define OS_MOVE_MOUNT_F_EMPTY_PATH 0x4U
#define OS_MOVE_MOUNT_T_EMPTY_PATH 0x40U
#define OS_MOUNT_ATTR_RDONLY 0x1ULL
#define OS_MOUNT_ATTR_NOSUID 0x2ULL
#define OS_MOUNT_ATTR_NODEV 0x4ULL

struct os_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* Binds what src_fd is (with everything mounted below it) onto dst_fd: nosuid, nodev, and
 * read-only unless rw, on every mount of the copy. Flags the kernel locked stay. */
static int bind_fd(int src_fd, int dst_fd, bool rw)
{
	struct os_mount_attr a = { OS_MOUNT_ATTR_NOSUID | OS_MOUNT_ATTR_NODEV |
					   (rw ? 0 : OS_MOUNT_ATTR_RDONLY), 0, 0, 0 };
	int tree = (int)syscall(SYS_open_tree, src_fd, "",
				OS_OPEN_TREE_CLONE | O_CLOEXEC | OS_AT_RECURSIVE | AT_EMPTY_PATH), r;

	if (tree < 0)
		return -1;
	r = (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | OS_AT_RECURSIVE, &a, sizeof(a));
	if (r == 0)
		r = (int)syscall(SYS_move_mount, tree, "", dst_fd, "",
				 OS_MOVE_MOUNT_F_EMPTY_PATH | OS_MOVE_MOUNT_T_EMPTY_PATH);
	close(tree);
	return r;
}

#define LINK_DEPTH 8 /* symbolic links followed to make the places they point to */

static int root_dirs_at(int root_fd, const char *path, int depth);

/* `name` in parent_fd (reached as `prefix`) is a symbolic link to a place missing inside
 * the new root: that place is made, inside, so that the link leads somewhere. */
static int make_link_target(int root_fd, int parent_fd, const char *prefix, const char *name,
			    int depth)
{
	char target[PATH_MAX], full[PATH_MAX];
	ssize_t n = readlinkat(parent_fd, name, target, sizeof(target) - 1);
	const char *slash = strrchr(prefix, '/');
	int fd;

	if (n < 0)
		return -1;
	target[n] = '\0';
	if (target[0] == '/' ? fmt_into(full, sizeof(full), "%s", target) < 0
			     : fmt_into(full, sizeof(full), "%.*s/%s",
					(int)(slash ? slash - prefix : 0), prefix, target) < 0)
		return errno = ENAMETOOLONG, -1;
	fd = root_dirs_at(root_fd, full, depth + 1);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* The directory `path` inside the new root (resolved as the sandbox will see it, symbolic
 * links included, never leaving it), made where missing. Returns an O_PATH fd or -1. */
static int root_dirs_at(int root_fd, const char *path, int depth)
{
	char prefix[PATH_MAX], name[NAME_MAX + 1];
	const char *p = path, *end;
	int fd = rootdir_resolve(root_fd, "/", O_PATH | O_DIRECTORY), next;

	while (fd >= 0 && *p) {
		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		if (end == p)
			break;
		if ((size_t)(end - p) > NAME_MAX || fmt_into(prefix, sizeof(prefix), "%.*s",
							     (int)(end - path), path) < 0) {
			errno = ENAMETOOLONG;
			close(fd);
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(end - p), p);
		next = rootdir_resolve(root_fd, prefix, O_PATH | O_DIRECTORY);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(fd, name, 0755) == 0 ||
			    (errno == EEXIST && depth < LINK_DEPTH &&
			     make_link_target(root_fd, fd, prefix, name, depth) == 0))
				next = rootdir_resolve(root_fd, prefix, O_PATH | O_DIRECTORY);
		}
		close(fd);
		fd = next;
		p = end;
	}
	return fd;
}

static int root_dirs(int root_fd, const char *path)
{
	return root_dirs_at(root_fd, path, 0);
}

/* `path`'s parent inside the new root (made where missing) and its last component. */
static int root_parent(int root_fd, const char *path, char name[NAME_MAX + 1])
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash || strlen(slash + 1) > NAME_MAX || !slash[1] ||
	    fmt_into(parent, sizeof(parent), "%.*s", (int)(slash - path), path) < 0) {
		errno = EINVAL;
		return -1;
	}
	snprintf(name, NAME_MAX + 1, "%s", slash + 1);
	return root_dirs(root_fd, parent[0] ? parent : "/");
}

/* The mount point for `path` inside the new root: a directory or an empty file, made
 * where missing. Returns an O_PATH fd or -1. */
static int root_target(int root_fd, const char *path, bool dir)
{
	char name[NAME_MAX + 1];
	int fd = rootdir_resolve(root_fd, path, O_PATH), parent, f;

	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (dir)
		return root_dirs(root_fd, path);
	parent = root_parent(root_fd, path, name);
	if (parent < 0)
		return -1;
	f = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	close(parent);
	if (f < 0 && errno != EEXIST)
		return -1;
	if (f >= 0)
		close(f);
	return rootdir_resolve(root_fd, path, O_PATH);
}

/* A symbolic link of the source root becomes the same link in the new root, where it
 * resolves against the sandbox's own tree (merged /usr: /lib -> usr/lib). */
static int copy_link(struct child *c, int link_fd, const char *path)
{
	char target[PATH_MAX], name[NAME_MAX + 1];
	ssize_t n = readlinkat(link_fd, "", target, sizeof(target) - 1);
	int parent, r;

	if (n < 0)
		return -1;
	target[n] = '\0';
	parent = root_parent(c->new_fd, path, name);
	if (parent < 0)
		return -1;
	r = symlinkat(target, parent, name) < 0 && errno != EEXIST ? -1 : 0;
	close(parent);
	return r;
}

/* Binds `path` of the source root (the host's /, or the --from directory, resolved
 * inside it) at the same place in the new root, read-only unless rw. Paths that do not
 * exist in the source are skipped. */
static int bind_path(struct child *c, const char *path, bool rw)
{
	struct stat st;
	int src = rootdir_resolve(c->src_fd, path, O_PATH | O_NOFOLLOW), dst = -1, ret = -1;

	if (src < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(src, &st) < 0)
		goto out;
	if (S_ISLNK(st.st_mode)) {
		ret = copy_link(c, src, path);
		goto out;
	}
	dst = root_target(c->new_fd, path, S_ISDIR(st.st_mode));
	if (dst < 0 || bind_fd(src, dst, rw) < 0)
		goto out;
	ret = 0;
out:
	if (dst >= 0)
		close(dst);
	close(src);
	return ret;
}

/* /bin, /sbin, /lib64 ... of a merged-/usr source root, when what they point to is bound. */
static int merged_usr_links(struct child *c)
{
	static const char *const links[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };
	char target[PATH_MAX];
	struct stat st;
	size_t i;
	ssize_t n;
	int fd, there;

	for (i = 0; i < ARRAY_SIZE(links); i++) {
		if (fstatat(c->new_fd, links[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		fd = rootdir_resolve(c->src_fd, links[i], O_PATH | O_NOFOLLOW);
		if (fd < 0)
			continue;
		n = fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)
			    ? readlinkat(fd, "", target, sizeof(target) - 1) : -1;
		close(fd);
		if (n <= 0)
			continue;
		target[n] = '\0';
		there = rootdir_resolve(c->new_fd, target, O_PATH);
		if (there < 0)
			continue;
		close(there);
		if (symlinkat(target, c->new_fd, links[i]) < 0)
			return -1;
	}
	return 0;
}

static int bind_dev(const char *name)
{
	char src[64], dst[PATH_MAX];
	int fd;

	if (fmt_into(src, sizeof(src), "/dev/%s", name) < 0 ||
	    fmt_into(dst, sizeof(dst), "%s/dev/%s", newroot, name) < 0)
		return -1;
	if (access(src, F_OK) < 0)
		return 0;
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return -1;
	close(fd);
	return mount(src, dst, NULL, MS_BIND, NULL);
}

/* Generated /etc files, bound over the root's own (or placed in its /etc). When /etc is
 * bound read-only from a root without that file (or with a link to nowhere in its place),
 * there is nowhere to put it: it is left out. */
static int etc_file(struct child *c, const char *name, const char *text)
{
	char gen[64], dst[64];
	int g = -1, src = -1, to = -1, ret = -1;

	if (fmt_into(gen, sizeof(gen), ".etc-%s", name) < 0 ||
	    fmt_into(dst, sizeof(dst), "/etc/%s", name) < 0)
		return -1;
	g = openat(c->new_fd, gen, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (g < 0 || write_full(g, text, strlen(text)) < 0)
		goto out;
	src = openat(c->new_fd, gen, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	to = root_target(c->new_fd, dst, false);
	if (to < 0 && (errno == EROFS || errno == ENOENT))
		ret = 0;
	else if (src >= 0 && to >= 0 && bind_fd(src, to, false) == 0)
		ret = 0;
out:
	if (g >= 0)
		close(g);
	if (src >= 0)
		close(src);
	if (to >= 0)
		close(to);
	return ret;
}

/* ---- the steps ----------------------------------------------------------------------- */

static int step_wait_for_maps(struct child *c)
{
	char b;

	return read(c->go_fd, &b, 1) < 0 ? -1 : 0;
}

/* As root the outer uid 0 is not mapped inside, and files cannot be created with an
 * unmapped fsuid (EOVERFLOW): create them as the sandbox user, keeping the namespace's
 * capabilities (fsuid changes drop only the file-system ones). */
static int step_fs_identity(struct child *c)
{
	(void)c;
	setfsgid(SANDBOX_UID);
	setfsuid(SANDBOX_UID);
	if ((int)setfsuid((uid_t)-1) != SANDBOX_UID) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static int step_private_mounts(struct child *c)
{
	(void)c;
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

static int step_loopback(struct child *c)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	(void)c;
	if (fd < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return r;
}

/* The proxy's listener lives in the sandbox's network namespace (DESIGN.md §7). */
static int step_proxy_listener(struct child *c)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PROXY_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;

	c->proxy_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->proxy_fd < 0)
		return -1;
	setsockopt(c->proxy_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(c->proxy_fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return listen(c->proxy_fd, 128);
}

/* The proxy's view of the namespace's sockets: a netlink socket answers for the network
 * namespace it was made in. Optional: without one the proxy reads /proc/<pid 1>/net/tcp. */
static int step_sock_diag(struct child *c)
{
	c->diag_fd = sockdiag_open();
	return 0;
}

/* The host's /, or the --from directory. The supervisor opened and checked the latter in
 * its own mount namespace, where mounts cannot be copied from: it is opened again here
 * and must be the very same directory. */
static int step_open_root_source(struct child *c)
{
	struct stat here, checked;
	int same;

	if (c->s->from_fd < 0) {
		c->src_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		return c->src_fd < 0 ? -1 : 0;
	}
	c->src_fd = open(c->s->from_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->src_fd < 0 || fstat(c->src_fd, &here) < 0 || fstat(c->s->from_fd, &checked) < 0)
		return -1;
	same = here.st_dev == checked.st_dev && here.st_ino == checked.st_ino;
	close(c->s->from_fd);
	if (!same)
		errno = ESTALE; /* replaced since the supervisor checked it */
	return same ? 0 : -1;
}

static int step_root_tmpfs(struct child *c)
{
	if (mount("tmpfs", c->s->root_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,uid=1000,gid=1000") < 0 ||
	    chdir(c->s->root_dir) < 0)
		return -1;
	c->new_fd = open(newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return c->new_fd < 0 ? -1 : 0;
}

/* /dev, /proc and /tmp are made by their own steps (over anything bound there). */
static bool made_later(const char *path)
{
	static const char *const own[] = { "/dev", "/proc", "/tmp" };
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(own); i++) {
		n = strlen(own[i]);
		if (!strncmp(path, own[i], n) && (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

static int step_policy_binds(struct child *c)
{
	size_t i;
	int r = 0;

	for (i = 0; i < c->s->n_ro && r == 0; i++)
		if (!made_later(c->s->read_only[i]) && bind_path(c, c->s->read_only[i], false) < 0)
			c->step = c->s->read_only[i], r = -1;
	for (i = 0; i < c->s->n_rw && r == 0; i++)
		if (!made_later(c->s->read_write[i]) && bind_path(c, c->s->read_write[i], true) < 0)
			c->step = c->s->read_write[i], r = -1;
	if (r == 0)
		r = merged_usr_links(c);
	close(c->src_fd); /* nothing in the sandbox may reach the source root but by its binds */
	c->src_fd = -1;
	return r;
}

static int step_open_workdir(struct child *c)
{
	c->workdir_fd = open(c->s->workdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return c->workdir_fd < 0 ? -1 : 0;
}

static int step_sandbox_dir(struct child *c)
{
	char src[64];

	snprintf(src, sizeof(src), "/proc/self/fd/%d", c->workdir_fd);
	if (mkdirs(R("/sandbox")) < 0 || mount(src, R("/sandbox"), NULL, MS_BIND, NULL) < 0)
		return -1;
	close(c->workdir_fd);
	return mount(NULL, R("/sandbox"), NULL,
		     MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | locked_flags(R("/sandbox")),
		     NULL);
}

static int step_tmp(struct child *c)
{
	(void)c;
	if (mkdirs(R("/tmp")) < 0)
		return -1;
	return mount("tmpfs", R("/tmp"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777," TMP_SIZE);
}

static int step_dev(struct child *c)
{
	static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
	size_t i;

	(void)c;
	if (mkdirs(R("/dev")) < 0 ||
	    mount("tmpfs", R("/dev"), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(nodes); i++)
		if (bind_dev(nodes[i]) < 0)
			return -1;
	if (mkdir(R("/dev/pts"), 0755) < 0 ||
	    mount("devpts", R("/dev/pts"), "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=620") < 0 ||
	    symlink("pts/ptmx", R("/dev/ptmx")) < 0 || mkdir(R("/dev/shm"), 01777) < 0 ||
	    mount("tmpfs", R("/dev/shm"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") < 0)
		return -1;
	return symlink("/proc/self/fd", R("/dev/fd"));
}

static int step_proc(struct child *c)
{
	(void)c;
	return mkdirs(R("/proc")) < 0 ? -1
		       : mount("proc", R("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

static int step_etc(struct child *c)
{
	char hosts[512];

	snprintf(hosts, sizeof(hosts), "127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost\n",
		 c->s->hostname);
	if (etc_file(c, "passwd", "root:x:0:0:root:/root:/bin/sh\n"
			       "sandbox:x:1000:1000:sandbox:/sandbox:/bin/bash\n"
			       "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n") < 0 ||
	    etc_file(c, "group", "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n") < 0 ||
	    etc_file(c, "hosts", hosts) < 0)
		return -1;
	snprintf(hosts, sizeof(hosts), "%s\n", c->s->hostname);
	return etc_file(c, "hostname", hosts);
}

static int step_pivot_root(struct child *c)
{
	close(c->new_fd); /* the working directory is the new root from here on */
	c->new_fd = -1;
	if (mkdir(R("/.oldroot"), 0700) < 0 || syscall(SYS_pivot_root, ".", "./.oldroot") < 0 || chdir("/") < 0 ||
	    umount2("/.oldroot", MNT_DETACH) < 0)
		return -1;
	return rmdir("/.oldroot");
}

static int step_read_only_root(struct child *c)
{
	(void)c;
	return mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
}

static int step_hostname(struct child *c)
{
	return sethostname(c->s->hostname, strlen(c->s->hostname));
}

/* Bounding set and ambient set emptied while we still hold CAP_SETPCAP in the namespace;
 * setresuid to the sandbox user then clears the permitted and effective sets. */
static int step_identity(struct child *c)
{
	int cap;

	(void)c;
	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -1;
	if (setresgid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) < 0 ||
	    setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) < 0)
		return -1;
	if (setuid(0) == 0) { /* must not be able to go back */
		errno = EPERM;
		return -1;
	}
	return 0;
}

static int step_limits(struct child *c)
{
	struct rlimit core = { 0, 0 };

	(void)c;
	if (setrlimit(RLIMIT_CORE, &core) < 0)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static int step_landlock(struct child *c)
{
	struct err e = ERR_INIT;
	int r = jail_landlock(c->s, &e);

	if (r < 0)
		errno = e.sys ? e.sys : EPERM;
	return r;
}

static int step_seccomp(struct child *c)
{
	(void)c;
	return jail_seccomp_load();
}

static int step_report_ok(struct child *c)
{
	char ok[2] = "k";
	int fds[2] = { c->proxy_fd, c->diag_fd };
	size_t nfd = c->diag_fd >= 0 ? 2 : 1;
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { ok, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = CMSG_SPACE(nfd * sizeof(int)) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	memset(cbuf, 0, sizeof(cbuf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nfd * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, nfd * sizeof(int));
	if (sendmsg(c->report_fd, &m, MSG_NOSIGNAL) < 0)
		return -1;
	close(c->proxy_fd);
	if (c->diag_fd >= 0)
		close(c->diag_fd);
	close(c->report_fd);
	return 0;
}

/* The confinement sequence, in order. Mount steps run while the namespace's capabilities
 * are still held; identity drops them; Landlock and seccomp come last before the report. */
static int jail_confine(struct child *c)
{
	static const struct {
		const char *name;
		int (*fn)(struct child *c);
	} steps[] = {
		{ "wait_for_uid_map", step_wait_for_maps },
		{ "private_mounts", step_private_mounts },
		{ "loopback", step_loopback },
		{ "proxy_listener", step_proxy_listener },
		{ "sock_diag", step_sock_diag },
		{ "open_workdir", step_open_workdir },
		{ "open_root_source", step_open_root_source },
		{ "root_tmpfs", step_root_tmpfs },
		{ "fs_identity", step_fs_identity },
		{ "policy_binds", step_policy_binds },
		{ "sandbox_dir", step_sandbox_dir },
		{ "tmp", step_tmp },
		{ "dev", step_dev },
		{ "proc", step_proc },
		{ "etc", step_etc },
		{ "pivot_root", step_pivot_root },
		{ "read_only_root", step_read_only_root },
		{ "hostname", step_hostname },
		{ "identity", step_identity },
		{ "limits", step_limits },
		{ "landlock", step_landlock },
		{ "seccomp", step_seccomp },
		{ "report", step_report_ok },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		c->step = NULL;
		if (steps[i].fn(c) < 0) {
			char msg[512];
			int sys = errno;

			snprintf(msg, sizeof(msg), "confine step '%s'%s%s%s failed: %s", steps[i].name,
				 c->step ? " (" : "", c->step ? c->step : "", c->step ? ")" : "",
				 strerror(sys));
			if (write(c->report_fd, msg, strlen(msg)) < 0)
				_exit(126);
			return -1;
		}
	}
	return 0;
}

/* ---- parent side ------------------------------------------------------------------------ */

static int write_map(pid_t pid, const char *file, const char *text, struct err *e)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_RUNTIME, "cannot open '%s'", path);
	r = write_full(fd, text, strlen(text));
	if (r < 0)
		err_sys(e, ERR_RUNTIME, "cannot write '%s'", path);
	close(fd);
	return r;
}

static int write_maps(const struct jail_spec *s, pid_t pid, struct err *e)
{
	char map[64];

	if (write_map(pid, "setgroups", "deny", e) < 0)
		return -1;
	snprintf(map, sizeof(map), "%d %u 1\n", SANDBOX_UID, (unsigned)s->host_uid);
	if (write_map(pid, "uid_map", map, e) < 0)
		return -1;
	snprintf(map, sizeof(map), "%d %u 1\n", SANDBOX_UID, (unsigned)s->host_gid);
	return write_map(pid, "gid_map", map, e);
}

/* Reads the child's report: "k" with the proxy fd (and the sock_diag fd), or an error text. */
static int read_report(int fd, int *proxy_fd, int *diag_fd, struct err *e)
{
	char msg[512], cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { msg, sizeof(msg) - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fds[2] = { -1, -1 };
	ssize_t n;

	do
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return err_set(e, ERR_RUNTIME, n < 0 ? errno : 0,
			       "the sandbox exited before it was confined");
	cm = CMSG_FIRSTHDR(&m);
	if (n == 1 && msg[0] == 'k' && cm && cm->cmsg_type == SCM_RIGHTS &&
	    (cm->cmsg_len == CMSG_LEN(sizeof(int)) || cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))) {
		memcpy(fds, CMSG_DATA(cm), cm->cmsg_len - CMSG_LEN(0));
		*proxy_fd = fds[0];
		*diag_fd = fds[1];
		return 0;
	}
	msg[n] = '\0';
	return err_set(e, ERR_RUNTIME, 0, "%s", msg);
}

/* close_range(2), or one close per descriptor on kernels before 5.9. */
static void close_fd_range(unsigned lo, unsigned hi)
{
	struct rlimit rl;
	unsigned fd, max;

	if (lo > hi || syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
	max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (unsigned)rl.rlim_cur
									 : 65536;
	for (fd = lo; fd <= hi && fd < max; fd++)
		close((int)fd);
}

/* The sandbox must not keep the supervisor's descriptors: the write end of the main
 * process's stdin would keep it from ever seeing EOF, and the rest is not its business.
 * Everything from 3 up goes except the kept ones (-1 keeps nothing): one close_range per
 * gap instead of one close per possible descriptor, which costs milliseconds. */
static void close_other_fds(const struct jail_spec *s, int keep1, int keep2, int keep3)
{
	int keep[7] = { keep1, keep2, keep3, s->stdio[0], s->stdio[1], s->stdio[2], s->from_fd };
	unsigned from = 3;
	size_t i, j;

	for (i = 1; i < ARRAY_SIZE(keep); i++) /* insertion sort: seven entries */
		for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (i = 0; i < ARRAY_SIZE(keep); i++) {
		if (keep[i] < (int)from)
			continue;
		close_fd_range(from, (unsigned)keep[i] - 1);
		from = (unsigned)keep[i] + 1;
	}
	close_fd_range(from, ~0U);
}

int jail_spawn(const struct jail_spec *s, pid_t *init_pid, int *proxy_fd, int *diag_fd,
	       int *ctl_fd, struct err *e)
{
	int go[2] = { -1, -1 }, rep[2] = { -1, -1 }, ctl[2] = { -1, -1 }, ret = -1;
	unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
			      CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | SIGCHLD;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rep) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot create the sandbox's control channels");
		goto out;
	}
	pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		err_sys(e, ERR_RUNTIME, "cannot create the sandbox's namespaces");
		goto out;
	}
	if (pid == 0) {
		struct child c = { .s = s, .go_fd = go[0], .report_fd = rep[1], .proxy_fd = -1,
				    .diag_fd = -1, .workdir_fd = -1, .src_fd = -1, .new_fd = -1 };

		close_other_fds(s, go[0], rep[1], ctl[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* dies with the supervisor */
		if (jail_confine(&c) < 0)
			_exit(126);
		jail_run_init(s, ctl[1]);
	}
	close(go[0]);
	go[0] = -1;
	close(rep[1]);
	rep[1] = -1;
	/* The child waits for the go pipe: joining the cgroup now covers all it will fork. */
	if ((s->cgroup && cg_attach(s->cgroup, pid, e) < 0) || write_maps(s, pid, e) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	close(go[1]); /* EOF: the maps are written */
	go[1] = -1;
	if (read_report(rep[0], proxy_fd, diag_fd, e) < 0) {
		waitpid(pid, NULL, 0);
		goto out;
	}
	*init_pid = pid;
	*ctl_fd = ctl[0];
	ctl[0] = -1;
	ret = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (ctl[i] >= 0)
			close(ctl[i]);
		if (go[i] >= 0)
			close(go[i]);
		if (rep[i] >= 0)
			close(rep[i]);
	}
	return ret;
}
