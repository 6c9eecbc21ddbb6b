/* grpo_schedule.c - the learning rate of each optimizer step (see grpo_schedule.h). */
#include "attnrl/grpo_schedule.h"

#include <math.h>

double grpo_lr_at(long s, long total, double lr, double lr_min, long warmup, int cosine)
{
	if (s < warmup)
		return lr * (double)(s + 1) / (double)warmup;
	if (!cosine || total <= warmup)
		return lr;
	double progress = (double)(s - warmup) / (double)(total - warmup);
	if (progress > 1.0)
		progress = 1.0;
	return lr_min + 0.5 * (lr - lr_min) * (1.0 + cos(M_PI * progress));
}
