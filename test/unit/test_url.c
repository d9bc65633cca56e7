/* SPDX-License-Identifier: Apache-2.0 */
/* lib/url: http(s) URLs and host:port authorities, with the exact error messages. */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/url.h"

static void url_ok_at(const char *file, int line, const char *in, const char *scheme,
		      const char *host, bool v6, unsigned port, const char *path)
{
	struct url u;
	struct err e = ERR_INIT;

	if (url_parse(&u, in, &e) < 0) {
		unit_fail(file, line, "url_parse('%s') failed: %s", in, e.msg);
		return;
	}
	if (strcmp(u.scheme, scheme) || strcmp(u.host, host) || u.ipv6 != v6 || u.port != port ||
	    strcmp(u.path, path))
		unit_fail(file, line, "url_parse('%s') = %s %s v6=%d %u %s", in, u.scheme, u.host,
			  u.ipv6, (unsigned)u.port, u.path);
	url_release(&u);
}

static void url_bad_at(const char *file, int line, const char *in, const char *msg)
{
	struct url u;
	struct err e = ERR_INIT;

	if (url_parse(&u, in, &e) == 0) {
		unit_fail(file, line, "url_parse('%s') succeeded", in);
		url_release(&u);
		return;
	}
	if (strcmp(e.msg, msg) != 0)
		unit_fail(file, line, "url_parse('%s'): '%s', expected '%s'", in, e.msg, msg);
	if (e.code != ERR_INVALID)
		unit_fail(file, line, "code %d", e.code);
	CHECK(u.path == NULL);
}

#define URL_OK(in, scheme, host, v6, port, path) \
	url_ok_at(__FILE__, __LINE__, in, scheme, host, v6, port, path)
#define URL_BAD(in, msg) url_bad_at(__FILE__, __LINE__, in, msg)

TEST(url_parse_accepts)
{
	URL_OK("https://127.0.0.1:8080", "https", "127.0.0.1", false, 8080, "/");
	URL_OK("http://example.com", "http", "example.com", false, 80, "/");
	URL_OK("https://example.com", "https", "example.com", false, 443, "/");
	URL_OK("HTTPS://Example.COM:443/A/b?C=D", "https", "example.com", false, 443, "/A/b?C=D");
	URL_OK("http://h?x=1", "http", "h", false, 80, "/?x=1");
	URL_OK("http://[::1]:3128/x", "http", "::1", true, 3128, "/x");
	URL_OK("http://[2001:DB8::1]", "http", "2001:db8::1", true, 80, "/");
	URL_OK("http://[::ffff:127.0.0.1]:1/", "http", "::ffff:127.0.0.1", true, 1, "/");
	URL_OK("http://host.docker.internal:65535/", "http", "host.docker.internal", false, 65535,
	       "/");
	URL_OK("http://my_host-1.example.:00080/%2e", "http", "my_host-1.example.", false, 80,
	       "/%2e");
	URL_OK("http://policy.local/v1/policy/current", "http", "policy.local", false, 80,
	       "/v1/policy/current");
}

TEST(url_parse_rejects)
{
	URL_BAD("https://127.0.0.1:0",
		"invalid URL 'https://127.0.0.1:0': port must be between 1 and 65535");
	URL_BAD("https://127.0.0.1:65536",
		"invalid URL 'https://127.0.0.1:65536': port must be between 1 and 65535");
	URL_BAD("http://h:99999999999999999999",
		"invalid URL 'http://h:99999999999999999999': port must be between 1 and 65535");
	URL_BAD("http://h:80x", "invalid URL 'http://h:80x': port '80x' is not a number");
	URL_BAD("http://h:-1", "invalid URL 'http://h:-1': port '-1' is not a number");
	URL_BAD("http://h:/", "invalid URL 'http://h:/': empty port");
	URL_BAD("127.0.0.1:8080", "invalid URL '127.0.0.1:8080': expected http:// or https://");
	URL_BAD("", "invalid URL '': expected http:// or https://");
	URL_BAD("ftp://h/",
		"invalid URL 'ftp://h/': unsupported scheme 'ftp' (expected http or https)");
	URL_BAD("://h/", "invalid URL '://h/': unsupported scheme (expected http or https)");
	URL_BAD("http://user:pw@h/",
		"invalid URL 'http://user:pw@h/': user information ('user@') is not allowed");
	URL_BAD("http://@h/",
		"invalid URL 'http://@h/': user information ('user@') is not allowed");
	URL_BAD("http:///x", "invalid URL 'http:///x': empty host");
	URL_BAD("http://", "invalid URL 'http://': empty host");
	URL_BAD("http://:80/", "invalid URL 'http://:80/': empty host");
	URL_BAD("http://a b/", "invalid URL 'http://a b/': contains a space");
	URL_BAD("http://a/b c", "invalid URL 'http://a/b c': contains a space");
	URL_BAD("http://a/\tb", "invalid URL 'http://a/?b': contains a control character");
	URL_BAD("http://a/\x7f", "invalid URL 'http://a/?': contains a control character");
	URL_BAD("http://caf\xc3\xa9/", "invalid URL 'http://caf?"
				       "?/': contains a non-ASCII byte (percent-encode it)");
	URL_BAD("http://a/#frag", "invalid URL 'http://a/#frag': fragments ('#') are not allowed");
	URL_BAD("http://[::1/", "invalid URL 'http://[::1/': '[' without a closing ']'");
	URL_BAD("http://::1]/",
		"invalid URL 'http://::1]/': misplaced bracket (IPv6 addresses go in [brackets])");
	URL_BAD("http://a]/",
		"invalid URL 'http://a]/': misplaced bracket (IPv6 addresses go in [brackets])");
	URL_BAD("http://a[::1]/", "invalid URL 'http://a[::1]/': misplaced bracket (IPv6 addresses "
				  "go in [brackets])");
	URL_BAD("http://[::1]x/", "invalid URL 'http://[::1]x/': unexpected characters after ']'");
	URL_BAD("http://[]/", "invalid URL 'http://[]/': empty host");
	URL_BAD("http://[::g]/", "invalid URL 'http://[::g]/': invalid IPv6 address '::g'");
	URL_BAD("http://[127.0.0.1]/",
		"invalid URL 'http://[127.0.0.1]/': invalid IPv6 address '127.0.0.1'");
	URL_BAD("http://[fe80::1%25eth0]/",
		"invalid URL 'http://[fe80::1%25eth0]/': invalid IPv6 address in brackets");
	URL_BAD("http://a%41/", "invalid URL 'http://a%41/': invalid character '%' in host");
	URL_BAD("http://a:1:2/",
		"invalid URL 'http://a:1:2/': IPv6 addresses must be in [brackets]");
}

TEST(url_long_input_is_cut_in_messages)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	struct url u;
	int i;

	buf_adds(&b, "http://");
	for (i = 0; i < 300; i++)
		buf_addch(&b, 'a');
	CHECK_INT(url_parse(&u, b.p, &e), -1);
	CHECK(strstr(e.msg, "...': host is longer than 253 bytes") != NULL);
	CHECK(strlen(e.msg) < 200);
	buf_release(&b);
}

TEST(url_authority)
{
	char host[URL_HOST_MAX + 1];
	struct err e = ERR_INIT;
	uint16_t port;
	bool v6;

	CHECK_INT(url_parse_authority("API.example.com:443", 19, true, host, &v6, &port, &e), 0);
	CHECK_STR(host, "api.example.com");
	CHECK_INT(port, 443);
	CHECK(!v6);
	CHECK_INT(url_parse_authority("[::1]:22", 8, true, host, &v6, &port, &e), 0);
	CHECK_STR(host, "::1");
	CHECK(v6);
	CHECK_INT(url_parse_authority("example.com", 11, false, host, &v6, &port, &e), 0);
	CHECK_INT(port, 0);
	CHECK_INT(url_parse_authority("example.com", 11, true, host, &v6, &port, &e), -1);
	CHECK_STR(e.msg, "invalid authority 'example.com': missing port (expected host:port)");
	CHECK_INT(url_parse_authority("example.com:443/x", 17, true, host, &v6, &port, &e), -1);
	CHECK_STR(e.msg, "invalid authority 'example.com:443/x': port '443/x' is not a number");
	/* only n bytes are looked at */
	CHECK_INT(url_parse_authority("a:1 trailing", 3, true, host, &v6, &port, &e), 0);
	CHECK_INT(port, 1);
	CHECK_INT(url_parse_authority("", 0, false, host, &v6, &port, &e), -1);
	CHECK_STR(e.msg, "invalid authority '': empty host");
}

TEST(url_format_round_trip)
{
	static const char *const in[] = {
		"https://127.0.0.1:8080",
		"HTTP://[::1]/a?b",
		"http://Example.com:80/x",
		"https://h?q",
	};
	static const char *const want[] = {
		"https://127.0.0.1:8080/",
		"http://[::1]/a?b",
		"http://example.com:80/x",
		"https://h/?q",
	};
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	struct url u, v;
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		CHECK_INT(url_parse(&u, in[i], &e), 0);
		buf_reset(&b);
		url_format(&b, &u);
		CHECK_STR(b.p, want[i]);
		CHECK_INT(url_parse(&v, b.p, &e), 0);
		CHECK_STR(v.host, u.host);
		CHECK_INT(v.port, u.port);
		CHECK_STR(v.path, u.path);
		url_release(&u);
		url_release(&v);
	}
	buf_reset(&b);
	url_add_authority(&b, "::1", true, 443);
	buf_addch(&b, ' ');
	url_add_authority(&b, "a.b", false, 80);
	CHECK_STR(b.p, "[::1]:443 a.b:80");
	buf_release(&b);
}
