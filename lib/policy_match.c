/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The decisions of the reference's sandbox-policy.rego, in C: L4 (host, port, binary) per
 * connection (reference/policy.md §4.3, §4.7, mode 4 of §4.5) and the REST-shaped L7 rules
 * per request (§4.8, presets §4.9). Globs are lib/policy_glob.c; SSRF is policy_addr.c.
 * A glob the reference would fail to compile makes the evaluation fail closed.
 */
#include "lib/policy.h"
#include "lib/util.h"

#include <string.h>
#include <strings.h>

static const char symlink_hint[] =
	"SYMLINK HINT: the binary path is the kernel-resolved target from /proc/<pid>/exe, not "
	"the symlink. If your policy specifies a symlink (e.g., /usr/bin/python3) but the "
	"actual binary is /usr/bin/python3.11, either: (1) use the canonical path in your "
	"policy (run 'readlink -f /usr/bin/python3' inside the sandbox), or (2) ensure symlink "
	"resolution is working (check sandbox logs for 'Cannot access container filesystem')";

static const char *str(const char *s)
{
	return s ? s : "";
}

static void lower_into(struct buf *b, const char *s)
{
	buf_reset(b);
	for (; *s; s++)
		buf_addch(b, (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s));
}

static bool port_in(const struct pol_endpoint *ep, uint16_t port)
{
	size_t i;

	for (i = 0; i < ep->n_ports; i++)
		if (ep->ports[i] == port)
			return true;
	return false;
}

/* endpoint_matches_request(): 1, 0, or -1 when the host glob fails. lh is lowercase. */
static int endpoint_matches(const struct pol_endpoint *ep, const char *lh, uint16_t port)
{
	const char *host = str(ep->host);
	struct buf lp = BUF_INIT;
	int hit;

	if (strchr(host, '*')) {
		lower_into(&lp, host);
		hit = pol_glob_match(lp.p, ".", lh);
		buf_release(&lp);
		if (hit < 0)
			return -1;
	} else {
		hit = !strcasecmp(host, lh) || (!*host && ep->n_allowed_ips);
	}
	return hit && port_in(ep, port);
}

/* Whether some endpoint of r matches; -1 on a glob failure. */
static int rule_endpoint_matches(const struct pol_rule *r, const char *lh, uint16_t port)
{
	size_t i;
	int m, any = 0;

	for (i = 0; i < r->n_endpoints; i++) {
		m = endpoint_matches(&r->endpoints[i], lh, port);
		if (m < 0)
			return -1;
		any |= m;
	}
	return any;
}

/* binary_allowed() without the relaxed mode: exact exe or ancestor, or a '*' glob over
 * exe and ancestors with '/' as the delimiter. */
static int binary_matches(const struct pol_rule *r, const struct pol_l4_input *in)
{
	size_t i, k;
	int g;

	for (i = 0; i < r->n_binaries; i++) {
		const char *b = str(r->binaries[i].path);
		bool glob = strchr(b, '*') != NULL;

		for (k = 0; k <= in->n_ancestors; k++) {
			const char *p = k ? in->ancestors[k - 1] : in->exe;

			if (!p)
				continue;
			if (!glob) {
				if (!strcmp(b, p))
					return 1;
				continue;
			}
			g = pol_glob_match(b, "/", p);
			if (g)
				return g;
		}
	}
	return 0;
}

static int binary_ok(const struct pol_rule *r, const struct pol_l4_input *in)
{
	return in->identity_relaxed ? 1 : binary_matches(r, in);
}

static void add_list(struct buf *b, const char *const *v, size_t n, const char *sep)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			buf_adds(b, sep);
		buf_adds(b, str(v[i]));
	}
}

static void add_binary_miss(struct buf *b, const struct pol_rule *r, const struct pol_l4_input *in)
{
	if (b->len)
		buf_adds(b, "; ");
	buf_addf(b, "binary '%s' not allowed in policy '%s' (ancestors: [", str(in->exe), r->key);
	add_list(b, in->ancestors, in->n_ancestors, " -> ");
	buf_adds(b, "], cmdline: [");
	add_list(b, in->cmdline, in->n_cmdline, ", ");
	buf_addf(b, "]). %s", symlink_hint);
}

/* Endpoints with "extended config" (§4.7): a protocol other than tcp, allowed_ips, tls. */
static bool has_ext(const struct pol_endpoint *ep)
{
	return (ep->protocol != POL_PROTO_NONE && ep->protocol != POL_PROTO_TCP) ||
	       ep->n_allowed_ips || *str(ep->tls);
}

static int collect_ext(struct pol_l4_decision *d, const struct pol_rule *r, const char *lh,
		       uint16_t port)
{
	size_t i;
	int m;

	for (i = 0; i < r->n_endpoints; i++) {
		m = endpoint_matches(&r->endpoints[i], lh, port);
		if (m < 0)
			return -1;
		if (!m || !has_ext(&r->endpoints[i]) || d->n_ext == POL_MAX_MATCHED)
			continue;
		d->ext[d->n_ext] = &r->endpoints[i];
		d->ext_rule[d->n_ext++] = r;
	}
	return 0;
}

/* exact_declared_endpoint_host: any rule whose binaries match (ignoring its endpoints) has
 * a non-wildcard endpoint with exactly this host and port. */
static int exact_declared(const struct pol_policy *p, const struct pol_l4_input *in, const char *lh)
{
	size_t i, k;
	int b;

	for (i = 0; i < p->n_rules; i++) {
		const struct pol_rule *r = &p->rules[i];

		b = binary_ok(r, in);
		if (b <= 0) {
			if (b < 0)
				return -1;
			continue;
		}
		for (k = 0; k < r->n_endpoints; k++) {
			const struct pol_endpoint *ep = &r->endpoints[k];

			if (!strchr(str(ep->host), '*') && !strcasecmp(str(ep->host), lh) &&
			    port_in(ep, in->port))
				return 1;
		}
	}
	return 0;
}

/* regorus fails the whole query on a glob it cannot compile, whichever rule holds it. */
static int check_globs(const struct pol_policy *p, struct buf *why)
{
	struct buf lp = BUF_INIT;
	size_t i, k;
	int ret = -1;

	for (i = 0; i < p->n_rules; i++) {
		const struct pol_rule *r = &p->rules[i];

		for (k = 0; k < r->n_endpoints; k++) {
			const char *h = str(r->endpoints[k].host);

			lower_into(&lp, h);
			if (strchr(h, '*') && pol_glob_match(lp.p, ".", "") < 0) {
				buf_addf(why, "invalid host pattern '%s' in policy '%s'", h,
					 r->key);
				goto out;
			}
		}
		for (k = 0; k < r->n_binaries; k++) {
			const char *b = str(r->binaries[k].path);

			if (strchr(b, '*') && pol_glob_match(b, "/", "") < 0) {
				buf_addf(why, "invalid binary pattern '%s' in policy '%s'", b,
					 r->key);
				goto out;
			}
		}
	}
	ret = 0;
out:
	buf_release(&lp);
	return ret;
}

void pol_l4_decision_init(struct pol_l4_decision *d)
{
	memset(d, 0, sizeof(*d));
	buf_init(&d->reason);
}

void pol_l4_decision_release(struct pol_l4_decision *d)
{
	buf_release(&d->reason);
	d->allow = false;
	d->rule = NULL;
	d->n_ext = 0;
}

static void l4_reset(struct pol_l4_decision *d)
{
	d->allow = false;
	d->rule = NULL;
	d->n_ext = 0;
	d->exact_declared_host = false;
	buf_reset(&d->reason);
}

/* One rule against the connection: collects it when it matches, its miss when only the
 * endpoint does. Returns 1 when the endpoint matched, 0 when not, -1 on a glob failure. */
static int eval_rule(struct pol_l4_decision *d, const struct pol_rule *r,
		     const struct pol_l4_input *in, const char *lh, struct buf *misses)
{
	int em = rule_endpoint_matches(r, lh, in->port), bm;

	if (em <= 0)
		return em;
	bm = binary_ok(r, in);
	if (bm < 0)
		return -1;
	if (!bm) {
		add_binary_miss(misses, r, in);
		return 1;
	}
	if (!d->rule || strcmp(r->key, d->rule->key) < 0)
		d->rule = r;
	return collect_ext(d, r, lh, in->port) < 0 ? -1 : 1;
}

int pol_eval_l4(const struct pol_policy *p, const struct pol_l4_input *in,
		struct pol_l4_decision *d)
{
	struct buf lh = BUF_INIT, misses = BUF_INIT;
	bool any_endpoint = false;
	int ret = -1, m;
	size_t i;

	l4_reset(d);
	if (!p || !in || !in->host) {
		buf_adds(&d->reason, "connection cannot be evaluated: no host");
		goto out;
	}
	lower_into(&lh, in->host);
	if (check_globs(p, &d->reason) < 0)
		goto out;
	for (i = 0; i < p->n_rules; i++) {
		m = eval_rule(d, &p->rules[i], in, lh.p, &misses);
		if (m < 0)
			goto glob_failed;
		any_endpoint |= m;
	}
	m = exact_declared(p, in, lh.p);
	if (m < 0)
		goto glob_failed;
	d->exact_declared_host = m;
	d->allow = d->rule != NULL;
	if (!d->allow && !p->n_rules)
		buf_adds(&d->reason, "network connections not allowed by policy");
	else if (!d->allow && !any_endpoint)
		buf_addf(&d->reason, "endpoint %s:%u is not allowed by any policy", lh.p, in->port);
	else if (!d->allow)
		buf_add(&d->reason, misses.p, misses.len);
	ret = 0;
	goto out;
glob_failed:
	buf_adds(&d->reason, "connection cannot be evaluated: a glob in the policy failed");
out:
	if (ret < 0) {
		d->allow = false;
		d->rule = NULL;
		d->n_ext = 0;
	}
	buf_release(&lh);
	buf_release(&misses);
	return ret;
}

static bool rest_shaped(enum pol_protocol proto)
{
	return proto == POL_PROTO_REST || proto == POL_PROTO_WEBSOCKET;
}

static bool l7_protocol(enum pol_protocol proto)
{
	return rest_shaped(proto) || proto == POL_PROTO_GRAPHQL || proto == POL_PROTO_MCP ||
	       proto == POL_PROTO_JSONRPC || proto == POL_PROTO_SQL;
}

bool pol_l4_needs_l7(const struct pol_l4_decision *d)
{
	bool l7 = false;
	size_t i;

	if (!d->allow)
		return false;
	for (i = 0; i < d->n_ext; i++) {
		if (!strcmp(str(d->ext[i]->tls), "skip"))
			return false;
		/* SQL is audit-only and not HTTP; the other protocols this build cannot inspect
		 * still take the L7 path, where pol_eval_l7() denies them (fail closed). */
		if (l7_protocol(d->ext[i]->protocol) && d->ext[i]->protocol != POL_PROTO_SQL)
			l7 = true;
	}
	return l7;
}

/* ---- L7 ------------------------------------------------------------------------------------ */

struct qparam {
	const char *key, *val;
};

struct query {
	struct arena a;
	struct qparam *v;
	size_t n, cap;
};

/* decode_query_component(): %HH and '+'; NULL with why set when the reference rejects the
 * component. A decoded NUL is refused as well: the glob it would reach fails closed. */
static char *decode_component(struct arena *a, const char *s, size_t n, const char **why)
{
	char *out = arena_alloc(a, n + 1);
	size_t i, k = 0, len;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[k++] = s[i] == '+' ? ' ' : s[i];
			continue;
		}
		if (i + 2 >= n) {
			*why = "Invalid percent-encoding in query component";
			return NULL;
		}
		hi = hex_digit((unsigned char)s[i + 1]);
		lo = hex_digit((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0) {
			*why = "Invalid percent-encoding in query component";
			return NULL;
		}
		out[k++] = (char)(hi << 4 | lo);
		i += 2;
	}
	if (memchr(out, '\0', k)) {
		*why = "Query component contains a NUL byte";
		return NULL;
	}
	for (i = 0; i < k; i += len) {
		len = utf8_seq_len((const unsigned char *)out + i, k - i);
		if (!len) {
			*why = "Query component is not valid UTF-8";
			return NULL;
		}
	}
	out[k] = '\0';
	return out;
}

static void query_add(struct query *q, const char *key, const char *val)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 8;

		q->v = arena_grow(&q->a, q->v, q->n, cap, sizeof(*q->v));
		q->cap = cap;
	}
	q->v[q->n].key = key;
	q->v[q->n++].val = val;
}

/* parse_query_params(): pairs split on '&' (empty ones skipped), key and value at the
 * first '='. Returns NULL, or the reference's reason for rejecting the request. */
static const char *query_parse(struct query *q, const char *raw)
{
	const char *why = NULL, *amp, *eq;
	char *key, *val;
	size_t n;

	for (; raw && *raw; raw = *amp ? amp + 1 : amp) {
		amp = strchr(raw, '&');
		if (!amp)
			amp = raw + strlen(raw);
		n = (size_t)(amp - raw);
		if (!n)
			continue;
		eq = memchr(raw, '=', n);
		key = decode_component(&q->a, raw, eq ? (size_t)(eq - raw) : n, &why);
		val = key ? decode_component(&q->a, eq ? eq + 1 : amp,
					     eq ? (size_t)(amp - eq - 1) : 0, &why)
			  : NULL;
		if (!val)
			return why;
		query_add(q, key, val);
	}
	return NULL;
}

/* Any glob of the matcher matches value (delimiter "" = "."): 1, 0, -1. */
static int matcher_hits(const struct pol_matcher *m, const char *value)
{
	size_t i;
	int g;

	for (i = 0; i < m->n; i++) {
		g = pol_glob_match(str(m->globs[i]), "", value);
		if (g)
			return g;
	}
	return 0;
}

/* query_params_match() (allow: every value of every key matches, at least one value) and
 * deny_query_params_match() (every key present with at least one matching value). */
static int query_ok(const struct pol_l7rule *r, const struct query *q, bool deny)
{
	size_t i, k, seen, hits;
	int g;

	for (i = 0; i < r->n_query; i++) {
		seen = hits = 0;
		for (k = 0; k < q->n; k++) {
			if (strcmp(q->v[k].key, str(r->query[i].key)))
				continue;
			seen++;
			g = matcher_hits(&r->query[i].m, q->v[k].val);
			if (g < 0)
				return -1;
			hits += (size_t)g;
		}
		if (!seen || (deny ? !hits : hits != seen))
			return 0;
	}
	return 1;
}

static bool method_ok(const char *actual, const char *want)
{
	return !strcmp(want, "*") || !strcasecmp(actual, want) ||
	       (!strcasecmp(actual, "HEAD") && !strcasecmp(want, "GET"));
}

/* path_matches(): rule path "**" is any path, else the glob with '/' as the delimiter. */
static int path_ok(const char *path, const char *pattern)
{
	if (!strcmp(pattern, "**"))
		return 1;
	return pol_glob_match(pattern, "/", path);
}

/* One allow or deny rule against the request: 1, 0, -1. An empty method never matches (nor
 * does an empty path, which no canonical path equals). */
static int rule_hits(const struct pol_l7rule *r, const struct pol_l7_input *req,
		     const struct query *q, bool deny)
{
	int g;

	if (!*str(r->method) || !method_ok(req->method, r->method))
		return 0;
	g = path_ok(req->path, str(r->path));
	if (g <= 0)
		return g;
	return query_ok(r, q, deny);
}

#define PRESET(m)                         \
	{                                 \
		.method = m, .path = "**" \
	}

static const struct pol_l7rule rest_ro[] = { PRESET("GET"), PRESET("HEAD"), PRESET("OPTIONS") };
static const struct pol_l7rule rest_rw[] = { PRESET("GET"),  PRESET("HEAD"), PRESET("OPTIONS"),
					     PRESET("POST"), PRESET("PUT"),  PRESET("PATCH") };
static const struct pol_l7rule ws_rw[] = { PRESET("GET"), PRESET("WEBSOCKET_TEXT") };
static const struct pol_l7rule any_full[] = { PRESET("*") };

/* The allow rules as written, or the access preset (§4.9) when there are none. GraphQL
 * presets only name operation types, so they add no REST-shaped rule. */
static const struct pol_l7rule *allow_rules(const struct pol_endpoint *ep, size_t *n)
{
	const char *access = str(ep->access);
	bool ws = ep->protocol == POL_PROTO_WEBSOCKET;

	*n = ep->n_rules;
	if (ep->n_rules || ep->protocol == POL_PROTO_GRAPHQL)
		return ep->rules;
	if (!strcmp(access, "read-only")) {
		*n = ws ? 1 : 3;
		return rest_ro;
	}
	if (!strcmp(access, "read-write")) {
		*n = ws ? 2 : 6;
		return ws ? ws_rw : rest_rw;
	}
	if (!strcmp(access, "full")) {
		*n = 1;
		return any_full;
	}
	return NULL;
}

static int any_rule_hits(const struct pol_l7rule *v, size_t n, const struct pol_l7_input *req,
			 const struct query *q, bool deny)
{
	size_t i;
	int g, any = 0;

	for (i = 0; i < n; i++) {
		g = rule_hits(&v[i], req, q, deny);
		if (g < 0)
			return -1;
		any |= g;
	}
	return any;
}

struct l7_verdict {
	bool allowed, denied;
};

/* One endpoint of a matching rule (request_allowed/denied_for_endpoint, REST shape). */
static int eval_endpoint(const struct pol_endpoint *ep, const struct pol_l7_input *req,
			 const struct query *q, struct l7_verdict *v)
{
	const struct pol_l7rule *rules;
	size_t n;
	int g;

	if (ep->protocol == POL_PROTO_JSONRPC || ep->protocol == POL_PROTO_MCP)
		return 0;
	if (*str(ep->path)) {
		g = path_ok(req->path, ep->path);
		if (g <= 0)
			return g;
	}
	rules = allow_rules(ep, &n);
	g = any_rule_hits(rules, n, req, q, false);
	if (g < 0)
		return -1;
	v->allowed |= g;
	g = any_rule_hits(ep->deny_rules, ep->n_deny_rules, req, q, true);
	if (g < 0)
		return -1;
	v->denied |= g;
	return 0;
}

/* allow_request / deny_request over every endpoint (matching host and port, and the
 * request path) of every rule that matches the connection. */
static int eval_rules(const struct pol_policy *p, const struct pol_l4_input *conn,
		      const struct pol_l7_input *req, const struct query *q, struct l7_verdict *v)
{
	struct buf lh = BUF_INIT;
	size_t i, k;
	int m, ret = -1;

	lower_into(&lh, conn->host);
	for (i = 0; i < p->n_rules; i++) {
		const struct pol_rule *r = &p->rules[i];

		m = rule_endpoint_matches(r, lh.p, conn->port);
		if (m > 0)
			m = binary_ok(r, conn);
		if (m < 0)
			goto out;
		for (k = 0; m && k < r->n_endpoints; k++) {
			int e = endpoint_matches(&r->endpoints[k], lh.p, conn->port);

			if (e > 0)
				e = eval_endpoint(&r->endpoints[k], req, q, v);
			if (e < 0)
				goto out;
		}
	}
	ret = 0;
out:
	buf_release(&lh);
	return ret;
}

static size_t path_specificity(const char *path)
{
	size_t n = 0;

	for (; *path; path++)
		if (*path != '*' && ((unsigned char)*path & 0xc0) != 0x80)
			n++;
	return n;
}

/* select_l7_config_for_path(): the most specific selecting route; Rust's max_by_key keeps
 * the last of equals. */
static size_t select_route(const struct pol_l4_decision *l4, const char *path)
{
	size_t i, best = l4->n_ext, spec, best_spec = 0;

	for (i = 0; i < l4->n_ext; i++) {
		if (!l7_protocol(l4->ext[i]->protocol) ||
		    !pol_route_match(str(l4->ext[i]->path), path))
			continue;
		spec = path_specificity(str(l4->ext[i]->path));
		if (best == l4->n_ext || spec >= best_spec) {
			best = i;
			best_spec = spec;
		}
	}
	return best;
}

void pol_l7_decision_init(struct pol_l7_decision *d)
{
	memset(d, 0, sizeof(*d));
	buf_init(&d->reason);
}

void pol_l7_decision_release(struct pol_l7_decision *d)
{
	buf_release(&d->reason);
	d->allow = false;
}

static int hard_deny(struct pol_l7_decision *d, int ret, const char *why)
{
	d->allow = false;
	d->hard = true;
	buf_reset(&d->reason);
	buf_adds(&d->reason, why);
	return ret;
}

int pol_eval_l7(const struct pol_policy *p, const struct pol_l4_input *conn,
		const struct pol_l4_decision *l4, const struct pol_l7_input *req,
		struct pol_l7_decision *d)
{
	struct query q = { ARENA_INIT, NULL, 0, 0 };
	struct l7_verdict v = { false, false };
	const char *why;
	size_t route;
	int ret = 0;

	d->allow = d->enforce = d->hard = false;
	d->rule = l4 ? l4->rule : NULL;
	d->endpoint = NULL;
	buf_reset(&d->reason);
	if (!p || !conn || !conn->host || !l4 || !l4->allow || !req || !req->method || !req->path)
		return hard_deny(d, -1, "request cannot be evaluated");
	why = query_parse(&q, req->query);
	if (why) {
		ret = hard_deny(d, 0, why);
		goto out;
	}
	route = select_route(l4, req->path);
	if (route == l4->n_ext) {
		ret = hard_deny(d, 0, "no L7 endpoint path matched request");
		goto out;
	}
	d->endpoint = l4->ext[route];
	d->enforce = d->endpoint->enforce;
	if (!rest_shaped(d->endpoint->protocol)) {
		/* GraphQL, MCP, JSON-RPC, SQL bodies are not inspected by this build: the route
		 * denies under enforce and is logged under audit, never silently allowed */
		buf_addf(&d->reason, "L7 protocol '%s' is not supported for inspection",
			 str(d->endpoint->protocol_text));
		goto out;
	}
	if (eval_rules(p, conn, req, &q, &v) < 0) {
		ret = hard_deny(d, -1, "request cannot be evaluated: a glob in the policy failed");
		goto out;
	}
	d->allow = v.allowed && !v.denied;
	if (v.denied)
		buf_addf(&d->reason, "%s %s blocked by deny rule", req->method, req->path);
	else if (!v.allowed)
		buf_addf(&d->reason, "%s %s not permitted by policy", req->method, req->path);
out:
	arena_release(&q.a);
	return ret;
}
