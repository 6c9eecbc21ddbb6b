/*
 * cmd_analyze_link.c - `attnrl analyze`, its first half: responses sampled with every layer's
 * statistics streamed, turned into the three signals of analyze.h per layer third, and the
 * linkages of each third (docs/method.md section 11).
 *
 * Per response and third (pairs are layer-major, pair = layer * H + head): d per pair, H_loc
 * and H_glob among the third's pairs alone (attnstats_group on its slice, the other pairs'
 * flags cleared), attnstats_finalize gives WAAD over H_loc and FAI over H_glob. The receiver
 * heads are the third's pairs whose own FAI over the response has the highest kurtosis (the
 * vertical stripes: few keys take most of the attention), as many as H_glob holds; fai_recv is
 * their mean FAI. FAI is NaN where no row lies H_lo..H_hi tokens after the key (never a peak).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_analyze_internal.h"

int an_run_alloc(struct an_run *r)
{
	size_t bm = (size_t)r->n * r->k * r->M;
	r->B = r->n * r->k;
	r->prompt = calloc(r->n, sizeof(*r->prompt));
	r->prompt_len = calloc(r->n, sizeof(int));
	r->resp = calloc(bm, sizeof(int32_t));
	r->R = calloc(r->B, sizeof(int));
	r->entropy = calloc(bm, sizeof(float));
	r->sig = calloc(bm * AN_THIRDS * AN_SIGNALS, sizeof(float));
	return r->prompt && r->prompt_len && r->resp && r->R && r->entropy && r->sig ? 0 : -1;
}

void an_run_free(struct an_run *r)
{
	for (int i = 0; r->prompt && i < r->n; i++)
		free(r->prompt[i]);
	free(r->prompt);
	free(r->prompt_len);
	free(r->resp);
	free(r->R);
	free(r->entropy);
	free(r->sig);
	memset(r, 0, sizeof(*r));
}

int an_thirds(struct an_run *r, int n_layers, char *err, size_t n)
{
	if (n_layers < AN_THIRDS || n_layers > ATTNSTATS_MAX_LAYERS) {
		snprintf(err, n, "analyze: a model of %d layers; the layer thirds need 3 to %d",
			 n_layers, ATTNSTATS_MAX_LAYERS);
		return -1;
	}
	for (int g = 0; g <= AN_THIRDS; g++)
		r->third_lo[g] = g * n_layers / AN_THIRDS;
	return 0;
}

/* kurtosis m4 / m2^2 of pair q's per-token FAI over the positions where it is defined;
 * -INFINITY when it is flat or undefined */
static double pair_kurtosis(const struct attnstats *s, int slot, int q, int P, int R)
{
	const float *f = s->fai + ((size_t)slot * s->n_pairs + q) * s->max_resp;
	double sum = 0, m2 = 0, m4 = 0;
	int m = 0;
	for (int t = 0; t < R; t++) {
		int tc = attnstats_t_count(&s->cfg, P + t, P + R);
		if (tc > 0)
			sum += f[t] / tc, m++;
	}
	if (m < 2)
		return -INFINITY;
	double mu = sum / m;
	for (int t = 0; t < R; t++) {
		int tc = attnstats_t_count(&s->cfg, P + t, P + R);
		if (tc > 0) {
			double x = f[t] / tc - mu;
			m2 += x * x, m4 += x * x * x * x;
		}
	}
	m2 /= m, m4 /= m;
	return m2 > 0 ? m4 / (m2 * m2) : -INFINITY;
}

/* fai_recv: the mean FAI of the n_recv pairs of [lo, hi) with the highest kurtosis (ties to
 * the lower pair); kurt and pick hold hi - lo entries */
static void receivers(const struct attnstats *s, int slot, int P, int R, int lo, int hi,
		      int n_recv, double *kurt, int *pick, float *out)
{
	int np = hi - lo;
	for (int q = 0; q < np; q++)
		kurt[q] = pair_kurtosis(s, slot, lo + q, P, R), pick[q] = 0;
	for (int j = 0; j < n_recv; j++) {
		int best = -1;
		for (int q = 0; q < np; q++)
			if (!pick[q] && (best < 0 || kurt[q] > kurt[best]))
				best = q;
		pick[best] = 1;
	}
	for (int t = 0; t < R; t++) {
		int tc = attnstats_t_count(&s->cfg, P + t, P + R);
		double sum = 0;
		for (int q = 0; tc > 0 && q < np; q++)
			if (pick[q])
				sum += s->fai[((size_t)slot * s->n_pairs + lo + q) * s->max_resp + t];
		out[t] = tc > 0 ? (float)(sum / n_recv / tc) : NAN;
	}
}

/* the three signals of third g of the response in slot, stored as response b */
static void third_signals(struct an_run *r, const struct attnstats *s, struct attnstats_result *res,
			  double *kurt, int *pick, int slot, int b, int g)
{
	int H = s->cfg.n_heads, lo = r->third_lo[g] * H, hi = r->third_lo[g + 1] * H;
	int R = r->R[b];
	attnstats_distances(s, slot, R, res->d);
	memset(res->group, 0, (size_t)res->n_pairs);
	attnstats_group(&s->cfg, hi - lo, res->d + lo, res->group + lo);
	attnstats_finalize(s, slot, res);
	float *w = an_sig(r, g, AN_WAAD, b), *fg = an_sig(r, g, AN_FAI_GLOB, b);
	int n_glob = 0;
	for (int q = lo; q < hi; q++)
		n_glob += (res->group[q] & ATTNSTATS_GLOB) != 0;
	for (int t = 0; t < R; t++) {
		w[t] = res->waad[t];
		fg[t] = res->fai_ok[t] ? res->fai[t] : NAN;
	}
	receivers(s, slot, res->P, R, lo, hi, n_glob, kurt, pick, an_sig(r, g, AN_FAI_RECV, b));
}

/* the call's responses into r: tokens, entropy, each third's signals */
static int keep(struct an_run *r, const struct attnstats *s, const struct rollout_batch *rb,
		int first, char *err, size_t n)
{
	struct attnstats_result res;
	double *kurt = malloc(s->n_pairs * sizeof(double));
	int *pick = malloc(s->n_pairs * sizeof(int));
	if (!kurt || !pick || attnstats_result_init(&res, s->n_pairs, r->M)) {
		free(kurt);
		free(pick);
		snprintf(err, n, "analyze: out of memory");
		return -1;
	}
	for (int slot = 0; slot < rb->n_seqs; slot++) {
		int b = first * r->k + slot, P = rb->prompt_len[slot];
		const int32_t *seq = rb->tokens + (size_t)slot * rb->cap_len;
		r->R[b] = rb->resp_len[slot];
		memcpy(r->resp + (size_t)b * r->M, seq + P, r->R[b] * sizeof(int32_t));
		memcpy(r->entropy + (size_t)b * r->M, rb->entropy + (size_t)slot * rb->cap_len + P,
		       r->R[b] * sizeof(float));
		res.P = P;
		res.R = r->R[b];
		for (int g = 0; g < AN_THIRDS; g++)
			third_signals(r, s, &res, kurt, pick, slot, b, g);
	}
	attnstats_result_free(&res);
	free(kurt);
	free(pick);
	return 0;
}

int an_sample(struct an_run *r, struct rollout *ro, struct attnstats *s, int first, int n_call,
	      const struct rollout_params *p, struct rollout_batch *rb, char *err, size_t n)
{
	int64_t *ids = malloc((size_t)n_call * r->k * sizeof(int64_t));
	struct rollout_params q = *p;
	if (!ids) {
		snprintf(err, n, "analyze: out of memory");
		return -1;
	}
	for (int b = 0; b < n_call * r->k; b++)
		ids[b] = (int64_t)first * r->k + b;
	q.seq_ids = ids;
	q.stats = s;
	q.max_new_tokens = r->M;
	int rc = rollout_generate(ro, (const int32_t *const *)r->prompt + first,
				  r->prompt_len + first, n_call, r->k, &q, rb, err, n);
	free(ids);
	if (rc)
		return -1;
	r->tokens += rb->tokens_generated;
	r->seconds += rb->seconds;
	return keep(r, s, rb, first, err, n);
}

int an_linkages(const struct an_run *r, const struct analyze_params *p,
		struct analyze_linkages *out, char *err, size_t n)
{
	struct analyze_response *resp = calloc(r->B, sizeof(*resp));
	if (!resp) {
		snprintf(err, n, "analyze: out of memory");
		return -1;
	}
	int rc = 0;
	for (int g = 0; g < AN_THIRDS && !rc; g++) {
		for (int b = 0; b < r->B; b++)
			resp[b] = (struct analyze_response){
				.problem = b / r->k, .R = r->R[b],
				.entropy = r->entropy + (size_t)b * r->M,
				.waad = an_sig(r, g, AN_WAAD, b), .fai_glob = an_sig(r, g, AN_FAI_GLOB, b),
				.fai_recv = an_sig(r, g, AN_FAI_RECV, b) };
		rc = analyze_linkages(resp, r->B, r->n, p, &out[g], err, n);
	}
	free(resp);
	return rc;
}
