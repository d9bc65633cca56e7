/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's PKI (reference gateway.md 3.1): an ECDSA P-256 CA, a server certificate and a
 * client certificate, written as PEM into the gateway's tls/ directory, and the loaders the
 * TLS code needs (PEM -> DER chain, PEM -> EC private key, CA certificate -> trust anchor).
 * Certificates are built with our DER writer (der.h) and signed with BearSSL's ECDSA; OpenSSL
 * accepts them (STYLE.md 3a.5). Callers: gateway/daemon.c (first start), cmd/ (client bundle),
 * lib/tls.c (loaders).
 */
#ifndef OS_PKI_H
#define OS_PKI_H

#include <bearssl.h>
#include <stdbool.h>
#include <stddef.h>

struct buf;
struct err;

/* Largest PEM file the loaders read, and most objects (certificates, keys) in one file. */
#define PKI_PEM_MAX	(256 * 1024)
#define PKI_PEM_OBJECTS 16
/* Most extra server SANs pki_generate takes; each at most 253 bytes (a DNS name). */
#define PKI_EXTRA_SANS_MAX 32

/*
 * Creates tls_dir (0700) holding ca.crt, ca.key, server.crt, server.key, client.crt and
 * client.key (keys PKCS#8 PEM, 0600; certificates 0644). The files are made in
 * "<tls_dir>.tmp" and the directory is renamed into place, so tls_dir is either complete
 * or absent. Fails with ERR_EXISTS if tls_dir exists.
 *
 * Subjects follow the reference: CA "O=openshell, CN=openshell-ca", server
 * "CN=openshell-server", client "CN=openshell-client, OU=openshell-user". Validity: from one
 * hour ago (BearSSL checks time() with no skew allowance) to 4096-01-01, the reference's
 * (rcgen's) "never expires". Server SANs: DNS localhost, DNS gateway_name, DNS <hostname>,
 * IP 127.0.0.1, IP ::1, and each extra_sans entry (NULL-terminated list, may be NULL): an
 * IPv4/IPv6 literal gives an iPAddress and a dNSName with the same text (BearSSL matches
 * only dNSName and CN), anything else a dNSName. A SAN that is empty, longer than 253 bytes
 * or not printable ASCII is an ERR_INVALID error.
 */
int pki_generate(const char *tls_dir, const char *gateway_name, const char *const *extra_sans,
		 struct err *e);

/* Reads the client bundle from tls_dir: ca.crt, client.crt (the registry's tls.crt) and
 * client.key (tls.key), appended to the three buffers. On failure the buffers may hold part
 * of the data: release them (key is secret: zero it first, as buf_release does not). */
int pki_client_bundle(const char *tls_dir, struct buf *ca, struct buf *crt, struct buf *key,
		      struct err *e);

/* A certificate chain decoded from PEM: the "CERTIFICATE" objects in file order (other
 * objects are skipped). Each is checked with br_x509_decoder. Owned: pki_chain_release. */
struct pki_chain {
	br_x509_certificate *certs;
	size_t n;
};
/* "'<what>' holds no certificate", "'<what>' is not a valid certificate (...)", ... */
int pki_parse_chain(const char *what, const void *pem, size_t len, struct pki_chain *out,
		    struct err *e);
int pki_load_chain(const char *path, struct pki_chain *out, struct err *e);
void pki_chain_release(struct pki_chain *c);

/* An EC private key (P-256, P-384 or P-521) from "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY"
 * (SEC 1); the first key object in the file is used. sk.x points into x. Secret: zero it
 * with pki_key_clear. */
struct pki_key {
	br_ec_private_key sk;
	unsigned char x[BR_EC_KBUF_PRIV_MAX_SIZE];
};
/* "'<what>' holds no private key", "'<what>' holds an RSA private key ...", ... */
int pki_parse_key(const char *what, const void *pem, size_t len, struct pki_key *out,
		  struct err *e);
int pki_load_key(const char *path, struct pki_key *out, struct err *e);
void pki_key_clear(struct pki_key *k);
/* Whether cert's public key is the one of key (catches a server.key that belongs to
 * another certificate before BearSSL fails the handshake with an obscure error). */
bool pki_key_matches_cert(const struct pki_key *key, const br_x509_certificate *cert);

/* A trust anchor made from a CA certificate (DN and EC public key copied; self-contained,
 * no allocation). Fails unless the certificate is a CA (basicConstraints cA) with an EC key. */
struct pki_anchor {
	br_x509_trust_anchor ta;
	unsigned char dn[1024];
	unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
};
int pki_anchor_from_cert(const char *what, const br_x509_certificate *ca, struct pki_anchor *out,
			 struct err *e);

#endif
