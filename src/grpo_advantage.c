/* grpo_advantage.c - group advantages and loss weights (see grpo_advantage.h). */
#include "attnrl/grpo_advantage.h"

#include <math.h>
#include <string.h>

int adv_mode_parse(const char *s, enum adv_mode *out)
{
	if (!strcmp(s, "grpo"))
		*out = ADV_GRPO;
	else if (!strcmp(s, "drgrpo"))
		*out = ADV_DRGRPO;
	else
		return -1;
	return 0;
}

int loss_agg_parse(const char *s, enum loss_agg *out)
{
	if (!strcmp(s, "seq-mean-token-mean"))
		*out = AGG_SEQ_MEAN_TOKEN_MEAN;
	else if (!strcmp(s, "token-mean"))
		*out = AGG_TOKEN_MEAN;
	else if (!strcmp(s, "seq-mean-token-sum-norm"))
		*out = AGG_SEQ_MEAN_TOKEN_SUM_NORM;
	else
		return -1;
	return 0;
}

void adv_compute(const float *rewards, int n_groups, int G, enum adv_mode mode, float *adv)
{
	for (int g = 0; g < n_groups; g++) {
		const float *r = rewards + (size_t)g * G;
		double mean = 0.0, var = 0.0;
		for (int i = 0; i < G; i++)
			mean += r[i];
		mean /= G;
		for (int i = 0; i < G; i++)
			var += (r[i] - mean) * (r[i] - mean);
		double std = G > 1 ? sqrt(var / (G - 1)) : 0.0;
		for (int i = 0; i < G; i++) {
			double a = r[i] - mean;
			adv[(size_t)g * G + i] = (float)(mode == ADV_GRPO ? a / (std + 1e-6) : a);
		}
	}
}

void adv_token_weights(const float *mask, const int *lens, int B, int T, enum loss_agg agg,
		       int n_mb, long tokens_mb, int max_new, float *weight)
{
	for (int b = 0; b < B; b++) {
		double w;
		if (agg == AGG_SEQ_MEAN_TOKEN_MEAN)
			w = lens[b] ? 1.0 / ((double)lens[b] * n_mb) : 0.0;
		else if (agg == AGG_TOKEN_MEAN)
			w = tokens_mb ? 1.0 / (double)tokens_mb : 0.0;
		else
			w = 1.0 / ((double)max_new * n_mb);
		for (int t = 0; t < T; t++)
			weight[(size_t)b * T + t] = (float)(mask[(size_t)b * T + t] * w);
	}
}
