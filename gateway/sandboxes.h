/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sandbox records (table `sandboxes`) and their life cycle on the gateway side:
 * create (validate, count against max_sandboxes, insert, start the supervisor),
 * phase refresh from the supervisor's status file, delete (processes first, then files,
 * then the row). The count of sandboxes is always derived from the table, never kept.
 */
#ifndef OS_GW_SANDBOXES_H
#define OS_GW_SANDBOXES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw;
struct err;
struct json;

#define SB_NAME_MAX 19 /* reference/cli.md §12: three routable names + two '--' fit in 63 */

struct sandbox {
	char id[40];
	char name[SB_NAME_MAX + 1];
	char phase[16];       /* Provisioning Ready Stopped Exited Error Deleting */
	struct json *spec;    /* owned */
	int64_t created_ms, updated_ms;
	bool has_exit;
	int exit_code;
	char reason[256];
	long supervisor_pid;
	int64_t rev;
};

void sandbox_release(struct sandbox *sb);
/* A DNS-1123 label of at most SB_NAME_MAX characters. */
int sandbox_check_name(const char *name, struct err *e);
/* Two random words, as the reference's petnames. */
void sandbox_generate_name(char out[SB_NAME_MAX + 1]);

int sandboxes_count(struct gw *gw, int64_t *n, struct err *e);
int sandboxes_create(struct gw *gw, const struct json *req, struct sandbox *out, struct err *e);
int sandboxes_get(struct gw *gw, const char *name, struct sandbox *out, struct err *e);
/* All sandboxes ordered by creation time; free with sandbox_list_free. */
int sandboxes_list(struct gw *gw, struct sandbox **out, size_t *n, struct err *e);
void sandbox_list_free(struct sandbox *v, size_t n);
int sandboxes_delete(struct gw *gw, const char *name, struct err *e);
/* A connected (non-blocking) socket to the sandbox's supervisor, for attach (running
 * false: an exited sandbox still replays its output) or exec (running true: Ready only). */
int sandboxes_connect(struct gw *gw, const char *name, bool running, struct err *e);
/* Graceful gateway stop: running sandboxes stop (records and files kept) ... */
int sandboxes_stop_all(struct gw *gw, struct err *e);
/* ... and the next start brings them back, main command included. */
int sandboxes_resume_all(struct gw *gw, struct err *e);
/* {"lines": [{"ts", "source", "level", "target", "message", "fields"}]}: the gateway's
 * lines about the sandbox and the sandbox's own log, merged by time. query: lines=N
 * (default 200, at most 10000), since=unix ms, level=error|warn|info|debug,
 * source=gateway|sandbox. */
int sandboxes_logs(struct gw *gw, const char *name, const char *query, struct json **out,
		   struct err *e);
/* Stops a running sandbox (processes gone, record and files kept); it stays stopped. The
 * stop is graceful: phase Stopping, and the supervisor gives the main process SIGTERM and
 * 10 s before SIGKILL. Returns 1 while that goes on (call again; a Stopping sandbox whose
 * supervisor is gone reads as Stopped), 0 once Stopped. force: no more waiting, the
 * supervisor is stopped at once (TERM, then KILL). */
int sandboxes_stop(struct gw *gw, const char *name, bool force, struct sandbox *out,
		   struct err *e);
/* Starts a stopped or exited sandbox again: its main command, its /sandbox. */
int sandboxes_start(struct gw *gw, const char *name, struct sandbox *out, struct err *e);
/* The root filesystem of a create request's spec (gateway/sandbox_root.c): "from" (a
 * directory on this host, --from) made canonical and checked (lib/rootdir.h), and must
 * hold the command; without "command" the root's login shell (/bin/bash -l, else
 * /bin/sh -l) is filled in. id is the new sandbox's (its host uid may need to enter DIR). */
int sandbox_root_prepare(struct json *spec, const char *id, struct err *e);
/* Its limits (gateway/sandbox_limits.c): {"enforced": "cgroup v1", "cgroup v2", "no" (with
 * "why") or "at the next start" (not running: what its spec asks for), "cpu_millis",
 * "memory_bytes", "pids": numbers, null for unlimited}. */
struct json *sandbox_limits_json(struct gw *gw, const struct sandbox *sb);
/* The sandbox as the API shows it. */
struct json *sandbox_json(const struct sandbox *sb);
/* The sandbox's state directory (S/sandboxes/<id>). */
int sandbox_dir(struct gw *gw, const struct sandbox *sb, char *dst, size_t n);
/* Where the supervisor of sb listens. */
int sandbox_socket_path(struct gw *gw, const struct sandbox *sb, char *dst, size_t n);

#endif
