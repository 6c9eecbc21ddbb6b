/*
 * engine.h - the decode engine: the rollout forward in plain C over raw fp32 pointers, BLAS
 * sgemm for the projections, a KV cache planned up front. No torch, no allocation per token.
 *
 * One call processes a list of rows; row r is token tok[r] of sequence seq[r] at position
 * pos[r]. Prompts of different lengths (prefill) and one new token per sequence (decode) are
 * the same call. K/V of every row are written first, then each row attends causally to
 * positions 0..pos[r] of its own sequence. Logits are computed only for the rows asked for.
 * When e->stats is set, the attention of its sampled layers hands every row's probabilities to
 * attnstats_row() (statistics while generating, docs/method.md section 7); a call must then hold at
 * most one response row per tracked sequence.
 * Shapes: L layers, S sequence slots, C cache length, R rows, D dim, H heads, K kv heads, E head
 * dim, F hidden dim, V vocab.
 */
#ifndef ATTNRL_ENGINE_H
#define ATTNRL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

struct attnstats;

struct engine_config {
	int dim, n_layers, n_heads, n_kv_heads, head_dim, hidden_dim, vocab_size;
	float norm_eps;
	int qkv_bias, qk_norm;
};

struct engine_layer_weights {
	const float *attn_norm;              /* (D) */
	const float *wq, *wk, *wv, *wo;      /* (H*E, D), (K*E, D), (K*E, D), (D, H*E) */
	const float *bq, *bk, *bv;           /* (H*E), (K*E), (K*E) or NULL */
	const float *q_norm, *k_norm;        /* (E) or NULL */
	const float *ffn_norm;               /* (D) */
	const float *w_gate, *w_up, *w_down; /* (F, D), (F, D), (D, F) */
};

struct engine_weights {
	const float *embed;                  /* (V, D) */
	const float *final_norm;             /* (D) */
	const float *lm_head;                /* (V, D), may equal embed */
	const float *rope_cos, *rope_sin;    /* (C, E), both halves equal */
	struct engine_layer_weights *layers; /* (L), owned by the caller */
};

struct engine {
	struct engine_config cfg;
	struct engine_weights w;
	int max_seqs, max_rows, cache_len;
	float *k_cache, *v_cache;            /* (L, S, K, C, E) */
	float *x, *xb, *q, *k, *v, *att, *hb, *hb2; /* per-row scratch */
	float *scores;                       /* (threads, C) */
	float *out_rows;                     /* (R, D) rows whose logits are wanted */
	size_t bytes;
	struct attnstats *stats;             /* set: the sampled layers feed it (credit_stats.h) */
};

/* plans every buffer from the sizes; NULL with err when memory is short */
struct engine *engine_create(const struct engine_config *c, const struct engine_weights *w,
			     int max_seqs, int max_rows, int cache_len, char *err, size_t n);
void engine_destroy(struct engine *e);
/* the KV cache's pages handed back to the kernel until the next decode touches them again
 * (they come back as zeros: every decode fills a sequence's cache before reading it) */
void engine_release_kv(struct engine *e);

/* runs n rows; for the n_out rows listed in out_row, writes logits (n_out, V) */
int engine_forward(struct engine *e, int n, const int *seq, const int *pos, const int32_t *tok,
		   int n_out, const int *out_row, float *logits);
/* the attention of layer l alone: rows' queries in e->q (normed, rotated), keys 0..pos[r] of
 * the cache, output in e->att, statistics when e->stats is set (the CUDA kernel's oracle) */
void engine_attention(struct engine *e, int l, int n, const int *seq, const int *pos);
/* copies positions [0, len) of sequence src's cache into sequence dst (shared prompts) */
void engine_copy_seq(struct engine *e, int dst, int src, int len);

#endif
