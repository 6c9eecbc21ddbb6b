/*
 * credit.h - docs/method.md sections 5-6: from one response's per-token WAAD, FAI and entropy to
 * the preplan (T_loc) and anchor (T_glob) sets, the coupled sets D and I, and the per-token
 * multiplier gamma of each credit strategy. Pure C; the same code serves the streamed
 * statistics and the map-based reference. R = response tokens (positions P..N-1, index 0..R-1).
 */
#ifndef ATTNRL_CREDIT_H
#define ATTNRL_CREDIT_H

#include <stdint.h>

#include "attnrl/rng.h"

enum credit_strategy { CREDIT_NONE = 0, CREDIT_LOCAL, CREDIT_GLOBAL, CREDIT_COUPLED, CREDIT_RANDOM,
		       CREDIT_ENTROPY };
enum credit_sign { CREDIT_SIGN_BOTH = 0, CREDIT_SIGN_POSITIVE, CREDIT_SIGN_NEGATIVE };
enum credit_select { CREDIT_SELECT_TOP = 0, CREDIT_SELECT_BOTTOM };

/* token set flags in sets[t] */
#define CREDIT_IN_LOC 1u  /* T_loc: preplan */
#define CREDIT_IN_GLOB 2u /* T_glob: anchor */
#define CREDIT_IN_D 4u    /* locally dominated anchor */
#define CREDIT_IN_I 8u    /* introducer of a dominated anchor */
#define CREDIT_IN_RAND 16u
#define CREDIT_IN_ENT 32u

struct credit_params {
	enum credit_strategy strategy;
	enum credit_sign sign;
	enum credit_select select;
	double gamma_amp;  /* 1.5: g = gamma_amp - 1 */
	double top_q;      /* 0.4 */
	double alpha;      /* 0.5 */
	int k;             /* 3 */
	double tau_waad;   /* NAN = median of WAAD over R */
	double tau_delta;  /* NAN = smallest Delta in T_loc */
};

int credit_strategy_parse(const char *s, enum credit_strategy *out);
int credit_sign_parse(const char *s, enum credit_sign *out);
int credit_select_parse(const char *s, enum credit_select *out);
void credit_params_default(struct credit_params *p);

/* Delta_t = |WAAD_t - WAAD_{t+1}|, Delta_{R-1} = 0 */
void credit_delta(const float *waad, int R, float *delta);

/* TopQ: the ceil(q * R) tokens with the largest x (side top) or smallest x (side bottom) among
 * those with eligible[t] != 0 (NULL = all); ties -> earlier position; marks flag in sets;
 * returns how many were marked */
int credit_top_q(const float *x, const uint8_t *eligible, int R, double q, enum credit_select side,
		 uint8_t flag, uint8_t *sets);

/* every set and gamma (R) for one response. fai_ok[t] = 0 when T(t) is empty (never an
 * anchor; NULL = all ok); entropy may be NULL unless the strategy is entropy; rng is used by
 * random. sets (R) receives the flags above, delta (R) the Delta values. */
void credit_assign(const struct credit_params *p, int R, const float *waad, const float *fai,
		   const uint8_t *fai_ok, const float *entropy, struct rng *rng, float *delta,
		   uint8_t *sets, float *gamma);

/* a token's sets as "PADI" ('.' where not in; R / E added under the random / entropy
 * strategies; out holds 8) */
void credit_sets_text(uint8_t sets, enum credit_strategy strategy, char *out);

/* the multiplier actually applied to a token whose sequence has advantage adv (sign mode) */
float credit_gamma_for(const struct credit_params *p, float gamma, float adv);

#endif
