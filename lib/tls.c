/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BearSSL server for the gateway's epoll loop (non-blocking; see tls.h) and the settings
 * both ends share. BearSSL never allocates or touches sockets: each connection owns its
 * engine, X.509 context and record buffer, and the pump moves bytes (STYLE.md 3a.3).
 * The client is in tls_client.c, the error table in tls_errors.c.
 */
#include "tls.h"
#include "tls_int.h"
#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "pki.h"
#include "tls_session.h"
#include "util.h"
#include "xalloc.h"

#include <bearssl.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

/* br_name_element OIDs: length byte, then the OID content (bearssl_x509.h). */
static const unsigned char elt_cn[] = { 3, 0x55, 0x04, 0x03 };
static const unsigned char elt_ou[] = { 3, 0x55, 0x04, 0x0b };

/* Server preference order; all need an EC P-256 certificate and ECDHE (forward secrecy). */
static const uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
};

void tls_engine_setup(br_ssl_engine_context *eng)
{
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, ARRAY_SIZE(suites));
}

unsigned char *tls_iobuf_new(void)
{
	void *p = mmap(NULL, BR_SSL_BUFSIZE_BIDI, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		xdie_oom();
	return p;
}

void tls_iobuf_free(unsigned char *p)
{
	if (p)
		munmap(p, BR_SSL_BUFSIZE_BIDI);
}

/* ---- server ---- */

/* BearSSL's cache interface around our session table (tls_session.h). */
struct session_store {
	const br_ssl_session_cache_class *vtable;
	struct tls_session_cache table;
};

struct tls_server_cfg {
	struct pki_chain chain;
	struct pki_key key;
	struct pki_anchor anchor; /* set when require_client_cert */
	bool require_client_cert;
	struct session_store *sessions; /* the one part that connections change */
};

struct tls_server_conn {
	const struct tls_server_cfg *cfg;
	br_ssl_server_context sc;
	br_x509_minimal_context xc;
	br_name_element names[2];
	char cn[TLS_SESSION_NAME_MAX], ou[TLS_SESSION_NAME_MAX];
	bool handshaken, eof, io_failed;
	int io_errno;
	char errtext[192];
	unsigned char stage[TLS_STAGE_MAX]; /* small records gathered for one send */
	size_t stage_len;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* ---- session resumption ---- */

#define CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Called by BearSSL after a full handshake, so the client certificate (when required) has
 * been verified and its names are known: they come back with the session. */
static void session_save(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
			 const br_ssl_session_parameters *params)
{
	struct session_store *st = CONTAINER_OF(ctx, struct session_store, vtable);
	struct tls_server_conn *c = CONTAINER_OF(sc, struct tls_server_conn, sc);
	const char *cn = c->names[0].status == 1 ? c->cn : NULL;
	const char *ou = c->names[1].status == 1 ? c->ou : NULL;

	tls_session_put(&st->table, params, cn, ou, now_mono_ms());
}

static void restore_name(br_name_element *n, char *dst, const char *saved)
{
	memcpy(dst, saved, TLS_SESSION_NAME_MAX);
	n->status = saved[0] ? 1 : 0;
}

static int session_load(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
			br_ssl_session_parameters *params)
{
	struct session_store *st = CONTAINER_OF(ctx, struct session_store, vtable);
	struct tls_server_conn *c = CONTAINER_OF(sc, struct tls_server_conn, sc);
	char cn[TLS_SESSION_NAME_MAX], ou[TLS_SESSION_NAME_MAX];

	if (!tls_session_get(&st->table, params, cn, ou, now_mono_ms()))
		return 0;
	restore_name(&c->names[0], c->cn, cn);
	restore_name(&c->names[1], c->ou, ou);
	explicit_bzero(cn, sizeof(cn));
	explicit_bzero(ou, sizeof(ou));
	return 1;
}

static const br_ssl_session_cache_class session_store_class = {
	sizeof(struct session_store), session_save, session_load
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
	cfg->sessions = xcalloc(1, sizeof(*cfg->sessions));
	cfg->sessions->vtable = &session_store_class;
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
	if (cfg->sessions) {
		tls_session_clear(&cfg->sessions->table);
		free(cfg->sessions);
	}
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

/* One freed connection kept for the next: a fresh 40 KiB allocation would fault its pages
 * in again on every connection. The gateway has one thread. */
static struct tls_server_conn *spare;

struct tls_server_conn *tls_server_conn_new(const struct tls_server_cfg *cfg)
{
	struct tls_server_conn *c = spare ? spare : xcalloc(1, sizeof(*c));

	spare = NULL;
	c->cfg = cfg;
	br_ssl_server_init_full_ec(&c->sc, cfg->chain.certs, cfg->chain.n, BR_KEYTYPE_EC,
				   &cfg->key.sk);
	tls_engine_setup(&c->sc.eng);
	/* client-initiated renegotiation is only a way to make us work harder */
	br_ssl_engine_add_flags(&c->sc.eng,
				BR_OPT_NO_RENEGOTIATION | BR_OPT_ENFORCE_SERVER_PREFERENCES);
	if (cfg->require_client_cert)
		server_client_auth(c);
	br_ssl_server_set_cache(&c->sc, &cfg->sessions->vtable);
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
	if (spare) {
		free(c);
		return;
	}
	spare = c; /* the next connection's, zeroed like calloc's and without page faults */
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

/* Sends what the stage holds; false when the socket took none of it. */
static bool send_stage(struct tls_server_conn *c, int fd)
{
	ssize_t r = send(fd, c->stage, c->stage_len, MSG_NOSIGNAL);

	if (r <= 0) {
		if (r < 0)
			io_error(c, errno);
		return false;
	}
	memmove(c->stage, c->stage + r, c->stage_len - (size_t)r);
	c->stage_len -= (size_t)r;
	return true;
}

/*
 * Every record the engine has ready goes out in one send when they fit the stage (a
 * handshake flight: ServerHello, ChangeCipherSpec, Finished), so the client wakes once
 * for them; a larger record is sent straight from the engine's buffer. True if any bytes
 * moved.
 */
static bool send_records(struct tls_server_conn *c, int fd)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	bool moved = false;

	for (;;) {
		unsigned char *p = NULL;
		size_t len = 0;
		ssize_t r;

		if (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC)
			p = br_ssl_engine_sendrec_buf(eng, &len);
		if (p && len <= sizeof(c->stage) - c->stage_len) {
			memcpy(c->stage + c->stage_len, p, len);
			c->stage_len += len;
			br_ssl_engine_sendrec_ack(eng, len);
			moved = true;
			continue;
		}
		if (c->stage_len) {
			if (!send_stage(c, fd) || c->stage_len)
				return moved;
			moved = true;
			continue;
		}
		if (!p)
			return moved;
		r = send(fd, p, len, MSG_NOSIGNAL);
		if (r <= 0) {
			if (r < 0)
				io_error(c, errno);
			return moved;
		}
		br_ssl_engine_sendrec_ack(eng, (size_t)r);
		moved = true;
	}
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

	if (st & BR_SSL_CLOSED) /* its last records (an alert, close_notify) may be staged */
		return c->stage_len && send_stage(c, fd);
	if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))
		c->handshaken = true;
	if (((st & BR_SSL_SENDREC) || c->stage_len) && send_records(c, fd))
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
	if (c->stage_len && !c->eof) /* the socket is full: go on when it drains */
		return c->handshaken ? TLS_PUMP_OK : TLS_PUMP_HANDSHAKE;
	st = br_ssl_engine_current_state(&c->sc.eng);
	if (st & BR_SSL_CLOSED)
		return br_ssl_engine_last_error(&c->sc.eng) ? TLS_PUMP_ERROR : TLS_PUMP_CLOSED;
	if (c->eof) /* a TCP close without close_notify ends the session as well */
		return c->handshaken ? TLS_PUMP_CLOSED : TLS_PUMP_ERROR;
	return c->handshaken ? TLS_PUMP_OK : TLS_PUMP_HANDSHAKE;
}

bool tls_server_conn_wants_write(const struct tls_server_conn *c)
{
	return c->stage_len || (br_ssl_engine_current_state(&c->sc.eng) & BR_SSL_SENDREC);
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

const char *tls_server_conn_error(struct tls_server_conn *c)
{
	int err = br_ssl_engine_last_error(&c->sc.eng);

	if (c->io_failed)
		snprintf(c->errtext, sizeof(c->errtext), "connection error: %s",
			 strerror(c->io_errno));
	else if (err)
		snprintf(c->errtext, sizeof(c->errtext), "%s", tls_error_text(err));
	else if (c->eof && !c->handshaken)
		snprintf(c->errtext, sizeof(c->errtext),
			 "the client closed the connection during the handshake");
	else
		snprintf(c->errtext, sizeof(c->errtext), "no error");
	return c->errtext;
}
