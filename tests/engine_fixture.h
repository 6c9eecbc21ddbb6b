/*
 * engine_fixture.h - a small decode engine with seeded random weights (pure C), shared by the
 * tests of the rollout and of the attention statistics and by bench/stats_overhead.c. Included
 * once per program; a program may define the shape (D L H KV E F C) before including it.
 */
#ifndef ATTNRL_ENGINE_FIXTURE_H
#define ATTNRL_ENGINE_FIXTURE_H

#include <math.h>
#include <stdlib.h>

#include "attnrl/rollout.h"

#ifndef D
#define D 32 /* model dim */
#endif
#ifndef L
#define L 2 /* layers */
#endif
#ifndef H
#define H 4 /* query heads */
#endif
#ifndef KV
#define KV 2 /* key/value heads */
#endif
#ifndef E
#define E 8 /* head dim */
#endif
#ifndef F
#define F 64 /* SwiGLU width */
#endif
#ifndef C
#define C 96 /* cache length */
#endif

static float *randn(struct rng *r, size_t n, double std, double mean)
{
	float *a = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		a[i] = (float)(mean + std * rng_normal(r));
	return a;
}

struct fixture {
	struct tokenizer tok;
	struct engine_layer_weights lw[L];
	struct engine_weights w;
	struct engine *eng;
	struct rollout ro;
	float *cos, *sin;
};

static void fixture_init(struct fixture *f, int max_seqs)
{
	struct rng r;
	rng_init(&r, 42);
	tokenizer_init_chars(&f->tok);
	int V = f->tok.vocab_size;
	struct engine_config c = { D, L, H, KV, E, F, V, 1e-5f, 0, 0 };
	for (int l = 0; l < L; l++)
		f->lw[l] = (struct engine_layer_weights){
			randn(&r, D, 0.1, 1), randn(&r, H * E * D, 0.3, 0), randn(&r, KV * E * D, 0.3, 0),
			randn(&r, KV * E * D, 0.3, 0), randn(&r, D * H * E, 0.3, 0), NULL, NULL, NULL,
			NULL, NULL, randn(&r, D, 0.1, 1), randn(&r, F * D, 0.3, 0),
			randn(&r, F * D, 0.3, 0), randn(&r, D * F, 0.3, 0) };
	f->cos = malloc(C * E * sizeof(float));
	f->sin = malloc(C * E * sizeof(float));
	for (int t = 0; t < C; t++)
		for (int i = 0; i < E / 2; i++) {
			float a = t * powf(10000.0f, -2.0f * i / E);
			f->cos[t * E + i] = f->cos[t * E + i + E / 2] = cosf(a);
			f->sin[t * E + i] = f->sin[t * E + i + E / 2] = sinf(a);
		}
	float *embed = randn(&r, (size_t)V * D, 0.3, 0);
	f->w = (struct engine_weights){ embed, randn(&r, D, 0.1, 1), embed, f->cos, f->sin, f->lw };
	char err[256];
	f->eng = engine_create(&c, &f->w, max_seqs, 256, C, err, sizeof(err));
	rollout_init(&f->ro, f->eng, &f->tok);
}

static void fixture_free(struct fixture *f)
{
	rollout_free(&f->ro);
	engine_destroy(f->eng);
	for (int l = 0; l < L; l++) {
		const float *p[] = { f->lw[l].attn_norm, f->lw[l].wq, f->lw[l].wk, f->lw[l].wv,
				     f->lw[l].wo, f->lw[l].ffn_norm, f->lw[l].w_gate, f->lw[l].w_up,
				     f->lw[l].w_down };
		for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
			free((void *)p[i]);
	}
	free((void *)f->w.embed);
	free((void *)f->w.final_norm);
	free(f->cos);
	free(f->sin);
	tokenizer_free(&f->tok);
}

#endif
