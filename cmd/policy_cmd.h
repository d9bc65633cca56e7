/* SPDX-License-Identifier: Apache-2.0 */
/* The policy group: local commands in cmd/policy.c, gateway ones in cmd/policy_remote.c. */
#ifndef OS_POLICY_CMD_H
#define OS_POLICY_CMD_H

#include "cmd.h"
#include "lib/buf.h"

#include <stdbool.h>
#include <stdint.h>

extern const struct cmd cmd_policy_subs[];

struct policy_set_args {
	const char *policy;
	bool wait;
	int64_t timeout;
};
struct policy_get_args {
	int64_t rev;
	const char *output;
};
struct policy_list_args {
	int64_t limit;
	const char *output;
};

extern const struct opt policy_set_opts[], policy_get_opts[], policy_list_opts[];
int policy_set_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);
int policy_get_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);
int policy_list_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);

/* Reads and validates a policy file for the gateway; prints every problem when it is
 * invalid (e then says so: ERR_USAGE for an unreadable file, ERR_INVALID otherwise). */
int policy_read_file(const char *file, struct buf *yaml, struct err *e);

#define POLICY_REMOTE_CMDS                                                                     \
	{ "set", NULL, "replace a sandbox's policy (the network part reloads live)",           \
	  "[NAME] --policy FILE",                                                              \
	  "Validates FILE, stores it as the sandbox's next revision and prints its version.\n" \
	  "The static sections (filesystem, landlock, process) may only add filesystem paths.\n"\
	  "--wait: exit 0 when the sandbox loaded it, 1 when it rejected it, 124 on timeout.",  \
	  policy_set_opts, sizeof(struct policy_set_args), 0, 1, policy_set_run, NULL, 0 },    \
	{ "get", NULL, "show a sandbox's policy (newest revision, or --rev N)", "[NAME]", NULL, \
	  policy_get_opts, sizeof(struct policy_get_args), 0, 1, policy_get_run, NULL, 0 },    \
	{ "list", NULL, "list a sandbox's policy revisions and their status", "[NAME]", NULL,  \
	  policy_list_opts, sizeof(struct policy_list_args), 0, 1, policy_list_run, NULL, 0 },

#endif
