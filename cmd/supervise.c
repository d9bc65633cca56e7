/* SPDX-License-Identifier: Apache-2.0 */
/* `openshell supervise` (hidden): the per-sandbox supervisor the gateway starts. */
#include "cmd.h"
#include "sandbox_cmd.h"
#include "sandbox/supervisor.h"

const struct opt supervise_opts[] = {
	{ 0, "dir", OPT_STR, offsetof(struct supervise_args, dir), "DIR", "sandbox state dir",
	  NULL, NULL, 0, 0, NULL },
	{ 0, "socket", OPT_STR, offsetof(struct supervise_args, socket), "PATH",
	  "attach socket", NULL, NULL, 0, 0, NULL },
	{ 0, "id", OPT_STR, offsetof(struct supervise_args, id), "ID", "sandbox id", NULL, NULL,
	  0, 0, NULL },
	OPT_END,
};

int supervise_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct supervise_args *a = args;

	(void)cli;
	(void)argc;
	(void)argv;
	if (!a->dir || !a->socket || !a->id)
		return err_set(e, ERR_USAGE, 0, "--dir, --socket and --id are required");
	return supervise(a->dir, a->socket, a->id, e) < 0 ? -1 : 0;
}
