/*
 * tensor.h - the C API over libtorch: the only door to torch.
 *
 * Opaque handles to ATen tensors. Functions that produce a tensor return a new handle, or NULL
 * on failure; every such function given a NULL input returns NULL without running and without
 * touching the error message, so a chain of ops can be checked once, at its end. Functions that
 * produce no tensor return an int status: 0 on success, -1 on failure. After a failure
 * tensor_last_error() holds one line (thread-local). No C++ exception ever crosses this API.
 *
 * Ownership: every handle lives in the current frame of a thread-local frame stack.
 * tensor_frame_pop() frees every handle created since the matching push, except those moved out
 * with tensor_keep(). Kept handles (parameters, optimizer state) are freed with tensor_free().
 * tensor_live_count() counts the handles alive in this thread; tests use it to prove no leak.
 *
 * Shapes use the letters B (batch), T (time), D (model dim), H (heads), K (kv heads),
 * E (head dim), V (vocab), F (ffn hidden dim).
 */
#ifndef ATTNRL_TENSOR_H
#define ATTNRL_TENSOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct tensor tensor;

enum tensor_dtype { TENSOR_F32 = 0, TENSOR_BF16, TENSOR_F16, TENSOR_I64, TENSOR_I32, TENSOR_BOOL };
#define TENSOR_CPU (-1) /* device: -1 is the CPU, k >= 0 is CUDA device k */

/* library */
const char *tensor_last_error(void);
const char *tensor_backend_info(void); /* e.g. "libtorch 1.13.1, CPU, 2 threads" */
void tensor_set_threads(int n);
int tensor_cuda_available(void);
int tensor_cuda_device_count(void);
int tensor_cuda_synchronize(int device);   /* waits for the device's work; CPU (< 0): no-op */
int64_t tensor_cuda_peak_bytes(int device); /* torch.cuda.max_memory_allocated; -1 on CPU builds */
void tensor_cuda_empty_cache(void);         /* torch.cuda.empty_cache(); no-op on CPU builds */
/* the device's free and total memory (cudaMemGetInfo); 0, or -1 on CPU builds */
int tensor_cuda_mem_info(int device, int64_t *free_bytes, int64_t *total_bytes);
/* the cudaStream_t torch queues the device's work on now (its current stream), for code that
 * must order its own stream with torch's (NCCL); NULL for the CPU and on CPU-only builds */
void *tensor_cuda_current_stream(int device);
long tensor_live_count(void);

/* ownership */
int tensor_frame_push(void);          /* returns the new depth */
void tensor_frame_pop(void);          /* frees the handles of the top frame */
tensor *tensor_keep(tensor *t);       /* moves t out of every frame; returns t */
void tensor_free(tensor *t);          /* NULL is ignored */

/* creation (contiguous; CPU unless a device is given) */
tensor *tensor_empty(const int64_t *shape, int ndim, int dtype, int device);
tensor *tensor_zeros(const int64_t *shape, int ndim, int dtype, int device);
tensor *tensor_full(const int64_t *shape, int ndim, double value, int dtype, int device);
tensor *tensor_from_f32(const float *data, const int64_t *shape, int ndim);   /* copies */
tensor *tensor_from_i64(const int64_t *data, const int64_t *shape, int ndim); /* copies */
tensor *tensor_clone(const tensor *t);                /* deep copy, detached, same device */
tensor *tensor_to(const tensor *t, int dtype, int device);

/* inspection and host access */
int tensor_ndim(const tensor *t);
int64_t tensor_size(const tensor *t, int dim); /* dim < 0 counts from the end */
int64_t tensor_numel(const tensor *t);
int tensor_dtype(const tensor *t);
int tensor_device(const tensor *t);
void *tensor_data(tensor *t);                  /* NULL unless contiguous */
int tensor_item(const tensor *t, double *out); /* one-element tensor */
int tensor_read_f32(const tensor *t, float *dst, int64_t n);  /* any dtype/device -> host f32 */
int tensor_write_f32(tensor *t, const float *src, int64_t n); /* in place, no grad tracking */
int tensor_copy_(tensor *dst, const tensor *src);             /* in place, no grad tracking */

/* views and shape */
tensor *tensor_reshape(const tensor *t, const int64_t *shape, int ndim);
tensor *tensor_transpose(const tensor *t, int d0, int d1);
tensor *tensor_narrow(const tensor *t, int dim, int64_t start, int64_t len);
tensor *tensor_contiguous(const tensor *t);
tensor *tensor_cat(tensor *const *ts, int n, int dim);
tensor *tensor_index_select(const tensor *t, int dim, const tensor *idx);

/* elementwise and reductions (broadcasting as in torch) */
tensor *tensor_add(const tensor *a, const tensor *b);
tensor *tensor_sub(const tensor *a, const tensor *b);
tensor *tensor_mul(const tensor *a, const tensor *b);
tensor *tensor_div(const tensor *a, const tensor *b);
tensor *tensor_add_scalar(const tensor *a, double s);
tensor *tensor_mul_scalar(const tensor *a, double s);
tensor *tensor_exp(const tensor *a);
tensor *tensor_log(const tensor *a);
tensor *tensor_neg(const tensor *a);
tensor *tensor_minimum(const tensor *a, const tensor *b);
tensor *tensor_maximum(const tensor *a, const tensor *b);
tensor *tensor_clamp(const tensor *a, double lo, double hi);
tensor *tensor_silu(const tensor *a);
tensor *tensor_sum(const tensor *a);                        /* all elements -> scalar */
tensor *tensor_sum_dim(const tensor *a, int dim, int keepdim);
tensor *tensor_mean(const tensor *a);
tensor *tensor_softmax(const tensor *a, int dim);
tensor *tensor_log_softmax(const tensor *a, int dim);
tensor *tensor_gather(const tensor *a, int dim, const tensor *idx);
tensor *tensor_argmax(const tensor *a, int dim);
tensor *tensor_multinomial(const tensor *probs, uint64_t seed); /* (B, V) -> (B, 1) int64 */

/* linear algebra and the decoder's fused pieces */
tensor *tensor_matmul(const tensor *a, const tensor *b);
tensor *tensor_linear(const tensor *x, const tensor *w, const tensor *bias); /* x w^T + b; bias may be NULL */
tensor *tensor_embedding(const tensor *w, const tensor *ids);                 /* (V,D),(B,T) -> (B,T,D) */
tensor *tensor_rms_norm(const tensor *x, const tensor *w, double eps);       /* over the last dim */
/* x (B,H,T,E); cos, sin (T,E) with both halves equal (half-split rotation, as Hugging Face) */
tensor *tensor_rope(const tensor *x, const tensor *cos, const tensor *sin);
/* causal attention with GQA: q (B,H,T,E), k and v (B,K,T,E), H % K == 0 -> (B,H,T,E);
 * scale <= 0 means 1/sqrt(E). k and v may be longer than q (a KV cache of Tk >= T): query i
 * then sits at position Tk - T + i. */
tensor *tensor_attention_causal(const tensor *q, const tensor *k, const tensor *v, double scale);
/* 1 when tensor_attention_causal keeps its (T x T) scores for the backward (torch < 2.1: no
 * fused scaled_dot_product_attention) */
int tensor_attention_keeps_scores(void);
/* log-probabilities of targets under logits (B,T,V) -> (B,T); also the entropy (B,T) of each
 * row's distribution when entropy != NULL (a new handle in *entropy) */
tensor *tensor_token_logprobs(const tensor *logits, const tensor *targets, tensor **entropy);
/* the same from the final hidden states (B,T,D) and the output layer's weight (V,D), the logits
 * hidden w^T * inv_temp made chunk tokens at a time (0: about 64 MiB of fp32 logits each), in
 * the forward and again in the backward, so that no (B,T,V) tensor exists; fp32 results */
tensor *tensor_head_logprobs(const tensor *hidden, const tensor *w, const tensor *targets,
			     double inv_temp, int64_t chunk, tensor **entropy);

/* a segment of the forward for tensor_checkpoint: y = fn(ctx, x), handles in the current frame */
typedef tensor *(*tensor_segment_fn)(void *ctx, const tensor *x);
/* fn(ctx, x) without keeping its activations for the backward: they are recomputed there (fn
 * runs again: it must compute the same, and ctx must live until the backward). With grad off,
 * or x not requiring grad, it is fn(ctx, x) */
tensor *tensor_checkpoint(const tensor *x, tensor_segment_fn fn, void *ctx);

/* autograd */
int tensor_set_requires_grad(tensor *t, int flag);
int tensor_grad_enabled(void);
int tensor_set_grad_enabled(int flag);         /* returns the previous mode */
int tensor_backward(const tensor *loss);       /* accumulates into .grad of the leaves */
tensor *tensor_grad(const tensor *t);          /* a handle to t's .grad, zeros when undefined */
tensor *tensor_detach(const tensor *t);
int tensor_zero_grad(tensor *const *params, int n);

/* optimizer: decoupled weight decay (AdamW), bias-corrected, step counts from 1 */
struct tensor_adamw { double lr, beta1, beta2, eps, weight_decay; long step; };
int tensor_adamw_step(tensor *const *params, tensor *const *m, tensor *const *v, int n,
                      const struct tensor_adamw *hp);
/* ZeRO-1 pieces. AdamW (the formula above) on the elements [off, off + numel(m)) of the
 * parameters seen as one flat buffer (below), in place; m, v, g: that slice's moments and
 * gradient */
int tensor_adamw_flat(tensor *const *params, int n, int64_t off, tensor *m, tensor *v,
		      const tensor *g, const struct tensor_adamw *hp);
/* the n tensors (grads != 0: their grads) seen as one flat buffer, in order: its elements
 * [off, off + numel(flat)) copied into flat (to_flat) or from flat into the tensors (a
 * missing grad is read as zeros and created when written); same device */
int tensor_flat_copy(tensor *const *ts, int n, int grads, tensor *flat, int64_t off,
		     int to_flat);
int tensor_sumsq(const tensor *t, double *out); /* squared L2 norm (fp32 reduction) */
int tensor_scale_(tensor *t, double s);         /* in place, no grad tracking */
/* scales the grads so that their global L2 norm is at most max_norm (max_norm <= 0: only
 * measure); *norm_out receives the norm before clipping */
int tensor_clip_grad_norm(tensor *const *params, int n, double max_norm, double *norm_out);
/* 1 when every element of every grad is finite */
int tensor_grads_finite(tensor *const *params, int n, int *finite_out);

#endif
