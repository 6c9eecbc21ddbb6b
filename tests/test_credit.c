/*
 * test_credit.c - docs/method.md sections 5-6 worked by hand: Delta, TopQ (ceil, ties, bottom side,
 * eligibility), the local / global / coupled gammas (median with even R, tau_delta, D, I, the
 * latest-u intro tie, indicators adding up), explicit taus, random, entropy, sign modes,
 * R = 0 and 1, and the parse functions. Every expected value below is derived in a comment.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "attnrl/credit.h"
#include "attnrl/rng.h"
#include "check.h"

#define L CREDIT_IN_LOC
#define G CREDIT_IN_GLOB
#define D CREDIT_IN_D
#define I CREDIT_IN_I

static void check_sets(const uint8_t *got, const uint8_t *want, int R, const char *what)
{
	for (int t = 0; t < R; t++)
		CHECK(got[t] == want[t], "%s: sets[%d] = %u, want %u", what, t, got[t], want[t]);
}

static void check_floats(const float *got, const float *want, int R, const char *what)
{
	for (int t = 0; t < R; t++)
		CHECK(fabsf(got[t] - want[t]) <= 1e-7f, "%s: [%d] = %.9g, want %.9g", what, t,
		      (double)got[t], (double)want[t]);
}

/* the indices in sets carrying flag, in order; returns how many */
static int members(const uint8_t *sets, int R, uint8_t flag, int *out)
{
	int n = 0;
	for (int t = 0; t < R; t++)
		if (sets[t] & flag)
			out[n++] = t;
	return n;
}

static void check_members(const uint8_t *sets, int R, uint8_t flag, const int *want, int n_want,
			  const char *what)
{
	int got[128], n = members(sets, R, flag, got);
	CHECK(n == n_want, "%s: %d members, want %d", what, n, n_want);
	for (int i = 0; i < n && i < n_want; i++)
		CHECK(got[i] == want[i], "%s: member %d is %d, want %d", what, i, got[i], want[i]);
}

static void test_delta(void)
{
	/* WAAD 1 3 2.5 2.5 6 0: |1-3| = 2, |3-2.5| = .5, 0, |2.5-6| = 3.5, |6-0| = 6, last = 0 */
	float waad[6] = { 1, 3, 2.5f, 2.5f, 6, 0 }, delta[6];
	float want[6] = { 2, 0.5f, 0, 3.5f, 6, 0 };
	memset(delta, 0xff, sizeof(delta));
	credit_delta(waad, 6, delta);
	check_floats(delta, want, 6, "delta");
}

static void test_top_q(void)
{
	/* x: idx 0..9 = 1 5 3 4 2 4 0 4 3 1 */
	float x[10] = { 1, 5, 3, 4, 2, 4, 0, 4, 3, 1 };
	uint8_t s[10];
	memset(s, 0, sizeof(s));
	/* q .3: ceil(3) = 3: 5 (1), then the 4s at 3, 5, 7: earlier first -> 3, 5; 7 left out */
	CHECK(credit_top_q(x, NULL, 10, 0.3, CREDIT_SELECT_TOP, L, s) == 3, "top .3 count");
	check_members(s, 10, L, (int[]){ 1, 3, 5 }, 3, "top .3, tie at the cut");
	/* q .4: ceil(0.4 * 10) = 4 (not 5): 1, 3, 5, 7 */
	CHECK(credit_top_q(x, NULL, 10, 0.4, CREDIT_SELECT_TOP, L, s) == 4, "top .4 count");
	check_members(s, 10, L, (int[]){ 1, 3, 5, 7 }, 4, "top .4");
	/* q .25: ceil(2.5) = 3; q .35: ceil(3.5) = 4 */
	CHECK(credit_top_q(x, NULL, 10, 0.25, CREDIT_SELECT_TOP, L, s) == 3, "ceil(2.5) = 3");
	CHECK(credit_top_q(x, NULL, 10, 0.35, CREDIT_SELECT_TOP, L, s) == 4, "ceil(3.5) = 4");
	/* bottom .3: 0 (6), then the 1s at 0 and 9 -> 6, 0, 9;
	 * bottom .2: 6, 0 (9 is the later tie) */
	CHECK(credit_top_q(x, NULL, 10, 0.3, CREDIT_SELECT_BOTTOM, L, s) == 3, "bottom .3 count");
	check_members(s, 10, L, (int[]){ 0, 6, 9 }, 3, "bottom .3");
	CHECK(credit_top_q(x, NULL, 10, 0.2, CREDIT_SELECT_BOTTOM, L, s) == 2, "bottom .2 count");
	check_members(s, 10, L, (int[]){ 0, 6 }, 2, "bottom .2, tie at the cut");
	/* eligible excludes 1 and 5: top .3 = 4 (3), 4 (7), then 3 at 2 and 8 -> 2 */
	uint8_t ok[10] = { 1, 0, 1, 1, 1, 0, 1, 1, 1, 1 };
	CHECK(credit_top_q(x, ok, 10, 0.3, CREDIT_SELECT_TOP, G, s) == 3, "eligible count");
	check_members(s, 10, G, (int[]){ 2, 3, 7 }, 3, "ineligible never marked");
	/* only 0 and 9 eligible: the count is ceil(.4 * R) = 4 from R = 10, but only 2 exist */
	uint8_t two[10] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	CHECK(credit_top_q(x, two, 10, 0.4, CREDIT_SELECT_TOP, G, s) == 2, "fewer eligible");
	check_members(s, 10, G, (int[]){ 0, 9 }, 2, "fewer eligible, both marked");
	/* the flag is cleared first and other flags survive: L is still bottom .2 = {0, 6} */
	check_members(s, 10, L, (int[]){ 0, 6 }, 2, "other flags kept");
	/* 0.55 * 100 = 55.00000000000001 in double: ceil must give 55, not 56 */
	float big[100];
	uint8_t sb[100];
	for (int t = 0; t < 100; t++)
		big[t] = (float)t;
	memset(sb, 0, sizeof(sb));
	CHECK(credit_top_q(big, NULL, 100, 0.55, CREDIT_SELECT_TOP, L, sb) == 55, "ceil robust");
	CHECK(!(sb[44] & L) && (sb[45] & L), "top 55 of 0..99 = 45..99");
	/* a NaN key is never selected: x = NaN 1 2, top 1 of ceil(.4*3) = 2 -> 2, 1 */
	float xn[3] = { NAN, 1, 2 };
	CHECK(credit_top_q(xn, NULL, 3, 0.4, CREDIT_SELECT_TOP, L, sb) == 2, "NaN count");
	check_members(sb, 3, L, (int[]){ 1, 2 }, 2, "NaN skipped");
	/* q = 0 marks nothing */
	CHECK(credit_top_q(x, NULL, 10, 0.0, CREDIT_SELECT_TOP, L, s) == 0, "q = 0");
	check_members(s, 10, L, NULL, 0, "q = 0 clears");
}

/* R = 5: WAAD 0 2 1 1 4 -> Delta 2 1 0 3 0; FAI .1 .5 .5 .2 .9 with token 4 not ok.
 * q .4: ceil(2) = 2. T_loc = 3 (3), 0 (2) = {0, 3}; T_glob: .9 excluded, .5 at 1 and 2 = {1, 2}.
 * bottom: T_loc = the two 0s = {2, 4}; T_glob = .1 (0), .2 (3) = {0, 3}. */
static const float lg_waad[5] = { 0, 2, 1, 1, 4 }, lg_fai[5] = { 0.1f, 0.5f, 0.5f, 0.2f, 0.9f };
static const uint8_t lg_ok[5] = { 1, 1, 1, 1, 0 };

static void run5(const struct credit_params *p, uint8_t *sets, float *gamma)
{
	float delta[5];
	credit_assign(p, 5, lg_waad, lg_fai, lg_ok, NULL, NULL, delta, sets, gamma);
	check_floats(delta, (float[]){ 2, 1, 0, 3, 0 }, 5, "delta of the R = 5 case");
}

static void test_local_global(void)
{
	struct credit_params p;
	uint8_t sets[5];
	float gamma[5];
	credit_params_default(&p);
	run5(&p, sets, gamma);
	check_sets(sets, (uint8_t[]){ L, G, G, L, 0 }, 5, "none still computes T_loc, T_glob");
	check_floats(gamma, (float[]){ 1, 1, 1, 1, 1 }, 5, "none: gamma 1");
	p.strategy = CREDIT_LOCAL;
	run5(&p, sets, gamma);
	check_floats(gamma, (float[]){ 1.5f, 1, 1, 1.5f, 1 }, 5, "local");
	p.strategy = CREDIT_GLOBAL;
	run5(&p, sets, gamma);
	check_floats(gamma, (float[]){ 1, 1.5f, 1.5f, 1, 1 }, 5, "global");
	p.gamma_amp = 2.0; /* g = 1 */
	run5(&p, sets, gamma);
	check_floats(gamma, (float[]){ 1, 2, 2, 1, 1 }, 5, "global, gamma_amp 2");
	p.gamma_amp = 1.5;
	p.select = CREDIT_SELECT_BOTTOM;
	run5(&p, sets, gamma);
	check_sets(sets, (uint8_t[]){ G, 0, L, G, L }, 5, "bottom side");
	check_floats(gamma, (float[]){ 1.5f, 1, 1, 1.5f, 1 }, 5, "global, bottom");
	p.strategy = CREDIT_LOCAL;
	run5(&p, sets, gamma);
	check_floats(gamma, (float[]){ 1, 1, 1.5f, 1, 1.5f }, 5, "local, bottom");
}

/*
 * The coupled case, R = 12, q = .4 -> ceil(4.8) = 5 tokens per set, k = 3.
 *   t     0  1   2   3    4  5  6  7  8   9    10    11
 *   WAAD  4  0   .5  4.5  8  9  2  3  7   9.5  8.5   4.75
 *   Delta 4  .5  4   3.5  1  7  1  4  2.5 1    3.75  0
 *   FAI   .5 .1  .45 .4   .2 .15 .35 .05 .25 .9 0    .3     (token 9 not fai_ok)
 * sorted WAAD: 0 .5 2 3 4 4.5 | 4.75 7 8 8.5 9 9.5 -> tau_waad = (4.5 + 4.75) / 2 = 4.625
 * Delta desc: 7 (5), 4 (0), 4 (2), 4 (7), 3.75 (10), 3.5 (3) ... -> T_loc = {0, 2, 5, 7, 10},
 *   tau_delta = min over T_loc = 3.75
 * FAI desc over ok tokens: .5 (0) .45 (2) .4 (3) .35 (6) .3 (11) -> T_glob = {0, 2, 3, 6, 11}
 * t = 0:  WAAD 4 <= 4.625 but the window is empty -> not dominated
 * t = 2:  WAAD .5; window [0, 1] Delta 4, .5 -> max 4 >= 3.75 at u = 0 -> D, intro 0
 * t = 3:  WAAD 4.5; window [0, 2] Delta 4, .5, 4 -> tie 0 / 2 -> latest = 2 -> D, intro 2
 * t = 6:  WAAD 2; window [3, 5] Delta 3.5, 1, 7 -> max 7 at 5 -> D, intro 5 (not an anchor)
 * t = 11: WAAD 4.75 > 4.625 -> not dominated (window [8, 10] max 3.75 >= 3.75 would be; so
 *         taking the upper middle value 4.75 as the median would wrongly put 11 in D)
 * D = {2, 3, 6}, I = {0, 2, 5}. gamma = 1 + g[T_glob \ D] + (1-a) g [D] + a g [I], g = .5:
 *   a = .5:  0: 1 + .5 + .25 = 1.75 (anchor and introducer), 2: 1 + .25 + .25 = 1.5 (D and I),
 *            3: 1.25, 5: 1.25 (I only), 6: 1.25, 11: 1.5, T_loc-only 7, 10: 1
 *   a = .25: 0: 1 + .5 + .125 = 1.625, 2: 1 + .375 + .125 = 1.5, 3: 1.375, 5: 1.125,
 *            6: 1.375, 11: 1.5
 */
static const float cp_waad[12] = { 4, 0, 0.5f, 4.5f, 8, 9, 2, 3, 7, 9.5f, 8.5f, 4.75f };
static const float cp_fai[12] = { 0.5f,  0.1f,  0.45f, 0.4f, 0.2f, 0.15f,
				  0.35f, 0.05f, 0.25f, 0.9f, 0.0f, 0.3f };
static const uint8_t cp_ok[12] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1 };

static void run12(const struct credit_params *p, uint8_t *sets, float *gamma)
{
	float delta[12];
	credit_assign(p, 12, cp_waad, cp_fai, cp_ok, NULL, NULL, delta, sets, gamma);
	check_floats(delta, (float[]){ 4, 0.5f, 4, 3.5f, 1, 7, 1, 4, 2.5f, 1, 3.75f, 0 }, 12,
		     "coupled delta");
}

static void test_coupled(void)
{
	struct credit_params p;
	uint8_t sets[12];
	float gamma[12];
	credit_params_default(&p);
	p.strategy = CREDIT_COUPLED;
	run12(&p, sets, gamma);
	uint8_t want[12] = { L | G | I, 0, L | G | D | I, G | D, 0, L | I, G | D, L, 0, 0, L, G };
	check_sets(sets, want, 12, "coupled sets");
	check_floats(gamma,
		     (float[]){ 1.75f, 1, 1.5f, 1.25f, 1, 1.25f, 1.25f, 1, 1, 1, 1, 1.5f }, 12,
		     "coupled gamma, alpha .5");
	p.alpha = 0.25;
	run12(&p, sets, gamma);
	check_floats(gamma,
		     (float[]){ 1.625f, 1, 1.5f, 1.375f, 1, 1.125f, 1.375f, 1, 1, 1, 1, 1.5f }, 12,
		     "coupled gamma, alpha .25");
	/* global on the same case: the anchors get 1.5, D and I play no part and are not set */
	p.strategy = CREDIT_GLOBAL;
	run12(&p, sets, gamma);
	check_sets(sets, (uint8_t[]){ L | G, 0, L | G, G, 0, L, G, L, 0, 0, L, G }, 12,
		   "global: no D, I");
	check_floats(gamma, (float[]){ 1.5f, 1, 1.5f, 1.5f, 1, 1, 1.5f, 1, 1, 1, 1, 1.5f }, 12,
		     "global gamma");
}

static void test_coupled_taus(void)
{
	struct credit_params p;
	uint8_t sets[12];
	float gamma[12];
	credit_params_default(&p);
	p.strategy = CREDIT_COUPLED;
	/* tau_waad = 4.75: now 11 qualifies (4.75 <= 4.75, max 3.75 >= 3.75), intro = argmax of
	 * Delta 2.5, 1, 3.75 over [8, 10] = 10. D = {2, 3, 6, 11}, I = {0, 2, 5, 10};
	 * gamma 10 = 1 + .25, gamma 11 = 1 + .25 */
	p.tau_waad = 4.75;
	run12(&p, sets, gamma);
	check_members(sets, 12, D, (int[]){ 2, 3, 6, 11 }, 4, "tau_waad 4.75: D");
	check_members(sets, 12, I, (int[]){ 0, 2, 5, 10 }, 4, "tau_waad 4.75: I");
	check_floats(gamma,
		     (float[]){ 1.75f, 1, 1.5f, 1.25f, 1, 1.25f, 1.25f, 1, 1, 1, 1.25f, 1.25f }, 12,
		     "tau_waad 4.75: gamma");
	/* tau_delta = 4.5 (tau_waad median 4.625): 2 and 3 have window max 4 < 4.5 -> not D even
	 * with low WAAD; 6 has 7 -> D, intro 5. D = {6}, I = {5} */
	p.tau_waad = NAN;
	p.tau_delta = 4.5;
	run12(&p, sets, gamma);
	check_members(sets, 12, D, (int[]){ 6 }, 1, "tau_delta 4.5: D");
	check_members(sets, 12, I, (int[]){ 5 }, 1, "tau_delta 4.5: I");
	check_floats(gamma,
		     (float[]){ 1.5f, 1, 1.5f, 1.5f, 1, 1.25f, 1.25f, 1, 1, 1, 1, 1.5f }, 12,
		     "tau_delta 4.5: gamma");
	/* both: tau_waad 1, tau_delta 0: only anchor 2 (WAAD .5) qualifies, intro 0 */
	p.tau_waad = 1.0;
	p.tau_delta = 0.0;
	run12(&p, sets, gamma);
	check_members(sets, 12, D, (int[]){ 2 }, 1, "both taus: D");
	check_members(sets, 12, I, (int[]){ 0 }, 1, "both taus: I");
	/* k = 1 with default taus: window = {t-1}. 2: Delta_1 .5 < 3.75 no; 3: Delta_2 4 -> D,
	 * intro 2; 6: Delta_5 7 -> D, intro 5; 11: WAAD too high. D = {3, 6}, I = {2, 5} */
	p.tau_waad = NAN;
	p.tau_delta = NAN;
	p.k = 1;
	run12(&p, sets, gamma);
	check_members(sets, 12, D, (int[]){ 3, 6 }, 2, "k 1: D");
	check_members(sets, 12, I, (int[]){ 2, 5 }, 2, "k 1: I");
	/* k = 0: every window empty -> no D, coupled = global */
	p.k = 0;
	run12(&p, sets, gamma);
	check_members(sets, 12, D | I, NULL, 0, "k 0: nothing dominated");
	check_floats(gamma, (float[]){ 1.5f, 1, 1.5f, 1.5f, 1, 1, 1.5f, 1, 1, 1, 1, 1.5f }, 12,
		     "k 0: gamma");
}

/* the RAND tokens of one random assignment of R tokens under seed */
static int random_set(int R, uint64_t seed, int *out, float *gamma_sum)
{
	struct credit_params p;
	float waad[100], fai[100], delta[100], gamma[100];
	uint8_t sets[100];
	struct rng rng;
	credit_params_default(&p);
	p.strategy = CREDIT_RANDOM;
	for (int t = 0; t < R; t++)
		waad[t] = fai[t] = (float)(t % 7);
	rng_init(&rng, seed);
	credit_assign(&p, R, waad, fai, NULL, NULL, &rng, delta, sets, gamma);
	int n = members(sets, R, CREDIT_IN_RAND, out);
	*gamma_sum = 0;
	for (int t = 0; t < R; t++) {
		*gamma_sum += gamma[t];
		CHECK(gamma[t] == ((sets[t] & CREDIT_IN_RAND) ? 1.5f : 1.0f), "random gamma at %d",
		      t);
		CHECK(!(sets[t] & (D | I | CREDIT_IN_ENT)), "random sets no D, I, ENT");
	}
	return n;
}

static void test_random(void)
{
	int a[100], b[100];
	float sa, sb;
	/* R = 10, q .4 -> 4 distinct tokens (members() lists each index once, in order), so the
	 * gammas sum to 10 + 4 * .5 = 12 */
	int na = random_set(10, 7, a, &sa), nb = random_set(10, 7, b, &sb);
	CHECK(na == 4, "random count %d", na);
	CHECK_NEAR(sa, 12.0, 1e-6, "random gamma sum");
	CHECK(nb == na && !memcmp(a, b, sizeof(int) * (size_t)na), "same seed, same set");
	/* R = 12 -> ceil(4.8) = 5 */
	CHECK(random_set(12, 7, a, &sa) == 5, "random count, R 12");
	/* R = 100 -> 40 tokens; two seeds agree with probability 1 / C(100, 40) */
	na = random_set(100, 1, a, &sa);
	nb = random_set(100, 2, b, &sb);
	CHECK(na == 40 && nb == 40, "random count, R 100: %d %d", na, nb);
	CHECK(memcmp(a, b, sizeof(int) * 40) != 0, "different seed, different set");
	/* the whole seeded stream: a third call with seed 1 repeats the first */
	int c[100];
	random_set(100, 1, c, &sb);
	CHECK(!memcmp(a, c, sizeof(int) * 40), "seed 1 reproduces");
}

static void test_entropy(void)
{
	/* R = 5, entropy .5 2 .25 2 1, q .4 -> 2 tokens: top = the 2s at 1, 3; bottom = .25 (2),
	 * .5 (0). WAAD / FAI as in the local/global case, so T_loc = {0, 3}, T_glob = {1, 2}. */
	float ent[5] = { 0.5f, 2, 0.25f, 2, 1 }, delta[5], gamma[5];
	uint8_t sets[5];
	struct credit_params p;
	credit_params_default(&p);
	p.strategy = CREDIT_ENTROPY;
	credit_assign(&p, 5, lg_waad, lg_fai, lg_ok, ent, NULL, delta, sets, gamma);
	check_sets(sets, (uint8_t[]){ L, G | CREDIT_IN_ENT, G, L | CREDIT_IN_ENT, 0 }, 5,
		   "entropy sets");
	check_floats(gamma, (float[]){ 1, 1.5f, 1, 1.5f, 1 }, 5, "entropy gamma");
	p.select = CREDIT_SELECT_BOTTOM;
	credit_assign(&p, 5, lg_waad, lg_fai, lg_ok, ent, NULL, delta, sets, gamma);
	check_members(sets, 5, CREDIT_IN_ENT, (int[]){ 0, 2 }, 2, "entropy bottom");
	check_floats(gamma, (float[]){ 1.5f, 1, 1.5f, 1, 1 }, 5, "entropy bottom gamma");
}

static void test_sign(void)
{
	struct credit_params p;
	credit_params_default(&p);
	CHECK(credit_gamma_for(&p, 1.5f, 0.3f) == 1.5f, "both, positive adv");
	CHECK(credit_gamma_for(&p, 1.5f, -0.3f) == 1.5f, "both, negative adv");
	p.sign = CREDIT_SIGN_POSITIVE;
	CHECK(credit_gamma_for(&p, 1.5f, 0.3f) == 1.5f, "positive, adv > 0");
	CHECK(credit_gamma_for(&p, 1.5f, 0.0f) == 1.5f, "positive, adv = 0 counts as >= 0");
	CHECK(credit_gamma_for(&p, 1.5f, -0.3f) == 1.0f, "positive, adv < 0 -> 1");
	p.sign = CREDIT_SIGN_NEGATIVE;
	CHECK(credit_gamma_for(&p, 1.25f, -0.3f) == 1.25f, "negative, adv < 0");
	CHECK(credit_gamma_for(&p, 1.25f, 0.0f) == 1.0f, "negative, adv = 0 -> 1");
	CHECK(credit_gamma_for(&p, 1.25f, 0.3f) == 1.0f, "negative, adv > 0 -> 1");
}

static void test_small_r(void)
{
	/* R = 1: Delta = 0; ceil(.4) = 1 token: T_loc = T_glob = {0}; coupled: median 3, the
	 * window is empty -> not dominated -> gamma 1.5 */
	float waad[1] = { 3 }, fai[1] = { 0.5f }, ent[1] = { 1 }, delta[1] = { -1 }, gamma[1];
	uint8_t sets[1], ok0[1] = { 0 };
	struct credit_params p;
	struct rng rng;
	rng_init(&rng, 3);
	credit_params_default(&p);
	enum credit_strategy all[6] = { CREDIT_NONE,	CREDIT_LOCAL,  CREDIT_GLOBAL,
					CREDIT_COUPLED, CREDIT_RANDOM, CREDIT_ENTROPY };
	float want[6] = { 1, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f };
	for (int i = 0; i < 6; i++) {
		p.strategy = all[i];
		credit_assign(&p, 1, waad, fai, NULL, ent, &rng, delta, sets, gamma);
		CHECK(delta[0] == 0.0f, "R 1: delta 0");
		CHECK((sets[0] & (L | G)) == (L | G), "R 1: sets %u", sets[0]);
		CHECK(gamma[0] == want[i], "R 1, strategy %d: gamma %g", i, (double)gamma[0]);
	}
	/* R = 1 with T(0) empty: no anchor, global gamma 1 */
	p.strategy = CREDIT_GLOBAL;
	credit_assign(&p, 1, waad, fai, ok0, NULL, NULL, delta, sets, gamma);
	CHECK(sets[0] == L && gamma[0] == 1.0f, "R 1, not fai_ok");
	/* R = 0: nothing written, no crash */
	p.strategy = CREDIT_COUPLED;
	gamma[0] = -1;
	credit_assign(&p, 0, waad, fai, NULL, NULL, NULL, delta, sets, gamma);
	CHECK(gamma[0] == -1.0f, "R 0 writes nothing");
	credit_delta(waad, 0, delta);
	CHECK(credit_top_q(waad, NULL, 0, 0.4, CREDIT_SELECT_TOP, L, sets) == 0, "R 0 top_q");
}

static void test_parse(void)
{
	enum credit_strategy s;
	const char *names[6] = { "none", "local", "global", "coupled", "random", "entropy" };
	enum credit_strategy want[6] = { CREDIT_NONE,	 CREDIT_LOCAL,  CREDIT_GLOBAL,
					 CREDIT_COUPLED, CREDIT_RANDOM, CREDIT_ENTROPY };
	for (int i = 0; i < 6; i++)
		CHECK(credit_strategy_parse(names[i], &s) == 0 && s == want[i], "strategy %s",
		      names[i]);
	s = CREDIT_LOCAL;
	CHECK(credit_strategy_parse("Coupled", &s) == -1 && s == CREDIT_LOCAL, "strategy rejects");
	CHECK(credit_strategy_parse("", &s) == -1, "strategy rejects empty");
	enum credit_sign g;
	CHECK(credit_sign_parse("both", &g) == 0 && g == CREDIT_SIGN_BOTH, "sign both");
	CHECK(credit_sign_parse("positive", &g) == 0 && g == CREDIT_SIGN_POSITIVE, "sign positive");
	CHECK(credit_sign_parse("negative", &g) == 0 && g == CREDIT_SIGN_NEGATIVE, "sign negative");
	CHECK(credit_sign_parse("pos", &g) == -1, "sign rejects");
	enum credit_select c;
	CHECK(credit_select_parse("top", &c) == 0 && c == CREDIT_SELECT_TOP, "select top");
	CHECK(credit_select_parse("bottom", &c) == 0 && c == CREDIT_SELECT_BOTTOM, "select bottom");
	CHECK(credit_select_parse("middle", &c) == -1, "select rejects");
	struct credit_params p;
	memset(&p, 0x5a, sizeof(p));
	credit_params_default(&p);
	CHECK(p.strategy == CREDIT_NONE && p.sign == CREDIT_SIGN_BOTH &&
		      p.select == CREDIT_SELECT_TOP, "default enums");
	CHECK(p.gamma_amp == 1.5 && p.top_q == 0.4 && p.alpha == 0.5 && p.k == 3, "default values");
	CHECK(isnan(p.tau_waad) && isnan(p.tau_delta), "default taus NAN");
}

int main(void)
{
	test_delta();
	test_top_q();
	test_local_global();
	test_coupled();
	test_coupled_taus();
	test_random();
	test_entropy();
	test_sign();
	test_small_r();
	test_parse();
	return check_done("test_credit");
}
