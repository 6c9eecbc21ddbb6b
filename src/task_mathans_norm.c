/*
 * task_mathans_norm.c - the answer normalisation of task_mathans.h: a fixed sequence of text passes
 * over two ping-pong buffers of NORM_CAP bytes on the stack (a pass may grow the text a
 * little: "\frac12" -> "\frac{1}{2}"); a pass that would overflow fails the normalisation.
 */
#include "task_mathans_internal.h"

#define NORM_CAP (4 * MATH_TEXT_MAX)

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

/* the '}' matching the '{' at p, or NULL; escape: a backslash hides the next character */
const char *mathans_brace_match(const char *p, int escape)
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

void mathans_trim_span(const char **b, const char **e)
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
	mathans_trim_span(&b, &e);
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
			const char *e = mathans_brace_match(p + strlen(cmds[c]) - 1, 0);
			if (e != s + len - 1)
				continue;
			const char *b = s, *pe = p;
			mathans_trim_span(&b, &pe);
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
			if (strncmp(in + i, cmds[c], k) || !(e = mathans_brace_match(in + i + k - 1, 0)))
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
	if (k == 0 || k >= MATHANS_LHS_MAX || (k > 1 && *p != '\\') || (*p == '\\' && k == 1))
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
		const char *e = mathans_brace_match(p + strlen("\\begin{array}"), 0);
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
		const char *m = mathans_brace_match(p, 0);
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
const char *mathans_group_end(const char *s, const char *end)
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
int mathans_has_top_comma(const char *s, size_t len)
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
	while ((len = strlen(s)) > 2 && s[0] == '{' && mathans_brace_match(s, 0) == s + len - 1 &&
	       !mathans_has_top_comma(s + 1, len - 2)) {
		memmove(s, s + 1, len - 2);
		s[len - 2] = '\0';
	}
}

int mathans_normalize_full(const char *s, char *out, size_t cap, char *lhs)
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
	char lhs[MATHANS_LHS_MAX];
	return mathans_normalize_full(s, out, cap, lhs);
}
