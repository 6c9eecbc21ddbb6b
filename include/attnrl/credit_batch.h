/*
 * credit_batch.h - credit for a whole rollout batch: the statistics streamed during generation
 * (credit_stats.h) -> head groups (per response or per batch) -> WAAD / FAI -> the preplan and
 * anchor sets and gamma of every response token (credit.h), plus the step's credit metrics.
 * Token-indexed arrays are (B, cap_len) like the rollout batch; response token r of sequence b
 * sits at [b][P_b + r].
 */
#ifndef ATTNRL_CREDIT_BATCH_H
#define ATTNRL_CREDIT_BATCH_H

#include <stdint.h>

#include "attnrl/config.h"
#include "attnrl/credit.h"
#include "attnrl/credit_stats.h"
#include "attnrl/engine.h"
#include "attnrl/rollout.h"

struct rhythm {
	struct credit_params cp;
	struct attnstats *stats;     /* NULL when credit.strategy is none */
	int per_batch, B, cap_len;
	int from_maps;               /* credit.compute=maps: the paper's separate forward */
	float *maps;                 /* (Q, cap_len, cap_len) when from_maps */
	struct attnstats_result res; /* scratch for one response */
	float *d_batch;              /* (Q) mean d over the batch (per_batch grouping) */
	float *gamma, *waad, *fai, *delta; /* (B, cap_len) */
	uint8_t *sets;               /* (B, cap_len) CREDIT_IN_* flags */
};

struct rhythm_metrics {
	double gamma_mean, frac_loc, frac_glob, frac_d, frac_i, waad_mean, fai_mean, d_loc, d_glob;
};

/* the credit.* keys as credit parameters / statistics layout; -1 with one line in err */
int rhythm_credit_params(struct credit_params *cp, const struct config *c, char *err, size_t n);
int rhythm_stats_config(struct attnstats_config *sc, const struct config *c, int n_layers,
			int n_heads, char *err, size_t n);

/* -1 with one line in err on a bad credit.* combination */
int rhythm_init(struct rhythm *h, const struct config *c, int n_layers, int n_heads, int B,
		int cap_len, int max_new, char *err, size_t n);
void rhythm_free(struct rhythm *h);
/* the statistics a rollout should stream (NULL: none, or computed afterwards from maps) */
struct attnstats *rhythm_rollout_stats(const struct rhythm *h);
/* after the rollout: fills gamma, sets, waad, fai, delta; seed drives the random strategy;
 * from maps, each response is fed again through eng (slot B must be free) */
int rhythm_assign(struct rhythm *h, const struct rollout_batch *rb, struct engine *eng,
		  uint64_t seed, struct rhythm_metrics *m);

#endif
