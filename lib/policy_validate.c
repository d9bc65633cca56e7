/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy's safety validation (reference/policy.md §3.1): process identity, filesystem
 * paths, endpoint hosts, ports and wildcards, signing, allowed_ips and always-blocked
 * destinations, reserved keys and middlewares. L7 semantics are in policy_validate_l7.c and
 * the ambiguity check in policy_validate_amb.c. Messages are the reference's.
 */
#include "policy_validate_int.h"
#include "util.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FS_PATHS	      256
#define MAX_PATH_LEN	      4096
#define MAX_MIDDLEWARES	      10
#define MAX_SELECTOR_PATTERNS 32
#define MIN_SAFE_PREFIX	      16
#define PROVIDER_PREFIX	      "_provider_"
#define MAX_UID		      4294967294ULL

void pv_add(struct vctx *v, bool warning, struct pol_mark mark, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	char tmp[1024];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(tmp)) {
		buf_grow(&msg, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(msg.p, (size_t)n + 1, fmt, ap);
		va_end(ap);
		buf_setlen(&msg, (size_t)n);
	} else if (n > 0) {
		buf_add(&msg, tmp, (size_t)n);
	}
	pol_report_add(v->r, warning, mark, v->path.p, "%s", msg.p);
	buf_release(&msg);
}

static void set_path(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_path(struct vctx *v, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_reset(&v->path);
	buf_adds(&v->path, tmp);
}

void pv_endpoint_path(struct vctx *v, const struct pol_rule *rule, size_t i)
{
	buf_reset(&v->path);
	buf_addf(&v->path, "network_policies.%s.endpoints[%zu]", rule->key, i);
}

static const struct pol_mark no_mark = { 0, 0 };

/* ---- process and filesystem --------------------------------------------------------------- */

/* "sandbox", or what Rust's u32 parse accepts ('+' allowed) within 1..=u32::MAX-1. */
static bool valid_identity(const char *s)
{
	unsigned long long v = 0;
	const char *c = s;

	if (strcmp(s, "sandbox") == 0)
		return true;
	if (*c == '+')
		c++;
	if (!*c)
		return false;
	for (; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		v = v * 10 + (unsigned)(*c - '0');
		if (v > MAX_UID)
			return false;
	}
	return v >= 1;
}

static void check_identity(struct vctx *v)
{
	const char *fields[] = { "run_as_user", "run_as_group" };
	const char *vals[] = { v->p->run_as_user, v->p->run_as_group };
	size_t i;

	if (!v->p->has_process)
		return;
	for (i = 0; i < 2; i++) {
		if (!vals[i] || !vals[i][0] || valid_identity(vals[i]))
			continue;
		set_path(v, "process.%s", fields[i]);
		pv_add(v, false, no_mark,
		       "%s must be 'sandbox' or a numeric UID/GID in range [1, 4294967294], got "
		       "'%s'",
		       fields[i], vals[i]);
	}
}

static bool has_parent_component(const char *s)
{
	const char *c = s;

	while (*c) {
		size_t n = strcspn(c, "/");

		if (n == 2 && c[0] == '.' && c[1] == '.')
			return true;
		c += n;
		c += strspn(c, "/");
	}
	return false;
}

static void check_path(struct vctx *v, const char *list, size_t i, const char *s, bool rw)
{
	size_t len = strlen(s);

	set_path(v, "filesystem_policy.%s[%zu]", list, i);
	if (len > MAX_PATH_LEN) {
		size_t end = 77;

		while (end && ((unsigned char)s[end] & 0xc0) == 0x80)
			end--;
		pv_add(v, false, no_mark, "path exceeds maximum length (%zu > %d): %.*s...", len,
		       MAX_PATH_LEN, (int)end, s);
		return;
	}
	if (s[0] != '/')
		pv_add(v, false, no_mark, "path must be absolute (start with '/'): %s", s);
	if (has_parent_component(s))
		pv_add(v, false, no_mark, "path contains '..' traversal component: %s", s);
	if (rw && strspn(s, "/") == len)
		pv_add(v, false, no_mark, "read-write path is overly broad: %s", s);
}

static void check_filesystem(struct vctx *v)
{
	const struct pol_policy *p = v->p;
	size_t i, total = p->n_read_only + p->n_read_write;

	if (!p->has_filesystem)
		return;
	if (total > MAX_FS_PATHS) {
		set_path(v, "filesystem_policy");
		pv_add(v, false, no_mark, "too many filesystem paths (%zu > %d)", total,
		       MAX_FS_PATHS);
	}
	for (i = 0; i < p->n_read_only; i++)
		check_path(v, "read_only", i, p->read_only[i], false);
	for (i = 0; i < p->n_read_write; i++)
		check_path(v, "read_write", i, p->read_write[i], true);
}

/* ---- endpoints ---------------------------------------------------------------------------- */

static bool blank(const char *s)
{
	return s[strspn(s, " \t\n\v\f\r")] == '\0';
}

static size_t count_labels(const char *host)
{
	size_t n = 1;

	for (; *host; host++)
		n += *host == '.';
	return n;
}

/* The gateway's host_wildcard_shape_invalid (which the supervisor's check refines). */
static bool wildcard_shape_invalid(const char *host)
{
	const char *label = host, *dot;
	bool first = true;

	if (strcmp(host, "*") == 0 || strcmp(host, "**") == 0)
		return true;
	if (!strchr(host, '*'))
		return false;
	for (;;) {
		size_t n;

		dot = strchr(label, '.');
		n = dot ? (size_t)(dot - label) : strlen(label);
		if (first && memmem(label, n, "**", 2) && n != 2)
			return true;
		if (!first && (memmem(label, n, "**", 2) || (memchr(label, '*', n) && n != 1)))
			return true;
		if (!dot)
			return false;
		label = dot + 1;
		first = false;
	}
}

static void check_host(struct vctx *v, const char *name, const struct pol_endpoint *ep)
{
	bool tcp = ep->protocol == POL_PROTO_TCP;
	char why[PV_WHY_MAX];
	const char *bad;

	if (blank(ep->host) && tcp)
		pv_add(v, false, ep->mark,
		       "network policy '%s': protocol tcp requires a DNS hostname; hostless "
		       "allowed_ips endpoints are supported only by the forward proxy",
		       name);
	else if (blank(ep->host) && !ep->n_allowed_ips)
		pv_add(v, false, ep->mark,
		       "network policy '%s': endpoint host must not be empty unless allowed_ips "
		       "constrains a non-TCP proxy endpoint",
		       name);
	else if (tcp && pv_is_ip_literal(ep->host))
		pv_add(v, false, ep->mark,
		       "network policy '%s': protocol tcp endpoint '%s' must use a DNS hostname, "
		       "not an IP literal; direct IP connections bypass policy DNS and are "
		       "blocked",
		       name, ep->host);
	else if (tcp && (bad = pv_tcp_dns_error(ep->host, why)))
		pv_add(v, false, ep->mark,
		       "network policy '%s': protocol tcp endpoint has invalid DNS host selector "
		       "'%s': %s",
		       name, ep->host, bad);
}

static void check_ports(struct vctx *v, const char *name, const struct pol_endpoint *ep)
{
	size_t i;

	if (!ep->n_ports)
		pv_add(v, false, ep->mark,
		       "network policy '%s': endpoint '%s' must declare at least one port", name,
		       ep->host);
	for (i = 0; i < ep->n_ports; i++)
		if (ep->ports[i] == 0)
			pv_add(v, false, ep->mark,
			       "network policy '%s': endpoint '%s' has invalid port 0; expected "
			       "1..=65535",
			       name, ep->host);
}

/* Union of the gateway's and the supervisor's wildcard checks (§3.1, §10.7). */
static void check_wildcard(struct vctx *v, const char *name, const struct pol_endpoint *ep)
{
	if (wildcard_shape_invalid(ep->host))
		pv_add(v, false, ep->mark,
		       "network policy '%s': invalid host wildcard '%s'; middle DNS label "
		       "wildcards must be the entire label '*' and recursive '**' is only "
		       "allowed as the entire first label",
		       name, ep->host);
	else if (strchr(ep->host, '*') && count_labels(ep->host) <= 2)
		pv_add(v, false, ep->mark,
		       "network policy '%s': TLD wildcard '%s' is not allowed; use subdomain "
		       "wildcards like '*.example.com' instead",
		       name, ep->host);
}

static void check_signing(struct vctx *v, const char *name, const struct pol_endpoint *ep)
{
	const char *s = ep->credential_signing;

	if (!s[0])
		return;
	if (strcmp(s, "sigv4") && strcmp(s, "sigv4:body") && strcmp(s, "sigv4:no_body"))
		pv_add(v, false, ep->mark,
		       "network policy '%s': endpoint '%s' has unrecognized credential_signing "
		       "value '%s' (expected sigv4, sigv4:body, or sigv4:no_body)",
		       name, ep->host, s);
	if (!ep->signing_service[0])
		pv_add(v, false, ep->mark,
		       "network policy '%s': endpoint '%s' has credential_signing set but "
		       "signing_service is empty",
		       name, ep->host);
	if (ep->request_body_credential_rewrite)
		pv_add(v, false, ep->mark,
		       "network policy '%s': endpoint '%s' has both credential_signing and "
		       "request_body_credential_rewrite set; these options are mutually exclusive",
		       name, ep->host);
}

/* The reference rejects these only on merges and denies them at runtime; rejecting them at
 * load is strictly safer (§3.1, last bullet). */
static void check_allowed_ips(struct vctx *v, const char *name, const struct pol_endpoint *ep)
{
	struct pv_net net;
	size_t i;

	for (i = 0; i < ep->n_allowed_ips; i++) {
		const char *e = ep->allowed_ips[i];

		if (pv_net_parse(e, &net) < 0)
			pv_add(v, false, ep->mark,
			       "network policy '%s': invalid CIDR/IP in allowed_ips: %s", name, e);
		else if (pv_net_always_blocked(&net))
			pv_add(v, false, ep->mark,
			       "network policy '%s': allowed_ips entry %s falls within always-"
			       "blocked range (loopback/link-local/unspecified); remove this entry "
			       "— SSRF hardening prevents traffic to these destinations "
			       "regardless of policy",
			       name, e);
		else if (net.prefix < MIN_SAFE_PREFIX)
			pv_add(v, true, ep->mark,
			       "network policy '%s': allowed_ips entry has a very broad CIDR %s "
			       "(/%u) < /%d; this may expose control-plane services on the same "
			       "network",
			       name, e, net.prefix, MIN_SAFE_PREFIX);
	}
}

static bool is_metadata_host(const char *host)
{
	static const char md[] = "metadata.google.internal";
	size_t skip = strspn(host, " \t\n\r"), len;

	host += skip;
	len = strlen(host);
	while (len && (host[len - 1] == '.' || strchr(" \t\n\r", host[len - 1])))
		len--;
	return len == sizeof(md) - 1 && strncasecmp(host, md, len) == 0;
}

static void check_blocked_host(struct vctx *v, const char *name, const struct pol_endpoint *ep)
{
	struct pv_net net;

	if (pv_is_ip_literal(ep->host) && pv_net_parse(ep->host, &net) == 0 &&
	    pv_net_always_blocked(&net))
		pv_add(v, false, ep->mark,
		       "network policy '%s': endpoint host '%s' is an always-blocked address "
		       "(loopback/link-local/unspecified); the proxy will deny traffic to this "
		       "destination regardless of policy",
		       name, ep->host);
	else if (strcasecmp(ep->host, "localhost") == 0 || strcasecmp(ep->host, "localhost.") == 0)
		pv_add(v, false, ep->mark,
		       "network policy '%s': endpoint host 'localhost' is always blocked; the "
		       "proxy will deny traffic to loopback regardless of policy",
		       name);
	else if (is_metadata_host(ep->host))
		pv_add(v, false, ep->mark,
		       "network policy '%s': endpoint host '%s' is a known cloud metadata "
		       "hostname; the proxy will deny traffic to this destination regardless "
		       "of policy",
		       name, ep->host);
}

static void check_rule(struct vctx *v, const struct pol_rule *rule)
{
	size_t i;

	if (str_has_prefix(rule->key, PROVIDER_PREFIX)) {
		set_path(v, "network_policies.%s", rule->key);
		pv_add(v, false, rule->mark,
		       "network policy key '%s' uses the reserved prefix '%s' (provider rules are "
		       "added by the gateway)",
		       rule->key, PROVIDER_PREFIX);
	}
	for (i = 0; i < rule->n_endpoints; i++) {
		const struct pol_endpoint *ep = &rule->endpoints[i];

		pv_endpoint_path(v, rule, i);
		check_host(v, rule->name, ep);
		check_ports(v, rule->name, ep);
		check_wildcard(v, rule->name, ep);
		check_signing(v, rule->name, ep);
		check_allowed_ips(v, rule->name, ep);
		check_blocked_host(v, rule->name, ep);
		pv_l7_endpoint(v, rule, i);
	}
}

/* ---- middlewares (§1.9) ------------------------------------------------------------------- */

static void mw_err(struct vctx *v, const struct pol_middleware *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void mw_err(struct vctx *v, const struct pol_middleware *m, const char *fmt, ...)
{
	char why[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pv_add(v, false, m->mark, "middleware config '%s' is invalid: %s", m->key, why);
}

static int mw_cmp(const void *a, const void *b)
{
	const struct pol_middleware *x = *(const struct pol_middleware *const *)a;
	const struct pol_middleware *y = *(const struct pol_middleware *const *)b;

	return strcmp(x->key, y->key);
}

static bool mw_selector_ok(struct vctx *v, const struct pol_middleware *m)
{
	char why[PV_WHY_MAX];
	bool ok = m->n_include > 0;
	size_t i;

	if (!m->n_include)
		mw_err(v, m, "endpoint selector must include at least one host pattern");
	for (i = 0; i < m->n_include + m->n_exclude; i++) {
		const char *pat = i < m->n_include ? m->include[i] : m->exclude[i - m->n_include];

		if (pv_host_pattern_error(pat, why)) {
			mw_err(v, m, "endpoint selector pattern '%s' is invalid: %s", pat, why);
			ok = false;
		}
	}
	return ok;
}

static void mw_tls_skip(struct vctx *v, const struct pol_middleware *m)
{
	size_t i, j;

	if (m->on_error[0] && strcmp(m->on_error, "fail_closed") != 0)
		return;
	for (i = 0; i < v->p->n_rules; i++) {
		const struct pol_rule *rule = &v->p->rules[i];

		for (j = 0; j < rule->n_endpoints; j++) {
			const struct pol_endpoint *ep = &rule->endpoints[j];

			if (strcmp(ep->tls, "skip") != 0 ||
			    !pv_selector_may_match(m->include, m->n_include, m->exclude,
						   m->n_exclude, ep->host))
				continue;
			pv_add(v, false, m->mark,
			       "middleware config '%s' selects network policy '%s' tls: skip "
			       "endpoint '%s'",
			       m->key, rule->name, ep->host);
		}
	}
}

static void check_middleware(struct vctx *v, const struct pol_middleware *m)
{
	size_t patterns = m->n_include + m->n_exclude;

	if (!m->key[0])
		mw_err(v, m, "name must not be empty");
	if (!m->middleware[0])
		mw_err(v, m, "middleware must not be empty");
	else if (str_has_prefix(m->middleware, "openshell/") &&
		 strcmp(m->middleware, "openshell/regex") != 0)
		mw_err(v, m,
		       "middleware implementation '%s' is not a registered OpenShell built-in",
		       m->middleware);
	if (strcmp(m->on_error, "") && strcmp(m->on_error, "fail_closed") &&
	    strcmp(m->on_error, "fail_open"))
		mw_err(v, m, "invalid on_error '%s'", m->on_error);
	if (patterns > MAX_SELECTOR_PATTERNS) {
		pv_add(v, false, m->mark,
		       "middleware config '%s' has too many selector patterns (%zu > %d)", m->key,
		       patterns, MAX_SELECTOR_PATTERNS);
		return;
	}
	if (mw_selector_ok(v, m))
		mw_tls_skip(v, m);
}

static void check_middlewares(struct vctx *v)
{
	const struct pol_middleware **sorted;
	size_t i, j, n = v->p->n_middlewares;

	if (!n)
		return;
	set_path(v, "network_middlewares");
	/* past the limit the entries are not looked at: the checks below are quadratic */
	if (n > MAX_MIDDLEWARES) {
		pv_add(v, false, no_mark, "too many middleware configs (%zu > %d)", n,
		       MAX_MIDDLEWARES);
		return;
	}
	sorted = xcalloc(n, sizeof(*sorted));
	for (i = 0; i < n; i++)
		sorted[i] = &v->p->middlewares[i];
	qsort(sorted, n, sizeof(*sorted), mw_cmp);
	for (i = 0; i < n; i++) {
		set_path(v, "network_middlewares.%s", sorted[i]->key);
		for (j = 0; j < i; j++)
			if (sorted[j]->order == sorted[i]->order)
				break;
		if (j < i)
			pv_add(v, false, sorted[i]->mark,
			       "middleware configs '%s' and '%s' use duplicate order %d",
			       sorted[j]->key, sorted[i]->key, (int)sorted[i]->order);
		check_middleware(v, sorted[i]);
	}
	free(sorted);
}

int pol_validate(const struct pol_policy *p, struct pol_report *r)
{
	struct vctx v = { p, r, BUF_INIT };
	size_t before = r->n_errors, i;

	check_identity(&v);
	check_filesystem(&v);
	for (i = 0; i < p->n_rules; i++)
		check_rule(&v, &p->rules[i]);
	check_middlewares(&v);
	pv_ambiguity(&v);
	buf_release(&v.path);
	return r->n_errors == before ? 0 : -1;
}
