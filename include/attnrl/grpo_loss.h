/*
 * grpo_loss.h - the PPO-clip objective of GRPO on ATen (docs/method.md section 8):
 *   token loss = -min(rho A~, clip(rho, 1 - clip_low, 1 + clip_high) A~), rho = exp(logp - old)
 *   + kl_coef * k3(ref, logp) - entropy_coef * entropy;  loss = sum(token loss * weight).
 * A~ = gamma * A arrives per token in adv; weight carries the mask and the aggregation mode.
 * Shapes: B sequences, T token positions.
 */
#ifndef ATTNRL_GRPO_LOSS_H
#define ATTNRL_GRPO_LOSS_H

#include "attnrl/tensor.h"

struct grpo_hparams { double clip_low, clip_high, kl_coef, entropy_coef; };

/* logp (B,T) with grad; old_logp, adv, weight (B,T); ref_logp and entropy may be NULL when their
 * coefficient is 0. Returns the scalar loss (a handle in the current frame) or NULL. */
tensor *grpo_loss(const tensor *logp, const tensor *old_logp, const tensor *ref_logp,
		  const tensor *entropy, const tensor *adv, const tensor *weight,
		  const struct grpo_hparams *h);

#endif
