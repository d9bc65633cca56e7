/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The strict YAML policy loader (reference/policy.md §1): libyaml's document API, typed
 * fields from tables, every problem reported with line:col and key path, then
 * pol_validate(). Endpoints and L7 rules are read by policy_load_ep.c.
 */
#include "policy_load_int.h"
#include "fsutil.h"
#include "util.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LD_MAX_DEPTH 64
#define LD_MAX_KEY   500

/* ---- nodes, marks, messages --------------------------------------------------------------- */

yaml_node_t *ld_node(struct ld *l, yaml_node_item_t id)
{
	return yaml_document_get_node(l->doc, id);
}

struct pol_mark ld_mark(const yaml_node_t *n)
{
	struct pol_mark m = { 0, 0 };

	if (n) {
		m.line = (unsigned)n->start_mark.line + 1;
		m.col = (unsigned)n->start_mark.column + 1;
	}
	return m;
}

void ld_err(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pol_report_add(l->r, false, ld_mark(n), l->path.p, "%s", msg);
}

size_t ld_push_key(struct ld *l, const char *key)
{
	size_t len = l->path.len;

	if (len)
		buf_addch(&l->path, '.');
	buf_adds(&l->path, key);
	return len;
}

size_t ld_push_index(struct ld *l, size_t i)
{
	size_t len = l->path.len;

	buf_addf(&l->path, "[%zu]", i);
	return len;
}

void ld_pop(struct ld *l, size_t len)
{
	buf_setlen(&l->path, len);
}

/* ---- scalars ------------------------------------------------------------------------------ */

/* Text shown in messages: at most 60 bytes, control bytes as '?'. */
static void shown(char *dst, size_t cap, const yaml_node_t *n)
{
	size_t i, len = n->data.scalar.length;

	for (i = 0; i < len && i < cap - 4; i++) {
		unsigned char c = n->data.scalar.value[i];

		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (i < len) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

static const char *type_name(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	return ld_is_null(n) ? "null" : "a scalar";
}

/* YAML 1.2 core schema null: only plain scalars, an explicit tag was refused earlier. */
bool ld_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i, len;

	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return n == NULL;
	len = n->data.scalar.length;
	for (i = 0; i < ARRAY_SIZE(nulls); i++)
		if (len == strlen(nulls[i]) && memcmp(n->data.scalar.value, nulls[i], len) == 0)
			return true;
	return false;
}

/*
 * Text that cannot come back through the canonical JSON form (pol_to_json() writes these raw,
 * and libyaml refuses them or reads them as line breaks): NUL, DEL, C1 controls, U+2028,
 * U+2029, U+FFFE, U+FFFF. No policy needs them.
 */
static const char *bad_text(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == 0)
			return "a NUL byte";
		if (s[i] == 0x7f ||
		    (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] < 0xa0))
			return "a control character";
		if (i + 2 < n && s[i] == 0xe2 && s[i + 1] == 0x80 &&
		    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
			return "a Unicode line separator";
		if (i + 2 < n && s[i] == 0xef && s[i + 1] == 0xbf && s[i + 2] >= 0xbe)
			return "a Unicode non-character";
	}
	return NULL;
}

const char *ld_string(struct ld *l, yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value, *bad;
	size_t len;

	if (n->type != YAML_SCALAR_NODE || ld_is_null(n)) {
		ld_err(l, n, "expected a string, got %s", type_name(n));
		return NULL;
	}
	len = n->data.scalar.length;
	bad = bad_text((const unsigned char *)s, len);
	if (bad) {
		ld_err(l, n, "string contains %s", bad);
		return NULL;
	}
	return arena_strndup(l->a, s, len);
}

static bool is_plain(struct ld *l, yaml_node_t *n, const char *what)
{
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    !ld_is_null(n))
		return true;
	if (n->type == YAML_SCALAR_NODE && !ld_is_null(n)) {
		char v[64];

		shown(v, sizeof(v), n);
		ld_err(l, n, "expected %s, got the string '%s'", what, v);
	} else {
		ld_err(l, n, "expected %s, got %s", what, type_name(n));
	}
	return false;
}

static int ld_bool(struct ld *l, yaml_node_t *n, bool *out)
{
	static const char *const t[] = { "true", "True", "TRUE" };
	static const char *const f[] = { "false", "False", "FALSE" };
	const char *s = (const char *)n->data.scalar.value;
	char v[64];
	size_t i;

	if (!is_plain(l, n, "a boolean (true or false)"))
		return -1;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (strlen(t[i]) == n->data.scalar.length && memcmp(s, t[i], strlen(t[i])) == 0) {
			*out = true;
			return 0;
		}
		if (strlen(f[i]) == n->data.scalar.length && memcmp(s, f[i], strlen(f[i])) == 0) {
			*out = false;
			return 0;
		}
	}
	shown(v, sizeof(v), n);
	ld_err(l, n, "expected a boolean (true or false), got '%s'", v);
	return -1;
}

/* A YAML 1.2 core integer: [-+]?[0-9]+, 0x[0-9a-fA-F]+ or 0o[0-7]+. */
static int parse_int(const char *s, size_t len, int64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	bool neg = false;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		base = s[1] == 'x' ? 16 : 8;
		i = 2;
	} else if (len && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		return -1;
	for (; i < len; i++) {
		int d = hex_digit((unsigned char)s[i]);

		if (d < 0 || (unsigned)d >= base)
			return -1;
		if (v > (UINT64_C(1) << 40))
			return -2;
		v = v * base + (unsigned)d;
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int ld_int(struct ld *l, yaml_node_t *n, int64_t min, int64_t max, int64_t *out)
{
	char v[64];
	int rc;

	if (!is_plain(l, n, "an integer"))
		return -1;
	shown(v, sizeof(v), n);
	rc = parse_int((const char *)n->data.scalar.value, n->data.scalar.length, out);
	if (rc == -1) {
		ld_err(l, n, "expected an integer, got '%s'", v);
		return -1;
	}
	if (rc == -2 || *out < min || *out > max) {
		ld_err(l, n, "invalid value %s: expected an integer in %lld..=%lld", v,
		       (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

/* ---- containers --------------------------------------------------------------------------- */

long ld_seq_len(struct ld *l, yaml_node_t *n)
{
	if (ld_is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		ld_err(l, n, "expected a sequence, got %s", type_name(n));
		return -1;
	}
	return n->data.sequence.items.top - n->data.sequence.items.start;
}

bool ld_is_map(struct ld *l, yaml_node_t *n)
{
	if (ld_is_null(n) || n->type == YAML_MAPPING_NODE)
		return true;
	ld_err(l, n, "expected a mapping, got %s", type_name(n));
	return false;
}

static size_t map_len(const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return 0;
	return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

struct key_ref {
	yaml_node_t *n;
	size_t i;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	size_t lx = x->n->data.scalar.length, ly = y->n->data.scalar.length;
	int c = memcmp(x->n->data.scalar.value, y->n->data.scalar.value, lx < ly ? lx : ly);

	if (c)
		return c;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Sorting makes a 1 MiB mapping of distinct keys cost n log n, not n^2. */
size_t ld_check_keys(struct ld *l, yaml_node_t *n)
{
	size_t i, k = 0, len = map_len(n);
	struct key_ref *keys;

	if (!len)
		return 0;
	keys = xcalloc(len, sizeof(*keys));
	for (i = 0; i < len; i++) {
		yaml_node_t *key = ld_node(l, n->data.mapping.pairs.start[i].key);

		if (key->type != YAML_SCALAR_NODE || ld_is_null(key)) {
			ld_err(l, key, "mapping keys must be strings, got %s", type_name(key));
			continue;
		}
		keys[k].n = key;
		keys[k++].i = i;
	}
	qsort(keys, k, sizeof(*keys), key_cmp);
	for (i = 1; i < k; i++) {
		char v[64];

		if (keys[i].n->data.scalar.length != keys[i - 1].n->data.scalar.length ||
		    memcmp(keys[i].n->data.scalar.value, keys[i - 1].n->data.scalar.value,
			   keys[i].n->data.scalar.length) != 0)
			continue;
		shown(v, sizeof(v), keys[i].n);
		ld_err(l, keys[i].n, "duplicate key '%s'", v);
	}
	free(keys);
	return len;
}

/* Keys are kept short enough that libyaml reads them back from the one-line JSON form (it
 * refuses implicit keys over 1024 characters; escaping may double the length). */
const char *ld_key(struct ld *l, yaml_node_pair_t *pr)
{
	yaml_node_t *key = ld_node(l, pr->key);
	const char *s = (const char *)key->data.scalar.value, *bad;
	size_t len = key->data.scalar.length;

	if (key->type != YAML_SCALAR_NODE || ld_is_null(key))
		return NULL;
	bad = bad_text((const unsigned char *)s, len);
	if (bad) {
		ld_err(l, key, "key contains %s", bad);
		return NULL;
	}
	if (len > LD_MAX_KEY) {
		ld_err(l, key, "key is longer than %d bytes", LD_MAX_KEY);
		return NULL;
	}
	return arena_strndup(l->a, s, len);
}

void ld_strings(struct ld *l, yaml_node_t *n, const char ***out, size_t *count)
{
	long len = ld_seq_len(l, n), i;
	const char **v;
	size_t k = 0;

	if (len <= 0)
		return;
	v = arena_array(l->a, (size_t)len, sizeof(*v));
	for (i = 0; i < len; i++) {
		size_t saved = ld_push_index(l, (size_t)i);
		const char *s = ld_string(l, ld_node(l, n->data.sequence.items.start[i]));

		if (s)
			v[k++] = s;
		ld_pop(l, saved);
	}
	*out = v;
	*count = k;
}

/* ---- fixed-key mappings ------------------------------------------------------------------- */

static void unknown_key(struct ld *l, yaml_node_t *key, const char *name, const struct ld_field *f,
			size_t nf)
{
	const char *best = NULL;
	int best_d = 3;
	size_t i;
	char v[64];

	for (i = 0; i < nf; i++) {
		int d = edit_distance(name, f[i].key);

		if (d < best_d) {
			best_d = d;
			best = f[i].key;
		}
	}
	shown(v, sizeof(v), key);
	if (best)
		ld_err(l, key, "unknown key '%s' (did you mean '%s'?)", v, best);
	else
		ld_err(l, key, "unknown key '%s'", v);
}

static void read_field(struct ld *l, const struct ld_field *f, yaml_node_t *v, void *obj)
{
	char *base = obj;
	const char *s;
	int64_t i;

	switch (f->kind) {
	case LD_STR:
		if (ld_is_null(v))
			break;
		s = ld_string(l, v);
		if (s)
			*(const char **)(void *)(base + f->off) = s;
		break;
	case LD_BOOL:
		ld_bool(l, v, (bool *)(void *)(base + f->off));
		break;
	case LD_SKIP: {
		bool ignored;

		ld_bool(l, v, &ignored);
		break;
	}
	case LD_U16:
		if (ld_int(l, v, 0, UINT16_MAX, &i) == 0)
			*(uint16_t *)(void *)(base + f->off) = (uint16_t)i;
		break;
	case LD_U32:
		if (ld_int(l, v, 0, UINT32_MAX, &i) == 0)
			*(uint32_t *)(void *)(base + f->off) = (uint32_t)i;
		break;
	case LD_I32:
		if (ld_int(l, v, INT32_MIN, INT32_MAX, &i) == 0)
			*(int32_t *)(void *)(base + f->off) = (int32_t)i;
		break;
	case LD_STRS:
		ld_strings(l, v, (const char ***)(void *)(base + f->off),
			   (size_t *)(void *)(base + f->off_n));
		break;
	case LD_FN:
		f->fn(l, v, obj);
		break;
	}
}

static int find_field(const struct ld_field *f, size_t nf, const yaml_node_t *key)
{
	size_t i, len = key->data.scalar.length;

	for (i = 0; i < nf; i++)
		if (strlen(f[i].key) == len && memcmp(f[i].key, key->data.scalar.value, len) == 0)
			return (int)i;
	return -1;
}

void ld_map(struct ld *l, yaml_node_t *n, const struct ld_field *f, size_t nf, void *obj)
{
	uint64_t seen = 0;
	size_t i, len;

	if (!ld_is_map(l, n))
		return;
	len = map_len(n);
	for (i = 0; i < len; i++) {
		yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
		yaml_node_t *key = ld_node(l, pr->key);
		const char *name = ld_key(l, pr);
		size_t saved;
		int k;

		if (!name) {
			if (key->type != YAML_SCALAR_NODE || ld_is_null(key))
				ld_err(l, key, "mapping keys must be strings, got %s",
				       type_name(key));
			continue;
		}
		saved = ld_push_key(l, name);
		k = find_field(f, nf, key);
		if (k < 0)
			unknown_key(l, key, name, f, nf);
		else if (seen & (UINT64_C(1) << k))
			ld_err(l, key, "duplicate key '%s'", name);
		else
			read_field(l, &f[k], ld_node(l, pr->value), obj);
		if (k >= 0)
			seen |= UINT64_C(1) << k;
		ld_pop(l, saved);
	}
	for (i = 0; i < nf; i++)
		if (f[i].required && !(seen & (UINT64_C(1) << i)))
			ld_err(l, n, "missing required key '%s'", f[i].key);
}

/* ---- the top level ------------------------------------------------------------------------ */

static void ld_filesystem(struct ld *l, yaml_node_t *v, void *obj)
{
	static const struct ld_field f[] = {
		LD_FIELD("include_workdir", LD_BOOL, struct pol_policy, include_workdir),
		LD_LIST("read_only", struct pol_policy, read_only, n_read_only),
		LD_LIST("read_write", struct pol_policy, read_write, n_read_write),
	};
	struct pol_policy *p = obj;

	if (ld_is_null(v))
		return;
	p->has_filesystem = true;
	p->include_workdir = false;
	ld_map(l, v, f, ARRAY_SIZE(f), p);
}

static void ld_landlock(struct ld *l, yaml_node_t *v, void *obj)
{
	static const struct ld_field f[] = {
		LD_FIELD("compatibility", LD_STR, struct pol_policy, landlock_compatibility),
	};
	struct pol_policy *p = obj;

	if (ld_is_null(v))
		return;
	p->has_landlock = true;
	ld_map(l, v, f, ARRAY_SIZE(f), p);
	p->landlock_hard = strcmp(p->landlock_compatibility, "hard_requirement") == 0;
}

static void ld_process(struct ld *l, yaml_node_t *v, void *obj)
{
	static const struct ld_field f[] = {
		LD_FIELD("run_as_user", LD_STR, struct pol_policy, run_as_user),
		LD_FIELD("run_as_group", LD_STR, struct pol_policy, run_as_group),
	};
	struct pol_policy *p = obj;

	if (ld_is_null(v))
		return;
	p->has_process = true;
	ld_map(l, v, f, ARRAY_SIZE(f), p);
}

static const struct ld_field top_fields[] = {
	LD_REQ("version", LD_U32, struct pol_policy, version),
	LD_CALL("filesystem_policy", ld_filesystem),
	LD_CALL("landlock", ld_landlock),
	LD_CALL("process", ld_process),
	LD_CALL("network_policies", ld_network_policies),
	LD_CALL("network_middlewares", ld_network_middlewares),
};

/* ---- the stream: one document of plain data ------------------------------------------------ */

static void syntax_error(struct ld *l, const yaml_parser_t *ps)
{
	struct pol_mark m = { (unsigned)ps->problem_mark.line + 1,
			      (unsigned)ps->problem_mark.column + 1 };

	if (ps->error == YAML_MEMORY_ERROR)
		m.line = m.col = 0;
	if (ps->context)
		pol_report_add(l->r, false, m, "", "invalid YAML: %s %s",
			       ps->problem ? ps->problem : "error", ps->context);
	else
		pol_report_add(l->r, false, m, "", "invalid YAML: %s",
			       ps->problem ? ps->problem : "cannot parse");
}

static void event_err(struct ld *l, const yaml_event_t *ev, const char *msg)
{
	struct pol_mark m = { (unsigned)ev->start_mark.line + 1,
			      (unsigned)ev->start_mark.column + 1 };

	pol_report_add(l->r, false, m, "", "%s", msg);
}

/* Anchors, aliases and tags are refused: a policy is plain data, and aliases let a small file
 * expand into a huge (or, with libyaml's loader, cyclic) tree. */
static int check_event(struct ld *l, const yaml_event_t *ev, unsigned *depth, unsigned *docs)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	bool implicit = true;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs == 2)
			event_err(l, ev, "a policy must be a single YAML document");
		return *docs >= 2 ? -1 : 0;
	case YAML_ALIAS_EVENT:
		event_err(l, ev, "YAML aliases are not allowed in a policy");
		return 0;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		implicit = ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit;
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++*depth > LD_MAX_DEPTH) {
			event_err(l, ev, "the document is nested deeper than 64 levels");
			return -1;
		}
		anchor = ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.anchor
							      : ev->data.sequence_start.anchor;
		tag = ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.tag
							   : ev->data.sequence_start.tag;
		implicit = ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.implicit
								: ev->data.sequence_start.implicit;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		--*depth;
		return 0;
	default:
		return 0;
	}
	if (anchor)
		event_err(l, ev, "YAML anchors are not allowed in a policy");
	if (tag && !implicit)
		event_err(l, ev, "YAML tags are not allowed in a policy");
	return 0;
}

/* A first pass over the events; the document is loaded only when it is plain data. */
static int scan_events(struct ld *l, const char *text, size_t len)
{
	unsigned depth = 0, docs = 0;
	size_t before = l->r->n_errors;
	yaml_parser_t ps;
	yaml_event_t ev;
	int ret = -1;

	if (!yaml_parser_initialize(&ps))
		xdie_oom();
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	for (;;) {
		if (!yaml_parser_parse(&ps, &ev)) {
			syntax_error(l, &ps);
			goto out;
		}
		if (check_event(l, &ev, &depth, &docs) < 0 || ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	ret = l->r->n_errors == before ? 0 : -1;
out:
	yaml_parser_delete(&ps);
	return ret;
}

static void init_policy(struct pol_policy *p, const char *source)
{
	memset(p, 0, sizeof(*p));
	p->source = arena_strdup(&p->arena, source ? source : "<policy>");
	p->include_workdir = true;
	p->landlock_compatibility = "";
	p->run_as_user = "";
	p->run_as_group = "";
}

static void load_doc(struct ld *l, const char *text, size_t len)
{
	yaml_document_t doc;
	yaml_parser_t ps;
	yaml_node_t *root;

	if (!yaml_parser_initialize(&ps))
		xdie_oom();
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	if (!yaml_parser_load(&ps, &doc)) {
		syntax_error(l, &ps);
		yaml_parser_delete(&ps);
		return;
	}
	l->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root || ld_is_null(root))
		pol_report_add(l->r, false, ld_mark(root), "", "missing required key 'version'");
	else if (root->type != YAML_MAPPING_NODE)
		ld_err(l, root, "a policy must be a mapping, got %s", type_name(root));
	else
		ld_map(l, root, top_fields, ARRAY_SIZE(top_fields), l->p);
	l->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&ps);
}

int pol_load(struct pol_policy *p, const char *source, const char *text, size_t len,
	     struct pol_report *r)
{
	struct ld l = { p, r, NULL, &p->arena, BUF_INIT };
	size_t before = r->n_errors;

	init_policy(p, source);
	if (len > POL_MAX_BYTES)
		pol_report_add(r, false, (struct pol_mark){ 0, 0 }, "",
			       "the policy is larger than %d bytes", POL_MAX_BYTES);
	else if (scan_events(&l, text, len) == 0)
		load_doc(&l, text, len);
	buf_release(&l.path);
	if (r->n_errors == before)
		pol_validate(p, r);
	if (r->n_errors == before)
		return 0;
	pol_release(p);
	return -1;
}

int pol_load_file(struct pol_policy *p, const char *file, struct pol_report *r, struct err *e)
{
	struct buf text = BUF_INIT;
	int ret = -1;

	memset(p, 0, sizeof(*p));
	if (read_file(file, POL_MAX_BYTES, &text, e) < 0) {
		if (e->code == ERR_LIMIT) {
			pol_report_add(r, false, (struct pol_mark){ 0, 0 }, "",
				       "the policy is larger than %d bytes", POL_MAX_BYTES);
			err_set(e, ERR_INVALID, 0, "policy file '%s' is larger than %d bytes", file,
				POL_MAX_BYTES);
			err_hint(e,
				 "a policy holds rules, not data; split it or remove unused rules");
		} else {
			err_hint(e, "check the policy file's path and permissions");
		}
		goto out;
	}
	if (pol_load(p, file, text.p, text.len, r) < 0) {
		err_set(e, ERR_INVALID, 0, "policy file '%s' is not valid", file);
		err_hint(e, "fix the problems listed above and try again");
		goto out;
	}
	ret = 0;
out:
	buf_release(&text);
	return ret;
}
