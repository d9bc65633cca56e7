/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http:// and https:// URLs (RFC 3986 subset) for the CLI (`gateway add
 * https://127.0.0.1:8080`) and the proxy (absolute-form targets), and host[:port]
 * authorities (CONNECT targets, Host headers).
 *
 * Accepted: scheme "http" or "https" (any case) "://" host [":" port] [path] ["?" query].
 * host is a DNS name or IPv4 literal (letters, digits, '-', '.', '_'; lower-cased; at most
 * URL_HOST_MAX bytes) or an IPv6 literal in brackets (stored without them). port is
 * 1..65535, default 80 / 443. Rejected, each with a message naming the input and the
 * problem: other schemes, user information ("user@"), empty host, unbalanced or misplaced
 * brackets, an invalid IPv6 literal, an empty or non-numeric port, spaces, control bytes,
 * non-ASCII bytes, fragments.
 */
#ifndef OS_URL_H
#define OS_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define URL_HOST_MAX 253

struct url {
	char scheme[8];		     /* "http" or "https" */
	char host[URL_HOST_MAX + 1]; /* lower-case; IPv6 without brackets */
	bool ipv6;
	uint16_t port; /* explicit or the scheme's default */
	bool port_explicit;
	char *path; /* path and query, at least "/"; owned */
};

#define URL_INIT                              \
	{                                     \
		"", "", false, 0, false, NULL \
	}

/* Parses s into u (u->path allocated). Returns 0, or -1 with ERR_INVALID. */
int url_parse(struct url *u, const char *s, struct err *e);
void url_release(struct url *u);

/*
 * host [":" port] from s[0..n), as in a CONNECT target (need_port) or a Host header.
 * host gets the lower-cased host without brackets; *port is 0 when absent. Returns 0 or -1.
 */
int url_parse_authority(const char *s, size_t n, bool need_port, char host[URL_HOST_MAX + 1],
			bool *ipv6, uint16_t *port, struct err *e);

/* "host:port", brackets around IPv6. */
void url_add_authority(struct buf *b, const char *host, bool ipv6, uint16_t port);
/* The URL again: scheme://authority path (port only when explicit). */
void url_format(struct buf *b, const struct url *u);

#endif
