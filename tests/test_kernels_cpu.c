/*
 * test_kernels_cpu.c - the CPU twins of the CUDA kernels (kernels.h) against outside oracles,
 * on fresh random inputs with poisoned outputs:
 *  1. decode attention + statistics against the decode engine's attention (engine_attention()
 *     with attnstats, itself tested against PyTorch and the map-based reference) on the same
 *     bf16-exact cache and queries: output within bf16 rounding, dsum/WAAD/FAI within fp32
 *     rounding, nothing outside the rows' cells touched;
 *  2. q/k RMSNorm + RoPE + cache write against PyTorch (tests/ref/kernels_ref.py, Hugging Face
 *     conventions) with and without bias / q-k norm: within one bf16 rounding;
 *  3. sampling (radix select, no sort) against rollout_sample(): the same token, log-prob,
 *     entropy and RNG state for greedy, plain, top-k, top-p and both, with ties and -inf logits.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attnrl/credit_stats.h"
#include "attnrl/engine.h"
#include "attnrl/kernels.h"
#include "attnrl/rollout.h"
#include "check.h"

static void fill_bf(struct rng *r, float *f, uint16_t *h, size_t n, double std)
{
	for (size_t i = 0; i < n; i++) {
		h[i] = kern_f2bf((float)(std * rng_normal(r)));
		if (f)
			f[i] = kern_bf2f(h[i]);
	}
}

/* ---- 1. decode attention ---------------------------------------------------------------- */

enum { AL = 2, AS = 5, AH = 8, AK = 2, AE = 16, AC = 200, AM = 80, AB = 5 };

static void test_attention(uint64_t seed)
{
	struct engine_config ec = { .dim = AH * AE, .n_layers = AL, .n_heads = AH, .n_kv_heads = AK,
				    .head_dim = AE, .hidden_dim = 8, .vocab_size = 8 };
	struct engine_weights w = { 0 };
	char err[256];
	struct engine *e = engine_create(&ec, &w, AS, AB, AC, err, sizeof(err));
	CHECK(e != NULL, "engine_create: %s", err);
	if (!e)
		return;
	struct rng r;
	rng_init(&r, seed);
	size_t cache = (size_t)AL * AS * AK * AC * AE, layer = (size_t)AS * AK * AC * AE;
	uint16_t *kc = malloc(cache * 2), *vc = malloc(cache * 2), *q = malloc(AB * AH * AE * 2);
	uint16_t *out = malloc(AB * AH * AE * 2);
	fill_bf(&r, e->k_cache, kc, cache, 1.0);
	fill_bf(&r, e->v_cache, vc, cache, 1.0);
	fill_bf(&r, e->q, q, AB * AH * AE, 2.5);
	memset(out, 0xff, AB * AH * AE * 2); /* NaN */
	/* tracked: slot 3 at response row 50, slot 0 still in its prompt, slot 4 row 27, slot 1
	 * at the last cache position; slot 2 untracked */
	int seq[AB] = { 3, 0, 4, 1, 2 }, pos[AB] = { 150, 3, 37, 199, 60 };
	int P[AS] = { 5, 150, -1, 100, 10 };
	struct attnstats_config sc = { .n_layers = AL, .n_heads = AH, .n_sampled = 2,
				       .layers = { 0, 1 }, .window = 10, .fai_lo = 10,
				       .fai_hi = 100, .head_quantile = 0.3 };
	struct attnstats *ref = attnstats_create(&sc, AS, AM), *tw = attnstats_create(&sc, AS, AM);
	size_t q_m = (size_t)AS * ref->n_pairs * AM;
	for (int s = 0; s < AS; s++)
		if (P[s] >= 0)
			attnstats_begin(ref, s, P[s]);
	for (size_t i = 0; i < q_m; i++) { /* earlier rows' sums: the kernel adds to them */
		ref->fai[i] = (float)rng_uniform(&r);
		ref->waad[i] = (float)rng_uniform(&r);
	}
	for (size_t i = 0; i < (size_t)AS * ref->n_pairs; i++)
		ref->dsum[i] = 100 * rng_uniform(&r);
	memcpy(tw->prompt_len, ref->prompt_len, AS * sizeof(int));
	memcpy(tw->dsum, ref->dsum, (size_t)AS * ref->n_pairs * sizeof(double));
	memcpy(tw->waad, ref->waad, q_m * sizeof(float));
	memcpy(tw->fai, ref->fai, q_m * sizeof(float));
	e->stats = ref;
	engine_attention(e, 1, AB, seq, pos);
	e->stats = NULL;
	struct kern_stats ks = { tw->prompt_len, tw->dsum, tw->waad, tw->fai, tw->n_pairs, AM,
				 tw->layer_slot[1] * AH, 10, 10, 100 };
	struct kern_attn a = { AB, AH, AK, AE, AC, q, kc + layer, vc + layer, seq, pos, out, &ks };
	CHECK(kern_decode_attn_cpu(&a, NULL) == 0, "twin refused the shapes");
	double worst = 0;
	for (int i = 0; i < AB * AH * AE; i++) {
		float x = kern_bf2f(out[i]), y = e->att[i];
		double err = fabs(x - y) / (fabs(y) * 0x1p-8 + 1e-6);
		worst = err > worst ? err : worst;
		CHECK(!isnan(x) && fabs(x - y) <= fabs(y) * 0x1p-8 + 1e-6, "out[%d] %g vs %g", i, x, y);
	}
	printf("attention: %d outputs, worst error %.3f of the bf16 tolerance\n", AB * AH * AE, worst);
	int bad = 0;
	for (size_t i = 0; i < (size_t)AS * ref->n_pairs; i++)
		bad += fabs(tw->dsum[i] - ref->dsum[i]) > 1e-5 * fabs(ref->dsum[i]) + 1e-6;
	for (size_t i = 0; i < q_m; i++) {
		bad += fabsf(tw->waad[i] - ref->waad[i]) > 2e-5f;
		bad += fabsf(tw->fai[i] - ref->fai[i]) > 2e-6f;
	}
	CHECK(bad == 0, "%d statistics cells differ from the engine's", bad);
	/* a layer that is not sampled: no statistics */
	a.stats = NULL;
	memcpy(tw->fai, ref->fai, q_m * sizeof(float));
	CHECK(kern_decode_attn_cpu(&a, NULL) == 0 && !memcmp(tw->fai, ref->fai, q_m * 4),
	      "no statistics without a stats block");
	int bad_pos[AB] = { 0, 0, 0, AC, 0 };
	a.pos = bad_pos;
	CHECK(kern_decode_attn_cpu(&a, NULL) == -1, "a position past the cache is refused");
	attnstats_destroy(ref);
	attnstats_destroy(tw);
	free(kc);
	free(vc);
	free(q);
	free(out);
	engine_destroy(e);
}

/* ---- 2. q/k norm + rope ----------------------------------------------------------------- */

enum { RB = 3, RH = 4, RK = 2, RE = 32, RC = 64, RS = 4, NQ = RB * RH * RE, NK = RB * RK * RE };
#define NCACHE ((size_t)RS * RK * RC * RE)
#define N_IN (NQ + 2 * NK + RH * RE + 2 * RK * RE + 2 * RE + RB)

/* one case: the inputs (as the reference reads them) and the twin's outputs */
struct rope_case {
	int bias, norm, seq[RB], pos[RB];
	double theta;
	float eps, in[N_IN];
	uint16_t qo[NQ], kc[NCACHE], vc[NCACHE];
	char dir[64];
};

static int write_file(const char *dir, const char *name, const void *p, size_t bytes)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(p, 1, bytes, f) == bytes;
	return (f && fclose(f)) || !ok ? -1 : 0;
}

static int rope_prepare(struct rope_case *rc, uint64_t seed, int bias, int norm, const char *root,
			int i)
{
	struct rng r;
	rng_init(&r, seed);
	rc->bias = bias;
	rc->norm = norm;
	rc->theta = norm ? 1000000.0 : 10000.0;
	rc->eps = 1e-6f;
	static float cs[RC * RE], sn[RC * RE];
	for (int t = 0; t < RC; t++)
		for (int i = 0; i < RE; i++) {
			double f = t / pow(rc->theta, (double)(2 * (i % (RE / 2))) / RE);
			cs[t * RE + i] = (float)cos(f);
			sn[t * RE + i] = (float)sin(f);
		}
	uint16_t bq[RH * RE], bk[RK * RE], bv[RK * RE], qn[RE], kn[RE], qv[NQ], kv[NK], vv[NK];
	float *p = rc->in;
	fill_bf(&r, p, qv, NQ, 3.0), p += NQ;
	fill_bf(&r, p, kv, NK, 3.0), p += NK;
	fill_bf(&r, p, vv, NK, 1.0), p += NK;
	fill_bf(&r, p, bq, RH * RE, 0.5), p += RH * RE;
	fill_bf(&r, p, bk, RK * RE, 0.5), p += RK * RE;
	fill_bf(&r, p, bv, RK * RE, 0.5), p += RK * RE;
	fill_bf(&r, p, qn, RE, 1.0), p += RE;
	fill_bf(&r, p, kn, RE, 1.0), p += RE;
	int seq[RB] = { 2, 0, 3 }, pos[RB] = { 17, 0, RC - 1 };
	for (int b = 0; b < RB; b++) {
		rc->seq[b] = seq[b];
		rc->pos[b] = pos[b];
		p[b] = (float)pos[b];
	}
	memset(rc->qo, 0xff, sizeof(rc->qo)); /* NaN */
	memset(rc->kc, 0xff, sizeof(rc->kc));
	memset(rc->vc, 0xff, sizeof(rc->vc));
	struct kern_qkv a = { RB, RH, RK, RE, RC, rc->eps, qv, kv, vv, 0, bias ? bq : NULL,
			      bias ? bk : NULL, bias ? bv : NULL, norm ? qn : NULL, norm ? kn : NULL,
			      cs, sn, rc->seq, rc->pos, rc->qo, rc->kc, rc->vc };
	/* the third case reads q, k, v from one fused QKV output, rows (H + 2K) * E apart */
	enum { FS = (RH + 2 * RK) * RE };
	static uint16_t fused[RB * FS];
	if (i == 2) {
		for (int b = 0; b < RB; b++) {
			memcpy(fused + b * FS, qv + b * RH * RE, RH * RE * 2);
			memcpy(fused + b * FS + RH * RE, kv + b * RK * RE, RK * RE * 2);
			memcpy(fused + b * FS + (RH + RK) * RE, vv + b * RK * RE, RK * RE * 2);
		}
		a.q = fused;
		a.k = fused + RH * RE;
		a.v = fused + (RH + RK) * RE;
		a.stride = FS;
	}
	CHECK(kern_qkv_rope_cpu(&a, NULL) == 0, "twin refused the shapes");
	char args[256];
	int n = snprintf(args, sizeof(args), "%d %d %d %d %.17g %.9g %d %d\n", RB, RH, RK, RE,
			 rc->theta, rc->eps, bias, norm);
	snprintf(rc->dir, sizeof(rc->dir), "%s/case%d", root, i);
	return mkdir(rc->dir, 0700) || write_file(rc->dir, "args.txt", args, n) ||
	       write_file(rc->dir, "in.bin", rc->in, sizeof(rc->in)) ? -1 : 0;
}

static void rope_check(const struct rope_case *rc)
{
	static float ref[NQ + 2 * NK];
	char path[128];
	snprintf(path, sizeof(path), "%s/out.bin", rc->dir);
	FILE *f = fopen(path, "rb");
	size_t got = f ? fread(ref, 4, NQ + 2 * NK, f) : 0;
	if (f)
		fclose(f);
	CHECK(got == NQ + 2 * NK, "no reference output in %s", path);
	int bad = 0, written = 0;
	double worst = 0;
	for (size_t i = 0; i < NQ + 2 * NK; i++) {
		float x;
		if (i < NQ) {
			x = kern_bf2f(rc->qo[i]);
		} else {
			size_t j = (i - NQ) % NK;
			int b = j / (RK * RE), h = j / RE % RK, c = j % RE;
			size_t at = (((size_t)rc->seq[b] * RK + h) * RC + rc->pos[b]) * RE + c;
			x = kern_bf2f(i < NQ + NK ? rc->kc[at] : rc->vc[at]);
		}
		double tol = fabs(ref[i]) * 0x1p-8 + 1e-5, err = fabs(x - ref[i]);
		worst = err / tol > worst ? err / tol : worst;
		bad += !(err <= tol);
	}
	for (size_t i = 0; i < NCACHE; i++)
		written += (rc->kc[i] != 0xffff) + (rc->vc[i] != 0xffff);
	CHECK(bad == 0, "bias %d norm %d: %d values differ from PyTorch", rc->bias, rc->norm, bad);
	CHECK(written == 2 * NK, "bias %d norm %d: %d cache cells written, want %d", rc->bias,
	      rc->norm, written, 2 * NK);
	printf("qkv_rope bias %d norm %d: worst error %.3f of the bf16 tolerance\n", rc->bias,
	       rc->norm, worst);
}

/* the glue kernels: residual add + RMSNorm and SwiGLU (PyTorch), the embedding (the table) */
enum { GB = 3, GD = 96, GF = 160, GV = 50, N_GIN = 2 * GB * GD + GD + 2 * GB * GF };
struct rows_case {
	float in[N_GIN], x[GB * GD];
	uint16_t out[GB * GD], silu[GB * GF];
	char dir[64];
};

static int rows_prepare(struct rows_case *rc, uint64_t seed, const char *root)
{
	struct rng r;
	rng_init(&r, seed);
	uint16_t add[GB * GD], w[GD], gu[GB * 2 * GF], table[GV * GD];
	float *x = rc->in, *p = rc->in + GB * GD;
	for (int i = 0; i < GB * GD; i++)
		x[i] = rc->x[i] = (float)(2 * rng_normal(&r));
	fill_bf(&r, p, add, GB * GD, 1.0), p += GB * GD;
	fill_bf(&r, p, w, GD, 1.0), p += GD;
	fill_bf(&r, p, gu, GB * 2 * GF, 3.0);
	memset(rc->out, 0xff, sizeof(rc->out));
	memset(rc->silu, 0xff, sizeof(rc->silu));
	struct kern_rows a = { .B = GB, .D = GD, .F = GF, .eps = 1e-5f, .x = rc->x, .add = add,
			       .w = w, .out = rc->out, .gate_up = gu };
	CHECK(kern_add_rmsnorm_cpu(&a, NULL) == 0, "add_rmsnorm refused");
	a.out = rc->silu;
	CHECK(kern_silu_mul_cpu(&a, NULL) == 0, "silu_mul refused");
	/* the embedding: rows of the table, exactly */
	int32_t tok[GB] = { 7, 0, GV - 1 };
	float xe[GB * GD];
	fill_bf(&r, NULL, table, GV * GD, 1.0);
	struct kern_rows e = { .B = GB, .D = GD, .tok = tok, .embed = table, .x = xe };
	int bad = kern_embed_cpu(&e, NULL);
	for (int b = 0; b < GB; b++)
		for (int i = 0; i < GD; i++)
			bad += xe[b * GD + i] != kern_bf2f(table[tok[b] * GD + i]);
	CHECK(bad == 0, "embed: %d values differ from the table", bad);
	char args[128];
	int n = snprintf(args, sizeof(args), "rows %d %d %d %.9g\n", GB, GD, GF, 1e-5);
	snprintf(rc->dir, sizeof(rc->dir), "%s/rows", root);
	return mkdir(rc->dir, 0700) || write_file(rc->dir, "args.txt", args, n) ||
	       write_file(rc->dir, "in.bin", rc->in, sizeof(rc->in)) ? -1 : 0;
}

static void rows_check(const struct rows_case *rc)
{
	static float ref[2 * GB * GD + GB * GF];
	char path[128];
	snprintf(path, sizeof(path), "%s/out.bin", rc->dir);
	FILE *f = fopen(path, "rb");
	size_t got = f ? fread(ref, 4, 2 * GB * GD + GB * GF, f) : 0;
	if (f)
		fclose(f);
	CHECK(got == 2 * GB * GD + GB * GF, "no reference output in %s", path);
	int bad_x = 0, bad_n = 0, bad_s = 0;
	for (int i = 0; i < GB * GD; i++) {
		bad_x += rc->x[i] != ref[i];
		bad_n += !(fabsf(kern_bf2f(rc->out[i]) - ref[GB * GD + i]) <=
			   fabsf(ref[GB * GD + i]) * 0x1p-8f + 1e-5f);
	}
	for (int i = 0; i < GB * GF; i++) {
		float y = ref[2 * GB * GD + i];
		bad_s += !(fabsf(kern_bf2f(rc->silu[i]) - y) <= fabsf(y) * 0x1p-8f + 1e-5f);
	}
	CHECK(bad_x == 0, "add: %d residual values differ from PyTorch", bad_x);
	CHECK(bad_n == 0, "rmsnorm: %d values differ from PyTorch", bad_n);
	CHECK(bad_s == 0, "silu_mul: %d values differ from PyTorch", bad_s);
}

/* three cases (Qwen3: norm; Qwen2: bias; both, from a fused QKV output) and the glue kernels,
 * one run of the PyTorch reference */
static void test_qkv_rope(void)
{
	static struct rope_case rc[3];
	static struct rows_case gc;
	char root[] = "/tmp/attnrl_kernels_XXXXXX", cmd[512];
	if (!mkdtemp(root)) {
		CHECK(0, "cannot make a temporary directory");
		return;
	}
	int ok = !rope_prepare(&rc[0], 11, 0, 1, root, 0) && !rope_prepare(&rc[1], 12, 1, 0, root, 1) &&
		 !rope_prepare(&rc[2], 13, 1, 1, root, 2) && !rows_prepare(&gc, 14, root);
	CHECK(ok, "cannot write the reference inputs under %s", root);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/ref/kernels_ref.py %s %s %s %s", rc[0].dir,
		 rc[1].dir, rc[2].dir, gc.dir);
	int status = ok ? system(cmd) : -1;
	if (ok && WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		printf("SKIP qkv_rope: /usr/bin/python3 has no torch/numpy (install python3-torch)\n");
	} else {
		CHECK(status == 0, "the PyTorch reference failed: %s", cmd);
		for (int i = 0; ok && status == 0 && i < 3; i++)
			rope_check(&rc[i]);
		if (ok && status == 0)
			rows_check(&gc);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", root);
}

/* ---- 3. sampling ------------------------------------------------------------------------ */

enum { SV = 1000, SB = 64 };

static void test_sample(uint64_t seed, int V)
{
	struct { double temp, top_p; int top_k; } cfg[] = {
		{ 1.0, 1.0, 0 }, { 0.7, 0.9, 0 }, { 1.3, 1.0, 50 }, { 1.0, 0.5, 20 },
		{ 0.0, 1.0, 0 }, { 1.0, 0.999, 0 }, { 0.5, 0.95, 3 }, { 1.0, 0.3, 1 },
	};
	float *logits = malloc((size_t)SB * V * 4), *scratch = malloc((size_t)SB * V * 4);
	float probs[SV], logp[SB], ent[SB];
	int order[SV];
	int32_t tok[SB];
	uint64_t st[SB * 4];
	struct rng r;
	rng_init(&r, seed);
	int rows = 0, mismatch = 0;
	for (size_t c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		for (int b = 0; b < SB; b++) {
			float *x = logits + (size_t)b * V;
			double spread = 0.5 + 4 * rng_uniform(&r);
			for (int i = 0; i < V; i++)
				x[i] = (float)(spread * rng_normal(&r));
			if (b % 4 == 1) /* ties: a few repeated values */
				for (int i = 0; i < V; i++)
					x[i] = floorf(x[i]);
			if (b % 4 == 2) /* masked tokens (never all of them) */
				for (int i = 1; i < V; i += 3)
					x[i] = -INFINITY;
			if (b % 8 == 3) /* all equal */
				for (int i = 0; i < V; i++)
					x[i] = 0.25f;
			rng_init3((struct rng *)(st + 4 * b), seed, b, c);
			tok[b] = -7;
			logp[b] = ent[b] = NAN;
		}
		struct kern_sample a = { SB, V, cfg[c].temp, cfg[c].top_p, cfg[c].top_k, logits, st,
					 scratch, tok, logp, ent, NULL };
		CHECK(kern_sample_cpu(&a, NULL) == 0, "twin refused the shapes");
		struct rollout_params p = { .temperature = cfg[c].temp, .top_p = cfg[c].top_p,
					    .top_k = cfg[c].top_k };
		for (int b = 0; b < SB; b++) {
			struct rng rr;
			float lp, en;
			rng_init3(&rr, seed, b, c);
			int32_t t = rollout_sample(logits + (size_t)b * V, V, &p, &rr, order, probs,
						   &lp, &en);
			int same = t == tok[b] && lp == logp[b] && en == ent[b] &&
				   !memcmp(rr.s, st + 4 * b, sizeof(rr.s));
			mismatch += !same;
			rows++;
			CHECK(same, "config %zu row %d: token %d vs %d, logp %g vs %g, entropy %g vs %g",
			      c, b, tok[b], t, logp[b], lp, ent[b], en);
		}
	}
	printf("sample V=%d: %d rows, %d differ from rollout_sample\n", V, rows, mismatch);
	free(logits);
	free(scratch);
}

int main(void)
{
	for (uint64_t s = 1; s <= 3; s++)
		test_attention(s * 7919);
	test_qkv_rope();
	test_sample(5, SV);
	test_sample(6, SV);
	test_sample(7, 5);
	test_sample(8, 1);
	return check_done("test_kernels_cpu");
}
