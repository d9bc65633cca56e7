/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PEM, private key and trust anchor loading for the TLS code (see pki.h). Strict and
 * bounded: at most PKI_PEM_MAX bytes of text and PKI_PEM_OBJECTS objects, every certificate
 * checked with br_x509_decoder and its outer DER length with ours, and errors that name the
 * file and what is wrong with it. Decoded key material is zeroed before it is freed.
 */
#include "pki.h"
#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "tls.h"
#include "xalloc.h"

#include <stdio.h>
#include <string.h>

/* Largest decoded object: certificates are well below 8 KiB, keys below 256 bytes. */
#define OBJ_MAX (64 * 1024)

struct pem_obj {
	char name[128];
	struct buf der;
};

struct pem_objs {
	struct pem_obj v[PKI_PEM_OBJECTS];
	size_t n;
	bool in_obj, too_large;
};

static void pem_append(void *ctx, const void *data, size_t len)
{
	struct pem_objs *s = ctx;
	struct buf *b = &s->v[s->n - 1].der;

	if (b->len + len > OBJ_MAX)
		s->too_large = true;
	else
		buf_add(b, data, len);
}

static void pem_release(struct pem_objs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		explicit_bzero(s->v[i].der.p, s->v[i].der.len);
		buf_release(&s->v[i].der);
	}
	s->n = 0;
}

/* Handles one decoder event; -1 with e set when the text is unusable. */
static int pem_event(const char *what, br_pem_decoder_context *pc, int ev, struct pem_objs *s,
		     struct err *e)
{
	switch (ev) {
	case BR_PEM_BEGIN_OBJ:
		if (s->n == PKI_PEM_OBJECTS)
			return err_set(e, ERR_INVALID, 0, "'%s' holds more than %d PEM objects",
				       what, PKI_PEM_OBJECTS);
		snprintf(s->v[s->n].name, sizeof(s->v[s->n].name), "%s", br_pem_decoder_name(pc));
		buf_init(&s->v[s->n++].der);
		s->in_obj = true;
		br_pem_decoder_setdest(pc, pem_append, s);
		return 0;
	case BR_PEM_END_OBJ:
		s->in_obj = false;
		return 0;
	case BR_PEM_ERROR:
		return err_set(e, ERR_INVALID, 0, "'%s' is not valid PEM", what);
	default:
		return 0;
	}
}

/* Decodes every PEM object in text; out is released on failure. */
static int pem_decode(const char *what, const void *text, size_t len, struct pem_objs *s,
		      struct err *e)
{
	const unsigned char *p = text;
	br_pem_decoder_context pc;
	size_t off = 0, k;
	bool flushed = false;
	int ev;

	memset(s, 0, sizeof(*s));
	if (len > PKI_PEM_MAX)
		return err_set(e, ERR_LIMIT, 0, "'%s' is larger than %d bytes", what, PKI_PEM_MAX);
	br_pem_decoder_init(&pc);
	for (;;) {
		if (off == len && !flushed) {
			/* the decoder ends an object only at a newline: give a last line one */
			p = (const unsigned char *)"\n";
			off = 0;
			len = 1;
			flushed = true;
		}
		k = br_pem_decoder_push(&pc, p + off, len - off);
		off += k;
		ev = br_pem_decoder_event(&pc);
		if (pem_event(what, &pc, ev, s, e) < 0)
			goto fail;
		if (s->too_large) {
			err_set(e, ERR_LIMIT, 0, "'%s' holds a PEM object larger than %d bytes",
				what, OBJ_MAX);
			goto fail;
		}
		if (off == len && flushed)
			break;
		if (!k && !ev) /* cannot happen (push stops only at an event); never spin */
			break;
	}
	if (s->in_obj) {
		err_set(e, ERR_INVALID, 0, "'%s' is not valid PEM (an object has no END line)",
			what);
		goto fail;
	}
	return 0;
fail:
	pem_release(s);
	return -1;
}

/* The outer SEQUENCE must span the object exactly (BearSSL's decoder ignores what follows). */
static bool der_outer_exact(const unsigned char *p, size_t n)
{
	size_t len = 0, hdr = 2, k, i;

	if (n < 2 || p[0] != 0x30)
		return false;
	if (p[1] < 0x80) {
		len = p[1];
	} else {
		k = p[1] & 0x7f;
		if (k == 0 || k > 3 || n < 2 + k || p[2] == 0)
			return false;
		for (i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
		if (len < 0x80)
			return false; /* not minimal */
		hdr += k;
	}
	return hdr + len == n;
}

static int check_cert(const char *what, const struct buf *der, struct err *e)
{
	br_x509_decoder_context dc;
	int err;

	if (!der_outer_exact((const unsigned char *)der->p, der->len))
		return err_set(e, ERR_INVALID, 0,
			       "'%s' is not a valid certificate (bad DER framing)", what);
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, der->p, der->len);
	err = br_x509_decoder_last_error(&dc);
	if (err || !br_x509_decoder_get_pkey(&dc))
		return err_set(e, ERR_INVALID, 0, "'%s' is not a valid certificate (%s)", what,
			       tls_error_name(err ? err : BR_ERR_X509_TRUNCATED));
	return 0;
}

static bool is_cert_name(const char *name)
{
	/* OpenSSL also writes "X509 CERTIFICATE" and "TRUSTED CERTIFICATE" (with extra data) */
	return !strcmp(name, "CERTIFICATE") || !strcmp(name, "X509 CERTIFICATE");
}

int pki_parse_chain(const char *what, const void *pem, size_t len, struct pki_chain *out,
		    struct err *e)
{
	struct pem_objs s;
	size_t i;
	int ret = -1;

	out->certs = NULL;
	out->n = 0;
	if (pem_decode(what, pem, len, &s, e) < 0)
		return -1;
	for (i = 0; i < s.n; i++) {
		if (!is_cert_name(s.v[i].name))
			continue;
		if (check_cert(what, &s.v[i].der, e) < 0)
			goto out;
		out->certs = xreallocarray(out->certs, out->n + 1, sizeof(*out->certs));
		out->certs[out->n].data_len = s.v[i].der.len;
		out->certs[out->n++].data = (unsigned char *)buf_detach(&s.v[i].der, NULL);
	}
	if (!out->n) {
		err_set(e, ERR_INVALID, 0, "'%s' holds no certificate", what);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		pki_chain_release(out);
	pem_release(&s);
	return ret;
}

int pki_load_chain(const char *path, struct pki_chain *out, struct err *e)
{
	struct buf text = BUF_INIT;
	int ret;

	out->certs = NULL;
	out->n = 0;
	ret = read_file(path, PKI_PEM_MAX, &text, e);
	if (ret == 0)
		ret = pki_parse_chain(path, text.p, text.len, out, e);
	buf_release(&text);
	return ret;
}

void pki_chain_release(struct pki_chain *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->certs[i].data);
	free(c->certs);
	c->certs = NULL;
	c->n = 0;
}

static bool curve_ok(int curve)
{
	return curve == BR_EC_secp256r1 || curve == BR_EC_secp384r1 || curve == BR_EC_secp521r1;
}

/* One "PRIVATE KEY" or "EC PRIVATE KEY" object into out. */
static int decode_key(const char *what, const struct buf *der, struct pki_key *out, struct err *e)
{
	br_skey_decoder_context kc;
	const br_ec_private_key *k;
	int ret = -1;

	br_skey_decoder_init(&kc);
	br_skey_decoder_push(&kc, der->p, der->len);
	if (br_skey_decoder_last_error(&kc)) {
		err_set(e, ERR_INVALID, 0, "'%s' holds a damaged private key (%s)", what,
			tls_error_name(br_skey_decoder_last_error(&kc)));
		goto out;
	}
	if (br_skey_decoder_key_type(&kc) == BR_KEYTYPE_RSA) {
		err_set(e, ERR_INVALID, 0,
			"'%s' holds an RSA private key: openshell uses EC keys "
			"(P-256)",
			what);
		goto out;
	}
	k = br_skey_decoder_get_ec(&kc);
	if (!k || !curve_ok(k->curve) || k->xlen == 0 || k->xlen > sizeof(out->x)) {
		err_set(e, ERR_INVALID, 0, "'%s' holds an EC key on an unsupported curve", what);
		goto out;
	}
	memcpy(out->x, k->x, k->xlen);
	out->sk.curve = k->curve;
	out->sk.x = out->x;
	out->sk.xlen = k->xlen;
	ret = 0;
out:
	explicit_bzero(&kc, sizeof(kc));
	return ret;
}

int pki_parse_key(const char *what, const void *pem, size_t len, struct pki_key *out, struct err *e)
{
	struct pem_objs s;
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (pem_decode(what, pem, len, &s, e) < 0)
		return -1;
	for (i = 0; i < s.n; i++) {
		if (strcmp(s.v[i].name, "PRIVATE KEY") && strcmp(s.v[i].name, "EC PRIVATE KEY"))
			continue;
		ret = decode_key(what, &s.v[i].der, out, e);
		goto out;
	}
	err_set(e, ERR_INVALID, 0, "'%s' holds no private key", what);
out:
	pem_release(&s);
	if (ret < 0)
		pki_key_clear(out);
	return ret;
}

int pki_load_key(const char *path, struct pki_key *out, struct err *e)
{
	struct buf text = BUF_INIT;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = read_file(path, PKI_PEM_MAX, &text, e);
	if (ret == 0)
		ret = pki_parse_key(path, text.p, text.len, out, e);
	explicit_bzero(text.p, text.len);
	buf_release(&text);
	return ret;
}

void pki_key_clear(struct pki_key *k)
{
	explicit_bzero(k, sizeof(*k));
}

bool pki_key_matches_cert(const struct pki_key *key, const br_x509_certificate *cert)
{
	unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;
	br_ec_public_key pub;
	size_t n;

	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, cert->data, cert->data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || pk->key_type != BR_KEYTYPE_EC || pk->key.ec.curve != key->sk.curve)
		return false;
	n = br_ec_compute_pub(br_ec_get_default(), &pub, q, &key->sk);
	return n && n == pk->key.ec.qlen && !memcmp(q, pk->key.ec.q, n);
}

struct dn_acc {
	unsigned char *p;
	size_t len, cap;
	bool overflow;
};

static void dn_append(void *ctx, const void *data, size_t len)
{
	struct dn_acc *a = ctx;

	if (a->overflow || len > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->p + a->len, data, len);
	a->len += len;
}

int pki_anchor_from_cert(const char *what, const br_x509_certificate *ca, struct pki_anchor *out,
			 struct err *e)
{
	struct dn_acc dn = { out->dn, 0, sizeof(out->dn), false };
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;

	memset(&out->ta, 0, sizeof(out->ta));
	br_x509_decoder_init(&dc, dn_append, &dn);
	br_x509_decoder_push(&dc, ca->data, ca->data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || br_x509_decoder_last_error(&dc))
		return err_set(e, ERR_INVALID, 0, "'%s' is not a valid certificate", what);
	if (dn.overflow || dn.len == 0)
		return err_set(e, ERR_INVALID, 0, "'%s' has an unusable subject name", what);
	if (pk->key_type != BR_KEYTYPE_EC || pk->key.ec.qlen > sizeof(out->q))
		return err_set(e, ERR_INVALID, 0, "'%s' does not hold an EC public key", what);
	if (!br_x509_decoder_isCA(&dc))
		return err_set(e, ERR_INVALID, 0, "'%s' is not a CA certificate", what);
	memcpy(out->q, pk->key.ec.q, pk->key.ec.qlen);
	out->ta.dn.data = out->dn;
	out->ta.dn.len = dn.len;
	out->ta.flags = BR_X509_TA_CA;
	out->ta.pkey.key_type = BR_KEYTYPE_EC;
	out->ta.pkey.key.ec.curve = pk->key.ec.curve;
	out->ta.pkey.key.ec.q = out->q;
	out->ta.pkey.key.ec.qlen = pk->key.ec.qlen;
	return 0;
}
