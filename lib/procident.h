/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who is behind a proxy connection (reference/policy.md §4.2): the socket inode from the
 * sandbox's /proc/<init>/net/tcp{,6}, every process holding it, the binary (exe), its
 * ancestors, absolute argv entries, and a trust-on-first-use SHA-256 of every binary involved.
 * DESIGN §7 goes further: a caller that maps executable code from a path the sandbox can write
 * is not the binary the policy trusts. Reads the host's /proc; paths are as the sandboxed
 * process sees them (after its pivot_root). Not thread-safe: one cache per supervisor loop.
 */
#ifndef OS_PROCIDENT_H
#define OS_PROCIDENT_H

#include "err.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define IDENT_MAX_ANCESTORS 64
#define IDENT_MAX_CMDLINE   64
#define IDENT_MAX_OWNERS    16
/* A full cache denies new binaries rather than evicting: eviction would let a sandbox flush
 * the pinned hashes by running many binaries, then swap an allowed one. */
#define IDENT_CACHE_MAX 16384

/* TOFU cache: display path -> (size, mtime, ctime, dev, ino) fingerprint and SHA-256. */
struct ident_cache;
struct ident_cache *ident_cache_new(void);
void ident_cache_free(struct ident_cache *c);
/* Number of pinned binaries. */
size_t ident_cache_count(const struct ident_cache *c);
/*
 * Verifies the file open at fd (read from offset 0 with pread), known as path: an unchanged
 * fingerprint reuses the cached hash, a changed one re-hashes. A hash that differs from the
 * pinned one fails with "binary integrity check failed: Binary integrity violation: <path>
 * hash changed (cached: H1, current: H2)" and keeps the old pin. hex gets the lowercase hash.
 */
int ident_cache_check(struct ident_cache *c, const char *path, int fd, char hex[65], struct err *e);

/*
 * Lookups ask fd, a NETLINK_SOCK_DIAG socket made in the sandbox's network namespace
 * (lib/sockdiag.h), for the caller's socket inode: one hash lookup in the kernel instead of
 * reading /proc/<init>/net/tcp{,6}, which prints every socket of the namespace. When it
 * fails (no sock_diag in the kernel, no such socket) the tables are read as before. -1
 * (the default): always the tables. The cache does not own fd.
 */
void ident_cache_set_sock_diag(struct ident_cache *c, int fd);

/*
 * Lookups read each process's fd table through /proc/<pid>/fd (through its other threads
 * once its main thread exited): a thread with an fd table of its own (clone with
 * CLONE_THREAD but not CLONE_FILES, unshare(CLONE_FILES)) would go unseen. The sandbox's
 * seccomp filter denies both (sandbox/jail_seccomp.c).
 *
 * For a sandbox whose every process runs under a seccomp filter that denies clone with
 * CLONE_PARENT and prctl(PR_SET_CHILD_SUBREAPER) (sandbox/jail_seccomp.c): a process then
 * appears under a parent that did not run only as an orphan, and orphans all go to init. A
 * lookup then re-reads init's children list instead of those of all the ancestors of every
 * process that ran (the parent of the caller may have thousands of children). Off by
 * default; never on elsewhere: a CLONE_PARENT sibling, or an orphan handed to a subreaper,
 * that holds the socket would go unseen.
 */
void ident_cache_set_init_reaps_all(struct ident_cache *c, bool on);

/* What the last ident_lookup did to find the socket's owners, for tests and diagnostics. */
struct ident_scan_stats {
	bool sock_diag;	  /* the socket inode came from sock_diag, not the tcp tables */
	bool incremental; /* answered from the process table; false: a full /proc scan */
	size_t tracked;	  /* processes in the table after the lookup */
	size_t checked;	  /* schedstat reads */
	size_t rescanned; /* processes whose fd table (and threads, children) were re-read */
	size_t reread;	  /* children lists re-read without the fd table (ancestors) */
	size_t added, dropped;
	size_t compared; /* kcmp calls (processes that may share one fd table) */
	size_t oncpu;	 /* read again: maybe on a CPU after their last scan (wchan "0") */
	size_t restarts; /* init gained an orphan while the lookup read: read again */
};
void ident_cache_scan_stats(const struct ident_cache *c, struct ident_scan_stats *st);

struct ident {
	pid_t pid;	    /* the caller, host pid (the lowest among equal owners) */
	char exe[PATH_MAX]; /* readlink /proc/<pid>/exe, as seen inside the sandbox */
	char sha256[65];    /* of the caller's exe, lowercase hex */
	char *ancestors[IDENT_MAX_ANCESTORS]; /* parents' exe, nearest first, up to init/pid 1 */
	size_t n_ancestors;
	char *cmdline[IDENT_MAX_CMDLINE]; /* absolute argv entries; informational, never grant */
	size_t n_cmdline;
};
void ident_release(struct ident *id);
/* Same exe, hash and ancestor chain (the reference's "identities differ" test). */
bool ident_same(const struct ident *a, const struct ident *b);

/* The writable paths of the sandbox as it sees them ("/sandbox", "/tmp", "/dev/shm"). */
struct ident_writable {
	const char *const *paths;
	size_t n;
};

/*
 * Identifies the process behind conn_fd, a connection accepted on the listener that the
 * sandbox's init (host pid init_pid) created in the sandbox's network namespace. Returns 0 and
 * fills out (release it with ident_release), or -1 with e->msg holding the deny reason, e.g.
 * "ambiguous shared socket ownership" or "process 42 is not dumpable; its sockets cannot be
 * attributed". A sandbox process (other than init) whose fd table cannot be read makes every
 * lookup fail: it could hold any socket, so no owner can be proven to be the only one.
 * The owners come from a table of the sandbox's processes kept in c (procident_procs.c): a
 * process that has not run since the last lookup is not re-read. The table keeps two fds
 * per process open (on /proc/<pid>/schedstat); the first lookup raises RLIMIT_NOFILE's soft
 * limit to the hard one, and the table holds at most min(4096, that limit / 4) processes
 * (beyond: full scans, as ident_socket_owners). From 32 processes on, a helper thread of the
 * cache shares those reads (procident_reader.c); the lookup never waits for it.
 */
int ident_lookup(struct ident_cache *c, pid_t init_pid, int conn_fd, const struct ident_writable *w,
		 struct ident *out, struct err *e);

/* The steps of ident_lookup, for callers that already know part of the answer. */
/* Inode of the caller's socket: the entry whose local end is peer and remote end is local
 * (the proxy's address), IPv4-mapped IPv6 treated as IPv4. */
int ident_socket_inode(pid_t init_pid, const struct sockaddr *peer, const struct sockaddr *local,
		       uint64_t *ino, struct err *e);
/* Every process holding socket:[ino]: init_pid's descendants through task/<tid>/children, or,
 * without those files, every /proc entry in init_pid's pid namespace. *n is the count found
 * (at most max, sorted ascending); 0 owners fails with the reason. A full scan every call
 * (no table): ident_lookup gives the same answer faster. */
int ident_socket_owners(pid_t init_pid, uint64_t ino, pid_t *owners, size_t max, size_t *n,
			struct err *e);
/* exe, hash, maps check, ancestors (each verified) and cmdline of one process. */
int ident_of_pid(struct ident_cache *c, pid_t init_pid, pid_t pid, const struct ident_writable *w,
		 struct ident *out, struct err *e);
/* Fails when pid maps executable code from a writable path (w may be NULL), from a memfd, or
 * from a deleted file that was under a writable path. Its own exe is exempt: the mappings
 * of file exe_dev/exe_ino (its st_dev, st_ino) or, for overlayfs, whose path is exe. */
int ident_check_maps(pid_t pid, const char *exe, dev_t exe_dev, ino_t exe_ino,
		     const struct ident_writable *w, struct err *e);

/* Pure parsers, exposed for the tests. */
/* The PPid: value of a /proc/<pid>/status text; -1 when absent. */
int ident_parse_ppid(const char *status, pid_t *ppid);
struct ident_map {
	bool exec;
	unsigned dev_major, dev_minor;
	uint64_t ino;
	const char *path; /* into the line, "" when anonymous; newline stripped */
};
/* One /proc/<pid>/maps line (modified in place: the trailing newline is cut). */
int ident_parse_maps_line(char *line, struct ident_map *m);
/* The writable path that contains path ("/" contains everything), or NULL. */
const char *ident_writable_match(const char *path, const struct ident_writable *w);

#endif
