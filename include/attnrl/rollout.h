/*
 * rollout.h - batched sampling with the decode engine: G responses per prompt, temperature,
 * top-k, top-p, stop at EOS or a stop string or max_new_tokens; per-token log-probs and entropies
 * recorded. Each sequence draws from its own RNG stream, so the same seed gives the same tokens
 * whatever the thread count or the batch composition.
 * Shapes: B sequences (= prompts x G), T = longest prompt + max_new_tokens, V vocab.
 */
#ifndef ATTNRL_ROLLOUT_H
#define ATTNRL_ROLLOUT_H

#include <stdint.h>

struct attnstats;
struct config;

#include "attnrl/engine.h"
#include "attnrl/rng.h"
#include "attnrl/tokenizer.h"

enum rollout_stop { ROLLOUT_EOS = 0, ROLLOUT_STOP_STRING, ROLLOUT_LENGTH };

struct rollout_params {
	int max_new_tokens, top_k;
	int ignore_eos;            /* EOS does not end a response (benchmarks) */
	double temperature, top_p; /* temperature 0 = greedy */
	const char *stop;          /* NULL or "" = none */
	uint64_t seed;
	const int64_t *seq_ids;    /* NULL, or the RNG stream id of each sequence (default: its
				    * index b); data-parallel ranks pass their sequences' indices
				    * in the global batch, so a rank split draws the same tokens */
	struct attnstats *stats;   /* NULL, or statistics of every sequence while generating; then
				    * the last token of each response is fed once more for its row */
	int interruptible;         /* stop between decode steps when stop_requested() (stop.h) */
};

/* the config's sampling: rollout.{max_new_tokens,top_k,ignore_eos,temperature,top_p,stop} and
 * run.seed; no seq_ids, stats or interruption. Callers override what their job changes. */
struct rollout_params rollout_params_from_config(const struct config *c);

struct rollout_batch {
	int n_seqs, cap_seqs, cap_len, text_cap; /* n_seqs of the last call, capacity */
	int32_t *tokens;     /* (B, T) prompt then response, pad after */
	int *prompt_len;     /* (B) */
	int *resp_len;       /* (B) */
	float *logp;         /* (B, T) log-prob of tokens[b][t] under the temperature-scaled policy */
	float *entropy;      /* (B, T) entropy of the distribution token t was sampled from */
	int *stop_reason;    /* (B) enum rollout_stop */
	char *text;          /* (B, text_cap) decoded responses */
	double seconds;
	long tokens_generated;
};

/* a decoder on another device taking rollout_generate's work (rollout_gpu.h) */
typedef int (*rollout_device_fn)(void *ctx, const int32_t *const *prompts, const int *lens,
				 int n_prompts, int G, const struct rollout_params *p,
				 struct rollout_batch *out, char *err, size_t n);

struct rollout {
	rollout_device_fn device;  /* set: rollout_generate calls device(device_ctx, ...) */
	void *device_ctx;
	struct engine *eng;
	const struct tokenizer *tok;
	int max_seqs, max_rows;
	float *logits;       /* (max_rows, V) */
	int *seq, *pos, *out_row; /* row lists (max_rows) */
	int32_t *row_tok;
	int *order;          /* (V) sampling scratch */
	float *probs;        /* (V) */
};

int rollout_init(struct rollout *r, struct engine *eng, const struct tokenizer *tok);
void rollout_free(struct rollout *r);

int rollout_batch_init(struct rollout_batch *b, int n_seqs, int cap_len);
void rollout_batch_free(struct rollout_batch *b);
const char *rollout_text(const struct rollout_batch *b, int i);

#define ROLLOUT_INTERRUPTED 1

/* prompts[i] (BOS first) of length lens[i]; out must hold n_prompts * G sequences; 0, -1 with
 * err, or ROLLOUT_INTERRUPTED (p->interruptible and a stop was requested: out is partial) */
int rollout_generate(struct rollout *r, const int32_t *const *prompts, const int *lens,
		     int n_prompts, int G, const struct rollout_params *p, struct rollout_batch *out,
		     char *err, size_t n);

/* out holds n_prompts * G sequences: prompts copied in, responses and texts emptied */
void rollout_batch_reset(struct rollout_batch *out, const int32_t *const *prompts, const int *lens,
			 int n_prompts, int G);

/* appends token t (its log-prob and entropy) to the response of sequence b and its text;
 * returns 1 when the response is finished (EOS unless p->ignore_eos, the stop string at the
 * end of the text, max_new_tokens) with out->stop_reason[b] set */
int rollout_append(const struct tokenizer *tok, struct rollout_batch *out, int b, int32_t t,
		   float logp, float ent, const struct rollout_params *p);

/* samples one token from logits (V); writes logp of the token under softmax(logits / T) and
 * the entropy of that distribution; scratch order/probs have V entries */
int32_t rollout_sample(const float *logits, int V, const struct rollout_params *p,
		       struct rng *rng, int *order, float *probs, float *logp, float *entropy);

#endif
