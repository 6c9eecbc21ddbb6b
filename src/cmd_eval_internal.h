/*
 * cmd_eval_internal.h - private to `attnrl eval`: the parsed arguments and the responses'
 * verdicts that cmd_eval.c gathers and cmd_eval_report.c prints (table, JSON) and labels.
 */
#ifndef ATTNRL_CMD_EVAL_INTERNAL_H
#define ATTNRL_CMD_EVAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "attnrl/args.h"
#include "attnrl/config.h"
#include "attnrl/data.h"
#include "attnrl/rollout.h"

/* --preset aime: avg@16 at temperature 1.0, top-p 0.7 (DAPO's validation sampling; docs/method.md
 * names avg@16 but not the sampling) */
#define EVAL_AIME_K 16
#define EVAL_AIME_TEMPERATURE 1.0
#define EVAL_AIME_TOP_P 0.7

struct eval_args {
	const char *model, *data, *tokenizer, *by, *json, *preset;
	const char *temperature, *top_p, *max_new, *seed; /* set as config keys */
	int responses;        /* --responses: the texts go into the JSON */
	struct args_list cfg; /* CONFIG files and overrides (files are applied first) */
	long k, limit, batch; /* k: --k (0: not given) until eval_sampling, then eval.k; limit
				 0: all */
	char weights[4096];   /* a run's weights, or "" */
	int weights_over;     /* 1: loaded over the model the run started from */
};

/* N problems x K responses, response b = problem * K + j */
struct eval_run {
	int n, n_skipped;
	long k;
	char **labels;      /* (N) --by's value of each problem, or NULL */
	char *correct;      /* (N, K) */
	float *reward;      /* (N, K) */
	int *resp_len;      /* (N, K) tokens */
	char **text;        /* (N, K) with --responses, else NULL */
	double seconds;
	long tokens;
};

/* the --by field of every problem's row in path (re-read; rows in d's file order) */
int eval_labels(struct eval_run *r, const struct data *d, const char *path, const char *field,
		char *err, size_t n);
/* the table on stdout, and the JSON file when asked */
int eval_report(const struct eval_run *r, const struct eval_args *a, const struct config *c,
		const struct data *d, char *err, size_t n);

#endif
