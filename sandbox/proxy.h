/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's egress proxy (DESIGN.md §7, reference/supervisor.md §4): HTTP CONNECT and
 * absolute-form forward proxying on the listener that the sandbox created inside its own
 * network namespace. Every connection is tied to the calling process (lib/procident.h),
 * decided by the policy (lib/policy.h: L4, SSRF, REST L7 rules on plain HTTP), dialled
 * only to the validated addresses, and relayed (splice(2) when no inspection is needed).
 *
 * It runs in its own process, forked by the supervisor, one thread per connection. The
 * policy comes from a file that the gateway replaces atomically; the proxy notices a new
 * file within a second, loads it as a new generation and closes the connections that an
 * older generation authorised (reference/policy.md §7). What it loaded is written to
 * status_path: "<sha256> LOADED" or "<sha256> FAILED <reason>".
 */
#ifndef OS_PROXY_H
#define OS_PROXY_H

#include <stdbool.h>
#include <sys/types.h>

struct err;

struct proxy_cfg {
	int listen_fd;           /* 127.0.0.1:3128 inside the sandbox, listening */
	int diag_fd;             /* NETLINK_SOCK_DIAG socket made in the sandbox's network
				  * namespace (lib/sockdiag.h), or -1: /proc is read instead */
	pid_t init_pid;          /* the sandbox's pid 1 as the host sees it */
	const char *policy_path; /* the active policy (YAML); missing at start = the restrictive
				  * default (a policy in force stays when the file goes away) */
	const char *status_path; /* load results */
	const char *const *writable; /* paths the sandbox can write (identity check) */
	size_t n_writable;
	bool identity_relaxed;   /* OPENSHELL_NETWORK_BINARY_IDENTITY=relaxed and friends */
};

/* Serves until the listener fails (returns -1 with e) or the process is killed. */
int proxy_run(const struct proxy_cfg *cfg, struct err *e);

#endif
