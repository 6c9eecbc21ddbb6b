/*
 * memplan.c - the memory plan of a training run and the memory available to it (memplan.h).
 * The estimate is deliberately simple, a sum of the big arrays; tests/test_memplan.sh holds it
 * against the measured peak of small runs (measured <= 1.5 x plan, plan <= 3 x measured).
 */
#include "attnrl/memplan.h"

#include <stdio.h>
#include <string.h>

void memplan_estimate(struct memplan *p, const struct memplan_shape *s, const struct config *c,
		      int world, int micro, int max_seqs)
{
	double D = s->D, L = s->L, H = s->H, E = s->E, F = s->F, V = s->V, T = c->model.max_seq_len;
	double qd = H * E, kd = s->K * E, f = sizeof(float);
	double layer = D * qd * 2 + D * kd * 2 + D * F * 3 + D * 2 + E * 2;
	double params = L * layer + V * D * (s->tied ? 1 : 2) + D;
	double rows = max_seqs > 256 ? max_seqs : 256;
	memset(p, 0, sizeof(*p));
	p->weights = params * f;
	p->grads = params * f;
	p->adam = 2 * params * f / (c->dist.shard_optimizer && world > 1 ? world : 1);
	p->ref = c->algo.kl_coef > 0 ? params * f : 0;
	p->kv = (2 * L * max_seqs * kd * T + rows * (3 * D + 3 * qd + 2 * kd + 2 * F)) * f;
	/* saved for the backward, per token and layer, every sequence max_seq_len long: the
	 * norms' inputs and outputs, q, k, v before and after RoPE, the attention output, the
	 * MLP's gate, up, activation and product, the attention scores and probabilities, and
	 * the temporaries of the backward itself (the coefficients match measured runs) */
	p->activations = micro * T * L * (10 * D + 4 * qd + 4 * kd + 8 * F + 2 * H * T) * f;
	p->logits = 3 * micro * T * V * f; /* logits, log-softmax, their gradient */
	p->base = MEMPLAN_BASE;
	p->total = p->weights + p->grads + p->adam + p->ref + p->kv + p->activations + p->logits +
		   p->base;
}

static const char *const names[] = { "weights", "grads", "adam", "ref", "kv", "activations",
				     "logits", "base" };

static void terms(const struct memplan *p, double *v)
{
	double t[] = { p->weights, p->grads, p->adam, p->ref, p->kv, p->activations, p->logits,
		       p->base };
	memcpy(v, t, sizeof(t));
}

void memplan_format(const struct memplan *p, char *buf, size_t n)
{
	double v[8], gib = 1024.0 * 1048576;
	size_t k = (size_t)snprintf(buf, n, "%.1f GiB (", p->total / gib);
	terms(p, v);
	for (int i = 0, first = 1; i < 8 && k < n; i++) {
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
	double v[8], gib = 1024.0 * 1048576;
	int a = 0, b = 1;
	terms(p, v);
	for (int i = 1; i < 8; i++)
		if (v[i] > v[a])
			a = i;
	b = a ? 0 : 1;
	for (int i = 0; i < 8; i++)
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
