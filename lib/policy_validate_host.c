/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host patterns and IP ranges as the policy validator sees them: the reference's
 * DNS-label-aware HostPattern (shape errors, matching, pattern overlap) used for middleware
 * selectors and explicit-TCP hosts, and CIDR parsing with the always-blocked ranges
 * (reference/policy.md §1.9, §3.1, §4.5). The proxy's own matching lives in policy_match.c.
 */
#include "policy_validate_int.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Patterns with this many label pairs are absurd; the checks then err on the side of
 * reporting a conflict (overlap: yes, excluded: no). */
#define PV_MAX_STATES (1u << 22)
#define PV_MAX_HOST   1024

/* ---- shell globs (the glob crate's Pattern, no path separators) --------------------------- */

/* Length of the class at p (just after '['), or 0 when it is not closed; *hit says whether
 * c is in it. */
static size_t glob_class(const char *p, unsigned char c, bool *hit)
{
	size_t i = 0;
	bool neg = false, in = false;

	if (p[i] == '!') {
		neg = true;
		i++;
	}
	do {
		unsigned char lo = (unsigned char)p[i], hi = lo;

		if (!lo)
			return 0;
		if (p[i + 1] == '-' && p[i + 2] && p[i + 2] != ']') {
			hi = (unsigned char)p[i + 2];
			i += 2;
		}
		if (c >= lo && c <= hi)
			in = true;
		i++;
	} while (p[i] != ']');
	*hit = in != neg;
	return i + 1;
}

bool pv_shell_glob(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		size_t n;
		bool hit = false;

		if (*p == '*') {
			while (*p == '*')
				p++;
			star = p;
			resume = s;
			continue;
		}
		if (*p == '[') {
			n = glob_class(p + 1, (unsigned char)*s, &hit);
			if (!n)
				return false;
			if (hit) {
				p += n + 1;
				s++;
				continue;
			}
		} else if (*p && (*p == '?' || *p == *s)) {
			p++;
			s++;
			continue;
		}
		if (!star)
			return false;
		p = star;
		s = ++resume;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* The glob crate's syntax errors that a single DNS label can hit. */
static const char *label_glob_error(const char *label, char why[PV_WHY_MAX])
{
	size_t i, run;
	bool hit;

	for (i = 0; label[i]; i++) {
		if (label[i] == '[') {
			if (!glob_class(label + i + 1, 0, &hit))
				goto range;
			continue;
		}
		if (label[i] != '*')
			continue;
		for (run = 0; label[i + run] == '*'; run++)
			;
		if (run > 2) {
			snprintf(why, PV_WHY_MAX,
				 "invalid host pattern: Pattern syntax error near position %zu: "
				 "wildcards are either regular `*` or recursive `**`",
				 i + 2);
			return why;
		}
		if (run == 2) {
			snprintf(why, PV_WHY_MAX,
				 "invalid host pattern: Pattern syntax error near position %zu: "
				 "recursive wildcards must form a single path component",
				 i);
			return why;
		}
	}
	return NULL;
range:
	snprintf(why, PV_WHY_MAX,
		 "invalid host pattern: Pattern syntax error near position %zu: invalid range "
		 "pattern",
		 i);
	return why;
}

/* ---- HostPattern --------------------------------------------------------------------------- */

struct hlabel {
	const char *s;
	bool recursive, literal;
};

struct hpat {
	char *src;   /* lowercased pattern */
	char *split; /* the same with '.' replaced by NUL */
	struct hlabel *l;
	size_t n;
};

static void hpat_free(struct hpat *h)
{
	free(h->src);
	free(h->split);
	free(h->l);
	memset(h, 0, sizeof(*h));
}

static const char *shape_error(const char *pattern)
{
	const unsigned char *c;

	if (!pattern[0])
		return "host pattern must not be empty";
	for (c = (const unsigned char *)pattern; *c; c++)
		if (isspace(*c))
			return "host pattern must not contain whitespace";
	if (strpbrk(pattern, "{}"))
		return "host pattern must not contain brace alternates; list each host pattern "
		       "separately";
	if (pattern[0] == '.' || strstr(pattern, "..") || pattern[strlen(pattern) - 1] == '.')
		return "host pattern must not contain empty DNS labels";
	return NULL;
}

static int hpat_new(struct hpat *h, const char *pattern, char why[PV_WHY_MAX])
{
	const char *bad = shape_error(pattern);
	size_t i, len;
	char *q;

	memset(h, 0, sizeof(*h));
	if (bad) {
		snprintf(why, PV_WHY_MAX, "%s", bad);
		return -1;
	}
	h->src = xstrdup(pattern);
	for (i = 0; h->src[i]; i++)
		h->src[i] = (char)tolower((unsigned char)h->src[i]);
	len = i;
	h->split = xstrdup(h->src);
	h->l = xcalloc(len / 2 + 1, sizeof(*h->l));
	for (q = h->split;;) {
		h->l[h->n++].s = q;
		q = strchr(q, '.');
		if (!q)
			break;
		*q++ = '\0';
	}
	for (i = 0; i < h->n; i++) {
		struct hlabel *lb = &h->l[i];

		lb->recursive = strcmp(lb->s, "**") == 0;
		lb->literal = !lb->recursive && !strpbrk(lb->s, "*?[");
		if (!lb->recursive && label_glob_error(lb->s, why)) {
			hpat_free(h);
			return -1;
		}
	}
	return 0;
}

const char *pv_host_pattern_error(const char *pattern, char why[PV_WHY_MAX])
{
	struct hpat h;

	if (hpat_new(&h, pattern, why) < 0)
		return why;
	hpat_free(&h);
	return NULL;
}

static bool label_match(const struct hlabel *p, const char *label)
{
	return p->literal ? strcmp(p->s, label) == 0 : pv_shell_glob(p->s, label);
}

/* Whether the pattern matches a concrete host (lowercased already). */
static bool hpat_matches(const struct hpat *p, const struct hpat *host)
{
	size_t w = host->n + 1, top = 0, *stack;
	bool *seen, ok = false;

	if (p->n + 1 > PV_MAX_STATES / w)
		return false;
	seen = xcalloc((p->n + 1) * w, sizeof(*seen));
	stack = xcalloc((p->n + 1) * w * 2 + 2, sizeof(*stack));
	stack[top++] = 0;
	while (top && !ok) {
		size_t st = stack[--top], pi = st / w, hi = st % w;

		if (seen[st])
			continue;
		seen[st] = true;
		if (pi == p->n && hi == host->n)
			ok = true;
		else if (pi < p->n && hi < host->n && p->l[pi].recursive) {
			stack[top++] = (pi + 1) * w + hi + 1;
			stack[top++] = pi * w + hi + 1;
		} else if (pi < p->n && hi < host->n && label_match(&p->l[pi], host->l[hi].s)) {
			stack[top++] = (pi + 1) * w + hi + 1;
		}
	}
	free(seen);
	free(stack);
	return ok;
}

static bool labels_may_overlap(const struct hlabel *a, const struct hlabel *b)
{
	if (a->literal && b->literal)
		return strcmp(a->s, b->s) == 0;
	if (a->literal)
		return pv_shell_glob(b->s, a->s);
	if (b->literal)
		return pv_shell_glob(a->s, b->s);
	return true;
}

/* Whether some host matches both patterns; every step consumes one shared label. */
static bool hpat_overlaps(const struct hpat *a, const struct hpat *b)
{
	size_t w = b->n + 1, top = 0, *stack;
	bool *seen, ok = false;

	if (a->n + 1 > PV_MAX_STATES / w)
		return true;

	seen = xcalloc((a->n + 1) * w, sizeof(*seen));
	stack = xcalloc((a->n + 1) * w * 3 + 3, sizeof(*stack));
	stack[top++] = 0;
	while (top && !ok) {
		size_t st = stack[--top], i = st / w, j = st % w;
		const struct hlabel *x, *y;

		if (seen[st])
			continue;
		seen[st] = true;
		if (i == a->n && j == b->n) {
			ok = true;
			continue;
		}
		if (i == a->n || j == b->n)
			continue;
		x = &a->l[i];
		y = &b->l[j];
		if (x->recursive || y->recursive || labels_may_overlap(x, y))
			stack[top++] = (i + 1) * w + j + 1;
		if (x->recursive)
			stack[top++] = i * w + j + 1;
		if (y->recursive)
			stack[top++] = (i + 1) * w + j;
	}
	free(seen);
	free(stack);
	return ok;
}

static bool hpat_literal(const struct hpat *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (!h->l[i].literal)
			return false;
	return true;
}

static bool excluded(const struct hpat *inc, const struct hpat *cand, const struct hpat *ex,
		     size_t n_ex)
{
	const struct hpat *concrete = hpat_literal(cand) ? cand : hpat_literal(inc) ? inc : NULL;
	size_t k;

	for (k = 0; k < n_ex; k++) {
		if (concrete && hpat_matches(&ex[k], concrete))
			return true;
		if (!concrete &&
		    ((ex[k].n == 1 && ex[k].l[0].recursive) || strcmp(ex[k].src, inc->src) == 0 ||
		     strcmp(ex[k].src, cand->src) == 0))
			return true;
	}
	return false;
}

static size_t compile_all(struct hpat *out, const char *const *v, size_t n)
{
	char why[PV_WHY_MAX];
	size_t i;

	for (i = 0; i < n; i++)
		if (hpat_new(&out[i], v[i], why) < 0)
			break;
	return i;
}

bool pv_selector_may_match(const char *const *include, size_t n_include, const char *const *exclude,
			   size_t n_exclude, const char *candidate)
{
	struct hpat *inc = xcalloc(n_include + 1, sizeof(*inc));
	struct hpat *ex = xcalloc(n_exclude + 1, sizeof(*ex));
	size_t ni = compile_all(inc, include, n_include), ne = compile_all(ex, exclude, n_exclude);
	char why[PV_WHY_MAX];
	struct hpat cand;
	bool hit = false;
	size_t i;

	/* no DNS name is this long; answering "may match" keeps the label globs cheap */
	for (i = 0; i < n_include + n_exclude; i++)
		if (strlen(i < n_include ? include[i] : exclude[i - n_include]) > PV_MAX_HOST)
			hit = true;
	if (strlen(candidate) > PV_MAX_HOST || hit)
		hit = true;
	else if (ni == n_include && ne == n_exclude && n_include &&
		 hpat_new(&cand, candidate, why) == 0) {
		for (i = 0; i < ni && !hit; i++)
			hit = hpat_overlaps(&inc[i], &cand) && !excluded(&inc[i], &cand, ex, ne);
		hpat_free(&cand);
	}
	for (i = 0; i < ni; i++)
		hpat_free(&inc[i]);
	for (i = 0; i < ne; i++)
		hpat_free(&ex[i]);
	free(inc);
	free(ex);
	return hit;
}

/* ---- explicit-TCP host selectors ---------------------------------------------------------- */

static const char *dns_name_error(const struct hpat *h, char why[PV_WHY_MAX])
{
	size_t i, total = 0;

	for (i = 0; i < h->n; i++) {
		const unsigned char *c = (const unsigned char *)h->l[i].s;
		size_t len = h->l[i].recursive ? 1 : strlen(h->l[i].s);

		for (; *c; c++)
			if (*c >= 0x80)
				return "selector cannot represent a valid DNS name: non-ASCII "
				       "character";
		if (len > 63) {
			snprintf(why, PV_WHY_MAX,
				 "selector cannot represent a valid DNS name: label '%.20s...' is "
				 "longer than 63 bytes",
				 h->l[i].s);
			return why;
		}
		total += len + 1;
	}
	if (total > 255)
		return "selector cannot represent a valid DNS name: name is longer than 255 bytes";
	return NULL;
}

const char *pv_tcp_dns_error(const char *host, char why[PV_WHY_MAX])
{
	size_t len = strlen(host);
	const char *bad;
	struct hpat h;

	if (len && (isspace((unsigned char)host[0]) || isspace((unsigned char)host[len - 1])))
		return "leading or trailing whitespace is not allowed";
	if (len && host[len - 1] == '.')
		return "omit the trailing DNS root dot";
	if (hpat_new(&h, host, why) < 0)
		return why;
	bad = dns_name_error(&h, why);
	hpat_free(&h);
	return bad;
}

/* ---- IP ranges ---------------------------------------------------------------------------- */

int pv_net_parse(const char *s, struct pv_net *out)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix = 0;

	memset(out, 0, sizeof(*out));
	if (n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, out->a) == 1)
		out->prefix = 32;
	else if (inet_pton(AF_INET6, addr, out->a) == 1)
		out->prefix = 128;
	else
		return -1;
	out->v6 = out->prefix == 128;
	if (!slash)
		return 0;
	if (!slash[1] || strlen(slash + 1) > 3)
		return -1;
	for (s = slash + 1; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		prefix = prefix * 10 + (unsigned long)(*s - '0');
	}
	if (prefix > out->prefix)
		return -1;
	out->prefix = (unsigned)prefix;
	return 0;
}

/* Whether the first `bits` bits of a and b agree. */
static bool same_prefix(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	return !rest || ((a[full] ^ b[full]) >> (8 - rest)) == 0;
}

/* Whether network n and the range (r, rbits) of the same family share an address. */
static bool overlaps(const struct pv_net *n, const unsigned char *r, unsigned rbits)
{
	return same_prefix(n->a, r, n->prefix < rbits ? n->prefix : rbits);
}

static bool v4_blocked(const struct pv_net *n)
{
	static const unsigned char lo[4] = { 127 }, ll[4] = { 169, 254 }, any[4] = { 0 };

	return overlaps(n, lo, 8) || overlaps(n, ll, 16) || overlaps(n, any, 32);
}

bool pv_net_always_blocked(const struct pv_net *n)
{
	static const unsigned char lo6[16] = { [15] = 1 }, any6[16] = { 0 },
				   ll6[16] = { 0xfe, 0x80 },
				   m_lo[16] = { [10] = 0xff, [11] = 0xff, [12] = 127 },
				   m_ll[16] = { [10] = 0xff, [11] = 0xff, [12] = 169, [13] = 254 },
				   m_any[16] = { [10] = 0xff, [11] = 0xff };

	if (!n->v6)
		return v4_blocked(n);
	return overlaps(n, lo6, 128) || overlaps(n, any6, 128) || overlaps(n, ll6, 10) ||
	       overlaps(n, m_lo, 104) || overlaps(n, m_ll, 112) || overlaps(n, m_any, 128);
}

bool pv_is_ip_literal(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}
