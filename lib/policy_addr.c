/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Destination (SSRF) validation after an L4 allow (reference/policy.md §4.5): address
 * parsing and printing, the always-blocked and internal classes, allowed_ips entries, and
 * the five validation modes with the reference's exact messages. Pure: the proxy resolves,
 * this decides.
 */
#include "lib/policy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define POL_MAX_IPS 256

/* A CIDR: the address and how many leading bits count. */
struct pol_net {
	struct pol_addr a;
	unsigned bits;
};

static const uint16_t control_plane_ports[] = { 2379, 2380, 6443, 10250, 10255 };
static const char *const gateway_aliases[] = { "host.openshell.internal",
					       "host.containers.internal", "host.docker.internal" };

/* "[x]" -> "x" into dst (n bytes); returns dst, or NULL when it does not fit. */
static const char *strip_brackets(const char *s, char *dst, size_t n)
{
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len >= n)
		return NULL;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return dst;
}

int pol_addr_parse(const char *text, struct pol_addr *out)
{
	char tmp[INET6_ADDRSTRLEN + 2];
	const char *s;

	memset(out, 0, sizeof(*out));
	if (!text || !(s = strip_brackets(text, tmp, sizeof(tmp))))
		return -1;
	if (inet_pton(AF_INET, s, out->a) == 1)
		return 0;
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->v6 = true;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

static bool v4_mapped(const struct pol_addr *a)
{
	static const unsigned char prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return a->v6 && !memcmp(a->a, prefix, 12);
}

/* Rust's Ipv6Addr display (RFC 5952): the first longest run of two or more zero groups is
 * "::", v4-mapped addresses end in dotted quad. Used instead of inet_ntop, whose glibc and
 * musl versions differ on ::a.b.c.d. */
static void format_v6(const unsigned char *a, char *dst, size_t n)
{
	unsigned g[8], i, best = 0, best_len = 0, run = 0;
	size_t off = 0;

	for (i = 0; i < 8; i++) {
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		run = g[i] ? 0 : run + 1;
		if (run > best_len) {
			best_len = run;
			best = i + 1 - run;
		}
	}
	if (best_len < 2)
		best_len = 0;
	for (i = 0; i < 8 && off < n; i++) {
		if (best_len && i == best) {
			off += (size_t)snprintf(dst + off, n - off, "::");
			i += best_len - 1;
			continue;
		}
		off += (size_t)snprintf(dst + off, n - off, "%s%x",
					i && !(best_len && i == best + best_len) ? ":" : "", g[i]);
	}
}

void pol_addr_format(const struct pol_addr *a, char *dst, size_t n)
{
	if (!n)
		return;
	if (!a->v6)
		snprintf(dst, n, "%u.%u.%u.%u", a->a[0], a->a[1], a->a[2], a->a[3]);
	else if (v4_mapped(a))
		snprintf(dst, n, "::ffff:%u.%u.%u.%u", a->a[12], a->a[13], a->a[14], a->a[15]);
	else
		format_v6(a->a, dst, n);
}

/* The embedded IPv4 of a v4 or v4-mapped address, else NULL. */
static const unsigned char *v4_of(const struct pol_addr *a)
{
	if (!a->v6)
		return a->a;
	return v4_mapped(a) ? a->a + 12 : NULL;
}

static bool v6_is(const struct pol_addr *a, unsigned last)
{
	static const unsigned char zero[15];

	return a->v6 && !memcmp(a->a, zero, 15) && a->a[15] == last;
}

static bool link_local(const struct pol_addr *a)
{
	const unsigned char *v4 = v4_of(a);

	if (a->v6 && a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80)
		return true;
	return v4 && v4[0] == 169 && v4[1] == 254;
}

static bool v4_blocked(const unsigned char *v)
{
	return v[0] == 127 || (v[0] == 169 && v[1] == 254) || !(v[0] | v[1] | v[2] | v[3]);
}

bool pol_addr_always_blocked(const struct pol_addr *a)
{
	const unsigned char *v4 = v4_of(a);

	if (v6_is(a, 0) || v6_is(a, 1) || link_local(a))
		return true;
	return v4 && v4_blocked(v4);
}

static bool v4_internal(const unsigned char *v)
{
	if (v4_blocked(v) || v[0] == 10 || (v[0] == 172 && (v[1] & 0xf0) == 16) ||
	    (v[0] == 192 && v[1] == 168) || (v[0] == 100 && (v[1] & 0xc0) == 64))
		return true;
	if ((v[0] == 192 && v[1] == 0 && (v[2] == 0 || v[2] == 2)) ||
	    (v[0] == 198 && v[1] == 51 && v[2] == 100) || (v[0] == 203 && v[1] == 0 && v[2] == 113))
		return true;
	return (v[0] == 198 && (v[1] & 0xfe) == 18) || (v[0] & v[1] & v[2] & v[3]) == 255;
}

bool pol_addr_internal(const struct pol_addr *a)
{
	const unsigned char *v4 = v4_of(a);

	if (pol_addr_always_blocked(a))
		return true;
	if (a->v6 && (a->a[0] & 0xfe) == 0xfc)
		return true;
	return v4 && v4_internal(v4);
}

const char *pol_ssrf_kind_text(enum pol_ssrf_kind k)
{
	switch (k) {
	case POL_SSRF_OK:
		return "ok";
	case POL_SSRF_INTERNAL:
		return "internal address";
	case POL_SSRF_ALLOWED_IPS:
		return "allowed_ips check failed";
	case POL_SSRF_DECLARED:
		return "declared endpoint check failed";
	case POL_SSRF_INVALID_IPS:
		return "invalid allowed_ips in policy";
	case POL_SSRF_GATEWAY:
		return "trusted-gateway check failed";
	}
	return "denied";
}

/* ---- allowed_ips ------------------------------------------------------------------------ */

static bool addr_eq(const struct pol_addr *x, const struct pol_addr *y)
{
	return x->v6 == y->v6 && !memcmp(x->a, y->a, x->v6 ? 16 : 4);
}

static bool net_contains(const struct pol_net *net, const struct pol_addr *a)
{
	unsigned full = net->bits / 8, rest = net->bits % 8;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));

	if (net->a.v6 != a->v6 || memcmp(net->a.a, a->a, full))
		return false;
	return !rest || ((net->a.a[full] ^ a->a[full]) & mask) == 0;
}

/* The network address (host bits cleared), as ipnet's network(). */
static struct pol_addr net_first(const struct pol_net *net)
{
	struct pol_addr x = net->a;
	unsigned i, width = x.v6 ? 128 : 32;

	for (i = net->bits; i < width; i++)
		x.a[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	return x;
}

static struct pol_addr net_last(const struct pol_net *net)
{
	struct pol_addr x = net->a;
	unsigned i, width = x.v6 ? 128 : 32;

	for (i = net->bits; i < width; i++)
		x.a[i / 8] |= (unsigned char)(0x80 >> (i % 8));
	return x;
}

static bool net_has(const struct pol_net *net, bool v6, const unsigned char *bytes)
{
	struct pol_addr x = { .v6 = v6 };

	memcpy(x.a, bytes, v6 ? 16 : 4);
	return net_contains(net, &x);
}

/* ipnet overlap of the always-blocked ranges, as openshell-core is_always_blocked_net(). */
static bool net_always_blocked(const struct pol_net *net)
{
	static const unsigned char lo6[16] = { [15] = 1 }, any6[16] = { 0 },
				   ll6[16] = { 0xfe, 0x80 },
				   m_lo[16] = { [10] = 0xff, 0xff, 127, 0, 0, 1 },
				   m_ll[16] = { [10] = 0xff, 0xff, 169, 254, 0, 0 },
				   m_any[16] = { [10] = 0xff, 0xff };
	struct pol_addr first = net_first(net), last = net_last(net);
	const unsigned char *v4;

	if (!net->a.v6) {
		/* ranges overlapping 127/8 or 169.254/16, or starting at 0.0.0.0 */
		return (last.a[0] >= 127 && first.a[0] <= 127) ||
		       (memcmp(last.a, "\xa9\xfe\x00\x00", 4) >= 0 &&
			memcmp(first.a, "\xa9\xfe\xff\xff", 4) <= 0) ||
		       !memcmp(first.a, "\0\0\0\0", 4);
	}
	if (net_has(net, true, lo6) || net_has(net, true, any6) || net_has(net, true, ll6))
		return true;
	if (first.a[0] == 0xfe && (first.a[1] & 0xc0) == 0x80)
		return true;
	v4 = v4_of(&first);
	if (v4 && v4_blocked(v4))
		return true;
	return net_has(net, true, m_lo) || net_has(net, true, m_ll) || net_has(net, true, m_any);
}

/* "a.b.c.d/n", "v6/n" or a bare address (all bits); -1 when ipnet would not parse it. */
static int net_parse(const char *s, struct pol_net *net)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	unsigned long bits = 0;
	const char *d;
	size_t len = slash ? (size_t)(slash - s) : strlen(s);

	if (len >= sizeof(tmp) || strchr(s, '[') || strchr(s, ']'))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (pol_addr_parse(tmp, &net->a) < 0)
		return -1;
	net->bits = net->a.v6 ? 128 : 32;
	if (!slash)
		return 0;
	if (!slash[1] || strlen(slash + 1) > 3)
		return -1;
	for (d = slash + 1; *d; d++) {
		if (*d < '0' || *d > '9')
			return -1;
		bits = bits * 10 + (unsigned long)(*d - '0');
	}
	if (bits > net->bits)
		return -1;
	net->bits = (unsigned)bits;
	return 0;
}

/* parse_allowed_ips(): every problem, joined by "; ". */
static int parse_allowed_ips(const struct pol_endpoint *ep, struct pol_net *nets, size_t *n,
			     struct buf *why)
{
	size_t i;

	*n = 0;
	buf_reset(why);
	for (i = 0; i < ep->n_allowed_ips && i < POL_MAX_IPS; i++) {
		const char *s = ep->allowed_ips[i];
		bool parsed = net_parse(s, &nets[*n]) == 0;

		if (parsed && !net_always_blocked(&nets[*n])) {
			(*n)++;
			continue;
		}
		if (why->len)
			buf_adds(why, "; ");
		if (!parsed)
			buf_addf(why, "invalid CIDR/IP in allowed_ips: %s", s);
		else
			buf_addf(
				why,
				"allowed_ips entry %s falls within always-blocked range "
				"(loopback/link-local/unspecified); remove this entry \xe2\x80\x94 "
				"SSRF hardening prevents traffic to these destinations regardless "
				"of policy",
				s);
	}
	if (ep->n_allowed_ips > POL_MAX_IPS && !why->len)
		buf_addf(why, "too many allowed_ips entries (more than %d)", POL_MAX_IPS);
	return why->len ? -1 : 0;
}

/* ---- the five modes ------------------------------------------------------------------------ */

enum ssrf_mode { MODE_GATEWAY, MODE_ALLOWED, MODE_LITERAL, MODE_DECLARED, MODE_DEFAULT };

struct ssrf {
	enum ssrf_mode mode;
	const char *host, *bare; /* as requested; without brackets */
	uint16_t port;
	const struct pol_addr *gateway;
	struct pol_addr literal;
	struct pol_net nets[POL_MAX_IPS];
	size_t n_nets;
};

static bool control_plane(uint16_t port)
{
	size_t i;

	for (i = 0; i < sizeof(control_plane_ports) / sizeof(control_plane_ports[0]); i++)
		if (control_plane_ports[i] == port)
			return true;
	return false;
}

static bool gateway_alias(const char *bare)
{
	size_t i;

	for (i = 0; i < sizeof(gateway_aliases) / sizeof(gateway_aliases[0]); i++)
		if (!strcasecmp(gateway_aliases[i], bare))
			return true;
	return false;
}

static enum pol_ssrf_kind mode_kind(enum ssrf_mode m)
{
	static const enum pol_ssrf_kind kinds[] = { POL_SSRF_GATEWAY, POL_SSRF_ALLOWED_IPS,
						    POL_SSRF_ALLOWED_IPS, POL_SSRF_DECLARED,
						    POL_SSRF_INTERNAL };
	return kinds[m];
}

/* One resolved address under the chosen mode: 0, or -1 with the message in why. */
static int check_addr(const struct ssrf *s, const struct pol_addr *a, struct buf *why)
{
	char ip[INET6_ADDRSTRLEN + 8], gw[INET6_ADDRSTRLEN + 8];
	size_t i;

	pol_addr_format(a, ip, sizeof(ip));
	if (s->mode == MODE_GATEWAY) {
		pol_addr_format(s->gateway, gw, sizeof(gw));
		if (v4_of(a) && !memcmp(v4_of(a), "\xa9\xfe\xa9\xfe", 4))
			buf_addf(why,
				 "%s resolves to cloud metadata address %s, connection rejected",
				 s->host, ip);
		else if (!addr_eq(a, s->gateway))
			buf_addf(why,
				 "%s resolves to %s which does not match trusted host gateway %s, "
				 "connection rejected",
				 s->host, ip, gw);
		else if (!link_local(a))
			buf_addf(why,
				 "%s resolves to non-link-local address %s, connection rejected",
				 s->host, ip);
		return why->len ? -1 : 0;
	}
	if (s->mode == MODE_DEFAULT) {
		if (pol_addr_internal(a))
			buf_addf(why, "%s resolves to internal address %s, connection rejected",
				 s->host, ip);
		return why->len ? -1 : 0;
	}
	if (pol_addr_always_blocked(a)) {
		buf_addf(why, "%s resolves to always-blocked address %s, connection rejected",
			 s->host, ip);
		return -1;
	}
	if (s->mode == MODE_DECLARED)
		return 0;
	if (s->mode == MODE_LITERAL && addr_eq(a, &s->literal))
		return 0;
	for (i = 0; s->mode == MODE_ALLOWED && i < s->n_nets; i++)
		if (net_contains(&s->nets[i], a))
			return 0;
	buf_addf(why, "%s resolves to %s which is not in allowed_ips, connection rejected", s->host,
		 ip);
	return -1;
}

/* build_validation_plan(): the first mode that applies. */
static int choose_mode(struct ssrf *s, const struct pol_l4_decision *d, struct buf *why)
{
	if (s->gateway && gateway_alias(s->bare)) {
		s->mode = MODE_GATEWAY;
	} else if (d->n_ext && d->ext[0]->n_allowed_ips) {
		s->mode = MODE_ALLOWED;
		if (parse_allowed_ips(d->ext[0], s->nets, &s->n_nets, why) < 0)
			return -1;
	} else if (pol_addr_parse(s->host, &s->literal) == 0 &&
		   !pol_addr_always_blocked(&s->literal)) {
		s->mode = MODE_LITERAL;
	} else if (d->exact_declared_host) {
		s->mode = MODE_DECLARED;
	} else {
		s->mode = MODE_DEFAULT;
	}
	return 0;
}

enum pol_ssrf_kind pol_check_destination(const struct pol_l4_decision *d, const char *host,
					 uint16_t port, const struct pol_addr *addrs, size_t n,
					 const struct pol_addr *trusted_gateway, struct buf *why)
{
	struct ssrf st = { .host = host ? host : "", .port = port, .gateway = trusted_gateway };
	struct ssrf *s = &st;
	enum pol_ssrf_kind kind;
	char bare[256];
	size_t i;

	buf_reset(why);
	s->bare = strip_brackets(s->host, bare, sizeof(bare)) ? bare : s->host;
	if (choose_mode(s, d, why) < 0) {
		kind = POL_SSRF_INVALID_IPS;
		goto out;
	}
	kind = mode_kind(s->mode);
	if (s->mode == MODE_GATEWAY && control_plane(port))
		goto port;
	if (!n) {
		buf_addf(why, "DNS resolution returned no addresses for %s", s->bare);
		goto out;
	}
	if (s->mode != MODE_DEFAULT && s->mode != MODE_GATEWAY && control_plane(port))
		goto port;
	for (i = 0; i < n; i++)
		if (check_addr(s, &addrs[i], why) < 0)
			goto out;
	kind = POL_SSRF_OK;
	goto out;
port:
	buf_addf(why, "port %u is a blocked control-plane port, connection rejected", port);
out:
	return kind;
}
