/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the policy validator's files: policy_validate.c (the driver and the
 * safety checks), policy_validate_l7.c (L7 semantics), policy_validate_amb.c (ambiguity) and
 * policy_validate_host.c (host patterns and IP ranges). Not for other modules.
 */
#ifndef OS_POLICY_VALIDATE_INT_H
#define OS_POLICY_VALIDATE_INT_H

#include "policy.h"

struct vctx {
	const struct pol_policy *p;
	struct pol_report *r;
	struct buf path; /* key path of what is being checked */
};

/* ---- policy_validate.c ---- */
void pv_add(struct vctx *v, bool warning, struct pol_mark mark, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* path = "network_policies.<key>.endpoints[<i>]" */
void pv_endpoint_path(struct vctx *v, const struct pol_rule *rule, size_t i);

/* ---- policy_validate_l7.c ---- */
void pv_l7_endpoint(struct vctx *v, const struct pol_rule *rule, size_t i);

/* ---- policy_validate_amb.c ---- */
void pv_ambiguity(struct vctx *v);

/* ---- policy_validate_host.c ---- */
#define PV_WHY_MAX 200

/* HostPattern::new of the reference: NULL when valid, else why (in buf why). */
const char *pv_host_pattern_error(const char *pattern, char why[PV_WHY_MAX]);
/* Explicit-TCP DNS selector check: NULL when valid, else the reason. */
const char *pv_tcp_dns_error(const char *host, char why[PV_WHY_MAX]);
/* A middleware selector (include/exclude) may select a host that endpoint pattern covers. */
bool pv_selector_may_match(const char *const *include, size_t n_include, const char *const *exclude,
			   size_t n_exclude, const char *candidate);
/* The glob crate's Pattern::matches: '*' and '?' also match '/', [..] classes, no braces. */
bool pv_shell_glob(const char *pat, const char *s);

struct pv_net {
	bool v6;
	unsigned char a[16];
	unsigned prefix;
};

/* An IP address or CIDR (host bits allowed, as ipnet); 0 or -1. */
int pv_net_parse(const char *s, struct pv_net *out);
/* Whether a network overlaps loopback, link-local or unspecified (and their v4-mapped forms). */
bool pv_net_always_blocked(const struct pv_net *n);
bool pv_is_ip_literal(const char *s);

#endif
