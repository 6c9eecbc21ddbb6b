/*
 * engine_gpu.h - the decode engine on a GPU (CUDA=1 builds; tested without a GPU through the
 * emulation in tests/gpu/emu): the calls of engine.h over bf16 weights and a bf16 KV cache in
 * device memory, cuBLAS projections (fused QKV and gate/up) and the kernels of kernels.h between
 * them, all queued on the engine's own stream. Two ways in: engine_gpu_forward() takes rows
 * from the host and returns logits to the host (synchronous, for tests and tools);
 * engine_gpu_run() reads rows that are already in device memory and leaves the logits there,
 * with no host sync, so a decode loop (rollout_gpu.h) can queue step after step or capture one
 * step in a CUDA graph. With statistics set, the decode attention of the sampled layers adds
 * to them in the same pass (kernels.h: kern_attn.stats). Shapes as in engine.h; the cache has
 * max_seqs + 1 slots, the last one (io.dummy) a spare for rows that only fill a batch.
 */
#ifndef ATTNRL_ENGINE_GPU_H
#define ATTNRL_ENGINE_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "attnrl/engine.h"

struct engine_gpu;
struct kern_stats;

/* the device buffers a decode loop writes and reads around engine_gpu_run() */
struct engine_gpu_io {
	int *seq, *pos;  /* (R) rows of the next run */
	int32_t *tok;    /* (R) */
	float *logits;   /* (R, V) fp32 logits of every row after a run with logits */
	void *stream;    /* the cudaStream_t the engine queues all its work on */
	int dummy;       /* the spare slot */
	int max_rows;    /* R */
	int cache_len;   /* C */
	int device;      /* the CUDA device of all of it */
};

/* on CUDA device `device`: plans every device buffer and loads the weights (engine_gpu_load);
 * NULL with err when the shapes are outside the kernels' (head dim 32, 64, 128 or 256; at most
 * 8 query heads per kv head) or device memory is short */
struct engine_gpu *engine_gpu_create(const struct engine_config *c, const struct engine_weights *w,
				     int from_device, int device, int max_seqs, int max_rows,
				     int cache_len, char *err, size_t n);
void engine_gpu_destroy(struct engine_gpu *g);

/* the weights again (after an update), rounded to bf16: from fp32 host arrays, or from fp32
 * arrays on the engine's device (the trainer's master weights) without a host round trip;
 * same shapes, and the same tying of lm_head to embed, as at create */
int engine_gpu_load(struct engine_gpu *g, const struct engine_weights *w, int from_device);

void engine_gpu_io(const struct engine_gpu *g, struct engine_gpu_io *io);

/* the KV cache (every layer's K and V, one device block made at create) handed back to the
 * device between rollouts, so that an update can use the memory (rollout.release_kv), and
 * made again before the next: reserve returns 0 when it is there, 1 when it was made again
 * (at another address, maybe: the caller drops what captured the old one), -1 when the device
 * has no room. run and copy_seq fail while it is released. */
void engine_gpu_kv_release(struct engine_gpu *g);
int engine_gpu_kv_reserve(struct engine_gpu *g);
double engine_gpu_kv_bytes(const struct engine_gpu *g);

/* queues n rows from io.seq/pos/tok; logits: also the final norm and the logits of every row */
int engine_gpu_run(struct engine_gpu *g, int n, int logits);

/* queues a copy of positions [0, len) of slot src's cache into slot dst (shared prompts) */
int engine_gpu_copy_seq(struct engine_gpu *g, int dst, int src, int len);

/* statistics of the sampled layers: layer l with layer_slot[l] >= 0 adds to base's arrays
 * (device memory) as pair0 = layer_slot[l] * n_heads; base NULL turns them off. base is copied. */
void engine_gpu_set_stats(struct engine_gpu *g, const struct kern_stats *base,
			  const int *layer_slot);

/* as engine_forward(): n rows from the host, logits (n_out, V) of the rows listed in out_row
 * back on the host; waits for the device */
int engine_gpu_forward(struct engine_gpu *g, int n, const int *seq, const int *pos,
		       const int32_t *tok, int n_out, const int *out_row, float *logits);

#endif
