/*
 * kernels_cpu.c - the CPU twins of the CUDA kernels (see kernels.h): the same arithmetic as the
 * decode engine and rollout_sample() (fp32 attention, double softmax sums for sampling) over
 * the kernels' bf16 inputs, and the same algorithms as the CUDA versions where those differ
 * from a plain loop (sampling picks by radix select over the probabilities' bits, no sort).
 * They are the references of the GPU harness (tests/gpu/check_kernels.c) and are themselves
 * tested against the engine and PyTorch (tests/test_kernels_cpu.c).
 */
#include "attnrl/kernels.h"

#include "attnrl/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- decode attention + statistics ------------------------------------------------------- */

/* attnstats_row() on the kernel's view of the arrays: e (t+1) unnormalised, inv_sum */
static void stats_row(const struct kern_stats *st, int s, int h, int t, const float *e,
		      float inv_sum)
{
	int P = st->prompt_len[s], W = st->window, r = t - P, pair = st->pair0 + h;
	if (P < 0 || r < 0 || r >= st->max_resp)
		return;
	size_t base = ((size_t)s * st->n_pairs + pair) * st->max_resp;
	float dist = 0.0f, near = 0.0f;
	for (int k = 0; k <= t; k++)
		dist += e[k] * (float)(t - k);
	for (int k = t - W + 1 > 0 ? t - W + 1 : 0; k <= t; k++)
		near += e[k] * (float)(W - (t - k));
	st->dsum[(size_t)s * st->n_pairs + pair] += (double)dist * inv_sum;
	st->waad[base + r] = W - near * inv_sum;
	int lo = t - st->fai_hi > P ? t - st->fai_hi : P;
	float *fai = st->fai + base - P;
	for (int k = lo; k <= t - st->fai_lo; k++)
		fai[k] += e[k] * inv_sum;
}

static void attend_row(const struct kern_attn *a, int b, int h, float *p, float *q, float *acc)
{
	int E = a->E, s = a->seq[b], t = a->pos[b], kvh = h / (a->H / a->K);
	float scale = 1.0f / sqrtf((float)E), mx = -INFINITY, sum = 0.0f;
	size_t at = ((size_t)s * a->K + kvh) * a->C * E;
	const uint16_t *kc = a->k_cache + at, *vc = a->v_cache + at;
	const uint16_t *qb = a->q + ((size_t)b * a->H + h) * E;
	for (int i = 0; i < E; i++)
		q[i] = kern_bf2f(qb[i]);
	for (int k = 0; k <= t; k++) {
		float d = 0.0f;
		for (int i = 0; i < E; i++)
			d += q[i] * kern_bf2f(kc[(size_t)k * E + i]);
		p[k] = d * scale;
		mx = p[k] > mx ? p[k] : mx;
	}
	for (int k = 0; k <= t; k++) {
		p[k] = expf(p[k] - mx);
		sum += p[k];
	}
	if (a->stats)
		stats_row(a->stats, s, h, t, p, 1.0f / sum);
	memset(acc, 0, E * sizeof(float));
	for (int k = 0; k <= t; k++) {
		float w = p[k] / sum;
		for (int i = 0; i < E; i++)
			acc[i] += w * kern_bf2f(vc[(size_t)k * E + i]);
	}
	uint16_t *o = a->out + ((size_t)b * a->H + h) * E;
	for (int i = 0; i < E; i++)
		o[i] = kern_f2bf(acc[i]);
}

static int attn_shapes_ok(const struct kern_attn *a)
{
	if (a->B < 0 || a->H < 1 || a->K < 1 || a->H % a->K || a->E < 1 || a->C < 1)
		return 0;
	for (int b = 0; b < a->B; b++)
		if (a->pos[b] < 0 || a->pos[b] >= a->C || a->seq[b] < 0)
			return 0;
	return 1;
}

int kern_decode_attn_cpu(const struct kern_attn *a, void *stream)
{
	(void)stream;
	if (!attn_shapes_ok(a))
		return -1;
	long jobs = (long)a->B * a->H;
	int fail = 0;
#pragma omp parallel reduction(| : fail)
	{
		float *p = malloc(((size_t)a->C + 2 * a->E) * sizeof(float));
		if (!p)
			fail = 1;
#pragma omp for schedule(static)
		for (long j = 0; j < jobs; j++)
			if (p)
				attend_row(a, j / a->H, j % a->H, p, p + a->C, p + a->C + a->E);
		free(p);
	}
	return fail ? -1 : 0;
}

/* ---- q/k RMSNorm + RoPE + cache write --------------------------------------------------- */

/* one head: x = proj + bias, optional RMSNorm, rotation, bf16 into out */
static void head_finish(const uint16_t *in, const uint16_t *bias, const uint16_t *w, int E,
			float eps, const float *cs, const float *sn, uint16_t *out, float *x)
{
	for (int i = 0; i < E; i++)
		x[i] = kern_bf2f(in[i]) + (bias ? kern_bf2f(bias[i]) : 0.0f);
	if (w) {
		float ss = 0.0f;
		for (int i = 0; i < E; i++)
			ss += x[i] * x[i];
		float s = 1.0f / sqrtf(ss / E + eps);
		for (int i = 0; i < E; i++)
			x[i] = kern_bf2f(w[i]) * (x[i] * s);
	}
	int h2 = E / 2;
	for (int i = 0; i < h2; i++) {
		float a = x[i], b = x[i + h2];
		out[i] = kern_f2bf(a * cs[i] - b * sn[i]);
		out[i + h2] = kern_f2bf(b * cs[i + h2] + a * sn[i + h2]);
	}
}

int kern_qkv_rope_cpu(const struct kern_qkv *a, void *stream)
{
	(void)stream;
	int E = a->E, H = a->H, K = a->K;
	if (a->B < 0 || H < 1 || K < 1 || E < 2 || E % 2 || !a->q_norm != !a->k_norm ||
	    a->stride < 0)
		return -1;
	float *x = malloc(E * sizeof(float));
	if (!x)
		return -1;
	for (int b = 0; b < a->B; b++) {
		int t = a->pos[b], s = a->seq[b];
		if (t < 0 || t >= a->C || s < 0) {
			free(x);
			return -1;
		}
		const float *cs = a->rope_cos + (size_t)t * E, *sn = a->rope_sin + (size_t)t * E;
		size_t st = (size_t)a->stride, sq = st ? st : (size_t)H * E, sk = st ? st : (size_t)K * E;
		for (int h = 0; h < H; h++) {
			size_t at = b * sq + (size_t)h * E, out = ((size_t)b * H + h) * E;
			head_finish(a->q + at, a->bq ? a->bq + (size_t)h * E : NULL, a->q_norm, E,
				    a->eps, cs, sn, a->q_out + out, x);
		}
		for (int h = 0; h < K; h++) {
			size_t at = b * sk + (size_t)h * E, c = (((size_t)s * K + h) * a->C + t) * E;
			head_finish(a->k + at, a->bk ? a->bk + (size_t)h * E : NULL, a->k_norm, E,
				    a->eps, cs, sn, a->k_cache + c, x);
			for (int i = 0; i < E; i++)
				a->v_cache[c + i] = kern_f2bf(kern_bf2f(a->v[at + i]) +
							      (a->bv ? kern_bf2f(a->bv[h * E + i]) : 0.0f));
		}
	}
	free(x);
	return 0;
}

/* ---- sampling ---------------------------------------------------------------------------- */

/* the element of the order (probability descending, index ascending) at which a running count
 * or mass first passes a target; rank V = never */
enum { SEL_COUNT, SEL_MASS_GE, SEL_MASS_GT };
struct pick {
	long rank;
	double cum; /* mass up to and including the element */
	int tok;
};

static uint32_t bits_of(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static int passes(int mode, long count, double mass, double target)
{
	if (mode == SEL_COUNT)
		return count > (long)target;
	return mode == SEL_MASS_GE ? mass >= target : mass > target;
}

/* radix select over the bits of the probabilities (non-negative floats order as their bits):
 * four 8-bit digits from the top, each a histogram of count and mass of the candidates, then
 * the ties of the found value in index order */
static struct pick select_at(const float *p, int V, int mode, double target)
{
	uint32_t prefix = 0, mask = 0;
	long above = 0;
	double above_mass = 0.0;
	struct pick none = { V, 0.0, -1 };
	for (int shift = 24; shift >= 0; shift -= 8) {
		long cnt[256] = { 0 };
		double mass[256] = { 0 };
		for (int i = 0; i < V; i++) {
			uint32_t u = bits_of(p[i]);
			if ((u & mask) == prefix) {
				cnt[(u >> shift) & 255]++;
				mass[(u >> shift) & 255] += p[i];
			}
		}
		int bin = 255;
		for (; bin >= 0; bin--) {
			if (passes(mode, above + cnt[bin], above_mass + mass[bin], target))
				break;
			above += cnt[bin];
			above_mass += mass[bin];
		}
		if (bin < 0)
			return none;
		prefix |= (uint32_t)bin << shift;
		mask |= 255u << shift;
	}
	struct pick last = none;
	for (int i = 0; i < V; i++) {
		if (bits_of(p[i]) != prefix)
			continue;
		above_mass += p[i];
		last = (struct pick){ above, above_mass, i };
		if (passes(mode, above + 1, above_mass, target))
			return last;
		above++;
	}
	return last; /* the histogram's sum passed, the running one fell short by rounding */
}

/* top-k / top-p over the normalised probabilities p, then one draw within the kept tokens, as
 * rollout_sample's nucleus() + scan does with a sort */
static int nucleus_pick(const float *p, int V, int top_k, double top_p, struct rng *rng)
{
	long kept = top_k > 0 && top_k < V ? top_k : V;
	double mass = -1.0;
	if (top_p < 1.0) {
		struct pick c = select_at(p, V, SEL_MASS_GE, top_p);
		if (c.rank < kept) {
			kept = c.rank + 1;
			mass = c.cum;
		}
	}
	if (mass < 0)
		mass = select_at(p, V, SEL_COUNT, kept - 1).cum;
	double u = rng_uniform(rng) * mass;
	struct pick t = select_at(p, V, SEL_MASS_GT, u);
	if (t.rank >= kept || t.tok < 0)
		t = select_at(p, V, SEL_COUNT, kept - 1);
	return t.tok;
}

static int32_t sample_row(const struct kern_sample *a, const float *x, float *p, struct rng *rng,
			  float *logp, float *entropy)
{
	int V = a->V;
	double temp = a->temperature > 0 ? a->temperature : 1.0, mx = -INFINITY, sum = 0.0, ent = 0.0;
	for (int i = 0; i < V; i++)
		mx = x[i] / temp > mx ? x[i] / temp : mx;
	for (int i = 0; i < V; i++) {
		p[i] = (float)exp(x[i] / temp - mx);
		sum += p[i];
	}
	double lse = log(sum);
	for (int i = 0; i < V; i++) {
		p[i] = (float)(p[i] / sum);
		ent -= p[i] > 0 ? p[i] * (x[i] / temp - mx - lse) : 0.0;
	}
	int32_t tok = 0;
	if (a->temperature <= 0) {
		for (int i = 1; i < V; i++)
			tok = x[i] > x[tok] ? i : tok;
	} else if (a->top_k > 0 || a->top_p < 1.0) {
		tok = nucleus_pick(p, V, a->top_k, a->top_p, rng);
	} else {
		double u = rng_uniform(rng), acc = 0.0;
		tok = V - 1;
		for (int i = 0; i < V; i++) {
			acc += p[i];
			if (u < acc) {
				tok = i;
				break;
			}
		}
	}
	if (tok < 0 || tok >= V)
		tok = 0; /* only NaN logits get here: no order to pick from */
	*logp = (float)(x[tok] / temp - mx - lse);
	*entropy = (float)ent;
	return tok;
}

int kern_sample_cpu(const struct kern_sample *a, void *stream)
{
	(void)stream;
	if (a->B < 0 || a->V < 1)
		return -1;
	for (int b = 0; b < a->B; b++) {
		struct rng r;
		uint64_t *st = a->rng + (size_t)(a->rng_row ? a->rng_row[b] : b) * 4;
		memcpy(r.s, st, sizeof(r.s));
		a->token[b] = sample_row(a, a->logits + (size_t)b * a->V, a->scratch + (size_t)b * a->V,
					 &r, &a->logp[b], &a->entropy[b]);
		memcpy(st, r.s, sizeof(r.s));
	}
	return 0;
}

/* ---- the glue between projections ------------------------------------------------------- */

int kern_embed_cpu(const struct kern_rows *a, void *stream)
{
	(void)stream;
	for (int b = 0; b < a->B; b++)
		for (int i = 0; i < a->D; i++)
			a->x[(size_t)b * a->D + i] = kern_bf2f(a->embed[(size_t)a->tok[b] * a->D + i]);
	return a->B >= 0 ? 0 : -1;
}

int kern_add_rmsnorm_cpu(const struct kern_rows *a, void *stream)
{
	(void)stream;
	int D = a->D;
	for (int b = 0; b < a->B; b++) {
		float *x = a->x + (size_t)b * D, ss = 0.0f;
		for (int i = 0; a->add && i < D; i++)
			x[i] += kern_bf2f(a->add[(size_t)b * D + i]);
		for (int i = 0; i < D; i++)
			ss += x[i] * x[i];
		float s = 1.0f / sqrtf(ss / D + a->eps);
		for (int i = 0; i < D; i++)
			a->out[(size_t)b * D + i] = kern_f2bf(kern_bf2f(a->w[i]) * (x[i] * s));
	}
	return a->B >= 0 && D > 0 ? 0 : -1;
}

int kern_silu_mul_cpu(const struct kern_rows *a, void *stream)
{
	(void)stream;
	int F = a->F;
	for (int b = 0; b < a->B; b++)
		for (int i = 0; i < F; i++) {
			float g = kern_bf2f(a->gate_up[(size_t)b * 2 * F + i]);
			float u = kern_bf2f(a->gate_up[(size_t)b * 2 * F + F + i]);
			a->out[(size_t)b * F + i] = kern_f2bf(g / (1.0f + expf(-g)) * u);
		}
	return a->B >= 0 && F > 0 ? 0 : -1;
}

/* ---- the decode loop's bookkeeping ------------------------------------------------------ */

int kern_loop_prepare_cpu(const struct kern_loop *a, void *stream)
{
	(void)stream;
	for (int r = 0; r < a->n; r++) {
		int b = a->row_seq[r], done = a->state[b] == KERN_DONE;
		a->seq[r] = done ? a->dummy : b;
		a->pos[r] = done ? 0 : a->prompt_len[b] + a->resp_len[b] - 1;
		a->tok[r] = done ? 0 : a->last[b];
	}
	return a->n >= 0 ? 0 : -1;
}

/* why sequence b stops after token t (enum rollout_stop), or -1 */
static int loop_stop(const struct kern_loop *a, int b, int32_t t, int len)
{
	if (a->is_stop[t] && !a->ignore_eos)
		return 0;
	if (a->stop_len) {
		a->match[b] = a->stop_next[(size_t)a->match[b] * a->V + t];
		if (a->match[b] == a->stop_len)
			return 1;
	}
	return len >= a->max_new ? 2 : -1;
}

int kern_loop_advance_cpu(const struct kern_loop *a, void *stream)
{
	(void)stream;
	if (a->n < 0 || (a->stop_len && !a->stop_next))
		return -1;
	for (int r = 0; r < a->n; r++) {
		int b = a->row_seq[r];
		if (a->state[b] != KERN_SAMPLING) {
			a->state[b] = KERN_DONE;
			continue;
		}
		int32_t t = a->sampled[r];
		size_t at = (size_t)b * a->max_new + a->resp_len[b]++;
		a->out_tok[at] = t;
		a->out_logp[at] = a->logp[r];
		a->out_ent[at] = a->entropy[r];
		a->last[b] = t;
		int why = loop_stop(a, b, t, a->resp_len[b]);
		if (why >= 0) {
			a->stop_reason[b] = why;
			a->state[b] = a->stats ? KERN_LAST_ROW : KERN_DONE;
		}
	}
	return 0;
}

int kern_to_bf16_cpu(const float *src, uint16_t *dst, long n, void *stream)
{
	(void)stream;
	for (long i = 0; i < n; i++)
		dst[i] = kern_f2bf(src[i]);
	return n >= 0 ? 0 : -1;
}
