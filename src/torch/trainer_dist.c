/*
 * trainer_dist.c - the trainer's data parallelism (see trainer.h): which prompt groups this
 * rank generates and trains on, and the few collectives a step needs (gradient sum, token
 * counts, metrics, stop agreement). With one process every function is a no-op.
 *
 * The split keeps training independent of the world size: mini-batch k of the global rollout
 * batch is the groups [k*gpm, (k+1)*gpm) (gpm = mini_batch / group_size groups), exactly as with
 * one process, and each rank owns an equal contiguous share of every mini-batch's groups. So
 * rank r's local group j is global group (j / gpr) * gpm + r * gpr + j % gpr, gpr = gpm / world.
 * Loss weights use the global mini-batch size and token count, so the gradients summed over
 * ranks are the one-process gradient; sampling streams follow the global sequence index.
 */
#include "attnrl/trainer.h"
#include "trainer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the launcher's ranks; a world of one when none; -1 with err on a bad environment */
int trainer_dist_env(struct trainer *t, char *err, size_t n)
{
	if (dist_env_read(&t->dist.env, err, n))
		return -1;
	t->rank = t->dist.env.rank;
	t->world = t->dist.env.world;
	return 0;
}

/* the batch arithmetic a split needs: whole groups per rank in every mini-batch */
int trainer_dist_check(const struct trainer *t, char *err, size_t n)
{
	const struct config *c = &t->cfg;
	long P = c->rollout.prompts_per_step, G = c->rollout.group_size, mb = c->algo.mini_batch;
	long W = t->world;
	if (W == 1)
		return 0;
	if (mb % G || (mb / G) % W || P % W) {
		snprintf(err, n, "dist: %ld ranks need every mini-batch to split into whole prompt "
			 "groups per rank: algo.mini_batch=%ld must be a multiple of rollout.group_size "
			 "x ranks = %ld (and rollout.prompts_per_step=%ld of %ld)", W, mb, G * W, P, W);
		return -1;
	}
	long micro = c->algo.micro_batch;
	if (micro && (mb / W) % micro) {
		snprintf(err, n, "dist: algo.micro_batch=%ld must divide each rank's share of the "
			 "mini-batch, %ld / %ld ranks = %ld", micro, mb, W, mb / W);
		return -1;
	}
	return 0;
}

/* joins the other ranks; run_dir must exist (the file rendezvous lives there) */
int trainer_dist_init(struct trainer *t, char *err, size_t n)
{
	const struct config *c = &t->cfg;
	struct dist_env env = t->dist.env;
	/* stream: NCCL orders its own with torch's, where the gradients are copied */
	struct dist_opts o = { c->dist.backend, c->dist.rendezvous, t->run_dir, c->dist.timeout,
			       t->device != TENSOR_CPU, &env,
			       tensor_cuda_current_stream(t->device) };
	if (dist_init(&t->dist, &o, err, n))
		return -1;
	if (t->world > 1 && !t->rank)
		printf("attnrl train: %d ranks, %s backend, rendezvous by %s\n", t->world,
		       dist_backend_name(t->dist.backend), t->dist.where);
	return 0;
}

int trainer_group_of(const struct trainer *t, int j)
{
	if (t->world == 1)
		return j;
	int gpm = (int)(t->cfg.algo.mini_batch / t->G), gpr = gpm / t->world;
	return j / gpr * gpm + t->rank * gpr + j % gpr;
}

/* the local index of global group g, or -1 when another rank owns it */
int trainer_local_group(const struct trainer *t, int g)
{
	if (t->world == 1)
		return g;
	int gpm = (int)(t->cfg.algo.mini_batch / t->G), gpr = gpm / t->world;
	int in = g % gpm;
	return in / gpr == t->rank ? g / gpm * gpr + in % gpr : -1;
}

int trainer_sum(struct trainer *t, double *v, int k, char *err, size_t n)
{
	if (t->world == 1)
		return 0;
	return dist_allreduce_sum(&t->dist, v, (size_t)k, DIST_F64, err, n);
}

/* 1 on every rank when flag is set on any */
int trainer_any(struct trainer *t, int flag, char *err, size_t n)
{
	double v = flag ? 1.0 : 0.0;
	if (trainer_sum(t, &v, 1, err, n))
		return -1;
	return v > 0;
}

/* every parameter's gradient summed over ranks through the flat buffer: one all-reduce, or
 * with ZeRO-1 a reduce-scatter (only this rank's slice of the sum is needed) */
int trainer_sum_grads(struct trainer *t, char *err, size_t n)
{
	if (t->world == 1)
		return 0;
	struct model *m = t->tm;
	size_t count = (size_t)m->n_elements;
	if (tensor_flat_copy(m->params, m->n_params, 1, t->flat, 0, 1)) {
		snprintf(err, n, "dist: cannot read the gradients: %s", tensor_last_error());
		return -1;
	}
	float *buf = tensor_data(t->flat);
	if (t->sharded)
		return dist_reduce_scatter_sum_f32(&t->dist, buf, count, err, n);
	if (dist_allreduce_sum(&t->dist, buf, count, DIST_F32, err, n))
		return -1;
	if (tensor_flat_copy(m->params, m->n_params, 1, t->flat, 0, 0)) {
		snprintf(err, n, "dist: cannot write the gradients: %s", tensor_last_error());
		return -1;
	}
	return 0;
}
