/* SPDX-License-Identifier: Apache-2.0 */
/* TLS session resumption: the gateway's session table and the CLI's blob; see tls_session.h. */
#include "tls_session.h"

#include <stdio.h>
#include <string.h>

static const unsigned char blob_magic[8] = { 'O', 'S', 'T', 'L', 'S', 'S', '1', '\n' };

static bool expired(const struct tls_session_slot *s, int64_t now_ms)
{
	return now_ms < s->saved_ms || now_ms - s->saved_ms >= TLS_SESSION_TTL_MS;
}

static void wipe(struct tls_session_slot *s)
{
	explicit_bzero(s, sizeof(*s));
}

static bool same_id(const br_ssl_session_parameters *a, const br_ssl_session_parameters *b)
{
	return a->session_id_len == b->session_id_len &&
	       !memcmp(a->session_id, b->session_id, a->session_id_len);
}

/* A free or expired slot, else the oldest. */
static struct tls_session_slot *slot_for_new(struct tls_session_cache *c, int64_t now_ms)
{
	struct tls_session_slot *oldest = &c->slot[0];
	size_t i;

	for (i = 0; i < TLS_SESSION_SLOTS; i++) {
		struct tls_session_slot *s = &c->slot[i];

		if (!s->used || expired(s, now_ms))
			return s;
		if (s->saved_ms < oldest->saved_ms)
			oldest = s;
	}
	return oldest;
}

void tls_session_put(struct tls_session_cache *c, const br_ssl_session_parameters *p,
		     const char *cn, const char *ou, int64_t now_ms)
{
	struct tls_session_slot *s;

	if (p->session_id_len == 0 || p->session_id_len > sizeof(p->session_id))
		return;
	s = slot_for_new(c, now_ms);
	wipe(s);
	s->params = *p;
	snprintf(s->cn, sizeof(s->cn), "%s", cn ? cn : "");
	snprintf(s->ou, sizeof(s->ou), "%s", ou ? ou : "");
	s->saved_ms = now_ms;
	s->used = true;
}

bool tls_session_get(struct tls_session_cache *c, br_ssl_session_parameters *p, char *cn,
		     char *ou, int64_t now_ms)
{
	size_t i;

	for (i = 0; i < TLS_SESSION_SLOTS; i++) {
		struct tls_session_slot *s = &c->slot[i];

		if (!s->used || !same_id(&s->params, p))
			continue;
		if (expired(s, now_ms)) {
			wipe(s);
			return false;
		}
		*p = s->params;
		if (cn)
			memcpy(cn, s->cn, sizeof(s->cn));
		if (ou)
			memcpy(ou, s->ou, sizeof(s->ou));
		return true;
	}
	return false;
}

void tls_session_clear(struct tls_session_cache *c)
{
	explicit_bzero(c, sizeof(*c));
}

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
	while (bytes-- > 0) {
		p[bytes] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t get_be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	while (bytes-- > 0)
		v = v << 8 | *p++;
	return v;
}

/* Layout: magic[8] saved_ms[8] version[2] suite[2] id_len[1] id[32] master[48]. */
int tls_session_encode(const br_ssl_session_parameters *p, int64_t saved_ms,
		       unsigned char out[TLS_SESSION_BLOB_LEN])
{
	unsigned char *q = out;

	if (p->session_id_len == 0 || p->session_id_len > sizeof(p->session_id) || saved_ms < 0)
		return -1;
	memset(out, 0, TLS_SESSION_BLOB_LEN);
	memcpy(q, blob_magic, sizeof(blob_magic));
	q += sizeof(blob_magic);
	put_be(q, (uint64_t)saved_ms, 8);
	q += 8;
	put_be(q, p->version, 2);
	q += 2;
	put_be(q, p->cipher_suite, 2);
	q += 2;
	*q++ = p->session_id_len;
	memcpy(q, p->session_id, sizeof(p->session_id));
	q += sizeof(p->session_id);
	memcpy(q, p->master_secret, sizeof(p->master_secret));
	return 0;
}

int tls_session_decode(const unsigned char *in, size_t n, int64_t now_ms,
		       br_ssl_session_parameters *p)
{
	const unsigned char *q = in + sizeof(blob_magic);
	int64_t saved;

	memset(p, 0, sizeof(*p));
	if (n != TLS_SESSION_BLOB_LEN || memcmp(in, blob_magic, sizeof(blob_magic)) != 0)
		return -1;
	saved = (int64_t)get_be(q, 8);
	if (saved < 0 || now_ms < saved || now_ms - saved >= TLS_SESSION_TTL_MS)
		return -1;
	q += 8;
	p->version = (uint16_t)get_be(q, 2);
	q += 2;
	p->cipher_suite = (uint16_t)get_be(q, 2);
	q += 2;
	p->session_id_len = *q++;
	if (p->session_id_len == 0 || p->session_id_len > sizeof(p->session_id)) {
		memset(p, 0, sizeof(*p));
		return -1;
	}
	memcpy(p->session_id, q, sizeof(p->session_id));
	q += sizeof(p->session_id);
	memcpy(p->master_secret, q, sizeof(p->master_secret));
	return 0;
}
