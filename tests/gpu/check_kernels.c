/*
 * check_kernels.c - the GPU harness (built by `make gpu-harness`, run by scripts/gpu-check.sh):
 * every CUDA kernel of kernels.h against its CPU twin on the same fresh random inputs, outputs
 * poisoned first, then timings. Prints one table row per check:
 *   CHECK <kernel> <case> max_err=<x> tol=<y> ratio=<x/y> PASS|FAIL
 * and one row per measurement:
 *   PERF <what> ... key=value ...
 * Tolerances come from the dtype: bf16 outputs within 2^-7 relative (both sides round once
 * from fp32 that may differ in the last bits, so one bf16 step) plus a small absolute term;
 * fp32 statistics within 1e-4 relative (sums over up to C keys in different orders); sampled
 * tokens identical. Exit
 * status: 0 when every check passed, 1 when one failed, 2 when CUDA itself failed.
 */
#include <cuda_runtime_api.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attnrl/kernels.h"
#include "attnrl/rng.h"
#include "gpu_util.h"

static int failures;


static void *dev_copy(const void *h, size_t bytes)
{
	void *d;
	CU(cudaMalloc(&d, bytes ? bytes : 1));
	if (h)
		CU(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice));
	return d;
}

static void *host_of(const void *d, size_t bytes)
{
	void *h = malloc(bytes ? bytes : 1);
	CU(cudaMemcpy(h, d, bytes, cudaMemcpyDeviceToHost));
	return h;
}

static void report(const char *kernel, const char *name, double err, double tol)
{
	int ok = err <= tol; /* NaN fails */
	failures += !ok;
	printf("CHECK %-10s %-34s max_err=%-10.3g tol=%-9.3g ratio=%-6.3f %s\n", kernel, name, err,
	       tol, tol > 0 ? err / tol : err > 0 ? INFINITY : 0.0, ok ? "PASS" : "FAIL");
}

static void fill_bf(struct rng *r, uint16_t *h, size_t n, double std)
{
	for (size_t i = 0; i < n; i++)
		h[i] = kern_f2bf((float)(std * rng_normal(r)));
}

/* worst |a - b| / (|b| rel + abs) over bf16 arrays, as a multiple of 1 (1 = at tolerance) */
static double bf_err(const uint16_t *a, const uint16_t *b, size_t n, double rel, double abs_)
{
	double worst = 0;
	for (size_t i = 0; i < n; i++) {
		double x = kern_bf2f(a[i]), y = kern_bf2f(b[i]), e = fabs(x - y) / (fabs(y) * rel + abs_);
		if (!(e <= worst))
			worst = isnan(e) ? INFINITY : e;
	}
	return worst;
}

static double f_err(const float *a, const float *b, size_t n, double rel, double abs_)
{
	double worst = 0;
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)a[i] - b[i]) / (fabs(b[i]) * rel + abs_);
		if (!(e <= worst))
			worst = isnan(e) ? INFINITY : e;
	}
	return worst;
}

/* ---- decode attention ------------------------------------------------------------------- */

struct attn_case {
	const char *name;
	int B, S, H, K, E, C, M, stats;
	int fai_hi; /* 0: 100; a long band keeps more scores than some GPUs' shared memory holds */
};

static int gcd(int a, int b)
{
	return b ? gcd(b, a % b) : a;
}

static void check_attn(const struct attn_case *c, uint64_t seed)
{
	struct rng r;
	rng_init(&r, seed);
	int B = c->B, S = c->S, H = c->H, E = c->E, Q = 2 * H, M = c->M;
	size_t cache = (size_t)S * c->K * c->C * E, nq = (size_t)B * H * E, qm = (size_t)S * Q * M;
	uint16_t *kc = malloc(cache * 2), *vc = malloc(cache * 2), *q = malloc(nq * 2);
	uint16_t *out = malloc(nq * 2);
	int *seq = malloc(B * sizeof(int)), *pos = malloc(B * sizeof(int)), *P = malloc(S * sizeof(int));
	double *dsum = malloc(S * Q * sizeof(double));
	float *waad = malloc(qm * 4), *fai = malloc(qm * 4);
	fill_bf(&r, kc, cache, 1.0);
	fill_bf(&r, vc, cache, 1.0);
	fill_bf(&r, q, nq, 2.0);
	memset(out, 0xff, nq * 2);
	for (int s = 0; s < S; s++)
		P[s] = s % 5 == 4 ? -1 : (int)rng_range(&r, 0, c->C / 2);
	int stride = 7; /* coprime with S: the rows' slots are distinct, as in a decode step (the
			 * CPU twin runs rows in parallel and would race on a shared slot) */
	while (gcd(stride, S) != 1)
		stride++;
	for (int b = 0; b < B; b++) { /* distinct slots, lengths from 1 to C, some in the prompt */
		seq[b] = (b * stride) % S;
		int lo = P[seq[b]] >= 0 && b % 3 ? P[seq[b]] : 0;
		pos[b] = b == 0 ? 0 : b == 1 ? c->C - 1 : (int)rng_range(&r, lo, c->C - 1);
		if (P[seq[b]] >= 0 && pos[b] - P[seq[b]] >= M)
			pos[b] = P[seq[b]] + M - 1;
	}
	for (size_t i = 0; i < qm; i++) {
		waad[i] = (float)rng_uniform(&r);
		fai[i] = (float)rng_uniform(&r);
	}
	for (int i = 0; i < S * Q; i++)
		dsum[i] = 50 * rng_uniform(&r);
	/* device copies */
	uint16_t *d_kc = dev_copy(kc, cache * 2), *d_vc = dev_copy(vc, cache * 2);
	uint16_t *d_q = dev_copy(q, nq * 2), *d_out = dev_copy(out, nq * 2);
	int *d_seq = dev_copy(seq, B * sizeof(int)), *d_pos = dev_copy(pos, B * sizeof(int));
	int *d_P = dev_copy(P, S * sizeof(int));
	double *d_dsum = dev_copy(dsum, S * Q * sizeof(double));
	float *d_waad = dev_copy(waad, qm * 4), *d_fai = dev_copy(fai, qm * 4);
	int fai_hi = c->fai_hi ? c->fai_hi : 100;
	struct kern_stats hs = { P, dsum, waad, fai, Q, M, H, 10, 10, fai_hi };
	struct kern_stats ds = { d_P, d_dsum, d_waad, d_fai, Q, M, H, 10, 10, fai_hi };
	struct kern_attn ha = { B, H, c->K, E, c->C, q, kc, vc, seq, pos, out, c->stats ? &hs : NULL };
	struct kern_attn da = { B, H, c->K, E, c->C, d_q, d_kc, d_vc, d_seq, d_pos, d_out,
				c->stats ? &ds : NULL };
	if (kern_decode_attn_cpu(&ha, NULL) || kern_decode_attn(&da, NULL)) {
		report("attn", c->name, INFINITY, 1);
		return;
	}
	CU(cudaDeviceSynchronize());
	uint16_t *g_out = host_of(d_out, nq * 2);
	double *g_dsum = host_of(d_dsum, S * Q * sizeof(double));
	float *g_waad = host_of(d_waad, qm * 4), *g_fai = host_of(d_fai, qm * 4);
	char name[96];
	snprintf(name, sizeof(name), "%s out", c->name);
	report("attn", name, bf_err(g_out, out, nq, 0x1p-7, 1e-3), 1.0);
	if (c->stats) {
		double e = 0;
		for (int i = 0; i < S * Q; i++) {
			/* fp32 sums over up to C keys on both sides, in different orders */
			double x = fabs(g_dsum[i] - dsum[i]) / (fabs(dsum[i]) * 1e-4 + 1e-5);
			e = !(x <= e) ? x : e;
		}
		snprintf(name, sizeof(name), "%s dsum", c->name);
		report("attn", name, e, 1.0);
		snprintf(name, sizeof(name), "%s waad", c->name);
		report("attn", name, f_err(g_waad, waad, qm, 1e-5, 1e-5), 1.0);
		snprintf(name, sizeof(name), "%s fai", c->name);
		report("attn", name, f_err(g_fai, fai, qm, 1e-4, 1e-6), 1.0);
	}
	void *frees[] = { kc, vc, q, out, seq, pos, P, dsum, waad, fai, g_out, g_dsum, g_waad, g_fai };
	for (size_t i = 0; i < sizeof(frees) / sizeof(frees[0]); i++)
		free(frees[i]);
	void *dfrees[] = { d_kc, d_vc, d_q, d_out, d_seq, d_pos, d_P, d_dsum, d_waad, d_fai };
	for (size_t i = 0; i < sizeof(dfrees) / sizeof(dfrees[0]); i++)
		CU(cudaFree(dfrees[i]));
}

/* ---- q/k norm + rope ---------------------------------------------------------------------- */

static void check_qkv(const char *name, int B, int H, int K, int E, int bias, int norm, int fused,
		      uint64_t seed)
{
	struct rng r;
	rng_init(&r, seed);
	int C = 512, S = B + 1;
	size_t nq = (size_t)B * H * E, nk = (size_t)B * K * E, cache = (size_t)S * K * C * E;
	uint16_t *q = malloc(nq * 2), *k = malloc(nk * 2), *v = malloc(nk * 2);
	uint16_t *bq = malloc(H * E * 2), *bk = malloc(K * E * 2), *bv = malloc(K * E * 2);
	uint16_t *qn = malloc(E * 2), *kn = malloc(E * 2), *qo = malloc(nq * 2);
	uint16_t *kc = malloc(cache * 2), *vc = malloc(cache * 2);
	float *cs = malloc((size_t)C * E * 4), *sn = malloc((size_t)C * E * 4);
	int *seq = malloc(B * sizeof(int)), *pos = malloc(B * sizeof(int));
	fill_bf(&r, q, nq, 3.0);
	fill_bf(&r, k, nk, 3.0);
	fill_bf(&r, v, nk, 1.0);
	fill_bf(&r, bq, H * E, 0.5);
	fill_bf(&r, bk, K * E, 0.5);
	fill_bf(&r, bv, K * E, 0.5);
	fill_bf(&r, qn, E, 1.0);
	fill_bf(&r, kn, E, 1.0);
	for (int t = 0; t < C; t++)
		for (int i = 0; i < E; i++) {
			double f = t / pow(1e6, (double)(2 * (i % (E / 2))) / E);
			cs[t * E + i] = (float)cos(f);
			sn[t * E + i] = (float)sin(f);
		}
	for (int b = 0; b < B; b++) {
		seq[b] = (b * 5 + 1) % S;
		pos[b] = (int)rng_range(&r, 0, C - 1);
	}
	memset(qo, 0xff, nq * 2);
	memset(kc, 0xff, cache * 2);
	memset(vc, 0xff, cache * 2);
	uint16_t *d_q = dev_copy(q, nq * 2), *d_k = dev_copy(k, nk * 2), *d_v = dev_copy(v, nk * 2);
	uint16_t *d_bq = dev_copy(bq, H * E * 2), *d_bk = dev_copy(bk, K * E * 2);
	uint16_t *d_bv = dev_copy(bv, K * E * 2), *d_qn = dev_copy(qn, E * 2), *d_kn = dev_copy(kn, E * 2);
	uint16_t *d_qo = dev_copy(qo, nq * 2), *d_kc = dev_copy(kc, cache * 2), *d_vc = dev_copy(vc, cache * 2);
	float *d_cs = dev_copy(cs, (size_t)C * E * 4), *d_sn = dev_copy(sn, (size_t)C * E * 4);
	int *d_seq = dev_copy(seq, B * sizeof(int)), *d_pos = dev_copy(pos, B * sizeof(int));
	struct kern_qkv ha = { B, H, K, E, C, 1e-6f, q, k, v, 0, bias ? bq : NULL, bias ? bk : NULL,
			       bias ? bv : NULL, norm ? qn : NULL, norm ? kn : NULL, cs, sn, seq, pos,
			       qo, kc, vc };
	struct kern_qkv da = { B, H, K, E, C, 1e-6f, d_q, d_k, d_v, 0, bias ? d_bq : NULL,
			       bias ? d_bk : NULL, bias ? d_bv : NULL, norm ? d_qn : NULL,
			       norm ? d_kn : NULL, d_cs, d_sn, d_seq, d_pos, d_qo, d_kc, d_vc };
	uint16_t *d_fused = NULL;
	if (fused) { /* the kernel reads one fused QKV output, the twin the packed arrays */
		size_t fs = (size_t)(H + 2 * K) * E;
		uint16_t *h = malloc(B * fs * 2);
		for (int b = 0; b < B; b++) {
			memcpy(h + b * fs, q + (size_t)b * H * E, (size_t)H * E * 2);
			memcpy(h + b * fs + H * E, k + (size_t)b * K * E, (size_t)K * E * 2);
			memcpy(h + b * fs + (H + K) * E, v + (size_t)b * K * E, (size_t)K * E * 2);
		}
		d_fused = dev_copy(h, B * fs * 2);
		free(h);
		da.q = d_fused;
		da.k = d_fused + H * E;
		da.v = d_fused + (H + K) * E;
		da.stride = (int)fs;
	}
	if (kern_qkv_rope_cpu(&ha, NULL) || kern_qkv_rope(&da, NULL)) {
		report("qkv_rope", name, INFINITY, 1);
		return;
	}
	CU(cudaDeviceSynchronize());
	uint16_t *g_qo = host_of(d_qo, nq * 2), *g_kc = host_of(d_kc, cache * 2);
	uint16_t *g_vc = host_of(d_vc, cache * 2);
	/* q everywhere; the cache where the CPU wrote, the poison (NaN) left alone elsewhere */
	double worst = bf_err(g_qo, qo, nq, 0x1p-7, 1e-4);
	size_t poison_diff = 0;
	for (size_t i = 0; i < cache; i++) {
		int hp = kc[i] == 0xffff, gp = g_kc[i] == 0xffff;
		poison_diff += hp != gp || (vc[i] == 0xffff) != (g_vc[i] == 0xffff);
		if (!hp) {
			double x = fabs(kern_bf2f(g_kc[i]) - kern_bf2f(kc[i])) / (fabs(kern_bf2f(kc[i])) * 0x1p-7 + 1e-4);
			double y = fabs(kern_bf2f(g_vc[i]) - kern_bf2f(vc[i])) / (fabs(kern_bf2f(vc[i])) * 0x1p-7 + 1e-4);
			worst = !(x <= worst) ? x : worst;
			worst = !(y <= worst) ? y : worst;
		}
	}
	char n2[96];
	snprintf(n2, sizeof(n2), "%s q,k,v", name);
	report("qkv_rope", n2, poison_diff ? INFINITY : worst, 1.0);
	void *frees[] = { q, k, v, bq, bk, bv, qn, kn, qo, kc, vc, cs, sn, seq, pos, g_qo, g_kc, g_vc };
	for (size_t i = 0; i < sizeof(frees) / sizeof(frees[0]); i++)
		free(frees[i]);
	void *dfrees[] = { d_q, d_k, d_v, d_bq, d_bk, d_bv, d_qn, d_kn, d_qo, d_kc, d_vc, d_cs, d_sn,
			   d_seq, d_pos, d_fused };
	for (size_t i = 0; i < sizeof(dfrees) / sizeof(dfrees[0]); i++)
		CU(cudaFree(dfrees[i]));
}

/* ---- embedding, residual add + RMSNorm, SwiGLU -------------------------------------------- */

static void check_rows(const char *name, int B, int D, int F, int V, uint64_t seed)
{
	struct rng r;
	rng_init(&r, seed);
	size_t bd = (size_t)B * D, bf2 = (size_t)B * 2 * F;
	float *x = malloc(bd * 4), *xe = malloc(bd * 4);
	uint16_t *add = malloc(bd * 2), *w = malloc(D * 2), *gu = malloc(bf2 * 2);
	uint16_t *table = malloc((size_t)V * D * 2), *out = malloc(bd * 2), *silu = malloc((size_t)B * F * 2);
	int32_t *tok = malloc(B * 4);
	for (size_t i = 0; i < bd; i++)
		x[i] = (float)(2 * rng_normal(&r));
	fill_bf(&r, add, bd, 1.0);
	fill_bf(&r, w, D, 1.0);
	fill_bf(&r, gu, bf2, 3.0);
	fill_bf(&r, table, (size_t)V * D, 1.0);
	for (int b = 0; b < B; b++)
		tok[b] = (int32_t)rng_range(&r, 0, V - 1);
	float *d_x = dev_copy(x, bd * 4), *d_xe = dev_copy(NULL, bd * 4);
	uint16_t *d_add = dev_copy(add, bd * 2), *d_w = dev_copy(w, D * 2), *d_gu = dev_copy(gu, bf2 * 2);
	uint16_t *d_table = dev_copy(table, (size_t)V * D * 2), *d_out = dev_copy(NULL, bd * 2);
	uint16_t *d_silu = dev_copy(NULL, (size_t)B * F * 2);
	int32_t *d_tok = dev_copy(tok, B * 4);
	struct kern_rows h = { B, D, F, 1e-6f, tok, table, x, add, w, out, gu };
	struct kern_rows d = { B, D, F, 1e-6f, d_tok, d_table, d_x, d_add, d_w, d_out, d_gu };
	int rc = kern_add_rmsnorm_cpu(&h, NULL) | kern_add_rmsnorm(&d, NULL);
	h.out = silu;
	d.out = d_silu;
	rc |= kern_silu_mul_cpu(&h, NULL) | kern_silu_mul(&d, NULL);
	h.x = xe;
	d.x = d_xe;
	rc |= kern_embed_cpu(&h, NULL) | kern_embed(&d, NULL);
	if (rc) {
		report("rows", name, INFINITY, 1);
		return;
	}
	CU(cudaDeviceSynchronize());
	float *g_x = host_of(d_x, bd * 4), *g_xe = host_of(d_xe, bd * 4);
	uint16_t *g_out = host_of(d_out, bd * 2), *g_silu = host_of(d_silu, (size_t)B * F * 2);
	char n2[96];
	snprintf(n2, sizeof(n2), "%s add (fp32)", name);
	report("rows", n2, f_err(g_x, x, bd, 1e-6, 1e-6), 1.0);
	snprintf(n2, sizeof(n2), "%s rmsnorm", name);
	report("rows", n2, bf_err(g_out, out, bd, 0x1p-7, 1e-4), 1.0);
	snprintf(n2, sizeof(n2), "%s silu_mul", name);
	report("rows", n2, bf_err(g_silu, silu, (size_t)B * F, 0x1p-7, 1e-4), 1.0);
	snprintf(n2, sizeof(n2), "%s embed (exact)", name);
	report("rows", n2, f_err(g_xe, xe, bd, 0, 1), 0.0);
	void *frees[] = { x, xe, add, w, gu, table, out, silu, tok, g_x, g_xe, g_out, g_silu };
	for (size_t i = 0; i < sizeof(frees) / sizeof(frees[0]); i++)
		free(frees[i]);
	void *dfrees[] = { d_x, d_xe, d_add, d_w, d_gu, d_table, d_out, d_silu, d_tok };
	for (size_t i = 0; i < sizeof(dfrees) / sizeof(dfrees[0]); i++)
		CU(cudaFree(dfrees[i]));
}

/* ---- sampling ------------------------------------------------------------------------------ */

static void check_sample(const char *name, int B, int V, double temp, double top_p, int top_k,
			 uint64_t seed)
{
	struct rng r;
	rng_init(&r, seed);
	size_t n = (size_t)B * V;
	float *x = malloc(n * 4), *scratch = malloc(n * 4), *lp = malloc(B * 4), *en = malloc(B * 4);
	uint64_t *st = malloc(B * 32);
	int32_t *tok = malloc(B * 4);
	for (int b = 0; b < B; b++) {
		double spread = 0.5 + 6 * rng_uniform(&r);
		for (int i = 0; i < V; i++)
			x[(size_t)b * V + i] = (float)(spread * rng_normal(&r));
		if (b % 4 == 1)
			for (int i = 0; i < V; i++)
				x[(size_t)b * V + i] = floorf(x[(size_t)b * V + i]);
		if (b % 4 == 2)
			for (int i = 1; i < V; i += 3)
				x[(size_t)b * V + i] = -INFINITY;
		if (b % 8 == 3) /* all equal */
			for (int i = 0; i < V; i++)
				x[(size_t)b * V + i] = 0.25f;
		rng_init3((struct rng *)(st + 4 * b), seed, b, 1);
	}
	float *d_x = dev_copy(x, n * 4), *d_scratch = dev_copy(NULL, n * 4);
	float *d_lp = dev_copy(NULL, B * 4), *d_en = dev_copy(NULL, B * 4);
	uint64_t *d_st = dev_copy(st, B * 32);
	int32_t *d_tok = dev_copy(NULL, B * 4);
	CU(cudaMemset(d_tok, 0xff, B * 4));
	CU(cudaMemset(d_lp, 0xff, B * 4));
	/* row b draws from stream B-1-b (a decode loop's rows after compaction) */
	int *perm = malloc(B * sizeof(int));
	for (int b = 0; b < B; b++)
		perm[b] = B - 1 - b;
	int *d_perm = dev_copy(perm, B * sizeof(int));
	struct kern_sample ha = { B, V, temp, top_p, top_k, x, st, scratch, tok, lp, en, perm };
	struct kern_sample da = { B, V, temp, top_p, top_k, d_x, d_st, d_scratch, d_tok, d_lp, d_en,
				  d_perm };
	if (kern_sample_cpu(&ha, NULL) || kern_sample(&da, NULL)) {
		report("sample", name, INFINITY, 1);
		return;
	}
	CU(cudaDeviceSynchronize());
	int32_t *g_tok = host_of(d_tok, B * 4);
	float *g_lp = host_of(d_lp, B * 4), *g_en = host_of(d_en, B * 4);
	uint64_t *g_st = host_of(d_st, B * 32);
	int diff = 0;
	for (int b = 0; b < B; b++)
		diff += g_tok[b] != tok[b] || memcmp(g_st + 4 * b, st + 4 * b, 32);
	char n2[96];
	snprintf(n2, sizeof(n2), "%s tokens differing (of %d)", name, B);
	report("sample", n2, diff, 0.0);
	double e = 0;
	for (int b = 0; b < B; b++) {
		if (g_tok[b] != tok[b])
			continue;
		double a1 = fabs(g_lp[b] - lp[b]) / (fabs(lp[b]) * 1e-5 + 1e-5);
		double a2 = fabs(g_en[b] - en[b]) / (fabs(en[b]) * 1e-5 + 1e-5);
		e = !(a1 <= e) ? a1 : e;
		e = !(a2 <= e) ? a2 : e;
	}
	snprintf(n2, sizeof(n2), "%s logp,entropy", name);
	report("sample", n2, e, 1.0);
	void *frees[] = { x, scratch, lp, en, st, tok, g_tok, g_lp, g_en, g_st, perm };
	for (size_t i = 0; i < sizeof(frees) / sizeof(frees[0]); i++)
		free(frees[i]);
	void *dfrees[] = { d_x, d_scratch, d_lp, d_en, d_st, d_tok, d_perm };
	for (size_t i = 0; i < sizeof(dfrees) / sizeof(dfrees[0]); i++)
		CU(cudaFree(dfrees[i]));
}

/* ---- timings ------------------------------------------------------------------------------- */

/* n bf16 values of N(0, std^2) in device memory: a block made on the host, repeated with a
 * period of no whole number of rows, so that every row and head sees different values */
#define RANDOM_PERIOD (((size_t)1 << 22) + 7)
static uint16_t *dev_random_bf16(size_t n, double std, uint64_t seed)
{
	size_t period = n < RANDOM_PERIOD ? n : RANDOM_PERIOD;
	uint16_t *h = malloc(period * 2), *d = dev_copy(NULL, n * 2);
	struct rng r;
	rng_init(&r, seed);
	fill_bf(&r, h, period, std);
	CU(cudaMemcpy(d, h, period * 2, cudaMemcpyHostToDevice));
	for (size_t done = period; done < n;) { /* doubling copies keep the period */
		size_t c = done < n - done ? done : n - done;
		CU(cudaMemcpy(d + done, d, c * 2, cudaMemcpyDeviceToDevice));
		done += c;
	}
	free(h);
	return d;
}

/* Qwen3-0.6B shapes (H 16, K 8, E 128, 28 layers): every row at position ctx - 1; q, K and V
 * random (as after the q/k RMSNorm: scores of about unit spread), so that the softmax's
 * running maximum moves as it does on real data */
static void perf_attn(int B, int ctx, int stats, double bw)
{
	int H = 16, K = 8, E = 128, C = ctx, S = B, Q = 5 * H, M = ctx;
	size_t cache = (size_t)S * K * C * E;
	uint16_t *d_kc = dev_random_bf16(cache, 1.0, 11), *d_vc = dev_random_bf16(cache, 1.0, 12);
	uint16_t *d_q = dev_random_bf16((size_t)B * H * E, 1.0, 13);
	uint16_t *d_out = dev_copy(NULL, (size_t)B * H * E * 2);
	int *seq = malloc(B * sizeof(int)), *pos = malloc(B * sizeof(int)), *P = malloc(S * sizeof(int));
	for (int b = 0; b < B; b++) {
		seq[b] = b;
		pos[b] = ctx - 1;
		P[b] = ctx / 4;
	}
	int *d_seq = dev_copy(seq, B * sizeof(int)), *d_pos = dev_copy(pos, B * sizeof(int));
	int *d_P = dev_copy(P, S * sizeof(int));
	double *d_dsum = dev_copy(NULL, (size_t)S * Q * 8);
	float *d_waad = dev_copy(NULL, (size_t)S * Q * M * 4), *d_fai = dev_copy(NULL, (size_t)S * Q * M * 4);
	CU(cudaMemset(d_dsum, 0, (size_t)S * Q * 8));
	CU(cudaMemset(d_waad, 0, (size_t)S * Q * M * 4));
	CU(cudaMemset(d_fai, 0, (size_t)S * Q * M * 4));
	struct kern_stats ds = { d_P, d_dsum, d_waad, d_fai, Q, M, 2 * H, 10, 10, 100 };
	struct kern_attn a = { B, H, K, E, C, d_q, d_kc, d_vc, d_seq, d_pos, d_out, stats ? &ds : NULL };
	cudaEvent_t e0, e1;
	CU(cudaEventCreate(&e0));
	CU(cudaEventCreate(&e1));
	for (int i = 0; i < 3; i++)
		if (kern_decode_attn(&a, NULL))
			printf("PERF attn B=%d ctx=%d: launch refused\n", B, ctx);
	int iters = 20;
	CU(cudaEventRecord(e0, 0));
	for (int i = 0; i < iters; i++)
		kern_decode_attn(&a, NULL);
	CU(cudaEventRecord(e1, 0));
	CU(cudaEventSynchronize(e1));
	CU(cudaGetLastError());
	float ms;
	CU(cudaEventElapsedTime(&ms, e0, e1));
	double t = ms * 1e-3 / iters, bytes = 2.0 * B * K * (double)ctx * E * 2 + 2.0 * B * H * E * 2;
	printf("PERF attn B=%d ctx=%d stats=%d us_per_layer=%.1f GBps=%.0f roofline_frac=%.3f "
	       "tokens_per_s_28_layers=%.0f\n", B, ctx, stats, t * 1e6, bytes / t / 1e9, bytes / t / bw,
	       B / (28 * t));
	free(seq);
	free(pos);
	free(P);
	void *dfrees[] = { d_kc, d_vc, d_q, d_out, d_seq, d_pos, d_P, d_dsum, d_waad, d_fai };
	for (size_t i = 0; i < sizeof(dfrees) / sizeof(dfrees[0]); i++)
		CU(cudaFree(dfrees[i]));
}

static void perf_sample(int B, int V, double top_p)
{
	size_t n = (size_t)B * V;
	float *x = malloc(n * 4);
	struct rng r;
	rng_init(&r, 99);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(3 * rng_normal(&r));
	uint64_t *st = malloc(B * 32);
	for (int b = 0; b < B; b++)
		rng_init3((struct rng *)(st + 4 * b), 1, b, 2);
	float *d_x = dev_copy(x, n * 4), *d_scratch = dev_copy(NULL, n * 4);
	float *d_lp = dev_copy(NULL, B * 4), *d_en = dev_copy(NULL, B * 4);
	uint64_t *d_st = dev_copy(st, B * 32);
	int32_t *d_tok = dev_copy(NULL, B * 4);
	struct kern_sample a = { B, V, 1.0, top_p, 0, d_x, d_st, d_scratch, d_tok, d_lp, d_en,
				 NULL };
	cudaEvent_t e0, e1;
	CU(cudaEventCreate(&e0));
	CU(cudaEventCreate(&e1));
	kern_sample(&a, NULL);
	int iters = 10;
	CU(cudaEventRecord(e0, 0));
	for (int i = 0; i < iters; i++)
		kern_sample(&a, NULL);
	CU(cudaEventRecord(e1, 0));
	CU(cudaEventSynchronize(e1));
	CU(cudaGetLastError());
	float ms;
	CU(cudaEventElapsedTime(&ms, e0, e1));
	double t = ms * 1e-3 / iters;
	printf("PERF sample B=%d V=%d top_p=%.2f us_per_step=%.1f rows_per_s=%.0f\n", B, V, top_p,
	       t * 1e6, B / t);
	free(x);
	free(st);
	void *dfrees[] = { d_x, d_scratch, d_lp, d_en, d_st, d_tok };
	for (size_t i = 0; i < sizeof(dfrees) / sizeof(dfrees[0]); i++)
		CU(cudaFree(dfrees[i]));
}

/* the checks at full size (a GPU) or small (--small: the CPU emulation of tests/gpu/emu) */
/* the decode loop's bookkeeping: a few steps of prepare + advance over random states, sampled
 * tokens and a random stop-string table, on both sides; every array must be identical */
struct loop_side {
	int *row_seq, *seq, *pos, *state, *prompt_len, *resp_len, *stop_reason, *match;
	int32_t *tok, *last, *sampled, *out_tok;
	float *logp, *ent, *out_logp, *out_ent;
	uint8_t *is_stop;
	uint16_t *stop_next;
};

#define LOOP_ARRAYS(X, S, n, M, V, SL)                                                          \
	X(row_seq, n * 4) X(seq, n * 4) X(pos, n * 4) X(state, S * 4) X(prompt_len, S * 4)          \
	X(resp_len, S * 4) X(stop_reason, S * 4) X(match, S * 4) X(tok, n * 4) X(last, S * 4)      \
	X(sampled, n * 4) X(out_tok, S * M * 4) X(logp, n * 4) X(ent, n * 4)                       \
	X(out_logp, S * M * 4) X(out_ent, S * M * 4) X(is_stop, V) X(stop_next, SL * V * 2 + 2)

static void check_loop(const char *name, int S, int n, int V, int stats, int SL, uint64_t seed)
{
	const int M = 6;
	struct rng r;
	rng_init(&r, seed);
	struct loop_side h, d;
#define ALLOC(f, bytes) h.f = calloc(1, (bytes)); d.f = NULL;
	LOOP_ARRAYS(ALLOC, S, n, M, V, SL)
#undef ALLOC
	int *used = calloc(S, sizeof(int));
	for (int i = 0; i < n; i++) { /* distinct sequences per row */
		int b;
		do
			b = (int)rng_range(&r, 0, S - 1);
		while (used[b]);
		used[b] = 1;
		h.row_seq[i] = b;
	}
	for (int b = 0; b < S; b++) {
		h.state[b] = (int)rng_range(&r, 0, 2);
		h.prompt_len[b] = (int)rng_range(&r, 1, 9);
		h.resp_len[b] = h.state[b] == KERN_SAMPLING ? (int)rng_range(&r, 0, 2) : M;
		h.last[b] = (int32_t)rng_range(&r, 0, V - 1);
		h.match[b] = SL ? (int)rng_range(&r, 0, SL - 1) : 0;
		h.stop_reason[b] = -1;
	}
	for (int t = 0; t < V; t++)
		h.is_stop[t] = rng_range(&r, 0, 9) == 0;
	for (int i = 0; i < SL * V; i++)
		h.stop_next[i] = (uint16_t)rng_range(&r, 0, SL);
#define UP(f, bytes) d.f = dev_copy(h.f, (bytes));
	LOOP_ARRAYS(UP, S, n, M, V, SL)
#undef UP
	struct kern_loop ha = { n, S, V, M, 0, stats, SL, h.row_seq, h.seq, h.pos, h.tok, h.state,
				h.prompt_len, h.resp_len, h.stop_reason, h.match, h.last, h.sampled,
				h.logp, h.ent, h.out_tok, h.out_logp, h.out_ent, h.is_stop,
				SL ? h.stop_next : NULL };
	struct kern_loop da = { n, S, V, M, 0, stats, SL, d.row_seq, d.seq, d.pos, d.tok, d.state,
				d.prompt_len, d.resp_len, d.stop_reason, d.match, d.last, d.sampled,
				d.logp, d.ent, d.out_tok, d.out_logp, d.out_ent, d.is_stop,
				SL ? d.stop_next : NULL };
	int bad = 0;
	for (int step = 0; step < 4 && !bad; step++) {
		for (int i = 0; i < n; i++) {
			h.sampled[i] = (int32_t)rng_range(&r, 0, V - 1);
			h.logp[i] = (float)rng_normal(&r);
			h.ent[i] = (float)rng_uniform(&r);
		}
		CU(cudaMemcpy(d.sampled, h.sampled, n * 4, cudaMemcpyHostToDevice));
		CU(cudaMemcpy(d.logp, h.logp, n * 4, cudaMemcpyHostToDevice));
		CU(cudaMemcpy(d.ent, h.ent, n * 4, cudaMemcpyHostToDevice));
		bad |= kern_loop_prepare_cpu(&ha, NULL) || kern_loop_prepare(&da, NULL) ||
		       kern_loop_advance_cpu(&ha, NULL) || kern_loop_advance(&da, NULL);
		CU(cudaDeviceSynchronize());
#define CMP(f, bytes)                                                                              \
	{                                                                                          \
		void *g = host_of(d.f, (bytes));                                                   \
		bad += memcmp(g, h.f, (bytes)) != 0;                                               \
		free(g);                                                                           \
	}
		LOOP_ARRAYS(CMP, S, n, M, V, SL)
#undef CMP
	}
	report("loop", name, bad, 0.0);
#define FREE(f, bytes) free(h.f); CU(cudaFree(d.f));
	LOOP_ARRAYS(FREE, S, n, M, V, SL)
#undef FREE
	free(used);
}

static void check_to_bf16(long n, uint64_t seed)
{
	struct rng r;
	rng_init(&r, seed);
	float *x = malloc(n * 4);
	uint16_t *a = malloc(n * 2);
	for (long i = 0; i < n; i++)
		x[i] = (float)(rng_normal(&r) * 100);
	x[0] = NAN, x[1] = INFINITY, x[2] = -0.0f, x[3] = 3.3895314e38f;
	float *dx = dev_copy(x, n * 4);
	uint16_t *dy = dev_copy(NULL, n * 2);
	int bad = kern_to_bf16_cpu(x, a, n, NULL) || kern_to_bf16(dx, dy, n, NULL);
	uint16_t *g = host_of(dy, n * 2);
	bad = bad || memcmp(g, a, n * 2);
	report("to_bf16", "fp32 -> bf16 bit patterns", bad, 0.0);
	free(x), free(a), free(g);
	CU(cudaFree(dx));
	CU(cudaFree(dy));
}

static void checks(int small)
{
	struct attn_case big[] = {
		{ "qwen3-0.6b H16 K8 E128 stats", 24, 30, 16, 8, 128, 700, 400, 1, 0 },
		{ "qwen3-8b H32 K8 E128 stats", 12, 16, 32, 8, 128, 300, 200, 1, 0 },
		{ "H8 K8 E64 no-stats", 16, 20, 8, 8, 64, 257, 100, 0, 0 },
		{ "H8 K1 E256 stats", 6, 8, 8, 1, 256, 130, 60, 1, 0 },
		{ "H4 K2 E32 stats", 9, 9, 4, 2, 32, 40, 30, 1, 0 },
		{ "H32 K8 E128 stats fai_hi 8000", 8, 10, 32, 8, 128, 600, 500, 1, 8000 },
	};
	struct attn_case little[] = {
		{ "H4 K2 E128 stats", 5, 7, 4, 2, 128, 130, 120, 1, 0 },
		{ "H8 K2 E64 stats", 3, 4, 8, 2, 64, 40, 30, 1, 0 },
		{ "H2 K2 E256 no-stats", 2, 3, 2, 2, 256, 20, 10, 0, 0 },
		{ "H8 K1 E32 stats", 3, 5, 8, 1, 32, 25, 20, 1, 0 },
		{ "H4 K1 E256 stats", 2, 3, 4, 1, 256, 30, 25, 1, 0 },
		/* blocks of 67 and 133 KiB: shared memory by opt-in, or recomputed scores where a
		 * device allows less (tests/test_kernels_emu.sh runs at 227, 99 and 48 KiB) */
		{ "H8 K1 E32 stats fai_hi 2000", 3, 4, 8, 1, 32, 70, 60, 1, 2000 },
		{ "H4 K1 E128 stats fai_hi 8000", 2, 3, 4, 1, 128, 50, 40, 1, 8000 },
	};
	struct attn_case *ac = small ? little : big;
	size_t n_ac = small ? sizeof(little) / sizeof(little[0]) : sizeof(big) / sizeof(big[0]);
	for (size_t i = 0; i < n_ac; i++)
		check_attn(&ac[i], 100 + i);
	if (small) {
		check_qkv("H4 K2 E64 norm", 3, 4, 2, 64, 0, 1, 0, 1);
		check_qkv("H3 K1 E32 bias+norm fused", 2, 3, 1, 32, 1, 1, 1, 3);
		check_rows("D96 F160", 3, 96, 160, 40, 8);
		check_sample("V1000 T1 plain", 4, 1000, 1.0, 1.0, 0, 1);
		check_sample("V1000 T0.7 top_p0.9", 4, 1000, 0.7, 0.9, 0, 2);
		check_sample("V700 T1 top_k20 top_p0.5", 4, 700, 1.0, 0.5, 20, 4);
		check_sample("V600 greedy", 4, 600, 0.0, 1.0, 0, 5);
		check_sample("V300 T1 top_k40", 8, 300, 1.0, 1.0, 40, 6);
		check_sample("V5 T1 top_p0.5", 8, 5, 1.0, 0.5, 0, 7);
		check_loop("S9 n7 stats stop4", 9, 7, 50, 1, 4, 11);
		check_loop("S5 n5 no-stats no-stop", 5, 5, 30, 0, 0, 12);
		check_to_bf16(1000, 13);
		return;
	}
	check_qkv("qwen3 H16 K8 E128 norm", 33, 16, 8, 128, 0, 1, 0, 1);
	check_qkv("qwen3 H16 K8 E128 norm fused", 33, 16, 8, 128, 0, 1, 1, 4);
	check_qkv("qwen2 H14 K2 E64 bias", 17, 14, 2, 64, 1, 0, 0, 2);
	check_qkv("H4 K4 E256 bias+norm fused", 5, 4, 4, 256, 1, 1, 1, 3);
	check_rows("qwen3-0.6b D1024 F3072", 64, 1024, 3072, 1000, 8);
	check_rows("D1000 F333", 7, 1000, 333, 50, 9);
	int V = 151936;
	check_sample("V151936 T1 plain", 16, V, 1.0, 1.0, 0, 1);
	check_sample("V151936 T0.7 top_p0.9", 16, V, 0.7, 0.9, 0, 2);
	check_sample("V151936 T1 top_k50", 16, V, 1.0, 1.0, 50, 3);
	check_sample("V151936 T1 top_k20 top_p0.5", 16, V, 1.0, 0.5, 20, 4);
	check_sample("V151936 greedy", 16, V, 0.0, 1.0, 0, 5);
	check_loop("S300 n256 stats stop9 V151936", 300, 256, V, 1, 9, 14);
	check_to_bf16(10000019, 15);
	check_sample("V1000 T1.3 top_p0.999", 64, 1000, 1.3, 0.999, 0, 6);
	check_sample("V5 T1 top_p0.5", 64, 5, 1.0, 0.5, 0, 7);
}

int main(int argc, char **argv)
{
	int small = argc > 1 && !strcmp(argv[1], "--small");
	int perf = !small && !(argc > 1 && !strcmp(argv[1], "--no-perf"));
	struct cudaDeviceProp prop;
	CU(cudaGetDeviceProperties(&prop, 0));
	printf("device: %s, %d SMs, %.0f GiB, sm_%d%d\n", prop.name, prop.multiProcessorCount,
	       prop.totalGlobalMem / 1073741824.0, prop.major, prop.minor);
	checks(small);
	printf("checks: %d failed\n", failures);
	if (perf) {
		int V = 151936;
		double bw = copy_bandwidth();
		printf("PERF copy d2d bytes=%zu bandwidth_GBps=%.0f (read+written)\n",
		       COPY_BANDWIDTH_BYTES, bw / 1e9);
		int ctxs[] = { 1024, 4096 };
		for (int c = 0; c < 2; c++)
			for (int B = 64; B <= 256; B *= 4) {
				perf_attn(B, ctxs[c], 0, bw);
				perf_attn(B, ctxs[c], 1, bw);
			}
		perf_sample(64, V, 1.0);
		perf_sample(64, V, 0.95);
		perf_sample(256, V, 0.95);
	}
	return failures ? 1 : 0;
}
