/*
 * cmd_sft.c - `attnrl sft`: supervised warm-up on the task's worked solutions (teacher forcing,
 * cross-entropy on the response tokens), the project's own way to make the embedded default's
 * starting model. Batches of prompt + solution + EOS, AdamW.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/batch.h"
#include "attnrl/commands.h"
#include "attnrl/data.h"
#include "attnrl/evaluate.h"
#include "attnrl/fsutil.h"
#include "attnrl/grpo_schedule.h"
#include "attnrl/policy.h"
#include "attnrl/rng.h"
#include "attnrl/runlock.h"
#include "attnrl/runlog.h"
#include "attnrl/stop.h"
#include "attnrl/trainer.h"

static const struct args_opt sft_opts[] = {
	{ "CONFIG", ARGS_LIST, 0, "CONFIG [section.key=value ...]", 0, 0, NULL, ARGS_REQUIRED,
	  "a YAML file, then overrides of its options (the sft.* keys among them)" },
	{ NULL },
};
const struct args_spec cmd_sft_args = { "sft", "supervised warm-up on the task's solutions",
					sft_opts };

struct sft {
	const struct config *c;
	struct policy pol;
	struct data data;
	struct rollout_batch rb;
	struct batch_pack pack;
	tensor **m, **v;
	float *w;
	struct rng rng;     /* which examples lose their worked steps */
	long skipped;       /* math rows passed over: no solution, or too long */
};

/* the solution, or with probability sft.direct_frac only its final <answer>...</answer> */
static const char *solution_of(struct sft *s, const struct task_example *ex)
{
	const char *answer = strstr(ex->solution, "<answer>");
	if (answer && rng_uniform(&s->rng) < s->c->sft.direct_frac)
		return answer;
	return ex->solution;
}

/* example ex as prompt tokens then solution tokens + EOS in row b of rb: 0, 1 when the
 * solution does not fit in model.max_seq_len, -1 on an error */
static int put_example(struct sft *s, int b, const struct task_example *ex, char *err, size_t n)
{
	int32_t *row = s->rb.tokens + (size_t)b * s->rb.cap_len;
	int p = data_encode(&s->data, ex->prompt, row, s->rb.cap_len, err, n);
	if (p < 0)
		return -1;
	int r = tokenizer_encode(&s->pol.tok, solution_of(s, ex), row + p, s->rb.cap_len - p - 1);
	if (r < 0)
		return 1;
	row[p + r] = s->pol.tok.eos_id;
	s->rb.prompt_len[b] = p;
	s->rb.resp_len[b] = r + 1;
	return 0;
}

/* the next train example in row b; math rows without a solution, or whose solution does not
 * fit, are passed over (counted in s->skipped) */
static int fill_example(struct sft *s, int b, char *err, size_t n)
{
	struct task_example ex;
	int tries = s->data.from_file ? s->data.n_train : 1;
	for (int i = 0; i < tries; i++) {
		if (data_next_train(&s->data, &ex))
			return -1;
		int rc = ex.solution[0] ? put_example(s, b, &ex, err, n) : 1;
		if (rc <= 0)
			return rc;
		s->skipped++;
	}
	snprintf(err, n, "sft: no train example whose solution fits in model.max_seq_len=%d",
		 s->rb.cap_len);
	return -1;
}

static int sft_init(struct sft *s, const struct config *c, char *err, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	rng_init3(&s->rng, (uint64_t)c->run.seed, 0x736674ULL, 0);
	int bs = (int)c->sft.batch_size, cap = (int)c->model.max_seq_len;
	int eval_batch = c->data.eval_size < 256 ? (int)c->data.eval_size : 256;
	if (policy_init(&s->pol, c, eval_batch, err, n) || data_init(&s->data, c, &s->pol.tok, err, n))
		return -1;
	if (s->data.from_file && !s->data.n_solutions) {
		snprintf(err, n, "sft: %s has no worked solutions (a GSM8K answer with '#### ' or a "
			 "'solution' field); sft needs them, RL (attnrl train) does not", c->data.path);
		return -1;
	}
	struct model *m = s->pol.model;
	s->m = calloc(m->n_params, sizeof(tensor *));
	s->v = calloc(m->n_params, sizeof(tensor *));
	s->w = calloc((size_t)bs * cap, sizeof(float));
	if (!s->m || !s->v || !s->w || rollout_batch_init(&s->rb, bs, cap) ||
	    batch_pack_init(&s->pack, bs, cap, 0)) {
		snprintf(err, n, "sft: out of memory");
		return -1;
	}
	for (int i = 0; i < m->n_params; i++) {
		s->m[i] = tensor_keep(tensor_mul_scalar(m->params[i], 0.0));
		s->v[i] = tensor_keep(tensor_mul_scalar(m->params[i], 0.0));
	}
	m->checkpoint_layers = (int)c->train.checkpoint_layers;
	return model_set_requires_grad(m, 1);
}

static void sft_free(struct sft *s)
{
	for (int i = 0; s->m && i < s->pol.model->n_params; i++) {
		tensor_free(s->m[i]);
		tensor_free(s->v[i]);
	}
	free(s->m);
	free(s->v);
	free(s->w);
	rollout_batch_free(&s->rb);
	batch_pack_free(&s->pack);
	data_free(&s->data);
	policy_free(&s->pol);
}

/* one optimizer step; *loss receives the mean token cross-entropy */
static int sft_step(struct sft *s, long step, double *loss, char *err, size_t n)
{
	int bs = (int)s->c->sft.batch_size;
	for (int b = 0; b < bs; b++)
		if (fill_example(s, b, err, n))
			return -1;
	struct batch_pack *p = &s->pack;
	if (batch_pack_build(p, &s->rb, 0, bs))
		return -1;
	for (size_t i = 0; i < (size_t)p->B * p->T; i++)
		s->w[i] = -p->mask[i] / (float)p->tokens;
	struct model *m = s->pol.model;
	int64_t shape[2] = { p->B, p->T };
	tensor_frame_push();
	tensor *lp = model_token_logprobs(m, tensor_from_i64(p->ids, shape, 2),
					  tensor_from_i64(p->targets, shape, 2), 1.0,
					  s->c->model.logits_chunk, NULL);
	tensor *l = tensor_sum(tensor_mul(lp, tensor_from_f32(s->w, shape, 2)));
	double norm;
	long total = s->c->sft.steps;
	struct tensor_adamw hp = { grpo_lr_at(step, total, s->c->sft.lr, 0.1 * s->c->sft.lr,
					      s->c->sft.warmup_steps, 1),
				   0.9, 0.95, 1e-8, 0.0, step + 1 };
	int rc = !l || tensor_backward(l) || tensor_item(l, loss) ||
		 tensor_clip_grad_norm(m->params, m->n_params, 1.0, &norm) ||
		 tensor_adamw_step(m->params, s->m, s->v, m->n_params, &hp) ||
		 tensor_zero_grad(m->params, m->n_params);
	tensor_frame_pop();
	if (rc)
		snprintf(err, n, "sft: %s", tensor_last_error());
	return rc ? -1 : 0;
}

static int sft_eval(struct sft *s, long step, char *err, size_t n)
{
	struct rollout_params p = rollout_params_from_config(s->c);
	struct eval_result r;
	p.ignore_eos = 0; /* greedy, EOS ends a response */
	p.top_k = 0;
	p.temperature = 0.0;
	p.top_p = 1.0;
	p.seed = 0;
	p.interruptible = 1;
	int rc = evaluate(&s->pol.ro, &s->data, s->data.eval_size, 1, &p, s->pol.ro.max_seqs, &r, err, n);
	if (rc)
		return rc; /* -1, or ROLLOUT_INTERRUPTED */
	printf("sft   step %5ld | eval accuracy %.3f (%d held-out, greedy) | reward %.3f\n", step,
	       r.accuracy, r.n, r.reward_mean);
	fflush(stdout);
	return 0;
}

/* a stop was requested before the warm-up ended (sft_run's outcome) */
#define SFT_STOPPED 1

/* err: the line that says the warm-up stopped at step of total and was not written */
static int sft_stopped(long step, long total, char *err, size_t n)
{
	snprintf(err, n, "stopped by %s at step %ld of %ld; the warm-up keeps no checkpoints, so no "
		 "model was written: rerun the same command to run it again",
		 stop_reason(stop_requested()), step, total);
	return SFT_STOPPED;
}

/* 0, -1 with err, SFT_STOPPED with err, or RUNLOCK_BUSY (another process writes the run
 * folder) */
static int sft_run(const struct config *c, char *err, size_t n)
{
	struct sft s;
	struct runlock lock;
	char dir[1024], path[1100];
	int rc = -1;
	snprintf(dir, sizeof(dir), "%s/%s", c->run.dir, c->run.name);
	int lk = fs_mkdir_p(dir, 0, err, n) ? -1 : runlock_acquire(&lock, dir, err, n);
	if (lk == RUNLOCK_TOOK_OVER)
		fprintf(stderr, "attnrl sft: warning: %s\n", err);
	else if (lk)
		return lk;
	policy_set_threads(c->train.threads);
	if (sft_init(&s, c, err, n) || trainer_prepare_run_dir(c, dir, sizeof(dir), err, n))
		goto out;
	if (stop_requested()) {
		rc = sft_stopped(0, c->sft.steps, err, n);
		goto out;
	}
	if (c->sft.out[0])
		snprintf(path, sizeof(path), "%s", c->sft.out);
	else
		snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	printf("attnrl sft: %.2fM parameters, %ld steps of %ld examples -> %s\n",
	       s.pol.model->n_elements / 1e6, c->sft.steps, c->sft.batch_size, path);
	data_print(&s.data, c, stdout);
	double t0 = fs_now(), loss = 0.0;
	long every = c->sft.steps >= 5 ? c->sft.steps / 5 : 1;
	for (long step = 0; step < c->sft.steps; step++) {
		if (stop_requested()) {
			rc = sft_stopped(step, c->sft.steps, err, n);
			goto out;
		}
		if (sft_step(&s, step, &loss, err, n))
			goto out;
		if ((step + 1) % 50 == 0)
			printf("sft   step %5ld | loss %.4f | %.1fs\n", step + 1, loss, fs_now() - t0), fflush(stdout);
		int ev = (step + 1) % every == 0 ? sft_eval(&s, step + 1, err, n) : 0;
		if (ev == ROLLOUT_INTERRUPTED)
			rc = sft_stopped(step + 1, c->sft.steps, err, n);
		if (ev)
			goto out;
	}
	if (s.skipped)
		printf("attnrl sft: %ld examples passed over (no solution, or longer than "
		       "model.max_seq_len)\n", s.skipped);
	rc = model_save(s.pol.model, path, err, n);
	if (!rc)
		printf("attnrl sft: wrote %s\n", path);
out:
	sft_free(&s);
	runlock_release(&lock);
	return rc;
}

int cmd_sft(int argc, char **argv)
{
	static struct config c;
	struct args_list cfg;
	char err[1024];
	int rc = args_parse(&cmd_sft_args, &cfg, argc, argv, err, sizeof(err));
	if (rc)
		return args_exit(&cmd_sft_args, rc, err);
	if (cmd_config_load(&c, &cfg))
		return ATTNRL_EXIT_USAGE;
	stop_install(); /* before the model loads: a stop in start-up is honoured too */
	rc = sft_run(&c, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "attnrl sft: %s\n", err);
		return rc == RUNLOCK_BUSY ? ATTNRL_EXIT_USAGE : rc == SFT_STOPPED ? STOP_EXIT_PREEMPTED : 1;
	}
	return 0;
}
