/* SPDX-License-Identifier: Apache-2.0 */
/* lib/yamlout.c: the quoting table and the block layout, byte for byte. */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/json.h"
#include "../../lib/yamlout.h"

#include <math.h>

/* Parses JSON in, writes it as YAML, compares with want. */
static void yaml_at(int line, const char *in, const char *want)
{
	struct err e = ERR_INIT;
	struct json *v = json_parse(in, strlen(in), &e);
	struct buf out = BUF_INIT;

	if (!v) {
		unit_fail(__FILE__, line, "'%s' rejected: %s", in, e.msg);
		return;
	}
	yaml_write(v, &out);
	if (strcmp(out.p, want) != 0)
		unit_fail(__FILE__, line, "'%s' wrote\n%s\nexpected\n%s", in, out.p, want);
	json_free(v);
	buf_release(&out);
}
#define yaml(in, want) yaml_at(__LINE__, in, want)

TEST(yaml_quoting_table)
{
	static const char *const quoted[] = {
		"",
		"true",
		"False",
		"YES",
		"no",
		"On",
		"oFF",
		"y",
		"N",
		"null",
		"NULL",
		"~",
		"1",
		"-1",
		"+1",
		"0",
		"1e3",
		"1E+3",
		"0x1F",
		"0o17",
		"0b101",
		".5",
		"-.5",
		"5.",
		"1_000",
		"1:20",
		"1.5e-3",
		".inf",
		"-.Inf",
		".NaN",
		"2001-12-14",
		"2001-12-14t21:59:43.10-05:00",
		"2001-12-14 21:59:43.10 -5",
		" lead",
		"trail ",
		"-",
		"-x",
		"- x",
		"---",
		"...",
		"?x",
		":x",
		",x",
		"[x",
		"]x",
		"{x",
		"}x",
		"#x",
		"&x",
		"*x",
		"!x",
		"|x",
		">x",
		"'x",
		"\"x",
		"%x",
		"@x",
		"`x",
		"a: b",
		"a #b",
		"key:",
		"=",
		"<<",
		"a\nb",
		"a\tb",
		"\r",
		"\x7f",
		"\xc2\x85",
		"\xc2\x9f",
		"a\xe2\x80\xa8",
		"\xe2\x80\xa9",
		"\xef\xbb\xbf",
		"\xef\xbf\xbe",
		"\xff",
		"\xc3",
		"\xed\xa0\x80",
	};
	static const char *const plain[] = {
		"hello",   "hello world", "a:b",       "a#b",	"http://127.0.0.1:8080/x?y=1#f",
		"x-1",	   "v1.2",	  "openshell", "é",	"日本語",
		"😀",	   "a,b",	  "a[b]",      "a - b", "a ? b",
		"truey",   "nullx",	  "yes!",      "~x",	"a'b",
		"a\"b",	   "a\\b",	  "=x",	       "<<x",	"x=",
		"1 apple", "\xc2\xa0",	  "..",	       "a..",
	};
	size_t i;

	for (i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++)
		if (!yaml_needs_quotes(quoted[i], strlen(quoted[i])))
			unit_fail(__FILE__, __LINE__, "'%s' should be quoted", quoted[i]);
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (yaml_needs_quotes(plain[i], strlen(plain[i])))
			unit_fail(__FILE__, __LINE__, "'%s' should be plain", plain[i]);
	CHECK(yaml_needs_quotes("a\0b", 3));
}

TEST(yaml_block_layout)
{
	yaml("{\"name\":\"dev\",\"port\":8080,\"remote\":false,\"gone\":null,"
	     "\"tags\":[\"a\",\"b\"],\"nested\":{\"k\":{\"x\":1}},\"none\":[],\"empty\":{}}",
	     "name: dev\n"
	     "port: 8080\n"
	     "remote: false\n"
	     "gone: null\n"
	     "tags:\n"
	     "- a\n"
	     "- b\n"
	     "nested:\n"
	     "  k:\n"
	     "    x: 1\n"
	     "none: []\n"
	     "empty: {}\n");
	yaml("[{\"k\":\"v\",\"t\":true,\"l\":[1,2]},[1,[2,3]],[],{},{\"a\":{\"b\":[{\"c\":1}]}}]",
	     "- k: v\n"
	     "  t: true\n"
	     "  l:\n"
	     "  - 1\n"
	     "  - 2\n"
	     "- - 1\n"
	     "  - - 2\n"
	     "    - 3\n"
	     "- []\n"
	     "- {}\n"
	     "- a:\n"
	     "    b:\n"
	     "    - c: 1\n");
	yaml("\"hello\"", "hello\n");
	yaml("\"yes\"", "\"yes\"\n");
	yaml("[]", "[]\n");
	yaml("{}", "{}\n");
	yaml("null", "null\n");
	yaml("{\"true\":\"on\",\"1\":\"\",\"a: b\":\"- x\"}",
	     "\"true\": \"on\"\n\"1\": \"\"\n\"a: b\": \"- x\"\n");
}

TEST(yaml_escapes_in_double_quotes)
{
	yaml("[\"a\\nb\\t\\\"c\\\\\", \"\\u0000\\u001b\\u007f\", \"\\u0085\\u2028\\ufeff\\uffff\"]",
	     "- \"a\\nb\\t\\\"c\\\\\"\n"
	     "- \"\\u0000\\u001b\\u007f\"\n"
	     "- \"\\u0085\\u2028\\ufeff\\uffff\"\n");
}

TEST(yaml_invalid_utf8_becomes_replacement)
{
	struct json *v = json_new_strn("a\xff", 2);
	struct buf out = BUF_INIT;

	yaml_write(v, &out);
	CHECK_STR(out.p, "\"a\xef\xbf\xbd\"\n");
	json_free(v);
	buf_release(&out);
}

TEST(yaml_numbers_read_back_as_numbers)
{
	struct json *a = json_new_arr();
	struct buf out = BUF_INIT;

	json_arr_add(a, json_new_double(1e16));
	json_arr_add(a, json_new_double(-2.5e-7));
	json_arr_add(a, json_new_double(3));
	json_arr_add(a, json_new_double(INFINITY));
	json_arr_add(a, json_new_i64(INT64_MIN));
	yaml_write(a, &out);
	CHECK_STR(out.p, "- 1.0e+16\n- -2.5e-07\n- 3.0\n- null\n- -9223372036854775808\n");
	json_free(a);
	buf_release(&out);
}

TEST(yaml_long_keys_use_explicit_form)
{
	struct json *o = json_new_obj(), *inner = json_new_obj();
	struct buf out = BUF_INIT, want = BUF_INIT;
	char key[1200];

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	json_obj_add_i64(inner, "x", 1);
	json_obj_add_i64(inner, "z", 2);
	json_obj_add(o, key, inner);
	json_obj_add_str(o, "short", "v");
	yaml_write(o, &out);
	buf_addf(&want, "? %s\n: x: 1\n  z: 2\nshort: v\n", key);
	CHECK_STR(out.p, want.p);
	json_free(o);
	buf_release(&out);
	buf_release(&want);
}
