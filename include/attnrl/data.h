/*
 * data.h - where prompts come from: the task's seeded generator (train split in a fixed order
 * with a cursor, the held-out split by index), encoded for the model (BOS first).
 */
#ifndef ATTNRL_DATA_H
#define ATTNRL_DATA_H

#include <stdint.h>

#include "attnrl/config.h"
#include "attnrl/task.h"
#include "attnrl/tokenizer.h"

#define DATA_PROMPT_MAX 512 /* tokens */

struct data {
	enum task_kind kind;
	struct task_params tp;
	uint64_t seed;
	int64_t cursor;      /* next train example */
	int eval_size;
	const struct tokenizer *tok;
};

int data_init(struct data *d, const struct config *c, const struct tokenizer *tok, char *err, size_t n);
/* BOS + the prompt's tokens into ids (max entries); the count, or -1 with err */
int data_encode(const struct data *d, const char *text, int32_t *ids, int max, char *err, size_t n);
/* the next train example (advances the cursor) or held-out example i */
int data_next_train(struct data *d, struct task_example *ex);
int data_eval_example(const struct data *d, int64_t i, struct task_example *ex);

#endif
