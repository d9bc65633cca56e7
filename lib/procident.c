/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identifying the process behind a proxy connection; see procident.h. Socket inode from the
 * sandbox's tcp tables, owners from /proc/<pid>/fd, then exe, maps, ancestors and cmdline.
 * The hash cache is in procident_cache.c, the incremental process table in
 * procident_procs.c; the full scan here is its fallback. The proxy (sandbox/) calls
 * ident_lookup per connection and turns a failure into a 403 carrying e->msg.
 */
#include "procident_int.h"
#include "procnet.h"
#include "sockdiag.h"
#include "util.h"
#include "xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DELETED	    " (deleted)"
#define CMDLINE_MAX (16 * 1024)
#define SCAN_MAX    65536 /* processes visited per lookup */
#define SCAN_PASSES 4	  /* scans started again when init gained an orphan meanwhile */
#define NOT_TRUSTED "it is not the binary the policy trusts"

/* PROCMAP_QUERY (Linux 6.11, include/uapi/linux/fs.h), for older headers. */
struct procmap_query_v1 {
	uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size;
	uint64_t vma_offset, inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
_Static_assert(sizeof(struct procmap_query_v1) == 104, "the kernel's struct procmap_query");
#define PROCMAP_QUERY_V1     _IOWR('f', 17, struct procmap_query_v1)
#define PMQ_VMA_EXECUTABLE   0x04
#define PMQ_COVERING_OR_NEXT 0x10
#define PMQ_FILE_BACKED_VMA  0x20

/* ---- pure parsers -------------------------------------------------------------------- */

int ident_parse_ppid(const char *status, pid_t *ppid)
{
	const char *p = str_has_prefix(status, "PPid:") ? status : strstr(status, "\nPPid:");
	long v;
	char *end;

	if (!p)
		return -1;
	p += p == status ? 5 : 6;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || v > INT32_MAX || (*end && *end != '\n'))
		return -1;
	*ppid = (pid_t)v;
	return 0;
}

int ident_parse_maps_line(char *line, struct ident_map *m)
{
	unsigned long long ino;
	char perms[8];
	size_t len;
	int pos = 0;

	memset(m, 0, sizeof(*m));
	if (sscanf(line, "%*x-%*x %7s %*x %x:%x %llu%n", perms, &m->dev_major, &m->dev_minor, &ino,
		   &pos) != 4 ||
	    pos == 0 || strlen(perms) != 4)
		return -1;
	m->exec = perms[2] == 'x';
	m->ino = ino;
	line += pos;
	while (*line == ' ' || *line == '\t')
		line++;
	len = strlen(line);
	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	m->path = line;
	return 0;
}

const char *ident_writable_match(const char *path, const struct ident_writable *w)
{
	size_t i;

	for (i = 0; w && i < w->n; i++) {
		const char *pre = w->paths[i];
		size_t len = strlen(pre);

		while (len > 0 && pre[len - 1] == '/')
			len--;
		if (len == 0 && pre[0] == '/' && path[0] == '/')
			return pre;
		if (len > 0 && !strncmp(path, pre, len) && (path[len] == '\0' || path[len] == '/'))
			return pre;
	}
	return NULL;
}

/* ---- small /proc readers ------------------------------------------------------------- */

/* Reads at most n - 1 bytes of a (proc) file, NUL-terminated; the length or -1 (errno). */
static ssize_t read_small(const char *path, char *dst, size_t n)
{
	int fd = open_cloexec(path, O_RDONLY);
	ssize_t r;
	int saved;

	if (fd < 0)
		return -1;
	r = read_full(fd, dst, n - 1);
	saved = errno;
	close(fd);
	errno = saved;
	if (r < 0)
		return -1;
	dst[r] = '\0';
	return r;
}

static int read_ppid(pid_t pid, pid_t *ppid, struct err *e)
{
	char path[64], status[4096];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, status, sizeof(status)) < 0)
		return err_set(e, ERR_RUNTIME, 0, "failed to read the parent of process %d: %s",
			       (int)pid, strerror(errno));
	if (ident_parse_ppid(status, ppid) < 0)
		return err_set(e, ERR_RUNTIME, 0, "failed to read the parent of process %d",
			       (int)pid);
	return 0;
}

/* readlink /proc/<pid>/exe. " (deleted)" is part of a real name when that name exists in the
 * process's root (which the supervisor only sees through /proc/<pid>/root). */
static int read_exe(pid_t pid, char *dst, size_t n, struct err *e)
{
	char link[64], alt[PATH_MAX + 64];
	struct stat st;
	ssize_t r;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	r = readlink(link, dst, n - 1);
	if (r < 0)
		return err_set(e, ERR_RUNTIME, 0, "failed to resolve the binary of process %d: %s",
			       (int)pid, strerror(errno));
	if ((size_t)r >= n - 1)
		return err_set(e, ERR_RUNTIME, 0, "binary path of process %d is too long",
			       (int)pid);
	dst[r] = '\0';
	if (!str_has_suffix(dst, DELETED))
		return 0;
	if (fmt_into(alt, sizeof(alt), "/proc/%d/root%s", (int)pid, dst) == 0 &&
	    lstat(alt, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
		dst[r - strlen(DELETED)] = '\0';
	return 0;
}

/* The exe of pid, verified against the TOFU cache; st gets the binary's stat. A binary
 * pinned with the same fingerprint costs a stat (the magic link resolves to the file the
 * process runs, as an open of it would); otherwise it is opened and checked (hashed). */
static int pin_exe(struct ident_cache *c, pid_t pid, char *exe, size_t n, char hex[65],
		   struct stat *st, struct err *e)
{
	char link[64];
	int fd, ret = -1;

	if (read_exe(pid, exe, n, e) < 0)
		return -1;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	if (stat(link, st) == 0 && ident_cache_pinned(c, exe, st, hex))
		return 0;
	fd = open_cloexec(link, O_RDONLY);
	if (fd < 0)
		return err_set(e, ERR_RUNTIME, 0, "failed to open the binary of process %d: %s",
			       (int)pid, strerror(errno));
	if (fstat(fd, st) < 0) {
		err_set(e, ERR_RUNTIME, 0, "failed to stat binary %s: %s", exe, strerror(errno));
		goto out;
	}
	ret = ident_cache_check(c, exe, fd, hex, e);
out:
	close(fd);
	return ret;
}

/* ---- socket inode -------------------------------------------------------------------- */

/* An address as IPv6, IPv4 in its mapped form, so both tables and families compare. */
struct endpoint {
	unsigned char a[16];
	uint16_t port;
};

static int endpoint_of_sockaddr(const struct sockaddr *sa, struct endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

		ep->a[10] = ep->a[11] = 0xff;
		memcpy(ep->a + 12, &s->sin_addr, 4);
		ep->port = ntohs(s->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;

		memcpy(ep->a, &s->sin6_addr, 16);
		ep->port = ntohs(s->sin6_port);
		return 0;
	}
	return -1;
}

/* The tables print each 32-bit word of an address as a host-endian number. */
static void endpoint_of_table(const unsigned char *printed, bool v6, uint16_t port,
			      struct endpoint *ep)
{
	unsigned char *dst = v6 ? ep->a : ep->a + 12;
	size_t i, words = v6 ? 4 : 1;

	memset(ep, 0, sizeof(*ep));
	if (!v6)
		ep->a[10] = ep->a[11] = 0xff;
	for (i = 0; i < words; i++) {
		const unsigned char *b = printed + 4 * i;
		uint32_t w =
			(uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];

		memcpy(dst + 4 * i, &w, 4);
	}
	ep->port = port;
}

/* 1 and *ino when found, 0 when not, -1 (errno) when the table cannot be read. */
static int scan_table(const char *path, bool v6, const struct endpoint *peer,
		      const struct endpoint *local, uint64_t *ino)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		struct endpoint l, r;
		struct tcp_entry t;

		if (procnet_parse_line(line, v6, &t) < 0 || !t.inode)
			continue;
		endpoint_of_table(t.local_addr, v6, t.local_port, &l);
		endpoint_of_table(t.remote_addr, v6, t.remote_port, &r);
		if (!memcmp(&l, peer, sizeof(l)) && !memcmp(&r, local, sizeof(r))) {
			*ino = t.inode;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

int ident_socket_inode(pid_t init_pid, const struct sockaddr *peer, const struct sockaddr *local,
		       uint64_t *ino, struct err *e)
{
	static const char *const tables[] = { "tcp", "tcp6" };
	struct endpoint p, l;
	char path[64];
	size_t i;

	if (endpoint_of_sockaddr(peer, &p) < 0 || endpoint_of_sockaddr(local, &l) < 0)
		return err_set(e, ERR_INVALID, 0, "failed to resolve peer binary: not a TCP peer");
	for (i = 0; i < ARRAY_SIZE(tables); i++) {
		int r;

		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)init_pid, tables[i]);
		r = scan_table(path, i == 1, &p, &l, ino);
		if (r > 0)
			return 0;
		if (r < 0 && i == 0)
			return err_set(e, ERR_UNAVAILABLE, 0,
				       "cannot read the sandbox's sockets in %s: %s", path,
				       strerror(errno));
	}
	return err_set(e, ERR_NOTFOUND, 0,
		       "failed to resolve peer binary: no socket in the "
		       "sandbox matches the connection from port %u",
		       (unsigned)p.port);
}

/* ---- socket owners ------------------------------------------------------------------- */

struct owner_scan {
	struct ident_owners o;
	char want[48]; /* "socket:[<ino>]" */
};

/* An error that leaves unknown what a process holds: other than its exit meanwhile. */
static bool read_failed(void)
{
	return errno != ENOENT && errno != ESRCH;
}

/* 1 when the fd directory dir has the socket, 0 when not (or gone), -1 when it may not be
 * read, -2 when reading it failed otherwise (errno). */
static int dir_holds_socket(const char *dir, const char *want)
{
	char link[PATH_MAX], target[64];
	struct dirent *de;
	int found = 0, saved;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == EACCES || errno == EPERM ? -1 : read_failed() ? -2 : 0;
	for (errno = 0; !found && (de = readdir(d)); errno = 0) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%.20s", dir, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0 && errno == ENAMETOOLONG) /* a path beyond PATH_MAX: not a socket */
			continue;
		if (n < 0 && read_failed())
			break;
		if (n <= 0)
			continue;
		target[n] = '\0';
		found = !strcmp(target, want);
	}
	saved = errno;
	closedir(d);
	errno = saved;
	return !found && errno && read_failed() ? -2 : found;
}

/* As dir_holds_socket for pid's fd table. /proc/<pid>/fd is the main thread's, empty once
 * it exited while other threads run on (its exe is gone then): their tables are read. */
static int holds_socket(pid_t pid, const char *want)
{
	char dir[96];
	struct dirent *de;
	struct stat st;
	int r;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	r = dir_holds_socket(dir, want);
	snprintf(dir, sizeof(dir), "/proc/%d/exe", (int)pid);
	if (r != 0 || stat(dir, &st) == 0 || errno != ENOENT)
		return r;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return read_failed() ? -2 : 0;
	while (r == 0 && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]) || atoi(de->d_name) == pid)
			continue;
		snprintf(dir, sizeof(dir), "/proc/%d/task/%.20s/fd", (int)pid, de->d_name);
		r = dir_holds_socket(dir, want);
	}
	closedir(d);
	return r;
}

static void note_failed(struct ident_owners *o, pid_t pid)
{
	if (!o->failed) {
		o->failed = pid;
		o->failed_err = errno;
	}
}

void ident_owners_add(struct ident_owners *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->owners[i] == pid)
			return;
	if (s->n < s->max)
		s->owners[s->n++] = pid;
	else
		s->overflow = true;
}

static void visit(struct owner_scan *s, pid_t pid)
{
	int r = holds_socket(pid, s->want);

	/* init is ours and may be non-dumpable; it never holds a caller's socket. */
	if (r == -1 && pid != s->o.init_pid && !s->o.hidden)
		s->o.hidden = pid;
	if (r == -2)
		note_failed(&s->o, pid);
	if (r > 0)
		ident_owners_add(&s->o, pid);
}

struct pidq {
	pid_t *p;
	size_t len, cap;
};

static void pidq_push(struct pidq *q, pid_t pid)
{
	if (q->len == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->p = xreallocarray(q->p, q->cap, sizeof(*q->p));
	}
	q->p[q->len++] = pid;
}

/* Appends the children of every thread of pid. */
static void push_children(struct owner_scan *s, struct pidq *q, pid_t pid)
{
	char path[96];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d && read_failed())
		note_failed(&s->o, pid);
	while (d && (de = readdir(d))) {
		FILE *f;
		int child;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/children", (int)pid, de->d_name);
		f = fopen(path, "re");
		if (!f && read_failed())
			note_failed(&s->o, pid);
		while (f && fscanf(f, "%d", &child) == 1) {
			if (q->len >= SCAN_MAX) {
				s->o.truncated = true;
				break;
			}
			pidq_push(q, child);
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
}

/* Whether init's children now include one that q has not seen. */
static bool init_gained(struct owner_scan *s, const struct pidq *q)
{
	struct owner_scan again = { .o = { .init_pid = s->o.init_pid } };
	struct pidq now = { NULL, 0, 0 };
	bool gained = false;
	size_t i, j;

	push_children(&again, &now, s->o.init_pid);
	for (i = 0; i < now.len && !gained; i++) {
		for (j = 0; j < q->len && q->p[j] != now.p[i]; j++)
			;
		gained = j == q->len;
	}
	free(now.p);
	if (again.o.failed && !s->o.failed) { /* not "gained": the failure is the answer */
		s->o.failed = again.o.failed;
		s->o.failed_err = again.o.failed_err;
	}
	return gained;
}

/* Breadth-first through init_pid's descendants: everything in its pid namespace. Processes
 * are read one after another: one read late may exit and hand a holder to init unseen, so
 * init's list is read again at the end, and the scan starts again when it gained one. */
static void scan_descendants(struct owner_scan *s)
{
	struct ident_owners fresh = s->o;
	int pass;

	for (pass = 0; pass < SCAN_PASSES; pass++) {
		struct pidq q = { NULL, 0, 0 };
		size_t head = 0;
		bool gained;

		s->o = fresh;
		pidq_push(&q, s->o.init_pid);
		while (head < q.len && !s->o.truncated) {
			pid_t pid = q.p[head++];

			visit(s, pid);
			push_children(s, &q, pid);
		}
		gained = !s->o.truncated && !s->o.failed && init_gained(s, &q);
		free(q.p);
		if (!gained)
			return;
	}
	s->o.unstable = true;
}

static int read_ns(pid_t pid, char *dst, size_t n)
{
	char link[64];
	ssize_t r;

	snprintf(link, sizeof(link), "/proc/%d/ns/pid", (int)pid);
	r = readlink(link, dst, n - 1);
	if (r <= 0)
		return -1;
	dst[r] = '\0';
	return 0;
}

/* Without task/<tid>/children: every process in init_pid's pid namespace. Processes whose
 * namespace we cannot read are other users' and outside the sandbox. */
static int scan_namespace(struct owner_scan *s, struct err *e)
{
	char ns[64], other[64];
	struct dirent *de;
	DIR *d;

	if (read_ns(s->o.init_pid, ns, sizeof(ns)) < 0)
		return err_set(e, ERR_UNAVAILABLE, 0,
			       "cannot read the pid namespace of process %d: %s", (int)s->o.init_pid,
			       strerror(errno));
	d = opendir("/proc");
	if (!d)
		return err_set(e, ERR_RUNTIME, 0, "cannot list /proc: %s", strerror(errno));
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid > 0 && read_ns(pid, other, sizeof(other)) == 0 && !strcmp(ns, other))
			visit(s, pid);
	}
	closedir(d);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

int ident_owners_finish(struct ident_owners *s, uint64_t ino, size_t *n, struct err *e)
{
	*n = 0;
	if (s->unstable)
		return err_set(e, ERR_FORBIDDEN, 0,
			       "failed to resolve peer binary: the sandbox's processes kept changing "
			       "while they were read; retry");
	if (s->failed)
		return err_set(e, ERR_RUNTIME, 0,
			       "failed to resolve peer binary: cannot read the file descriptors or "
			       "children of process %d: %s",
			       (int)s->failed, strerror(s->failed_err));
	/* A hidden process could share the socket, so no owner is provably the only one. */
	if (s->hidden)
		return err_set(e, ERR_FORBIDDEN, 0,
			       "process %d is not dumpable; its sockets cannot be attributed",
			       (int)s->hidden);
	if (s->overflow)
		return err_set(e, ERR_FORBIDDEN, 0,
			       "ambiguous shared socket ownership (more "
			       "than %zu processes hold it)",
			       s->max);
	if (s->truncated)
		return err_set(e, ERR_LIMIT, 0,
			       "failed to resolve peer binary: more than %d "
			       "processes in the sandbox",
			       SCAN_MAX);
	if (s->n == 0)
		return err_set(e, ERR_NOTFOUND, 0,
			       "failed to resolve peer binary: no process in "
			       "the sandbox holds socket %llu",
			       (unsigned long long)ino);
	qsort(s->owners, s->n, sizeof(*s->owners), cmp_pid);
	*n = s->n;
	return 0;
}

int ident_socket_owners(pid_t init_pid, uint64_t ino, pid_t *owners, size_t max, size_t *n,
			struct err *e)
{
	struct owner_scan s = { .o = { .init_pid = init_pid, .owners = owners, .max = max } };
	char probe[96];

	*n = 0;
	snprintf(s.want, sizeof(s.want), "socket:[%llu]", (unsigned long long)ino);
	snprintf(probe, sizeof(probe), "/proc/%d/task/%d/children", (int)init_pid, (int)init_pid);
	if (access(probe, R_OK) == 0)
		scan_descendants(&s);
	else if (scan_namespace(&s, e) < 0)
		return -1;
	return ident_owners_finish(&s.o, ino, n, e);
}

/* ---- executable mappings ------------------------------------------------------------- */

static int judge_mapping(pid_t pid, const struct ident_map *m, const struct ident_writable *w,
			 struct err *e)
{
	char clean[PATH_MAX];
	size_t len = strlen(m->path);

	/* anonymous (JIT), [vdso], [vsyscall]: nothing a file put there */
	if (m->path[0] != '/')
		return 0;
	if (str_has_prefix(m->path, "/memfd:"))
		return err_set(e, ERR_FORBIDDEN, 0,
			       "process %d maps executable code from memfd %s; " NOT_TRUSTED,
			       (int)pid, m->path);
	if (len >= sizeof(clean))
		return 0;
	memcpy(clean, m->path, len + 1);
	/* A deleted file outside the writable paths was replaced by the host (an upgrade). */
	if (str_has_suffix(clean, DELETED))
		clean[len - strlen(DELETED)] = '\0';
	if (ident_writable_match(clean, w))
		return err_set(e, ERR_FORBIDDEN, 0,
			       "process %d maps executable code from "
			       "writable path %s; " NOT_TRUSTED,
			       (int)pid, m->path);
	return 0;
}

/* The lines of a /proc file read in 16 KiB chunks (a maps line is at most PATH_MAX plus its
 * fields): one read for most processes, where stdio would take 1 KiB at a time. On the
 * stack: a heap block this size would be mapped and unmapped around every lookup. */
struct lines {
	int fd;
	size_t len, off;
	bool eof;
	char buf[16384];
};

/* The next line, NUL-terminated without its newline, or NULL at the end; *err is then
 * errno when the file cannot be read, EFBIG when a line does not fit. */
static char *next_line(struct lines *l, int *err)
{
	*err = 0;
	for (;;) {
		char *start = l->buf + l->off, *nl = memchr(start, '\n', l->len - l->off);
		ssize_t r;

		if (nl) {
			*nl = '\0';
			l->off = (size_t)(nl + 1 - l->buf);
			return start;
		}
		if (l->eof && l->off < l->len) { /* a last line without its newline */
			l->buf[l->len] = '\0';
			l->off = l->len;
			return start;
		}
		if (l->eof)
			return NULL;
		memmove(l->buf, start, l->len - l->off);
		l->len -= l->off;
		l->off = 0;
		if (l->len >= sizeof(l->buf) - 1) {
			*err = EFBIG;
			return NULL;
		}
		r = read(l->fd, l->buf + l->len, sizeof(l->buf) - 1 - l->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*err = errno;
			return NULL;
		}
		l->eof = r == 0;
		l->len += (size_t)r;
	}
}

/* A mapping of the process's own exe: the same file, or (overlayfs) the same path. */
static bool own_exe(const struct ident_map *m, const char *exe, dev_t exe_dev, ino_t exe_ino)
{
	return (makedev(m->dev_major, m->dev_minor) == exe_dev && m->ino == exe_ino) ||
	       !strcmp(m->path, exe);
}

/* The next executable file mapping at or after addr through PROCMAP_QUERY: 1 and m filled
 * (its path in name), 0 when there is none, -1 with errno. */
static int query_next(int fd, uint64_t addr, char name[PATH_MAX], struct ident_map *m,
		      uint64_t *end)
{
	struct procmap_query_v1 q;

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.query_flags = PMQ_VMA_EXECUTABLE | PMQ_FILE_BACKED_VMA | PMQ_COVERING_OR_NEXT;
	q.query_addr = addr;
	q.vma_name_addr = (uint64_t)(uintptr_t)name;
	q.vma_name_size = PATH_MAX;
	name[0] = '\0';
	if (ioctl(fd, PROCMAP_QUERY_V1, &q) < 0)
		return errno == ENOENT ? 0 : -1;
	name[PATH_MAX - 1] = '\0';
	memset(m, 0, sizeof(*m));
	m->exec = true;
	m->dev_major = q.dev_major;
	m->dev_minor = q.dev_minor;
	m->ino = q.inode;
	m->path = name;
	*end = q.vma_end;
	return 1;
}

/* The executable file mappings of the maps file open at fd, one ioctl each (Linux 6.11):
 * the text of every mapping is not generated, anonymous code (JIT) is skipped by the
 * kernel (judge_mapping lets it pass). 1 when the kernel has no PROCMAP_QUERY. */
static int query_maps(int fd, pid_t pid, const char *exe, dev_t exe_dev, ino_t exe_ino,
		      const struct ident_writable *w, struct err *e)
{
	char name[PATH_MAX];
	struct ident_map m;
	uint64_t addr = 0, end;
	int r;

	while ((r = query_next(fd, addr, name, &m, &end)) > 0) {
		if (end <= addr)
			return err_set(e, ERR_RUNTIME, 0,
				       "cannot read the memory map of process %d", (int)pid);
		if (!own_exe(&m, exe, exe_dev, exe_ino) && judge_mapping(pid, &m, w, e) < 0)
			return -1;
		addr = end;
	}
	if (r == 0)
		return 0;
	if (addr == 0 && (errno == ENOTTY || errno == EINVAL))
		return 1;
	return err_set(e, ERR_RUNTIME, 0, "cannot read the memory map of process %d: %s",
		       (int)pid, strerror(errno));
}

int ident_check_maps(pid_t pid, const char *exe, dev_t exe_dev, ino_t exe_ino,
		     const struct ident_writable *w, struct err *e)
{
	struct lines lines, *l = &lines;
	char path[64], *line;
	int ret = -1, rerr;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	l->fd = open_cloexec(path, O_RDONLY);
	l->len = l->off = 0;
	l->eof = false;
	if (l->fd < 0) {
		err_set(e, ERR_RUNTIME, 0, "cannot read the memory map of process %d: %s",
			(int)pid, strerror(errno));
		goto out;
	}
	ret = query_maps(l->fd, pid, exe, exe_dev, exe_ino, w, e);
	if (ret <= 0)
		goto out;
	ret = -1;
	while ((line = next_line(l, &rerr))) {
		struct ident_map m;

		if (ident_parse_maps_line(line, &m) < 0 || !m.exec ||
		    own_exe(&m, exe, exe_dev, exe_ino))
			continue;
		if (judge_mapping(pid, &m, w, e) < 0)
			goto out;
	}
	if (rerr) { /* a map we could not read could hide anything: fail closed */
		err_set(e, ERR_RUNTIME, 0, "cannot read the memory map of process %d: %s",
			(int)pid, strerror(rerr));
		goto out;
	}
	ret = 0;
out:
	if (l->fd >= 0)
		close(l->fd);
	return ret;
}

/* ---- the identity -------------------------------------------------------------------- */

void ident_release(struct ident *id)
{
	size_t i;

	for (i = 0; i < id->n_ancestors; i++)
		free(id->ancestors[i]);
	for (i = 0; i < id->n_cmdline; i++)
		free(id->cmdline[i]);
	id->n_ancestors = id->n_cmdline = 0;
}

bool ident_same(const struct ident *a, const struct ident *b)
{
	size_t i;

	if (strcmp(a->exe, b->exe) || strcmp(a->sha256, b->sha256) ||
	    a->n_ancestors != b->n_ancestors)
		return false;
	for (i = 0; i < a->n_ancestors; i++)
		if (strcmp(a->ancestors[i], b->ancestors[i]))
			return false;
	return true;
}

/* The parent of pid: from the process table when it answered this lookup (its children
 * lists were re-read wherever a process could have moved: see procident_procs.c), else
 * from /proc/<pid>/status. */
static int parent_of(const struct ident_procs *tree, pid_t pid, pid_t *ppid, struct err *e)
{
	if (tree && ident_procs_parent(tree, pid, ppid) == 0)
		return 0;
	return read_ppid(pid, ppid, e);
}

/* Parents up to (not including) init_pid, or up to pid 1, each binary verified; pids[] gets
 * them. The sandbox's init is our own machinery (its exe is a host path, outside the
 * sandbox): the main process and exec sessions are the top of every chain, as the
 * reference's entrypoint is. */
static int walk_ancestors(struct ident_cache *c, const struct ident_procs *tree, pid_t init_pid,
			  struct ident *id, pid_t *pids, struct err *e)
{
	char exe[PATH_MAX], hex[65];
	pid_t cur = id->pid, ppid;
	struct stat st;

	while (cur != init_pid && cur != 1 && id->n_ancestors < IDENT_MAX_ANCESTORS) {
		if (parent_of(tree, cur, &ppid, e) < 0)
			return -1;
		if (ppid <= 0 || ppid == init_pid)
			break;
		if (pin_exe(c, ppid, exe, sizeof(exe), hex, &st, e) < 0)
			return -1;
		pids[id->n_ancestors] = ppid;
		id->ancestors[id->n_ancestors++] = xstrdup(exe);
		cur = ppid;
	}
	return 0;
}

static bool known_path(const struct ident *id, const char *p)
{
	size_t i;

	if (!strcmp(id->exe, p))
		return true;
	for (i = 0; i < id->n_ancestors; i++)
		if (!strcmp(id->ancestors[i], p))
			return true;
	for (i = 0; i < id->n_cmdline; i++)
		if (!strcmp(id->cmdline[i], p))
			return true;
	return false;
}

/* Absolute argv entries; best effort, they are only shown in deny reasons. One read: the
 * kernel copies the whole command line up to the size asked. The buffer is on the stack: a
 * heap block this size is mapped and unmapped around each call (TLB flushes). */
static void add_cmdline_paths(struct ident *id, pid_t pid)
{
	char path[64], buf[CMDLINE_MAX], *p;
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open_cloexec(path, O_RDONLY);
	if (fd >= 0) {
		do
			n = read(fd, buf, sizeof(buf) - 1);
		while (n < 0 && errno == EINTR);
		close(fd);
	}
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (p = buf; p < buf + n; p += strlen(p) + 1)
		if (p[0] == '/' && id->n_cmdline < IDENT_MAX_CMDLINE && !known_path(id, p))
			id->cmdline[id->n_cmdline++] = xstrdup(p);
}

/* ident_of_pid, with the process table when it answered this lookup (tree, or NULL). */
static int identify(struct ident_cache *c, const struct ident_procs *tree, pid_t init_pid,
		    pid_t pid, const struct ident_writable *w, struct ident *out, struct err *e)
{
	pid_t pids[IDENT_MAX_ANCESTORS];
	struct stat st;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	if (pin_exe(c, pid, out->exe, sizeof(out->exe), out->sha256, &st, e) < 0 ||
	    ident_check_maps(pid, out->exe, st.st_dev, st.st_ino, w, e) < 0 ||
	    walk_ancestors(c, tree, init_pid, out, pids, e) < 0) {
		ident_release(out);
		return -1;
	}
	add_cmdline_paths(out, pid);
	/* init's argv is the supervisor's (host paths), not the workload's */
	for (i = 0; i < out->n_ancestors && pids[i] != init_pid; i++)
		add_cmdline_paths(out, pids[i]);
	return 0;
}

int ident_of_pid(struct ident_cache *c, pid_t init_pid, pid_t pid, const struct ident_writable *w,
		 struct ident *out, struct err *e)
{
	return identify(c, NULL, init_pid, pid, w, out, e);
}

/* Every owner must be the same identity; the lowest pid is reported. */
static int identify_owners(struct ident_cache *c, const struct ident_procs *tree, pid_t init_pid,
			   const pid_t *owners, size_t n, const struct ident_writable *w,
			   struct ident *out, struct err *e)
{
	struct ident other;
	size_t i;
	bool same;

	if (identify(c, tree, init_pid, owners[0], w, out, e) < 0)
		return -1;
	for (i = 1; i < n; i++) {
		if (identify(c, tree, init_pid, owners[i], w, &other, e) < 0)
			goto fail;
		same = ident_same(out, &other);
		ident_release(&other);
		if (!same) {
			err_set(e, ERR_FORBIDDEN, 0, "ambiguous shared socket ownership");
			goto fail;
		}
	}
	return 0;
fail:
	ident_release(out);
	return -1;
}

/* From the cache's process table when it can answer (*tree set to it), else by a full scan
 * (*tree NULL). */
static int find_owners(struct ident_cache *c, pid_t init_pid, uint64_t ino,
		       pid_t owners[IDENT_MAX_OWNERS], size_t *n, const struct ident_procs **tree,
		       struct err *e)
{
	struct ident_owners s = { .init_pid = init_pid, .owners = owners, .max = IDENT_MAX_OWNERS };
	struct ident_procs *t = ident_cache_procs(c);

	*tree = NULL;
	if (ident_procs_owners(t, ino, &s) > 0)
		return ident_socket_owners(init_pid, ino, owners, IDENT_MAX_OWNERS, n, e);
	*tree = t;
	return ident_owners_finish(&s, ino, n, e);
}

/* sock_diag when it answers, else the tcp tables (which give the deny reason). A kernel that
 * refuses the request (rather than not knowing the socket) is not asked again. */
static int socket_inode(struct ident_cache *c, pid_t init_pid, const struct sockaddr *peer,
			const struct sockaddr *local, uint64_t *ino, struct err *e)
{
	struct sockdiag_answer a;
	struct err de = ERR_INIT;
	int fd = ident_cache_sock_diag(c);

	ident_cache_note_sock_diag(c, false);
	if (fd >= 0) {
		if (sockdiag_lookup(fd, peer, local, &a, &de) == 0) {
			*ino = a.ino;
			ident_cache_note_sock_diag(c, true);
			return 0;
		}
		if (de.code == ERR_RUNTIME)
			ident_cache_forget_sock_diag(c);
	}
	return ident_socket_inode(init_pid, peer, local, ino, e);
}

int ident_lookup(struct ident_cache *c, pid_t init_pid, int conn_fd, const struct ident_writable *w,
		 struct ident *out, struct err *e)
{
	struct sockaddr_storage peer, local;
	socklen_t plen = sizeof(peer), llen = sizeof(local);
	const struct ident_procs *tree;
	pid_t owners[IDENT_MAX_OWNERS];
	uint64_t ino;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (init_pid <= 0)
		return err_set(e, ERR_UNAVAILABLE, 0, "entrypoint process not yet spawned");
	if (getpeername(conn_fd, (struct sockaddr *)&peer, &plen) < 0 ||
	    getsockname(conn_fd, (struct sockaddr *)&local, &llen) < 0)
		return err_set(e, ERR_RUNTIME, 0, "failed to resolve peer binary: %s",
			       strerror(errno));
	if (socket_inode(c, init_pid, (struct sockaddr *)&peer, (struct sockaddr *)&local, &ino,
			 e) < 0 ||
	    find_owners(c, init_pid, ino, owners, &n, &tree, e) < 0)
		return -1;
	return identify_owners(c, tree, init_pid, owners, n, w, out, e);
}
