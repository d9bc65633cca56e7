/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox policy: NVIDIA OpenShell's YAML schema (reference/policy.md §1) as typed
 * structures, the loader (policy_load.c, libyaml, strict), the safety validation
 * (policy_validate.c, §3), the built-in restrictive default (§2.1) and the matcher
 * (policy_match.c: L4 decisions §4.3, SSRF destination modes §4.5, REST L7 rules
 * §4.8-§4.9). Pure code shared by the CLI (`policy validate/check`), the gateway and the
 * supervisor's proxy; nothing here does I/O except pol_load_file().
 *
 * Memory: a policy owns every string and array it points to, all allocated from its
 * arena; pol_release() frees them at once. A loaded policy is immutable: the proxy shares
 * one between connections and swaps the pointer on reload (reference §7).
 */
#ifndef OS_POLICY_H
#define OS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/err.h"

/* ---- the document ------------------------------------------------------------------------ */

/* Where a node was in the file (1-based; 0 = not from a file, e.g. the built-in default). */
struct pol_mark {
	unsigned line, col;
};

enum pol_protocol {
	POL_PROTO_NONE = 0, /* "" : L4 only */
	POL_PROTO_TCP,
	POL_PROTO_REST,
	POL_PROTO_WEBSOCKET,
	POL_PROTO_GRAPHQL,
	POL_PROTO_MCP,
	POL_PROTO_JSONRPC,
	POL_PROTO_SQL,
	POL_PROTO_UNKNOWN, /* anything else: a validation error */
};

/* A glob string or {any: [globs]}: the value must match one of globs[]. */
struct pol_matcher {
	const char **globs;
	size_t n;
};

/* One query parameter (or one flattened MCP params key) and its matcher. */
struct pol_param {
	const char *key;
	struct pol_matcher m;
};

/* An allow rule (the body of `- allow: {...}`) or a deny rule. Absent strings are "". */
struct pol_l7rule {
	const char *method, *path, *command, *operation_type, *operation_name;
	const char **fields;
	size_t n_fields;
	struct pol_param *query; /* in file order */
	size_t n_query;
	struct pol_param *params; /* MCP: flattened dotted keys; `tool: X` lands here as "name" */
	size_t n_params;
	bool has_tool; /* `tool:` was written (so tool + params.name together can be refused) */
	struct pol_mark mark;
};

struct pol_persisted_query {
	const char *id, *operation_type, *operation_name;
	const char **fields;
	size_t n_fields;
};

struct pol_endpoint {
	const char *host;   /* as written (matching lowercases it) */
	uint16_t *ports;    /* effective ports: `ports` if given, else `port` if non-zero */
	size_t n_ports;
	const char *path;   /* endpoint-level L7 route selector, "" = all */
	const char *protocol_text; /* as written, for messages */
	enum pol_protocol protocol;
	const char *tls;          /* "", "skip", "terminate", "passthrough", other = auto */
	const char *enforcement;  /* as written; enforce is exactly "enforce" */
	bool enforce;
	const char *access;       /* "", read-only, read-write, full, or unknown (warning) */
	struct pol_l7rule *rules; /* allow rules as written (presets are expanded by the matcher) */
	size_t n_rules;
	struct pol_l7rule *deny_rules;
	size_t n_deny_rules;
	const char **allowed_ips;
	size_t n_allowed_ips;
	bool allow_encoded_slash, websocket_credential_rewrite, request_body_credential_rewrite,
		allow_uninspected_credentials;
	const char *credential_signing, *signing_service, *signing_region;
	bool has_credential_binding;
	const char *credential_binding_provider;
	const char *persisted_queries; /* "" = deny */
	struct pol_persisted_query *graphql_persisted_queries;
	size_t n_graphql_persisted_queries;
	uint32_t graphql_max_body_bytes; /* 0 = default 65536 */
	bool has_mcp;
	uint32_t mcp_max_body_bytes;
	bool mcp_strict_tool_names; /* default true */
	bool mcp_allow_all_known_mcp_methods;
	bool has_json_rpc;
	uint32_t json_rpc_max_body_bytes;
	struct pol_mark mark;
};

struct pol_binary {
	const char *path;
	struct pol_mark mark;
};

struct pol_rule {
	const char *key;  /* the map key: the rule's identity in decisions and logs */
	const char *name; /* display name, defaults to key */
	struct pol_endpoint *endpoints;
	size_t n_endpoints;
	struct pol_binary *binaries;
	size_t n_binaries;
	struct pol_mark mark;
};

struct pol_middleware {
	const char *key, *name, *middleware, *on_error; /* on_error "" = fail_closed */
	int32_t order;
	const char **include, **exclude;
	size_t n_include, n_exclude;
	bool has_config;
	struct pol_mark mark;
};

struct pol_policy {
	struct arena arena;
	const char *source; /* file name for messages, or "<default>" */

	uint32_t version;

	bool has_filesystem; /* the section was written */
	bool include_workdir; /* true when the section is absent */
	const char **read_only, **read_write;
	size_t n_read_only, n_read_write;

	bool has_landlock;
	const char *landlock_compatibility; /* as written */
	bool landlock_hard;                 /* exactly "hard_requirement" */

	bool has_process;
	const char *run_as_user, *run_as_group; /* "" = not given */

	struct pol_rule *rules; /* sorted by key (strcmp), keys unique */
	size_t n_rules;

	struct pol_middleware *middlewares; /* in file order */
	size_t n_middlewares;
};

/* ---- problems ------------------------------------------------------------------------------ */

/* Every problem a load or a validation finds, in the order found. */
struct pol_diag {
	bool warning;           /* false = error: the policy is rejected */
	struct pol_mark mark;   /* 0:0 when not tied to a place */
	const char *path;       /* key path, e.g. "network_policies.gh.endpoints[0].port", or "" */
	const char *msg;        /* the reference's message where it has one */
};

struct pol_report {
	struct arena arena;
	struct pol_diag *d;
	size_t n, cap;
	size_t n_errors;
};

void pol_report_init(struct pol_report *r);
void pol_report_release(struct pol_report *r);
void pol_report_add(struct pol_report *r, bool warning, struct pol_mark mark, const char *path,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "FILE:LINE:COL: error: PATH: MSG" lines (or "FILE: error: MSG" without a mark), one per
 * problem, errors and warnings in the order found. */
void pol_report_format(const struct pol_report *r, const char *source, struct buf *out);
/* The errors joined by "; " (the reference's "policy contains unsafe content: ..."). */
void pol_report_join_errors(const struct pol_report *r, struct buf *out);

/* ---- loading and validation ---------------------------------------------------------------- */

#define POL_MAX_BYTES (256 * 1024) /* reference/cli.md §12: policies are at most 256 KiB */

/* Parses YAML text (len bytes, need not be NUL-terminated) into *p. Strict: unknown keys,
 * wrong types, out-of-range numbers, duplicate keys and a missing `version` are errors in r
 * naming line, column and key path; parsing goes on past them so every problem is listed.
 * Then runs pol_validate(). Returns 0 when r has no errors (p is then usable), else -1
 * (p is released). source names the text in messages. */
int pol_load(struct pol_policy *p, const char *source, const char *text, size_t len,
	     struct pol_report *r);
/* Reads a file (at most POL_MAX_BYTES) and pol_load()s it. Returns -1 with e set when the
 * file cannot be read (e->code ERR_NOTFOUND/ERR_RUNTIME), -1 with e->code ERR_INVALID and
 * the problems in r when it does not load. */
int pol_load_file(struct pol_policy *p, const char *file, struct pol_report *r, struct err *e);

/* The safety, L7 and ambiguity validation of reference §3.1-§3.2 over a parsed policy;
 * adds errors and warnings to r. Returns 0 when it added no error. */
int pol_validate(const struct pol_policy *p, struct pol_report *r);

/* The built-in restrictive default (§2.1; with_sandbox adds /sandbox read-write, the
 * community base image's filesystem). Never fails. */
void pol_default(struct pol_policy *p, bool with_sandbox);

void pol_release(struct pol_policy *p);

/* A canonical serialisation (sorted keys, JSON) from which policy hashes are computed and
 * which pol_load() reads back to an equal policy. */
void pol_to_json(const struct pol_policy *p, struct buf *out);
/* Lowercase hex SHA-256 of pol_to_json() (65 bytes with the NUL). */
void pol_hash(const struct pol_policy *p, char hex[65]);

/* Whether `next` may replace `cur` on a running sandbox (§8.4): landlock and process
 * identical, filesystem only adds paths. Returns 0, or -1 with e (ERR_INVALID) saying what
 * changed. */
int pol_static_compatible(const struct pol_policy *cur, const struct pol_policy *next,
			  struct err *e);

/* ---- matching -------------------------------------------------------------------------------- */

/* The glob of reference §4.4 (regorus glob.match over globset with literal separator):
 * delims is a string of delimiter characters ("" means "."). Returns 1 match, 0 no match,
 * -1 when either string holds a NUL-equivalent that must fail closed (callers deny). */
int pol_glob_match(const char *pattern, const char *delims, const char *value);
/* The endpoint `path` route selector of §4.8.1 (shell glob where '*' crosses '/'). */
bool pol_route_match(const char *pattern, const char *path);

/* Who asks for what, at connect time. */
struct pol_l4_input {
	const char *host; /* as requested (compared case-insensitively) */
	uint16_t port;
	const char *exe;  /* /proc/<pid>/exe of the caller; NULL with identity disabled */
	const char *const *ancestors; /* exe paths, nearest parent first */
	size_t n_ancestors;
	const char *const *cmdline;   /* absolute argv paths, for deny messages only */
	size_t n_cmdline;
	bool identity_relaxed;        /* OPENSHELL_NETWORK_BINARY_IDENTITY relaxed: any binary */
};

#define POL_MAX_MATCHED 64

struct pol_l4_decision {
	bool allow;
	const struct pol_rule *rule; /* allow: the lexicographically smallest matching key */
	/* Endpoints of matching rules (host+port+binary) with "extended config" (§4.7):
	 * rule keys sorted, then endpoint order. The first one supplies tls and allowed_ips. */
	const struct pol_endpoint *ext[POL_MAX_MATCHED];
	const struct pol_rule *ext_rule[POL_MAX_MATCHED];
	size_t n_ext;
	/* Mode 4 of §4.5: a matching rule has a non-wildcard endpoint with exactly this host. */
	bool exact_declared_host;
	struct buf reason; /* deny: the reference's exact text */
};

void pol_l4_decision_init(struct pol_l4_decision *d);
void pol_l4_decision_release(struct pol_l4_decision *d);
/* Decides one connection (§4.3). Returns 0 (d->allow says which way), or -1 when the
 * input cannot be evaluated (a NUL in the host, ...): d->allow is false, d->reason says why. */
int pol_eval_l4(const struct pol_policy *p, const struct pol_l4_input *in,
		struct pol_l4_decision *d);
/* Whether the decision's endpoints carry a protocol with L7 rules this build enforces
 * (rest), and none says tls: skip. */
bool pol_l4_needs_l7(const struct pol_l4_decision *d);

/* ---- destinations (SSRF, §4.5) ------------------------------------------------------------ */

/* An address in network byte order; v4 is stored as is (not v4-mapped). */
struct pol_addr {
	bool v6;
	unsigned char a[16];
};

int pol_addr_parse(const char *text, struct pol_addr *out); /* 0 or -1; accepts [v6] */
void pol_addr_format(const struct pol_addr *a, char *dst, size_t n);
bool pol_addr_always_blocked(const struct pol_addr *a);
bool pol_addr_internal(const struct pol_addr *a);

enum pol_ssrf_kind {
	POL_SSRF_OK = 0,
	POL_SSRF_INTERNAL,       /* "internal address" */
	POL_SSRF_ALLOWED_IPS,    /* "allowed_ips check failed" */
	POL_SSRF_DECLARED,       /* "declared endpoint check failed" */
	POL_SSRF_INVALID_IPS,    /* "invalid allowed_ips in policy" */
	POL_SSRF_GATEWAY,        /* "trusted-gateway check failed" */
};
const char *pol_ssrf_kind_text(enum pol_ssrf_kind k);

/* Checks every resolved address of an L4-allowed connection (all or nothing). host is the
 * requested host; trusted_gateway is the gateway alias IP or NULL. Returns the kind, with
 * the reference's message in why ("<host> resolves to internal address <ip>, connection
 * rejected", "port <p> is a blocked control-plane port, connection rejected", ...). */
enum pol_ssrf_kind pol_check_destination(const struct pol_l4_decision *d, const char *host,
					 uint16_t port, const struct pol_addr *addrs, size_t n,
					 const struct pol_addr *trusted_gateway, struct buf *why);

/* ---- L7 (REST shape, §4.8.3) ---------------------------------------------------------------- */

/* A request as the proxy parsed it: canonical path (lib/http.h http_target_canon), the raw
 * query after '?' (NULL = none), method as sent. */
struct pol_l7_input {
	const char *method;
	const char *path;
	const char *query;
};

struct pol_l7_decision {
	bool allow;   /* false: denied (enforce) or would be denied (audit) */
	bool enforce; /* the selected route's enforcement */
	bool hard;    /* denied regardless of enforcement (route miss, bad query encoding) */
	const struct pol_rule *rule;         /* the rule key for X-OpenShell-Policy */
	const struct pol_endpoint *endpoint; /* the selected route */
	struct buf reason; /* "<METHOD> <path> blocked by deny rule" / "... not permitted by policy" */
};

void pol_l7_decision_init(struct pol_l7_decision *d);
void pol_l7_decision_release(struct pol_l7_decision *d);
/* Evaluates one request inside a tunnel that l4 allowed (same host and port). */
int pol_eval_l7(const struct pol_policy *p, const struct pol_l4_input *conn,
		const struct pol_l4_decision *l4, const struct pol_l7_input *req,
		struct pol_l7_decision *d);

#endif
