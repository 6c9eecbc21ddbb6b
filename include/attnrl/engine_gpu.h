/*
 * engine_gpu.h - the decode engine on a GPU (CUDA=1 builds; tested without a GPU through the
 * emulation in tests/gpu/emu): the same calls as engine.h over bf16 weights and a bf16 KV cache
 * in device memory, cuBLAS projections (fused QKV and gate/up) and the kernels of kernels.h
 * between them. Rows, positions and tokens come from the host; logits of the rows asked for go
 * back to the host. Not yet: statistics (the attention kernel has them; the engine passes none),
 * sampling on the device, CUDA graphs. Shapes as in engine.h.
 */
#ifndef ATTNRL_ENGINE_GPU_H
#define ATTNRL_ENGINE_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "attnrl/engine.h"

struct engine_gpu;

/* uploads the weights (fp32 on the host, rounded to bf16) and plans every device buffer; NULL
 * with err when the shapes are outside the kernels' (head dim 32, 64, 128 or 256; at most 8
 * query heads per kv head) or device memory is short */
struct engine_gpu *engine_gpu_create(const struct engine_config *c, const struct engine_weights *w,
				     int max_seqs, int max_rows, int cache_len, char *err, size_t n);
void engine_gpu_destroy(struct engine_gpu *g);

/* as engine_forward(): n rows, logits (n_out, V) of the rows listed in out_row, on the host */
int engine_gpu_forward(struct engine_gpu *g, int n, const int *seq, const int *pos,
		       const int32_t *tok, int n_out, const int *out_row, float *logits);

#endif
