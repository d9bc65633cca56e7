/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's PKI: an ECDSA P-256 CA, a server certificate and a client certificate,
 * written as PEM into the gateway's tls/ directory (keys PKCS#8, 0600; directory 0700),
 * and the loaders the TLS code needs (PEM -> DER, private keys, trust anchors).
 * Certificates are made with our DER writer and BearSSL's ECDSA and are accepted by
 * OpenSSL (STYLE.md §3a.5).
 */
#ifndef OS_PKI_H
#define OS_PKI_H

#include <bearssl.h>
#include <stddef.h>

struct buf;
struct err;

/* Creates tls_dir with ca.crt ca.key server.crt server.key client.crt client.key.
 * Server SANs: DNS localhost, the gateway name, the host name, IP 127.0.0.1 and ::1, and
 * every extra SAN (an IP literal gets an iPAddress and a dNSName, since BearSSL only
 * matches DNS names). Fails if tls_dir exists. */
int pki_generate(const char *tls_dir, const char *gateway_name, const char *const *extra_sans,
		 struct err *e);
/* Reads the client bundle: ca.crt, client.crt, client.key. */
int pki_client_bundle(const char *tls_dir, struct buf *ca, struct buf *crt, struct buf *key,
		      struct err *e);

/* A certificate chain decoded from PEM ("CERTIFICATE" objects, in file order). */
struct pki_chain {
	br_x509_certificate *certs;
	size_t n;
};
int pki_load_chain(const char *path, struct pki_chain *out, struct err *e);
int pki_parse_chain(const char *what, const char *pem, size_t len, struct pki_chain *out,
		    struct err *e);
void pki_chain_release(struct pki_chain *c);

/* An EC private key ("PRIVATE KEY" PKCS#8 or "EC PRIVATE KEY"). */
struct pki_key {
	br_ec_private_key sk;
	unsigned char x[BR_EC_KBUF_PRIV_MAX_SIZE];
};
int pki_load_key(const char *path, struct pki_key *out, struct err *e);
int pki_parse_key(const char *what, const char *pem, size_t len, struct pki_key *out,
		  struct err *e);

/* A trust anchor made from a CA certificate (DN and public key copied; owned). */
struct pki_anchor {
	br_x509_trust_anchor ta;
	unsigned char dn[1024];
	unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
};
int pki_anchor_from_cert(const char *what, const br_x509_certificate *ca, struct pki_anchor *out,
			 struct err *e);

#endif
