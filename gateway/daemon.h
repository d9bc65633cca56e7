/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway daemon: `openshell gateway run` (foreground) and the process that
 * `gateway start` forks. Startup takes the state dir's lock, checks or creates the PKI
 * and the database (refusing inconsistent state, never overwriting it), listens, writes
 * the pid file, tells the starter it is ready, then serves until SIGTERM/SIGINT.
 */
#ifndef OS_GW_DAEMON_H
#define OS_GW_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

struct err;

struct gw_config {
	const char *name;
	const char *bind;           /* "127.0.0.1" */
	int port;                   /* 8080 */
	bool plaintext;             /* plain HTTP, no TLS */
	bool no_client_auth;        /* --disable-gateway-auth: TLS without client certs */
	const char *const *sans;    /* extra server SANs, NULL-terminated */
	const char *cpus, *memory;  /* NULL = keep the stored value */
	int64_t max_sandboxes;      /* 0 = keep the stored value */
	int notify_fd;              /* -1, or a pipe the starter reads "ok\n" / an error from */
	bool log_stderr;            /* gateway run: logs also to stderr */
};

/* Runs the gateway until it is told to stop. Returns 0 after a clean stop. */
int gw_daemon_run(const struct gw_config *cfg, struct err *e);

#endif
