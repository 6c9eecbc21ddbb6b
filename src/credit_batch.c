/* credit_batch.c - statistics of a rollout batch to per-token gamma (see credit_batch.h). */
#include "attnrl/credit_batch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_tau(const char *key, const char *text, double *out, char *err, size_t n)
{
	char *end;
	if (!strcmp(text, "auto")) {
		*out = NAN;
		return 0;
	}
	*out = strtod(text, &end);
	if (end == text || *end || !isfinite(*out) || *out < 0) {
		snprintf(err, n, "credit.%s: '%s' is neither 'auto' nor a number >= 0", key, text);
		return -1;
	}
	return 0;
}

int rhythm_credit_params(struct credit_params *cp, const struct config *c, char *err, size_t n)
{
	credit_params_default(cp);
	credit_strategy_parse(c->credit.strategy, &cp->strategy);
	credit_sign_parse(c->credit.sign, &cp->sign);
	credit_select_parse(c->credit.select, &cp->select);
	cp->gamma_amp = c->credit.gamma_amp;
	cp->top_q = c->credit.top_q;
	cp->alpha = c->credit.alpha;
	cp->k = (int)c->credit.k;
	if (c->credit.fai_lo > c->credit.fai_hi) {
		snprintf(err, n, "credit.fai_lo=%ld is above credit.fai_hi=%ld: FAI's window [t + fai_lo, "
			 "t + fai_hi] would be empty", c->credit.fai_lo, c->credit.fai_hi);
		return -1;
	}
	return parse_tau("tau_waad", c->credit.tau_waad, &cp->tau_waad, err, n) ||
	       parse_tau("tau_delta", c->credit.tau_delta, &cp->tau_delta, err, n);
}

int rhythm_stats_config(struct attnstats_config *sc, const struct config *c, int n_layers,
			int n_heads, char *err, size_t n)
{
	*sc = (struct attnstats_config){ .n_layers = n_layers, .n_heads = n_heads,
					 .window = (int)c->credit.window,
					 .fai_lo = (int)c->credit.fai_lo,
					 .fai_hi = (int)c->credit.fai_hi,
					 .head_quantile = c->credit.head_quantile };
	if (n_layers > ATTNSTATS_MAX_LAYERS) {
		snprintf(err, n, "credit: models of more than %d layers are not supported", ATTNSTATS_MAX_LAYERS);
		return -1;
	}
	return attnstats_parse_layers(sc, c->credit.layers, err, n);
}

static int stats_from(struct rhythm *h, const struct config *c, int n_layers, int n_heads,
		      int max_new, char *err, size_t n)
{
	struct attnstats_config sc;
	if (rhythm_stats_config(&sc, c, n_layers, n_heads, err, n))
		return -1;
	h->stats = attnstats_create(&sc, h->B, max_new);
	if (!h->stats || attnstats_result_init(&h->res, h->stats->n_pairs, max_new)) {
		snprintf(err, n, "credit: out of memory for the attention statistics");
		return -1;
	}
	h->d_batch = calloc(h->stats->n_pairs, sizeof(float));
	if (!h->d_batch)
		return -1;
	if (!h->from_maps)
		return 0;
	if (h->per_batch) {
		snprintf(err, n, "credit.compute=maps supports credit.head_grouping=per_response only");
		return -1;
	}
	h->maps = malloc((size_t)h->stats->n_pairs * h->cap_len * h->cap_len * sizeof(float));
	if (!h->maps) {
		snprintf(err, n, "credit.compute=maps: cannot allocate %d x %d x %d attention maps",
			 h->stats->n_pairs, h->cap_len, h->cap_len);
		return -1;
	}
	return 0;
}

int rhythm_init(struct rhythm *h, const struct config *c, int n_layers, int n_heads, int B,
		int cap_len, int max_new, char *err, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->B = B;
	h->cap_len = cap_len;
	h->per_batch = !strcmp(c->credit.head_grouping, "per_batch");
	h->from_maps = !strcmp(c->credit.compute, "maps");
	if (rhythm_credit_params(&h->cp, c, err, n))
		return -1;
	size_t bt = (size_t)B * cap_len;
	h->gamma = malloc(bt * sizeof(float));
	h->waad = calloc(bt, sizeof(float));
	h->fai = calloc(bt, sizeof(float));
	h->delta = calloc(bt, sizeof(float));
	h->sets = calloc(bt, 1);
	if (!h->gamma || !h->waad || !h->fai || !h->delta || !h->sets) {
		snprintf(err, n, "credit: out of memory");
		return -1;
	}
	for (size_t i = 0; i < bt; i++)
		h->gamma[i] = 1.0f;
	if (h->cp.strategy == CREDIT_NONE)
		return 0;
	return stats_from(h, c, n_layers, n_heads, max_new, err, n);
}

void rhythm_free(struct rhythm *h)
{
	attnstats_destroy(h->stats);
	attnstats_result_free(&h->res);
	free(h->maps);
	free(h->d_batch);
	free(h->gamma);
	free(h->waad);
	free(h->fai);
	free(h->delta);
	free(h->sets);
	memset(h, 0, sizeof(*h));
}

/* the per-batch ranking: d averaged over the batch */
static void batch_distances(struct rhythm *h, const struct rollout_batch *rb)
{
	int Q = h->stats->n_pairs;
	memset(h->d_batch, 0, Q * sizeof(float));
	for (int b = 0; b < rb->n_seqs; b++) {
		attnstats_distances(h->stats, b, rb->resp_len[b], h->res.d);
		for (int q = 0; q < Q; q++)
			h->d_batch[q] += h->res.d[q] / rb->n_seqs;
	}
}

static void add_metrics(struct rhythm_metrics *m, const struct rhythm *h, size_t at, int R)
{
	for (int r = 0; r < R; r++) {
		uint8_t s = h->sets[at + r];
		m->gamma_mean += h->gamma[at + r];
		m->frac_loc += (s & CREDIT_IN_LOC) != 0;
		m->frac_glob += (s & CREDIT_IN_GLOB) != 0;
		m->frac_d += (s & CREDIT_IN_D) != 0;
		m->frac_i += (s & CREDIT_IN_I) != 0;
		m->waad_mean += h->waad[at + r];
		m->fai_mean += h->fai[at + r];
	}
	m->d_loc += h->res.d_loc;
	m->d_glob += h->res.d_glob;
}

struct attnstats *rhythm_rollout_stats(const struct rhythm *h)
{
	return h->from_maps ? NULL : h->stats;
}

/* the paper's way: feed sequence b again through the engine in the spare slot and keep the
 * sampled layers' full maps (Q, N, N); then the statistics follow from their definitions */
static int response_from_maps(struct rhythm *h, const struct rollout_batch *rb, int b,
			      struct engine *eng)
{
	int N = rb->prompt_len[b] + rb->resp_len[b], spare = rb->n_seqs;
	int *seq = malloc(N * sizeof(int)), *pos = malloc(N * sizeof(int)), rc = -1;
	if (!seq || !pos || spare >= eng->max_seqs)
		goto out;
	struct attnstats *s = h->stats;
	s->maps = h->maps, s->maps_seq = spare, s->maps_n = N;
	attnstats_stop(s, spare);
	eng->stats = s;
	for (int i = 0; i < N; i++)
		seq[i] = spare, pos[i] = i;
	const int32_t *tok = rb->tokens + (size_t)b * rb->cap_len;
	rc = 0;
	for (int first = 0; first < N && !rc; first += eng->max_rows) {
		int n = N - first < eng->max_rows ? N - first : eng->max_rows;
		rc = engine_forward(eng, n, seq + first, pos + first, tok + first, 0, NULL, NULL);
	}
	eng->stats = NULL;
	s->maps = NULL;
	if (!rc)
		rc = attnstats_from_maps(&s->cfg, h->maps, s->n_pairs, N, rb->prompt_len[b], NULL, &h->res);
out:
	free(seq);
	free(pos);
	return rc;
}

static int one_response(struct rhythm *h, const struct rollout_batch *rb, int b,
			struct engine *eng, struct rng *rng)
{
	struct attnstats_result *r = &h->res;
	int P = rb->prompt_len[b], R = rb->resp_len[b];
	size_t at = (size_t)b * h->cap_len + P;
	r->P = P;
	r->R = R;
	if (h->from_maps) {
		if (response_from_maps(h, rb, b, eng))
			return -1;
	} else {
		attnstats_distances(h->stats, b, R, r->d);
		attnstats_group(&h->stats->cfg, r->n_pairs, h->per_batch ? h->d_batch : r->d, r->group);
		attnstats_finalize(h->stats, b, r);
	}
	memcpy(h->waad + at, r->waad, R * sizeof(float));
	memcpy(h->fai + at, r->fai, R * sizeof(float));
	credit_assign(&h->cp, R, r->waad, r->fai, r->fai_ok, rb->entropy + at, rng, h->delta + at,
		      h->sets + at, h->gamma + at);
	return 0;
}

int rhythm_assign(struct rhythm *h, const struct rollout_batch *rb, struct engine *eng,
		  uint64_t seed, struct rhythm_metrics *m)
{
	long tokens = 0;
	memset(m, 0, sizeof(*m));
	if (!h->stats) {
		m->gamma_mean = 1.0;
		return 0;
	}
	struct rng rng;
	rng_init3(&rng, seed, 0x637265646974ULL, 0);
	if (h->per_batch)
		batch_distances(h, rb);
	for (int b = 0; b < rb->n_seqs; b++) {
		if (one_response(h, rb, b, eng, &rng))
			return -1;
		add_metrics(m, h, (size_t)b * h->cap_len + rb->prompt_len[b], rb->resp_len[b]);
		tokens += rb->resp_len[b];
	}
	double *per_token[] = { &m->gamma_mean, &m->frac_loc, &m->frac_glob, &m->frac_d,
				&m->frac_i, &m->waad_mean, &m->fai_mean };
	for (size_t i = 0; i < sizeof(per_token) / sizeof(per_token[0]); i++)
		*per_token[i] /= tokens ? tokens : 1;
	m->d_loc /= rb->n_seqs ? rb->n_seqs : 1;
	m->d_glob /= rb->n_seqs ? rb->n_seqs : 1;
	return 0;
}
