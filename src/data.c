/* data.c - prompts from the task generators (see data.h). */
#include "attnrl/data.h"

#include <stdio.h>
#include <string.h>

int data_init(struct data *d, const struct config *c, const struct tokenizer *tok, char *err, size_t n)
{
	memset(d, 0, sizeof(*d));
	if (c->data.path[0]) {
		snprintf(err, n, "data.path: JSONL datasets are not supported yet; leave it empty to use "
			 "the '%s' generator", c->data.task);
		return -1;
	}
	if (task_kind_parse(c->data.task, &d->kind)) {
		snprintf(err, n, "data.task: unknown task '%s'", c->data.task);
		return -1;
	}
	task_params_default(d->kind, &d->tp);
	d->tp.min_ops = (int)c->data.min_ops;
	d->tp.max_ops = (int)c->data.max_ops;
	d->tp.max_operand = (int)c->data.max_operand;
	if (task_params_check(d->kind, &d->tp, err, n))
		return -1;
	d->seed = (uint64_t)c->data.seed;
	d->eval_size = (int)c->data.eval_size;
	d->tok = tok;
	return 0;
}

int data_encode(const struct data *d, const char *text, int32_t *ids, int max, char *err, size_t n)
{
	if (max < 2)
		return -1;
	ids[0] = d->tok->bos_id;
	int k = tokenizer_encode(d->tok, text, ids + 1, max - 1);
	if (k < 0) {
		snprintf(err, n, "data: prompt \"%.40s...\" does not fit in %d tokens or has a character "
			 "outside the vocabulary", text, max);
		return -1;
	}
	return k + 1;
}

int data_next_train(struct data *d, struct task_example *ex)
{
	return task_example_get(d->kind, &d->tp, d->seed, TASK_TRAIN, d->cursor++, ex);
}

int data_eval_example(const struct data *d, int64_t i, struct task_example *ex)
{
	return task_example_get(d->kind, &d->tp, d->seed, TASK_EVAL, i, ex);
}
