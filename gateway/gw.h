/* SPDX-License-Identifier: Apache-2.0 */
/* The running gateway's shared state, passed to the server loop and the API handlers. */
#ifndef OS_GW_H
#define OS_GW_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "daemon.h"
#include "state.h"

struct store;
struct tls_server_cfg;

#define GW_MAX_CONNS 1024         /* concurrent API connections at most; more are refused */
#define GW_FDS_RESERVED 64        /* descriptors kept for the database, log, spawns, ... */
#define GW_IDLE_TIMEOUT_MS 30000  /* a connection with no complete request for this long */
#define GW_HANDSHAKE_TIMEOUT_MS 10000
#define GW_HEALTH_INTERVAL_MS 30000
#define SANDBOX_WAIT_MAX_MS 30000 /* the longest GET /v1/sandboxes/{name}?wait= */
#define SANDBOX_STOP_WAIT_MS 15000 /* a stop waits this long for the main process (10 s grace) */

struct gw {
	const struct gw_config *cfg;
	struct gw_paths paths;
	struct store *store;
	struct tls_server_cfg *tls; /* NULL in plaintext mode */
	long id;
	int listen_fd, epoll_fd, signal_fd;
	int self_exe_fd;            /* /proc/self/exe at start: supervisors run this binary */
	int nconns;
	int max_conns;              /* GW_MAX_CONNS, or fewer when RLIMIT_NOFILE is low */
	struct rlimit nofile_orig;  /* the limit the gateway was started with, for supervisors */
	int64_t started_ms;
	char endpoint[256];         /* how clients reach it: https://127.0.0.1:8080 */
	volatile bool stopping;
	const char *query;          /* the current request's query string ("" when none) */
	int inotify_fd;             /* wakes requests that wait for a sandbox (api.h) */
	char park_dir[PATH_MAX];    /* set by a handler that cannot answer yet */
	int64_t park_ms;            /* ... and how long the request may wait */
	bool park_expired;          /* the waiting request's time is up: answer now */
};

#endif
