/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for lib/url and the request-target canonicaliser. A parsed URL,
 * formatted again, parses to the same parts and formats to the same text; an authority
 * accepted once is accepted again; a canonical path is a fixed point and never keeps a
 * dot-segment, a raw control byte or a raw non-ASCII byte.
 */
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/http.h"
#include "../../lib/url.h"
#include "../../lib/util.h"
#include "../../lib/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void url_round_trip(const char *s)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct err e = ERR_INIT;
	struct url u, v;

	if (url_parse(&u, s, &e) < 0)
		return;
	url_format(&a, &u);
	if (url_parse(&v, a.p, &e) < 0)
		abort();
	url_format(&b, &v);
	if (strcmp(u.scheme, v.scheme) || strcmp(u.host, v.host) || u.ipv6 != v.ipv6 ||
	    u.port != v.port || strcmp(u.path, v.path) || strcmp(a.p, b.p) || !u.path[0] ||
	    u.path[0] != '/')
		abort();
	url_release(&u);
	url_release(&v);
	buf_release(&a);
	buf_release(&b);
}

static void authority_round_trip(const char *s, size_t n)
{
	char host[URL_HOST_MAX + 1], host2[URL_HOST_MAX + 1];
	struct buf a = BUF_INIT;
	struct err e = ERR_INIT;
	uint16_t port, port2;
	bool v6, v62;

	if (url_parse_authority(s, n, true, host, &v6, &port, &e) < 0)
		return;
	url_add_authority(&a, host, v6, port);
	if (url_parse_authority(a.p, a.len, true, host2, &v62, &port2, &e) < 0 ||
	    strcmp(host, host2) || v6 != v62 || port != port2)
		abort();
	buf_release(&a);
}

static void canon_check(const char *s, unsigned flags)
{
	struct http_canon c = HTTP_CANON_INIT, d = HTTP_CANON_INIT;
	struct err e = ERR_INIT;
	const unsigned char *p;

	if (http_target_canon(&c, s, flags, &e) == 0) {
		if (c.path.p[0] != '/' || strstr(c.path.p, "/../") || strstr(c.path.p, "/./") ||
		    strstr(c.path.p, "//") || str_has_suffix(c.path.p, "/..") ||
		    str_has_suffix(c.path.p, "/."))
			abort();
		for (p = (const unsigned char *)c.path.p; *p; p++)
			if (*p <= 0x20 || *p >= 0x7f || *p == '?' || *p == '#')
				abort();
		/* the limit is on the raw path; re-encoding may triple it (as the reference) */
		if (c.path.len <= HTTP_CANON_PATH_MAX &&
		    (http_target_canon(&d, c.path.p, flags, &e) != 0 ||
		     strcmp(d.path.p, c.path.p) != 0 || d.rewritten))
			abort();
	} else if (c.why == HTTP_CANON_OK) {
		abort();
	}
	http_canon_release(&c);
	http_canon_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);

	url_round_trip(s);
	authority_round_trip((const char *)data, size);
	canon_check(s, 0);
	canon_check(s, HTTP_CANON_ENCODED_SLASH);
	canon_check(s, HTTP_CANON_KEEP_PARAMS);
	free(s);
	return 0;
}
