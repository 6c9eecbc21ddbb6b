/*
 * trainer.c - the GRPO run (see trainer.h): set-up, the step loop with evals, logs, periodic
 * checkpoints, stop requests and deadlines. One step itself is trainer_step.c.
 */
#include "attnrl/trainer.h"
#include "trainer_internal.h"

#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attnrl/ckpt.h"
#include "attnrl/evaluate.h"
#include "attnrl/fsutil.h"
#include "attnrl/memplan.h"
#include "attnrl/rng.h"
#include "attnrl/stop.h"
#include "attnrl/testhook.h"

/* ---- set-up ---------------------------------------------------------------------------- */

int trainer_prepare_run_dir(const struct config *c, char *dir, size_t dir_n, char *err, size_t n)
{
	snprintf(dir, dir_n, "%s/%s", c->run.dir, c->run.name);
	if (fs_mkdir_p(dir, 0, err, n))
		return -1;
	char path[1100];
	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	FILE *f = fopen(path, "w");
	if (!f || config_write_yaml(c, f) || fclose(f)) {
		snprintf(err, n, "cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int alloc_buffers(struct trainer *t)
{
	size_t bt = (size_t)t->B * t->cap_len;
	t->ex = calloc(t->n_prompts + 1, sizeof(*t->ex)); /* + 1: other ranks' problems pass there */
	t->prompt_ids = calloc((size_t)t->n_prompts * DATA_PROMPT_MAX, sizeof(int32_t));
	t->prompt_rows = calloc(t->n_prompts, sizeof(*t->prompt_rows));
	t->prompt_lens = calloc(t->n_prompts, sizeof(int));
	t->correct = calloc(t->B, sizeof(int));
	t->rewards = calloc(t->B, sizeof(float));
	t->adv = calloc(t->B, sizeof(float));
	t->texts = calloc(t->B, sizeof(*t->texts));
	t->scores = calloc(t->B, sizeof(*t->scores));
	t->keep = calloc(t->B, 1);
	t->old_logp = calloc(bt, sizeof(float));
	t->ref_logp = calloc(bt, sizeof(float));
	long budget = t->cfg.algo.micro_batch_tokens, cap_n = budget ? budget : (long)t->micro * t->cap_len;
	int cap_B = budget ? t->B : t->micro; /* short rows: a budget packs many */
	t->host = calloc((size_t)6 * cap_n, sizeof(float));
	t->order = calloc(t->B, sizeof(int));
	t->starts = calloc(t->B + 1, sizeof(int));
	t->seq_ids = calloc(t->B, sizeof(int64_t));
	if (!t->ex || !t->prompt_ids || !t->prompt_rows || !t->prompt_lens || !t->correct ||
	    !t->rewards || !t->adv || !t->old_logp || !t->ref_logp || !t->host || !t->seq_ids ||
	    !t->order || !t->starts || !t->texts || !t->scores || !t->keep)
		return -1;
	for (int b = 0; b < t->B; b++)
		t->seq_ids[b] = (int64_t)trainer_group_of(t, b / t->G) * t->G + b % t->G;
	t->rp.seq_ids = t->seq_ids;
	if (rollout_batch_init(&t->rb, t->B, t->cap_len))
		return -1;
	return batch_pack_init(&t->pack, cap_B, t->cap_len, cap_n);
}

static void init_sizes(struct trainer *t)
{
	const struct config *c = &t->cfg;
	t->n_prompts = (int)(c->rollout.prompts_per_step / t->world);
	t->G = (int)c->rollout.group_size;
	t->B = t->n_prompts * t->G;
	t->micro = (int)(c->algo.micro_batch ? c->algo.micro_batch : c->algo.mini_batch / t->world);
	t->cap_len = (int)c->model.max_seq_len;
	t->opt_steps_total = c->train.steps * (c->rollout.prompts_per_step * t->G / c->algo.mini_batch) *
			     c->algo.ppo_epochs;
	t->rp = rollout_params_from_config(c); /* seed: per step (trainer_step.c) */
	t->hp = (struct grpo_hparams){ c->algo.clip_low, c->algo.clip_high, c->algo.kl_coef,
				       c->algo.entropy_coef };
	adv_mode_parse(c->algo.advantage, &t->adv_mode);
	loss_agg_parse(c->algo.loss_agg, &t->agg);
}

/* rank 0 takes <run_dir>/LOCK; every rank learns whether it could: 0, TRAINER_BUSY or -1 */
static int trainer_lock(struct trainer *t, char *err, size_t n)
{
	int rc = 0;
	if (!t->rank) {
		rc = runlock_acquire(&t->lock, t->run_dir, err, n);
		if (rc == RUNLOCK_TOOK_OVER)
			fprintf(stderr, "attnrl train: warning: %s\n", err);
		rc = rc == RUNLOCK_TOOK_OVER ? 0 : rc == RUNLOCK_BUSY ? TRAINER_BUSY : rc;
	}
	char derr[256];
	int any = trainer_any(t, rc != 0, derr, sizeof(derr));
	if (any < 0 && !rc)
		snprintf(err, n, "%s", derr);
	if (any > 0 && !rc) {
		snprintf(err, n, "rank 0 could not lock the run folder '%s' (its log says why)",
			 t->run_dir);
		return TRAINER_BUSY;
	}
	return any < 0 && !rc ? -1 : rc;
}

/* the end of a phase of the set-up, agreed by every rank: -1 when any rank failed (failed: this
 * one, err already filled), TRAINER_STOPPED when any was asked to stop, else 0. A rank whose
 * phase was cut short by a stop counts as stopped, not failed. */
static int init_agree(struct trainer *t, int failed, char *err, size_t n)
{
	char derr[256];
	failed = failed && !stop_requested();
	double v[2] = { failed, stop_requested() != 0 };
	if (trainer_sum(t, v, 2, derr, sizeof(derr))) {
		if (!failed)
			snprintf(err, n, "%s", derr);
		return -1;
	}
	if (v[0] > 0) {
		if (!failed)
			snprintf(err, n, "another rank failed during start-up (its log says why)");
		return -1;
	}
	if (v[1] > 0 && !stop_requested())
		stop_request(SIGTERM);
	return v[1] > 0 ? TRAINER_STOPPED : 0;
}

/* the model, data, device and buffers */
static int init_state(struct trainer *t, char *err, size_t n)
{
	const struct config *c = &t->cfg;
	int local = t->dist.env.local_world > 0 ? t->dist.env.local_world : t->world;
	long cores = sysconf(_SC_NPROCESSORS_ONLN) / local;
	policy_set_threads(c->train.threads ? c->train.threads : cores > 1 ? cores : 1);
	int rc = policy_init(&t->pol, c, memplan_engine_seqs(c, t->B), err, n);
	if ((rc = init_agree(t, rc != 0, err, n))) /* a load cut short: stopped */
		return rc;
	rc = data_init(&t->data, c, &t->pol.tok, err, n) || trainer_device_init(t, err, n);
	if ((rc = init_agree(t, rc, err, n)))
		return rc;
	t->tm->checkpoint_layers = (int)c->train.checkpoint_layers;
	struct model_config *mc = &t->pol.model->cfg;
	if (rhythm_init(&t->rh, c, mc->n_layers, mc->n_heads, t->B, t->cap_len,
			(int)c->rollout.max_new_tokens, err, n))
		return -1;
	t->rp.stats = rhythm_rollout_stats(&t->rh);
	if (alloc_buffers(t)) {
		snprintf(err, n, "trainer: cannot allocate the training state: %s", tensor_last_error());
		return -1;
	}
	if (trainer_optimizer_init(t, err, n))
		return -1;
	if (c->algo.kl_coef > 0 && !(t->ref = model_clone(t->tm))) {
		snprintf(err, n, "trainer: cannot copy the reference model: %s", tensor_last_error());
		return -1;
	}
	if (!t->rank && trainer_prepare_run_dir(c, t->run_dir, sizeof(t->run_dir), err, n))
		return -1;
	return 0;
}

/* rank 0: stale checkpoints removed, the logs opened (at the checkpoint's lengths when
 * resumed) */
static int init_logs(struct trainer *t, int resumed, const struct runlog_pos *pos, char *err,
		     size_t n)
{
	int stale = ckpt_remove_after(t->run_dir, t->start_step);
	if (stale)
		printf("attnrl train: removed %d checkpoint(s) after step %ld of an earlier run in %s/ckpt\n",
		       stale, t->start_step, t->run_dir);
	int rc = runlog_open(&t->log, t->run_dir, t->cfg.train.steps, t->cfg.log.tensorboard,
			     resumed ? pos : NULL, t->cfg.run.resume_force, err, n);
	if (rc == RUNLOG_LOST)
		fprintf(stderr, "attnrl train: warning: %s\n", err);
	return rc < 0 ? -1 : 0;
}

/* 0, -1 with err, or TRAINER_BUSY / TRAINER_STOPPED (set-up cut short). Each phase ends with
 * every rank agreeing, so a failure or a stop on one rank ends the set-up on all of them with
 * the same outcome (the failed rank's log says why). */
static int trainer_init(struct trainer *t, const struct config *c, char *err, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->t_init = fs_now();
	t->cfg = *c;
	if (trainer_dist_env(t, err, n) || trainer_device_resolve(t, err, n))
		return -1;
	init_sizes(t);
	if (trainer_memory_plan(t, err, n))
		return -1;
	snprintf(t->run_dir, sizeof(t->run_dir), "%s/%s", c->run.dir, c->run.name);
	if (trainer_dist_check(t, err, n) || fs_mkdir_p(t->run_dir, 0, err, n))
		return -1;
	if (trainer_dist_init(t, err, n) || trainer_device_check_dist(t, err, n))
		return stop_requested() ? TRAINER_STOPPED : -1; /* a rendezvous cut short */
	int rc = trainer_lock(t, err, n);
	if (!rc)
		testhook_point("startup", 0);
	if (rc || (rc = init_agree(t, 0, err, n)))
		return rc;
	rc = init_state(t, err, n);
	if (rc > 0 || (rc = init_agree(t, rc != 0, err, n)))
		return rc;
	struct runlog_pos pos;
	int resumed = trainer_resume(t, &pos, err, n);
	if ((rc = init_agree(t, resumed < 0, err, n))) /* a load cut short: stopped */
		return rc;
	rc = resumed && trainer_device_sync(t, 0, err, n);
	if (!rc && !t->rank) /* rank 0 keeps the logs and the checkpoints */
		rc = init_logs(t, resumed, &pos, err, n);
	return init_agree(t, rc != 0, err, n);
}

static void trainer_free(struct trainer *t)
{
	runlog_close(&t->log);
	runlock_release(&t->lock);
	dist_free(&t->dist);
	trainer_optimizer_free(t);
	trainer_device_free(t);
	model_destroy(t->ref);
	rhythm_free(&t->rh);
	if (t->scores)
		reward_out_free(t->scores, t->B);
	data_free(&t->data);
	policy_free(&t->pol);
	rollout_batch_free(&t->rb);
	batch_pack_free(&t->pack);
	void *bufs[] = { t->ex, t->prompt_ids, t->prompt_rows, t->prompt_lens, t->correct,
			 t->rewards, t->adv, t->old_logp, t->ref_logp, t->host, t->seq_ids,
			 t->order, t->starts, t->texts, t->scores, t->keep, t->eval_right,
			 t->eval_sub };
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		free(bufs[i]);
	memset(t, 0, sizeof(*t));
}

struct trainer *trainer_create(const struct config *c, char *err, size_t n)
{
	struct trainer *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, n, "trainer: out of memory for the trainer state");
		return NULL;
	}
	int rc = trainer_init(t, c, err, n);
	if (rc > 0) {
		t->init_rc = rc;
		snprintf(t->init_err, sizeof(t->init_err), "%s", err);
	}
	if (rc >= 0)
		return t;
	trainer_destroy(t);
	return NULL;
}

void trainer_destroy(struct trainer *t)
{
	if (!t)
		return;
	trainer_free(t);
	free(t);
}

int trainer_fail_at(const struct trainer *t, long step, const char *fix, char *err, size_t n)
{
	char why[1024];
	snprintf(why, sizeof(why), "%s", err);
	if (t->last_saved)
		snprintf(err, n, "step %ld: %s; stopping: a rerun resumes from the last good checkpoint "
			 "%s/ckpt/step_%ld (%s first)", step, why, t->run_dir, t->last_saved, fix);
	else
		snprintf(err, n, "step %ld: %s; stopping: no checkpoint was saved yet, a rerun starts "
			 "over (%s first)", step, why, fix);
	return -1;
}

/* a log row that did not reach its file stops the run: err says which, and where a rerun
 * resumes (the logs are cut back to that checkpoint's sizes, which only cover written rows) */
static int log_failed(const struct trainer *t, long step, char *err, size_t n)
{
	return trainer_fail_at(t, step, "free space", err, n);
}

static int log_samples(struct trainer *t, long step, char *err, size_t n)
{
	if (t->rank)
		return 0;
	for (int b = 0; b < t->B && b < t->cfg.train.samples_per_step; b++) {
		int i = b * t->G < t->B ? b * t->G : b; /* one response from each of the first groups */
		size_t at = (size_t)i * t->cap_len + t->rb.prompt_len[i];
		struct sample_detail d = { t->rb.resp_len[i], t->rb.tokens + at, &t->pol.tok,
					   t->rh.waad + at, t->rh.fai + at, t->rh.delta + at,
					   t->rh.gamma + at, t->rh.sets + at };
		if (runlog_sample(&t->log, step, t->ex[i / t->G].prompt, rollout_text(&t->rb, i),
				  t->rewards[i], t->correct[i], t->scores[i].info, t->rh.stats ? &d : NULL,
				  err, n))
			return log_failed(t, step, err, n);
	}
	return 0;
}

static void print_start(const struct trainer *t)
{
	if (t->rank)
		return;
	printf("attnrl train: %s | %.2fM parameters | %d prompts x %d responses per step | %s\n",
	       t->run_dir, t->pol.model->n_elements / 1e6, t->n_prompts, t->G, tensor_backend_info());
	if (t->memory_line[0])
		printf("attnrl train: %s\n", t->memory_line);
	if (t->device != TENSOR_CPU)
		printf("attnrl train: the update runs on cuda:%d (bf16 forward/backward, fp32 master "
		       "weights and AdamW moments); rollouts decode %s\n", t->device, t->pol.gro ?
		       "on the GPU engine, its bf16 weights rounded from the master weights after "
		       "each update" : "on the CPU engine from a host copy of the weights, refreshed "
		       "once per step");
	data_print(&t->data, &t->cfg, stdout);
	if (t->start_step)
		printf("attnrl train: resumed from %s (step %ld of %ld)%s\n", t->resumed_from,
		       t->start_step, t->cfg.train.steps,
		       t->start_step >= t->cfg.train.steps
			       ? "; nothing left to train: raise train.steps to go on, or start over "
				 "with run.resume=never (or another run.name)" : "");
	fflush(stdout);
}

#define STEP_EVAL_STOPPED 2 /* run_step: a stop request cut the step's eval short */

static int eval_due(const struct trainer *t, long step)
{
	long every = t->cfg.train.eval_every;
	return every > 0 && (step % every == 0 || step == t->cfg.train.steps);
}

/* one step: train, eval when due, logs; 0, 1 (stopped: discarded), STEP_EVAL_STOPPED (the step
 * is complete and logged without its eval) or -1 */
static int run_step(struct trainer *t, long step, char *err, size_t n)
{
	const struct config *c = &t->cfg;
	struct step_metrics m;
	t->cur_step = step;
	int rc = trainer_step(t, step, &m, err, n), eval_cut = 0;
	if (rc)
		return rc;
	if (eval_due(t, step) && (eval_cut = trainer_eval(t, &m, err, n)) < 0)
		return -1;
	if (log_samples(t, step, err, n))
		return -1;
	if (!t->rank && runlog_step(&t->log, &m, step % c->train.log_every == 0 || m.has_eval ||
				    step == c->train.steps, err, n))
		return log_failed(t, step, err, n);
	testhook_point("log", step);
	t->bad_run = m.bad_step ? t->bad_run + 1 : 0;
	if (m.bad_step && !t->rank)
		fprintf(stderr, "attnrl train: warning: step %ld: non-finite loss or gradient, "
			"update skipped (%ld in a row)\n", step, t->bad_run);
	if (!c->train.max_bad_steps || t->bad_run < c->train.max_bad_steps)
		return eval_cut ? STEP_EVAL_STOPPED : 0;
	char last[1200] = "none (no checkpoint was saved)";
	if (t->last_saved)
		snprintf(last, sizeof(last), "%s/ckpt/step_%ld", t->run_dir, t->last_saved);
	snprintf(err, n, "%ld steps in a row (%ld-%ld) had a non-finite loss or gradient "
		 "(train.max_bad_steps=%ld): aborting; the last good checkpoint is %s", t->bad_run,
		 step - t->bad_run + 1, step, c->train.max_bad_steps, last);
	return -1;
}

/* a resumed run whose checkpoint's step had its eval cut short by a stop (its metrics row has
 * no eval): the eval again, its numbers added to that row as if it had not stopped; 0,
 * TRAINER_STOPPED (cut short again) or -1 */
static int eval_resumed_step(struct trainer *t, char *err, size_t n)
{
	long s = t->start_step;
	int mine = !t->rank && s > 0 && eval_due(t, s) && runlog_eval_missing(&t->log, s);
	int due = trainer_any(t, mine, err, n); /* rank 0 keeps the logs */
	if (due <= 0)
		return due;
	struct step_metrics m = { .step = s };
	t->cur_step = s;
	t->cursor0 = t->data.cursor;
	int rc = trainer_eval(t, &m, err, n);
	if (rc)
		return rc < 0 ? -1 : trainer_stop_save(t, s, err, n);
	if (!t->rank && runlog_eval_amend(&t->log, &m, t->data.eval_size, err, n))
		return log_failed(t, s, err, n);
	return 0;
}

static int save_due(const struct trainer *t, long step)
{
	long every = t->cfg.train.save_every;
	return every > 0 && step % every == 0 && step < t->cfg.train.steps && !t->bad_run;
}

static int finish(struct trainer *t, char *err, size_t n)
{
	long steps = t->cfg.train.steps;
	char path[1100];
	if (t->log.tty && !t->rank)
		printf("\n");
	if (steps > 0 && steps > t->last_saved && trainer_save(t, steps, err, n))
		return -1;
	if (t->rank)
		return 0;
	snprintf(path, sizeof(path), "%s/model.safetensors", t->run_dir);
	if (trainer_device_mirror(t, err, n) || model_save(t->pol.model, path, err, n))
		return -1;
	trainer_device_report(t);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("attnrl train: done, model in %s (peak memory %.0f MiB)\n", path, ru.ru_maxrss / 1024.0);
	return 0;
}

int trainer_run(struct trainer *t, char *err, size_t n)
{
	const struct config *c = &t->cfg;
	if (t->init_rc == TRAINER_BUSY) {
		snprintf(err, n, "%s", t->init_err);
		return TRAINER_BUSY;
	}
	if (t->init_rc == TRAINER_STOPPED) {
		if (!t->rank)
			printf("attnrl train: stopped by %s during start-up; nothing new to save; rerun "
			       "the same command to start (or resume) the run (exit %d)\n",
			       stop_reason(stop_requested()), STOP_EXIT_PREEMPTED);
		fflush(stdout);
		return TRAINER_STOPPED;
	}
	print_start(t);
	if (c->train.eval_every > 0 && c->train.eval_before && !t->start_step) {
		struct step_metrics m = { 0 };
		int rc = trainer_eval(t, &m, err, n);
		if (rc)
			return rc < 0 ? -1 : trainer_stop_save(t, 0, err, n);
		if (!t->rank && runlog_eval(&t->log, &m, t->data.eval_size, err, n))
			return log_failed(t, 0, err, n);
	}
	int pending = eval_resumed_step(t, err, n);
	if (pending)
		return pending;
	trainer_deadline_init(t);
	for (long step = t->start_step + 1; step <= c->train.steps; step++) {
		double t0 = fs_now();
		t->cursor0 = t->data.cursor;
		trainer_deadline_check(t);
		int stop = trainer_any(t, stop_requested(), err, n); /* every rank stops together */
		if (stop < 0)
			return -1;
		if (stop && !stop_requested())
			stop_request(SIGTERM);
		int rc = stop ? 1 : run_step(t, step, err, n);
		if (rc == STEP_EVAL_STOPPED) {
			if (!t->rank)
				printf("attnrl train: the eval of step %ld was cut short by %s; it runs "
				       "again when the run resumes\n", step, stop_reason(stop_requested()));
			t->cursor0 = t->data.cursor; /* the step is complete: saved as such */
			return trainer_stop_save(t, step, err, n);
		}
		if (rc)
			return rc < 0 ? -1 : trainer_stop_save(t, step - 1, err, n);
		if (fs_now() - t0 > t->step_max)
			t->step_max = fs_now() - t0;
		if (save_due(t, step) && trainer_save(t, step, err, n))
			return -1;
	}
	return finish(t, err, n);
}
