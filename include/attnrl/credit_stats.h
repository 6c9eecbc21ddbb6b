/*
 * credit_stats.h - docs/method.md sections 2-4 and 7: attention statistics of the sampled
 * (layer, head) pairs, accumulated while the decode engine generates (no N x N buffer), and
 * the same quantities computed from materialised attention maps (the reference).
 *
 * Streaming: for every response row t of sequence s and every sampled pair, the decode
 * attention calls attnstats_row() with the row's probabilities; it adds to dsum, writes the
 * pair's WAAD_t and adds the row to the pair's FAI sums of keys t-H_hi..t-H_lo. Finalising a
 * response groups the pairs by d (H_loc: lowest head_quantile, H_glob: highest), averages the
 * per-pair vectors over the groups (exact: both metrics are linear in A) and divides the FAI
 * sums by |T(s)|. Shapes: S sequence slots, Q sampled pairs (sampled layers x query heads),
 * M max response tokens, R response tokens of one sequence, N = P + R.
 */
#ifndef ATTNRL_CREDIT_STATS_H
#define ATTNRL_CREDIT_STATS_H

#include <stddef.h>
#include <stdint.h>

#define ATTNSTATS_MAX_LAYERS 64

struct attnstats_config {
	int n_layers, n_heads;          /* of the model */
	int n_sampled, layers[ATTNSTATS_MAX_LAYERS]; /* sampled layers, ascending */
	int window, fai_lo, fai_hi;     /* W = 10, H_lo = 10, H_hi = 100 */
	double head_quantile;           /* 0.3 */
};

/* round(linspace(floor(L/3), floor(2L/3), 5)), duplicates removed (docs/method.md section 2) */
int attnstats_auto_layers(int n_layers, int *layers);
/* "auto" or "12,15,18" into c->layers; -1 with one line in err */
int attnstats_parse_layers(struct attnstats_config *c, const char *text, char *err, size_t n);

struct attnstats {
	struct attnstats_config cfg;
	int n_pairs, max_seqs, max_resp;
	int layer_slot[ATTNSTATS_MAX_LAYERS]; /* layer -> sampled index, -1 when not sampled */
	int *prompt_len;  /* (S) P of the tracked sequence, -1 = not tracked */
	double *dsum;     /* (S, Q) */
	float *waad;      /* (S, Q, M) per-pair WAAD of response row r */
	float *fai;       /* (S, Q, M) per-pair sum of A[t, P + r] over the rows seen */
	float *maps;      /* NULL, or (Q, maps_n, maps_n): every row of slot maps_seq is copied here */
	int maps_seq, maps_n;
};

struct attnstats *attnstats_create(const struct attnstats_config *c, int max_seqs, int max_resp);
void attnstats_destroy(struct attnstats *s);
/* starts tracking sequence slot seq whose response begins at position P (zeroes its slot) */
void attnstats_begin(struct attnstats *s, int seq, int P);
void attnstats_stop(struct attnstats *s, int seq);
/* row t of slot seq for sampled layer index li and query head h: e (t+1) are the unnormalised
 * probabilities of keys 0..t, inv_sum their normaliser */
void attnstats_row(struct attnstats *s, int seq, int li, int h, int t, const float *e, float inv_sum);

/* one response's result */
struct attnstats_result {
	int P, R, n_pairs;
	float *d;         /* (Q) mean attention distance of each pair */
	uint8_t *group;   /* (Q) flags ATTNSTATS_LOC, ATTNSTATS_GLOB (both only when Q = 1) */
	float *waad;      /* (R) WAAD over H_loc */
	float *fai;       /* (R) FAI over H_glob */
	uint8_t *fai_ok;  /* (R) 0 where T(s) is empty */
	float d_loc, d_glob; /* mean d of each group */
};
#define ATTNSTATS_LOC 1
#define ATTNSTATS_GLOB 2

int attnstats_result_init(struct attnstats_result *r, int n_pairs, int max_resp);
void attnstats_result_free(struct attnstats_result *r);

/* d of slot seq's response of R tokens */
void attnstats_distances(const struct attnstats *s, int seq, int R, float *d);
/* H_loc / H_glob from d (Q): lowest / highest floor(q * Q) (at least 1), ties by pair order */
void attnstats_group(const struct attnstats_config *c, int n_pairs, const float *d, uint8_t *group);
/* WAAD, FAI, fai_ok of slot seq under the grouping in r->group; d and R set by the caller */
void attnstats_finalize(const struct attnstats *s, int seq, struct attnstats_result *r);

/* the reference: maps (Q, N, N) row-stochastic causal attention of one sequence of N tokens
 * whose response starts at P; fills r from the definitions: d per pair, the grouping (per
 * response, or the given one), A_loc / A_glob as plain means of the group's maps, WAAD, FAI */
int attnstats_from_maps(const struct attnstats_config *c, const float *maps, int n_pairs, int N,
			int P, const uint8_t *group, struct attnstats_result *r);
/* |T(s)| for response key position s of a sequence of N tokens */
int attnstats_t_count(const struct attnstats_config *c, int s, int N);

#endif
