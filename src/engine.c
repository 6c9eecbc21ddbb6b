/*
 * engine.c - the decode engine (see engine.h): rows of (sequence, position, token) through the
 * decoder with a KV cache. Projections are BLAS sgemm over all rows at once; attention runs per
 * (row, head) in parallel with OpenMP. Every buffer is allocated once in engine_create.
 */
#include "attnrl/engine.h"

#include "attnrl/credit_stats.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static float *plan(float **slot, size_t count, size_t *total)
{
	*total += count * sizeof(float);
	*slot = malloc(count ? count * sizeof(float) : 1);
	return *slot;
}

struct engine *engine_create(const struct engine_config *c, const struct engine_weights *w,
			     int max_seqs, int max_rows, int cache_len, char *err, size_t n)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, n, "engine: out of memory");
		return NULL;
	}
	e->cfg = *c;
	e->w = *w;
	e->max_seqs = max_seqs;
	e->max_rows = max_rows;
	e->cache_len = cache_len;
	size_t R = max_rows, D = c->dim, E = c->head_dim, F = c->hidden_dim;
	size_t qd = (size_t)c->n_heads * E, kd = (size_t)c->n_kv_heads * E;
	size_t cache = (size_t)c->n_layers * max_seqs * kd * cache_len;
	size_t threads = omp_get_max_threads();
	int ok = plan(&e->k_cache, cache, &e->bytes) && plan(&e->v_cache, cache, &e->bytes) &&
		 plan(&e->x, R * D, &e->bytes) && plan(&e->xb, R * (D > qd ? D : qd), &e->bytes) &&
		 plan(&e->q, R * qd, &e->bytes) && plan(&e->k, R * kd, &e->bytes) &&
		 plan(&e->v, R * kd, &e->bytes) && plan(&e->att, R * qd, &e->bytes) &&
		 plan(&e->hb, R * F, &e->bytes) && plan(&e->hb2, R * F, &e->bytes) &&
		 plan(&e->scores, threads * cache_len, &e->bytes) &&
		 plan(&e->out_rows, R * D, &e->bytes);
	if (!ok) {
		snprintf(err, n, "engine: cannot allocate %.1f MiB for %d sequences x %d positions",
			 e->bytes / 1048576.0, max_seqs, cache_len);
		engine_destroy(e);
		return NULL;
	}
	return e;
}

/* the whole pages inside [p, p + bytes) back to the kernel: they read as zeros when touched */
static void drop_pages(void *p, size_t bytes)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)p, b = a + bytes;
	a = (a + page - 1) / page * page;
	b = b / page * page;
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

void engine_release_kv(struct engine *e)
{
	size_t cache = (size_t)e->cfg.n_layers * e->max_seqs * e->cfg.n_kv_heads *
		       e->cfg.head_dim * e->cache_len * sizeof(float);
	drop_pages(e->k_cache, cache);
	drop_pages(e->v_cache, cache);
}

void engine_destroy(struct engine *e)
{
	if (!e)
		return;
	float *bufs[] = { e->k_cache, e->v_cache, e->x, e->xb, e->q, e->k, e->v, e->att,
			  e->hb, e->hb2, e->scores, e->out_rows };
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		free(bufs[i]);
	free(e);
}

/* out (n, dim) = rmsnorm of x (n, dim) times w */
static void rmsnorm_rows(float *out, const float *x, const float *w, int n, int dim, float eps)
{
	for (int r = 0; r < n; r++) {
		const float *xr = x + (size_t)r * dim;
		float *o = out + (size_t)r * dim;
		float ss = 0.0f;
		for (int i = 0; i < dim; i++)
			ss += xr[i] * xr[i];
		float s = 1.0f / sqrtf(ss / dim + eps);
		for (int i = 0; i < dim; i++)
			o[i] = w[i] * (xr[i] * s);
	}
}

/* y (n, out) = x (n, in) w^T + b, w (out, in) */
static void linear(float *y, const float *x, const float *w, const float *b, int n, int in, int out)
{
	if (b) {
		for (int r = 0; r < n; r++)
			memcpy(y + (size_t)r * out, b, out * sizeof(float));
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in,
		    b ? 1.0f : 0.0f, y, out);
}

/* half-split rotation (Hugging Face): pairs (i, i + E/2) */
static void rope_heads(float *v, int heads, int E, const float *cos, const float *sin)
{
	int h2 = E / 2;
	for (int h = 0; h < heads; h++) {
		float *x = v + (size_t)h * E;
		for (int i = 0; i < h2; i++) {
			float a = x[i], b = x[i + h2];
			x[i] = a * cos[i] - b * sin[i];
			x[i + h2] = b * cos[i + h2] + a * sin[i + h2];
		}
	}
}

static size_t cache_at(const struct engine *e, int l, int s, int kvh, int pos)
{
	const struct engine_config *c = &e->cfg;
	return ((((size_t)l * e->max_seqs + s) * c->n_kv_heads + kvh) * e->cache_len + pos) *
	       c->head_dim;
}

/* q/k norms, rope, then K and V of every row into the cache */
static void qkv_finish(struct engine *e, int l, int n, const int *seq, const int *pos)
{
	const struct engine_config *c = &e->cfg;
	const struct engine_layer_weights *lw = &e->w.layers[l];
	int E = c->head_dim, H = c->n_heads, K = c->n_kv_heads;
	for (int r = 0; r < n; r++) {
		float *q = e->q + (size_t)r * H * E, *k = e->k + (size_t)r * K * E;
		if (lw->q_norm) {
			rmsnorm_rows(q, q, lw->q_norm, H, E, c->norm_eps);
			rmsnorm_rows(k, k, lw->k_norm, K, E, c->norm_eps);
		}
		const float *cs = e->w.rope_cos + (size_t)pos[r] * E, *sn = e->w.rope_sin + (size_t)pos[r] * E;
		rope_heads(q, H, E, cs, sn);
		rope_heads(k, K, E, cs, sn);
		for (int h = 0; h < K; h++) {
			size_t at = cache_at(e, l, seq[r], h, pos[r]);
			memcpy(e->k_cache + at, k + (size_t)h * E, E * sizeof(float));
			memcpy(e->v_cache + at, e->v + ((size_t)r * K + h) * E, E * sizeof(float));
		}
	}
}

/* one row, one query head h: softmax(q k^T / sqrt(E)) v over positions 0..pos; the
 * probabilities go to the statistics when layer l is sampled */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* AVX2 + FMA where the CPU has them (picked once at load time), plain x86-64 elsewhere */
__attribute__((target_clones("arch=haswell", "default")))
#endif
static void attend(const struct engine *e, int l, int s, int h, int pos, const float *q,
		   float *out, float *p)
{
	int E = e->cfg.head_dim, kvh = h / (e->cfg.n_heads / e->cfg.n_kv_heads);
	float scale = 1.0f / sqrtf((float)E), mx = -INFINITY, sum = 0.0f;
	const float *kc = e->k_cache + cache_at(e, l, s, kvh, 0);
	const float *vc = e->v_cache + cache_at(e, l, s, kvh, 0);
	for (int t = 0; t <= pos; t++) {
		float d = 0.0f;
#pragma omp simd reduction(+ : d)
		for (int i = 0; i < E; i++)
			d += q[i] * kc[(size_t)t * E + i];
		p[t] = d * scale;
		mx = p[t] > mx ? p[t] : mx;
	}
	for (int t = 0; t <= pos; t++) {
		p[t] = expf(p[t] - mx);
		sum += p[t];
	}
	int li = e->stats ? e->stats->layer_slot[l] : -1;
	if (li >= 0)
		attnstats_row(e->stats, s, li, h, pos, p, 1.0f / sum);
	memset(out, 0, E * sizeof(float));
	for (int t = 0; t <= pos; t++) {
		float w = p[t] / sum;
		const float *vt = vc + (size_t)t * E;
#pragma omp simd
		for (int i = 0; i < E; i++)
			out[i] += w * vt[i];
	}
}

void engine_attention(struct engine *e, int l, int n, const int *seq, const int *pos)
{
	int H = e->cfg.n_heads, E = e->cfg.head_dim;
	long jobs = (long)n * H;
#pragma omp parallel for schedule(static) if (jobs * pos[0] > 4096)
	for (long j = 0; j < jobs; j++) {
		int r = j / H, h = j % H;
		float *p = e->scores + (size_t)omp_get_thread_num() * e->cache_len;
		attend(e, l, seq[r], h, pos[r], e->q + ((size_t)r * H + h) * E,
		       e->att + ((size_t)r * H + h) * E, p);
	}
}

static void layer_forward(struct engine *e, int l, int n, const int *seq, const int *pos)
{
	const struct engine_config *c = &e->cfg;
	const struct engine_layer_weights *lw = &e->w.layers[l];
	int D = c->dim, qd = c->n_heads * c->head_dim, kd = c->n_kv_heads * c->head_dim;
	int F = c->hidden_dim;
	rmsnorm_rows(e->xb, e->x, lw->attn_norm, n, D, c->norm_eps);
	linear(e->q, e->xb, lw->wq, lw->bq, n, D, qd);
	linear(e->k, e->xb, lw->wk, lw->bk, n, D, kd);
	linear(e->v, e->xb, lw->wv, lw->bv, n, D, kd);
	qkv_finish(e, l, n, seq, pos);
	engine_attention(e, l, n, seq, pos);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, D, qd, 1.0f, e->att, qd, lw->wo, qd,
		    1.0f, e->x, D);
	rmsnorm_rows(e->xb, e->x, lw->ffn_norm, n, D, c->norm_eps);
	linear(e->hb, e->xb, lw->w_gate, NULL, n, D, F);
	linear(e->hb2, e->xb, lw->w_up, NULL, n, D, F);
	for (size_t i = 0; i < (size_t)n * F; i++) {
		float g = e->hb[i];
		e->hb[i] = g / (1.0f + expf(-g)) * e->hb2[i];
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, D, F, 1.0f, e->hb, F, lw->w_down, F,
		    1.0f, e->x, D);
}

int engine_forward(struct engine *e, int n, const int *seq, const int *pos, const int32_t *tok,
		   int n_out, const int *out_row, float *logits)
{
	const struct engine_config *c = &e->cfg;
	int D = c->dim;
	if (n > e->max_rows || n_out > n)
		return -1;
	for (int r = 0; r < n; r++) {
		if (seq[r] < 0 || seq[r] >= e->max_seqs || pos[r] < 0 || pos[r] >= e->cache_len ||
		    tok[r] < 0 || tok[r] >= c->vocab_size)
			return -1;
		memcpy(e->x + (size_t)r * D, e->w.embed + (size_t)tok[r] * D, D * sizeof(float));
	}
	for (int l = 0; l < c->n_layers; l++)
		layer_forward(e, l, n, seq, pos);
	for (int i = 0; i < n_out; i++)
		rmsnorm_rows(e->out_rows + (size_t)i * D, e->x + (size_t)out_row[i] * D,
			     e->w.final_norm, 1, D, c->norm_eps);
	if (n_out > 0)
		linear(logits, e->out_rows, e->w.lm_head, NULL, n_out, D, c->vocab_size);
	return 0;
}

void engine_copy_seq(struct engine *e, int dst, int src, int len)
{
	const struct engine_config *c = &e->cfg;
	size_t bytes = (size_t)len * c->head_dim * sizeof(float);
	for (int l = 0; l < c->n_layers; l++) {
		for (int h = 0; h < c->n_kv_heads; h++) {
			memcpy(e->k_cache + cache_at(e, l, dst, h, 0), e->k_cache + cache_at(e, l, src, h, 0), bytes);
			memcpy(e->v_cache + cache_at(e, l, dst, h, 0), e->v_cache + cache_at(e, l, src, h, 0), bytes);
		}
	}
}
