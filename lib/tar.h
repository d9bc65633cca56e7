/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A strict subset of the POSIX tar format (ustar headers, pax 'x' records, GNU 'L'/'K'
 * long names) for `sandbox upload|download`: regular files, directories and symbolic
 * links with their permission bits and modification times. Nothing else: hard links,
 * devices, fifos, sparse files, owners and extended attributes are not carried.
 *
 * The writer streams into a sink callback. The reader is a push parser (bytes in any
 * split, callbacks out) that never buffers more than one header or one bounded pax
 * record, checks every header (checksum, magic, octal fields, sizes) and hands out only
 * normalised relative paths: no leading '/', no '.' or '..' component, no empty
 * component, at most TAR_PATH_MAX bytes and TAR_NAME_MAX per component. Whether a path
 * would write through a symbolic link is the extractor's business (lib/tarfs.h).
 */
#ifndef OS_TAR_H
#define OS_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct err;

#define TAR_BLOCK 512
#define TAR_PATH_MAX 4096          /* bytes of a path or a symlink target */
#define TAR_NAME_MAX 255           /* bytes of one path component */
#define TAR_META_MAX (64 * 1024)   /* bytes of one pax or GNU long-name record */
#define TAR_SIZE_MAX INT64_MAX

enum tar_type { TAR_FILE, TAR_DIR, TAR_SYMLINK };

struct tar_entry {
	enum tar_type type;
	const char *path; /* normalised relative path (reader); what to store (writer) */
	const char *link; /* TAR_SYMLINK: its target, verbatim; else NULL */
	uint64_t size;    /* TAR_FILE: bytes of content; else 0 */
	unsigned mode;    /* permission bits (07777 at most) */
	int64_t mtime;    /* seconds since the epoch */
};

/* ---- writer ------------------------------------------------------------------------------ */

/* Receives the archive's bytes; returns 0, or -1 with e filled (the writer stops). */
typedef int (*tar_sink_fn)(void *ctx, const void *p, size_t n, struct err *e);

struct tar_writer {
	/* private */
	tar_sink_fn sink;
	void *ctx;
	struct buf out;    /* up to TAR_FLUSH bytes before they go to the sink */
	uint64_t left;     /* content bytes the current file still owes */
	size_t pad;        /* zero bytes after it */
};

void tar_writer_init(struct tar_writer *w, tar_sink_fn sink, void *ctx);
void tar_writer_release(struct tar_writer *w);
/*
 * One entry's header (a pax record first when the path, the link or the size do not fit
 * ustar). A TAR_FILE header is followed by exactly en->size bytes through tar_write_data.
 * The path is stored as given (the caller makes it relative); -1 for an empty path, a
 * path or link over TAR_PATH_MAX, a previous file that is incomplete, or a sink error.
 */
int tar_write_header(struct tar_writer *w, const struct tar_entry *en, struct err *e);
int tar_write_data(struct tar_writer *w, const void *p, size_t n, struct err *e);
/* The two zero blocks that end an archive, then everything goes to the sink. */
int tar_write_end(struct tar_writer *w, struct err *e);

/* ---- reader ------------------------------------------------------------------------------ */

struct tar_ops {
	/* A new entry; en and its strings are valid during the call. */
	int (*entry)(void *ctx, const struct tar_entry *en, struct err *e);
	/* Content of the current TAR_FILE, in order, in pieces of any size. */
	int (*data)(void *ctx, const void *p, size_t n, struct err *e);
	/* The current TAR_FILE is complete (also after a file of size 0). */
	int (*file_end)(void *ctx, struct err *e);
};

struct tar_reader {
	/* private */
	const struct tar_ops *ops;
	void *ctx;
	int state;
	unsigned char block[TAR_BLOCK];
	size_t have;            /* bytes in block, or of the record in meta */
	uint64_t left;          /* content bytes of the current file or record */
	size_t pad;             /* padding still to skip */
	char meta_type;         /* 'x', 'g', 'L', 'K' while reading a record */
	struct buf meta;
	struct buf long_path, long_link; /* from 'L'/'K' or pax, for the next entry */
	bool has_path, has_link, has_size, has_mtime;
	uint64_t pax_size;
	int64_t pax_mtime;
	bool failed;
};

void tar_reader_init(struct tar_reader *r, const struct tar_ops *ops, void *ctx);
void tar_reader_release(struct tar_reader *r);
/* Feeds bytes. -1 on a malformed archive or a callback error (sticky: later calls fail). */
int tar_reader_feed(struct tar_reader *r, const void *p, size_t n, struct err *e);
/* At the end of the input: 0 when the end-of-archive blocks were seen, else "truncated". */
int tar_reader_finish(struct tar_reader *r, struct err *e);

/*
 * Normalises an archive path of n bytes into out (cap bytes): strips leading "./" and
 * trailing '/', collapses "//" and "/./". *out == '\0' for "." itself. -1 (ERR_INVALID)
 * for an absolute path, a '..' component, a NUL byte, or a path or component too long.
 */
int tar_path_normalise(const char *in, size_t n, char *out, size_t cap, struct err *e);

#endif
