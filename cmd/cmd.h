/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command layer: a table of commands (cmd_root in cmd/commands.c), a declarative
 * option parser that fills each command's argument struct, help generated from the same
 * tables, and the dispatcher. Only this layer (and the gateway's HTTP layer and the log)
 * prints errors. Each cmd/<group>.c file defines its group's table and thin run
 * functions: parse (done here) -> call lib/gateway/sandbox code -> render.
 */
#ifndef OS_CMD_H
#define OS_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

enum opt_kind {
	OPT_FLAG,    /* bool */
	OPT_COUNT,   /* int, +1 per occurrence (-v -v) */
	OPT_STR,     /* const char * (last one wins) */
	OPT_INT,     /* int64_t within [min, max] */
	OPT_ENUM,    /* const char *, one of choices */
	OPT_STRLIST, /* struct strlist, every occurrence appended */
};

struct strlist {
	const char **v;
	size_t n;
};

struct opt {
	char short_name;            /* 0 = none */
	const char *long_name;      /* NULL terminates an array of options */
	enum opt_kind kind;
	size_t off;                 /* offsetof(struct <cmd>_args, field) */
	const char *metavar, *help;
	const char *const *choices; /* OPT_ENUM */
	const char *env;            /* fallback environment variable (blank ignored) */
	int64_t min, max;           /* OPT_INT range */
	const char *defval;         /* shown in help: "[default: 8080]" */
};

#define OPT_END { 0, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, 0, NULL }

struct cli;

enum cmd_flags {
	CMD_HIDDEN = 1 << 0,   /* internal modes: not listed in help */
	CMD_PASSTHRU = 1 << 1, /* stop at the first positional after the fixed ones (agent argv) */
};

struct cmd {
	const char *name;
	const char *const *aliases; /* NULL-terminated, may be NULL */
	const char *summary;        /* one line, lower-case start */
	const char *args_usage;     /* "ENDPOINT", "[NAME]", "-- CMD..." */
	const char *description;    /* optional longer text for --help */
	const struct opt *opts;     /* may be NULL */
	size_t args_size;           /* the struct the options fill (zeroed first) */
	int min_args, max_args;     /* positionals before "--"; max -1 = unlimited */
	/*
	 * Returns the process exit status (>= 0), or -1 with e filled (the dispatcher
	 * prints it and exits 1, 2 for ERR_USAGE, 124 for ERR_TIMEOUT).
	 */
	int (*run)(struct cli *cli, void *args, int argc, char **argv, struct err *e);
	const struct cmd *subs;     /* a group: array ending with name == NULL */
	unsigned flags;
};

#define CMD_END { NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, 0 }

/* Global options, accepted before or after the subcommand. */
struct cli {
	const char *gateway;          /* -g/--gateway, OPENSHELL_GATEWAY */
	const char *gateway_endpoint; /* --gateway-endpoint, OPENSHELL_GATEWAY_ENDPOINT */
	int verbose;                  /* -v count */
	bool help, version;
	/* Filled by the dispatcher: */
	const char *path;             /* "openshell gateway add" for messages */
	const struct cmd *cmd;
	int dash_argc;                /* argv after "--" (or the passthrough command) */
	char **dash_argv;             /* NULL when there was none */
	bool stdout_tty, stderr_tty, stdin_tty;
	bool color_out, color_err;    /* TTY and NO_COLOR unset */
};

int cmd_main(int argc, char **argv);

/* Group tables, one per cmd/<group>.c. */
extern const struct cmd cmd_gateway_subs[];
extern const struct cmd cmd_doctor_subs[];
extern const struct cmd cmd_root_subs[];

/* Output helpers (cmd/ui.c): glyphs and colours only on a TTY without NO_COLOR. */
void ui_success(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ui_warn(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ui_info(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ui_error(struct cli *cli, const struct err *e);
/* Styled fragments for stdout ("" when colour is off). */
const char *ui_bold(struct cli *cli);
const char *ui_green(struct cli *cli);
const char *ui_red(struct cli *cli);
const char *ui_yellow(struct cli *cli);
const char *ui_dim(struct cli *cli);
const char *ui_reset(struct cli *cli);

/* Output format option shared by commands: "table" (default), "json", "yaml". */
extern const char *const cmd_output_choices[];
#define OPT_OUTPUT(T, field)                                                                  \
	{ 'o', "output", OPT_ENUM, offsetof(T, field), "FORMAT", "output format",            \
	  cmd_output_choices, NULL, 0, 0, "table" }

#endif
