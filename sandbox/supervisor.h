/* SPDX-License-Identifier: Apache-2.0 */
/* The per-sandbox supervisor process; see supervisor.c. */
#ifndef OS_SUPERVISOR_H
#define OS_SUPERVISOR_H

struct err;

/* Runs until the sandbox's main process has exited (and an attached client got its exit
 * status) or until SIGTERM. dir holds spec.json, workdir/ and the status file. */
int supervise(const char *dir, const char *socket_path, const char *id, struct err *e);

#endif
