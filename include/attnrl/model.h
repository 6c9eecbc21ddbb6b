/*
 * model.h - the decoder policy: a Llama/Qwen2/Qwen3 transformer (RMSNorm, RoPE, GQA attention,
 * SwiGLU MLP, tied or untied embeddings, optional q/k/v bias and q/k RMSNorm).
 *
 * Parameters are ATen tensors (kept handles) with Hugging Face names; the full-sequence forward
 * for training runs on them through the tensor API. The decode engine (engine.h) reads the same
 * memory through model_engine_weights(), so an optimizer step is seen by the next rollout.
 * Shapes: B batch, T time, D dim, H heads, K kv heads, E head dim, F hidden dim, V vocab, L layers.
 */
#ifndef ATTNRL_MODEL_H
#define ATTNRL_MODEL_H

#include <stdint.h>

#include "attnrl/engine.h"
#include "attnrl/tensor.h"

struct config;

enum rope_scaling { ROPE_SCALING_NONE, ROPE_SCALING_LINEAR, ROPE_SCALING_LLAMA3 };

struct model_config {
	int dim, n_layers, n_heads, n_kv_heads, head_dim, hidden_dim, vocab_size, max_seq_len;
	double rope_theta, norm_eps;
	int tie_embeddings, qkv_bias, qk_norm; /* qkv_bias: qwen2; qk_norm: qwen3; neither: llama */
	/* Hugging Face rope_scaling: linear divides positions by factor; llama3 scales the
	 * inverse frequencies by wavelength band (factor, low/high_freq_factor, original max) */
	int rope_scaling;
	double rope_factor, rope_low_freq_factor, rope_high_freq_factor;
	int rope_original_max;
};

struct model_layer {
	tensor *attn_norm, *wq, *wk, *wv, *wo, *bq, *bk, *bv, *q_norm, *k_norm; /* biases, q/k norms may be NULL */
	tensor *ffn_norm, *w_gate, *w_up, *w_down;
	const struct model *owner; /* the model it belongs to (a checkpointed layer's context) */
};

struct model {
	struct model_config cfg;
	tensor *embed, *final_norm, *lm_head;   /* lm_head == embed when tied */
	struct model_layer *layers;             /* (L) */
	tensor **params;                        /* every distinct parameter, in name order */
	char **names;                           /* Hugging Face names of params */
	int n_params;
	int64_t n_elements;
	tensor *rope_cos, *rope_sin;            /* (max_seq_len, E), both halves equal */
	/* dtype of the forward's weights and activations: TENSOR_F32 (the CPU), or TENSOR_BF16
	 * on a GPU, where the fp32 parameters stay the master weights (casts in the forward) */
	int compute_dtype;
	/* 1: model_hidden keeps only each decoder layer's input for the backward and runs the
	 * layer again there (activation checkpointing: train.checkpoint_layers) */
	int checkpoint_layers;
};

/* model.arch + model.* keys (+ the tokenizer's vocab size) -> dims; -1 with err on a bad combination */
int model_config_from(struct model_config *mc, const struct config *c, int vocab_size, char *err, size_t n);
/* seeded random init: normal(0, init_std) matrices, ones for norms, zeros for biases */
struct model *model_create(const struct model_config *mc, uint64_t seed, double init_std);
/* every parameter allocated, contents unspecified (to be overwritten by a loader) */
struct model *model_create_empty(const struct model_config *mc);
/* "llama" | "qwen2" | "qwen3" from qkv_bias / qk_norm */
const char *model_arch_name(const struct model_config *mc);
/* a deep copy (for the frozen reference model of the KL term), same device and dtypes */
struct model *model_clone(const struct model *m);
/* a deep copy with fp32 parameters on device (TENSOR_CPU or a CUDA index) computing in
 * compute_dtype; NULL on failure (tensor_last_error) */
struct model *model_to_device(const struct model *m, int device, int compute_dtype);
int model_device(const struct model *m);
/* dst's parameters = src's (same shapes, any devices); 0 or -1 */
int model_copy_weights(struct model *dst, const struct model *src);
void model_destroy(struct model *m);
int model_set_requires_grad(struct model *m, int flag);

/* ids (B,T) int64 -> logits (B,T,V); a handle in the current frame, NULL on failure */
tensor *model_forward(const struct model *m, const tensor *ids);
/* ids (B,T) -> the final hidden states (B,T,D): the decoder and its final norm, without the
 * output layer (model_forward is these times the output layer) */
tensor *model_hidden(const struct model *m, const tensor *ids);
/* log-probs (B,T) of targets (B,T) after ids at temperature (<= 0 or 1: none), fp32, and
 * the entropy of each position's distribution when entropy != NULL. chunk: the output layer
 * chunk tokens at a time (0: automatic; tensor_head_logprobs), so no (B,T,V) logits exist in
 * the forward or the backward; MODEL_FULL_LOGITS: the full logits (the reference path) */
#define MODEL_FULL_LOGITS -1
tensor *model_token_logprobs(const struct model *m, const tensor *ids, const tensor *targets,
			     double temperature, long chunk, tensor **entropy);

/* weights as safetensors (Hugging Face names, fp32, dims in the metadata); a GPU model is
 * written through host copies; model_load fills the parameters wherever they are */
int model_save(const struct model *m, const char *path, char *err, size_t n);
int model_load(struct model *m, const char *path, char *err, size_t n);
/* a stop request (stop.h; `train` installs the handlers) ends a load between two tensors:
 * -1 and err "'path': loading stopped by SIGTERM" (model_load, hf_load_weights) */
int model_load_stopped(const char *path, char *err, size_t n);

/* pointers into the parameter memory, for the decode engine */
void model_engine_weights(const struct model *m, struct engine_weights *w);
void model_engine_config(const struct model *m, struct engine_config *ec);

#endif
