// SPDX-License-Identifier: Apache-2.0
/*
 * `openshell policy ...`: validate a policy file, check what it decides for a connection
 * without a sandbox (both local, no gateway), and set/get/list a sandbox's policy
 * revisions on the gateway (cmd/policy_remote.c). Exit codes for validate and check:
 * 0 valid / allowed, 1 invalid / denied, 2 usage error or unreadable file.
 */
#include "cmd.h"
#include "gateway_cmd.h"
#include "policy_cmd.h"
#include "lib/http.h"
#include "lib/json.h"
#include "lib/policy.h"

#include <stdio.h>
#include <string.h>

/* ---- policy validate FILE... -------------------------------------------------------------- */

struct validate_args {
	const char *output;
};

static const struct opt validate_opts[] = {
	OPT_OUTPUT(struct validate_args, output),
	OPT_END,
};

/* 0 valid, 1 invalid, 2 unreadable; the problems are printed either way. */
static int validate_one(struct cli *cli, const char *file, struct json *all)
{
	struct pol_policy p;
	struct pol_report r;
	struct err e = ERR_INIT;
	struct buf text = BUF_INIT;
	int rc;

	pol_report_init(&r);
	rc = pol_load_file(&p, file, &r, &e);
	if (rc < 0 && e.code != ERR_INVALID) {
		ui_error(cli, &e);
		rc = 2;
		goto out;
	}
	pol_report_format(&r, file, &text);
	if (all) {
		struct json *o = json_new_obj(), *probs = json_new_arr();

		for (size_t i = 0; i < r.n; i++) {
			struct json *d = json_new_obj();

			json_obj_add_str(d, "severity", r.d[i].warning ? "warning" : "error");
			json_obj_add_i64(d, "line", r.d[i].mark.line);
			json_obj_add_i64(d, "column", r.d[i].mark.col);
			json_obj_add_str(d, "path", r.d[i].path ? r.d[i].path : "");
			json_obj_add_str(d, "message", r.d[i].msg);
			json_arr_add(probs, d);
		}
		json_obj_add_str(o, "file", file);
		json_obj_add_bool(o, "valid", rc == 0);
		json_obj_add(o, "problems", probs);
		json_arr_add(all, o);
	} else {
		fputs(text.p, stderr);
		if (rc == 0)
			ui_success(cli, "%s is a valid policy (%zu network rule%s)", file, p.n_rules,
				   p.n_rules == 1 ? "" : "s");
	}
	if (rc == 0)
		pol_release(&p);
	rc = rc == 0 ? 0 : 1;
out:
	pol_report_release(&r);
	buf_release(&text);
	return rc;
}

static int validate_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	const char *fmt = ((struct validate_args *)args)->output;
	bool structured = fmt && strcmp(fmt, "table");
	struct json *all = structured ? json_new_arr() : NULL;
	int worst = 0, i;

	(void)e;
	for (i = 0; i < argc; i++) {
		int rc = validate_one(cli, argv[i], all);

		worst = rc > worst ? rc : worst;
	}
	if (all) {
		cmd_print_structured(all, fmt);
		json_free(all);
	}
	return worst;
}

/* ---- policy check --------------------------------------------------------------------------- */

struct check_args {
	const char *policy, *host, *binary, *method, *path, *output;
	int64_t port;
	struct strlist ancestors, resolved;
	bool relaxed;
};

static const struct opt check_opts[] = {
	{ 0, "policy", OPT_STR, offsetof(struct check_args, policy), "FILE", "the policy (YAML)",
	  NULL, NULL, 0, 0, NULL },
	{ 0, "host", OPT_STR, offsetof(struct check_args, host), "HOST", "destination host", NULL,
	  NULL, 0, 0, NULL },
	{ 0, "port", OPT_INT, offsetof(struct check_args, port), "PORT", "destination port", NULL,
	  NULL, 1, 65535, NULL },
	{ 0, "binary", OPT_STR, offsetof(struct check_args, binary), "PATH",
	  "the calling process's executable (as /proc/PID/exe shows it)", NULL, NULL, 0, 0, NULL },
	{ 0, "ancestor", OPT_STRLIST, offsetof(struct check_args, ancestors), "PATH",
	  "a parent's executable, nearest first (repeatable)", NULL, NULL, 0, 0, NULL },
	{ 0, "any-binary", OPT_FLAG, offsetof(struct check_args, relaxed), NULL,
	  "match endpoints only (OPENSHELL_NETWORK_BINARY_IDENTITY=relaxed)", NULL, NULL, 0, 0,
	  NULL },
	{ 0, "resolved", OPT_STRLIST, offsetof(struct check_args, resolved), "IP",
	  "an address the host resolves to: checks the SSRF rules too (repeatable)", NULL, NULL, 0,
	  0, NULL },
	{ 0, "method", OPT_STR, offsetof(struct check_args, method), "METHOD",
	  "an HTTP request inside the connection: checks the L7 rules too", NULL, NULL, 0, 0,
	  NULL },
	{ 0, "path", OPT_STR, offsetof(struct check_args, path), "PATH[?QUERY]",
	  "the request's target (with --method)", NULL, NULL, 0, 0, NULL },
	OPT_OUTPUT(struct check_args, output),
	OPT_END,
};

struct verdict {
	bool allow;
	const char *stage; /* l4, ssrf, l7 */
	const char *policy;
	struct buf reason;
};

static int check_ssrf(const struct check_args *a, const struct pol_l4_decision *d,
		      struct verdict *v, struct err *e)
{
	struct pol_addr addrs[16];
	size_t i, n = 0;

	for (i = 0; i < a->resolved.n; i++) {
		if (n == 16)
			return err_set(e, ERR_USAGE, 0, "--resolved: at most 16 addresses");
		if (pol_addr_parse(a->resolved.v[i], &addrs[n++]) < 0)
			return err_set(e, ERR_USAGE, 0, "--resolved: '%s' is not an IP address",
				       a->resolved.v[i]);
	}
	if (!n)
		return 0;
	buf_reset(&v->reason);
	if (pol_check_destination(d, a->host, (uint16_t)a->port, addrs, n, NULL, &v->reason) !=
	    POL_SSRF_OK) {
		v->allow = false;
		v->stage = "ssrf";
	}
	return 0;
}

static int check_l7(const struct check_args *a, const struct pol_policy *p,
		    const struct pol_l4_input *in, const struct pol_l4_decision *d,
		    struct verdict *v, struct err *e)
{
	struct http_canon hc = HTTP_CANON_INIT;
	struct pol_l7_decision l7;
	int ret = 0;

	if (!a->method || !pol_l4_needs_l7(d))
		return 0;
	if (http_target_canon(&hc, a->path ? a->path : "/", 0, e) < 0) {
		e->code = ERR_USAGE;
		ret = err_wrap(e, "--path");
		goto out;
	}
	pol_l7_decision_init(&l7);
	pol_eval_l7(p, in, d, &(struct pol_l7_input){ a->method, hc.path.p, hc.query }, &l7);
	buf_reset(&v->reason);
	buf_adds(&v->reason, l7.reason.p);
	if (!l7.allow && (l7.enforce || l7.hard)) {
		v->allow = false;
		v->stage = "l7";
	} else if (!l7.allow) {
		v->stage = "l7-audit"; /* allowed, logged as audit */
	}
	if (l7.rule)
		v->policy = l7.rule->key;
	pol_l7_decision_release(&l7);
out:
	http_canon_release(&hc);
	return ret;
}

static void print_verdict(struct cli *cli, const struct check_args *a, const struct verdict *v)
{
	if (a->output && strcmp(a->output, "table")) {
		struct json *o = json_new_obj();

		json_obj_add_str(o, "decision", v->allow ? "allow" : "deny");
		if (v->policy)
			json_obj_add_str(o, "policy", v->policy);
		else
			json_obj_add(o, "policy", json_new_null());
		json_obj_add_str(o, "reason", v->reason.p);
		cmd_print_structured(o, a->output);
		json_free(o);
		return;
	}
	printf("Decision: %s%s%s\n", v->allow ? ui_green(cli) : ui_red(cli),
	       v->allow ? "allow" : "deny", ui_reset(cli));
	printf("Policy:   %s\n", v->policy ? v->policy : "-");
	if (v->reason.len)
		printf("Reason:   %s\n", v->reason.p);
	if (v->stage && !strcmp(v->stage, "l7-audit"))
		printf("Note:     the endpoint is in audit mode: the request is forwarded and logged\n");
}

static int check_usage(const struct check_args *a, struct err *e)
{
	if (!a->policy || !a->host || !a->port)
		return err_set(e, ERR_USAGE, 0, "--policy, --host and --port are required");
	if (!a->binary && !a->relaxed)
		return err_set(e, ERR_USAGE, 0, "--binary is required (or --any-binary)");
	if (a->path && !a->method)
		return err_set(e, ERR_USAGE, 0, "--path needs --method");
	return 0;
}

static int check_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct check_args *a = args;
	struct pol_policy p;
	struct pol_report r;
	struct pol_l4_decision d;
	struct verdict v = { false, "l4", NULL, BUF_INIT };
	struct pol_l4_input in = { 0 };
	struct buf text = BUF_INIT;
	int rc = -1;

	(void)argc;
	(void)argv;
	if (check_usage(a, e) < 0)
		return -1;
	pol_report_init(&r);
	pol_l4_decision_init(&d);
	if (pol_load_file(&p, a->policy, &r, e) < 0) {
		pol_report_format(&r, a->policy, &text);
		fputs(text.p, stderr);
		if (e->code == ERR_INVALID)
			e->hint[0] = '\0';
		e->code = ERR_USAGE; /* an unusable policy file: exit 2 */
		goto out_nopol;
	}
	in = (struct pol_l4_input){ a->host, (uint16_t)a->port, a->binary, a->ancestors.v,
				    a->ancestors.n, NULL, 0, a->relaxed };
	pol_eval_l4(&p, &in, &d);
	v.allow = d.allow;
	v.policy = d.rule ? d.rule->key : NULL;
	buf_adds(&v.reason, d.reason.p);
	if ((v.allow && check_ssrf(a, &d, &v, e) < 0) ||
	    (v.allow && check_l7(a, &p, &in, &d, &v, e) < 0))
		goto out;
	print_verdict(cli, a, &v);
	rc = v.allow ? 0 : 1;
out:
	pol_release(&p);
out_nopol:
	pol_l4_decision_release(&d);
	pol_report_release(&r);
	buf_release(&v.reason);
	buf_release(&text);
	return rc;
}

/* ---- the group ------------------------------------------------------------------------------ */

const struct cmd cmd_policy_subs[] = {
	{ "validate", NULL, "check policy files and list every problem", "FILE...",
	  "Loads each file as a sandbox would (strict schema, safety rules, ambiguity) and\n"
	  "prints every problem as FILE:LINE:COL. Exit status: 0 valid, 1 invalid, 2 unreadable.",
	  validate_opts, sizeof(struct validate_args), 1, -1, validate_run, NULL, 0 },
	{ "check", NULL, "show what a policy decides for a connection, without a sandbox", NULL,
	  "Evaluates one connection (host, port, calling binary and its ancestors) the way the\n"
	  "sandbox's proxy does; --resolved adds the SSRF checks on the addresses the host\n"
	  "resolves to, --method/--path a request inside the connection (L7 rules).\n"
	  "Exit status: 0 allow, 1 deny, 2 usage error or unusable policy file.",
	  check_opts, sizeof(struct check_args), 0, 0, check_run, NULL, 0 },
	POLICY_REMOTE_CMDS
	CMD_END,
};
