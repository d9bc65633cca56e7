/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for lib/policy_glob. Input: delimiters, '\n', pattern, '\n', value.
 * Both matchers must answer quickly and never crash; pol_glob_match() answers -1, 0 or 1,
 * a metacharacter-free pattern matches exactly itself, a fully escaped value matches
 * itself, and the route selector matches every path against itself.
 */
#include "../../lib/policy.h"
#include "../../lib/util.h"
#include "../../lib/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool valid_utf8(const char *s)
{
	size_t n = strlen(s), i, len;

	for (i = 0; i < n; i += len)
		if (!(len = utf8_seq_len((const unsigned char *)s + i, n - i)))
			return false;
	return true;
}

static void check_literal(const char *pat, const char *delims, const char *val, int r)
{
	if (strpbrk(pat, "*?[]{}\\") || strchr(delims, ':') || r < 0)
		return;
	if (r != !strcmp(pat, val))
		abort();
}

static void check_escaped(const char *delims, const char *val)
{
	size_t n = strlen(val), i;
	char *esc = xmalloc(2 * n + 1), *o = esc;
	const unsigned char *d;

	/* regorus wraps delimiters in unescaped '/': a metacharacter delimiter stays live */
	for (d = (const unsigned char *)delims; *d; d++)
		if (*d >= 0x80 || strchr("*?[]{}\\,!^-", *d))
			goto out;
	if (!valid_utf8(val))
		goto out;
	for (i = 0; i < n; i++) {
		if ((unsigned char)val[i] < 0x80) /* escape characters, not UTF-8 bytes */
			*o++ = '\\';
		*o++ = val[i];
	}
	*o = '\0';
	if (pol_glob_match(esc, delims, val) != 1)
		abort();
out:
	free(esc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size), *pat, *val;
	int r;

	pat = strchr(s, '\n');
	if (!pat || pat - s > 8)
		goto out;
	*pat++ = '\0';
	val = strchr(pat, '\n');
	if (!val)
		goto out;
	*val++ = '\0';
	r = pol_glob_match(pat, s, val);
	if (r < -1 || r > 1)
		abort();
	check_literal(pat, s, val, r);
	check_escaped(s, val);
	(void)pol_route_match(pat, val);
	if (!pol_route_match(val, val) || !pol_route_match(pat, pat))
		abort();
out:
	free(s);
	return 0;
}
