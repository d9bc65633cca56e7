/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/policy_{glob,match,addr}: the glob dialects, L4 and L7 decisions and SSRF modes of
 * reference/policy.md §4.3-§4.9, with the §9 conformance cases. Policies are built in C
 * here (not loaded from YAML) so these tests depend on the matcher alone. Glob expectations
 * marked "oracle" were checked against globset 0.4.18 / glob 0.3.3 themselves.
 */
#include "unit.h"
#include "../../lib/policy.h"

#include <stdarg.h>
#include <stdlib.h>

/* ---- a tiny policy builder ------------------------------------------------------------------- */

#define MAX_RULES 16
#define MAX_EPS	  8
#define MAX_L7	  16

/* Space-separated words into an arena array. */
static const char **words(struct pol_policy *p, const char *s, size_t *n)
{
	char *copy = arena_strdup(&p->arena, s), *tok, *save = NULL;
	const char **v = arena_array(&p->arena, strlen(s) / 2 + 2, sizeof(*v));

	*n = 0;
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		v[(*n)++] = tok;
	return v;
}

static void pinit(struct pol_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->version = 1;
	p->source = "<test>";
	p->rules = arena_array(&p->arena, MAX_RULES, sizeof(*p->rules));
}

static void pfree(struct pol_policy *p)
{
	arena_release(&p->arena);
}

/* A rule with its binaries (space-separated), kept sorted by key. The pointer is valid
 * until the next rule() call. */
static struct pol_rule *rule(struct pol_policy *p, const char *key, const char *bins)
{
	size_t i = 0, k, n;
	const char **b = words(p, bins, &n);
	struct pol_rule *r;

	while (i < p->n_rules && strcmp(p->rules[i].key, key) < 0)
		i++;
	memmove(&p->rules[i + 1], &p->rules[i], (p->n_rules - i) * sizeof(*r));
	p->n_rules++;
	r = &p->rules[i];
	memset(r, 0, sizeof(*r));
	r->key = r->name = arena_strdup(&p->arena, key);
	r->endpoints = arena_array(&p->arena, MAX_EPS, sizeof(*r->endpoints));
	r->binaries = arena_array(&p->arena, n + 1, sizeof(*r->binaries));
	for (k = 0; k < n; k++)
		r->binaries[k].path = b[k];
	r->n_binaries = n;
	return r;
}

static struct pol_rule *find_rule(struct pol_policy *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->n_rules; i++)
		if (!strcmp(p->rules[i].key, key))
			return &p->rules[i];
	return NULL;
}

/* An L4 endpoint host:ports ("443 8443") on rule key. */
static struct pol_endpoint *ep(struct pol_policy *p, const char *key, const char *host,
			       const char *ports)
{
	struct pol_rule *r = find_rule(p, key);
	struct pol_endpoint *e = &r->endpoints[r->n_endpoints++];
	const char **w;
	size_t n, i;

	w = words(p, ports, &n);
	e->host = host;
	e->ports = arena_array(&p->arena, n + 1, sizeof(*e->ports));
	for (i = 0; i < n; i++)
		e->ports[i] = (uint16_t)atoi(w[i]);
	e->n_ports = n;
	e->path = e->protocol_text = e->tls = e->enforcement = e->access = "";
	e->credential_signing = e->signing_service = e->signing_region = "";
	e->credential_binding_provider = e->persisted_queries = "";
	e->allowed_ips = arena_array(&p->arena, 8, sizeof(*e->allowed_ips));
	e->rules = arena_array(&p->arena, MAX_L7, sizeof(*e->rules));
	e->deny_rules = arena_array(&p->arena, MAX_L7, sizeof(*e->deny_rules));
	return e;
}

static void rest(struct pol_endpoint *e, bool enforce, const char *access)
{
	e->protocol = POL_PROTO_REST;
	e->protocol_text = "rest";
	e->enforce = enforce;
	e->enforcement = enforce ? "enforce" : "";
	e->access = access;
}

static struct pol_l7rule *l7rule(struct pol_policy *p, struct pol_l7rule *r, const char *method,
				 const char *path)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->path = path;
	r->command = r->operation_type = r->operation_name = "";
	r->query = arena_array(&p->arena, 8, sizeof(*r->query));
	return r;
}

static struct pol_l7rule *allow(struct pol_policy *p, struct pol_endpoint *e, const char *method,
				const char *path)
{
	return l7rule(p, &e->rules[e->n_rules++], method, path);
}

static struct pol_l7rule *deny(struct pol_policy *p, struct pol_endpoint *e, const char *method,
			       const char *path)
{
	return l7rule(p, &e->deny_rules[e->n_deny_rules++], method, path);
}

/* A query matcher: one glob, or any of several (space-separated). */
static void query(struct pol_policy *p, struct pol_l7rule *r, const char *key, const char *globs)
{
	struct pol_param *q = &r->query[r->n_query++];

	q->key = key;
	q->m.globs = words(p, globs, &q->m.n);
}

/* ---- decisions ------------------------------------------------------------------------------- */

struct conn {
	struct pol_l4_input in;
	struct pol_l4_decision d;
	int rc;
};

/* Evaluates host:port for exe with ancestors (space-separated, may be ""). */
static void l4(struct conn *c, const struct pol_policy *p, const char *host, uint16_t port,
	       const char *exe, const char *const *anc, size_t n_anc)
{
	memset(&c->in, 0, sizeof(c->in));
	c->in.host = host;
	c->in.port = port;
	c->in.exe = exe;
	c->in.ancestors = anc;
	c->in.n_ancestors = n_anc;
	pol_l4_decision_init(&c->d);
	c->rc = pol_eval_l4(p, &c->in, &c->d);
}

static void l4_allow_at(const char *file, int line, const struct pol_policy *p, const char *host,
			uint16_t port, const char *exe, const char *key)
{
	struct conn c;

	l4(&c, p, host, port, exe, NULL, 0);
	if (c.rc || !c.d.allow || !c.d.rule || strcmp(c.d.rule->key, key))
		unit_fail(file, line, "%s:%u %s: rc %d allow %d rule %s reason '%s'", host, port,
			  exe, c.rc, c.d.allow, c.d.rule ? c.d.rule->key : "-", c.d.reason.p);
	pol_l4_decision_release(&c.d);
}

static void l4_deny_at(const char *file, int line, const struct pol_policy *p, const char *host,
		       uint16_t port, const char *exe, const char *reason_prefix)
{
	struct conn c;

	l4(&c, p, host, port, exe, NULL, 0);
	if (c.rc || c.d.allow || strncmp(c.d.reason.p, reason_prefix, strlen(reason_prefix)))
		unit_fail(file, line, "%s:%u %s: rc %d allow %d reason '%s'", host, port, exe, c.rc,
			  c.d.allow, c.d.reason.p);
	pol_l4_decision_release(&c.d);
}

#define L4_ALLOW(p, h, port, exe, key) l4_allow_at(__FILE__, __LINE__, p, h, port, exe, key)
#define L4_DENY(p, h, port, exe, why)  l4_deny_at(__FILE__, __LINE__, p, h, port, exe, why)

/* L7 verdicts: 'A' allowed, 'D' denied (by policy), 'H' hard deny. */
static void l7_at(const char *file, int line, const struct pol_policy *p, const char *host,
		  uint16_t port, const char *exe, const char *method, const char *target, char want,
		  const char *reason)
{
	struct pol_l7_decision d;
	struct pol_l7_input req = { method, NULL, NULL };
	char path[256], got;
	const char *q = strchr(target, '?');
	struct conn c;

	snprintf(path, sizeof(path), "%.*s", q ? (int)(q - target) : (int)strlen(target), target);
	req.path = path;
	req.query = q ? q + 1 : NULL;
	l4(&c, p, host, port, exe, NULL, 0);
	pol_l7_decision_init(&d);
	if (!c.d.allow || !pol_l4_needs_l7(&c.d)) {
		unit_fail(file, line, "%s %s: L4 allow %d needs_l7 %d", method, target, c.d.allow,
			  pol_l4_needs_l7(&c.d));
		goto out;
	}
	pol_eval_l7(p, &c.in, &c.d, &req, &d);
	got = d.hard ? 'H' : d.allow ? 'A' : 'D';
	if (got != want || (reason && strcmp(d.reason.p, reason)))
		unit_fail(file, line, "%s %s: got %c (reason '%s'), expected %c", method, target,
			  got, d.reason.p, want);
	if (d.rule != c.d.rule)
		unit_fail(file, line, "%s %s: decision rule differs from L4", method, target);
out:
	pol_l7_decision_release(&d);
	pol_l4_decision_release(&c.d);
}

#define L7(...) l7_at(__FILE__, __LINE__, __VA_ARGS__)

/* ---- globs (§4.4) ---------------------------------------------------------------------------- */

#define GLOB(pat, delims, val, want) CHECK_INT(pol_glob_match(pat, delims, val), want)

TEST(policy_match_glob_hosts)
{
	GLOB("*.example.com", ".", "api.example.com", 1); /* case 11 */
	GLOB("*.example.com", ".", "deep.sub.example.com", 0);
	GLOB("*.example.com", ".", "example.com", 0);
	GLOB("**.example.com", ".", "a.b.example.com", 1); /* case 12 */
	GLOB("**.example.com", ".", "b.example.com", 1);
	GLOB("**.example.com", ".", "example.com", 0);
	GLOB("*-aiplatform.googleapis.com", ".", "us-central1-aiplatform.googleapis.com", 1);
	GLOB("*-aiplatform.googleapis.com", ".", "us-central1.aiplatform.googleapis.com", 0);
	GLOB("*.s3.*.amazonaws.com", ".", "b.s3.us-east-1.amazonaws.com", 1); /* case 14 */
	GLOB("*.s3.*.amazonaws.com", ".", "s3.us-east-1.amazonaws.com", 0);
	GLOB("*.s3.*.amazonaws.com", ".", "b.s3.dualstack.us-east-1.amazonaws.com", 0);
	GLOB("api.*.example.com", ".", "api.eu.example.com", 1); /* case 27 */
	GLOB("*.co.uk", ".", "bbc.co.uk", 1);
	GLOB("*.s3.us-*.amazonaws.com", ".", "b.s3.us-west-2.amazonaws.com", 1);
	GLOB("*.com", ".", "a.b.com", 0);
	GLOB("a.b", ".", "a.b", 1);
	GLOB("[.]", ".", ".", 0); /* oracle: the class becomes [/./], the value "/./" */
}

TEST(policy_match_glob_paths)
{
	GLOB("/usr/bin/*", "/", "/usr/bin/node", 1); /* case 8 */
	GLOB("/usr/bin/*", "/", "/usr/bin/sub/node", 0);
	GLOB("/usr/local/bin/*", "/", "/usr/local/bin/claude", 1); /* case 9 */
	GLOB("/opt/tools/**", "/", "/opt/tools/a/b/c", 1);
	GLOB("/opt/tools/**", "/", "/opt/tools", 0);
	GLOB("/opt/tools/**", "/", "/opt/tools/", 1);
	GLOB("/repos/**", "/", "/repos", 0); /* case 40 */
	GLOB("/repos/**", "/", "/repos/", 1);
	GLOB("/repos/*/issues", "/", "/repos/myorg/issues", 1); /* case 32 */
	GLOB("/repos/*/issues", "/", "/repos/a/b/issues", 0);
	GLOB("/**/info/refs*", "/", "/NVIDIA/x.git/info/refs", 1);
	GLOB("/**/info/refs*", "/", "/info/refs", 1);
	GLOB("/**/git-upload-pack", "/", "/NVIDIA/x.git/git-receive-pack", 0);
	GLOB("**/b", "/", "b", 1);
	GLOB("**/b", "/", "/b", 1);
	GLOB("**/b", "/", "a/x/b", 1);
	GLOB("a/**/b", "/", "a/b", 1);
	GLOB("a/**/b", "/", "a/x/y/b", 1);
	GLOB("a/**/b", "/", "ab", 0);
	GLOB("**", "/", "anything/at/all", 1);
	GLOB("**/", "/", "abc", 1); /* oracle: a lone recursive prefix matches everything */
	GLOB("a**", "/", "abc", 1); /* `**` not a whole component acts as `*` */
	GLOB("a**", "/", "a/c", 0);
	GLOB("**a", "/", "xa", 1);
	GLOB("a?c", "/", "abc", 1);
	GLOB("a?c", "/", "a/c", 0);
}

TEST(policy_match_glob_no_slash_delimiter)
{
	GLOB("foo-*", "", "foo-a", 1); /* case 37: "" means "." */
	GLOB("foo-*", "", "foo-a.b", 0);
	GLOB("1.*", "", "1.2", 1);
	GLOB("1.*", "", "1.2.3", 0);
	GLOB("*", "", "a/b", 1); /* '/' is ordinary without the '/' delimiter */
	GLOB("*", ":", "a:b", 1);
	GLOB("true", "", "true", 1);
	GLOB("true", "", "false", 0);
}

TEST(policy_match_glob_syntax)
{
	GLOB("[abc]x", "/", "bx", 1);
	GLOB("[a-z]x", "/", "qx", 1);
	GLOB("[a-z]x", "/", "Qx", 0);
	GLOB("[!x]y", "/", "ay", 1);
	GLOB("[!x]y", "/", "xy", 0);
	GLOB("[!x]y", "/", "/y", 1); /* oracle: a negated class matches '/' */
	GLOB("[^x]y", "/", "ay", 1);
	GLOB("[]]", "/", "]", 1);
	GLOB("[-a]", "/", "-", 1);
	GLOB("[a-]", "/", "-", 1);
	GLOB("{a,b}c", "/", "bc", 1);
	GLOB("{a,b}c", "/", "dc", 0);
	GLOB("{a,{b,c}}d", "/", "cd", 1); /* globset 0.4.18 nests alternations */
	GLOB("{,a}", "/", "", 0);	  /* empty alternatives are dropped */
	GLOB("{,a}", "/", "a", 1);
	GLOB("x{}y", "/", "xy", 1);
	GLOB("{a/**,b}", "/", "a/x", 1);
	GLOB("{a/**,b}", "/", "a", 0);
	GLOB("\\*", "/", "*", 1);
	GLOB("\\*", "/", "a", 0);
	GLOB("caf\xc3\xa9", "/", "caf\xc3\xa9", 1);
	GLOB("caf?", "/", "caf\xc3\xa9", 0); /* '?' is one byte, as globset's (?-u) regex */
	GLOB("caf??", "/", "caf\xc3\xa9", 1);
}

TEST(policy_match_glob_fails_closed)
{
	GLOB("[", "/", "[", -1);	/* unclosed class */
	GLOB("{a", "/", "a", -1);	/* unclosed alternation */
	GLOB("a}", "/", "a}", -1);	/* unopened alternation */
	GLOB("\\", "/", "\\", -1);	/* dangling escape */
	GLOB("[z-a]", "/", "z", -1);	/* inverted range */
	GLOB("a", "\xc3\xa9", "a", -1); /* multi-byte delimiter */
	GLOB("\xff", "/", "a", -1);	/* not UTF-8 */
	CHECK_INT(pol_glob_match(NULL, "/", "a"), -1);
}

TEST(policy_match_glob_is_bounded)
{
	char pat[4097], val[4097];

	memset(pat, 0, sizeof(pat));
	memset(val, 'a', 4096);
	val[4096] = '\0';
	for (size_t i = 0; i < 4094; i += 2) {
		pat[i] = '*';
		pat[i + 1] = 'a';
	}
	pat[4094] = 'b';
	GLOB(pat, "/", val, 0);
	memset(pat, '*', 4096);
	pat[4096] = '\0';
	GLOB(pat, "", val, 1);
}

#define ROUTE(pat, path, want) CHECK_INT(pol_route_match(pat, path), want)

TEST(policy_match_route_selector)
{
	ROUTE("", "/v1/messages", 1);
	ROUTE("**", "/v1/messages", 1);
	ROUTE("/**", "/v1/messages", 1);
	ROUTE("/v1/**", "/v1", 1);
	ROUTE("/v1/**", "/v1/messages", 1);
	ROUTE("/v1/**", "/v2/messages", 0);
	ROUTE("/v1/**", "/v1x", 0);
	ROUTE("/v*/messages", "/v1/messages", 1);
	ROUTE("/v1/*", "/v1/chat/messages", 1); /* '*' crosses '/' here */
	ROUTE("/v1/*/messages", "/v1/chat/completions", 0);
	ROUTE("/repos/**", "/repos", 1);
	ROUTE("/graphql", "/graphql", 1);
	ROUTE("/graphql", "/graphql/x", 0);
	ROUTE("/a/**/b", "/a/b", 1);
	ROUTE("/a/**/b", "/a/x/y/b", 1);
	ROUTE("/x/[ab]", "/x/b", 1);
	ROUTE("/x/[!ab]", "/x/b", 0);
	ROUTE("[", "[", 1); /* invalid: only its literal text */
	ROUTE("[", "/v1/messages", 0);
	ROUTE("/a**", "/abc", 0); /* `**` not a component is invalid in the glob crate */
	ROUTE("/a**", "/a**", 1);
	ROUTE("/***", "/x", 0);
}

/* ---- L4 (§4.3, cases 1-15) ------------------------------------------------------------------- */

static void build_p1(struct pol_policy *p)
{
	struct pol_endpoint *e;

	pinit(p);
	rule(p, "claude_code", "/usr/local/bin/claude /usr/bin/node");
	ep(p, "claude_code", "api.anthropic.com", "443");
	ep(p, "claude_code", "statsig.anthropic.com", "443");
	rule(p, "github", "/usr/bin/git");
	e = ep(p, "github", "github.com", "443");
	rest(e, true, "");
	allow(p, e, "GET", "/**/info/refs*");
	allow(p, e, "POST", "/**/git-upload-pack");
}

TEST(policy_match_l4_p1)
{
	static const char *const sh_git[] = { "/usr/bin/sh", "/usr/bin/git" };
	static const char *const bash[] = { "/usr/bin/bash" };
	struct pol_policy p;
	struct conn c;

	build_p1(&p);
	L4_ALLOW(&p, "api.anthropic.com", 443, "/usr/bin/node", "claude_code");
	L4_ALLOW(&p, "API.ANTHROPIC.COM", 443, "/usr/bin/node", "claude_code");
	L4_DENY(&p, "api.anthropic.com", 80, "/usr/bin/node",
		"endpoint api.anthropic.com:80 is not allowed by any policy");
	L4_DENY(&p, "API.anthropic.com", 80, "/usr/bin/node",
		"endpoint api.anthropic.com:80 is not allowed by any policy");
	L4_DENY(&p, "api.anthropic.com", 443, "/usr/bin/python3",
		"binary '/usr/bin/python3' not allowed in policy 'claude_code' (ancestors: [], "
		"cmdline: []). SYMLINK HINT: the binary path is the kernel-resolved target from "
		"/proc/<pid>/exe, not the symlink.");
	l4(&c, &p, "github.com", 443, "/usr/bin/python3", sh_git, 2); /* case 5 */
	CHECK(c.rc == 0 && c.d.allow);
	CHECK_STR(c.d.rule ? c.d.rule->key : "", "github");
	CHECK_INT(c.d.n_ext, 1);
	CHECK(pol_l4_needs_l7(&c.d));
	pol_l4_decision_release(&c.d);
	l4(&c, &p, "github.com", 443, "/usr/bin/python3", bash, 1); /* case 6 */
	CHECK(c.rc == 0 && !c.d.allow);
	CHECK(strstr(c.d.reason.p, "(ancestors: [/usr/bin/bash], cmdline: [])") != NULL);
	pol_l4_decision_release(&c.d);
	L4_ALLOW(&p, "statsig.anthropic.com", 443, "/usr/local/bin/claude", "claude_code");
	pfree(&p);
}

TEST(policy_match_l4_deny_reason_text)
{
	static const char *const anc[] = { "/usr/bin/bash", "/sbin/init" };
	static const char *const cmd[] = { "/usr/local/bin/my-tool", "/tmp/x.py" };
	struct pol_policy p;
	struct conn c;

	pinit(&p);
	rule(&p, "b", "/usr/local/bin/my-tool");
	ep(&p, "b", "x.test", "443");
	rule(&p, "a", "/opt/other");
	ep(&p, "a", "x.test", "443");
	memset(&c.in, 0, sizeof(c.in));
	c.in.host = "x.test";
	c.in.port = 443;
	c.in.exe = "/usr/bin/node";
	c.in.ancestors = anc;
	c.in.n_ancestors = 2;
	c.in.cmdline = cmd; /* case 7: argv never grants */
	c.in.n_cmdline = 2;
	pol_l4_decision_init(&c.d);
	CHECK_INT(pol_eval_l4(&p, &c.in, &c.d), 0);
	CHECK(!c.d.allow);
	CHECK_STR(c.d.reason.p,
		  "binary '/usr/bin/node' not allowed in policy 'a' (ancestors: [/usr/bin/bash -> "
		  "/sbin/init], cmdline: [/usr/local/bin/my-tool, /tmp/x.py]). SYMLINK HINT: the "
		  "binary path is the kernel-resolved target from /proc/<pid>/exe, not the "
		  "symlink. If your policy specifies a symlink (e.g., /usr/bin/python3) but the "
		  "actual binary is /usr/bin/python3.11, either: (1) use the canonical path in "
		  "your policy (run 'readlink -f /usr/bin/python3' inside the sandbox), or (2) "
		  "ensure symlink resolution is working (check sandbox logs for 'Cannot access "
		  "container filesystem'); binary '/usr/bin/node' not allowed in policy 'b' "
		  "(ancestors: [/usr/bin/bash -> /sbin/init], cmdline: [/usr/local/bin/my-tool, "
		  "/tmp/x.py]). SYMLINK HINT: the binary path is the kernel-resolved target from "
		  "/proc/<pid>/exe, not the symlink. If your policy specifies a symlink (e.g., "
		  "/usr/bin/python3) but the actual binary is /usr/bin/python3.11, either: (1) use "
		  "the canonical path in your policy (run 'readlink -f /usr/bin/python3' inside "
		  "the sandbox), or (2) ensure symlink resolution is working (check sandbox logs "
		  "for 'Cannot access container filesystem')");
	c.in.identity_relaxed = true;
	CHECK_INT(pol_eval_l4(&p, &c.in, &c.d), 0);
	CHECK(c.d.allow && !strcmp(c.d.rule->key, "a"));
	pol_l4_decision_release(&c.d);
	pfree(&p);
}

TEST(policy_match_l4_binary_globs)
{
	static const char *const claude[] = { "/usr/local/bin/claude" };
	struct pol_policy p;
	struct conn c;

	pinit(&p);
	rule(&p, "bin", "/usr/bin/*");
	ep(&p, "bin", "h.test", "443");
	rule(&p, "local", "/usr/local/bin/*");
	ep(&p, "local", "l.test", "443");
	rule(&p, "tree", "/opt/x/**");
	ep(&p, "tree", "t.test", "443");
	L4_ALLOW(&p, "h.test", 443, "/usr/bin/node", "bin"); /* case 8 */
	L4_DENY(&p, "h.test", 443, "/usr/bin/sub/node", "binary '/usr/bin/sub/node'");
	l4(&c, &p, "l.test", 443, "/usr/bin/node", claude, 1); /* case 9 */
	CHECK(c.rc == 0 && c.d.allow);
	pol_l4_decision_release(&c.d);
	L4_ALLOW(&p, "t.test", 443, "/opt/x/a/b", "tree");
	L4_DENY(&p, "t.test", 443, "/opt/x", "binary '/opt/x'");
	L4_DENY(&p, "t.test", 443, "/opt/xy", "binary '/opt/xy'");
	pfree(&p);
}

TEST(policy_match_l4_no_rules_and_hosts)
{
	struct pol_policy p;
	struct pol_endpoint *e;

	pinit(&p); /* case 10 */
	L4_DENY(&p, "example.com", 443, "/usr/bin/curl",
		"network connections not allowed by policy");
	rule(&p, "w", "/usr/bin/curl");
	ep(&p, "w", "*.Example.com", "443");
	ep(&p, "w", "**.deep.test", "443");
	ep(&p, "w", "*-aiplatform.googleapis.com", "443");
	ep(&p, "w", "*.s3.*.amazonaws.com", "443");
	ep(&p, "w", "multi.test", "443 8443");
	rule(&p, "empty", "");
	ep(&p, "empty", "nobody.test", "443");
	L4_ALLOW(&p, "api.example.com", 443, "/usr/bin/curl", "w"); /* case 11 */
	L4_ALLOW(&p, "API.EXAMPLE.COM", 443, "/usr/bin/curl", "w");
	L4_DENY(&p, "deep.sub.example.com", 443, "/usr/bin/curl", "endpoint deep.sub");
	L4_DENY(&p, "example.com", 443, "/usr/bin/curl", "endpoint example.com:443");
	L4_ALLOW(&p, "a.b.deep.test", 443, "/usr/bin/curl", "w"); /* case 12 */
	L4_DENY(&p, "deep.test", 443, "/usr/bin/curl", "endpoint");
	L4_ALLOW(&p, "us-central1-aiplatform.googleapis.com", 443, "/usr/bin/curl", "w");
	L4_DENY(&p, "us-central1.aiplatform.googleapis.com", 443, "/usr/bin/curl", "endpoint");
	L4_ALLOW(&p, "b.s3.us-east-1.amazonaws.com", 443, "/usr/bin/curl", "w"); /* case 14 */
	L4_DENY(&p, "s3.us-east-1.amazonaws.com", 443, "/usr/bin/curl", "endpoint");
	L4_ALLOW(&p, "multi.test", 8443, "/usr/bin/curl", "w"); /* case 15 */
	L4_DENY(&p, "multi.test", 80, "/usr/bin/curl", "endpoint multi.test:80");
	L4_DENY(&p, "nobody.test", 443, "/usr/bin/curl",
		"binary '/usr/bin/curl' not allowed "
		"in policy 'empty'");
	e = ep(&p, "w", "", "5432"); /* hostless: allowed_ips required */
	L4_DENY(&p, "db.test", 5432, "/usr/bin/curl", "endpoint db.test:5432");
	e->allowed_ips[e->n_allowed_ips++] = "10.0.5.0/24";
	L4_ALLOW(&p, "db.test", 5432, "/usr/bin/curl", "w");
	pfree(&p);
}

TEST(policy_match_l4_smallest_key_and_ext)
{
	struct pol_policy p;
	struct pol_endpoint *e;
	struct conn c;

	pinit(&p);
	rule(&p, "zeta", "/bin/x");
	e = ep(&p, "zeta", "api.test", "443");
	rest(e, true, "full");
	rule(&p, "alpha", "/bin/x");
	ep(&p, "alpha", "api.test", "443"); /* L4 only: no extended config */
	e = ep(&p, "alpha", "*.test", "443");
	e->tls = "skip";
	rule(&p, "mid", "/bin/other");
	e = ep(&p, "mid", "api.test", "443");
	rest(e, true, "full");
	rule(&p, "tcp", "/bin/x");
	e = ep(&p, "tcp", "api.test", "443");
	e->protocol = POL_PROTO_TCP;
	l4(&c, &p, "api.test", 443, "/bin/x", NULL, 0);
	CHECK(c.rc == 0 && c.d.allow);
	CHECK_STR(c.d.rule->key, "alpha");
	CHECK_INT(c.d.n_ext, 2);
	CHECK(c.d.ext[0] == &find_rule(&p, "alpha")->endpoints[1]);
	CHECK(c.d.ext[1] == &find_rule(&p, "zeta")->endpoints[0]);
	CHECK_STR(c.d.ext_rule[1]->key, "zeta");
	CHECK(c.d.exact_declared_host);
	CHECK(!pol_l4_needs_l7(&c.d)); /* tls: skip means a raw tunnel */
	pol_l4_decision_release(&c.d);
	l4(&c, &p, "www.test", 443, "/bin/x", NULL, 0);
	CHECK(c.d.allow && !c.d.exact_declared_host);
	pol_l4_decision_release(&c.d);
	pfree(&p);
}

TEST(policy_match_l4_invalid_glob_fails_closed)
{
	struct pol_policy p;
	struct conn c;

	pinit(&p);
	rule(&p, "ok", "/bin/x");
	ep(&p, "ok", "fine.test", "443");
	rule(&p, "zz", "/bin/x");
	ep(&p, "zz", "*.{bad", "443");
	l4(&c, &p, "fine.test", 443, "/bin/x", NULL, 0);
	CHECK_INT(c.rc, -1);
	CHECK(!c.d.allow && c.d.reason.len);
	pol_l4_decision_release(&c.d);
	CHECK_INT(pol_eval_l4(&p, &(struct pol_l4_input){ .port = 1 }, &c.d), -1);
	pol_l4_decision_release(&c.d);
	pfree(&p);
}

/* ---- destinations (§4.5, cases 16-23) -------------------------------------------------------- */

static struct pol_addr ip(const char *s)
{
	struct pol_addr a;

	if (pol_addr_parse(s, &a) < 0)
		unit_fail(__FILE__, __LINE__, "cannot parse %s", s);
	return a;
}

/* The SSRF kind and message for host:port (allowed by p for /bin/x) resolving to addrs. */
static void ssrf_at(const char *file, int line, const struct pol_policy *p, const char *host,
		    uint16_t port, const char *addrs, const struct pol_addr *gw,
		    enum pol_ssrf_kind want, const char *why)
{
	struct pol_addr a[8];
	struct buf msg = BUF_INIT;
	char copy[256], *tok, *save = NULL;
	enum pol_ssrf_kind got;
	struct conn c;
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", addrs);
	for (tok = strtok_r(copy, " ", &save); tok && n < 8; tok = strtok_r(NULL, " ", &save))
		a[n++] = ip(tok);
	l4(&c, p, host, port, "/bin/x", NULL, 0);
	if (!c.d.allow) {
		unit_fail(file, line, "%s:%u not allowed at L4: %s", host, port, c.d.reason.p);
		goto out;
	}
	got = pol_check_destination(&c.d, host, port, a, n, gw, &msg);
	if (got != want || (why && strcmp(msg.p, why)))
		unit_fail(file, line, "%s:%u -> %s: kind %d '%s', expected %d '%s'", host, port,
			  addrs, got, msg.p, want, why ? why : "*");
out:
	buf_release(&msg);
	pol_l4_decision_release(&c.d);
}

#define SSRF(p, h, port, addrs, gw, kind, why) \
	ssrf_at(__FILE__, __LINE__, p, h, port, addrs, gw, kind, why)

TEST(policy_match_ssrf_modes)
{
	struct pol_policy p;
	struct pol_endpoint *e;

	pinit(&p);
	rule(&p, "r", "/bin/x");
	e = ep(&p, "r", "", "5432"); /* case 16 */
	e->allowed_ips[e->n_allowed_ips++] = "10.0.5.0/24";
	ep(&p, "r", "db.corp.test", "5432 8080"); /* case 17 */
	ep(&p, "r", "*.corp.test", "443");	  /* case 18 */
	ep(&p, "r", "local.test", "8080");	  /* case 19 */
	ep(&p, "r", "10.0.0.5", "8080");	  /* case 20 */
	e = ep(&p, "r", "k8s.test", "6443");	  /* case 21 */
	e->allowed_ips[e->n_allowed_ips++] = "10.0.0.0/8";
	e = ep(&p, "r", "lo.test", "80"); /* case 22 */
	e->allowed_ips[e->n_allowed_ips++] = "127.0.0.0/8";
	ep(&p, "r", "*.svc.test", "80"); /* case 23 */
	SSRF(&p, "anything.example", 5432, "10.0.5.7", NULL, POL_SSRF_OK, "");
	SSRF(&p, "anything.example", 5432, "10.0.6.1", NULL, POL_SSRF_ALLOWED_IPS,
	     "anything.example resolves to 10.0.6.1 which is not in allowed_ips, connection "
	     "rejected");
	SSRF(&p, "anything.example", 5432, "10.0.5.7 127.0.0.1", NULL, POL_SSRF_ALLOWED_IPS,
	     "anything.example resolves to always-blocked address 127.0.0.1, connection rejected");
	SSRF(&p, "x.corp.test", 443, "10.1.2.3", NULL, POL_SSRF_INTERNAL,
	     "x.corp.test resolves to internal address 10.1.2.3, connection rejected");
	SSRF(&p, "x.corp.test", 443, "93.184.216.34", NULL, POL_SSRF_OK, "");
	SSRF(&p, "db.corp.test", 8080, "10.1.2.3", NULL, POL_SSRF_OK, "");
	SSRF(&p, "local.test", 8080, "127.0.0.1", NULL, POL_SSRF_DECLARED,
	     "local.test resolves to always-blocked address 127.0.0.1, connection rejected");
	SSRF(&p, "10.0.0.5", 8080, "10.0.0.5", NULL, POL_SSRF_OK, "");
	SSRF(&p, "10.0.0.5", 8080, "10.0.0.6", NULL, POL_SSRF_ALLOWED_IPS,
	     "10.0.0.5 resolves to 10.0.0.6 which is not in allowed_ips, connection rejected");
	SSRF(&p, "k8s.test", 6443, "10.0.0.1", NULL, POL_SSRF_ALLOWED_IPS,
	     "port 6443 is a blocked control-plane port, connection rejected");
	SSRF(&p, "lo.test", 80, "127.0.0.1", NULL, POL_SSRF_INVALID_IPS,
	     "allowed_ips entry 127.0.0.0/8 falls within always-blocked range "
	     "(loopback/link-local/unspecified); remove this entry \xe2\x80\x94 SSRF hardening "
	     "prevents traffic to these destinations regardless of policy");
	SSRF(&p, "a.svc.test", 80, "100.64.1.1", NULL, POL_SSRF_INTERNAL,
	     "a.svc.test resolves to internal address 100.64.1.1, connection rejected");
	SSRF(&p, "a.svc.test", 80, "", NULL, POL_SSRF_INTERNAL,
	     "DNS resolution returned no addresses for a.svc.test");
	pfree(&p);
}

TEST(policy_match_ssrf_gateway_and_bad_entries)
{
	struct pol_addr gw = ip("169.254.1.2");
	struct pol_policy p;
	struct pol_endpoint *e;

	pinit(&p);
	rule(&p, "r", "/bin/x");
	ep(&p, "r", "host.openshell.internal", "8000 2379");
	e = ep(&p, "r", "bad.test", "80");
	e->allowed_ips[e->n_allowed_ips++] = "10.0.0.0/33";
	e->allowed_ips[e->n_allowed_ips++] = "nonsense";
	e->allowed_ips[e->n_allowed_ips++] = "fe80::/10";
	e = ep(&p, "r", "v6.test", "80");
	e->allowed_ips[e->n_allowed_ips++] = "2001:db8::/32";
	SSRF(&p, "host.openshell.internal", 8000, "169.254.1.2", &gw, POL_SSRF_OK, "");
	SSRF(&p, "HOST.openshell.internal", 8000, "169.254.1.3", &gw, POL_SSRF_GATEWAY,
	     "HOST.openshell.internal resolves to 169.254.1.3 which does not match trusted host "
	     "gateway 169.254.1.2, connection rejected");
	SSRF(&p, "host.openshell.internal", 8000, "169.254.169.254", &gw, POL_SSRF_GATEWAY,
	     "host.openshell.internal resolves to cloud metadata address 169.254.169.254, "
	     "connection rejected");
	SSRF(&p, "host.openshell.internal", 2379, "169.254.1.2", &gw, POL_SSRF_GATEWAY,
	     "port 2379 is a blocked control-plane port, connection rejected");
	/* without a trusted gateway the alias is an exact declared host */
	SSRF(&p, "host.openshell.internal", 8000, "169.254.1.2", NULL, POL_SSRF_DECLARED,
	     "host.openshell.internal resolves to always-blocked address 169.254.1.2, "
	     "connection rejected");
	SSRF(&p, "bad.test", 80, "10.0.0.1", NULL, POL_SSRF_INVALID_IPS,
	     "invalid CIDR/IP in allowed_ips: 10.0.0.0/33; invalid CIDR/IP in allowed_ips: "
	     "nonsense; allowed_ips entry fe80::/10 falls within always-blocked range "
	     "(loopback/link-local/unspecified); remove this entry \xe2\x80\x94 SSRF hardening "
	     "prevents traffic to these destinations regardless of policy");
	SSRF(&p, "v6.test", 80, "2001:db8::5", NULL, POL_SSRF_OK, "");
	SSRF(&p, "v6.test", 80, "2001:db9::5", NULL, POL_SSRF_ALLOWED_IPS,
	     "v6.test resolves to 2001:db9::5 which is not in allowed_ips, connection rejected");
	SSRF(&p, "v6.test", 80, "::ffff:127.0.0.1", NULL, POL_SSRF_ALLOWED_IPS,
	     "v6.test resolves to always-blocked address ::ffff:127.0.0.1, connection rejected");
	pfree(&p);
}

TEST(policy_match_addr_classes)
{
	static const char *const blocked[] = { "127.0.0.1",
					       "127.255.0.9",
					       "169.254.169.254",
					       "0.0.0.0",
					       "::1",
					       "::",
					       "fe80::1",
					       "febf::1",
					       "::ffff:127.0.0.1",
					       "::ffff:169.254.0.1",
					       "::ffff:0.0.0.0",
					       "[::1]" };
	static const char *const internal[] = {
		"10.1.2.3",	     "172.16.0.1",  "172.31.255.255", "192.168.1.1",
		"100.64.1.1",	     "100.127.0.1", "192.0.0.8",      "192.0.2.1",
		"198.51.100.1",	     "203.0.113.9", "198.18.0.1",     "198.19.255.1",
		"255.255.255.255",   "fc00::1",	    "fd00::1",	      "::ffff:10.0.0.1",
		"::ffff:192.168.0.1"
	};
	static const char *const public[] = { "8.8.8.8",	 "172.32.0.1", "100.128.0.1",
					      "0.1.2.3",	 "224.0.0.1",  "198.20.0.1",
					      "2001:4860::8888", "fec0::1",    "::2",
					      "::ffff:8.8.8.8" };
	struct pol_addr a;
	size_t i;

	for (i = 0; i < sizeof(blocked) / sizeof(*blocked); i++) {
		a = ip(blocked[i]);
		if (!pol_addr_always_blocked(&a) || !pol_addr_internal(&a))
			unit_fail(__FILE__, __LINE__, "%s should be always-blocked", blocked[i]);
	}
	for (i = 0; i < sizeof(internal) / sizeof(*internal); i++) {
		a = ip(internal[i]);
		if (pol_addr_always_blocked(&a) || !pol_addr_internal(&a))
			unit_fail(__FILE__, __LINE__, "%s should be internal only", internal[i]);
	}
	for (i = 0; i < sizeof(public) / sizeof(*public); i++) {
		a = ip(public[i]);
		if (pol_addr_internal(&a))
			unit_fail(__FILE__, __LINE__, "%s should be public", public[i]);
	}
	CHECK_INT(pol_addr_parse("1.2.3", &a), -1);
	CHECK_INT(pol_addr_parse("01.2.3.4", &a), -1);
	CHECK_INT(pol_addr_parse("::1%eth0", &a), -1);
	CHECK_INT(pol_addr_parse("example.com", &a), -1);
	CHECK_STR(pol_ssrf_kind_text(POL_SSRF_INVALID_IPS), "invalid allowed_ips in policy");
	CHECK_STR(pol_ssrf_kind_text(POL_SSRF_INTERNAL), "internal address");
}

TEST(policy_match_addr_format)
{
	static const char *const rt[][2] = {
		{ "1.2.3.4", "1.2.3.4" },
		{ "::", "::" },
		{ "::1", "::1" },
		{ "::2", "::2" },
		{ "2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
		{ "fe80::", "fe80::" },
		{ "[::ffff:1.2.3.4]", "::ffff:1.2.3.4" },
		{ "1:0:0:2:0:0:0:3", "1:0:0:2::3" },
	};
	struct pol_addr a;
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(rt) / sizeof(*rt); i++) {
		a = ip(rt[i][0]);
		pol_addr_format(&a, out, sizeof(out));
		CHECK_STR(out, rt[i][1]);
	}
}

/* ---- L7 (§4.8-§4.9, cases 31-42) ------------------------------------------------------------- */

static void build_p2(struct pol_policy *p)
{
	struct pol_endpoint *e;

	pinit(p);
	rule(p, "rest_api", "/usr/bin/curl");
	e = ep(p, "rest_api", "api.example.com", "8080");
	rest(e, true, "");
	allow(p, e, "GET", "/repos/**");
	allow(p, e, "POST", "/repos/*/issues");
}

#define API "api.example.com", 8080, "/usr/bin/curl"

TEST(policy_match_l7_p2)
{
	struct pol_policy p;

	build_p2(&p);
	L7(&p, API, "GET", "/repos/org/repo", 'A', ""); /* case 31 */
	L7(&p, API, "POST", "/repos/myorg/issues", 'A', "");
	L7(&p, API, "DELETE", "/repos/myorg/foo", 'D', /* case 32 */
	   "DELETE /repos/myorg/foo not permitted by policy");
	L7(&p, API, "GET", "/admin/settings", 'D', "GET /admin/settings not permitted by policy");
	L7(&p, API, "POST", "/repos/a/b/issues", 'D', NULL);
	L7(&p, API, "get", "/repos/myorg/foo", 'A', ""); /* case 33 */
	L7(&p, API, "HEAD", "/repos/x", 'A', "");
	L7(&p, API, "OPTIONS", "/repos/x", 'D', "OPTIONS /repos/x not permitted by policy");
	L7(&p, API, "GET", "/repos", 'D', NULL); /* case 40 */
	L7(&p, API, "GET", "/repos/", 'A', "");
	L7(&p, API, "GET", "/secret", 'D', NULL); /* case 41: /public/%2e%2e/secret canonical */
	pfree(&p);
}

TEST(policy_match_l7_presets)
{
	struct pol_policy p;
	struct pol_endpoint *e;

	pinit(&p);
	rule(&p, "ro", "/bin/x");
	rest(ep(&p, "ro", "ro.test", "443"), true, "read-only");
	rule(&p, "rw", "/bin/x");
	e = ep(&p, "rw", "rw.test", "443");
	rest(e, true, "read-write");
	deny(&p, e, "POST", "/repos/*/pulls/*/reviews");
	deny(&p, e, "*", "/repos/*/rulesets");
	rule(&p, "full", "/bin/x");
	e = ep(&p, "full", "full.test", "443");
	rest(e, true, "full");
	deny(&p, e, "GET", "/protected");
	deny(&p, e, "", "/anything");
	deny(&p, e, "POST", "");
	rule(&p, "typo", "/bin/x");
	rest(ep(&p, "typo", "typo.test", "443"), true, "read-only-ish");
	L7(&p, "ro.test", 443, "/bin/x", "GET", "/anything", 'A', ""); /* case 34 */
	L7(&p, "ro.test", 443, "/bin/x", "HEAD", "/anything", 'A', "");
	L7(&p, "ro.test", 443, "/bin/x", "OPTIONS", "/anything", 'A', "");
	L7(&p, "ro.test", 443, "/bin/x", "POST", "/anything", 'D', NULL);
	L7(&p, "ro.test", 443, "/bin/x", "DELETE", "/anything", 'D', NULL);
	L7(&p, "rw.test", 443, "/bin/x", "POST", "/repos/o/pulls/1/reviews", 'D', /* case 35 */
	   "POST /repos/o/pulls/1/reviews blocked by deny rule");
	L7(&p, "rw.test", 443, "/bin/x", "POST", "/repos/o/issues", 'A', "");
	L7(&p, "rw.test", 443, "/bin/x", "GET", "/repos/o/rulesets", 'D',
	   "GET /repos/o/rulesets blocked by deny rule");
	L7(&p, "rw.test", 443, "/bin/x", "DELETE", "/x", 'D', "DELETE /x not permitted by policy");
	L7(&p, "full.test", 443, "/bin/x", "HEAD", "/protected", 'D', /* case 36 */
	   "HEAD /protected blocked by deny rule");
	L7(&p, "full.test", 443, "/bin/x", "DELETE", "/anything", 'A', "");
	L7(&p, "full.test", 443, "/bin/x", "POST", "/x", 'A', "");
	L7(&p, "typo.test", 443, "/bin/x", "GET", "/x", 'D', NULL);
	pfree(&p);
}

TEST(policy_match_l7_query)
{
	struct pol_policy p;
	struct pol_endpoint *e;
	struct pol_l7rule *r;

	pinit(&p);
	rule(&p, "dl", "/bin/x");
	e = ep(&p, "dl", "dl.test", "443");
	rest(e, true, "");
	query(&p, allow(&p, e, "GET", "/download"), "tag", "foo-*");
	r = allow(&p, e, "GET", "/multi");
	query(&p, r, "a", "x y");
	query(&p, r, "b", "*");
	rule(&p, "adm", "/bin/x");
	e = ep(&p, "adm", "adm.test", "443");
	rest(e, true, "full");
	query(&p, deny(&p, e, "POST", "/admin/**"), "force", "true");
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/download?tag=foo-a&tag=foo-b&x=1", 'A', "");
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/download?tag=foo-a&tag=evil", 'D', NULL);
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/download", 'D', NULL);
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/download?x=1", 'D', NULL);
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/download?tag=foo-a.b", 'D', NULL);
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/download?tag=foo%2Dz+q&&", 'A', "");
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/download?tag=foo-%zz", 'H',
	   "Invalid percent-encoding in query component");
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/download?tag=foo-%4", 'H',
	   "Invalid percent-encoding in query component");
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/download?tag=foo-%ff", 'H',
	   "Query component is not valid UTF-8");
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/download?tag=foo-%00", 'H', NULL);
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/download?tag=foo-%C3%A9", 'A', "");
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/multi?a=y&b=&a=x", 'A', "");
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/multi?a=y&b", 'A', "");
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/multi?a=z&b=1", 'D', NULL);
	L7(&p, "dl.test", 443, "/bin/x", "GET", "/multi?a=x", 'D', NULL);
	L7(&p, "adm.test", 443, "/bin/x", "POST", "/admin/s?force=true", 'D', /* case 38 */
	   "POST /admin/s blocked by deny rule");
	L7(&p, "adm.test", 443, "/bin/x", "POST", "/admin/s?force=false", 'A', "");
	L7(&p, "adm.test", 443, "/bin/x", "POST", "/admin/s", 'A', "");
	L7(&p, "adm.test", 443, "/bin/x", "POST", "/admin/s?force=false&force=true", 'D', NULL);
	pfree(&p);
}

TEST(policy_match_l7_p1_git)
{
	struct pol_policy p;

	build_p1(&p); /* case 39 */
	L7(&p, "github.com", 443, "/usr/bin/git", "GET", "/NVIDIA/x.git/info/refs", 'A', "");
	L7(&p, "github.com", 443, "/usr/bin/git", "GET",
	   "/NVIDIA/x.git/info/refs?service=git-upload-pack", 'A', "");
	L7(&p, "github.com", 443, "/usr/bin/git", "POST", "/NVIDIA/x.git/git-upload-pack", 'A', "");
	L7(&p, "github.com", 443, "/usr/bin/git", "POST", "/NVIDIA/x.git/git-receive-pack", 'D',
	   "POST /NVIDIA/x.git/git-receive-pack not permitted by policy");
	pfree(&p);
}

TEST(policy_match_l7_audit_and_routes)
{
	struct pol_l7_decision d;
	struct pol_policy p;
	struct pol_endpoint *e;
	struct conn c;

	pinit(&p);
	rule(&p, "a", "/bin/x");
	e = ep(&p, "a", "audit.test", "443"); /* case 42 */
	rest(e, false, "");
	allow(&p, e, "GET", "/ok");
	rule(&p, "gh", "/bin/x"); /* case 43, REST half */
	e = ep(&p, "gh", "gh.test", "443");
	rest(e, true, "");
	e->path = "/repos/**";
	allow(&p, e, "*", "/**");
	e = ep(&p, "gh", "gh.test", "443");
	e->protocol = POL_PROTO_GRAPHQL;
	e->protocol_text = "graphql";
	e->enforce = true;
	e->path = "/graphql";
	L7(&p, "audit.test", 443, "/bin/x", "GET", "/ok", 'A', "");
	L7(&p, "gh.test", 443, "/bin/x", "POST", "/repos/o/r/issues", 'A', "");
	L7(&p, "gh.test", 443, "/bin/x", "POST", "/repos", 'D', NULL); /* rule glob is not */
	L7(&p, "gh.test", 443, "/bin/x", "GET", "/user", 'H',
	   "no L7 endpoint path matched request");
	L7(&p, "gh.test", 443, "/bin/x", "POST", "/graphql", 'D',
	   "L7 protocol 'graphql' is not supported for inspection");
	l4(&c, &p, "audit.test", 443, "/bin/x", NULL, 0);
	pol_l7_decision_init(&d);
	pol_eval_l7(&p, &c.in, &c.d, &(struct pol_l7_input){ "POST", "/ok", NULL }, &d);
	CHECK(!d.allow && !d.enforce && !d.hard); /* forwarded, logged as audit */
	CHECK_STR(d.reason.p, "POST /ok not permitted by policy");
	CHECK(d.endpoint == &find_rule(&p, "a")->endpoints[0]);
	CHECK_STR(d.rule->key, "a");
	CHECK_INT(pol_eval_l7(&p, &c.in, &c.d, &(struct pol_l7_input){ NULL, "/", NULL }, &d), -1);
	CHECK(d.hard && !d.allow);
	pol_l7_decision_release(&d);
	pol_l4_decision_release(&c.d);
	pfree(&p);
}

TEST(policy_match_l7_route_specificity)
{
	struct pol_policy p;
	struct pol_endpoint *e;

	pinit(&p);
	rule(&p, "r", "/bin/x");
	e = ep(&p, "r", "s.test", "443");
	rest(e, false, "full");
	e->path = "/v1/**";
	e = ep(&p, "r", "s.test", "443");
	rest(e, true, "");
	e->path = "/v1/chat/*";
	allow(&p, e, "GET", "/v1/chat/x");
	/* the specific route enforces; the allow rules still union over both endpoints whose
	 * path (as a Rego glob) matches the request */
	L7(&p, "s.test", 443, "/bin/x", "POST", "/v1/chat/y", 'A', "");
	L7(&p, "s.test", 443, "/bin/x", "POST", "/v1/other", 'A', "");
	pfree(&p);
}
