/* SPDX-License-Identifier: Apache-2.0 */
/* BearSSL error codes in plain language (the idea of BearSSL's tools/errors.c). */
#include "tls.h"

#include <bearssl.h>
#include <stdio.h>

static const struct {
	int code;
	const char *text;
} errors[] = {
	{ BR_ERR_BAD_VERSION, "BR_ERR_BAD_VERSION: the peer does not speak TLS 1.2" },
	{ BR_ERR_BAD_CIPHER_SUITE, "BR_ERR_BAD_CIPHER_SUITE: no cipher suite in common" },
	{ BR_ERR_NO_CLIENT_AUTH,
	  "BR_ERR_NO_CLIENT_AUTH: the client sent no certificate (this gateway requires mTLS)" },
	{ BR_ERR_UNEXPECTED, "BR_ERR_UNEXPECTED: unexpected message (not TLS?)" },
	{ BR_ERR_BAD_PARAM, "BR_ERR_BAD_PARAM: invalid handshake parameter" },
	{ BR_ERR_TOO_LARGE, "BR_ERR_TOO_LARGE: record too large" },
	{ BR_ERR_BAD_MAC, "BR_ERR_BAD_MAC: record authentication failed" },
	{ BR_ERR_IO, "BR_ERR_IO: connection error" },
	{ BR_ERR_X509_EXPIRED, "BR_ERR_X509_EXPIRED: certificate expired or not yet valid (check the clock)" },
	{ BR_ERR_X509_BAD_SERVER_NAME,
	  "BR_ERR_X509_BAD_SERVER_NAME: the server certificate does not carry this host name" },
	{ BR_ERR_X509_NOT_TRUSTED,
	  "BR_ERR_X509_NOT_TRUSTED: certificate is not signed by this gateway's CA" },
	{ BR_ERR_X509_CRITICAL_EXTENSION,
	  "BR_ERR_X509_CRITICAL_EXTENSION: certificate has an unsupported critical extension" },
	{ BR_ERR_X509_NOT_CA, "BR_ERR_X509_NOT_CA: issuer is not a CA" },
	{ BR_ERR_X509_FORBIDDEN_KEY_USAGE, "BR_ERR_X509_FORBIDDEN_KEY_USAGE: key usage forbids this use" },
	{ BR_ERR_X509_WEAK_PUBLIC_KEY, "BR_ERR_X509_WEAK_PUBLIC_KEY: public key too weak" },
	{ BR_ERR_X509_EMPTY_CHAIN, "BR_ERR_X509_EMPTY_CHAIN: the peer sent no certificate" },
};

const char *tls_error_text(int code)
{
	static char other[96];
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == code)
			return errors[i].text;
	if (code >= BR_ERR_SEND_FATAL_ALERT)
		snprintf(other, sizeof(other), "sent TLS alert %d", code - BR_ERR_SEND_FATAL_ALERT);
	else if (code >= BR_ERR_RECV_FATAL_ALERT)
		snprintf(other, sizeof(other), "the peer sent TLS alert %d%s",
			 code - BR_ERR_RECV_FATAL_ALERT,
			 code - BR_ERR_RECV_FATAL_ALERT == 42 || code - BR_ERR_RECV_FATAL_ALERT == 48
				 ? " (it rejected our certificate)"
				 : "");
	else
		snprintf(other, sizeof(other), "TLS error %d", code);
	return other;
}
