/*
 * bench_rollout.c - the GPU decode loop as attnrl runs it (src/rollout_gpu.c over
 * src/engine_gpu.c): a random-weight Qwen3-0.6B-shaped model (28 layers, dim 1024, 16 q / 8 kv
 * heads of 128, SwiGLU 3072, q/k norm, tied 151936 vocabulary), B/8 prompts of 64 tokens, 8
 * responses each, a fixed response length (ignore_eos), temperature 1. Decode time per step is
 * the difference of a run of N tokens and a run of 1 token (prefill, setup and the copy back
 * cancel), over N - 1 steps. The roofline: bytes read per step (bf16 weights, the tied
 * embedding once as the output projection, the KV cache at the mean context) over the time,
 * against the measured device-to-device copy rate (gpu_util.h). Variants: CUDA graphs on or
 * off, statistics (5 sampled layers) on or off, top-p 1 or 0.95 (the nucleus's radix select).
 * Prints one line per run:
 *   PERF rollout B=.. graphs=.. stats=.. top_p=.. tokens_per_s=.. ms_per_step=.. GBps=.. roofline_frac=..
 * --small: a tiny model and a few tokens (the emulated build runs it in tests/test_kernels_emu.sh
 * to keep this program working; its numbers mean nothing there).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/credit_stats.h"
#include "attnrl/engine_gpu.h"
#include "attnrl/rollout_gpu.h"
#include "attnrl/tokenizer.h"
#include "gpu_util.h"

struct shape {
	int D, L, H, K, E, F, V, P, N, G;
};

static float *fill(size_t n, float std, float mean, uint64_t seed)
{
	float *a = malloc(n * sizeof(float));
	if (!a) {
		fprintf(stderr, "bench_rollout: out of host memory\n");
		exit(2);
	}
#pragma omp parallel for
	for (size_t i = 0; i < n; i++) { /* splitmix64 -> uniform of the given std */
		uint64_t z = seed + i * 0x9e3779b97f4a7c15ULL;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		a[i] = mean + std * 3.4641016f * ((float)(z >> 40) / 16777216.0f - 0.5f);
	}
	return a;
}

static void weights(const struct shape *s, int C, struct engine_weights *w)
{
	size_t D = s->D, E = s->E, F = s->F, qd = (size_t)s->H * E, kd = (size_t)s->K * E;
	w->layers = calloc(s->L, sizeof(*w->layers));
	for (int l = 0; l < s->L; l++) {
		uint64_t k = 1000 * (l + 1);
		w->layers[l] = (struct engine_layer_weights){
			fill(D, 0.05f, 1, k), fill(qd * D, 0.02f, 0, k + 1), fill(kd * D, 0.02f, 0, k + 2),
			fill(kd * D, 0.02f, 0, k + 3), fill(D * qd, 0.02f, 0, k + 4), NULL, NULL, NULL,
			fill(E, 0.05f, 1, k + 5), fill(E, 0.05f, 1, k + 6), fill(D, 0.05f, 1, k + 7),
			fill(F * D, 0.02f, 0, k + 8), fill(F * D, 0.02f, 0, k + 9),
			fill(D * F, 0.02f, 0, k + 10) };
	}
	w->embed = w->lm_head = fill((size_t)s->V * D, 0.02f, 0, 7);
	w->final_norm = fill(D, 0.05f, 1, 8);
	float *rc = malloc((size_t)C * E * 4), *rs = malloc((size_t)C * E * 4);
	for (int t = 0; t < C; t++)
		for (size_t i = 0; i < E / 2; i++) {
			double a = t * pow(1e6, -2.0 * i / E);
			rc[t * E + i] = rc[t * E + i + E / 2] = (float)cos(a);
			rs[t * E + i] = rs[t * E + i + E / 2] = (float)sin(a);
		}
	w->rope_cos = rc;
	w->rope_sin = rs;
}

/* bytes one decode step reads: the bf16 weights (the tied embedding once, as the output
 * projection) and the KV cache of B rows at context ctx */
static double step_bytes(const struct shape *s, int B, double ctx)
{
	double D = s->D, E = s->E, qd = (double)s->H * E, kd = (double)s->K * E;
	double layer = (qd + 2 * kd) * D + D * qd + 3.0 * s->F * D + 2 * D + 2 * E;
	double weights = 2 * (s->L * layer + (double)s->V * D + D);
	return weights + (double)B * s->L * 2 * kd * 2 * ctx;
}

static double run(struct rollout_gpu *r, struct rollout_batch *rb, const int32_t *const *rows,
		  const int *lens, const struct shape *s, int B, int n_new, double top_p,
		  struct attnstats *st)
{
	struct rollout_params p = { .max_new_tokens = n_new, .temperature = 1.0, .top_p = top_p,
				    .ignore_eos = 1, .stop = "", .seed = 1, .stats = st };
	char err[256];
	if (rollout_gpu_generate(r, rows, lens, B / s->G, s->G, &p, rb, err, sizeof(err))) {
		fprintf(stderr, "bench_rollout: %s\n", err);
		exit(2);
	}
	return rb->seconds;
}

static void bench(struct engine_gpu *g, const struct engine_config *c, const struct shape *s,
		  const struct tokenizer *tok, int B, double bw)
{
	int n_prompts = B / s->G, *lens = malloc(n_prompts * sizeof(int));
	int32_t **ids = malloc(n_prompts * sizeof(int32_t *));
	for (int i = 0; i < n_prompts; i++) {
		lens[i] = s->P;
		ids[i] = malloc(s->P * sizeof(int32_t));
		for (int t = 0; t < s->P; t++)
			ids[i][t] = 1 + (i * 31 + t * 7) % (tok->vocab_size - 1);
	}
	struct rollout_batch rb;
	rollout_batch_init(&rb, B, s->P + s->N);
	struct attnstats_config ac = { .n_layers = s->L, .n_heads = s->H, .window = 10,
				       .fai_lo = 10, .fai_hi = 100, .head_quantile = 0.3 };
	ac.n_sampled = attnstats_auto_layers(s->L, ac.layers);
	struct attnstats *st = attnstats_create(&ac, B, s->N);
	struct { int graphs, stats; double top_p; } v[4] = { { 1, 1, 1.0 }, { 0, 1, 1.0 },
							       { 1, 0, 1.0 }, { 1, 1, 0.95 } };
	for (int i = 0; i < 4; i++) {
		char err[256];
		struct rollout_gpu_opts o = { 8, v[i].graphs };
		struct rollout_gpu *r = rollout_gpu_create(g, c, B, tok, &o, err, sizeof(err));
		if (!r) {
			fprintf(stderr, "bench_rollout: %s\n", err);
			exit(2);
		}
		const int32_t *const *rows = (const int32_t *const *)ids;
		struct attnstats *sv = v[i].stats ? st : NULL;
		double tp = v[i].top_p;
		run(r, &rb, rows, lens, s, B, s->N, tp, sv); /* warm-up: graphs, cuBLAS plans */
		double t1 = run(r, &rb, rows, lens, s, B, 1, tp, sv);
		double tn = run(r, &rb, rows, lens, s, B, s->N, tp, sv);
		struct rollout_gpu_counts n;
		rollout_gpu_counts(r, &n);
		double per_step = (tn - t1) / (s->N - 1), bytes = step_bytes(s, B, s->P + s->N / 2.0);
		printf("PERF rollout B=%d graphs=%d stats=%d top_p=%.2f tokens_per_s=%.0f "
		       "ms_per_step=%.3f GBps=%.0f roofline_frac=%.3f steps=%ld checks=%ld "
		       "captures=%ld\n", B, v[i].graphs, v[i].stats, tp, B / per_step,
		       per_step * 1e3, bytes / per_step / 1e9, bytes / per_step / bw, n.steps,
		       n.checks, n.captures);
		fflush(stdout);
		rollout_gpu_destroy(r);
	}
	attnstats_destroy(st);
	rollout_batch_free(&rb);
	for (int i = 0; i < n_prompts; i++)
		free(ids[i]);
	free(ids);
	free(lens);
}

int main(int argc, char **argv)
{
	int small = argc > 1 && !strcmp(argv[1], "--small");
	struct shape s = small ? (struct shape){ 64, 2, 4, 2, 32, 96, 300, 6, 5, 2 }
			       : (struct shape){ 1024, 28, 16, 8, 128, 3072, 151936, 64, 256, 8 };
	int C = s.P + s.N + 1, Bs[2] = { small ? 4 : 64, small ? 8 : 256 };
	struct tokenizer tok;
	tokenizer_init_chars(&tok);
	struct engine_config c = { s.D, s.L, s.H, s.K, s.E, s.F, s.V, 1e-6f, 0, 1 };
	struct engine_weights w;
	weights(&s, C, &w);
	char err[256];
	struct engine_gpu *g = engine_gpu_create(&c, &w, 0, 0, Bs[1], Bs[1], C, err, sizeof(err));
	if (!g) {
		fprintf(stderr, "bench_rollout: %s\n", err);
		return 2;
	}
	double bw = small ? 1e12 : copy_bandwidth(); /* the emulation would copy 20 GB */
	printf("PERF copy bandwidth_GBps=%.0f (read+written)\n", bw / 1e9);
	for (int i = 0; i < 2; i++)
		bench(g, &c, &s, &tok, Bs[i], bw);
	engine_gpu_destroy(g);
	tokenizer_free(&tok);
	return 0;
}
