/*
 * credit_stats.c - attention statistics: streamed from the decode attention, or from maps (see
 * credit_stats.h). Invariants: a tracked slot's per-pair WAAD row r is written exactly once (by
 * the row of position P + r); FAI sums only ever see keys s >= P with H_lo <= t - s <= H_hi.
 */
#include "attnrl/credit_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int attnstats_auto_layers(int n_layers, int *layers)
{
	int lo = n_layers / 3, hi = 2 * n_layers / 3, n = 0;
	for (int i = 0; i < 5; i++) {
		/* round half to even, as numpy's and Python's round (L = 5: 1 2 3, not 1 2 3 3) */
		int l = (int)nearbyint(lo + (hi - lo) * i / 4.0);
		if (l >= n_layers)
			l = n_layers - 1;
		if (n == 0 || layers[n - 1] != l)
			layers[n++] = l;
	}
	return n;
}

int attnstats_parse_layers(struct attnstats_config *c, const char *text, char *err, size_t n)
{
	if (!strcmp(text, "auto")) {
		c->n_sampled = attnstats_auto_layers(c->n_layers, c->layers);
		return 0;
	}
	c->n_sampled = 0;
	const char *p = text;
	do {
		char *end;
		long l = strtol(p, &end, 10);
		int ok = end != p && (*end == ',' || !*end) && l >= 0 && l < c->n_layers &&
			 c->n_sampled < ATTNSTATS_MAX_LAYERS &&
			 (!c->n_sampled || l > c->layers[c->n_sampled - 1]);
		if (!ok) {
			snprintf(err, n, "credit.layers: '%s' is neither 'auto' nor an ascending list of "
				 "layer indices in [0, %d) such as '1,2'", text, c->n_layers);
			return -1;
		}
		c->layers[c->n_sampled++] = (int)l;
		p = *end ? end + 1 : end;
	} while (*p);
	return 0;
}

/* ---- streaming accumulation ------------------------------------------------------------ */

struct attnstats *attnstats_create(const struct attnstats_config *c, int max_seqs, int max_resp)
{
	struct attnstats *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cfg = *c;
	s->n_pairs = c->n_sampled * c->n_heads;
	s->max_seqs = max_seqs;
	s->max_resp = max_resp;
	for (int l = 0; l < ATTNSTATS_MAX_LAYERS; l++)
		s->layer_slot[l] = -1;
	for (int i = 0; i < c->n_sampled; i++)
		s->layer_slot[c->layers[i]] = i;
	size_t qm = (size_t)max_seqs * s->n_pairs * max_resp;
	s->prompt_len = malloc(max_seqs * sizeof(int));
	s->dsum = calloc((size_t)max_seqs * s->n_pairs, sizeof(double));
	s->waad = calloc(qm, sizeof(float));
	s->fai = calloc(qm, sizeof(float));
	if (!s->prompt_len || !s->dsum || !s->waad || !s->fai) {
		attnstats_destroy(s);
		return NULL;
	}
	for (int i = 0; i < max_seqs; i++)
		s->prompt_len[i] = -1;
	return s;
}

void attnstats_destroy(struct attnstats *s)
{
	if (!s)
		return;
	free(s->prompt_len);
	free(s->dsum);
	free(s->waad);
	free(s->fai);
	free(s);
}

void attnstats_begin(struct attnstats *s, int seq, int P)
{
	size_t q = s->n_pairs, qm = q * s->max_resp;
	s->prompt_len[seq] = P;
	memset(s->dsum + seq * q, 0, q * sizeof(double));
	memset(s->waad + seq * qm, 0, qm * sizeof(float));
	memset(s->fai + seq * qm, 0, qm * sizeof(float));
}

void attnstats_stop(struct attnstats *s, int seq)
{
	s->prompt_len[seq] = -1;
}

static void capture_row(struct attnstats *s, int pair, int t, const float *e, float inv_sum)
{
	float *row = s->maps + ((size_t)pair * s->maps_n + t) * s->maps_n;
	for (int k = 0; k <= t; k++)
		row[k] = e[k] * inv_sum;
}

void attnstats_row(struct attnstats *s, int seq, int li, int h, int t, const float *e, float inv_sum)
{
	int P = s->prompt_len[seq], W = s->cfg.window, r = t - P;
	int pair = li * s->cfg.n_heads + h;
	if (s->maps && seq == s->maps_seq && t < s->maps_n)
		capture_row(s, pair, t, e, inv_sum);
	if (P < 0 || r < 0 || r >= s->max_resp)
		return;
	size_t base = ((size_t)seq * s->n_pairs + pair) * s->max_resp;
	float dist = 0.0f, near = 0.0f;
#pragma omp simd reduction(+ : dist)
	for (int k = 0; k <= t; k++)
		dist += e[k] * (float)(t - k);
	for (int k = t - W + 1 > 0 ? t - W + 1 : 0; k <= t; k++)
		near += e[k] * (float)(W - (t - k));
	s->dsum[(size_t)seq * s->n_pairs + pair] += (double)dist * inv_sum;
	s->waad[base + r] = W - near * inv_sum;
	int lo = t - s->cfg.fai_hi > P ? t - s->cfg.fai_hi : P;
	float *fai = s->fai + base - P;
	for (int k = lo; k <= t - s->cfg.fai_lo; k++)
		fai[k] += e[k] * inv_sum;
}

/* ---- finalising ------------------------------------------------------------------------ */

int attnstats_result_init(struct attnstats_result *r, int n_pairs, int max_resp)
{
	memset(r, 0, sizeof(*r));
	r->n_pairs = n_pairs;
	r->d = calloc(n_pairs, sizeof(float));
	r->group = calloc(n_pairs, 1);
	r->waad = calloc(max_resp ? max_resp : 1, sizeof(float));
	r->fai = calloc(max_resp ? max_resp : 1, sizeof(float));
	r->fai_ok = calloc(max_resp ? max_resp : 1, 1);
	if (!r->d || !r->group || !r->waad || !r->fai || !r->fai_ok) {
		attnstats_result_free(r);
		return -1;
	}
	return 0;
}

void attnstats_result_free(struct attnstats_result *r)
{
	free(r->d);
	free(r->group);
	free(r->waad);
	free(r->fai);
	free(r->fai_ok);
	memset(r, 0, sizeof(*r));
}

void attnstats_distances(const struct attnstats *s, int seq, int R, float *d)
{
	for (int q = 0; q < s->n_pairs; q++)
		d[q] = R ? (float)(s->dsum[(size_t)seq * s->n_pairs + q] / R) : 0.0f;
}

static _Thread_local const float *sort_keys;

static int by_key(const void *a, const void *b)
{
	int i = *(const int *)a, j = *(const int *)b;
	if (sort_keys[i] != sort_keys[j])
		return sort_keys[i] < sort_keys[j] ? -1 : 1;
	return i - j;
}

void attnstats_group(const struct attnstats_config *c, int n_pairs, const float *d, uint8_t *group)
{
	int order[ATTNSTATS_MAX_LAYERS * 128], count = (int)floor(c->head_quantile * n_pairs + 1e-9);
	if (count < 1)
		count = 1;
	if (count > n_pairs)
		count = n_pairs;
	for (int q = 0; q < n_pairs; q++)
		order[q] = q;
	sort_keys = d;
	qsort(order, n_pairs, sizeof(int), by_key); /* ascending d, ties in pair order */
	memset(group, 0, n_pairs);
	for (int i = 0; i < count; i++) {
		group[order[i]] |= ATTNSTATS_LOC;
		group[order[n_pairs - count + i]] |= ATTNSTATS_GLOB;
	}
}

int attnstats_t_count(const struct attnstats_config *c, int s, int N)
{
	int hi = s + c->fai_hi < N - 1 ? s + c->fai_hi : N - 1;
	int n = hi - (s + c->fai_lo) + 1;
	return n > 0 ? n : 0;
}

static void group_means(struct attnstats_result *r)
{
	double loc = 0, glob = 0;
	int nl = 0, ng = 0;
	for (int q = 0; q < r->n_pairs; q++) {
		if (r->group[q] & ATTNSTATS_LOC)
			loc += r->d[q], nl++;
		if (r->group[q] & ATTNSTATS_GLOB)
			glob += r->d[q], ng++;
	}
	r->d_loc = nl ? (float)(loc / nl) : 0.0f;
	r->d_glob = ng ? (float)(glob / ng) : 0.0f;
}

void attnstats_finalize(const struct attnstats *s, int seq, struct attnstats_result *r)
{
	int nl = 0, ng = 0, N = r->P + r->R;
	for (int q = 0; q < r->n_pairs; q++) {
		nl += (r->group[q] & ATTNSTATS_LOC) != 0;
		ng += (r->group[q] & ATTNSTATS_GLOB) != 0;
	}
	for (int t = 0; t < r->R; t++) {
		double w = 0, f = 0;
		for (int q = 0; q < r->n_pairs; q++) {
			size_t at = ((size_t)seq * s->n_pairs + q) * s->max_resp + t;
			if (r->group[q] & ATTNSTATS_LOC)
				w += s->waad[at];
			if (r->group[q] & ATTNSTATS_GLOB)
				f += s->fai[at];
		}
		int tc = attnstats_t_count(&s->cfg, r->P + t, N);
		r->waad[t] = nl ? (float)(w / nl) : 0.0f;
		r->fai_ok[t] = tc > 0;
		r->fai[t] = tc > 0 && ng ? (float)(f / ng / tc) : 0.0f;
	}
	group_means(r);
}

/* ---- the map-based reference ----------------------------------------------------------- */

/* the plain mean over the group's maps */
static void group_map(const float *maps, int n_pairs, int N, const uint8_t *group, int which,
		      double *out)
{
	size_t nn = (size_t)N * N;
	int n = 0;
	memset(out, 0, nn * sizeof(double));
	for (int q = 0; q < n_pairs; q++) {
		if (!(group[q] & which))
			continue;
		n++;
		for (size_t i = 0; i < nn; i++)
			out[i] += maps[q * nn + i];
	}
	for (size_t i = 0; n && i < nn; i++)
		out[i] /= n;
}

static void maps_distances(const float *maps, int n_pairs, int N, int P, float *d)
{
	for (int q = 0; q < n_pairs; q++) {
		double sum = 0;
		for (int t = P; t < N; t++)
			for (int s = 0; s <= t; s++)
				sum += maps[((size_t)q * N + t) * N + s] * (double)(t - s);
		d[q] = N > P ? (float)(sum / (N - P)) : 0.0f;
	}
}

int attnstats_from_maps(const struct attnstats_config *c, const float *maps, int n_pairs, int N,
			int P, const uint8_t *group, struct attnstats_result *r)
{
	double *a = malloc((size_t)N * N * sizeof(double));
	if (!a)
		return -1;
	r->P = P;
	r->R = N - P;
	maps_distances(maps, n_pairs, N, P, r->d);
	if (group)
		memcpy(r->group, group, n_pairs);
	else
		attnstats_group(c, n_pairs, r->d, r->group);
	group_map(maps, n_pairs, N, r->group, ATTNSTATS_LOC, a);
	for (int t = P; t < N; t++) {
		double w = 0;
		for (int s = 0; s <= t; s++)
			w += a[(size_t)t * N + s] * (t - s < c->window ? t - s : c->window);
		r->waad[t - P] = (float)w;
	}
	group_map(maps, n_pairs, N, r->group, ATTNSTATS_GLOB, a);
	for (int s = P; s < N; s++) {
		int lo = s + c->fai_lo, hi = s + c->fai_hi < N - 1 ? s + c->fai_hi : N - 1;
		double f = 0;
		for (int t = lo; t <= hi; t++)
			f += a[(size_t)t * N + s];
		r->fai_ok[s - P] = hi >= lo;
		r->fai[s - P] = hi >= lo ? (float)(f / (hi - lo + 1)) : 0.0f;
	}
	group_means(r);
	free(a);
	return 0;
}
