/*
 * stats_overhead.c - what streaming the attention statistics costs inside the decode engine:
 * the same rollout (the bench model's shape, seeded random weights, B responses of exactly N
 * tokens) with and without statistics, alternated, best of several repetitions; plus the
 * memory the statistics take per sequence, streamed (O(pairs x N)) and as maps (O(pairs x N^2)).
 * Usage: build/bench/stats_overhead [B] [N...]   (run by bench/credit.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/attnstats.h"
#include "attnrl/rollout.h"
#include "attnrl/runlog.h"

#define D 128
#define L 4
#define H 4
#define KV 2
#define E 32
#define F 352

static float *randn(struct rng *r, size_t n, double std, double mean)
{
	float *a = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		a[i] = (float)(mean + std * rng_normal(r));
	return a;
}

static void weights(struct engine_weights *w, struct engine_layer_weights *lw, int V, int C)
{
	struct rng r;
	rng_init(&r, 1);
	for (int l = 0; l < L; l++)
		lw[l] = (struct engine_layer_weights){
			randn(&r, D, 0, 1), randn(&r, H * E * D, 0.02, 0), randn(&r, KV * E * D, 0.02, 0),
			randn(&r, KV * E * D, 0.02, 0), randn(&r, D * H * E, 0.02, 0), NULL, NULL, NULL,
			NULL, NULL, randn(&r, D, 0, 1), randn(&r, F * D, 0.02, 0), randn(&r, F * D, 0.02, 0),
			randn(&r, D * F, 0.02, 0) };
	float *cs = malloc((size_t)C * E * sizeof(float)), *sn = malloc((size_t)C * E * sizeof(float));
	for (int t = 0; t < C; t++)
		for (int i = 0; i < E; i++)
			cs[t * E + i] = 1.0f, sn[t * E + i] = 0.0f; /* rotation does not change the cost */
	float *embed = randn(&r, (size_t)V * D, 0.02, 0);
	*w = (struct engine_weights){ embed, randn(&r, D, 0, 1), embed, cs, sn, lw };
}

static double run(struct rollout *ro, const int32_t *prompt, int P, int B, int N,
		  struct attnstats *stats, struct rollout_batch *rb)
{
	const int32_t *rows[1] = { prompt };
	int lens[1] = { P };
	struct rollout_params p = { .max_new_tokens = N, .ignore_eos = 1, .temperature = 1.0,
				    .top_p = 1.0, .seed = 1, .stats = stats };
	char err[256];
	double t0 = runlog_now();
	if (rollout_generate(ro, rows, lens, 1, B, &p, rb, err, sizeof(err))) {
		fprintf(stderr, "stats_overhead: %s\n", err);
		exit(1);
	}
	return runlog_now() - t0;
}

int main(int argc, char **argv)
{
	int B = argc > 1 ? atoi(argv[1]) : 8, lens[8] = { 128, 256, 512, 1024 }, n_lens = 4, reps = 5;
	if (argc > 2)
		for (n_lens = 0; n_lens + 2 < argc && n_lens < 8; n_lens++)
			lens[n_lens] = atoi(argv[n_lens + 2]);
	struct tokenizer tok;
	tokenizer_init_chars(&tok);
	int C = lens[n_lens - 1] + 16, P = 10;
	struct engine_layer_weights lw[L];
	struct engine_weights w;
	weights(&w, lw, tok.vocab_size, C);
	struct engine_config ec = { D, L, H, KV, E, F, tok.vocab_size, 1e-5f, 0, 0 };
	char err[256];
	struct engine *eng = engine_create(&ec, &w, B, B > 256 ? B : 256, C, err, sizeof(err));
	struct rollout ro;
	rollout_init(&ro, eng, &tok);
	struct attnstats_config sc = { .n_layers = L, .n_heads = H, .window = 10, .fai_lo = 10,
				       .fai_hi = 100, .head_quantile = 0.3 };
	sc.n_sampled = attnstats_auto_layers(L, sc.layers);
	int32_t prompt[16] = { 1 };
	for (int i = 1; i < P; i++)
		prompt[i] = 5 + i;
	printf("| N | rollout, no statistics (s) | with streamed statistics (s) | overhead | statistics memory per sequence: streamed / maps |\n");
	printf("|---:|---:|---:|---:|---|\n");
	for (int k = 0; k < n_lens; k++) {
		int N = lens[k];
		struct attnstats *st = attnstats_create(&sc, B, N);
		struct rollout_batch rb;
		rollout_batch_init(&rb, B, C);
		double off = 1e9, on = 1e9;
		for (int r = 0; r < reps; r++) {
			double a = run(&ro, prompt, P, B, N, NULL, &rb), b = run(&ro, prompt, P, B, N, st, &rb);
			off = a < off ? a : off;
			on = b < on ? b : on;
		}
		double streamed_kib = (st->n_pairs * (2.0 * N * sizeof(float) + sizeof(double))) / 1024;
		double maps_kib = st->n_pairs * (double)(N + P) * (N + P) * sizeof(float) / 1024;
		printf("| %d | %.4f | %.4f | %+.2f%% | %.0f KiB / %.0f KiB |\n", N, off, on,
		       100 * (on - off) / off, streamed_kib, maps_kib);
		fflush(stdout);
		rollout_batch_free(&rb);
		attnstats_destroy(st);
	}
	rollout_free(&ro);
	engine_destroy(eng);
	tokenizer_free(&tok);
	return 0;
}
