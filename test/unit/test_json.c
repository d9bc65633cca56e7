/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/json.h"

static void roundtrip(const char *in, unsigned flags, const char *want)
{
	struct err e = ERR_INIT;
	struct json *v = json_parse(in, strlen(in), &e);
	struct buf out = BUF_INIT;

	CHECK(v != NULL);
	if (!v) {
		fprintf(stderr, "  input %s: %s\n", in, e.msg);
		return;
	}
	json_write(v, &out, flags);
	CHECK_STR(out.p, want);
	json_free(v);
	buf_release(&out);
}

static void rejects(const char *in, const char *why)
{
	struct err e = ERR_INIT;
	struct json *v = json_parse(in, strlen(in), &e);

	CHECK(v == NULL);
	json_free(v);
	if (!strstr(e.msg, why))
		unit_fail(__FILE__, __LINE__, "'%s': message '%s' lacks '%s'", in, e.msg, why);
}

TEST(json_roundtrips)
{
	roundtrip(" {\"a\" : [1, -2, 3.5, true, false, null, \"x\"]} ", 0,
		  "{\"a\":[1,-2,3.5,true,false,null,\"x\"]}");
	roundtrip("\"\\u00e9\\ud83d\\ude00\\n\\\"\\/\"", 0, "\"é😀\\n\\\"/\"");
	roundtrip("9223372036854775807", 0, "9223372036854775807");
	roundtrip("-9223372036854775808", 0, "-9223372036854775808");
	roundtrip("1e3", 0, "1000.0");
	roundtrip("{\"b\":1,\"a\":{\"d\":[],\"c\":{}}}", JSON_SORTED,
		  "{\"a\":{\"c\":{},\"d\":[]},\"b\":1}");
	roundtrip("{\"k\":[1,{\"x\":null}],\"e\":[]}", JSON_PRETTY,
		  "{\n  \"k\": [\n    1,\n    {\n      \"x\": null\n    }\n  ],\n  \"e\": []\n}");
	roundtrip("\"\\u0001\\u007f\"", 0, "\"\\u0001\\u007f\"");
}

TEST(json_rejects_what_rfc8259_rejects)
{
	rejects("{\"a\":1,\"a\":2}", "duplicate object key");
	rejects("\"\\ud800\"", "lone high surrogate");
	rejects("\"\\udc00\"", "lone low surrogate");
	rejects("\"\xff\"", "invalid UTF-8");
	rejects("\"\xc0\xaf\"", "invalid UTF-8"); /* overlong '/' */
	rejects("\"\xed\xa0\x80\"", "invalid UTF-8"); /* encoded surrogate */
	rejects("\"a\tb\"", "control character");
	rejects("01", "leading zero");
	rejects("9223372036854775808", "64-bit range");
	rejects("[1,]", "expected a value");
	rejects("{\"a\" 1}", "expected ':'");
	rejects("[1] x", "unexpected text");
	rejects("", "expected a value");
	rejects("\"abc", "unterminated string");
	rejects("tru", "expected a value");
	rejects("1.", "expected a digit");
	rejects("{\"a\\u0000\":1}", "NUL in an object key");
	rejects("{\"a\":1,\n  \"b\" 2}", "line 2, column 7");
}

TEST(json_depth_limit)
{
	char deep[200];
	struct err e = ERR_INIT;
	struct json *v;

	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	deep[130] = '\0';
	v = json_parse(deep, 130, &e);
	CHECK(v == NULL);
	CHECK(strstr(e.msg, "nested too deeply") != NULL);
	v = json_parse(deep + 1, 128, &e);
	CHECK(v != NULL);
	json_free(v);
}

TEST(json_invalid_utf8_written_as_replacement)
{
	struct buf out = BUF_INIT;
	struct json *v = json_new_strn("a\xffz", 3);

	json_write(v, &out, 0);
	CHECK_STR(out.p, "\"a\xef\xbf\xbdz\"");
	json_free(v);
	buf_release(&out);
}

TEST(json_lookups)
{
	struct err e = ERR_INIT;
	const char *in = "{\"s\":\"x\",\"i\":42,\"d\":2.0,\"b\":true,\"a\":[1,2]}";
	struct json *v = json_parse(in, strlen(in), &e);
	int64_t i;

	CHECK_STR(json_get_str(v, "s", "def"), "x");
	CHECK_STR(json_get_str(v, "i", "def"), "def");
	CHECK_INT(json_get_i64(v, "i", &i), 0);
	CHECK_INT(i, 42);
	CHECK_INT(json_get_i64(v, "d", &i), 0);
	CHECK_INT(i, 2);
	CHECK_INT(json_get_i64(v, "s", &i), -1);
	CHECK(json_bool(json_get(v, "b")));
	CHECK_INT(json_len(json_get(v, "a")), 2);
	CHECK(json_get(v, "missing") == NULL);
	json_free(v);
}

TEST(yaml_quotes_what_could_change_type)
{
	struct json *o = json_new_obj(), *a = json_new_arr(), *inner = json_new_obj();
	struct buf out = BUF_INIT;

	json_obj_add_str(o, "plain", "hello world");
	json_obj_add_str(o, "bool", "yes");
	json_obj_add_str(o, "num", "1e3");
	json_obj_add_str(o, "empty", "");
	json_obj_add_str(o, "colon", "a: b");
	json_obj_add_str(o, "dash", "-x");
	json_obj_add_i64(o, "int", 7);
	json_obj_add(o, "null", json_new_null());
	json_obj_add_str(inner, "k", "v");
	json_obj_add_bool(inner, "t", true);
	json_arr_add(a, inner);
	json_arr_add(a, json_new_str("on"));
	json_obj_add(o, "list", a);
	json_obj_add(o, "none", json_new_arr());
	yaml_write(o, &out);
	CHECK_STR(out.p, "plain: hello world\nbool: \"yes\"\nnum: \"1e3\"\nempty: \"\"\n"
			 "colon: \"a: b\"\ndash: \"-x\"\nint: 7\n\"null\": null\nlist:\n- k: v\n  t: true\n"
			 "- \"on\"\nnone: []\n");
	json_free(o);
	buf_release(&out);
}
