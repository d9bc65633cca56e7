/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BearSSL error codes in plain language (the idea of BearSSL's tools/errors.c, our words):
 * engine errors 1..31, X.509 errors 32..62, and fatal alerts received (256 + alert) or sent
 * (512 + alert). Used by the gateway's log and the CLI's error messages.
 */
#include "tls.h"

#include <bearssl.h>
#include <stdio.h>

struct code_text {
	int code;
	const char *name, *text;
};

#define E(c, t)          \
	{                \
		c, #c, t \
	}

static const struct code_text errors[] = {
	E(BR_ERR_OK, "no error"),
	E(BR_ERR_BAD_PARAM, "invalid parameter passed to the TLS library"),
	E(BR_ERR_BAD_STATE, "TLS operation in the wrong state"),
	E(BR_ERR_UNSUPPORTED_VERSION, "the peer does not speak TLS 1.2 (plain HTTP sent to a TLS "
				      "port, or the reverse?)"),
	E(BR_ERR_BAD_VERSION, "the peer changed the TLS version in mid-session"),
	E(BR_ERR_BAD_LENGTH, "record with an invalid length (the peer does not speak TLS?)"),
	E(BR_ERR_TOO_LARGE, "record or handshake message too large"),
	E(BR_ERR_BAD_MAC, "record failed its integrity check (data corrupted in transit?)"),
	E(BR_ERR_NO_RANDOM, "no source of randomness available"),
	E(BR_ERR_UNKNOWN_TYPE, "record of an unknown type (the peer does not speak TLS?)"),
	E(BR_ERR_UNEXPECTED, "unexpected message from the peer"),
	E(BR_ERR_BAD_CCS, "invalid ChangeCipherSpec message"),
	E(BR_ERR_BAD_ALERT, "invalid alert message"),
	E(BR_ERR_BAD_HANDSHAKE, "malformed handshake message"),
	E(BR_ERR_OVERSIZED_ID, "the server sent a session ID longer than 32 bytes"),
	E(BR_ERR_BAD_CIPHER_SUITE, "no cipher suite in common (openshell needs ECDHE-ECDSA with "
				   "AES-GCM or ChaCha20-Poly1305)"),
	E(BR_ERR_BAD_COMPRESSION, "the server chose a compression method we did not offer"),
	E(BR_ERR_BAD_FRAGLEN, "maximum fragment length negotiation failed"),
	E(BR_ERR_BAD_SECRENEG, "secure renegotiation failed"),
	E(BR_ERR_EXTRA_EXTENSION, "the server sent an extension we did not ask for"),
	E(BR_ERR_BAD_SNI, "invalid server name indication"),
	E(BR_ERR_BAD_HELLO_DONE, "invalid ServerHelloDone message"),
	E(BR_ERR_LIMIT_EXCEEDED, "a TLS limit was exceeded (key or message too large)"),
	E(BR_ERR_BAD_FINISHED, "handshake integrity check failed (Finished mismatch)"),
	E(BR_ERR_RESUME_MISMATCH, "session resumption with another version or cipher suite"),
	E(BR_ERR_INVALID_ALGORITHM, "unsupported curve, hash or signature algorithm"),
	E(BR_ERR_BAD_SIGNATURE, "the peer's handshake signature does not verify"),
	E(BR_ERR_WRONG_KEY_USAGE, "the peer's key may not be used this way"),
	E(BR_ERR_NO_CLIENT_AUTH, "the client sent no certificate (this gateway requires mTLS)"),
	E(BR_ERR_IO, "connection closed, reset or timed out"),
	E(BR_ERR_X509_OK, "certificate is valid"),
	E(BR_ERR_X509_INVALID_VALUE, "certificate holds an invalid value"),
	E(BR_ERR_X509_TRUNCATED, "certificate is truncated"),
	E(BR_ERR_X509_EMPTY_CHAIN, "the peer sent no certificate"),
	E(BR_ERR_X509_INNER_TRUNC, "certificate is malformed (inner element too long)"),
	E(BR_ERR_X509_BAD_TAG_CLASS, "certificate is malformed (unsupported tag class)"),
	E(BR_ERR_X509_BAD_TAG_VALUE, "certificate is malformed (unsupported tag)"),
	E(BR_ERR_X509_INDEFINITE_LENGTH, "certificate is not DER (indefinite length)"),
	E(BR_ERR_X509_EXTRA_ELEMENT, "certificate is malformed (extra element)"),
	E(BR_ERR_X509_UNEXPECTED, "certificate is malformed (unexpected element)"),
	E(BR_ERR_X509_NOT_CONSTRUCTED, "certificate is malformed (primitive where constructed "
				       "expected)"),
	E(BR_ERR_X509_NOT_PRIMITIVE, "certificate is malformed (constructed where primitive "
				     "expected)"),
	E(BR_ERR_X509_PARTIAL_BYTE, "certificate is malformed (partial byte in a BIT STRING)"),
	E(BR_ERR_X509_BAD_BOOLEAN, "certificate is malformed (bad BOOLEAN)"),
	E(BR_ERR_X509_OVERFLOW, "certificate holds an out-of-range value"),
	E(BR_ERR_X509_BAD_DN, "certificate has an invalid distinguished name"),
	E(BR_ERR_X509_BAD_TIME, "certificate has an invalid validity date"),
	E(BR_ERR_X509_UNSUPPORTED, "certificate uses an unsupported feature"),
	E(BR_ERR_X509_LIMIT_EXCEEDED, "certificate key or signature is too large"),
	E(BR_ERR_X509_WRONG_KEY_TYPE, "certificate key type is not the expected one"),
	E(BR_ERR_X509_BAD_SIGNATURE, "certificate signature does not verify"),
	E(BR_ERR_X509_TIME_UNKNOWN, "the current time is unknown"),
	E(BR_ERR_X509_EXPIRED, "certificate has expired or is not yet valid (check the clock)"),
	E(BR_ERR_X509_DN_MISMATCH, "certificate chain is broken (issuer and subject differ)"),
	E(BR_ERR_X509_BAD_SERVER_NAME, "the server's certificate does not carry the name we "
				       "connected to"),
	E(BR_ERR_X509_CRITICAL_EXTENSION, "certificate has an unsupported critical extension"),
	E(BR_ERR_X509_NOT_CA, "certificate issuer is not a CA"),
	E(BR_ERR_X509_FORBIDDEN_KEY_USAGE, "certificate key usage forbids this use"),
	E(BR_ERR_X509_WEAK_PUBLIC_KEY, "certificate public key is too weak"),
	E(BR_ERR_X509_NOT_TRUSTED, "certificate is not signed by this gateway's CA"),
};

/* TLS alerts (RFC 5246 7.2, RFC 8446 6). */
static const struct code_text alerts[] = {
	{ 0, "close_notify", "the peer closed the session" },
	{ 10, "unexpected_message", "the peer received an unexpected message" },
	{ 20, "bad_record_mac", "a record failed its integrity check" },
	{ 22, "record_overflow", "a record was too large" },
	{ 40, "handshake_failure", "no acceptable parameters (or a certificate was refused)" },
	{ 42, "bad_certificate", "the certificate was rejected" },
	{ 43, "unsupported_certificate", "the certificate type is not supported" },
	{ 44, "certificate_revoked", "the certificate was revoked" },
	{ 45, "certificate_expired", "the certificate has expired or is not yet valid" },
	{ 46, "certificate_unknown", "the certificate was rejected" },
	{ 47, "illegal_parameter", "a handshake parameter was invalid" },
	{ 48, "unknown_ca", "the certificate is not signed by a CA the peer trusts" },
	{ 49, "access_denied", "access denied" },
	{ 50, "decode_error", "a message could not be decoded" },
	{ 51, "decrypt_error", "a handshake signature or check failed" },
	{ 70, "protocol_version", "no TLS version in common (openshell speaks TLS 1.2)" },
	{ 71, "insufficient_security", "the offered cipher suites are too weak for the peer" },
	{ 80, "internal_error", "the peer had an internal error" },
	{ 90, "user_canceled", "the peer canceled the handshake" },
	{ 100, "no_renegotiation", "renegotiation refused" },
	{ 109, "missing_extension", "a required extension is missing" },
	{ 110, "unsupported_extension", "an extension was not supported" },
	{ 112, "unrecognized_name", "the peer does not know the requested server name" },
	{ 116, "certificate_required", "a client certificate is required" },
	{ 120, "no_application_protocol", "no application protocol in common" },
};

static const struct code_text *find(const struct code_text *t, size_t n, int code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].code == code)
			return &t[i];
	return NULL;
}

static _Thread_local char text_buf[256];

const char *tls_error_name(int code)
{
	const struct code_text *t = find(errors, sizeof(errors) / sizeof(errors[0]), code);

	if (t)
		return t->name;
	if (code >= BR_ERR_SEND_FATAL_ALERT && code < BR_ERR_SEND_FATAL_ALERT + 256)
		snprintf(text_buf, sizeof(text_buf), "BR_ERR_SEND_FATAL_ALERT+%d",
			 code - BR_ERR_SEND_FATAL_ALERT);
	else if (code >= BR_ERR_RECV_FATAL_ALERT && code < BR_ERR_RECV_FATAL_ALERT + 256)
		snprintf(text_buf, sizeof(text_buf), "BR_ERR_RECV_FATAL_ALERT+%d",
			 code - BR_ERR_RECV_FATAL_ALERT);
	else
		snprintf(text_buf, sizeof(text_buf), "BR_ERR_%d", code);
	return text_buf;
}

static const char *alert_text(int code)
{
	bool sent = code >= BR_ERR_SEND_FATAL_ALERT;
	int alert = code - (sent ? BR_ERR_SEND_FATAL_ALERT : BR_ERR_RECV_FATAL_ALERT);
	const struct code_text *a = find(alerts, sizeof(alerts) / sizeof(alerts[0]), alert);

	snprintf(text_buf, sizeof(text_buf), "%s alert %d %s: %s",
		 sent ? "we sent the peer" : "the peer sent", alert, a ? a->name : "(unknown)",
		 a ? a->text : "unknown alert");
	return text_buf;
}

const char *tls_error_text(int code)
{
	const struct code_text *t = find(errors, sizeof(errors) / sizeof(errors[0]), code);

	if (t) {
		snprintf(text_buf, sizeof(text_buf), "%s (%s)", t->text, t->name);
		return text_buf;
	}
	if (code >= BR_ERR_RECV_FATAL_ALERT && code < BR_ERR_SEND_FATAL_ALERT + 256)
		return alert_text(code);
	snprintf(text_buf, sizeof(text_buf), "TLS error %d", code);
	return text_buf;
}
