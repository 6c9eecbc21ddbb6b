/*
 * reward.h - the reward of a batch of responses: the task's built-in verifier (data_reward), a
 * reward program (reward.command, reward_proc.h), or both.
 *
 * A request to the program holds, after its id:
 *   "task"          data.task (arith, countdown, math, mcq)
 *   "prompt"        the problem's text, before data.template
 *   "response"      the sampled response
 *   "ground_truth"  what the built-in verifier compares with, as a string: the reference answer
 *                   (arith: the result; math, mcq: the answer after data.answer_format;
 *                   countdown: the target)
 *   then the problem's own fields: every member of the dataset row as it is in the file (keys
 *   named like the four above are left out), or for generated problems arith's "answer" and
 *   countdown's "nums" and "target".
 * reward.combine: replace = the program's reward, add = the built-in reward (with the format
 * bonus) plus the program's; with replace data.format_reward's bonus is added to the
 * program's. correct: the reply's, else (replace) reward > 0, (add) the built-in verdict.
 * A failed request (reward_proc.h) has reward 0 and is not correct; reward.on_error=skip marks
 * it (the trainer drops its group; an eval counts it as 0); abort makes reward_score fail.
 */
#ifndef ATTNRL_REWARD_H
#define ATTNRL_REWARD_H

#include <stddef.h>

#include "attnrl/reward_proc.h"
#include "attnrl/task.h"

struct config;
struct data;

struct reward_out {
	float reward;
	int correct;
	int failed;   /* 0, or the reward_status it failed with */
	char *info;   /* the reply's info object as JSON text, or NULL (reward_out_free) */
};

enum reward_on_error { REWARD_ZERO, REWARD_SKIP, REWARD_ABORT };

struct reward {
	struct reward_pool *pool;
	enum reward_on_error on_error;
	int add;                     /* reward.combine=add */
	long errors, timeouts;       /* failed requests of the last batch, and of them time-outs */
	long errors_total, timeouts_total;
};

/* the pool of reward.command (the config must have one): NULL with err when it cannot start */
struct reward *reward_open(const struct config *c, char *err, size_t n);
void reward_close(struct reward *r);
/* responses texts[0..n), response b answering ex[b / per_ex]; r NULL: the built-in verifier.
 * 0, REWARD_INTERRUPTED (a stop was requested; out is incomplete), or -1 with err (the pool
 * gave up, or reward.on_error=abort and a request failed) */
int reward_score(struct reward *r, const struct data *d, const struct task_example *ex,
		 int per_ex, const char *const *texts, int n, struct reward_out *out, char *err,
		 size_t en);
void reward_out_free(struct reward_out *out, int n);
/* "3 of 128 requests failed (1 time-out; 2 workers restarted so far): worker 2 ..." about the
 * last batch, or "" when none failed */
void reward_summary(const struct reward *r, int n, char *buf, size_t len);

#endif
