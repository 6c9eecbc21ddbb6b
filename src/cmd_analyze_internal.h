/*
 * cmd_analyze_internal.h - private to `attnrl analyze`: the sampled responses with their
 * per-third signals (cmd_analyze_link.c), the perturbation test over them
 * (cmd_analyze_perturb.c), both driven by src/torch/cmd_analyze.c.
 * Shapes: N problems, K responses per problem, B = N x K responses (b = i * K + j), M =
 * max_new_tokens, Q pairs = L layers x H heads (every layer streamed), 3 layer thirds.
 */
#ifndef ATTNRL_CMD_ANALYZE_INTERNAL_H
#define ATTNRL_CMD_ANALYZE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attnrl/analyze.h"
#include "attnrl/credit_stats.h"
#include "attnrl/rollout.h"

#define AN_THIRDS 3
#define AN_SIGNALS 3 /* waad, fai_glob, fai_recv */
#define AN_PERTURB_THIRD 1 /* the perturbation ranks tokens by the middle third's global FAI */

enum an_signal { AN_WAAD = 0, AN_FAI_GLOB, AN_FAI_RECV };

struct an_run {
	int n, k, B, M;
	int third_lo[AN_THIRDS + 1];  /* third g is layers [third_lo[g], third_lo[g + 1]) */
	int32_t **prompt;   /* (N) prompt ids, BOS first */
	int *prompt_len;    /* (N) */
	int32_t *resp;      /* (B, M) response tokens */
	int *R;             /* (B) */
	float *entropy;     /* (B, M) */
	float *sig;         /* (3 thirds, 3 signals, B, M); NaN where FAI is undefined */
	long tokens;        /* generated */
	double seconds;
};

/* the signal s of third g of response b */
static inline float *an_sig(const struct an_run *r, int g, int s, int b)
{
	return r->sig + (((size_t)g * AN_SIGNALS + s) * r->B + b) * r->M;
}

/* the response storage of r (n, k, M set); -1 out of memory */
int an_run_alloc(struct an_run *r);
void an_run_free(struct an_run *r);

/* the layer thirds of an L-layer model into r->third_lo; -1 with err when L < 3 */
int an_thirds(struct an_run *r, int n_layers, char *err, size_t n);

/* samples K responses for problems [first, first + n_call) with s streaming every layer (slot
 * = sequence of the call), then stores their tokens, entropy and each third's signals */
int an_sample(struct an_run *r, struct rollout *ro, struct attnstats *s, int first, int n_call,
	      const struct rollout_params *p, struct rollout_batch *rb, char *err, size_t n);

/* analyze_linkages per third into out[3] */
int an_linkages(const struct an_run *r, const struct analyze_params *p,
		struct analyze_linkages *out, char *err, size_t n);

struct an_perturb_params {
	int k;              /* top-k and bottom-k FAI positions per response */
	int alternatives;   /* forced tokens per position */
	int sampled_ref;    /* 1: compare with the sampled continuation; 0: with the greedy one
			     * after the sampled token */
	int batch;          /* sequences per greedy call */
	const char *const *stop; /* stop words, NULL: analyze_stopwords_en */
	int n_stop;
};

struct an_perturb_out {
	double *high, *low;  /* (N) per problem mean Jaccard; NaN when none */
	long sequences, tokens;
	double seconds;
	struct analyze_perturb sum;
};

/* Table 1's test on r's responses through ro's engine (its sequence slots free); out->high and
 * out->low are allocated here (free them) */
int an_perturb(const struct an_run *r, struct rollout *ro, const struct an_perturb_params *pp,
	       const struct rollout_params *rp, struct an_perturb_out *out, char *err, size_t n);

/* the page of --html (cmd_analyze_html.c): meta a line of settings, the thirds' linkages with
 * their labels, the perturbation summary (NULL: none); 0, or -1 on a write error */
int an_write_html(FILE *f, const char *meta, const struct analyze_linkages *link,
		  const char *const *labels, const struct analyze_perturb *pert);

#endif
