/*
 * mathans.c - math answer extraction, normalisation and equivalence (see mathans.h).
 *
 * Normalisation is a fixed sequence of text passes over two ping-pong buffers of NORM_CAP
 * bytes on the stack (a pass may grow the text a little: "\frac12" -> "\frac{1}{2}"); a pass that would
 * overflow leaves the normalisation failed. Numbers are compared as reduced rationals in
 * __int128 (exact) or as doubles (relative 1e-6) following the rules in mathans.h.
 */
#include "attnrl/mathans.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define NORM_CAP (4 * MATH_TEXT_MAX)
#define LHS_MAX 32
#define ITEMS_MAX 64
#define DEPTH_MAX 6

/* ---- small text helpers ---------------------------------------------------------------- */

struct sb {
	char *s;
	size_t n, cap;
	int over;
};

static void sb_init(struct sb *b, char *s, size_t cap)
{
	b->s = s, b->n = 0, b->cap = cap, b->over = 0;
	s[0] = '\0';
}

static void sb_putn(struct sb *b, const char *p, size_t k)
{
	if (b->over || b->n + k + 1 > b->cap) {
		b->over = 1;
		return;
	}
	memcpy(b->s + b->n, p, k);
	b->n += k;
	b->s[b->n] = '\0';
}

static void sb_putc(struct sb *b, char c)
{
	sb_putn(b, &c, 1);
}

static void sb_puts(struct sb *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static int is_alpha(char c)
{
	return isalpha((unsigned char)c);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_open(char c)
{
	return c == '(' || c == '[' || c == '{';
}

static int is_close(char c)
{
	return c == ')' || c == ']' || c == '}';
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* the '}' matching the '{' at p, or NULL; escape: a backslash hides the next character */
static const char *brace_match(const char *p, int escape)
{
	int depth = 0;
	for (; *p; p++) {
		if (escape && *p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			return p;
	}
	return NULL;
}

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
		const char *e = brace_match(p, 1);
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

/* ---- the normalisation passes ---------------------------------------------------------- */

struct norm {
	char buf[2][NORM_CAP];
	int cur, failed;
};

static char *cur(struct norm *n)
{
	return n->buf[n->cur];
}

static struct sb next_out(struct norm *n)
{
	struct sb b;
	sb_init(&b, n->buf[!n->cur], NORM_CAP);
	return b;
}

static void commit(struct norm *n, struct sb *b)
{
	if (b->over)
		n->failed = 1;
	else
		n->cur = !n->cur;
}

/* every "from" -> "to"; a from ending in a letter (a command) must not be followed by one;
 * a \\ pair (a LaTeX line break) is left alone */
static void replace(struct norm *n, const char *from, const char *to)
{
	const char *in = cur(n);
	size_t k = strlen(from);
	int guard = is_alpha(from[k - 1]);
	if (n->failed || !strstr(in, from))
		return;
	struct sb o = next_out(n);
	while (*in) {
		if (in[0] == '\\' && in[1] == '\\') { /* a line break, not an escape */
			sb_putn(&o, in, 2);
			in += 2;
		} else if (!strncmp(in, from, k) && !(guard && is_alpha(in[k]))) {
			sb_puts(&o, to);
			in += k;
		} else {
			sb_putc(&o, *in++);
		}
	}
	commit(n, &o);
}

static void trim_span(const char **b, const char **e)
{
	while (*b < *e && isspace((unsigned char)**b))
		(*b)++;
	while (*e > *b && (isspace((unsigned char)(*e)[-1]) || (*e)[-1] == '.'))
		(*e)--;
}

/* whitespace -> ' ', trimmed, trailing '.' dropped */
static int pass_load(struct norm *n, const char *s)
{
	const char *b = s, *e = s + strlen(s);
	trim_span(&b, &e);
	if ((size_t)(e - b) >= MATH_TEXT_MAX)
		return -1;
	struct sb o;
	sb_init(&o, n->buf[0], NORM_CAP);
	for (; b < e; b++)
		sb_putc(&o, isspace((unsigned char)*b) ? ' ' : *b);
	n->cur = 0;
	n->failed = 0;
	return 0;
}

/* a trailing \text{..} or \mbox{..} after a non-empty answer is a unit: dropped */
static void pass_trailing_text(struct norm *n)
{
	static const char *const cmds[] = { "\\text{", "\\mbox{" };
	char *s = cur(n);
	size_t len = strlen(s);
	if (!len || s[len - 1] != '}')
		return;
	for (int c = 0; c < 2; c++)
		for (char *p = strstr(s, cmds[c]); p; p = strstr(p + 1, cmds[c])) {
			const char *e = brace_match(p + strlen(cmds[c]) - 1, 0);
			if (e != s + len - 1)
				continue;
			const char *b = s, *pe = p;
			trim_span(&b, &pe);
			if (pe > b) {
				*p = '\0';
				return;
			}
		}
}

/* \text{X} and friends -> X */
static void pass_unwrap(struct norm *n)
{
	static const char *const cmds[] = { "\\textbf{", "\\textit{", "\\textnormal{", "\\textrm{",
					    "\\text{", "\\mbox{", "\\mathrm{", "\\mathbf{" };
	const char *in = cur(n);
	unsigned char drop[NORM_CAP];
	size_t len = strlen(in);
	int any = 0;
	memset(drop, 0, len + 1);
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '\\' || drop[i])
			continue;
		for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
			size_t k = strlen(cmds[c]);
			const char *e;
			if (strncmp(in + i, cmds[c], k) || !(e = brace_match(in + i + k - 1, 0)))
				continue;
			memset(drop + i, 1, k);
			drop[e - in] = 1;
			any = 1;
			break;
		}
	}
	if (!any)
		return;
	struct sb o = next_out(n);
	for (size_t i = 0; i < len; i++)
		if (!drop[i])
			sb_putc(&o, in[i]);
	commit(n, &o);
}

static int unit_word(const char *w, size_t k)
{
	static const char *const units[] = {
		"cm", "mm", "km", "inch", "inche", "ft", "feet", "foot", "yd", "yard", "mile", "meter",
		"metre", "centimeter", "centimetre", "millimeter", "kilometer", "dollar", "cent",
		"euro", "degree", "deg", "radian", "second", "sec", "minute", "min", "hour", "hr",
		"day", "week", "month", "year", "yr", "unit", "sq", "square", "cubic", "kg", "gram",
		"pound", "lb", "ounce", "oz", "liter", "litre", "ml", "gallon", "mph", "kmh",
		"percent", "point", "mile", "people", "student", "apple", "book", "page",
	};
	if (k && (w[k - 1] == 's' || w[k - 1] == 'S'))
		k--; /* plural */
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i]) == k && !strncasecmp(w, units[i], k))
			return 1;
	return 0;
}

/* unit words at the end after a number: "12 square feet" -> "12", "15 cm^2" -> "15" */
static void pass_units(struct norm *n)
{
	char *s = cur(n);
	char *end = s + strlen(s), *cut = NULL;
	for (;;) {
		char *e = end;
		while (e > s && e[-1] == ' ')
			e--;
		if (e - s >= 2 && e[-2] == '^' && (e[-1] == '2' || e[-1] == '3'))
			e -= 2;
		else if (e - s >= 4 && !strncmp(e - 4, "^{", 2) && (e[-2] == '2' || e[-2] == '3') &&
			 e[-1] == '}')
			e -= 4;
		char *w = e;
		while (w > s && is_alpha(w[-1]))
			w--;
		if (e - w < 2 || (w > s && w[-1] == '\\') || !unit_word(w, (size_t)(e - w)))
			break;
		cut = w;
		end = w;
	}
	if (!cut)
		return;
	char *b = cut;
	while (b > s && b[-1] == ' ')
		b--;
	if (b > s && (is_digit(b[-1]) || b[-1] == '}' || b[-1] == ')'))
		*b = '\0';
}

/* a single assignment "x = rhs" / "x \in rhs" -> rhs, the left side into lhs */
static void pass_assign(struct norm *n, char *lhs)
{
	char *s = cur(n);
	const char *p = s, *e;
	lhs[0] = '\0';
	while (*p == ' ')
		p++;
	e = p;
	if (*e == '\\')
		for (e++; is_alpha(*e); e++)
			;
	else if (is_alpha(*e))
		e++;
	size_t k = (size_t)(e - p);
	if (k == 0 || k >= LHS_MAX || (k > 1 && *p != '\\') || (*p == '\\' && k == 1))
		return;
	const char *q = e;
	while (*q == ' ')
		q++;
	if (*q == '=' && !strchr(q + 1, '=') && q[1] != '\0')
		q++;
	else if (starts(q, "\\in") && !is_alpha(q[3]))
		q += 3;
	else
		return;
	memcpy(lhs, p, k);
	lhs[k] = '\0';
	memmove(s, q, strlen(q) + 1);
}

/* the word "and" between items -> "," */
static void pass_and(struct norm *n)
{
	const char *in = cur(n);
	if (!strstr(in, "and"))
		return;
	struct sb o = next_out(n);
	for (const char *p = in; *p;) {
		if (starts(p, "and") && (p == in || (!is_alpha(p[-1]) && p[-1] != '\\')) &&
		    !is_alpha(p[3])) {
			sb_putc(&o, ',');
			p += 3;
		} else {
			sb_putc(&o, *p++);
		}
	}
	commit(n, &o);
}

/* infinity and a bare word "inf" -> \infty */
static void pass_inf(struct norm *n)
{
	replace(n, "infinity", "\\infty");
	const char *in = cur(n);
	if (n->failed || !strstr(in, "inf"))
		return;
	struct sb o = next_out(n);
	for (const char *p = in; *p;) {
		if (starts(p, "inf") && (p == in || (!is_alpha(p[-1]) && p[-1] != '\\')) &&
		    !is_alpha(p[3])) {
			sb_puts(&o, "\\infty");
			p += 3;
		} else {
			sb_putc(&o, *p++);
		}
	}
	commit(n, &o);
	replace(n, "+\\infty", "\\infty");
}

/* spaces dropped, runs of commas collapsed */
static void pass_spaces(struct norm *n)
{
	char *s = cur(n), *w = s;
	for (const char *p = s; *p; p++)
		if (*p != ' ' && !(*p == ',' && w > s && w[-1] == ','))
			*w++ = *p;
	*w = '\0';
}

/* \begin{array}{..} -> \begin{pmatrix}, bmatrix -> pmatrix */
static void pass_matrix(struct norm *n)
{
	char *s = cur(n), *p = strstr(s, "\\begin{array}{");
	if (p) {
		const char *e = brace_match(p + strlen("\\begin{array}"), 0);
		if (e) {
			struct sb o = next_out(n);
			sb_putn(&o, s, (size_t)(p - s));
			sb_puts(&o, "\\begin{pmatrix}");
			sb_puts(&o, e + 1);
			commit(n, &o);
		}
	}
	replace(n, "\\end{array}", "\\end{pmatrix}");
	replace(n, "bmatrix", "pmatrix");
}

/* ".5" -> "0.5"; decimal zeros: "2.50" -> "2.5", "3.0" -> "3", "3." -> "3" */
static void pass_decimals(struct norm *n)
{
	const char *in = cur(n);
	struct sb o = next_out(n);
	for (const char *p = in; *p;) {
		if (*p != '.') {
			sb_putc(&o, *p++);
			continue;
		}
		int lead = p > in && is_digit(p[-1]);
		const char *d = p + 1, *e = d;
		while (is_digit(*e))
			e++;
		if (!lead && e == d) {
			sb_putc(&o, *p++);
			continue;
		}
		const char *z = e;
		while (z > d && z[-1] == '0')
			z--;
		if (!lead)
			sb_putc(&o, '0');
		if (z > d || *e == '.') {
			sb_putc(&o, '.');
			sb_putn(&o, d, (size_t)(z - d));
		}
		p = e;
	}
	commit(n, &o);
}

/* the whole answer is one number with thousands separators: "1,000" -> "1000" */
static void pass_thousands(struct norm *n)
{
	char *s = cur(n), *p = s;
	if (*p == '-' || *p == '+')
		p++;
	int k = 0, groups = 0;
	while (is_digit(p[k]))
		k++;
	if (k < 1 || k > 3 || p[k] != ',')
		return;
	const char *q = p + k;
	while (*q == ',' && is_digit(q[1]) && is_digit(q[2]) && is_digit(q[3]) && !is_digit(q[4]))
		q += 4, groups++;
	if (*q == '.')
		for (q++; is_digit(*q); q++)
			;
	if (!groups || *q)
		return;
	char *w = s;
	for (const char *r = s; *r; r++)
		if (*r != ',')
			*w++ = *r;
	*w = '\0';
}

/* \sqrt2 -> \sqrt{2} */
static void pass_sqrt(struct norm *n)
{
	const char *in = cur(n);
	if (!strstr(in, "\\sqrt"))
		return;
	struct sb o = next_out(n);
	for (const char *p = in; *p;) {
		if (starts(p, "\\sqrt") && isalnum((unsigned char)p[5]) && !is_alpha(p[5])) {
			sb_puts(&o, "\\sqrt{");
			sb_putc(&o, p[5]);
			sb_putc(&o, '}');
			p += 6;
		} else {
			sb_putc(&o, *p++);
		}
	}
	commit(n, &o);
}

/* one \frac argument at p: a {group} or one alphanumeric character; its end, or NULL */
static const char *frac_arg(const char *p, const char **b, const char **e)
{
	if (*p == '{') {
		const char *m = brace_match(p, 0);
		if (!m)
			return NULL;
		*b = p + 1, *e = m;
		return m + 1;
	}
	if (!isalnum((unsigned char)*p))
		return NULL;
	*b = p, *e = p + 1;
	return p + 1;
}

/* \frac12, \frac1{72}, \frac{a}b -> \frac{1}{2}, ... */
static void pass_frac(struct norm *n)
{
	const char *in = cur(n);
	if (!strstr(in, "\\frac"))
		return;
	struct sb o = next_out(n);
	for (const char *p = in; *p;) {
		const char *ab, *ae, *bb, *be, *q = NULL;
		if (starts(p, "\\frac") && !is_alpha(p[5]) && (q = frac_arg(p + 5, &ab, &ae)) &&
		    (q = frac_arg(q, &bb, &be))) {
			sb_puts(&o, "\\frac{");
			sb_putn(&o, ab, (size_t)(ae - ab));
			sb_puts(&o, "}{");
			sb_putn(&o, bb, (size_t)(be - bb));
			sb_putc(&o, '}');
			p = q;
		} else {
			sb_putc(&o, *p++);
		}
	}
	commit(n, &o);
}

/* the whole answer "a/b" of integers -> \frac{a}{b} (a sign in front) */
static void pass_slash(struct norm *n)
{
	const char *s = cur(n), *p = s, *a, *b;
	if (*p == '-' || *p == '+')
		p++;
	for (a = p; is_digit(*p); p++)
		;
	if (p == a || *p != '/')
		return;
	for (b = ++p; is_digit(*p); p++)
		;
	if (p == b || *p)
		return;
	struct sb o = next_out(n);
	if (*s == '-')
		sb_putc(&o, '-');
	sb_puts(&o, "\\frac{");
	sb_putn(&o, a, (size_t)(b - 1 - a));
	sb_puts(&o, "}{");
	sb_puts(&o, b);
	sb_putc(&o, '}');
	commit(n, &o);
}

/* end of the bracket group opened at s[0] (any of ([{ closes any of )]}), or NULL */
static const char *group_end(const char *s, const char *end)
{
	int depth = 0;
	for (const char *p = s; p < end; p++) {
		if (is_open(*p))
			depth++;
		else if (is_close(*p) && --depth == 0)
			return p;
	}
	return NULL;
}

/* the top-level commas of s[0..len) (brackets of every kind nest) */
static int has_top_comma(const char *s, size_t len)
{
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		depth += is_open(s[i]) - is_close(s[i]);
		if (depth == 0 && s[i] == ',')
			return 1;
	}
	return 0;
}

/* "{5}" -> "5": a whole {group} that is not a set */
static void pass_outer_braces(struct norm *n)
{
	char *s = cur(n);
	size_t len;
	while ((len = strlen(s)) > 2 && s[0] == '{' && brace_match(s, 0) == s + len - 1 &&
	       !has_top_comma(s + 1, len - 2)) {
		memmove(s, s + 1, len - 2);
		s[len - 2] = '\0';
	}
}

static int normalize_full(const char *s, char *out, size_t cap, char *lhs)
{
	static const char *const early[][2] = {
		{ "\\!", "" }, { "\\,", "" }, { "\\;", "" }, { "\\:", "" }, { "\\ ", " " },
		{ "~", " " }, { "\\displaystyle", "" }, { "{,}", "," }, { "\\dfrac", "\\frac" },
		{ "\\tfrac", "\\frac" }, { "\\neq", "\\ne" }, { "\\leq", "\\le" }, { "\\geq", "\\ge" },
		{ "\\left", "" }, { "\\right", "" }, { "\\{", "{" }, { "\\}", "}" },
	};
	static const char *const drops[] = {
		"^{\\circ}", "^\\circ", "\\circ", "\\degree", "\xc2\xb0", "\\$", "$", "\\(", "\\)",
		"\\%", "%",
	};
	struct norm buf, *n = &buf;
	lhs[0] = '\0';
	if (pass_load(n, s))
		return -1;
	for (size_t i = 0; i < sizeof(early) / sizeof(early[0]); i++)
		replace(n, early[i][0], early[i][1]);
	if (!n->failed)
		pass_trailing_text(n);
	if (!n->failed)
		pass_unwrap(n);
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		replace(n, drops[i], "");
	if (n->failed)
		return -1;
	pass_units(n);
	pass_assign(n, lhs);
	pass_and(n);
	replace(n, "\\emptyset", "{}");
	replace(n, "\\varnothing", "{}");
	pass_inf(n);
	if (n->failed)
		return -1;
	pass_spaces(n);
	replace(n, "(-\\infty,\\infty)", "\\mathbb{R}");
	pass_matrix(n);
	if (!n->failed)
		pass_decimals(n);
	if (n->failed)
		return -1;
	pass_thousands(n);
	pass_sqrt(n);
	if (!n->failed)
		pass_frac(n);
	if (!n->failed)
		pass_slash(n);
	if (n->failed)
		return -1;
	pass_outer_braces(n);
	size_t len = strlen(cur(n));
	if (len >= cap || len >= MATH_TEXT_MAX)
		return -1;
	memcpy(out, cur(n), len + 1);
	return (int)len;
}

int math_normalize(const char *s, char *out, size_t cap)
{
	char lhs[LHS_MAX];
	return normalize_full(s, out, cap, lhs);
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
	int ga = la >= 2 && is_open(a[0]) && group_end(a, a + la) == a + la - 1;
	int gb = lb >= 2 && is_open(b[0]) && group_end(b, b + lb) == b + lb - 1;
	if (ga && gb) {
		if (a[0] != b[0] || a[la - 1] != b[lb - 1])
			return 0;
		return split_equal((struct span){ a + 1, la - 2 }, (struct span){ b + 1, lb - 2 },
				   ",", a[0] != '{', depth);
	}
	if (ga || gb || !has_top_comma(a, la) || !has_top_comma(b, lb))
		return 0;
	return split_equal((struct span){ a, la }, (struct span){ b, lb }, ",", 0, depth);
}

/* both trimmed of whitespace and trailing '.', byte for byte */
static int trimmed_equal(const char *a, const char *b)
{
	const char *ab = a, *ae = a + strlen(a), *bb = b, *be = b + strlen(b);
	trim_span(&ab, &ae);
	trim_span(&bb, &be);
	return ae - ab == be - bb && !memcmp(ab, bb, (size_t)(ae - ab));
}

static int equal_depth(const char *a, const char *b, int depth)
{
	char na[MATH_TEXT_MAX], nb[MATH_TEXT_MAX], la[LHS_MAX], lb[LHS_MAX];
	if (normalize_full(a, na, sizeof(na), la) < 0 || normalize_full(b, nb, sizeof(nb), lb) < 0)
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
