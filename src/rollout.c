/*
 * rollout.c - batched generation over the decode engine (see rollout.h). A prompt is prefilled
 * once and its KV cache copied to the G slots of its group; then every unfinished sequence
 * advances one token per engine call.
 */
#include "attnrl/rollout.h"
#include "attnrl/fsutil.h"
#include "attnrl/stop.h"

#include "attnrl/config.h"
#include "attnrl/credit_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rollout_params rollout_params_from_config(const struct config *c)
{
	return (struct rollout_params){ .max_new_tokens = (int)c->rollout.max_new_tokens,
					.top_k = (int)c->rollout.top_k,
					.ignore_eos = c->rollout.ignore_eos,
					.temperature = c->rollout.temperature,
					.top_p = c->rollout.top_p, .stop = c->rollout.stop,
					.seed = (uint64_t)c->run.seed };
}

int rollout_init(struct rollout *r, struct engine *eng, const struct tokenizer *tok)
{
	memset(r, 0, sizeof(*r));
	r->eng = eng;
	r->tok = tok;
	r->max_seqs = eng->max_seqs;
	r->max_rows = eng->max_rows;
	int V = eng->cfg.vocab_size, R = eng->max_rows;
	r->logits = malloc((size_t)R * V * sizeof(float));
	r->seq = malloc(R * sizeof(int));
	r->pos = malloc(R * sizeof(int));
	r->out_row = malloc(R * sizeof(int));
	r->row_tok = malloc(R * sizeof(int32_t));
	r->order = malloc(V * sizeof(int));
	r->probs = malloc(V * sizeof(float));
	if (!r->logits || !r->seq || !r->pos || !r->out_row || !r->row_tok || !r->order ||
	    !r->probs) {
		rollout_free(r);
		return -1;
	}
	return 0;
}

void rollout_free(struct rollout *r)
{
	free(r->logits);
	free(r->seq);
	free(r->pos);
	free(r->out_row);
	free(r->row_tok);
	free(r->order);
	free(r->probs);
	memset(r, 0, sizeof(*r));
}

int rollout_batch_init(struct rollout_batch *b, int n_seqs, int cap_len)
{
	memset(b, 0, sizeof(*b));
	size_t bt = (size_t)n_seqs * cap_len;
	b->n_seqs = b->cap_seqs = n_seqs;
	b->cap_len = cap_len;
	b->text_cap = 8 * cap_len + 16;
	b->tokens = calloc(bt, sizeof(int32_t));
	b->logp = calloc(bt, sizeof(float));
	b->entropy = calloc(bt, sizeof(float));
	b->prompt_len = calloc(n_seqs, sizeof(int));
	b->resp_len = calloc(n_seqs, sizeof(int));
	b->stop_reason = calloc(n_seqs, sizeof(int));
	b->text = calloc((size_t)n_seqs * b->text_cap, 1);
	if (!b->tokens || !b->logp || !b->entropy || !b->prompt_len || !b->resp_len ||
	    !b->stop_reason || !b->text) {
		rollout_batch_free(b);
		return -1;
	}
	return 0;
}

void rollout_batch_free(struct rollout_batch *b)
{
	free(b->tokens);
	free(b->logp);
	free(b->entropy);
	free(b->prompt_len);
	free(b->resp_len);
	free(b->stop_reason);
	free(b->text);
	memset(b, 0, sizeof(*b));
}

const char *rollout_text(const struct rollout_batch *b, int i)
{
	return b->text + (size_t)i * b->text_cap;
}

/* ---- sampling -------------------------------------------------------------------------- */

static _Thread_local const float *sort_probs;

static int by_prob_desc(const void *a, const void *b)
{
	int i = *(const int *)a, j = *(const int *)b;
	float pi = sort_probs[i], pj = sort_probs[j];
	if (pi != pj)
		return pi > pj ? -1 : 1;
	return i - j;
}

/* probs = softmax(logits / T); returns log of the normaliser relative to the max */
static void softmax_scaled(const float *logits, int V, double temp, float *probs, double *mx_out,
			   double *lse_out, double *entropy)
{
	double mx = -INFINITY, sum = 0.0, ent = 0.0;
	for (int i = 0; i < V; i++)
		mx = logits[i] / temp > mx ? logits[i] / temp : mx;
	for (int i = 0; i < V; i++) {
		probs[i] = (float)exp(logits[i] / temp - mx);
		sum += probs[i];
	}
	double lse = log(sum);
	for (int i = 0; i < V; i++) {
		probs[i] = (float)(probs[i] / sum);
		double lp = logits[i] / temp - mx - lse;
		ent -= probs[i] > 0 ? probs[i] * lp : 0.0;
	}
	*mx_out = mx;
	*lse_out = lse;
	*entropy = ent;
}

/* the tokens kept by top-k / top-p, most probable first, in order[0..kept) */
static int nucleus(const float *probs, int V, int top_k, double top_p, int *order)
{
	for (int i = 0; i < V; i++)
		order[i] = i;
	sort_probs = probs;
	qsort(order, V, sizeof(int), by_prob_desc);
	int kept = top_k > 0 && top_k < V ? top_k : V;
	if (top_p < 1.0) {
		double cum = 0.0;
		for (int i = 0; i < kept; i++) {
			cum += probs[order[i]];
			if (cum >= top_p) {
				kept = i + 1;
				break;
			}
		}
	}
	return kept;
}

int32_t rollout_sample(const float *logits, int V, const struct rollout_params *p,
		       struct rng *rng, int *order, float *probs, float *logp, float *entropy)
{
	double temp = p->temperature > 0 ? p->temperature : 1.0, mx, lse, ent;
	softmax_scaled(logits, V, temp, probs, &mx, &lse, &ent);
	int32_t tok = 0;
	if (p->temperature <= 0) {
		for (int i = 1; i < V; i++)
			tok = logits[i] > logits[tok] ? i : tok;
	} else if (p->top_k > 0 || p->top_p < 1.0) {
		int kept = nucleus(probs, V, p->top_k, p->top_p, order);
		double mass = 0.0, acc = 0.0;
		for (int i = 0; i < kept; i++)
			mass += probs[order[i]];
		double u = rng_uniform(rng) * mass;
		tok = order[kept - 1];
		for (int i = 0; i < kept; i++) {
			acc += probs[order[i]];
			if (u < acc) {
				tok = order[i];
				break;
			}
		}
	} else {
		double u = rng_uniform(rng), acc = 0.0;
		tok = V - 1;
		for (int i = 0; i < V; i++) {
			acc += probs[i];
			if (u < acc) {
				tok = i;
				break;
			}
		}
	}
	*logp = (float)(logits[tok] / temp - mx - lse);
	*entropy = (float)ent;
	return tok;
}

/* ---- generation ------------------------------------------------------------------------ */

int rollout_append(const struct tokenizer *tok, struct rollout_batch *out, int b, int32_t t,
		   float logp, float ent, const struct rollout_params *p)
{
	int at = out->prompt_len[b] + out->resp_len[b];
	size_t row = (size_t)b * out->cap_len + at;
	out->tokens[row] = t;
	out->logp[row] = logp;
	out->entropy[row] = ent;
	out->resp_len[b]++;
	out->tokens_generated++;
	if (tokenizer_is_stop(tok, t) && !p->ignore_eos) {
		out->stop_reason[b] = ROLLOUT_EOS;
		return 1;
	}
	char *text = out->text + (size_t)b * out->text_cap;
	size_t len = strlen(text);
	const char *piece = tokenizer_text(tok, t);
	size_t pl = piece ? strlen(piece) : 0;
	if (len + pl < (size_t)out->text_cap)
		memcpy(text + len, piece, pl + 1);
	len = strlen(text);
	size_t sl = p->stop ? strlen(p->stop) : 0;
	if (sl && len >= sl && memcmp(text + len - sl, p->stop, sl) == 0) {
		out->stop_reason[b] = ROLLOUT_STOP_STRING;
		return 1;
	}
	if (out->resp_len[b] >= p->max_new_tokens) {
		out->stop_reason[b] = ROLLOUT_LENGTH;
		return 1;
	}
	return 0;
}

/* prefills every prompt into slot i*G in chunks of at most max_rows rows; logits of the last
 * prompt token of prompt i land in r->logits row i */
static int prefill(struct rollout *r, const int32_t *const *prompts, const int *lens, int n_prompts,
		   int G, float *last_logits)
{
	int V = r->eng->cfg.vocab_size, n = 0, n_out = 0, first_out = 0;
	for (int i = 0; i < n_prompts; i++) {
		for (int t = 0; t < lens[i]; t++) {
			r->seq[n] = i * G;
			r->pos[n] = t;
			r->row_tok[n] = prompts[i][t];
			if (t == lens[i] - 1)
				r->out_row[n_out++] = n;
			n++;
			int last = i == n_prompts - 1 && t == lens[i] - 1;
			if (n == r->max_rows || last) {
				if (engine_forward(r->eng, n, r->seq, r->pos, r->row_tok, n_out,
						   r->out_row, last_logits + (size_t)first_out * V))
					return -1;
				first_out += n_out;
				n = n_out = 0;
			}
		}
	}
	return 0;
}

/* done[b]: 0 sampling; 1 finished, its last token's attention row still to compute (only
 * when statistics are on: docs/method.md section 7); 2 complete. Returns 1 when b became
 * complete. */
static int finish(const struct rollout_params *p, int finished, int *done_b)
{
	*done_b = finished ? (p->stats ? 1 : 2) : 0;
	return *done_b == 2;
}

static int sample_first(struct rollout *r, const float *last_logits, int n_prompts, int G,
			const struct rollout_params *p, struct rng *rngs, struct rollout_batch *out,
			int *done)
{
	int V = r->eng->cfg.vocab_size, complete = 0;
	for (int i = 0; i < n_prompts; i++) {
		for (int g = 0; g < G; g++) {
			int b = i * G + g;
			float lp, ent;
			if (g)
				engine_copy_seq(r->eng, b, i * G, out->prompt_len[b]);
			int32_t t = rollout_sample(last_logits + (size_t)i * V, V, p, &rngs[b],
						   r->order, r->probs, &lp, &ent);
			complete += finish(p, rollout_append(r->tok, out, b, t, lp, ent, p), &done[b]);
		}
	}
	return complete;
}

/* the row of the last token of b, fed at its position */
static void add_row(struct rollout *r, const struct rollout_batch *out, int b, int n)
{
	int at = out->prompt_len[b] + out->resp_len[b] - 1;
	r->seq[n] = b;
	r->pos[n] = at;
	r->row_tok[n] = out->tokens[(size_t)b * out->cap_len + at];
	r->out_row[n] = n;
}

/* one engine call: a row (with logits) per sampling sequence, then a row (without) per
 * sequence whose final row is pending; returns how many sequences became complete */
static int decode_step(struct rollout *r, const struct rollout_params *p, struct rng *rngs,
		       struct rollout_batch *out, int *done)
{
	int V = r->eng->cfg.vocab_size, n = 0, n_out, complete = 0;
	for (int b = 0; b < out->n_seqs; b++)
		if (done[b] == 0)
			add_row(r, out, b, n++);
	n_out = n;
	for (int b = 0; b < out->n_seqs; b++)
		if (done[b] == 1)
			add_row(r, out, b, n++);
	if (engine_forward(r->eng, n, r->seq, r->pos, r->row_tok, n_out, r->out_row, r->logits))
		return -1;
	for (int j = n_out; j < n; j++, complete++)
		done[r->seq[j]] = 2;
	for (int j = 0; j < n_out; j++) {
		int b = r->seq[j];
		float lp, ent;
		int32_t t = rollout_sample(r->logits + (size_t)j * V, V, p, &rngs[b], r->order,
					   r->probs, &lp, &ent);
		complete += finish(p, rollout_append(r->tok, out, b, t, lp, ent, p), &done[b]);
	}
	return complete;
}

static int check_sizes(const struct rollout *r, const int *lens, int n_prompts, int G,
		       const struct rollout_params *p, const struct rollout_batch *out, char *err,
		       size_t n)
{
	int B = n_prompts * G;
	if (B > r->max_seqs || B > out->cap_seqs || B > r->max_rows) {
		snprintf(err, n, "rollout: %d sequences exceed the planned batch of %d", B, r->max_seqs);
		return -1;
	}
	for (int i = 0; i < n_prompts; i++) {
		int need = lens[i] + p->max_new_tokens;
		if (lens[i] < 1 || need > r->eng->cache_len || need > out->cap_len) {
			snprintf(err, n, "rollout: prompt %d has %d tokens; with max_new_tokens=%d it needs "
				 "%d positions but model.max_seq_len allows %d (raise model.max_seq_len "
				 "or lower rollout.max_new_tokens)", i, lens[i], p->max_new_tokens, need,
				 r->eng->cache_len);
			return -1;
		}
	}
	return 0;
}

void rollout_batch_reset(struct rollout_batch *out, const int32_t *const *prompts, const int *lens,
			 int n_prompts, int G)
{
	out->n_seqs = n_prompts * G;
	size_t bt = (size_t)out->cap_seqs * out->cap_len;
	memset(out->tokens, 0, bt * sizeof(int32_t));
	memset(out->logp, 0, bt * sizeof(float));
	memset(out->entropy, 0, bt * sizeof(float));
	memset(out->text, 0, (size_t)out->cap_seqs * out->text_cap);
	out->tokens_generated = 0;
	for (int b = 0; b < out->n_seqs; b++) {
		int i = b / G;
		out->resp_len[b] = 0;
		out->prompt_len[b] = i < n_prompts ? lens[i] : 0;
		if (i < n_prompts)
			memcpy(out->tokens + (size_t)b * out->cap_len, prompts[i], lens[i] * sizeof(int32_t));
	}
}

int rollout_generate(struct rollout *r, const int32_t *const *prompts, const int *lens,
		     int n_prompts, int G, const struct rollout_params *p, struct rollout_batch *out,
		     char *err, size_t n)
{
	if (r->device)
		return r->device(r->device_ctx, prompts, lens, n_prompts, G, p, out, err, n);
	int B = n_prompts * G, rc = -1;
	if (check_sizes(r, lens, n_prompts, G, p, out, err, n))
		return -1;
	double t0 = fs_now();
	struct rng *rngs = malloc(B * sizeof(*rngs));
	int *done = calloc(B, sizeof(int));
	float *first = malloc((size_t)n_prompts * r->eng->cfg.vocab_size * sizeof(float));
	if (!rngs || !done || !first) {
		snprintf(err, n, "rollout: out of memory");
		goto out;
	}
	rollout_batch_reset(out, prompts, lens, n_prompts, G);
	for (int b = 0; b < B; b++)
		rng_init3(&rngs[b], p->seed, (uint64_t)(p->seq_ids ? p->seq_ids[b] : b), 0x726f6c6cULL);
	for (int b = 0; p->stats && b < B; b++)
		attnstats_begin(p->stats, b, out->prompt_len[b]);
	r->eng->stats = p->stats;
	if (prefill(r, prompts, lens, n_prompts, G, first))
		goto engine_failed;
	int complete = sample_first(r, first, n_prompts, G, p, rngs, out, done);
	while (complete < B) {
		if (p->interruptible && stop_requested()) {
			rc = ROLLOUT_INTERRUPTED;
			goto out;
		}
		int f = decode_step(r, p, rngs, out, done);
		if (f < 0)
			goto engine_failed;
		complete += f;
	}
	out->seconds = fs_now() - t0;
	rc = 0;
	goto out;
engine_failed:
	snprintf(err, n, "rollout: the decode engine rejected a row (token or position out of range)");
out:
	r->eng->stats = NULL;
	free(rngs);
	free(done);
	free(first);
	return rc;
}
