/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's side of `sandbox upload|download`. It runs in a child of the sandbox's
 * pid 1 (jail_init.c) that execs nothing: our own code, confined exactly as the agent
 * (Landlock domain, seccomp filter, uid 1000, mount namespace), on the session's pipes
 * as fds 0, 1 and 2. Files it writes belong to the sandbox's user; what it can read or
 * write is what the agent can.
 */
#ifndef OS_TRANSFER_H
#define OS_TRANSFER_H

#define TRANSFER_WORKDIR "/sandbox"

enum transfer_kind {
	TRANSFER_UPLOAD = 'u',      /* unpack the tar on stdin into directory path (mkdir -p) */
	TRANSFER_UPLOAD_FILE = 'U', /* the tar holds one file: into path when that is a
				     * directory, else written as path (its parent made) */
	TRANSFER_DOWNLOAD = 'd',    /* a tar of path to stdout; path must resolve (lexically
				     * and with realpath) inside TRANSFER_WORKDIR */
};

/*
 * path: absolute, relative to the workdir, or "~"/"~/..." for the workdir. Returns the
 * exit status: 0, or 1 after writing the error and, where there is one, a "hint: ..."
 * line to fd 2. Warnings (special files skipped) go to fd 2 as "warning: ..." lines.
 */
int transfer_run(enum transfer_kind kind, const char *path);

#endif
