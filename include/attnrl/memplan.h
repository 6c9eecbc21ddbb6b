/*
 * memplan.h - the host memory a CPU training run will need, planned from its shape before
 * anything is allocated, and the memory the process may use (MemAvailable, or a cgroup's
 * memory.max minus its use when lower). The plan is an estimate of the peak resident set:
 * fp32 weights, gradients, the all-reduce's flat buffer (comm: several ranks) and AdamW's two
 * moments (a 1/world slice each when sharded), the
 * reference model (algo.kl_coef > 0), the decode engine's KV cache and row buffers (it reads
 * the weights in place: no copy), the autograd activations of one micro-batch (its token budget,
 * or micro-batch rows of max_seq_len; with train.checkpoint_layers each layer's input plus one
 * layer's), the output layer's logits (one chunk of them, or [tokens x vocab] and their
 * gradient with model.logits_chunk=-1), and a fixed base for libtorch and the program (300 MiB;
 * 600 MiB in CUDA builds, whose torch maps its CUDA libraries on the CPU too).
 * Shapes: D dim, L layers, H heads, K kv heads, E head size, F hidden, V vocabulary, T tokens
 * per sequence (model.max_seq_len).
 */
#ifndef ATTNRL_MEMPLAN_H
#define ATTNRL_MEMPLAN_H

#include <stddef.h>

#include "attnrl/config.h"

/* libtorch, OpenMP, the program: bytes (a CUDA build's torch maps its CUDA libraries too) */
#ifdef ATTNRL_CUDA
#define MEMPLAN_BASE (600.0 * 1048576)
#else
#define MEMPLAN_BASE (300.0 * 1048576)
#endif
#define MEMPLAN_BASE_GPU (2048.0 * 1048576) /* the CUDA context, cuBLAS workspaces, the allocator's slack */

struct memplan_shape {
	long D, L, H, K, E, F, V;
	int tied;
	int attn_scores; /* 1: the attention keeps its T x T scores for the backward (no fused kernel) */
};

struct memplan { /* bytes */
	double weights, grads, comm, adam, ref, kv, activations, logits, base;
	double total; /* the peak: the sum, or with rollout.release_kv (GPU) the KV cache or the
		       * update's terms, whichever is larger, over the rest */
};

/* the plan of a run of c on this rank: world ranks, micro sequences per backward, max_seqs
 * sequences in the decode engine */
void memplan_estimate(struct memplan *p, const struct memplan_shape *s, const struct config *c,
		      int world, int micro, int max_seqs);
/* the same on a GPU (the update on cuda, rollout.engine=gpu): fp32 master weights, gradients,
 * the all-reduce buffer and AdamW moments, the engine's bf16 weights and KV cache, bf16
 * activations and reference weights; into p, in GPU bytes */
void memplan_estimate_gpu(struct memplan *p, const struct memplan_shape *s, const struct config *c,
			  int world, int micro, int max_seqs);
/* the plan of one rank of `attnrl train c` on world ranks, on the CPU or a GPU: its micro-batch
 * and decode-engine sizes as the trainer sets them */
void memplan_run(struct memplan *p, const struct memplan_shape *s, const struct config *c,
		 int world, int gpu);
/* sequences the decode engine holds: a step's B responses + 1, or training's eval batch when
 * it has an eval and that is more */
int memplan_engine_seqs(const struct config *c, long B);
/* "1.2 GiB (weights 0.3, grads 0.3, ...)" */
void memplan_format(const struct memplan *p, char *buf, size_t n);
/* the 2 largest terms as "activations 10.1 GiB, kv 3.0 GiB" */
void memplan_largest(const struct memplan *p, char *buf, size_t n);
/* bytes this process may still use (the lower of MemAvailable and a cgroup limit minus its
 * use), and which it was into what; -1 when neither can be read */
double memplan_available(char *what, size_t n);

#endif
