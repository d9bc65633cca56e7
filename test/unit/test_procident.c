/* SPDX-License-Identifier: Apache-2.0 */
/* procident: pure parsers, the TOFU cache, and lookups against real child processes that
 * connect to a listener of ours (this process plays the sandbox's init). The incremental
 * lookups keep one cache across changes of a child's process tree, which the child makes on
 * command. */
#include "unit.h"
#include "../../lib/procident.h"
#include "../../lib/sockdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const sleep_argv[] = { "/bin/sleep", "30", NULL };

/* ---- helpers ------------------------------------------------------------------------- */

static int listen_lo(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

/* Not close-on-exec: the exec'd program keeps holding the socket. */
static int connect_lo(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return fd;
}

static void exec_sleep(void)
{
	execv(sleep_argv[0], (char *const *)sleep_argv);
	_exit(127);
}

static void self_exe(char *dst, size_t n)
{
	ssize_t r = readlink("/proc/self/exe", dst, n - 1);

	dst[r > 0 ? r : 0] = '\0';
}

/* Waits (up to 5 s) until pid runs something other than this test binary. */
static void wait_exec(pid_t pid)
{
	char me[PATH_MAX], link[64], now[PATH_MAX];
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	self_exe(me, sizeof(me));
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	for (i = 0; i < 500; i++) {
		ssize_t r = readlink(link, now, sizeof(now) - 1);

		if (r > 0 && (now[r] = '\0', strcmp(now, me)))
			return;
		nanosleep(&ts, NULL);
	}
}

static pid_t read_pid(int fd)
{
	pid_t p = 0;

	return read(fd, &p, sizeof(p)) == sizeof(p) ? p : 0;
}

static void kill_group(pid_t pgid)
{
	kill(-pgid, SIGKILL);
	waitpid(pgid, NULL, 0);
}

static void sha256sum(const char *path, char out[65])
{
	char cmd[PATH_MAX + 32];
	FILE *p;

	out[0] = '\0';
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	p = popen(cmd, "r");
	if (!p)
		return;
	if (fscanf(p, "%64s", out) != 1)
		out[0] = '\0';
	pclose(p);
}

static int copy_file(const char *from, const char *to)
{
	char cmd[2 * PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- pure parsers -------------------------------------------------------------------- */

TEST(procident_parse_ppid)
{
	pid_t p = 0;

	CHECK_INT(ident_parse_ppid("Name:\tsleep\nUmask:\t0022\nState:\tS\nTgid:\t7\nNgid:\t0\n"
				   "Pid:\t7\nPPid:\t4242\nTracerPid:\t0\n",
				   &p),
		  0);
	CHECK_INT(p, 4242);
	CHECK_INT(ident_parse_ppid("PPid:\t0\n", &p), 0);
	CHECK_INT(p, 0);
	CHECK_INT(ident_parse_ppid("Name:\tx\nTracerPid:\t5\n", &p), -1);
	CHECK_INT(ident_parse_ppid("Name:\tx\nPPid:\tabc\n", &p), -1);
	CHECK_INT(ident_parse_ppid("Name:\tx\nPPid:\t12x\n", &p), -1);
	CHECK_INT(ident_parse_ppid("Name:\tx\nPPid:\t99999999999\n", &p), -1);
}

TEST(procident_parse_maps_line)
{
	char l1[] = "55e3ef6e8000-55e3ef6ed000 r-xp 00002000 fe:00 248056                     "
		    "/usr/bin/sleep\n";
	char l2[] = "7f6416975000-7f6416977000 r-xp 00000000 00:00 0                          "
		    "[vdso]\n";
	char l3[] = "7f0000000000-7f0000001000 rwxp 00000000 00:00 0 \n";
	char l4[] =
		"7f0bb1862000-7f0bb1863000 r-xp 00001000 00:29 13      /tmp/lib x.so (deleted)\n";
	char l5[] = "7f0bb1862000-7f0bb1863000 r--p 00001000 103:0a 13 /memfd:jit (deleted)";
	char l6[] = "garbage line\n";
	struct ident_map m;

	CHECK_INT(ident_parse_maps_line(l1, &m), 0);
	CHECK(m.exec);
	CHECK_INT(m.dev_major, 0xfe);
	CHECK_INT(m.dev_minor, 0);
	CHECK_INT(m.ino, 248056);
	CHECK_STR(m.path, "/usr/bin/sleep");
	CHECK_INT(ident_parse_maps_line(l2, &m), 0);
	CHECK_STR(m.path, "[vdso]");
	CHECK_INT(ident_parse_maps_line(l3, &m), 0);
	CHECK(m.exec);
	CHECK_STR(m.path, "");
	CHECK_INT(ident_parse_maps_line(l4, &m), 0);
	CHECK_STR(m.path, "/tmp/lib x.so (deleted)");
	CHECK_INT(m.dev_minor, 0x29);
	CHECK_INT(ident_parse_maps_line(l5, &m), 0);
	CHECK(!m.exec);
	CHECK_INT(m.dev_major, 0x103);
	CHECK_INT(m.dev_minor, 0x0a);
	CHECK_STR(m.path, "/memfd:jit (deleted)");
	CHECK_INT(ident_parse_maps_line(l6, &m), -1);
}

TEST(procident_writable_match)
{
	const char *const paths[] = { "/sandbox/", "/tmp", "/dev/shm" };
	struct ident_writable w = { paths, 3 }, all = { (const char *const[]){ "/" }, 1 };

	CHECK_STR(ident_writable_match("/tmp/x.so", &w), "/tmp");
	CHECK_STR(ident_writable_match("/tmp", &w), "/tmp");
	CHECK_STR(ident_writable_match("/sandbox/.venv/lib/a.so", &w), "/sandbox/");
	CHECK(!ident_writable_match("/tmpx/a.so", &w));
	CHECK(!ident_writable_match("/usr/lib/libc.so.6", &w));
	CHECK(!ident_writable_match("/dev/shmem", &w));
	CHECK(!ident_writable_match("/tmp/x", NULL));
	CHECK_STR(ident_writable_match("/usr/lib/libc.so.6", &all), "/");
}

/* ---- TOFU cache ---------------------------------------------------------------------- */

static int check_path(struct ident_cache *c, const char *path, char hex[65], struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = ident_cache_check(c, path, fd, hex, e);
	close(fd);
	return r;
}

TEST(procident_tofu_detects_change)
{
	char dir[] = "/tmp/procident.XXXXXX", path[PATH_MAX], hex[65], want[65], old[65];
	char msg[PATH_MAX + 256];
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/true", dir);
	CHECK_INT(copy_file("/bin/true", path), 0);
	sha256sum(path, want);
	CHECK_INT(check_path(c, path, hex, &e), 0);
	CHECK_STR(hex, want);
	CHECK_INT(ident_cache_count(c), 1);
	/* a new mtime alone re-hashes, finds the same content and keeps going */
	CHECK_INT(utimensat(AT_FDCWD, path, NULL, 0), 0);
	CHECK_INT(check_path(c, path, hex, &e), 0);
	CHECK_STR(hex, want);
	memcpy(old, want, sizeof(old));
	f = fopen(path, "ae");
	CHECK(f != NULL);
	if (f) {
		fputs("changed", f);
		fclose(f);
	}
	sha256sum(path, want);
	CHECK_INT(check_path(c, path, hex, &e), -1);
	snprintf(msg, sizeof(msg),
		 "binary integrity check failed: Binary integrity violation: "
		 "%s hash changed (cached: %s, current: %s)",
		 path, old, want);
	CHECK_STR(e.msg, msg);
	/* the pin is kept: it keeps failing */
	CHECK_INT(check_path(c, path, hex, &e), -1);
	CHECK_INT(ident_cache_count(c), 1);
	ident_cache_free(c);
	unlink(path);
	rmdir(dir);
}

/* ---- lookups against real processes -------------------------------------------------- */

struct conn {
	int lfd, fd;
	pid_t pgid;
};

/* Forks a process group leader that runs child(port, pipe write end); accepts its
 * connection. */
static int start(struct conn *k, void (*child)(uint16_t port, int wfd), int *rfd)
{
	uint16_t port = 0;
	int p[2];

	k->fd = -1;
	k->lfd = listen_lo(&port);
	if (k->lfd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	k->pgid = fork();
	if (k->pgid == 0) {
		setpgid(0, 0);
		close(p[0]);
		child(port, p[1]);
		_exit(0);
	}
	close(p[1]);
	*rfd = p[0];
	k->fd = accept4(k->lfd, NULL, NULL, SOCK_CLOEXEC);
	return k->fd < 0 ? -1 : 0;
}

static void stop(struct conn *k, int rfd)
{
	kill_group(k->pgid);
	close(rfd);
	close(k->fd);
	close(k->lfd);
}

/* A process that stays this binary forks the caller, which connects and execs sleep. */
static void child_grandchild_sleep(uint16_t port, int wfd)
{
	pid_t g = fork();

	if (g == 0) {
		if (connect_lo(port) < 0)
			_exit(1);
		exec_sleep();
	}
	if (write(wfd, &g, sizeof(g)) != sizeof(g))
		_exit(1);
	pause();
}

TEST(procident_lookup_finds_caller)
{
	struct ident_cache *c = ident_cache_new();
	char me[PATH_MAX], sleep_exe[PATH_MAX], want[65];
	struct err e = ERR_INIT;
	struct ident id;
	struct conn k;
	pid_t g;
	int rfd;

	CHECK_INT(start(&k, child_grandchild_sleep, &rfd), 0);
	g = read_pid(rfd);
	wait_exec(g);
	self_exe(me, sizeof(me));
	CHECK(realpath("/bin/sleep", sleep_exe) != NULL);
	sha256sum(sleep_exe, want);
	CHECK_INT(ident_lookup(c, getpid(), k.fd, NULL, &id, &e), 0);
	if (!e.msg[0]) {
		CHECK_INT(id.pid, g);
		CHECK_STR(id.exe, sleep_exe);
		CHECK_STR(id.sha256, want);
		/* the grandchild's parent; the entrypoint (this test) is not an ancestor */
		CHECK_INT(id.n_ancestors, 1);
		CHECK_STR(id.ancestors[0], me);
		/* argv[0] "/bin/sleep" differs from the exe path when /bin is a symlink */
		if (strcmp(sleep_exe, "/bin/sleep")) {
			CHECK_INT(id.n_cmdline, 1);
			CHECK_STR(id.cmdline[0], "/bin/sleep");
		}
		CHECK_INT(ident_cache_count(c), 2);
		ident_release(&id);
	} else {
		unit_fail(__FILE__, __LINE__, "ident_lookup: %s", e.msg);
	}
	stop(&k, rfd);
	ident_cache_free(c);
}

static void child_share_then_exec(uint16_t port, int wfd);

/* The socket inode from sock_diag; a descriptor that is not a netlink socket falls back to
 * the tcp tables. Same answer either way, and the same deny reason for a shared socket. */
TEST(procident_lookup_with_sock_diag)
{
	struct ident_cache *c = ident_cache_new();
	struct ident_scan_stats st;
	struct err e = ERR_INIT;
	int dfd = sockdiag_open(), p[2];
	struct ident id;
	struct conn k;
	pid_t g;
	int rfd;

	CHECK(dfd >= 0);
	CHECK_INT(pipe2(p, O_CLOEXEC), 0);
	ident_cache_set_sock_diag(c, dfd);
	CHECK_INT(start(&k, child_grandchild_sleep, &rfd), 0);
	g = read_pid(rfd);
	wait_exec(g);
	CHECK_INT(ident_lookup(c, getpid(), k.fd, NULL, &id, &e), 0);
	ident_cache_scan_stats(c, &st);
	CHECK(st.sock_diag);
	if (!e.msg[0]) {
		CHECK_INT(id.pid, g);
		ident_release(&id);
	}
	ident_cache_set_sock_diag(c, p[0]);
	CHECK_INT(ident_lookup(c, getpid(), k.fd, NULL, &id, &e), 0);
	ident_cache_scan_stats(c, &st);
	CHECK(!st.sock_diag);
	if (!e.msg[0]) {
		CHECK_INT(id.pid, g);
		ident_release(&id);
	}
	stop(&k, rfd);
	ident_cache_set_sock_diag(c, dfd);
	CHECK_INT(start(&k, child_share_then_exec, &rfd), 0);
	CHECK(read_pid(rfd) > 0);
	wait_exec(k.pgid);
	CHECK_INT(ident_lookup(c, getpid(), k.fd, NULL, &id, &e), -1);
	CHECK_STR(e.msg, "ambiguous shared socket ownership");
	ident_cache_scan_stats(c, &st);
	CHECK(st.sock_diag);
	stop(&k, rfd);
	ident_cache_free(c);
	close(p[0]);
	close(p[1]);
	close(dfd);
}

TEST(procident_no_entrypoint)
{
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	struct ident id;

	CHECK_INT(ident_lookup(c, 0, -1, NULL, &id, &e), -1);
	CHECK_STR(e.msg, "entrypoint process not yet spawned");
	ident_cache_free(c);
}

/* The caller forks a copy of itself that keeps the socket, then execs sleep. */
static void child_share_then_exec(uint16_t port, int wfd)
{
	pid_t b;
	int fd = connect_lo(port);

	if (fd < 0)
		_exit(1);
	b = fork();
	if (b == 0)
		pause();
	if (write(wfd, &b, sizeof(b)) != sizeof(b))
		_exit(1);
	exec_sleep();
}

TEST(procident_ambiguous_shared_socket)
{
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	struct ident id;
	struct conn k;
	int rfd;

	CHECK_INT(start(&k, child_share_then_exec, &rfd), 0);
	CHECK(read_pid(rfd) > 0);
	wait_exec(k.pgid);
	CHECK_INT(ident_lookup(c, getpid(), k.fd, NULL, &id, &e), -1);
	CHECK_STR(e.msg, "ambiguous shared socket ownership");
	stop(&k, rfd);
	ident_cache_free(c);
}

/* Two sleeps inherit one socket from a parent that then drops it: the same identity. */
static void child_two_sleeps(uint16_t port, int wfd)
{
	int fd = connect_lo(port), i;

	if (fd < 0)
		_exit(1);
	for (i = 0; i < 2; i++) {
		pid_t p = fork();

		if (p == 0)
			exec_sleep();
		if (write(wfd, &p, sizeof(p)) != sizeof(p))
			_exit(1);
	}
	close(fd);
	pause();
}

TEST(procident_shared_by_equal_identities)
{
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	struct ident id;
	struct conn k;
	pid_t a, b;
	int rfd;

	CHECK_INT(start(&k, child_two_sleeps, &rfd), 0);
	a = read_pid(rfd);
	b = read_pid(rfd);
	wait_exec(a);
	wait_exec(b);
	usleep(50 * 1000); /* the parent's close() */
	CHECK_INT(ident_lookup(c, getpid(), k.fd, NULL, &id, &e), 0);
	if (!e.msg[0]) {
		CHECK_INT(id.pid, a < b ? a : b);
		CHECK_INT(id.n_ancestors, 1);
		ident_release(&id);
	} else {
		unit_fail(__FILE__, __LINE__, "ident_lookup: %s", e.msg);
	}
	stop(&k, rfd);
	ident_cache_free(c);
}

static void child_connect_exec(uint16_t port, int wfd)
{
	(void)wfd;
	if (connect_lo(port) < 0)
		_exit(1);
	exec_sleep();
}

/* exec has happened once /proc/<pid>/exe changed, but the dynamic loader maps the libraries
 * a little later: wait until an executable mapping of path (a prefix) shows. */
static void wait_mapped(pid_t pid, const char *path)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char maps[64], line[PATH_MAX + 128];
	int i, found = 0;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	for (i = 0; i < 500 && !found; i++) {
		FILE *f = fopen(maps, "re");

		while (f && !found && fgets(line, sizeof(line), f))
			found = strstr(line, " r-xp ") && strstr(line, path);
		if (f)
			fclose(f);
		if (!found)
			nanosleep(&ts, NULL);
	}
}

TEST(procident_maps_from_writable_path)
{
	const char *const lib[] = { "/usr/lib" }, *const bin[] = { "/usr/bin", "/bin" };
	struct ident_writable wlib = { lib, 1 }, wbin = { bin, 2 };
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	struct ident id;
	struct conn k;
	int rfd;

	CHECK_INT(start(&k, child_connect_exec, &rfd), 0);
	wait_exec(k.pgid);
	wait_mapped(k.pgid, " /usr/lib/");
	/* the exe itself in a writable path is the policy's business, not this check's */
	CHECK_INT(ident_lookup(c, getpid(), k.fd, &wbin, &id, &e), 0);
	ident_release(&id);
	CHECK_INT(ident_lookup(c, getpid(), k.fd, &wlib, &id, &e), -1);
	CHECK(strstr(e.msg, "maps executable code from writable path /usr/lib/") != NULL);
	CHECK(strstr(e.msg, "; it is not the binary the policy trusts") != NULL);
	stop(&k, rfd);
	ident_cache_free(c);
}

static char preload_lib[PATH_MAX];

static void child_preload_exec(uint16_t port, int wfd)
{
	(void)wfd;
	if (connect_lo(port) < 0)
		_exit(1);
	setenv("LD_PRELOAD", preload_lib, 1);
	exec_sleep();
}

/* The path of a loaded library other than libc (libm comes with the sanitizers). */
static int find_lib(const char *name, char *dst, size_t n)
{
	char line[PATH_MAX + 128], *p;
	FILE *f = fopen("/proc/self/maps", "re");
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f)) {
		p = strchr(line, '/');
		if (p && strstr(p, name)) {
			p[strcspn(p, "\n")] = '\0';
			found = snprintf(dst, n, "%s", p) < (int)n;
		}
	}
	if (f)
		fclose(f);
	return found ? 0 : -1;
}

TEST(procident_ld_preload_from_writable_path)
{
	char dir[] = "/tmp/procident.XXXXXX", lib[PATH_MAX], want[PATH_MAX + 128];
	const char *paths[1] = { dir };
	struct ident_writable w = { paths, 1 };
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	struct ident id;
	struct conn k;
	int rfd;

	if (find_lib("/libm.so", lib, sizeof(lib)) < 0) {
		printf("skip procident_ld_preload_from_writable_path: no libm mapped\n");
		ident_cache_free(c);
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(preload_lib, sizeof(preload_lib), "%s/libm.so.6", dir);
	CHECK_INT(copy_file(lib, preload_lib), 0);
	CHECK_INT(start(&k, child_preload_exec, &rfd), 0);
	wait_exec(k.pgid);
	usleep(100 * 1000); /* the loader maps the preload right after exec */
	CHECK_INT(ident_lookup(c, getpid(), k.fd, &w, &id, &e), -1);
	snprintf(want, sizeof(want),
		 "process %d maps executable code from writable path %s; "
		 "it is not the binary the policy trusts",
		 (int)k.pgid, preload_lib);
	CHECK_STR(e.msg, want);
	stop(&k, rfd);
	ident_cache_free(c);
	unlink(preload_lib);
	rmdir(dir);
}

static char copied_sleep[PATH_MAX];

static void child_exec_copy(uint16_t port, int wfd)
{
	(void)wfd;
	if (connect_lo(port) < 0)
		_exit(1);
	execl(copied_sleep, copied_sleep, "30", (char *)NULL);
	_exit(127);
}

TEST(procident_deleted_exe)
{
	char dir[] = "/tmp/procident.XXXXXX", want[65];
	const char *paths[1] = { dir };
	struct ident_writable w = { paths, 1 };
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	struct ident id;
	struct conn k;
	int rfd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(copied_sleep, sizeof(copied_sleep), "%s/sleep", dir);
	CHECK_INT(copy_file("/bin/sleep", copied_sleep), 0);
	sha256sum(copied_sleep, want);
	CHECK_INT(start(&k, child_exec_copy, &rfd), 0);
	wait_exec(k.pgid);
	CHECK_INT(unlink(copied_sleep), 0);
	/* deleted, in a writable dir, but it is the exe: identified, hashed through /proc */
	CHECK_INT(ident_lookup(c, getpid(), k.fd, &w, &id, &e), 0);
	if (!e.msg[0]) {
		CHECK_STR(id.exe, copied_sleep);
		CHECK_STR(id.sha256, want);
		ident_release(&id);
	} else {
		unit_fail(__FILE__, __LINE__, "ident_lookup: %s", e.msg);
	}
	stop(&k, rfd);
	ident_cache_free(c);
	rmdir(dir);
}

TEST(procident_socket_inode_v4_and_mapped_v6)
{
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6 };
	struct sockaddr_storage peer, local;
	socklen_t len;
	pid_t owners[4];
	uint16_t port;
	struct err e = ERR_INIT;
	struct stat st;
	uint64_t ino = 0;
	size_t n = 0;
	int lfd = listen_lo(&port), cfd, afd;

	CHECK(lfd >= 0);
	/* a dual-stack client reaching the IPv4 listener shows up in tcp6, v4-mapped */
	cfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	to6.sin6_port = htons(port);
	CHECK_INT(inet_pton(AF_INET6, "::ffff:127.0.0.1", &to6.sin6_addr), 1);
	CHECK_INT(connect(cfd, (struct sockaddr *)&to6, sizeof(to6)), 0);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(afd >= 0);
	len = sizeof(peer);
	CHECK_INT(getpeername(afd, (struct sockaddr *)&peer, &len), 0);
	CHECK_INT(peer.ss_family, AF_INET);
	len = sizeof(local);
	CHECK_INT(getsockname(afd, (struct sockaddr *)&local, &len), 0);
	CHECK_INT(ident_socket_inode(getpid(), (struct sockaddr *)&peer, (struct sockaddr *)&local,
				     &ino, &e),
		  0);
	CHECK_INT(fstat(cfd, &st), 0);
	CHECK_INT(ino, st.st_ino);
	CHECK_INT(ident_socket_owners(getpid(), ino, owners, 4, &n, &e), 0);
	CHECK_INT(n, 1);
	CHECK_INT(owners[0], getpid());
	/* the reverse direction (our accepted end) is not the caller's socket */
	CHECK_INT(ident_socket_inode(getpid(), (struct sockaddr *)&local, (struct sockaddr *)&peer,
				     &ino, &e),
		  0);
	CHECK(ino != st.st_ino);
	close(cfd);
	close(afd);
	close(lfd);
}

/* As an ordinary user (rootless supervisor), a non-dumpable caller's fd table is root's. */
static void child_nondumpable(uint16_t port, int wfd)
{
	char ok = 1;

	if (connect_lo(port) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    write(wfd, &ok, 1) != 1)
		_exit(1);
	pause();
}

static void supervisor_as_nobody(int out)
{
	struct ident_cache *c;
	struct err e = ERR_INIT;
	struct ident id;
	struct conn k;
	char ok, msg[600];
	int rfd;

	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0 ||
	    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0 || start(&k, child_nondumpable, &rfd) < 0 ||
	    read(rfd, &ok, 1) != 1)
		_exit(2);
	c = ident_cache_new();
	if (ident_lookup(c, getpid(), k.fd, NULL, &id, &e) == 0)
		ident_release(&id);
	snprintf(msg, sizeof(msg), "%d:%s", (int)k.pgid, e.msg);
	if (write(out, msg, strlen(msg)) < 0)
		_exit(3);
	kill_group(k.pgid);
	_exit(0);
}

TEST(procident_not_dumpable_caller)
{
	char got[600], want[600];
	ssize_t n;
	pid_t s;
	int p[2], child;

	if (getuid() != 0) {
		printf("skip procident_not_dumpable_caller: needs root to become nobody\n");
		return;
	}
	CHECK_INT(pipe2(p, O_CLOEXEC), 0);
	s = fork();
	if (s == 0) {
		close(p[0]);
		supervisor_as_nobody(p[1]);
	}
	close(p[1]);
	n = read(p[0], got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(s, NULL, 0);
	child = atoi(got);
	snprintf(want, sizeof(want),
		 "%d:process %d is not dumpable; its sockets cannot be attributed", child, child);
	CHECK(child > 0);
	CHECK_STR(got, want);
}

/* ---- incremental lookups: one cache while the holders change ------------------------- */

static int cmd_r = -1; /* the commanded child's end of its command pipe */
static pid_t last_fork;

static void reply(int wfd, pid_t p)
{
	if (write(wfd, &p, sizeof(p)) != sizeof(p))
		_exit(1);
}

/* clone(2) as fork, with extra flags (CLONE_FILES, CLONE_PARENT). */
static pid_t fork_with(unsigned long flags)
{
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

static void *thread_connects_later(void *arg)
{
	struct timespec ts = { 0, 300 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	if (connect_lo(*(uint16_t *)arg) < 0)
		_exit(1);
	for (;;)
		pause();
	return NULL;
}

/* After 300 ms, a sibling (CLONE_PARENT) that connects, says its pid and execs sleep. */
static void clone_parent_later(uint16_t port, int wfd)
{
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	pid_t s;

	nanosleep(&ts, NULL);
	s = fork_with(CLONE_PARENT);
	if (s == 0) {
		if (connect_lo(port) < 0)
			_exit(1);
		reply(wfd, getpid());
		exec_sleep();
	}
	for (;;)
		pause();
}

#define MANY 96 /* more than the table's threshold for a second reading thread */

static int many_w = -1; /* 'W' writes a byte here: one copy of 'M' reads it */

/* MANY idle copies of this binary that dropped the socket; the one that reads a byte from
 * the pipe connects and says its pid. */
static void many_copies(int fd, uint16_t port, int wfd)
{
	int p[2], closed[2], i;
	char b;

	if (pipe(p) < 0 || pipe(closed) < 0)
		_exit(1);
	for (i = 0; i < MANY; i++) {
		if (fork() != 0)
			continue;
		close(fd);
		close(p[1]);
		close(closed[0]);
		if (write(closed[1], "c", 1) != 1) /* until then the socket has one more owner */
			_exit(1);
		close(closed[1]);
		if (read(p[0], &b, 1) == 1) {
			if (connect_lo(port) < 0)
				_exit(1);
			reply(wfd, getpid());
		}
		for (;;)
			pause();
	}
	close(p[0]);
	close(closed[1]);
	for (i = 0; i < MANY; i++)
		if (read(closed[0], &b, 1) != 1)
			_exit(1);
	close(closed[0]);
	many_w = p[1];
}

/* Holds one connection and changes on command; every command replies with a pid. */
static void child_commanded(uint16_t port, int wfd)
{
	static uint16_t tport;
	int fd = connect_lo(port), i;
	pthread_t th;
	pid_t p;
	char cmd;

	if (fd < 0)
		_exit(1);
	while (read(cmd_r, &cmd, 1) == 1) {
		switch (cmd) {
		case 'f': /* a copy that inherits the socket */
			p = last_fork = fork();
			if (p == 0)
				for (;;)
					pause();
			reply(wfd, p);
			break;
		case 's': /* two sleeps inherit it, then this process drops it */
			for (i = 0; i < 2; i++) {
				p = fork();
				if (p == 0)
					exec_sleep();
				reply(wfd, p);
			}
			close(fd);
			reply(wfd, getpid());
			break;
		case 'c': /* drops it */
			close(fd);
			reply(wfd, getpid());
			break;
		case 'k': /* ends the copy */
			kill(last_fork, SIGKILL);
			waitpid(last_fork, NULL, 0);
			reply(wfd, last_fork);
			break;
		case 'n': /* a child with a connection of its own, running sleep */
			p = fork();
			if (p == 0) {
				close(fd);
				if (connect_lo(port) < 0)
					_exit(1);
				exec_sleep();
			}
			reply(wfd, p);
			break;
		case 'N': /* a second connection of its own */
			reply(wfd, connect_lo(port) >= 0 ? getpid() : 0);
			break;
		case 't': /* a thread that connects later, while this one waits */
			tport = port;
			reply(wfd, pthread_create(&th, NULL, thread_connects_later, &tport) ? 0
											    : getpid());
			break;
		case 'B': /* a burst of copies of this binary, without the socket */
			for (i = 0; i < 16; i++) {
				p = fork();
				if (p == 0) {
					close(fd);
					for (;;)
						pause();
				}
			}
			reply(wfd, getpid());
			break;
		case 'M': /* many copies without the socket; 'W' has one of them connect */
			many_copies(fd, port, wfd);
			reply(wfd, getpid());
			break;
		case 'W':
			if (write(many_w, "w", 1) != 1)
				_exit(1);
			break;
		case 'Z': /* a child that exits and is not reaped (a zombie) */
			p = last_fork = fork();
			if (p == 0)
				_exit(0);
			{ /* exited (it held the socket until then), not reaped */
				siginfo_t si;

				if (waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT) < 0)
					_exit(1);
			}
			reply(wfd, p);
			break;
		case 'R': /* reaps it */
			waitpid(last_fork, NULL, 0);
			reply(wfd, last_fork);
			break;
		case 'F': /* a process sharing this fd table */
			p = fork_with(CLONE_FILES);
			if (p == 0)
				for (;;)
					pause();
			reply(wfd, p);
			break;
		case 'P': { /* a child that, later, gives this process a child (CLONE_PARENT) */
			int closed[2];
			char b;

			if (pipe(closed) < 0)
				_exit(1);
			p = fork();
			if (p == 0) {
				close(fd); /* before the reply: until then the socket has two owners */
				if (write(closed[1], "c", 1) != 1)
					_exit(1);
				clone_parent_later(port, wfd);
			}
			close(closed[1]);
			if (read(closed[0], &b, 1) != 1)
				_exit(1);
			close(closed[0]);
			reply(wfd, p);
			break;
		}
		}
	}
	_exit(0);
}

struct ctl {
	struct conn k;
	int rfd, cmd;
};

static int ctl_start(struct ctl *t)
{
	int p[2];

	t->cmd = t->rfd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	cmd_r = p[0];
	t->cmd = p[1];
	if (start(&t->k, child_commanded, &t->rfd) < 0)
		return -1;
	close(p[0]);
	return 0;
}

static pid_t ctl(struct ctl *t, char c)
{
	if (write(t->cmd, &c, 1) != 1)
		return 0;
	return read_pid(t->rfd);
}

static void ctl_stop(struct ctl *t)
{
	close(t->cmd);
	stop(&t->k, t->rfd);
}

/* ident_lookup on fd; the pid identified, or 0 with e->msg set. */
static pid_t lookup_pid(struct ident_cache *c, int fd, struct err *e)
{
	struct ident id;
	pid_t p;

	memset(e, 0, sizeof(*e));
	if (ident_lookup(c, getpid(), fd, NULL, &id, e) < 0)
		return 0;
	p = id.pid;
	ident_release(&id);
	return p;
}

/* The table answered, and a lookup with nothing new re-read at most this process and the
 * one that ran; a note (not a failure) on systems without the incremental path. */
static void check_incremental(struct ident_cache *c, const char *test)
{
	struct ident_scan_stats st;

	ident_cache_scan_stats(c, &st);
	if (!st.incremental) {
		printf("note %s: full scans on this system (no schedstat, kcmp or children)\n",
		       test);
		return;
	}
	CHECK(st.tracked >= 2);
	CHECK(st.checked >= st.tracked - st.added);
}

TEST(procident_incremental_new_holder)
{
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	struct ident_scan_stats st;
	struct ctl t;

	CHECK_INT(ctl_start(&t), 0);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	/* nothing changed: the holder waits on its pipe and is not re-read */
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	ident_cache_scan_stats(c, &st);
	if (st.incremental) {
		CHECK_INT(st.added, 0);
		CHECK(st.rescanned <= 2); /* this process (init), the holder going to sleep */
	}
	/* a copy inherits the socket: another identity (its parent is the holder) */
	CHECK(ctl(&t, 'f') > 0);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), 0);
	CHECK_STR(e.msg, "ambiguous shared socket ownership");
	check_incremental(c, "procident_incremental_new_holder");
	ctl_stop(&t);
	ident_cache_free(c);
}

TEST(procident_incremental_equal_new_holders)
{
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	struct ctl t;
	pid_t a, b;

	CHECK_INT(ctl_start(&t), 0);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	a = ctl(&t, 's');
	b = read_pid(t.rfd);
	CHECK(read_pid(t.rfd) == t.k.pgid); /* it closed its copy */
	wait_exec(a);
	wait_exec(b);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), a < b ? a : b);
	check_incremental(c, "procident_incremental_equal_new_holders");
	ctl_stop(&t);
	ident_cache_free(c);
}

TEST(procident_incremental_holder_leaves)
{
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	struct ctl t;
	pid_t b;

	/* the holder closes its copy: the one left is the caller */
	CHECK_INT(ctl_start(&t), 0);
	b = ctl(&t, 'f');
	CHECK_INT(lookup_pid(c, t.k.fd, &e), 0);
	CHECK_STR(e.msg, "ambiguous shared socket ownership");
	CHECK_INT(ctl(&t, 'c'), t.k.pgid);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), b);
	check_incremental(c, "procident_incremental_holder_leaves");
	ctl_stop(&t);
	/* the copy exits: the holder is alone again */
	CHECK_INT(ctl_start(&t), 0);
	b = ctl(&t, 'f');
	CHECK_INT(lookup_pid(c, t.k.fd, &e), 0);
	CHECK_INT(ctl(&t, 'k'), b);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	check_incremental(c, "procident_incremental_holder_leaves");
	ctl_stop(&t);
	ident_cache_free(c);
}

TEST(procident_incremental_child_connects)
{
	struct ident_cache *c = ident_cache_new();
	char sleep_exe[PATH_MAX];
	struct err e = ERR_INIT;
	struct ident id;
	struct ctl t;
	pid_t p;
	int fd2;

	CHECK(realpath("/bin/sleep", sleep_exe) != NULL);
	CHECK_INT(ctl_start(&t), 0);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	p = ctl(&t, 'n');
	fd2 = accept4(t.k.lfd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(fd2 >= 0);
	wait_exec(p);
	memset(&e, 0, sizeof(e));
	CHECK_INT(ident_lookup(c, getpid(), fd2, NULL, &id, &e), 0);
	if (!e.msg[0]) {
		CHECK_INT(id.pid, p);
		CHECK_STR(id.exe, sleep_exe);
		CHECK_INT(id.n_ancestors, 1);
		ident_release(&id);
	}
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	check_incremental(c, "procident_incremental_child_connects");
	close(fd2);
	ctl_stop(&t);
	ident_cache_free(c);
}

TEST(procident_incremental_thread_connects)
{
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	struct ctl t;
	int fd2;

	CHECK_INT(ctl_start(&t), 0);
	CHECK_INT(ctl(&t, 't'), t.k.pgid);
	/* now multi-threaded; its main thread then only waits on its pipe */
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	fd2 = accept4(t.k.lfd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(fd2 >= 0);
	CHECK_INT(lookup_pid(c, fd2, &e), t.k.pgid);
	check_incremental(c, "procident_incremental_thread_connects");
	close(fd2);
	ctl_stop(&t);
	ident_cache_free(c);
}

/* Many processes of one binary appear at once, one of them sharing the holder's fd table:
 * the table sorts them by fd table (kcmp's order) instead of comparing every pair, and
 * still finds the sharer when it no longer runs. */
TEST(procident_incremental_burst_with_sharer)
{
	struct ident_cache *c = ident_cache_new();
	struct ident_scan_stats st;
	struct err e = ERR_INIT;
	struct ctl t;
	int fd2;

	CHECK_INT(ctl_start(&t), 0);
	CHECK_INT(ctl(&t, 'B'), t.k.pgid);
	CHECK(ctl(&t, 'F') > 0);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), 0);
	CHECK_STR(e.msg, "ambiguous shared socket ownership");
	ident_cache_scan_stats(c, &st);
	if (st.incremental) /* 19 processes of one binary, all new: 171 pairs */
		CHECK(st.compared < 171);
	CHECK_INT(ctl(&t, 'N'), t.k.pgid);
	fd2 = accept4(t.k.lfd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(fd2 >= 0);
	CHECK_INT(lookup_pid(c, fd2, &e), 0);
	CHECK_STR(e.msg, "ambiguous shared socket ownership");
	check_incremental(c, "procident_incremental_burst_with_sharer");
	close(fd2);
	ctl_stop(&t);
	ident_cache_free(c);
}

/* Among many idle processes (their schedstat read each lookup), the one that woke and
 * connected is found, and only what ran is re-read. */
TEST(procident_incremental_many_idle)
{
	struct timespec settle = { 0, 100 * 1000 * 1000 };
	struct ident_cache *c = ident_cache_new();
	struct ident_scan_stats st;
	struct err e = ERR_INIT;
	struct ctl t;
	pid_t w;
	int fd2;

	CHECK_INT(ctl_start(&t), 0);
	CHECK_INT(ctl(&t, 'M'), t.k.pgid);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	nanosleep(&settle, NULL); /* the copies reach their read() */
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	w = ctl(&t, 'W');
	CHECK(w > 0 && w != t.k.pgid);
	fd2 = accept4(t.k.lfd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(fd2 >= 0);
	CHECK_INT(lookup_pid(c, fd2, &e), w);
	CHECK_STR(e.msg, "");
	ident_cache_scan_stats(c, &st);
	if (st.incremental) {
		CHECK(st.tracked >= MANY);
		CHECK_INT(st.checked, st.tracked - st.added);
		CHECK(st.rescanned < 8); /* the copy that connected, not the others */
	}
	check_incremental(c, "procident_incremental_many_idle");
	close(fd2);
	ctl_stop(&t);
	ident_cache_free(c);
}

/* A zombie stays in the table without costing a re-read; once reaped it is dropped. */
TEST(procident_incremental_zombie)
{
	struct ident_cache *c = ident_cache_new();
	struct ident_scan_stats st;
	struct err e = ERR_INIT;
	struct ctl t;
	size_t tracked;
	pid_t z;

	CHECK_INT(ctl_start(&t), 0);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	z = ctl(&t, 'Z');
	CHECK(z > 0);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid); /* found as a child */
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid); /* found exited: re-read once */
	ident_cache_scan_stats(c, &st);
	tracked = st.tracked;
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	ident_cache_scan_stats(c, &st);
	if (st.incremental) { /* this process (init here) ran, and perhaps the commanded one */
		CHECK_INT(st.tracked, tracked);
		CHECK(st.rescanned <= 2);
		CHECK_INT(st.added + st.dropped, 0);
	}
	CHECK_INT(ctl(&t, 'R'), z);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	ident_cache_scan_stats(c, &st);
	if (st.incremental)
		CHECK_INT(st.tracked, tracked - 1);
	check_incremental(c, "procident_incremental_zombie");
	ctl_stop(&t);
	ident_cache_free(c);
}

/* A process sharing the holder's fd table (CLONE_FILES) and not running holds what the
 * holder opens next. */
TEST(procident_incremental_shared_fd_table)
{
	struct ident_cache *c = ident_cache_new();
	struct err e = ERR_INIT;
	struct ctl t;
	int fd2;

	CHECK_INT(ctl_start(&t), 0);
	CHECK(ctl(&t, 'F') > 0);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), 0);
	CHECK_STR(e.msg, "ambiguous shared socket ownership");
	CHECK_INT(ctl(&t, 'N'), t.k.pgid);
	fd2 = accept4(t.k.lfd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(fd2 >= 0);
	CHECK_INT(lookup_pid(c, fd2, &e), 0);
	CHECK_STR(e.msg, "ambiguous shared socket ownership");
	check_incremental(c, "procident_incremental_shared_fd_table");
	close(fd2);
	ctl_stop(&t);
	ident_cache_free(c);
}

/* A child that appears under a process that did not run (its child cloned with
 * CLONE_PARENT) is found. */
TEST(procident_incremental_clone_parent)
{
	struct ident_cache *c = ident_cache_new();
	char me[PATH_MAX], sleep_exe[PATH_MAX];
	struct err e = ERR_INIT;
	struct ident id;
	struct ctl t;
	pid_t s;
	int fd2;

	self_exe(me, sizeof(me));
	CHECK(realpath("/bin/sleep", sleep_exe) != NULL);
	CHECK_INT(ctl_start(&t), 0);
	CHECK(ctl(&t, 'P') > 0);
	CHECK_INT(lookup_pid(c, t.k.fd, &e), t.k.pgid);
	fd2 = accept4(t.k.lfd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(fd2 >= 0);
	s = read_pid(t.rfd);
	wait_exec(s);
	memset(&e, 0, sizeof(e));
	CHECK_INT(ident_lookup(c, getpid(), fd2, NULL, &id, &e), 0);
	if (!e.msg[0]) {
		CHECK_INT(id.pid, s);
		CHECK_STR(id.exe, sleep_exe);
		CHECK_INT(id.n_ancestors, 1); /* the holder, not the process that cloned it */
		if (id.n_ancestors == 1)
			CHECK_STR(id.ancestors[0], me);
		ident_release(&id);
	} else {
		unit_fail(__FILE__, __LINE__, "ident_lookup: %s", e.msg);
	}
	check_incremental(c, "procident_incremental_clone_parent");
	close(fd2);
	ctl_stop(&t);
	ident_cache_free(c);
}

/* ---- init_reaps_all: orphans, found under init without init running ------------------ */

/* On each byte from cmd: forks a child that forks the holder (which connects, says its pid,
 * and sleeps), and exits at once; once that child is reaped, the holder (an orphan, now
 * init's) is named on wfd. */
static void orphan_maker(uint16_t port, int cmd, int wfd)
{
	int hp[2];
	char b;

	if (pipe(hp) < 0)
		_exit(1);
	while (read(cmd, &b, 1) == 1) {
		pid_t k = fork(), h = 0;

		if (k == 0) {
			if (fork() == 0) {
				if (connect_lo(port) < 0)
					_exit(1);
				reply(hp[1], getpid());
				for (;;)
					pause();
			}
			_exit(0);
		}
		waitpid(k, NULL, 0);
		if (read(hp[0], &h, sizeof(h)) != sizeof(h))
			_exit(1);
		reply(wfd, h);
	}
	_exit(0);
}

/* The sandbox's init as the seccomp filter leaves it: the only reaper (a subreaper here, as
 * pid 1 is in the sandbox's pid namespace). It forks orphan_maker and then only sleeps. */
static pid_t start_reaper_init(uint16_t port, int cmd, int wfd)
{
	pid_t init = fork();

	if (init == 0) {
		setpgid(0, 0);
		if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
			_exit(1);
		if (fork() == 0)
			orphan_maker(port, cmd, wfd);
		for (;;)
			pause();
	}
	return init;
}

/* With init_reaps_all, orphans are found under init although init never runs: the holder's
 * parent exited at once, the process that forked that parent ran. Each holder is the only
 * owner of its socket and has no ancestor but init. */
TEST(procident_init_reaps_all_finds_orphans)
{
	struct ident_cache *c = ident_cache_new();
	struct ident_scan_stats st;
	struct err e = ERR_INIT;
	int cmd[2], rep[2], lfd, round;
	uint16_t port = 0;
	pid_t init;

	ident_cache_set_init_reaps_all(c, true);
	lfd = listen_lo(&port);
	CHECK(lfd >= 0);
	CHECK_INT(pipe2(cmd, O_CLOEXEC), 0);
	CHECK_INT(pipe2(rep, O_CLOEXEC), 0);
	init = start_reaper_init(port, cmd[0], rep[1]);
	CHECK(init > 0);
	for (round = 0; round < 3; round++) {
		struct ident id;
		pid_t h;
		int fd;

		CHECK_INT(write(cmd[1], "h", 1), 1);
		h = read_pid(rep[0]);
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		CHECK(h > 0 && fd >= 0);
		memset(&e, 0, sizeof(e));
		if (ident_lookup(c, init, fd, NULL, &id, &e) == 0) {
			CHECK_INT(id.pid, h);
			CHECK_INT(id.n_ancestors, 0);
			ident_release(&id);
		} else {
			unit_fail(__FILE__, __LINE__, "round %d: ident_lookup: %s", round, e.msg);
		}
		close(fd);
	}
	ident_cache_scan_stats(c, &st);
	if (st.incremental)
		CHECK(st.tracked >= 5); /* init, orphan_maker, three holders */
	else
		printf("note procident_init_reaps_all_finds_orphans: full scans on this system\n");
	kill(-init, SIGKILL);
	waitpid(init, NULL, 0);
	close(cmd[0]);
	close(cmd[1]);
	close(rep[0]);
	close(rep[1]);
	close(lfd);
	ident_cache_free(c);
}

/* ---- a process that stays on its CPU --------------------------------------------------- */

static _Atomic int *spin_cmd; /* shared with the spinning child: 1 asks it to act, 2 done */
static _Atomic pid_t *spin_child;

/* Connects (this process keeps the socket) and forks a child that execs sleep with it. */
static pid_t connect_then_share(uint16_t port)
{
	pid_t a;

	if (connect_lo(port) < 0)
		_exit(1);
	a = fork();
	if (a == 0)
		exec_sleep();
	return a;
}

/* Holds a connection, then spins without ever blocking; asked, it opens a second one and
 * forks a child that execs sleep with both, and spins on. */
static void spin_holder(uint16_t port, int wfd)
{
	if (connect_lo(port) < 0)
		_exit(1);
	reply(wfd, getpid());
	for (;;) {
		if (atomic_load(spin_cmd) == 1) {
			atomic_store(spin_child, connect_then_share(port));
			atomic_store(spin_cmd, 2);
		}
	}
}

/* schedstat does not change while a process stays on its CPU (no new schedule-in, run time
 * not yet accounted): a process that may have been running at its last scan is read again
 * at every lookup, and what it did meanwhile is seen. */
TEST(procident_running_process_is_read_again)
{
	struct ident_cache *c = ident_cache_new();
	struct ident_scan_stats st;
	struct err e = ERR_INIT;
	struct timespec ms = { 0, 1000 * 1000 };
	struct conn k;
	void *shm;
	int rfd, fd2;

	shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(shm != MAP_FAILED);
	spin_cmd = shm;
	spin_child = (_Atomic pid_t *)((char *)shm + 64);
	atomic_store(spin_cmd, 0);
	CHECK_INT(start(&k, spin_holder, &rfd), 0);
	CHECK_INT(read_pid(rfd), k.pgid);
	CHECK_INT(lookup_pid(c, k.fd, &e), k.pgid);
	CHECK_INT(lookup_pid(c, k.fd, &e), k.pgid);
	ident_cache_scan_stats(c, &st);
	if (st.incremental)
		CHECK(st.oncpu >= 1);
	atomic_store(spin_cmd, 1);
	while (atomic_load(spin_cmd) != 2)
		nanosleep(&ms, NULL);
	wait_exec(atomic_load(spin_child));
	fd2 = accept4(k.lfd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(fd2 >= 0);
	CHECK_INT(lookup_pid(c, fd2, &e), 0);
	CHECK_STR(e.msg, "ambiguous shared socket ownership");
	close(fd2);
	stop(&k, rfd);
	munmap(shm, 4096);
	ident_cache_free(c);
}

/* ---- a read that fails is not "holds nothing" ------------------------------------------ */

/* Without a free fd the scanner cannot open /proc/<pid>/fd: the owners are unknown, and the
 * lookup says why instead of finding no holder (or only another one). */
TEST(procident_unreadable_fd_table_fails)
{
	char msg[256] = "";
	int p[2], st = 0;
	ssize_t n;
	pid_t k;

	CHECK_INT(pipe(p), 0);
	k = fork();
	if (k == 0) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		socklen_t len = sizeof(a);
		struct rlimit rl = { 0, 0 };
		struct err e = ERR_INIT;
		pid_t owners[4];
		struct stat sst;
		size_t cnt;
		uint16_t port;
		int lfd = listen_lo(&port), cfd = connect_lo(port), fd;

		close(p[0]);
		if (lfd < 0 || cfd < 0 || fstat(cfd, &sst) < 0 ||
		    getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
			_exit(2);
		for (fd = 0; fd < 1024; fd++) /* the highest fd open */
			if (fcntl(fd, F_GETFD) >= 0)
				rl.rlim_cur = rl.rlim_max = (rlim_t)fd + 1;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(3);
		while (dup(0) >= 0) /* and every free one below it taken */
			;
		if (errno != EMFILE)
			_exit(3);
		if (ident_socket_owners(getpid(), sst.st_ino, owners, 4, &cnt, &e) == 0)
			_exit(4);
		n = write(p[1], e.msg, strlen(e.msg));
		_exit(n > 0 ? 0 : 5);
	}
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	CHECK_INT(waitpid(k, &st, 0), k);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(strstr(msg, "cannot read the file descriptors or children of process") != NULL);
	CHECK(strstr(msg, "Too many open files") != NULL);
}

/* ---- a process whose main thread exited ------------------------------------------------ */

static void *park(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* Connects, gives a copy to a child that execs sleep, then ends its main thread only: the
 * fd table lives on in a second thread, and /proc/<pid>/fd (the main thread's) is empty. */
static void child_main_thread_exits(uint16_t port, int wfd)
{
	pid_t a = connect_then_share(port);
	pthread_t t;

	if (pthread_create(&t, NULL, park, NULL) != 0)
		_exit(1);
	reply(wfd, a);
	syscall(SYS_exit, 0);
}

/* The holder whose main thread exited is still seen by the full scan; a lookup is denied
 * (its exe is gone: neither it nor the sleep, its child, can be identified). */
TEST(procident_holder_without_main_thread)
{
	struct ident_cache *c = ident_cache_new();
	struct timespec ms = { 0, 20 * 1000 * 1000 };
	struct err e = ERR_INIT;
	pid_t owners[4], a;
	struct stat st;
	struct conn k;
	char link[64];
	size_t n = 0;
	int rfd, i;

	CHECK_INT(start(&k, child_main_thread_exits, &rfd), 0);
	a = read_pid(rfd);
	wait_exec(a);
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)k.pgid);
	for (i = 0; i < 100 && stat(link, &st) == 0; i++) /* until the main thread is gone */
		nanosleep(&ms, NULL);
	CHECK_INT(lookup_pid(c, k.fd, &e), 0);
	CHECK(e.msg[0] != '\0');
	CHECK(fstat(k.fd, &st) == 0);
	memset(&e, 0, sizeof(e));
	{
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		uint64_t ino = 0;
		struct sockaddr_storage local;
		socklen_t llen = sizeof(local);

		CHECK_INT(getpeername(k.fd, (struct sockaddr *)&peer, &len), 0);
		CHECK_INT(getsockname(k.fd, (struct sockaddr *)&local, &llen), 0);
		CHECK_INT(ident_socket_inode(getpid(), (struct sockaddr *)&peer,
					     (struct sockaddr *)&local, &ino, &e),
			  0);
		CHECK_INT(ident_socket_owners(getpid(), ino, owners, 4, &n, &e), 0);
		CHECK_INT(n, 2); /* the holder without its main thread, and the sleep */
		if (n == 2)
			CHECK(owners[0] == k.pgid || owners[1] == k.pgid);
	}
	stop(&k, rfd);
	ident_cache_free(c);
}
