// SPDX-License-Identifier: Apache-2.0
/*
 * `openshell policy set|get|list [NAME]`: a sandbox's policy revisions on the gateway
 * (reference/cli.md §4.7, reference/policy.md §8). Files are validated here first, so a
 * broken policy is reported with every problem before anything is sent.
 */
#include "policy_cmd.h"
#include "gateway_cmd.h"
#include "sandbox_cmd.h"
#include "gateway/sandboxes.h"
#include "lib/client.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/policy.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

const struct opt policy_set_opts[] = {
	{ 0, "policy", OPT_STR, offsetof(struct policy_set_args, policy), "FILE",
	  "the new policy (YAML)", NULL, NULL, 0, 0, NULL },
	{ 0, "wait", OPT_FLAG, offsetof(struct policy_set_args, wait), NULL,
	  "wait until the sandbox loaded (or rejected) it", NULL, NULL, 0, 0, NULL },
	{ 0, "timeout", OPT_INT, offsetof(struct policy_set_args, timeout), "SECONDS",
	  "how long --wait waits", NULL, NULL, 1, 3600, "60" },
	OPT_END,
};

const struct opt policy_get_opts[] = {
	{ 0, "rev", OPT_INT, offsetof(struct policy_get_args, rev), "N",
	  "this revision (0 = the newest)", NULL, NULL, 0, INT64_MAX, "0" },
	OPT_OUTPUT(struct policy_get_args, output),
	OPT_END,
};

const struct opt policy_list_opts[] = {
	{ 0, "limit", OPT_INT, offsetof(struct policy_list_args, limit), "N",
	  "at most N revisions, newest first", NULL, NULL, 1, 1000, "20" },
	OPT_OUTPUT(struct policy_list_args, output),
	OPT_END,
};

int policy_read_file(const char *file, struct buf *yaml, struct err *e)
{
	struct pol_policy p;
	struct pol_report r;
	struct buf text = BUF_INIT;
	int ret;

	if (read_file(file, POL_MAX_BYTES, yaml, e) < 0) {
		e->code = ERR_USAGE;
		return err_wrap(e, "cannot read policy file '%s'", file);
	}
	pol_report_init(&r);
	ret = pol_load(&p, file, yaml->p, yaml->len, &r);
	pol_report_format(&r, file, &text);
	fputs(text.p, stderr); /* warnings too */
	if (ret == 0) {
		pol_release(&p);
	} else {
		err_set(e, ERR_INVALID, 0, "policy file '%s' is not valid (%zu problem%s above)",
			file, r.n_errors, r.n_errors == 1 ? "" : "s");
		err_hint(e, "fix it and check with: openshell policy validate %s", file);
	}
	pol_report_release(&r);
	buf_release(&text);
	return ret;
}

static const char *short_hash(const struct json *o)
{
	static char h[13];

	snprintf(h, sizeof(h), "%s", json_get_str(o, "hash", ""));
	return h;
}

/* Polls the revision once a second (§8.3): 0 loaded or superseded, 1 failed, -1 timeout. */
static int wait_loaded(struct cli *cli, const struct gw_target *t, const char *name,
		       int64_t version, int64_t timeout, struct err *e)
{
	char path[160];
	int64_t deadline = now_mono_ms() + timeout * 1000;

	snprintf(path, sizeof(path), "/v1/sandboxes/%s/policy?rev=%lld", name, (long long)version);
	for (;;) {
		struct client_resp r;
		char status[16];

		if (client_call(t, "GET", path, NULL, &r, e) < 0)
			return -1;
		snprintf(status, sizeof(status), "%s", json_get_str(r.body, "status", ""));
		if (!strcmp(status, "FAILED"))
			fprintf(stderr, "error: policy version %lld failed to load: %s\n",
				(long long)version, json_get_str(r.body, "load_error", ""));
		client_resp_release(&r);
		if (!strcmp(status, "LOADED")) {
			ui_success(cli, "Policy version %lld loaded", (long long)version);
			return 0;
		}
		if (!strcmp(status, "SUPERSEDED")) {
			ui_warn(cli, "policy version %lld was superseded by a newer one", (long long)version);
			return 0;
		}
		if (!strcmp(status, "FAILED"))
			return 1;
		if (now_mono_ms() >= deadline)
			return err_set(e, ERR_TIMEOUT, 0, "policy version %lld was not loaded within %lld s",
				       (long long)version, (long long)timeout);
		usleep(200000);
	}
}

int policy_set_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct policy_set_args *a = args;
	char name[SB_NAME_MAX + 1], path[128];
	struct buf yaml = BUF_INIT;
	struct client_resp r = { 0, NULL };
	struct gw_target t;
	struct json *body = NULL;
	int64_t version = 0;
	int rc = -1;

	if (!a->policy)
		return err_set(e, ERR_USAGE, 0, "--policy FILE is required");
	if (policy_read_file(a->policy, &yaml, e) < 0 ||
	    client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0 ||
	    sandbox_pick_name(&t, argc, argv, name, sizeof(name), e) < 0)
		goto out;
	body = json_new_obj();
	json_obj_add_str(body, "policy", yaml.p);
	snprintf(path, sizeof(path), "/v1/sandboxes/%s/policy", name);
	if (client_call(&t, "PUT", path, body, &r, e) < 0)
		goto out;
	json_get_i64(r.body, "version", &version);
	if (json_bool(json_get(r.body, "unchanged")))
		printf("%s·%s Policy unchanged (version %lld, hash: %s)\n", ui_dim(cli), ui_reset(cli),
		       (long long)version, short_hash(r.body));
	else
		ui_success(cli, "Policy version %lld submitted (hash: %s)", (long long)version,
			   short_hash(r.body));
	rc = a->wait ? wait_loaded(cli, &t, name, version, a->timeout ? a->timeout : 60, e) : 0;
out:
	client_resp_release(&r);
	json_free(body);
	buf_release(&yaml);
	return rc;
}

static void print_rev(struct cli *cli, const struct json *o)
{
	const char *err = json_get_str(o, "load_error", "");

	printf("%sPolicy:%s\n\n", ui_bold(cli), ui_reset(cli));
	printf("  Sandbox: %s\n", json_get_str(o, "sandbox", ""));
	printf("  Version: %lld\n", (long long)json_i64(json_get(o, "version")));
	printf("  Hash: %s\n", json_get_str(o, "hash", ""));
	printf("  Status: %s\n", json_get_str(o, "status", ""));
	printf("  Created: %s\n", json_get_str(o, "created_at", "-"));
	printf("  Loaded: %s\n", json_get_str(o, "loaded_at", "-"));
	if (*err)
		printf("  Load error: %s\n", err);
	printf("\n%s", json_get_str(o, "policy", ""));
}

int policy_get_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct policy_get_args *a = args;
	char name[SB_NAME_MAX + 1], path[160];
	struct client_resp r;
	struct gw_target t;

	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0 ||
	    sandbox_pick_name(&t, argc, argv, name, sizeof(name), e) < 0)
		return -1;
	snprintf(path, sizeof(path), "/v1/sandboxes/%s/policy?rev=%lld", name, (long long)a->rev);
	if (client_call(&t, "GET", path, NULL, &r, e) < 0)
		return -1;
	if (a->output && strcmp(a->output, "table"))
		cmd_print_structured(r.body, a->output);
	else
		print_rev(cli, r.body);
	client_resp_release(&r);
	return 0;
}

int policy_list_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct policy_list_args *a = args;
	char name[SB_NAME_MAX + 1], path[160];
	const struct json *revs;
	struct client_resp r;
	struct gw_target t;
	size_t i;

	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0 ||
	    sandbox_pick_name(&t, argc, argv, name, sizeof(name), e) < 0)
		return -1;
	snprintf(path, sizeof(path), "/v1/sandboxes/%s/policies?limit=%lld", name,
		 (long long)(a->limit ? a->limit : 20));
	if (client_call(&t, "GET", path, NULL, &r, e) < 0)
		return -1;
	revs = json_get(r.body, "revisions");
	if (a->output && strcmp(a->output, "table")) {
		cmd_print_structured(revs, a->output);
	} else if (!json_len(revs)) {
		printf("No policy revisions: sandbox '%s' runs the restrictive default (no network "
		       "access).\n", name);
	} else {
		printf("%-8s %-12s %-10s %-20s %s\n", "VERSION", "HASH", "STATUS", "CREATED", "ERROR");
		for (i = 0; i < json_len(revs); i++) {
			const struct json *o = json_at(revs, i);

			printf("%-8lld %-12s %-10s %-20s %.40s\n",
			       (long long)json_i64(json_get(o, "version")), short_hash(o),
			       json_get_str(o, "status", ""), json_get_str(o, "created_at", ""),
			       json_get_str(o, "load_error", ""));
		}
	}
	client_resp_release(&r);
	return 0;
}
