/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BearSSL server (non-blocking, for the gateway's epoll loop) and client (blocking, br_sslio,
 * for the CLI); see tls.h. BearSSL never allocates or touches sockets: each connection owns
 * its engine, X.509 context and record buffer, and the pump moves bytes (STYLE.md 3a.3).
 */
#include "tls.h"
#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "pki.h"
#include "util.h"
#include "xalloc.h"

#include <bearssl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Server preference order; all need an EC P-256 certificate and ECDHE (forward secrecy). */
static const uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
};

/* br_name_element OIDs: length byte, then the OID content (bearssl_x509.h). */
static const unsigned char elt_cn[] = { 3, 0x55, 0x04, 0x03 };
static const unsigned char elt_ou[] = { 3, 0x55, 0x04, 0x0b };

static void engine_setup(br_ssl_engine_context *eng)
{
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, ARRAY_SIZE(suites));
}

/* ---- server ---- */

struct tls_server_cfg {
	struct pki_chain chain;
	struct pki_key key;
	struct pki_anchor anchor; /* set when require_client_cert */
	bool require_client_cert;
};

struct tls_server_conn {
	const struct tls_server_cfg *cfg;
	br_ssl_server_context sc;
	br_x509_minimal_context xc;
	br_name_element names[2];
	char cn[128], ou[128];
	bool handshaken, eof, io_failed;
	int io_errno;
	char errtext[192];
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

static int server_cfg_files(struct tls_server_cfg *cfg, const char *dir, struct err *e)
{
	char crt[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];
	struct pki_chain cachain = { NULL, 0 };
	int ret = -1;

	if (path_join(crt, sizeof(crt), dir, "server.crt", e) < 0 ||
	    path_join(key, sizeof(key), dir, "server.key", e) < 0 ||
	    path_join(ca, sizeof(ca), dir, "ca.crt", e) < 0)
		goto out;
	if (pki_load_chain(crt, &cfg->chain, e) < 0 || pki_load_key(key, &cfg->key, e) < 0)
		goto out;
	if (!pki_key_matches_cert(&cfg->key, &cfg->chain.certs[0])) {
		err_set(e, ERR_INVALID, 0, "'%s' is not the key of '%s'", key, crt);
		goto out;
	}
	if (cfg->require_client_cert &&
	    (pki_load_chain(ca, &cachain, e) < 0 ||
	     pki_anchor_from_cert(ca, &cachain.certs[0], &cfg->anchor, e) < 0))
		goto out;
	ret = 0;
out:
	pki_chain_release(&cachain);
	return ret;
}

int tls_server_cfg_load(struct tls_server_cfg **out, const char *tls_dir, bool require_client_cert,
			struct err *e)
{
	struct tls_server_cfg *cfg = xcalloc(1, sizeof(*cfg));

	*out = NULL;
	cfg->require_client_cert = require_client_cert;
	if (server_cfg_files(cfg, tls_dir, e) < 0) {
		tls_server_cfg_free(cfg);
		return err_wrap(e, "cannot load the gateway's TLS material");
	}
	*out = cfg;
	return 0;
}

void tls_server_cfg_free(struct tls_server_cfg *cfg)
{
	if (!cfg)
		return;
	pki_chain_release(&cfg->chain);
	pki_key_clear(&cfg->key);
	free(cfg);
}

/* Ask for a client certificate chaining to our CA and check its CertificateVerify. */
static void server_client_auth(struct tls_server_conn *c)
{
	const br_x509_trust_anchor *ta = &c->cfg->anchor.ta;

	br_x509_minimal_init_full(&c->xc, ta, 1);
	c->names[0] = (br_name_element){ elt_cn, c->cn, sizeof(c->cn), 0 };
	c->names[1] = (br_name_element){ elt_ou, c->ou, sizeof(c->ou), 0 };
	br_x509_minimal_set_name_elements(&c->xc, c->names, ARRAY_SIZE(c->names));
	br_ssl_engine_set_x509(&c->sc.eng, &c->xc.vtable);
	/* init_full_ec sets no ECDSA verifier: without it CertificateVerify fails (3a.1) */
	br_ssl_engine_set_default_ecdsa(&c->sc.eng);
	/* stores the pointer only: the anchor lives in cfg, which outlives connections */
	br_ssl_server_set_trust_anchor_names_alt(&c->sc, ta, 1);
}

struct tls_server_conn *tls_server_conn_new(const struct tls_server_cfg *cfg)
{
	struct tls_server_conn *c = xcalloc(1, sizeof(*c));

	c->cfg = cfg;
	br_ssl_server_init_full_ec(&c->sc, cfg->chain.certs, cfg->chain.n, BR_KEYTYPE_EC,
				   &cfg->key.sk);
	engine_setup(&c->sc.eng);
	/* client-initiated renegotiation is only a way to make us work harder */
	br_ssl_engine_add_flags(&c->sc.eng,
				BR_OPT_NO_RENEGOTIATION | BR_OPT_ENFORCE_SERVER_PREFERENCES);
	if (cfg->require_client_cert)
		server_client_auth(c);
	br_ssl_engine_set_buffer(&c->sc.eng, c->iobuf, sizeof(c->iobuf), 1);
	/* a failure (no entropy) closes the engine: the first pump reports it */
	br_ssl_server_reset(&c->sc);
	return c;
}

void tls_server_conn_free(struct tls_server_conn *c)
{
	if (!c)
		return;
	explicit_bzero(c, sizeof(*c)); /* session keys */
	free(c);
}

/* After the handshake a peer that is gone (it may close right after its close_notify,
 * before ours is sent) ends the session like an EOF; before it, it is a failure. */
static void io_error(struct tls_server_conn *c, int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
		return;
	if (c->handshaken && (err == EPIPE || err == ECONNRESET)) {
		c->eof = true;
		return;
	}
	c->io_errno = err;
	c->io_failed = true;
}

static bool send_records(struct tls_server_conn *c, int fd)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	unsigned char *p;
	size_t len;
	ssize_t r;

	p = br_ssl_engine_sendrec_buf(eng, &len);
	r = send(fd, p, len, MSG_NOSIGNAL);
	if (r > 0) {
		br_ssl_engine_sendrec_ack(eng, (size_t)r);
		return true;
	}
	if (r < 0)
		io_error(c, errno);
	return false;
}

static bool recv_records(struct tls_server_conn *c, int fd)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	unsigned char *p;
	size_t len;
	ssize_t r;

	p = br_ssl_engine_recvrec_buf(eng, &len);
	r = recv(fd, p, len, 0);
	if (r > 0) {
		br_ssl_engine_recvrec_ack(eng, (size_t)r);
		return true;
	}
	if (r == 0)
		c->eof = true;
	else
		io_error(c, errno);
	return false;
}

static void take_app(br_ssl_engine_context *eng, struct buf *in)
{
	size_t len;
	unsigned char *p = br_ssl_engine_recvapp_buf(eng, &len);

	buf_add(in, p, len);
	br_ssl_engine_recvapp_ack(eng, len);
}

static void give_app(br_ssl_engine_context *eng, struct buf *out)
{
	size_t len;
	unsigned char *p = br_ssl_engine_sendapp_buf(eng, &len);

	len = len < out->len ? len : out->len;
	memcpy(p, out->p, len);
	br_ssl_engine_sendapp_ack(eng, len);
	memmove(out->p, out->p + len, out->len - len);
	buf_setlen(out, out->len - len);
	br_ssl_engine_flush(eng, 0);
}

/* One pass over the engine's states, in STYLE.md 3a.3's order; true if any bytes moved. */
static bool pump_once(struct tls_server_conn *c, int fd, struct buf *in, struct buf *out)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	unsigned st = br_ssl_engine_current_state(eng);
	bool moved = false;

	if (st & BR_SSL_CLOSED)
		return false;
	if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))
		c->handshaken = true;
	if ((st & BR_SSL_SENDREC) && send_records(c, fd))
		moved = true;
	if (c->io_failed)
		return false;
	if (st & BR_SSL_RECVAPP) {
		take_app(eng, in);
		moved = true;
	}
	if ((st & BR_SSL_SENDAPP) && out->len) {
		give_app(eng, out);
		moved = true;
	}
	if ((st & BR_SSL_RECVREC) && !c->eof && recv_records(c, fd))
		moved = true;
	return moved;
}

int tls_server_conn_pump(struct tls_server_conn *c, int fd, struct buf *in, struct buf *out)
{
	unsigned st;

	while (!c->io_failed && pump_once(c, fd, in, out))
		;
	if (c->io_failed)
		return TLS_PUMP_ERROR;
	st = br_ssl_engine_current_state(&c->sc.eng);
	if (st & BR_SSL_CLOSED)
		return br_ssl_engine_last_error(&c->sc.eng) ? TLS_PUMP_ERROR : TLS_PUMP_CLOSED;
	if (c->eof) /* a TCP close without close_notify ends the session as well */
		return c->handshaken ? TLS_PUMP_CLOSED : TLS_PUMP_ERROR;
	return c->handshaken ? TLS_PUMP_OK : TLS_PUMP_HANDSHAKE;
}

bool tls_server_conn_wants_write(const struct tls_server_conn *c)
{
	return br_ssl_engine_current_state(&c->sc.eng) & BR_SSL_SENDREC;
}

bool tls_server_conn_handshake_done(const struct tls_server_conn *c)
{
	return c->handshaken;
}

void tls_server_conn_close(struct tls_server_conn *c)
{
	br_ssl_engine_close(&c->sc.eng);
}

static const char *name_elt(const struct tls_server_conn *c, size_t i)
{
	if (!c->handshaken || !c->cfg->require_client_cert || c->names[i].status != 1)
		return NULL;
	return c->names[i].buf;
}

const char *tls_server_conn_peer_cn(const struct tls_server_conn *c)
{
	return name_elt(c, 0);
}

const char *tls_server_conn_peer_ou(const struct tls_server_conn *c)
{
	return name_elt(c, 1);
}

int tls_server_conn_last_error(const struct tls_server_conn *c)
{
	return br_ssl_engine_last_error(&c->sc.eng);
}

const char *tls_server_conn_error(const struct tls_server_conn *c)
{
	struct tls_server_conn *m = (struct tls_server_conn *)c; /* errtext is a cache */
	int err = br_ssl_engine_last_error(&c->sc.eng);

	if (c->io_failed)
		snprintf(m->errtext, sizeof(m->errtext), "connection error: %s",
			 strerror(c->io_errno));
	else if (err)
		snprintf(m->errtext, sizeof(m->errtext), "%s", tls_error_text(err));
	else if (c->eof && !c->handshaken)
		snprintf(m->errtext, sizeof(m->errtext),
			 "the client closed the connection during the handshake");
	else
		snprintf(m->errtext, sizeof(m->errtext), "no error");
	return m->errtext;
}

/* ---- client ---- */

struct tls_client_cfg {
	struct pki_chain ca, chain;
	struct pki_key key;
	struct pki_anchor anchor;
	bool has_cert;
};

struct tls_client {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	br_sslio_context io;
	const struct tls_client_cfg *cfg;
	struct tls_client_cfg *owned;
	int fd, io_errno;
	bool eof, up;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

static int client_cfg_files(struct tls_client_cfg *cfg, const char *ca, const char *crt,
			    const char *key, struct err *e)
{
	if (pki_load_chain(ca, &cfg->ca, e) < 0 ||
	    pki_anchor_from_cert(ca, &cfg->ca.certs[0], &cfg->anchor, e) < 0)
		return -1;
	if (!crt || !key)
		return 0;
	if (pki_load_chain(crt, &cfg->chain, e) < 0 || pki_load_key(key, &cfg->key, e) < 0)
		return -1;
	if (!pki_key_matches_cert(&cfg->key, &cfg->chain.certs[0]))
		return err_set(e, ERR_INVALID, 0, "'%s' is not the key of '%s'", key, crt);
	cfg->has_cert = true;
	return 0;
}

int tls_client_cfg_load(struct tls_client_cfg **out, const char *ca_path, const char *crt_path,
			const char *key_path, struct err *e)
{
	struct tls_client_cfg *cfg = xcalloc(1, sizeof(*cfg));

	*out = NULL;
	if (client_cfg_files(cfg, ca_path, crt_path, key_path, e) < 0) {
		tls_client_cfg_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int tls_client_cfg_load_dir(struct tls_client_cfg **out, const char *mtls_dir, struct err *e)
{
	char ca[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];

	*out = NULL;
	if (path_join(ca, sizeof(ca), mtls_dir, "ca.crt", e) < 0 ||
	    path_join(crt, sizeof(crt), mtls_dir, "tls.crt", e) < 0 ||
	    path_join(key, sizeof(key), mtls_dir, "tls.key", e) < 0)
		return -1;
	if (tls_client_cfg_load(out, ca, crt, key, e) < 0)
		return err_hint(e,
				"the gateway's client bundle in %s is missing or damaged; for a "
				"local gateway, 'openshell gateway start' installs it again",
				mtls_dir);
	return 0;
}

void tls_client_cfg_free(struct tls_client_cfg *cfg)
{
	if (!cfg)
		return;
	pki_chain_release(&cfg->ca);
	pki_chain_release(&cfg->chain);
	pki_key_clear(&cfg->key);
	free(cfg);
}

static int sock_read(void *ctx, unsigned char *p, size_t n)
{
	struct tls_client *c = ctx;
	ssize_t r;

	do
		r = read(c->fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		c->eof = true;
	else if (r < 0)
		c->io_errno = errno;
	return r <= 0 ? -1 : (int)r;
}

static int sock_write(void *ctx, const unsigned char *p, size_t n)
{
	struct tls_client *c = ctx;
	ssize_t r;

	do
		r = send(c->fd, p, n, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		c->io_errno = errno;
	return r <= 0 ? -1 : (int)r;
}

/* The error after a failed br_sslio call: transport problems are ERR_UNAVAILABLE. */
static int client_fail(struct tls_client *c, const char *doing, struct err *e)
{
	int err = br_ssl_engine_last_error(&c->cc.eng);

	int sys = c->io_errno;

	if (err == BR_ERR_IO && (sys == EAGAIN || sys == EWOULDBLOCK))
		return err_set(e, ERR_UNAVAILABLE, 0, "%s: timed out", doing);
	if (err == BR_ERR_IO && sys && sys != ECONNRESET && sys != EPIPE)
		return err_set(e, ERR_UNAVAILABLE, sys, "%s", doing);
	if (err == BR_ERR_IO || err == BR_ERR_OK)
		return err_set(e, ERR_UNAVAILABLE, 0, "%s: the gateway closed the connection",
			       doing);
	return err_set(e, ERR_AUTH, 0, "%s: %s", doing, tls_error_text(err));
}

static void handshake_hint(const struct tls_client *c, const char *server_name, struct err *e)
{
	int err = br_ssl_engine_last_error(&c->cc.eng);

	if (err == BR_ERR_X509_BAD_SERVER_NAME)
		err_hint(e,
			 "the gateway's certificate does not name '%s'; add it with "
			 "'--server-san' when the gateway's certificates are made",
			 server_name ? server_name : "");
	else if (err == BR_ERR_X509_NOT_TRUSTED)
		err_hint(e, "the gateway's certificate is not signed by the CA in the client "
			    "bundle: the gateway was probably recreated; register it again");
	else if (err == BR_ERR_RECV_FATAL_ALERT + 42 || err == BR_ERR_RECV_FATAL_ALERT + 46 ||
		 err == BR_ERR_RECV_FATAL_ALERT + 48)
		err_hint(e, "the gateway rejected our client certificate: check that the bundle's "
			    "tls.crt was issued by this gateway's CA");
	/* BearSSL (our gateway) drops the connection without an alert when it rejects a
	 * client certificate */
	else if (err == BR_ERR_IO &&
		 (!c->io_errno || c->io_errno == ECONNRESET || c->io_errno == EPIPE))
		err_hint(e, "a gateway that requires client certificates closes the handshake "
			    "when it rejects ours: check that the bundle's tls.crt was issued by "
			    "this gateway's CA");
}

static int client_handshake(struct tls_client *c, const char *server_name, struct err *e)
{
	const struct tls_client_cfg *cfg = c->cfg;

	br_ssl_client_init_full(&c->cc, &c->xc, &cfg->anchor.ta, 1);
	engine_setup(&c->cc.eng);
	if (cfg->has_cert)
		br_ssl_client_set_single_ec(&c->cc, cfg->chain.certs, cfg->chain.n, &cfg->key.sk,
					    BR_KEYTYPE_SIGN, BR_KEYTYPE_EC, br_ec_get_default(),
					    br_ecdsa_sign_asn1_get_default());
	br_ssl_engine_set_buffer(&c->cc.eng, c->iobuf, sizeof(c->iobuf), 1);
	if (!br_ssl_client_reset(&c->cc, server_name, 0))
		return err_set(e, ERR_RUNTIME, 0, "cannot start TLS: %s",
			       tls_error_text(br_ssl_engine_last_error(&c->cc.eng)));
	br_sslio_init(&c->io, &c->cc.eng, sock_read, c, sock_write, c);
	/* flush runs the handshake until application data can flow */
	if (br_sslio_flush(&c->io) < 0) {
		client_fail(c, "TLS handshake with the gateway failed", e);
		handshake_hint(c, server_name, e);
		return -1;
	}
	c->up = true;
	return 0;
}

int tls_client_connect_cfg(struct tls_client **out, int fd, const char *server_name,
			   const struct tls_client_cfg *cfg, struct err *e)
{
	struct tls_client *c = xcalloc(1, sizeof(*c));

	*out = NULL;
	c->fd = fd;
	c->cfg = cfg;
	if (client_handshake(c, server_name, e) < 0) {
		tls_client_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

int tls_client_connect(struct tls_client **out, int fd, const char *server_name,
		       const char *mtls_dir, struct err *e)
{
	struct tls_client_cfg *cfg;

	*out = NULL;
	if (tls_client_cfg_load_dir(&cfg, mtls_dir, e) < 0)
		return -1;
	if (tls_client_connect_cfg(out, fd, server_name, cfg, e) < 0) {
		tls_client_cfg_free(cfg);
		return -1;
	}
	(*out)->owned = cfg;
	return 0;
}

int tls_client_write_all(struct tls_client *c, const void *p, size_t n, struct err *e)
{
	if (br_sslio_write_all(&c->io, p, n) < 0 || br_sslio_flush(&c->io) < 0) {
		c->up = false;
		return client_fail(c, "cannot send to the gateway", e);
	}
	return 0;
}

ssize_t tls_client_read(struct tls_client *c, void *p, size_t n, struct err *e)
{
	int r = br_sslio_read(&c->io, p, n);

	if (r >= 0)
		return r;
	c->up = false;
	/* a closed engine without error is the peer's close_notify */
	if (br_ssl_engine_last_error(&c->cc.eng) == BR_ERR_OK)
		return 0;
	return client_fail(c, "cannot read from the gateway", e);
}

bool tls_client_pending(struct tls_client *c)
{
	return br_ssl_engine_current_state(&c->cc.eng) & BR_SSL_RECVAPP;
}

/* close_notify without br_sslio_close, which would wait for the peer's answer. */
static void client_say_goodbye(struct tls_client *c)
{
	br_ssl_engine_context *eng = &c->cc.eng;
	unsigned char *p;
	size_t len;
	int r;

	br_ssl_engine_close(eng);
	while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC) {
		p = br_ssl_engine_sendrec_buf(eng, &len);
		r = sock_write(c, p, len);
		if (r < 0)
			break;
		br_ssl_engine_sendrec_ack(eng, (size_t)r);
	}
}

void tls_client_close(struct tls_client *c)
{
	if (!c)
		return;
	if (c->up && !(br_ssl_engine_current_state(&c->cc.eng) & BR_SSL_CLOSED))
		client_say_goodbye(c);
	tls_client_cfg_free(c->owned);
	explicit_bzero(c, sizeof(*c));
	free(c);
}
