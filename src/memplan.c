/*
 * memplan.c - the memory plan of a training run and the memory available to it (memplan.h).
 * The estimate is deliberately simple, a sum of the big arrays; tests/test_memplan.sh holds it
 * against the measured peak of small runs (measured <= 1.5 x plan, plan <= 3 x measured).
 */
#include "attnrl/memplan.h"

#include <stdio.h>
#include <string.h>

/* positions of one forward/backward: the token budget, or micro rows of max_seq_len */
static double micro_positions(const struct config *c, int micro)
{
	long b = c->algo.micro_batch_tokens;
	return b > 0 ? (double)b : (double)micro * c->model.max_seq_len;
}

/* tokens per chunk of the output layer (tensor_head_logprobs' automatic size) */
static double head_chunk(const struct config *c, double V, double positions)
{
	double chunk = c->model.logits_chunk > 0 ? (double)c->model.logits_chunk
						  : (double)(16 << 20) / (V > 1 ? V : 1);
	chunk = chunk < 1 ? 1 : (long)chunk;
	return chunk < positions ? chunk : positions;
}

/* bytes one position keeps for the backward in one layer (act bytes per value): the norms'
 * inputs and outputs, q, k, v before and after RoPE, the attention output, the MLP's gate, up,
 * activation and product, the attention scores and probabilities (T keys; none where the
 * attention is a fused kernel), and the backward's own temporaries (the coefficients match
 * measured runs) */
static double layer_bytes(const struct memplan_shape *s, double T, double act)
{
	double qd = (double)s->H * s->E, kd = (double)s->K * s->E;
	return (10.0 * s->D + 4 * qd + 4 * kd + 8.0 * s->F + (s->attn_scores ? 2.0 * s->H * T : 0)) * act;
}

/* activations and logits of one forward/backward into p (act bytes per activation value) */
static void update_terms(struct memplan *p, const struct memplan_shape *s, const struct config *c,
			 int micro, double act)
{
	double T = c->model.max_seq_len, N = micro_positions(c, micro), L = s->L, V = s->V;
	if (c->train.checkpoint_layers) /* each layer's input, and one layer at a time */
		p->activations = N * (L * s->D * act + layer_bytes(s, T, act));
	else
		p->activations = N * L * layer_bytes(s, T, act);
	if (c->model.logits_chunk < 0)
		p->logits = 3 * N * V * sizeof(float); /* logits, log-softmax, their gradient */
	else /* a chunk's logits, probabilities, gradient and product; lse and entropy per token */
		p->logits = 4 * head_chunk(c, V, N) * V * sizeof(float) + 2 * N * sizeof(float);
}

/* the peak: what stays allocated, plus the KV cache and the update's gradients, activations and
 * logits (the gradients are freed after each optimizer step) together, or the larger of the two
 * when the KV cache is released for the update (release_kv) */
static void set_total(struct memplan *p, int release_kv)
{
	double held = p->weights + p->comm + p->adam + p->ref + p->base;
	double update = p->grads + p->activations + p->logits;
	p->total = held + (release_kv ? (p->kv > update ? p->kv : update) : p->kv + update);
}

static double param_count(const struct memplan_shape *s)
{
	double D = s->D, qd = (double)s->H * s->E, kd = (double)s->K * s->E, F = s->F;
	double layer = D * qd * 2 + D * kd * 2 + D * F * 3 + D * 2 + s->E * 2;
	return s->L * layer + (double)s->V * D * (s->tied ? 1 : 2) + D;
}

void memplan_estimate(struct memplan *p, const struct memplan_shape *s, const struct config *c,
		      int world, int micro, int max_seqs)
{
	double D = s->D, L = s->L, qd = (double)s->H * s->E, kd = (double)s->K * s->E, F = s->F;
	double T = c->model.max_seq_len, f = sizeof(float), params = param_count(s);
	double rows = max_seqs > 256 ? max_seqs : 256;
	memset(p, 0, sizeof(*p));
	p->weights = params * f;
	p->grads = params * f;
	p->comm = world > 1 ? params * f : 0;
	p->adam = 2 * params * f / (c->dist.shard_optimizer && world > 1 ? world : 1);
	p->ref = c->algo.kl_coef > 0 ? params * f : 0;
	p->kv = (2 * L * max_seqs * kd * T + rows * (3 * D + 3 * qd + 2 * kd + 2 * F)) * f;
	update_terms(p, s, c, micro, f);
	p->base = MEMPLAN_BASE;
	set_total(p, (int)c->rollout.release_kv);
}

void memplan_estimate_gpu(struct memplan *p, const struct memplan_shape *s, const struct config *c,
			  int world, int micro, int max_seqs)
{
	double params = param_count(s), kd = (double)s->K * s->E, T = c->model.max_seq_len;
	memset(p, 0, sizeof(*p));
	p->weights = params * (4 + 2);  /* fp32 master weights, the bf16 copy the engine decodes */
	p->grads = params * 4;          /* fp32 gradients */
	p->comm = world > 1 ? params * 4 : 0; /* the flat buffer of the all-reduce */
	p->adam = 2 * params * 4 / (c->dist.shard_optimizer && world > 1 ? world : 1);
	p->ref = c->algo.kl_coef > 0 ? params * 2 : 0;
	p->kv = 2.0 * s->L * max_seqs * kd * T * 2; /* bf16 K and V of every sequence */
	update_terms(p, s, c, micro, 2);           /* bf16 activations */
	p->base = MEMPLAN_BASE_GPU;
	set_total(p, (int)c->rollout.release_kv);
}

int memplan_engine_seqs(const struct config *c, long B)
{
	long eval = c->train.eval_every <= 0 ? 0 /* no eval */
		    : c->eval.batch ? c->eval.batch : c->data.eval_size < 256 ? c->data.eval_size : 256;
	return (int)(B + 1 > eval ? B + 1 : eval); /* + 1: credit.compute=maps feeds one again */
}

void memplan_run(struct memplan *p, const struct memplan_shape *s, const struct config *c,
		 int world, int gpu)
{
	long G = c->rollout.group_size, B = c->rollout.prompts_per_step / world * G;
	int micro = (int)(c->algo.micro_batch ? c->algo.micro_batch : c->algo.mini_batch / world);
	int max_seqs = memplan_engine_seqs(c, B);
	if (gpu)
		memplan_estimate_gpu(p, s, c, world, micro, max_seqs);
	else
		memplan_estimate(p, s, c, world, micro, max_seqs);
}

#define N_TERMS 9
static const char *const names[N_TERMS] = { "weights", "grads", "comm", "adam", "ref", "kv",
					    "activations", "logits", "base" };

static void terms(const struct memplan *p, double *v)
{
	double t[N_TERMS] = { p->weights, p->grads, p->comm, p->adam, p->ref, p->kv,
			      p->activations, p->logits, p->base };
	memcpy(v, t, sizeof(t));
}

void memplan_format(const struct memplan *p, char *buf, size_t n)
{
	double v[N_TERMS], gib = 1024.0 * 1048576;
	size_t k = (size_t)snprintf(buf, n, "%.1f GiB (", p->total / gib);
	terms(p, v);
	for (int i = 0, first = 1; i < N_TERMS && k < n; i++) {
		if (!v[i])
			continue;
		k += (size_t)snprintf(buf + k, n - k, "%s%s %.1f", first ? "" : ", ", names[i],
				      v[i] / gib);
		first = 0;
	}
	if (k < n)
		snprintf(buf + k, n - k, ")");
}

void memplan_largest(const struct memplan *p, char *buf, size_t n)
{
	double v[N_TERMS], gib = 1024.0 * 1048576;
	int a = 0, b = 1;
	terms(p, v);
	for (int i = 1; i < N_TERMS; i++)
		if (v[i] > v[a])
			a = i;
	b = a ? 0 : 1;
	for (int i = 0; i < N_TERMS; i++)
		if (i != a && v[i] > v[b])
			b = i;
	snprintf(buf, n, "%s %.1f GiB, %s %.1f GiB", names[a], v[a] / gib, names[b], v[b] / gib);
}

/* the first number of a file, -1 when it is not one ("max") */
static double read_num(const char *path)
{
	FILE *f = fopen(path, "r");
	double x = -1;
	if (!f)
		return -1;
	if (fscanf(f, "%lf", &x) != 1)
		x = -1;
	fclose(f);
	return x;
}

double memplan_available(char *what, size_t n)
{
	char line[256];
	double avail = -1, kb;
	FILE *f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
			avail = kb * 1024;
	if (f)
		fclose(f);
	snprintf(what, n, "MemAvailable");
	/* cgroup v2, then v1 (a v1 "no limit" is a huge number, above MemAvailable) */
	double lim = read_num("/sys/fs/cgroup/memory.max"), use = 0;
	if (lim >= 0)
		use = read_num("/sys/fs/cgroup/memory.current");
	else if ((lim = read_num("/sys/fs/cgroup/memory/memory.limit_in_bytes")) >= 0)
		use = read_num("/sys/fs/cgroup/memory/memory.usage_in_bytes");
	if (lim >= 0 && (avail < 0 || lim - (use > 0 ? use : 0) < avail)) {
		avail = lim - (use > 0 ? use : 0);
		snprintf(what, n, "the cgroup's memory.max");
	}
	return avail;
}
