/*
 * runlog.h - what a run tells: one flushed console line per logged step (plus a progress bar on
 * a TTY), <run>/metrics.jsonl (one object per step) and <run>/samples.jsonl; with
 * log.tensorboard also <run>/events.out.tfevents.attnrl (tbevents.h): every number of every
 * metrics.jsonl row as a scalar tagged with its key at the row's step, from the same list of
 * members as the row, and each sample as a text "samples/<i>" (i: its index in the step).
 */
#ifndef ATTNRL_RUNLOG_H
#define ATTNRL_RUNLOG_H

#include <stdio.h>

#include "attnrl/credit_batch.h"
#include "attnrl/tbevents.h"
#include "attnrl/tokenizer.h"

#define RUNLOG_EVENTS "events.out.tfevents.attnrl" /* TensorBoard loads names with "tfevents" */

struct eval_subset; /* evaluate.h */

struct step_metrics {
	long step;
	double reward_mean, accuracy, loss, grad_norm, lr, entropy, clip_frac, kl;
	double response_len_mean, rollout_tokens_per_s, time_rollout_s, time_update_s, time_step_s;
	double time_credit_s;  /* statistics -> gamma after the rollout (maps: the separate forward) */
	double logp_mismatch;  /* mean |rollout log-prob - training log-prob| on response tokens */
	double pad_frac;       /* share of the update's packed positions that were padding */
	long skipped_updates;  /* optimizer steps skipped for a non-finite gradient */
	int bad_step;          /* 1 when an update of this step was skipped (non-finite) */
	int has_eval;
	double eval_accuracy, eval_reward_mean;
	/* the eval by subset when the held-out rows are labelled: "eval_accuracy/<label>" members
	 * of each row's avg_at_k (0 subsets: none) */
	const struct eval_subset *eval_subsets; /* (n_eval_subsets) */
	int n_eval_subsets;
	int has_credit;
	struct rhythm_metrics credit;
	int has_reward_program;        /* reward.command: its failed requests this step */
	long reward_errors, reward_timeouts;
};

struct runlog {
	FILE *metrics, *samples, *events; /* events: NULL without log.tensorboard */
	char metrics_path[1100], samples_path[1100], events_path[1100];
	struct tbevents tb;               /* the event being built */
	long sample_step;                 /* the last sample's step and its index in it */
	int sample_i;
	int tty;
	long total_steps, first_step;
	double t_start;
};

/* where the logs stood after a step: byte sizes of metrics.jsonl, samples.jsonl and the event
 * file (-1: none, log.tensorboard was off) */
struct runlog_pos {
	long step, metrics, samples, tensorboard;
};

/* at NULL: fresh files; else the files are cut back to at's sizes (a resumed run). A file
 * missing or shorter than at says is refused (-1, err names both sizes and the fix); with
 * accept_loss (run.resume_force) it is kept, cut to its last whole line (record), and
 * RUNLOG_LOST returned with the warning in err. tensorboard (log.tensorboard) on: the event
 * file is cut back the same way, or started afresh when at has none (-1); off: an event file
 * there is left as it is on resume, and removed when the run starts over (at NULL) */
#define RUNLOG_LOST 1
int runlog_open(struct runlog *l, const char *dir, long total_steps, int tensorboard,
		const struct runlog_pos *at, int accept_loss, char *err, size_t n);
/* flushes and fsyncs the files and reports their sizes (for a checkpoint of step); -1 with
 * err when a row did not reach its file */
int runlog_sync(struct runlog *l, long step, struct runlog_pos *at, char *err, size_t n);
void runlog_close(struct runlog *l);
/* the rows below are flushed and checked: -1 with err ("cannot write 'path': why") when a
 * write failed; the run must stop, the rows since the last checkpoint are incomplete */
/* metrics.jsonl always; the console line when print is set */
int runlog_step(struct runlog *l, const struct step_metrics *m, int print, char *err, size_t n);
/* per-token detail of a logged sample (credit on): the response's tokens and their values */
struct sample_detail {
	int R;
	const int32_t *tokens;          /* (R) */
	const struct tokenizer *tok;
	const float *waad, *fai, *delta, *gamma; /* (R) */
	const uint8_t *sets;            /* (R) CREDIT_IN_* flags */
};
/* info: a JSON object's text logged as the sample's "info" (a reward program's), or NULL */
int runlog_sample(struct runlog *l, long step, const char *prompt, const char *response,
		  double reward, int correct, const char *info, const struct sample_detail *d,
		  char *err, size_t n);
/* the eval before the first step: a metrics.jsonl line of m's step and eval members
 * (eval_accuracy, eval_reward_mean, by subset), and a console line (count: the problems) */
int runlog_eval(struct runlog *l, const struct step_metrics *m, int count, char *err, size_t n);
/* a stop cut the eval of step short, after its row was written and saved: 1 when the last row
 * of metrics.jsonl is step's without the eval; the amend adds m's eval members to it (m->step
 * is step), as the row would have had them, and prints the console line (a later resume from
 * the same checkpoint cuts the addition off again: runlog_open) */
int runlog_eval_missing(struct runlog *l, long step);
int runlog_eval_amend(struct runlog *l, const struct step_metrics *m, int count, char *err,
		      size_t n);

#endif
