/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a local gateway keeps its state (DESIGN.md §4):
 * S = ${XDG_STATE_HOME:-~/.local/state}/openshell/gateways/<name>, holding gateway.db,
 * gateway.log, gateway.pid, gateway.lock, gateway.id, tls/, run/, sandboxes/.
 * Also: the exclusive lock that makes one daemon per state dir, the pid file, and
 * finding a running gateway's pid.
 */
#ifndef OS_GW_STATE_H
#define OS_GW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct err;

struct gw_paths {
	char root[512]; /* S */
	char db[600], log[600], pid[600], lock[600], id[600], tls[600], run[600], sandboxes[600];
};

/* ${XDG_STATE_HOME:-~/.local/state}/openshell/gateways */
int gw_state_base(char *dst, size_t n, struct err *e);
int gw_paths_for(const char *name, struct gw_paths *p, struct err *e);

/* Takes the state dir's exclusive lock (flock, non-blocking). Returns the fd (kept open
 * for the daemon's life) or -1: ERR_EXISTS when another process holds it. */
int gw_lock(const struct gw_paths *p, struct err *e);
/* The pid of the daemon holding the lock, or 0 when none runs (stale pid files ignored). */
pid_t gw_running_pid(const struct gw_paths *p);
int gw_write_pid(const struct gw_paths *p, struct err *e);

/* The gateway's numeric id (seeds/000): assigned once, smallest unused among local
 * gateways, kept in S/gateway.id. */
int gw_id_get(const struct gw_paths *p, long *id, struct err *e);
int gw_id_assign(const struct gw_paths *p, long *id, struct err *e);
/* Maps a numeric id to the name of the local gateway that has it; ERR_NOTFOUND otherwise. */
int gw_name_by_id(long id, char *name, size_t n, struct err *e);

#endif
