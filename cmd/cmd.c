/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dispatcher: walks argv through the command tree, fills the global and the
 * command's option structs from their declarative tables, checks positionals, then
 * calls the command's run(). Every usage error exits 2 with the usage line and, where
 * one is close, a "did you mean" hint. Help comes from cmd/help.c (same tables).
 */
#include "cmd.h"
#include "help.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const cmd_output_choices[] = { "table", "json", "yaml", NULL };

const struct opt cmd_global_opts[] = {
	{ 'g', "gateway", OPT_STR, offsetof(struct cli, gateway), "NAME",
	  "registered gateway to use", NULL, "OPENSHELL_GATEWAY", 0, 0, NULL },
	{ 0, "gateway-endpoint", OPT_STR, offsetof(struct cli, gateway_endpoint), "URL",
	  "talk to this gateway URL directly", NULL, "OPENSHELL_GATEWAY_ENDPOINT", 0, 0, NULL },
	{ 'v', "verbose", OPT_COUNT, offsetof(struct cli, verbose), NULL,
	  "more output (repeat for more)", NULL, NULL, 0, 0, NULL },
	{ 'h', "help", OPT_FLAG, offsetof(struct cli, help), NULL, "print help", NULL, NULL, 0, 0,
	  NULL },
	{ 'V', "version", OPT_FLAG, offsetof(struct cli, version), NULL, "print version", NULL,
	  NULL, 0, 0, NULL },
	OPT_END,
};

const struct cmd cmd_root = {
	"openshell", NULL, "run AI agents in sandboxes that protect your files, credentials and network",
	"<COMMAND>", NULL, NULL, 0, 0, 0, NULL, cmd_root_subs, 0,
};

/* Parser state for one invocation. */
struct parse {
	struct cli *cli;
	const struct cmd *chain[8]; /* root ... current */
	int depth;
	void *args;
	char **pos;
	int npos;
	bool seen[64]; /* command options given on the command line (for env fallback) */
	bool gseen[8];
};

static const struct cmd *current(const struct parse *p)
{
	return p->chain[p->depth];
}

static void cmd_path(const struct parse *p, char *dst, size_t n)
{
	size_t len = 0;
	int i;

	dst[0] = '\0';
	for (i = 0; i <= p->depth; i++) {
		int r = snprintf(dst + len, n - len, "%s%s", i ? " " : "", p->chain[i]->name);

		if (r < 0 || (size_t)r >= n - len)
			break;
		len += (size_t)r;
	}
}

static int usage_error(struct parse *p, struct err *e, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int usage_error(struct parse *p, struct err *e, const char *hint, const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	e->code = ERR_USAGE;
	e->sys = 0;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	cmd_path(p, path, sizeof(path));
	help_usage_line(current(p), path, e->hint, sizeof(e->hint));
	if (hint) {
		size_t l = strlen(e->hint);

		snprintf(e->hint + l, sizeof(e->hint) - l, "\nhint: %s", hint);
	}
	return -1;
}

static const struct opt *find_long(const struct opt *opts, const char *name, size_t len)
{
	for (; opts && opts->long_name; opts++)
		if (strlen(opts->long_name) == len && !strncmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
	for (; opts && opts->long_name; opts++)
		if (opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

static bool takes_value(const struct opt *o)
{
	return o->kind != OPT_FLAG && o->kind != OPT_COUNT;
}

static int store(struct parse *p, const struct opt *o, void *base, const char *val,
		 const char *shown, struct err *e)
{
	char *field = (char *)base + o->off;
	int64_t n;
	size_t i;

	switch (o->kind) {
	case OPT_FLAG:
		*(bool *)field = true;
		return 0;
	case OPT_COUNT:
		(*(int *)field)++;
		return 0;
	case OPT_STR:
		*(const char **)field = val;
		return 0;
	case OPT_INT:
		if (parse_i64(val, o->min, o->max, &n) < 0)
			return usage_error(p, e, NULL,
					   "invalid value '%s' for '%s': expected an integer from %lld to %lld",
					   val, shown, (long long)o->min, (long long)o->max);
		*(int64_t *)field = n;
		return 0;
	case OPT_ENUM:
		for (i = 0; o->choices[i]; i++)
			if (!strcmp(o->choices[i], val)) {
				*(const char **)field = val;
				return 0;
			}
		{
			char list[256] = "";

			for (i = 0; o->choices[i]; i++) {
				strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
				strncat(list, o->choices[i], sizeof(list) - strlen(list) - 1);
			}
			return usage_error(p, e, NULL, "invalid value '%s' for '%s': expected one of %s",
					   val, shown, list);
		}
	case OPT_STRLIST: {
		struct strlist *l = (struct strlist *)field;

		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = val;
		return 0;
	}
	}
	return 0;
}

static void mark_seen(struct parse *p, const struct opt *o, const struct opt *table)
{
	size_t idx = (size_t)(o - table);

	if (table == cmd_global_opts) {
		if (idx < ARRAY_SIZE(p->gseen))
			p->gseen[idx] = true;
	} else if (idx < ARRAY_SIZE(p->seen)) {
		p->seen[idx] = true;
	}
}

static const char *closest_option(const struct parse *p, const char *name)
{
	static char best[64];
	const struct opt *tables[2] = { current(p)->opts, cmd_global_opts };
	int best_d = 3, t;

	best[0] = '\0';
	for (t = 0; t < 2; t++) {
		const struct opt *o;

		for (o = tables[t]; o && o->long_name; o++) {
			int d = edit_distance(name, o->long_name);

			if (d < best_d) {
				best_d = d;
				snprintf(best, sizeof(best), "did you mean '--%s'?", o->long_name);
			}
		}
	}
	return best[0] ? best : NULL;
}

/* Handles argv[*i], an option. May consume argv[*i + 1] as its value. */
static int parse_option(struct parse *p, int argc, char **argv, int *i, struct err *e)
{
	const char *arg = argv[*i];
	const struct opt *own = current(p)->subs ? NULL : current(p)->opts;

	if (arg[1] == '-') {
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct opt *o = find_long(own, name, len), *table = own;
		char shown[80];

		if (!o) {
			o = find_long(cmd_global_opts, name, len);
			table = cmd_global_opts;
		}
		if (!o) {
			char nm[64];

			snprintf(nm, sizeof(nm), "%.*s", (int)(len < 60 ? len : 60), name);
			return usage_error(p, e, closest_option(p, nm), "unknown option '--%s'", nm);
		}
		snprintf(shown, sizeof(shown), "--%s", o->long_name);
		mark_seen(p, o, table);
		if (!takes_value(o)) {
			if (eq)
				return usage_error(p, e, NULL, "option '%s' takes no value", shown);
			return store(p, o, table == own ? p->args : (void *)p->cli, NULL, shown, e);
		}
		if (eq)
			return store(p, o, table == own ? p->args : (void *)p->cli, eq + 1, shown, e);
		if (*i + 1 >= argc)
			return usage_error(p, e, NULL, "option '%s' needs a value (%s)", shown,
					   o->metavar ? o->metavar : "VALUE");
		(*i)++;
		return store(p, o, table == own ? p->args : (void *)p->cli, argv[*i], shown, e);
	}
	/* Short options, possibly bundled: -vv, -oyaml, -o yaml. */
	for (const char *c = arg + 1; *c; c++) {
		const struct opt *o = find_short(own, *c), *table = own;
		char shown[8];

		if (!o) {
			o = find_short(cmd_global_opts, *c);
			table = cmd_global_opts;
		}
		if (!o)
			return usage_error(p, e, NULL, "unknown option '-%c'", *c);
		snprintf(shown, sizeof(shown), "-%c", *c);
		mark_seen(p, o, table);
		void *base = table == own ? p->args : (void *)p->cli;

		if (!takes_value(o)) {
			if (store(p, o, base, NULL, shown, e) < 0)
				return -1;
			continue;
		}
		if (c[1])
			return store(p, o, base, c + 1, shown, e);
		if (*i + 1 >= argc)
			return usage_error(p, e, NULL, "option '%s' needs a value (%s)", shown,
					   o->metavar ? o->metavar : "VALUE");
		(*i)++;
		return store(p, o, base, argv[*i], shown, e);
	}
	return 0;
}

static const struct cmd *find_sub(const struct cmd *group, const char *name)
{
	const struct cmd *c;
	const char *const *a;

	for (c = group->subs; c->name; c++) {
		if (!strcmp(c->name, name))
			return c;
		for (a = c->aliases; a && *a; a++)
			if (!strcmp(*a, name))
				return c;
	}
	return NULL;
}

static int enter_sub(struct parse *p, const char *name, struct err *e)
{
	const struct cmd *sub = find_sub(current(p), name);

	if (!sub) {
		char hint[96] = "";
		const struct cmd *c;
		int best = 3;

		for (c = current(p)->subs; c->name; c++) {
			int d = edit_distance(name, c->name);

			if (!(c->flags & CMD_HIDDEN) && d < best) {
				best = d;
				snprintf(hint, sizeof(hint), "did you mean '%s'?", c->name);
			}
		}
		return usage_error(p, e, hint[0] ? hint : NULL, "unknown command '%s'", name);
	}
	if (p->depth + 1 >= (int)ARRAY_SIZE(p->chain))
		return usage_error(p, e, NULL, "command nesting too deep");
	p->chain[++p->depth] = sub;
	if (!sub->subs)
		p->args = xcalloc(1, sub->args_size ? sub->args_size : 1);
	return 0;
}

static int parse_argv(struct parse *p, int argc, char **argv, struct err *e)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cmd *c = current(p);

		if (!strcmp(a, "--")) {
			p->cli->dash_argc = argc - i - 1;
			p->cli->dash_argv = argv + i + 1;
			return 0;
		}
		if (a[0] == '-' && a[1]) {
			if (parse_option(p, argc, argv, &i, e) < 0)
				return -1;
			continue;
		}
		if (c->subs) {
			if (p->cli->help)
				continue; /* "openshell --help foo": help of the group */
			if (enter_sub(p, a, e) < 0)
				return -1;
			continue;
		}
		if ((c->flags & CMD_PASSTHRU) && c->max_args >= 0 && p->npos >= c->max_args) {
			p->cli->dash_argc = argc - i;
			p->cli->dash_argv = argv + i;
			return 0;
		}
		p->pos[p->npos++] = argv[i];
	}
	return 0;
}

/* Environment fallbacks for options not given; blank values are ignored (reference cli.md §2). */
static void apply_env(const struct opt *table, void *base, const bool *seen, size_t nseen)
{
	size_t i;

	for (i = 0; table && table[i].long_name && i < nseen; i++) {
		const char *v = table[i].env ? getenv(table[i].env) : NULL;

		if (seen[i] || !v || strspn(v, " \t") == strlen(v))
			continue;
		if (table[i].kind == OPT_STR || table[i].kind == OPT_ENUM)
			*(const char **)((char *)base + table[i].off) = v;
		else if (table[i].kind == OPT_INT)
			parse_i64(v, table[i].min, table[i].max, (int64_t *)((char *)base + table[i].off));
	}
}

static int check_positionals(struct parse *p, struct err *e)
{
	const struct cmd *c = current(p);

	if (p->npos < c->min_args)
		return usage_error(p, e, NULL, "missing argument %s", c->args_usage ? c->args_usage : "");
	if (c->max_args >= 0 && p->npos > c->max_args)
		return usage_error(p, e, NULL, "unexpected argument '%s'", p->pos[c->max_args]);
	if (p->cli->dash_argv && !(c->flags & CMD_PASSTHRU))
		return usage_error(p, e, NULL, "unexpected arguments after '--'");
	return 0;
}

static void init_cli(struct cli *cli)
{
	bool no_color = getenv("NO_COLOR") && *getenv("NO_COLOR");

	memset(cli, 0, sizeof(*cli));
	cli->stdin_tty = isatty(0);
	cli->stdout_tty = isatty(1);
	cli->stderr_tty = isatty(2);
	cli->color_out = cli->stdout_tty && !no_color;
	cli->color_err = cli->stderr_tty && !no_color;
}

static int exit_status(const struct err *e)
{
	if (e->code == ERR_USAGE)
		return 2;
	if (e->code == ERR_TIMEOUT)
		return 124;
	return 1;
}

static void free_args(const struct cmd *c, void *args)
{
	const struct opt *o;

	for (o = c->opts; args && o && o->long_name; o++)
		if (o->kind == OPT_STRLIST)
			free(((struct strlist *)((char *)args + o->off))->v);
	free(args);
}

int cmd_main(int argc, char **argv)
{
	struct err e = ERR_INIT;
	struct cli cli;
	struct parse p;
	char path[256];
	int ret = 1;

	init_cli(&cli);
	memset(&p, 0, sizeof(p));
	p.cli = &cli;
	p.chain[0] = &cmd_root;
	p.pos = xcalloc((size_t)argc + 1, sizeof(char *));
	if (parse_argv(&p, argc, argv, &e) < 0)
		goto fail;
	cmd_path(&p, path, sizeof(path));
	cli.path = path;
	cli.cmd = current(&p);
	if (cli.version) {
		help_version(stdout);
		ret = 0;
		goto out;
	}
	if (cli.help || current(&p)->subs) {
		help_print(stdout, &cli, current(&p), path);
		ret = 0;
		goto out;
	}
	apply_env(cmd_global_opts, &cli, p.gseen, ARRAY_SIZE(p.gseen));
	apply_env(current(&p)->opts, p.args, p.seen, ARRAY_SIZE(p.seen));
	if (check_positionals(&p, &e) < 0)
		goto fail;
	ret = current(&p)->run(&cli, p.args, p.npos, p.pos, &e);
	if (ret >= 0)
		goto out;
fail:
	ui_error(&cli, &e);
	ret = exit_status(&e);
out:
	if (!current(&p)->subs)
		free_args(current(&p), p.args);
	free(p.pos);
	return ret;
}
