/* grpo_loss.c - the clipped surrogate with optional k3 KL and entropy bonus (see grpo_loss.h). */
#include "attnrl/grpo_loss.h"

#include <stddef.h>

tensor *grpo_loss(const tensor *logp, const tensor *old_logp, const tensor *ref_logp,
		  const tensor *entropy, const tensor *adv, const tensor *weight,
		  const struct grpo_hparams *h)
{
	tensor *ratio = tensor_exp(tensor_sub(logp, old_logp));
	tensor *s1 = tensor_mul(ratio, adv);
	tensor *s2 = tensor_mul(tensor_clamp(ratio, 1.0 - h->clip_low, 1.0 + h->clip_high), adv);
	tensor *tok = tensor_neg(tensor_minimum(s1, s2));
	if (h->kl_coef != 0.0 && ref_logp) {
		/* k3 = exp(ref - logp) - (ref - logp) - 1, an unbiased, non-negative KL estimate */
		tensor *d = tensor_sub(ref_logp, logp);
		tensor *k3 = tensor_add_scalar(tensor_sub(tensor_exp(d), d), -1.0);
		tok = tensor_add(tok, tensor_mul_scalar(k3, h->kl_coef));
	}
	if (h->entropy_coef != 0.0 && entropy)
		tok = tensor_sub(tok, tensor_mul_scalar(entropy, h->entropy_coef));
	return tensor_sum(tensor_mul(tok, weight));
}
