/* SPDX-License-Identifier: Apache-2.0 */
/* Help text from the same tables the parser reads, so the two never drift. */
#include "help.h"
#include "lib/util.h"

#include <bearssl.h>
#include <seccomp.h>
#include <sqlite3.h>
#include <string.h>
#include <yaml.h>

#ifndef OS_BEARSSL_VERSION
#define OS_BEARSSL_VERSION "0.6 (system library)"
#endif

static bool has_visible_opts(const struct opt *o)
{
	return o && o->long_name;
}

void help_usage_line(const struct cmd *c, const char *path, char *dst, size_t n)
{
	if (c->subs)
		snprintf(dst, n, "usage: %s [OPTIONS] <COMMAND>", path);
	else
		snprintf(dst, n, "usage: %s%s%s%s", path, has_visible_opts(c->opts) ? " [OPTIONS]" : "",
			 c->args_usage ? " " : "", c->args_usage ? c->args_usage : "");
}

static void heading(FILE *f, struct cli *cli, const char *h)
{
	fprintf(f, "\n%s%s%s\n", ui_bold(cli), h, ui_reset(cli));
}

static void print_opts(FILE *f, const struct opt *o)
{
	for (; o && o->long_name; o++) {
		char left[64];
		size_t i;

		snprintf(left, sizeof(left), "%s%c%s--%s%s%s", o->short_name ? "-" : " ",
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->long_name,
			 o->metavar ? " " : "", o->metavar ? o->metavar : "");
		fprintf(f, "  %-28s %s", left, o->help ? o->help : "");
		if (o->choices) {
			fputs(" [", f);
			for (i = 0; o->choices[i]; i++)
				fprintf(f, "%s%s", i ? ", " : "", o->choices[i]);
			fputc(']', f);
		}
		if (o->defval)
			fprintf(f, " [default: %s]", o->defval);
		if (o->env)
			fprintf(f, " [env: %s]", o->env);
		fputc('\n', f);
	}
}

static void print_subs(FILE *f, const struct cmd *group)
{
	const struct cmd *c;

	for (c = group->subs; c->name; c++) {
		char left[64];

		if (c->flags & CMD_HIDDEN)
			continue;
		snprintf(left, sizeof(left), "%s%s%s", c->name, c->args_usage && !c->subs ? " " : "",
			 c->args_usage && !c->subs ? c->args_usage : "");
		if (strlen(left) > 24)
			fprintf(f, "  %s\n  %-24s %s\n", left, "", c->summary);
		else
			fprintf(f, "  %-24s %s\n", left, c->summary);
	}
}

void help_print(FILE *f, struct cli *cli, const struct cmd *c, const char *path)
{
	char usage[512];
	const char *const *a;

	fprintf(f, "%s\n", c->summary);
	heading(f, cli, "USAGE");
	help_usage_line(c, path, usage, sizeof(usage));
	fprintf(f, "  %s\n", usage + strlen("usage: "));
	if (c->description)
		fprintf(f, "\n%s\n", c->description);
	if (c->subs) {
		heading(f, cli, "COMMANDS");
		print_subs(f, c);
	}
	if (c->aliases && c->aliases[0]) {
		heading(f, cli, "ALIASES");
		fputs(" ", f);
		for (a = c->aliases; *a; a++)
			fprintf(f, " %s", *a);
		fputc('\n', f);
	}
	if (has_visible_opts(c->opts)) {
		heading(f, cli, "OPTIONS");
		print_opts(f, c->opts);
	}
	heading(f, cli, "GLOBAL OPTIONS");
	print_opts(f, cmd_global_opts);
	if (c->subs)
		fprintf(f, "\nRun '%s <COMMAND> --help' for more about a command.\n", path);
}

void help_version(FILE *f)
{
	const struct scmp_version *sv = seccomp_version();

	fprintf(f, "openshell %s\n", OPENSHELL_VERSION);
	fprintf(f, "  bearssl %s\n", OS_BEARSSL_VERSION);
	fprintf(f, "  libyaml %s\n", yaml_get_version_string());
	fprintf(f, "  sqlite %s\n", sqlite3_libversion());
	fprintf(f, "  libseccomp %u.%u.%u\n", sv->major, sv->minor, sv->micro);
}
