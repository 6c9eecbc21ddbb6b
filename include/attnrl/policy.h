/*
 * policy.h - what every command that runs the model sets up from a config: the tokenizer, the
 * decoder (random init or model.path), and the decode engine + sampler over its weights.
 */
#ifndef ATTNRL_POLICY_H
#define ATTNRL_POLICY_H

#include "attnrl/config.h"
#include "attnrl/engine.h"
#include "attnrl/model.h"
#include "attnrl/rollout.h"
#include "attnrl/tokenizer.h"

struct engine_gpu;
struct rollout_gpu;

struct policy {
	struct tokenizer tok;
	struct model *model;
	struct engine_layer_weights *layers; /* (L) the engine's view of the weights */
	struct engine *eng;
	struct rollout ro;
	/* rollout.engine on a GPU (policy_gpu.c): the GPU engine and loop ro hands its work to */
	struct engine_gpu *geng;
	struct rollout_gpu *gro;
	struct engine_layer_weights *glayers;
};

/* max_seqs sequences at once in the engine; prints nothing, -1 with one line in err */
int policy_init(struct policy *p, const struct config *c, int max_seqs, char *err, size_t n);
void policy_free(struct policy *p);
/* the tokenizer policy_init would load: model.tokenizer, else the model folder's
 * tokenizer.json (or the tokenizer.bin beside a llama2.c .bin), else the character vocabulary */
int policy_tokenizer_init(struct tokenizer *tok, const struct config *c, char *err, size_t n);
/* the shape policy_init would give the model, read without allocating it: a Hugging Face
 * folder's config.json, a llama2.c header, else the model.* keys and the tokenizer's size */
int policy_model_config(const struct config *c, struct model_config *mc, char *err, size_t n);
/* policy_gpu.c - rollout.engine: the GPU decode engine on CUDA device `device` over m's
 * weights (fp32 on that device, e.g. a trainer's master copy; NULL: the host model, uploaded),
 * hooked into p->ro; 0 also when the CPU engine stays (a model outside the kernels under
 * rollout.engine=auto: a note on stdout unless quiet); -1 with one line (CPU-only builds) */
int policy_gpu_attach(struct policy *p, const struct config *c, int device, const struct model *m,
		      int quiet, char *err, size_t n);
/* the GPU engine's weights again from m (as attached); 0 without a GPU engine */
int policy_gpu_reload(struct policy *p, const struct model *m);
/* the GPU engine's KV cache handed back to the device until the next rollout remakes it
 * (rollout.release_kv; engine_gpu_kv_release); no-op without a GPU engine */
void policy_gpu_release_kv(struct policy *p);
void policy_gpu_free(struct policy *p);
/* for commands that only decode: attach on train.device's GPU (cuda:N, else LOCAL_RANK's) when
 * rollout.engine is gpu, or auto and torch sees a GPU */
int policy_gpu_auto(struct policy *p, const struct config *c, char *err, size_t n);

/* sets torch and BLAS threads from train.threads (0 = all cores); returns the count */
int policy_set_threads(long threads);

#endif
