/* evaluate.c - accuracy on the held-out split, and the summary of k responses per problem
 * (see evaluate.h). */
#include "attnrl/evaluate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/config.h"
#include "attnrl/stop.h"

struct eval_scratch {
	struct task_example *ex; /* (P) P = problems per call */
	int32_t *ids;            /* (P, DATA_PROMPT_MAX) */
	const int32_t **rows;    /* (P) */
	int *lens;               /* (P) */
	int64_t *seq_ids;        /* (P, k) */
	const char **texts;      /* (P, k) */
	struct reward_out *scores; /* (P, k) */
	struct rollout_batch rb;
};

struct rollout_params evaluate_params(const struct config *c)
{
	struct rollout_params p = rollout_params_from_config(c);
	p.temperature = c->eval.temperature;
	p.top_p = c->eval.top_p;
	p.seed = (uint64_t)c->run.seed; /* the same draws at every eval */
	return p;
}

static int scratch_init(struct eval_scratch *s, int per_call, int k, int cap_len)
{
	memset(s, 0, sizeof(*s));
	s->ex = calloc(per_call, sizeof(*s->ex));
	s->ids = calloc((size_t)per_call * DATA_PROMPT_MAX, sizeof(int32_t));
	s->rows = calloc(per_call, sizeof(*s->rows));
	s->lens = calloc(per_call, sizeof(int));
	s->seq_ids = calloc((size_t)per_call * k, sizeof(*s->seq_ids));
	s->texts = calloc((size_t)per_call * k, sizeof(*s->texts));
	s->scores = calloc((size_t)per_call * k, sizeof(*s->scores));
	if (!s->ex || !s->ids || !s->rows || !s->lens || !s->seq_ids || !s->texts || !s->scores)
		return -1;
	return rollout_batch_init(&s->rb, per_call * k, cap_len);
}

static void scratch_free(struct eval_scratch *s)
{
	free(s->ex);
	free(s->ids);
	free(s->rows);
	free(s->lens);
	free(s->seq_ids);
	free(s->texts);
	free(s->scores);
	rollout_batch_free(&s->rb);
}

/* problems [first, first + count), k responses each; response j of problem i samples from
 * stream i * k + j, whatever the chunking or the rank split */
static int eval_chunk(struct rollout *ro, const struct data *d, int first, int count, int k,
		      const struct rollout_params *p, const struct eval_hooks *h,
		      struct eval_scratch *s, struct eval_result *out, char *err, size_t errn)
{
	struct rollout_params q = *p;
	for (int i = 0; i < count; i++) {
		if (data_eval_example(d, first + i, &s->ex[i])) {
			snprintf(err, errn, "eval: cannot generate held-out problem %d", first + i);
			return -1;
		}
		int32_t *ids = s->ids + (size_t)i * DATA_PROMPT_MAX;
		s->lens[i] = data_encode(d, s->ex[i].prompt, ids, DATA_PROMPT_MAX, err, errn);
		if (s->lens[i] < 0)
			return -1;
		s->rows[i] = ids;
		for (int j = 0; j < k; j++)
			s->seq_ids[i * k + j] = (int64_t)(first + i) * k + j;
	}
	q.seq_ids = s->seq_ids;
	int rc = rollout_generate(ro, s->rows, s->lens, count, k, &q, &s->rb, err, errn);
	if (rc)
		return rc < 0 ? -1 : rc;
	for (int b = 0; b < count * k; b++)
		s->texts[b] = rollout_text(&s->rb, b);
	rc = reward_score(d->reward, d, s->ex, k, s->texts, count * k, s->scores, err, errn);
	reward_out_free(s->scores, count * k);
	if (rc)
		return rc == REWARD_INTERRUPTED ? ROLLOUT_INTERRUPTED : -1;
	out->reward_errors += d->reward ? d->reward->errors : 0;
	for (int b = 0; b < count * k; b++) {
		const char *text = s->texts[b];
		double reward = s->scores[b].reward;
		int correct = s->scores[b].correct;
		out->reward_mean += reward;
		out->correct += correct;
		out->response_len_mean += s->rb.resp_len[b];
		if (h && h->response && h->response(h->ctx, first + b / k, b % k, text, reward,
						     correct, s->rb.resp_len[b], err, errn))
			return -1;
	}
	out->seconds += s->rb.seconds;
	out->tokens += s->rb.tokens_generated;
	return 0;
}

int evaluate_range(struct rollout *ro, const struct data *d, int first, int n, int k,
		   const struct rollout_params *p, int max_batch, const struct eval_hooks *h,
		   struct eval_result *out, char *err, size_t errn)
{
	struct eval_scratch s;
	int cap_len = DATA_PROMPT_MAX + p->max_new_tokens, rc = -1;
	memset(out, 0, sizeof(*out));
	if (max_batch > ro->max_seqs)
		max_batch = ro->max_seqs;
	int per_call = max_batch / k > 1 ? max_batch / k : 1;
	if (k > ro->max_seqs) {
		snprintf(err, errn, "eval: %d responses per problem but room for %d sequences", k,
			 ro->max_seqs);
		return -1;
	}
	if (scratch_init(&s, per_call, k, cap_len)) {
		snprintf(err, errn, "eval: out of memory");
		goto out;
	}
	for (int done = 0; done < n; done += per_call) {
		int count = n - done < per_call ? n - done : per_call;
		if (p->interruptible && stop_requested()) {
			rc = ROLLOUT_INTERRUPTED;
			goto out;
		}
		int cr = eval_chunk(ro, d, first + done, count, k, p, h, &s, out, err, errn);
		if (cr) {
			rc = cr;
			goto out;
		}
		if (h && h->progress)
			h->progress(h->ctx, done + count, n, out->seconds);
	}
	long m = (long)n * k;
	out->n = n;
	out->k = k;
	out->accuracy = m ? (double)out->correct / m : 0.0;
	out->reward_mean /= m ? m : 1;
	out->response_len_mean /= m ? m : 1;
	rc = 0;
out:
	scratch_free(&s);
	return rc;
}

int evaluate(struct rollout *ro, const struct data *d, int n, int k, const struct rollout_params *p,
	     int max_batch, struct eval_result *out, char *err, size_t errn)
{
	return evaluate_range(ro, d, 0, n, k, p, max_batch, NULL, out, err, errn);
}

#define EVAL_NO_LABEL "(none)"

static void subset_add(struct eval_subset *s, const struct eval_problem *p)
{
	s->n++;
	s->responses += p->k;
	s->correct += p->correct;
	s->solved += p->correct > 0;
	s->reward_mean += p->reward_sum;
	s->response_len_mean += (double)p->len_sum;
}

static void subset_finish(struct eval_subset *s)
{
	double r = s->responses ? s->responses : 1;
	s->avg_at_k = s->correct / r;
	s->pass_at_k = s->n ? (double)s->solved / s->n : 0.0;
	s->reward_mean /= r;
	s->response_len_mean /= r;
}

/* 1 with the value when s is a whole decimal integer (the MATH "level" 1..5) */
static int label_int(const char *s, long *v)
{
	char *end;
	errno = 0;
	*v = strtol(s, &end, 10);
	return *s && !*end && !errno;
}

static int label_cmp(const void *a, const void *b)
{
	const char *x = ((const struct eval_subset *)a)->group;
	const char *y = ((const struct eval_subset *)b)->group;
	long u, v;
	int xi = label_int(x, &u), yi = label_int(y, &v);
	if (xi && yi)
		return (u > v) - (u < v);
	if (xi != yi)
		return yi - xi;
	return strcmp(x, y);
}

int eval_summarize(const struct eval_problem *p, int n, struct eval_subset **out)
{
	int labelled = 0, rows = 1;
	for (int i = 0; i < n; i++)
		labelled |= p[i].group != NULL;
	struct eval_subset *s = calloc((size_t)(labelled ? n : 0) + 1, sizeof(*s));
	if (!s)
		return -1;
	for (int i = 0; i < n; i++) {
		subset_add(&s[0], &p[i]);
		if (!labelled)
			continue;
		const char *g = p[i].group ? p[i].group : EVAL_NO_LABEL;
		int j = 1;
		while (j < rows && strcmp(s[j].group, g))
			j++;
		if (j == rows)
			s[rows++].group = g;
		subset_add(&s[j], &p[i]);
	}
	qsort(s + 1, (size_t)rows - 1, sizeof(*s), label_cmp);
	for (int j = 0; j < rows; j++)
		subset_finish(&s[j]);
	*out = s;
	return rows;
}

/* the subject label of held-out problem i: a JSONL row's (MATH's "subject"), else NULL */
static const char *subject_of(const struct data *d, int i)
{
	return d->from_file && i < d->n_eval ? d->eval[i]->subject : NULL;
}

int evaluate_has_subjects(const struct data *d, int n)
{
	for (int i = 0; i < n; i++)
		if (subject_of(d, i))
			return 1;
	return 0;
}

int evaluate_subjects(const struct data *d, const double *right, int n, int k,
		      struct eval_subset **out)
{
	*out = NULL;
	if (!evaluate_has_subjects(d, n))
		return 0;
	struct eval_problem *p = calloc((size_t)n, sizeof(*p));
	if (!p)
		return -1;
	for (int i = 0; i < n; i++)
		p[i] = (struct eval_problem){ .group = subject_of(d, i), .k = k,
					      .correct = (int)right[i] };
	int rows = eval_summarize(p, n, out);
	free(p);
	return rows;
}
