/*
 * check_engine.c - the GPU decode engine (src/engine_gpu.c) against the CPU decode engine
 * (src/engine.c, itself tested against PyTorch) on the same bf16-exact random weights: logits
 * of prefill rows (prompts of different lengths in one call) and of decode steps, plain and
 * with q/k/v biases and q/k norms. Built against the CPU emulation of CUDA and cuBLAS
 * (tests/gpu/emu) and run by tests/test_kernels_emu.sh. The GPU engine rounds activations to
 * bf16 between its kernels, the CPU engine keeps fp32, so logits agree to bf16 accuracy
 * amplified by two layers (largest difference within 2^-4 of the largest logit, mean within
 * 2^-5 of the mean magnitude), and the most likely token agrees. A layout or indexing mistake
 * moves logits by their own size.
 */
#include <string.h>

#include "attnrl/engine_gpu.h"
#include "attnrl/kernels.h"
#include "attnrl/rollout.h"
#include "check.h"

/* the fixture's shape (after the headers: kernels.h has fields of these names) */
#define D 64
#define L 2
#define H 4
#define KV 2
#define E 32
#define F 96
#define C 64
#include "engine_fixture.h"
#include "bf16_fixture.h"

static double worst_ratio, worst_mean_ratio;

/* per row: the largest difference within 2^-4 of the largest logit, the mean difference
 * within 2^-5 of the mean logit magnitude, the same top token unless nearly tied */
static void compare(const float *a, const float *b, int rows, int V, const char *what)
{
	for (int r = 0; r < rows; r++) {
		const float *x = a + (size_t)r * V, *y = b + (size_t)r * V;
		double mx = 0, err = 0, mean = 0, mean_err = 0;
		int ax = 0, ay = 0;
		for (int i = 0; i < V; i++) {
			mx = fabs(y[i]) > mx ? fabs(y[i]) : mx;
			err = fabs(x[i] - y[i]) > err ? fabs(x[i] - y[i]) : err;
			mean += fabs(y[i]) / V;
			mean_err += fabs(x[i] - y[i]) / V;
			ax = x[i] > x[ax] ? i : ax;
			ay = y[i] > y[ay] ? i : ay;
		}
		double tol = mx * 0x1p-4 + 1e-3, mean_tol = mean * 0x1p-5 + 1e-4;
		worst_ratio = err / tol > worst_ratio ? err / tol : worst_ratio;
		worst_mean_ratio = mean_err / mean_tol > worst_mean_ratio ? mean_err / mean_tol
									 : worst_mean_ratio;
		CHECK(err <= tol, "%s row %d: logits differ by %g (tolerance %g)", what, r, err, tol);
		CHECK(mean_err <= mean_tol, "%s row %d: logits differ by %g on average (tolerance %g)",
		      what, r, mean_err, mean_tol);
		/* the top token, unless the two best logits of the CPU engine are within the error */
		float second = -INFINITY;
		for (int i = 0; i < V; i++)
			second = i != ay && y[i] > second ? y[i] : second;
		CHECK(ax == ay || y[ay] - second <= 2 * tol, "%s row %d: top token %d vs %d", what, r,
		      ax, ay);
	}
}

static void run(struct fixture *f, const char *what)
{
	const struct engine_config *c = &f->eng->cfg;
	int V = c->vocab_size;
	char err[256];
	struct engine_gpu *g = engine_gpu_create(c, &f->w, 0, 0, 4, 64, C, err, sizeof(err));
	CHECK(g != NULL, "engine_gpu_create: %s", err);
	if (!g)
		return;
	struct rng r;
	rng_init(&r, 7);
	/* prefill: three prompts (5, 9 and 1 tokens) in one call, logits of each last token */
	int lens[3] = { 5, 9, 1 }, seq[64], pos[64], out[3], n = 0;
	int32_t tok[64];
	for (int s = 0; s < 3; s++)
		for (int t = 0; t < lens[s]; t++, n++) {
			seq[n] = s;
			pos[n] = t;
			tok[n] = (int32_t)rng_range(&r, 0, V - 1);
			if (t == lens[s] - 1)
				out[s] = n;
		}
	float *a = malloc((size_t)3 * V * 4), *b = malloc((size_t)3 * V * 4);
	memset(a, 0xff, (size_t)3 * V * 4);
	CHECK(engine_gpu_forward(g, n, seq, pos, tok, 3, out, a) == 0, "%s: gpu prefill", what);
	CHECK(engine_forward(f->eng, n, seq, pos, tok, 3, out, b) == 0, "%s: cpu prefill", what);
	compare(a, b, 3, V, what);
	/* decode: one row per sequence, eight steps */
	for (int step = 0; step < 8; step++) {
		int dseq[3], dpos[3], rows[3] = { 0, 1, 2 };
		int32_t dtok[3];
		for (int s = 0; s < 3; s++) {
			dseq[s] = s;
			dpos[s] = lens[s] + step;
			dtok[s] = (int32_t)rng_range(&r, 0, V - 1);
		}
		memset(a, 0xff, (size_t)3 * V * 4);
		CHECK(engine_gpu_forward(g, 3, dseq, dpos, dtok, 3, rows, a) == 0, "%s: gpu step", what);
		CHECK(engine_forward(f->eng, 3, dseq, dpos, dtok, 3, rows, b) == 0, "%s: cpu step", what);
		compare(a, b, 3, V, what);
	}
	int zero[1] = { 0 }, bad[1] = { C };
	CHECK(engine_gpu_forward(g, 1, zero, bad, tok, 1, zero, a) == -1,
	      "a position past the cache is refused");
	free(a);
	free(b);
	engine_gpu_destroy(g);
}

int main(void)
{
	struct fixture f;
	fixture_init(&f, 4);
	bf16_fixture(&f);
	run(&f, "plain");
	/* Qwen2's q/k/v biases and Qwen3's q/k norms (both at once: the engines allow it) */
	struct rng r;
	rng_init(&r, 9);
	float *extra[L][5];
	for (int l = 0; l < L; l++) {
		size_t n[5] = { H * E, KV * E, KV * E, E, E };
		for (int i = 0; i < 5; i++) {
			extra[l][i] = randn(&r, n[i], i < 3 ? 0.3 : 0.2, i < 3 ? 0 : 1);
			round_bf16(extra[l][i], n[i]);
		}
		f.lw[l].bq = extra[l][0];
		f.lw[l].bk = extra[l][1];
		f.lw[l].bv = extra[l][2];
		f.lw[l].q_norm = extra[l][3];
		f.lw[l].k_norm = extra[l][4];
	}
	run(&f, "bias+norm");
	printf("engine_gpu vs engine: worst logit error %.3f, worst mean error %.3f of the "
	       "tolerance\n", worst_ratio, worst_mean_ratio);
	for (int l = 0; l < L; l++)
		for (int i = 0; i < 5; i++)
			free(extra[l][i]);
	fixture_free(&f);
	return check_done("check_engine");
}
