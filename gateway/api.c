/* SPDX-License-Identifier: Apache-2.0 */
/* Route table and handlers of the gateway API; see api.h and docs/api.md. */
#include "api.h"
#include "gw.h"
#include "sandboxes.h"
#include "policies.h"
#include "store.h"
#include "lib/cgroup.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/util.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A route's path may end in "{name}": the last segment is then the handler's `arg`. */
struct route {
	const char *method, *path;
	int (*fn)(struct gw *gw, const char *arg, const struct json *in, struct json **out,
		  struct err *e);
	int status; /* on success */
};

static void set_json(struct api_resp *r, int status, struct json *v)
{
	r->status = status;
	json_write(v, &r->body, JSON_COMPACT);
	buf_addch(&r->body, '\n');
}

static void set_error(struct api_resp *r, const struct err *e)
{
	struct json *o = json_new_obj();
	char text[800];

	json_obj_add_str(o, "error", err_code_name(e->code));
	json_obj_add_str(o, "message", err_text(e, text, sizeof(text)));
	if (e->hint[0])
		json_obj_add_str(o, "hint", e->hint);
	buf_reset(&r->body);
	set_json(r, err_http_status(e->code), o);
	json_free(o);
}

static int health(struct gw *gw, const char *arg, const struct json *in, struct json **out, struct err *e)
{
	(void)in;
	(void)e;
	(void)arg;
	*out = json_new_obj();
	json_obj_add_str(*out, "status", "ok");
	json_obj_add_str(*out, "gateway", gw->cfg->name);
	json_obj_add_str(*out, "version", OPENSHELL_VERSION);
	return 0;
}

void api_add_time(struct json *o, const char *key, int64_t ms)
{
	char t[32];

	if (!ms) {
		json_obj_add(o, key, json_new_null());
		return;
	}
	fmt_rfc3339(t, ms / 1000);
	json_obj_add_str(o, key, t);
}

static const char *auth_mode(const struct gw *gw)
{
	if (gw->cfg->plaintext)
		return "plaintext";
	return gw->cfg->no_client_auth ? "tls" : "mtls";
}

static int gateway_info(struct gw *gw, const char *arg, const struct json *in, struct json **out, struct err *e)
{
	struct gw_settings s;
	char why[256];
	enum cg_mode cg = cg_detect(why, sizeof(why));
	int64_t count;

	(void)in;
	(void)arg;
	if (store_gateway_get(gw->store, &s, e) < 0 || sandboxes_count(gw, &count, e) < 0)
		return -1;
	*out = json_new_obj();
	json_obj_add_i64(*out, "id", gw->id);
	json_obj_add_str(*out, "name", gw->cfg->name);
	json_obj_add_str(*out, "status", "running");
	json_obj_add_str(*out, "endpoint", gw->endpoint);
	json_obj_add_str(*out, "bind", gw->cfg->bind);
	json_obj_add_i64(*out, "port", gw->cfg->port);
	json_obj_add_i64(*out, "pid", getpid());
	json_obj_add_str(*out, "auth", auth_mode(gw));
	json_obj_add_str(*out, "cpus", s.cpus);
	json_obj_add_str(*out, "memory", s.memory);
	json_obj_add_i64(*out, "sandboxes", count);
	json_obj_add_i64(*out, "max_sandboxes", s.max_sandboxes);
	json_obj_add_str(*out, "limits", cg == CG_V2 ? "cgroup v2" : cg == CG_V1 ? "cgroup v1" : "not enforced");
	json_obj_add_i64(*out, "pids_max", cg_gateway_pids_cap());
	json_obj_add_str(*out, "version", OPENSHELL_VERSION);
	api_add_time(*out, "created_at", s.created_ms);
	api_add_time(*out, "last_health_check", s.last_health_ms);
	json_obj_add_str(*out, "last_error", s.last_error);
	json_obj_add_i64(*out, "rev", s.rev);
	return 0;
}

/* PATCH /v1/gateway {"cpus","memory","max_sandboxes"[,"rev"]}: validated, CAS-updated. */
static int gateway_update(struct gw *gw, const char *arg, const struct json *in, struct json **out, struct err *e)
{
	struct gw_settings s;
	const struct json *f;
	int64_t v;

	if (!in || !json_is_obj(in))
		return err_set(e, ERR_INVALID, 0, "expected a JSON object");
	if (store_gateway_get(gw->store, &s, e) < 0)
		return -1;
	if (json_get_i64(in, "rev", &v) == 0 && v != s.rev)
		return err_set(e, ERR_CONFLICT, 0, "the gateway changed since revision %lld",
			       (long long)v);
	if ((f = json_get(in, "cpus"))) {
		if (!json_is_str(f) || cg_parse_cpus(json_str(f), &v, e) < 0)
			return json_is_str(f) ? -1 : err_set(e, ERR_INVALID, 0, "\"cpus\" must be a string");
		snprintf(s.cpus, sizeof(s.cpus), "%s", json_str(f));
	}
	if ((f = json_get(in, "memory"))) {
		if (!json_is_str(f) || cg_parse_memory(json_str(f), &v, e) < 0)
			return json_is_str(f) ? -1 : err_set(e, ERR_INVALID, 0, "\"memory\" must be a string");
		snprintf(s.memory, sizeof(s.memory), "%s", json_str(f));
	}
	if (json_get(in, "max_sandboxes")) {
		if (json_get_i64(in, "max_sandboxes", &v) < 0 || v < 1 || v > 10000)
			return err_set(e, ERR_INVALID, 0, "\"max_sandboxes\" must be an integer from 1 to 10000");
		s.max_sandboxes = v;
	}
	if (store_gateway_update(gw->store, &s, e) < 0)
		return -1;
	log_info("api", "gateway updated", "cpus", s.cpus, "memory", s.memory, NULL);
	return gateway_info(gw, arg, NULL, out, e);
}

static int sandbox_create(struct gw *gw, const char *arg, const struct json *in,
			  struct json **out, struct err *e)
{
	struct sandbox sb;

	(void)arg;
	if (sandboxes_create(gw, in, &sb, e) < 0) {
		sandbox_release(&sb);
		return -1;
	}
	*out = sandbox_json(&sb);
	sandbox_release(&sb);
	return 0;
}

static int sandbox_list(struct gw *gw, const char *arg, const struct json *in, struct json **out,
			struct err *e)
{
	struct sandbox *v;
	struct json *arr;
	size_t n, i;

	(void)arg;
	(void)in;
	if (sandboxes_list(gw, &v, &n, e) < 0)
		return -1;
	arr = json_new_arr();
	for (i = 0; i < n; i++)
		json_arr_add(arr, sandbox_json(&v[i]));
	*out = json_new_obj();
	json_obj_add(*out, "sandboxes", arr);
	sandbox_list_free(v, n);
	return 0;
}

int api_query_int(const char *query, const char *key, int64_t min, int64_t max, int64_t *out,
		  struct err *e)
{
	size_t klen = strlen(key);
	const char *p = query;

	while (p && *p) {
		const char *end = p + strcspn(p, "&");

		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			char num[24];

			snprintf(num, sizeof(num), "%.*s", (int)(end - p - (ptrdiff_t)klen - 1),
				 p + klen + 1);
			if (parse_i64(num, min, max, out) < 0)
				return err_set(e, ERR_INVALID, 0, "invalid %s '%s'", key, num);
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* ?wait=MS: while the sandbox is Provisioning, the answer waits (at most MS, at most 30 s)
 * for its supervisor to report, so that clients need not poll. */
static int sandbox_get(struct gw *gw, const char *arg, const struct json *in, struct json **out,
		       struct err *e)
{
	struct sandbox sb;
	int64_t wait_ms = 0;

	(void)in;
	if (api_query_int(gw->query, "wait", 0, SANDBOX_WAIT_MAX_MS, &wait_ms, e) < 0 ||
	    sandboxes_get(gw, arg, &sb, e) < 0)
		return -1;
	if (wait_ms > 0 && !gw->park_expired && !strcmp(sb.phase, "Provisioning") &&
	    sandbox_dir(gw, &sb, gw->park_dir, sizeof(gw->park_dir)) == 0) {
		gw->park_ms = wait_ms;
		sandbox_release(&sb);
		return API_PARKED;
	}
	*out = sandbox_json(&sb);
	json_obj_add(*out, "limits", sandbox_limits_json(gw, &sb));
	sandbox_release(&sb);
	return 0;
}

static int sandbox_delete(struct gw *gw, const char *arg, const struct json *in,
			  struct json **out, struct err *e)
{
	(void)in;
	if (sandboxes_delete(gw, arg, e) < 0)
		return -1;
	*out = json_new_obj();
	json_obj_add_str(*out, "name", arg);
	json_obj_add_bool(*out, "deleted", true);
	return 0;
}

static int sandbox_logs(struct gw *gw, const char *arg, const struct json *in,
			struct json **out, struct err *e)
{
	(void)in;
	return sandboxes_logs(gw, arg, gw->query, out, e);
}

/* A stop waits (parked, woken by the sandbox's directory) while the main process takes
 * its grace period; when the wait is over the stop is forced. */
static int sandbox_lifecycle(struct gw *gw, const char *arg, struct json **out, bool start,
			     struct err *e)
{
	struct sandbox sb;
	int r = start ? sandboxes_start(gw, arg, &sb, e)
		      : sandboxes_stop(gw, arg, gw->park_expired, &sb, e);

	if (r == 1 && sandbox_dir(gw, &sb, gw->park_dir, sizeof(gw->park_dir)) == 0) {
		gw->park_ms = SANDBOX_STOP_WAIT_MS;
		r = API_PARKED;
	} else if (r == 1) { /* nothing to wait on */
		sandbox_release(&sb);
		r = sandboxes_stop(gw, arg, true, &sb, e);
	}
	if (r == 0)
		*out = sandbox_json(&sb);
	sandbox_release(&sb);
	return r;
}

static int sandbox_stop(struct gw *gw, const char *arg, const struct json *in, struct json **out,
			struct err *e)
{
	(void)in;
	return sandbox_lifecycle(gw, arg, out, false, e);
}

static int sandbox_start(struct gw *gw, const char *arg, const struct json *in,
			 struct json **out, struct err *e)
{
	(void)in;
	return sandbox_lifecycle(gw, arg, out, true, e);
}

static int policy_set(struct gw *gw, const char *arg, const struct json *in, struct json **out,
		      struct err *e)
{
	return policies_set(gw, arg, in, out, e);
}

static int policy_get(struct gw *gw, const char *arg, const struct json *in, struct json **out,
		      struct err *e)
{
	(void)in;
	return policies_get(gw, arg, gw->query, out, e);
}

static int policy_list(struct gw *gw, const char *arg, const struct json *in, struct json **out,
		       struct err *e)
{
	(void)in;
	return policies_list(gw, arg, gw->query, out, e);
}

static const struct route routes[] = {
	{ "GET", "/v1/health", health, 200 },
	{ "GET", "/v1/gateway", gateway_info, 200 },
	{ "PATCH", "/v1/gateway", gateway_update, 200 },
	{ "GET", "/v1/sandboxes", sandbox_list, 200 },
	{ "POST", "/v1/sandboxes", sandbox_create, 201 },
	{ "GET", "/v1/sandboxes/{name}", sandbox_get, 200 },
	{ "DELETE", "/v1/sandboxes/{name}", sandbox_delete, 200 },
	{ "GET", "/v1/sandboxes/{name}/logs", sandbox_logs, 200 },
	{ "POST", "/v1/sandboxes/{name}/stop", sandbox_stop, 200 },
	{ "POST", "/v1/sandboxes/{name}/start", sandbox_start, 200 },
	{ "PUT", "/v1/sandboxes/{name}/policy", policy_set, 200 },
	{ "GET", "/v1/sandboxes/{name}/policy", policy_get, 200 },
	{ "GET", "/v1/sandboxes/{name}/policies", policy_list, 200 },
};

/* Matches path (without query) against a route pattern; "{name}" is one segment, which
 * goes to arg. */
static bool path_matches(const char *pattern, const char *path, size_t plen, char *arg, size_t n)
{
	const char *brace = strstr(pattern, "{");
	size_t pre = brace ? (size_t)(brace - pattern) : strlen(pattern), post, seg;

	if (!brace)
		return strlen(pattern) == plen && !strncmp(pattern, path, plen);
	post = strlen(strchr(brace, '}') + 1);
	if (plen <= pre + post || strncmp(pattern, path, pre) ||
	    strncmp(strchr(brace, '}') + 1, path + plen - post, post))
		return false;
	seg = plen - pre - post;
	if (!seg || memchr(path + pre, '/', seg) || seg >= n)
		return false;
	memcpy(arg, path + pre, seg);
	arg[seg] = '\0';
	return true;
}

void api_handle(struct gw *gw, const struct http_msg *req, const struct buf *body,
		struct api_resp *resp)
{
	struct err e = ERR_INIT;
	struct json *in = NULL, *out = NULL;
	const struct route *match = NULL;
	bool path_known = false;
	size_t i, plen = strcspn(req->target, "?");
	char arg[128] = "";

	for (i = 0; i < ARRAY_SIZE(routes); i++) {
		if (!path_matches(routes[i].path, req->target, plen, arg, sizeof(arg)))
			continue;
		path_known = true;
		if (!strcmp(routes[i].method, req->method)) {
			match = &routes[i];
			break;
		}
	}
	if (!match) {
		err_set(&e, path_known ? ERR_INVALID : ERR_NOTFOUND, 0, "%s %.*s: %s", req->method,
			(int)(plen < 200 ? plen : 200), req->target,
			path_known ? "method not allowed" : "no such resource");
		set_error(resp, &e);
		if (path_known)
			resp->status = 405;
		return;
	}
	gw->query = req->target[plen] == '?' ? req->target + plen + 1 : "";
	if (body->len && !(in = json_parse(body->p, body->len, &e))) {
		err_wrap(&e, "request body");
		set_error(resp, &e);
		return;
	}
	gw->park_dir[0] = '\0';
	switch (match->fn(gw, arg, in, &out, &e)) {
	case API_PARKED:
		resp->status = 0;
		break;
	case 0:
		set_json(resp, match->status, out);
		break;
	default:
		set_error(resp, &e);
	}
	json_free(in);
	json_free(out);
}
