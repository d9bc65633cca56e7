/* SPDX-License-Identifier: Apache-2.0 */
/*
 * L7 validation of one endpoint (reference/policy.md §3.1): the gateway's semantic checks,
 * the supervisor's extra checks on the rules and matchers, and the warnings. Every message
 * is prefixed "network policy '<name>': endpoint <i> has invalid L7 configuration:" (errors)
 * or "network policy '<name>': endpoint <i>:" (warnings).
 */
#include "policy_validate_int.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct l7c {
	struct vctx *v;
	const struct pol_rule *rule;
	size_t idx;
	const struct pol_endpoint *ep;
	enum pol_protocol proto;
	bool allow_all;	  /* mcp.allow_all_known_mcp_methods */
	bool strict;	  /* mcp.strict_tool_names (default true) */
	bool tool_allows; /* an MCP endpoint with tool-specific allow rules */
};

static void report(struct l7c *c, bool warning, struct pol_mark m, const char *fmt, va_list ap)
{
	char msg[800];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (warning)
		pv_add(c->v, true, m, "network policy '%s': endpoint %zu: %s", c->rule->name,
		       c->idx, msg);
	else
		pv_add(c->v, false, m,
		       "network policy '%s': endpoint %zu has invalid L7 configuration: %s",
		       c->rule->name, c->idx, msg);
}

static void err(struct l7c *c, struct pol_mark m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn(struct l7c *c, struct pol_mark m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err(struct l7c *c, struct pol_mark m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, false, m, fmt, ap);
	va_end(ap);
}

static void warn(struct l7c *c, struct pol_mark m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, true, m, fmt, ap);
	va_end(ap);
}

/* ---- small predicates --------------------------------------------------------------------- */

/* The supervisor's check_glob_syntax: unbalanced [] first, then {}. */
static const char *glob_syntax(const char *p, char *buf, size_t n)
{
	const char *pairs[2] = { "[]", "{}" };
	size_t k;

	for (k = 0; k < 2; k++) {
		int depth = 0;
		const char *s;

		for (s = p; *s; s++) {
			if (*s == pairs[k][0])
				depth++;
			else if (*s == pairs[k][1] && depth-- == 0)
				break;
		}
		if (*s) {
			snprintf(buf, n, "glob pattern '%s' has unmatched '%c'", p, pairs[k][1]);
			return buf;
		}
		if (depth > 0) {
			snprintf(buf, n, "glob pattern '%s' has unclosed '%c'", p, pairs[k][0]);
			return buf;
		}
	}
	return NULL;
}

static void glob_warn(struct l7c *c, struct pol_mark m, const char *loc, const char *glob)
{
	char buf[600];

	if (glob_syntax(glob, buf, sizeof(buf)))
		warn(c, m, "%s: %s", loc, buf);
}

static bool uses_wildcard(const char *g)
{
	return strpbrk(g, "*?[]{}") != NULL;
}

static bool is_op_type(const char *s, bool star)
{
	return !strcmp(s, "query") || !strcmp(s, "mutation") || !strcmp(s, "subscription") ||
	       (star && !strcmp(s, "*"));
}

static bool has_graphql_fields(const struct pol_l7rule *r)
{
	return r->operation_type[0] || r->operation_name[0] || r->n_fields;
}

static bool has_transport_fields(const struct pol_l7rule *r)
{
	return r->method[0] || r->path[0] || r->n_query;
}

/* The params written under `params:` (the tool's matcher, when given, is params[0]). */
static size_t first_param(const struct pol_l7rule *r)
{
	return r->has_tool && r->n_params ? 1 : 0;
}

static const struct pol_param *explicit_param(const struct pol_l7rule *r, const char *key)
{
	size_t i;

	for (i = first_param(r); i < r->n_params; i++)
		if (strcmp(r->params[i].key, key) == 0)
			return &r->params[i];
	return NULL;
}

static bool has_tool_selector(const struct pol_l7rule *r)
{
	return r->has_tool || explicit_param(r, "name");
}

static bool matches_tools_call(const char *m)
{
	return !strcmp(m, "tools/call") || !strcmp(m, "*") || pv_shell_glob(m, "tools/call");
}

static bool rules_deny_all(const struct pol_endpoint *ep)
{
	bool gw = ep->n_rules > 0, sv = ep->n_rules > 0;
	size_t i;

	for (i = 0; i < ep->n_rules; i++) {
		const struct pol_l7rule *r = &ep->rules[i];
		bool strs = !r->method[0] && !r->path[0] && !r->command[0] &&
			    !r->operation_type[0] && !r->operation_name[0];

		gw = gw && strs && !r->n_fields && !r->n_params;
		sv = sv && strs && !has_tool_selector(r);
	}
	return gw || sv;
}

/* ---- the gateway's checks (validate_l7_endpoint_semantics and friends) -------------------- */

static void semantics(struct l7c *c)
{
	const struct pol_endpoint *ep = c->ep;
	const char *proto = ep->protocol_text;
	bool rules = ep->n_rules, access = ep->access[0], deny = ep->n_deny_rules;
	bool mcp = c->proto == POL_PROTO_MCP, jrpc = c->proto == POL_PROTO_JSONRPC;
	bool l7 = c->proto != POL_PROTO_NONE && c->proto != POL_PROTO_TCP &&
		  c->proto != POL_PROTO_UNKNOWN;

	if (c->proto == POL_PROTO_UNKNOWN)
		err(c, ep->mark,
		    "unknown protocol '%s' (expected tcp, rest, websocket, graphql, sql, json-rpc, "
		    "or mcp)",
		    proto);
	if (c->proto == POL_PROTO_TCP && (access || rules || deny))
		err(c, ep->mark,
		    "protocol tcp does not support access, rules, or deny_rules; remove those L7 "
		    "fields");
	if (rules && access)
		err(c, ep->mark, "rules and access are mutually exclusive");
	if (mcp && access)
		err(c, ep->mark,
		    "protocol %s does not support access presets; use rules/deny_rules or set "
		    "mcp.allow_all_known_mcp_methods: true for an allow-all MCP policy",
		    proto);
	if (jrpc && access)
		err(c, ep->mark,
		    "protocol %s does not support access presets; use explicit rules with "
		    "allow.method such as \"*\"",
		    proto);
	if (jrpc && !rules && !access)
		err(c, ep->mark, "protocol %s requires explicit rules with allow.method", proto);
	if (l7 && !mcp && !jrpc && !rules && !access)
		err(c, ep->mark, "protocol requires rules or access to define allowed traffic");
	if (mcp && !rules && !access && !c->allow_all)
		err(c, ep->mark,
		    "protocol mcp requires rules when mcp.allow_all_known_mcp_methods is false");
	if (rules_deny_all(ep) && !(mcp && c->allow_all))
		err(c, ep->mark,
		    "rules would deny all traffic (no allow clause found). Use `access: full` or "
		    "add allow clauses to rules.");
	if (deny && !l7)
		err(c, ep->mark, "deny_rules require protocol (L7 inspection must be enabled)");
	if (deny && !mcp && !rules && !access)
		err(c, ep->mark, "deny_rules require rules or access to define the base allow set");
}

static uint32_t json_rpc_limit(const struct pol_endpoint *ep)
{
	return ep->has_mcp ? ep->mcp_max_body_bytes : ep->json_rpc_max_body_bytes;
}

/* Union of the gateway's and the supervisor's lists of fields an explicit tcp endpoint
 * cannot use. */
static void tcp_fields(struct l7c *c)
{
	const struct pol_endpoint *ep = c->ep;
	const struct {
		const char *name;
		bool set;
	} f[] = {
		{ "enforcement", ep->enforcement[0] },
		{ "path", ep->path[0] },
		{ "allow_encoded_slash", ep->allow_encoded_slash },
		{ "websocket_credential_rewrite", ep->websocket_credential_rewrite },
		{ "request_body_credential_rewrite", ep->request_body_credential_rewrite },
		{ "persisted_queries", ep->persisted_queries[0] },
		{ "graphql_persisted_queries", ep->n_graphql_persisted_queries },
		{ "graphql_max_body_bytes", ep->graphql_max_body_bytes },
		{ "json_rpc_max_body_bytes", json_rpc_limit(ep) },
		{ "mcp", ep->has_mcp },
		{ "credential_signing", ep->credential_signing[0] },
		{ "signing_service", ep->signing_service[0] },
		{ "signing_region", ep->signing_region[0] },
		{ "credential_binding", ep->has_credential_binding },
	};
	struct buf list = BUF_INIT;
	size_t i;

	if (c->proto != POL_PROTO_TCP)
		return;
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		if (!f[i].set)
			continue;
		if (list.len)
			buf_adds(&list, ", ");
		buf_adds(&list, f[i].name);
	}
	if (list.len)
		err(c, ep->mark,
		    "protocol tcp does not support L7-only fields: %s; remove those fields",
		    list.p);
	buf_release(&list);
}

static void endpoint_fields(struct l7c *c)
{
	const struct pol_endpoint *ep = c->ep;
	const char *pq = ep->persisted_queries;

	if (ep->path[0] && ep->path[0] != '/' && strcmp(ep->path, "**") != 0)
		err(c, ep->mark, "path must start with '/' or be '**'");
	if (ep->path[0])
		glob_warn(c, ep->mark, "path", ep->path);
	if (pq[0] && strcmp(pq, "deny") && strcmp(pq, "allow_registered"))
		err(c, ep->mark, "persisted_queries must be 'deny' or 'allow_registered', got '%s'",
		    pq);
	if (c->proto == POL_PROTO_SQL && ep->enforce)
		err(c, ep->mark,
		    "SQL enforcement requires full SQL parsing; use enforcement: audit");
	if (ep->has_mcp && c->proto != POL_PROTO_MCP)
		err(c, ep->mark, "mcp options are only valid for protocol mcp");
	if (c->proto == POL_PROTO_MCP && !ep->host[strspn(ep->host, " \t\r\n")])
		err(c, ep->mark,
		    "protocol mcp requires host; protocol alone is not a wildcard endpoint");
	if (c->proto == POL_PROTO_MCP && !ep->n_ports)
		err(c, ep->mark,
		    "protocol mcp requires port or ports; protocol alone is not a wildcard "
		    "endpoint");
}

/* ---- warnings about fields that do nothing ------------------------------------------------ */

static bool port_443(const struct pol_endpoint *ep)
{
	size_t i;

	for (i = 0; i < ep->n_ports; i++)
		if (ep->ports[i] == 443)
			return true;
	return false;
}

static bool known_preset(const char *a)
{
	return !strcmp(a, "read-only") || !strcmp(a, "read-write") || !strcmp(a, "full");
}

static void ignored_fields(struct l7c *c)
{
	const struct pol_endpoint *ep = c->ep;
	enum pol_protocol p = c->proto;

	if (p != POL_PROTO_GRAPHQL && p != POL_PROTO_WEBSOCKET &&
	    (ep->persisted_queries[0] || ep->n_graphql_persisted_queries ||
	     ep->graphql_max_body_bytes))
		warn(c, ep->mark,
		     "GraphQL-specific endpoint fields are ignored unless protocol is graphql or "
		     "websocket");
	if (p != POL_PROTO_JSONRPC && p != POL_PROTO_MCP && json_rpc_limit(ep))
		warn(c, ep->mark,
		     "JSON-RPC-specific endpoint fields are ignored unless protocol is json-rpc or "
		     "mcp");
	if (ep->websocket_credential_rewrite && p != POL_PROTO_REST && p != POL_PROTO_WEBSOCKET)
		warn(c, ep->mark,
		     "websocket_credential_rewrite is ignored unless protocol is rest or "
		     "websocket");
	if (ep->request_body_credential_rewrite && p != POL_PROTO_REST)
		warn(c, ep->mark,
		     "request_body_credential_rewrite is ignored unless protocol is rest");
	if (!strcmp(ep->tls, "terminate") || !strcmp(ep->tls, "passthrough"))
		warn(c, ep->mark,
		     "'tls: %s' is deprecated; TLS termination is now automatic. Use 'tls: skip' "
		     "to disable.",
		     ep->tls);
	if (!strcmp(ep->tls, "skip") && ep->protocol_text[0] && port_443(ep))
		warn(c, ep->mark,
		     "'tls: skip' with L7 rules on port 443 — L7 inspection cannot work on "
		     "encrypted traffic");
	if (ep->access[0] && !ep->n_rules && !known_preset(ep->access))
		warn(c, ep->mark,
		     "unsupported L7 access preset '%s' ignored; expected one of: read-only, "
		     "read-write, full",
		     ep->access);
}

/* ---- GraphQL ------------------------------------------------------------------------------ */

struct gql {
	const char *op_type, *op_name;
	const char *const *fields;
	size_t n_fields;
};

/* The supervisor's validate_graphql_rule; op_type is skipped when the gateway's stricter
 * check already covered it. */
static void graphql_rule(struct l7c *c, struct pol_mark m, const char *loc, const struct gql *g,
			 bool check_type)
{
	size_t i;

	if (check_type && !g->op_type[0])
		err(c, m, "%s.operation_type: required for GraphQL L7 rules", loc);
	else if (check_type && !is_op_type(g->op_type, true) && strcasecmp(g->op_type, "query") &&
		 strcasecmp(g->op_type, "mutation") && strcasecmp(g->op_type, "subscription"))
		err(c, m,
		    "%s.operation_type: expected query, mutation, subscription, or *, got '%s'",
		    loc, g->op_type);
	if (g->op_name[0]) {
		char sub[300];

		snprintf(sub, sizeof(sub), "%s.operation_name", loc);
		glob_warn(c, m, sub, g->op_name);
	}
	for (i = 0; i < g->n_fields; i++) {
		char sub[300];

		snprintf(sub, sizeof(sub), "%s.fields", loc);
		if (!g->fields[i][0])
			err(c, m, "%s: field glob must not be empty", sub);
		else
			glob_warn(c, m, sub, g->fields[i]);
	}
}

static void graphql_registry(struct l7c *c)
{
	const struct pol_endpoint *ep = c->ep;
	size_t i;

	for (i = 0; i < ep->n_graphql_persisted_queries; i++) {
		const struct pol_persisted_query *q = &ep->graphql_persisted_queries[i];
		struct gql g = { q->operation_type, q->operation_name, q->fields, q->n_fields };
		char loc[300];

		snprintf(loc, sizeof(loc), "graphql_persisted_queries[%s]", q->id);
		if (c->proto == POL_PROTO_GRAPHQL && !is_op_type(q->operation_type, false))
			err(c, ep->mark,
			    "%s.operation_type must be query, mutation, or subscription", loc);
		graphql_rule(c, ep->mark, loc, &g, c->proto != POL_PROTO_GRAPHQL);
	}
}

static bool ws_graphql_policy(const struct pol_endpoint *ep)
{
	size_t i;

	if (ep->n_graphql_persisted_queries ||
	    (ep->persisted_queries[0] && strcmp(ep->persisted_queries, "deny")))
		return true;
	for (i = 0; i < ep->n_rules; i++)
		if (has_graphql_fields(&ep->rules[i]))
			return true;
	for (i = 0; i < ep->n_deny_rules; i++)
		if (has_graphql_fields(&ep->deny_rules[i]))
			return true;
	return false;
}

/* ---- matchers and JSON-RPC / MCP rule fields ---------------------------------------------- */

static void matcher(struct l7c *c, struct pol_mark m, const char *loc, const struct pol_matcher *mt)
{
	size_t i;

	if (!mt->n)
		err(c, m, "%s.any: list must not be empty", loc);
	for (i = 0; i < mt->n; i++)
		glob_warn(c, m, loc, mt->globs[i]);
}

static bool matcher_wild(const struct pol_matcher *mt)
{
	size_t i;

	for (i = 0; i < mt->n; i++)
		if (uses_wildcard(mt->globs[i]))
			return true;
	return false;
}

static void query_matchers(struct l7c *c, const struct pol_l7rule *r, const char *loc)
{
	size_t i;

	for (i = 0; i < r->n_query; i++) {
		char sub[400];

		snprintf(sub, sizeof(sub), "%s.query.%s", loc, r->query[i].key);
		matcher(c, r->mark, sub, &r->query[i].m);
	}
}

static void tool_name_matcher(struct l7c *c, const struct pol_l7rule *r, const char *loc,
			      const char *what, const struct pol_matcher *mt)
{
	char sub[300];

	snprintf(sub, sizeof(sub), "%s.%s", loc, what);
	matcher(c, r->mark, sub, mt);
	if (!c->strict && matcher_wild(mt))
		err(c, r->mark,
		    "%s: wildcard tool-name matchers require mcp.strict_tool_names to remain "
		    "enabled",
		    sub);
}

static void mcp_rule(struct l7c *c, const struct pol_l7rule *r, const char *loc)
{
	const struct pol_param *name = explicit_param(r, "name");
	const char *m = r->method;
	size_t i;

	if (m[0]) {
		char sub[100];

		snprintf(sub, sizeof(sub), "%s.method", loc);
		glob_warn(c, r->mark, sub, m);
	}
	if (m[0] && uses_wildcard(m) && !str_has_prefix(m, "tools/"))
		err(c, r->mark,
		    "%s.method: MCP method globs are only valid for the tools/ method family; omit "
		    "method to use the endpoint method profile",
		    loc);
	if (!m[0] && !c->allow_all)
		err(c, r->mark, "%s.method: required when mcp.allow_all_known_mcp_methods is false",
		    loc);
	else if (has_tool_selector(r) && m[0] && strcmp(m, "tools/call"))
		err(c, r->mark,
		    "%s.method: must be tools/call when an MCP rule uses tool or params.name, got "
		    "'%s'",
		    loc, m);
	if (r->has_tool && r->n_params)
		tool_name_matcher(c, r, loc, "tool", &r->params[0].m);
	if (r->has_tool && name)
		err(c, r->mark, "%s: MCP rules must use either tool or params.name, not both", loc);
	for (i = first_param(r); i < r->n_params; i++)
		if (strcmp(r->params[i].key, "name"))
			err(c, r->mark,
			    "%s.params.%s: MCP tool argument matching is not supported yet", loc,
			    r->params[i].key);
	if (name)
		tool_name_matcher(c, r, loc, "params.name", &name->m);
	if (r->path[0] || r->n_query)
		err(c, r->mark, "%s: %s L7 rules must use method/tool, not path/query", loc,
		    c->ep->protocol_text);
}

static void jsonrpc_rule(struct l7c *c, const struct pol_l7rule *r, const char *loc)
{
	const char *proto = c->ep->protocol_text;
	bool params = r->n_params > first_param(r);

	if (c->proto == POL_PROTO_MCP) {
		mcp_rule(c, r, loc);
		return;
	}
	if (r->has_tool)
		err(c, r->mark, "%s.tool: MCP tool matching is only valid for protocol mcp", loc);
	if (c->proto != POL_PROTO_JSONRPC) {
		if (params)
			err(c, r->mark, "%s.params: params matching is only valid for protocol mcp",
			    loc);
		return;
	}
	if (!r->method[0])
		err(c, r->mark, "%s.method: required for %s L7 rules", loc, proto);
	else if (strcmp(r->method, "*") && uses_wildcard(r->method))
		err(c, r->mark,
		    "%s.method: generic JSON-RPC method rules do not support glob or wildcard "
		    "matchers; use \"*\" to allow all methods or an exact method name",
		    loc);
	if (params)
		err(c, r->mark, "%s: JSON-RPC rules do not support params matchers yet", loc);
	if (r->path[0] || r->n_query)
		err(c, r->mark, "%s: %s L7 rules must use method, not path/query", loc, proto);
}

/* ---- per rule ----------------------------------------------------------------------------- */

static void method_warning(struct l7c *c, const struct pol_l7rule *r, const char *loc)
{
	static const char *const rest[] = { "GET",    "HEAD",  "POST",	  "PUT",
					    "DELETE", "PATCH", "OPTIONS", "*" };
	static const char *const ws[] = { "GET", "WEBSOCKET_TEXT", "*" };
	bool is_ws = c->proto == POL_PROTO_WEBSOCKET;
	const char *const *v = is_ws ? ws : rest;
	size_t i, n = is_ws ? ARRAY_SIZE(ws) : ARRAY_SIZE(rest);
	struct buf list = BUF_INIT;

	if (!r->method[0] || (c->proto != POL_PROTO_REST && !is_ws))
		return;
	for (i = 0; i < n; i++)
		if (strcasecmp(r->method, v[i]) == 0)
			return;
	for (i = 0; i < n; i++)
		buf_addf(&list, "%s%s", i ? ", " : "", v[i]);
	warn(c, r->mark, "%sUnknown HTTP/WebSocket method '%s'. Standard methods: %s.", loc,
	     r->method, list.p);
	buf_release(&list);
}

static void graphql_or_ignored(struct l7c *c, const struct pol_l7rule *r, const char *loc,
			       const char *what)
{
	struct gql g = { r->operation_type, r->operation_name, r->fields, r->n_fields };
	bool gql = has_graphql_fields(r);

	if (c->proto == POL_PROTO_WEBSOCKET && gql && has_transport_fields(r))
		err(c, r->mark,
		    "%s: WebSocket GraphQL %s rules must not combine method/path/query with "
		    "operation_type/operation_name/fields",
		    loc, what);
	if (c->proto == POL_PROTO_GRAPHQL || (c->proto == POL_PROTO_WEBSOCKET && gql))
		graphql_rule(c, r->mark, loc, &g, c->proto != POL_PROTO_GRAPHQL);
	else if (gql)
		warn(c, r->mark,
		     "%s: GraphQL rule fields are ignored unless protocol is graphql or websocket",
		     loc);
}

static void deny_rule(struct l7c *c, size_t j)
{
	const struct pol_l7rule *r = &c->ep->deny_rules[j];
	char loc[64], pre[80];

	snprintf(loc, sizeof(loc), "deny_rules[%zu]", j);
	snprintf(pre, sizeof(pre), "%s: ", loc);
	if (c->proto == POL_PROTO_GRAPHQL && !is_op_type(r->operation_type, false))
		err(c, r->mark, "%s.operation_type must be query, mutation, or subscription", loc);
	if (c->tool_allows && r->method[0] && matches_tools_call(r->method) &&
	    !has_tool_selector(r))
		err(c, r->mark,
		    "%s: method matcher denies every tool call and conflicts with MCP tool allow "
		    "rules; add tool or params.name to deny specific tools, or remove the tool "
		    "allow rules",
		    loc);
	method_warning(c, r, pre);
	if (r->path[0]) {
		char sub[80];

		snprintf(sub, sizeof(sub), "%s.path", loc);
		glob_warn(c, r->mark, sub, r->path);
	}
	query_matchers(c, r, loc);
	jsonrpc_rule(c, r, loc);
	if (r->command[0] && c->proto == POL_PROTO_REST)
		warn(c, r->mark, "%s: command is for SQL protocol, not REST", loc);
	graphql_or_ignored(c, r, loc, "deny");
}

static void allow_rule(struct l7c *c, size_t j, bool ws_gql)
{
	const struct pol_l7rule *r = &c->ep->rules[j];
	char loc[64];

	snprintf(loc, sizeof(loc), "rules[%zu].allow", j);
	if (c->proto == POL_PROTO_GRAPHQL && !is_op_type(r->operation_type, false))
		err(c, r->mark, "%s.operation_type must be query, mutation, or subscription", loc);
	method_warning(c, r, "");
	query_matchers(c, r, loc);
	if (c->tool_allows && !has_tool_selector(r) &&
	    (matches_tools_call(r->method) || (!r->method[0] && c->allow_all)))
		err(c, r->mark,
		    "%s: method matcher allows every tool call and conflicts with MCP tool allow "
		    "rules; add tool or params.name to narrow tools/call, or remove the tool allow "
		    "rules",
		    loc);
	jsonrpc_rule(c, r, loc);
	if (ws_gql && strcasecmp(r->method, "WEBSOCKET_TEXT") == 0)
		err(c, r->mark,
		    "%s: WebSocket endpoints with GraphQL operation policy must use "
		    "operation_type/operation_name/fields rules for client messages instead of "
		    "WEBSOCKET_TEXT",
		    loc);
	graphql_or_ignored(c, r, loc, "allow");
}

static bool any_tool_allow(const struct pol_endpoint *ep)
{
	size_t i;

	for (i = 0; i < ep->n_rules; i++)
		if (has_tool_selector(&ep->rules[i]))
			return true;
	return false;
}

void pv_l7_endpoint(struct vctx *v, const struct pol_rule *rule, size_t i)
{
	const struct pol_endpoint *ep = &rule->endpoints[i];
	struct l7c c = { v, rule, i, ep, ep->protocol, false, true, false };
	bool ws_gql;
	size_t j;

	c.allow_all = ep->has_mcp && ep->mcp_allow_all_known_mcp_methods;
	c.strict = !ep->has_mcp || ep->mcp_strict_tool_names;
	c.tool_allows = c.proto == POL_PROTO_MCP && any_tool_allow(ep);
	ws_gql = c.proto == POL_PROTO_WEBSOCKET && ws_graphql_policy(ep);
	semantics(&c);
	tcp_fields(&c);
	endpoint_fields(&c);
	graphql_registry(&c);
	ignored_fields(&c);
	for (j = 0; j < ep->n_deny_rules; j++)
		deny_rule(&c, j);
	for (j = 0; j < ep->n_rules; j++)
		allow_rule(&c, j, ws_gql);
}
