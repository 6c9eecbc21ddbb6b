/*
 * report.h - `attnrl report RUN_DIR`: one self-contained HTML page about a run, from what the
 * run wrote (config.yaml, metrics.jsonl, samples.jsonl): charts of the training metrics over
 * steps, the time per phase, and the attention rhythm of a few logged samples (report_rhythm.h).
 * No script, no external resource. Lines of the logs that are not a JSON object with an
 * integer "step" (a crash mid-write, a stray edit) are skipped and counted on the page.
 *
 * report.c reads the run, report_html.c writes the page. Pure C.
 */
#ifndef ATTNRL_REPORT_H
#define ATTNRL_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "attnrl/config.h"

/* the metrics.jsonl keys the page uses, in this order (report_keys[]) */
enum report_key {
	RK_REWARD, RK_ACCURACY, RK_EVAL_ACCURACY, RK_EVAL_REWARD, RK_LEN, RK_ENTROPY, RK_CLIP,
	RK_GAMMA, RK_FRAC_PREPLAN, RK_FRAC_ANCHOR, RK_FRAC_DOMINATED, RK_FRAC_INTRO, RK_LOSS,
	RK_GRAD_NORM, RK_KL, RK_LOGP_MISMATCH, RK_TOKENS_PER_S, RK_T_ROLLOUT, RK_T_CREDIT,
	RK_T_UPDATE, RK_T_STEP, RK_COUNT
};
extern const char *const report_keys[RK_COUNT];

/* what reading one JSONL file found */
struct report_file {
	int missing;        /* the file does not exist */
	long rows, skipped; /* good lines; bad lines (blank lines are neither) */
	long first_bad;     /* line number of the first bad line, 0 if none */
	char why[160];      /* what was wrong with it */
};

/* one good line of samples.jsonl: where it is, to read again when it is shown */
struct report_sample {
	long step, line;
	long offset, len;   /* bytes in the file */
	int detail;         /* has per-token "tokens" (credit on) */
};

struct report {
	char dir[768];
	struct config cfg;
	int has_cfg;                 /* config.yaml read; else cfg holds the defaults */
	char cfg_err[320];
	struct report_file metrics, samples;
	long n_rows;                 /* metrics lines: the training steps and the eval of step 0 */
	long n_steps, first_step;    /* the training steps among them (step >= 1), the first */
	long *step;                  /* (n_rows) */
	double *val;                 /* (n_rows, RK_COUNT), NAN where absent or not a number */
	long n_samples;
	struct report_sample *sample; /* (n_samples) */
	long cap_rows, cap_samples;
	int live;                    /* read by report_load_live */
};

/* reads RUN_DIR; -1 with one line in err when it is not a run directory (no metrics.jsonl and
 * no samples.jsonl) or on a read error / out of memory */
int report_load(struct report *r, const char *dir, char *err, size_t n);
/* as report_load, for a run that is still writing its logs: a last line without its newline
 * is a row being written, neither read nor counted as bad */
int report_load_live(struct report *r, const char *dir, char *err, size_t n);
void report_free(struct report *r);

/* the page; at most max_samples rhythm pictures (spread over the run, first and last kept);
 * title names the run; refresh_s > 0: the page of a run in training, which the browser
 * reloads every refresh_s seconds (`report --watch`); 0 or -1 with one line in err */
int report_write_html(const struct report *r, FILE *f, int max_samples, int refresh_s,
		      char *err, size_t n);

#endif
