/*
 * cmd_analyze_perturb.c - `attnrl analyze`, its second half: the paper's Table 1 test. In each
 * response the k tokens with the highest and the k with the lowest global-head FAI of the
 * middle layer third (analyze_fai_extremes) are replaced, one at a time, by each of the
 * `alternatives` most likely other tokens of the distribution they were drawn from (special
 * and stop tokens left out); the text goes on greedily for as many tokens as the response had
 * left (max_new_tokens - pos - 1). Each continuation (the forced token not included) is
 * compared with the reference continuation from the same position by the Jaccard overlap of
 * content words: by default the greedy continuation after the sampled token itself, so that
 * the forced token is the only difference; with sampled_ref the response's own text after it.
 * A problem's high (low) value is the mean over its responses, positions and alternatives.
 *
 * Batching: every forced sequence (prompt + response[:pos] + token) is a prompt of one greedy
 * rollout call; jobs are sorted by position, and a call generates max_new_tokens - 1 - (its
 * lowest position) tokens, each job's continuation then cut to its own budget (so the engine's
 * cache must hold the longest prompt + 2 max_new_tokens).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/engine.h"
#include "attnrl/tokenizer.h"

#include "cmd_analyze_internal.h"

enum { AN_HIGH = 0, AN_LOW = 1 };

struct job {
	int b, pos, set; /* response, position, AN_HIGH or AN_LOW */
	int ref;         /* 1: the reference (the sampled token itself) */
	int32_t tok;     /* the forced token */
	char *text;      /* the continuation after it */
};

struct jobs {
	struct job *v;
	int n, cap;
};

static int jobs_add(struct jobs *j, struct job x)
{
	if (j->n == j->cap) {
		int cap = j->cap ? 2 * j->cap : 256;
		struct job *v = realloc(j->v, (size_t)cap * sizeof(*v));
		if (!v)
			return -1;
		j->v = v, j->cap = cap;
	}
	j->v[j->n++] = x;
	return 0;
}

static void jobs_free(struct jobs *j)
{
	for (int i = 0; i < j->n; i++)
		free(j->v[i].text);
	free(j->v);
}

/* logits (n_pos, V) of the rows that predict response tokens pos[0..n_pos) of response b,
 * fed through slot 0 in chunks of the engine's rows */
static int position_logits(const struct an_run *r, struct engine *e, int b, const int *pos,
			   int n_pos, int32_t *seq, int *slot, int *at, int *out_row, float *logits)
{
	int i = b / r->k, P = r->prompt_len[i], N = P + r->R[b], V = e->cfg.vocab_size;
	memcpy(seq, r->prompt[i], P * sizeof(int32_t));
	memcpy(seq + P, r->resp + (size_t)b * r->M, r->R[b] * sizeof(int32_t));
	for (int first = 0; first < N; first += e->max_rows) {
		int m = N - first < e->max_rows ? N - first : e->max_rows, n_out = 0;
		float *dst[64];
		for (int t = 0; t < m; t++)
			slot[t] = 0, at[t] = first + t;
		for (int j = 0; j < n_pos && n_out < 64; j++) {
			int row = P + pos[j] - 1 - first;
			if (row >= 0 && row < m)
				out_row[n_out] = row, dst[n_out++] = logits + (size_t)j * V;
		}
		float *tmp = logits + (size_t)n_pos * V;
		if (engine_forward(e, m, slot, at, seq + first, n_out, out_row, tmp))
			return -1;
		for (int j = 0; j < n_out; j++)
			memcpy(dst[j], tmp + (size_t)j * V, V * sizeof(float));
	}
	return 0;
}

/* the a most likely tokens of x (V) other than skip, special and stop ids, into alt; the count */
static int alternatives(const struct tokenizer *tok, const float *x, int V, int32_t skip, int a,
			int32_t *alt)
{
	int n = 0;
	for (; n < a; n++) {
		int best = -1;
		for (int v = 0; v < V; v++) {
			int used = v == skip || tok->special[v] || tokenizer_is_stop(tok, v);
			for (int j = 0; !used && j < n; j++)
				used = alt[j] == v;
			if (!used && (best < 0 || x[v] > x[best]))
				best = v;
		}
		if (best < 0)
			break;
		alt[n] = best;
	}
	return n;
}

/* the jobs of response b: its extreme positions, the reference and the alternatives of each */
static int response_jobs(const struct an_run *r, struct rollout *ro, const struct an_perturb_params *pp,
			 int b, struct jobs *jobs, int32_t *seq, int *slot, int *at, int *out_row,
			 float *logits, int32_t *alt)
{
	int V = ro->eng->cfg.vocab_size, pos[2 * 64], n_pos;
	int nt = analyze_fai_extremes(an_sig(r, AN_PERTURB_THIRD, AN_FAI_GLOB, b), 0, r->R[b], pp->k,
				      pos, pos + pp->k);
	if (nt == 0)
		return 0;
	if (nt < pp->k) /* bottom's entries move next to top's */
		memmove(pos + nt, pos + pp->k, nt * sizeof(int));
	n_pos = 2 * nt;
	if (position_logits(r, ro->eng, b, pos, n_pos, seq, slot, at, out_row, logits))
		return -1;
	const int32_t *resp = r->resp + (size_t)b * r->M;
	for (int j = 0; j < n_pos; j++) {
		int set = j < nt ? AN_HIGH : AN_LOW, p = pos[j];
		int na = alternatives(ro->tok, logits + (size_t)j * V, V, resp[p], pp->alternatives, alt);
		if (!pp->sampled_ref && na > 0 &&
		    jobs_add(jobs, (struct job){ b, p, set, 1, resp[p], NULL }))
			return -1;
		for (int a = 0; a < na; a++)
			if (jobs_add(jobs, (struct job){ b, p, set, 0, alt[a], NULL }))
				return -1;
	}
	return 0;
}

static int by_pos(const void *a, const void *b)
{
	const struct job *x = a, *y = b;
	if (x->pos != y->pos)
		return x->pos - y->pos;
	if (x->b != y->b)
		return x->b - y->b;
	if (x->ref != y->ref)
		return y->ref - x->ref; /* the reference first */
	return x->set != y->set ? x->set - y->set : x->tok - y->tok;
}

/* the bytes a decoded text of m tokens may need */
static size_t text_cap(const struct tokenizer *tok, int m)
{
	int mx = 1;
	for (int v = 0; v < tok->vocab_size; v++)
		mx = tok->piece_len[v] > mx ? tok->piece_len[v] : mx;
	return (size_t)m * mx + 1;
}

static char *decode(const struct tokenizer *tok, const int32_t *ids, int m, size_t cap)
{
	char *s = malloc(cap);
	if (s && tokenizer_decode(tok, ids, m > 0 ? m : 0, s, cap) < 0)
		s[0] = '\0';
	return s;
}

/* jobs [lo, hi) (sorted by position) as one greedy call */
static int run_batch(const struct an_run *r, struct rollout *ro, struct job *jv, int nj,
		     const struct rollout_params *rp, struct rollout_batch *rb, int32_t *buf,
		     const int32_t **prompts, int *lens, size_t cap, struct an_perturb_out *out,
		     char *err, size_t n)
{
	int stride = rb->cap_len;
	for (int j = 0; j < nj; j++) {
		const struct job *x = &jv[j];
		int i = x->b / r->k, P = r->prompt_len[i];
		int32_t *s = buf + (size_t)j * stride;
		memcpy(s, r->prompt[i], P * sizeof(int32_t));
		memcpy(s + P, r->resp + (size_t)x->b * r->M, x->pos * sizeof(int32_t));
		s[P + x->pos] = x->tok;
		prompts[j] = s, lens[j] = P + x->pos + 1;
	}
	struct rollout_params q = *rp;
	q.temperature = 0, q.stats = NULL, q.seq_ids = NULL;
	q.max_new_tokens = r->M - 1 - jv[0].pos;
	if (q.max_new_tokens >= 1 && rollout_generate(ro, prompts, lens, nj, 1, &q, rb, err, n))
		return -1;
	for (int j = 0; j < nj; j++) {
		int budget = r->M - 1 - jv[j].pos, m = q.max_new_tokens >= 1 ? rb->resp_len[j] : 0;
		m = m < budget ? m : budget;
		jv[j].text = decode(ro->tok, rb->tokens + (size_t)j * stride + lens[j], m, cap);
		if (!jv[j].text) {
			snprintf(err, n, "analyze: out of memory");
			return -1;
		}
	}
	out->sequences += nj;
	out->tokens += q.max_new_tokens >= 1 ? rb->tokens_generated : 0;
	out->seconds += q.max_new_tokens >= 1 ? rb->seconds : 0;
	return 0;
}

/* every job through greedy calls of at most pp->batch sequences */
static int run_jobs(const struct an_run *r, struct rollout *ro, const struct an_perturb_params *pp,
		    const struct rollout_params *rp, struct jobs *jobs, size_t cap,
		    struct an_perturb_out *out, char *err, size_t n)
{
	int longest = 0, rc = -1;
	for (int i = 0; i < r->n; i++)
		longest = r->prompt_len[i] > longest ? r->prompt_len[i] : longest;
	struct rollout_batch rb;
	memset(&rb, 0, sizeof(rb));
	int32_t *buf = NULL;
	const int32_t **prompts = malloc(pp->batch * sizeof(*prompts));
	int *lens = malloc(pp->batch * sizeof(int));
	if (!prompts || !lens || rollout_batch_init(&rb, pp->batch, longest + 2 * r->M) ||
	    !(buf = malloc((size_t)pp->batch * rb.cap_len * sizeof(int32_t)))) {
		snprintf(err, n, "analyze: out of memory for %d perturbed sequences", pp->batch);
		goto out;
	}
	qsort(jobs->v, jobs->n, sizeof(*jobs->v), by_pos);
	for (int lo = 0; lo < jobs->n; lo += pp->batch) {
		int nj = jobs->n - lo < pp->batch ? jobs->n - lo : pp->batch;
		if (run_batch(r, ro, jobs->v + lo, nj, rp, &rb, buf, prompts, lens, cap, out, err, n))
			goto out;
	}
	rc = 0;
out:
	rollout_batch_free(&rb);
	free(buf);
	free(prompts);
	free(lens);
	return rc;
}

/* the sampled continuation of job x's response after its position, into own */
static const char *sampled(const struct an_run *r, const struct tokenizer *tok,
			   const struct job *x, char *own, size_t cap)
{
	const int32_t *resp = r->resp + (size_t)x->b * r->M;
	if (tokenizer_decode(tok, resp + x->pos + 1, r->R[x->b] - x->pos - 1, own, cap) < 0)
		own[0] = '\0';
	return own;
}

/* per problem mean Jaccard of each set, then the summary */
static int score(const struct an_run *r, const struct tokenizer *tok,
		 const struct an_perturb_params *pp, const struct jobs *jobs, size_t cap,
		 struct an_perturb_out *out, char *err, size_t n)
{
	double *sum = calloc((size_t)r->n * 2, sizeof(double));
	int *cnt = calloc((size_t)r->n * 2, sizeof(int));
	char *own = malloc(cap);
	int rc = -1;
	if (!sum || !cnt || !own) {
		snprintf(err, n, "analyze: out of memory");
		goto out;
	}
	const struct job *last_ref = NULL; /* jobs are sorted: a reference precedes its jobs */
	for (int i = 0; i < jobs->n; i++) {
		const struct job *x = &jobs->v[i];
		double jac;
		if (x->ref) {
			last_ref = x;
			continue;
		}
		const char *ref = pp->sampled_ref ? sampled(r, tok, x, own, cap)
			: last_ref && last_ref->b == x->b && last_ref->pos == x->pos ? last_ref->text
										      : NULL;
		if (!ref)
			continue;
		if (analyze_jaccard(ref, x->text, pp->stop, pp->n_stop, &jac)) {
			snprintf(err, n, "analyze: out of memory");
			goto out;
		}
		int at = (x->b / r->k) * 2 + x->set;
		sum[at] += jac, cnt[at]++;
	}
	for (int i = 0; i < r->n; i++) {
		out->high[i] = cnt[2 * i] ? sum[2 * i] / cnt[2 * i] : NAN;
		out->low[i] = cnt[2 * i + 1] ? sum[2 * i + 1] / cnt[2 * i + 1] : NAN;
	}
	analyze_perturb_summary(out->high, out->low, r->n, &out->sum);
	rc = 0;
out:
	free(sum);
	free(cnt);
	free(own);
	return rc;
}

int an_perturb(const struct an_run *r, struct rollout *ro, const struct an_perturb_params *pp,
	       const struct rollout_params *rp, struct an_perturb_out *out, char *err, size_t n)
{
	struct engine *e = ro->eng;
	int V = e->cfg.vocab_size, rc = -1, rows = e->max_rows;
	int longest = 0;
	for (int i = 0; i < r->n; i++)
		longest = r->prompt_len[i] > longest ? r->prompt_len[i] : longest;
	struct jobs jobs = { 0 };
	size_t cap = text_cap(ro->tok, r->M);
	int32_t *seq = malloc((size_t)(longest + r->M) * sizeof(int32_t)), *alt = NULL;
	int *slot = malloc(rows * sizeof(int)), *at = malloc(rows * sizeof(int));
	int *out_row = malloc(rows * sizeof(int));
	float *logits = malloc((size_t)(2 * pp->k + 2 * pp->k) * V * sizeof(float));
	alt = malloc((pp->alternatives + 1) * sizeof(int32_t));
	out->high = calloc(r->n, sizeof(double));
	out->low = calloc(r->n, sizeof(double));
	out->sequences = out->tokens = 0;
	out->seconds = 0;
	if (!seq || !slot || !at || !out_row || !logits || !alt || !out->high || !out->low) {
		snprintf(err, n, "analyze: out of memory for the perturbation");
		goto out;
	}
	for (int b = 0; b < r->B; b++)
		if (response_jobs(r, ro, pp, b, &jobs, seq, slot, at, out_row, logits, alt)) {
			snprintf(err, n, "analyze: out of memory or an engine failure at response %d", b);
			goto out;
		}
	rc = run_jobs(r, ro, pp, rp, &jobs, cap, out, err, n) ||
	     score(r, ro->tok, pp, &jobs, cap, out, err, n) ? -1 : 0;
out:
	jobs_free(&jobs);
	free(seq);
	free(slot);
	free(at);
	free(out_row);
	free(logits);
	free(alt);
	return rc;
}
