/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/der.h"
#include "../../lib/err.h"
#include "../../lib/fsutil.h"
#include "../../lib/pki.h"

#include <stdlib.h>
#include <sys/stat.h>

static char dir[64], tls[96];

static void make_pki(void)
{
	struct err e = ERR_INIT;
	const char *sans[] = { "gw.example.test", "10.1.2.3", NULL };

	snprintf(dir, sizeof(dir), "/tmp/os-pki-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(tls, sizeof(tls), "%s/tls", dir);
	CHECK_INT(pki_generate(tls, "gw", sans, &e), 0);
	if (e.msg[0])
		fprintf(stderr, "  %s\n", e.msg);
}

static int validate(const char *leaf, const char *server_name)
{
	char path[160];
	struct err e = ERR_INIT;
	struct pki_chain ca, chain;
	struct pki_anchor a;
	br_x509_minimal_context xc;
	const br_x509_class *vt;
	unsigned usages;
	int r;

	snprintf(path, sizeof(path), "%s/ca.crt", tls);
	CHECK_INT(pki_load_chain(path, &ca, &e), 0);
	CHECK_INT(pki_anchor_from_cert(path, &ca.certs[0], &a, &e), 0);
	snprintf(path, sizeof(path), "%s/%s", tls, leaf);
	CHECK_INT(pki_load_chain(path, &chain, &e), 0);
	br_x509_minimal_init_full(&xc, &a.ta, 1);
	vt = xc.vtable;
	vt->start_chain(&xc.vtable, server_name);
	vt->start_cert(&xc.vtable, (uint32_t)chain.certs[0].data_len);
	vt->append(&xc.vtable, chain.certs[0].data, chain.certs[0].data_len);
	vt->end_cert(&xc.vtable);
	r = (int)vt->end_chain(&xc.vtable);
	(void)vt->get_pkey(&xc.vtable, &usages);
	pki_chain_release(&ca);
	pki_chain_release(&chain);
	return r;
}

TEST(pki_generates_a_chain_bearssl_validates)
{
	struct err e = ERR_INIT;
	struct pki_key k;
	struct stat st;
	char path[160];

	make_pki();
	CHECK_INT(validate("server.crt", "localhost"), 0);
	CHECK_INT(validate("server.crt", "gw"), 0);
	CHECK_INT(validate("server.crt", "10.1.2.3"), 0); /* as a dNSName for BearSSL */
	CHECK_INT(validate("server.crt", "gw.example.test"), 0);
	CHECK_INT(validate("server.crt", "other.example.test"), BR_ERR_X509_BAD_SERVER_NAME);
	CHECK_INT(validate("client.crt", NULL), 0);
	snprintf(path, sizeof(path), "%s/server.key", tls);
	CHECK_INT(pki_load_key(path, &k, &e), 0);
	CHECK_INT(k.sk.curve, BR_EC_secp256r1);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(stat(tls, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0700);
	CHECK_INT(pki_generate(tls, "gw", NULL, &e), -1); /* never over an existing dir */
	CHECK_INT(e.code, ERR_EXISTS);
	remove_tree(dir, &e);
}

TEST(pki_loaders_reject_garbage)
{
	struct err e = ERR_INIT;
	struct pki_chain c;
	struct pki_key k;
	const char *bad = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

	CHECK_INT(pki_parse_chain("x.crt", "hello", 5, &c, &e), -1);
	CHECK(strstr(e.msg, "'x.crt' holds no certificate") != NULL);
	CHECK_INT(pki_parse_chain("x.crt", bad, strlen(bad), &c, &e), -1);
	CHECK(strstr(e.msg, "not a valid certificate") != NULL);
	CHECK_INT(pki_parse_key("x.key", bad, strlen(bad), &k, &e), -1);
	CHECK(strstr(e.msg, "holds no private key") != NULL);
	CHECK_INT(pki_parse_chain("x.crt", "-----BEGIN CERTIFICATE-----\nAAAA", 32, &c, &e), -1);
}

TEST(der_encodes_known_values)
{
	unsigned char b[64];
	struct der w;
	static const unsigned char want[] = { 0x30, 0x08, 0x02, 0x01, 0x00, 0x02, 0x03, 0x00, 0x80, 0x00 };
	static const unsigned char v[] = { 0x00, 0x80, 0x00 };
	size_t n;

	der_init(&w, b, sizeof(b));
	n = (size_t)der_uint(&w, v, 3);
	n += (size_t)der_small_int(&w, 0);
	der_wrap(&w, DER_SEQUENCE, n - 0);
	CHECK_INT(der_len(&w), sizeof(want) - 0);
	CHECK(memcmp(der_data(&w), want, sizeof(want)) == 0);
	der_init(&w, b, 3);
	CHECK_INT(der_small_int(&w, 300), -1);
	CHECK(w.err);
}
