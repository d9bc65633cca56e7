/* SPDX-License-Identifier: Apache-2.0 */
/* lib/json*.c: reader rules and messages, writer output byte for byte, builders, streaming. */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/json.h"

#include <math.h>
#include <stdlib.h>

static struct json *parse(const char *in, struct err *e)
{
	return json_parse(in, strlen(in), e);
}

/* Parses in, writes it with flags, compares with want. */
static void roundtrip_at(int line, const char *in, unsigned flags, const char *want)
{
	struct err e = ERR_INIT;
	struct json *v = parse(in, &e);
	struct buf out = BUF_INIT;

	if (!v) {
		unit_fail(__FILE__, line, "'%s' rejected: %s", in, e.msg);
		return;
	}
	json_write(v, &out, flags);
	if (strcmp(out.p, want) != 0)
		unit_fail(__FILE__, line, "'%s' wrote '%s', expected '%s'", in, out.p, want);
	json_free(v);
	buf_release(&out);
}
#define roundtrip(in, flags, want) roundtrip_at(__LINE__, in, flags, want)

static void rejects_at(int line, const char *in, size_t len, const char *why)
{
	struct err e = ERR_INIT;
	struct json *v = json_parse(in, len, &e);

	if (v) {
		unit_fail(__FILE__, line, "'%s' accepted", in);
		json_free(v);
		return;
	}
	if (e.code != ERR_INVALID || !strstr(e.msg, why))
		unit_fail(__FILE__, line, "'%s': message '%s' lacks '%s'", in, e.msg, why);
}
#define rejects(in, why) rejects_at(__LINE__, in, strlen(in), why)

TEST(json_roundtrips_compact)
{
	roundtrip(" {\"a\" : [1, -2, 3.5, true, false, null, \"x\"]} ", 0,
		  "{\"a\":[1,-2,3.5,true,false,null,\"x\"]}");
	roundtrip("\"\\u00e9\\ud83d\\ude00\\n\\\"\\/\\b\\f\\r\\t\\\\\"", 0,
		  "\"é😀\\n\\\"/\\b\\f\\r\\t\\\\\"");
	roundtrip("\"\\u0001\\u001f\\u007f\\u2028\"", 0, "\"\\u0001\\u001f\x7f\xe2\x80\xa8\"");
	roundtrip("\"a\\u0000b\"", 0, "\"a\\u0000b\"");
	roundtrip("[[],{},[[]],\"\"]", 0, "[[],{},[[]],\"\"]");
	roundtrip("{\"b\":1,\"a\":2}", 0, "{\"b\":1,\"a\":2}");
	roundtrip("\t\r\n 7 \n", 0, "7");
	roundtrip("\"\xf4\x8f\xbf\xbf\xe0\xa0\x80\xc2\x80\"", 0,
		  "\"\xf4\x8f\xbf\xbf\xe0\xa0\x80\xc2\x80\"");
}

TEST(json_numbers_and_int64_edges)
{
	roundtrip("9223372036854775807", 0, "9223372036854775807");
	roundtrip("-9223372036854775808", 0, "-9223372036854775808");
	roundtrip("-0", 0, "0");
	roundtrip("0", 0, "0");
	roundtrip("1e3", 0, "1000.0");
	roundtrip("1E+2", 0, "100.0");
	roundtrip("1.0", 0, "1.0");
	roundtrip("-0.0", 0, "-0.0");
	roundtrip("0.1", 0, "0.1");
	roundtrip("0.30000000000000004", 0, "0.30000000000000004");
	roundtrip("1e16", 0, "1e+16");
	roundtrip("123456789012345678.0", 0, "1.2345678901234568e+17");
	roundtrip("1.7976931348623157e308", 0, "1.7976931348623157e+308");
	roundtrip("5e-324", 0, "5e-324");
	roundtrip("1e-5", 0, "1e-05");
	roundtrip("0.0001", 0, "0.0001");
	roundtrip("123.456", 0, "123.456");
	roundtrip("1e15", 0, "1000000000000000.0");
	roundtrip("1e-400", 0, "0.0");
	roundtrip(
		"3."
		"14159265358979323846264338327950288419716939937510582097494459230781640628620899",
		0, "3.141592653589793");
	rejects("9223372036854775808",
		"line 1, column 1 (byte 0): integer out of the 64-bit range");
	rejects("-9223372036854775809", "integer out of the 64-bit range");
	rejects("[1, 99999999999999999999999]", "column 5 (byte 4): integer out of the 64-bit");
	rejects("1e400", "out of the range of a double");
	rejects("-1e400", "out of the range of a double");
}

TEST(json_rejects_what_rfc8259_rejects)
{
	rejects("{\"a\":1,\"a\":2}", "column 8 (byte 7): duplicate object key \"a\"");
	rejects("{\"a\":1,\"b\":{\"a\":1,\"b\":2,\"b\":3}}",
		"column 25 (byte 24): duplicate object key \"b\"");
	rejects("\"\\ud800\"", "column 2 (byte 1): lone high surrogate");
	rejects("\"\\ud800\\u0041\"", "lone high surrogate");
	rejects("\"\\ud800\\n\"", "lone high surrogate");
	rejects("\"\\udc00\"", "lone low surrogate");
	rejects("\"\\u12\"", "expected four hex digits after \\u, found '\"'");
	rejects("\"\\x\"", "column 3 (byte 2): expected an escape letter (one of \"\\/bfnrtu) "
			   "after '\\', found 'x'");
	rejects("\"\xff\"", "invalid UTF-8");
	rejects("\"\xc0\xaf\"", "invalid UTF-8");	  /* overlong '/' */
	rejects("\"\xe0\x80\xaf\"", "invalid UTF-8");	  /* overlong, 3 bytes */
	rejects("\"\xed\xa0\x80\"", "invalid UTF-8");	  /* an encoded surrogate */
	rejects("\"\xf4\x90\x80\x80\"", "invalid UTF-8"); /* beyond U+10FFFF */
	rejects("\"\xe2\x82\"", "invalid UTF-8");	  /* truncated */
	rejects("\"a\tb\"", "column 3 (byte 2): raw control character 0x09 in a string");
	rejects("\"a\nb\"", "raw control character 0x0a");
	rejects_at(__LINE__, "\"a\0b\"", 5, "raw control character 0x00");
	rejects("01", "leading zero");
	rejects("-01", "leading zero");
	rejects("00.5", "leading zero");
	rejects("+1", "expected a value, found '+'");
	rejects(".5", "expected a value, found '.'");
	rejects("1.", "expected a digit after '.', found the end of the text");
	rejects("1.e5", "expected a digit after '.', found 'e'");
	rejects("1e", "expected a digit in the exponent");
	rejects("-", "expected a digit, found the end of the text");
	rejects("NaN", "expected a value, found 'N'");
	rejects("Infinity", "expected a value");
	rejects("[1,]", "expected a value, found ']'");
	rejects("[1 2]", "expected ',' or ']' in an array, found '2'");
	rejects("{\"a\":1,}", "expected a string as object key, found '}'");
	rejects("{'a':1}", "expected a string as object key, found '''");
	rejects("{a:1}", "expected a string as object key");
	rejects("{\"a\" 1}", "line 1, column 6 (byte 5): expected ':' after object key, found '1'");
	rejects("{\"a\":1 \"b\":2}", "expected ',' or '}' in an object, found '\"'");
	rejects("[1] x", "expected the end of the text after the value, found 'x'");
	rejects("1 2", "expected the end of the text after the value");
	rejects("", "expected a value, found the end of the text");
	rejects("  ", "line 1, column 3 (byte 2): expected a value");
	rejects("\"abc", "unterminated string");
	rejects("[", "expected a value, found the end of the text");
	rejects("{", "expected a string as object key, found the end");
	rejects("tru", "expected a value");
	rejects("nul", "expected a value");
	rejects("truex", "expected the end of the text");
	rejects("\xef\xbb\xbf{}", "expected a value, found byte 0xef"); /* no BOM */
	rejects("{\"a\\u0000\":1}", "object key holds \\u0000");
	rejects("\x0c[]", "found byte 0x0c"); /* form feed is no JSON whitespace */
}

TEST(json_error_names_line_column_and_byte)
{
	struct err e = ERR_INIT;
	const char *in = "{\n  \"a\": 1,\n  \"b\"  2\n}";

	CHECK(parse(in, &e) == NULL);
	CHECK_INT(e.code, ERR_INVALID);
	CHECK_STR(e.msg,
		  "invalid JSON at line 3, column 8 (byte 19): expected ':' after object key, "
		  "found '2'");
}

TEST(json_surrogate_pairs_decode_to_utf8)
{
	struct err e = ERR_INIT;
	struct json *v = parse("[\"\\ud83d\\ude00\", \"\\uD800\\uDC00\", \"\\udbff\\udfff\", "
			       "\"\\u0000\"]",
			       &e);

	CHECK(v != NULL);
	CHECK_STR(json_str(json_at(v, 0)), "\xf0\x9f\x98\x80");
	CHECK_STR(json_str(json_at(v, 1)), "\xf0\x90\x80\x80");
	CHECK_STR(json_str(json_at(v, 2)), "\xf4\x8f\xbf\xbf");
	CHECK_INT(json_str_len(json_at(v, 3)), 1);
	CHECK_INT(json_str(json_at(v, 3))[0], 0);
	json_free(v);
}

static char *nested(int depth, const char *open, const char *inner, const char *close)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < depth; i++)
		buf_adds(&b, open);
	buf_adds(&b, inner);
	for (i = 0; i < depth; i++)
		buf_adds(&b, close);
	return buf_detach(&b, NULL);
}

TEST(json_depth_limit)
{
	struct err e = ERR_INIT;
	char *ok = nested(64, "[", "1", "]"), *deep = nested(65, "[", "", "]");
	char *objs = nested(64, "{\"k\":", "[]", "}");
	struct json *v;

	v = parse(ok, &e);
	CHECK(v != NULL);
	json_free(v);
	CHECK(parse(deep, &e) == NULL);
	CHECK(strstr(e.msg, "column 65 (byte 64): arrays and objects nested deeper than 64") !=
	      NULL);
	CHECK(parse(objs, &e) == NULL);
	CHECK(strstr(e.msg, "nested deeper than 64") != NULL);
	free(ok);
	free(deep);
	free(objs);
}

TEST(json_input_size_limit)
{
	struct err e = ERR_INIT;
	struct json *v = json_parse_max("[1, 2]", 6, 6, &e);

	CHECK(v != NULL);
	json_free(v);
	CHECK(json_parse_max("[1, 2]", 6, 5, &e) == NULL);
	CHECK_INT(e.code, ERR_LIMIT);
	CHECK_STR(e.msg, "JSON text of 6 bytes is over the limit of 5");
	CHECK(json_parse_max(NULL, 0, 5, &e) == NULL);
	CHECK(strstr(e.msg, "found the end of the text") != NULL);
	/* the reader stops at len, wherever the NUL is */
	v = json_parse_max("[1]]]", 3, 100, &e);
	CHECK(v != NULL);
	json_free(v);
}

TEST(json_duplicates_found_in_large_objects)
{
	struct buf in = BUF_INIT;
	struct err e = ERR_INIT;
	struct json *v;
	int i;

	buf_addch(&in, '{');
	for (i = 0; i < 2000; i++)
		buf_addf(&in, "%s\"k%d\":%d", i ? "," : "", i, i);
	buf_addch(&in, '}');
	v = json_parse(in.p, in.len, &e);
	CHECK(v != NULL);
	CHECK_INT(json_len(v), 2000);
	CHECK_INT(json_i64(json_get(v, "k1999")), 1999);
	json_free(v);
	buf_setlen(&in, in.len - 1);
	buf_adds(&in, ",\"k7\":0,\"k3\":0}");
	CHECK(json_parse(in.p, in.len, &e) == NULL);
	/* the first repeated key in text order is named */
	CHECK(strstr(e.msg, "duplicate object key \"k7\"") != NULL);
	buf_release(&in);
}

TEST(json_pretty_golden)
{
	roundtrip("{\"k\":[1,{\"x\":null,\"y\":[]}],\"e\":{},\"s\":\"t\"}", JSON_PRETTY,
		  "{\n"
		  "  \"k\": [\n"
		  "    1,\n"
		  "    {\n"
		  "      \"x\": null,\n"
		  "      \"y\": []\n"
		  "    }\n"
		  "  ],\n"
		  "  \"e\": {},\n"
		  "  \"s\": \"t\"\n"
		  "}");
	roundtrip("[]", JSON_PRETTY, "[]");
	roundtrip("\"x\"", JSON_PRETTY, "\"x\"");
	roundtrip("[[1]]", JSON_PRETTY, "[\n  [\n    1\n  ]\n]");
}

TEST(json_sorted_keys)
{
	roundtrip("{\"b\":1,\"a\":{\"d\":[],\"c\":{}},\"B\":0,\"aa\":2,\"\":3}", JSON_SORTED,
		  "{\"\":3,\"B\":0,\"a\":{\"c\":{},\"d\":[]},\"aa\":2,\"b\":1}");
	roundtrip("[{\"z\":1,\"y\":2}]", JSON_SORTED | JSON_PRETTY,
		  "[\n  {\n    \"y\": 2,\n    \"z\": 1\n  }\n]");
	/* byte order: 'é' (0xc3 0xa9) after 'z' */
	roundtrip("{\"\xc3\xa9\":1,\"z\":2}", JSON_SORTED, "{\"z\":2,\"\xc3\xa9\":1}");
}

TEST(json_writer_keeps_output_valid)
{
	struct buf out = BUF_INIT;
	struct json *a = json_new_arr();

	json_arr_add(a, json_new_strn("a\xff"
				      "b\xc3",
				      4));
	json_arr_add(a, json_new_strn("\x1b[31m\x7f", 6));
	json_arr_add(a, json_new_double(NAN));
	json_arr_add(a, json_new_double(-INFINITY));
	json_arr_add(a, json_new_double(2));
	json_write(a, &out, 0);
	CHECK_STR(out.p, "[\"a\xef\xbf\xbd"
			 "b\xef\xbf\xbd\",\"\\u001b[31m\x7f\",null,null,2.0]");
	json_free(a);
	buf_release(&out);
	json_write(NULL, &out, 0);
	CHECK_STR(out.p, "null");
	buf_release(&out);
}

TEST(json_builders_and_lookups)
{
	struct json *o = json_new_obj(), *a = json_new_arr();
	const struct json *x;
	int64_t i = -1;
	bool b = false;

	json_obj_add_str(o, "s", "x");
	json_obj_add_i64(o, "i", 42);
	json_obj_add(o, "d", json_new_double(2.0));
	json_obj_add_bool(o, "b", true);
	json_arr_add(a, json_new_i64(1));
	json_arr_add(a, NULL);
	json_obj_add(o, "a", a);
	json_obj_add_str(o, "s", "replaced");
	json_arr_add(o, json_new_str("not added"));		/* wrong type: freed */
	json_obj_add(a, "k", json_new_str("not added either")); /* wrong type: freed */
	CHECK_INT(json_len(o), 5);
	CHECK_STR(json_key_at(o, 0), "s");
	CHECK_STR(json_get_str(o, "s", "def"), "replaced");
	CHECK_STR(json_get_str(o, "i", "def"), "def");
	CHECK_STR(json_get_str(o, "missing", "def"), "def");
	CHECK_INT(json_get_i64(o, "i", &i), 0);
	CHECK_INT(i, 42);
	CHECK_INT(json_get_i64(o, "d", &i), -1); /* 2.0 is a double */
	CHECK_INT(json_get_i64(o, "s", &i), -1);
	CHECK_INT(json_get_i64(o, "missing", &i), -1);
	CHECK_INT(i, 42);
	CHECK_INT(json_get_bool(o, "b", &b), 0);
	CHECK(b);
	CHECK_INT(json_get_bool(o, "i", &b), -1);
	CHECK(json_double(json_get(o, "d")) == 2.0);
	CHECK(json_double(json_get(o, "i")) == 42.0);
	x = json_get(o, "a");
	CHECK_INT(json_len(x), 2);
	CHECK_INT(json_type(json_at(x, 1)), JSON_NULL);
	CHECK(json_is_null(json_at(x, 1)));
	CHECK(json_at(x, 2) == NULL);
	CHECK(json_key_at(x, 0) == NULL);
	CHECK_INT(json_type(NULL), JSON_NULL);
	CHECK(!json_is_null(NULL));
	CHECK(json_get(NULL, "a") == NULL);
	CHECK(json_get(x, "a") == NULL);
	CHECK_STR(json_str(NULL), "");
	CHECK_INT(json_i64(json_get(o, "s")), 0);
	json_free(o);
	json_free(NULL);
}

TEST(json_equal_compares_types_values_and_order)
{
	struct err e = ERR_INIT;
	struct json *a = parse("{\"x\":[1,2.5,\"s\",null,true],\"y\":{}}", &e);
	struct json *b = parse("{ \"x\" : [1, 2.5, \"s\", null, true], \"y\" : {} }", &e);
	struct json *c = parse("{\"y\":{},\"x\":[1,2.5,\"s\",null,true]}", &e);
	struct json *d = parse("{\"x\":[1.0,2.5,\"s\",null,true],\"y\":{}}", &e);
	struct json *n1 = json_new_double(NAN), *n2 = json_new_double(NAN);

	CHECK(json_equal(a, b));
	CHECK(!json_equal(a, c));
	CHECK(!json_equal(a, d));
	CHECK(!json_equal(a, NULL));
	CHECK(json_equal(NULL, NULL));
	CHECK(json_equal(n1, n2));
	json_free(a);
	json_free(b);
	json_free(c);
	json_free(d);
	json_free(n1);
	json_free(n2);
}

TEST(json_stream_writer)
{
	struct buf out = BUF_INIT;
	struct json_w w;
	struct json *t = json_new_obj();

	json_obj_add_i64(t, "n", 1);
	json_w_init(&w, &out);
	json_w_obj_open(&w);
	json_w_key(&w, "level");
	json_w_str(&w, "info");
	json_w_key(&w, "msg");
	json_w_strn(&w, "a\"b\n\xff", 5);
	json_w_key(&w, "list");
	json_w_arr_open(&w);
	json_w_i64(&w, INT64_MIN);
	json_w_u64(&w, UINT64_MAX);
	json_w_double(&w, 0.5);
	json_w_bool(&w, false);
	json_w_null(&w);
	json_w_arr_open(&w);
	json_w_arr_close(&w);
	json_w_obj_open(&w);
	json_w_obj_close(&w);
	json_w_tree(&w, t);
	json_w_arr_close(&w);
	json_w_key(&w, "end");
	json_w_bool(&w, true);
	json_w_obj_close(&w);
	CHECK_STR(out.p,
		  "{\"level\":\"info\",\"msg\":\"a\\\"b\\n\xef\xbf\xbd\",\"list\":["
		  "-9223372036854775808,18446744073709551615,0.5,false,null,[],{},{\"n\":1}],"
		  "\"end\":true}");
	CHECK_INT(w.depth, 0);
	json_free(t);
	buf_release(&out);
}
