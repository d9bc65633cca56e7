/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the gateway command files (gateway.c, gateway_life.c, gateway_info.c). */
#ifndef OS_GATEWAY_CMD_H
#define OS_GATEWAY_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmd.h"

struct gw_paths;
struct json;

struct gateway_start_args {
	const char *name, *bind, *cpus, *memory;
	int64_t port, max_sandboxes;
	bool plaintext, no_auth, recreate, yes;
	struct strlist sans;
};

struct gateway_name_args {
	const char *name;
	bool yes;
};

struct gateway_info_args {
	const char *name, *output;
};

struct status_args {
	const char *output;
};

struct gateway_update_args {
	const char *name, *cpus, *memory;
	int64_t max_sandboxes;
};

/* Stops the daemon holding p's lock: SIGTERM, wait, SIGKILL after 10 s. */
int gateway_stop_pid(struct cli *cli, const char *name, const struct gw_paths *p, pid_t pid,
		     struct err *e);
/* A local gateway's name from NAME, a numeric id, -g, the active gateway, or "openshell". */
int gateway_local_name(struct cli *cli, const char *given, char *dst, size_t n, struct err *e);

extern const struct opt gateway_start_opts[], gateway_run_opts[], gateway_stop_opts[],
	gateway_destroy_opts[], gateway_info_opts[], gateway_update_opts[];
/* gateway start without the summary (auto-bootstrap). */
int gateway_start_quiet(struct cli *cli, struct gateway_start_args *a, struct err *e);
int gateway_start_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);
int gateway_run_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);
int gateway_stop_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);
int gateway_destroy_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);
int gateway_info_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);
extern const struct opt status_opts[];
int status_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);
/* Prints v as pretty sorted JSON or as YAML (format "json" or "yaml"). */
void cmd_print_structured(const struct json *v, const char *format);
int gateway_update_run(struct cli *cli, void *args, int argc, char **argv, struct err *e);

#endif
