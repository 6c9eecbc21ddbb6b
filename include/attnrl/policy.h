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

struct policy {
	struct tokenizer tok;
	struct model *model;
	struct engine_layer_weights *layers; /* (L) the engine's view of the weights */
	struct engine *eng;
	struct rollout ro;
};

/* max_seqs sequences at once in the engine; prints nothing, -1 with one line in err */
int policy_init(struct policy *p, const struct config *c, int max_seqs, char *err, size_t n);
void policy_free(struct policy *p);
/* the tokenizer policy_init would load: model.tokenizer, else the model folder's
 * tokenizer.json (or the tokenizer.bin beside a llama2.c .bin), else the character vocabulary */
int policy_tokenizer_init(struct tokenizer *tok, const struct config *c, char *err, size_t n);
/* sets torch and BLAS threads from train.threads (0 = all cores); returns the count */
int policy_set_threads(long threads);

#endif
