/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File-system helpers: directories with a given mode, bounded whole-file reads,
 * atomic writes (temp file + fsync + rename + fsync of the directory), tree removal.
 */
#ifndef OS_FSUTIL_H
#define OS_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct err;
struct buf;

/* mkdir -p; newly made directories get mode. Existing ones are left as they are. */
int mkdir_p(const char *path, mode_t mode, struct err *e);
/* Reads at most max bytes; a larger file is an ERR_LIMIT error. */
int read_file(const char *path, size_t max, struct buf *out, struct err *e);
/* Writes path atomically with mode (temp in the same dir, fsync, rename, fsync dir). */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err *e);
/* The same rename without the fsyncs, for runtime state that means nothing after a power
 * loss (a supervisor's status, a cache): readers still see the old or the new content
 * whole, and a write costs no disk flush. */
int write_file_replace(const char *path, const void *data, size_t len, mode_t mode, struct err *e);
/* fsync of the directory that holds path (after a rename into it). */
int fsync_dir_of(const char *path);
/* rm -rf that never follows symlinks and stays on one file system. Missing path is fine. */
int remove_tree(const char *path, struct err *e);
bool path_exists(const char *path);
bool is_dir(const char *path);
/* "a" + "/" + "b" into dst; -1 with ERR_INVALID when it does not fit. */
int path_join(char *dst, size_t n, const char *a, const char *b, struct err *e);

#endif
