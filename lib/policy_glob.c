/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two glob dialects of the policy (reference/policy.md §4.4, §4.8.1).
 *
 * pol_glob_match() is regorus glob.match(): the delimiter rewrite, then globset 0.4.18
 * (literal_separator on) parsed exactly as its Parser does and compiled to the regex it
 * would build, which we run as a small Thompson NFA over bytes (globset's regex is
 * byte-oriented, (?-u)): work is O(pattern * value), never exponential.
 *
 * pol_route_match() is the endpoint `path` selector: a few shortcuts, then the Rust glob
 * crate's Pattern (0.3.3, default options: '*' crosses '/'), ported with its own matcher,
 * whose "entire pattern cannot match" pruning keeps it polynomial.
 */
#include "lib/policy.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#include <string.h>

/* alternation nesting; deeper fails closed, as regex's nest limit (250) makes globset do */
#define GLOB_MAX_DEPTH	 200
#define GLOB_MAX_REWRITE (1 << 20) /* rewritten pattern or value */

enum gtok { G_LIT, G_ANY, G_STAR, G_RPREFIX, G_RSUFFIX, G_RZOM, G_CLASS, G_ALT };

struct gseq;

struct gnode {
	unsigned char t, c;
	bool empty;		  /* G_ALT: renders to the empty regex (globset drops it) */
	const unsigned char *set; /* G_CLASS: 256-bit set, negation folded in */
	struct gseq **alts;	  /* G_ALT */
	size_t n_alts;
};

struct gseq {
	struct gnode *v;
	size_t n, cap;
};

struct gparser {
	struct arena *a;
	const unsigned char *s;
	size_t n, i;
	int prev, cur;	  /* -1 = none, as globset's Option<char> */
	struct gseq **br; /* globset's `branches` */
	size_t n_br, cap_br;
	size_t *alt; /* globset's `alternates_stack` */
	size_t n_alt, cap_alt;
};

/* ---- the delimiter rewrite of regorus ------------------------------------------------------ */

static void replace_byte(struct buf *s, unsigned char from, const char *to, size_t n_to)
{
	struct buf out = BUF_INIT;
	size_t i;

	for (i = 0; i < s->len; i++) {
		if ((unsigned char)s->p[i] == from)
			buf_add(&out, to, n_to);
		else
			buf_addch(&out, s->p[i]);
	}
	buf_release(s);
	*s = out;
}

/* '/' becomes an ordinary character (the NUL placeholder) unless it is a delimiter; ':'
 * does too; any other delimiter d becomes "/d/", in the order given. */
static int rewrite(const char *in, const char *delims, struct buf *out)
{
	const char *d;
	char wrapped[3];

	buf_reset(out);
	buf_adds(out, in);
	if (!strchr(delims, '/'))
		replace_byte(out, '/', "", 1);
	for (d = delims; *d; d++) {
		if (*d == ':') {
			replace_byte(out, ':', "", 1);
		} else if (*d != '/') {
			wrapped[0] = '/';
			wrapped[1] = *d;
			wrapped[2] = '/';
			replace_byte(out, (unsigned char)*d, wrapped, 3);
		}
		if (out->len > GLOB_MAX_REWRITE)
			return -1;
	}
	return 0;
}

/* ---- globset's parser ----------------------------------------------------------------------- */

/* Room for one more element at v[n] (an arena array of *cap elements). */
static void *grow1(struct arena *a, void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 8;
	return arena_grow(a, v, n, *cap, size);
}

/* The code point at s (n bytes left) and its length, or -1 when not UTF-8. */
static long utf8_get(const unsigned char *s, size_t n, size_t *len)
{
	long c;
	size_t k;

	*len = utf8_seq_len(s, n);
	if (!*len)
		return -1;
	c = *len == 1 ? s[0] : s[0] & (0x3f >> (*len - 1));
	for (k = 1; k < *len; k++)
		c = (c << 6) | (s[k] & 0x3f);
	return c;
}

static struct gseq *seq_new(struct arena *a)
{
	return arena_alloc(a, sizeof(struct gseq));
}

static struct gnode *seq_push(struct arena *a, struct gseq *q, unsigned char t)
{
	q->v = grow1(a, q->v, q->n, &q->cap, sizeof(*q->v));
	q->v[q->n].t = t;
	return &q->v[q->n++];
}

static struct gseq *cur_branch(struct gparser *p)
{
	return p->br[p->n_br - 1];
}

static struct gnode *push_tok(struct gparser *p, unsigned char t)
{
	return seq_push(p->a, cur_branch(p), t);
}

static void push_lit(struct gparser *p, unsigned char c)
{
	push_tok(p, G_LIT)->c = c;
}

static void push_branch(struct gparser *p)
{
	p->br = grow1(p->a, p->br, p->n_br, &p->cap_br, sizeof(*p->br));
	p->br[p->n_br++] = seq_new(p->a);
}

static int bump(struct gparser *p)
{
	p->prev = p->cur;
	p->cur = p->i < p->n ? p->s[p->i++] : -1;
	return p->cur;
}

static int peek(const struct gparser *p)
{
	return p->i < p->n ? p->s[p->i] : -1;
}

static bool seq_renders_empty(const struct gseq *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		if (q->v[i].t != G_ALT || !q->v[i].empty)
			return false;
	return true;
}

static int push_alternate(struct gparser *p)
{
	if (p->n_alt == GLOB_MAX_DEPTH)
		return -1;
	p->alt = grow1(p->a, p->alt, p->n_alt, &p->cap_alt, sizeof(*p->alt));
	p->alt[p->n_alt++] = p->n_br;
	push_branch(p);
	return 0;
}

static int pop_alternate(struct gparser *p)
{
	struct gnode *alt;
	size_t start, i;

	if (!p->n_alt)
		return -1; /* UnopenedAlternates */
	start = p->alt[--p->n_alt];
	alt = seq_push(p->a, p->br[start - 1], G_ALT);
	alt->n_alts = p->n_br - start;
	alt->alts = arena_array(p->a, alt->n_alts, sizeof(*alt->alts));
	alt->empty = true;
	for (i = 0; i < alt->n_alts; i++) {
		alt->alts[i] = p->br[start + i];
		if (!seq_renders_empty(alt->alts[i]))
			alt->empty = false;
	}
	p->n_br = start;
	return 0;
}

static void push_double_star(struct gparser *p)
{
	push_tok(p, G_STAR);
	push_tok(p, G_STAR);
}

/* globset's parse_star(), branch for branch, including its quirks (the token before a
 * recursive `**` is dropped whatever it was). */
static void parse_star(struct gparser *p)
{
	int prev = p->prev, nx;
	bool suffix;
	struct gseq *q;
	unsigned char last;

	if (peek(p) != '*') {
		push_tok(p, G_STAR);
		return;
	}
	bump(p);
	q = cur_branch(p);
	if (!q->n) {
		if (peek(p) != -1 && peek(p) != '/') {
			push_double_star(p);
		} else {
			push_tok(p, G_RPREFIX);
			bump(p);
		}
		return;
	}
	if (prev != '/' && (p->n_br <= 1 || (prev != ',' && prev != '{'))) {
		push_double_star(p);
		return;
	}
	nx = peek(p);
	if (nx == -1) {
		suffix = true;
	} else if ((nx == ',' || nx == '}') && p->n_br >= 2) {
		suffix = true;
	} else if (nx == '/') {
		bump(p);
		suffix = false;
	} else {
		push_double_star(p);
		return;
	}
	last = q->v[--q->n].t;
	if (last == G_RPREFIX || last == G_RSUFFIX)
		push_tok(p, last);
	else
		push_tok(p, suffix ? G_RSUFFIX : G_RZOM);
}

/* A class member: the character and its bytes in the (validated) pattern. */
struct gchar {
	long c;
	const unsigned char *b;
	size_t n;
};

static bool bump_char(struct gparser *p, struct gchar *ch)
{
	if (p->i >= p->n)
		return false;
	ch->b = p->s + p->i;
	ch->c = utf8_get(ch->b, p->n - p->i, &ch->n);
	p->i += ch->n;
	p->prev = p->cur;
	p->cur = p->s[p->i - 1];
	return true;
}

struct grange {
	struct gchar lo, hi;
};

static void set_bytes(unsigned char *set, const unsigned char *b, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		set[b[k] >> 3] |= (unsigned char)(1u << (b[k] & 7));
}

/* globset writes a class range a-b as [<bytes of a>-<bytes of b>] into a (?-u) regex, so
 * for non-ASCII characters the range is between the last byte of a and the first of b and
 * the other bytes are single members. An inverted byte range fails regex compilation
 * (globset panics): -1. */
static int class_add(unsigned char *set, const struct grange *r)
{
	unsigned lo, hi;

	if (r->lo.c == r->hi.c) {
		set_bytes(set, r->lo.b, r->lo.n);
		return 0;
	}
	set_bytes(set, r->lo.b, r->lo.n - 1);
	set_bytes(set, r->hi.b + 1, r->hi.n - 1);
	lo = r->lo.b[r->lo.n - 1];
	hi = r->hi.b[0];
	if (lo > hi)
		return -1;
	for (; lo <= hi; lo++)
		set[lo >> 3] |= (unsigned char)(1u << (lo & 7));
	return 0;
}

static void class_push(struct gparser *p, struct grange **v, size_t *n, size_t *cap,
		       const struct gchar *c)
{
	*v = grow1(p->a, *v, *n, cap, sizeof(**v));
	(*v)[*n].lo = (*v)[*n].hi = *c;
	(*n)++;
}

/* globset's parse_class(): ']' and '-' are literal first, '-' literal last, no escapes;
 * an unclosed class and an inverted range are errors. */
static int parse_class(struct gparser *p)
{
	static const struct gchar dash = { '-', (const unsigned char *)"-", 1 };
	struct grange *r = NULL;
	size_t n = 0, cap = 0, k;
	bool negated = false, first = true, in_range = false;
	unsigned char *set;
	struct gchar c;

	if (peek(p) == '!' || peek(p) == '^') {
		bump(p);
		negated = true;
	}
	for (;; first = false) {
		if (!bump_char(p, &c))
			return -1; /* UnclosedClass */
		if (c.c == ']' && !first)
			break;
		if (c.c == '-' && !first && !in_range) {
			in_range = true;
			continue;
		}
		if (in_range) {
			if (c.c < r[n - 1].lo.c)
				return -1; /* InvalidRange */
			r[n - 1].hi = c;
			in_range = false;
		} else {
			class_push(p, &r, &n, &cap, &c);
		}
	}
	if (in_range)
		class_push(p, &r, &n, &cap, &dash);
	set = arena_alloc(p->a, 32);
	for (k = 0; k < n; k++)
		if (class_add(set, &r[k]) < 0)
			return -1;
	for (k = 0; negated && k < 32; k++)
		set[k] = (unsigned char)~set[k];
	push_tok(p, G_CLASS)->set = set;
	return 0;
}

static int parse_glob(struct gparser *p)
{
	int c;

	push_branch(p);
	p->prev = p->cur = -1;
	while ((c = bump(p)) != -1) {
		if (c == '?') {
			push_tok(p, G_ANY);
		} else if (c == '*') {
			parse_star(p);
		} else if (c == '[') {
			if (parse_class(p) < 0)
				return -1;
		} else if (c == '{') {
			if (push_alternate(p) < 0)
				return -1;
		} else if (c == '}') {
			if (pop_alternate(p) < 0)
				return -1;
		} else if (c == ',' && p->n_alt) {
			push_branch(p);
		} else if (c == '\\') {
			if (bump(p) == -1)
				return -1; /* DanglingEscape */
			push_lit(p, (unsigned char)p->cur);
		} else {
			push_lit(p, (unsigned char)c);
		}
	}
	return p->n_br == 1 ? 0 : -1; /* UnclosedAlternates */
}

/* ---- the regex globset would build, as an NFA -------------------------------------------- */

enum { OP_BYTE, OP_NOTSLASH, OP_ANYBYTE, OP_SET, OP_SPLIT, OP_JMP, OP_MATCH };

struct ginst {
	unsigned char op, c;
	uint32_t x, y;
	const unsigned char *set;
};

struct gprog {
	struct arena *a;
	struct ginst *v;
	uint32_t n;
	size_t cap;
};

static uint32_t emit(struct gprog *g, unsigned char op, unsigned char c)
{
	g->v = grow1(g->a, g->v, g->n, &g->cap, sizeof(*g->v));
	g->v[g->n].op = op;
	g->v[g->n].c = c;
	return g->n++;
}

/* x* for a one-byte matcher x. */
static void emit_star(struct gprog *g, unsigned char op)
{
	uint32_t split = emit(g, OP_SPLIT, 0), jmp;

	emit(g, op, 0);
	g->v[split].x = split + 1;
	jmp = emit(g, OP_JMP, 0);
	g->v[jmp].x = split;
	g->v[split].y = g->n;
}

static void compile_seq(struct gprog *g, const struct gseq *q);

/* (?:/?|.*\/) */
static void emit_rprefix(struct gprog *g)
{
	uint32_t split = emit(g, OP_SPLIT, 0), opt, jmp;

	g->v[split].x = g->n;
	opt = emit(g, OP_SPLIT, 0);
	emit(g, OP_BYTE, '/');
	g->v[opt].x = opt + 1;
	g->v[opt].y = g->n;
	jmp = emit(g, OP_JMP, 0);
	g->v[split].y = g->n;
	emit_star(g, OP_ANYBYTE);
	emit(g, OP_BYTE, '/');
	g->v[jmp].x = g->n;
}

/* (?:/|/.*\/) = / (?:.*\/)? */
static void emit_rzom(struct gprog *g)
{
	uint32_t split;

	emit(g, OP_BYTE, '/');
	split = emit(g, OP_SPLIT, 0);
	g->v[split].x = g->n;
	emit_star(g, OP_ANYBYTE);
	emit(g, OP_BYTE, '/');
	g->v[split].y = g->n;
}

static void emit_alt(struct gprog *g, const struct gnode *t)
{
	uint32_t *jmps = arena_array(g->a, t->n_alts, sizeof(*jmps)), split;
	size_t i, nj = 0, last = t->n_alts;

	if (t->empty)
		return;
	while (seq_renders_empty(t->alts[last - 1]))
		last--;
	for (i = 0; i < last; i++) {
		if (seq_renders_empty(t->alts[i]))
			continue;
		if (i + 1 == last) {
			compile_seq(g, t->alts[i]);
			break;
		}
		split = emit(g, OP_SPLIT, 0);
		g->v[split].x = g->n;
		compile_seq(g, t->alts[i]);
		jmps[nj++] = emit(g, OP_JMP, 0);
		g->v[split].y = g->n;
	}
	while (nj)
		g->v[jmps[--nj]].x = g->n;
}

static void compile_node(struct gprog *g, const struct gnode *t)
{
	uint32_t i;

	switch (t->t) {
	case G_LIT:
		emit(g, OP_BYTE, t->c);
		break;
	case G_ANY:
		emit(g, OP_NOTSLASH, 0);
		break;
	case G_STAR:
		emit_star(g, OP_NOTSLASH);
		break;
	case G_RPREFIX:
		emit_rprefix(g);
		break;
	case G_RSUFFIX:
		emit(g, OP_BYTE, '/');
		emit_star(g, OP_ANYBYTE);
		break;
	case G_RZOM:
		emit_rzom(g);
		break;
	case G_CLASS:
		i = emit(g, OP_SET, 0);
		g->v[i].set = t->set;
		break;
	default:
		emit_alt(g, t);
		break;
	}
}

static void compile_seq(struct gprog *g, const struct gseq *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		compile_node(g, &q->v[i]);
}

struct gsim {
	uint32_t *mark, *stack, *cl, *nl;
	uint32_t ncl, nnl, gen;
};

static void add_thread(const struct gprog *g, struct gsim *s, uint32_t pc)
{
	uint32_t sp = 0;

	s->stack[sp++] = pc;
	while (sp) {
		pc = s->stack[--sp];
		if (s->mark[pc] == s->gen)
			continue;
		s->mark[pc] = s->gen;
		if (g->v[pc].op == OP_JMP) {
			s->stack[sp++] = g->v[pc].x;
		} else if (g->v[pc].op == OP_SPLIT) {
			s->stack[sp++] = g->v[pc].y;
			s->stack[sp++] = g->v[pc].x;
		} else {
			s->nl[s->nnl++] = pc;
		}
	}
}

static bool inst_takes(const struct ginst *in, unsigned char b)
{
	switch (in->op) {
	case OP_BYTE:
		return b == in->c;
	case OP_NOTSLASH:
		return b != '/';
	case OP_ANYBYTE:
		return true;
	case OP_SET:
		return in->set[b >> 3] & (1u << (b & 7));
	default:
		return false;
	}
}

static void sim_swap(struct gsim *s)
{
	uint32_t *t = s->cl;

	s->cl = s->nl;
	s->nl = t;
	s->ncl = s->nnl;
	s->nnl = 0;
	s->gen++;
}

static bool prog_run(const struct gprog *g, const unsigned char *v, size_t n)
{
	struct gsim s = { 0 };
	bool match = false;
	size_t i;
	uint32_t k;

	s.mark = xcalloc(g->n, sizeof(uint32_t));
	s.stack = xcalloc(2 * (size_t)g->n + 2, sizeof(uint32_t));
	s.cl = xcalloc(g->n, sizeof(uint32_t));
	s.nl = xcalloc(g->n, sizeof(uint32_t));
	s.gen = 1;
	add_thread(g, &s, 0);
	sim_swap(&s);
	for (i = 0; i < n && s.ncl; i++) {
		for (k = 0; k < s.ncl; k++)
			if (inst_takes(&g->v[s.cl[k]], v[i]))
				add_thread(g, &s, s.cl[k] + 1);
		sim_swap(&s);
	}
	for (k = 0; i == n && k < s.ncl; k++)
		if (g->v[s.cl[k]].op == OP_MATCH)
			match = true;
	free(s.mark);
	free(s.stack);
	free(s.cl);
	free(s.nl);
	return match;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i, len;

	for (i = 0; i < n; i += len)
		if (utf8_get(s + i, n - i, &len) < 0)
			return false;
	return true;
}

int pol_glob_match(const char *pattern, const char *delims, const char *value)
{
	struct buf pat = BUF_INIT, val = BUF_INIT;
	struct arena a = ARENA_INIT;
	struct gparser p = { 0 };
	struct gprog g = { 0 };
	_Alignas(16) char mem[4096]; /* the proxy matches per connection: no 8 KiB block */
	const char *d;
	int ret = -1;

	arena_use(&a, mem, sizeof(mem));
	if (!pattern || !value || !delims)
		goto out;
	for (d = delims; *d; d++)
		if ((unsigned char)*d >= 0x80)
			goto out; /* regorus: "delimiters must be single character" */
	if (!*delims)
		delims = ".";
	if (rewrite(pattern, delims, &pat) < 0 || rewrite(value, delims, &val) < 0 ||
	    !utf8_valid((const unsigned char *)pat.p, pat.len))
		goto out;
	p.a = g.a = &a;
	p.s = (const unsigned char *)pat.p;
	p.n = pat.len;
	if (parse_glob(&p) < 0)
		goto out;
	if (p.br[0]->n == 1 && p.br[0]->v[0].t == G_RPREFIX) {
		ret = 1; /* globset: a pattern of just `**` is ^.*$ */
		goto out;
	}
	compile_seq(&g, p.br[0]);
	emit(&g, OP_MATCH, 0);
	ret = prog_run(&g, (const unsigned char *)val.p, val.len);
out:
	arena_release(&a);
	buf_release(&pat);
	buf_release(&val);
	return ret;
}

/* ---- the route selector: Rust's glob crate ---------------------------------------------- */

enum rtok { R_CHAR, R_ANYCHAR, R_SEQ, R_RSEQ, R_WITHIN, R_EXCEPT };

struct rtoken {
	unsigned char t;
	uint32_t c;	     /* R_CHAR */
	size_t spec, n_spec; /* R_WITHIN/R_EXCEPT: chars of the pattern */
};

struct rglob {
	const uint32_t *pc; /* the pattern's characters */
	struct rtoken *tok;
	size_t n;
};

enum { R_MATCH, R_SUB_NO, R_ALL_NO };

/* Decodes UTF-8 into code points; -1 when invalid (Rust strings cannot be). */
static long decode(const char *s, uint32_t **out)
{
	size_t n = strlen(s), i, len, k = 0;
	long c;

	*out = xcalloc(n + 1, sizeof(uint32_t));
	for (i = 0; i < n; i += len) {
		c = utf8_get((const unsigned char *)s + i, n - i, &len);
		if (c < 0)
			return -1;
		(*out)[k++] = (uint32_t)c;
	}
	return (long)k;
}

static struct rtoken *rpush(struct rglob *g, unsigned char t)
{
	struct rtoken *r = &g->tok[g->n++];

	r->t = t;
	return r;
}

/* The run of stars at *i: '*', or '**' as a whole path component. */
static int rparse_stars(struct rglob *g, const uint32_t *c, size_t n, size_t *i)
{
	size_t old = *i, count;

	while (*i < n && c[*i] == '*')
		(*i)++;
	count = *i - old;
	if (count > 2)
		return -1;
	if (count == 1) {
		rpush(g, R_SEQ);
		return 0;
	}
	if (old != 0 && c[old - 1] != '/')
		return -1;
	if (*i < n && c[*i] == '/')
		(*i)++;
	else if (*i != n)
		return -1;
	if (!(g->n > 1 && g->tok[g->n - 1].t == R_RSEQ))
		rpush(g, R_RSEQ);
	return 0;
}

static int rparse_class(struct rglob *g, const uint32_t *c, size_t n, size_t *i)
{
	size_t at = *i, j;
	struct rtoken *t;

	if (at + 4 <= n && c[at + 1] == '!') {
		for (j = at + 3; j < n && c[j] != ']'; j++)
			;
		if (j == n)
			return -1;
		t = rpush(g, R_EXCEPT);
		t->spec = at + 2;
		t->n_spec = j - (at + 2);
	} else if (at + 3 <= n && c[at + 1] != '!') {
		for (j = at + 2; j < n && c[j] != ']'; j++)
			;
		if (j == n)
			return -1;
		t = rpush(g, R_WITHIN);
		t->spec = at + 1;
		t->n_spec = j - (at + 1);
	} else {
		return -1;
	}
	*i = j + 1;
	return 0;
}

static int rparse(struct rglob *g, const uint32_t *c, size_t n)
{
	size_t i = 0;

	g->pc = c;
	g->tok = xcalloc(n + 1, sizeof(*g->tok));
	while (i < n) {
		if (c[i] == '?') {
			rpush(g, R_ANYCHAR);
			i++;
		} else if (c[i] == '*') {
			if (rparse_stars(g, c, n, &i) < 0)
				return -1;
		} else if (c[i] == '[') {
			if (rparse_class(g, c, n, &i) < 0)
				return -1;
		} else {
			rpush(g, R_CHAR)->c = c[i++];
		}
	}
	return 0;
}

static bool in_specifiers(const uint32_t *s, size_t n, uint32_t c)
{
	size_t i = 0;

	while (i < n) {
		if (i + 3 <= n && s[i + 1] == '-') {
			if (c >= s[i] && c <= s[i + 2])
				return true;
			i += 3;
		} else {
			if (c == s[i])
				return true;
			i++;
		}
	}
	return false;
}

static bool rtoken_takes(const struct rglob *g, const struct rtoken *t, uint32_t c)
{
	switch (t->t) {
	case R_ANYCHAR:
		return true;
	case R_WITHIN:
		return in_specifiers(g->pc + t->spec, t->n_spec, c);
	case R_EXCEPT:
		return !in_specifiers(g->pc + t->spec, t->n_spec, c);
	default:
		return c == t->c;
	}
}

/* glob::Pattern::matches_from() with default options. */
static int rmatch_from(const struct rglob *g, bool follows_sep, const uint32_t *f, size_t nf,
		       size_t ti)
{
	int m;

	for (; ti < g->n; ti++) {
		const struct rtoken *t = &g->tok[ti];

		if (t->t == R_SEQ || t->t == R_RSEQ) {
			m = rmatch_from(g, follows_sep, f, nf, ti + 1);
			if (m != R_SUB_NO)
				return m;
			while (nf) {
				follows_sep = *f == '/';
				f++;
				nf--;
				if (t->t == R_RSEQ && !follows_sep)
					continue;
				m = rmatch_from(g, follows_sep, f, nf, ti + 1);
				if (m != R_SUB_NO)
					return m;
			}
			continue;
		}
		if (!nf)
			return R_ALL_NO;
		if (!rtoken_takes(g, t, *f))
			return R_SUB_NO;
		follows_sep = *f == '/';
		f++;
		nf--;
	}
	return nf ? R_SUB_NO : R_MATCH;
}

static bool route_glob(const char *pattern, const char *path)
{
	uint32_t *pc = NULL, *fc = NULL;
	struct rglob g = { 0 };
	long np, nf;
	bool ok = false;

	np = decode(pattern, &pc);
	nf = decode(path, &fc);
	if (np < 0 || nf < 0 || rparse(&g, pc, (size_t)np) < 0)
		goto out; /* an invalid pattern matches only its literal text */
	ok = rmatch_from(&g, true, fc, (size_t)nf, 0) == R_MATCH;
out:
	free(g.tok);
	free(pc);
	free(fc);
	return ok;
}

bool pol_route_match(const char *pattern, const char *path)
{
	size_t n;

	if (!pattern || !path)
		return false;
	if (!strcmp(pattern, path))
		return true;
	if (!*pattern || !strcmp(pattern, "**") || !strcmp(pattern, "/**"))
		return true;
	n = strlen(pattern);
	if (n >= 3 && !strcmp(pattern + n - 3, "/**")) {
		n -= 3;
		return !strncmp(path, pattern, n) && (path[n] == '\0' || path[n] == '/');
	}
	return route_glob(pattern, path);
}
