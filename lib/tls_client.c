/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BearSSL client for the CLI (see tls.h): blocking, through br_sslio, with the gateway's CA
 * as the only trust anchor and the client certificate from the gateway's bundle. Errors say
 * whether the transport failed (ERR_UNAVAILABLE) or the peer was refused (ERR_AUTH).
 */
#include "tls.h"
#include "tls_int.h"
#include "err.h"
#include "fsutil.h"
#include "pki.h"
#include "tls_session.h"
#include "xalloc.h"

#include <bearssl.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tls_client_cfg {
	struct pki_chain ca, chain;
	struct pki_key key;
	struct pki_anchor anchor;
	bool has_cert;
	br_ssl_session_parameters session; /* offered by the next handshake */
	bool has_session, session_new;     /* session_new: made here, not yet exported */
	/* a deferred bundle (tls_client_cfg_defer_dir): its directory, whether it was loaded,
	 * and why that failed */
	char *dir;
	bool loaded;
	struct err load_err;
};

/* BearSSL classes that load a deferred bundle when the handshake first needs it (the
 * server's certificate arrives, or ours is asked for), then hand over to the real ones. */
struct lazy_x509 {
	const br_x509_class *vtable;
	struct tls_client *c;
};

struct lazy_auth {
	const br_ssl_client_certificate_class *vtable;
	struct tls_client *c;
};

struct tls_client {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	struct lazy_x509 lazy_x509;
	struct lazy_auth lazy_auth;
	br_sslio_context io;
	struct tls_client_cfg *cfg;
	struct tls_client_cfg *owned;
	int fd, io_errno;
	bool eof, up, resumed;
	unsigned char *iobuf; /* tls_iobuf_new */
	/* records written by the engine and not yet sent: they go out together before we
	 * wait for the peer, so the end of the handshake and the first request share a
	 * segment (the gateway wakes once for them) */
	unsigned char stage[TLS_STAGE_MAX];
	size_t stage_len;
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
	cfg->loaded = true;
	*out = cfg;
	return 0;
}

/* The registry's layout: mtls_dir/ca.crt, tls.crt, tls.key. */
static int client_cfg_dir(struct tls_client_cfg *cfg, const char *mtls_dir, struct err *e)
{
	char ca[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];

	if (path_join(ca, sizeof(ca), mtls_dir, "ca.crt", e) < 0 ||
	    path_join(crt, sizeof(crt), mtls_dir, "tls.crt", e) < 0 ||
	    path_join(key, sizeof(key), mtls_dir, "tls.key", e) < 0)
		return -1;
	if (client_cfg_files(cfg, ca, crt, key, e) < 0)
		return err_hint(e,
				"the gateway's client bundle in %s is missing or damaged; for a "
				"local gateway, 'openshell gateway start' installs it again",
				mtls_dir);
	return 0;
}

int tls_client_cfg_load_dir(struct tls_client_cfg **out, const char *mtls_dir, struct err *e)
{
	struct tls_client_cfg *cfg = xcalloc(1, sizeof(*cfg));

	*out = NULL;
	if (client_cfg_dir(cfg, mtls_dir, e) < 0) {
		tls_client_cfg_free(cfg);
		return -1;
	}
	cfg->loaded = true;
	*out = cfg;
	return 0;
}

void tls_client_cfg_defer_dir(struct tls_client_cfg **out, const char *mtls_dir)
{
	struct tls_client_cfg *cfg = xcalloc(1, sizeof(*cfg));

	cfg->dir = xstrdup(mtls_dir);
	*out = cfg;
}

int tls_client_cfg_ensure(struct tls_client_cfg *cfg, struct err *e)
{
	if (!cfg->loaded && !cfg->load_err.code) {
		cfg->load_err = (struct err)ERR_INIT;
		if (client_cfg_dir(cfg, cfg->dir, &cfg->load_err) == 0)
			cfg->loaded = true;
		else if (!cfg->load_err.code) /* a failure always leaves a code behind */
			cfg->load_err.code = ERR_INVALID;
	}
	if (cfg->loaded)
		return 0;
	*e = cfg->load_err;
	return -1;
}

void tls_client_cfg_free(struct tls_client_cfg *cfg)
{
	if (!cfg)
		return;
	pki_chain_release(&cfg->ca);
	pki_chain_release(&cfg->chain);
	pki_key_clear(&cfg->key);
	explicit_bzero(&cfg->session, sizeof(cfg->session));
	free(cfg->dir);
	free(cfg);
}

int tls_client_cfg_session_import(struct tls_client_cfg *cfg, const unsigned char *blob,
				  size_t n, int64_t now_wall_ms)
{
	br_ssl_session_parameters p;

	if (tls_session_decode(blob, n, now_wall_ms, &p) < 0)
		return -1;
	cfg->session = p;
	cfg->has_session = true;
	cfg->session_new = false;
	explicit_bzero(&p, sizeof(p));
	return 0;
}

bool tls_client_cfg_session_export(struct tls_client_cfg *cfg,
				   unsigned char *blob, int64_t now_wall_ms)
{
	if (!cfg->has_session || !cfg->session_new ||
	    tls_session_encode(&cfg->session, now_wall_ms, blob) < 0)
		return false;
	cfg->session_new = false;
	return true;
}

/* After a handshake: an abbreviated one kept the offered session; a full one made a new. */
static void client_note_session(struct tls_client *c)
{
	struct tls_client_cfg *cfg = c->cfg;
	br_ssl_session_parameters p;

	br_ssl_engine_get_session_parameters(&c->cc.eng, &p);
	c->resumed = cfg->has_session && p.session_id_len &&
		     p.session_id_len == cfg->session.session_id_len &&
		     !memcmp(p.session_id, cfg->session.session_id, p.session_id_len);
	if (!c->resumed && p.session_id_len) {
		cfg->session = p;
		cfg->has_session = true;
		cfg->session_new = true;
	}
	explicit_bzero(&p, sizeof(p));
}

bool tls_client_resumed(const struct tls_client *c)
{
	return c->resumed;
}

static int send_all(struct tls_client *c, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			c->io_errno = r < 0 ? errno : EPIPE;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int stage_flush(struct tls_client *c)
{
	int r = send_all(c, c->stage, c->stage_len);

	c->stage_len = 0;
	return r;
}

static int sock_read(void *ctx, unsigned char *p, size_t n)
{
	struct tls_client *c = ctx;
	ssize_t r;

	if (c->stage_len && stage_flush(c) < 0) /* the peer answers what we staged */
		return -1;
	do
		r = read(c->fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		c->eof = true;
	else if (r < 0)
		c->io_errno = errno;
	return r <= 0 ? -1 : (int)r;
}

/* Stages small records; tls_client_write_all, sock_read and the close send them. */
static int sock_write(void *ctx, const unsigned char *p, size_t n)
{
	struct tls_client *c = ctx;

	if (n > sizeof(c->stage) - c->stage_len && stage_flush(c) < 0)
		return -1;
	if (n <= sizeof(c->stage)) {
		memcpy(c->stage + c->stage_len, p, n);
		c->stage_len += n;
		return (int)n;
	}
	return send_all(c, p, n) < 0 ? -1 : (int)n;
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

static void set_client_cert(struct tls_client *c)
{
	struct tls_client_cfg *cfg = c->cfg;

	if (cfg->has_cert)
		br_ssl_client_set_single_ec(&c->cc, cfg->chain.certs, cfg->chain.n, &cfg->key.sk,
					    BR_KEYTYPE_SIGN, BR_KEYTYPE_EC, br_ec_get_default(),
					    br_ecdsa_sign_asn1_get_default());
}

/*
 * A deferred bundle is loaded only by a full handshake: a resumed one needs neither the
 * trust anchor (no certificate is sent) nor our certificate. cfg->anchor is the minimal
 * engine's anchor from the start; until it is loaded it matches nothing.
 */
static void lazy_load(struct tls_client *c)
{
	struct err e = ERR_INIT;

	if (!c->cfg->loaded && tls_client_cfg_ensure(c->cfg, &e) == 0 &&
	    c->cc.client_auth_vtable == &c->lazy_auth.vtable)
		set_client_cert(c); /* replaces lazy_auth in the engine */
}

static const br_x509_class **lazy_x509_inner(const br_x509_class *const *ctx)
{
	return &((const struct lazy_x509 *)(const void *)ctx)->c->xc.vtable;
}

static void lx_start_chain(const br_x509_class **ctx, const char *server_name)
{
	const br_x509_class **x = lazy_x509_inner(ctx);

	lazy_load(((struct lazy_x509 *)(void *)ctx)->c);
	(*x)->start_chain(x, server_name);
}

static void lx_start_cert(const br_x509_class **ctx, uint32_t length)
{
	const br_x509_class **x = lazy_x509_inner(ctx);

	(*x)->start_cert(x, length);
}

static void lx_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	const br_x509_class **x = lazy_x509_inner(ctx);

	(*x)->append(x, buf, len);
}

static void lx_end_cert(const br_x509_class **ctx)
{
	const br_x509_class **x = lazy_x509_inner(ctx);

	(*x)->end_cert(x);
}

static unsigned lx_end_chain(const br_x509_class **ctx)
{
	const br_x509_class **x = lazy_x509_inner(ctx);

	return (*x)->end_chain(x);
}

static const br_x509_pkey *lx_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const br_x509_class **x = lazy_x509_inner(ctx);

	return (*x)->get_pkey(x, usages);
}

static const br_x509_class lazy_x509_vtable = {
	sizeof(struct lazy_x509), lx_start_chain, lx_start_cert, lx_append,
	lx_end_cert, lx_end_chain, lx_get_pkey,
};

/* The engine calls the client certificate class only when the server asks for one; the
 * first call loads the bundle, which installs the real class. These run when it could not
 * be loaded: no certificate is offered, and the handshake fails with load_err. */
static const br_ssl_client_certificate_class **lazy_auth_real(
	const br_ssl_client_certificate_class **pctx)
{
	struct tls_client *c = ((struct lazy_auth *)(void *)pctx)->c;

	lazy_load(c);
	return c->cc.client_auth_vtable == &c->lazy_auth.vtable ? NULL : c->cc.client_auth_vtable;
}

static void la_start_name_list(const br_ssl_client_certificate_class **pctx)
{
	const br_ssl_client_certificate_class **r = lazy_auth_real(pctx);

	if (r)
		(*r)->start_name_list(r);
}

static void la_start_name(const br_ssl_client_certificate_class **pctx, size_t len)
{
	const br_ssl_client_certificate_class **r = lazy_auth_real(pctx);

	if (r)
		(*r)->start_name(r, len);
}

static void la_append_name(const br_ssl_client_certificate_class **pctx,
			   const unsigned char *data, size_t len)
{
	const br_ssl_client_certificate_class **r = lazy_auth_real(pctx);

	if (r)
		(*r)->append_name(r, data, len);
}

static void la_end_name(const br_ssl_client_certificate_class **pctx)
{
	const br_ssl_client_certificate_class **r = lazy_auth_real(pctx);

	if (r)
		(*r)->end_name(r);
}

static void la_end_name_list(const br_ssl_client_certificate_class **pctx)
{
	const br_ssl_client_certificate_class **r = lazy_auth_real(pctx);

	if (r)
		(*r)->end_name_list(r);
}

static void la_choose(const br_ssl_client_certificate_class **pctx,
		      const br_ssl_client_context *cc, uint32_t auth_types,
		      br_ssl_client_certificate *choices)
{
	const br_ssl_client_certificate_class **r = lazy_auth_real(pctx);

	memset(choices, 0, sizeof(*choices));
	if (r)
		(*r)->choose(r, cc, auth_types, choices);
}

static uint32_t la_do_keyx(const br_ssl_client_certificate_class **pctx, unsigned char *data,
			   size_t *len)
{
	const br_ssl_client_certificate_class **r = lazy_auth_real(pctx);

	return r ? (*r)->do_keyx(r, data, len) : 0;
}

static size_t la_do_sign(const br_ssl_client_certificate_class **pctx, int hash_id,
			 size_t hv_len, unsigned char *data, size_t len)
{
	const br_ssl_client_certificate_class **r = lazy_auth_real(pctx);

	return r ? (*r)->do_sign(r, hash_id, hv_len, data, len) : 0;
}

static const br_ssl_client_certificate_class lazy_auth_vtable = {
	sizeof(struct lazy_auth), la_start_name_list, la_start_name, la_append_name,
	la_end_name, la_end_name_list, la_choose, la_do_keyx, la_do_sign,
};

static void client_engine_setup(struct tls_client *c)
{
	struct tls_client_cfg *cfg = c->cfg;

	br_ssl_client_init_full(&c->cc, &c->xc, &cfg->anchor.ta, 1);
	tls_engine_setup(&c->cc.eng);
	if (cfg->loaded) {
		set_client_cert(c);
		return;
	}
	c->lazy_x509 = (struct lazy_x509){ &lazy_x509_vtable, c };
	c->lazy_auth = (struct lazy_auth){ &lazy_auth_vtable, c };
	br_ssl_engine_set_x509(&c->cc.eng, &c->lazy_x509.vtable);
	c->cc.client_auth_vtable = &c->lazy_auth.vtable;
}

static int client_handshake(struct tls_client *c, const char *server_name, struct err *e)
{
	struct tls_client_cfg *cfg = c->cfg;

	client_engine_setup(c);
	br_ssl_engine_set_buffer(&c->cc.eng, c->iobuf, BR_SSL_BUFSIZE_BIDI, 1);
	if (cfg->has_session)
		br_ssl_engine_set_session_parameters(&c->cc.eng, &cfg->session);
	if (!br_ssl_client_reset(&c->cc, server_name, cfg->has_session))
		return err_set(e, ERR_RUNTIME, 0, "cannot start TLS: %s",
			       tls_error_text(br_ssl_engine_last_error(&c->cc.eng)));
	br_sslio_init(&c->io, &c->cc.eng, sock_read, c, sock_write, c);
	/* flush runs the handshake until application data can flow */
	if (br_sslio_flush(&c->io) < 0) {
		if (!cfg->loaded && cfg->load_err.code) { /* a full handshake without the bundle */
			*e = cfg->load_err;
			return -1;
		}
		client_fail(c, "TLS handshake with the gateway failed", e);
		handshake_hint(c, server_name, e);
		return -1;
	}
	client_note_session(c);
	c->up = true;
	return 0;
}

int tls_client_connect_cfg(struct tls_client **out, int fd, const char *server_name,
			   struct tls_client_cfg *cfg, struct err *e)
{
	struct tls_client *c = xcalloc(1, sizeof(*c));

	*out = NULL;
	c->fd = fd;
	c->cfg = cfg;
	c->iobuf = tls_iobuf_new();
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
	if (br_sslio_write_all(&c->io, p, n) < 0 || br_sslio_flush(&c->io) < 0 ||
	    stage_flush(c) < 0) {
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
	stage_flush(c);
}

void tls_client_close(struct tls_client *c)
{
	if (!c)
		return;
	if (c->up && !(br_ssl_engine_current_state(&c->cc.eng) & BR_SSL_CLOSED))
		client_say_goodbye(c);
	else if (c->stage_len)
		stage_flush(c); /* an alert the engine wrote as it failed */
	tls_client_cfg_free(c->owned);
	tls_iobuf_free(c->iobuf);
	explicit_bzero(c, sizeof(*c));
	free(c);
}
