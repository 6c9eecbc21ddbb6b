/*
 * task_expr.h - a safe evaluator of arithmetic answers (the countdown verifier's parser).
 *
 * Grammar (whitespace between tokens is ignored):
 *   expr   = term   { ("+" | "-") term }
 *   term   = factor { ("*" | "/") factor }
 *   factor = number | "(" expr ")"
 *   number = "0" | [1-9][0-9]*          (at most EXPR_DIGITS_MAX digits)
 * No unary minus or plus, no "**" or "//", no decimals or exponents: any other character is an
 * error. Values are doubles; a division by exactly zero is an error. Parentheses nest at most
 * EXPR_DEPTH_MAX deep, so hostile input cannot exhaust the stack, and numbers have at most
 * EXPR_DIGITS_MAX digits, so every value is finite and every number fits an int64_t.
 */
#ifndef ATTNRL_TASK_EXPR_H
#define ATTNRL_TASK_EXPR_H

#include <stddef.h>
#include <stdint.h>

#define EXPR_DEPTH_MAX 64
#define EXPR_DIGITS_MAX 15
#define EXPR_NUMBERS_MAX 16

enum expr_status {
	EXPR_OK = 0,
	EXPR_ERR_CHAR,     /* a character other than 0-9 + - * / ( ) and whitespace */
	EXPR_ERR_SYNTAX,   /* misplaced token, unbalanced parenthesis, empty input */
	EXPR_ERR_NUMBER,   /* a leading zero or more than EXPR_DIGITS_MAX digits */
	EXPR_ERR_COUNT,    /* more than EXPR_NUMBERS_MAX numbers */
	EXPR_ERR_DEPTH,    /* parentheses nested deeper than EXPR_DEPTH_MAX */
	EXPR_ERR_DIV_ZERO,
	EXPR_ERR_RANGE,    /* a non-finite result */
};

struct expr_result {
	double value;
	int64_t numbers[EXPR_NUMBERS_MAX]; /* the numbers in the order they appear */
	int n_numbers;
};

/* evaluates s[0..len) (no NUL needed); EXPR_OK or the first error met */
enum expr_status expr_eval(const char *s, size_t len, struct expr_result *out);
const char *expr_strerror(enum expr_status st);

#endif
