/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files to a tar stream (lib/tar.h) and back, for `sandbox upload|download`. Neither
 * side follows a symbolic link below the top: links are archived as links, and the
 * extractor opens every directory of a path with O_NOFOLLOW from its root, so an entry
 * never writes through a link (one from the archive or one already on disk) and never
 * leaves the root. Regular files, directories and symbolic links only; modes (with the
 * umask applied, as tar does for a non-root user) and modification times are kept,
 * owners are not: files belong to whoever extracts them.
 */
#ifndef OS_TARFS_H
#define OS_TARFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "tar.h"

struct err;

struct tarfs_stats {
	uint64_t files, dirs, links, bytes, skipped;
	char first_skipped[256]; /* the first special file left out (fifo, socket, device) */
};

/*
 * Archives fs_path under the name `name` (a directory with everything below it as
 * name/...). name "" archives a directory's contents without an entry for itself.
 * follow_top: a symbolic link at fs_path itself is followed (as cp does for its
 * arguments). Special files are skipped and counted in st. -1 with e on a read error
 * or a sink error.
 */
int tarfs_add(struct tar_writer *w, const char *fs_path, const char *name, bool follow_top,
	      struct tarfs_stats *st, struct err *e);

struct tarfs_dir; /* private: a directory whose mode and time are set at the end */

struct tarfs_extract {
	/* private */
	int root_fd;
	const char *rename_to;  /* NULL, or the name the archive's single file gets */
	int fd, parent_fd;      /* the file being written, and its directory */
	char leaf[TAR_NAME_MAX + 1];
	struct buf path;        /* its archive path, for messages */
	unsigned mode;
	int64_t mtime;
	struct tarfs_dir *dirs;
	size_t n_dirs, cap_dirs, entries;
	mode_t umask;
	struct tarfs_stats st;
};

/*
 * Extraction under the open directory root_fd (borrowed). rename_to non-NULL: the
 * archive must hold exactly one regular file at its top level, written as rename_to.
 * Feed a tar_reader with tarfs_extract_ops and the struct as ctx, then call
 * tarfs_extract_finish (directory modes and times) and always tarfs_extract_release,
 * which removes a file left incomplete.
 */
void tarfs_extract_init(struct tarfs_extract *x, int root_fd, const char *rename_to);
extern const struct tar_ops tarfs_extract_ops;
int tarfs_extract_finish(struct tarfs_extract *x, struct err *e);
void tarfs_extract_release(struct tarfs_extract *x);

/*
 * Moves src (in directory sdfd) to dst (in ddfd), both single names: a rename when dst
 * does not exist or both are non-directories (a file replaces a file or link); two
 * directories merge recursively. A directory never replaces a non-directory nor the
 * other way round (ERR_EXISTS). `shown` names dst in messages.
 */
int tarfs_move(int sdfd, const char *src, int ddfd, const char *dst, const char *shown,
	       struct err *e);

#endif
