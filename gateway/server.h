/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's epoll loop over its API connections; see server.c. */
#ifndef OS_GW_SERVER_H
#define OS_GW_SERVER_H

struct gw;
struct err;

/* Serves until SIGTERM or SIGINT. Returns 0 after a clean stop. */
int gw_serve(struct gw *gw, struct err *e);

#endif
