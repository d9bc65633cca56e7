/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PEM / certificate / private key loaders (lib/pki_load.c) on arbitrary bytes: they must fail
 * cleanly or return objects that hold together (non-empty certificates, a key that points
 * into its own buffer), and never leak or read out of bounds. The input is tried as PEM
 * text, and as DER wrapped in PEM so that the certificate and key decoders behind the PEM
 * layer see mutated DER too.
 */
#include "lib/err.h"
#include "lib/pki.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_pem(const void *text, size_t len)
{
	struct err e = ERR_INIT;
	struct pki_chain c;
	struct pki_anchor a;
	struct pki_key k;
	size_t i;

	if (pki_parse_chain("fuzz.crt", text, len, &c, &e) == 0) {
		if (!c.n)
			abort();
		for (i = 0; i < c.n; i++) {
			if (!c.certs[i].data || !c.certs[i].data_len)
				abort();
			pki_anchor_from_cert("fuzz.crt", &c.certs[i], &a, &e);
		}
	} else if (c.n || c.certs || !e.msg[0]) {
		abort();
	}
	if (pki_parse_key("fuzz.key", text, len, &k, &e) == 0) {
		if (k.sk.x != k.x || !k.sk.xlen || k.sk.xlen > sizeof(k.x))
			abort();
		if (c.n)
			pki_key_matches_cert(&k, &c.certs[0]);
	}
	pki_key_clear(&k);
	pki_chain_release(&c);
}

static void check_der_as(const char *banner, const uint8_t *der, size_t len)
{
	size_t n = br_pem_encode(NULL, der, len, banner, BR_PEM_LINE64);
	char *text = malloc(n + 1);

	if (!text)
		return;
	br_pem_encode(text, der, len, banner, BR_PEM_LINE64);
	check_pem(text, n);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_pem(data, size);
	if (size && size <= 16384) {
		check_der_as("CERTIFICATE", data, size);
		check_der_as("PRIVATE KEY", data, size);
	}
	return 0;
}
