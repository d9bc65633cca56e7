/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's processes, kept between lookups so that ident_lookup re-reads only what can
 * have changed (procident.h). Each process has an fd open on /proc/<pid>/schedstat: one
 * pread per process and lookup tells whether it ran, and ESRCH that it is gone (the fd is
 * tied to that process, so a reused pid is a new entry). Only a running thread changes its
 * fd table or forks, except: processes sharing one fd table (clone CLONE_FILES: found with
 * kcmp and re-read every time), children that appear under a parent that did not run, and
 * threads (a multi-threaded process is re-read every time). Such a child is a CLONE_PARENT
 * sibling (under the parent of the process that cloned it) or an orphan (under the nearest
 * subreaper among its ancestors, or init): the children lists of the ancestors of every
 * process that ran, came or went are re-read. In a sandbox whose seccomp filter denies
 * CLONE_PARENT and subreapers (init_reaps_all), init's list is the only one. When the table
 * cannot answer, procident.c scans /proc.
 */
#include "procident_int.h"
#include "util.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PROCS_MAX 4096 /* processes tracked (two fds each) */
#define COOLDOWN  64   /* lookups answered by full scans after the table overflowed */
#define DENTS_BUF 8192
#define PASSES	  4 /* lookups started again when init gained an orphan meanwhile */

enum proc_marks {
	M_DEAD = 1 << 0,      /* schedstat says ESRCH */
	M_RESCAN = 1 << 1,    /* ran, multi-threaded, shared or new: read it all again */
	M_QUEUED = 1 << 2,    /* waiting for its children list to be read */
	M_UP = 1 << 3,	      /* an ancestor of a process that went away */
	M_NEW = 1 << 4,	      /* added by this lookup */
	M_CONFIRMED = 1 << 5, /* (new) listed as a child again after its schedstat was read */
	M_EXE = 1 << 6,	      /* its exe changed */
	M_FRESH = 1 << 7,     /* fd table read by this lookup */
	M_KCMP = 1 << 8,      /* compared with kcmp by this lookup */
	M_ERROR = 1 << 9,     /* a read of its fd table failed other than by its exit */
};

struct proc {
	pid_t pid;
	pid_t parent; /* the entry whose children list has it; 0: lost */
	int sfd;      /* /proc/<pid>/schedstat */
	int hfd;      /* the same file opened again, for the reader's helper thread */
	unsigned marks, born; /* born: the children read that added it */
	bool single;	      /* one thread at its last scan */
	bool hidden;	      /* fd table unreadable at its last scan */
	bool shared;	      /* fd table shared with another process */
	bool oncpu;	      /* may have been on a CPU after its last scan: read it again */
	bool no_exe;	      /* its exe was gone (ENOENT) at its last scan */
	char stat[STAT_MAX];
	size_t stat_len;
	dev_t exe_dev; /* exe_dev, exe_ino: 0 when there is no exe (zombie) */
	ino_t exe_ino;
	pid_t *tids; /* threads at its last scan */
	size_t n_tids, cap_tids;
	uint64_t *socks; /* socket inodes in its fd table at its last scan */
	size_t n_socks, cap_socks;
};

struct ident_procs {
	pid_t init_pid;
	int avail; /* 0: not probed yet, 1: usable, -1: not on this system */
	size_t max;
	unsigned cooldown, reads;
	bool init_reaps_all; /* no CLONE_PARENT, no subreapers: orphans all go to init */
	bool reread_init;    /* the last lookup gave up while init gained orphans */
	bool unstable;	     /* this lookup gave up: processes kept changing under it */
	struct proc **v; /* by pid, ascending */
	size_t n, cap;
	struct proc **q; /* children lists to read */
	size_t qhead, qlen, qcap;
	char *buf; /* a children file */
	size_t buf_cap;
	struct stat_reader *reader; /* shares the schedstat reads of a lookup */
	int *sfds, *hfds;	    /* a lookup's schedstat fds (and the helper's), in order */
	struct stat_read *now;	    /* and what they read */
	size_t cap_now;
	struct ident_scan_stats st;
};

/* ---- the table ----------------------------------------------------------------------- */

struct ident_procs *ident_procs_new(void)
{
	return xcalloc(1, sizeof(struct ident_procs));
}

static void proc_free(struct ident_procs *t, struct proc *p)
{
	close(p->sfd);
	stat_reader_close(t->reader, p->hfd);
	free(p->tids);
	free(p->socks);
	free(p);
}

static void procs_clear(struct ident_procs *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		proc_free(t, t->v[i]);
	t->n = 0;
}

void ident_procs_free(struct ident_procs *t)
{
	if (!t)
		return;
	procs_clear(t);
	stat_reader_free(t->reader); /* after the fds are handed to it to close */
	free(t->v);
	free(t->q);
	free(t->buf);
	free(t->sfds);
	free(t->hfds);
	free(t->now);
	free(t);
}

void ident_procs_set_init_reaps_all(struct ident_procs *t, bool on)
{
	t->init_reaps_all = on;
}

void ident_procs_stats(const struct ident_procs *t, struct ident_scan_stats *st)
{
	*st = t->st;
}

/* Index of pid, or of where it would go. */
static size_t procs_index(const struct ident_procs *t, pid_t pid)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid]->pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct proc *procs_find(const struct ident_procs *t, pid_t pid)
{
	size_t i = procs_index(t, pid);

	return i < t->n && t->v[i]->pid == pid ? t->v[i] : NULL;
}

int ident_procs_parent(const struct ident_procs *t, pid_t pid, pid_t *ppid)
{
	const struct proc *p = procs_find(t, pid);

	if (!p || p->parent <= 0)
		return -1;
	*ppid = p->parent;
	return 0;
}

static void procs_insert(struct ident_procs *t, struct proc *p)
{
	size_t i = procs_index(t, p->pid);

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	memmove(t->v + i + 1, t->v + i, (t->n - i) * sizeof(*t->v));
	t->v[i] = p;
	t->n++;
}

static void procs_remove_at(struct ident_procs *t, size_t i)
{
	proc_free(t, t->v[i]);
	memmove(t->v + i, t->v + i + 1, (t->n - i - 1) * sizeof(*t->v));
	t->n--;
	t->st.dropped++;
}

static void push_pid(pid_t **a, size_t *n, size_t *cap, pid_t v)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		*a = xreallocarray(*a, *cap, sizeof(**a));
	}
	(*a)[(*n)++] = v;
}

static void enqueue(struct ident_procs *t, struct proc *p)
{
	if (p->marks & M_QUEUED)
		return;
	p->marks |= M_QUEUED;
	if (t->qlen == t->qcap) {
		t->qcap = t->qcap ? t->qcap * 2 : 64;
		t->q = xreallocarray(t->q, t->qcap, sizeof(*t->q));
	}
	t->q[t->qlen++] = p;
}

/* Queues the children lists where a process can appear, without its parent running, after
 * p ran, came or went: p's ancestors' (CLONE_PARENT siblings under p's parent, orphans under
 * a subreaper or init), or init's alone when it reaps all. */
static void enqueue_reapers(struct ident_procs *t, const struct proc *p)
{
	struct proc *a;
	size_t guard = t->n;

	if (t->init_reaps_all) {
		a = procs_find(t, t->init_pid);
		if (a)
			enqueue(t, a);
		return;
	}
	a = p->pid == t->init_pid ? NULL : procs_find(t, p->parent);
	for (; a && guard > 0; guard--) {
		enqueue(t, a);
		a = a->pid == t->init_pid ? NULL : procs_find(t, a->parent);
	}
}

/* ---- reading one process ------------------------------------------------------------- */

/* A new entry with its schedstat read, or NULL (errno; ENOENT or ESRCH: gone). */
static struct proc *proc_new(pid_t pid)
{
	struct proc *p = xcalloc(1, sizeof(*p));
	struct stat_read now;
	char path[64];
	int saved;

	p->pid = pid;
	p->single = true;
	p->hfd = -1;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	p->sfd = open_cloexec(path, O_RDONLY);
	if (p->sfd < 0)
		goto fail;
	/* a file of its own for the helper (a read holds the file's lock: the lookup must not
	 * wait for a helper preempted in one); the same process, even if its pid is reused */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p->sfd);
	p->hfd = open_cloexec(path, O_RDONLY);
	if (p->hfd < 0)
		goto fail;
	stat_read_one(p->sfd, &now);
	if (now.len <= 0) {
		errno = now.err;
		goto fail;
	}
	memcpy(p->stat, now.text, (size_t)now.len);
	p->stat_len = (size_t)now.len;
	push_pid(&p->tids, &p->n_tids, &p->cap_tids, pid);
	return p;
fail:
	saved = errno;
	if (p->sfd >= 0)
		close(p->sfd);
	if (p->hfd >= 0) /* never seen by the reader's helper */
		close(p->hfd);
	free(p);
	errno = saved;
	return NULL;
}

struct dent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* fn for each entry of the directory open at dfd but "." and ".."; -1 when listing fails. */
static int each_name(int dfd, void (*fn)(struct proc *p, int dfd, const char *name),
		     struct proc *p)
{
	_Alignas(8) char buf[DENTS_BUF];

	for (;;) {
		long r = syscall(SYS_getdents64, dfd, buf, sizeof(buf)), off;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (int)r;
		for (off = 0; off < r;) {
			const struct dent64 *d = (const struct dent64 *)(buf + off);

			off += d->reclen;
			if (d->name[0] != '.')
				fn(p, dfd, d->name);
		}
	}
}

/* A read of p's /proc files failed: gone (the next schedstat read drops it), or an error
 * that leaves what p holds unknown (M_ERROR: the table cannot answer). */
static void note_failure(struct proc *p)
{
	if (errno != ENOENT && errno != ESRCH)
		p->marks |= M_ERROR;
}

static void add_tid(struct proc *p, int dfd, const char *name)
{
	uint64_t v;

	(void)dfd;
	if (parse_u64(name, 1, INT32_MAX, &v) == 0)
		push_pid(&p->tids, &p->n_tids, &p->cap_tids, (pid_t)v);
}

static void scan_tasks(struct proc *p)
{
	char path[64];
	int dfd, r = -1;

	p->n_tids = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	dfd = open_cloexec(path, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		r = each_name(dfd, add_tid, p);
		close(dfd);
	}
	if (r < 0)
		note_failure(p);
	p->single = r == 0 && p->n_tids == 1 && p->tids[0] == p->pid;
	if (p->n_tids == 0) /* gone, or unlisted: its main thread's children at least */
		push_pid(&p->tids, &p->n_tids, &p->cap_tids, p->pid);
}

static void add_sock(struct proc *p, int dfd, const char *name)
{
	char target[64];
	ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
	uint64_t ino;

	if (n < 0 && errno != ENAMETOOLONG) /* a path beyond PATH_MAX: not a socket */
		note_failure(p);		  /* ENOENT: that fd was closed meanwhile */
	if (n <= 9 || target[n - 1] != ']')
		return;
	target[n - 1] = '\0';
	if (!str_has_prefix(target, "socket:[") || parse_u64(target + 8, 0, UINT64_MAX, &ino) < 0)
		return;
	if (p->n_socks == p->cap_socks) {
		p->cap_socks = p->cap_socks ? p->cap_socks * 2 : 4;
		p->socks = xreallocarray(p->socks, p->cap_socks, sizeof(*p->socks));
	}
	p->socks[p->n_socks++] = ino;
}

/* The socket inodes in the fd directory at path, added to p's; hidden when the fd table may
 * not be read (as holds_socket). */
static void scan_fd_dir(struct proc *p, const char *path)
{
	int dfd = open_cloexec(path, O_RDONLY | O_DIRECTORY);

	if (dfd < 0) {
		if (errno == EACCES || errno == EPERM)
			p->hidden = true;
		else
			note_failure(p);
		return;
	}
	if (each_name(dfd, add_sock, p) < 0)
		note_failure(p);
	close(dfd);
}

static void scan_fds(struct proc *p)
{
	char path[64];

	p->n_socks = 0;
	p->hidden = false;
	p->marks |= M_FRESH;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)p->pid);
	scan_fd_dir(p, path);
}

/* /proc/<pid>/fd is the main thread's table, empty once the main thread exited while others
 * run on: then the table is read through each of them (the seccomp filter keeps a thread
 * from having a table of its own, so one would do; any of them may be exiting too). */
static void scan_thread_fds(struct proc *p)
{
	size_t i;

	for (i = 0; i < p->n_tids; i++) {
		char path[96];

		if (p->tids[i] == p->pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/fd", (int)p->pid, (int)p->tids[i]);
		scan_fd_dir(p, path);
	}
}

static void scan_exe(struct proc *p)
{
	struct stat st = { 0 };
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)p->pid);
	p->no_exe = false;
	if (stat(path, &st) < 0) {
		st.st_dev = st.st_ino = 0;
		p->no_exe = errno == ENOENT; /* its mm is gone: a zombie, or its main thread */
		if (!p->no_exe && errno != EACCES && errno != EPERM)
			note_failure(p);
	}
	if (st.st_dev != p->exe_dev || st.st_ino != p->exe_ino)
		p->marks |= M_EXE;
	p->exe_dev = st.st_dev;
	p->exe_ino = st.st_ino;
}

/* The whole file at path into t->buf, NUL-terminated; -1 when it cannot be read. */
static int read_whole(struct ident_procs *t, const char *path)
{
	size_t len = 0;
	int fd = open_cloexec(path, O_RDONLY);

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r;

		if (t->buf_cap - len < 4096) {
			t->buf_cap = t->buf_cap ? t->buf_cap * 2 : 16384;
			t->buf = xrealloc(t->buf, t->buf_cap);
		}
		r = read(fd, t->buf + len, t->buf_cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			t->buf[len] = '\0';
			return r < 0 ? -1 : 0;
		}
		len += (size_t)r;
	}
}

/* ---- children ------------------------------------------------------------------------ */

/* c is listed as a child of p by children read seq: known (its parent is p now) or new. 1
 * when the table cannot take it. */
static int child_seen(struct ident_procs *t, struct proc *p, pid_t c, unsigned seq)
{
	struct proc *k = procs_find(t, c);

	if (k) {
		k->parent = p->pid;
		if (k->born < seq)
			k->marks |= M_CONFIRMED;
		return 0;
	}
	if (t->n >= t->max)
		return 1;
	k = proc_new(c);
	if (!k && errno != ENOENT && errno != ESRCH)
		return 1;
	/* Read p and the reapers again once k's schedstat is known: p's list confirms k (sweep),
	 * and what k did before (a CLONE_PARENT sibling, orphans of its own short-lived
	 * children) shows there. A k gone already may have left orphans the same way. */
	enqueue(t, p);
	enqueue_reapers(t, p);
	if (!k)
		return 0;
	k->parent = p->pid;
	k->born = seq;
	k->marks = M_NEW | M_RESCAN;
	procs_insert(t, k);
	enqueue(t, k);
	t->st.added++;
	return 0;
}

/* The children lists of p's threads tids[0..n), read at seq. */
/* The children list of thread tid of pid into t->buf; -1 when it cannot be read (errno). */
static int read_children_file(struct ident_procs *t, pid_t pid, pid_t tid)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)tid);
	return read_whole(t, path);
}

/* The next pid of a children list at *s (moved past it); 0 at its end. */
static pid_t next_child(char **s)
{
	for (;;) {
		char *end;
		long c = strtol(*s, &end, 10);

		if (end == *s)
			return 0;
		*s = end;
		if (c > 0 && c <= INT32_MAX)
			return (pid_t)c;
	}
}

static int read_thread_children(struct ident_procs *t, struct proc *p, unsigned seq)
{
	size_t i;

	for (i = 0; i < p->n_tids; i++) {
		char *s;
		pid_t c;

		if (read_children_file(t, p->pid, p->tids[i]) < 0) {
			if (errno == ENOENT || errno == ESRCH)
				continue; /* gone: the next lookup drops it */
			p->marks |= M_ERROR;
			return 1;
		}
		for (s = t->buf; (c = next_child(&s));)
			if (child_seen(t, p, c, seq) > 0)
				return 1;
	}
	return 0;
}

/* Whether a thread of p's last listing is gone (its list was then read again). */
static bool lost_thread(struct proc *p, const pid_t *before, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < p->n_tids && p->tids[j] != before[i]; j++)
			;
		if (j == p->n_tids)
			return true;
	}
	return false;
}

/* The children of every thread of p; 1 when the table overflows or cannot answer. A thread
 * that exits hands its children to another thread of p, maybe one whose list was read
 * already: a multi-threaded p is listed again until no thread went away meanwhile. */
static int read_children(struct ident_procs *t, struct proc *p)
{
	unsigned seq = ++t->reads;
	pid_t *before = NULL;
	int pass, ret = 1;

	for (pass = 0; pass < PASSES; pass++) {
		size_t n = p->n_tids;

		if (read_thread_children(t, p, seq) > 0)
			goto out;
		if (p->single) {
			ret = 0;
			goto out;
		}
		before = xreallocarray(before, n ? n : 1, sizeof(*before));
		memcpy(before, p->tids, n * sizeof(*before));
		scan_tasks(p);
		if (p->marks & M_ERROR)
			goto out;
		if (!lost_thread(p, before, n)) {
			ret = 0;
			goto out;
		}
	}
	t->unstable = true;
out:
	free(before);
	return ret;
}

/* ---- one lookup ---------------------------------------------------------------------- */

/* Which processes ran (schedstat changed) or went away; 1 when a read fails otherwise. The
 * reads are shared with the reader's helper thread when it is free. */
static int check_all(struct ident_procs *t)
{
	size_t i;

	if (t->n > t->cap_now) {
		t->cap_now = t->n + t->n / 2;
		t->sfds = xreallocarray(t->sfds, t->cap_now, sizeof(*t->sfds));
		t->hfds = xreallocarray(t->hfds, t->cap_now, sizeof(*t->hfds));
		t->now = xreallocarray(t->now, t->cap_now, sizeof(*t->now));
	}
	for (i = 0; i < t->n; i++) {
		t->sfds[i] = t->v[i]->sfd;
		t->hfds[i] = t->v[i]->hfd;
	}
	if (!t->reader)
		t->reader = stat_reader_new();
	stat_reader_run(t->reader, t->sfds, t->hfds, t->n, t->now);
	for (i = 0; i < t->n; i++) {
		struct proc *p = t->v[i];
		const struct stat_read *now = &t->now[i];
		size_t len = now->len > 0 ? (size_t)now->len : 0;

		p->marks = 0;
		t->st.checked++;
		if (len == 0 && now->err == ESRCH) {
			p->marks = M_DEAD;
			continue;
		}
		if (len == 0)
			return 1;
		if (len != p->stat_len || memcmp(now->text, p->stat, len)) {
			memcpy(p->stat, now->text, len);
			p->stat_len = len;
			p->marks |= M_RESCAN;
		}
		if (!p->single || p->shared || p->oncpu)
			p->marks |= M_RESCAN;
		t->st.oncpu += p->oncpu;
	}
	return 0;
}

/* Drops the processes that went away; their children (if alive) are found again under
 * their new parent, so the reapers' children lists are queued (enqueue_reapers). 1 when
 * init is gone. */
static int drop_dead(struct ident_procs *t)
{
	size_t i, guard;

	for (i = 0; i < t->n; i++) {
		struct proc *a = t->v[i];

		if (!(a->marks & M_DEAD))
			continue;
		if (a->pid == t->init_pid)
			return 1;
		if (t->init_reaps_all) {
			a = procs_find(t, t->init_pid);
			if (a)
				a->marks |= M_UP;
			continue;
		}
		for (guard = t->n; guard > 0 && a->pid != t->init_pid; guard--) {
			a = procs_find(t, a->parent);
			if (!a)
				break;
			a->marks |= M_UP;
		}
	}
	for (i = 0; i < t->n;)
		if (t->v[i]->marks & M_DEAD)
			procs_remove_at(t, i);
		else
			i++;
	/* before any pid is added again: a reused pid must not become someone's child */
	for (i = 0; i < t->n; i++)
		if (t->v[i]->parent && !procs_find(t, t->v[i]->parent))
			t->v[i]->parent = 0;
	return 0;
}

static void scan_full(struct ident_procs *t, struct proc *p)
{
	scan_tasks(p);
	scan_fds(p);
	/* after the fds: exe still there means the mm, and so the files (released later in
	 * an exit), were there while the table was read */
	scan_exe(p);
	if (p->no_exe && !p->single)
		scan_thread_fds(p);
	t->st.rescanned++;
}

/*
 * Whether p may be on a CPU now, read after its fd table and children: schedstat's count of
 * times scheduled in does not change while a process stays on a CPU, nor its run time until
 * the next tick, so such a process is read again at the next lookup. /proc/<pid>/wchan is
 * "0" unless the process is blocked and off the run queue (including the moment it set
 * itself to sleep but still runs): a blocked one must be scheduled in to run again, and its
 * run time since the schedstat read was added when it blocked. A single-threaded process
 * without an exe (a zombie, or past the release of its memory) runs no code of its own.
 */
static bool may_be_running(struct proc *p)
{
	char path[64], w[64];
	ssize_t n = -1;
	int fd;

	if (p->no_exe && p->single)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)p->pid);
	fd = open_cloexec(path, O_RDONLY);
	if (fd >= 0) {
		do
			n = read(fd, w, sizeof(w) - 1);
		while (n < 0 && errno == EINTR);
		close(fd);
	}
	return n <= 0 || (n == 1 && w[0] == '0');
}

static int drain(struct ident_procs *t)
{
	size_t budget = 4 * t->max + 64; /* a fork loop must not keep the lookup here */

	while (t->qhead < t->qlen) {
		struct proc *p = t->q[t->qhead++];

		if (budget-- == 0)
			return 1;

		p->marks &= ~M_QUEUED;
		if (p->marks & M_RESCAN) {
			p->marks &= ~M_RESCAN;
			scan_full(t, p);
		} else {
			t->st.reread++;
		}
		if (read_children(t, p) > 0 || (p->marks & M_ERROR))
			return 1;
		if (p->marks & M_FRESH)
			p->oncpu = may_be_running(p);
	}
	return 0;
}

/* Marks p and every tracked process with p's fd table shared. Only processes running one
 * binary can share one: exec gives a process a table of its own. */
static void compare_files(struct ident_procs *t, size_t i)
{
	struct proc *p = t->v[i];
	size_t j;

	for (j = 0; j < t->n; j++) {
		struct proc *o = t->v[j];
		long r;

		/* two candidates are compared once */
		if (j == i || (j < i && (o->marks & M_KCMP)) || o->exe_ino != p->exe_ino ||
		    o->exe_dev != p->exe_dev)
			continue;
		r = syscall(SYS_kcmp, p->pid, o->pid, KCMP_FILES, 0, 0);
		t->st.compared++;
		if (r == 0 || (r < 0 && errno != ESRCH)) /* cannot tell: as if shared */
			p->shared = o->shared = true;
	}
}

/* -1, 0 or 1 by the kernel's order of a's and b's fd tables (kcmp orders them, equal when
 * shared); 2 when kcmp cannot tell. */
static int files_order(struct ident_procs *t, const struct proc *a, const struct proc *b)
{
	long r = syscall(SYS_kcmp, a->pid, b->pid, KCMP_FILES, 0, 0);

	t->st.compared++;
	if (r == 0)
		return 0;
	if (r == 1)
		return -1;
	return r == 2 ? 1 : 2;
}

/* Merge sort of v[0..n) by fd table (tmp: n entries); false when a comparison failed. */
static bool sort_by_files(struct ident_procs *t, struct proc **v, struct proc **tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j = mid, k = 0;

	if (n < 2)
		return true;
	if (!sort_by_files(t, v, tmp, mid) || !sort_by_files(t, v + mid, tmp, n - mid))
		return false;
	while (i < mid && j < n) {
		int o = files_order(t, v[i], v[j]);

		if (o == 2)
			return false;
		tmp[k++] = o <= 0 ? v[i++] : v[j++];
	}
	while (i < mid)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
	return true;
}

/* The processes g[0..m) run one binary. Few marked: each is compared with the others (m
 * calls each). Many (a burst of new processes): the group is sorted by fd table, so sharers
 * end up side by side (m log m calls instead of m * marked); a failed comparison falls back
 * to pairs. */
static void compare_group(struct ident_procs *t, struct proc **g, size_t m, struct proc **tmp)
{
	size_t i, marked = 0, log2m = 0;

	for (i = 0; i < m; i++)
		marked += (g[i]->marks & M_KCMP) != 0;
	while (((size_t)1 << log2m) < m)
		log2m++;
	if (marked > log2m + 1 && sort_by_files(t, g, tmp, m)) {
		for (i = 1; i < m; i++) {
			int o = files_order(t, g[i - 1], g[i]);

			if (o == 0 || o == 2) /* cannot tell: as if shared */
				g[i - 1]->shared = g[i]->shared = true;
		}
		return;
	}
	for (i = 0; i < m; i++)
		if (g[i]->marks & M_KCMP)
			compare_files(t, procs_index(t, g[i]->pid));
}

static int by_exe(const void *a, const void *b)
{
	const struct proc *x = *(struct proc *const *)a, *y = *(struct proc *const *)b;

	if (x->exe_dev != y->exe_dev)
		return x->exe_dev < y->exe_dev ? -1 : 1;
	if (x->exe_ino != y->exe_ino)
		return x->exe_ino < y->exe_ino ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* compare_group for each binary that has a marked process. */
static void compare_groups(struct ident_procs *t)
{
	struct proc **v = xreallocarray(NULL, t->n ? t->n : 1, sizeof(*v));
	struct proc **tmp = xreallocarray(NULL, t->n ? t->n : 1, sizeof(*tmp));
	size_t i, n = 0, start;

	for (i = 0; i < t->n; i++)
		if (t->v[i]->exe_ino)
			v[n++] = t->v[i];
	qsort(v, n, sizeof(*v), by_exe);
	for (start = 0; start < n; start = i) {
		for (i = start + 1; i < n && v[i]->exe_dev == v[start]->exe_dev &&
				    v[i]->exe_ino == v[start]->exe_ino;
		     i++)
			;
		compare_group(t, v + start, i - start, tmp);
	}
	free(v);
	free(tmp);
}

/* A table gains a sharer only when a process that shares it clones (CLONE_FILES): the new
 * process is compared with those running the same binary, and so is one that exec'd (its
 * binary, thus who it is compared with, changed). Known sharers are compared again each
 * time, so that they stop being re-read once they no longer share. */
static void find_shared(struct ident_procs *t)
{
	size_t i, marked = 0;

	for (i = 0; i < t->n; i++) {
		struct proc *p = t->v[i];

		if ((p->marks & (M_NEW | M_EXE)) || p->shared) {
			p->marks |= M_KCMP;
			p->shared = false;
			marked++;
		}
	}
	if (marked == 0) /* nothing new, exec'd or sharing: no table can be shared */
		return;
	compare_groups(t);
	/* an idle process found sharing: what the others did shows in its table too */
	for (i = 0; i < t->n; i++)
		if (t->v[i]->shared && !(t->v[i]->marks & M_FRESH)) {
			scan_fds(t->v[i]);
			t->st.rescanned++;
		}
}

/* Drops what is no longer init's descendant: lost children (an orphan that went to a
 * reaper outside the table), their descendants, and new entries not confirmed by their
 * parent (a pid reused between the children read and the schedstat open). */
static void sweep(struct ident_procs *t)
{
	bool again = true;
	size_t i;

	while (again) {
		again = false;
		for (i = 0; i < t->n;) {
			const struct proc *p = t->v[i];

			if (p->pid == t->init_pid ||
			    (p->parent && procs_find(t, p->parent) &&
			     (!(p->marks & M_NEW) || (p->marks & M_CONFIRMED)))) {
				i++;
				continue;
			}
			procs_remove_at(t, i);
			again = true;
		}
	}
}

static int update_once(struct ident_procs *t)
{
	struct proc *init;
	size_t i;

	t->qhead = t->qlen = 0;
	if (t->n == 0) {
		init = proc_new(t->init_pid);
		if (!init)
			return 1;
		init->marks = M_NEW | M_RESCAN;
		procs_insert(t, init);
		t->st.added++;
	} else if (check_all(t) > 0 || drop_dead(t) > 0) {
		return 1;
	}
	for (i = 0; i < t->n; i++) {
		struct proc *p = t->v[i];

		if (p->marks & (M_RESCAN | M_UP))
			enqueue(t, p);
		if (p->marks & M_RESCAN)
			enqueue_reapers(t, p);
	}
	if (t->reread_init && (init = procs_find(t, t->init_pid)))
		enqueue(t, init);
	t->reread_init = false;
	if (drain(t) > 0)
		return 1;
	find_shared(t);
	for (i = 0; i < t->n; i++)
		if (t->v[i]->marks & M_ERROR)
			return 1;
	sweep(t);
	return 0;
}

/* 1 when init's children list names a process the table does not have: an orphan that
 * arrived while the lookup read the others; -1 when it cannot be read (or init is gone). */
static int init_gained(struct ident_procs *t)
{
	const struct proc *init = procs_find(t, t->init_pid);
	size_t i;

	for (i = 0; init && i < init->n_tids; i++) {
		char *s;
		pid_t c;

		if (read_children_file(t, init->pid, init->tids[i]) < 0)
			return -1;
		for (s = t->buf; (c = next_child(&s));)
			if (!procs_find(t, c))
				return 1;
	}
	return init ? 0 : -1;
}

/*
 * The table brought up to date. A lookup reads processes one after another, not at one
 * instant: a process read late may exit after init's list was read, and its children (one
 * of them may hold the socket, which it passed on) arrive under init unseen. With only init
 * reaping, its list is read once more at the end; when it gained a process, the lookup
 * starts again (a few times at most; then the lookup is denied as unstable).
 */
static int update(struct ident_procs *t)
{
	size_t restarts;
	int pass;

	for (pass = 0; pass < PASSES; pass++) {
		int gained;

		restarts = t->st.restarts;
		memset(&t->st, 0, sizeof(t->st));
		t->st.restarts = restarts;
		if (update_once(t) > 0)
			return 1;
		if (!t->init_reaps_all)
			return 0;
		gained = init_gained(t);
		if (gained <= 0)
			return gained < 0; /* unreadable: a full scan, which says why */
		t->st.restarts++;
	}
	/* the table is whole but for those orphans: keep it, read init first next time */
	t->reread_init = true;
	t->unstable = true;
	return 1;
}

/* Once per init: the kernel accounts run time, has kcmp and children files; fds allowed. */
static int probe(struct ident_procs *t)
{
	struct stat_read self = { .len = -1 };
	char path[96];
	struct rlimit rl;
	int fd;

	fd = open("/proc/self/schedstat", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		stat_read_one(fd, &self);
		close(fd);
	}
	/* "0 0 0": schedstat without accounting (old kernels without sched_info) */
	if (self.len <= 0 || self.text[0] == '0')
		return -1;
	if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILES, 0, 0) != 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)t->init_pid,
		 (int)t->init_pid);
	if (access(path, R_OK) < 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = { rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	t->max = rl.rlim_cur / 4 < PROCS_MAX ? (size_t)(rl.rlim_cur / 4) : PROCS_MAX;
	return t->max >= 16 ? 1 : -1;
}

static bool holds(const struct proc *p, uint64_t ino)
{
	size_t i;

	for (i = 0; i < p->n_socks; i++)
		if (p->socks[i] == ino)
			return true;
	return false;
}

int ident_procs_owners(struct ident_procs *t, uint64_t ino, struct ident_owners *s)
{
	size_t i;

	memset(&t->st, 0, sizeof(t->st));
	if (t->init_pid != s->init_pid) {
		procs_clear(t);
		t->init_pid = s->init_pid;
		t->avail = 0;
		t->cooldown = 0;
	}
	if (t->avail == 0)
		t->avail = probe(t);
	if (t->avail < 0)
		return 1;
	if (t->cooldown > 0) {
		t->cooldown--;
		return 1;
	}
	t->unstable = false;
	if (update(t) > 0) {
		if (t->unstable) { /* a full scan would race the same way: deny */
			s->unstable = true;
			if (!t->reread_init) /* gave up halfway: read it all again */
				procs_clear(t);
			return 0;
		}
		if (t->n >= t->max)
			t->cooldown = COOLDOWN;
		procs_clear(t);
		return 1;
	}
	/* as the full scan: init may be unreadable; the lowest hidden pid is reported */
	for (i = 0; i < t->n; i++) {
		const struct proc *p = t->v[i];

		if (p->hidden && p->pid != s->init_pid && !s->hidden)
			s->hidden = p->pid;
		if (holds(p, ino))
			ident_owners_add(s, p->pid);
	}
	t->st.incremental = true;
	t->st.tracked = t->n;
	return 0;
}
