/*
 * task_arith.c - TASK_ARITH: left-to-right chains of + and - (see task.h). Each step is
 * redrawn until its result stays in [0, TASK_ARITH_VALUE_MAX], so the model never needs a
 * sign or a fourth digit. Verification is a string comparison with the canonical result.
 */
#include "task_kinds.h"

#include <string.h>

static int arith_step(struct rng *r, int max_operand, long v, char *op, int *b)
{
	long next;
	do {
		*op = rng_range(r, 0, 1) ? '+' : '-';
		*b = (int)rng_range(r, 1, max_operand);
		next = *op == '+' ? v + *b : v - *b;
	} while (next < 0 || next > TASK_ARITH_VALUE_MAX);
	return (int)next;
}

/* "12+34-7=" and "12+34=46,46-7=39.<answer>39</answer>" from numbers and ops */
static int arith_format(struct task_example *ex)
{
	size_t pl = 0, sl = 0, n = sizeof(ex->prompt);
	long v = ex->numbers[0];
	int rc = task_appendf(ex->prompt, n, &pl, "%d", ex->numbers[0]);
	for (int i = 1; i < ex->n_numbers && !rc; i++) {
		int b = ex->numbers[i];
		long next = ex->ops[i - 1] == '+' ? v + b : v - b;
		rc = task_appendf(ex->prompt, n, &pl, "%c%d", ex->ops[i - 1], b) ||
		     task_appendf(ex->solution, n, &sl, "%ld%c%d=%ld%c", v, ex->ops[i - 1], b, next,
				  i + 1 < ex->n_numbers ? ',' : '.');
		v = next;
	}
	ex->target = v;
	rc = rc || task_appendf(ex->prompt, n, &pl, "=");
	rc = rc || task_appendf(ex->solution, n, &sl, "<answer>%ld</answer>", v);
	size_t al = 0;
	return rc || task_appendf(ex->answer, sizeof(ex->answer), &al, "%ld", v);
}

static int arith_draw(const struct task_params *p, struct rng *r, struct task_example *ex)
{
	int n_ops = (int)rng_range(r, p->min_ops, p->max_ops);
	int v = (int)rng_range(r, 1, p->max_operand);
	ex->numbers[0] = v;
	for (int i = 0; i < n_ops; i++)
		v = arith_step(r, p->max_operand, v, &ex->ops[i], &ex->numbers[i + 1]);
	ex->n_numbers = n_ops + 1;
	return arith_format(ex) ? -1 : 0;
}

static void arith_key(const struct task_example *ex, char *key, size_t n)
{
	size_t len = 0;
	if (n)
		key[0] = '\0';
	task_appendf(key, n, &len, "%s", ex->prompt);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static double arith_reward(const struct task_example *ex, const char *response, int *correct)
{
	const char *a;
	size_t len;
	*correct = 0;
	if (!task_answer_find(response, &a, &len))
		return 0.0;
	while (len && is_space(*a))
		a++, len--;
	while (len && is_space(a[len - 1]))
		len--;
	*correct = len == strlen(ex->answer) && memcmp(a, ex->answer, len) == 0;
	return *correct ? 1.0 : 0.0;
}

const struct task_ops task_arith_ops = {
	.name = "arith",
	.defaults = { .min_ops = 1, .max_ops = 3, .max_operand = 50 },
	.ops_max = TASK_ARITH_OPS_MAX,
	.operand_max = TASK_ARITH_VALUE_MAX,
	.draw = arith_draw,
	.key = arith_key,
	.reward = arith_reward,
};
