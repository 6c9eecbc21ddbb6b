/*
 * grpo_advantage.h - the torch-free half of GRPO (docs/method.md section 8): group-normalised
 * advantages and per-token loss weights for the three aggregation modes (the learning-rate
 * schedule is grpo_schedule.h).
 * Shapes: B sequences, G responses per group, T token positions.
 */
#ifndef ATTNRL_GRPO_ADVANTAGE_H
#define ATTNRL_GRPO_ADVANTAGE_H

enum adv_mode { ADV_GRPO = 0, ADV_DRGRPO };
enum loss_agg { AGG_SEQ_MEAN_TOKEN_MEAN = 0, AGG_TOKEN_MEAN, AGG_SEQ_MEAN_TOKEN_SUM_NORM };

int adv_mode_parse(const char *s, enum adv_mode *out);
int loss_agg_parse(const char *s, enum loss_agg *out);

/* rewards (n_groups * G) -> adv: grpo (r - mean) / (std + 1e-6) with the N-1 std; drgrpo r - mean */
void adv_compute(const float *rewards, int n_groups, int G, enum adv_mode mode, float *adv);

/* weight (B, T) such that loss = sum(token_loss * weight) aggregates as the mode says over the
 * whole mini-batch of n_mb sequences (micro-batches of it then add up to the mini-batch loss).
 * mask (B, T) is 1 on response tokens; lens (B) = response tokens per sequence;
 * tokens_mb = response tokens in the mini-batch; max_new = rollout.max_new_tokens */
void adv_token_weights(const float *mask, const int *lens, int B, int T, enum loss_agg agg,
		       int n_mb, long tokens_mb, int max_new, float *weight);

#endif
