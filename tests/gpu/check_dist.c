/*
 * check_dist.c - the trainer's data parallelism on the NCCL backend, two ranks, no GPU: the
 * real src/torch/trainer_dist.c, src/torch/trainer_zero.c, src/dist.c and src/dist_nccl.c built
 * against the CUDA and NCCL emulation (tests/gpu/emu: emu_mem.h, nccl.h) and the tensor API of
 * tensor_emu.c, whose copies run on a "current stream" of their own as torch's do on a GPU.
 * The emulated NCCL refuses host memory and memory written on another stream that its stream
 * has not waited for, so a pass shows that the backend stages host scalars through device
 * memory and orders its stream after (and before) the tensors' stream. Every result is
 * compared with its exact value: gradients summed by all-reduce and by the ZeRO-1
 * reduce-scatter (unequal and equal slices), the global norm of the sharded gradients, the
 * weights all-gathered after the sharded step, trainer_sum / trainer_any over host doubles,
 * and the shared-folder check's host broadcast.
 * Usage: check_dist   (forks one process per rank; prints CHECK lines, exits non-zero on any
 * failure)
 */
#define _XOPEN_SOURCE 700
#include "attnrl/trainer.h"
#include "../../src/torch/trainer_internal.h"

#include "tensor_emu.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORLD 2
#define MAX_PARAMS 4

struct scenario {
	const char *name;
	int sharded, n_params;
	int64_t sizes[MAX_PARAMS];
};

/* 15 elements split 8 + 7 (grouped ncclReduce / ncclBroadcast per slice), 16 split 8 + 8
 * (ncclReduceScatter / ncclAllGather) */
static const struct scenario SCENARIOS[] = {
	{ "all-reduce", 0, 3, { 5, 3, 7 } },
	{ "zero1 unequal slices", 1, 3, { 5, 3, 7 } },
	{ "zero1 equal slices", 1, 2, { 6, 10 } },
};

static int failures, passes;

static void report(int rank, const char *what, int ok, const char *why)
{
	printf("CHECK rank %d %s: %s%s%s\n", rank, what, ok ? "PASS" : "FAIL", ok ? "" : ": ",
	       ok ? "" : why);
	fflush(stdout);
	if (ok)
		passes++;
	else
		failures++;
}

/* flat element i: weight 100 + i; rank r's gradient (r + 1) * (i + 1) */
static float weight0(int64_t i)
{
	return 100.0f + (float)i;
}

static float grad_of(int rank, int64_t i)
{
	return (float)((rank + 1) * (i + 1));
}

static float grad_sum(int64_t i)
{
	return (float)(WORLD * (WORLD + 1) / 2 * (i + 1));
}

static int make_model(struct model *m, const struct scenario *s, int rank)
{
	static float w[64], g[64];
	memset(m, 0, sizeof(*m));
	m->params = calloc(MAX_PARAMS, sizeof(tensor *));
	m->n_params = s->n_params;
	for (int p = 0; p < s->n_params && m->params; p++) {
		for (int64_t j = 0; j < s->sizes[p]; j++) {
			w[j] = weight0(m->n_elements + j);
			g[j] = grad_of(rank, m->n_elements + j);
		}
		if (!(m->params[p] = tensor_emu_param(s->sizes[p], w, g)))
			return -1;
		m->n_elements += s->sizes[p];
	}
	return m->params ? 0 : -1;
}

static void free_model(struct model *m)
{
	for (int p = 0; p < m->n_params; p++)
		tensor_free(m->params[p]);
	free(m->params);
}

/* the tensors ts (their grads when grads) seen as one flat buffer equal want(i) on [lo, hi) */
static int flat_equals(tensor *const *ts, int n, int grads, int64_t lo, int64_t hi,
		       float (*want)(int64_t), char *why, size_t wn)
{
	float x[64];
	int64_t at = 0;
	for (int p = 0; p < n; p++) {
		const tensor *t = grads ? tensor_grad(ts[p]) : ts[p];
		if (tensor_emu_read(t, x)) {
			snprintf(why, wn, "%s", tensor_last_error());
			return 0;
		}
		for (int64_t j = 0; j < tensor_numel(t); j++, at++)
			if (at >= lo && at < hi && x[j] != want(at)) {
				snprintf(why, wn, "element %lld is %g, expected %g", (long long)at, x[j],
					 want(at));
				return 0;
			}
	}
	return 1;
}

static float stepped(int64_t i)
{
	return weight0(i) - grad_sum(i); /* lr 1 */
}

static void check_sharded(struct trainer *t, const char *name)
{
	struct model *m = t->tm;
	char what[128], why[512] = "";
	double norm = 0, want = 0;
	for (int64_t i = 0; i < m->n_elements; i++)
		want += (double)grad_sum(i) * grad_sum(i);
	want = sqrt(want);
	snprintf(what, sizeof(what), "%s: global grad norm", name);
	int ok = !trainer_clip(t, &norm, why, sizeof(why));
	if (ok && norm != want)
		snprintf(why, sizeof(why), "%.17g, expected %.17g", norm, want);
	report(t->rank, what, ok && norm == want, why);
	struct tensor_adamw hp = { 1.0, 0.9, 0.999, 1e-8, 0.0, 1 };
	snprintf(what, sizeof(what), "%s: weights after the step, all-gathered", name);
	ok = !trainer_adamw(t, &hp, why, sizeof(why)) &&
	     flat_equals(m->params, m->n_params, 0, 0, m->n_elements, stepped, why, sizeof(why));
	report(t->rank, what, ok, why);
}

static void check_scenario(struct trainer *t, const struct scenario *s)
{
	struct model m;
	char what[128], why[512] = "";
	t->cfg.dist.shard_optimizer = s->sharded;
	t->tm = &m;
	if (make_model(&m, s, t->rank)) {
		report(t->rank, s->name, 0, tensor_last_error());
		return;
	}
	snprintf(what, sizeof(what), "%s: optimizer set-up", s->name);
	int ok = !trainer_optimizer_init(t, why, sizeof(why));
	report(t->rank, what, ok, why);
	snprintf(what, sizeof(what), "%s: summed gradients", s->name);
	if (ok && !(ok = !trainer_sum_grads(t, why, sizeof(why))))
		report(t->rank, what, 0, why);
	else if (ok && !s->sharded)
		report(t->rank, what, flat_equals(m.params, m.n_params, 1, 0, m.n_elements, grad_sum,
						   why, sizeof(why)), why);
	else if (ok)
		report(t->rank, what, flat_equals(&t->flat, 1, 0, t->zoff, t->zoff + t->zlen,
						   grad_sum, why, sizeof(why)), why);
	if (ok && s->sharded)
		check_sharded(t, s->name);
	trainer_optimizer_free(t);
	t->flat = t->zm = t->zv = NULL;
	t->adam_m = t->adam_v = NULL;
	free_model(&m);
}

/* trainer_sum and trainer_any: host doubles on every backend */
static void check_scalars(struct trainer *t)
{
	char why[512] = "";
	double v[3] = { t->rank + 0.25, 1e6 * (t->rank + 1), -t->rank };
	int ok = !trainer_sum(t, v, 3, why, sizeof(why));
	if (ok && (v[0] != 1.5 || v[1] != 3e6 || v[2] != -1))
		snprintf(why, sizeof(why), "{%g, %g, %g}, expected {1.5, 3e+06, -1}", v[0], v[1], v[2]);
	report(t->rank, "trainer_sum of host doubles", ok && v[0] == 1.5 && v[1] == 3e6 &&
	       v[2] == -1, why);
	int any = trainer_any(t, t->rank == 1, why, sizeof(why));
	report(t->rank, "trainer_any, set on rank 1", any == 1, any < 0 ? why : "not 1");
	any = trainer_any(t, 0, why, sizeof(why));
	report(t->rank, "trainer_any, set nowhere", any == 0, any < 0 ? why : "not 0");
}

static int run_rank(int rank, const char *dir)
{
	static struct trainer t;
	char why[512] = "";
	t.rank = rank;
	t.world = WORLD;
	t.device = 0;
	t.dist.env = (struct dist_env){ .rank = rank, .world = WORLD, .local_rank = rank,
					.local_world = WORLD, .source = "env" };
	snprintf(t.run_dir, sizeof(t.run_dir), "%s", dir);
	snprintf(t.cfg.dist.backend, sizeof(t.cfg.dist.backend), "nccl");
	snprintf(t.cfg.dist.rendezvous, sizeof(t.cfg.dist.rendezvous), "file");
	t.cfg.dist.timeout = 30;
	t.cfg.optim.grad_clip = 0;
	if (trainer_dist_init(&t, why, sizeof(why))) {
		report(rank, "dist_init over NCCL", 0, why);
		return 1;
	}
	check_scenario(&t, &SCENARIOS[0]);
	check_scalars(&t);
	for (size_t s = 1; s < sizeof(SCENARIOS) / sizeof(SCENARIOS[0]); s++)
		check_scenario(&t, &SCENARIOS[s]);
	report(rank, "barrier", !dist_barrier(&t.dist, why, sizeof(why)), why);
	dist_free(&t.dist);
	printf("check_dist: rank %d: %d passed, %d failed\n", rank, passes, failures);
	fflush(stdout);
	return failures ? 1 : 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(path);
}

int main(void)
{
	char dir[] = "/tmp/attnrl-check-dist-XXXXXX";
	pid_t pid[WORLD];
	int bad = 0;
	if (!mkdtemp(dir)) {
		perror("check_dist: mkdtemp");
		return 1;
	}
	for (int r = 0; r < WORLD; r++) {
		fflush(stdout);
		if ((pid[r] = fork()) == 0)
			_exit(run_rank(r, dir));
		bad |= pid[r] < 0;
	}
	for (int r = 0; r < WORLD; r++) {
		int st = 0;
		if (pid[r] > 0 && (waitpid(pid[r], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)))
			bad = 1;
	}
	nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	printf("check_dist: %s\n", bad ? "FAILED" : "every check passed on both ranks");
	return bad;
}
