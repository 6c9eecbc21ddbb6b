/*
 * task_expr.c - recursive-descent evaluation of + - * / ( ) over decimal integers (see
 * task_expr.h). The first error sticks in the parser and every level returns at once; nesting is
 * counted so recursion never goes deeper than about 3 * EXPR_DEPTH_MAX frames.
 */
#include "attnrl/task_expr.h"

#include <math.h>
#include <string.h>

struct parser {
	const char *s, *end;
	int depth;
	enum expr_status st;
	struct expr_result *out;
};

static double parse_expr(struct parser *p);

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* the next non-space character, or -1 at the end */
static int peek(struct parser *p)
{
	while (p->s < p->end && is_space((unsigned char)*p->s))
		p->s++;
	return p->s < p->end ? (unsigned char)*p->s : -1;
}

static double fail(struct parser *p, enum expr_status st)
{
	if (p->st == EXPR_OK)
		p->st = st;
	return 0.0;
}

static double parse_number(struct parser *p)
{
	const char *start = p->s;
	int64_t v = 0;
	while (p->s < p->end && *p->s >= '0' && *p->s <= '9') {
		if (p->s - start >= EXPR_DIGITS_MAX)
			return fail(p, EXPR_ERR_NUMBER);
		v = v * 10 + (*p->s++ - '0');
	}
	if (*start == '0' && p->s - start > 1)
		return fail(p, EXPR_ERR_NUMBER);
	if (p->out->n_numbers >= EXPR_NUMBERS_MAX)
		return fail(p, EXPR_ERR_COUNT);
	p->out->numbers[p->out->n_numbers++] = v;
	return (double)v;
}

static double parse_factor(struct parser *p)
{
	int c = peek(p);
	if (c >= '0' && c <= '9')
		return parse_number(p);
	if (c != '(')
		return fail(p, EXPR_ERR_SYNTAX);
	if (++p->depth > EXPR_DEPTH_MAX)
		return fail(p, EXPR_ERR_DEPTH);
	p->s++;
	double v = parse_expr(p);
	if (p->st != EXPR_OK)
		return 0.0;
	if (peek(p) != ')')
		return fail(p, EXPR_ERR_SYNTAX);
	p->s++;
	p->depth--;
	return v;
}

static double parse_term(struct parser *p)
{
	double v = parse_factor(p);
	for (int c = peek(p); p->st == EXPR_OK && (c == '*' || c == '/'); c = peek(p)) {
		p->s++;
		double r = parse_factor(p);
		if (p->st != EXPR_OK)
			break;
		if (c == '/' && r == 0.0)
			return fail(p, EXPR_ERR_DIV_ZERO);
		v = c == '*' ? v * r : v / r;
	}
	return v;
}

static double parse_expr(struct parser *p)
{
	double v = parse_term(p);
	for (int c = peek(p); p->st == EXPR_OK && (c == '+' || c == '-'); c = peek(p)) {
		p->s++;
		double r = parse_term(p);
		v = c == '+' ? v + r : v - r;
	}
	return v;
}

static int all_allowed(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!s[i] || (!strchr("0123456789+-*/()", s[i]) && !is_space((unsigned char)s[i])))
			return 0;
	return 1;
}

enum expr_status expr_eval(const char *s, size_t len, struct expr_result *out)
{
	struct parser p = { s, s + len, 0, EXPR_OK, out };
	memset(out, 0, sizeof(*out));
	if (!all_allowed(s, len))
		return EXPR_ERR_CHAR;
	out->value = parse_expr(&p);
	if (p.st == EXPR_OK && peek(&p) != -1)
		p.st = EXPR_ERR_SYNTAX;
	if (p.st == EXPR_OK && !isfinite(out->value))
		p.st = EXPR_ERR_RANGE;
	return p.st;
}

const char *expr_strerror(enum expr_status st)
{
	switch (st) {
	case EXPR_OK: return "ok";
	case EXPR_ERR_CHAR: return "character outside 0-9 + - * / ( ) and spaces";
	case EXPR_ERR_SYNTAX: return "syntax error";
	case EXPR_ERR_NUMBER: return "number with a leading zero or too many digits";
	case EXPR_ERR_COUNT: return "too many numbers";
	case EXPR_ERR_DEPTH: return "parentheses nested too deep";
	case EXPR_ERR_DIV_ZERO: return "division by zero";
	case EXPR_ERR_RANGE: return "non-finite value";
	}
	return "unknown error";
}
