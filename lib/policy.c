/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy's plumbing around the loader and the validator: problem reports, the built-in
 * restrictive default (reference/policy.md §2.1), the canonical JSON form and its hash
 * (§8.1), and the static-section comparison for live updates (§8.4).
 */
#include "policy.h"
#include "json.h"

#include <bearssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- reports ------------------------------------------------------------------------------ */

void pol_report_init(struct pol_report *r)
{
	memset(r, 0, sizeof(*r));
}

void pol_report_release(struct pol_report *r)
{
	arena_release(&r->arena);
	memset(r, 0, sizeof(*r));
}

void pol_report_add(struct pol_report *r, bool warning, struct pol_mark mark, const char *path,
		    const char *fmt, ...)
{
	struct pol_diag *d;
	struct buf msg = BUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0) {
		buf_grow(&msg, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(msg.p, (size_t)n + 1, fmt, ap);
		va_end(ap);
		buf_setlen(&msg, (size_t)n);
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;

		r->d = arena_grow(&r->arena, r->d, r->n, cap, sizeof(*r->d));
		r->cap = cap;
	}
	d = &r->d[r->n++];
	d->warning = warning;
	d->mark = mark;
	d->path = arena_strdup(&r->arena, path ? path : "");
	d->msg = arena_strdup(&r->arena, msg.p);
	if (!warning)
		r->n_errors++;
	buf_release(&msg);
}

void pol_report_format(const struct pol_report *r, const char *source, struct buf *out)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pol_diag *d = &r->d[i];

		buf_adds(out, source ? source : "<policy>");
		if (d->mark.line)
			buf_addf(out, ":%u:%u", d->mark.line, d->mark.col);
		buf_addf(out, ": %s: ", d->warning ? "warning" : "error");
		if (d->path[0])
			buf_addf(out, "%s: ", d->path);
		buf_adds(out, d->msg);
		buf_addch(out, '\n');
	}
}

void pol_report_join_errors(const struct pol_report *r, struct buf *out)
{
	bool first = true;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->d[i].warning)
			continue;
		if (!first)
			buf_adds(out, "; ");
		buf_adds(out, r->d[i].msg);
		first = false;
	}
}

/* ---- the restrictive default -------------------------------------------------------------- */

static const char **dup_list(struct arena *a, const char *const *src, size_t n)
{
	const char **v = arena_array(a, n ? n : 1, sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = arena_strdup(a, src[i]);
	return v;
}

void pol_default(struct pol_policy *p, bool with_sandbox)
{
	static const char *const ro[] = { "/usr", "/lib", "/proc",   "/dev/urandom",
					  "/app", "/etc", "/var/log" };
	static const char *const rw[] = { "/tmp", "/dev/null", "/sandbox" };

	memset(p, 0, sizeof(*p));
	p->source = "<default>";
	p->version = 1;
	p->has_filesystem = true;
	p->include_workdir = true;
	p->read_only = dup_list(&p->arena, ro, sizeof(ro) / sizeof(ro[0]));
	p->n_read_only = sizeof(ro) / sizeof(ro[0]);
	p->n_read_write = with_sandbox ? 3 : 2;
	p->read_write = dup_list(&p->arena, rw, p->n_read_write);
	p->has_landlock = true;
	p->landlock_compatibility = arena_strdup(&p->arena, "best_effort");
	p->run_as_user = "";
	p->run_as_group = "";
}

void pol_release(struct pol_policy *p)
{
	arena_release(&p->arena);
	memset(p, 0, sizeof(*p));
}

/* ---- canonical JSON ----------------------------------------------------------------------- */

/*
 * The document is written in the YAML schema itself (JSON is YAML), so pol_load() reads it
 * back. Defaults are left out as the reference's serializer does (skip_serializing_if); the
 * mapping from policy to text stays one-to-one because a default and its absence load the same.
 */
static void add_str(struct json *o, const char *key, const char *s)
{
	if (s && s[0])
		json_obj_add_str(o, key, s);
}

static void add_bool(struct json *o, const char *key, bool b)
{
	if (b)
		json_obj_add_bool(o, key, true);
}

static void add_u32(struct json *o, const char *key, uint32_t v)
{
	if (v)
		json_obj_add_i64(o, key, v);
}

static void add_list(struct json *o, const char *key, const char *const *v, size_t n)
{
	struct json *a;
	size_t i;

	if (!n)
		return;
	a = json_new_arr();
	for (i = 0; i < n; i++)
		json_arr_add(a, json_new_str(v[i]));
	json_obj_add(o, key, a);
}

static struct json *matcher_json(const struct pol_matcher *m)
{
	struct json *o, *a;
	size_t i;

	if (m->n == 1)
		return json_new_str(m->globs[0]);
	o = json_new_obj();
	a = json_new_arr();
	for (i = 0; i < m->n; i++)
		json_arr_add(a, json_new_str(m->globs[i]));
	json_obj_add(o, "any", a);
	return o;
}

static void add_params(struct json *o, const char *key, const struct pol_param *v, size_t n)
{
	struct json *m;
	size_t i;

	if (!n)
		return;
	m = json_new_obj();
	for (i = 0; i < n; i++)
		json_obj_add(m, v[i].key, matcher_json(&v[i].m));
	json_obj_add(o, key, m);
}

static struct json *l7rule_json(const struct pol_l7rule *r)
{
	struct json *o = json_new_obj();
	const struct pol_param *params = r->params;
	size_t n_params = r->n_params;

	add_str(o, "method", r->method);
	add_str(o, "path", r->path);
	add_str(o, "command", r->command);
	add_str(o, "operation_type", r->operation_type);
	add_str(o, "operation_name", r->operation_name);
	add_list(o, "fields", r->fields, r->n_fields);
	add_params(o, "query", r->query, r->n_query);
	/* the loader puts `tool:` first among the params, as "name" */
	if (r->has_tool && n_params) {
		json_obj_add(o, "tool", matcher_json(&params[0].m));
		params++;
		n_params--;
	}
	add_params(o, "params", params, n_params);
	return o;
}

static void add_rules(struct json *o, const char *key, const struct pol_l7rule *v, size_t n,
		      bool wrap)
{
	struct json *a, *w;
	size_t i;

	if (!n)
		return;
	a = json_new_arr();
	for (i = 0; i < n; i++) {
		if (!wrap) {
			json_arr_add(a, l7rule_json(&v[i]));
			continue;
		}
		w = json_new_obj();
		json_obj_add(w, "allow", l7rule_json(&v[i]));
		json_arr_add(a, w);
	}
	json_obj_add(o, key, a);
}

static void add_persisted(struct json *o, const struct pol_endpoint *ep)
{
	struct json *m, *q;
	size_t i;

	if (!ep->n_graphql_persisted_queries)
		return;
	m = json_new_obj();
	for (i = 0; i < ep->n_graphql_persisted_queries; i++) {
		const struct pol_persisted_query *pq = &ep->graphql_persisted_queries[i];

		q = json_new_obj();
		add_str(q, "operation_type", pq->operation_type);
		add_str(q, "operation_name", pq->operation_name);
		add_list(q, "fields", pq->fields, pq->n_fields);
		json_obj_add(m, pq->id, q);
	}
	json_obj_add(o, "graphql_persisted_queries", m);
}

static void add_stanzas(struct json *o, const struct pol_endpoint *ep)
{
	struct json *s;

	if (ep->has_credential_binding) {
		s = json_new_obj();
		json_obj_add_str(s, "provider", ep->credential_binding_provider);
		json_obj_add(o, "credential_binding", s);
	}
	if (ep->has_mcp) {
		s = json_new_obj();
		add_u32(s, "max_body_bytes", ep->mcp_max_body_bytes);
		json_obj_add_bool(s, "strict_tool_names", ep->mcp_strict_tool_names);
		json_obj_add_bool(s, "allow_all_known_mcp_methods",
				  ep->mcp_allow_all_known_mcp_methods);
		json_obj_add(o, "mcp", s);
	}
	if (ep->has_json_rpc) {
		s = json_new_obj();
		add_u32(s, "max_body_bytes", ep->json_rpc_max_body_bytes);
		json_obj_add(o, "json_rpc", s);
	}
}

static struct json *endpoint_json(const struct pol_endpoint *ep)
{
	struct json *o = json_new_obj(), *ports = json_new_arr();
	size_t i;

	add_str(o, "host", ep->host);
	for (i = 0; i < ep->n_ports; i++)
		json_arr_add(ports, json_new_i64(ep->ports[i]));
	json_obj_add(o, "ports", ports);
	add_str(o, "path", ep->path);
	add_str(o, "protocol", ep->protocol_text);
	add_str(o, "tls", ep->tls);
	add_str(o, "enforcement", ep->enforcement);
	add_str(o, "access", ep->access);
	add_rules(o, "rules", ep->rules, ep->n_rules, true);
	add_rules(o, "deny_rules", ep->deny_rules, ep->n_deny_rules, false);
	add_list(o, "allowed_ips", ep->allowed_ips, ep->n_allowed_ips);
	add_bool(o, "allow_encoded_slash", ep->allow_encoded_slash);
	add_bool(o, "websocket_credential_rewrite", ep->websocket_credential_rewrite);
	add_bool(o, "request_body_credential_rewrite", ep->request_body_credential_rewrite);
	add_bool(o, "allow_uninspected_credentials", ep->allow_uninspected_credentials);
	add_str(o, "credential_signing", ep->credential_signing);
	add_str(o, "signing_service", ep->signing_service);
	add_str(o, "signing_region", ep->signing_region);
	add_str(o, "persisted_queries", ep->persisted_queries);
	add_persisted(o, ep);
	add_u32(o, "graphql_max_body_bytes", ep->graphql_max_body_bytes);
	add_stanzas(o, ep);
	return o;
}

static struct json *rule_json(const struct pol_rule *r)
{
	struct json *o = json_new_obj(), *a;
	size_t i;

	if (r->name && strcmp(r->name, r->key) != 0)
		add_str(o, "name", r->name);
	if (r->n_endpoints) {
		a = json_new_arr();
		for (i = 0; i < r->n_endpoints; i++)
			json_arr_add(a, endpoint_json(&r->endpoints[i]));
		json_obj_add(o, "endpoints", a);
	}
	if (r->n_binaries) {
		a = json_new_arr();
		for (i = 0; i < r->n_binaries; i++) {
			struct json *b = json_new_obj();

			json_obj_add_str(b, "path", r->binaries[i].path);
			json_arr_add(a, b);
		}
		json_obj_add(o, "binaries", a);
	}
	return o;
}

static struct json *middleware_json(const struct pol_middleware *m)
{
	struct json *o = json_new_obj(), *sel;

	if (m->name && strcmp(m->name, m->key) != 0)
		add_str(o, "name", m->name);
	json_obj_add_str(o, "middleware", m->middleware ? m->middleware : "");
	if (m->order)
		json_obj_add_i64(o, "order", m->order);
	/* the config's content is not kept in the model (only that there is one) */
	if (m->has_config)
		json_obj_add(o, "config", json_new_obj());
	add_str(o, "on_error", m->on_error);
	if (m->n_include || m->n_exclude) {
		sel = json_new_obj();
		add_list(sel, "include", m->include, m->n_include);
		add_list(sel, "exclude", m->exclude, m->n_exclude);
		json_obj_add(o, "endpoints", sel);
	}
	return o;
}

static void add_static(struct json *root, const struct pol_policy *p)
{
	struct json *s;

	if (p->has_filesystem) {
		s = json_new_obj();
		json_obj_add_bool(s, "include_workdir", p->include_workdir);
		add_list(s, "read_only", p->read_only, p->n_read_only);
		add_list(s, "read_write", p->read_write, p->n_read_write);
		json_obj_add(root, "filesystem_policy", s);
	}
	if (p->has_landlock) {
		s = json_new_obj();
		add_str(s, "compatibility", p->landlock_compatibility);
		json_obj_add(root, "landlock", s);
	}
	if (p->has_process) {
		s = json_new_obj();
		add_str(s, "run_as_user", p->run_as_user);
		add_str(s, "run_as_group", p->run_as_group);
		json_obj_add(root, "process", s);
	}
}

void pol_to_json(const struct pol_policy *p, struct buf *out)
{
	struct json *root = json_new_obj(), *m;
	size_t i;

	json_obj_add_i64(root, "version", p->version);
	add_static(root, p);
	if (p->n_rules) {
		m = json_new_obj();
		for (i = 0; i < p->n_rules; i++)
			json_obj_add(m, p->rules[i].key, rule_json(&p->rules[i]));
		json_obj_add(root, "network_policies", m);
	}
	if (p->n_middlewares) {
		m = json_new_obj();
		for (i = 0; i < p->n_middlewares; i++)
			json_obj_add(m, p->middlewares[i].key, middleware_json(&p->middlewares[i]));
		json_obj_add(root, "network_middlewares", m);
	}
	json_write(root, out, JSON_COMPACT | JSON_SORTED);
	json_free(root);
}

void pol_hash(const struct pol_policy *p, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char sum[32];
	br_sha256_context c;
	struct buf j = BUF_INIT;
	size_t i;

	pol_to_json(p, &j);
	br_sha256_init(&c);
	br_sha256_update(&c, j.p, j.len);
	br_sha256_out(&c, sum);
	for (i = 0; i < sizeof(sum); i++) {
		hex[2 * i] = digits[sum[i] >> 4];
		hex[2 * i + 1] = digits[sum[i] & 15];
	}
	hex[64] = '\0';
	buf_release(&j);
}

/* ---- static sections on update (§8.4) ----------------------------------------------------- */

static bool same_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool list_has(const char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static int fs_additive(const struct pol_policy *cur, const struct pol_policy *next, struct err *e)
{
	size_t i;

	if (!cur->has_filesystem)
		return 0;
	if (!next->has_filesystem)
		return err_set(e, ERR_INVALID, 0,
			       "filesystem policy cannot be removed on a live sandbox");
	if (cur->include_workdir != next->include_workdir)
		return err_set(e, ERR_INVALID, 0,
			       "filesystem include_workdir cannot be changed on a live sandbox");
	for (i = 0; i < cur->n_read_only; i++)
		if (!list_has(next->read_only, next->n_read_only, cur->read_only[i]))
			return err_set(e, ERR_INVALID, 0,
				       "filesystem read_only path '%s' cannot be removed on a live "
				       "sandbox",
				       cur->read_only[i]);
	for (i = 0; i < cur->n_read_write; i++)
		if (!list_has(next->read_write, next->n_read_write, cur->read_write[i]))
			return err_set(e, ERR_INVALID, 0,
				       "filesystem read_write path '%s' cannot be removed on a "
				       "live sandbox",
				       cur->read_write[i]);
	return 0;
}

int pol_static_compatible(const struct pol_policy *cur, const struct pol_policy *next,
			  struct err *e)
{
	if (fs_additive(cur, next, e) < 0)
		return -1;
	if (cur->has_landlock != next->has_landlock ||
	    !same_str(cur->landlock_compatibility, next->landlock_compatibility))
		return err_set(
			e, ERR_INVALID, 0,
			"landlock policy cannot be changed on a live sandbox (applied at startup)");
	if (cur->has_process != next->has_process ||
	    !same_str(cur->run_as_user, next->run_as_user) ||
	    !same_str(cur->run_as_group, next->run_as_group))
		return err_set(
			e, ERR_INVALID, 0,
			"process policy cannot be changed on a live sandbox (applied at startup)");
	return 0;
}
