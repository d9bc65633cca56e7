/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's event loop: one epoll, non-blocking sockets, no threads (DESIGN.md §3).
 * A connection goes TLS handshake (unless plaintext) -> request head -> body -> handler
 * -> response, and around again while keep-alive holds. Bounded: gw->max_conns
 * connections (more are closed at once), the parser's head and body limits, a
 * handshake deadline and an idle deadline.
 */
#include "server.h"
#include "api.h"
#include "gw.h"
#include "sandboxes.h"
#include "store.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/frame.h"
#include "lib/http.h"
#include "lib/log.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

enum { EV_LISTEN = -1, EV_SIGNAL = -2, EV_INOTIFY = -3 };

/* A waiting request (api.h) is asked again at least this often, even without an event. */
#define PARK_RECHECK_MS 100
/* What a client may send behind a waiting request before we stop reading it. */
#define PARKED_INPUT_MAX (1u << 20)

/* Relay back-pressure: a side whose bytes wait beyond this is not read until they drain. */
#define RELAY_BUF_MAX (4u << 20)

struct conn;

/* What an epoll event points at: the client socket or the relay's unix socket. */
struct endpoint {
	bool relay;
	struct conn *c;
};

struct conn {
	int fd;
	int relay_fd;                /* -1, or the supervisor's socket after an attach upgrade */
	struct buf to_relay;         /* client bytes not yet written to relay_fd */
	struct endpoint ep_client, ep_relay;
	uint32_t ev_client, ev_relay; /* what epoll watches for now on fd and relay_fd */
	struct tls_server_conn *tls; /* NULL in plaintext mode */
	struct http_parser parser;
	struct buf in;               /* application bytes received and not yet parsed */
	struct buf body;             /* the current request's body */
	struct buf out;              /* application bytes not yet handed to the socket/TLS */
	bool close_after_write, peer_closed, established;
	bool parked;                 /* the current request waits (api.h API_PARKED) */
	int park_wd;                 /* its inotify watch, or -1 */
	int64_t park_until_ms, park_recheck_ms;
	int64_t deadline_ms;
	char peer[64];
	struct conn *prev, *next;
};

static struct conn *conns, *dead;

/* Ends c's wait; its watch goes when no other waiting request shares it. */
static void unpark(struct gw *gw, struct conn *c)
{
	struct conn *o;

	if (!c->parked)
		return;
	c->parked = false;
	if (c->park_wd < 0)
		return;
	for (o = conns; o; o = o->next)
		if (o != c && o->parked && o->park_wd == c->park_wd)
			break;
	if (!o)
		inotify_rm_watch(gw->inotify_fd, c->park_wd); /* EINVAL once the dir is gone */
	c->park_wd = -1;
}

/* The handler could not answer yet: watch what it waits for, until when it may wait. */
static void park(struct gw *gw, struct conn *c)
{
	int64_t now = now_mono_ms();

	if (!c->parked) {
		c->parked = true;
		c->park_until_ms = now + gw->park_ms;
		c->park_wd = inotify_add_watch(gw->inotify_fd, gw->park_dir,
					       IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF);
		/* without a watch the periodic recheck still answers */
		c->deadline_ms = c->park_until_ms + GW_IDLE_TIMEOUT_MS;
	}
	c->park_recheck_ms = now + PARK_RECHECK_MS;
}

/* Closes c now; the memory goes after the current batch of events, which may still name
 * c (its client socket and its relay socket can both be in one epoll_wait result). */
static void conn_free(struct gw *gw, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	epoll_ctl(gw->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->relay_fd >= 0) {
		epoll_ctl(gw->epoll_fd, EPOLL_CTL_DEL, c->relay_fd, NULL);
		close(c->relay_fd);
	}
	buf_release(&c->to_relay);
	unpark(gw, c);
	gw->nconns--;
	c->fd = -1;
	c->next = dead;
	dead = c;
}

/* One closed connection, its parser's buffers included, kept for the next: allocating
 * them again would map and fault in fresh pages on every request. */
static struct conn *spare;

static void reap_dead(void)
{
	while (dead) {
		struct conn *c = dead;

		dead = c->next;
		if (c->tls)
			tls_server_conn_free(c->tls);
		buf_release(&c->in);
		buf_release(&c->body);
		buf_release(&c->out);
		if (!spare) {
			http_parser_reset(&c->parser);
			spare = c;
			continue;
		}
		http_parser_release(&c->parser);
		free(c);
	}
}

static struct conn *conn_new(void)
{
	struct conn *c = spare;
	struct http_parser p;

	if (!c) {
		c = xcalloc(1, sizeof(*c));
		http_parser_init(&c->parser, HTTP_REQUEST, NULL);
		return c;
	}
	spare = NULL;
	p = c->parser;
	memset(c, 0, sizeof(*c));
	c->parser = p;
	return c;
}

static void peer_name(int fd, char *dst, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
			port = ntohs(a->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
			port = ntohs(a->sin6_port);
		}
	}
	snprintf(dst, n, "%s:%d", host, port);
}

static void conn_event(struct gw *gw, struct conn *c);

static void accept_all(struct gw *gw)
{
	for (;;) {
		int fd = accept4(gw->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;

		if (fd < 0)
			return; /* EAGAIN, or a transient error: try again on the next event */
		if (gw->nconns >= gw->max_conns) {
			log_warn("api", "connection refused: too many connections", NULL);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = conn_new();
		c->fd = fd;
		c->relay_fd = -1;
		c->park_wd = -1;
		c->ep_client = (struct endpoint){ false, c };
		c->ep_relay = (struct endpoint){ true, c };
		buf_init(&c->to_relay);
		buf_init(&c->in);
		buf_init(&c->body);
		buf_init(&c->out);
		peer_name(fd, c->peer, sizeof(c->peer));
		c->deadline_ms = now_mono_ms() + (gw->tls ? GW_HANDSHAKE_TIMEOUT_MS : GW_IDLE_TIMEOUT_MS);
		if (gw->tls)
			c->tls = tls_server_conn_new(gw->tls);
		c->next = conns;
		if (conns)
			conns->prev = c;
		conns = c;
		gw->nconns++;
		ev.data.ptr = &c->ep_client;
		c->ev_client = ev.events;
		if (epoll_ctl(gw->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			conn_free(gw, c);
		else /* accepted once it sent something (TCP_DEFER_ACCEPT): read it now */
			conn_event(gw, c);
	}
}

/* Answers the current request; false when it waits (parked) instead. */
static bool respond(struct gw *gw, struct conn *c)
{
	struct api_resp r = { 0, BUF_INIT };
	struct err e = ERR_INIT;
	char len[24];

	gw->park_expired = c->parked && (now_mono_ms() >= c->park_until_ms || gw->stopping);
	api_handle(gw, &c->parser.msg, &c->body, &r);
	if (r.status == 0) {
		buf_release(&r.body);
		park(gw, c);
		return false;
	}
	unpark(gw, c);
	snprintf(len, sizeof(len), "%zu", r.body.len);
	http_write_status_line(&c->out, r.status, NULL, &e);
	http_write_header(&c->out, "Content-Type", "application/json", &e);
	http_write_header(&c->out, "Content-Length", len, &e);
	if (!c->parser.msg.keep_alive || gw->stopping) {
		http_write_header(&c->out, "Connection", "close", &e);
		c->close_after_write = true;
	}
	http_write_end(&c->out);
	buf_add(&c->out, r.body.p, r.body.len);
	log_debug("api", "request", "method", c->parser.msg.method, "path", c->parser.msg.target,
		  "peer", c->peer, NULL);
	buf_release(&r.body);
	return true;
}

/* After an answer: ready for the connection's next request. */
static void next_request(struct conn *c)
{
	http_parser_reset(&c->parser);
	buf_reset(&c->body);
	c->deadline_ms = now_mono_ms() + GW_IDLE_TIMEOUT_MS;
}

static void respond_error(struct conn *c, int status, const char *why)
{
	struct api_resp r = { status, BUF_INIT };
	struct err e = ERR_INIT;
	char len[24];

	buf_addf(&r.body, "{\"error\":\"%s\",\"message\":\"", status == 431 || status == 413
								       ? "resource_exhausted"
								       : "invalid_argument");
	for (; *why; why++) /* the parser's messages are ASCII; escape what JSON needs */
		if (*why == '"' || *why == '\\')
			buf_addf(&r.body, "\\%c", *why);
		else if ((unsigned char)*why >= 0x20)
			buf_addch(&r.body, *why);
	buf_adds(&r.body, "\"}\n");
	snprintf(len, sizeof(len), "%zu", r.body.len);
	http_write_status_line(&c->out, status, NULL, &e);
	http_write_header(&c->out, "Content-Type", "application/json", &e);
	http_write_header(&c->out, "Content-Length", len, &e);
	http_write_header(&c->out, "Connection", "close", &e);
	http_write_end(&c->out);
	buf_add(&c->out, r.body.p, r.body.len);
	buf_release(&r.body);
	c->close_after_write = true;
}

/* POST /v1/sandboxes/{name}/attach or .../exec: 1 or 2, else 0. */
static int stream_kind(const struct http_msg *m)
{
	size_t plen = strcspn(m->target, "?");

	if (strcmp(m->method, "POST") || !str_has_prefix(m->target, "/v1/sandboxes/"))
		return 0;
	if (plen > 7 && !strncmp(m->target + plen - 7, "/attach", 7))
		return 1;
	if (plen > 5 && !strncmp(m->target + plen - 5, "/exec", 5))
		return 2;
	return 0;
}

static void start_relay(struct gw *gw, struct conn *c);

/* Parses as many complete requests as c->in holds and queues their responses. */
static void process_input(struct gw *gw, struct conn *c)
{
	struct err e = ERR_INIT;

	if (c->parked) { /* requests are answered in order: the waiting one first */
		if (!respond(gw, c))
			return;
		next_request(c);
	}
	while (c->in.len && !c->close_after_write) {
		size_t used = 0;
		int r = http_parse_message(&c->parser, c->in.p, c->in.len, &used, &c->body, &e);

		memmove(c->in.p, c->in.p + used, c->in.len - used);
		buf_setlen(&c->in, c->in.len - used);
		if (r == HTTP_NEED_MORE)
			return;
		if (r == HTTP_ERROR) {
			respond_error(c, http_parser_status(&c->parser), e.msg);
			return;
		}
		if (stream_kind(&c->parser.msg)) {
			start_relay(gw, c);
			return;
		}
		if (!respond(gw, c))
			return;
		next_request(c);
	}
}

/*
 * POST /v1/sandboxes/{name}/attach with "Upgrade: openshell-stream": after 101 the
 * connection carries the frame protocol (lib/frame.h) between the client and the
 * sandbox's supervisor; the gateway relays bytes without parsing them.
 */
static void start_relay(struct gw *gw, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->ep_relay };
	struct err e = ERR_INIT;
	char name[64] = "";
	const char *t = c->parser.msg.target + strlen("/v1/sandboxes/");
	int kind;
	size_t n = strcspn(t, "/");

	if (!c->parser.msg.upgrade || n >= sizeof(name)) {
		respond_error(c, 400, "attach needs Upgrade: openshell-stream");
		return;
	}
	memcpy(name, t, n);
	kind = stream_kind(&c->parser.msg);
	c->relay_fd = sandboxes_connect(gw, name, kind == 2, &e);
	if (c->relay_fd < 0) {
		respond_error(c, err_http_status(e.code), e.msg);
		return;
	}
	c->ev_relay = ev.events;
	if (epoll_ctl(gw->epoll_fd, EPOLL_CTL_ADD, c->relay_fd, &ev) < 0) {
		respond_error(c, 500, "cannot watch the supervisor's socket");
		return;
	}
	http_write_status_line(&c->out, 101, NULL, &e);
	http_write_header(&c->out, "Upgrade", "openshell-stream", &e);
	http_write_header(&c->out, "Connection", "Upgrade", &e);
	http_write_end(&c->out);
	/* the supervisor learns from the first frame what the connection is for */
	frame_put(&c->to_relay, FRAME_DATA, kind == 2 ? "exec" : "attach", kind == 2 ? 4 : 6, &e);
	buf_add(&c->to_relay, c->in.p, c->in.len); /* frames sent right behind the request */
	buf_reset(&c->in);
	c->deadline_ms = INT64_MAX; /* a session may stay idle as long as it likes */
	log_info("api", kind == 2 ? "exec" : "attach", "sandbox", name, "peer", c->peer, NULL);
}

/* Relay mode: moves bytes between the client's plaintext buffers and the relay socket.
 * Reads first: a supervisor that is done may have closed its end after its last frames,
 * which must still reach the client even though our writes to it now fail. */
static int relay_io(struct conn *c)
{
	char chunk[16384];
	ssize_t r;

	while (c->out.len <= RELAY_BUF_MAX) {
		r = read(c->relay_fd, chunk, sizeof(chunk));
		if (r > 0) {
			buf_add(&c->out, chunk, (size_t)r);
			continue;
		}
		if (r == 0 || errno == ECONNRESET)
			c->close_after_write = true; /* the supervisor is done */
		else if (errno != EAGAIN)
			return -1;
		break;
	}
	if (c->in.len) {
		buf_add(&c->to_relay, c->in.p, c->in.len);
		buf_reset(&c->in);
	}
	while (c->to_relay.len && !c->close_after_write) {
		r = write(c->relay_fd, c->to_relay.p, c->to_relay.len);
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) { /* EPIPE: the supervisor left; deliver what it said */
			c->close_after_write = true;
			break;
		}
		memmove(c->to_relay.p, c->to_relay.p + r, c->to_relay.len - (size_t)r);
		buf_setlen(&c->to_relay, c->to_relay.len - (size_t)r);
	}
	if (c->close_after_write)
		buf_reset(&c->to_relay);
	return 0;
}

/* Plaintext: socket <-> c->in / c->out. Returns -1 when the connection is done. */
static int plain_io(struct conn *c)
{
	char chunk[16384];

	for (;;) {
		ssize_t r = recv(c->fd, chunk, sizeof(chunk), 0);

		if (r > 0) {
			buf_add(&c->in, chunk, (size_t)r);
			if (c->in.len > 4 * HTTP_HEAD_MAX_GATEWAY + (1u << 20))
				return -1; /* the peer sends far more than one request can hold */
			continue;
		}
		if (r == 0)
			c->peer_closed = true;
		else if (errno == EINTR)
			continue;
		else if (errno != EAGAIN)
			return -1;
		break;
	}
	return 0;
}

static int plain_flush(struct conn *c)
{
	size_t off = 0;

	while (off < c->out.len) {
		ssize_t r = send(c->fd, c->out.p + off, c->out.len - off, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r < 0)
			return -1;
		off += (size_t)r;
	}
	memmove(c->out.p, c->out.p + off, c->out.len - off);
	buf_setlen(&c->out, c->out.len - off);
	return 0;
}

/* TLS: drive the engine; application data in and out through c->in / c->out. */
static int tls_io(struct gw *gw, struct conn *c)
{
	int st = tls_server_conn_pump(c->tls, c->fd, &c->in, &c->out);

	(void)gw;
	if (st == TLS_PUMP_CLOSED)
		c->peer_closed = true;
	if (st == TLS_PUMP_ERROR) {
		log_info("api", "TLS connection refused", "peer", c->peer, "reason",
			 tls_server_conn_error(c->tls), NULL);
		return -1;
	}
	if (st != TLS_PUMP_HANDSHAKE && !c->established) { /* from the handshake deadline to idle */
		c->established = true;
		c->deadline_ms = now_mono_ms() + GW_IDLE_TIMEOUT_MS;
	}
	return 0;
}

/* Stop reading the client: its relay is backed up, or it sends on while its request waits. */
static bool client_input_full(const struct conn *c)
{
	if (c->parked)
		return c->in.len > PARKED_INPUT_MAX;
	return c->relay_fd >= 0 && c->to_relay.len + c->in.len > RELAY_BUF_MAX;
}

static void conn_event(struct gw *gw, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->ep_client };
	bool pending;
	int round;

	if (!client_input_full(c) && (c->tls ? tls_io(gw, c) : plain_io(c)) < 0)
		goto close;
	/* A TLS pump may read more client bytes while it sends: go around until nothing moves. */
	for (round = 0; round < 8; round++) {
		size_t in_before = c->in.len;

		if (c->relay_fd < 0)
			process_input(gw, c);
		/* a relay that just started: the supervisor hears first, the 101 follows */
		if (c->relay_fd >= 0 && relay_io(c) < 0)
			goto close;
		if (c->tls ? tls_io(gw, c) < 0 : plain_flush(c) < 0)
			goto close;
		if (!c->in.len || (c->relay_fd < 0 && c->in.len == in_before))
			break;
	}
	pending = c->tls ? tls_server_conn_wants_write(c->tls) || c->out.len : c->out.len > 0;
	if (!pending && (c->close_after_write || c->peer_closed))
		goto close;
	if (pending)
		ev.events |= EPOLLOUT;
	if (client_input_full(c))
		ev.events &= ~(uint32_t)EPOLLIN;
	/* a system call only when the interest changes */
	if (ev.events != c->ev_client && epoll_ctl(gw->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ev_client = ev.events;
	if (c->relay_fd >= 0) {
		struct epoll_event rev = { .events = (c->out.len > RELAY_BUF_MAX ? 0 : EPOLLIN) |
						     (c->to_relay.len ? EPOLLOUT : 0),
					   .data.ptr = &c->ep_relay };

		if (rev.events != c->ev_relay &&
		    epoll_ctl(gw->epoll_fd, EPOLL_CTL_MOD, c->relay_fd, &rev) == 0)
			c->ev_relay = rev.events;
	}
	return;
close:
	conn_free(gw, c);
}

static void endpoint_event(struct gw *gw, struct endpoint *ep)
{
	if (ep->c->fd >= 0) /* not closed earlier in this batch */
		conn_event(gw, ep->c);
}

/* Asks the waiting requests again: all of them after an inotify event (woken), else
 * those whose time is up or whose periodic recheck is due. */
static void wake_parked(struct gw *gw, bool woken)
{
	int64_t now = now_mono_ms();
	struct conn *c, *next;

	for (c = conns; c; c = next) {
		next = c->next;
		if (c->parked && (woken || now >= c->park_until_ms || now >= c->park_recheck_ms))
			conn_event(gw, c);
	}
}

static bool drain_inotify(struct gw *gw)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;

	while (read(gw->inotify_fd, ev, sizeof(ev)) > 0)
		any = true;
	return any;
}

/* epoll_wait's timeout: shorter while requests wait. */
static int loop_timeout(void)
{
	int64_t now = now_mono_ms(), t = 1000;
	const struct conn *c;

	for (c = conns; c; c = c->next) {
		if (!c->parked)
			continue;
		if (c->park_recheck_ms - now < t)
			t = c->park_recheck_ms - now;
		if (c->park_until_ms - now < t)
			t = c->park_until_ms - now;
	}
	return t < 0 ? 0 : (int)t;
}

static void expire(struct gw *gw)
{
	int64_t now = now_mono_ms();
	struct conn *c = conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (now >= c->deadline_ms) {
			log_debug("api", "connection timed out", "peer", c->peer, NULL);
			conn_free(gw, c);
		}
	}
}

static int setup_loop(struct gw *gw, struct err *e)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot block signals");
	gw->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	gw->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (gw->signal_fd < 0 || gw->epoll_fd < 0)
		return err_sys(e, ERR_RUNTIME, "cannot set up the event loop");
	ev.data.u64 = (uint64_t)(int64_t)EV_LISTEN;
	if (epoll_ctl(gw->epoll_fd, EPOLL_CTL_ADD, gw->listen_fd, &ev) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot watch the listening socket");
	ev.data.u64 = (uint64_t)(int64_t)EV_SIGNAL;
	if (epoll_ctl(gw->epoll_fd, EPOLL_CTL_ADD, gw->signal_fd, &ev) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot watch signals");
	gw->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ev.data.u64 = (uint64_t)(int64_t)EV_INOTIFY;
	/* without inotify, waiting requests are answered by their periodic recheck */
	if (gw->inotify_fd >= 0 && epoll_ctl(gw->epoll_fd, EPOLL_CTL_ADD, gw->inotify_fd, &ev) < 0) {
		close(gw->inotify_fd);
		gw->inotify_fd = -1;
	}
	return 0;
}

static void handle_signal(struct gw *gw)
{
	struct signalfd_siginfo si;

	while (read(gw->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue; /* no configuration to reload yet */
		log_info("gateway", "stopping", "signal", si.ssi_signo == SIGTERM ? "TERM" : "INT", NULL);
		gw->stopping = true;
	}
}

/* The self-check recorded as last_health_check: the database answers and we listen. */
static void health_tick(struct gw *gw, int64_t *next)
{
	struct err e = ERR_INIT;
	struct gw_settings s;

	if (now_mono_ms() < *next)
		return;
	*next = now_mono_ms() + GW_HEALTH_INTERVAL_MS;
	if (store_gateway_get(gw->store, &s, &e) < 0 ||
	    store_gateway_health(gw->store, now_wall_ms(), &e) < 0)
		log_error("gateway", "health check failed", "error", e.msg, NULL);
}

int gw_serve(struct gw *gw, struct err *e)
{
	struct epoll_event evs[64];
	int64_t next_health = 0;

	if (setup_loop(gw, e) < 0)
		return -1;
	while (!gw->stopping) {
		int n = epoll_wait(gw->epoll_fd, evs, 64, loop_timeout()), i;
		bool woken = false;

		if (n < 0 && errno != EINTR)
			return err_sys(e, ERR_RUNTIME, "event loop failed");
		for (i = 0; i < n; i++) {
			int64_t tag = (int64_t)evs[i].data.u64;

			if (tag == EV_LISTEN)
				accept_all(gw);
			else if (tag == EV_SIGNAL)
				handle_signal(gw);
			else if (tag == EV_INOTIFY)
				woken |= drain_inotify(gw);
			else
				endpoint_event(gw, evs[i].data.ptr);
		}
		wake_parked(gw, woken);
		reap_dead();
		expire(gw);
		reap_dead();
		health_tick(gw, &next_health);
	}
	while (conns)
		conn_free(gw, conns);
	reap_dead();
	if (spare) {
		http_parser_release(&spare->parser);
		free(spare);
		spare = NULL;
	}
	close(gw->epoll_fd);
	close(gw->signal_fd);
	if (gw->inotify_fd >= 0)
		close(gw->inotify_fd);
	return 0;
}
