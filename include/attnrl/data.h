/*
 * data.h - where prompts come from, and how they reach the model.
 *
 * arith, countdown: the task's seeded generator; train example i is task_example_get(seed,
 * TASK_TRAIN, cursor), held-out example i is task_example_get(seed, TASK_EVAL, i).
 * math, mcq, and countdown with data.path set: a JSONL dataset (data_jsonl.h; countdown rows
 * carry "nums" and "target", as `attnrl countdown-data` writes them). With data.eval_path empty, the rows of data.path whose
 * question hashes to bucket 0 of TASK_EVAL_BUCKETS are held out and the rest train; with it
 * set, all of data.path trains and all of data.eval_path is held out. Train order: epoch
 * e = cursor / n_train visits the train rows in a permutation seeded by (data.seed, e), so
 * the order is a pure function of (data.seed, cursor) and wraps around epochs. Held-out
 * example i is the i-th held-out row in file order; data.eval_size caps how many are used.
 * Rows whose rendered prompt does not fit in prompt_max tokens (model.max_seq_len -
 * rollout.max_new_tokens, at most DATA_PROMPT_MAX), or that the tokenizer cannot encode (the
 * character vocabulary has no "’"), or whose question / answer exceed task_example's
 * buffers, are skipped once at data_init with one warning line that counts them (not an
 * error: real files have a few such rows; an error when none is left).
 *
 * Every task's prompt goes through data.template (data_template.h); "plain" is the question
 * itself. data_encode prepends bos_id when the tokenizer asks for it (add_bos) and the
 * rendered text does not already start with it (llama3-chat begins with <|begin_of_text|>).
 *
 * With reward.command set, data_init and data_init_eval also start its workers (d->reward,
 * ended by data_free); reward_score then scores responses through them.
 */
#ifndef ATTNRL_DATA_H
#define ATTNRL_DATA_H

#include <stdint.h>
#include <stdio.h>

#include "attnrl/config.h"
#include "attnrl/data_jsonl.h"
#include "attnrl/data_template.h"
#include "attnrl/reward.h"
#include "attnrl/task.h"
#include "attnrl/tokenizer.h"

#define DATA_PROMPT_MAX 2048 /* tokens */

struct data {
	enum task_kind kind;
	struct task_params tp;
	uint64_t seed;
	int64_t cursor;      /* next train example */
	int eval_size;       /* held-out examples evaluated: data.eval_size, at most n_eval (math) */
	const struct tokenizer *tok;
	struct template tpl;
	/* data.task=math */
	struct dataset train_set, eval_set;     /* eval_set is empty without data.eval_path */
	const struct dataset_row **train, **eval; /* (n_train), (n_eval) rows used, file order */
	int n_train, n_eval;
	int prompt_max;                         /* tokens a rendered prompt may take */
	int n_skipped;                          /* rows left out at init */
	int n_solutions;                        /* train rows with a worked solution */
	int64_t *perm, perm_epoch;              /* (n_train) the order of epoch perm_epoch */
	double format_weight;                   /* data.format_reward */
	int from_file;                          /* problems from JSONL files (math, mcq, and
						 * countdown when data.path is set) */
	struct reward *reward;                  /* reward.command's workers, or NULL (reward.h) */
};

int data_init(struct data *d, const struct config *c, const struct tokenizer *tok, char *err, size_t n);
/* held-out problems only, every row of the JSONL file path (data.task=math, mcq or countdown;
 * `attnrl eval`):
 * no train rows, data.eval_size caps the count */
int data_init_eval(struct data *d, const struct config *c, const struct tokenizer *tok,
		   const char *path, char *err, size_t n);
void data_free(struct data *d);
/* one line on the rows a dataset gave (data.task=math; nothing for the generators) */
void data_print(const struct data *d, const struct config *c, FILE *f);
/* the prompt of text (the template applied, BOS first when due) into ids (max entries); the
 * count, or -1 with err */
int data_encode(const struct data *d, const char *text, int32_t *ids, int max, char *err, size_t n);
/* the next train example (advances the cursor) or held-out example i: 0, or -1 */
int data_next_train(struct data *d, struct task_example *ex);
int data_eval_example(const struct data *d, int64_t i, struct task_example *ex);
/* the task's reward of a response plus data.format_reward x task_format_ok; *correct (may be
 * NULL) is the task's verdict alone */
double data_reward(const struct data *d, const struct task_example *ex, const char *response,
		   int *correct);

#endif
