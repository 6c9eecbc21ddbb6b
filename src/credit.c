/*
 * credit.c - docs/method.md sections 5-6: Delta, the TopQ sets, the coupled sets D and I and the
 * per-token gamma of each strategy, for one response of R tokens (see credit.h).
 *
 * Our choices where docs/method.md is silent:
 * - TopQ marks n = ceil(q * R - 1e-9) tokens, clamped to [0, R] (the 1e-9 keeps q = 0.55,
 *   R = 100 at 55 although 0.55 * 100 = 55.00000000000001 in double). R counts every
 *   response token even when only some are eligible, so fewer than n are marked when fewer
 *   are eligible.
 * - Ties -> earlier position first, on both sides (top: largest first; bottom: smallest).
 *   A NaN key is never selected, so the order is total.
 * - credit_top_q clears its flag in every sets[t] first: afterwards the flag is the set.
 * - T_loc and T_glob are computed for every strategy (for logging); D and I only for coupled,
 *   RAND only for random, ENT only for entropy. The selection side applies to T_loc, T_glob
 *   and ENT; random ignores it. fai_ok restricts T_glob only.
 * - tau_waad NAN -> median of WAAD over R; even R: the mean of the two middle values.
 *   tau_delta NAN -> the smallest Delta in T_loc; T_loc empty -> +inf (nothing dominated).
 * - The window [t-k, t-1] is clipped at 0; empty (t = 0 or k <= 0) -> not dominated.
 *   intro(t) = argmax of Delta over the window, ties -> the latest u.
 * - random: n distinct tokens by a partial Fisher-Yates with rng_range; same seed, same set.
 * - Scratch of R entries is malloc'd per call (once per response per step, never per token);
 *   out of memory or a missing rng / entropy input is a bug: one line on stderr, abort().
 */
#include "attnrl/credit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct keyed { float key; int index; };

static void credit_die(int line, const char *what, int R)
{
	fprintf(stderr, "%s:%d: %s (R = %d)\n", __FILE__, line, what, R);
	abort();
}

static void *credit_alloc(size_t n, size_t size, int line, int R)
{
	void *p = malloc(n ? n * size : 1);
	if (!p)
		credit_die(line, "credit: out of memory for scratch", R);
	return p;
}

int credit_strategy_parse(const char *s, enum credit_strategy *out)
{
	static const struct { const char *name; enum credit_strategy v; } names[] = {
		{ "none", CREDIT_NONE },     { "local", CREDIT_LOCAL },
		{ "global", CREDIT_GLOBAL }, { "coupled", CREDIT_COUPLED },
		{ "random", CREDIT_RANDOM }, { "entropy", CREDIT_ENTROPY },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			*out = names[i].v;
			return 0;
		}
	return -1;
}

void credit_sets_text(uint8_t s, enum credit_strategy strategy, char *out)
{
	int k = 0;
	out[k++] = s & CREDIT_IN_LOC ? 'P' : '.';
	out[k++] = s & CREDIT_IN_GLOB ? 'A' : '.';
	out[k++] = s & CREDIT_IN_D ? 'D' : '.';
	out[k++] = s & CREDIT_IN_I ? 'I' : '.';
	if (strategy == CREDIT_RANDOM)
		out[k++] = s & CREDIT_IN_RAND ? 'R' : '.';
	if (strategy == CREDIT_ENTROPY)
		out[k++] = s & CREDIT_IN_ENT ? 'E' : '.';
	out[k] = 0;
}

int credit_sign_parse(const char *s, enum credit_sign *out)
{
	if (!strcmp(s, "both"))
		*out = CREDIT_SIGN_BOTH;
	else if (!strcmp(s, "positive"))
		*out = CREDIT_SIGN_POSITIVE;
	else if (!strcmp(s, "negative"))
		*out = CREDIT_SIGN_NEGATIVE;
	else
		return -1;
	return 0;
}

int credit_select_parse(const char *s, enum credit_select *out)
{
	if (!strcmp(s, "top"))
		*out = CREDIT_SELECT_TOP;
	else if (!strcmp(s, "bottom"))
		*out = CREDIT_SELECT_BOTTOM;
	else
		return -1;
	return 0;
}

void credit_params_default(struct credit_params *p)
{
	p->strategy = CREDIT_NONE;
	p->sign = CREDIT_SIGN_BOTH;
	p->select = CREDIT_SELECT_TOP;
	p->gamma_amp = 1.5;
	p->top_q = 0.4;
	p->alpha = 0.5;
	p->k = 3;
	p->tau_waad = NAN;
	p->tau_delta = NAN;
}

void credit_delta(const float *waad, int R, float *delta)
{
	for (int t = 0; t + 1 < R; t++)
		delta[t] = fabsf(waad[t] - waad[t + 1]);
	if (R > 0)
		delta[R - 1] = 0.0f;
}

/* n = ceil(q * R), robust to the rounding of q * R, within [0, R] */
static int credit_count(double q, int R)
{
	double n = ceil(q * R - 1e-9);
	if (!(n > 0))
		return 0;
	return n >= R ? R : (int)n;
}

static int keyed_cmp_top(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static int keyed_cmp_bottom(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

int credit_top_q(const float *x, const uint8_t *eligible, int R, double q, enum credit_select side,
		 uint8_t flag, uint8_t *sets)
{
	for (int t = 0; t < R; t++)
		sets[t] &= (uint8_t)~flag;
	int n = credit_count(q, R);
	if (n == 0)
		return 0;
	struct keyed *c = credit_alloc((size_t)R, sizeof(*c), __LINE__, R);
	int m = 0;
	for (int t = 0; t < R; t++)
		if ((!eligible || eligible[t]) && !isnan(x[t]))
			c[m++] = (struct keyed){ x[t], t };
	qsort(c, (size_t)m, sizeof(*c),
	      side == CREDIT_SELECT_BOTTOM ? keyed_cmp_bottom : keyed_cmp_top);
	if (n > m)
		n = m;
	for (int i = 0; i < n; i++)
		sets[c[i].index] |= flag;
	free(c);
	return n;
}

static int float_cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* median of v (R > 0); even R: the mean of the two middle values */
static double credit_median(const float *v, int R)
{
	float *s = credit_alloc((size_t)R, sizeof(*s), __LINE__, R);
	memcpy(s, v, (size_t)R * sizeof(*s));
	qsort(s, (size_t)R, sizeof(*s), float_cmp);
	double m = R % 2 ? s[R / 2] : 0.5 * ((double)s[R / 2 - 1] + (double)s[R / 2]);
	free(s);
	return m;
}

/* the smallest Delta among the T_loc tokens; +inf when T_loc is empty */
static double credit_min_loc(const float *delta, const uint8_t *sets, int R)
{
	double m = INFINITY;
	for (int t = 0; t < R; t++)
		if ((sets[t] & CREDIT_IN_LOC) && delta[t] < m)
			m = delta[t];
	return m;
}

/* D and I: an anchor t with WAAD_t <= tau_waad whose window max Delta >= tau_delta is
 * dominated; its introducer is the window argmax (ties -> latest) */
static void credit_coupled_sets(const struct credit_params *p, int R, const float *waad,
				const float *delta, uint8_t *sets)
{
	double tw = isnan(p->tau_waad) ? credit_median(waad, R) : p->tau_waad;
	double td = isnan(p->tau_delta) ? credit_min_loc(delta, sets, R) : p->tau_delta;
	for (int t = 0; t < R; t++) {
		if (!(sets[t] & CREDIT_IN_GLOB) || !(waad[t] <= tw))
			continue;
		int lo = t - p->k < 0 ? 0 : t - p->k, best = -1;
		for (int u = lo; u < t; u++)
			if (best < 0 || delta[u] >= delta[best])
				best = u;
		if (best >= 0 && delta[best] >= td) {
			sets[t] |= CREDIT_IN_D;
			sets[best] |= CREDIT_IN_I;
		}
	}
}

/* RAND: n distinct tokens by a partial Fisher-Yates shuffle of 0..R-1 */
static void credit_random_set(double q, int R, struct rng *rng, uint8_t *sets)
{
	int n = credit_count(q, R);
	if (n == 0)
		return;
	if (!rng)
		credit_die(__LINE__, "credit: strategy random needs an rng", R);
	int *idx = credit_alloc((size_t)R, sizeof(*idx), __LINE__, R);
	for (int i = 0; i < R; i++)
		idx[i] = i;
	for (int i = 0; i < n; i++) {
		int j = (int)rng_range(rng, i, R - 1), tmp = idx[i];
		idx[i] = idx[j];
		idx[j] = tmp;
		sets[idx[i]] |= CREDIT_IN_RAND;
	}
	free(idx);
}

/* gamma_t of one token from its set flags f, for the strategy of p */
static float credit_gamma_of(const struct credit_params *p, uint8_t f)
{
	double g = p->gamma_amp - 1.0, a = p->alpha;
	switch (p->strategy) {
	case CREDIT_LOCAL:
		return (float)(1.0 + g * !!(f & CREDIT_IN_LOC));
	case CREDIT_GLOBAL:
		return (float)(1.0 + g * !!(f & CREDIT_IN_GLOB));
	case CREDIT_COUPLED:
		return (float)(1.0 + g * ((f & CREDIT_IN_GLOB) && !(f & CREDIT_IN_D)) +
			       (1.0 - a) * g * !!(f & CREDIT_IN_D) + a * g * !!(f & CREDIT_IN_I));
	case CREDIT_RANDOM:
		return (float)(1.0 + g * !!(f & CREDIT_IN_RAND));
	case CREDIT_ENTROPY:
		return (float)(1.0 + g * !!(f & CREDIT_IN_ENT));
	default:
		return 1.0f;
	}
}

void credit_assign(const struct credit_params *p, int R, const float *waad, const float *fai,
		   const uint8_t *fai_ok, const float *entropy, struct rng *rng, float *delta,
		   uint8_t *sets, float *gamma)
{
	if (R <= 0)
		return;
	memset(sets, 0, (size_t)R);
	credit_delta(waad, R, delta);
	credit_top_q(delta, NULL, R, p->top_q, p->select, CREDIT_IN_LOC, sets);
	credit_top_q(fai, fai_ok, R, p->top_q, p->select, CREDIT_IN_GLOB, sets);
	if (p->strategy == CREDIT_COUPLED)
		credit_coupled_sets(p, R, waad, delta, sets);
	else if (p->strategy == CREDIT_RANDOM)
		credit_random_set(p->top_q, R, rng, sets);
	else if (p->strategy == CREDIT_ENTROPY) {
		if (!entropy)
			credit_die(__LINE__, "credit: strategy entropy needs the entropy", R);
		credit_top_q(entropy, NULL, R, p->top_q, p->select, CREDIT_IN_ENT, sets);
	}
	for (int t = 0; t < R; t++)
		gamma[t] = credit_gamma_of(p, sets[t]);
}

float credit_gamma_for(const struct credit_params *p, float gamma, float adv)
{
	if (p->sign == CREDIT_SIGN_POSITIVE)
		return adv >= 0.0f ? gamma : 1.0f;
	if (p->sign == CREDIT_SIGN_NEGATIVE)
		return adv < 0.0f ? gamma : 1.0f;
	return gamma;
}
