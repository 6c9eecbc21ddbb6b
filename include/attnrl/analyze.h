/*
 * analyze.h - the statistics of the paper's Section 4 analysis (docs/method.md section 11):
 * peaks of a per-token signal, the three linkages of its Table 2 (entropy at WAAD peaks,
 * receiver-head FAI peaks among global-head FAI peaks, FAI peaks at or right after a WAAD peak)
 * pooled over problems with bootstrap intervals, and Table 1's perturbation measure (Jaccard
 * overlap of content words). Pure C and pure functions: no I/O except analyze_print and the
 * JSON writers. Shapes: R response tokens of one response, index 0..R-1.
 *
 * One call of analyze_linkages covers one layer group (the paper's appendix reports the early,
 * middle and late third of the layers): the caller passes, per response, the arrays computed
 * from that group's heads, and calls it once per group; analyze_print takes the results of all
 * groups and prints them as one table.
 *
 * How a command feeds it (`attnrl analyze`, src/cmd_analyze_link.c):
 * - Roll out responses as training does (rollout.h) with statistics streamed (rollout_params.
 *   stats): rollout_batch.entropy gives the per-token entropy, sequence b's response token r at
 *   [b][prompt_len[b] + r]; the G responses of prompt i (b = i*G .. i*G+G-1) share problem i.
 * - Stream every layer of the model (credit.layers = 0,1,...,L-1), so that struct attnstats
 *   holds per-pair WAAD (waad, (S, Q, M)) and per-pair FAI sums (fai, (S, Q, M)) for all
 *   layers; a layer third is the pairs of layers [0, L/3), [L/3, 2L/3), [2L/3, L).
 * - Per third: attnstats_distances, then attnstats_group on that third's slice of d (pairs are
 *   layer-major: pair = sampled layer index * n_heads + head) give H_loc and H_glob; with the
 *   other pairs' group flags cleared, attnstats_finalize gives waad (over H_loc) and fai (over
 *   H_glob, the fai_glob input). fai_recv is the mean over the third's receiver pairs of the per-pair FAI
 *   (the sums divided by attnstats_t_count), the receiver pairs chosen as described at
 *   struct analyze_response.
 * - analyze_linkages per third, analyze_print and analyze_write_json over the three.
 * - Table 1: perturb the response at analyze_fai_extremes' top-k and bottom-k positions,
 *   regenerate, score each pair of texts with analyze_jaccard, summarise with
 *   analyze_perturb_summary.
 */
#ifndef ATTNRL_ANALYZE_H
#define ATTNRL_ANALYZE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- peaks ---- */

enum analyze_peak_kind {
	ANALYZE_PEAK_TOPQ = 0, /* the ceil(q * R) largest values (credit_top_q's rule) */
	ANALYZE_PEAK_LOCALMAX, /* x[i] > x[i-1], x[i] >= x[i+1], x[i] >= threshold */
};

struct analyze_peak_rule {
	enum analyze_peak_kind kind;
	double q;          /* TOPQ: share of the response's tokens (0.2) */
	double thr_q;      /* LOCALMAX: threshold = this quantile of the response's values (0.5) */
	double thr_abs;    /* LOCALMAX: an absolute threshold instead; NAN = use thr_q */
};

/* the default: TOPQ with q = 0.2 (thr_q 0.5, thr_abs NAN for LOCALMAX) */
void analyze_peak_rule_default(struct analyze_peak_rule *r);

/* peak[i] = 1 where x (R) has a peak under rule r, else 0; returns the number of peaks.
 * TOPQ: n = ceil(q * R) (within [0, R]), ties -> earlier position, NaN never a peak.
 * LOCALMAX: a missing neighbour (i = 0 or R-1) counts as lower, so the ends can be peaks; on a
 * plateau only its first token is a peak; NaN is never a peak; thr_q's quantile is the
 * linear-interpolated one (numpy's default) over the response's non-NaN values. */
int analyze_peaks(const float *x, int R, const struct analyze_peak_rule *r, uint8_t *peak);

/* the p-quantile of x (n values, NaN skipped), linear interpolation between order statistics:
 * h = (m - 1) p over the m sorted values; NAN when m = 0. scratch holds n floats. */
double analyze_quantile(const float *x, int n, double p, float *scratch);

/* ---- the linkages (Table 2) ---- */

/* one response's arrays for one layer group. Heads in attnrl's terms (docs/method.md
 * section 3): the sampled (layer, head) pairs are ranked by mean attention distance d.
 * - fai_glob: FAI averaged over H_glob, the highest-d pairs (attnstats_result.fai): heads
 *   that look far back; their FAI peaks are the anchors.
 * - fai_recv: FAI averaged over a second set, the receiver heads: pairs whose attention
 *   lands on few keys across the whole response (the vertical-stripe heads). attnrl streams
 *   one FAI sum vector per pair (attnstats.fai), so the caller picks that set itself, e.g.
 *   the pairs with the highest kurtosis of their per-pair FAI over the response; this module
 *   does not choose heads.
 * - waad: WAAD averaged over H_loc, the lowest-d pairs (attnstats_result.waad). */
struct analyze_response {
	int problem;           /* the problem (prompt) it answers, 0..n_problems-1 */
	int R;                 /* response tokens */
	const float *entropy;  /* (R) entropy of the distribution each token was sampled from */
	const float *waad;     /* (R) */
	const float *fai_glob; /* (R) */
	const float *fai_recv; /* (R) */
};

struct analyze_params {
	struct analyze_peak_rule peak; /* the rule for WAAD, global FAI and receiver FAI peaks */
	int n_shuffles;                /* shuffles of the FAI peaks per response (100); 0: their
					* exact expectation, |cover| / R per peak */
	uint64_t shuffle_seed;         /* 1 */
	int n_boot;                    /* bootstrap resamples of the problems (1000) */
	uint64_t boot_seed;            /* 2 */
	double level;                  /* interval level (0.95): percentiles (1-level)/2, (1+level)/2 */
};

void analyze_params_default(struct analyze_params *p);

/* a point estimate and its percentile bootstrap interval */
struct analyze_ci {
	double point, lo, hi;
};

/* one linkage: value, its baseline, lift = value / baseline; NAN where a denominator is 0 */
struct analyze_stat {
	struct analyze_ci value, baseline, lift;
	double n;   /* the value's denominator over all problems (peaks counted) */
	int n_boot; /* resamples where value, baseline and lift were all defined */
};

struct analyze_linkages {
	/* mean entropy at WAAD peaks; baseline: mean entropy over all response tokens */
	struct analyze_stat entropy;
	/* share of receiver FAI peaks that are global FAI peaks; baseline: global peak density */
	struct analyze_stat receiver;
	/* share of global FAI peaks at i with a WAAD peak at i or i-1; baseline: the same share
	 * for the FAI peaks' count drawn uniformly without replacement within the response */
	struct analyze_stat follow;
	double density_waad, density_glob, density_recv; /* peaks / tokens, pooled */
	double n_tokens;
	int n_problems, n_responses; /* problems with at least one response */
	double level;                /* of the intervals (analyze_params.level) */
};

/* the linkages of n responses over n_problems problems. Pooled: every quantity is a ratio of
 * sums over all tokens of all problems (not a mean of per-problem ratios). The interval
 * resamples the problems (those with a response) with replacement n_boot times and recomputes
 * the pooled ratios; the shuffle baseline of each problem is its mean over n_shuffles, drawn
 * once. 0, or -1 with one line in err (a bad problem index or R, out of memory). */
int analyze_linkages(const struct analyze_response *resp, int n, int n_problems,
		     const struct analyze_params *p, struct analyze_linkages *out, char *err,
		     size_t errlen);

/* the groups' linkages as an aligned table: one row per group and linkage, then densities */
void analyze_print(FILE *f, const char *const *labels, const struct analyze_linkages *res,
		   int n_groups);
/* one JSON line for one group: "group", counts, "level", densities, then per linkage L (entropy,
 * receiver, follow) L_value, L_value_lo, L_value_hi, L_baseline..., L_lift..., L_n, L_boot */
void analyze_write_json(FILE *f, const char *label, const struct analyze_linkages *r);

/* ---- perturbation (Table 1) ---- */

/* the default English stop words (NLTK's list without its apostrophe forms; analyze.c) */
extern const char *const analyze_stopwords_en[];
extern const int analyze_n_stopwords_en;

/* Jaccard overlap |A n B| / |A u B| of the content-word sets of texts a and b: words are
 * maximal runs of ASCII letters, digits and bytes >= 0x80, ASCII lower-cased; a word in stop
 * (n_stop lower-case entries; NULL = analyze_stopwords_en) is dropped. Both sets empty -> 1.
 * 0, or -1 on out of memory. */
int analyze_jaccard(const char *a, const char *b, const char *const *stop, int n_stop,
		    double *out);

/* the k positions in [lo, hi) with the largest fai (top) and the k with the smallest (bottom),
 * each in selection order (largest first / smallest first), ties -> earlier position, NaN
 * never chosen; top and bottom are chosen independently, so they overlap when 2k exceeds the
 * range. Returns how many each holds: min(k, non-NaN values in the range). */
int analyze_fai_extremes(const float *fai, int lo, int hi, int k, int *top, int *bottom);

struct analyze_perturb {
	int n;                 /* problems with both values defined */
	double mean_high;      /* mean Jaccard after perturbing high-FAI tokens (paper: 0.534) */
	double mean_low;       /* ... low-FAI tokens (paper: 0.631) */
	double frac_high_lower;/* share of problems with high < low, strictly (paper: 0.8714) */
};

/* per problem i one Jaccard for the high-FAI and one for the low-FAI perturbation (a caller
 * with several per problem passes their mean); a problem with a NaN in either is skipped */
void analyze_perturb_summary(const double *high, const double *low, int n_problems,
			     struct analyze_perturb *out);
void analyze_write_perturb_json(FILE *f, const struct analyze_perturb *r);

#endif
