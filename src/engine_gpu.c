/*
 * engine_gpu.c - the decode engine on a GPU (see engine_gpu.h): per layer, residual add +
 * RMSNorm, one cuBLAS projection for q|k|v, q/k norm + RoPE + cache write, decode attention
 * (with the statistics of a sampled layer), the output projection, add + RMSNorm, one
 * projection for gate|up, SwiGLU, the down projection; the final norm and the fp32 logits of
 * every row. Every device buffer is allocated in engine_gpu_create and listed in g->allocs;
 * all work goes to g->stream (cuBLAS too, with a fixed workspace so that a step can be
 * captured in a CUDA graph).
 */
#include "attnrl/engine_gpu.h"

#include "attnrl/kernels.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLAS_WORKSPACE (32u << 20)

struct gpu_layer {
	uint16_t *attn_norm, *wqkv, *bqkv, *q_norm, *k_norm, *wo, *ffn_norm, *wgu, *wd;
	uint16_t *k_cache, *v_cache; /* (S + 1, K, C, E) */
	struct kern_stats stats;     /* used when has_stats */
	int has_stats;
};

struct engine_gpu {
	struct engine_config cfg;
	int device, max_seqs, max_rows, cache_len, tied;
	cudaStream_t stream;
	cublasHandle_t blas;
	struct gpu_layer *layers;
	uint16_t *embed, *lm_head, *final_norm;
	float *cos, *sin, *x, *logits;
	uint16_t *xb, *qkv, *q, *att, *o, *gu, *h;
	int *seq, *pos;
	int32_t *tok;
	void *workspace;
	void **allocs;
	int n_allocs, cap_allocs, failed;
	void *kv;        /* every layer's K and V caches in one block (NULL: released) */
	size_t kv_layer; /* bytes of one layer's K (or V) cache */
};

static void *dev_alloc(struct engine_gpu *g, size_t bytes)
{
	void *p = NULL;
	if (g->failed || g->n_allocs == g->cap_allocs ||
	    cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) {
		g->failed = 1;
		return NULL;
	}
	g->allocs[g->n_allocs++] = p;
	return p;
}

/* ---- weights --------------------------------------------------------------------------- */

/* dst = bf16 of the concatenation of k fp32 arrays (host or device memory) */
static int load(struct engine_gpu *g, uint16_t *dst, int k, const float *const *src,
		const size_t *count, int from_device)
{
	for (int i = 0; i < k; i++) {
		if (from_device) {
			if (kern_to_bf16(src[i], dst, (long)count[i], g->stream))
				return -1;
		} else {
			uint16_t *h = malloc(count[i] * 2);
			if (!h)
				return -1;
#pragma omp parallel for
			for (size_t j = 0; j < count[i]; j++)
				h[j] = kern_f2bf(src[i][j]);
			int rc = cudaMemcpyAsync(dst, h, count[i] * 2, cudaMemcpyHostToDevice, g->stream) ||
				 cudaStreamSynchronize(g->stream);
			free(h);
			if (rc)
				return -1;
		}
		dst += count[i];
	}
	return 0;
}

static int load1(struct engine_gpu *g, uint16_t *dst, const float *src, size_t count, int dev)
{
	return src ? load(g, dst, 1, &src, &count, dev) : 0;
}

static int load_layer(struct engine_gpu *g, int l, const struct engine_layer_weights *w, int dev)
{
	const struct engine_config *c = &g->cfg;
	size_t D = c->dim, E = c->head_dim, F = c->hidden_dim, qd = (size_t)c->n_heads * E;
	size_t kd = (size_t)c->n_kv_heads * E;
	struct gpu_layer *gl = &g->layers[l];
	const float *qkv[3] = { w->wq, w->wk, w->wv }, *b[3] = { w->bq, w->bk, w->bv };
	const float *gu[2] = { w->w_gate, w->w_up };
	size_t nqkv[3] = { qd * D, kd * D, kd * D }, nb[3] = { qd, kd, kd }, ngu[2] = { F * D, F * D };
	if (!w->bq != !gl->bqkv || !w->q_norm != !gl->q_norm)
		return -1;
	return load1(g, gl->attn_norm, w->attn_norm, D, dev) || load(g, gl->wqkv, 3, qkv, nqkv, dev) ||
	       (w->bq && load(g, gl->bqkv, 3, b, nb, dev)) ||
	       load1(g, gl->q_norm, w->q_norm, E, dev) || load1(g, gl->k_norm, w->k_norm, E, dev) ||
	       load1(g, gl->wo, w->wo, D * qd, dev) || load1(g, gl->ffn_norm, w->ffn_norm, D, dev) ||
	       load(g, gl->wgu, 2, gu, ngu, dev) || load1(g, gl->wd, w->w_down, D * F, dev);
}

int engine_gpu_load(struct engine_gpu *g, const struct engine_weights *w, int from_device)
{
	const struct engine_config *c = &g->cfg;
	size_t D = c->dim, V = c->vocab_size, rope = (size_t)g->cache_len * c->head_dim * 4;
	enum cudaMemcpyKind kind = from_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice;
	if (cudaSetDevice(g->device) || (w->lm_head == w->embed) != g->tied)
		return -1;
	int rc = load1(g, g->embed, w->embed, V * D, from_device) ||
		 (!g->tied && load1(g, g->lm_head, w->lm_head, V * D, from_device)) ||
		 load1(g, g->final_norm, w->final_norm, D, from_device) ||
		 cudaMemcpyAsync(g->cos, w->rope_cos, rope, kind, g->stream) ||
		 cudaMemcpyAsync(g->sin, w->rope_sin, rope, kind, g->stream);
	for (int l = 0; !rc && l < c->n_layers; l++)
		rc = load_layer(g, l, &w->layers[l], from_device);
	return rc || cudaStreamSynchronize(g->stream) ? -1 : 0;
}

/* ---- create ---------------------------------------------------------------------------- */

static void plan_layer(struct engine_gpu *g, int l, const struct engine_layer_weights *w)
{
	const struct engine_config *c = &g->cfg;
	size_t D = c->dim, E = c->head_dim, F = c->hidden_dim, qd = (size_t)c->n_heads * E;
	size_t kd = (size_t)c->n_kv_heads * E;
	struct gpu_layer *gl = &g->layers[l];
	gl->attn_norm = dev_alloc(g, D * 2);
	gl->wqkv = dev_alloc(g, (qd + 2 * kd) * D * 2);
	gl->bqkv = w->bq ? dev_alloc(g, (qd + 2 * kd) * 2) : NULL;
	gl->q_norm = w->q_norm ? dev_alloc(g, E * 2) : NULL;
	gl->k_norm = w->k_norm ? dev_alloc(g, E * 2) : NULL;
	gl->wo = dev_alloc(g, D * qd * 2);
	gl->ffn_norm = dev_alloc(g, D * 2);
	gl->wgu = dev_alloc(g, 2 * F * D * 2);
	gl->wd = dev_alloc(g, D * F * 2);
	g->kv_layer = (size_t)(g->max_seqs + 1) * kd * g->cache_len * 2;
}

/* the KV cache's block, every layer's K and V pointed into it; 0 or -1 */
static int kv_alloc(struct engine_gpu *g)
{
	int L = g->cfg.n_layers;
	if (cudaMalloc(&g->kv, 2 * (size_t)L * g->kv_layer) != cudaSuccess) {
		g->kv = NULL;
		return -1;
	}
	for (int l = 0; l < L; l++) {
		g->layers[l].k_cache = (uint16_t *)((char *)g->kv + (2 * (size_t)l) * g->kv_layer);
		g->layers[l].v_cache = (uint16_t *)((char *)g->kv + (2 * (size_t)l + 1) * g->kv_layer);
	}
	return 0;
}

void engine_gpu_kv_release(struct engine_gpu *g)
{
	if (!g || !g->kv)
		return;
	cudaStreamSynchronize(g->stream);
	cudaFree(g->kv);
	g->kv = NULL;
	for (int l = 0; l < g->cfg.n_layers; l++)
		g->layers[l].k_cache = g->layers[l].v_cache = NULL;
}

int engine_gpu_kv_reserve(struct engine_gpu *g)
{
	if (g->kv)
		return 0;
	return kv_alloc(g) ? -1 : 1;
}

double engine_gpu_kv_bytes(const struct engine_gpu *g)
{
	return 2.0 * g->cfg.n_layers * (double)g->kv_layer;
}

static void plan(struct engine_gpu *g, const struct engine_weights *w)
{
	const struct engine_config *c = &g->cfg;
	size_t D = c->dim, V = c->vocab_size, R = g->max_rows, E = c->head_dim, F = c->hidden_dim;
	size_t qd = (size_t)c->n_heads * E, kd = (size_t)c->n_kv_heads * E;
	g->embed = dev_alloc(g, V * D * 2);
	g->lm_head = g->tied ? g->embed : dev_alloc(g, V * D * 2);
	g->final_norm = dev_alloc(g, D * 2);
	for (int l = 0; l < c->n_layers; l++)
		plan_layer(g, l, &w->layers[l]);
	if (!g->failed && kv_alloc(g))
		g->failed = 1;
	g->cos = dev_alloc(g, (size_t)g->cache_len * E * 4);
	g->sin = dev_alloc(g, (size_t)g->cache_len * E * 4);
	g->x = dev_alloc(g, R * D * 4);
	g->logits = dev_alloc(g, R * V * 4);
	g->xb = dev_alloc(g, R * D * 2);
	g->qkv = dev_alloc(g, R * (qd + 2 * kd) * 2);
	g->q = dev_alloc(g, R * qd * 2);
	g->att = dev_alloc(g, R * qd * 2);
	g->o = dev_alloc(g, R * D * 2);
	g->gu = dev_alloc(g, R * 2 * F * 2);
	g->h = dev_alloc(g, R * F * 2);
	g->seq = dev_alloc(g, R * sizeof(int));
	g->pos = dev_alloc(g, R * sizeof(int));
	g->tok = dev_alloc(g, R * sizeof(int32_t));
	g->workspace = dev_alloc(g, BLAS_WORKSPACE);
}

static int shapes_ok(const struct engine_config *c, char *err, size_t n)
{
	int E = c->head_dim, K = c->n_kv_heads;
	if ((E != 32 && E != 64 && E != 128 && E != 256) || K < 1 || c->n_heads % K ||
	    c->n_heads / K > 8) {
		snprintf(err, n, "engine_gpu: head dim %d with %d heads over %d kv heads is outside "
			 "the CUDA kernels (head dim 32, 64, 128 or 256; at most 8 heads per kv head); "
			 "use rollout.engine=cpu", E, c->n_heads, K);
		return 0;
	}
	return 1;
}

static struct engine_gpu *start(const struct engine_config *c, int device, char *err, size_t n)
{
	struct engine_gpu *g = calloc(1, sizeof(*g));
	if (g) {
		g->cap_allocs = 32 + 16 * c->n_layers;
		g->allocs = calloc(g->cap_allocs, sizeof(void *));
		g->layers = calloc(c->n_layers, sizeof(*g->layers));
	}
	if (!g || !g->allocs || !g->layers) {
		snprintf(err, n, "engine_gpu: out of host memory");
		goto fail;
	}
	cudaError_t e = cudaSetDevice(device);
	if (e == cudaSuccess)
		e = cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking);
	if (e != cudaSuccess) {
		snprintf(err, n, "engine_gpu: cannot start on cuda:%d: %s", device,
			 cudaGetErrorString(e));
		goto fail;
	}
	if (cublasCreate(&g->blas) != CUBLAS_STATUS_SUCCESS) {
		snprintf(err, n, "engine_gpu: cuBLAS did not start on cuda:%d", device);
		goto fail;
	}
	return g;
fail:
	if (g && g->stream)
		cudaStreamDestroy(g->stream);
	if (g) {
		free(g->allocs);
		free(g->layers);
	}
	free(g);
	return NULL;
}

struct engine_gpu *engine_gpu_create(const struct engine_config *c, const struct engine_weights *w,
				     int from_device, int device, int max_seqs, int max_rows,
				     int cache_len, char *err, size_t n)
{
	if (!shapes_ok(c, err, n))
		return NULL;
	struct engine_gpu *g = start(c, device, err, n);
	if (!g)
		return NULL;
	g->cfg = *c;
	g->device = device;
	g->max_seqs = max_seqs;
	g->max_rows = max_rows;
	g->cache_len = cache_len;
	g->tied = w->lm_head == w->embed;
	plan(g, w);
	if (g->failed) {
		snprintf(err, n, "engine_gpu: cannot allocate the weights, KV cache and buffers for %d "
			 "sequences x %d positions on cuda:%d", max_seqs, cache_len, device);
		engine_gpu_destroy(g);
		return NULL;
	}
	if (cublasSetStream(g->blas, g->stream) != CUBLAS_STATUS_SUCCESS ||
	    cublasSetWorkspace(g->blas, g->workspace, BLAS_WORKSPACE) != CUBLAS_STATUS_SUCCESS ||
	    engine_gpu_load(g, w, from_device)) {
		snprintf(err, n, "engine_gpu: cannot load the weights onto cuda:%d", device);
		engine_gpu_destroy(g);
		return NULL;
	}
	return g;
}

void engine_gpu_destroy(struct engine_gpu *g)
{
	if (!g)
		return;
	cudaStreamSynchronize(g->stream);
	for (int i = 0; i < g->n_allocs; i++)
		cudaFree(g->allocs[i]);
	cudaFree(g->kv);
	cublasDestroy(g->blas);
	cudaStreamDestroy(g->stream);
	free(g->allocs);
	free(g->layers);
	free(g);
}

void engine_gpu_io(const struct engine_gpu *g, struct engine_gpu_io *io)
{
	*io = (struct engine_gpu_io){ g->seq, g->pos, g->tok, g->logits, g->stream, g->max_seqs,
				      g->max_rows, g->cache_len, g->device };
}

void engine_gpu_set_stats(struct engine_gpu *g, const struct kern_stats *base,
			  const int *layer_slot)
{
	for (int l = 0; l < g->cfg.n_layers; l++) {
		struct gpu_layer *gl = &g->layers[l];
		gl->has_stats = base && layer_slot[l] >= 0;
		if (gl->has_stats) {
			gl->stats = *base;
			gl->stats.pair0 = layer_slot[l] * g->cfg.n_heads;
		}
	}
}

/* ---- forward --------------------------------------------------------------------------- */

/* y (rows, out) = x (rows, in) w^T, w (out, in): bf16 in, fp32 accumulate, bf16 or fp32 out */
static int gemm(struct engine_gpu *g, const uint16_t *x, const uint16_t *w, void *y, int rows,
		int out, int in, int fp32_out)
{
	const float one = 1.0f, zero = 0.0f;
	return cublasGemmEx(g->blas, CUBLAS_OP_T, CUBLAS_OP_N, out, rows, in, &one, w, CUDA_R_16BF,
			    in, x, CUDA_R_16BF, in, &zero, y, fp32_out ? CUDA_R_32F : CUDA_R_16BF, out,
			    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS;
}

static int layer_forward(struct engine_gpu *g, int l, int n, struct kern_rows *rows)
{
	const struct engine_config *c = &g->cfg;
	const struct gpu_layer *gl = &g->layers[l];
	int D = c->dim, H = c->n_heads, K = c->n_kv_heads, E = c->head_dim, F = c->hidden_dim;
	int qkv_n = (H + 2 * K) * E, S = g->cache_len;
	void *s = g->stream;
	struct kern_qkv qa = { n, H, K, E, S, c->norm_eps, g->qkv, g->qkv + H * E,
			       g->qkv + (H + K) * E, qkv_n, gl->bqkv, gl->bqkv ? gl->bqkv + H * E : NULL,
			       gl->bqkv ? gl->bqkv + (H + K) * E : NULL, gl->q_norm, gl->k_norm, g->cos,
			       g->sin, g->seq, g->pos, g->q, gl->k_cache, gl->v_cache };
	struct kern_attn aa = { n, H, K, E, S, g->q, gl->k_cache, gl->v_cache, g->seq, g->pos,
				g->att, gl->has_stats ? &gl->stats : NULL };
	rows->add = l ? g->o : NULL;
	rows->w = gl->attn_norm;
	rows->out = g->xb;
	int rc = kern_add_rmsnorm(rows, s) || gemm(g, g->xb, gl->wqkv, g->qkv, n, qkv_n, D, 0) ||
		 kern_qkv_rope(&qa, s) || kern_decode_attn(&aa, s) ||
		 gemm(g, g->att, gl->wo, g->o, n, D, H * E, 0);
	rows->add = g->o;
	rows->w = gl->ffn_norm;
	rc = rc || kern_add_rmsnorm(rows, s) || gemm(g, g->xb, gl->wgu, g->gu, n, 2 * F, D, 0);
	rows->out = g->h;
	return rc || kern_silu_mul(rows, s) || gemm(g, g->h, gl->wd, g->o, n, D, F, 0);
}

int engine_gpu_run(struct engine_gpu *g, int n, int logits)
{
	const struct engine_config *c = &g->cfg;
	int D = c->dim, V = c->vocab_size;
	if (n < 1 || n > g->max_rows || !g->kv) /* released: engine_gpu_kv_reserve first */
		return -1;
	struct kern_rows rows = { n, D, c->hidden_dim, c->norm_eps, g->tok, g->embed, g->x, NULL,
				  NULL, g->xb, g->gu };
	if (kern_embed(&rows, g->stream))
		return -1;
	for (int l = 0; l < c->n_layers; l++)
		if (layer_forward(g, l, n, &rows))
			return -1;
	if (!logits)
		return 0;
	rows.add = g->o;
	rows.w = g->final_norm;
	rows.out = g->xb;
	return kern_add_rmsnorm(&rows, g->stream) || gemm(g, g->xb, g->lm_head, g->logits, n, V, D, 1)
		       ? -1 : 0;
}

int engine_gpu_copy_seq(struct engine_gpu *g, int dst, int src, int len)
{
	const struct engine_config *c = &g->cfg;
	size_t E = c->head_dim, C = g->cache_len, K = c->n_kv_heads;
	if (dst < 0 || src < 0 || dst > g->max_seqs || src > g->max_seqs || len < 0 ||
	    len > (int)C || !g->kv)
		return -1;
	for (int l = 0; len && dst != src && l < c->n_layers; l++) {
		const struct gpu_layer *gl = &g->layers[l];
		/* (S + 1, K, C, E): one pitched copy per cache, K rows of len * E elements */
		size_t pitch = C * E * 2, at_d = (size_t)dst * K * C * E, at_s = (size_t)src * K * C * E;
		if (cudaMemcpy2DAsync(gl->k_cache + at_d, pitch, gl->k_cache + at_s, pitch, len * E * 2,
				      K, cudaMemcpyDeviceToDevice, g->stream) ||
		    cudaMemcpy2DAsync(gl->v_cache + at_d, pitch, gl->v_cache + at_s, pitch, len * E * 2,
				      K, cudaMemcpyDeviceToDevice, g->stream))
			return -1;
	}
	return 0;
}

int engine_gpu_forward(struct engine_gpu *g, int n, const int *seq, const int *pos,
		       const int32_t *tok, int n_out, const int *out_row, float *logits)
{
	int V = g->cfg.vocab_size;
	if (n < 1 || n > g->max_rows || n_out < 0 || n_out > n)
		return -1;
	for (int r = 0; r < n; r++)
		if (seq[r] < 0 || seq[r] > g->max_seqs || pos[r] < 0 || pos[r] >= g->cache_len ||
		    tok[r] < 0 || tok[r] >= V)
			return -1;
	cudaStream_t s = g->stream;
	if (cudaMemcpyAsync(g->seq, seq, n * sizeof(int), cudaMemcpyHostToDevice, s) ||
	    cudaMemcpyAsync(g->pos, pos, n * sizeof(int), cudaMemcpyHostToDevice, s) ||
	    cudaMemcpyAsync(g->tok, tok, n * sizeof(int32_t), cudaMemcpyHostToDevice, s) ||
	    engine_gpu_run(g, n, n_out > 0))
		return -1;
	for (int i = 0; i < n_out; i++)
		if (cudaMemcpyAsync(logits + (size_t)i * V, g->logits + (size_t)out_row[i] * V,
				    (size_t)V * 4, cudaMemcpyDeviceToHost, s))
			return -1;
	return cudaStreamSynchronize(s) ? -1 : 0;
}
