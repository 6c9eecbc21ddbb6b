/*
 * kernels.h - the decode hot spots as a C launcher API over raw pointers: each kernel has a
 * CUDA launcher (kernels/NAME.cu, built by nvcc; the stream is a cudaStream_t passed as void *)
 * and a CPU twin of the same signature (src/kernels_cpu.c, the reference the GPU harness
 * compares against). The argument structs live in host memory; every array they point to is
 * device memory for a CUDA launcher (kern_attn.stats too points to a host struct whose arrays
 * are on the device) and host memory for the twin. Launchers return 0, or -1 when the shapes
 * are outside what the kernel handles (or a launch failed); they do not synchronise.
 *
 *  - decode attention: one query row per sequence over a bf16 KV cache, GQA, per-row length,
 *    fp32 softmax and accumulation, fused with the attention statistics of docs/method.md section 7
 *    for a sampled layer (same layout and semantics as struct attnstats and attnstats_row());
 *  - q/k RMSNorm + RoPE + KV-cache write: the step between the QKV projection and attention;
 *  - sampling: temperature, top-k, top-p, the token's log-prob and the distribution's entropy
 *    with one normaliser, the same choices as rollout_sample() from each row's own xoshiro256**
 *    stream (struct rng), which the kernel advances;
 *  - the glue between projections: embedding, residual add + RMSNorm, SwiGLU.
 * Shapes: B rows, S sequence slots, H query heads, K kv heads, E head dim, C cache length, V vocab,
 * Q sampled (layer, head) pairs, M max response tokens. bf16 is stored as uint16_t.
 */
#ifndef ATTNRL_KERNELS_H
#define ATTNRL_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* statistics of one sampled layer, the arrays of struct attnstats (credit_stats.h) */
struct kern_stats {
	const int *prompt_len;  /* (S) P of the tracked sequence, -1 = not tracked; every slot a
				 * row may name has an entry (a decode loop's spare slot too) */
	double *dsum;           /* (S, Q) */
	float *waad, *fai;      /* (S, Q, M) */
	int n_pairs, max_resp;  /* Q, M */
	int pair0;              /* pair of this layer's head 0: sampled index * H */
	int window, fai_lo, fai_hi;
};

struct kern_attn {
	int B, H, K, E, C;
	const uint16_t *q;                 /* (B, H, E) bf16, normed and rotated */
	const uint16_t *k_cache, *v_cache; /* (S, K, C, E) bf16, this layer's slice */
	const int *seq, *pos;              /* (B) slot and position: row b attends keys 0..pos[b] */
	uint16_t *out;                     /* (B, H, E) bf16 */
	const struct kern_stats *stats;    /* NULL, or this layer is sampled: rows whose slot is
					    * tracked and whose pos is a response position add to it
					    * (a call holds at most one row per slot) */
};

/* scale = 1/sqrt(E) */
int kern_decode_attn(const struct kern_attn *a, void *stream);
int kern_decode_attn_cpu(const struct kern_attn *a, void *stream);

struct kern_qkv {
	int B, H, K, E, C;
	float eps;
	const uint16_t *q, *k, *v;         /* (B, H, E), (B, K, E), (B, K, E) bf16 projections */
	int stride;                        /* elements from one row of q, k, v to the next; 0 =
					    * packed (H*E, K*E); (H+2K)*E reads a fused QKV output */
	const uint16_t *bq, *bk, *bv;      /* NULL, or biases (H*E), (K*E), (K*E) bf16 (Qwen2) */
	const uint16_t *q_norm, *k_norm;   /* NULL, or RMSNorm weights (E) bf16 (Qwen3) */
	const float *rope_cos, *rope_sin;  /* (C, E), half-split rotation, both halves given */
	const int *seq, *pos;              /* (B) */
	uint16_t *q_out;                   /* (B, H, E) bf16 */
	uint16_t *k_cache, *v_cache;       /* (S, K, C, E) bf16: row b written at (seq, :, pos) */
};

/* x = proj + bias; x = rmsnorm(x) * w (fp32, per head); rotate; round to bf16 once */
int kern_qkv_rope(const struct kern_qkv *a, void *stream);
int kern_qkv_rope_cpu(const struct kern_qkv *a, void *stream);

struct kern_sample {
	int B, V;
	double temperature, top_p;         /* temperature <= 0: greedy */
	int top_k;                         /* 0 = off */
	const float *logits;               /* (B, V) */
	uint64_t *rng;                     /* (B, 4) xoshiro256** states, advanced by one draw per
					    * sampled row (none when greedy) */
	float *scratch;                    /* (B, V) */
	int32_t *token;                    /* (B) */
	float *logp, *entropy;             /* (B) of the temperature-scaled distribution */
	const int *rng_row;                /* NULL, or (B) the rng row of each row (default: b) */
};

int kern_sample(const struct kern_sample *a, void *stream);
int kern_sample_cpu(const struct kern_sample *a, void *stream);

/* the decode loop's bookkeeping on the device (src/rollout_gpu.c), so that a step needs no host
 * sync: each sequence's state lives in device memory; a step is kern_loop_prepare (the rows'
 * slot, position and token), the engine, kern_sample (rng_row = row_seq), kern_loop_advance
 * (record the sampled token, decide whether the sequence is finished as rollout.c decides it).
 * Rows whose sequence is complete are pointed at the untracked slot `dummy` (position 0,
 * token 0): they still run, change nothing and add no statistics. The host reads `state`
 * every few steps to learn when every sequence is complete. */
enum { KERN_SAMPLING = 0, KERN_LAST_ROW = 1, KERN_DONE = 2 };

struct kern_loop {
	int n;                             /* rows of this step */
	int dummy, V, max_new, ignore_eos; /* the finished rows' slot, vocab, limits */
	int stats;                         /* statistics on: a finished sequence gets one more row
					    * (its last token's attention row) before KERN_DONE */
	int stop_len;                      /* length of the stop string, 0 = none */
	const int *row_seq;                /* (n) the sequence of each row */
	int *seq, *pos;                    /* (n) the engine's inputs, written by prepare */
	int32_t *tok;                      /* (n) */
	int *state;                        /* (S) KERN_SAMPLING, KERN_LAST_ROW, KERN_DONE */
	const int *prompt_len;             /* (S) */
	int *resp_len, *stop_reason;       /* (S) stop_reason: enum rollout_stop's values */
	int *match;                        /* (S) length of the stop string's longest prefix that
					    * ends the response's text (its KMP state) */
	int32_t *last;                     /* (S) the last token: the prompt's at first */
	const int32_t *sampled;            /* (n) kern_sample's token, log-prob, entropy */
	const float *logp, *entropy;
	int32_t *out_tok;                  /* (S, max_new) response tokens */
	float *out_logp, *out_ent;         /* (S, max_new) */
	const uint8_t *is_stop;            /* (V) 1: the token ends a response (EOS) */
	const uint16_t *stop_next;         /* (stop_len, V) match after a token's text, or NULL */
};

int kern_loop_prepare(const struct kern_loop *a, void *stream);
int kern_loop_prepare_cpu(const struct kern_loop *a, void *stream);
int kern_loop_advance(const struct kern_loop *a, void *stream);
int kern_loop_advance_cpu(const struct kern_loop *a, void *stream);

/* dst = bf16(src), n elements (weights refreshed from the trainer's fp32 device copy) */
int kern_to_bf16(const float *src, uint16_t *dst, long n, void *stream);
int kern_to_bf16_cpu(const float *src, uint16_t *dst, long n, void *stream);

/* the glue between the projections of a decode step (one row per sequence) */
struct kern_rows {
	int B, D, F;
	float eps;
	const int32_t *tok;                /* (B) embed: token ids */
	const uint16_t *embed;             /* (V, D) bf16 embed: the table */
	float *x;                          /* (B, D) fp32 residual stream */
	const uint16_t *add;               /* NULL, or (B, D) bf16 added to x before the norm */
	const uint16_t *w;                 /* (D) bf16 RMSNorm weight */
	uint16_t *out;                     /* (B, D) bf16 norm output; (B, F) bf16 SwiGLU output */
	const uint16_t *gate_up;           /* (B, 2F) bf16: gate then up of each row (one gemm) */
};

/* x = embed[tok] */
int kern_embed(const struct kern_rows *a, void *stream);
int kern_embed_cpu(const struct kern_rows *a, void *stream);
/* x += add (when given); out = rmsnorm(x) * w, fp32 inside, as the decode engine computes it */
int kern_add_rmsnorm(const struct kern_rows *a, void *stream);
int kern_add_rmsnorm_cpu(const struct kern_rows *a, void *stream);
/* out = silu(gate) * up */
int kern_silu_mul(const struct kern_rows *a, void *stream);
int kern_silu_mul_cpu(const struct kern_rows *a, void *stream);

/* bf16 <-> fp32 on the host, round to nearest even (NaN kept) */
static inline uint16_t kern_f2bf(float f)
{
	union { float f; uint32_t u; } x = { f };
	if ((x.u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((x.u >> 16) | 0x40);
	return (uint16_t)((x.u + 0x7fffu + ((x.u >> 16) & 1)) >> 16);
}

static inline float kern_bf2f(uint16_t h)
{
	union { uint32_t u; float f; } x = { (uint32_t)h << 16 };
	return x.f;
}

#ifdef __cplusplus
}
#endif

#endif
