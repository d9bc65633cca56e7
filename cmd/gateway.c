/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `openshell gateway ...`: the client registry commands (add, select, list, remove).
 * Parse (cmd.c) -> lib/config -> render. reference/cli.md §4.2, §5, §6, §10.
 */
#include "cmd.h"
#include "gateway_cmd.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/json.h"
#include "lib/url.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- add ------------------------------------------------------------------------------- */

struct add_args {
	const char *name;
};

static const struct opt add_opts[] = {
	{ 0, "name", OPT_STR, offsetof(struct add_args, name), "NAME",
	  "name to register the gateway under", NULL, NULL, 0, 0,
	  "'openshell' for a loopback endpoint, else its host" },
	OPT_END,
};

static bool host_is_loopback(const char *host)
{
	return !strcmp(host, "localhost") || !strcmp(host, "::1") || str_has_prefix(host, "127.");
}

/* TCP reachability within 2 s; the gateway API probe replaces this once a client exists. */
static bool reachable(const struct url *u)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char port[8];
	bool ok = false;

	snprintf(port, sizeof(port), "%d", u->port);
	if (getaddrinfo(u->host, port, &hints, &res) != 0)
		return false;
	for (ai = res; ai && !ok; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && poll(&pfd, 1, 2000) == 1 &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0))
			ok = true;
		close(fd);
	}
	freeaddrinfo(res);
	return ok;
}

static bool url_is_tls(const struct url *u)
{
	return !strcmp(u->scheme, "https");
}

/* scheme://host[:port] as the user wrote it, lower-cased, without a trailing slash. */
static int parse_endpoint(const char *arg, struct url *u, char *norm, size_t n, struct err *e)
{
	char with_scheme[CFG_URL_MAX];
	struct buf b = BUF_INIT;
	int ret = -1;

	if (fmt_into(with_scheme, sizeof(with_scheme), "%s%s", strstr(arg, "://") ? "" : "https://",
		     arg) < 0)
		return err_set(e, ERR_INVALID, 0, "gateway endpoint is too long");
	if (url_parse(u, with_scheme, e) < 0)
		return err_wrap(e, "invalid gateway endpoint '%s'", arg);
	if (strcmp(u->path, "/") != 0) {
		err_set(e, ERR_INVALID, 0, "invalid gateway endpoint '%s': it must not have a path",
			arg);
		goto out;
	}
	buf_addf(&b, "%s://", u->scheme);
	if (u->port_explicit)
		url_add_authority(&b, u->host, u->ipv6, u->port);
	else
		buf_addf(&b, u->ipv6 ? "[%s]" : "%s", u->host);
	if (fmt_into(norm, n, "%s", b.p) < 0) {
		err_set(e, ERR_INVALID, 0, "gateway endpoint is too long");
		goto out;
	}
	ret = 0;
out:
	buf_release(&b);
	return ret;
}

/* A name already registered (or with corrupt metadata) is refused, never overwritten. */
static int check_new_name(const char *name, struct err *e)
{
	struct gw_meta old;

	if (cfg_check_name(name, e) < 0)
		return -1;
	if (cfg_load(name, &old, e) == 0) {
		if (old.system) /* a user entry may shadow a system one (cli.md §6) */
			return 0;
		err_set(e, ERR_EXISTS, 0, "gateway '%s' is already registered", name);
		return err_hint(e, "remove it first with 'openshell gateway remove %s', or choose "
				   "another name with --name", name);
	}
	if (e->code != ERR_NOTFOUND)
		return -1;
	err_clear(e);
	return 0;
}

static int add_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct add_args *a = args;
	struct gw_meta m = { 0 };
	char mtls[PATH_MAX];
	struct url u = URL_INIT;
	const char *name;
	int ret = -1;

	(void)argc;
	if (parse_endpoint(argv[0], &u, m.endpoint, sizeof(m.endpoint), e) < 0)
		goto out;
	name = a->name ? a->name : host_is_loopback(u.host) ? "openshell" : u.host;
	if (check_new_name(name, e) < 0 || cfg_mtls_dir(name, mtls, sizeof(mtls), e) < 0)
		goto out;
	if (fmt_into(m.name, sizeof(m.name), "%s", name) < 0) {
		err_set(e, ERR_INVALID, 0, "gateway name too long");
		goto out;
	}
	m.is_remote = !host_is_loopback(u.host);
	snprintf(m.auth_mode, sizeof(m.auth_mode), "%s", url_is_tls(&u) ? "mtls" : "plaintext");
	if (url_is_tls(&u) && !cfg_has_mtls(name)) {
		err_set(e, ERR_INVALID, 0, "no client certificates for gateway '%s'", name);
		err_hint(e, "place ca.crt, tls.crt and tls.key in %s, or use an http:// endpoint "
			    "for a plaintext gateway", mtls);
		goto out;
	}
	if (!url_is_tls(&u) && cfg_has_mtls(name))
		ui_warn(cli, "mTLS certificates exist in %s. Did you mean to use https?", mtls);
	if (cfg_save(&m, e) < 0 || cfg_set_active(name, e) < 0)
		goto out;
	ui_success(cli, "Gateway '%s' added and set as active", name);
	printf("  Endpoint: %s\n  Type: %s\n  Auth: %s\n", m.endpoint, cfg_type_label(&m),
	       cfg_auth_label(&m));
	if (!reachable(&u))
		ui_warn(cli, "Gateway is not reachable at %s", m.endpoint);
	ret = 0;
out:
	url_release(&u);
	return ret;
}

/* ---- list ------------------------------------------------------------------------------ */

struct list_args {
	const char *output;
};

static const struct opt list_opts[] = {
	OPT_OUTPUT(struct list_args, output),
	OPT_END,
};

static struct json *meta_json(const struct gw_meta *m, bool active)
{
	struct json *o = json_new_obj();

	json_obj_add_bool(o, "active", active);
	json_obj_add_str(o, "auth", cfg_auth_label(m));
	json_obj_add_str(o, "endpoint", m->endpoint);
	json_obj_add_bool(o, "is_remote", m->is_remote);
	json_obj_add_str(o, "name", m->name);
	if (m->remote_host[0])
		json_obj_add_str(o, "remote_host", m->remote_host);
	else
		json_obj_add(o, "remote_host", json_new_null());
	if (m->resolved_host[0])
		json_obj_add_str(o, "resolved_host", m->resolved_host);
	else
		json_obj_add(o, "resolved_host", json_new_null());
	json_obj_add_str(o, "source", m->system ? "system" : "user");
	json_obj_add_str(o, "type", cfg_type_label(m));
	return o;
}

static size_t col_width(const struct gw_list *l, size_t off, const char *head)
{
	size_t w = strlen(head), i;

	for (i = 0; i < l->n; i++) {
		size_t n = strlen((const char *)&l->v[i] + off);

		if (n > w)
			w = n;
	}
	return w;
}

static void print_table(struct cli *cli, const struct gw_list *l, const char *active)
{
	size_t wn = col_width(l, offsetof(struct gw_meta, name), "NAME");
	size_t we = col_width(l, offsetof(struct gw_meta, endpoint), "ENDPOINT");
	size_t i;

	printf("  %s%-*s  %-*s  %-6s  %-6s  %s%s\n", ui_bold(cli), (int)wn, "NAME", (int)we,
	       "ENDPOINT", "TYPE", "SOURCE", "AUTH", ui_reset(cli));
	for (i = 0; i < l->n; i++) {
		const struct gw_meta *m = &l->v[i];
		bool act = !strcmp(m->name, active);

		printf("%s%s %-*s  %-*s  %-6s  %-6s  %s%s\n", act ? ui_green(cli) : "", act ? "*" : " ",
		       (int)wn, m->name, (int)we, m->endpoint, cfg_type_label(m),
		       m->system ? "system" : "user", cfg_auth_label(m), act ? ui_reset(cli) : "");
	}
}

static int show_list(struct cli *cli, const char *format, struct err *e)
{
	char active[CFG_NAME_MAX];
	struct gw_list l;
	size_t i;

	if (cfg_list(&l, e) < 0)
		return -1;
	if (cfg_get_active(active, sizeof(active), e) < 0) {
		cfg_list_free(&l);
		return -1;
	}
	if (format && strcmp(format, "table") != 0) {
		struct json *arr = json_new_arr();

		for (i = 0; i < l.n; i++)
			json_arr_add(arr, meta_json(&l.v[i], !strcmp(l.v[i].name, active)));
		cmd_print_structured(arr, format);
		json_free(arr);
	} else if (l.n == 0) {
		printf("No gateways found.\n");
		fprintf(stderr, "Register a gateway with: openshell gateway add <endpoint>\n");
	} else {
		print_table(cli, &l, active);
	}
	cfg_list_free(&l);
	return 0;
}

static int list_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	(void)argc;
	(void)argv;
	return show_list(cli, ((struct list_args *)args)->output, e) < 0 ? -1 : 0;
}

/* ---- select ---------------------------------------------------------------------------- */

static int prompt_choice(struct gw_list *l, char *dst, size_t n)
{
	char line[64];
	uint64_t k;
	size_t i;

	for (i = 0; i < l->n; i++)
		fprintf(stderr, "  %zu) %s  %s\n", i + 1, l->v[i].name, l->v[i].endpoint);
	fprintf(stderr, "Select a gateway [1-%zu]: ", l->n);
	if (!fgets(line, sizeof(line), stdin) || parse_u64(str_trim(line), 1, l->n, &k) < 0)
		return -1;
	snprintf(dst, n, "%s", l->v[k - 1].name);
	return 0;
}

static int select_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	char chosen[CFG_NAME_MAX];
	const char *env = getenv("OPENSHELL_GATEWAY");
	struct gw_meta m;

	(void)args;
	if (argc == 0) {
		struct gw_list l;
		int r;

		if (!cli->stdin_tty || !cli->stderr_tty) {
			if (show_list(cli, "table", e) < 0)
				return -1;
			printf("\nSelect a gateway with: openshell gateway select <name>\n");
			return 0;
		}
		if (cfg_list(&l, e) < 0)
			return -1;
		r = l.n ? prompt_choice(&l, chosen, sizeof(chosen)) : -1;
		cfg_list_free(&l);
		if (r < 0) {
			ui_warn(cli, "Gateway selection cancelled");
			return 0;
		}
	} else {
		snprintf(chosen, sizeof(chosen), "%s", argv[0]);
	}
	if (cfg_load(chosen, &m, e) < 0) {
		if (e->code == ERR_NOTFOUND)
			err_hint(e, "list the registered gateways with 'openshell gateway list'");
		return -1;
	}
	if (cfg_set_active(chosen, e) < 0)
		return -1;
	ui_success(cli, "Active gateway set to '%s'", chosen);
	if (env && strspn(env, " \t") != strlen(env) && strcmp(env, chosen) != 0)
		ui_warn(cli,
			"OPENSHELL_GATEWAY is set to '%s': this shell keeps using that gateway until "
			"you unset or change it",
			env);
	return 0;
}

/* ---- remove ---------------------------------------------------------------------------- */

static int remove_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	char name[CFG_NAME_MAX];
	struct gw_meta m;

	(void)args;
	if (argc == 0) {
		if (cfg_get_active(name, sizeof(name), e) < 0)
			return -1;
		if (!name[0])
			return err_set(e, ERR_INVALID, 0, "no gateway named and no active gateway"),
			       err_hint(e, "name the gateway: openshell gateway remove <name>");
	} else {
		snprintf(name, sizeof(name), "%s", argv[0]);
	}
	if (cfg_load(name, &m, e) < 0)
		return -1;
	if (m.system)
		return err_set(e, ERR_FORBIDDEN, 0,
			       "gateway '%s' is registered system-wide and cannot be removed here",
			       name),
		       err_hint(e, "its registration lives in the system registry (/etc/openshell)");
	if (cfg_remove(name, e) < 0)
		return -1;
	ui_success(cli, "Gateway registration '%s' removed.", name);
	return 0;
}

/* ---- table ----------------------------------------------------------------------------- */

static const char *const list_aliases[] = { "ls", NULL };
static const char *const remove_aliases[] = { "rm", NULL };
static const char *const start_aliases[] = { "create", NULL };
static const char *const destroy_aliases[] = { "delete", NULL };

const struct cmd cmd_gateway_subs[] = {
	{ "start", start_aliases, "start a local gateway (created on first start) and select it",
	  NULL, "Forks the gateway daemon, waits until it answers, registers it with its client\n"
		"certificates and makes it the active gateway. A running gateway is reported, not\n"
		"started twice.",
	  gateway_start_opts, sizeof(struct gateway_start_args), 0, 0, gateway_start_run, NULL, 0 },
	{ "run", NULL, "run the gateway in the foreground (for systemd and containers)", NULL, NULL,
	  gateway_run_opts, sizeof(struct gateway_start_args), 0, 0, gateway_run_run, NULL, 0 },
	{ "stop", NULL, "stop a local gateway (sandboxes and state are kept)", "[NAME]", NULL,
	  gateway_stop_opts, sizeof(struct gateway_name_args), 0, 1, gateway_stop_run, NULL, 0 },
	{ "destroy", destroy_aliases, "stop a local gateway and remove its state and registration",
	  "[NAME]", NULL, gateway_destroy_opts, sizeof(struct gateway_name_args), 0, 1, gateway_destroy_run, NULL, 0 },
	{ "info", NULL, "show a gateway's properties", "[NAME|ID]", NULL, gateway_info_opts,
	  sizeof(struct gateway_info_args), 0, 1,
	  gateway_info_run, NULL, 0 },
	{ "status", NULL, "show the active gateway's properties", "[NAME|ID]", NULL,
	  gateway_info_opts, sizeof(struct gateway_info_args), 0, 1, gateway_info_run, NULL, 0 },
	{ "update", NULL, "change a gateway's limits", "[NAME|ID]", NULL, gateway_update_opts,
	  sizeof(struct gateway_update_args), 0, 1, gateway_update_run, NULL, 0 },
	{ "add", NULL, "register a gateway endpoint and make it active", "ENDPOINT",
	  "http:// endpoints are plaintext; https:// endpoints use mTLS with the client bundle\n"
	  "(ca.crt, tls.crt, tls.key) in ~/.config/openshell/gateways/<name>/mtls/.",
	  add_opts, sizeof(struct add_args), 1, 1, add_run, NULL, 0 },
	{ "select", NULL, "set the active gateway", "[NAME]", NULL, NULL, 0, 0, 1, select_run, NULL,
	  0 },
	{ "list", list_aliases, "list registered gateways (* marks the active one)", NULL, NULL,
	  list_opts, sizeof(struct list_args), 0, 0, list_run, NULL, 0 },
	{ "remove", remove_aliases, "remove a gateway registration (default: the active one)",
	  "[NAME]", NULL, NULL, 0, 0, 1, remove_run, NULL, 0 },
	CMD_END,
};
