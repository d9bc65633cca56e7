/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKI: generated certificates read back with a small DER walker (exact extensions, names,
 * SANs, validity, serial), with br_x509_decoder (CA flag, key type) and validated with
 * br_x509_minimal against the CA; loaders on good and bad input.
 */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/fsutil.h"
#include "../../lib/pki.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64], tls[96];

static void make_pki(const char *const *sans)
{
	struct err e = ERR_INIT;

	snprintf(dir, sizeof(dir), "/tmp/os-pki-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(tls, sizeof(tls), "%s/tls", dir);
	CHECK_INT(pki_generate(tls, "gw", sans, &e), 0);
	if (e.msg[0])
		fprintf(stderr, "  %s\n", e.msg);
}

static void drop_pki(void)
{
	struct err e = ERR_INIT;

	remove_tree(dir, &e);
}

static const char *in_tls(const char *file)
{
	static char path[160];

	snprintf(path, sizeof(path), "%s/%s", tls, file);
	return path;
}

/* ---- a minimal DER walker (definite lengths, low tags), enough to inspect our output ---- */

struct tlv {
	unsigned tag;
	const unsigned char *p;
	size_t len;
};

static bool tlv_next(const unsigned char **cur, const unsigned char *end, struct tlv *t)
{
	const unsigned char *p = *cur;
	size_t len, k;

	if (end - p < 2)
		return false;
	t->tag = *p++;
	len = *p++;
	if (len & 0x80) {
		k = len & 0x7f;
		if (k == 0 || k > 3 || (size_t)(end - p) < k)
			return false;
		for (len = 0; k; k--)
			len = len << 8 | *p++;
	}
	if ((size_t)(end - p) < len)
		return false;
	t->p = p;
	t->len = len;
	*cur = p + len;
	return true;
}

/* The n-th (0-based) element inside constructed t. */
static bool tlv_child(const struct tlv *t, int n, struct tlv *out)
{
	const unsigned char *cur = t->p, *end = t->p + t->len;

	while (tlv_next(&cur, end, out))
		if (n-- == 0)
			return true;
	return false;
}

static void hex_add(struct buf *b, const unsigned char *p, size_t n)
{
	while (n--)
		buf_addf(b, "%02x", *p++);
}

/* "O=openshell,CN=openshell-ca" */
static void name_text(const struct tlv *name, struct buf *out)
{
	const unsigned char *cur = name->p, *end = name->p + name->len;
	struct tlv set, atv, oid, val;

	while (tlv_next(&cur, end, &set)) {
		CHECK_INT(set.tag, 0x31);
		if (!tlv_child(&set, 0, &atv) || !tlv_child(&atv, 0, &oid) ||
		    !tlv_child(&atv, 1, &val))
			return;
		CHECK_INT(val.tag, 0x0c); /* UTF8String */
		buf_adds(out, oid.len == 3 && oid.p[2] == 3    ? "CN="
			      : oid.len == 3 && oid.p[2] == 10 ? "O="
			      : oid.len == 3 && oid.p[2] == 11 ? "OU="
							       : "?=");
		buf_add(out, val.p, val.len);
		buf_addch(out, cur < end ? ',' : '\0');
	}
	buf_setlen(out, strlen(out->p));
}

struct cert_view {
	struct tlv tbs, version, serial, sigalg, issuer, validity, subject, spki, exts;
	struct tlv outer_sigalg, sig;
};

static bool view_cert(const br_x509_certificate *c, struct cert_view *v)
{
	const unsigned char *cur = c->data;
	struct tlv cert;

	if (!tlv_next(&cur, c->data + c->data_len, &cert) || cur != c->data + c->data_len)
		return false;
	return tlv_child(&cert, 0, &v->tbs) && tlv_child(&cert, 1, &v->outer_sigalg) &&
	       tlv_child(&cert, 2, &v->sig) && tlv_child(&v->tbs, 0, &v->version) &&
	       tlv_child(&v->tbs, 1, &v->serial) && tlv_child(&v->tbs, 2, &v->sigalg) &&
	       tlv_child(&v->tbs, 3, &v->issuer) && tlv_child(&v->tbs, 4, &v->validity) &&
	       tlv_child(&v->tbs, 5, &v->subject) && tlv_child(&v->tbs, 6, &v->spki) &&
	       tlv_child(&v->tbs, 7, &v->exts);
}

/* "551d0f!,551d25,..." ('!' = critical); the SAN value into san when asked. */
static void ext_list(const struct tlv *exts, struct buf *out, struct tlv *san)
{
	struct tlv list, ext, oid, f;
	const unsigned char *cur, *end;

	CHECK_INT(exts->tag, 0xa3);
	if (!tlv_child(exts, 0, &list))
		return;
	cur = list.p;
	end = list.p + list.len;
	while (tlv_next(&cur, end, &ext)) {
		if (!tlv_child(&ext, 0, &oid) || !tlv_child(&ext, 1, &f))
			return;
		hex_add(out, oid.p, oid.len);
		if (f.tag == 0x01) {
			CHECK(f.len == 1 && f.p[0] == 0xff); /* DER: only TRUE is written */
			buf_addch(out, '!');
			tlv_child(&ext, 2, &f);
		}
		if (san && oid.len == 3 && oid.p[2] == 0x11)
			*san = f;
		buf_addch(out, ',');
	}
}

/* "dns:localhost,ip:127.0.0.1,..." */
static void san_text(const struct tlv *octets, struct buf *out)
{
	const unsigned char *cur = octets->p;
	struct tlv seq, gn;
	char ip[64];

	if (!tlv_next(&cur, octets->p + octets->len, &seq))
		return;
	cur = seq.p;
	while (tlv_next(&cur, seq.p + seq.len, &gn)) {
		if (gn.tag == 0x82) {
			buf_adds(out, "dns:");
			buf_add(out, gn.p, gn.len);
		} else if (gn.tag == 0x87) {
			inet_ntop(gn.len == 4 ? AF_INET : AF_INET6, gn.p, ip, sizeof(ip));
			buf_addf(out, "ip:%s", ip);
		}
		buf_addch(out, ',');
	}
}

static void load_cert(const char *file, struct pki_chain *c)
{
	struct err e = ERR_INIT;

	CHECK_INT(pki_load_chain(in_tls(file), c, &e), 0);
	CHECK_INT(c->n, 1);
}

/* Checks the parts every certificate shares; returns the extension list and the names. */
static void check_common(const char *file, struct buf *exts, struct buf *subject,
			 struct buf *issuer, struct buf *sans)
{
	struct pki_chain c;
	struct cert_view v;
	struct tlv nb, na, san = { 0, NULL, 0 };
	time_t now = time(NULL);
	struct tm tm;
	char want[32];

	load_cert(file, &c);
	CHECK(view_cert(&c.certs[0], &v));
	CHECK(v.version.tag == 0xa0 && v.version.len == 3 &&
	      !memcmp(v.version.p, "\x02\x01\x02", 3));
	CHECK(v.serial.tag == 0x02 && v.serial.len == 16);
	CHECK(v.serial.p[0] >= 0x40 && v.serial.p[0] < 0x80); /* positive, 16 significant bytes */
	/* ecdsa-with-SHA256, no parameters, in the TBS and outside */
	CHECK(v.sigalg.len == 10 &&
	      !memcmp(v.sigalg.p, "\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 10));
	CHECK(v.outer_sigalg.len == v.sigalg.len && !memcmp(v.outer_sigalg.p, v.sigalg.p, 10));
	CHECK(tlv_child(&v.validity, 0, &nb) && tlv_child(&v.validity, 1, &na));
	/* notBefore one hour ago (UTCTime); notAfter 4096-01-01 (GeneralizedTime) */
	now -= 3600;
	gmtime_r(&now, &tm);
	strftime(want, sizeof(want), "%Y%m%d%H", &tm);
	CHECK(nb.tag == 0x17 && nb.len == 13 && !memcmp(nb.p, want + 2, 8));
	CHECK(na.tag == 0x18 && na.len == 15 && !memcmp(na.p, "40960101000000Z", 15));
	name_text(&v.subject, subject);
	name_text(&v.issuer, issuer);
	ext_list(&v.exts, exts, sans ? &san : NULL);
	if (sans && san.p)
		san_text(&san, sans);
	pki_chain_release(&c);
}

TEST(pki_certificates_have_exactly_the_designed_fields)
{
	const char *extra[] = { "10.1.2.3", "gw.example.test", "fe80::1", "localhost", NULL };
	struct buf exts = BUF_INIT, subj = BUF_INIT, iss = BUF_INIT, sans = BUF_INIT;
	struct buf want = BUF_INIT;
	char host[256] = "";

	make_pki(extra);
	check_common("ca.crt", &exts, &subj, &iss, NULL);
	CHECK_STR(exts.p, "551d13!,551d0f!,551d0e,"); /* basicConstraints, keyUsage, SKI */
	CHECK_STR(subj.p, "O=openshell,CN=openshell-ca");
	CHECK_STR(iss.p, "O=openshell,CN=openshell-ca");
	buf_reset(&exts), buf_reset(&subj), buf_reset(&iss);
	check_common("server.crt", &exts, &subj, &iss, &sans);
	CHECK_STR(exts.p, "551d0f!,551d25,551d11,551d0e,551d23,"); /* KU EKU SAN SKI AKI */
	CHECK_STR(subj.p, "CN=openshell-server");
	CHECK_STR(iss.p, "O=openshell,CN=openshell-ca");
	buf_adds(&want, "dns:localhost,dns:gw,");
	gethostname(host, sizeof(host) - 1);
	if (strcmp(host, "localhost") && strcmp(host, "gw") && host[0] && !strchr(host, '('))
		buf_addf(&want, "dns:%s,", host);
	buf_adds(&want, "ip:127.0.0.1,ip:::1,ip:10.1.2.3,dns:10.1.2.3,dns:gw.example.test,"
			"ip:fe80::1,dns:fe80::1,");
	CHECK_STR(sans.p, want.p);
	buf_reset(&exts), buf_reset(&subj), buf_reset(&iss);
	check_common("client.crt", &exts, &subj, &iss, NULL);
	CHECK_STR(exts.p, "551d0f!,551d25,551d0e,551d23,");
	CHECK_STR(subj.p, "CN=openshell-client,OU=openshell-user");
	drop_pki();
	buf_release(&exts), buf_release(&subj), buf_release(&iss), buf_release(&sans);
	buf_release(&want);
}

static int validate(const char *leaf, const char *server_name, char *cn, size_t cnlen)
{
	static const unsigned char oid_cn[] = { 3, 0x55, 0x04, 0x03 };
	br_name_element elt = { oid_cn, cn, cnlen, 0 };
	struct err e = ERR_INIT;
	struct pki_chain ca, chain;
	struct pki_anchor a;
	br_x509_minimal_context xc;
	const br_x509_class *vt;
	unsigned usages;
	int r;

	load_cert("ca.crt", &ca);
	CHECK_INT(pki_anchor_from_cert("ca.crt", &ca.certs[0], &a, &e), 0);
	load_cert(leaf, &chain);
	br_x509_minimal_init_full(&xc, &a.ta, 1);
	br_x509_minimal_set_name_elements(&xc, &elt, 1);
	vt = xc.vtable;
	vt->start_chain(&xc.vtable, server_name);
	vt->start_cert(&xc.vtable, (uint32_t)chain.certs[0].data_len);
	vt->append(&xc.vtable, chain.certs[0].data, chain.certs[0].data_len);
	vt->end_cert(&xc.vtable);
	r = (int)vt->end_chain(&xc.vtable);
	if (r == 0)
		CHECK((vt->get_pkey(&xc.vtable, &usages)->key_type) == BR_KEYTYPE_EC);
	pki_chain_release(&ca);
	pki_chain_release(&chain);
	return r;
}

static void check_decoded(const char *file, bool is_ca)
{
	struct pki_chain c;
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;

	load_cert(file, &c);
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, c.certs[0].data, c.certs[0].data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	CHECK(pk != NULL);
	CHECK_INT(br_x509_decoder_last_error(&dc), 0);
	CHECK_INT(br_x509_decoder_isCA(&dc), is_ca);
	CHECK_INT(br_x509_decoder_get_signer_key_type(&dc), BR_KEYTYPE_EC);
	if (pk) {
		CHECK_INT(pk->key_type, BR_KEYTYPE_EC);
		CHECK_INT(pk->key.ec.curve, BR_EC_secp256r1);
		CHECK_INT(pk->key.ec.qlen, 65);
	}
	pki_chain_release(&c);
}

TEST(pki_generates_a_chain_bearssl_validates)
{
	const char *extra[] = { "gw.example.test", "10.1.2.3", NULL };
	char cn[64] = "";

	make_pki(extra);
	check_decoded("ca.crt", true);
	check_decoded("server.crt", false);
	check_decoded("client.crt", false);
	CHECK_INT(validate("server.crt", "localhost", cn, sizeof(cn)), 0);
	CHECK_STR(cn, "openshell-server");
	CHECK_INT(validate("server.crt", "gw", cn, sizeof(cn)), 0);
	CHECK_INT(validate("server.crt", "GW.example.TEST", cn, sizeof(cn)), 0);
	CHECK_INT(validate("server.crt", "10.1.2.3", cn, sizeof(cn)), 0); /* as a dNSName */
	/* built-in loopback addresses are iPAddress SANs only: callers pass "localhost" */
	CHECK_INT(validate("server.crt", "127.0.0.1", cn, sizeof(cn)), BR_ERR_X509_BAD_SERVER_NAME);
	CHECK_INT(validate("server.crt", "other.example.test", cn, sizeof(cn)),
		  BR_ERR_X509_BAD_SERVER_NAME);
	CHECK_INT(validate("client.crt", NULL, cn, sizeof(cn)), 0);
	CHECK_STR(cn, "openshell-client");
	CHECK_INT(validate("ca.crt", NULL, cn, sizeof(cn)), 0); /* the anchor itself */
	drop_pki();
}

TEST(pki_files_modes_and_keys)
{
	struct err e = ERR_INIT;
	struct pki_key k;
	struct pki_chain srv, cli;
	struct buf ca = BUF_INIT, crt = BUF_INIT, key = BUF_INIT, file = BUF_INIT;
	struct stat st;

	make_pki(NULL);
	CHECK_INT(stat(tls, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0700);
	CHECK_INT(stat(in_tls("ca.key"), &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(stat(in_tls("server.key"), &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(stat(in_tls("client.key"), &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(stat(in_tls("ca.crt"), &st), 0);
	CHECK_INT(st.st_mode & 0777, 0644);
	CHECK(!path_exists(in_tls("../tls.tmp")));
	CHECK_INT(read_file(in_tls("server.key"), 4096, &file, &e), 0);
	CHECK(strstr(file.p, "-----BEGIN PRIVATE KEY-----\n") == file.p); /* PKCS#8 */
	CHECK_INT(pki_load_key(in_tls("server.key"), &k, &e), 0);
	CHECK_INT(k.sk.curve, BR_EC_secp256r1);
	CHECK_INT(k.sk.xlen, 32);
	load_cert("server.crt", &srv);
	load_cert("client.crt", &cli);
	CHECK(pki_key_matches_cert(&k, &srv.certs[0]));
	CHECK(!pki_key_matches_cert(&k, &cli.certs[0]));
	pki_key_clear(&k);
	CHECK_INT(pki_client_bundle(tls, &ca, &crt, &key, &e), 0);
	CHECK(strstr(ca.p, "BEGIN CERTIFICATE") && strstr(crt.p, "BEGIN CERTIFICATE"));
	CHECK_INT(pki_parse_key("tls.key", key.p, key.len, &k, &e), 0);
	CHECK(pki_key_matches_cert(&k, &cli.certs[0]));
	CHECK_INT(pki_generate(tls, "gw", NULL, &e), -1); /* never over an existing dir */
	CHECK_INT(e.code, ERR_EXISTS);
	pki_key_clear(&k);
	pki_chain_release(&srv);
	pki_chain_release(&cli);
	buf_release(&ca), buf_release(&crt), buf_release(&key), buf_release(&file);
	drop_pki();
}

TEST(pki_rejects_bad_sans_and_leaves_nothing)
{
	struct err e = ERR_INIT;
	const char *bad[] = { "ok.example", "bad name", NULL };
	const char *many[PKI_EXTRA_SANS_MAX + 2];
	size_t i;

	snprintf(dir, sizeof(dir), "/tmp/os-pki-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(tls, sizeof(tls), "%s/tls", dir);
	CHECK_INT(pki_generate(tls, "gw", bad, &e), -1);
	CHECK_INT(e.code, ERR_INVALID);
	CHECK(strstr(e.msg, "invalid server SAN 'bad name'") != NULL);
	CHECK(!path_exists(tls));
	CHECK(!path_exists(in_tls("../tls.tmp")));
	CHECK_INT(pki_generate(tls, "gw", (const char *[]){ "", NULL }, &e), -1);
	CHECK_INT(pki_generate(tls, "gw", (const char *[]){ "h\xc3\xa9", NULL }, &e), -1);
	CHECK_INT(pki_generate(tls, "bad/name", NULL, &e), -1);
	for (i = 0; i < PKI_EXTRA_SANS_MAX + 1; i++)
		many[i] = "x.example";
	many[i] = NULL;
	CHECK_INT(pki_generate(tls, "gw", many, &e), -1);
	CHECK_INT(e.code, ERR_LIMIT);
	CHECK(!path_exists(tls));
	drop_pki();
}

/* PEM of a DER blob, with a banner. */
static void pem_of(struct buf *out, const char *banner, const void *der, size_t len)
{
	size_t n = br_pem_encode(NULL, der, len, banner, BR_PEM_LINE64);

	buf_grow(out, n + 1);
	br_pem_encode(out->p + out->len, der, len, banner, BR_PEM_LINE64);
	buf_setlen(out, out->len + n);
}

TEST(pki_key_formats)
{
	struct err e = ERR_INIT;
	struct pki_key k, k2;
	struct buf text = BUF_INIT, pem = BUF_INIT;
	unsigned char der[512], kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	br_hmac_drbg_context rng;
	br_rsa_private_key rsk;
	br_rsa_public_key rpk;
	unsigned char rsk_buf[BR_RSA_KBUF_PRIV_SIZE(512)], rpk_buf[BR_RSA_KBUF_PUB_SIZE(512)];
	size_t n;

	make_pki(NULL);
	CHECK_INT(read_file(in_tls("client.key"), 4096, &text, &e), 0);
	CHECK_INT(pki_parse_key("client.key", text.p, text.len, &k, &e), 0);
	/* the same key as SEC 1 "EC PRIVATE KEY" */
	n = br_encode_ec_raw_der(der, &k.sk, NULL);
	CHECK(n > 0);
	pem_of(&pem, "EC PRIVATE KEY", der, n);
	CHECK_INT(pki_parse_key("sec1.key", pem.p, pem.len, &k2, &e), 0);
	CHECK_INT(k2.sk.xlen, k.sk.xlen);
	CHECK(!memcmp(k2.x, k.x, k.sk.xlen));
	/* without the final newline, and after some text */
	buf_reset(&pem);
	buf_adds(&pem, "a key follows\n");
	buf_add(&pem, text.p, text.len - 1);
	CHECK_INT(pki_parse_key("k", pem.p, pem.len, &k2, &e), 0);
	/* an RSA key is named as such */
	br_hmac_drbg_init(&rng, &br_sha256_vtable, "seed", 4);
	CHECK(br_rsa_keygen_get_default()(&rng.vtable, &rsk, rsk_buf, &rpk, rpk_buf, 512, 3));
	n = br_encode_rsa_pkcs8_der(der, &rsk, &rpk, NULL, 0);
	CHECK(n > 0 && n <= sizeof(der));
	buf_reset(&pem);
	pem_of(&pem, "PRIVATE KEY", der, n);
	CHECK_INT(pki_parse_key("rsa.key", pem.p, pem.len, &k2, &e), -1);
	CHECK(strstr(e.msg, "'rsa.key' holds an RSA private key") != NULL);
	(void)kbuf;
	pki_key_clear(&k);
	pki_key_clear(&k2);
	buf_release(&text);
	buf_release(&pem);
	drop_pki();
}

static void expect_chain_error(const char *pem, size_t len, const char *msg)
{
	struct err e = ERR_INIT;
	struct pki_chain c;

	if (pki_parse_chain("/x/ca.crt", pem, len, &c, &e) != -1) {
		unit_fail(__FILE__, __LINE__, "accepted, expected '%s'", msg);
		pki_chain_release(&c);
		return;
	}
	if (!strstr(e.msg, msg))
		unit_fail(__FILE__, __LINE__, "error '%s', expected '%s'", e.msg, msg);
	CHECK(c.certs == NULL && c.n == 0);
}

TEST(pki_loaders_reject_garbage)
{
	struct err e = ERR_INIT;
	struct pki_chain c, ca;
	struct pki_key k;
	struct pki_anchor a;
	struct buf text = BUF_INIT, pem = BUF_INIT, big = BUF_INIT;
	unsigned char der[4096];
	const char *bad = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	size_t i;

	expect_chain_error("hello", 5, "'/x/ca.crt' holds no certificate");
	expect_chain_error("", 0, "holds no certificate");
	expect_chain_error(bad, strlen(bad), "'/x/ca.crt' is not a valid certificate");
	expect_chain_error("-----BEGIN CERTIFICATE-----\nAAAA", 32, "has no END line");
	expect_chain_error("-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----\n", 60,
			   "is not valid PEM");
	CHECK_INT(pki_parse_key("/x/tls.key", bad, strlen(bad), &k, &e), -1);
	CHECK_STR(e.msg, "'/x/tls.key' holds no private key");
	make_pki(NULL);
	CHECK_INT(read_file(in_tls("server.crt"), 8192, &text, &e), 0);
	CHECK_INT(pki_parse_chain("s", text.p, text.len, &c, &e), 0);
	/* a certificate with a byte after it, and a truncated one */
	memcpy(der, c.certs[0].data, c.certs[0].data_len);
	der[c.certs[0].data_len] = 0;
	pem_of(&pem, "CERTIFICATE", der, c.certs[0].data_len + 1);
	expect_chain_error(pem.p, pem.len, "bad DER framing");
	buf_reset(&pem);
	pem_of(&pem, "CERTIFICATE", der, c.certs[0].data_len - 1);
	expect_chain_error(pem.p, pem.len, "is not a valid certificate");
	/* a flipped byte inside the TBS still decodes, but no longer verifies: not our job here;
	 * a leaf is not a CA */
	CHECK_INT(pki_anchor_from_cert("server.crt", &c.certs[0], &a, &e), -1);
	CHECK(strstr(e.msg, "'server.crt' is not a CA certificate") != NULL);
	/* limits: 17 objects, and more than PKI_PEM_MAX bytes */
	for (i = 0; i < PKI_PEM_OBJECTS + 1; i++)
		buf_add(&big, text.p, text.len);
	expect_chain_error(big.p, big.len, "holds more than 16 PEM objects");
	buf_reset(&big);
	while (big.len <= PKI_PEM_MAX)
		buf_adds(&big, "# filler line that is not PEM at all\n");
	expect_chain_error(big.p, big.len, "is larger than");
	/* a chain of two in file order, with text around */
	buf_reset(&big);
	buf_adds(&big, "Certificate:\n  junk\n");
	buf_add(&big, text.p, text.len);
	CHECK_INT(read_file(in_tls("ca.crt"), 8192, &big, &e), 0);
	CHECK_INT(pki_parse_chain("chain", big.p, big.len, &ca, &e), 0);
	CHECK_INT(ca.n, 2);
	CHECK_INT(ca.certs[0].data_len, c.certs[0].data_len);
	pki_chain_release(&ca);
	CHECK_INT(pki_load_chain(in_tls("missing.crt"), &ca, &e), -1);
	CHECK(strstr(e.msg, "missing.crt") != NULL);
	pki_chain_release(&c);
	buf_release(&text), buf_release(&pem), buf_release(&big);
	drop_pki();
}
