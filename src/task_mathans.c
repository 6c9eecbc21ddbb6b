/*
 * task_mathans.c - math answer extraction and equivalence (see task_mathans.h); the normalisation
 * is in task_mathans_norm.c. Numbers are compared as reduced rationals in __int128 (exact) or as
 * doubles (relative 1e-6) following the rules in task_mathans.h.
 */
#include "task_mathans_internal.h"

#include <math.h>
#include <stdint.h>

#define ITEMS_MAX 64
#define DEPTH_MAX 6

/* ---- extraction ------------------------------------------------------------------------ */

/* the start of the last "\boxed" or "\fbox" command in text (not "\boxedx"), or NULL */
static const char *last_box(const char *text, size_t *name_len)
{
	static const char *const names[] = { "\\boxed", "\\fbox" };
	const char *best = NULL;
	for (int i = 0; i < 2; i++) {
		size_t k = strlen(names[i]);
		for (const char *p = strstr(text, names[i]); p; p = strstr(p + 1, names[i]))
			if (!is_alpha(p[k]) && (!best || p > best))
				best = p, *name_len = k;
	}
	return best;
}

int math_last_boxed(const char *text, const char **begin, size_t *len)
{
	size_t k = 0;
	const char *p = last_box(text, &k);
	if (!p)
		return 0;
	p += k;
	if (*p == '{') {
		const char *e = mathans_brace_match(p, 1);
		if (!e)
			return 0;
		*begin = p + 1;
		*len = (size_t)(e - p - 1);
		return 1;
	}
	if (*p != ' ' && *p != '\t')
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *e = p;
	while (*e && *e != '$' && !isspace((unsigned char)*e))
		e++;
	if (e == p)
		return 0;
	*begin = p;
	*len = (size_t)(e - p);
	return 1;
}

/* ---- numbers --------------------------------------------------------------------------- */

typedef __int128 i128;

struct num {
	i128 p, q;     /* the value p / q, q > 0, reduced */
	int dec, frac; /* written with a decimal point; written as a fraction */
};

static i128 gcd128(i128 a, i128 b)
{
	if (a < 0)
		a = -a;
	while (b) {
		i128 t = a % b;
		a = b, b = t;
	}
	return a;
}

static int num_reduce(struct num *x)
{
	if (x->q == 0)
		return -1;
	if (x->q < 0)
		x->p = -x->p, x->q = -x->q;
	i128 g = gcd128(x->p, x->q);
	if (g > 1)
		x->p /= g, x->q /= g;
	const i128 lim = (i128)1 << 62;
	return x->p > lim || x->p < -lim || x->q > lim ? -1 : 0;
}

/* [sign] digits [. digits] at *s: 0 and the value, advancing *s; -1 when not one */
static int parse_decimal(const char **s, struct num *x, int allow_sign)
{
	const char *p = *s;
	int neg = 0, digits = 0;
	if (allow_sign && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	x->p = 0, x->q = 1, x->dec = 0, x->frac = 0;
	for (; is_digit(*p) || (*p == '.' && !x->dec); p++) {
		if (*p == '.') {
			x->dec = 1;
			continue;
		}
		if (++digits > 18)
			return -1;
		x->p = x->p * 10 + (*p - '0');
		if (x->dec)
			x->q *= 10;
	}
	if (!digits)
		return -1;
	if (neg)
		x->p = -x->p;
	*s = p;
	return num_reduce(x);
}

/* "\frac{A}{B}" at *s with decimal A and B */
static int parse_frac(const char **s, struct num *x)
{
	struct num a, b;
	const char *p = *s;
	if (!starts(p, "\\frac{"))
		return -1;
	p += 6;
	if (parse_decimal(&p, &a, 1) || *p++ != '}' || *p++ != '{' || parse_decimal(&p, &b, 1) ||
	    *p++ != '}')
		return -1;
	x->p = a.p * b.q;
	x->q = a.q * b.p;
	x->dec = a.dec || b.dec;
	x->frac = 1;
	*s = p;
	return num_reduce(x);
}

/* the whole of s as a number: decimal, fraction, -fraction, mixed "1\frac{4}{5}" */
static int parse_number(const char *s, struct num *x)
{
	int neg = 0;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (*s == '\\') {
		if (parse_frac(&s, x))
			return -1;
	} else {
		if (parse_decimal(&s, x, 0))
			return -1;
		struct num f;
		if (*s == '\\') {
			if (x->dec || parse_frac(&s, &f) || f.p < 0 || f.dec)
				return -1;
			x->p = x->p * f.q + f.p;
			x->q = f.q;
			x->frac = 1;
			if (num_reduce(x))
				return -1;
		}
	}
	if (neg)
		x->p = -x->p;
	return *s ? -1 : 0;
}

static int num_equal(const struct num *a, const struct num *b)
{
	if (a->frac || b->frac || (!a->dec && !b->dec))
		return a->p * b->q == b->p * a->q;
	double x = (double)a->p / (double)a->q, y = (double)b->p / (double)b->q;
	return fabs(x - y) <= 1e-6 * fmax(fabs(x), fabs(y));
}

/* ---- structure: tuples, intervals, sets, lists, matrices ------------------------------- */

struct span {
	const char *s;
	size_t len;
};

/* s[0..len) split at top-level sep; the count, or -1 when more than max */
static int split_top(const char *s, size_t len, const char *sep, struct span *out, int max)
{
	size_t k = strlen(sep), start = 0;
	int depth = 0, count = 0;
	for (size_t i = 0; i <= len; i++) {
		int at_sep = i < len && depth == 0 && i + k <= len && !strncmp(s + i, sep, k);
		if (i == len || at_sep) {
			if (count == max)
				return -1;
			out[count++] = (struct span){ s + start, i - start };
			if (at_sep)
				i += k - 1, start = i + 1;
			continue;
		}
		depth += is_open(s[i]) - is_close(s[i]);
	}
	return count;
}

static int equal_depth(const char *a, const char *b, int depth);

static int span_equal(struct span a, struct span b, int depth)
{
	char x[MATH_TEXT_MAX], y[MATH_TEXT_MAX];
	if (a.len >= sizeof(x) || b.len >= sizeof(y))
		return 0;
	memcpy(x, a.s, a.len), x[a.len] = '\0';
	memcpy(y, b.s, b.len), y[b.len] = '\0';
	return equal_depth(x, y, depth + 1);
}

static int items_equal(const struct span *a, const struct span *b, int n, int ordered, int depth)
{
	unsigned char used[ITEMS_MAX] = { 0 };
	for (int i = 0; i < n; i++) {
		if (ordered) {
			if (!span_equal(a[i], b[i], depth))
				return 0;
			continue;
		}
		int j = 0;
		while (j < n && (used[j] || !span_equal(a[i], b[j], depth)))
			j++;
		if (j == n)
			return 0;
		used[j] = 1;
	}
	return 1;
}

/* both sides split with sep: same count, items equal */
static int split_equal(struct span a, struct span b, const char *sep, int ordered, int depth)
{
	struct span ia[ITEMS_MAX], ib[ITEMS_MAX];
	int na = split_top(a.s, a.len, sep, ia, ITEMS_MAX);
	int nb = split_top(b.s, b.len, sep, ib, ITEMS_MAX);
	return na > 0 && na == nb && items_equal(ia, ib, na, ordered, depth);
}

static int matrix_equal(const char *a, const char *b, int depth)
{
	static const char open[] = "\\begin{pmatrix}", close[] = "\\end{pmatrix}";
	size_t lo = strlen(open), lc = strlen(close), la = strlen(a), lb = strlen(b);
	if (la < lo + lc || lb < lo + lc || !starts(a, open) || !starts(b, open) ||
	    strcmp(a + la - lc, close) || strcmp(b + lb - lc, close))
		return 0;
	struct span ra[ITEMS_MAX], rb[ITEMS_MAX];
	int na = split_top(a + lo, la - lo - lc, "\\\\", ra, ITEMS_MAX);
	int nb = split_top(b + lo, lb - lo - lc, "\\\\", rb, ITEMS_MAX);
	if (na <= 0 || na != nb)
		return 0;
	for (int i = 0; i < na; i++)
		if (!split_equal(ra[i], rb[i], "&", 1, depth))
			return 0;
	return 1;
}

static int equal_norm(const char *a, const char *b, int depth)
{
	struct num x, y;
	if (!strcmp(a, b))
		return 1;
	if (!parse_number(a, &x) && !parse_number(b, &y))
		return num_equal(&x, &y);
	if (depth >= DEPTH_MAX)
		return 0;
	if (starts(a, "\\begin{pmatrix}"))
		return matrix_equal(a, b, depth);
	size_t la = strlen(a), lb = strlen(b);
	int ga = la >= 2 && is_open(a[0]) && mathans_group_end(a, a + la) == a + la - 1;
	int gb = lb >= 2 && is_open(b[0]) && mathans_group_end(b, b + lb) == b + lb - 1;
	if (ga && gb) {
		if (a[0] != b[0] || a[la - 1] != b[lb - 1])
			return 0;
		return split_equal((struct span){ a + 1, la - 2 }, (struct span){ b + 1, lb - 2 },
				   ",", a[0] != '{', depth);
	}
	if (ga || gb || !mathans_has_top_comma(a, la) || !mathans_has_top_comma(b, lb))
		return 0;
	return split_equal((struct span){ a, la }, (struct span){ b, lb }, ",", 0, depth);
}

/* both trimmed of whitespace and trailing '.', byte for byte */
static int trimmed_equal(const char *a, const char *b)
{
	const char *ab = a, *ae = a + strlen(a), *bb = b, *be = b + strlen(b);
	mathans_trim_span(&ab, &ae);
	mathans_trim_span(&bb, &be);
	return ae - ab == be - bb && !memcmp(ab, bb, (size_t)(ae - ab));
}

static int equal_depth(const char *a, const char *b, int depth)
{
	char na[MATH_TEXT_MAX], nb[MATH_TEXT_MAX], la[MATHANS_LHS_MAX], lb[MATHANS_LHS_MAX];
	if (mathans_normalize_full(a, na, sizeof(na), la) < 0 || mathans_normalize_full(b, nb, sizeof(nb), lb) < 0)
		return trimmed_equal(a, b);
	if (!na[0] || !nb[0] || (la[0] && lb[0] && strcmp(la, lb)))
		return 0;
	return equal_norm(na, nb, depth);
}

int math_equal(const char *given, const char *reference)
{
	return equal_depth(given, reference, 0);
}

double math_reward(const char *response, const char *reference, int *correct)
{
	const char *b;
	size_t len;
	char given[MATH_TEXT_MAX];
	int ok = 0;
	if (math_last_boxed(response, &b, &len) && len < sizeof(given)) {
		memcpy(given, b, len);
		given[len] = '\0';
		ok = math_equal(given, reference);
	}
	if (correct)
		*correct = ok;
	return ok ? 1.0 : 0.0;
}
