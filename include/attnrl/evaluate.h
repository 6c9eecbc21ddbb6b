/*
 * evaluate.h - held-out accuracy: greedy (or sampled) responses to the task's eval split,
 * scored by the task's verifier. Runs on the decode engine; no torch.
 */
#ifndef ATTNRL_EVALUATE_H
#define ATTNRL_EVALUATE_H

#include "attnrl/data.h"
#include "attnrl/rollout.h"

struct eval_result {
	int n, correct;
	double accuracy, reward_mean, response_len_mean, seconds;
};

/* the first n problems of the eval split, batches of at most max_batch, greedy when
 * p->temperature == 0 */
int evaluate(struct rollout *ro, const struct data *d, int n, const struct rollout_params *p,
	     int max_batch, struct eval_result *out, char *err, size_t errn);
/* the same over problems [first, first + n) (one rank's share) */
int evaluate_range(struct rollout *ro, const struct data *d, int first, int n,
		   const struct rollout_params *p, int max_batch, struct eval_result *out, char *err,
		   size_t errn);

#endif
