/*
 * task_math.c - TASK_MATH (see task.h): problems come from a JSONL dataset (data_jsonl.h, served
 * by data.c), so there is no generator; the verifier is task_mathans.h's \boxed{} checker.
 */
#include "task_kinds.h"

#include "attnrl/task_mathans.h"

#include <string.h>

static void math_key(const struct task_example *ex, char *key, size_t n)
{
	size_t len = 0;
	if (n)
		key[0] = '\0';
	task_appendf(key, n, &len, "%s", ex->prompt);
}

static double math_task_reward(const struct task_example *ex, const char *response, int *correct)
{
	return math_reward(response, ex->answer, correct);
}

const struct task_ops task_math_ops = {
	.name = "math",
	.defaults = { .min_ops = 1, .max_ops = 1, .max_operand = 1 },
	.ops_max = 1,
	.operand_max = 1,
	.draw = NULL,
	.key = math_key,
	.reward = math_task_reward,
};
