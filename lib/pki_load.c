/* SPDX-License-Identifier: Apache-2.0 */
/* PEM, private key and trust anchor loading for the TLS code; see pki.h. Bounded and strict. */
#include "pki.h"
#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "xalloc.h"

#include <stdio.h>
#include <string.h>

#define PEM_FILE_MAX (256 * 1024)
#define PEM_OBJECTS_MAX 16

struct pem_obj {
	char name[128];
	struct buf der;
};

struct pem_state {
	struct pem_obj objs[PEM_OBJECTS_MAX];
	size_t n;
	bool in_obj, overflow;
};

static void pem_append(void *ctx, const void *data, size_t len)
{
	struct pem_state *s = ctx;

	if (s->n && s->in_obj) {
		if (s->objs[s->n - 1].der.len + len > PEM_FILE_MAX)
			s->overflow = true;
		else
			buf_add(&s->objs[s->n - 1].der, data, len);
	}
}

static void pem_release(struct pem_state *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		explicit_bzero(s->objs[i].der.p, s->objs[i].der.len);
		buf_release(&s->objs[i].der);
	}
	s->n = 0;
}

/* Decodes every PEM object in text. */
static int pem_decode(const char *what, const char *text, size_t len, struct pem_state *s,
		      struct err *e)
{
	br_pem_decoder_context pc;
	size_t off = 0;

	memset(s, 0, sizeof(*s));
	br_pem_decoder_init(&pc);
	while (off < len) {
		off += br_pem_decoder_push(&pc, text + off, len - off);
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			if (s->n == PEM_OBJECTS_MAX)
				return pem_release(s), err_set(e, ERR_INVALID, 0,
							       "'%s' holds too many PEM objects", what);
			snprintf(s->objs[s->n].name, sizeof(s->objs[s->n].name), "%s",
				 br_pem_decoder_name(&pc));
			buf_init(&s->objs[s->n].der);
			s->n++;
			s->in_obj = true;
			br_pem_decoder_setdest(&pc, pem_append, s);
			break;
		case BR_PEM_END_OBJ:
			s->in_obj = false;
			break;
		case BR_PEM_ERROR:
			pem_release(s);
			return err_set(e, ERR_INVALID, 0, "'%s' is not valid PEM", what);
		default:
			break;
		}
	}
	if (s->in_obj || s->overflow) {
		pem_release(s);
		return err_set(e, ERR_INVALID, 0, "'%s' is not valid PEM (%s)", what,
			       s->overflow ? "object too large" : "unterminated object");
	}
	return 0;
}

static int check_cert(const char *what, const struct buf *der, struct err *e)
{
	br_x509_decoder_context dc;

	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, der->p, der->len);
	if (!br_x509_decoder_get_pkey(&dc) || br_x509_decoder_last_error(&dc))
		return err_set(e, ERR_INVALID, 0, "'%s' is not a valid certificate (BearSSL error %d)",
			       what, br_x509_decoder_last_error(&dc));
	return 0;
}

int pki_parse_chain(const char *what, const char *pem, size_t len, struct pki_chain *out,
		    struct err *e)
{
	struct pem_state s;
	size_t i;

	out->certs = NULL;
	out->n = 0;
	if (pem_decode(what, pem, len, &s, e) < 0)
		return -1;
	for (i = 0; i < s.n; i++) {
		if (strcmp(s.objs[i].name, "CERTIFICATE") != 0)
			continue;
		if (check_cert(what, &s.objs[i].der, e) < 0) {
			pki_chain_release(out);
			pem_release(&s);
			return -1;
		}
		out->certs = xreallocarray(out->certs, out->n + 1, sizeof(*out->certs));
		out->certs[out->n].data_len = s.objs[i].der.len;
		out->certs[out->n++].data =
			(unsigned char *)buf_detach(&s.objs[i].der, NULL);
	}
	pem_release(&s);
	if (!out->n)
		return err_set(e, ERR_INVALID, 0, "'%s' holds no certificate", what);
	return 0;
}

int pki_load_chain(const char *path, struct pki_chain *out, struct err *e)
{
	struct buf text = BUF_INIT;
	int r = read_file(path, PEM_FILE_MAX, &text, e);

	if (r == 0)
		r = pki_parse_chain(path, text.p, text.len, out, e);
	buf_release(&text);
	return r;
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

int pki_parse_key(const char *what, const char *pem, size_t len, struct pki_key *out,
		  struct err *e)
{
	br_skey_decoder_context kc;
	const br_ec_private_key *k;
	struct pem_state s;
	size_t i;
	int ret = -1;

	if (pem_decode(what, pem, len, &s, e) < 0)
		return -1;
	for (i = 0; i < s.n; i++) {
		if (strcmp(s.objs[i].name, "PRIVATE KEY") && strcmp(s.objs[i].name, "EC PRIVATE KEY"))
			continue;
		br_skey_decoder_init(&kc);
		br_skey_decoder_push(&kc, s.objs[i].der.p, s.objs[i].der.len);
		k = br_skey_decoder_get_ec(&kc);
		if (br_skey_decoder_last_error(&kc) || !k || k->xlen > sizeof(out->x)) {
			err_set(e, ERR_INVALID, 0, "'%s' holds no usable EC private key", what);
			goto out;
		}
		memcpy(out->x, k->x, k->xlen);
		out->sk.curve = k->curve;
		out->sk.x = out->x;
		out->sk.xlen = k->xlen;
		ret = 0;
		goto out;
	}
	err_set(e, ERR_INVALID, 0, "'%s' holds no private key", what);
out:
	explicit_bzero(&kc, sizeof(kc));
	pem_release(&s);
	return ret;
}

int pki_load_key(const char *path, struct pki_key *out, struct err *e)
{
	struct buf text = BUF_INIT;
	int r = read_file(path, PEM_FILE_MAX, &text, e);

	if (r == 0)
		r = pki_parse_key(path, text.p, text.len, out, e);
	explicit_bzero(text.p, text.len);
	buf_release(&text);
	return r;
}

struct dn_acc {
	unsigned char *p;
	size_t len, cap;
	bool overflow;
};

static void dn_append(void *ctx, const void *data, size_t len)
{
	struct dn_acc *a = ctx;

	if (a->len + len > a->cap) {
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

	br_x509_decoder_init(&dc, dn_append, &dn);
	br_x509_decoder_push(&dc, ca->data, ca->data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || dn.overflow || br_x509_decoder_last_error(&dc))
		return err_set(e, ERR_INVALID, 0, "'%s' is not a valid CA certificate", what);
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
