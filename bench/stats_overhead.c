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

#include "attnrl/credit_stats.h"
#include "attnrl/fsutil.h"
#include "attnrl/rollout.h"
#include "attnrl/runlog.h"

#define D 128 /* the bench model's shape (configs/bench.yaml) */
#define L 4
#define H 4
#define KV 2
#define E 32
#define F 352
#define C 1040
#include "engine_fixture.h"

static double run(struct rollout *ro, const int32_t *prompt, int P, int B, int N,
		  struct attnstats *stats, struct rollout_batch *rb)
{
	const int32_t *rows[1] = { prompt };
	int lens[1] = { P };
	struct rollout_params p = { .max_new_tokens = N, .ignore_eos = 1, .temperature = 1.0,
				    .top_p = 1.0, .seed = 1, .stats = stats };
	char err[256];
	double t0 = fs_now();
	if (rollout_generate(ro, rows, lens, 1, B, &p, rb, err, sizeof(err))) {
		fprintf(stderr, "stats_overhead: %s\n", err);
		exit(1);
	}
	return fs_now() - t0;
}

int main(int argc, char **argv)
{
	int B = argc > 1 ? atoi(argv[1]) : 8, lens[8] = { 128, 256, 512, 1024 }, n_lens = 4, reps = 5;
	if (argc > 2)
		for (n_lens = 0; n_lens + 2 < argc && n_lens < 8; n_lens++)
			lens[n_lens] = atoi(argv[n_lens + 2]);
	int P = 10;
	if (B > 256 || lens[n_lens - 1] + P > C) {
		fprintf(stderr, "stats_overhead: at most 256 sequences of %d tokens\n", C - P);
		return 2;
	}
	struct fixture fx;
	fixture_init(&fx, B);
	struct rollout *ro = &fx.ro;
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
			double a = run(ro, prompt, P, B, N, NULL, &rb), b = run(ro, prompt, P, B, N, st, &rb);
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
	fixture_free(&fx);
	return 0;
}
