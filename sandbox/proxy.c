// SPDX-License-Identifier: Apache-2.0
/*
 * The proxy's accept loop and the life of one connection (reference/supervisor.md §4.1,
 * §4.2): read the head (8 KiB), identify the caller, decide (L4), resolve and validate the
 * destination (SSRF), dial exactly the validated addresses, then relay. One thread per
 * connection: the decision scans /proc and hashes binaries, which must not stall others.
 * A thread that finished its connection waits for the next one (up to PROXY_IDLE_THREADS
 * do): a new connection then runs on a warm stack, without a thread's creation (clone, a
 * fresh stack faulted in page by page) and exit (its stack unmapped, a TLB shootdown on the
 * other CPUs, where the next decision may be running).
 */
#include "proxy_int.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/http.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#define PROXY_MAX_CONNS 1024
#define PROXY_STACK (256 * 1024)
#define PROXY_IDLE_THREADS 8

static pthread_mutex_t ident_lock = PTHREAD_MUTEX_INITIALIZER; /* the TOFU cache */
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static int live_conns; /* under conn_lock */
/* A thread waiting for its next connection. The one that became idle last is woken first:
 * it last ran where the previous decision ran, and the kernel's data about the sandbox's
 * processes that a decision reads (one schedstat per process) is still in that CPU's cache.
 * Waking the threads in turn moved decisions between CPUs: 1.5x as long. */
struct idler {
	struct idler *next;
	pthread_cond_t wake;
	struct conn *c;
};
static struct idler *idlers; /* under conn_lock: a stack, the last idle on top */
static size_t n_idle;	     /* under conn_lock */
/* Finished connections kept for the next ones: a connection object (with the request
 * parser's 8 KiB buffer) is larger than what malloc serves from its pools, so each one was
 * mapped and unmapped (a TLB shootdown on the other CPUs) around every connection. */
static struct conn *spare; /* under conn_lock */
static size_t n_spare;	   /* under conn_lock */

/* Stops the decision's clock (once): identification and policy are done. */
static void decision_done(struct conn *c)
{
	if (c->decision_us < 0 && c->decision_start_us > 0)
		c->decision_us = now_mono_us() - c->decision_start_us;
}

static void deny(struct conn *c, const char *path, const char *reason)
{
	decision_done(c);
	log_decision(c, "DENIED", path ? "HTTP:FORWARD" : "NET:OPEN", reason);
	reply_policy_denied(c, path, reason);
}

/* 0 with c->id filled, or -1 with the deny reason in e. */
static int lookup_caller(struct conn *c, struct err *e)
{
	const struct proxy_cfg *cfg = c->px->cfg;
	struct ident_writable w = { cfg->writable, cfg->n_writable };
	int r;

	pthread_mutex_lock(&ident_lock);
	r = ident_lookup(c->px->idc, cfg->init_pid, c->cfd, &w, &c->id, e);
	pthread_mutex_unlock(&ident_lock);
	if (r < 0)
		return -1;
	c->identified = true;
	c->in.exe = c->id.exe;
	c->in.ancestors = (const char *const *)c->id.ancestors;
	c->in.n_ancestors = c->id.n_ancestors;
	c->in.cmdline = (const char *const *)c->id.cmdline;
	c->in.n_cmdline = c->id.n_cmdline;
	return 0;
}

static void try_identify(struct conn *c)
{
	struct err e = ERR_INIT;

	lookup_caller(c, &e);
}

static int identify(struct conn *c, const char *path)
{
	struct err e = ERR_INIT;

	if (lookup_caller(c, &e) < 0) {
		deny(c, path, e.msg);
		return -1;
	}
	return 0;
}

/* Host selectors compare case-insensitively (reference/policy.md §1.9); host is lowercase. */
static bool selector_matches(const char *const *pats, size_t n, const char *host)
{
	char low[1024];
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; pats[i][j] && j < sizeof(low) - 1; j++)
			low[j] = (char)tolower((unsigned char)pats[i][j]);
		low[j] = '\0';
		if (pats[i][j]) /* longer than any DNS name: counts as a match, fail closed */
			return true;
		if (!strchr(low, '*') ? !strcmp(low, host) : pol_glob_match(low, ".", host) != 0)
			return true; /* a glob that fails to compile counts as a match: fail closed */
	}
	return false;
}

/* Network middlewares (reference/policy.md §1.9) are not run by this version. One that
 * selects this host behaves as if it failed: fail_closed denies, fail_open lets the
 * request through (and says so). Returns the reason to deny, or NULL. */
static const char *middleware_refusal(struct conn *c, char *why, size_t n)
{
	const struct pol_policy *p = &c->gen->pol;
	size_t i;

	for (i = 0; i < p->n_middlewares; i++) {
		const struct pol_middleware *m = &p->middlewares[i];

		if (!selector_matches(m->include, m->n_include, c->host) ||
		    selector_matches(m->exclude, m->n_exclude, c->host))
			continue;
		if (!strcmp(m->on_error, "fail_open")) {
			log_decision(c, "AUDIT", "NET:MIDDLEWARE", "middleware not supported, fail_open");
			continue;
		}
		snprintf(why, n, "network middleware '%s' (%s) cannot run in this version and is "
			 "fail_closed", *m->name ? m->name : m->key, m->middleware);
		return why;
	}
	return NULL;
}

/* Identity, quarantine, L4 rules: 0 allowed, -1 denied (answered). */
static int decide_now(struct conn *c, const char *path)
{
	char why[512];
	const char *mw;

	c->in.host = c->host;
	c->in.port = c->port;
	c->in.identity_relaxed = c->px->cfg->identity_relaxed;
	if (c->gen->quarantine) { /* the caller is still named in the log when it can be */
		if (!c->in.identity_relaxed)
			try_identify(c);
		deny(c, path, c->gen->quarantine);
		return -1;
	}
	if (!c->in.identity_relaxed && identify(c, path) < 0)
		return -1;
	if (pol_eval_l4(&c->gen->pol, &c->in, &c->l4) < 0 || !c->l4.allow) {
		deny(c, path, c->l4.reason.p);
		return -1;
	}
	if ((mw = middleware_refusal(c, why, sizeof(why)))) {
		deny(c, path, mw);
		return -1;
	}
	return 0;
}

/* decide_now, timed: the decision's log line carries how long identification and policy
 * took (issue 5's budget is on this number). A denial stops the clock before it logs. */
static int decide(struct conn *c, const char *path)
{
	int r;

	c->decision_start_us = now_mono_us();
	r = decide_now(c, path);
	decision_done(c);
	return r;
}

/* Resolution, SSRF validation, dial: 0 connected, -1 refused (answered). */
static int reach(struct conn *c, const char *what)
{
	struct pol_addr addrs[PROXY_MAX_ADDRS];
	struct buf why = BUF_INIT;
	enum pol_ssrf_kind kind;
	size_t n = 0;
	int ret = -1;

	if (proxy_resolve(c, addrs, &n, &why) < 0) {
		log_decision(c, "DENIED", what, why.p);
		reply_json_error(c, 502, "upstream_unreachable", why.p);
		goto out;
	}
	kind = pol_check_destination(&c->l4, c->host, c->port, addrs, n, NULL, &why);
	if (kind != POL_SSRF_OK) {
		log_decision(c, "DENIED", what, why.p);
		reply_ssrf_denied(c, kind);
		goto out;
	}
	if (proxy_dial(c, addrs, n, &why) < 0) {
		log_decision(c, "FAILED", what, why.p);
		reply_json_error(c, 502, "upstream_unreachable", why.p);
		goto out;
	}
	if (gen_stale(c->px, c->gen)) { /* reloaded while we set up: decide again */
		log_decision(c, "DENIED", what, "the policy changed while the connection was set up");
		reply_json_error(c, 503, "policy_reloaded", "the policy changed; retry");
		goto out;
	}
	ret = 0;
out:
	buf_release(&why);
	return ret;
}

/* Inside an allowed tunnel to an L7 endpoint: plain HTTP is inspected; TLS cannot be yet
 * (no TLS termination in this version) and is refused rather than passed unchecked. */
static void tunnel_l7(struct conn *c)
{
	struct pollfd p = { c->cfd, POLLIN, 0 };
	char first[8];
	ssize_t n;

	if (!c->early.len) {
		if (poll(&p, 1, PROXY_HEAD_TIMEOUT_MS) <= 0)
			return;
		n = recv(c->cfd, first, sizeof(first), MSG_PEEK);
		if (n <= 0)
			return;
	} else {
		n = (ssize_t)(c->early.len < sizeof(first) ? c->early.len : sizeof(first));
		memcpy(first, c->early.p, (size_t)n);
	}
	if (first[0] == 0x16) {
		log_decision(c, "DENIED", "NET:TLS",
			     "TLS to an endpoint with L7 rules needs TLS termination, which this "
			     "version does not do; the tunnel is refused instead of passed unchecked");
		return;
	}
	if (memchr(first, ' ', (size_t)n) == NULL && n == (ssize_t)sizeof(first)) {
		log_decision(c, "DENIED", "NET:L7", "unsupported protocol on an L7 endpoint");
		reply_json_error(c, 403, "unsupported_l7_protocol",
				 "the endpoint has L7 rules and the tunnel does not carry HTTP/1.x");
		return;
	}
	relay_http(c, NULL);
}

static void handle_connect(struct conn *c, const struct http_msg *m)
{
	struct err e = ERR_INIT;
	static const char established[] = "HTTP/1.1 200 Connection Established\r\n\r\n";

	c->method = "CONNECT";
	if (url_parse_authority(m->target, strlen(m->target), true, c->host, &c->ipv6, &c->port,
				&e) < 0) {
		reply_text(c, 400, "invalid CONNECT target");
		return;
	}
	if (decide(c, NULL) < 0 || reach(c, "NET:OPEN") < 0)
		return;
	log_decision(c, "ALLOWED", "NET:OPEN", "");
	if (send(c->cfd, established, sizeof(established) - 1, MSG_NOSIGNAL) < 0)
		return;
	if (pol_l4_needs_l7(&c->l4)) /* false when an endpoint says tls: skip */
		tunnel_l7(c);
	else
		relay_raw(c);
}

static void handle_forward(struct conn *c, struct http_parser *p)
{
	const struct http_msg *m = &p->msg;
	struct url u = URL_INIT;
	struct err e = ERR_INIT;

	c->method = m->method;
	if (m->form != HTTP_FORM_ABSOLUTE || url_parse(&u, m->target, &e) < 0) {
		reply_text(c, 400, "this is a proxy: send absolute-form http:// URLs or CONNECT");
		goto out;
	}
	if (strcmp(u.scheme, "http")) {
		reply_text(c, 400, "Use CONNECT for HTTPS URLs");
		goto out;
	}
	snprintf(c->host, sizeof(c->host), "%s", u.host);
	c->ipv6 = u.ipv6;
	c->port = u.port;
	if (decide(c, u.path) < 0 || reach(c, "HTTP:FORWARD") < 0)
		goto out;
	log_decision(c, "ALLOWED", "HTTP:FORWARD", "");
	relay_http(c, p);
out:
	url_release(&u);
}

/* The first head, bounded by the proxy's 8 KiB limit (431 beyond it) and by one deadline
 * for all of it (a byte now and then does not keep the slot). */
static int read_first_head(struct conn *c, struct http_parser *p)
{
	int64_t deadline = now_mono_ms() + PROXY_HEAD_TIMEOUT_MS;
	struct err e = ERR_INIT;
	char chunk[4096];

	for (;;) {
		struct pollfd pf = { c->cfd, POLLIN, 0 };
		int64_t left = deadline - now_mono_ms();
		size_t used = 0;
		ssize_t n;
		int r;

		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return -1;
		n = recv(c->cfd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			return -1;
		r = http_parse_head(p, chunk, (size_t)n, &used, &e);
		if (r == HTTP_DONE) {
			buf_add(&c->early, chunk + used, (size_t)n - used);
			return 0;
		}
		if (r == HTTP_ERROR) {
			reply_status(c, http_parser_status(p));
			return -1;
		}
	}
}

/* A connection object, fresh or recycled (wiped; its parser's buffers kept). */
static struct conn *conn_get(void)
{
	struct http_limits lim = HTTP_LIMITS_PROXY;
	struct http_parser keep;
	struct conn *c;

	pthread_mutex_lock(&conn_lock);
	c = spare;
	if (c) {
		spare = c->next;
		n_spare--;
	}
	pthread_mutex_unlock(&conn_lock);
	if (!c) {
		c = xcalloc(1, sizeof(*c));
		http_parser_init(&c->head, HTTP_REQUEST, &lim);
		return c;
	}
	keep = c->head;
	explicit_bzero(c, sizeof(*c));
	c->head = keep;
	http_parser_reset(&c->head);
	return c;
}

static void conn_put(struct conn *c)
{
	pthread_mutex_lock(&conn_lock);
	if (n_spare < PROXY_IDLE_THREADS) {
		c->next = spare;
		spare = c;
		n_spare++;
		c = NULL;
	}
	pthread_mutex_unlock(&conn_lock);
	if (c) {
		http_parser_release(&c->head);
		free(c);
	}
}

static void serve(struct conn *c)
{
	struct timeval tv = { PROXY_SEND_TIMEOUT_S, 0 };

	/* a peer that stops reading cannot hold a thread in send() for ever */
	setsockopt(c->cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (read_first_head(c, &c->head) == 0) {
		c->gen = gen_get(c->px);
		if (!strcmp(c->head.msg.method, "CONNECT"))
			handle_connect(c, &c->head.msg);
		else
			handle_forward(c, &c->head);
	}
	if (c->ufd >= 0)
		close(c->ufd);
	close(c->cfd);
	if (c->identified)
		ident_release(&c->id);
	pol_l4_decision_release(&c->l4);
	buf_release(&c->early);
	gen_put(c->px, c->gen);
	conn_put(c);
	pthread_mutex_lock(&conn_lock);
	live_conns--;
	pthread_mutex_unlock(&conn_lock);
}

/* The next connection for a thread that finished one, or NULL when enough threads wait. */
static struct conn *next_conn(void)
{
	struct idler me = { .wake = PTHREAD_COND_INITIALIZER };
	struct conn *c = NULL;

	pthread_mutex_lock(&conn_lock);
	if (n_idle < PROXY_IDLE_THREADS) {
		me.next = idlers;
		idlers = &me;
		n_idle++;
		while (!me.c)
			pthread_cond_wait(&me.wake, &conn_lock);
		c = me.c;
	}
	pthread_mutex_unlock(&conn_lock);
	pthread_cond_destroy(&me.wake);
	return c;
}

static void *conn_main(void *arg)
{
	struct conn *c;

	for (c = arg; c; c = next_conn())
		serve(c);
	return NULL;
}

/* Gives c to the thread that became idle last; false when none waits. */
static bool hand_over(struct conn *c)
{
	struct idler *t;

	pthread_mutex_lock(&conn_lock);
	t = idlers;
	if (t) {
		idlers = t->next;
		n_idle--;
		t->c = c;
		pthread_cond_signal(&t->wake);
	}
	pthread_mutex_unlock(&conn_lock);
	return t != NULL;
}

static void start_conn(struct proxy *px, int fd, pthread_attr_t *attr)
{
	struct conn *c = conn_get();
	pthread_t t;
	bool full;

	pthread_mutex_lock(&conn_lock);
	full = live_conns >= PROXY_MAX_CONNS;
	if (!full)
		live_conns++;
	pthread_mutex_unlock(&conn_lock);
	c->px = px;
	c->cfd = fd;
	c->ufd = -1;
	c->early = (struct buf)BUF_INIT;
	c->decision_us = -1;
	pol_l4_decision_init(&c->l4);
	if (!full && hand_over(c))
		return;
	if (full || pthread_create(&t, attr, conn_main, c) != 0) {
		log_warn("proxy", "too many connections: one refused", NULL);
		pol_l4_decision_release(&c->l4);
		close(fd);
		conn_put(c);
		if (!full) {
			pthread_mutex_lock(&conn_lock);
			live_conns--;
			pthread_mutex_unlock(&conn_lock);
		}
	}
}

int proxy_run(const struct proxy_cfg *cfg, struct err *e)
{
	struct proxy px = { .cfg = cfg };
	pthread_attr_t attr;
	int64_t next_poll = 0;

	px.idc = ident_cache_new();
	if (!px.idc || proxy_policy_init(&px) < 0)
		return err_set(e, ERR_RUNTIME, 0, "cannot start the proxy");
	ident_cache_set_sock_diag(px.idc, cfg->diag_fd);
	/* every sandbox process runs under jail_seccomp.c's filter: no CLONE_PARENT, no
	 * subreaper (the proxy gets its listener only once that filter is loaded) */
	ident_cache_set_init_reaps_all(px.idc, true);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PROXY_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		struct pollfd p = { cfg->listen_fd, POLLIN, 0 };
		int fd;

		if (now_mono_ms() >= next_poll) {
			proxy_policy_poll(&px);
			next_poll = now_mono_ms() + 1000;
		}
		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			return err_sys(e, ERR_RUNTIME, "proxy listener failed");
		if (!(p.revents & POLLIN))
			continue;
		fd = accept4(cfg->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			start_conn(&px, fd, &attr);
		else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			usleep(100000); /* EMFILE and friends: back off */
	}
}
