/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From a sandbox's policy to its jail: the filesystem lists (reference/policy.md §1.3, with
 * the baseline enrichment of §2.2), Landlock's compatibility mode, and the paths the
 * sandbox can write (the proxy's identity check refuses code mapped from them).
 */
#ifndef OS_SANDBOX_POLICY_H
#define OS_SANDBOX_POLICY_H

#include <stddef.h>

struct jail_spec;
struct pol_policy;

/* Loads dir/policy.yaml, or the restrictive default when there is none. A policy that does
 * not load (the gateway validated it, so only a damaged file) gives the default too and is
 * logged; the proxy then fails closed on its own. */
void sandbox_policy_load(const char *dir, struct pol_policy *p);
/* Fills j->read_only/read_write and hard_landlock from p. /sandbox is the workdir mount,
 * never a host bind. Baseline paths are added when they exist in j->from_fd's root (set
 * it first; -1 = the host's /). writable[] (room for max) gets the sandbox's writable paths. */
void sandbox_policy_paths(const struct pol_policy *p, struct jail_spec *j, const char **writable,
			  size_t max, size_t *n_writable);

#endif
