// SPDX-License-Identifier: Apache-2.0
/*
 * The HTTP relay: requests inside an allowed tunnel (plain HTTP to an L7 endpoint) or on
 * the forward proxy are parsed one by one, their targets canonicalised (reference/policy.md
 * §4.8.2), checked against the tunnel's authority and the L7 rules (§4.8.3), and forwarded
 * with a rewritten head (hop-by-hop fields dropped, one framing field written from what
 * was parsed) and exactly their framed body; the response is relayed the same way before
 * the next request is read, so no byte reaches the upstream unchecked. A superseded policy
 * generation ends the connection at the next request boundary at the latest. Only a
 * websocket upgrade that the client asked for turns into a raw relay; h2c is never offered
 * upstream. The forward proxy carries one request per connection, with the Host taken from
 * the URL (reference/supervisor.md §4.6).
 */
#include "proxy_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/http.h"
#include "lib/log.h"
#include "lib/util.h"

#define IO_CHUNK 16384
#define IDLE_MS (120 * 1000) /* between requests and for a head to arrive */

struct side {
	int fd;
	struct buf in; /* bytes read and not yet consumed */
	bool eof;
};

/* One recv into s (called when poll said readable); -1 on error. */
static int recv_into(struct side *s)
{
	char chunk[IO_CHUNK];
	ssize_t n;

	do
		n = recv(s->fd, chunk, sizeof(chunk), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		s->eof = true;
	buf_add(&s->in, chunk, (size_t)n);
	return 0;
}

/* Waits for s to be readable and reads once; -1 on error, when the generation is
 * superseded or the deadline passes. */
static int fill(struct conn *c, struct side *s, int64_t deadline)
{
	for (;;) {
		struct pollfd p[2] = { { s->fd, POLLIN, 0 }, { c->gen->hup_rd, POLLIN, 0 } };
		int64_t left = deadline - now_mono_ms();

		if (left <= 0)
			return -1;
		if (poll(p, 2, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents)
			return -1; /* a new policy: connections of the old one close */
		if (p[0].revents)
			return recv_into(s);
	}
}

static void consume(struct side *s, size_t n)
{
	memmove(s->in.p, s->in.p + n, s->in.len - n);
	buf_setlen(&s->in, s->in.len - n);
}

/* Reads until p has a head; 1 done, 0 end of the connection (clean, idle, superseded),
 * -1 error (answered when the client can be told). */
static int read_head(struct conn *c, struct side *s, struct http_parser *p)
{
	int64_t deadline = now_mono_ms() + IDLE_MS;
	struct err e = ERR_INIT;

	for (;;) {
		size_t used = 0;
		int r = s->in.len ? http_parse_head(p, s->in.p, s->in.len, &used, &e) : 0;

		consume(s, used);
		if (r == HTTP_DONE)
			return 1;
		if (r == HTTP_ERROR) {
			reply_status(c, http_parser_status(p));
			return -1;
		}
		if (s->eof)
			return http_parse_eof(p, &e) == HTTP_NEED_MORE ? 0 : -1;
		if (fill(c, s, deadline) < 0)
			return 0;
	}
}

/* Fields that describe this hop or the framing: never copied; what is needed is written
 * anew (reference/supervisor.md §4.6). */
static bool hop_field(const struct http_msg *m, const char *name, bool forward)
{
	static const char *const hop[] = { "Connection", "Proxy-Connection", "Keep-Alive",
					   "Proxy-Authorization", "Proxy-Authenticate", "Upgrade",
					   "HTTP2-Settings", "TE", "Trailer", "Transfer-Encoding",
					   "Content-Length" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hop); i++)
		if (!strcasecmp(name, hop[i]))
			return true;
	if (forward && !strcasecmp(name, "Host"))
		return true;
	return http_header_has_token(m, "Connection", name);
}

/* A websocket upgrade the client asked for; anything else (h2c above all) is not offered. */
static bool wants_websocket(const struct http_msg *m)
{
	return m->upgrade && http_header_has_token(m, "Upgrade", "websocket");
}

static void write_request_head(struct buf *out, const struct conn *c, const struct http_msg *m,
			       const char *path, const char *query, bool forward)
{
	struct buf target = BUF_INIT, host = BUF_INIT;
	struct err e = ERR_INIT;
	char len[24];
	size_t i;

	buf_adds(&target, path);
	if (query)
		buf_addf(&target, "?%s", query);
	http_write_request_line(out, m->method, target.p, &e);
	if (forward) {
		if (c->port == 80) /* the default port is left out, as a client writes it */
			buf_addf(&host, c->ipv6 ? "[%s]" : "%s", c->host);
		else
			url_add_authority(&host, c->host, c->ipv6, c->port);
		http_write_header(out, "Host", host.p, &e);
	}
	for (i = 0; i < m->nfields; i++)
		if (!hop_field(m, m->fields[i].name, forward))
			http_write_header(out, m->fields[i].name, m->fields[i].value, &e);
	if (m->framing == HTTP_BODY_LENGTH) {
		snprintf(len, sizeof(len), "%llu", (unsigned long long)m->content_length);
		http_write_header(out, "Content-Length", len, &e);
	} else if (m->framing == HTTP_BODY_CHUNKED) {
		http_write_header(out, "Transfer-Encoding", "chunked", &e);
	}
	if (wants_websocket(m)) {
		http_write_header(out, "Connection", "Upgrade", &e);
		http_write_header(out, "Upgrade", "websocket", &e);
	} else if (forward || !m->keep_alive) {
		http_write_header(out, "Connection", "close", &e);
	}
	if (forward && !http_header_get(m, "Via"))
		http_write_header(out, "Via", "1.1 openshell-sandbox", &e);
	http_write_end(out);
	buf_release(&target);
	buf_release(&host);
}

/* The request's Host must name the tunnel's host and port (§4.8.2). */
static bool authority_matches(const struct conn *c, const struct http_msg *m)
{
	const char *h = http_header_get(m, "Host");
	char host[URL_HOST_MAX + 1];
	uint16_t port = 0;
	bool v6;
	size_t n;
	struct err e = ERR_INIT;

	if (!h)
		return m->minor == 0;
	n = strlen(h);
	if (n && h[n - 1] == '.')
		n--;
	if (url_parse_authority(h, n, false, host, &v6, &port, &e) < 0)
		return false;
	n = strlen(host);
	if (n && host[n - 1] == '.')
		host[n - 1] = '\0';
	if (!port)
		port = c->port == 443 ? 443 : 80;
	return !strcasecmp(host, c->host) && port == c->port;
}

/* Canonical path and query of the request; -1 after a refusal was answered. */
static int canonical_target(struct conn *c, const struct http_msg *m, struct http_canon *hc)
{
	struct err e = ERR_INIT;
	unsigned flags = 0;
	size_t i;

	if (!pol_l4_needs_l7(&c->l4) && m->form == HTTP_FORM_ABSOLUTE) {
		struct url u = URL_INIT; /* no L7 rules: the path goes on as the client wrote it */

		if (url_parse(&u, m->target, &e) == 0)
			buf_adds(&hc->path, u.path);
		url_release(&u);
		if (hc->path.len)
			return 0;
	}
	for (i = 0; i < c->l4.n_ext; i++)
		if (c->l4.ext[i]->allow_encoded_slash)
			flags |= HTTP_CANON_ENCODED_SLASH;
	if (http_target_canon(hc, m->target, flags, &e) == 0)
		return 0;
	log_decision(c, "DENIED", "HTTP:REQUEST", e.msg);
	reply_json_error(c, 400, "invalid_request_target", e.msg);
	return -1;
}

/* 1 forward, 0 refused (answered). */
static int check_request(struct conn *c, const struct http_msg *m, const struct http_canon *hc,
			 bool tunnel)
{
	struct pol_l7_input in = { m->method, hc->path.p, hc->query };
	struct pol_l7_decision d;
	int ok = 1;

	if (tunnel && !authority_matches(c, m)) {
		log_decision(c, "DENIED", "HTTP:REQUEST", "request authority does not match the tunnel");
		reply_json_error(c, 403, "request_authority_mismatch",
				 "HTTP request authority does not match the authorized tunnel endpoint");
		return 0;
	}
	if (!pol_l4_needs_l7(&c->l4))
		return 1;
	pol_l7_decision_init(&d);
	pol_eval_l7(&c->gen->pol, &c->in, &c->l4, &in, &d);
	if (d.allow) {
		log_decision(c, "ALLOWED", "HTTP:REQUEST", "");
	} else if (d.enforce || d.hard) {
		log_decision(c, "DENIED", "HTTP:REQUEST", d.reason.p);
		reply_l7_denied(c, &d, m->method, hc->path.p);
		ok = 0;
	} else {
		log_decision(c, "AUDIT", "HTTP:REQUEST", d.reason.p);
	}
	pol_l7_decision_release(&d);
	return ok;
}

/* Feeds s's buffered bytes through p's body framing and forwards the ones that belong to
 * the message (all of a slice, framing bytes included, exactly as received). */
static int pump(struct http_parser *p, struct side *s, int to, bool *done)
{
	struct err e = ERR_INIT;
	size_t off = 0, used, dn;
	const char *d;
	int r;

	do {
		r = http_parse_body(p, s->in.p + off, s->in.len - off, &used, &d, &dn, &e);
		off += used;
	} while (r == HTTP_BODY);
	if (r == HTTP_ERROR || (off && proxy_send_all(to, s->in.p, off) < 0))
		return -1;
	consume(s, off);
	*done = r == HTTP_DONE;
	return 0;
}

struct exch {
	struct http_parser resp;
	bool req_done, head, done, sent; /* sent: bytes of the response reached the client */
};

/* One response head from up: 1 final head, 0 need more or an interim (100) head relayed,
 * -1 bad. */
static int response_head(struct exch *x, struct side *up, int to, const char *method)
{
	struct err e = ERR_INIT;
	size_t used = 0;
	int r = http_parse_head(&x->resp, up->in.p, up->in.len, &used, &e);

	if (r == HTTP_ERROR || (used && proxy_send_all(to, up->in.p, used) < 0))
		return -1;
	x->sent |= used > 0;
	consume(up, used);
	if (r != HTTP_DONE)
		return 0;
	if (x->resp.msg.status < 200 && x->resp.msg.status != 101) {
		http_parser_reset(&x->resp); /* 100 Continue and friends: another head follows */
		http_parser_set_method(&x->resp, method);
		return 0;
	}
	return 1;
}

/* Moves what can move now; -1 to close, 1 upgraded, 0 go on. */
static int exchange_step(struct exch *x, struct side *cl, struct side *up,
			 const struct http_msg *req, struct http_parser *rq)
{
	struct err e = ERR_INIT;

	if (!x->req_done && pump(rq, cl, up->fd, &x->req_done) < 0)
		return -1;
	if (!x->head && up->in.len) {
		int r = response_head(x, up, cl->fd, req->method);

		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		x->head = true;
		if (x->resp.msg.status == 101)
			return wants_websocket(req) && x->req_done ? 1 : -1;
	}
	if (x->head && pump(&x->resp, up, cl->fd, &x->done) < 0)
		return -1;
	if (x->head)
		x->sent = true;
	if (!x->done && up->eof) {
		if (!x->head || http_parse_eof(&x->resp, &e) != HTTP_DONE)
			return -1;
		x->done = true;
	}
	return 0;
}

/* Forwards the request's body and relays the response: 1 the connection can carry another
 * request, 2 upgraded, 0 close. */
static int exchange(struct conn *c, struct side *cl, struct side *up, struct http_parser *rq)
{
	struct http_limits lim = { HTTP_HEAD_MAX_GATEWAY, HTTP_FIELDS_MAX, HTTP_BODY_UNLIMITED,
				   HTTP_TRAILER_MAX };
	const struct http_msg *req = &rq->msg;
	struct exch x = { .req_done = false };
	int ret = 0, r;

	http_parser_init(&x.resp, HTTP_RESPONSE, &lim);
	http_parser_set_method(&x.resp, req->method);
	while (!x.done) {
		struct pollfd p[3] = { { x.req_done || cl->eof ? -1 : cl->fd, POLLIN, 0 },
				       { up->eof ? -1 : up->fd, POLLIN, 0 },
				       { c->gen->hup_rd, POLLIN, 0 } };

		r = exchange_step(&x, cl, up, req, rq);
		if (r != 0) {
			ret = r > 0 ? 2 : 0;
			goto out;
		}
		if (x.done || (cl->eof && !x.req_done && !cl->in.len))
			break;
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			goto out;
		if (p[2].revents)
			goto out;
		if ((p[0].revents && recv_into(cl) < 0) || (p[1].revents && recv_into(up) < 0))
			goto out;
	}
	ret = x.done && x.req_done && req->keep_alive && x.resp.msg.keep_alive &&
	      x.resp.msg.framing != HTTP_BODY_UNTIL_CLOSE;
out:
	if (!x.sent && ret == 0 && !x.done)
		reply_text(c, 502, "the upstream's response is not valid HTTP/1.1");
	http_parser_release(&x.resp);
	return ret;
}

void relay_http(struct conn *c, struct http_parser *first)
{
	struct side cl = { c->cfd, BUF_INIT, false }, up = { c->ufd, BUF_INIT, false };
	struct http_limits lim = { HTTP_HEAD_MAX_GATEWAY, HTTP_FIELDS_MAX, HTTP_BODY_UNLIMITED,
				   HTTP_TRAILER_MAX };
	struct http_parser own, *req = first;
	bool forward = first != NULL;
	int more = 1;

	buf_add(&cl.in, c->early.p, c->early.len);
	buf_reset(&c->early);
	http_parser_init(&own, HTTP_REQUEST, &lim);
	while (more == 1) {
		struct http_canon hc = HTTP_CANON_INIT;
		struct buf head = BUF_INIT;

		if (!req) {
			http_parser_reset(&own);
			req = &own;
			if (read_head(c, &cl, req) <= 0)
				break;
		}
		if (gen_stale(c->px, c->gen))
			break; /* decided under a policy that is no longer in force */
		more = canonical_target(c, &req->msg, &hc) == 0 &&
		       check_request(c, &req->msg, &hc, !forward);
		if (more) {
			write_request_head(&head, c, &req->msg, hc.path.p, hc.query, forward);
			more = proxy_send_all(c->ufd, head.p, head.len) == 0 ? exchange(c, &cl, &up, req) : 0;
		}
		buf_release(&head);
		http_canon_release(&hc);
		req = NULL;
		if (forward && more == 1)
			more = 0; /* the forward proxy carries one request per connection */
	}
	if (more == 2 && proxy_send_all(c->cfd, up.in.p, up.in.len) == 0) {
		buf_add(&c->early, cl.in.p, cl.in.len); /* upgraded: buffered bytes first, then raw */
		relay_raw(c);
	}
	http_parser_release(&own);
	buf_release(&cl.in);
	buf_release(&up.in);
}
