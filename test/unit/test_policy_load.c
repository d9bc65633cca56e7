/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/policy loader and validator: the schema of reference/policy.md §1, the checks of §3,
 * conformance cases 24-30 of §9, the §1.10 example, canonical JSON, hashes, §8.4.
 */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char example[] =
	"version: 1\n"
	"filesystem_policy: {include_workdir: true, read_only: [/usr, /lib, /etc], read_write: "
	"[/tmp]}\n"
	"landlock: {compatibility: best_effort}\n"
	"network_policies:\n"
	"  gh:\n"
	"    endpoints:\n"
	"      - {host: api.github.com, port: 443, protocol: rest, enforcement: enforce, access: "
	"read-only,\n"
	"         deny_rules: [{method: GET, path: \"/user/keys\"}]}\n"
	"      - {host: \"*.pythonhosted.org\", ports: [443, 8443]}\n"
	"    binaries: [{path: /usr/bin/gh}, {path: \"/opt/tools/**\"}]\n";

static int load(struct pol_policy *p, struct pol_report *r, const char *yaml)
{
	pol_report_init(r);
	return pol_load(p, "t.yaml", yaml, strlen(yaml), r);
}

static void dump(const struct pol_report *r)
{
	struct buf b = BUF_INIT;

	pol_report_format(r, "t.yaml", &b);
	fprintf(stderr, "%s", b.p);
	buf_release(&b);
}

static const struct pol_diag *find(const struct pol_report *r, const char *needle, bool warning)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->d[i].warning == warning && strstr(r->d[i].msg, needle))
			return &r->d[i];
	return NULL;
}

static void ok_at(const char *file, int line, const char *yaml)
{
	struct pol_policy p;
	struct pol_report r;

	if (load(&p, &r, yaml) != 0) {
		unit_fail(file, line, "policy did not load");
		dump(&r);
	} else {
		pol_release(&p);
	}
	pol_report_release(&r);
}

/* The policy is refused and one error says needle. */
static void bad_at(const char *file, int line, const char *yaml, const char *needle)
{
	struct pol_policy p;
	struct pol_report r;

	if (load(&p, &r, yaml) == 0) {
		unit_fail(file, line, "policy loaded, expected '%s'", needle);
		pol_release(&p);
	} else if (!find(&r, needle, false)) {
		unit_fail(file, line, "no error contains '%s'", needle);
		dump(&r);
	}
	pol_report_release(&r);
}

/* The policy loads with a warning that says needle. */
static void warn_at(const char *file, int line, const char *yaml, const char *needle)
{
	struct pol_policy p;
	struct pol_report r;

	if (load(&p, &r, yaml) != 0) {
		unit_fail(file, line, "policy did not load");
		dump(&r);
	} else {
		if (!find(&r, needle, true)) {
			unit_fail(file, line, "no warning contains '%s'", needle);
			dump(&r);
		}
		pol_release(&p);
	}
	pol_report_release(&r);
}

/* The one error at line:col with key path and message. */
static void where_at(const char *file, int line, const char *yaml, unsigned l, unsigned c,
		     const char *path, const char *msg)
{
	struct pol_policy p;
	struct pol_report r;
	const struct pol_diag *d;

	if (load(&p, &r, yaml) == 0) {
		unit_fail(file, line, "policy loaded");
		pol_release(&p);
	} else if (!(d = find(&r, msg, false))) {
		unit_fail(file, line, "no error '%s'", msg);
		dump(&r);
	} else if (d->mark.line != l || d->mark.col != c || strcmp(d->path, path)) {
		unit_fail(file, line, "'%s' at %u:%u path '%s', expected %u:%u '%s'", d->msg,
			  d->mark.line, d->mark.col, d->path, l, c, path);
	}
	pol_report_release(&r);
}

#define OK(y)		     ok_at(__FILE__, __LINE__, y)
#define BAD(y, m)	     bad_at(__FILE__, __LINE__, y, m)
#define WARN(y, m)	     warn_at(__FILE__, __LINE__, y, m)
#define WHERE(y, l, c, p, m) where_at(__FILE__, __LINE__, y, l, c, p, m)

/* A rule "r" with one endpoint given as a flow mapping body, and binary /usr/bin/x. */
static char *ep(const char *body)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf),
		 "version: 1\nnetwork_policies:\n  r:\n    endpoints:\n      - {%s}\n"
		 "    binaries: [{path: /usr/bin/x}]\n",
		 body);
	return buf;
}

TEST(policy_load_example_of_the_spec)
{
	struct pol_policy p;
	struct pol_report r;
	const struct pol_endpoint *e;

	if (load(&p, &r, example) != 0) {
		dump(&r);
		CHECK(0);
		pol_report_release(&r);
		return;
	}
	CHECK_INT(r.n, 0);
	CHECK_INT(p.version, 1);
	CHECK(p.has_filesystem && p.include_workdir);
	CHECK_INT(p.n_read_only, 3);
	CHECK_STR(p.read_only[2], "/etc");
	CHECK_STR(p.read_write[0], "/tmp");
	CHECK(p.has_landlock && !p.landlock_hard);
	CHECK_STR(p.landlock_compatibility, "best_effort");
	CHECK(!p.has_process);
	CHECK_INT(p.n_rules, 1);
	CHECK_STR(p.rules[0].key, "gh");
	CHECK_STR(p.rules[0].name, "gh");
	CHECK_INT(p.rules[0].n_endpoints, 2);
	e = &p.rules[0].endpoints[0];
	CHECK_STR(e->host, "api.github.com");
	CHECK_INT(e->n_ports, 1);
	CHECK_INT(e->ports[0], 443);
	CHECK_INT(e->protocol, POL_PROTO_REST);
	CHECK(e->enforce);
	CHECK_STR(e->access, "read-only");
	CHECK_INT(e->n_deny_rules, 1);
	CHECK_STR(e->deny_rules[0].method, "GET");
	CHECK_STR(e->deny_rules[0].path, "/user/keys");
	CHECK_STR(e->deny_rules[0].command, "");
	CHECK_INT(e->mark.line, 7);
	CHECK_INT(e->mark.col, 9);
	e = &p.rules[0].endpoints[1];
	CHECK_INT(e->n_ports, 2);
	CHECK_INT(e->ports[1], 8443);
	CHECK_INT(e->protocol, POL_PROTO_NONE);
	CHECK(!e->enforce);
	CHECK_STR(e->tls, "");
	CHECK(e->mcp_strict_tool_names);
	CHECK_INT(p.rules[0].n_binaries, 2);
	CHECK_STR(p.rules[0].binaries[1].path, "/opt/tools/**");
	pol_release(&p);
	pol_report_release(&r);
}

TEST(policy_load_defaults_and_sorting)
{
	struct pol_policy p;
	struct pol_report r;

	CHECK_INT(load(&p, &r, "version: 1\n"), 0);
	CHECK(!p.has_filesystem && p.include_workdir && p.n_rules == 0);
	CHECK_STR(p.run_as_user, "");
	pol_release(&p);
	pol_report_release(&r);

	CHECK_INT(load(&p, &r,
		       "version: 7\nfilesystem_policy: {read_only: [/usr]}\n"
		       "landlock: {compatibility: hard_requirement}\n"
		       "process: {run_as_user: sandbox}\n"),
		  0);
	CHECK(p.has_filesystem && !p.include_workdir);
	CHECK_INT(p.version, 7);
	CHECK(p.landlock_hard);
	CHECK(p.has_process);
	CHECK_STR(p.run_as_user, "sandbox");
	CHECK_STR(p.run_as_group, "");
	pol_release(&p);
	pol_report_release(&r);

	CHECK_INT(load(&p, &r,
		       "version: 1\nnetwork_policies:\n"
		       "  zeta: {name: Z, endpoints: [{host: z.test, port: 1}]}\n"
		       "  alpha: {endpoints: [{host: a.test, port: 2}]}\n"
		       "  mid: {endpoints: [{host: m.test, port: 3}]}\n"),
		  0);
	CHECK_INT(p.n_rules, 3);
	CHECK_STR(p.rules[0].key, "alpha");
	CHECK_STR(p.rules[1].key, "mid");
	CHECK_STR(p.rules[2].key, "zeta");
	CHECK_STR(p.rules[2].name, "Z");
	CHECK_STR(p.rules[0].name, "alpha");
	pol_release(&p);
	pol_report_release(&r);
}

TEST(policy_load_case_30_parse_errors)
{
	BAD("version: 1\nbogus: 1\n", "unknown key 'bogus'");
	BAD("version: 1\ninference: {}\n", "unknown key 'inference'");
	BAD(ep("host: a.test, port: 70000"),
	    "invalid value 70000: expected an integer in 0..=65535");
	BAD(ep("host: a.test, ports: [443, 65536]"), "invalid value 65536");
	BAD(ep("host: a.test, port: 443, provider_credentialed: true"),
	    "unknown key 'provider_credentialed'");
	BAD(ep("host: a.test, port: 443, advisor_proposed: true"),
	    "unknown key 'advisor_proposed'");
	BAD("filesystem_policy: {}\n", "missing required key 'version'");
	BAD("", "missing required key 'version'");
	BAD("# only a comment\n", "missing required key 'version'");
	BAD("version: -1\n", "invalid value -1");
	BAD("version: 4294967296\n", "invalid value 4294967296");
	OK("version: 4294967295\n");
	OK("version: 0x10\n");
	BAD("[1, 2]\n", "a policy must be a mapping");
}

TEST(policy_load_marks_and_key_paths)
{
	WHERE("version: 1\nbogus: 1\n", 2, 1, "bogus", "unknown key 'bogus'");
	WHERE(ep("host: a.test, prot: 443"), 5, 24, "network_policies.r.endpoints[0].prot",
	      "unknown key 'prot' (did you mean 'port'?)");
	WHERE(ep("host: a.test, port: 70000"), 5, 30, "network_policies.r.endpoints[0].port",
	      "invalid value 70000");
	WHERE(ep("host: a.test, ports: [1, x]"), 5, 35, "network_policies.r.endpoints[0].ports[1]",
	      "expected an integer, got 'x'");
	WHERE("version: 1\nnetwork_policies:\n  r:\n    binaries:\n      - {path: /a, harness: "
	      "3}\n",
	      5, 29, "network_policies.r.binaries[0].harness", "expected a boolean");
	WHERE("version: 1\nversion: 2\n", 2, 1, "version", "duplicate key 'version'");
	WHERE("version: 1\nnetwork_policies:\n  a: {}\n  a: {}\n", 4, 3, "network_policies",
	      "duplicate key 'a'");
}

TEST(policy_load_wrong_scalar_types)
{
	BAD(ep("host: a.test, port: \"443\""), "expected an integer, got the string '443'");
	BAD(ep("host: a.test, port: 443.0"), "expected an integer, got '443.0'");
	BAD(ep("host: {a: 1}, port: 443"), "expected a string, got a mapping");
	BAD(ep("host: [a], port: 443"), "expected a string, got a sequence");
	BAD(ep("host: a.test, port: 443, allow_encoded_slash: yes"),
	    "expected a boolean (true or false), got 'yes'");
	BAD(ep("host: a.test, port: 443, allow_encoded_slash: \"true\""),
	    "expected a boolean (true or false), got the string 'true'");
	BAD("version: 1\nfilesystem_policy: {include_workdir: on}\n", "expected a boolean");
	BAD("version: 1\nfilesystem_policy: {read_only: /usr}\n", "expected a sequence");
	BAD("version: 1\nfilesystem_policy: {read_only: [[/usr]]}\n", "expected a string");
	BAD("version: 1\nnetwork_policies: [a]\n", "expected a mapping, got a sequence");
	BAD("version: 1\nnetwork_policies: {r: {endpoints: {host: a}}}\n", "expected a sequence");
	BAD("version: \"1\"\n", "expected an integer");
	BAD("version: 1\n? [a]\n: 1\n", "mapping keys must be strings");
	BAD(ep("host: \"a\\0b\", port: 443"), "string contains a NUL byte");
	BAD(ep("host: \"a\\x7fb\", port: 443"), "string contains a control character");
	BAD(ep("host: \"a\\u2028b\", port: 443"), "string contains a Unicode line separator");
	BAD(ep("host: \"a\\uffffb\", port: 443"), "string contains a Unicode non-character");
	BAD("version: 1\nnetwork_policies: {\"a\\x85\": {}}\n", "key contains a control character");
	OK("version: 1\nfilesystem_policy: {include_workdir: True, read_only: [/usr]}\n");
	OK("version: 1\nfilesystem_policy: ~\nlandlock:\nprocess: null\n");
}

TEST(policy_load_lists_every_problem)
{
	struct pol_policy p;
	struct pol_report r;

	CHECK_INT(load(&p, &r,
		       "version: 1\n"
		       "bogus: 1\n"
		       "network_policies:\n"
		       "  r:\n"
		       "    endpoints:\n"
		       "      - {host: a.test, port: 70000, tls: [x]}\n"
		       "      - {host: b.test, port: 443, wat: 1}\n"
		       "    binaries: [{}]\n"),
		  -1);
	CHECK_INT(r.n_errors, 5);
	CHECK(find(&r, "unknown key 'bogus'", false));
	CHECK(find(&r, "invalid value 70000", false));
	CHECK(find(&r, "expected a string, got a sequence", false));
	CHECK(find(&r, "unknown key 'wat'", false));
	CHECK(find(&r, "missing required key 'path'", false));
	CHECK_INT(r.d[0].mark.line, 2);
	CHECK_INT(r.d[4].mark.line, 8);
	pol_report_release(&r);

	/* validation problems are all listed too */
	CHECK_INT(load(&p, &r,
		       "version: 1\n"
		       "process: {run_as_user: root, run_as_group: '0'}\n"
		       "filesystem_policy: {read_only: [rel], read_write: [/]}\n"),
		  -1);
	CHECK_INT(r.n_errors, 4);
	pol_report_release(&r);
}

TEST(policy_load_refuses_anchors_tags_and_deep_nesting)
{
	char deep[400];
	size_t i, n = 0;

	BAD("version: 1\nfilesystem_policy: &fs {read_only: [/usr]}\nlandlock: *fs\n",
	    "YAML anchors are not allowed");
	BAD("version: 1\nfilesystem_policy: &fs {read_only: [/usr]}\nlandlock: *fs\n",
	    "YAML aliases are not allowed");
	BAD("version: !!int 1\n", "YAML tags are not allowed");
	BAD("version: 1\n---\nversion: 2\n", "a policy must be a single YAML document");
	BAD("version: 1\nnetwork_policies: {a: &x [*x]}\n", "YAML aliases are not allowed");
	n += (size_t)snprintf(deep, sizeof(deep), "version: 1\nx: ");
	for (i = 0; i < 70; i++)
		deep[n++] = '[';
	for (i = 0; i < 70; i++)
		deep[n++] = ']';
	deep[n++] = '\n';
	deep[n] = '\0';
	BAD(deep, "nested deeper than 64 levels");
	WHERE("version: 1\nnetwork_policies: {a: [}\n", 2, 24, "", "invalid YAML");
}

TEST(policy_load_matchers_tool_and_params)
{
	struct pol_policy p;
	struct pol_report r;
	const struct pol_l7rule *a;

	CHECK_INT(load(&p, &r,
		       ep("host: a.test, port: 443, protocol: mcp, rules: [\n"
			  "  {allow: {method: tools/call, tool: get_*}},\n"
			  "  {allow: {method: tools/call, params: {name: {any: [a, b]}}}},\n"
			  "  {allow: {method: x, params: {arguments: {path: {deep: q}}}}}]")),
		  -1); /* the third rule has argument matchers: refused, but loaded first */
	CHECK(find(&r,
		   "rules[2].allow.params.arguments.path.deep: MCP tool argument matching is "
		   "not supported yet",
		   false));
	pol_report_release(&r);

	CHECK_INT(load(&p, &r,
		       ep("host: a.test, port: 443, protocol: mcp, rules: [\n"
			  "  {allow: {params: {name: {any: [a, b]}}, method: tools/call,\n"
			  "           tool: ignored_order}},\n"
			  "  {allow: {method: tools/call, params: {name: c}}}]")),
		  -1);
	CHECK(find(&r, "MCP rules must use either tool or params.name, not both", false));
	pol_report_release(&r);

	CHECK_INT(load(&p, &r,
		       ep("host: a.test, port: 443, protocol: rest, rules: [\n"
			  "  {allow: {method: GET, path: /d, query: {tag: foo-*, "
			  "v: {any: [\"1.*\", \"2\"]}}}}]")),
		  0);
	a = &p.rules[0].endpoints[0].rules[0];
	CHECK_INT(a->n_query, 2);
	CHECK_STR(a->query[0].key, "tag");
	CHECK_INT(a->query[0].m.n, 1);
	CHECK_STR(a->query[0].m.globs[0], "foo-*");
	CHECK_STR(a->query[1].key, "v");
	CHECK_INT(a->query[1].m.n, 2);
	CHECK_STR(a->query[1].m.globs[1], "2");
	pol_release(&p);
	pol_report_release(&r);

	CHECK_INT(load(&p, &r,
		       ep("host: a.test, port: 443, protocol: mcp, rules: [\n"
			  "  {allow: {method: tools/call, params: {name: n}, query: {}}},\n"
			  "  {allow: {tool: {any: [x, y]}, method: tools/call}}]")),
		  0);
	a = &p.rules[0].endpoints[0].rules[1];
	CHECK(a->has_tool);
	CHECK_INT(a->n_params, 1);
	CHECK_STR(a->params[0].key, "name");
	CHECK_INT(a->params[0].m.n, 2);
	a = &p.rules[0].endpoints[0].rules[0];
	CHECK(!a->has_tool);
	CHECK_STR(a->params[0].key, "name");
	pol_release(&p);
	pol_report_release(&r);

	BAD(ep("host: a.test, port: 443, protocol: rest, rules: [{method: GET}]"),
	    "unknown key 'method'");
	BAD(ep("host: a.test, port: 443, protocol: rest, rules: [{}]"),
	    "missing required key 'allow'");
	BAD(ep("host: a.test, port: 443, protocol: rest, rules: [{allow: {method: GET}, x: 1}]"),
	    "unknown key 'x'");
	BAD(ep("host: a.test, port: 443, protocol: rest, rules: [{allow: {method: GET, path: /, "
	       "query: {a: {glob: x}}}}]"),
	    "unknown key 'glob'");
	BAD(ep("host: a.test, port: 443, protocol: rest, rules: [{allow: {method: GET, path: /, "
	       "query: {a: {any: []}}}}]"),
	    "rules[0].allow.query.a.any: list must not be empty");
	BAD(ep("host: a.test, port: 443, protocol: rest, rules: [{allow: {method: GET, path: /, "
	       "query: {a: ~}}}]"),
	    "expected a glob string or {any: [globs]}");
	BAD(ep("host: a.test, port: 443, protocol: mcp, rules: [{allow: {method: tools/call, "
	       "params: {a.b: x, a: {b: y}}}}]"),
	    "params key 'a.b' is given twice");
}

TEST(policy_load_port_ports_harness)
{
	struct pol_policy p;
	struct pol_report r;

	CHECK_INT(load(&p, &r,
		       "version: 1\nnetwork_policies:\n  r:\n"
		       "    endpoints: [{host: a.test, port: 80, ports: [443, 8443]}]\n"
		       "    binaries: [{path: /x, harness: true}]\n"),
		  0);
	CHECK_INT(p.rules[0].endpoints[0].n_ports, 2);
	CHECK_INT(p.rules[0].endpoints[0].ports[0], 443);
	CHECK_STR(p.rules[0].binaries[0].path, "/x");
	pol_release(&p);
	pol_report_release(&r);
	BAD(ep("host: a.test, port: 0"), "must declare at least one port");
	BAD(ep("host: a.test, ports: [0]"), "has invalid port 0; expected 1..=65535");
}

TEST(policy_load_case_24_identity)
{
	BAD("version: 1\nprocess: {run_as_user: root}\n",
	    "run_as_user must be 'sandbox' or a numeric UID/GID in range [1, 4294967294], got "
	    "'root'");
	BAD("version: 1\nprocess: {run_as_user: '0'}\n", "got '0'");
	BAD("version: 1\nprocess: {run_as_user: '4294967295'}\n", "got '4294967295'");
	OK("version: 1\nprocess: {run_as_user: '1'}\n");
	OK("version: 1\nprocess: {run_as_user: 1000}\n");
	OK("version: 1\nprocess: {run_as_user: sandbox, run_as_group: sandbox}\n");
	BAD("version: 1\nprocess: {run_as_user: nobody}\n", "got 'nobody'");
	BAD("version: 1\nprocess: {run_as_group: '-1'}\n", "run_as_group must be");
	OK("version: 1\nprocess: {run_as_group: '4294967294'}\n");
}

TEST(policy_load_case_25_26_filesystem)
{
	char *big;
	size_t n, i;

	BAD("version: 1\nfilesystem_policy: {read_write: [/]}\n",
	    "read-write path is overly broad: /");
	BAD("version: 1\nfilesystem_policy: {read_write: [//]}\n", "overly broad: //");
	OK("version: 1\nfilesystem_policy: {read_only: [/]}\n");
	BAD("version: 1\nfilesystem_policy: {read_only: [relative/p]}\n",
	    "path must be absolute (start with '/'): relative/p");
	BAD("version: 1\nfilesystem_policy: {read_only: [/a/../b]}\n",
	    "path contains '..' traversal component: /a/../b");
	OK("version: 1\nfilesystem_policy: {read_only: [/a/..b/c...]}\n");
	big = malloc(257 * 16 + 64);
	n = (size_t)sprintf(big, "version: 1\nfilesystem_policy:\n  read_only:\n");
	for (i = 0; i < 257; i++)
		n += (size_t)sprintf(big + n, "  - /p%zu\n", i);
	BAD(big, "too many filesystem paths (257 > 256)");
	free(big);
	big = malloc(5000);
	n = (size_t)sprintf(big, "version: 1\nfilesystem_policy: {read_only: [/");
	memset(big + n, 'a', 4100);
	strcpy(big + n + 4100, "]}\n");
	BAD(big, "path exceeds maximum length (4101 > 4096): /aaaaaaaaa");
	free(big);
}

TEST(policy_load_case_27_wildcards)
{
	BAD(ep("host: \"*.com\", port: 443"), "TLD wildcard '*.com' is not allowed");
	BAD(ep("host: \"**.org\", port: 443"), "TLD wildcard '**.org' is not allowed");
	BAD(ep("host: \"*-x.com\", port: 443"), "TLD wildcard '*-x.com' is not allowed");
	BAD(ep("host: \"*\", port: 443"), "invalid host wildcard '*'");
	BAD(ep("host: \"**\", port: 443"), "invalid host wildcard '**'");
	BAD(ep("host: \"*.s3.us-*.amazonaws.com\", port: 443"), "invalid host wildcard");
	BAD(ep("host: \"a**.example.com\", port: 443"), "invalid host wildcard");
	BAD(ep("host: \"*.**.example.com\", port: 443"), "invalid host wildcard");
	OK(ep("host: \"*.co.uk\", port: 443"));
	OK(ep("host: \"api.*.example.com\", port: 443"));
	OK(ep("host: \"*-aiplatform.googleapis.com\", port: 443"));
	OK(ep("host: \"**.example.com\", port: 443"));
	OK(ep("host: \"*.s3.*.amazonaws.com\", port: 443"));
}

TEST(policy_load_case_28_l7_presence)
{
	const char *pre = "network policy 'r': endpoint 0 has invalid L7 configuration: ";
	char want[300];

	snprintf(want, sizeof(want),
		 "%sprotocol requires rules or access to define allowed "
		 "traffic",
		 pre);
	BAD(ep("host: a.test, port: 443, protocol: rest"), want);
	BAD(ep("host: a.test, port: 443, protocol: rest, rules: []"), want);
	BAD(ep("host: a.test, port: 443, protocol: rest, access: full, rules: [{allow: {method: "
	       "GET, path: /}}]"),
	    "rules and access are mutually exclusive");
	BAD(ep("host: a.test, port: 443, deny_rules: [{method: GET, path: /x}]"),
	    "deny_rules require protocol (L7 inspection must be enabled)");
	BAD(ep("host: a.test, port: 443, protocol: rest, deny_rules: [{method: GET}]"),
	    "deny_rules require rules or access to define the base allow set");
	BAD(ep("host: a.test, port: 443, protocol: ftp"),
	    "unknown protocol 'ftp' (expected tcp, rest, websocket, graphql, sql, json-rpc, or "
	    "mcp)");
	BAD(ep("host: a.test, port: 443, protocol: rest, rules: [{allow: {query: {a: b}}}]"),
	    "rules would deny all traffic (no allow clause found)");
	OK(ep("host: a.test, port: 443, protocol: REST, access: full"));
	OK(ep("host: a.test, port: 443, protocol: rest, access: read-write, "
	      "deny_rules: [{method: POST, path: \"/repos/*/pulls/*/reviews\"}]"));
}

TEST(policy_load_case_29_tcp)
{
	BAD(ep("host: 10.0.0.1, port: 5432, protocol: tcp"),
	    "network policy 'r': protocol tcp endpoint '10.0.0.1' must use a DNS hostname, not an "
	    "IP "
	    "literal");
	BAD(ep("host: db.example.com., port: 5432, protocol: tcp"),
	    "protocol tcp endpoint has invalid DNS host selector 'db.example.com.': omit the "
	    "trailing "
	    "DNS root dot");
	BAD(ep("host: db.example.com, port: 5432, protocol: tcp, path: /x"),
	    "protocol tcp does not support L7-only fields: path; remove those fields");
	BAD(ep("host: db.example.com, port: 5432, protocol: tcp, enforcement: enforce, "
	       "credential_signing: sigv4, signing_service: s3"),
	    "L7-only fields: enforcement, credential_signing, signing_service; remove");
	BAD(ep("host: \" db.test\", port: 5432, protocol: tcp"),
	    "leading or trailing whitespace is not allowed");
	BAD(ep("host: \"a..b\", port: 5432, protocol: tcp"), "must not contain empty DNS labels");
	BAD(ep("host: \"a{b,c}.test\", port: 5432, protocol: tcp"), "brace alternates");
	BAD(ep("protocol: tcp, port: 5432, allowed_ips: [10.0.0.0/24]"),
	    "protocol tcp requires a DNS hostname");
	BAD(ep("host: a.test, port: 5432, protocol: tcp, access: full"),
	    "protocol tcp does not support access, rules, or deny_rules");
	OK(ep("host: db.example.com, port: 5432, protocol: tcp"));
	OK(ep("host: \"*.db.example.com\", port: 5432, protocol: tcp"));
}

TEST(policy_load_hostless_and_allowed_ips)
{
	BAD(ep("port: 5432"), "endpoint host must not be empty unless allowed_ips constrains");
	OK(ep("port: 5432, allowed_ips: [10.0.5.0/24]"));
	/* case 22: rejected at load here (the reference denies at connect time) */
	BAD(ep("host: a.test, port: 443, allowed_ips: [127.0.0.0/8]"),
	    "allowed_ips entry 127.0.0.0/8 falls within always-blocked range");
	BAD(ep("host: a.test, port: 443, allowed_ips: [0.0.0.0/0]"), "always-blocked range");
	BAD(ep("host: a.test, port: 443, allowed_ips: [\"169.254.169.254\"]"),
	    "always-blocked range");
	BAD(ep("host: a.test, port: 443, allowed_ips: [\"::1\"]"), "always-blocked range");
	BAD(ep("host: a.test, port: 443, allowed_ips: [\"::ffff:127.0.0.1\"]"),
	    "always-blocked range");
	BAD(ep("host: a.test, port: 443, allowed_ips: [\"fe80::/16\"]"), "always-blocked range");
	BAD(ep("host: a.test, port: 443, allowed_ips: [\"10.0.0.0/33\"]"),
	    "invalid CIDR/IP in allowed_ips: 10.0.0.0/33");
	BAD(ep("host: a.test, port: 443, allowed_ips: [garbage]"), "invalid CIDR/IP");
	WARN(ep("host: a.test, port: 443, allowed_ips: [10.0.0.0/8]"),
	     "allowed_ips entry has a very broad CIDR 10.0.0.0/8 (/8) < /16");
	OK(ep("host: a.test, port: 443, allowed_ips: [\"2001:db8::/32\", 192.168.1.7]"));
	BAD(ep("host: localhost, port: 443"), "endpoint host 'localhost' is always blocked");
	BAD(ep("host: 127.0.0.1, port: 443"), "is an always-blocked address");
	BAD(ep("host: \"::\", port: 443"), "is an always-blocked address");
	BAD(ep("host: Metadata.Google.Internal., port: 80"), "is a known cloud metadata hostname");
	OK(ep("host: 10.0.0.5, port: 8080"));
}

TEST(policy_load_signing)
{
	BAD(ep("host: s3.test, port: 443, protocol: rest, access: full, credential_signing: v2, "
	       "signing_service: s3"),
	    "has unrecognized credential_signing value 'v2' (expected sigv4, sigv4:body, or "
	    "sigv4:no_body)");
	BAD(ep("host: s3.test, port: 443, protocol: rest, access: full, credential_signing: sigv4"),
	    "has credential_signing set but signing_service is empty");
	BAD(ep("host: s3.test, port: 443, protocol: rest, access: full, credential_signing: "
	       "sigv4:body, signing_service: s3, request_body_credential_rewrite: true"),
	    "these options are mutually exclusive");
	OK(ep("host: s3.test, port: 443, protocol: rest, access: full, credential_signing: "
	      "sigv4:no_body, signing_service: s3, signing_region: us-east-1"));
}

TEST(policy_load_l7_supervisor_checks)
{
	BAD(ep("port: 443, allowed_ips: [10.1.0.0/16], protocol: mcp, mcp: "
	       "{allow_all_known_mcp_methods: true}"),
	    "protocol mcp requires host; protocol alone is not a wildcard endpoint");
	BAD(ep("host: a.test, protocol: mcp, mcp: {allow_all_known_mcp_methods: true}"),
	    "protocol mcp requires port or ports");
	OK(ep("host: a.test, port: 443, protocol: mcp, mcp: {allow_all_known_mcp_methods: true}"));
	BAD(ep("host: a.test, port: 443, protocol: mcp"),
	    "protocol mcp requires rules when mcp.allow_all_known_mcp_methods is false");
	BAD(ep("host: a.test, port: 443, protocol: mcp, access: full"),
	    "protocol mcp does not support access presets");
	BAD(ep("host: a.test, port: 443, protocol: json-rpc"),
	    "protocol json-rpc requires explicit rules with allow.method");
	BAD(ep("host: a.test, port: 443, protocol: json-rpc, rules: [{allow: {method: \"get*\"}}]"),
	    "rules[0].allow.method: generic JSON-RPC method rules do not support glob");
	OK(ep("host: a.test, port: 443, protocol: json-rpc, rules: [{allow: {method: \"*\"}}]"));
	BAD(ep("host: a.test, port: 443, protocol: json-rpc, rules: [{allow: {method: m, tool: "
	       "t}}]"),
	    "rules[0].allow.tool: MCP tool matching is only valid for protocol mcp");
	BAD(ep("host: a.test, port: 443, protocol: rest, rules: [{allow: {method: GET, path: /, "
	       "params: {name: x}}}]"),
	    "rules[0].allow.params: params matching is only valid for protocol mcp");
	BAD(ep("host: a.test, port: 443, protocol: mcp, rules: [{allow: {method: "
	       "\"resources/*\"}}]"),
	    "MCP method globs are only valid for the tools/ method family");
	BAD(ep("host: a.test, port: 443, protocol: mcp, rules: [{allow: {method: x, tool: t}}]"),
	    "rules[0].allow.method: must be tools/call when an MCP rule uses tool or params.name, "
	    "got 'x'");
	BAD(ep("host: a.test, port: 443, protocol: mcp, mcp: {strict_tool_names: false}, "
	       "rules: [{allow: {method: tools/call, tool: \"get_*\"}}]"),
	    "rules[0].allow.tool: wildcard tool-name matchers require mcp.strict_tool_names");
	BAD(ep("host: a.test, port: 443, protocol: mcp, rules: [{allow: {method: tools/call, tool: "
	       "a}}, {allow: {method: \"tools/*\"}}]"),
	    "rules[1].allow: method matcher allows every tool call and conflicts with MCP tool "
	    "allow");
	BAD(ep("host: a.test, port: 443, protocol: mcp, rules: [{allow: {method: tools/call, tool: "
	       "a}}], deny_rules: [{method: tools/call}]"),
	    "deny_rules[0]: method matcher denies every tool call");
	BAD(ep("host: a.test, port: 443, protocol: rest, access: full, mcp: {}"),
	    "mcp options are only valid for protocol mcp");
	BAD(ep("host: a.test, port: 443, protocol: websocket, rules: [{allow: {method: "
	       "WEBSOCKET_TEXT, path: /}}, {allow: {operation_type: query}}]"),
	    "must use operation_type/operation_name/fields rules for client messages instead of "
	    "WEBSOCKET_TEXT");
	BAD(ep("host: a.test, port: 443, protocol: websocket, rules: [{allow: {method: GET, "
	       "operation_type: query}}]"),
	    "WebSocket GraphQL allow rules must not combine method/path/query");
	BAD(ep("host: a.test, port: 443, protocol: graphql, rules: [{allow: {operation_type: "
	       "\"*\"}}]"),
	    "rules[0].allow.operation_type must be query, mutation, or subscription");
	BAD(ep("host: a.test, port: 443, protocol: graphql, access: full, "
	       "graphql_persisted_queries: "
	       "{abc: {operation_name: x}}"),
	    "graphql_persisted_queries[abc].operation_type must be query, mutation, or "
	    "subscription");
	BAD(ep("host: a.test, port: 443, protocol: graphql, rules: [{allow: {operation_type: "
	       "query, fields: [\"\"]}}]"),
	    "rules[0].allow.fields: field glob must not be empty");
	BAD(ep("host: a.test, port: 443, protocol: graphql, access: full, persisted_queries: "
	       "maybe"),
	    "persisted_queries must be 'deny' or 'allow_registered', got 'maybe'");
	BAD(ep("host: a.test, port: 443, protocol: sql, access: full, enforcement: enforce"),
	    "SQL enforcement requires full SQL parsing; use enforcement: audit");
	BAD(ep("host: a.test, port: 443, protocol: rest, access: full, path: api"),
	    "path must start with '/' or be '**'");
	OK(ep("host: a.test, port: 443, protocol: rest, access: full, path: \"**\""));
	OK(ep("host: a.test, port: 443, protocol: graphql, rules: [{allow: {operation_type: query, "
	      "fields: [viewer]}}]"));
}

TEST(policy_load_warnings_only)
{
	WARN(ep("host: a.test, port: 443, protocol: rest, rules: [{allow: {method: FETCH, path: "
		"/}}]"),
	     "Unknown HTTP/WebSocket method 'FETCH'. Standard methods: GET, HEAD, POST, PUT, "
	     "DELETE, PATCH, OPTIONS, *.");
	WARN(ep("host: a.test, port: 443, protocol: rest, access: full, deny_rules: [{method: GET, "
		"path: \"/a[b\"}]"),
	     "deny_rules[0].path: glob pattern '/a[b' has unclosed '['");
	WARN(ep("host: a.test, port: 443, tls: terminate"),
	     "'tls: terminate' is deprecated; TLS termination is now automatic.");
	WARN(ep("host: a.test, port: 443, tls: skip, protocol: rest, access: full"),
	     "'tls: skip' with L7 rules on port 443");
	WARN(ep("host: a.test, port: 443, protocol: rest, access: read-mostly"),
	     "unsupported L7 access preset 'read-mostly' ignored");
	WARN(ep("host: a.test, port: 443, protocol: rest, access: full, graphql_max_body_bytes: 9"),
	     "GraphQL-specific endpoint fields are ignored unless protocol is graphql or "
	     "websocket");
	WARN(ep("host: a.test, port: 443, protocol: rest, access: full, json_rpc: {max_body_bytes: "
		"9}"),
	     "JSON-RPC-specific endpoint fields are ignored");
	WARN(ep("host: a.test, port: 443, protocol: graphql, access: full, "
		"request_body_credential_rewrite: true"),
	     "request_body_credential_rewrite is ignored unless protocol is rest");
	WARN(ep("host: a.test, port: 443, protocol: rest, rules: [{allow: {method: GET, path: /, "
		"operation_name: x}}]"),
	     "rules[0].allow: GraphQL rule fields are ignored unless protocol is graphql");
}

TEST(policy_load_middlewares)
{
	static const char base[] = "version: 1\n"
				   "network_policies:\n"
				   "  r:\n"
				   "    endpoints: [{host: raw.test, port: 443, tls: skip}]\n"
				   "    binaries: [{path: /x}]\n"
				   "network_middlewares:\n";
	char y[2048];
	size_t i, n;

#define MW(body) (snprintf(y, sizeof(y), "%s%s", base, body), y)
	OK(MW("  scan: {middleware: openshell/regex, order: -3, config: {rules: [{a: 1}]}, "
	      "endpoints: {include: [\"*.api.test\"], exclude: [x.api.test]}}\n"));
	BAD(MW("  scan: {order: 1, endpoints: {include: [a.test]}}\n"),
	    "missing required key 'middleware'");
	BAD(MW("  scan: {middleware: \"\", endpoints: {include: [a.test]}}\n"),
	    "middleware config 'scan' is invalid: middleware must not be empty");
	BAD(MW("  scan: {middleware: openshell/nope, endpoints: {include: [a.test]}}\n"),
	    "middleware implementation 'openshell/nope' is not a registered OpenShell built-in");
	BAD(MW("  a: {middleware: m, endpoints: {include: [a.test]}}\n"
	       "  b: {middleware: m, endpoints: {include: [b.test]}}\n"),
	    "middleware configs 'a' and 'b' use duplicate order 0");
	BAD(MW("  a: {middleware: m}\n"),
	    "endpoint selector must include at least one host pattern");
	BAD(MW("  a: {middleware: m, on_error: maybe, endpoints: {include: [a.test]}}\n"),
	    "invalid on_error 'maybe'");
	BAD(MW("  a: {middleware: m, endpoints: {include: [\"{a,b}.test\"]}}\n"),
	    "endpoint selector pattern '{a,b}.test' is invalid: host pattern must not contain "
	    "brace");
	BAD(MW("  a: {middleware: m, endpoints: {include: [raw.test]}}\n"),
	    "middleware config 'a' selects network policy 'r' tls: skip endpoint 'raw.test'");
	BAD(MW("  a: {middleware: m, on_error: fail_closed, endpoints: {include: [\"**\"]}}\n"),
	    "selects network policy 'r' tls: skip endpoint 'raw.test'");
	BAD(MW("  a: {middleware: m, endpoints: {include: [\"*.test\"], exclude: [other.test]}}\n"),
	    "selects network policy 'r'");
	OK(MW("  a: {middleware: m, endpoints: {include: [\"*.test\"], exclude: [raw.test]}}\n"));
	OK(MW("  a: {middleware: m, on_error: fail_open, endpoints: {include: [raw.test]}}\n"));
	OK(MW("  a: {middleware: m, endpoints: {include: [raw.other]}}\n"));
	BAD(MW("  a: {middleware: m, config: [1], endpoints: {include: [a.test]}}\n"),
	    "expected a mapping, got a sequence");
	BAD(MW("  a: {middleware: m, config: {k: 1, k: 2}, endpoints: {include: [a.test]}}\n"),
	    "duplicate key 'k'");
	n = (size_t)snprintf(y, sizeof(y), "%s  a: {middleware: m, endpoints: {include: [", base);
	for (i = 0; i < 33; i++)
		n += (size_t)snprintf(y + n, sizeof(y) - n, "%sh%zu.test", i ? ", " : "", i);
	snprintf(y + n, sizeof(y) - n, "]}}\n");
	BAD(y, "middleware config 'a' has too many selector patterns (33 > 32)");
	n = (size_t)snprintf(y, sizeof(y), "%s", base);
	for (i = 0; i < 11; i++)
		n += (size_t)snprintf(y + n, sizeof(y) - n,
				      "  m%zu: {middleware: m, order: %zu, endpoints: {include: "
				      "[a.test]}}\n",
				      i, i);
	BAD(y, "too many middleware configs (11 > 10)");
#undef MW
}

TEST(policy_load_reserved_provider_prefix)
{
	BAD("version: 1\nnetwork_policies:\n  _provider_github: {endpoints: [{host: a.test, port: "
	    "443}]}\n",
	    "network policy key '_provider_github' uses the reserved prefix '_provider_'");
}

TEST(policy_load_ambiguity)
{
	WHERE("version: 1\nnetwork_policies:\n"
	      "  a: {endpoints: [{host: api.test, port: 443}]}\n"
	      "  b: {endpoints: [{host: \"*.test\", ports: [443, 80], tls: skip}]}\n",
	      4, 19, "network_policies.b.endpoints[0]",
	      "network policies 'a' endpoint[0] (api.test:443) and 'b' endpoint[0] (*.test:80,443) "
	      "overlap on port(s) 443 with conflicting metadata: tls=\"auto\" vs \"skip\"");
	BAD("version: 1\nnetwork_policies:\n"
	    "  a: {endpoints: [{host: db.test, port: 5432, protocol: tcp}]}\n"
	    "  b: {endpoints: [{port: 5432, allowed_ips: [10.0.0.0/16]}]}\n",
	    "'a' endpoint[0] (db.test:5432) and 'b' endpoint[0] (<any-host>:5432) overlap on "
	    "port(s) "
	    "5432 with conflicting metadata: transparent_tcp_eligible=true vs false; "
	    "allowed_ips=[] vs [\"10.0.0.0/16\"]");
	BAD("version: 1\nnetwork_policies:\n"
	    "  a: {endpoints: [{host: api.test, port: 443, protocol: rest, access: full, tls: "
	    "auto}]}\n"
	    "  b: {endpoints: [{host: API.test, port: 443, protocol: rest, access: full, "
	    "enforcement: enforce, tls: auto}]}\n",
	    "enforcement=\"audit\" vs \"enforce\"");
	/* different paths of equal specificity that cannot overlap are fine */
	OK("version: 1\nnetwork_policies:\n"
	   "  a: {endpoints: [{host: api.test, port: 443, protocol: rest, access: full, path: "
	   "\"/a/**\"}]}\n"
	   "  b: {endpoints: [{host: api.test, port: 443, protocol: graphql, access: full, path: "
	   "\"/b/**\"}]}\n");
	/* different specificity: the more specific route wins at runtime */
	OK("version: 1\nnetwork_policies:\n"
	   "  a: {endpoints: [{host: api.test, port: 443, protocol: rest, access: full, path: "
	   "\"/repos/**\"}]}\n"
	   "  b: {endpoints: [{host: api.test, port: 443, protocol: graphql, access: full, path: "
	   "/graphql}]}\n");
	OK("version: 1\nnetwork_policies:\n"
	   "  a: {endpoints: [{host: a.test, port: 443}]}\n"
	   "  b: {endpoints: [{host: b.test, port: 443, tls: skip}, {host: a.test, port: 80, tls: "
	   "skip}]}\n");
}

TEST(policy_load_ambiguity_report_is_bounded)
{
	struct pol_policy p;
	struct pol_report r;
	char y[4096];
	size_t i, n;

	n = (size_t)snprintf(y, sizeof(y), "version: 1\nnetwork_policies:\n  r:\n    endpoints:\n");
	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(y + n, sizeof(y) - n,
				      "      - {host: a.test, port: 443, tls: %s}\n",
				      i % 2 ? "skip" : "auto");
	CHECK_INT(load(&p, &r, y), -1);
	CHECK_INT(r.n_errors, 65);
	CHECK(find(&r, "the ambiguity check stops after 64 pairs of endpoints", false));
	pol_report_release(&r);
}

TEST(policy_load_round_trip_and_hash)
{
	static const char full[] =
		"version: 3\n"
		"filesystem_policy: {include_workdir: false, read_only: [/usr], read_write: "
		"[/tmp]}\n"
		"landlock: {compatibility: hard_requirement}\n"
		"process: {run_as_user: '1000', run_as_group: sandbox}\n"
		"network_policies:\n"
		"  m:\n"
		"    name: My MCP\n"
		"    endpoints:\n"
		"      - host: mcp.test\n"
		"        ports: [443]\n"
		"        protocol: mcp\n"
		"        path: /mcp\n"
		"        enforcement: enforce\n"
		"        allowed_ips: [10.9.0.0/16]\n"
		"        mcp: {max_body_bytes: 1000, strict_tool_names: true, "
		"allow_all_known_mcp_methods: false}\n"
		"        rules:\n"
		"          - allow: {method: tools/call, tool: {any: [get_a, get_b]}}\n"
		"          - allow: {method: tools/list}\n"
		"        deny_rules: [{method: tools/call, params: {name: drop}}]\n"
		"        credential_binding: {provider: gh}\n"
		"        allow_uninspected_credentials: true\n"
		"    binaries: [{path: /usr/bin/node}]\n"
		"  g:\n"
		"    endpoints:\n"
		"      - host: gql.test\n"
		"        port: 443\n"
		"        protocol: graphql\n"
		"        persisted_queries: allow_registered\n"
		"        graphql_max_body_bytes: 5000\n"
		"        graphql_persisted_queries: {h1: {operation_type: query, operation_name: "
		"Q, "
		"fields: [viewer]}}\n"
		"        rules: [{allow: {operation_type: query, fields: [\"vie*\"]}}]\n"
		"      - host: s3.test\n"
		"        port: 443\n"
		"        protocol: rest\n"
		"        access: full\n"
		"        allow_encoded_slash: true\n"
		"        websocket_credential_rewrite: true\n"
		"        credential_signing: sigv4\n"
		"        signing_service: s3\n"
		"        signing_region: eu-west-1\n"
		"        tls: auto\n"
		"        rules: []\n"
		"        deny_rules: [{method: GET, path: /x, query: {a: \"b*\"}, command: c}]\n"
		"      - {host: rpc.test, port: 8545, protocol: json-rpc, json_rpc: "
		"{max_body_bytes: "
		"77}, rules: [{allow: {method: eth_call}}]}\n"
		"network_middlewares:\n"
		"  scan: {name: Scanner, middleware: openshell/regex, order: 5, config: {x: 1}, "
		"on_error: fail_open, endpoints: {include: [\"*.test\"], exclude: [s3.test]}}\n";
	struct pol_policy p, q;
	struct pol_report r;
	struct buf a = BUF_INIT, b = BUF_INIT;
	char h1[65], h2[65], h3[65];
	static const char odd[] =
		"version: 1\n"
		"network_policies:\n"
		"  \"k\\t\\\"\\\\é🙂\": {name: \"n\\n\\u0001\", binaries: [{path: "
		"\"/x\\u00a0y\"}]}\n";
	const char *docs[] = { example, full, "version: 1\n", odd };
	size_t i;

	for (i = 0; i < ARRAY_LEN(docs); i++) {
		if (load(&p, &r, docs[i]) != 0) {
			dump(&r);
			CHECK(0);
			pol_report_release(&r);
			continue;
		}
		pol_report_release(&r);
		pol_to_json(&p, &a);
		if (load(&q, &r, a.p) != 0) {
			fprintf(stderr, "%s\n", a.p);
			dump(&r);
			CHECK(0);
		} else {
			pol_to_json(&q, &b);
			CHECK_STR(a.p, b.p);
			pol_hash(&p, h1);
			pol_hash(&q, h2);
			CHECK_STR(h1, h2);
			CHECK_INT(strlen(h1), 64);
			pol_release(&q);
		}
		pol_report_release(&r);
		pol_release(&p);
		buf_reset(&a);
		buf_reset(&b);
	}

	CHECK_INT(load(&p, &r, "version: 1\n"), 0);
	pol_to_json(&p, &a);
	CHECK_STR(a.p, "{\"version\":1}");
	pol_hash(&p, h1);
	pol_release(&p);
	pol_report_release(&r);
	CHECK_INT(load(&p, &r, "version: 1\nlandlock: {}\n"), 0);
	pol_hash(&p, h2);
	pol_release(&p);
	pol_report_release(&r);
	CHECK_INT(load(&p, &r, "version: 1\nfilesystem_policy: {}\n"), 0);
	pol_hash(&p, h3);
	pol_release(&p);
	pol_report_release(&r);
	CHECK(strcmp(h1, h2) != 0 && strcmp(h2, h3) != 0 && strcmp(h1, h3) != 0);
	/* key order and layout do not matter */
	CHECK_INT(load(&p, &r, "landlock: {compatibility: x}\nversion: 1\n"), 0);
	pol_hash(&p, h1);
	pol_release(&p);
	pol_report_release(&r);
	CHECK_INT(load(&p, &r, "version: 1\nlandlock:\n  compatibility: \"x\"\n"), 0);
	pol_hash(&p, h2);
	pol_release(&p);
	pol_report_release(&r);
	CHECK_STR(h1, h2);
	buf_release(&a);
	buf_release(&b);
}

TEST(policy_load_restrictive_default)
{
	struct pol_policy p;
	struct pol_report r;
	struct buf j = BUF_INIT;

	pol_default(&p, false);
	pol_report_init(&r);
	CHECK_INT(pol_validate(&p, &r), 0);
	CHECK_INT(r.n, 0);
	CHECK_INT(p.n_read_only, 7);
	CHECK_INT(p.n_read_write, 2);
	CHECK_STR(p.read_only[3], "/dev/urandom");
	CHECK(p.include_workdir && p.has_landlock && !p.has_process && !p.n_rules);
	pol_to_json(&p, &j);
	CHECK_STR(j.p, "{\"filesystem_policy\":{\"include_workdir\":true,\"read_only\":[\"/usr\","
		       "\"/lib\",\"/proc\",\"/dev/urandom\",\"/app\",\"/etc\",\"/var/log\"],"
		       "\"read_write\":[\"/tmp\",\"/dev/null\"]},\"landlock\":{\"compatibility\":"
		       "\"best_effort\"},\"version\":1}");
	pol_release(&p);
	pol_default(&p, true);
	CHECK_INT(p.n_read_write, 3);
	CHECK_STR(p.read_write[2], "/sandbox");
	pol_release(&p);
	pol_report_release(&r);
	buf_release(&j);
}

TEST(policy_load_static_sections_on_update)
{
	struct pol_policy cur, next;
	struct pol_report r;
	struct err e = ERR_INIT;

	CHECK_INT(load(&cur, &r,
		       "version: 1\nfilesystem_policy: {read_only: [/usr], read_write: "
		       "[/tmp]}\nprocess: {run_as_user: sandbox}\n"),
		  0);
	pol_report_release(&r);
	CHECK_INT(load(&next, &r,
		       "version: 1\nfilesystem_policy: {read_only: [/usr, /opt], "
		       "read_write: [/tmp]}\nprocess: {run_as_user: sandbox}\n"),
		  0);
	CHECK_INT(pol_static_compatible(&cur, &next, &e), 0);
	CHECK_INT(pol_static_compatible(&next, &cur, &e), -1);
	CHECK_STR(e.msg, "filesystem read_only path '/opt' cannot be removed on a live sandbox");
	CHECK_INT(e.code, ERR_INVALID);
	pol_release(&next);
	pol_report_release(&r);
	CHECK_INT(load(&next, &r,
		       "version: 1\nfilesystem_policy: {read_only: [/usr], read_write: "
		       "[/tmp]}\nprocess: {run_as_user: '1000'}\n"),
		  0);
	CHECK_INT(pol_static_compatible(&cur, &next, &e), -1);
	CHECK_STR(e.msg, "process policy cannot be changed on a live sandbox (applied at startup)");
	pol_release(&next);
	pol_report_release(&r);
	CHECK_INT(load(&next, &r, "version: 1\nprocess: {run_as_user: sandbox}\n"), 0);
	CHECK_INT(pol_static_compatible(&cur, &next, &e), -1);
	CHECK_STR(e.msg, "filesystem policy cannot be removed on a live sandbox");
	CHECK_INT(pol_static_compatible(&next, &cur, &e), 0);
	pol_release(&next);
	pol_report_release(&r);
	CHECK_INT(load(&next, &r,
		       "version: 1\nfilesystem_policy: {include_workdir: true, read_only: "
		       "[/usr], read_write: [/tmp]}\nprocess: {run_as_user: sandbox}\n"
		       "landlock: {compatibility: best_effort}\n"),
		  0);
	CHECK_INT(pol_static_compatible(&cur, &next, &e), -1);
	CHECK_STR(e.msg, "filesystem include_workdir cannot be changed on a live sandbox");
	pol_release(&next);
	pol_report_release(&r);
	pol_release(&cur);
}

TEST(policy_load_file_and_report_format)
{
	char path[] = "/tmp/policy_load_test_XXXXXX";
	struct pol_policy p;
	struct pol_report r;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT;
	int fd = mkstemp(path);
	char want[64];
	FILE *f;
	size_t i;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	f = fopen(path, "w");
	fputs("version: 1\nbogus: 1\nprocess: {run_as_user: root}\n", f);
	fclose(f);
	pol_report_init(&r);
	CHECK_INT(pol_load_file(&p, path, &r, &e), -1);
	CHECK_INT(e.code, ERR_INVALID);
	pol_report_format(&r, "p.yaml", &out);
	CHECK_STR(out.p, "p.yaml:2:1: error: bogus: unknown key 'bogus'\n");
	pol_report_release(&r);
	buf_reset(&out);

	f = fopen(path, "w");
	fputs("version: 1\nprocess: {run_as_user: root}\n", f);
	fclose(f);
	pol_report_init(&r);
	CHECK_INT(pol_load_file(&p, path, &r, &e), -1);
	pol_report_format(&r, "p.yaml", &out);
	CHECK_STR(out.p, "p.yaml: error: process.run_as_user: run_as_user must be 'sandbox' or a "
			 "numeric UID/GID in range [1, 4294967294], got 'root'\n");
	buf_reset(&out);
	pol_report_join_errors(&r, &out);
	CHECK_STR(out.p, "run_as_user must be 'sandbox' or a numeric UID/GID in range [1, "
			 "4294967294], got 'root'");
	pol_report_release(&r);

	f = fopen(path, "w");
	fputs("version: 1\n", f);
	for (i = 0; i < POL_MAX_BYTES / 10; i++)
		fputs("#comment.\n", f);
	fclose(f);
	pol_report_init(&r);
	CHECK_INT(pol_load_file(&p, path, &r, &e), -1);
	CHECK_INT(e.code, ERR_INVALID);
	snprintf(want, sizeof(want), "is larger than %d bytes", POL_MAX_BYTES);
	CHECK(strstr(e.msg, want) != NULL);
	CHECK_INT(r.n_errors, 1);
	CHECK(e.hint[0] != '\0');
	pol_report_release(&r);

	f = fopen(path, "w");
	fputs(example, f);
	fclose(f);
	pol_report_init(&r);
	CHECK_INT(pol_load_file(&p, path, &r, &e), 0);
	CHECK_STR(p.source, path);
	pol_release(&p);
	pol_report_release(&r);

	unlink(path);
	pol_report_init(&r);
	CHECK_INT(pol_load_file(&p, path, &r, &e), -1);
	CHECK_INT(e.code, ERR_NOTFOUND);
	pol_report_release(&r);
	buf_release(&out);
}

/* Policies that differ in any one field hash differently. */
TEST(policy_load_hash_sees_every_field)
{
	static const char *const bodies[] = {
		"host: a.test, port: 443",
		"host: b.test, port: 443",
		"host: a.test, port: 444",
		"host: a.test, ports: [443, 444]",
		"host: a.test, port: 443, path: /x, protocol: rest, access: full",
		"host: a.test, port: 443, protocol: rest, access: full",
		"host: a.test, port: 443, protocol: rest, access: read-only",
		"host: a.test, port: 443, protocol: rest, access: full, enforcement: enforce",
		"host: a.test, port: 443, tls: skip",
		"host: a.test, port: 443, allowed_ips: [10.1.0.0/16]",
		"host: a.test, port: 443, protocol: rest, access: full, allow_encoded_slash: true",
		"host: a.test, port: 443, protocol: rest, access: full, "
		"websocket_credential_rewrite: "
		"true",
		"host: a.test, port: 443, protocol: rest, access: full, "
		"request_body_credential_rewrite: true",
		"host: a.test, port: 443, allow_uninspected_credentials: true",
		"host: a.test, port: 443, protocol: rest, access: full, credential_signing: sigv4, "
		"signing_service: s3",
		"host: a.test, port: 443, protocol: rest, access: full, credential_signing: sigv4, "
		"signing_service: s3, signing_region: r",
		"host: a.test, port: 443, protocol: rest, access: full, credential_binding: "
		"{provider: "
		"p}",
		"host: a.test, port: 443, protocol: rest, rules: [{allow: {method: GET, path: /}}]",
		"host: a.test, port: 443, protocol: rest, rules: [{allow: {method: GET, path: "
		"/a}}]",
		"host: a.test, port: 443, protocol: rest, rules: [{allow: {method: GET, path: /, "
		"query: "
		"{q: x}}}]",
		"host: a.test, port: 443, protocol: rest, access: full, deny_rules: [{method: "
		"GET}]",
		"host: a.test, port: 443, protocol: graphql, rules: [{allow: {operation_type: "
		"query}}]",
		"host: a.test, port: 443, protocol: graphql, rules: [{allow: {operation_type: "
		"query, "
		"operation_name: N}}]",
		"host: a.test, port: 443, protocol: graphql, rules: [{allow: {operation_type: "
		"query, "
		"fields: [f]}}]",
		"host: a.test, port: 443, protocol: graphql, access: full, persisted_queries: "
		"allow_registered",
		"host: a.test, port: 443, protocol: graphql, access: full, graphql_max_body_bytes: "
		"10",
		"host: a.test, port: 443, protocol: graphql, access: full, "
		"graphql_persisted_queries: "
		"{h: {operation_type: query}}",
		"host: a.test, port: 443, protocol: mcp, mcp: {allow_all_known_mcp_methods: true}",
		"host: a.test, port: 443, protocol: mcp, mcp: {allow_all_known_mcp_methods: true, "
		"strict_tool_names: false}",
		"host: a.test, port: 443, protocol: mcp, mcp: {allow_all_known_mcp_methods: true, "
		"max_body_bytes: 5}",
		"host: a.test, port: 443, protocol: mcp, rules: [{allow: {method: tools/call, "
		"tool: t}}]",
		"host: a.test, port: 443, protocol: mcp, rules: [{allow: {method: tools/call, "
		"params: "
		"{name: t}}}]",
		"host: a.test, port: 443, protocol: json-rpc, rules: [{allow: {method: m}}]",
		"host: a.test, port: 443, protocol: json-rpc, json_rpc: {}, rules: [{allow: "
		"{method: "
		"m}}]",
		"host: a.test, port: 443, protocol: json-rpc, json_rpc: {max_body_bytes: 3}, "
		"rules: "
		"[{allow: {method: m}}]",
	};
	char hashes[ARRAY_LEN(bodies)][65];
	struct pol_policy p;
	struct pol_report r;
	size_t i, j;

	for (i = 0; i < ARRAY_LEN(bodies); i++) {
		hashes[i][0] = '\0';
		if (load(&p, &r, ep(bodies[i])) != 0) {
			unit_fail(__FILE__, __LINE__, "'%s' did not load", bodies[i]);
			dump(&r);
		} else {
			pol_hash(&p, hashes[i]);
			pol_release(&p);
		}
		pol_report_release(&r);
		for (j = 0; j < i; j++)
			if (hashes[i][0] && strcmp(hashes[i], hashes[j]) == 0)
				unit_fail(__FILE__, __LINE__, "'%s' and '%s' hash the same",
					  bodies[i], bodies[j]);
	}
}
