/* SPDX-License-Identifier: Apache-2.0 */
/* Certificate generation and PEM/key/anchor loading; see pki.h. */
#include "pki.h"
#include "buf.h"
#include "der.h"
#include "err.h"
#include "fsutil.h"
#include "util.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define CERT_MAX 4096
#define VALIDITY_SECS (10LL * 365 * 24 * 3600)

static const unsigned char oid_ecdsa_sha256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const unsigned char oid_ec_pub[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const unsigned char oid_p256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char oid_cn[] = { 0x55, 0x04, 0x03 };
static const unsigned char oid_o[] = { 0x55, 0x04, 0x0a };
static const unsigned char oid_basic[] = { 0x55, 0x1d, 0x13 };
static const unsigned char oid_ku[] = { 0x55, 0x1d, 0x0f };
static const unsigned char oid_eku[] = { 0x55, 0x1d, 0x25 };
static const unsigned char oid_san[] = { 0x55, 0x1d, 0x11 };
static const unsigned char oid_ski[] = { 0x55, 0x1d, 0x0e };
static const unsigned char oid_aki[] = { 0x55, 0x1d, 0x23 };
static const unsigned char oid_server_auth[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };
static const unsigned char oid_client_auth[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02 };

enum cert_kind { CERT_CA, CERT_SERVER, CERT_CLIENT };

struct keypair {
	br_ec_private_key sk;
	br_ec_public_key pk;
	unsigned char kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char ski[20];
};

static int keygen(struct keypair *kp, struct err *e)
{
	br_hmac_drbg_context rng;
	unsigned char seed[48];
	const br_ec_impl *ec = br_ec_get_default();
	br_sha1_context sha1;

	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return err_sys(e, ERR_RUNTIME, "cannot read random bytes");
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	if (!br_ec_keygen(&rng.vtable, ec, &kp->sk, kp->kbuf, BR_EC_secp256r1) ||
	    !br_ec_compute_pub(ec, &kp->pk, kp->pbuf, &kp->sk))
		return err_set(e, ERR_RUNTIME, 0, "cannot generate an EC P-256 key");
	/* SKI = SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1) */
	br_sha1_init(&sha1);
	br_sha1_update(&sha1, kp->pk.q, kp->pk.qlen);
	br_sha1_out(&sha1, kp->ski);
	explicit_bzero(&rng, sizeof(rng));
	return 0;
}

static void put_name(struct der *w, const char *cn)
{
	size_t total = 0;
	int n;

	/* SEQUENCE { SET { SEQ { O } }, SET { SEQ { CN } } }, written backwards */
	n = der_tlv(w, DER_UTF8, cn, strlen(cn));
	n += der_oid(w, oid_cn, sizeof(oid_cn));
	n = der_wrap(w, DER_SEQUENCE, (size_t)n);
	total += (size_t)der_wrap(w, DER_SET, (size_t)n);
	n = der_tlv(w, DER_UTF8, "openshell", 9);
	n += der_oid(w, oid_o, sizeof(oid_o));
	n = der_wrap(w, DER_SEQUENCE, (size_t)n);
	total += (size_t)der_wrap(w, DER_SET, (size_t)n);
	der_wrap(w, DER_SEQUENCE, total);
}

/* One Extension: the value must already be written (value_len bytes). */
static size_t ext_wrap(struct der *w, const unsigned char *oid, size_t oid_len, bool critical,
		       size_t value_len)
{
	size_t n = (size_t)der_wrap(w, DER_OCTET_STRING, value_len);

	if (critical)
		n += (size_t)der_bool(w, true);
	n += (size_t)der_oid(w, oid, oid_len);
	return (size_t)der_wrap(w, DER_SEQUENCE, n);
}

static size_t put_san(struct der *w, const char *const *names)
{
	size_t n = 0, i;

	for (i = 0; names[i]; i++) {
		unsigned char ip[16];

		n += (size_t)der_tlv(w, DER_CTX_PRIM(2), names[i], strlen(names[i]));
		if (inet_pton(AF_INET, names[i], ip) == 1)
			n += (size_t)der_tlv(w, DER_CTX_PRIM(7), ip, 4);
		else if (inet_pton(AF_INET6, names[i], ip) == 1)
			n += (size_t)der_tlv(w, DER_CTX_PRIM(7), ip, 16);
	}
	return (size_t)der_wrap(w, DER_SEQUENCE, n);
}

static size_t put_extensions(struct der *w, enum cert_kind kind, const struct keypair *subj,
			     const struct keypair *issuer, const char *const *sans)
{
	static const unsigned char ku_ca[] = { 0x03, 0x02, 0x01, 0x06 };
	static const unsigned char ku_leaf[] = { 0x03, 0x02, 0x07, 0x80 };
	size_t total = 0, n;

	if (kind == CERT_CA) {
		n = (size_t)der_small_int(w, 0);
		n += (size_t)der_bool(w, true);
		total += ext_wrap(w, oid_basic, sizeof(oid_basic), true,
				  (size_t)der_wrap(w, DER_SEQUENCE, n));
		total += ext_wrap(w, oid_ku, sizeof(oid_ku), true, (size_t)der_raw(w, ku_ca, 4));
	} else {
		n = kind == CERT_SERVER ? (size_t)der_oid(w, oid_server_auth, sizeof(oid_server_auth))
					: (size_t)der_oid(w, oid_client_auth, sizeof(oid_client_auth));
		total += ext_wrap(w, oid_eku, sizeof(oid_eku), false,
				  (size_t)der_wrap(w, DER_SEQUENCE, n));
		total += ext_wrap(w, oid_ku, sizeof(oid_ku), true, (size_t)der_raw(w, ku_leaf, 4));
		if (kind == CERT_SERVER)
			total += ext_wrap(w, oid_san, sizeof(oid_san), false, put_san(w, sans));
		n = (size_t)der_tlv(w, DER_CTX_PRIM(0), issuer->ski, sizeof(issuer->ski));
		total += ext_wrap(w, oid_aki, sizeof(oid_aki), false,
				  (size_t)der_wrap(w, DER_SEQUENCE, n));
	}
	n = (size_t)der_tlv(w, DER_OCTET_STRING, subj->ski, sizeof(subj->ski));
	total += ext_wrap(w, oid_ski, sizeof(oid_ski), false, n);
	n = (size_t)der_wrap(w, DER_SEQUENCE, total);
	return (size_t)der_wrap(w, DER_CTX(3), n);
}

static size_t put_sigalg(struct der *w)
{
	return (size_t)der_wrap(w, DER_SEQUENCE,
				(size_t)der_oid(w, oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256)));
}

static size_t put_spki(struct der *w, const struct keypair *kp)
{
	size_t n = (size_t)der_bits(w, kp->pk.q, kp->pk.qlen), alg;

	alg = (size_t)der_oid(w, oid_p256, sizeof(oid_p256));
	alg += (size_t)der_oid(w, oid_ec_pub, sizeof(oid_ec_pub));
	n += (size_t)der_wrap(w, DER_SEQUENCE, alg);
	return (size_t)der_wrap(w, DER_SEQUENCE, n);
}

/* TBSCertificate, written backwards: extensions ... version. */
static int put_tbs(struct der *w, enum cert_kind kind, const char *cn, const char *issuer_cn,
		   const struct keypair *subj, const struct keypair *issuer,
		   const char *const *sans, struct err *e)
{
	unsigned char serial[16];
	size_t start = der_len(w), n;
	int64_t now = (int64_t)time(NULL);

	if (getrandom(serial, sizeof(serial), 0) != (ssize_t)sizeof(serial))
		return err_sys(e, ERR_RUNTIME, "cannot read random bytes");
	serial[0] &= 0x7f; /* positive */
	serial[0] |= 0x40; /* and 16 bytes long */
	put_extensions(w, kind, subj, issuer, sans);
	put_spki(w, subj);
	put_name(w, cn);
	n = (size_t)der_time(w, now + VALIDITY_SECS);
	n += (size_t)der_time(w, now - 3600); /* BearSSL checks against time(): allow skew */
	der_wrap(w, DER_SEQUENCE, n);
	put_name(w, issuer_cn);
	put_sigalg(w);
	der_uint(w, serial, sizeof(serial));
	der_wrap(w, DER_CTX(0), (size_t)der_small_int(w, 2));
	der_wrap(w, DER_SEQUENCE, der_len(w) - start);
	return w->err ? err_set(e, ERR_RUNTIME, 0, "certificate too large") : 0;
}

/* Builds and signs one certificate into out (DER). */
static int make_cert(enum cert_kind kind, const char *cn, const char *issuer_cn,
		     const struct keypair *subj, const struct keypair *issuer,
		     const char *const *sans, struct buf *out, struct err *e)
{
	unsigned char tbsbuf[CERT_MAX], certbuf[CERT_MAX + 128], hash[32], sig[80];
	struct der tbs, cert;
	br_sha256_context h;
	size_t siglen, n;

	der_init(&tbs, tbsbuf, sizeof(tbsbuf));
	if (put_tbs(&tbs, kind, cn, issuer_cn, subj, issuer, sans, e) < 0)
		return -1;
	br_sha256_init(&h);
	br_sha256_update(&h, der_data(&tbs), der_len(&tbs));
	br_sha256_out(&h, hash);
	siglen = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), &br_sha256_vtable, hash,
						   &issuer->sk, sig);
	if (!siglen)
		return err_set(e, ERR_RUNTIME, 0, "cannot sign the certificate");
	der_init(&cert, certbuf, sizeof(certbuf));
	n = (size_t)der_bits(&cert, sig, siglen);
	n += put_sigalg(&cert);
	n += (size_t)der_raw(&cert, der_data(&tbs), der_len(&tbs));
	der_wrap(&cert, DER_SEQUENCE, n);
	if (cert.err)
		return err_set(e, ERR_RUNTIME, 0, "certificate too large");
	buf_add(out, der_data(&cert), der_len(&cert));
	return 0;
}

static void pem(struct buf *out, const char *banner, const void *der, size_t len)
{
	size_t n = br_pem_encode(NULL, der, len, banner, BR_PEM_LINE64);

	buf_grow(out, n + 1);
	br_pem_encode(out->p + out->len, der, len, banner, BR_PEM_LINE64);
	buf_setlen(out, out->len + n);
}

static int write_pem(const char *dir, const char *file, const char *banner, const void *der,
		     size_t len, struct err *e)
{
	char path[PATH_MAX];
	struct buf text = BUF_INIT;
	int r;

	pem(&text, banner, der, len);
	r = path_join(path, sizeof(path), dir, file, e);
	if (r == 0)
		r = write_file_atomic(path, text.p, text.len, 0600, e);
	explicit_bzero(text.p, text.len);
	buf_release(&text);
	return r;
}

static int write_key(const char *dir, const char *file, const struct keypair *kp, struct err *e)
{
	unsigned char der[256];
	size_t n = br_encode_ec_pkcs8_der(der, &kp->sk, &kp->pk);
	int r;

	if (!n || n > sizeof(der))
		return err_set(e, ERR_RUNTIME, 0, "cannot encode a private key");
	r = write_pem(dir, file, BR_ENCODE_PEM_PKCS8, der, n, e);
	explicit_bzero(der, sizeof(der));
	return r;
}

static void server_sans(const char *gateway_name, const char *const *extra, const char **out,
			size_t max)
{
	static char host[256];
	size_t n = 0, i;

	out[n++] = "localhost";
	out[n++] = "127.0.0.1";
	out[n++] = "::1";
	if (strcmp(gateway_name, "localhost") != 0)
		out[n++] = gateway_name;
	if (gethostname(host, sizeof(host) - 1) == 0 && host[0] && strcmp(host, "localhost") &&
	    strcmp(host, gateway_name))
		out[n++] = host;
	for (i = 0; extra && extra[i] && n < max - 1; i++)
		out[n++] = extra[i];
	out[n] = NULL;
}

/* All six files into dir (which exists, empty, 0700). */
static int generate_into(const char *dir, const char *name, const char *const *extra, struct err *e)
{
	struct keypair ca, srv, cli;
	struct buf der = BUF_INIT;
	const char *sans[32];
	int ret = -1;

	server_sans(name, extra, sans, 32);
	if (keygen(&ca, e) < 0 || keygen(&srv, e) < 0 || keygen(&cli, e) < 0)
		goto out;
	if (make_cert(CERT_CA, "openshell-ca", "openshell-ca", &ca, &ca, NULL, &der, e) < 0 ||
	    write_pem(dir, "ca.crt", "CERTIFICATE", der.p, der.len, e) < 0 ||
	    write_key(dir, "ca.key", &ca, e) < 0)
		goto out;
	buf_reset(&der);
	if (make_cert(CERT_SERVER, "openshell-server", "openshell-ca", &srv, &ca, sans, &der, e) < 0 ||
	    write_pem(dir, "server.crt", "CERTIFICATE", der.p, der.len, e) < 0 ||
	    write_key(dir, "server.key", &srv, e) < 0)
		goto out;
	buf_reset(&der);
	if (make_cert(CERT_CLIENT, "openshell-client", "openshell-ca", &cli, &ca, NULL, &der, e) < 0 ||
	    write_pem(dir, "client.crt", "CERTIFICATE", der.p, der.len, e) < 0 ||
	    write_key(dir, "client.key", &cli, e) < 0)
		goto out;
	ret = 0;
out:
	explicit_bzero(&ca, sizeof(ca));
	explicit_bzero(&srv, sizeof(srv));
	explicit_bzero(&cli, sizeof(cli));
	buf_release(&der);
	return ret;
}

int pki_generate(const char *tls_dir, const char *gateway_name, const char *const *extra_sans,
		 struct err *e)
{
	char tmp[PATH_MAX];

	if (path_exists(tls_dir))
		return err_set(e, ERR_EXISTS, 0, "'%s' exists already", tls_dir);
	if (fmt_into(tmp, sizeof(tmp), "%s.tmp", tls_dir) < 0)
		return err_set(e, ERR_INVALID, ENAMETOOLONG, "path too long: '%s'", tls_dir);
	if (remove_tree(tmp, e) < 0 || mkdir_p(tmp, 0700, e) < 0)
		return -1;
	if (generate_into(tmp, gateway_name, extra_sans, e) < 0) {
		remove_tree(tmp, &(struct err){ 0 });
		return -1;
	}
	if (rename(tmp, tls_dir) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot create '%s'", tls_dir);
	return 0;
}

int pki_client_bundle(const char *tls_dir, struct buf *ca, struct buf *crt, struct buf *key,
		      struct err *e)
{
	char path[PATH_MAX];

	if (path_join(path, sizeof(path), tls_dir, "ca.crt", e) < 0 ||
	    read_file(path, 64 * 1024, ca, e) < 0 ||
	    path_join(path, sizeof(path), tls_dir, "client.crt", e) < 0 ||
	    read_file(path, 64 * 1024, crt, e) < 0 ||
	    path_join(path, sizeof(path), tls_dir, "client.key", e) < 0 ||
	    read_file(path, 64 * 1024, key, e) < 0)
		return -1;
	return 0;
}
