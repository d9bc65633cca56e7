/* SPDX-License-Identifier: Apache-2.0 */
/* The proxy's internals, shared by sandbox/proxy*.c only. */
#ifndef OS_PROXY_INT_H
#define OS_PROXY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/http.h"
#include "lib/policy.h"
#include "lib/procident.h"
#include "lib/url.h"
#include "proxy.h"

#define PROXY_PORT 3128
#define PROXY_DIAL_TIMEOUT_MS 10000
#define PROXY_HEAD_TIMEOUT_MS 30000
#define PROXY_SEND_TIMEOUT_S 60
#define PROXY_MAX_ADDRS 16

/* One loaded policy. Connections hold a reference and are closed when it is superseded:
 * its hup pipe's write end is closed then, so every relay polling hup_rd wakes up. */
struct gen {
	struct pol_policy pol;
	uint64_t id;
	char hash[65];
	char *quarantine; /* non-NULL: every decision denies with this reason */
	int hup_rd, hup_wr;
	int refs;         /* under proxy.lock */
};

struct proxy {
	const struct proxy_cfg *cfg;
	pthread_mutex_t lock; /* cur, refs, ident cache, denial aggregation */
	struct gen *cur;
	uint64_t next_gen;
	struct ident_cache *idc;
	struct timespec policy_mtime; /* of the file the current generation came from */
	ino_t policy_ino;
	bool policy_seen;
};

/* A connection, owned by its thread; recycled (proxy.c) with its parser's buffers. */
struct conn {
	struct conn *next; /* among the spare ones (proxy.c) */
	struct http_parser head; /* the client's first head */
	struct proxy *px;
	int cfd, ufd;
	struct gen *gen;
	struct ident id;
	bool identified;
	const char *method;      /* "CONNECT" or the forward request's method */
	char host[URL_HOST_MAX + 1];
	bool ipv6;
	uint16_t port;
	struct pol_l4_input in;
	struct pol_l4_decision l4;
	struct buf early;        /* client bytes read past the first head */
	int64_t decision_start_us; /* when decide() began */
	int64_t decision_us;     /* identification + L4 policy took; -1 until decided */
};

/* proxy_policy.c */
int proxy_policy_init(struct proxy *px);
/* Reloads when the policy file changed (called once a second by the accept loop). */
void proxy_policy_poll(struct proxy *px);
struct gen *gen_get(struct proxy *px);
void gen_put(struct proxy *px, struct gen *g);
bool gen_stale(struct proxy *px, const struct gen *g);

/* proxy_reply.c: all of data to fd (send with MSG_NOSIGNAL, EINTR retried); -1 on failure */
int proxy_send_all(int fd, const void *data, size_t n);
/* proxy_reply.c: the reference's responses (reference/policy.md §4.6) and decision logs */
void reply_status(struct conn *c, int status);
void reply_text(struct conn *c, int status, const char *text);
void reply_policy_denied(struct conn *c, const char *path, const char *reason);
void reply_ssrf_denied(struct conn *c, enum pol_ssrf_kind kind);
void reply_l7_denied(struct conn *c, const struct pol_l7_decision *d, const char *method,
		     const char *path);
void reply_json_error(struct conn *c, int status, const char *error, const char *message);
/* One line per decision; a repeated denial (same host, port, binary) within 10 s is
 * counted and reported with the next line instead of flooding the log. */
void log_decision(struct conn *c, const char *verdict, const char *what, const char *reason);

/* proxy_dial.c */
int proxy_resolve(struct conn *c, struct pol_addr *addrs, size_t *n, struct buf *why);
int proxy_dial(struct conn *c, const struct pol_addr *addrs, size_t n, struct buf *why);

/* proxy_relay.c */
/* Copies both ways until either side closes or the generation goes stale. */
void relay_raw(struct conn *c);
/* Parses each request on the client side, enforces the L7 rules, forwards it and its
 * response; `first` is an already parsed head (forward proxy) or NULL (in a tunnel). */
void relay_http(struct conn *c, struct http_parser *first);

#endif
