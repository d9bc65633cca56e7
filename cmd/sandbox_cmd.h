/* SPDX-License-Identifier: Apache-2.0 */
/* Declarations shared by cmd/sandbox.c, cmd/supervise.c and the root table. */
#ifndef OS_SANDBOX_CMD_H
#define OS_SANDBOX_CMD_H

#include "cmd.h"

#include <stdbool.h>
#include <stdint.h>

struct supervise_args {
	const char *dir, *socket, *id;
};

extern const struct opt supervise_opts[];
int supervise_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);

extern const struct cmd cmd_sandbox_subs[];

/* cmd/transfer.c: `sandbox upload NAME LOCAL [DEST]`, `sandbox download NAME PATH [DEST]`. */
int sandbox_upload_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);
int sandbox_download_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);

struct gw_target;
/* NAME (argv[0]) or the last-used sandbox of the gateway, announced on stderr. */
int sandbox_pick_name(const struct gw_target *t, int argc, char **argv, char *dst, size_t n,
		      struct err *e);

/* cmd/sandbox_from.c: --from VALUE as sent to the gateway (a canonical directory for a
 * local gateway, an absolute path for a remote one), or an error for image names,
 * Dockerfiles and paths that are not directories. */
int sandbox_from_arg(struct cli *cli, const char *value, char *dst, size_t n, struct err *e);

struct logs_args {
	int64_t lines;
	const char *since, *level, *source;
	bool tail;
};

extern const struct opt logs_opts[];
int logs_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);

#endif
