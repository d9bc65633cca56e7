/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by procident.c, procident_cache.c and procident_procs.c; not part of the API. The
 * owner set and its verdict (one wording for the full scan and the process table), and the
 * process table that the ident cache owns.
 */
#ifndef OS_PROCIDENT_INT_H
#define OS_PROCIDENT_INT_H

#include "procident.h"

#include <sys/stat.h>

/* Processes holding one socket, as a scan finds them. */
struct ident_owners {
	pid_t init_pid;
	pid_t *owners; /* caller's array, max entries */
	size_t max, n;
	bool overflow, truncated;
	pid_t hidden; /* the first process (other than init) whose fd table we may not read */
	pid_t failed; /* the first process whose fd table or children could not be read */
	int failed_err;
	bool unstable; /* processes kept changing while they were read */
};
/* Records that pid holds the socket (duplicates ignored; past max sets overflow). */
void ident_owners_add(struct ident_owners *s, pid_t pid);
/* The deny reason of ident_socket_owners, or 0 with the owners sorted and *n set. */
int ident_owners_finish(struct ident_owners *s, uint64_t ino, size_t *n, struct err *e);

/* One schedstat read (procident_reader.c). */
#define STAT_MAX 128 /* a schedstat line: three decimal numbers */
struct stat_read {
	char text[STAT_MAX];
	ssize_t len; /* > 0 when read */
	int err;     /* errno of a failed read (EIO: empty); ESRCH: the process is gone */
};
/* pread of fd at 0 into out, EINTR retried. */
void stat_read_one(int fd, struct stat_read *out);
/* A helper thread that shares the reads of a lookup, started on first use. */
struct stat_reader;
struct stat_reader *stat_reader_new(void);
void stat_reader_free(struct stat_reader *r);
/* Reads fds[0..n) into out[0..n), with the helper when it is idle (it reads hfds[i]: the
 * same file as fds[i] opened again); returns once every item has a result read after the
 * call began, without waiting for the helper. */
void stat_reader_run(struct stat_reader *r, const int *fds, const int *hfds, size_t n,
		     struct stat_read *out);
/* Closes an hfd, at once or, while the helper may still read one of the last round, once
 * it is idle (r may be NULL). */
void stat_reader_close(struct stat_reader *r, int hfd);

/* The sandbox's processes as of the last lookup (procident_procs.c). */
struct ident_procs;
struct ident_procs *ident_procs_new(void);
void ident_procs_free(struct ident_procs *t);
/* The owners of socket ino from the table, brought up to date first: 0 (s filled, the
 * caller finishes it; s->unstable when processes kept changing under the lookup), or 1 when
 * the table cannot answer (no schedstat, kcmp or children files, too many processes, init
 * gone, a read failed): the caller does a full scan. */
int ident_procs_owners(struct ident_procs *t, uint64_t ino, struct ident_owners *s);
void ident_procs_stats(const struct ident_procs *t, struct ident_scan_stats *st);
/* The parent of pid as the table's children lists give it: 0, or -1 when pid is not in the
 * table or its parent is not known. */
int ident_procs_parent(const struct ident_procs *t, pid_t pid, pid_t *ppid);
/* See ident_cache_set_init_reaps_all. */
void ident_procs_set_init_reaps_all(struct ident_procs *t, bool on);

struct ident_procs *ident_cache_procs(struct ident_cache *c);
/* True (hex filled) when path is pinned with st's fingerprint: ident_cache_check would
 * reuse the pinned hash without reading the file. */
bool ident_cache_pinned(const struct ident_cache *c, const char *path, const struct stat *st,
			char hex[65]);
/* The sock_diag socket (-1: none, or found not to work); forget_sock_diag stops using it. */
int ident_cache_sock_diag(const struct ident_cache *c);
void ident_cache_forget_sock_diag(struct ident_cache *c);
/* Whether the last lookup's socket inode came from sock_diag. */
void ident_cache_note_sock_diag(struct ident_cache *c, bool used);

#endif
