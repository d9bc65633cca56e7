/* SPDX-License-Identifier: Apache-2.0 */
/* Help, usage lines and version text, generated from the command tables. */
#ifndef OS_HELP_H
#define OS_HELP_H

#include <stdio.h>

#include "cmd.h"

extern const struct opt cmd_global_opts[];
extern const struct cmd cmd_root;

/* "usage: openshell gateway add [OPTIONS] ENDPOINT" into dst. */
void help_usage_line(const struct cmd *c, const char *path, char *dst, size_t n);
void help_print(FILE *f, struct cli *cli, const struct cmd *c, const char *path);
void help_version(FILE *f);

#endif
