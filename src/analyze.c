/*
 * analyze.c - peaks, the Table 2 linkages with bootstrap intervals, and Table 1's Jaccard
 * measure (analyze.h, docs/method.md section 11).
 *
 * Choices where the paper is silent:
 * - Peaks: top 20% by default (TopQ with credit_top_q's rounding ceil(q R) and ties), the
 *   paper's baselines imply WAAD peaks on ~20% and global FAI peaks on ~22% of the tokens.
 * - Pooling is a ratio of sums over all problems' tokens. Each problem's shuffle baseline is
 *   the mean number of hits over its shuffles, computed once; the bootstrap resamples the
 *   per-problem sums, so a resample costs O(problems), not O(tokens).
 * - A ratio with a zero denominator is NAN (never inf); a resample where any of a linkage's
 *   value, baseline or lift is NAN is left out of that linkage's interval.
 * - n_shuffles 0 replaces the shuffles by their exact expectation: a position drawn uniformly
 *   is in the cover (a WAAD peak at i or i-1) with probability |cover| / R, so k peaks hit
 *   k |cover| / R on average, without replacement as with it.
 * - Streams: response i's shuffles draw from rng_init3(shuffle_seed, i, 0), the bootstrap
 *   from rng_init(boot_seed); the same inputs and seeds give the same numbers.
 * analyze_linkages allocates its scratch once per call, sized by the longest response, the
 * problem count and n_boot; analyze_peaks allocates R entries per call, as credit_top_q does.
 */
#include "attnrl/analyze.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/credit.h"
#include "attnrl/json.h"
#include "attnrl/rng.h"

void analyze_peak_rule_default(struct analyze_peak_rule *r)
{
	r->kind = ANALYZE_PEAK_TOPQ;
	r->q = 0.2;
	r->thr_q = 0.5;
	r->thr_abs = NAN;
}

void analyze_params_default(struct analyze_params *p)
{
	analyze_peak_rule_default(&p->peak);
	p->n_shuffles = 100;
	p->shuffle_seed = 1;
	p->n_boot = 1000;
	p->boot_seed = 2;
	p->level = 0.95;
}

static int float_cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

static int double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* type-7 quantile of m sorted values */
static double quantile_sorted_d(const double *s, int m, double p)
{
	if (m <= 0)
		return NAN;
	double h = (m - 1) * (p < 0 ? 0 : p > 1 ? 1 : p);
	int lo = (int)floor(h);
	if (lo >= m - 1)
		return s[m - 1];
	return s[lo] + (h - lo) * (s[lo + 1] - s[lo]);
}

double analyze_quantile(const float *x, int n, double p, float *scratch)
{
	int m = 0;
	for (int i = 0; i < n; i++)
		if (!isnan(x[i]))
			scratch[m++] = x[i];
	if (m == 0)
		return NAN;
	qsort(scratch, (size_t)m, sizeof(*scratch), float_cmp);
	double h = (m - 1) * (p < 0 ? 0 : p > 1 ? 1 : p);
	int lo = (int)floor(h);
	if (lo >= m - 1)
		return scratch[m - 1];
	return scratch[lo] + (h - lo) * ((double)scratch[lo + 1] - scratch[lo]);
}

/* local maxima at or above thr; a missing neighbour is lower */
static int peaks_localmax(const float *x, int R, double thr, uint8_t *peak)
{
	int n = 0;
	for (int i = 0; i < R; i++) {
		int up = i == 0 || x[i] > x[i - 1];
		int down = i == R - 1 || x[i] >= x[i + 1];
		peak[i] = !isnan(x[i]) && up && down && x[i] >= thr;
		n += peak[i];
	}
	return n;
}

int analyze_peaks(const float *x, int R, const struct analyze_peak_rule *r, uint8_t *peak)
{
	if (R <= 0)
		return 0;
	memset(peak, 0, (size_t)R);
	if (r->kind == ANALYZE_PEAK_TOPQ)
		return credit_top_q(x, NULL, R, r->q, CREDIT_SELECT_TOP, 1, peak);
	double thr = r->thr_abs;
	if (isnan(thr)) {
		float *s = malloc((size_t)R * sizeof(*s));
		if (!s) {
			fprintf(stderr, "%s:%d: analyze: out of memory (R = %d)\n", __FILE__,
				__LINE__, R);
			abort();
		}
		thr = analyze_quantile(x, R, r->thr_q, s);
		free(s);
	}
	return peaks_localmax(x, R, thr, peak);
}

/* ---- linkages ---- */

/* one problem's sums, all responses of it together */
struct sums {
	double ent_peak, n_waad;  /* entropy summed over WAAD peaks; WAAD peaks */
	double ent_all, n_tok;    /* entropy summed over all tokens; tokens */
	double n_recv, n_both;    /* receiver peaks; those that are also global peaks */
	double n_glob;            /* global FAI peaks */
	double hit, hit_shuf;     /* global peaks at/after a WAAD peak; the same, shuffled (mean) */
};

static double ratio(double a, double b)
{
	return b != 0 ? a / b : NAN;
}

/* value and baseline of the three linkages from pooled sums: v[linkage][0 value, 1 baseline] */
static void sums_ratios(const struct sums *s, double v[3][2])
{
	v[0][0] = ratio(s->ent_peak, s->n_waad);
	v[0][1] = ratio(s->ent_all, s->n_tok);
	v[1][0] = ratio(s->n_both, s->n_recv);
	v[1][1] = ratio(s->n_glob, s->n_tok);
	v[2][0] = ratio(s->hit, s->n_glob);
	v[2][1] = ratio(s->hit_shuf, s->n_glob);
}

static void sums_add(struct sums *a, const struct sums *b)
{
	a->ent_peak += b->ent_peak;
	a->n_waad += b->n_waad;
	a->ent_all += b->ent_all;
	a->n_tok += b->n_tok;
	a->n_recv += b->n_recv;
	a->n_both += b->n_both;
	a->n_glob += b->n_glob;
	a->hit += b->hit;
	a->hit_shuf += b->hit_shuf;
}

/* cover[i] = 1 where a WAAD peak sits at i or i-1 */
static void follow_cover(const uint8_t *pw, int R, uint8_t *cover)
{
	for (int i = 0; i < R; i++)
		cover[i] = pw[i] || (i > 0 && pw[i - 1]);
}

/* the exact mean of shuffle_hits: each drawn position is uniform over 0..R-1, so k |C| / R */
static double cover_expectation(const uint8_t *cover, int R, int k)
{
	int c = 0;
	for (int i = 0; i < R; i++)
		c += cover[i];
	return R > 0 ? (double)k * c / R : 0;
}

/* mean hits of k positions drawn without replacement from 0..R-1 (partial Fisher-Yates) */
static double shuffle_hits(const uint8_t *cover, int R, int k, int n_shuffles, struct rng *g,
			   int *idx)
{
	if (k <= 0)
		return 0;
	double total = 0;
	for (int s = 0; s < n_shuffles; s++) {
		for (int i = 0; i < R; i++)
			idx[i] = i;
		for (int j = 0; j < k; j++) {
			int r = (int)rng_range(g, j, R - 1);
			int t = idx[j];
			idx[j] = idx[r];
			idx[r] = t;
			total += cover[idx[j]];
		}
	}
	return total / n_shuffles;
}

struct scratch {
	uint8_t *pw, *pg, *pr, *cover; /* (R) WAAD, global, receiver peaks; follow cover */
	int *idx;                      /* (R) shuffle positions */
};

/* adds response i's sums into its problem's */
static void response_sums(const struct analyze_response *a, int i, const struct analyze_params *p,
			  struct scratch *w, struct sums *s)
{
	int R = a->R;
	s->n_waad += analyze_peaks(a->waad, R, &p->peak, w->pw);
	s->n_glob += analyze_peaks(a->fai_glob, R, &p->peak, w->pg);
	s->n_recv += analyze_peaks(a->fai_recv, R, &p->peak, w->pr);
	follow_cover(w->pw, R, w->cover);
	int k = 0;
	for (int t = 0; t < R; t++) {
		s->ent_all += a->entropy[t];
		if (w->pw[t])
			s->ent_peak += a->entropy[t];
		s->n_both += w->pr[t] && w->pg[t];
		s->hit += w->pg[t] && w->cover[t];
		k += w->pg[t];
	}
	s->n_tok += R;
	if (p->n_shuffles <= 0) {
		s->hit_shuf += cover_expectation(w->cover, R, k);
		return;
	}
	struct rng g;
	rng_init3(&g, p->shuffle_seed, (uint64_t)i, 0);
	s->hit_shuf += shuffle_hits(w->cover, R, k, p->n_shuffles, &g, w->idx);
}

static int check_input(const struct analyze_response *resp, int n, int n_problems, int *max_r,
		       char *err, size_t errlen)
{
	*max_r = 0;
	for (int i = 0; i < n; i++) {
		const struct analyze_response *a = &resp[i];
		if (a->problem < 0 || a->problem >= n_problems) {
			snprintf(err, errlen, "analyze: response %d: problem %d outside 0..%d", i,
				 a->problem, n_problems - 1);
			return -1;
		}
		if (a->R < 0 || (a->R > 0 && (!a->entropy || !a->waad || !a->fai_glob ||
					      !a->fai_recv))) {
			snprintf(err, errlen, "analyze: response %d: R = %d or an array missing", i,
				 a->R);
			return -1;
		}
		if (a->R > *max_r)
			*max_r = a->R;
	}
	return 0;
}

/* draws n_boot resamples of the m problems' sums; boot[(b * 3 + linkage) * 3 + j], j = value,
 * baseline, lift */
static void bootstrap(const struct sums *ps, int m, const struct analyze_params *p, double *boot)
{
	struct rng g;
	rng_init(&g, p->boot_seed);
	for (int b = 0; b < p->n_boot; b++) {
		struct sums tot = { 0 };
		for (int j = 0; j < m; j++)
			sums_add(&tot, &ps[rng_range(&g, 0, m - 1)]);
		double v[3][2];
		sums_ratios(&tot, v);
		for (int l = 0; l < 3; l++) {
			double *o = &boot[((size_t)b * 3 + l) * 3];
			o[0] = v[l][0];
			o[1] = v[l][1];
			o[2] = ratio(v[l][0], v[l][1]);
		}
	}
}

/* the percentile interval of linkage l over the resamples where all three are defined */
static void boot_interval(const double *boot, int n_boot, int l, double level, double *col,
			  struct analyze_stat *st)
{
	struct analyze_ci *ci[3] = { &st->value, &st->baseline, &st->lift };
	for (int j = 0; j < 3; j++) {
		int m = 0;
		for (int b = 0; b < n_boot; b++) {
			const double *o = &boot[((size_t)b * 3 + l) * 3];
			if (!isnan(o[0]) && !isnan(o[1]) && !isnan(o[2]))
				col[m++] = o[j];
		}
		qsort(col, (size_t)m, sizeof(*col), double_cmp);
		ci[j]->lo = quantile_sorted_d(col, m, (1 - level) / 2);
		ci[j]->hi = quantile_sorted_d(col, m, (1 + level) / 2);
		st->n_boot = m;
	}
}

/* point estimates, densities and counts from the pooled sums */
static void linkages_point(const struct sums *tot, struct analyze_linkages *out)
{
	double v[3][2];
	sums_ratios(tot, v);
	struct analyze_stat *st[3] = { &out->entropy, &out->receiver, &out->follow };
	double den[3] = { tot->n_waad, tot->n_recv, tot->n_glob };
	for (int l = 0; l < 3; l++) {
		st[l]->value.point = v[l][0];
		st[l]->baseline.point = v[l][1];
		st[l]->lift.point = ratio(v[l][0], v[l][1]);
		st[l]->n = den[l];
	}
	out->density_waad = ratio(tot->n_waad, tot->n_tok);
	out->density_glob = ratio(tot->n_glob, tot->n_tok);
	out->density_recv = ratio(tot->n_recv, tot->n_tok);
	out->n_tokens = tot->n_tok;
}

/* sums per problem, then the problems that have a response packed to the front; returns
 * how many */
static int problem_sums(const struct analyze_response *resp, int n, int n_problems,
			const struct analyze_params *p, struct scratch *w, struct sums *ps,
			uint8_t *seen)
{
	for (int i = 0; i < n; i++) {
		response_sums(&resp[i], i, p, w, &ps[resp[i].problem]);
		seen[resp[i].problem] = 1;
	}
	int m = 0;
	for (int q = 0; q < n_problems; q++)
		if (seen[q])
			ps[m++] = ps[q];
	return m;
}

/* the sums, the point estimates and the intervals, with the scratch allocated */
static void linkages_compute(const struct analyze_response *resp, int n, int n_problems,
			     const struct analyze_params *p, struct scratch *w, struct sums *ps,
			     uint8_t *seen, double *boot, double *col, struct analyze_linkages *out)
{
	int m = problem_sums(resp, n, n_problems, p, w, ps, seen);
	struct sums tot = { 0 };
	for (int q = 0; q < m; q++)
		sums_add(&tot, &ps[q]);
	linkages_point(&tot, out);
	out->n_problems = m;
	out->n_responses = n;
	out->level = p->level;
	int nb = m > 0 && p->n_boot > 0 ? p->n_boot : 0;
	if (nb > 0)
		bootstrap(ps, m, p, boot);
	struct analyze_stat *st[3] = { &out->entropy, &out->receiver, &out->follow };
	for (int l = 0; l < 3; l++)
		boot_interval(boot, nb, l, p->level, col, st[l]);
}

int analyze_linkages(const struct analyze_response *resp, int n, int n_problems,
		     const struct analyze_params *p, struct analyze_linkages *out, char *err,
		     size_t errlen)
{
	int max_r;
	memset(out, 0, sizeof(*out));
	if (check_input(resp, n, n_problems, &max_r, err, errlen))
		return -1;
	size_t R = (size_t)max_r + 1, np = (size_t)(n_problems > 0 ? n_problems : 0) + 1;
	size_t nb = p->n_boot > 0 ? (size_t)p->n_boot : 0;
	struct scratch w = { malloc(4 * R), NULL, NULL, NULL, malloc(R * sizeof(int)) };
	struct sums *ps = calloc(np, sizeof(*ps));
	uint8_t *seen = calloc(np, 1);
	double *boot = malloc((nb * 9 + 1) * sizeof(double));
	double *col = malloc((nb + 1) * sizeof(double));
	int rc = -1;
	if (!w.pw || !w.idx || !ps || !seen || !boot || !col) {
		snprintf(err, errlen, "analyze: out of memory (%d responses, %d problems)", n,
			 n_problems);
		goto out_free;
	}
	w.pg = w.pw + R;
	w.pr = w.pg + R;
	w.cover = w.pr + R;
	linkages_compute(resp, n, n_problems, p, &w, ps, seen, boot, col, out);
	rc = 0;
out_free:
	free(w.pw);
	free(w.idx);
	free(ps);
	free(seen);
	free(boot);
	free(col);
	return rc;
}

/* ---- output ---- */

static const char *const link_names[3] = { "entropy", "receiver", "follow" };
static const char *const link_titles[3] = { "entropy at WAAD peaks", "receiver in global peaks",
					    "FAI peak at/after WAAD" };

static void print_ci(FILE *f, const struct analyze_ci *c)
{
	fprintf(f, "  %8.4f [%8.4f, %8.4f]", c->point, c->lo, c->hi);
}

void analyze_print(FILE *f, const char *const *labels, const struct analyze_linkages *res,
		   int n_groups)
{
	char ci[32];
	snprintf(ci, sizeof(ci), "[%g%% CI]", n_groups > 0 ? 100 * res[0].level : 95.0);
	fprintf(f, "%-10s %-26s", "group", "linkage");
	const char *head[3] = { "value", "baseline", "lift" };
	for (int j = 0; j < 3; j++)
		fprintf(f, j < 2 ? "  %8s %-20s" : "  %8s %s", head[j], ci);
	fputc('\n', f);
	for (int g = 0; g < n_groups; g++) {
		const struct analyze_stat *st[3] = { &res[g].entropy, &res[g].receiver,
						     &res[g].follow };
		for (int l = 0; l < 3; l++) {
			fprintf(f, "%-10s %-26s", labels[g], link_titles[l]);
			print_ci(f, &st[l]->value);
			print_ci(f, &st[l]->baseline);
			print_ci(f, &st[l]->lift);
			fputc('\n', f);
		}
	}
	fprintf(f, "\n%-10s %10s %10s %10s %10s %10s %10s\n", "group", "problems", "responses",
		"tokens", "WAAD pk", "glob pk", "recv pk");
	for (int g = 0; g < n_groups; g++)
		fprintf(f, "%-10s %10d %10d %10.0f %9.1f%% %9.1f%% %9.1f%%\n", labels[g],
			res[g].n_problems, res[g].n_responses, res[g].n_tokens,
			100 * res[g].density_waad, 100 * res[g].density_glob,
			100 * res[g].density_recv);
}

static void json_ci(struct json_out *o, const char *link, const char *what,
		    const struct analyze_ci *c)
{
	char key[64];
	snprintf(key, sizeof(key), "%s_%s", link, what);
	json_kv_num(o, key, c->point);
	snprintf(key, sizeof(key), "%s_%s_lo", link, what);
	json_kv_num(o, key, c->lo);
	snprintf(key, sizeof(key), "%s_%s_hi", link, what);
	json_kv_num(o, key, c->hi);
}

void analyze_write_json(FILE *f, const char *label, const struct analyze_linkages *r)
{
	struct json_out o;
	json_obj_begin(&o, f);
	json_kv_str(&o, "group", label);
	json_kv_int(&o, "problems", r->n_problems);
	json_kv_int(&o, "responses", r->n_responses);
	json_kv_num(&o, "tokens", r->n_tokens);
	json_kv_num(&o, "level", r->level);
	json_kv_num(&o, "density_waad", r->density_waad);
	json_kv_num(&o, "density_glob", r->density_glob);
	json_kv_num(&o, "density_recv", r->density_recv);
	const struct analyze_stat *st[3] = { &r->entropy, &r->receiver, &r->follow };
	for (int l = 0; l < 3; l++) {
		char key[64];
		json_ci(&o, link_names[l], "value", &st[l]->value);
		json_ci(&o, link_names[l], "baseline", &st[l]->baseline);
		json_ci(&o, link_names[l], "lift", &st[l]->lift);
		snprintf(key, sizeof(key), "%s_n", link_names[l]);
		json_kv_num(&o, key, st[l]->n);
		snprintf(key, sizeof(key), "%s_boot", link_names[l]);
		json_kv_int(&o, key, st[l]->n_boot);
	}
	json_obj_end(&o);
}

/* ---- perturbation ---- */

/* NLTK's English stop-word list (nltk_data corpora/stopwords/english, 179 words) without its
 * 26 apostrophe forms ("don't", "you're", ...): words split at the apostrophe, and the pieces
 * ("don", "t", "re", "ll", ...) are in the list. 153 words. */
const char *const analyze_stopwords_en[] = {
	"i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours",
	"yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself",
	"it", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which",
	"who", "whom", "this", "that", "these", "those", "am", "is", "are", "was", "were", "be",
	"been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an",
	"the", "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by",
	"for", "with", "about", "against", "between", "into", "through", "during", "before",
	"after", "above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over",
	"under", "again", "further", "then", "once", "here", "there", "when", "where", "why",
	"how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no",
	"nor", "not", "only", "own", "same", "so", "than", "too", "very", "s", "t", "can",
	"will", "just", "don", "should", "now", "d", "ll", "m", "o", "re", "ve", "y", "ain",
	"aren", "couldn", "didn", "doesn", "hadn", "hasn", "haven", "isn", "ma", "mightn",
	"mustn", "needn", "shan", "shouldn", "wasn", "weren", "won", "wouldn",
};
const int analyze_n_stopwords_en =
	(int)(sizeof(analyze_stopwords_en) / sizeof(analyze_stopwords_en[0]));

static int word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

static int is_stop(const char *w, const char *const *stop, int n_stop)
{
	for (int i = 0; i < n_stop; i++)
		if (!strcmp(w, stop[i]))
			return 1;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* the sorted, distinct content words of s: *buf holds them (freed by the caller), *words
 * points into it; returns the count or -1 on out of memory */
static int content_words(const char *s, const char *const *stop, int n_stop, char **buf,
			 char ***words)
{
	size_t len = strlen(s);
	*buf = malloc(len + 1);
	*words = malloc((len / 2 + 1) * sizeof(char *));
	if (!*buf || !*words)
		return -1;
	int n = 0;
	size_t k = 0;
	for (size_t i = 0; i < len;) {
		if (!word_byte((unsigned char)s[i])) {
			i++;
			continue;
		}
		char *w = *buf + k;
		while (i < len && word_byte((unsigned char)s[i]))
			(*buf)[k++] = (char)tolower((unsigned char)s[i++]);
		(*buf)[k++] = 0;
		if (!is_stop(w, stop, n_stop))
			(*words)[n++] = w;
	}
	qsort(*words, (size_t)n, sizeof(char *), str_cmp);
	int m = 0;
	for (int i = 0; i < n; i++)
		if (m == 0 || strcmp((*words)[m - 1], (*words)[i]))
			(*words)[m++] = (*words)[i];
	return m;
}

/* |A n B| of two sorted distinct lists */
static int common_count(char **a, int na, char **b, int nb)
{
	int i = 0, j = 0, c = 0;
	while (i < na && j < nb) {
		int d = strcmp(a[i], b[j]);
		c += d == 0;
		i += d <= 0;
		j += d >= 0;
	}
	return c;
}

int analyze_jaccard(const char *a, const char *b, const char *const *stop, int n_stop,
		    double *out)
{
	if (!stop) {
		stop = analyze_stopwords_en;
		n_stop = analyze_n_stopwords_en;
	}
	char *ba = NULL, *bb = NULL, **wa = NULL, **wb = NULL;
	int na = content_words(a, stop, n_stop, &ba, &wa);
	int nb = na < 0 ? -1 : content_words(b, stop, n_stop, &bb, &wb);
	int rc = -1;
	if (na >= 0 && nb >= 0) {
		int c = common_count(wa, na, wb, nb);
		*out = na + nb - c > 0 ? (double)c / (na + nb - c) : 1.0;
		rc = 0;
	}
	free(ba);
	free(bb);
	free(wa);
	free(wb);
	return rc;
}

/* indices lo..hi-1 with non-NaN fai, sorted by fai (descending when top), ties by index */
struct keyed { float key; int index; };

static int keyed_desc(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static int keyed_asc(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static int pick_k(const float *fai, int lo, int hi, int k, int top, struct keyed *c, int *out)
{
	int m = 0;
	for (int t = lo; t < hi; t++)
		if (!isnan(fai[t]))
			c[m++] = (struct keyed){ fai[t], t };
	qsort(c, (size_t)m, sizeof(*c), top ? keyed_desc : keyed_asc);
	int n = k < m ? k : m;
	for (int i = 0; i < n; i++)
		out[i] = c[i].index;
	return n;
}

int analyze_fai_extremes(const float *fai, int lo, int hi, int k, int *top, int *bottom)
{
	if (hi <= lo || k <= 0)
		return 0;
	struct keyed *c = malloc((size_t)(hi - lo) * sizeof(*c));
	if (!c) {
		fprintf(stderr, "%s:%d: analyze: out of memory (%d positions)\n", __FILE__,
			__LINE__, hi - lo);
		abort();
	}
	int n = pick_k(fai, lo, hi, k, 1, c, top);
	pick_k(fai, lo, hi, k, 0, c, bottom);
	free(c);
	return n;
}

void analyze_perturb_summary(const double *high, const double *low, int n_problems,
			     struct analyze_perturb *out)
{
	double sh = 0, sl = 0;
	int n = 0, lower = 0;
	for (int i = 0; i < n_problems; i++) {
		if (isnan(high[i]) || isnan(low[i]))
			continue;
		sh += high[i];
		sl += low[i];
		lower += high[i] < low[i];
		n++;
	}
	out->n = n;
	out->mean_high = ratio(sh, n);
	out->mean_low = ratio(sl, n);
	out->frac_high_lower = ratio(lower, n);
}

void analyze_write_perturb_json(FILE *f, const struct analyze_perturb *r)
{
	struct json_out o;
	json_obj_begin(&o, f);
	json_kv_int(&o, "problems", r->n);
	json_kv_num(&o, "jaccard_high_fai", r->mean_high);
	json_kv_num(&o, "jaccard_low_fai", r->mean_low);
	json_kv_num(&o, "frac_high_lower", r->frac_high_lower);
	json_obj_end(&o);
}
