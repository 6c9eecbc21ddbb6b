/*
 * evaluate.h - held-out accuracy: greedy (or sampled) responses to the task's eval split,
 * scored by the task's verifier. Runs on the decode engine; no torch. And the summary of an
 * `attnrl eval` run: k responses per problem, grouped by a subset label.
 *
 * avg@k: the mean accuracy of all n x k responses (= the mean over problems of the fraction
 * of its k responses that are right; with k = 1 greedy, pass@1). pass@k: the fraction of
 * problems with at least one right response among its k.
 */
#ifndef ATTNRL_EVALUATE_H
#define ATTNRL_EVALUATE_H

#include "attnrl/data.h"
#include "attnrl/rollout.h"

struct eval_result {
	int n, k, correct;  /* problems, responses per problem, right responses */
	double accuracy, reward_mean, response_len_mean, seconds; /* means over the n x k */
	long tokens;        /* generated */
	long reward_errors; /* responses whose reward program request failed (scored 0) */
};

/* what a caller sees of each scored response and of each call (either function may be NULL) */
struct eval_hooks {
	/* response j of problem i (of the eval split); non-0 (with err) ends the evaluation */
	int (*response)(void *ctx, int i, int j, const char *text, double reward, int correct,
			int len, char *err, size_t errn);
	/* after each call: done of the n problems asked, seconds generating so far */
	void (*progress)(void *ctx, int done, int n, double seconds);
	void *ctx;
};

/* the eval's sampling, one rule for training's periodic eval and `attnrl eval` (so that the
 * command reproduces a run's eval): the rollout's (rollout_params_from_config: max_new_tokens,
 * top_k, ignore_eos, the stop string) at eval.temperature and eval.top_p, seed run.seed */
struct rollout_params evaluate_params(const struct config *c);

/* the first n problems of the eval split, k responses each (avg@k; greedy k = 1 when
 * p->temperature == 0), at most max_batch sequences per call; response j of problem i
 * samples from RNG stream i * k + j of p->seed (p->seq_ids is not used) */
int evaluate(struct rollout *ro, const struct data *d, int n, int k, const struct rollout_params *p,
	     int max_batch, struct eval_result *out, char *err, size_t errn);
/* the same over problems [first, first + n) (one rank's share; the streams stay global),
 * with hooks (NULL: none); with p->interruptible, ROLLOUT_INTERRUPTED when a stop was
 * requested (checked between decode steps and calls; out is then partial, to be discarded) */
int evaluate_range(struct rollout *ro, const struct data *d, int first, int n, int k,
		   const struct rollout_params *p, int max_batch, const struct eval_hooks *h,
		   struct eval_result *out, char *err, size_t errn);

/* one problem's k responses (eval_summarize's input) */
struct eval_problem {
	const char *group;  /* subset label, or NULL */
	int k, correct;     /* responses, right responses */
	double reward_sum;
	long len_sum;       /* response tokens */
};

/* one row of the summary: every problem (group NULL) or one subset */
struct eval_subset {
	const char *group;                  /* NULL: all problems; "(none)": rows without label */
	int n, responses, correct, solved;  /* problems, responses, right ones, problems with one */
	double avg_at_k, pass_at_k, reward_mean, response_len_mean;
};

/* the "all" row first, then one per distinct label (integers in numeric order first, then
 * text in byte order) when any problem has one; *out is malloc'ed; the row count, or -1 */
int eval_summarize(const struct eval_problem *p, int n, struct eval_subset **out);

/* training's eval by subset: 1 when any of the first n held-out problems has a subject label
 * (a JSONL row's "subject", as MATH's; never for the generated tasks) */
int evaluate_has_subjects(const struct data *d, int n);
/* problems [0, n), right[i] of the k responses of problem i right, grouped by subject:
 * eval_summarize's rows (the "all" row first; *out malloc'ed), 0 (*out NULL) when no problem
 * has a label, or -1 */
int evaluate_subjects(const struct data *d, const double *right, int n, int k,
		      struct eval_subset **out);

#endif
