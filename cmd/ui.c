/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Human-facing output: success/warning/info lines and errors. Glyphs and colours
 * only when the stream is a TTY and NO_COLOR is unset (cli->color_*).
 */
#include "cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ESC "\033["

static void line(FILE *f, bool color, const char *glyph, const char *style, const char *fmt,
		 va_list ap)
{
	if (color)
		fprintf(f, "%s%s" ESC "0m ", style, glyph);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

void ui_success(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line(stdout, cli->color_out, "✓", ESC "1;32m", fmt, ap);
	va_end(ap);
}

void ui_warn(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (cli->color_err) {
		line(stderr, true, "!", ESC "1;33m", fmt, ap);
	} else {
		fputs("warning: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

void ui_info(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line(stderr, cli->color_err, "→", ESC "36m", fmt, ap);
	va_end(ap);
}

void ui_error(struct cli *cli, const struct err *e)
{
	const char *red = cli->color_err ? ESC "1;31m" : "", *rst = cli->color_err ? ESC "0m" : "";
	const char *h = e->hint;

	fprintf(stderr, "%serror:%s %s", red, rst, e->msg[0] ? e->msg : "unknown error");
	if (e->sys)
		fprintf(stderr, ": %s", strerror(e->sys));
	fputc('\n', stderr);
	/* A hint may be a usage line followed by "\nhint: ..." (usage errors). */
	if (!*h)
		return;
	if (strncmp(h, "usage: ", 7) == 0)
		fprintf(stderr, "%s\n", h);
	else
		fprintf(stderr, "hint: %s\n", h);
}

const char *ui_bold(struct cli *cli)
{
	return cli->color_out ? ESC "1m" : "";
}

const char *ui_green(struct cli *cli)
{
	return cli->color_out ? ESC "32m" : "";
}

const char *ui_red(struct cli *cli)
{
	return cli->color_out ? ESC "31m" : "";
}

const char *ui_yellow(struct cli *cli)
{
	return cli->color_out ? ESC "33m" : "";
}

const char *ui_dim(struct cli *cli)
{
	return cli->color_out ? ESC "2m" : "";
}

const char *ui_reset(struct cli *cli)
{
	return cli->color_out ? ESC "0m" : "";
}
