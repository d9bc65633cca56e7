/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy loader's second half: network_policies (rules, endpoints, binaries), L7 allow
 * and deny rules with their matchers (reference/policy.md §1.6-§1.8) and
 * network_middlewares (§1.9). Typed helpers come from policy_load.c.
 */
#include "policy_load_int.h"
#include "util.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The loader's view of an endpoint: `port` is only kept until `ports` is settled. */
struct ep_ld {
	struct pol_endpoint ep;
	uint16_t port;
};

/* The loader's view of an L7 rule: `tool` and `params` are merged once both are known, so
 * that the tool's matcher is always params[0] (policy.c and the validator rely on it). */
struct rule_ld {
	struct pol_l7rule r;
	struct pol_matcher tool;
	yaml_node_t *params;
};

/* ---- matchers ----------------------------------------------------------------------------- */

static const struct ld_field matcher_fields[] = {
	LD_LIST("any", struct pol_matcher, globs, n),
};

static int ld_matcher(struct ld *l, yaml_node_t *n, struct pol_matcher *m)
{
	const char *s;

	memset(m, 0, sizeof(*m));
	if (n->type == YAML_MAPPING_NODE) {
		size_t before = l->r->n_errors;

		ld_map(l, n, matcher_fields, ARRAY_SIZE(matcher_fields), m);
		return l->r->n_errors == before ? 0 : -1;
	}
	if (n->type != YAML_SCALAR_NODE || ld_is_null(n)) {
		ld_err(l, n, "expected a glob string or {any: [globs]}");
		return -1;
	}
	s = ld_string(l, n);
	if (!s)
		return -1;
	m->globs = arena_array(l->a, 1, sizeof(*m->globs));
	m->globs[0] = s;
	m->n = 1;
	return 0;
}

static void ld_query(struct ld *l, yaml_node_t *v, void *obj)
{
	struct rule_ld *w = obj;
	size_t i, len;

	if (ld_is_null(v) || !ld_is_map(l, v))
		return;
	len = ld_check_keys(l, v);
	w->r.query = arena_array(l->a, len, sizeof(*w->r.query));
	for (i = 0; i < len; i++) {
		yaml_node_pair_t *pr = &v->data.mapping.pairs.start[i];
		struct pol_param *q = &w->r.query[w->r.n_query];
		const char *key = ld_key(l, pr);
		size_t saved;

		if (!key)
			continue;
		saved = ld_push_key(l, key);
		if (ld_matcher(l, ld_node(l, pr->value), &q->m) == 0) {
			q->key = key;
			w->r.n_query++;
		}
		ld_pop(l, saved);
	}
}

static void ld_tool(struct ld *l, yaml_node_t *v, void *obj)
{
	struct rule_ld *w = obj;

	if (ld_is_null(v))
		return;
	if (ld_matcher(l, v, &w->tool) == 0)
		w->r.has_tool = true;
}

static void ld_params_later(struct ld *l, yaml_node_t *v, void *obj)
{
	struct rule_ld *w = obj;

	(void)l;
	w->params = v;
}

/* As serde's untagged ParamMatcherDef: a glob, {any: [...]} (or {}), else a nested map. */
static bool is_matcher_node(struct ld *l, const yaml_node_t *n)
{
	yaml_node_t *k, *v;
	size_t len;

	if (n->type != YAML_MAPPING_NODE)
		return true;
	len = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (len == 0)
		return true;
	if (len != 1)
		return false;
	k = ld_node(l, n->data.mapping.pairs.start[0].key);
	v = ld_node(l, n->data.mapping.pairs.start[0].value);
	return k->type == YAML_SCALAR_NODE && k->data.scalar.length == 3 &&
	       memcmp(k->data.scalar.value, "any", 3) == 0 &&
	       (v->type == YAML_SEQUENCE_NODE || ld_is_null(v));
}

static size_t count_leaves(struct ld *l, const yaml_node_t *n, bool top)
{
	size_t i, len, sum = 0;

	if (!top && is_matcher_node(l, n))
		return 1;
	len = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	for (i = 0; i < len; i++)
		sum += count_leaves(l, ld_node(l, n->data.mapping.pairs.start[i].value), false);
	return sum;
}

static void flatten(struct ld *l, yaml_node_t *n, const char *prefix, struct pol_l7rule *r);

static void flatten_children(struct ld *l, yaml_node_t *n, const char *prefix, struct pol_l7rule *r)
{
	size_t i, len = ld_check_keys(l, n);

	for (i = 0; i < len; i++) {
		yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
		const char *key = ld_key(l, pr);
		size_t saved;

		if (!key)
			continue;
		saved = ld_push_key(l, key);
		flatten(l, ld_node(l, pr->value),
			prefix ? arena_printf(l->a, "%s.%s", prefix, key) : key, r);
		ld_pop(l, saved);
	}
}

static void flatten(struct ld *l, yaml_node_t *n, const char *prefix, struct pol_l7rule *r)
{
	struct pol_param *pp = &r->params[r->n_params];

	if (!is_matcher_node(l, n)) {
		flatten_children(l, n, prefix, r);
		return;
	}
	if (ld_matcher(l, n, &pp->m) == 0) {
		pp->key = prefix;
		r->n_params++;
	}
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Flattening can make two spellings collide ({a.b: x} and {a: {b: y}}). */
static void check_flat_dups(struct ld *l, const yaml_node_t *n, const struct pol_param *v,
			    size_t count)
{
	const char **keys;
	size_t i;

	if (count < 2)
		return;
	keys = xcalloc(count, sizeof(*keys));
	for (i = 0; i < count; i++)
		keys[i] = v[i].key;
	qsort(keys, count, sizeof(*keys), str_ptr_cmp);
	for (i = 1; i < count; i++)
		if (strcmp(keys[i], keys[i - 1]) == 0 && (i < 2 || strcmp(keys[i], keys[i - 2])))
			ld_err(l, n, "params key '%s' is given twice", keys[i]);
	free(keys);
}

static void finish_params(struct ld *l, struct rule_ld *w)
{
	struct pol_l7rule *r = &w->r;
	size_t n = w->r.has_tool, saved, first;

	if (w->params && !ld_is_null(w->params) && ld_is_map(l, w->params))
		n += count_leaves(l, w->params, true);
	else
		w->params = NULL;
	if (!n)
		return;
	r->params = arena_array(l->a, n, sizeof(*r->params));
	if (r->has_tool) {
		r->params[0].key = "name";
		r->params[0].m = w->tool;
		r->n_params = 1;
	}
	if (!w->params)
		return;
	first = r->n_params;
	saved = ld_push_key(l, "params");
	flatten_children(l, w->params, NULL, r);
	check_flat_dups(l, w->params, r->params + first, r->n_params - first);
	ld_pop(l, saved);
}

/* ---- L7 rules ----------------------------------------------------------------------------- */

static const struct ld_field l7_fields[] = {
	LD_FIELD("method", LD_STR, struct rule_ld, r.method),
	LD_FIELD("path", LD_STR, struct rule_ld, r.path),
	LD_FIELD("command", LD_STR, struct rule_ld, r.command),
	LD_CALL("query", ld_query),
	LD_FIELD("operation_type", LD_STR, struct rule_ld, r.operation_type),
	LD_FIELD("operation_name", LD_STR, struct rule_ld, r.operation_name),
	LD_LIST("fields", struct rule_ld, r.fields, r.n_fields),
	LD_CALL("tool", ld_tool),
	LD_CALL("params", ld_params_later),
};

static void rule_init(struct rule_ld *w, const yaml_node_t *n)
{
	memset(w, 0, sizeof(*w));
	w->r.method = w->r.path = w->r.command = "";
	w->r.operation_type = w->r.operation_name = "";
	w->r.mark = ld_mark(n);
}

static void ld_l7(struct ld *l, yaml_node_t *v, void *obj)
{
	struct rule_ld *w = obj;

	if (ld_is_null(v)) {
		ld_err(l, v, "expected a mapping, got null");
		return;
	}
	ld_map(l, v, l7_fields, ARRAY_SIZE(l7_fields), w);
	finish_params(l, w);
}

static const struct ld_field allow_fields[] = {
	{ "allow", LD_FN, 0, 0, ld_l7, true },
};

static void ld_rule_list(struct ld *l, yaml_node_t *v, struct pol_l7rule **out, size_t *count,
			 bool wrapped)
{
	long n = ld_seq_len(l, v), i;
	struct pol_l7rule *rules;

	if (n <= 0)
		return;
	rules = arena_array(l->a, (size_t)n, sizeof(*rules));
	for (i = 0; i < n; i++) {
		yaml_node_t *item = ld_node(l, v->data.sequence.items.start[i]);
		size_t saved = ld_push_index(l, (size_t)i);
		struct rule_ld w;

		rule_init(&w, item);
		if (wrapped)
			ld_map(l, item, allow_fields, ARRAY_SIZE(allow_fields), &w);
		else
			ld_l7(l, item, &w);
		rules[i] = w.r;
		ld_pop(l, saved);
	}
	*out = rules;
	*count = (size_t)n;
}

static void ld_rules(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ep_ld *e = obj;

	ld_rule_list(l, v, &e->ep.rules, &e->ep.n_rules, true);
}

static void ld_deny_rules(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ep_ld *e = obj;

	ld_rule_list(l, v, &e->ep.deny_rules, &e->ep.n_deny_rules, false);
}

/* ---- endpoint stanzas --------------------------------------------------------------------- */

static void ld_ports(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ep_ld *e = obj;
	long n = ld_seq_len(l, v), i;
	int64_t port;

	if (n <= 0)
		return;
	e->ep.ports = arena_array(l->a, (size_t)n, sizeof(*e->ep.ports));
	for (i = 0; i < n; i++) {
		size_t saved = ld_push_index(l, (size_t)i);

		if (ld_int(l, ld_node(l, v->data.sequence.items.start[i]), 0, UINT16_MAX, &port) ==
		    0)
			e->ep.ports[e->ep.n_ports++] = (uint16_t)port;
		ld_pop(l, saved);
	}
}

static void ld_binding(struct ld *l, yaml_node_t *v, void *obj)
{
	static const struct ld_field f[] = {
		LD_REQ("provider", LD_STR, struct ep_ld, ep.credential_binding_provider),
	};
	struct ep_ld *e = obj;

	if (ld_is_null(v))
		return;
	e->ep.has_credential_binding = true;
	ld_map(l, v, f, ARRAY_SIZE(f), e);
}

static void ld_mcp(struct ld *l, yaml_node_t *v, void *obj)
{
	static const struct ld_field f[] = {
		LD_FIELD("max_body_bytes", LD_U32, struct ep_ld, ep.mcp_max_body_bytes),
		LD_FIELD("strict_tool_names", LD_BOOL, struct ep_ld, ep.mcp_strict_tool_names),
		LD_FIELD("allow_all_known_mcp_methods", LD_BOOL, struct ep_ld,
			 ep.mcp_allow_all_known_mcp_methods),
	};
	struct ep_ld *e = obj;

	if (ld_is_null(v))
		return;
	e->ep.has_mcp = true;
	ld_map(l, v, f, ARRAY_SIZE(f), e);
}

static void ld_json_rpc(struct ld *l, yaml_node_t *v, void *obj)
{
	static const struct ld_field f[] = {
		LD_FIELD("max_body_bytes", LD_U32, struct ep_ld, ep.json_rpc_max_body_bytes),
	};
	struct ep_ld *e = obj;

	if (ld_is_null(v))
		return;
	e->ep.has_json_rpc = true;
	ld_map(l, v, f, ARRAY_SIZE(f), e);
}

static void ld_persisted(struct ld *l, yaml_node_t *v, void *obj)
{
	static const struct ld_field f[] = {
		LD_FIELD("operation_type", LD_STR, struct pol_persisted_query, operation_type),
		LD_FIELD("operation_name", LD_STR, struct pol_persisted_query, operation_name),
		LD_LIST("fields", struct pol_persisted_query, fields, n_fields),
	};
	struct pol_endpoint *ep = &((struct ep_ld *)obj)->ep;
	size_t i, len;

	if (ld_is_null(v) || !ld_is_map(l, v))
		return;
	len = ld_check_keys(l, v);
	ep->graphql_persisted_queries =
		arena_array(l->a, len, sizeof(*ep->graphql_persisted_queries));
	for (i = 0; i < len; i++) {
		yaml_node_pair_t *pr = &v->data.mapping.pairs.start[i];
		struct pol_persisted_query *q;
		const char *key = ld_key(l, pr);
		size_t saved;

		if (!key)
			continue;
		q = &ep->graphql_persisted_queries[ep->n_graphql_persisted_queries++];
		q->id = key;
		q->operation_type = q->operation_name = "";
		saved = ld_push_key(l, key);
		ld_map(l, ld_node(l, pr->value), f, ARRAY_SIZE(f), q);
		ld_pop(l, saved);
	}
}

/* ---- endpoints ---------------------------------------------------------------------------- */

static const struct ld_field ep_fields[] = {
	LD_FIELD("host", LD_STR, struct ep_ld, ep.host),
	LD_FIELD("port", LD_U16, struct ep_ld, port),
	LD_CALL("ports", ld_ports),
	LD_FIELD("path", LD_STR, struct ep_ld, ep.path),
	LD_FIELD("protocol", LD_STR, struct ep_ld, ep.protocol_text),
	LD_FIELD("tls", LD_STR, struct ep_ld, ep.tls),
	LD_FIELD("enforcement", LD_STR, struct ep_ld, ep.enforcement),
	LD_FIELD("access", LD_STR, struct ep_ld, ep.access),
	LD_CALL("rules", ld_rules),
	LD_CALL("deny_rules", ld_deny_rules),
	LD_LIST("allowed_ips", struct ep_ld, ep.allowed_ips, ep.n_allowed_ips),
	LD_FIELD("allow_encoded_slash", LD_BOOL, struct ep_ld, ep.allow_encoded_slash),
	LD_FIELD("websocket_credential_rewrite", LD_BOOL, struct ep_ld,
		 ep.websocket_credential_rewrite),
	LD_FIELD("request_body_credential_rewrite", LD_BOOL, struct ep_ld,
		 ep.request_body_credential_rewrite),
	LD_FIELD("allow_uninspected_credentials", LD_BOOL, struct ep_ld,
		 ep.allow_uninspected_credentials),
	LD_FIELD("credential_signing", LD_STR, struct ep_ld, ep.credential_signing),
	LD_FIELD("signing_service", LD_STR, struct ep_ld, ep.signing_service),
	LD_FIELD("signing_region", LD_STR, struct ep_ld, ep.signing_region),
	LD_CALL("credential_binding", ld_binding),
	LD_FIELD("persisted_queries", LD_STR, struct ep_ld, ep.persisted_queries),
	LD_CALL("graphql_persisted_queries", ld_persisted),
	LD_FIELD("graphql_max_body_bytes", LD_U32, struct ep_ld, ep.graphql_max_body_bytes),
	LD_CALL("mcp", ld_mcp),
	LD_CALL("json_rpc", ld_json_rpc),
};

/* L7Protocol::parse and the tcp check compare case-insensitively. */
static enum pol_protocol protocol_of(const char *s)
{
	static const char *const names[] = { "tcp", "rest",	"websocket", "graphql",
					     "mcp", "json-rpc", "sql" };
	static const enum pol_protocol ids[] = { POL_PROTO_TCP,	      POL_PROTO_REST,
						 POL_PROTO_WEBSOCKET, POL_PROTO_GRAPHQL,
						 POL_PROTO_MCP,	      POL_PROTO_JSONRPC,
						 POL_PROTO_SQL };
	size_t i;

	if (!s[0])
		return POL_PROTO_NONE;
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (strcasecmp(s, names[i]) == 0)
			return ids[i];
	return POL_PROTO_UNKNOWN;
}

static void ep_init(struct ep_ld *e, const yaml_node_t *n)
{
	struct pol_endpoint *ep = &e->ep;

	memset(e, 0, sizeof(*e));
	ep->host = ep->path = ep->protocol_text = ep->tls = ep->enforcement = ep->access = "";
	ep->credential_signing = ep->signing_service = ep->signing_region = "";
	ep->credential_binding_provider = ep->persisted_queries = "";
	ep->mcp_strict_tool_names = true;
	ep->mark = ld_mark(n);
}

/* `ports` wins over `port` silently, as the reference's conversion does (§1.7). */
static void ep_finish(struct ld *l, struct ep_ld *e)
{
	struct pol_endpoint *ep = &e->ep;

	if (!ep->n_ports && e->port) {
		ep->ports = arena_array(l->a, 1, sizeof(*ep->ports));
		ep->ports[0] = e->port;
		ep->n_ports = 1;
	}
	ep->protocol = protocol_of(ep->protocol_text);
	ep->enforce = strcmp(ep->enforcement, "enforce") == 0;
}

static void ld_endpoints(struct ld *l, yaml_node_t *v, void *obj)
{
	struct pol_rule *rule = obj;
	long n = ld_seq_len(l, v), i;

	if (n <= 0)
		return;
	rule->endpoints = arena_array(l->a, (size_t)n, sizeof(*rule->endpoints));
	for (i = 0; i < n; i++) {
		yaml_node_t *item = ld_node(l, v->data.sequence.items.start[i]);
		size_t saved = ld_push_index(l, (size_t)i);
		struct ep_ld e;

		ep_init(&e, item);
		if (ld_is_null(item))
			ld_err(l, item, "expected a mapping, got null");
		else
			ld_map(l, item, ep_fields, ARRAY_SIZE(ep_fields), &e);
		ep_finish(l, &e);
		rule->endpoints[i] = e.ep;
		ld_pop(l, saved);
	}
	rule->n_endpoints = (size_t)n;
}

/* ---- rules -------------------------------------------------------------------------------- */

static void ld_binaries(struct ld *l, yaml_node_t *v, void *obj)
{
	static const struct ld_field f[] = {
		LD_REQ("path", LD_STR, struct pol_binary, path),
		{ "harness", LD_SKIP, 0, 0, NULL, false }, /* legacy, ignored */
	};
	struct pol_rule *rule = obj;
	long n = ld_seq_len(l, v), i;

	if (n <= 0)
		return;
	rule->binaries = arena_array(l->a, (size_t)n, sizeof(*rule->binaries));
	for (i = 0; i < n; i++) {
		yaml_node_t *item = ld_node(l, v->data.sequence.items.start[i]);
		size_t saved = ld_push_index(l, (size_t)i);
		struct pol_binary *b = &rule->binaries[i];

		b->path = "";
		b->mark = ld_mark(item);
		if (ld_is_null(item))
			ld_err(l, item, "expected a mapping, got null");
		else
			ld_map(l, item, f, ARRAY_SIZE(f), b);
		ld_pop(l, saved);
	}
	rule->n_binaries = (size_t)n;
}

static const struct ld_field rule_fields[] = {
	LD_FIELD("name", LD_STR, struct pol_rule, name),
	LD_CALL("endpoints", ld_endpoints),
	LD_CALL("binaries", ld_binaries),
};

static int rule_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pol_rule *)a)->key, ((const struct pol_rule *)b)->key);
}

void ld_network_policies(struct ld *l, yaml_node_t *v, void *obj)
{
	struct pol_policy *p = obj;
	size_t i, len;

	if (ld_is_null(v) || !ld_is_map(l, v))
		return;
	len = ld_check_keys(l, v);
	p->rules = arena_array(l->a, len, sizeof(*p->rules));
	for (i = 0; i < len; i++) {
		yaml_node_pair_t *pr = &v->data.mapping.pairs.start[i];
		const char *key = ld_key(l, pr);
		struct pol_rule *rule;
		size_t saved;

		if (!key)
			continue;
		rule = &p->rules[p->n_rules++];
		rule->key = key;
		rule->name = "";
		rule->mark = ld_mark(ld_node(l, pr->key));
		saved = ld_push_key(l, key);
		ld_map(l, ld_node(l, pr->value), rule_fields, ARRAY_SIZE(rule_fields), rule);
		if (!rule->name[0])
			rule->name = key;
		ld_pop(l, saved);
	}
	qsort(p->rules, p->n_rules, sizeof(*p->rules), rule_cmp);
}

/* ---- middlewares -------------------------------------------------------------------------- */

/* `config` is free-form data for the middleware; only its shape is checked here. */
static void check_free(struct ld *l, yaml_node_t *n)
{
	size_t i, len, saved;

	if (n->type == YAML_SEQUENCE_NODE) {
		len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
		for (i = 0; i < len; i++) {
			saved = ld_push_index(l, i);
			check_free(l, ld_node(l, n->data.sequence.items.start[i]));
			ld_pop(l, saved);
		}
		return;
	}
	if (n->type != YAML_MAPPING_NODE)
		return;
	len = ld_check_keys(l, n);
	for (i = 0; i < len; i++) {
		yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
		const char *key = ld_key(l, pr);

		if (!key)
			continue;
		saved = ld_push_key(l, key);
		check_free(l, ld_node(l, pr->value));
		ld_pop(l, saved);
	}
}

static void ld_config(struct ld *l, yaml_node_t *v, void *obj)
{
	struct pol_middleware *m = obj;

	if (ld_is_null(v) || !ld_is_map(l, v))
		return;
	m->has_config = true;
	check_free(l, v);
}

static void ld_selector(struct ld *l, yaml_node_t *v, void *obj)
{
	static const struct ld_field f[] = {
		LD_LIST("include", struct pol_middleware, include, n_include),
		LD_LIST("exclude", struct pol_middleware, exclude, n_exclude),
	};

	if (!ld_is_null(v))
		ld_map(l, v, f, ARRAY_SIZE(f), obj);
}

static const struct ld_field mw_fields[] = {
	LD_FIELD("name", LD_STR, struct pol_middleware, name),
	LD_REQ("middleware", LD_STR, struct pol_middleware, middleware),
	LD_FIELD("order", LD_I32, struct pol_middleware, order),
	LD_CALL("config", ld_config),
	LD_FIELD("on_error", LD_STR, struct pol_middleware, on_error),
	LD_CALL("endpoints", ld_selector),
};

void ld_network_middlewares(struct ld *l, yaml_node_t *v, void *obj)
{
	struct pol_policy *p = obj;
	size_t i, len;

	if (ld_is_null(v) || !ld_is_map(l, v))
		return;
	len = ld_check_keys(l, v);
	p->middlewares = arena_array(l->a, len, sizeof(*p->middlewares));
	for (i = 0; i < len; i++) {
		yaml_node_pair_t *pr = &v->data.mapping.pairs.start[i];
		const char *key = ld_key(l, pr);
		struct pol_middleware *m;
		size_t saved;

		if (!key)
			continue;
		m = &p->middlewares[p->n_middlewares++];
		m->key = key;
		m->name = m->middleware = m->on_error = "";
		m->mark = ld_mark(ld_node(l, pr->key));
		saved = ld_push_key(l, key);
		ld_map(l, ld_node(l, pr->value), mw_fields, ARRAY_SIZE(mw_fields), m);
		if (!m->name[0])
			m->name = key;
		ld_pop(l, saved);
	}
}
