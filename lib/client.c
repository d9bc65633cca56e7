/* SPDX-License-Identifier: Apache-2.0 */
/* Gateway resolution and blocking API calls; see client.h. */
#include "client.h"
#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "http.h"
#include "json.h"
#include "tls.h"
#include "tls_session.h"
#include "util.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 5000
#define IO_TIMEOUT_S 30
#define RESP_BODY_MAX (16u << 20)

static bool same_endpoint(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la && a[la - 1] == '/')
		la--;
	while (lb && b[lb - 1] == '/')
		lb--;
	return la == lb && !strncasecmp(a, b, la);
}

/* With --gateway-endpoint: the registered gateway with that endpoint, if any. */
static void name_for_endpoint(const char *endpoint, struct gw_target *t)
{
	struct err e = ERR_INIT;
	struct gw_list l;
	char active[CFG_NAME_MAX] = "";
	size_t i;

	if (cfg_list(&l, &e) < 0)
		return;
	cfg_get_active(active, sizeof(active), &e);
	for (i = 0; i < l.n; i++) {
		if (!same_endpoint(l.v[i].endpoint, endpoint))
			continue;
		if (!t->registered || !strcmp(l.v[i].name, active)) {
			t->meta = l.v[i];
			t->registered = true;
		}
	}
	if (t->registered)
		snprintf(t->name, sizeof(t->name), "%s", t->meta.name);
	cfg_list_free(&l);
}

int client_resolve(const char *name_flag, const char *endpoint_flag, struct gw_target *t,
		   struct err *e)
{
	memset(t, 0, sizeof(*t));
	if (endpoint_flag) {
		snprintf(t->endpoint, sizeof(t->endpoint), "%s", endpoint_flag);
		if (name_flag) {
			snprintf(t->name, sizeof(t->name), "%s", name_flag);
			t->registered = cfg_load(name_flag, &t->meta, e) == 0;
			err_clear(e);
		} else {
			name_for_endpoint(endpoint_flag, t);
			if (!t->registered)
				snprintf(t->name, sizeof(t->name), "%s", endpoint_flag);
		}
	} else {
		if (name_flag)
			snprintf(t->name, sizeof(t->name), "%s", name_flag);
		else if (cfg_get_active(t->name, sizeof(t->name), e) < 0)
			return -1;
		if (!t->name[0])
			return err_set(e, ERR_NOTFOUND, 0, "no active gateway"),
			       err_hint(e, "start one with 'openshell gateway start', select one with "
					   "'openshell gateway select <name>', or register one with "
					   "'openshell gateway add <endpoint>'");
		if (cfg_load(t->name, &t->meta, e) < 0) {
			if (e->code == ERR_NOTFOUND)
				err_hint(e, "list the registered gateways with 'openshell gateway list'");
			return -1;
		}
		t->registered = true;
		snprintf(t->endpoint, sizeof(t->endpoint), "%s", t->meta.endpoint);
	}
	t->tls = strncasecmp(t->endpoint, "https://", 8) == 0;
	if (t->tls && t->registered && cfg_mtls_dir(t->meta.name, t->mtls_dir, sizeof(t->mtls_dir), e) < 0)
		return -1;
	return 0;
}

static int tcp_connect(const struct url *u, struct err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	char port[8];
	int fd = -1, r, last = ECONNREFUSED;

	snprintf(port, sizeof(port), "%u", u->port);
	r = getaddrinfo(u->host, port, &hints, &res);
	if (r != 0)
		return err_set(e, ERR_UNAVAILABLE, 0, "cannot resolve '%s': %s", u->host,
			       gai_strerror(r));
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && poll(&pfd, 1, CONNECT_TIMEOUT_MS) == 1 &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0))
			break;
		last = soerr ? soerr : errno == EINPROGRESS ? ETIMEDOUT : errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err_set(e, ERR_UNAVAILABLE, last, "cannot connect to %s port %u", u->host,
			       u->port);
	/* blocking from here on, with timeouts on every read and write; no Nagle delay on
	 * the small records of the TLS handshake and of requests */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

struct conn {
	int fd;
	struct tls_client *tls;
};

static const char *tls_server_name(const struct url *u);

/*
 * The client bundle, loaded once per process (a command talks to one gateway), and its TLS
 * session: every connection after the first resumes it, and so does the next command,
 * through C/gateways/<name>/tls_session (0600, beside the key, which grants as much).
 */
static struct {
	char mtls_dir[sizeof(((struct gw_target *)0)->mtls_dir)];
	dev_t dev; /* the bundle directory: `gateway start` installs a new one by rename */
	ino_t ino;
	char session_path[PATH_MAX]; /* "" when there is nowhere to keep it */
	struct tls_client_cfg *cfg;
} tls_cache;

static void session_path_for(const struct gw_target *t, char *dst, size_t n)
{
	struct err e = ERR_INIT;
	char dir[PATH_MAX];

	dst[0] = '\0';
	if (t->registered && cfg_gateway_dir(t->meta.name, dir, sizeof(dir), &e) == 0 &&
	    path_join(dst, n, dir, "tls_session", &e) < 0)
		dst[0] = '\0';
}

/* True when the kept session was taken (a missing, damaged or expired file only costs a
 * full handshake). */
static bool session_restore(void)
{
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	bool ok = false;

	if (tls_cache.session_path[0] &&
	    read_file(tls_cache.session_path, TLS_SESSION_BLOB_LEN, &b, &e) == 0)
		ok = tls_client_cfg_session_import(tls_cache.cfg, (const unsigned char *)b.p,
						   b.len, now_wall_ms()) == 0;
	if (b.p)
		explicit_bzero(b.p, b.len);
	buf_release(&b);
	return ok;
}

static void session_keep(void)
{
	struct err e = ERR_INIT;
	unsigned char blob[TLS_SESSION_BLOB_LEN];

	/* best effort: without the file the next command makes a full handshake */
	if (tls_cache.session_path[0] &&
	    tls_client_cfg_session_export(tls_cache.cfg, blob, now_wall_ms()))
		write_file_replace(tls_cache.session_path, blob, sizeof(blob), 0600, &e);
	explicit_bzero(blob, sizeof(blob));
}

static struct tls_client_cfg *client_tls_cfg(const struct gw_target *t, struct err *e)
{
	struct stat st = { 0 };

	stat(t->mtls_dir, &st); /* a missing bundle fails in the load below, with a hint */
	if (tls_cache.cfg && !strcmp(tls_cache.mtls_dir, t->mtls_dir) &&
	    tls_cache.dev == st.st_dev && tls_cache.ino == st.st_ino)
		return tls_cache.cfg;
	tls_client_cfg_free(tls_cache.cfg);
	memset(&tls_cache, 0, sizeof(tls_cache));
	/* a session to resume needs none of the bundle (the gateway checked it when the
	 * session was made): it is loaded only if the gateway makes a full handshake */
	tls_client_cfg_defer_dir(&tls_cache.cfg, t->mtls_dir);
	snprintf(tls_cache.mtls_dir, sizeof(tls_cache.mtls_dir), "%s", t->mtls_dir);
	tls_cache.dev = st.st_dev;
	tls_cache.ino = st.st_ino;
	session_path_for(t, tls_cache.session_path, sizeof(tls_cache.session_path));
	if (!session_restore() && tls_client_cfg_ensure(tls_cache.cfg, e) < 0) {
		tls_client_cfg_free(tls_cache.cfg);
		memset(&tls_cache, 0, sizeof(tls_cache));
		return NULL;
	}
	return tls_cache.cfg;
}

/* TCP, then TLS when the gateway's endpoint is https://. */
static int conn_open(const struct gw_target *t, const struct url *u, struct conn *c,
		     struct err *e)
{
	struct tls_client_cfg *cfg = NULL;

	/* the bundle or session first: the ClientHello follows the connection at once */
	if (t->tls && !(cfg = client_tls_cfg(t, e)))
		return -1;
	if ((c->fd = tcp_connect(u, e)) < 0)
		return -1;
	if (!t->tls)
		return 0;
	if (tls_client_connect_cfg(&c->tls, c->fd, tls_server_name(u), cfg, e) < 0)
		return -1;
	session_keep();
	return 0;
}

static int conn_write(struct conn *c, const struct buf *b, struct err *e)
{
	if (c->tls)
		return tls_client_write_all(c->tls, b->p, b->len, e);
	if (write_full(c->fd, b->p, b->len) < 0)
		return err_sys(e, ERR_UNAVAILABLE, "cannot send the request");
	return 0;
}

static ssize_t conn_read(struct conn *c, char *p, size_t n, struct err *e)
{
	ssize_t r;

	if (c->tls)
		return tls_client_read(c->tls, p, n, e);
	do
		r = read(c->fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return err_sys(e, ERR_UNAVAILABLE, "cannot read the response");
	return r;
}

static void build_request(const struct url *u, const char *method, const char *path,
			  const struct json *body, struct buf *req)
{
	struct err e = ERR_INIT;
	struct buf json = BUF_INIT, host = BUF_INIT;
	char len[24];

	if (body)
		json_write(body, &json, JSON_COMPACT);
	url_add_authority(&host, u->host, u->ipv6, u->port);
	http_write_request_line(req, method, path, &e);
	http_write_header(req, "Host", host.p, &e);
	http_write_header(req, "User-Agent", "openshell/" OPENSHELL_VERSION, &e);
	http_write_header(req, "Accept", "application/json", &e);
	http_write_header(req, "Connection", "close", &e);
	if (body) {
		snprintf(len, sizeof(len), "%zu", json.len);
		http_write_header(req, "Content-Type", "application/json", &e);
		http_write_header(req, "Content-Length", len, &e);
	}
	http_write_end(req);
	buf_add(req, json.p, json.len);
	buf_release(&json);
	buf_release(&host);
}

static int read_response(struct conn *c, struct http_parser *p, struct buf *body, struct err *e)
{
	char chunk[16384];

	for (;;) {
		size_t used = 0, off = 0;
		ssize_t n = conn_read(c, chunk, sizeof(chunk), e);
		int r;

		if (n < 0)
			return -1;
		if (n == 0) {
			r = http_parse_eof(p, e);
			if (r == HTTP_DONE)
				return 0;
			return err_set(e, ERR_UNAVAILABLE, 0, "the gateway closed the connection "
							       "before answering");
		}
		while (off < (size_t)n) {
			r = http_parse_message(p, chunk + off, (size_t)n - off, &used, body, e);
			if (r == HTTP_ERROR)
				return err_wrap(e, "invalid response from the gateway");
			if (r == HTTP_DONE)
				return 0;
			off += used;
			if (!used)
				break;
		}
	}
}

static int decode_response(const char *name, struct http_parser *p, const struct buf *body,
			   struct client_resp *resp, struct err *e)
{
	resp->status = p->msg.status;
	if (body->len && !(resp->body = json_parse(body->p, body->len, e)))
		return err_wrap(e, "invalid JSON from gateway '%s'", name);
	if (resp->status < 400)
		return 0;
	if (json_get_str(resp->body, "message", NULL)) {
		const char *code = json_get_str(resp->body, "error", "");
		int ec = !strcmp(code, "not_found") ? ERR_NOTFOUND
			 : !strcmp(code, "already_exists") ? ERR_EXISTS
			 : !strcmp(code, "conflict") ? ERR_CONFLICT
			 : !strcmp(code, "resource_exhausted") ? ERR_LIMIT
			 : resp->status < 500 ? ERR_INVALID : ERR_RUNTIME;

		err_set(e, ec, 0, "%s", json_get_str(resp->body, "message", ""));
		if (json_get_str(resp->body, "hint", NULL))
			err_hint(e, "%s", json_get_str(resp->body, "hint", ""));
		return -1;
	}
	return err_set(e, ERR_RUNTIME, 0, "gateway '%s' answered %d %s", name, resp->status,
		       p->msg.reason);
}

static const char *tls_server_name(const struct url *u)
{
	/* BearSSL matches only DNS names (STYLE §3a.2): loopback is checked as "localhost";
	 * another IP as its text, which the gateway's certificate carries as a DNS name when
	 * it was given to `gateway start --server-san`. */
	if (str_has_prefix(u->host, "127.") || !strcmp(u->host, "::1"))
		return "localhost";
	return u->host;
}

int client_call(const struct gw_target *t, const char *method, const char *path,
		const struct json *body, struct client_resp *resp, struct err *e)
{
	struct url u = URL_INIT;
	struct conn c = { -1, NULL };
	struct http_parser p;
	struct buf req = BUF_INIT, rbody = BUF_INIT;
	struct http_limits lim = { HTTP_HEAD_MAX_GATEWAY, HTTP_FIELDS_MAX, RESP_BODY_MAX, HTTP_TRAILER_MAX };
	int ret = -1;

	memset(resp, 0, sizeof(*resp));
	http_parser_init(&p, HTTP_RESPONSE, &lim);
	http_parser_set_method(&p, method);
	if (url_parse(&u, t->endpoint, e) < 0)
		goto out;
	if (conn_open(t, &u, &c, e) < 0)
		goto out;
	build_request(&u, method, path, body, &req);
	if (conn_write(&c, &req, e) < 0 || read_response(&c, &p, &rbody, e) < 0 ||
	    decode_response(t->name, &p, &rbody, resp, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0 && e->code == ERR_UNAVAILABLE)
		err_wrap(e, "gateway '%s' at %s does not answer", t->name, t->endpoint);
	if (ret < 0)
		client_resp_release(resp);
	if (c.tls)
		tls_client_close(c.tls);
	if (c.fd >= 0)
		close(c.fd);
	http_parser_release(&p);
	url_release(&u);
	buf_release(&req);
	buf_release(&rbody);
	return ret;
}

void client_resp_release(struct client_resp *r)
{
	json_free(r->body);
	r->body = NULL;
}

/* ---- upgraded streams ------------------------------------------------------------------- */

struct client_stream {
	struct conn c;
	struct buf pending; /* bytes that arrived behind the 101 response */
};

int client_attach(const struct gw_target *t, const char *path, const struct buf *first,
		  struct client_stream **out, struct err *e)
{
	struct client_stream *s = xcalloc(1, sizeof(*s));
	struct http_limits lim = { HTTP_HEAD_MAX_GATEWAY, HTTP_FIELDS_MAX, RESP_BODY_MAX, HTTP_TRAILER_MAX };
	struct url u = URL_INIT;
	struct http_parser p;
	struct buf req = BUF_INIT, body = BUF_INIT;
	char chunk[4096];
	int ret = -1;

	*out = NULL;
	s->c.fd = -1;
	buf_init(&s->pending);
	http_parser_init(&p, HTTP_RESPONSE, &lim);
	http_parser_set_method(&p, "POST");
	if (url_parse(&u, t->endpoint, e) < 0 || conn_open(t, &u, &s->c, e) < 0)
		goto out;
	{
		struct buf host = BUF_INIT;

		url_add_authority(&host, u.host, u.ipv6, u.port);
		http_write_request_line(&req, "POST", path, e);
		http_write_header(&req, "Host", host.p, e);
		http_write_header(&req, "Upgrade", "openshell-stream", e);
		http_write_header(&req, "Connection", "Upgrade", e);
		http_write_header(&req, "Content-Length", "0", e);
		http_write_end(&req);
		buf_release(&host);
	}
	if (first) /* the gateway relays what follows the request once it has answered 101 */
		buf_add(&req, first->p, first->len);
	if (conn_write(&s->c, &req, e) < 0)
		goto out;
	for (;;) {
		ssize_t n = conn_read(&s->c, chunk, sizeof(chunk), e);
		size_t used = 0;
		int r;

		if (n <= 0) {
			if (n == 0)
				err_set(e, ERR_UNAVAILABLE, 0, "the gateway closed the connection");
			goto out;
		}
		r = http_parse_head(&p, chunk, (size_t)n, &used, e);
		if (r == HTTP_ERROR)
			goto out;
		if (r == HTTP_NEED_MORE)
			continue;
		if (p.msg.status != 101) { /* an error answer: read its JSON body */
			struct client_resp resp = { 0, NULL };
			struct buf raw = BUF_INIT;

			http_parser_reset(&p);
			http_parser_set_method(&p, "POST");
			buf_add(&raw, chunk, (size_t)n);
			while (http_parse_message(&p, raw.p, raw.len, &used, &body, e) == HTTP_NEED_MORE &&
			       (n = conn_read(&s->c, chunk, sizeof(chunk), e)) > 0) {
				buf_reset(&raw);
				buf_add(&raw, chunk, (size_t)n);
			}
			buf_release(&raw);
			if (http_parser_head_done(&p) && !e->code)
				decode_response(t->name, &p, &body, &resp, e);
			else
				err_set(e, ERR_RUNTIME, 0, "attach refused by gateway '%s'", t->name);
			client_resp_release(&resp);
			goto out;
		}
		buf_add(&s->pending, chunk + used, (size_t)n - used);
		break;
	}
	*out = s;
	ret = 0;
out:
	if (ret < 0)
		client_stream_close(s);
	http_parser_release(&p);
	url_release(&u);
	buf_release(&req);
	buf_release(&body);
	return ret;
}

int client_stream_fd(const struct client_stream *s)
{
	return s->c.fd;
}

bool client_stream_buffered(const struct client_stream *s)
{
	return s->pending.len || (s->c.tls && tls_client_pending(s->c.tls));
}

ssize_t client_stream_read(struct client_stream *s, void *p, size_t n, struct err *e)
{
	if (s->pending.len) {
		size_t k = n < s->pending.len ? n : s->pending.len;

		memcpy(p, s->pending.p, k);
		memmove(s->pending.p, s->pending.p + k, s->pending.len - k);
		buf_setlen(&s->pending, s->pending.len - k);
		return (ssize_t)k;
	}
	return conn_read(&s->c, p, n, e);
}

int client_stream_write(struct client_stream *s, const struct buf *b, struct err *e)
{
	return conn_write(&s->c, b, e);
}

void client_stream_close(struct client_stream *s)
{
	if (!s)
		return;
	if (s->c.tls)
		tls_client_close(s->c.tls);
	if (s->c.fd >= 0)
		close(s->c.fd);
	buf_release(&s->pending);
	free(s);
}
