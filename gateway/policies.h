/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A sandbox's policy revisions (table policy_revisions; reference/policy.md §8.1, §8.4):
 * each accepted write is version N+1 with the canonical hash, PENDING until the sandbox's
 * proxy reports it LOADED or FAILED (through S/sandboxes/<id>/policy.status), SUPERSEDED when
 * a newer one came first. The active revision's YAML is S/sandboxes/<id>/policy.yaml, which
 * the proxy watches. A sandbox created without a policy runs the restrictive default and
 * has no revision until the first `policy set`.
 */
#ifndef OS_GW_POLICIES_H
#define OS_GW_POLICIES_H

#include <stddef.h>
#include <stdint.h>

struct gw;
struct err;
struct json;
struct sandbox;

/* A policy text from a client: loads and validates it; ERR_INVALID naming every problem. */
int policies_check_text(const char *yaml, size_t len, struct err *e);
/* Revision 1 of a new sandbox, and its policy.yaml, before its supervisor starts. */
int policies_initial(struct gw *gw, const struct sandbox *sb, const char *yaml, struct err *e);
/* PUT /v1/sandboxes/NAME/policy {"policy": YAML}: {"version","hash","status","unchanged"}. */
int policies_set(struct gw *gw, const char *name, const struct json *in, struct json **out,
		 struct err *e);
/* GET /v1/sandboxes/NAME/policy[?rev=N]: one revision with its YAML (rev 0 = the newest). */
int policies_get(struct gw *gw, const char *name, const char *query, struct json **out,
		 struct err *e);
/* GET /v1/sandboxes/NAME/policies[?limit=N]: {"revisions": [...]}, newest first. */
int policies_list(struct gw *gw, const char *name, const char *query, struct json **out,
		  struct err *e);
/* Forgets a deleted sandbox's revisions. */
void policies_forget(struct gw *gw, const char *sandbox_id);

#endif
