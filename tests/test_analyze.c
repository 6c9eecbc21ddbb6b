/*
 * test_analyze.c - the Section 4 analysis statistics (analyze.h, docs/method.md section 11)
 * worked by hand: peaks under both rules (ceil, ties, plateaus, ends, thresholds), the
 * quantile, the three linkages' value / baseline / lift pooled as ratios of sums, the shuffle
 * baseline against its exact expectation, the bootstrap (collapsed for a repeated problem,
 * spanning two known problems), Jaccard with stop words, the FAI extremes, the perturbation
 * summary, the table and the JSON line. Every expected value is derived in a comment.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/analyze.h"
#include "attnrl/json.h"
#include "check.h"

/* the indices with peak[i] set, in order; returns how many */
static int members(const uint8_t *peak, int R, int *out)
{
	int n = 0;
	for (int i = 0; i < R; i++)
		if (peak[i])
			out[n++] = i;
	return n;
}

static void check_peaks(const float *x, int R, const struct analyze_peak_rule *r, const int *want,
			int n_want, const char *what)
{
	uint8_t peak[16];
	int got[16];
	int n = analyze_peaks(x, R, r, peak);
	int m = members(peak, R, got);
	CHECK(n == n_want && m == n_want, "%s: %d peaks (%d marked), want %d", what, n, m, n_want);
	for (int i = 0; i < n_want && i < m; i++)
		CHECK(got[i] == want[i], "%s: peak %d at %d, want %d", what, i, got[i], want[i]);
}

static void test_peaks_topq(void)
{
	struct analyze_peak_rule r;
	analyze_peak_rule_default(&r);
	CHECK(r.kind == ANALYZE_PEAK_TOPQ && r.q == 0.2, "default rule: top 20%%");
	/* R = 10, q = 0.2: ceil(2) = 2 peaks, the two 0.9s at 1 and 3 */
	const float x[10] = { 0.1f, 0.9f, 0.3f, 0.9f, 0.2f, 0.5f, 0.4f, 0.8f, 0.0f, 0.6f };
	check_peaks(x, 10, &r, (int[]){ 1, 3 }, 2, "top 20% of 10");
	/* q = 0.3: ceil(3) = 3: 0.9@1, 0.9@3, 0.8@7 */
	r.q = 0.3;
	check_peaks(x, 10, &r, (int[]){ 1, 3, 7 }, 3, "top 30% of 10");
	/* a tie at the cut: R = 5, q = 0.4 -> 2 of the three 0.7s (1, 3, 4): the earlier two */
	const float t[5] = { 0.2f, 0.7f, 0.4f, 0.7f, 0.7f };
	r.q = 0.4;
	check_peaks(t, 5, &r, (int[]){ 1, 3 }, 2, "tie at the cut");
	/* ceil, not round: R = 12, q = 0.2 -> 2.4 -> 3 peaks (round would give 2):
	 * 0.9@11, 0.8@0, then 0.7 at 4 and 6 tie -> 4 */
	const float c[12] = { 0.8f, 0.1f, 0.2f, 0.3f, 0.7f, 0.1f, 0.7f, 0.2f, 0.0f, 0.1f, 0.5f, 0.9f };
	r.q = 0.2;
	check_peaks(c, 12, &r, (int[]){ 0, 4, 11 }, 3, "ceil(2.4)");
	/* NaN is never a peak: R = 5, q = 0.4 -> 2; NaN at 0 skipped: 0.6@2, 0.5@4 */
	const float nn[5] = { NAN, 0.1f, 0.6f, 0.2f, 0.5f };
	r.q = 0.4;
	check_peaks(nn, 5, &r, (int[]){ 2, 4 }, 2, "NaN skipped");
}

static void test_peaks_localmax(void)
{
	/* x[i] > x[i-1], x[i] >= x[i+1], a missing neighbour lower:
	 *   i=0: 0.3 (no left) >= 0.1        -> candidate
	 *   i=2: 0.4 > 0.1, 0.4 >= 0.4        -> candidate (first of the 0.4 plateau)
	 *   i=3: 0.4 > 0.4? no
	 *   i=5: 0.6 > 0.2, 0.6 >= 0.6        -> candidate (first of the 0.6 plateau)
	 *   i=6, 7: not above the left one
	 *   i=9: 0.5 > 0.1, no right          -> candidate
	 * candidates 0, 2, 5, 9 */
	const float x[10] = { 0.3f, 0.1f, 0.4f, 0.4f, 0.2f, 0.6f, 0.6f, 0.6f, 0.1f, 0.5f };
	struct analyze_peak_rule r = { ANALYZE_PEAK_LOCALMAX, 0.2, 0.0, NAN };
	/* threshold the 0-quantile (the minimum 0.1): every candidate */
	check_peaks(x, 10, &r, (int[]){ 0, 2, 5, 9 }, 4, "local max, no threshold");
	/* sorted: 0.1 0.1 0.2 0.3 0.4 0.4 0.5 0.6 0.6 0.6.
	 * thr_q 0.5: h = 9 * 0.5 = 4.5 -> 0.4 + 0.5 (0.4 - 0.4) = 0.4: 0 (0.3) drops out */
	r.thr_q = 0.5;
	check_peaks(x, 10, &r, (int[]){ 2, 5, 9 }, 3, "local max, median threshold");
	/* thr_q 0.3: h = 2.7 -> 0.2 + 0.7 (0.3 - 0.2) = 0.27: 0.3 >= 0.27 keeps 0 */
	r.thr_q = 0.3;
	check_peaks(x, 10, &r, (int[]){ 0, 2, 5, 9 }, 4, "local max, 0.3-quantile threshold");
	/* thr_q 0.9: h = 8.1 -> 0.6 + 0.1 (0.6 - 0.6) = 0.6: only 5 */
	r.thr_q = 0.9;
	check_peaks(x, 10, &r, (int[]){ 5 }, 1, "local max, 0.9-quantile threshold");
	/* an absolute threshold 0.45 overrides thr_q: 5 (0.6) and 9 (0.5) */
	r.thr_abs = 0.45;
	check_peaks(x, 10, &r, (int[]){ 5, 9 }, 2, "local max, absolute threshold");
	/* R = 1: the lone token has no neighbours, and is >= the quantile of itself */
	r.thr_abs = NAN;
	r.thr_q = 0.5;
	check_peaks(x, 1, &r, (int[]){ 0 }, 1, "local max, R = 1");

	float s[10];
	CHECK_NEAR(analyze_quantile(x, 10, 0.3, s), 0.27, 1e-6, "quantile 0.3 (worked above)");
	CHECK_NEAR(analyze_quantile(x, 10, 1.0, s), 0.6, 1e-6, "quantile 1 = the maximum");
	const float nn[3] = { NAN, 2.0f, 1.0f };
	/* NaN skipped: sorted 1 2, p = 0.5: h = 0.5 -> 1.5 */
	CHECK_NEAR(analyze_quantile(nn, 3, 0.5, s), 1.5, 1e-12, "quantile without NaN");
	CHECK(isnan(analyze_quantile(nn, 1, 0.5, s)), "quantile of nothing is NaN");
}

/*
 * Problem A, R = 10, top 20% -> 2 peaks per signal:
 *   waad     peaks {1 (0.9), 5 (0.8)}
 *   fai_glob peaks {2 (0.9), 7 (0.8)}
 *   fai_recv peaks {2 (0.7), 4 (0.6)}
 *   entropy  0.5 2.0 0.5 1.0 0.5 1.0 0.5 1.0 0.5 0.5: sum 8.0 over 10 tokens; at the WAAD
 *            peaks 2.0 + 1.0 = 3.0 over 2
 *   cover (a WAAD peak at i or i-1) = {1, 2, 5, 6}, |cover| = 4
 * entropy linkage:  value 3/2 = 1.5, baseline 8/10 = 0.8, lift 1.875
 * receiver linkage: {2,4} n {2,7} = {2}: value 1/2, baseline 2/10 = 0.2, lift 2.5
 * follow linkage:   2 in cover, 7 not: value 1/2; exact shuffle baseline |cover|/R = 0.4 per
 *                   peak (2 * 0.4 = 0.8 hits over 2 peaks), lift 1.25
 */
static const float a_ent[10] = { 0.5f, 2.0f, 0.5f, 1.0f, 0.5f, 1.0f, 0.5f, 1.0f, 0.5f, 0.5f };
static const float a_ent2[10] = { 1.0f, 4.0f, 1.0f, 2.0f, 1.0f, 2.0f, 1.0f, 2.0f, 1.0f, 1.0f };
static const float a_waad[10] = { 0.1f, 0.9f, 0.2f, 0.3f, 0.1f, 0.8f, 0.2f, 0.1f, 0.3f, 0.2f };
static const float a_glob[10] = { 0.1f, 0.2f, 0.9f, 0.1f, 0.3f, 0.2f, 0.1f, 0.8f, 0.2f, 0.1f };
static const float a_recv[10] = { 0.0f, 0.1f, 0.7f, 0.2f, 0.6f, 0.1f, 0.0f, 0.3f, 0.1f, 0.2f };

/*
 * Problem C, R = 5, top 20% -> ceil(1) = 1 peak per signal:
 *   waad peak {1}, fai_glob peak {2}, fai_recv peak {2}; cover {1, 2}, |cover| = 2
 *   entropy 1 4 1 1 1: sum 8 over 5; at the WAAD peak 4 over 1
 */
static const float c_ent[5] = { 1.0f, 4.0f, 1.0f, 1.0f, 1.0f };
static const float c_waad[5] = { 0.1f, 0.5f, 0.2f, 0.3f, 0.1f };
static const float c_glob[5] = { 0.0f, 0.1f, 0.5f, 0.2f, 0.1f };
static const float c_recv[5] = { 0.0f, 0.1f, 0.5f, 0.0f, 0.0f };

static struct analyze_response resp_a(int problem, const float *ent)
{
	return (struct analyze_response){ problem, 10, ent, a_waad, a_glob, a_recv };
}

static void check_stat(const struct analyze_stat *s, double v, double b, double l, double tol,
		       const char *what)
{
	char w[96];
	snprintf(w, sizeof(w), "%s value", what);
	CHECK_NEAR(s->value.point, v, tol, w);
	snprintf(w, sizeof(w), "%s baseline", what);
	CHECK_NEAR(s->baseline.point, b, tol, w);
	snprintf(w, sizeof(w), "%s lift", what);
	CHECK_NEAR(s->lift.point, l, tol * 4, w);
}

/* an interval collapsed onto its point */
static void check_collapsed(const struct analyze_ci *c, const char *what)
{
	CHECK(fabs(c->lo - c->point) <= 1e-12 && fabs(c->hi - c->point) <= 1e-12,
	      "%s: [%.17g, %.17g] around %.17g", what, c->lo, c->hi, c->point);
}

static void test_linkages_one(void)
{
	struct analyze_params p;
	analyze_params_default(&p);
	p.n_shuffles = 0;
	p.n_boot = 200;
	struct analyze_response r = resp_a(0, a_ent);
	struct analyze_linkages L;
	char err[128] = "";
	CHECK(analyze_linkages(&r, 1, 1, &p, &L, err, sizeof(err)) == 0, "one response: %s", err);
	check_stat(&L.entropy, 1.5, 0.8, 1.875, 1e-6, "A entropy");
	check_stat(&L.receiver, 0.5, 0.2, 2.5, 1e-12, "A receiver");
	check_stat(&L.follow, 0.5, 0.4, 1.25, 1e-12, "A follow");
	CHECK(L.entropy.n == 2 && L.receiver.n == 2 && L.follow.n == 2, "peaks counted");
	CHECK_NEAR(L.density_waad, 0.2, 1e-12, "WAAD density 2/10");
	CHECK_NEAR(L.density_glob, 0.2, 1e-12, "global density 2/10");
	CHECK_NEAR(L.density_recv, 0.2, 1e-12, "receiver density 2/10");
	CHECK(L.n_problems == 1 && L.n_responses == 1 && L.n_tokens == 10, "counts");
	/* one problem: every resample is that problem, every interval is the point */
	check_collapsed(&L.entropy.value, "one problem, entropy value");
	check_collapsed(&L.follow.lift, "one problem, follow lift");
	CHECK(L.entropy.n_boot == 200, "200 resamples, %d", L.entropy.n_boot);
}

/* three problems with the same response: any resample has the same sums in some order, so
 * all nine intervals collapse onto the points, which are problem A's */
static void test_linkages_repeated(void)
{
	struct analyze_params p;
	analyze_params_default(&p);
	p.n_shuffles = 0;
	struct analyze_response r[3] = { resp_a(0, a_ent), resp_a(1, a_ent), resp_a(2, a_ent) };
	struct analyze_linkages L;
	char err[128] = "";
	CHECK(analyze_linkages(r, 3, 3, &p, &L, err, sizeof(err)) == 0, "repeated: %s", err);
	check_stat(&L.entropy, 1.5, 0.8, 1.875, 1e-6, "repeated entropy");
	const struct analyze_stat *st[3] = { &L.entropy, &L.receiver, &L.follow };
	for (int l = 0; l < 3; l++) {
		check_collapsed(&st[l]->value, "repeated value");
		check_collapsed(&st[l]->baseline, "repeated baseline");
		check_collapsed(&st[l]->lift, "repeated lift");
	}
}

/*
 * Problems A (entropy as above) and B (same attention, entropy doubled): B's entropy value is
 * 6/2 = 3.0, baseline 16/10 = 1.6. A resample of two problems is AA, AB or BB (AB with
 * probability 1/2): pooled values 1.5, 9/4 = 2.25, 3.0; baselines 0.8, 24/20 = 1.2, 1.6; lift
 * always 1.875. With 1000 resamples, AA and BB each come ~250 times (far over the 25 that the
 * 2.5% and 97.5% percentiles need), so the value interval is exactly [1.5, 3.0], the baseline
 * interval [0.8, 1.6], and the lift interval collapses on 1.875. The point: (3+6)/(2+2) = 2.25.
 */
static void test_linkages_two(void)
{
	struct analyze_params p;
	analyze_params_default(&p);
	p.n_shuffles = 0;
	struct analyze_response r[2] = { resp_a(0, a_ent), resp_a(1, a_ent2) };
	struct analyze_linkages L;
	char err[128] = "";
	CHECK(analyze_linkages(r, 2, 2, &p, &L, err, sizeof(err)) == 0, "two: %s", err);
	check_stat(&L.entropy, 2.25, 1.2, 1.875, 1e-6, "A+B entropy");
	CHECK_NEAR(L.entropy.value.lo, 1.5, 1e-6, "value interval low = A");
	CHECK_NEAR(L.entropy.value.hi, 3.0, 1e-6, "value interval high = B");
	CHECK_NEAR(L.entropy.baseline.lo, 0.8, 1e-6, "baseline interval low = A");
	CHECK_NEAR(L.entropy.baseline.hi, 1.6, 1e-6, "baseline interval high = B");
	CHECK_NEAR(L.entropy.lift.lo, 1.875, 1e-6, "lift interval low");
	CHECK_NEAR(L.entropy.lift.hi, 1.875, 1e-6, "lift interval high");
	CHECK(L.entropy.n_boot == 1000, "every resample defined: %d", L.entropy.n_boot);
	/* the same seed, the same interval; another seed, still [1.5, 3.0] */
	struct analyze_linkages L2;
	analyze_linkages(r, 2, 2, &p, &L2, err, sizeof(err));
	CHECK(L2.entropy.value.lo == L.entropy.value.lo && L2.entropy.value.hi == L.entropy.value.hi,
	      "bootstrap deterministic");
	p.boot_seed = 77;
	analyze_linkages(r, 2, 2, &p, &L2, err, sizeof(err));
	CHECK_NEAR(L2.entropy.value.lo, 1.5, 1e-6, "another seed: low");
	CHECK_NEAR(L2.entropy.value.hi, 3.0, 1e-6, "another seed: high");
}

/*
 * Pooling is a ratio of sums. Problem 0 has two responses, A and C; problem 1 has none (left
 * out of the count and the resamples); problem 2 has C.
 * Sums, problem 0 (A + C): entropy at WAAD peaks 3 + 4 = 7 over 2 + 1 = 3 peaks, all tokens
 * 8 + 8 = 16 over 15; receiver both 1 + 1 = 2 of 2 + 1 = 3; global peaks 3; follow hits
 * 1 + 1 = 2 (C's global peak 2 is in its cover {1, 2}); exact shuffle hits 2*4/10 + 1*2/5 =
 * 1.2. Problem 2 (C): 4/1, 8/5, 1/1, 1 peak, hit 1, shuffle 0.4.
 * Pooled over both:
 *   entropy:  (7 + 4) / (3 + 1) = 2.75;  baseline (16 + 8) / (15 + 5) = 1.2;  lift 2.2916667
 *             (the mean of per-problem ratios would be (7/3 + 4) / 2 = 3.1666667)
 *   receiver: (2 + 1) / (3 + 1) = 0.75;  baseline (3 + 1) / 20 = 0.2;  lift 3.75
 *   follow:   (2 + 1) / 4 = 0.75;  baseline (1.2 + 0.4) / 4 = 0.4;  lift 1.875
 *   densities: WAAD 4/20, global 4/20, receiver 4/20 = 0.2 each
 */
static void test_linkages_pooled(void)
{
	struct analyze_params p;
	analyze_params_default(&p);
	p.n_shuffles = 0;
	p.n_boot = 50;
	struct analyze_response r[3] = {
		resp_a(0, a_ent),
		{ 0, 5, c_ent, c_waad, c_glob, c_recv },
		{ 2, 5, c_ent, c_waad, c_glob, c_recv },
	};
	struct analyze_linkages L;
	char err[128] = "";
	CHECK(analyze_linkages(r, 3, 3, &p, &L, err, sizeof(err)) == 0, "pooled: %s", err);
	check_stat(&L.entropy, 2.75, 1.2, 2.75 / 1.2, 1e-6, "pooled entropy");
	check_stat(&L.receiver, 0.75, 0.2, 3.75, 1e-12, "pooled receiver");
	check_stat(&L.follow, 0.75, 0.4, 1.875, 1e-12, "pooled follow");
	CHECK_NEAR(L.density_waad, 0.2, 1e-12, "pooled WAAD density");
	CHECK(L.n_problems == 2 && L.n_responses == 3 && L.n_tokens == 20,
	      "problems with a response: %d, responses %d, tokens %g", L.n_problems,
	      L.n_responses, L.n_tokens);
	CHECK(L.entropy.value.lo <= L.entropy.value.point && L.entropy.value.point <= L.entropy.value.hi,
	      "point inside its interval");
}

/*
 * The shuffle baseline against its exact expectation. R = 5, q = 0.4 -> 2 peaks each:
 * WAAD peaks {0 (0.9), 4 (0.8)}, cover {0, 1, 4} (|cover| = 3); global FAI peaks {1, 3}
 * (1 in the cover: value 1/2). Two positions drawn from 5 without replacement: of the
 * C(5,2) = 10 pairs, C(3,2) = 3 lie in the cover (2 hits), 3 * 2 = 6 have one (1 hit), 1 has
 * none: E[hits] = (3*2 + 6*1) / 10 = 1.2, share 0.6 = |cover| / R. Per shuffle the share has
 * variance 0.09 (hypergeometric: 2 * 0.6 * 0.4 * 3/4 / 4), so the mean of 20000 shuffles has
 * sd 0.0021: tolerance 0.01 (almost 5 sd).
 */
static void test_shuffle(void)
{
	static const float ent[5] = { 1, 1, 1, 1, 1 };
	static const float waad[5] = { 0.9f, 0.1f, 0.2f, 0.0f, 0.8f };
	static const float glob[5] = { 0.1f, 0.9f, 0.2f, 0.8f, 0.0f };
	struct analyze_response r = { 0, 5, ent, waad, glob, glob };
	struct analyze_params p;
	analyze_params_default(&p);
	p.peak.q = 0.4;
	p.n_boot = 0;
	struct analyze_linkages exact, s1, s2, s3;
	char err[128] = "";
	p.n_shuffles = 0;
	analyze_linkages(&r, 1, 1, &p, &exact, err, sizeof(err));
	CHECK_NEAR(exact.follow.value.point, 0.5, 1e-12, "follow value 1/2");
	CHECK_NEAR(exact.follow.baseline.point, 0.6, 1e-12, "exact shuffle baseline 3/5");
	p.n_shuffles = 20000;
	CHECK(analyze_linkages(&r, 1, 1, &p, &s1, err, sizeof(err)) == 0, "shuffles: %s", err);
	CHECK_NEAR(s1.follow.baseline.point, 0.6, 0.01, "20000 shuffles near 0.6");
	CHECK(s1.follow.baseline.point != 0.6, "shuffles are drawn (%.17g)", s1.follow.baseline.point);
	analyze_linkages(&r, 1, 1, &p, &s2, err, sizeof(err));
	CHECK(s1.follow.baseline.point == s2.follow.baseline.point, "same seed, same baseline");
	p.shuffle_seed = 99;
	analyze_linkages(&r, 1, 1, &p, &s3, err, sizeof(err));
	CHECK(s3.follow.baseline.point != s1.follow.baseline.point, "another seed, another draw");
	CHECK_NEAR(s3.follow.baseline.point, 0.6, 0.01, "another seed near 0.6 too");
	/* no resamples: the intervals are NaN */
	CHECK(isnan(s1.follow.value.lo) && s1.follow.n_boot == 0, "n_boot 0: no interval");
}

static void test_linkages_errors(void)
{
	struct analyze_params p;
	analyze_params_default(&p);
	struct analyze_response r = resp_a(5, a_ent);
	struct analyze_linkages L;
	char err[128] = "";
	CHECK(analyze_linkages(&r, 1, 3, &p, &L, err, sizeof(err)) == -1, "problem out of range");
	CHECK(strstr(err, "problem 5 outside 0..2") != NULL, "error line: %s", err);
	r.problem = 0;
	r.waad = NULL;
	CHECK(analyze_linkages(&r, 1, 3, &p, &L, err, sizeof(err)) == -1, "missing array");
	/* no responses: zero counts, NaN ratios, no interval */
	CHECK(analyze_linkages(&r, 0, 3, &p, &L, err, sizeof(err)) == 0, "no responses: %s", err);
	CHECK(L.n_problems == 0 && isnan(L.entropy.value.point) && isnan(L.entropy.value.lo),
	      "no responses: NaN");
}

static void jaccard_is(const char *a, const char *b, const char *const *stop, int n_stop,
		       double want, const char *what)
{
	double j = -1;
	CHECK(analyze_jaccard(a, b, stop, n_stop, &j) == 0, "%s: returned an error", what);
	CHECK_NEAR(j, want, 1e-12, what);
}

static void test_jaccard(void)
{
	CHECK(analyze_n_stopwords_en == 153, "153 stop words, %d", analyze_n_stopwords_en);
	/* a: the cat sat on the mat -> {cat, sat, mat} (the, on dropped)
	 * b: a cat is sitting on a red mat -> {cat, sitting, red, mat} (a, is, on dropped)
	 * common {cat, mat} = 2, union {cat, sat, mat, sitting, red} = 5: 0.4 */
	jaccard_is("The cat sat on the mat.", "A cat is sitting on a red mat!", NULL, 0, 0.4,
		   "cat and mat");
	/* case, digits, punctuation: {x, 12} ("so" dropped) vs {x, 12} ("then", "is"): 1 */
	jaccard_is("x = 12, so X=12.", "Then x is 12", NULL, 0, 1.0, "x and 12");
	/* the apostrophe splits: don, t dropped: {stop} vs {stop} */
	jaccard_is("Don't stop", "stop", NULL, 0, 1.0, "apostrophe");
	/* both sets empty -> 1; one empty -> 0 / 1 = 0 */
	jaccard_is("the of and", "", NULL, 0, 1.0, "both empty");
	jaccard_is("the", "cat", NULL, 0, 0.0, "one empty");
	/* a byte >= 0x80 is part of a word: {naïve, plan} vs {naive, plan}: 1/3 */
	jaccard_is("a na\xc3\xafve plan", "the naive plan", NULL, 0, 1.0 / 3, "UTF-8 word");
	/* the caller's list {cat}: {the, sat} vs {a, sat}: 1/3 */
	const char *const mine[] = { "cat" };
	jaccard_is("The cat sat", "a cat sat", mine, 1, 1.0 / 3, "own stop list");
	/* repeats count once: {step, two} vs {step}: 1/2 */
	jaccard_is("step two step two", "step step step", NULL, 0, 0.5, "sets, not bags");
}

static void test_extremes(void)
{
	/* the valid range [0, 7) leaves out the last token; NaN at 6 never chosen.
	 * top: 0.9@1, 0.9@3 (tie: earlier first), 0.5@0, 0.3@5, 0.1@2, 0.1@4
	 * bottom: 0.1@2, 0.1@4, 0.3@5, 0.5@0, ... */
	const float fai[8] = { 0.5f, 0.9f, 0.1f, 0.9f, 0.1f, 0.3f, NAN, 0.7f };
	int top[8], bot[8];
	CHECK(analyze_fai_extremes(fai, 0, 7, 2, top, bot) == 2, "k = 2");
	CHECK(top[0] == 1 && top[1] == 3, "top 2: %d %d", top[0], top[1]);
	CHECK(bot[0] == 2 && bot[1] == 4, "bottom 2: %d %d", bot[0], bot[1]);
	CHECK(analyze_fai_extremes(fai, 0, 7, 3, top, bot) == 3, "k = 3");
	CHECK(top[2] == 0 && bot[2] == 5, "third: top %d, bottom %d", top[2], bot[2]);
	/* k beyond the range: the 6 non-NaN positions */
	int n = analyze_fai_extremes(fai, 0, 7, 10, top, bot);
	CHECK(n == 6, "k = 10: %d", n);
	const int want[6] = { 1, 3, 0, 5, 2, 4 };
	for (int i = 0; i < 6 && i < n; i++)
		CHECK(top[i] == want[i], "top[%d] = %d, want %d", i, top[i], want[i]);
	/* the range [5, 8) holds 0.3@5, NaN@6, 0.7@7: top 7, bottom 5 */
	CHECK(analyze_fai_extremes(fai, 5, 8, 1, top, bot) == 1 && top[0] == 7 && bot[0] == 5,
	      "sub-range");
	CHECK(analyze_fai_extremes(fai, 3, 3, 2, top, bot) == 0, "empty range");
}

/* high 0.5 0.6 0.4 NaN 0.7, low 0.6 0.6 0.5 0.9 0.6: problem 3 skipped; means
 * (0.5+0.6+0.4+0.7)/4 = 0.55 and (0.6+0.6+0.5+0.6)/4 = 0.575; high < low at 0 and 2 (the tie
 * at 1 does not count): 2/4 */
static void test_perturb(void)
{
	const double high[5] = { 0.5, 0.6, 0.4, NAN, 0.7 };
	const double low[5] = { 0.6, 0.6, 0.5, 0.9, 0.6 };
	struct analyze_perturb s;
	analyze_perturb_summary(high, low, 5, &s);
	CHECK(s.n == 4, "4 problems, %d", s.n);
	CHECK_NEAR(s.mean_high, 0.55, 1e-12, "mean high");
	CHECK_NEAR(s.mean_low, 0.575, 1e-12, "mean low");
	CHECK_NEAR(s.frac_high_lower, 0.5, 1e-12, "high < low");
	analyze_perturb_summary(high, low, 0, &s);
	CHECK(s.n == 0 && isnan(s.mean_high), "no problems: NaN");
}

/* the JSON line reads back with the numbers; the table names the linkages and densities */
static void test_output(void)
{
	struct analyze_params p;
	analyze_params_default(&p);
	p.n_shuffles = 0;
	p.n_boot = 20;
	struct analyze_response r = resp_a(0, a_ent);
	struct analyze_linkages L[2];
	char err[128];
	analyze_linkages(&r, 1, 1, &p, &L[0], err, sizeof(err));
	L[1] = L[0];
	char buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	analyze_write_json(f, "middle", &L[0]);
	fclose(f);
	struct json *j = json_parse(buf, strlen(buf), err, sizeof(err));
	CHECK(j != NULL, "JSON parses: %s", err);
	CHECK(json_str(json_get(j, "group")) && !strcmp(json_str(json_get(j, "group")), "middle"),
	      "group");
	CHECK_NEAR(json_num(json_get(j, "entropy_value")), 1.5, 1e-6, "json entropy value");
	CHECK_NEAR(json_num(json_get(j, "receiver_lift_hi")), 2.5, 1e-12, "json receiver lift hi");
	CHECK_NEAR(json_num(json_get(j, "follow_baseline")), 0.4, 1e-12, "json follow baseline");
	CHECK_NEAR(json_num(json_get(j, "density_glob")), 0.2, 1e-12, "json density");
	CHECK(json_num(json_get(j, "follow_boot")) == 20, "json resamples");
	json_free(j);

	struct analyze_perturb s = { 70, 0.534, 0.631, 0.8714 };
	f = fmemopen(buf, sizeof(buf) - 1, "w");
	analyze_write_perturb_json(f, &s);
	fclose(f);
	j = json_parse(buf, strlen(buf), err, sizeof(err));
	CHECK(j && json_num(json_get(j, "frac_high_lower")) == 0.8714, "perturb JSON: %s", buf);
	json_free(j);

	const char *labels[2] = { "early", "late" };
	memset(buf, 0, sizeof(buf));
	f = fmemopen(buf, sizeof(buf) - 1, "w");
	analyze_print(f, labels, L, 2);
	fclose(f);
	CHECK(strstr(buf, "entropy at WAAD peaks") && strstr(buf, "late"), "table rows:\n%s", buf);
	CHECK(strstr(buf, "20.0%") != NULL, "table densities:\n%s", buf);
}

int main(void)
{
	test_peaks_topq();
	test_peaks_localmax();
	test_linkages_one();
	test_linkages_repeated();
	test_linkages_two();
	test_linkages_pooled();
	test_shuffle();
	test_linkages_errors();
	test_jaccard();
	test_extremes();
	test_perturb();
	test_output();
	return check_done("test_analyze");
}
