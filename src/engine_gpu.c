/*
 * engine_gpu.c - the decode engine on a GPU (see engine_gpu.h): per layer, residual add +
 * RMSNorm, one cuBLAS projection for q|k|v, q/k norm + RoPE + cache write, decode attention,
 * the output projection, add + RMSNorm, one projection for gate|up, SwiGLU, the down
 * projection; the final norm and the fp32 logits of every row. Every device buffer is
 * allocated in engine_gpu_create and listed in g->allocs.
 */
#include "attnrl/engine_gpu.h"

#include "attnrl/kernels.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gpu_layer {
	uint16_t *attn_norm, *wqkv, *bqkv, *q_norm, *k_norm, *wo, *ffn_norm, *wgu, *wd;
	uint16_t *k_cache, *v_cache; /* (S, K, C, E) */
};

struct engine_gpu {
	struct engine_config cfg;
	int max_seqs, max_rows, cache_len;
	cublasHandle_t blas;
	struct gpu_layer *layers;
	uint16_t *embed, *lm_head, *final_norm;
	float *cos, *sin, *x, *logits;
	uint16_t *xb, *qkv, *q, *att, *o, *gu, *h;
	int *seq, *pos;
	int32_t *tok;
	void **allocs;
	int n_allocs, cap_allocs, failed;
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

/* the concatenation of k host fp32 arrays, rounded to bf16, in device memory */
static uint16_t *upload(struct engine_gpu *g, int k, const float *const *src, const size_t *count)
{
	size_t total = 0;
	for (int i = 0; i < k; i++)
		total += count[i];
	uint16_t *h = malloc(total * 2), *d = dev_alloc(g, total * 2);
	if (!h || !d) {
		free(h);
		g->failed = 1;
		return NULL;
	}
	size_t at = 0;
	for (int i = 0; i < k; i++)
		for (size_t j = 0; j < count[i]; j++)
			h[at++] = kern_f2bf(src[i][j]);
	if (cudaMemcpy(d, h, total * 2, cudaMemcpyHostToDevice) != cudaSuccess)
		g->failed = 1;
	free(h);
	return d;
}

static uint16_t *upload1(struct engine_gpu *g, const float *src, size_t count)
{
	return src ? upload(g, 1, &src, &count) : NULL;
}

static void upload_layer(struct engine_gpu *g, int l, const struct engine_layer_weights *w)
{
	const struct engine_config *c = &g->cfg;
	size_t D = c->dim, E = c->head_dim, F = c->hidden_dim, qd = (size_t)c->n_heads * E;
	size_t kd = (size_t)c->n_kv_heads * E;
	struct gpu_layer *gl = &g->layers[l];
	const float *qkv[3] = { w->wq, w->wk, w->wv }, *b[3] = { w->bq, w->bk, w->bv };
	const float *gu[2] = { w->w_gate, w->w_up };
	size_t nqkv[3] = { qd * D, kd * D, kd * D }, nb[3] = { qd, kd, kd }, ngu[2] = { F * D, F * D };
	gl->attn_norm = upload1(g, w->attn_norm, D);
	gl->wqkv = upload(g, 3, qkv, nqkv);
	gl->bqkv = w->bq ? upload(g, 3, b, nb) : NULL;
	gl->q_norm = upload1(g, w->q_norm, E);
	gl->k_norm = upload1(g, w->k_norm, E);
	gl->wo = upload1(g, w->wo, D * qd);
	gl->ffn_norm = upload1(g, w->ffn_norm, D);
	gl->wgu = upload(g, 2, gu, ngu);
	gl->wd = upload1(g, w->w_down, D * F);
	size_t cache = (size_t)g->max_seqs * kd * g->cache_len * 2;
	gl->k_cache = dev_alloc(g, cache);
	gl->v_cache = dev_alloc(g, cache);
}

static int shapes_ok(const struct engine_config *c, char *err, size_t n)
{
	int E = c->head_dim, K = c->n_kv_heads;
	if ((E != 32 && E != 64 && E != 128 && E != 256) || K < 1 || c->n_heads % K ||
	    c->n_heads / K > 8) {
		snprintf(err, n, "engine_gpu: head dim %d with %d heads over %d kv heads is outside "
			 "the CUDA kernels (head dim 32, 64, 128 or 256; at most 8 heads per kv head); "
			 "use the CPU engine", E, c->n_heads, K);
		return 0;
	}
	return 1;
}

struct engine_gpu *engine_gpu_create(const struct engine_config *c, const struct engine_weights *w,
				     int max_seqs, int max_rows, int cache_len, char *err, size_t n)
{
	if (!shapes_ok(c, err, n))
		return NULL;
	struct engine_gpu *g = calloc(1, sizeof(*g));
	if (g) {
		g->cap_allocs = 32 + 12 * c->n_layers;
		g->allocs = calloc(g->cap_allocs, sizeof(void *));
		g->layers = calloc(c->n_layers, sizeof(*g->layers));
	}
	if (!g || !g->allocs || !g->layers || cublasCreate(&g->blas) != CUBLAS_STATUS_SUCCESS) {
		snprintf(err, n, "engine_gpu: cannot start (out of host memory, or no CUDA device "
			 "and cuBLAS)");
		if (g) {
			free(g->allocs);
			free(g->layers);
			free(g);
		}
		return NULL;
	}
	g->cfg = *c;
	g->max_seqs = max_seqs;
	g->max_rows = max_rows;
	g->cache_len = cache_len;
	size_t D = c->dim, V = c->vocab_size, R = max_rows, E = c->head_dim, F = c->hidden_dim;
	size_t qd = (size_t)c->n_heads * E, kd = (size_t)c->n_kv_heads * E;
	g->embed = upload1(g, w->embed, V * D);
	g->lm_head = w->lm_head == w->embed ? g->embed : upload1(g, w->lm_head, V * D);
	g->final_norm = upload1(g, w->final_norm, D);
	for (int l = 0; l < c->n_layers; l++)
		upload_layer(g, l, &w->layers[l]);
	g->cos = dev_alloc(g, (size_t)cache_len * E * 4);
	g->sin = dev_alloc(g, (size_t)cache_len * E * 4);
	if (!g->failed &&
	    (cudaMemcpy(g->cos, w->rope_cos, (size_t)cache_len * E * 4, cudaMemcpyHostToDevice) ||
	     cudaMemcpy(g->sin, w->rope_sin, (size_t)cache_len * E * 4, cudaMemcpyHostToDevice)))
		g->failed = 1;
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
	if (g->failed) {
		snprintf(err, n, "engine_gpu: cannot allocate the weights, KV cache and buffers for %d "
			 "sequences x %d positions in device memory", max_seqs, cache_len);
		engine_gpu_destroy(g);
		return NULL;
	}
	return g;
}

void engine_gpu_destroy(struct engine_gpu *g)
{
	if (!g)
		return;
	for (int i = 0; i < g->n_allocs; i++)
		cudaFree(g->allocs[i]);
	cublasDestroy(g->blas);
	free(g->allocs);
	free(g->layers);
	free(g);
}

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
	int qkv_n = (H + 2 * K) * E;
	struct kern_qkv qa = { n, H, K, E, g->cache_len, c->norm_eps, g->qkv, g->qkv + H * E,
			       g->qkv + (H + K) * E, qkv_n, gl->bqkv, gl->bqkv ? gl->bqkv + H * E : NULL,
			       gl->bqkv ? gl->bqkv + (H + K) * E : NULL, gl->q_norm, gl->k_norm, g->cos,
			       g->sin, g->seq, g->pos, g->q, gl->k_cache, gl->v_cache };
	struct kern_attn aa = { n, H, K, E, g->cache_len, g->q, gl->k_cache, gl->v_cache, g->seq,
				g->pos, g->att, NULL };
	rows->add = l ? g->o : NULL;
	rows->w = gl->attn_norm;
	rows->out = g->xb;
	int rc = kern_add_rmsnorm(rows, NULL) || gemm(g, g->xb, gl->wqkv, g->qkv, n, qkv_n, D, 0) ||
		 kern_qkv_rope(&qa, NULL) || kern_decode_attn(&aa, NULL) ||
		 gemm(g, g->att, gl->wo, g->o, n, D, H * E, 0);
	rows->add = g->o;
	rows->w = gl->ffn_norm;
	rc = rc || kern_add_rmsnorm(rows, NULL) || gemm(g, g->xb, gl->wgu, g->gu, n, 2 * F, D, 0);
	rows->out = g->h;
	return rc || kern_silu_mul(rows, NULL) || gemm(g, g->h, gl->wd, g->o, n, D, F, 0);
}

int engine_gpu_forward(struct engine_gpu *g, int n, const int *seq, const int *pos,
		       const int32_t *tok, int n_out, const int *out_row, float *logits)
{
	const struct engine_config *c = &g->cfg;
	int D = c->dim, V = c->vocab_size;
	if (n < 1 || n > g->max_rows || n_out < 0 || n_out > n)
		return -1;
	for (int r = 0; r < n; r++)
		if (seq[r] < 0 || seq[r] >= g->max_seqs || pos[r] < 0 || pos[r] >= g->cache_len ||
		    tok[r] < 0 || tok[r] >= V)
			return -1;
	if (cudaMemcpy(g->seq, seq, n * sizeof(int), cudaMemcpyHostToDevice) ||
	    cudaMemcpy(g->pos, pos, n * sizeof(int), cudaMemcpyHostToDevice) ||
	    cudaMemcpy(g->tok, tok, n * sizeof(int32_t), cudaMemcpyHostToDevice))
		return -1;
	struct kern_rows rows = { n, D, c->hidden_dim, c->norm_eps, g->tok, g->embed, g->x, NULL,
				  NULL, g->xb, g->gu };
	if (kern_embed(&rows, NULL))
		return -1;
	for (int l = 0; l < c->n_layers; l++)
		if (layer_forward(g, l, n, &rows))
			return -1;
	rows.add = g->o;
	rows.w = g->final_norm;
	rows.out = g->xb;
	if (kern_add_rmsnorm(&rows, NULL) || gemm(g, g->xb, g->lm_head, g->logits, n, V, D, 1))
		return -1;
	for (int i = 0; i < n_out; i++)
		if (cudaMemcpy(logits + (size_t)i * V, g->logits + (size_t)out_row[i] * V,
			       (size_t)V * 4, cudaMemcpyDeviceToHost))
			return -1;
	return 0;
}
