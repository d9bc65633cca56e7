/* SPDX-License-Identifier: Apache-2.0 */
/* BearSSL server (non-blocking, mTLS) and client (blocking); see tls.h. */
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
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
};

struct tls_server_cfg {
	struct pki_chain chain;
	struct pki_key key;
	struct pki_anchor anchor;
	bool require_client_cert;
};

struct tls_server_conn {
	const struct tls_server_cfg *cfg;
	br_ssl_server_context sc;
	br_x509_minimal_context xc;
	bool handshaken, eof, io_failed;
	int io_errno;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

static int load_in(const char *dir, const char *file, char *path, size_t n, struct err *e)
{
	return path_join(path, n, dir, file, e);
}

int tls_server_cfg_load(struct tls_server_cfg **out, const char *tls_dir, bool require_client_cert,
			struct err *e)
{
	struct tls_server_cfg *cfg = xcalloc(1, sizeof(*cfg));
	struct pki_chain ca = { NULL, 0 };
	char path[PATH_MAX];

	cfg->require_client_cert = require_client_cert;
	if (load_in(tls_dir, "server.crt", path, sizeof(path), e) < 0 ||
	    pki_load_chain(path, &cfg->chain, e) < 0 ||
	    load_in(tls_dir, "server.key", path, sizeof(path), e) < 0 ||
	    pki_load_key(path, &cfg->key, e) < 0 ||
	    load_in(tls_dir, "ca.crt", path, sizeof(path), e) < 0 || pki_load_chain(path, &ca, e) < 0 ||
	    pki_anchor_from_cert(path, &ca.certs[0], &cfg->anchor, e) < 0)
		goto fail;
	pki_chain_release(&ca);
	*out = cfg;
	return 0;
fail:
	pki_chain_release(&ca);
	tls_server_cfg_free(cfg);
	return err_wrap(e, "cannot load the gateway's TLS material");
}

void tls_server_cfg_free(struct tls_server_cfg *cfg)
{
	if (!cfg)
		return;
	pki_chain_release(&cfg->chain);
	explicit_bzero(&cfg->key, sizeof(cfg->key));
	free(cfg);
}

struct tls_server_conn *tls_server_conn_new(struct tls_server_cfg *cfg)
{
	struct tls_server_conn *c = xcalloc(1, sizeof(*c));

	c->cfg = cfg;
	br_ssl_server_init_full_ec(&c->sc, cfg->chain.certs, cfg->chain.n, BR_KEYTYPE_EC,
				   &cfg->key.sk);
	br_ssl_engine_set_versions(&c->sc.eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(&c->sc.eng, suites, ARRAY_SIZE(suites));
	if (cfg->require_client_cert) {
		/* Ask for a client certificate chaining to our CA; verify its signature. */
		br_x509_minimal_init_full(&c->xc, &cfg->anchor.ta, 1);
		br_ssl_engine_set_x509(&c->sc.eng, &c->xc.vtable);
		br_ssl_engine_set_default_ecdsa(&c->sc.eng);
		br_ssl_server_set_trust_anchor_names_alt(&c->sc, &cfg->anchor.ta, 1);
	}
	br_ssl_engine_set_buffer(&c->sc.eng, c->iobuf, sizeof(c->iobuf), 1);
	br_ssl_server_reset(&c->sc);
	return c;
}

void tls_server_conn_free(struct tls_server_conn *c)
{
	if (c)
		explicit_bzero(c, sizeof(*c));
	free(c);
}

/* One pass over the engine's states; returns true if any bytes moved. */
static bool pump_once(struct tls_server_conn *c, int fd, struct buf *in, struct buf *out)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	unsigned st = br_ssl_engine_current_state(eng);
	unsigned char *p;
	size_t len;
	ssize_t r;
	bool moved = false;

	if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))
		c->handshaken = true;
	if (st & BR_SSL_SENDREC) {
		p = br_ssl_engine_sendrec_buf(eng, &len);
		r = send(fd, p, len, MSG_NOSIGNAL);
		if (r > 0) {
			br_ssl_engine_sendrec_ack(eng, (size_t)r);
			moved = true;
		} else if (r < 0 && errno != EAGAIN && errno != EINTR) {
			c->io_errno = errno;
			c->io_failed = true;
			return false;
		}
	}
	if (st & BR_SSL_RECVAPP) {
		p = br_ssl_engine_recvapp_buf(eng, &len);
		buf_add(in, p, len);
		br_ssl_engine_recvapp_ack(eng, len);
		moved = true;
	}
	if ((st & BR_SSL_SENDAPP) && out->len) {
		p = br_ssl_engine_sendapp_buf(eng, &len);
		len = len < out->len ? len : out->len;
		memcpy(p, out->p, len);
		br_ssl_engine_sendapp_ack(eng, len);
		memmove(out->p, out->p + len, out->len - len);
		buf_setlen(out, out->len - len);
		br_ssl_engine_flush(eng, 0);
		moved = true;
	}
	if ((st & BR_SSL_RECVREC) && !c->eof) {
		p = br_ssl_engine_recvrec_buf(eng, &len);
		r = recv(fd, p, len, 0);
		if (r > 0) {
			br_ssl_engine_recvrec_ack(eng, (size_t)r);
			moved = true;
		} else if (r == 0) {
			c->eof = true;
		} else if (errno != EAGAIN && errno != EINTR) {
			c->io_errno = errno;
			c->io_failed = true;
		}
	}
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
	if (c->eof) /* TCP closed without close_notify */
		return c->handshaken ? TLS_PUMP_CLOSED : TLS_PUMP_ERROR;
	return c->handshaken ? TLS_PUMP_OK : TLS_PUMP_HANDSHAKE;
}

bool tls_server_conn_wants_write(const struct tls_server_conn *c)
{
	return br_ssl_engine_current_state(&c->sc.eng) & BR_SSL_SENDREC;
}

const char *tls_server_conn_error(const struct tls_server_conn *c)
{
	int err = br_ssl_engine_last_error(&c->sc.eng);

	if (c->io_failed)
		return strerror(c->io_errno);
	if (!err && c->eof)
		return "the client closed the connection during the handshake";
	return tls_error_text(err);
}

/* ---- client ---- */

struct tls_client {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	br_sslio_context io;
	struct pki_chain ca, chain;
	struct pki_key key;
	struct pki_anchor anchor;
	int fd;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

static int sock_read(void *ctx, unsigned char *p, size_t n)
{
	ssize_t r;

	do
		r = read(*(int *)ctx, p, n);
	while (r < 0 && errno == EINTR);
	return r <= 0 ? -1 : (int)r;
}

static int sock_write(void *ctx, const unsigned char *p, size_t n)
{
	ssize_t r;

	do
		r = send(*(int *)ctx, p, n, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r <= 0 ? -1 : (int)r;
}

static int client_load(struct tls_client *c, const char *dir, struct err *e)
{
	char path[PATH_MAX];

	if (load_in(dir, "ca.crt", path, sizeof(path), e) < 0 || pki_load_chain(path, &c->ca, e) < 0 ||
	    pki_anchor_from_cert(path, &c->ca.certs[0], &c->anchor, e) < 0 ||
	    load_in(dir, "tls.crt", path, sizeof(path), e) < 0 ||
	    pki_load_chain(path, &c->chain, e) < 0 ||
	    load_in(dir, "tls.key", path, sizeof(path), e) < 0 || pki_load_key(path, &c->key, e) < 0)
		return err_hint(e, "the gateway's client bundle in %s is missing or damaged; for a "
				   "local gateway, 'openshell gateway start' installs it again", dir);
	return 0;
}

int tls_client_connect(struct tls_client **out, int fd, const char *server_name,
		       const char *mtls_dir, struct err *e)
{
	struct tls_client *c = xcalloc(1, sizeof(*c));
	int err;

	*out = NULL;
	c->fd = fd;
	if (client_load(c, mtls_dir, e) < 0)
		goto fail;
	br_ssl_client_init_full(&c->cc, &c->xc, &c->anchor.ta, 1);
	br_ssl_engine_set_versions(&c->cc.eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(&c->cc.eng, suites, ARRAY_SIZE(suites));
	br_ssl_client_set_single_ec(&c->cc, c->chain.certs, c->chain.n, &c->key.sk,
				    BR_KEYTYPE_SIGN, BR_KEYTYPE_EC, br_ec_get_default(),
				    br_ecdsa_sign_asn1_get_default());
	br_ssl_engine_set_buffer(&c->cc.eng, c->iobuf, sizeof(c->iobuf), 1);
	br_ssl_client_reset(&c->cc, server_name, 0);
	br_sslio_init(&c->io, &c->cc.eng, sock_read, &c->fd, sock_write, &c->fd);
	br_sslio_flush(&c->io); /* runs the handshake */
	err = br_ssl_engine_last_error(&c->cc.eng);
	if (err || (br_ssl_engine_current_state(&c->cc.eng) & BR_SSL_CLOSED)) {
		err_set(e, err == BR_ERR_IO ? ERR_UNAVAILABLE : ERR_AUTH, 0,
			"TLS handshake failed: %s", err ? tls_error_text(err) : "connection closed");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	tls_client_close(c);
	return -1;
}

int tls_client_write_all(struct tls_client *c, const void *p, size_t n, struct err *e)
{
	if (br_sslio_write_all(&c->io, p, n) < 0 || br_sslio_flush(&c->io) < 0)
		return err_set(e, ERR_UNAVAILABLE, 0, "cannot send over TLS: %s",
			       tls_error_text(br_ssl_engine_last_error(&c->cc.eng)));
	return 0;
}

ssize_t tls_client_read(struct tls_client *c, void *p, size_t n, struct err *e)
{
	int r = br_sslio_read(&c->io, p, n);
	int err;

	if (r >= 0)
		return r;
	err = br_ssl_engine_last_error(&c->cc.eng);
	if (!err) /* close_notify */
		return 0;
	if (err == BR_ERR_IO)
		return err_set(e, ERR_UNAVAILABLE, 0, "connection lost or timed out"), -1;
	return err_set(e, ERR_AUTH, 0, "TLS error: %s", tls_error_text(err)), -1;
}

void tls_client_close(struct tls_client *c)
{
	if (!c)
		return;
	pki_chain_release(&c->ca);
	pki_chain_release(&c->chain);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

bool tls_client_pending(struct tls_client *c)
{
	return br_ssl_engine_current_state(&c->cc.eng) & BR_SSL_RECVAPP;
}
