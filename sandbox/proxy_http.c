// SPDX-License-Identifier: Apache-2.0
/*
 * The HTTP relay: requests inside an allowed tunnel (plain HTTP) or on the forward proxy
 * are parsed one by one, their targets canonicalised (reference/policy.md §4.8.2),
 * checked against the tunnel's authority and the L7 rules (§4.8.3), and forwarded with
 * exactly their framed body; the response is relayed the same way before the next
 * request is read, so no byte reaches the upstream unchecked. An allowed upgrade (101)
 * turns into a raw relay.
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

#define IO_CHUNK 16384

struct side {
	int fd;
	struct buf in; /* bytes read and not yet consumed */
	bool eof;
};

static int fill(struct side *s)
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

static void consume(struct side *s, size_t n)
{
	memmove(s->in.p, s->in.p + n, s->in.len - n);
	buf_setlen(&s->in, s->in.len - n);
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads until p has a head; 1 done, 0 clean end of the connection, -1 error (answered). */
static int read_head(struct conn *c, struct side *s, struct http_parser *p)
{
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
		if (fill(s) < 0)
			return -1;
	}
}

static bool hop_by_hop(const char *name)
{
	return !strcasecmp(name, "Proxy-Connection") || !strcasecmp(name, "Proxy-Authorization") ||
	       !strcasecmp(name, "Keep-Alive");
}

static void write_request_head(struct buf *out, const struct http_msg *m, const char *path,
			       const char *query)
{
	struct buf target = BUF_INIT;
	struct err e = ERR_INIT;
	size_t i;

	buf_adds(&target, path);
	if (query)
		buf_addf(&target, "?%s", query);
	http_write_request_line(out, m->method, target.p, &e);
	for (i = 0; i < m->nfields; i++)
		if (!hop_by_hop(m->fields[i].name))
			http_write_header(out, m->fields[i].name, m->fields[i].value, &e);
	http_write_end(out);
	buf_release(&target);
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
	reply_text(c, 400, "invalid request-target");
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

/* Forwards the request's body (exactly its framing) and relays the response; returns 1
 * when the connection can carry another request, 2 for an upgrade, 0 to close. */
static int exchange(struct conn *c, struct side *cl, struct side *up, struct http_parser *req)
{
	struct http_parser resp;
	struct http_limits lim = { HTTP_HEAD_MAX_GATEWAY, HTTP_FIELDS_MAX, HTTP_BODY_UNLIMITED,
				   HTTP_TRAILER_MAX };
	struct err e = ERR_INIT;
	bool req_done = req->msg.framing == HTTP_BODY_NONE, resp_head = false, resp_done = false;
	int ret = 0;

	http_parser_init(&resp, HTTP_RESPONSE, &lim);
	http_parser_set_method(&resp, req->msg.method);
	while (!resp_done) {
		struct pollfd p[3] = { { cl->fd, req_done || cl->eof || cl->in.len ? 0 : POLLIN, 0 },
				       { up->fd, up->eof || up->in.len ? 0 : POLLIN, 0 },
				       { c->gen->hup_rd, POLLIN, 0 } };
		size_t used;
		const char *d;
		size_t dn;
		int r;

		if (!req_done && cl->in.len) {
			r = http_parse_body(req, cl->in.p, cl->in.len, &used, &d, &dn, &e);
			if (r == HTTP_ERROR || send_all(up->fd, cl->in.p, used) < 0)
				goto out;
			consume(cl, used);
			req_done = r == HTTP_DONE;
			continue;
		}
		if (up->in.len && !resp_head) {
			r = http_parse_head(&resp, up->in.p, up->in.len, &used, &e);
			if (r == HTTP_ERROR || send_all(cl->fd, up->in.p, used) < 0)
				goto out;
			consume(up, used);
			if (r == HTTP_DONE && resp.msg.status < 200 && resp.msg.status != 101) {
				http_parser_reset(&resp); /* 100 Continue and friends: another head */
				http_parser_set_method(&resp, req->msg.method);
			} else if (r == HTTP_DONE) {
				resp_head = true;
				if (resp.msg.upgrade) {
					ret = 2;
					goto out;
				}
				resp_done = resp.msg.framing == HTTP_BODY_NONE;
			}
			continue;
		}
		if (up->in.len) {
			r = http_parse_body(&resp, up->in.p, up->in.len, &used, &d, &dn, &e);
			if (r == HTTP_ERROR || send_all(cl->fd, up->in.p, used) < 0)
				goto out;
			consume(up, used);
			resp_done = r == HTTP_DONE;
			continue;
		}
		if (up->eof) {
			if (resp_head && http_parse_eof(&resp, &e) == HTTP_DONE)
				resp_done = true;
			else
				goto out;
			continue;
		}
		if (cl->eof && !req_done)
			goto out;
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			goto out;
		if (p[2].revents)
			goto out;
		if ((p[0].revents && fill(cl) < 0) || (p[1].revents && fill(up) < 0))
			goto out;
	}
	ret = req_done && req->msg.keep_alive && resp.msg.keep_alive &&
	      resp.msg.framing != HTTP_BODY_UNTIL_CLOSE;
out:
	http_parser_release(&resp);
	return ret;
}

/* For the forward proxy: a later request must go to the same upstream. */
static bool same_upstream(const struct conn *c, const struct http_msg *m)
{
	struct url u = URL_INIT;
	struct err e = ERR_INIT;
	bool same;

	if (m->form != HTTP_FORM_ABSOLUTE)
		return false;
	same = url_parse(&u, m->target, &e) == 0 && !strcmp(u.scheme, "http") &&
	       !strcmp(u.host, c->host) && u.port == c->port;
	url_release(&u);
	return same;
}

void relay_http(struct conn *c, struct http_parser *first)
{
	struct side cl = { c->cfd, BUF_INIT, false }, up = { c->ufd, BUF_INIT, false };
	struct http_limits lim = { HTTP_HEAD_MAX_GATEWAY, HTTP_FIELDS_MAX, HTTP_BODY_UNLIMITED,
				   HTTP_TRAILER_MAX };
	struct http_parser own, *req = first;
	bool tunnel = !first;
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
			if (!tunnel && !same_upstream(c, &req->msg))
				break; /* another origin: the client opens a new connection */
		}
		more = canonical_target(c, &req->msg, &hc) == 0 &&
		       check_request(c, &req->msg, &hc, tunnel);
		if (more) {
			write_request_head(&head, &req->msg, hc.path.p, hc.query);
			more = send_all(c->ufd, head.p, head.len) == 0 ? exchange(c, &cl, &up, req) : 0;
		}
		buf_release(&head);
		http_canon_release(&hc);
		req = NULL;
	}
	if (more == 2) { /* upgraded: what is buffered goes first, then raw bytes */
		if (send_all(c->cfd, up.in.p, up.in.len) == 0) {
			buf_add(&c->early, cl.in.p, cl.in.len);
			relay_raw(c);
		}
	}
	http_parser_release(&own);
	buf_release(&cl.in);
	buf_release(&up.in);
}
