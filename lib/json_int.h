/* SPDX-License-Identifier: Apache-2.0 */
/* The node layout shared by lib/json*.c; not for other modules (they use json.h). */
#ifndef OS_JSON_INT_H
#define OS_JSON_INT_H

#include "json.h"

struct json {
	enum json_type type;
	union {
		bool b;
		int64_t i;
		double d;
		struct {
			char *p; /* NUL-terminated, may hold NUL */
			size_t len;
		} s;
		struct {
			struct json **vals;
			char **keys; /* JSON_OBJ only, parallel to vals */
			size_t len, cap;
		} c;
	} u;
};

/* A zeroed node of type t. */
struct json *json_node_new(enum json_type t);
/* Appends child to a container without looking for an equal key; takes key (malloc'd). */
void json_push(struct json *c, char *key, struct json *child);

#endif
