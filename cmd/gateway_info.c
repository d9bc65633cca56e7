/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `openshell status`, `gateway info|status` and `gateway update`: what the gateway says
 * about itself over the API (seeds/000 properties, reference/cli.md §10). A local
 * gateway that does not answer is still described from its state dir, as stopped.
 */
#include "cmd.h"
#include "gateway_cmd.h"
#include "gateway/state.h"
#include "lib/buf.h"
#include "lib/client.h"
#include "lib/json.h"
#include "lib/util.h"

#include <stdio.h>
#include <string.h>


const struct opt gateway_info_opts[] = {
	{ 0, "name", OPT_STR, offsetof(struct gateway_info_args, name), "NAME", "gateway name or id", NULL,
	  NULL, 0, 0, "the active gateway" },
	OPT_OUTPUT(struct gateway_info_args, output),
	OPT_END,
};

const struct opt gateway_update_opts[] = {
	{ 0, "name", OPT_STR, offsetof(struct gateway_update_args, name), "NAME", "gateway name or id",
	  NULL, NULL, 0, 0, "the active gateway" },
	{ 0, "cpus", OPT_STR, offsetof(struct gateway_update_args, cpus), "N",
	  "CPUs for all sandboxes together", NULL, NULL, 0, 0, NULL },
	{ 0, "memory", OPT_STR, offsetof(struct gateway_update_args, memory), "SIZE",
	  "memory for all sandboxes together", NULL, NULL, 0, 0, NULL },
	{ 0, "max-sandboxes", OPT_INT, offsetof(struct gateway_update_args, max_sandboxes), "N",
	  "maximum number of sandboxes", NULL, NULL, 1, 10000, NULL },
	OPT_END,
};


void cmd_print_structured(const struct json *v, const char *format)
{
	struct buf out = BUF_INIT;

	if (!strcmp(format, "json"))
		json_write(v, &out, JSON_PRETTY | JSON_SORTED);
	else
		yaml_write(v, &out);
	if (out.len && out.p[out.len - 1] != '\n')
		buf_addch(&out, '\n');
	fwrite(out.p, 1, out.len, stdout);
	buf_release(&out);
}

/* NAME (or a numeric id) -> the gateway target; NULL name = -g / env / active. */
static int target_for(struct cli *cli, const char *given, struct gw_target *t, struct err *e)
{
	char name[CFG_NAME_MAX];
	uint64_t id;

	if (given && parse_u64(given, 1, 1000000, &id) == 0) {
		if (gw_name_by_id((long)id, name, sizeof(name), e) < 0)
			return -1;
		given = name;
	}
	return client_resolve(given ? given : cli->gateway, cli->gateway_endpoint, t, e);
}

static void field(const char *label, const char *value)
{
	printf("  %s: %s\n", label, value && *value ? value : "-");
}

static void print_info(struct cli *cli, const struct json *v)
{
	char n[64];
	int64_t i, max;

	printf("%sGateway Info%s\n\n", ui_bold(cli), ui_reset(cli));
	field("Gateway", json_get_str(v, "name", ""));
	snprintf(n, sizeof(n), "%lld", json_get_i64(v, "id", &i) == 0 ? (long long)i : 0LL);
	field("ID", n);
	field("Server", json_get_str(v, "endpoint", ""));
	field("Status", json_get_str(v, "status", ""));
	snprintf(n, sizeof(n), "%lld", json_get_i64(v, "port", &i) == 0 ? (long long)i : 0LL);
	field("Port", n);
	if (json_get_i64(v, "pid", &i) == 0) {
		snprintf(n, sizeof(n), "%lld", (long long)i);
		field("PID", n);
	}
	field("Auth", json_get_str(v, "auth", ""));
	field("CPUs", json_get_str(v, "cpus", ""));
	field("Memory", json_get_str(v, "memory", ""));
	if (json_get_i64(v, "sandboxes", &i) == 0 && json_get_i64(v, "max_sandboxes", &max) == 0) {
		snprintf(n, sizeof(n), "%lld / %lld", (long long)i, (long long)max);
		field("Sandboxes", n);
	}
	field("Limits", json_get_str(v, "limits", ""));
	if (json_get_i64(v, "pids_max", &i) == 0 && i > 0) {
		snprintf(n, sizeof(n), "%lld (all sandboxes together)", (long long)i);
		field("Processes", n);
	}
	field("Version", json_get_str(v, "version", ""));
	field("Last Health", json_get_str(v, "last_health_check", ""));
	field("Last Error", json_get_str(v, "last_error", ""));
}

/* A registered local gateway that does not answer: described from its state dir. */
static struct json *local_stopped_info(const struct gw_target *t)
{
	struct err e = ERR_INIT;
	struct gw_paths p;
	struct json *o;
	long id;

	if (!t->registered || gw_paths_for(t->meta.name, &p, &e) < 0 || gw_id_get(&p, &id, &e) < 0)
		return NULL;
	o = json_new_obj();
	json_obj_add_i64(o, "id", id);
	json_obj_add_str(o, "name", t->meta.name);
	json_obj_add_str(o, "status", "stopped");
	json_obj_add_str(o, "endpoint", t->endpoint);
	json_obj_add_i64(o, "port", t->meta.port);
	json_obj_add_str(o, "auth", cfg_auth_label(&t->meta));
	return o;
}

static int show_info(struct cli *cli, const char *name, const char *format, struct err *e)
{
	struct client_resp r;
	struct gw_target t;
	struct json *local = NULL;
	const struct json *v;

	if (target_for(cli, name, &t, e) < 0)
		return -1;
	if (client_call(&t, "GET", "/v1/gateway", NULL, &r, e) < 0) {
		if (e->code != ERR_UNAVAILABLE || !(local = local_stopped_info(&t)))
			return -1;
		err_clear(e);
	}
	v = local ? local : r.body;
	if (format && strcmp(format, "table") != 0)
		cmd_print_structured(v, format);
	else
		print_info(cli, v);
	if (local)
		json_free(local);
	else
		client_resp_release(&r);
	return 0;
}

int gateway_info_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct gateway_info_args *a = args;

	return show_info(cli, argc ? argv[0] : a->name, a->output, e);
}

int gateway_update_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct gateway_update_args *a = args;
	struct json *body = json_new_obj();
	struct client_resp r = { 0, NULL };
	struct gw_target t;
	int ret = -1;

	if (!a->cpus && !a->memory && !a->max_sandboxes) {
		err_set(e, ERR_USAGE, 0, "nothing to update");
		err_hint(e, "give at least one of --cpus, --memory, --max-sandboxes");
		goto out;
	}
	if (a->cpus)
		json_obj_add_str(body, "cpus", a->cpus);
	if (a->memory)
		json_obj_add_str(body, "memory", a->memory);
	if (a->max_sandboxes)
		json_obj_add_i64(body, "max_sandboxes", a->max_sandboxes);
	if (target_for(cli, argc ? argv[0] : a->name, &t, e) < 0 ||
	    client_call(&t, "PATCH", "/v1/gateway", body, &r, e) < 0)
		goto out;
	ui_success(cli, "Gateway '%s' updated", json_get_str(r.body, "name", t.name));
	print_info(cli, r.body);
	ret = 0;
out:
	json_free(body);
	client_resp_release(&r);
	return ret;
}

/* ---- openshell status ------------------------------------------------------------------- */

const struct opt status_opts[] = {
	OPT_OUTPUT(struct status_args, output),
	OPT_END,
};

static int not_configured(struct cli *cli, const char *format)
{
	if (format && strcmp(format, "table") != 0) {
		struct json *o = json_new_obj();

		json_obj_add_str(o, "status", "not_configured");
		cmd_print_structured(o, format);
		json_free(o);
		return 0;
	}
	printf("%sGateway Status%s\n\n  Status: No gateway configured.\n\n", ui_bold(cli),
	       ui_reset(cli));
	printf("Start one with: openshell gateway start\n"
	       "Or register one with: openshell gateway add <endpoint>\n");
	return 0;
}

static const char *auth_text(const char *mode)
{
	if (!strcmp(mode, "mtls"))
		return "Authenticated (mTLS transport)";
	return "Not required (gateway)";
}

int status_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	const char *format = ((struct status_args *)args)->output;
	struct client_resp r = { 0, NULL };
	struct json *o = json_new_obj(), *auth = json_new_obj();
	struct gw_target t;
	char why[800] = "";
	bool up;

	(void)argc;
	(void)argv;
	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0) {
		json_free(o);
		json_free(auth);
		if (e->code == ERR_NOTFOUND && !cli->gateway && !cli->gateway_endpoint)
			return err_clear(e), not_configured(cli, format);
		return -1;
	}
	up = client_call(&t, "GET", "/v1/health", NULL, &r, e) == 0;
	if (!up)
		err_text(e, why, sizeof(why));
	json_obj_add_str(o, "gateway", t.name);
	json_obj_add_str(o, "server", t.endpoint);
	json_obj_add_str(o, "status", up ? "connected" : "disconnected");
	json_obj_add_str(auth, "status", up ? (t.tls ? "authenticated" : "not_required") : "unknown");
	json_obj_add_str(auth, "mode", t.tls ? "mtls" : "plaintext");
	json_obj_add(o, "authentication", auth);
	if (up)
		json_obj_add_str(o, "version", json_get_str(r.body, "version", ""));
	else
		json_obj_add_str(o, "error", why);
	if (format && strcmp(format, "table") != 0) {
		cmd_print_structured(o, format);
	} else {
		printf("%sServer Status%s\n\n", ui_bold(cli), ui_reset(cli));
		printf("  Gateway: %s\n  Server: %s\n", t.name, t.endpoint);
		printf("  Status: %s%s%s\n", up ? ui_green(cli) : ui_red(cli),
		       up ? "Connected" : "Disconnected", ui_reset(cli));
		if (up)
			printf("  Authentication: %s\n  Version: %s\n", auth_text(t.tls ? "mtls" : ""),
			       json_get_str(r.body, "version", "-"));
		else
			printf("  Error: %s\n", why);
	}
	json_free(o);
	client_resp_release(&r);
	err_clear(e);
	return up ? 0 : 1;
}

