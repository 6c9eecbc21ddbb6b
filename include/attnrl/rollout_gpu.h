/*
 * rollout_gpu.h - rollout_generate() on the GPU decode engine (engine_gpu.h), with the same
 * arguments and results: prompts prefilled once and copied to their G slots, then one decode
 * step per token for every live sequence, in which nothing waits for the host: the rows'
 * inputs come from device state (kern_loop_prepare), the sampled token (kern_sample, each
 * sequence's own xoshiro stream as on the CPU) is recorded and checked against EOS, the stop
 * string (a KMP table over the tokens' text, so "the text ends with the stop string" is decided
 * on the device as rollout.c decides it) and the length by kern_loop_advance, and the
 * statistics of the sampled layers are added by the attention kernel itself. The host looks at
 * the sequences' states every check_every steps: it stops when all are complete, honours a stop
 * request (p->interruptible), and drops complete sequences from the batch when that shrinks it
 * by a quarter. Each step can be replayed as a CUDA graph (one per batch size, captured at the
 * second step of that size: the first runs every kernel once outside a capture). At the end
 * tokens, log-probs and entropies come back once; the host rebuilds the texts and checks that
 * it reaches the same stop decisions. Statistics (p->stats) come back into the host struct.
 */
#ifndef ATTNRL_ROLLOUT_GPU_H
#define ATTNRL_ROLLOUT_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "attnrl/engine_gpu.h"
#include "attnrl/rollout.h"
#include "attnrl/tokenizer.h"

struct rollout_gpu;

struct rollout_gpu_opts {
	int check_every; /* decode steps between the host's looks at the states (>= 1) */
	int graphs;      /* replay decode steps as CUDA graphs */
};

/* max_seqs sequences (at most the engine's), V the model's vocabulary; NULL with err */
struct rollout_gpu *rollout_gpu_create(struct engine_gpu *g, const struct engine_config *c,
				       int max_seqs, const struct tokenizer *tok,
				       const struct rollout_gpu_opts *o, char *err, size_t n);
void rollout_gpu_destroy(struct rollout_gpu *r);

/* as rollout_generate(); statistics need p->stats without maps */
int rollout_gpu_generate(struct rollout_gpu *r, const int32_t *const *prompts, const int *lens,
			 int n_prompts, int G, const struct rollout_params *p,
			 struct rollout_batch *out, char *err, size_t n);

/* rollout_device_fn over ctx = struct rollout_gpu * (struct rollout's device hook) */
int rollout_gpu_device_fn(void *ctx, const int32_t *const *prompts, const int *lens,
			  int n_prompts, int G, const struct rollout_params *p,
			  struct rollout_batch *out, char *err, size_t n);

/* the stop string s as a table over the tokens' texts (pieces[t], NULL = empty), m = strlen(s):
 * next[q * V + t] is the length of the longest prefix of s that ends the text once token t's
 * text is appended to a text whose longest such prefix was q (0 <= q < m), so m means "the text
 * ends with s", rollout_append's rule (KMP over the bytes of each piece); 0, or -1 */
int rollout_gpu_stop_table(const char *const *pieces, int V, const char *s, uint16_t *next);

/* what the last call did: decode steps, host checks, graphs captured and launched, and the
 * steps run uncaptured as the first of their batch size before its capture */
struct rollout_gpu_counts {
	long steps, checks, captures, graph_launches, compactions, warmups;
};
void rollout_gpu_counts(const struct rollout_gpu *r, struct rollout_gpu_counts *c);

#endif
