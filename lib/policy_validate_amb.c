/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The endpoint ambiguity check (reference/policy.md §3.2): two endpoints that can see the same
 * connection (ports intersect, host patterns overlap) must agree on connection metadata, and,
 * when both shape the request pipeline for overlapping paths of equal specificity, on request
 * metadata too. Allow/deny rule sets may differ: they union.
 */
#include "policy_validate_int.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Two patterns this long could take too much memory to compare; treat them as overlapping
 * (only ever reported when their metadata also conflicts). */
#define MAX_OVERLAP_STATES (1u << 22)
#define DEFAULT_BODY_LIMIT 65536u
/* n endpoints can conflict in n^2/2 pairs: a report that size helps nobody */
#define MAX_REPORTED 64

/* ---- glob languages, as token automata over bytes ----------------------------------------- */

struct tok {
	bool star;
	unsigned char set[32]; /* bytes this token can consume */
};

struct aref {
	const struct pol_rule *rule;
	size_t idx;
	const struct pol_endpoint *ep;
	uint16_t *ports; /* effective: sorted, unique, no 0 */
	size_t n_ports;
	char *ips;	 /* normalized allowed_ips, printed */
	struct tok *tok; /* the host pattern */
	size_t n_tok, n_tok_star;
};

static void set_all(struct tok *t)
{
	memset(t->set, 0xff, sizeof(t->set));
}

static void set_add(struct tok *t, unsigned char c)
{
	t->set[c >> 3] |= (unsigned char)(1u << (c & 7));
}

/* A host pattern: '*' is any run without '.', '**' (or longer) any run at all. */
static struct tok *host_tokens(const char *p, size_t *n)
{
	struct tok *t = xcalloc(strlen(p) + 1, sizeof(*t));
	size_t k = 0;

	while (*p) {
		size_t run = strspn(p, "*");

		if (!run) {
			set_add(&t[k++], (unsigned char)tolower((unsigned char)*p++));
			continue;
		}
		t[k].star = true;
		set_all(&t[k]);
		if (run == 1)
			t[k].set['.' >> 3] &= (unsigned char)~(1u << ('.' & 7));
		k++;
		p += run;
	}
	*n = k;
	return t;
}

/* Length of the class at p (after '[' and an optional '!'), filling t; 0 if malformed. */
static size_t path_class(const char *p, struct tok *t)
{
	const char *close = strchr(p, ']');
	size_t i, len;

	if (!close || close == p)
		return 0;
	len = (size_t)(close - p);
	for (i = 0; i < len; i++) {
		unsigned char lo = (unsigned char)p[i], hi = lo, c;

		if (i + 2 < len && p[i + 1] == '-') {
			hi = (unsigned char)p[i + 2];
			i += 2;
		}
		for (c = lo; c >= lo && c <= hi; c++) {
			set_add(t, c);
			if (c == 255)
				break;
		}
	}
	return len + 1;
}

/* An endpoint path selector (glob crate, '*' crosses '/'); NULL when it is not a valid glob. */
static struct tok *path_tokens(const char *p, size_t *n)
{
	struct tok *t = xcalloc(strlen(p) + 1, sizeof(*t));
	const char *start = p;
	size_t k = 0, run, used, i;

	while (*p) {
		struct tok *cur = &t[k++];

		if (*p == '?') {
			set_all(cur);
			p++;
		} else if (*p == '*') {
			run = strspn(p, "*");
			if (run > 2 ||
			    (run == 2 && ((p != start && p[-1] != '/') || (p[2] && p[2] != '/'))))
				goto bad;
			p += run;
			if (run == 2 && *p == '/')
				p++;
			cur->star = true;
			set_all(cur);
		} else if (*p == '[') {
			bool neg = p[1] == '!';

			used = path_class(p + 1 + neg, cur);
			if (!used)
				goto bad;
			if (neg)
				for (i = 0; i < sizeof(cur->set); i++)
					cur->set[i] = (unsigned char)~cur->set[i];
			p += 1 + neg + used;
		} else {
			set_add(cur, (unsigned char)*p++);
		}
	}
	*n = k;
	return t;
bad:
	free(t);
	return NULL;
}

static bool share_byte(const struct tok *a, const struct tok *b)
{
	size_t i;

	for (i = 0; i < sizeof(a->set); i++)
		if (a->set[i] & b->set[i])
			return true;
	return false;
}

#define SMALL_STATES 1024

static bool languages_overlap(const struct tok *a, size_t na, const struct tok *b, size_t nb)
{
	size_t w = nb + 1, top = 0, *stack, small_stack[3 * SMALL_STATES + 3];
	bool *seen, small_seen[SMALL_STATES], ok = false;
	size_t states;

	if ((na + 1) > MAX_OVERLAP_STATES / w)
		return true;
	states = (na + 1) * w;
	/* most patterns are short: the common case allocates nothing */
	if (states <= SMALL_STATES) {
		memset(small_seen, 0, states * sizeof(*small_seen));
		seen = small_seen;
		stack = small_stack;
	} else {
		seen = xcalloc(states, sizeof(*seen));
		stack = xcalloc(states * 3 + 3, sizeof(*stack));
	}
	stack[top++] = 0;
	while (top && !ok) {
		size_t st = stack[--top], i = st / w, j = st % w;

		if (seen[st])
			continue;
		seen[st] = true;
		if (i == na && j == nb) {
			ok = true;
			continue;
		}
		if (i < na && a[i].star)
			stack[top++] = (i + 1) * w + j;
		if (j < nb && b[j].star)
			stack[top++] = i * w + j + 1;
		if (i < na && j < nb && share_byte(&a[i], &b[j]))
			stack[top++] = (a[i].star ? i : i + 1) * w + (b[j].star ? j : j + 1);
	}
	if (seen != small_seen) {
		free(seen);
		free(stack);
	}
	return ok;
}

/*
 * A host matching a pattern starts with the text before its first '*' and ends with the text
 * after its last one; two patterns whose such ends disagree cannot share a host. This cheap
 * test settles most pairs of a large policy without running the automaton.
 */
static bool host_ends_agree(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), pa = strcspn(a, "*"), pb = strcspn(b, "*");
	const char *ra = strrchr(a, '*'), *rb = strrchr(b, '*');
	size_t sa = ra ? la - (size_t)(ra - a) - 1 : la, sb = rb ? lb - (size_t)(rb - b) - 1 : lb;
	size_t n = sa < sb ? sa : sb;

	if (strncasecmp(a, b, pa < pb ? pa : pb) != 0)
		return false;
	return strncasecmp(a + la - n, b + lb - n, n) == 0;
}

static bool hosts_overlap(const struct aref *x, const struct aref *y)
{
	const char *a = x->ep->host, *b = y->ep->host;

	if (!a[0] || !b[0])
		return true;
	if (strcasecmp(a, b) == 0)
		return true;
	if (!x->n_tok_star && !y->n_tok_star)
		return false;
	if (!host_ends_agree(a, b))
		return false;
	return languages_overlap(x->tok, x->n_tok, y->tok, y->n_tok);
}

static bool paths_overlap(const char *a, const char *b)
{
	struct tok *ta, *tb;
	size_t na = 0, nb = 0;
	bool ok = true;

	if (!a[0] || !b[0] || !strcmp(a, "**") || !strcmp(a, "/**") || !strcmp(b, "**") ||
	    !strcmp(b, "/**"))
		return true;
	ta = path_tokens(a, &na);
	tb = path_tokens(b, &nb);
	if (ta && tb)
		ok = languages_overlap(ta, na, tb, nb);
	free(ta);
	free(tb);
	return ok;
}

/* Characters (not bytes) other than '*'. */
static size_t specificity(const char *p)
{
	size_t n = 0;

	for (; *p; p++)
		n += *p != '*' && ((unsigned char)*p & 0xc0) != 0x80;
	return n;
}

/* ---- metadata ----------------------------------------------------------------------------- */

/* Rust's Debug for a string: quoted, with \" \\ and control characters escaped. */
static void add_debug_str(struct buf *b, const char *s)
{
	buf_addch(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_addf(b, "\\%c", c);
		else if (c == '\n')
			buf_adds(b, "\\n");
		else if (c == '\t')
			buf_adds(b, "\\t");
		else if (c == '\r')
			buf_adds(b, "\\r");
		else if (c < 0x20 || c == 0x7f)
			buf_addf(b, "\\u{%x}", c);
		else
			buf_addch(b, (char)c);
	}
	buf_addch(b, '"');
}

static void sep(struct buf *b)
{
	if (b->len)
		buf_adds(b, "; ");
}

static void diff_str(struct buf *b, const char *field, const char *x, const char *y)
{
	if (strcmp(x, y) == 0)
		return;
	sep(b);
	buf_addf(b, "%s=", field);
	add_debug_str(b, x);
	buf_adds(b, " vs ");
	add_debug_str(b, y);
}

static void diff_bool(struct buf *b, const char *field, bool x, bool y)
{
	if (x == y)
		return;
	sep(b);
	buf_addf(b, "%s=%s vs %s", field, x ? "true" : "false", y ? "true" : "false");
}

static void diff_u32(struct buf *b, const char *field, uint32_t x, uint32_t y)
{
	if (x == y)
		return;
	sep(b);
	buf_addf(b, "%s=%u vs %u", field, (unsigned)x, (unsigned)y);
}

static bool is_tcp(const struct pol_endpoint *ep)
{
	return strcasecmp(ep->protocol_text, "tcp") == 0;
}

static const char *norm_tls(const struct pol_endpoint *ep)
{
	return strcasecmp(ep->tls, "skip") == 0 ? "skip" : "auto";
}

/* Trimmed, lowercased, sorted, unique: one string per endpoint, "[...]" as Rust prints it. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *norm_ips(const struct pol_endpoint *ep)
{
	struct buf b = BUF_INIT;
	char **v = xcalloc(ep->n_allowed_ips + 1, sizeof(*v));
	size_t i, k;

	for (i = 0; i < ep->n_allowed_ips; i++) {
		const char *s = ep->allowed_ips[i] + strspn(ep->allowed_ips[i], " \t\r\n");
		size_t len = strlen(s);

		while (len && strchr(" \t\r\n", s[len - 1]))
			len--;
		v[i] = xstrndup(s, len);
		for (k = 0; k < len; k++)
			v[i][k] = (char)tolower((unsigned char)v[i][k]);
	}
	qsort(v, ep->n_allowed_ips, sizeof(*v), cmp_str);
	buf_addch(&b, '[');
	for (i = 0; i < ep->n_allowed_ips; i++) {
		if (i == 0 || strcmp(v[i], v[i - 1])) {
			buf_adds(&b, b.len > 1 ? ", " : "");
			add_debug_str(&b, v[i]);
		}
	}
	buf_addch(&b, ']');
	for (i = 0; i < ep->n_allowed_ips; i++)
		free(v[i]);
	free(v);
	return buf_detach(&b, NULL);
}

static void connection_conflicts(struct buf *b, const struct pol_endpoint *x,
				 const struct pol_endpoint *y, const char *ix, const char *iy)
{
	diff_bool(b, "transparent_tcp_eligible", is_tcp(x), is_tcp(y));
	diff_str(b, "tls", norm_tls(x), norm_tls(y));
	if (strcmp(ix, iy)) {
		sep(b);
		buf_addf(b, "allowed_ips=%s vs %s", ix, iy);
	}
}

static bool contributes(const struct pol_endpoint *ep)
{
	return (ep->protocol_text[0] && !is_tcp(ep)) || ep->n_allowed_ips || ep->tls[0] ||
	       ep->has_credential_binding;
}

static bool ws_graphql(const struct pol_endpoint *ep)
{
	size_t i;

	if (ep->n_graphql_persisted_queries ||
	    (ep->persisted_queries[0] && strcmp(ep->persisted_queries, "deny")))
		return true;
	for (i = 0; i < ep->n_rules; i++)
		if (ep->rules[i].operation_type[0] || ep->rules[i].operation_name[0] ||
		    ep->rules[i].n_fields)
			return true;
	for (i = 0; i < ep->n_deny_rules; i++)
		if (ep->deny_rules[i].operation_type[0] || ep->deny_rules[i].operation_name[0] ||
		    ep->deny_rules[i].n_fields)
			return true;
	return false;
}

static uint32_t body_limit(uint32_t v)
{
	return v ? v : DEFAULT_BODY_LIMIT;
}

static const char *norm_proto(const struct pol_endpoint *ep, char *dst, size_t n)
{
	size_t i;

	if (is_tcp(ep))
		return "";
	for (i = 0; ep->protocol_text[i] && i + 1 < n; i++)
		dst[i] = (char)tolower((unsigned char)ep->protocol_text[i]);
	dst[i] = '\0';
	return dst;
}

static bool proto_is(const struct pol_endpoint *ep, const char *name)
{
	return strcasecmp(ep->protocol_text, name) == 0;
}

static void request_conflicts(struct buf *b, const struct pol_endpoint *x,
			      const struct pol_endpoint *y)
{
	char px[32], py[32];

	diff_str(b, "protocol", norm_proto(x, px, sizeof(px)), norm_proto(y, py, sizeof(py)));
	diff_str(b, "enforcement", strcasecmp(x->enforcement, "enforce") ? "audit" : "enforce",
		 strcasecmp(y->enforcement, "enforce") ? "audit" : "enforce");
	diff_bool(b, "allow_encoded_slash", x->allow_encoded_slash, y->allow_encoded_slash);
	diff_bool(b, "websocket_credential_rewrite", x->websocket_credential_rewrite,
		  y->websocket_credential_rewrite);
	diff_bool(b, "request_body_credential_rewrite", x->request_body_credential_rewrite,
		  y->request_body_credential_rewrite);
	if (proto_is(x, "websocket") && proto_is(y, "websocket"))
		diff_bool(b, "websocket_graphql_policy", ws_graphql(x), ws_graphql(y));
	diff_str(b, "credential_signing", x->credential_signing, y->credential_signing);
	diff_str(b, "signing_service", x->signing_service, y->signing_service);
	diff_str(b, "signing_region", x->signing_region, y->signing_region);
	diff_str(b, "credential_binding.provider",
		 x->has_credential_binding ? x->credential_binding_provider : "",
		 y->has_credential_binding ? y->credential_binding_provider : "");
	if (proto_is(x, "graphql") && proto_is(y, "graphql"))
		diff_u32(b, "graphql_max_body_bytes", body_limit(x->graphql_max_body_bytes),
			 body_limit(y->graphql_max_body_bytes));
	if (strcasecmp(x->protocol_text, y->protocol_text) == 0 &&
	    (proto_is(x, "json-rpc") || proto_is(x, "mcp")))
		diff_u32(
			b, "json_rpc_max_body_bytes",
			body_limit(x->has_mcp ? x->mcp_max_body_bytes : x->json_rpc_max_body_bytes),
			body_limit(y->has_mcp ? y->mcp_max_body_bytes
					      : y->json_rpc_max_body_bytes));
	if (proto_is(x, "mcp") && proto_is(y, "mcp"))
		diff_bool(b, "mcp.strict_tool_names", !x->has_mcp || x->mcp_strict_tool_names,
			  !y->has_mcp || y->mcp_strict_tool_names);
}

/* ---- pairs -------------------------------------------------------------------------------- */

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static void aref_init(struct aref *a, const struct pol_rule *rule, size_t idx)
{
	const struct pol_endpoint *ep = &rule->endpoints[idx];
	size_t i, k = 0;

	a->rule = rule;
	a->idx = idx;
	a->ep = ep;
	a->ports = xcalloc(ep->n_ports + 1, sizeof(*a->ports));
	if (ep->n_ports)
		memcpy(a->ports, ep->ports, ep->n_ports * sizeof(*a->ports));
	qsort(a->ports, ep->n_ports, sizeof(*a->ports), cmp_u16);
	for (i = 0; i < ep->n_ports; i++)
		if (a->ports[i] && (!k || a->ports[k - 1] != a->ports[i]))
			a->ports[k++] = a->ports[i];
	a->n_ports = k;
	a->ips = norm_ips(ep);
	a->tok = host_tokens(ep->host, &a->n_tok);
	for (i = 0; i < a->n_tok; i++)
		a->n_tok_star += a->tok[i].star;
}

/* The intersection of the two port sets, "443,8443", into b. */
static void common_ports(const struct aref *x, const struct aref *y, struct buf *b)
{
	size_t i = 0, j = 0;

	while (i < x->n_ports && j < y->n_ports) {
		if (x->ports[i] < y->ports[j]) {
			i++;
		} else if (x->ports[i] > y->ports[j]) {
			j++;
		} else {
			buf_addf(b, "%s%u", b->len ? "," : "", (unsigned)x->ports[i]);
			i++;
			j++;
		}
	}
}

static void add_selector(struct buf *b, const struct aref *a)
{
	size_t i;

	buf_addf(b, "%s:", a->ep->host[0] ? a->ep->host : "<any-host>");
	for (i = 0; i < a->n_ports; i++)
		buf_addf(b, "%s%u", i ? "," : "", (unsigned)a->ports[i]);
	buf_adds(b, a->ep->path);
}

static bool ports_intersect(const struct aref *x, const struct aref *y)
{
	size_t i = 0, j = 0;

	while (i < x->n_ports && j < y->n_ports) {
		if (x->ports[i] == y->ports[j])
			return true;
		if (x->ports[i] < y->ports[j])
			i++;
		else
			j++;
	}
	return false;
}

/* Returns whether it reported an ambiguity. */
static bool check_pair(struct vctx *v, const struct aref *x, const struct aref *y)
{
	const struct pol_endpoint *ex = x->ep, *ey = y->ep;
	struct buf c = BUF_INIT, ports = BUF_INIT, sx = BUF_INIT, sy = BUF_INIT;

	bool found = false;

	if (!ports_intersect(x, y) || !hosts_overlap(x, y))
		return false;
	connection_conflicts(&c, ex, ey, x->ips, y->ips);
	if (contributes(ex) && contributes(ey) && specificity(ex->path) == specificity(ey->path)) {
		size_t before = c.len;

		request_conflicts(&c, ex, ey);
		if (c.len != before && !paths_overlap(ex->path, ey->path))
			buf_setlen(&c, before);
	}
	if (!c.len)
		goto out;
	common_ports(x, y, &ports);
	add_selector(&sx, x);
	add_selector(&sy, y);
	pv_endpoint_path(v, y->rule, y->idx);
	pv_add(v, false, ey->mark,
	       "network policies '%s' endpoint[%zu] (%s) and '%s' endpoint[%zu] (%s) overlap on "
	       "port(s) %s with conflicting metadata: %s",
	       x->rule->name, x->idx, sx.p, y->rule->name, y->idx, sy.p, ports.p, c.p);
	found = true;
out:
	buf_release(&c);
	buf_release(&ports);
	buf_release(&sx);
	buf_release(&sy);
	return found;
}

void pv_ambiguity(struct vctx *v)
{
	const struct pol_policy *p = v->p;
	struct aref *refs;
	size_t i, j, n = 0, found = 0;

	for (i = 0; i < p->n_rules; i++)
		n += p->rules[i].n_endpoints;
	if (n < 2)
		return;
	refs = xcalloc(n, sizeof(*refs));
	n = 0;
	for (i = 0; i < p->n_rules; i++)
		for (j = 0; j < p->rules[i].n_endpoints; j++)
			aref_init(&refs[n++], &p->rules[i], j);
	for (i = 0; i < n && found < MAX_REPORTED; i++)
		for (j = i + 1; j < n && found < MAX_REPORTED; j++)
			found += check_pair(v, &refs[i], &refs[j]);
	if (found == MAX_REPORTED) {
		buf_reset(&v->path);
		pv_add(v, false, (struct pol_mark){ 0, 0 },
		       "the ambiguity check stops after %d pairs of endpoints with conflicting "
		       "metadata",
		       MAX_REPORTED);
	}
	for (i = 0; i < n; i++) {
		free(refs[i].ports);
		free(refs[i].ips);
		free(refs[i].tok);
	}
	free(refs);
}
