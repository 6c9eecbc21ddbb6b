/*
 * trainer.c - the GRPO step loop (see trainer.h). The rollout runs on the decode engine, which
 * reads the parameter memory that AdamW updates in place; the update runs on ATen.
 * Invariant: per-token host arrays (old_logp, ref_logp, rb.logp) are indexed by token position
 * in the rollout batch, (B, cap_len); packed arrays by training position, (micro, T).
 */
#include "attnrl/trainer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "attnrl/ckpt.h"
#include "attnrl/evaluate.h"
#include "attnrl/rng.h"
#include "attnrl/stop.h"

/* ---- set-up ---------------------------------------------------------------------------- */

static int mkdir_p(const char *path, char *err, size_t n)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(buf, 0777) && errno != EEXIST) {
			snprintf(err, n, "cannot create directory '%s': %s", buf, strerror(errno));
			return -1;
		}
		if (!c)
			return 0;
		*p = c;
	}
}

int trainer_prepare_run_dir(const struct config *c, char *dir, size_t dir_n, char *err, size_t n)
{
	snprintf(dir, dir_n, "%s/%s", c->run.dir, c->run.name);
	if (mkdir_p(dir, err, n))
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
	t->ex = calloc(t->n_prompts, sizeof(*t->ex));
	t->prompt_ids = calloc((size_t)t->n_prompts * DATA_PROMPT_MAX, sizeof(int32_t));
	t->prompt_rows = calloc(t->n_prompts, sizeof(*t->prompt_rows));
	t->prompt_lens = calloc(t->n_prompts, sizeof(int));
	t->correct = calloc(t->B, sizeof(int));
	t->rewards = calloc(t->B, sizeof(float));
	t->adv = calloc(t->B, sizeof(float));
	t->old_logp = calloc(bt, sizeof(float));
	t->ref_logp = calloc(bt, sizeof(float));
	t->host = calloc((size_t)6 * t->micro * t->cap_len, sizeof(float));
	if (!t->ex || !t->prompt_ids || !t->prompt_rows || !t->prompt_lens || !t->correct ||
	    !t->rewards || !t->adv || !t->old_logp || !t->ref_logp || !t->host)
		return -1;
	if (rollout_batch_init(&t->rb, t->B, t->cap_len))
		return -1;
	return batch_pack_init(&t->pack, t->micro, t->cap_len);
}

static int optimizer_init(struct trainer *t)
{
	struct model *m = t->pol.model;
	t->adam_m = calloc(m->n_params, sizeof(tensor *));
	t->adam_v = calloc(m->n_params, sizeof(tensor *));
	if (!t->adam_m || !t->adam_v)
		return -1;
	for (int i = 0; i < m->n_params; i++) {
		int nd = tensor_ndim(m->params[i]);
		int64_t shape[8];
		for (int d = 0; d < nd; d++)
			shape[d] = tensor_size(m->params[i], d);
		t->adam_m[i] = tensor_keep(tensor_zeros(shape, nd, TENSOR_F32, TENSOR_CPU));
		t->adam_v[i] = tensor_keep(tensor_zeros(shape, nd, TENSOR_F32, TENSOR_CPU));
		if (!t->adam_m[i] || !t->adam_v[i])
			return -1;
	}
	return model_set_requires_grad(m, 1);
}

static void init_sizes(struct trainer *t)
{
	const struct config *c = &t->cfg;
	t->n_prompts = (int)c->rollout.prompts_per_step;
	t->G = (int)c->rollout.group_size;
	t->B = t->n_prompts * t->G;
	t->micro = (int)(c->algo.micro_batch ? c->algo.micro_batch : c->algo.mini_batch);
	t->cap_len = (int)c->model.max_seq_len;
	t->opt_steps_total = c->train.steps * (t->B / c->algo.mini_batch) * c->algo.ppo_epochs;
	t->rp = (struct rollout_params){ .max_new_tokens = (int)c->rollout.max_new_tokens,
					 .top_k = (int)c->rollout.top_k,
					 .ignore_eos = c->rollout.ignore_eos,
					 .temperature = c->rollout.temperature,
					 .top_p = c->rollout.top_p, .stop = c->rollout.stop };
	t->hp = (struct grpo_hparams){ c->algo.clip_low, c->algo.clip_high, c->algo.kl_coef,
				       c->algo.entropy_coef };
	adv_mode_parse(c->algo.advantage, &t->adv_mode);
	loss_agg_parse(c->algo.loss_agg, &t->agg);
}

int trainer_init(struct trainer *t, const struct config *c, char *err, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->t_init = runlog_now();
	t->cfg = *c;
	init_sizes(t);
	policy_set_threads(c->train.threads);
	int eval_batch = c->data.eval_size < 256 ? (int)c->data.eval_size : 256;
	/* one spare sequence slot: credit.compute=maps feeds responses again there */
	if (policy_init(&t->pol, c, t->B + 1 > eval_batch ? t->B + 1 : eval_batch, err, n))
		return -1;
	if (data_init(&t->data, c, &t->pol.tok, err, n))
		return -1;
	struct model_config *mc = &t->pol.model->cfg;
	if (rhythm_init(&t->rh, c, mc->n_layers, mc->n_heads, t->B, t->cap_len,
			(int)c->rollout.max_new_tokens, err, n))
		return -1;
	t->rp.stats = rhythm_rollout_stats(&t->rh);
	if (alloc_buffers(t) || optimizer_init(t)) {
		snprintf(err, n, "trainer: cannot allocate the training state: %s", tensor_last_error());
		return -1;
	}
	if (c->algo.kl_coef > 0 && !(t->ref = model_clone(t->pol.model))) {
		snprintf(err, n, "trainer: cannot copy the reference model: %s", tensor_last_error());
		return -1;
	}
	if (trainer_prepare_run_dir(c, t->run_dir, sizeof(t->run_dir), err, n))
		return -1;
	struct runlog_pos pos;
	int resumed = trainer_resume(t, &pos, err, n);
	if (resumed < 0)
		return -1;
	int stale = ckpt_remove_after(t->run_dir, t->start_step);
	if (stale)
		printf("attnrl train: removed %d checkpoint(s) after step %ld of an earlier run in %s/ckpt\n",
		       stale, t->start_step, t->run_dir);
	return runlog_open(&t->log, t->run_dir, c->train.steps, resumed ? &pos : NULL, err, n);
}

void trainer_free(struct trainer *t)
{
	runlog_close(&t->log);
	for (int i = 0; t->adam_m && i < t->pol.model->n_params; i++) {
		tensor_free(t->adam_m[i]);
		tensor_free(t->adam_v[i]);
	}
	free(t->adam_m);
	free(t->adam_v);
	model_destroy(t->ref);
	rhythm_free(&t->rh);
	data_free(&t->data);
	policy_free(&t->pol);
	rollout_batch_free(&t->rb);
	batch_pack_free(&t->pack);
	void *bufs[] = { t->ex, t->prompt_ids, t->prompt_rows, t->prompt_lens, t->correct,
			 t->rewards, t->adv, t->old_logp, t->ref_logp, t->host };
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		free(bufs[i]);
	memset(t, 0, sizeof(*t));
}

/* ---- rollout and rewards --------------------------------------------------------------- */

/* 0, -1 with err, or ROLLOUT_INTERRUPTED */
static int step_rollout(struct trainer *t, long step, char *err, size_t n)
{
	for (int i = 0; i < t->n_prompts; i++) {
		int32_t *ids = t->prompt_ids + (size_t)i * DATA_PROMPT_MAX;
		if (data_next_train(&t->data, &t->ex[i])) {
			snprintf(err, n, "data: cannot generate train problem %ld", (long)t->data.cursor - 1);
			return -1;
		}
		t->prompt_lens[i] = data_encode(&t->data, t->ex[i].prompt, ids, DATA_PROMPT_MAX, err, n);
		if (t->prompt_lens[i] < 0)
			return -1;
		t->prompt_rows[i] = ids;
	}
	struct rng r;
	rng_init3(&r, (uint64_t)t->cfg.run.seed, (uint64_t)step, 0x73616d706c65ULL);
	t->rp.seed = rng_u64(&r);
	t->rp.interruptible = 1;
	int rc = rollout_generate(&t->pol.ro, t->prompt_rows, t->prompt_lens, t->n_prompts, t->G,
				  &t->rp, &t->rb, err, n);
	if (rc)
		return rc;
	for (int b = 0; b < t->B; b++)
		t->rewards[b] = (float)task_reward(t->data.kind, &t->ex[b / t->G],
						   rollout_text(&t->rb, b), &t->correct[b]);
	adv_compute(t->rewards, t->n_prompts, t->G, t->adv_mode, t->adv);
	return 0;
}

/* ---- forward passes -------------------------------------------------------------------- */

static tensor *pack_tensor_f32(const struct batch_pack *p, const float *host)
{
	int64_t shape[2] = { p->B, p->T };
	return tensor_from_f32(host, shape, 2);
}

/* log-probs (B,T) of the pack's targets under m at the rollout temperature */
static tensor *pack_logp(const struct trainer *t, const struct model *m, tensor **entropy)
{
	int64_t shape[2] = { t->pack.B, t->pack.T };
	tensor *logits = model_forward(m, tensor_from_i64(t->pack.ids, shape, 2));
	double temp = t->cfg.rollout.temperature;
	if (temp > 0 && temp != 1.0)
		logits = tensor_mul_scalar(logits, 1.0 / temp);
	return tensor_token_logprobs(logits, tensor_from_i64(t->pack.targets, shape, 2), entropy);
}

/* no-grad log-probs of every rollout token under m into dst (B, cap_len) */
static int logp_all(struct trainer *t, const struct model *m, float *dst, char *err, size_t n)
{
	int prev = tensor_set_grad_enabled(0), rc = 0;
	for (int first = 0; first < t->B && !rc; first += t->micro) {
		tensor_frame_push();
		int packed = !batch_pack_build(&t->pack, &t->rb, first, t->micro);
		tensor *lp = packed ? pack_logp(t, m, NULL) : NULL;
		rc = lp ? tensor_read_f32(lp, t->host, (int64_t)t->pack.B * t->pack.T) : -1;
		if (!rc)
			batch_pack_scatter(&t->pack, &t->rb, t->host, dst);
		tensor_frame_pop();
	}
	tensor_set_grad_enabled(prev);
	if (rc)
		snprintf(err, n, "forward: %s", tensor_last_error());
	return rc;
}

static double logp_mismatch(const struct trainer *t)
{
	double sum = 0.0;
	long count = 0;
	for (int b = 0; b < t->B; b++) {
		size_t row = (size_t)b * t->cap_len;
		for (int j = 0; j < t->rb.resp_len[b]; j++) {
			size_t at = row + t->rb.prompt_len[b] + j;
			sum += fabs(t->rb.logp[at] - t->old_logp[at]);
			count++;
		}
	}
	return count ? sum / count : 0.0;
}

/* ---- the update ------------------------------------------------------------------------ */

struct update_acc {
	double loss, kl, gnorm;
	long tokens, clipped, opt_steps, mini_batches, skipped;
};

/* clip counts and k3 from the detached log-probs of one micro-batch */
static void micro_stats(struct trainer *t, const float *lp, const float *old, const float *adv,
			const float *ref, struct update_acc *a)
{
	const struct batch_pack *p = &t->pack;
	for (size_t i = 0; i < (size_t)p->B * p->T; i++) {
		if (!p->mask[i])
			continue;
		double rho = exp(lp[i] - old[i]);
		a->clipped += (adv[i] > 0 && rho > 1 + t->hp.clip_high) ||
			      (adv[i] < 0 && rho < 1 - t->hp.clip_low);
		a->tokens++;
		if (t->ref) {
			double d = ref[i] - lp[i];
			a->kl += exp(d) - d - 1;
		}
	}
}

static int micro_step(struct trainer *t, int first, int n_mb, long tokens_mb, struct update_acc *a)
{
	struct batch_pack *p = &t->pack;
	if (batch_pack_build(p, &t->rb, first, t->micro))
		return -1;
	size_t bt = (size_t)p->B * p->T;
	float *old = t->host, *adv = old + bt, *w = adv + bt, *ref = w + bt, *lp = ref + bt;
	float *gamma = lp + bt;
	batch_pack_gather(p, &t->rb, t->old_logp, old);
	batch_pack_gather(p, &t->rb, t->ref_logp, ref);
	batch_pack_gather(p, &t->rb, t->rh.gamma, gamma);
	for (size_t i = 0; i < bt; i++) {
		float a = t->adv[p->first + i / p->T];
		adv[i] = p->mask[i] * credit_gamma_for(&t->rh.cp, gamma[i], a) * a;
	}
	adv_token_weights(p->mask, p->resp_len, p->B, p->T, t->agg, n_mb, tokens_mb,
			  (int)t->cfg.rollout.max_new_tokens, w);
	tensor *ent = NULL;
	tensor *logp = pack_logp(t, t->pol.model, t->hp.entropy_coef != 0.0 ? &ent : NULL);
	tensor *loss = grpo_loss(logp, pack_tensor_f32(p, old), t->ref ? pack_tensor_f32(p, ref) : NULL,
				 ent, pack_tensor_f32(p, adv), pack_tensor_f32(p, w), &t->hp);
	if (loss && stop_test_nan(t->cur_step))
		loss = tensor_mul_scalar(loss, NAN);
	double lv;
	if (!loss || tensor_backward(loss) || tensor_item(loss, &lv) ||
	    tensor_read_f32(tensor_detach(logp), lp, (int64_t)bt))
		return -1;
	a->loss += lv;
	micro_stats(t, lp, old, adv, ref, a);
	return 0;
}

static int optimizer_step(struct trainer *t, struct update_acc *a)
{
	struct model *m = t->pol.model;
	double norm;
	if (tensor_clip_grad_norm(m->params, m->n_params, t->cfg.optim.grad_clip, &norm))
		return -1;
	if (!isfinite(norm)) {
		t->skipped++;
		a->skipped++;
		fprintf(stderr, "trainer: non-finite gradient at optimizer step %ld, update skipped\n",
			t->opt_step);
		return tensor_zero_grad(m->params, m->n_params);
	}
	const struct config *c = &t->cfg;
	struct tensor_adamw hp = { adv_lr_at(t->opt_step, t->opt_steps_total, c->optim.lr,
					     c->optim.lr_min, c->optim.warmup_steps,
					     !strcmp(c->optim.schedule, "cosine")),
				   c->optim.beta1, c->optim.beta2, c->optim.eps,
				   c->optim.weight_decay, t->opt_step - t->skipped + 1 };
	t->opt_step++;
	a->gnorm += norm;
	a->opt_steps++;
	if (tensor_adamw_step(m->params, t->adam_m, t->adam_v, m->n_params, &hp))
		return -1;
	return tensor_zero_grad(m->params, m->n_params);
}

static int update(struct trainer *t, struct update_acc *a, char *err, size_t n)
{
	int mb = (int)t->cfg.algo.mini_batch;
	for (long e = 0; e < t->cfg.algo.ppo_epochs; e++) {
		for (int s = 0; s < t->B; s += mb) {
			long tokens_mb = 0;
			for (int b = s; b < s + mb; b++)
				tokens_mb += t->rb.resp_len[b];
			for (int ms = s; ms < s + mb; ms += t->micro) {
				tensor_frame_push();
				int rc = micro_step(t, ms, mb, tokens_mb, a);
				tensor_frame_pop();
				if (rc)
					goto fail;
			}
			a->mini_batches++;
			if (optimizer_step(t, a))
				goto fail;
			stop_test_point("update", t->cur_step);
		}
	}
	return 0;
fail:
	snprintf(err, n, "update: %s", tensor_last_error());
	return -1;
}

/* ---- one step, eval, the loop ---------------------------------------------------------- */

static void rollout_metrics(const struct trainer *t, struct step_metrics *m)
{
	double ent = 0.0, len = 0.0, rew = 0.0, acc = 0.0;
	long ntok = 0;
	for (int b = 0; b < t->B; b++) {
		size_t row = (size_t)b * t->cap_len + t->rb.prompt_len[b];
		for (int j = 0; j < t->rb.resp_len[b]; j++)
			ent += t->rb.entropy[row + j];
		ntok += t->rb.resp_len[b];
		len += t->rb.resp_len[b];
		rew += t->rewards[b];
		acc += t->correct[b];
	}
	m->entropy = ntok ? ent / ntok : 0.0;
	m->response_len_mean = len / t->B;
	m->reward_mean = rew / t->B;
	m->accuracy = acc / t->B;
	m->time_rollout_s = t->rb.seconds;
	m->rollout_tokens_per_s = t->rb.seconds > 0 ? t->rb.tokens_generated / t->rb.seconds : 0.0;
}

static int run_eval(struct trainer *t, struct step_metrics *m, char *err, size_t n)
{
	struct rollout_params p = t->rp;
	struct eval_result r;
	p.temperature = 0.0;
	p.stats = NULL;
	p.interruptible = 0; /* eval belongs to a completed step: it runs to its end */
	if (evaluate(&t->pol.ro, &t->data, t->data.eval_size, &p, t->pol.ro.max_seqs, &r, err, n))
		return -1;
	m->has_eval = 1;
	m->eval_accuracy = r.accuracy;
	m->eval_reward_mean = r.reward_mean;
	return 0;
}

/* 0, -1 with err, or 1: a stop was requested before the update (the step is discarded) */
static int train_step(struct trainer *t, long step, struct step_metrics *m, char *err, size_t n)
{
	double t0 = runlog_now();
	memset(m, 0, sizeof(*m));
	m->step = step;
	int rc = step_rollout(t, step, err, n);
	if (rc)
		return rc == ROLLOUT_INTERRUPTED ? 1 : -1;
	stop_test_point("rollout", step);
	if (stop_requested())
		return 1;
	rollout_metrics(t, m);
	double tc = runlog_now();
	if (rhythm_assign(&t->rh, &t->rb, t->pol.eng, t->rp.seed, &m->credit)) {
		snprintf(err, n, "credit: the decode engine rejected the maps forward");
		return -1;
	}
	m->has_credit = t->rh.stats != NULL;
	m->time_credit_s = runlog_now() - tc;
	double t1 = runlog_now();
	if (t->cfg.algo.recompute_logprobs) {
		if (logp_all(t, t->pol.model, t->old_logp, err, n))
			return -1;
		m->logp_mismatch = logp_mismatch(t);
	} else {
		memcpy(t->old_logp, t->rb.logp, (size_t)t->B * t->cap_len * sizeof(float));
	}
	if (t->ref && logp_all(t, t->ref, t->ref_logp, err, n))
		return -1;
	struct update_acc a = { 0 };
	if (update(t, &a, err, n))
		return -1;
	m->loss = a.mini_batches ? a.loss / a.mini_batches : 0.0;
	m->grad_norm = a.opt_steps ? a.gnorm / a.opt_steps : 0.0;
	m->clip_frac = a.tokens ? (double)a.clipped / a.tokens : 0.0;
	m->kl = a.tokens ? a.kl / a.tokens : 0.0;
	m->lr = adv_lr_at(t->opt_step - 1, t->opt_steps_total, t->cfg.optim.lr, t->cfg.optim.lr_min,
			  t->cfg.optim.warmup_steps, !strcmp(t->cfg.optim.schedule, "cosine"));
	m->skipped_updates = t->skipped;
	m->bad_step = a.skipped > 0;
	m->time_update_s = runlog_now() - t1;
	m->time_step_s = runlog_now() - t0;
	return 0;
}

static void log_samples(struct trainer *t, long step)
{
	for (int b = 0; b < t->B && b < t->cfg.train.samples_per_step; b++) {
		int i = b * t->G < t->B ? b * t->G : b; /* one response from each of the first groups */
		size_t at = (size_t)i * t->cap_len + t->rb.prompt_len[i];
		struct sample_detail d = { t->rb.resp_len[i], t->rb.tokens + at, &t->pol.tok,
					   t->rh.waad + at, t->rh.fai + at, t->rh.gamma + at,
					   t->rh.sets + at };
		runlog_sample(&t->log, step, t->ex[i / t->G].prompt, rollout_text(&t->rb, i),
			      t->rewards[i], t->correct[i], t->rh.stats ? &d : NULL);
	}
}

static void print_start(const struct trainer *t)
{
	printf("attnrl train: %s | %.2fM parameters | %d prompts x %d responses per step | %s\n",
	       t->run_dir, t->pol.model->n_elements / 1e6, t->n_prompts, t->G, tensor_backend_info());
	data_print(&t->data, &t->cfg, stdout);
	if (t->start_step)
		printf("attnrl train: resumed from %s (step %ld of %ld)%s\n", t->resumed_from,
		       t->start_step, t->cfg.train.steps,
		       t->start_step >= t->cfg.train.steps
			       ? "; nothing left to train: raise train.steps to go on, or start over "
				 "with run.resume=never (or another run.name)" : "");
	fflush(stdout);
}

/* one step: train, eval when due, logs; 0, 1 (stopped: discarded) or -1 */
static int run_step(struct trainer *t, long step, char *err, size_t n)
{
	const struct config *c = &t->cfg;
	struct step_metrics m;
	t->cur_step = step;
	int rc = train_step(t, step, &m, err, n);
	if (rc)
		return rc;
	if (c->train.eval_every > 0 && (step % c->train.eval_every == 0 || step == c->train.steps) &&
	    run_eval(t, &m, err, n))
		return -1;
	log_samples(t, step);
	runlog_step(&t->log, &m, step % c->train.log_every == 0 || m.has_eval || step == c->train.steps);
	stop_test_point("log", step);
	t->bad_run = m.bad_step ? t->bad_run + 1 : 0;
	if (m.bad_step)
		fprintf(stderr, "attnrl train: step %ld: non-finite loss or gradient, update skipped "
			"(%ld in a row)\n", step, t->bad_run);
	if (!c->train.max_bad_steps || t->bad_run < c->train.max_bad_steps)
		return 0;
	char last[1200] = "none (no checkpoint was saved)";
	if (t->last_saved)
		snprintf(last, sizeof(last), "%s/ckpt/step_%ld", t->run_dir, t->last_saved);
	snprintf(err, n, "%ld steps in a row (%ld-%ld) had a non-finite loss or gradient "
		 "(train.max_bad_steps=%ld): aborting; the last good checkpoint is %s", t->bad_run,
		 step - t->bad_run + 1, step, c->train.max_bad_steps, last);
	return -1;
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
	if (t->log.tty)
		printf("\n");
	if (steps > 0 && steps > t->last_saved && trainer_save(t, steps, err, n))
		return -1;
	snprintf(path, sizeof(path), "%s/model.safetensors", t->run_dir);
	if (model_save(t->pol.model, path, err, n))
		return -1;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("attnrl train: done, model in %s (peak memory %.0f MiB)\n", path, ru.ru_maxrss / 1024.0);
	return 0;
}

int trainer_run(struct trainer *t, char *err, size_t n)
{
	const struct config *c = &t->cfg;
	print_start(t);
	if (c->train.eval_every > 0 && c->train.eval_before && !t->start_step) {
		struct step_metrics m = { 0 };
		if (run_eval(t, &m, err, n))
			return -1;
		runlog_eval(&t->log, 0, m.eval_accuracy, m.eval_reward_mean, t->data.eval_size);
	}
	trainer_deadline_init(t);
	for (long step = t->start_step + 1; step <= c->train.steps; step++) {
		double t0 = runlog_now();
		t->cursor0 = t->data.cursor;
		trainer_deadline_check(t);
		int rc = stop_requested() ? 1 : run_step(t, step, err, n);
		if (rc)
			return rc < 0 ? -1 : trainer_stop_save(t, step - 1, err, n);
		if (runlog_now() - t0 > t->step_max)
			t->step_max = runlog_now() - t0;
		if (save_due(t, step) && trainer_save(t, step, err, n))
			return -1;
	}
	return finish(t, err, n);
}
