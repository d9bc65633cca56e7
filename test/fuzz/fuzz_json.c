/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON reader, writers and YAML emitter. Whatever the reader accepts must write back (compact)
 * to text that reads as an equal tree and writes identically; the streaming writer must write
 * the same bytes; pretty+sorted output must read back; the YAML output must read back through
 * libyaml as the same structure and strings. The raw input is also written as a string value,
 * which must always come out as valid JSON and YAML.
 */
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/yamlout.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static void stream(struct json_w *w, const struct json *v)
{
	size_t i;

	switch (json_type(v)) {
	case JSON_NULL:
		json_w_null(w);
		return;
	case JSON_BOOL:
		json_w_bool(w, json_bool(v));
		return;
	case JSON_INT:
		json_w_i64(w, json_i64(v));
		return;
	case JSON_DOUBLE:
		json_w_double(w, json_double(v));
		return;
	case JSON_STR:
		json_w_strn(w, json_str(v), json_str_len(v));
		return;
	case JSON_ARR:
		json_w_arr_open(w);
		for (i = 0; i < json_len(v); i++)
			stream(w, json_at(v, i));
		json_w_arr_close(w);
		return;
	case JSON_OBJ:
		json_w_obj_open(w);
		for (i = 0; i < json_len(v); i++) {
			json_w_key(w, json_key_at(v, i));
			stream(w, json_at(v, i));
		}
		json_w_obj_close(w);
		return;
	}
}

static void next_event(yaml_parser_t *p, yaml_event_t *ev, yaml_event_type_t want)
{
	CHECK(yaml_parser_parse(p, ev) == 1);
	CHECK(ev->type == want);
}

static void check_scalar(const yaml_event_t *ev, const char *s, size_t n)
{
	CHECK(ev->data.scalar.length == n);
	CHECK(memcmp(ev->data.scalar.value, s, n) == 0);
}

/* A non-string scalar must be plain and read as the same value (YAML 1.1 floats have a '.'). */
static void check_typed(const yaml_event_t *ev, const struct json *v)
{
	const char *s = (const char *)ev->data.scalar.value;
	char *end;

	CHECK(ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
	switch (json_type(v)) {
	case JSON_NULL:
		CHECK(!strcmp(s, "null"));
		break;
	case JSON_BOOL:
		CHECK(!strcmp(s, json_bool(v) ? "true" : "false"));
		break;
	case JSON_INT:
		CHECK(strtoll(s, &end, 10) == json_i64(v) && !*end);
		break;
	default:
		CHECK(strtod(s, &end) == json_double(v) && !*end && strchr(s, '.'));
		break;
	}
}

static void check_yaml_node(yaml_parser_t *p, const struct json *v)
{
	yaml_event_t ev;
	enum json_type t = json_type(v);
	size_t i;

	if (t == JSON_ARR || t == JSON_OBJ) {
		next_event(p, &ev,
			   t == JSON_ARR ? YAML_SEQUENCE_START_EVENT : YAML_MAPPING_START_EVENT);
		yaml_event_delete(&ev);
		for (i = 0; i < json_len(v); i++) {
			if (t == JSON_OBJ) {
				next_event(p, &ev, YAML_SCALAR_EVENT);
				check_scalar(&ev, json_key_at(v, i), strlen(json_key_at(v, i)));
				yaml_event_delete(&ev);
			}
			check_yaml_node(p, json_at(v, i));
		}
		next_event(p, &ev,
			   t == JSON_ARR ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT);
		yaml_event_delete(&ev);
		return;
	}
	next_event(p, &ev, YAML_SCALAR_EVENT);
	if (t == JSON_STR)
		check_scalar(&ev, json_str(v), json_str_len(v));
	else
		check_typed(&ev, v);
	yaml_event_delete(&ev);
}

/* YAML of v must read back through libyaml as one document holding the same structure. */
static void check_yaml(const struct json *v)
{
	struct buf y = BUF_INIT;
	yaml_parser_t p;
	yaml_event_t ev;

	yaml_write(v, &y);
	CHECK(yaml_parser_initialize(&p) == 1);
	yaml_parser_set_input_string(&p, (const unsigned char *)y.p, y.len);
	next_event(&p, &ev, YAML_STREAM_START_EVENT);
	yaml_event_delete(&ev);
	next_event(&p, &ev, YAML_DOCUMENT_START_EVENT);
	yaml_event_delete(&ev);
	check_yaml_node(&p, v);
	next_event(&p, &ev, YAML_DOCUMENT_END_EVENT);
	yaml_event_delete(&ev);
	next_event(&p, &ev, YAML_STREAM_END_EVENT);
	yaml_event_delete(&ev);
	yaml_parser_delete(&p);
	buf_release(&y);
}

static bool valid_utf8(const uint8_t *p, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += k)
		if (!(k = json_utf8_len(p + i, p + n)))
			return false;
	return true;
}

/* Any bytes as a string value: valid JSON that reads back, and valid YAML of the same string. */
static void check_raw_string(const uint8_t *data, size_t size)
{
	struct json *s = json_new_strn((const char *)data, size), *back;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;

	json_write(s, &out, JSON_COMPACT);
	back = json_parse(out.p, out.len, &e);
	CHECK(back != NULL);
	/* the writer changes nothing but invalid UTF-8 */
	CHECK(!valid_utf8(data, size) || json_equal(s, back));
	check_yaml(back);
	json_free(s);
	json_free(back);
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = ERR_INIT;
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	struct json *v = json_parse_max((const char *)data, size, 1 << 20, &e), *w, *x;
	struct json_w jw;

	check_raw_string(data, size);
	if (!v)
		return 0;
	json_write(v, &a, JSON_COMPACT);
	w = json_parse(a.p, a.len, &e);
	CHECK(w != NULL && json_equal(v, w));
	json_write(w, &b, JSON_COMPACT);
	CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	json_w_init(&jw, &c);
	stream(&jw, v);
	CHECK(jw.depth == 0 && c.len == a.len && memcmp(a.p, c.p, a.len) == 0);
	buf_reset(&c);
	json_write(v, &c, JSON_PRETTY | JSON_SORTED);
	x = json_parse(c.p, c.len, &e);
	CHECK(x != NULL && json_len(x) == json_len(v) && json_type(x) == json_type(v));
	check_yaml(v);
	json_free(v);
	json_free(w);
	json_free(x);
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
	return 0;
}
