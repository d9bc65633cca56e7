/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `openshell logs [NAME]`: a sandbox's log (the gateway's lines about it and the
 * supervisor's own: start, proxy decisions, exits) in the reference's line format
 * (reference/cli.md §9); --tail keeps printing new lines until interrupted.
 */
#include "cmd.h"
#include "sandbox_cmd.h"
#include "gateway/sandboxes.h"
#include "lib/buf.h"
#include "lib/client.h"
#include "lib/json.h"
#include "lib/util.h"

#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_choices[] = { "error", "warn", "info", "debug", NULL };
static const char *const source_choices[] = { "gateway", "sandbox", "all", NULL };

const struct opt logs_opts[] = {
	{ 'n', "lines", OPT_INT, offsetof(struct logs_args, lines), "N", "number of lines", NULL,
	  NULL, 1, 10000, "200" },
	{ 0, "tail", OPT_FLAG, offsetof(struct logs_args, tail), NULL,
	  "keep printing new lines until interrupted", NULL, NULL, 0, 0, NULL },
	{ 0, "since", OPT_STR, offsetof(struct logs_args, since), "DURATION",
	  "only lines newer than this (30s, 5m, 1h)", NULL, NULL, 0, 0, NULL },
	{ 0, "level", OPT_ENUM, offsetof(struct logs_args, level), "LEVEL", "most verbose level shown",
	  level_choices, NULL, 0, 0, "debug" },
	{ 0, "source", OPT_ENUM, offsetof(struct logs_args, source), "SOURCE", "whose lines",
	  source_choices, NULL, 0, 0, "all" },
	OPT_END,
};

/* "30s", "5m", "1h" -> milliseconds (reference/cli.md §9). */
static int parse_duration(const char *s, int64_t *ms, struct err *e)
{
	char num[32];
	size_t n = strlen(s);
	int64_t v, unit;

	if (n < 2 || n >= sizeof(num) || !isdigit((unsigned char)s[0]))
		return err_set(e, ERR_USAGE, 0, "invalid duration '%s' (expected e.g. 5m, 1h, 30s)", s);
	switch (s[n - 1]) {
	case 's':
		unit = 1000;
		break;
	case 'm':
		unit = 60000;
		break;
	case 'h':
		unit = 3600000;
		break;
	default:
		return err_set(e, ERR_USAGE, 0, "unknown duration unit in '%s' (use s, m or h)", s);
	}
	snprintf(num, sizeof(num), "%.*s", (int)n - 1, s);
	if (parse_i64(num, 0, INT64_MAX / unit, &v) < 0)
		return err_set(e, ERR_USAGE, 0, "invalid duration '%s' (expected e.g. 5m, 1h, 30s)", s);
	*ms = v * unit;
	return 0;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_line(const struct json *l)
{
	const struct json *f = json_get(l, "fields");
	const char *keys[64];
	char level[8];
	int64_t ts = 0;
	size_t i, n = json_len(f) < 64 ? json_len(f) : 64;

	json_get_i64(l, "ts", &ts);
	snprintf(level, sizeof(level), "%s", json_get_str(l, "level", "info"));
	for (i = 0; level[i]; i++)
		level[i] = (char)toupper((unsigned char)level[i]);
	printf("[%lld.%03lld] [%-7s] [%-5s] [%s] %s", (long long)(ts / 1000), (long long)(ts % 1000),
	       json_get_str(l, "source", "gateway"), level, json_get_str(l, "target", ""),
	       json_get_str(l, "message", ""));
	for (i = 0; i < n; i++)
		keys[i] = json_key_at(f, i);
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (i = 0; i < n; i++)
		printf(" %s=%s", keys[i], json_get_str(f, keys[i], ""));
	putchar('\n');
}

/* Where printing got to: the newest timestamp and how many lines of it were printed
 * (several lines can share a millisecond). */
struct cursor {
	int64_t ts;
	size_t at_ts;
};

/* Prints the lines not printed yet and moves the cursor. */
static int fetch(const struct gw_target *t, const char *name, const char *query,
		 struct cursor *cur, struct err *e)
{
	struct client_resp r;
	char path[512];
	const struct json *lines;
	size_t i, seen_at_ts = 0;

	snprintf(path, sizeof(path), "/v1/sandboxes/%s/logs?%s", name, query);
	if (client_call(t, "GET", path, NULL, &r, e) < 0)
		return -1;
	lines = json_get(r.body, "lines");
	for (i = 0; i < json_len(lines); i++) {
		int64_t ts = 0;

		json_get_i64(json_at(lines, i), "ts", &ts);
		if (ts < cur->ts || (ts == cur->ts && ++seen_at_ts <= cur->at_ts))
			continue;
		print_line(json_at(lines, i));
		if (ts != cur->ts) {
			cur->ts = ts;
			cur->at_ts = 0;
			seen_at_ts = 1;
		}
		cur->at_ts++;
	}
	fflush(stdout);
	client_resp_release(&r);
	return 0;
}

int logs_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct logs_args *a = args;
	char name[SB_NAME_MAX + 1], query[256];
	struct gw_target t;
	struct cursor cur = { 0, 0 };
	int64_t since = 0;

	if (a->since && parse_duration(a->since, &since, e) < 0)
		return -1;
	if (since)
		since = now_wall_ms() - since;
	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0 ||
	    sandbox_pick_name(&t, argc, argv, name, sizeof(name), e) < 0)
		return -1;
	snprintf(query, sizeof(query), "lines=%lld&since=%lld&level=%s&source=%s",
		 (long long)(a->lines ? a->lines : 200), (long long)since, a->level ? a->level : "debug",
		 a->source ? a->source : "all");
	if (fetch(&t, name, query, &cur, e) < 0)
		return -1;
	while (a->tail) {
		poll(NULL, 0, 500);
		snprintf(query, sizeof(query), "lines=10000&since=%lld&level=%s&source=%s",
			 (long long)cur.ts, a->level ? a->level : "debug", a->source ? a->source : "all");
		if (fetch(&t, name, query, &cur, e) < 0)
			return -1;
	}
	return 0;
}
