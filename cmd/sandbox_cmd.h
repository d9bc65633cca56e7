/* SPDX-License-Identifier: Apache-2.0 */
/* Declarations shared by cmd/sandbox.c, cmd/supervise.c and the root table. */
#ifndef OS_SANDBOX_CMD_H
#define OS_SANDBOX_CMD_H

#include "cmd.h"

struct supervise_args {
	const char *dir, *socket, *id;
};

extern const struct opt supervise_opts[];
int supervise_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);

extern const struct cmd cmd_sandbox_subs[];

#endif
