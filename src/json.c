/*
 * json.c - a strict recursive-descent JSON parser into an arena DOM, and the JSONL writer.
 *
 * Layout: every node is 16 bytes. A container's children are parsed onto a temporary value
 * stack and, when the container closes, copied into one contiguous arena block: an array holds
 * len nodes, an object 2*len nodes (key, value, key, value, ...) followed, for objects of at
 * least HASH_MIN members, by an open-addressing index of uint32 member numbers (+1, 0 = empty)
 * whose size is the power of two >= 2*len. A repeated key in one object is an error (RFC 8259
 * leaves it undefined; silently taking one of the values hides a broken file). Decoded strings go to the arena too (decoding never grows a
 * string, so the raw length bounds the space). Recursion depth is bounded by JSON_MAX_DEPTH.
 * A number whose decimal value is exactly an integer in int64 range (12, 1e3, 2.50e1) is kept
 * exactly; others go through strtod (the program runs in the "C" locale: no setlocale, so '.'
 * is the decimal point).
 */
#include "attnrl/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/fsutil.h"
#include "attnrl/unicode.h"

#define HASH_MIN 8
#define CHUNK_MIN 4096
#define CHUNK_MAX (16u << 20)

struct json {
	uint8_t type;   /* enum json_type */
	uint8_t is_int; /* numbers: 1 exact in u.i, 2 the integer zero as -0; bools: the value */
	uint32_t len;   /* string bytes, array elements or object members */
	union {
		double num;
		int64_t i;
		const char *str;
		struct json *items;
	} u;
};

struct chunk {
	struct chunk *next;
	size_t cap, used; /* the data follows, 8-aligned */
};

struct doc {
	struct json root; /* first: json_free casts the root back to its doc */
	struct chunk *chunks;
	size_t next_cap;
};

struct parser {
	const unsigned char *start, *s, *end;
	struct doc *doc;
	struct json *stack; /* children of the open containers */
	const unsigned char **at; /* where each key on the stack starts (other slots unused) */
	size_t top, cap;
	const unsigned char *err_at;
	char what[96];
};

/* ---- arena, value stack, errors ------------------------------------------------------- */

static struct chunk *chunk_new(size_t cap)
{
	struct chunk *c = malloc(sizeof(*c) + cap);
	if (c) {
		c->cap = cap;
		c->used = 0;
	}
	return c;
}

/* 8-aligned n bytes; big requests get a chunk of their own behind the current one */
static void *arena_alloc(struct doc *d, size_t n)
{
	struct chunk *c = d->chunks;
	n = (n + 7) & ~(size_t)7;
	if (c && c->cap - c->used >= n) {
		c->used += n;
		return (char *)(c + 1) + c->used - n;
	}
	int own = n > d->next_cap / 2 && c;
	struct chunk *nc = chunk_new(own || n > d->next_cap ? n : d->next_cap);
	if (!nc)
		return NULL;
	if (own) {
		nc->next = c->next;
		c->next = nc;
	} else {
		nc->next = c;
		d->chunks = nc;
		if (d->next_cap < CHUNK_MAX)
			d->next_cap *= 2;
	}
	nc->used = n;
	return nc + 1;
}

static void doc_free(struct doc *d)
{
	if (!d)
		return;
	for (struct chunk *c = d->chunks, *nx; c; c = nx) {
		nx = c->next;
		free(c);
	}
	free(d);
}

static int fail(struct parser *p, const unsigned char *at, const char *fmt, ...)
{
	va_list ap;
	if (p->err_at)
		return -1;
	p->err_at = at;
	va_start(ap, fmt);
	vsnprintf(p->what, sizeof(p->what), fmt, ap);
	va_end(ap);
	return -1;
}

static int push(struct parser *p, const struct json *v)
{
	if (p->top == p->cap) {
		/* untouched capacity costs only address space: start near the size of a flat document */
		size_t guess = (size_t)(p->end - p->start) / 16, cap = p->cap ? 2 * p->cap : guess;
		cap = cap < 256 ? 256 : cap;
		struct json *s = realloc(p->stack, cap * sizeof(*s));
		if (s)
			p->stack = s;
		const unsigned char **at = s ? realloc(p->at, cap * sizeof(*at)) : NULL;
		if (!at)
			return fail(p, p->s, "out of memory");
		p->at = at;
		p->cap = cap;
	}
	p->stack[p->top++] = *v;
	return 0;
}

static void skip_ws(struct parser *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\n' || *p->s == '\r' || *p->s == '\t'))
		p->s++;
}

/* ---- UTF-8 -------------------------------------------------------------------------------- */

static int cont(unsigned c)
{
	return (c & 0xc0) == 0x80;
}

/* length of the valid UTF-8 sequence at s (1-4); 0 when invalid, overlong or truncated */
static int utf8_seq(const unsigned char *s, const unsigned char *end)
{
	unsigned c = s[0], lo, hi;
	size_t left = (size_t)(end - s);
	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0)
		return left >= 2 && cont(s[1]) ? 2 : 0;
	if (c < 0xf0) {
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
		return left >= 3 && s[1] >= lo && s[1] <= hi && cont(s[2]) ? 3 : 0;
	}
	lo = c == 0xf0 ? 0x90 : 0x80;
	hi = c == 0xf4 ? 0x8f : 0xbf;
	return left >= 4 && s[1] >= lo && s[1] <= hi && cont(s[2]) && cont(s[3]) ? 4 : 0;
}

/* ---- strings ------------------------------------------------------------------------------ */

static long hex4(const unsigned char *h)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = h[i];
		int d = c >= '0' && c <= '9' ? (int)c - '0'
			: c >= 'a' && c <= 'f' ? (int)c - 'a' + 10
			: c >= 'A' && c <= 'F' ? (int)c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* \uXXXX at s (before the closing quote q), pairs joined, lone surrogates -> U+FFFD */
static int decode_u(struct parser *p, const unsigned char **sp, const unsigned char *q,
		    unsigned char **dp)
{
	const unsigned char *s = *sp;
	long cp = q - s >= 6 ? hex4(s + 2) : -1, lo;
	if (cp < 0)
		return fail(p, s, "invalid \\u escape (expected 4 hex digits)");
	s += 6;
	if (cp >= 0xd800 && cp <= 0xdbff && q - s >= 6 && s[0] == '\\' && s[1] == 'u' &&
	    (lo = hex4(s + 2)) >= 0xdc00 && lo <= 0xdfff) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		s += 6;
	} else if (cp >= 0xd800 && cp <= 0xdfff) {
		cp = 0xfffd;
	}
	*dp += utf8_encode((uint32_t)cp, (char *)*dp);
	*sp = s;
	return 0;
}

static int decode_escape(struct parser *p, const unsigned char **sp, const unsigned char *q,
			 unsigned char **dp)
{
	const unsigned char *s = *sp;
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k = s[1] ? strchr(from, s[1]) : NULL;
	if (s[1] == 'u')
		return decode_u(p, sp, q, dp);
	if (!k) {
		if (s[1] > 0x20 && s[1] < 0x7f)
			return fail(p, s, "invalid escape '\\%c'", s[1]);
		return fail(p, s, "invalid escape: byte 0x%02x after '\\'", s[1]);
	}
	*(*dp)++ = (unsigned char)to[k - from];
	*sp = s + 2;
	return 0;
}

/* the closing quote of the string whose opening quote is at s, or NULL */
static const unsigned char *string_end(const unsigned char *s, const unsigned char *end)
{
	for (s++; s < end; s++) {
		if (*s == '"')
			return s;
		if (*s == '\\' && ++s == end)
			break;
	}
	return NULL;
}

static int parse_string(struct parser *p, struct json *out)
{
	const unsigned char *s = p->s + 1, *q = string_end(p->s, p->end);
	if (!q)
		return fail(p, p->s, "unterminated string");
	if ((size_t)(q - s) >= UINT32_MAX)
		return fail(p, p->s, "string longer than 4 GB");
	unsigned char *d0 = arena_alloc(p->doc, (size_t)(q - s) + 1), *d = d0;
	if (!d0)
		return fail(p, p->s, "out of memory");
	while (s < q) {
		unsigned c = *s;
		int n;
		if (c >= 0x20 && c < 0x80 && c != '\\') {
			*d++ = *s++;
		} else if (c == '\\') {
			if (decode_escape(p, &s, q, &d))
				return -1;
		} else if (c < 0x20) {
			return fail(p, s, "unescaped control character 0x%02x in string", c);
		} else if ((n = utf8_seq(s, q)) > 0) {
			memcpy(d, s, (size_t)n);
			d += n;
			s += n;
		} else {
			return fail(p, s, "invalid UTF-8 byte 0x%02x in string", c);
		}
	}
	*d = 0;
	*out = (struct json){ .type = JSON_STRING, .len = (uint32_t)(d - d0), .u.str = (char *)d0 };
	p->s = q + 1;
	return 0;
}

/* ---- numbers and literals ----------------------------------------------------------------- */

/* a checked number token: value = mantissa digits [b, e) ('.' skipped) * 10^(exp - frac) */
struct num {
	const unsigned char *t, *b, *e;
	long exp, frac; /* exp saturates at 1e6 */
	int neg;
};

static int is_digit(const struct parser *p)
{
	return p->s < p->end && *p->s >= '0' && *p->s <= '9';
}

static int scan_number(struct parser *p, struct num *n)
{
	*n = (struct num){ .t = p->s, .neg = *p->s == '-' };
	p->s += n->neg;
	if (!is_digit(p))
		return fail(p, p->s, "expected a digit%s", n->neg ? " after '-'" : "");
	n->b = p->s;
	if (*p->s == '0' && (p->s++, is_digit(p)))
		return fail(p, n->t, "leading zero in a number");
	while (is_digit(p))
		p->s++;
	if (p->s < p->end && *p->s == '.') {
		p->s++;
		if (!is_digit(p))
			return fail(p, p->s, "expected a digit after '.'");
		for (; is_digit(p); p->s++)
			n->frac++;
	}
	n->e = p->s;
	if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
		int eneg = ++p->s < p->end && *p->s == '-';
		p->s += p->s < p->end && (*p->s == '+' || *p->s == '-');
		if (!is_digit(p))
			return fail(p, p->s, "expected a digit in the exponent");
		for (; is_digit(p); p->s++)
			if (n->exp < 1000000)
				n->exp = n->exp * 10 + (*p->s - '0');
		n->exp = eneg ? -n->exp : n->exp;
	}
	return 0;
}

/* 0 and the exact value when the number is an integer in int64 range (1e3 and 2.50e1 too) */
static int exact_int(const struct num *n, int64_t *out)
{
	const unsigned char *last = n->e;
	long e = n->exp - n->frac;
	uint64_t v = 0;
	for (; last > n->b && (last[-1] == '0' || last[-1] == '.'); last--)
		e += last[-1] == '0';
	for (const unsigned char *c = n->b; c < last; c++) {
		if (*c == '.')
			continue;
		unsigned d = (unsigned)(*c - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v && e < 0)
		return -1;
	for (; v && e > 0; e--) {
		if (v > UINT64_MAX / 10)
			return -1;
		v *= 10;
	}
	if (v > (uint64_t)INT64_MAX + (uint64_t)n->neg)
		return -1;
	*out = n->neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int number_to_double(struct parser *p, const struct num *n, struct json *out)
{
	size_t len = (size_t)(p->s - n->t);
	char small[64], *buf = len < sizeof(small) ? small : malloc(len + 1);
	if (!buf)
		return fail(p, n->t, "out of memory");
	memcpy(buf, n->t, len);
	buf[len] = 0;
	double x = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	if (isinf(x))
		return fail(p, n->t, "number out of range");
	*out = (struct json){ .type = JSON_NUMBER, .u.num = x };
	return 0;
}

/* is_int: 1 exact in u.i; 2 the integer zero written with a minus sign (json_num gives -0.0) */
static int parse_number(struct parser *p, struct json *out)
{
	struct num n;
	int64_t i;
	if (scan_number(p, &n))
		return -1;
	if (exact_int(&n, &i))
		return number_to_double(p, &n, out);
	*out = (struct json){ .type = JSON_NUMBER, .is_int = (uint8_t)(1 + (n.neg && i == 0)) };
	out->u.i = i;
	return 0;
}

static int parse_literal(struct parser *p, struct json *out)
{
	static const char *const words[] = { "null", "false", "true" };
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);
		if ((size_t)(p->end - p->s) >= n && !memcmp(p->s, words[i], n)) {
			*out = (struct json){ .type = i ? JSON_BOOL : JSON_NULL, .is_int = i == 2 };
			p->s += n;
			return 0;
		}
	}
	unsigned c = *p->s;
	if (c > 0x20 && c < 0x7f)
		return fail(p, p->s, "expected a value, found '%c'", c);
	return fail(p, p->s, "expected a value, found byte 0x%02x", c);
}

/* ---- containers --------------------------------------------------------------------------- */

static uint64_t hash_key(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static size_t index_size(size_t members)
{
	size_t n = 16;
	while (n < 2 * members)
		n *= 2;
	return n;
}

static int key_eq(const struct json *k, const char *s, size_t n)
{
	return k->len == n && !memcmp(k->u.str, s, n);
}

/* the slot of key s in the index of obj: holding it, or the empty slot where it would go */
static uint32_t *index_slot(const struct json *obj, const char *s, size_t n)
{
	size_t mask = index_size(obj->len) - 1, i = (size_t)hash_key(s, n) & mask;
	uint32_t *tab = (uint32_t *)(obj->u.items + 2 * (size_t)obj->len);
	while (tab[i] && !key_eq(&obj->u.items[2 * (size_t)(tab[i] - 1)], s, n))
		i = (i + 1) & mask;
	return &tab[i];
}

/* the index of obj; -1 - m when member m repeats an earlier key */
static long index_build(struct json *obj)
{
	uint32_t *tab = (uint32_t *)(obj->u.items + 2 * (size_t)obj->len);
	memset(tab, 0, index_size(obj->len) * sizeof(*tab));
	for (uint32_t m = 0; m < obj->len; m++) {
		const struct json *k = &obj->u.items[2 * (size_t)m];
		uint32_t *slot = index_slot(obj, k->u.str, k->len);
		if (*slot)
			return -1 - (long)m;
		*slot = m + 1;
	}
	return 0;
}

/* the first member of a small object (the children above base) that repeats a key; -1 none */
static long dup_small(const struct parser *p, size_t base)
{
	for (size_t i = base + 2; i < p->top; i += 2)
		for (size_t j = base; j < i; j += 2)
			if (key_eq(&p->stack[j], p->stack[i].u.str, p->stack[i].len))
				return (long)(i - base) / 2;
	return -1;
}

static int fail_dup(struct parser *p, size_t base, long m)
{
	const struct json *k = &p->stack[base + 2 * (size_t)m];
	return fail(p, p->at[base + 2 * (size_t)m], "duplicate key \"%.40s%s\"", k->u.str,
		    k->len > 40 ? "..." : "");
}

/* moves the children above base into one arena block owned by the new container */
static int close_container(struct parser *p, size_t base, int type, struct json *out)
{
	size_t n = p->top - base, members = type == JSON_OBJECT ? n / 2 : n;
	size_t bytes = n * sizeof(struct json);
	int indexed = type == JSON_OBJECT && members >= HASH_MIN;
	long dup;
	if (members >= UINT32_MAX)
		return fail(p, p->s, "container with more than 4G members");
	if (type == JSON_OBJECT && !indexed && (dup = dup_small(p, base)) >= 0)
		return fail_dup(p, base, dup);
	if (indexed)
		bytes += index_size(members) * sizeof(uint32_t);
	*out = (struct json){ .type = (uint8_t)type, .len = (uint32_t)members };
	if (n) {
		if (!(out->u.items = arena_alloc(p->doc, bytes)))
			return fail(p, p->s, "out of memory");
		memcpy(out->u.items, p->stack + base, n * sizeof(struct json));
	}
	if (indexed && (dup = index_build(out)) < 0)
		return fail_dup(p, base, -1 - dup);
	p->top = base;
	return 0;
}

static int parse_value(struct parser *p, int depth, struct json *out);

/* after a member: 1 at the closing bracket, 0 after a comma, -1 on error */
static int next_member(struct parser *p, char close, const char *what)
{
	skip_ws(p);
	if (p->s == p->end)
		return fail(p, p->s, "unexpected end of input (expected ',' or '%c')", close);
	if (*p->s == close) {
		p->s++;
		return 1;
	}
	if (*p->s != ',')
		return fail(p, p->s, "expected ',' or '%c' after %s", close, what);
	p->s++;
	skip_ws(p);
	if (p->s < p->end && *p->s == close)
		return fail(p, p->s, "trailing comma before '%c'", close);
	return 0;
}

static int parse_array(struct parser *p, int depth, struct json *out)
{
	size_t base = p->top;
	int r = 0;
	p->s++;
	skip_ws(p);
	if (p->s < p->end && *p->s == ']')
		p->s++, r = 1;
	while (!r) {
		struct json v;
		if (parse_value(p, depth + 1, &v) || push(p, &v))
			return -1;
		if ((r = next_member(p, ']', "an array element")) < 0)
			return -1;
	}
	return close_container(p, base, JSON_ARRAY, out);
}

static int parse_member(struct parser *p, int depth)
{
	struct json k, v;
	if (p->s == p->end)
		return fail(p, p->s, "unexpected end of input (expected a key)");
	if (*p->s != '"')
		return fail(p, p->s, "expected a string key");
	const unsigned char *at = p->s;
	if (parse_string(p, &k) || push(p, &k))
		return -1;
	p->at[p->top - 1] = at;
	skip_ws(p);
	if (p->s == p->end || *p->s != ':')
		return fail(p, p->s, "expected ':' after an object key");
	p->s++;
	return parse_value(p, depth + 1, &v) || push(p, &v) ? -1 : 0;
}

static int parse_object(struct parser *p, int depth, struct json *out)
{
	size_t base = p->top;
	int r = 0;
	p->s++;
	skip_ws(p);
	if (p->s < p->end && *p->s == '}')
		p->s++, r = 1;
	while (!r) {
		if (parse_member(p, depth))
			return -1;
		if ((r = next_member(p, '}', "an object member")) < 0)
			return -1;
	}
	return close_container(p, base, JSON_OBJECT, out);
}

static int parse_value(struct parser *p, int depth, struct json *out)
{
	skip_ws(p);
	if (p->s == p->end)
		return fail(p, p->s, "unexpected end of input (expected a value)");
	unsigned c = *p->s;
	if ((c == '[' || c == '{') && depth >= JSON_MAX_DEPTH)
		return fail(p, p->s, "nesting deeper than %d levels", JSON_MAX_DEPTH);
	if (c == '[')
		return parse_array(p, depth, out);
	if (c == '{')
		return parse_object(p, depth, out);
	if (c == '"')
		return parse_string(p, out);
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(p, out);
	return parse_literal(p, out);
}

/* ---- entry points ------------------------------------------------------------------------- */

static void format_error(const struct parser *p, char *err, size_t errlen)
{
	long line = 1;
	const unsigned char *ls = p->start;
	for (const unsigned char *c = p->start; c < p->err_at; c++)
		if (*c == '\n')
			line++, ls = c + 1;
	if (err && errlen)
		snprintf(err, errlen, "line %ld col %ld: %s", line, (long)(p->err_at - ls) + 1,
			 p->what);
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser p = { .start = (const unsigned char *)text };
	p.s = p.start;
	p.end = p.start + len;
	if (!(p.doc = calloc(1, sizeof(*p.doc)))) {
		if (err && errlen)
			snprintf(err, errlen, "line 1 col 1: out of memory");
		return NULL;
	}
	p.doc->next_cap = CHUNK_MIN;
	if (len >= 3 && !memcmp(p.s, "\xef\xbb\xbf", 3))
		p.s += 3;
	int rc = parse_value(&p, 0, &p.doc->root);
	skip_ws(&p);
	if (!rc && p.s != p.end)
		rc = fail(&p, p.s, "unexpected characters after the document");
	free(p.stack);
	free(p.at);
	if (rc) {
		format_error(&p, err, errlen);
		doc_free(p.doc);
		return NULL;
	}
	return &p.doc->root;
}

struct json *json_load(const char *path, char *err, size_t errlen)
{
	size_t len;
	char msg[160];
	char *text;
	if (fs_read_file(path, &text, &len)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path,
				 errno ? strerror(errno) : "file changed while reading");
		return NULL;
	}
	struct json *root = json_parse(text, len, msg, sizeof(msg));
	free(text);
	if (!root && err && errlen)
		snprintf(err, errlen, "%s: %s", path, msg);
	return root;
}

void json_free(struct json *root)
{
	doc_free((struct doc *)root);
}

/* ---- access ------------------------------------------------------------------------------- */

enum json_type json_type(const struct json *v)
{
	return v ? (enum json_type)v->type : JSON_MISSING;
}

const char *json_type_name(enum json_type t)
{
	static const char *const names[] = { "missing", "null",   "bool",  "number",
					     "string",  "array", "object" };
	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

int json_bool(const struct json *v)
{
	return json_type(v) == JSON_BOOL ? v->is_int : -1;
}

double json_num(const struct json *v)
{
	if (json_type(v) != JSON_NUMBER)
		return NAN;
	if (v->is_int == 2)
		return -0.0;
	return v->is_int ? (double)v->u.i : v->u.num;
}

int json_int(const struct json *v, int64_t *out)
{
	if (json_type(v) != JSON_NUMBER || !v->is_int)
		return -1;
	if (out)
		*out = v->u.i;
	return 0;
}

const char *json_str(const struct json *v)
{
	return json_type(v) == JSON_STRING ? v->u.str : NULL;
}

size_t json_str_len(const struct json *v)
{
	return json_type(v) == JSON_STRING ? v->len : 0;
}

size_t json_len(const struct json *v)
{
	int t = json_type(v);
	return t == JSON_ARRAY || t == JSON_OBJECT ? v->len : 0;
}

const struct json *json_at(const struct json *v, size_t i)
{
	if (i >= json_len(v))
		return NULL;
	return v->type == JSON_ARRAY ? &v->u.items[i] : &v->u.items[2 * i + 1];
}

const char *json_key_at(const struct json *obj, size_t i)
{
	if (json_type(obj) != JSON_OBJECT || i >= obj->len)
		return NULL;
	return obj->u.items[2 * i].u.str;
}

const struct json *json_get(const struct json *obj, const char *key)
{
	if (json_type(obj) != JSON_OBJECT || !key)
		return NULL;
	size_t n = strlen(key);
	if (obj->len >= HASH_MIN) {
		uint32_t m = *index_slot(obj, key, n);
		return m ? &obj->u.items[2 * (size_t)(m - 1) + 1] : NULL;
	}
	for (size_t i = obj->len; i-- > 0;)
		if (key_eq(&obj->u.items[2 * i], key, n))
			return &obj->u.items[2 * i + 1];
	return NULL;
}

/* ---- writer ------------------------------------------------------------------------------- */

static void write_escape(FILE *f, unsigned c)
{
	static const char hex[] = "0123456789abcdef";
	const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
		      : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b"
		      : c == '\f' ? "\\f" : NULL;
	if (e) {
		fputs(e, f);
		return;
	}
	char u[7] = { '\\', 'u', '0', '0', hex[c >> 4 & 0xf], hex[c & 0xf], 0 };
	fputs(u, f);
}

void json_write_strn(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + n, *run = s;
	fputc('"', f);
	while (s < end) {
		unsigned c = *s;
		int k = c >= 0x80 ? utf8_seq(s, end) : c >= 0x20 && c != '"' && c != '\\';
		if (k > 0) {
			s += k;
			continue;
		}
		fwrite(run, 1, (size_t)(s - run), f);
		if (c >= 0x80)
			fputs("\\ufffd", f);
		else
			write_escape(f, c);
		run = ++s;
	}
	fwrite(run, 1, (size_t)(s - run), f);
	fputc('"', f);
}

void json_write_string(FILE *f, const char *s)
{
	if (s)
		json_write_strn(f, s, strlen(s));
	else
		fputs("null", f);
}

/* integers below 1e17 (1e9 for floats) print exactly ("100", not "1e+02"; "-0.0" so that
 * Python keeps the sign); others take the fewest %g digits that read back to the same value */
static void format_number(char *buf, size_t n, double x, int is_float)
{
	if (x == floor(x) && fabs(x) < (is_float ? 1e9 : 1e17)) {
		snprintf(buf, n, signbit(x) && x == 0 ? "-0.0" : "%.0f", x);
		return;
	}
	for (int prec = 1; prec <= (is_float ? 9 : 17); prec++) {
		snprintf(buf, n, "%.*g", prec, x);
		if (is_float ? strtof(buf, NULL) == (float)x : strtod(buf, NULL) == x)
			return;
	}
}

void json_write_number(FILE *f, double x)
{
	char buf[40];
	if (!isfinite(x)) {
		fputs("null", f);
		return;
	}
	format_number(buf, sizeof(buf), x, 0);
	fputs(buf, f);
}

void json_write_float(FILE *f, float x)
{
	char buf[40];
	if (!isfinite(x)) {
		fputs("null", f);
		return;
	}
	format_number(buf, sizeof(buf), (double)x, 1);
	fputs(buf, f);
}

void json_obj_begin(struct json_out *o, FILE *f)
{
	o->f = f;
	o->n = 0;
	fputc('{', f);
}

void json_kv_key(struct json_out *o, const char *key)
{
	if (o->n++)
		fputs(", ", o->f);
	json_write_string(o->f, key);
	fputs(": ", o->f);
}

void json_kv_num(struct json_out *o, const char *key, double x)
{
	json_kv_key(o, key);
	json_write_number(o->f, x);
}

void json_kv_float(struct json_out *o, const char *key, float x)
{
	json_kv_key(o, key);
	json_write_float(o->f, x);
}

void json_kv_int(struct json_out *o, const char *key, int64_t x)
{
	json_kv_key(o, key);
	fprintf(o->f, "%lld", (long long)x);
}

void json_kv_bool(struct json_out *o, const char *key, int x)
{
	json_kv_key(o, key);
	fputs(x ? "true" : "false", o->f);
}

void json_kv_str(struct json_out *o, const char *key, const char *s)
{
	json_kv_key(o, key);
	json_write_string(o->f, s);
}

void json_kv_raw(struct json_out *o, const char *key, const char *json_text)
{
	json_kv_key(o, key);
	fputs(json_text, o->f);
}

void json_obj_end(struct json_out *o)
{
	fputs("}\n", o->f);
}

void json_write_value(FILE *f, const struct json *v)
{
	enum json_type t = json_type(v);
	size_t n = json_len(v);
	switch (t) {
	case JSON_BOOL: fputs(json_bool(v) ? "true" : "false", f); return;
	case JSON_NUMBER: json_write_number(f, json_num(v)); return;
	case JSON_STRING: json_write_strn(f, json_str(v), json_str_len(v)); return;
	case JSON_ARRAY:
	case JSON_OBJECT:
		fputc(t == JSON_ARRAY ? '[' : '{', f);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputs(", ", f);
			if (t == JSON_OBJECT) {
				json_write_string(f, json_key_at(v, i));
				fputs(": ", f);
			}
			json_write_value(f, json_at(v, i));
		}
		fputc(t == JSON_ARRAY ? ']' : '}', f);
		return;
	default: fputs("null", f);
	}
}
