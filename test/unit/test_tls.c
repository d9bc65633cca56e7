/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS: full handshakes between our non-blocking server (pumped here with poll) and our
 * blocking client (in a forked child) over a socketpair: mTLS success, no client
 * certificate (BR_ERR_NO_CLIENT_AUTH), a certificate from another CA (BR_ERR_X509_NOT_TRUSTED),
 * auth disabled, wrong server name, wrong CA; large transfers; configuration errors; the
 * error table.
 */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/fsutil.h"
#include "../../lib/pki.h"
#include "../../lib/tls.h"
#include "../../lib/tls_session.h"
#include "../../lib/util.h"

#include <bearssl.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

/* dir/gw: the gateway's PKI; dir/other: an unrelated one. */
static void setup(void)
{
	struct err e = ERR_INIT;
	char p[128];

	snprintf(dir, sizeof(dir), "/tmp/os-tls-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(p, sizeof(p), "%s/gw", dir);
	CHECK_INT(pki_generate(p, "gw", NULL, &e), 0);
	snprintf(p, sizeof(p), "%s/other", dir);
	CHECK_INT(pki_generate(p, "other", NULL, &e), 0);
}

static void teardown(void)
{
	struct err e = ERR_INIT;

	remove_tree(dir, &e);
}

static const char *f(const char *rel)
{
	static char p[16][128];
	static int i;

	i = (i + 1) % 16;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, rel);
	return p[i];
}

struct client_spec {
	const char *ca, *crt, *key, *server_name;
	size_t n;	/* bytes each way */
	bool raw_plain; /* send plain HTTP instead of TLS */
};

struct result {
	int server_st, server_err;
	char cn[64], ou[64];
	bool server_got_all;
	char client[1024]; /* "OK" or the client's error */
};

static unsigned char pat(size_t i, unsigned k)
{
	return (unsigned char)(i * k + (i >> 8));
}

static bool client_exchange(struct tls_client *c, size_t n, struct err *e)
{
	unsigned char *b = calloc(1, n);
	size_t i, got = 0;
	ssize_t r;
	bool ok = false;

	if (!b)
		return false;
	for (i = 0; i < n; i++)
		b[i] = pat(i, 7);
	if (tls_client_write_all(c, b, n, e) < 0)
		goto out;
	while (got < n) {
		r = tls_client_read(c, b + got, n - got, e);
		if (r <= 0)
			goto out;
		got += (size_t)r;
	}
	for (i = 0; i < n; i++)
		if (b[i] != pat(i, 13))
			goto out;
	ok = true;
out:
	free(b);
	return ok;
}

static void client_child(int fd, int report, const struct client_spec *s)
{
	struct timeval tv = { 5, 0 };
	struct err e = ERR_INIT;
	struct tls_client_cfg *cfg = NULL;
	struct tls_client *c = NULL;
	char msg[1024] = "OK";

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (s->raw_plain) {
		write_full(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
		if (read(fd, msg, sizeof(msg)) < 0)
			msg[0] = 0;
		snprintf(msg, sizeof(msg), "OK");
	} else if (tls_client_cfg_load(&cfg, s->ca, s->crt, s->key, &e) < 0 ||
		   tls_client_connect_cfg(&c, fd, s->server_name, cfg, &e) < 0 ||
		   !client_exchange(c, s->n, &e)) {
		snprintf(msg, sizeof(msg), "%s%s%s", e.msg[0] ? e.msg : "exchange failed",
			 e.hint[0] ? " | hint: " : "", e.hint);
	}
	tls_client_close(c);
	write_full(report, msg, strlen(msg));
	_exit(0);
}

/* Server side: collect s->n bytes, answer with s->n bytes, wait for the close. */
static void serve(struct tls_server_conn *c, int fd, const struct client_spec *s,
		  struct result *res)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	int64_t deadline = now_mono_ms() + 10000;
	bool answered = false;
	size_t i;
	int st = TLS_PUMP_HANDSHAKE;

	while (now_mono_ms() < deadline) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (tls_server_conn_wants_write(c))
			p.events |= POLLOUT;
		poll(&p, 1, 200);
		st = tls_server_conn_pump(c, fd, &in, &out);
		if (!answered && in.len >= s->n) {
			res->server_got_all = in.len == s->n;
			for (i = 0; i < s->n && res->server_got_all; i++)
				res->server_got_all = (unsigned char)in.p[i] == pat(i, 7);
			for (i = 0; i < s->n; i++)
				buf_addch(&out, (char)pat(i, 13));
			answered = true;
			st = tls_server_conn_pump(c, fd, &in, &out);
		}
		if (tls_server_conn_peer_cn(c))
			snprintf(res->cn, sizeof(res->cn), "%s", tls_server_conn_peer_cn(c));
		if (tls_server_conn_peer_ou(c))
			snprintf(res->ou, sizeof(res->ou), "%s", tls_server_conn_peer_ou(c));
		if (st == TLS_PUMP_CLOSED || st == TLS_PUMP_ERROR)
			break;
	}
	res->server_st = st;
	res->server_err = tls_server_conn_last_error(c);
	if (st == TLS_PUMP_ERROR && getenv("TLS_TEST_VERBOSE"))
		fprintf(stderr, "  server: %s\n", tls_server_conn_error(c));
	buf_release(&in);
	buf_release(&out);
}

static void run(bool require, const struct client_spec *s, struct result *res)
{
	struct err e = ERR_INIT;
	struct tls_server_cfg *cfg = NULL;
	struct tls_server_conn *c;
	int sv[2], rp[2], status;
	pid_t pid;
	ssize_t n;

	memset(res, 0, sizeof(*res));
	res->server_st = -1;
	CHECK_INT(tls_server_cfg_load(&cfg, f("gw"), require, &e), 0);
	if (!cfg || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe(rp) < 0)
		abort();
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		close(rp[0]);
		client_child(sv[1], rp[1], s);
	}
	close(sv[1]);
	close(rp[1]);
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	c = tls_server_conn_new(cfg);
	serve(c, sv[0], s, res);
	tls_server_conn_free(c);
	close(sv[0]); /* a client still waiting fails now rather than at its timeout */
	waitpid(pid, &status, 0);
	n = read_full(rp[0], res->client, sizeof(res->client) - 1);
	res->client[n > 0 ? n : 0] = '\0';
	close(rp[0]);
	tls_server_cfg_free(cfg);
}

TEST(tls_mtls_handshake_and_transfer)
{
	struct client_spec s;
	struct result r;

	setup();
	s = (struct client_spec){ f("gw/ca.crt"), f("gw/client.crt"), f("gw/client.key"),
				  "localhost",	  300 * 1024,	      false };
	run(true, &s, &r);
	CHECK_STR(r.client, "OK");
	CHECK_INT(r.server_st, TLS_PUMP_CLOSED); /* our client's close_notify */
	CHECK_INT(r.server_err, 0);
	CHECK(r.server_got_all);
	CHECK_STR(r.cn, "openshell-client");
	CHECK_STR(r.ou, "openshell-user");
	s.n = 1;
	s.server_name = "gw";
	run(true, &s, &r);
	CHECK_STR(r.client, "OK");
	s.server_name = NULL; /* no name check */
	run(true, &s, &r);
	CHECK_STR(r.client, "OK");
	teardown();
}

TEST(tls_rejects_missing_and_foreign_client_certificates)
{
	struct client_spec s;
	struct result r;

	setup();
	s = (struct client_spec){ f("gw/ca.crt"), NULL, NULL, "localhost", 4, false };
	run(true, &s, &r);
	CHECK_INT(r.server_st, TLS_PUMP_ERROR);
	CHECK_INT(r.server_err, BR_ERR_NO_CLIENT_AUTH);
	CHECK(strstr(r.client, "TLS handshake with the gateway failed") != NULL);
	CHECK(r.cn[0] == '\0');
	s.crt = f("other/client.crt");
	s.key = f("other/client.key");
	run(true, &s, &r);
	CHECK_INT(r.server_st, TLS_PUMP_ERROR);
	CHECK_INT(r.server_err, BR_ERR_X509_NOT_TRUSTED);
	CHECK(strstr(r.client, "TLS handshake with the gateway failed") != NULL);
	if (getenv("TLS_TEST_VERBOSE"))
		fprintf(stderr, "  client: %s\n", r.client);
	teardown();
}

TEST(tls_without_client_auth)
{
	struct client_spec s;
	struct result r;

	setup();
	s = (struct client_spec){ f("gw/ca.crt"), NULL, NULL, "localhost", 1000, false };
	run(false, &s, &r);
	CHECK_STR(r.client, "OK");
	CHECK_INT(r.server_st, TLS_PUMP_CLOSED);
	CHECK(r.cn[0] == '\0'); /* nothing verified, nothing claimed */
	/* a client that has a certificate is not asked for it */
	s.crt = f("gw/client.crt");
	s.key = f("gw/client.key");
	run(false, &s, &r);
	CHECK_STR(r.client, "OK");
	CHECK(r.cn[0] == '\0');
	teardown();
}

TEST(tls_client_checks_the_server)
{
	struct client_spec s;
	struct result r;

	setup();
	s = (struct client_spec){
		f("gw/ca.crt"), f("gw/client.crt"), f("gw/client.key"), "nothere.example", 4, false
	};
	run(true, &s, &r);
	CHECK(strstr(r.client, "BR_ERR_X509_BAD_SERVER_NAME") != NULL);
	CHECK(strstr(r.client, "hint: the gateway's certificate does not name 'nothere.example'"));
	CHECK_INT(r.server_st, TLS_PUMP_ERROR);
	/* a client that trusts another CA */
	s.ca = f("other/ca.crt");
	s.server_name = "localhost";
	run(true, &s, &r);
	CHECK(strstr(r.client, "BR_ERR_X509_NOT_TRUSTED") != NULL);
	CHECK_INT(r.server_st, TLS_PUMP_ERROR);
	/* plain HTTP to the TLS port */
	s.raw_plain = true;
	run(true, &s, &r);
	CHECK_INT(r.server_st, TLS_PUMP_ERROR);
	CHECK(r.server_err != 0);
	teardown();
}

/*
 * Resumption: six connections from one client process. The first makes a full handshake;
 * the second resumes it from the same configuration; the third from a fresh, deferred
 * configuration given the exported blob (the next CLI command), which loads nothing; the
 * fourth meets a gateway that forgot the session (a restart) and falls back to a full
 * handshake, loading the deferred bundle then. The fifth and sixth defer a damaged bundle:
 * a resumed handshake does not need it, a full one fails with the bundle's error. Each
 * time the gateway still knows the client certificate's names.
 */
#define RESUME_CONNS 6

/* dir/bundle: the registry's layout (ca.crt, tls.crt, tls.key); dir/damaged: the same
 * names holding garbage. */
static void make_bundles(void)
{
	static const char *const from[3] = { "gw/ca.crt", "gw/client.crt", "gw/client.key" };
	static const char *const to[3] = { "ca.crt", "tls.crt", "tls.key" };
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	char p[160];
	int i;

	mkdir(f("bundle"), 0700);
	mkdir(f("damaged"), 0700);
	for (i = 0; i < 3; i++) {
		buf_reset(&b);
		CHECK_INT(read_file(f(from[i]), 65536, &b, &e), 0);
		snprintf(p, sizeof(p), "bundle/%s", to[i]);
		CHECK_INT(write_file_atomic(f(p), b.p, b.len, 0600, &e), 0);
		snprintf(p, sizeof(p), "damaged/%s", to[i]);
		CHECK_INT(write_file_atomic(f(p), "x\n", 2, 0600, &e), 0);
	}
	buf_release(&b);
}

/* The configuration for connection i, which may replace *cfg (a new command). */
static int resume_cfg(int i, struct tls_client_cfg **cfg, struct err *e)
{
	unsigned char blob[TLS_SESSION_BLOB_LEN];
	struct tls_client_cfg *next = NULL;

	if (i == 0)
		return tls_client_cfg_load(cfg, f("gw/ca.crt"), f("gw/client.crt"),
					   f("gw/client.key"), e);
	if (i != 2 && i != 4)
		return 0;
	/* the next command: a deferred configuration and the kept blob */
	tls_client_cfg_defer_dir(&next, f(i == 2 ? "bundle" : "damaged"));
	if (!tls_client_cfg_session_export(*cfg, blob, now_wall_ms()) ||
	    tls_client_cfg_session_import(next, blob, sizeof(blob), now_wall_ms()) < 0) {
		tls_client_cfg_free(next);
		return err_set(e, ERR_RUNTIME, 0, "no blob");
	}
	tls_client_cfg_free(*cfg);
	*cfg = next;
	return 0;
}

static void resume_client(int fds[RESUME_CONNS], int report)
{
	struct timeval tv = { 5, 0 };
	struct tls_client_cfg *cfg = NULL;
	char msg[1024] = "";
	int i;

	for (i = 0; i < RESUME_CONNS; i++) {
		struct err e = ERR_INIT;
		struct tls_client *c = NULL;

		setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (resume_cfg(i, &cfg, &e) < 0 ||
		    tls_client_connect_cfg(&c, fds[i], "localhost", cfg, &e) < 0 ||
		    !client_exchange(c, 100, &e)) {
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%s%s | %s",
				 i ? "," : "", e.msg, e.hint);
			tls_client_close(c);
			break;
		}
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%s%s", i ? "," : "",
			 tls_client_resumed(c) ? "resumed" : "full");
		tls_client_close(c);
		close(fds[i]);
	}
	tls_client_cfg_free(cfg);
	write_full(report, msg, strlen(msg));
	_exit(0);
}

TEST(tls_session_resumption)
{
	struct err e = ERR_INIT;
	struct tls_server_cfg *cfg = NULL, *restarted = NULL;
	struct client_spec s = { NULL, NULL, NULL, "localhost", 100, false };
	int sv[RESUME_CONNS][2], cfds[RESUME_CONNS], rp[2], status, i;
	char report[1024];
	struct result res;
	pid_t pid;
	ssize_t n;

	setup();
	make_bundles();
	CHECK_INT(tls_server_cfg_load(&cfg, f("gw"), true, &e), 0);
	CHECK_INT(tls_server_cfg_load(&restarted, f("gw"), true, &e), 0);
	for (i = 0; i < RESUME_CONNS; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv[i]) < 0)
			abort();
	if (!cfg || !restarted || pipe(rp) < 0)
		abort();
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < RESUME_CONNS; i++) {
			close(sv[i][0]);
			cfds[i] = sv[i][1];
		}
		close(rp[0]);
		resume_client(cfds, rp[1]);
	}
	close(rp[1]);
	for (i = 0; i < RESUME_CONNS; i++) {
		/* 3 and 4 meet the restarted gateway, 5 the first one, which does not know the
		 * session 3 made */
		struct tls_server_conn *c = tls_server_conn_new(i == 3 || i == 4 ? restarted : cfg);

		close(sv[i][1]);
		fcntl(sv[i][0], F_SETFL, fcntl(sv[i][0], F_GETFL) | O_NONBLOCK);
		memset(&res, 0, sizeof(res));
		serve(c, sv[i][0], &s, &res);
		if (i < 5) {
			CHECK_INT(res.server_st, TLS_PUMP_CLOSED);
			CHECK(res.server_got_all);
			CHECK_STR(res.cn, "openshell-client");
			CHECK_STR(res.ou, "openshell-user");
		} else {
			CHECK_INT(res.server_st, TLS_PUMP_ERROR);
		}
		tls_server_conn_free(c);
		close(sv[i][0]);
	}
	waitpid(pid, &status, 0);
	n = read_full(rp[0], report, sizeof(report) - 1);
	report[n > 0 ? n : 0] = '\0';
	close(rp[0]);
	CHECK(str_has_prefix(report, "full,resumed,resumed,full,resumed,"));
	CHECK(strstr(report, "damaged/ca.crt") != NULL);
	CHECK(strstr(report, "client bundle in ") != NULL); /* the hint */
	tls_server_cfg_free(cfg);
	tls_server_cfg_free(restarted);
	teardown();
}

TEST(tls_session_table_and_blob)
{
	struct tls_session_cache *c = calloc(1, sizeof(*c));
	br_ssl_session_parameters p = { 0 }, q = { 0 };
	unsigned char blob[TLS_SESSION_BLOB_LEN];
	char cn[TLS_SESSION_NAME_MAX], ou[TLS_SESSION_NAME_MAX];
	int i;

	p.session_id_len = 32;
	p.version = BR_TLS12;
	p.cipher_suite = BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
	memset(p.master_secret, 0xab, sizeof(p.master_secret));
	for (i = 0; i < TLS_SESSION_SLOTS + 1; i++) { /* one more than fits: the oldest goes */
		memset(p.session_id, 0, sizeof(p.session_id));
		memcpy(p.session_id, &i, sizeof(i));
		tls_session_put(c, &p, i ? "cn" : NULL, "ou", 1000 + i);
	}
	memset(q.session_id, 0, sizeof(q.session_id));
	q.session_id_len = 32;
	i = 0;
	memcpy(q.session_id, &i, sizeof(i));
	CHECK(!tls_session_get(c, &q, cn, ou, 2000)); /* evicted */
	i = 5;
	memcpy(q.session_id, &i, sizeof(i));
	CHECK(tls_session_get(c, &q, cn, ou, 2000));
	CHECK_STR(cn, "cn");
	CHECK_INT(q.cipher_suite, BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
	CHECK_INT(q.master_secret[47], 0xab);
	CHECK(!tls_session_get(c, &q, cn, ou, 1005 + TLS_SESSION_TTL_MS)); /* expired */
	CHECK(!tls_session_get(c, &q, cn, ou, 2000));			    /* and wiped */
	tls_session_clear(c);
	free(c);

	CHECK_INT(tls_session_encode(&p, 5000, blob), 0);
	CHECK_INT(tls_session_decode(blob, sizeof(blob), 6000, &q), 0);
	CHECK(!memcmp(&p, &q, sizeof(p)));
	CHECK_INT(tls_session_decode(blob, sizeof(blob) - 1, 6000, &q), -1);
	CHECK_INT(tls_session_decode(blob, sizeof(blob), 5000 + TLS_SESSION_TTL_MS, &q), -1);
	CHECK_INT(tls_session_decode(blob, sizeof(blob), 4999, &q), -1); /* from the future */
	blob[0] ^= 1;
	CHECK_INT(tls_session_decode(blob, sizeof(blob), 6000, &q), -1);
	blob[0] ^= 1;
	blob[20] = 33; /* session id length */
	CHECK_INT(tls_session_decode(blob, sizeof(blob), 6000, &q), -1);
	p.session_id_len = 0;
	CHECK_INT(tls_session_encode(&p, 5000, blob), -1);
}

TEST(tls_configuration_errors)
{
	struct err e = ERR_INIT;
	struct tls_server_cfg *scfg;
	struct tls_client_cfg *ccfg;
	struct buf key = BUF_INIT;

	setup();
	CHECK_INT(tls_server_cfg_load(&scfg, f("missing"), true, &e), -1);
	CHECK(scfg == NULL);
	CHECK(strstr(e.msg, "cannot load the gateway's TLS material") == e.msg);
	CHECK(strstr(e.msg, "missing/server.crt") != NULL);
	/* server.key of another PKI */
	CHECK_INT(read_file(f("other/server.key"), 4096, &key, &e), 0);
	CHECK_INT(write_file_atomic(f("gw/server.key"), key.p, key.len, 0600, &e), 0);
	CHECK_INT(tls_server_cfg_load(&scfg, f("gw"), true, &e), -1);
	CHECK(strstr(e.msg, "server.key' is not the key of '") != NULL);
	CHECK_INT(tls_client_cfg_load(&ccfg, f("gw/ca.crt"), f("gw/client.crt"),
				      f("other/client.key"), &e),
		  -1);
	CHECK(strstr(e.msg, "is not the key of") != NULL);
	/* a leaf is no trust anchor */
	CHECK_INT(tls_client_cfg_load(&ccfg, f("gw/server.crt"), NULL, NULL, &e), -1);
	CHECK(strstr(e.msg, "is not a CA certificate") != NULL);
	CHECK_INT(tls_client_cfg_load_dir(&ccfg, f("nowhere"), &e), -1);
	CHECK(strstr(e.hint, "client bundle") != NULL);
	explicit_bzero(key.p, key.len);
	buf_release(&key);
	teardown();
}

TEST(tls_error_table)
{
	int code;

	CHECK_STR(tls_error_text(BR_ERR_NO_CLIENT_AUTH),
		  "the client sent no certificate (this gateway requires mTLS) "
		  "(BR_ERR_NO_CLIENT_AUTH)");
	CHECK_STR(tls_error_text(BR_ERR_X509_NOT_TRUSTED),
		  "certificate is not signed by this gateway's CA (BR_ERR_X509_NOT_TRUSTED)");
	CHECK_STR(tls_error_name(62), "BR_ERR_X509_NOT_TRUSTED");
	CHECK_STR(tls_error_text(BR_ERR_RECV_FATAL_ALERT + 42),
		  "the peer sent alert 42 bad_certificate: the certificate was rejected");
	CHECK_STR(tls_error_text(BR_ERR_SEND_FATAL_ALERT + 40),
		  "we sent the peer alert 40 handshake_failure: no acceptable parameters (or a "
		  "certificate was refused)");
	CHECK_STR(tls_error_name(BR_ERR_RECV_FATAL_ALERT + 48), "BR_ERR_RECV_FATAL_ALERT+48");
	CHECK_STR(tls_error_text(999), "TLS error 999");
	/* every code BearSSL defines has a name and an explanation */
	for (code = 0; code <= 62; code++) {
		if (code == 11 || code == 30 || code == 61)
			continue; /* unassigned */
		CHECK(str_has_prefix(tls_error_name(code), "BR_ERR_"));
		CHECK(strstr(tls_error_text(code), "(BR_ERR_") != NULL);
	}
}
