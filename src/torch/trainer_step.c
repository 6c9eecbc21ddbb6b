/*
 * trainer_step.c - one GRPO step (see trainer.h): prompts -> rollouts -> rewards -> credit ->
 * old (and reference) log-probs -> advantages -> PPO-clip update in mini-batches -> metrics; and
 * the held-out eval. The rollout runs on the decode engine, which reads the parameter memory
 * that AdamW updates in place; the update runs on ATen.
 * Invariant: per-token host arrays (old_logp, ref_logp, rb.logp) are indexed by token position
 * in the rollout batch, (B, cap_len); packed arrays by training position, (micro, T).
 */
#include "attnrl/trainer.h"
#include "trainer_internal.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/evaluate.h"
#include "attnrl/fsutil.h"
#include "attnrl/grpo_schedule.h"
#include "attnrl/rng.h"
#include "attnrl/stop.h"
#include "attnrl/testhook.h"

/* ---- rollout, rewards, credit, advantages ---------------------------------------------- */

/* rollout.release_kv: torch's cached blocks back to the device, so that the GPU engine can
 * make its KV cache again at the start of its next decode */
static void kv_before_decode(const struct trainer *t)
{
	if (t->cfg.rollout.release_kv && t->pol.gro)
		tensor_cuda_empty_cache();
}

/* rollout.release_kv: the engines' KV caches handed back for the update, after their last use
 * of the step (the rollout; credit.compute=maps feeds the CPU engine again) */
static void kv_release(struct trainer *t)
{
	if (!t->cfg.rollout.release_kv)
		return;
	policy_gpu_release_kv(&t->pol);
	engine_release_kv(t->pol.eng);
}

/* the step's prompts -> G responses each; 0, -1 with err, or ROLLOUT_INTERRUPTED */
static int step_rollout(struct trainer *t, long step, char *err, size_t n)
{
	for (int g = 0; g < t->cfg.rollout.prompts_per_step; g++) {
		int i = trainer_local_group(t, g); /* every rank reads every problem: same cursor */
		struct task_example *ex = &t->ex[i < 0 ? t->n_prompts : i];
		if (data_next_train(&t->data, ex)) {
			snprintf(err, n, "data: cannot generate train problem %ld", (long)t->data.cursor - 1);
			return -1;
		}
		if (i < 0)
			continue;
		int32_t *ids = t->prompt_ids + (size_t)i * DATA_PROMPT_MAX;
		t->prompt_lens[i] = data_encode(&t->data, t->ex[i].prompt, ids, DATA_PROMPT_MAX, err, n);
		if (t->prompt_lens[i] < 0)
			return -1;
		t->prompt_rows[i] = ids;
	}
	struct rng r;
	rng_init3(&r, (uint64_t)t->cfg.run.seed, (uint64_t)step, 0x73616d706c65ULL);
	t->rp.seed = rng_u64(&r);
	t->rp.interruptible = 1;
	kv_before_decode(t);
	return rollout_generate(&t->pol.ro, t->prompt_rows, t->prompt_lens, t->n_prompts, t->G,
				&t->rp, &t->rb, err, n);
}

/* every response's reward and verdict (reward_score); with reward.on_error=skip a failed
 * request takes its group out of the update. 0, REWARD_INTERRUPTED or -1 with err */
static int score_local(struct trainer *t, char *err, size_t n)
{
	struct reward *r = t->data.reward;
	reward_out_free(t->scores, t->B);
	for (int b = 0; b < t->B; b++)
		t->texts[b] = rollout_text(&t->rb, b);
	int rc = reward_score(r, &t->data, t->ex, t->G, t->texts, t->B, t->scores, err, n);
	memset(t->keep, 1, (size_t)t->B);
	for (int b = 0; b < t->B; b++) {
		t->rewards[b] = t->scores[b].reward;
		t->correct[b] = t->scores[b].correct;
		if (t->scores[b].failed && r && r->on_error == REWARD_SKIP)
			memset(t->keep + b / t->G * t->G, 0, (size_t)t->G);
	}
	return rc;
}

/* score_local on every rank, which agree on a failure or a stop: 0, 1 (stop) or -1 */
static int step_score(struct trainer *t, long step, struct step_metrics *m, char *err, size_t n)
{
	struct reward *r = t->data.reward;
	int rc = score_local(t, err, n);
	if (!r)
		return 0;
	if (rc < 0)
		trainer_fail_at(t, step, "fix the reward program", err, n);
	int failed = trainer_any(t, rc < 0, err, n);
	if (failed) {
		if (failed > 0 && rc >= 0)
			snprintf(err, n, "step %ld: another rank's reward program failed (its log says "
				 "why)", step);
		return -1;
	}
	int stop = trainer_any(t, rc == REWARD_INTERRUPTED || stop_requested(), err, n);
	if (stop)
		return stop < 0 ? -1 : 1;
	char line[600];
	reward_summary(r, t->B, line, sizeof(line));
	if (line[0])
		fprintf(stderr, "attnrl train: reward: step %ld%s: %s\n", step,
			t->world > 1 ? (t->rank ? " (a rank other than 0)" : " (rank 0)") : "", line);
	double v[2] = { (double)r->errors, (double)r->timeouts };
	if (trainer_sum(t, v, 2, err, n))
		return -1;
	m->has_reward_program = 1;
	m->reward_errors = (long)v[0];
	m->reward_timeouts = (long)v[1];
	return 0;
}

/* the statistics streamed during the rollout -> gamma per token (credit.strategy) */
static int step_credit(struct trainer *t, struct step_metrics *m, char *err, size_t n)
{
	double tc = fs_now();
	if (rhythm_assign(&t->rh, &t->rb, t->pol.eng, t->rp.seed, &m->credit)) {
		snprintf(err, n, "credit: the decode engine rejected the maps forward");
		return -1;
	}
	m->has_credit = t->rh.stats != NULL;
	m->time_credit_s = fs_now() - tc;
	return 0;
}

/* group advantages (B) from the rewards */
static void step_advantages(struct trainer *t)
{
	adv_compute(t->rewards, t->n_prompts, t->G, t->adv_mode, t->adv);
}

/* ---- forward passes -------------------------------------------------------------------- */

/* a packed host array (B,T) as an fp32 tensor on the training device */
static tensor *pack_tensor_f32(const struct trainer *t, const float *host)
{
	int64_t shape[2] = { t->pack.B, t->pack.T };
	return trainer_on_device(t, tensor_from_f32(host, shape, 2));
}

/* log-probs (B,T) of the pack's targets under m at the rollout temperature, fp32, the output
 * layer in chunks (model.logits_chunk) */
static tensor *pack_logp(const struct trainer *t, const struct model *m, tensor **entropy)
{
	int64_t shape[2] = { t->pack.B, t->pack.T };
	tensor *ids = trainer_on_device(t, tensor_from_i64(t->pack.ids, shape, 2));
	tensor *targets = trainer_on_device(t, tensor_from_i64(t->pack.targets, shape, 2));
	return model_token_logprobs(m, ids, targets, t->cfg.rollout.temperature,
				    t->cfg.model.logits_chunk, entropy);
}

/* prompt + response tokens of the current pack (its rows without padding) */
static long pack_tokens(const struct trainer *t)
{
	long k = 0;
	for (int b = 0; b < t->pack.B; b++)
		k += batch_row_len(&t->rb, t->pack.rows[b]);
	return k;
}

/* the micro-batches of rows [first, first + count) into t->order / t->starts; their number */
static int plan_micro(struct trainer *t, int first, int count)
{
	return batch_plan(&t->rb, first, count, t->cfg.algo.micro_batch_tokens, t->micro, t->order,
			  t->starts);
}

/* no-grad log-probs of every rollout token under m into dst (B, cap_len) */
static int logp_all(struct trainer *t, const struct model *m, float *dst, char *err, size_t n)
{
	int prev = tensor_set_grad_enabled(0), rc = 0;
	int k = plan_micro(t, 0, t->B);
	for (int i = 0; i < k && !rc; i++) {
		tensor_frame_push();
		int packed = !batch_pack_rows(&t->pack, &t->rb, t->order + t->starts[i],
					      t->starts[i + 1] - t->starts[i]);
		tensor *lp = packed ? pack_logp(t, m, NULL) : NULL;
		t->fwd_tokens += packed ? pack_tokens(t) : 0;
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

/* sum and count of |rollout log-prob - recomputed log-prob| over response tokens */
static void logp_mismatch(const struct trainer *t, double *sum_count)
{
	double sum = 0.0, count = 0.0;
	for (int b = 0; b < t->B; b++) {
		size_t row = (size_t)b * t->cap_len;
		for (int j = 0; j < t->rb.resp_len[b]; j++) {
			size_t at = row + t->rb.prompt_len[b] + j;
			sum += fabs(t->rb.logp[at] - t->old_logp[at]);
			count++;
		}
	}
	sum_count[0] = sum;
	sum_count[1] = count;
}

/* the old log-probs: recomputed by the training forward (their mismatch with the rollout's,
 * summed over ranks, into m), or the rollout's own (algo.recompute_logprobs=false) */
static int step_old_logp(struct trainer *t, struct step_metrics *m, char *err, size_t n)
{
	if (!t->cfg.algo.recompute_logprobs) {
		memcpy(t->old_logp, t->rb.logp, (size_t)t->B * t->cap_len * sizeof(float));
		return 0;
	}
	double mis[2];
	if (logp_all(t, t->tm, t->old_logp, err, n))
		return -1;
	logp_mismatch(t, mis);
	if (trainer_sum(t, mis, 2, err, n))
		return -1;
	m->logp_mismatch = mis[1] ? mis[0] / mis[1] : 0.0;
	return 0;
}

/* the reference model's log-probs, when algo.kl_coef > 0 */
static int step_ref_logp(struct trainer *t, char *err, size_t n)
{
	return t->ref ? logp_all(t, t->ref, t->ref_logp, err, n) : 0;
}

/* ---- the update ------------------------------------------------------------------------ */

struct update_acc {
	double loss, kl, gnorm;
	long tokens, clipped, opt_steps, mini_batches, skipped;
	long positions, padded; /* packed positions forward+backward, and of them padding */
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

/* the forward and backward of rollout rows rows[0..count), one micro-batch of a mini-batch of
 * n_mb responses and tokens_mb response tokens (every rank's) */
static int micro_step(struct trainer *t, const int *rows, int count, int n_mb, long tokens_mb,
		      struct update_acc *a)
{
	struct batch_pack *p = &t->pack;
	if (batch_pack_rows(p, &t->rb, rows, count))
		return -1;
	size_t bt = (size_t)p->B * p->T;
	for (int r = 0; r < p->B; r++) /* a group reward.on_error=skip dropped: no loss, no weight */
		if (!t->keep[p->rows[r]])
			memset(p->mask + (size_t)r * p->T, 0, (size_t)p->T * sizeof(float));
	float *old = t->host, *adv = old + bt, *w = adv + bt, *ref = w + bt, *lp = ref + bt;
	float *gamma = lp + bt;
	batch_pack_gather(p, &t->rb, t->old_logp, old);
	batch_pack_gather(p, &t->rb, t->ref_logp, ref);
	batch_pack_gather(p, &t->rb, t->rh.gamma, gamma);
	for (size_t i = 0; i < bt; i++) {
		float a = t->adv[p->rows[i / p->T]];
		adv[i] = p->mask[i] * credit_gamma_for(&t->rh.cp, gamma[i], a) * a;
	}
	adv_token_weights(p->mask, p->resp_len, p->B, p->T, t->agg, n_mb, tokens_mb,
			  (int)t->cfg.rollout.max_new_tokens, w);
	long real = pack_tokens(t);
	t->upd_tokens += real;
	t->upd_padded += (long)bt;
	a->positions += (long)bt;
	a->padded += (long)bt - real;
	tensor *ent = NULL;
	tensor *logp = pack_logp(t, t->tm, t->hp.entropy_coef != 0.0 ? &ent : NULL);
	tensor *loss = grpo_loss(logp, pack_tensor_f32(t, old), t->ref ? pack_tensor_f32(t, ref) : NULL,
				 ent, pack_tensor_f32(t, adv), pack_tensor_f32(t, w), &t->hp);
	if (loss && testhook_nan(t->cur_step))
		loss = tensor_mul_scalar(loss, NAN);
	double lv;
	if (!loss || tensor_backward(loss) || tensor_item(loss, &lv) ||
	    tensor_read_f32(tensor_detach(logp), lp, (int64_t)bt))
		return -1;
	a->loss += lv;
	micro_stats(t, lp, old, adv, ref, a);
	return 0;
}

static int zero_grad(struct model *m, char *err, size_t n)
{
	if (!tensor_zero_grad(m->params, m->n_params))
		return 0;
	snprintf(err, n, "update: %s", tensor_last_error());
	return -1;
}

static int optimizer_step(struct trainer *t, struct update_acc *a, char *err, size_t n)
{
	struct model *m = t->tm;
	double norm;
	if (trainer_clip(t, &norm, err, n))
		return -1;
	if (!isfinite(norm)) {
		t->skipped++;
		a->skipped++;
		if (!t->rank) /* the norm is global: every rank skips this update */
			fprintf(stderr, "attnrl train: warning: non-finite gradient at optimizer step "
				"%ld, update skipped\n", t->opt_step);
		return zero_grad(m, err, n);
	}
	const struct config *c = &t->cfg;
	struct tensor_adamw hp = { grpo_lr_at(t->opt_step, t->opt_steps_total, c->optim.lr,
					      c->optim.lr_min, c->optim.warmup_steps,
					      !strcmp(c->optim.schedule, "cosine")),
				   c->optim.beta1, c->optim.beta2, c->optim.eps,
				   c->optim.weight_decay, t->opt_step - t->skipped + 1 };
	t->opt_step++;
	a->gnorm += norm;
	a->opt_steps++;
	if (trainer_adamw(t, &hp, err, n))
		return -1;
	return zero_grad(m, err, n);
}

/* this rank's share of each mini-batch; loss weights count the whole mini-batch, so the
 * gradients summed over ranks are those of one process */
static int update(struct trainer *t, struct update_acc *a, char *err, size_t n)
{
	int mb = (int)t->cfg.algo.mini_batch, mb_local = mb / t->world;
	for (long e = 0; e < t->cfg.algo.ppo_epochs; e++) {
		for (int s = 0; s < t->B; s += mb_local) {
			double kept[2] = { 0, 0 }; /* response tokens and responses in the update */
			for (int b = s; b < s + mb_local; b++)
				if (t->keep[b])
					kept[0] += t->rb.resp_len[b], kept[1]++;
			if (trainer_sum(t, kept, 2, err, n))
				return -1;
			if (!kept[1])
				continue; /* every group of it was dropped */
			int k = plan_micro(t, s, mb_local);
			for (int i = 0; i < k; i++) {
				tensor_frame_push();
				int rc = micro_step(t, t->order + t->starts[i], t->starts[i + 1] - t->starts[i],
						    (int)kept[1], (long)kept[0], a);
				tensor_frame_pop();
				if (rc)
					goto fail;
			}
			a->mini_batches++;
			tensor_frame_push();
			int rc = trainer_sum_grads(t, err, n) || optimizer_step(t, a, err, n);
			tensor_frame_pop();
			if (rc)
				return -1;
			testhook_point("update", t->cur_step);
		}
	}
	return 0;
fail:
	snprintf(err, n, "update: %s", tensor_last_error());
	return -1;
}

/* ---- one step, eval, the loop ---------------------------------------------------------- */

/* over the global batch: sums from every rank */
static int rollout_metrics(struct trainer *t, struct step_metrics *m, char *err, size_t n)
{
	double v[6] = { 0.0, 0.0, 0.0, 0.0, 0.0, (double)t->rb.tokens_generated };
	enum { ENT, NTOK, REW, ACC, NSEQ, GEN };
	for (int b = 0; b < t->B; b++) {
		size_t row = (size_t)b * t->cap_len + t->rb.prompt_len[b];
		for (int j = 0; j < t->rb.resp_len[b]; j++)
			v[ENT] += t->rb.entropy[row + j];
		v[NTOK] += t->rb.resp_len[b];
		v[REW] += t->rewards[b];
		v[ACC] += t->correct[b];
	}
	v[NSEQ] = t->B;
	if (trainer_sum(t, v, 6, err, n))
		return -1;
	m->entropy = v[NTOK] ? v[ENT] / v[NTOK] : 0.0;
	m->response_len_mean = v[NTOK] / v[NSEQ];
	m->reward_mean = v[REW] / v[NSEQ];
	m->accuracy = v[ACC] / v[NSEQ];
	m->time_rollout_s = t->rb.seconds;
	m->rollout_tokens_per_s = t->rb.seconds > 0 ? v[GEN] / t->rb.seconds : 0.0;
	return 0;
}

/* eval_hooks.response of training's eval: problem i's right responses counted into ctx */
static int count_right(void *ctx, int i, int j, const char *text, double reward, int correct,
		       int len, char *err, size_t errn)
{
	(void)j, (void)text, (void)reward, (void)len, (void)err, (void)errn;
	((double *)ctx)[i] += correct;
	return 0;
}

/* the eval by subject: each rank counted its slice of the problems, the sum has them all (the
 * labels come from the data, the same on every rank); m's eval_subsets point into t */
static int eval_by_subject(struct trainer *t, struct step_metrics *m, char *err, size_t n)
{
	int size = t->data.eval_size;
	if (trainer_sum(t, t->eval_right, size, err, n))
		return -1;
	free(t->eval_sub);
	t->eval_rows = evaluate_subjects(&t->data, t->eval_right, size, (int)t->cfg.eval.k,
					 &t->eval_sub);
	if (t->eval_rows < 0) {
		snprintf(err, n, "eval: out of memory for the accuracy by subject");
		return -1;
	}
	m->eval_subsets = t->eval_rows ? t->eval_sub + 1 : NULL;
	m->n_eval_subsets = t->eval_rows ? t->eval_rows - 1 : 0;
	return 0;
}

int trainer_eval(struct trainer *t, struct step_metrics *m, char *err, size_t n)
{
	/* `attnrl eval`'s sampling, interruptible: a stop request ends it, on every rank, and the
	 * caller discards it */
	struct rollout_params p = evaluate_params(&t->cfg);
	struct eval_result r;
	const struct config_eval *e = &t->cfg.eval;
	size_t first, count; /* each rank evaluates a contiguous share of the problems */
	dist_slice((size_t)t->data.eval_size, t->world, t->rank, &first, &count);
	p.interruptible = 1;
	int subjects = evaluate_has_subjects(&t->data, t->data.eval_size);
	size_t size = (size_t)t->data.eval_size;
	if (subjects && !t->eval_right && !(t->eval_right = calloc(size, sizeof(double)))) {
		snprintf(err, n, "eval: out of memory for the accuracy by subject");
		return -1;
	}
	if (subjects)
		memset(t->eval_right, 0, size * sizeof(double));
	struct eval_hooks h = { .response = count_right, .ctx = t->eval_right };
	testhook_point("eval", t->cur_step);
	kv_before_decode(t);
	int rc = evaluate_range(&t->pol.ro, &t->data, (int)first, (int)count, (int)e->k, &p,
				t->pol.ro.max_seqs, subjects ? &h : NULL, &r, err, n);
	if (rc < 0)
		return -1;
	int stop = trainer_any(t, rc == ROLLOUT_INTERRUPTED, err, n);
	if (stop && !stop_requested())
		stop_request(SIGTERM);
	if (stop)
		return stop < 0 ? -1 : 1;
	double v[2] = { r.correct, r.reward_mean * r.n * r.k };
	if (trainer_sum(t, v, 2, err, n))
		return -1;
	if (r.reward_errors)
		fprintf(stderr, "attnrl train: reward: eval of step %ld: %ld responses scored 0: %s\n",
			t->cur_step, r.reward_errors, reward_pool_last_error(t->data.reward->pool));
	double m_resp = (double)t->data.eval_size * e->k;
	m->has_eval = 1;
	m->eval_accuracy = v[0] / m_resp;
	m->eval_reward_mean = v[1] / m_resp;
	return subjects ? eval_by_subject(t, m, err, n) : 0;
}

/* fs_now() at the start of the step and of the update (log-probs + update), and the seconds
 * of the weight copy after it */
struct step_times {
	double start, update, sync;
};

/* after the update: the weights where the next rollout and the saves read them, timed */
static int step_sync(struct trainer *t, struct step_times *tm, char *err, size_t n)
{
	double ts = fs_now();
	if (trainer_device_sync(t, 1, err, n))
		return -1;
	tm->sync = fs_now() - ts;
	t->sync_seconds += tm->sync;
	return 0;
}

/* the update's sums over ranks -> loss, grad_norm, clip_frac, kl; lr, skips and timing */
static int step_metrics_fill(struct trainer *t, struct update_acc *a, const struct step_times *tm,
			     struct step_metrics *m, char *err, size_t n)
{
	double sums[6] = { a->loss, a->kl, (double)a->tokens, (double)a->clipped,
			   (double)a->positions, (double)a->padded };
	if (trainer_sum(t, sums, 6, err, n))
		return -1;
	a->loss = sums[0], a->kl = sums[1], a->tokens = (long)sums[2], a->clipped = (long)sums[3];
	m->pad_frac = sums[4] > 0 ? sums[5] / sums[4] : 0.0;
	m->loss = a->mini_batches ? a->loss / a->mini_batches : 0.0;
	m->grad_norm = a->opt_steps ? a->gnorm / a->opt_steps : 0.0;
	m->clip_frac = a->tokens ? (double)a->clipped / a->tokens : 0.0;
	m->kl = a->tokens ? a->kl / a->tokens : 0.0;
	m->lr = grpo_lr_at(t->opt_step - 1, t->opt_steps_total, t->cfg.optim.lr,
			   t->cfg.optim.lr_min, t->cfg.optim.warmup_steps,
			   !strcmp(t->cfg.optim.schedule, "cosine"));
	m->skipped_updates = t->skipped;
	m->bad_step = a->skipped > 0;
	m->time_update_s = fs_now() - tm->update;
	t->upd_seconds += m->time_update_s - tm->sync;
	m->time_step_s = fs_now() - tm->start;
	return 0;
}

/* 0, -1 with err, or 1: a stop was requested before the update (the step is discarded) */
int trainer_step(struct trainer *t, long step, struct step_metrics *m, char *err, size_t n)
{
	struct step_times tm = { .start = fs_now() };
	memset(m, 0, sizeof(*m));
	m->step = step;
	int rc = step_rollout(t, step, err, n);
	if (rc && rc != ROLLOUT_INTERRUPTED)
		return -1;
	testhook_point("rollout", step);
	int stop = trainer_any(t, rc == ROLLOUT_INTERRUPTED || stop_requested(), err, n);
	if (stop)
		return stop < 0 ? -1 : 1; /* every rank discards the step */
	if ((rc = step_score(t, step, m, err, n)))
		return rc;
	if (rollout_metrics(t, m, err, n) || step_credit(t, m, err, n))
		return -1;
	kv_release(t);
	tm.update = fs_now();
	if (step_old_logp(t, m, err, n) || step_ref_logp(t, err, n))
		return -1;
	step_advantages(t);
	struct update_acc a = { 0 };
	if (update(t, &a, err, n) || step_sync(t, &tm, err, n))
		return -1;
	return step_metrics_fill(t, &a, &tm, m, err, n);
}
