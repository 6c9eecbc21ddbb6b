/* batch.c - packing rollout rows for the training forward (see batch.h). */
#include "attnrl/batch.h"

#include <stdlib.h>
#include <string.h>

int batch_pack_init(struct batch_pack *p, int cap_B, int cap_T, long cap_n)
{
	memset(p, 0, sizeof(*p));
	size_t n = cap_n > 0 ? (size_t)cap_n : (size_t)cap_B * cap_T;
	p->cap_B = cap_B;
	p->cap_T = cap_T;
	p->cap_n = (long)n;
	p->ids = calloc(n, sizeof(int64_t));
	p->targets = calloc(n, sizeof(int64_t));
	p->mask = calloc(n, sizeof(float));
	p->resp_len = calloc(cap_B, sizeof(int));
	p->rows = calloc(cap_B, sizeof(int));
	if (!p->ids || !p->targets || !p->mask || !p->resp_len || !p->rows) {
		batch_pack_free(p);
		return -1;
	}
	return 0;
}

void batch_pack_free(struct batch_pack *p)
{
	free(p->ids);
	free(p->targets);
	free(p->mask);
	free(p->resp_len);
	free(p->rows);
	memset(p, 0, sizeof(*p));
}

int batch_row_len(const struct rollout_batch *rb, int b)
{
	return rb->prompt_len[b] + rb->resp_len[b] - 1;
}

int batch_pack_rows(struct batch_pack *p, const struct rollout_batch *rb, const int *rows, int count)
{
	int T = 1;
	for (int i = 0; i < count; i++) {
		int n = batch_row_len(rb, rows[i]);
		T = n > T ? n : T;
	}
	if (count > p->cap_B || T > p->cap_T || (long)count * T > p->cap_n)
		return -1;
	p->B = count;
	p->T = T;
	p->tokens = 0;
	for (int i = 0; i < count; i++) {
		int b = rows[i], P = rb->prompt_len[b], R = rb->resp_len[b];
		const int32_t *tok = rb->tokens + (size_t)b * rb->cap_len;
		p->rows[i] = b;
		for (int j = 0; j < T; j++) {
			size_t at = (size_t)i * T + j;
			int in_seq = j + 1 < P + R;
			p->ids[at] = in_seq ? tok[j] : 0;
			p->targets[at] = in_seq ? tok[j + 1] : 0;
			p->mask[at] = j + 1 >= P && j + 1 < P + R ? 1.0f : 0.0f;
		}
		p->resp_len[i] = R;
		p->tokens += R;
	}
	return 0;
}

int batch_pack_build(struct batch_pack *p, const struct rollout_batch *rb, int first, int count)
{
	if (count > p->cap_B)
		return -1;
	int *rows = p->rows; /* read before each row is written back: the same values */
	for (int i = 0; i < count; i++)
		rows[i] = first + i;
	return batch_pack_rows(p, rb, rows, count);
}

void batch_pack_gather(const struct batch_pack *p, const struct rollout_batch *rb, const float *src,
		       float *dst)
{
	for (int i = 0; i < p->B; i++) {
		const float *s = src + (size_t)p->rows[i] * rb->cap_len;
		for (int j = 0; j < p->T; j++) {
			size_t at = (size_t)i * p->T + j;
			dst[at] = p->mask[at] ? s[j + 1] : 0.0f;
		}
	}
}

void batch_pack_scatter(const struct batch_pack *p, const struct rollout_batch *rb, const float *src,
			float *dst)
{
	for (int i = 0; i < p->B; i++) {
		float *d = dst + (size_t)p->rows[i] * rb->cap_len;
		for (int j = 0; j < p->T; j++) {
			size_t at = (size_t)i * p->T + j;
			if (p->mask[at])
				d[j + 1] = src[at];
		}
	}
}

/* order[0..count) sorted by row length, longest first, ties in rollout order (a stable
 * insertion sort: a mini-batch is at most a few thousand rows) */
static void sort_longest_first(const struct rollout_batch *rb, int *order, int count)
{
	for (int i = 1; i < count; i++) {
		int b = order[i], len = batch_row_len(rb, b), j = i;
		for (; j > 0 && batch_row_len(rb, order[j - 1]) < len; j--)
			order[j] = order[j - 1];
		order[j] = b;
	}
}

int batch_plan(const struct rollout_batch *rb, int first, int count, long budget, int per,
	       int *order, int *starts)
{
	int n = 0;
	for (int i = 0; i < count; i++)
		order[i] = first + i;
	if (budget <= 0) {
		per = per > 0 ? per : 1;
		for (int i = 0; i < count; i += per)
			starts[n++] = i;
		starts[n] = count;
		return n;
	}
	sort_longest_first(rb, order, count);
	for (int i = 0; i < count;) {
		long T = batch_row_len(rb, order[i]); /* the longest row of this micro-batch */
		int k = 1;
		while (i + k < count && (long)(k + 1) * T <= budget)
			k++;
		starts[n++] = i;
		i += k;
	}
	starts[n] = count;
	return n;
}
