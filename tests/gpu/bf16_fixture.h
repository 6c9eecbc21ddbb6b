/*
 * bf16_fixture.h - engine_fixture.h's weights made exact in bf16 (so that the GPU engine and the
 * CPU engine start from the same numbers) and its attention softened (q and k weights halved:
 * scores of std ~6 make a few keys dominate, and bf16 rounding then moves logits by several
 * percent). Shared by the emulated GPU engine and rollout checks; include after
 * engine_fixture.h.
 */
#ifndef ATTNRL_BF16_FIXTURE_H
#define ATTNRL_BF16_FIXTURE_H

#include "attnrl/kernels.h"

static void round_bf16(const float *p, size_t n)
{
	float *q = (float *)p;
	for (size_t i = 0; p && i < n; i++)
		q[i] = kern_bf2f(kern_f2bf(q[i]));
}

static void bf16_fixture(struct fixture *f)
{
	size_t V = f->eng->cfg.vocab_size;
	for (int l = 0; l < L; l++) {
		float *wq = (float *)f->lw[l].wq, *wk = (float *)f->lw[l].wk;
		for (size_t i = 0; i < (size_t)H * E * D; i++)
			wq[i] *= 0.5f;
		for (size_t i = 0; i < (size_t)KV * E * D; i++)
			wk[i] *= 0.5f;
	}
	round_bf16(f->w.embed, V * D);
	round_bf16(f->w.final_norm, D);
	for (int l = 0; l < L; l++) {
		struct engine_layer_weights *w = &f->lw[l];
		round_bf16(w->attn_norm, D);
		round_bf16(w->wq, (size_t)H * E * D);
		round_bf16(w->wk, (size_t)KV * E * D);
		round_bf16(w->wv, (size_t)KV * E * D);
		round_bf16(w->wo, (size_t)D * H * E);
		round_bf16(w->ffn_norm, D);
		round_bf16(w->w_gate, (size_t)F * D);
		round_bf16(w->w_up, (size_t)F * D);
		round_bf16(w->w_down, (size_t)D * F);
	}
}

#endif
