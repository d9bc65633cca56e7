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

/* Binds host path src at the same place under the new root, read-only unless rw. Host
 * top-level symlinks (merged /usr: /lib -> usr/lib) become the same symlink inside. */
static int bind_path(const char *src, bool rw)
{
	char dst[PATH_MAX], link[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (lstat(src, &st) < 0)
		return errno == ENOENT ? 0 : -1; /* policy paths that do not exist are skipped */
	if (fmt_into(dst, sizeof(dst), "%s%s", newroot, src) < 0)
		return -1;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(src, link, sizeof(link) - 1);
		if (n < 0)
			return -1;
		link[n] = '\0';
		*strrchr(dst, '/') = '\0';
		if (mkdirs(dst) < 0)
			return -1;
		strcat(dst, strrchr(src, '/'));
		return symlink(link, dst) < 0 && errno != EEXIST ? -1 : 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdirs(dst) < 0)
			return -1;
	} else {
		int fd;

		*strrchr(dst, '/') = '\0';
		if (mkdirs(dst) < 0)
			return -1;
		strcat(dst, strrchr(src, '/'));
		fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		close(fd);
	}
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -1;
	return mount(NULL, dst, NULL,
		     MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (rw ? 0 : MS_RDONLY) |
			     locked_flags(dst),
		     NULL);
}

/* /bin, /sbin, /lib64 ... of a merged-/usr host, when what they point to is bound. */
static int merged_usr_links(void)
{
	static const char *const links[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };
	char dst[PATH_MAX], target[PATH_MAX], inside[PATH_MAX];
	struct stat st;
	size_t i;
	ssize_t n;

	for (i = 0; i < ARRAY_SIZE(links); i++) {
		if (lstat(links[i], &st) < 0 || !S_ISLNK(st.st_mode))
			continue;
		n = readlink(links[i], target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (fmt_into(inside, sizeof(inside), "%s/%s", newroot, target[0] == '/' ? target + 1 : target) < 0 ||
		    fmt_into(dst, sizeof(dst), "%s%s", newroot, links[i]) < 0)
			continue;
		if (lstat(dst, &st) == 0 || stat(inside, &st) < 0)
			continue;
		if (symlink(target, dst) < 0)
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

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), r;

	if (fd < 0)
		return -1;
	r = write_full(fd, text, strlen(text));
	close(fd);
	return r;
}

/* Generated /etc files, bound over the host's (or placed in an empty /etc). */
static int etc_file(const char *name, const char *text)
{
	char gen[PATH_MAX], dst[PATH_MAX];
	struct stat st;

	if (fmt_into(gen, sizeof(gen), "%s/.etc-%s", newroot, name) < 0 ||
	    fmt_into(dst, sizeof(dst), "%s/etc/%s", newroot, name) < 0)
		return -1;
	if (write_file(gen, text) < 0 || mkdirs(R("/etc")) < 0)
		return -1;
	if (lstat(dst, &st) < 0) {
		int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0)
			return -1; /* /etc bound read-only without this file: cannot add it */
		close(fd);
	}
	return mount(gen, dst, NULL, MS_BIND, NULL) < 0 ||
			       mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(dst),
				     NULL) < 0
		       ? -1
		       : 0;
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

static int step_root_tmpfs(struct child *c)
{
	if (mount("tmpfs", c->s->root_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,uid=1000,gid=1000") < 0)
		return -1;
	return chdir(c->s->root_dir);
}

static int step_policy_binds(struct child *c)
{
	size_t i;

	for (i = 0; i < c->s->n_ro; i++)
		if (strcmp(c->s->read_only[i], "/proc") && strcmp(c->s->read_only[i], "/tmp") &&
		    bind_path(c->s->read_only[i], false) < 0)
			return c->step = c->s->read_only[i], -1;
	for (i = 0; i < c->s->n_rw; i++)
		if (strcmp(c->s->read_write[i], "/proc") && strcmp(c->s->read_write[i], "/tmp") &&
		    bind_path(c->s->read_write[i], true) < 0)
			return c->step = c->s->read_write[i], -1;
	return merged_usr_links();
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
	if (etc_file("passwd", "root:x:0:0:root:/root:/bin/sh\n"
			       "sandbox:x:1000:1000:sandbox:/sandbox:/bin/bash\n"
			       "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n") < 0 ||
	    etc_file("group", "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n") < 0 ||
	    etc_file("hosts", hosts) < 0)
		return -1;
	snprintf(hosts, sizeof(hosts), "%s\n", c->s->hostname);
	return etc_file("hostname", hosts);
}

static int step_pivot_root(struct child *c)
{
	(void)c;
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
	int keep[6] = { keep1, keep2, keep3, s->stdio[0], s->stdio[1], s->stdio[2] };
	unsigned from = 3;
	size_t i, j;

	for (i = 1; i < ARRAY_SIZE(keep); i++) /* insertion sort: six entries */
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
		struct child c = { s, go[0], rep[1], -1, -1, -1, NULL };

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
