/*
 * task_countdown.c - TASK_COUNTDOWN with TinyZero's rules (see task.h).
 *
 * Generator: draw the numbers, then combine two random items with a random valid operation
 * until one is left; every intermediate value is an integer (division only when exact) of
 * magnitude <= CD_VALUE_MAX, so int64_t never overflows and the worked steps stay short. The
 * final value is the target when it lies in [1, TASK_COUNTDOWN_TARGET_MAX], else the draw
 * fails. Verifier: task_expr.h's parser (binary operators only, bounded depth, bounded digits),
 * then the multiset of numbers used, then the value.
 */
#include "task_kinds.h"

#include "attnrl/task_expr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CD_VALUE_MAX 1000000
#define CD_EXPR_MAX 96
#define CD_FORMAT_REWARD 0.1

struct cd_item {
	int64_t v;
	int leaf;
	char text[CD_EXPR_MAX]; /* without outer parentheses */
};

/* a uniformly chosen operation valid for a op b, or 0 for none */
static char cd_pick_op(struct rng *r, int64_t a, int64_t b)
{
	char valid[4];
	int n = 0;
	valid[n++] = '+';
	valid[n++] = '-';
	if (llabs(a * b) <= CD_VALUE_MAX)
		valid[n++] = '*';
	if (b != 0 && a % b == 0)
		valid[n++] = '/';
	return valid[rng_range(r, 0, n - 1)];
}

static int64_t cd_apply(char op, int64_t a, int64_t b)
{
	return op == '+' ? a + b : op == '-' ? a - b : op == '*' ? a * b : a / b;
}

/* x op y into x (y is then dropped): its text, value and one worked step in think */
static int cd_combine(struct cd_item *x, const struct cd_item *y, char op, char *think,
		      size_t *tl)
{
	char text[CD_EXPR_MAX];
	size_t len = 0;
	int64_t v = cd_apply(op, x->v, y->v);
	if (llabs(v) > CD_VALUE_MAX)
		return -1;
	if (task_appendf(text, sizeof(text), &len, x->leaf ? "%s %c " : "(%s) %c ", x->text, op) ||
	    task_appendf(text, sizeof(text), &len, y->leaf ? "%s" : "(%s)", y->text) ||
	    task_appendf(think, TASK_TEXT_MAX, tl, "%s%lld %c %lld = %lld", *tl ? ", " : "",
			 (long long)x->v, op, (long long)y->v, (long long)v))
		return -1;
	memcpy(x->text, text, len + 1);
	x->v = v;
	x->leaf = 0;
	return 0;
}

/* a random expression tree over it[0..n): the root ends in it[0] */
static int cd_build(struct rng *r, struct cd_item *it, int n, char *think, size_t *tl)
{
	for (int m = n; m > 1; m--) {
		int i = (int)rng_range(r, 0, m - 1), j = (int)rng_range(r, 0, m - 2);
		j += j >= i;
		char op = cd_pick_op(r, it[i].v, it[j].v);
		if (cd_combine(&it[i], &it[j], op, think, tl))
			return -1;
		if (j != m - 1)
			it[j] = it[m - 1];
	}
	return 0;
}

static int cd_format(struct task_example *ex, const struct cd_item *root, const char *think)
{
	size_t pl = 0, sl = 0, al = 0, n = sizeof(ex->prompt);
	int rc = task_appendf(ex->prompt, n, &pl, "Using the numbers [");
	for (int i = 0; i < ex->n_numbers && !rc; i++)
		rc = task_appendf(ex->prompt, n, &pl, "%s%d", i ? ", " : "", ex->numbers[i]);
	rc = rc || task_appendf(ex->prompt, n, &pl,
				"], create an equation that equals %ld. You can use basic "
				"arithmetic operations (+, -, *, /) and each number can only be "
				"used once. Show your work in <think> </think> tags. And return "
				"the final answer in <answer> </answer> tags, for example "
				"<answer> (1 + 2) / 3 </answer>.", ex->target);
	rc = rc || task_appendf(ex->solution, n, &sl, "<think>%s.</think><answer>%s</answer>",
				think, root->text);
	return rc || task_appendf(ex->answer, sizeof(ex->answer), &al, "%s", root->text);
}

static int cd_draw(const struct task_params *p, struct rng *r, struct task_example *ex)
{
	struct cd_item it[TASK_NUMBERS_MAX];
	char think[TASK_TEXT_MAX];
	size_t tl = 0;
	ex->n_numbers = (int)rng_range(r, p->min_ops + 1, p->max_ops + 1);
	for (int i = 0; i < ex->n_numbers; i++) {
		ex->numbers[i] = (int)rng_range(r, 1, p->max_operand);
		it[i].v = ex->numbers[i];
		it[i].leaf = 1;
		snprintf(it[i].text, sizeof(it[i].text), "%d", ex->numbers[i]);
	}
	think[0] = '\0';
	if (cd_build(r, it, ex->n_numbers, think, &tl))
		return -1;
	if (it[0].v < 1 || it[0].v > TASK_COUNTDOWN_TARGET_MAX)
		return -1;
	ex->target = (long)it[0].v;
	return cd_format(ex, &it[0], think) ? -1 : 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void cd_sorted(const struct task_example *ex, int64_t *out)
{
	for (int i = 0; i < ex->n_numbers; i++)
		out[i] = ex->numbers[i];
	qsort(out, (size_t)ex->n_numbers, sizeof(*out), cmp_i64);
}

static void cd_key(const struct task_example *ex, char *key, size_t n)
{
	int64_t sorted[TASK_NUMBERS_MAX];
	size_t len = 0;
	if (n)
		key[0] = '\0';
	cd_sorted(ex, sorted);
	for (int i = 0; i < ex->n_numbers; i++)
		task_appendf(key, n, &len, "%s%lld", i ? "," : "", (long long)sorted[i]);
	task_appendf(key, n, &len, "=%ld", ex->target);
}

/* 1 when the answer uses exactly the given numbers, each once, and equals the target */
static int cd_answer_ok(const struct task_example *ex, const char *a, size_t len)
{
	struct expr_result res;
	int64_t want[TASK_NUMBERS_MAX];
	if (expr_eval(a, len, &res) != EXPR_OK || res.n_numbers != ex->n_numbers)
		return 0;
	cd_sorted(ex, want);
	qsort(res.numbers, (size_t)res.n_numbers, sizeof(res.numbers[0]), cmp_i64);
	for (int i = 0; i < ex->n_numbers; i++)
		if (res.numbers[i] != want[i])
			return 0;
	return fabs(res.value - (double)ex->target) < 1e-5;
}

static double cd_reward(const struct task_example *ex, const char *response, int *correct)
{
	const char *a;
	size_t len;
	*correct = 0;
	if (!task_answer_find(response, &a, &len))
		return 0.0;
	*correct = cd_answer_ok(ex, a, len);
	return *correct ? 1.0 : CD_FORMAT_REWARD;
}

const struct task_ops task_countdown_ops = {
	.name = "countdown",
	.defaults = { .min_ops = 2, .max_ops = 3, .max_operand = 100 },
	.ops_max = TASK_NUMBERS_MAX - 1,
	.operand_max = 999,
	.draw = cd_draw,
	.key = cd_key,
	.reward = cd_reward,
};
