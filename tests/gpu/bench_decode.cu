/*
 * bench_decode.cu - times a whole decode step of a random-weight Qwen3-0.6B-shaped model on the
 * GPU (built by `make gpu-harness`, run by scripts/gpu-check.sh): the kernels of kernels.h
 * between cuBLAS bf16 projections (fused QKV and gate/up weights), fp32 logits, sampling, the
 * statistics of docs/method.md section 7 on the 5 sampled layers or none. Not an engine: weights
 * are random, nothing is compared; it measures what a GPU decode step built from these pieces
 * costs against the HBM roofline (bytes of weights + KV cache read per step over the measured
 * copy bandwidth). The KV cache holds random values; sampling runs at top-p 1 and 0.95 (the
 * radix select of the nucleus). Prints one line per (batch, context, statistics, top-p):
 *   PERF step B=.. ctx=.. stats=.. top_p=.. ms_per_step=.. tokens_per_s=.. GBps=.. roofline_frac=..
 * and for a few of them where one step's time goes: an event before each launch, the time to
 * the next summed per kernel (host launch gaps included), a table after a title line:
 *   KERNEL <kernel> <calls> <us> <share of the step>%
 * Built for the CPU emulation (ATTNRL_CUDA_EMU) it runs tiny shapes, to keep working.
 */
#include "attnrl/kernels.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "gpu_util.h"

#define CB(x)                                                                                  \
	do {                                                                                   \
		cublasStatus_t s_ = (x);                                                       \
		if (s_ != CUBLAS_STATUS_SUCCESS) {                                             \
			fprintf(stderr, "cuBLAS error %d at %s:%d\n", (int)s_, __FILE__, __LINE__); \
			exit(2);                                                               \
		}                                                                              \
	} while (0)
#define KC(x)                                                                                  \
	do {                                                                                   \
		if ((x) != 0) {                                                                \
			fprintf(stderr, "kernel launcher refused at %s:%d: %s\n", __FILE__,     \
				__LINE__, #x);                                                 \
			exit(2);                                                               \
		}                                                                              \
	} while (0)

#ifdef ATTNRL_CUDA_EMU /* the CPU emulation (tests/test_kernels_emu.sh): tiny, to keep it working */
enum { D = 64, L = 2, H = 4, K = 2, E = 32, F = 96, V = 300, ITERS = 2 };
static const int sampled[5] = { 0, 1, -1, -1, -1 };
static const int ctxs[2] = { 16, 32 }, Bs[2] = { 4, 8 };
#else /* Qwen3-0.6B */
enum { D = 1024, L = 28, H = 16, K = 8, E = 128, F = 3072, V = 151936, ITERS = 10 };
static const int sampled[5] = { 9, 11, 14, 16, 18 }; /* attnstats_auto_layers(28) */
static const int ctxs[2] = { 1024, 2048 }, Bs[2] = { 64, 256 }; /* B 256 at ctx 4096: 120 GB of KV */
#endif

__global__ void fill_bf16(uint16_t *p, size_t n, float scale, uint32_t seed)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		uint32_t h = (uint32_t)i * 2654435761u ^ seed;
		h ^= h >> 15;
		h *= 2246822519u;
		h ^= h >> 13;
		float u = (h & 0xffffff) / 16777216.0f - 0.5f;
		uint32_t f = __float_as_uint(u * scale);
		p[i] = (uint16_t)((f + 0x7fffu + ((f >> 16) & 1)) >> 16);
	}
}

static uint16_t *bf16_buf(size_t n, float scale, uint32_t seed)
{
	uint16_t *p;
	CU(cudaMalloc(&p, n * 2));
	unsigned grid = n / 256 < 1024 ? (unsigned)(n / 256) + 1 : 1024;
	fill_bf16<<<grid, 256>>>(p, n, scale, seed);
	CU(cudaGetLastError());
	return p;
}

/* Y (B, N) = X (B, Kd) W^T, W (N, Kd) row-major; Y bf16 or fp32 */
static void gemm(cublasHandle_t h, const uint16_t *x, const uint16_t *w, void *y, int B, int N,
		 int Kd, int y_fp32)
{
	const float one = 1.0f, zero = 0.0f;
	CB(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, N, B, Kd, &one, w, CUDA_R_16BF, Kd, x,
			CUDA_R_16BF, Kd, &zero, y, y_fp32 ? CUDA_R_32F : CUDA_R_16BF, N,
			CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

struct decode_bufs {
	uint16_t *xb, *qkv, *att, *o, *gu, *hbuf; /* (B, D) (B, (H+2K)E) (B, HE) (B, D) (B, 2F) (B, F) */
	float *logits;                            /* (B, V) */
};

struct model {
	uint16_t *embed, *wqkv[L], *wo[L], *wgu[L], *wd[L], *attn_norm[L], *ffn_norm[L];
	uint16_t *q_norm[L], *k_norm[L], *final_norm;
	float *cos, *sin;
};

static size_t weight_bytes(void)
{
	size_t per = (size_t)(H + 2 * K) * E * D + (size_t)D * H * E + 2ull * F * D + (size_t)D * F;
	return 2 * (per * L + (size_t)V * D);
}

/* the per-kernel breakdown of one step: an event recorded before each launch and its name */
enum { MARKS_MAX = 8 + 12 * L };
struct marks {
	int n;
	const char *name[MARKS_MAX];
	cudaEvent_t ev[MARKS_MAX];
};

static void mark(struct marks *mk, const char *name, cudaStream_t s)
{
	if (!mk || mk->n == MARKS_MAX)
		return;
	mk->name[mk->n] = name;
	CU(cudaEventRecord(mk->ev[mk->n++], s));
}

/* one row per kernel name, in the order of first launch: calls, microseconds, share of the step */
static void marks_print(const struct marks *mk, int B, int ctx, int stats, double top_p)
{
	CU(cudaEventSynchronize(mk->ev[mk->n - 1]));
	float step_ms;
	CU(cudaEventElapsedTime(&step_ms, mk->ev[0], mk->ev[mk->n - 1]));
	printf("KERNEL breakdown of one step, B=%d ctx=%d stats=%d top_p=%.2f: %.3f ms\n", B, ctx, stats,
	       top_p, step_ms);
	printf("KERNEL %-22s %6s %10s %7s\n", "kernel", "calls", "us", "share");
	for (int i = 0; i < mk->n - 1; i++) {
		int seen = 0, calls = 0;
		for (int j = 0; j < i && !seen; j++)
			seen = !strcmp(mk->name[j], mk->name[i]);
		if (seen)
			continue;
		double us = 0;
		for (int j = i; j < mk->n - 1; j++) {
			if (strcmp(mk->name[j], mk->name[i]))
				continue;
			float ms;
			CU(cudaEventElapsedTime(&ms, mk->ev[j], mk->ev[j + 1]));
			us += ms * 1e3;
			calls++;
		}
		printf("KERNEL %-22s %6d %10.1f %6.1f%%\n", mk->name[i], calls, us,
		       100 * us / (step_ms * 1e3));
	}
	fflush(stdout);
}

/* one decode step: the launches of kernels.h and cuBLAS, each after a mark when mk is set */
static void step(cublasHandle_t cb, const struct model *m, uint16_t *const *kc,
		 uint16_t *const *vc, struct kern_rows *rows, struct kern_qkv *qa,
		 struct kern_attn *aa, const struct kern_sample *sa, struct kern_stats *st, int stats,
		 struct decode_bufs *b, struct marks *mk, cudaStream_t s)
{
	int B = rows->B;
	mark(mk, "embed", s);
	KC(kern_embed(rows, s));
	for (int l = 0; l < L; l++) {
		rows->add = l ? b->o : NULL;
		rows->w = m->attn_norm[l];
		rows->out = b->xb;
		mark(mk, "add_rmsnorm", s);
		KC(kern_add_rmsnorm(rows, s));
		mark(mk, "gemm qkv (cuBLAS)", s);
		gemm(cb, b->xb, m->wqkv[l], b->qkv, B, (H + 2 * K) * E, D, 0);
		qa->q_norm = m->q_norm[l];
		qa->k_norm = m->k_norm[l];
		qa->k_cache = kc[l];
		qa->v_cache = vc[l];
		mark(mk, "qkv_rope", s);
		KC(kern_qkv_rope(qa, s));
		aa->k_cache = kc[l];
		aa->v_cache = vc[l];
		aa->stats = NULL;
		for (int i = 0; stats && i < 5; i++)
			if (sampled[i] == l)
				aa->stats = &st[i];
		mark(mk, aa->stats ? "decode_attn+stats" : "decode_attn", s);
		KC(kern_decode_attn(aa, s));
		mark(mk, "gemm o (cuBLAS)", s);
		gemm(cb, b->att, m->wo[l], b->o, B, D, H * E, 0);
		rows->add = b->o;
		rows->w = m->ffn_norm[l];
		mark(mk, "add_rmsnorm", s);
		KC(kern_add_rmsnorm(rows, s));
		mark(mk, "gemm gate/up (cuBLAS)", s);
		gemm(cb, b->xb, m->wgu[l], b->gu, B, 2 * F, D, 0);
		rows->out = b->hbuf;
		mark(mk, "silu_mul", s);
		KC(kern_silu_mul(rows, s));
		mark(mk, "gemm down (cuBLAS)", s);
		gemm(cb, b->hbuf, m->wd[l], b->o, B, D, F, 0);
	}
	rows->add = b->o;
	rows->w = m->final_norm;
	rows->out = b->xb;
	mark(mk, "add_rmsnorm", s);
	KC(kern_add_rmsnorm(rows, s));
	mark(mk, "gemm lm_head (cuBLAS)", s);
	gemm(cb, b->xb, m->embed, b->logits, B, V, D, 1);
	mark(mk, "sample", s);
	KC(kern_sample(sa, s));
	mark(mk, "end", s);
}

static void bench(cublasHandle_t cb, const struct model *m, int B, int ctx, int stats,
		  double top_p, int breakdown, double bw)
{
	size_t cache = (size_t)B * K * ctx * E;
	uint16_t *kc[L], *vc[L];
	for (int l = 0; l < L; l++) {
		kc[l] = bf16_buf(cache, 0.5f, 100 + l);
		vc[l] = bf16_buf(cache, 0.5f, 200 + l);
	}
	float *x, *logits, *scratch, *lp, *ent;
	uint16_t *xb, *qkv, *q, *att, *o, *gu, *hbuf;
	int32_t *tok;
	int *seq, *pos, *P;
	uint64_t *rng;
	CU(cudaMalloc(&x, (size_t)B * D * 4));
	CU(cudaMalloc(&logits, (size_t)B * V * 4));
	CU(cudaMalloc(&scratch, (size_t)B * V * 4));
	CU(cudaMalloc(&lp, B * 4));
	CU(cudaMalloc(&ent, B * 4));
	CU(cudaMalloc(&xb, (size_t)B * D * 2));
	CU(cudaMalloc(&qkv, (size_t)B * (H + 2 * K) * E * 2));
	CU(cudaMalloc(&q, (size_t)B * H * E * 2));
	CU(cudaMalloc(&att, (size_t)B * H * E * 2));
	CU(cudaMalloc(&o, (size_t)B * D * 2));
	CU(cudaMalloc(&gu, (size_t)B * 2 * F * 2));
	CU(cudaMalloc(&hbuf, (size_t)B * F * 2));
	CU(cudaMalloc(&tok, B * 4));
	CU(cudaMalloc(&rng, B * 32));
	CU(cudaMemset(tok, 0, B * 4));
	CU(cudaMemset(rng, 0x5a, B * 32));
	int *h_seq = (int *)malloc(B * sizeof(int)), *h_pos = (int *)malloc(B * sizeof(int));
	for (int b = 0; b < B; b++) {
		h_seq[b] = b;
		h_pos[b] = ctx - 1;
	}
	CU(cudaMalloc(&seq, B * sizeof(int)));
	CU(cudaMalloc(&pos, B * sizeof(int)));
	CU(cudaMalloc(&P, B * sizeof(int)));
	CU(cudaMemcpy(seq, h_seq, B * sizeof(int), cudaMemcpyHostToDevice));
	CU(cudaMemcpy(pos, h_pos, B * sizeof(int), cudaMemcpyHostToDevice));
	for (int b = 0; b < B; b++)
		h_pos[b] = ctx / 4; /* prompt length: the row is a response row */
	CU(cudaMemcpy(P, h_pos, B * sizeof(int), cudaMemcpyHostToDevice));
	int Q = 5 * H, M = ctx;
	double *dsum;
	float *waad, *fai;
	CU(cudaMalloc(&dsum, (size_t)B * Q * 8));
	CU(cudaMalloc(&waad, (size_t)B * Q * M * 4));
	CU(cudaMalloc(&fai, (size_t)B * Q * M * 4));
	CU(cudaMemset(dsum, 0, (size_t)B * Q * 8));
	CU(cudaMemset(fai, 0, (size_t)B * Q * M * 4));
	struct kern_stats st[5];
	for (int i = 0; i < 5; i++)
		st[i] = kern_stats{ P, dsum, waad, fai, Q, M, i * H, 10, 10, 100 };
	cudaStream_t s = 0;
	CB(cublasSetStream(cb, s));
	struct kern_rows rows = { B, D, F, 1e-6f, tok, m->embed, x, NULL, NULL, xb, gu };
	struct kern_qkv qa = { B, H, K, E, ctx, 1e-6f, qkv, qkv + H * E, qkv + (H + K) * E,
			       (H + 2 * K) * E, NULL, NULL, NULL, NULL, NULL, m->cos, m->sin, seq, pos,
			       q, NULL, NULL };
	struct kern_attn aa = { B, H, K, E, ctx, q, NULL, NULL, seq, pos, att, NULL };
	struct kern_sample sa = { B, V, 1.0, top_p, 0, logits, rng, scratch, tok, lp, ent, NULL };
	struct decode_bufs db = { xb, qkv, att, o, gu, hbuf, logits };
	cudaEvent_t e0, e1;
	CU(cudaEventCreate(&e0));
	CU(cudaEventCreate(&e1));
	int iters = ITERS;
	for (int it = -2; it < iters; it++) {
		if (it == 0)
			CU(cudaEventRecord(e0, s));
		step(cb, m, kc, vc, &rows, &qa, &aa, &sa, st, stats, &db, NULL, s);
	}
	CU(cudaEventRecord(e1, s));
	CU(cudaEventSynchronize(e1));
	CU(cudaGetLastError());
	float ms;
	CU(cudaEventElapsedTime(&ms, e0, e1));
	double t = ms * 1e-3 / iters;
	double bytes = (double)weight_bytes() + (double)L * 2 * cache * 2;
	printf("PERF step B=%d ctx=%d stats=%d top_p=%.2f ms_per_step=%.3f tokens_per_s=%.0f GBps=%.0f "
	       "roofline_frac=%.3f (weights %.2f GB + KV %.2f GB per step)\n", B, ctx, stats, top_p,
	       t * 1e3, B / t, bytes / t / 1e9, bytes / t / bw, weight_bytes() / 1e9,
	       (double)L * 2 * cache * 2 / 1e9);
	fflush(stdout);
	if (breakdown) {
		struct marks *mk = (struct marks *)calloc(1, sizeof(*mk));
		for (int i = 0; i < MARKS_MAX; i++)
			CU(cudaEventCreate(&mk->ev[i]));
		step(cb, m, kc, vc, &rows, &qa, &aa, &sa, st, stats, &db, mk, s);
		CU(cudaGetLastError());
		marks_print(mk, B, ctx, stats, top_p);
		for (int i = 0; i < MARKS_MAX; i++)
			CU(cudaEventDestroy(mk->ev[i]));
		free(mk);
	}
	CU(cudaEventDestroy(e0));
	CU(cudaEventDestroy(e1));
	for (int l = 0; l < L; l++) {
		CU(cudaFree(kc[l]));
		CU(cudaFree(vc[l]));
	}
	void *bufs[] = { x, logits, scratch, lp, ent, xb, qkv, q, att, o, gu, hbuf, tok, rng, seq, pos,
			 P, dsum, waad, fai };
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		CU(cudaFree(bufs[i]));
	free(h_seq);
	free(h_pos);
}

int main(void)
{
	struct model m;
	m.embed = bf16_buf((size_t)V * D, 0.1f, 1);
	for (int l = 0; l < L; l++) {
		m.wqkv[l] = bf16_buf((size_t)(H + 2 * K) * E * D, 0.06f, 10 + l);
		m.wo[l] = bf16_buf((size_t)D * H * E, 0.06f, 40 + l);
		m.wgu[l] = bf16_buf(2ull * F * D, 0.06f, 70 + l);
		m.wd[l] = bf16_buf((size_t)D * F, 0.03f, 100 + l);
		m.attn_norm[l] = bf16_buf(D, 0.2f, 130 + l);
		m.ffn_norm[l] = bf16_buf(D, 0.2f, 160 + l);
		m.q_norm[l] = bf16_buf(E, 0.2f, 190 + l);
		m.k_norm[l] = bf16_buf(E, 0.2f, 220 + l);
	}
	m.final_norm = bf16_buf(D, 0.2f, 250);
	int C = 4096;
	float *cs = (float *)malloc((size_t)C * E * 4), *sn = (float *)malloc((size_t)C * E * 4);
	for (int t = 0; t < C; t++)
		for (int i = 0; i < E; i++) {
			double f = t / pow(1e6, (double)(2 * (i % (E / 2))) / E);
			cs[t * E + i] = (float)cos(f);
			sn[t * E + i] = (float)sin(f);
		}
	CU(cudaMalloc(&m.cos, (size_t)C * E * 4));
	CU(cudaMalloc(&m.sin, (size_t)C * E * 4));
	CU(cudaMemcpy(m.cos, cs, (size_t)C * E * 4, cudaMemcpyHostToDevice));
	CU(cudaMemcpy(m.sin, sn, (size_t)C * E * 4, cudaMemcpyHostToDevice));
	cublasHandle_t cb;
	CB(cublasCreate(&cb));
#ifdef ATTNRL_CUDA_EMU
	double bw = 1e12; /* the emulation would copy 20 GB */
#else
	double bw = copy_bandwidth();
#endif
	printf("PERF step model=qwen3-0.6b-shaped weights_GB=%.2f copy_GBps=%.0f\n",
	       weight_bytes() / 1e9, bw / 1e9);
	for (int c = 0; c < 2; c++)
		for (int b = 0; b < 2; b++) {
			for (int stats = 0; stats <= 1; stats++)
				bench(cb, &m, Bs[b], ctxs[c], stats, 1.0, 0, bw);
			bench(cb, &m, Bs[b], ctxs[c], 1, 0.95, c == 1, bw); /* the breakdown at the longer ctx */
		}
	CB(cublasDestroy(cb));
	return 0;
}
