/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON value tree: nodes, builders, lookups and comparison (see json.h).
 * The reader is json_read.c, the writers json_write.c, YAML yamlout.c.
 */
#include "json_int.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct json *json_node_new(enum json_type t)
{
	struct json *v = xcalloc(1, sizeof(*v));

	v->type = t;
	return v;
}

static bool is_container(const struct json *v)
{
	return v && (v->type == JSON_ARR || v->type == JSON_OBJ);
}

void json_free(struct json *v)
{
	size_t i;

	if (!v)
		return;
	if (is_container(v)) {
		for (i = 0; i < v->u.c.len; i++) {
			json_free(v->u.c.vals[i]);
			if (v->u.c.keys)
				free(v->u.c.keys[i]);
		}
		free(v->u.c.vals);
		free(v->u.c.keys);
	} else if (v->type == JSON_STR) {
		free(v->u.s.p);
	}
	free(v);
}

void json_push(struct json *c, char *key, struct json *child)
{
	size_t cap = c->u.c.cap;

	if (c->u.c.len == cap) {
		cap = cap ? cap * 2 : 4;
		c->u.c.vals = xreallocarray(c->u.c.vals, cap, sizeof(*c->u.c.vals));
		if (c->type == JSON_OBJ)
			c->u.c.keys = xreallocarray(c->u.c.keys, cap, sizeof(*c->u.c.keys));
		c->u.c.cap = cap;
	}
	if (c->type == JSON_OBJ)
		c->u.c.keys[c->u.c.len] = key;
	c->u.c.vals[c->u.c.len++] = child;
}

/* ---- builders ---- */

struct json *json_new_null(void)
{
	return json_node_new(JSON_NULL);
}

struct json *json_new_bool(bool b)
{
	struct json *v = json_node_new(JSON_BOOL);

	v->u.b = b;
	return v;
}

struct json *json_new_i64(int64_t i)
{
	struct json *v = json_node_new(JSON_INT);

	v->u.i = i;
	return v;
}

struct json *json_new_double(double d)
{
	struct json *v = json_node_new(JSON_DOUBLE);

	v->u.d = d;
	return v;
}

struct json *json_new_strn(const char *s, size_t n)
{
	struct json *v = json_node_new(JSON_STR);

	if (n == SIZE_MAX)
		xdie_oom();
	v->u.s.p = xmalloc(n + 1);
	memcpy(v->u.s.p, s, n);
	v->u.s.p[n] = '\0';
	v->u.s.len = n;
	return v;
}

struct json *json_new_str(const char *s)
{
	return json_new_strn(s, strlen(s));
}

struct json *json_new_arr(void)
{
	return json_node_new(JSON_ARR);
}

struct json *json_new_obj(void)
{
	return json_node_new(JSON_OBJ);
}

void json_arr_add(struct json *arr, struct json *child)
{
	if (!child)
		child = json_new_null();
	if (!arr || arr->type != JSON_ARR) {
		json_free(child);
		return;
	}
	json_push(arr, NULL, child);
}

void json_obj_add(struct json *obj, const char *key, struct json *child)
{
	size_t i;

	if (!child)
		child = json_new_null();
	if (!obj || obj->type != JSON_OBJ) {
		json_free(child);
		return;
	}
	for (i = 0; i < obj->u.c.len; i++) {
		if (!strcmp(obj->u.c.keys[i], key)) {
			json_free(obj->u.c.vals[i]);
			obj->u.c.vals[i] = child;
			return;
		}
	}
	json_push(obj, xstrdup(key), child);
}

void json_obj_add_str(struct json *obj, const char *key, const char *s)
{
	json_obj_add(obj, key, json_new_str(s));
}

void json_obj_add_i64(struct json *obj, const char *key, int64_t i)
{
	json_obj_add(obj, key, json_new_i64(i));
}

void json_obj_add_bool(struct json *obj, const char *key, bool b)
{
	json_obj_add(obj, key, json_new_bool(b));
}

/* ---- lookups ---- */

enum json_type json_type(const struct json *v)
{
	return v ? v->type : JSON_NULL;
}

bool json_is_null(const struct json *v)
{
	return v && v->type == JSON_NULL;
}

bool json_is_bool(const struct json *v)
{
	return v && v->type == JSON_BOOL;
}

bool json_is_num(const struct json *v)
{
	return v && (v->type == JSON_INT || v->type == JSON_DOUBLE);
}

bool json_is_str(const struct json *v)
{
	return v && v->type == JSON_STR;
}

bool json_is_arr(const struct json *v)
{
	return v && v->type == JSON_ARR;
}

bool json_is_obj(const struct json *v)
{
	return v && v->type == JSON_OBJ;
}

bool json_bool(const struct json *v)
{
	return v && v->type == JSON_BOOL && v->u.b;
}

int64_t json_i64(const struct json *v)
{
	return v && v->type == JSON_INT ? v->u.i : 0;
}

double json_double(const struct json *v)
{
	if (v && v->type == JSON_INT)
		return (double)v->u.i;
	return v && v->type == JSON_DOUBLE ? v->u.d : 0;
}

const char *json_str(const struct json *v)
{
	return v && v->type == JSON_STR ? v->u.s.p : "";
}

size_t json_str_len(const struct json *v)
{
	return v && v->type == JSON_STR ? v->u.s.len : 0;
}

const struct json *json_get(const struct json *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJ)
		return NULL;
	for (i = 0; i < obj->u.c.len; i++)
		if (!strcmp(obj->u.c.keys[i], key))
			return obj->u.c.vals[i];
	return NULL;
}

const char *json_get_str(const struct json *obj, const char *key, const char *def)
{
	const struct json *v = json_get(obj, key);

	return json_is_str(v) ? v->u.s.p : def;
}

int json_get_i64(const struct json *obj, const char *key, int64_t *out)
{
	const struct json *v = json_get(obj, key);

	if (!v || v->type != JSON_INT)
		return -1;
	*out = v->u.i;
	return 0;
}

int json_get_bool(const struct json *obj, const char *key, bool *out)
{
	const struct json *v = json_get(obj, key);

	if (!v || v->type != JSON_BOOL)
		return -1;
	*out = v->u.b;
	return 0;
}

size_t json_len(const struct json *v)
{
	return is_container(v) ? v->u.c.len : 0;
}

const struct json *json_at(const struct json *v, size_t i)
{
	return i < json_len(v) ? v->u.c.vals[i] : NULL;
}

const char *json_key_at(const struct json *obj, size_t i)
{
	return json_is_obj(obj) && i < obj->u.c.len ? obj->u.c.keys[i] : NULL;
}

static bool equal_members(const struct json *a, const struct json *b)
{
	size_t i;

	if (a->u.c.len != b->u.c.len)
		return false;
	for (i = 0; i < a->u.c.len; i++) {
		if (a->type == JSON_OBJ && strcmp(a->u.c.keys[i], b->u.c.keys[i]) != 0)
			return false;
		if (!json_equal(a->u.c.vals[i], b->u.c.vals[i]))
			return false;
	}
	return true;
}

bool json_equal(const struct json *a, const struct json *b)
{
	if (!a || !b)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case JSON_NULL:
		return true;
	case JSON_BOOL:
		return a->u.b == b->u.b;
	case JSON_INT:
		return a->u.i == b->u.i;
	case JSON_DOUBLE:
		return a->u.d == b->u.d || (isnan(a->u.d) && isnan(b->u.d));
	case JSON_STR:
		return a->u.s.len == b->u.s.len && !memcmp(a->u.s.p, b->u.s.p, a->u.s.len);
	case JSON_ARR:
	case JSON_OBJ:
		return equal_members(a, b);
	}
	return false;
}
