/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the two halves of the policy loader: policy_load.c (the document,
 * typed fields, the top level) and policy_load_ep.c (endpoints, L7 rules, middlewares).
 * Not for other modules.
 */
#ifndef OS_POLICY_LOAD_INT_H
#define OS_POLICY_LOAD_INT_H

#include <yaml.h>

#include "policy.h"

struct ld {
	struct pol_policy *p;
	struct pol_report *r;
	yaml_document_t *doc;
	struct arena *a; /* the policy's arena */
	struct buf path; /* key path of the node being read */
};

enum ld_kind {
	LD_STR,	 /* const char * */
	LD_BOOL, /* bool: true/false only */
	LD_U16,	 /* uint16_t */
	LD_U32,	 /* uint32_t */
	LD_I32,	 /* int32_t */
	LD_STRS, /* const char ** at off, size_t count at off_n */
	LD_FN,	 /* fn(l, value, obj) */
	LD_SKIP, /* accepted and ignored (must still be a bool) */
};

struct ld_field {
	const char *key;
	enum ld_kind kind;
	size_t off, off_n;
	void (*fn)(struct ld *l, yaml_node_t *v, void *obj);
	bool required;
};

#define LD_FIELD(k, kind, type, m)                         \
	{                                                  \
		k, kind, offsetof(type, m), 0, NULL, false \
	}
#define LD_REQ(k, kind, type, m)                          \
	{                                                 \
		k, kind, offsetof(type, m), 0, NULL, true \
	}
#define LD_LIST(k, type, m, n)                                                \
	{                                                                     \
		k, LD_STRS, offsetof(type, m), offsetof(type, n), NULL, false \
	}
#define LD_CALL(k, f)                    \
	{                                \
		k, LD_FN, 0, 0, f, false \
	}

yaml_node_t *ld_node(struct ld *l, yaml_node_item_t id);
struct pol_mark ld_mark(const yaml_node_t *n);
void ld_err(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
size_t ld_push_key(struct ld *l, const char *key);
size_t ld_push_index(struct ld *l, size_t i);
void ld_pop(struct ld *l, size_t len);

bool ld_is_null(const yaml_node_t *n);
/* A plain integer scalar in [min, max] into *out; 0, or -1 after reporting why not. */
int ld_int(struct ld *l, yaml_node_t *n, int64_t min, int64_t max, int64_t *out);
/* The scalar's text (copied into the policy), or NULL after reporting why not. */
const char *ld_string(struct ld *l, yaml_node_t *n);
/* Number of items of a sequence (0 for null), or -1 after reporting a wrong type. */
long ld_seq_len(struct ld *l, yaml_node_t *n);
/* Whether n is a mapping (null counts as an empty one); reports a wrong type. */
bool ld_is_map(struct ld *l, yaml_node_t *n);
/* Reports duplicate and non-string keys of a free-form mapping; returns the pair count. */
size_t ld_check_keys(struct ld *l, yaml_node_t *n);
/* The key of a pair as a string, or NULL (already reported by ld_check_keys). */
const char *ld_key(struct ld *l, yaml_node_pair_t *pr);
/* Reads a mapping with a fixed set of keys into obj. */
void ld_map(struct ld *l, yaml_node_t *n, const struct ld_field *f, size_t nf, void *obj);
void ld_strings(struct ld *l, yaml_node_t *n, const char ***out, size_t *count);

/* policy_load_ep.c */
void ld_network_policies(struct ld *l, yaml_node_t *v, void *obj);
void ld_network_middlewares(struct ld *l, yaml_node_t *v, void *obj);

#endif
