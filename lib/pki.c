/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificate generation for the gateway (see pki.h): keys from BearSSL's EC code with an
 * HMAC-DRBG seeded by getrandom(), certificates written with der.h and signed with ECDSA
 * P-256/SHA-256, PEM files written atomically into a staging directory that is renamed into
 * place. Loading lives in pki_load.c.
 */
#include "pki.h"
#include "buf.h"
#include "der.h"
#include "err.h"
#include "fsutil.h"
#include "util.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A TBS with every SAN at its longest stays below this (69 names of at most 255 bytes). */
#define CERT_MAX (24 * 1024)
/* rcgen's default notAfter, which the reference keeps ("effectively never expires"). */
#define NOT_AFTER 67090118400LL /* 4096-01-01T00:00:00Z */
#define SKEW_SECS 3600
#define SANS_MAX  (5 + 2 * PKI_EXTRA_SANS_MAX)

static const unsigned char oid_ecdsa_sha256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const unsigned char oid_ec_pub[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const unsigned char oid_p256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char oid_cn[] = { 0x55, 0x04, 0x03 };
static const unsigned char oid_o[] = { 0x55, 0x04, 0x0a };
static const unsigned char oid_ou[] = { 0x55, 0x04, 0x0b };
static const unsigned char oid_basic[] = { 0x55, 0x1d, 0x13 };
static const unsigned char oid_ku[] = { 0x55, 0x1d, 0x0f };
static const unsigned char oid_eku[] = { 0x55, 0x1d, 0x25 };
static const unsigned char oid_san[] = { 0x55, 0x1d, 0x11 };
static const unsigned char oid_ski[] = { 0x55, 0x1d, 0x0e };
static const unsigned char oid_aki[] = { 0x55, 0x1d, 0x23 };
static const unsigned char oid_server_auth[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };
static const unsigned char oid_client_auth[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02 };

struct rdn {
	const unsigned char *oid;
	size_t oid_len;
	const char *value;
};

/* Subjects as the reference writes them (rcgen keeps insertion order). */
static const struct rdn ca_dn[] = { { oid_o, 3, "openshell" }, { oid_cn, 3, "openshell-ca" } };
static const struct rdn server_dn[] = { { oid_cn, 3, "openshell-server" } };
static const struct rdn client_dn[] = { { oid_cn, 3, "openshell-client" },
					{ oid_ou, 3, "openshell-user" } };

enum cert_kind { CERT_CA, CERT_SERVER, CERT_CLIENT };

struct keypair {
	br_ec_private_key sk;
	br_ec_public_key pk;
	unsigned char kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char ski[20];
};

struct san {
	const char *dns; /* NULL for an address */
	unsigned char ip[16];
	size_t ip_len;
};

struct san_list {
	struct san v[SANS_MAX];
	size_t n;
	char host[256];
};

struct cert_spec {
	enum cert_kind kind;
	const struct rdn *subject;
	size_t nsubject;
	const struct keypair *key, *issuer;
	const struct san_list *sans;
};

static int rng_init(br_hmac_drbg_context *rng, struct err *e)
{
	unsigned char seed[48];
	size_t got = 0;
	ssize_t r;

	while (got < sizeof(seed)) {
		r = getrandom(seed + got, sizeof(seed) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return err_sys(e, ERR_RUNTIME, "cannot read random bytes");
		got += (size_t)r;
	}
	br_hmac_drbg_init(rng, &br_sha256_vtable, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	return 0;
}

static int keygen(const br_prng_class **rng, struct keypair *kp, struct err *e)
{
	const br_ec_impl *ec = br_ec_get_default();
	br_sha1_context sha1;

	if (!br_ec_keygen(rng, ec, &kp->sk, kp->kbuf, BR_EC_secp256r1) ||
	    !br_ec_compute_pub(ec, &kp->pk, kp->pbuf, &kp->sk))
		return err_set(e, ERR_RUNTIME, 0, "cannot generate an EC P-256 key");
	/* SKI = SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2, method 1) */
	br_sha1_init(&sha1);
	br_sha1_update(&sha1, kp->pk.q, kp->pk.qlen);
	br_sha1_out(&sha1, kp->ski);
	return 0;
}

/* Name ::= SEQUENCE OF SET OF { type, UTF8String }; one attribute per RDN. */
static void put_name(struct der *w, const struct rdn *rdn, size_t n)
{
	size_t mark = der_len(w), m;

	while (n--) {
		m = der_len(w);
		der_utf8(w, rdn[n].value);
		der_oid(w, rdn[n].oid, rdn[n].oid_len);
		der_close(w, DER_SEQUENCE, m); /* AttributeTypeAndValue */
		der_close(w, DER_SET, m);      /* RelativeDistinguishedName */
	}
	der_close(w, DER_SEQUENCE, mark);
}

/* Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING }, around
 * the value written since mark. */
static void ext_close(struct der *w, const unsigned char *oid, size_t oid_len, bool critical,
		      size_t mark)
{
	der_close(w, DER_OCTET_STRING, mark);
	if (critical)
		der_bool(w, true);
	der_oid(w, oid, oid_len);
	der_close(w, DER_SEQUENCE, mark);
}

static void put_san(struct der *w, const struct san_list *l)
{
	size_t mark = der_len(w), i = l->n;

	while (i--) {
		if (l->v[i].dns)
			der_implicit(w, 2, l->v[i].dns, strlen(l->v[i].dns)); /* dNSName */
		else
			der_implicit(w, 7, l->v[i].ip, l->v[i].ip_len); /* iPAddress */
	}
	der_close(w, DER_SEQUENCE, mark);
}

static void put_eku(struct der *w, const unsigned char *oid, size_t oid_len)
{
	size_t mark = der_len(w);

	der_oid(w, oid, oid_len);
	der_close(w, DER_SEQUENCE, mark);
}

/*
 * STYLE.md 3a.5: CA = basicConstraints (critical, cA, pathLen 0), keyUsage (critical,
 * keyCertSign|cRLSign), SKI. Leaves = keyUsage (critical, digitalSignature), EKU (not
 * critical: BearSSL fails on unknown critical extensions), SAN for the server, SKI, AKI.
 * Written backwards: last extension first.
 */
static void put_extensions(struct der *w, const struct cert_spec *s)
{
	static const unsigned char ku_ca = 0x06, ku_leaf = 0x80;
	size_t list = der_len(w), m;

	if (s->kind != CERT_CA) {
		m = der_len(w);
		der_implicit(w, 0, s->issuer->ski, sizeof(s->issuer->ski)); /* keyIdentifier */
		der_close(w, DER_SEQUENCE, m);
		ext_close(w, oid_aki, sizeof(oid_aki), false, m);
	}
	m = der_len(w);
	der_octets(w, s->key->ski, sizeof(s->key->ski));
	ext_close(w, oid_ski, sizeof(oid_ski), false, m);
	if (s->kind == CERT_SERVER) {
		m = der_len(w);
		put_san(w, s->sans);
		ext_close(w, oid_san, sizeof(oid_san), false, m);
	}
	if (s->kind != CERT_CA) {
		m = der_len(w);
		if (s->kind == CERT_SERVER)
			put_eku(w, oid_server_auth, sizeof(oid_server_auth));
		else
			put_eku(w, oid_client_auth, sizeof(oid_client_auth));
		ext_close(w, oid_eku, sizeof(oid_eku), false, m);
	}
	m = der_len(w);
	if (s->kind == CERT_CA)
		der_bits(w, &ku_ca, 1, 1); /* keyCertSign (5), cRLSign (6) */
	else
		der_bits(w, &ku_leaf, 1, 7); /* digitalSignature (0) */
	ext_close(w, oid_ku, sizeof(oid_ku), true, m);
	if (s->kind == CERT_CA) {
		m = der_len(w);
		der_int(w, 0); /* pathLenConstraint */
		der_bool(w, true);
		der_close(w, DER_SEQUENCE, m);
		ext_close(w, oid_basic, sizeof(oid_basic), true, m);
	}
	der_close(w, DER_SEQUENCE, list);
	der_explicit(w, 3, list);
}

static void put_sigalg(struct der *w)
{
	size_t mark = der_len(w);

	/* ecdsa-with-SHA256 takes no parameters (RFC 5758 3.2) */
	der_oid(w, oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256));
	der_close(w, DER_SEQUENCE, mark);
}

static void put_spki(struct der *w, const struct keypair *kp)
{
	size_t mark = der_len(w), alg;

	der_bits(w, kp->pk.q, kp->pk.qlen, 0);
	alg = der_len(w);
	der_oid(w, oid_p256, sizeof(oid_p256));
	der_oid(w, oid_ec_pub, sizeof(oid_ec_pub));
	der_close(w, DER_SEQUENCE, alg);
	der_close(w, DER_SEQUENCE, mark);
}

static void put_tbs(struct der *w, const struct cert_spec *s, const unsigned char serial[16])
{
	size_t mark = der_len(w), m;
	int64_t now = (int64_t)time(NULL);
	bool self = s->kind == CERT_CA;

	put_extensions(w, s);
	put_spki(w, s->key);
	put_name(w, s->subject, s->nsubject);
	m = der_len(w);
	der_time(w, NOT_AFTER);
	der_time(w, now - SKEW_SECS);
	der_close(w, DER_SEQUENCE, m);
	/* the issuer must be byte-identical to the CA's subject: BearSSL compares DN hashes */
	put_name(w, self ? s->subject : ca_dn, self ? s->nsubject : ARRAY_SIZE(ca_dn));
	put_sigalg(w);
	der_uint(w, serial, 16);
	m = der_len(w);
	der_int(w, 2); /* v3 */
	der_explicit(w, 0, m);
	der_close(w, DER_SEQUENCE, mark);
}

static int sign_tbs(const struct der *tbs, const struct keypair *issuer, unsigned char *sig,
		    size_t *siglen, struct err *e)
{
	unsigned char hash[32];
	br_sha256_context h;

	br_sha256_init(&h);
	br_sha256_update(&h, der_data(tbs), der_len(tbs));
	br_sha256_out(&h, hash);
	*siglen = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), &br_sha256_vtable, hash,
						   &issuer->sk, sig);
	if (!*siglen)
		return err_set(e, ERR_RUNTIME, 0, "cannot sign the certificate");
	return 0;
}

/* Builds and signs one certificate; appends its DER to out. */
static int make_cert(const struct cert_spec *s, br_hmac_drbg_context *rng, struct buf *out,
		     struct err *e)
{
	unsigned char *tbsbuf = xmalloc(CERT_MAX), *certbuf = xmalloc(CERT_MAX + 256);
	unsigned char serial[16], sig[160];
	struct der tbs, cert;
	size_t siglen;
	int ret = -1;

	br_hmac_drbg_generate(rng, serial, sizeof(serial));
	serial[0] = (serial[0] & 0x7f) | 0x40; /* positive, and all 16 bytes significant */
	der_init(&tbs, tbsbuf, CERT_MAX);
	put_tbs(&tbs, s, serial);
	if (der_failed(&tbs)) {
		err_set(e, ERR_RUNTIME, 0, "certificate too large");
		goto out;
	}
	if (sign_tbs(&tbs, s->issuer, sig, &siglen, e) < 0)
		goto out;
	der_init(&cert, certbuf, CERT_MAX + 256);
	der_bits(&cert, sig, siglen, 0);
	put_sigalg(&cert);
	der_raw(&cert, der_data(&tbs), der_len(&tbs));
	der_close(&cert, DER_SEQUENCE, 0);
	if (der_failed(&cert)) {
		err_set(e, ERR_RUNTIME, 0, "certificate too large");
		goto out;
	}
	buf_add(out, der_data(&cert), der_len(&cert));
	ret = 0;
out:
	free(tbsbuf);
	free(certbuf);
	return ret;
}

static int write_pem(const char *dir, const char *file, const char *banner, const void *der,
		     size_t len, mode_t mode, struct err *e)
{
	char path[PATH_MAX];
	struct buf text = BUF_INIT;
	size_t n = br_pem_encode(NULL, der, len, banner, BR_PEM_LINE64);
	int ret = -1;

	buf_grow(&text, n + 1); /* br_pem_encode adds a NUL */
	br_pem_encode(text.p, der, len, banner, BR_PEM_LINE64);
	buf_setlen(&text, n);
	if (path_join(path, sizeof(path), dir, file, e) < 0 ||
	    write_file_atomic(path, text.p, text.len, mode, e) < 0)
		goto out;
	ret = 0;
out:
	explicit_bzero(text.p, text.len);
	buf_release(&text);
	return ret;
}

static int write_key(const char *dir, const char *file, const struct keypair *kp, struct err *e)
{
	unsigned char der[512];
	size_t n = br_encode_ec_pkcs8_der(NULL, &kp->sk, &kp->pk);
	int ret;

	if (!n || n > sizeof(der))
		return err_set(e, ERR_RUNTIME, 0, "cannot encode a private key");
	br_encode_ec_pkcs8_der(der, &kp->sk, &kp->pk);
	ret = write_pem(dir, file, BR_ENCODE_PEM_PKCS8, der, n, 0600, e);
	explicit_bzero(der, sizeof(der));
	return ret;
}

static int write_pair(const char *dir, const char *name, const struct cert_spec *s,
		      br_hmac_drbg_context *rng, struct err *e)
{
	struct buf der = BUF_INIT;
	char file[32];
	int ret = -1;

	if (make_cert(s, rng, &der, e) < 0)
		goto out;
	snprintf(file, sizeof(file), "%s.crt", name);
	if (write_pem(dir, file, "CERTIFICATE", der.p, der.len, 0644, e) < 0)
		goto out;
	snprintf(file, sizeof(file), "%s.key", name);
	if (write_key(dir, file, s->key, e) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&der);
	return ret;
}

/* Printable DNS-ish text: letters, digits, '-', '.', '_' and '*' (wildcards), 1..253 bytes. */
static bool dns_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 253 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789-._*") == n;
}

static bool san_has_dns(const struct san_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].dns && !strcasecmp(l->v[i].dns, name))
			return true;
	return false;
}

static void san_add_dns(struct san_list *l, const char *name)
{
	if (!san_has_dns(l, name) && l->n < SANS_MAX)
		l->v[l->n++] = (struct san){ .dns = name };
}

static void san_add_ip(struct san_list *l, const unsigned char *ip, size_t len)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!l->v[i].dns && l->v[i].ip_len == len && !memcmp(l->v[i].ip, ip, len))
			return;
	if (l->n < SANS_MAX) {
		l->v[l->n] = (struct san){ .ip_len = len };
		memcpy(l->v[l->n++].ip, ip, len);
	}
}

/* An address literal gives an iPAddress (for OpenSSL, curl) and a dNSName with the same
 * text (BearSSL matches only dNSName and CN, STYLE.md 3a.2). */
static int san_add_extra(struct san_list *l, const char *s, struct err *e)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, s, ip) == 1) {
		san_add_ip(l, ip, 4);
	} else if (inet_pton(AF_INET6, s, ip) == 1) {
		san_add_ip(l, ip, 16);
	} else if (!dns_ok(s)) {
		return err_set(e, ERR_INVALID, 0,
			       "invalid server SAN '%s': expected a host name or "
			       "an IP address",
			       s);
	}
	san_add_dns(l, s);
	return 0;
}

static int server_sans(struct san_list *l, const char *gateway_name, const char *const *extra,
		       struct err *e)
{
	static const unsigned char v4[4] = { 127, 0, 0, 1 }, v6[16] = { [15] = 1 };
	size_t i;

	l->n = 0;
	if (!dns_ok(gateway_name))
		return err_set(e, ERR_INVALID, 0,
			       "gateway name '%s' cannot be a DNS name in the "
			       "server certificate",
			       gateway_name);
	san_add_dns(l, "localhost");
	san_add_dns(l, gateway_name);
	/* an odd host name ("(none)") is left out rather than failing the start */
	if (gethostname(l->host, sizeof(l->host) - 1) == 0 && dns_ok(l->host))
		san_add_dns(l, l->host);
	san_add_ip(l, v4, sizeof(v4));
	san_add_ip(l, v6, sizeof(v6));
	for (i = 0; extra && extra[i]; i++) {
		if (i == PKI_EXTRA_SANS_MAX)
			return err_set(e, ERR_LIMIT, 0, "too many server SANs (at most %d)",
				       PKI_EXTRA_SANS_MAX);
		if (san_add_extra(l, extra[i], e) < 0)
			return -1;
	}
	return 0;
}

struct pki_keys {
	br_hmac_drbg_context rng;
	struct keypair ca, srv, cli;
	struct san_list sans;
};

/* All six files into dir (which exists, empty, 0700). */
static int generate_into(const char *dir, const char *name, const char *const *extra, struct err *e)
{
	struct pki_keys *k = xcalloc(1, sizeof(*k));
	struct cert_spec ca = { CERT_CA, ca_dn, ARRAY_SIZE(ca_dn), &k->ca, &k->ca, NULL };
	struct cert_spec srv = { CERT_SERVER, server_dn, ARRAY_SIZE(server_dn),
				 &k->srv,     &k->ca,	 &k->sans };
	struct cert_spec cli = { CERT_CLIENT, client_dn, ARRAY_SIZE(client_dn),
				 &k->cli,     &k->ca,	 NULL };
	int ret = -1;

	if (server_sans(&k->sans, name, extra, e) < 0 || rng_init(&k->rng, e) < 0)
		goto out;
	if (keygen(&k->rng.vtable, &k->ca, e) < 0 || keygen(&k->rng.vtable, &k->srv, e) < 0 ||
	    keygen(&k->rng.vtable, &k->cli, e) < 0)
		goto out;
	if (write_pair(dir, "ca", &ca, &k->rng, e) < 0 ||
	    write_pair(dir, "server", &srv, &k->rng, e) < 0 ||
	    write_pair(dir, "client", &cli, &k->rng, e) < 0)
		goto out;
	ret = 0;
out:
	explicit_bzero(k, sizeof(*k));
	free(k);
	return ret;
}

int pki_generate(const char *tls_dir, const char *gateway_name, const char *const *extra_sans,
		 struct err *e)
{
	struct err ignored = ERR_INIT;
	char tmp[PATH_MAX];
	bool made = false;
	int ret = -1;

	if (path_exists(tls_dir))
		return err_set(e, ERR_EXISTS, 0, "'%s' exists already", tls_dir);
	if (fmt_into(tmp, sizeof(tmp), "%s.tmp", tls_dir) < 0)
		return err_set(e, ERR_INVALID, ENAMETOOLONG, "path too long: '%s'", tls_dir);
	/* a staging directory left by a crash holds nothing worth keeping */
	if (remove_tree(tmp, e) < 0 || mkdir_p(tmp, 0700, e) < 0)
		goto out;
	made = true;
	if (chmod(tmp, 0700) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot set the mode of '%s'", tmp);
		goto out;
	}
	if (generate_into(tmp, gateway_name, extra_sans, e) < 0)
		goto out;
	if (rename(tmp, tls_dir) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot create '%s'", tls_dir);
		goto out;
	}
	made = false;
	if (fsync_dir_of(tls_dir) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot sync the directory of '%s'", tls_dir);
		goto out;
	}
	ret = 0;
out:
	if (made)
		remove_tree(tmp, &ignored);
	return ret;
}

int pki_client_bundle(const char *tls_dir, struct buf *ca, struct buf *crt, struct buf *key,
		      struct err *e)
{
	char path[PATH_MAX];

	if (path_join(path, sizeof(path), tls_dir, "ca.crt", e) < 0 ||
	    read_file(path, PKI_PEM_MAX, ca, e) < 0 ||
	    path_join(path, sizeof(path), tls_dir, "client.crt", e) < 0 ||
	    read_file(path, PKI_PEM_MAX, crt, e) < 0 ||
	    path_join(path, sizeof(path), tls_dir, "client.key", e) < 0 ||
	    read_file(path, PKI_PEM_MAX, key, e) < 0)
		return -1;
	return 0;
}
