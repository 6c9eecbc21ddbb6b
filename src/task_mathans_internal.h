/*
 * task_mathans_internal.h - private to the math answer checker: the character classes both files
 * use and the normaliser's entry points (task_mathans.c: extraction and equivalence;
 * task_mathans_norm.c: the normalisation passes).
 */
#ifndef ATTNRL_TASK_MATHANS_INTERNAL_H
#define ATTNRL_TASK_MATHANS_INTERNAL_H

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "attnrl/task_mathans.h"

#define MATHANS_LHS_MAX 32 /* the left side of an assignment, "x" or "\theta" */

static inline int is_alpha(char c)
{
	return isalpha((unsigned char)c);
}

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline int is_open(char c)
{
	return c == '(' || c == '[' || c == '{';
}

static inline int is_close(char c)
{
	return c == ')' || c == ']' || c == '}';
}

static inline int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* the '}' matching the '{' at p, or NULL; escape: a backslash hides the next character */
const char *mathans_brace_match(const char *p, int escape);
/* *b..*e without surrounding whitespace and trailing '.' */
void mathans_trim_span(const char **b, const char **e);
/* end of the bracket group opened at s[0] (any of ([{ closes any of )]}), or NULL */
const char *mathans_group_end(const char *s, const char *end);
/* 1 when s[0..len) has a comma outside every bracket */
int mathans_has_top_comma(const char *s, size_t len);
/* s normalised into out; a single assignment's left side into lhs (MATHANS_LHS_MAX), else "" */
int mathans_normalize_full(const char *s, char *out, size_t cap, char *lhs);

#endif
